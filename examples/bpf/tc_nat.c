// SPDX-License-Identifier: MIT
/*
 * TC programs that rewrite packets through the skb helpers, as load
 * balancers and tunnel endpoints do.
 *
 * tc_nat (classifier):
 *  - destination NAT: TCP and UDP to a service address and port (map
 *    `services`) go to its backend instead, the addresses and port
 *    rewritten with bpf_skb_store_bytes and the IPv4 and transport
 *    checksums fixed with bpf_l3_csum_replace / bpf_l4_csum_replace;
 *  - frames tagged with the transit VLAN lose the tag (bpf_skb_vlan_pop);
 *    untagged ICMP gets the management VLAN pushed, twice over for echo
 *    requests, so the first tag moves into the frame (bpf_skb_vlan_push);
 *  - NTP requests grow an 8-byte trailer, frames over TRIM_LEN are cut to
 *    it (bpf_skb_change_tail), GRE grows a new outer Ethernet header
 *    (bpf_skb_change_head);
 *  - TTL 0 or 1 is dropped (TC_ACT_SHOT), traffic to the uplink prefix is
 *    redirected to its interface (TC_ACT_REDIRECT), everything else goes on
 *    (TC_ACT_OK) with skb->mark, priority and cb[0] describing it.
 *
 * tc_police (action): keeps per-pkt_type counts and passes frames up to
 * POLICE_LEN to the next action (TC_ACT_PIPE) with their EtherType in
 * cb[2], drops the rest.
 */
#include <stddef.h>

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <linux/udp.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define TRANSIT_VLAN 12
#define MGMT_VLAN 7
#define OUTER_VLAN 100
#define TRIM_LEN 1000
#define POLICE_LEN 1400
#define NTP_PORT 123
#define TRAILER_LEN 8
#define UPLINK_PREFIX 0x08000000 /* 8.0.0.0/8 */
#define UPLINK_IFINDEX 1
#define MARK_NAT 0x4e00

#define IP_CSUM_OFF (ETH_HLEN + offsetof(struct iphdr, check))
#define IP_DST_OFF (ETH_HLEN + offsetof(struct iphdr, daddr))

struct service_key {
	__be32 addr;
	__be16 port;
	__u8 proto;
	__u8 pad;
};

struct backend {
	__be32 addr;
	__be16 port;
	__u16 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, struct service_key);
	__type(value, struct backend);
} services SEC(".maps");

/* backend address -> packets sent to it */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __be32);
	__type(value, __u64);
} nat_hits SEC(".maps");

/* packets by skb->pkt_type (PACKET_HOST, _BROADCAST, ...) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} pkt_types SEC(".maps");

static __always_inline void count_hit(__be32 backend)
{
	__u64 *v = bpf_map_lookup_elem(&nat_hits, &backend);
	__u64 one = 1;

	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&nat_hits, &backend, &one, BPF_NOEXIST);
}

/* Rewrite destination address and port to the service's backend. */
static __always_inline int dnat(struct __sk_buff *skb, struct iphdr *ip, __u32 l4_off)
{
	void *data_end = (void *)(long)skb->data_end;
	void *data = (void *)(long)skb->data;
	struct service_key key = { .addr = ip->daddr, .proto = ip->protocol };
	__u64 mangled = ip->protocol == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;
	__u32 port_off, csum_off;
	struct backend *be;
	__be32 old_addr = ip->daddr;
	__be16 old_port;

	if (key.proto == IPPROTO_TCP) {
		struct tcphdr *tcp = data + l4_off;

		if ((void *)(tcp + 1) > data_end)
			return 0;
		key.port = tcp->dest;
		csum_off = l4_off + offsetof(struct tcphdr, check);
	} else {
		struct udphdr *udp = data + l4_off;

		if ((void *)(udp + 1) > data_end)
			return 0;
		key.port = udp->dest;
		csum_off = l4_off + offsetof(struct udphdr, check);
	}
	port_off = l4_off + offsetof(struct tcphdr, dest); /* the same place in UDP */
	be = bpf_map_lookup_elem(&services, &key);
	if (!be)
		return 0;
	old_port = key.port;

	/* the transport checksum covers the address through the pseudo-header */
	if (bpf_l4_csum_replace(skb, csum_off, old_addr, be->addr,
				BPF_F_PSEUDO_HDR | mangled | sizeof(be->addr)))
		return -1;
	if (bpf_l4_csum_replace(skb, csum_off, old_port, be->port, mangled | sizeof(be->port)))
		return -1;
	if (bpf_l3_csum_replace(skb, IP_CSUM_OFF, old_addr, be->addr, sizeof(be->addr)))
		return -1;
	if (bpf_skb_store_bytes(skb, IP_DST_OFF, &be->addr, sizeof(be->addr), 0))
		return -1;
	if (bpf_skb_store_bytes(skb, port_off, &be->port, sizeof(be->port), 0))
		return -1;
	count_hit(be->addr);
	return 1;
}

/* Tags and trailers: each may move or resize the packet, so nothing is kept across. */
static __always_inline int reshape(struct __sk_buff *skb, __u8 proto, __u16 dport, __u8 icmp_type)
{
	if (proto == IPPROTO_ICMP) {
		if (bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), MGMT_VLAN))
			return -1;
		/* a second tag puts the first one into the frame */
		if (icmp_type == 8 && bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021AD), OUTER_VLAN))
			return -1;
		skb->mark = skb->vlan_present ? skb->vlan_tci : 0;
	}
	if (proto == IPPROTO_UDP && dport == bpf_htons(NTP_PORT)) {
		__u8 trailer[TRAILER_LEN] = { 'n', 't', 'p', '-', 't', 'a', 'i', 'l' };
		__u32 len = skb->len;

		if (bpf_skb_change_tail(skb, len + TRAILER_LEN, 0))
			return -1;
		if (bpf_skb_store_bytes(skb, len, trailer, sizeof(trailer), 0))
			return -1;
	}
	if (proto == IPPROTO_GRE) {
		struct ethhdr outer = { .h_proto = bpf_htons(ETH_P_TEB) };

		if (bpf_skb_change_head(skb, sizeof(outer), 0))
			return -1;
		outer.h_dest[0] = 0x02;
		outer.h_dest[5] = 0x99;
		if (bpf_skb_store_bytes(skb, 0, &outer, sizeof(outer), 0))
			return -1;
	}
	if (skb->len > TRIM_LEN && bpf_skb_change_tail(skb, TRIM_LEN, 0))
		return -1;
	return 0;
}

SEC("tc")
int tc_nat(struct __sk_buff *skb)
{
	void *data_end = (void *)(long)skb->data_end;
	void *data = (void *)(long)skb->data;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	__u8 proto, icmp_type = 0;
	__u16 dport = 0;
	__u32 l4_off;
	int nat;

	if ((void *)(eth + 1) > data_end)
		return TC_ACT_SHOT;
	if (eth->h_proto == bpf_htons(ETH_P_8021Q)) {
		__u16 *tci = (void *)(eth + 1);

		if ((void *)(tci + 1) <= data_end && (bpf_ntohs(*tci) & 0xfff) == TRANSIT_VLAN) {
			if (bpf_skb_vlan_pop(skb))
				return TC_ACT_SHOT;
			skb->cb[1] = TRANSIT_VLAN;
		}
		return TC_ACT_OK;
	}
	if (eth->h_proto != bpf_htons(ETH_P_IP) || (void *)(ip + 1) > data_end)
		return TC_ACT_UNSPEC;
	if (ip->ttl <= 1)
		return TC_ACT_SHOT;
	if ((bpf_ntohl(ip->daddr) & 0xff000000) == UPLINK_PREFIX)
		return bpf_redirect(UPLINK_IFINDEX, 0);

	proto = ip->protocol;
	skb->priority = ip->tos >> 2;
	skb->cb[0] = proto;
	l4_off = ETH_HLEN + ip->ihl * 4;
	if (ip->ihl < 5 || l4_off > 60 + ETH_HLEN)
		return TC_ACT_SHOT;
	if (!(ip->frag_off & bpf_htons(0x3fff))) {
		__u8 *l4 = data + l4_off;

		if ((void *)(l4 + 4) <= data_end) {
			dport = *(__u16 *)(l4 + 2);
			icmp_type = l4[0];
		}
		if (proto == IPPROTO_TCP || proto == IPPROTO_UDP) {
			nat = dnat(skb, ip, l4_off);
			if (nat < 0)
				return TC_ACT_SHOT;
			if (nat)
				skb->mark = MARK_NAT | proto;
		}
	}
	if (reshape(skb, proto, dport, icmp_type))
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

SEC("action")
int tc_police(struct __sk_buff *skb)
{
	__u32 type = skb->pkt_type;
	__u64 *n = bpf_map_lookup_elem(&pkt_types, &type);

	if (n)
		__sync_fetch_and_add(n, 1);
	if (skb->len > POLICE_LEN)
		return TC_ACT_SHOT;
	skb->cb[2] = skb->protocol;
	return TC_ACT_PIPE;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
