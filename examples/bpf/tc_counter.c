// SPDX-License-Identifier: MIT
/*
 * TC classifier: counts packets and bytes per IP protocol (TCP, UDP,
 * ICMP, ...) in a per-CPU array indexed by protocol number, and marks each
 * IP packet with MARK_BASE + protocol so that later rules (routing, qdiscs,
 * iptables -m mark) can act on it.  Every packet continues (TC_ACT_OK).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define MARK_BASE 0x5100
/* packets that are not IP are counted under this (unused) protocol number */
#define NOT_IP 255

struct proto_stats {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct proto_stats);
} proto_stats SEC(".maps");

/* The IP protocol of the packet (IPv6: its first next-header), or NOT_IP. */
static __always_inline __u32 ip_protocol(struct __sk_buff *skb)
{
	void *data_end = (void *)(long)skb->data_end;
	void *data = (void *)(long)skb->data;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return NOT_IP;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > data_end)
			return NOT_IP;
		return ip->protocol;
	}
	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end)
			return NOT_IP;
		return ip6->nexthdr;
	}
	return NOT_IP;
}

SEC("tc")
int tc_count(struct __sk_buff *skb)
{
	__u32 proto = ip_protocol(skb);
	struct proto_stats *st = bpf_map_lookup_elem(&proto_stats, &proto);

	if (st) {
		st->packets += 1;
		st->bytes += skb->len;
	}
	if (proto != NOT_IP)
		skb->mark = MARK_BASE + proto;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
