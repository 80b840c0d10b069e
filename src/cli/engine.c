/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include <sluice/interp.h>
#include <sluice/jit.h>

#include "engine.h"
#include "errmsg.h"

const char *engine_names(void)
{
	return "interp, jit";
}

bool engine_known(const char *name)
{
	return !strcmp(name, "interp") || !strcmp(name, "jit");
}

bool engine_option(struct engine_opts *opts, int opt, const char *arg)
{
	switch (opt) {
	case ENGINE_OPT_NAME:
		opts->name = arg;
		return true;
	case ENGINE_OPT_CHECKED:
		opts->checked = true;
		return true;
	case ENGINE_OPT_NO_VERIFY:
		opts->no_verify = true;
		return true;
	}
	return false;
}

/*
 * uBPF's helper 5, which the conformance suite calls: it returns its
 * argument, and an argument of 0 ends the program with r0 = 0.
 */
static uint64_t helper_unwind(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
			      uint64_t r5, struct sluice_run *run)
{
	(void)r2, (void)r3, (void)r4, (void)r5;
	if (!r1)
		sluice_run_stop(run, 0);
	return r1;
}

/* The helpers every engine offers the programs `sluice` runs. */
struct sluice_helpers *engine_helpers_new(struct sluice_error *err)
{
	struct sluice_helpers *helpers = sluice_helpers_new(err);

	if (helpers && sluice_helpers_add(helpers, 5, "unwind", helper_unwind, err)) {
		sluice_helpers_free(helpers);
		return NULL;
	}
	return helpers;
}

/*
 * The JIT runs trusted programs at full speed: no bounds checks and no
 * instruction count.  Rather than quietly running the interpreter instead,
 * it refuses the options that need them.
 */
static int run_jit(const struct engine_opts *opts, const struct sluice_insn *insns,
		   size_t count, const struct sluice_helpers *helpers,
		   struct sluice_exec *exec, struct engine_result *result,
		   struct sluice_error *err)
{
	struct sluice_jit_opts jit_opts = { .sz = sizeof(jit_opts), .helpers = helpers };
	struct sluice_jit *jit;
	int ret;

	if (opts->checked || opts->budget)
		return sluice_fail(err, EINVAL, "%s needs --engine interp: the JIT runs trusted programs, unchecked and uncounted",
				   opts->checked ? "--checked" : "--budget");
	jit = sluice_jit_new(insns, count, &jit_opts, err);
	if (!jit)
		return -errno;
	ret = sluice_jit_exec(jit, exec, &result->r0, err);
	result->executed = 0;
	sluice_jit_free(jit);
	return ret;
}

int engine_run_mem(const struct engine_opts *opts,
		   const struct sluice_insn *insns, size_t count, uint8_t *mem,
		   size_t mem_len, struct engine_result *result,
		   struct sluice_error *err)
{
	struct sluice_vm_opts vm_opts = {
		.sz = sizeof(vm_opts),
		.checked = opts->checked,
		.insn_budget = opts->budget,
		.count = opts->count,
	};
	struct sluice_region region = {
		.name = "mem", .base = mem, .size = mem_len, .writable = true,
	};
	struct sluice_exec exec = {
		.sz = sizeof(exec),
		.args = { (uintptr_t)mem, mem_len },
		.regions = &region,
		.nregions = 1,
		.packet = mem,
		.packet_len = mem_len,
	};
	struct sluice_helpers *helpers;
	struct sluice_vm *vm;
	int ret;

	if (!engine_known(opts->name))
		return sluice_fail(err, EINVAL, "unknown engine '%s'", opts->name);
	helpers = engine_helpers_new(err);
	if (!helpers)
		return -errno;
	if (!strcmp(opts->name, "jit")) {
		ret = run_jit(opts, insns, count, helpers, &exec, result, err);
	} else {
		vm_opts.helpers = helpers;
		vm = sluice_vm_new(insns, count, &vm_opts, err);
		if (!vm) {
			ret = -errno;
		} else {
			ret = sluice_vm_exec(vm, &exec, &result->r0, err);
			result->executed = exec.executed;
			sluice_vm_free(vm);
		}
	}
	sluice_helpers_free(helpers);
	return ret;
}
