/* SPDX-License-Identifier: MIT */
/*
 * The packet generator: reproducible, large enough, every kind of packet
 * the differential promises, and valid packets really valid (lengths and
 * checksums checked here by a parser of the test's own).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pktgen.h"

#define SEED 42

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void same_set(void **state)
{
	struct pktgen_set a = { 0 }, b = { 0 }, c = { 0 };
	bool differs = false;

	(void)state;
	assert_int_equal(pktgen_generate(&a, SEED), 0);
	assert_int_equal(pktgen_generate(&b, SEED), 0);
	assert_int_equal(pktgen_generate(&c, SEED + 1), 0);
	assert_int_equal(a.count, b.count);
	for (size_t i = 0; i < a.count; i++) {
		assert_int_equal(a.pkts[i].len, b.pkts[i].len);
		assert_memory_equal(a.pkts[i].data, b.pkts[i].data, a.pkts[i].len);
		assert_string_equal(a.pkts[i].label, b.pkts[i].label);
	}
	for (size_t i = 0; i < a.count && i < c.count && !differs; i++)
		differs = a.pkts[i].len != c.pkts[i].len ||
			  memcmp(a.pkts[i].data, c.pkts[i].data, a.pkts[i].len);
	assert_true(differs);
	pktgen_free(&a);
	pktgen_free(&b);
	pktgen_free(&c);
}

/* What the differential's description promises the set holds, by label. */
static void every_kind(void **state)
{
	static const char *const kinds[] = {
		"vlan ", "qinq ", "vlan2 ", "ipv4 ", "ipv4[opt-rr]", "ipv4[opt-ts]",
		"ipv4[frag-first]", "ipv4[frag-middle]", "ipv4[frag-last]", "ipv4[ttl0]",
		"ipv4[ttl1]", "ipv6 ", "ipv6[hbh]", "ipv6[rh2]", "ipv6[frag-first]",
		"ipv6[frag-later]", "ipv6[hbh+dst+rh+frag]", "tcp[syn]", "tcp[syn,mss",
		"tcp[xmas", "tcp[null", "udp[53]", "icmp[echo]", "icmp[port-unreach]",
		"icmp6[echo]", "icmp6[ns]", "icmp6[too-big]", "arp[request]", "arp[reply]",
		"lldp", "mpls", "802.3-llc", "!ihl<5", "!ihl>len", "!totlen>frame",
		"!totlen<ihl", "!ip4-csum", "!paylen>frame", "!doff<5", "!doff>len",
		"!udplen<8", "!udplen>frame", "!l4-csum", "!byte-flip", "cut@", "garbage",
		"len1500", "len3520", "len3712", "len9000", "runt", "flow0", "flow15", "dst*33",
	};
	struct pktgen_set set = { 0 };
	size_t per_class[PKTGEN_CLASS_COUNT] = { 0 };

	(void)state;
	assert_int_equal(pktgen_generate(&set, SEED), 0);
	assert_true(set.count >= 1000);
	for (size_t i = 0; i < set.count; i++)
		per_class[set.pkts[i].cls]++;
	for (int c = 0; c < PKTGEN_CLASS_COUNT; c++)
		if (!per_class[c])
			fail_msg("no %s packets", pktgen_class_name((enum pktgen_class)c));
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		bool found = false;

		for (size_t i = 0; i < set.count && !found; i++)
			found = strstr(set.pkts[i].label, kinds[k]) != NULL;
		if (!found)
			fail_msg("no packet labelled '%s'", kinds[k]);
	}
	pktgen_free(&set);
}

/* The IP header behind Ethernet and its VLAN tags, or NULL. */
static const uint8_t *ip_header(const struct pktgen_packet *p, uint16_t *ethertype)
{
	size_t off = 12;

	while (off + 2 <= p->len) {
		*ethertype = be16(p->data + off);
		if (*ethertype != 0x8100 && *ethertype != 0x88a8)
			return off + 2 < p->len ? p->data + off + 2 : NULL;
		off += 4;
	}
	return NULL;
}

/* A sum over a header and its checksum field comes to 0xffff when it is right. */
static void valid_is_valid(void **state)
{
	struct pktgen_set set = { 0 };
	size_t checked_ip = 0, checked_l4 = 0;

	(void)state;
	assert_int_equal(pktgen_generate(&set, SEED), 0);
	for (size_t i = 0; i < set.count; i++) {
		const struct pktgen_packet *p = &set.pkts[i];
		uint16_t ethertype = 0;
		const uint8_t *ip = ip_header(p, &ethertype);
		size_t ip_len = ip ? p->len - (size_t)(ip - p->data) : 0;

		if (p->cls != PKTGEN_VALID || !ip || ethertype != 0x0800)
			continue;
		size_t ihl = (size_t)(ip[0] & 0xf) * 4;
		const uint8_t *l4 = ip + ihl;
		size_t l4_len = ip_len - ihl;
		uint32_t pseudo;

		if (be16(ip + 2) != ip_len || pktgen_csum_fold(ip, ihl, 0) != 0xffff)
			fail_msg("packet %zu (%s): bad IPv4 length or checksum", i, p->label);
		checked_ip++;
		if (be16(ip + 6) & 0x3fff) /* fragments: the checksum covers the whole datagram */
			continue;
		pseudo = pktgen_csum_fold(ip + 12, 8, 0) + ip[9] + (uint32_t)l4_len;
		if ((ip[9] == 6 || (ip[9] == 17 && be16(l4 + 6))) &&
		    pktgen_csum_fold(l4, l4_len, pseudo) != 0xffff)
			fail_msg("packet %zu (%s): bad transport checksum", i, p->label);
		if (ip[9] == 17 && be16(l4 + 4) != l4_len)
			fail_msg("packet %zu (%s): bad UDP length", i, p->label);
		if (ip[9] == 1 && pktgen_csum_fold(l4, l4_len, 0) != 0xffff)
			fail_msg("packet %zu (%s): bad ICMP checksum", i, p->label);
		checked_l4++;
	}
	assert_true(checked_ip > 200);
	assert_true(checked_l4 > 100);
	pktgen_free(&set);
}

/* A truncated frame is shorter than a whole one, and a runt is under 14 bytes. */
static void sizes(void **state)
{
	struct pktgen_set set = { 0 };
	uint32_t longest = 0;

	(void)state;
	assert_int_equal(pktgen_generate(&set, SEED), 0);
	for (size_t i = 0; i < set.count; i++) {
		const struct pktgen_packet *p = &set.pkts[i];

		if (!strcmp(p->label, "runt"))
			assert_true(p->len < 14);
		else
			assert_true(p->len >= 14);
		if (p->len > longest)
			longest = p->len;
	}
	assert_true(longest >= 9000 && longest <= PKTGEN_MAX_LEN);
	pktgen_free(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(same_set),
		cmocka_unit_test(every_kind),
		cmocka_unit_test(valid_is_valid),
		cmocka_unit_test(sizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
