/* SPDX-License-Identifier: MIT */
/*
 * The map helpers, bpf_for_each_map_elem and bpf_tail_call, over the
 * program side of include/sluice/maps.h.
 *
 * A map argument is the struct sluice_map * the runtime patched into the
 * program's `lddw`.  A verified program cannot pass anything else, but the
 * runtime also runs unverified ones: a pointer that is not one of the
 * run's maps gets -EINVAL (NULL from the helpers that return a pointer,
 * which have no errno to give) instead of being followed.
 */
#include <errno.h>

#include <linux/bpf.h>

#include <sluice/maps.h>

#include "helpers/impl.h"
#include "maps/map.h"

/* The kernel's MAX_TAIL_CALL_CNT: tail calls one run may take. */
#define MAX_TAIL_CALL_CNT 33

static uint64_t map_lookup_elem(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				uint64_t r5, struct sluice_run *run)
{
	struct sluice_map *map = helper_map(run, r1);

	(void)r3, (void)r4, (void)r5;
	if (!map)
		return 0;
	return (uintptr_t)sluice_map_elem_lookup(map, (const void *)(uintptr_t)r2,
						 helper_run(run)->cpu);
}

static uint64_t map_update_elem(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				uint64_t r5, struct sluice_run *run)
{
	struct sluice_map *map = helper_map(run, r1);

	(void)r5;
	if (!map)
		return helper_result(-EINVAL);
	return helper_result(sluice_map_elem_update(map, (const void *)(uintptr_t)r2,
						   (const void *)(uintptr_t)r3, r4,
						   helper_run(run)->cpu));
}

static uint64_t map_delete_elem(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				uint64_t r5, struct sluice_run *run)
{
	struct sluice_map *map = helper_map(run, r1);

	(void)r3, (void)r4, (void)r5;
	if (!map)
		return helper_result(-EINVAL);
	return helper_result(sluice_map_elem_delete(map, (const void *)(uintptr_t)r2));
}

static uint64_t map_push_elem(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
			      uint64_t r5, struct sluice_run *run)
{
	struct sluice_map *map = helper_map(run, r1);

	(void)r4, (void)r5;
	if (!map)
		return helper_result(-EINVAL);
	return helper_result(sluice_map_push(map, (const void *)(uintptr_t)r2, r3));
}

static uint64_t map_pop_elem(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
			     uint64_t r5, struct sluice_run *run)
{
	struct sluice_map *map = helper_map(run, r1);

	(void)r3, (void)r4, (void)r5;
	if (!map)
		return helper_result(-EINVAL);
	return helper_result(sluice_map_pop(map, (void *)(uintptr_t)r2));
}

static uint64_t map_peek_elem(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
			      uint64_t r5, struct sluice_run *run)
{
	struct sluice_map *map = helper_map(run, r1);

	(void)r3, (void)r4, (void)r5;
	if (!map)
		return helper_result(-EINVAL);
	return helper_result(sluice_map_peek(map, (void *)(uintptr_t)r2));
}

static bool percpu_type(uint32_t type)
{
	return type == BPF_MAP_TYPE_PERCPU_ARRAY || type == BPF_MAP_TYPE_PERCPU_HASH ||
	       type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

/* Another CPU's value: only per-CPU maps have one (the verifier's check). */
static uint64_t map_lookup_percpu_elem(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				       uint64_t r5, struct sluice_run *run)
{
	struct sluice_map *map = helper_map(run, r1);

	(void)r4, (void)r5;
	if (!map || !percpu_type(map->type) || (uint32_t)r3 >= map->ncpus)
		return 0;
	return (uintptr_t)sluice_map_elem_lookup(map, (const void *)(uintptr_t)r2, (uint32_t)r3);
}

struct for_each_call {
	struct sluice_run *run;
	uint64_t callback;
	uint64_t callback_ctx;
	int fault;
	struct sluice_error err;
};

/* A callback's verdict: 0 goes on, 1 stops (the verifier allows no other). */
static long for_each_visit(struct sluice_map *map, const void *key, void *value, void *ctx)
{
	struct for_each_call *call = ctx;
	const uint64_t args[5] = { (uintptr_t)map, (uintptr_t)key, (uintptr_t)value,
				   call->callback_ctx, 0 };
	/* an array's key lives in the map code's frame, not in the map */
	const struct sluice_region key_region = { "key", key, map->key_size, false };
	uint64_t r0;

	call->fault = rt_call_subprog(helper_run(call->run), call->callback, args, &key_region,
				      &r0, &call->err);
	return call->fault < 0 || r0 != 0;
}

/*
 * A callback that faults (checked mode, a bad function) cannot be undone
 * half-way: the program ends there, and the run fails with the fault.
 */
static uint64_t for_each_map_elem(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				  uint64_t r5, struct sluice_run *run)
{
	struct sluice_map *map = helper_map(run, r1);
	struct for_each_call call = { .run = run, .callback = r2, .callback_ctx = r3 };
	long visited;

	(void)r5;
	if (!map)
		return helper_result(-EINVAL);
	visited = sluice_map_for_each(map, for_each_visit, &call, r4, helper_run(run)->cpu);
	if (call.fault < 0)
		rt_fault(run, call.fault, &call.err);
	return helper_result(visited);
}

/*
 * The target runs to its end inside this call, on the same context, and
 * its result becomes the caller's: the caller stops after the helper
 * returns, as the kernel's tail call never returns to it.  An empty slot
 * or a spent budget returns, and the caller goes on.  A target that faults
 * fails the whole run, as a faulting callback does.
 */
static uint64_t tail_call(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
			  struct sluice_run *run)
{
	struct rt_run *rt_run = helper_run(run);
	struct sluice_map *prog_array = helper_map(run, r2);
	struct sluice_error err = { 0 };
	const struct rt_prog *target;
	uint64_t r0;
	int ret;

	(void)r1, (void)r4, (void)r5;
	if (!prog_array || rt_run->tail_calls >= MAX_TAIL_CALL_CNT)
		return 0;
	target = rt_prog_by_id(rt_run->rt, sluice_map_prog_id(prog_array, (uint32_t)r3));
	if (!target)
		return 0;
	rt_run->tail_calls++;
	ret = rt_exec(rt_run, target, &r0, &err);
	if (ret < 0)
		rt_fault(run, ret, &err);
	else
		sluice_run_stop(run, r0);
	return 0;
}

static const struct helper_impl impls[] = {
	{ BPF_FUNC_map_lookup_elem, map_lookup_elem },
	{ BPF_FUNC_map_update_elem, map_update_elem },
	{ BPF_FUNC_map_delete_elem, map_delete_elem },
	{ BPF_FUNC_map_push_elem, map_push_elem },
	{ BPF_FUNC_map_pop_elem, map_pop_elem },
	{ BPF_FUNC_map_peek_elem, map_peek_elem },
	{ BPF_FUNC_map_lookup_percpu_elem, map_lookup_percpu_elem },
	{ BPF_FUNC_for_each_map_elem, for_each_map_elem },
	{ BPF_FUNC_tail_call, tail_call },
};

const struct helper_family helpers_maps = { impls, sizeof(impls) / sizeof(impls[0]) };
