/* SPDX-License-Identifier: MIT */
/*
 * NetworkPolicy's compilation (src/k8s/policy.c), checked through the same
 * lookups the datapath makes (k8s_policy_check): port ranges as aligned
 * blocks, selector operators, policyTypes defaulting, ipBlock with except
 * for addresses outside the cluster, named ports resolved per pod, union,
 * identities that survive address changes and relabels, and HTTP rules and
 * the headers they require.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "k8s/policy.h"

/* Two namespaces, prod (team: a) and dev; pods web (prod), api (prod), cli (dev). */
static const char cluster[] =
	"apiVersion: v1\nkind: Namespace\nmetadata: {name: prod, labels: {team: a}}\n---\n"
	"apiVersion: v1\nkind: Namespace\nmetadata: {name: dev}\n---\n"
	"apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: prod, labels: {app: web}}\n"
	"spec: {containers: [{name: m, ports: [{name: http, containerPort: 8080}]}]}\n"
	"status: {podIP: 10.0.1.1}\n---\n"
	"apiVersion: v1\nkind: Pod\nmetadata: {name: api, namespace: prod, labels: {app: api, "
	"tier: back}}\n"
	"spec: {containers: [{name: m, ports: [{name: http, containerPort: 9090}]}]}\n"
	"status: {podIP: 10.0.1.2}\n---\n"
	"apiVersion: v1\nkind: Pod\nmetadata: {name: cli, namespace: dev, labels: {app: cli}}\n"
	"spec: {containers: [{name: m}]}\nstatus: {podIP: 10.0.2.1}\n";

struct world {
	struct k8s_store store;
	struct k8s_id_table ids;
	struct k8s_policy p;
};

/* The cluster, plus extra (more objects), compiled. */
static void build(struct world *w, const char *extra)
{
	struct k8s_store add = { 0 }, more = { 0 }, base = { 0 };
	struct sluice_error err = { 0 };

	k8s_policy_free(&w->p);
	k8s_store_free(&w->store);
	assert_int_equal(k8s_parse("cluster.yaml", cluster, strlen(cluster), &add, &err), 0);
	assert_int_equal(k8s_store_merge(&(struct k8s_store){ 0 }, &add, false, &base, &err), 0);
	/* extra's objects replace the cluster's of the same name, as an apply does */
	if (extra && k8s_parse("extra.yaml", extra, strlen(extra), &more, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(k8s_store_merge(&base, &more, false, &w->store, &err), 0);
	k8s_store_free(&add);
	k8s_store_free(&more);
	k8s_store_free(&base);
	assert_int_equal(k8s_store_validate(&w->store, &err), 0);
	if (k8s_policy_build(&w->store, &w->ids, &w->p, &err))
		fail_msg("%s", err.msg);
}

static void done(struct world *w)
{
	k8s_policy_free(&w->p);
	k8s_store_free(&w->store);
	k8s_id_table_free(&w->ids);
}

/* The verdict on a new flow: both sides (both), or the destination's ingress only. */
static bool verdict(const struct world *w, const char *src, const char *dst, uint8_t proto,
		    uint16_t port, bool both)
{
	struct k8s_ip s, d;
	struct k8s_side eg, in;

	assert_int_equal(k8s_ip_parse(src, &s), 0);
	assert_int_equal(k8s_ip_parse(dst, &d), 0);
	k8s_policy_check(&w->p, &s, &d, proto, port, &eg, &in);
	return (eg.allowed || !both) && in.allowed;
}

static bool allowed(const struct world *w, const char *src, const char *dst, uint8_t proto,
		    uint16_t port)
{
	return verdict(w, src, dst, proto, port, true);
}

/* Blocks cover exactly [lo, hi], each aligned to its size, for every range of a sample. */
static void test_port_blocks(void **state)
{
	uint16_t start[32];
	uint8_t bits[32];

	(void)state;
	assert_int_equal(k8s_port_blocks(80, 80, start, bits), 1);
	assert_int_equal(bits[0], 16);
	assert_int_equal(k8s_port_blocks(80, 81, start, bits), 1);
	assert_int_equal(bits[0], 15);
	assert_int_equal(k8s_port_blocks(1, 65535, start, bits), 16);
	for (uint32_t lo = 1; lo < 65536; lo += 997) {
		for (uint32_t hi = lo; hi < 65536; hi += 4099) {
			size_t n = k8s_port_blocks((uint16_t)lo, (uint16_t)hi, start, bits);
			uint32_t at = lo;

			assert_true(n <= 32);
			for (size_t i = 0; i < n; i++) {
				uint32_t size = 1u << (16 - bits[i]);

				assert_int_equal(start[i], at);
				assert_int_equal(start[i] % size, 0);
				at += size;
			}
			assert_int_equal(at, hi + 1);
		}
	}
}

static void test_selectors_and_defaults(void **state)
{
	struct world w = { 0 };

	(void)state;
	/* NotIn selects pods without the key; no policyTypes with egress rules: both ways */
	build(&w, "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
		  "metadata: {name: p, namespace: prod}\nspec:\n"
		  "  podSelector: {matchLabels: {app: web}}\n"
		  "  ingress: [{from: [{podSelector: {matchExpressions: "
		  "[{key: tier, operator: NotIn, values: [back]}]}}]}]\n"
		  "  egress: [{to: [{namespaceSelector: {matchExpressions: "
		  "[{key: team, operator: DoesNotExist}]}}]}]\n");
	assert_false(allowed(&w, "10.0.1.2", "10.0.1.1", IPPROTO_TCP, 8080)); /* api: tier back */
	/* web itself, which has no tier (its egress is another matter: prod has a team) */
	assert_true(verdict(&w, "10.0.1.1", "10.0.1.1", IPPROTO_TCP, 8080, false));
	assert_false(allowed(&w, "10.0.1.1", "10.0.1.1", IPPROTO_TCP, 8080));
	assert_false(allowed(&w, "10.0.2.1", "10.0.1.1", IPPROTO_TCP, 8080)); /* other namespace */
	assert_true(allowed(&w, "10.0.1.1", "10.0.2.1", IPPROTO_UDP, 53));    /* dev: no team */
	assert_false(allowed(&w, "10.0.1.1", "10.0.1.2", IPPROTO_UDP, 53));   /* prod: team a */
	/* pods no policy selects are open both ways */
	assert_true(allowed(&w, "10.0.2.1", "10.0.1.2", IPPROTO_TCP, 1));
	/* namespaceSelector matches kubernetes.io/metadata.name too */
	build(&w, "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
		  "metadata: {name: p, namespace: prod}\nspec:\n"
		  "  podSelector: {}\n"
		  "  ingress: [{from: [{namespaceSelector: {matchLabels: "
		  "{kubernetes.io/metadata.name: dev}}}]}]\n");
	assert_true(allowed(&w, "10.0.2.1", "10.0.1.2", IPPROTO_TCP, 1));
	assert_false(allowed(&w, "10.0.1.1", "10.0.1.2", IPPROTO_TCP, 1));
	done(&w);
}

/*
 * ICMP, which no rule can name: a rule without ports allows it from its
 * peers (the "every protocol" entry), a rule with ports never does, and
 * the union of both allows it from the first's peers only.
 */
static void test_icmp(void **state)
{
	struct world w = { 0 };

	(void)state;
	build(&w, "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
		  "metadata: {name: p, namespace: prod}\nspec:\n"
		  "  podSelector: {matchLabels: {app: web}}\n"
		  "  ingress:\n"
		  "    - from: [{podSelector: {matchLabels: {app: api}}}]\n"
		  "    - from: [{namespaceSelector: {}}]\n"
		  "      ports: [{port: 8080, protocol: TCP}, {protocol: UDP}]\n");
	assert_true(allowed(&w, "10.0.1.2", "10.0.1.1", IPPROTO_ICMP, 0));   /* api: no ports */
	assert_true(allowed(&w, "10.0.2.1", "10.0.1.1", IPPROTO_TCP, 8080));
	assert_false(allowed(&w, "10.0.2.1", "10.0.1.1", IPPROTO_ICMP, 0));  /* cli: ports only */
	/* web's egress is not policed: its echo requests go anywhere */
	assert_true(allowed(&w, "10.0.1.1", "10.0.2.1", IPPROTO_ICMP, 0));
	done(&w);
}

/* Addresses outside the cluster: the longest ipBlock prefix decides; the rest is the world. */
static void test_ipblock_except(void **state)
{
	struct world w = { 0 };

	(void)state;
	build(&w, "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
		  "metadata: {name: p, namespace: prod}\nspec:\n"
		  "  podSelector: {matchLabels: {app: web}}\n"
		  "  ingress: [{from: [{ipBlock: {cidr: 192.168.0.0/16, except: [192.168.1.0/24]}}]}]\n"
		  "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
		  "metadata: {name: q, namespace: prod}\nspec:\n"
		  "  podSelector: {matchLabels: {app: web}}\n"
		  "  ingress: [{from: [{ipBlock: {cidr: 192.168.1.128/25}}], ports: [{port: 8080}]}]\n");
	assert_true(allowed(&w, "192.168.2.1", "10.0.1.1", IPPROTO_TCP, 80));
	assert_false(allowed(&w, "192.168.1.1", "10.0.1.1", IPPROTO_TCP, 80));
	/* the second policy allows part of the first one's except, on its port only */
	assert_true(allowed(&w, "192.168.1.200", "10.0.1.1", IPPROTO_TCP, 8080));
	assert_false(allowed(&w, "192.168.1.200", "10.0.1.1", IPPROTO_TCP, 80));
	assert_false(allowed(&w, "172.16.0.1", "10.0.1.1", IPPROTO_TCP, 80));
	/* pods are not in the blocks */
	assert_false(allowed(&w, "10.0.2.1", "10.0.1.1", IPPROTO_TCP, 80));
	done(&w);
}

/* A named egress port is each destination's own number for it. */
static void test_named_ports(void **state)
{
	struct world w = { 0 };

	(void)state;
	build(&w, "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
		  "metadata: {name: p, namespace: dev}\nspec:\n"
		  "  podSelector: {}\n  policyTypes: [Egress]\n"
		  "  egress: [{to: [{namespaceSelector: {}}], ports: [{port: http}]}]\n");
	assert_true(allowed(&w, "10.0.2.1", "10.0.1.1", IPPROTO_TCP, 8080));
	assert_false(allowed(&w, "10.0.2.1", "10.0.1.1", IPPROTO_TCP, 9090));
	assert_true(allowed(&w, "10.0.2.1", "10.0.1.2", IPPROTO_TCP, 9090));
	assert_false(allowed(&w, "10.0.2.1", "10.0.1.2", IPPROTO_TCP, 8080));
	assert_false(allowed(&w, "10.0.2.1", "10.0.1.2", IPPROTO_UDP, 9090));
	done(&w);
}

/* Identities keep their numbers; a relabel to known labels touches the ipcache only. */
static void test_identity_stability(void **state)
{
	static const char policy[] =
		"---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
		"metadata: {name: p, namespace: prod}\nspec:\n"
		"  podSelector: {matchLabels: {app: web}}\n"
		"  ingress: [{from: [{podSelector: {matchLabels: {app: api}}}], "
		"ports: [{port: 8000, endPort: 8100, protocol: UDP}]}]\n";
	struct world w = { 0 };
	struct k8s_rule_entry *rules;
	size_t n_rules;
	uint32_t web;

	(void)state;
	build(&w, policy);
	web = w.p.ipcache[0].val.identity;
	n_rules = w.p.n_rules;
	rules = malloc(n_rules * sizeof(*rules));
	assert_non_null(rules);
	memcpy(rules, w.p.rules, n_rules * sizeof(*rules));
	assert_true(allowed(&w, "10.0.1.2", "10.0.1.1", IPPROTO_UDP, 8100));
	assert_false(allowed(&w, "10.0.1.2", "10.0.1.1", IPPROTO_UDP, 8101));
	/* the same objects again: the same numbers, the same rules */
	build(&w, policy);
	assert_int_equal(w.p.ipcache[0].val.identity, web);
	assert_int_equal(w.p.n_rules, n_rules);
	assert_memory_equal(w.p.rules, rules, n_rules * sizeof(*rules));
	/* api's labels in another namespace are another identity */
	build(&w, "---\napiVersion: v1\nkind: Pod\nmetadata: {name: cli, namespace: dev, labels: "
		  "{app: api, tier: back}}\nspec: {containers: [{name: m}]}\n"
		  "status: {podIP: 10.0.2.9}\n");
	assert_int_equal(w.p.n_ids, 3);
	free(rules);
	done(&w);
}

/* A CiliumNetworkPolicy of n GET rules on web's port 8080, named name. */
static char *http_policy(const char *name, int n)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	assert_non_null(out);
	fprintf(out, "---\napiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
		"metadata: {name: %s, namespace: prod}\nspec:\n"
		"  endpointSelector: {matchLabels: {app: web}}\n"
		"  ingress: [{toPorts: [{ports: [{port: \"8080\", protocol: TCP}], "
		"rules: {http: [", name);
	for (int i = 0; i < n; i++)
		fprintf(out, "%s{method: GET, path: /r%d/*}", i ? ", " : "", i);
	fprintf(out, "]}}]}]\n");
	assert_int_equal(fclose(out), 0);
	return text;
}

/* HTTP rules of several policies on one port are a union, up to the datapath's bound. */
static void test_http_rules(void **state)
{
	struct world w = { 0 };
	struct k8s_store add = { 0 }, next = { 0 };
	struct sluice_error err = { 0 };
	struct k8s_policy p;
	char *a = http_policy("a", 2), *b = http_policy("b", 3), *both, *many;

	(void)state;
	assert_true(asprintf(&both, "%s%s", a, b) > 0);
	build(&w, both);
	assert_int_equal(w.p.n_http, 5);
	for (size_t i = 0; i < w.p.n_http; i++)
		assert_int_equal(ntohs(w.p.http[i].key.port), 8080);
	assert_string_equal(w.p.http[0].rule.path, "/r0/");
	assert_true(w.p.http[0].rule.prefix);
	for (size_t i = 0; i < w.p.n_eps; i++)
		assert_int_equal(!!(w.p.eps[i].flags & POL_EP_HTTP),
				 !strcmp(w.p.eps[i].pod->name, "web"));
	/* one more rule than a port may have: refused, naming the policy */
	many = http_policy("many", POL_HTTP_RULES_PER_PORT + 1);
	assert_int_equal(k8s_parse("many.yaml", many, strlen(many), &add, &err), 0);
	assert_int_equal(k8s_store_merge(&w.store, &add, false, &next, &err), 0);
	assert_int_not_equal(k8s_policy_build(&next, &w.ids, &p, &err), 0);
	assert_non_null(strstr(err.msg, "many.yaml:2: CiliumNetworkPolicy prod/many: more than 16 "
				       "HTTP rules on one port of a pod"));
	k8s_store_free(&add);
	k8s_store_free(&next);
	free(a);
	free(b);
	free(both);
	free(many);
	done(&w);
}

/* A CiliumNetworkPolicy on web's port 8080: one GET rule for /r0 with headers (a YAML list). */
static char *http_headers_policy(const char *name, const char *headers)
{
	char *text;

	assert_true(asprintf(&text, "---\napiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n"
			     "metadata: {name: %s, namespace: prod}\nspec:\n"
			     "  endpointSelector: {matchLabels: {app: web}}\n"
			     "  ingress: [{toPorts: [{ports: [{port: \"8080\", protocol: TCP}], "
			     "rules: {http: [{method: GET, path: /r0, headers: %s}]}}]}]\n",
			     name, headers) > 0);
	return text;
}

/*
 * Required headers: each distinct one of a port (name in lowercase, value
 * as written, blanks around it dropped) gets a bit, which every rule
 * requiring it sets; more than the datapath's bound is refused.
 */
static void test_http_headers(void **state)
{
	struct world w = { 0 };
	char *a = http_headers_policy("a", "[\"X-Token:  s3cret \", X-Probe]");
	char *b = http_headers_policy("b", "[x-probe, \"X-Token s3cret\", \"X-Token: other\"]");
	char *many = http_headers_policy("many", "[H0, H1, H2, H3, H4, H5, H6, H7]");
	char *both, *more;
	const struct pol_http_range *range;
	struct k8s_store add = { 0 }, next = { 0 };
	struct sluice_error err = { 0 };
	struct k8s_policy p;

	(void)state;
	assert_true(asprintf(&both, "%s%s", a, b) > 0);
	build(&w, both);
	assert_int_equal(w.p.n_http, 2);
	assert_int_equal(w.p.n_http_ports, 1);
	range = &w.p.http_ports[0].range;
	assert_int_equal(range->first, 0);
	assert_int_equal(range->count, 2);
	assert_int_equal(range->n_headers, 3);
	assert_memory_equal(range->headers[0].name, "x-token", 7);
	assert_int_equal(range->headers[0].name_len, 7);
	assert_true(range->headers[0].has_value);
	assert_int_equal(range->headers[0].value_len, 6);
	assert_memory_equal(range->headers[0].value, "s3cret", 6);
	assert_false(range->headers[1].has_value);
	assert_memory_equal(range->headers[2].value, "other", 5);
	assert_int_equal(w.p.http[0].rule.headers, 0x3);
	assert_int_equal(w.p.http[1].rule.headers, 0x7);
	/* a's two headers and many's eight on one port: ten distinct ones */
	assert_true(asprintf(&more, "%s%s", a, many) > 0);
	assert_int_equal(k8s_parse("more.yaml", more, strlen(more), &add, &err), 0);
	assert_int_equal(k8s_store_merge(&w.store, &add, false, &next, &err), 0);
	assert_int_not_equal(k8s_policy_build(&next, &w.ids, &p, &err), 0);
	assert_non_null(strstr(err.msg, "CiliumNetworkPolicy prod/many: with the other rules of "
				       "the same port of a pod, more than 8 distinct headers"));
	k8s_store_free(&add);
	k8s_store_free(&next);
	free(a);
	free(b);
	free(many);
	free(both);
	free(more);
	done(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_port_blocks),
		cmocka_unit_test(test_selectors_and_defaults),
		cmocka_unit_test(test_icmp),
		cmocka_unit_test(test_ipblock_except),
		cmocka_unit_test(test_named_ports),
		cmocka_unit_test(test_identity_stability),
		cmocka_unit_test(test_http_rules),
		cmocka_unit_test(test_http_headers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
