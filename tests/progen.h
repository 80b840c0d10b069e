/* SPDX-License-Identifier: MIT */
/*
 * progen: random, structured BPF programs for differential and property
 * tests.  Every program it makes is valid and terminates:
 *
 *   - control flow is structured: conditional jumps go forward over a
 *     then-block (and an else-block), loops go back to their top a bounded
 *     number of times, counted on the stack;
 *   - local calls only go to functions after the caller's, so the depth
 *     stays under SLUICE_MAX_CALL_FRAMES, and every function ends in `exit`;
 *   - memory accesses stay inside the input (r1, opts.input_size bytes) or
 *     the 64 bytes below r10 each function zeroes first; atomics are
 *     aligned;
 *   - no register is read before it holds a value that does not depend on
 *     where memory is: pointers are used only as the base of an access, and
 *     r1-r5 count as lost after a helper call, as the BPF calling
 *     convention has it.
 *
 * So any two correct engines return the same r0, leave the same input
 * bytes, and make the same helper calls with the same arguments.
 *
 * What the programs contain: ALU operations of both widths on values
 * chosen to hit the edges (0, -1, INT_MIN, shifts past the width, division
 * and modulo by zero and INT_MIN / -1), sign-extending moves, byte swaps,
 * lddw, rotations spelled as clang spells them, loads and stores of every
 * size to the stack and the input, through
 * r10 and the input pointer and through other registers holding pointers,
 * every atomic operation, ld_abs and ld_ind on the input as the packet
 * (now and then out of bounds, which ends the program with r0 = 0),
 * conditional jumps of every kind, bounded loops, local calls, and calls
 * of the two helpers below by id and through callx.
 */
#ifndef SLUICE_TESTS_PROGEN_H
#define SLUICE_TESTS_PROGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sluice/insn.h>

/* The most slots a program takes. */
#define PROGEN_MAX_INSNS 4096
/* The most local functions beside the main program. */
#define PROGEN_MAX_FUNCS 6

/*
 * The helpers programs call, by id; the test registers them.  Any
 * behaviour is fine as long as it depends only on r1-r5 (and may call
 * sluice_run_stop): the programs treat r0 as data afterwards.
 */
enum { PROGEN_HELPER_A = 1, PROGEN_HELPER_B = 2 };

struct progen_opts {
	size_t input_size;   /* bytes at r1 and in the packet: a multiple of 8, at least 16 */
	unsigned statements; /* about how many statements the main program has */
	unsigned max_funcs;  /* local functions beside main, at most PROGEN_MAX_FUNCS */
	bool helpers;        /* call the PROGEN_HELPER_* helpers */
};

/* Fill out with the program for seed; returns its length in slots. */
size_t progen_generate(uint64_t seed, const struct progen_opts *opts,
		       struct sluice_insn out[PROGEN_MAX_INSNS]);

/*
 * A straight-line block of about `statements` ALU instructions of both
 * widths (edge immediates, shifts by counts past the width, division by
 * zero, byte swaps, rotations) that reads and writes only the registers in
 * regs (r0-r9), for generators that need scalars computed in varied ways
 * (tests/verifier/vgen.c).  Registers in live already hold values the
 * block mixes in; the others get a constant before they are read.  Returns
 * the slots written.
 */
#define PROGEN_MAX_ALU_STATEMENTS 16
/* Each statement takes at most 5 slots (a rotation), plus 2 per lddw of a constant. */
#define PROGEN_MAX_ALU_BLOCK (PROGEN_MAX_ALU_STATEMENTS * 9)
size_t progen_alu_block(uint64_t seed, unsigned regs, unsigned live, unsigned statements,
			struct sluice_insn out[PROGEN_MAX_ALU_BLOCK]);

#endif
