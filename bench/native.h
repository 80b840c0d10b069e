/* SPDX-License-Identifier: MIT */
/*
 * The bench programs written in C: the same algorithm as each
 * bench/programs/NAME.s, step for step, returning the same r0; for the map
 * programs, the very source of netbench.bpf.o (programs/netbench.h).
 * Compiled with gcc -O2 in their own translation unit, they are the
 * physical limit the engines are measured against, and the reference every
 * engine's result is checked with.  Only the map programs write to mem.
 */
#ifndef SLUICE_BENCH_NATIVE_H
#define SLUICE_BENCH_NATIVE_H

#include <stddef.h>
#include <stdint.h>

uint64_t native_alu_chain(uint8_t *mem, size_t size);
uint64_t native_mem_heavy(uint8_t *mem, size_t size);
uint64_t native_branchy(uint8_t *mem, size_t size);
uint64_t native_checksum(uint8_t *mem, size_t size);
uint64_t native_fnv1a(uint8_t *mem, size_t size);
uint64_t native_bubble_sort(uint8_t *mem, size_t size);
uint64_t native_siphash(uint8_t *mem, size_t size);

/* parser.s's input: slots of a 16-bit length, then the frame. */
#define PARSER_SLOT 128
uint64_t native_parser(uint8_t *mem, size_t size);

/*
 * mem is the packet; the maps are those of nb_maps (netbench.h), which the
 * caller points at the maps Sluice's runtime created for netbench.bpf.o.
 */
uint64_t native_flowtable(uint8_t *mem, size_t size);

/* Every engine's baseline: what a run costs that is not the program's. */
uint64_t native_empty(uint8_t *mem, size_t size);
uint64_t native_lb(uint8_t *mem, size_t size);

#endif
