/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_CLI_H
#define SLUICE_CLI_H

#include <stdbool.h>

#include <sluice/disasm.h>

/* Exit codes scripts can rely on. */
enum { CLI_OK = 0, CLI_FAILED = 1, CLI_USAGE = 2 };

struct cli {
	bool json; /* --json / -j anywhere on the command line */
};

/* Report a failure (stderr, or {"error": ...} on stdout with --json); returns CLI_FAILED. */
int cli_fail(const struct cli *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Report misuse of a command, with its usage line; returns CLI_USAGE. */
int cli_usage(const struct cli *cli, const char *command, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The commands, each parsing its own arguments (argv[0] is the command name). */
int cmd_asm(const struct cli *cli, int argc, char **argv);
int cmd_disasm(const struct cli *cli, int argc, char **argv);
int cmd_run(const struct cli *cli, int argc, char **argv);
int cmd_conformance(const struct cli *cli, int argc, char **argv);
int cmd_obj(const struct cli *cli, int argc, char **argv);
int cmd_load(const struct cli *cli, int argc, char **argv);
int cmd_test_run(const struct cli *cli, int argc, char **argv);
int cmd_attach(const struct cli *cli, int argc, char **argv);
int cmd_trace(const struct cli *cli, int argc, char **argv);
int cmd_k8s(const struct cli *cli, int argc, char **argv);
int cmd_map(const struct cli *cli, int argc, char **argv);
int cmd_verify(const struct cli *cli, int argc, char **argv);
int cmd_security(const struct cli *cli, int argc, char **argv);
int cmd_exec(const struct cli *cli, int argc, char **argv);
int cmd_events(const struct cli *cli, int argc, char **argv);
int cmd_flows(const struct cli *cli, int argc, char **argv);

/*
 * What load and test-run share (cmd_load.c): the options --backend NAME and
 * --prog NAME (KERNEL_OPTIONS in a getopt_long table, each option handed to
 * kernel_arg first, which says whether it was one of them), then FILE opened
 * with the kernel backend once the kernel is known to allow bpf(), and the
 * index of the program --prog names (-1 without one).  kernel_open reports
 * its own failures and returns CLI_OK or the exit code.
 */
#define KERNEL_OPTIONS \
	{ "backend", required_argument, NULL, 'b' }, { "prog", required_argument, NULL, 'p' }
struct kernel_args {
	const char *backend; /* "kernel" unless --backend says otherwise */
	const char *prog;    /* NULL without --prog */
};
struct sluice_kernel_object;
bool kernel_arg(int opt, const char *value, struct kernel_args *args);
int kernel_open(const struct cli *cli, const char *command, const struct kernel_args *args,
		const char *path, struct sluice_kernel_object **obj, int *index);

/* Which BTF an object's CO-RE relocations resolve against (`--btf FILE`, `--no-core`). */
struct obj_open_args {
	const char *btf;
	bool no_core;
};

/* Opens one disassembled instruction's JSON object: pc, opcode, text; the caller closes it. */
struct json;
void json_insn_begin(struct json *j, size_t pc, const struct sluice_insn *insn, const char *text);

/* `sluice disasm FILE.o` (in cmd_obj.c): the object's programs, linked; prog NULL for all. */
int disasm_object(const struct cli *cli, const char *path, const struct obj_open_args *open,
		  const char *prog, bool source, enum sluice_disasm_style style);

#endif
