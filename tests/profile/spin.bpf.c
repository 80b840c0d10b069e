/* SPDX-License-Identifier: MIT */
/*
 * The program test_profile.sh samples in Sluice's runtime: an XDP program
 * whose time goes into two bpf-to-bpf calls and a helper, with names to
 * find in the flame graph.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} spin_sum SEC(".maps");

static __noinline __u64 spin_mix(__u64 h, __u32 round)
{
	for (__u32 i = 0; i < 32; i++)
		h = (h ^ (round + i)) * 0x100000001b3ULL;
	return h;
}

__noinline __u64 spin_rounds(__u32 len)
{
	__u64 h = 0xcbf29ce484222325ULL ^ len;

	for (__u32 r = 0; r < 64; r++)
		h = spin_mix(h, r);
	return h;
}

SEC("xdp")
int spin_xdp(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *sum = bpf_map_lookup_elem(&spin_sum, &key);

	if (sum)
		*sum += spin_rounds(ctx->data_end - ctx->data);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
