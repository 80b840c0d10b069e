/* SPDX-License-Identifier: MIT */
/*
 * The scalar domain, proven sound on every case of small families, against
 * the interpreter itself.
 *
 * Inputs.  A family fixes most bits of a 64-bit number (its background)
 * and frees four positions, so it holds 16 numbers.  Its inputs are every
 * tnum over the free positions (81) and every short interval of its numbers
 * in each of the four orders (u64, s64, u32, s32), each reduced, duplicates
 * dropped.  Every input's tnum fixes the background, so the 16 numbers of
 * its family include all its members: enumerating them enumerates every
 * member.  The families (families[]) put the free bits where the
 * operations change behaviour: both halves' sign bits and low bits, over
 * backgrounds that put the numbers next to 0, 2^31, 2^32, 2^63 and 2^64
 * (EDGES); small positive and negative numbers (SMALLS); shift counts
 * below and past the width (ALL_COUNTS).
 *
 * Oracle.  The concrete result of every operation on every pair of numbers
 * is computed by running the instruction in Sluice's interpreter, so the
 * domain is checked against what actually runs.
 *
 * Checks.  For every ALU operation in both widths and every pair of inputs,
 * every pair of members gives a result inside the abstract result; for every
 * conditional jump in both widths, every pair of members that takes an edge
 * lies inside that edge's refined operands, and an edge said impossible is
 * taken by none.  Constants in give constants out, two constants decide a
 * jump, and against a constant the refined bounds take the edge themselves.
 * The reduction keeps every member, never widens a view, and reaches its
 * fixed point within MAX_ROUNDS rounds.  Random inputs at full width add
 * what the families cannot reach.
 * The patterns of three kernel verifier CVEs close the file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sluice/interp.h>

#include "insn.h"
#include "verifier/bounds.h"

#define BIT(n) (UINT64_C(1) << (n))
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The reduction reaches its fixed point after at most this many rounds that change something. */
#define MAX_ROUNDS 2

/* ---- The interpreter as oracle --------------------------------------- */

/*
 * `op r1, r2; r0 = r1; exit` for an ALU instruction (r2 unused by the
 * one-operand ones), or `if r1 op r2 goto +2; r0 = 0; exit; r0 = 1; exit`
 * for a jump.
 */
static struct sluice_vm *program(enum insn_op op)
{
	struct sluice_vm_opts opts = { .sz = sizeof(opts) };
	struct sluice_error err = { 0 };
	struct sluice_insn p[5] = { insn_encode(op) };
	uint8_t shape = insn_table[op].shape;
	bool jump = shape == SHAPE_JCOND_REG;
	struct sluice_vm *vm;

	p[0].dst = 1;
	if (shape == SHAPE_ALU_REG || jump)
		p[0].src = 2;
	if (jump) {
		p[0].off = 2;
		p[1] = insn_encode(OP_MOV64_IMM);
		p[2] = insn_encode(OP_EXIT);
		p[3] = insn_encode(OP_MOV64_IMM);
		p[3].imm = 1;
		p[4] = p[2];
	} else {
		p[1] = insn_encode(OP_MOV64_REG);
		p[1].src = 1;
		p[2] = insn_encode(OP_EXIT);
	}
	vm = sluice_vm_new(p, jump ? 5 : 3, &opts, &err);
	if (!vm)
		fail_msg("%s: %s", insn_table[op].id, err.msg);
	return vm;
}

static uint64_t run(struct sluice_vm *vm, uint64_t x, uint64_t y)
{
	struct sluice_exec exec = { .sz = sizeof(exec), .args = { x, y } };
	struct sluice_error err = { 0 };
	uint64_t r0 = 0;

	if (sluice_vm_exec(vm, &exec, &r0, &err) < 0)
		fail_msg("run: %s", err.msg);
	return r0;
}

/* ---- Families and inputs --------------------------------------------- */

struct family {
	uint64_t bg, free;
};

#define EDGE_FREE (BIT(0) | BIT(31) | BIT(32) | BIT(63))
#define LOW_FILL UINT64_C(0x7ffffffe)            /* bits 1..30 */
#define HIGH_FILL UINT64_C(0x7ffffffe00000000)   /* bits 33..62 */

enum {
	EDGE = 1 << 0,  /* families 0-3 */
	SMALL = 1 << 4, /* families 4-5 */
	COUNTS = 1 << 6, /* families 6-7 */
};
#define EDGES (EDGE * 0xf)
#define SMALLS (SMALL * 3)
#define ALL_COUNTS (COUNTS * 3)

static const struct family families[] = {
	{ 0, EDGE_FREE },                    /* 0, 1, 2^31, 2^32, 2^63 ... */
	{ LOW_FILL, EDGE_FREE },             /* 2^31 - 1, 2^32 - 1 ... */
	{ HIGH_FILL, EDGE_FREE },            /* 2^63 - 2^32 ... */
	{ LOW_FILL | HIGH_FILL, EDGE_FREE }, /* 2^63 - 1, 2^64 - 1 ... */
	{ 0, 0xf },                          /* 0..15 */
	{ ~UINT64_C(0xf), 0xf },             /* -16..-1 */
	{ 0, BIT(0) | BIT(1) | BIT(2) | BIT(5) }, /* 0..7, 32..39 */
	{ 0, BIT(0) | BIT(1) | BIT(3) | BIT(6) }, /* 0..3, 8..11, 64..75 */
};
#define NFAM COUNT(families)

/* The longest interval input, in numbers of its family. */
#define SPAN 4

#define MAX_UNIVERSE 128
#define MAX_INPUTS 4096
#define MAX_MEMBERS (MAX_INPUTS * 16)

struct input {
	struct scalar s;
	uint32_t first, n; /* members[first .. first + n) */
};

static uint64_t universe[MAX_UNIVERSE];
static size_t universe_len;
static struct input inputs[MAX_INPUTS];
static size_t input_count;
static uint16_t members[MAX_MEMBERS];
static size_t members_len;
static size_t family_start[NFAM + 1];
static uint16_t family_numbers[NFAM][16];

static uint16_t universe_index(uint64_t v)
{
	for (size_t i = 0; i < universe_len; i++)
		if (universe[i] == v)
			return (uint16_t)i;
	assert_true(universe_len < MAX_UNIVERSE);
	universe[universe_len] = v;
	return (uint16_t)universe_len++;
}

/* The four orders a range can be in, as keys whose unsigned order is it. */
enum order { U64, S64, U32, S32 };

static uint64_t key(enum order o, uint64_t v)
{
	switch (o) {
	case U64:
		return v;
	case S64:
		return v ^ BIT(63);
	case U32:
		return (uint32_t)v;
	default:
		return (uint32_t)v ^ BIT(31);
	}
}

/* s with the range of order o set to the keys lo..hi. */
static struct scalar with_range(struct scalar s, enum order o, uint64_t lo, uint64_t hi)
{
	switch (o) {
	case U64:
		s.r64.umin = lo;
		s.r64.umax = hi;
		break;
	case S64:
		s.r64.smin = (int64_t)(lo ^ BIT(63));
		s.r64.smax = (int64_t)(hi ^ BIT(63));
		break;
	case U32:
		s.r32.umin = lo;
		s.r32.umax = hi;
		break;
	default:
		s.r32.smin = (int32_t)(uint32_t)(lo ^ BIT(31));
		s.r32.smax = (int32_t)(uint32_t)(hi ^ BIT(31));
		break;
	}
	return s;
}

/* Unreduced: just the tnum, the ranges all-encompassing. */
static struct scalar of_tnum(struct tnum t)
{
	struct scalar s = scalar_unknown();

	s.t = t;
	return s;
}

static void add_input(size_t f, struct scalar s)
{
	uint32_t first = (uint32_t)members_len;

	if (scalar_is_bottom(s))
		return;
	for (size_t i = family_start[f]; i < input_count; i++)
		if (scalar_equal(inputs[i].s, s))
			return;
	for (size_t i = 0; i < 16; i++)
		if (scalar_contains(s, universe[family_numbers[f][i]]))
			members[members_len++] = family_numbers[f][i];
	if (members_len == first)
		return;
	assert_true(input_count < MAX_INPUTS);
	inputs[input_count++] = (struct input){ s, first, (uint32_t)members_len - first };
}

/* The distinct keys of a family's numbers in order o, ascending. */
static size_t sorted_keys(size_t f, enum order o, uint64_t *keys)
{
	size_t n = 0;

	for (size_t i = 0; i < 16; i++) {
		uint64_t k = key(o, universe[family_numbers[f][i]]);
		size_t at = 0;

		while (at < n && keys[at] < k)
			at++;
		if (at < n && keys[at] == k)
			continue;
		memmove(&keys[at + 1], &keys[at], (n - at) * sizeof(keys[0]));
		keys[at] = k;
		n++;
	}
	return n;
}

/* The tnum of family f whose free bit number i is known 0, known 1 or unknown by digit i of code in base 3. */
static struct tnum family_tnum(size_t f, unsigned code)
{
	uint64_t free = families[f].free, value = families[f].bg & ~free, mask = 0;

	for (; free; free &= free - 1, code /= 3) {
		uint64_t bit = free & -free;

		if (code % 3 == 1)
			value |= bit;
		else if (code % 3 == 2)
			mask |= bit;
	}
	return TNUM(value, mask);
}

static void build_inputs(void)
{
	for (size_t f = 0; f < NFAM; f++) {
		uint64_t sub = 0, keys[16];
		struct tnum all = family_tnum(f, 80); /* every free bit unknown */

		family_start[f] = input_count;
		for (size_t i = 0; i < 16; i++, sub = (sub - families[f].free) & families[f].free)
			family_numbers[f][i] = universe_index((families[f].bg & ~families[f].free) | sub);
		for (unsigned code = 0; code < 81; code++)
			add_input(f, scalar_reduce(of_tnum(family_tnum(f, code))));
		for (enum order o = U64; o <= S32; o++) {
			size_t n = sorted_keys(f, o, keys);

			for (size_t i = 0; i < n; i++)
				for (size_t j = i + 1; j < n && j < i + SPAN; j++)
					add_input(f, scalar_reduce(with_range(of_tnum(all), o, keys[i], keys[j])));
		}
	}
	family_start[NFAM] = input_count;
}

static int group_setup(void **state)
{
	(void)state;
	build_inputs();
	print_message("%zu inputs holding %zu members in all, over %zu numbers\n", input_count,
		      members_len, universe_len);
	return 0;
}

static const char *show(struct scalar s, char *buf, size_t len)
{
	snprintf(buf, len, "{t=(%#llx; %#llx) u64=[%#llx, %#llx] s64=[%lld, %lld] u32=[%#llx, %#llx] s32=[%lld, %lld]}",
		 (unsigned long long)s.t.value, (unsigned long long)s.t.mask,
		 (unsigned long long)s.r64.umin, (unsigned long long)s.r64.umax,
		 (long long)s.r64.smin, (long long)s.r64.smax,
		 (unsigned long long)s.r32.umin, (unsigned long long)s.r32.umax,
		 (long long)s.r32.smin, (long long)s.r32.smax);
	return buf;
}

#define SHOW(s) show((s), (char[200]){ 0 }, 200)

/* The results of an instruction on every pair of numbers, by universe index. */
static uint64_t *results_of(enum insn_op op)
{
	struct sluice_vm *vm = program(op);
	uint64_t *r = malloc(universe_len * universe_len * sizeof(*r));

	assert_non_null(r);
	for (size_t x = 0; x < universe_len; x++)
		for (size_t y = 0; y < universe_len; y++)
			r[x * universe_len + y] = run(vm, universe[x], universe[y]);
	sluice_vm_free(vm);
	return r;
}

/* Is input i in one of the families of the set fams (a bit per family)? */
static bool in_families(size_t i, unsigned fams)
{
	for (size_t f = 0; f < NFAM; f++)
		if (fams & (1u << f) && i >= family_start[f] && i < family_start[f + 1])
			return true;
	return false;
}

/* What a test covered: operations, pairs of inputs, pairs of members. */
static struct {
	unsigned long ops, pairs, member_pairs;
} tally;

static void tally_start(void)
{
	tally.ops = tally.pairs = tally.member_pairs = 0;
}

static void tally_print(const char *what)
{
	print_message("%s: %lu operations, %lu input pairs, %lu member pairs\n", what, tally.ops,
		      tally.pairs, tally.member_pairs);
}

/* ---- ALU --------------------------------------------------------------- */

#define BINARY_OPS(X) \
	X(ADD, EDGES | SMALLS) X(SUB, EDGES | SMALLS) X(MUL, EDGES | SMALLS) \
	X(DIV, EDGES | SMALLS) X(SDIV, EDGES | SMALLS) X(MOD, EDGES | SMALLS) \
	X(SMOD, EDGES | SMALLS) X(OR, EDGES | SMALLS) X(AND, EDGES | SMALLS) \
	X(XOR, EDGES | SMALLS) X(LSH, SMALLS | ALL_COUNTS) X(RSH, SMALLS | ALL_COUNTS) \
	X(ARSH, SMALLS | ALL_COUNTS) X(MOV, EDGES | SMALLS)

struct alu_case {
	const char *name;
	enum insn_op insn;
	enum scalar_op op;
	unsigned width;
	unsigned src_families; /* the destination comes from the edges and small numbers */
};

static const struct alu_case alu_cases[] = {
#define X(name, src) { #name "64", OP_##name##64_REG, SCALAR_##name, 64, src }, \
		     { #name "32", OP_##name##32_REG, SCALAR_##name, 32, src },
	BINARY_OPS(X)
#undef X
};

static void fail_alu(const char *name, struct scalar a, struct scalar b, uint64_t x, uint64_t y,
		     uint64_t z, struct scalar r)
{
	fail_msg("%s %s %s: %#llx, %#llx give %#llx, outside %s", name, SHOW(a), SHOW(b),
		 (unsigned long long)x, (unsigned long long)y, (unsigned long long)z, SHOW(r));
}

static void check_alu(const struct alu_case *c)
{
	uint64_t *res = results_of(c->insn);

	for (size_t i = 0; i < input_count; i++) {
		const struct input *a = &inputs[i];

		if (!in_families(i, EDGES | SMALLS))
			continue;
		for (size_t j = 0; j < input_count; j++) {
			const struct input *b = &inputs[j];
			struct scalar r;

			if (!in_families(j, c->src_families))
				continue;
			r = scalar_alu(c->op, a->s, b->s, c->width);
			tally.pairs++;
			tally.member_pairs += a->n * b->n;
			for (uint32_t x = a->first; x < a->first + a->n; x++) {
				for (uint32_t y = b->first; y < b->first + b->n; y++) {
					uint64_t z = res[members[x] * universe_len + members[y]];

					if (!scalar_contains(r, z))
						fail_alu(c->name, a->s, b->s, universe[members[x]],
							 universe[members[y]], z, r);
				}
			}
			/* Constants are computed, not estimated. */
			if (a->n == 1 && b->n == 1 && scalar_is_const(a->s) && scalar_is_const(b->s) &&
			    !(scalar_is_const(r) && r.t.value == res[members[a->first] * universe_len +
								    members[b->first]]))
				fail_msg("%s of constants %s %s is %s", c->name, SHOW(a->s), SHOW(b->s),
					 SHOW(r));
		}
	}
	tally.ops++;
	free(res);
}

/*
 * A test that runs a group of cases: the operations (enum scalar_op) or the
 * conditions (enum scalar_cmp) first..last, in both widths.
 */
struct group {
	unsigned first, last;
	const char *name;
};

#define GROUP_TEST(name, fn, first, last) \
	{ "test_" #name, fn, NULL, NULL, &(struct group){ first, last, #name } }

static void test_alu(void **state)
{
	const struct group *g = *state;

	tally_start();
	for (size_t c = 0; c < COUNT(alu_cases); c++)
		if (alu_cases[c].op >= g->first && alu_cases[c].op <= g->last)
			check_alu(&alu_cases[c]);
	tally_print(g->name);
}

enum unary_kind { NEG, MOVSX, TRUNC, BSWAP };

static const struct unary_case {
	enum insn_op insn;
	enum unary_kind kind;
	unsigned bits, width;
} unary_cases[] = {
	{ OP_NEG64, NEG, 64, 64 }, { OP_NEG32, NEG, 32, 32 },
	{ OP_MOVSX8_32, MOVSX, 8, 32 }, { OP_MOVSX16_32, MOVSX, 16, 32 },
	{ OP_MOVSX8_64, MOVSX, 8, 64 }, { OP_MOVSX16_64, MOVSX, 16, 64 },
	{ OP_MOVSX32_64, MOVSX, 32, 64 },
	{ OP_LE16, TRUNC, 16, 0 }, { OP_LE32, TRUNC, 32, 0 }, { OP_LE64, TRUNC, 64, 0 },
	{ OP_BE16, BSWAP, 16, 0 }, { OP_BE32, BSWAP, 32, 0 }, { OP_BE64, BSWAP, 64, 0 },
	{ OP_BSWAP16, BSWAP, 16, 0 }, { OP_BSWAP32, BSWAP, 32, 0 }, { OP_BSWAP64, BSWAP, 64, 0 },
};

static struct scalar unary(const struct unary_case *c, struct scalar a)
{
	switch (c->kind) {
	case NEG:
		return scalar_neg(a, c->width);
	case MOVSX:
		return scalar_movsx(a, c->bits, c->width);
	case TRUNC:
		return scalar_trunc(a, c->bits);
	default:
		return scalar_bswap(a, c->bits);
	}
}

/* Every input of every family, through every one-operand instruction. */
static void test_alu_unary(void **state)
{
	(void)state;
	tally_start();
	for (size_t c = 0; c < COUNT(unary_cases); c++) {
		struct sluice_vm *vm = program(unary_cases[c].insn);

		for (size_t i = 0; i < input_count; i++) {
			const struct input *a = &inputs[i];
			struct scalar r = unary(&unary_cases[c], a->s);

			tally.pairs++;
			tally.member_pairs += a->n;

			for (uint32_t x = a->first; x < a->first + a->n; x++) {
				uint64_t v = universe[members[x]], z = run(vm, v, v);

				if (!scalar_contains(r, z))
					fail_alu(insn_table[unary_cases[c].insn].id, a->s, a->s, v, v, z, r);
				if (a->n == 1 && scalar_is_const(a->s) &&
				    !(scalar_is_const(r) && r.t.value == z))
					fail_msg("%s of a constant %s is %s", insn_table[unary_cases[c].insn].id,
						 SHOW(a->s), SHOW(r));
			}
		}
		tally.ops++;
		sluice_vm_free(vm);
	}
	tally_print("alu_unary (inputs, members)");
}

/* ---- Conditional jumps -------------------------------------------------- */

#define JUMPS(X) \
	X(JEQ, CMP_EQ) X(JNE, CMP_NE) X(JSET, CMP_SET) X(JGT, CMP_GT) X(JGE, CMP_GE) \
	X(JLT, CMP_LT) X(JLE, CMP_LE) X(JSGT, CMP_SGT) X(JSGE, CMP_SGE) X(JSLT, CMP_SLT) \
	X(JSLE, CMP_SLE)

static const struct jump_case {
	enum insn_op insn;
	enum scalar_cmp cmp;
	unsigned width;
} jump_cases[] = {
#define X(name, cmp) { OP_##name##64_REG, cmp, 64 }, { OP_##name##32_REG, cmp, 32 },
	JUMPS(X)
#undef X
};

/* An edge's operands: inside the inputs, and holding every pair that takes it. */
static void check_edge(const struct jump_case *c, const struct input *a, const struct input *b,
		       struct scalar_edge e, const uint64_t *taken, bool which)
{
	bool possible = !scalar_is_bottom(e.dst);

	assert_int_equal(possible, !scalar_is_bottom(e.src));
	if (possible && (!scalar_within(e.dst, a->s) || !scalar_within(e.src, b->s)))
		fail_msg("%s: refining %s %s widened them", insn_table[c->insn].id, SHOW(a->s),
			 SHOW(b->s));
	for (uint32_t x = a->first; x < a->first + a->n; x++) {
		for (uint32_t y = b->first; y < b->first + b->n; y++) {
			uint64_t vx = universe[members[x]], vy = universe[members[y]];

			if (taken[members[x] * universe_len + members[y]] != which)
				continue;
			if (!scalar_contains(e.dst, vx) || !scalar_contains(e.src, vy))
				fail_msg("%s %s %s, %s edge: %#llx, %#llx outside %s %s",
					 insn_table[c->insn].id, SHOW(a->s), SHOW(b->s),
					 which ? "taken" : "fall-through", (unsigned long long)vx,
					 (unsigned long long)vy, SHOW(e.dst), SHOW(e.src));
		}
	}
}

/*
 * The condition of a jump, for numbers outside the universe; check_jumps
 * first proves it equal to the interpreter on every pair of the universe.
 */
static bool holds(enum scalar_cmp cmp, unsigned width, uint64_t x, uint64_t y)
{
	uint64_t ux = width == 64 ? x : (uint32_t)x, uy = width == 64 ? y : (uint32_t)y;
	int64_t sx = width == 64 ? (int64_t)x : (int32_t)x, sy = width == 64 ? (int64_t)y : (int32_t)y;

	switch (cmp) {
	case CMP_EQ: return ux == uy;
	case CMP_NE: return ux != uy;
	case CMP_SET: return ux & uy;
	case CMP_CLEAR: return !(ux & uy);
	case CMP_GT: return ux > uy;
	case CMP_GE: return ux >= uy;
	case CMP_LT: return ux < uy;
	case CMP_LE: return ux <= uy;
	case CMP_SGT: return sx > sy;
	case CMP_SGE: return sx >= sy;
	case CMP_SLT: return sx < sy;
	default: return sx <= sy;
	}
}

/*
 * Precision against a constant, as the kernel has it: the bounds of the
 * other operand, in the order compared, take the edge themselves (x < 5
 * leaves at most 4, x != 5 moves a bound of 5 off it).
 */
static void check_bounds_take(const struct jump_case *c, struct scalar_edge e, uint64_t k,
			      bool k_is_src, bool which)
{
	bool is_unsigned = c->cmp >= CMP_GT && c->cmp <= CMP_LE;
	bool is_signed = c->cmp >= CMP_SGT, both = c->cmp == CMP_EQ || c->cmp == CMP_NE;
	struct scalar v = k_is_src ? e.dst : e.src;
	struct range r = c->width == 64 ? v.r64 : v.r32;
	uint64_t ends[4] = { r.umin, r.umax, (uint64_t)r.smin, (uint64_t)r.smax };

	if (scalar_is_bottom(v) || (!is_unsigned && !is_signed && !both))
		return;
	for (int i = is_signed ? 2 : 0; i < (is_unsigned ? 2 : 4); i++) {
		if (holds(c->cmp, c->width, k_is_src ? ends[i] : k, k_is_src ? k : ends[i]) != which)
			fail_msg("%s with %#llx: the %s edge leaves the bound %#llx in %s",
				 insn_table[c->insn].id, (unsigned long long)k,
				 which ? "taken" : "fall-through", (unsigned long long)ends[i], SHOW(v));
	}
}

static bool const_at(struct scalar s, unsigned width)
{
	return tnum_is_const(width == 64 ? s.t : tnum_trunc(s.t, 32));
}

static void check_jumps(unsigned first, unsigned last)
{
	for (size_t c = 0; c < COUNT(jump_cases); c++) {
		uint64_t *taken;

		if (jump_cases[c].cmp < first || jump_cases[c].cmp > last)
			continue;
		taken = results_of(jump_cases[c].insn);
		for (size_t x = 0; x < universe_len; x++)
			for (size_t y = 0; y < universe_len; y++)
				assert_int_equal(holds(jump_cases[c].cmp, jump_cases[c].width, universe[x],
						       universe[y]),
						 taken[x * universe_len + y]);
		for (size_t i = 0; i < input_count; i++) {
			for (size_t j = 0; j < input_count; j++) {
				const struct input *a = &inputs[i], *b = &inputs[j];
				struct scalar_branch br;

				if (!in_families(i, EDGES | SMALLS) || !in_families(j, EDGES | SMALLS))
					continue;
				br = scalar_branch(jump_cases[c].cmp, a->s, b->s, jump_cases[c].width);
				tally.pairs++;
				tally.member_pairs += a->n * b->n;
				check_edge(&jump_cases[c], a, b, br.taken, taken, true);
				check_edge(&jump_cases[c], a, b, br.fallthrough, taken, false);
				/* Two constants decide the branch. */
				if (scalar_is_const(a->s) && scalar_is_const(b->s))
					assert_int_equal(scalar_is_bottom(br.taken.dst) +
							 scalar_is_bottom(br.fallthrough.dst), 1);
				for (int which = 0; which < 2; which++) {
					struct scalar_edge e = which ? br.taken : br.fallthrough;

					if (const_at(b->s, jump_cases[c].width))
						check_bounds_take(&jump_cases[c], e, b->s.t.value, true, which);
					if (const_at(a->s, jump_cases[c].width))
						check_bounds_take(&jump_cases[c], e, a->s.t.value, false, which);
				}
			}
		}
		tally.ops++;
		free(taken);
	}
}

static void test_jump(void **state)
{
	const struct group *g = *state;

	tally_start();
	check_jumps(g->first, g->last);
	tally_print(g->name);
}

/* ---- The reduction ------------------------------------------------------ */

static bool views_within(struct scalar a, struct scalar b)
{
	return tnum_in(b.t, a.t) && a.r64.umin >= b.r64.umin && a.r64.umax <= b.r64.umax &&
	       a.r64.smin >= b.r64.smin && a.r64.smax <= b.r64.smax &&
	       a.r32.umin >= b.r32.umin && a.r32.umax <= b.r32.umax &&
	       a.r32.smin >= b.r32.smin && a.r32.smax <= b.r32.smax;
}

/* The rounds scalar_reduce takes on s, counted by repeating one round. */
static unsigned rounds_to_fixed_point(struct scalar s)
{
	unsigned n = 0;

	for (struct scalar next = scalar_reduce_pass(s); !scalar_equal(next, s);
	     s = next, next = scalar_reduce_pass(s))
		n++;
	return n;
}

struct reduce_stats {
	unsigned long cases, bottoms, empty_not_bottom;
	unsigned max_rounds;
};

/*
 * Check the reduction of an unreduced scalar s whose members all lie among
 * the numbers of family f: it keeps exactly the members, no view widens, it
 * is a fixed point, and it gets there in at most MAX_ROUNDS rounds.
 */
static void check_reduce(size_t f, struct scalar s, struct reduce_stats *st)
{
	struct scalar r = scalar_reduce(s);
	unsigned rounds = rounds_to_fixed_point(s);
	bool any = false;

	for (size_t i = 0; i < 16; i++) {
		uint64_t v = universe[family_numbers[f][i]];

		if (scalar_contains(s, v) != scalar_contains(r, v))
			fail_msg("reducing %s to %s changes whether %#llx is in", SHOW(s), SHOW(r),
				 (unsigned long long)v);
		any = any || scalar_contains(s, v);
	}
	st->cases++;
	st->bottoms += scalar_is_bottom(r);
	st->empty_not_bottom += !any && !scalar_is_bottom(r);
	if (!scalar_is_bottom(r) && !views_within(r, s))
		fail_msg("reducing %s widened a view: %s", SHOW(s), SHOW(r));
	if (!scalar_equal(scalar_reduce_pass(r), r))
		fail_msg("%s is no fixed point", SHOW(r));
	if (rounds > st->max_rounds)
		st->max_rounds = rounds;
	if (rounds > MAX_ROUNDS)
		fail_msg("reducing %s took %u rounds", SHOW(s), rounds);
}

/*
 * Unreduced scalars from each family: every tnum with every single
 * interval (any length, any order), and every pair of intervals in two
 * different orders.
 */
static void test_domain_reduce(void **state)
{
	struct reduce_stats st = { 0 };

	(void)state;
	for (size_t f = 0; f < NFAM; f++) {
		uint64_t keys[4][16];
		size_t nk[4];

		for (enum order o = U64; o <= S32; o++)
			nk[o] = sorted_keys(f, o, keys[o]);
		for (unsigned code = 0; code < 81; code++) {
			struct scalar t = of_tnum(family_tnum(f, code));

			check_reduce(f, t, &st);
			for (enum order o = U64; o <= S32; o++)
				for (size_t i = 0; i < nk[o]; i++)
					for (size_t j = i; j < nk[o]; j++)
						check_reduce(f, with_range(t, o, keys[o][i], keys[o][j]), &st);
		}
		for (enum order o = U64; o < S32; o++) {
			for (enum order p = o + 1; p <= S32; p++) {
				for (size_t i = 0; i < nk[o]; i++) {
					for (size_t j = i; j < nk[o]; j++) {
						struct scalar s = with_range(of_tnum(family_tnum(f, 80)), o,
									     keys[o][i], keys[o][j]);

						for (size_t k = 0; k < nk[p]; k++)
							for (size_t l = k; l < nk[p]; l++)
								check_reduce(f, with_range(s, p, keys[p][k],
											   keys[p][l]),
									     &st);
					}
				}
			}
		}
	}
	print_message("reduce: %lu cases, %lu bottom, %lu without members but not bottom, at most %u rounds\n",
		      st.cases, st.bottoms, st.empty_not_bottom, st.max_rounds);
}

/* Join and inclusion, over every pair of inputs of a family. */
static void test_domain_join_within(void **state)
{
	(void)state;
	for (size_t f = 0; f < NFAM; f++) {
		for (size_t i = family_start[f]; i < family_start[f + 1]; i++) {
			for (size_t j = family_start[f]; j < family_start[f + 1]; j++) {
				const struct input *a = &inputs[i], *b = &inputs[j];
				struct scalar join = scalar_join(a->s, b->s);

				assert_true(scalar_within(a->s, join) && scalar_within(b->s, join));
				for (uint32_t x = a->first; x < a->first + a->n; x++)
					assert_true(scalar_contains(join, universe[members[x]]));
				if (!scalar_within(a->s, b->s))
					continue;
				for (uint32_t x = a->first; x < a->first + a->n; x++)
					assert_true(scalar_contains(b->s, universe[members[x]]));
			}
		}
	}
}

/* ---- Random inputs at full width --------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* A number with structure: near a boundary, small, or random bits. */
static uint64_t rnd_number(void)
{
	static const uint64_t near[] = { 0, BIT(31), BIT(32), BIT(63), BIT(8), BIT(16) };
	uint64_t delta = rnd() % 9 - 4;

	switch (rnd() % 4) {
	case 0:
		return near[rnd() % COUNT(near)] + delta;
	case 1:
		return delta;
	case 2:
		return rnd() & (rnd() | rnd());
	default:
		return rnd();
	}
}

/*
 * A random scalar holding the numbers v[0..n): their join, with one view
 * sometimes widened to a random range around it.
 */
static struct scalar rnd_scalar(const uint64_t *v, size_t n)
{
	struct scalar s = scalar_const(v[0]);
	uint64_t lo = rnd_number(), hi = rnd_number();

	for (size_t i = 1; i < n; i++)
		s = scalar_join(s, scalar_const(v[i]));
	switch (rnd() % 6) {
	case 0:
		s.t = TNUM(s.t.value & ~lo, s.t.mask | lo);
		break;
	case 1:
		s.r64.umin = s.r64.umin < lo ? s.r64.umin : lo;
		s.r64.umax = s.r64.umax > hi ? s.r64.umax : hi;
		break;
	case 2:
		s.r64.smin = s.r64.smin < (int64_t)lo ? s.r64.smin : (int64_t)lo;
		s.r64.smax = s.r64.smax > (int64_t)hi ? s.r64.smax : (int64_t)hi;
		break;
	case 3:
		s.r32.smin = s.r32.smin < (int32_t)lo ? s.r32.smin : (int32_t)lo;
		s.r32.smax = s.r32.smax > (int32_t)hi ? s.r32.smax : (int32_t)hi;
		break;
	default:
		break;
	}
	return scalar_reduce(s);
}

/* Random scalars of up to three random numbers, through every operation. */
static void test_domain_random(void **state)
{
	unsigned max_rounds = 0;

	(void)state;
	for (size_t c = 0; c < COUNT(alu_cases) + COUNT(jump_cases); c++) {
		bool jump = c >= COUNT(alu_cases);
		enum insn_op insn = jump ? jump_cases[c - COUNT(alu_cases)].insn : alu_cases[c].insn;
		struct sluice_vm *vm = program(insn);

		for (int iter = 0; iter < 3000; iter++) {
			uint64_t x[3], y[3];
			size_t nx = 1 + rnd() % 3, ny = 1 + rnd() % 3;
			struct scalar a, b, r = scalar_bottom();
			struct scalar_branch br = { { r, r }, { r, r } };

			for (size_t i = 0; i < 3; i++) {
				x[i] = rnd_number();
				y[i] = rnd_number();
			}
			a = rnd_scalar(x, nx);
			b = rnd_scalar(y, ny);
			if (rounds_to_fixed_point(a) > max_rounds)
				max_rounds = rounds_to_fixed_point(a);
			if (!jump)
				r = scalar_alu(alu_cases[c].op, a, b, alu_cases[c].width);
			else
				br = scalar_branch(jump_cases[c - COUNT(alu_cases)].cmp, a, b,
						   jump_cases[c - COUNT(alu_cases)].width);
			for (size_t i = 0; i < nx; i++) {
				for (size_t j = 0; j < ny; j++) {
					uint64_t z = run(vm, x[i], y[j]);
					struct scalar_edge e = z ? br.taken : br.fallthrough;

					if (!jump && !scalar_contains(r, z))
						fail_alu(alu_cases[c].name, a, b, x[i], y[j], z, r);
					if (jump && (!scalar_contains(e.dst, x[i]) ||
						     !scalar_contains(e.src, y[j])))
						fail_msg("%s %s %s: %#llx, %#llx lost", insn_table[insn].id,
							 SHOW(a), SHOW(b), (unsigned long long)x[i],
							 (unsigned long long)y[j]);
				}
			}
		}
		sluice_vm_free(vm);
	}
	assert_true(max_rounds <= MAX_ROUNDS);
}

/* ---- Known kernel verifier bugs ---------------------------------------- */

/* An unknown number after `if r < lo goto out; if r > hi goto out`. */
static struct scalar between(uint64_t lo, uint64_t hi)
{
	struct scalar r = scalar_refine(CMP_GE, scalar_unknown(), scalar_const(lo), 64).dst;

	return scalar_refine(CMP_LE, r, scalar_const(hi), 64).dst;
}

/*
 * CVE-2020-8835 (Linux 5.5 and 5.6, __reg_bound_offset32).  After a 32-bit
 * jump the kernel rebuilt the low half of the tnum from
 * tnum_range(umin & 0xffffffff, umax & 0xffffffff), as if the low halves of
 * a 64-bit range formed a range.  With 1 <= r2 <= 0x100000001 (from two
 * 64-bit jumps), `if w2 != 5` made it believe the low half of r2 was 1,
 * though r2 = 2 fits; `r2 &= 2; r2 >>= 1` was then "known" to be 0 and is 1
 * when it runs, which the exploit scaled into an out-of-bounds offset.
 */
static void test_cve_2020_8835(void **state)
{
	struct scalar r2 = between(1, 0x100000001);
	struct scalar_edge ne;

	(void)state;
	assert_true(scalar_contains(r2, 2));
	ne = scalar_refine(CMP_NE, r2, scalar_const(5), 32);
	assert_true(scalar_contains(ne.dst, 2));
	assert_false(tnum_is_const(tnum_trunc(ne.dst.t, 32)));
	r2 = scalar_alu(SCALAR_AND, ne.dst, scalar_const(2), 64);
	r2 = scalar_alu(SCALAR_RSH, r2, scalar_const(1), 64);
	assert_true(scalar_contains(r2, 0) && scalar_contains(r2, 1));
}

/*
 * CVE-2021-3490 (Linux 5.7 to 5.12, scalar32_min_max_and/or/xor).  When
 * both operands' low halves were constants, the 32-bit bounds code returned
 * early, trusting the 64-bit code to mark the result constant; that only
 * happened when all 64 bits were known.  So r2, low half 1 and high half
 * unknown, ANDed with 0x100000002 kept r2's 32-bit bounds [1, 1] while its
 * low half became 0: the bounds crossed the tnum (u32_min 1 > u32_max 0)
 * and the arithmetic that followed produced an out-of-bounds pointer.  OR
 * and XOR returned early the same way (low half 3 kept bounds [1, 1]).
 */
static void test_cve_2021_3490(void **state)
{
	static const struct {
		enum insn_op insn64, insn32;
		enum scalar_op op;
		uint32_t low;
	} cases[] = {
		{ OP_AND64_REG, OP_AND32_REG, SCALAR_AND, 0 },
		{ OP_OR64_REG, OP_OR32_REG, SCALAR_OR, 3 },
		{ OP_XOR64_REG, OP_XOR32_REG, SCALAR_XOR, 3 },
	};
	static const uint64_t r2_members[] = { 1, 0x100000001, 0xffffffff00000001 };
	struct scalar r2 = scalar_reduce(of_tnum(TNUM(1, ~(uint64_t)UINT32_MAX)));
	struct scalar r3 = scalar_const(0x100000002);

	(void)state;
	for (size_t c = 0; c < COUNT(cases); c++) {
		for (unsigned width = 32; width <= 64; width += 32) {
			enum insn_op insn = width == 64 ? cases[c].insn64 : cases[c].insn32;
			struct sluice_vm *vm = program(insn);
			struct scalar r = scalar_alu(cases[c].op, r2, r3, width);

			for (size_t m = 0; m < COUNT(r2_members); m++)
				assert_true(scalar_contains(r, run(vm, r2_members[m], 0x100000002)));
			/* The low half is known, and every view of it agrees. */
			assert_int_equal(r.r32.umin, cases[c].low);
			assert_int_equal(r.r32.umax, cases[c].low);
			assert_true(tnum_is_const(tnum_trunc(r.t, 32)));
			sluice_vm_free(vm);
		}
	}
}

/*
 * CVE-2021-31440 (Linux 5.7 to 5.12, __reg_combine_64_into_32).  After a
 * 64-bit jump the kernel copied 64-bit bounds into the 32-bit ones,
 * testing umin and umax separately: with 1 <= r <= 0x100000000, umin = 1
 * fits in 32 bits and became u32_min, though r = 0x100000000 has low half
 * 0.  `if w == 0` was then thought never taken, and the path behind it went
 * unchecked.
 */
static void test_cve_2021_31440(void **state)
{
	struct scalar r = between(1, 0x100000000);
	struct scalar_edge eq;

	(void)state;
	assert_true(scalar_contains(r, 0x100000000));
	assert_int_equal(r.r32.umin, 0);
	eq = scalar_refine(CMP_EQ, r, scalar_const(0), 32);
	assert_false(scalar_is_bottom(eq.dst));
	/* In [1, 2^32] only 2^32 has a zero low half. */
	assert_true(scalar_is_const(eq.dst));
	assert_int_equal(eq.dst.t.value, 0x100000000);
}

/*
 * CVE-2022-23222 (arithmetic on *_OR_NULL pointers before the null check)
 * belongs to the pointer layer: test_verifier.c has the pattern.
 */

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		GROUP_TEST(alu_arith, test_alu, SCALAR_ADD, SCALAR_MUL),
		GROUP_TEST(alu_div, test_alu, SCALAR_DIV, SCALAR_SMOD),
		GROUP_TEST(alu_bitwise, test_alu, SCALAR_OR, SCALAR_XOR),
		GROUP_TEST(alu_shift_mov, test_alu, SCALAR_LSH, SCALAR_MOV),
		cmocka_unit_test(test_alu_unary),
		GROUP_TEST(jump_equality, test_jump, CMP_EQ, CMP_CLEAR),
		GROUP_TEST(jump_unsigned, test_jump, CMP_GT, CMP_LE),
		GROUP_TEST(jump_signed, test_jump, CMP_SGT, CMP_SLE),
		cmocka_unit_test(test_domain_reduce),
		cmocka_unit_test(test_domain_join_within),
		cmocka_unit_test(test_domain_random),
		cmocka_unit_test(test_cve_2020_8835),
		cmocka_unit_test(test_cve_2021_3490),
		cmocka_unit_test(test_cve_2021_31440),
	};

	/*
	 * A cmocka name pattern picks a group, so that ctest can spread the
	 * groups over the cores: every test's name starts with test_ and one
	 * of the groups that tests/verifier/CMakeLists.txt lists.
	 */
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
