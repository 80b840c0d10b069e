/* SPDX-License-Identifier: MIT */
/*
 * Hash maps, as the kernel's hashtab.c: hash, percpu_hash, lru_hash,
 * lru_percpu_hash and hash_of_maps.
 *
 * The state is a struct htab, the buckets (a power of 2 of them, at least
 * max_entries) and a pool of max_entries elements, allocated at create
 * unless BPF_F_NO_PREALLOC.  Keys hash with a random seed (0 with
 * BPF_F_ZERO_SEED), as the kernel's do, but not with the kernel's jhash:
 * see htab_hash.
 *
 * Concurrency.  A bucket is a seq_lock word and the first element of its
 * chain.  Writers hold the bucket's lock.  Lookups walk the chain without it
 * and start again if the bucket's count moved meanwhile: every change to a
 * chain moves it, which also catches what the kernel's "nulls" markers are
 * for, an element freed and reused in another bucket under a walk.  Because
 * elements are reused at once (as the kernel's preallocated ones are), a
 * walk checks every index and bounds its steps.  bpf(2)-side lookups copy
 * the value inside that read section, so they never see half an update.
 *
 * Where Sluice differs from the kernel, observably:
 *  - An update of an existing key writes the new value over the old one in
 *    place, under the bucket lock.  The kernel links a new element and
 *    frees the old one, so a program still holding a pointer to the old
 *    value would see it unchanged until the element is reused.
 *  - LRU maps keep one exact recency list: an element is used when it is
 *    created, updated, or looked up by a program (bpf(2) lookups do not
 *    count, as in the kernel).  An insert into a full map evicts the least
 *    recently used element, and only then.  The kernel's LRU is
 *    approximate (per-CPU free lists refilled 128 nodes at a time, reference
 *    bits, shrinking the inactive list), so it may evict before the map is
 *    full, more than one element at once, or on an update that then fails.
 *    BPF_F_NO_COMMON_LRU is accepted and rounds max_entries like the kernel,
 *    but the list stays common.
 *  - LRU writers are serialised by the map's LRU lock, taken before any
 *    bucket lock; program lookups take it only to move an element up.
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "errmsg.h"
#include "lock.h"
#include "map.h"

#define HTAB_CREATE_FLAG_MASK (BPF_F_NO_PREALLOC | BPF_F_NO_COMMON_LRU | BPF_F_NUMA_NODE | \
			       BPF_F_ACCESS_MASK | BPF_F_ZERO_SEED)
/* sizeof(struct htab_elem) in the kernel, for its key + value size limit */
#define KERNEL_HTAB_ELEM_SIZE 48
/* An update from bpf(2): the value holds every CPU's value (per-CPU maps). */
#define ALL_CPUS (~0u)

struct htab {
	uint32_t n_buckets;
	uint32_t seed;
	uint32_t count;      /* elements in chains */
	uint32_t key_stride; /* key_size rounded up to 8: values stay 8-aligned */
	uint32_t lru_lock;   /* LRU maps: serialises writers, guards the list */
	uint32_t lru_head;   /* index + 1 of the most recently used element */
	uint32_t lru_tail;   /* index + 1 of the least recently used */
	uint32_t pad;
	uint64_t buckets;    /* from the start of the file */
	struct map_pool pool;
};

struct bucket {
	uint32_t seq;  /* seq_lock */
	uint32_t head; /* index + 1 of the first element, 0: empty */
};

struct htab_elem {
	uint32_t next;     /* index + 1 of the next in the chain; the pool's while free */
	uint32_t hash;
	uint32_t lru_prev; /* index + 1, toward the most recently used */
	uint32_t lru_next; /* toward the least recently used */
	uint32_t linked;   /* in a chain */
	uint32_t pad;
	uint8_t key[];     /* key_stride bytes, then the value (one per CPU if per-CPU) */
};

static bool type_percpu(uint32_t type)
{
	return type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

static bool type_lru(uint32_t type)
{
	return type == BPF_MAP_TYPE_LRU_HASH || type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

static uint64_t elem_size(const struct map_hdr *h)
{
	uint64_t value = round_up8(h->value_size);

	return sizeof(struct htab_elem) + round_up8(h->key_size) +
	       (type_percpu(h->type) ? h->ncpus * value : value);
}

static struct htab *htab_of(const struct sluice_map *map)
{
	return map->state;
}

static struct bucket *bucket_of(const struct sluice_map *map, const struct htab *ht,
				uint32_t hash)
{
	return (struct bucket *)(map->base + ht->buckets) + (hash & (ht->n_buckets - 1));
}

static struct htab_elem *elem_at(const struct sluice_map *map, const struct htab *ht,
				 uint32_t idx)
{
	return pool_elem(map, &ht->pool, idx - 1);
}

static uint8_t *elem_value(const struct htab *ht, struct htab_elem *e)
{
	return e->key + ht->key_stride;
}

/* ---- create ---------------------------------------------------------------- */

/* htab_map_alloc_check and the size checks of htab_map_alloc, in order. */
static int htab_alloc_check(struct map_hdr *h, struct sluice_error *err)
{
	const char *type = sluice_map_type_name(h->type);
	bool percpu = type_percpu(h->type), lru = type_lru(h->type);
	bool percpu_lru = h->map_flags & BPF_F_NO_COMMON_LRU;

	if (h->type == BPF_MAP_TYPE_HASH_OF_MAPS && h->value_size != 4)
		return sluice_fail(err, EINVAL, "hash_of_maps maps need value_size 4");
	if (h->map_flags & ~HTAB_CREATE_FLAG_MASK || !map_flags_access_ok(h->map_flags))
		return sluice_fail(err, EINVAL, "flags 0x%x are not for %s maps", h->map_flags, type);
	if (!lru && percpu_lru)
		return sluice_fail(err, EINVAL, "BPF_F_NO_COMMON_LRU is for LRU maps only");
	if (lru && (h->map_flags & BPF_F_NO_PREALLOC))
		return sluice_fail(err, SLUICE_ENOTSUPP, "LRU maps are always preallocated");
	if ((h->map_flags & BPF_F_NUMA_NODE) && (percpu || percpu_lru))
		return sluice_fail(err, EINVAL, "BPF_F_NUMA_NODE is not for per-CPU maps");
	if (h->max_entries == 0 || h->key_size == 0 || h->value_size == 0)
		return sluice_fail(err, EINVAL,
				   "%s maps need key_size, value_size and max_entries above 0", type);
	if ((uint64_t)h->key_size + h->value_size >= KMALLOC_MAX_SIZE - KERNEL_HTAB_ELEM_SIZE)
		return sluice_fail(err, E2BIG, "key_size + value_size must stay under %u",
				   KMALLOC_MAX_SIZE - KERNEL_HTAB_ELEM_SIZE);
	if (percpu && round_up8(h->value_size) > PCPU_MIN_UNIT_SIZE)
		return sluice_fail(err, E2BIG, "per-CPU values are at most %u bytes",
				   PCPU_MIN_UNIT_SIZE);
	if (percpu_lru) {
		/* each CPU's list gets the same share, at least one */
		uint64_t n = (h->max_entries + (uint64_t)h->ncpus - 1) / h->ncpus * h->ncpus;

		h->max_entries = n <= UINT32_MAX ? (uint32_t)n
						 : h->max_entries / h->ncpus * h->ncpus;
	}
	/* htab_map_alloc: n_buckets is a power of 2 and fits the bucket array */
	if (h->max_entries > 1u << 31 ||
	    roundup_pow_of_two(h->max_entries) > UINT32_MAX / 16)
		return sluice_fail(err, E2BIG, "max_entries %u is too large for %s maps",
				   h->max_entries, type);
	return 0;
}

static uint64_t htab_head_size(const struct map_hdr *h)
{
	return round_up8(sizeof(struct htab)) +
	       roundup_pow_of_two(h->max_entries) * sizeof(struct bucket);
}

static void htab_layout(const struct map_hdr *h, struct map_layout *l)
{
	uint64_t head = htab_head_size(h);

	l->state = head + h->max_entries * elem_size(h);
	l->fixed = (h->map_flags & BPF_F_NO_PREALLOC) ? head : l->state;
}

static void htab_init(struct sluice_map *map)
{
	const struct map_hdr *h = map->hdr;
	struct htab *ht = htab_of(map);
	uint64_t head = htab_head_size(h);

	ht->n_buckets = (uint32_t)roundup_pow_of_two(h->max_entries);
	if (!(h->map_flags & BPF_F_ZERO_SEED) &&
	    getrandom(&ht->seed, sizeof(ht->seed), GRND_NONBLOCK) != sizeof(ht->seed))
		ht->seed = (uint32_t)getpid() * 2654435761u; /* no entropy yet: any seed works */
	ht->key_stride = (uint32_t)round_up8(h->key_size);
	ht->buckets = MAP_STATE_OFF + round_up8(sizeof(struct htab));
	pool_init(&ht->pool, MAP_STATE_OFF + head, h->max_entries, (uint32_t)elem_size(h),
		  (h->map_flags & BPF_F_NO_PREALLOC) ? 0 : h->max_entries);
}

/* ---- hashing --------------------------------------------------------------- */

/*
 * Keys hash with wyhash's multiply-and-fold (Wang Yi's wyhash, public
 * domain): two 8-byte words of the key multiplied into 128 bits whose
 * halves are XORed, once per 16 bytes, the seed and the length in the
 * words.  A program's lookup waits for the hash before it can touch its
 * bucket, and for a key of up to 16 bytes this is one multiply, some five
 * cycles, where jhash is a chain of some thirty dependent additions, XORs
 * and rotations.  The seed in both words keeps a key from zeroing the
 * product for every seed.  Nothing outside the map sees the hash: the
 * kernel's walk order differs from Sluice's anyway.
 */
#define HTAB_P0 0xa0761d6478bd642full
#define HTAB_P1 0xe7037ed1a0b428dbull

static inline uint64_t htab_mum(uint64_t a, uint64_t b)
{
	unsigned __int128 r = (unsigned __int128)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/* n bytes at p, 1 to 8 of them, as a little-endian word. */
static inline __attribute__((always_inline)) uint64_t htab_word(const uint8_t *p, uint32_t n)
{
	uint64_t w = 0;

	memcpy(&w, p, n < 8 ? n : 8);
	return w;
}

/* Inlined where size is a constant (the sized lookups): the loop unrolls. */
static inline __attribute__((always_inline)) uint32_t htab_hash(const void *key, uint32_t size,
								uint32_t seed)
{
	const uint8_t *p = key;
	uint64_t h = (seed ^ HTAB_P0) + ((uint64_t)size << 32);
	uint32_t n = size;

	for (; n > 16; n -= 16, p += 16)
		h = htab_mum(htab_word(p, 8) ^ HTAB_P1 ^ seed, htab_word(p + 8, 8) ^ h);
	h = htab_mum(htab_word(p, n) ^ HTAB_P1 ^ seed, (n > 8 ? htab_word(p + 8, n - 8) : 0) ^ h);
	return (uint32_t)(h ^ h >> 32);
}

/* ---- chains -------------------------------------------------------------- */

/*
 * Keys of 4 and 8 bytes, the common ones, compare without a call to memcmp;
 * inlined where size is a constant (the sized lookups below), so do the
 * others.
 */
static inline __attribute__((always_inline)) bool key_equal(const void *a, const void *b,
							   uint32_t size)
{
	uint64_t x, y;
	uint32_t x4, y4;

	switch (size) {
	case 4:
		memcpy(&x4, a, 4);
		memcpy(&y4, b, 4);
		return x4 == y4;
	case 8:
		memcpy(&x, a, 8);
		memcpy(&y, b, 8);
		return x == y;
	default:
		return !memcmp(a, b, size);
	}
}

/*
 * The element of b's chain that holds key, or NULL; where idx is not NULL,
 * *idx gets its index + 1 (0 when there is none).  Without the bucket lock
 * the answer stands only if the bucket's count did not move.
 */
static inline __attribute__((always_inline)) struct htab_elem *
chain_find(const struct sluice_map *map, const struct htab *ht, const struct bucket *b,
	   uint32_t hash, const void *key, uint32_t key_size, uint32_t *idx)
{
	/* read once: the acquire loads below would make the compiler reread them */
	uint32_t capacity = ht->pool.capacity, elem_size = ht->pool.elem_size;
	uint8_t *elems = map->base + ht->pool.off;
	uint32_t i = __atomic_load_n(&b->head, __ATOMIC_ACQUIRE);

	for (uint32_t steps = 0; i && i <= capacity && steps < capacity; steps++) {
		struct htab_elem *e = (struct htab_elem *)(elems + (uint64_t)(i - 1) * elem_size);

		if (e->hash == hash && key_equal(e->key, key, key_size)) {
			if (idx)
				*idx = i;
			return e;
		}
		i = __atomic_load_n(&e->next, __ATOMIC_ACQUIRE);
	}
	if (idx)
		*idx = 0;
	return NULL;
}

/* Under the bucket lock: readers see the element whole once it is linked. */
static void chain_link(struct bucket *b, struct htab_elem *e, uint32_t idx)
{
	e->next = b->head;
	__atomic_store_n(&e->linked, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&b->head, idx, __ATOMIC_RELEASE);
}

static void chain_unlink(const struct sluice_map *map, const struct htab *ht,
			 struct bucket *b, uint32_t idx)
{
	struct htab_elem *e = elem_at(map, ht, idx);
	uint32_t *link = &b->head;

	while (*link != idx)
		link = &elem_at(map, ht, *link)->next;
	__atomic_store_n(link, e->next, __ATOMIC_RELEASE);
	__atomic_store_n(&e->linked, 0, __ATOMIC_RELEASE);
}

/* The element holding key, found without locks (*idx as chain_find's). */
static inline __attribute__((always_inline)) struct htab_elem *
htab_find_sized(const struct sluice_map *map, const void *key, uint32_t key_size, uint32_t *idx)
{
	const struct htab *ht = htab_of(map);
	uint32_t hash = htab_hash(key, key_size, ht->seed), s;
	const struct bucket *b = bucket_of(map, ht, hash);
	struct htab_elem *e;

	do {
		s = seq_read_begin(&b->seq);
		e = chain_find(map, ht, b, hash, key, key_size, idx);
	} while (seq_read_retry(&b->seq, s));
	return e;
}

/* The index + 1 of the element holding key, or 0. */
static uint32_t htab_find(const struct sluice_map *map, const void *key)
{
	uint32_t idx;

	htab_find_sized(map, key, map->key_size, &idx);
	return idx;
}

/* ---- the LRU list (under lru_lock) -------------------------------------- */

static void lru_remove(const struct sluice_map *map, struct htab *ht, struct htab_elem *e)
{
	if (e->lru_prev)
		elem_at(map, ht, e->lru_prev)->lru_next = e->lru_next;
	else
		__atomic_store_n(&ht->lru_head, e->lru_next, __ATOMIC_RELAXED);
	if (e->lru_next)
		elem_at(map, ht, e->lru_next)->lru_prev = e->lru_prev;
	else
		ht->lru_tail = e->lru_prev;
}

static void lru_push_head(const struct sluice_map *map, struct htab *ht,
			  struct htab_elem *e, uint32_t idx)
{
	e->lru_prev = 0;
	e->lru_next = ht->lru_head;
	if (ht->lru_head)
		elem_at(map, ht, ht->lru_head)->lru_prev = idx;
	else
		ht->lru_tail = idx;
	__atomic_store_n(&ht->lru_head, idx, __ATOMIC_RELAXED);
}

static void lru_move_up(const struct sluice_map *map, struct htab *ht, uint32_t idx)
{
	struct htab_elem *e = elem_at(map, ht, idx);

	if (ht->lru_head != idx && e->linked) {
		lru_remove(map, ht, e);
		lru_push_head(map, ht, e, idx);
	}
}

/* A program used idx: move it up, unless it already is the most recent. */
static void lru_touch(const struct sluice_map *map, struct htab *ht, uint32_t idx)
{
	if (__atomic_load_n(&ht->lru_head, __ATOMIC_RELAXED) == idx)
		return;
	seq_lock(&ht->lru_lock);
	lru_move_up(map, ht, idx);
	seq_unlock(&ht->lru_lock);
}

/*
 * Take the least recently used element out of its chain and the list, for
 * reuse.  The caller holds lru_lock and the lock of bucket `held`; every
 * writer of an LRU map takes lru_lock first, so the victim's bucket lock is
 * free to take.
 */
static uint32_t lru_evict(const struct sluice_map *map, struct htab *ht, struct bucket *held)
{
	uint32_t victim = ht->lru_tail;
	struct htab_elem *e = elem_at(map, ht, victim);
	struct bucket *b = bucket_of(map, ht, e->hash);

	if (b != held)
		seq_lock(&b->seq);
	chain_unlink(map, ht, b, victim);
	if (b != held)
		seq_unlock(&b->seq);
	lru_remove(map, ht, e);
	__atomic_fetch_sub(&ht->count, 1, __ATOMIC_RELAXED);
	return victim;
}

/* ---- values ------------------------------------------------------------ */

/*
 * Write an element's value: from bpf(2) (cpu ALL_CPUS: every CPU's value
 * for per-CPU maps, padding included, as pcpu_copy_value), or from a program
 * on one CPU.  A fresh element of a per-CPU map starts with the other CPUs
 * at zero (pcpu_init_value); one with a bpf_spin_lock starts unlocked.
 */
static void store_value(const struct sluice_map *map, uint8_t *v, const void *value,
			uint64_t flags, unsigned cpu, bool fresh)
{
	if (!map->ops->percpu) {
		if (fresh && map->spin_lock_off != MAP_NO_SPIN_LOCK)
			memset(v, 0, map->value_stride);
		map_value_store(map, v, value, flags);
	} else if (cpu == ALL_CPUS) {
		memcpy(v, value, (size_t)map->ncpus * map->value_stride);
	} else {
		if (fresh)
			memset(v, 0, (size_t)map->ncpus * map->value_stride);
		memcpy(v + (size_t)cpu * map->value_stride, value, map->value_size);
	}
}

/* A value out to bpf(2): every CPU's for per-CPU maps (bpf_percpu_hash_copy). */
static void load_value(const struct sluice_map *map, void *dst, const uint8_t *v,
		       uint64_t flags)
{
	if (map->ops->percpu)
		memcpy(dst, v, (size_t)map->ncpus * map->value_stride);
	else
		map_value_load(map, dst, v, flags);
}

/* The inner map id a hash_of_maps element holds (0 for other maps). */
static uint32_t held_id(const struct sluice_map *map, const uint8_t *v)
{
	uint32_t id = 0;

	if (map->type == BPF_MAP_TYPE_HASH_OF_MAPS)
		memcpy(&id, v, sizeof(id));
	return id;
}

/* ---- update and delete --------------------------------------------------- */

static int check_flags(uint32_t old, uint64_t flags, struct sluice_error *err)
{
	if (old && (flags & ~(uint64_t)BPF_F_LOCK) == BPF_NOEXIST)
		return sluice_fail(err, EEXIST, "the key exists (BPF_NOEXIST)");
	if (!old && (flags & ~(uint64_t)BPF_F_LOCK) == BPF_EXIST)
		return sluice_fail(err, ENOENT, "no such key (BPF_EXIST)");
	return 0;
}

/*
 * BPF_F_LOCK on an existing key: copy under the value's lock, without the
 * bucket's (so, as in the kernel, a delete meanwhile may leave the copy in
 * a freed element).  Returns 1 when the key is not there.
 */
static int update_locked(struct sluice_map *map, const void *key, const void *value,
			 uint64_t flags, struct sluice_error *err)
{
	uint32_t idx = htab_find(map, key);
	int ret = check_flags(idx, flags, err);

	if (ret || !idx)
		return ret ? ret : 1;
	map_value_store(map, elem_value(htab_of(map), elem_at(map, htab_of(map), idx)), value,
			flags);
	return 0;
}

/*
 * htab_map_update_elem and its percpu and LRU kin.  *replaced gets the
 * inner map id an existing hash_of_maps element held.
 */
static int htab_update_elem(struct sluice_map *map, const void *key, const void *value,
			    uint64_t flags, unsigned cpu, uint32_t *replaced,
			    struct sluice_error *err)
{
	struct htab *ht = htab_of(map);
	bool lru = type_lru(map->type);
	uint32_t hash, idx;
	struct htab_elem *e;
	struct bucket *b;
	int ret, why = 0;

	/* only maps whose values can hold a lock let BPF_F_LOCK through */
	if ((lru || map->ops->percpu) ? flags > BPF_EXIST
				      : (flags & ~(uint64_t)BPF_F_LOCK) > BPF_EXIST)
		return sluice_fail(err, EINVAL, "unknown update flags 0x%llx",
				   (unsigned long long)flags);
	if (cpu != ALL_CPUS && cpu >= map->ncpus)
		return -EINVAL;
	if (flags & BPF_F_LOCK) {
		if (map->spin_lock_off == MAP_NO_SPIN_LOCK)
			return sluice_fail(err, EINVAL, "BPF_F_LOCK on a value with no bpf_spin_lock");
		ret = update_locked(map, key, value, flags, err);
		if (ret <= 0)
			return ret;
		/* not there: insert it under the bucket lock, as without the flag */
	}

	hash = htab_hash(key, map->key_size, ht->seed);
	b = bucket_of(map, ht, hash);
	if (lru)
		seq_lock(&ht->lru_lock);
	seq_lock(&b->seq);
	e = chain_find(map, ht, b, hash, key, map->key_size, &idx);
	ret = check_flags(idx, flags, err);
	if (ret)
		goto out;
	if (e) {
		*replaced = held_id(map, elem_value(ht, e));
		store_value(map, elem_value(ht, e), value, flags, cpu, false);
		if (lru)
			lru_move_up(map, ht, idx);
		goto out;
	}
	idx = pool_alloc(map, &ht->pool, &why) + 1;
	if (!idx && lru && why == ENOSPC) {
		idx = lru_evict(map, ht, b);
	} else if (!idx) {
		ret = why == ENOMEM ? sluice_fail(err, ENOMEM, "out of shared memory")
				    : sluice_fail(err, E2BIG, "the map is full (max_entries %u)",
						  map->max_entries);
		goto out;
	}
	e = elem_at(map, ht, idx);
	e->hash = hash;
	memcpy(e->key, key, map->key_size);
	store_value(map, elem_value(ht, e), value, flags, cpu, true);
	chain_link(b, e, idx);
	if (lru)
		lru_push_head(map, ht, e, idx);
	__atomic_fetch_add(&ht->count, 1, __ATOMIC_RELAXED);
out:
	seq_unlock(&b->seq);
	if (lru)
		seq_unlock(&ht->lru_lock);
	return ret;
}

static int htab_update(struct sluice_map *map, const void *key, const void *value,
		       uint64_t flags, struct sluice_error *err)
{
	uint32_t replaced;

	return htab_update_elem(map, key, value, flags, ALL_CPUS, &replaced, err);
}

static long htab_elem_update(struct sluice_map *map, const void *key, const void *value,
			     uint64_t flags, unsigned cpu)
{
	uint32_t replaced;

	return htab_update_elem(map, key, value, flags, cpu, &replaced, NULL);
}

/* Delete key; with value, copy it out first (lookup_and_delete). */
static int htab_remove(struct sluice_map *map, const void *key, void *value, uint64_t flags,
		       struct sluice_error *err)
{
	struct htab *ht = htab_of(map);
	uint32_t hash = htab_hash(key, map->key_size, ht->seed), idx, held = 0;
	struct bucket *b = bucket_of(map, ht, hash);
	bool lru = type_lru(map->type);
	struct htab_elem *e;

	if (lru)
		seq_lock(&ht->lru_lock);
	seq_lock(&b->seq);
	e = chain_find(map, ht, b, hash, key, map->key_size, &idx);
	if (e) {
		if (value)
			load_value(map, value, elem_value(ht, e), flags);
		held = held_id(map, elem_value(ht, e));
		chain_unlink(map, ht, b, idx);
		if (lru)
			lru_remove(map, ht, e);
		__atomic_fetch_sub(&ht->count, 1, __ATOMIC_RELAXED);
	}
	seq_unlock(&b->seq);
	if (lru)
		seq_unlock(&ht->lru_lock);
	if (!idx)
		return sluice_fail(err, ENOENT, "no such key");
	pool_free(map, &ht->pool, idx - 1);
	map_inner_put(held);
	return 0;
}

static int htab_delete(struct sluice_map *map, const void *key, struct sluice_error *err)
{
	return htab_remove(map, key, NULL, 0, err);
}

static int htab_lookup_and_delete(struct sluice_map *map, const void *key, void *value,
				  uint64_t flags, struct sluice_error *err)
{
	return htab_remove(map, key, value, flags, err);
}

/* ---- lookups --------------------------------------------------------------- */

static int htab_lookup(struct sluice_map *map, const void *key, void *value, uint64_t flags,
		       struct sluice_error *err)
{
	struct htab *ht = htab_of(map);
	uint32_t hash = htab_hash(key, map->key_size, ht->seed), s;
	const struct bucket *b = bucket_of(map, ht, hash);
	struct htab_elem *e;

	do {
		s = seq_read_begin(&b->seq);
		e = chain_find(map, ht, b, hash, key, map->key_size, NULL);
		if (e)
			load_value(map, value, elem_value(ht, e), flags);
	} while (seq_read_retry(&b->seq, s));
	return e ? 0 : sluice_fail(err, ENOENT, "no such key");
}

/* What a program's lookup that found idx (0: nothing) gets: the value; LRU maps count the use. */
static uint8_t *htab_found(struct sluice_map *map, uint32_t idx)
{
	struct htab *ht = htab_of(map);

	if (!idx)
		return NULL;
	if (type_lru(map->type))
		lru_touch(map, ht, idx);
	return elem_value(ht, elem_at(map, ht, idx));
}

/*
 * Program lookups in plain hash maps specialised by key size, for the
 * sizes flow and address keys have: with the size a constant, the hash's
 * loop unrolls and the key compare is a few loads instead of a call to
 * memcmp, and with no LRU list to touch the lookup calls nothing.  A
 * handle picks its map's when it is opened (map->lookup).
 */
#define HTAB_KEY_SIZES(X) X(4) X(8) X(12) X(16) X(20) X(24) X(32) X(40)

#define HTAB_SIZED_LOOKUP(n)                                                   \
	static void *htab_lookup_##n(struct sluice_map *map, const void *key)     \
	{                                                                      \
		struct htab_elem *e = htab_find_sized(map, key, n, NULL);      \
                                                                               \
		return e ? elem_value(htab_of(map), e) : NULL;                 \
	}
HTAB_KEY_SIZES(HTAB_SIZED_LOOKUP)
#undef HTAB_SIZED_LOOKUP

static void *htab_lookup_any_size(struct sluice_map *map, const void *key)
{
	return htab_found(map, htab_find(map, key));
}

static map_lookup_fn htab_pick_lookup(const struct sluice_map *map)
{
	switch (map->key_size) {
#define HTAB_SIZE_CASE(n) case n: return htab_lookup_##n;
	HTAB_KEY_SIZES(HTAB_SIZE_CASE)
#undef HTAB_SIZE_CASE
	default:
		return htab_lookup_any_size;
	}
}

/* LRU maps: every lookup may move the element up the list, whatever its key. */
static map_lookup_fn htab_lru_pick_lookup(const struct sluice_map *map)
{
	(void)map;
	return htab_lookup_any_size;
}

static void *htab_elem_lookup(struct sluice_map *map, const void *key, unsigned cpu)
{
	uint8_t *v;

	if (cpu >= map->ncpus)
		return NULL;
	if (map->lookup)
		return map->lookup(map, key);
	v = htab_found(map, htab_find(map, key));
	return v && map->ops->percpu ? v + (size_t)cpu * map->value_stride : v;
}

/* The key of the first element of bucket n onward into next_key; -ENOENT past the end. */
static int first_key_from(struct sluice_map *map, uint32_t n, void *next_key)
{
	struct htab *ht = htab_of(map);

	for (; n < ht->n_buckets; n++) {
		const struct bucket *b = (struct bucket *)(map->base + ht->buckets) + n;
		uint32_t idx, s;

		do {
			s = seq_read_begin(&b->seq);
			idx = __atomic_load_n(&b->head, __ATOMIC_ACQUIRE);
			if (idx && idx <= ht->pool.capacity)
				memcpy(next_key, elem_at(map, ht, idx)->key, map->key_size);
		} while (seq_read_retry(&b->seq, s));
		if (idx)
			return 0;
	}
	return -ENOENT;
}

/*
 * htab_map_get_next_key: the next element in its chain, else the first of
 * the buckets after; a key that is not there starts over from the first.
 */
static int htab_get_next_key(struct sluice_map *map, const void *key, void *next_key,
			     struct sluice_error *err)
{
	struct htab *ht = htab_of(map);
	uint32_t n = 0;

	if (key) {
		uint32_t hash = htab_hash(key, map->key_size, ht->seed), next = 0, s;
		const struct bucket *b = bucket_of(map, ht, hash);
		struct htab_elem *e;

		do {
			s = seq_read_begin(&b->seq);
			e = chain_find(map, ht, b, hash, key, map->key_size, NULL);
			next = e ? __atomic_load_n(&e->next, __ATOMIC_ACQUIRE) : 0;
			if (next && next <= ht->pool.capacity)
				memcpy(next_key, elem_at(map, ht, next)->key, map->key_size);
		} while (seq_read_retry(&b->seq, s));
		if (next)
			return 0;
		if (e)
			n = (hash & (ht->n_buckets - 1)) + 1;
	}
	if (first_key_from(map, n, next_key))
		return sluice_fail(err, ENOENT, "no key after this one");
	return 0;
}

/* bpf_for_each_map_elem: the pool in index order, live elements only. */
static long htab_for_each(struct sluice_map *map, sluice_map_elem_fn fn, void *ctx,
			  unsigned cpu)
{
	struct htab *ht = htab_of(map);
	uint32_t used = __atomic_load_n(&ht->pool.used, __ATOMIC_ACQUIRE);
	size_t at = map->ops->percpu ? (size_t)cpu * map->value_stride : 0;
	long visited = 0;

	for (uint32_t idx = 1; idx <= used; idx++) {
		struct htab_elem *e = elem_at(map, ht, idx);

		if (!__atomic_load_n(&e->linked, __ATOMIC_ACQUIRE))
			continue;
		visited++;
		if (fn(map, e->key, elem_value(ht, e) + at, ctx))
			break;
	}
	return visited;
}

static uint32_t htab_count(const struct sluice_map *map)
{
	return __atomic_load_n(&htab_of(map)->count, __ATOMIC_RELAXED);
}

/* ---- hash_of_maps ------------------------------------------------------------ */

static int htab_of_maps_update(struct sluice_map *map, const void *key, const void *value,
			       uint64_t flags, struct sluice_error *err)
{
	uint32_t id, replaced = 0;
	int ret;

	memcpy(&id, value, sizeof(id));
	ret = map_inner_get(map, id, err);
	if (ret)
		return ret;
	ret = htab_update_elem(map, key, value, flags, ALL_CPUS, &replaced, err);
	map_inner_put(ret ? id : replaced);
	return ret;
}

static void *htab_of_maps_elem_lookup(struct sluice_map *map, const void *key, unsigned cpu)
{
	uint32_t *id = htab_elem_lookup(map, key, cpu);

	return id ? map_inner_handle(__atomic_load_n(id, __ATOMIC_ACQUIRE)) : NULL;
}

static void htab_of_maps_release(struct sluice_map *map)
{
	struct htab *ht = htab_of(map);

	for (uint32_t idx = 1; idx <= ht->pool.used; idx++) {
		struct htab_elem *e = elem_at(map, ht, idx);

		if (e->linked)
			map_inner_put(held_id(map, elem_value(ht, e)));
	}
}

#define HTAB_OPS                                     \
	.alloc_check = htab_alloc_check,             \
	.layout = htab_layout,                       \
	.init = htab_init,                           \
	.lookup = htab_lookup,                       \
	.delete = htab_delete,                       \
	.get_next_key = htab_get_next_key,           \
	.count = htab_count

#define HTAB_VALUE_OPS                               \
	HTAB_OPS,                                    \
	.update = htab_update,                       \
	.lookup_and_delete = htab_lookup_and_delete, \
	.elem_lookup = htab_elem_lookup,             \
	.elem_update = htab_elem_update,             \
	.for_each = htab_for_each,                   \
	.meta_equal = map_meta_equal

const struct map_ops htab_map_ops = { HTAB_VALUE_OPS, .pick_lookup = htab_pick_lookup };
const struct map_ops htab_percpu_map_ops = { .percpu = true, HTAB_VALUE_OPS };
const struct map_ops htab_lru_map_ops = { HTAB_VALUE_OPS, .pick_lookup = htab_lru_pick_lookup };
const struct map_ops htab_lru_percpu_map_ops = { .percpu = true, HTAB_VALUE_OPS };

const struct map_ops htab_of_maps_map_ops = {
	HTAB_OPS,
	.update = htab_of_maps_update,
	.elem_lookup = htab_of_maps_elem_lookup,
	.release_inner = htab_of_maps_release,
};
