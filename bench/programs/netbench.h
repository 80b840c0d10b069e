/* SPDX-License-Identifier: MIT */
/*
 * The map programs of bench_jit, written once: compiled by clang -target
 * bpf into netbench.bpf.o (TC classifiers; maps looked up with
 * bpf_map_lookup_elem), and by gcc -O2 into native.c (maps looked up with
 * sluice_map_elem_lookup, the call Sluice's helper makes, on the maps the
 * runtime created for the object).
 *
 * Both take the one packet a test run hands them: Ethernet, IPv4, TCP or
 * UDP.
 */
#ifndef SLUICE_BENCH_NETBENCH_H
#define SLUICE_BENCH_NETBENCH_H

#include <linux/types.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <linux/udp.h>

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

/* Both targets are little-endian (bpfel, x86-64). */
#define NB_HTONS(x) ((__u16)__builtin_bswap16(x))
#define NB_HTONL(x) ((__u32)__builtin_bswap32(x))

/* flowtable: a flow's key and its counters. */
#define FLOWS 4096
struct flow_key {
	__u32 saddr, daddr;
	__u16 sport, dport;
	__u8 proto;
	__u8 pad[3];
};
struct flow_stats {
	__u64 packets, bytes;
	__u32 class; /* what the program returns for the flow */
	__u32 pad;
};

/* lb: a VIP, a ring of backend numbers (Maglev's lookup table) and the backends. */
#define LB_VIP NB_HTONL(0x0a60000a) /* 10.96.0.10 */
#define LB_PORT NB_HTONS(80)
#define LB_RING 4093 /* prime, as Maglev's table sizes are */
#define LB_BACKENDS 64
struct backend {
	__u32 addr;
	__u8 mac[ETH_ALEN];
	__u16 pad;
};
static const __u8 lb_mac[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0xfe };

#ifdef __bpf__
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FLOWS);
	__type(key, struct flow_key);
	__type(value, struct flow_stats);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LB_RING);
	__type(key, __u32);
	__type(value, __u32);
} ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LB_BACKENDS);
	__type(key, __u32);
	__type(value, struct backend);
} backends SEC(".maps");

#define NB_LOOKUP(map, key) bpf_map_lookup_elem(&map, key)
#else
#include <sluice/maps.h>

struct nb_maps {
	struct sluice_map *flows, *ring, *backends;
};
extern struct nb_maps nb_maps;

#define NB_LOOKUP(map, key) sluice_map_elem_lookup(nb_maps.map, key, 0)
#endif

/* The L4 ports of an IPv4 packet, or NULL when it has none we can read. */
static __always_inline struct iphdr *nb_parse(void *data, void *data_end, __u16 **ports)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = (struct iphdr *)(eth + 1);
	__u32 ihl;

	if ((void *)(ip + 1) > data_end || eth->h_proto != NB_HTONS(ETH_P_IP))
		return (struct iphdr *)0;
	ihl = ip->ihl * 4u;
	if (ihl < sizeof(*ip) || (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP) ||
	    (ip->frag_off & NB_HTONS(0x1fff)))
		return (struct iphdr *)0;
	*ports = (__u16 *)((__u8 *)ip + ihl);
	if ((void *)(*ports + 2) > data_end)
		return (struct iphdr *)0;
	return ip;
}

/*
 * flowtable: the packet's flow, looked up by its 5-tuple in a hash map of
 * FLOWS flows; its counters go up (atomically: other CPUs count the same
 * flow) and its class is the verdict.  Unknown flows are dropped.
 */
static __always_inline int flowtable_run(void *data, void *data_end)
{
	struct flow_key key = { 0 };
	struct flow_stats *stats;
	struct iphdr *ip;
	__u16 *ports;

	ip = nb_parse(data, data_end, &ports);
	if (!ip)
		return TC_ACT_OK;
	key.saddr = ip->saddr;
	key.daddr = ip->daddr;
	key.sport = ports[0];
	key.dport = ports[1];
	key.proto = ip->protocol;
	stats = NB_LOOKUP(flows, &key);
	if (!stats)
		return TC_ACT_SHOT;
	__sync_fetch_and_add(&stats->packets, 1);
	__sync_fetch_and_add(&stats->bytes, (__u64)((__u8 *)data_end - (__u8 *)data));
	return (int)stats->class;
}

/* The kernel's jhash_3words (lookup3's final mix), as load balancers hash a flow. */
static __always_inline __u32 nb_rol32(__u32 x, unsigned k)
{
	return x << k | x >> (32 - k);
}

static __always_inline __u32 nb_jhash_3words(__u32 a, __u32 b, __u32 c, __u32 seed)
{
	a += 0xdeadbeef + (3 << 2) + seed;
	b += 0xdeadbeef + (3 << 2) + seed;
	c += 0xdeadbeef + (3 << 2) + seed;
	c ^= b; c -= nb_rol32(b, 14);
	a ^= c; a -= nb_rol32(c, 11);
	b ^= a; b -= nb_rol32(a, 25);
	c ^= b; c -= nb_rol32(b, 16);
	a ^= c; a -= nb_rol32(c, 4);
	b ^= a; b -= nb_rol32(a, 14);
	c ^= b; c -= nb_rol32(b, 24);
	return c;
}

static __always_inline __u16 nb_csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum += sum >> 16;
	return (__u16)~sum;
}

/* RFC 1624: a checksum after a 32-bit field changed from from to to. */
static __always_inline __u16 nb_csum_replace4(__u16 check, __u32 from, __u32 to)
{
	__u32 sum = (__u16)~check;

	sum += (__u16)~from + (__u16)~(from >> 16);
	sum += (__u16)to + (__u16)(to >> 16);
	return nb_csum_fold(sum);
}

/*
 * lb: packets to the service's port (the VIP is routed to the balancer)
 * go to a backend chosen by the flow's hash through the ring: the
 * destination MAC and address are rewritten to the backend's, the source
 * MAC to the balancer's, the TCP or UDP checksum is updated for the new
 * address and the IPv4 header's computed anew.  The hash takes the flow as
 * the client sent it, to the VIP, so a packet rewritten once goes the same
 * way again: a test run repeats the program on one buffer, and each run
 * then does the same work.  Returns the backend's number; TC_ACT_OK (0)
 * for packets it leaves alone (other ports, IPv4 options).
 */
static __always_inline int lb_run(void *data, void *data_end)
{
	struct ethhdr *eth = data;
	struct backend *backend;
	__u32 slot, *number, sum = 0;
	struct iphdr *ip;
	__u16 *ports, *check, *word;

	ip = nb_parse(data, data_end, &ports);
	if (!ip || ip->ihl != 5 || ports[1] != LB_PORT)
		return TC_ACT_OK;
	slot = nb_jhash_3words(ip->saddr, LB_VIP, (__u32)ports[0] << 16 | ports[1],
			       ip->protocol) % LB_RING;
	number = NB_LOOKUP(ring, &slot);
	if (!number)
		return TC_ACT_SHOT;
	backend = NB_LOOKUP(backends, number);
	if (!backend)
		return TC_ACT_SHOT;

	if (ip->protocol == IPPROTO_TCP)
		check = &((struct tcphdr *)ports)->check;
	else
		check = &((struct udphdr *)ports)->check;
	if ((void *)(check + 1) > data_end)
		return TC_ACT_SHOT;
	if (ip->protocol == IPPROTO_TCP || *check) /* UDP's 0: no checksum */
		*check = nb_csum_replace4(*check, ip->daddr, backend->addr);
	ip->daddr = backend->addr;
	__builtin_memcpy(eth->h_dest, backend->mac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, lb_mac, ETH_ALEN);

	ip->check = 0;
	word = (__u16 *)ip;
	for (int i = 0; i < (int)(sizeof(*ip) / 2); i++)
		sum += word[i];
	ip->check = nb_csum_fold(sum);
	return (int)*number;
}

#endif
