// SPDX-License-Identifier: MIT
/*
 * Global data and bpf-to-bpf calls.  An XDP program that keeps a packet-size
 * histogram: configuration in .rodata (set before loading), a tunable in
 * .data, counters in .bss and one in a custom .data.stats section.  The
 * entry point calls a global function (verified on its own by the kernel)
 * and a static one; both live in .text and are linked into the program.
 */
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

#define HIST_BUCKETS 4

/* .rodata: the loader may change it before loading, the program cannot */
const volatile __u32 min_len = 60;
/* .data: packets at most this long go to the first bucket */
__u32 small_len = 128;
/* .bss */
__u64 packets;
__u64 bytes;
__u64 size_hist[HIST_BUCKETS];
/* a custom data section, as libbpf allows */
__u64 runts SEC(".data.stats") = 0;

/* A bucket for every power of two above small_len. */
static __noinline __u32 bucket(__u32 len)
{
	__u32 limit = small_len;
	__u32 b = 0;

	while (b < HIST_BUCKETS - 1 && len > limit) {
		limit *= 2;
		b++;
	}
	return b;
}

/* Counts one packet; non-zero when it is long enough to keep. */
__noinline int account(__u32 len)
{
	__sync_fetch_and_add(&packets, 1);
	__sync_fetch_and_add(&bytes, len);
	if (len < min_len) {
		__sync_fetch_and_add(&runts, 1);
		return 0;
	}
	return 1;
}

SEC("xdp")
int xdp_sizes(struct xdp_md *ctx)
{
	__u32 len = ctx->data_end - ctx->data;
	__u32 b;

	if (!account(len))
		return XDP_DROP;
	b = bucket(len);
	if (b < HIST_BUCKETS)
		__sync_fetch_and_add(&size_hist[b], 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
