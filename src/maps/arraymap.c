/* SPDX-License-Identifier: MIT */
/*
 * Arrays, as the kernel's arraymap.c.  array and percpu_array hold values;
 * prog_array and array_of_maps ("fd arrays") hold references, which the
 * kernel takes as file descriptors and Sluice as ids: a program id the
 * runtime gives, an inner map's id.
 *
 * The state is the elements themselves, from the page the state starts on
 * (as BPF_F_MMAPABLE wants): value_size rounded up to 8 each, or that once
 * per possible CPU.  A reference is a 32-bit id in an 8-byte element.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "errmsg.h"
#include "map.h"

#define ARRAY_CREATE_FLAG_MASK (BPF_F_NUMA_NODE | BPF_F_MMAPABLE | BPF_F_ACCESS_MASK | \
				BPF_F_PRESERVE_ELEMS | BPF_F_INNER_MAP)

static uint64_t elem_size(uint32_t type, uint32_t value_size, uint32_t ncpus)
{
	uint64_t stride = round_up8(value_size);

	return type == BPF_MAP_TYPE_PERCPU_ARRAY ? ncpus * stride : stride;
}

static uint8_t *array_elem(const struct sluice_map *map, uint32_t index)
{
	return (uint8_t *)map->state +
	       index * elem_size(map->type, map->value_size, map->ncpus);
}

static uint32_t key_index(const void *key)
{
	uint32_t index;

	memcpy(&index, key, sizeof(index));
	return index;
}

/*
 * array_map_alloc_check.  (array_map_alloc's E2BIG for over 2^31 entries is
 * for unprivileged users only, whose arrays it rounds up to a power of 2.)
 */
static int array_alloc_check(struct map_hdr *h, struct sluice_error *err)
{
	const char *type = sluice_map_type_name(h->type);
	bool percpu = h->type == BPF_MAP_TYPE_PERCPU_ARRAY;

	if (h->max_entries == 0 || h->key_size != 4 || h->value_size == 0)
		return sluice_fail(err, EINVAL,
				   "%s maps need key_size 4 and value_size and max_entries above 0",
				   type);
	if (h->map_flags & ~ARRAY_CREATE_FLAG_MASK || !map_flags_access_ok(h->map_flags) ||
	    (percpu && (h->map_flags & BPF_F_NUMA_NODE)))
		return sluice_fail(err, EINVAL, "flags 0x%x are not for %s maps", h->map_flags,
				   type);
	if (h->type != BPF_MAP_TYPE_ARRAY && (h->map_flags & (BPF_F_MMAPABLE | BPF_F_INNER_MAP)))
		return sluice_fail(err, EINVAL,
				   "BPF_F_MMAPABLE and BPF_F_INNER_MAP are for array maps only");
	if (h->type != BPF_MAP_TYPE_PERF_EVENT_ARRAY && (h->map_flags & BPF_F_PRESERVE_ELEMS))
		return sluice_fail(err, EINVAL,
				   "BPF_F_PRESERVE_ELEMS is for perf_event_array maps only");
	if (h->value_size > INT_MAX || (percpu && round_up8(h->value_size) > PCPU_MIN_UNIT_SIZE))
		return sluice_fail(err, E2BIG, "value_size %u is too large for %s maps",
				   h->value_size, type);
	return 0;
}

int fd_array_alloc_check(struct map_hdr *h, struct sluice_error *err)
{
	if (h->value_size != 4)
		return sluice_fail(err, EINVAL, "%s maps need value_size 4",
				   sluice_map_type_name(h->type));
	if (h->map_flags & (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG))
		return sluice_fail(err, EINVAL, "%s maps take no RDONLY_PROG or WRONLY_PROG",
				   sluice_map_type_name(h->type));
	return array_alloc_check(h, err);
}

static void array_layout(const struct map_hdr *h, struct map_layout *l)
{
	l->state = h->max_entries * elem_size(h->type, h->value_size, h->ncpus);
	l->fixed = l->state;
}

static int past_end(const struct sluice_map *map, int code, uint32_t index,
		    struct sluice_error *err)
{
	return sluice_fail(err, code, "index %u is past the end (max_entries %u)", index,
			   map->max_entries);
}

static int array_lookup(struct sluice_map *map, const void *key, void *value,
			uint64_t flags, struct sluice_error *err)
{
	uint32_t index = key_index(key);

	if (index >= map->max_entries)
		return past_end(map, ENOENT, index, err);
	map_value_load(map, value, array_elem(map, index), flags);
	return 0;
}

/* bpf_percpu_array_copy: every CPU's value with its padding. */
static int percpu_array_lookup(struct sluice_map *map, const void *key, void *value,
			       uint64_t flags, struct sluice_error *err)
{
	uint32_t index = key_index(key);

	(void)flags; /* BPF_F_LOCK: refused already, per-CPU values hold no lock */
	if (index >= map->max_entries)
		return past_end(map, ENOENT, index, err);
	memcpy(value, array_elem(map, index), (size_t)map->ncpus * map->value_stride);
	return 0;
}

static void *array_elem_lookup(struct sluice_map *map, const void *key, unsigned cpu)
{
	uint32_t index = key_index(key);

	(void)cpu;
	return index < map->max_entries ? array_elem(map, index) : NULL;
}

uint8_t *array_values(const struct sluice_map *map)
{
	return map->type == BPF_MAP_TYPE_ARRAY ? array_elem(map, 0) : NULL;
}

static void *percpu_array_elem_lookup(struct sluice_map *map, const void *key, unsigned cpu)
{
	uint32_t index = key_index(key);

	if (index >= map->max_entries || cpu >= map->ncpus)
		return NULL;
	return array_elem(map, index) + (size_t)cpu * map->value_stride;
}

/* array_map_update_elem's checks, in its order. */
static int array_check_update(const struct sluice_map *map, uint32_t index, uint64_t flags,
			      struct sluice_error *err)
{
	if ((flags & ~(uint64_t)BPF_F_LOCK) > BPF_EXIST)
		return sluice_fail(err, EINVAL, "unknown update flags 0x%llx",
				   (unsigned long long)flags);
	if (index >= map->max_entries)
		return past_end(map, E2BIG, index, err);
	if (flags & BPF_NOEXIST)
		return sluice_fail(err, EEXIST, "array elements always exist (BPF_NOEXIST)");
	if ((flags & BPF_F_LOCK) && map->spin_lock_off == MAP_NO_SPIN_LOCK)
		return sluice_fail(err, EINVAL, "BPF_F_LOCK on a value with no bpf_spin_lock");
	return 0;
}

static int array_update(struct sluice_map *map, const void *key, const void *value,
			uint64_t flags, struct sluice_error *err)
{
	uint32_t index = key_index(key);
	int ret = array_check_update(map, index, flags, err);

	if (!ret)
		map_value_store(map, array_elem(map, index), value, flags);
	return ret;
}

static long array_elem_update(struct sluice_map *map, const void *key, const void *value,
			      uint64_t flags, unsigned cpu)
{
	(void)cpu;
	return array_update(map, key, value, flags, NULL);
}

/* bpf_percpu_array_update: every CPU's value, padding included, as given. */
static int percpu_array_update(struct sluice_map *map, const void *key, const void *value,
			       uint64_t flags, struct sluice_error *err)
{
	uint32_t index = key_index(key);
	int ret = array_check_update(map, index, flags, err);

	if (!ret)
		memcpy(array_elem(map, index), value, (size_t)map->ncpus * map->value_stride);
	return ret;
}

static long percpu_array_elem_update(struct sluice_map *map, const void *key,
				     const void *value, uint64_t flags, unsigned cpu)
{
	uint32_t index = key_index(key);
	int ret = array_check_update(map, index, flags, NULL);

	if (ret)
		return ret;
	if (cpu >= map->ncpus)
		return -EINVAL;
	memcpy(array_elem(map, index) + (size_t)cpu * map->value_stride, value,
	       map->value_size);
	return 0;
}

static int array_delete(struct sluice_map *map, const void *key, struct sluice_error *err)
{
	(void)map;
	(void)key;
	return sluice_fail(err, EINVAL, "array elements cannot be deleted");
}

/* array_map_get_next_key: a missing or out-of-range key starts over at 0. */
int array_get_next_key(struct sluice_map *map, const void *key, void *next_key,
		       struct sluice_error *err)
{
	uint32_t index = key ? key_index(key) : UINT32_MAX, next;

	if (index >= map->max_entries)
		next = 0;
	else if (index == map->max_entries - 1)
		return sluice_fail(err, ENOENT, "no key after the last index");
	else
		next = index + 1;
	memcpy(next_key, &next, sizeof(next));
	return 0;
}

static long array_for_each(struct sluice_map *map, sluice_map_elem_fn fn, void *ctx,
			   unsigned cpu)
{
	size_t at = map->type == BPF_MAP_TYPE_PERCPU_ARRAY ? (size_t)cpu * map->value_stride : 0;
	long visited = 0;

	for (uint32_t index = 0; index < map->max_entries; index++) {
		visited++;
		if (fn(map, &index, array_elem(map, index) + at, ctx))
			break;
	}
	return visited;
}

static uint32_t array_count(const struct sluice_map *map)
{
	return map->max_entries;
}

/* array_map_meta_equal: BPF_F_INNER_MAP lets inner arrays differ in size. */
static bool array_meta_equal(const struct map_meta *tmpl, const struct map_hdr *h)
{
	return map_meta_equal(tmpl, h) &&
	       ((tmpl->map_flags & BPF_F_INNER_MAP) || tmpl->max_entries == h->max_entries);
}

/* What array and percpu_array share. */
#define ARRAY_OPS                                  \
	.alloc_check = array_alloc_check,          \
	.layout = array_layout,                    \
	.delete = array_delete,                    \
	.get_next_key = array_get_next_key,        \
	.for_each = array_for_each,                \
	.count = array_count

const struct map_ops array_map_ops = {
	ARRAY_OPS,
	.lookup = array_lookup,
	.update = array_update,
	.elem_lookup = array_elem_lookup,
	.elem_update = array_elem_update,
	.meta_equal = array_meta_equal,
};

const struct map_ops percpu_array_map_ops = {
	ARRAY_OPS,
	.percpu = true,
	.lookup = percpu_array_lookup,
	.update = percpu_array_update,
	.elem_lookup = percpu_array_elem_lookup,
	.elem_update = percpu_array_elem_update,
	.meta_equal = map_meta_equal,
};

/* ---- fd arrays: prog_array, array_of_maps -------------------------------- */

static uint32_t *fd_slot(const struct sluice_map *map, uint32_t index)
{
	return (uint32_t *)array_elem(map, index);
}

/* bpf_fd_array_map_update_elem */
static int fd_array_update(struct sluice_map *map, const void *key, const void *value,
			   uint64_t flags, struct sluice_error *err)
{
	uint32_t index = key_index(key), id = key_index(value), old;
	bool maps = map->type == BPF_MAP_TYPE_ARRAY_OF_MAPS;
	int ret;

	if (flags != BPF_ANY)
		return sluice_fail(err, EINVAL, "%s updates take BPF_ANY only",
				   sluice_map_type_name(map->type));
	if (index >= map->max_entries)
		return past_end(map, E2BIG, index, err);
	if (maps && (ret = map_inner_get(map, id, err)))
		return ret;
	if (!maps && !id)
		return sluice_fail(err, EBADF, "program id 0");
	old = __atomic_exchange_n(fd_slot(map, index), id, __ATOMIC_ACQ_REL);
	if (maps)
		map_inner_put(old);
	return 0;
}

/* bpf_fd_array_map_lookup_elem: the id, as the kernel's sys lookup gives it. */
static int fd_array_lookup(struct sluice_map *map, const void *key, void *value,
			   uint64_t flags, struct sluice_error *err)
{
	uint32_t index = key_index(key), id;

	(void)flags;
	if (index >= map->max_entries)
		return past_end(map, ENOENT, index, err);
	id = __atomic_load_n(fd_slot(map, index), __ATOMIC_ACQUIRE);
	if (!id)
		return sluice_fail(err, ENOENT, "slot %u is empty", index);
	memcpy(value, &id, sizeof(id));
	return 0;
}

static int fd_array_delete(struct sluice_map *map, const void *key, struct sluice_error *err)
{
	uint32_t index = key_index(key), old;

	if (index >= map->max_entries)
		return past_end(map, E2BIG, index, err);
	old = __atomic_exchange_n(fd_slot(map, index), 0, __ATOMIC_ACQ_REL);
	if (!old)
		return sluice_fail(err, ENOENT, "slot %u is empty", index);
	if (map->type == BPF_MAP_TYPE_ARRAY_OF_MAPS)
		map_inner_put(old);
	return 0;
}

static void *array_of_maps_elem_lookup(struct sluice_map *map, const void *key, unsigned cpu)
{
	uint32_t index = key_index(key), id;

	(void)cpu;
	if (index >= map->max_entries)
		return NULL;
	id = __atomic_load_n(fd_slot(map, index), __ATOMIC_ACQUIRE);
	return id ? map_inner_handle(id) : NULL;
}

static void array_of_maps_release(struct sluice_map *map)
{
	for (uint32_t index = 0; index < map->max_entries; index++)
		map_inner_put(__atomic_exchange_n(fd_slot(map, index), 0, __ATOMIC_ACQ_REL));
}

uint32_t sluice_map_prog_id(struct sluice_map *prog_array, uint32_t index)
{
	if (prog_array->type != BPF_MAP_TYPE_PROG_ARRAY || index >= prog_array->max_entries)
		return 0;
	return __atomic_load_n(fd_slot(prog_array, index), __ATOMIC_ACQUIRE);
}

#define FD_ARRAY_OPS                               \
	.alloc_check = fd_array_alloc_check,       \
	.layout = array_layout,                    \
	.lookup = fd_array_lookup,                 \
	.update = fd_array_update,                 \
	.delete = fd_array_delete,                 \
	.get_next_key = array_get_next_key,        \
	.count = array_count

/* No meta_equal: the kernel refuses prog arrays as inner maps (ENOTSUPP). */
const struct map_ops prog_array_map_ops = { FD_ARRAY_OPS };

const struct map_ops array_of_maps_map_ops = {
	FD_ARRAY_OPS,
	.elem_lookup = array_of_maps_elem_lookup,
	.release_inner = array_of_maps_release,
};
