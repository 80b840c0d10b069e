/* SPDX-License-Identifier: MIT */
/*
 * Ring buffers, as the kernel's ringbuf.c: producers reserve a record,
 * fill it and submit or discard it; one consumer reads submitted records in
 * order.  The layout is the kernel's:
 *
 *   state + 0            consumer_pos (the consumer's page)
 *   state + MAP_PAGE     producer_pos, pending_pos, ... (the producers' page)
 *   state + 2 MAP_PAGE   data: max_entries bytes, a power of 2, mapped twice
 *                        in a row so that a record that wraps is contiguous
 *
 * and each record is an 8-byte header {u32 len, u32 pg_off} then the data,
 * 8-byte aligned.  While reserved, len has BPF_RINGBUF_BUSY_BIT; a
 * discarded record keeps BPF_RINGBUF_DISCARD_BIT and the consumer skips
 * it.  pg_off is the header's page within the map's file, so submit and
 * discard find the ring from the record alone, as the kernel's do.
 *
 * A wakeup (the kernel's irq_work that wakes epoll) bumps a futex word
 * that sluice_ringbuf_wait sleeps on, from any process.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "errmsg.h"
#include "lock.h"
#include "map.h"

#define RINGBUF_CREATE_FLAG_MASK BPF_F_NUMA_NODE
#define RINGBUF_MAX_RECORD_SZ (UINT_MAX / 4)

struct rb_producer {
	uint64_t producer_pos;
	uint64_t pending_pos; /* the oldest record that may still be busy */
	uint64_t mask;        /* data size - 1 */
	uint32_t lock;        /* seq_lock, used as a plain lock by producers */
	uint32_t wakeups;     /* futex word: one more per wakeup */
	uint32_t waiters;     /* consumers asleep on it */
};

struct rb_hdr {
	uint32_t len;
	uint32_t pg_off;
};

static uint64_t *consumer_pos(uint8_t *state)
{
	return (uint64_t *)state;
}

static struct rb_producer *producer(uint8_t *state)
{
	return (struct rb_producer *)(state + MAP_PAGE);
}

static uint8_t *rb_data(uint8_t *state)
{
	return state + 2 * MAP_PAGE;
}

static uint32_t record_size(uint32_t len)
{
	return (uint32_t)round_up8((len & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT)) +
				   BPF_RINGBUF_HDR_SZ);
}

static int rb_alloc_check(struct map_hdr *h, struct sluice_error *err)
{
	if (h->map_flags & ~RINGBUF_CREATE_FLAG_MASK)
		return sluice_fail(err, EINVAL, "flags 0x%x are not for ringbuf maps", h->map_flags);
	if (h->key_size || h->value_size || !h->max_entries ||
	    (h->max_entries & (h->max_entries - 1)) || h->max_entries % MAP_PAGE)
		return sluice_fail(err, EINVAL,
				   "ringbuf maps need key_size and value_size 0 and max_entries a "
				   "power of 2 multiple of the page size (got %u)", h->max_entries);
	return 0;
}

static void rb_layout(const struct map_hdr *h, struct map_layout *l)
{
	l->state = 2 * MAP_PAGE + (uint64_t)h->max_entries;
	l->fixed = l->state;
	l->mirror = h->max_entries;
}

static void rb_init(struct sluice_map *map)
{
	producer(map->state)->mask = map->max_entries - 1;
}

/* __bpf_ringbuf_reserve */
void *sluice_ringbuf_reserve(struct sluice_map *map, uint64_t size, uint64_t flags)
{
	struct rb_producer *p = producer(map->state);
	uint64_t cons, prod, pend, new_prod;
	struct rb_hdr *hdr;
	uint32_t len;

	if (map->type != BPF_MAP_TYPE_RINGBUF || flags || size > RINGBUF_MAX_RECORD_SZ)
		return NULL;
	len = (uint32_t)round_up8(size + BPF_RINGBUF_HDR_SZ);
	if (len > p->mask + 1)
		return NULL;
	cons = __atomic_load_n(consumer_pos(map->state), __ATOMIC_ACQUIRE);
	seq_lock(&p->lock);
	pend = p->pending_pos;
	prod = p->producer_pos;
	new_prod = prod + len;
	/* move pending_pos past the records committed since */
	while (pend < prod) {
		uint32_t hdr_len;

		hdr = (struct rb_hdr *)(rb_data(map->state) + (pend & p->mask));
		hdr_len = __atomic_load_n(&hdr->len, __ATOMIC_ACQUIRE);
		if (hdr_len & BPF_RINGBUF_BUSY_BIT)
			break;
		pend += record_size(hdr_len);
	}
	p->pending_pos = pend;
	/* no more than size - 1 ahead of the consumer, nor of the oldest busy record */
	if (new_prod - cons > p->mask || new_prod - pend > p->mask) {
		seq_unlock(&p->lock);
		return NULL;
	}
	hdr = (struct rb_hdr *)(rb_data(map->state) + (prod & p->mask));
	hdr->len = (uint32_t)size | BPF_RINGBUF_BUSY_BIT;
	hdr->pg_off = (uint32_t)(((uint8_t *)hdr - map->base) / MAP_PAGE);
	__atomic_store_n(&p->producer_pos, new_prod, __ATOMIC_RELEASE);
	seq_unlock(&p->lock);
	return hdr + 1;
}

static void rb_wake(struct rb_producer *p)
{
	__atomic_fetch_add(&p->wakeups, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&p->waiters, __ATOMIC_SEQ_CST))
		syscall(SYS_futex, &p->wakeups, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/* bpf_ringbuf_commit */
static void rb_commit(void *sample, uint64_t flags, bool discard)
{
	struct rb_hdr *hdr = (struct rb_hdr *)sample - 1;
	uint8_t *base = (uint8_t *)((uintptr_t)hdr & ~(uintptr_t)(MAP_PAGE - 1)) -
			(uintptr_t)hdr->pg_off * MAP_PAGE;
	uint8_t *state = base + MAP_STATE_OFF;
	struct rb_producer *p = producer(state);
	uint32_t new_len = hdr->len ^ BPF_RINGBUF_BUSY_BIT;
	uint64_t rec_pos, cons_pos;

	if (discard)
		new_len |= BPF_RINGBUF_DISCARD_BIT;
	__atomic_exchange_n(&hdr->len, new_len, __ATOMIC_ACQ_REL);
	/* wake the consumer if it caught up and waits for this very record */
	rec_pos = (uint64_t)((uint8_t *)hdr - rb_data(state));
	cons_pos = __atomic_load_n(consumer_pos(state), __ATOMIC_ACQUIRE) & p->mask;
	if ((flags & BPF_RB_FORCE_WAKEUP) ||
	    (cons_pos == rec_pos && !(flags & BPF_RB_NO_WAKEUP)))
		rb_wake(p);
}

void sluice_ringbuf_submit(void *sample, uint64_t flags)
{
	rb_commit(sample, flags, false);
}

void sluice_ringbuf_discard(void *sample, uint64_t flags)
{
	rb_commit(sample, flags, true);
}

long sluice_ringbuf_output(struct sluice_map *map, const void *data, uint64_t size,
			   uint64_t flags)
{
	void *rec;

	if (flags & ~(uint64_t)(BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP))
		return -EINVAL;
	rec = sluice_ringbuf_reserve(map, size, 0);
	if (!rec)
		return -EAGAIN;
	memcpy(rec, data, size);
	rb_commit(rec, flags, false);
	return 0;
}

uint64_t sluice_ringbuf_query(struct sluice_map *map, uint64_t flags)
{
	struct rb_producer *p = producer(map->state);
	uint64_t cons, prod;

	if (map->type != BPF_MAP_TYPE_RINGBUF)
		return 0;
	cons = __atomic_load_n(consumer_pos(map->state), __ATOMIC_ACQUIRE);
	prod = __atomic_load_n(&p->producer_pos, __ATOMIC_ACQUIRE);
	switch (flags) {
	case BPF_RB_AVAIL_DATA:
		return prod - cons;
	case BPF_RB_RING_SIZE:
		return p->mask + 1;
	case BPF_RB_CONS_POS:
		return cons;
	case BPF_RB_PROD_POS:
		return prod;
	default:
		return 0;
	}
}

/* libbpf's ringbuf_process_ring */
long sluice_ringbuf_consume(struct sluice_map *map, sluice_ringbuf_fn fn, void *ctx)
{
	uint64_t *cons_ptr = consumer_pos(map->state), cons, prod;
	struct rb_producer *p = producer(map->state);
	long count = 0;
	bool progress;

	if (map->type != BPF_MAP_TYPE_RINGBUF)
		return -EINVAL;
	cons = __atomic_load_n(cons_ptr, __ATOMIC_ACQUIRE);
	do {
		progress = false;
		prod = __atomic_load_n(&p->producer_pos, __ATOMIC_ACQUIRE);
		while (cons < prod) {
			struct rb_hdr *hdr = (struct rb_hdr *)(rb_data(map->state) + (cons & p->mask));
			uint32_t len = __atomic_load_n(&hdr->len, __ATOMIC_ACQUIRE);
			int ret = 0;

			if (len & BPF_RINGBUF_BUSY_BIT)
				return count; /* not submitted yet: later records wait for it */
			progress = true;
			cons += record_size(len);
			if (!(len & BPF_RINGBUF_DISCARD_BIT)) {
				ret = fn(ctx, hdr + 1, len);
				count++;
			}
			__atomic_store_n(cons_ptr, cons, __ATOMIC_RELEASE);
			if (ret < 0)
				return ret;
		}
	} while (progress);
	return count;
}

int sluice_ringbuf_wait(struct sluice_map *map, int timeout_ms)
{
	struct rb_producer *p = producer(map->state);
	struct timespec ts = { timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000 };
	uint32_t now = __atomic_load_n(&p->wakeups, __ATOMIC_SEQ_CST);
	int ret = -ETIMEDOUT;

	if (map->type != BPF_MAP_TYPE_RINGBUF)
		return -EINVAL;
	if (now == map->wake_seen && timeout_ms) {
		/* the producer bumps wakeups then reads waiters: one of us sees the other */
		__atomic_fetch_add(&p->waiters, 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&p->wakeups, __ATOMIC_SEQ_CST) == map->wake_seen &&
		    syscall(SYS_futex, &p->wakeups, FUTEX_WAIT, map->wake_seen,
			    timeout_ms < 0 ? NULL : &ts, NULL, 0) && errno == EINTR)
			ret = -EINTR;
		__atomic_fetch_sub(&p->waiters, 1, __ATOMIC_SEQ_CST);
		now = __atomic_load_n(&p->wakeups, __ATOMIC_SEQ_CST);
	}
	if (now == map->wake_seen)
		return ret;
	map->wake_seen = now;
	return 0;
}

const struct map_ops ringbuf_map_ops = {
	.alloc_check = rb_alloc_check,
	.layout = rb_layout,
	.init = rb_init,
	.meta_equal = map_meta_equal,
};
