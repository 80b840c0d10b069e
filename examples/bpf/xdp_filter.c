// SPDX-License-Identifier: MIT
/*
 * XDP packet filter: parses Ethernet (with up to two VLAN tags), IPv4 or
 * IPv6, then TCP or UDP, and drops packets whose source address is in a
 * blocklist (one hash map per address family, each entry counting the
 * packets it dropped).  Per-CPU counters record what went through.
 * Truncated headers are dropped; anything that is not IP passes.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define MAX_VLAN_TAGS 2

/* The kernel keeps struct vlan_hdr out of its UAPI headers. */
struct vlan_hdr {
	__be16 tci;
	__be16 encapsulated_proto;
};

enum stat {
	STAT_PASS,
	STAT_DROP_BLOCKED,
	STAT_DROP_MALFORMED,
	STAT_IPV4,
	STAT_IPV6,
	STAT_TCP,
	STAT_UDP,
	STAT_OTHER_L4,
	STAT_MAX,
};

/* IPv4 source address (network order) -> packets dropped. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} blocklist SEC(".maps");

/* IPv6 source address -> packets dropped. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct in6_addr);
	__type(value, __u64);
} blocklist6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

static __always_inline void count(__u32 stat)
{
	__u64 *n = bpf_map_lookup_elem(&stats, &stat);

	if (n)
		*n += 1; /* per-CPU: no other CPU writes this slot */
}

static __always_inline int verdict(__u32 stat, int action)
{
	count(stat);
	return action;
}

/* A blocklist hit drops the packet and counts it against the entry. */
static __always_inline int blocked(void *map, const void *addr)
{
	__u64 *hits = bpf_map_lookup_elem(map, addr);

	if (!hits)
		return 0;
	__sync_fetch_and_add(hits, 1);
	return 1;
}

/* Counts the transport protocol; a header too short for its protocol is malformed. */
static __always_inline int check_l4(__u8 proto, void *l4, void *data_end)
{
	switch (proto) {
	case IPPROTO_TCP:
		if (l4 + sizeof(struct tcphdr) > data_end)
			return -1;
		count(STAT_TCP);
		break;
	case IPPROTO_UDP:
		if (l4 + sizeof(struct udphdr) > data_end)
			return -1;
		count(STAT_UDP);
		break;
	default:
		count(STAT_OTHER_L4);
		break;
	}
	return 0;
}

SEC("xdp")
int xdp_filter(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	void *cursor = eth + 1;
	__u16 proto;

	if (cursor > data_end)
		return verdict(STAT_DROP_MALFORMED, XDP_DROP);
	proto = eth->h_proto;

#pragma unroll
	for (int i = 0; i < MAX_VLAN_TAGS; i++) {
		struct vlan_hdr *vlan = cursor;

		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(vlan + 1) > data_end)
			return verdict(STAT_DROP_MALFORMED, XDP_DROP);
		proto = vlan->encapsulated_proto;
		cursor = vlan + 1;
	}

	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = cursor;

		if ((void *)(ip + 1) > data_end || ip->ihl < 5 ||
		    cursor + ip->ihl * 4 > data_end)
			return verdict(STAT_DROP_MALFORMED, XDP_DROP);
		count(STAT_IPV4);
		if (blocked(&blocklist, &ip->saddr))
			return verdict(STAT_DROP_BLOCKED, XDP_DROP);
		/* later fragments carry no transport header */
		if (!(ip->frag_off & bpf_htons(0x1fff)) &&
		    check_l4(ip->protocol, cursor + ip->ihl * 4, data_end))
			return verdict(STAT_DROP_MALFORMED, XDP_DROP);
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = cursor;

		if ((void *)(ip6 + 1) > data_end)
			return verdict(STAT_DROP_MALFORMED, XDP_DROP);
		count(STAT_IPV6);
		if (blocked(&blocklist6, &ip6->saddr))
			return verdict(STAT_DROP_BLOCKED, XDP_DROP);
		/* extension headers are not followed: their transport is counted as other */
		if (check_l4(ip6->nexthdr, ip6 + 1, data_end))
			return verdict(STAT_DROP_MALFORMED, XDP_DROP);
	}
	return verdict(STAT_PASS, XDP_PASS);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
