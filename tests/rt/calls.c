// SPDX-License-Identifier: MIT
/*
 * What the runtime itself does for programs: tail calls through a prog
 * array filled from `.values`, up to the kernel's limit, and callbacks
 * (bpf_loop) into a subprogram that writes its caller's stack.
 */
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

__u64 runs;
__u64 loop_result;

int xdp_again(void *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__array(values, int(void *));
} again SEC(".maps") = {
	.values = { &xdp_again },
};

/* Tail-calls itself until the runtime refuses: 1 + 33 runs. */
SEC("xdp")
int xdp_again(void *ctx)
{
	__sync_fetch_and_add(&runs, 1);
	bpf_tail_call(ctx, &again, 0);
	return XDP_PASS;
}

static long add_index(__u32 i, void *data)
{
	__u64 *sum = data;

	*sum += i;
	return i == 9; /* stop after the tenth */
}

SEC("xdp")
int xdp_loop(struct xdp_md *ctx)
{
	__u64 sum = 0;
	long n = bpf_loop(100, add_index, &sum, 0);

	loop_result = sum * 1000 + n;
	return XDP_TX;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
