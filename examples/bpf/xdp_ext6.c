// SPDX-License-Identifier: MIT
/*
 * An IPv6 extension-header walker spread over tail calls, as large parsers
 * spread their states over programs to stay within the verifier's limits:
 * xdp_ext6 finds the IPv6 header, then xdp_ext6_step skips one extension
 * header per tail call (into itself, through a program array) until it
 * reaches the transport protocol.  The walk's position lives in a per-CPU
 * scratch map between calls.
 *
 * Verdicts: TCP, UDP and ICMPv6 pass and are counted; "no next header"
 * and headers cut short are dropped; a chain so long that the kernel's
 * limit of 33 tail calls ends it is aborted (and counted: an attacker's
 * packet, not a sender's).  Anything but untagged IPv6 passes untouched.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ipv6.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

/* How far into the frame the walk may go: the verifier needs a bound. */
#define MAX_OFFSET 1024

enum outcome { OUT_TCP, OUT_UDP, OUT_ICMPV6, OUT_OTHER, OUT_NONE, OUT_TRUNCATED, OUT_TOO_DEEP,
	       OUTCOMES };

struct walk {
	__u32 offset;  /* of the header to look at next */
	__u32 nexthdr; /* what it is */
	__u32 hops;    /* extension headers skipped so far */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct walk);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, OUTCOMES);
	__type(key, __u32);
	__type(value, __u64);
} outcomes SEC(".maps");

/* extension headers skipped, summed over every packet that got to its transport */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} hops_total SEC(".maps");

int xdp_ext6_step(struct xdp_md *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__array(values, int(void *));
} steps SEC(".maps") = {
	.values = { [0] = (void *)&xdp_ext6_step },
};

static __always_inline int finish(enum outcome o, int verdict)
{
	__u32 key = o;
	__u64 *n = bpf_map_lookup_elem(&outcomes, &key);

	if (n)
		__sync_fetch_and_add(n, 1);
	return verdict;
}

static __always_inline int transport(struct walk *w, enum outcome o)
{
	__u32 zero = 0;
	__u64 *total = bpf_map_lookup_elem(&hops_total, &zero);

	if (total)
		__sync_fetch_and_add(total, w->hops);
	return finish(o, XDP_PASS);
}

SEC("xdp")
int xdp_ext6_step(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	__u32 zero = 0, len;
	struct walk *w = bpf_map_lookup_elem(&scratch, &zero);
	__u8 *hdr;

	if (!w)
		return XDP_ABORTED;
	switch (w->nexthdr) {
	case IPPROTO_TCP:
		return transport(w, OUT_TCP);
	case IPPROTO_UDP:
		return transport(w, OUT_UDP);
	case IPPROTO_ICMPV6:
		return transport(w, OUT_ICMPV6);
	case IPPROTO_NONE:
		return finish(OUT_NONE, XDP_DROP);
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_DSTOPTS:
	case IPPROTO_FRAGMENT:
		break;
	default:
		return transport(w, OUT_OTHER);
	}
	if (w->offset > MAX_OFFSET)
		return finish(OUT_TRUNCATED, XDP_DROP);
	hdr = data + w->offset;
	if ((void *)(hdr + 2) > data_end)
		return finish(OUT_TRUNCATED, XDP_DROP);
	/* the fragment header has a fixed size; the others count 8-byte units beyond the first */
	len = w->nexthdr == IPPROTO_FRAGMENT ? 8 : (hdr[1] + 1) * 8;
	w->nexthdr = hdr[0];
	w->offset += len;
	w->hops++;
	bpf_tail_call(ctx, &steps, 0);
	/* only when the kernel's limit on tail calls is reached */
	return finish(OUT_TOO_DEEP, XDP_ABORTED);
}

SEC("xdp")
int xdp_ext6(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6 = (void *)(eth + 1);
	struct walk *w;
	__u32 zero = 0;

	if ((void *)(ip6 + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IPV6))
		return XDP_PASS;
	w = bpf_map_lookup_elem(&scratch, &zero);
	if (!w)
		return XDP_ABORTED;
	w->offset = sizeof(*eth) + sizeof(*ip6);
	w->nexthdr = ip6->nexthdr;
	w->hops = 0;
	bpf_tail_call(ctx, &steps, 0);
	return XDP_ABORTED;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
