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
 * Handled: IPv4 (with options) and IPv6 (no extension headers), TCP and UDP.
 * Passed unchanged: everything else, and IPv4 fragments (only the first
 * carries the ports; Kubernetes services are rarely fragmented).
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
 * A Maglev table: entry i is the backend id for flow hash i modulo the size.
 * BPF_F_INNER_MAP lets each table have its own (prime) size; BPF_F_MMAPABLE
 * lets the agent fill one with a memcpy instead of a syscall per entry.
 */
struct maglev_table {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_INNER_MAP | BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u32);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, LB_MAGLEV_SLOTS);
	__type(key, __u32);
	__array(values, struct maglev_table);
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

static __always_inline int parse(struct __sk_buff *skb, struct packet *p)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
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
	__u32 slot = fe->slot, index;
	void *table;
	__u32 *id;

	if (!fe->backends || !fe->size)
		return -1;
	table = bpf_map_lookup_elem(&lb_maglev, &slot);
	if (!table)
		return -1;
	index = lb_flow_hash(t) % fe->size;
	id = bpf_map_lookup_elem(table, &index);
	if (!id)
		return -1;
	*backend_id = *id;
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

static __always_inline int to_frontend(struct __sk_buff *skb, struct packet *p,
				       const struct lb_frontend *fe)
{
	struct lb_stats *st = stats_of(fe->id);
	const struct lb_backend *be = NULL;
	struct lb_ct_entry *ct, entry = { 0 };
	struct lb_ct_key reply = { 0 };
	__u64 now = bpf_ktime_get_ns();
	__u32 backend_id = 0;
	int new_connection = p->tuple.proto == IPPROTO_TCP &&
			     (p->tcp_flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN;

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
			return TC_ACT_SHOT;
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

		__builtin_memcpy(reply.saddr, be->addr, sizeof(reply.saddr));
		__builtin_memcpy(reply.daddr, p->tuple.saddr, sizeof(reply.daddr));
		reply.sport = be->port;
		reply.dport = p->tuple.sport;
		reply.proto = p->tuple.proto;
		reply.family = p->tuple.family;
		reply.dir = LB_CT_REPLY;
		__builtin_memcpy(entry.addr, p->tuple.daddr, sizeof(entry.addr));
		entry.port = p->tuple.dport;
		bpf_map_update_elem(&lb_ct, &reply, &entry, BPF_ANY);
	}
	if (st) {
		st->packets++;
		st->bytes += skb->len;
	}
	if (rewrite(skb, p, 1, be->addr, be->port))
		return TC_ACT_SHOT;
	return TC_ACT_OK;
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
	return TC_ACT_OK;
}

SEC("tc")
int lb_from_pod(struct __sk_buff *skb)
{
	struct lb_frontend_key fk = { 0 };
	const struct lb_frontend *fe;
	struct packet p;

	if (parse(skb, &p))
		return TC_ACT_OK;
	__builtin_memcpy(fk.addr, p.tuple.daddr, sizeof(fk.addr));
	fk.port = p.tuple.dport;
	fk.proto = p.tuple.proto;
	fk.family = p.tuple.family;
	fe = bpf_map_lookup_elem(&lb_services, &fk);
	if (fe)
		return to_frontend(skb, &p, fe);
	return from_backend(skb, &p);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
