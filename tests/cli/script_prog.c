// SPDX-License-Identifier: MIT
/*
 * Programs for the runtime CLI tests that do what each packet asks.  A
 * test frame carries EtherType 0x88b5 (IEEE local experimental) and, after
 * the Ethernet header, struct script: the verdict to return and, for a
 * redirect, the ifindex to send to.  Each test frame is reported (with the
 * interface it came in on) through a ring buffer, a perf event array and
 * bpf_trace_printk; a frame sent on
 * (TX, redirect) has its MAC addresses swapped and its verdict turned into
 * pass, so whoever receives it next lets it through.  Other frames pass.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define ETH_P_SCRIPT 0x88b5

struct script {
	__u8 verdict;
	__u8 pad[3];
	__u32 ifindex; /* little-endian */
};

struct report {
	__u32 verdict;
	__u32 len;
	__u32 ifindex;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} reports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} perf_reports SEC(".maps");

/* Frames seen per verdict asked for. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} asked SEC(".maps");

static __always_inline void swap_macs(struct ethhdr *eth)
{
	__u8 tmp[ETH_ALEN];

	__builtin_memcpy(tmp, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, tmp, ETH_ALEN);
}

/* The script of a test frame, or NULL. */
static __always_inline struct script *script_of(void *data, void *data_end)
{
	struct ethhdr *eth = data;
	struct script *s = (void *)(eth + 1);

	if ((void *)(s + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_SCRIPT))
		return NULL;
	return s;
}

static __always_inline void report(void *ctx, struct script *s, __u32 len, __u32 ifindex)
{
	struct report r = { .verdict = s->verdict, .len = len, .ifindex = ifindex };
	__u32 key = s->verdict & 7;
	__u64 *n = bpf_map_lookup_elem(&asked, &key);

	if (n)
		__sync_fetch_and_add(n, 1);
	bpf_ringbuf_output(&reports, &r, sizeof(r), 0);
	bpf_perf_event_output(ctx, &perf_reports, BPF_F_CURRENT_CPU, &r, sizeof(r));
	bpf_printk("script verdict %u len %u", r.verdict, len);
}

SEC("xdp")
int xdp_script(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct script *s = script_of(data, data_end);
	__u32 verdict;

	if (!s)
		return XDP_PASS;
	verdict = s->verdict;
	report(ctx, s, data_end - data, ctx->ingress_ifindex);
	if (verdict != XDP_TX && verdict != XDP_REDIRECT)
		return verdict;
	swap_macs(data);
	s->verdict = XDP_PASS;
	return verdict == XDP_TX ? XDP_TX : bpf_redirect(s->ifindex, 0);
}

SEC("tc")
int tc_script(struct __sk_buff *skb)
{
	void *data_end = (void *)(long)skb->data_end;
	void *data = (void *)(long)skb->data;
	struct script *s = script_of(data, data_end);
	__u32 verdict;

	if (!s)
		return TC_ACT_OK;
	verdict = s->verdict;
	report(skb, s, skb->len, skb->ifindex);
	if (verdict != TC_ACT_REDIRECT)
		return verdict;
	swap_macs(data);
	s->verdict = TC_ACT_OK;
	return bpf_redirect(s->ifindex, 0);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
