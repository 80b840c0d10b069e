// SPDX-License-Identifier: MIT
/*
 * Forwarding with bpf_fib_lookup and the redirect helpers: results that
 * depend on the route table, so they are checked against the routes the
 * test gives Sluice (tests/helpers/test_packet.c), not against the host's.
 */
#include <stddef.h>

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "forward.h"

#define AF_INET 2

SEC("xdp")
int xdp_fib(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct iphdr *ip = data + ETH_HLEN;
	struct fib_report *out = (void *)(ip + 1);
	struct bpf_fib_lookup params = {};
	__u32 flags;

	if ((void *)(out + 1) > data_end)
		return XDP_ABORTED;
	/* the TOS byte chooses the flags, the total length is the MTU check's */
	flags = ip->tos;
	params.family = AF_INET;
	params.ipv4_dst = ip->daddr;
	params.ipv4_src = ip->saddr;
	params.tot_len = bpf_ntohs(ip->tot_len);
	params.ifindex = ctx->ingress_ifindex;
	out->rc = bpf_fib_lookup(ctx, &params, sizeof(params), flags);
	out->ifindex = params.ifindex;
	out->mtu = params.mtu_result;
	__builtin_memcpy(out->smac, params.smac, ETH_ALEN);
	__builtin_memcpy(out->dmac, params.dmac, ETH_ALEN);
	out->next_hop = params.ipv4_dst;
	if (out->rc == BPF_FIB_LKUP_RET_SUCCESS)
		return bpf_redirect(params.ifindex, 0);
	return XDP_PASS;
}

/* TC: redirect to the ifindex the packet's first byte names, the second its flags. */
SEC("tc")
int tc_redirect(struct __sk_buff *skb)
{
	__u8 target[2];

	if (bpf_skb_load_bytes(skb, 0, target, sizeof(target)) < 0)
		return TC_ACT_SHOT;
	skb->cb[0] = bpf_clone_redirect(skb, target[0], target[1]);
	return bpf_redirect(target[0], target[1]);
}

char LICENSE[] SEC("license") = "GPL";
