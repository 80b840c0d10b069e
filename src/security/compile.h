/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_SECURITY_COMPILE_H
#define SLUICE_SECURITY_COMPILE_H

/*
 * A policy compiled into the maps security/match.h reads (layouts in
 * security/sec.h), written through a callback so that the same compiler
 * fills the kernel's maps (bpf_map_update_elem) and the runtime's
 * (sluice_map_update).
 */
#include <stddef.h>
#include <stdint.h>

#include <sluice/error.h>

#include "security/policy.h"

struct sec_map_writer {
	/* Store key -> value in the map of that name ("sec_files", "sec_config", ...). */
	int (*update)(void *ctx, const char *map, const void *key, const void *value,
		      struct sluice_error *err);
	void *ctx;
};

/* The writer for a kernel object's maps (ctx: the struct sluice_kernel_object, loaded). */
int sec_kernel_map_update(void *ctx, const char *map, const void *key, const void *value,
			  struct sluice_error *err);

/* agent_tgid: the enforcing process, which the programs never match. */
int sec_policy_compile(const struct sec_policy *policy, uint32_t agent_tgid,
		       const struct sec_map_writer *w, struct sluice_error *err);

#endif
