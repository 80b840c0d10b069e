/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_HELPERS_H
#define SLUICE_HELPERS_H

#include <stdint.h>

#include <sluice/error.h>

/*
 * Helper functions are called by id (`call 5`) with r1-r5 as arguments and
 * their result in r0, as the kernel's are.  The last argument gives the helper
 * the state of the run that called it.
 */
struct sluice_run;

typedef uint64_t (*sluice_helper_fn)(uint64_t r1, uint64_t r2, uint64_t r3,
				     uint64_t r4, uint64_t r5,
				     struct sluice_run *run);

/* A registry of helpers by id.  Ids above SLUICE_HELPER_MAX_ID are refused. */
struct sluice_helpers;

#define SLUICE_HELPER_MAX_ID 65535

struct sluice_helpers *sluice_helpers_new(struct sluice_error *err);
void sluice_helpers_free(struct sluice_helpers *helpers);

/* Register fn under id; -EEXIST if the id is taken, -ERANGE if it is too big. */
int sluice_helpers_add(struct sluice_helpers *helpers, uint32_t id,
		       const char *name, sluice_helper_fn fn,
		       struct sluice_error *err);

/* NULL when no helper has that id. */
sluice_helper_fn sluice_helpers_fn(const struct sluice_helpers *helpers,
				   uint32_t id);
const char *sluice_helpers_name(const struct sluice_helpers *helpers,
				uint32_t id);

/*
 * Called from inside a helper: stop the program as soon as the helper
 * returns, with `r0` as its result (uBPF's "unwind", later tail calls).
 */
void sluice_run_stop(struct sluice_run *run, uint64_t r0);

/* The `user` pointer given to sluice_vm_exec for this run. */
void *sluice_run_user(const struct sluice_run *run);

#endif
