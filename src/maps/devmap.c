/* SPDX-License-Identifier: MIT */
/*
 * The redirect maps bpf_redirect_map sends packets through, as the
 * kernel's devmap.c, cpumap.c and xskmap.c keep them: devmap and cpumap
 * are arrays of optional entries (an ifindex, a queue size), devmap_hash a
 * hash of ifindexes by key, xskmap an array of AF_XDP sockets.
 *
 * An entry holds its value as bpf(2) reads it back: struct bpf_devmap_val
 * or struct bpf_cpumap_val, whose program half (a devmap or cpumap
 * program, by fd) Sluice does not run, so an update naming one is refused.
 * Sluice has no AF_XDP sockets: an xskmap stays empty.
 */
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/stat.h>

#include "errmsg.h"
#include "lock.h"
#include "map.h"

#define DEV_CREATE_FLAG_MASK (BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY)
/* the sanity limit cpu_map_update_elem puts on a queue */
#define CPUMAP_QSIZE_MAX 16384u

/* One entry: its value, 8 bytes, is what the program side's lookup points at. */
struct dev_entry {
	uint32_t value[2];  /* ifindex or qsize, then the program's fd (as given) or id */
	uint32_t present;
	uint32_t key;       /* devmap_hash */
	uint64_t seq;       /* devmap_hash: newest first within a bucket */
};

struct dev_state {
	uint32_t lock;
	uint32_t items;     /* devmap_hash */
	uint64_t seq;
	struct dev_entry entries[];
};

static struct dev_state *dev_state(const struct sluice_map *map)
{
	return map->state;
}

static uint32_t read_u32(const void *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* dev_map_alloc_check, cpu_map_alloc, xsk_map_alloc */
static int dev_alloc_check(struct map_hdr *h, struct sluice_error *err)
{
	const char *type = sluice_map_type_name(h->type);
	bool two_sizes = h->type != BPF_MAP_TYPE_XSKMAP;
	uint32_t mask = h->type == BPF_MAP_TYPE_CPUMAP ? BPF_F_NUMA_NODE : DEV_CREATE_FLAG_MASK;

	if (h->max_entries == 0 || h->key_size != 4 ||
	    (h->value_size != 4 && !(two_sizes && h->value_size == 8)))
		return sluice_fail(err, EINVAL, "%s maps need key_size 4, value_size %s and "
				   "max_entries above 0", type, two_sizes ? "4 or 8" : "4");
	if (h->map_flags & ~mask)
		return sluice_fail(err, EINVAL, "flags 0x%x are not for %s maps", h->map_flags, type);
	return 0;
}

static void dev_layout(const struct map_hdr *h, struct map_layout *l)
{
	l->state = sizeof(struct dev_state) + (uint64_t)h->max_entries * sizeof(struct dev_entry);
	l->fixed = l->state;
}

/*
 * An xskmap takes AF_XDP sockets by fd, which Sluice cannot hold:
 * sockfd_lookup's errno, else -EOPNOTSUPP.
 */
static int xsk_refusal(int fd, struct sluice_error *err)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return sluice_fail(err, EBADF, "fd %d is not open", fd);
	if (!S_ISSOCK(st.st_mode))
		return sluice_fail(err, ENOTSOCK, "fd %d is not a socket", fd);
	return sluice_fail(err, EOPNOTSUPP, "fd %d: AF_XDP sockets do not go into Sluice maps", fd);
}

/* What an update stores, or the kernel's refusal of the value. */
static int dev_value(const struct sluice_map *map, const void *value, uint32_t out[2],
		     struct sluice_error *err)
{
	char name[IF_NAMESIZE];

	out[0] = out[1] = 0;
	memcpy(out, value, map->value_size);
	if (map->type == BPF_MAP_TYPE_XSKMAP)
		return xsk_refusal((int)out[0], err);
	if ((int32_t)out[1] > 0)
		return sluice_fail(err, EOPNOTSUPP, "%s programs (fd %d) do not run in Sluice",
				   map->type == BPF_MAP_TYPE_CPUMAP ? "cpumap" : "devmap",
				   (int32_t)out[1]);
	/* the value reads back with the program's id, none */
	out[1] = 0;
	if (map->type == BPF_MAP_TYPE_CPUMAP) {
		if (out[0] > CPUMAP_QSIZE_MAX)
			return sluice_fail(err, EOVERFLOW, "qsize %u is above %u", out[0],
					   CPUMAP_QSIZE_MAX);
		return 0;
	}
	if (out[0] && !if_indextoname(out[0], name))
		return sluice_fail(err, EINVAL, "ifindex %u: no such device", out[0]);
	return 0;
}

/* ---- devmap, cpumap, xskmap: arrays of optional entries --------------------- */

static int slot_update(struct sluice_map *map, const void *key, const void *value,
		       uint64_t flags, struct sluice_error *err)
{
	struct dev_state *s = dev_state(map);
	uint32_t index = read_u32(key), v[2];
	int ret;

	if (flags > BPF_EXIST)
		return sluice_fail(err, EINVAL, "unknown update flags 0x%llx",
				   (unsigned long long)flags);
	if (index >= map->max_entries)
		return sluice_fail(err, E2BIG, "index %u is past the end (max_entries %u)", index,
				   map->max_entries);
	/* an xskmap looks at the socket first */
	if (flags == BPF_NOEXIST && map->type != BPF_MAP_TYPE_XSKMAP)
		return sluice_fail(err, EEXIST, "%s slots always exist (BPF_NOEXIST)",
				   sluice_map_type_name(map->type));
	ret = dev_value(map, value, v, err);
	if (ret < 0)
		return ret;
	if (map->type == BPF_MAP_TYPE_CPUMAP && index >= (uint32_t)sluice_num_possible_cpus())
		return sluice_fail(err, ENODEV, "CPU %u is not possible", index);
	seq_lock(&s->lock);
	memcpy(s->entries[index].value, v, sizeof(v));
	/* ifindex 0 or qsize 0 empties the slot */
	s->entries[index].present = v[0] != 0;
	seq_unlock(&s->lock);
	return 0;
}

static int slot_lookup(struct sluice_map *map, const void *key, void *value, uint64_t flags,
		       struct sluice_error *err)
{
	struct dev_state *s = dev_state(map);
	uint32_t index = read_u32(key);
	bool present = false;
	uint32_t seq;

	(void)flags;
	if (map->type == BPF_MAP_TYPE_XSKMAP)
		return sluice_fail(err, EOPNOTSUPP, "xskmap elements cannot be read from user space");
	if (index >= map->max_entries)
		return sluice_fail(err, ENOENT, "index %u is past the end", index);
	do {
		seq = seq_read_begin(&s->lock);
		present = s->entries[index].present;
		if (present)
			memcpy(value, s->entries[index].value, map->value_size);
	} while (seq_read_retry(&s->lock, seq));
	return present ? 0 : sluice_fail(err, ENOENT, "slot %u is empty", index);
}

static int slot_delete(struct sluice_map *map, const void *key, struct sluice_error *err)
{
	struct dev_state *s = dev_state(map);
	uint32_t index = read_u32(key);

	if (index >= map->max_entries)
		return sluice_fail(err, EINVAL, "index %u is past the end", index);
	seq_lock(&s->lock);
	s->entries[index].present = 0;
	seq_unlock(&s->lock);
	return 0;
}

static void *slot_elem_lookup(struct sluice_map *map, const void *key, unsigned cpu)
{
	struct dev_state *s = dev_state(map);
	uint32_t index = read_u32(key);

	(void)cpu;
	if (index >= map->max_entries || !__atomic_load_n(&s->entries[index].present,
							  __ATOMIC_ACQUIRE))
		return NULL;
	return s->entries[index].value;
}

static uint32_t slot_count(const struct sluice_map *map)
{
	const struct dev_state *s = dev_state(map);
	uint32_t n = 0;

	for (uint32_t i = 0; i < map->max_entries; i++)
		n += s->entries[i].present != 0;
	return n;
}

/* ---- devmap_hash --------------------------------------------------------------- */

/* The kernel's bucket: the key's low bits, n_buckets a power of 2. */
static uint32_t bucket_of(const struct sluice_map *map, uint32_t key)
{
	return key & (uint32_t)(roundup_pow_of_two(map->max_entries) - 1);
}

static struct dev_entry *hash_find(const struct sluice_map *map, uint32_t key)
{
	struct dev_state *s = dev_state(map);

	for (uint32_t i = 0; i < map->max_entries; i++)
		if (s->entries[i].present && s->entries[i].key == key)
			return &s->entries[i];
	return NULL;
}

static int hash_update(struct sluice_map *map, const void *key, const void *value,
		       uint64_t flags, struct sluice_error *err)
{
	struct dev_state *s = dev_state(map);
	uint32_t k = read_u32(key), v[2];
	struct dev_entry *e;
	int ret;

	if (flags > BPF_EXIST)
		return sluice_fail(err, EINVAL, "unknown update flags 0x%llx",
				   (unsigned long long)flags);
	/* checked before the key is looked for: it comes before BPF_NOEXIST's -EEXIST */
	if (!read_u32(value))
		return sluice_fail(err, EINVAL, "ifindex 0 in a devmap_hash");
	seq_lock(&s->lock);
	e = hash_find(map, k);
	if (e && (flags & BPF_NOEXIST)) {
		ret = sluice_fail(err, EEXIST, "key %u exists (BPF_NOEXIST)", k);
		goto out;
	}
	ret = dev_value(map, value, v, err);
	if (ret < 0)
		goto out;
	if (!e) {
		if (s->items >= map->max_entries) {
			ret = sluice_fail(err, E2BIG, "the map is full (%u entries)", s->items);
			goto out;
		}
		for (uint32_t i = 0; !e; i++)
			if (!s->entries[i].present)
				e = &s->entries[i];
		s->items++;
	}
	e->key = k;
	memcpy(e->value, v, sizeof(v));
	/* a replaced entry goes back to its bucket's head, as hlist_add_head */
	e->seq = ++s->seq;
	e->present = 1;
out:
	seq_unlock(&s->lock);
	return ret;
}

static int hash_lookup(struct sluice_map *map, const void *key, void *value, uint64_t flags,
		       struct sluice_error *err)
{
	struct dev_state *s = dev_state(map);
	const struct dev_entry *e;
	uint32_t seq;
	bool found;

	(void)flags;
	do {
		seq = seq_read_begin(&s->lock);
		e = hash_find(map, read_u32(key));
		found = e != NULL;
		if (found)
			memcpy(value, e->value, map->value_size);
	} while (seq_read_retry(&s->lock, seq));
	return found ? 0 : sluice_fail(err, ENOENT, "no such key");
}

static int hash_delete(struct sluice_map *map, const void *key, struct sluice_error *err)
{
	struct dev_state *s = dev_state(map);
	struct dev_entry *e;
	int ret = 0;

	seq_lock(&s->lock);
	e = hash_find(map, read_u32(key));
	if (e) {
		e->present = 0;
		s->items--;
	} else {
		ret = sluice_fail(err, ENOENT, "no such key");
	}
	seq_unlock(&s->lock);
	return ret;
}

static void *hash_elem_lookup(struct sluice_map *map, const void *key, unsigned cpu)
{
	struct dev_entry *e = hash_find(map, read_u32(key));

	(void)cpu;
	return e ? e->value : NULL;
}

/*
 * The entry after `after` in the kernel's walk: buckets in order, within a
 * bucket the newest first.  after NULL: the first.
 */
static const struct dev_entry *hash_walk_next(const struct sluice_map *map,
					      const struct dev_entry *after)
{
	const struct dev_state *s = dev_state(map);
	const struct dev_entry *best = NULL;
	uint32_t after_bucket = after ? bucket_of(map, after->key) : 0;

	for (uint32_t i = 0; i < map->max_entries; i++) {
		const struct dev_entry *e = &s->entries[i];
		uint32_t b;

		if (!e->present)
			continue;
		b = bucket_of(map, e->key);
		if (after && (b < after_bucket || (b == after_bucket && e->seq >= after->seq)))
			continue;
		if (!best || b < bucket_of(map, best->key) ||
		    (b == bucket_of(map, best->key) && e->seq > best->seq))
			best = e;
	}
	return best;
}

static int hash_get_next_key(struct sluice_map *map, const void *key, void *next_key,
			     struct sluice_error *err)
{
	struct dev_state *s = dev_state(map);
	const struct dev_entry *next;
	uint32_t seq;

	do {
		seq = seq_read_begin(&s->lock);
		/* a key that is not there starts the walk over */
		next = hash_walk_next(map, key ? hash_find(map, read_u32(key)) : NULL);
		if (next)
			memcpy(next_key, &next->key, sizeof(next->key));
	} while (seq_read_retry(&s->lock, seq));
	return next ? 0 : sluice_fail(err, ENOENT, "no key after this one");
}

static uint32_t hash_count(const struct sluice_map *map)
{
	return dev_state(map)->items;
}

#define SLOT_OPS                               \
	.alloc_check = dev_alloc_check,        \
	.layout = dev_layout,                  \
	.lookup = slot_lookup,                 \
	.update = slot_update,                 \
	.delete = slot_delete,                 \
	.get_next_key = array_get_next_key,    \
	.elem_lookup = slot_elem_lookup,       \
	.meta_equal = map_meta_equal,          \
	.count = slot_count

const struct map_ops dev_map_ops = { SLOT_OPS };
const struct map_ops cpu_map_ops = { SLOT_OPS };
const struct map_ops xsk_map_ops = { SLOT_OPS };

const struct map_ops dev_map_hash_ops = {
	.alloc_check = dev_alloc_check,
	.layout = dev_layout,
	.lookup = hash_lookup,
	.update = hash_update,
	.delete = hash_delete,
	.get_next_key = hash_get_next_key,
	.elem_lookup = hash_elem_lookup,
	.meta_equal = map_meta_equal,
	.count = hash_count,
};
