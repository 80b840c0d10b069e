/* SPDX-License-Identifier: MIT */
/* The assembler: exact encodings of each shape, labels, and every error. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sluice/asm.h>

#include "insn.h"

/* A slot as the little-endian u64 the conformance suite's `raw` sections use. */
#define RAW(code, dst, src, off, imm)                                       \
	((uint64_t)(uint32_t)(int32_t)(imm) << 32 |                          \
	 (uint64_t)(uint16_t)(int16_t)(off) << 16 | (uint64_t)(src) << 12 | \
	 (uint64_t)(dst) << 8 | (uint64_t)(code))

static uint64_t raw(const struct sluice_insn *insn)
{
	uint64_t v;

	memcpy(&v, insn, sizeof(v));
	return v;
}

static struct sluice_insn *assemble(const char *text, size_t *count)
{
	struct sluice_insn *insns = NULL;
	struct sluice_error err = { 0 };
	int ret = sluice_asm(text, strlen(text), "prog.s", &insns, count, &err);

	if (ret)
		fail_msg("'%s' did not assemble: %s", text, err.msg);
	return insns;
}

static void assert_asm_error(const char *text, const char *msg)
{
	struct sluice_insn *insns = NULL;
	struct sluice_error err = { 0 };
	size_t count = 0;

	assert_int_equal(sluice_asm(text, strlen(text), "prog.s", &insns, &count, &err),
			 -EINVAL);
	assert_int_equal(err.code, EINVAL);
	assert_string_equal(err.msg, msg);
	assert_null(insns);
}

/* A program with labels before and after the jumps to them. */
#define LABELS                                        \
	"start:\n"                                    \
	"  mov %r0, 0\n"                              \
	"  jeq %r0, 0, done   # over the lddw\n"      \
	"  lddw %r1, 1\n"                             \
	"done: ja start\n"                            \
	"  exit\n"

/* The program `text` has `slot` (as a little-endian u64) at pc. */
static const struct {
	const char *text;
	size_t pc;
	uint64_t slot;
} encodings[] = {
	{ "add %r1, %r2", 0, RAW(0x0f, 1, 2, 0, 0) },
	{ "add %r1, 5", 0, RAW(0x07, 1, 0, 0, 5) },
	{ "add32 %r1, %r2", 0, RAW(0x0c, 1, 2, 0, 0) },
	{ "mov r0, r10", 0, RAW(0xbf, 0, 10, 0, 0) },
	{ "mov %r0,-1", 0, RAW(0xb7, 0, 0, 0, -1) },
	{ "mov %r0 1", 0, RAW(0xb7, 0, 0, 0, 1) },
	{ "\tmov\t%r0 ,  1  ", 0, RAW(0xb7, 0, 0, 0, 1) },
	{ "neg %r3", 0, RAW(0x87, 3, 0, 0, 0) },
	{ "neg32 %r3", 0, RAW(0x84, 3, 0, 0, 0) },
	{ "sdiv %r1, 3", 0, RAW(0x37, 1, 0, 1, 3) },
	{ "smod32 %r1, %r2", 0, RAW(0x9c, 1, 2, 1, 0) },
	{ "movsx1632 %r1, %r2", 0, RAW(0xbc, 1, 2, 16, 0) },
	{ "movsx3264 %r0, %r1", 0, RAW(0xbf, 0, 1, 32, 0) },
	/* byte order: the width is the row's discriminator */
	{ "be16 %r0", 0, RAW(0xdc, 0, 0, 0, 16) },
	{ "le32 %r1", 0, RAW(0xd4, 1, 0, 0, 32) },
	{ "bswap64 %r2", 0, RAW(0xd7, 2, 0, 0, 64) },
	{ "swap16 %r2", 0, RAW(0xd7, 2, 0, 0, 16) },
	/* immediates: decimal is int32, hex the raw 32-bit pattern */
	{ "mov %r0, -2147483648", 0, RAW(0xb7, 0, 0, 0, INT32_MIN) },
	{ "mov %r0, 2147483647", 0, RAW(0xb7, 0, 0, 0, INT32_MAX) },
	{ "mov %r0, 0xffffffff", 0, RAW(0xb7, 0, 0, 0, -1) },
	{ "mov %r0, 0x80000000", 0, RAW(0xb7, 0, 0, 0, INT32_MIN) },
	{ "mov %r0, -0x10", 0, RAW(0xb7, 0, 0, 0, -16) },
	{ "mov %r0, 0XaB", 0, RAW(0xb7, 0, 0, 0, 0xab) },
	{ "mov %r0, +7", 0, RAW(0xb7, 0, 0, 0, 7) },
	/* memory */
	{ "ldxw %r1, [%r2+4]", 0, RAW(0x61, 1, 2, 4, 0) },
	{ "ldxdw %r0, [%r10-8]", 0, RAW(0x79, 0, 10, -8, 0) },
	{ "ldxb %r0, [%r1]", 0, RAW(0x71, 0, 1, 0, 0) },
	{ "ldxh %r0, [%r1+0x10]", 0, RAW(0x69, 0, 1, 16, 0) },
	{ "ldxh %r0, [%r1-0x10]", 0, RAW(0x69, 0, 1, -16, 0) },
	{ "ldxsw %r0, [ %r1 - 4 ]", 0, RAW(0x81, 0, 1, -4, 0) },
	{ "ldxsb %r0, [%r1+32767]", 0, RAW(0x91, 0, 1, 32767, 0) },
	{ "ldxsh %r0, [%r1-32768]", 0, RAW(0x89, 0, 1, -32768, 0) },
	{ "stw [%r1+2], 0xff", 0, RAW(0x62, 1, 0, 2, 0xff) },
	{ "stdw [%r10-8], -1", 0, RAW(0x7a, 10, 0, -8, -1) },
	{ "stxdw [%r10-8], %r1", 0, RAW(0x7b, 10, 1, -8, 0) },
	{ "stxb [%r1], r2", 0, RAW(0x73, 1, 2, 0, 0) },
	/* atomics: the operation is the discriminator in imm */
	{ "lock add [%r1+8], %r2", 0, RAW(0xdb, 1, 2, 8, 0x00) },
	{ "lock fetch add32 [%r10-8], %r1", 0, RAW(0xc3, 10, 1, -8, 0x01) },
	{ "lock fetch xor [%r1], %r2", 0, RAW(0xdb, 1, 2, 0, 0xa1) },
	{ "lock xchg [%r1], %r2", 0, RAW(0xdb, 1, 2, 0, 0xe1) },
	{ "lock cmpxchg32 [%r1-4], %r2", 0, RAW(0xc3, 1, 2, -4, 0xf1) },
	/* legacy packet access */
	{ "ldabsb 12", 0, RAW(0x30, 0, 0, 0, 12) },
	{ "ldabsw -1", 0, RAW(0x20, 0, 0, 0, -1) },
	{ "ldindh %r1, 4", 0, RAW(0x48, 0, 1, 0, 4) },
	/* jumps by slot count */
	{ "ja +3", 0, RAW(0x05, 0, 0, 3, 0) },
	{ "ja -1", 0, RAW(0x05, 0, 0, -1, 0) },
	{ "ja +32767", 0, RAW(0x05, 0, 0, 32767, 0) },
	{ "ja -32768", 0, RAW(0x05, 0, 0, -32768, 0) },
	{ "ja32 +7", 0, RAW(0x06, 0, 0, 0, 7) },
	{ "ja32 -100000", 0, RAW(0x06, 0, 0, 0, -100000) },
	{ "jne %r0, 15, -2", 0, RAW(0x55, 0, 0, -2, 15) },
	{ "jeq %r1, 0xffffffff, +1", 0, RAW(0x15, 1, 0, 1, -1) },
	{ "jsgt32 %r1, %r2, +0", 0, RAW(0x6e, 1, 2, 0, 0) },
	/* calls */
	{ "call 5", 0, RAW(0x85, 0, 0, 0, 5) },
	{ "call -1", 0, RAW(0x85, 0, 0, 0, -1) },
	{ "call local +5", 0, RAW(0x85, 0, 1, 0, 5) },
	{ "call %r2", 0, RAW(0x8d, 2, 0, 0, 0) },
	{ "call r9", 0, RAW(0x8d, 9, 0, 0, 0) },
	{ "exit", 0, RAW(0x95, 0, 0, 0, 0) },
	{ "exit # done", 0, RAW(0x95, 0, 0, 0, 0) },
	{ "exit#done", 0, RAW(0x95, 0, 0, 0, 0) },
	{ "exit\r\n", 0, RAW(0x95, 0, 0, 0, 0) },
	/* lddw: the second slot holds only the upper half of the immediate */
	{ "lddw %r0, 0x1122334455667788", 0, RAW(0x18, 0, 0, 0, 0x55667788) },
	{ "lddw %r0, 0x1122334455667788", 1, RAW(0, 0, 0, 0, 0x11223344) },
	{ "lddw %r1, -1", 1, RAW(0, 0, 0, 0, -1) },
	{ "lddw %r1, 18446744073709551615", 0, RAW(0x18, 1, 0, 0, -1) },
	{ "lddw %r1, 18446744073709551615", 1, RAW(0, 0, 0, 0, -1) },
	{ "lddw %r2, -9223372036854775808", 0, RAW(0x18, 2, 0, 0, 0) },
	{ "lddw %r2, -9223372036854775808", 1, RAW(0, 0, 0, 0, INT32_MIN) },
	{ "lddw %r3, 5\nexit", 1, RAW(0, 0, 0, 0, 0) },
	/* labels, forward and backward, counting lddw as two slots */
	{ LABELS, 1, RAW(0x15, 0, 0, 2, 0) },
	{ LABELS, 4, RAW(0x05, 0, 0, -5, 0) },
	/* exit names the first exit, unless a label is called exit */
	{ "ja exit\nmov %r0, 1\nexit\nexit\n", 0, RAW(0x05, 0, 0, 1, 0) },
	{ "ja exit\nexit\nmov %r0, 0\nexit:\nexit\n", 0, RAW(0x05, 0, 0, 2, 0) },
	/* ja32 and call local put the target in imm */
	{ "ja32 end\nmov %r0, 0\nend: exit\n", 0, RAW(0x06, 0, 0, 0, 1) },
	{ "call local f\nexit\nf: mov %r0, 1\nexit\n", 0, RAW(0x85, 0, 1, 0, 1) },
	/* several labels on a line, none before the instruction's space */
	{ "a: _b.1: ja a\nloop:ja loop\r\n", 0, RAW(0x05, 0, 0, -1, 0) },
	{ "a: _b.1: ja a\nloop:ja loop\r\n", 1, RAW(0x05, 0, 0, -1, 0) },
	/* a label after the last instruction is one past the end */
	{ "ja end\nexit\nend:\n", 0, RAW(0x05, 0, 0, 1, 0) },
};

static void each_text_encodes_exactly(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(encodings) / sizeof(encodings[0]); i++) {
		size_t count = 0;
		struct sluice_insn *insns = assemble(encodings[i].text, &count);

		if (encodings[i].pc >= count || raw(&insns[encodings[i].pc]) != encodings[i].slot)
			fail_msg("'%s': %zu slots, want 0x%016llx at pc %zu", encodings[i].text,
				 count, (unsigned long long)encodings[i].slot, encodings[i].pc);
		free(insns);
	}
}

static void text_need_not_be_terminated(void **state)
{
	const char text[] = "exit\nexitXXXX";
	struct sluice_insn *insns = NULL;
	size_t count = 0;

	(void)state;
	assert_int_equal(sluice_asm(text, 9, NULL, &insns, &count, NULL), 0);
	assert_int_equal(count, 2);
	free(insns);
}

static void errors_name_file_and_line(void **state)
{
	static const struct {
		const char *text, *msg;
	} cases[] = {
		{ "mov %r0, 1\n\naddd %r0, 1", "prog.s:3: unknown mnemonic 'addd'" },
		{ "mov %r11, 1", "prog.s:1: unknown register '%r11'" },
		{ "mov %r0, %r11", "prog.s:1: unknown register '%r11'" },
		{ "mov %r01, 1", "prog.s:1: unknown register '%r01'" },
		{ "mov %rx, 1", "prog.s:1: unknown register '%rx'" },
		{ "mov 5, 1", "prog.s:1: expected a register, got '5'" },
		{ "exit\nexit\nexit\nexit\nmov %r0, 4294967296",
		  "prog.s:5: immediate 4294967296 out of range" },
		{ "mov %r0, 2147483648", "prog.s:1: immediate 2147483648 out of range" },
		{ "mov %r0, -2147483649", "prog.s:1: immediate -2147483649 out of range" },
		{ "mov %r0, 0x100000000", "prog.s:1: immediate 0x100000000 out of range" },
		{ "mov %r0, -0x80000001", "prog.s:1: immediate -0x80000001 out of range" },
		{ "mov %r0, 99999999999999999999999",
		  "prog.s:1: immediate 99999999999999999999999 out of range" },
		{ "mov %r0, 12ab", "prog.s:1: invalid immediate '12ab'" },
		{ "mov %r0, 0x", "prog.s:1: invalid immediate '0x'" },
		{ "lddw %r0, 18446744073709551616",
		  "prog.s:1: immediate 18446744073709551616 out of range" },
		{ "lddw %r0, -9223372036854775809",
		  "prog.s:1: immediate -9223372036854775809 out of range" },
		{ "exit\nexit\nexit\nexit\nexit\nexit\nja foo", "prog.s:7: undefined label 'foo'" },
		{ "ja +32768", "prog.s:1: jump to '+32768' out of range (offset 32768)" },
		{ "ja -99999999999999999999", "prog.s:1: jump to '-99999999999999999999' out of range" },
		{ "ja 5", "prog.s:1: invalid jump target '5'" },
		{ "ja +x", "prog.s:1: invalid jump target '+x'" },
		{ "add %r0", "prog.s:1: expected 2 operands for 'add', got 1" },
		{ "exit 1", "prog.s:1: expected 0 operands for 'exit', got 1" },
		{ "neg %r0, %r1", "prog.s:1: expected 1 operand for 'neg', got 2" },
		{ "call local", "prog.s:1: expected 1 operand for 'call local', got 0" },
		{ "mov %r0, 1, 2, 3, 4, 5, 6, 7", "prog.s:1: expected 2 operands for 'mov', got 8" },
		{ "a:\nexit\na: exit", "prog.s:3: duplicate label 'a' (first defined on line 1)" },
		{ "1a: exit", "prog.s:1: invalid label name '1a'" },
		{ ": exit", "prog.s:1: invalid label name ''" },
		{ "ldxw %r0, [%r1+4]x", "prog.s:1: trailing garbage after '[%r1+4]'" },
		{ "ldxw %r0, [%r1+4", "prog.s:1: missing ']' in '[%r1+4'" },
		{ "ldxw %r0, [%r1+40000]", "prog.s:1: offset +40000 out of range" },
		{ "ldxw %r0, [%r1-0x8001]", "prog.s:1: offset -0x8001 out of range" },
		{ "ldxw %r0, [%r1 4]", "prog.s:1: invalid memory operand '[%r1 4]'" },
		{ "ldxw %r0, [%r1+4z]", "prog.s:1: invalid offset in '[%r1+4z]'" },
		{ "ldxw %r0, [+4]", "prog.s:1: expected a register, got ''" },
		{ "ldxw %r0, %r1", "prog.s:1: expected a memory operand [%rN+off], got '%r1'" },
		{ "stxw %r0, %r1", "prog.s:1: expected a memory operand [%rN+off], got '%r0'" },
		{ "mov %r0,, 1", "prog.s:1: unexpected ','" },
		{ "mov %r0, 1,", "prog.s:1: unexpected ',' at the end of the line" },
		{ "", "prog.s: no instructions" },
		{ "# only a comment\nlabel:\n", "prog.s: no instructions" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_asm_error(cases[i].text, cases[i].msg);
}

static void jump_to_a_far_label_is_refused(void **state)
{
	const char *filler = "mov %r0, 0\n";
	size_t n = 40000, len = strlen(filler);
	char *text = malloc(16 + n * len + 16);
	char *p = text;

	(void)state;
	assert_non_null(text);
	p += sprintf(p, "ja far\n");
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "%s", filler);
	sprintf(p, "far: exit\n");
	assert_asm_error(text, "prog.s:1: jump to 'far' out of range (offset 40000)");
	free(text);
}

static void error_without_filename_or_err(void **state)
{
	struct sluice_insn *insns = NULL;
	struct sluice_error err = { 0 };
	size_t count = 0;

	(void)state;
	assert_int_equal(sluice_asm("addd", 4, NULL, &insns, &count, &err), -EINVAL);
	assert_string_equal(err.msg, "<input>:1: unknown mnemonic 'addd'");
	assert_int_equal(sluice_asm("addd", 4, NULL, &insns, &count, NULL), -EINVAL);
	assert_null(insns);
}

/* The assembler reads operands by insn_shape_operands, the checker by insn_shape_fields. */
static void operand_lists_agree_with_shape_fields(void **state)
{
	static const unsigned fields_of[] = {
		[OPERAND_DST] = FIELD_DST,
		[OPERAND_SRC] = FIELD_SRC,
		[OPERAND_IMM] = FIELD_IMM,
		[OPERAND_IMM64] = FIELD_IMM,
		[OPERAND_MEM_DST] = FIELD_DST | FIELD_OFF,
		[OPERAND_MEM_SRC] = FIELD_SRC | FIELD_OFF,
		[OPERAND_JUMP_OFF] = FIELD_OFF,
		[OPERAND_JUMP_IMM] = FIELD_IMM,
	};

	(void)state;
	for (int op = 0; op < OP__COUNT; op++) {
		enum insn_shape shape = insn_table[op].shape;
		const uint8_t *operands = insn_shape_operands(shape);
		unsigned fields = 0;

		for (size_t i = 0; operands[i]; i++) {
			assert_true(i < INSN_MAX_OPERANDS);
			fields |= fields_of[operands[i]];
		}
		assert_int_equal(fields, insn_shape_fields(shape));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(each_text_encodes_exactly),
		cmocka_unit_test(text_need_not_be_terminated),
		cmocka_unit_test(errors_name_file_and_line),
		cmocka_unit_test(jump_to_a_far_label_is_refused),
		cmocka_unit_test(error_without_filename_or_err),
		cmocka_unit_test(operand_lists_agree_with_shape_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
