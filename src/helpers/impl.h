/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_HELPERS_IMPL_H
#define SLUICE_HELPERS_IMPL_H

/*
 * The runtime's helper implementations, one family a file (maps.c, misc.c,
 * trace.c, events.c, packet.c, fib.c), each listing what it implements by
 * id.  Names and prototypes come from helper_table.h; a family only says
 * which function runs.
 */
#include <stddef.h>
#include <stdint.h>

#include <sluice/helpers.h>

#include "runtime.h"

struct helper_impl {
	uint32_t id;          /* BPF_FUNC_* */
	sluice_helper_fn fn;
};

struct helper_family {
	const struct helper_impl *impls;
	size_t count;
};

extern const struct helper_family helpers_maps;    /* map_*, for_each, tail_call */
extern const struct helper_family helpers_misc;    /* time, random, cpu, loop, spin locks */
extern const struct helper_family helpers_trace;   /* trace_printk, probe_read, current task, stacks */
extern const struct helper_family helpers_events;  /* ringbuf, perf_event_output */
extern const struct helper_family helpers_packet;  /* xdp_adjust, skb_*, csum, redirect */
extern const struct helper_family helpers_fib;     /* fib_lookup */

/*
 * A registry with every implemented helper a program of prog_type may call
 * (helper_allowed), under the prototype table's names.
 */
struct sluice_helpers *helpers_for_prog_type(uint32_t prog_type, struct sluice_error *err);

/* The run a helper was called from. */
static inline struct rt_run *helper_run(struct sluice_run *run)
{
	return (struct rt_run *)sluice_run_user(run);
}

/* r0 for a kernel-style result: 0, a count, or a negative errno. */
static inline uint64_t helper_result(long ret)
{
	return (uint64_t)(int64_t)ret;
}

/*
 * The map a helper's argument names, NULL when it is not one of the run's:
 * a verified program cannot pass anything else, an unverified one must get
 * an error rather than have a stray pointer followed.
 */
static inline struct sluice_map *helper_map(struct sluice_run *run, uint64_t arg)
{
	struct sluice_map *map = (struct sluice_map *)(uintptr_t)arg;

	return rt_owns_map(helper_run(run)->rt, map) ? map : NULL;
}

#endif
