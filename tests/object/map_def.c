// SPDX-License-Identifier: MIT
/*
 * Test object with libbpf 0.x's legacy map definitions (struct bpf_map_def,
 * 20 bytes, in SEC("maps")), as older libbpf-based tools carry them.
 */
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

struct bpf_map_def {
	unsigned int type;
	unsigned int key_size;
	unsigned int value_size;
	unsigned int max_entries;
	unsigned int map_flags;
};

struct bpf_map_def SEC("maps") lengths = {
	.type = BPF_MAP_TYPE_HASH, .key_size = 4, .value_size = 8, .max_entries = 64,
};

struct bpf_map_def SEC("maps") seen = {
	.type = BPF_MAP_TYPE_PERCPU_ARRAY, .key_size = 4, .value_size = 8, .max_entries = 1,
	.map_flags = 0,
};

SEC("socket")
int count_lengths(struct __sk_buff *skb)
{
	__u32 len = skb->len, zero = 0;
	__u64 one = 1, *n;

	n = bpf_map_lookup_elem(&seen, &zero);
	if (n)
		*n += 1;
	n = bpf_map_lookup_elem(&lengths, &len);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&lengths, &len, &one, BPF_ANY);
	return skb->len;
}

char LICENSE[] SEC("license") = "GPL";
