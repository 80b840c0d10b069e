/* SPDX-License-Identifier: MIT */
/*
 * Maps of maps, as the kernel's map_in_map.c: the template an outer map
 * keeps of its inner maps, the hold each outer slot takes on its inner map
 * (map_hdr.refs, which keeps the inner map's file while any outer map names
 * it, whoever created it), and this process's handles on inner maps, which
 * a program's lookup in an outer map returns.  Those handles stay open for
 * the life of the process: a program may use one after the slot changed,
 * as the kernel's RCU lets it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "errmsg.h"
#include "map.h"

static pthread_mutex_t handles_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sluice_map **handles;
static size_t handles_len, handles_cap;

struct sluice_map *map_inner_handle(uint32_t id)
{
	struct sluice_map *map = NULL;

	pthread_mutex_lock(&handles_lock);
	for (size_t i = 0; i < handles_len && !map; i++)
		if (handles[i]->hdr->id == id)
			map = handles[i];
	if (!map && (map = shm_open_id(id, NULL))) {
		if (handles_len == handles_cap) {
			size_t cap = handles_cap ? 2 * handles_cap : 16;
			struct sluice_map **grown = realloc(handles, cap * sizeof(*grown));

			if (grown) {
				handles = grown;
				handles_cap = cap;
			}
		}
		if (handles_len < handles_cap) {
			handles[handles_len++] = map;
		} else {
			shm_close(map);
			map = NULL;
		}
	}
	pthread_mutex_unlock(&handles_lock);
	return map;
}

bool map_is_inner_handle(const struct sluice_map *map)
{
	bool found = false;

	pthread_mutex_lock(&handles_lock);
	for (size_t i = 0; i < handles_len && !found; i++)
		found = handles[i] == map;
	pthread_mutex_unlock(&handles_lock);
	return found;
}

bool map_inner_handles_hold(uint64_t addr, uint64_t size)
{
	bool found = false;

	pthread_mutex_lock(&handles_lock);
	for (size_t i = 0; i < handles_len && !found; i++) {
		uint64_t base = (uintptr_t)handles[i]->base;

		found = addr >= base && addr + size <= base + handles[i]->mapped;
	}
	pthread_mutex_unlock(&handles_lock);
	return found;
}

bool map_meta_equal(const struct map_meta *tmpl, const struct map_hdr *h)
{
	return tmpl->type == h->type && tmpl->key_size == h->key_size &&
	       tmpl->value_size == h->value_size && tmpl->map_flags == h->map_flags &&
	       tmpl->spin_lock_off == h->spin_lock_off;
}

int map_meta_init(struct map_hdr *h, const struct sluice_map *inner,
		  struct sluice_error *err)
{
	if (!inner)
		return sluice_fail(err, EINVAL, "%s maps need an inner map as template",
				   sluice_map_type_name(h->type));
	if (inner->ops->release_inner)
		return sluice_fail(err, EINVAL, "an inner map cannot hold maps itself");
	if (!inner->ops->meta_equal)
		return sluice_fail(err, SLUICE_ENOTSUPP, "%s maps cannot be inner maps",
				   sluice_map_type_name(inner->type));
	h->inner = (struct map_meta){
		.type = inner->type,
		.key_size = inner->key_size,
		.value_size = inner->value_size,
		.max_entries = inner->max_entries,
		.map_flags = inner->map_flags,
		.spin_lock_off = inner->spin_lock_off,
	};
	return 0;
}

int map_inner_get(const struct sluice_map *outer, uint32_t id, struct sluice_error *err)
{
	const struct map_meta *tmpl = &outer->hdr->inner;
	struct sluice_map *inner = id ? map_inner_handle(id) : NULL;

	if (!inner)
		return sluice_fail(err, EBADF, "no map with id %u", id);
	if (!map_type_ops(tmpl->type)->meta_equal(tmpl, inner->hdr))
		return sluice_fail(err, EINVAL,
				   "map %u does not match the inner map template "
				   "(type, key and value size, flags%s)",
				   id, tmpl->type == BPF_MAP_TYPE_ARRAY ? ", max_entries" : "");
	__atomic_fetch_add(&inner->hdr->refs, 1, __ATOMIC_ACQ_REL);
	return 0;
}

void map_inner_put(uint32_t id)
{
	struct sluice_map *inner = id ? map_inner_handle(id) : NULL;

	if (!inner)
		return;
	__atomic_fetch_sub(&inner->hdr->refs, 1, __ATOMIC_ACQ_REL);
	shm_unlink_if_unheld(inner);
}
