/* SPDX-License-Identifier: MIT */
/* The ISA table and the structural checks derived from it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "insn.h"

static void every_row_decodes_to_itself(void **state)
{
	(void)state;
	for (int op = 0; op < OP__COUNT; op++) {
		struct sluice_insn insn = insn_encode(op);

		assert_int_equal(insn_lookup(&insn), op);
	}
}

static void table_has_171_rows_and_known_classes(void **state)
{
	(void)state;
	assert_int_equal(OP__COUNT, 171);
	assert_int_equal(insn_table[OP_ADD64_IMM].opcode, 0x07);
	assert_int_equal(insn_table[OP_SDIV32_REG].opcode, 0x3c);
	assert_int_equal(insn_table[OP_SDIV32_REG].match_value, 1);
	assert_int_equal(insn_table[OP_BSWAP64].opcode, 0xd7);
	assert_int_equal(insn_table[OP_ATOMIC64_CMPXCHG].match_value, 0xf1);
	assert_int_equal(insn_table[OP_JA32].opcode, 0x06);
	assert_int_equal(insn_table[OP_CALLX].opcode, 0x8d);
	assert_true(insn_is_wide(OP_JEQ64_IMM));
	assert_false(insn_is_wide(OP_JEQ32_IMM));
	assert_int_equal(insn_access_size(OP_LDXB), 1);
	assert_int_equal(insn_access_size(OP_STXH), 2);
	assert_int_equal(insn_access_size(OP_ATOMIC32_ADD), 4);
	assert_int_equal(insn_access_size(OP_ATOMIC64_ADD), 8);
	assert_int_equal(insn_access_size(OP_LDABSW), 4);
}

static void unknown_encodings_are_refused(void **state)
{
	struct sluice_insn bad_off = { .code = 0x3f, .off = 2 }; /* div with off 2 */
	struct sluice_insn movsx_imm = { .code = 0xb7, .off = 8 }; /* movsx has no imm form */
	struct sluice_insn bad_end = { .code = 0xdc, .imm = 24 };
	struct sluice_insn unused = { .code = 0x00 };

	(void)state;
	assert_int_equal(insn_lookup(&bad_off), -1);
	assert_int_equal(insn_lookup(&movsx_imm), -1);
	assert_int_equal(insn_lookup(&bad_end), -1);
	assert_int_equal(insn_lookup(&unused), -1);
}

static void decode_rejects_odd_sizes(void **state)
{
	unsigned char bytes[12] = { 0x95 };
	struct sluice_error err = { 0 };
	struct sluice_insn *insns;
	size_t count;

	(void)state;
	assert_int_equal(sluice_insns_decode(bytes, 12, &insns, &count, &err), -EINVAL);
	assert_string_equal(err.msg, "program size 12 is not a multiple of 8 bytes");
	assert_int_equal(sluice_insns_decode(bytes, 0, &insns, &count, &err), -EINVAL);
	assert_string_equal(err.msg, "empty program");
	assert_int_equal(sluice_insns_decode(bytes, 8, &insns, &count, &err), 0);
	assert_int_equal(count, 1);
	assert_int_equal(insns[0].code, 0x95);
	free(insns);
}

static void expect_check_error(const struct sluice_insn *insns, size_t count,
			       const char *msg)
{
	struct sluice_error err = { 0 };

	assert_int_equal(sluice_insns_check(insns, count, &err), -EINVAL);
	assert_string_equal(err.msg, msg);
}

static void check_names_the_problem_and_pc(void **state)
{
	const struct sluice_insn exit_insn = { .code = 0x95 };
	(void)state;

	{
		struct sluice_insn p[] = { { .code = 0xff }, exit_insn };
		expect_check_error(p, 2, "pc 0: unknown opcode 0xff");
	}
	{
		struct sluice_insn p[] = { { .code = 0xb7, .dst = 11 }, exit_insn };
		expect_check_error(p, 2, "pc 0: register r11 does not exist");
	}
	{
		struct sluice_insn p[] = { { .code = 0x07, .src = 3, .imm = 1 }, exit_insn };
		expect_check_error(p, 2, "pc 0: add: src field must be zero");
	}
	{
		struct sluice_insn p[] = { exit_insn, { .code = 0x18, .imm = 1 } };
		expect_check_error(p, 2, "pc 1: lddw is missing its second half");
	}
	{
		struct sluice_insn p[] = { { .code = 0x18 }, { .code = 0x07 }, exit_insn };
		expect_check_error(p, 3, "pc 1: lddw second half must hold only the upper immediate");
	}
	{
		struct sluice_insn p[] = { { .code = 0x05, .off = 1 }, exit_insn };
		expect_check_error(p, 2, "pc 0: ja target 2 is outside the program (0..1)");
	}
	{
		struct sluice_insn p[] = { { .code = 0x05, .off = -2 }, exit_insn };
		expect_check_error(p, 2, "pc 0: ja target -1 is outside the program (0..1)");
	}
	{
		struct sluice_insn p[] = { { .code = 0x05, .off = 1 }, { .code = 0x18 },
					   { 0 }, exit_insn };
		expect_check_error(p, 4, "pc 0: ja target 2 is the middle of an lddw");
	}
	{
		struct sluice_insn p[] = { { .code = 0x85, .src = 1, .imm = 5 }, exit_insn };
		expect_check_error(p, 2, "pc 0: call local target 6 is outside the program (0..1)");
	}
	{
		struct sluice_insn p[] = { { .code = 0x06, .imm = -5 }, exit_insn };
		expect_check_error(p, 2, "pc 0: ja32 target -4 is outside the program (0..1)");
	}
}

static void check_accepts_a_valid_program(void **state)
{
	struct sluice_insn p[] = {
		{ .code = 0x18, .dst = 0, .imm = 1 }, { .imm = 2 },
		{ .code = 0x55, .dst = 0, .off = 1, .imm = 0 },
		{ .code = 0x85, .src = 1, .imm = 1 },
		{ .code = 0x95 },
		{ .code = 0x95 },
	};

	(void)state;
	assert_int_equal(sluice_insns_check(p, 6, NULL), 0);
	assert_int_equal(sluice_insn_slots(&p[0]), 2);
	assert_int_equal(sluice_insn_slots(&p[2]), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_row_decodes_to_itself),
		cmocka_unit_test(table_has_171_rows_and_known_classes),
		cmocka_unit_test(unknown_encodings_are_refused),
		cmocka_unit_test(decode_rejects_odd_sizes),
		cmocka_unit_test(check_names_the_problem_and_pc),
		cmocka_unit_test(check_accepts_a_valid_program),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
