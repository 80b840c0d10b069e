/* SPDX-License-Identifier: MIT */
/*
 * The bench programs written in C: the same algorithm as each
 * bench/programs/NAME.s, step for step, returning the same r0.  Compiled
 * with gcc -O2 in their own translation unit, they are the physical limit
 * the engines are measured against, and the reference every engine's
 * result is checked with.
 */
#ifndef SLUICE_BENCH_NATIVE_H
#define SLUICE_BENCH_NATIVE_H

#include <stddef.h>
#include <stdint.h>

uint64_t native_alu_chain(const uint8_t *mem, size_t size);
uint64_t native_mem_heavy(const uint8_t *mem, size_t size);
uint64_t native_branchy(const uint8_t *mem, size_t size);
uint64_t native_checksum(const uint8_t *mem, size_t size);
uint64_t native_fnv1a(const uint8_t *mem, size_t size);
uint64_t native_bubble_sort(const uint8_t *mem, size_t size);

#endif
