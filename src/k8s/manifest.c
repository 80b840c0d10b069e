/* SPDX-License-Identifier: MIT */
/*
 * Kubernetes manifests through libyaml's document API: each document is
 * loaded as a node tree (with line numbers), then read field by field.
 * Scalars are typed the way Kubernetes' JSON decoding types them: a port
 * written as "80" (quoted) is a string and so an error, as it is for the
 * API server.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <yaml.h>

#include "errmsg.h"
#include "maglev.h"
#include "manifest.h"

/* Kubernetes' defaults (sessionAffinityConfig, the node port range). */
#define AFFINITY_TIMEOUT_DEFAULT 10800
#define AFFINITY_TIMEOUT_MAX 86400
#define NODE_PORT_MIN 30000
#define NODE_PORT_MAX 32767
#define SERVICE_NAME_LABEL "kubernetes.io/service-name"
#define MAGLEV_SIZE_ANNOTATION "sluice.io/maglev-table-size"

static const char *const kind_names[] = {
	[K8S_NAMESPACE] = "Namespace",
	[K8S_POD] = "Pod",
	[K8S_SERVICE] = "Service",
	[K8S_ENDPOINT_SLICE] = "EndpointSlice",
	[K8S_ENDPOINTS] = "Endpoints",
	[K8S_NETWORK_POLICY] = "NetworkPolicy",
	[K8S_HTTP_POLICY] = "CiliumNetworkPolicy",
};

/* The apiVersion each kind is read at. */
static const char *const kind_api[] = {
	[K8S_NAMESPACE] = "v1",
	[K8S_POD] = "v1",
	[K8S_SERVICE] = "v1",
	[K8S_ENDPOINT_SLICE] = "discovery.k8s.io/v1",
	[K8S_ENDPOINTS] = "v1",
	[K8S_NETWORK_POLICY] = "networking.k8s.io/v1",
	[K8S_HTTP_POLICY] = "cilium.io/v2",
};

#define NKINDS (sizeof(kind_names) / sizeof(kind_names[0]))

const char *k8s_kind_name(enum k8s_kind kind)
{
	return kind_names[kind];
}

/* Where we are: the file, the object, so that every error can name them. */
struct reader {
	yaml_document_t *doc;
	const char *file;
	char what[64 + 2 * K8S_NAME_MAX + 2]; /* kind, space, namespace/name: "Service default/web" */
	struct sluice_error *err;
};

/* EINVAL with "WHERE: message", where already says file, line, object and field. */
static int fail_where(struct sluice_error *err, const char *where, const char *fmt, va_list ap)
{
	char msg[SLUICE_ERRMSG_MAX];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	return sluice_fail(err, EINVAL, "%s: %s", where, msg);
}

static int fail_at(struct reader *r, const yaml_node_t *node, const char *path,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail_at(struct reader *r, const yaml_node_t *node, const char *path,
		   const char *fmt, ...)
{
	char where[1024];
	va_list ap;
	int ret;

	snprintf(where, sizeof(where), "%s:%zu%s%s%s%s", r->file,
		 node ? node->start_mark.line + 1 : 0, *r->what ? ": " : "", r->what,
		 *path ? ": " : "", path);
	va_start(ap, fmt);
	ret = fail_where(r->err, where, fmt, ap);
	va_end(ap);
	return ret;
}

static const char *scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static const char *node_type(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a list";
	default:
		return "a scalar";
	}
}

/* The value under key in a mapping, NULL when absent or explicitly null. */
static yaml_node_t *map_get(struct reader *r, const yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(r->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(r->doc, p->value);

		if (k && k->type == YAML_SCALAR_NODE && !strcmp(scalar(k), key)) {
			if (v && v->type == YAML_SCALAR_NODE &&
			    v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
			    (!strcmp(scalar(v), "null") || !strcmp(scalar(v), "~") || !*scalar(v)))
				return NULL;
			return v;
		}
	}
	return NULL;
}

/* A field's path for messages: one nested deeper than any manifest's is cut short, and marked so. */
static void join(char *out, size_t size, const char *parent, const char *key)
{
	if (snprintf(out, size, "%s%s%s", parent, *parent ? "." : "", key) >= (int)size)
		out[size - 2] = '~';
}

/* A child of the given type; NULL (and 0) when absent and optional. */
static int get_node(struct reader *r, const yaml_node_t *map, const char *parent,
		    const char *key, yaml_node_type_t type, bool required, yaml_node_t **out)
{
	char path[128];
	yaml_node_t *v = map_get(r, map, key);

	join(path, sizeof(path), parent, key);
	*out = NULL;
	if (!v) {
		if (required)
			return fail_at(r, map, path, "required field is missing");
		return 0;
	}
	if (v->type != type)
		return fail_at(r, v, path, "expected %s, got %s",
			       type == YAML_MAPPING_NODE ? "a mapping" :
			       type == YAML_SEQUENCE_NODE ? "a list" : "a scalar",
			       node_type(v));
	*out = v;
	return 0;
}

static bool is_plain(const yaml_node_t *v)
{
	return v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

static bool looks_numeric(const char *s)
{
	char *end;

	strtod(s, &end);
	return *s && !*end;
}

/*
 * A string field; "" when absent and optional.  A plain scalar that reads as
 * a number or a boolean is not a string (the API server rejects it too).
 */
static int get_str(struct reader *r, const yaml_node_t *map, const char *parent,
		   const char *key, bool required, char *buf, size_t size)
{
	char path[128];
	yaml_node_t *v;
	int ret = get_node(r, map, parent, key, YAML_SCALAR_NODE, required, &v);

	*buf = 0;
	if (ret || !v)
		return ret;
	join(path, sizeof(path), parent, key);
	if (is_plain(v) && (looks_numeric(scalar(v)) || !strcmp(scalar(v), "true") ||
			    !strcmp(scalar(v), "false")))
		return fail_at(r, v, path, "expected a string, got %s", scalar(v));
	if (strlen(scalar(v)) >= size)
		return fail_at(r, v, path, "longer than %zu characters", size - 1);
	strcpy(buf, scalar(v));
	return 0;
}

/* An integer in [min, max]; *out untouched when absent and optional. */
static int get_int(struct reader *r, const yaml_node_t *map, const char *parent,
		   const char *key, bool required, long min, long max, long *out)
{
	char path[128], *end;
	yaml_node_t *v;
	long n;
	int ret = get_node(r, map, parent, key, YAML_SCALAR_NODE, required, &v);

	if (ret || !v)
		return ret;
	join(path, sizeof(path), parent, key);
	errno = 0;
	n = strtol(scalar(v), &end, 10);
	if (!is_plain(v) || !*scalar(v) || *end || errno || n < min || n > max)
		return fail_at(r, v, path, "expected an integer %ld-%ld, got %s\"%s\"", min, max,
			       is_plain(v) ? "" : "the string ", scalar(v));
	*out = n;
	return 0;
}

static int get_bool(struct reader *r, const yaml_node_t *map, const char *parent,
		    const char *key, bool *out)
{
	char path[128];
	yaml_node_t *v;
	int ret = get_node(r, map, parent, key, YAML_SCALAR_NODE, false, &v);

	if (ret || !v)
		return ret;
	join(path, sizeof(path), parent, key);
	if (is_plain(v) && !strcmp(scalar(v), "true"))
		*out = true;
	else if (is_plain(v) && !strcmp(scalar(v), "false"))
		*out = false;
	else
		return fail_at(r, v, path, "expected true or false, got \"%s\"", scalar(v));
	return 0;
}

/* One of a fixed set of words (choices: NULL-terminated); *out its index. */
static int get_enum(struct reader *r, const yaml_node_t *map, const char *parent,
		    const char *key, const char *const *choices, int *out)
{
	char buf[64], path[128], list[160] = "";
	int ret = get_str(r, map, parent, key, false, buf, sizeof(buf));

	if (ret || !*buf)
		return ret;
	for (int i = 0; choices[i]; i++) {
		if (!strcmp(buf, choices[i])) {
			*out = i;
			return 0;
		}
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
			 choices[i]);
	}
	join(path, sizeof(path), parent, key);
	return fail_at(r, map_get(r, map, key), path, "unsupported value \"%s\" (supported: %s)",
		       buf, list);
}

/* Lowercase letters, digits, '-' (and '.' in subdomains), alphanumeric at both ends. */
static bool dns_name(const char *s, size_t max, bool dots)
{
	size_t len = strlen(s);

	if (!len || len > max)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (!alnum && c != '-' && !(dots && c == '.'))
			return false;
		if (!alnum && (i == 0 || i == len - 1))
			return false;
	}
	return true;
}

int k8s_ip_parse(const char *text, struct k8s_ip *ip)
{
	memset(ip, 0, sizeof(*ip));
	if (inet_pton(AF_INET, text, ip->addr) == 1) {
		ip->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, text, ip->addr) == 1) {
		ip->family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

const char *k8s_ip_str(const struct k8s_ip *ip, char *buf, size_t size)
{
	if (!inet_ntop(ip->family, ip->addr, buf, (socklen_t)size))
		snprintf(buf, size, "?");
	return buf;
}

bool k8s_ip_equal(const struct k8s_ip *a, const struct k8s_ip *b)
{
	return a->family == b->family && !memcmp(a->addr, b->addr, sizeof(a->addr));
}

static int get_ip(struct reader *r, const yaml_node_t *map, const char *parent, const char *key,
		  bool required, struct k8s_ip *ip)
{
	char buf[64], path[128];
	int ret = get_str(r, map, parent, key, required, buf, sizeof(buf));

	if (ret || !*buf)
		return ret;
	join(path, sizeof(path), parent, key);
	if (k8s_ip_parse(buf, ip))
		return fail_at(r, map_get(r, map, key), path, "invalid IP address \"%s\"", buf);
	return 0;
}

/* A string, or a scalar yaml_node_t *seq's element i as a string. */
static int seq_str(struct reader *r, yaml_node_t *seq, size_t i, const char *path,
		   yaml_node_t **out)
{
	yaml_node_t *v = yaml_document_get_node(r->doc, seq->data.sequence.items.start[i]);

	*out = NULL;
	if (!v || v->type != YAML_SCALAR_NODE)
		return fail_at(r, v ? v : seq, path, "expected a string, got %s",
			       v ? node_type(v) : "nothing");
	*out = v;
	return 0;
}

static size_t seq_len(const yaml_node_t *seq)
{
	return seq ? (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start) : 0;
}

static yaml_node_t *seq_at(struct reader *r, const yaml_node_t *seq, size_t i)
{
	return yaml_document_get_node(r->doc, seq->data.sequence.items.start[i]);
}

/* Element i of a list of mappings. */
static int seq_map(struct reader *r, const yaml_node_t *seq, size_t i, const char *path,
		   yaml_node_t **out)
{
	yaml_node_t *v = seq_at(r, seq, i);

	*out = NULL;
	if (!v || v->type != YAML_MAPPING_NODE)
		return fail_at(r, v ? v : seq, path, "expected a mapping, got %s",
			       v ? node_type(v) : "nothing");
	*out = v;
	return 0;
}

static void labels_free(struct k8s_labels *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].value);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* A string-to-string mapping (labels, annotations, selector). */
static int get_labels(struct reader *r, const yaml_node_t *map, const char *parent,
		      const char *key, struct k8s_labels *out)
{
	char path[128];
	yaml_node_t *m;
	size_t n;
	int ret = get_node(r, map, parent, key, YAML_MAPPING_NODE, false, &m);

	if (ret || !m)
		return ret;
	join(path, sizeof(path), parent, key);
	n = (size_t)(m->data.mapping.pairs.top - m->data.mapping.pairs.start);
	out->v = calloc(n ? n : 1, sizeof(*out->v));
	if (!out->v)
		return sluice_fail(r->err, ENOMEM, "%s: out of memory", r->file);
	for (size_t i = 0; i < n; i++) {
		yaml_node_pair_t *p = &m->data.mapping.pairs.start[i];
		yaml_node_t *k = yaml_document_get_node(r->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(r->doc, p->value);

		if (!k || !v || k->type != YAML_SCALAR_NODE || v->type != YAML_SCALAR_NODE)
			return fail_at(r, k, path, "expected string keys and values");
		out->v[i].key = strdup(scalar(k));
		out->v[i].value = strdup(scalar(v));
		out->n++;
		if (!out->v[i].key || !out->v[i].value)
			return sluice_fail(r->err, ENOMEM, "%s: out of memory", r->file);
	}
	return 0;
}

const char *k8s_label(const struct k8s_labels *labels, const char *key)
{
	for (size_t i = 0; i < labels->n; i++)
		if (!strcmp(labels->v[i].key, key))
			return labels->v[i].value;
	return NULL;
}

static int get_proto(struct reader *r, const yaml_node_t *map, const char *parent,
		     uint8_t *proto)
{
	static const char *const protos[] = { "TCP", "UDP", NULL };
	int i = 0;
	int ret = get_enum(r, map, parent, "protocol", protos, &i);

	*proto = i ? IPPROTO_UDP : IPPROTO_TCP;
	return ret;
}

const char *k8s_proto_name(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "TCP";
	case IPPROTO_UDP:
		return "UDP";
	case IPPROTO_SCTP:
		return "SCTP";
	case IPPROTO_ICMP:
		return "ICMP";
	case IPPROTO_ICMPV6:
		return "ICMPv6";
	}
	return "?";
}

/*
 * A list of ports: {name, protocol, <number_key>}, number required; names
 * unique; the same number and protocol twice is a duplicate.
 */
static int get_ports(struct reader *r, const yaml_node_t *map, const char *parent,
		     const char *key, const char *number_key, struct k8s_port **out, size_t *n)
{
	char path[128], item[160];
	yaml_node_t *seq, *m;
	int ret = get_node(r, map, parent, key, YAML_SEQUENCE_NODE, false, &seq);

	if (ret || !seq)
		return ret;
	join(path, sizeof(path), parent, key);
	*out = calloc(seq_len(seq) + 1, sizeof(**out));
	if (!*out)
		return sluice_fail(r->err, ENOMEM, "%s: out of memory", r->file);
	for (size_t i = 0; i < seq_len(seq); i++) {
		struct k8s_port *p = &(*out)[i];
		long number = 0;

		snprintf(item, sizeof(item), "%s[%zu]", path, i);
		if ((ret = seq_map(r, seq, i, item, &m)) ||
		    (ret = get_str(r, m, item, "name", false, p->name, sizeof(p->name))) ||
		    (ret = get_proto(r, m, item, &p->proto)) ||
		    (ret = get_int(r, m, item, number_key, true, 1, 65535, &number)))
			goto fail;
		p->port = (uint16_t)number;
		++*n;
		for (size_t j = 0; j < i; j++) {
			if (*p->name && !strcmp(p->name, (*out)[j].name))
				ret = fail_at(r, m, item, "duplicate port name \"%s\" (also %s[%zu])",
					      p->name, path, j);
			else if (p->port == (*out)[j].port && p->proto == (*out)[j].proto)
				ret = fail_at(r, m, item, "duplicate port %u/%s (also %s[%zu])",
					      p->port, k8s_proto_name(p->proto), path, j);
			if (ret)
				goto fail;
		}
	}
	return 0;
fail:
	/* the caller gets no half list */
	free(*out);
	*out = NULL;
	*n = 0;
	return ret;
}

static int parse_pod(struct reader *r, const yaml_node_t *doc, struct k8s_object *o)
{
	struct k8s_pod *pod = &o->u.pod;
	yaml_node_t *spec, *status, *containers, *ips, *c, *v;
	char path[64];
	int ret;

	if ((ret = get_node(r, doc, "", "spec", YAML_MAPPING_NODE, true, &spec)) ||
	    (ret = get_str(r, spec, "spec", "nodeName", false, pod->node, sizeof(pod->node))) ||
	    (ret = get_node(r, spec, "spec", "containers", YAML_SEQUENCE_NODE, false,
			    &containers)))
		return ret;
	for (size_t i = 0; i < seq_len(containers); i++) {
		struct k8s_port *ports = NULL, *all;
		size_t n = 0;

		snprintf(path, sizeof(path), "spec.containers[%zu]", i);
		if ((ret = seq_map(r, containers, i, path, &c)) ||
		    (ret = get_ports(r, c, path, "ports", "containerPort", &ports, &n))) {
			free(ports);
			return ret;
		}
		all = realloc(pod->ports, (pod->n_ports + n + 1) * sizeof(*all));
		if (!all) {
			free(ports);
			return sluice_fail(r->err, ENOMEM, "%s: out of memory", r->file);
		}
		if (n)
			memcpy(all + pod->n_ports, ports, n * sizeof(*ports));
		pod->ports = all;
		pod->n_ports += n;
		free(ports);
	}
	/* A pod not yet scheduled has no address: it is no backend then. */
	if ((ret = get_node(r, doc, "", "status", YAML_MAPPING_NODE, false, &status)) ||
	    (ret = get_ip(r, status, "status", "podIP", false, &pod->ips[0])) ||
	    (ret = get_node(r, status, "status", "podIPs", YAML_SEQUENCE_NODE, false, &ips)))
		return ret;
	if (!pod->ips[0].family) {
		if (seq_len(ips))
			return fail_at(r, ips, "status.podIPs", "given without status.podIP");
		return 0;
	}
	pod->n_ips = 1;
	for (size_t i = 0; i < seq_len(ips); i++) {
		struct k8s_ip ip;

		snprintf(path, sizeof(path), "status.podIPs[%zu]", i);
		if ((ret = seq_map(r, ips, i, path, &v)) ||
		    (ret = get_ip(r, v, path, "ip", true, &ip)))
			return ret;
		if (k8s_ip_equal(&ip, &pod->ips[0]))
			continue;
		if (ip.family == pod->ips[0].family || pod->n_ips == K8S_MAX_IPS)
			return fail_at(r, v, path, "at most one IPv4 and one IPv6 address, and podIP first");
		pod->ips[pod->n_ips++] = ip;
	}
	return 0;
}

static int parse_service(struct reader *r, const yaml_node_t *doc, struct k8s_object *o)
{
	static const char *const types[] = { "ClusterIP", "NodePort", "LoadBalancer", NULL };
	static const char *const affinities[] = { "None", "ClientIP", NULL };
	static const char *const policies[] = { "Cluster", "Local", NULL };
	struct k8s_service *svc = &o->u.svc;
	yaml_node_t *spec, *ips, *ports, *m, *v, *tp, *annotations;
	char path[64], buf[64];
	int type = 0, affinity = 0, policy = 0, ret;
	long timeout = AFFINITY_TIMEOUT_DEFAULT;
	struct k8s_port *plain;
	size_t n = 0;

	if ((ret = get_node(r, doc, "", "spec", YAML_MAPPING_NODE, true, &spec)) ||
	    (ret = get_enum(r, spec, "spec", "type", types, &type)) ||
	    (ret = get_enum(r, spec, "spec", "sessionAffinity", affinities, &affinity)) ||
	    (ret = get_int(r, map_get(r, map_get(r, spec, "sessionAffinityConfig"), "clientIP"),
			   "spec.sessionAffinityConfig.clientIP", "timeoutSeconds", false, 1,
			   AFFINITY_TIMEOUT_MAX, &timeout)) ||
	    (ret = get_enum(r, spec, "spec", "externalTrafficPolicy", policies, &policy)))
		return ret;
	svc->node_port = type != 0;
	svc->affinity = affinity == 1;
	svc->affinity_timeout = (uint32_t)timeout;
	svc->local = policy == 1;
	if (svc->local && !svc->node_port)
		return fail_at(r, map_get(r, spec, "externalTrafficPolicy"),
			       "spec.externalTrafficPolicy",
			       "Local needs type NodePort or LoadBalancer");

	/* clusterIP, and clusterIPs for dual stack (starting with clusterIP) */
	if ((ret = get_str(r, spec, "spec", "clusterIP", true, buf, sizeof(buf))))
		return ret;
	if (!strcmp(buf, "None")) {
		svc->headless = true;
	} else {
		if ((ret = get_ip(r, spec, "spec", "clusterIP", true, &svc->ips[0])))
			return ret;
		svc->n_ips = 1;
	}
	if ((ret = get_node(r, spec, "spec", "clusterIPs", YAML_SEQUENCE_NODE, false, &ips)))
		return ret;
	for (size_t i = 0; i < seq_len(ips) && !svc->headless; i++) {
		struct k8s_ip ip;

		snprintf(path, sizeof(path), "spec.clusterIPs[%zu]", i);
		if ((ret = seq_str(r, ips, i, path, &v)))
			return ret;
		if (k8s_ip_parse(scalar(v), &ip))
			return fail_at(r, v, path, "invalid IP address \"%s\"", scalar(v));
		if (i == 0 && !k8s_ip_equal(&ip, &svc->ips[0]))
			return fail_at(r, v, path, "must start with spec.clusterIP");
		if (i == 0)
			continue;
		if (ip.family == svc->ips[0].family || svc->n_ips == K8S_MAX_IPS)
			return fail_at(r, v, path, "at most one IPv4 and one IPv6 address");
		svc->ips[svc->n_ips++] = ip;
	}

	if ((ret = get_node(r, spec, "spec", "ports", YAML_SEQUENCE_NODE, true, &ports)))
		return ret;
	if (!seq_len(ports))
		return fail_at(r, ports, "spec.ports", "a Service needs at least one port");
	if ((ret = get_ports(r, spec, "spec", "ports", "port", &plain, &n)))
		return ret;
	svc->ports = calloc(n, sizeof(*svc->ports));
	if (!svc->ports) {
		free(plain);
		return sluice_fail(r->err, ENOMEM, "%s: out of memory", r->file);
	}
	for (size_t i = 0; i < n; i++) {
		struct k8s_service_port *sp = &svc->ports[i];
		long node_port = 0;

		sp->port = plain[i];
		svc->n_ports++;
		snprintf(path, sizeof(path), "spec.ports[%zu]", i);
		m = seq_at(r, ports, i);
		if (n > 1 && !*sp->port.name) {
			ret = fail_at(r, m, path, "name: required when a Service has several ports");
			break;
		}
		/* targetPort: a number, or the name of a container port; the port by default */
		sp->target_port = sp->port.port;
		tp = map_get(r, m, "targetPort");
		if (tp && tp->type == YAML_SCALAR_NODE && is_plain(tp) && looks_numeric(scalar(tp))) {
			long t = 0;

			if ((ret = get_int(r, m, path, "targetPort", true, 1, 65535, &t)))
				break;
			sp->target_port = (uint16_t)t;
		} else if (tp) {
			if ((ret = get_str(r, m, path, "targetPort", true, sp->target_name,
					   sizeof(sp->target_name))))
				break;
			sp->target_port = 0;
		}
		if ((ret = get_int(r, m, path, "nodePort", svc->node_port, NODE_PORT_MIN,
				   NODE_PORT_MAX, &node_port)))
			break;
		if (node_port && !svc->node_port) {
			ret = fail_at(r, m, path, "nodePort: only for type NodePort or LoadBalancer");
			break;
		}
		sp->node_port = (uint16_t)node_port;
	}
	free(plain);
	if (ret)
		return ret;

	if ((ret = get_labels(r, spec, "spec", "selector", &svc->selector)))
		return ret;
	svc->has_selector = map_get(r, spec, "selector") != NULL;
	if ((ret = get_node(r, map_get(r, doc, "metadata"), "metadata", "annotations",
			    YAML_MAPPING_NODE, false, &annotations)))
		return ret;
	v = map_get(r, annotations, MAGLEV_SIZE_ANNOTATION);
	if (v) {
		long size = 0;

		if ((ret = get_str(r, annotations, "metadata.annotations", MAGLEV_SIZE_ANNOTATION,
				   true, buf, sizeof(buf))))
			return ret;
		size = strtol(buf, NULL, 10);
		if (size < 7 || size > 65537 || !k8s_is_prime((uint32_t)size))
			return fail_at(r, v, "metadata.annotations." MAGLEV_SIZE_ANNOTATION,
				       "expected a prime 7-65537, got \"%s\"", buf);
		svc->maglev_size = (uint32_t)size;
	}
	return 0;
}

static int add_endpoint(struct reader *r, const yaml_node_t *m, const char *path, int family,
			struct k8s_subset *s, bool ready)
{
	struct k8s_endpoint *e = &s->endpoints[s->n_endpoints];
	char ref_path[160], kind[64] = "";
	yaml_node_t *ref;
	int ret;

	e->ready = ready;
	snprintf(ref_path, sizeof(ref_path), "%s.targetRef", path);
	if ((ret = get_str(r, m, path, "nodeName", false, e->node, sizeof(e->node))) ||
	    (ret = get_node(r, m, path, "targetRef", YAML_MAPPING_NODE, false, &ref)) ||
	    (ret = get_str(r, ref, ref_path, "kind", !!ref, kind, sizeof(kind))))
		return ret;
	if (!strcmp(kind, "Pod") &&
	    (ret = get_str(r, ref, ref_path, "name", true, e->pod, sizeof(e->pod))))
		return ret;
	if (family && e->ip.family != family)
		return fail_at(r, m, path, "address is not of the slice's addressType");
	s->n_endpoints++;
	return 0;
}

static int parse_slice(struct reader *r, const yaml_node_t *doc, struct k8s_object *o)
{
	static const char *const types[] = { "IPv4", "IPv6", "FQDN", NULL };
	struct k8s_endpoints *eps = &o->u.eps;
	const char *service = k8s_label(&o->labels, SERVICE_NAME_LABEL);
	yaml_node_t *list, *m, *addrs, *a;
	struct k8s_subset *s;
	char path[64], apath[96];
	int type = -1, ret;

	if (!service)
		return fail_at(r, map_get(r, doc, "metadata"), "metadata.labels",
			       "the label " SERVICE_NAME_LABEL " naming the Service is missing");
	snprintf(eps->service, sizeof(eps->service), "%s", service);
	if ((ret = get_enum(r, doc, "", "addressType", types, &type)))
		return ret;
	if (type < 0)
		return fail_at(r, doc, "addressType", "required field is missing");
	if (type == 2)
		return fail_at(r, map_get(r, doc, "addressType"), "addressType",
			       "FQDN endpoints cannot be load-balanced in the datapath");
	eps->subsets = s = calloc(1, sizeof(*s));
	if (!s)
		return sluice_fail(r->err, ENOMEM, "%s: out of memory", r->file);
	eps->n_subsets = 1;
	if ((ret = get_ports(r, doc, "", "ports", "port", &s->ports, &s->n_ports)) ||
	    (ret = get_node(r, doc, "", "endpoints", YAML_SEQUENCE_NODE, false, &list)))
		return ret;
	s->endpoints = calloc(seq_len(list) + 1, sizeof(*s->endpoints));
	if (!s->endpoints)
		return sluice_fail(r->err, ENOMEM, "%s: out of memory", r->file);
	for (size_t i = 0; i < seq_len(list); i++) {
		bool ready = true, terminating = false;

		snprintf(path, sizeof(path), "endpoints[%zu]", i);
		snprintf(apath, sizeof(apath), "%s.addresses", path);
		if ((ret = seq_map(r, list, i, path, &m)) ||
		    (ret = get_node(r, m, path, "addresses", YAML_SEQUENCE_NODE, true, &addrs)) ||
		    (ret = get_bool(r, map_get(r, m, "conditions"), "conditions", "ready", &ready)) ||
		    (ret = get_bool(r, map_get(r, m, "conditions"), "conditions", "terminating",
				    &terminating)))
			return ret;
		/* Kubernetes gives each endpoint exactly one address. */
		if (seq_len(addrs) != 1)
			return fail_at(r, addrs, apath, "expected exactly one address");
		snprintf(apath, sizeof(apath), "%s.addresses[0]", path);
		if ((ret = seq_str(r, addrs, 0, apath, &a)))
			return ret;
		if (k8s_ip_parse(scalar(a), &s->endpoints[i].ip))
			return fail_at(r, a, apath, "invalid IP address \"%s\"", scalar(a));
		if ((ret = add_endpoint(r, m, path, type ? AF_INET6 : AF_INET, s,
					ready && !terminating)))
			return ret;
	}
	return 0;
}

static int parse_endpoints(struct reader *r, const yaml_node_t *doc, struct k8s_object *o)
{
	static const char *const lists[] = { "addresses", "notReadyAddresses" };
	struct k8s_endpoints *eps = &o->u.eps;
	yaml_node_t *subsets, *m, *addrs[2], *a;
	char path[64], apath[96];
	int ret;

	snprintf(eps->service, sizeof(eps->service), "%s", o->name);
	if ((ret = get_node(r, doc, "", "subsets", YAML_SEQUENCE_NODE, false, &subsets)))
		return ret;
	eps->subsets = calloc(seq_len(subsets) + 1, sizeof(*eps->subsets));
	if (!eps->subsets)
		return sluice_fail(r->err, ENOMEM, "%s: out of memory", r->file);
	for (size_t i = 0; i < seq_len(subsets); i++) {
		struct k8s_subset *s = &eps->subsets[i];

		eps->n_subsets++;
		snprintf(path, sizeof(path), "subsets[%zu]", i);
		if ((ret = seq_map(r, subsets, i, path, &m)) ||
		    (ret = get_ports(r, m, path, "ports", "port", &s->ports, &s->n_ports)) ||
		    (ret = get_node(r, m, path, lists[0], YAML_SEQUENCE_NODE, false, &addrs[0])) ||
		    (ret = get_node(r, m, path, lists[1], YAML_SEQUENCE_NODE, false, &addrs[1])))
			return ret;
		s->endpoints = calloc(seq_len(addrs[0]) + seq_len(addrs[1]) + 1,
				      sizeof(*s->endpoints));
		if (!s->endpoints)
			return sluice_fail(r->err, ENOMEM, "%s: out of memory", r->file);
		for (size_t l = 0; l < 2; l++) {
			for (size_t j = 0; j < seq_len(addrs[l]); j++) {
				snprintf(apath, sizeof(apath), "%s.%s[%zu]", path, lists[l], j);
				if ((ret = seq_map(r, addrs[l], j, apath, &a)) ||
				    (ret = get_ip(r, a, apath, "ip", true,
						  &s->endpoints[s->n_endpoints].ip)) ||
				    (ret = add_endpoint(r, a, apath, 0, s, l == 0)))
					return ret;
			}
		}
	}
	return 0;
}

/*
 * NetworkPolicy (networking.k8s.io/v1), checked as the API server's
 * validation does: a peer is selectors or an ipBlock, never both nor
 * neither; an except lies strictly inside its cidr; endPort needs a
 * numeric port at or below it; In/NotIn take values, Exists/DoesNotExist
 * none.  policyTypes defaults to Ingress, plus Egress when there are
 * egress rules.
 */
static void selector_free(struct k8s_selector *sel)
{
	labels_free(&sel->match);
	for (size_t i = 0; i < sel->n_exprs; i++) {
		for (size_t j = 0; j < sel->exprs[i].n_values; j++)
			free(sel->exprs[i].values[j]);
		free(sel->exprs[i].values);
		free(sel->exprs[i].key);
	}
	free(sel->exprs);
	memset(sel, 0, sizeof(*sel));
}

static void rules_free(struct k8s_np_rule *rules, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < rules[i].n_peers; j++) {
			selector_free(&rules[i].peers[j].pods);
			selector_free(&rules[i].peers[j].namespaces);
			free(rules[i].peers[j].except);
		}
		free(rules[i].peers);
		free(rules[i].ports);
	}
	free(rules);
}

static void netpol_free(struct k8s_netpol *np)
{
	selector_free(&np->pod_selector);
	rules_free(np->ingress, np->n_ingress);
	rules_free(np->egress, np->n_egress);
}

static int oom(struct reader *r)
{
	return sluice_fail(r->err, ENOMEM, "%s: out of memory", r->file);
}

static int get_expr(struct reader *r, yaml_node_t *m, const char *path, struct k8s_expr *e)
{
	static const char *const ops[] = { "In", "NotIn", "Exists", "DoesNotExist", NULL };
	char key[K8S_NAME_MAX], item[384];
	yaml_node_t *values, *v;
	int op = -1, ret;

	if ((ret = get_str(r, m, path, "key", true, key, sizeof(key))) ||
	    (ret = get_enum(r, m, path, "operator", ops, &op)) ||
	    (ret = get_node(r, m, path, "values", YAML_SEQUENCE_NODE, false, &values)))
		return ret;
	if (op < 0)
		return fail_at(r, m, path, "operator: required field is missing");
	e->op = (enum k8s_selector_op)op;
	if ((e->op == K8S_OP_IN || e->op == K8S_OP_NOT_IN) && !seq_len(values))
		return fail_at(r, m, path, "values: must be non-empty for operator %s", ops[op]);
	if ((e->op == K8S_OP_EXISTS || e->op == K8S_OP_DOES_NOT_EXIST) && seq_len(values))
		return fail_at(r, values, path, "values: must be empty for operator %s", ops[op]);
	if (!(e->key = strdup(key)))
		return oom(r);
	if (seq_len(values) && !(e->values = calloc(seq_len(values), sizeof(*e->values))))
		return oom(r);
	for (size_t i = 0; i < seq_len(values); i++) {
		snprintf(item, sizeof(item), "%s.values[%zu]", path, i);
		if ((ret = seq_str(r, values, i, item, &v)))
			return ret;
		if (!(e->values[e->n_values] = strdup(scalar(v))))
			return oom(r);
		e->n_values++;
	}
	return 0;
}

/* A label selector under key; *present tells whether it was given (an empty one selects all). */
static int get_selector(struct reader *r, const yaml_node_t *map, const char *parent,
			const char *key, struct k8s_selector *sel, bool *present)
{
	char path[256], item[320];
	yaml_node_t *m, *exprs, *e;
	int ret = get_node(r, map, parent, key, YAML_MAPPING_NODE, false, &m);

	*present = m != NULL;
	if (ret || !m)
		return ret;
	join(path, sizeof(path), parent, key);
	if ((ret = get_labels(r, m, path, "matchLabels", &sel->match)) ||
	    (ret = get_node(r, m, path, "matchExpressions", YAML_SEQUENCE_NODE, false, &exprs)))
		return ret;
	if (seq_len(exprs) && !(sel->exprs = calloc(seq_len(exprs), sizeof(*sel->exprs))))
		return oom(r);
	for (size_t i = 0; i < seq_len(exprs); i++) {
		snprintf(item, sizeof(item), "%s.matchExpressions[%zu]", path, i);
		sel->n_exprs++;
		if ((ret = seq_map(r, exprs, i, item, &e)) ||
		    (ret = get_expr(r, e, item, &sel->exprs[i])))
			return ret;
	}
	return 0;
}

int k8s_cidr_parse(const char *text, struct k8s_cidr *c)
{
	char buf[64], *slash, *end;
	long len;
	int max;

	if (strlen(text) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, text);
	slash = strchr(buf, '/');
	if (!slash)
		return -EINVAL;
	*slash = 0;
	if (k8s_ip_parse(buf, &c->ip))
		return -EINVAL;
	max = c->ip.family == AF_INET ? 32 : 128;
	errno = 0;
	len = strtol(slash + 1, &end, 10);
	if (!slash[1] || *end || errno || len < 0 || len > max)
		return -EINVAL;
	c->len = (uint8_t)len;
	for (int bit = (int)len; bit < max; bit++)
		if (c->ip.addr[bit / 8] & (0x80 >> (bit % 8)))
			return -EINVAL;
	return 0;
}

bool k8s_cidr_contains(const struct k8s_cidr *outer, const struct k8s_cidr *inner)
{
	if (outer->ip.family != inner->ip.family || inner->len < outer->len)
		return false;
	for (int bit = 0; bit < outer->len; bit++) {
		uint8_t mask = (uint8_t)(0x80 >> (bit % 8));

		if ((outer->ip.addr[bit / 8] & mask) != (inner->ip.addr[bit / 8] & mask))
			return false;
	}
	return true;
}

static int get_cidr(struct reader *r, const yaml_node_t *node, const char *text,
		    const char *path, struct k8s_cidr *c)
{
	if (k8s_cidr_parse(text, c))
		return fail_at(r, node, path, "invalid CIDR \"%s\" (an address, '/', a prefix "
			       "length; no host bits set)", text);
	return 0;
}

static int get_block(struct reader *r, yaml_node_t *block, const char *path,
		     struct k8s_np_peer *peer)
{
	char text[64], item[320];
	yaml_node_t *except, *v;
	int ret;

	if ((ret = get_str(r, block, path, "cidr", true, text, sizeof(text))))
		return ret;
	join(item, sizeof(item), path, "cidr");
	if ((ret = get_cidr(r, map_get(r, block, "cidr"), text, item, &peer->block)) ||
	    (ret = get_node(r, block, path, "except", YAML_SEQUENCE_NODE, false, &except)))
		return ret;
	if (seq_len(except) && !(peer->except = calloc(seq_len(except), sizeof(*peer->except))))
		return oom(r);
	for (size_t i = 0; i < seq_len(except); i++) {
		struct k8s_cidr *e = &peer->except[i];

		if (snprintf(item, sizeof(item), "%s.except[%zu]", path, i) >= (int)sizeof(item))
			item[sizeof(item) - 2] = '~'; /* as join() marks a path cut short */
		if ((ret = seq_str(r, except, i, item, &v)) ||
		    (ret = get_cidr(r, v, scalar(v), item, e)))
			return ret;
		if (!k8s_cidr_contains(&peer->block, e) || e->len == peer->block.len)
			return fail_at(r, v, item, "must be strictly within cidr %s", text);
		peer->n_except++;
	}
	return 0;
}

static int get_peer(struct reader *r, yaml_node_t *m, const char *path, struct k8s_np_peer *peer)
{
	char sub[300];
	yaml_node_t *block;
	int ret;

	if ((ret = get_selector(r, m, path, "podSelector", &peer->pods, &peer->has_pods)) ||
	    (ret = get_selector(r, m, path, "namespaceSelector", &peer->namespaces,
				&peer->has_namespaces)) ||
	    (ret = get_node(r, m, path, "ipBlock", YAML_MAPPING_NODE, false, &block)))
		return ret;
	peer->has_block = block != NULL;
	if (peer->has_block && (peer->has_pods || peer->has_namespaces))
		return fail_at(r, m, path, "ipBlock cannot be combined with podSelector or "
			       "namespaceSelector");
	if (!peer->has_block && !peer->has_pods && !peer->has_namespaces)
		return fail_at(r, m, path, "must specify podSelector, namespaceSelector or ipBlock");
	if (!block)
		return 0;
	join(sub, sizeof(sub), path, "ipBlock");
	return get_block(r, block, sub, peer);
}

/* An IANA service name, as a named port must be: a-z, 0-9, '-', with a letter, at most 15. */
static bool port_name_ok(const char *s)
{
	bool letter = false;

	if (!dns_name(s, 15, false) || strstr(s, "--"))
		return false;
	for (; *s; s++)
		letter |= *s >= 'a' && *s <= 'z';
	return letter;
}

static int get_np_port(struct reader *r, yaml_node_t *m, const char *path, struct k8s_np_port *p)
{
	static const char *const protos[] = { "TCP", "UDP", "SCTP", NULL };
	static const uint8_t proto_numbers[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP };
	char item[300];
	yaml_node_t *port;
	long end = 0, number;
	int proto = 0, ret;

	if ((ret = get_enum(r, m, path, "protocol", protos, &proto)) ||
	    (ret = get_node(r, m, path, "port", YAML_SCALAR_NODE, false, &port)))
		return ret;
	p->proto = proto_numbers[proto];
	join(item, sizeof(item), path, "port");
	if (port && is_plain(port) && looks_numeric(scalar(port))) {
		if ((ret = get_int(r, m, path, "port", true, 1, 65535, &number)))
			return ret;
		p->port = p->end_port = (uint16_t)number;
	} else if (port) {
		if (!port_name_ok(scalar(port)))
			return fail_at(r, port, item, "expected a port number 1-65535 or a port name "
				       "(at most 15 of a-z, 0-9, '-', with a letter), got \"%s\"",
				       scalar(port));
		snprintf(p->name, sizeof(p->name), "%s", scalar(port));
	}
	if ((ret = get_int(r, m, path, "endPort", false, 1, 65535, &end)))
		return ret;
	if (!end)
		return 0;
	join(item, sizeof(item), path, "endPort");
	if (!p->port)
		return fail_at(r, map_get(r, m, "endPort"), item, "requires a numeric port");
	if (end < p->port)
		return fail_at(r, map_get(r, m, "endPort"), item, "%ld is below port %u", end,
			       p->port);
	p->end_port = (uint16_t)end;
	return 0;
}

/* spec.ingress or spec.egress: rules with from (to) peers and ports. */
static int get_rules(struct reader *r, const yaml_node_t *spec, const char *key,
		     const char *peers_key, struct k8s_np_rule **out, size_t *n)
{
	char path[64], item[128], sub[256];
	yaml_node_t *seq, *m, *peers, *ports, *v;
	int ret = get_node(r, spec, "spec", key, YAML_SEQUENCE_NODE, false, &seq);

	if (ret || !seq_len(seq))
		return ret;
	snprintf(path, sizeof(path), "spec.%s", key);
	if (!(*out = calloc(seq_len(seq), sizeof(**out))))
		return oom(r);
	for (size_t i = 0; i < seq_len(seq); i++) {
		struct k8s_np_rule *rule = &(*out)[i];

		snprintf(item, sizeof(item), "%s[%zu]", path, i);
		++*n;
		if ((ret = seq_map(r, seq, i, item, &m)) ||
		    (ret = get_node(r, m, item, peers_key, YAML_SEQUENCE_NODE, false, &peers)) ||
		    (ret = get_node(r, m, item, "ports", YAML_SEQUENCE_NODE, false, &ports)))
			return ret;
		if (seq_len(peers) && !(rule->peers = calloc(seq_len(peers), sizeof(*rule->peers))))
			return oom(r);
		for (size_t j = 0; j < seq_len(peers); j++) {
			snprintf(sub, sizeof(sub), "%s.%s[%zu]", item, peers_key, j);
			rule->n_peers++;
			if ((ret = seq_map(r, peers, j, sub, &v)) ||
			    (ret = get_peer(r, v, sub, &rule->peers[j])))
				return ret;
		}
		if (seq_len(ports) && !(rule->ports = calloc(seq_len(ports), sizeof(*rule->ports))))
			return oom(r);
		for (size_t j = 0; j < seq_len(ports); j++) {
			snprintf(sub, sizeof(sub), "%s.ports[%zu]", item, j);
			rule->n_ports++;
			if ((ret = seq_map(r, ports, j, sub, &v)) ||
			    (ret = get_np_port(r, v, sub, &rule->ports[j])))
				return ret;
		}
	}
	return 0;
}

static int parse_netpol(struct reader *r, const yaml_node_t *doc, struct k8s_netpol *np)
{
	static const char *const types[] = { "Ingress", "Egress", NULL };
	char item[64];
	yaml_node_t *spec, *policy_types;
	bool present;
	int ret;

	if ((ret = get_node(r, doc, "", "spec", YAML_MAPPING_NODE, true, &spec)) ||
	    (ret = get_selector(r, spec, "spec", "podSelector", &np->pod_selector, &present)))
		return ret;
	if (!present)
		return fail_at(r, spec, "spec.podSelector", "required field is missing ({} selects "
			       "every pod of the namespace)");
	if ((ret = get_rules(r, spec, "ingress", "from", &np->ingress, &np->n_ingress)) ||
	    (ret = get_rules(r, spec, "egress", "to", &np->egress, &np->n_egress)) ||
	    (ret = get_node(r, spec, "spec", "policyTypes", YAML_SEQUENCE_NODE, false,
			    &policy_types)))
		return ret;
	if (!seq_len(policy_types)) {
		np->ingress_type = true;
		np->egress_type = np->n_egress > 0;
		return 0;
	}
	for (size_t i = 0; i < seq_len(policy_types); i++) {
		yaml_node_t *v;

		snprintf(item, sizeof(item), "spec.policyTypes[%zu]", i);
		if ((ret = seq_str(r, policy_types, i, item, &v)))
			return ret;
		if (!strcmp(scalar(v), types[0]))
			np->ingress_type = true;
		else if (!strcmp(scalar(v), types[1]))
			np->egress_type = true;
		else
			return fail_at(r, v, item, "unsupported value \"%s\" (supported: Ingress, "
				       "Egress)", scalar(v));
	}
	return 0;
}

/* RFC 9110's tchar: what a header name is made of. */
static bool is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/*
 * One headers[] entry, split as Cilium splits it: the name, then after ':'
 * or a space the value the header must have exactly (blanks around it are
 * not part of it); the name alone asks only that the header be there.
 */
static int get_http_header(struct reader *r, yaml_node_t *v, const char *path,
			   struct k8s_http_header *h)
{
	const char *text = scalar(v), *value;
	size_t name_len = 0, value_len;

	while (is_tchar(text[name_len]))
		name_len++;
	value = text + name_len;
	if (*value == ':' || *value == ' ') {
		value += *value == ':';
		value += strspn(value, " \t");
		value_len = strlen(value);
		while (value_len && (value[value_len - 1] == ' ' || value[value_len - 1] == '\t'))
			value_len--;
		h->has_value = true;
	} else {
		value_len = 0;
	}
	if (!name_len || (*value && !h->has_value))
		return fail_at(r, v, path, "expected \"Name\" or \"Name: value\" (a name of "
			       "letters, digits and !#$%%&'*+-.^_`|~), got \"%s\"", text);
	if (name_len > K8S_HTTP_HEADER_NAME_MAX)
		return fail_at(r, v, path, "a header name longer than %d characters",
			       K8S_HTTP_HEADER_NAME_MAX);
	if (h->has_value && !value_len)
		return fail_at(r, v, path, "no value in \"%s\" (write the name alone to ask only "
			       "for the header)", text);
	if (value_len > K8S_HTTP_HEADER_VALUE_MAX)
		return fail_at(r, v, path, "a header value longer than %d characters",
			       K8S_HTTP_HEADER_VALUE_MAX);
	for (size_t i = 0; i < value_len; i++) {
		unsigned char c = (unsigned char)value[i];

		if ((c < ' ' && c != '\t') || c > '~')
			return fail_at(r, v, path, "a header value of printable ASCII expected, got "
				       "\"%s\"", text);
	}
	memcpy(h->name, text, name_len);
	memcpy(h->value, value, value_len);
	return 0;
}

/*
 * CiliumNetworkPolicy, its HTTP rules only: spec.endpointSelector and
 * spec.ingress[].toPorts[] with TCP ports and rules.http[] (method, path,
 * headers).  What Sluice would not enforce is refused rather than ignored:
 * peers (fromEndpoints, fromCIDR...: NetworkPolicy says who may connect),
 * headerMatches, host, and paths with '*' anywhere but at the end.
 */
static int get_http_rule(struct reader *r, yaml_node_t *m, const char *path,
			 struct k8s_http_rule *rule)
{
	char item[400], sub[440], *star;
	yaml_node_t *headers, *v;
	int ret;

	if (map_get(r, m, "headerMatches") || map_get(r, m, "host"))
		return fail_at(r, m, path, "only method, path and headers are enforced "
			       "(headerMatches and host are not parsed by the datapath)");
	if ((ret = get_str(r, m, path, "method", false, rule->method, sizeof(rule->method))) ||
	    (ret = get_str(r, m, path, "path", false, rule->path, sizeof(rule->path))) ||
	    (ret = get_node(r, m, path, "headers", YAML_SEQUENCE_NODE, false, &headers)))
		return ret;
	join(item, sizeof(item), path, "headers");
	if (seq_len(headers) > K8S_HTTP_HEADERS_MAX)
		return fail_at(r, headers, item, "more than %d headers", K8S_HTTP_HEADERS_MAX);
	for (size_t i = 0; i < seq_len(headers); i++) {
		snprintf(sub, sizeof(sub), "%s[%zu]", item, i);
		if ((ret = seq_str(r, headers, i, sub, &v)) ||
		    (ret = get_http_header(r, v, sub, &rule->headers[i])))
			return ret;
		rule->n_headers++;
	}
	for (const char *c = rule->method; *c; c++)
		if (*c < 'A' || *c > 'Z') {
			join(item, sizeof(item), path, "method");
			return fail_at(r, m, item, "expected an HTTP method in capitals, got \"%s\"",
				       rule->method);
		}
	if (!*rule->path)
		strcpy(rule->path, "/*");
	star = strchr(rule->path, '*');
	join(item, sizeof(item), path, "path");
	if (rule->path[0] != '/' || (star && star[1]))
		return fail_at(r, m, item, "expected /PATH, or /PREFIX* ('*' only at the end), got "
			       "\"%s\"", rule->path);
	if (star) {
		*star = 0;
		rule->prefix = true;
	}
	return 0;
}

static int get_http_port(struct reader *r, yaml_node_t *to_port, const char *path,
			 struct k8s_http_policy *hp)
{
	static const char *const protos[] = { "TCP", NULL };
	char item[400], sub[440], number[8];
	yaml_node_t *ports, *rules, *http, *m, *v;
	long port;
	int proto, ret;
	struct k8s_http_port *more;

	if ((ret = get_node(r, to_port, path, "ports", YAML_SEQUENCE_NODE, true, &ports)) ||
	    (ret = get_node(r, to_port, path, "rules", YAML_MAPPING_NODE, true, &rules)))
		return ret;
	join(item, sizeof(item), path, "rules");
	if ((ret = get_node(r, rules, item, "http", YAML_SEQUENCE_NODE, true, &http)))
		return ret;
	for (size_t i = 0; i < seq_len(ports); i++) {
		struct k8s_http_port *hport;

		snprintf(item, sizeof(item), "%s.ports[%zu]", path, i);
		if ((ret = seq_map(r, ports, i, item, &m)) ||
		    (ret = get_enum(r, m, item, "protocol", protos, &proto)) ||
		    (ret = get_node(r, m, item, "port", YAML_SCALAR_NODE, true, &v)))
			return ret;
		/* Cilium writes ports as strings ("80"): both are taken */
		snprintf(number, sizeof(number), "%.7s", scalar(v));
		port = strtol(number, NULL, 10);
		if (port < 1 || port > 65535 || strspn(scalar(v), "0123456789") != strlen(scalar(v))) {
			join(sub, sizeof(sub), item, "port");
			return fail_at(r, v, sub, "expected a port number 1-65535, got \"%s\"",
				       scalar(v));
		}
		more = realloc(hp->ports, (hp->n_ports + 1) * sizeof(*more));
		if (!more)
			return oom(r);
		hp->ports = more;
		hport = &hp->ports[hp->n_ports++];
		memset(hport, 0, sizeof(*hport));
		hport->port = (uint16_t)port;
		if (!seq_len(http))
			return fail_at(r, http, item, "rules.http: at least one rule");
		if (!(hport->rules = calloc(seq_len(http), sizeof(*hport->rules))))
			return oom(r);
		for (size_t j = 0; j < seq_len(http); j++) {
			snprintf(sub, sizeof(sub), "%s.rules.http[%zu]", path, j);
			if ((ret = seq_map(r, http, j, sub, &m)) ||
			    (ret = get_http_rule(r, m, sub, &hport->rules[j])))
				return ret;
			hport->n_rules++;
		}
	}
	return 0;
}

static int parse_http_policy(struct reader *r, const yaml_node_t *doc, struct k8s_http_policy *hp)
{
	static const char *const peers[] = { "fromEndpoints", "fromCIDR", "fromCIDRSet",
					     "fromEntities", "fromRequires", NULL };
	char item[64], sub[128];
	yaml_node_t *spec, *ingress, *rule, *to_ports, *tp;
	bool present;
	int ret;

	if ((ret = get_node(r, doc, "", "spec", YAML_MAPPING_NODE, true, &spec)) ||
	    (ret = get_selector(r, spec, "spec", "endpointSelector", &hp->endpoints, &present)))
		return ret;
	if (!present)
		return fail_at(r, spec, "spec.endpointSelector", "required field is missing");
	if (map_get(r, spec, "egress"))
		return fail_at(r, spec, "spec.egress", "HTTP rules are enforced on ingress only");
	if ((ret = get_node(r, spec, "spec", "ingress", YAML_SEQUENCE_NODE, true, &ingress)))
		return ret;
	for (size_t i = 0; i < seq_len(ingress); i++) {
		snprintf(item, sizeof(item), "spec.ingress[%zu]", i);
		if ((ret = seq_map(r, ingress, i, item, &rule)))
			return ret;
		for (size_t k = 0; peers[k]; k++)
			if (map_get(r, rule, peers[k]))
				return fail_at(r, rule, item, "%s: not supported: peers are "
					       "NetworkPolicy's business; this kind adds HTTP rules",
					       peers[k]);
		if ((ret = get_node(r, rule, item, "toPorts", YAML_SEQUENCE_NODE, true, &to_ports)))
			return ret;
		for (size_t j = 0; j < seq_len(to_ports); j++) {
			snprintf(sub, sizeof(sub), "%s.toPorts[%zu]", item, j);
			if ((ret = seq_map(r, to_ports, j, sub, &tp)) ||
			    (ret = get_http_port(r, tp, sub, hp)))
				return ret;
		}
	}
	return 0;
}

static bool expr_match(const struct k8s_expr *e, const struct k8s_labels *labels,
		       const struct k8s_labels *extra)
{
	const char *v = k8s_label(labels, e->key);
	bool listed = false;

	if (!v && extra)
		v = k8s_label(extra, e->key);
	for (size_t i = 0; v && i < e->n_values; i++)
		listed |= !strcmp(v, e->values[i]);
	switch (e->op) {
	case K8S_OP_IN:
		return listed;
	case K8S_OP_NOT_IN:
		return !listed; /* a missing key is not in the list either, as Kubernetes has it */
	case K8S_OP_EXISTS:
		return v != NULL;
	case K8S_OP_DOES_NOT_EXIST:
		return v == NULL;
	}
	return false;
}

bool k8s_selector_match(const struct k8s_selector *sel, const struct k8s_labels *labels,
			const struct k8s_labels *extra)
{
	for (size_t i = 0; i < sel->match.n; i++) {
		const char *v = k8s_label(labels, sel->match.v[i].key);

		if (!v && extra)
			v = k8s_label(extra, sel->match.v[i].key);
		if (!v || strcmp(v, sel->match.v[i].value))
			return false;
	}
	for (size_t i = 0; i < sel->n_exprs; i++)
		if (!expr_match(&sel->exprs[i], labels, extra))
			return false;
	return true;
}

static void object_free(struct k8s_object *o)
{
	if (!o || --o->refs > 0)
		return;
	labels_free(&o->labels);
	switch (o->kind) {
	case K8S_POD:
		free(o->u.pod.ports);
		break;
	case K8S_SERVICE:
		free(o->u.svc.ports);
		labels_free(&o->u.svc.selector);
		break;
	case K8S_ENDPOINT_SLICE:
	case K8S_ENDPOINTS:
		for (size_t i = 0; i < o->u.eps.n_subsets; i++) {
			free(o->u.eps.subsets[i].endpoints);
			free(o->u.eps.subsets[i].ports);
		}
		free(o->u.eps.subsets);
		break;
	case K8S_NETWORK_POLICY:
		netpol_free(&o->u.np);
		break;
	case K8S_HTTP_POLICY:
		selector_free(&o->u.http.endpoints);
		for (size_t i = 0; i < o->u.http.n_ports; i++)
			free(o->u.http.ports[i].rules);
		free(o->u.http.ports);
		break;
	case K8S_NAMESPACE:
		break;
	}
	free(o->file);
	free(o);
}

static int store_push(struct k8s_store *s, struct k8s_object *o)
{
	struct k8s_object **v = realloc(s->v, (s->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	v[s->n++] = o;
	s->v = v;
	return 0;
}

/* One object (a mapping with apiVersion, kind, metadata) into *out. */
static int parse_object(struct reader *r, yaml_node_t *doc, struct k8s_store *out)
{
	char kind[64], api[64];
	yaml_node_t *meta;
	struct k8s_object *o;
	size_t k;
	int ret;

	*r->what = 0;
	if (doc->type != YAML_MAPPING_NODE)
		return fail_at(r, doc, "", "expected a Kubernetes object (a mapping), got %s",
			       node_type(doc));
	if ((ret = get_str(r, doc, "", "kind", true, kind, sizeof(kind))) ||
	    (ret = get_str(r, doc, "", "apiVersion", true, api, sizeof(api))))
		return ret;
	for (k = 0; k < NKINDS; k++)
		if (!strcmp(kind, kind_names[k]))
			break;
	if (k == NKINDS)
		return fail_at(r, map_get(r, doc, "kind"), "kind",
			       "unsupported kind \"%s\" (supported: Namespace, Pod, Service, "
			       "EndpointSlice, Endpoints, NetworkPolicy, CiliumNetworkPolicy, List)", kind);
	if (strcmp(api, kind_api[k]))
		return fail_at(r, map_get(r, doc, "apiVersion"), "apiVersion",
			       "expected %s for a %s, got \"%s\"", kind_api[k], kind, api);
	o = calloc(1, sizeof(*o));
	if (!o)
		return sluice_fail(r->err, ENOMEM, "%s: out of memory", r->file);
	o->refs = 1;
	o->kind = (enum k8s_kind)k;
	o->line = (int)doc->start_mark.line + 1;
	o->file = strdup(r->file);
	snprintf(r->what, sizeof(r->what), "%s", kind);
	if (!o->file) {
		ret = sluice_fail(r->err, ENOMEM, "%s: out of memory", r->file);
		goto fail;
	}
	if ((ret = get_node(r, doc, "", "metadata", YAML_MAPPING_NODE, true, &meta)) ||
	    (ret = get_str(r, meta, "metadata", "name", true, o->name, sizeof(o->name))))
		goto fail;
	if (o->kind != K8S_NAMESPACE) {
		if ((ret = get_str(r, meta, "metadata", "namespace", false, o->ns, sizeof(o->ns))))
			goto fail;
		if (!*o->ns)
			strcpy(o->ns, "default");
	}
	snprintf(r->what, sizeof(r->what), "%s %s%s%s", kind, o->ns, *o->ns ? "/" : "", o->name);
	/* Services and Namespaces are DNS labels (they become DNS names); the rest subdomains. */
	if (!dns_name(o->name, o->kind == K8S_SERVICE || o->kind == K8S_NAMESPACE ? 63 : 253,
		      o->kind != K8S_SERVICE && o->kind != K8S_NAMESPACE)) {
		ret = fail_at(r, map_get(r, meta, "name"), "metadata.name",
			      "not a valid name (lowercase letters, digits and '-')");
		goto fail;
	}
	if (*o->ns && !dns_name(o->ns, 63, false)) {
		ret = fail_at(r, map_get(r, meta, "namespace"), "metadata.namespace",
			      "not a valid namespace name");
		goto fail;
	}
	if ((ret = get_labels(r, meta, "metadata", "labels", &o->labels)))
		goto fail;
	switch (o->kind) {
	case K8S_POD:
		ret = parse_pod(r, doc, o);
		break;
	case K8S_SERVICE:
		ret = parse_service(r, doc, o);
		break;
	case K8S_ENDPOINT_SLICE:
		ret = parse_slice(r, doc, o);
		break;
	case K8S_ENDPOINTS:
		ret = parse_endpoints(r, doc, o);
		break;
	case K8S_NETWORK_POLICY:
		ret = parse_netpol(r, doc, &o->u.np);
		break;
	case K8S_HTTP_POLICY:
		ret = parse_http_policy(r, doc, &o->u.http);
		break;
	case K8S_NAMESPACE:
		break;
	}
	if (ret)
		goto fail;
	if (store_push(out, o)) {
		ret = sluice_fail(r->err, ENOMEM, "%s: out of memory", r->file);
		goto fail;
	}
	return 0;
fail:
	object_free(o);
	return ret;
}

/*
 * A key twice in one mapping: YAML leaves it to the reader, the API server
 * refuses it, and files concatenated without `---` between them look so.
 */
static int check_duplicate_keys(struct reader *r, yaml_node_t *node, int depth)
{
	int ret;

	if (!node || depth > 64)
		return 0;
	if (node->type == YAML_SEQUENCE_NODE) {
		for (size_t i = 0; i < seq_len(node); i++)
			if ((ret = check_duplicate_keys(r, seq_at(r, node, i), depth + 1)))
				return ret;
		return 0;
	}
	if (node->type != YAML_MAPPING_NODE)
		return 0;
	for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = yaml_document_get_node(r->doc, p->key);

		for (yaml_node_pair_t *q = node->data.mapping.pairs.start; q < p; q++) {
			yaml_node_t *e = yaml_document_get_node(r->doc, q->key);

			if (k && e && k->type == YAML_SCALAR_NODE && e->type == YAML_SCALAR_NODE &&
			    !strcmp(scalar(k), scalar(e)))
				return fail_at(r, k, "", "key \"%s\" given twice (also line %zu); "
					       "a missing `---` between two objects?", scalar(k),
					       e->start_mark.line + 1);
		}
		if ((ret = check_duplicate_keys(r, yaml_document_get_node(r->doc, p->value),
						depth + 1)))
			return ret;
	}
	return 0;
}

/* A document: one object, or a `List` of them. */
static int parse_document(struct reader *r, yaml_node_t *root, struct k8s_store *out)
{
	yaml_node_t *items, *kind = map_get(r, root, "kind");
	char path[32];
	int ret;

	*r->what = 0;
	if ((ret = check_duplicate_keys(r, root, 0)))
		return ret;
	if (!kind || kind->type != YAML_SCALAR_NODE || strcmp(scalar(kind), "List"))
		return parse_object(r, root, out);
	if ((ret = get_node(r, root, "", "items", YAML_SEQUENCE_NODE, true, &items)))
		return ret;
	for (size_t i = 0; i < seq_len(items); i++) {
		yaml_node_t *item;

		snprintf(path, sizeof(path), "items[%zu]", i);
		if ((ret = seq_map(r, items, i, path, &item)) || (ret = parse_object(r, item, out)))
			return ret;
	}
	return 0;
}

int k8s_object_cmp(const struct k8s_object *a, const struct k8s_object *b)
{
	int c;

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	c = strcmp(a->ns, b->ns);
	return c ? c : strcmp(a->name, b->name);
}

static int cmp_object_ptr(const void *a, const void *b)
{
	return k8s_object_cmp(*(struct k8s_object *const *)a, *(struct k8s_object *const *)b);
}

/* The store's objects sorted (a new array; NULL when out of memory). */
static struct k8s_object **sorted_copy(const struct k8s_store *s)
{
	struct k8s_object **v = malloc((s->n + 1) * sizeof(*v));

	if (!v)
		return NULL;
	if (s->n)
		memcpy(v, s->v, s->n * sizeof(*v));
	/* qsort is not stable: equal keys stay apart by address, which is enough here */
	qsort(v, s->n, sizeof(*v), cmp_object_ptr);
	return v;
}

/* No object twice among those one request brings (sorted: neighbours only). */
static int check_unique(const struct k8s_store *s, struct sluice_error *err)
{
	struct k8s_object **v = sorted_copy(s);
	int ret = 0;

	if (!v)
		return sluice_fail(err, ENOMEM, "out of memory");
	for (size_t i = 1; i < s->n && !ret; i++) {
		const struct k8s_object *a = v[i - 1], *b = v[i];

		if (k8s_object_cmp(a, b))
			continue;
		/* name the later one, citing the earlier */
		if (strcmp(a->file, b->file) > 0 || (!strcmp(a->file, b->file) && a->line > b->line)) {
			const struct k8s_object *t = a;

			a = b;
			b = t;
		}
		ret = sluice_fail(err, EINVAL, "%s:%d: %s %s%s%s: defined twice (also %s:%d)",
				  b->file, b->line, k8s_kind_name(b->kind), b->ns, *b->ns ? "/" : "",
				  b->name, a->file, a->line);
	}
	free(v);
	return ret;
}

int k8s_parse(const char *file, const char *text, size_t len, struct k8s_store *out,
	      struct sluice_error *err)
{
	struct reader r = { .file = file, .err = err };
	size_t first = out->n;
	yaml_parser_t parser;
	int ret = 0;

	if (!yaml_parser_initialize(&parser))
		return sluice_fail(err, ENOMEM, "%s: out of memory", file);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	for (;;) {
		yaml_document_t doc;
		yaml_node_t *root;

		if (!yaml_parser_load(&parser, &doc)) {
			ret = sluice_fail(err, EINVAL, "%s:%zu: invalid YAML: %s", file,
					  parser.problem_mark.line + 1,
					  parser.problem ? parser.problem : "unknown error");
			break;
		}
		root = yaml_document_get_root_node(&doc);
		if (!root) { /* the end of the stream */
			yaml_document_delete(&doc);
			break;
		}
		r.doc = &doc;
		/* an empty document (a stray ---) holds no object */
		if (!(root->type == YAML_SCALAR_NODE && !*scalar(root)))
			ret = parse_document(&r, root, out);
		yaml_document_delete(&doc);
		if (ret)
			break;
	}
	yaml_parser_delete(&parser);
	if (!ret)
		ret = check_unique(out, err);
	if (ret) {
		while (out->n > first)
			object_free(out->v[--out->n]);
	}
	return ret;
}

int k8s_store_index(struct k8s_store *s, struct sluice_error *err)
{
	struct k8s_object **v = sorted_copy(s);

	if (!v)
		return sluice_fail(err, ENOMEM, "out of memory");
	free(s->index);
	s->index = v;
	s->n_index = s->n;
	return 0;
}

int k8s_store_merge(const struct k8s_store *base, const struct k8s_store *add, bool remove,
		    struct k8s_store *out, struct sluice_error *err)
{
	struct k8s_object **added = sorted_copy(add);

	memset(out, 0, sizeof(*out));
	/* room for all at once: pushing 20,000 objects one realloc at a time shows */
	out->v = malloc((base->n + add->n + 1) * sizeof(*out->v));
	if (!added || !out->v)
		goto nomem;
	for (size_t i = 0; i < base->n; i++) {
		if (add->n && bsearch(&base->v[i], added, add->n, sizeof(*added), cmp_object_ptr))
			continue; /* replaced, or removed */
		out->v[out->n++] = base->v[i];
		base->v[i]->refs++;
	}
	for (size_t j = 0; j < add->n && !remove; j++) {
		out->v[out->n++] = add->v[j];
		add->v[j]->refs++;
	}
	if (base->index && base->n_index == base->n) {
		/* the index by merging two sorted lists, not by sorting again */
		size_t i = 0, j = 0, n = 0, n_add = remove ? 0 : add->n;

		out->index = malloc((out->n + 1) * sizeof(*out->index));
		if (!out->index)
			goto nomem;
		while (i < base->n || j < n_add) {
			if (i < base->n && add->n &&
			    bsearch(&base->index[i], added, add->n, sizeof(*added), cmp_object_ptr))
				i++;
			else if (j == n_add || (i < base->n &&
						k8s_object_cmp(base->index[i], added[j]) < 0))
				out->index[n++] = base->index[i++];
			else
				out->index[n++] = added[j++];
		}
		out->n_index = n;
		free(added);
		return 0;
	}
	free(added);
	return k8s_store_index(out, err);
nomem:
	free(added);
	k8s_store_free(out);
	return sluice_fail(err, ENOMEM, "out of memory");
}

const struct k8s_object *k8s_store_find(const struct k8s_store *s, enum k8s_kind kind,
					const char *ns, const char *name)
{
	struct k8s_object key = { .kind = kind }, *kp = &key, **hit;

	if (s->index && s->n_index == s->n) {
		snprintf(key.ns, sizeof(key.ns), "%s", ns);
		snprintf(key.name, sizeof(key.name), "%s", name);
		hit = s->n ? bsearch(&kp, s->index, s->n, sizeof(*s->index), cmp_object_ptr) : NULL;
		return hit ? *hit : NULL;
	}
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i]->kind == kind && !strcmp(s->v[i]->ns, ns) &&
		    !strcmp(s->v[i]->name, name))
			return s->v[i];
	return NULL;
}

void k8s_store_free(struct k8s_store *s)
{
	for (size_t i = 0; i < s->n; i++)
		object_free(s->v[i]);
	free(s->v);
	free(s->index);
	memset(s, 0, sizeof(*s));
}

static int fail_obj(const struct k8s_object *o, struct sluice_error *err, const char *field,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail_obj(const struct k8s_object *o, struct sluice_error *err, const char *field,
		    const char *fmt, ...)
{
	char where[1024];
	va_list ap;
	int ret;

	snprintf(where, sizeof(where), "%s:%d: %s %s%s%s: %s", o->file, o->line,
		 k8s_kind_name(o->kind), o->ns, *o->ns ? "/" : "", o->name, field);
	va_start(ap, fmt);
	ret = fail_where(err, where, fmt, ap);
	va_end(ap);
	return ret;
}

static bool builtin_namespace(const char *ns)
{
	return !strcmp(ns, "default") || !strcmp(ns, "kube-system") ||
	       !strcmp(ns, "kube-public") || !strcmp(ns, "kube-node-lease");
}

static bool pod_has_ip(const struct k8s_pod *pod, const struct k8s_ip *ip)
{
	for (size_t i = 0; i < pod->n_ips; i++)
		if (k8s_ip_equal(&pod->ips[i], ip))
			return true;
	return false;
}

static int validate_endpoints(const struct k8s_store *s, const struct k8s_object *o,
			      struct sluice_error *err)
{
	char field[96], ip[64];

	if (!k8s_store_find(s, K8S_SERVICE, o->ns, o->u.eps.service))
		return fail_obj(o, err, o->kind == K8S_ENDPOINTS ? "metadata.name" :
				"metadata.labels." SERVICE_NAME_LABEL,
				"references missing Service %s/%s", o->ns, o->u.eps.service);
	for (size_t i = 0; i < o->u.eps.n_subsets; i++) {
		const struct k8s_subset *sub = &o->u.eps.subsets[i];

		for (size_t j = 0; j < sub->n_endpoints; j++) {
			const struct k8s_endpoint *e = &sub->endpoints[j];
			const struct k8s_object *pod;

			if (!*e->pod)
				continue;
			if (o->kind == K8S_ENDPOINT_SLICE)
				snprintf(field, sizeof(field), "endpoints[%zu].targetRef", j);
			else
				snprintf(field, sizeof(field), "subsets[%zu] address %zu targetRef", i, j);
			pod = k8s_store_find(s, K8S_POD, o->ns, e->pod);
			if (!pod)
				return fail_obj(o, err, field, "references missing Pod %s/%s", o->ns,
						e->pod);
			if (!pod_has_ip(&pod->u.pod, &e->ip))
				return fail_obj(o, err, field, "%s is not an address of Pod %s/%s",
						k8s_ip_str(&e->ip, ip, sizeof(ip)), o->ns, e->pod);
		}
	}
	return 0;
}

/*
 * Something only one object may hold (a cluster IP, a pod IP, a node port
 * per protocol), found twice by sorting the claims, not by comparing pairs:
 * 10,000 services are checked in milliseconds.
 */
struct claim {
	uint8_t key[18];          /* family + address, or protocol + port */
	const struct k8s_object *o;
	size_t order;             /* the later of two is the one named */
};

static int cmp_claim(const void *a, const void *b)
{
	const struct claim *x = a, *y = b;
	int c = memcmp(x->key, y->key, sizeof(x->key));

	return c ? c : (x->order > y->order) - (x->order < y->order);
}

/* v has room for every claim (counted first). */
static void push_claim(struct claim *v, size_t *n, const struct k8s_object *o, size_t order,
		       const void *key, size_t len)
{
	memset(&v[*n], 0, sizeof(*v));
	memcpy(v[*n].key, key, len);
	v[*n].o = o;
	v[*n].order = order;
	++*n;
}

static void ip_claim(struct claim *v, size_t *n, const struct k8s_object *o, size_t order,
		     const struct k8s_ip *ip)
{
	uint8_t key[17];

	key[0] = (uint8_t)ip->family;
	memcpy(key + 1, ip->addr, 16);
	push_claim(v, n, o, order, key, sizeof(key));
}

static int check_claims(struct claim *v, size_t n, struct sluice_error *err)
{
	char what[64];

	qsort(v, n, sizeof(*v), cmp_claim);
	for (size_t i = 1; i < n; i++) {
		const struct k8s_object *a = v[i - 1].o, *b = v[i].o;

		if (memcmp(v[i - 1].key, v[i].key, sizeof(v[i].key)) || a == b)
			continue;
		if (v[i].key[0] == AF_INET || v[i].key[0] == AF_INET6) {
			struct k8s_ip ip = { .family = v[i].key[0] };

			memcpy(ip.addr, v[i].key + 1, 16);
			return fail_obj(b, err, b->kind == K8S_POD ? "status.podIP" : "spec.clusterIP",
					"%s is already the address of %s %s/%s",
					k8s_ip_str(&ip, what, sizeof(what)), k8s_kind_name(a->kind),
					a->ns, a->name);
		}
		return fail_obj(b, err, "spec.ports.nodePort",
				"%u is already a node port of Service %s/%s",
				v[i].key[1] << 8 | v[i].key[2], a->ns, a->name);
	}
	return 0;
}

/* Cluster IPs, pod IPs and node ports (keyed by protocol, 0xff: not an address family). */
static int validate_claims(const struct k8s_store *s, struct sluice_error *err)
{
	struct claim *v;
	size_t n = 0, room = 0;
	int ret;

	for (size_t i = 0; i < s->n; i++) {
		const struct k8s_object *o = s->v[i];

		room += o->kind == K8S_POD ? o->u.pod.n_ips :
			o->kind == K8S_SERVICE ? o->u.svc.n_ips + o->u.svc.n_ports : 0;
	}
	v = malloc((room + 1) * sizeof(*v));
	if (!v)
		return sluice_fail(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < s->n; i++) {
		const struct k8s_object *o = s->v[i];

		if (o->kind == K8S_POD)
			for (size_t k = 0; k < o->u.pod.n_ips; k++)
				ip_claim(v, &n, o, i, &o->u.pod.ips[k]);
		if (o->kind != K8S_SERVICE)
			continue;
		for (size_t k = 0; k < o->u.svc.n_ips; k++)
			ip_claim(v, &n, o, i, &o->u.svc.ips[k]);
		for (size_t k = 0; k < o->u.svc.n_ports; k++) {
			const struct k8s_service_port *p = &o->u.svc.ports[k];
			uint8_t key[4] = { 0xff, (uint8_t)(p->node_port >> 8), (uint8_t)p->node_port,
					   p->port.proto };

			if (p->node_port)
				push_claim(v, &n, o, i, key, sizeof(key));
		}
	}
	ret = check_claims(v, n, err);
	free(v);
	return ret;
}

int k8s_store_validate(const struct k8s_store *s, struct sluice_error *err)
{
	int ret;

	for (size_t i = 0; i < s->n; i++) {
		const struct k8s_object *o = s->v[i];

		if (*o->ns && !builtin_namespace(o->ns) &&
		    !k8s_store_find(s, K8S_NAMESPACE, "", o->ns))
			return fail_obj(o, err, "metadata.namespace",
					"references missing Namespace %s", o->ns);
		if ((o->kind == K8S_ENDPOINT_SLICE || o->kind == K8S_ENDPOINTS) &&
		    (ret = validate_endpoints(s, o, err)))
			return ret;
	}
	return validate_claims(s, err);
}
