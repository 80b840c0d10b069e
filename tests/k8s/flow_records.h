/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_TESTS_K8S_FLOW_RECORDS_H
#define SLUICE_TESTS_K8S_FLOW_RECORDS_H

/*
 * What the tests of the flow-record readers (metrics, service map) build
 * their synthetic records with: one end of a flow, and a record with the
 * connection's counts so far or a drop; and how they drive a reader.
 * Include after <cmocka.h>.
 */
#include <stdio.h>

#include "k8s/flow.h"

static inline void flow_peer(struct k8s_flow_peer *p, const char *ns, const char *pod,
			     const char *addr, uint16_t port)
{
	snprintf(p->ns, sizeof(p->ns), "%s", ns);
	snprintf(p->pod, sizeof(p->pod), "%s", pod);
	snprintf(p->addr, sizeof(p->addr), "%s", addr);
	p->port = port;
}

static inline struct k8s_flow counted(struct k8s_flow f, uint64_t packets, uint64_t bytes)
{
	f.packets = packets;
	f.bytes = bytes;
	return f;
}

static inline struct k8s_flow dropped(struct k8s_flow f, enum k8s_drop_reason why)
{
	f.verdict = K8S_FLOW_DROPPED;
	f.drop_reason = why;
	return f;
}

/*
 * A reader's helpers: maker() makes one (or fails the test), add() accounts
 * a record given by value, written() returns what the reader writes
 * (malloc'd) and frees it.
 */
#define FLOW_READER_HELPERS(type, maker, new_fn, add_fn, write_fn, free_fn)          \
	static struct type *maker(void)                                               \
	{                                                                             \
		struct sluice_error err = { 0 };                                      \
		struct type *m = NULL;                                                \
                                                                                      \
		assert_int_equal(new_fn(&m, &err), 0);                                \
		return m;                                                             \
	}                                                                             \
	static void add(struct type *m, struct k8s_flow f)                            \
	{                                                                             \
		add_fn(m, &f);                                                        \
	}                                                                             \
	static char *written(struct type *m)                                          \
	{                                                                             \
		char *text = NULL;                                                    \
		size_t len = 0;                                                       \
		FILE *f = open_memstream(&text, &len);                                \
                                                                                      \
		assert_non_null(f);                                                   \
		write_fn(m, f);                                                       \
		fclose(f);                                                            \
		free_fn(m);                                                           \
		return text;                                                          \
	}

#endif
