/* SPDX-License-Identifier: MIT */
/*
 * The JIT's API and the properties of its code: the encodings of pinned
 * registers, folded immediates and fused compares, jump sizes settling at
 * the 8-bit boundary, W^X memory, constant blinding, the System V helper
 * ABI (arguments, run, stack alignment), stops and errors unwinding from
 * nested calls, and what sluice_jit_new refuses.  The instruction set
 * itself is tested by tests/isa and the conformance suite (conformance_jit,
 * isa_jit), and against the interpreter by test_jit_diff.
 */
#include <errno.h>
#include <inttypes.h>
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
#include <sluice/jit.h>

static struct sluice_jit *jit_from(const char *text, const struct sluice_helpers *helpers,
				   bool blind)
{
	struct sluice_jit_opts opts = {
		.sz = sizeof(opts), .helpers = helpers, .blind_constants = blind,
	};
	struct sluice_error err = { 0 };
	struct sluice_insn *insns;
	struct sluice_jit *jit;
	size_t count = 0;

	insns = assemble(text, &count);
	jit = sluice_jit_new(insns, count, &opts, &err);
	free(insns);
	if (!jit)
		fail_msg("sluice_jit_new: %s\n%s", err.msg, text);
	return jit;
}

static int run(struct sluice_jit *jit, struct sluice_exec *exec, uint64_t *r0,
	       struct sluice_error *err)
{
	struct sluice_exec none = { .sz = sizeof(none) };

	return sluice_jit_exec(jit, exec ? exec : &none, r0, err);
}

static uint64_t run_ok(struct sluice_jit *jit, struct sluice_exec *exec)
{
	struct sluice_error err = { 0 };
	uint64_t r0 = 0xdeadbeef;

	if (run(jit, exec, &r0, &err))
		fail_msg("sluice_jit_exec: %s", err.msg);
	return r0;
}

/* The bytes the instruction at pc became. */
static void insn_code(const struct sluice_jit *jit, size_t pc, const uint8_t **bytes,
		      size_t *len)
{
	size_t count, code_len;
	const uint32_t *offsets = sluice_jit_offsets(jit, &count);
	const uint8_t *code = sluice_jit_code(jit, &code_len);

	assert_true(pc < count);
	*bytes = code + offsets[pc];
	*len = offsets[pc + 1] - offsets[pc];
}

static void assert_insn_code(const struct sluice_jit *jit, size_t pc, const uint8_t *want,
			     size_t want_len)
{
	const uint8_t *bytes;
	size_t len;

	insn_code(jit, pc, &bytes, &len);
	assert_int_equal(len, want_len);
	assert_memory_equal(bytes, want, want_len);
}
#define ASSERT_CODE(jit, pc, ...)                                                       \
	assert_insn_code(jit, pc, (const uint8_t[]){ __VA_ARGS__ },                     \
			 sizeof((const uint8_t[]){ __VA_ARGS__ }))

/* Registers pinned as the table says, immediates in the instruction, cmp + jcc fused. */
static void test_encodings(void **state)
{
	struct sluice_jit *jit = jit_from("mov %r7, %r9\n"          /* 0 */
					  "add %r0, 1\n"            /* 1 */
					  "add32 %r6, 0x12345\n"    /* 2 */
					  "mov %r8, %r8\n"          /* 3: nothing to do */
					  "mov32 %r8, %r8\n"        /* 4: clears the top half */
					  "ldxw %r0, [%r10-4]\n"    /* 5 */
					  "stxb [%r1+2], %r2\n"     /* 6: sil needs a REX */
					  "jsgt %r3, 7, +1\n"       /* 7 */
					  "lsh %r1, 64\n"           /* 8: masked to 0 */
					  "div %r0, 8\n"            /* 9: a shift */
					  "exit\n",
					  NULL, false);

	(void)state;
	ASSERT_CODE(jit, 0, 0x4d, 0x89, 0xfd);                /* mov r13, r15 */
	ASSERT_CODE(jit, 1, 0x48, 0x83, 0xc0, 0x01);          /* add rax, 1 */
	ASSERT_CODE(jit, 2, 0x81, 0xc3, 0x45, 0x23, 0x01, 0x00); /* add ebx, 0x12345 */
	ASSERT_CODE(jit, 3);
	ASSERT_CODE(jit, 4, 0x45, 0x89, 0xf6);                /* mov r14d, r14d */
	ASSERT_CODE(jit, 5, 0x8b, 0x45, 0xfc);                /* mov eax, [rbp-4] */
	ASSERT_CODE(jit, 6, 0x40, 0x88, 0x77, 0x02);          /* mov [rdi+2], sil */
	ASSERT_CODE(jit, 7, 0x48, 0x83, 0xfa, 0x07, 0x7f, 0x00); /* cmp rdx, 7 ; jg +0 */
	ASSERT_CODE(jit, 8);
	ASSERT_CODE(jit, 9, 0x48, 0xc1, 0xe8, 0x03);          /* shr rax, 3 */
	sluice_jit_free(jit);
}

/*
 * A jump over a short jump and n + 1 four-byte instructions: 2 bytes while
 * they fit in 127, 5 beyond, with the result right either way.  The inner
 * jump is long in the first pass and short from the second, so around
 * n = 30 the outer one's size settles only in the third.
 */
static void test_jump_sizes_settle(void **state)
{
	(void)state;
	for (int n = 25; n <= 35; n++) {
		char text[4096];
		size_t len = 0, count;
		const uint8_t *bytes;
		struct sluice_jit *jit;
		bool fits = 2 + 4 + 4 * n <= 127;

		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"mov %%r0, 0\nja +%d\nja +1\nadd %%r0, 7\n", n + 2);
		for (int i = 0; i < n; i++)
			len += (size_t)snprintf(text + len, sizeof(text) - len, "add %%r0, 1\n");
		snprintf(text + len, sizeof(text) - len, "add %%r0, 1000\nexit\n");
		jit = jit_from(text, NULL, false);
		assert_int_equal(run_ok(jit, NULL), 1000);
		insn_code(jit, 1, &bytes, &count);
		assert_int_equal(count, fits ? 2 : 5);
		assert_int_equal(bytes[0], fits ? 0xeb : 0xe9);
		sluice_jit_free(jit);
	}
}

/* The code is mapped read + execute, never writable. */
static void test_code_is_not_writable(void **state)
{
	struct sluice_jit *jit = jit_from("mov %r0, 1\nexit\n", NULL, false);
	uintptr_t code;
	char line[512];
	size_t len;
	bool found = false;
	FILE *maps = fopen("/proc/self/maps", "r");

	(void)state;
	code = (uintptr_t)sluice_jit_code(jit, &len);
	assert_non_null(maps);
	while (fgets(line, sizeof(line), maps)) {
		uintptr_t lo, hi;
		char perms[5];

		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %4s", &lo, &hi, perms) != 3 ||
		    code < lo || code >= hi)
			continue;
		assert_string_equal(perms, "r-xp");
		found = true;
	}
	fclose(maps);
	assert_true(found);
	sluice_jit_free(jit);
}

static bool contains(const uint8_t *hay, size_t len, const void *needle, size_t n)
{
	for (size_t i = 0; i + n <= len; i++)
		if (!memcmp(hay + i, needle, n))
			return true;
	return false;
}

/* With blinding, no immediate of the program appears in the code, and results do not change. */
static void test_blinding_hides_immediates(void **state)
{
	static const char text[] =
		"mov %r0, 0x41424344\n"
		"add %r0, 0x41424344\n"
		"mul32 %r0, 0x41424344\n"
		"xor %r0, 0x41424344\n"
		"stw [%r10-4], 0x41424344\n"
		"ldxw %r1, [%r10-4]\n"
		"add %r0, %r1\n"
		"lddw %r2, 0x4142434445464748\n"
		"add %r0, %r2\n"
		"div %r0, 0x41424344\n"
		"jset %r0, 0x41424344, +1\n"
		"add %r0, 3\n"
		"jgt %r0, 0x41424344, +1\n"
		"add %r0, 5\n"
		"exit\n";
	static const uint8_t imm32[] = { 0x44, 0x43, 0x42, 0x41 };
	static const uint8_t imm64[] = { 0x48, 0x47, 0x46, 0x45, 0x44, 0x43, 0x42, 0x41 };
	struct sluice_jit *plain = jit_from(text, NULL, false);
	uint64_t want = run_ok(plain, NULL);
	const uint8_t *code;
	size_t len;

	(void)state;
	code = sluice_jit_code(plain, &len);
	assert_true(contains(code, len, imm32, sizeof(imm32)));
	sluice_jit_free(plain);
	for (int i = 0; i < 4; i++) { /* each compile draws new keys */
		struct sluice_jit *blinded = jit_from(text, NULL, true);

		code = sluice_jit_code(blinded, &len);
		assert_false(contains(code, len, imm32, sizeof(imm32)));
		assert_false(contains(code, len, imm64, sizeof(imm64)));
		assert_int_equal(run_ok(blinded, NULL), want);
		sluice_jit_free(blinded);
	}
}

/* The helpers' view: r1-r5, the run, the user pointer, a 16-byte aligned stack. */
struct helper_seen {
	uint64_t args[5];
	void *user;
	unsigned misaligned;
	unsigned calls;
};

static uint64_t helper_record(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
			      uint64_t r5, struct sluice_run *run)
{
	struct helper_seen *seen = sluice_run_user(run);

	memcpy(seen->args, (uint64_t[5]){ r1, r2, r3, r4, r5 }, sizeof(seen->args));
	seen->user = seen;
	seen->misaligned += (uintptr_t)__builtin_frame_address(0) % 16 != 0;
	seen->calls++;
	return r1 + r2 + r3 + r4 + r5;
}

/* Stops the program with r0 = r1 when r2 is 1. */
static uint64_t helper_stop(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
			    uint64_t r5, struct sluice_run *run)
{
	(void)r3, (void)r4, (void)r5;
	if (r2 == 1)
		sluice_run_stop(run, r1);
	return 7;
}

static struct sluice_helpers *test_helpers(void)
{
	struct sluice_error err = { 0 };
	struct sluice_helpers *helpers = sluice_helpers_new(&err);

	assert_non_null(helpers);
	assert_int_equal(sluice_helpers_add(helpers, 1, "record", helper_record, &err), 0);
	assert_int_equal(sluice_helpers_add(helpers, 3, "stop", helper_stop, &err), 0);
	return helpers;
}

static void test_helper_abi(void **state)
{
	struct sluice_helpers *helpers = test_helpers();
	struct helper_seen seen = { 0 };
	struct sluice_exec exec = { .sz = sizeof(exec), .user = &seen };
	/* r6-r9 and the stack survive a helper call; the second call is a
	 * callx two local calls down */
	struct sluice_jit *jit = jit_from("mov %r6, 6\nmov %r7, 7\nmov %r8, 8\nmov %r9, 9\n"
					  "stdw [%r10-8], 99\n"
					  "mov %r1, 1\nmov %r2, 2\nmov %r3, 3\nmov %r4, 4\nmov %r5, 5\n"
					  "call 1\n"
					  "ldxdw %r1, [%r10-8]\nadd %r0, %r1\n"
					  "add %r0, %r6\nadd %r0, %r7\nadd %r0, %r8\nadd %r0, %r9\n"
					  "mov %r6, %r0\n"
					  "call local f\n"
					  "add %r0, %r6\n"
					  "exit\n"
					  "f:\ncall local g\nexit\n"
					  "g:\nmov %r1, 10\nmov %r2, 20\nmov %r3, 30\nmov %r4, 40\n"
					  "mov %r5, 50\nmov %r9, 1\ncall %r9\nexit\n",
					  helpers, false);

	(void)state;
	/* (15 + 99 + 6 + 7 + 8 + 9), kept in r6 through the calls, + 150 */
	assert_int_equal(run_ok(jit, &exec), 144 + 150);
	assert_int_equal(seen.calls, 2);
	assert_memory_equal(seen.args, ((uint64_t[5]){ 10, 20, 30, 40, 50 }), sizeof(seen.args));
	assert_ptr_equal(seen.user, &seen);
	assert_int_equal(seen.misaligned, 0);
	sluice_jit_free(jit);
	sluice_helpers_free(helpers);
}

/*
 * However many registers the entry saves, with or without local calls,
 * helpers find rsp 16-byte aligned.
 */
static void test_helper_stack_alignment(void **state)
{
	static const char *const programs[] = {
		"call 1\nexit\n",
		"mov %r6, 1\ncall 1\nexit\n",
		"mov %r6, 1\nmov %r7, 1\ncall 1\nexit\n",
		"mov %r6, 1\nmov %r7, 1\nmov %r8, 1\ncall 1\nexit\n",
		"mov %r6, 1\nmov %r7, 1\nmov %r8, 1\nmov %r9, 1\ncall 1\nexit\n",
		"mov %r6, %r10\nmov %r7, 1\nmov %r8, 1\nmov %r9, 1\ncall 1\nexit\n",
		"call local f\nexit\nf:\ncall 1\nexit\n",
		"mov %r6, 1\ncall local f\nexit\nf:\ncall 1\nexit\n",
		("mov %r6, %r10\nmov %r7, 1\nmov %r8, 1\nmov %r9, 1\ncall local f\nexit\n"
		 "f:\ncall 1\nexit\n"),
	};
	struct sluice_helpers *helpers = test_helpers();

	(void)state;
	for (size_t i = 0; i < sizeof(programs) / sizeof(programs[0]); i++) {
		struct helper_seen seen = { 0 };
		struct sluice_exec exec = { .sz = sizeof(exec), .user = &seen };
		struct sluice_jit *jit = jit_from(programs[i], helpers, false);

		run_ok(jit, &exec);
		assert_int_equal(seen.calls, 1);
		if (seen.misaligned)
			fail_msg("misaligned stack in a helper called by:\n%s", programs[i]);
		sluice_jit_free(jit);
	}
	sluice_helpers_free(helpers);
}

/*
 * A stop from three frames down, and an ld_abs past the packet from two,
 * unwind to the caller; the next run starts clean.
 */
static void test_early_ends_unwind(void **state)
{
	struct sluice_helpers *helpers = test_helpers();
	uint8_t packet[4] = { 1, 2, 3, 4 };
	struct sluice_exec exec = {
		.sz = sizeof(exec), .packet = packet, .packet_len = sizeof(packet),
	};
	struct sluice_jit *jit = jit_from("mov %r6, %r1\n"
					  "call local f\n"
					  "mov %r0, 1\n"
					  "exit\n"
					  "f:\ncall local g\nexit\n"
					  "g:\njeq %r6, 1, stop\n"
					  "ldindw %r6, 0\n"
					  "exit\n"
					  "stop:\nmov %r1, 42\nmov %r2, 1\ncall 3\n"
					  "mov %r0, 5\nexit\n",
					  helpers, false);

	(void)state;
	for (int i = 0; i < 3; i++) {
		exec.args[0] = 1; /* stop: r0 = 42 */
		assert_int_equal(run_ok(jit, &exec), 42);
		exec.args[0] = 0; /* in bounds: back through both calls, r0 = 1 */
		assert_int_equal(run_ok(jit, &exec), 1);
		exec.args[0] = 1000; /* out of bounds: r0 = 0 */
		assert_int_equal(run_ok(jit, &exec), 0);
	}
	sluice_jit_free(jit);
	sluice_helpers_free(helpers);
}

/* The same errors, with the same messages, as the interpreter's. */
static void assert_same_error(const char *text, const struct sluice_helpers *helpers,
			      int code, const char *msg)
{
	struct sluice_vm_opts vm_opts = { .sz = sizeof(vm_opts), .helpers = helpers };
	struct sluice_error jit_err = { 0 }, vm_err = { 0 };
	struct sluice_jit *jit = jit_from(text, helpers, false);
	struct sluice_insn *insns;
	struct sluice_vm *vm;
	size_t count;
	uint64_t r0;

	assert_int_equal(run(jit, NULL, &r0, &jit_err), -code);
	assert_string_equal(jit_err.msg, msg);
	sluice_jit_free(jit);
	insns = assemble(text, &count);
	vm = sluice_vm_new(insns, count, &vm_opts, &vm_err);
	free(insns);
	assert_non_null(vm);
	assert_int_equal(sluice_vm_exec(vm, &(struct sluice_exec){ .sz = sizeof(struct sluice_exec) },
					&r0, &vm_err), -code);
	assert_string_equal(vm_err.msg, msg);
	sluice_vm_free(vm);
}

static void test_run_errors(void **state)
{
	struct sluice_helpers *helpers = test_helpers();

	(void)state;
	assert_same_error("mov %r0, 1\n", NULL, EINVAL, "pc 1: fell off the end of the program");
	assert_same_error("call local f\nexit\nf:\nmov %r0, 1\n", NULL, EINVAL,
			  "pc 3: fell off the end of the program");
	assert_same_error("call local f\nexit\nf:\ncall local f\nexit\n", NULL, E2BIG,
			  "pc 2: local calls nested deeper than 8 frames");
	assert_same_error("mov %r3, 1\ncall %r3\nexit\n", NULL, ENOENT,
			  "pc 1: callx to 1, which is no helper");
	assert_same_error("mov %r3, 2\ncall %r3\nexit\n", helpers, ENOENT,
			  "pc 1: callx to 2, which is no helper");
	assert_same_error("lddw %r8, 0x100000001\ncall %r8\nexit\n", helpers, ENOENT,
			  "pc 2: callx to 4294967297, which is no helper");
	sluice_helpers_free(helpers);
}

/* A program with seven nested calls is fine; the limit is the eighth. */
static void test_deepest_call(void **state)
{
	/* r0 = r10 in the main frame minus r10 in the deepest */
	struct sluice_jit *jit = jit_from("mov %r6, %r10\nmov %r1, 7\ncall local f\n"
					  "sub %r6, %r0\nmov %r0, %r6\nexit\n"
					  "f:\nmov %r0, %r10\njeq %r1, 1, +2\n"
					  "sub %r1, 1\ncall local f\nexit\n",
					  NULL, false);

	(void)state;
	assert_int_equal(run_ok(jit, NULL), 7 * 512);
	sluice_jit_free(jit);
}

static void assert_refused(const char *text, const struct sluice_jit_opts *opts, int code,
			   const char *msg)
{
	struct sluice_error err = { 0 };
	struct sluice_insn *insns;
	size_t count;

	insns = assemble(text, &count);
	assert_null(sluice_jit_new(insns, count, opts, &err));
	free(insns);
	assert_int_equal(errno, code);
	assert_string_equal(err.msg, msg);
}

static void test_refusals(void **state)
{
	struct sluice_jit_opts opts = { .sz = sizeof(opts) };
	struct sluice_jit_opts small = { .sz = sizeof(opts) - 1 };
	struct sluice_insn map_fd[] = {
		{ .code = 0x18, .dst = 1, .src = 1, .imm = 3 }, { 0 },
		{ .code = 0x95 },
	};
	struct sluice_insn kfunc[] = { { .code = 0x85, .src = 2, .imm = 77 }, { .code = 0x95 } };
	struct sluice_error err = { 0 };
	struct sluice_jit *jit = jit_from("exit\n", NULL, false);
	uint64_t r0;

	(void)state;
	assert_refused("exit\n", &small, EINVAL, "sluice_jit_opts: bad size");
	assert_refused("call 9\nexit\n", &opts, ENOENT, "pc 0: call to unknown helper 9");
	assert_refused("ja +5\nexit\n", &opts, EINVAL,
		       "pc 0: ja target 6 is outside the program (0..1)");
	assert_null(sluice_jit_new(map_fd, 3, &opts, &err));
	assert_int_equal(err.code, EINVAL);
	assert_non_null(strstr(err.msg, "only a loader resolves"));
	assert_null(sluice_jit_new(kfunc, 2, &opts, &err));
	assert_string_equal(err.msg, "pc 0: calls kernel function 77, which user space cannot run");
	assert_int_equal(sluice_jit_exec(jit, &(struct sluice_exec){ .sz = 1 }, &r0, &err), -EINVAL);
	assert_string_equal(err.msg, "sluice_exec: bad size");
	sluice_jit_free(jit);
	sluice_jit_free(NULL);
}

/* offsets: one per slot, increasing, the lddw's second slot empty, inside the code. */
static void test_offsets(void **state)
{
	struct sluice_jit *jit = jit_from("lddw %r0, 0x123456789\nadd %r0, 1\nexit\n", NULL, false);
	size_t count, len;
	const uint32_t *offsets = sluice_jit_offsets(jit, &count);

	(void)state;
	sluice_jit_code(jit, &len);
	assert_int_equal(count, 4);
	assert_true(offsets[0] < offsets[1]); /* the entry may be empty: nothing to save */
	assert_int_equal(offsets[1], offsets[2]);
	assert_true(offsets[2] < offsets[3] && offsets[3] < offsets[4] && offsets[4] <= len);
	assert_int_equal(run_ok(jit, NULL), 0x12345678a);
	sluice_jit_free(jit);
}

/*
 * A rotation spelled as two shifts and an or becomes mov + rol when its
 * spare copy is dead, in either shift order and at both widths; a live copy
 * keeps all five instructions.
 */
static void test_rotation(void **state)
{
	static const struct {
		const char *text;
		uint64_t r1, r0;
		size_t bytes; /* of pc 0's code */
	} cases[] = {
		{ "mov32 %r0, %r1\nlsh32 %r0, 8\nmov32 %r2, %r1\nrsh32 %r2, 24\nor32 %r0, %r2\nexit\n",
		  0x12345678, 0x34567812, 5 },               /* mov eax, edi ; rol eax, 8 */
		{ "mov %r0, %r1\nrsh %r0, 56\nmov %r2, %r1\nlsh %r2, 8\nor %r0, %r2\nexit\n",
		  0x1234567812345678, 0x3456781234567812, 7 }, /* mov rax, rdi ; rol rax, 8 */
		{ "mov32 %r0, %r1\nlsh32 %r0, 8\nmov32 %r2, %r1\nrsh32 %r2, 24\nor32 %r0, %r2\n"
		  "add %r0, %r2\nexit\n", 0x12345678, 0x34567812 + 0x12, 2 }, /* r2 is read after */
		{ "mov32 %r0, %r1\nlsh32 %r0, 8\nmov32 %r2, %r1\nrsh32 %r2, 20\nor32 %r0, %r2\nexit\n",
		  0x12345678, 0x34567800 | 0x123, 2 },        /* 8 + 20 is not 32 */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sluice_jit *jit = jit_from(cases[i].text, NULL, false);
		struct sluice_exec exec = { .sz = sizeof(exec), .args = { cases[i].r1 } };
		const uint8_t *bytes;
		size_t len;

		insn_code(jit, 0, &bytes, &len);
		assert_int_equal(len, cases[i].bytes);
		assert_int_equal(run_ok(jit, &exec), cases[i].r0);
		sluice_jit_free(jit);
	}
}

/* Programs that cannot fail and need no context are plain functions of r1-r5. */
static void test_plain_function(void **state)
{
	static const char *const with_context[] = {
		"call 1\nexit\n",                              /* a helper may stop it */
		"mov %r0, 1\n",                                 /* falls off the end */
		"call local f\nexit\nf:\nexit\n",            /* may nest too deep */
		"ldabsb 0\nexit\n",                            /* may read past the packet */
		"mov %r1, 1\ncall %r1\nexit\n",               /* may call no helper */
	};
	struct sluice_helpers *helpers = test_helpers();
	struct sluice_jit *jit = jit_from("stxdw [%r10-8], %r1\nldxdw %r0, [%r10-8]\n"
					  "mul %r0, %r2\nadd %r0, %r5\nja +0\nexit\n",
					  NULL, false);
	struct sluice_exec exec = { .sz = sizeof(exec), .args = { 6, 7, 0, 0, 3 } };
	sluice_jit_fn fn = sluice_jit_function(jit);

	(void)state;
	assert_non_null(fn);
	assert_int_equal(fn(6, 7, 0, 0, 3), 45);
	assert_int_equal(run_ok(jit, &exec), 45);
	sluice_jit_free(jit);
	for (size_t i = 0; i < sizeof(with_context) / sizeof(with_context[0]); i++) {
		jit = jit_from(with_context[i], helpers, false);
		assert_null(sluice_jit_function(jit));
		sluice_jit_free(jit);
	}
	sluice_helpers_free(helpers);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encodings),
		cmocka_unit_test(test_jump_sizes_settle),
		cmocka_unit_test(test_code_is_not_writable),
		cmocka_unit_test(test_blinding_hides_immediates),
		cmocka_unit_test(test_helper_abi),
		cmocka_unit_test(test_helper_stack_alignment),
		cmocka_unit_test(test_early_ends_unwind),
		cmocka_unit_test(test_run_errors),
		cmocka_unit_test(test_deepest_call),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_offsets),
		cmocka_unit_test(test_plain_function),
		cmocka_unit_test(test_rotation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
