/* SPDX-License-Identifier: MIT */
/*
 * RED metrics from flow records, in the spirit of Hubble's and Linkerd's:
 * for each service and for each (source pod, destination pod) pair, the
 * requests (connections opened, HTTP requests), the errors (drops by
 * reason, HTTP 5xx, connections reset), a duration histogram (time from a
 * connection's first packet to its first reply; HTTP latency) and the
 * traffic; and, over all records, the records by type and verdict and the
 * drops by reason.  Written in Prometheus' text format 0.0.4, families and
 * label sets in a fixed order so that two writes of the same records are
 * the same bytes.
 */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../../datapath/lb.h"
#include "errmsg.h"
#include "flowstats.h"
#include "metrics.h"

/* the enums' last members, so that every value indexes the arrays below */
#define N_FLOW_TYPES (K8S_FLOW_HTTP_RESPONSE + 1)
#define N_VERDICTS (K8S_FLOW_DROPPED + 1)
#define N_DROP_REASONS (K8S_DROP_MALFORMED + 1)

/* 16,384 connections tracked at once for their increments and connect times */
#define CONN_SETS 4096

enum { REQ_FLOW, REQ_HTTP, N_REQ };
static const char *const request_type[N_REQ] = { "flow", "http" };

enum { DUR_CONNECT, DUR_HTTP, N_DUR };
static const char *const duration_type[N_DUR] = { "connect", "http" };

/* Errors: a drop reason's index, or one of these after them. */
enum { ERR_HTTP_5XX = N_DROP_REASONS, ERR_RESET, N_ERR };

/*
 * Bucket bounds in nanoseconds, compared exactly, with their le labels:
 * Prometheus' default buckets and four below them, since a request between
 * two pods of a node takes tens of microseconds.
 */
static const struct {
	uint64_t ns;
	const char *le;
} buckets[] = {
	{ 100000, "0.0001" },       { 250000, "0.00025" },    { 500000, "0.0005" },
	{ 1000000, "0.001" },       { 2500000, "0.0025" },    { 5000000, "0.005" },
	{ 10000000, "0.01" },       { 25000000, "0.025" },    { 50000000, "0.05" },
	{ 100000000, "0.1" },       { 250000000, "0.25" },    { 500000000, "0.5" },
	{ 1000000000, "1" },        { 2500000000, "2.5" },    { 5000000000, "5" },
	{ 10000000000, "10" },
};
#define N_BUCKETS (sizeof(buckets) / sizeof(buckets[0]))

struct histogram {
	uint64_t in[N_BUCKETS]; /* observations in bucket i and no lower one; above them all: count only */
	uint64_t count, sum_ns;
};

struct red {
	uint64_t requests[N_REQ];
	uint64_t errors[N_ERR];
	uint64_t packets, bytes;
	struct histogram duration[N_DUR];
};

struct service_set {
	char service[sizeof(((struct k8s_flow *)0)->service)];
	struct red red;
};

struct pod_ref {
	char ns[K8S_NAME_MAX];
	char pod[K8S_NAME_MAX];
};

struct pair_set {
	struct pod_ref src, dst;
	struct red red;
};

/* Room for any scope's key. */
union key {
	struct service_set service;
	struct pair_set pair;
};

/* A family of label sets: its entries are a key (the label values) then a struct red. */
struct scope {
	const char *name;   /* in sluice_metrics_folded_total */
	const char *prefix; /* of its families' names */
	const char *per;    /* the end of its families' help */
	size_t key_size;
	/* the key of f's label set, or of the folded one when f is NULL (key zeroed) */
	void (*key)(void *key, const struct k8s_flow *f);
	bool (*applies)(const struct k8s_flow *f);
	void (*labels)(FILE *out, const void *entry);
	int (*cmp)(const void *a, const void *b, void *ctx);
	struct k8s_table sets; /* the folded sets' entry first, then the others' */
	uint64_t folded;       /* records accounted to the folded sets' entry */
};

enum { SCOPE_SERVICE, SCOPE_POD, N_SCOPES };

struct k8s_metrics {
	struct scope scopes[N_SCOPES];
	struct k8s_conns conns;
	uint64_t records[N_FLOW_TYPES][N_VERDICTS];
	uint64_t drops[N_DROP_REASONS];
};

#define OTHER "_other"
#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

static void write_label(FILE *out, const char *sep, const char *name, const char *value)
{
	fprintf(out, "%s%s=\"", sep, name);
	k8s_write_escaped(out, value);
	fputc('"', out);
}

/* Nanoseconds as decimal seconds, exactly, without trailing zeros. */
static void write_seconds(FILE *out, uint64_t ns)
{
	char frac[16];
	int n = snprintf(frac, sizeof(frac), "%09" PRIu64, ns % 1000000000u);

	while (n > 0 && frac[n - 1] == '0')
		frac[--n] = 0;
	fprintf(out, "%" PRIu64 "%s%s", ns / 1000000000u, n ? "." : "", frac);
}

static void service_key(void *key, const struct k8s_flow *f)
{
	struct service_set *s = key;

	snprintf(s->service, sizeof(s->service), "%s", f ? f->service : OTHER);
}

static bool service_applies(const struct k8s_flow *f)
{
	return f->service[0];
}

static void service_labels(FILE *out, const void *entry)
{
	write_label(out, "", "service", ((const struct service_set *)entry)->service);
}

static int service_cmp(const void *a, const void *b, void *ctx)
{
	(void)ctx;
	return strcmp(((const struct service_set *)a)->service,
		      ((const struct service_set *)b)->service);
}

/* A peer that is no pod (the world, the node) is one label set: namespace "", pod "world". */
static void pod_ref(struct pod_ref *r, const struct k8s_flow_peer *p)
{
	bool pod = p && p->pod[0];

	snprintf(r->ns, sizeof(r->ns), "%s", !p ? OTHER : pod ? p->ns : "");
	snprintf(r->pod, sizeof(r->pod), "%s", !p ? OTHER : pod ? p->pod : "world");
}

static void pair_key(void *key, const struct k8s_flow *f)
{
	struct pair_set *s = key;

	pod_ref(&s->src, f ? &f->src : NULL);
	pod_ref(&s->dst, f ? &f->dst : NULL);
}

static bool pair_applies(const struct k8s_flow *f)
{
	(void)f;
	return true;
}

static void pair_labels(FILE *out, const void *entry)
{
	const struct pair_set *s = entry;

	write_label(out, "", "source_namespace", s->src.ns);
	write_label(out, ",", "source_pod", s->src.pod);
	write_label(out, ",", "destination_namespace", s->dst.ns);
	write_label(out, ",", "destination_pod", s->dst.pod);
}

static int pod_ref_cmp(const struct pod_ref *a, const struct pod_ref *b)
{
	int c = strcmp(a->ns, b->ns);

	return c ? c : strcmp(a->pod, b->pod);
}

static int pair_cmp(const void *a, const void *b, void *ctx)
{
	const struct pair_set *x = a, *y = b;
	int c = pod_ref_cmp(&x->src, &y->src);

	(void)ctx;
	return c ? c : pod_ref_cmp(&x->dst, &y->dst);
}

static const struct scope scope_templates[N_SCOPES] = {
	[SCOPE_SERVICE] = { .name = "service", .prefix = "sluice_service_", .per = "per service",
			    .key_size = offsetof(struct service_set, red), .key = service_key,
			    .applies = service_applies, .labels = service_labels,
			    .cmp = service_cmp },
	[SCOPE_POD] = { .name = "pod", .prefix = "sluice_pod_",
			.per = "per source and destination pod (namespace \"\" and pod \"world\": "
			       "an address that is no pod's)",
			.key_size = offsetof(struct pair_set, red), .key = pair_key,
			.applies = pair_applies, .labels = pair_labels, .cmp = pair_cmp },
};

int k8s_metrics_new(struct k8s_metrics **out, struct sluice_error *err)
{
	struct k8s_metrics *m = calloc(1, sizeof(*m));
	int ret = m ? k8s_conns_init(&m->conns, CONN_SETS) : -ENOMEM;

	for (size_t i = 0; !ret && i < N_SCOPES; i++) {
		struct scope *s = &m->scopes[i];
		union key key;

		*s = scope_templates[i];
		/* padding included: the table compares keys byte for byte */
		memset(&key, 0, sizeof(key));
		ret = k8s_table_init(&s->sets, s->key_size, s->key_size + sizeof(struct red),
				     K8S_METRICS_MAX_LABEL_SETS + 1);
		s->key(&key, NULL);
		if (!ret && !k8s_table_get(&s->sets, &key))
			ret = -ENOMEM;
	}
	if (ret) {
		k8s_metrics_free(m);
		return sluice_fail(err, ENOMEM, "metrics: out of memory");
	}
	*out = m;
	return 0;
}

static void observe(struct histogram *h, uint64_t ns)
{
	for (size_t i = 0; i < N_BUCKETS; i++) {
		if (ns <= buckets[i].ns) {
			h->in[i]++;
			break;
		}
	}
	h->count++;
	h->sum_ns += ns;
}

static void account(struct red *r, const struct k8s_flow *f, const struct k8s_conn_delta *d)
{
	if (f->type == K8S_FLOW_NEW)
		r->requests[REQ_FLOW]++;
	if (f->type == K8S_FLOW_HTTP_REQUEST)
		r->requests[REQ_HTTP]++;
	if (f->verdict == K8S_FLOW_DROPPED && (unsigned)f->drop_reason < N_DROP_REASONS)
		r->errors[f->drop_reason]++;
	if (f->type == K8S_FLOW_HTTP_RESPONSE && f->http.status >= 500 && f->http.status <= 599)
		r->errors[ERR_HTTP_5XX]++;
	if (f->type == K8S_FLOW_CLOSED && f->proto == IPPROTO_TCP && (f->tcp_flags & LB_TCP_RST))
		r->errors[ERR_RESET]++;
	/* a dropped packet carried nothing */
	if (f->verdict == K8S_FLOW_FORWARDED) {
		r->packets += d->packets;
		r->bytes += d->bytes;
	}
	if (d->connected)
		observe(&r->duration[DUR_CONNECT], d->connect_ns);
	if (f->type == K8S_FLOW_HTTP_RESPONSE)
		observe(&r->duration[DUR_HTTP], f->http.latency_ns);
}

void k8s_metrics_add(struct k8s_metrics *m, const struct k8s_flow *f)
{
	struct k8s_conn_delta d;

	k8s_conns_account(&m->conns, f, &d);
	if ((unsigned)f->type < N_FLOW_TYPES && (unsigned)f->verdict < N_VERDICTS)
		m->records[f->type][f->verdict]++;
	if (f->verdict == K8S_FLOW_DROPPED && (unsigned)f->drop_reason < N_DROP_REASONS)
		m->drops[f->drop_reason]++;
	for (size_t i = 0; i < N_SCOPES; i++) {
		struct scope *s = &m->scopes[i];
		union key key;
		unsigned char *e;

		if (!s->applies(f))
			continue;
		memset(&key, 0, sizeof(key));
		s->key(&key, f);
		e = k8s_table_get(&s->sets, &key);
		if (!e) {
			memset(&key, 0, sizeof(key));
			s->key(&key, NULL);
			/* there since k8s_metrics_new */
			e = k8s_table_get(&s->sets, &key);
			s->folded++;
		}
		account((struct red *)(e + s->key_size), f, &d);
	}
}

static void write_family(FILE *out, const char *prefix, const char *name, const char *type,
			 const char *help, const char *per)
{
	fprintf(out, "# HELP %s%s %s%s%s.\n# TYPE %s%s %s\n", prefix, name, help, per ? ", " : "",
		per ? per : "", prefix, name, type);
}

/* NAME{the set's labels[,label="value"] -- the caller closes the braces */
static void write_series(FILE *out, const struct scope *s, const char *name, const void *entry,
			 const char *label, const char *value)
{
	fprintf(out, "%s%s{", s->prefix, name);
	s->labels(out, entry);
	if (label)
		write_label(out, ",", label, value);
}

static const char *error_reason(size_t i)
{
	return i == ERR_HTTP_5XX ? "http_5xx" : i == ERR_RESET ? "reset" :
	       k8s_drop_reason_name((enum k8s_drop_reason)i);
}

static const struct red *red_of(const struct scope *s, const void *entry)
{
	return (const void *)((const char *)entry + s->key_size);
}

/* The scope's label sets in order, the folded sets' one only when it holds records. */
static size_t scope_sets(const struct scope *s, void ***sets)
{
	union key other;
	size_t n = 0;

	*sets = k8s_table_sorted(&s->sets, s->cmp, NULL);
	if (!*sets)
		return 0;
	memset(&other, 0, sizeof(other));
	s->key(&other, NULL);
	for (size_t i = 0; i < s->sets.n; i++)
		if (s->folded || memcmp((*sets)[i], &other, s->key_size))
			(*sets)[n++] = (*sets)[i];
	return n;
}

static void write_histograms(FILE *out, const struct scope *s, const void *e)
{
	for (size_t t = 0; t < N_DUR; t++) {
		const struct histogram *h = &red_of(s, e)->duration[t];
		uint64_t cumulative = 0;

		if (!h->count)
			continue;
		for (size_t b = 0; b < N_BUCKETS; b++) {
			cumulative += h->in[b];
			write_series(out, s, "duration_seconds_bucket", e, "type", duration_type[t]);
			fprintf(out, ",le=\"%s\"} %" PRIu64 "\n", buckets[b].le, cumulative);
		}
		write_series(out, s, "duration_seconds_bucket", e, "type", duration_type[t]);
		fprintf(out, ",le=\"+Inf\"} %" PRIu64 "\n", h->count);
		write_series(out, s, "duration_seconds_sum", e, "type", duration_type[t]);
		fputs("} ", out);
		write_seconds(out, h->sum_ns);
		fputc('\n', out);
		write_series(out, s, "duration_seconds_count", e, "type", duration_type[t]);
		fprintf(out, "} %" PRIu64 "\n", h->count);
	}
}

static void write_scope(const struct scope *s, FILE *out)
{
	void **sets;
	size_t n = scope_sets(s, &sets);

	write_family(out, s->prefix, "requests_total", "counter",
		     "Connections opened (type=\"flow\") and HTTP requests (type=\"http\")", s->per);
	for (size_t i = 0; i < n; i++) {
		for (size_t t = 0; t < N_REQ; t++) {
			write_series(out, s, "requests_total", sets[i], "type", request_type[t]);
			fprintf(out, "} %" PRIu64 "\n", red_of(s, sets[i])->requests[t]);
		}
	}
	write_family(out, s->prefix, "errors_total", "counter",
		     "Packets dropped (by drop reason), HTTP responses 5xx (reason=\"http_5xx\") and "
		     "TCP connections reset (reason=\"reset\")", s->per);
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < N_ERR; k++) {
			uint64_t v = red_of(s, sets[i])->errors[k];

			if (!v)
				continue;
			write_series(out, s, "errors_total", sets[i], "reason", error_reason(k));
			fprintf(out, "} %" PRIu64 "\n", v);
		}
	}
	write_family(out, s->prefix, "duration_seconds", "histogram",
		     "Time from a connection's first packet to its first reply (type=\"connect\") "
		     "and from an HTTP request to its response (type=\"http\")", s->per);
	for (size_t i = 0; i < n; i++)
		write_histograms(out, s, sets[i]);
	write_family(out, s->prefix, "bytes_total", "counter", "Bytes forwarded, both ways", s->per);
	for (size_t i = 0; i < n; i++) {
		write_series(out, s, "bytes_total", sets[i], NULL, NULL);
		fprintf(out, "} %" PRIu64 "\n", red_of(s, sets[i])->bytes);
	}
	write_family(out, s->prefix, "packets_total", "counter", "Packets forwarded, both ways",
		     s->per);
	for (size_t i = 0; i < n; i++) {
		write_series(out, s, "packets_total", sets[i], NULL, NULL);
		fprintf(out, "} %" PRIu64 "\n", red_of(s, sets[i])->packets);
	}
	free(sets);
}

void k8s_metrics_write(const struct k8s_metrics *m, FILE *out)
{
	write_family(out, "sluice_", "flows_total", "counter",
		     "Flow records by type and verdict", NULL);
	for (size_t t = 0; t < N_FLOW_TYPES; t++) {
		for (size_t v = 0; v < N_VERDICTS; v++) {
			if (!m->records[t][v])
				continue;
			write_label(out, "sluice_flows_total{", "type",
				    k8s_flow_type_name((enum k8s_flow_type)t));
			write_label(out, ",", "verdict", k8s_flow_verdict_name((enum k8s_flow_verdict)v));
			fprintf(out, "} %" PRIu64 "\n", m->records[t][v]);
		}
	}
	write_family(out, "sluice_", "drops_total", "counter",
		     "Packets dropped, by reason, over all label sets", NULL);
	for (size_t r = 0; r < N_DROP_REASONS; r++) {
		if (!m->drops[r])
			continue;
		write_label(out, "sluice_drops_total{", "reason",
			    k8s_drop_reason_name((enum k8s_drop_reason)r));
		fprintf(out, "} %" PRIu64 "\n", m->drops[r]);
	}
	write_family(out, "sluice_", "metrics_folded_total", "counter",
		     "Records accounted to the label set \"" OTHER "\" because their scope already "
		     "had " STRINGIFY(K8S_METRICS_MAX_LABEL_SETS) " others", NULL);
	for (size_t i = 0; i < N_SCOPES; i++) {
		write_label(out, "sluice_metrics_folded_total{", "scope", m->scopes[i].name);
		fprintf(out, "} %" PRIu64 "\n", m->scopes[i].folded);
	}
	write_family(out, "sluice_", "metrics_connections_evicted_total", "counter",
		     "Connections forgotten to make room for newer ones (their next records count "
		     "as their first)", NULL);
	fprintf(out, "sluice_metrics_connections_evicted_total %" PRIu64 "\n", m->conns.evicted);
	for (size_t i = 0; i < N_SCOPES; i++)
		write_scope(&m->scopes[i], out);
}

void k8s_metrics_free(struct k8s_metrics *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < N_SCOPES; i++)
		k8s_table_free(&m->scopes[i].sets);
	k8s_conns_free(&m->conns);
	free(m);
}
