/* SPDX-License-Identifier: MIT */
/*
 * Every program of the conformance suite (and of tests/isa) survives
 * asm -> bytes -> disasm -> asm with identical bytes, and disassembles in
 * the llvm style too.  usage: test_roundtrip DIR...
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/asm.h>
#include <sluice/conformance.h>
#include <sluice/disasm.h>

static int read_all(const char *path, char **text, size_t *len)
{
	FILE *f = fopen(path, "rb");
	long n;

	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	*text = malloc((size_t)n + 1);
	if (!*text || fread(*text, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(*text);
		return -1;
	}
	fclose(f);
	*len = (size_t)n;
	return 0;
}

/* 0 when the round trip holds; prints why otherwise. */
static int roundtrip(const char *path)
{
	struct sluice_conformance_case c;
	struct sluice_error err = { 0 };
	struct sluice_insn *again = NULL;
	char *text, *asm_text = NULL, *llvm_text = NULL;
	size_t len, count = 0;
	int bad = 1;

	if (read_all(path, &text, &len)) {
		printf("FAIL %s: cannot read\n", path);
		return 1;
	}
	if (sluice_conformance_parse(text, len, path, &c, &err)) {
		printf("FAIL %s: %s\n", path, err.msg);
		free(text);
		return 1;
	}
	if (sluice_disasm(c.insns, c.count, SLUICE_DISASM_ASM, &asm_text, &err) ||
	    sluice_disasm(c.insns, c.count, SLUICE_DISASM_LLVM, &llvm_text, &err))
		printf("FAIL %s: disasm: %s\n", path, err.msg);
	else if (sluice_asm(asm_text, strlen(asm_text), path, &again, &count, &err))
		printf("FAIL %s: reassembling the disassembly: %s\n", path, err.msg);
	else if (count != c.count || memcmp(again, c.insns, count * sizeof(*again)))
		printf("FAIL %s: bytes differ after the round trip\n", path);
	else
		bad = 0;
	free(again);
	free(asm_text);
	free(llvm_text);
	free(text);
	sluice_conformance_case_free(&c);
	return bad;
}

int main(int argc, char **argv)
{
	int files = 0, failed = 0;

	for (int i = 1; i < argc; i++) {
		struct dirent **ents;
		int n = scandir(argv[i], &ents, NULL, alphasort);

		if (n < 0) {
			perror(argv[i]);
			return 1;
		}
		for (int k = 0; k < n; k++) {
			const char *name = ents[k]->d_name;
			size_t nlen = strlen(name);

			if (nlen > 5 && !strcmp(name + nlen - 5, ".data")) {
				char path[4096];

				snprintf(path, sizeof(path), "%s/%s", argv[i], name);
				failed += roundtrip(path);
				files++;
			}
			free(ents[k]);
		}
		free(ents);
	}
	printf("%d passed, %d failed\n", files - failed, failed);
	return failed || !files;
}
