/* SPDX-License-Identifier: MIT */
/*
 * The packet generator (see pktgen.h).  A frame is built header by header
 * into a builder that remembers where each header starts (the cut points
 * for truncation) and which headers carry lengths and checksums; finish()
 * then fills those in from the innermost header out, except where the
 * packet's defect is exactly that field.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pktgen.h"

#define ETH_ALEN 6
#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define ETH_P_ARP 0x0806
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88a8
#define ETH_P_IPV6 0x86dd
#define ETH_P_MPLS 0x8847
#define ETH_P_LLDP 0x88cc

#define IPPROTO_HOPOPTS 0
#define IPPROTO_ICMP 1
#define IPPROTO_IPIP 4
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define IPPROTO_IPV6 41
#define IPPROTO_ROUTING 43
#define IPPROTO_FRAGMENT 44
#define IPPROTO_GRE 47
#define IPPROTO_ESP 50
#define IPPROTO_ICMPV6 58
#define IPPROTO_NONE 59
#define IPPROTO_DSTOPTS 60
#define IPPROTO_SCTP 132

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20
#define TCP_ECE 0x40
#define TCP_CWR 0x80

#define MAX_LAYERS 12
#define MAX_BOUNDS 24

const uint8_t pktgen_ipv4_addrs[PKTGEN_IPV4_ADDRS][4] = {
	{ 10, 0, 0, 1 },     { 10, 0, 0, 2 },   { 10, 1, 2, 3 },     { 192, 168, 1, 10 },
	{ 192, 168, 7, 20 }, { 172, 16, 0, 5 }, { 203, 0, 113, 9 },  { 8, 8, 8, 8 },
};

const uint8_t pktgen_ipv6_addrs[PKTGEN_IPV6_ADDRS][16] = {
	{ 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 },
	{ 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 },
	{ 0xfd, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9 },
	{ 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x42 },
	{ 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0, 0, 0xff, 0xfe, 0, 0, 1 },
	{ 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 0, 2 }, /* solicited-node */
};

static const uint8_t dst_macs[][ETH_ALEN] = {
	{ 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 },
	{ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
	{ 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 },
	{ 0x33, 0x33, 0xff, 0x00, 0x00, 0x02 },
};

static const uint16_t ports[] = { 22, 53, 67, 80, 123, 443, 4789, 8080, 33434, 51000 };

enum layer_kind { L_IPV4, L_IPV6, L_TCP, L_UDP, L_ICMP, L_ICMPV6 };

struct layer {
	enum layer_kind kind;
	size_t off;
	bool keep_len;   /* the defect is this header's length field */
	bool keep_csum;  /* ... or its checksum */
};

struct builder {
	uint8_t buf[PKTGEN_MAX_LEN];
	size_t len;
	struct layer layers[MAX_LAYERS];
	size_t nlayers;
	size_t bounds[MAX_BOUNDS]; /* where each header starts */
	size_t nbounds;
	char label[80];
};

struct gen {
	uint64_t rng;
	struct pktgen_set *set;
	struct builder b;
};

/*
 * splitmix64: every bit of the output depends on the seed, cheaply.  Draws
 * happen one per statement: the order in which C evaluates the operands of
 * an expression or a call is the compiler's, and the bytes must not be.
 */
static uint64_t rnd64(struct gen *g)
{
	uint64_t z = (g->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t rnd(struct gen *g, uint32_t n)
{
	return (uint32_t)(rnd64(g) % n);
}

static bool chance(struct gen *g, unsigned percent)
{
	return rnd(g, 100) < percent;
}

#define PICK(g, array) ((array)[rnd(g, sizeof(array) / sizeof((array)[0]))])

uint16_t pktgen_csum_fold(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* ---- the builder -------------------------------------------------------- */

static void reset(struct builder *b)
{
	b->len = 0;
	b->nlayers = 0;
	b->nbounds = 0;
	b->label[0] = '\0';
}

__attribute__((format(printf, 2, 3)))
static void label(struct builder *b, const char *fmt, ...)
{
	size_t used = strlen(b->label);
	va_list ap;

	if (used && used + 1 < sizeof(b->label))
		b->label[used++] = ' ';
	va_start(ap, fmt);
	vsnprintf(b->label + used, sizeof(b->label) - used, fmt, ap);
	va_end(ap);
}

static void boundary(struct builder *b)
{
	if (b->nbounds < MAX_BOUNDS)
		b->bounds[b->nbounds++] = b->len;
}

static struct layer *begin_layer(struct builder *b, enum layer_kind kind)
{
	struct layer *l = &b->layers[b->nlayers++];

	boundary(b);
	*l = (struct layer){ .kind = kind, .off = b->len };
	return l;
}

static void put(struct builder *b, const void *p, size_t n)
{
	/* a frame that outgrows the buffer is cut at its end */
	if (b->len >= sizeof(b->buf))
		return;
	if (n > sizeof(b->buf) - b->len)
		n = sizeof(b->buf) - b->len;
	memcpy(b->buf + b->len, p, n);
	b->len += n;
}

static void put8(struct builder *b, uint8_t v)
{
	put(b, &v, 1);
}

static void put16(struct builder *b, uint16_t v)
{
	put8(b, (uint8_t)(v >> 8));
	put8(b, (uint8_t)v);
}

static void put32(struct builder *b, uint32_t v)
{
	put16(b, (uint16_t)(v >> 16));
	put16(b, (uint16_t)v);
}

static void put_random(struct gen *g, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put8(&g->b, (uint8_t)rnd64(g));
}

static void set16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The IPv4 or IPv6 header that layer i is carried in, or NULL. */
static const struct layer *network_layer(const struct builder *b, size_t i)
{
	while (i--)
		if (b->layers[i].kind == L_IPV4 || b->layers[i].kind == L_IPV6)
			return &b->layers[i];
	return NULL;
}

/* The pseudo-header's sum for a transport header of len bytes. */
static uint32_t pseudo_sum(const struct builder *b, const struct layer *ip, uint8_t proto,
			   size_t len)
{
	const uint8_t *h = b->buf + ip->off;
	uint32_t sum = proto + (uint32_t)(len >> 16) + (uint32_t)(len & 0xffff);

	if (ip->kind == L_IPV4)
		return sum + pktgen_csum_fold(h + 12, 8, 0);
	return sum + pktgen_csum_fold(h + 8, 32, 0);
}

/* Lengths and checksums, innermost header first (outer ones cover inner). */
static void finish(struct builder *b)
{
	for (size_t i = b->nlayers; i--;) {
		struct layer *l = &b->layers[i];
		const struct layer *ip = network_layer(b, i);
		uint8_t *h = b->buf + l->off;
		size_t len = b->len - l->off;
		uint16_t sum;

		switch (l->kind) {
		case L_IPV4:
			if (!l->keep_len)
				set16(h + 2, (uint16_t)len);
			if (!l->keep_csum) {
				size_t hlen = (size_t)(h[0] & 0xf) * 4;

				set16(h + 10, 0);
				if (hlen > len)
					hlen = len;
				set16(h + 10, (uint16_t)~pktgen_csum_fold(h, hlen, 0));
			}
			break;
		case L_IPV6:
			if (!l->keep_len)
				set16(h + 4, (uint16_t)(len - 40));
			break;
		case L_UDP:
			if (!l->keep_len)
				set16(h + 4, (uint16_t)len);
			if (l->keep_csum || !ip)
				break;
			set16(h + 6, 0);
			sum = (uint16_t)~pktgen_csum_fold(h, len, pseudo_sum(b, ip, IPPROTO_UDP, len));
			set16(h + 6, sum ? sum : 0xffff); /* 0 means "no checksum" */
			break;
		case L_TCP:
		case L_ICMPV6:
			if (l->keep_csum || !ip)
				break;
			{
				size_t at = l->kind == L_TCP ? 16 : 2;
				uint8_t proto = l->kind == L_TCP ? IPPROTO_TCP : IPPROTO_ICMPV6;

				set16(h + at, 0);
				set16(h + at, (uint16_t)~pktgen_csum_fold(h, len,
									  pseudo_sum(b, ip, proto, len)));
			}
			break;
		case L_ICMP:
			if (l->keep_csum)
				break;
			set16(h + 2, 0);
			set16(h + 2, (uint16_t)~pktgen_csum_fold(h, len, 0));
			break;
		}
	}
}

static int emit(struct gen *g, const uint8_t *data, size_t len, enum pktgen_class cls,
		const char *what)
{
	struct pktgen_set *set = g->set;
	struct pktgen_packet *p;

	if (set->count == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 1024;
		struct pktgen_packet *grown = realloc(set->pkts, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		set->pkts = grown;
		set->cap = cap;
	}
	p = &set->pkts[set->count];
	p->data = malloc(len ? len : 1);
	if (!p->data)
		return -ENOMEM;
	memcpy(p->data, data, len);
	p->len = (uint32_t)len;
	p->cls = cls;
	snprintf(p->label, sizeof(p->label), "%s", what);
	set->count++;
	return 0;
}

static int emit_built(struct gen *g, enum pktgen_class cls)
{
	finish(&g->b);
	return emit(g, g->b.buf, g->b.len, cls, g->b.label);
}

/* ---- layer 2 ------------------------------------------------------------ */

static void ethernet(struct gen *g, uint16_t ethertype)
{
	struct builder *b = &g->b;
	uint8_t src[ETH_ALEN] = { 0x02, 0x00, 0x00, 0x00, 0x00, (uint8_t)(2 + rnd(g, 4)) };
	unsigned tags = 0;
	uint32_t r = rnd(g, 20);

	/* mostly untagged, as on most links; QinQ and doubled 802.1Q too */
	if (r >= 12)
		tags = r >= 18 ? 2 : 1;
	put(b, PICK(g, dst_macs), ETH_ALEN);
	put(b, src, ETH_ALEN);
	if (tags == 2) {
		bool qinq = r == 19;

		uint16_t priority = (uint16_t)(rnd(g, 8) << 13);
		uint16_t vid = (uint16_t)(100 + rnd(g, 4));

		put16(b, qinq ? ETH_P_8021AD : ETH_P_8021Q);
		boundary(b);
		put16(b, priority | vid);
		label(b, qinq ? "qinq" : "vlan2");
	} else if (tags == 1) {
		label(b, "vlan");
	}
	if (tags) {
		uint16_t priority = (uint16_t)(rnd(g, 8) << 13);
		uint16_t vid = (uint16_t)(10 + rnd(g, 4));

		put16(b, ETH_P_8021Q);
		boundary(b);
		put16(b, priority | vid);
	}
	put16(b, ethertype);
}

/* ---- layer 3 ------------------------------------------------------------ */

enum ip4_variant {
	IP4_PLAIN, IP4_OPT_NOP, IP4_OPT_RR, IP4_OPT_TS, IP4_OPT_RA, IP4_FRAG_FIRST,
	IP4_FRAG_MIDDLE, IP4_FRAG_LAST, IP4_DF, IP4_TTL0, IP4_TTL1, IP4_TTL255, IP4_VARIANTS
};

static const char *const ip4_names[IP4_VARIANTS] = {
	"", "[opt-nop]", "[opt-rr]", "[opt-ts]", "[opt-ra]", "[frag-first]",
	"[frag-middle]", "[frag-last]", "[df]", "[ttl0]", "[ttl1]", "[ttl255]",
};

static struct layer *ipv4(struct gen *g, enum ip4_variant v, uint8_t proto)
{
	struct builder *b = &g->b;
	struct layer *l = begin_layer(b, L_IPV4);
	uint8_t options[40];
	size_t optlen = 0;
	uint16_t frag = 0;
	uint8_t ttl = 64;

	switch (v) {
	case IP4_OPT_NOP:
		memcpy(options, "\x01\x01\x01\x00", 4); /* NOP NOP NOP EOL */
		optlen = 4;
		break;
	case IP4_OPT_RR: /* record route, room for two addresses, one recorded */
		memcpy(options, "\x07\x0b\x08\x0a\x00\x00\x01\x00\x00\x00\x00\x00", 12);
		optlen = 12;
		break;
	case IP4_OPT_TS: /* timestamps only, one slot */
		memcpy(options, "\x44\x08\x05\x00\x00\x01\x02\x03", 8);
		optlen = 8;
		break;
	case IP4_OPT_RA:
		memcpy(options, "\x94\x04\x00\x00", 4);
		optlen = 4;
		break;
	case IP4_FRAG_FIRST:
		frag = 0x2000;
		break;
	case IP4_FRAG_MIDDLE:
		frag = 0x2000 | (uint16_t)(1 + rnd(g, 200));
		break;
	case IP4_FRAG_LAST:
		frag = (uint16_t)(1 + rnd(g, 200));
		break;
	case IP4_DF:
		frag = 0x4000;
		break;
	case IP4_TTL0:
		ttl = 0;
		break;
	case IP4_TTL1:
		ttl = 1;
		break;
	case IP4_TTL255:
		ttl = 255;
		break;
	default:
		break;
	}
	put8(b, (uint8_t)(0x40 | (5 + optlen / 4)));
	put8(b, (uint8_t)(rnd(g, 4) << 2)); /* DSCP 0..3 */
	put16(b, 0);                          /* total length: finish() */
	put16(b, (uint16_t)rnd(g, 0x10000));  /* id */
	put16(b, frag);
	put8(b, ttl);
	put8(b, proto);
	put16(b, 0);                          /* checksum: finish() */
	put(b, PICK(g, pktgen_ipv4_addrs), 4);
	put(b, PICK(g, pktgen_ipv4_addrs), 4);
	put(b, options, optlen);
	label(b, "ipv4%s", ip4_names[v]);
	return l;
}

enum ip6_variant {
	IP6_PLAIN, IP6_HOPOPTS, IP6_ROUTING, IP6_FRAG_FIRST, IP6_FRAG_LATER, IP6_DSTOPTS,
	IP6_CHAIN, IP6_HOPLIMIT0, IP6_HOPLIMIT1, IP6_VARIANTS
};

static const char *const ip6_names[IP6_VARIANTS] = {
	"", "[hbh]", "[rh2]", "[frag-first]", "[frag-later]", "[dst]", "[hbh+dst+rh+frag]",
	"[hl0]", "[hl1]",
};

static void ext_hopopts(struct builder *b, uint8_t next)
{
	boundary(b);
	put8(b, next);
	put8(b, 0);
	put(b, "\x05\x02\x00\x00\x01\x00", 6); /* router alert, PadN(0) */
}

static void ext_dstopts(struct builder *b, uint8_t next)
{
	boundary(b);
	put8(b, next);
	put8(b, 0);
	put(b, "\x01\x04\x00\x00\x00\x00", 6); /* PadN(4) */
}

static void ext_routing(struct gen *g, uint8_t next)
{
	struct builder *b = &g->b;

	boundary(b);
	put8(b, next);
	put8(b, 2);  /* 2 x 8 bytes beyond the first 8 */
	put8(b, 2);  /* type 2, mobile IPv6: one home address */
	put8(b, 1);  /* segments left */
	put32(b, 0);
	put(b, PICK(g, pktgen_ipv6_addrs), 16);
}

static void ext_fragment(struct gen *g, uint8_t next, bool first)
{
	struct builder *b = &g->b;

	boundary(b);
	put8(b, next);
	put8(b, 0);
	put16(b, first ? 1 : (uint16_t)((1 + rnd(g, 100)) << 3)); /* offset, M flag on the first */
	put32(b, (uint32_t)rnd64(g));
}

/* The IPv6 header and its extension headers, ending with next header proto. */
static struct layer *ipv6(struct gen *g, enum ip6_variant v, uint8_t proto)
{
	struct builder *b = &g->b;
	struct layer *l = begin_layer(b, L_IPV6);
	uint32_t traffic_class = (uint32_t)rnd(g, 4) << 20;
	uint32_t flow_label = (uint32_t)rnd(g, 0x100000);
	uint8_t first = proto;
	uint8_t hop_limit = 64;

	switch (v) {
	case IP6_HOPOPTS:
		first = IPPROTO_HOPOPTS;
		break;
	case IP6_ROUTING:
		first = IPPROTO_ROUTING;
		break;
	case IP6_FRAG_FIRST:
	case IP6_FRAG_LATER:
		first = IPPROTO_FRAGMENT;
		break;
	case IP6_DSTOPTS:
		first = IPPROTO_DSTOPTS;
		break;
	case IP6_CHAIN:
		first = IPPROTO_HOPOPTS;
		break;
	case IP6_HOPLIMIT0:
		hop_limit = 0;
		break;
	case IP6_HOPLIMIT1:
		hop_limit = 1;
		break;
	default:
		break;
	}
	put32(b, 0x60000000u | traffic_class | flow_label);
	put16(b, 0); /* payload length: finish() */
	put8(b, first);
	put8(b, hop_limit);
	put(b, PICK(g, pktgen_ipv6_addrs), 16);
	put(b, PICK(g, pktgen_ipv6_addrs), 16);
	switch (v) {
	case IP6_HOPOPTS:
		ext_hopopts(b, proto);
		break;
	case IP6_ROUTING:
		ext_routing(g, proto);
		break;
	case IP6_FRAG_FIRST:
	case IP6_FRAG_LATER:
		ext_fragment(g, proto, v == IP6_FRAG_FIRST);
		break;
	case IP6_DSTOPTS:
		ext_dstopts(b, proto);
		break;
	case IP6_CHAIN:
		ext_hopopts(b, IPPROTO_DSTOPTS);
		ext_dstopts(b, IPPROTO_ROUTING);
		ext_routing(g, IPPROTO_FRAGMENT);
		ext_fragment(g, proto, true);
		break;
	default:
		break;
	}
	label(b, "ipv6%s", ip6_names[v]);
	return l;
}

/* ---- layer 4 ------------------------------------------------------------ */

struct tcp_flags {
	uint8_t flags;
	const char *name;
};

/* The flag sets a recipe may name; the rest are only enumerated. */
enum { FLAGS_SYN, FLAGS_SYN_ACK, FLAGS_ACK, FLAGS_PSH_ACK, FLAGS_FIN_ACK };

static const struct tcp_flags tcp_flag_sets[] = {
	[FLAGS_SYN] = { TCP_SYN, "syn" },
	[FLAGS_SYN_ACK] = { TCP_SYN | TCP_ACK, "syn+ack" },
	[FLAGS_ACK] = { TCP_ACK, "ack" },
	[FLAGS_PSH_ACK] = { TCP_PSH | TCP_ACK, "psh+ack" },
	[FLAGS_FIN_ACK] = { TCP_FIN | TCP_ACK, "fin+ack" },
	{ TCP_RST, "rst" },
	{ TCP_RST | TCP_ACK, "rst+ack" },
	{ TCP_URG | TCP_ACK | TCP_PSH, "urg" },
	{ 0, "null" },
	{ TCP_FIN | TCP_PSH | TCP_URG, "xmas" },
	{ TCP_SYN | TCP_FIN, "syn+fin" },
	{ TCP_SYN | TCP_ECE | TCP_CWR, "syn+ecn" },
};

#define TCP_FLAG_SETS (sizeof(tcp_flag_sets) / sizeof(tcp_flag_sets[0]))

struct tcp_options {
	const char *bytes;
	size_t len; /* a multiple of 4 */
	const char *name;
};

static const struct tcp_options tcp_option_sets[] = {
	{ "", 0, "" },
	{ "\x02\x04\x05\xb4", 4, ",mss" },
	{ "\x02\x04\x05\xb4\x04\x02\x08\x0a\x00\x00\x10\x00\x00\x00\x00\x00\x01\x03\x03\x07",
	  20, ",mss,sack-ok,ts,ws" },
	{ "\x01\x01\x08\x0a\x00\x00\x10\x01\x00\x00\x20\x02", 12, ",ts" },
	{ "\x01\x01\x05\x0a\x00\x01\x00\x00\x00\x01\x05\xdc", 12, ",sack" },
	{ "\x00\x00\x00\x00", 4, ",eol" },
};

static struct layer *tcp(struct gen *g, const struct tcp_flags *f, const struct tcp_options *o)
{
	struct builder *b = &g->b;
	struct layer *l = begin_layer(b, L_TCP);

	put16(b, PICK(g, ports));
	put16(b, PICK(g, ports));
	put32(b, (uint32_t)rnd64(g));
	put32(b, f->flags & TCP_ACK ? (uint32_t)rnd64(g) : 0);
	put8(b, (uint8_t)((5 + o->len / 4) << 4));
	put8(b, f->flags);
	put16(b, (uint16_t)(1024 + rnd(g, 64000)));
	put16(b, 0); /* checksum: finish() */
	put16(b, f->flags & TCP_URG ? 1 : 0);
	put(b, o->bytes, o->len);
	label(b, "tcp[%s%s]", f->name, o->name);
	return l;
}

static struct layer *udp(struct gen *g, uint16_t dport)
{
	struct builder *b = &g->b;
	struct layer *l = begin_layer(b, L_UDP);

	put16(b, PICK(g, ports));
	put16(b, dport);
	put16(b, 0); /* length: finish() */
	put16(b, 0); /* checksum: finish() */
	label(b, "udp[%u]", dport);
	return l;
}

enum icmp_variant {
	ICMP_ECHO_REQUEST, ICMP_ECHO_REPLY, ICMP_PORT_UNREACH, ICMP_FRAG_NEEDED,
	ICMP_TIME_EXCEEDED, ICMP_REDIRECT, ICMP_UNKNOWN, ICMP_VARIANTS
};

/* An ICMP error quotes the datagram that caused it: its IPv4 header and 8 bytes. */
static void quoted_datagram(struct gen *g)
{
	struct builder *b = &g->b;
	uint8_t inner[28] = { 0x45, 0, 0, 60, 0x12, 0x34, 0, 0, 64, IPPROTO_UDP };

	memcpy(inner + 12, PICK(g, pktgen_ipv4_addrs), 4);
	memcpy(inner + 16, PICK(g, pktgen_ipv4_addrs), 4);
	set16(inner + 10, (uint16_t)~pktgen_csum_fold(inner, 20, 0));
	set16(inner + 20, PICK(g, ports));
	set16(inner + 22, PICK(g, ports));
	set16(inner + 24, 40);
	put(b, inner, sizeof(inner));
}

static struct layer *icmp(struct gen *g, enum icmp_variant v)
{
	static const uint8_t type_code[ICMP_VARIANTS][2] = {
		{ 8, 0 }, { 0, 0 }, { 3, 3 }, { 3, 4 }, { 11, 0 }, { 5, 1 }, { 42, 7 },
	};
	static const char *const names[ICMP_VARIANTS] = {
		"echo", "echo-reply", "port-unreach", "frag-needed", "time-exceeded",
		"redirect", "type42",
	};
	struct builder *b = &g->b;
	struct layer *l = begin_layer(b, L_ICMP);

	put8(b, type_code[v][0]);
	put8(b, type_code[v][1]);
	put16(b, 0); /* checksum: finish() */
	if (v == ICMP_ECHO_REQUEST || v == ICMP_ECHO_REPLY) {
		put16(b, (uint16_t)rnd(g, 0x10000));
		put16(b, (uint16_t)rnd(g, 100));
	} else {
		put32(b, v == ICMP_FRAG_NEEDED ? 1400 : 0);
		if (v != ICMP_UNKNOWN)
			quoted_datagram(g);
	}
	label(b, "icmp[%s]", names[v]);
	return l;
}

enum icmp6_variant {
	ICMP6_ECHO_REQUEST, ICMP6_ECHO_REPLY, ICMP6_UNREACH, ICMP6_TOO_BIG,
	ICMP6_NEIGHBOR_SOLICIT, ICMP6_NEIGHBOR_ADVERT, ICMP6_ROUTER_ADVERT, ICMP6_VARIANTS
};

static struct layer *icmp6(struct gen *g, enum icmp6_variant v)
{
	static const uint8_t types[ICMP6_VARIANTS] = { 128, 129, 1, 2, 135, 136, 134 };
	static const char *const names[ICMP6_VARIANTS] = {
		"echo", "echo-reply", "unreach", "too-big", "ns", "na", "ra",
	};
	struct builder *b = &g->b;
	struct layer *l = begin_layer(b, L_ICMPV6);

	put8(b, types[v]);
	put8(b, v == ICMP6_UNREACH ? 4 : 0);
	put16(b, 0); /* checksum: finish() */
	switch (v) {
	case ICMP6_ECHO_REQUEST:
	case ICMP6_ECHO_REPLY:
		put16(b, (uint16_t)rnd(g, 0x10000));
		put16(b, (uint16_t)rnd(g, 100));
		break;
	case ICMP6_NEIGHBOR_SOLICIT:
	case ICMP6_NEIGHBOR_ADVERT:
		put32(b, v == ICMP6_NEIGHBOR_ADVERT ? 0x60000000 : 0);
		put(b, PICK(g, pktgen_ipv6_addrs), 16);
		put(b, "\x01\x01\x02\x00\x00\x00\x00\x07", 8); /* link-layer address option */
		break;
	case ICMP6_ROUTER_ADVERT:
		put(b, "\x40\x00\x07\x08\x00\x00\x00\x00\x00\x00\x00\x00", 12);
		break;
	default: /* errors quote what they can of the offending packet */
		put32(b, v == ICMP6_TOO_BIG ? 1280 : 0);
		put(b, "\x60\x00\x00\x00\x00\x08\x11\x40", 8);
		put(b, PICK(g, pktgen_ipv6_addrs), 16);
		put(b, PICK(g, pktgen_ipv6_addrs), 16);
		break;
	}
	label(b, "icmp6[%s]", names[v]);
	return l;
}

static void payload(struct gen *g)
{
	/* mostly small, as real traffic is; some near a full MTU */
	size_t n = chance(g, 90) ? rnd(g, 64) : 200 + rnd(g, 1200);

	boundary(&g->b);
	put_random(g, n);
}

/* ---- the transport recipes, shared by both IP versions ------------------- */

/* One transport header (and payload) after an IP header; tcp_i etc. pick which. */
enum l4_recipe { R_TCP, R_UDP, R_ICMP, R_OTHER };

struct l4_choice {
	enum l4_recipe recipe;
	unsigned index;
};

static const uint8_t other_protos[] = { IPPROTO_GRE, IPPROTO_ESP, IPPROTO_SCTP, 253 };
enum { UDP_DNS, UDP_DHCP, UDP_NTP, UDP_VXLAN, UDP_HIGH };

static const uint16_t udp_ports[] = {
	[UDP_DNS] = 53, [UDP_DHCP] = 67, [UDP_NTP] = 123, [UDP_VXLAN] = 4789, [UDP_HIGH] = 51000,
};

#define UDP_RECIPES (sizeof(udp_ports) / sizeof(udp_ports[0]))
#define OTHER_RECIPES (sizeof(other_protos) / sizeof(other_protos[0]))

static uint8_t l4_proto(struct l4_choice c, bool v6)
{
	switch (c.recipe) {
	case R_TCP:
		return IPPROTO_TCP;
	case R_UDP:
		return IPPROTO_UDP;
	case R_ICMP:
		return v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
	default:
		return v6 && c.index == OTHER_RECIPES ? IPPROTO_NONE : other_protos[c.index];
	}
}

static void l4(struct gen *g, struct l4_choice c, bool v6)
{
	switch (c.recipe) {
	case R_TCP:
		tcp(g, &tcp_flag_sets[c.index], &PICK(g, tcp_option_sets));
		break;
	case R_UDP:
		udp(g, udp_ports[c.index]);
		break;
	case R_ICMP:
		if (v6)
			icmp6(g, (enum icmp6_variant)c.index);
		else
			icmp(g, (enum icmp_variant)c.index);
		return; /* ICMP carries what it carries */
	default:
		label(&g->b, "proto%u", l4_proto(c, v6));
		break;
	}
	payload(g);
}

/* Every transport recipe of one IP version, in order. */
static size_t l4_choices(struct l4_choice *out, bool v6)
{
	size_t n = 0;

	for (unsigned i = 0; i < TCP_FLAG_SETS; i++)
		out[n++] = (struct l4_choice){ R_TCP, i };
	for (unsigned i = 0; i < UDP_RECIPES; i++)
		out[n++] = (struct l4_choice){ R_UDP, i };
	for (unsigned i = 0; i < (v6 ? ICMP6_VARIANTS : ICMP_VARIANTS); i++)
		out[n++] = (struct l4_choice){ R_ICMP, i };
	/* IPv6 adds "no next header" */
	for (unsigned i = 0; i < OTHER_RECIPES + v6; i++)
		out[n++] = (struct l4_choice){ R_OTHER, i };
	return n;
}

#define MAX_L4_CHOICES 40

static void build_ipv4(struct gen *g, enum ip4_variant v, struct l4_choice c)
{
	reset(&g->b);
	ethernet(g, ETH_P_IP);
	ipv4(g, v, l4_proto(c, false));
	l4(g, c, false);
}

static void build_ipv6(struct gen *g, enum ip6_variant v, struct l4_choice c)
{
	reset(&g->b);
	ethernet(g, ETH_P_IPV6);
	ipv6(g, v, l4_proto(c, true));
	l4(g, c, true);
}

static void build_arp(struct gen *g, bool reply)
{
	struct builder *b = &g->b;

	reset(b);
	ethernet(g, ETH_P_ARP);
	boundary(b);
	put(b, "\x00\x01\x08\x00\x06\x04", 6); /* Ethernet, IPv4, 6, 4 */
	put16(b, reply ? 2 : 1);
	put(b, "\x02\x00\x00\x00\x00\x03", 6);
	put(b, PICK(g, pktgen_ipv4_addrs), 4);
	put(b, reply ? "\x02\x00\x00\x00\x00\x01" : "\0\0\0\0\0\0", 6);
	put(b, PICK(g, pktgen_ipv4_addrs), 4);
	label(b, "arp[%s]", reply ? "reply" : "request");
}

/* Frames that are neither IP nor ARP: the other EtherTypes a link carries. */
static void build_other_l2(struct gen *g, unsigned which)
{
	struct builder *b = &g->b;

	reset(b);
	switch (which) {
	case 0:
		ethernet(g, ETH_P_LLDP);
		label(b, "lldp");
		break;
	case 1:
		ethernet(g, ETH_P_MPLS);
		boundary(b);
		put32(b, 100u << 12 | 1u << 8 | 64); /* label 100, bottom of stack */
		label(b, "mpls");
		break;
	default: /* IEEE 802.3: a length where the EtherType would be, then LLC */
		put(b, dst_macs[1], ETH_ALEN);
		put(b, "\x02\x00\x00\x00\x00\x04", ETH_ALEN);
		put16(b, 38);
		boundary(b);
		put(b, "\x42\x42\x03", 3); /* STP's LLC */
		label(b, "802.3-llc");
		break;
	}
	payload(g);
}

/* The first layer of a kind in b, or NULL. */
static struct layer *find_layer_of(struct builder *b, enum layer_kind kind)
{
	for (size_t i = 0; i < b->nlayers; i++)
		if (b->layers[i].kind == kind)
			return &b->layers[i];
	return NULL;
}

/* ---- the set -------------------------------------------------------------- */

/*
 * Every IP variant with every transport recipe, both IP versions: about 500
 * frames, each a base for the truncated and malformed ones.
 */
static int valid_frames(struct gen *g)
{
	struct l4_choice choices[MAX_L4_CHOICES];
	size_t n;
	int ret = 0;

	n = l4_choices(choices, false);
	for (unsigned v = 0; !ret && v < IP4_VARIANTS; v++)
		for (size_t c = 0; !ret && c < n; c++) {
			build_ipv4(g, (enum ip4_variant)v, choices[c]);
			ret = emit_built(g, PKTGEN_VALID);
		}
	n = l4_choices(choices, true);
	for (unsigned v = 0; !ret && v < IP6_VARIANTS; v++)
		for (size_t c = 0; !ret && c < n; c++) {
			build_ipv6(g, (enum ip6_variant)v, choices[c]);
			ret = emit_built(g, PKTGEN_VALID);
		}
	for (unsigned i = 0; !ret && i < 8; i++) {
		build_arp(g, i & 1);
		ret = emit_built(g, PKTGEN_VALID);
	}
	for (unsigned i = 0; !ret && i < 9; i++) {
		build_other_l2(g, i % 3);
		ret = emit_built(g, PKTGEN_VALID);
	}
	return ret;
}

/*
 * IPv6 with long chains of destination options, around the length at
 * which a parser that takes one tail call per header runs into the
 * kernel's limit of 33: legal, and a known way to exhaust parsers.
 */
static int long_chain_frames(struct gen *g)
{
	static const unsigned chains[] = { 8, 31, 32, 33, 34, 40 };
	int ret = 0;

	for (size_t i = 0; !ret && i < sizeof(chains) / sizeof(chains[0]); i++) {
		struct builder *b = &g->b;
		struct l4_choice c = { R_UDP, UDP_DNS };

		reset(b);
		ethernet(g, ETH_P_IPV6);
		ipv6(g, IP6_PLAIN, IPPROTO_DSTOPTS);
		for (unsigned k = 0; k < chains[i]; k++)
			ext_dstopts(b, k + 1 < chains[i] ? IPPROTO_DSTOPTS : IPPROTO_UDP);
		l4(g, c, true);
		label(b, "dst*%u", chains[i]);
		ret = emit_built(g, PKTGEN_VALID);
	}
	return ret;
}

/* The source and destination of the IPv4 or IPv6 header ip. */
static void set_addrs(struct builder *b, const struct layer *ip, const uint8_t *src,
		      const uint8_t *dst)
{
	bool v6 = ip->kind == L_IPV6;

	memcpy(b->buf + ip->off + (v6 ? 8 : 12), src, v6 ? 16 : 4);
	memcpy(b->buf + ip->off + (v6 ? 24 : 16), dst, v6 ? 16 : 4);
}

/*
 * One packet of a conversation in g->b: a frame of recipe c (an IPv4 or
 * IPv6 plain header, TCP or UDP) with its addresses and ports set.
 */
static void build_conversation(struct gen *g, bool v6, struct l4_choice c, const uint8_t *src,
			       const uint8_t *dst, uint16_t sport, uint16_t dport)
{
	struct builder *b = &g->b;
	struct layer *l4;

	if (v6)
		build_ipv6(g, IP6_PLAIN, c);
	else
		build_ipv4(g, IP4_PLAIN, c);
	set_addrs(b, find_layer_of(b, v6 ? L_IPV6 : L_IPV4), src, dst);
	l4 = find_layer_of(b, c.recipe == R_UDP ? L_UDP : L_TCP);
	set16(b->buf + l4->off, sport);
	set16(b->buf + l4->off + 2, dport);
}

/* Flow f's addresses (pktgen.h): its client and where it goes. */
static void flow_addrs(unsigned f, bool v6, const uint8_t **client, const uint8_t **server)
{
	static const uint8_t service[4] = { 10, 1, 2, 3 }, resolver[4] = { 8, 8, 8, 8 };

	if (v6) {
		*client = pktgen_ipv6_addrs[f % PKTGEN_IPV6_UNICAST];
		*server = pktgen_ipv6_addrs[f & 2 ? 3 : 2];
	} else {
		*client = pktgen_ipv4_addrs[f % PKTGEN_IPV4_ADDRS];
		*server = f % 4 == 3 ? resolver : service;
	}
}

/* Flow f's ports: its client's, and its service's. */
static uint16_t flow_sport(unsigned f)
{
	return (uint16_t)(40000 + f);
}

static uint16_t flow_dport(unsigned f)
{
	return f & 1 ? 53 : 80;
}

/* Packet k of flow f, as flow_frames sends it (TCP: SYN, PSH+ACK..., FIN+ACK). */
static struct l4_choice flow_choice(unsigned f, unsigned k)
{
	if (f & 1)
		return (struct l4_choice){ R_UDP, UDP_DNS };
	return (struct l4_choice){ R_TCP, k == 0 ? FLAGS_SYN : k + 1 < PKTGEN_PACKETS_PER_FLOW
							      ? FLAGS_PSH_ACK : FLAGS_FIN_ACK };
}

/*
 * Conversations: the same flows (addresses, ports, protocol) several
 * packets each, to the service addresses of pktgen.h, so that programs
 * keeping per-flow state see flows come back.
 */
static int flow_frames(struct gen *g, bool v6)
{
	int ret = 0;

	for (unsigned f = 0; !ret && f < PKTGEN_FLOWS; f++)
		for (unsigned k = 0; !ret && k < PKTGEN_PACKETS_PER_FLOW; k++) {
			const uint8_t *client, *server;

			flow_addrs(f, v6, &client, &server);
			build_conversation(g, v6, flow_choice(f, k), client, server, flow_sport(f),
					   flow_dport(f));
			label(&g->b, "flow%u", f);
			ret = emit_built(g, PKTGEN_VALID);
		}
	return ret;
}

/*
 * Answers to every conversation, of both IP versions, from every unicast
 * address of the pool: whichever of them a service sent the flow to
 * answers it, the others are strangers to it.
 */
static int answer_frames(struct gen *g)
{
	int ret = 0;

	for (unsigned v6 = 0; !ret && v6 < 2; v6++)
		for (unsigned f = 0; !ret && f < PKTGEN_FLOWS; f++)
			for (unsigned a = 0; !ret && a < (v6 ? PKTGEN_IPV6_UNICAST : PKTGEN_IPV4_ADDRS);
			     a++) {
				bool udp_flow = f & 1;
				struct l4_choice c = udp_flow ? flow_choice(f, 0)
							      : (struct l4_choice){ R_TCP, FLAGS_PSH_ACK };
				const uint8_t *client, *server;

				flow_addrs(f, v6, &client, &server);
				build_conversation(g, v6, c, v6 ? pktgen_ipv6_addrs[a] : pktgen_ipv4_addrs[a],
						   client, udp_flow ? flow_dport(f) : PKTGEN_ANSWER_PORT_TCP,
						   flow_sport(f));
				label(&g->b, "answer%u", f);
				ret = emit_built(g, PKTGEN_VALID);
			}
	return ret;
}

/*
 * The errors a backend sends a client that it cannot serve: from every
 * address of the pool as for the answers, an ICMP port unreachable or its
 * ICMPv6 equivalent quoting the flow's first packet as the client's
 * service sent it there (to the answers' port), IP header and 8 bytes.
 */
static int error_frames(struct gen *g)
{
	int ret = 0;

	for (unsigned v6 = 0; !ret && v6 < 2; v6++)
		for (unsigned f = 0; !ret && f < PKTGEN_FLOWS; f++)
			for (unsigned a = 0; !ret && a < (v6 ? PKTGEN_IPV6_UNICAST : PKTGEN_IPV4_ADDRS);
			     a++) {
				struct builder *b = &g->b;
				const uint8_t *backend = v6 ? pktgen_ipv6_addrs[a] : pktgen_ipv4_addrs[a];
				size_t quote_len = (v6 ? 40 : 20) + 8;
				const uint8_t *client, *server;
				uint8_t quote[48];

				flow_addrs(f, v6, &client, &server);
				build_conversation(g, v6, flow_choice(f, 0), client, backend, flow_sport(f),
						   f & 1 ? flow_dport(f) : PKTGEN_ANSWER_PORT_TCP);
				finish(b);
				memcpy(quote, b->buf + find_layer_of(b, v6 ? L_IPV6 : L_IPV4)->off,
				       quote_len);
				reset(b);
				ethernet(g, v6 ? ETH_P_IPV6 : ETH_P_IP);
				if (v6)
					set_addrs(b, ipv6(g, IP6_PLAIN, IPPROTO_ICMPV6), backend, client);
				else
					set_addrs(b, ipv4(g, IP4_PLAIN, IPPROTO_ICMP), backend, client);
				begin_layer(b, v6 ? L_ICMPV6 : L_ICMP);
				put8(b, v6 ? 1 : 3);  /* destination unreachable */
				put8(b, v6 ? 4 : 3);  /* port unreachable */
				put16(b, 0);          /* checksum: finish() */
				put32(b, 0);
				put(b, quote, quote_len);
				label(b, "error%u", f);
				ret = emit_built(g, PKTGEN_VALID);
			}
	return ret;
}

/*
 * Every conversation packet again, tunnelled in its own IP version (IPIP,
 * IPv6 in IPv6) from its client to 172.16.0.5 or fd00::2, the outer IPv4
 * ID or IPv6 flow label PKTGEN_TUNNEL_ID (pktgen.h).
 */
static int tunnel_frames(struct gen *g)
{
	int ret = 0;

	for (unsigned v6 = 0; !ret && v6 < 2; v6++)
		for (unsigned f = 0; !ret && f < PKTGEN_FLOWS; f++)
			for (unsigned k = 0; !ret && k < PKTGEN_PACKETS_PER_FLOW; k++) {
				struct builder *b = &g->b;
				struct l4_choice c = flow_choice(f, k);
				const uint8_t *client, *server;
				struct layer *outer, *inner, *transport;

				reset(b);
				ethernet(g, v6 ? ETH_P_IPV6 : ETH_P_IP);
				if (v6) {
					outer = ipv6(g, IP6_PLAIN, IPPROTO_IPV6);
					inner = ipv6(g, IP6_PLAIN, l4_proto(c, true));
				} else {
					outer = ipv4(g, IP4_PLAIN, IPPROTO_IPIP);
					inner = ipv4(g, IP4_PLAIN, l4_proto(c, false));
				}
				l4(g, c, v6);
				flow_addrs(f, v6, &client, &server);
				set_addrs(b, outer, client,
					  v6 ? pktgen_ipv6_addrs[1] : pktgen_ipv4_addrs[5]);
				set_addrs(b, inner, client, server);
				if (v6) { /* the flow label: its top 4 bits 0, then PKTGEN_TUNNEL_ID */
					b->buf[outer->off + 1] &= 0xf0;
					set16(b->buf + outer->off + 2, PKTGEN_TUNNEL_ID);
				} else {
					set16(b->buf + outer->off + 4, PKTGEN_TUNNEL_ID);
				}
				transport = find_layer_of(b, c.recipe == R_UDP ? L_UDP : L_TCP);
				set16(b->buf + transport->off, flow_sport(f));
				set16(b->buf + transport->off + 2, flow_dport(f));
				label(b, "tunnel%u", f);
				ret = emit_built(g, PKTGEN_VALID);
			}
	return ret;
}

/* A random IPv4 or IPv6 frame, rebuilt in g->b (so its layers are known). */
static void build_random_ip(struct gen *g)
{
	struct l4_choice choices[MAX_L4_CHOICES];
	bool v6 = chance(g, 40);
	size_t n = l4_choices(choices, v6);
	uint32_t variant = rnd(g, v6 ? IP6_VARIANTS : IP4_VARIANTS);
	struct l4_choice c = choices[rnd(g, (uint32_t)n)];

	if (v6)
		build_ipv6(g, (enum ip6_variant)variant, c);
	else
		build_ipv4(g, (enum ip4_variant)variant, c);
}

/*
 * Frames cut at every header boundary, one byte after it and halfway into
 * the header, so every bounds check of a parser meets both sides.
 */
static int truncated_frames(struct gen *g, unsigned bases)
{
	int ret = 0;

	for (unsigned i = 0; !ret && i < bases; i++) {
		struct builder *b = &g->b;
		char what[80];
		size_t last = 0;

		if (i % 10 == 9)
			build_arp(g, i & 1);
		else
			build_random_ip(g);
		finish(b);
		boundary(b); /* the end: halfway into the last header too */
		for (size_t k = 0; !ret && k < b->nbounds; k++) {
			size_t at = b->bounds[k];
			size_t next = k + 1 < b->nbounds ? b->bounds[k + 1] : b->len;
			size_t cuts[3] = { at, at + 1, at + (next - at) / 2 };

			for (size_t c = 0; !ret && c < 3; c++) {
				/* each length once, and none that is the whole frame */
				if (cuts[c] <= last || cuts[c] >= b->len)
					continue;
				last = cuts[c];
				snprintf(what, sizeof(what), "%.54s cut@%zu", b->label, cuts[c]);
				ret = emit(g, b->buf, cuts[c], PKTGEN_TRUNCATED, what);
			}
		}
	}
	return ret;
}


enum defect {
	D_IHL_SHORT, D_IHL_LONG, D_IP4_VERSION, D_TOTLEN_LONG, D_TOTLEN_SHORT, D_IP4_CSUM,
	D_IP6_VERSION, D_PAYLEN_LONG, D_PAYLEN_SHORT, D_TCP_DOFF_SHORT, D_TCP_DOFF_LONG,
	D_TCP_OPTLEN_ZERO, D_UDP_LEN_SHORT, D_UDP_LEN_LONG, D_UDP_LEN_ZERO, D_L4_CSUM,
	D_BYTE_FLIP, D_DEFECTS
};

static const char *const defect_names[D_DEFECTS] = {
	"ihl<5", "ihl>len", "ip4-version", "totlen>frame", "totlen<ihl", "ip4-csum",
	"ip6-version", "paylen>frame", "paylen<hdr", "doff<5", "doff>len",
	"tcp-optlen0", "udplen<8", "udplen>frame", "udplen0", "l4-csum", "byte-flip",
};

/* A frame with one defect; false when the frame has no such header. */
static bool apply_defect(struct gen *g, enum defect d)
{
	struct builder *b = &g->b;
	struct layer *ip4 = find_layer_of(&g->b, L_IPV4), *ip6 = find_layer_of(&g->b, L_IPV6);
	struct layer *t = find_layer_of(&g->b, L_TCP), *u = find_layer_of(&g->b, L_UDP);
	struct layer *l4 = t ? t : u ? u : find_layer_of(&g->b, L_ICMP);

	switch (d) {
	case D_IHL_SHORT:
	case D_IHL_LONG:
	case D_IP4_VERSION:
		if (!ip4)
			return false;
		finish(b);
		if (d == D_IP4_VERSION)
			b->buf[ip4->off] = (uint8_t)(0x60 | (b->buf[ip4->off] & 0xf));
		else
			b->buf[ip4->off] = (uint8_t)(0x40 | (d == D_IHL_SHORT ? rnd(g, 5) : 15));
		ip4->keep_len = true; /* keep the defect: do not finish() again */
		break;
	case D_TOTLEN_LONG:
	case D_TOTLEN_SHORT:
	case D_IP4_CSUM:
		if (!ip4)
			return false;
		if (d == D_IP4_CSUM) {
			ip4->keep_csum = true;
			finish(b);
			set16(b->buf + ip4->off + 10, (uint16_t)(get16(b->buf + ip4->off + 10) ^ 0x5a5a));
			break;
		}
		ip4->keep_len = true;
		set16(b->buf + ip4->off + 2, d == D_TOTLEN_SHORT ? (uint16_t)rnd(g, 20)
			    : (uint16_t)(b->len - ip4->off + 1 + rnd(g, 1000)));
		break;
	case D_IP6_VERSION:
	case D_PAYLEN_LONG:
	case D_PAYLEN_SHORT:
		if (!ip6)
			return false;
		if (d == D_IP6_VERSION) {
			b->buf[ip6->off] = (uint8_t)(0x40 | (b->buf[ip6->off] & 0xf));
			break;
		}
		ip6->keep_len = true;
		set16(b->buf + ip6->off + 4, d == D_PAYLEN_SHORT ? (uint16_t)rnd(g, 8)
			    : (uint16_t)(b->len - ip6->off - 40 + 1 + rnd(g, 1000)));
		break;
	case D_TCP_DOFF_SHORT:
	case D_TCP_DOFF_LONG:
	case D_TCP_OPTLEN_ZERO:
		if (!t)
			return false;
		if (d == D_TCP_OPTLEN_ZERO) {
			/* an option whose length is 0 would loop a naive parser */
			b->buf[t->off + 12] = 6 << 4;
			if (t->off + 22 > b->len)
				return false;
			b->buf[t->off + 20] = 2;
			b->buf[t->off + 21] = 0;
		} else {
			b->buf[t->off + 12] = (uint8_t)((d == D_TCP_DOFF_SHORT ? rnd(g, 5) : 15) << 4);
		}
		break;
	case D_UDP_LEN_SHORT:
	case D_UDP_LEN_LONG:
	case D_UDP_LEN_ZERO:
		if (!u)
			return false;
		u->keep_len = true;
		set16(b->buf + u->off + 4, d == D_UDP_LEN_ZERO ? 0 : d == D_UDP_LEN_SHORT
			    ? (uint16_t)(1 + rnd(g, 7)) : (uint16_t)(b->len - u->off + 1 + rnd(g, 500)));
		break;
	case D_L4_CSUM:
		if (!l4)
			return false;
		l4->keep_csum = true;
		finish(b);
		b->buf[l4->off + (l4->kind == L_TCP ? 16 : l4->kind == L_UDP ? 6 : 2)] ^= 0xa5;
		break;
	case D_BYTE_FLIP: {
		/* somewhere in the headers, where it changes what a parser decides */
		size_t end = b->nbounds ? b->bounds[b->nbounds - 1] : b->len;
		size_t at = rnd(g, (uint32_t)(end > 12 ? end - 12 : 1)) + 12;

		finish(b);
		for (size_t i = 0; i < b->nlayers; i++)
			b->layers[i].keep_len = b->layers[i].keep_csum = true;
		if (at < b->len)
			b->buf[at] ^= (uint8_t)(1u << rnd(g, 8));
		break;
	}
	default:
		return false;
	}
	label(b, "!%s", defect_names[d]);
	return true;
}

static int malformed_frames(struct gen *g, unsigned per_defect)
{
	int ret = 0;

	for (unsigned d = 0; !ret && d < D_DEFECTS; d++)
		for (unsigned made = 0, tries = 0; !ret && made < per_defect && tries < 200; tries++) {
			build_random_ip(g);
			if (!apply_defect(g, (enum defect)d))
				continue;
			ret = emit_built(g, PKTGEN_MALFORMED);
			made++;
		}
	return ret;
}

/* Random bytes; half of them behind an IPv4 or IPv6 EtherType to get parsed. */
static int garbage_frames(struct gen *g, unsigned count)
{
	static const uint16_t types[] = { ETH_P_IP, ETH_P_IPV6, ETH_P_8021Q };
	int ret = 0;

	for (unsigned i = 0; !ret && i < count; i++) {
		struct builder *b = &g->b;
		size_t n = ETH_HLEN + rnd(g, 120);

		reset(b);
		put_random(g, n);
		if (i & 1) {
			set16(b->buf + 12, PICK(g, types));
			if (get16(b->buf + 12) == ETH_P_IP)
				b->buf[ETH_HLEN] = (uint8_t)(0x40 | (b->buf[ETH_HLEN] & 0xf));
		}
		label(b, "garbage%s", i & 1 ? "+ethertype" : "");
		ret = emit(g, b->buf, b->len, PKTGEN_GARBAGE, b->label);
	}
	return ret;
}

/*
 * Large frames, at and around what BPF_PROG_TEST_RUN takes in one buffer:
 * XDP's 4,096-byte page less 256 of headroom and 320 of skb_shared_info
 * (3,520), the skb's page less 64 of headroom and the same 320 (3,712),
 * and beyond, up to jumbo frames.
 */
static int oversized_frames(struct gen *g)
{
	static const size_t sizes[] = { 1500, 1514, 2048, 3519, 3520, 3521, 3711, 3712, 3713,
					4096, 9000, 9014 };
	int ret = 0;

	for (size_t i = 0; !ret && i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		for (unsigned v6 = 0; !ret && v6 < 2; v6++) {
			struct builder *b = &g->b;
			struct l4_choice c = { v6 ? R_TCP : R_UDP, v6 ? FLAGS_PSH_ACK : UDP_VXLAN };

			reset(b);
			ethernet(g, v6 ? ETH_P_IPV6 : ETH_P_IP);
			if (v6)
				ipv6(g, IP6_PLAIN, IPPROTO_TCP);
			else
				ipv4(g, IP4_DF, IPPROTO_UDP);
			l4(g, c, v6);
			if (b->len > sizes[i])
				b->len = sizes[i];
			put_random(g, sizes[i] - b->len);
			label(b, "len%zu", sizes[i]);
			ret = emit_built(g, PKTGEN_OVERSIZED);
		}
	}
	return ret;
}

/* Shorter than an Ethernet header: test runs refuse these. */
static int runt_frames(struct gen *g)
{
	uint8_t bytes[ETH_HLEN];
	int ret = 0;

	for (size_t i = 0; i < sizeof(bytes); i++)
		bytes[i] = (uint8_t)rnd64(g);
	for (size_t len = 1; !ret && len < ETH_HLEN; len += 6)
		ret = emit(g, bytes, len, PKTGEN_TRUNCATED, "runt");
	return ret;
}

int pktgen_generate(struct pktgen_set *set, uint64_t seed)
{
	struct gen *g = calloc(1, sizeof(*g));
	int ret;

	if (!g)
		return -ENOMEM;
	g->rng = seed;
	g->set = set;
	ret = valid_frames(g);
	if (!ret)
		ret = long_chain_frames(g);
	if (!ret)
		ret = flow_frames(g, false);
	if (!ret)
		ret = truncated_frames(g, 60);
	if (!ret)
		ret = malformed_frames(g, 12);
	if (!ret)
		ret = garbage_frames(g, 60);
	if (!ret)
		ret = oversized_frames(g);
	if (!ret)
		ret = runt_frames(g);
	/* after everything else, so that the packets before stay what they were */
	if (!ret)
		ret = flow_frames(g, true);
	if (!ret)
		ret = answer_frames(g);
	if (!ret)
		ret = tunnel_frames(g);
	if (!ret)
		ret = error_frames(g);
	free(g);
	if (ret)
		pktgen_free(set);
	return ret;
}

void pktgen_free(struct pktgen_set *set)
{
	for (size_t i = 0; i < set->count; i++)
		free(set->pkts[i].data);
	free(set->pkts);
	*set = (struct pktgen_set){ 0 };
}

const char *pktgen_class_name(enum pktgen_class cls)
{
	static const char *const names[PKTGEN_CLASS_COUNT] = {
		"valid", "truncated", "malformed", "garbage", "oversized",
	};

	return cls < PKTGEN_CLASS_COUNT ? names[cls] : "?";
}
