/* SPDX-License-Identifier: MIT */
/*
 * maps_differential: Sluice's maps against the running kernel's.
 *
 * The same random operations go to a kernel map (BPF_MAP_* through libbpf's
 * low-level bpf.h) and to a Sluice map of the same attributes, and every
 * return value, errno, value read and key walked must agree; at the end
 * both maps must hold the same contents.  Hash maps walk in orders of their
 * own, so for them get_next_key is compared where the order does not show
 * (a key that is not there restarts from the first; a key handed back is in
 * the map) and contents are compared as sets.  Arrays, LPM tries, queues
 * and stacks are compared exactly, walk order included.
 *
 * LRU maps: the kernel's LRU is approximate (see hashtab.c), so the exact
 * comparison runs with fewer keys than max_entries - 384: the kernel then
 * never evicts (its free lists hold up to 128 nodes per CPU in hand; the
 * process is pinned to CPU 0).  A second, evicting run compares only what
 * both must agree on: every BPF_ANY update succeeds, a key both hold has
 * the same value, neither holds more than max_entries, and Sluice holds
 * exactly the max_entries most recently used keys (checked against a model).
 *
 * Also compared: BPF_MAP_CREATE's verdict on a table of good and bad
 * attributes, and the max_entries and flags the kernel reports.
 *
 * Exit 0 when everything agrees, 1 on a mismatch, 77 when the kernel
 * refuses bpf() here (ctest: skipped).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include <sluice/maps.h>

#define OPS_PER_TYPE 120000
#define CHECK_EVERY 10000  /* full contents compared this often */
#define MAX_REPORTED 10    /* mismatches printed per map type */
#define MAX_VALUE 512      /* bytes of a bpf(2) value, per-CPU included */

struct target {
	const char *label;
	uint32_t type, key_size, value_size, max_entries, map_flags;
	int kfd;
	struct sluice_map *smap;
	size_t vsize; /* bytes of a bpf(2) value */
	unsigned long ops, compared, mismatches;
	unsigned long results[SLUICE_ENOTSUPP + 1]; /* agreed results by -errno */
};

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd64(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

static uint32_t rnd(uint32_t n)
{
	return (uint32_t)(rnd64() % n);
}

static void fill_random(uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)rnd64();
}

__attribute__((format(printf, 2, 3)))
static void mismatch(struct target *t, const char *fmt, ...)
{
	va_list ap;

	if (++t->mismatches > MAX_REPORTED)
		return;
	printf("MISMATCH %s, op %lu: ", t->label, t->ops);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void cmp_ret(struct target *t, const char *what, int k, int s)
{
	t->compared++;
	if (k != s)
		mismatch(t, "%s: kernel %d, sluice %d", what, k, s);
	else if (k <= 0 && -k <= SLUICE_ENOTSUPP)
		t->results[-k]++;
}

static void cmp_bytes(struct target *t, const char *what, const void *k, const void *s,
		      size_t len)
{
	if (memcmp(k, s, len))
		mismatch(t, "%s: the bytes differ", what);
}

static int open_target(struct target *t)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = t->map_flags);
	struct sluice_map_attr attr = {
		.sz = sizeof(attr), .type = t->type, .key_size = t->key_size,
		.value_size = t->value_size, .max_entries = t->max_entries,
		.map_flags = t->map_flags, .name = "differential",
	};
	struct sluice_error err = { 0 };

	t->kfd = bpf_map_create(t->type, "differential", t->key_size, t->value_size,
				t->max_entries, &opts);
	if (t->kfd < 0) {
		printf("%s: the kernel refused the map: %s\n", t->label, strerror(-t->kfd));
		return -1;
	}
	t->smap = sluice_map_create(&attr, &err);
	if (!t->smap) {
		printf("%s: Sluice refused the map: %s\n", t->label, err.msg);
		close(t->kfd);
		return -1;
	}
	t->vsize = sluice_map_value_size(t->smap);
	return 0;
}

static void close_target(struct target *t)
{
	close(t->kfd);
	sluice_map_close(t->smap);
	printf("%-22s %7lu ops, %7lu results compared, %lu mismatches\n", t->label, t->ops,
	       t->compared, t->mismatches);
	printf("%-22s agreed:", "");
	for (int e = 0; e <= SLUICE_ENOTSUPP; e++)
		if (t->results[e])
			printf(" %s %lu", e ? strerrorname_np(e) ? strerrorname_np(e) : "ENOTSUPP"
					    : "ok", t->results[e]);
	putchar('\n');
}

static uint64_t pick_flags(const uint64_t *choices, size_t n)
{
	return choices[rnd((uint32_t)n)];
}

#define PICK(...) pick_flags((const uint64_t[]){ __VA_ARGS__ }, \
			     sizeof((const uint64_t[]){ __VA_ARGS__ }) / sizeof(uint64_t))

/* ---- the operations, on both maps ---------------------------------------- */

static void do_update(struct target *t, const void *key, uint64_t flags)
{
	uint8_t value[MAX_VALUE];

	fill_random(value, t->vsize);
	cmp_ret(t, "update", bpf_map_update_elem(t->kfd, key, value, flags),
		sluice_map_update(t->smap, key, value, flags, NULL));
}

/* lookup (or lookup_and_delete): same result, and on success the same bytes. */
static void do_lookup(struct target *t, const void *key, uint64_t flags, bool and_delete)
{
	uint8_t kv[MAX_VALUE], sv[MAX_VALUE];
	int k, s;

	if (and_delete) {
		k = bpf_map_lookup_and_delete_elem_flags(t->kfd, key, kv, flags);
		s = sluice_map_lookup_and_delete(t->smap, key, sv, flags, NULL);
	} else {
		k = bpf_map_lookup_elem_flags(t->kfd, key, kv, flags);
		s = sluice_map_lookup(t->smap, key, sv, flags, NULL);
	}
	cmp_ret(t, and_delete ? "lookup_and_delete" : "lookup", k, s);
	if (!k && !s)
		cmp_bytes(t, "lookup", kv, sv, t->vsize);
}

static void do_delete(struct target *t, const void *key)
{
	cmp_ret(t, "delete", bpf_map_delete_elem(t->kfd, key),
		sluice_map_delete(t->smap, key, NULL));
}

/* get_next_key where the walk order is the kernel's too: all of it agrees. */
static void do_next_exact(struct target *t, const void *key)
{
	uint8_t kn[300], sn[300];
	int k = bpf_map_get_next_key(t->kfd, key, kn);
	int s = sluice_map_get_next_key(t->smap, key, sn, NULL);

	cmp_ret(t, "get_next_key", k, s);
	if (!k && !s)
		cmp_bytes(t, "get_next_key", kn, sn, t->key_size);
}

/* Every key of a map in its walk order; returns the count. */
static size_t walk_kernel(struct target *t, uint8_t *keys, size_t cap)
{
	size_t n = 0;

	while (n < cap && !bpf_map_get_next_key(t->kfd, n ? keys + (n - 1) * t->key_size : NULL,
						keys + n * t->key_size))
		n++;
	return n;
}

static size_t walk_sluice(struct target *t, uint8_t *keys, size_t cap)
{
	size_t n = 0;

	while (n < cap && !sluice_map_get_next_key(t->smap,
						   n ? keys + (n - 1) * t->key_size : NULL,
						   keys + n * t->key_size, NULL))
		n++;
	return n;
}

static uint32_t sort_key_size;

static int cmp_keys(const void *a, const void *b)
{
	return memcmp(a, b, sort_key_size);
}

/* Both maps hold the same keys (in the same order when `ordered`) and values. */
static void compare_contents(struct target *t, bool ordered)
{
	size_t cap = (size_t)t->max_entries + 1, nk, ns;
	uint8_t *kkeys = calloc(cap, t->key_size), *skeys = calloc(cap, t->key_size);

	if (!kkeys || !skeys) {
		mismatch(t, "out of memory");
		exit(1);
	}
	nk = walk_kernel(t, kkeys, cap);
	ns = walk_sluice(t, skeys, cap);
	t->compared++;
	if (nk != ns) {
		mismatch(t, "contents: the kernel has %zu keys, Sluice %zu", nk, ns);
	} else {
		if (!ordered) {
			sort_key_size = t->key_size;
			qsort(kkeys, nk, t->key_size, cmp_keys);
			qsort(skeys, ns, t->key_size, cmp_keys);
		}
		cmp_bytes(t, "contents: the keys", kkeys, skeys, nk * t->key_size);
		for (size_t i = 0; i < nk; i++)
			do_lookup(t, kkeys + i * t->key_size, 0, false);
	}
	free(kkeys);
	free(skeys);
}

/* ---- hash maps ------------------------------------------------------------ */

/*
 * get_next_key on a hash map: a key that is not there restarts from the
 * first (so both answer alike); a key handed back must be in the map.
 */
static void do_next_hash(struct target *t, const void *key)
{
	uint8_t kn[300], sn[300], v[MAX_VALUE];
	int k = bpf_map_get_next_key(t->kfd, key, kn);
	int s = sluice_map_get_next_key(t->smap, key, sn, NULL);

	if (!key || bpf_map_lookup_elem(t->kfd, key, v))
		cmp_ret(t, "get_next_key of a missing key", k, s);
	if (!s && sluice_map_lookup(t->smap, sn, v, 0, NULL))
		mismatch(t, "get_next_key handed back a key Sluice does not hold");
}

static void run_hash(struct target *t, uint32_t nkeys, bool only_any)
{
	uint8_t *keys = malloc((size_t)nkeys * t->key_size);

	fill_random(keys, (size_t)nkeys * t->key_size);
	for (t->ops = 1; t->ops <= OPS_PER_TYPE; t->ops++) {
		const uint8_t *key = keys + rnd(nkeys) * t->key_size;
		/* phases that fill the map up (E2BIG) and phases that empty it */
		uint32_t what = (t->ops / 20000) % 2 ? rnd(100) : rnd(74) + (rnd(8) ? 0 : 26);

		if (what < 40)
			do_update(t, key, only_any ? BPF_ANY
						   : PICK(BPF_ANY, BPF_ANY, BPF_NOEXIST, BPF_NOEXIST,
							  BPF_EXIST, BPF_EXIST, BPF_F_LOCK,
							  BPF_ANY | BPF_F_LOCK, 3, 8));
		else if (what < 70)
			do_lookup(t, key, PICK(0, 0, 0, 0, 0, 0, BPF_F_LOCK, 2), false);
		else if (what < 85)
			do_delete(t, key);
		else if (what < 92)
			do_lookup(t, key, PICK(0, 0, 0, BPF_F_LOCK, 8), true);
		else
			do_next_hash(t, rnd(10) ? key : NULL);
		if (t->ops % CHECK_EVERY == 0)
			compare_contents(t, false);
	}
	t->ops--;
	free(keys);
}

/*
 * The evicting LRU run: BPF_ANY updates and lookups over more keys than
 * fit.  A model of exact LRU order checks what Sluice holds; against the
 * kernel only what both must agree on is compared.
 */
static void run_lru_evicting(struct target *t, uint32_t nkeys)
{
	uint64_t *last_used = calloc(nkeys, sizeof(*last_used)), clock = 0;
	uint8_t *keys = malloc((size_t)nkeys * 4), kv[MAX_VALUE], sv[MAX_VALUE];
	unsigned long both = 0, kernel_only = 0, sluice_only = 0;
	struct sluice_map_info info;

	for (uint32_t i = 0; i < nkeys; i++)
		memcpy(keys + 4 * i, &i, 4);
	for (t->ops = 1; t->ops <= OPS_PER_TYPE; t->ops++) {
		uint32_t i = rnd(nkeys);
		const uint8_t *key = keys + 4 * i;

		if (rnd(2)) {
			do_update(t, key, BPF_ANY);
			last_used[i] = ++clock;
			continue;
		}
		/* Sluice's lookup from bpf(2) does not count as a use, nor the kernel's */
		int k = bpf_map_lookup_elem(t->kfd, key, kv);
		int s = sluice_map_lookup(t->smap, key, sv, 0, NULL);

		t->compared++;
		if (!k && !s) {
			both++;
			cmp_bytes(t, "lookup of a key both hold", kv, sv, t->vsize);
		} else if (!k) {
			kernel_only++;
		} else if (!s) {
			sluice_only++;
		}
	}
	t->ops--;
	/* Sluice: exactly the max_entries keys used last */
	sluice_map_get_info(t->smap, &info);
	t->compared++;
	if (info.entries != t->max_entries)
		mismatch(t, "Sluice holds %u entries, not max_entries %u", info.entries,
			 t->max_entries);
	for (uint32_t i = 0; i < nkeys; i++) {
		uint32_t newer = 0;

		for (uint32_t j = 0; j < nkeys && last_used[i]; j++)
			newer += last_used[j] > last_used[i];
		bool expect = last_used[i] && newer < t->max_entries;

		if (expect != !sluice_map_lookup(t->smap, keys + 4 * i, sv, 0, NULL))
			mismatch(t, "key %u: Sluice %s it, exact LRU would %s", i,
				 expect ? "evicted" : "kept", expect ? "keep" : "evict");
	}
	printf("%-22s lookups: %lu hit in both, %lu in the kernel only, %lu in Sluice only\n",
	       t->label, both, kernel_only, sluice_only);
	free(last_used);
	free(keys);
}

/* ---- arrays, tries, queues ------------------------------------------------- */

static void run_array(struct target *t)
{
	for (t->ops = 1; t->ops <= OPS_PER_TYPE; t->ops++) {
		uint32_t index = rnd(50) ? rnd(t->max_entries + 3) : UINT32_MAX;
		uint32_t what = rnd(100);

		if (what < 40)
			do_update(t, &index, PICK(BPF_ANY, BPF_ANY, BPF_NOEXIST, BPF_EXIST,
						  BPF_F_LOCK, 3));
		else if (what < 75)
			do_lookup(t, &index, PICK(0, 0, 0, BPF_F_LOCK), false);
		else if (what < 80)
			do_delete(t, &index);
		else if (what < 85)
			do_lookup(t, &index, 0, true);
		else
			do_next_exact(t, rnd(10) ? &index : NULL);
		if (t->ops % CHECK_EVERY == 0)
			compare_contents(t, true);
	}
	t->ops--;
}

/* An LPM key: a prefix of one of a few base addresses, with noise in its low bits. */
static void lpm_key(const struct target *t, uint8_t *key, const uint8_t *bases, bool exact)
{
	uint32_t data = t->key_size - 4, bits = 8 * data;
	uint32_t prefixlen = exact ? bits : rnd(bits + 2); /* bits + 1 is refused */

	memcpy(key + 4, bases + rnd(8) * data, data);
	for (uint32_t i = rnd(bits); i < bits; i++)
		if (!rnd(4))
			key[4 + i / 8] ^= (uint8_t)(0x80 >> (i % 8));
	memcpy(key, &prefixlen, 4);
}

static void run_lpm(struct target *t)
{
	uint8_t bases[8 * 16], recent[64][20], key[20];

	fill_random(bases, sizeof(bases));
	for (t->ops = 1; t->ops <= OPS_PER_TYPE; t->ops++) {
		uint32_t what = rnd(100);

		/* half the keys of updates, deletes and walks were used before */
		if (rnd(2))
			memcpy(key, recent[rnd(64)], t->key_size);
		else
			lpm_key(t, key, bases, false);
		if (what < 40) {
			do_update(t, key, PICK(BPF_ANY, BPF_ANY, BPF_NOEXIST, BPF_EXIST, 3));
			memcpy(recent[rnd(64)], key, t->key_size);
		} else if (what < 60) {
			do_delete(t, key);
		} else if (what < 85) {
			if (rnd(4))
				lpm_key(t, key, bases, true);
			do_lookup(t, key, 0, false);
		} else if (what < 95) {
			do_next_exact(t, rnd(10) ? key : NULL);
		} else {
			do_lookup(t, key, 0, true);
		}
		if (t->ops % CHECK_EVERY == 0)
			compare_contents(t, true);
	}
	t->ops--;
}

static void run_queue(struct target *t)
{
	uint8_t kv[MAX_VALUE], sv[MAX_VALUE];
	uint32_t key = 0;

	for (t->ops = 1; t->ops <= OPS_PER_TYPE; t->ops++) {
		uint32_t what = rnd(100);

		if (what < 45)
			do_update(t, NULL, PICK(BPF_ANY, BPF_ANY, BPF_EXIST, BPF_NOEXIST, 3,
						BPF_F_LOCK));
		else if (what < 75)
			do_lookup(t, NULL, PICK(0, 0, 0, 0, 1), true);
		else if (what < 92)
			do_lookup(t, NULL, PICK(0, 0, 0, BPF_F_LOCK), false);
		else if (what < 96)
			do_delete(t, &key);
		else if (what < 98)
			cmp_ret(t, "get_next_key", bpf_map_get_next_key(t->kfd, NULL, &key),
				sluice_map_get_next_key(t->smap, NULL, &key, NULL));
		else
			do_lookup(t, &key, 0, rnd(2)); /* a key for a keyless map */
	}
	t->ops--;
	/* what is left, popped in order */
	for (;;) {
		int k = bpf_map_lookup_and_delete_elem(t->kfd, NULL, kv);
		int s = sluice_map_lookup_and_delete(t->smap, NULL, sv, 0, NULL);

		cmp_ret(t, "final pop", k, s);
		if (k || s)
			break;
		cmp_bytes(t, "final pop", kv, sv, t->vsize);
	}
}

/*
 * Maps whose bpf(2) side mostly refuses (ring buffer) or holds what cannot
 * be compared (file descriptors in the kernel, ids in Sluice): every call
 * but fd updates, with keys and without.
 */
static void run_refusing(struct target *t, unsigned long ops)
{
	for (t->ops = 1; t->ops <= ops; t->ops++) {
		uint32_t index = rnd(t->max_entries + 2), what = rnd(100);
		const void *key = rnd(4) ? &index : NULL;

		if (what < 20 && t->type == BPF_MAP_TYPE_RINGBUF)
			do_update(t, key, PICK(BPF_ANY, BPF_EXIST, 5));
		else if (what < 40)
			do_lookup(t, key, PICK(0, 0, BPF_F_LOCK), false);
		else if (what < 60)
			do_delete(t, key);
		else if (what < 80)
			do_lookup(t, key, PICK(0, 0, BPF_F_LOCK), true);
		else
			do_next_exact(t, key);
	}
	t->ops--;
}

/* ---- BPF_MAP_CREATE ---------------------------------------------------------- */

struct create_case {
	uint32_t type, key, value, max, flags;
	const char *name;
};

static const struct create_case create_cases[] = {
	{ BPF_MAP_TYPE_HASH, 4, 8, 16, 0, "ok" },
	{ BPF_MAP_TYPE_HASH, 0, 8, 16, 0, "ok" },
	{ BPF_MAP_TYPE_HASH, 4, 0, 16, 0, "ok" },
	{ BPF_MAP_TYPE_HASH, 4, 8, 0, 0, "ok" },
	{ BPF_MAP_TYPE_HASH, 4, 8, 16, BPF_F_NO_PREALLOC | BPF_F_ZERO_SEED, "ok" },
	{ BPF_MAP_TYPE_HASH, 4, 8, 16, BPF_F_NO_COMMON_LRU, "ok" },
	{ BPF_MAP_TYPE_HASH, 4, 8, 16, BPF_F_MMAPABLE, "ok" },
	{ BPF_MAP_TYPE_HASH, 4, 8, 16, BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG, "ok" },
	{ BPF_MAP_TYPE_HASH, 4, 8, 16, BPF_F_RDONLY | BPF_F_WRONLY, "ok" },
	{ BPF_MAP_TYPE_HASH, 4, 8, 16, BPF_F_RDONLY, "ok" },
	{ BPF_MAP_TYPE_HASH, 4, 8, 16, 1u << 30, "ok" },
	{ BPF_MAP_TYPE_HASH, 600, 8, 16, 0, "ok" },
	{ BPF_MAP_TYPE_HASH, 8, (4u << 20) - 56, 1, BPF_F_NO_PREALLOC, "ok" },
	{ BPF_MAP_TYPE_HASH, 4, 8, (1u << 28) + 1, BPF_F_NO_PREALLOC, "ok" },
	{ BPF_MAP_TYPE_HASH, 4, 8, (1u << 31) + 1, BPF_F_NO_PREALLOC, "ok" },
	{ BPF_MAP_TYPE_HASH, 4, 8, 16, 0, "bad-name" },
	{ BPF_MAP_TYPE_PERCPU_HASH, 4, 32768, 1, 0, "ok" },
	{ BPF_MAP_TYPE_PERCPU_HASH, 4, 32769, 1, 0, "ok" },
	{ BPF_MAP_TYPE_PERCPU_HASH, 4, 8, 16, BPF_F_NUMA_NODE, "ok" },
	{ BPF_MAP_TYPE_LRU_HASH, 4, 8, 16, BPF_F_NO_PREALLOC, "ok" },
	{ BPF_MAP_TYPE_LRU_HASH, 4, 8, 3, BPF_F_NO_COMMON_LRU, "ok" },
	{ BPF_MAP_TYPE_LRU_PERCPU_HASH, 4, 8, 5, BPF_F_NO_COMMON_LRU, "ok" },
	{ BPF_MAP_TYPE_LRU_HASH, 4, 8, 16, BPF_F_ZERO_SEED, "ok" },
	{ BPF_MAP_TYPE_ARRAY, 4, 8, 16, BPF_F_MMAPABLE | BPF_F_RDONLY_PROG, "ok" },
	{ BPF_MAP_TYPE_ARRAY, 8, 8, 16, 0, "ok" },
	{ BPF_MAP_TYPE_ARRAY, 4, 0, 16, 0, "ok" },
	{ BPF_MAP_TYPE_ARRAY, 4, 8, 0, 0, "ok" },
	{ BPF_MAP_TYPE_ARRAY, 4, 8, 16, BPF_F_NO_PREALLOC, "ok" },
	{ BPF_MAP_TYPE_ARRAY, 4, 8, 16, BPF_F_INNER_MAP, "ok" },
	{ BPF_MAP_TYPE_ARRAY, 4, 8, 16, BPF_F_PRESERVE_ELEMS, "ok" },
	{ BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 16, BPF_F_MMAPABLE, "ok" },
	{ BPF_MAP_TYPE_PERCPU_ARRAY, 4, 32769, 1, 0, "ok" },
	{ BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 16, BPF_F_NUMA_NODE, "ok" },
	{ BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 16, 0, "ok" },
	{ BPF_MAP_TYPE_PROG_ARRAY, 4, 8, 16, 0, "ok" },
	{ BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 16, BPF_F_RDONLY_PROG, "ok" },
	{ BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 2, 0, "ok" },
	{ BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 2, BPF_F_PRESERVE_ELEMS, "ok" },
	{ BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 8, 2, 0, "ok" },
	{ BPF_MAP_TYPE_LPM_TRIE, 8, 8, 16, BPF_F_NO_PREALLOC, "ok" },
	{ BPF_MAP_TYPE_LPM_TRIE, 8, 8, 16, 0, "ok" },
	{ BPF_MAP_TYPE_LPM_TRIE, 4, 8, 16, BPF_F_NO_PREALLOC, "ok" },
	{ BPF_MAP_TYPE_LPM_TRIE, 5, 8, 16, BPF_F_NO_PREALLOC, "ok" },
	{ BPF_MAP_TYPE_LPM_TRIE, 260, 8, 16, BPF_F_NO_PREALLOC, "ok" },
	{ BPF_MAP_TYPE_LPM_TRIE, 261, 8, 16, BPF_F_NO_PREALLOC, "ok" },
	{ BPF_MAP_TYPE_LPM_TRIE, 8, 0, 16, BPF_F_NO_PREALLOC, "ok" },
	{ BPF_MAP_TYPE_LPM_TRIE, 8, 8, 0, BPF_F_NO_PREALLOC, "ok" },
	{ BPF_MAP_TYPE_LPM_TRIE, 8, 8, 16, BPF_F_NO_PREALLOC | BPF_F_ZERO_SEED, "ok" },
	{ BPF_MAP_TYPE_QUEUE, 0, 8, 16, 0, "ok" },
	{ BPF_MAP_TYPE_QUEUE, 4, 8, 16, 0, "ok" },
	{ BPF_MAP_TYPE_QUEUE, 0, 0, 16, 0, "ok" },
	{ BPF_MAP_TYPE_QUEUE, 0, 8, 0, 0, "ok" },
	{ BPF_MAP_TYPE_QUEUE, 0, (4u << 20) + 1, 1, 0, "ok" },
	{ BPF_MAP_TYPE_STACK, 0, 8, 16, BPF_F_NO_PREALLOC, "ok" },
	{ BPF_MAP_TYPE_STACK, 0, 8, 16, BPF_F_RDONLY_PROG, "ok" },
	{ BPF_MAP_TYPE_RINGBUF, 0, 0, 4096, 0, "ok" },
	{ BPF_MAP_TYPE_RINGBUF, 0, 0, 4097, 0, "ok" },
	{ BPF_MAP_TYPE_RINGBUF, 0, 0, 3 * 4096, 0, "ok" },
	{ BPF_MAP_TYPE_RINGBUF, 0, 0, 2048, 0, "ok" },
	{ BPF_MAP_TYPE_RINGBUF, 4, 0, 4096, 0, "ok" },
	{ BPF_MAP_TYPE_RINGBUF, 0, 0, 4096, BPF_F_NO_PREALLOC, "ok" },
	{ BPF_MAP_TYPE_STACK_TRACE, 4, 16, 16, 0, "ok" },
	{ BPF_MAP_TYPE_STACK_TRACE, 4, 12, 16, 0, "ok" },
	{ BPF_MAP_TYPE_STACK_TRACE, 4, 8 * 128, 16, 0, "ok" },
	{ BPF_MAP_TYPE_STACK_TRACE, 8, 16, 16, 0, "ok" },
	{ BPF_MAP_TYPE_STACK_TRACE, 4, 16, 16, BPF_F_NO_PREALLOC, "ok" },
	{ 200, 4, 8, 16, 0, "ok" },
};

static unsigned long run_create_cases(void)
{
	unsigned long mismatches = 0;
	size_t n = sizeof(create_cases) / sizeof(create_cases[0]);

	for (size_t i = 0; i < n; i++) {
		const struct create_case *c = &create_cases[i];
		LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = c->flags);
		struct sluice_map_attr attr = {
			.sz = sizeof(attr), .type = c->type, .key_size = c->key,
			.value_size = c->value, .max_entries = c->max, .map_flags = c->flags,
			.name = c->name,
		};
		struct sluice_error err = { 0 };
		struct sluice_map *s = sluice_map_create(&attr, &err);
		int k = bpf_map_create(c->type, c->name, c->key, c->value, c->max, &opts);
		int sret = s ? 0 : -err.code;

		if ((k < 0 ? k : 0) != sret) {
			mismatches++;
			printf("MISMATCH create type %u key %u value %u max %u flags 0x%x: "
			       "kernel %d, sluice %d (%s)\n", c->type, c->key, c->value, c->max,
			       c->flags, k < 0 ? k : 0, sret, s ? "created" : err.msg);
		}
		if (k >= 0 && s) {
			struct bpf_map_info kinfo = { 0 };
			struct sluice_map_info sinfo;
			__u32 len = sizeof(kinfo);

			sluice_map_get_info(s, &sinfo);
			if (bpf_obj_get_info_by_fd(k, &kinfo, &len) ||
			    kinfo.max_entries != sinfo.max_entries ||
			    kinfo.map_flags != sinfo.map_flags) {
				mismatches++;
				printf("MISMATCH info type %u: kernel max_entries %u flags 0x%x, "
				       "sluice %u 0x%x\n", c->type, kinfo.max_entries,
				       kinfo.map_flags, sinfo.max_entries, sinfo.map_flags);
			}
		}
		if (k >= 0)
			close(k);
		sluice_map_close(s);
	}
	printf("%-22s %7zu attribute sets compared, %lu mismatches\n", "create", n, mismatches);
	return mismatches;
}

#define TARGET(l, t, k, v, m, f)                                        \
	{ .label = l, .type = t, .key_size = k, .value_size = v, .max_entries = m, \
	  .map_flags = f }

int main(void)
{
	struct target targets[] = {
		TARGET("hash", BPF_MAP_TYPE_HASH, 6, 12, 64, 0),
		TARGET("hash/no_prealloc", BPF_MAP_TYPE_HASH, 8, 16, 64, BPF_F_NO_PREALLOC),
		TARGET("percpu_hash", BPF_MAP_TYPE_PERCPU_HASH, 4, 12, 64, 0),
		TARGET("lru_hash", BPF_MAP_TYPE_LRU_HASH, 4, 8, 1024, 0),
		TARGET("lru_percpu_hash", BPF_MAP_TYPE_LRU_PERCPU_HASH, 4, 12, 1024, 0),
		TARGET("lru_hash/evicting", BPF_MAP_TYPE_LRU_HASH, 4, 8, 128, 0),
		TARGET("array", BPF_MAP_TYPE_ARRAY, 4, 12, 64, 0),
		TARGET("percpu_array", BPF_MAP_TYPE_PERCPU_ARRAY, 4, 20, 64, 0),
		TARGET("lpm_trie", BPF_MAP_TYPE_LPM_TRIE, 8, 8, 200, BPF_F_NO_PREALLOC),
		TARGET("lpm_trie/5-byte", BPF_MAP_TYPE_LPM_TRIE, 9, 3, 300, BPF_F_NO_PREALLOC),
		TARGET("queue", BPF_MAP_TYPE_QUEUE, 0, 6, 16, 0),
		TARGET("stack", BPF_MAP_TYPE_STACK, 0, 6, 16, 0),
		TARGET("ringbuf", BPF_MAP_TYPE_RINGBUF, 0, 0, 4096, 0),
		TARGET("perf_event_array", BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 4, 0),
		TARGET("prog_array", BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 8, 0),
		TARGET("stack_trace", BPF_MAP_TYPE_STACK_TRACE, 4, 16, 8, 0),
	};
	LIBBPF_OPTS(bpf_map_create_opts, probe_opts);
	unsigned long mismatches = 0;
	struct utsname un;
	cpu_set_t cpu0;
	int probe;

	setvbuf(stdout, NULL, _IOLBF, 0);
	probe = bpf_map_create(BPF_MAP_TYPE_ARRAY, "probe", 4, 4, 1, &probe_opts);
	if (probe < 0) {
		printf("SKIP: the kernel refuses bpf(BPF_MAP_CREATE) here: %s\n", strerror(-probe));
		return 77;
	}
	close(probe);
	if (!uname(&un))
		printf("kernel %s (its LPM trie semantics are those of 6.13 and later)\n",
		       un.release);
	/* one CPU: the kernel's per-CPU LRU free lists then behave deterministically */
	CPU_ZERO(&cpu0);
	CPU_SET(0, &cpu0);
	if (sched_setaffinity(0, sizeof(cpu0), &cpu0))
		printf("note: cannot pin to CPU 0 (%s)\n", strerror(errno));

	mismatches += run_create_cases();
	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		struct target *t = &targets[i];

		if (open_target(t))
			return 1;
		switch (t->type) {
		case BPF_MAP_TYPE_HASH:
		case BPF_MAP_TYPE_PERCPU_HASH:
			run_hash(t, t->max_entries * 3 / 2, false); /* full, often */
			compare_contents(t, false);
			break;
		case BPF_MAP_TYPE_LRU_HASH:
		case BPF_MAP_TYPE_LRU_PERCPU_HASH:
			if (t->max_entries > 512) {
				run_hash(t, t->max_entries - 512, false); /* never evicts */
				compare_contents(t, false);
			} else {
				run_lru_evicting(t, t->max_entries * 4);
			}
			break;
		case BPF_MAP_TYPE_ARRAY:
		case BPF_MAP_TYPE_PERCPU_ARRAY:
			run_array(t);
			compare_contents(t, true);
			break;
		case BPF_MAP_TYPE_LPM_TRIE:
			run_lpm(t);
			compare_contents(t, true);
			break;
		case BPF_MAP_TYPE_QUEUE:
		case BPF_MAP_TYPE_STACK:
			run_queue(t);
			break;
		default:
			run_refusing(t, OPS_PER_TYPE / 10);
			break;
		}
		close_target(t);
		mismatches += t->mismatches;
	}
	printf("%s: %lu mismatches\n", mismatches ? "FAIL" : "PASS", mismatches);
	return mismatches ? 1 : 0;
}
