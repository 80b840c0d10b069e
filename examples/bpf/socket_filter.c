// SPDX-License-Identifier: MIT
/*
 * Socket filter that keeps only UDP: attached to a packet socket
 * (AF_PACKET, frames start with the Ethernet header), it passes IPv4 and
 * IPv6 packets whose protocol / next header is UDP whole, and truncates
 * every other packet to nothing, which drops it.
 */
#include <stddef.h>

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

SEC("socket")
int udp_only(struct __sk_buff *skb)
{
	__u32 offset;
	__u8 proto;

	if (skb->protocol == bpf_htons(ETH_P_IP))
		offset = ETH_HLEN + offsetof(struct iphdr, protocol);
	else if (skb->protocol == bpf_htons(ETH_P_IPV6))
		offset = ETH_HLEN + offsetof(struct ipv6hdr, nexthdr);
	else
		return 0;
	if (bpf_skb_load_bytes(skb, offset, &proto, sizeof(proto)))
		return 0;
	return proto == IPPROTO_UDP ? skb->len : 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
