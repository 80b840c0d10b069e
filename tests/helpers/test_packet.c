/* SPDX-License-Identifier: MIT */
/*
 * The packet helpers (helpers/packet.c, helpers/fib.c) through the
 * programs of tests/progtypes/bpf, on hand-made packets: checksums against
 * an RFC 1071 sum written here, the length and VLAN helpers byte for byte,
 * bpf_fib_lookup against the routes given, the redirects.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include <sluice/maps.h>

#include "../progtypes/bpf/forward.h"
#include "../progtypes/packets.h"
#include "../progtypes/rt_fixture.h"

static struct rt_fixture types, forward;
static uint8_t out[8192];

static int setup(void **state)
{
	(void)state;
	fixture_load(&types, PROGTYPES_BPF_DIR "/progtypes.bpf.o");
	fixture_load(&forward, PROGTYPES_BPF_DIR "/forward.bpf.o");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fixture_free(&types);
	fixture_free(&forward);
	return 0;
}

/* Run a TC or XDP program with a zero __sk_buff in, its context out in *ctx_out. */
static int run_ctx(const struct rt_fixture *f, const char *name, const uint8_t *frame,
		   size_t len, struct sluice_test_run *t, struct __sk_buff *ctx_out)
{
	static const struct __sk_buff zero;
	struct sluice_error err;

	fixture_prepare(t, frame, (uint32_t)len, out, sizeof(out));
	t->ctx_in = &zero;
	t->ctx_size_in = sizeof(zero);
	t->ctx_out = ctx_out;
	t->ctx_size_out = sizeof(*ctx_out);
	return sluice_rt_test_run(fixture_prog(f, name), t, &err);
}

/* The 16-bit ones' complement sum of len bytes as the host reads them, plus seed, folded. */
static uint16_t host_sum(const uint8_t *p, size_t len, uint32_t seed)
{
	uint64_t sum = seed;

	for (size_t i = 0; i < len; i += 2)
		sum += (uint32_t)(p[i] | p[i + 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint16_t ones_sub(uint16_t a, uint16_t b)
{
	uint32_t sum = (uint32_t)a + (uint16_t)~b;

	return (uint16_t)((sum & 0xffff) + (sum >> 16));
}

static void checksum_helpers(void **state)
{
	uint8_t frame[PACKET_MAX], ip[20];
	size_t len = packet_ipv4_udp(frame, 100);
	struct __sk_buff ctx;
	struct sluice_test_run t;
	uint16_t dport;

	(void)state;
	memcpy(ip, frame + 14, 20);
	assert_true(packet_ipv4_udp_valid(frame, len));
	assert_int_equal(run_ctx(&types, "tc_csum", frame, len, &t, &ctx), 0);
	assert_int_equal(t.retval, TC_ACT_OK);
	/* daddr 10.0.0.99, port 4242, and both checksums still hold */
	assert_memory_equal(out + 14 + 16, ((uint8_t[]){ 10, 0, 0, 99 }), 4);
	memcpy(&dport, out + 14 + 20 + 2, 2);
	assert_int_equal(ntohs(dport), 4242);
	assert_true(packet_ipv4_udp_valid(out, len));
	/* bpf_csum_diff: the folded sum, not complemented */
	assert_int_equal(ctx.cb[0], host_sum(ip, 20, 0xffff));
	assert_int_equal(ctx.cb[1], ones_sub(host_sum((const uint8_t *)&(uint32_t){ 0x12345678 }, 4, 0),
					     host_sum(ip, 20, 0)));
	assert_int_equal(ctx.cb[2], ones_sub(host_sum(ip + 12, 8, 0), host_sum(ip, 8, 0)));
	assert_int_equal(ctx.cb[3], (uint32_t)-EFAULT);  /* odd offset */
	assert_int_equal(ctx.cb[4], (uint32_t)-EINVAL);  /* 3 is no field size */
}

/*
 * BPF_F_MARK_MANGLED_0: a UDP checksum of 0 (none) stays 0, and an update
 * that comes to 0 is sent as 0xffff.  The kernel's fold never yields
 * 0xffff itself, and the updates map the starting checksums 1..0xffff one
 * to one onto 0..0xfffe: exactly one start ends at 0, and it must come out
 * as 0xffff.
 */
static void udp_checksum_mangled_0(void **state)
{
	uint8_t frame[PACKET_MAX];
	size_t len = packet_ipv4_udp(frame, 30);
	struct __sk_buff ctx;
	struct sluice_test_run t;
	unsigned all_ones = 0, zeros = 0;

	(void)state;
	for (uint32_t sum = 0; sum <= 0xffff; sum++) {
		frame[14 + 20 + 6] = (uint8_t)(sum >> 8);
		frame[14 + 20 + 7] = (uint8_t)sum;
		assert_int_equal(run_ctx(&types, "tc_csum", frame, len, &t, &ctx), 0);
		if (sum == 0)
			assert_int_equal(out[40] | out[41], 0);
		all_ones += out[40] == 0xff && out[41] == 0xff;
		zeros += sum && !out[40] && !out[41];
	}
	assert_int_equal(all_ones, 1);
	assert_int_equal(zeros, 0);
}

/* tc_reshape: the packet's first byte picks what it does. */
static uint8_t *reshape(uint8_t how, uint8_t *frame, size_t len, struct sluice_test_run *t,
			struct __sk_buff *ctx)
{
	frame[0] = how;
	assert_int_equal(run_ctx(&types, "tc_reshape", frame, len, t, ctx), 0);
	assert_int_equal(t->retval, TC_ACT_OK);
	return out;
}

static void length_helpers(void **state)
{
	uint8_t frame[PACKET_MAX], zeros[14] = { 0 };
	size_t len = packet_ipv4_udp(frame, 18);
	struct __sk_buff ctx;
	struct sluice_test_run t;

	(void)state;
	assert_int_equal(len, 60);
	reshape(0, frame, len, &t, &ctx);          /* change_tail(len + 9): zeros appended */
	assert_int_equal(t.data_size_out, 69);
	assert_memory_equal(out, frame, 60);
	assert_memory_equal(out + 60, zeros, 9);
	assert_int_equal(ctx.cb[0], 0);
	assert_int_equal(ctx.cb[1], 69);
	assert_int_equal(ctx.cb[4], 69);           /* data_end follows */
	reshape(1, frame, len, &t, &ctx);          /* change_tail(len - 20) */
	assert_int_equal(t.data_size_out, 40);
	assert_memory_equal(out, frame, 40);
	reshape(2, frame, len, &t, &ctx);          /* change_head(14): zeros in front */
	assert_int_equal(t.data_size_out, 74);
	assert_memory_equal(out, zeros, 14);
	assert_memory_equal(out + 14, frame, 60);
	reshape(6, frame, len, &t, &ctx);          /* pull_data(len) */
	assert_int_equal(ctx.cb[0], 0);
	reshape(6 | 1 << 3, frame, len, &t, &ctx); /* pull_data(len + 1) */
	assert_int_equal(ctx.cb[0], (uint32_t)-ENOMEM);
	reshape(7, frame, len, &t, &ctx);          /* change_tail(70000): above loopback's MTU */
	assert_int_equal(ctx.cb[0], (uint32_t)-EINVAL);
	assert_int_equal(t.data_size_out, 60);
}

static void vlan_helpers(void **state)
{
	static const uint8_t tags[] = { 0x88, 0xa8, 0x20, 0x06 };
	uint8_t frame[PACKET_MAX], tagged[PACKET_MAX];
	size_t len = packet_ipv4_udp(frame, 18);
	struct __sk_buff ctx;
	struct sluice_test_run t;

	(void)state;
	/* one push: the tag is the hardware's, the packet stays as it is */
	reshape(3, frame, len, &t, &ctx);
	assert_int_equal(t.data_size_out, 60);
	assert_memory_equal(out, frame, 60);
	assert_int_equal(ctx.cb[0], 0);
	assert_int_equal(ctx.cb[2], 1u << 16 | 0x1005);
	assert_int_equal(ctx.cb[3], 0x0081u << 16 | 0x0008);
	/* a second push moves the first tag into the packet */
	reshape(4, frame, len, &t, &ctx);
	assert_int_equal(t.data_size_out, 64);
	assert_memory_equal(out, frame, 12);
	assert_memory_equal(out + 12, tags, 4);
	assert_memory_equal(out + 16, frame + 12, 48);
	assert_int_equal(ctx.cb[2], 1u << 16 | 0x3007);
	assert_int_equal(ctx.cb[3], 0x0081u << 16 | 0xa888);
	/* pop: the packet's 802.1AD tag goes, its 802.1Q tag becomes the hardware's */
	memcpy(tagged, frame, 12);
	memcpy(tagged + 12, ((uint8_t[]){ 0x88, 0xa8, 0x00, 0x64, 0x81, 0x00, 0x20, 0x05 }), 8);
	memcpy(tagged + 20, frame + 12, 48);
	reshape(5, tagged, 68, &t, &ctx);
	assert_int_equal(ctx.cb[0], 0);
	assert_int_equal(t.data_size_out, 60);
	assert_memory_equal(out + 1, frame + 1, 59);
	assert_int_equal(ctx.cb[2], 1u << 16 | 0x2005);
	assert_int_equal(ctx.cb[3], 0x0081u << 16 | 0x0008);
	/* pop on an untagged packet: nothing to do */
	reshape(5, frame, len, &t, &ctx);
	assert_int_equal(ctx.cb[0], 0);
	assert_memory_equal(out + 1, frame + 1, 59);
}

/* A route whose neighbour is 02:00:00:00:00:dmac_last, or unknown when that is 0. */
static void add_route(const char *dst, uint8_t prefix, const char *gateway, uint32_t ifindex,
		      uint8_t dmac_last, uint16_t mtu)
{
	struct sluice_route r = { .family = AF_INET, .prefix_len = prefix, .ifindex = ifindex,
				  .smac = { 2, 0, 0, 0, 0, 1 },
				  .dmac = { dmac_last ? 2 : 0, 0, 0, 0, 0, dmac_last }, .mtu = mtu };
	struct sluice_error err;

	inet_pton(AF_INET, dst, r.dst);
	if (gateway)
		inet_pton(AF_INET, gateway, r.gateway);
	assert_int_equal(sluice_rt_add_route(forward.rt, &r, &err), 0);
}

/* xdp_fib on a packet to dst with tos as the lookup flags; its report. */
static struct fib_report fib(const char *dst, uint8_t tos, size_t payload, struct sluice_test_run *t)
{
	uint8_t frame[PACKET_MAX];
	size_t len = packet_ipv4_udp(frame, payload);
	struct fib_report report;
	struct sluice_error err;

	inet_pton(AF_INET, dst, frame + 14 + 16);
	frame[14 + 1] = tos;
	assert_int_equal(fixture_run(&forward, "xdp_fib", frame, (uint32_t)len, out, sizeof(out),
				     t, &err), 0);
	memcpy(&report, out + 14 + 20, sizeof(report));
	return report;
}

static void fib_lookup(void **state)
{
	static const uint8_t smac[6] = { 2, 0, 0, 0, 0, 1 }, dmac7[6] = { 2, 0, 0, 0, 0, 7 };
	struct sluice_route bad = { .family = AF_INET6, .prefix_len = 129, .ifindex = 1 };
	struct sluice_error err;
	struct sluice_test_run t;
	struct fib_report r;
	uint8_t addr[4];

	(void)state;
	r = fib("192.168.1.7", 0, 30, &t);
	assert_int_equal(r.rc, BPF_FIB_LKUP_RET_NOT_FWDED);   /* no routes yet */
	assert_int_equal(t.retval, XDP_PASS);
	add_route("192.168.0.0", 16, "10.0.0.254", 5, 5, 1500);
	add_route("192.168.1.0", 24, NULL, 7, 7, 1400);
	add_route("172.16.0.0", 12, NULL, 9, 0, 0);
	/* the longest prefix, on-link: the destination is the next hop */
	r = fib("192.168.1.7", 0, 30, &t);
	assert_int_equal(r.rc, BPF_FIB_LKUP_RET_SUCCESS);
	assert_int_equal(r.ifindex, 7);
	assert_int_equal(r.mtu, 1400);
	assert_memory_equal(r.smac, smac, 6);
	assert_memory_equal(r.dmac, dmac7, 6);
	memcpy(addr, &r.next_hop, 4);
	assert_memory_equal(addr, ((uint8_t[]){ 192, 168, 1, 7 }), 4);
	assert_int_equal(t.retval, XDP_REDIRECT);
	assert_int_equal(t.redirect_ifindex, 7);
	/* through the gateway */
	r = fib("192.168.200.1", 0, 30, &t);
	assert_int_equal(r.rc, BPF_FIB_LKUP_RET_SUCCESS);
	assert_int_equal(r.ifindex, 5);
	memcpy(addr, &r.next_hop, 4);
	assert_memory_equal(addr, ((uint8_t[]){ 10, 0, 0, 254 }), 4);
	/* tot_len 1428 over the route's MTU of 1400 */
	r = fib("192.168.1.7", 0, 1400, &t);
	assert_int_equal(r.rc, BPF_FIB_LKUP_RET_FRAG_NEEDED);
	assert_int_equal(r.mtu, 1400);
	/* no neighbour (no destination MAC), unless the lookup skips it */
	r = fib("172.16.3.3", 0, 30, &t);
	assert_int_equal(r.rc, BPF_FIB_LKUP_RET_NO_NEIGH);
	r = fib("172.16.3.3", BPF_FIB_LOOKUP_SKIP_NEIGH, 30, &t);
	assert_int_equal(r.rc, BPF_FIB_LKUP_RET_SUCCESS);
	assert_int_equal(r.mtu, 1500);
	r = fib("8.8.8.8", 0, 30, &t);
	assert_int_equal(r.rc, BPF_FIB_LKUP_RET_NOT_FWDED);
	r = fib("192.168.1.7", 1 << 7, 30, &t);
	assert_int_equal(r.rc, -EINVAL);
	assert_int_equal(sluice_rt_add_route(forward.rt, &bad, &err), -EINVAL);
	bad.family = AF_UNIX;
	assert_int_equal(sluice_rt_add_route(forward.rt, &bad, &err), -EINVAL);
}

/* tc_redirect: the first byte is the ifindex, the second the flags. */
static void redirects(void **state)
{
	uint8_t frame[PACKET_MAX];
	size_t len = packet_ipv4_udp(frame, 18);
	struct __sk_buff ctx;
	struct sluice_test_run t;

	(void)state;
	frame[1] = 0;                            /* frame[0] is 0: ifindex 0 */
	assert_int_equal(run_ctx(&forward, "tc_redirect", frame, len, &t, &ctx), 0);
	assert_int_equal(t.retval, TC_ACT_REDIRECT);
	assert_int_equal(ctx.cb[0], (uint32_t)-EINVAL);
	frame[0] = 1;
	frame[1] = BPF_F_INGRESS;
	assert_int_equal(run_ctx(&forward, "tc_redirect", frame, len, &t, &ctx), 0);
	assert_int_equal(t.retval, TC_ACT_REDIRECT);
	assert_int_equal(ctx.cb[0], 0);          /* clone_redirect to loopback */
	assert_int_equal(t.redirect_ifindex, 1);
	assert_int_equal(t.redirect_flags, BPF_F_INGRESS);
	frame[1] = 2;                            /* no such flag */
	assert_int_equal(run_ctx(&forward, "tc_redirect", frame, len, &t, &ctx), 0);
	assert_int_equal(t.retval, TC_ACT_SHOT);
	assert_int_equal(ctx.cb[0], (uint32_t)-EINVAL);
	frame[0] = 250;                          /* no such device: only the clone checks */
	frame[1] = 0;
	assert_int_equal(run_ctx(&forward, "tc_redirect", frame, len, &t, &ctx), 0);
	assert_int_equal(t.retval, TC_ACT_REDIRECT);
	assert_int_equal(ctx.cb[0], (uint32_t)-EINVAL);
	assert_int_equal(t.redirect_ifindex, 250);
}

/* xdp_redirect_port: bpf_redirect_map(&ports, first byte, second byte as flags). */
static void redirect_map(void **state)
{
	static const struct { uint8_t key, flags; uint32_t retval, ifindex; } cases[] = {
		{ 2, 0, XDP_REDIRECT, 1 },
		{ 3, XDP_PASS, XDP_PASS, 0 },            /* a miss: the flags' action */
		{ 3, 0, XDP_ABORTED, 0 },
		{ 3, BPF_F_BROADCAST, XDP_REDIRECT, 0 }, /* a broadcast needs no entry */
		{ 2, 0x20, XDP_ABORTED, 0 },             /* no such flag */
		{ 6, XDP_TX, XDP_TX, 0 },                /* past the end */
	};
	struct sluice_map *ports = sluice_rt_find_map(types.rt, "ports");
	const uint32_t key = 2, lo = 1;
	uint8_t frame[PACKET_MAX];
	size_t len = packet_ipv4_udp(frame, 18);
	struct sluice_test_run t;
	struct sluice_error err;

	(void)state;
	assert_non_null(ports);
	assert_int_equal(sluice_map_update(ports, &key, &lo, BPF_ANY, &err), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		frame[0] = cases[i].key;
		frame[1] = cases[i].flags;
		assert_int_equal(fixture_run(&types, "xdp_redirect_port", frame, (uint32_t)len, out,
					     sizeof(out), &t, &err), 0);
		if (t.retval != cases[i].retval || t.redirect_ifindex != cases[i].ifindex)
			fail_msg("case %zu: retval %u ifindex %u", i, t.retval, t.redirect_ifindex);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(checksum_helpers),
		cmocka_unit_test(udp_checksum_mangled_0),
		cmocka_unit_test(length_helpers),
		cmocka_unit_test(vlan_helpers),
		cmocka_unit_test(fib_lookup),
		cmocka_unit_test(redirects),
		cmocka_unit_test(redirect_map),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
