/* SPDX-License-Identifier: MIT */
/*
 * `sluice load FILE.o [--backend=kernel] [--prog NAME]`: hand an object to
 * the running kernel and report per program (or for the one --prog names,
 * the others loading with it as they would in use) whether the verifier
 * accepted it, with its statistics, and on rejection the end of its log.
 * Exit 0 only when every program asked for loads.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/kernel.h>

#include "cli.h"
#include "json.h"

/* Enough of a rejected program's log to see the error and what led to it. */
#define LOG_TAIL_LINES 20

/* The last n lines of text (all of it when shorter). */
static const char *tail_lines(const char *text, int n)
{
	const char *p = text + strlen(text);

	if (p > text && p[-1] == '\n')
		p--;
	while (p > text) {
		if (p[-1] == '\n' && --n == 0)
			break;
		p--;
	}
	return p;
}

static void print_verdict(const char *name, const char *section,
			  const struct sluice_kernel_verdict *v)
{
	printf("%s (%s): %s", name, section, v->accepted ? "accepted" : "rejected");
	if (v->processed_insns >= 0)
		printf(", %" PRId64 " insns processed", v->processed_insns);
	if (v->verification_usec >= 0)
		printf(", verified in %" PRId64 " usec", v->verification_usec);
	printf("\n");
	if (v->accepted)
		return;
	printf("  error: %s\n", v->message);
	for (const char *line = tail_lines(v->log, LOG_TAIL_LINES); *line; ) {
		size_t len = strcspn(line, "\n");

		printf("  | %.*s\n", (int)len, line);
		line += len + (line[len] == '\n');
	}
}

static void json_verdict(struct json *j, const char *name, const char *section,
			 const struct sluice_kernel_verdict *v)
{
	json_object_begin(j, NULL);
	json_string(j, "name", name);
	json_string(j, "section", section);
	json_bool(j, "accepted", v->accepted);
	json_i64(j, "processed_insns", v->processed_insns);
	json_i64(j, "verification_time_usec", v->verification_usec);
	if (!v->accepted) {
		json_string(j, "error", v->message);
		json_string(j, "log", tail_lines(v->log, LOG_TAIL_LINES));
	}
	json_object_end(j);
}

bool kernel_arg(int opt, const char *value, struct kernel_args *args)
{
	if (opt == 'b')
		args->backend = value;
	else if (opt == 'p')
		args->prog = value;
	return opt == 'b' || opt == 'p';
}

int kernel_open(const struct cli *cli, const char *command, const struct kernel_args *args,
		const char *path, struct sluice_kernel_object **obj, int *index)
{
	struct sluice_error err = { 0 };

	if (strcmp(args->backend, "kernel"))
		return cli_usage(cli, command, "unknown backend '%s' (available: kernel)",
				 args->backend);
	/* a refusal said once, before the object gives its own errors */
	if (sluice_kernel_probe(&err))
		return cli_fail(cli, "%s", err.msg);
	*obj = sluice_kernel_open(path, NULL, &err);
	if (!*obj)
		return cli_fail(cli, "%s", err.msg);
	*index = args->prog ? sluice_kernel_find_prog(*obj, args->prog, &err) : -1;
	if (args->prog && *index < 0) {
		sluice_kernel_close(*obj);
		return cli_fail(cli, "%s", err.msg);
	}
	return CLI_OK;
}

int cmd_load(const struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = { KERNEL_OPTIONS, { 0 } };
	struct kernel_args args = { .backend = "kernel" };
	const char *path;
	struct sluice_error err = { 0 };
	struct sluice_kernel_object *obj;
	struct sluice_kernel_verdict *verdicts;
	size_t first = 0, end, accepted = 0;
	int opt, ret, index;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1)
		if (!kernel_arg(opt, optarg, &args))
			return cli_usage(cli, "load", "bad option");
	if (optind + 1 != argc)
		return cli_usage(cli, "load", "expected one object file");
	path = argv[optind];
	ret = kernel_open(cli, "load", &args, path, &obj, &index);
	if (ret)
		return ret;
	end = sluice_kernel_prog_count(obj);
	if (index >= 0) {
		first = (size_t)index;
		end = first + 1;
	}
	if (first == end) {
		sluice_kernel_close(obj);
		return cli_fail(cli, "%s: no programs to load", path);
	}

	verdicts = calloc(end - first, sizeof(*verdicts));
	if (!verdicts) {
		sluice_kernel_close(obj);
		return cli_fail(cli, "out of memory");
	}
	for (size_t i = first; i < end; i++) {
		if (sluice_kernel_load_prog(obj, i, &verdicts[i - first], &err)) {
			free(verdicts);
			sluice_kernel_close(obj);
			return cli_fail(cli, "%s: %s", path, err.msg);
		}
		accepted += verdicts[i - first].accepted;
	}

	if (cli->json) {
		struct json *j = json_new(stdout);

		json_object_begin(j, NULL);
		json_string(j, "file", path);
		json_string(j, "backend", args.backend);
		json_array_begin(j, "programs");
		for (size_t i = first; i < end; i++)
			json_verdict(j, sluice_kernel_prog_name(obj, i),
				     sluice_kernel_prog_section(obj, i), &verdicts[i - first]);
		json_array_end(j);
		json_u64(j, "accepted", accepted);
		json_u64(j, "rejected", end - first - accepted);
		json_object_end(j);
		json_free(j);
	} else {
		for (size_t i = first; i < end; i++)
			print_verdict(sluice_kernel_prog_name(obj, i),
				      sluice_kernel_prog_section(obj, i), &verdicts[i - first]);
		printf("%zu program%s: %zu accepted, %zu rejected\n", end - first,
		       end - first == 1 ? "" : "s", accepted, end - first - accepted);
	}
	free(verdicts);
	sluice_kernel_close(obj);
	return accepted == end - first ? CLI_OK : CLI_FAILED;
}
