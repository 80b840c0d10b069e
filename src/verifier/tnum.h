/* SPDX-License-Identifier: MIT */
/*
 * Tristate numbers: what the verifier knows about each bit of a 64-bit value.
 *
 * A tnum is a pair (value, mask).  A bit set in mask is unknown (x); a bit
 * clear in mask is known and equals that bit of value.  Bits of value under
 * the mask are always 0, so one (value, mask) pair stands for exactly one set
 * of numbers, its members:
 *
 *     x is a member of (value, mask)  <=>  (x & ~mask) == value
 *
 *     (0b100, 0b011) is 1xx = {4, 5, 6, 7}
 *
 * Every operation below is sound: applied to members of its operands, the
 * concrete operation gives a member of its result.  Where a result holds
 * more than the concrete results, the function's comment shows an example.
 * The functions are pure and take and return the pair by value.
 *
 * Widths: the functions work on all 64 bits.  A 32-bit operation is the
 * 64-bit one on tnum_trunc(x, 32) operands, truncated again, except for the
 * arithmetic right shift, which is told the width.
 *
 * The empty tnum (no members) only comes out of tnum_intersect; every other
 * function expects non-empty operands.
 *
 * References: the kernel's include/linux/tnum.h and kernel/bpf/tnum.c (the
 * same domain); Vishwanathan, Shachnai, Narayana, Nagarakatte, "Sound,
 * Precise, and Fast Abstract Interpretation with Tristate Numbers", CGO 2022
 * (the soundness and optimality of add and sub, and the multiplication).
 */
#ifndef SLUICE_VERIFIER_TNUM_H
#define SLUICE_VERIFIER_TNUM_H

#include <stdbool.h>
#include <stdint.h>

struct tnum {
	uint64_t value; /* the known bits; 0 where unknown */
	uint64_t mask;  /* the unknown bits */
};

#define TNUM(v, m) ((struct tnum){ .value = (v), .mask = (m) })
#define TNUM_UNKNOWN TNUM(0, UINT64_MAX)
/* Value and mask overlap: a pair no well-formed tnum has. */
#define TNUM_EMPTY TNUM(UINT64_MAX, UINT64_MAX)

static inline struct tnum tnum_const(uint64_t v)
{
	return TNUM(v, 0);
}

static inline bool tnum_is_empty(struct tnum a)
{
	return (a.value & a.mask) != 0;
}

static inline bool tnum_is_const(struct tnum a)
{
	return a.mask == 0;
}

static inline bool tnum_is_unknown(struct tnum a)
{
	return a.mask == UINT64_MAX;
}

static inline bool tnum_contains(struct tnum a, uint64_t x)
{
	return (x & ~a.mask) == a.value;
}

/* The least and the greatest member, as unsigned numbers. */
static inline uint64_t tnum_umin(struct tnum a)
{
	return a.value;
}

static inline uint64_t tnum_umax(struct tnum a)
{
	return a.value | a.mask;
}

/* Is every member of b a member of a?  (b within a; both non-empty.) */
static inline bool tnum_in(struct tnum a, struct tnum b)
{
	return (b.mask & ~a.mask) == 0 && (b.value & ~a.mask) == a.value;
}

/*
 * Is every member a multiple of size (a power of two)?  Only known-zero low
 * bits count: 1x0 holds 4 and 6, so it is 2-aligned but not 4-aligned.
 */
static inline bool tnum_is_aligned(struct tnum a, uint64_t size)
{
	return ((a.value | a.mask) & (size - 1)) == 0;
}

/*
 * The smallest tnum holding every number in [min, max] (min <= max): the
 * common high bits are known, everything below the first difference is not.
 * Imprecise for most ranges: [3, 4] gives xxx, all of 0..7.
 */
struct tnum tnum_range(uint64_t min, uint64_t max);

/*
 * Exactly the members of both, or TNUM_EMPTY when a known bit of one
 * contradicts a known bit of the other.
 */
struct tnum tnum_intersect(struct tnum a, struct tnum b);

/*
 * The join, for merging states: every member of either.  Bits known alike
 * in both stay known, all others become unknown, so more comes in than was
 * in either: 001 and 010 give 0xx, which also holds 0 and 3.
 */
struct tnum tnum_union(struct tnum a, struct tnum b);

/*
 * The low bits bits (8, 16, 32 or 64) of each member, the rest known zero:
 * what a narrow load, le16/le32 or a 32-bit move leaves.  Exact.
 */
struct tnum tnum_trunc(struct tnum a, unsigned bits);

/*
 * The members sign-extended from bit bits - 1 (movsx).  Optimal, but an
 * unknown sign bit makes every copy of it an independent unknown: 8-bit
 * x0000000 holds 0 and 0x80, which extend to 0 and 0xff...ff80, and the
 * result x...x0000000 holds 2^57 numbers.
 */
struct tnum tnum_sext(struct tnum a, unsigned bits);

/*
 * The low bits bits (16, 32 or 64) of each member with their bytes in the
 * opposite order, zero-extended (bswap, or be on a little-endian host).  Exact.
 */
struct tnum tnum_bswap(struct tnum a, unsigned bits);

/*
 * Shifts by a known amount (shift < 64; for arshift, shift < width).
 * The logical shifts are exact: they move the known and unknown bits
 * alike.  tnum_arshift treats the members as width-bit signed numbers
 * (width 32 or 64) and returns them zero-extended; it is optimal, but an
 * unknown sign bit fills the vacated bits with independent unknowns, as in
 * tnum_sext: 32-bit x000...0 >> 2 holds two numbers, and is xxx000...0.
 */
struct tnum tnum_lshift(struct tnum a, unsigned shift);
struct tnum tnum_rshift(struct tnum a, unsigned shift);
struct tnum tnum_arshift(struct tnum a, unsigned shift, unsigned width);

/*
 * Bitwise operations: each bit of the result depends on the same bit of the
 * operands only, so the best tnum is exact per bit and these are optimal.
 * They still lose the relations between bits: x ^ x is 0, but
 * tnum_xor(x, x) for x = 00x is 00x.
 */
struct tnum tnum_and(struct tnum a, struct tnum b);
struct tnum tnum_or(struct tnum a, struct tnum b);
struct tnum tnum_xor(struct tnum a, struct tnum b);

/*
 * Addition and subtraction modulo 2^64, optimal (the smallest tnum holding
 * every sum; CGO 2022, theorems 2 and 3).  Optimal is not exact: a carry
 * that may or may not happen makes a run of bits unknown.  00x + 001 holds
 * only 1 and 2, but the result is 0xx, all of 0..3.
 */
struct tnum tnum_add(struct tnum a, struct tnum b);
struct tnum tnum_sub(struct tnum a, struct tnum b);
struct tnum tnum_neg(struct tnum a);

/*
 * Multiplication modulo 2^64 (CGO 2022, "our_mul"): the known parts are
 * multiplied exactly and the unknown partial products are summed with
 * tnum_add.  Sound, not optimal: 11 * x1 holds 3 and 9 (0011, 1001), the
 * best tnum is x0x1, and tnum_mul gives xxx1.
 */
struct tnum tnum_mul(struct tnum a, struct tnum b);

/*
 * The least member >= x (tnum_next) or the greatest member <= x (tnum_prev)
 * in *out; false when there is none.  Exact: this is how a range's bounds
 * are moved onto numbers the tnum can hold (with x = 3 and a = x0x, 4).
 */
bool tnum_next(struct tnum a, uint64_t x, uint64_t *out);
bool tnum_prev(struct tnum a, uint64_t x, uint64_t *out);

#endif
