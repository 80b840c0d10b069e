/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_K8S_MANIFEST_H
#define SLUICE_K8S_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sluice/error.h>

/*
 * Kubernetes objects as read from YAML manifests (libyaml): the kinds the
 * service load balancer needs (Namespace, Pod, Service, EndpointSlice and
 * the legacy Endpoints), with the fields it uses, checked as the API server
 * would check them.  Every error is one line naming the file, the line, the
 * object and the field:
 *   web.yaml:14: Service default/web: spec.ports[1].port: expected an integer 1-65535, got "http"
 *
 * Objects are immutable once parsed and reference-counted, so that a store
 * (the set of objects applied so far) can be copied cheaply, changed, checked
 * as a whole, and then either kept or dropped: nothing is applied on error.
 */

#define K8S_NAME_MAX 254  /* a DNS subdomain: 253 characters */
#define K8S_MAX_IPS 2     /* one IPv4 and one IPv6 address, dual stack */

enum k8s_kind {
	K8S_NAMESPACE,
	K8S_POD,
	K8S_SERVICE,
	K8S_ENDPOINT_SLICE,
	K8S_ENDPOINTS,
	K8S_NETWORK_POLICY,   /* networking.k8s.io/v1 */
	K8S_HTTP_POLICY,      /* CiliumNetworkPolicy (cilium.io/v2): its HTTP rules only */
};

struct k8s_ip {
	int family;           /* AF_INET, AF_INET6 */
	uint8_t addr[16];     /* network order; IPv4 in the first 4 bytes */
};

struct k8s_label {
	char *key;
	char *value;
};

struct k8s_labels {
	struct k8s_label *v;
	size_t n;
};

/* A named port: a container's, a Service's, an endpoint set's. */
struct k8s_port {
	char name[64];
	uint8_t proto;        /* IPPROTO_TCP, IPPROTO_UDP */
	uint16_t port;
};

struct k8s_pod {
	char node[K8S_NAME_MAX];
	struct k8s_ip ips[K8S_MAX_IPS];
	size_t n_ips;             /* 0 while the pod has no address */
	struct k8s_port *ports;   /* every container's ports */
	size_t n_ports;
};

struct k8s_service_port {
	struct k8s_port port;
	uint16_t target_port;     /* 0 when named */
	char target_name[64];
	uint16_t node_port;       /* 0 unless NodePort */
};

struct k8s_service {
	bool node_port;           /* type NodePort (or LoadBalancer) */
	bool headless;            /* clusterIP: None, not load-balanced */
	struct k8s_ip ips[K8S_MAX_IPS];
	size_t n_ips;
	struct k8s_service_port *ports;
	size_t n_ports;
	bool has_selector;
	struct k8s_labels selector;
	bool affinity;            /* sessionAffinity: ClientIP */
	uint32_t affinity_timeout;
	bool local;               /* externalTrafficPolicy: Local */
	uint32_t maglev_size;     /* annotation sluice.io/maglev-table-size; 0: chosen */
};

struct k8s_endpoint {
	struct k8s_ip ip;
	bool ready;
	char node[K8S_NAME_MAX];  /* "" when not given */
	char pod[K8S_NAME_MAX];   /* targetRef of kind Pod, "" when none */
};

/* One EndpointSlice, or one subset of a legacy Endpoints object. */
struct k8s_subset {
	struct k8s_endpoint *endpoints;
	size_t n_endpoints;
	struct k8s_port *ports;
	size_t n_ports;
};

struct k8s_endpoints {
	char service[K8S_NAME_MAX];
	struct k8s_subset *subsets;
	size_t n_subsets;
};

/* A label selector's matchExpressions entry. */
enum k8s_selector_op { K8S_OP_IN, K8S_OP_NOT_IN, K8S_OP_EXISTS, K8S_OP_DOES_NOT_EXIST };

struct k8s_expr {
	char *key;
	enum k8s_selector_op op;
	char **values;
	size_t n_values;
};

/* matchLabels AND every matchExpressions entry; empty selects everything. */
struct k8s_selector {
	struct k8s_labels match;
	struct k8s_expr *exprs;
	size_t n_exprs;
};

struct k8s_cidr {
	struct k8s_ip ip;         /* the network address (host bits zero) */
	uint8_t len;              /* prefix length */
};

/*
 * One entry of from/to: podSelector and/or namespaceSelector (both: AND),
 * or an ipBlock.
 */
struct k8s_np_peer {
	bool has_pods, has_namespaces, has_block;
	struct k8s_selector pods;
	struct k8s_selector namespaces;
	struct k8s_cidr block;
	struct k8s_cidr *except;
	size_t n_except;
};

struct k8s_np_port {
	uint8_t proto;            /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP */
	uint16_t port;            /* 0: every port of proto (or a named one) */
	uint16_t end_port;        /* last of the range; == port when no endPort */
	char name[64];            /* a named port, resolved per pod; "" when numeric */
};

/* One ingress or egress rule: no peers allows every peer, no ports every port. */
struct k8s_np_rule {
	struct k8s_np_peer *peers;
	size_t n_peers;
	struct k8s_np_port *ports;
	size_t n_ports;
};

struct k8s_netpol {
	struct k8s_selector pod_selector;
	bool ingress_type, egress_type;   /* policyTypes, defaulted as the API server does */
	struct k8s_np_rule *ingress;
	size_t n_ingress;
	struct k8s_np_rule *egress;
	size_t n_egress;
};

/*
 * One toPorts[].rules.http[] entry: method (empty: any) and path, exact or,
 * with a trailing '*', a prefix; headers the request must have, as Cilium
 * reads them: "Name" (present) or "Name: value" / "Name value" (exactly).
 */
#define K8S_HTTP_METHOD_MAX 8
#define K8S_HTTP_PATH_MAX 64
#define K8S_HTTP_HEADERS_MAX 8
#define K8S_HTTP_HEADER_NAME_MAX 32
#define K8S_HTTP_HEADER_VALUE_MAX 64

struct k8s_http_header {
	char name[K8S_HTTP_HEADER_NAME_MAX + 1];   /* as written */
	char value[K8S_HTTP_HEADER_VALUE_MAX + 1]; /* without blanks around it */
	bool has_value;
};

struct k8s_http_rule {
	char method[K8S_HTTP_METHOD_MAX];
	char path[K8S_HTTP_PATH_MAX];
	bool prefix;
	struct k8s_http_header headers[K8S_HTTP_HEADERS_MAX];
	size_t n_headers;
};

struct k8s_http_port {
	uint16_t port;            /* TCP */
	struct k8s_http_rule *rules;
	size_t n_rules;
};

/* A CiliumNetworkPolicy's HTTP part: requests to these ports of the selected pods. */
struct k8s_http_policy {
	struct k8s_selector endpoints;
	struct k8s_http_port *ports;
	size_t n_ports;
};

struct k8s_object {
	int refs;
	enum k8s_kind kind;
	char ns[K8S_NAME_MAX];    /* "" for a Namespace */
	char name[K8S_NAME_MAX];
	char *file;
	int line;
	struct k8s_labels labels;
	union {
		struct k8s_pod pod;
		struct k8s_service svc;
		struct k8s_endpoints eps; /* EndpointSlice and Endpoints */
		struct k8s_netpol np;
		struct k8s_http_policy http;
	} u;
};

/* The set of objects applied so far, or to be. */
struct k8s_store {
	struct k8s_object **v;
	size_t n;
	/* v sorted by kind, namespace and name, for k8s_store_find; current while n_index == n */
	struct k8s_object **index;
	size_t n_index;
};

const char *k8s_kind_name(enum k8s_kind kind);

/*
 * Parse every document of one YAML file (a `List` too) and append its
 * objects to *out.  Errors name the file.  On error *out keeps what it had.
 */
int k8s_parse(const char *file, const char *text, size_t len, struct k8s_store *out,
	      struct sluice_error *err);

/*
 * *out = base with the objects of add put in (replacing those of the same
 * kind, namespace and name) or, when remove, taken out.  add keeps its own
 * references; free *out with k8s_store_free.
 */
int k8s_store_merge(const struct k8s_store *base, const struct k8s_store *add, bool remove,
		    struct k8s_store *out, struct sluice_error *err);

/*
 * Checks between objects: namespaces exist, endpoint sets name an existing
 * Service and Pods that hold their addresses, no two Services share a
 * cluster IP or node port, no two Pods an IP.
 */
int k8s_store_validate(const struct k8s_store *s, struct sluice_error *err);

/* (Re)build the index that makes k8s_store_find a binary search (merge builds it). */
int k8s_store_index(struct k8s_store *s, struct sluice_error *err);
const struct k8s_object *k8s_store_find(const struct k8s_store *s, enum k8s_kind kind,
					const char *ns, const char *name);
/* Order by kind, namespace, name: the index's. */
int k8s_object_cmp(const struct k8s_object *a, const struct k8s_object *b);
void k8s_store_free(struct k8s_store *s);

/* "10.96.0.10", "fd00::a" */
const char *k8s_ip_str(const struct k8s_ip *ip, char *buf, size_t size);
/* "TCP", "UDP", "SCTP", "ICMP", "ICMPv6"; "?" for any other IPPROTO_ number. */
const char *k8s_proto_name(uint8_t proto);
int k8s_ip_parse(const char *text, struct k8s_ip *ip);
bool k8s_ip_equal(const struct k8s_ip *a, const struct k8s_ip *b);
/* The value of key in labels, or NULL. */
const char *k8s_label(const struct k8s_labels *labels, const char *key);
/* Whether the selector selects labels (and extra, when not NULL: both sets count as one). */
bool k8s_selector_match(const struct k8s_selector *sel, const struct k8s_labels *labels,
			const struct k8s_labels *extra);
/* "10.0.0.0/8" into *c; -EINVAL when malformed or host bits are set. */
int k8s_cidr_parse(const char *text, struct k8s_cidr *c);
bool k8s_cidr_contains(const struct k8s_cidr *outer, const struct k8s_cidr *inner);

#endif
