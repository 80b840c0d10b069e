/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_PROFILE_SAMPLER_H
#define SLUICE_PROFILE_SAMPLER_H

/*
 * Stack sampling in the kernel: one CPU-clock software event per CPU,
 * sampling at a frequency, with profile/kern.o attached to each through
 * libbpf.  The program records user and kernel stacks into a stack-trace
 * map and counts them per process; at the end the counts are read,
 * symbolised (symbols.h) and added to folded stacks, root first:
 *
 *   comm;main;work;leaf;entry_SYSCALL_64_[k];...;vfs_read_[k]
 *
 * Kernel frames carry flamegraph.pl's "_[k]" suffix.  Where /proc/kallsyms
 * is unreadable they are all "[kernel]" and report.kernel_note says why.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <sluice/error.h>

#include "profile/stacks.h"

struct prof_kernel_opts {
	const char *object;       /* the compiled profile/kern.c */
	pid_t pid;                /* its threads only; 0: every process */
	unsigned frequency;       /* samples per second per CPU */
	unsigned duration_ms;
	/* Set (by a signal handler) to stop early; may be NULL. */
	const volatile sig_atomic_t *stop;
};

struct prof_kernel_report {
	unsigned cpus;            /* CPUs sampled */
	uint64_t dropped;         /* not counted: the counts map was full */
	uint64_t stacks_lost;     /* stacks the stack-trace map could not keep */
	bool target_exited;       /* --pid's process ended before the duration */
	char kernel_note[SLUICE_ERRMSG_MAX + 64]; /* "" or why kernel frames are not named */
};

/*
 * 0, or a negative errno with err saying which step failed: -ESRCH for a
 * pid that does not exist; what perf_event_open or bpf() returned when the
 * kernel refuses (see prof_kernel_refused).
 */
int prof_kernel_sample(const struct prof_kernel_opts *opts, struct prof_stacks *out,
		       struct prof_kernel_report *report, struct sluice_error *err);

/* Whether ret says the kernel refused to sample (privileges, lockdown, no support). */
bool prof_kernel_refused(int ret);

#endif
