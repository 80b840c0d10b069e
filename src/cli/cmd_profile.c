/* SPDX-License-Identifier: MIT */
/*
 * `sluice profile`: where the CPU time goes, as a flame graph.
 *
 *   profile --pid P | --all --duration S [--frequency HZ] -o FLAME.svg [--folded FILE]
 *           [--runtime FILE.o --prog NAME --pcap IN.pcap]
 *   profile --runtime FILE.o --prog NAME --pcap IN.pcap --duration S -o FLAME.svg ...
 *
 * With --pid or --all, the kernel samples stacks (perf_event + BPF, see
 * src/profile/sampler.h).  Where it refuses, and with --runtime alone, a BPF
 * program is sampled in Sluice's own user-space runtime instead, running
 * over a capture's packets (src/profile/rtsample.h).  The mode, and why,
 * is always said.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "errmsg.h"
#include "files.h"
#include "json.h"
#include "live.h"
#include "pcap_io.h"
#include "profile/flamegraph.h"
#include "profile/rtsample.h"
#include "profile/sampler.h"
#include "rtprog.h"

struct profile_args {
	pid_t pid;
	bool all;
	double duration;
	unsigned frequency;
	const char *svg, *folded, *runtime, *prog, *pcap;
};

static volatile sig_atomic_t stop_asked;

static void ask_stop(int sig)
{
	(void)sig;
	stop_asked = 1;
}

/* The packets of a capture, held in memory so that every round replays them. */
struct packets {
	struct sluice_rt_prog *prog;
	uint8_t **data;
	uint32_t *len;
	size_t n;
	uint64_t refused; /* test runs the runtime refused (a runt, ...) */
};

static int run_round(void *ctx, struct sluice_error *err)
{
	struct packets *p = ctx;
	size_t ran = 0;

	for (size_t i = 0; i < p->n; i++) {
		struct sluice_test_run t = { .sz = sizeof(t), .data_in = p->data[i],
					     .data_size_in = p->len[i] };

		if (sluice_rt_test_run(p->prog, &t, err))
			p->refused++;
		else
			ran++;
	}
	/* err holds why the last packet was refused */
	return ran ? 0 : -(err->code ? err->code : ENODATA);
}

static int read_packets(const char *path, struct packets *p, struct sluice_error *err)
{
	struct pcap_in *in = pcap_in_open(path, err);
	struct pcap_frame f;
	int more;

	if (!in)
		return -err->code;
	while ((more = pcap_in_next(in, &f, err)) == 1) {
		uint8_t **data = realloc(p->data, (p->n + 1) * sizeof(*data));
		uint32_t *len = data ? realloc(p->len, (p->n + 1) * sizeof(*len)) : NULL;

		if (data)
			p->data = data;
		if (len)
			p->len = len;
		if (!data || !len || !(p->data[p->n] = malloc(f.len ? f.len : 1))) {
			more = sluice_fail(err, ENOMEM, "out of memory");
			break;
		}
		memcpy(p->data[p->n], f.data, f.len);
		p->len[p->n++] = f.len;
	}
	pcap_in_close(in);
	if (!more && !p->n)
		return sluice_fail(err, ENODATA, "%s: no packets", path);
	return more < 0 ? more : 0;
}

static void free_packets(struct packets *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->data[i]);
	free(p->data);
	free(p->len);
}

static int write_outputs(const struct cli *cli, const struct profile_args *a,
			 struct prof_stacks *stacks, const char *title)
{
	struct prof_flame_opts fo = { .title = title };
	struct sluice_error err = { 0 };
	FILE *f;
	int ret;

	if (a->folded) {
		f = fopen(a->folded, "we");
		if (!f)
			return cli_fail(cli, "%s: %s", a->folded, strerror(errno));
		ret = prof_stacks_write_folded(stacks, f, &err);
		if (fclose(f) && !ret)
			ret = -EIO;
		if (ret)
			return cli_fail(cli, "%s: %s", a->folded, err.msg[0] ? err.msg : strerror(-ret));
	}
	f = fopen(a->svg, "we");
	if (!f)
		return cli_fail(cli, "%s: %s", a->svg, strerror(errno));
	ret = prof_flamegraph_write(stacks, &fo, f, &err);
	if (fclose(f) && !ret)
		ret = -EIO;
	if (ret)
		return cli_fail(cli, "%s: %s", a->svg, err.msg[0] ? err.msg : strerror(-ret));
	return CLI_OK;
}

/* why: the kernel's refusal that made the runtime sample; note: what was degraded. */
static void report(const struct cli *cli, const struct profile_args *a, const char *mode,
		   const char *why, const char *note, struct prof_stacks *stacks, uint64_t dropped)
{
	if (cli->json) {
		struct json *j = json_new(stdout);

		json_object_begin(j, NULL);
		json_string(j, "mode", mode);
		if (why)
			json_string(j, "fallback_reason", why);
		if (note && *note)
			json_string(j, "note", note);
		json_u64(j, "samples", prof_stacks_total(stacks));
		json_u64(j, "stacks", prof_stacks_count(stacks));
		json_u64(j, "dropped", dropped);
		json_string(j, "svg", a->svg);
		if (a->folded)
			json_string(j, "folded", a->folded);
		json_object_end(j);
		json_free(j);
		return;
	}
	printf("%llu samples, %zu distinct stacks%s; flame graph in %s",
	       (unsigned long long)prof_stacks_total(stacks), prof_stacks_count(stacks),
	       dropped ? " (some dropped, see above)" : "", a->svg);
	if (a->folded)
		printf(", folded stacks in %s", a->folded);
	printf("\n");
}

static int profile_runtime(const struct cli *cli, const struct profile_args *a, const char *why)
{
	struct engine_opts eopts = { .name = "jit" };
	struct prof_rt_report rep;
	struct packets pk = { 0 };
	struct sluice_error err = { 0 };
	struct prof_stacks *stacks;
	struct rtprog p;
	char title[256];
	int ret;

	if (!a->runtime || !a->prog || !a->pcap)
		return cli_fail(cli, "%s; to sample a BPF program in Sluice's user-space runtime "
			"instead, add --runtime FILE.o --prog NAME --pcap IN.pcap", why);
	if (!cli->json || why)
		fprintf(stderr, "sluice profile: %s%s: sampling program %s of %s in Sluice's "
			"user-space runtime (JIT, SIGPROF at %u Hz of CPU time) on the packets of %s\n",
			why ? why : "asked for the runtime", why ? ", falling back" : "", a->prog,
			a->runtime, a->frequency, a->pcap);
	ret = rtprog_open(cli, "profile", a->runtime, a->prog, &eopts, &p);
	if (ret)
		return ret;
	ret = rtprog_require_packet_type(cli, "profile --runtime", &p);
	if (ret) {
		rtprog_close(&p);
		return ret;
	}
	stacks = prof_stacks_new();
	if (!stacks || read_packets(a->pcap, &pk, &err)) {
		ret = cli_fail(cli, "%s", stacks ? err.msg : "out of memory");
		goto out;
	}
	pk.prog = p.prog;
	{
		struct prof_rt_opts o = {
			.rt = p.rt,
			.prog = p.prog,
			.obj = p.obj,
			.src = sluice_object_find_prog(p.obj, a->prog),
			.frequency = a->frequency,
			.duration_ms = (unsigned)(a->duration * 1000),
			.run = run_round,
			.run_ctx = &pk,
			.stop = &stop_asked,
		};

		if (prof_rt_sample(&o, stacks, &rep, &err)) {
			ret = cli_fail(cli, "profile: %s", err.msg);
			goto out;
		}
	}
	if (pk.refused && !cli->json)
		fprintf(stderr, "sluice profile: %llu test runs of %llu refused by the runtime "
			"(%s)\n", (unsigned long long)pk.refused,
			(unsigned long long)(rep.rounds * pk.n), err.msg);
	if (rep.dropped)
		fprintf(stderr, "sluice profile: %llu samples dropped (buffer full)\n",
			(unsigned long long)rep.dropped);
	snprintf(title, sizeof(title), "sluice profile: %s of %s in Sluice's runtime (JIT, %u Hz)%s",
		 a->prog, a->runtime, a->frequency, why ? " - kernel sampling refused" : "");
	ret = write_outputs(cli, a, stacks, title);
	if (!ret)
		report(cli, a, "runtime", why, NULL, stacks, rep.dropped);
out:
	prof_stacks_free(stacks);
	free_packets(&pk);
	rtprog_close(&p);
	return ret;
}

static int profile_kernel(const struct cli *cli, const struct profile_args *a)
{
	struct prof_kernel_opts o = {
		.pid = a->all ? 0 : a->pid,
		.frequency = a->frequency,
		.duration_ms = (unsigned)(a->duration * 1000),
		.stop = &stop_asked,
	};
	struct prof_kernel_report rep;
	struct sluice_error err = { 0 };
	struct prof_stacks *stacks;
	char object[4096], title[256], target[32];
	int ret;

	if (built_path("profile/kern.o", object, sizeof(object)))
		return cli_fail(cli, "cannot tell where the sluice binary is");
	o.object = object;
	stacks = prof_stacks_new();
	if (!stacks)
		return cli_fail(cli, "out of memory");
	ret = prof_kernel_sample(&o, stacks, &rep, &err);
	if (ret && prof_kernel_refused(ret)) {
		char why[SLUICE_ERRMSG_MAX + 32];

		prof_stacks_free(stacks);
		snprintf(why, sizeof(why), "the kernel refused to sample (%s)", err.msg);
		return profile_runtime(cli, a, why);
	}
	if (ret) {
		prof_stacks_free(stacks);
		return cli_fail(cli, "profile: %s", err.msg);
	}
	if (a->all)
		snprintf(target, sizeof(target), "every process");
	else
		snprintf(target, sizeof(target), "pid %d", (int)a->pid);
	if (!cli->json) {
		fprintf(stderr, "sluice profile: kernel sampling: perf_event cpu-clock at %u Hz on %u "
			"CPUs, BPF stacks, %s\n", a->frequency, rep.cpus, target);
		if (rep.kernel_note[0])
			fprintf(stderr, "sluice profile: %s\n", rep.kernel_note);
		if (rep.target_exited)
			fprintf(stderr, "sluice profile: pid %d exited before the end; its frames "
				"cannot be named\n", (int)a->pid);
		if (rep.dropped || rep.stacks_lost)
			fprintf(stderr, "sluice profile: samples not counted (map full): %llu; "
				"stacks lost (stack map full or hash collision): %llu\n",
				(unsigned long long)rep.dropped, (unsigned long long)rep.stacks_lost);
	}
	snprintf(title, sizeof(title), "sluice profile: %s (cpu-clock, %u Hz, %.1f s)", target,
		 a->frequency, a->duration);
	ret = write_outputs(cli, a, stacks, title);
	if (!ret)
		report(cli, a, "kernel", NULL, rep.kernel_note, stacks, rep.dropped);
	prof_stacks_free(stacks);
	return ret;
}

int cmd_profile(const struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "all", no_argument, NULL, 'a' },
		{ "duration", required_argument, NULL, 'd' },
		{ "frequency", required_argument, NULL, 'F' },
		{ "output", required_argument, NULL, 'o' },
		{ "folded", required_argument, NULL, 'f' },
		{ "runtime", required_argument, NULL, 'r' },
		{ "prog", required_argument, NULL, 'P' },
		{ "pcap", required_argument, NULL, 'i' },
		{ 0 },
	};
	struct profile_args a = { .duration = 5, .frequency = 99 };
	struct sigaction sa = { .sa_handler = ask_stop };
	uint64_t n;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "F:o:", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (parse_u64_arg(optarg, &n) || !n || n > INT32_MAX)
				return cli_usage(cli, "profile", "--pid takes a process id, not '%s'", optarg);
			a.pid = (pid_t)n;
			break;
		case 'a': a.all = true; break;
		case 'd':
			if (live_parse_seconds(optarg, &a.duration) || a.duration > 86400)
				return cli_usage(cli, "profile", "--duration takes positive seconds, not '%s'",
						 optarg);
			break;
		case 'F':
			if (parse_u64_arg(optarg, &n) || !n || n > 100000)
				return cli_usage(cli, "profile", "--frequency takes 1 to 100000 Hz, not '%s'",
						 optarg);
			a.frequency = (unsigned)n;
			break;
		case 'o': a.svg = optarg; break;
		case 'f': a.folded = optarg; break;
		case 'r': a.runtime = optarg; break;
		case 'P': a.prog = optarg; break;
		case 'i': a.pcap = optarg; break;
		default: return cli_usage(cli, "profile", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage(cli, "profile", "unexpected argument '%s'", argv[optind]);
	if (!a.svg)
		return cli_usage(cli, "profile", "-o FLAME.svg is required");
	if (a.pid && a.all)
		return cli_usage(cli, "profile", "--pid and --all exclude each other");
	if (!a.pid && !a.all && !a.runtime)
		return cli_usage(cli, "profile", "say what to sample: --pid P, --all or --runtime FILE.o");
	if (a.runtime && (!a.prog || !a.pcap))
		return cli_usage(cli, "profile", "--runtime FILE.o needs --prog NAME and --pcap IN.pcap");
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (a.pid || a.all)
		return profile_kernel(cli, &a);
	return profile_runtime(cli, &a, NULL);
}
