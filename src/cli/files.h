/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_CLI_FILES_H
#define SLUICE_CLI_FILES_H

#include <stddef.h>
#include <stdint.h>

#include <sluice/insn.h>

/* Whole-file I/O; messages name the path and the system's reason. */
int read_file(const char *path, char **data, size_t *len, struct sluice_error *err);
int write_file(const char *path, const void *data, size_t len,
	       struct sluice_error *err);

/*
 * A program from a file: assembly when the name ends in .s or .asm, raw
 * bytecode otherwise.  It is checked structurally before it is returned.
 */
int load_program(const char *path, struct sluice_insn **insns, size_t *count,
		 struct sluice_error *err);

/*
 * A file the build puts beside this binary (rel: "datapath/lb.o",
 * "security/kern.o"): its path from /proc/self/exe; -1 when that cannot be
 * read or the path does not fit.
 */
int built_path(const char *rel, char *buf, size_t size);

/* A non-negative number, decimal or 0x-prefixed hex: 0, or -1 when s is not one. */
int parse_u64_arg(const char *s, uint64_t *out);

/* Hex bytes ("0a 1b", "0a1b"; whitespace between bytes is ignored). */
int parse_hex_bytes(const char *text, size_t len, uint8_t **out, size_t *out_len,
		    struct sluice_error *err);

#endif
