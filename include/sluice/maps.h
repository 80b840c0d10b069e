/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_MAPS_H
#define SLUICE_MAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sluice/error.h>

/*
 * BPF maps in user space, with the kernel's semantics, in shared memory.
 *
 * Types, flags and constants are the kernel's (<linux/bpf.h>): `type` is an
 * enum bpf_map_type, flags are BPF_ANY, BPF_NOEXIST, BPF_EXIST, BPF_F_LOCK,
 * BPF_F_NO_PREALLOC, BPF_RB_*, ...  Errors are the errno the kernel gives for
 * the same call, negated; a few of them are kernel-internal numbers that
 * bpf() still hands to user space (SLUICE_ENOTSUPP).
 *
 * Every map lives in one file under /dev/shm, "sluice.<pid>.<id>.<name>"
 * ("sluice.pinned.<id>.<name>" when it outlives its creator), so a control
 * plane in another process can open it by id and read or write it while a
 * program runs.  Inside, positions are offsets, never pointers; locks are
 * process-shared.
 *
 * There are two ways into a map, as in the kernel:
 *
 *  - the bpf(2) side, sluice_map_lookup() and the calls beside it, that
 *    user space uses.  Keys and values are copied in and out.  For per-CPU
 *    maps a value is sluice_map_value_size() bytes: one value per possible
 *    CPU, each rounded up to 8 bytes, as libbpf lays them out.  They return
 *    0 or -errno and fill err.
 *
 *  - the program side, sluice_map_elem_lookup() and the calls beside it,
 *    that helpers call.  A lookup returns a pointer into the map's shared
 *    value memory (the current CPU's value in a per-CPU map), as the
 *    kernel's bpf_map_lookup_elem does; updates take the CPU the program
 *    runs on.  They return what the helper returns, with no message.
 *
 * A struct sluice_map is one process's handle on a map.  Handles are safe to
 * use from several threads; closing one while another thread uses it is not.
 */
struct sluice_map;

/* The kernel's ENOTSUPP: bpf() returns it for operations a map type lacks. */
#define SLUICE_ENOTSUPP 524

struct sluice_map_attr {
	size_t sz;               /* sizeof(struct sluice_map_attr) */
	uint32_t type;           /* enum bpf_map_type */
	uint32_t key_size;
	uint32_t value_size;
	uint32_t max_entries;
	uint32_t map_flags;      /* BPF_F_* as BPF_MAP_CREATE takes them */
	const char *name;        /* up to 15 of [A-Za-z0-9_.]; NULL or "" for none */
	/* Array and hash of maps: the template every inner map must match. */
	const struct sluice_map *inner_map;
	/*
	 * The value holds a struct bpf_spin_lock at spin_lock_off (known from
	 * BTF), which BPF_F_LOCK takes.  Only hash and array maps may.
	 */
	bool spin_lock;
	uint32_t spin_lock_off;
	/* Outlive this process until sluice_map_remove(), like a pinned map. */
	bool pinned;
};

struct sluice_map *sluice_map_create(const struct sluice_map_attr *attr,
				     struct sluice_error *err);
/* Another handle on a live map, from any process (-ENOENT when none). */
struct sluice_map *sluice_map_open(uint32_t id, struct sluice_error *err);
/*
 * Drop the handle.  Closing the creator's handle ends an unpinned map: its
 * file goes as soon as no outer map holds it (other processes' handles
 * stay usable until they close).
 */
void sluice_map_close(struct sluice_map *map);

struct sluice_map_info {
	uint32_t id;
	uint32_t type;
	uint32_t key_size;
	uint32_t value_size;
	uint32_t max_entries;    /* as the kernel reports it (NO_COMMON_LRU rounds it) */
	uint32_t map_flags;
	char name[16];
	int32_t owner_pid;       /* 0 when pinned */
	bool frozen;
	uint32_t entries;        /* elements present now (arrays: max_entries) */
};

void sluice_map_get_info(const struct sluice_map *map, struct sluice_map_info *info);
/* bpftool's name for a map type ("hash", "lru_percpu_hash"), NULL if unknown. */
const char *sluice_map_type_name(uint32_t type);
/* The type with that name, or -EINVAL. */
int sluice_map_type_by_name(const char *name);

/*
 * Every live map of every process, in id order: fn gets each one's info and
 * stops the walk by returning non-zero (which sluice_map_list returns).
 * Maps whose creator died and that no outer map holds are removed on the
 * way.  Returns 0 when the walk ends.
 */
int sluice_map_list(int (*fn)(const struct sluice_map_info *info, void *ctx),
		    void *ctx, struct sluice_error *err);
/* Unpin a pinned map: it goes once no outer map holds it. */
int sluice_map_remove(uint32_t id, struct sluice_error *err);

/* Possible CPUs (/sys/devices/system/cpu/possible), as libbpf counts them. */
int sluice_num_possible_cpus(void);
/* Bytes of a value on the bpf(2) side: per-CPU maps hold one per possible CPU. */
size_t sluice_map_value_size(const struct sluice_map *map);

/* ---- the bpf(2) side ---------------------------------------------------- */

/* BPF_MAP_LOOKUP_ELEM; flags 0 or BPF_F_LOCK.  Queue and stack: peek. */
int sluice_map_lookup(struct sluice_map *map, const void *key, void *value,
		      uint64_t flags, struct sluice_error *err);
/*
 * BPF_MAP_UPDATE_ELEM.  Queue and stack: push (key NULL).  Prog arrays take
 * a program id the runtime gives, map-in-maps an inner map's id (where the
 * kernel takes file descriptors), both as a 4-byte value.
 */
int sluice_map_update(struct sluice_map *map, const void *key, const void *value,
		      uint64_t flags, struct sluice_error *err);
int sluice_map_delete(struct sluice_map *map, const void *key,
		      struct sluice_error *err);
/* key NULL: the first key.  -ENOENT after the last. */
int sluice_map_get_next_key(struct sluice_map *map, const void *key, void *next_key,
			    struct sluice_error *err);
/* BPF_MAP_LOOKUP_AND_DELETE_ELEM: hash maps, and pop for queue and stack. */
int sluice_map_lookup_and_delete(struct sluice_map *map, const void *key, void *value,
				 uint64_t flags, struct sluice_error *err);
/* BPF_MAP_FREEZE: no more writes from this side (programs still write). */
int sluice_map_freeze(struct sluice_map *map, struct sluice_error *err);

/* ---- the program side (helpers) ----------------------------------------- */

/*
 * bpf_map_lookup_elem: a pointer to the value, or NULL.  Array and hash of
 * maps return the inner map's struct sluice_map *, a handle the library
 * keeps open for the life of the process (do not close it).  `cpu` is the
 * CPU the program runs on, below sluice_num_possible_cpus(): per-CPU maps
 * give and take that CPU's value.
 */
void *sluice_map_elem_lookup(struct sluice_map *map, const void *key, unsigned cpu);
long sluice_map_elem_update(struct sluice_map *map, const void *key, const void *value,
			    uint64_t flags, unsigned cpu);
long sluice_map_elem_delete(struct sluice_map *map, const void *key);
/* bpf_map_push_elem, bpf_map_pop_elem, bpf_map_peek_elem (queue, stack). */
long sluice_map_push(struct sluice_map *map, const void *value, uint64_t flags);
long sluice_map_pop(struct sluice_map *map, void *value);
long sluice_map_peek(struct sluice_map *map, void *value);

/*
 * bpf_for_each_map_elem over array, per-CPU array and the hash maps: fn
 * gets pointers into the map, returns 0 to go on and 1 to stop.  Returns the
 * number of elements visited, or -EINVAL (flags, map type).
 */
typedef long (*sluice_map_elem_fn)(struct sluice_map *map, const void *key,
				   void *value, void *ctx);
long sluice_map_for_each(struct sluice_map *map, sluice_map_elem_fn fn, void *ctx,
			 uint64_t flags, unsigned cpu);

/* bpf_tail_call: the program id at index, 0 when the slot is empty. */
uint32_t sluice_map_prog_id(struct sluice_map *prog_array, uint32_t index);

/* struct bpf_spin_lock inside a value: bpf_spin_lock/unlock, BPF_F_LOCK. */
void sluice_spin_lock(void *lock);
void sluice_spin_unlock(void *lock);

/* ---- ring buffer -------------------------------------------------------- */

/*
 * bpf_ringbuf_reserve/submit/discard/output/query with the kernel's record
 * layout: an 8-byte header {u32 len with BPF_RINGBUF_BUSY_BIT and
 * BPF_RINGBUF_DISCARD_BIT, u32 pg_off} before each record, records 8-byte
 * aligned in a power-of-2 data area that is mapped twice in a row, so a
 * record that wraps is still contiguous.
 */
void *sluice_ringbuf_reserve(struct sluice_map *map, uint64_t size, uint64_t flags);
void sluice_ringbuf_submit(void *sample, uint64_t flags);
void sluice_ringbuf_discard(void *sample, uint64_t flags);
long sluice_ringbuf_output(struct sluice_map *map, const void *data, uint64_t size,
			   uint64_t flags);
uint64_t sluice_ringbuf_query(struct sluice_map *map, uint64_t flags);

/*
 * The consumer, as libbpf's ring_buffer__consume: fn gets each submitted
 * record in order (discarded ones are skipped); a negative return from fn
 * stops there and is returned.  Otherwise returns the records consumed.
 */
typedef int (*sluice_ringbuf_fn)(void *ctx, void *data, size_t size);
long sluice_ringbuf_consume(struct sluice_map *map, sluice_ringbuf_fn fn, void *ctx);
/*
 * Wait up to timeout_ms (0: do not wait) for a wakeup a producer sent
 * since this handle last saw one: 0, or -ETIMEDOUT.
 */
int sluice_ringbuf_wait(struct sluice_map *map, int timeout_ms);

/* ---- perf event array ----------------------------------------------------- */

/*
 * bpf_perf_event_output: flags' BPF_F_INDEX_MASK bits pick the slot
 * (BPF_F_CURRENT_CPU: cpu).  Each slot is a queue of PERF_RECORD_SAMPLE
 * records with PERF_SAMPLE_RAW data, as a perf buffer holds them; a full
 * queue drops the record, counts it lost and returns -ENOSPC.
 */
long sluice_perf_event_output(struct sluice_map *map, uint64_t flags, unsigned cpu,
			      const void *data, uint64_t size);
/* fn gets each record's raw data, slot by slot, oldest first. */
typedef int (*sluice_perf_fn)(void *ctx, unsigned slot, void *data, size_t size);
long sluice_perf_event_consume(struct sluice_map *map, sluice_perf_fn fn, void *ctx);
/* Records dropped in a slot so far. */
uint64_t sluice_perf_event_lost(struct sluice_map *map, unsigned slot);

/* ---- stack traces -------------------------------------------------------------- */

/*
 * bpf_get_stackid on a stack the runtime gives (innermost first): the id
 * the stack is stored under, or -EEXIST, -EFAULT, -EINVAL as the kernel.
 */
long sluice_stackmap_get_stackid(struct sluice_map *map, const uint64_t *ips,
				 uint32_t nr, uint64_t flags);

#endif
