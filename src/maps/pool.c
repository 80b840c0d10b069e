/* SPDX-License-Identifier: MIT */
/*
 * Fixed-capacity element pools inside a map's file: the kernel's
 * preallocated freelists (pcpu_freelist) for hash maps and stack maps, and
 * the node allocator of the LPM trie.  One lock per pool; elements are
 * handed out in index order the first time, from the free list after.
 */
#include <errno.h>

#include "lock.h"
#include "map.h"

/* Grow a BPF_F_NO_PREALLOC pool's memory by this much at a time. */
#define POOL_CHUNK_BYTES (64u << 10)

void pool_init(struct map_pool *pool, uint64_t off, uint32_t capacity,
	       uint32_t elem_size, uint32_t reserved)
{
	pool->off = off;
	pool->capacity = capacity;
	pool->elem_size = elem_size;
	pool->reserved = reserved;
}

static int pool_grow(struct sluice_map *map, struct map_pool *pool)
{
	uint32_t chunk = POOL_CHUNK_BYTES / pool->elem_size;
	uint64_t at = pool->off + (uint64_t)pool->reserved * pool->elem_size;

	if (!chunk)
		chunk = 1;
	if (chunk > pool->capacity - pool->reserved)
		chunk = pool->capacity - pool->reserved;
	if (shm_reserve(map, at, (uint64_t)chunk * pool->elem_size))
		return -ENOMEM;
	pool->reserved += chunk;
	return 0;
}

uint32_t pool_alloc(struct sluice_map *map, struct map_pool *pool, int *errno_out)
{
	uint32_t idx = POOL_NONE;

	seq_lock(&pool->lock);
	if (pool->free) {
		idx = pool->free - 1;
		pool->free = *(uint32_t *)pool_elem(map, pool, idx);
	} else if (pool->used == pool->capacity) {
		*errno_out = ENOSPC;
	} else if (pool->used == pool->reserved && pool_grow(map, pool)) {
		*errno_out = ENOMEM;
	} else {
		idx = pool->used++;
	}
	seq_unlock(&pool->lock);
	return idx;
}

void pool_free(struct sluice_map *map, struct map_pool *pool, uint32_t idx)
{
	seq_lock(&pool->lock);
	/* lockless readers may still follow this word: see hashtab.c */
	__atomic_store_n((uint32_t *)pool_elem(map, pool, idx), pool->free, __ATOMIC_RELAXED);
	pool->free = idx + 1;
	seq_unlock(&pool->lock);
}
