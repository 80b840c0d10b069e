/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_PROF_H
#define SLUICE_PROF_H

/* What kern.c and `sluice profile` (src/profile/sampler.c) share. */

#include <linux/types.h>

/* The kernel's PERF_MAX_STACK_DEPTH: a stack-trace map value holds this many addresses. */
#define PROF_STACK_DEPTH 127
#define PROF_COMM_LEN 16

/* One hash key per distinct (process, thread name, user stack, kernel stack). */
struct prof_key {
	__u32 pid;                 /* tgid */
	__s32 user_stack;          /* stack-trace map id, or -errno from bpf_get_stackid */
	__s32 kernel_stack;
	char comm[PROF_COMM_LEN];
};

/* prof_stats slots: samples the maps could not keep, counted, never silently lost. */
enum prof_stat {
	PROF_STAT_COUNTS_FULL,    /* the counts hash was full */
	PROF_STAT_MAX,
};

#endif
