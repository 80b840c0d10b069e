/* SPDX-License-Identifier: MIT */
/* The bench programs in C (see native.h); loads are little-endian, as ldx's are. */
#include <string.h>

#include "native.h"

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
uint64_t native_alu_chain(const uint8_t *mem, size_t size)
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
uint64_t native_mem_heavy(const uint8_t *mem, size_t size)
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
uint64_t native_branchy(const uint8_t *mem, size_t size)
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

/* RFC 1071 over 16-bit words in host order, as ldxh reads them. */
uint64_t native_checksum(const uint8_t *mem, size_t size)
{
	uint64_t sum = 0;

	for (size_t i = 0; i + 2 <= size; i += 2)
		sum += load16(mem + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

uint64_t native_fnv1a(const uint8_t *mem, size_t size)
{
	uint64_t h = 0xcbf29ce484222325;

	for (size_t i = 0; i < size; i++)
		h = (h ^ mem[i]) * 0x100000001b3;
	return h;
}

/* Bubble sort of the 32-bit keys, then h = h * 31 + key over them. */
uint64_t native_bubble_sort(const uint8_t *mem, size_t size)
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
