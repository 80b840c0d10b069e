/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_HELPERS_INTERNAL_H
#define SLUICE_HELPERS_INTERNAL_H

#include <stdbool.h>

#include <sluice/helpers.h>

/* What a helper may see of, and do to, the run that called it. */
struct sluice_run {
	void *user;
	bool stopped;     /* set by sluice_run_stop: end the program after the call */
	uint64_t stop_r0;
};

/* One past the largest id that can be registered so far (array bound). */
uint32_t helpers_id_limit(const struct sluice_helpers *helpers);

#endif
