/* SPDX-License-Identifier: MIT */
/* `sluice asm` and `sluice disasm`: between text and bytecode. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/asm.h>
#include <sluice/disasm.h>

#include "cli.h"
#include "files.h"
#include "json.h"

int cmd_asm(const struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "output", required_argument, NULL, 'o' },
		{ 0 },
	};
	struct sluice_error err = { 0 };
	const char *output = NULL;
	struct sluice_insn *insns;
	size_t count;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "o:", options, NULL)) != -1) {
		if (opt != 'o')
			return cli_usage(cli, "asm", "bad option");
		output = optarg;
	}
	if (optind + 1 != argc)
		return cli_usage(cli, "asm", "expected one input file");
	if (!output)
		return cli_usage(cli, "asm", "missing -o FILE.bin");
	if (load_program(argv[optind], &insns, &count, &err))
		return cli_fail(cli, "%s", err.msg);
	if (write_file(output, insns, count * sizeof(*insns), &err)) {
		free(insns);
		return cli_fail(cli, "%s", err.msg);
	}
	if (cli->json) {
		struct json *j = json_new(stdout);

		json_object_begin(j, NULL);
		json_string(j, "input", argv[optind]);
		json_string(j, "output", output);
		json_u64(j, "insns", count);
		json_u64(j, "bytes", count * sizeof(*insns));
		json_object_end(j);
		json_free(j);
	}
	free(insns);
	return CLI_OK;
}

int cmd_disasm(const struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "style", required_argument, NULL, 's' },
		{ 0 },
	};
	enum sluice_disasm_style style = SLUICE_DISASM_ASM;
	struct sluice_error err = { 0 };
	struct sluice_insn *insns;
	struct json *j = NULL;
	size_t count;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (opt != 's')
			return cli_usage(cli, "disasm", "bad option");
		if (!strcmp(optarg, "asm"))
			style = SLUICE_DISASM_ASM;
		else if (!strcmp(optarg, "llvm"))
			style = SLUICE_DISASM_LLVM;
		else
			return cli_usage(cli, "disasm", "unknown style '%s' (asm or llvm)", optarg);
	}
	if (optind + 1 != argc)
		return cli_usage(cli, "disasm", "expected one input file");
	if (load_program(argv[optind], &insns, &count, &err))
		return cli_fail(cli, "%s", err.msg);

	if (cli->json) {
		j = json_new(stdout);
		json_object_begin(j, NULL);
		json_string(j, "file", argv[optind]);
		json_array_begin(j, "insns");
	}
	for (size_t pc = 0; pc < count;) {
		char line[128];
		int slots = sluice_disasm_insn(insns, count, pc, style, line, sizeof(line));

		if (slots < 0) /* load_program checked the program: this is a bug */
			abort();
		if (j) {
			char code[8];

			snprintf(code, sizeof(code), "0x%02x", insns[pc].code);
			json_object_begin(j, NULL);
			json_u64(j, "pc", pc);
			json_string(j, "opcode", code);
			json_string(j, "text", line);
			json_object_end(j);
		} else {
			printf("%s\n", line);
		}
		pc += (size_t)slots;
	}
	if (j) {
		json_array_end(j);
		json_object_end(j);
		json_free(j);
	}
	free(insns);
	return CLI_OK;
}
