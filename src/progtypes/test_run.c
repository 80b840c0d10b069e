/* SPDX-License-Identifier: MIT */
/*
 * BPF_PROG_TEST_RUN: the dispatch by program type, the steps every type
 * shares, and the types whose context is the caller's bytes (raw
 * tracepoints, syscall programs), as net/bpf/test_run.c runs them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "context.h"
#include "errmsg.h"
#include "progtypes/progtypes.h"

/* bpf_check_uarg_tail_zero's limit on what a caller may pass in */
#define TEST_CTX_MAX 4096u
/* MAX_BPF_FUNC_ARGS u64 arguments */
#define RAW_TP_CTX_MAX (12u * 8)
#define SYSCALL_CTX_MAX 65535u

int test_ctx_init(const struct sluice_test_run *t, void *ctx, uint32_t size, bool *have,
		  struct sluice_error *err)
{
	const uint8_t *in = t->ctx_in;

	memset(ctx, 0, size);
	*have = t->ctx_in || t->ctx_out;
	if (!t->ctx_in)
		return 0;
	if (t->ctx_size_in > TEST_CTX_MAX)
		return sluice_fail(err, E2BIG, "ctx_in: %u bytes, at most %u", t->ctx_size_in,
				   TEST_CTX_MAX);
	/* a larger context than the kernel knows is fine while the rest is zero */
	for (uint32_t i = size; i < t->ctx_size_in; i++)
		if (in[i])
			return sluice_fail(err, E2BIG,
					   "ctx_in: byte %u is past the %u-byte context and not zero",
					   i, size);
	memcpy(ctx, in, t->ctx_size_in < size ? t->ctx_size_in : size);
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int test_repeat(struct rt_run *run, struct sluice_test_run *t, uint32_t *retval,
		struct sluice_error *err)
{
	uint32_t repeat = t->repeat ? t->repeat : 1;
	const struct rt_prog *prog = run->prog;
	uint64_t start = now_ns(), mean;

	for (uint32_t i = 0; i < repeat; i++) {
		uint64_t r0;
		int ret;

		/* the tail call count restarts; the packet is what the last run left */
		run->tail_calls = 0;
		ret = rt_exec(run, prog, &r0, err);
		if (ret < 0)
			return ret;
		*retval = (uint32_t)r0;
	}
	mean = (now_ns() - start) / repeat;
	t->duration_ns = mean > UINT32_MAX ? UINT32_MAX : (uint32_t)mean;
	t->redirect_ifindex = run->redirect_ifindex;
	t->redirect_flags = run->redirect_flags;
	return 0;
}

int test_finish(struct sluice_test_run *t, const void *data, uint32_t size,
		const struct xdp_rt *frags, uint32_t retval, struct sluice_error *err)
{
	uint32_t frags_len = frags ? frags->frags_len : 0, total = size + frags_len;
	uint32_t copy = total, at;
	int ret = 0;

	/* without a size hint the whole packet is copied, as the kernel always did */
	if (t->data_size_out && copy > t->data_size_out) {
		copy = t->data_size_out;
		ret = sluice_fail(err, ENOSPC, "data_out: the packet is %u bytes, room for %u",
				  total, t->data_size_out);
	}
	/* room for less than the fragments: nothing is written, not even the sizes */
	if (t->data_out && copy < frags_len)
		return ret;
	/* the linear part gives way to the fragments, which come whole */
	if (t->data_out && copy - frags_len)
		memcpy(t->data_out, data, copy - frags_len);
	at = copy - frags_len;
	for (uint32_t i = 0; t->data_out && frags && i < frags->nr_frags && at < copy; i++) {
		uint32_t n = frags->frag_size[i] < copy - at ? frags->frag_size[i] : copy - at;

		memcpy((uint8_t *)t->data_out + at, frags->frags + (size_t)i * RT_XDP_FRAME_SIZE, n);
		at += n;
	}
	t->data_size_out = total;
	t->retval = retval;
	return ret;
}

int test_ctx_finish(struct sluice_test_run *t, const void *ctx, uint32_t size,
		    struct sluice_error *err)
{
	uint32_t copy = size;
	int ret = 0;

	if (!t->ctx_out)
		return 0;
	if (copy > t->ctx_size_out) {
		copy = t->ctx_size_out;
		ret = sluice_fail(err, ENOSPC, "ctx_out: the context is %u bytes, room for %u",
				  size, t->ctx_size_out);
	}
	memcpy(t->ctx_out, ctx, copy);
	t->ctx_size_out = size;
	return ret;
}

/* bpf_prog_test_run_raw_tp and bpf_prog_test_run_syscall: the context is ctx_in's bytes. */
static int raw_ctx_test_run(struct rt_run *run, struct sluice_test_run *t, uint32_t ctx_max,
			    struct sluice_error *err)
{
	const struct rt_prog *prog = run->prog;
	const struct sluice_insn *insns;
	bool syscall = rt_prog_type(prog) == BPF_PROG_TYPE_SYSCALL;
	uint32_t max_off = 0;
	size_t count;
	uint64_t r0;
	int ret;

	if (t->data_in || t->data_out || t->ctx_out || t->repeat)
		return sluice_fail(err, EINVAL, "this program type takes only ctx_in");
	if (syscall && t->flags)
		return sluice_fail(err, EINVAL, "syscall programs take no flags");
	if (!syscall && (t->flags & ~BPF_F_TEST_RUN_ON_CPU))
		return sluice_fail(err, EINVAL, "flags 0x%x: only BPF_F_TEST_RUN_ON_CPU", t->flags);
	if (!syscall && !(t->flags & BPF_F_TEST_RUN_ON_CPU) && t->cpu)
		return sluice_fail(err, EINVAL, "cpu %u without BPF_F_TEST_RUN_ON_CPU", t->cpu);
	if (!syscall && t->cpu >= (uint32_t)sysconf(_SC_NPROCESSORS_ONLN))
		return sluice_fail(err, ENXIO, "cpu %u is not online", t->cpu);
	/* struct sluice_rt_prog is the runtime's struct rt_prog (rt_prog_of) */
	insns = rt_prog_insns(prog, &count);
	ret = ctx_max_offset(rt_prog_type(prog), rt_prog_expected_attach_type(prog), insns,
			     count, &max_off, err);
	if (ret < 0)
		return ret;
	if (t->ctx_size_in < max_off || t->ctx_size_in > ctx_max)
		return sluice_fail(err, EINVAL,
				   "ctx_size_in %u: the program reads %u bytes of context, at most %u",
				   t->ctx_size_in, max_off, ctx_max);
	run->ctx = NULL;
	run->ctx_size = t->ctx_size_in;
	if (t->ctx_size_in) {
		run->ctx = malloc(t->ctx_size_in);
		if (!run->ctx)
			return sluice_fail(err, ENOMEM, "out of memory");
		memcpy(run->ctx, t->ctx_in, t->ctx_size_in);
	}
	ret = rt_exec(run, prog, &r0, err);
	if (ret == 0)
		t->retval = (uint32_t)r0;
	free(run->ctx);
	run->ctx = NULL;
	return ret;
}

int progtype_test_run(struct rt_run *run, struct sluice_test_run *t,
		      struct sluice_error *err)
{
	uint32_t type = rt_prog_type(run->prog);

	switch (type) {
	case BPF_PROG_TYPE_XDP:
		return xdp_test_run(run, t, err);
	case BPF_PROG_TYPE_SCHED_CLS:
	case BPF_PROG_TYPE_SCHED_ACT:
	case BPF_PROG_TYPE_SOCKET_FILTER:
	case BPF_PROG_TYPE_CGROUP_SKB:
		return skb_test_run(run, t, err);
	case BPF_PROG_TYPE_RAW_TRACEPOINT:
		return raw_ctx_test_run(run, t, RAW_TP_CTX_MAX, err);
	case BPF_PROG_TYPE_SYSCALL:
		return raw_ctx_test_run(run, t, SYSCALL_CTX_MAX, err);
	case BPF_PROG_TYPE_LWT_IN:
	case BPF_PROG_TYPE_LWT_OUT:
	case BPF_PROG_TYPE_LWT_XMIT:
	case BPF_PROG_TYPE_FLOW_DISSECTOR:
	case BPF_PROG_TYPE_SK_LOOKUP:
	case BPF_PROG_TYPE_TRACING:
	case BPF_PROG_TYPE_STRUCT_OPS:
		return sluice_fail(err, SLUICE_ENOTSUPP,
				   "BPF_PROG_TEST_RUN of program type %u: the kernel runs it, "
				   "Sluice does not yet", type);
	default:
		return sluice_fail(err, SLUICE_ENOTSUPP,
				   "program type %u has no BPF_PROG_TEST_RUN", type);
	}
}
