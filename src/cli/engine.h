/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_CLI_ENGINE_H
#define SLUICE_CLI_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sluice/insn.h>

/* How `run` and `conformance` execute a program: which engine, which checks. */
struct engine_opts {
	const char *name; /* "interp" or "jit" */
	bool checked;
	bool no_verify;   /* objects: run what the verifier refuses (checked, for debugging) */
	uint64_t budget;  /* 0: none */
	bool count;       /* report executed instructions (a slower variant) */
};

/* The engines this build has, for usage messages: "interp, jit". */
const char *engine_names(void);
bool engine_known(const char *name);

/* The getopt_long options every executing command shares. */
#define ENGINE_LONG_OPTIONS                                  \
	{ "engine", required_argument, NULL, ENGINE_OPT_NAME }, \
	{ "checked", no_argument, NULL, ENGINE_OPT_CHECKED },    \
	{ "no-verify", no_argument, NULL, ENGINE_OPT_NO_VERIFY }
enum { ENGINE_OPT_NAME = 0x1000, ENGINE_OPT_CHECKED, ENGINE_OPT_NO_VERIFY };

/* Take one of ENGINE_LONG_OPTIONS into opts; false if opt is not one. */
bool engine_option(struct engine_opts *opts, int opt, const char *arg);

/* The helpers programs run by `sluice` may call: 5, "unwind". */
struct sluice_helpers *engine_helpers_new(struct sluice_error *err);

struct engine_result {
	uint64_t r0;
	uint64_t executed; /* when counted */
};

/*
 * Run a program once on `mem` the way the conformance suite does: r1 points
 * at mem, r2 holds its length, helper 5 ("unwind") is available.
 */
int engine_run_mem(const struct engine_opts *opts,
		   const struct sluice_insn *insns, size_t count, uint8_t *mem,
		   size_t mem_len, struct engine_result *result,
		   struct sluice_error *err);

#endif
