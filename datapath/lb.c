// SPDX-License-Identifier: MIT
/*
 * Kubernetes service load balancing at TC, on the node's side of every pod's
 * veth (ingress there = traffic leaving the pod), as Cilium's from-container
 * program does.  The maps and the atomic table switch are described in lb.h.
 *
 * A packet to a frontend (ClusterIP:port/proto) is DNATed to a backend: the
 * one conntrack remembers for its 5-tuple, or, for a new flow (no entry, a
 * TCP SYN, or a backend that has since been removed), the one the client's
 * ClientIP affinity names, else the one the frontend's Maglev table holds at
 * flow hash modulo table size.  A reply entry keyed by the backend's side of
 * the flow rewrites the source of the replies back to the frontend, so the
 * client only ever sees the service address.  Conntrack ages flows by their
 * TCP state (lb.h); a pod that is its own backend is hairpinned.
 *
 * Handled: IPv4 (with options) and IPv6 (no extension headers), TCP and UDP,
 * and the ICMP and ICMPv6 errors about such flows, whoever sends them,
 * either way.
 * Passed unchanged: everything else, and IPv4 fragments (only the first
 * carries the ports; Kubernetes services are rarely fragmented).
 *
 * NetworkPolicy (policy_tc.h) judges TCP, UDP, SCTP and ICMP on both sides: a
 * pod's egress here after the DNAT, a pod's ingress in lb_to_pod.
 *
 * Flow events (flow.h) report new, established and closed service flows,
 * new flows through no service, drops and HTTP requests and responses to
 * the agent through lb_flows.
 */
#include <stddef.h>

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <linux/udp.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "flow.h"
#include "lb.h"

/* <sys/socket.h> is not for BPF programs. */
#define AF_INET 2
#define AF_INET6 10


struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LB_MAX_FRONTENDS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lb_frontend_key);
	__type(value, struct lb_frontend);
} lb_services SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LB_MAX_BACKENDS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct lb_backend);
} lb_backends SEC(".maps");

/*
 * Every frontend's Maglev table, one after the other: entry table + i is
 * the backend id for flow hash i modulo the size (two entries an element).  BPF_F_MMAPABLE lets the
 * agent write tables with a memcpy instead of a syscall per entry.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LB_MAGLEV_ENTRIES / 2);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct lb_maglev_pair);
} lb_maglev SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LB_CT_MAX);
	__type(key, struct lb_ct_key);
	__type(value, struct lb_ct_entry);
} lb_ct SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LB_AFFINITY_MAX);
	__type(key, struct lb_affinity_key);
	__type(value, struct lb_affinity);
} lb_affinity SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lb_config);
} lb_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LB_MAX_FRONTENDS);
	__type(key, __u32);
	__type(value, struct lb_stats);
} lb_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, FLOW_RING_BYTES);
} lb_flows SEC(".maps");

/* Flow events lost to a full ring, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lb_flow_lost SEC(".maps");

/* Room for one flow event in lb_flows; NULL, and counted, when the ring is full. */
static __always_inline struct flow_event *flow_reserve(void)
{
	struct flow_event *ev = bpf_ringbuf_reserve(&lb_flows, sizeof(*ev), 0);
	__u32 zero;
	__u64 *lost;

	if (ev)
		return ev;
	/*
	 * A full ring loses the event, never the packet.  The zero is made
	 * here: clang would hold it in a register across the reservation and
	 * spill an argument instead, stack lb_from_pod has no room for.
	 */
	asm volatile("%0 = 0" : "=r"(zero));
	lost = bpf_map_lookup_elem(&lb_flow_lost, &zero);
	if (lost)
		++*lost;
	return NULL;
}

/* The event's time, taken last: the arguments need no stack across the call. */
static __always_inline void flow_submit(struct flow_event *ev)
{
	ev->time = bpf_ktime_get_ns();
	bpf_ringbuf_submit(ev, 0);
}

/*
 * An event's fields: t as the client sent it; backend (when not NULL) where
 * the DNAT sent it, what (FLOW_WHAT) the rest; the counters of ct when not
 * NULL.
 */
static __always_inline void flow_fill(struct flow_event *ev, const struct lb_ct_key *t,
				      const __be32 *backend, __u64 what,
				      const struct lb_ct_entry *ct)
{
	ev->packets = ct ? ct->packets : 0;
	ev->bytes = ct ? ct->bytes : 0;
	ev->tuple = *t;
	if (backend)
		__builtin_memcpy(ev->backend, backend, sizeof(ev->backend));
	else
		__builtin_memset(ev->backend, 0, sizeof(ev->backend));
	ev->backend_port = (__be16)(what >> 32);
	ev->type = (__u8)what;
	ev->reason = (__u8)(what >> 8);
	ev->tcp_flags = (__u8)(what >> 16);
	ev->egress = (__u8)(what >> 24);
	ev->status = (__u16)(what >> 48);
}

/*
 * Clang drops the unused return value of a static function, and Sluice's
 * verifier (as older kernels did) wants R0 set when a subprogram returns.
 */
#define FLOW_RETURN() asm volatile("r0 = 0" ::: "r0")

/*
 * One flow event (flow_fill() says what the arguments are).  Not inlined:
 * the places that report share this one copy, which the verifier walks
 * only where an event is made.  (At most four arguments: a fifth would not
 * fit the registers kept across the reservation, and lb_from_pod has no
 * stack to spare.)
 */
static __noinline void flow_emit(const struct lb_ct_key *t, const __be32 *backend, __u64 what,
				 const struct lb_ct_entry *ct)
{
	struct flow_event *ev = flow_reserve();

	if (ev) {
		flow_fill(ev, t, backend, what, ct);
		flow_submit(ev);
	}
	FLOW_RETURN();
}

/*
 * A packet dropped (t as it travels; before: as the client sent it, when a
 * service DNAT came between).
 */
static __always_inline void flow_drop(const struct lb_ct_key *t, const struct lb_ct_key *before,
				      __u8 reason, int egress)
{
	flow_emit(before ? before : t, before ? t->daddr : NULL,
		  FLOW_WHAT(FLOW_EV_DROP, reason, 0, egress, before ? t->dport : 0, 0), NULL);
}

/*
 * An HTTP request on flow t as the pod gets it (after any DNAT): the head's
 * first FLOW_HTTP_HEAD bytes at head (8-byte aligned); reason: why it was
 * refused.  Not inlined, as flow_emit.
 */
static __noinline void flow_http_request(const struct lb_ct_key *t, const void *head,
					 __u8 reason)
{
	const __u64 *words = head; /* copied a word at a time */
	struct flow_event *ev = flow_reserve();

	if (ev) {
		flow_fill(ev, t, NULL, FLOW_WHAT(FLOW_EV_HTTP_REQUEST, reason, 0, 0, 0, 0), NULL);
		__builtin_memcpy(ev->http, words, FLOW_HTTP_HEAD);
		flow_submit(ev);
	}
	FLOW_RETURN();
}

static __always_inline int same_addr(const __be32 *a, const __be32 *b)
{
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3];
}

#include "policy_tc.h"

/* What the datapath needs of a packet once its headers are parsed. */
struct packet {
	struct lb_ct_key tuple;  /* as sent, dir LB_CT_FORWARD */
	__u32 l4_off;            /* from the start of the frame */
	__u32 csum_off;          /* the TCP or UDP checksum field */
	__u8 tcp_flags;
};

/* The frame between data and end, at TC or XDP. */
static __always_inline int parse(void *data, void *end, struct packet *p)
{
	struct ethhdr *eth = data;
	__u8 proto;

	__builtin_memset(p, 0, sizeof(*p));
	if ((void *)(eth + 1) > end)
		return -1;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > end || ip->ihl < 5)
			return -1;
		/* a fragment after the first, or the first of several */
		if (ip->frag_off & bpf_htons(0x3fff))
			return -1;
		p->tuple.family = AF_INET;
		p->tuple.saddr[0] = ip->saddr;
		p->tuple.daddr[0] = ip->daddr;
		proto = ip->protocol;
		p->l4_off = sizeof(*eth) + ip->ihl * 4;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end)
			return -1;
		p->tuple.family = AF_INET6;
		__builtin_memcpy(p->tuple.saddr, &ip6->saddr, 16);
		__builtin_memcpy(p->tuple.daddr, &ip6->daddr, 16);
		proto = ip6->nexthdr;
		p->l4_off = sizeof(*eth) + sizeof(*ip6);
	} else {
		return -1;
	}
	p->tuple.proto = proto;
	if (proto == IPPROTO_TCP) {
		struct tcphdr *th = data + p->l4_off;

		if ((void *)(th + 1) > end)
			return -1;
		p->tuple.sport = th->source;
		p->tuple.dport = th->dest;
		p->tcp_flags = ((__u8 *)th)[13];
		p->csum_off = p->l4_off + offsetof(struct tcphdr, check);
	} else if (proto == IPPROTO_UDP) {
		struct udphdr *uh = data + p->l4_off;

		if ((void *)(uh + 1) > end)
			return -1;
		p->tuple.sport = uh->source;
		p->tuple.dport = uh->dest;
		p->csum_off = p->l4_off + offsetof(struct udphdr, check);
	} else {
		return -1;
	}
	return 0;
}

/*
 * Rewrite the destination (DNAT) or the source (reverse NAT) address and
 * port, fixing the IPv4 header checksum and the TCP/UDP checksum (whose
 * pseudo-header covers the addresses).  UDP over IPv4 may carry no checksum
 * (0): BPF_F_MARK_MANGLED_0 keeps it so, and never writes a computed 0.
 */
static __always_inline int rewrite(struct __sk_buff *skb, const struct packet *p, int dst,
				   const __be32 *addr, __be16 port)
{
	const __be32 *old = dst ? p->tuple.daddr : p->tuple.saddr;
	__be16 old_port = dst ? p->tuple.dport : p->tuple.sport;
	__u64 l4_flags = p->tuple.proto == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;

	if (p->tuple.family == AF_INET) {
		__u32 off = ETH_HLEN + (dst ? offsetof(struct iphdr, daddr)
					    : offsetof(struct iphdr, saddr));

		if (bpf_l4_csum_replace(skb, p->csum_off, old[0], addr[0],
					l4_flags | BPF_F_PSEUDO_HDR | sizeof(__be32)) ||
		    bpf_l3_csum_replace(skb, ETH_HLEN + offsetof(struct iphdr, check), old[0],
					addr[0], sizeof(__be32)) ||
		    bpf_skb_store_bytes(skb, off, addr, sizeof(__be32), 0))
			return -1;
	} else {
		__u32 off = ETH_HLEN + (dst ? offsetof(struct ipv6hdr, daddr)
					    : offsetof(struct ipv6hdr, saddr));
		/* IPv6 has no header checksum: only the pseudo-header changes */
		__s64 diff = bpf_csum_diff((__be32 *)old, 16, (__be32 *)addr, 16, 0);

		if (diff < 0 ||
		    bpf_l4_csum_replace(skb, p->csum_off, 0, diff, l4_flags | BPF_F_PSEUDO_HDR) ||
		    bpf_skb_store_bytes(skb, off, addr, 16, 0))
			return -1;
	}
	if (port == old_port)
		return 0;
	if (bpf_l4_csum_replace(skb, p->csum_off, old_port, port, l4_flags | sizeof(__be16)) ||
	    bpf_skb_store_bytes(skb, p->l4_off + (dst ? offsetof(struct udphdr, dest)
						      : offsetof(struct udphdr, source)),
				&port, sizeof(port), 0))
		return -1;
	return 0;
}

static __always_inline struct lb_stats *stats_of(__u32 frontend_id)
{
	return bpf_map_lookup_elem(&lb_stats, &frontend_id);
}

/* The backend the frontend's Maglev table holds for this flow, 0 when found. */
static __always_inline int maglev_pick(const struct lb_frontend *fe, const struct lb_ct_key *t,
				       __u32 *backend_id)
{
	struct lb_maglev_pair *pair;
	__u32 entry, element;

	if (!fe->backends || !fe->size)
		return -1;
	entry = fe->table + lb_flow_hash(t) % fe->size;
	element = entry / 2;
	pair = bpf_map_lookup_elem(&lb_maglev, &element);
	if (!pair)
		return -1;
	*backend_id = pair->id[entry & 1];
	return 0;
}

/*
 * The backend of a new flow: with ClientIP affinity, the client's previous
 * backend while it exists and the timeout has not run out since the
 * client's last new flow; else Maglev's pick, remembered for the client.
 */
static __always_inline const struct lb_backend *pick_backend(const struct lb_frontend *fe,
							     const struct lb_ct_key *t, __u64 now,
							     __u32 *backend_id)
{
	struct lb_affinity_key ak = { 0 };
	struct lb_affinity *a, fresh = { 0 };
	const struct lb_backend *be;

	if (fe->flags & LB_F_AFFINITY) {
		__builtin_memcpy(ak.addr, t->saddr, sizeof(ak.addr));
		ak.frontend_id = fe->id;
		ak.family = t->family;
		a = bpf_map_lookup_elem(&lb_affinity, &ak);
		if (a && now - a->last_seen < fe->affinity_timeout * LB_NSEC_PER_SEC) {
			*backend_id = a->backend_id;
			be = bpf_map_lookup_elem(&lb_backends, backend_id);
			if (be) {
				a->last_seen = now;
				return be;
			}
		}
	}
	if (maglev_pick(fe, t, backend_id))
		return NULL;
	be = bpf_map_lookup_elem(&lb_backends, backend_id);
	if (be && (fe->flags & LB_F_AFFINITY)) {
		fresh.backend_id = *backend_id;
		fresh.last_seen = now;
		bpf_map_update_elem(&lb_affinity, &ak, &fresh, BPF_ANY);
	}
	return be;
}

static __always_inline const struct lb_config *config(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&lb_config, &zero);
}

/*
 * Note a packet of a flow in its forward entry: when, and what TCP said.
 * Returns the flow event the packet makes (flow_ct_event()), or -1.
 */
static __always_inline int ct_observe(struct lb_ct_entry *e, const struct packet *p,
				      int from_backend, __u64 now)
{
	__u8 seen = lb_ct_seen(e->flags, p->tuple.proto, p->tcp_flags, from_backend);
	int ev;

	e->last_seen = now;
	/* the flags rarely change: no store when they do not */
	if (seen == e->flags)
		return -1;
	ev = flow_ct_event(p->tuple.proto, e->flags, seen);
	e->flags = seen;
	return ev;
}

/* A packet of len bytes of the flow, either way; other CPUs may count the same flow. */
static __always_inline void ct_count(struct lb_ct_entry *e, __u32 len)
{
	__sync_fetch_and_add(&e->packets, 1);
	__sync_fetch_and_add(&e->bytes, len);
}

/*
 * The backend of a packet to frontend fe: conntrack's, or a new pick that
 * conntrack then remembers (*fresh set).  NULL when the frontend has none.
 * egress: seen leaving a pod (for the flow events).
 */
static __always_inline const struct lb_backend *flow_backend(const struct lb_config *cfg,
							     const struct lb_frontend *fe,
							     const struct packet *p, __u32 len,
							     int egress, __u32 *id, int *fresh)
{
	struct lb_stats *st = stats_of(fe->id);
	const struct lb_backend *be = NULL;
	struct lb_ct_entry *ct, entry = { 0 };
	__u64 now = bpf_ktime_get_ns();
	__u32 backend_id = 0;
	int ev, new_connection = p->tuple.proto == IPPROTO_TCP &&
				 (p->tcp_flags & (LB_TCP_SYN | LB_TCP_ACK)) == LB_TCP_SYN;

	*fresh = 0;
	ct = bpf_map_lookup_elem(&lb_ct, &p->tuple);
	/* a new connection on the same ports, or a flow idle too long, starts afresh */
	if (ct && (new_connection || lb_ct_expired(cfg, p->tuple.proto, ct, now)))
		ct = NULL;
	if (ct) {
		backend_id = ct->backend_id;
		be = bpf_map_lookup_elem(&lb_backends, &backend_id);
	}
	if (!be) {
		be = pick_backend(fe, &p->tuple, now, &backend_id);
		if (!be) {
			if (st)
				st->no_backend++;
			flow_emit(&p->tuple, NULL,
				  FLOW_WHAT(FLOW_EV_DROP, FLOW_DROP_NO_BACKEND, p->tcp_flags, egress,
					    0, 0), NULL);
			return NULL;
		}
	}
	if (ct && ct->backend_id == backend_id) {
		ct_count(ct, len);
		ev = ct_observe(ct, p, 0, now);
		if (ev >= 0)
			flow_emit(&p->tuple, be->addr,
				  FLOW_WHAT(ev, 0, p->tcp_flags, egress, be->port, 0), ct);
	} else {
		/* a new flow, or one moved off a removed backend */
		entry.backend_id = backend_id;
		entry.frontend_id = fe->id;
		entry.packets = 1;
		entry.bytes = len;
		ct_observe(&entry, p, 0, now);
		bpf_map_update_elem(&lb_ct, &p->tuple, &entry, BPF_ANY);
		*fresh = 1;
	}
	if (st) {
		st->packets++;
		st->bytes += len;
	}
	*id = backend_id;
	return be;
}

/*
 * The reply entry of a flow: replies from the backend (backend_id, at
 * baddr:bport) to client (the client's address, or the hairpin address)
 * get the frontend's address and port back as their source.
 */
static __always_inline void expect_replies(const struct packet *p, __u32 backend_id,
					   const __be32 *baddr, __be16 bport, const __be32 *client,
					   __u32 frontend_id, __u8 flags)
{
	struct lb_ct_key reply = { 0 };
	struct lb_ct_entry entry = { 0 }, *known;

	__builtin_memcpy(reply.saddr, baddr, sizeof(reply.saddr));
	__builtin_memcpy(reply.daddr, client, sizeof(reply.daddr));
	reply.sport = bport;
	reply.dport = p->tuple.sport;
	reply.proto = p->tuple.proto;
	reply.family = p->tuple.family;
	reply.dir = LB_CT_REPLY;
	/* DSR calls this for every packet: write only what is new */
	known = bpf_map_lookup_elem(&lb_ct, &reply);
	if (known && known->port == p->tuple.dport && known->flags == flags &&
	    known->backend_id == backend_id &&
	    known->addr[0] == p->tuple.daddr[0] && known->addr[1] == p->tuple.daddr[1] &&
	    known->addr[2] == p->tuple.daddr[2] && known->addr[3] == p->tuple.daddr[3])
		return;
	entry.backend_id = backend_id;
	entry.frontend_id = frontend_id;
	entry.flags = flags;
	entry.last_seen = bpf_ktime_get_ns();
	__builtin_memcpy(entry.addr, p->tuple.daddr, sizeof(entry.addr));
	entry.port = p->tuple.dport;
	bpf_map_update_elem(&lb_ct, &reply, &entry, BPF_ANY);
}

/*
 * Send a packet the datapath rewrote straight to the interface towards dst.
 * Routing it would not always do: a reply from a NodePort has the node's
 * own address as its source, which the stack drops as a martian when it
 * forwards, and a hairpin packet leaves through the interface it came in
 * by.  Falls back to the stack when the FIB has no answer.
 */
static __always_inline int redirect_to(struct __sk_buff *skb, __u8 family, __u8 proto,
				       const __be32 *src, const __be32 *dst)
{
	struct bpf_fib_lookup fib = { 0 };
	long ret;

	fib.family = family;
	fib.ifindex = skb->ingress_ifindex;
	fib.l4_protocol = proto;
	fib.tot_len = (__u16)skb->len;
	if (family == AF_INET) {
		fib.ipv4_src = src[0];
		fib.ipv4_dst = dst[0];
	} else {
		__builtin_memcpy(fib.ipv6_src, src, 16);
		__builtin_memcpy(fib.ipv6_dst, dst, 16);
	}
	ret = bpf_fib_lookup(skb, &fib, sizeof(fib), 0);
	if (ret != BPF_FIB_LKUP_RET_SUCCESS && ret != BPF_FIB_LKUP_RET_NO_NEIGH)
		return TC_ACT_OK;
	return bpf_redirect_neigh(fib.ifindex, NULL, 0, 0);
}

static __always_inline const __be32 *hairpin_addr(const struct lb_config *cfg, __u8 family)
{
	return family == AF_INET ? cfg->hairpin4 : cfg->hairpin6;
}

/*
 * A packet to a frontend: DNAT to its backend.  When the backend is the
 * client itself (hairpin), the source becomes the hairpin address too, as
 * kube-proxy masquerades such traffic: the backend's replies then leave the
 * pod and come back through lb_from_pod instead of staying in its stack.
 */
static __always_inline int to_frontend(struct __sk_buff *skb, const struct lb_config *cfg,
				       struct packet *p, const struct lb_frontend *fe)
{
	const __be32 *hairpin = NULL;
	__u32 backend_id;
	int fresh;
	const struct lb_backend *be = flow_backend(cfg, fe, p, skb->len, 1, &backend_id, &fresh);

	struct lb_ct_key dnat;

	if (!be)
		return TC_ACT_SHOT;
	/* the pod's egress policy judges the backend it is about to reach */
	dnat = p->tuple;
	__builtin_memcpy(dnat.daddr, be->addr, sizeof(dnat.daddr));
	dnat.dport = be->port;
	if (policy_egress(cfg, &dnat, &p->tuple) != TC_ACT_OK)
		return TC_ACT_SHOT;
	if (be->family == p->tuple.family && same_addr(be->addr, p->tuple.saddr))
		hairpin = hairpin_addr(cfg, p->tuple.family);
	if (fresh) {
		expect_replies(p, backend_id, be->addr, be->port, hairpin ? hairpin : p->tuple.saddr,
			       fe->id, hairpin ? LB_CT_HAIRPIN : 0);
		flow_emit(&p->tuple, be->addr, FLOW_WHAT(FLOW_EV_NEW, 0, p->tcp_flags, 1, be->port, 0),
			  NULL);
	}
	if (rewrite(skb, p, 1, be->addr, be->port))
		return TC_ACT_SHOT;
	if (!hairpin)
		return TC_ACT_OK;
	if (rewrite(skb, p, 0, hairpin, p->tuple.sport))
		return TC_ACT_SHOT;
	return redirect_to(skb, p->tuple.family, p->tuple.proto, hairpin, be->addr);
}

/*
 * The status code of an HTTP/1.x status line at the start of a TCP
 * segment's data ("HTTP/1.1 200 "); 0 for anything else.  The data is
 * read with a helper: a pod's stack leaves it in pages, outside the
 * linear part direct access sees.
 */
static __always_inline __u16 http_status(struct __sk_buff *skb, const struct packet *p)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	__u64 off = p->l4_off;
	struct tcphdr *th;
	__u16 status = 0;
	__u8 s[13];

	/* parse() left at most 74 here; the verifier must see a bound on the very register */
	asm volatile("%0 &= 0xff" : "+r"(off));
	th = data + off;
	if (p->tuple.proto != IPPROTO_TCP || (void *)(th + 1) > end)
		return 0;
	off += th->doff * 4;
	if (skb->len < off + sizeof(s) || bpf_skb_load_bytes(skb, off, s, sizeof(s)) ||
	    s[0] != 'H' || s[1] != 'T' || s[2] != 'T' || s[3] != 'P' || s[4] != '/' ||
	    s[5] != '1' || s[6] != '.' || s[8] != ' ' || s[12] != ' ')
		return 0;
	for (int i = 9; i < 12; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		status = status * 10 + (s[i] - '0');
	}
	return status;
}

/*
 * A reply from a backend: its source becomes the frontend again (and a
 * hairpin flow's destination the client).
 */
static __always_inline int from_backend(struct __sk_buff *skb, const struct lb_config *cfg,
					struct packet *p)
{
	struct lb_ct_key key = p->tuple, fwd;
	struct lb_ct_entry *rev, *ct;
	struct lb_stats *st;
	__be32 addr[4];
	__be16 port;
	__u64 now;
	__u16 status;
	int hairpin, ev;

	key.dir = LB_CT_REPLY;
	rev = bpf_map_lookup_elem(&lb_ct, &key);
	if (!rev)
		return TC_ACT_OK;
	/* the flow's state is in its forward entry: a stale reply entry is no flow's */
	lb_ct_forward_key(&key, rev, &fwd);
	ct = bpf_map_lookup_elem(&lb_ct, &fwd);
	now = bpf_ktime_get_ns();
	if (lb_ct_reply_stale(cfg, fwd.proto, rev, ct, now))
		return TC_ACT_OK;
	ct_count(ct, skb->len);
	ev = ct_observe(ct, p, 1, now);
	if (ev >= 0)
		flow_emit(&fwd, p->tuple.saddr, FLOW_WHAT(ev, 0, p->tcp_flags, 1, p->tuple.sport, 0),
			  ct);
	status = http_status(skb, p);
	if (status)
		flow_emit(&fwd, p->tuple.saddr,
			  FLOW_WHAT(FLOW_EV_HTTP_RESPONSE, 0, p->tcp_flags, 1, p->tuple.sport, status),
			  ct);
	__builtin_memcpy(addr, rev->addr, sizeof(addr));
	port = rev->port;
	hairpin = rev->flags & LB_CT_HAIRPIN;
	st = stats_of(rev->frontend_id);
	if (st) {
		st->reply_packets++;
		st->reply_bytes += skb->len;
	}
	if (rewrite(skb, p, 0, addr, port) ||
	    (hairpin && rewrite(skb, p, 1, fwd.saddr, p->tuple.dport)))
		return TC_ACT_SHOT;
	return redirect_to(skb, p->tuple.family, p->tuple.proto, addr,
			   hairpin ? fwd.saddr : p->tuple.daddr);
}

static __always_inline void frontend_key_of(const struct packet *p, struct lb_frontend_key *fk)
{
	__builtin_memset(fk, 0, sizeof(*fk));
	__builtin_memcpy(fk->addr, p->tuple.daddr, sizeof(fk->addr));
	fk->port = p->tuple.dport;
	fk->proto = p->tuple.proto;
	fk->family = p->tuple.family;
}

/*
 * ICMP and ICMPv6 errors about flows through a service.  An error quotes
 * the packet it is about; the checksums that cover a rewritten field of the
 * quote are the quoted IPv4 header's (addresses), the quoted TCP/UDP one
 * (addresses through its pseudo-header, ports) when the quote reaches it,
 * and the ICMP checksum, which covers the whole quote, those checksums
 * included.  (The ICMPv6 checksum also covers the outer addresses.)
 */
struct quote {
	__u32 icmp_csum;   /* offset of the ICMP checksum */
	__u32 l3_csum;     /* of the quoted IPv4 header's checksum; 0: IPv6 */
	__u32 l4_csum;     /* of the quoted TCP/UDP checksum; 0: not quoted, or UDP's "none" */
};

/* Add diff to the checksum at off, which lies inside the quote: the ICMP checksum follows. */
static __always_inline int quoted_csum_add(struct __sk_buff *skb, const struct quote *q, __u32 off,
					   __s64 diff)
{
	__u16 before, after;

	if (bpf_skb_load_bytes(skb, off, &before, sizeof(before)) ||
	    bpf_l3_csum_replace(skb, off, 0, diff, 0) ||
	    bpf_skb_load_bytes(skb, off, &after, sizeof(after)))
		return -1;
	return bpf_l3_csum_replace(skb, q->icmp_csum, before, after, sizeof(after));
}

/*
 * Rewrite a field of the quote, from -> to: size bytes for the sums (a
 * port is the first half of a word whose second half is zero), store of
 * them written; in_l3 when the quoted IPv4 header's checksum covers it.
 */
static __always_inline int quote_rewrite(struct __sk_buff *skb, const struct quote *q, __u32 off,
					 const __be32 *from, const __be32 *to, __u32 size,
					 __u32 store, int in_l3)
{
	__s64 diff = bpf_csum_diff((__be32 *)from, size, (__be32 *)to, size, 0);

	if (diff < 0 || bpf_skb_store_bytes(skb, off, to, store, 0) ||
	    bpf_l3_csum_replace(skb, q->icmp_csum, 0, diff, 0) ||
	    (in_l3 && q->l3_csum && quoted_csum_add(skb, q, q->l3_csum, diff)) ||
	    (q->l4_csum && quoted_csum_add(skb, q, q->l4_csum, diff)))
		return -1;
	return 0;
}

/* Rewrite the error's own source or destination address (at off). */
static __always_inline int outer_rewrite(struct __sk_buff *skb, const struct quote *q, __u8 family,
					 __u32 off, const __be32 *from, const __be32 *to)
{
	__s64 diff;

	if (family == AF_INET)
		return bpf_l3_csum_replace(skb, ETH_HLEN + offsetof(struct iphdr, check), from[0],
					   to[0], sizeof(__be32)) ||
		       bpf_skb_store_bytes(skb, off, to, sizeof(__be32), 0);
	diff = bpf_csum_diff((__be32 *)from, 16, (__be32 *)to, 16, 0);
	return diff < 0 || bpf_l3_csum_replace(skb, q->icmp_csum, 0, diff, 0) ||
	       bpf_skb_store_bytes(skb, off, to, 16, 0);
}

/* Where an error's headers and quote lie, and what the quote says. */
struct icmp_error {
	struct quote q;
	__u32 qsrc_off, qdst_off;  /* the quoted addresses */
	__u32 osrc_off, odst_off;  /* the error's own */
	__u32 quoted_l4;           /* the quoted TCP/UDP header */
	__u32 alen;                /* 4 or 16 bytes an address */
	__be32 qsrc[4], qdst[4];
	__be16 qsport, qdport;
	__u8 proto;
};

/*
 * An ICMP or ICMPv6 error (unreachable, packet too big, time exceeded,
 * parameter problem) quoting a TCP or UDP packet: 0 and *e, *outer (the
 * error's addresses, family and protocol) filled; -1 for anything else.
 */
static __always_inline int parse_icmp_error(struct __sk_buff *skb, struct icmp_error *e,
					    struct lb_ct_key *outer)
{
	__u32 icmp_off, quoted_off;
	__be16 h_proto, ports[2], l4_check;
	__u8 type;

	__builtin_memset(e, 0, sizeof(*e));
	__builtin_memset(outer, 0, sizeof(*outer));
	if (bpf_skb_load_bytes(skb, offsetof(struct ethhdr, h_proto), &h_proto, sizeof(h_proto)))
		return -1;
	if (h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr ip, quoted;

		if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)) || ip.protocol != IPPROTO_ICMP)
			return -1;
		icmp_off = ETH_HLEN + (ip.ihl & 0xf) * 4;
		quoted_off = icmp_off + 8;
		if (bpf_skb_load_bytes(skb, icmp_off, &type, 1) ||
		    (type != 3 && type != 11 && type != 12) || /* unreachable, time exceeded, parameter */
		    bpf_skb_load_bytes(skb, quoted_off, &quoted, sizeof(quoted)) || quoted.ihl < 5)
			return -1;
		outer->family = AF_INET;
		outer->proto = IPPROTO_ICMP;
		outer->saddr[0] = ip.saddr;
		outer->daddr[0] = ip.daddr;
		e->qsrc[0] = quoted.saddr;
		e->qdst[0] = quoted.daddr;
		e->proto = quoted.protocol;
		e->quoted_l4 = quoted_off + (quoted.ihl & 0xf) * 4;
		e->q.l3_csum = quoted_off + offsetof(struct iphdr, check);
		e->qsrc_off = quoted_off + offsetof(struct iphdr, saddr);
		e->qdst_off = quoted_off + offsetof(struct iphdr, daddr);
		e->osrc_off = ETH_HLEN + offsetof(struct iphdr, saddr);
		e->odst_off = ETH_HLEN + offsetof(struct iphdr, daddr);
		e->alen = 4;
	} else if (h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6, quoted;

		icmp_off = ETH_HLEN + sizeof(ip6);
		quoted_off = icmp_off + 8;
		if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip6, sizeof(ip6)) ||
		    ip6.nexthdr != IPPROTO_ICMPV6 || bpf_skb_load_bytes(skb, icmp_off, &type, 1) ||
		    type < 1 || type > 4 || /* unreachable, too big, time exceeded, parameter */
		    bpf_skb_load_bytes(skb, quoted_off, &quoted, sizeof(quoted)))
			return -1;
		outer->family = AF_INET6;
		outer->proto = IPPROTO_ICMPV6;
		__builtin_memcpy(outer->saddr, &ip6.saddr, 16);
		__builtin_memcpy(outer->daddr, &ip6.daddr, 16);
		__builtin_memcpy(e->qsrc, &quoted.saddr, 16);
		__builtin_memcpy(e->qdst, &quoted.daddr, 16);
		e->proto = quoted.nexthdr;
		e->quoted_l4 = quoted_off + sizeof(quoted);
		e->qsrc_off = quoted_off + offsetof(struct ipv6hdr, saddr);
		e->qdst_off = quoted_off + offsetof(struct ipv6hdr, daddr);
		e->osrc_off = ETH_HLEN + offsetof(struct ipv6hdr, saddr);
		e->odst_off = ETH_HLEN + offsetof(struct ipv6hdr, daddr);
		e->alen = 16;
	} else {
		return -1;
	}
	if ((e->proto != IPPROTO_TCP && e->proto != IPPROTO_UDP) ||
	    bpf_skb_load_bytes(skb, e->quoted_l4, ports, sizeof(ports)))
		return -1;
	e->qsport = ports[0];
	e->qdport = ports[1];
	e->q.icmp_csum = icmp_off + 2;
	e->q.l4_csum = e->quoted_l4 + (e->proto == IPPROTO_TCP ? offsetof(struct tcphdr, check)
							  : offsetof(struct udphdr, check));
	if (e->q.l4_csum + sizeof(l4_check) > skb->len ||
	    bpf_skb_load_bytes(skb, e->q.l4_csum, &l4_check, sizeof(l4_check)) ||
	    (e->proto == IPPROTO_UDP && !l4_check))
		e->q.l4_csum = 0;
	return 0;
}

/* A quoted port, from -> to: sums see it as the first half of a word. */
static __always_inline int quote_port(struct __sk_buff *skb, const struct icmp_error *e,
				      __u32 field, __be16 from, __be16 to)
{
	__be32 old_word = 0, new_word = 0;

	__builtin_memcpy(&old_word, &from, sizeof(from));
	__builtin_memcpy(&new_word, &to, sizeof(to));
	return quote_rewrite(skb, &e->q, e->quoted_l4 + field, &old_word, &new_word,
			     sizeof(old_word), sizeof(to), 0);
}

/* The error's own source or destination address: from -> to, when it is from. */
static __always_inline int outer_swap(struct __sk_buff *skb, const struct icmp_error *e,
				      struct lb_ct_key *outer, int dst, const __be32 *from,
				      const __be32 *to)
{
	__be32 *addr = dst ? outer->daddr : outer->saddr;

	if (!same_addr(addr, from))
		return 0;
	if (outer_rewrite(skb, &e->q, outer->family, dst ? e->odst_off : e->osrc_off, addr, to))
		return -1;
	__builtin_memcpy(addr, to, 16);
	return 0;
}

/*
 * An error on its way to a client, from the backend (no listener on the
 * port, say) or from the node or a router on the way (fragmentation
 * needed, time exceeded).  It quotes the packet as DNATed, client ->
 * backend, but the client's stack matches errors to sockets by the quote:
 * the quote's destination becomes the frontend again (a hairpin flow's
 * source the client), and an error from the backend itself comes from the
 * frontend.
 */
static __always_inline int error_to_client(struct __sk_buff *skb, const struct icmp_error *e,
					   const struct lb_ct_entry *rev, struct lb_ct_key *outer)
{
	__be32 frontend[4];

	__builtin_memcpy(frontend, rev->addr, sizeof(frontend));
	if (quote_rewrite(skb, &e->q, e->qdst_off, e->qdst, frontend, e->alen, e->alen, 1) ||
	    quote_port(skb, e, offsetof(struct udphdr, dest), e->qdport, rev->port))
		return -1;
	/* a hairpin flow's client is the backend; it sent from the hairpin address */
	if ((rev->flags & LB_CT_HAIRPIN) &&
	    (quote_rewrite(skb, &e->q, e->qsrc_off, e->qsrc, e->qdst, e->alen, e->alen, 1) ||
	     outer_swap(skb, e, outer, 1, e->qsrc, e->qdst)))
		return -1;
	return outer_swap(skb, e, outer, 0, e->qdst, frontend) ? -1 : 1;
}

/*
 * An error a client sends about a reply it got from a frontend (its socket
 * was gone: port unreachable; or a narrower path on its side): to the
 * backend, as the reply the backend sent, frontend -> backend in the quote
 * and as the error's destination (a hairpin flow's client -> the hairpin
 * address), so that the backend's stack matches it to its socket.
 */
static __always_inline int error_to_backend(struct __sk_buff *skb, const struct lb_config *cfg,
					    const struct icmp_error *e,
					    const struct lb_backend *be, struct lb_ct_key *outer)
{
	const __be32 *hairpin = hairpin_addr(cfg, outer->family);

	if (quote_rewrite(skb, &e->q, e->qsrc_off, e->qsrc, be->addr, e->alen, e->alen, 1) ||
	    quote_port(skb, e, offsetof(struct udphdr, source), e->qsport, be->port))
		return -1;
	if (same_addr(be->addr, e->qdst) &&
	    (quote_rewrite(skb, &e->q, e->qdst_off, e->qdst, hairpin, e->alen, e->alen, 1) ||
	     outer_swap(skb, e, outer, 0, e->qdst, hairpin)))
		return -1;
	return outer_swap(skb, e, outer, 1, e->qsrc, be->addr) ? -1 : 1;
}

/*
 * An ICMP or ICMPv6 error about a flow through a service, either way:
 * 1 when translated (the error's addresses, family and protocol now in
 * *outer), 0 when the packet is no such error, -1 when a rewrite failed.
 */
static __always_inline int icmp_error(struct __sk_buff *skb, const struct lb_config *cfg,
				      struct lb_ct_key *outer)
{
	const struct lb_backend *be;
	struct lb_ct_entry *ct;
	struct lb_ct_key key = { 0 };
	struct icmp_error e;

	if (parse_icmp_error(skb, &e, outer))
		return 0;
	/* the quote reversed: a reply entry (client <- backend), or a flow (client -> frontend) */
	__builtin_memcpy(key.saddr, e.qdst, sizeof(key.saddr));
	__builtin_memcpy(key.daddr, e.qsrc, sizeof(key.daddr));
	key.sport = e.qdport;
	key.dport = e.qsport;
	key.proto = e.proto;
	key.family = outer->family;
	key.dir = LB_CT_REPLY;
	ct = bpf_map_lookup_elem(&lb_ct, &key);
	if (ct)
		return error_to_client(skb, &e, ct, outer);
	key.dir = LB_CT_FORWARD;
	ct = bpf_map_lookup_elem(&lb_ct, &key);
	if (!ct)
		return 0;
	be = bpf_map_lookup_elem(&lb_backends, &ct->backend_id);
	if (!be || be->family != outer->family)
		return 0;
	return error_to_backend(skb, cfg, &e, be, outer);
}

SEC("tc")
int lb_from_pod(struct __sk_buff *skb)
{
	const struct lb_config *cfg = config();
	struct lb_frontend_key fk;
	const struct lb_frontend *fe;
	struct lb_ct_key outer;
	struct packet p;
	int ret;

	if (!cfg)
		return TC_ACT_OK;
	if (parse((void *)(long)skb->data, (void *)(long)skb->data_end, &p)) {
		if (policy_unparsed(skb, 1) != TC_ACT_OK)
			return TC_ACT_SHOT;
		ret = icmp_error(skb, cfg, &outer);
		if (ret <= 0)
			return ret ? TC_ACT_SHOT : TC_ACT_OK;
		return redirect_to(skb, outer.family, outer.proto, outer.saddr, outer.daddr);
	}
	frontend_key_of(&p, &fk);
	fe = bpf_map_lookup_elem(&lb_services, &fk);
	if (fe)
		return to_frontend(skb, cfg, &p, fe);
	if (policy_egress(cfg, &p.tuple, NULL) != TC_ACT_OK)
		return TC_ACT_SHOT;
	return from_backend(skb, cfg, &p);
}

/*
 * NodePorts with direct server return (DSR), at XDP on the node's external
 * interface.  A packet to a node port gets its backend (conntrack, affinity,
 * Maglev, as above) and is encapsulated to the backend's address, as Katran
 * does: IPIP, whose outer IP ID (free: the outer header says don't
 * fragment) carries the backend's port, or IPv6 in IPv6, whose flow label
 * carries it.  Where the backend lives, lb_to_pod takes the outer header
 * off, DNATs to the backend and records the reply entry, so the backend's
 * replies leave with the node port as their source straight to the client:
 * the load balancer never sees them.
 */
static __always_inline __u16 ip_checksum(const struct iphdr *ip)
{
	const __u16 *w = (const __u16 *)ip;
	__u32 sum = 0;

	for (int i = 0; i < (int)(sizeof(*ip) / 2); i++)
		sum += w[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* Room for an outer header of len bytes after the Ethernet header, which moves to the new front. */
static __always_inline void *make_room(struct xdp_md *ctx, __u32 len, void **end)
{
	struct ethhdr *eth;
	void *data;

	if (bpf_xdp_adjust_head(ctx, -(int)len))
		return NULL;
	data = (void *)(long)ctx->data;
	*end = (void *)(long)ctx->data_end;
	eth = data;
	if ((void *)(eth + 1) + len > *end)
		return NULL;
	/* the two never overlap: len is at least the Ethernet header's size */
	__builtin_memcpy(eth, (void *)eth + len, sizeof(*eth));
	return eth + 1;
}

static __always_inline int encapsulate4(struct xdp_md *ctx, const struct lb_backend *be)
{
	struct iphdr *outer, *inner;
	void *end;

	outer = make_room(ctx, sizeof(*outer), &end);
	if (!outer)
		return XDP_DROP;
	inner = (void *)(outer + 1);
	if ((void *)(inner + 1) > end)
		return XDP_DROP;
	outer->version = 4;
	outer->ihl = 5;
	outer->tos = inner->tos;
	outer->tot_len = bpf_htons(bpf_ntohs(inner->tot_len) + sizeof(*outer));
	outer->id = be->port;
	outer->frag_off = bpf_htons(0x4000); /* don't fragment */
	outer->ttl = 64;
	outer->protocol = IPPROTO_IPIP;
	outer->check = 0;
	/* the client's address: the node's own would be a martian when it forwards this */
	outer->saddr = inner->saddr;
	outer->daddr = be->addr[0];
	outer->check = ip_checksum(outer);
	return XDP_PASS;
}

static __always_inline int encapsulate6(struct xdp_md *ctx, const struct lb_backend *be)
{
	struct ipv6hdr *outer, *inner;
	void *end;

	outer = make_room(ctx, sizeof(*outer), &end);
	if (!outer)
		return XDP_DROP;
	inner = (void *)(outer + 1);
	if ((void *)(inner + 1) > end)
		return XDP_DROP;
	outer->version = 6;
	outer->priority = inner->priority;
	/* the traffic class's low bits, then the backend's port as the flow label */
	outer->flow_lbl[0] = inner->flow_lbl[0] & 0xf0;
	__builtin_memcpy(&outer->flow_lbl[1], &be->port, sizeof(be->port));
	outer->payload_len = bpf_htons(bpf_ntohs(inner->payload_len) + sizeof(*inner));
	outer->nexthdr = IPPROTO_IPV6;
	outer->hop_limit = 64;
	outer->saddr = inner->saddr;
	__builtin_memcpy(&outer->daddr, be->addr, sizeof(outer->daddr));
	return XDP_PASS;
}

SEC("xdp")
int lb_nodeport(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	const struct lb_config *cfg = config();
	struct lb_frontend_key fk;
	const struct lb_frontend *fe;
	const struct lb_backend *be;
	__u32 backend_id;
	struct packet p;
	int fresh;

	if (!cfg || parse(data, end, &p))
		return XDP_PASS;
	frontend_key_of(&p, &fk);
	fe = bpf_map_lookup_elem(&lb_services, &fk);
	if (!fe || !(fe->flags & LB_F_NODEPORT))
		return XDP_PASS;
	be = flow_backend(cfg, fe, &p, (__u32)(end - data), 0, &backend_id, &fresh);
	if (!be || be->family != p.tuple.family)
		return XDP_DROP;
	if (fresh)
		flow_emit(&p.tuple, be->addr, FLOW_WHAT(FLOW_EV_NEW, 0, p.tcp_flags, 0, be->port, 0),
			  NULL);
	return p.tuple.family == AF_INET ? encapsulate4(ctx, be) : encapsulate6(ctx, be);
}

/*
 * Where the backend lives: conntrack notes the DSR flow's packet (the node
 * whose XDP chose the backend has done so already: the flags only grow, so
 * twice is once; another node learns the flow here, without knowing the
 * backend's id), then the reply entry, for the same backend id, and the DNAT.
 */
static __always_inline int dsr_deliver(struct __sk_buff *skb, const struct lb_config *cfg,
				       const __be32 *baddr, __be16 bport)
{
	struct lb_ct_entry *ct, entry = { 0 };
	struct lb_frontend_key fk;
	const struct lb_frontend *fe;
	struct lb_ct_key dnat;
	__u32 backend_id = LB_NO_BACKEND;
	struct packet p;
	__u64 now;
	int ev = -1;

	if (parse((void *)(long)skb->data, (void *)(long)skb->data_end, &p))
		return TC_ACT_SHOT;
	frontend_key_of(&p, &fk);
	fe = bpf_map_lookup_elem(&lb_services, &fk);
	if (!fe || !(fe->flags & LB_F_NODEPORT))
		return TC_ACT_SHOT;
	now = bpf_ktime_get_ns();
	ct = bpf_map_lookup_elem(&lb_ct, &p.tuple);
	if (ct && !lb_ct_expired(cfg, p.tuple.proto, ct, now)) {
		/* the node that balanced the flow counted its packets; another node did not */
		if (ct->backend_id == LB_NO_BACKEND)
			ct_count(ct, skb->len);
		ev = ct_observe(ct, &p, 0, now);
		backend_id = ct->backend_id;
	} else {
		entry.backend_id = LB_NO_BACKEND;
		entry.frontend_id = fe->id;
		entry.packets = 1;
		entry.bytes = skb->len;
		ct_observe(&entry, &p, 0, now);
		bpf_map_update_elem(&lb_ct, &p.tuple, &entry, BPF_ANY);
		ct = NULL;
		ev = FLOW_EV_NEW;
	}
	dnat = p.tuple;
	__builtin_memcpy(dnat.daddr, baddr, sizeof(dnat.daddr));
	dnat.dport = bport;
	/* no reset can be made here (the client is outside): HTTP rules drop */
	if (policy_ingress(skb, cfg, &dnat, 0, 1) != TC_ACT_OK)
		return TC_ACT_SHOT;
	if (ev >= 0)
		flow_emit(&p.tuple, baddr, FLOW_WHAT(ev, 0, p.tcp_flags, 0, bport, 0), ct);
	expect_replies(&p, backend_id, baddr, bport, p.tuple.saddr, fe->id, 0);
	if (rewrite(skb, &p, 1, baddr, bport))
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

/*
 * Anything else entering a pod: its ingress policy, then, for an ICMP error
 * about a flow through a service, the translation.
 */
static __always_inline int to_pod(struct __sk_buff *skb, const struct lb_config *cfg)
{
	struct lb_ct_key outer;
	struct packet p;

	if (!parse((void *)(long)skb->data, (void *)(long)skb->data_end, &p))
		return policy_ingress(skb, cfg, &p.tuple, p.l4_off, 1);
	if (policy_unparsed(skb, 0) != TC_ACT_OK)
		return TC_ACT_SHOT;
	return icmp_error(skb, cfg, &outer) < 0 ? TC_ACT_SHOT : TC_ACT_OK;
}

/*
 * Egress towards a pod: a DSR packet's outer header comes off; ICMP meets
 * the pod's ingress policy, then an error the node (or a router) sends a
 * client about a flow through a service is translated; the pod's ingress
 * policy judges the rest.
 */
SEC("tc")
int lb_to_pod(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	const struct lb_config *cfg = config();
	struct ethhdr *eth = data;
	__be32 baddr[4] = { 0 };
	__be16 bport = 0;
	int hdr = 0;

	if (!cfg || (void *)(eth + 1) > end)
		return TC_ACT_OK;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > end)
			return TC_ACT_OK;
		if (ip->protocol == IPPROTO_IPIP && ip->ihl == 5) {
			baddr[0] = ip->daddr;
			bport = ip->id;
			hdr = sizeof(*ip);
		}
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > end)
			return TC_ACT_OK;
		if (ip6->nexthdr == IPPROTO_IPV6) {
			__builtin_memcpy(baddr, &ip6->daddr, sizeof(baddr));
			__builtin_memcpy(&bport, &ip6->flow_lbl[1], sizeof(bport));
			hdr = sizeof(*ip6);
		}
	} else {
		return TC_ACT_OK;
	}
	if (hdr) {
		if (bpf_skb_adjust_room(skb, -hdr, BPF_ADJ_ROOM_MAC, 0))
			return TC_ACT_SHOT;
		return dsr_deliver(skb, cfg, baddr, bport);
	}
	/* one call of to_pod, which is inlined and most of the program */
	return to_pod(skb, cfg);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
