/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_K8S_POLICY_H
#define SLUICE_K8S_POLICY_H

#include "../../datapath/policy.h"
#include "manifest.h"

/*
 * NetworkPolicy compiled into what the datapath holds (datapath/policy.h):
 * identities, the ipcache, and every endpoint's allowed (identity,
 * direction, protocol, port range) entries.  Pure: a function of the store
 * and of the identity numbers handed out before, which stay the same for
 * the same labels (or CIDR, or pod) from one apply to the next, so that a
 * pod's new address or new labels change the ipcache and only the rule
 * entries of identities that appear or go.
 *
 * Semantics (Kubernetes' NetworkPolicy):
 * - a policy selects the pods of its namespace its podSelector matches; a
 *   pod selected by some policy with Ingress (Egress) in its policyTypes
 *   takes only what one of those policies' rules allows that way;
 * - a rule allows its peers (none: every peer) on its ports (none: every
 *   port and protocol); a peer with podSelector only means pods of the
 *   policy's namespace, with namespaceSelector only every pod of the
 *   matching namespaces, with both the matching pods of the matching
 *   namespaces; a namespace's labels include kubernetes.io/metadata.name;
 * - ipBlock matches addresses in its cidr but in none of its excepts, pod
 *   addresses included;
 * - a named port is resolved against the destination pod: the endpoint's
 *   own ports for ingress; for egress, the ports of the pods holding the
 *   peer identity (every pod's, for ipBlock or all-peers rules);
 * - a CiliumNetworkPolicy's HTTP rules apply to requests to its ports of
 *   the pods (of its namespace) its endpointSelector selects, whoever
 *   sends them; several policies on one port are a union (at most
 *   POL_HTTP_RULES_PER_PORT rules, requiring at most
 *   POL_HTTP_HEADERS_PER_PORT distinct headers between them).
 */

/* Identity numbers handed out so far: kept by the agent from one apply to the next. */
struct k8s_id_table {
	char **keys;
	uint32_t *ids;
	size_t n;
	uint32_t next_labels, next_cidr, next_endpoint;
};

struct k8s_identity {
	uint32_t id;
	const char *key;                  /* the labels, canonical: "ns=shop,app=web,..." or a CIDR */
	bool is_cidr;
	struct k8s_cidr cidr;             /* is_cidr */
	const struct k8s_object *pod;     /* one pod with these labels (labels identities) */
	const struct k8s_object *ns;      /* its Namespace; NULL for a built-in one without object */
};

/* Why an entry exists: rule index of a policy's ingress or egress. */
struct k8s_rule_ref {
	const struct k8s_object *policy;
	bool egress;
	size_t index;
};

struct k8s_endpoint_policy {
	const struct k8s_object *pod;
	uint32_t endpoint;
	uint32_t identity;
	uint32_t flags;                   /* POL_EP_* */
	/* the policies selecting the pod, each way */
	const struct k8s_object **by[2];  /* [POL_INGRESS], [POL_EGRESS] */
	size_t n_by[2];
};

struct k8s_ipcache_entry {
	struct k8s_cidr prefix;
	struct pol_ipcache val;
};

struct k8s_rule_entry {
	struct pol_key key;
	struct pol_verdict val;
};

/* One HTTP rule of one pod's port, from a CiliumNetworkPolicy. */
struct k8s_http_entry {
	struct pol_http_key key;
	struct pol_http_rule rule;
	const struct k8s_object *policy;
	const struct k8s_http_rule *src;  /* the rule as the policy wrote it */
};

/* A pod's port with HTTP rules: where its rules are, the headers they require. */
struct k8s_http_port_entry {
	struct pol_http_key key;
	struct pol_http_range range;
};

struct k8s_policy {
	struct k8s_identity *ids;         /* sorted by id */
	size_t n_ids;
	struct k8s_endpoint_policy *eps;
	size_t n_eps;
	struct k8s_ipcache_entry *ipcache;
	size_t n_ipcache;
	struct k8s_rule_entry *rules;     /* sorted by key, unique */
	size_t n_rules;
	struct k8s_rule_ref *refs;        /* pol_verdict.rule indexes these */
	size_t n_refs;
	struct k8s_http_entry *http;      /* sorted by key: a port's rules together */
	size_t n_http;
	struct k8s_http_port_entry *http_ports; /* sorted by key, each port of http once */
	size_t n_http_ports;
};

int k8s_policy_build(const struct k8s_store *s, struct k8s_id_table *ids, struct k8s_policy *out,
		     struct sluice_error *err);
void k8s_policy_free(struct k8s_policy *p);
void k8s_id_table_free(struct k8s_id_table *t);

const struct k8s_identity *k8s_policy_identity(const struct k8s_policy *p, uint32_t id);
int k8s_rule_key_cmp(const struct pol_key *a, const struct pol_key *b);

/* One side's verdict on a new flow, found as the datapath finds it. */
struct k8s_side {
	const struct k8s_endpoint_policy *ep;  /* NULL: the address is no pod's */
	bool enforced;                     /* some policy selects the pod this way */
	bool allowed;
	uint32_t remote_identity, remote_cidr_identity;
	const struct k8s_rule_ref *rule;   /* the rule that allowed it, when enforced and allowed */
};

/* A new flow src -> dst:port/proto: the source pod's egress and the destination pod's ingress. */
void k8s_policy_check(const struct k8s_policy *p, const struct k8s_ip *src,
		      const struct k8s_ip *dst, uint8_t proto, uint16_t port,
		      struct k8s_side *egress, struct k8s_side *ingress);

/*
 * The aligned blocks covering [lo, hi]: *n prefix lengths (bits of the
 * port that are fixed) and starts, at most 32 of them.
 */
size_t k8s_port_blocks(uint16_t lo, uint16_t hi, uint16_t start[32], uint8_t bits[32]);

#endif
