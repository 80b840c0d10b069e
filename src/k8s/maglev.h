/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_K8S_MAGLEV_H
#define SLUICE_K8S_MAGLEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sluice/error.h>

/*
 * Maglev consistent hashing (Eisenbud et al., NSDI 2016, section 3.4).
 * Each backend, by name, gets a permutation of the table's M slots (offset
 * and skip from two hashes of the name; M prime so every skip walks all
 * slots), and the backends take turns claiming their next free preferred
 * slot until the table is full.  Every backend ends with floor(M/N) or
 * ceil(M/N) slots, and removing one backend mostly frees only its own slots,
 * so about 1/N of the flows move.
 */

/* Table sizes the agent chooses from (primes), smallest first. */
#define K8S_MAGLEV_SIZES 1021u, 16381u, 65537u

bool k8s_is_prime(uint32_t n);

/*
 * The size for n backends when the service does not ask for one: the
 * smallest of K8S_MAGLEV_SIZES at least 100 * n (the paper keeps the
 * imbalance near 1% at M >= 100 N), else the largest.
 */
uint32_t k8s_maglev_default_size(size_t n);

/*
 * Fill table[0..size) with indexes into names[0..n).  size must be prime
 * and n at least 1; names identify backends stably (their address:port),
 * so the same set gives the same table in any order.  -EINVAL or -ENOMEM.
 */
int k8s_maglev_build(const char *const *names, size_t n, uint32_t size, uint32_t *table,
		     struct sluice_error *err);

#endif
