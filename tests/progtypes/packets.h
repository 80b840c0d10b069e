/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_TESTS_PACKETS_H
#define SLUICE_TESTS_PACKETS_H

/*
 * A deterministic packet set for the program-type tests: Ethernet frames
 * with VLAN tags, IPv4 (with options, fragments), IPv6, ARP and 802.3/LLC,
 * carrying UDP, TCP and ICMP with valid checksums, each also truncated at
 * every header boundary, and frames of random bytes.
 */
#include <stddef.h>
#include <stdint.h>

/* jumbo frames too: XDP makes multi-buffer frames of what passes 3520 bytes */
#define PACKET_MAX 9100

struct packet {
	uint8_t bytes[PACKET_MAX];
	size_t len;
	char name[48];
};

void packets_build(void);
size_t packet_count(void);
const struct packet *packet_at(size_t i);
const char *packet_name(size_t i);

/* RFC 1071: the ones' complement of the ones' complement sum of len bytes, plus sum. */
uint16_t rfc1071(const uint8_t *bytes, size_t len, uint32_t sum);

/*
 * An untagged Ethernet/IPv4/UDP frame (IHL 5) with valid checksums and
 * payload_len bytes of payload; returns its length.
 */
size_t packet_ipv4_udp(uint8_t *out, size_t payload_len);
/* Whether the IPv4 header checksum and the UDP checksum of such a frame hold. */
int packet_ipv4_udp_valid(const uint8_t *frame, size_t len);

#endif
