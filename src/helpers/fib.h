/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_HELPERS_FIB_H
#define SLUICE_HELPERS_FIB_H

/*
 * The route table bpf_fib_lookup consults (sluice_rt_add_route), kept by
 * the runtime: NULL is the empty table.
 */
#include <sluice/error.h>
#include <sluice/runtime.h>

struct rt_fib;

/* Add route to *fib, creating the table on first use; -EINVAL for a bad route. */
int fib_add_route(struct rt_fib **fib, const struct sluice_route *route,
		  struct sluice_error *err);
void fib_free(struct rt_fib *fib);

#endif
