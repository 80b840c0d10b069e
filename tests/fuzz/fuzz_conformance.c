/* SPDX-License-Identifier: MIT */
/*
 * Conformance `.data` text in, and when it parses, its program run by the
 * checked interpreter: whatever the program does, checked mode must stop it
 * cleanly (an error code), never touch memory outside the run's regions.
 */
#include <stdint.h>
#include <stdlib.h>

#include <sluice/conformance.h>
#include <sluice/interp.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sluice_vm_opts opts = {
		.sz = sizeof(opts), .checked = true, .insn_budget = 100000,
	};
	struct sluice_conformance_case c;
	struct sluice_error err;
	struct sluice_vm *vm;

	if (sluice_conformance_parse((const char *)data, size, "fuzz.data", &c, &err))
		return 0;
	vm = sluice_vm_new(c.insns, c.count, &opts, &err);
	if (vm) {
		struct sluice_region mem = {
			.name = "mem", .base = c.mem, .size = c.mem_len, .writable = true,
		};
		struct sluice_exec exec = {
			.sz = sizeof(exec),
			.args = { (uintptr_t)c.mem, c.mem_len },
			.regions = &mem,
			.nregions = 1,
			.packet = c.mem,
			.packet_len = c.mem_len,
		};
		uint64_t r0;

		sluice_vm_exec(vm, &exec, &r0, &err);
		sluice_vm_free(vm);
	}
	sluice_conformance_case_free(&c);
	return 0;
}
