/* SPDX-License-Identifier: MIT */
/*
 * The service load balancer's maps, shared by the eBPF datapath (lb.c) and
 * the agent that fills them (src/k8s/agent.c): one layout, compiled twice.
 *
 * A frontend is one address:port/protocol a service answers on (a ClusterIP
 * port, a NodePort on the node's address).  Packets to a frontend are
 * DNATed to a backend that the frontend's Maglev table picks by flow hash;
 * conntrack remembers the choice, and a reverse entry rewrites the replies'
 * source back to the frontend.
 *
 * The atomic switch: lb_services maps a frontend to {id, table, size, ...}
 * where table is the offset of its Maglev table in lb_maglev, one large
 * array shared by all frontends.  The agent writes a new table into free
 * entries of that array (through mmap), then rewrites the lb_services entry,
 * one hash-map update the datapath sees whole: packets use either the old
 * table with its size or the new one with its size, never a mix.  The old
 * entries are reused only from the next apply on, long after any packet
 * that read the old offset is done.  Backends referenced by a table are
 * added before the switch and removed after it.  (An array of maps with a
 * new inner map per table would switch as atomically, but the kernel waits
 * for an RCU grace period on every update of an outer map from user space:
 * milliseconds per service, minutes for 10,000.)
 *
 * Conntrack ages flows as Cilium's does: a flow's forward entry holds when
 * it last saw a packet (bpf_ktime_get_ns, CLOCK_MONOTONIC) and what TCP has
 * said so far (LB_CT_*); lb_ct_lifetime() turns that into how long the flow
 * may stay idle: short while only SYNs were seen, long once established,
 * short again after FIN from both sides or a RST, middling for UDP.  An LRU
 * hash never expires anything by itself, so the datapath treats an expired
 * entry as missing, and the agent's garbage collector deletes expired flows
 * and the reply entries of flows that are gone.  The reply entry holds no
 * state of its own: it names its forward entry (lb_ct_forward_key()), and
 * is stale once that entry has expired or moved to another backend.
 *
 * Addresses are four big-endian words; IPv4 uses the first, the rest zero.
 */
#ifndef SLUICE_DATAPATH_LB_H
#define SLUICE_DATAPATH_LB_H

#include <linux/types.h>

#define LB_MAX_FRONTENDS 65536u
#define LB_MAX_BACKENDS 65536u
/* Table entries in lb_maglev unless the agent sets another size before loading. */
#define LB_MAGLEV_ENTRIES (1u << 22)
#define LB_CT_MAX 262144u
#define LB_AFFINITY_MAX 65536u

/* struct lb_frontend.flags */
#define LB_F_AFFINITY 0x1  /* sessionAffinity: ClientIP */
#define LB_F_NODEPORT 0x2  /* a NodePort on the node's address (XDP, DSR) */

/* struct lb_ct_key.dir */
#define LB_CT_FORWARD 0    /* client -> frontend: value names the backend */
#define LB_CT_REPLY 1      /* backend -> client: value names the frontend */

/* struct lb_ct_entry.flags: what a flow has shown (forward entries), LB_CT_HAIRPIN (reply ones) */
#define LB_CT_REPLIED 0x01     /* a packet came back from the backend */
#define LB_CT_NON_SYN 0x02     /* a TCP packet without SYN, either way */
#define LB_CT_CLIENT_FIN 0x04
#define LB_CT_BACKEND_FIN 0x08
#define LB_CT_RST 0x10
/*
 * The client is its own backend: its packets leave with the hairpin address
 * as their source, or its own stack would keep the replies.
 */
#define LB_CT_HAIRPIN 0x20

/* TCP header flags, as the datapath reads them (byte 13 of the header). */
#define LB_TCP_FIN 0x01
#define LB_TCP_SYN 0x02
#define LB_TCP_RST 0x04
#define LB_TCP_ACK 0x10

/* A forward entry whose backend is not known here (DSR, where the backend lives). */
#define LB_NO_BACKEND 0xffffffffu

#define LB_NSEC_PER_SEC 1000000000ull

struct lb_frontend_key {
	__be32 addr[4];
	__be16 port;
	__u8 proto;        /* IPPROTO_TCP, IPPROTO_UDP */
	__u8 family;       /* AF_INET, AF_INET6 */
};

struct lb_frontend {
	__u32 id;          /* index of lb_stats */
	__u32 table;       /* lb_maglev index of the table's first entry */
	__u32 size;        /* entries of the table (a prime) */
	__u32 affinity_timeout; /* seconds, with LB_F_AFFINITY */
	__u16 flags;       /* LB_F_* */
	__u16 backends;    /* how many backends the table spreads over; 0 drops */
};

/*
 * lb_maglev's element: two table entries.  The kernel rounds array elements
 * up to 8 bytes, so packing two 4-byte ids keeps the mmap'ed array a plain
 * uint32_t[] for the agent: entry i is element i / 2, half i % 2.
 */
struct lb_maglev_pair {
	__u32 id[2];
};

struct lb_backend {
	__be32 addr[4];
	__be16 port;
	__u8 family;
	__u8 pad;
};

struct lb_ct_key {
	__be32 saddr[4];
	__be32 daddr[4];
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 family;
	__u8 dir;          /* LB_CT_FORWARD, LB_CT_REPLY */
	__u8 pad;
} __attribute__((aligned(8))); /* copied into flow events a word at a time */

struct lb_ct_entry {
	__u32 backend_id;  /* forward: the flow's backend; reply: the backend it was made for */
	__u32 frontend_id;
	__be32 addr[4];    /* reply entries: the frontend's address and port */
	__be16 port;
	__u8 flags;        /* LB_CT_* */
	__u8 pad;
	__u32 pad2;
	__u64 last_seen;   /* forward: the last packet's bpf_ktime_get_ns(); reply: when made */
	__u64 packets;     /* forward: of the flow so far, both ways (flow events carry them) */
	__u64 bytes;
};

/*
 * The agent's settings for the datapath (lb_config's one element): how long
 * idle flows live, in seconds, and the hairpin addresses.
 */
struct lb_config {
	__u32 tcp_syn;         /* only SYNs seen so far */
	__u32 tcp_established;
	__u32 tcp_closing;     /* FIN from both sides, or a RST */
	__u32 udp;
	/* the source a hairpin flow's packets get: IPv4 (the first word), IPv6 */
	__be32 hairpin4[4];
	__be32 hairpin6[4];
};

struct lb_affinity_key {
	__be32 addr[4];    /* the client */
	__u32 frontend_id;
	__u8 family;
	__u8 pad[3];
};

struct lb_affinity {
	__u32 backend_id;
	__u32 pad;
	__u64 last_seen;   /* bpf_ktime_get_ns() */
};

/*
 * A flow's flags after one more packet (TCP flags tcp_flags; from the
 * backend or from the client).  Flags only ever grow: a new connection on
 * the same ports starts a new entry.
 */
static inline __attribute__((always_inline)) __u8 lb_ct_seen(__u8 flags, __u8 proto,
							     __u8 tcp_flags, int from_backend)
{
	if (from_backend)
		flags |= LB_CT_REPLIED;
	if (proto != 6) /* IPPROTO_TCP */
		return flags;
	if (!(tcp_flags & LB_TCP_SYN))
		flags |= LB_CT_NON_SYN;
	if (tcp_flags & LB_TCP_FIN)
		flags |= from_backend ? LB_CT_BACKEND_FIN : LB_CT_CLIENT_FIN;
	if (tcp_flags & LB_TCP_RST)
		flags |= LB_CT_RST;
	return flags;
}

/* A flow's state, as the flags of its forward entry tell it. */
enum lb_flow_state {
	LB_FLOW_SYN_SENT,      /* no answer yet, or no packet but SYNs: no connection yet */
	LB_FLOW_ESTABLISHED,
	LB_FLOW_FIN_WAIT,      /* FIN from one side */
	LB_FLOW_CLOSED,        /* FIN from both sides */
	LB_FLOW_RESET,
	LB_FLOW_UDP,
	LB_FLOW_STATES
};

static inline __attribute__((always_inline)) enum lb_flow_state lb_flow_state(__u8 proto,
									     __u8 flags)
{
	__u8 fins = flags & (LB_CT_CLIENT_FIN | LB_CT_BACKEND_FIN);

	if (proto != 6) /* IPPROTO_TCP */
		return LB_FLOW_UDP;
	if (flags & LB_CT_RST)
		return LB_FLOW_RESET;
	if (fins == (LB_CT_CLIENT_FIN | LB_CT_BACKEND_FIN))
		return LB_FLOW_CLOSED;
	if ((flags & (LB_CT_REPLIED | LB_CT_NON_SYN)) != (LB_CT_REPLIED | LB_CT_NON_SYN))
		return LB_FLOW_SYN_SENT;
	return fins ? LB_FLOW_FIN_WAIT : LB_FLOW_ESTABLISHED;
}

/* How long a flow in this state may stay idle before it is gone, in ns. */
static inline __attribute__((always_inline)) __u64 lb_ct_lifetime(const struct lb_config *c,
								 __u8 proto, __u8 flags)
{
	__u32 s;

	switch (lb_flow_state(proto, flags)) {
	case LB_FLOW_UDP:
		s = c->udp;
		break;
	case LB_FLOW_SYN_SENT:
		s = c->tcp_syn;
		break;
	case LB_FLOW_CLOSED:
	case LB_FLOW_RESET:
		s = c->tcp_closing;
		break;
	default: /* established, half closed */
		s = c->tcp_established;
		break;
	}
	return s * LB_NSEC_PER_SEC;
}

/*
 * Whether a forward entry has been idle too long at time now.  The agent's
 * clock may read earlier than a datapath write it races with: that entry is
 * fresh, not 584 years old.
 */
static inline __attribute__((always_inline)) int lb_ct_expired(const struct lb_config *c,
							       __u8 proto,
							       const struct lb_ct_entry *e,
							       __u64 now)
{
	return now > e->last_seen && now - e->last_seen >= lb_ct_lifetime(c, proto, e->flags);
}

/* The forward entry's key of a reply entry (key r, value e). */
static inline __attribute__((always_inline)) void lb_ct_forward_key(const struct lb_ct_key *r,
								    const struct lb_ct_entry *e,
								    struct lb_ct_key *fwd)
{
	__builtin_memset(fwd, 0, sizeof(*fwd));
	/* a hairpin flow's client is the backend itself; the reply goes to the hairpin address */
	__builtin_memcpy(fwd->saddr, (e->flags & LB_CT_HAIRPIN) ? r->saddr : r->daddr,
			 sizeof(fwd->saddr));
	__builtin_memcpy(fwd->daddr, e->addr, sizeof(fwd->daddr));
	fwd->sport = r->dport;
	fwd->dport = e->port;
	fwd->proto = r->proto;
	fwd->family = r->family;
	fwd->dir = LB_CT_FORWARD;
}

/*
 * Whether a reply entry (rev, of protocol proto) no longer belongs to a
 * live flow: its forward entry (fwd, NULL when missing) is gone, expired,
 * or has moved to another backend since the reply entry was made.
 */
static inline __attribute__((always_inline)) int lb_ct_reply_stale(const struct lb_config *c,
								   __u8 proto,
								   const struct lb_ct_entry *rev,
								   const struct lb_ct_entry *fwd,
								   __u64 now)
{
	return !fwd || fwd->backend_id != rev->backend_id || lb_ct_expired(c, proto, fwd, now);
}

/* Per frontend, per CPU: the agent sums the CPUs. */
struct lb_stats {
	__u64 packets;       /* client -> backend */
	__u64 bytes;
	__u64 reply_packets; /* backend -> client, reverse-NATed */
	__u64 reply_bytes;
	__u64 no_backend;    /* dropped: the frontend has no backend */
};

/*
 * The flow hash Maglev indexes with (murmur3's mixing over the 5-tuple).
 * The same function in the agent and the tests lets them predict which
 * backend a flow gets from a table alone.
 */
static inline __attribute__((always_inline)) __u32 lb_mix(__u32 h, __u32 k)
{
	k *= 0xcc9e2d51u;
	k = (k << 15) | (k >> 17);
	k *= 0x1b873593u;
	h ^= k;
	h = (h << 13) | (h >> 19);
	return h * 5 + 0xe6546b64u;
}

static inline __attribute__((always_inline)) __u32 lb_flow_hash(const struct lb_ct_key *k)
{
	__u32 h = 0x5ca1ab1eu;

	h = lb_mix(h, k->saddr[0]);
	h = lb_mix(h, k->saddr[1]);
	h = lb_mix(h, k->saddr[2]);
	h = lb_mix(h, k->saddr[3]);
	h = lb_mix(h, k->daddr[0]);
	h = lb_mix(h, k->daddr[1]);
	h = lb_mix(h, k->daddr[2]);
	h = lb_mix(h, k->daddr[3]);
	h = lb_mix(h, ((__u32)k->sport << 16) | k->dport);
	h = lb_mix(h, k->proto);
	/* murmur3's finaliser, so that every input bit reaches every output bit */
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

#endif
