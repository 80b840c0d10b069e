/* SPDX-License-Identifier: MIT */
/*
 * The service map from flow records.  Nodes: pods, in one cluster per
 * namespace; services, in their namespace's cluster but drawn apart
 * (hexagons); addresses that are no pod's (the world, the node), one node
 * each.  A flow through a service is two edges, client -> service ->
 * backend; without a service, one.  NEW records count an edge's flows,
 * HTTP_REQUEST ones its HTTP requests, and each record's increments its
 * bytes, the width growing with the log of the bytes; an edge that carried drops is red and says how many and why.
 * A drop goes on the last hop its record names, the one that was refused
 * (service -> backend for a policy, client -> service when there was no
 * backend).  Nodes and edges are written in a fixed order, so that the same
 * records always give the same text.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "flowstats.h"
#include "svcmap.h"

/* the enum's last member, so that every reason indexes drops[] */
#define N_DROP_REASONS (K8S_DROP_MALFORMED + 1)
/* 16,384 connections tracked at once for their byte increments */
#define CONN_SETS 4096

enum node_kind { NODE_ADDR, NODE_SERVICE, NODE_POD };

/* All chars, so no padding: the whole struct is the table's key. */
struct node {
	char ns[K8S_NAME_MAX]; /* "" for an address */
	char kind;             /* enum node_kind */
	char name[K8S_NAME_MAX]; /* the pod's or the service's, or the address */
};

struct edge {
	uint32_t from, to; /* node indexes in their table */
	uint64_t flows, http_requests, bytes, dropped;
	uint64_t drops[N_DROP_REASONS];
};

struct k8s_svcmap {
	struct k8s_table nodes, edges;
	struct k8s_conns conns;
	uint64_t left_out; /* records not drawn, or not whole, for want of room */
};

int k8s_svcmap_new(struct k8s_svcmap **out, struct sluice_error *err)
{
	struct k8s_svcmap *m = calloc(1, sizeof(*m));

	if (!m || k8s_table_init(&m->nodes, sizeof(struct node), sizeof(struct node),
				 K8S_SVCMAP_MAX_NODES) ||
	    k8s_table_init(&m->edges, offsetof(struct edge, flows), sizeof(struct edge),
			   K8S_SVCMAP_MAX_EDGES) ||
	    k8s_conns_init(&m->conns, CONN_SETS)) {
		k8s_svcmap_free(m);
		return sluice_fail(err, ENOMEM, "service map: out of memory");
	}
	*out = m;
	return 0;
}

/* The node's index, added when new; -1 when the map is full. */
static long node_of(struct k8s_svcmap *m, enum node_kind kind, const char *ns, int ns_len,
		    const char *name)
{
	struct node key;
	void *e;

	memset(&key, 0, sizeof(key));
	key.kind = (char)kind;
	snprintf(key.ns, sizeof(key.ns), "%.*s", ns_len, ns);
	/* names are Kubernetes names or addresses: the bound only tells the compiler */
	snprintf(key.name, sizeof(key.name), "%.*s", (int)sizeof(key.name) - 1, name);
	e = k8s_table_get(&m->nodes, &key);
	return e ? (long)k8s_table_index(&m->nodes, e) : -1;
}

static long peer_node(struct k8s_svcmap *m, const struct k8s_flow_peer *p)
{
	if (p->pod[0])
		return node_of(m, NODE_POD, p->ns, (int)strnlen(p->ns, sizeof(p->ns)), p->pod);
	return node_of(m, NODE_ADDR, "", 0, p->addr);
}

/* "ns/name"; a name without a namespace stays whole, outside every cluster. */
static long service_node(struct k8s_svcmap *m, const char *service)
{
	const char *slash = strchr(service, '/');

	if (!slash)
		return node_of(m, NODE_SERVICE, "", 0, service);
	return node_of(m, NODE_SERVICE, service, (int)(slash - service), slash + 1);
}

/* A service with no pod behind it: dst is then the service's own address, not a peer. */
static bool has_backend(const struct k8s_flow *f)
{
	return !f->service[0] || f->dst.pod[0] ||
	       (f->dst.addr[0] && !(f->verdict == K8S_FLOW_DROPPED &&
				    f->drop_reason == K8S_DROP_NO_BACKEND));
}

void k8s_svcmap_add(struct k8s_svcmap *m, const struct k8s_flow *f)
{
	struct k8s_conn_delta d;
	long hop[3];
	size_t n = 0;

	k8s_conns_account(&m->conns, f, &d);
	hop[n++] = peer_node(m, &f->src);
	if (f->service[0])
		hop[n++] = service_node(m, f->service);
	if (has_backend(f))
		hop[n++] = peer_node(m, &f->dst);
	for (size_t i = 0; i < n; i++) {
		if (hop[i] < 0) {
			m->left_out++;
			return;
		}
	}
	for (size_t i = 0; i + 1 < n; i++) {
		struct edge key = { .from = (uint32_t)hop[i], .to = (uint32_t)hop[i + 1] }, *e;

		e = k8s_table_get(&m->edges, &key);
		if (!e) {
			m->left_out++;
			return;
		}
		e->flows += f->type == K8S_FLOW_NEW;
		e->http_requests += f->type == K8S_FLOW_HTTP_REQUEST;
		if (f->verdict == K8S_FLOW_FORWARDED)
			e->bytes += d.bytes;
		if (f->verdict == K8S_FLOW_DROPPED && i + 2 == n) {
			e->dropped++;
			if ((unsigned)f->drop_reason < N_DROP_REASONS)
				e->drops[f->drop_reason]++;
		}
	}
}

static const struct node *node_at(const struct k8s_table *nodes, uint32_t i)
{
	return (const void *)(nodes->entries + (size_t)i * nodes->entry_size);
}

/* By namespace (addresses, outside every cluster, first), then services before pods, then name. */
static int node_cmp(const void *a, const void *b, void *ctx)
{
	const struct node *x = a, *y = b;
	int c = strcmp(x->ns, y->ns);

	(void)ctx;
	if (!c)
		c = x->kind - y->kind;
	return c ? c : strcmp(x->name, y->name);
}

static int edge_cmp(const void *a, const void *b, void *nodes)
{
	const struct edge *x = a, *y = b;
	int c = node_cmp(node_at(nodes, x->from), node_at(nodes, y->from), NULL);

	return c ? c : node_cmp(node_at(nodes, x->to), node_at(nodes, y->to), NULL);
}

static void write_quoted(FILE *out, const char *s)
{
	fputc('"', out);
	k8s_write_escaped(out, s);
	fputc('"', out);
}

/* "pod/NS/NAME", "svc/NS/NAME" or "addr/ADDRESS": one per node, whatever the names hold. */
static void write_id(FILE *out, const struct node *n)
{
	static const char *const kind[] = { [NODE_ADDR] = "addr/", [NODE_SERVICE] = "svc/",
					    [NODE_POD] = "pod/" };

	fprintf(out, "\"%s", kind[(int)n->kind]);
	if (n->kind != NODE_ADDR) {
		k8s_write_escaped(out, n->ns);
		fputc('/', out);
	}
	k8s_write_escaped(out, n->name);
	fputc('"', out);
}

static void write_node(FILE *out, const struct node *n, const char *indent)
{
	static const char *const style[] = {
		[NODE_ADDR] = "shape=ellipse, style=dashed",
		[NODE_SERVICE] = "shape=hexagon, style=filled, fillcolor=\"lightblue\"",
		[NODE_POD] = "shape=box, style=rounded",
	};

	fputs(indent, out);
	write_id(out, n);
	fputs(" [label=", out);
	write_quoted(out, n->name[0] ? n->name : "unknown");
	fprintf(out, ", %s];\n", style[(int)n->kind]);
}

static void write_bytes(FILE *out, uint64_t bytes)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes / 1024;
	size_t u = 0;

	if (bytes < 1024) {
		fprintf(out, "%" PRIu64 " B", bytes);
		return;
	}
	while (v >= 1024 && u + 1 < sizeof(unit) / sizeof(unit[0])) {
		v /= 1024;
		u++;
	}
	fprintf(out, "%.1f %s", v, unit[u]);
}

/* 1 for no traffic, one more per factor of 16 in bytes, up to 8. */
static unsigned pen_width(uint64_t bytes)
{
	unsigned log2 = bytes ? 63u - (unsigned)__builtin_clzll(bytes) : 0;

	return log2 / 4 + 1 > 8 ? 8 : log2 / 4 + 1;
}

static void write_edge(FILE *out, const struct k8s_table *nodes, const struct edge *e)
{
	const char *line = "";
	size_t reasons = 0;

	fputc('\t', out);
	write_id(out, node_at(nodes, e->from));
	fputs(" -> ", out);
	write_id(out, node_at(nodes, e->to));
	fputs(" [label=\"", out);
	/* what there is to say, one line each; "0 flows" only when there is nothing */
	if (e->flows || !(e->http_requests || e->bytes || e->dropped)) {
		fprintf(out, "%" PRIu64 " flow%s", e->flows, e->flows == 1 ? "" : "s");
		line = "\\n";
	}
	if (e->http_requests) {
		fprintf(out, "%s%" PRIu64 " HTTP request%s", line, e->http_requests,
			e->http_requests == 1 ? "" : "s");
		line = "\\n";
	}
	if (e->bytes) {
		fputs(line, out);
		write_bytes(out, e->bytes);
		line = "\\n";
	}
	for (size_t r = 0; r < N_DROP_REASONS; r++)
		reasons += e->drops[r] != 0;
	if (e->dropped) {
		const char *sep = " (";

		fprintf(out, "%s%" PRIu64 " dropped", line, e->dropped);
		for (size_t r = 0; r < N_DROP_REASONS; r++) {
			if (!e->drops[r])
				continue;
			fputs(sep, out);
			k8s_write_escaped(out, k8s_drop_reason_name((enum k8s_drop_reason)r));
			/* with one reason, its count is the total's */
			if (reasons > 1)
				fprintf(out, " %" PRIu64, e->drops[r]);
			sep = ", ";
		}
		if (reasons)
			fputc(')', out);
	}
	fprintf(out, "\", penwidth=%u", pen_width(e->bytes));
	if (e->dropped)
		fputs(", color=\"red\", fontcolor=\"red\"", out);
	fputs("];\n", out);
}

void k8s_svcmap_write_dot(const struct k8s_svcmap *m, FILE *out)
{
	void **nodes = k8s_table_sorted(&m->nodes, node_cmp, NULL);
	void **edges = k8s_table_sorted(&m->edges, edge_cmp, (void *)&m->nodes);
	const char *cluster = NULL;

	fputs("digraph sluice {\n\tgraph [rankdir=LR, fontname=\"Helvetica\"", out);
	if (m->left_out)
		fprintf(out, ", labelloc=b, label=\"%" PRIu64 " records left out: the map holds at "
			"most %d nodes and %d edges\"", m->left_out, K8S_SVCMAP_MAX_NODES,
			K8S_SVCMAP_MAX_EDGES);
	fputs("];\n\tnode [fontname=\"Helvetica\"];\n\tedge [fontname=\"Helvetica\", fontsize=10];\n",
	      out);
	for (size_t i = 0; nodes && i < m->nodes.n; i++) {
		const struct node *n = nodes[i];

		if (cluster && strcmp(cluster, n->ns)) {
			fputs("\t}\n", out);
			cluster = NULL;
		}
		if (!cluster && n->ns[0]) {
			cluster = n->ns;
			fputs("\tsubgraph \"cluster_", out);
			k8s_write_escaped(out, cluster);
			fputs("\" {\n\t\tlabel=", out);
			write_quoted(out, cluster);
			fputs(";\n", out);
		}
		write_node(out, n, cluster ? "\t\t" : "\t");
	}
	if (cluster)
		fputs("\t}\n", out);
	for (size_t i = 0; edges && i < m->edges.n; i++)
		write_edge(out, &m->nodes, edges[i]);
	fputs("}\n", out);
	free(nodes);
	free(edges);
}

void k8s_svcmap_free(struct k8s_svcmap *m)
{
	if (!m)
		return;
	k8s_table_free(&m->nodes);
	k8s_table_free(&m->edges);
	k8s_conns_free(&m->conns);
	free(m);
}
