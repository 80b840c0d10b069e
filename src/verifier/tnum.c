/* SPDX-License-Identifier: MIT */
/* Tristate numbers; see tnum.h for the domain and each function's precision. */
#include "tnum.h"

/* All ones below bit bits (bits <= 64). */
static uint64_t low_ones(unsigned bits)
{
	return bits >= 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
}

struct tnum tnum_range(uint64_t min, uint64_t max)
{
	uint64_t differ = min ^ max;
	uint64_t below;

	if (!differ)
		return tnum_const(min);
	/* Every bit from the highest difference down can take either value. */
	below = low_ones(64 - (unsigned)__builtin_clzll(differ));
	return TNUM(min & ~below, below);
}

struct tnum tnum_intersect(struct tnum a, struct tnum b)
{
	uint64_t mask = a.mask & b.mask;

	if ((a.value ^ b.value) & ~a.mask & ~b.mask)
		return TNUM_EMPTY;
	return TNUM((a.value | b.value) & ~mask, mask);
}

struct tnum tnum_union(struct tnum a, struct tnum b)
{
	uint64_t mask = a.mask | b.mask | (a.value ^ b.value);

	return TNUM(a.value & ~mask, mask);
}

struct tnum tnum_trunc(struct tnum a, unsigned bits)
{
	return TNUM(a.value & low_ones(bits), a.mask & low_ones(bits));
}

struct tnum tnum_sext(struct tnum a, unsigned bits)
{
	unsigned up = 64 - bits;

	/* The arithmetic shift copies the sign bit, known or not, upwards. */
	return TNUM((uint64_t)((int64_t)(a.value << up) >> up),
		    (uint64_t)((int64_t)(a.mask << up) >> up));
}

static uint64_t bswap(uint64_t x, unsigned bits)
{
	switch (bits) {
	case 16:
		return __builtin_bswap16((uint16_t)x);
	case 32:
		return __builtin_bswap32((uint32_t)x);
	default:
		return __builtin_bswap64(x);
	}
}

struct tnum tnum_bswap(struct tnum a, unsigned bits)
{
	return TNUM(bswap(a.value, bits), bswap(a.mask, bits));
}

struct tnum tnum_lshift(struct tnum a, unsigned shift)
{
	return TNUM(a.value << shift, a.mask << shift);
}

struct tnum tnum_rshift(struct tnum a, unsigned shift)
{
	return TNUM(a.value >> shift, a.mask >> shift);
}

struct tnum tnum_arshift(struct tnum a, unsigned shift, unsigned width)
{
	/* Sign-extend from the width, shift all 64 bits, cut back to the width. */
	struct tnum wide = tnum_sext(a, width);

	wide = TNUM((uint64_t)((int64_t)wide.value >> shift),
		    (uint64_t)((int64_t)wide.mask >> shift));
	return tnum_trunc(wide, width);
}

struct tnum tnum_and(struct tnum a, struct tnum b)
{
	/* A result bit can be 1 where both can; it is surely 1 where both are. */
	uint64_t may = (a.value | a.mask) & (b.value | b.mask);
	uint64_t sure = a.value & b.value;

	return TNUM(sure, may & ~sure);
}

struct tnum tnum_or(struct tnum a, struct tnum b)
{
	uint64_t sure = a.value | b.value;
	uint64_t mask = (a.mask | b.mask) & ~sure;

	return TNUM(sure, mask);
}

struct tnum tnum_xor(struct tnum a, struct tnum b)
{
	uint64_t mask = a.mask | b.mask;

	return TNUM((a.value ^ b.value) & ~mask, mask);
}

/*
 * The sum of the least members and the sum of the greatest members differ,
 * bit by bit, exactly where some pair of members could carry differently;
 * those bits and the operands' unknown bits are the unknown bits of the sum.
 */
struct tnum tnum_add(struct tnum a, struct tnum b)
{
	uint64_t low = a.value + b.value;
	uint64_t high = low + a.mask + b.mask;
	uint64_t mask = (low ^ high) | a.mask | b.mask;

	return TNUM(low & ~mask, mask);
}

/*
 * The same for a difference: the largest minus the smallest and the smallest
 * minus the largest bound the borrows that can differ.
 */
struct tnum tnum_sub(struct tnum a, struct tnum b)
{
	uint64_t diff = a.value - b.value;
	uint64_t high = diff + a.mask;
	uint64_t low = diff - b.mask;
	uint64_t mask = (high ^ low) | a.mask | b.mask;

	return TNUM(diff & ~mask, mask);
}

struct tnum tnum_neg(struct tnum a)
{
	return tnum_sub(tnum_const(0), a);
}

/*
 * Long multiplication by the bits of a, low to high.  The products of the
 * known parts make one exact number; every bit of a that is 1 adds b's
 * unknown part, every unknown bit of a adds all that b may hold, and those
 * uncertain partial products are summed with tnum_add.
 */
struct tnum tnum_mul(struct tnum a, struct tnum b)
{
	uint64_t exact = a.value * b.value;
	struct tnum uncertain = tnum_const(0);

	while (a.value | a.mask) {
		if (a.value & 1)
			uncertain = tnum_add(uncertain, TNUM(0, b.mask));
		else if (a.mask & 1)
			uncertain = tnum_add(uncertain, TNUM(0, b.value | b.mask));
		a = tnum_rshift(a, 1);
		b = tnum_lshift(b, 1);
	}
	return tnum_add(tnum_const(exact), uncertain);
}

/*
 * Find the highest bit where x breaks a known bit of a.  The answer keeps
 * x's bits above some position j, sets bit j where x has 0, and takes a's
 * least bits below j.  The least such j at or above that highest broken
 * bit where a allows a 1 gives the least member: at a lower j the answer
 * would still break the known bit, and any member above x must differ
 * from x first at such a j.
 */
bool tnum_next(struct tnum a, uint64_t x, uint64_t *out)
{
	uint64_t broken = (x ^ a.value) & ~a.mask;
	uint64_t rise, above;
	unsigned j;

	if (!broken) {
		*out = x;
		return true;
	}
	rise = ~x & (a.value | a.mask) & ~low_ones(63 - (unsigned)__builtin_clzll(broken));
	if (!rise)
		return false;
	j = (unsigned)__builtin_ctzll(rise);
	above = ~low_ones(j + 1);
	*out = (x & above) | (UINT64_C(1) << j) | (a.value & low_ones(j));
	return true;
}

/*
 * Complementing every bit reverses the order, and turns the members of a
 * into the members of (~value, mask): the greatest member <= x is the
 * complement of the least complemented member >= ~x.
 */
bool tnum_prev(struct tnum a, uint64_t x, uint64_t *out)
{
	struct tnum flipped = TNUM(~a.value & ~a.mask, a.mask);

	if (!tnum_next(flipped, ~x, out))
		return false;
	*out = ~*out;
	return true;
}
