/* SPDX-License-Identifier: MIT */
/*
 * NetworkPolicy's maps, shared by the datapath (policy_tc.h, in lb.o's TC
 * programs) and the agent that fills them (src/k8s/agent.c, from
 * src/k8s/policy.c's compilation): one layout, compiled twice.
 *
 * Identities, as Cilium has them: every distinct set of security-relevant
 * labels (a pod's labels, its namespace's name and labels) is a number, and
 * so is every CIDR named by an ipBlock.  pol_ipcache maps addresses to
 * identities by longest prefix: a pod's /32 or /128 gives its label
 * identity, the endpoint it is (policy lives per endpoint) and, for
 * ipBlock rules, the identity of the most specific ipBlock prefix holding
 * it; a CIDR's entry gives that CIDR's identity.  An address outside every
 * prefix is the world.  A block's `except` prefixes are entries of their
 * own, whose identities the block's rules do not select: the longest
 * match decides, as for Cilium's ipcache.
 *
 * pol_rules is one LPM trie for every endpoint's allowed traffic, keyed by
 * (endpoint, remote identity, direction, protocol, destination port) with
 * the prefix length covering the port's fixed bits: an endPort range is a
 * few aligned blocks, "any port" stops before the port, "any protocol"
 * before the protocol.  A rule with no peers is keyed by POL_ID_ANY.  A
 * packet is allowed when its endpoint does not enforce that direction, or
 * when any of its remote identity, remote CIDR identity or POL_ID_ANY has
 * an entry matching its protocol and port.
 *
 * pol_ct remembers allowed flows per hook (a pod's egress, a pod's
 * ingress), so that replies pass whatever the policy says and established
 * flows skip the rule lookups.  Each entry holds the policy revision it was
 * allowed under; the agent bumps the revision on every change, and a
 * forward packet of an entry from an older revision is checked again, so a
 * policy that no longer allows a flow stops it at its next packet.
 */
#ifndef SLUICE_DATAPATH_POLICY_H
#define SLUICE_DATAPATH_POLICY_H

#include <linux/types.h>

#define POL_IPCACHE_MAX 65536u
#define POL_RULES_MAX 1048576u
#define POL_CT_MAX 262144u

/* Reserved identities; label identities start at POL_ID_FIRST_LABELS, CIDR ones at POL_ID_FIRST_CIDR. */
#define POL_ID_ANY 0u          /* in pol_rules only: every peer */
#define POL_ID_WORLD 2u        /* an address no entry of pol_ipcache holds */
#define POL_ID_FIRST_LABELS 256u
#define POL_ID_FIRST_CIDR (1u << 24)

/* struct pol_ipcache.flags: directions in which some policy selects the pod */
#define POL_EP_INGRESS 0x1
#define POL_EP_EGRESS 0x2
#define POL_EP_HTTP 0x4        /* some port of the pod has HTTP rules (pol_http_ports) */

/* struct pol_key.direction, struct pol_ct_key.hook */
#define POL_INGRESS 0
#define POL_EGRESS 1

struct pol_ipcache_key {
	__u32 prefixlen;       /* 32 (family and pad) + the address prefix's length */
	__u8 family;           /* AF_INET, AF_INET6 */
	__u8 pad[3];
	__be32 addr[4];
};

struct pol_ipcache {
	__u32 identity;        /* labels (a pod) or the CIDR's */
	__u32 cidr_identity;   /* the most specific ipBlock prefix's; POL_ID_WORLD when none */
	__u32 endpoint;        /* a pod's endpoint id; 0 for a CIDR */
	__u32 flags;           /* POL_EP_* */
};

#define POL_KEY_PREFIX_PROTO 72u /* endpoint, identity, direction: every protocol */
#define POL_KEY_PREFIX_PORT 80u  /* and the protocol: every port */
#define POL_KEY_PREFIX_FULL 96u

struct pol_key {
	__u32 prefixlen;
	__u32 endpoint;
	__u32 identity;
	__u8 direction;        /* POL_INGRESS, POL_EGRESS */
	__u8 proto;
	__be16 port;
};

/* Which rule allowed: an index into the agent's list of rules (for `sluice k8s why`). */
struct pol_verdict {
	__u32 rule;
	__u32 pad;
};

struct pol_ct_key {
	__be32 saddr[4];
	__be32 daddr[4];
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 family;
	__u8 hook;             /* POL_INGRESS (at the destination), POL_EGRESS (at the source) */
	__u8 pad;
};

struct pol_ct_entry {
	__u64 last_seen;       /* bpf_ktime_get_ns() */
	__u32 revision;        /* of the policy the flow was allowed under */
	__u32 pad;
};

/*
 * HTTP rules (CiliumNetworkPolicy's toPorts[].rules.http[]): requests to
 * (endpoint, TCP port) must match one of the count rules of pol_http_rules
 * from first on.  See policy_tc.h for what is parsed.
 */
#define POL_HTTP_PORTS_MAX 4096u
#define POL_HTTP_RULES_MAX 16384u
#define POL_HTTP_RULES_PER_PORT 16u
#define POL_HTTP_METHOD_MAX 8u
#define POL_HTTP_PATH_MAX 64u
/* the bytes of a segment the datapath reads: the whole request must fit */
#define POL_HTTP_WINDOW 256u
#define POL_HTTP_HEADERS_PER_PORT 8u
#define POL_HTTP_HEADER_NAME_MAX 32u
#define POL_HTTP_HEADER_VALUE_MAX 64u

struct pol_http_key {
	__u32 endpoint;
	__be16 port;
	__u16 pad;
};

/*
 * A header some rule of a port requires (rules.http[].headers): present
 * with any value, or with exactly value on every line that has the name.
 */
struct pol_http_header {
	char name[POL_HTTP_HEADER_NAME_MAX];   /* in lowercase: names are case-insensitive */
	char value[POL_HTTP_HEADER_VALUE_MAX];
	__u8 name_len;
	__u8 value_len;
	__u8 has_value;
	__u8 pad;
};

struct pol_http_range {
	__u32 first;
	__u32 count;
	__u32 n_headers;
	__u32 pad;
	/* the distinct headers the port's rules require; pol_http_rule.headers has a bit each */
	struct pol_http_header headers[POL_HTTP_HEADERS_PER_PORT];
};

struct pol_http_rule {
	char method[POL_HTTP_METHOD_MAX]; /* "" for any */
	char path[POL_HTTP_PATH_MAX];
	__u8 method_len;
	__u8 path_len;
	__u8 prefix;                      /* path is a prefix, else the whole path */
	__u8 pad;
	__u32 headers;                    /* bit i: the range's headers[i] is required */
};

struct pol_config {
	__u32 revision;
	__u32 pad;
};

/* Per CPU counters (pol_counters), the agent sums them. */
enum pol_counter {
	POL_ALLOWED_NEW,       /* a new flow the policy allowed (or did not police) */
	POL_ALLOWED_REPLY,     /* a reply of an allowed flow */
	POL_DENIED_INGRESS,    /* dropped: no rule of the destination pod allows it */
	POL_DENIED_EGRESS,     /* dropped: no rule of the source pod allows it */
	POL_DENIED_FRAGMENT,   /* dropped: an IPv4 fragment to or from a policed pod (no ports to check) */
	POL_DENIED_HTTP,       /* reset: a request no HTTP rule allows, or none the datapath could read */
	POL_COUNTERS
};

#endif
