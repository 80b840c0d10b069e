// SPDX-License-Identifier: MIT
/*
 * Programs that make what a program type's context holds, and what the
 * packet helpers do, visible in the output packet or context, for the
 * differential against the kernel's BPF_PROG_TEST_RUN
 * (tests/progtypes/test_test_run_kernel.c).
 */
#include <stddef.h>

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

unsigned long long load_word(void *skb, unsigned long long off) asm("llvm.bpf.load.word");

/* TC: every readable __sk_buff field, written over the packet after its Ethernet header. */
SEC("tc")
int tc_fields(struct __sk_buff *skb)
{
	__u32 fields[] = {
		skb->len, skb->pkt_type, skb->mark, skb->queue_mapping, skb->protocol,
		skb->vlan_present, skb->vlan_tci, skb->vlan_proto, skb->priority,
		skb->ingress_ifindex, skb->ifindex, skb->tc_index, skb->cb[0], skb->cb[4],
		skb->hash, skb->tc_classid, skb->data_end - skb->data, skb->data - skb->data_meta,
		skb->napi_id, skb->wire_len, skb->gso_segs, skb->gso_size,
		(__u32)skb->tstamp, skb->tstamp_type,
	};

	skb->mark = 0x1234;
	skb->priority = 7;
	skb->cb[1] = skb->len * 3;
	skb->tc_index = 0x12345;
	skb->tc_classid = 0xabcdef;
	/* read back through memory, not the value the compiler just stored */
	fields[11] = *(volatile __u32 *)&skb->tc_index;
	fields[15] = *(volatile __u32 *)&skb->tc_classid;
	if (bpf_skb_store_bytes(skb, ETH_HLEN, fields, sizeof(fields), 0) < 0)
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

/* Socket filters: what the skb helpers see from the network header on; the result is a length. */
SEC("socket")
int socket_view(struct __sk_buff *skb)
{
	__u8 mac[4] = {}, net[4] = {}, direct[4] = {};
	__u32 word;

	bpf_skb_load_bytes_relative(skb, 0, mac, sizeof(mac), BPF_HDR_START_MAC);
	bpf_skb_load_bytes_relative(skb, 0, net, sizeof(net), BPF_HDR_START_NET);
	bpf_skb_load_bytes(skb, 0, direct, sizeof(direct));
	word = load_word(skb, 0);
	skb->cb[0] = mac[0] | mac[1] << 8 | mac[2] << 16 | (__u32)mac[3] << 24;
	skb->cb[1] = net[0] | net[1] << 8 | net[2] << 16 | (__u32)net[3] << 24;
	skb->cb[2] = direct[0] | direct[1] << 8 | direct[2] << 16 | (__u32)direct[3] << 24;
	skb->cb[3] = word;
	skb->cb[4] = skb->protocol << 16 | skb->pkt_type;
	return skb->len - 1;
}

/* cgroup skb: the test run's socket, and the packet pointers, into cb[]. */
SEC("cgroup_skb/ingress")
int cgroup_view(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;

	skb->cb[0] = skb->family;
	skb->cb[1] = skb->local_ip4;
	skb->cb[2] = skb->remote_ip4;
	skb->cb[3] = skb->local_ip6[3] ^ skb->remote_ip6[0];
	skb->cb[4] = data_end - data;
	skb->mark = skb->len;
	return data + 20 <= data_end;
}

/* XDP: metadata, head and tail moved by the packet's first bytes. */
SEC("xdp")
int xdp_moves(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	__u8 *p = data;
	int meta, head, tail;
	__u32 *m;

	if (data + 3 > data_end)
		return XDP_ABORTED;
	meta = -(int)p[0];
	head = (__s8)p[1];
	tail = (__s8)p[2];
	if (bpf_xdp_adjust_meta(ctx, meta))
		return XDP_DROP;
	if (bpf_xdp_adjust_head(ctx, head))
		return XDP_TX;
	if (bpf_xdp_adjust_tail(ctx, tail))
		return XDP_ABORTED;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	m = (void *)(long)ctx->data_meta;
	if ((void *)(m + 1) <= data)
		*m = ctx->ingress_ifindex << 16 | ctx->rx_queue_index;
	p = data;
	if (data + 4 > data_end)
		return XDP_ABORTED;
	p[0] = bpf_xdp_get_buff_len(ctx);
	p[1] = (__u8)((long)data - (long)ctx->data_meta);
	return XDP_PASS;
}

/* TC: the checksum helpers on an IPv4/UDP packet, their results in the packet. */
SEC("tc")
int tc_csum(struct __sk_buff *skb)
{
	const int ip_off = ETH_HLEN, udp_off = ETH_HLEN + sizeof(struct iphdr);
	__be32 old_dst, new_dst = bpf_htonl(0x0a000063);
	__be16 old_port, new_port = bpf_htons(4242);
	__be32 old_word, new_word;
	struct iphdr ip;
	__u32 diff;

	if (bpf_skb_load_bytes(skb, ip_off, &ip, sizeof(ip)) < 0 || ip.ihl != 5 ||
	    ip.protocol != IPPROTO_UDP)
		return TC_ACT_UNSPEC;
	old_dst = ip.daddr;
	bpf_skb_load_bytes(skb, udp_off + offsetof(struct udphdr, dest), &old_port, 2);
	bpf_skb_store_bytes(skb, ip_off + offsetof(struct iphdr, daddr), &new_dst, 4, 0);
	bpf_l3_csum_replace(skb, ip_off + offsetof(struct iphdr, check), old_dst, new_dst, 4);
	bpf_l4_csum_replace(skb, udp_off + offsetof(struct udphdr, check), old_dst, new_dst,
			    BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0 | 4);
	bpf_skb_store_bytes(skb, udp_off + offsetof(struct udphdr, dest), &new_port, 2, 0);
	/* each port as the first half of a word: the zero half adds nothing */
	old_word = old_port;
	new_word = new_port;
	diff = bpf_csum_diff(&old_word, 4, &new_word, 4, 0);
	bpf_l4_csum_replace(skb, udp_off + offsetof(struct udphdr, check), 0, diff,
			    BPF_F_MARK_MANGLED_0);
	skb->cb[0] = bpf_csum_diff(0, 0, (__be32 *)&ip, sizeof(ip), 0xffff);
	skb->cb[1] = bpf_csum_diff((__be32 *)&ip, sizeof(ip), 0, 0, 0x12345678);
	skb->cb[2] = bpf_csum_diff((__be32 *)&ip, 8, &ip.saddr, 8, 0);
	skb->cb[3] = bpf_l3_csum_replace(skb, 1, 0, 0, 2);
	skb->cb[4] = bpf_l4_csum_replace(skb, ip_off, 1, 2, 3);
	return TC_ACT_OK;
}

/* TC: length changes and VLAN tags, chosen by the packet's first byte. */
SEC("tc")
int tc_reshape(struct __sk_buff *skb)
{
	__u8 how;
	long ret = 0;

	if (bpf_skb_load_bytes(skb, 0, &how, 1) < 0)
		return TC_ACT_SHOT;
	switch (how & 7) {
	case 0:
		ret = bpf_skb_change_tail(skb, skb->len + 9, 0);
		break;
	case 1:
		ret = bpf_skb_change_tail(skb, skb->len > 20 ? skb->len - 20 : 2, 0);
		break;
	case 2:
		ret = bpf_skb_change_head(skb, 14, 0);
		break;
	case 3:
		ret = bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), 0x1005);
		break;
	case 4:
		ret = bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021AD), 0x2006);
		if (!ret)
			ret = bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), 0x3007);
		break;
	case 5:
		ret = bpf_skb_vlan_pop(skb);
		break;
	case 6:
		ret = bpf_skb_pull_data(skb, skb->len + (how >> 3));
		break;
	default:
		ret = bpf_skb_change_tail(skb, 70000, 0);
		break;
	}
	skb->cb[0] = ret;
	skb->cb[1] = skb->len;
	skb->cb[2] = skb->vlan_present << 16 | skb->vlan_tci;
	skb->cb[3] = skb->vlan_proto << 16 | skb->protocol;
	skb->cb[4] = skb->data_end - skb->data;
	return TC_ACT_OK;
}

/* TC: bpf_skb_adjust_room, the case chosen by the packet's first byte. */
SEC("tc")
int tc_room(struct __sk_buff *skb)
{
	const __u64 decap4 = 1ULL << 7, decap6 = 1ULL << 8; /* BPF_F_ADJ_ROOM_DECAP_L3_IPV4/6 */
	__u8 how;
	long ret;

	if (bpf_skb_load_bytes(skb, 0, &how, 1) < 0)
		return TC_ACT_SHOT;
	switch (how & 0xf) {
	case 0:
		ret = bpf_skb_adjust_room(skb, 8, BPF_ADJ_ROOM_NET, 0);
		break;
	case 1:
		ret = bpf_skb_adjust_room(skb, -8, BPF_ADJ_ROOM_NET, 0);
		break;
	case 2:
		ret = bpf_skb_adjust_room(skb, 20, BPF_ADJ_ROOM_MAC, BPF_F_ADJ_ROOM_ENCAP_L3_IPV4);
		break;
	case 3:
		ret = bpf_skb_adjust_room(skb, 48, BPF_ADJ_ROOM_MAC,
					  BPF_F_ADJ_ROOM_ENCAP_L3_IPV6 | BPF_F_ADJ_ROOM_ENCAP_L4_UDP);
		break;
	case 4:
		ret = bpf_skb_adjust_room(skb, -20, BPF_ADJ_ROOM_MAC, decap4);
		break;
	case 5:
		ret = bpf_skb_adjust_room(skb, -40, BPF_ADJ_ROOM_MAC, decap6);
		break;
	case 6:
		ret = bpf_skb_adjust_room(skb, 34, BPF_ADJ_ROOM_MAC,
					  BPF_F_ADJ_ROOM_ENCAP_L3_IPV4 | BPF_F_ADJ_ROOM_ENCAP_L2_ETH |
					  BPF_F_ADJ_ROOM_ENCAP_L2(14));
		break;
	case 7:
		ret = bpf_skb_adjust_room(skb, 8, 7, 0);
		break;
	case 8:
		ret = bpf_skb_adjust_room(skb, 0x1000, BPF_ADJ_ROOM_NET, 0);
		break;
	case 9:
		ret = bpf_skb_adjust_room(skb, -2000, BPF_ADJ_ROOM_MAC, 0);
		break;
	case 10:
		ret = bpf_skb_adjust_room(skb, 8, BPF_ADJ_ROOM_MAC,
					  BPF_F_ADJ_ROOM_ENCAP_L3_IPV4 | BPF_F_ADJ_ROOM_ENCAP_L3_IPV6);
		break;
	case 11:
		ret = bpf_skb_adjust_room(skb, 8, BPF_ADJ_ROOM_MAC,
					  BPF_F_ADJ_ROOM_ENCAP_L2_ETH | BPF_F_ADJ_ROOM_ENCAP_L3_IPV4);
		break;
	case 12:
		ret = bpf_skb_adjust_room(skb, 8, BPF_ADJ_ROOM_NET, 1ULL << 9);
		break;
	case 13:
		ret = bpf_skb_adjust_room(skb, 8, BPF_ADJ_ROOM_MAC, decap4);
		break;
	case 14:
		ret = bpf_skb_adjust_room(skb, -4, BPF_ADJ_ROOM_NET, decap4 | decap6);
		break;
	default:
		ret = bpf_skb_adjust_room(skb, -8, BPF_ADJ_ROOM_MAC, BPF_F_ADJ_ROOM_ENCAP_L3_IPV4);
		break;
	}
	skb->cb[0] = ret;
	/* a second encapsulation is refused */
	if (how & 0x80)
		skb->cb[1] = bpf_skb_adjust_room(skb, 20, BPF_ADJ_ROOM_MAC,
						 BPF_F_ADJ_ROOM_ENCAP_L3_IPV4);
	skb->cb[2] = skb->len;
	skb->cb[3] = skb->protocol;
	skb->cb[4] = skb->data_end - skb->data;
	return TC_ACT_OK;
}

/*
 * XDP: bpf_xdp_load_bytes and bpf_xdp_store_bytes across the first page's
 * end into a multi-buffer frame's fragments, and past the frame.
 */
SEC("xdp.frags")
int xdp_frag_bytes(struct xdp_md *ctx)
{
	__u32 len = bpf_xdp_get_buff_len(ctx);
	__u8 buf[8], swapped[8];
	long ret;

	ret = bpf_xdp_load_bytes(ctx, len > 12 ? len - 12 : 0, buf, sizeof(buf));
	for (int i = 0; i < 8; i++)
		swapped[i] = buf[7 - i];
	ret |= bpf_xdp_store_bytes(ctx, 3516, swapped, sizeof(swapped)) << 8;
	ret |= bpf_xdp_store_bytes(ctx, 14, buf, sizeof(buf)) << 16;
	ret |= bpf_xdp_load_bytes(ctx, len - 4, buf, sizeof(buf)) << 24;
	return ret & 0xff ? XDP_ABORTED : ret ? XDP_DROP : XDP_PASS;
}

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} ports SEC(".maps");

/* XDP: bpf_redirect_map with the key and flags the packet's first bytes give. */
SEC("xdp")
int xdp_redirect_port(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	__u8 *p = data;

	if (data + 2 > data_end)
		return XDP_ABORTED;
	return bpf_redirect_map(&ports, p[0] & 7, p[1]);
}

/* Raw tracepoints run on the caller's argument bytes. */
SEC("raw_tracepoint/sys_enter")
int raw_args(__u64 *args)
{
	return args[0] * 10 + args[1];
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
