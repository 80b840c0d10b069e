/* SPDX-License-Identifier: MIT */
/*
 * Compiling NetworkPolicy (see policy.h).  Sizes are small (pods, policies
 * and identities of one node), so selection is a plain loop over
 * identities; the entries are sorted once at the end.
 */
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "errmsg.h"
#include "policy.h"

#define NS_NAME_LABEL "kubernetes.io/metadata.name"

/* A growing array of elements of size sz. */
static int grow(void *vp, size_t *cap, size_t n, size_t sz)
{
	void **v = vp;
	void *more;

	if (n < *cap)
		return 0;
	*cap = *cap ? 2 * *cap : 16;
	more = realloc(*v, *cap * sz);
	if (!more)
		return -ENOMEM;
	*v = more;
	return 0;
}

void k8s_id_table_free(struct k8s_id_table *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->keys[i]);
	free(t->keys);
	free(t->ids);
	memset(t, 0, sizeof(*t));
}

/* The number of key, handed out from *next the first time it is asked for. */
static int id_of(struct k8s_id_table *t, const char *key, uint32_t *next, uint32_t *id)
{
	size_t lo = 0, hi = t->n;
	char **keys;
	uint32_t *ids;

	/* keys sorted: 10,000 CIDRs must not cost 50 million comparisons */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(t->keys[mid], key);

		if (!c) {
			*id = t->ids[mid];
			return 0;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	keys = realloc(t->keys, (t->n + 1) * sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	t->keys = keys;
	ids = realloc(t->ids, (t->n + 1) * sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	t->ids = ids;
	memmove(keys + lo + 1, keys + lo, (t->n - lo) * sizeof(*keys));
	memmove(ids + lo + 1, ids + lo, (t->n - lo) * sizeof(*ids));
	t->n++;
	if (!(keys[lo] = strdup(key))) {
		/* close the gap: the table stays as it was */
		memmove(keys + lo, keys + lo + 1, (--t->n - lo) * sizeof(*keys));
		memmove(ids + lo, ids + lo + 1, (t->n - lo) * sizeof(*ids));
		return -ENOMEM;
	}
	ids[lo] = *id = (*next)++;
	return 0;
}

struct cidr_pos {
	struct k8s_cidr cidr;
	size_t pos;
};

struct builder {
	const struct k8s_store *s;
	struct k8s_id_table *table;
	struct k8s_policy *p;
	size_t cap_ids, cap_eps, cap_ipcache, cap_rules, cap_refs, cap_http;
	/* the CIDR identities (position in p->ids), by address then prefix length */
	struct cidr_pos *cidrs;
	size_t n_cidrs;
	bool *selected;               /* by position in p->ids: a rule's peers select it */
};

static int cmp_label(const void *a, const void *b)
{
	const struct k8s_label *x = *(const struct k8s_label *const *)a;
	const struct k8s_label *y = *(const struct k8s_label *const *)b;

	return strcmp(x->key, y->key);
}

/* ",k=v,k=v" sorted by key, appended to out; -ENOMEM (a wrong key would be a wrong identity). */
static int append_labels(FILE *out, const char *prefix, const struct k8s_labels *l)
{
	const struct k8s_label **v = calloc(l->n + 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < l->n; i++)
		v[i] = &l->v[i];
	qsort(v, l->n, sizeof(*v), cmp_label);
	for (size_t i = 0; i < l->n; i++)
		fprintf(out, ",%s%s=%s", prefix, v[i]->key, v[i]->value);
	free(v);
	return 0;
}

/* The canonical label key of a pod: its namespace, the namespace's labels, its own. */
static char *labels_key(const struct k8s_object *pod, const struct k8s_object *ns)
{
	char *text = NULL;
	size_t len = 0;
	bool failed;
	FILE *out = open_memstream(&text, &len);

	if (!out)
		return NULL;
	fprintf(out, "ns=%s", pod->ns);
	failed = (ns && append_labels(out, "ns:", &ns->labels)) ||
		 append_labels(out, "", &pod->labels);
	/* closed either way: the text is only whole after fclose */
	if (fclose(out) || failed) {
		free(text);
		return NULL;
	}
	return text;
}

static const char *cidr_str(const struct k8s_cidr *c, char *buf, size_t size)
{
	char ip[64];

	snprintf(buf, size, "%s/%u", k8s_ip_str(&c->ip, ip, sizeof(ip)), c->len);
	return buf;
}

/* Duplicates (a CIDR named twice, labels two pods share) go once sorted by id. */
static int add_identity(struct builder *b, struct k8s_identity *id)
{
	struct k8s_policy *p = b->p;

	if (grow(&p->ids, &b->cap_ids, p->n_ids, sizeof(*p->ids)))
		return -ENOMEM;
	id->key = strdup(id->key);
	if (!id->key)
		return -ENOMEM;
	p->ids[p->n_ids++] = *id;
	return 0;
}

static const struct k8s_object *namespace_of(const struct k8s_store *s, const char *ns)
{
	return k8s_store_find(s, K8S_NAMESPACE, "", ns);
}

/* Pods: their identities and endpoints. */
static int pod_identities(struct builder *b)
{
	for (size_t i = 0; i < b->s->n; i++) {
		const struct k8s_object *o = b->s->v[i];
		struct k8s_identity id = { 0 };
		struct k8s_endpoint_policy ep = { .pod = o };
		char name[2 * K8S_NAME_MAX + 8];
		char *key;
		int ret;

		if (o->kind != K8S_POD || !o->u.pod.n_ips)
			continue;
		id.pod = o;
		id.ns = namespace_of(b->s, o->ns);
		if (!(key = labels_key(o, id.ns)))
			return -ENOMEM;
		id.key = key;
		ret = id_of(b->table, key, &b->table->next_labels, &id.id);
		if (!ret)
			ret = add_identity(b, &id);
		free(key);
		snprintf(name, sizeof(name), "pod:%s/%s", o->ns, o->name);
		if (ret || (ret = id_of(b->table, name, &b->table->next_endpoint, &ep.endpoint)))
			return ret;
		ep.identity = id.id;
		if (grow(&b->p->eps, &b->cap_eps, b->p->n_eps, sizeof(*b->p->eps)))
			return -ENOMEM;
		b->p->eps[b->p->n_eps++] = ep;
	}
	return 0;
}

static int add_cidr(struct builder *b, const struct k8s_cidr *c)
{
	struct k8s_identity id = { .is_cidr = true, .cidr = *c };
	char key[80];
	int ret;

	id.key = cidr_str(c, key, sizeof(key));
	if ((ret = id_of(b->table, key, &b->table->next_cidr, &id.id)))
		return ret;
	return add_identity(b, &id);
}

/* Every prefix an ipBlock names (cidr and excepts) is an identity of its own. */
static int cidr_identities(struct builder *b)
{
	for (size_t i = 0; i < b->s->n; i++) {
		const struct k8s_object *o = b->s->v[i];

		if (o->kind != K8S_NETWORK_POLICY)
			continue;
		for (int dir = 0; dir < 2; dir++) {
			const struct k8s_np_rule *rules = dir ? o->u.np.egress : o->u.np.ingress;
			size_t n = dir ? o->u.np.n_egress : o->u.np.n_ingress;

			for (size_t r = 0; r < n; r++) {
				for (size_t j = 0; j < rules[r].n_peers; j++) {
					const struct k8s_np_peer *peer = &rules[r].peers[j];
					int ret;

					if (!peer->has_block)
						continue;
					if ((ret = add_cidr(b, &peer->block)))
						return ret;
					for (size_t e = 0; e < peer->n_except; e++)
						if ((ret = add_cidr(b, &peer->except[e])))
							return ret;
				}
			}
		}
	}
	return 0;
}

static bool ns_match(const struct k8s_selector *sel, const struct k8s_identity *id)
{
	struct k8s_label name = { .key = (char *)NS_NAME_LABEL, .value = (char *)id->pod->ns };
	struct k8s_labels extra = { .v = &name, .n = 1 };
	static const struct k8s_labels none;

	return k8s_selector_match(sel, id->ns ? &id->ns->labels : &none, &extra);
}

static bool cidr_selected(const struct k8s_np_peer *peer, const struct k8s_cidr *c)
{
	if (!k8s_cidr_contains(&peer->block, c))
		return false;
	for (size_t e = 0; e < peer->n_except; e++)
		if (k8s_cidr_contains(&peer->except[e], c))
			return false;
	return true;
}

/* Whether a selector peer of a policy in namespace ns selects labels identity id. */
static bool peer_selects(const struct k8s_np_peer *peer, const char *ns,
			 const struct k8s_identity *id)
{
	if (peer->has_namespaces ? !ns_match(&peer->namespaces, id) : strcmp(id->pod->ns, ns))
		return false;
	return !peer->has_pods || k8s_selector_match(&peer->pods, &id->pod->labels, NULL);
}

size_t k8s_port_blocks(uint16_t lo, uint16_t hi, uint16_t start[32], uint8_t bits[32])
{
	uint32_t at = lo;
	size_t n = 0;

	while (at <= hi) {
		uint32_t size = 1;
		uint8_t fixed = 16;

		/* the largest aligned block from at that stays within hi */
		while (fixed > 0 && !(at & size) && at + 2 * size - 1 <= hi) {
			size *= 2;
			fixed--;
		}
		start[n] = (uint16_t)at;
		bits[n++] = fixed;
		at += size;
	}
	return n;
}

static int add_entry(struct builder *b, uint32_t ep, uint32_t identity, int dir, uint8_t proto,
		     uint16_t port, uint32_t prefixlen, uint32_t rule)
{
	struct k8s_rule_entry e = { 0 };

	e.key.prefixlen = prefixlen;
	e.key.endpoint = ep;
	e.key.identity = identity;
	e.key.direction = (uint8_t)dir;
	e.key.proto = prefixlen > POL_KEY_PREFIX_PROTO ? proto : 0;
	e.key.port = prefixlen > POL_KEY_PREFIX_PORT ? htons(port) : 0;
	e.val.rule = rule;
	if (grow(&b->p->rules, &b->cap_rules, b->p->n_rules, sizeof(*b->p->rules)))
		return -ENOMEM;
	b->p->rules[b->p->n_rules++] = e;
	return 0;
}

/* The numbers a named port has on pod (0 when it has no such port). */
static uint16_t named_port(const struct k8s_object *pod, const struct k8s_np_port *np)
{
	for (size_t i = 0; i < pod->u.pod.n_ports; i++)
		if (pod->u.pod.ports[i].proto == np->proto &&
		    !strcmp(pod->u.pod.ports[i].name, np->name))
			return pod->u.pod.ports[i].port;
	return 0;
}

/* The pods a named port of an egress rule towards identity id may name. */
static bool port_target(const struct k8s_identity *id, uint32_t pod_identity)
{
	return !id || id->is_cidr || pod_identity == id->id;
}

/* Entries for one peer identity (NULL: every peer) and a rule's ports. */
static int add_ports(struct builder *b, const struct k8s_endpoint_policy *ep, int dir,
		     const struct k8s_np_rule *rule, const struct k8s_identity *id, uint32_t ref)
{
	uint32_t identity = id ? id->id : POL_ID_ANY;
	uint16_t start[32];
	uint8_t bits[32];
	int ret;

	if (!rule->n_ports)
		return add_entry(b, ep->endpoint, identity, dir, 0, 0, POL_KEY_PREFIX_PROTO, ref);
	for (size_t i = 0; i < rule->n_ports; i++) {
		const struct k8s_np_port *np = &rule->ports[i];

		if (!*np->name && !np->port) {
			if ((ret = add_entry(b, ep->endpoint, identity, dir, np->proto, 0,
					     POL_KEY_PREFIX_PORT, ref)))
				return ret;
			continue;
		}
		if (!*np->name) {
			size_t n = k8s_port_blocks(np->port, np->end_port, start, bits);

			for (size_t k = 0; k < n; k++)
				if ((ret = add_entry(b, ep->endpoint, identity, dir, np->proto,
						     start[k], POL_KEY_PREFIX_PORT + bits[k], ref)))
					return ret;
			continue;
		}
		/* a named port: the destination pod's number for it */
		for (size_t k = 0; k < b->p->n_eps; k++) {
			const struct k8s_endpoint_policy *dst = &b->p->eps[k];
			uint16_t port;

			if (dir == POL_INGRESS ? dst != ep
					       : !port_target(id, dst->identity))
				continue;
			port = named_port(dst->pod, np);
			if (port && (ret = add_entry(b, ep->endpoint, identity, dir, np->proto, port,
						     POL_KEY_PREFIX_FULL, ref)))
				return ret;
		}
	}
	return 0;
}

static int cmp_identity(const void *a, const void *b)
{
	const struct k8s_identity *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

static bool prefix_holds(const struct k8s_cidr *c, const struct k8s_ip *ip)
{
	struct k8s_cidr host = { .ip = *ip, .len = ip->family == AF_INET ? 32 : 128 };

	return k8s_cidr_contains(c, &host);
}

/* By id, each once: equals are the same labels (or CIDR), any of them will do. */
static void sort_identities(struct k8s_policy *p)
{
	size_t n = 0;

	qsort(p->ids, p->n_ids, sizeof(*p->ids), cmp_identity);
	for (size_t i = 0; i < p->n_ids; i++) {
		if (n && p->ids[n - 1].id == p->ids[i].id) {
			free((char *)p->ids[i].key);
			continue;
		}
		p->ids[n++] = p->ids[i];
	}
	p->n_ids = n;
}

static int cmp_cidr_pos(const void *a, const void *b)
{
	const struct k8s_cidr *x = &((const struct cidr_pos *)a)->cidr;
	const struct k8s_cidr *y = &((const struct cidr_pos *)b)->cidr;

	if (x->ip.family != y->ip.family)
		return x->ip.family - y->ip.family;
	return memcmp(x->ip.addr, y->ip.addr, sizeof(x->ip.addr)) ?: x->len - y->len;
}

/* The CIDR identities in address order: a block's prefixes are then one run. */
static int index_cidrs(struct builder *b)
{
	const struct k8s_policy *p = b->p;

	b->cidrs = calloc(p->n_ids + 1, sizeof(*b->cidrs));
	b->selected = calloc(p->n_ids + 1, sizeof(*b->selected));
	if (!b->cidrs || !b->selected)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_ids; i++)
		if (p->ids[i].is_cidr)
			b->cidrs[b->n_cidrs++] = (struct cidr_pos){ .cidr = p->ids[i].cidr, .pos = i };
	qsort(b->cidrs, b->n_cidrs, sizeof(*b->cidrs), cmp_cidr_pos);
	return 0;
}

/* b->selected: the identities some peer of rule selects. */
static void select_peers(struct builder *b, const struct k8s_np_rule *rule, const char *ns)
{
	const struct k8s_policy *p = b->p;

	memset(b->selected, 0, p->n_ids * sizeof(*b->selected));
	for (size_t j = 0; j < rule->n_peers; j++) {
		const struct k8s_np_peer *peer = &rule->peers[j];
		size_t lo = 0, hi = b->n_cidrs;

		if (!peer->has_block) {
			for (size_t i = 0; i < p->n_ids; i++)
				b->selected[i] |= !p->ids[i].is_cidr &&
						  peer_selects(peer, ns, &p->ids[i]);
			continue;
		}
		/* the first prefix at or after the block's address, then those inside it */
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			const struct k8s_cidr *c = &b->cidrs[mid].cidr;
			int d = c->ip.family != peer->block.ip.family ?
				c->ip.family - peer->block.ip.family :
				memcmp(c->ip.addr, peer->block.ip.addr, sizeof(c->ip.addr));

			if (d < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (size_t k = lo; k < b->n_cidrs; k++) {
			if (!prefix_holds(&peer->block, &b->cidrs[k].cidr.ip))
				break;
			b->selected[b->cidrs[k].pos] |= cidr_selected(peer, &b->cidrs[k].cidr);
		}
	}
}

static int add_ref(struct builder *b, const struct k8s_object *policy, int dir, size_t index,
		   uint32_t *ref)
{
	struct k8s_policy *p = b->p;

	if (grow(&p->refs, &b->cap_refs, p->n_refs, sizeof(*p->refs)))
		return -ENOMEM;
	p->refs[p->n_refs] = (struct k8s_rule_ref){ .policy = policy, .egress = dir == POL_EGRESS,
						     .index = index };
	*ref = (uint32_t)p->n_refs++;
	return 0;
}

static int note_selecting(struct k8s_endpoint_policy *ep, int dir, const struct k8s_object *policy)
{
	const struct k8s_object **v = realloc(ep->by[dir], (ep->n_by[dir] + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	v[ep->n_by[dir]++] = policy;
	ep->by[dir] = v;
	ep->flags |= dir == POL_INGRESS ? POL_EP_INGRESS : POL_EP_EGRESS;
	return 0;
}

/* One policy's rules, one direction, for the endpoints it selects. */
static int compile_rules(struct builder *b, const struct k8s_object *o, int dir)
{
	const struct k8s_netpol *np = &o->u.np;
	const struct k8s_np_rule *rules = dir == POL_EGRESS ? np->egress : np->ingress;
	size_t n = dir == POL_EGRESS ? np->n_egress : np->n_ingress;
	int ret;

	if (dir == POL_EGRESS ? !np->egress_type : !np->ingress_type)
		return 0;
	for (size_t e = 0; e < b->p->n_eps; e++) {
		struct k8s_endpoint_policy *ep = &b->p->eps[e];

		if (strcmp(ep->pod->ns, o->ns) ||
		    !k8s_selector_match(&np->pod_selector, &ep->pod->labels, NULL))
			continue;
		if ((ret = note_selecting(ep, dir, o)))
			return ret;
		for (size_t r = 0; r < n; r++) {
			uint32_t ref;

			if ((ret = add_ref(b, o, dir, r, &ref)))
				return ret;
			if (!rules[r].n_peers) {
				if ((ret = add_ports(b, ep, dir, &rules[r], NULL, ref)))
					return ret;
				continue;
			}
			select_peers(b, &rules[r], o->ns);
			for (size_t i = 0; i < b->p->n_ids; i++)
				if (b->selected[i] &&
				    (ret = add_ports(b, ep, dir, &rules[r], &b->p->ids[i], ref)))
					return ret;
		}
	}
	return 0;
}

/* A CiliumNetworkPolicy's HTTP rules, for the pods it selects. */
static int compile_http(struct builder *b, const struct k8s_object *o)
{
	const struct k8s_http_policy *hp = &o->u.http;

	for (size_t e = 0; e < b->p->n_eps; e++) {
		struct k8s_endpoint_policy *ep = &b->p->eps[e];

		if (strcmp(ep->pod->ns, o->ns) ||
		    !k8s_selector_match(&hp->endpoints, &ep->pod->labels, NULL))
			continue;
		ep->flags |= POL_EP_HTTP;
		for (size_t i = 0; i < hp->n_ports; i++) {
			for (size_t j = 0; j < hp->ports[i].n_rules; j++) {
				const struct k8s_http_rule *r = &hp->ports[i].rules[j];
				struct k8s_http_entry h = { .policy = o };

				h.key.endpoint = ep->endpoint;
				h.key.port = htons(hp->ports[i].port);
				memcpy(h.rule.method, r->method, sizeof(h.rule.method));
				memcpy(h.rule.path, r->path, sizeof(h.rule.path));
				h.rule.method_len = (uint8_t)strnlen(r->method, sizeof(r->method));
				h.rule.path_len = (uint8_t)strnlen(r->path, sizeof(r->path));
				h.rule.prefix = r->prefix;
				h.src = r;
				if (grow(&b->p->http, &b->cap_http, b->p->n_http, sizeof(*b->p->http)))
					return -ENOMEM;
				b->p->http[b->p->n_http++] = h;
			}
		}
	}
	return 0;
}

static int cmp_http(const void *a, const void *b)
{
	const struct k8s_http_entry *x = a, *y = b;

	return memcmp(&x->key, &y->key, sizeof(x->key));
}

/* Sorted by port, each port's rules in a row: no port may have more than the datapath reads. */
static const struct k8s_http_entry *http_overflow(const struct k8s_policy *p)
{
	for (size_t i = 0, run = 0; i < p->n_http; i++) {
		run = i && !cmp_http(&p->http[i - 1], &p->http[i]) ? run + 1 : 1;
		if (run > POL_HTTP_RULES_PER_PORT)
			return &p->http[i];
	}
	return NULL;
}

/*
 * The header a rule's entry asks for, as the datapath compares it: the name
 * in lowercase (names are case-insensitive), the value as written.
 */
static struct pol_http_header http_header_of(const struct k8s_http_header *h)
{
	struct pol_http_header d = { .has_value = h->has_value };

	d.name_len = (uint8_t)strlen(h->name);
	d.value_len = (uint8_t)strlen(h->value);
	for (size_t i = 0; i < d.name_len; i++)
		d.name[i] = (char)tolower((unsigned char)h->name[i]);
	memcpy(d.value, h->value, d.value_len);
	return d;
}

_Static_assert(K8S_HTTP_HEADER_NAME_MAX == POL_HTTP_HEADER_NAME_MAX &&
	       K8S_HTTP_HEADER_VALUE_MAX == POL_HTTP_HEADER_VALUE_MAX,
	       "a header the manifest takes fits the datapath's");

/*
 * Each port's range of rules, and the distinct headers its rules require,
 * one bit of pol_http_rule.headers each.  NULL, or the entry whose header
 * is one too many for its port.
 */
static const struct k8s_http_entry *http_ports(struct k8s_policy *p)
{
	for (size_t i = 0; i < p->n_http; i++) {
		struct k8s_http_entry *e = &p->http[i];
		struct pol_http_range *range;

		if (!i || cmp_http(&p->http[i - 1], e))
			p->http_ports[p->n_http_ports++] = (struct k8s_http_port_entry){
				.key = e->key, .range = { .first = (uint32_t)i },
			};
		range = &p->http_ports[p->n_http_ports - 1].range;
		range->count++;
		for (size_t h = 0; h < e->src->n_headers; h++) {
			struct pol_http_header d = http_header_of(&e->src->headers[h]);
			uint32_t k = 0;

			while (k < range->n_headers && memcmp(&range->headers[k], &d, sizeof(d)))
				k++;
			if (k == POL_HTTP_HEADERS_PER_PORT)
				return e;
			if (k == range->n_headers)
				range->headers[range->n_headers++] = d;
			e->rule.headers |= 1u << k;
		}
	}
	return NULL;
}

int k8s_rule_key_cmp(const struct pol_key *a, const struct pol_key *b)
{
	return memcmp(&a->endpoint, &b->endpoint,
		      sizeof(*a) - offsetof(struct pol_key, endpoint)) ?:
	       (a->prefixlen > b->prefixlen) - (a->prefixlen < b->prefixlen);
}

static int cmp_rule(const void *a, const void *b)
{
	const struct k8s_rule_entry *x = a, *y = b;

	return k8s_rule_key_cmp(&x->key, &y->key) ?:
	       (x->val.rule > y->val.rule) - (x->val.rule < y->val.rule);
}

/* The most specific CIDR identity holding ip (POL_ID_WORLD when none). */
static uint32_t cidr_identity_of(const struct k8s_policy *p, const struct k8s_ip *ip)
{
	int best = -1;
	uint32_t id = POL_ID_WORLD;

	for (size_t i = 0; i < p->n_ids; i++) {
		if (p->ids[i].is_cidr && prefix_holds(&p->ids[i].cidr, ip) &&
		    p->ids[i].cidr.len > best) {
			best = p->ids[i].cidr.len;
			id = p->ids[i].id;
		}
	}
	return id;
}

/* Whether a CIDR is exactly a pod's address: the pod's entry holds it then (as its cidr identity). */
static bool pod_address(const struct k8s_policy *p, const struct k8s_cidr *c)
{
	for (size_t e = 0; e < p->n_eps; e++) {
		const struct k8s_pod *pod = &p->eps[e].pod->u.pod;

		for (size_t k = 0; k < pod->n_ips; k++)
			if (c->len == (pod->ips[k].family == AF_INET ? 32 : 128) &&
			    k8s_ip_equal(&c->ip, &pod->ips[k]))
				return true;
	}
	return false;
}

static int build_ipcache(struct builder *b)
{
	struct k8s_policy *p = b->p;

	for (size_t i = 0; i < p->n_ids; i++) {
		const struct k8s_identity *id = &p->ids[i];

		if (!id->is_cidr || pod_address(p, &id->cidr))
			continue;
		if (grow(&p->ipcache, &b->cap_ipcache, p->n_ipcache, sizeof(*p->ipcache)))
			return -ENOMEM;
		p->ipcache[p->n_ipcache++] = (struct k8s_ipcache_entry){
			.prefix = id->cidr,
			.val = { .identity = id->id, .cidr_identity = id->id },
		};
	}
	for (size_t e = 0; e < p->n_eps; e++) {
		const struct k8s_endpoint_policy *ep = &p->eps[e];

		for (size_t k = 0; k < ep->pod->u.pod.n_ips; k++) {
			const struct k8s_ip *ip = &ep->pod->u.pod.ips[k];

			if (grow(&p->ipcache, &b->cap_ipcache, p->n_ipcache, sizeof(*p->ipcache)))
				return -ENOMEM;
			p->ipcache[p->n_ipcache++] = (struct k8s_ipcache_entry){
				.prefix = { .ip = *ip, .len = ip->family == AF_INET ? 32 : 128 },
				.val = { .identity = ep->identity,
					 .cidr_identity = cidr_identity_of(p, ip),
					 .endpoint = ep->endpoint, .flags = ep->flags },
			};
		}
	}
	return 0;
}

int k8s_policy_build(const struct k8s_store *s, struct k8s_id_table *table, struct k8s_policy *out,
		     struct sluice_error *err)
{
	struct builder b = { .s = s, .table = table, .p = out };
	const struct k8s_http_entry *h;
	bool too_many_rules;
	size_t n = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	if (!table->next_labels) {
		table->next_labels = POL_ID_FIRST_LABELS;
		table->next_cidr = POL_ID_FIRST_CIDR;
		table->next_endpoint = 1;
	}
	ret = pod_identities(&b);
	if (!ret)
		ret = cidr_identities(&b);
	if (!ret && out->n_ids)
		sort_identities(out);
	if (!ret)
		ret = index_cidrs(&b);
	for (size_t i = 0; i < s->n && !ret; i++) {
		if (s->v[i]->kind == K8S_HTTP_POLICY)
			ret = compile_http(&b, s->v[i]);
		if (s->v[i]->kind != K8S_NETWORK_POLICY || ret)
			continue;
		ret = compile_rules(&b, s->v[i], POL_INGRESS);
		if (!ret)
			ret = compile_rules(&b, s->v[i], POL_EGRESS);
	}
	if (!ret)
		ret = build_ipcache(&b);
	free(b.cidrs);
	free(b.selected);
	if (ret) {
		k8s_policy_free(out);
		return sluice_fail(err, -ret, "compiling the network policies: %s", strerror(-ret));
	}
	/* stable: a port's rules keep the policies' order */
	for (size_t i = 1; i < out->n_http; i++)
		for (size_t j = i; j > 0 && cmp_http(&out->http[j - 1], &out->http[j]) > 0; j--) {
			struct k8s_http_entry t = out->http[j];

			out->http[j] = out->http[j - 1];
			out->http[j - 1] = t;
		}
	if (out->n_http && !(out->http_ports = calloc(out->n_http, sizeof(*out->http_ports)))) {
		k8s_policy_free(out);
		return sluice_fail(err, ENOMEM, "compiling the network policies: %s",
				   strerror(ENOMEM));
	}
	h = http_overflow(out);
	too_many_rules = h != NULL;
	if (h || (h = http_ports(out))) {
		char what[2 * K8S_NAME_MAX + 64], why[96];

		snprintf(what, sizeof(what), "%s:%d: CiliumNetworkPolicy %s/%s", h->policy->file,
			 h->policy->line, h->policy->ns, h->policy->name);
		if (too_many_rules)
			snprintf(why, sizeof(why), "more than %u HTTP rules on one port of a pod",
				 POL_HTTP_RULES_PER_PORT);
		else
			snprintf(why, sizeof(why), "with the other rules of the same port of a pod, "
				 "more than %u distinct headers required", POL_HTTP_HEADERS_PER_PORT);
		k8s_policy_free(out);
		return sluice_fail(err, EINVAL, "%s: %s", what, why);
	}
	/* one entry per key: the first rule that makes it, for `why` */
	if (out->n_rules)
		qsort(out->rules, out->n_rules, sizeof(*out->rules), cmp_rule);
	for (size_t i = 0; i < out->n_rules; i++)
		if (!n || k8s_rule_key_cmp(&out->rules[n - 1].key, &out->rules[i].key))
			out->rules[n++] = out->rules[i];
	out->n_rules = n;
	return 0;
}

void k8s_policy_free(struct k8s_policy *p)
{
	for (size_t i = 0; i < p->n_ids; i++)
		free((char *)p->ids[i].key);
	for (size_t i = 0; i < p->n_eps; i++) {
		free(p->eps[i].by[0]);
		free(p->eps[i].by[1]);
	}
	free(p->ids);
	free(p->eps);
	free(p->ipcache);
	free(p->rules);
	free(p->refs);
	free(p->http);
	free(p->http_ports);
	memset(p, 0, sizeof(*p));
}

const struct k8s_identity *k8s_policy_identity(const struct k8s_policy *p, uint32_t id)
{
	struct k8s_identity key = { .id = id };

	return p->n_ids ? bsearch(&key, p->ids, p->n_ids, sizeof(*p->ids), cmp_identity) : NULL;
}

/* The ipcache's longest match for ip, NULL when none. */
static const struct k8s_ipcache_entry *ipcache_lookup(const struct k8s_policy *p,
						      const struct k8s_ip *ip)
{
	const struct k8s_ipcache_entry *best = NULL;

	for (size_t i = 0; i < p->n_ipcache; i++)
		if (prefix_holds(&p->ipcache[i].prefix, ip) &&
		    (!best || p->ipcache[i].prefix.len > best->prefix.len))
			best = &p->ipcache[i];
	return best;
}

/* pol_rules' lookup: the longest entry whose fixed bits match. */
static const struct k8s_rule_entry *rule_lookup(const struct k8s_policy *p, uint32_t ep,
						uint32_t identity, int dir, uint8_t proto,
						uint16_t port)
{
	const struct k8s_rule_entry *best = NULL;

	for (size_t i = 0; i < p->n_rules; i++) {
		const struct pol_key *k = &p->rules[i].key;
		uint32_t port_bits = k->prefixlen > POL_KEY_PREFIX_PORT ?
				     k->prefixlen - POL_KEY_PREFIX_PORT : 0;
		uint16_t mask = port_bits ? (uint16_t)(0xffffu << (16 - port_bits)) : 0;

		if (k->endpoint != ep || k->identity != identity || k->direction != dir ||
		    (k->prefixlen > POL_KEY_PREFIX_PROTO && k->proto != proto) ||
		    (port & mask) != (ntohs(k->port) & mask))
			continue;
		if (!best || k->prefixlen > best->key.prefixlen)
			best = &p->rules[i];
	}
	return best;
}

static const struct k8s_endpoint_policy *endpoint_of(const struct k8s_policy *p,
						     const struct k8s_ipcache_entry *e)
{
	for (size_t i = 0; e && e->val.endpoint && i < p->n_eps; i++)
		if (p->eps[i].endpoint == e->val.endpoint)
			return &p->eps[i];
	return NULL;
}

static void check_side(const struct k8s_policy *p, const struct k8s_ip *local,
		       const struct k8s_ip *remote, int dir, uint8_t proto, uint16_t port,
		       struct k8s_side *side)
{
	const struct k8s_ipcache_entry *l = ipcache_lookup(p, local), *r = ipcache_lookup(p, remote);
	const struct k8s_rule_entry *hit = NULL;

	memset(side, 0, sizeof(*side));
	side->ep = endpoint_of(p, l);
	side->remote_identity = r ? r->val.identity : POL_ID_WORLD;
	side->remote_cidr_identity = r ? r->val.cidr_identity : POL_ID_WORLD;
	side->enforced = side->ep && side->ep->n_by[dir];
	side->allowed = true;
	if (!side->enforced)
		return;
	hit = rule_lookup(p, side->ep->endpoint, side->remote_identity, dir, proto, port);
	if (!hit)
		hit = rule_lookup(p, side->ep->endpoint, side->remote_cidr_identity, dir, proto, port);
	if (!hit)
		hit = rule_lookup(p, side->ep->endpoint, POL_ID_ANY, dir, proto, port);
	side->allowed = hit != NULL;
	side->rule = hit ? &p->refs[hit->val.rule] : NULL;
}

void k8s_policy_check(const struct k8s_policy *p, const struct k8s_ip *src,
		      const struct k8s_ip *dst, uint8_t proto, uint16_t port,
		      struct k8s_side *egress, struct k8s_side *ingress)
{
	check_side(p, src, dst, POL_EGRESS, proto, port, egress);
	check_side(p, dst, src, POL_INGRESS, proto, port, ingress);
}
