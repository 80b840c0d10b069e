/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_INSN_H
#define SLUICE_INSN_H

#include <stddef.h>
#include <stdint.h>

#include <sluice/error.h>

/*
 * One 8-byte instruction slot, laid out exactly as RFC 9669 encodes it on a
 * little-endian host (and as the kernel's struct bpf_insn): a wide `lddw`
 * takes two slots, the second holding the upper 32 bits of its immediate.
 */
struct sluice_insn {
	uint8_t code;     /* opcode: class, then size/mode or operation and source */
	uint8_t dst : 4;  /* destination register */
	uint8_t src : 4;  /* source register, or a pseudo kind for calls and lddw */
	int16_t off;      /* memory offset, jump offset, or an opcode discriminator */
	int32_t imm;      /* immediate, helper id, or an opcode discriminator */
};

#define SLUICE_INSN_SIZE 8
#define SLUICE_MAX_REG 10        /* r10 is the read-only frame pointer */
#define SLUICE_STACK_SIZE 512    /* bytes of stack in each call frame */
#define SLUICE_MAX_CALL_FRAMES 8 /* main program plus seven nested local calls */

/*
 * Turn raw little-endian bytecode into instructions.  The length must be a
 * whole number of slots.  The result is not checked; see sluice_insns_check.
 * *out is malloc'ed and owned by the caller.
 */
int sluice_insns_decode(const void *bytes, size_t len, struct sluice_insn **out,
			size_t *count, struct sluice_error *err);

/*
 * Structural check of a program: every opcode is one the ISA table knows,
 * fields an instruction does not use are zero, registers exist, every `lddw`
 * has its second half, and every jump and local call lands on an instruction
 * inside the program (not on the second half of an `lddw`).  Returns 0 or
 * -EINVAL with "pc N: ..." in err.
 */
int sluice_insns_check(const struct sluice_insn *insns, size_t count,
		       struct sluice_error *err);

/* How many slots the instruction at insns[0] occupies: 2 for lddw, else 1. */
size_t sluice_insn_slots(const struct sluice_insn *insn);

#endif
