/* SPDX-License-Identifier: MIT */
/*
 * Assembly text in.  Any input must fail cleanly or assemble; a program that
 * assembles must disassemble in both styles, and its assembler-style text
 * must assemble back to the very same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/asm.h>
#include <sluice/disasm.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sluice_insn *insns, *again;
	struct sluice_error err;
	size_t count, count2;
	char *text, *llvm;

	if (sluice_asm((const char *)data, size, "fuzz.s", &insns, &count, &err))
		return 0;
	if (sluice_disasm(insns, count, SLUICE_DISASM_LLVM, &llvm, &err) ||
	    sluice_disasm(insns, count, SLUICE_DISASM_ASM, &text, &err))
		abort();
	if (sluice_asm(text, strlen(text), "disasm.s", &again, &count2, &err))
		abort();
	if (count2 != count || memcmp(again, insns, count * sizeof(*insns)))
		abort();
	free(again);
	free(text);
	free(llvm);
	free(insns);
	return 0;
}
