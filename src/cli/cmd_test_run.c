/* SPDX-License-Identifier: MIT */
/*
 * `sluice test-run FILE.o --prog NAME [--engine interp|jit | --backend
 * kernel] --data-in F [--data-out F] [--ctx-in F] [--ctx-out F] [--repeat
 * N]`: run one program of an object on a packet as BPF_PROG_TEST_RUN does,
 * and report its return value, the mean time of a run, the output packet
 * and where a redirect sent it.
 *
 * The user-space runtime is the default because it runs everywhere (no
 * root, no bpf() needed); `--backend kernel` asks the running kernel, with
 * the same output, so the two compare line for line.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/kernel.h>

#include "cli.h"
#include "engine.h"
#include "files.h"
#include "json.h"
#include "rtprog.h"

/*
 * Room for the output beyond the input: XDP and TC programs may push
 * headers (bpf_xdp_adjust_head, bpf_skb_change_head) or grow the tail.
 */
#define OUTPUT_GROWTH (64 * 1024)
/* Room for an output context: more than any context structure. */
#define CTX_OUT_ROOM 4096

#define BACKEND_USER "userspace"
#define BACKEND_KERNEL "kernel"

struct request {
	const char *path, *data_in, *data_out, *ctx_in, *ctx_out;
	uint32_t repeat;
};

/* The inputs read, and room for the outputs. */
struct buffers {
	char *data, *ctx;
	size_t data_len, ctx_len;
	uint8_t *out;
	size_t out_room;
	uint8_t ctx_out[CTX_OUT_ROOM];
};

/* What both backends report. */
struct outcome {
	const char *backend;
	const char *engine;      /* user space only */
	uint32_t retval, duration_ns, repeat;
	size_t data_out_size;
	size_t ctx_out_size;     /* 0: no context came back */
	uint32_t redirect_ifindex;
	uint64_t redirect_flags;
};

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

static void report(const struct cli *cli, const char *prog, const struct outcome *o,
		   const struct request *req)
{
	if (cli->json) {
		struct json *j = json_new(stdout);

		json_object_begin(j, NULL);
		json_string(j, "prog", prog);
		json_string(j, "backend", o->backend);
		if (o->engine)
			json_string(j, "engine", o->engine);
		json_u64(j, "retval", o->retval);
		json_u64(j, "duration_ns", o->duration_ns);
		json_u64(j, "repeat", o->repeat);
		json_u64(j, "data_out_size", o->data_out_size);
		if (req->data_out)
			json_string(j, "data_out", req->data_out);
		if (req->ctx_out) {
			json_u64(j, "ctx_out_size", o->ctx_out_size);
			json_string(j, "ctx_out", req->ctx_out);
		}
		if (o->redirect_ifindex) {
			json_u64(j, "redirect_ifindex", o->redirect_ifindex);
			json_u64(j, "redirect_flags", o->redirect_flags);
		}
		json_object_end(j);
		json_free(j);
		return;
	}
	printf("retval %u (0x%x)\n", o->retval, o->retval);
	printf("duration %u ns (mean of %u run%s)\n", o->duration_ns, o->repeat,
	       o->repeat == 1 ? "" : "s");
	printf("data_out %zu bytes%s%s\n", o->data_out_size,
	       req->data_out ? ", written to " : "", req->data_out ? req->data_out : "");
	if (req->ctx_out)
		printf("ctx_out %zu bytes, written to %s\n", o->ctx_out_size, req->ctx_out);
	if (o->redirect_ifindex)
		printf("redirect ifindex %u (flags 0x%llx)\n", o->redirect_ifindex,
		       (unsigned long long)o->redirect_flags);
}

static int read_inputs(const struct request *req, struct buffers *b, struct sluice_error *err)
{
	if (read_file(req->data_in, &b->data, &b->data_len, err) ||
	    (req->ctx_in && read_file(req->ctx_in, &b->ctx, &b->ctx_len, err)))
		return -1;
	/* BPF_PROG_TEST_RUN's sizes are 32 bits */
	if (b->data_len > UINT32_MAX - OUTPUT_GROWTH || b->ctx_len > UINT32_MAX) {
		snprintf(err->msg, sizeof(err->msg), "'%s': too large for a test run",
			 b->data_len > UINT32_MAX - OUTPUT_GROWTH ? req->data_in : req->ctx_in);
		return -1;
	}
	b->out_room = b->data_len + OUTPUT_GROWTH;
	b->out = malloc(b->out_room);
	if (!b->out) {
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return -1;
	}
	return 0;
}

static void free_buffers(struct buffers *b)
{
	free(b->data);
	free(b->ctx);
	free(b->out);
	free(b);
}

static int run_kernel(const struct cli *cli, struct kernel_args *args, const struct request *req,
		      struct buffers *b, struct outcome *o)
{
	struct sluice_kernel_run run = {
		.sz = sizeof(run),
		.data_in = b->data, .data_size_in = b->data_len,
		.data_out = b->out, .data_size_out = b->out_room,
		.ctx_in = b->ctx, .ctx_size_in = b->ctx_len,
		.ctx_out = req->ctx_out ? b->ctx_out : NULL,
		.ctx_size_out = req->ctx_out ? CTX_OUT_ROOM : 0,
		.repeat = req->repeat,
	};
	struct sluice_error err = { 0 };
	struct sluice_kernel_object *obj;
	int i, ret = kernel_open(cli, "test-run", args, req->path, &obj, &i);

	if (ret)
		return ret;
	ret = sluice_kernel_test_run(obj, (size_t)i, &run, &err);
	sluice_kernel_close(obj);
	if (ret)
		return cli_fail(cli, "%s: %s", req->path, err.msg);
	*o = (struct outcome){
		.backend = BACKEND_KERNEL,
		.retval = run.retval,
		.duration_ns = run.duration_ns,
		.repeat = run.repeat,
		.data_out_size = run.data_size_out,
		.ctx_out_size = req->ctx_out ? run.ctx_size_out : 0,
	};
	return CLI_OK;
}

static int run_user(const struct cli *cli, const char *prog, const struct engine_opts *eopts,
		    const struct request *req, struct buffers *b, struct outcome *o)
{
	struct sluice_test_run run = {
		.sz = sizeof(run),
		.data_in = b->data, .data_size_in = (uint32_t)b->data_len,
		.data_out = b->out, .data_size_out = (uint32_t)b->out_room,
		.ctx_in = b->ctx, .ctx_size_in = (uint32_t)b->ctx_len,
		.ctx_out = req->ctx_out ? b->ctx_out : NULL,
		.ctx_size_out = req->ctx_out ? CTX_OUT_ROOM : 0,
		.repeat = req->repeat,
	};
	struct sluice_error err = { 0 };
	struct rtprog p;
	int ret = rtprog_open(cli, "test-run", req->path, prog, eopts, &p);

	if (ret)
		return ret;
	ret = sluice_rt_test_run(p.prog, &run, &err);
	rtprog_close(&p);
	if (ret)
		return cli_fail(cli, "%s: %s", req->path, err.msg);
	*o = (struct outcome){
		.backend = BACKEND_USER,
		.engine = eopts->name,
		.retval = run.retval,
		.duration_ns = run.duration_ns,
		.repeat = req->repeat,
		.data_out_size = run.data_size_out,
		.ctx_out_size = req->ctx_out ? run.ctx_size_out : 0,
		.redirect_ifindex = run.redirect_ifindex,
		.redirect_flags = run.redirect_flags,
	};
	return CLI_OK;
}

int cmd_test_run(const struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		KERNEL_OPTIONS,
		ENGINE_LONG_OPTIONS,
		{ "data-in", required_argument, NULL, 'i' },
		{ "data-out", required_argument, NULL, 'o' },
		{ "ctx-in", required_argument, NULL, 'c' },
		{ "ctx-out", required_argument, NULL, 'C' },
		{ "repeat", required_argument, NULL, 'r' },
		{ 0 },
	};
	struct kernel_args args = { .backend = BACKEND_USER };
	struct engine_opts eopts = { .name = "interp" };
	struct request req = { .repeat = 1 };
	struct sluice_error err = { 0 };
	struct outcome o = { 0 };
	struct buffers *b;
	bool engine_given = false;
	int opt, ret;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (kernel_arg(opt, optarg, &args))
			continue;
		if (engine_option(&eopts, opt, optarg)) {
			engine_given = true;
			continue;
		}
		switch (opt) {
		case 'i':
			req.data_in = optarg;
			break;
		case 'o':
			req.data_out = optarg;
			break;
		case 'c':
			req.ctx_in = optarg;
			break;
		case 'C':
			req.ctx_out = optarg;
			break;
		case 'r':
			if (parse_repeat(optarg, &req.repeat))
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
	req.path = argv[optind];
	if (!args.prog)
		return cli_usage(cli, "test-run", "--prog NAME is required");
	if (!req.data_in)
		return cli_usage(cli, "test-run", "--data-in FILE is required");
	if (strcmp(args.backend, BACKEND_USER) && strcmp(args.backend, BACKEND_KERNEL))
		return cli_usage(cli, "test-run", "unknown backend '%s' (available: %s, %s)",
				 args.backend, BACKEND_USER, BACKEND_KERNEL);
	if (!strcmp(args.backend, BACKEND_KERNEL) && engine_given)
		return cli_usage(cli, "test-run", "--engine and --checked choose how user space runs the program, not the kernel");

	b = calloc(1, sizeof(*b));
	if (!b)
		return cli_fail(cli, "out of memory");
	if (read_inputs(&req, b, &err)) {
		free_buffers(b);
		return cli_fail(cli, "%s", err.msg);
	}
	if (!strcmp(args.backend, BACKEND_KERNEL))
		ret = run_kernel(cli, &args, &req, b, &o);
	else
		ret = run_user(cli, args.prog, &eopts, &req, b, &o);
	if (!ret && req.data_out && write_file(req.data_out, b->out, o.data_out_size, &err))
		ret = cli_fail(cli, "%s", err.msg);
	if (!ret && req.ctx_out && write_file(req.ctx_out, b->ctx_out, o.ctx_out_size, &err))
		ret = cli_fail(cli, "%s", err.msg);
	free_buffers(b);
	if (!ret)
		report(cli, args.prog, &o, &req);
	return ret;
}
