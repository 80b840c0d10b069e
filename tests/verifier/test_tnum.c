/* SPDX-License-Identifier: MIT */
/*
 * Tristate numbers, proven on every case of small families.
 *
 * A family fixes most bits of a 64-bit number (its background) and frees a
 * few positions.  Every tnum whose unknown bits lie in those positions (3^k
 * of them) is an input, and every member of every input is enumerated, so
 * each check below covers all members of all inputs.  The families put the
 * free bits where the operations change behaviour: the low bits with zeros
 * or ones above (carries that run off the top), the sign bits of 8, 16, 32
 * and 64-bit numbers, the halves of a register.
 *
 * The reference for a result set is its best tnum, computed independently
 * of tnum.c: the bits that are equal in all results are known.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "verifier/tnum.h"

#define BIT(n) (UINT64_C(1) << (n))

struct family {
	uint64_t bg;   /* the fixed bits */
	uint64_t free; /* the positions that vary */
};

/* For the binary operations: 3 * 3^6 tnums. */
static const struct family binary_families[] = {
	{ 0, 0x3f },                    /* 0..63 */
	{ ~UINT64_C(0x3f), 0x3f },      /* -64..-1: carries off the top */
	{ 0x1ffffffffffffff8, BIT(0) | BIT(1) | BIT(2) | BIT(61) | BIT(62) | BIT(63) },
};

/* The sign and half boundaries, for the width-changing operations. */
static const struct family width_family = {
	0, BIT(0) | BIT(7) | BIT(8) | BIT(15) | BIT(16) | BIT(31) | BIT(32) | BIT(63),
};

/* The ends of each half, for the shifts and for tnum_next/tnum_prev. */
static const struct family shift_families[] = {
	{ 0, BIT(0) | BIT(1) | BIT(31) | BIT(32) | BIT(62) | BIT(63) },
	{ UINT64_MAX, BIT(0) | BIT(1) | BIT(31) | BIT(32) | BIT(62) | BIT(63) },
};

/* Small enough to compare every pair of inputs as sets. */
static const struct family set_families[] = {
	{ 0, 0xf },
	{ ~UINT64_C(0xf), 0xf },
};

#define MAX_TNUMS 7000   /* 3^8 */
#define MAX_MEMBERS 256  /* 2^8 */

/* Every tnum over the family: mask a subset of free, value a subset of the rest. */
static size_t tnums_of(struct family f, struct tnum *out)
{
	uint64_t base = f.bg & ~f.free, mask = 0;
	size_t n = 0;

	do {
		uint64_t rest = f.free & ~mask, v = 0;

		do {
			out[n++] = TNUM(base | v, mask);
			v = (v - rest) & rest;
		} while (v);
		mask = (mask - f.free) & f.free;
	} while (mask);
	return n;
}

static size_t members_of(struct tnum t, uint64_t *out)
{
	uint64_t sub = 0;
	size_t n = 0;

	do {
		out[n++] = t.value | sub;
		sub = (sub - t.mask) & t.mask;
	} while (sub);
	return n;
}

/* The best tnum for a set: bits equal in all of them are known. */
struct best {
	uint64_t all_and, all_or;
	bool any;
};

static void best_add(struct best *b, uint64_t x)
{
	b->all_and = b->any ? b->all_and & x : x;
	b->all_or = b->any ? b->all_or | x : x;
	b->any = true;
}

static struct tnum best_tnum(struct best b)
{
	return TNUM(b.all_and, b.all_and ^ b.all_or);
}

static bool tnum_same(struct tnum a, struct tnum b)
{
	return a.value == b.value && a.mask == b.mask;
}

static void assert_tnum(struct tnum got, struct tnum want, const char *what)
{
	if (!tnum_same(got, want))
		fail_msg("%s: got (%#llx; %#llx), want (%#llx; %#llx)", what,
			 (unsigned long long)got.value, (unsigned long long)got.mask,
			 (unsigned long long)want.value, (unsigned long long)want.mask);
}

/* ---- Binary operations: sound for all, optimal where tnum.h says so ---- */

static uint64_t c_add(uint64_t a, uint64_t b) { return a + b; }
static uint64_t c_sub(uint64_t a, uint64_t b) { return a - b; }
static uint64_t c_mul(uint64_t a, uint64_t b) { return a * b; }
static uint64_t c_and(uint64_t a, uint64_t b) { return a & b; }
static uint64_t c_or(uint64_t a, uint64_t b) { return a | b; }
static uint64_t c_xor(uint64_t a, uint64_t b) { return a ^ b; }

struct binop {
	const char *name;
	struct tnum (*abstract)(struct tnum, struct tnum);
	uint64_t (*concrete)(uint64_t, uint64_t);
	bool optimal;
};

static const struct binop binops[] = {
	{ "add", tnum_add, c_add, true },
	{ "sub", tnum_sub, c_sub, true },
	{ "and", tnum_and, c_and, true },
	{ "or", tnum_or, c_or, true },
	{ "xor", tnum_xor, c_xor, true },
	{ "mul", tnum_mul, c_mul, false },
};

struct input {
	struct tnum t;
	size_t n;
	uint64_t m[64];
};

static struct input *binary_inputs(size_t *count)
{
	static struct tnum ts[MAX_TNUMS];
	struct input *in = calloc(3 * 729, sizeof(*in));
	size_t n = 0;

	assert_non_null(in);
	for (size_t f = 0; f < sizeof(binary_families) / sizeof(binary_families[0]); f++) {
		size_t k = tnums_of(binary_families[f], ts);

		for (size_t i = 0; i < k; i++, n++) {
			in[n].t = ts[i];
			in[n].n = members_of(ts[i], in[n].m);
		}
	}
	*count = n;
	return in;
}

static void check_binop(const struct binop *op, const struct input *in, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < n; j++) {
			struct tnum r = op->abstract(in[i].t, in[j].t);
			struct best b = { 0 };

			for (size_t x = 0; x < in[i].n; x++) {
				for (size_t y = 0; y < in[j].n; y++) {
					uint64_t z = op->concrete(in[i].m[x], in[j].m[y]);

					if (!tnum_contains(r, z))
						fail_msg("%s (%#llx; %#llx) (%#llx; %#llx): %#llx * %#llx = %#llx is missing",
							 op->name, (unsigned long long)in[i].t.value,
							 (unsigned long long)in[i].t.mask,
							 (unsigned long long)in[j].t.value,
							 (unsigned long long)in[j].t.mask,
							 (unsigned long long)in[i].m[x],
							 (unsigned long long)in[j].m[y], (unsigned long long)z);
					best_add(&b, z);
				}
			}
			if (op->optimal)
				assert_tnum(r, best_tnum(b), op->name);
		}
	}
}

/* 2,187 tnums, 4.8 million pairs, 151 million member pairs per operation. */
static void test_binary_ops(void **state)
{
	size_t n;
	struct input *in = binary_inputs(&n);

	(void)state;
	assert_int_equal(n, 3 * 729);
	for (size_t o = 0; o < sizeof(binops) / sizeof(binops[0]); o++)
		check_binop(&binops[o], in, n);
	free(in);
}

/* ---- Unary operations: optimal, and exact where tnum.h says so --------- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/*
 * Optimal: the result is the best tnum of the results.  Exact: besides, it
 * holds no more numbers than there are distinct results.
 */
static void check_unary(struct tnum in, struct tnum r, uint64_t (*f)(uint64_t, unsigned),
			unsigned arg, const char *name, bool exact)
{
	uint64_t m[MAX_MEMBERS], distinct = 0;
	size_t n = members_of(in, m);
	struct best b = { 0 };

	for (size_t i = 0; i < n; i++) {
		m[i] = f(m[i], arg);
		best_add(&b, m[i]);
	}
	assert_tnum(r, best_tnum(b), name);
	if (!exact)
		return;
	qsort(m, n, sizeof(m[0]), cmp_u64);
	for (size_t i = 0; i < n; i++)
		distinct += !i || m[i] != m[i - 1];
	assert_int_equal(distinct, BIT(__builtin_popcountll(r.mask)));
}

static uint64_t c_trunc(uint64_t x, unsigned bits) { return bits == 64 ? x : x & (BIT(bits) - 1); }
static uint64_t c_sext(uint64_t x, unsigned bits) { return (uint64_t)((int64_t)(x << (64 - bits)) >> (64 - bits)); }
static uint64_t c_lsh(uint64_t x, unsigned k) { return x << k; }
static uint64_t c_rsh(uint64_t x, unsigned k) { return x >> k; }
static uint64_t c_arsh64(uint64_t x, unsigned k) { return (uint64_t)((int64_t)x >> k); }
static uint64_t c_arsh32(uint64_t x, unsigned k) { return (uint32_t)((int32_t)(uint32_t)x >> k); }

static uint64_t c_bswap(uint64_t x, unsigned bits)
{
	return bits == 16 ? __builtin_bswap16((uint16_t)x)
	       : bits == 32 ? __builtin_bswap32((uint32_t)x) : __builtin_bswap64(x);
}

/* 6,561 tnums with the sign bits of every width free, ten operations. */
static void test_width_ops(void **state)
{
	static struct tnum ts[MAX_TNUMS];
	size_t n = tnums_of(width_family, ts);

	(void)state;
	for (size_t i = 0; i < n; i++) {
		for (unsigned bits = 8; bits <= 64; bits *= 2) {
			check_unary(ts[i], tnum_trunc(ts[i], bits), c_trunc, bits, "trunc", true);
			if (bits < 64)
				check_unary(ts[i], tnum_sext(ts[i], bits), c_sext, bits, "sext", false);
			if (bits >= 16)
				check_unary(ts[i], tnum_bswap(ts[i], bits), c_bswap, bits, "bswap", true);
		}
	}
}

/* 1,458 tnums, every count: 64 left, 64 right, 64 + 32 arithmetic shifts each. */
static void test_shifts(void **state)
{
	static struct tnum ts[MAX_TNUMS];

	(void)state;
	for (size_t f = 0; f < 2; f++) {
		size_t n = tnums_of(shift_families[f], ts);

		for (size_t i = 0; i < n; i++) {
			struct tnum low = tnum_trunc(ts[i], 32);

			for (unsigned k = 0; k < 64; k++) {
				check_unary(ts[i], tnum_lshift(ts[i], k), c_lsh, k, "lshift", true);
				check_unary(ts[i], tnum_rshift(ts[i], k), c_rsh, k, "rshift", true);
				check_unary(ts[i], tnum_arshift(ts[i], k, 64), c_arsh64, k, "arshift64", false);
				if (k < 32)
					check_unary(low, tnum_arshift(low, k, 32), c_arsh32, k, "arshift32", false);
			}
		}
	}
}

/* ---- Set relations ----------------------------------------------------- */

/* Every input of the set families and every number they can hold. */
static size_t set_inputs(struct tnum *ts, uint64_t *universe, size_t *nu)
{
	size_t n = 0;

	*nu = 0;
	for (size_t f = 0; f < 2; f++) {
		n += tnums_of(set_families[f], ts + n);
		*nu += members_of(TNUM(set_families[f].bg & ~set_families[f].free,
				       set_families[f].free), universe + *nu);
	}
	return n;
}

/* 162 tnums, all 26,244 pairs, against all 32 numbers of the families. */
static void test_set_relations(void **state)
{
	static struct tnum ts[MAX_TNUMS];
	uint64_t universe[64];
	size_t nu, n = set_inputs(ts, universe, &nu);

	(void)state;
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < n; j++) {
			struct tnum a = ts[i], b = ts[j];
			struct tnum meet = tnum_intersect(a, b), join = tnum_union(a, b);
			struct best both = { 0 }, either = { 0 };
			bool b_within_a = true;

			for (size_t u = 0; u < nu; u++) {
				bool in_a = tnum_contains(a, universe[u]);
				bool in_b = tnum_contains(b, universe[u]);

				if (in_a && in_b)
					best_add(&both, universe[u]);
				if (in_a || in_b)
					best_add(&either, universe[u]);
				if (in_b && !in_a)
					b_within_a = false;
				/* The meet is exact; the join holds both. */
				assert_int_equal(tnum_contains(meet, universe[u]), in_a && in_b);
				if (in_a || in_b)
					assert_true(tnum_contains(join, universe[u]));
			}
			/* An empty meet is TNUM_EMPTY; otherwise it holds nothing outside a. */
			assert_int_equal(tnum_is_empty(meet), !both.any);
			if (both.any)
				assert_true(tnum_in(a, meet));
			assert_tnum(join, best_tnum(either), "union");
			assert_int_equal(tnum_in(a, b), b_within_a);
		}
	}
}

/* tnum_is_aligned is exact: it says yes exactly when every member is aligned. */
static void test_alignment(void **state)
{
	static struct tnum ts[MAX_TNUMS];
	uint64_t universe[64], m[MAX_MEMBERS];
	size_t nu, n = set_inputs(ts, universe, &nu);

	(void)state;
	for (size_t i = 0; i < n; i++) {
		size_t k = members_of(ts[i], m);

		for (uint64_t size = 1; size <= 32; size *= 2) {
			bool all = true;

			for (size_t x = 0; x < k; x++)
				all = all && m[x] % size == 0;
			assert_int_equal(tnum_is_aligned(ts[i], size), all);
		}
		assert_int_equal(tnum_is_const(ts[i]), k == 1);
	}
}

/* tnum_range is optimal: every 8-bit interval, under a background of zeros or ones. */
static void test_range(void **state)
{
	static const uint64_t backgrounds[] = { 0, ~UINT64_C(0xff) };

	(void)state;
	for (size_t g = 0; g < 2; g++) {
		for (uint64_t lo = 0; lo < 256; lo++) {
			struct best b = { 0 };

			for (uint64_t hi = lo; hi < 256; hi++) {
				best_add(&b, backgrounds[g] | hi);
				assert_tnum(tnum_range(backgrounds[g] | lo, backgrounds[g] | hi),
					    best_tnum(b), "range");
			}
		}
	}
	assert_true(tnum_is_unknown(tnum_range(0, UINT64_MAX)));
	assert_tnum(tnum_range(BIT(63) - 1, BIT(63)), TNUM_UNKNOWN, "range across the sign");
	assert_tnum(tnum_range(BIT(32), BIT(32) + 3), TNUM(BIT(32), 3), "range above 2^32");
}

/*
 * tnum_next and tnum_prev against a search of all members: 1,458 tnums,
 * each probed at every number of its family and the neighbours of each.
 */
static void test_next_prev(void **state)
{
	static struct tnum ts[MAX_TNUMS];
	uint64_t probes[3 * 64 + 2], m[MAX_MEMBERS];

	(void)state;
	for (size_t f = 0; f < 2; f++) {
		struct family fam = shift_families[f];
		size_t n = tnums_of(fam, ts), np = 0, nu;
		uint64_t universe[64];

		nu = members_of(TNUM(fam.bg & ~fam.free, fam.free), universe);
		for (size_t u = 0; u < nu; u++) {
			probes[np++] = universe[u] - 1;
			probes[np++] = universe[u];
			probes[np++] = universe[u] + 1;
		}
		probes[np++] = 0;
		probes[np++] = UINT64_MAX;
		for (size_t i = 0; i < n; i++) {
			size_t k = members_of(ts[i], m);

			for (size_t p = 0; p < np; p++) {
				uint64_t x = probes[p], next = 0, prev = 0, got;
				bool has_next = false, has_prev = false;

				for (size_t j = 0; j < k; j++) {
					if (m[j] >= x && (!has_next || m[j] < next)) {
						next = m[j];
						has_next = true;
					}
					if (m[j] <= x && (!has_prev || m[j] > prev)) {
						prev = m[j];
						has_prev = true;
					}
				}
				assert_int_equal(tnum_next(ts[i], x, &got), has_next);
				if (has_next)
					assert_int_equal(got, next);
				assert_int_equal(tnum_prev(ts[i], x, &got), has_prev);
				if (has_prev)
					assert_int_equal(got, prev);
			}
		}
	}
}

/* The imprecision examples in tnum.h, so that the header cannot drift. */
static void test_header_examples(void **state)
{
	uint64_t x;

	(void)state;
	/* (0b100, 0b011) is 1xx = {4, 5, 6, 7} */
	assert_true(tnum_contains(TNUM(4, 3), 7) && !tnum_contains(TNUM(4, 3), 3));
	/* 1x0 is 2-aligned but not 4-aligned */
	assert_true(tnum_is_aligned(TNUM(4, 2), 2) && !tnum_is_aligned(TNUM(4, 2), 4));
	/* [3, 4] gives xxx */
	assert_tnum(tnum_range(3, 4), TNUM(0, 7), "range example");
	/* 001 joined with 010 gives 0xx */
	assert_tnum(tnum_union(tnum_const(1), tnum_const(2)), TNUM(0, 3), "union example");
	/* 32-bit x000...0 >> 2 is xxx000...0; 8-bit x0000000 extends to x...x0000000 */
	assert_tnum(tnum_sext(TNUM(0, 0x80), 8), TNUM(0, ~UINT64_C(0x7f)), "sext example");
	assert_tnum(tnum_arshift(TNUM(0, BIT(31)), 2, 32), TNUM(0, 0xe0000000), "arshift example");
	/* tnum_xor(00x, 00x) is 00x */
	assert_tnum(tnum_xor(TNUM(0, 1), TNUM(0, 1)), TNUM(0, 1), "xor example");
	/* 00x + 001 is 0xx */
	assert_tnum(tnum_add(TNUM(0, 1), tnum_const(1)), TNUM(0, 3), "add example");
	/* 11 * x1 is xxx1, where the best tnum of {3, 9} is x0x1 */
	assert_tnum(tnum_mul(tnum_const(3), TNUM(1, 2)), TNUM(1, 0xe), "mul example");
	/* the least member of x0x at or above 3 is 4 */
	assert_true(tnum_next(TNUM(0, 5), 3, &x));
	assert_int_equal(x, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_binary_ops),
		cmocka_unit_test(test_width_ops),
		cmocka_unit_test(test_shifts),
		cmocka_unit_test(test_set_relations),
		cmocka_unit_test(test_alignment),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_next_prev),
		cmocka_unit_test(test_header_examples),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
