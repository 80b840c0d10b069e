/* SPDX-License-Identifier: MIT */
/*
 * Bytes as a BPF ELF object.  Opening must end in an object or an error,
 * never a crash or a leak; an object that opens must answer every query,
 * and each of its programs must disassemble slot by slot.
 */
#include <stdint.h>
#include <stdlib.h>

#include <sluice/disasm.h>
#include <sluice/object.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* CO-RE would read the running kernel's BTF: the same input must give the same result */
	struct sluice_object_opts opts = { .sz = sizeof(opts), .no_core = true };
	struct sluice_error err;
	struct sluice_object *obj = sluice_object_open_mem(data, size, "fuzz.o", &opts, &err);
	size_t dummy;

	if (!obj)
		return 0;
	for (size_t i = 0; i < sluice_object_map_count(obj); i++) {
		const struct sluice_map_def *m = sluice_object_map(obj, i);

		if (m->inner_map >= 0 && !sluice_object_map(obj, (size_t)m->inner_map))
			abort();
	}
	for (size_t i = 0; i < sluice_object_prog_count(obj); i++) {
		const struct sluice_prog *p = sluice_object_prog(obj, i);
		size_t count, nlines;
		const struct sluice_insn *insns = sluice_prog_insns(p, &count);
		const struct sluice_line_info *lines = sluice_prog_line_info(p, &nlines);

		for (size_t pc = 0; pc < count; pc++) {
			char text[128];

			sluice_disasm_insn(insns, count, pc, SLUICE_DISASM_LLVM, text, sizeof(text));
		}
		for (size_t l = 0; l < nlines; l++)
			if (!lines[l].file || !lines[l].source)
				abort();
		sluice_prog_func_info(p, &dummy);
	}
	for (size_t i = 0; i < sluice_object_warning_count(obj); i++)
		if (!sluice_object_warning(obj, i))
			abort();
	sluice_object_btf_data(obj, &dummy);
	sluice_object_close(obj);
	return 0;
}
