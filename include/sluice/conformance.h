/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_CONFORMANCE_H
#define SLUICE_CONFORMANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sluice/insn.h>

/*
 * A test case in the bpf_conformance suite's `.data` format: a program
 * (`-- asm`, or `-- raw` slots which then win), optional input memory
 * (`-- mem`), and the expected r0 (`-- result`) or error text (`-- error`).
 */
struct sluice_conformance_case {
	struct sluice_insn *insns;
	size_t count;
	uint8_t *mem;
	size_t mem_len;
	bool has_result;
	uint64_t result;
	char *error; /* expected error text, or NULL */
};

/*
 * Parse one file's text.  Errors name the file and line ("add.data:7: ...").
 * On success the case owns its buffers; free them with
 * sluice_conformance_case_free.
 */
int sluice_conformance_parse(const char *text, size_t len, const char *filename,
			     struct sluice_conformance_case *out,
			     struct sluice_error *err);
void sluice_conformance_case_free(struct sluice_conformance_case *c);

#endif
