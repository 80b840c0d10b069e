/* SPDX-License-Identifier: MIT */
/*
 * The generic layer of the maps, the part of the kernel's syscall.c that
 * checks before it dispatches: BPF_MAP_CREATE's checks common to every
 * type, the permission and BPF_F_LOCK checks of each bpf(2) command, and the
 * way keyless maps (queue, stack) take update, lookup and lookup-and-delete
 * as push, peek and pop.  Everything else goes to the type's ops table.
 */
#include <ctype.h>
#include <stdlib.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "errmsg.h"
#include "loader.h"
#include "lock.h"
#include "map.h"

#define SLUICE_MAP_TYPE(type, ops) extern const struct map_ops ops;
#include "map_types.h"

static const struct map_ops *const map_types[] = {
#define SLUICE_MAP_TYPE(type, ops) [type] = &ops,
#include "map_types.h"
};

#define NTYPES (sizeof(map_types) / sizeof(map_types[0]))

const struct map_ops *map_type_ops(uint32_t type)
{
	return type < NTYPES ? map_types[type] : NULL;
}

const char *sluice_map_type_name(uint32_t type)
{
	return map_type_ops(type) ? bpf_map_type_str(type) : NULL;
}

int sluice_map_type_by_name(const char *name)
{
	for (uint32_t t = 0; t < NTYPES; t++)
		if (map_types[t] && !strcmp(bpf_map_type_str(t), name))
			return (int)t;
	return -EINVAL;
}

/* /sys/devices/system/cpu/possible is a list of ranges: "0-3", "0,2-5". */
static int count_cpu_list(const char *s)
{
	int count = 0;

	while (*s && *s != '\n') {
		char *end;
		long lo = strtol(s, &end, 10), hi = lo;

		if (end == s || lo < 0)
			return -EINVAL;
		if (*end == '-') {
			s = end + 1;
			hi = strtol(s, &end, 10);
			if (end == s || hi < lo)
				return -EINVAL;
		}
		count += (int)(hi - lo + 1);
		s = end;
		if (*s == ',')
			s++;
	}
	return count ? count : -EINVAL;
}

int sluice_num_possible_cpus(void)
{
	static int cached;
	int n = __atomic_load_n(&cached, __ATOMIC_RELAXED);
	char buf[256];
	ssize_t len;
	int fd;

	if (n > 0)
		return n;
	fd = open("/sys/devices/system/cpu/possible", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return -EINVAL;
	buf[len] = 0;
	n = count_cpu_list(buf);
	if (n > 0)
		__atomic_store_n(&cached, n, __ATOMIC_RELAXED);
	return n;
}

/* ---- values ------------------------------------------------------------ */

void sluice_spin_lock(void *lock)
{
	uint32_t *word = lock;
	unsigned spins = 0;

	for (;;) {
		uint32_t unlocked = 0;

		if (__atomic_compare_exchange_n(word, &unlocked, 1, false, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return;
		lock_backoff(&spins);
	}
}

void sluice_spin_unlock(void *lock)
{
	__atomic_store_n((uint32_t *)lock, 0, __ATOMIC_RELEASE);
}

/* Copy around the 4-byte lock at off, under it with BPF_F_LOCK. */
static void copy_around_lock(const struct sluice_map *map, uint8_t *dst, const uint8_t *src,
			     uint8_t *lock, uint64_t flags)
{
	uint32_t off = map->spin_lock_off, rest = off + 4;

	if (flags & BPF_F_LOCK)
		sluice_spin_lock(lock);
	memcpy(dst, src, off);
	memcpy(dst + rest, src + rest, map->value_size - rest);
	if (flags & BPF_F_LOCK)
		sluice_spin_unlock(lock);
}

void map_value_store(const struct sluice_map *map, void *dst, const void *src,
		     uint64_t flags)
{
	if (map->spin_lock_off == MAP_NO_SPIN_LOCK)
		memcpy(dst, src, map->value_size);
	else
		copy_around_lock(map, dst, src, (uint8_t *)dst + map->spin_lock_off, flags);
}

void map_value_load(const struct sluice_map *map, void *dst, const void *src,
		    uint64_t flags)
{
	if (map->spin_lock_off == MAP_NO_SPIN_LOCK) {
		memcpy(dst, src, map->value_size);
		return;
	}
	copy_around_lock(map, dst, src, (uint8_t *)src + map->spin_lock_off, flags);
	memset((uint8_t *)dst + map->spin_lock_off, 0, 4);
}

/* ---- BPF_MAP_CREATE ---------------------------------------------------- */

/* The kernel's bpf_obj_name_cpy: [A-Za-z0-9_.], shorter than 16 bytes. */
static int copy_name(char *dst, const char *name, struct sluice_error *err)
{
	size_t n = strlen(name);

	if (n >= BPF_OBJ_NAME_LEN_MAX)
		return sluice_fail(err, EINVAL, "map name '%s' is longer than %d characters",
				   name, BPF_OBJ_NAME_LEN_MAX - 1);
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '_' && name[i] != '.')
			return sluice_fail(err, EINVAL,
					   "map name '%s': only letters, digits, '_' and '.'",
					   name);
	memcpy(dst, name, n + 1);
	return 0;
}

/* A field of attr, or zero when the caller's struct is too old to have it. */
#define ATTR(a, field)                                                          \
	(offsetof(struct sluice_map_attr, field) + sizeof((a)->field) <= (a)->sz ? \
		 (a)->field : 0)

static int check_spin_lock(struct map_hdr *h, uint32_t off, struct sluice_error *err)
{
	/* map_check_btf: only these may hold a bpf_spin_lock */
	if (h->type != BPF_MAP_TYPE_HASH && h->type != BPF_MAP_TYPE_ARRAY)
		return sluice_fail(err, EOPNOTSUPP, "%s maps cannot hold a bpf_spin_lock",
				   sluice_map_type_name(h->type));
	if (off % 4 || (uint64_t)off + 4 > h->value_size)
		return sluice_fail(err, EINVAL,
				   "bpf_spin_lock at offset %u: not 4-aligned inside the %u-byte value",
				   off, h->value_size);
	h->spin_lock_off = off;
	return 0;
}

struct sluice_map *sluice_map_create(const struct sluice_map_attr *attr,
				     struct sluice_error *err)
{
	struct map_layout layout = { 0 };
	struct map_hdr h = { 0 };
	const struct map_ops *ops;
	struct sluice_map *map;
	const char *name;
	int ncpus;

	if (!attr || attr->sz < offsetof(struct sluice_map_attr, name)) {
		sluice_fail(err, EINVAL, "sluice_map_create: attr.sz must be sizeof(attr)");
		return NULL;
	}
	ops = map_type_ops(attr->type);
	if (!ops) {
		sluice_fail(err, EINVAL, "unknown map type %u", attr->type);
		return NULL;
	}
	name = ATTR(attr, name);
	if (name && copy_name(h.name, name, err))
		return NULL;
	if ((attr->map_flags & BPF_F_RDONLY) && (attr->map_flags & BPF_F_WRONLY)) {
		sluice_fail(err, EINVAL, "BPF_F_RDONLY and BPF_F_WRONLY together");
		return NULL;
	}
	ncpus = sluice_num_possible_cpus();
	if (ncpus < 0) {
		sluice_fail(err, -ncpus, "cannot read /sys/devices/system/cpu/possible");
		return NULL;
	}
	h.type = attr->type;
	h.key_size = attr->key_size;
	h.value_size = attr->value_size;
	h.max_entries = attr->max_entries;
	h.map_flags = attr->map_flags;
	h.ncpus = (uint32_t)ncpus;
	h.spin_lock_off = MAP_NO_SPIN_LOCK;
	if (ops->alloc_check(&h, err))
		return NULL;
	/* bpf_map_flags_retain_permanent: these belong to the file descriptor */
	h.fd_flags = h.map_flags & (BPF_F_RDONLY | BPF_F_WRONLY);
	h.map_flags &= ~(uint32_t)(BPF_F_RDONLY | BPF_F_WRONLY);
	if (ops->release_inner && map_meta_init(&h, ATTR(attr, inner_map), err))
		return NULL;
	if (ATTR(attr, spin_lock) && check_spin_lock(&h, attr->spin_lock_off, err))
		return NULL;
	ops->layout(&h, &layout);
	map = shm_create(&h, &layout, ATTR(attr, pinned), err);
	if (!map)
		return NULL;
	if (ops->init)
		ops->init(map);
	/* openers in other processes wait for this */
	__atomic_store_n(&map->hdr->ready, 1, __ATOMIC_RELEASE);
	return map;
}

struct sluice_map *sluice_map_open(uint32_t id, struct sluice_error *err)
{
	return shm_open_id(id, err);
}

void sluice_map_close(struct sluice_map *map)
{
	if (map)
		shm_close(map);
}

void map_handle_init(struct sluice_map *map)
{
	const struct map_hdr *h = map->hdr;

	map->state = map->base + MAP_STATE_OFF;
	map->ops = map_type_ops(h->type);
	map->type = h->type;
	map->key_size = h->key_size;
	map->value_size = h->value_size;
	map->value_stride = (uint32_t)round_up8(h->value_size);
	map->max_entries = h->max_entries;
	map->map_flags = h->map_flags;
	map->fd_flags = h->fd_flags;
	map->ncpus = h->ncpus;
	map->spin_lock_off = h->spin_lock_off;
	map->lookup = map->ops->pick_lookup ? map->ops->pick_lookup(map) : NULL;
}

void sluice_map_get_info(const struct sluice_map *map, struct sluice_map_info *info)
{
	const struct map_hdr *h = map->hdr;

	memset(info, 0, sizeof(*info));
	info->id = h->id;
	info->type = h->type;
	info->key_size = h->key_size;
	info->value_size = h->value_size;
	info->max_entries = h->max_entries;
	info->map_flags = h->map_flags;
	memcpy(info->name, h->name, sizeof(info->name));
	info->owner_pid = h->owner_pid;
	info->frozen = __atomic_load_n(&h->frozen, __ATOMIC_ACQUIRE);
	info->entries = map->ops->count ? map->ops->count(map) : 0;
}

size_t sluice_map_value_size(const struct sluice_map *map)
{
	return map->ops->percpu ? (size_t)map->ncpus * map->value_stride : map->value_size;
}

/* ---- the bpf(2) side ----------------------------------------------------- */

static int not_supported(const struct sluice_map *map, const char *what,
			 struct sluice_error *err)
{
	return sluice_fail(err, SLUICE_ENOTSUPP, "%s maps do not support %s",
			   sluice_map_type_name(map->type), what);
}

/* map_get_sys_perms: BPF_F_RDONLY/WRONLY at create, and BPF_MAP_FREEZE. */
static int check_perm(const struct sluice_map *map, bool read, bool write,
		      struct sluice_error *err)
{
	if (read && (map->fd_flags & BPF_F_WRONLY))
		return sluice_fail(err, EPERM, "the map was created write-only (BPF_F_WRONLY)");
	if (write && (map->fd_flags & BPF_F_RDONLY))
		return sluice_fail(err, EPERM, "the map was created read-only (BPF_F_RDONLY)");
	if (write && __atomic_load_n(&map->hdr->frozen, __ATOMIC_ACQUIRE))
		return sluice_fail(err, EPERM, "the map is frozen");
	return 0;
}

static int check_lock_flag(const struct sluice_map *map, uint64_t flags,
			   struct sluice_error *err)
{
	if ((flags & BPF_F_LOCK) && map->spin_lock_off == MAP_NO_SPIN_LOCK)
		return sluice_fail(err, EINVAL, "BPF_F_LOCK on a map whose value has no bpf_spin_lock");
	return 0;
}

/*
 * The kernel copies the key in (__bpf_copy_key) and the value out: a key
 * for a keyless map is EINVAL, a missing key or value buffer EFAULT.
 */
static int check_buffers(const struct sluice_map *map, const void *key, bool need_key,
			 const void *out, size_t out_len, struct sluice_error *err)
{
	if (key && !map->key_size)
		return sluice_fail(err, EINVAL, "%s maps have no keys: the key must be NULL",
				   sluice_map_type_name(map->type));
	if (need_key && !key && map->key_size)
		return sluice_fail(err, EFAULT, "the key is NULL");
	if (!out && out_len)
		return sluice_fail(err, EFAULT, "the value is NULL");
	return 0;
}

int sluice_map_lookup(struct sluice_map *map, const void *key, void *value,
		      uint64_t flags, struct sluice_error *err)
{
	int ret;

	if (flags & ~(uint64_t)BPF_F_LOCK)
		return sluice_fail(err, EINVAL, "lookup takes no flag but BPF_F_LOCK");
	if ((ret = check_perm(map, true, false, err)) || (ret = check_lock_flag(map, flags, err)) ||
	    (ret = check_buffers(map, key, true, value, sluice_map_value_size(map), err)))
		return ret;
	if (map->ops->peek)
		return (int)map->ops->peek(map, value, err);
	if (!map->ops->lookup)
		return not_supported(map, "lookup", err);
	return map->ops->lookup(map, key, value, flags, err);
}

int sluice_map_update(struct sluice_map *map, const void *key, const void *value,
		      uint64_t flags, struct sluice_error *err)
{
	int ret;

	if ((ret = check_perm(map, false, true, err)) || (ret = check_lock_flag(map, flags, err)) ||
	    (ret = check_buffers(map, key, true, value, sluice_map_value_size(map), err)))
		return ret;
	if (map->ops->push)
		return (int)map->ops->push(map, value, flags, err);
	if (!map->ops->update)
		return not_supported(map, "update", err);
	return map->ops->update(map, key, value, flags, err);
}

int sluice_map_delete(struct sluice_map *map, const void *key, struct sluice_error *err)
{
	int ret;

	if ((ret = check_perm(map, false, true, err)) ||
	    (ret = check_buffers(map, key, true, NULL, 0, err)))
		return ret;
	if (!map->ops->delete)
		return not_supported(map, "delete", err);
	return map->ops->delete(map, key, err);
}

int sluice_map_get_next_key(struct sluice_map *map, const void *key, void *next_key,
			    struct sluice_error *err)
{
	int ret;

	if ((ret = check_perm(map, true, false, err)) ||
	    (ret = check_buffers(map, key, false, next_key, map->key_size, err)))
		return ret;
	if (!map->ops->get_next_key)
		return not_supported(map, "get_next_key", err);
	return map->ops->get_next_key(map, key, next_key, err);
}

int sluice_map_lookup_and_delete(struct sluice_map *map, const void *key, void *value,
				 uint64_t flags, struct sluice_error *err)
{
	int ret;

	if (flags & ~(uint64_t)BPF_F_LOCK)
		return sluice_fail(err, EINVAL, "lookup_and_delete takes no flag but BPF_F_LOCK");
	if ((ret = check_perm(map, true, true, err)))
		return ret;
	if (flags && map->ops->pop)
		return sluice_fail(err, EINVAL, "pop takes no flags");
	if ((ret = check_lock_flag(map, flags, err)) ||
	    (ret = check_buffers(map, key, true, value, sluice_map_value_size(map), err)))
		return ret;
	if (map->ops->pop)
		return (int)map->ops->pop(map, value, err);
	if (!map->ops->lookup_and_delete)
		return not_supported(map, "lookup_and_delete", err);
	return map->ops->lookup_and_delete(map, key, value, flags, err);
}

int sluice_map_freeze(struct sluice_map *map, struct sluice_error *err)
{
	int ret;

	/* the kernel refuses maps with special fields in their values */
	if (map->spin_lock_off != MAP_NO_SPIN_LOCK)
		return not_supported(map, "freeze with a bpf_spin_lock in the value", err);
	if ((ret = check_perm(map, false, true, err)))
		return ret;
	__atomic_store_n(&map->hdr->frozen, 1, __ATOMIC_RELEASE);
	return 0;
}

/* ---- the program side ---------------------------------------------------- */

void *sluice_map_elem_lookup(struct sluice_map *map, const void *key, unsigned cpu)
{
	return map->ops->elem_lookup ? map->ops->elem_lookup(map, key, cpu) : NULL;
}

long sluice_map_elem_update(struct sluice_map *map, const void *key, const void *value,
			    uint64_t flags, unsigned cpu)
{
	return map->ops->elem_update ? map->ops->elem_update(map, key, value, flags, cpu)
				     : -EINVAL;
}

long sluice_map_elem_delete(struct sluice_map *map, const void *key)
{
	return map->ops->delete ? map->ops->delete(map, key, NULL) : -EINVAL;
}

long sluice_map_push(struct sluice_map *map, const void *value, uint64_t flags)
{
	return map->ops->push ? map->ops->push(map, value, flags, NULL) : -EINVAL;
}

long sluice_map_pop(struct sluice_map *map, void *value)
{
	return map->ops->pop ? map->ops->pop(map, value, NULL) : -EINVAL;
}

long sluice_map_peek(struct sluice_map *map, void *value)
{
	return map->ops->peek ? map->ops->peek(map, value, NULL) : -EINVAL;
}

long sluice_map_for_each(struct sluice_map *map, sluice_map_elem_fn fn, void *ctx,
			 uint64_t flags, unsigned cpu)
{
	if (flags || !map->ops->for_each || cpu >= map->ncpus)
		return -EINVAL;
	return map->ops->for_each(map, fn, ctx, cpu);
}
