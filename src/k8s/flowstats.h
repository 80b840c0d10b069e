/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_K8S_FLOWSTATS_H
#define SLUICE_K8S_FLOWSTATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "flow.h"

/*
 * What the RED metrics and the service map share to account flow records
 * in bounded memory: a table of fixed-size entries found by their key, up
 * to a cap, and the increments each record brings to its connection (the
 * records carry a connection's counts so far, so adding them up as they
 * come would count the early packets once per record).
 */

/*
 * Entries of entry_size bytes whose first key_size bytes are the key,
 * compared byte for byte: callers zero a key before writing its strings.
 */
struct k8s_table {
	size_t key_size, entry_size;
	size_t max;            /* entries at most */
	size_t n, allocated;
	unsigned char *entries;
	uint32_t *slots;       /* open addressing: entry index + 1, 0 when free */
	size_t mask;
};

/* -ENOMEM */
int k8s_table_init(struct k8s_table *t, size_t key_size, size_t entry_size, size_t max);
/*
 * The entry with this key, added (zeroed past its key) when missing; NULL
 * when it is missing and the table is full or memory is.  Valid until the
 * next call.
 */
void *k8s_table_get(struct k8s_table *t, const void *key);
/*
 * Every entry, ordered by cmp (which compares two entries, ctx passed
 * along): a malloc'd array of t->n pointers, NULL when memory is short or
 * the table empty.
 */
void **k8s_table_sorted(const struct k8s_table *t,
			int (*cmp)(const void *a, const void *b, void *ctx), void *ctx);
/* An entry's position in the table (0 for the first added), stable. */
size_t k8s_table_index(const struct k8s_table *t, const void *entry);
void k8s_table_free(struct k8s_table *t);

/* What one record adds to its connection. */
struct k8s_conn_delta {
	uint64_t packets, bytes;
	bool connected;      /* this record is the connection's ESTABLISHED */
	uint64_t connect_ns; /* then: the time from its NEW */
};

/*
 * The connections seen so far, by 5-tuple, in a fixed number of sets of a
 * few ways each: when a set is full, the connection seen least recently
 * makes room (counted in evicted), and its next record counts as its first.
 */
struct k8s_conns {
	struct k8s_conn *slots;
	size_t n_sets;
	uint64_t evicted;
};

int k8s_conns_init(struct k8s_conns *c, size_t n_sets);
void k8s_conns_account(struct k8s_conns *c, const struct k8s_flow *f, struct k8s_conn_delta *d);
void k8s_conns_free(struct k8s_conns *c);

/*
 * s as the inside of a double-quoted string, with backslashes, quotes and
 * newlines escaped (\\, \", \n): what a Prometheus label value and a
 * Graphviz string both need.
 */
void k8s_write_escaped(FILE *out, const char *s);

#endif
