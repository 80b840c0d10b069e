/* SPDX-License-Identifier: MIT */
/*
 * The interpreter's API: checked mode, the instruction budget, call depth,
 * helpers and callx, what sluice_vm_new refuses, the legacy packet loads,
 * falling off the end, and running one vm many times.  The instruction set
 * itself is tested by the files in tests/isa.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_asm_text.h"

#include <sluice/asm.h>
#include <sluice/helpers.h>
#include <sluice/interp.h>

#define PTR(p) ((uint64_t)(uintptr_t)(p))

/* Assemble text and prepare it; the test fails if either step does. */
static struct sluice_vm *vm_from(const char *text,
				 const struct sluice_helpers *helpers,
				 bool checked, uint64_t budget)
{
	struct sluice_vm_opts opts = {
		.sz = sizeof(opts),
		.helpers = helpers,
		.checked = checked,
		.insn_budget = budget,
	};
	struct sluice_error err = { 0 };
	struct sluice_insn *insns;
	struct sluice_vm *vm;
	size_t count = 0;

	insns = assemble(text, &count);
	vm = sluice_vm_new(insns, count, &opts, &err);
	free(insns);
	if (!vm)
		fail_msg("sluice_vm_new: %s\n%s", err.msg, text);
	return vm;
}

/* An exec with r1 = base of a writable region "mem" of size bytes, r2 = size. */
static struct sluice_exec exec_with_mem(struct sluice_region *region, void *base,
					size_t size)
{
	*region = (struct sluice_region){
		.name = "mem", .base = base, .size = size, .writable = true,
	};
	return (struct sluice_exec){
		.sz = sizeof(struct sluice_exec),
		.args = { PTR(base), size },
		.regions = region,
		.nregions = 1,
	};
}

static uint64_t run_ok(struct sluice_vm *vm, struct sluice_exec *exec)
{
	struct sluice_error err = { 0 };
	uint64_t r0 = 0xdeadbeef;
	int ret = sluice_vm_exec(vm, exec, &r0, &err);

	if (ret)
		fail_msg("sluice_vm_exec returned %d: %s", ret, err.msg);
	return r0;
}

/* Run, expect error `code`, and expect every string in `want` in the message. */
static void run_fails(struct sluice_vm *vm, struct sluice_exec *exec, int code,
		      const char *const *want)
{
	struct sluice_error err = { 0 };
	uint64_t r0 = 0;
	int ret = sluice_vm_exec(vm, exec, &r0, &err);

	assert_int_equal(ret, -code);
	assert_int_equal(err.code, code);
	for (; want && *want; want++)
		if (!strstr(err.msg, *want))
			fail_msg("message \"%s\" lacks \"%s\"", err.msg, *want);
}

/* ---- checked mode ------------------------------------------------------ */

/* Each faulting access is the instruction at pc 3. */
static const char *const oob_load_pc3[] = { "pc 3:", "out-of-bounds", "load", NULL };
static const char *const oob_store_pc3[] = { "pc 3:", "out-of-bounds", "store", NULL };

static void checked_load_just_past_region(void **state)
{
	uint8_t mem[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct sluice_region region;
	struct sluice_exec exec = exec_with_mem(&region, mem, sizeof(mem));
	struct sluice_vm *vm = vm_from("mov %r0, 0\n"
				       "mov %r3, 0\n"
				       "mov %r4, 0\n"
				       "ldxb %r0, [%r1+8]\n"
				       "exit\n",
				       NULL, true, 0);

	(void)state;
	run_fails(vm, &exec, EFAULT, oob_load_pc3);
	sluice_vm_free(vm);
}

static void checked_load_straddling_end(void **state)
{
	uint8_t mem[8] = { 0 };
	struct sluice_region region;
	struct sluice_exec exec = exec_with_mem(&region, mem, sizeof(mem));
	struct sluice_vm *vm = vm_from("mov %r0, 0\n"
				       "mov %r3, 0\n"
				       "mov %r4, 0\n"
				       "ldxdw %r0, [%r1+1]\n"
				       "exit\n",
				       NULL, true, 0);

	(void)state;
	run_fails(vm, &exec, EFAULT, oob_load_pc3);
	sluice_vm_free(vm);
}

static void checked_load_before_region(void **state)
{
	uint8_t mem[16] = { 0 };
	struct sluice_region region;
	/* the region is the upper half, so the byte before it is real memory */
	struct sluice_exec exec = exec_with_mem(&region, mem + 8, 8);
	struct sluice_vm *vm = vm_from("mov %r0, 0\n"
				       "mov %r3, 0\n"
				       "mov %r4, 0\n"
				       "ldxb %r0, [%r1-1]\n"
				       "exit\n",
				       NULL, true, 0);

	(void)state;
	run_fails(vm, &exec, EFAULT, oob_load_pc3);
	sluice_vm_free(vm);
}

static void checked_store_straddling_end(void **state)
{
	uint8_t mem[16] = { 0 };
	struct sluice_region region;
	struct sluice_exec exec = exec_with_mem(&region, mem, 8);
	struct sluice_vm *vm = vm_from("mov %r0, 0\n"
				       "mov %r3, 7\n"
				       "mov %r4, 0\n"
				       "stxw [%r1+5], %r3\n"
				       "exit\n",
				       NULL, true, 0);

	(void)state;
	run_fails(vm, &exec, EFAULT, oob_store_pc3);
	/* nothing was written, not even the bytes inside the region */
	for (size_t i = 0; i < sizeof(mem); i++)
		assert_int_equal(mem[i], 0);
	sluice_vm_free(vm);
}

static void checked_stack_below_frame(void **state)
{
	struct sluice_exec exec = { .sz = sizeof(exec) };
	struct sluice_vm *load = vm_from("mov %r0, 0\n"
					 "mov %r3, 0\n"
					 "mov %r4, 0\n"
					 "ldxb %r0, [%r10-513]\n"
					 "exit\n",
					 NULL, true, 0);
	struct sluice_vm *store = vm_from("mov %r0, 0\n"
					  "mov %r3, 0\n"
					  "mov %r4, 0\n"
					  "stdw [%r10-520], 1\n"
					  "exit\n",
					  NULL, true, 0);

	(void)state;
	run_fails(load, &exec, EFAULT, oob_load_pc3);
	run_fails(store, &exec, EFAULT, oob_store_pc3);
	sluice_vm_free(load);
	sluice_vm_free(store);
}

static void checked_stack_at_frame_pointer(void **state)
{
	struct sluice_exec exec = { .sz = sizeof(exec) };
	struct sluice_vm *store = vm_from("mov %r0, 0\n"
					  "mov %r3, 0\n"
					  "mov %r4, 0\n"
					  "stb [%r10+0], 1\n"
					  "exit\n",
					  NULL, true, 0);
	struct sluice_vm *load = vm_from("mov %r0, 0\n"
					 "mov %r3, 0\n"
					 "mov %r4, 0\n"
					 "ldxb %r0, [%r10]\n"
					 "exit\n",
					 NULL, true, 0);
	/* a word that starts inside the frame and ends past r10 */
	struct sluice_vm *straddle = vm_from("mov %r0, 0\n"
					     "mov %r3, 0\n"
					     "mov %r4, 0\n"
					     "ldxw %r0, [%r10-2]\n"
					     "exit\n",
					     NULL, true, 0);

	(void)state;
	run_fails(store, &exec, EFAULT, oob_store_pc3);
	run_fails(load, &exec, EFAULT, oob_load_pc3);
	run_fails(straddle, &exec, EFAULT, oob_load_pc3);
	sluice_vm_free(store);
	sluice_vm_free(load);
	sluice_vm_free(straddle);
}

/* The accesses right at every edge are allowed. */
static void checked_edges_are_allowed(void **state)
{
	uint8_t mem[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct sluice_region region;
	struct sluice_exec exec = exec_with_mem(&region, mem, sizeof(mem));
	struct sluice_vm *vm = vm_from("ldxdw %r0, [%r1]\n"
				       "ldxb %r3, [%r1+7]\n"
				       "add %r0, %r3\n"
				       "stdw [%r10-512], 1\n"
				       "stb [%r10-1], 2\n"
				       "ldxdw %r3, [%r10-512]\n"
				       "add %r0, %r3\n"
				       "ldxb %r3, [%r10-1]\n"
				       "add %r0, %r3\n"
				       "stxdw [%r1], %r0\n"
				       "exit\n",
				       NULL, true, 0);

	(void)state;
	assert_int_equal(run_ok(vm, &exec), 0x080706050403020cull);
	assert_int_equal(mem[0], 0x0c);
	sluice_vm_free(vm);
}

/*
 * One program that reads mem[r2]: out of bounds in checked mode with r2 = 8,
 * and the right value with an in-bounds r2, checked or not.
 */
static const char index_load[] = "mov %r0, 0\n"
				 "mov %r3, %r1\n"
				 "add %r3, %r2\n"
				 "ldxh %r0, [%r3]\n"
				 "exit\n";

static void checked_and_unchecked_agree_in_bounds(void **state)
{
	uint8_t mem[10] = { 0, 1, 2, 3, 4, 5, 6, 7, 0x34, 0x12 };
	struct sluice_region region;
	struct sluice_exec exec = exec_with_mem(&region, mem, 9);
	struct sluice_vm *checked = vm_from(index_load, NULL, true, 0);
	struct sluice_vm *fast = vm_from(index_load, NULL, false, 0);

	(void)state;
	exec.args[1] = 8; /* the half word at 8 has one byte outside the region */
	run_fails(checked, &exec, EFAULT, oob_load_pc3);

	exec.args[1] = 2;
	assert_int_equal(run_ok(checked, &exec), 0x0302);
	assert_int_equal(run_ok(fast, &exec), 0x0302);
	exec.args[1] = 8;
	exec.nregions = 0; /* unchecked mode looks at no region */
	assert_int_equal(run_ok(fast, &exec), 0x1234);
	sluice_vm_free(checked);
	sluice_vm_free(fast);
}

static void checked_refuses_store_to_read_only(void **state)
{
	uint8_t mem[8] = { 0 };
	uint8_t ctx[8] = { 9, 8, 7, 6, 5, 4, 3, 2 };
	struct sluice_region regions[2] = {
		{ .name = "mem", .base = mem, .size = sizeof(mem), .writable = true },
		{ .name = "ctx", .base = ctx, .size = sizeof(ctx), .writable = false },
	};
	struct sluice_exec exec = {
		.sz = sizeof(exec),
		.args = { PTR(mem), PTR(ctx) },
		.regions = regions,
		.nregions = 2,
	};
	struct sluice_vm *reads = vm_from("ldxb %r0, [%r2+1]\n"
					  "stxb [%r1], %r0\n"
					  "exit\n",
					  NULL, true, 0);
	struct sluice_vm *writes = vm_from("ldxb %r0, [%r2+1]\n"
					   "stxb [%r2], %r0\n"
					   "exit\n",
					   NULL, true, 0);
	static const char *const pc1[] = { "pc 1:", NULL };

	(void)state;
	assert_int_equal(run_ok(reads, &exec), 8);
	assert_int_equal(mem[0], 8);
	run_fails(writes, &exec, EFAULT, pc1);
	assert_int_equal(ctx[0], 9);
	sluice_vm_free(reads);
	sluice_vm_free(writes);
}

static void checked_refuses_misaligned_atomic(void **state)
{
	struct sluice_exec exec = { .sz = sizeof(exec) };
	struct sluice_vm *vm = vm_from("mov %r0, 0\n"
				       "mov %r1, 1\n"
				       "stdw [%r10-16], 0\n"
				       "lock add [%r10-12], %r1\n"
				       "exit\n",
				       NULL, true, 0);
	static const char *const pc3[] = { "pc 3:", NULL };

	(void)state;
	run_fails(vm, &exec, EFAULT, pc3);
	sluice_vm_free(vm);
}

/* ---- the instruction budget -------------------------------------------- */

static void budget_stops_endless_loop(void **state)
{
	struct sluice_exec exec = { .sz = sizeof(exec) };
	struct sluice_vm *vm = vm_from("mov %r0, 0\n"
				       "ja -1\n"
				       "exit\n",
				       NULL, false, 1000);

	(void)state;
	run_fails(vm, &exec, ELOOP, NULL);
	sluice_vm_free(vm);
}

/* 2 + 5 * 3 + 1 = 18 instructions, exit included. */
static const char sum_loop[] = "mov %r0, 0\n"
			       "mov %r1, 5\n"
			       "add %r0, %r1\n"
			       "sub %r1, 1\n"
			       "jne %r1, 0, -3\n"
			       "exit\n";

static void budget_counts_exactly(void **state)
{
	struct sluice_exec exec = { .sz = sizeof(exec) };
	struct sluice_vm *unlimited = vm_from(sum_loop, NULL, false, 0);
	struct sluice_vm *enough = vm_from(sum_loop, NULL, false, 18);
	struct sluice_vm *short_by_one = vm_from(sum_loop, NULL, false, 17);
	struct sluice_vm *checked = vm_from(sum_loop, NULL, true, 18);

	(void)state;
	assert_int_equal(run_ok(enough, &exec), 15);
	assert_int_equal(exec.executed, 18);
	exec.executed = 0;
	assert_int_equal(run_ok(checked, &exec), 15);
	assert_int_equal(exec.executed, 18);
	run_fails(short_by_one, &exec, ELOOP, NULL);
	assert_int_equal(run_ok(unlimited, &exec), 15);
	sluice_vm_free(unlimited);
	sluice_vm_free(enough);
	sluice_vm_free(short_by_one);
	sluice_vm_free(checked);
}

/* ---- local calls ------------------------------------------------------- */

/* f(n) calls itself until n == 1 and returns n: r1 = 7 uses 8 frames. */
static const char nest[] = "call local f\n"
			   "exit\n"
			   "f:\n"
			   "jeq %r1, 1, leaf\n"
			   "stdw [%r10-8], 1\n"
			   "sub %r1, 1\n"
			   "call local f\n"
			   "ldxdw %r1, [%r10-8]\n"
			   "add %r0, %r1\n"
			   "exit\n"
			   "leaf:\n"
			   "mov %r0, 1\n"
			   "exit\n";

static void call_depth_limit(void **state)
{
	struct sluice_exec exec = { .sz = sizeof(exec) };
	struct sluice_vm *fast = vm_from(nest, NULL, false, 0);
	struct sluice_vm *checked = vm_from(nest, NULL, true, 0);

	(void)state;
	exec.args[0] = SLUICE_MAX_CALL_FRAMES - 1;
	assert_int_equal(run_ok(fast, &exec), SLUICE_MAX_CALL_FRAMES - 1);
	assert_int_equal(run_ok(checked, &exec), SLUICE_MAX_CALL_FRAMES - 1);
	exec.args[0] = SLUICE_MAX_CALL_FRAMES;
	run_fails(fast, &exec, E2BIG, NULL);
	run_fails(checked, &exec, E2BIG, NULL);
	/* a failed run leaves the vm usable */
	exec.args[0] = 3;
	assert_int_equal(run_ok(fast, &exec), 3);
	sluice_vm_free(fast);
	sluice_vm_free(checked);
}

/* ---- helpers ----------------------------------------------------------- */

struct seen {
	uint64_t args[5];
	int calls;
};

static uint64_t record_args(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
			    uint64_t r5, struct sluice_run *run)
{
	struct seen *seen = sluice_run_user(run);

	seen->args[0] = r1;
	seen->args[1] = r2;
	seen->args[2] = r3;
	seen->args[3] = r4;
	seen->args[4] = r5;
	seen->calls++;
	return 0x1122334455667788ull;
}

static uint64_t stop_with_42(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
			     uint64_t r5, struct sluice_run *run)
{
	(void)r1, (void)r2, (void)r3, (void)r4, (void)r5;
	sluice_run_stop(run, 42);
	return 7;
}

static uint64_t add_one(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
			uint64_t r5, struct sluice_run *run)
{
	(void)r2, (void)r3, (void)r4, (void)r5, (void)run;
	return r1 + 1;
}

static struct sluice_helpers *test_helpers(void)
{
	struct sluice_error err = { 0 };
	struct sluice_helpers *helpers = sluice_helpers_new(&err);

	if (!helpers)
		fail_msg("sluice_helpers_new: %s", err.msg);
	assert_int_equal(sluice_helpers_add(helpers, 1, "record_args", record_args, &err), 0);
	assert_int_equal(sluice_helpers_add(helpers, 2, "stop_with_42", stop_with_42, &err), 0);
	assert_int_equal(sluice_helpers_add(helpers, 3, "add_one", add_one, &err), 0);
	return helpers;
}

static void helper_gets_args_and_sets_r0(void **state)
{
	struct sluice_helpers *helpers = test_helpers();
	struct seen seen = { 0 };
	struct sluice_exec exec = {
		.sz = sizeof(exec),
		.args = { 0x8000000000000001ull, 2, 0xffffffffffffffffull, 4,
			  0x0123456789abcdefull },
		.user = &seen,
	};
	/* exec.args arrive in r1..r5 untouched and go straight to the helper */
	struct sluice_vm *direct = vm_from("call 1\n"
					   "exit\n",
					   helpers, false, 0);
	struct sluice_vm *set = vm_from("mov %r1, 11\n"
					"mov %r2, -12\n"
					"mov %r3, 13\n"
					"lddw %r4, 0x100000000\n"
					"mov32 %r5, 0xffffffff\n"
					"call 1\n"
					"exit\n",
					helpers, true, 0);

	(void)state;
	assert_int_equal(run_ok(direct, &exec), 0x1122334455667788ull);
	assert_int_equal(seen.calls, 1);
	for (int i = 0; i < 5; i++)
		assert_int_equal(seen.args[i], exec.args[i]);

	assert_int_equal(run_ok(set, &exec), 0x1122334455667788ull);
	assert_int_equal(seen.calls, 2);
	assert_int_equal(seen.args[0], 11);
	assert_int_equal(seen.args[1], (uint64_t)-12);
	assert_int_equal(seen.args[2], 13);
	assert_int_equal(seen.args[3], 0x100000000ull);
	assert_int_equal(seen.args[4], 0xffffffffull);
	sluice_vm_free(direct);
	sluice_vm_free(set);
	sluice_helpers_free(helpers);
}

static void helper_stop_ends_program(void **state)
{
	struct sluice_helpers *helpers = test_helpers();
	struct sluice_exec exec = { .sz = sizeof(exec) };
	struct sluice_vm *vm = vm_from("mov %r0, 1\n"
				       "call 2\n"
				       "mov %r0, 3\n"
				       "exit\n",
				       helpers, false, 0);
	struct sluice_vm *nested = vm_from("call local f\n"
					   "mov %r0, 3\n"
					   "exit\n"
					   "f:\n"
					   "call 2\n"
					   "mov %r0, 4\n"
					   "exit\n",
					   helpers, true, 0);

	(void)state;
	assert_int_equal(run_ok(vm, &exec), 42);
	assert_int_equal(run_ok(vm, &exec), 42);
	/* stopping inside a local call ends the whole program */
	assert_int_equal(run_ok(nested, &exec), 42);
	sluice_vm_free(vm);
	sluice_vm_free(nested);
	sluice_helpers_free(helpers);
}

static void callx_calls_by_register(void **state)
{
	struct sluice_helpers *helpers = test_helpers();
	struct sluice_exec exec = { .sz = sizeof(exec) };
	struct sluice_vm *vm = vm_from("mov %r1, 41\n"
				       "mov %r6, %r2\n"
				       "call %r6\n"
				       "exit\n",
				       helpers, false, 0);

	(void)state;
	exec.args[1] = 3;
	assert_int_equal(run_ok(vm, &exec), 42);
	exec.args[1] = 77;
	run_fails(vm, &exec, ENOENT, NULL);
	exec.args[1] = 0x100000003ull; /* not id 3 */
	run_fails(vm, &exec, ENOENT, NULL);
	sluice_vm_free(vm);
	sluice_helpers_free(helpers);
}

static void callx_without_helpers(void **state)
{
	struct sluice_exec exec = { .sz = sizeof(exec) };
	struct sluice_vm *vm = vm_from("mov %r2, 5\n"
				       "call %r2\n"
				       "exit\n",
				       NULL, false, 0);

	(void)state;
	run_fails(vm, &exec, ENOENT, NULL);
	sluice_vm_free(vm);
}

/* ---- what sluice_vm_new refuses --------------------------------------- */

static void refuse(const struct sluice_insn *insns, size_t count,
		   const struct sluice_helpers *helpers, const char *want)
{
	struct sluice_vm_opts opts = { .sz = sizeof(opts), .helpers = helpers };
	struct sluice_error err = { 0 };
	struct sluice_vm *vm = sluice_vm_new(insns, count, &opts, &err);

	if (vm)
		fail_msg("sluice_vm_new accepted a program it should refuse");
	if (err.code != EINVAL && err.code != ENOENT)
		fail_msg("error code %d (%s), want EINVAL or ENOENT", err.code, err.msg);
	if (want && !strstr(err.msg, want))
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, want);
}

static void vm_new_refuses_unknown_helper(void **state)
{
	struct sluice_helpers *helpers = test_helpers();
	size_t count = 0;
	struct sluice_insn *insns = assemble("mov %r1, 0\n"
					     "call 99\n"
					     "exit\n",
					     &count);

	(void)state;
	refuse(insns, count, helpers, "99");
	refuse(insns, count, NULL, "99");
	free(insns);
	sluice_helpers_free(helpers);
}

/* What only a loader or the kernel can resolve is refused up front, by name. */
static void vm_new_refuses_unresolved_references(void **state)
{
	size_t count = 0;
	struct sluice_insn *map_ref = assemble("lddw_map %r1, 3\n"
					       "mov %r0, 0\n"
					       "exit\n",
					       &count);
	struct sluice_insn kfunc[] = {
		{ .code = 0x85, .src = 2, .imm = 1234 }, { .code = 0x95 },
	};

	(void)state;
	refuse(map_ref, count, NULL, "pc 0: lddw_map refers to something only a loader resolves");
	refuse(kfunc, 2, NULL, "pc 0: calls kernel function 1234");
	free(map_ref);
}

static void vm_new_refuses_invalid_program(void **state)
{
	static const struct sluice_insn bad_opcode[] = {
		{ .code = 0xff }, { .code = 0x95 },
	};
	static const struct sluice_insn jump_out[] = {
		{ .code = 0x05, .off = 5 }, { .code = 0x95 },
	};
	static const struct sluice_insn jump_before_start[] = {
		{ .code = 0x05, .off = -2 }, { .code = 0x95 },
	};
	static const struct sluice_insn bad_register[] = {
		{ .code = 0xb7, .dst = 11 }, { .code = 0x95 },
	};
	static const struct sluice_insn lddw_cut[] = {
		{ .code = 0x95 }, { .code = 0x18, .imm = 1 },
	};
	static const struct sluice_insn into_lddw[] = {
		{ .code = 0x05, .off = 1 }, { .code = 0x18 }, { 0 }, { .code = 0x95 },
	};
	static const struct sluice_insn call_local_out[] = {
		{ .code = 0x85, .src = 1, .imm = 10 }, { .code = 0x95 },
	};
	struct sluice_vm_opts opts = { .sz = sizeof(opts) };
	struct sluice_error err = { 0 };

	(void)state;
	refuse(bad_opcode, 2, NULL, "pc 0");
	refuse(jump_out, 2, NULL, "pc 0");
	refuse(jump_before_start, 2, NULL, "pc 0");
	refuse(bad_register, 2, NULL, "pc 0");
	refuse(lddw_cut, 2, NULL, "pc 1");
	refuse(into_lddw, 4, NULL, "pc 0");
	refuse(call_local_out, 2, NULL, "pc 0");
	/* and an options struct that is too small */
	opts.sz = sizeof(opts) - 1;
	assert_null(sluice_vm_new(bad_opcode + 1, 1, &opts, &err));
	assert_int_equal(err.code, EINVAL);
}

/* ---- legacy packet loads ----------------------------------------------- */

/* An Ethernet header (type 0x0800 at 12) and the start of an IPv4 header. */
static const uint8_t packet[] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
	0x08, 0x00, 0x45, 0x00, 0x00, 0x54, 0xab, 0xcd,
};

static uint64_t run_packet(const char *text, bool checked)
{
	struct sluice_exec exec = {
		.sz = sizeof(exec),
		.packet = packet,
		.packet_len = sizeof(packet),
	};
	struct sluice_vm *vm = vm_from(text, NULL, checked, 0);
	uint64_t r0 = run_ok(vm, &exec);

	sluice_vm_free(vm);
	return r0;
}

static void ld_abs_reads_big_endian(void **state)
{
	(void)state;
	for (int checked = 0; checked < 2; checked++) {
		/* r0 = -1 first: the loads replace all 64 bits */
		assert_int_equal(run_packet("mov %r0, -1\nldabsh 12\nexit\n", checked), 0x0800);
		assert_int_equal(run_packet("mov %r0, -1\nldabsb 14\nexit\n", checked), 0x45);
		assert_int_equal(run_packet("mov %r0, -1\nldabsw 14\nexit\n", checked),
				 0x45000054);
		assert_int_equal(run_packet("ldabsw 16\nexit\n", checked), 0x0054abcd);
		/* the last bytes of the packet are in range */
		assert_int_equal(run_packet("ldabsh 18\nexit\n", checked), 0xabcd);
		assert_int_equal(run_packet("ldabsb 19\nexit\n", checked), 0xcd);
	}
}

static void ld_ind_adds_register(void **state)
{
	(void)state;
	for (int checked = 0; checked < 2; checked++) {
		assert_int_equal(run_packet("mov %r7, 10\nldindh %r7, 2\nexit\n", checked),
				 0x0800);
		assert_int_equal(run_packet("mov %r3, 14\nldindb %r3, 0\nexit\n", checked),
				 0x45);
		assert_int_equal(run_packet("mov %r1, 20\nldindw %r1, -6\nexit\n", checked),
				 0x45000054);
		/* the register is left alone */
		assert_int_equal(run_packet("mov %r7, 10\nldindh %r7, 2\nmov %r0, %r7\nexit\n",
					    checked),
				 10);
	}
}

static void ld_abs_out_of_range_returns_zero(void **state)
{
	struct sluice_exec no_packet = { .sz = sizeof(no_packet) };
	struct sluice_vm *vm;

	(void)state;
	for (int checked = 0; checked < 2; checked++) {
		/* each ends the program at once with r0 = 0, not at `mov %r0, 5` */
		assert_int_equal(run_packet("mov %r0, 99\nldabsw 17\nmov %r0, 5\nexit\n",
					    checked), 0);
		assert_int_equal(run_packet("mov %r0, 99\nldabsh 19\nmov %r0, 5\nexit\n",
					    checked), 0);
		assert_int_equal(run_packet("mov %r0, 99\nldabsb 20\nmov %r0, 5\nexit\n",
					    checked), 0);
		assert_int_equal(run_packet("mov %r0, 99\nldabsb 100000\nmov %r0, 5\nexit\n",
					    checked), 0);
		assert_int_equal(run_packet("mov %r0, 99\nmov %r2, 18\nldindw %r2, 0\n"
					    "mov %r0, 5\nexit\n", checked), 0);
		assert_int_equal(run_packet("mov %r0, 99\nmov %r2, 1000\nldindb %r2, 0\n"
					    "mov %r0, 5\nexit\n", checked), 0);
	}
	/* no packet at all */
	vm = vm_from("mov %r0, 99\nldabsb 0\nmov %r0, 5\nexit\n", NULL, false, 0);
	assert_int_equal(run_ok(vm, &no_packet), 0);
	sluice_vm_free(vm);
}

/* ---- running ----------------------------------------------------------- */

static void falling_off_the_end_is_an_error(void **state)
{
	struct sluice_exec exec = { .sz = sizeof(exec) };
	/* r1 == 0 takes the path that runs past the last instruction */
	const char *text = "mov %r0, 1\n"
			   "jeq %r1, 0, +1\n"
			   "exit\n"
			   "mov %r0, 2\n";
	struct sluice_vm *fast = vm_from(text, NULL, false, 0);
	struct sluice_vm *checked = vm_from(text, NULL, true, 0);

	(void)state;
	exec.args[0] = 1;
	assert_int_equal(run_ok(fast, &exec), 1);
	exec.args[0] = 0;
	run_fails(fast, &exec, EINVAL, NULL);
	run_fails(checked, &exec, EINVAL, NULL);
	sluice_vm_free(fast);
	sluice_vm_free(checked);
}

static void exec_args_fill_r1_to_r5(void **state)
{
	struct sluice_exec exec = {
		.sz = sizeof(exec),
		.args = { 1, 0x20, 0x300, 0x4000, 0x8000000000050000ull },
	};
	struct sluice_vm *vm = vm_from("mov %r0, %r1\n"
				       "add %r0, %r2\n"
				       "add %r0, %r3\n"
				       "add %r0, %r4\n"
				       "add %r0, %r5\n"
				       "exit\n",
				       NULL, false, 0);

	(void)state;
	assert_int_equal(run_ok(vm, &exec), 0x8000000000054321ull);
	sluice_vm_free(vm);
}

/* A callback starts at its subprogram with its own arguments, and returns from it. */
static void exec_starts_at_entry(void **state)
{
	struct sluice_exec exec = { .sz = sizeof(exec), .args = { 7 }, .entry = 4 };
	struct sluice_vm *vm = vm_from("mov %r0, 1\n"
				       "lddw %r2, 0x100000000\n"
				       "exit\n"
				       "mov %r0, %r1\n"
				       "mul %r0, 6\n"
				       "exit\n",
				       NULL, false, 0);
	static const char *const half[] = { "entry 2", "not an instruction", NULL };
	static const char *const past[] = { "entry 7", NULL };

	(void)state;
	assert_int_equal(run_ok(vm, &exec), 42);
	exec.entry = 0;
	assert_int_equal(run_ok(vm, &exec), 1);
	exec.entry = 2; /* the lddw's second half */
	run_fails(vm, &exec, EINVAL, half);
	exec.entry = 7;
	run_fails(vm, &exec, EINVAL, past);
	sluice_vm_free(vm);
}

static void vm_runs_many_times(void **state)
{
	uint8_t mem[8] = { 5, 0, 0, 0, 0, 0, 0, 0 };
	struct sluice_region region;
	struct sluice_exec exec = exec_with_mem(&region, mem, sizeof(mem));
	/* sum 1..mem[0] through the stack, then a local call adds 100 */
	const char *text = "ldxb %r6, [%r1]\n"
			   "stdw [%r10-8], 0\n"
			   "loop:\n"
			   "ldxdw %r2, [%r10-8]\n"
			   "add %r2, %r6\n"
			   "stxdw [%r10-8], %r2\n"
			   "sub %r6, 1\n"
			   "jne %r6, 0, loop\n"
			   "ldxdw %r1, [%r10-8]\n"
			   "call local f\n"
			   "exit\n"
			   "f:\n"
			   "mov %r0, %r1\n"
			   "add %r0, 100\n"
			   "exit\n";

	(void)state;
	for (int checked = 0; checked < 2; checked++) {
		struct sluice_vm *vm = vm_from(text, NULL, checked, 0);
		uint64_t executed;

		assert_int_equal(run_ok(vm, &exec), 115);
		executed = exec.executed;
		assert_int_equal(run_ok(vm, &exec), 115);
		assert_int_equal(exec.executed, executed);
		mem[0] = 10;
		assert_int_equal(run_ok(vm, &exec), 155);
		mem[0] = 5;
		assert_int_equal(run_ok(vm, &exec), 115);
		assert_int_equal(exec.executed, executed);
		sluice_vm_free(vm);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(checked_load_just_past_region),
		cmocka_unit_test(checked_load_straddling_end),
		cmocka_unit_test(checked_load_before_region),
		cmocka_unit_test(checked_store_straddling_end),
		cmocka_unit_test(checked_stack_below_frame),
		cmocka_unit_test(checked_stack_at_frame_pointer),
		cmocka_unit_test(checked_edges_are_allowed),
		cmocka_unit_test(checked_and_unchecked_agree_in_bounds),
		cmocka_unit_test(checked_refuses_store_to_read_only),
		cmocka_unit_test(checked_refuses_misaligned_atomic),
		cmocka_unit_test(budget_stops_endless_loop),
		cmocka_unit_test(budget_counts_exactly),
		cmocka_unit_test(call_depth_limit),
		cmocka_unit_test(helper_gets_args_and_sets_r0),
		cmocka_unit_test(helper_stop_ends_program),
		cmocka_unit_test(callx_calls_by_register),
		cmocka_unit_test(callx_without_helpers),
		cmocka_unit_test(vm_new_refuses_unknown_helper),
		cmocka_unit_test(vm_new_refuses_invalid_program),
		cmocka_unit_test(vm_new_refuses_unresolved_references),
		cmocka_unit_test(ld_abs_reads_big_endian),
		cmocka_unit_test(ld_ind_adds_register),
		cmocka_unit_test(ld_abs_out_of_range_returns_zero),
		cmocka_unit_test(falling_off_the_end_is_an_error),
		cmocka_unit_test(exec_args_fill_r1_to_r5),
		cmocka_unit_test(exec_starts_at_entry),
		cmocka_unit_test(vm_runs_many_times),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
