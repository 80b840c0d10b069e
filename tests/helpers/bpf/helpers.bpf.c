// SPDX-License-Identifier: MIT
/*
 * Programs and maps for the helper tests: the maps the tests hand to the
 * helpers directly, and programs that reach the helpers needing a running
 * program (callbacks, tail calls) or a format string in .rodata.
 */
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 2);
	__type(value, __u32);
} queue SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} percpu SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} ringbuf SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16);
	__type(key, __u32);
	__uint(value_size, 127 * sizeof(__u64));
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} progs SEC(".maps");

/* A map of maps: lookups in the inner map a lookup in the outer one hands out. */
struct inner_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} inner SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct inner_map);
} outer SEC(".maps");

SEC("xdp")
int inner_lookup(struct xdp_md *ctx)
{
	__u32 key = 0, *value;
	void *map = bpf_map_lookup_elem(&outer, &key);

	if (!map)
		return 1;
	value = bpf_map_lookup_elem(map, &key);
	return value ? (int)*value : 2;
}

/* Knobs the tests set: [0] where loop_sum's callback stops (0: never), [1] tail_caller's slot. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} knobs SEC(".maps");

static __u32 knob(__u32 index)
{
	__u32 *value = bpf_map_lookup_elem(&knobs, &index);

	return value ? *value : 0;
}

struct loop_state {
	__u64 sum;
	__u32 stop_at;
};

/* bpf_loop: the sum of 0..9, up to the knob's index when it is set. */
static long add_index(__u32 index, struct loop_state *state)
{
	state->sum += index;
	return state->stop_at && index == state->stop_at;
}

SEC("xdp")
int loop_sum(struct xdp_md *ctx)
{
	struct loop_state state = { .stop_at = knob(0) };
	long done = bpf_loop(10, add_index, &state, 0);

	return (int)(done * 1000 + state.sum);
}

/* bpf_for_each_map_elem: the sum of the hash's values, 100 per element visited. */
static long add_value(void *map, __u32 *key, __u64 *value, __u64 *sum)
{
	*sum += *value;
	return 0;
}

SEC("xdp")
int hash_sum(struct xdp_md *ctx)
{
	__u64 sum = 0;
	long visited = bpf_for_each_map_elem(&hash, add_value, &sum, 0);

	return (int)(visited * 100 + sum);
}

/* bpf_tail_call through the slot the knob names: the tests put tail_target (42) in 0. */
SEC("xdp")
int tail_caller(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &progs, knob(1));
	return 7; /* only when the slot is empty */
}

SEC("xdp")
int tail_target(struct xdp_md *ctx)
{
	return 42;
}

/*
 * A program that tail-calls itself through slot 1: the kernel stops it
 * after 33 tail calls, and the last one returns how many runs there were.
 */
__u32 depth;

SEC("xdp")
int tail_self(struct xdp_md *ctx)
{
	depth++;
	bpf_tail_call(ctx, &progs, 1);
	return (int)depth;
}

/* Formats from .rodata, as programs pass them. */
SEC("xdp")
int printk(struct xdp_md *ctx)
{
	bpf_printk("len %u, %s", (__u32)(ctx->data_end - ctx->data), "ok");
	return (int)bpf_printk("%d%%", -3);
}

/* Events: the packet's length to the ring buffer, a tag and its first 4 bytes to perf. */
SEC("xdp")
int events_out(struct xdp_md *ctx)
{
	__u32 *sample = bpf_ringbuf_reserve(&ringbuf, sizeof(*sample), 0);
	__u64 tag = 0x1122334455667788;

	if (sample) {
		*sample = (__u32)(ctx->data_end - ctx->data);
		bpf_ringbuf_submit(sample, 0);
	}
	return (int)bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU | (4ull << 32),
					  &tag, sizeof(tag));
}

SEC("raw_tp/sys_enter")
int raw_tp(void *ctx)
{
	return 0;
}

/* Stacks from a program: the frames bpf_get_stack gives (up to 8), and bpf_get_stackid's id. */
SEC("raw_tp/sys_enter")
int stack_depth(void *ctx)
{
	__u64 ips[8];
	long len = bpf_get_stack(ctx, ips, sizeof(ips), 0);

	return len < 0 ? (int)len : (int)((__u64)len / 8);
}

SEC("raw_tp/sys_enter")
int stack_id(void *ctx)
{
	return (int)bpf_get_stackid(ctx, &stacks, 0);
}

char LICENSE[] SEC("license") = "GPL";
