/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_MAPS_JHASH_H
#define SLUICE_MAPS_JHASH_H

#include <stdint.h>
#include <string.h>

/*
 * Bob Jenkins' lookup3 hash (public domain, May 2006) in the form the
 * kernel's <linux/jhash.h> gives it over 32-bit words, jhash2.  The stack
 * map uses it with seed 0 so that a stack gets the id the kernel would
 * give it.  (The hash maps have a hash of their own: see hashtab.c.)
 */

#define JHASH_INITVAL 0xdeadbeefu

static inline uint32_t jhash_rol32(uint32_t w, unsigned s)
{
	return (w << s) | (w >> (32 - s));
}

#define JHASH_MIX(a, b, c)                                   \
	do {                                                 \
		a -= c; a ^= jhash_rol32(c, 4);  c += b;     \
		b -= a; b ^= jhash_rol32(a, 6);  a += c;     \
		c -= b; c ^= jhash_rol32(b, 8);  b += a;     \
		a -= c; a ^= jhash_rol32(c, 16); c += b;     \
		b -= a; b ^= jhash_rol32(a, 19); a += c;     \
		c -= b; c ^= jhash_rol32(b, 4);  b += a;     \
	} while (0)

#define JHASH_FINAL(a, b, c)                                 \
	do {                                                 \
		c ^= b; c -= jhash_rol32(b, 14);             \
		a ^= c; a -= jhash_rol32(c, 11);             \
		b ^= a; b -= jhash_rol32(a, 25);             \
		c ^= b; c -= jhash_rol32(b, 16);             \
		a ^= c; a -= jhash_rol32(c, 4);              \
		b ^= a; b -= jhash_rol32(a, 14);             \
		c ^= b; c -= jhash_rol32(b, 24);             \
	} while (0)

static inline uint32_t jhash_get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* length is in 32-bit words, k need not be aligned. */
static inline uint32_t jhash2(const void *key, uint32_t length, uint32_t initval)
{
	const uint8_t *k = key;
	uint32_t a, b, c;

	a = b = c = JHASH_INITVAL + (length << 2) + initval;
	while (length > 3) {
		a += jhash_get32(k);
		b += jhash_get32(k + 4);
		c += jhash_get32(k + 8);
		JHASH_MIX(a, b, c);
		length -= 3;
		k += 12;
	}
	switch (length) {
	case 3: c += jhash_get32(k + 8); /* fall through */
	case 2: b += jhash_get32(k + 4); /* fall through */
	case 1: a += jhash_get32(k);
		JHASH_FINAL(a, b, c);
		break;
	default:
		break;
	}
	return c;
}

#endif
