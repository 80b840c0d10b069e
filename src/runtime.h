/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_RUNTIME_INTERNAL_H
#define SLUICE_RUNTIME_INTERNAL_H

/*
 * What the runtime (runtime.c) shares with the helpers (helpers/) and the
 * program types (progtypes/): the state of one run, which every helper
 * reaches through sluice_run_user(run), and the calls to run a program.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sluice/interp.h>
#include <sluice/runtime.h>

struct rt_fib;

/* A loaded program: what helpers and program types may ask of it. */
struct rt_prog;

uint32_t rt_prog_type(const struct rt_prog *prog);
uint32_t rt_prog_expected_attach_type(const struct rt_prog *prog);
const struct rt_prog *rt_prog_of(const struct sluice_rt_prog *prog);
/* As the engines run them: maps patched, context rewritten. */
const struct sluice_insn *rt_prog_insns(const struct rt_prog *prog, size_t *count);

/*
 * The state of one run: the `user` of every sluice_exec the runtime starts,
 * shared by the programs a run tail-calls.
 */
struct rt_run {
	struct sluice_rt *rt;
	const struct rt_prog *prog;  /* the program running now */
	unsigned cpu;
	uint32_t tail_calls;         /* taken so far (the kernel allows 33) */
	/* r1: the runtime's context (struct xdp_rt, struct skb_rt, raw bytes) */
	void *ctx;
	size_t ctx_size;
	/* The whole packet buffer, headroom and tailroom included: checked mode's region. */
	uint8_t *buf;
	size_t buf_size;
	/*
	 * What LD_ABS / LD_IND read (skb->data, skb->len for the types that
	 * have them); a helper that moves the packet updates both.
	 */
	const uint8_t *ld_data;
	size_t ld_len;
	/* Their link-layer and network headers (SKF_LL_OFF, SKF_NET_OFF), or NULL. */
	const uint8_t *ld_ll;
	const uint8_t *ld_net;
	/* bpf_redirect, bpf_redirect_map, bpf_clone_redirect set these. */
	uint32_t redirect_ifindex;
	uint64_t redirect_flags;
	/* The exec in progress, so a helper that moves the packet updates ld_abs' view. */
	struct sluice_exec *exec;
	/* A nested run (tail call, callback) failed: what the whole run reports. */
	int fault;
	struct sluice_error fault_err;
};

/*
 * For a helper whose nested run (rt_exec, rt_call_subprog) returned ret < 0:
 * end the program now, and make the outermost run fail with err, as a
 * checked fault anywhere must not pass for a result.
 */
void rt_fault(struct sluice_run *run, int ret, const struct sluice_error *err);

/*
 * Run prog once with r1 = run->ctx on the engine it was prepared for, the
 * run's packet and maps as checked mode's regions.  run->prog is prog while
 * it runs.  Tail calls go through here too.
 */
int rt_exec(struct rt_run *run, const struct rt_prog *prog, uint64_t *r0,
	    struct sluice_error *err);

/*
 * Call a callback (bpf_loop's, bpf_for_each_map_elem's): fn is what the
 * program's `lddw rX, func` left in the register, r1..r5 its arguments.
 * It runs in the interpreter, in a fresh frame, sharing the run.  -EINVAL
 * when fn is not a function of the running program.  In checked mode the
 * callback may touch what its caller could, the caller's stack, and extra
 * (memory the helper hands it, such as a key; may be NULL).
 */
int rt_call_subprog(struct rt_run *run, uint64_t fn, const uint64_t args[5],
		    const struct sluice_region *extra, uint64_t *r0,
		    struct sluice_error *err);

/* The loaded program a prog array's slot names, NULL when none. */
const struct rt_prog *rt_prog_by_id(const struct sluice_rt *rt, uint32_t id);

/*
 * Whether map is a map handle of this runtime (a helper's argument check):
 * for verified programs the verifier proved it, and the answer is yes.
 */
bool rt_owns_map(const struct sluice_rt *rt, const struct sluice_map *map);

/* bpf_trace_printk's sink, one line without its newline. */
void rt_trace(const struct sluice_rt *rt, const char *line);

/* The routes bpf_fib_lookup consults (helpers/fib.c). */
struct rt_fib *rt_fib(const struct sluice_rt *rt);

#endif
