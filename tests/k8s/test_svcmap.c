/* SPDX-License-Identifier: MIT */
/*
 * The service map on synthetic flow records: the exact DOT of a small
 * cluster (pods in namespace clusters, services apart, a world address,
 * client -> service -> backend edges weighted by bytes, drops in red on the
 * hop that was refused), several drop reasons on one edge, DOT escaping,
 * the bound on nodes, and an output that does not depend on the records'
 * order.
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

#include "flow_records.h"
#include "k8s/svcmap.h"

/*
 * A record from default/client (port sport) to the pod "ns/pod" at addr:8080
 * through service (NULL: none); pod "" for an address that is no pod's.
 */
static struct k8s_flow rec(enum k8s_flow_type type, uint16_t sport, const char *service,
			   const char *ns, const char *pod, const char *addr)
{
	struct k8s_flow f = { .type = type, .family = AF_INET, .proto = IPPROTO_TCP };

	flow_peer(&f.src, "default", "client", "10.244.1.2", sport);
	flow_peer(&f.dst, ns, pod, addr, 8080);
	snprintf(f.service, sizeof(f.service), "%s", service ? service : "");
	return f;
}

FLOW_READER_HELPERS(k8s_svcmap, svcmap, k8s_svcmap_new, k8s_svcmap_add, k8s_svcmap_write_dot, k8s_svcmap_free)

static const char *const small_cluster =
	"digraph sluice {\n"
	"\tgraph [rankdir=LR, fontname=\"Helvetica\"];\n"
	"\tnode [fontname=\"Helvetica\"];\n"
	"\tedge [fontname=\"Helvetica\", fontsize=10];\n"
	"\t\"addr/192.0.2.7\" [label=\"192.0.2.7\", shape=ellipse, style=dashed];\n"
	"\tsubgraph \"cluster_default\" {\n"
	"\t\tlabel=\"default\";\n"
	"\t\t\"pod/default/client\" [label=\"client\", shape=box, style=rounded];\n"
	"\t}\n"
	"\tsubgraph \"cluster_kube-system\" {\n"
	"\t\tlabel=\"kube-system\";\n"
	"\t\t\"pod/kube-system/dns\" [label=\"dns\", shape=box, style=rounded];\n"
	"\t}\n"
	"\tsubgraph \"cluster_shop\" {\n"
	"\t\tlabel=\"shop\";\n"
	"\t\t\"svc/shop/api\" [label=\"api\", shape=hexagon, style=filled, fillcolor=\"lightblue\"];\n"
	"\t\t\"svc/shop/empty\" [label=\"empty\", shape=hexagon, style=filled, "
	"fillcolor=\"lightblue\"];\n"
	"\t\t\"svc/shop/web\" [label=\"web\", shape=hexagon, style=filled, fillcolor=\"lightblue\"];\n"
	"\t\t\"pod/shop/api-1\" [label=\"api-1\", shape=box, style=rounded];\n"
	"\t\t\"pod/shop/web-1\" [label=\"web-1\", shape=box, style=rounded];\n"
	"\t\t\"pod/shop/web-2\" [label=\"web-2\", shape=box, style=rounded];\n"
	"\t\t\"pod/shop/web-3\" [label=\"web-3\", shape=box, style=rounded];\n"
	"\t}\n"
	"\t\"addr/192.0.2.7\" -> \"svc/shop/api\" [label=\"1 flow\\n4.9 KiB\", penwidth=4];\n"
	"\t\"pod/default/client\" -> \"pod/kube-system/dns\" [label=\"1 dropped (policy-denied)\", "
	"penwidth=1, color=\"red\", fontcolor=\"red\"];\n"
	"\t\"pod/default/client\" -> \"svc/shop/empty\" [label=\"1 dropped (no-backend)\", "
	"penwidth=1, color=\"red\", fontcolor=\"red\"];\n"
	"\t\"pod/default/client\" -> \"svc/shop/web\" [label=\"2 flows\\n2.2 KiB\", penwidth=3];\n"
	"\t\"svc/shop/api\" -> \"pod/shop/api-1\" [label=\"1 flow\\n4.9 KiB\", penwidth=4];\n"
	"\t\"svc/shop/web\" -> \"pod/shop/web-1\" [label=\"1 flow\\n2.0 KiB\", penwidth=3];\n"
	"\t\"svc/shop/web\" -> \"pod/shop/web-2\" [label=\"1 flow\\n300 B\", penwidth=3];\n"
	"\t\"svc/shop/web\" -> \"pod/shop/web-3\" [label=\"2 dropped (policy-denied)\", "
	"penwidth=1, color=\"red\", fontcolor=\"red\"];\n"
	"}\n";

static void test_small_cluster(void **state)
{
	struct k8s_svcmap *m = svcmap();
	struct k8s_flow world = rec(K8S_FLOW_NEW, 50000, "shop/api", "shop", "api-1", "10.244.2.9");
	char *text;

	(void)state;
	/* two connections through shop/web, their totals growing from NEW to CLOSED */
	add(m, counted(rec(K8S_FLOW_NEW, 40000, "shop/web", "shop", "web-1", "10.244.2.3"), 1, 60));
	add(m, counted(rec(K8S_FLOW_CLOSED, 40000, "shop/web", "shop", "web-1", "10.244.2.3"), 10,
		       2000));
	add(m, counted(rec(K8S_FLOW_NEW, 40001, "shop/web", "shop", "web-2", "10.244.2.4"), 1, 60));
	add(m, counted(rec(K8S_FLOW_CLOSED, 40001, "shop/web", "shop", "web-2", "10.244.2.4"), 4,
		       300));
	/* refused by web-3's policy, twice */
	for (uint16_t sport = 40002; sport < 40004; sport++)
		add(m, dropped(rec(K8S_FLOW_POLICY, sport, "shop/web", "shop", "web-3", "10.244.2.5"),
			       K8S_DROP_POLICY_DENIED));
	/* a service without backends: the destination is its own address */
	add(m, dropped(rec(K8S_FLOW_POLICY, 40004, "shop/empty", "", "", "10.96.0.20"),
		       K8S_DROP_NO_BACKEND));
	/* pod to pod, no service */
	add(m, dropped(rec(K8S_FLOW_POLICY, 40005, NULL, "kube-system", "dns", "10.244.3.2"),
		       K8S_DROP_POLICY_DENIED));
	/* from outside the cluster */
	flow_peer(&world.src, "", "", "192.0.2.7", 50000);
	add(m, counted(world, 1, 60));
	world.type = K8S_FLOW_CLOSED;
	add(m, counted(world, 6, 5000));
	text = written(m);
	assert_string_equal(text, small_cluster);
	free(text);
}

/*
 * Several reasons on one edge, each counted, beside the HTTP requests; names
 * with DOT's specials escaped.
 */
static void test_reasons_and_escaping(void **state)
{
	struct k8s_svcmap *m = svcmap();
	char *text;

	(void)state;
	for (uint16_t i = 0; i < 3; i++)
		add(m, dropped(rec(K8S_FLOW_POLICY, 40000 + i, NULL, "shop", "we\"b\\1", "10.244.2.3"),
			       i ? K8S_DROP_POLICY_DENIED : K8S_DROP_NO_IDENTITY));
	/* requests straight to the pod: no NEW, no flow, but requests */
	add(m, rec(K8S_FLOW_HTTP_REQUEST, 40003, NULL, "shop", "we\"b\\1", "10.244.2.3"));
	text = written(m);
	assert_non_null(strstr(text, "\t\t\"pod/shop/we\\\"b\\\\1\" [label=\"we\\\"b\\\\1\", "
				     "shape=box, style=rounded];\n"));
	assert_non_null(strstr(text, "\t\"pod/default/client\" -> \"pod/shop/we\\\"b\\\\1\" "
				     "[label=\"1 HTTP request\\n3 dropped (policy-denied 2, "
				     "no-identity 1)\", "
				     "penwidth=1, color=\"red\", fontcolor=\"red\"];\n"));
	free(text);
}

/* Past the bound on nodes, records are left out and the graph says how many. */
static void test_bound(void **state)
{
	struct k8s_svcmap *m = svcmap();
	size_t n = K8S_SVCMAP_MAX_NODES + 3, edges = 0;
	char *text;

	(void)state;
	for (size_t i = 0; i < n; i++) {
		struct k8s_flow f = rec(K8S_FLOW_NEW, 40000, NULL, "shop", "web-1", "10.244.2.3");

		snprintf(f.src.addr, sizeof(f.src.addr), "198.51.%zu.%zu", i / 256, i % 256);
		f.src.ns[0] = f.src.pod[0] = 0;
		add(m, f);
	}
	text = written(m);
	/* web-1 and 1023 addresses; the last four records found no room */
	assert_non_null(strstr(text, "\tgraph [rankdir=LR, fontname=\"Helvetica\", labelloc=b, "
				     "label=\"4 records left out: the map holds at most 1024 nodes "
				     "and 4096 edges\"];\n"));
	assert_non_null(strstr(text, "\"addr/198.51.3.254\" [label"));
	assert_null(strstr(text, "\"addr/198.51.3.255\" [label"));
	for (const char *p = text; (p = strstr(p, " -> ")); p++)
		edges++;
	assert_int_equal(edges, K8S_SVCMAP_MAX_NODES - 1);
	free(text);
}

/* Independent records in any order draw the same graph, byte for byte. */
static void test_order(void **state)
{
	static const char *const backend[] = { "web-1", "web-2", "api-1", "api-2" };
	struct k8s_svcmap *a = svcmap(), *b = svcmap();
	char *ta, *tb;

	(void)state;
	for (uint16_t i = 0; i < 8; i++) {
		uint16_t j = 7 - i;

		add(a, rec(K8S_FLOW_NEW, 40000 + i, i % 4 < 2 ? "shop/web" : "blog/api",
			   i % 4 < 2 ? "shop" : "blog", backend[i % 4], "10.244.2.3"));
		add(b, rec(K8S_FLOW_NEW, 40000 + j, j % 4 < 2 ? "shop/web" : "blog/api",
			   j % 4 < 2 ? "shop" : "blog", backend[j % 4], "10.244.2.3"));
	}
	ta = written(a);
	tb = written(b);
	assert_string_equal(ta, tb);
	assert_true(strstr(ta, "cluster_blog") < strstr(ta, "cluster_default"));
	assert_true(strstr(ta, "cluster_default") < strstr(ta, "cluster_shop"));
	free(ta);
	free(tb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_cluster),
		cmocka_unit_test(test_reasons_and_escaping),
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
