/* SPDX-License-Identifier: MIT */
/*
 * `sluice run`, two ways:
 *
 *   run PROG(.s|.bin) [--mem HEX | --mem-file F] ...: one raw program, one
 *   input, r0 out.
 *
 *   run FILE.o --prog NAME --pcap IN.pcap [--pcap-out OUT.pcap] [--events]:
 *   every packet of a capture through an object's program in the user-space
 *   runtime, as BPF_PROG_TEST_RUN runs one packet; the packets the program
 *   lets through (pass, tx, redirect) as it left them into OUT.pcap, verdict
 *   counts and the maps afterwards.  A packet the runtime will not run
 *   (too short or too long for BPF_PROG_TEST_RUN) is counted and the rest
 *   go on; the exit status is then 1.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bpf.h>
#include <linux/if_ether.h>

#include "cli.h"
#include "engine.h"
#include "errmsg.h"
#include "events.h"
#include "files.h"
#include "json.h"
#include "pcap_io.h"
#include "rtprog.h"

/* Room for a packet and what a TC program may push or append to it. */
#define PACKET_ROOM (2 * PCAP_IO_MAX_FRAME)

struct run_args {
	struct engine_opts eopts;
	const char *mem_hex, *mem_file;
	const char *prog, *pcap_in, *pcap_out;
	bool events;
};

static bool is_object(const char *path)
{
	size_t n = strlen(path);

	return n > 2 && !strcmp(path + n - 2, ".o");
}

static int run_raw(const struct cli *cli, const char *path, const struct run_args *a)
{
	struct sluice_error err = { 0 };
	struct engine_result result;
	struct sluice_insn *insns;
	uint8_t *mem = NULL;
	size_t count, mem_len = 0;
	int ret;

	if (a->mem_hex && a->mem_file)
		return cli_usage(cli, "run", "--mem and --mem-file exclude each other");
	if (!engine_known(a->eopts.name))
		return cli_usage(cli, "run", "unknown engine '%s' (available: %s)",
				 a->eopts.name, engine_names());

	if (a->mem_hex && parse_hex_bytes(a->mem_hex, strlen(a->mem_hex), &mem, &mem_len, &err))
		return cli_fail(cli, "--mem: %s", err.msg);
	if (a->mem_file) {
		char *data;

		if (read_file(a->mem_file, &data, &mem_len, &err))
			return cli_fail(cli, "%s", err.msg);
		mem = (uint8_t *)data;
	}
	if (load_program(path, &insns, &count, &err)) {
		free(mem);
		return cli_fail(cli, "%s", err.msg);
	}
	ret = engine_run_mem(&a->eopts, insns, count, mem, mem_len, &result, &err);
	free(insns);
	free(mem);
	if (ret)
		return cli_fail(cli, "%s: %s", path, err.msg);

	if (cli->json) {
		struct json *j = json_new(stdout);
		char hex[24];

		snprintf(hex, sizeof(hex), "0x%" PRIx64, result.r0);
		json_object_begin(j, NULL);
		json_string(j, "engine", a->eopts.name);
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

/*
 * The bytes of a packet that go on.  A socket filter saw the packet from
 * its network header on (as BPF_PROG_TEST_RUN shows it one) and kept
 * retval bytes of that: the frame keeps its Ethernet header and those.
 */
static uint32_t kept_length(uint32_t prog_type, const struct sluice_test_run *t,
			    uint32_t frame_len)
{
	if (prog_type != BPF_PROG_TYPE_SOCKET_FILTER)
		return t->data_size_out;
	if (frame_len <= ETH_HLEN || t->retval >= frame_len - ETH_HLEN)
		return frame_len;
	return ETH_HLEN + t->retval;
}

struct pcap_run {
	struct rtprog p;
	struct pcap_in *in;
	struct pcap_out *out;
	struct events *events;
	struct json *j;
	uint8_t *packet;
	struct verdict_counts counts;
	uint64_t written;
	/*
	 * Packets the runtime would not run, as BPF_PROG_TEST_RUN refuses a
	 * runt or a frame larger than a page: counted, the first one's reason
	 * kept, and the capture goes on.
	 */
	uint64_t not_run;
	struct sluice_error first_not_run;
};

/*
 * Every packet through the program; 0, or negative with the reason in err
 * when the capture is corrupt or the output cannot be written.
 */
static int run_packets(struct pcap_run *r, const struct run_args *a, struct sluice_error *err)
{
	struct pcap_frame frame;
	int more;

	while ((more = pcap_in_next(r->in, &frame, err)) == 1) {
		struct sluice_test_run t = {
			.sz = sizeof(t),
			.data_in = frame.data, .data_size_in = frame.len,
			.data_out = r->packet, .data_size_out = PACKET_ROOM,
		};
		struct verdict v;
		int ret = sluice_rt_test_run(r->p.prog, &t, &r->first_not_run);

		if (ret) {
			char where[128];

			if (r->not_run++)
				continue;
			snprintf(where, sizeof(where), "'%s': packet %llu (%u bytes)", a->pcap_in,
				 (unsigned long long)frame.number, frame.len);
			sluice_fail_prefix(&r->first_not_run, ret, where);
			continue;
		}
		verdict_of(r->p.type, t.retval, &v);
		verdict_count(&r->counts, &v);
		if (r->events)
			events_drain(r->events, frame.number);
		if (!r->out || v.action == VERDICT_DROP)
			continue;
		/* a socket filter hands back no packet: what it keeps is the input's */
		if (pcap_out_write(r->out, &frame,
				   r->p.type == BPF_PROG_TYPE_SOCKET_FILTER ? frame.data : r->packet,
				   kept_length(r->p.type, &t, frame.len), err))
			return -1;
		r->written++;
	}
	return more < 0 ? -1 : 0;
}

static void close_pcap_run(struct pcap_run *r)
{
	events_free(r->events);
	pcap_out_close(r->out, NULL);
	pcap_in_close(r->in);
	free(r->packet);
	rtprog_close(&r->p);
}

static int run_pcap(const struct cli *cli, const char *path, const struct run_args *a)
{
	struct pcap_run r = { 0 };
	struct sluice_error err = { 0 };
	int ret = rtprog_open(cli, "run", path, a->prog, &a->eopts, &r.p);

	if (ret)
		return ret;
	ret = rtprog_require_packet_type(cli, "run --pcap", &r.p);
	if (ret) {
		rtprog_close(&r.p);
		return ret;
	}
	r.counts.prog_type = r.p.type;
	r.packet = malloc(PACKET_ROOM);
	r.in = pcap_in_open(a->pcap_in, &err);
	if (r.in && a->pcap_out)
		r.out = pcap_out_open(a->pcap_out, &err);
	if (!r.packet || !r.in || (a->pcap_out && !r.out)) {
		close_pcap_run(&r);
		return cli_fail(cli, "%s", r.packet ? err.msg : "out of memory");
	}
	if (cli->json) {
		r.j = json_new(stdout);
		json_object_begin(r.j, NULL);
		json_string(r.j, "prog", a->prog);
		json_string(r.j, "engine", a->eopts.name);
		json_string(r.j, "pcap", a->pcap_in);
		if (a->events)
			json_array_begin(r.j, "events");
	}
	if (a->events && !(r.events = events_new(&r.p, r.j)))
		snprintf(err.msg, sizeof(err.msg), "out of memory");

	ret = r.events || !a->events ? run_packets(&r, a, &err) : -1;
	if (pcap_out_close(r.out, ret ? NULL : &err))
		ret = -1;
	r.out = NULL;
	if (r.j && a->events)
		json_array_end(r.j);
	if (ret) {
		/* the error belongs inside the document already begun */
		if (r.j)
			json_string(r.j, "error", err.msg);
		else
			fprintf(stderr, "sluice: %s\n", err.msg);
	} else if (r.j) {
		json_u64(r.j, "packets", r.counts.packets);
		verdict_counts_print(&r.counts, r.j);
		if (a->pcap_out)
			json_u64(r.j, "written", r.written);
		map_summaries_print(&r.p, r.j);
		if (r.not_run) {
			json_u64(r.j, "not_run", r.not_run);
			json_string(r.j, "error", r.first_not_run.msg);
		}
	} else {
		verdict_counts_print(&r.counts, NULL);
		if (a->pcap_out)
			printf("%llu packet%s written to %s\n", (unsigned long long)r.written,
			       r.written == 1 ? "" : "s", a->pcap_out);
		map_summaries_print(&r.p, NULL);
		if (r.not_run)
			fprintf(stderr, "sluice: %llu packet%s not run, the first: %s\n",
				(unsigned long long)r.not_run, r.not_run == 1 ? "" : "s",
				r.first_not_run.msg);
	}
	if (r.j) {
		json_object_end(r.j);
		json_free(r.j);
	}
	close_pcap_run(&r);
	return ret || r.not_run ? CLI_FAILED : CLI_OK;
}

int cmd_run(const struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "mem", required_argument, NULL, 'm' },
		{ "mem-file", required_argument, NULL, 'f' },
		{ "budget", required_argument, NULL, 'b' },
		{ "prog", required_argument, NULL, 'p' },
		{ "pcap", required_argument, NULL, 'i' },
		{ "pcap-out", required_argument, NULL, 'o' },
		{ "events", no_argument, NULL, 'e' },
		ENGINE_LONG_OPTIONS,
		{ 0 },
	};
	/* `run` reports the count; one run does not miss the fastest variant */
	struct run_args a = { .eopts = { .name = "interp", .count = true } };
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'm':
			a.mem_hex = optarg;
			break;
		case 'f':
			a.mem_file = optarg;
			break;
		case 'b':
			if (parse_u64_arg(optarg, &a.eopts.budget) || !a.eopts.budget)
				return cli_usage(cli, "run", "--budget takes a positive number, not '%s'", optarg);
			break;
		case 'p':
			a.prog = optarg;
			break;
		case 'i':
			a.pcap_in = optarg;
			break;
		case 'o':
			a.pcap_out = optarg;
			break;
		case 'e':
			a.events = true;
			break;
		default:
			if (!engine_option(&a.eopts, opt, optarg))
				return cli_usage(cli, "run", "bad option");
		}
	}
	if (optind + 1 != argc)
		return cli_usage(cli, "run", "expected one program file");
	if (!is_object(argv[optind]) && !a.prog && !a.pcap_in) {
		if (a.pcap_out || a.events)
			return cli_usage(cli, "run", "--pcap-out and --events go with FILE.o --pcap");
		return run_raw(cli, argv[optind], &a);
	}
	if (a.mem_hex || a.mem_file || a.eopts.budget)
		return cli_usage(cli, "run", "--mem, --mem-file and --budget run raw programs, not FILE.o");
	if (!a.prog || !a.pcap_in)
		return cli_usage(cli, "run", "an object runs with --prog NAME --pcap IN.pcap");
	return run_pcap(cli, argv[optind], &a);
}
