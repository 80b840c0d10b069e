// SPDX-License-Identifier: MIT
/*
 * A small layer-4 load balancer in XDP, in the style of Katran: packets to
 * a virtual service (VIP, port, protocol) are encapsulated in IPIP towards
 * one of the service's backends and sent back out (XDP_TX).
 *
 *  - the backend is chosen by a hash of the flow (addresses, ports,
 *    protocol), computed in a bpf_loop callback, and remembered per flow in
 *    an LRU hash so that a flow keeps its backend;
 *  - the outer IPv4 header's checksum comes from bpf_csum_diff;
 *  - each service counts its packets and bytes under a bpf_spin_lock;
 *  - the first NEW_FLOW_LOG new flows are queued (BPF_MAP_TYPE_QUEUE) for
 *    the control plane;
 *  - per-CPU counters are indexed by bpf_get_smp_processor_id().
 *
 * xdp_tail_check (a multi-buffer program, SEC("xdp.frags")) looks at the
 * whole frame, however many buffers it spans: it reads the last bytes with
 * bpf_xdp_load_bytes at bpf_xdp_get_buff_len, keeps a length histogram and
 * cuts frames over CUT_LEN down to it.
 */
#include <stddef.h>

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define MAX_BACKENDS 4
#define NEW_FLOW_LOG 32
#define HASH_ROUNDS 8
#define CUT_LEN 2000
#define LEN_BUCKETS 8

struct vip_key {
	__be32 addr;
	__be16 port;
	__u8 proto;
	__u8 pad;
};

struct vip {
	struct bpf_spin_lock lock;
	__u32 backends;           /* how many of backends[] are in use */
	__be32 backend[MAX_BACKENDS];
	__u64 packets;
	__u64 bytes;
};

struct flow {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, struct vip_key);
	__type(value, struct vip);
} vips SEC(".maps");

/* flow -> backend address */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct flow);
	__type(value, __be32);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, NEW_FLOW_LOG);
	__type(value, struct flow);
} new_flows SEC(".maps");

/* packets seen per CPU, indexed by CPU number */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} per_cpu SEC(".maps");

/* frame lengths in buckets of 1,024 bytes, and the sum of each frame's last byte */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LEN_BUCKETS + 1);
	__type(key, __u32);
	__type(value, __u64);
} lengths SEC(".maps");

/* The local address outer headers come from. */
const volatile __be32 self_addr = 0x0100000a; /* 10.0.0.1 */

struct hash_state {
	const struct flow *flow;
	__u32 hash;
};

/* One round of a multiply-xorshift hash over the flow's words. */
static long hash_round(__u32 i, void *data)
{
	struct hash_state *st = data;
	const __u32 *words = (const __u32 *)st->flow;
	__u32 w = words[i % (sizeof(struct flow) / 4)];

	st->hash = (st->hash ^ w) * 0x9e3779b1;
	st->hash ^= st->hash >> 15;
	return 0;
}

static __always_inline void count_cpu(void)
{
	__u32 cpu = bpf_get_smp_processor_id();
	__u64 *n = bpf_map_lookup_elem(&per_cpu, &cpu);

	if (n)
		__sync_fetch_and_add(n, 1);
}

/* The flow's backend: remembered, or chosen by hash and remembered. */
static __always_inline __be32 pick_backend(struct flow *flow, struct vip *vip)
{
	struct hash_state st = { .flow = flow, .hash = 0x12345678 };
	__be32 *known = bpf_map_lookup_elem(&flows, flow);
	__be32 backend;
	__u32 n = vip->backends, i;

	if (known)
		return *known;
	if (n == 0 || n > MAX_BACKENDS)
		return 0;
	bpf_loop(HASH_ROUNDS, hash_round, &st, 0);
	i = st.hash % n;
	/* i < n <= MAX_BACKENDS, which clang knows and the verifier must be shown */
	barrier_var(i);
	if (i >= MAX_BACKENDS)
		return 0;
	backend = vip->backend[i];
	bpf_map_update_elem(&flows, flow, &backend, BPF_NOEXIST);
	bpf_map_push_elem(&new_flows, flow, 0);
	return backend;
}

/* Put an outer IPv4 header (IPIP) between the Ethernet header and the packet. */
static __always_inline int encapsulate(struct xdp_md *ctx, __be32 backend, __u16 inner_len)
{
	struct ethhdr *eth, *old_eth;
	struct iphdr *outer;
	void *data_end;
	__s64 csum;

	if (bpf_xdp_adjust_head(ctx, -(int)sizeof(struct iphdr)))
		return XDP_ABORTED;
	data_end = (void *)(long)ctx->data_end;
	eth = (void *)(long)ctx->data;
	old_eth = (void *)eth + sizeof(struct iphdr);
	outer = (void *)(eth + 1);
	if ((void *)(old_eth + 1) > data_end)
		return XDP_ABORTED;
	/* the MACs swap: the frame goes back out where it came from */
	__builtin_memcpy(eth->h_dest, old_eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, old_eth->h_dest, ETH_ALEN);
	eth->h_proto = bpf_htons(ETH_P_IP);

	outer->version = 4;
	outer->ihl = 5;
	outer->tos = 0;
	outer->tot_len = bpf_htons(inner_len + sizeof(struct iphdr));
	outer->id = 0;
	outer->frag_off = bpf_htons(0x4000);
	outer->ttl = 64;
	outer->protocol = IPPROTO_IPIP;
	outer->check = 0;
	outer->saddr = self_addr;
	outer->daddr = backend;
	csum = bpf_csum_diff(NULL, 0, (__be32 *)outer, sizeof(*outer), 0);
	if (csum < 0)
		return XDP_ABORTED;
	csum = (csum & 0xffff) + (csum >> 16);
	csum = (csum & 0xffff) + (csum >> 16);
	outer->check = ~csum;
	return XDP_TX;
}

SEC("xdp")
int xdp_lb(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *l4;
	struct vip_key key = {};
	struct flow flow = {};
	struct vip *vip;
	__be32 backend;
	__u16 inner_len;

	count_cpu();
	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	if (ip->ihl != 5 || (ip->frag_off & bpf_htons(0x3fff)))
		return XDP_PASS; /* options and fragments go to the kernel's slow path */
	if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP)
		return XDP_PASS;
	l4 = (void *)(ip + 1);
	if ((void *)(l4 + 1) > data_end)
		return XDP_DROP;

	key.addr = ip->daddr;
	key.port = l4->dest;
	key.proto = ip->protocol;
	vip = bpf_map_lookup_elem(&vips, &key);
	if (!vip)
		return XDP_PASS;
	inner_len = bpf_ntohs(ip->tot_len);
	flow.saddr = ip->saddr;
	flow.daddr = ip->daddr;
	flow.sport = l4->source;
	flow.dport = l4->dest;
	flow.proto = ip->protocol;

	bpf_spin_lock(&vip->lock);
	vip->packets++;
	vip->bytes += inner_len;
	bpf_spin_unlock(&vip->lock);
	backend = pick_backend(&flow, vip);
	if (!backend)
		return XDP_DROP;
	return encapsulate(ctx, backend, inner_len);
}

SEC("xdp.frags")
int xdp_tail_check(struct xdp_md *ctx)
{
	__u32 len = bpf_xdp_get_buff_len(ctx), bucket = len / 1024, sum_key = LEN_BUCKETS;
	__u8 last[4];
	__u64 *n;

	if (bucket >= LEN_BUCKETS)
		bucket = LEN_BUCKETS - 1;
	n = bpf_map_lookup_elem(&lengths, &bucket);
	if (n)
		*n += 1;
	if (len < sizeof(last) || bpf_xdp_load_bytes(ctx, len - sizeof(last), last, sizeof(last)))
		return XDP_ABORTED;
	n = bpf_map_lookup_elem(&lengths, &sum_key);
	if (n)
		*n += last[3];
	if (len > CUT_LEN && bpf_xdp_adjust_tail(ctx, -(int)(len - CUT_LEN)))
		return XDP_DROP;
	return last[3] & 1 ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
