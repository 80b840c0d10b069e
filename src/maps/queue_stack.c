/* SPDX-License-Identifier: MIT */
/*
 * Queues and stacks, as the kernel's queue_stack_maps.c: a ring of
 * max_entries + 1 slots of value_size bytes under one lock.  They have no
 * keys: bpf(2) update pushes, lookup peeks and lookup-and-delete pops.  A
 * push with BPF_EXIST into a full map makes room by dropping the oldest
 * element (the queue's head, the stack's bottom).
 */
#include <errno.h>
#include <string.h>

#include "errmsg.h"
#include "lock.h"
#include "map.h"

#define QUEUE_STACK_CREATE_FLAG_MASK (BPF_F_NUMA_NODE | BPF_F_ACCESS_MASK)

struct queue_stack {
	uint32_t lock; /* seq_lock, used as a plain lock */
	uint32_t head; /* the next slot to push into */
	uint32_t tail; /* the oldest element */
	uint32_t size; /* max_entries + 1: one slot stays free */
};

static struct queue_stack *qs_of(const struct sluice_map *map)
{
	return map->state;
}

static uint8_t *slot(const struct sluice_map *map, uint32_t index)
{
	return (uint8_t *)map->state + sizeof(struct queue_stack) +
	       (uint64_t)index * map->value_size;
}

static int qs_alloc_check(struct map_hdr *h, struct sluice_error *err)
{
	if (h->max_entries == 0 || h->key_size != 0 || h->value_size == 0 ||
	    h->map_flags & ~QUEUE_STACK_CREATE_FLAG_MASK || !map_flags_access_ok(h->map_flags))
		return sluice_fail(err, EINVAL,
				   "%s maps need key_size 0, value_size and max_entries above 0 "
				   "(flags 0x%x)", sluice_map_type_name(h->type), h->map_flags);
	if (h->value_size > KMALLOC_MAX_SIZE)
		return sluice_fail(err, E2BIG, "value_size %u is over %u", h->value_size,
				   KMALLOC_MAX_SIZE);
	return 0;
}

static void qs_layout(const struct map_hdr *h, struct map_layout *l)
{
	l->state = sizeof(struct queue_stack) + ((uint64_t)h->max_entries + 1) * h->value_size;
	l->fixed = l->state;
}

static void qs_init(struct sluice_map *map)
{
	qs_of(map)->size = map->max_entries + 1;
}

static bool qs_full(const struct queue_stack *qs)
{
	return (qs->head + 1 == qs->size ? 0 : qs->head + 1) == qs->tail;
}

static long qs_push(struct sluice_map *map, const void *value, uint64_t flags,
		    struct sluice_error *err)
{
	struct queue_stack *qs = qs_of(map);

	if ((flags & BPF_NOEXIST) || flags > BPF_EXIST)
		return sluice_fail(err, EINVAL, "push takes BPF_ANY or BPF_EXIST");
	seq_lock(&qs->lock);
	if (qs_full(qs)) {
		if (!(flags & BPF_EXIST)) {
			seq_unlock(&qs->lock);
			return sluice_fail(err, E2BIG, "the map is full (max_entries %u)",
					   map->max_entries);
		}
		if (++qs->tail >= qs->size)
			qs->tail = 0;
	}
	memcpy(slot(map, qs->head), value, map->value_size);
	if (++qs->head >= qs->size)
		qs->head = 0;
	seq_unlock(&qs->lock);
	return 0;
}

/* The element a pop or peek takes: the queue's oldest, the stack's newest. */
static long qs_get(struct sluice_map *map, void *value, bool pop, struct sluice_error *err)
{
	bool stack = map->type == BPF_MAP_TYPE_STACK;
	struct queue_stack *qs = qs_of(map);
	uint32_t index;

	seq_lock(&qs->lock);
	if (qs->head == qs->tail) {
		seq_unlock(&qs->lock);
		memset(value, 0, map->value_size);
		return sluice_fail(err, ENOENT, "the map is empty");
	}
	index = stack ? (qs->head ? qs->head : qs->size) - 1 : qs->tail;
	memcpy(value, slot(map, index), map->value_size);
	if (pop && stack)
		qs->head = index;
	else if (pop && ++qs->tail >= qs->size)
		qs->tail = 0;
	seq_unlock(&qs->lock);
	return 0;
}

static long qs_pop(struct sluice_map *map, void *value, struct sluice_error *err)
{
	return qs_get(map, value, true, err);
}

static long qs_peek(struct sluice_map *map, void *value, struct sluice_error *err)
{
	return qs_get(map, value, false, err);
}

static int qs_delete(struct sluice_map *map, const void *key, struct sluice_error *err)
{
	(void)key;
	return sluice_fail(err, EINVAL, "%s maps have no keys: pop instead",
			   sluice_map_type_name(map->type));
}

static int qs_get_next_key(struct sluice_map *map, const void *key, void *next_key,
			   struct sluice_error *err)
{
	(void)key;
	(void)next_key;
	return sluice_fail(err, EINVAL, "%s maps have no keys to walk",
			   sluice_map_type_name(map->type));
}

static uint32_t qs_count(const struct sluice_map *map)
{
	const struct queue_stack *qs = qs_of(map);
	uint32_t head = __atomic_load_n(&qs->head, __ATOMIC_RELAXED);
	uint32_t tail = __atomic_load_n(&qs->tail, __ATOMIC_RELAXED);

	return head >= tail ? head - tail : head + qs->size - tail;
}

#define QUEUE_STACK_OPS                    \
	.alloc_check = qs_alloc_check,     \
	.layout = qs_layout,               \
	.init = qs_init,                   \
	.delete = qs_delete,               \
	.get_next_key = qs_get_next_key,   \
	.push = qs_push,                   \
	.pop = qs_pop,                     \
	.peek = qs_peek,                   \
	.meta_equal = map_meta_equal,      \
	.count = qs_count

const struct map_ops queue_map_ops = { QUEUE_STACK_OPS };
const struct map_ops stack_map_ops = { QUEUE_STACK_OPS };
