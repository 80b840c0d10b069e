/* SPDX-License-Identifier: MIT */
/*
 * Differential test: programs from progen run in the interpreter and in the
 * JIT on the same random input must end the same way: the same r0 (or the
 * same error), the same input bytes afterwards, and the same helper calls
 * with the same arguments, in the same order.  One program in four is
 * compiled with constant blinding.
 *
 * The interpreter runs checked and with a budget, which also holds progen
 * to its promise: every access in bounds, every program ending.
 *
 *     test_jit_diff [PROGRAMS [FIRST_SEED]]      (default 100000 from seed 1)
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sluice/disasm.h>
#include <sluice/helpers.h>
#include <sluice/interp.h>
#include <sluice/jit.h>

#include "progen.h"
#include "splitmix.h"

#define INPUT_SIZE 64
#define LOG_MAX 32            /* helper calls recorded with their arguments */
#define BUDGET 1000000        /* progen's loops run a few rounds: far below this */

static uint64_t programs = 100000, first_seed = 1;

/* What a helper saw: each call's id and r1-r5. */
struct call_log {
	unsigned n; /* calls made, also past LOG_MAX */
	uint64_t calls[LOG_MAX][6];
};

/* How one run ended. */
struct outcome {
	int ret;
	struct sluice_error err;
	uint64_t r0;
	alignas(8) uint8_t mem[INPUT_SIZE];
	struct call_log log;
};

static void record(struct sluice_run *run, uint64_t id, uint64_t r1, uint64_t r2,
		   uint64_t r3, uint64_t r4, uint64_t r5)
{
	struct call_log *log = sluice_run_user(run);

	if (log->n < LOG_MAX)
		memcpy(log->calls[log->n], (uint64_t[6]){ id, r1, r2, r3, r4, r5 },
		       sizeof(log->calls[0]));
	log->n++;
}

/* Mixes all five arguments into its result. */
static uint64_t helper_a(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
			 struct sluice_run *run)
{
	record(run, PROGEN_HELPER_A, r1, r2, r3, r4, r5);
	return ((r1 ^ (r2 * 0x9e3779b97f4a7c15)) + (r3 << 7) - r4) ^ (r5 >> 3);
}

/* Stops the program one time in 32, by its arguments. */
static uint64_t helper_b(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
			 struct sluice_run *run)
{
	record(run, PROGEN_HELPER_B, r1, r2, r3, r4, r5);
	if (((r1 ^ r2) & 31) == 0)
		sluice_run_stop(run, r3 ^ r4 ^ 0x5bd1e995);
	return r1 + r2 * 3 + r5;
}

static struct sluice_helpers *helpers;

static int setup(void **state)
{
	struct sluice_error err = { 0 };

	(void)state;
	helpers = sluice_helpers_new(&err);
	if (!helpers || sluice_helpers_add(helpers, PROGEN_HELPER_A, "a", helper_a, &err) ||
	    sluice_helpers_add(helpers, PROGEN_HELPER_B, "b", helper_b, &err))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sluice_helpers_free(helpers);
	return 0;
}

/* An exec with r1 = o->mem, r2 = its size, the same memory as the packet and the one region. */
static struct sluice_exec exec_on(struct outcome *o, struct sluice_region *region)
{
	*region = (struct sluice_region){
		.name = "input", .base = o->mem, .size = INPUT_SIZE, .writable = true,
	};
	return (struct sluice_exec){
		.sz = sizeof(struct sluice_exec),
		.args = { (uintptr_t)o->mem, INPUT_SIZE },
		.regions = region,
		.nregions = 1,
		.packet = o->mem,
		.packet_len = INPUT_SIZE,
		.user = &o->log,
	};
}

static void run_interp(const struct sluice_insn *insns, size_t count, struct outcome *o)
{
	struct sluice_vm_opts opts = {
		.sz = sizeof(opts), .helpers = helpers, .checked = true, .insn_budget = BUDGET,
	};
	struct sluice_region region;
	struct sluice_exec exec = exec_on(o, &region);
	struct sluice_vm *vm = sluice_vm_new(insns, count, &opts, &o->err);

	o->ret = vm ? sluice_vm_exec(vm, &exec, &o->r0, &o->err) : -errno;
	sluice_vm_free(vm);
}

static void run_jit(const struct sluice_insn *insns, size_t count, bool blind,
		    struct outcome *o)
{
	struct sluice_jit_opts opts = {
		.sz = sizeof(opts), .helpers = helpers, .blind_constants = blind,
	};
	struct sluice_region region;
	struct sluice_exec exec = exec_on(o, &region);
	struct sluice_jit *jit = sluice_jit_new(insns, count, &opts, &o->err);

	o->ret = jit ? sluice_jit_exec(jit, &exec, &o->r0, &o->err) : -errno;
	sluice_jit_free(jit);
}

static void print_outcome(const char *engine, const struct outcome *o)
{
	fprintf(stderr, "%s: ", engine);
	if (o->ret)
		fprintf(stderr, "error %d: %s\n", o->ret, o->err.msg);
	else
		fprintf(stderr, "r0 = 0x%" PRIx64 "\n", o->r0);
	fprintf(stderr, "  input:");
	for (size_t i = 0; i < INPUT_SIZE; i++)
		fprintf(stderr, " %02x", o->mem[i]);
	fprintf(stderr, "\n  %u helper calls\n", o->log.n);
	for (unsigned i = 0; i < o->log.n && i < LOG_MAX; i++)
		fprintf(stderr, "    %" PRIu64 "(0x%" PRIx64 ", 0x%" PRIx64 ", 0x%" PRIx64
			", 0x%" PRIx64 ", 0x%" PRIx64 ")\n", o->log.calls[i][0], o->log.calls[i][1],
			o->log.calls[i][2], o->log.calls[i][3], o->log.calls[i][4], o->log.calls[i][5]);
}

static void print_program(const struct sluice_insn *insns, size_t count)
{
	for (size_t pc = 0; pc < count;) {
		char line[128];
		int slots = sluice_disasm_insn(insns, count, pc, SLUICE_DISASM_ASM, line, sizeof(line));

		fprintf(stderr, "%4zu: %s\n", pc, line);
		pc += slots > 0 ? (size_t)slots : 1;
	}
}

static bool same(const struct outcome *a, const struct outcome *b)
{
	unsigned logged = a->log.n < LOG_MAX ? a->log.n : LOG_MAX;

	if (a->ret != b->ret || (a->ret ? strcmp(a->err.msg, b->err.msg) : a->r0 != b->r0))
		return false;
	return !memcmp(a->mem, b->mem, INPUT_SIZE) && a->log.n == b->log.n &&
	       !memcmp(a->log.calls, b->log.calls, logged * sizeof(a->log.calls[0]));
}

static void interp_and_jit_agree(void **state)
{
	static struct sluice_insn insns[PROGEN_MAX_INSNS];
	static struct outcome interp, jit;
	struct progen_opts opts = {
		.input_size = INPUT_SIZE, .statements = 24, .max_funcs = 3, .helpers = true,
	};
	uint64_t slots = 0, calls = 0, returned_zero = 0;

	(void)state;
	for (uint64_t seed = first_seed; seed < first_seed + programs; seed++) {
		size_t count = progen_generate(seed, &opts, insns);
		uint64_t x = seed;
		bool blind = seed % 4 == 0;

		memset(&interp, 0, sizeof(interp));
		for (size_t i = 0; i < INPUT_SIZE; i += 8) {
			uint64_t v = splitmix_next(&x);

			memcpy(interp.mem + i, &v, 8);
		}
		jit = interp;
		run_interp(insns, count, &interp);
		if (interp.ret) {
			print_program(insns, count);
			fail_msg("seed %" PRIu64 ": progen made a program the checked interpreter stops: %s",
				 seed, interp.err.msg);
		}
		run_jit(insns, count, blind, &jit);
		if (!same(&interp, &jit)) {
			print_program(insns, count);
			print_outcome("interp", &interp);
			print_outcome(blind ? "jit (blinded)" : "jit", &jit);
			fail_msg("seed %" PRIu64 ": the interpreter and the JIT disagree", seed);
		}
		slots += count;
		calls += interp.log.n;
		returned_zero += interp.r0 == 0;
	}
	printf("%" PRIu64 " programs identical (seeds %" PRIu64 "-%" PRIu64 "): %.1f slots and "
	       "%.2f helper calls on average, %" PRIu64 " returned 0\n",
	       programs, first_seed, first_seed + programs - 1, (double)slots / (double)programs,
	       (double)calls / (double)programs, returned_zero);
}

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;

	*out = strtoull(s, &end, 10);
	return *s && !*end;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(interp_and_jit_agree),
	};

	if (argc > 3 || (argc > 1 && (!parse_u64(argv[1], &programs) || !programs)) ||
	    (argc > 2 && !parse_u64(argv[2], &first_seed))) {
		fprintf(stderr, "usage: test_jit_diff [PROGRAMS [FIRST_SEED]]\n");
		return 2;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
