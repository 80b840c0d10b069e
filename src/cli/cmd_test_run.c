/* SPDX-License-Identifier: MIT */
/*
 * `sluice test-run FILE.o --prog NAME [--backend=kernel] --data-in F
 * [--data-out F] [--ctx-in F] [--repeat N]`: run one program of an object
 * on a packet with BPF_PROG_TEST_RUN, and report its return value, the mean
 * time of a run and the output packet.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/kernel.h>

#include "cli.h"
#include "files.h"
#include "json.h"

/*
 * Room for the output beyond the input: XDP and TC programs may push
 * headers (bpf_xdp_adjust_head, bpf_skb_change_head) or grow the tail.
 */
#define OUTPUT_GROWTH (64 * 1024)

static int parse_repeat(const char *s, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -1;
	v = strtoull(s, &end, 10);
	if (*end || v == 0 || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static void report(const struct cli *cli, const char *prog, const struct sluice_kernel_run *run,
		   const char *data_out_path)
{
	if (cli->json) {
		struct json *j = json_new(stdout);

		json_object_begin(j, NULL);
		json_string(j, "prog", prog);
		json_string(j, "backend", "kernel");
		json_u64(j, "retval", run->retval);
		json_u64(j, "duration_ns", run->duration_ns);
		json_u64(j, "repeat", run->repeat);
		json_u64(j, "data_out_size", run->data_size_out);
		if (data_out_path)
			json_string(j, "data_out", data_out_path);
		json_object_end(j);
		json_free(j);
		return;
	}
	printf("retval %u (0x%x)\n", run->retval, run->retval);
	printf("duration %u ns (mean of %u run%s)\n", run->duration_ns, run->repeat,
	       run->repeat == 1 ? "" : "s");
	printf("data_out %zu bytes%s%s\n", run->data_size_out,
	       data_out_path ? ", written to " : "", data_out_path ? data_out_path : "");
}

struct inputs {
	char *data, *ctx;
	size_t data_len, ctx_len;
	uint8_t *out;
};

static void free_inputs(struct inputs *in)
{
	free(in->data);
	free(in->ctx);
	free(in->out);
}

int cmd_test_run(const struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		KERNEL_OPTIONS,
		{ "data-in", required_argument, NULL, 'i' },
		{ "data-out", required_argument, NULL, 'o' },
		{ "ctx-in", required_argument, NULL, 'c' },
		{ "repeat", required_argument, NULL, 'r' },
		{ 0 },
	};
	const char *data_in = NULL, *data_out = NULL, *ctx_in = NULL;
	struct kernel_args args = { .backend = "kernel" };
	struct sluice_kernel_run run = { .sz = sizeof(run), .repeat = 1 };
	struct sluice_error err = { 0 };
	struct sluice_kernel_object *obj;
	struct inputs in = { 0 };
	int opt, i, ret;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (kernel_arg(opt, optarg, &args))
			continue;
		switch (opt) {
		case 'i':
			data_in = optarg;
			break;
		case 'o':
			data_out = optarg;
			break;
		case 'c':
			ctx_in = optarg;
			break;
		case 'r':
			if (parse_repeat(optarg, &run.repeat))
				return cli_usage(cli, "test-run",
						 "--repeat takes a number from 1 to %u, not '%s'",
						 UINT32_MAX, optarg);
			break;
		default:
			return cli_usage(cli, "test-run", "bad option");
		}
	}
	if (optind + 1 != argc)
		return cli_usage(cli, "test-run", "expected one object file");
	if (!args.prog)
		return cli_usage(cli, "test-run", "--prog NAME is required");
	if (!data_in)
		return cli_usage(cli, "test-run", "--data-in FILE is required");
	ret = kernel_open(cli, "test-run", &args, argv[optind], &obj, &i);
	if (ret)
		return ret;

	if (read_file(data_in, &in.data, &in.data_len, &err) ||
	    (ctx_in && read_file(ctx_in, &in.ctx, &in.ctx_len, &err))) {
		free_inputs(&in);
		sluice_kernel_close(obj);
		return cli_fail(cli, "%s", err.msg);
	}
	in.out = malloc(in.data_len + OUTPUT_GROWTH);
	if (!in.out) {
		free_inputs(&in);
		sluice_kernel_close(obj);
		return cli_fail(cli, "out of memory");
	}
	run.data_in = in.data;
	run.data_size_in = in.data_len;
	run.data_out = in.out;
	run.data_size_out = in.data_len + OUTPUT_GROWTH;
	run.ctx_in = in.ctx;
	run.ctx_size_in = in.ctx_len;
	ret = sluice_kernel_test_run(obj, (size_t)i, &run, &err);
	sluice_kernel_close(obj);
	if (!ret && data_out)
		ret = write_file(data_out, in.out, run.data_size_out, &err);
	free_inputs(&in);
	if (ret)
		return cli_fail(cli, "%s", err.msg);
	report(cli, args.prog, &run, data_out);
	return CLI_OK;
}
