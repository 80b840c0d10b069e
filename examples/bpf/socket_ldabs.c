// SPDX-License-Identifier: MIT
/*
 * A socket filter for a raw IP socket (frames start at the IP header)
 * written the way tcpdump-style filters are, with the legacy packet loads:
 * ld_abs for fixed offsets, ld_ind for offsets behind the IPv4 header's
 * variable length, and SKF_LL_OFF to look back at the Ethernet header;
 * bpf_skb_load_bytes and bpf_skb_load_bytes_relative copy headers out.
 *
 * What it keeps (the return value is how many bytes reach the socket):
 *  - TCP SYNs to SSH or HTTP: whole;
 *  - DNS over UDP: the first DNS_SNAP bytes;
 *  - ICMP to a multicast or broadcast MAC: the IP header alone;
 *  - ICMP to the router's own MAC, 02:00:00:00:00:01: the IP header and 8 bytes;
 *  - everything else: nothing.
 * A per-verdict array counts the decisions.
 */
#include <stddef.h>

#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define DNS_SNAP 128

/* clang's intrinsics for BPF_LD | BPF_ABS / BPF_IND */
unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");

enum verdict {
	KEEP_SYN, KEEP_DNS, KEEP_ICMP_GROUP, KEEP_ICMP_OURS, DROP_OTHER, DROP_SHORT, VERDICTS
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VERDICTS);
	__type(key, __u32);
	__type(value, __u64);
} verdicts SEC(".maps");

static __always_inline int decide(enum verdict v, int keep)
{
	__u32 key = v;
	__u64 *n = bpf_map_lookup_elem(&verdicts, &key);

	if (n)
		__sync_fetch_and_add(n, 1);
	return keep;
}

SEC("socket")
int ip_sniffer(struct __sk_buff *skb)
{
	__u8 mac[ETH_ALEN];
	struct tcphdr tcp;
	__u32 ihl, proto, dport;

	if ((load_byte(skb, 0) >> 4) != 4)
		return decide(DROP_OTHER, 0);
	ihl = (load_byte(skb, 0) & 0xf) * 4;
	if (ihl < sizeof(struct iphdr))
		return decide(DROP_SHORT, 0);
	proto = load_byte(skb, offsetof(struct iphdr, protocol));
	/* later fragments carry no transport header */
	if (load_half(skb, offsetof(struct iphdr, frag_off)) & 0x1fff)
		return decide(DROP_OTHER, 0);

	if (proto == IPPROTO_TCP) {
		if (bpf_skb_load_bytes(skb, ihl, &tcp, sizeof(tcp)))
			return decide(DROP_SHORT, 0);
		if (tcp.syn && !tcp.ack &&
		    (tcp.dest == bpf_htons(22) || tcp.dest == bpf_htons(80)))
			return decide(KEEP_SYN, skb->len);
		return decide(DROP_OTHER, 0);
	}
	if (proto == IPPROTO_UDP) {
		dport = load_half(skb, ihl + 2); /* ld_ind: behind the options */
		if (dport == 53 || load_half(skb, ihl) == 53)
			return decide(KEEP_DNS, DNS_SNAP);
		return decide(DROP_OTHER, 0);
	}
	if (proto == IPPROTO_ICMP) {
		/* the group bit of the destination MAC, through the link-layer offset */
		if (load_byte(skb, SKF_LL_OFF) & 1)
			return decide(KEEP_ICMP_GROUP, ihl);
		if (bpf_skb_load_bytes_relative(skb, 0, mac, sizeof(mac), BPF_HDR_START_MAC))
			return decide(DROP_SHORT, 0);
		if (mac[0] == 0x02 && !mac[1] && !mac[2] && !mac[3] && !mac[4] && mac[5] == 0x01)
			return decide(KEEP_ICMP_OURS, ihl + 8);
		return decide(DROP_OTHER, 0);
	}
	return decide(DROP_OTHER, 0);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
