/* SPDX-License-Identifier: MIT */
/*
 * Events to user space: the ring buffer helpers and bpf_perf_event_output,
 * over include/sluice/maps.h's ring buffer and perf event array.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bpf.h>

#include <sluice/maps.h>

#include "helpers/impl.h"
#include "progtypes/progtypes.h"

static uint64_t ringbuf_output(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
			       uint64_t r5, struct sluice_run *run)
{
	struct sluice_map *map = helper_map(run, r1);

	(void)r5;
	if (!map)
		return helper_result(-EINVAL);
	return helper_result(sluice_ringbuf_output(map, (const void *)(uintptr_t)r2, r3, r4));
}

/* A record to fill, or NULL (full, too big, bad flags, not one of the run's maps). */
static uint64_t ringbuf_reserve(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				uint64_t r5, struct sluice_run *run)
{
	struct sluice_map *map = helper_map(run, r1);

	(void)r4, (void)r5;
	if (!map)
		return 0;
	return (uintptr_t)sluice_ringbuf_reserve(map, r2, r3);
}

static uint64_t ringbuf_submit(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
			       uint64_t r5, struct sluice_run *run)
{
	(void)r3, (void)r4, (void)r5, (void)run;
	sluice_ringbuf_submit((void *)(uintptr_t)r1, r2);
	return 0;
}

static uint64_t ringbuf_discard(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				uint64_t r5, struct sluice_run *run)
{
	(void)r3, (void)r4, (void)r5, (void)run;
	sluice_ringbuf_discard((void *)(uintptr_t)r1, r2);
	return 0;
}

static uint64_t ringbuf_query(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
			      uint64_t r5, struct sluice_run *run)
{
	struct sluice_map *map = helper_map(run, r1);

	(void)r3, (void)r4, (void)r5;
	if (!map)
		return helper_result(-EINVAL);
	return sluice_ringbuf_query(map, r2);
}

/* The packet of the run, for the types whose perf_event_output can append it. */
static bool run_packet(const struct rt_run *run, const uint8_t **data, uint64_t *len)
{
	switch (rt_prog_type(run->prog)) {
	case BPF_PROG_TYPE_XDP: {
		const struct xdp_rt *xdp = run->ctx;

		*data = xdp->data;
		*len = (uint64_t)(xdp->data_end - xdp->data);
		return true;
	}
	case BPF_PROG_TYPE_SOCKET_FILTER:
	case BPF_PROG_TYPE_SCHED_CLS:
	case BPF_PROG_TYPE_SCHED_ACT:
	case BPF_PROG_TYPE_CGROUP_SKB: {
		const struct skb_rt *skb = run->ctx;

		*data = skb->data;
		*len = skb->md.len;
		return true;
	}
	default:
		return false;
	}
}

/*
 * bpf_perf_event_output(ctx, map, flags, data, size).  The packet types
 * (bpf_skb_event_output, bpf_xdp_event_output) take the length of packet
 * to append to the record in flags' BPF_F_CTXLEN_MASK; the others take
 * only the index bits.
 */
static uint64_t perf_event_output(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				  uint64_t r5, struct sluice_run *run)
{
	struct rt_run *rt_run = helper_run(run);
	struct sluice_map *map = helper_map(run, r2);
	uint64_t ctx_len = (r3 & BPF_F_CTXLEN_MASK) >> 32, pkt_len;
	const void *data = (const void *)(uintptr_t)r4;
	const uint8_t *pkt;
	uint8_t *record;
	long ret;

	(void)r1;
	if (!map)
		return helper_result(-EINVAL);
	if (!run_packet(rt_run, &pkt, &pkt_len) || !(r3 & BPF_F_CTXLEN_MASK))
		return helper_result(sluice_perf_event_output(map, r3, rt_run->cpu, data, r5));
	if (r3 & ~(BPF_F_CTXLEN_MASK | BPF_F_INDEX_MASK))
		return helper_result(-EINVAL);
	if (ctx_len > pkt_len)
		return helper_result(-EFAULT);
	/* a perf record's size is 16 bits: the map refuses more, copy nothing that big */
	if (r5 > UINT16_MAX || r5 + ctx_len > UINT16_MAX)
		return helper_result(-E2BIG);
	record = malloc(r5 + ctx_len);
	if (!record)
		return helper_result(-ENOMEM);
	memcpy(record, data, r5);
	memcpy(record + r5, pkt, ctx_len);
	ret = sluice_perf_event_output(map, r3 & BPF_F_INDEX_MASK, rt_run->cpu, record,
				       r5 + ctx_len);
	free(record);
	return helper_result(ret);
}

static const struct helper_impl impls[] = {
	{ BPF_FUNC_ringbuf_output, ringbuf_output },
	{ BPF_FUNC_ringbuf_reserve, ringbuf_reserve },
	{ BPF_FUNC_ringbuf_submit, ringbuf_submit },
	{ BPF_FUNC_ringbuf_discard, ringbuf_discard },
	{ BPF_FUNC_ringbuf_query, ringbuf_query },
	{ BPF_FUNC_perf_event_output, perf_event_output },
};

const struct helper_family helpers_events = { impls, sizeof(impls) / sizeof(impls[0]) };
