/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_TEST_ASM_TEXT_H
#define SLUICE_TEST_ASM_TEXT_H

/*
 * For cmocka tests that write their programs as assembly text: assemble it,
 * failing the test with the assembler's message if it does not.  Include
 * after <cmocka.h>.
 */
#include <string.h>

#include <sluice/asm.h>

static inline struct sluice_insn *assemble(const char *text, size_t *count)
{
	struct sluice_insn *insns = NULL;
	struct sluice_error err = { 0 };

	if (sluice_asm(text, strlen(text), "test.s", &insns, count, &err) < 0)
		fail_msg("did not assemble: %s\n%s", err.msg, text);
	return insns;
}

#endif
