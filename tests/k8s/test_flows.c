/* SPDX-License-Identifier: MIT */
/*
 * Flow records: which conntrack changes make events (datapath/flow.h's
 * flow_ct_event), a datapath event made a record (src/k8s/flow.c: the
 * destination after the DNAT, verdict, counters, the request line, the
 * clock), and the filter `sluice flows` sends the agent, there and back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "../../datapath/flow.h"
#include "k8s/flow.h"

#define TCP 6
#define UDP 17

static void test_ct_events(void **state)
{
	(void)state;
	/* the SYN-ACK: the first reply */
	assert_int_equal(flow_ct_event(TCP, 0, LB_CT_REPLIED), FLOW_EV_ESTABLISHED);
	/* the client's ACK after it: nothing new */
	assert_int_equal(flow_ct_event(TCP, LB_CT_REPLIED, LB_CT_REPLIED | LB_CT_NON_SYN), -1);
	/* one FIN, then the other: closed once */
	assert_int_equal(flow_ct_event(TCP, LB_CT_REPLIED | LB_CT_NON_SYN,
				       LB_CT_REPLIED | LB_CT_NON_SYN | LB_CT_CLIENT_FIN), -1);
	assert_int_equal(flow_ct_event(TCP, LB_CT_REPLIED | LB_CT_NON_SYN | LB_CT_CLIENT_FIN,
				       LB_CT_REPLIED | LB_CT_NON_SYN | LB_CT_CLIENT_FIN |
				       LB_CT_BACKEND_FIN), FLOW_EV_CLOSED);
	/* a RST after both FINs ends nothing more */
	assert_int_equal(flow_ct_event(TCP, LB_CT_CLIENT_FIN | LB_CT_BACKEND_FIN | LB_CT_REPLIED,
				       LB_CT_CLIENT_FIN | LB_CT_BACKEND_FIN | LB_CT_REPLIED |
				       LB_CT_RST), -1);
	/* a refused connection: the first reply is a RST, which closes it */
	assert_int_equal(flow_ct_event(TCP, 0, LB_CT_REPLIED | LB_CT_RST | LB_CT_NON_SYN),
			 FLOW_EV_CLOSED);
	/* UDP: the first reply establishes, nothing closes */
	assert_int_equal(flow_ct_event(UDP, 0, LB_CT_REPLIED), FLOW_EV_ESTABLISHED);
}

static void tuple4(struct lb_ct_key *t, const char *src, uint16_t sport, const char *dst,
		   uint16_t dport)
{
	memset(t, 0, sizeof(*t));
	inet_pton(AF_INET, src, t->saddr);
	inet_pton(AF_INET, dst, t->daddr);
	t->sport = htons(sport);
	t->dport = htons(dport);
	t->proto = TCP;
	t->family = AF_INET;
}

static void test_service_flow(void **state)
{
	struct flow_event ev = { .time = 5000, .packets = 7, .bytes = 900,
				 .type = FLOW_EV_CLOSED, .tcp_flags = LB_TCP_FIN | LB_TCP_ACK,
				 .egress = 1 };
	struct k8s_flow f;

	(void)state;
	tuple4(&ev.tuple, "10.244.0.10", 40000, "10.96.0.10", 80);
	inet_pton(AF_INET, "10.244.1.12", ev.backend);
	ev.backend_port = htons(8080);
	k8s_flow_from_event(&ev, 1000000000, &f);
	assert_int_equal(f.time_ns, 1000005000);
	assert_int_equal(f.type, K8S_FLOW_CLOSED);
	assert_int_equal(f.verdict, K8S_FLOW_FORWARDED);
	assert_string_equal(f.src.addr, "10.244.0.10");
	assert_int_equal(f.src.port, 40000);
	/* the destination is the backend the DNAT chose */
	assert_string_equal(f.dst.addr, "10.244.1.12");
	assert_int_equal(f.dst.port, 8080);
	assert_int_equal(f.packets, 7);
	assert_int_equal(f.bytes, 900);
	assert_int_equal(f.egress, 1);
	assert_string_equal(f.service, "");
}

static void test_drop_ipv6(void **state)
{
	struct flow_event ev = { .type = FLOW_EV_DROP, .reason = FLOW_DROP_POLICY_DENIED };
	struct k8s_flow f;

	(void)state;
	inet_pton(AF_INET6, "fd00:10:244::a", ev.tuple.saddr);
	inet_pton(AF_INET6, "fd00:10:244:1::b", ev.tuple.daddr);
	ev.tuple.sport = htons(1234);
	ev.tuple.dport = htons(8080);
	ev.tuple.proto = UDP;
	ev.tuple.family = AF_INET6;
	k8s_flow_from_event(&ev, 0, &f);
	assert_int_equal(f.type, K8S_FLOW_POLICY);
	assert_int_equal(f.verdict, K8S_FLOW_DROPPED);
	assert_int_equal(f.drop_reason, K8S_DROP_POLICY_DENIED);
	assert_string_equal(k8s_drop_reason_name(f.drop_reason), "policy-denied");
	/* no DNAT: the destination is the tuple's */
	assert_string_equal(f.dst.addr, "fd00:10:244:1::b");
	assert_int_equal(f.dst.port, 8080);
	assert_int_equal(f.family, AF_INET6);
}

static void test_http_request_line(void **state)
{
	static const char head[] = "GET /api/items?x=1 HTTP/1.1\r\nHost: web\r\n\r\n";
	struct flow_event ev = { .type = FLOW_EV_HTTP_REQUEST };
	struct k8s_flow f;

	(void)state;
	tuple4(&ev.tuple, "10.244.0.10", 40000, "10.244.1.11", 8080);
	memcpy(ev.http, head, sizeof(head) - 1);
	k8s_flow_from_event(&ev, 0, &f);
	assert_string_equal(f.http.method, "GET");
	assert_string_equal(f.http.path, "/api/items?x=1");
	assert_string_equal(k8s_flow_type_name(f.type), "http-request");

	/* a refused request that is no request line: what can be read of it */
	memset(ev.http, 0, sizeof(ev.http));
	memcpy(ev.http, "\x16\x03\x01", 3);
	ev.reason = FLOW_DROP_HTTP_DENIED;
	k8s_flow_from_event(&ev, 0, &f);
	assert_string_equal(f.http.method, "");
	assert_int_equal(f.verdict, K8S_FLOW_DROPPED);

	/* a request line longer than the head: the path is what the head holds */
	memset(ev.http, 'a', sizeof(ev.http));
	memcpy(ev.http, "GET /", 5);
	k8s_flow_from_event(&ev, 0, &f);
	assert_int_equal(strlen(f.http.path), FLOW_HTTP_HEAD - 4);
	assert_int_equal(f.http.path[0], '/');
}

static void test_response_status(void **state)
{
	struct flow_event ev = { .type = FLOW_EV_HTTP_RESPONSE, .status = 404 };
	struct k8s_flow f;

	(void)state;
	memcpy(ev.http, "GET / HTTP/1.1", 14); /* only requests carry their head */
	k8s_flow_from_event(&ev, 0, &f);
	assert_int_equal(f.http.status, 404);
	assert_string_equal(f.http.method, "");
}

static void test_filter(void **state)
{
	struct k8s_flow_filter flt, back;
	struct sluice_error err = { 0 };
	struct k8s_flow f = { .time_ns = 100, .verdict = K8S_FLOW_DROPPED };
	char text[1024];

	(void)state;
	k8s_flow_filter_init(&flt);
	strcpy(flt.ns, "shop");
	strcpy(flt.pod, "web-1");
	flt.verdict = K8S_FLOW_DROPPED;
	flt.since_ns = 50;
	flt.last = 3;
	flt.follow = 1;
	assert_true(k8s_flow_filter_format(&flt, text, sizeof(text)) > 0);
	assert_int_equal(k8s_flow_filter_parse(text, &back, &err), 0);
	assert_memory_equal(&flt, &back, sizeof(flt));

	strcpy(f.dst.ns, "shop");
	strcpy(f.dst.pod, "web-1");
	assert_true(k8s_flow_match(&f, &flt));
	strcpy(f.dst.ns, "blog"); /* same name, another namespace */
	assert_false(k8s_flow_match(&f, &flt));
	flt.ns[0] = 0;            /* any namespace */
	assert_true(k8s_flow_match(&f, &flt));
	f.verdict = K8S_FLOW_FORWARDED;
	assert_false(k8s_flow_match(&f, &flt));
	flt.verdict = -1;
	f.time_ns = 10;           /* before --since */
	assert_false(k8s_flow_match(&f, &flt));

	k8s_flow_filter_init(&back);
	assert_int_not_equal(k8s_flow_filter_parse("colour red\n", &back, &err), 0);
	assert_non_null(strstr(err.msg, "colour"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ct_events),
		cmocka_unit_test(test_service_flow),
		cmocka_unit_test(test_drop_ipv6),
		cmocka_unit_test(test_http_request_line),
		cmocka_unit_test(test_response_status),
		cmocka_unit_test(test_filter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
