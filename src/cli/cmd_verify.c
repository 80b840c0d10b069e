/* SPDX-License-Identifier: MIT */
/*
 * `sluice verify FILE(.o|.s|.bin)`: Sluice's own verifier on each program
 * of an object (or on one raw program), with the kernel's rules, and either
 * its statistics or the log that says why it was rejected.  Exit 0 when
 * every program is accepted, 1 when one is rejected, 2 for bad usage or
 * input.
 *
 * Raw programs have no section to say their type: --type names it, and
 * without it they are socket filters, the type `bpf_prog_load` callers and
 * bpftool users meet first, whose context every kernel has.  They have no
 * license either and count as GPL, so that no helper is refused for it.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bpf.h>

#include <sluice/object.h>
#include <sluice/verifier.h>

#include "cli.h"
#include "files.h"
#include "json.h"
#include "loader.h"

struct verify_args {
	const char *prog;
	const char *type;
	bool unprivileged;
	unsigned log_level;
};

/* What one program is verified as. */
struct verify_job {
	const char *name;
	const char *section;
	const struct sluice_insn *insns;
	size_t count;
	struct sluice_verifier_opts opts;
};

/* A section name as libbpf reads it ("xdp", "tc", "kprobe/f"), or a type name ("sched_cls"). */
static int parse_type(const char *name, uint32_t *type, uint32_t *attach)
{
	const struct sec_def *def = sec_def_find(name);

	if (def) {
		*type = def->prog_type;
		*attach = def->attach_type;
		return 0;
	}
	for (uint32_t t = 1; bpf_prog_type_str(t); t++) {
		if (!strcmp(bpf_prog_type_str(t), name)) {
			*type = t;
			*attach = 0;
			return 0;
		}
	}
	return -1;
}

static bool is_object_file(const char *path)
{
	size_t len = strlen(path);

	return len > 2 && !strcmp(path + len - 2, ".o");
}

static void print_text(const struct verify_job *job, const struct sluice_verdict *v)
{
	printf("%s", job->name);
	if (job->section)
		printf(" (%s)", job->section);
	if (v->accepted) {
		printf(": accepted (%" PRIu64 " insns processed, %" PRIu32 " states, stack %" PRIu32
		       " bytes)\n", v->insns_processed, v->total_states, v->max_stack_depth);
		if (v->log && v->log_len)
			printf("%s%s", v->log, v->log[v->log_len - 1] == '\n' ? "" : "\n");
		return;
	}
	printf(": rejected at pc %zu (%" PRIu64 " insns processed)\n", v->error_pc,
	       v->insns_processed);
	for (const char *line = v->log ? v->log : ""; *line;) {
		size_t len = strcspn(line, "\n");

		printf("  | %.*s\n", (int)len, line);
		line += len + (line[len] == '\n');
	}
}

static void print_json(struct json *j, const struct verify_job *job,
		       const struct sluice_verdict *v)
{
	json_object_begin(j, NULL);
	json_string(j, "name", job->name);
	if (job->section)
		json_string(j, "section", job->section);
	json_bool(j, "accepted", v->accepted);
	if (!v->accepted)
		json_u64(j, "error_pc", v->error_pc);
	json_u64(j, "insns_processed", v->insns_processed);
	json_u64(j, "states", v->total_states);
	json_u64(j, "peak_states", v->peak_states);
	json_u64(j, "stack_depth", v->max_stack_depth);
	json_string(j, "log", v->log ? v->log : "");
	json_object_end(j);
}

/*
 * Verify each job, then print the verdicts: CLI_OK when all are accepted,
 * CLI_FAILED when one is not, CLI_USAGE when the verifier could not judge
 * one (bad options, a program it cannot take apart, out of memory), which
 * is then the only thing reported.
 */
static int verify_jobs(const struct cli *cli, const char *path, struct verify_job *jobs,
		       size_t njobs)
{
	struct sluice_verdict *verdicts = calloc(njobs, sizeof(*verdicts));
	struct sluice_error err = { 0 };
	size_t accepted = 0, done;
	int ret = CLI_USAGE;

	if (!verdicts)
		return cli_fail(cli, "out of memory");
	for (done = 0; done < njobs; done++) {
		if (sluice_verify(jobs[done].insns, jobs[done].count, &jobs[done].opts,
				  &verdicts[done], &err))
			break;
		accepted += verdicts[done].accepted;
	}
	if (done < njobs) {
		cli_fail(cli, "%s: %s: %s", path, jobs[done].name, err.msg);
	} else if (cli->json) {
		struct json *j = json_new(stdout);

		json_object_begin(j, NULL);
		json_string(j, "file", path);
		json_array_begin(j, "programs");
		for (size_t i = 0; i < njobs; i++)
			print_json(j, &jobs[i], &verdicts[i]);
		json_array_end(j);
		json_u64(j, "accepted", accepted);
		json_u64(j, "rejected", njobs - accepted);
		json_object_end(j);
		json_free(j);
	} else {
		for (size_t i = 0; i < njobs; i++)
			print_text(&jobs[i], &verdicts[i]);
		if (njobs > 1)
			printf("%zu programs: %zu accepted, %zu rejected\n", njobs, accepted,
			       njobs - accepted);
	}
	if (done == njobs)
		ret = accepted == njobs ? CLI_OK : CLI_FAILED;
	for (size_t i = 0; i <= done && i < njobs; i++)
		sluice_verdict_release(&verdicts[i]);
	free(verdicts);
	return ret;
}

static int verify_object(const struct cli *cli, const char *path, const struct verify_args *args,
			 uint32_t type, uint32_t attach)
{
	struct sluice_object_opts oopts = { .sz = sizeof(oopts) };
	struct sluice_error err = { 0 };
	struct sluice_object *obj = sluice_object_open(path, &oopts, &err);
	const struct sluice_map_def **maps = NULL;
	struct verify_job *jobs = NULL;
	size_t nmaps, nprogs, njobs = 0;
	int ret;

	if (!obj) {
		cli_fail(cli, "%s", err.msg);
		return CLI_USAGE;
	}
	nmaps = sluice_object_map_count(obj);
	nprogs = sluice_object_prog_count(obj);
	if (args->prog && !sluice_object_find_prog(obj, args->prog)) {
		sluice_object_close(obj);
		cli_fail(cli, "%s: no program '%s'", path, args->prog);
		return CLI_USAGE;
	}
	maps = calloc(nmaps ? nmaps : 1, sizeof(*maps));
	jobs = calloc(nprogs ? nprogs : 1, sizeof(*jobs));
	if (!maps || !jobs) {
		free(maps);
		free(jobs);
		sluice_object_close(obj);
		return cli_fail(cli, "out of memory");
	}
	for (size_t i = 0; i < nmaps; i++)
		maps[i] = sluice_object_map(obj, i);
	for (size_t i = 0; i < nprogs; i++) {
		const struct sluice_prog *p = sluice_object_prog(obj, i);
		struct verify_job *job = &jobs[njobs];

		if (args->prog && strcmp(sluice_prog_name(p), args->prog))
			continue;
		job->name = sluice_prog_name(p);
		job->section = sluice_prog_section(p);
		job->insns = sluice_prog_insns(p, &job->count);
		job->opts = (struct sluice_verifier_opts){
			.sz = sizeof(job->opts),
			.prog_type = args->type ? type : sluice_prog_type(p),
			.expected_attach_type = args->type ? attach : sluice_prog_attach_type(p),
			.unprivileged = args->unprivileged,
			.gpl = sluice_object_gpl_compatible(obj),
			.log_level = args->log_level,
			.maps = maps,
			.nmaps = nmaps,
		};
		job->opts.lines = sluice_prog_line_info(p, &job->opts.nlines);
		job->opts.funcs = sluice_prog_func_info(p, &job->opts.nfuncs);
		njobs++;
	}
	if (njobs) {
		ret = verify_jobs(cli, path, jobs, njobs);
	} else {
		cli_fail(cli, "%s: no programs to verify", path);
		ret = CLI_USAGE;
	}
	free(jobs);
	free(maps);
	sluice_object_close(obj);
	return ret;
}

static int verify_raw(const struct cli *cli, const char *path, const struct verify_args *args,
		      uint32_t type, uint32_t attach)
{
	struct sluice_error err = { 0 };
	struct sluice_insn *insns;
	struct verify_job job = {
		.opts = {
			.sz = sizeof(job.opts), .prog_type = type, .expected_attach_type = attach,
			.unprivileged = args->unprivileged, .gpl = true,
			.log_level = args->log_level,
		},
	};
	const char *slash = strrchr(path, '/');
	int ret;

	if (args->prog)
		return cli_usage(cli, "verify", "--prog names a program of an object file, not of %s",
				 path);
	if (load_program(path, &insns, &job.count, &err)) {
		cli_fail(cli, "%s", err.msg);
		return CLI_USAGE;
	}
	job.name = slash ? slash + 1 : path;
	job.insns = insns;
	ret = verify_jobs(cli, path, &job, 1);
	free(insns);
	return ret;
}

int cmd_verify(const struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "prog", required_argument, NULL, 'p' },
		{ "type", required_argument, NULL, 't' },
		{ "unprivileged", no_argument, NULL, 'u' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "verbose", no_argument, NULL, 'v' },
		{ 0 },
	};
	struct verify_args args = { 0 };
	uint32_t type = BPF_PROG_TYPE_SOCKET_FILTER, attach = 0;
	char *end;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "v", options, NULL)) != -1) {
		switch (opt) {
		case 'p':
			args.prog = optarg;
			break;
		case 't':
			args.type = optarg;
			break;
		case 'u':
			args.unprivileged = true;
			break;
		case 'v':
			args.log_level = 2;
			break;
		case 'l':
			args.log_level = (unsigned)strtoul(optarg, &end, 10);
			if (!*optarg || *end || args.log_level > 2)
				return cli_usage(cli, "verify", "--log-level takes 0, 1 or 2, not '%s'",
						 optarg);
			break;
		default:
			return cli_usage(cli, "verify", "bad option");
		}
	}
	if (optind + 1 != argc)
		return cli_usage(cli, "verify", "expected one program or object file");
	if (args.type && parse_type(args.type, &type, &attach))
		return cli_usage(cli, "verify",
				 "unknown program type '%s' (a section name such as xdp, tc, socket, "
				 "kprobe/NAME, or a type name such as sched_cls)", args.type);
	if (is_object_file(argv[optind]))
		return verify_object(cli, argv[optind], &args, type, attach);
	return verify_raw(cli, argv[optind], &args, type, attach);
}
