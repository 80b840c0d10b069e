// SPDX-License-Identifier: MIT
/*
 * An object whose one program the verifier rejects (it reads the packet
 * unchecked) but which has a map: the kernel backend creates no map for
 * an object none of whose programs load.
 */
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} seen SEC(".maps");

SEC("xdp")
int xdp_unchecked(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *n = bpf_map_lookup_elem(&seen, &key);

	if (n)
		*n += *(__u8 *)(long)ctx->data;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
