/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_MAPS_MAP_H
#define SLUICE_MAPS_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/bpf.h>

#include <sluice/maps.h>

/*
 * What every map family shares: the file a map lives in, the handle a
 * process has on it, and the ops table each family fills (the kernel's
 * struct bpf_map_ops).  map_types.h lists the types and their tables.
 *
 * A map's file:
 *
 *   0                MAP_STATE_OFF                            size
 *   | struct map_hdr | the family's state (buckets, pools, ...) |
 *
 * All positions inside are offsets from the start of the file: each process
 * maps it at its own address.
 */

#define MAP_PAGE 4096u
#define MAP_STATE_OFF MAP_PAGE /* keeps a family's pages page-aligned (ring buffer) */
#define MAP_MAGIC 0x50414d4543495553ull /* "SUICEMAP" */
#define MAP_VERSION 2 /* 2: hash maps place keys by htab_hash, no longer jhash */
#define MAP_NO_SPIN_LOCK UINT32_MAX

/* The kernel's limits that map creation checks against. */
#define KMALLOC_MAX_SIZE (4u << 20)    /* 1 << (PAGE_SHIFT + MAX_PAGE_ORDER) */
#define PCPU_MIN_UNIT_SIZE (32u << 10) /* largest per-CPU value */
#define BPF_OBJ_NAME_LEN_MAX 16

/* What a map-in-map's inner maps must agree on (bpf_map_meta_equal). */
struct map_meta {
	uint32_t type;
	uint32_t key_size;
	uint32_t value_size;
	uint32_t max_entries;
	uint32_t map_flags;
	uint32_t spin_lock_off;
};

struct map_hdr {
	uint64_t magic;
	uint32_t version;
	uint32_t ready;        /* set last when created: the rest is valid */
	uint64_t size;         /* bytes of the file */
	uint64_t mirror;       /* bytes at the end mapped a second time after it */
	uint32_t id;
	uint32_t type;
	uint32_t key_size;
	uint32_t value_size;
	uint32_t max_entries;
	uint32_t map_flags;    /* as the kernel keeps them: no BPF_F_RDONLY/WRONLY */
	uint32_t ncpus;        /* possible CPUs: per-CPU values per element */
	uint32_t spin_lock_off;
	int32_t owner_pid;     /* 0: pinned */
	uint32_t frozen;
	uint32_t fd_flags;     /* BPF_F_RDONLY/WRONLY: per fd in the kernel, per map here */
	uint32_t pad;
	uint64_t owner_start;  /* the owner's start time, so a reused pid is not it */
	uint32_t refs;         /* outer-map slots holding this map */
	uint32_t closed;       /* the owner closed it, or it was unpinned */
	struct map_meta inner; /* array and hash of maps */
	char name[BPF_OBJ_NAME_LEN_MAX];
};

/*
 * A program's lookup in a map whose answer does not depend on the CPU (any
 * map but the per-CPU ones): the value for key, or NULL.
 */
typedef void *(*map_lookup_fn)(struct sluice_map *map, const void *key);

/* One process's handle.  The fields after `ops` copy the header's constants. */
struct sluice_map {
	uint8_t *base;         /* the file, mapped */
	struct map_hdr *hdr;   /* == base */
	void *state;           /* base + MAP_STATE_OFF */
	const struct map_ops *ops;
	uint32_t type;
	uint32_t key_size;
	uint32_t value_size;
	uint32_t value_stride; /* value_size rounded up to 8 */
	uint32_t max_entries;
	uint32_t map_flags;
	uint32_t fd_flags;
	uint32_t ncpus;
	uint32_t spin_lock_off;
	/* the family's lookup for this map (its key size), which a JIT calls
	 * directly; NULL when the family has none (ops->pick_lookup) */
	map_lookup_fn lookup;
	int fd;                /* kept to grow pools (map_reserve) */
	size_t mapped;         /* bytes mapped: size + mirror */
	bool creator;
	uint32_t wake_seen;    /* ring buffer: the last wakeup this handle consumed */
	char path[272];   /* /dev/shm/ and a file name */
};

/* What a family asks of the file. */
struct map_layout {
	uint64_t state;   /* bytes of state after the header */
	uint64_t fixed;   /* of those, bytes allocated at create (the rest on demand) */
	uint64_t mirror;  /* bytes at the end to map twice in a row */
};

/*
 * The ops of a map family.  The bpf(2)-side calls get what the generic layer
 * already checked (permissions, BPF_F_LOCK on a map with no lock); they
 * fill err.  A NULL entry means the kernel's answer for a type without it.
 */
struct map_ops {
	bool percpu; /* bpf(2)-side values hold one value per possible CPU */
	/* BPF_MAP_CREATE: the type's checks (map_alloc_check); may adjust h */
	int (*alloc_check)(struct map_hdr *h, struct sluice_error *err);
	void (*layout)(const struct map_hdr *h, struct map_layout *l);
	/* a fresh, zero-filled state (NULL: zeroes are right) */
	void (*init)(struct sluice_map *map);

	int (*lookup)(struct sluice_map *map, const void *key, void *value,
		      uint64_t flags, struct sluice_error *err);
	int (*update)(struct sluice_map *map, const void *key, const void *value,
		      uint64_t flags, struct sluice_error *err);
	int (*delete)(struct sluice_map *map, const void *key, struct sluice_error *err);
	int (*get_next_key)(struct sluice_map *map, const void *key, void *next_key,
			    struct sluice_error *err);
	int (*lookup_and_delete)(struct sluice_map *map, const void *key, void *value,
				 uint64_t flags, struct sluice_error *err);

	/* the program side; elem_delete is `delete` with no message */
	void *(*elem_lookup)(struct sluice_map *map, const void *key, unsigned cpu);
	/* elem_lookup on any CPU, chosen for the map (NULL: none, as per-CPU maps) */
	map_lookup_fn (*pick_lookup)(const struct sluice_map *map);
	long (*elem_update)(struct sluice_map *map, const void *key, const void *value,
			    uint64_t flags, unsigned cpu);
	/* keyless maps (queue, stack): bpf(2) update/lookup/lookup_and_delete too */
	long (*push)(struct sluice_map *map, const void *value, uint64_t flags,
		     struct sluice_error *err);
	long (*pop)(struct sluice_map *map, void *value, struct sluice_error *err);
	long (*peek)(struct sluice_map *map, void *value, struct sluice_error *err);
	long (*for_each)(struct sluice_map *map, sluice_map_elem_fn fn, void *ctx,
			 unsigned cpu);

	/* may `inner` go where this template says (map_meta_equal)? */
	bool (*meta_equal)(const struct map_meta *tmpl, const struct map_hdr *inner);
	/* outer maps: drop the hold on every inner map (the map is going) */
	void (*release_inner)(struct sluice_map *map);
	/* elements present, for sluice_map_get_info */
	uint32_t (*count)(const struct sluice_map *map);
};

/* The table of a type, NULL if Sluice does not have it. */
const struct map_ops *map_type_ops(uint32_t type);

static inline uint64_t round_up8(uint64_t n)
{
	return (n + 7) & ~(uint64_t)7;
}

static inline uint64_t round_up_page(uint64_t n)
{
	return (n + MAP_PAGE - 1) & ~(uint64_t)(MAP_PAGE - 1);
}

static inline uint64_t roundup_pow_of_two(uint64_t n)
{
	uint64_t p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

/* The kernel's bpf_map_flags_access_ok: not both RDONLY_PROG and WRONLY_PROG. */
static inline bool map_flags_access_ok(uint32_t flags)
{
	return (flags & (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG)) !=
	       (BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG);
}

#define BPF_F_ACCESS_MASK (BPF_F_RDONLY | BPF_F_RDONLY_PROG | BPF_F_WRONLY | BPF_F_WRONLY_PROG)

/*
 * Values in and out of the map as the kernel's copy_map_value and
 * check_and_init_map_value do: a bpf_spin_lock inside stays the map's own
 * and reads as zero outside.  With BPF_F_LOCK the copy holds that lock.
 */
void map_value_store(const struct sluice_map *map, void *dst, const void *src,
		     uint64_t flags);
void map_value_load(const struct sluice_map *map, void *dst, const void *src,
		    uint64_t flags);

/*
 * A fixed-capacity pool of equal elements in the file, with a free list.
 * An element's first 4 bytes are the pool's while it is free.  Elements
 * past `used` were never handed out; for maps created BPF_F_NO_PREALLOC
 * memory behind them is allocated chunk by chunk as `used` grows.
 */
struct map_pool {
	uint32_t lock;
	uint32_t free;      /* index + 1 of the first free element, 0: none */
	uint32_t used;
	uint32_t reserved;  /* elements with memory behind them */
	uint32_t capacity;
	uint32_t elem_size; /* a multiple of 8 */
	uint64_t off;       /* element 0, from the start of the file */
};

#define POOL_NONE UINT32_MAX

/* Set up a pool whose first `reserved` elements already have memory. */
void pool_init(struct map_pool *pool, uint64_t off, uint32_t capacity,
	       uint32_t elem_size, uint32_t reserved);
/* An element's index; POOL_NONE when the pool is full or memory ran out (errno_out). */
uint32_t pool_alloc(struct sluice_map *map, struct map_pool *pool, int *errno_out);
void pool_free(struct sluice_map *map, struct map_pool *pool, uint32_t idx);

static inline void *pool_elem(const struct sluice_map *map, const struct map_pool *pool,
			      uint32_t idx)
{
	return map->base + pool->off + (uint64_t)idx * pool->elem_size;
}

/*
 * Where a program's lookups in an array map (BPF_MAP_TYPE_ARRAY) find
 * their values: index i's at the result + i * value_stride, for i below
 * max_entries, as the kernel's array_map_gen_lookup computes them inline.
 * NULL for any other type.
 */
uint8_t *array_values(const struct sluice_map *map);

/* fd_array_map_alloc_check (arraymap.c): 4-byte values, no *_PROG access flags. */
int fd_array_alloc_check(struct map_hdr *h, struct sluice_error *err);
/* array_map_get_next_key (arraymap.c): indexes in order. */
int array_get_next_key(struct sluice_map *map, const void *key, void *next_key,
		       struct sluice_error *err);

/* ---- map-in-map (map_in_map.c) ---------------------------------------- */

/* The kernel's bpf_map_meta_equal: what every type's meta_equal checks. */
bool map_meta_equal(const struct map_meta *tmpl, const struct map_hdr *h);
/* Fill the template from BPF_MAP_CREATE's inner map; -EINVAL when unusable. */
int map_meta_init(struct map_hdr *h, const struct sluice_map *inner,
		  struct sluice_error *err);
/* Take a hold on the map with that id for an outer slot: checks the template. */
int map_inner_get(const struct sluice_map *outer, uint32_t id, struct sluice_error *err);
/* Drop the hold an outer slot had (0 is an empty slot). */
void map_inner_put(uint32_t id);
/* This process's handle on an inner map, kept open for programs. */
struct sluice_map *map_inner_handle(uint32_t id);
/* Whether map is one of those handles (a helper checking its argument). */
bool map_is_inner_handle(const struct sluice_map *map);
/* Whether [addr, addr + size) lies in one of them (checked runs). */
bool map_inner_handles_hold(uint64_t addr, uint64_t size);

/* ---- the file (shm.c) -------------------------------------------------- */

/* A new map's file, mapped, header filled from h; ops->init is the caller's. */
struct sluice_map *shm_create(const struct map_hdr *h, const struct map_layout *l,
			      bool pinned, struct sluice_error *err);
struct sluice_map *shm_open_id(uint32_t id, struct sluice_error *err);
void shm_close(struct sluice_map *map);
/* Allocate memory behind [off, off + len) of the file: 0 or -ENOMEM. */
int shm_reserve(struct sluice_map *map, uint64_t off, uint64_t len);
/* Remove the file of a map no one holds any more (see map_hdr.closed/refs). */
void shm_unlink_if_unheld(struct sluice_map *map);
/* Is the map's owner gone (exited, or its pid now another process)? */
bool shm_owner_gone(const struct map_hdr *h);
/* Fill the handle's copies of the header's constants. */
void map_handle_init(struct sluice_map *map);

#endif
