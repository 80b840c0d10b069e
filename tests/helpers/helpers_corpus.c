/* SPDX-License-Identifier: MIT */
/*
 * helpers_corpus CORPUS_DIR: every helper call of every program in the
 * corpus of real objects (libbpf-tools, xdp-tools), against the prototype
 * table.  Their authors wrote them for the kernel's verifier, so each call
 * must name a helper the table has and allows for the program's type; the
 * calls the runtime has no implementation for are counted, by helper.
 * Exits 77 when the corpus is empty, 1 on a call the table refuses.
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include <linux/bpf.h>

#include <sluice/object.h>

#include "helper_proto.h"
#include "helpers/impl.h"

static unsigned missing[__BPF_FUNC_MAX_ID];
static unsigned calls, refused, objects, programs;

static void check_prog(const char *file, const struct sluice_prog *prog)
{
	uint32_t type = sluice_prog_type(prog);
	struct sluice_error err = { 0 };
	struct sluice_helpers *impl = helpers_for_prog_type(type, &err);
	size_t count;
	const struct sluice_insn *insns = sluice_prog_insns(prog, &count);

	programs++;
	for (size_t pc = 0; pc < count; pc++) {
		const struct helper_proto *proto;
		uint32_t id = (uint32_t)insns[pc].imm;

		if (insns[pc].code != (BPF_JMP | BPF_CALL) || insns[pc].src != 0)
			continue;
		calls++;
		proto = helper_proto(id);
		if (!proto || !helper_allowed(proto, type)) {
			refused++;
			printf("%s: %s (type %u) pc %zu: helper %u %s\n", file, sluice_prog_name(prog),
			       type, pc, id, proto ? proto->name : "unknown");
		} else if (!sluice_helpers_fn(impl, id)) {
			missing[id]++;
		}
	}
	sluice_helpers_free(impl);
}

int main(int argc, char **argv)
{
	struct dirent *entry;
	DIR *dir;

	if (argc != 2 || !(dir = opendir(argv[1]))) {
		fprintf(stderr, "usage: helpers_corpus CORPUS_DIR\n");
		return 77;
	}
	while ((entry = readdir(dir))) {
		struct sluice_object_opts opts = { .sz = sizeof(opts), .no_core = true };
		struct sluice_error err = { 0 };
		struct sluice_object *obj;
		char path[4096];
		size_t len = strlen(entry->d_name);

		if (len < 3 || strcmp(entry->d_name + len - 2, ".o"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", argv[1], entry->d_name);
		obj = sluice_object_open(path, &opts, &err);
		if (!obj) {
			printf("%s: %s\n", entry->d_name, err.msg);
			continue;
		}
		objects++;
		for (size_t i = 0; i < sluice_object_prog_count(obj); i++)
			check_prog(entry->d_name, sluice_object_prog(obj, i));
		sluice_object_close(obj);
	}
	closedir(dir);
	if (!objects) {
		fprintf(stderr, "no objects in %s: skipped\n", argv[1]);
		return 77;
	}
	printf("%u objects, %u programs, %u helper calls, %u refused by the table\n", objects,
	       programs, calls, refused);
	for (uint32_t id = 0; id < __BPF_FUNC_MAX_ID; id++)
		if (missing[id])
			printf("  not implemented: %s, %u calls\n", helper_proto(id)->name,
			       missing[id]);
	return refused ? 1 : 0;
}
