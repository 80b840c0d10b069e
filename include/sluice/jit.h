/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_JIT_H
#define SLUICE_JIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sluice/error.h>
#include <sluice/helpers.h>
#include <sluice/insn.h>
#include <sluice/interp.h>

/*
 * The x86-64 JIT (x86-64 hosts only): a program compiled once to machine code (sluice_jit_new)
 * and run many times (sluice_jit_exec) with the same struct sluice_exec as
 * the interpreter, and the same results.
 *
 * It runs verified or trusted programs: loads and stores go straight to
 * memory, unchecked (checked mode is the interpreter's), and it neither counts
 * instructions nor enforces a budget (sluice_exec.executed stays 0).
 */
struct sluice_jit;
struct sluice_map;

struct sluice_jit_opts {
	size_t sz; /* sizeof(struct sluice_jit_opts), for later growth */
	const struct sluice_helpers *helpers; /* may be NULL: no helper calls */
	/*
	 * Constant blinding, against JIT spraying: every immediate the program
	 * chose reaches the machine code only XORed with a random key, and is
	 * rebuilt at run time with a second XOR, so a program cannot plant
	 * chosen bytes in executable memory.  It costs one or two instructions
	 * per immediate.
	 */
	bool blind_constants;
	/*
	 * The maps whose addresses the program's lddw immediates may hold (a
	 * loader's, patched in; may be NULL).  A bpf_map_lookup_elem whose r1 is
	 * the same one of them on every path is compiled for that map, as the
	 * kernel's JIT does with its verifier's record of each call site: an
	 * array's lookup inline (bounds check, multiply, add), the others'
	 * as a direct call to the map's own lookup.  NULL entries are skipped.
	 */
	struct sluice_map *const *maps;
	size_t nmaps;
};

/*
 * Compile a program: it is checked structurally (sluice_insns_check) and
 * every helper it calls must be registered.  NULL with errno and err set on
 * failure.
 */
struct sluice_jit *sluice_jit_new(const struct sluice_insn *insns, size_t count,
				  const struct sluice_jit_opts *opts,
				  struct sluice_error *err);
void sluice_jit_free(struct sluice_jit *jit);

/*
 * Run the program once; *r0 receives its result.  Errors, with the
 * interpreter's messages: -E2BIG (local calls nested deeper than
 * SLUICE_MAX_CALL_FRAMES), -ENOENT (callx to an id with no helper), -EINVAL
 * (fell off the end).
 */
int sluice_jit_exec(struct sluice_jit *jit, struct sluice_exec *exec,
		    uint64_t *r0, struct sluice_error *err);

/*
 * The compiled program as a plain C function, r0 = fn(r1, r2, r3, r4, r5),
 * for hot loops that call it directly, as DPDK's rte_bpf_get_jit and the
 * kernel's bpf_func do.  Only a program that cannot fail and needs no run
 * context has one: no helper call, callx, local call, ld_abs or ld_ind,
 * and a last instruction that is exit or ja.  NULL for any other.
 */
typedef uint64_t (*sluice_jit_fn)(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				  uint64_t r5);
sluice_jit_fn sluice_jit_function(const struct sluice_jit *jit);

/* The machine code, starting at its entry point; *len receives its size. */
const uint8_t *sluice_jit_code(const struct sluice_jit *jit, size_t *len);

/*
 * Where each instruction's machine code starts: count + 1 offsets into the
 * code, *count receiving the program's slot count.  The instruction at pc
 * occupies [offsets[pc], offsets[pc + slots]); offsets[0] ends the entry
 * code and offsets[count] starts the exits (falling off the end, errors).
 * Instructions compiled together (a rotation spelled in five) share the
 * first one's code: the others' ranges are empty.
 */
const uint32_t *sluice_jit_offsets(const struct sluice_jit *jit, size_t *count);

#endif
