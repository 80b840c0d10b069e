/* SPDX-License-Identifier: MIT */
/*
 * The scalar domain (bounds.h): the reduction between its five views, the
 * transfer functions of the ALU, and the refinement of conditional jumps.
 *
 * Range arithmetic is written once for any width w (32 or 64) on struct
 * range: unsigned bounds below 2^w, signed bounds sign-extended.  Exact
 * intermediate results are 128-bit, so that whether an operation wrapped
 * is a comparison rather than a case analysis.
 */
#include <assert.h>
#include <stddef.h>

#include "bounds.h"

typedef unsigned __int128 u128;
typedef __int128 s128;

#define LOW32 ((uint64_t)UINT32_MAX)

static uint64_t umax_of(unsigned w)
{
	return w >= 64 ? UINT64_MAX : (UINT64_C(1) << w) - 1;
}

static int64_t smax_of(unsigned w)
{
	return (int64_t)(umax_of(w) >> 1);
}

static int64_t smin_of(unsigned w)
{
	return -smax_of(w) - 1;
}

static uint64_t sign_bit(unsigned w)
{
	return UINT64_C(1) << (w - 1);
}

/* The low w bits of x as a signed number. */
static int64_t sext(uint64_t x, unsigned w)
{
	return (int64_t)(x << (64 - w)) >> (64 - w);
}

static uint64_t umin64(uint64_t a, uint64_t b) { return a < b ? a : b; }
static uint64_t umax64(uint64_t a, uint64_t b) { return a > b ? a : b; }
static int64_t smin64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t smax64(int64_t a, int64_t b) { return a > b ? a : b; }

/* ---- Ranges at width w ---------------------------------------------- */

static struct range range_full(unsigned w)
{
	return (struct range){ 0, umax_of(w), smin_of(w), smax_of(w) };
}

static bool range_empty(struct range r)
{
	return r.umin > r.umax || r.smin > r.smax;
}

static struct range range_meet(struct range a, struct range b)
{
	return (struct range){ umax64(a.umin, b.umin), umin64(a.umax, b.umax),
			       smax64(a.smin, b.smin), smin64(a.smax, b.smax) };
}

static struct range range_hull(struct range a, struct range b)
{
	return (struct range){ umin64(a.umin, b.umin), umax64(a.umax, b.umax),
			       smin64(a.smin, b.smin), smax64(a.smax, b.smax) };
}

static bool range_within(struct range a, struct range b)
{
	return a.umin >= b.umin && a.umax <= b.umax && a.smin >= b.smin && a.smax <= b.smax;
}

/*
 * The exact integers lo..hi (lo <= hi) reduced modulo 2^w.  They stay one
 * unsigned range when no multiple of 2^w separates them, that is when both
 * lie in the same window [k * 2^w, (k + 1) * 2^w); otherwise the result can
 * be anything.  (Negative differences wrap modulo 2^128 alike, which keeps
 * the window numbers of lo and hi equal exactly when they were.)
 */
static void wrap_unsigned(struct range *r, u128 lo, u128 hi, unsigned w)
{
	if (lo >> w == hi >> w) {
		r->umin = (uint64_t)lo & umax_of(w);
		r->umax = (uint64_t)hi & umax_of(w);
	} else {
		r->umin = 0;
		r->umax = umax_of(w);
	}
}

/* The same for the signed windows [k * 2^w - 2^(w-1), k * 2^w + 2^(w-1)). */
static void wrap_signed(struct range *r, s128 lo, s128 hi, unsigned w)
{
	s128 half = (s128)1 << (w - 1);

	if ((lo + half) >> w == (hi + half) >> w) {
		r->smin = sext((uint64_t)lo, w);
		r->smax = sext((uint64_t)hi, w);
	} else {
		r->smin = smin_of(w);
		r->smax = smax_of(w);
	}
}

static struct range range_add(struct range a, struct range b, unsigned w)
{
	struct range r;

	wrap_unsigned(&r, (u128)a.umin + b.umin, (u128)a.umax + b.umax, w);
	wrap_signed(&r, (s128)a.smin + b.smin, (s128)a.smax + b.smax, w);
	return r;
}

static struct range range_sub(struct range a, struct range b, unsigned w)
{
	struct range r;

	wrap_unsigned(&r, (u128)a.umin - b.umax, (u128)a.umax - b.umin, w);
	wrap_signed(&r, (s128)a.smin - b.smax, (s128)a.smax - b.smin, w);
	return r;
}

/* Unsigned products grow with both factors; signed ones peak at corners. */
static struct range range_mul(struct range a, struct range b, unsigned w)
{
	s128 corner[4] = {
		(s128)a.smin * b.smin, (s128)a.smin * b.smax,
		(s128)a.smax * b.smin, (s128)a.smax * b.smax,
	};
	s128 lo = corner[0], hi = corner[0];
	struct range r;

	for (int i = 1; i < 4; i++) {
		lo = corner[i] < lo ? corner[i] : lo;
		hi = corner[i] > hi ? corner[i] : hi;
	}
	wrap_unsigned(&r, (u128)a.umin * b.umin, (u128)a.umax * b.umax, w);
	wrap_signed(&r, lo, hi, w);
	return r;
}

/*
 * x & y is at most each of x, y unsigned.  Signed: a non-negative operand
 * makes the result non-negative and no larger than itself; two negative
 * ones give a negative result no larger than either; in every case the
 * result is at most the larger operand.
 */
static struct range range_and(struct range a, struct range b, unsigned w)
{
	struct range r = range_full(w);

	r.umax = umin64(a.umax, b.umax);
	r.smax = smax64(a.smax, b.smax);
	if (a.smax < 0 && b.smax < 0)
		r.smax = smin64(a.smax, b.smax);
	if (a.smin >= 0) {
		r.smin = 0;
		r.smax = smin64(r.smax, a.smax);
	}
	if (b.smin >= 0) {
		r.smin = 0;
		r.smax = smin64(r.smax, b.smax);
	}
	return r;
}

/* ~x, which reverses both orders. */
static struct range range_not(struct range a, unsigned w)
{
	return (struct range){ umax_of(w) - a.umax, umax_of(w) - a.umin, -1 - a.smax, -1 - a.smin };
}

/* x | y == ~(~x & ~y). */
static struct range range_or(struct range a, struct range b, unsigned w)
{
	return range_not(range_and(range_not(a, w), range_not(b, w), w), w);
}

/*
 * x ^ y has no bit above the operands' highest, and its sign is known when
 * both operands' signs are.
 */
static struct range range_xor(struct range a, struct range b, unsigned w)
{
	struct range r = range_full(w);
	uint64_t top = umax64(a.umax, b.umax);
	bool a_known = a.smin >= 0 || a.smax < 0, b_known = b.smin >= 0 || b.smax < 0;

	r.umax = top ? umax_of(64 - (unsigned)__builtin_clzll(top)) : 0;
	if (a_known && b_known) {
		if ((a.smin >= 0) == (b.smin >= 0))
			r.smin = 0;
		else
			r.smax = -1;
	}
	return r;
}

/* x / y grows with x and shrinks with y; a zero divisor gives 0. */
static struct range range_div(struct range a, struct range b, unsigned w)
{
	struct range r = range_full(w);

	if (b.umax == 0) {
		r.umax = 0;
		return r;
	}
	r.umin = b.umin ? a.umin / b.umax : 0;
	r.umax = a.umax / (b.umin ? b.umin : 1);
	return r;
}

/*
 * Truncating division is monotonic in the dividend and, on each side of
 * zero, in the divisor: the extremes are at the corners of the dividend's
 * range and of each sign's part of the divisor's.  The corners are exact
 * (INT_MIN / -1 is 2^(w-1)); wrap_signed then gives up on that one
 * overflow rather than modelling the wrap to INT_MIN.  A zero divisor
 * gives 0.
 */
static struct range range_sdiv(struct range a, struct range b, unsigned w)
{
	int64_t div[4];
	int n = 0;
	s128 lo = 0, hi = 0;
	bool any = false;
	struct range r = range_full(w);

	if (b.smax >= 1) {
		div[n++] = smax64(b.smin, 1);
		div[n++] = b.smax;
	}
	if (b.smin <= -1) {
		div[n++] = b.smin;
		div[n++] = smin64(b.smax, -1);
	}
	for (int i = 0; i < n; i++) {
		s128 q1 = (s128)a.smin / div[i], q2 = (s128)a.smax / div[i];
		s128 qlo = q1 < q2 ? q1 : q2, qhi = q1 < q2 ? q2 : q1;

		lo = !any || qlo < lo ? qlo : lo;
		hi = !any || qhi > hi ? qhi : hi;
		any = true;
	}
	if (b.smin <= 0 && b.smax >= 0) {
		lo = !any || lo > 0 ? 0 : lo;
		hi = !any || hi < 0 ? 0 : hi;
	}
	wrap_signed(&r, lo, hi, w);
	return r;
}

/*
 * x % y is below y and at most x; a zero divisor leaves x, and so does a
 * divisor above every dividend.  For one divisor, dividends that share
 * their quotient keep their order: x % y = x - q * y.
 */
static struct range range_mod(struct range a, struct range b, unsigned w)
{
	struct range r = range_full(w);

	if (b.umax == 0 || a.umax < b.umin)
		return a;
	if (b.umin == b.umax && a.umin / b.umin == a.umax / b.umin) {
		r.umin = a.umin % b.umin;
		r.umax = a.umax % b.umin;
		return r;
	}
	r.umax = b.umin ? umin64(a.umax, b.umax - 1) : a.umax;
	return r;
}

/*
 * x % y (truncating) has x's sign or is 0, and is no larger than x in
 * magnitude; when y cannot be 0 it is also smaller than |y|.  A zero
 * divisor leaves x, and x % -1 is 0.  As for the unsigned remainder, one
 * divisor keeps the order of dividends of one sign and one quotient.
 */
static struct range range_smod(struct range a, struct range b, unsigned w)
{
	struct range r = range_full(w);

	if (b.smin == 0 && b.smax == 0)
		return a;
	if (b.smin == b.smax && b.smin != -1 && (a.smin >= 0 || a.smax < 0) &&
	    a.smin / b.smin == a.smax / b.smin) {
		r.smin = a.smin % b.smin;
		r.smax = a.smax % b.smin;
		return r;
	}
	r.smin = smin64(a.smin, 0);
	r.smax = smax64(a.smax, 0);
	if (b.smin > 0 || b.smax < 0) {
		/* |y| - 1 for the largest |y|: at most 2^(w-1) - 1. */
		uint64_t mag = umax64(b.smin < 0 ? -(uint64_t)b.smin : (uint64_t)b.smin,
				      b.smax < 0 ? -(uint64_t)b.smax : (uint64_t)b.smax);
		int64_t lim = (int64_t)(mag - 1);

		r.smin = smax64(r.smin, -lim);
		r.smax = smin64(r.smax, lim);
	}
	return r;
}

/* Shifts by one count k (k < w). */
static struct range range_shift(enum scalar_op op, struct range a, unsigned k, unsigned w)
{
	struct range r = range_full(w);

	switch (op) {
	case SCALAR_LSH:
		wrap_unsigned(&r, (u128)a.umin << k, (u128)a.umax << k, w);
		wrap_signed(&r, (s128)a.smin * ((s128)1 << k), (s128)a.smax * ((s128)1 << k), w);
		break;
	case SCALAR_RSH:
		r.umin = a.umin >> k;
		r.umax = a.umax >> k;
		break;
	default: /* SCALAR_ARSH */
		r.smin = a.smin >> k;
		r.smax = a.smax >> k;
		break;
	}
	return r;
}

static struct tnum tnum_shift(enum scalar_op op, struct tnum a, unsigned k, unsigned w)
{
	switch (op) {
	case SCALAR_LSH:
		return tnum_trunc(tnum_lshift(a, k), w);
	case SCALAR_RSH:
		return tnum_rshift(a, k);
	default: /* SCALAR_ARSH */
		return tnum_arshift(a, k, w);
	}
}

/*
 * The run start, start + 1, ..., start + len, taken modulo 2^bits, as a
 * bits-wide range pair: each order keeps the run when it does not pass
 * that order's wrap point.
 */
static struct range cyclic_range(uint64_t start, uint64_t len, unsigned bits)
{
	struct range r = range_full(bits);
	uint64_t lo = start & umax_of(bits);
	int64_t slo = sext(start, bits);

	if (len > umax_of(bits))
		return r;
	if (lo + len <= umax_of(bits)) {
		r.umin = lo;
		r.umax = lo + len;
	}
	if (slo + (int64_t)len <= smax_of(bits)) {
		r.smin = slo;
		r.smax = slo + (int64_t)len;
	}
	return r;
}

/*
 * What the low bits bits (at most 32) of the members of r can be.  Each of
 * r's ranges is a run of consecutive numbers, and so are their low bits,
 * cyclically.
 */
static struct range project(struct range r, unsigned bits)
{
	return range_meet(cyclic_range(r.umin, r.umax - r.umin, bits),
			  cyclic_range((uint64_t)r.smin, (uint64_t)r.smax - (uint64_t)r.smin, bits));
}

/* The ranges of the low bits bits (8, 16, 32, 64) of s. */
static struct range low_range(struct scalar s, unsigned bits)
{
	if (bits == 64)
		return s.r64;
	return bits == 32 ? s.r32 : project(s.r32, bits);
}

/* ---- The reduction --------------------------------------------------- */

/*
 * Each bound moved onto the nearest member of the tnum t (w bits wide).
 * In the signed order the sign bit weighs the other way; with it flipped,
 * in the numbers and in t, the signed order is the unsigned one.
 */
static bool range_fit_bits(struct range *r, struct tnum t, unsigned w)
{
	uint64_t s = sign_bit(w), lo, hi;
	struct tnum flipped = TNUM(t.value ^ (s & ~t.mask), t.mask);

	if (!tnum_next(t, r->umin, &r->umin) || !tnum_prev(t, r->umax, &r->umax) ||
	    !tnum_next(flipped, ((uint64_t)r->smin & umax_of(w)) ^ s, &lo) ||
	    !tnum_prev(flipped, ((uint64_t)r->smax & umax_of(w)) ^ s, &hi))
		return false;
	r->smin = sext(lo ^ s, w);
	r->smax = sext(hi ^ s, w);
	return true;
}

/*
 * The unsigned and the signed range of one width, each narrowed to the
 * other.  Seen as unsigned numbers, the two orders agree on each half: the
 * non-negative numbers [0, 2^(w-1)) and the negative ones [2^(w-1), 2^w).
 * Intersected half by half the two ranges give at most two runs, and each
 * range becomes the hull of those runs in its own order: exact.
 */
static bool range_sync(struct range *r, unsigned w)
{
	uint64_t half = sign_bit(w);
	bool pos = r->smax >= 0 && r->umin < half;
	bool neg = r->smin < 0 && r->umax >= half;
	uint64_t plo = umax64(r->umin, (uint64_t)smax64(r->smin, 0));
	uint64_t phi = umin64(umin64(r->umax, half - 1), (uint64_t)r->smax);
	uint64_t nlo = umax64(umax64(r->umin, half), (uint64_t)r->smin & umax_of(w));
	uint64_t nhi = umin64(r->umax, (uint64_t)smin64(r->smax, -1) & umax_of(w));

	pos = pos && plo <= phi;
	neg = neg && nlo <= nhi;
	if (!pos && !neg)
		return false;
	r->umin = pos ? plo : nlo;
	r->umax = neg ? nhi : phi;
	r->smin = neg ? sext(nlo, w) : (int64_t)plo;
	r->smax = pos ? (int64_t)phi : sext(nhi, w);
	return true;
}

/*
 * The least number >= *v whose low half lies in the cyclic run start,
 * ..., start + len: *v itself, or the run's start in *v's high half or,
 * when that is below *v, in the next one.
 */
static bool raise_low(uint64_t *v, uint32_t start, uint32_t len)
{
	uint32_t low = (uint32_t)*v;
	uint64_t x = (*v & ~LOW32) | start;

	if ((uint32_t)(low - start) <= len)
		return true;
	if (start < low) {
		if (*v >> 32 == UINT32_MAX)
			return false;
		x += UINT64_C(1) << 32;
	}
	*v = x;
	return true;
}

/* The greatest number <= *v: complementing reverses the order and the run. */
static bool lower_low(uint64_t *v, uint32_t start, uint32_t len)
{
	uint64_t c = ~*v;

	if (!raise_low(&c, ~(start + len), len))
		return false;
	*v = ~c;
	return true;
}

/* The 64-bit bounds moved onto numbers whose low half lies in the run. */
static bool range_fit_low(struct range *r, uint32_t start, uint32_t len)
{
	uint64_t s = sign_bit(64);
	uint64_t smin = (uint64_t)r->smin ^ s, smax = (uint64_t)r->smax ^ s;

	if (!raise_low(&r->umin, start, len) || !lower_low(&r->umax, start, len) ||
	    !raise_low(&smin, start, len) || !lower_low(&smax, start, len))
		return false;
	r->smin = (int64_t)(smin ^ s);
	r->smax = (int64_t)(smax ^ s);
	return true;
}

static bool scalar_views_empty(struct scalar s)
{
	return tnum_is_empty(s.t) || range_empty(s.r64) || range_empty(s.r32);
}

/*
 * One round: each rule replaces a view by its intersection with what
 * another view implies, so every member stays and no view grows.
 *
 *   bits -> ranges   every bound moves to the nearest number the tnum holds
 *   unsigned <-> signed, in each width (range_sync, exact)
 *   64 -> 32         the low halves of a 64-bit run (project)
 *   32 -> 64         the 64-bit bounds move to numbers whose low half lies
 *                    in the 32-bit ranges (range_fit_low)
 *   ranges -> bits   the bits common to all numbers of each unsigned range
 *
 * Any view found empty makes the whole scalar bottom.
 */
struct scalar scalar_reduce_pass(struct scalar s)
{
	struct tnum low;

	if (scalar_views_empty(s) ||
	    !range_fit_bits(&s.r64, s.t, 64) ||
	    !range_fit_bits(&s.r32, tnum_trunc(s.t, 32), 32) ||
	    !range_sync(&s.r64, 64) || !range_sync(&s.r32, 32))
		return scalar_bottom();
	s.r32 = range_meet(s.r32, project(s.r64, 32));
	if (range_empty(s.r32) ||
	    !range_fit_low(&s.r64, (uint32_t)s.r32.umin, (uint32_t)(s.r32.umax - s.r32.umin)) ||
	    !range_fit_low(&s.r64, (uint32_t)s.r32.smin, (uint32_t)(s.r32.smax - s.r32.smin)) ||
	    range_empty(s.r64))
		return scalar_bottom();
	low = tnum_range(s.r32.umin, s.r32.umax);
	s.t = tnum_intersect(s.t, tnum_range(s.r64.umin, s.r64.umax));
	s.t = tnum_intersect(s.t, TNUM(low.value, low.mask | ~LOW32));
	return tnum_is_empty(s.t) ? scalar_bottom() : s;
}

/*
 * Why the loop ends: every round only narrows views (each rule intersects),
 * so the rounds form a descending chain of scalars; the loop stops at the
 * first round that changes nothing, and a descending chain of scalars
 * cannot be infinite because there are finitely many of them.
 *
 * How soon it ends: each rule is exact for the two views it joins (a bound
 * lands on the nearest admissible number in one step, the signed/unsigned
 * split is exact), so a further round only carries what one rule learned
 * after the rule that could use it had run.  Measured, at most two rounds
 * change anything: in the 811,560 reductions of tests/verifier/test_bounds.c
 * (which fails past two) and in 40 million random full-width scalars.
 */
struct scalar scalar_reduce(struct scalar s)
{
	struct scalar next = scalar_reduce_pass(s);

	while (!scalar_equal(next, s)) {
		s = next;
		next = scalar_reduce_pass(s);
	}
	return s;
}

/* ---- Constructors and relations ------------------------------------- */

struct scalar scalar_unknown(void)
{
	return (struct scalar){ TNUM_UNKNOWN, range_full(64), range_full(32) };
}

struct scalar scalar_const(uint64_t v)
{
	uint64_t low = v & LOW32;

	return (struct scalar){
		tnum_const(v),
		{ v, v, (int64_t)v, (int64_t)v },
		{ low, low, sext(low, 32), sext(low, 32) },
	};
}

struct scalar scalar_bottom(void)
{
	struct range none = { 1, 0, 1, 0 };

	return (struct scalar){ TNUM_EMPTY, none, none };
}

static bool range_equal(struct range a, struct range b)
{
	return a.umin == b.umin && a.umax == b.umax && a.smin == b.smin && a.smax == b.smax;
}

bool scalar_equal(struct scalar a, struct scalar b)
{
	return a.t.value == b.t.value && a.t.mask == b.t.mask &&
	       range_equal(a.r64, b.r64) && range_equal(a.r32, b.r32);
}

bool scalar_contains(struct scalar s, uint64_t x)
{
	uint64_t low = x & LOW32;

	return tnum_contains(s.t, x) &&
	       x >= s.r64.umin && x <= s.r64.umax &&
	       (int64_t)x >= s.r64.smin && (int64_t)x <= s.r64.smax &&
	       low >= s.r32.umin && low <= s.r32.umax &&
	       sext(low, 32) >= s.r32.smin && sext(low, 32) <= s.r32.smax;
}

struct scalar scalar_join(struct scalar a, struct scalar b)
{
	if (scalar_is_bottom(a))
		return b;
	if (scalar_is_bottom(b))
		return a;
	return scalar_reduce((struct scalar){ tnum_union(a.t, b.t), range_hull(a.r64, b.r64),
					      range_hull(a.r32, b.r32) });
}

bool scalar_within(struct scalar a, struct scalar b)
{
	if (scalar_is_bottom(a))
		return true;
	return !scalar_is_bottom(b) && tnum_in(b.t, a.t) && range_within(a.r64, b.r64) &&
	       range_within(a.r32, b.r32);
}

/* ---- ALU ------------------------------------------------------------- */

/* A width-bit operand or result: its bits (none above the width) and ranges. */
struct val {
	struct tnum t;
	struct range r;
};

static struct val low_val(struct scalar s, unsigned w)
{
	return w == 64 ? (struct val){ s.t, s.r64 } : (struct val){ tnum_trunc(s.t, 32), s.r32 };
}

/* A width-bit result as a register: a 32-bit one is zero-extended. */
static struct scalar from_val(struct val v, unsigned w)
{
	if (w == 64)
		return (struct scalar){ v.t, v.r, range_full(32) };
	return (struct scalar){
		v.t, { v.r.umin, v.r.umax, (int64_t)v.r.umin, (int64_t)v.r.umax }, v.r,
	};
}

static struct tnum tnum_second(struct tnum a, struct tnum b)
{
	(void)a;
	return b;
}

static struct range range_second(struct range a, struct range b, unsigned w)
{
	(void)a;
	(void)w;
	return b;
}

/*
 * The two-operand operations other than the shifts: what each does to the
 * bits and to the ranges of w-bit operands, and whether the low half of its
 * 64-bit result depends on the operands' low halves alone, in which case a
 * 64-bit operation's 32-bit ranges come from its operands' 32-bit ranges.
 */
static const struct alu_rule {
	struct tnum (*bits)(struct tnum, struct tnum); /* NULL: derived from the ranges */
	struct range (*ranges)(struct range, struct range, unsigned);
	bool low_half_alone;
} alu_rules[] = {
	[SCALAR_ADD] = { tnum_add, range_add, true },
	[SCALAR_SUB] = { tnum_sub, range_sub, true },
	[SCALAR_MUL] = { tnum_mul, range_mul, true },
	[SCALAR_DIV] = { NULL, range_div, false },
	[SCALAR_SDIV] = { NULL, range_sdiv, false },
	[SCALAR_MOD] = { NULL, range_mod, false },
	[SCALAR_SMOD] = { NULL, range_smod, false },
	[SCALAR_OR] = { tnum_or, range_or, true },
	[SCALAR_AND] = { tnum_and, range_and, true },
	[SCALAR_XOR] = { tnum_xor, range_xor, true },
	[SCALAR_MOV] = { tnum_second, range_second, true },
};

/*
 * A shift is exact for one count, so shift by every count the masked
 * count can be (at most w of them) and join the results.  When the count's
 * range lies below w, masking changes nothing and the range narrows the
 * counts too.
 */
static struct val shift(enum scalar_op op, struct val a, struct val b, unsigned w)
{
	struct tnum counts = TNUM(b.t.value & (w - 1), b.t.mask & (w - 1));
	struct val r = { TNUM_EMPTY, range_full(w) };
	uint64_t lo = 0, hi = w - 1, k;
	bool more;

	if (b.r.umax < w) {
		lo = b.r.umin;
		hi = b.r.umax;
	}
	for (more = tnum_next(counts, lo, &k); more && k <= hi;
	     more = k < hi && tnum_next(counts, k + 1, &k)) {
		struct val one = { tnum_shift(op, a.t, (unsigned)k, w),
				   range_shift(op, a.r, (unsigned)k, w) };

		if (tnum_is_empty(r.t))
			r = one;
		else
			r = (struct val){ tnum_union(r.t, one.t), range_hull(r.r, one.r) };
	}
	return r; /* no count at all: b was empty, and so is the result */
}

struct scalar scalar_alu(enum scalar_op op, struct scalar dst, struct scalar src,
			 unsigned width)
{
	const struct alu_rule *rule = &alu_rules[op];
	struct val a = low_val(dst, width), b = low_val(src, width);
	struct scalar r;

	assert(!scalar_is_bottom(dst) && !scalar_is_bottom(src));
	if (op == SCALAR_LSH || op == SCALAR_RSH || op == SCALAR_ARSH)
		return scalar_reduce(from_val(shift(op, a, b, width), width));
	r = from_val((struct val){ tnum_trunc(rule->bits ? rule->bits(a.t, b.t) : TNUM_UNKNOWN, width),
				   rule->ranges(a.r, b.r, width) },
		     width);
	if (width == 64 && rule->low_half_alone)
		r.r32 = rule->ranges(dst.r32, src.r32, 32);
	return scalar_reduce(r);
}

struct scalar scalar_neg(struct scalar dst, unsigned width)
{
	return scalar_alu(SCALAR_SUB, scalar_const(0), dst, width);
}

struct scalar scalar_movsx(struct scalar src, unsigned from, unsigned width)
{
	struct range low = low_range(src, from);
	struct val v = { tnum_trunc(tnum_sext(src.t, from), width), range_full(width) };

	/* The from-bit signed numbers are the same numbers once sign-extended. */
	v.r.smin = low.smin;
	v.r.smax = low.smax;
	return scalar_reduce(from_val(v, width));
}

struct scalar scalar_trunc(struct scalar s, unsigned bits)
{
	struct range low;
	struct val v;

	if (bits == 64)
		return s;
	low = low_range(s, bits);
	v = (struct val){ tnum_trunc(s.t, bits), low };
	if (bits < 32) /* a zero-extended 8- or 16-bit number is non-negative in 32 bits */
		v.r = (struct range){ low.umin, low.umax, (int64_t)low.umin, (int64_t)low.umax };
	return scalar_reduce(from_val(v, 32));
}

struct scalar scalar_bswap(struct scalar s, unsigned bits)
{
	return scalar_reduce((struct scalar){ tnum_bswap(s.t, bits), range_full(64), range_full(32) });
}

/* ---- Conditional jumps ----------------------------------------------- */

/*
 * a <= b, or a < b when strict, in the unsigned order of w-bit numbers:
 * a is at most b's largest, b at least a's least.  False when no pair fits.
 */
static bool order(uint64_t *alo, uint64_t *ahi, uint64_t *blo, uint64_t *bhi, bool strict,
		  unsigned w)
{
	if (strict && (*bhi == 0 || *alo == umax_of(w)))
		return false;
	*ahi = umin64(*ahi, *bhi - strict);
	*blo = umax64(*blo, *alo + strict);
	return *alo <= *ahi && *blo <= *bhi;
}

/* The same in the signed order, which is the unsigned one with the sign bit flipped. */
static bool order_signed(struct range *a, struct range *b, bool strict, unsigned w)
{
	uint64_t s = sign_bit(w), m = umax_of(w);
	uint64_t alo = ((uint64_t)a->smin & m) ^ s, ahi = ((uint64_t)a->smax & m) ^ s;
	uint64_t blo = ((uint64_t)b->smin & m) ^ s, bhi = ((uint64_t)b->smax & m) ^ s;

	if (!order(&alo, &ahi, &blo, &bhi, strict, w))
		return false;
	a->smin = sext(alo ^ s, w);
	a->smax = sext(ahi ^ s, w);
	b->smin = sext(blo ^ s, w);
	b->smax = sext(bhi ^ s, w);
	return true;
}

/* Take c out of [*lo, *hi] where it is an end; false when nothing is left. */
static bool shave(uint64_t *lo, uint64_t *hi, uint64_t c)
{
	if (*lo == c && *hi == c)
		return false;
	if (*lo == c)
		(*lo)++;
	else if (*hi == c)
		(*hi)--;
	return true;
}

/* a != c for a constant c: the ranges' ends can step past it. */
static bool exclude(struct range *r, uint64_t c, unsigned w)
{
	uint64_t slo = (uint64_t)r->smin, shi = (uint64_t)r->smax, sc = (uint64_t)sext(c, w);

	if (!shave(&r->umin, &r->umax, c))
		return false;
	/* Shaving the signed ends as unsigned is right: neither end moves past the other. */
	if (!shave(&slo, &shi, sc))
		return false;
	r->smin = (int64_t)slo;
	r->smax = (int64_t)shi;
	return true;
}

/* The w-bit part of s replaced by v (at width 32 the high half stays). */
static struct scalar put_low(struct scalar s, struct val v, unsigned w)
{
	if (w == 64) {
		s.t = v.t;
		s.r64 = v.r;
	} else {
		s.t = TNUM((s.t.value & ~LOW32) | v.t.value, (s.t.mask & ~LOW32) | v.t.mask);
		s.r32 = v.r;
	}
	return s;
}

/*
 * Narrow a and b (w-bit parts) by a <cmp> b, for the conditions that are not
 * mirror images of others.  False when no pair of members satisfies it.
 */
static bool narrow(enum scalar_cmp cmp, struct val *a, struct val *b, unsigned w)
{
	uint64_t may, a_sure = a->t.value, b_sure = b->t.value;

	switch (cmp) {
	case CMP_EQ:
		a->t = b->t = tnum_intersect(a->t, b->t);
		a->r = b->r = range_meet(a->r, b->r);
		return !tnum_is_empty(a->t) && !range_empty(a->r);
	case CMP_NE:
		return (!tnum_is_const(b->t) || exclude(&a->r, b->t.value, w)) &&
		       (!tnum_is_const(a->t) || exclude(&b->r, a->t.value, w));
	case CMP_SET:
		/* Some bit is 1 in both; when only one bit can be, it is that one. */
		may = (a->t.value | a->t.mask) & (b->t.value | b->t.mask);
		if (!may)
			return false;
		if (!(a_sure & b_sure) && !(may & (may - 1))) {
			a->t = tnum_or(a->t, tnum_const(may));
			b->t = tnum_or(b->t, tnum_const(may));
		}
		return true;
	case CMP_CLEAR:
		/* Where one surely has a 1, the other has a 0. */
		a->t = tnum_intersect(a->t, TNUM(0, ~b_sure));
		b->t = tnum_intersect(b->t, TNUM(0, ~a_sure));
		return !tnum_is_empty(a->t) && !tnum_is_empty(b->t);
	case CMP_LT:
	case CMP_LE:
		return order(&a->r.umin, &a->r.umax, &b->r.umin, &b->r.umax, cmp == CMP_LT, w);
	default: /* CMP_SLT, CMP_SLE */
		return order_signed(&a->r, &b->r, cmp == CMP_SLT, w);
	}
}

struct scalar_edge scalar_refine(enum scalar_cmp cmp, struct scalar dst, struct scalar src,
				 unsigned width)
{
	static const enum scalar_cmp mirror[] = {
		[CMP_GT] = CMP_LT, [CMP_GE] = CMP_LE, [CMP_SGT] = CMP_SLT, [CMP_SGE] = CMP_SLE,
	};
	struct val a = low_val(dst, width), b = low_val(src, width);
	struct scalar_edge e;

	assert(!scalar_is_bottom(dst) && !scalar_is_bottom(src));
	if (cmp == CMP_GT || cmp == CMP_GE || cmp == CMP_SGT || cmp == CMP_SGE) {
		/* dst > src is src < dst */
		e = scalar_refine(mirror[cmp], src, dst, width);
		return (struct scalar_edge){ e.src, e.dst };
	}
	if (!narrow(cmp, &a, &b, width))
		return (struct scalar_edge){ scalar_bottom(), scalar_bottom() };
	e.dst = put_low(dst, a, width);
	e.src = put_low(src, b, width);
	if (cmp == CMP_EQ && width == 64)
		e.dst.r32 = e.src.r32 = range_meet(dst.r32, src.r32);
	e.dst = scalar_reduce(e.dst);
	e.src = scalar_reduce(e.src);
	if (scalar_is_bottom(e.dst) || scalar_is_bottom(e.src))
		return (struct scalar_edge){ scalar_bottom(), scalar_bottom() };
	return e;
}

static enum scalar_cmp negate(enum scalar_cmp cmp)
{
	static const enum scalar_cmp opposite[] = {
		[CMP_EQ] = CMP_NE, [CMP_NE] = CMP_EQ, [CMP_SET] = CMP_CLEAR, [CMP_CLEAR] = CMP_SET,
		[CMP_GT] = CMP_LE, [CMP_GE] = CMP_LT, [CMP_LT] = CMP_GE, [CMP_LE] = CMP_GT,
		[CMP_SGT] = CMP_SLE, [CMP_SGE] = CMP_SLT, [CMP_SLT] = CMP_SGE, [CMP_SLE] = CMP_SGT,
	};

	return opposite[cmp];
}

struct scalar_branch scalar_branch(enum scalar_cmp cmp, struct scalar dst, struct scalar src,
				   unsigned width)
{
	return (struct scalar_branch){
		scalar_refine(cmp, dst, src, width),
		scalar_refine(negate(cmp), dst, src, width),
	};
}
