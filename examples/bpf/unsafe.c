// SPDX-License-Identifier: MIT
/*
 * Deliberately unsafe: reads the EtherType without first checking that the
 * packet is long enough (no comparison against data_end).  The kernel's
 * verifier must reject it ("invalid access to packet"); it exists for the
 * tests that show that rejection.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_unsafe(struct xdp_md *ctx)
{
	struct ethhdr *eth = (void *)(long)ctx->data;

	if (eth->h_proto == bpf_htons(ETH_P_IP))
		return XDP_DROP;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
