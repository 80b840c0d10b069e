/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_PROFILE_RTSAMPLE_H
#define SLUICE_PROFILE_RTSAMPLE_H

/*
 * Sampling a BPF program in Sluice's user-space runtime, where the kernel
 * refuses to sample (no perf_event, no bpf()): the program runs JIT-compiled
 * in this process, over and over, while a CPU-time timer (SIGPROF) samples
 * where this process is.
 *
 * The runtime's JIT code (sluice_rt_prog_jit) and its instruction offsets
 * (sluice_jit_offsets) say which BPF instruction a sample in that code is
 * at; a sample in a helper is found by the helper call's return address on the stack (the
 * nearest word pointing into the code); local calls (bpf-to-bpf) push their
 * return addresses at a fixed distance (the JIT's call sequence, 48 bytes
 * per frame), which gives the BPF call chain.  Nothing in the interpreter or
 * the JIT changes, and nothing runs between samples.
 *
 * Folded stacks, root first: "sluice", then the BPF functions (names from
 * the object's BTF func_info), then the leaf's source line ("kern.c:42",
 * from BTF line_info) and, in a helper, the helper's name and the
 * runtime's C function it was in.  Samples outside the program (the runtime
 * setting up each run) are "sluice;[runtime];" and that C function.
 *
 * The sampler takes SIGPROF and SIGALRM (the end of the duration) while it
 * runs, and gives them back as they were: one sampling at a time per process.
 */
#include <signal.h>
#include <stdint.h>

#include <sluice/error.h>
#include <sluice/object.h>
#include <sluice/runtime.h>

#include "profile/stacks.h"

struct prof_rt_opts {
	struct sluice_rt *rt;            /* loaded with the JIT engine */
	struct sluice_rt_prog *prog;
	const struct sluice_object *obj; /* its object: BTF for function names */
	const struct sluice_prog *src;   /* the object's program: func_info, line_info */
	unsigned frequency;              /* samples per CPU second */
	unsigned duration_ms;            /* wall time */
	/* One round of work (every packet once): 0, or a negative errno to stop with. */
	int (*run)(void *ctx, struct sluice_error *err);
	void *run_ctx;
	const volatile sig_atomic_t *stop; /* may be NULL */
};

struct prof_rt_report {
	uint64_t rounds;  /* calls of run */
	uint64_t samples;
	uint64_t dropped; /* samples beyond the buffer */
};

int prof_rt_sample(const struct prof_rt_opts *opts, struct prof_stacks *out,
		   struct prof_rt_report *report, struct sluice_error *err);

#endif
