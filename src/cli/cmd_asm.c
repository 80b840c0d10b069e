/* SPDX-License-Identifier: MIT */
/* `sluice asm` and `sluice disasm`: between text and bytecode. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <capstone/capstone.h>

#include <sluice/asm.h>
#include <sluice/disasm.h>
#include <sluice/jit.h>

#include "cli.h"
#include "engine.h"
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

/* The x86 code in [from, to) as capstone reads it, one line or JSON object per instruction. */
static void print_x86(csh cs, struct json *j, const uint8_t *code, size_t from, size_t to)
{
	cs_insn *x86;
	size_t n = cs_disasm(cs, code + from, to - from, from, 0, &x86);

	for (size_t i = 0; i < n; i++) {
		char bytes[3 * sizeof(x86[i].bytes) + 1] = "";

		for (size_t b = 0; b < x86[i].size; b++)
			snprintf(bytes + 3 * b, 4, "%02x ", x86[i].bytes[b]);
		if (j) {
			char text[sizeof(x86[i].mnemonic) + sizeof(x86[i].op_str) + 1];

			snprintf(text, sizeof(text), "%s %s", x86[i].mnemonic, x86[i].op_str);
			bytes[3 * x86[i].size - 1] = 0;
			json_object_begin(j, NULL);
			json_u64(j, "offset", x86[i].address);
			json_string(j, "bytes", bytes);
			json_string(j, "text", text);
			json_object_end(j);
		} else {
			printf("%6" PRIx64 ":  %-30s %s %s\n", x86[i].address, bytes,
			       x86[i].mnemonic, x86[i].op_str);
		}
	}
	cs_free(x86, n);
}

/* One block of x86 code under a heading: a BPF instruction, or the code around the program. */
static void print_block(csh cs, struct json *j, const char *heading, long long pc,
			const uint8_t *code, size_t from, size_t to)
{
	if (j) {
		json_object_begin(j, NULL);
		if (pc >= 0)
			json_u64(j, "pc", (uint64_t)pc);
		json_string(j, pc >= 0 ? "bpf" : "part", heading);
		json_array_begin(j, "x86");
	} else if (pc >= 0) {
		printf("; %lld: %s\n", pc, heading);
	} else {
		printf("; %s\n", heading);
	}
	print_x86(cs, j, code, from, to);
	if (j) {
		json_array_end(j);
		json_object_end(j);
	}
}

/* `disasm --jited`: the JIT's code, each block under the BPF instruction it came from. */
static int print_jited(const struct cli *cli, const char *file,
		       const struct sluice_insn *insns, size_t count)
{
	struct sluice_error err = { 0 };
	struct sluice_jit_opts opts = { .sz = sizeof(opts) };
	struct sluice_helpers *helpers = engine_helpers_new(&err);
	struct sluice_jit *jit;
	const uint32_t *offsets;
	const uint8_t *code;
	struct json *j = NULL;
	size_t len;
	csh cs;

	opts.helpers = helpers;
	jit = helpers ? sluice_jit_new(insns, count, &opts, &err) : NULL;
	sluice_helpers_free(helpers);
	if (!jit)
		return cli_fail(cli, "%s: %s", file, err.msg);
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK) {
		sluice_jit_free(jit);
		return cli_fail(cli, "capstone: cannot open an x86-64 disassembler");
	}
	code = sluice_jit_code(jit, &len);
	offsets = sluice_jit_offsets(jit, &count);
	if (cli->json) {
		j = json_new(stdout);
		json_object_begin(j, NULL);
		json_string(j, "file", file);
		json_u64(j, "code_bytes", len);
		json_array_begin(j, "blocks");
	}
	print_block(cs, j, "entry: save the registers the program uses, take its stack",
		    -1, code, 0, offsets[0]);
	for (size_t pc = 0; pc < count;) {
		char line[128];
		int slots = sluice_disasm_insn(insns, count, pc, SLUICE_DISASM_ASM, line, sizeof(line));

		if (slots < 0) /* sluice_jit_new checked the program: this is a bug */
			abort();
		print_block(cs, j, line, (long long)pc, code, offsets[pc], offsets[pc + (size_t)slots]);
		pc += (size_t)slots;
	}
	if (offsets[count] < len)
		print_block(cs, j, "exits: fell off the end, unwinding, helper stop, ld_abs out of range, error stubs",
			    -1, code, offsets[count], len);
	if (j) {
		json_array_end(j);
		json_object_end(j);
		json_free(j);
	}
	cs_close(&cs);
	sluice_jit_free(jit);
	return CLI_OK;
}

void json_insn_begin(struct json *j, size_t pc, const struct sluice_insn *insn, const char *text)
{
	char code[8];

	snprintf(code, sizeof(code), "0x%02x", insn->code);
	json_object_begin(j, NULL);
	json_u64(j, "pc", pc);
	json_string(j, "opcode", code);
	json_string(j, "text", text);
}

int cmd_disasm(const struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "style", required_argument, NULL, 's' },
		{ "jited", no_argument, NULL, 'J' },
		{ "prog", required_argument, NULL, 'p' },
		{ "source", no_argument, NULL, 'S' },
		{ "btf", required_argument, NULL, 'b' },
		{ "no-core", no_argument, NULL, 'n' },
		{ 0 },
	};
	struct obj_open_args open = { 0 };
	const char *prog = NULL;
	bool jited = false, source = false;
	enum sluice_disasm_style style = SLUICE_DISASM_ASM;
	struct sluice_error err = { 0 };
	struct sluice_insn *insns;
	struct json *j = NULL;
	size_t count;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		/* the object's options (.o files) */
		if (opt == 'p' || opt == 'S' || opt == 'b' || opt == 'n') {
			prog = opt == 'p' ? optarg : prog;
			source |= opt == 'S';
			open.btf = opt == 'b' ? optarg : open.btf;
			open.no_core |= opt == 'n';
			continue;
		}
		if (opt == 'J') {
			jited = true;
			continue;
		}
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
	if (strlen(argv[optind]) > 2 && !strcmp(argv[optind] + strlen(argv[optind]) - 2, ".o"))
		return disasm_object(cli, argv[optind], &open, prog, source, style);
	if (load_program(argv[optind], &insns, &count, &err))
		return cli_fail(cli, "%s", err.msg);
	if (jited) {
		int ret = print_jited(cli, argv[optind], insns, count);

		free(insns);
		return ret;
	}

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
			json_insn_begin(j, pc, &insns[pc], line);
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
