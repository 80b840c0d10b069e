// SPDX-License-Identifier: MIT
/*
 * BTF-defined maps of several types, used together by an XDP program that
 * routes IPv4 packets: a longest-prefix-match table chooses an action per
 * destination prefix, an LRU hash tracks flows (each new flow is reported
 * through a ring buffer), a hash counts packets per source, an array keeps
 * totals, an array of maps holds per-class counters, and a prog array
 * jumps to the program that drops.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

enum action { ACTION_PASS, ACTION_DROP, ACTION_COUNT };
enum { TOTAL_PACKETS, TOTAL_BYTES, TOTAL_NEW_FLOWS, TOTAL_MAX };

struct lpm_v4_key {
	__u32 prefixlen;
	__u32 addr;
};

struct flow_key {
	__u32 saddr;
	__u32 daddr;
	__u8 proto;
	__u8 pad[3];
};

struct flow_event {
	struct flow_key key;
	__u32 len;
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 256);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lpm_v4_key);
	__type(value, __u32); /* enum action */
} routes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct flow_key);
	__type(value, __u64);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} by_source SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TOTAL_MAX);
	__type(key, __u32);
	__type(value, __u64);
} totals SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 * 4096);
} events SEC(".maps");

/* The inner maps' common definition, and one instance per class of traffic. */
struct class_counters {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ACTION_COUNT);
	__type(key, __u32);
	__type(value, __u64);
};

struct class_counters local_counters SEC(".maps");
struct class_counters remote_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct class_counters);
} classes SEC(".maps") = {
	.values = { &local_counters, &remote_counters },
};

SEC("xdp")
int xdp_drop_tail(struct xdp_md *ctx)
{
	return XDP_DROP;
}

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32)); /* by size: the kernel takes no BTF for prog arrays */
	__array(values, int(void *));
} jump SEC(".maps") = {
	.values = { [ACTION_DROP - 1] = (void *)&xdp_drop_tail },
};

static __always_inline void add(void *map, const void *key, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(map, key);

	if (v)
		__sync_fetch_and_add(v, n);
}

static __always_inline void track_flow(struct flow_key *key, __u32 len)
{
	__u32 new_flows = TOTAL_NEW_FLOWS;
	struct flow_event *ev;
	__u64 one = 1;

	if (!bpf_map_update_elem(&flows, key, &one, BPF_NOEXIST)) {
		add(&totals, &new_flows, 1);
		ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
		if (ev) {
			ev->key = *key;
			ev->len = len;
			bpf_ringbuf_submit(ev, 0);
		}
	} else {
		add(&flows, key, 1);
	}
}

SEC("xdp")
int xdp_router(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	__u32 packets = TOTAL_PACKETS, bytes = TOTAL_BYTES, len = data_end - data;
	struct lpm_v4_key route = { .prefixlen = 32 };
	struct flow_key flow = {};
	__u32 action = ACTION_PASS, class, *found;
	void *counters;

	add(&totals, &packets, 1);
	add(&totals, &bytes, len);
	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;

	route.addr = ip->daddr;
	found = bpf_map_lookup_elem(&routes, &route);
	if (found && *found < ACTION_COUNT)
		action = *found;

	flow.saddr = ip->saddr;
	flow.daddr = ip->daddr;
	flow.proto = ip->protocol;
	track_flow(&flow, len);
	if (!bpf_map_lookup_elem(&by_source, &flow.saddr)) {
		__u64 one = 1;

		bpf_map_update_elem(&by_source, &flow.saddr, &one, BPF_NOEXIST);
	} else {
		add(&by_source, &flow.saddr, 1);
	}

	/* 10.0.0.0/8 is local */
	class = (bpf_ntohl(ip->daddr) >> 24) == 10 ? 0 : 1;
	counters = bpf_map_lookup_elem(&classes, &class);
	if (counters)
		add(counters, &action, 1);

	if (action == ACTION_DROP)
		bpf_tail_call(ctx, &jump, ACTION_DROP - 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
