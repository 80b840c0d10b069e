/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_TESTS_SPLITMIX_H
#define SLUICE_TESTS_SPLITMIX_H

/*
 * The test generators' random numbers: splitmix64, small, fast and the same
 * sequence from a seed under every compiler, so a failing seed reproduces.
 */
#include <stdbool.h>
#include <stdint.h>

static inline uint64_t splitmix_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
	return z ^ (z >> 31);
}

/* Uniform enough below n for tests (n > 0). */
static inline unsigned splitmix_below(uint64_t *state, unsigned n)
{
	return (unsigned)(splitmix_next(state) % n);
}

#endif
