/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_INTERP_H
#define SLUICE_INTERP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sluice/error.h>
#include <sluice/helpers.h>
#include <sluice/insn.h>

/*
 * The interpreter: a program prepared once (sluice_vm_new) and run many
 * times (sluice_vm_exec).  Dispatch is threaded: each instruction is
 * translated up front into the address of its handler.
 */
struct sluice_vm;

struct sluice_vm_opts {
	size_t sz; /* sizeof(struct sluice_vm_opts), for later growth */
	const struct sluice_helpers *helpers; /* may be NULL: no helper calls */
	/*
	 * Test every load and store against the memory the run was given
	 * (its regions and the live stack frames); an access outside them
	 * stops the program with -EFAULT and a message naming pc and address.
	 */
	bool checked;
	/* Stop with -ELOOP after this many instructions; 0 means no limit. */
	uint64_t insn_budget;
	/*
	 * Count the instructions each run executes (sluice_exec.executed).
	 * Implied by checked and insn_budget; without any of the three the
	 * interpreter runs its fastest variant, which does not count.
	 */
	bool count;
};

/* A piece of memory a program may touch in checked mode. */
struct sluice_region {
	const char *name; /* used in error messages: "mem", "packet", ... */
	const void *base;
	uint64_t size;
	bool writable;
};

struct sluice_exec {
	size_t sz;        /* sizeof(struct sluice_exec) */
	uint64_t args[5]; /* r1..r5 at entry */
	const struct sluice_region *regions;
	size_t nregions;
	/* The packet that the legacy LD_ABS / LD_IND instructions read. */
	const void *packet;
	size_t packet_len;
	/*
	 * Where its link-layer and network headers start, at or before packet
	 * in the same buffer: LD_ABS / LD_IND offsets in the kernel's
	 * SKF_LL_OFF and SKF_NET_OFF ranges read from them.  NULL: those
	 * offsets are outside, as every other negative one.
	 */
	const void *packet_ll;
	const void *packet_net;
	void *user;        /* handed to helpers through sluice_run_user */
	uint64_t executed; /* out: instructions executed, when counted (see opts) */
	/*
	 * The instruction to start at, 0 for the program's first.  A callback
	 * (bpf_loop's, bpf_for_each_map_elem's) starts at its subprogram, in a
	 * fresh frame, with args as its r1..r5.  Interpreter only.
	 */
	size_t entry;
	/*
	 * Out, while the run is inside a helper: the interpreter's stack frames,
	 * so that a callback the helper runs (checked, in a run of its own) can
	 * be allowed the caller's stack it was handed pointers into.
	 */
	void *stack;
	size_t stack_size;
	/*
	 * Checked mode: asked about an access that no region holds, for memory
	 * that appears while the program runs (the inner map a lookup in a map
	 * of maps hands out).  NULL: such an access faults.
	 */
	bool (*allows)(void *user, uint64_t addr, uint64_t size, bool write);
};

/*
 * Prepare a program: it is checked structurally (sluice_insns_check) and
 * every helper it calls must be registered.  The instructions are copied.
 */
struct sluice_vm *sluice_vm_new(const struct sluice_insn *insns, size_t count,
				const struct sluice_vm_opts *opts,
				struct sluice_error *err);
void sluice_vm_free(struct sluice_vm *vm);

/*
 * Run the program once; *r0 receives its result.  Errors: -EFAULT (checked
 * mode: access outside every region, misaligned atomic), -ELOOP (budget
 * spent), -E2BIG (local calls nested deeper than SLUICE_MAX_CALL_FRAMES),
 * -ENOENT (callx to an id with no helper), -EINVAL (fell off the end).
 */
int sluice_vm_exec(struct sluice_vm *vm, struct sluice_exec *exec,
		   uint64_t *r0, struct sluice_error *err);

#endif
