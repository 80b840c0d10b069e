/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_TESTS_PKTGEN_H
#define SLUICE_TESTS_PKTGEN_H

/*
 * A reproducible set of Ethernet frames for running packet programs on:
 * well-formed traffic of every common kind (Ethernet II with 0-2 VLAN
 * tags, ARP, IPv4 with options and fragments, IPv6 with extension headers
 * in chains of up to 40, TCP, UDP, ICMP, ICMPv6, other protocols, and
 * conversations that come back to the same flows), then the same cut
 * short at and inside every header, headers made inconsistent one defect
 * at a time, random garbage, and frames from 1,500 bytes to jumbo size.
 * The bytes depend only on the seed.
 *
 * Checksums and length fields are right unless a packet's defect is that
 * they are wrong, so programs that rewrite headers incrementally work on
 * the data they expect.  Addresses and ports come from small pools
 * (pktgen_ipv4_addrs, ...) so that a test can fill maps that match some of
 * the traffic.
 */
#include <stddef.h>
#include <stdint.h>

/* The largest frame made: a 9,000-byte jumbo payload with its headers. */
#define PKTGEN_MAX_LEN 9100

enum pktgen_class {
	PKTGEN_VALID,
	PKTGEN_TRUNCATED,  /* a valid frame cut at or inside a header */
	PKTGEN_MALFORMED,  /* one header field contradicts the frame */
	PKTGEN_GARBAGE,    /* random bytes, some behind a plausible EtherType */
	PKTGEN_OVERSIZED,  /* valid, 1,500 bytes and beyond */
	PKTGEN_CLASS_COUNT
};

struct pktgen_packet {
	uint8_t *data;
	uint32_t len;
	enum pktgen_class cls;
	char label[80];    /* what it is: "vlan ipv4[frag-first] tcp[syn,mss]" */
};

struct pktgen_set {
	struct pktgen_packet *pkts;
	size_t count;
	size_t cap;
};

/*
 * Fill set (zeroed by the caller) with at least 1,000 packets made from
 * seed.  0, or -ENOMEM with set freed.
 */
int pktgen_generate(struct pktgen_set *set, uint64_t seed);
void pktgen_free(struct pktgen_set *set);
const char *pktgen_class_name(enum pktgen_class cls);

/*
 * The conversations: PKTGEN_FLOWS flows of PKTGEN_PACKETS_PER_FLOW IPv4
 * packets each, from port 40000 + flow number of pktgen_ipv4_addrs[flow %
 * PKTGEN_IPV4_ADDRS]; odd flows are UDP to port 53, even ones TCP to port 80,
 * every fourth flow goes to 8.8.8.8 and the others to 10.1.2.3.
 *
 * After every other packet of the set come, in this order: the same flows
 * over IPv6, from pktgen_ipv6_addrs[flow % PKTGEN_IPV6_UNICAST], flows 0
 * and 1 mod 4 to fd00:1::9 (pktgen_ipv6_addrs[2]), 2 and 3 to 2001:db8::42
 * ([3]), labelled "flowN" as over IPv4; then "answerN": one packet back to
 * each flow's client port from each address of its pool (IPv6: the
 * unicast ones), UDP from port 53, TCP (PSH+ACK) from
 * PKTGEN_ANSWER_PORT_TCP, as from a backend behind a service; then
 * "tunnelN": every flow packet again, of both versions, inside an IPIP or
 * IPv6-in-IPv6 header from the client to 172.16.0.5 or fd00::2 (a load
 * balancer's direct server return to a backend) whose IPv4 ID or IPv6
 * flow label is PKTGEN_TUNNEL_ID; then "errorN": from each address an
 * answer comes from, an ICMP (ICMPv6) port unreachable to the client
 * quoting the flow's first packet as sent to that address, to the port
 * answers come from.
 */
#define PKTGEN_FLOWS 16
#define PKTGEN_PACKETS_PER_FLOW 6
#define PKTGEN_ANSWER_PORT_TCP 8080
#define PKTGEN_TUNNEL_ID 8080

/* The pools addresses are drawn from (network byte order). */
#define PKTGEN_IPV4_ADDRS 8
#define PKTGEN_IPV6_ADDRS 6
/* The first of pktgen_ipv6_addrs are global or unique-local unicast addresses. */
#define PKTGEN_IPV6_UNICAST 4
extern const uint8_t pktgen_ipv4_addrs[PKTGEN_IPV4_ADDRS][4];
extern const uint8_t pktgen_ipv6_addrs[PKTGEN_IPV6_ADDRS][16];

/* The Internet checksum's one's-complement sum of len bytes, folded, not inverted. */
uint16_t pktgen_csum_fold(const uint8_t *p, size_t len, uint32_t sum);

#endif
