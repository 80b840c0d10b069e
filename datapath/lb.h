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
};

struct lb_ct_entry {
	__u32 backend_id;  /* forward entries */
	__u32 frontend_id;
	__be32 addr[4];    /* reply entries: the frontend's address and port */
	__be16 port;
	__u16 pad;
	__u32 pad2;
	__u64 last_seen;   /* bpf_ktime_get_ns() of the last packet */
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
