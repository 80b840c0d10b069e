/* SPDX-License-Identifier: MIT */
/*
 * The RED metrics on synthetic flow records: the exact exposition of one
 * HTTP connection through a service (counts taken as increments of the
 * connection's totals, the connect time from NEW to ESTABLISHED, the HTTP
 * latency), errors by reason, histogram buckets at and past their bounds,
 * label escaping, the cap on label sets and what is folded, an output
 * that does not depend on the records' order, and the connection table
 * that turns the records' totals into increments.
 */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../datapath/lb.h"
#include "flow_records.h"
#include "k8s/flowstats.h"
#include "k8s/metrics.h"

#define MS 1000000ull

/* One record of connection sport: default/client -> shop/web-1 through shop/web. */
static struct k8s_flow rec(enum k8s_flow_type type, uint16_t sport, uint64_t time_ns)
{
	struct k8s_flow f = { .time_ns = time_ns, .type = type, .family = AF_INET,
			      .proto = IPPROTO_TCP, .egress = 1 };

	flow_peer(&f.src, "default", "client", "10.244.1.2", sport);
	flow_peer(&f.dst, "shop", "web-1", "10.244.2.3", 8080);
	snprintf(f.service, sizeof(f.service), "shop/web");
	return f;
}

static struct k8s_flow response(uint16_t sport, uint64_t time_ns, uint16_t status,
				uint64_t latency_ns)
{
	struct k8s_flow f = rec(K8S_FLOW_HTTP_RESPONSE, sport, time_ns);

	f.http.status = status;
	f.http.latency_ns = latency_ns;
	return f;
}

static struct k8s_flow flagged(struct k8s_flow f, uint8_t tcp_flags)
{
	f.tcp_flags = tcp_flags;
	return f;
}

/* The client is an address outside the cluster, and no service is involved. */
static struct k8s_flow from_world(struct k8s_flow f)
{
	f.src.ns[0] = f.src.pod[0] = 0;
	f.service[0] = 0;
	return f;
}

FLOW_READER_HELPERS(k8s_metrics, metrics, k8s_metrics_new, k8s_metrics_add, k8s_metrics_write, k8s_metrics_free)

/* The text has this line, whole. */
static void assert_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p++) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return;
	}
	fail_msg("no line '%s' in:\n%s", line, text);
}

static size_t count_prefixed(const char *text, const char *prefix)
{
	size_t n = 0;

	for (const char *p = text; p; p = strchr(p, '\n')) {
		p += *p == '\n';
		n += !strncmp(p, prefix, strlen(prefix));
	}
	return n;
}

static const char *const one_connection =
	"# HELP sluice_flows_total Flow records by type and verdict.\n"
	"# TYPE sluice_flows_total counter\n"
	"sluice_flows_total{type=\"new\",verdict=\"forwarded\"} 1\n"
	"sluice_flows_total{type=\"established\",verdict=\"forwarded\"} 1\n"
	"sluice_flows_total{type=\"closed\",verdict=\"forwarded\"} 1\n"
	"sluice_flows_total{type=\"http-request\",verdict=\"forwarded\"} 1\n"
	"sluice_flows_total{type=\"http-response\",verdict=\"forwarded\"} 1\n"
	"# HELP sluice_drops_total Packets dropped, by reason, over all label sets.\n"
	"# TYPE sluice_drops_total counter\n"
	"# HELP sluice_metrics_folded_total Records accounted to the label set \"_other\" because "
	"their scope already had 1024 others.\n"
	"# TYPE sluice_metrics_folded_total counter\n"
	"sluice_metrics_folded_total{scope=\"service\"} 0\n"
	"sluice_metrics_folded_total{scope=\"pod\"} 0\n"
	"# HELP sluice_metrics_connections_evicted_total Connections forgotten to make room for "
	"newer ones (their next records count as their first).\n"
	"# TYPE sluice_metrics_connections_evicted_total counter\n"
	"sluice_metrics_connections_evicted_total 0\n"
	"# HELP sluice_service_requests_total Connections opened (type=\"flow\") and HTTP requests "
	"(type=\"http\"), per service.\n"
	"# TYPE sluice_service_requests_total counter\n"
	"sluice_service_requests_total{service=\"shop/web\",type=\"flow\"} 1\n"
	"sluice_service_requests_total{service=\"shop/web\",type=\"http\"} 1\n"
	"# HELP sluice_service_errors_total Packets dropped (by drop reason), HTTP responses 5xx "
	"(reason=\"http_5xx\") and TCP connections reset (reason=\"reset\"), per service.\n"
	"# TYPE sluice_service_errors_total counter\n"
	"# HELP sluice_service_duration_seconds Time from a connection's first packet to its first "
	"reply (type=\"connect\") and from an HTTP request to its response (type=\"http\"), per "
	"service.\n"
	"# TYPE sluice_service_duration_seconds histogram\n"
	"sluice_service_duration_seconds_bucket{service=\"shop/web\",type=\"connect\",le=\"0.0001\"} 0\n"
	"sluice_service_duration_seconds_bucket{service=\"shop/web\",type=\"connect\",le=\"0.00025\"} 0\n"
	"sluice_service_duration_seconds_bucket{service=\"shop/web\",type=\"connect\",le=\"0.0005\"} 1\n"
	"sluice_service_duration_seconds_bucket{service=\"shop/web\",type=\"connect\",le=\"0.001\"} 1\n"
	"sluice_service_duration_seconds_bucket{service=\"shop/web\",type=\"connect\",le=\"0.0025\"} 1\n"
	"sluice_service_duration_seconds_bucket{service=\"shop/web\",type=\"connect\",le=\"0.005\"} 1\n"
	"sluice_service_duration_seconds_bucket{service=\"shop/web\",type=\"connect\",le=\"0.01\"} 1\n"
	"sluice_service_duration_seconds_bucket{service=\"shop/web\",type=\"connect\",le=\"0.025\"} 1\n"
	"sluice_service_duration_seconds_bucket{service=\"shop/web\",type=\"connect\",le=\"0.05\"} 1\n"
	"sluice_service_duration_seconds_bucket{service=\"shop/web\",type=\"connect\",le=\"0.1\"} 1\n"
	"sluice_service_duration_seconds_bucket{service=\"shop/web\",type=\"connect\",le=\"0.25\"} 1\n"
	"sluice_service_duration_seconds_bucket{service=\"shop/web\",type=\"connect\",le=\"0.5\"} 1\n"
	"sluice_service_duration_seconds_bucket{service=\"shop/web\",type=\"connect\",le=\"1\"} 1\n"
	"sluice_service_duration_seconds_bucket{service=\"shop/web\",type=\"connect\",le=\"2.5\"} 1\n"
	"sluice_service_duration_seconds_bucket{service=\"shop/web\",type=\"connect\",le=\"5\"} 1\n"
	"sluice_service_duration_seconds_bucket{service=\"shop/web\",type=\"connect\",le=\"10\"} 1\n"
	"sluice_service_duration_seconds_bucket{service=\"shop/web\",type=\"connect\",le=\"+Inf\"} 1\n"
	"sluice_service_duration_seconds_sum{service=\"shop/web\",type=\"connect\"} 0.0003\n"
	"sluice_service_duration_seconds_count{service=\"shop/web\",type=\"connect\"} 1\n"
	"sluice_service_duration_seconds_bucket{service=\"shop/web\",type=\"http\",le=\"0.0001\"} 0\n"
	"sluice_service_duration_seconds_bucket{service=\"shop/web\",type=\"http\",le=\"0.00025\"} 0\n"
	"sluice_service_duration_seconds_bucket{service=\"shop/web\",type=\"http\",le=\"0.0005\"} 0\n"
	"sluice_service_duration_seconds_bucket{service=\"shop/web\",type=\"http\",le=\"0.001\"} 0\n"
	"sluice_service_duration_seconds_bucket{service=\"shop/web\",type=\"http\",le=\"0.0025\"} 1\n"
	"sluice_service_duration_seconds_bucket{service=\"shop/web\",type=\"http\",le=\"0.005\"} 1\n"
	"sluice_service_duration_seconds_bucket{service=\"shop/web\",type=\"http\",le=\"0.01\"} 1\n"
	"sluice_service_duration_seconds_bucket{service=\"shop/web\",type=\"http\",le=\"0.025\"} 1\n"
	"sluice_service_duration_seconds_bucket{service=\"shop/web\",type=\"http\",le=\"0.05\"} 1\n"
	"sluice_service_duration_seconds_bucket{service=\"shop/web\",type=\"http\",le=\"0.1\"} 1\n"
	"sluice_service_duration_seconds_bucket{service=\"shop/web\",type=\"http\",le=\"0.25\"} 1\n"
	"sluice_service_duration_seconds_bucket{service=\"shop/web\",type=\"http\",le=\"0.5\"} 1\n"
	"sluice_service_duration_seconds_bucket{service=\"shop/web\",type=\"http\",le=\"1\"} 1\n"
	"sluice_service_duration_seconds_bucket{service=\"shop/web\",type=\"http\",le=\"2.5\"} 1\n"
	"sluice_service_duration_seconds_bucket{service=\"shop/web\",type=\"http\",le=\"5\"} 1\n"
	"sluice_service_duration_seconds_bucket{service=\"shop/web\",type=\"http\",le=\"10\"} 1\n"
	"sluice_service_duration_seconds_bucket{service=\"shop/web\",type=\"http\",le=\"+Inf\"} 1\n"
	"sluice_service_duration_seconds_sum{service=\"shop/web\",type=\"http\"} 0.0012\n"
	"sluice_service_duration_seconds_count{service=\"shop/web\",type=\"http\"} 1\n"
	"# HELP sluice_service_bytes_total Bytes forwarded, both ways, per service.\n"
	"# TYPE sluice_service_bytes_total counter\n"
	"sluice_service_bytes_total{service=\"shop/web\"} 700\n"
	"# HELP sluice_service_packets_total Packets forwarded, both ways, per service.\n"
	"# TYPE sluice_service_packets_total counter\n"
	"sluice_service_packets_total{service=\"shop/web\"} 9\n"
	"# HELP sluice_pod_requests_total Connections opened (type=\"flow\") and HTTP requests "
	"(type=\"http\"), per source and destination pod (namespace \"\" and pod \"world\": an "
	"address that is no pod's).\n"
	"# TYPE sluice_pod_requests_total counter\n";

/*
 * NEW, ESTABLISHED 300 us later, the request, its response after 1.2 ms,
 * CLOSED: each with the connection's totals so far, which end at 9 packets
 * and 700 bytes however many records repeat them.
 */
static void add_one_connection(struct k8s_metrics *m, uint16_t sport, uint64_t t)
{
	add(m, counted(rec(K8S_FLOW_NEW, sport, t), 1, 60));
	add(m, counted(rec(K8S_FLOW_ESTABLISHED, sport, t + 300000), 2, 120));
	add(m, counted(rec(K8S_FLOW_HTTP_REQUEST, sport, t + 400000), 4, 300));
	add(m, counted(response(sport, t + 1600000, 200, 1200000), 5, 500));
	add(m, flagged(counted(rec(K8S_FLOW_CLOSED, sport, t + 3 * MS), 9, 700),
		       LB_TCP_FIN | LB_TCP_ACK));
}

static void test_one_connection(void **state)
{
	struct k8s_metrics *m = metrics();
	char *text;

	(void)state;
	add_one_connection(m, 40000, 1000 * MS);
	text = written(m);
	/* everything up to the pod pairs' families, which repeat the services' */
	assert_memory_equal(text, one_connection, strlen(one_connection));
	assert_line(text, "sluice_pod_requests_total{source_namespace=\"default\",source_pod=\"client\","
			  "destination_namespace=\"shop\",destination_pod=\"web-1\",type=\"flow\"} 1");
	assert_line(text, "sluice_pod_bytes_total{source_namespace=\"default\",source_pod=\"client\","
			  "destination_namespace=\"shop\",destination_pod=\"web-1\"} 700");
	assert_line(text, "sluice_pod_duration_seconds_count{source_namespace=\"default\","
			  "source_pod=\"client\",destination_namespace=\"shop\","
			  "destination_pod=\"web-1\",type=\"http\"} 1");
	assert_int_equal(count_prefixed(text, "sluice_pod_duration_seconds_bucket{"), 2 * 17);
	assert_int_equal(count_prefixed(text, "sluice_pod_errors_total{"), 0);
	free(text);
}

/* Drops by reason, 5xx, resets; dropped packets carry no bytes; errors listed only when seen. */
static void test_errors(void **state)
{
	struct k8s_metrics *m = metrics();
	char *text;

	(void)state;
	add(m, counted(rec(K8S_FLOW_NEW, 40001, 1 * MS), 1, 60));
	add(m, flagged(counted(rec(K8S_FLOW_CLOSED, 40001, 2 * MS), 3, 180), LB_TCP_RST));
	add(m, response(40002, 3 * MS, 503, 20 * MS));
	add(m, response(40002, 4 * MS, 500, 30 * MS));
	add(m, response(40002, 5 * MS, 404, 40 * MS));
	for (uint16_t i = 0; i < 2; i++)
		add(m, dropped(counted(rec(K8S_FLOW_POLICY, 40010 + i, 5 * MS), 1, 60),
			       K8S_DROP_POLICY_DENIED));
	add(m, dropped(rec(K8S_FLOW_HTTP_REQUEST, 40004, 6 * MS), K8S_DROP_HTTP_DENIED));
	add(m, from_world(dropped(counted(rec(K8S_FLOW_POLICY, 40003, 5 * MS), 1, 60),
				  K8S_DROP_POLICY_DENIED)));
	text = written(m);
	assert_line(text, "sluice_service_errors_total{service=\"shop/web\",reason=\"policy-denied\"} 2");
	assert_line(text, "sluice_service_errors_total{service=\"shop/web\",reason=\"http-denied\"} 1");
	assert_line(text, "sluice_service_errors_total{service=\"shop/web\",reason=\"http_5xx\"} 2");
	assert_line(text, "sluice_service_errors_total{service=\"shop/web\",reason=\"reset\"} 1");
	assert_int_equal(count_prefixed(text, "sluice_service_errors_total{"), 4);
	/* a request refused is still a request */
	assert_line(text, "sluice_service_requests_total{service=\"shop/web\",type=\"http\"} 1");
	assert_line(text, "sluice_service_bytes_total{service=\"shop/web\"} 180");
	assert_line(text, "sluice_service_packets_total{service=\"shop/web\"} 3");
	assert_line(text, "sluice_drops_total{reason=\"policy-denied\"} 3");
	assert_line(text, "sluice_drops_total{reason=\"http-denied\"} 1");
	assert_line(text, "sluice_flows_total{type=\"policy\",verdict=\"dropped\"} 3");
	assert_line(text, "sluice_pod_errors_total{source_namespace=\"\",source_pod=\"world\","
			  "destination_namespace=\"shop\",destination_pod=\"web-1\","
			  "reason=\"policy-denied\"} 1");
	assert_line(text, "sluice_service_duration_seconds_sum{service=\"shop/web\",type=\"http\"} 0.09");
	free(text);
}

/* le is inclusive; past the last bound only +Inf counts; buckets are cumulative. */
static void test_buckets(void **state)
{
	static const uint64_t latency[] = { 100000, 100001, 1000000000, 10000000000, 10000000001,
					    20000000000 };
	struct k8s_metrics *m = metrics();
	char *text;

	(void)state;
	for (size_t i = 0; i < sizeof(latency) / sizeof(latency[0]); i++)
		add(m, response((uint16_t)(41000 + i), 1 * MS, 200, latency[i]));
	text = written(m);
#define BUCKET "sluice_service_duration_seconds_bucket{service=\"shop/web\",type=\"http\",le="
	assert_line(text, BUCKET "\"0.0001\"} 1");
	assert_line(text, BUCKET "\"0.00025\"} 2");
	assert_line(text, BUCKET "\"0.5\"} 2");
	assert_line(text, BUCKET "\"1\"} 3");
	assert_line(text, BUCKET "\"5\"} 3");
	assert_line(text, BUCKET "\"10\"} 4");
	assert_line(text, BUCKET "\"+Inf\"} 6");
#undef BUCKET
	assert_line(text, "sluice_service_duration_seconds_sum{service=\"shop/web\",type=\"http\"} "
			  "41.000200002");
	assert_line(text, "sluice_service_duration_seconds_count{service=\"shop/web\",type=\"http\"} 6");
	/* no connection was opened: no connect histogram */
	assert_null(strstr(text, "type=\"connect\",le="));
	free(text);
}

static void test_escaping(void **state)
{
	struct k8s_metrics *m = metrics();
	struct k8s_flow f = rec(K8S_FLOW_NEW, 40000, 1 * MS);
	char *text;

	(void)state;
	snprintf(f.service, sizeof(f.service), "we\"b\\x\ny");
	k8s_metrics_add(m, &f);
	text = written(m);
	assert_line(text, "sluice_service_requests_total{service=\"we\\\"b\\\\x\\ny\",type=\"flow\"} 1");
	free(text);
}

/* Past the cap, new label sets fold into "_other", counted; known ones go on counting. */
static void test_cap(void **state)
{
	struct k8s_metrics *m = metrics();
	size_t extra = 5;
	char *text;

	(void)state;
	for (size_t i = 0; i <= K8S_METRICS_MAX_LABEL_SETS + extra; i++) {
		struct k8s_flow f = rec(K8S_FLOW_NEW, (uint16_t)(1000 + i), 1 * MS);

		/* the last one comes from the first client again */
		snprintf(f.src.pod, sizeof(f.src.pod), "client-%04zu",
			 i % (K8S_METRICS_MAX_LABEL_SETS + extra));
		k8s_metrics_add(m, &f);
	}
	text = written(m);
	assert_line(text, "sluice_metrics_folded_total{scope=\"pod\"} 5");
	assert_line(text, "sluice_metrics_folded_total{scope=\"service\"} 0");
	assert_line(text, "sluice_pod_requests_total{source_namespace=\"_other\",source_pod=\"_other\","
			  "destination_namespace=\"_other\",destination_pod=\"_other\",type=\"flow\"} 5");
	assert_line(text, "sluice_pod_requests_total{source_namespace=\"default\","
			  "source_pod=\"client-1023\",destination_namespace=\"shop\","
			  "destination_pod=\"web-1\",type=\"flow\"} 1");
	assert_line(text, "sluice_pod_requests_total{source_namespace=\"default\","
			  "source_pod=\"client-0000\",destination_namespace=\"shop\","
			  "destination_pod=\"web-1\",type=\"flow\"} 2");
	assert_null(strstr(text, "client-1024"));
	assert_int_equal(count_prefixed(text, "sluice_pod_packets_total{"),
			 K8S_METRICS_MAX_LABEL_SETS + 1);
	assert_line(text, "sluice_service_requests_total{service=\"shop/web\",type=\"flow\"} 1030");
	free(text);
}

/* The same records in another order write the same bytes: label sets sorted. */
static void test_order(void **state)
{
	static const char *const services[] = { "shop/web", "blog/api", "default/kubernetes" };
	struct k8s_metrics *a = metrics(), *b = metrics();
	char *ta, *tb;

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		struct k8s_flow f = rec(K8S_FLOW_NEW, (uint16_t)(40000 + i), 1 * MS);
		struct k8s_flow g = rec(K8S_FLOW_NEW, (uint16_t)(40002 - i), 1 * MS);

		snprintf(f.service, sizeof(f.service), "%s", services[i]);
		snprintf(g.service, sizeof(g.service), "%s", services[2 - i]);
		snprintf(f.dst.pod, sizeof(f.dst.pod), "pod-%zu", i);
		snprintf(g.dst.pod, sizeof(g.dst.pod), "pod-%zu", 2 - i);
		k8s_metrics_add(a, &f);
		k8s_metrics_add(b, &g);
	}
	ta = written(a);
	tb = written(b);
	assert_string_equal(ta, tb);
	assert_true(strstr(ta, "service=\"blog/api\"") < strstr(ta, "service=\"default/kubernetes\""));
	assert_true(strstr(ta, "service=\"default/kubernetes\"") < strstr(ta, "service=\"shop/web\""));
	free(ta);
	free(tb);
}

/*
 * The connection table under the metrics, one set of four ways: increments
 * of each connection's totals, NEW to ESTABLISHED once, the least recently
 * seen connection making room for a fifth, and counting afresh after.
 */
static void test_connection_table(void **state)
{
	struct k8s_conns c;
	struct k8s_conn_delta d;
	struct k8s_flow f;

	(void)state;
	assert_int_equal(k8s_conns_init(&c, 1), 0);
	for (uint16_t i = 0; i < 4; i++) {
		f = counted(rec(K8S_FLOW_NEW, 40000 + i, (1 + i) * MS), 1, 60);
		k8s_conns_account(&c, &f, &d);
		assert_int_equal(d.packets, 1);
		assert_int_equal(d.bytes, 60);
	}
	f = counted(rec(K8S_FLOW_ESTABLISHED, 40001, 10 * MS), 2, 100);
	k8s_conns_account(&c, &f, &d);
	assert_true(d.connected);
	assert_int_equal(d.connect_ns, 8 * MS);
	assert_int_equal(d.bytes, 40);
	/* a second ESTABLISHED times nothing, and the same totals add nothing */
	k8s_conns_account(&c, &f, &d);
	assert_false(d.connected);
	assert_int_equal(d.packets, 0);
	assert_int_equal(c.evicted, 0);
	/* a fifth connection: 40000, seen least recently, makes room */
	f = counted(rec(K8S_FLOW_NEW, 40004, 11 * MS), 1, 60);
	k8s_conns_account(&c, &f, &d);
	assert_int_equal(c.evicted, 1);
	f = counted(rec(K8S_FLOW_CLOSED, 40000, 12 * MS), 5, 400);
	k8s_conns_account(&c, &f, &d);
	assert_int_equal(d.bytes, 400);
	/* CLOSED forgot it: the same 5-tuple again is a new connection */
	f = counted(rec(K8S_FLOW_HTTP_REQUEST, 40000, 13 * MS), 3, 200);
	k8s_conns_account(&c, &f, &d);
	assert_int_equal(d.bytes, 200);
	k8s_conns_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_connection),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_buckets),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_connection_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
