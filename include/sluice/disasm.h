/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_DISASM_H
#define SLUICE_DISASM_H

#include <stddef.h>

#include <sluice/insn.h>

enum sluice_disasm_style {
	SLUICE_DISASM_ASM,  /* the assembler's own syntax: round-trips exactly */
	SLUICE_DISASM_LLVM, /* kernel / llvm-objdump style: r0 = *(u32 *)(r1 + 4) */
};

/*
 * Write the instruction at insns[pc] into buf as one line without a newline.
 * Returns the number of slots it took (1, or 2 for lddw) or a negative errno
 * when the slot cannot be decoded (the text then says why).
 */
int sluice_disasm_insn(const struct sluice_insn *insns, size_t count, size_t pc,
		       enum sluice_disasm_style style, char *buf, size_t buflen);

/*
 * The whole program, one instruction per line.  *text is malloc'ed and owned
 * by the caller.
 */
int sluice_disasm(const struct sluice_insn *insns, size_t count,
		  enum sluice_disasm_style style, char **text,
		  struct sluice_error *err);

#endif
