/* SPDX-License-Identifier: MIT */
/*
 * NetworkPolicy enforcement in the TC programs of lb.c (maps and rules in
 * policy.h).  lb_from_pod calls policy_egress on what leaves a pod, after
 * the service DNAT (the destination is the backend pod); lb_to_pod calls
 * policy_ingress on what enters one.  Both hand what their parser leaves
 * alone to policy_unparsed: IPv4 fragments; SCTP, judged here by its
 * ports; ICMP and ICMPv6 (policy_icmp).  Included by lb.c only.
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
	/* a range holds its port's headers: only the ports in use take memory */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct pol_http_key);
	__type(value, struct pol_http_range);
} pol_http_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, POL_HTTP_RULES_MAX);
	__type(key, __u32);
	__type(value, struct pol_http_rule);
} pol_http_rules SEC(".maps");

/*
 * What the HTTP parser (http_step, http_header_step) learns of a request
 * and where it stands.  It lives in the map value beside the segment, not
 * on the stack: the verifier knows nothing of a map value's words, so it
 * checks each step once, where on the stack it would follow every position
 * and state through the loop's iterations (several times the instructions).
 */
struct http_req {
	__u32 state;       /* enum http_state */
	__u32 method_len;
	__u32 path_off;
	__u32 path_len;
	__u32 version_at;  /* bytes of " HTTP/1.x\r\n" after the path seen */
	__u32 head_off;    /* where the header lines start */
	/* the header pass, one required header at a time */
	__u32 hdr_state;   /* enum http_hdr_state */
	__u32 hdr_pos;     /* bytes of the name, or of the value, matched */
	__u32 seen;        /* bit i: a line had range->headers[i] */
	__u32 mismatched;  /* bit i: a line had its name with another value */
};

/* The segment being read (too large for the stack beside everything else). */
struct pol_http_window {
	__u8 b[POL_HTTP_WINDOW];
	struct http_req req;
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
 * the replies come back from that address.  *reply tells a reply.  self:
 * the pod reaches itself, which no policy judges (but conntrack notes, for
 * the replies).
 */
static __always_inline int pol_enforce(const struct lb_config *cfg,
				       const struct pol_ipcache *info, __u8 hook,
				       const struct lb_ct_key *t, const struct lb_ct_key *also,
				       int self, int *reply)
{
	__u32 revision = pol_revision();
	__u64 now = bpf_ktime_get_ns();
	/* SCTP associations live as long as TCP connections, echo exchanges as UDP flows */
	__u64 lifetime = (t->proto == IPPROTO_TCP || t->proto == IPPROTO_SCTP ?
			  cfg->tcp_established : cfg->udp) * LB_NSEC_PER_SEC;
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
	if (!self && (info->flags & (hook == POL_INGRESS ? POL_EP_INGRESS : POL_EP_EGRESS)) &&
	    !pol_allows(info->endpoint, hook, t)) {
		if (e)
			bpf_map_delete_elem(&pol_ct, &k);
		pol_count(hook == POL_INGRESS ? POL_DENIED_INGRESS : POL_DENIED_EGRESS);
		flow_drop(t, also, FLOW_DROP_POLICY_DENIED, hook == POL_EGRESS);
		return TC_ACT_SHOT;
	}
	pol_ct_remember(t, hook, revision, now);
	if (also)
		pol_ct_remember(also, hook, revision, now);
	/*
	 * A flow through no service, new (not one re-judged after a policy
	 * change): reported where it leaves its pod, once.  lb.c reports
	 * service flows from its own conntrack.
	 */
	else if (hook == POL_EGRESS && (!e || !pol_alive(e, now, lifetime)))
		flow_emit(t, NULL, FLOW_WHAT(FLOW_EV_NEW, 0, 0, 1, 0, 0), NULL);
	pol_count(POL_ALLOWED_NEW);
	return TC_ACT_OK;
}

/*
 * What leaves a pod (t after the DNAT; before: as sent, or NULL when no
 * DNAT).  A pod whose service sent it back to itself (hairpin) is not judged.
 */
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
	return pol_enforce(cfg, info, POL_EGRESS, t, before, same_addr(t->saddr, t->daddr),
			   &reply);
}

/*
 * HTTP rules, on every TCP segment with data from a client to a port of a
 * pod that has them.  Parsed: the segment must hold exactly one whole
 * request head and nothing else, at most POL_HTTP_WINDOW bytes: a request
 * line "METHOD SP PATH SP HTTP/1.x CRLF" (METHOD capitals, at most 8; PATH
 * from '/', printable ASCII without spaces), then header lines ending in
 * CRLF up to the first empty line, which must end the segment.  A header
 * line that continues the one before (obs-fold) or a CR or LF alone is
 * refused: a server could read such a head otherwise than this parser.
 * Everything else (a request split over segments, a body, pipelined
 * requests, HTTP/2, an oversized head) is refused: fail closed.  A refused
 * request resets the connection both ways.
 */
/*
 * The request head is read by one pass of a state machine, a byte a step
 * under bpf_loop, so that the verifier checks one step instead of every
 * way the loops could nest.
 */
enum http_state { HTTP_METHOD, HTTP_PATH_START, HTTP_PATH, HTTP_VERSION, HTTP_LINE_START,
		  HTTP_FIELD, HTTP_FIELD_LF, HTTP_END_LF, HTTP_DONE, HTTP_BAD };

/* Where a header line stands against one required header (struct pol_http_header). */
enum http_hdr_state {
	HDR_NAME,      /* the name matches so far */
	HDR_VALUE,     /* name and ':' matched; value[0..pos) too (leading blanks skipped) */
	HDR_TRAIL,     /* the whole value matched, then blanks */
	HDR_PRESENT,   /* name and ':' matched, any value will do */
	HDR_OTHER,     /* another header's line */
	HDR_MISMATCH,  /* this header, another value */
};

/* The loops' context, on the stack as bpf_loop wants it: what does not change. */
struct http_scan {
	const __u8 *buf;
	const struct pol_http_range *range;
	struct http_req *req;
	__u32 len;
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
	const struct http_scan *scan = arg;
	struct http_req *s = scan->req;
	__u8 c;

	if (i >= scan->len || i >= POL_HTTP_WINDOW)
		return 1;
	c = http_at(scan->buf, i);
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
		    (s->version_at == 8 && c != '\r') || (s->version_at == 9 && c != '\n')) {
			s->state = HTTP_BAD;
		} else if (++s->version_at == 10) {
			s->head_off = i + 1;
			s->state = HTTP_LINE_START;
		}
		break;
	case HTTP_LINE_START:
		s->state = c == '\r' ? HTTP_END_LF :
			   c == ' ' || c == '\t' || c == '\n' ? HTTP_BAD : HTTP_FIELD;
		break;
	case HTTP_FIELD:
		if (c == '\r')
			s->state = HTTP_FIELD_LF;
		else if (c == '\n')
			s->state = HTTP_BAD;
		break;
	case HTTP_FIELD_LF:
		s->state = c == '\n' ? HTTP_LINE_START : HTTP_BAD;
		break;
	case HTTP_END_LF:
		s->state = c == '\n' ? HTTP_DONE : HTTP_BAD;
		break;
	default: /* anything after the head, or after an error */
		s->state = HTTP_BAD;
		break;
	}
	return s->state == HTTP_BAD;
}

static __always_inline int http_blank(__u8 c)
{
	return c == ' ' || c == '\t';
}

/*
 * The header pass, over a head http_step accepted: step i reads byte
 * i % POL_HTTP_WINDOW against required header i / POL_HTTP_WINDOW, so one
 * bpf_loop covers every (header, byte) pair with one small step.
 */
static long http_header_step(__u32 i, void *arg)
{
	const struct http_scan *s = arg;
	struct http_req *p = s->req;
	__u32 j = i / POL_HTTP_WINDOW, k = i % POL_HTTP_WINDOW, bit = 1u << (j & 31);
	const struct pol_http_header *h;
	__u8 c;

	if (j >= s->range->n_headers || j >= POL_HTTP_HEADERS_PER_PORT)
		return 1;
	if (k < p->head_off || k >= s->len) {
		p->hdr_state = HDR_NAME;
		p->hdr_pos = 0;
		return 0;
	}
	h = &s->range->headers[j];
	c = http_at(s->buf, k);
	if (c == '\n') {
		p->hdr_state = HDR_NAME;
		p->hdr_pos = 0;
		return 0;
	}
	if (c == '\r') {
		if (p->hdr_state == HDR_PRESENT || p->hdr_state == HDR_TRAIL ||
		    (p->hdr_state == HDR_VALUE && p->hdr_pos == h->value_len))
			p->seen |= bit;
		else if (p->hdr_state == HDR_VALUE || p->hdr_state == HDR_MISMATCH)
			p->mismatched |= bit;
		p->hdr_state = HDR_OTHER;
		return 0;
	}
	switch (p->hdr_state) {
	case HDR_NAME:
		if (c == ':' && p->hdr_pos == h->name_len) {
			p->hdr_state = h->has_value ? HDR_VALUE : HDR_PRESENT;
			p->hdr_pos = 0;
		} else if (p->hdr_pos < h->name_len &&
			   (c >= 'A' && c <= 'Z' ? c | 0x20 : c) ==
			   (__u8)h->name[p->hdr_pos & (POL_HTTP_HEADER_NAME_MAX - 1)]) {
			p->hdr_pos++;
		} else {
			p->hdr_state = HDR_OTHER;
		}
		break;
	case HDR_VALUE:
		if (p->hdr_pos == 0 && http_blank(c))
			break;
		if (p->hdr_pos < h->value_len &&
		    c == (__u8)h->value[p->hdr_pos & (POL_HTTP_HEADER_VALUE_MAX - 1)])
			p->hdr_pos++;
		else
			p->hdr_state = p->hdr_pos == h->value_len && http_blank(c) ? HDR_TRAIL :
				       HDR_MISMATCH;
		break;
	case HDR_TRAIL:
		if (!http_blank(c))
			p->hdr_state = HDR_MISMATCH;
		break;
	}
	return 0;
}

_Static_assert(POL_HTTP_HEADERS_PER_PORT <= 32, "pol_http_rule.headers has a bit a header");
_Static_assert((POL_HTTP_HEADER_NAME_MAX & (POL_HTTP_HEADER_NAME_MAX - 1)) == 0 &&
	       (POL_HTTP_HEADER_VALUE_MAX & (POL_HTTP_HEADER_VALUE_MAX - 1)) == 0,
	       "header bytes are indexed under a mask");

struct http_match {
	const __u8 *buf;
	const struct http_req *req;
	__u32 first;
	__u32 count;
	__u32 allowed;
};

/*
 * A word read in place: a copy would take stack, and a callback's frame
 * counts against lb_to_pod's, which is nearly full.
 */
typedef __u64 __attribute__((may_alias)) http_word_t;

static __always_inline __u64 word_at(const void *p)
{
	return *(const http_word_t *)p;
}

/*
 * Bytes [off, off + 8) of the window as one word (the map value goes on
 * after the window, so the word's end never leaves it): rules compare
 * eight bytes a step, so the verifier walks eight times fewer steps.
 */
static __always_inline __u64 http_word(const __u8 *buf, __u64 off)
{
	asm volatile("%0 &= 0xff" : "+r"(off));
	return word_at(buf + off);
}

_Static_assert(sizeof(struct http_req) >= sizeof(__u64) - 1,
	       "a word read at the window's last byte stays in the map value");

/* Whether the n bytes (at most 8) of a and b at the same place are equal (little-endian words). */
static __always_inline int http_same(__u64 a, __u64 b, __u32 n)
{
	return !((a ^ b) & (n >= 8 ? ~0ull : (1ull << (n * 8)) - 1));
}

static long http_try_rule(__u32 k, void *arg)
{
	struct http_match *m = arg;
	__u32 idx = m->first + k;
	const struct pol_http_rule *rule;
	const struct http_req *r = m->req;

	if (k >= m->count)
		return 1;
	rule = bpf_map_lookup_elem(&pol_http_rules, &idx);
	if (!rule)
		return 1;
	if (rule->method_len &&
	    (rule->method_len != r->method_len ||
	     !http_same(http_word(m->buf, 0), word_at(rule->method), rule->method_len)))
		return 0;
	if (rule->prefix ? r->path_len < rule->path_len : r->path_len != rule->path_len)
		return 0;
	for (__u32 i = 0; i < POL_HTTP_PATH_MAX; i += sizeof(__u64))
		if (i < rule->path_len &&
		    !http_same(http_word(m->buf, r->path_off + i),
			       word_at(rule->path + i), rule->path_len - i))
			return 0;
	if (rule->headers & ~(r->seen & ~r->mismatched))
		return 0;
	m->allowed = 1;
	return 1;
}

/* Whether w->b[0..len) is one whole request head that one of range's rules allows. */
static __always_inline int http_allowed(const struct pol_http_range *range,
					struct pol_http_window *w, __u32 len)
{
	struct http_scan scan = { .buf = w->b, .range = range, .req = &w->req, .len = len };
	struct http_match match = { .buf = w->b, .req = &w->req, .first = range->first,
				    .count = range->count };

	w->req = (struct http_req){ 0 };
	bpf_loop(POL_HTTP_WINDOW, http_step, &scan, 0);
	if (w->req.state != HTTP_DONE)
		return 0;
	if (range->n_headers)
		bpf_loop(POL_HTTP_HEADERS_PER_PORT * POL_HTTP_WINDOW, http_header_step, &scan, 0);
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
		flow_drop(t, NULL, FLOW_DROP_HTTP_DENIED, 0);
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
	if (!w || !len || len > POL_HTTP_WINDOW) {
		flow_drop(t, NULL, FLOW_DROP_HTTP_DENIED, 0);
		return http_reset(skb, (__u32)len);
	}
	if (bpf_skb_load_bytes(skb, off, w->b, len) || !http_allowed(range, w, (__u32)len)) {
		flow_http_request(t, w->b, FLOW_DROP_HTTP_DENIED);
		return http_reset(skb, (__u32)len);
	}
	flow_http_request(t, w->b, FLOW_DROP_NONE);
	return TC_ACT_OK;
}

/*
 * What enters a pod (t; its TCP/UDP header at l4_off): the pod's ingress
 * rules, then, on a client's segment to a port with HTTP rules, those.
 * tcp: t may be TCP.  The callers that know it is not say so, so that
 * their inlined copies leave the HTTP code out.
 */
static __always_inline int policy_ingress(struct __sk_buff *skb, const struct lb_config *cfg,
					  const struct lb_ct_key *t, __u32 l4_off, int tcp)
{
	const struct pol_ipcache *info = pol_lookup_ip(t->family, t->daddr);
	int reply = 0, ret, self;

	if (!info || !info->endpoint)
		return TC_ACT_OK;
	/*
	 * A hairpin flow: the pod's own packet, which the load balancer gave
	 * the hairpin address and sent straight back out of the veth it came
	 * in by (from anywhere else, that address is a spoof and is judged).
	 */
	self = same_addr(t->saddr, t->family == AF_INET ? cfg->hairpin4 : cfg->hairpin6) &&
	       skb->ingress_ifindex == skb->ifindex;
	ret = pol_enforce(cfg, info, POL_INGRESS, t, NULL, self, &reply);
	if (!tcp || ret != TC_ACT_OK || reply || self || !(info->flags & POL_EP_HTTP) ||
	    t->proto != IPPROTO_TCP)
		return ret;
	return policy_http(skb, info->endpoint, t, l4_off);
}


/*
 * SCTP to or from a pod (t has its addresses and family; l4_off: its
 * common header), which parse() leaves to policy_unparsed: the load
 * balancer serves no SCTP, but NetworkPolicy names SCTP ports, so it is
 * judged and tracked like TCP by the ports of the common header.
 */
static __always_inline int policy_sctp(struct __sk_buff *skb, int egress, struct lb_ct_key *t,
				       __u32 l4_off)
{
	__u32 zero = 0;
	const struct lb_config *cfg = bpf_map_lookup_elem(&lb_config, &zero);
	__be16 ports[2];

	if (!cfg)
		return TC_ACT_OK;
	if (bpf_skb_load_bytes(skb, l4_off, ports, sizeof(ports)))
		return TC_ACT_SHOT; /* too short to be judged */
	t->sport = ports[0];
	t->dport = ports[1];
	t->proto = IPPROTO_SCTP;
	return egress ? policy_egress(cfg, t, NULL) : policy_ingress(skb, cfg, t, 0, 0);
}

/*
 * ICMP under NetworkPolicy, as Calico and Cilium police it: it is L3
 * traffic, which only a rule without ports allows (pol_rules' "every
 * protocol" entries: no rule names ICMP, so no other entry matches it).
 * An echo is judged and tracked like a UDP flow whose ports are its
 * identifier (icmp_echo_ports), so its reply passes as a reply; an error
 * passes when it is about a flow pol_ct knows at this pod (related), else
 * is judged by the rules like any ICMP; ICMPv4's other messages are judged
 * as new traffic without identifier; ICMPv6's (neighbour discovery, MLD)
 * are the link's, never policed.
 */
#define ICMP_ECHOREPLY 0
#define ICMP_ECHO 8
#define ICMPV6_ECHO_REQUEST 128
#define ICMPV6_ECHO_REPLY 129

/*
 * An echo's "ports" for the policy: a request's identifier as its source
 * port, a reply's as its destination port, so that a reply is its request
 * reversed; other messages have none.
 */
static __always_inline void icmp_echo_ports(__u8 family, __u8 type, __be16 id, __be16 *sport,
					    __be16 *dport)
{
	int v6 = family == AF_INET6;

	*sport = type == (v6 ? ICMPV6_ECHO_REQUEST : ICMP_ECHO) ? id : 0;
	*dport = type == (v6 ? ICMPV6_ECHO_REPLY : ICMP_ECHOREPLY) ? id : 0;
}

/* The first 8 bytes of an ICMP or ICMPv6 message: an echo's identifier follows the checksum. */
struct icmp_head {
	__u8 type;
	__u8 code;
	__be16 check;
	__be16 id;
	__be16 seq;
};

/*
 * The flow an error quotes (its quoted IP header at off) into k as pol_ct
 * keys it: addresses, protocol, ports (an echo's as icmp_echo_ports makes
 * them).  0, or -1 when the quote is nothing the policy tracks.
 */
static __always_inline int icmp_quote(struct __sk_buff *skb, __u32 off, struct pol_ct_key *k,
				      __u8 family)
{
	struct icmp_head h;

	__builtin_memset(k, 0, sizeof(*k));
	k->family = family;
	if (family == AF_INET) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, off, &ip, sizeof(ip)) || ip.ihl < 5)
			return -1;
		k->saddr[0] = ip.saddr;
		k->daddr[0] = ip.daddr;
		k->proto = ip.protocol;
		off += ip.ihl * 4;
	} else {
		if (bpf_skb_load_bytes(skb, off + offsetof(struct ipv6hdr, nexthdr), &k->proto, 1) ||
		    bpf_skb_load_bytes(skb, off + offsetof(struct ipv6hdr, saddr), k,
				       sizeof(k->saddr) + sizeof(k->daddr)))
			return -1;
		off += sizeof(struct ipv6hdr);
	}
	if (bpf_skb_load_bytes(skb, off, &h, sizeof(h)))
		return -1;
	if (k->proto == IPPROTO_TCP || k->proto == IPPROTO_UDP || k->proto == IPPROTO_SCTP) {
		/* the ports are the first four bytes of all three */
		__builtin_memcpy(&k->sport, &h, sizeof(k->sport) + sizeof(k->dport));
		return 0;
	}
	if (k->proto != (family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6))
		return -1;
	icmp_echo_ports(family, h.type, h.id, &k->sport, &k->dport);
	return 0;
}

/*
 * Whether the flow k quotes is one pol_ct knows at hook of this pod: a
 * packet it sent (or was sent) first, remembered at the other hook as it
 * is, or a reply of a flow this hook allowed, remembered here reversed.
 */
static __always_inline int pol_related(struct pol_ct_key *k, __u8 hook)
{
	__be32 a;
	__be16 port;

	k->hook = hook == POL_INGRESS ? POL_EGRESS : POL_INGRESS;
	if (bpf_map_lookup_elem(&pol_ct, k))
		return 1;
	for (int i = 0; i < 4; i++) {
		a = k->saddr[i];
		k->saddr[i] = k->daddr[i];
		k->daddr[i] = a;
	}
	port = k->sport;
	k->sport = k->dport;
	k->dport = port;
	k->hook = hook;
	return bpf_map_lookup_elem(&pol_ct, k) != NULL;
}

/*
 * ICMP or ICMPv6 to or from a pod (t has its addresses, family and
 * protocol; the message at l4_off).  An error's verdict needs no state:
 * related or allowed, it passes without a conntrack entry of its own.
 */
static __always_inline int policy_icmp(struct __sk_buff *skb, int egress, struct lb_ct_key *t,
				       __u32 l4_off)
{
	__u32 zero = 0;
	const struct lb_config *cfg = bpf_map_lookup_elem(&lb_config, &zero);
	__u8 hook = egress ? POL_EGRESS : POL_INGRESS;
	const struct pol_ipcache *info;
	struct icmp_head h;
	struct pol_ct_key k;
	int v6 = t->family == AF_INET6;

	if (!cfg)
		return TC_ACT_OK;
	if (bpf_skb_load_bytes(skb, l4_off, &h, sizeof(h)))
		return TC_ACT_SHOT; /* too short to be judged */
	if (v6 ? h.type >= ICMPV6_ECHO_REQUEST : h.type != 3 && h.type != 11 && h.type != 12) {
		if (v6 && h.type != ICMPV6_ECHO_REQUEST && h.type != ICMPV6_ECHO_REPLY)
			return TC_ACT_OK;
		icmp_echo_ports(t->family, h.type, h.id, &t->sport, &t->dport);
		return egress ? policy_egress(cfg, t, NULL) : policy_ingress(skb, cfg, t, 0, 0);
	}
	/* an error: unreachable, time exceeded, parameter problem (ICMPv6: packet too big too) */
	info = pol_lookup_ip(t->family, egress ? t->saddr : t->daddr);
	if (!info || !info->endpoint)
		return TC_ACT_OK;
	if (!icmp_quote(skb, l4_off + sizeof(h), &k, t->family) && pol_related(&k, hook)) {
		pol_count(POL_ALLOWED_REPLY);
		return TC_ACT_OK;
	}
	if (!(info->flags & (egress ? POL_EP_EGRESS : POL_EP_INGRESS)) ||
	    pol_allows(info->endpoint, hook, t))
		return TC_ACT_OK;
	pol_count(egress ? POL_DENIED_EGRESS : POL_DENIED_INGRESS);
	flow_drop(t, NULL, FLOW_DROP_POLICY_DENIED, egress);
	return TC_ACT_SHOT;
}

/*
 * What parse() leaves alone, to or from a pod.  An IPv4 fragment (only the
 * first carries the ports) to or from a policed pod is dropped, since no
 * port can be checked; SCTP goes to policy_sctp, ICMP and ICMPv6 to
 * policy_icmp; the rest passes.
 */
static __always_inline int policy_unparsed(struct __sk_buff *skb, int egress)
{
	struct lb_ct_key t = { 0 };
	struct iphdr ip;
	__be16 h_proto;
	__u8 nexthdr;
	const struct pol_ipcache *info;

	if (bpf_skb_load_bytes(skb, offsetof(struct ethhdr, h_proto), &h_proto, sizeof(h_proto)))
		return TC_ACT_OK;
	if (h_proto == bpf_htons(ETH_P_IPV6)) {
		_Static_assert(offsetof(struct lb_ct_key, daddr) == sizeof(t.saddr) &&
			       offsetof(struct ipv6hdr, daddr) ==
			       offsetof(struct ipv6hdr, saddr) + sizeof(t.saddr),
			       "both addresses in one load (lb_from_pod's stack is nearly full)");
		if (bpf_skb_load_bytes(skb, ETH_HLEN + offsetof(struct ipv6hdr, nexthdr), &nexthdr,
				       sizeof(nexthdr)) ||
		    (nexthdr != IPPROTO_SCTP && nexthdr != IPPROTO_ICMPV6) ||
		    bpf_skb_load_bytes(skb, ETH_HLEN + offsetof(struct ipv6hdr, saddr), &t,
				       sizeof(t.saddr) + sizeof(t.daddr)))
			return TC_ACT_OK;
		t.family = AF_INET6;
		t.proto = nexthdr;
		return nexthdr == IPPROTO_SCTP ?
		       policy_sctp(skb, egress, &t, ETH_HLEN + sizeof(struct ipv6hdr)) :
		       policy_icmp(skb, egress, &t, ETH_HLEN + sizeof(struct ipv6hdr));
	}
	if (h_proto != bpf_htons(ETH_P_IP) || bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)))
		return TC_ACT_OK;
	t.family = AF_INET;
	t.saddr[0] = ip.saddr;
	t.daddr[0] = ip.daddr;
	t.proto = ip.protocol;
	if (!(ip.frag_off & bpf_htons(0x3fff)))
		return ip.protocol == IPPROTO_SCTP ?
		       policy_sctp(skb, egress, &t, ETH_HLEN + ip.ihl * 4) :
		       ip.protocol == IPPROTO_ICMP ?
		       policy_icmp(skb, egress, &t, ETH_HLEN + ip.ihl * 4) : TC_ACT_OK;
	info = pol_lookup_ip(AF_INET, egress ? t.saddr : t.daddr);
	if (!info || !(info->flags & (egress ? POL_EP_EGRESS : POL_EP_INGRESS)))
		return TC_ACT_OK;
	pol_count(POL_DENIED_FRAGMENT);
	return TC_ACT_SHOT;
}

#endif
