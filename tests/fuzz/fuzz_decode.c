/* SPDX-License-Identifier: MIT */
/*
 * Raw bytecode in.  Every slot of any input must disassemble or be reported
 * undecodable without harm; a program that passes sluice_insns_check must
 * disassemble whole in both styles, and its assembler-style text must
 * assemble back to the very same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/asm.h>
#include <sluice/disasm.h>
#include <sluice/insn.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sluice_insn *insns, *reassembled;
	struct sluice_error err;
	size_t count, n;
	char line[128], *asm_text, *llvm_text;

	if (sluice_insns_decode(data, size, &insns, &count, &err))
		return 0;
	for (size_t pc = 0; pc < count; pc++)
		sluice_disasm_insn(insns, count, pc, pc & 1 ? SLUICE_DISASM_LLVM : SLUICE_DISASM_ASM,
				   line, sizeof(line));
	if (!sluice_insns_check(insns, count, &err)) {
		if (sluice_disasm(insns, count, SLUICE_DISASM_ASM, &asm_text, &err) ||
		    sluice_disasm(insns, count, SLUICE_DISASM_LLVM, &llvm_text, &err) ||
		    sluice_asm(asm_text, strlen(asm_text), "decoded.s", &reassembled, &n, &err) ||
		    n != count || memcmp(reassembled, data, size))
			abort();
		free(reassembled);
		free(asm_text);
		free(llvm_text);
	}
	free(insns);
	return 0;
}
