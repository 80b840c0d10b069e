/* SPDX-License-Identifier: MIT */
/*
 * Conntrack's ageing rules, the pure functions of datapath/lb.h that the
 * datapath and the agent's garbage collector share: how TCP flags seen
 * either way make a flow's state, how long each state may stay idle, when
 * an entry has expired, and which forward entry a reply entry belongs to.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../datapath/lb.h"

#define TCP 6
#define UDP 17
#define SEC LB_NSEC_PER_SEC

static const struct lb_config cfg = {
	.tcp_syn = 60, .tcp_established = 21600, .tcp_closing = 10, .udp = 30,
};

/* One packet of a TCP flow: from the client (c) or the backend (b). */
struct step {
	int from_backend;
	uint8_t tcp_flags;
	enum lb_flow_state then;
};

static void walk(const struct step *steps, size_t n)
{
	uint8_t flags = 0;

	for (size_t i = 0; i < n; i++) {
		flags = lb_ct_seen(flags, TCP, steps[i].tcp_flags, steps[i].from_backend);
		assert_int_equal(lb_flow_state(TCP, flags), steps[i].then);
	}
}

static void test_handshake_then_fins(void **state)
{
	static const struct step steps[] = {
		{ 0, LB_TCP_SYN, LB_FLOW_SYN_SENT },
		{ 0, LB_TCP_SYN, LB_FLOW_SYN_SENT },               /* retransmitted */
		{ 1, LB_TCP_SYN | LB_TCP_ACK, LB_FLOW_SYN_SENT },
		{ 0, LB_TCP_ACK, LB_FLOW_ESTABLISHED },
		{ 1, LB_TCP_ACK, LB_FLOW_ESTABLISHED },
		{ 0, LB_TCP_FIN | LB_TCP_ACK, LB_FLOW_FIN_WAIT },
		{ 0, LB_TCP_FIN | LB_TCP_ACK, LB_FLOW_FIN_WAIT },  /* one side, twice */
		{ 1, LB_TCP_FIN | LB_TCP_ACK, LB_FLOW_CLOSED },
		{ 0, LB_TCP_ACK, LB_FLOW_CLOSED },
	};

	(void)state;
	walk(steps, sizeof(steps) / sizeof(steps[0]));
}

static void test_resets(void **state)
{
	static const struct step refused[] = {
		{ 0, LB_TCP_SYN, LB_FLOW_SYN_SENT },
		{ 1, LB_TCP_RST | LB_TCP_ACK, LB_FLOW_RESET },
	};
	static const struct step aborted[] = {
		{ 0, LB_TCP_SYN, LB_FLOW_SYN_SENT },
		{ 1, LB_TCP_SYN | LB_TCP_ACK, LB_FLOW_SYN_SENT },
		{ 0, LB_TCP_ACK, LB_FLOW_ESTABLISHED },
		{ 0, LB_TCP_RST | LB_TCP_ACK, LB_FLOW_RESET },
	};
	/* a packet in the middle of a connection nobody here knows: no connection yet */
	static const struct step stray[] = {
		{ 0, LB_TCP_ACK, LB_FLOW_SYN_SENT },
		{ 0, LB_TCP_ACK, LB_FLOW_SYN_SENT },
		{ 1, LB_TCP_RST, LB_FLOW_RESET },
	};

	(void)state;
	walk(refused, sizeof(refused) / sizeof(refused[0]));
	walk(aborted, sizeof(aborted) / sizeof(aborted[0]));
	walk(stray, sizeof(stray) / sizeof(stray[0]));
}

static void test_udp_ignores_tcp_flags(void **state)
{
	uint8_t flags = lb_ct_seen(0, UDP, LB_TCP_RST | LB_TCP_FIN, 0);

	(void)state;
	assert_int_equal(lb_flow_state(UDP, flags), LB_FLOW_UDP);
	assert_int_equal(lb_flow_state(UDP, lb_ct_seen(flags, UDP, 0, 1)), LB_FLOW_UDP);
}

static void test_lifetimes(void **state)
{
	uint8_t established = LB_CT_REPLIED | LB_CT_NON_SYN;

	(void)state;
	assert_int_equal(lb_ct_lifetime(&cfg, TCP, 0), 60 * SEC);
	assert_int_equal(lb_ct_lifetime(&cfg, TCP, LB_CT_NON_SYN), 60 * SEC);
	assert_int_equal(lb_ct_lifetime(&cfg, TCP, established), 21600 * SEC);
	assert_int_equal(lb_ct_lifetime(&cfg, TCP, established | LB_CT_CLIENT_FIN), 21600 * SEC);
	assert_int_equal(lb_ct_lifetime(&cfg, TCP,
					established | LB_CT_CLIENT_FIN | LB_CT_BACKEND_FIN),
			 10 * SEC);
	assert_int_equal(lb_ct_lifetime(&cfg, TCP, LB_CT_RST), 10 * SEC);
	assert_int_equal(lb_ct_lifetime(&cfg, UDP, 0), 30 * SEC);
	assert_int_equal(lb_ct_lifetime(&cfg, UDP, LB_CT_RST), 30 * SEC);
}

static void test_expiry(void **state)
{
	struct lb_ct_entry e = { .last_seen = 1000 * SEC, .flags = LB_CT_RST };

	(void)state;
	assert_false(lb_ct_expired(&cfg, TCP, &e, 1000 * SEC));
	assert_false(lb_ct_expired(&cfg, TCP, &e, 1010 * SEC - 1));
	assert_true(lb_ct_expired(&cfg, TCP, &e, 1010 * SEC));
	/* a clock read just before the datapath's write: fresh, not ancient */
	assert_false(lb_ct_expired(&cfg, TCP, &e, 1000 * SEC - 1));
	e.flags = LB_CT_REPLIED | LB_CT_NON_SYN;
	assert_false(lb_ct_expired(&cfg, TCP, &e, 1010 * SEC));
	assert_true(lb_ct_expired(&cfg, TCP, &e, (1000 + 21600) * SEC));
}

static void test_forward_key_of_reply(void **state)
{
	/* client 10.0.0.5:40000 -> frontend 10.96.0.10:80, backend 10.244.1.11:8080 */
	struct lb_ct_key reply = {
		.saddr = { 0x0b01f40a }, .daddr = { 0x0500000a }, .sport = 0x901f, .dport = 0x409c,
		.proto = TCP, .family = 2, .dir = LB_CT_REPLY,
	};
	struct lb_ct_entry rev = { .addr = { 0x0a00600a }, .port = 0x5000 };
	struct lb_ct_key fwd, want = {
		.saddr = { 0x0500000a }, .daddr = { 0x0a00600a }, .sport = 0x409c, .dport = 0x5000,
		.proto = TCP, .family = 2, .dir = LB_CT_FORWARD,
	};

	(void)state;
	lb_ct_forward_key(&reply, &rev, &fwd);
	assert_memory_equal(&fwd, &want, sizeof(want));
	/* hairpin: the backend was the client; the reply goes to the hairpin address */
	reply.daddr[0] = 0x012aa9fe;
	rev.flags = LB_CT_HAIRPIN;
	want.saddr[0] = reply.saddr[0];
	lb_ct_forward_key(&reply, &rev, &fwd);
	assert_memory_equal(&fwd, &want, sizeof(want));
}

static void test_stale_reply(void **state)
{
	struct lb_ct_entry rev = { .backend_id = 7 };
	struct lb_ct_entry fwd = { .backend_id = 7, .flags = LB_CT_REPLIED | LB_CT_NON_SYN,
				   .last_seen = SEC };

	(void)state;
	assert_false(lb_ct_reply_stale(&cfg, TCP, &rev, &fwd, 2 * SEC));
	assert_true(lb_ct_reply_stale(&cfg, TCP, &rev, NULL, 2 * SEC));
	assert_true(lb_ct_reply_stale(&cfg, TCP, &rev, &fwd, (1 + 21600) * SEC));
	fwd.backend_id = 8; /* the flow moved to another backend */
	assert_true(lb_ct_reply_stale(&cfg, TCP, &rev, &fwd, 2 * SEC));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_then_fins),
		cmocka_unit_test(test_resets),
		cmocka_unit_test(test_udp_ignores_tcp_flags),
		cmocka_unit_test(test_lifetimes),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_forward_key_of_reply),
		cmocka_unit_test(test_stale_reply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
