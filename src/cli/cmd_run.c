/* SPDX-License-Identifier: MIT */
/* `sluice run`: one program, one input, r0 out. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "engine.h"
#include "files.h"
#include "json.h"

static int parse_u64_arg(const char *s, uint64_t *out)
{
	char *end;

	if (!*s || *s == '-')
		return -1;
	*out = strtoull(s, &end, 0);
	return *end ? -1 : 0;
}

int cmd_run(const struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "mem", required_argument, NULL, 'm' },
		{ "mem-file", required_argument, NULL, 'f' },
		{ "budget", required_argument, NULL, 'b' },
		ENGINE_LONG_OPTIONS,
		{ 0 },
	};
	/* `run` reports the count; one run does not miss the fastest variant */
	struct engine_opts eopts = { .name = "interp", .count = true };
	const char *mem_hex = NULL, *mem_file = NULL;
	struct sluice_error err = { 0 };
	struct engine_result result;
	struct sluice_insn *insns;
	uint8_t *mem = NULL;
	size_t count, mem_len = 0;
	int opt, ret;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'm':
			mem_hex = optarg;
			break;
		case 'f':
			mem_file = optarg;
			break;
		case 'b':
			if (parse_u64_arg(optarg, &eopts.budget) || !eopts.budget)
				return cli_usage(cli, "run", "--budget takes a positive number, not '%s'", optarg);
			break;
		default:
			if (!engine_option(&eopts, opt, optarg))
				return cli_usage(cli, "run", "bad option");
		}
	}
	if (optind + 1 != argc)
		return cli_usage(cli, "run", "expected one program file");
	if (mem_hex && mem_file)
		return cli_usage(cli, "run", "--mem and --mem-file exclude each other");
	if (!engine_known(eopts.name))
		return cli_usage(cli, "run", "unknown engine '%s' (available: %s)",
				 eopts.name, engine_names());

	if (mem_hex && parse_hex_bytes(mem_hex, strlen(mem_hex), &mem, &mem_len, &err))
		return cli_fail(cli, "--mem: %s", err.msg);
	if (mem_file) {
		char *data;

		if (read_file(mem_file, &data, &mem_len, &err))
			return cli_fail(cli, "%s", err.msg);
		mem = (uint8_t *)data;
	}
	if (load_program(argv[optind], &insns, &count, &err)) {
		free(mem);
		return cli_fail(cli, "%s", err.msg);
	}
	ret = engine_run_mem(&eopts, insns, count, mem, mem_len, &result, &err);
	free(insns);
	free(mem);
	if (ret)
		return cli_fail(cli, "%s: %s", argv[optind], err.msg);

	if (cli->json) {
		struct json *j = json_new(stdout);
		char hex[24];

		snprintf(hex, sizeof(hex), "0x%" PRIx64, result.r0);
		json_object_begin(j, NULL);
		json_string(j, "engine", eopts.name);
		json_u64(j, "r0", result.r0);
		json_string(j, "r0_hex", hex);
		json_u64(j, "executed", result.executed);
		json_object_end(j);
		json_free(j);
	} else {
		printf("0x%" PRIx64 "\n", result.r0);
	}
	return CLI_OK;
}
