// SPDX-License-Identifier: MIT
/*
 * Test object in iproute2's style (tc filter ... bpf obj): legacy `maps`
 * holding struct bpf_elf_map, a classifier that tail-calls into a
 * numbered section ("1/0": prog array id 1, slot 0), and no BTF.  libbpf
 * 1.x refuses such objects; Sluice reads them.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include <bpf/bpf_helpers.h>

/* iproute2's include/bpf_elf.h */
struct bpf_elf_map {
	__u32 type;
	__u32 size_key;
	__u32 size_value;
	__u32 max_elem;
	__u32 flags;
	__u32 id;
	__u32 pinning;
	__u32 inner_id;
	__u32 inner_idx;
};

#define PIN_GLOBAL_NS 2

struct bpf_elf_map counters SEC("maps") = {
	.type = BPF_MAP_TYPE_ARRAY, .size_key = 4, .size_value = 8, .max_elem = 4,
	.pinning = PIN_GLOBAL_NS,
};

struct bpf_elf_map jmp_table SEC("maps") = {
	.type = BPF_MAP_TYPE_PROG_ARRAY, .id = 1, .size_key = 4, .size_value = 4, .max_elem = 2,
};

struct bpf_elf_map inner SEC("maps") = {
	.type = BPF_MAP_TYPE_ARRAY, .id = 2, .size_key = 4, .size_value = 4, .max_elem = 1,
};

struct bpf_elf_map outer SEC("maps") = {
	.type = BPF_MAP_TYPE_ARRAY_OF_MAPS, .size_key = 4, .size_value = 4, .max_elem = 1,
	.inner_id = 2,
};

static __always_inline void count(__u32 slot)
{
	__u64 *n = bpf_map_lookup_elem(&counters, &slot);

	if (n)
		__sync_fetch_and_add(n, 1);
}

SEC("1/0")
int cls_tail(struct __sk_buff *skb)
{
	count(1);
	return TC_ACT_SHOT;
}

SEC("classifier")
int cls_main(struct __sk_buff *skb)
{
	__u32 zero = 0;

	count(0);
	if (bpf_map_lookup_elem(&outer, &zero))
		bpf_tail_call(skb, &jmp_table, 0);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
