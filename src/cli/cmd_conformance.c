/* SPDX-License-Identifier: MIT */
/*
 * `sluice conformance`: runs bpf_conformance `.data` tests the way the
 * suite's runner does (r1 = mem, r2 = its length, r0 compared on 64 bits),
 * prints one line per failure and closes with "N passed, N failed".
 */
#include <dirent.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sluice/conformance.h>

#include "cli.h"
#include "engine.h"
#include "files.h"
#include "json.h"

struct tally {
	unsigned passed, failed;
	bool verbose;
	struct json *json; /* with --json: the "failures" array is open */
};

static void report(struct tally *t, const char *path, bool ok, const char *why)
{
	const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;

	if (ok)
		t->passed++;
	else
		t->failed++;
	if (t->json) {
		if (!ok) {
			json_object_begin(t->json, NULL);
			json_string(t->json, "file", name);
			json_string(t->json, "reason", why);
			json_object_end(t->json);
		}
	} else if (!ok || t->verbose) {
		printf("%s %s%s%s\n", ok ? "PASS" : "FAIL", name, why ? ": " : "",
		       why ? why : "");
	}
}

/* Returns a description of what went wrong, or NULL when the test passed. */
static const char *run_case(const struct engine_opts *eopts, const char *path,
			    char *why, size_t why_len)
{
	struct sluice_conformance_case c;
	struct sluice_error err = { 0 };
	struct engine_result result;
	char *text;
	size_t len;
	int ret;

	if (read_file(path, &text, &len, &err)) {
		snprintf(why, why_len, "%s", err.msg);
		return why;
	}
	ret = sluice_conformance_parse(text, len, path, &c, &err);
	free(text);
	if (ret) {
		snprintf(why, why_len, "%s", err.msg);
		return why;
	}
	ret = engine_run_mem(eopts, c.insns, c.count, c.mem, c.mem_len, &result, &err);
	if (c.error) {
		/* Error texts differ between runtimes: any clean failure matches. */
		if (ret)
			why = NULL;
		else
			snprintf(why, why_len, "r0 = 0x%" PRIx64 ", expected the error '%s'",
				 result.r0, c.error);
	} else if (ret) {
		snprintf(why, why_len, "%s", err.msg);
	} else if (result.r0 != c.result) {
		snprintf(why, why_len, "r0 = 0x%" PRIx64 ", expected 0x%" PRIx64,
			 result.r0, c.result);
	} else {
		why = NULL;
	}
	sluice_conformance_case_free(&c);
	return why;
}

static int is_data_file(const struct dirent *ent)
{
	size_t n = strlen(ent->d_name);

	return n > 5 && !strcmp(ent->d_name + n - 5, ".data");
}

static int run_path(const struct engine_opts *eopts, const char *path,
		    struct tally *t)
{
	char why[SLUICE_ERRMSG_MAX + 64];
	struct dirent **ents;
	struct stat st;
	int n;

	if (stat(path, &st))
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		const char *failure = run_case(eopts, path, why, sizeof(why));

		report(t, path, !failure, failure);
		return 0;
	}
	n = scandir(path, &ents, is_data_file, alphasort);
	if (n < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		char file[4096];
		const char *failure;

		snprintf(file, sizeof(file), "%s/%s", path, ents[i]->d_name);
		failure = run_case(eopts, file, why, sizeof(why));
		report(t, file, !failure, failure);
		free(ents[i]);
	}
	free(ents);
	return 0;
}

int cmd_conformance(const struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		ENGINE_LONG_OPTIONS,
		{ "verbose", no_argument, NULL, 'v' },
		{ 0 },
	};
	struct engine_opts eopts = { .name = "interp" };
	struct tally t = { 0 };
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "v", options, NULL)) != -1) {
		if (opt == 'v')
			t.verbose = true;
		else if (!engine_option(&eopts, opt, optarg))
			return cli_usage(cli, "conformance", "bad option");
	}
	if (optind >= argc)
		return cli_usage(cli, "conformance", "expected a directory or .data files");
	if (!engine_known(eopts.name))
		return cli_usage(cli, "conformance", "unknown engine '%s' (available: %s)",
				 eopts.name, engine_names());
	for (int i = optind; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st))
			return cli_fail(cli, "cannot open '%s': no such file or directory", argv[i]);
	}

	if (cli->json) {
		t.json = json_new(stdout);
		json_object_begin(t.json, NULL);
		json_string(t.json, "engine", eopts.name);
		json_bool(t.json, "checked", eopts.checked);
		json_array_begin(t.json, "failures");
	}
	for (int i = optind; i < argc; i++)
		if (run_path(&eopts, argv[i], &t))
			report(&t, argv[i], false, "cannot read");
	if (t.json) {
		json_array_end(t.json);
		json_u64(t.json, "passed", t.passed);
		json_u64(t.json, "failed", t.failed);
		json_object_end(t.json);
		json_free(t.json);
	} else {
		printf("%u passed, %u failed\n", t.passed, t.failed);
	}
	return t.failed || !t.passed ? CLI_FAILED : CLI_OK;
}
