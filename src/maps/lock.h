/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_MAPS_LOCK_H
#define SLUICE_MAPS_LOCK_H

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * Locks that work across processes: one 32-bit word in shared memory, no
 * pointers, no owner.  A process that dies holding one leaves it held
 * (every map operation holds a lock for a bounded copy or a few pointer
 * changes, so that takes a kill in that window).
 *
 * seq_lock is a spin lock whose word is also a sequence count, odd while
 * it is held: writers take it, and readers that must not block writers
 * (lookups) read under seq_read_begin/seq_read_retry and start again when
 * a writer came by, as the kernel's seqcount_t readers do.
 */

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

/* Spin a little, then give the CPU away: the holder may be descheduled. */
static inline void lock_backoff(unsigned *spins)
{
	if (++*spins < 128)
		cpu_relax();
	else
		sched_yield();
}

static inline void seq_lock(uint32_t *word)
{
	unsigned spins = 0;

	for (;;) {
		uint32_t s = __atomic_load_n(word, __ATOMIC_RELAXED);

		if (!(s & 1) && __atomic_compare_exchange_n(word, &s, s + 1, false,
							    __ATOMIC_ACQUIRE,
							    __ATOMIC_RELAXED))
			break;
		lock_backoff(&spins);
	}
	/* readers must see the odd count before any store the writer makes */
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static inline void seq_unlock(uint32_t *word)
{
	__atomic_fetch_add(word, 1, __ATOMIC_RELEASE);
}

/*
 * A writer holds the word: wait for it.  Out of line and cold, so that a
 * reader's fast path, a lookup, needs no registers kept across a call.
 */
static __attribute__((noinline, cold, unused)) uint32_t seq_read_wait(const uint32_t *word)
{
	unsigned spins = 0;
	uint32_t s;

	while ((s = __atomic_load_n(word, __ATOMIC_ACQUIRE)) & 1)
		lock_backoff(&spins);
	return s;
}

static inline uint32_t seq_read_begin(const uint32_t *word)
{
	uint32_t s = __atomic_load_n(word, __ATOMIC_ACQUIRE);

	return __builtin_expect(s & 1, 0) ? seq_read_wait(word) : s;
}

/* True when a writer ran since seq_read_begin returned s: read again. */
static inline bool seq_read_retry(const uint32_t *word, uint32_t s)
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(word, __ATOMIC_RELAXED) != s;
}

#endif
