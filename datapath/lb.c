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
 * client only ever sees the service address.
 *
 * Handled: IPv4 (with options) and IPv6 (no extension headers), TCP and UDP,
 * and the ICMPv4 errors backends send about such flows.  Passed unchanged:
 * everything else (ICMPv6 errors among it), and IPv4 fragments (only the
 * first carries the ports; Kubernetes services are rarely fragmented).
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

#include "lb.h"

/* <sys/socket.h> is not for BPF programs. */
#define AF_INET 2
#define AF_INET6 10

#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_ACK 0x10
#define NSEC_PER_SEC 1000000000ull

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
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LB_MAX_FRONTENDS);
	__type(key, __u32);
	__type(value, struct lb_stats);
} lb_stats SEC(".maps");

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
		if (a && now - a->last_seen < fe->affinity_timeout * NSEC_PER_SEC) {
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

/*
 * The backend of a packet to frontend fe: conntrack's, or a new pick that
 * conntrack then remembers (*fresh set).  NULL when the frontend has none.
 */
static __always_inline const struct lb_backend *flow_backend(const struct lb_frontend *fe,
							     const struct packet *p, __u32 len,
							     int *fresh)
{
	struct lb_stats *st = stats_of(fe->id);
	const struct lb_backend *be = NULL;
	struct lb_ct_entry *ct, entry = { 0 };
	__u64 now = bpf_ktime_get_ns();
	__u32 backend_id = 0;
	int new_connection = p->tuple.proto == IPPROTO_TCP &&
			     (p->tcp_flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN;

	*fresh = 0;
	ct = bpf_map_lookup_elem(&lb_ct, &p->tuple);
	if (ct && !new_connection) {
		backend_id = ct->backend_id;
		be = bpf_map_lookup_elem(&lb_backends, &backend_id);
	}
	if (!be) {
		be = pick_backend(fe, &p->tuple, now, &backend_id);
		if (!be) {
			if (st)
				st->no_backend++;
			return NULL;
		}
	}
	if (ct && ct->backend_id == backend_id) {
		ct->last_seen = now;
	} else {
		/* a new flow, or one moved off a removed backend */
		entry.backend_id = backend_id;
		entry.frontend_id = fe->id;
		entry.last_seen = now;
		bpf_map_update_elem(&lb_ct, &p->tuple, &entry, BPF_ANY);
		*fresh = 1;
	}
	if (st) {
		st->packets++;
		st->bytes += len;
	}
	return be;
}

/*
 * The reply entry of a flow: replies from the backend (baddr:bport) to the
 * client get the frontend's address and port back as their source.
 */
static __always_inline void expect_replies(const struct packet *p, const __be32 *baddr,
					   __be16 bport, __u32 frontend_id)
{
	struct lb_ct_key reply = { 0 };
	struct lb_ct_entry entry = { 0 }, *known;

	__builtin_memcpy(reply.saddr, baddr, sizeof(reply.saddr));
	__builtin_memcpy(reply.daddr, p->tuple.saddr, sizeof(reply.daddr));
	reply.sport = bport;
	reply.dport = p->tuple.sport;
	reply.proto = p->tuple.proto;
	reply.family = p->tuple.family;
	reply.dir = LB_CT_REPLY;
	/* DSR calls this for every packet: write only what is new */
	known = bpf_map_lookup_elem(&lb_ct, &reply);
	if (known && known->port == p->tuple.dport && known->addr[0] == p->tuple.daddr[0] &&
	    known->addr[1] == p->tuple.daddr[1] && known->addr[2] == p->tuple.daddr[2] &&
	    known->addr[3] == p->tuple.daddr[3])
		return;
	entry.frontend_id = frontend_id;
	entry.last_seen = bpf_ktime_get_ns();
	__builtin_memcpy(entry.addr, p->tuple.daddr, sizeof(entry.addr));
	entry.port = p->tuple.dport;
	bpf_map_update_elem(&lb_ct, &reply, &entry, BPF_ANY);
}

static __always_inline int to_frontend(struct __sk_buff *skb, struct packet *p,
				       const struct lb_frontend *fe)
{
	int fresh;
	const struct lb_backend *be = flow_backend(fe, p, skb->len, &fresh);

	if (!be)
		return TC_ACT_SHOT;
	if (fresh)
		expect_replies(p, be->addr, be->port, fe->id);
	if (rewrite(skb, p, 1, be->addr, be->port))
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

/*
 * Send a reverse-NATed reply straight to the client's interface.  Routing
 * it would not do for NodePorts: its source is then the node's own address,
 * which the stack drops as a martian when it forwards.  Falls back to the
 * stack when the FIB has no answer.
 */
static __always_inline int redirect_reply(struct __sk_buff *skb, const struct packet *p,
					  const __be32 *src)
{
	struct bpf_fib_lookup fib = { 0 };
	long ret;

	fib.family = p->tuple.family;
	fib.ifindex = skb->ingress_ifindex;
	fib.l4_protocol = p->tuple.proto;
	fib.tot_len = (__u16)skb->len;
	if (p->tuple.family == AF_INET) {
		fib.ipv4_src = src[0];
		fib.ipv4_dst = p->tuple.daddr[0];
	} else {
		__builtin_memcpy(fib.ipv6_src, src, 16);
		__builtin_memcpy(fib.ipv6_dst, p->tuple.daddr, 16);
	}
	ret = bpf_fib_lookup(skb, &fib, sizeof(fib), 0);
	if (ret != BPF_FIB_LKUP_RET_SUCCESS && ret != BPF_FIB_LKUP_RET_NO_NEIGH)
		return TC_ACT_OK;
	return bpf_redirect_neigh(fib.ifindex, NULL, 0, 0);
}

/* A reply from a backend: its source becomes the frontend again. */
static __always_inline int from_backend(struct __sk_buff *skb, struct packet *p)
{
	struct lb_ct_key key = p->tuple;
	struct lb_ct_entry *ct;
	struct lb_stats *st;
	__be32 addr[4];
	__be16 port;

	key.dir = LB_CT_REPLY;
	ct = bpf_map_lookup_elem(&lb_ct, &key);
	if (!ct)
		return TC_ACT_OK;
	ct->last_seen = bpf_ktime_get_ns();
	__builtin_memcpy(addr, ct->addr, sizeof(addr));
	port = ct->port;
	st = stats_of(ct->frontend_id);
	if (st) {
		st->reply_packets++;
		st->reply_bytes += skb->len;
	}
	if (rewrite(skb, p, 0, addr, port))
		return TC_ACT_SHOT;
	return redirect_reply(skb, p, addr);
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
 * An ICMPv4 error (unreachable, time exceeded, parameter problem) a backend
 * sends about a flow it got through a service: the packet it quotes is the
 * DNATed one, client -> backend.  The client's stack matches errors to
 * sockets by the quoted packet, so the quote's destination becomes the
 * frontend again (fixing the quoted header's checksum and the ICMP one, which
 * covers the quote), and so does the error's source.
 */
static __always_inline int icmp_error_from_backend(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1), *quoted;
	__u32 icmp_off, quoted_off, quoted_l4_off, csum_off;
	struct lb_ct_key key = { 0 };
	struct lb_ct_entry *ct;
	struct packet p = { 0 };
	__be32 old_addr, new_addr, backend;
	__be16 ports[2], new_port, old_check, new_check;
	__u8 type;

	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    ip->protocol != IPPROTO_ICMP || ip->ihl != 5)
		return TC_ACT_OK;
	icmp_off = sizeof(*eth) + sizeof(*ip);
	quoted_off = icmp_off + 8;
	quoted = data + quoted_off;
	if ((void *)(quoted + 1) > end || quoted->ihl != 5)
		return TC_ACT_OK;
	type = *(__u8 *)(data + icmp_off);
	if (type != 3 && type != 11 && type != 12) /* unreachable, time exceeded, parameter */
		return TC_ACT_OK;
	quoted_l4_off = quoted_off + sizeof(*quoted);
	if (data + quoted_l4_off + sizeof(ports) > end)
		return TC_ACT_OK;
	__builtin_memcpy(ports, data + quoted_l4_off, sizeof(ports));
	/* the reply entry of the quoted flow, seen from the backend */
	key.saddr[0] = quoted->daddr;
	key.daddr[0] = quoted->saddr;
	key.sport = ports[1];
	key.dport = ports[0];
	key.proto = quoted->protocol;
	key.family = AF_INET;
	key.dir = LB_CT_REPLY;
	backend = ip->saddr;
	old_addr = quoted->daddr;
	old_check = quoted->check;
	p.tuple.family = AF_INET;
	p.tuple.proto = IPPROTO_ICMP;
	p.tuple.daddr[0] = ip->daddr;
	ct = bpf_map_lookup_elem(&lb_ct, &key);
	if (!ct)
		return TC_ACT_OK;
	new_addr = ct->addr[0];
	new_port = ct->port;
	csum_off = icmp_off + 2;
	/* the quoted destination address, and the quoted header's checksum with it */
	if (bpf_l4_csum_replace(skb, csum_off, old_addr, new_addr, sizeof(new_addr)) ||
	    bpf_l3_csum_replace(skb, quoted_off + offsetof(struct iphdr, check), old_addr, new_addr,
				sizeof(new_addr)) ||
	    bpf_skb_store_bytes(skb, quoted_off + offsetof(struct iphdr, daddr), &new_addr,
				sizeof(new_addr), 0) ||
	    bpf_skb_load_bytes(skb, quoted_off + offsetof(struct iphdr, check), &new_check,
			       sizeof(new_check)) ||
	    bpf_l4_csum_replace(skb, csum_off, old_check, new_check, sizeof(new_check)) ||
	    /* the quoted destination port */
	    bpf_l4_csum_replace(skb, csum_off, ports[1], new_port, sizeof(new_port)) ||
	    bpf_skb_store_bytes(skb, quoted_l4_off + 2, &new_port, sizeof(new_port), 0) ||
	    /* the error comes from the service address */
	    bpf_l3_csum_replace(skb, sizeof(*eth) + offsetof(struct iphdr, check), backend, new_addr,
				sizeof(new_addr)) ||
	    bpf_skb_store_bytes(skb, sizeof(*eth) + offsetof(struct iphdr, saddr), &new_addr,
				sizeof(new_addr), 0))
		return TC_ACT_SHOT;
	return redirect_reply(skb, &p, &new_addr);
}

SEC("tc")
int lb_from_pod(struct __sk_buff *skb)
{
	struct lb_frontend_key fk;
	const struct lb_frontend *fe;
	struct packet p;

	if (parse((void *)(long)skb->data, (void *)(long)skb->data_end, &p))
		return icmp_error_from_backend(skb);
	frontend_key_of(&p, &fk);
	fe = bpf_map_lookup_elem(&lb_services, &fk);
	if (fe)
		return to_frontend(skb, &p, fe);
	return from_backend(skb, &p);
}

/*
 * NodePorts with direct server return (DSR), at XDP on the node's external
 * interface.  A packet to a node port gets its backend (conntrack, affinity,
 * Maglev, as above) and is encapsulated in IPIP to the backend's address, as
 * Katran does; the outer header's IP ID (free: the outer header says don't
 * fragment) carries the backend's port.  Where the backend lives, lb_to_pod
 * takes the outer header off, DNATs to the backend and records the reply
 * entry, so the backend's replies leave with the node port as their source
 * straight to the client: the load balancer never sees them.  IPv4 only;
 * IPv6 node ports pass to the stack.
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

static __always_inline int encapsulate(struct xdp_md *ctx, const struct lb_backend *be)
{
	struct iphdr *outer, *inner;
	struct ethhdr *eth;
	void *data, *end;

	if (bpf_xdp_adjust_head(ctx, -(int)sizeof(struct iphdr)))
		return XDP_DROP;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	eth = data;
	outer = (void *)(eth + 1);
	inner = (void *)(outer + 1);
	if ((void *)(inner + 1) > end)
		return XDP_DROP;
	/* the Ethernet header moves to the new front; the two never overlap */
	__builtin_memcpy(eth, (void *)eth + sizeof(*outer), sizeof(*eth));
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

SEC("xdp")
int lb_nodeport(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct lb_frontend_key fk;
	const struct lb_frontend *fe;
	const struct lb_backend *be;
	struct packet p;
	int fresh;

	if (parse(data, end, &p) || p.tuple.family != AF_INET)
		return XDP_PASS;
	frontend_key_of(&p, &fk);
	fe = bpf_map_lookup_elem(&lb_services, &fk);
	if (!fe || !(fe->flags & LB_F_NODEPORT))
		return XDP_PASS;
	be = flow_backend(fe, &p, (__u32)(end - data), &fresh);
	if (!be || be->family != AF_INET)
		return XDP_DROP;
	return encapsulate(ctx, be);
}

/* Where the backend lives: the DSR packet's outer header off, DNAT, reply entry. */
SEC("tc")
int lb_to_pod(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *outer = (void *)(eth + 1);
	struct lb_frontend_key fk;
	const struct lb_frontend *fe;
	__be32 baddr[4] = { 0 };
	struct packet p;
	__be16 bport;

	if ((void *)(outer + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) ||
	    outer->protocol != IPPROTO_IPIP || outer->ihl != 5)
		return TC_ACT_OK;
	baddr[0] = outer->daddr;
	bport = outer->id;
	if (bpf_skb_adjust_room(skb, -(int)sizeof(*outer), BPF_ADJ_ROOM_MAC, 0))
		return TC_ACT_SHOT;
	if (parse((void *)(long)skb->data, (void *)(long)skb->data_end, &p))
		return TC_ACT_SHOT;
	frontend_key_of(&p, &fk);
	fe = bpf_map_lookup_elem(&lb_services, &fk);
	if (!fe || !(fe->flags & LB_F_NODEPORT))
		return TC_ACT_SHOT;
	expect_replies(&p, baddr, bport, fe->id);
	if (rewrite(skb, &p, 1, baddr, bport))
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
