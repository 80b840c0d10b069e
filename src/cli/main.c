/* SPDX-License-Identifier: MIT */
/*
 * sluice: one command-line tool in the spirit of bpftool.  Each subcommand
 * lives in its own cmd_*.c; this file finds it, and holds what they share:
 * --json anywhere on the line, and the exit codes (0 ok, 1 failed, 2 usage).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "json.h"

/* cmd_profile.c */
int cmd_profile(const struct cli *cli, int argc, char **argv);

static const struct command {
	const char *name;
	int (*fn)(const struct cli *cli, int argc, char **argv);
	const char *usage;
	const char *summary;
} commands[] = {
	{ "asm", cmd_asm, "asm FILE.s -o FILE.bin",
	  "assemble a program into bytecode" },
	{ "disasm", cmd_disasm,
	  "disasm FILE(.bin|.s) [--style=asm|llvm] [--jited] | disasm FILE.o [--prog NAME] [--source] "
	  "[--style=asm|llvm] [--btf FILE | --no-core]",
	  "print instructions; of FILE.o, each program as linked, maps by name "
	  "(lddw %r1, map[events])" },
	{ "run", cmd_run,
	  "run FILE(.s|.bin) [--mem HEX | --mem-file F] [--engine interp|jit] [--checked] [--budget N] "
	  "| run FILE.o --prog NAME --pcap IN.pcap [--pcap-out OUT.pcap] [--engine interp|jit] "
	  "[--checked] [--events]",
	  "run a program on input memory and print r0; or an object's program on every packet "
	  "of a capture, in user space: verdict counts, passed packets, maps" },
	{ "conformance", cmd_conformance,
	  "conformance DIR|FILE.data... [--engine interp|jit] [--checked] [--verbose]",
	  "run bpf_conformance .data tests" },
	{ "obj", cmd_obj, "obj show FILE.o [--btf FILE | --no-core]",
	  "list a BPF object's programs, maps, global data, license and BTF" },
	{ "verify", cmd_verify,
	  "verify FILE(.o|.s|.bin) [--prog NAME] [--type TYPE] [--unprivileged] "
	  "[-v | --log-level 0|1|2]",
	  "check programs with Sluice's verifier, under the kernel's rules: accepted with its "
	  "statistics, or why not; raw programs are socket filters unless --type (xdp, tc, ...)" },
	{ "load", cmd_load, "load FILE.o [--backend=kernel] [--prog NAME]",
	  "load an object's programs into the kernel: verdict and verifier log" },
	{ "test-run", cmd_test_run,
	  "test-run FILE.o --prog NAME [--engine interp|jit [--checked] | --backend kernel] "
	  "--data-in F [--data-out F] [--ctx-in F] [--ctx-out F] [--repeat N]",
	  "run a program on a packet as BPF_PROG_TEST_RUN does: in user space (the default, "
	  "no privileges needed) or in the kernel" },
	{ "attach", cmd_attach,
	  "attach FILE.o --prog NAME --dev IFACE --userspace [--engine interp|jit] [--checked] "
	  "[--redirect-dev IFACE]... [--events] [--count N] [--duration S] | attach FILE.o "
	  "--prog NAME --dev IFACE [--hook xdp|tc-ingress|tc-egress] [--duration S]",
	  "run a program on an interface's packets until SIGINT: in user space on an AF_PACKET "
	  "copy of what arrives (--userspace), or attached in the kernel" },
	{ "trace", cmd_trace, "trace [--duration S]",
	  "print the kernel's bpf_trace_printk lines (tracefs trace_pipe) until SIGINT" },
	{ "map", cmd_map,
	  "map list | dump MAP | lookup MAP [key BYTES] | update MAP [key BYTES] value BYTES "
	  "[any|noexist|exist] | delete MAP key BYTES | create NAME type TYPE key N value N "
	  "entries N [flags N] [inner MAP] | remove MAP   (MAP: id N | name NAME | NAME; "
	  "BYTES: hex 0a 0b .. | 10 0x0b ..)",
	  "the maps of running Sluice programs, and pinned ones, as bpftool map" },
	{ "security", cmd_security,
	  "security run -f RULES.yaml [--cgroup PATH] [--socket PATH] [--duration S] | security "
	  "check -f RULES.yaml",
	  "runtime security in the kernel: exec, file and connect rules detected by tracepoints "
	  "and cgroup hooks, acted on (log, deny, kill), one event per line until SIGINT" },
	{ "events", cmd_events, "events [--socket PATH] [--duration S]",
	  "the events of a running `sluice security run`, as it prints them (default socket "
	  "/run/sluice/security.sock)" },
	{ "exec", cmd_exec, "exec --policy P.yaml [--engine interp|jit] -- CMD [ARGS...]",
	  "run CMD under a seccomp user-notification filter, its execs, opens and connects "
	  "decided by the policy's eBPF matcher in the user-space runtime" },
	{ "profile", cmd_profile,
	  "profile --pid P|--all [--duration S] [--frequency HZ] -o FLAME.svg [--folded FILE] "
	  "[--runtime FILE.o --prog NAME --pcap IN.pcap] | profile --runtime FILE.o --prog NAME "
	  "--pcap IN.pcap [--duration S] [--frequency HZ] -o FLAME.svg [--folded FILE]",
	  "sample stacks (perf_event + BPF) into a flame graph SVG; where the kernel refuses, "
	  "sample a BPF program in Sluice's user-space runtime" },
	{ "flows", cmd_flows,
	  "flows [--socket S] [--follow] [--pod [NS/]POD] [--verdict forwarded|dropped] "
	  "[--since DURATION|RFC3339] [--last N]",
	  "the Kubernetes datapath's flows, like hubble observe: connections, drops, HTTP "
	  "(from `sluice k8s agent`)" },
	{ "k8s", cmd_k8s,
	  "k8s agent|apply|delete|status|topology|echo|probe ... (sluice k8s help)",
	  "Kubernetes service load balancing in eBPF: agent, manifests, status, topology" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void print_error(const struct cli *cli, const char *fmt, va_list ap)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (cli->json) {
		struct json *j = json_new(stdout);

		json_object_begin(j, NULL);
		json_string(j, "error", msg);
		json_object_end(j);
		json_free(j);
	} else {
		fprintf(stderr, "sluice: %s\n", msg);
	}
}

int cli_fail(const struct cli *cli, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	print_error(cli, fmt, ap);
	va_end(ap);
	return CLI_FAILED;
}

int cli_usage(const struct cli *cli, const char *command, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	print_error(cli, fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, command))
			fprintf(stderr, "usage: sluice %s\n", commands[i].usage);
	return CLI_USAGE;
}

static void print_help(FILE *out)
{
	fprintf(out, "usage: sluice [--json] COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-12s %s\n      sluice %s\n", commands[i].name,
			commands[i].summary, commands[i].usage);
	fprintf(out, "\n--json (or -j) prints structured output on any command.\n"
		     "Exit status: 0 success, 1 failure, 2 wrong usage.\n");
}

int main(int argc, char **argv)
{
	struct cli cli = { 0 };
	int kept = 0;

	/* --json is global: strip it wherever it stands. */
	for (int i = 0; i < argc; i++) {
		if (i > 0 && (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j")))
			cli.json = true;
		else
			argv[kept++] = argv[i];
	}
	argc = kept;
	argv[argc] = NULL;

	if (argc < 2) {
		print_help(stderr);
		return CLI_USAGE;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "-h")) {
		print_help(stdout);
		return CLI_OK;
	}
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(&cli, argc - 1, argv + 1);
	print_help(stderr);
	cli_fail(&cli, "unknown command '%s'", argv[1]);
	return CLI_USAGE;
}
