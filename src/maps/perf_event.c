/* SPDX-License-Identifier: MIT */
/*
 * Perf event arrays.  In the kernel each slot holds a perf event (usually
 * one per CPU, opened by the consumer) and bpf_perf_event_output writes a
 * PERF_RECORD_SAMPLE with PERF_SAMPLE_RAW data into that event's ring.
 * Sluice keeps the records and drops the events: every slot is a queue of
 * records of the same layout,
 *
 *   struct perf_event_header { u32 type; u16 misc; u16 size; }
 *   u32 raw size; raw data, zero-padded so that size + 4 is a multiple of 8
 *
 * in a ring of PERF_SLOT_BYTES, with a lost-record count.  Every slot is
 * open, as after libbpf's perf_buffer__new.  The bpf(2) side sees what the
 * kernel's shows before user space installs event fds: slots to walk and
 * nothing to look up or delete; installing fds (update) is not supported.
 */
#include <errno.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "lock.h"
#include "map.h"

#define PERF_SLOT_BYTES (64u << 10) /* a 16-page perf buffer; a power of 2 */

struct perf_slot {
	uint32_t lock; /* seq_lock, used as a plain lock by producers */
	uint32_t pad;
	uint64_t head; /* bytes written */
	uint64_t tail; /* bytes consumed */
	uint64_t lost;
};

static uint64_t slots_size(uint32_t max_entries)
{
	return round_up_page((uint64_t)max_entries * sizeof(struct perf_slot));
}

static struct perf_slot *slot_at(const struct sluice_map *map, uint32_t index)
{
	return (struct perf_slot *)map->state + index;
}

static uint8_t *ring_at(const struct sluice_map *map, uint32_t index)
{
	return (uint8_t *)map->state + slots_size(map->max_entries) +
	       (uint64_t)index * PERF_SLOT_BYTES;
}

static void perf_layout(const struct map_hdr *h, struct map_layout *l)
{
	l->state = slots_size(h->max_entries) + (uint64_t)h->max_entries * PERF_SLOT_BYTES;
	l->fixed = l->state;
}

static void ring_write(uint8_t *ring, uint64_t pos, const void *src, size_t len)
{
	size_t at = pos & (PERF_SLOT_BYTES - 1), first = PERF_SLOT_BYTES - at;

	if (first > len)
		first = len;
	memcpy(ring + at, src, first);
	memcpy(ring, (const uint8_t *)src + first, len - first);
}

static void ring_read(const uint8_t *ring, uint64_t pos, void *dst, size_t len)
{
	size_t at = pos & (PERF_SLOT_BYTES - 1), first = PERF_SLOT_BYTES - at;

	if (first > len)
		first = len;
	memcpy(dst, ring + at, first);
	memcpy((uint8_t *)dst + first, ring, len - first);
}

/* bpf_perf_event_output, with the record layout perf_output_sample gives. */
long sluice_perf_event_output(struct sluice_map *map, uint64_t flags, unsigned cpu,
			      const void *data, uint64_t size)
{
	static const uint8_t zeros[8];
	uint64_t index = flags & BPF_F_INDEX_MASK, raw, total;
	struct perf_event_header header;
	struct perf_slot *s;
	uint8_t *ring;
	uint32_t raw32;

	if (map->type != BPF_MAP_TYPE_PERF_EVENT_ARRAY || (flags & ~BPF_F_INDEX_MASK))
		return -EINVAL;
	if (index == BPF_F_CURRENT_CPU)
		index = cpu;
	if (index >= map->max_entries)
		return -E2BIG;
	raw = round_up8(size + 4) - 4;
	total = sizeof(header) + 4 + raw;
	if (total > UINT16_MAX) /* a perf record's size is 16 bits */
		return -E2BIG;
	header = (struct perf_event_header){ .type = PERF_RECORD_SAMPLE,
					     .size = (uint16_t)total };
	raw32 = (uint32_t)raw;
	s = slot_at(map, (uint32_t)index);
	ring = ring_at(map, (uint32_t)index);
	seq_lock(&s->lock);
	if (PERF_SLOT_BYTES - (s->head - __atomic_load_n(&s->tail, __ATOMIC_ACQUIRE)) < total) {
		__atomic_fetch_add(&s->lost, 1, __ATOMIC_RELAXED);
		seq_unlock(&s->lock);
		return -ENOSPC;
	}
	ring_write(ring, s->head, &header, sizeof(header));
	ring_write(ring, s->head + sizeof(header), &raw32, 4);
	ring_write(ring, s->head + sizeof(header) + 4, data, size);
	ring_write(ring, s->head + sizeof(header) + 4 + size, zeros, raw - size);
	__atomic_store_n(&s->head, s->head + total, __ATOMIC_RELEASE);
	seq_unlock(&s->lock);
	return 0;
}

long sluice_perf_event_consume(struct sluice_map *map, sluice_perf_fn fn, void *ctx)
{
	uint8_t *copy = NULL;
	long count = 0;

	if (map->type != BPF_MAP_TYPE_PERF_EVENT_ARRAY)
		return -EINVAL;
	for (uint32_t index = 0; index < map->max_entries; index++) {
		struct perf_slot *s = slot_at(map, index);
		uint64_t tail = s->tail, head = __atomic_load_n(&s->head, __ATOMIC_ACQUIRE);
		const uint8_t *ring = ring_at(map, index);

		while (tail < head) {
			struct perf_event_header header;
			uint64_t at = (tail + sizeof(header) + 4) & (PERF_SLOT_BYTES - 1);
			uint32_t raw;
			void *data;
			int ret;

			ring_read(ring, tail, &header, sizeof(header));
			ring_read(ring, tail + sizeof(header), &raw, 4);
			data = (uint8_t *)ring + at;
			if (at + raw > PERF_SLOT_BYTES) {
				/* the record wraps: hand over a copy, as libbpf does */
				if (!copy && !(copy = malloc(PERF_SLOT_BYTES)))
					return -ENOMEM;
				ring_read(ring, tail + sizeof(header) + 4, copy, raw);
				data = copy;
			}
			ret = fn(ctx, index, data, raw);
			tail += header.size;
			__atomic_store_n(&s->tail, tail, __ATOMIC_RELEASE);
			if (ret < 0) {
				free(copy);
				return ret;
			}
			count++;
		}
	}
	free(copy);
	return count;
}

uint64_t sluice_perf_event_lost(struct sluice_map *map, unsigned slot)
{
	if (map->type != BPF_MAP_TYPE_PERF_EVENT_ARRAY || slot >= map->max_entries)
		return 0;
	return __atomic_load_n(&slot_at(map, slot)->lost, __ATOMIC_RELAXED);
}

/* As the kernel's fd_array_map_delete_elem on a slot no event fd went into. */
static int perf_delete(struct sluice_map *map, const void *key, struct sluice_error *err)
{
	uint32_t index;

	memcpy(&index, key, sizeof(index));
	if (index >= map->max_entries)
		return sluice_fail(err, E2BIG, "index %u is past the end (max_entries %u)", index,
				   map->max_entries);
	return sluice_fail(err, ENOENT, "slot %u holds no perf event fd (Sluice's slots are "
			   "always open)", index);
}

const struct map_ops perf_event_array_map_ops = {
	.alloc_check = fd_array_alloc_check,
	.layout = perf_layout,
	.delete = perf_delete,
	.get_next_key = array_get_next_key,
	.meta_equal = map_meta_equal,
};
