// SPDX-License-Identifier: MIT
/*
 * An XDP program for the edge of a small network, doing what XDP datapaths
 * do with a packet before the kernel sees it:
 *
 *  - counts every frame per EtherType (hash, bytes) and per IP protocol
 *    (per-CPU array, packets);
 *  - strips the 802.1Q tag of frames on the access VLAN (ACCESS_VLAN),
 *    moving the MAC addresses up and the packet start with
 *    bpf_xdp_adjust_head;
 *  - answers ICMP echo requests to the router's own addresses (an LPM
 *    entry with ACTION_LOCAL) itself: MACs and IPs swapped, type changed,
 *    checksum updated, sent back out with XDP_TX;
 *  - drops or redirects IPv4 packets by destination prefix (LPM trie
 *    `acl`), and counts per source in a per-CPU hash;
 *  - trims frames longer than TRIM_LEN and appends a 16-byte trailer to
 *    NTP requests (bpf_xdp_adjust_tail, both directions);
 *  - leaves the IP protocol in 4 bytes of metadata before the packet
 *    (bpf_xdp_adjust_meta) for the TC program that sees it next;
 *  - aborts on IPv4 headers whose IHL is below 5, which no sender makes.
 */
#include <stddef.h>

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define ACCESS_VLAN 11
#define TRIM_LEN 1024
#define NTP_PORT 123
#define TRAILER_LEN 16
#define NOT_IP 255

/* <linux/icmp.h> drags in the C library's socket headers, so its two definitions are here. */
#define ICMP_ECHOREPLY 0
#define ICMP_ECHO 8

struct icmphdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be16 id;
	__be16 sequence;
};

struct vlan_hdr {
	__be16 tci;
	__be16 encapsulated_proto;
};

enum acl_action { ACTION_PASS, ACTION_DROP, ACTION_REDIRECT, ACTION_LOCAL };

struct acl_key {
	__u32 prefixlen;
	__be32 addr;
};

struct acl_rule {
	__u32 action;   /* enum acl_action */
	__u32 ifindex;  /* ACTION_REDIRECT: where to */
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 64);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct acl_key);
	__type(value, struct acl_rule);
} acl SEC(".maps");

/* EtherType (host order) -> bytes seen */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} ethertype_bytes SEC(".maps");

/* IP protocol (NOT_IP for the rest) -> packets */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} proto_packets SEC(".maps");

/* IPv4 source -> packets, per CPU */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 128);
	__type(key, __be32);
	__type(value, __u64);
} sources SEC(".maps");

static __always_inline void count_ethertype(__u32 ethertype, __u64 bytes)
{
	__u64 *v = bpf_map_lookup_elem(&ethertype_bytes, &ethertype);

	if (v)
		__sync_fetch_and_add(v, bytes);
	else
		bpf_map_update_elem(&ethertype_bytes, &ethertype, &bytes, BPF_NOEXIST);
}

static __always_inline void count_proto(__u32 proto)
{
	__u64 *v = bpf_map_lookup_elem(&proto_packets, &proto);

	if (v)
		*v += 1;
}

static __always_inline void count_source(__be32 saddr)
{
	__u64 *v = bpf_map_lookup_elem(&sources, &saddr);
	__u64 one = 1;

	if (v)
		*v += 1;
	else
		bpf_map_update_elem(&sources, &saddr, &one, BPF_ANY);
}

/* One's-complement update of a 16-bit checksum for one changed 16-bit word (RFC 1624). */
static __always_inline __u16 csum_update16(__u16 csum, __u16 old, __u16 new)
{
	__u32 sum = (__u16)~csum + (__u16)~old + new;

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/* Pop the access VLAN's tag: MACs move 4 bytes up, the frame starts there. */
static __always_inline int pop_access_vlan(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct vlan_hdr *vlan = (void *)(eth + 1);
	__u8 macs[2 * ETH_ALEN];
	__be16 inner;

	if ((void *)(vlan + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_8021Q) ||
	    (bpf_ntohs(vlan->tci) & 0xfff) != ACCESS_VLAN)
		return 0;
	inner = vlan->encapsulated_proto;
	__builtin_memcpy(macs, eth, sizeof(macs));
	if (bpf_xdp_adjust_head(ctx, (int)sizeof(*vlan)))
		return -1;
	data_end = (void *)(long)ctx->data_end;
	eth = (void *)(long)ctx->data;
	if ((void *)(eth + 1) > data_end)
		return -1;
	__builtin_memcpy(eth, macs, sizeof(macs));
	eth->h_proto = inner;
	return 1;
}

/* Turn an echo request into its reply, in place. */
static __always_inline int echo_reply(struct ethhdr *eth, struct iphdr *ip, struct icmphdr *icmp)
{
	__u8 mac[ETH_ALEN];
	__be32 addr;
	__u16 old_type = *(__u16 *)icmp;

	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);
	addr = ip->saddr;
	ip->saddr = ip->daddr;
	ip->daddr = addr; /* a swap leaves the IP checksum as it was */
	icmp->type = ICMP_ECHOREPLY;
	icmp->checksum = csum_update16(icmp->checksum, old_type, *(__u16 *)icmp);
	return XDP_TX;
}

/* Room at the end for the NTP trailer, written where the frame used to end. */
static __always_inline int add_trailer(struct xdp_md *ctx, __u32 proto)
{
	void *data_end, *data;
	__u8 *trailer;
	__u32 len;

	len = ctx->data_end - ctx->data;
	if (bpf_xdp_adjust_tail(ctx, TRAILER_LEN))
		return XDP_DROP;
	data_end = (void *)(long)ctx->data_end;
	data = (void *)(long)ctx->data;
	if (len > 4096) /* never: an XDP buffer is a page; the verifier needs the bound */
		return XDP_DROP;
	trailer = data + len;
	if ((void *)(trailer + TRAILER_LEN) > data_end)
		return XDP_DROP;
	__builtin_memset(trailer, 0x5a, TRAILER_LEN);
	trailer[0] = (__u8)proto;
	return XDP_PASS;
}

static __always_inline int handle_ipv4(struct xdp_md *ctx, void *l3)
{
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = (void *)(long)ctx->data;
	struct iphdr *ip = l3;
	struct acl_key key = { .prefixlen = 32 };
	struct acl_rule *rule;
	void *l4;

	if ((void *)(eth + 1) > data_end || (void *)(ip + 1) > data_end)
		return XDP_DROP;
	if (ip->ihl < 5)
		return XDP_ABORTED;
	count_proto(ip->protocol);
	count_source(ip->saddr);
	key.addr = ip->daddr;
	rule = bpf_map_lookup_elem(&acl, &key);
	if (rule && rule->action == ACTION_DROP)
		return XDP_DROP;
	if (rule && rule->action == ACTION_REDIRECT)
		return bpf_redirect(rule->ifindex, 0);

	l4 = l3 + ip->ihl * 4;
	if (ip->protocol == IPPROTO_ICMP && rule && rule->action == ACTION_LOCAL) {
		struct icmphdr *icmp = l4;

		if ((void *)(icmp + 1) <= data_end && icmp->type == ICMP_ECHO &&
		    !(ip->frag_off & bpf_htons(0x3fff)))
			return echo_reply(eth, ip, icmp);
	}
	if (ip->protocol == IPPROTO_UDP) {
		struct udphdr *udp = l4;

		if ((void *)(udp + 1) <= data_end && udp->dest == bpf_htons(NTP_PORT))
			return add_trailer(ctx, ip->protocol);
	}
	return XDP_PASS;
}

/* Leave the IP protocol before the packet; the packet pointers move with it. */
static __always_inline int set_meta(struct xdp_md *ctx, __u32 proto)
{
	__u32 *meta;

	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*meta)))
		return -1;
	meta = (void *)(long)ctx->data_meta;
	if ((void *)(meta + 1) > (void *)(long)ctx->data)
		return -1;
	*meta = proto;
	return 0;
}

SEC("xdp")
int xdp_edge(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	__u32 len = data_end - data, proto = NOT_IP;
	int action;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	count_ethertype(bpf_ntohs(eth->h_proto), len);

	if (pop_access_vlan(ctx) < 0)
		return XDP_ABORTED;
	data_end = (void *)(long)ctx->data_end;
	data = (void *)(long)ctx->data;
	eth = data;
	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) <= data_end)
			proto = ip->protocol;
		action = handle_ipv4(ctx, ip);
	} else {
		count_proto(NOT_IP);
		action = XDP_PASS;
	}
	if (action != XDP_PASS)
		return action;

	len = ctx->data_end - ctx->data;
	if (len > TRIM_LEN && bpf_xdp_adjust_tail(ctx, (int)(TRIM_LEN - len)))
		return XDP_ABORTED;
	if (set_meta(ctx, proto))
		return XDP_ABORTED;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
