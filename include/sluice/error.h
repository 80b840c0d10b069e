/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_ERROR_H
#define SLUICE_ERROR_H

/*
 * Every fallible libsluice call returns 0 (or a count) on success and a
 * negative errno on failure, and, when the caller passes a struct
 * sluice_error, fills it with one line that says what went wrong and where
 * ("prog.s:12: unknown mnemonic 'addd'", "pc 7: ...").  The library never
 * prints and never exits.
 */

#define SLUICE_ERRMSG_MAX 256

struct sluice_error {
	int code;                     /* positive errno, 0 when no error */
	char msg[SLUICE_ERRMSG_MAX];  /* NUL-terminated, one line */
};

#endif
