/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/if_ether.h>
#include <linux/in.h>

#include "packets.h"

#define MAX_PACKETS 1400
#define RANDOM_PACKETS 400

static struct packet packets[MAX_PACKETS];
static size_t count;

uint16_t rfc1071(const uint8_t *bytes, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(bytes[i] << 8 | bytes[i + 1]);
	if (len & 1)
		sum += (uint32_t)bytes[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The pseudo-header sum for a transport checksum. */
static uint32_t pseudo_sum(const uint8_t *src, const uint8_t *dst, size_t addr_len,
			   uint8_t proto, size_t l4_len)
{
	uint32_t sum = proto + (uint32_t)l4_len;

	for (size_t i = 0; i < addr_len; i += 2)
		sum += (uint32_t)(src[i] << 8 | src[i + 1]) + (uint32_t)(dst[i] << 8 | dst[i + 1]);
	return sum;
}

static uint32_t lcg = 12345;

static uint8_t next_byte(void)
{
	lcg = lcg * 1103515245u + 12345u;
	return (uint8_t)(lcg >> 16);
}

/* The transport header and payload at p, checksum over the pseudo header. */
static size_t put_l4(uint8_t *p, int proto, size_t payload, const uint8_t *src,
		     const uint8_t *dst, size_t addr_len)
{
	size_t hdr = proto == IPPROTO_TCP ? 20 : 8, len = hdr + payload;
	size_t csum_at = proto == IPPROTO_TCP ? 16 : proto == IPPROTO_UDP ? 6 : 2;

	memset(p, 0, hdr);
	if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) {
		p[0] = proto == IPPROTO_ICMP ? 8 : 128; /* echo request */
		put16(p + 4, 0x1234);
	} else {
		put16(p, 40000);
		put16(p + 2, proto == IPPROTO_UDP ? 53 : 80);
	}
	if (proto == IPPROTO_UDP)
		put16(p + 4, (uint16_t)len);
	if (proto == IPPROTO_TCP) {
		p[12] = 5 << 4;
		p[13] = 0x18;
	}
	for (size_t i = 0; i < payload; i++)
		p[hdr + i] = next_byte();
	if (proto == IPPROTO_ICMP)
		put16(p + csum_at, rfc1071(p, len, 0));
	else
		put16(p + csum_at, rfc1071(p, len, pseudo_sum(src, dst, addr_len, (uint8_t)proto, len)));
	return len;
}

static size_t put_eth(uint8_t *p, const uint8_t dst[6], const uint16_t *tags, size_t ntags,
		      uint16_t type)
{
	size_t off = 12;

	memcpy(p, dst, 6);
	memcpy(p + 6, (const uint8_t[]){ 0x02, 0, 0, 0, 0, 0x01 }, 6);
	for (size_t i = 0; i < ntags; i++, off += 4) {
		put16(p + off, i + 1 < ntags ? ETH_P_8021AD : ETH_P_8021Q);
		put16(p + off + 2, tags[i]);
	}
	if (ntags > 1)
		put16(p + 12, ETH_P_8021AD);
	put16(p + off, type);
	return off + 2;
}

static size_t put_ipv4(uint8_t *p, int proto, size_t payload, size_t options, uint16_t frag)
{
	static const uint8_t src[4] = { 10, 0, 0, 1 }, dst[4] = { 192, 168, 1, 7 };
	size_t ihl = 20 + options, l4;

	memset(p, 0, ihl);
	p[0] = (uint8_t)(0x40 | ihl / 4);
	put16(p + 6, frag);
	p[8] = 64;
	p[9] = (uint8_t)proto;
	memcpy(p + 12, src, 4);
	memcpy(p + 16, dst, 4);
	for (size_t i = 20; i < ihl; i++)
		p[i] = i + 1 == ihl ? 0 : 1; /* NOPs, then end of options */
	l4 = put_l4(p + ihl, proto, payload, src, dst, 4);
	put16(p + 2, (uint16_t)(ihl + l4));
	put16(p + 10, rfc1071(p, ihl, 0));
	return ihl + l4;
}

static size_t put_ipv6(uint8_t *p, int proto, size_t payload)
{
	static const uint8_t src[16] = { 0xfd, 0, [15] = 1 }, dst[16] = { 0xfd, 0, [14] = 1, [15] = 2 };
	size_t l4;

	memset(p, 0, 40);
	p[0] = 0x60;
	p[6] = (uint8_t)proto;
	p[7] = 64;
	memcpy(p + 8, src, 16);
	memcpy(p + 24, dst, 16);
	l4 = put_l4(p + 40, proto, payload, src, dst, 16);
	put16(p + 4, (uint16_t)l4);
	return 40 + l4;
}

static struct packet *add(const char *name)
{
	struct packet *p;

	if (count == MAX_PACKETS) {
		fprintf(stderr, "packets.c: more than %d packets, raise MAX_PACKETS\n", MAX_PACKETS);
		abort();
	}
	p = &packets[count++];

	snprintf(p->name, sizeof(p->name), "%s", name);
	return p;
}

/* The packet and, with cut, its truncations at the header boundaries the parsers check. */
static void add_with_cuts(const struct packet *whole, bool cut)
{
	static const size_t cuts[] = { 14, 15, 18, 20, 33, 34, 37, 41, 53, 54, 61 };

	*add(whole->name) = *whole;
	for (size_t i = 0; cut && i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		struct packet *p;

		if (cuts[i] >= whole->len)
			continue;
		p = add(whole->name);
		*p = *whole;
		p->len = cuts[i];
		snprintf(p->name, sizeof(p->name), "%.32s cut %u", whole->name, (unsigned)cuts[i]);
	}
}

size_t packet_ipv4_udp(uint8_t *out, size_t payload_len)
{
	static const uint8_t host[6] = { 0 };
	size_t off = put_eth(out, host, NULL, 0, ETH_P_IP);

	return off + put_ipv4(out + off, IPPROTO_UDP, payload_len, 0, 0);
}

int packet_ipv4_udp_valid(const uint8_t *frame, size_t len)
{
	const uint8_t *ip = frame + ETH_HLEN, *udp = ip + 20;
	size_t udp_len = len - ETH_HLEN - 20;

	return rfc1071(ip, 20, 0) == 0 &&
	       rfc1071(udp, udp_len, pseudo_sum(ip + 12, ip + 16, 4, IPPROTO_UDP, udp_len)) == 0;
}

void packets_build(void)
{
	static const uint8_t macs[][6] = {
		{ 0, 0, 0, 0, 0, 0 }, { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
		{ 0x01, 0x00, 0x5e, 0, 0, 1 }, { 0x02, 0x42, 0xac, 0x11, 0, 2 },
	};
	static const int protos[] = { IPPROTO_UDP, IPPROTO_TCP, IPPROTO_ICMP };
	static const size_t payloads[] = { 0, 1, 18, 100, 1400 };
	static const uint16_t tags[] = { 0x0064, 0x2005 };
	static const size_t jumbo[] = { 3520, 3521, 3712, 3713, 4000, 7000, 9000 };
	struct packet p;

	count = 0;
	lcg = 12345;
	for (size_t m = 0; m < sizeof(macs) / sizeof(macs[0]); m++) {
		for (size_t pr = 0; pr < 3; pr++) {
			for (size_t pl = 0; pl < sizeof(payloads) / sizeof(payloads[0]); pl++) {
				size_t off;

				off = put_eth(p.bytes, macs[m], NULL, 0, ETH_P_IP);
				p.len = off + put_ipv4(p.bytes + off, protos[pr], payloads[pl], 0, 0);
				snprintf(p.name, sizeof(p.name), "ipv4 proto %d +%zu mac %zu", protos[pr],
					 payloads[pl], m);
				add_with_cuts(&p, m == 0);
				off = put_eth(p.bytes, macs[m], NULL, 0, ETH_P_IPV6);
				p.len = off + put_ipv6(p.bytes + off,
						       protos[pr] == IPPROTO_ICMP ? IPPROTO_ICMPV6 : protos[pr],
						       payloads[pl]);
				snprintf(p.name, sizeof(p.name), "ipv6 proto %d +%zu mac %zu", protos[pr],
					 payloads[pl], m);
				add_with_cuts(&p, m == 0);
			}
			for (size_t ntags = 1; ntags <= 2; ntags++) {
				size_t off = put_eth(p.bytes, macs[m], tags, ntags, ETH_P_IP);

				p.len = off + put_ipv4(p.bytes + off, protos[pr], 30, 0, 0);
				snprintf(p.name, sizeof(p.name), "vlan x%zu ipv4 proto %d mac %zu", ntags,
					 protos[pr], m);
				add_with_cuts(&p, m == 0);
			}
			for (size_t opt = 4; opt <= 40; opt += 12) {
				size_t off = put_eth(p.bytes, macs[m], NULL, 0, ETH_P_IP);

				p.len = off + put_ipv4(p.bytes + off, protos[pr], 12, opt, 0);
				snprintf(p.name, sizeof(p.name), "ipv4 options %zu proto %d", opt, protos[pr]);
				*add(p.name) = p;
				p.len = off + put_ipv4(p.bytes + off, protos[pr], 12, 0, 0x2000 | (uint16_t)opt);
				snprintf(p.name, sizeof(p.name), "ipv4 fragment %zu proto %d", opt, protos[pr]);
				*add(p.name) = p;
			}
		}
		/* ARP, an 802.3 length field (LLC), Novell raw 802.3 */
		p.len = put_eth(p.bytes, macs[m], NULL, 0, ETH_P_ARP) + 28;
		memset(p.bytes + 14, 0x11, 28);
		snprintf(p.name, sizeof(p.name), "arp mac %zu", m);
		*add(p.name) = p;
		p.len = put_eth(p.bytes, macs[m], NULL, 0, 0x0040) + 46;
		memset(p.bytes + 14, 0xaa, 46);
		snprintf(p.name, sizeof(p.name), "llc mac %zu", m);
		*add(p.name) = p;
		p.bytes[14] = p.bytes[15] = 0xff;
		snprintf(p.name, sizeof(p.name), "novell mac %zu", m);
		*add(p.name) = p;
	}
	for (size_t i = 0; i < sizeof(jumbo) / sizeof(jumbo[0]); i++) {
		size_t off = put_eth(p.bytes, macs[0], NULL, 0, ETH_P_IP);

		p.len = off + put_ipv4(p.bytes + off, IPPROTO_UDP, jumbo[i] - 42, 0, 0);
		snprintf(p.name, sizeof(p.name), "jumbo %zu", jumbo[i]);
		*add(p.name) = p;
	}
	for (size_t i = 0; i < RANDOM_PACKETS; i++) {
		p.len = 14 + next_byte() % 120 + (i % 7 == 0 ? 600 : 0);
		for (size_t b = 0; b < p.len; b++)
			p.bytes[b] = next_byte();
		/* a third of them claim IPv4 or IPv6, for the parsers to reject */
		if (i % 3 == 1)
			put16(p.bytes + 12, i % 2 ? ETH_P_IP : ETH_P_IPV6);
		snprintf(p.name, sizeof(p.name), "random %zu", i);
		*add(p.name) = p;
	}
}

size_t packet_count(void)
{
	return count;
}

const struct packet *packet_at(size_t i)
{
	return &packets[i];
}

const char *packet_name(size_t i)
{
	return packets[i].name;
}
