/* SPDX-License-Identifier: MIT */
/*
 * fuzz_maps: random operations on an LPM trie, a hash map and an LRU hash,
 * each checked against a model written the plain way: a list searched by
 * brute force for the longest prefix, a list of keys, an LRU by timestamps.
 * Any disagreement, in a return value, a value or a walk, aborts.  (The
 * kernel differential in tests/maps checks the same semantics against the
 * kernel; this runs without root, under the sanitizers, on any input.)
 *
 * The input is a stream of operations: a selector byte, then its arguments.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bpf.h>

#include <sluice/maps.h>

#define LPM_MAX 24
#define HASH_MAX 12
#define LRU_MAX 6

#define CHECK(cond)                                                                 \
	do {                                                                        \
		if (!(cond)) {                                                      \
			fprintf(stderr, "fuzz_maps:%d: %s\n", __LINE__, #cond);     \
			abort();                                                    \
		}                                                                   \
	} while (0)

struct input {
	const uint8_t *p;
	size_t left;
};

static uint8_t byte(struct input *in)
{
	if (!in->left)
		return 0;
	in->left--;
	return *in->p++;
}

static uint64_t pick_flags(struct input *in)
{
	static const uint64_t flags[] = { BPF_ANY, BPF_NOEXIST, BPF_EXIST, 3, BPF_F_LOCK };

	return flags[byte(in) % 5];
}

static struct sluice_map *make(uint32_t type, uint32_t key, uint32_t value, uint32_t max,
			       uint32_t flags)
{
	struct sluice_map_attr attr = {
		.sz = sizeof(attr), .type = type, .key_size = key, .value_size = value,
		.max_entries = max, .map_flags = flags, .name = "fuzz",
	};
	struct sluice_map *map = sluice_map_create(&attr, NULL);

	CHECK(map);
	return map;
}

/* ---- LPM trie: 16-bit addresses, key {u32 prefixlen, u8 data[2]} --------- */

struct lpm_model {
	int n;
	struct {
		uint32_t prefixlen;
		uint8_t data[2];
		uint32_t value;
	} e[LPM_MAX];
};

static uint16_t bits16(const uint8_t *d)
{
	return (uint16_t)(d[0] << 8 | d[1]);
}

static bool same_prefix(const uint8_t *a, const uint8_t *b, uint32_t len)
{
	return len == 0 || ((bits16(a) ^ bits16(b)) >> (16 - len)) == 0;
}

/* The model's entry for exactly this prefix, or -1. */
static int lpm_exact(const struct lpm_model *m, uint32_t prefixlen, const uint8_t *data)
{
	for (int i = 0; i < m->n; i++)
		if (m->e[i].prefixlen == prefixlen && same_prefix(m->e[i].data, data, prefixlen))
			return i;
	return -1;
}

static void lpm_op(struct sluice_map *map, struct lpm_model *m, struct input *in)
{
	uint8_t key[6], what = byte(in) % 4;
	uint32_t prefixlen = byte(in) % 18, value = byte(in), got = 0;
	int i;

	memcpy(key, &prefixlen, 4);
	key[4] = byte(in);
	key[5] = byte(in);
	i = prefixlen <= 16 ? lpm_exact(m, prefixlen, key + 4) : -1;
	if (what == 0) {
		uint64_t flags = pick_flags(in);
		int want = flags > BPF_EXIST || prefixlen > 16	? -EINVAL
			   : i >= 0 && flags == BPF_NOEXIST	? -EEXIST
			   : i < 0 && flags == BPF_EXIST	? -ENOENT
			   : i < 0 && m->n == LPM_MAX		? -ENOSPC
								: 0;

		CHECK(sluice_map_update(map, key, &value, flags, NULL) == want);
		if (!want && i < 0)
			i = m->n++;
		if (!want) {
			m->e[i].prefixlen = prefixlen;
			memcpy(m->e[i].data, key + 4, 2);
			m->e[i].value = value;
		}
	} else if (what == 1) {
		int want = prefixlen > 16 ? -EINVAL : i < 0 ? -ENOENT : 0;

		CHECK(sluice_map_delete(map, key, NULL) == want);
		if (!want)
			m->e[i] = m->e[--m->n];
	} else if (what == 2) {
		/* the longest stored prefix of the key, by brute force */
		int best = -1;

		for (int j = 0; j < m->n && prefixlen <= 16; j++)
			if (m->e[j].prefixlen <= prefixlen &&
			    same_prefix(m->e[j].data, key + 4, m->e[j].prefixlen) &&
			    (best < 0 || m->e[j].prefixlen > m->e[best].prefixlen))
				best = j;
		CHECK(sluice_map_lookup(map, key, &got, 0, NULL) == (best < 0 ? -ENOENT : 0));
		CHECK(best < 0 || got == m->e[best].value);
	} else {
		/* a walk visits every prefix once, with the data it was stored with */
		uint8_t cur[6], next[6];
		bool seen[LPM_MAX] = { false };
		int visited = 0;

		for (int ret = sluice_map_get_next_key(map, NULL, next, NULL); !ret;
		     ret = sluice_map_get_next_key(map, cur, next, NULL)) {
			uint32_t len;

			memcpy(&len, next, 4);
			i = lpm_exact(m, len, next + 4);
			CHECK(i >= 0 && !seen[i] && !memcmp(m->e[i].data, next + 4, 2));
			seen[i] = true;
			memcpy(cur, next, sizeof(cur));
			visited++;
		}
		CHECK(visited == m->n);
	}
}

/* ---- hash and LRU hash: keys of 2 bytes, values of 4 ---------------------- */

struct hash_model {
	int n, max;
	bool lru;
	uint64_t clock;
	struct {
		uint16_t key;
		uint32_t value;
		uint64_t used; /* LRU: when it was last created, updated or used by a program */
	} e[HASH_MAX];
};

static int hash_find(const struct hash_model *m, uint16_t key)
{
	for (int i = 0; i < m->n; i++)
		if (m->e[i].key == key)
			return i;
	return -1;
}

/* An insert into a full LRU map: the least recently used element goes. */
static void lru_evict(struct hash_model *m)
{
	int oldest = 0;

	for (int i = 1; i < m->n; i++)
		if (m->e[i].used < m->e[oldest].used)
			oldest = i;
	m->e[oldest] = m->e[--m->n];
}

static void hash_op(struct sluice_map *map, struct hash_model *m, struct input *in)
{
	uint8_t what = byte(in) % 5;
	uint16_t key = byte(in) % (m->lru ? 10 : 20);
	uint32_t value = byte(in), got = 0;
	int i = hash_find(m, key);

	if (what == 0) {
		uint64_t flags = pick_flags(in);
		bool program = byte(in) & 1;
		int want = (m->lru ? flags > BPF_EXIST : (flags & ~(uint64_t)BPF_F_LOCK) > BPF_EXIST) ||
					   (flags & BPF_F_LOCK)
				   ? -EINVAL
			   : i >= 0 && flags == BPF_NOEXIST ? -EEXIST
			   : i < 0 && flags == BPF_EXIST    ? -ENOENT
			   : i < 0 && m->n == m->max && !m->lru ? -E2BIG
								  : 0;
		long ret = program ? sluice_map_elem_update(map, &key, &value, flags, 0)
				   : sluice_map_update(map, &key, &value, flags, NULL);

		CHECK(ret == want);
		if (want)
			return;
		if (i < 0 && m->n == m->max)
			lru_evict(m);
		if (i < 0) {
			i = m->n++;
			m->e[i].key = key;
		}
		m->e[i].value = value;
		m->e[i].used = ++m->clock;
	} else if (what == 1) {
		CHECK(sluice_map_delete(map, &key, NULL) == (i < 0 ? -ENOENT : 0));
		if (i >= 0)
			m->e[i] = m->e[--m->n];
	} else if (what == 2) {
		CHECK(sluice_map_lookup(map, &key, &got, 0, NULL) == (i < 0 ? -ENOENT : 0));
		CHECK(i < 0 || got == m->e[i].value);
	} else if (what == 3) {
		/* a program's lookup counts as a use */
		uint32_t *p = sluice_map_elem_lookup(map, &key, 0);

		CHECK(!p == (i < 0));
		CHECK(!p || *p == m->e[i].value);
		if (p)
			m->e[i].used = ++m->clock;
	} else {
		CHECK(sluice_map_lookup_and_delete(map, &key, &got, 0, NULL) ==
		      (i < 0 ? -ENOENT : 0));
		CHECK(i < 0 || got == m->e[i].value);
		if (i >= 0)
			m->e[i] = m->e[--m->n];
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct sluice_map *lpm = make(BPF_MAP_TYPE_LPM_TRIE, 6, 4, LPM_MAX, BPF_F_NO_PREALLOC);
	struct sluice_map *hash = make(BPF_MAP_TYPE_HASH, 2, 4, HASH_MAX, 0);
	struct sluice_map *lru = make(BPF_MAP_TYPE_LRU_HASH, 2, 4, LRU_MAX, 0);
	static struct lpm_model lm;
	static struct hash_model hm, lrum;
	struct sluice_map_info info;

	memset(&lm, 0, sizeof(lm));
	hm = (struct hash_model){ .max = HASH_MAX };
	lrum = (struct hash_model){ .max = LRU_MAX, .lru = true };
	while (in.left) {
		uint8_t which = byte(&in) % 3;

		if (which == 0)
			lpm_op(lpm, &lm, &in);
		else
			hash_op(which == 1 ? hash : lru, which == 1 ? &hm : &lrum, &in);
	}
	sluice_map_get_info(hash, &info);
	CHECK(info.entries == (uint32_t)hm.n);
	sluice_map_get_info(lru, &info);
	CHECK(info.entries == (uint32_t)lrum.n);
	sluice_map_get_info(lpm, &info);
	CHECK(info.entries == (uint32_t)lm.n);
	sluice_map_close(lpm);
	sluice_map_close(hash);
	sluice_map_close(lru);
	return 0;
}
