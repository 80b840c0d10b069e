/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_SECURITY_MATCHER_H
#define SLUICE_SECURITY_MATCHER_H

/*
 * The policy's matcher (security/user.c, sec_decide) loaded into Sluice's
 * user-space runtime with the policy compiled into its maps: the same
 * program and maps the kernel's hooks use, asked one query at a time.
 */
#include <stdint.h>

#include <sluice/error.h>

#include "security/policy.h"

struct sec_matcher;

/* path: the compiled security/user.c; engine: "interp" (NULL) or "jit". */
struct sec_matcher *sec_matcher_open(const char *path, const struct sec_policy *policy,
				     const char *engine, struct sluice_error *err);
void sec_matcher_close(struct sec_matcher *m);

/* *verdict: 0 when no rule matches, else SEC_VERDICT(rule, action). */
int sec_matcher_decide(struct sec_matcher *m, const struct sec_query *q, uint32_t *verdict,
		       struct sluice_error *err);

#endif
