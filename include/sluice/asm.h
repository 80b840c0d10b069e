/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_ASM_H
#define SLUICE_ASM_H

#include <stddef.h>

#include <sluice/insn.h>

/*
 * Assemble text in the syntax of the bpf_conformance suite:
 *
 *     mov %r0, 0          ; 64-bit ALU, `mov32` for 32-bit
 *     ldxw %r1, [%r2+4]   ; loads, stores, `lock [fetch] add [%r10-8], %r1`
 *     jne %r0, 15, fail   ; jump to a label or to +N / -N slots
 *     call local func     ; bpf-to-bpf call, `call 5` for a helper
 *     fail:
 *
 * `#` starts a comment.  `filename` only names the input in error messages
 * ("prog.s:3: unknown register '%r11'").  *out is malloc'ed and owned by the
 * caller.
 */
int sluice_asm(const char *text, size_t len, const char *filename,
	       struct sluice_insn **out, size_t *count, struct sluice_error *err);

#endif
