/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <bpf/bpf.h>

#include "errmsg.h"
#include "json.h"
#include "policy_maps.h"

static const char *const counter_names[POL_COUNTERS] = {
	[POL_ALLOWED_NEW] = "allowed_new",
	[POL_ALLOWED_REPLY] = "allowed_reply",
	[POL_DENIED_INGRESS] = "denied_ingress",
	[POL_DENIED_EGRESS] = "denied_egress",
	[POL_DENIED_FRAGMENT] = "denied_fragment",
	[POL_DENIED_HTTP] = "denied_http",
};

static int fd_of(struct bpf_object *obj, const char *name, struct sluice_error *err)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, name);

	if (!m)
		return sluice_fail(err, ENOENT, "the datapath object has no map %s", name);
	return bpf_map__fd(m);
}

int k8s_policy_maps_open(struct k8s_policy_maps *m, struct bpf_object *obj, int ncpus,
			 struct sluice_error *err)
{
	memset(m, 0, sizeof(*m));
	m->ncpus = ncpus;
	if ((m->ipcache = fd_of(obj, "pol_ipcache", err)) < 0 ||
	    (m->rules = fd_of(obj, "pol_rules", err)) < 0 ||
	    (m->ct = fd_of(obj, "pol_ct", err)) < 0 ||
	    (m->config = fd_of(obj, "pol_config", err)) < 0 ||
	    (m->counters = fd_of(obj, "pol_counters", err)) < 0 ||
	    (m->http_ports = fd_of(obj, "pol_http_ports", err)) < 0 ||
	    (m->http_rules = fd_of(obj, "pol_http_rules", err)) < 0)
		return -ENOENT;
	return 0;
}

void k8s_policy_maps_close(struct k8s_policy_maps *m)
{
	k8s_policy_free(&m->cur);
	k8s_id_table_free(&m->ids);
}

int k8s_policy_maps_compile(struct k8s_policy_maps *m, const struct k8s_store *s,
			    struct k8s_policy *out, struct sluice_error *err)
{
	return k8s_policy_build(s, &m->ids, out, err);
}

static void ipcache_key(const struct k8s_ipcache_entry *e, struct pol_ipcache_key *k)
{
	memset(k, 0, sizeof(*k));
	k->prefixlen = 32 + e->prefix.len;
	k->family = (uint8_t)e->prefix.ip.family;
	memcpy(k->addr, e->prefix.ip.addr, sizeof(k->addr));
}

static int cmp_ipcache(const void *a, const void *b)
{
	struct pol_ipcache_key x, y;

	ipcache_key(a, &x);
	ipcache_key(b, &y);
	return memcmp(&x, &y, sizeof(x));
}

/*
 * Both lists sorted by cmp: the entries only in next or changed are
 * written (write), those only in cur deleted (del).
 */
static int sync_sorted(const void *cur, size_t n_cur, const void *next, size_t n_next, size_t sz,
		       int (*cmp)(const void *, const void *), size_t value_off,
		       int (*write)(const struct k8s_policy_maps *, const void *),
		       int (*del)(const struct k8s_policy_maps *, const void *),
		       const struct k8s_policy_maps *m, size_t counts[3])
{
	size_t i = 0, j = 0;

	while (i < n_cur || j < n_next) {
		const char *c = i < n_cur ? (const char *)cur + i * sz : NULL;
		const char *n = j < n_next ? (const char *)next + j * sz : NULL;
		int d = !c ? 1 : !n ? -1 : cmp(c, n);

		if (d < 0) {
			if (del(m, c) && errno != ENOENT)
				return -errno;
			counts[2]++;
			i++;
		} else if (d > 0 || memcmp(c + value_off, n + value_off, sz - value_off)) {
			if (write(m, n))
				return -errno;
			counts[d == 0]++;
			i += d == 0;
			j++;
		} else {
			i++;
			j++;
		}
	}
	return 0;
}

static int write_ipcache(const struct k8s_policy_maps *m, const void *e)
{
	struct pol_ipcache_key k;

	ipcache_key(e, &k);
	return bpf_map_update_elem(m->ipcache, &k, &((const struct k8s_ipcache_entry *)e)->val,
				   BPF_ANY);
}

static int del_ipcache(const struct k8s_policy_maps *m, const void *e)
{
	struct pol_ipcache_key k;

	ipcache_key(e, &k);
	return bpf_map_delete_elem(m->ipcache, &k);
}

static int cmp_rule_entry(const void *a, const void *b)
{
	return k8s_rule_key_cmp(&((const struct k8s_rule_entry *)a)->key,
				&((const struct k8s_rule_entry *)b)->key);
}

static int write_rule(const struct k8s_policy_maps *m, const void *e)
{
	const struct k8s_rule_entry *r = e;

	return bpf_map_update_elem(m->rules, &r->key, &r->val, BPF_ANY);
}

static int del_rule(const struct k8s_policy_maps *m, const void *e)
{
	return bpf_map_delete_elem(m->rules, &((const struct k8s_rule_entry *)e)->key);
}

static bool same_http(const struct k8s_policy *a, const struct k8s_policy *b)
{
	if (a->n_http != b->n_http || a->n_http_ports != b->n_http_ports ||
	    (a->n_http_ports &&
	     memcmp(a->http_ports, b->http_ports, a->n_http_ports * sizeof(*a->http_ports))))
		return false;
	for (size_t i = 0; i < a->n_http; i++)
		if (memcmp(&a->http[i].key, &b->http[i].key, sizeof(a->http[i].key)) ||
		    memcmp(&a->http[i].rule, &b->http[i].rule, sizeof(a->http[i].rule)))
			return false;
	return true;
}

static int cmp_http_key(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct pol_http_key));
}

/* A port's entry in p->http_ports, NULL when it has no HTTP rules. */
static const struct k8s_http_port_entry *http_port(const struct k8s_policy *p,
						   const struct pol_http_key *key)
{
	return p->n_http_ports ? bsearch(key, p->http_ports, p->n_http_ports,
					 sizeof(*p->http_ports), cmp_http_key) : NULL;
}

/*
 * HTTP rules are few: a change rewrites them all, rules into the array
 * first, then each port's range, then the ports that have none left go.
 * A port being rewritten may see a mix of old and new rules for a moment.
 */
static int sync_http(const struct k8s_policy_maps *m, const struct k8s_policy *next, size_t *n)
{
	const struct k8s_policy *cur = &m->cur;

	if (same_http(cur, next))
		return 0;
	if (next->n_http > POL_HTTP_RULES_MAX)
		return -E2BIG;
	for (uint32_t i = 0; i < next->n_http; i++)
		if (bpf_map_update_elem(m->http_rules, &i, &next->http[i].rule, BPF_ANY))
			return -errno;
	for (size_t i = 0; i < next->n_http_ports; i++) {
		if (bpf_map_update_elem(m->http_ports, &next->http_ports[i].key,
					&next->http_ports[i].range, BPF_ANY))
			return -errno;
		++*n;
	}
	for (size_t i = 0; i < cur->n_http_ports; i++) {
		const struct pol_http_key *key = &cur->http_ports[i].key;

		if (http_port(next, key))
			continue;
		if (bpf_map_delete_elem(m->http_ports, key) && errno != ENOENT)
			return -errno;
		++*n;
	}
	return 0;
}

int k8s_policy_maps_sync(struct k8s_policy_maps *m, struct k8s_policy *next,
			 struct k8s_policy_changes *c, struct sluice_error *err)
{
	struct pol_config cfg = { 0 };
	int ret;

	memset(c, 0, sizeof(*c));
	if (next->n_ipcache)
		qsort(next->ipcache, next->n_ipcache, sizeof(*next->ipcache), cmp_ipcache);
	/* rules first: an address gets its new identity once that identity's rules are in */
	ret = sync_sorted(m->cur.rules, m->cur.n_rules, next->rules, next->n_rules,
			  sizeof(*next->rules), cmp_rule_entry,
			  offsetof(struct k8s_rule_entry, val), write_rule, del_rule, m, c->rules);
	if (!ret)
		ret = sync_sorted(m->cur.ipcache, m->cur.n_ipcache, next->ipcache,
				  next->n_ipcache, sizeof(*next->ipcache), cmp_ipcache,
				  offsetof(struct k8s_ipcache_entry, val), write_ipcache,
				  del_ipcache, m, c->ipcache);
	if (!ret)
		ret = sync_http(m, next, &c->http_ports);
	if (!ret && (c->rules[0] + c->rules[1] + c->rules[2] + c->ipcache[0] + c->ipcache[1] +
		     c->ipcache[2] + c->http_ports)) {
		cfg.revision = ++m->revision;
		if (bpf_map_update_elem(m->config, &(uint32_t){ 0 }, &cfg, BPF_ANY))
			ret = -errno;
	}
	k8s_policy_free(&m->cur);
	/* after a failure the maps hold part of next: what they hold is unknown, next is closest */
	m->cur = *next;
	memset(next, 0, sizeof(*next));
	if (ret)
		return sluice_fail(err, -ret, "writing the policy maps: %s (partly written)",
				   strerror(-ret));
	return 0;
}

static const char *identity_name(const struct k8s_policy *p, uint32_t id, char *buf, size_t size)
{
	const struct k8s_identity *i = k8s_policy_identity(p, id);

	if (id == POL_ID_ANY)
		snprintf(buf, size, "any peer");
	else if (id == POL_ID_WORLD)
		snprintf(buf, size, "%u (world)", id);
	else
		snprintf(buf, size, "%u (%s)", id, i ? i->key : "?");
	return buf;
}

/* "TCP 8080-8083", "UDP any port", "any protocol" */
static const char *rule_ports(const struct pol_key *k, char *buf, size_t size)
{
	uint32_t lo = ntohs(k->port), bits = k->prefixlen - POL_KEY_PREFIX_PORT;

	if (k->prefixlen <= POL_KEY_PREFIX_PROTO)
		snprintf(buf, size, "any protocol");
	else if (k->prefixlen <= POL_KEY_PREFIX_PORT)
		snprintf(buf, size, "%s any port", k8s_proto_name(k->proto));
	else if (bits == 16)
		snprintf(buf, size, "%s %" PRIu32, k8s_proto_name(k->proto), lo);
	else
		snprintf(buf, size, "%s %" PRIu32 "-%" PRIu32, k8s_proto_name(k->proto), lo,
			 lo + (1u << (16 - bits)) - 1);
	return buf;
}

static const char *ref_name(const struct k8s_rule_ref *r, char *buf, size_t size)
{
	/* namespace and name are each up to 253 characters: a long pair is cut short, marked */
	if (snprintf(buf, size, "NetworkPolicy %s/%s %s[%zu]", r->policy->ns, r->policy->name,
		     r->egress ? "egress" : "ingress", r->index) >= (int)size)
		buf[size - 2] = '~';
	return buf;
}

/* Header i of a port's range as the datapath compares it: "x-token: s3cret" or "x-probe". */
static const char *header_text(const struct pol_http_header *h, char *buf, size_t size)
{
	snprintf(buf, size, "%.*s%s%.*s", h->name_len, h->name, h->has_value ? ": " : "",
		 h->value_len, h->value);
	return buf;
}

/* " with headers a, b: c" for a rule that requires some, else "". */
static const char *rule_headers(const struct k8s_policy *p, const struct k8s_http_entry *e,
				char *buf, size_t size)
{
	const struct k8s_http_port_entry *port = http_port(p, &e->key);
	char one[POL_HTTP_HEADER_NAME_MAX + POL_HTTP_HEADER_VALUE_MAX + 4];
	size_t len = 0;

	*buf = 0;
	for (uint32_t i = 0; port && i < port->range.n_headers && len < size; i++)
		if (e->rule.headers & (1u << i))
			len += (size_t)snprintf(buf + len, size - len, "%s%s",
						len ? ", " : " with headers ",
						header_text(&port->range.headers[i], one,
							    sizeof(one)));
	return buf;
}

/* A rule as `policy` and `why` show it: "GET /health with headers x-probe  by ..." */
static const char *http_rule_text(const struct k8s_policy *p, const struct k8s_http_entry *e,
				  char *buf, size_t size)
{
	char headers[1024];

	snprintf(buf, size, "%s %s%s%s  by CiliumNetworkPolicy %s/%s",
		 e->rule.method_len ? e->rule.method : "(any method)", e->rule.path,
		 e->rule.prefix ? "*" : "", rule_headers(p, e, headers, sizeof(headers)),
		 e->policy->ns, e->policy->name);
	return buf;
}

static void read_counters(const struct k8s_policy_maps *m, uint64_t sums[POL_COUNTERS])
{
	uint64_t *per_cpu = calloc((size_t)m->ncpus, sizeof(*per_cpu));

	memset(sums, 0, POL_COUNTERS * sizeof(*sums));
	for (uint32_t c = 0; per_cpu && c < POL_COUNTERS; c++) {
		if (bpf_map_lookup_elem(m->counters, &c, per_cpu))
			continue;
		for (int i = 0; i < m->ncpus; i++)
			sums[c] += per_cpu[i];
	}
	free(per_cpu);
}

static void show_json(const struct k8s_policy_maps *m, const uint64_t *sums, FILE *out)
{
	const struct k8s_policy *p = &m->cur;
	struct json *j = json_new(out);
	char buf[2 * K8S_NAME_MAX + 64];

	json_object_begin(j, NULL);
	json_u64(j, "revision", m->revision);
	json_array_begin(j, "identities");
	for (size_t i = 0; i < p->n_ids; i++) {
		json_object_begin(j, NULL);
		json_u64(j, "id", p->ids[i].id);
		json_string(j, p->ids[i].is_cidr ? "cidr" : "labels", p->ids[i].key);
		json_object_end(j);
	}
	json_array_end(j);
	json_array_begin(j, "endpoints");
	for (size_t e = 0; e < p->n_eps; e++) {
		const struct k8s_endpoint_policy *ep = &p->eps[e];

		json_object_begin(j, NULL);
		json_string(j, "namespace", ep->pod->ns);
		json_string(j, "pod", ep->pod->name);
		json_u64(j, "endpoint", ep->endpoint);
		json_u64(j, "identity", ep->identity);
		json_bool(j, "ingress_enforced", ep->flags & POL_EP_INGRESS);
		json_bool(j, "egress_enforced", ep->flags & POL_EP_EGRESS);
		json_array_begin(j, "rules");
		for (size_t r = 0; r < p->n_rules; r++) {
			const struct pol_key *k = &p->rules[r].key;

			if (k->endpoint != ep->endpoint)
				continue;
			json_object_begin(j, NULL);
			json_string(j, "direction", k->direction == POL_EGRESS ? "egress" : "ingress");
			json_u64(j, "identity", k->identity);
			json_string(j, "ports", rule_ports(k, buf, sizeof(buf)));
			json_string(j, "by", ref_name(&p->refs[p->rules[r].val.rule], buf,
						      sizeof(buf)));
			json_object_end(j);
		}
		json_array_end(j);
		json_array_begin(j, "http");
		for (size_t h = 0; h < p->n_http; h++) {
			const struct k8s_http_entry *e = &p->http[h];
			const struct k8s_http_port_entry *port = http_port(p, &e->key);

			if (e->key.endpoint != ep->endpoint)
				continue;
			json_object_begin(j, NULL);
			json_u64(j, "port", ntohs(e->key.port));
			json_string(j, "method", e->rule.method);
			json_string(j, "path", e->rule.path);
			json_bool(j, "prefix", e->rule.prefix);
			json_array_begin(j, "headers");
			for (uint32_t i = 0; port && i < port->range.n_headers; i++)
				if (e->rule.headers & (1u << i))
					json_string(j, NULL, header_text(&port->range.headers[i],
									 buf, sizeof(buf)));
			json_array_end(j);
			snprintf(buf, sizeof(buf), "CiliumNetworkPolicy %s/%s", e->policy->ns,
				 e->policy->name);
			json_string(j, "by", buf);
			json_object_end(j);
		}
		json_array_end(j);
		json_object_end(j);
	}
	json_array_end(j);
	json_object_begin(j, "counters");
	for (size_t c = 0; c < POL_COUNTERS; c++)
		json_u64(j, counter_names[c], sums[c]);
	json_object_end(j);
	json_object_end(j);
	json_free(j);
}

static void show_text(const struct k8s_policy_maps *m, const uint64_t *sums, FILE *out)
{
	const struct k8s_policy *p = &m->cur;
	char a[256], b[256], c[256], rule[2048];

	fprintf(out, "identities (%zu):\n", p->n_ids);
	for (size_t i = 0; i < p->n_ids; i++)
		fprintf(out, "  %-9u %s %s\n", p->ids[i].id, p->ids[i].is_cidr ? "cidr  " : "labels",
			p->ids[i].key);
	fprintf(out, "endpoints (%zu), policy revision %u:\n", p->n_eps, m->revision);
	for (size_t e = 0; e < p->n_eps; e++) {
		const struct k8s_endpoint_policy *ep = &p->eps[e];

		fprintf(out, "  %s/%s  endpoint %u  identity %u  ingress %s  egress %s\n",
			ep->pod->ns, ep->pod->name, ep->endpoint, ep->identity,
			ep->flags & POL_EP_INGRESS ? "policed" : "open",
			ep->flags & POL_EP_EGRESS ? "policed" : "open");
		for (size_t r = 0; r < p->n_rules; r++) {
			const struct pol_key *k = &p->rules[r].key;

			if (k->endpoint != ep->endpoint)
				continue;
			fprintf(out, "    %s %s on %s  by %s\n",
				k->direction == POL_EGRESS ? "egress to" : "ingress from",
				identity_name(p, k->identity, a, sizeof(a)),
				rule_ports(k, b, sizeof(b)),
				ref_name(&p->refs[p->rules[r].val.rule], c, sizeof(c)));
		}
		for (size_t h = 0; h < p->n_http; h++) {
			const struct k8s_http_entry *e = &p->http[h];

			if (e->key.endpoint != ep->endpoint)
				continue;
			fprintf(out, "    http on TCP %u: %s\n", ntohs(e->key.port),
				http_rule_text(p, e, rule, sizeof(rule)));
		}
	}
	fprintf(out, "datapath:");
	for (size_t i = 0; i < POL_COUNTERS; i++)
		fprintf(out, " %s %" PRIu64, counter_names[i], sums[i]);
	fprintf(out, "\n");
}

void k8s_policy_maps_show(const struct k8s_policy_maps *m, bool json, FILE *out)
{
	uint64_t sums[POL_COUNTERS];

	read_counters(m, sums);
	(json ? show_json : show_text)(m, sums, out);
}

static void why_side(const struct k8s_policy *p, const struct k8s_side *s, const char *way,
		     const struct k8s_ip *ip, FILE *out)
{
	char addr[64], who[2 * K8S_NAME_MAX + 8], a[256], b[256], c[256];
	int dir = !strcmp(way, "egress") ? POL_EGRESS : POL_INGRESS;

	k8s_ip_str(ip, addr, sizeof(addr));
	if (!s->ep) {
		fprintf(out, "%s at %s: allowed: no pod of this node has this address\n", way, addr);
		return;
	}
	snprintf(who, sizeof(who), "%s/%s", s->ep->pod->ns, s->ep->pod->name);
	if (!s->enforced) {
		fprintf(out, "%s at %s (%s): allowed: no NetworkPolicy selects the pod for %s\n",
			way, who, addr, way);
		return;
	}
	if (s->allowed) {
		fprintf(out, "%s at %s (%s): allowed by %s (remote identity %s, cidr identity %s)\n",
			way, who, addr, ref_name(s->rule, a, sizeof(a)),
			identity_name(p, s->remote_identity, b, sizeof(b)),
			identity_name(p, s->remote_cidr_identity, c, sizeof(c)));
		return;
	}
	fprintf(out, "%s at %s (%s): denied by default: selected by", way, who, addr);
	for (size_t i = 0; i < s->ep->n_by[dir]; i++)
		fprintf(out, "%s NetworkPolicy %s/%s", i ? "," : "", s->ep->by[dir][i]->ns,
			s->ep->by[dir][i]->name);
	fprintf(out, ", and no rule allows identity %s",
		identity_name(p, s->remote_identity, a, sizeof(a)));
	if (s->remote_cidr_identity != s->remote_identity)
		fprintf(out, " or %s", identity_name(p, s->remote_cidr_identity, b, sizeof(b)));
	fprintf(out, "\n");
}

/* The HTTP rules every request on a connection to ep's TCP port must then pass. */
static void why_http(const struct k8s_policy *p, const struct k8s_endpoint_policy *ep,
		     uint16_t port, FILE *out)
{
	struct pol_http_key key = { .endpoint = ep->endpoint, .port = htons(port) };
	const struct k8s_http_port_entry *e = http_port(p, &key);
	char rule[2048];

	if (!e)
		return;
	fprintf(out, "then each request on the connection must match an HTTP rule of %s/%s on "
		"TCP %u, or it is reset:\n", ep->pod->ns, ep->pod->name, port);
	for (uint32_t i = 0; i < e->range.count; i++)
		fprintf(out, "  %s\n", http_rule_text(p, &p->http[e->range.first + i], rule,
						       sizeof(rule)));
}

int k8s_policy_maps_why(const struct k8s_policy_maps *m, const char *args, FILE *out,
			struct sluice_error *err)
{
	char src_s[64], dst_s[64], proto_s[8];
	struct k8s_ip src, dst;
	struct k8s_side eg, in;
	unsigned port;
	uint8_t proto;

	if (sscanf(args, "%63[^,],%63[^,],%u,%7s", src_s, dst_s, &port, proto_s) != 4 ||
	    k8s_ip_parse(src_s, &src) || k8s_ip_parse(dst_s, &dst) || port > 65535 ||
	    src.family != dst.family)
		return sluice_fail(err, EINVAL, "why: expected SRC,DST,PORT,PROTO, two addresses of "
				   "one family, got \"%s\"", args);
	if (!strcmp(proto_s, "tcp"))
		proto = IPPROTO_TCP;
	else if (!strcmp(proto_s, "udp"))
		proto = IPPROTO_UDP;
	else if (!strcmp(proto_s, "sctp"))
		proto = IPPROTO_SCTP;
	else if (!strcmp(proto_s, "icmp"))
		proto = src.family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	else
		return sluice_fail(err, EINVAL, "why: protocol tcp, udp, sctp or icmp, got \"%s\"",
				   proto_s);
	/* ICMP has no ports: only rules without ports allow it (the datapath's echo) */
	if (!port != (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6))
		return sluice_fail(err, EINVAL, "why: PORT is 1-65535 for tcp, udp and sctp, 0 for "
				   "icmp, got %u", port);
	if (port)
		fprintf(out, "%s -> %s %s/%u (a new connection; replies of allowed ones always "
			"pass)\n", src_s, dst_s, k8s_proto_name(proto), port);
	else
		fprintf(out, "%s -> %s %s echo request (only rules without ports allow ICMP; "
			"replies and errors about allowed flows always pass)\n", src_s, dst_s,
			k8s_proto_name(proto));
	/* the datapath sees this only through a service, as a hairpin flow */
	if (k8s_ip_equal(&src, &dst)) {
		fprintf(out, "allowed: a pod reaching itself (through a service: hairpin) is never "
			"policed\nverdict: allowed\n");
		return 0;
	}
	k8s_policy_check(&m->cur, &src, &dst, proto, (uint16_t)port, &eg, &in);
	why_side(&m->cur, &eg, "egress", &src, out);
	why_side(&m->cur, &in, "ingress", &dst, out);
	if (eg.allowed && in.allowed && proto == IPPROTO_TCP && in.ep)
		why_http(&m->cur, in.ep, (uint16_t)port, out);
	fprintf(out, "verdict: %s\n", eg.allowed && in.allowed ? "allowed" : "denied");
	return 0;
}
