/* SPDX-License-Identifier: MIT */
/*
 * BPF_PROG_TEST_RUN's rules in Sluice, with exact values: packet sizes,
 * which context fields a caller may set, what each type's context holds,
 * how socket filters and cgroup programs see the packet, XDP metadata,
 * -ENOSPC, repeats, raw tracepoints.  test_test_run_kernel holds the same
 * runs against the kernel.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include <sluice/maps.h>

#include "packets.h"
#include "rt_fixture.h"

#define OBJ PROGTYPES_BPF_DIR "/progtypes.bpf.o"

static struct rt_fixture fx;
/* 17 fragments of a page */
#define RT_FRAGS_MAX_BYTES (17 * 4096)

static uint8_t pkt[PACKET_MAX], out[3520 + RT_FRAGS_MAX_BYTES + 64];
static size_t pkt_len;

static int setup(void **state)
{
	(void)state;
	fixture_load(&fx, OBJ);
	/* 142 bytes: Ethernet to 00:..:00 (loopback's address), IPv4 10.0.0.1 > 192.168.1.7, UDP */
	pkt_len = packet_ipv4_udp(pkt, 100);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fixture_free(&fx);
	return 0;
}

static uint32_t field(unsigned i)
{
	uint32_t v;

	memcpy(&v, out + 14 + 4 * i, 4);
	return v;
}

static void sizes(void **state)
{
	static uint8_t big[3713];
	struct sluice_test_run t;
	struct sluice_error err;

	(void)state;
	assert_int_equal(fixture_run(&fx, "tc_fields", big, 13, out, sizeof(out), &t, &err), -EINVAL);
	assert_int_equal(fixture_run(&fx, "tc_fields", big, 3712, out, sizeof(out), &t, &err), 0);
	assert_int_equal(t.data_size_out, 3712);
	assert_int_equal(fixture_run(&fx, "tc_fields", big, 3713, out, sizeof(out), &t, &err), -EINVAL);
	assert_int_equal(fixture_run(&fx, "socket_view", big, 13, out, sizeof(out), &t, &err), -EINVAL);
	assert_int_equal(fixture_run(&fx, "xdp_moves", big, 13, out, sizeof(out), &t, &err), -EINVAL);
	assert_int_equal(fixture_run(&fx, "xdp_moves", big, 3520, out, sizeof(out), &t, &err), 0);
	assert_int_equal(t.retval, XDP_PASS);
	/* above this the frame takes more pages */
	assert_int_equal(fixture_run(&fx, "xdp_moves", big, 3521, out, sizeof(out), &t, &err), 0);
	assert_int_equal(t.data_size_out, 3521);
	/* IPv4 needs its whole header after the Ethernet header (Linux 6.18) */
	assert_int_equal(fixture_run(&fx, "tc_fields", pkt, 33, out, sizeof(out), &t, &err), -EINVAL);
	assert_int_equal(fixture_run(&fx, "tc_fields", pkt, 34, out, sizeof(out), &t, &err), 0);
}

static void tc_context_without_ctx_in(void **state)
{
	struct sluice_test_run t;
	struct sluice_error err;
	static const uint32_t want[] = {
		142, 0 /* PACKET_HOST */, 0, 0, 0x0008 /* htons(ETH_P_IP) */, 0, 0, 0, 0, 0,
		1 /* loopback */, 0x2345 /* tc_index is 16 bits */, 0, 0, 0,
		0xcdef /* so is tc_classid */, 142, 0, 0, 0 /* wire_len: never set */, 0, 0, 0, 0,
	};

	(void)state;
	assert_int_equal(fixture_run(&fx, "tc_fields", pkt, (uint32_t)pkt_len, out, sizeof(out),
				     &t, &err), 0);
	assert_int_equal(t.retval, TC_ACT_OK);
	assert_int_equal(t.data_size_out, 142);
	assert_memory_equal(out, pkt, 14);
	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (field(i) != want[i])
			fail_msg("field %u: 0x%x, want 0x%x", i, field(i), want[i]);
}

static void tc_context_in_and_out(void **state)
{
	struct __sk_buff in = { .mark = 0x55, .priority = 3, .cb = { 1, 2, 3, 4, 5 },
				.tstamp = 1000, .gso_segs = 2 }, ctx_out;
	struct sluice_test_run t;
	struct sluice_error err;

	(void)state;
	fixture_prepare(&t, pkt, (uint32_t)pkt_len, out, sizeof(out));
	t.ctx_in = &in;
	t.ctx_size_in = sizeof(in);
	t.ctx_out = &ctx_out;
	t.ctx_size_out = sizeof(ctx_out);
	assert_int_equal(sluice_rt_test_run(fixture_prog(&fx, "tc_fields"), &t, &err), 0);
	assert_int_equal(field(2), 0x55);
	assert_int_equal(field(8), 3);
	assert_int_equal(field(12), 1);
	assert_int_equal(field(13), 5);
	assert_int_equal(field(19), 142);  /* wire_len: the packet's length */
	assert_int_equal(field(20), 2);
	assert_int_equal(field(22), 1000);
	assert_int_equal(t.ctx_size_out, sizeof(ctx_out));
	assert_int_equal(ctx_out.mark, 0x1234);
	assert_int_equal(ctx_out.priority, 7);
	assert_int_equal(ctx_out.cb[1], 142 * 3);
	assert_int_equal(ctx_out.ifindex, 1);
	assert_int_equal(ctx_out.wire_len, 142);
	assert_int_equal(ctx_out.tstamp, 1000);
	/* what the kernel does not copy back stays as the caller gave it */
	assert_int_equal(ctx_out.len, 0);
	assert_int_equal(ctx_out.tc_index, 0);
}

struct skb_ctx_case {
	size_t off;
	uint32_t value;
	int expect;
};

static void tc_ctx_in_rules(void **state)
{
	static const struct skb_ctx_case cases[] = {
		{ offsetof(struct __sk_buff, len), 1, -EINVAL },
		{ offsetof(struct __sk_buff, queue_mapping), 1, -EINVAL },
		{ offsetof(struct __sk_buff, tc_index), 1, -EINVAL },
		{ offsetof(struct __sk_buff, hash), 1, -EINVAL },
		{ offsetof(struct __sk_buff, data), 1, -EINVAL },
		{ offsetof(struct __sk_buff, gso_size) + 4, 1, -EINVAL },
		{ offsetof(struct __sk_buff, ifindex), 999999, -ENODEV },
		{ offsetof(struct __sk_buff, wire_len), 100, -EINVAL },     /* below len */
		{ offsetof(struct __sk_buff, wire_len), 65537, -EINVAL },
		{ offsetof(struct __sk_buff, wire_len), 65536, 0 },
		{ offsetof(struct __sk_buff, gso_segs), 65536, -EINVAL },
		{ offsetof(struct __sk_buff, ingress_ifindex), 7, 0 },
		{ offsetof(struct __sk_buff, hwtstamp), 9, 0 },
	};
	uint8_t ctx[sizeof(struct __sk_buff) + 8];
	struct sluice_test_run t;
	struct sluice_error err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(ctx, 0, sizeof(ctx));
		memcpy(ctx + cases[i].off, &cases[i].value, 4);
		fixture_prepare(&t, pkt, (uint32_t)pkt_len, out, sizeof(out));
		t.ctx_in = ctx;
		t.ctx_size_in = sizeof(struct __sk_buff);
		if (sluice_rt_test_run(fixture_prog(&fx, "tc_fields"), &t, &err) != cases[i].expect)
			fail_msg("case %zu: %s", i, err.msg);
	}
	/* a longer context is fine while its tail is zero */
	memset(ctx, 0, sizeof(ctx));
	t.ctx_size_in = sizeof(ctx);
	assert_int_equal(sluice_rt_test_run(fixture_prog(&fx, "tc_fields"), &t, &err), 0);
	ctx[sizeof(ctx) - 1] = 1;
	assert_int_equal(sluice_rt_test_run(fixture_prog(&fx, "tc_fields"), &t, &err), -E2BIG);
	t.ctx_in = NULL;
	t.flags = 1;
	assert_int_equal(sluice_rt_test_run(fixture_prog(&fx, "tc_fields"), &t, &err), -EINVAL);
	t.flags = 0;
	t.cpu = 1;
	assert_int_equal(sluice_rt_test_run(fixture_prog(&fx, "tc_fields"), &t, &err), -EINVAL);
}

static void no_space(void **state)
{
	struct sluice_test_run t;
	struct sluice_error err;

	(void)state;
	memset(out, 0xee, 16);
	assert_int_equal(fixture_run(&fx, "tc_fields", pkt, (uint32_t)pkt_len, out, 10, &t, &err),
			 -ENOSPC);
	assert_int_equal(t.data_size_out, 142);
	assert_int_equal(t.retval, TC_ACT_OK);
	assert_memory_equal(out, pkt, 10);
	assert_int_equal(out[10], 0xee);
}

/* A socket filter sees the packet from its network header on; data_out has 14 zero bytes first. */
static void socket_filter_view(void **state)
{
	static const uint8_t other_host[6] = { 0x02, 0x42, 0xac, 0x11, 0, 2 };
	uint8_t frame[PACKET_MAX], zeros[14] = { 0 };
	struct __sk_buff in = { 0 }, ctx_out;
	struct sluice_test_run t;
	struct sluice_error err;

	(void)state;
	memcpy(frame, pkt, pkt_len);
	memcpy(frame, other_host, 6);
	fixture_prepare(&t, frame, (uint32_t)pkt_len, out, sizeof(out));
	t.ctx_in = &in;
	t.ctx_size_in = sizeof(in);
	t.ctx_out = &ctx_out;
	t.ctx_size_out = sizeof(ctx_out);
	assert_int_equal(sluice_rt_test_run(fixture_prog(&fx, "socket_view"), &t, &err), 0);
	assert_int_equal(t.retval, 142 - 14 - 1);
	assert_int_equal(t.data_size_out, 142);
	assert_memory_equal(out, zeros, 14);
	assert_memory_equal(out + 14, frame + 14, 142 - 14);
	assert_int_equal(ctx_out.cb[0], 0x11ac4202);       /* the MAC header */
	assert_int_equal(ctx_out.cb[1], 0x80000045);       /* the network header */
	assert_int_equal(ctx_out.cb[2], 0x80000045);       /* skb->data */
	assert_int_equal(ctx_out.cb[3], 0x45000080);       /* LD_ABS: big-endian */
	assert_int_equal(ctx_out.cb[4], 0x0008 << 16 | 3); /* PACKET_OTHERHOST */
}

static void cgroup_skb_view(void **state)
{
	uint8_t zeros[14] = { 0 };
	struct __sk_buff in = { 0 }, ctx_out;
	struct sluice_test_run t;
	struct sluice_error err;

	(void)state;
	fixture_prepare(&t, pkt, (uint32_t)pkt_len, out, sizeof(out));
	t.ctx_in = &in;
	t.ctx_size_in = sizeof(in);
	t.ctx_out = &ctx_out;
	t.ctx_size_out = sizeof(ctx_out);
	assert_int_equal(sluice_rt_test_run(fixture_prog(&fx, "cgroup_view"), &t, &err), 0);
	assert_int_equal(t.retval, 1);
	assert_int_equal(ctx_out.cb[0], 2);           /* AF_INET */
	assert_int_equal(ctx_out.cb[1], 0x0100000a);  /* local: the source 10.0.0.1 */
	assert_int_equal(ctx_out.cb[2], 0x0701a8c0);  /* remote: the destination */
	assert_int_equal(ctx_out.cb[4], 128);         /* data_end - data: from the network header */
	assert_int_equal(ctx_out.mark, 128);
	assert_memory_equal(out, zeros, 14);
}

/* Metadata from ctx_in, moved by adjust_meta, adjust_head and adjust_tail. */
static void xdp_metadata(void **state)
{
	uint8_t in[8 + PACKET_MAX], want_meta[12] = { 0, 0, 1, 0 };
	size_t len = 8 + pkt_len;
	struct xdp_md ctx = { .data = 8, .data_end = (uint32_t)len, .ingress_ifindex = 1 }, ctx_out;
	struct sluice_test_run t;
	struct sluice_error err;

	(void)state;
	memset(in, 0xaa, 8);
	memcpy(in + 8, pkt, pkt_len);
	in[8] = 4;       /* 4 more bytes of metadata */
	in[9] = 0xf2;    /* the packet starts 14 bytes earlier */
	in[10] = 10;     /* and ends 10 bytes later */
	fixture_prepare(&t, in, (uint32_t)len, out, sizeof(out));
	t.ctx_in = &ctx;
	t.ctx_size_in = sizeof(ctx);
	t.ctx_out = &ctx_out;
	t.ctx_size_out = sizeof(ctx_out);
	assert_int_equal(sluice_rt_test_run(fixture_prog(&fx, "xdp_moves"), &t, &err), 0);
	assert_int_equal(t.retval, XDP_PASS);
	assert_int_equal(t.data_size_out, 12 + 14 + pkt_len + 10);
	memset(want_meta + 4, 0xaa, 8);
	assert_memory_equal(out, want_meta, 12);       /* ingress_ifindex << 16, the old metadata */
	assert_int_equal(out[12], (uint8_t)(14 + pkt_len + 10)); /* bpf_xdp_get_buff_len */
	assert_int_equal(out[13], 12);                 /* data - data_meta */
	assert_memory_equal(out + 12 + 14, in + 8, pkt_len);
	assert_int_equal(out[12 + 14 + pkt_len + 9], 0);
	assert_int_equal(ctx_out.data, 12);
	assert_int_equal(ctx_out.data_end, 12 + 14 + pkt_len + 10);
	assert_int_equal(ctx_out.ingress_ifindex, 1);

	/* without ctx_in, the frame comes from loopback's queue 0 */
	in[8] = 4;
	in[9] = 0;
	in[10] = 0;
	assert_int_equal(fixture_run(&fx, "xdp_moves", in + 8, (uint32_t)pkt_len, out, sizeof(out),
				     &t, &err), 0);
	assert_int_equal(out[0] | out[1] << 8 | out[2] << 16 | out[3] << 24, 1 << 16);
}

/* What passes the first page goes into fragments: the program sees the first page only. */
static void xdp_multi_buffer(void **state)
{
	static uint8_t jumbo[3520 + RT_FRAGS_MAX_BYTES + 1], copy[sizeof(jumbo)];
	struct xdp_md ctx = { .data_end = 3520 + 5000 }, ctx_out;
	struct sluice_test_run t;
	struct sluice_error err;

	(void)state;
	for (size_t i = 0; i < sizeof(jumbo); i++)
		jumbo[i] = (uint8_t)(i * 7 + 1);
	jumbo[0] = jumbo[1] = 0;
	jumbo[2] = 10;                           /* the last fragment grows by 10 zero bytes */
	memcpy(copy, jumbo, sizeof(jumbo));
	fixture_prepare(&t, jumbo, 3520 + 5000, out, sizeof(out));
	t.ctx_in = &ctx;
	t.ctx_size_in = sizeof(ctx);
	t.ctx_out = &ctx_out;
	t.ctx_size_out = sizeof(ctx_out);
	assert_int_equal(sluice_rt_test_run(fixture_prog(&fx, "xdp_moves"), &t, &err), 0);
	assert_int_equal(t.retval, XDP_PASS);
	assert_int_equal(t.data_size_out, 3520 + 5000 + 10);
	assert_int_equal(out[0], (uint8_t)(3520 + 5000 + 10)); /* bpf_xdp_get_buff_len */
	assert_memory_equal(out + 2, copy + 2, 3520 + 5000 - 2);
	assert_int_equal(out[3520 + 5000], 0);
	assert_int_equal(ctx_out.data_end, 3520);
	/* fragments shrink from the last, then the first page */
	jumbo[2] = (uint8_t)-100;
	assert_int_equal(fixture_run(&fx, "xdp_moves", jumbo, 3520 + 50, out, sizeof(out), &t,
				     &err), 0);
	assert_int_equal(t.data_size_out, 3470);
	/* room for less than the fragments: an error, and nothing written */
	assert_int_equal(fixture_run(&fx, "xdp_moves", jumbo, 3520 + 5000, out, 4000, &t, &err),
			 -ENOSPC);
	assert_int_equal(t.data_size_out, 4000);
	/* at most MAX_SKB_FRAGS pages of fragments */
	assert_int_equal(fixture_run(&fx, "xdp_moves", jumbo, sizeof(jumbo), out, sizeof(out), &t,
				     &err), -ENOMEM);
}

struct xdp_ctx_case {
	struct xdp_md md;
	uint32_t flags;
	int expect;
};

static void xdp_ctx_in_rules(void **state)
{
	const uint32_t n = (uint32_t)pkt_len;
	const struct xdp_ctx_case cases[] = {
		{ { .data_end = n }, 0, 0 },
		{ { .data_end = n, .data_meta = 4 }, 0, -EINVAL },
		{ { .data_end = n - 1 }, 0, -EINVAL },
		{ { .data_end = n, .data = 6 }, 0, -EINVAL },     /* not whole words */
		{ { .data_end = n, .data = 256 }, 0, -EINVAL },   /* more than 255 */
		{ { .data_end = n, .data = 128 }, 0, 0 },         /* 14 bytes of packet left */
		{ { .data_end = n, .data = 132 }, 0, -EINVAL },
		{ { .data_end = n, .egress_ifindex = 1 }, 0, -EINVAL },
		{ { .data_end = n, .rx_queue_index = 1 }, 0, -EINVAL },
		{ { .data_end = n, .ingress_ifindex = 1, .rx_queue_index = 999 }, 0, -EINVAL },
		{ { .data_end = n, .ingress_ifindex = 999999 }, 0, -ENODEV },
		{ { .data_end = n }, BPF_F_TEST_XDP_LIVE_FRAMES, -SLUICE_ENOTSUPP },
		{ { .data_end = n }, BPF_F_TEST_RUN_ON_CPU, -EINVAL },
	};
	struct sluice_test_run t;
	struct sluice_error err;
	struct xdp_md ctx_out;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fixture_prepare(&t, pkt, n, out, sizeof(out));
		t.ctx_in = &cases[i].md;
		t.ctx_size_in = sizeof(cases[i].md);
		t.flags = cases[i].flags;
		if (sluice_rt_test_run(fixture_prog(&fx, "xdp_moves"), &t, &err) != cases[i].expect)
			fail_msg("case %zu: %s", i, err.msg);
	}
	/* ctx_out alone means a zero context, whose data_end is not the packet's size */
	fixture_prepare(&t, pkt, n, out, sizeof(out));
	t.ctx_out = &ctx_out;
	t.ctx_size_out = sizeof(ctx_out);
	assert_int_equal(sluice_rt_test_run(fixture_prog(&fx, "xdp_moves"), &t, &err), -EINVAL);
}

/* Each repeat runs on what the one before left. */
static void repeat_runs_on_the_same_packet(void **state)
{
	uint8_t frame[PACKET_MAX];
	struct sluice_test_run t;
	struct sluice_error err;

	(void)state;
	memcpy(frame, pkt, pkt_len);
	frame[0] = 0; /* tc_reshape: grow the tail by 9 */
	fixture_prepare(&t, frame, (uint32_t)pkt_len, out, sizeof(out));
	t.repeat = 3;
	assert_int_equal(sluice_rt_test_run(fixture_prog(&fx, "tc_reshape"), &t, &err), 0);
	assert_int_equal(t.data_size_out, pkt_len + 27);
}

static void raw_tracepoint(void **state)
{
	const uint64_t args[3] = { 4, 2, 9 };
	struct sluice_test_run t = { .sz = sizeof(t), .ctx_in = args, .ctx_size_in = 16 };
	struct sluice_rt_prog *prog = fixture_prog(&fx, "raw_args");
	struct sluice_error err;

	(void)state;
	assert_int_equal(sluice_rt_test_run(prog, &t, &err), 0);
	assert_int_equal(t.retval, 42);
	/* the program reads 16 bytes: less context is refused */
	t.ctx_size_in = 8;
	assert_int_equal(sluice_rt_test_run(prog, &t, &err), -EINVAL);
	t.ctx_size_in = 24;
	t.repeat = 2;
	assert_int_equal(sluice_rt_test_run(prog, &t, &err), -EINVAL);
	t.repeat = 0;
	t.ctx_size_in = 12 * 8 + 8;
	assert_int_equal(sluice_rt_test_run(prog, &t, &err), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sizes),
		cmocka_unit_test(tc_context_without_ctx_in),
		cmocka_unit_test(tc_context_in_and_out),
		cmocka_unit_test(tc_ctx_in_rules),
		cmocka_unit_test(no_space),
		cmocka_unit_test(socket_filter_view),
		cmocka_unit_test(cgroup_skb_view),
		cmocka_unit_test(xdp_metadata),
		cmocka_unit_test(xdp_multi_buffer),
		cmocka_unit_test(xdp_ctx_in_rules),
		cmocka_unit_test(repeat_runs_on_the_same_packet),
		cmocka_unit_test(raw_tracepoint),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
