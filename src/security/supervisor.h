/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_SECURITY_SUPERVISOR_H
#define SLUICE_SECURITY_SUPERVISOR_H

/*
 * `sluice exec`: a command run under a seccomp user-notification filter
 * (SECCOMP_FILTER_FLAG_NEW_LISTENER) for execve/execveat, open/openat/
 * openat2, connect, and sendto/sendmsg with an address.  Each such call stops its caller; the supervisor
 * reads the arguments from the caller's memory, runs the policy's matcher
 * (security/user.c) in Sluice's user-space runtime, and lets the call go
 * on, fails it with an errno, or kills the caller.
 */
#include <stdbool.h>
#include <stddef.h>

#include <sluice/error.h>

#include "security/policy.h"

struct sec_supervisor_opts {
	size_t sz;                        /* sizeof(struct sec_supervisor_opts) */
	const struct sec_policy *policy;
	const char *matcher;              /* the compiled security/user.c */
	const char *engine;               /* "interp" (NULL) or "jit" */
	/* Called for each matching call, after the action is taken. */
	void (*on_event)(void *ctx, const struct sec_event *ev);
	void *ctx;
};

/*
 * Run argv (argv[0] looked up in PATH) under the policy until it and every
 * process it started have exited; *status is its wait status.  SIGINT and
 * SIGQUIT are ignored meanwhile, as system(3) does: they are for the command.
 */
int sec_supervise(char *const argv[], const struct sec_supervisor_opts *opts, int *status,
		  struct sluice_error *err);

#endif
