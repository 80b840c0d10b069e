/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_HELPERS_INTERNAL_H
#define SLUICE_HELPERS_INTERNAL_H

#include <stdbool.h>

#include <stddef.h>

#include <sluice/helpers.h>
#include <sluice/insn.h>

/* What a helper may see of, and do to, the run that called it. */
struct sluice_run {
	void *user;
	bool stopped;     /* set by sluice_run_stop: end the program after the call */
	uint64_t stop_r0;
};

/*
 * Whether a user-space engine can run the instruction at pc: not one of the
 * loader's unresolved pseudo forms, not a kernel function call, and a helper
 * call only to a registered id.  0, or -EINVAL / -ENOENT naming pc.
 */
int helpers_check_runnable(const struct sluice_helpers *helpers,
			   const struct sluice_insn *insn, size_t pc,
			   struct sluice_error *err);

/* One past the largest id that can be registered so far (array bound). */
uint32_t helpers_id_limit(const struct sluice_helpers *helpers);

#endif
