/* SPDX-License-Identifier: MIT */
/*
 * The disassembler: exact text in both styles, undecodable slots, and the
 * round trip asm(disasm(x)) == x for every row of the ISA table (the suites'
 * programs make the same trip in test_roundtrip.c).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sluice/asm.h>
#include <sluice/disasm.h>

#include "insn.h"

#define INSN(code_, dst_, src_, off_, imm_) \
	{ .code = (code_), .dst = (dst_), .src = (src_), .off = (off_), .imm = (imm_) }

static const struct {
	struct sluice_insn insn;
	const char *asm_text, *llvm_text;
} one_slot[] = {
	{ INSN(0x0f, 0, 1, 0, 0), "add %r0, %r1", "r0 += r1" },
	{ INSN(0x04, 0, 0, 0, 5), "add32 %r0, 5", "w0 += 5" },
	{ INSN(0xb7, 0, 0, 0, -1), "mov %r0, -1", "r0 = -1" },
	{ INSN(0x87, 0, 0, 0, 0), "neg %r0", "r0 = -r0" },
	{ INSN(0x84, 1, 0, 0, 0), "neg32 %r1", "w1 = -w1" },
	{ INSN(0xdc, 0, 0, 0, 16), "be16 %r0", "r0 = be16 r0" },
	{ INSN(0xd4, 0, 0, 0, 32), "le32 %r0", "r0 = le32 r0" },
	{ INSN(0xd7, 0, 0, 0, 64), "bswap64 %r0", "r0 = bswap64 r0" },
	{ INSN(0xbf, 0, 1, 8, 0), "movsx864 %r0, %r1", "r0 = (s8)r1" },
	{ INSN(0xbc, 0, 1, 16, 0), "movsx1632 %r0, %r1", "w0 = (s16)w1" },
	{ INSN(0x3f, 0, 1, 1, 0), "sdiv %r0, %r1", "r0 s/= r1" },
	{ INSN(0x94, 2, 0, 1, -3), "smod32 %r2, -3", "w2 s%= -3" },
	{ INSN(0xcc, 2, 3, 0, 0), "arsh32 %r2, %r3", "w2 s>>= w3" },
	{ INSN(0x61, 0, 1, 4, 0), "ldxw %r0, [%r1+4]", "r0 = *(u32 *)(r1 + 4)" },
	{ INSN(0x89, 0, 1, -2, 0), "ldxsh %r0, [%r1-2]", "r0 = *(s16 *)(r1 - 2)" },
	{ INSN(0x7b, 10, 1, -8, 0), "stxdw [%r10-8], %r1", "*(u64 *)(r10 - 8) = r1" },
	{ INSN(0x62, 1, 0, 0, 5), "stw [%r1+0], 5", "*(u32 *)(r1 + 0) = 5" },
	{ INSN(0xdb, 10, 1, -8, 0x00), "lock add [%r10-8], %r1",
	  "lock *(u64 *)(r10 - 8) += r1" },
	{ INSN(0xc3, 10, 1, -8, 0x50), "lock and32 [%r10-8], %r1",
	  "lock *(u32 *)(r10 - 8) &= w1" },
	{ INSN(0xdb, 10, 1, -8, 0x01), "lock fetch add [%r10-8], %r1",
	  "r1 = atomic_fetch_add((u64 *)(r10 - 8), r1)" },
	{ INSN(0xc3, 10, 1, -8, 0xa1), "lock fetch xor32 [%r10-8], %r1",
	  "w1 = atomic_fetch_xor((u32 *)(r10 - 8), w1)" },
	{ INSN(0xdb, 10, 1, -8, 0xe1), "lock xchg [%r10-8], %r1", "r1 = xchg_64(r10 - 8, r1)" },
	{ INSN(0xc3, 10, 1, -8, 0xe1), "lock xchg32 [%r10-8], %r1",
	  "w1 = xchg32_32(r10 - 8, w1)" },
	{ INSN(0xdb, 10, 1, -8, 0xf1), "lock cmpxchg [%r10-8], %r1",
	  "r0 = cmpxchg_64(r10 - 8, r0, r1)" },
	{ INSN(0xc3, 10, 1, -8, 0xf1), "lock cmpxchg32 [%r10-8], %r1",
	  "w0 = cmpxchg32_32(r10 - 8, w0, w1)" },
	{ INSN(0x30, 0, 0, 0, 12), "ldabsb 12", "r0 = *(u8 *)skb[12]" },
	{ INSN(0x48, 0, 1, 0, 12), "ldindh %r1, 12", "r0 = *(u16 *)skb[r1 + 12]" },
	{ INSN(0x05, 0, 0, 2, 0), "ja +2", "goto +2" },
	{ INSN(0x05, 0, 0, -1, 0), "ja -1", "goto -1" },
	{ INSN(0x06, 0, 0, 0, 7), "ja32 +7", "gotol +7" },
	{ INSN(0x25, 1, 0, 3, 5), "jgt %r1, 5, +3", "if r1 > 0x5 goto +3" },
	{ INSN(0x55, 0, 0, -2, 15), "jne %r0, 15, -2", "if r0 != 0xf goto -2" },
	{ INSN(0x16, 0, 0, 1, -1), "jeq32 %r0, -1, +1", "if w0 == 0xffffffff goto +1" },
	{ INSN(0xce, 1, 2, -1, 0), "jslt32 %r1, %r2, -1", "if w1 s< w2 goto -1" },
	{ INSN(0x85, 0, 0, 0, 5), "call 5", "call 5" },
	{ INSN(0x85, 0, 1, 0, 3), "call local +3", "call pc+3" },
	{ INSN(0x8d, 2, 0, 0, 0), "call %r2", "callx r2" },
	{ INSN(0x95, 0, 0, 0, 0), "exit", "exit" },
	{ INSN(0x85, 0, 2, 0, 1234), "call kfunc 1234", "call kfunc 1234" },
};

static void assert_disasm(const struct sluice_insn *insns, size_t count,
			  enum sluice_disasm_style style, int slots, const char *text)
{
	char buf[128];

	assert_int_equal(sluice_disasm_insn(insns, count, 0, style, buf, sizeof(buf)), slots);
	assert_string_equal(buf, text);
}

static void each_shape_prints_exactly(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(one_slot) / sizeof(one_slot[0]); i++) {
		assert_disasm(&one_slot[i].insn, 1, SLUICE_DISASM_ASM, 1, one_slot[i].asm_text);
		assert_disasm(&one_slot[i].insn, 1, SLUICE_DISASM_LLVM, 1, one_slot[i].llvm_text);
	}
}

static void lddw_prints_both_halves(void **state)
{
	const struct sluice_insn lddw[] = {
		INSN(0x18, 0, 0, 0, 0x55667788), INSN(0, 0, 0, 0, 0x11223344),
	};
	const struct sluice_insn minus_one[] = {
		INSN(0x18, 3, 0, 0, -1), INSN(0, 0, 0, 0, -1),
	};

	(void)state;
	assert_disasm(lddw, 2, SLUICE_DISASM_ASM, 2, "lddw %r0, 0x1122334455667788");
	assert_disasm(lddw, 2, SLUICE_DISASM_LLVM, 2, "r0 = 0x1122334455667788 ll");
	assert_disasm(minus_one, 2, SLUICE_DISASM_ASM, 2, "lddw %r3, 0xffffffffffffffff");
}

/* The loader's pseudo forms: which map, map value, kernel symbol, callback. */
static void pseudo_lddw_names_what_it_refers_to(void **state)
{
	static const struct {
		struct sluice_insn insn[2];
		const char *asm_text, *llvm_text;
	} cases[] = {
		{ { INSN(0x18, 1, 1, 0, 3), INSN(0, 0, 0, 0, 0) },
		  "lddw_map %r1, 0x3", "r1 = map[3]" },
		{ { INSN(0x18, 2, 2, 0, 4), INSN(0, 0, 0, 0, 16) },
		  "lddw_map_value %r2, 0x1000000004", "r2 = map[4][0]+16" },
		{ { INSN(0x18, 1, 3, 0, 777), INSN(0, 0, 0, 0, 0) },
		  "lddw_btf_id %r1, 0x309", "r1 = btf_id[777]" },
		{ { INSN(0x18, 2, 4, 0, 5), INSN(0, 0, 0, 0, 0) },
		  "lddw_func %r2, 0x5", "r2 = func pc+5" },
		{ { INSN(0x18, 1, 5, 0, 0), INSN(0, 0, 0, 0, 0) },
		  "lddw_map_idx %r1, 0x0", "r1 = map[0]" },
		{ { INSN(0x18, 1, 6, 0, 1), INSN(0, 0, 0, 0, 8) },
		  "lddw_map_idx_value %r1, 0x800000001", "r1 = map[1][0]+8" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_disasm(cases[i].insn, 2, SLUICE_DISASM_ASM, 2, cases[i].asm_text);
		assert_disasm(cases[i].insn, 2, SLUICE_DISASM_LLVM, 2, cases[i].llvm_text);
	}
}

static void undecodable_slots_say_why(void **state)
{
	static const struct {
		struct sluice_insn insn[1];
		const char *text;
	} cases[] = {
		{ { INSN(0xff, 0, 0, 0, 0) }, "<unknown opcode 0xff>" },
		{ { INSN(0x37, 0, 0, 5, 0) }, "<unknown opcode 0x37 with off 5>" },
		{ { INSN(0xd4, 0, 0, 0, 8) }, "<unknown opcode 0xd4 with imm 8>" },
		{ { INSN(0x85, 0, 3, 0, 0) }, "<unknown opcode 0x85 with src 3>" },
		{ { INSN(0x18, 0, 0, 0, 1) }, "<lddw without second half>" },
	};
	char buf[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_disasm(cases[i].insn, 1, SLUICE_DISASM_ASM, -EINVAL, cases[i].text);
		assert_disasm(cases[i].insn, 1, SLUICE_DISASM_LLVM, -EINVAL, cases[i].text);
	}
	assert_int_equal(sluice_disasm_insn(cases[0].insn, 1, 1, SLUICE_DISASM_ASM, buf,
					    sizeof(buf)), -EINVAL);
	assert_string_equal(buf, "<no instruction at pc 1>");
}

static void short_buffers_are_cut_and_terminated(void **state)
{
	const struct sluice_insn add = INSN(0x0f, 0, 1, 0, 0);
	char buf[6];

	(void)state;
	assert_int_equal(sluice_disasm_insn(&add, 1, 0, SLUICE_DISASM_ASM, buf, sizeof(buf)), 1);
	assert_string_equal(buf, "add %");
	assert_int_equal(sluice_disasm_insn(&add, 1, 0, SLUICE_DISASM_ASM, buf, 1), 1);
	assert_string_equal(buf, "");
	assert_int_equal(sluice_disasm_insn(&add, 1, 0, SLUICE_DISASM_ASM, NULL, 0), 1);
}

static void whole_program_one_line_each(void **state)
{
	const struct sluice_insn prog[] = {
		INSN(0xb7, 0, 0, 0, 0), INSN(0x18, 1, 0, 0, 2), INSN(0, 0, 0, 0, 0),
		INSN(0x95, 0, 0, 0, 0),
	};
	const struct sluice_insn bad[] = { INSN(0x95, 0, 0, 0, 0), INSN(0xff, 0, 0, 0, 0) };
	struct sluice_error err = { 0 };
	char *text = NULL;

	(void)state;
	assert_int_equal(sluice_disasm(prog, 4, SLUICE_DISASM_ASM, &text, &err), 0);
	assert_string_equal(text, "mov %r0, 0\nlddw %r1, 0x2\nexit\n");
	free(text);
	assert_int_equal(sluice_disasm(prog, 4, SLUICE_DISASM_LLVM, &text, &err), 0);
	assert_string_equal(text, "r0 = 0\nr1 = 0x2 ll\nexit\n");
	free(text);
	assert_int_equal(sluice_disasm(prog, 0, SLUICE_DISASM_ASM, &text, &err), 0);
	assert_string_equal(text, "");
	free(text);

	text = NULL;
	assert_int_equal(sluice_disasm(bad, 2, SLUICE_DISASM_ASM, &text, &err), -EINVAL);
	assert_int_equal(err.code, EINVAL);
	assert_string_equal(err.msg, "pc 1: unknown opcode 0xff");
	assert_null(text);
}

/* Disassemble in the assembler's style and assemble the text again. */
static void assert_round_trip(const struct sluice_insn *insns, size_t count,
			      const char *name)
{
	struct sluice_insn *again = NULL;
	struct sluice_error err = { 0 };
	char *text = NULL;
	size_t count2 = 0;

	if (sluice_disasm(insns, count, SLUICE_DISASM_ASM, &text, &err))
		fail_msg("%s: %s", name, err.msg);
	if (sluice_asm(text, strlen(text), name, &again, &count2, &err))
		fail_msg("%s: '%s' does not assemble: %s", name, text, err.msg);
	if (count2 != count || memcmp(again, insns, count * sizeof(*insns)))
		fail_msg("%s: '%s' assembles to other bytes", name, text);
	free(text);
	text = NULL;
	if (sluice_disasm(insns, count, SLUICE_DISASM_LLVM, &text, &err))
		fail_msg("%s: %s", name, err.msg);
	free(text);
	free(again);
}

/* Every row, with every operand field it takes set to a value of its own. */
static void every_row_round_trips(void **state)
{
	(void)state;
	for (int op = 0; op < OP__COUNT; op++) {
		unsigned fields = insn_shape_fields(insn_table[op].shape);
		struct sluice_insn insns[2] = { insn_encode((enum insn_op)op) };

		if (fields & FIELD_DST)
			insns[0].dst = 3;
		if (fields & FIELD_SRC)
			insns[0].src = 10;
		if (fields & FIELD_OFF)
			insns[0].off = -7;
		if (fields & FIELD_IMM)
			insns[0].imm = -123456;
		insns[1].imm = 0x7654321;
		assert_round_trip(insns, sluice_insn_slots(insns), insn_table[op].id);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(each_shape_prints_exactly),
		cmocka_unit_test(lddw_prints_both_halves),
		cmocka_unit_test(pseudo_lddw_names_what_it_refers_to),
		cmocka_unit_test(undecodable_slots_say_why),
		cmocka_unit_test(short_buffers_are_cut_and_terminated),
		cmocka_unit_test(whole_program_one_line_each),
		cmocka_unit_test(every_row_round_trips),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
