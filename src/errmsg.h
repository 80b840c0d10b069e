/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_ERRMSG_H
#define SLUICE_ERRMSG_H

#include <sluice/error.h>

/*
 * Fill err (when not NULL) with code and a printf-style message, set errno to
 * code, and return -code, so that a failing path reads
 * `return sluice_fail(err, EINVAL, ...)`.
 */
int sluice_fail(struct sluice_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefix the message already in err with "prefix: ", keeping its code. */
int sluice_fail_prefix(struct sluice_error *err, int ret, const char *prefix);

#endif
