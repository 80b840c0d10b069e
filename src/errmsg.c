/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "errmsg.h"

int sluice_fail(struct sluice_error *err, int code, const char *fmt, ...)
{
	/* errno too, so that calls returning a pointer follow NULL + errno */
	errno = code;
	if (err) {
		va_list ap;

		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -code;
}

int sluice_fail_prefix(struct sluice_error *err, int ret, const char *prefix)
{
	if (err) {
		char tail[SLUICE_ERRMSG_MAX];
		int n;

		memcpy(tail, err->msg, sizeof(tail));
		n = snprintf(err->msg, sizeof(err->msg), "%s: ", prefix);
		/* the message is one line for a person: cutting its end is fine */
		if (n >= 0 && (size_t)n < sizeof(err->msg))
			snprintf(err->msg + n, sizeof(err->msg) - (size_t)n, "%s", tail);
	}
	return ret;
}
