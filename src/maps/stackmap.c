/* SPDX-License-Identifier: MIT */
/*
 * Stack trace maps, as the kernel's stackmap.c: bpf_get_stackid hashes a
 * stack of instruction pointers (jhash2, seed 0, as the kernel, so a stack
 * gets the kernel's id for the same ips) into one of n_buckets slots, a
 * power of 2 at least max_entries, each holding at most one stored stack
 * from a pool of max_entries.  The stack comes from the runtime (for a BPF
 * program, its frames); build ids are not something Sluice has.
 */
#include <errno.h>
#include <string.h>

#include "errmsg.h"
#include "jhash.h"
#include "lock.h"
#include "map.h"

#define STACK_CREATE_FLAG_MASK (BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY | \
				BPF_F_STACK_BUILD_ID)
#define PERF_MAX_STACK_DEPTH 127 /* the default of sysctl kernel.perf_event_max_stack */

struct stack_map {
	uint32_t lock;      /* seq_lock, used as a plain lock */
	uint32_t n_buckets;
	uint32_t count;     /* stacks stored */
	uint32_t pad;
	struct map_pool pool;
	uint32_t slots[];   /* n_buckets of index + 1 of the stored stack, 0: none */
};

struct stack_bucket {
	uint32_t link; /* the pool's while free */
	uint32_t hash;
	uint32_t nr;   /* ips stored */
	uint32_t pad;
	uint64_t ips[];
};

static struct stack_map *smap_of(const struct sluice_map *map)
{
	return map->state;
}

static struct stack_bucket *bucket_at(const struct sluice_map *map, uint32_t idx)
{
	return pool_elem(map, &smap_of(map)->pool, idx - 1);
}

static uint32_t key_id(const void *key)
{
	uint32_t id;

	memcpy(&id, key, sizeof(id));
	return id;
}

static int stack_alloc_check(struct map_hdr *h, struct sluice_error *err)
{
	if (h->map_flags & ~STACK_CREATE_FLAG_MASK)
		return sluice_fail(err, EINVAL, "flags 0x%x are not for stack_trace maps",
				   h->map_flags);
	if (h->max_entries == 0 || h->key_size != 4 || h->value_size < 8 || h->value_size % 8)
		return sluice_fail(err, EINVAL,
				   "stack_trace maps need key_size 4, max_entries above 0 and "
				   "value_size a multiple of 8");
	if (h->map_flags & BPF_F_STACK_BUILD_ID)
		return sluice_fail(err, EINVAL, "Sluice has no build ids (BPF_F_STACK_BUILD_ID)");
	if (h->value_size / 8 > PERF_MAX_STACK_DEPTH)
		return sluice_fail(err, EINVAL, "stacks are at most %d ips deep",
				   PERF_MAX_STACK_DEPTH);
	if (h->max_entries > 1u << 31)
		return sluice_fail(err, E2BIG, "max_entries %u is too large", h->max_entries);
	return 0;
}

static uint64_t head_size(const struct map_hdr *h)
{
	return round_up8(sizeof(struct stack_map) + roundup_pow_of_two(h->max_entries) * 4);
}

static void stack_layout(const struct map_hdr *h, struct map_layout *l)
{
	l->state = head_size(h) + (uint64_t)h->max_entries *
				  (sizeof(struct stack_bucket) + h->value_size);
	l->fixed = l->state;
}

static void stack_init(struct sluice_map *map)
{
	struct stack_map *smap = smap_of(map);

	smap->n_buckets = (uint32_t)roundup_pow_of_two(map->max_entries);
	pool_init(&smap->pool, MAP_STATE_OFF + head_size(map->hdr), map->max_entries,
		  (uint32_t)sizeof(struct stack_bucket) + map->value_size, map->max_entries);
}

/* __bpf_get_stackid on the stack the runtime gives, innermost first. */
static long get_stackid(struct sluice_map *map, const uint64_t *ips, uint32_t nr,
			uint64_t flags)
{
	struct stack_map *smap = smap_of(map);
	uint32_t skip = flags & BPF_F_SKIP_FIELD_MASK, depth = map->value_size / 8 + skip;
	uint32_t hash, id, idx, fresh;
	struct stack_bucket *b;
	int why;

	/* the kernel takes at most this many frames, then skips */
	if (depth > PERF_MAX_STACK_DEPTH)
		depth = PERF_MAX_STACK_DEPTH;
	if (nr > depth)
		nr = depth;
	if (nr <= skip)
		return -EFAULT;
	nr -= skip;
	ips += skip;
	hash = jhash2(ips, nr * 2, 0);
	id = hash & (smap->n_buckets - 1);
	idx = smap->slots[id];
	b = idx ? bucket_at(map, idx) : NULL;
	if (b && b->hash == hash && ((flags & BPF_F_FAST_STACK_CMP) ||
				     (b->nr == nr && !memcmp(b->ips, ips, nr * 8ull))))
		return id;
	if (b && !(flags & BPF_F_REUSE_STACKID))
		return -EEXIST;
	fresh = pool_alloc(map, &smap->pool, &why) + 1;
	if (!fresh)
		return -ENOMEM;
	b = bucket_at(map, fresh);
	b->hash = hash;
	b->nr = nr;
	memcpy(b->ips, ips, nr * 8ull);
	smap->slots[id] = fresh;
	if (idx)
		pool_free(map, &smap->pool, idx - 1);
	else
		__atomic_fetch_add(&smap->count, 1, __ATOMIC_RELAXED);
	return id;
}

long sluice_stackmap_get_stackid(struct sluice_map *map, const uint64_t *ips, uint32_t nr,
				 uint64_t flags)
{
	long ret;

	if (map->type != BPF_MAP_TYPE_STACK_TRACE ||
	    (flags & ~(uint64_t)(BPF_F_SKIP_FIELD_MASK | BPF_F_USER_STACK |
				 BPF_F_FAST_STACK_CMP | BPF_F_REUSE_STACKID)))
		return -EINVAL;
	seq_lock(&smap_of(map)->lock);
	ret = get_stackid(map, ips, nr, flags);
	seq_unlock(&smap_of(map)->lock);
	return ret;
}

/* bpf_stackmap_extract: the stored ips, zeros after them; with delete, it goes. */
static int stack_extract(struct sluice_map *map, const void *key, void *value, bool delete,
			 struct sluice_error *err)
{
	struct stack_map *smap = smap_of(map);
	uint32_t id = key_id(key), idx = 0;

	seq_lock(&smap->lock);
	if (id < smap->n_buckets && (idx = smap->slots[id])) {
		const struct stack_bucket *b = bucket_at(map, idx);

		memcpy(value, b->ips, b->nr * 8ull);
		memset((uint8_t *)value + b->nr * 8ull, 0, map->value_size - b->nr * 8ull);
		if (delete) {
			smap->slots[id] = 0;
			pool_free(map, &smap->pool, idx - 1);
			__atomic_fetch_sub(&smap->count, 1, __ATOMIC_RELAXED);
		}
	}
	seq_unlock(&smap->lock);
	return idx ? 0 : sluice_fail(err, ENOENT, "no stack with id %u", id);
}

static int stack_lookup(struct sluice_map *map, const void *key, void *value, uint64_t flags,
			struct sluice_error *err)
{
	(void)flags; /* BPF_F_LOCK: refused already, stacks hold no lock */
	return stack_extract(map, key, value, false, err);
}

static int stack_lookup_and_delete(struct sluice_map *map, const void *key, void *value,
				   uint64_t flags, struct sluice_error *err)
{
	(void)flags;
	return stack_extract(map, key, value, true, err);
}

static int stack_update(struct sluice_map *map, const void *key, const void *value,
			uint64_t flags, struct sluice_error *err)
{
	(void)map;
	(void)key;
	(void)value;
	(void)flags;
	return sluice_fail(err, EINVAL, "stack_trace maps are written by bpf_get_stackid only");
}

static int stack_delete(struct sluice_map *map, const void *key, struct sluice_error *err)
{
	struct stack_map *smap = smap_of(map);
	uint32_t id = key_id(key), idx;

	if (id >= smap->n_buckets)
		return sluice_fail(err, E2BIG, "stack id %u is past the last (%u)", id,
				   smap->n_buckets - 1);
	seq_lock(&smap->lock);
	idx = smap->slots[id];
	smap->slots[id] = 0;
	if (idx) {
		pool_free(map, &smap->pool, idx - 1);
		__atomic_fetch_sub(&smap->count, 1, __ATOMIC_RELAXED);
	}
	seq_unlock(&smap->lock);
	return idx ? 0 : sluice_fail(err, ENOENT, "no stack with id %u", id);
}

/* stack_map_get_next_key: ids in order; a missing or bad key starts over. */
static int stack_get_next_key(struct sluice_map *map, const void *key, void *next_key,
			      struct sluice_error *err)
{
	struct stack_map *smap = smap_of(map);
	uint32_t id = 0;

	seq_lock(&smap->lock);
	if (key) {
		id = key_id(key);
		id = id >= smap->n_buckets || !smap->slots[id] ? 0 : id + 1;
	}
	while (id < smap->n_buckets && !smap->slots[id])
		id++;
	seq_unlock(&smap->lock);
	if (id >= smap->n_buckets)
		return sluice_fail(err, ENOENT, "no stack id after this one");
	memcpy(next_key, &id, sizeof(id));
	return 0;
}

static uint32_t stack_count(const struct sluice_map *map)
{
	return __atomic_load_n(&smap_of(map)->count, __ATOMIC_RELAXED);
}

const struct map_ops stack_trace_map_ops = {
	.alloc_check = stack_alloc_check,
	.layout = stack_layout,
	.init = stack_init,
	.lookup = stack_lookup,
	.update = stack_update,
	.delete = stack_delete,
	.get_next_key = stack_get_next_key,
	.lookup_and_delete = stack_lookup_and_delete,
	.meta_equal = map_meta_equal,
	.count = stack_count,
};
