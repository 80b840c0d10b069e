/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_CLI_H
#define SLUICE_CLI_H

#include <stdbool.h>

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

#endif
