/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "maglev.h"

bool k8s_is_prime(uint32_t n)
{
	if (n < 2)
		return false;
	for (uint32_t d = 2; d <= n / d; d++)
		if (n % d == 0)
			return false;
	return true;
}

uint32_t k8s_maglev_default_size(size_t n)
{
	static const uint32_t sizes[] = { K8S_MAGLEV_SIZES };
	size_t count = sizeof(sizes) / sizeof(sizes[0]);

	for (size_t i = 0; i < count; i++)
		if (sizes[i] / 100 >= n)
			return sizes[i];
	return sizes[count - 1];
}

/* FNV-1a with a seed, then splitmix64's finaliser: the paper only asks for two independent hashes. */
static uint64_t name_hash(const char *s, uint64_t seed)
{
	uint64_t h = 0xcbf29ce484222325ull ^ seed;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	return h ^ (h >> 31);
}

struct perm {
	const char *name;
	size_t index;   /* in the caller's names */
	uint32_t offset;
	uint32_t skip;
	uint32_t next;  /* how far down its permutation the backend is */
};

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct perm *)a)->name, ((const struct perm *)b)->name);
}

int k8s_maglev_build(const char *const *names, size_t n, uint32_t size, uint32_t *table,
		     struct sluice_error *err)
{
	struct perm *p;
	uint32_t filled = 0;

	if (n == 0 || n > size)
		return sluice_fail(err, EINVAL, "maglev: %zu backends for a table of %u", n, size);
	if (!k8s_is_prime(size))
		return sluice_fail(err, EINVAL, "maglev: table size %u is not prime", size);
	p = calloc(n, sizeof(*p));
	if (!p)
		return sluice_fail(err, ENOMEM, "maglev: out of memory");
	for (size_t i = 0; i < n; i++) {
		p[i].name = names[i];
		p[i].index = i;
		p[i].offset = (uint32_t)(name_hash(names[i], 0x6d61676c) % size);
		p[i].skip = (uint32_t)(name_hash(names[i], 0x65762031) % (size - 1)) + 1;
	}
	/* Turns go in name order, so the caller's order does not matter. */
	qsort(p, n, sizeof(*p), by_name);
	for (uint32_t i = 0; i < size; i++)
		table[i] = UINT32_MAX;
	/*
	 * Each turn claims one slot; a backend's permutation visits every slot
	 * (size is prime, skip < size), so each turn ends and size turns fill
	 * the table.
	 */
	while (filled < size) {
		for (size_t i = 0; i < n && filled < size; i++) {
			uint32_t c;

			do {
				c = (uint32_t)((p[i].offset + (uint64_t)p[i].next * p[i].skip) % size);
				p[i].next++;
			} while (table[c] != UINT32_MAX);
			table[c] = (uint32_t)p[i].index;
			filled++;
		}
	}
	free(p);
	return 0;
}
