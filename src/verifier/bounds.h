/* SPDX-License-Identifier: MIT */
/*
 * The scalar domain: what the verifier knows about a number in a register.
 *
 * Five views of the same 64-bit value x, each a set that x lies in:
 *
 *     t               its bits (a tnum, see tnum.h)
 *     r64.umin..umax  x as an unsigned 64-bit number
 *     r64.smin..smax  x as a signed 64-bit number
 *     r32.umin..umax  its low 32 bits as an unsigned number
 *     r32.smin..smax  its low 32 bits as a signed number
 *
 * x is a member when it lies in all five.  Each view can say what another
 * cannot: that x is even (t), that x <= 100 (unsigned), that -4 <= x <= 4
 * (signed: unsigned it is 0..4 or 2^64-4..2^64-1, so the unsigned range
 * says nothing), that the low half of x is below 16 whatever the high half
 * holds (32-bit).  scalar_reduce is the one place where the views learn
 * from one another; every operation ends with it.
 *
 * Everything here follows the runtime semantics of Sluice's interpreter
 * (src/interp_loop.h), because the verifier must describe what runs:
 * division by zero gives 0, modulo by zero leaves the dividend, INT_MIN / -1
 * wraps to INT_MIN (and INT_MIN % -1 is 0), shift counts are masked to the
 * width, and 32-bit operations zero-extend their result.
 *
 * Operations take and return scalars by value and never allocate.  Their
 * operands must not be bottom (the empty scalar: an unreachable state).
 */
#ifndef SLUICE_VERIFIER_BOUNDS_H
#define SLUICE_VERIFIER_BOUNDS_H

#include <stdbool.h>
#include <stdint.h>

#include "tnum.h"

/*
 * A width-bit number as an unsigned and as a signed range, both inclusive.
 * For the 32-bit ranges, umin and umax are below 2^32 and smin and smax lie
 * in [INT32_MIN, INT32_MAX].
 */
struct range {
	uint64_t umin, umax;
	int64_t smin, smax;
};

struct scalar {
	struct tnum t;
	struct range r64;
	struct range r32;
};

/* The operations of the ALU classes that take two operands. */
enum scalar_op {
	SCALAR_ADD, SCALAR_SUB, SCALAR_MUL,
	SCALAR_DIV, SCALAR_SDIV, SCALAR_MOD, SCALAR_SMOD,
	SCALAR_OR, SCALAR_AND, SCALAR_XOR,
	SCALAR_LSH, SCALAR_RSH, SCALAR_ARSH,
	SCALAR_MOV,
};

/*
 * Conditions of the conditional jumps, dst <cond> src.  CMP_CLEAR
 * (dst & src == 0) is no instruction: it is what the fall-through of jset
 * learns.
 */
enum scalar_cmp {
	CMP_EQ, CMP_NE, CMP_SET, CMP_CLEAR,
	CMP_GT, CMP_GE, CMP_LT, CMP_LE,    /* unsigned */
	CMP_SGT, CMP_SGE, CMP_SLT, CMP_SLE, /* signed */
};

struct scalar scalar_unknown(void);
struct scalar scalar_const(uint64_t v);
/* The empty scalar, which every view of has no member. */
struct scalar scalar_bottom(void);

static inline bool scalar_is_bottom(struct scalar s)
{
	return s.r64.umin > s.r64.umax;
}

static inline bool scalar_is_const(struct scalar s)
{
	return tnum_is_const(s.t);
}

/* Do all five views hold x? */
bool scalar_contains(struct scalar s, uint64_t x);
bool scalar_equal(struct scalar a, struct scalar b);

/*
 * The reduction: every view narrowed by what the others know, until
 * nothing changes.  It never loses a member and never widens a view; it
 * returns bottom when the views have no member in common.  See bounds.c
 * for the rules and why the loop ends.
 */
struct scalar scalar_reduce(struct scalar s);
/* One round of scalar_reduce's loop (which repeats it to the fixed point). */
struct scalar scalar_reduce_pass(struct scalar s);

/* Join (for merging states): every member of either. */
struct scalar scalar_join(struct scalar a, struct scalar b);
/* Is every member of a a member of b?  (For pruning; views compared one by one.) */
bool scalar_within(struct scalar a, struct scalar b);

/*
 * dst <op> src at width 64 or 32.  At width 32 only the low halves take
 * part and the result is zero-extended.  SCALAR_MOV returns src (its low
 * half, zero-extended, at width 32).
 */
struct scalar scalar_alu(enum scalar_op op, struct scalar dst, struct scalar src,
			 unsigned width);
/* -dst at width 64 or 32. */
struct scalar scalar_neg(struct scalar dst, unsigned width);
/*
 * movsx: the low from bits (8, 16, 32) sign-extended to width (32 or 64,
 * more than from), then zero-extended from width.
 */
struct scalar scalar_movsx(struct scalar src, unsigned from, unsigned width);
/*
 * The low bits bits (8, 16, 32, 64) zero-extended: le16/le32/le64 on a
 * little-endian host, mov32, and what a zero-extending load of that size
 * gives from an unknown value.
 */
struct scalar scalar_trunc(struct scalar s, unsigned bits);
/* The low bits bits (16, 32, 64) byte-swapped and zero-extended: bswap, be. */
struct scalar scalar_bswap(struct scalar s, unsigned bits);

/*
 * A conditional jump between two scalars at width 64 or 32 (jmp32: only
 * the low halves are compared).  Each edge holds what the operands can be
 * when control takes it; an edge that no pair of members can take holds
 * bottom for both.  An edge whose dst is bottom is never taken, so the
 * branch is always or never taken.
 */
struct scalar_edge {
	struct scalar dst, src;
};

struct scalar_branch {
	struct scalar_edge taken, fallthrough;
};

struct scalar_edge scalar_refine(enum scalar_cmp cmp, struct scalar dst,
				 struct scalar src, unsigned width);
struct scalar_branch scalar_branch(enum scalar_cmp cmp, struct scalar dst,
				   struct scalar src, unsigned width);

#endif
