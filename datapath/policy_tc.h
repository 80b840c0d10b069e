/* SPDX-License-Identifier: MIT */
/*
 * NetworkPolicy enforcement in the TC programs of lb.c (maps and rules in
 * policy.h).  lb_from_pod calls policy_egress on what leaves a pod, after
 * the service DNAT (the destination is the backend pod); lb_to_pod calls
 * policy_ingress on what enters one.  Included by lb.c only.
 */
#ifndef SLUICE_DATAPATH_POLICY_TC_H
#define SLUICE_DATAPATH_POLICY_TC_H

#include "policy.h"

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, POL_IPCACHE_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct pol_ipcache_key);
	__type(value, struct pol_ipcache);
} pol_ipcache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, POL_RULES_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct pol_key);
	__type(value, struct pol_verdict);
} pol_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, POL_CT_MAX);
	__type(key, struct pol_ct_key);
	__type(value, struct pol_ct_entry);
} pol_ct SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pol_config);
} pol_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, POL_COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} pol_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, POL_HTTP_PORTS_MAX);
	__type(key, struct pol_http_key);
	__type(value, struct pol_http_range);
} pol_http_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, POL_HTTP_RULES_MAX);
	__type(key, __u32);
	__type(value, struct pol_http_rule);
} pol_http_rules SEC(".maps");

/* The segment being read (too large for the stack beside everything else). */
struct pol_http_window {
	__u8 b[POL_HTTP_WINDOW];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pol_http_window);
} pol_http_scratch SEC(".maps");

static __always_inline void pol_count(enum pol_counter c)
{
	__u32 key = c;
	__u64 *n = bpf_map_lookup_elem(&pol_counters, &key);

	if (n)
		++*n;
}

static __always_inline const struct pol_ipcache *pol_lookup_ip(__u8 family, const __be32 *addr)
{
	struct pol_ipcache_key k = { .prefixlen = 32 + (family == AF_INET ? 32 : 128),
				     .family = family };

	__builtin_memcpy(k.addr, addr, sizeof(k.addr));
	return bpf_map_lookup_elem(&pol_ipcache, &k);
}

/* Whether a rule of endpoint ep allows identity id this way on proto/port. */
static __always_inline int pol_rule_allows(__u32 ep, __u32 id, __u8 direction, __u8 proto,
					   __be16 port)
{
	struct pol_key k = { .prefixlen = POL_KEY_PREFIX_FULL, .endpoint = ep, .identity = id,
			     .direction = direction, .proto = proto, .port = port };

	return bpf_map_lookup_elem(&pol_rules, &k) != NULL;
}

/*
 * The verdict on a new flow (t, as it travels) at endpoint ep's hook
 * (direction): the remote's identities are looked up by its address.
 */
static __always_inline int pol_allows(__u32 ep, __u8 direction, const struct lb_ct_key *t)
{
	const __be32 *remote = direction == POL_EGRESS ? t->daddr : t->saddr;
	const struct pol_ipcache *r = pol_lookup_ip(t->family, remote);
	__u32 id = r ? r->identity : POL_ID_WORLD;
	__u32 cidr_id = r ? r->cidr_identity : POL_ID_WORLD;

	return pol_rule_allows(ep, id, direction, t->proto, t->dport) ||
	       (cidr_id != id && pol_rule_allows(ep, cidr_id, direction, t->proto, t->dport)) ||
	       pol_rule_allows(ep, POL_ID_ANY, direction, t->proto, t->dport);
}

/* Whether an entry last seen then is still alive (an entry written on another CPU may look newer). */
static __always_inline int pol_alive(const struct pol_ct_entry *e, __u64 now, __u64 lifetime)
{
	return now <= e->last_seen || now - e->last_seen < lifetime;
}

static __always_inline void pol_ct_key_of(struct pol_ct_key *k, const struct lb_ct_key *t,
					  __u8 hook, int reversed)
{
	__builtin_memset(k, 0, sizeof(*k));
	__builtin_memcpy(k->saddr, reversed ? t->daddr : t->saddr, sizeof(k->saddr));
	__builtin_memcpy(k->daddr, reversed ? t->saddr : t->daddr, sizeof(k->daddr));
	k->sport = reversed ? t->dport : t->sport;
	k->dport = reversed ? t->sport : t->dport;
	k->proto = t->proto;
	k->family = t->family;
	k->hook = hook;
}

static __always_inline void pol_ct_remember(const struct lb_ct_key *t, __u8 hook, __u32 revision,
					    __u64 now)
{
	struct pol_ct_key k;
	struct pol_ct_entry e = { .last_seen = now, .revision = revision };

	pol_ct_key_of(&k, t, hook, 0);
	bpf_map_update_elem(&pol_ct, &k, &e, BPF_ANY);
}

static __always_inline __u32 pol_revision(void)
{
	__u32 zero = 0;
	const struct pol_config *c = bpf_map_lookup_elem(&pol_config, &zero);

	return c ? c->revision : 0;
}

/*
 * The verdict at endpoint info's hook on packet t: TC_ACT_OK or
 * TC_ACT_SHOT.  Replies of flows this hook allowed pass; a forward packet
 * of a flow allowed under an older revision is checked again.  also, when
 * not NULL, is the flow as the pod addressed it before the service DNAT:
 * the replies come back from that address.  *reply tells a reply.
 */
static __always_inline int pol_enforce(const struct lb_config *cfg,
				       const struct pol_ipcache *info, __u8 hook,
				       const struct lb_ct_key *t, const struct lb_ct_key *also,
				       int *reply)
{
	__u32 revision = pol_revision();
	__u64 now = bpf_ktime_get_ns();
	__u64 lifetime = (t->proto == IPPROTO_TCP ? cfg->tcp_established : cfg->udp) *
			 LB_NSEC_PER_SEC;
	struct pol_ct_entry *e;
	struct pol_ct_key k;

	pol_ct_key_of(&k, t, hook == POL_INGRESS ? POL_EGRESS : POL_INGRESS, 1);
	/* a reply: the flow went the other way through this endpoint's other hook */
	e = bpf_map_lookup_elem(&pol_ct, &k);
	if (e && pol_alive(e, now, lifetime)) {
		e->last_seen = now;
		pol_count(POL_ALLOWED_REPLY);
		*reply = 1;
		return TC_ACT_OK;
	}
	pol_ct_key_of(&k, t, hook, 0);
	e = bpf_map_lookup_elem(&pol_ct, &k);
	if (e && e->revision == revision && pol_alive(e, now, lifetime)) {
		e->last_seen = now;
		return TC_ACT_OK;
	}
	if ((info->flags & (hook == POL_INGRESS ? POL_EP_INGRESS : POL_EP_EGRESS)) &&
	    !pol_allows(info->endpoint, hook, t)) {
		if (e)
			bpf_map_delete_elem(&pol_ct, &k);
		pol_count(hook == POL_INGRESS ? POL_DENIED_INGRESS : POL_DENIED_EGRESS);
		return TC_ACT_SHOT;
	}
	pol_ct_remember(t, hook, revision, now);
	if (also)
		pol_ct_remember(also, hook, revision, now);
	pol_count(POL_ALLOWED_NEW);
	return TC_ACT_OK;
}

/* What leaves a pod (t after the DNAT; before: as sent, or NULL when no DNAT). */
static __always_inline int policy_egress(const struct lb_config *cfg, const struct lb_ct_key *t,
					 const struct lb_ct_key *before)
{
	const struct pol_ipcache *info = pol_lookup_ip(t->family, t->saddr);
	int reply;

	/*
	 * Pods no policy selects are tracked too: a policy that selects one
	 * later must still see its open flows' replies as replies.
	 */
	if (!info || !info->endpoint)
		return TC_ACT_OK;
	return pol_enforce(cfg, info, POL_EGRESS, t, before, &reply);
}

/*
 * HTTP rules, on every TCP segment with data from a client to a port of a
 * pod that has them.  Parsed: the segment must hold exactly one whole
 * request head and nothing else, at most POL_HTTP_WINDOW bytes: a request
 * line "METHOD SP PATH SP HTTP/1.x CRLF" (METHOD capitals, at most 8; PATH
 * from '/', printable ASCII without spaces), then header lines, which are
 * not read, up to the first empty line, which must end the segment.
 * Everything else (a request split over segments, a body, pipelined
 * requests, HTTP/2, an oversized head) is refused: fail closed.  A refused
 * request resets the connection both ways.
 */
/*
 * The request head is read by one pass of a state machine, a byte a step
 * under bpf_loop, so that the verifier checks one step instead of every
 * way the loops could nest.
 */
enum http_state { HTTP_METHOD, HTTP_PATH_START, HTTP_PATH, HTTP_VERSION, HTTP_HEADERS,
		  HTTP_DONE, HTTP_BAD };

struct http_scan {
	const __u8 *buf;
	__u32 len;
	__u32 state;
	__u32 method_len;
	__u32 path_off;
	__u32 path_len;
	__u32 version_at;  /* bytes of " HTTP/1.x\r\n" after the path seen */
	__u32 tail;        /* the last four bytes, for the empty line */
};

/*
 * Byte i of the window.  The mask is done in asm: clang drops a mask it can
 * prove useless and indexes with a register the verifier has no bound for.
 */
static __always_inline __u8 http_at(const __u8 *buf, __u64 i)
{
	asm volatile("%0 &= 0xff" : "+r"(i));
	return buf[i];
}

_Static_assert(POL_HTTP_WINDOW == 0x100, "http_at's mask is the window's size");

/* Byte i of "HTTP/1." (a constant, not a string: libbpf 1.1 takes no string sections). */
static __always_inline __u8 http_version_byte(__u32 i)
{
	return (__u8)(0x485454502f312eull >> (8 * (6 - (i & 7))));
}

static long http_step(__u32 i, void *arg)
{
	struct http_scan *s = arg;
	__u8 c;

	if (i >= s->len || i >= POL_HTTP_WINDOW)
		return 1;
	c = http_at(s->buf, i);
	s->tail = (s->tail << 8) | c;
	switch (s->state) {
	case HTTP_METHOD:
		if (c == ' ' && i > 0 && i <= POL_HTTP_METHOD_MAX) {
			s->method_len = i;
			s->state = HTTP_PATH_START;
		} else if (c < 'A' || c > 'Z') {
			s->state = HTTP_BAD;
		}
		break;
	case HTTP_PATH_START:
		s->path_off = i;
		s->state = c == '/' ? HTTP_PATH : HTTP_BAD;
		break;
	case HTTP_PATH:
		if (c == ' ') {
			s->path_len = i - s->path_off;
			s->state = HTTP_VERSION;
		} else if (c < '!' || c > '~') {
			s->state = HTTP_BAD;
		}
		break;
	case HTTP_VERSION:
		/* "HTTP/1." then a digit, then CRLF */
		if ((s->version_at < 7 && c != http_version_byte(s->version_at)) ||
		    (s->version_at == 7 && (c < '0' || c > '9')) ||
		    (s->version_at == 8 && c != '\r') || (s->version_at == 9 && c != '\n'))
			s->state = HTTP_BAD;
		else if (++s->version_at == 10)
			s->state = HTTP_HEADERS;
		break;
	case HTTP_HEADERS:
		if (s->tail == 0x0d0a0d0a) /* an empty line: the head's end */
			s->state = HTTP_DONE;
		break;
	default: /* anything after the head, or after an error */
		s->state = HTTP_BAD;
		break;
	}
	return s->state == HTTP_BAD;
}

struct http_match {
	const __u8 *buf;
	const struct http_scan *req;
	__u32 first;
	__u32 count;
	__u32 allowed;
};

static long http_try_rule(__u32 k, void *arg)
{
	struct http_match *m = arg;
	__u32 idx = m->first + k;
	const struct pol_http_rule *rule;
	const struct http_scan *r = m->req;

	if (k >= m->count)
		return 1;
	rule = bpf_map_lookup_elem(&pol_http_rules, &idx);
	if (!rule)
		return 1;
	if (rule->method_len) {
		if (rule->method_len != r->method_len)
			return 0;
		for (__u32 i = 0; i < POL_HTTP_METHOD_MAX; i++)
			if (i < rule->method_len && http_at(m->buf, i) != (__u8)rule->method[i])
				return 0;
	}
	if (rule->prefix ? r->path_len < rule->path_len : r->path_len != rule->path_len)
		return 0;
	for (__u32 i = 0; i < POL_HTTP_PATH_MAX; i++)
		if (i < rule->path_len && http_at(m->buf, r->path_off + i) != (__u8)rule->path[i])
			return 0;
	m->allowed = 1;
	return 1;
}

/* Whether buf[0..len) is one whole request head that one of range's rules allows. */
static __always_inline int http_allowed(const struct pol_http_range *range, const __u8 *buf,
					__u32 len)
{
	struct http_scan scan = { .buf = buf, .len = len };
	struct http_match match = { .buf = buf, .req = &scan, .first = range->first,
				    .count = range->count };

	bpf_loop(POL_HTTP_WINDOW, http_step, &scan, 0);
	if (scan.state != HTTP_DONE)
		return 0;
	bpf_loop(POL_HTTP_RULES_PER_PORT, http_try_rule, &match, 0);
	return match.allowed;
}

static __always_inline __u16 csum_fold(__s64 sum)
{
	__u64 s = (__u64)sum;

	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

struct pseudo4 {
	__be32 saddr, daddr;
	__u8 zero, proto;
	__be16 len;
};

/*
 * Write a bare RST over the (trimmed) segment: to_client, from the server
 * to the client, acknowledging the refused request; else the segment
 * itself as a RST to the server, at the sequence number it expects.
 */
static __always_inline int write_rst(struct __sk_buff *skb, const struct ethhdr *eth0,
				     const struct iphdr *ip0, const struct tcphdr *th0,
				     __u32 payload_len, int to_client)
{
	struct ethhdr eth = *eth0;
	struct iphdr ip = *ip0;
	struct tcphdr th = { 0 };
	struct pseudo4 ph = { 0 };
	__s64 sum;

	th.source = th0->source;
	th.dest = th0->dest;
	th.seq = th0->seq;
	th.ack_seq = th0->ack_seq;
	if (to_client) {
		__builtin_memcpy(eth.h_dest, eth0->h_source, ETH_ALEN);
		__builtin_memcpy(eth.h_source, eth0->h_dest, ETH_ALEN);
		ip.saddr = ip0->daddr;
		ip.daddr = ip0->saddr;
		th.source = th0->dest;
		th.dest = th0->source;
		th.seq = th0->ack_seq;
		th.ack_seq = bpf_htonl(bpf_ntohl(th0->seq) + payload_len);
	}
	((__u8 *)&th)[12] = 5 << 4;                /* no options */
	((__u8 *)&th)[13] = LB_TCP_RST | LB_TCP_ACK;
	ip.tot_len = bpf_htons(sizeof(ip) + sizeof(th));
	ip.ttl = 64;
	ip.check = 0;
	sum = bpf_csum_diff(NULL, 0, (__be32 *)&ip, sizeof(ip), 0);
	if (sum < 0)
		return -1;
	ip.check = csum_fold(sum);
	ph.saddr = ip.saddr;
	ph.daddr = ip.daddr;
	ph.proto = IPPROTO_TCP;
	ph.len = bpf_htons(sizeof(th));
	sum = bpf_csum_diff(NULL, 0, (__be32 *)&ph, sizeof(ph), 0);
	if (sum >= 0)
		sum = bpf_csum_diff(NULL, 0, (__be32 *)&th, sizeof(th), (__u32)sum);
	if (sum < 0)
		return -1;
	th.check = csum_fold(sum);
	return bpf_skb_store_bytes(skb, 0, &eth, sizeof(eth), 0) ||
	       bpf_skb_store_bytes(skb, ETH_HLEN, &ip, sizeof(ip), 0) ||
	       bpf_skb_store_bytes(skb, ETH_HLEN + sizeof(ip), &th, sizeof(th), 0);
}

/*
 * A refused request: IPv4 without options gets a RST both ways (the one to
 * the client goes in at the pod's own veth, as if the server had sent it,
 * so the load balancer's reverse NAT applies); anything else is dropped.
 */
static __always_inline int http_reset(struct __sk_buff *skb, __u32 payload_len)
{
	struct ethhdr eth;
	struct iphdr ip;
	struct tcphdr th;

	pol_count(POL_DENIED_HTTP);
	if (bpf_skb_load_bytes(skb, 0, &eth, sizeof(eth)) || eth.h_proto != bpf_htons(ETH_P_IP) ||
	    bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)) || ip.ihl != 5 ||
	    bpf_skb_load_bytes(skb, ETH_HLEN + sizeof(ip), &th, sizeof(th)) ||
	    bpf_skb_change_tail(skb, ETH_HLEN + sizeof(ip) + sizeof(th), 0) ||
	    write_rst(skb, &eth, &ip, &th, payload_len, 1))
		return TC_ACT_SHOT;
	bpf_clone_redirect(skb, skb->ifindex, BPF_F_INGRESS);
	return write_rst(skb, &eth, &ip, &th, payload_len, 0) ? TC_ACT_SHOT : TC_ACT_OK;
}

/* A client's TCP segment t (its header at l4_off; 0: where no reset can be made) to endpoint ep. */
static __always_inline int policy_http(struct __sk_buff *skb, __u32 ep, const struct lb_ct_key *t,
				       __u32 l4_off)
{
	struct pol_http_key key = { .endpoint = ep, .port = t->dport };
	const struct pol_http_range *range = bpf_map_lookup_elem(&pol_http_ports, &key);
	struct pol_http_window *w;
	__u32 zero = 0, off;
	__u64 len;
	__u8 doff;

	if (!range)
		return TC_ACT_OK;
	if (!l4_off || bpf_skb_load_bytes(skb, l4_off + 12, &doff, 1)) {
		pol_count(POL_DENIED_HTTP);
		return TC_ACT_SHOT;
	}
	off = l4_off + (doff >> 4) * 4;
	if (skb->len <= off)
		return TC_ACT_OK; /* no data: the handshake, acknowledgements */
	len = skb->len - off;
	/*
	 * The verifier must see the bound on the very register the helper
	 * gets; clang would otherwise check a 32-bit copy and pass the 64-bit one.
	 */
	asm volatile("%0 &= 0xffff" : "+r"(len));
	w = bpf_map_lookup_elem(&pol_http_scratch, &zero);
	if (!w || !len || len > POL_HTTP_WINDOW)
		return http_reset(skb, (__u32)len);
	if (bpf_skb_load_bytes(skb, off, w->b, len) || !http_allowed(range, w->b, (__u32)len))
		return http_reset(skb, (__u32)len);
	return TC_ACT_OK;
}

/*
 * What enters a pod (t; its TCP/UDP header at l4_off): the pod's ingress
 * rules, then, on a client's segment to a port with HTTP rules, those.
 */
static __always_inline int policy_ingress(struct __sk_buff *skb, const struct lb_config *cfg,
					  const struct lb_ct_key *t, __u32 l4_off)
{
	const struct pol_ipcache *info = pol_lookup_ip(t->family, t->daddr);
	int reply = 0, ret;

	if (!info || !info->endpoint)
		return TC_ACT_OK;
	ret = pol_enforce(cfg, info, POL_INGRESS, t, NULL, &reply);
	if (ret != TC_ACT_OK || reply || !(info->flags & POL_EP_HTTP) || t->proto != IPPROTO_TCP)
		return ret;
	return policy_http(skb, info->endpoint, t, l4_off);
}


/*
 * An IPv4 fragment (which parse() leaves alone: only the first carries the
 * ports) to or from a policed pod: dropped, since no port can be checked.
 */
static __always_inline int policy_fragment(struct __sk_buff *skb, int egress)
{
	struct iphdr ip;
	__be16 h_proto;
	const struct pol_ipcache *info;
	__be32 addr[4] = { 0 };

	if (bpf_skb_load_bytes(skb, offsetof(struct ethhdr, h_proto), &h_proto, sizeof(h_proto)) ||
	    h_proto != bpf_htons(ETH_P_IP) || bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)) ||
	    !(ip.frag_off & bpf_htons(0x3fff)))
		return TC_ACT_OK;
	addr[0] = egress ? ip.saddr : ip.daddr;
	info = pol_lookup_ip(AF_INET, addr);
	if (!info || !(info->flags & (egress ? POL_EP_EGRESS : POL_EP_INGRESS)))
		return TC_ACT_OK;
	pol_count(POL_DENIED_FRAGMENT);
	return TC_ACT_SHOT;
}

#endif
