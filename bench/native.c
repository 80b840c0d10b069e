/* SPDX-License-Identifier: MIT */
/* The bench programs in C (see native.h); loads are little-endian, as ldx's are. */
#include <stdbool.h>
#include <string.h>

#define ETHER_HEADER 14

#include "native.h"
#include "programs/netbench.h"

static uint16_t load16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t load32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t rol32(uint32_t x, unsigned n)
{
	return x << n | x >> (32 - n);
}

/* jhash_3words' final mix over the tuple, then murmur3's fmix64. */
uint64_t native_alu_chain(uint8_t *mem, size_t size)
{
	uint32_t a = load32(mem), b = load32(mem + 4), c = load32(mem + 8);
	uint64_t h;

	(void)size;
	c ^= (load32(mem + 12) & 0xff) << 24;
	a += 0x9e3779b9;
	b += 0x9e3779b9;
	c += 0x9e3779b9;
	c ^= b; c -= rol32(b, 14);
	a ^= c; a -= rol32(c, 11);
	b ^= a; b -= rol32(a, 25);
	c ^= b; c -= rol32(b, 16);
	a ^= c; a -= rol32(c, 4);
	b ^= a; b -= rol32(a, 14);
	c ^= b; c -= rol32(b, 24);
	h = (uint64_t)c << 32 | a;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccd;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53;
	h ^= h >> 33;
	return h;
}

/* Pairs of the sixteen fields, narrow fields and constants, hashed as h = h * 31 + x. */
uint64_t native_mem_heavy(uint8_t *mem, size_t size)
{
	uint64_t h;

	(void)size;
	h = (uint64_t)load32(mem) + load32(mem + 4);
	h = h * 31 + (load32(mem + 8) ^ load32(mem + 12));
	h = h * 31 + ((uint64_t)load32(mem + 16) + load32(mem + 20));
	h = h * 31 + (load32(mem + 24) ^ load32(mem + 28));
	h = h * 31 + ((uint64_t)load32(mem + 32) + load32(mem + 36));
	h = h * 31 + (load32(mem + 40) ^ load32(mem + 44));
	h = h * 31 + ((uint64_t)load32(mem + 48) + load32(mem + 52));
	h = h * 31 + (load32(mem + 56) ^ load32(mem + 60));
	h = h * 31 + mem[1];
	h = h * 31 + load16(mem + 6);
	h = h * 31 + load64(mem + 16);
	h = h * 31 + 0x1234;
	h = h * 31 + 7;
	h = h * 31 + 1;
	return h;
}

/* The first-match firewall of branchy.s: the number of the rule that matches, or 0. */
uint64_t native_branchy(uint8_t *mem, size_t size)
{
	uint32_t src, dst, dst24;
	uint16_t sport, dport;
	uint8_t proto;

	(void)size;
	if (__builtin_bswap16(load16(mem + 14)) != 0x0800)
		return 1;
	if (mem[16] != 0x45)
		return 2;
	if (__builtin_bswap16(load16(mem + 22)) & 0x1fff)
		return 3;
	if (mem[24] <= 1)
		return 4;
	proto = mem[25];
	src = __builtin_bswap32(load32(mem + 28));
	dst = __builtin_bswap32(load32(mem + 32));
	if (proto != 6 && proto != 17)
		return proto == 1 ? 5 : 6;
	sport = __builtin_bswap16(load16(mem + 36));
	dport = __builtin_bswap16(load16(mem + 38));
	if (sport == 0 || dport == 0)
		return 7;
	if (src >> 24 == 10)
		return 8;
	if (dport == 22)
		return src >> 8 == 0xc0a801 ? 9 : 10;
	if (proto == 17 && dport == 53)
		return 11;
	if (proto == 17 && dport == 123)
		return 12;
	if (dst >> 28 == 14)
		return 13;
	dst24 = dst >> 8;
	if (dport == 80 && dst24 == 0xcb0071)
		return 14;
	if (proto == 6 && sport < 1024)
		return 15;
	if (dport == 25)
		return 16;
	if (dport == 443 && proto == 6 && dst24 == 0xcb0071)
		return 17;
	if (dport >= 8000 && dport <= 8999)
		return 18;
	if (proto == 6 && (mem[49] & 0x12) == 0x02)
		return 19;
	return 0;
}

/* RFC 1071 over 16-bit words in host order, as ldxh reads them; size < 2^17. */
uint64_t native_checksum(uint8_t *mem, size_t size)
{
	uint64_t sum = 0;

	for (size_t i = 0; i + 2 <= size; i += 2)
		sum += load16(mem + i);
	sum = (sum & 0xffff) + (sum >> 16);
	sum += sum >> 16;
	return ~sum & 0xffff;
}

uint64_t native_fnv1a(uint8_t *mem, size_t size)
{
	uint64_t h = 0xcbf29ce484222325;

	for (size_t i = 0; i < size; i++)
		h = (h ^ mem[i]) * 0x100000001b3;
	return h;
}

/* Bubble sort of the 32-bit keys, then h = h * 31 + key over them. */
uint64_t native_bubble_sort(uint8_t *mem, size_t size)
{
	uint32_t keys[64];
	size_t n = size / 4 < 64 ? size / 4 : 64;
	uint64_t h = 0;

	memcpy(keys, mem, n * 4);
	for (size_t unsorted = n; unsorted > 1; unsorted--) {
		for (size_t i = 0; i + 1 < unsorted; i++) {
			if (keys[i] > keys[i + 1]) {
				uint32_t t = keys[i];

				keys[i] = keys[i + 1];
				keys[i + 1] = t;
			}
		}
	}
	for (size_t i = 0; i < n; i++)
		h = h * 31 + keys[i];
	return h;
}

static uint64_t rotl64(uint64_t x, unsigned n)
{
	return x << n | x >> (64 - n);
}

/* Inlined, as the reference implementation's SIPROUND macro is: called out of
 * line (gcc -O2 would, 8 call sites), v would live in memory. */
__attribute__((always_inline)) static inline void sipround(uint64_t v[4])
{
	v[0] += v[1]; v[1] = rotl64(v[1], 13); v[1] ^= v[0]; v[0] = rotl64(v[0], 32);
	v[2] += v[3]; v[3] = rotl64(v[3], 16); v[3] ^= v[2];
	v[0] += v[3]; v[3] = rotl64(v[3], 21); v[3] ^= v[0];
	v[2] += v[1]; v[1] = rotl64(v[1], 17); v[1] ^= v[2]; v[2] = rotl64(v[2], 32);
}

/* SipHash-2-4 under the key 00 01 .. 0f, of a message whose size is a multiple of 8. */
uint64_t native_siphash(uint8_t *mem, size_t size)
{
	const uint64_t k0 = 0x0706050403020100, k1 = 0x0f0e0d0c0b0a0908;
	uint64_t v[4] = {
		k0 ^ 0x736f6d6570736575, k1 ^ 0x646f72616e646f6d,
		k0 ^ 0x6c7967656e657261, k1 ^ 0x7465646279746573,
	};
	uint64_t b = (uint64_t)size << 56;

	for (size_t i = 0; i + 8 <= size; i += 8) {
		uint64_t m = load64(mem + i);

		v[3] ^= m;
		sipround(v);
		sipround(v);
		v[0] ^= m;
	}
	v[3] ^= b;
	sipround(v);
	sipround(v);
	v[0] ^= b;
	v[2] ^= 0xff;
	for (int i = 0; i < 4; i++)
		sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static uint16_t load_be16(const uint8_t *p)
{
	return __builtin_bswap16(load16(p));
}

/* One frame's summary, as parser.s defines it. */
static uint64_t parse_frame(const uint8_t *frame, size_t len)
{
	uint64_t addrs, ports = 0;
	size_t off = ETHER_HEADER;
	bool later_fragment = false;
	uint16_t type;
	uint8_t proto;

	if (len < ETHER_HEADER)
		return 1;
	type = load_be16(frame + 12);
	for (int tags = 0; tags < 2 && (type == 0x8100 || type == 0x88a8); tags++) {
		if (len < off + 4)
			return 1;
		type = load_be16(frame + off + 2);
		off += 4;
	}
	if (type == 0x0800) {
		size_t ihl;

		if (len < off + 20)
			return 1;
		ihl = (frame[off] & 0xfu) * 4;
		if (frame[off] >> 4 != 4 || ihl < 20 || len < off + ihl)
			return 2;
		proto = frame[off + 9];
		addrs = load32(frame + off + 12) ^ load32(frame + off + 16);
		later_fragment = load_be16(frame + off + 6) & 0x1fff;
		off += ihl;
	} else if (type == 0x86dd) {
		uint64_t x;

		if (len < off + 40)
			return 1;
		if (frame[off] >> 4 != 6)
			return 2;
		proto = frame[off + 6];
		x = load64(frame + off + 8) ^ load64(frame + off + 16) ^
		    load64(frame + off + 24) ^ load64(frame + off + 32);
		addrs = (uint32_t)(x ^ x >> 32);
		off += 40;
	} else {
		return (uint64_t)type << 16 | 3;
	}
	if (!later_fragment && (proto == 6 || proto == 17)) {
		if (len < off + (proto == 6 ? 20 : 8))
			return 1;
		ports = load32(frame + off);
	}
	return (ports << 32 ^ addrs) + ((uint64_t)proto << 8 | off);
}

uint64_t native_parser(uint8_t *mem, size_t size)
{
	uint64_t h = 0;

	for (size_t slot = 0; slot + PARSER_SLOT <= size; slot += PARSER_SLOT)
		h = h * 31 + parse_frame(mem + slot + 2, load16(mem + slot));
	return h;
}

struct nb_maps nb_maps;

uint64_t native_empty(uint8_t *mem, size_t size)
{
	(void)mem;
	(void)size;
	return 0;
}

uint64_t native_flowtable(uint8_t *mem, size_t size)
{
	return (uint32_t)flowtable_run(mem, mem + size);
}

uint64_t native_lb(uint8_t *mem, size_t size)
{
	return (uint32_t)lb_run(mem, mem + size);
}
