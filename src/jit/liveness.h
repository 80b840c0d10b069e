/* SPDX-License-Identifier: MIT */
/*
 * What the JIT knows of the registers before it emits anything.
 *
 * Liveness: which BPF registers may still be read.  The JIT uses it to
 * skip work whose result nothing reads: zeroing a register no path reads
 * before writing it, and the spare copy in a rotation (see jit_x86.c).
 *
 * The constant r1 of helper calls: a map helper whose map is known where
 * the program is compiled is compiled for that map (inline for arrays), as
 * the kernel's verifier records the map of each call site for its JIT.
 */
#ifndef SLUICE_JIT_LIVENESS_H
#define SLUICE_JIT_LIVENESS_H

#include <stddef.h>
#include <stdint.h>

#include <sluice/insn.h>

/*
 * For a checked program (sluice_insns_check), count + 1 masks into *live:
 * bit r of live[pc] is set when rN may be read, on some path from the
 * instruction at pc, before anything writes it.  live[count], past the
 * end, is 0; so is the second slot of an lddw.  Sound rather than exact:
 * a local call counts as reading every register, an exit in a program
 * that makes local calls as reading r0-r5 (a caller may), a helper call
 * and a legacy packet load as writing r0 only.  *live is malloc'ed;
 * returns 0 or -ENOMEM.
 */
int jit_liveness(const struct sluice_insn *insns, size_t count, uint16_t **live);

/*
 * For a checked program, count entries into *r1: at a helper call (call
 * by id), the value r1 holds there when on every path from the start it
 * is the same lddw immediate (a map the runtime patched in, say); 0 when
 * it is not (paths disagree, some other instruction wrote r1, or no path
 * from the start reaches the call: callbacks, which the JIT never enters)
 * and at every other instruction.
 * *r1 is malloc'ed; returns 0 or -ENOMEM.
 */
int jit_call_r1(const struct sluice_insn *insns, size_t count, uint64_t **r1);

#endif
