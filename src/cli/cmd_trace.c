/* SPDX-License-Identifier: MIT */
/*
 * `sluice trace [--duration S]`: the kernel's bpf_trace_printk lines, read
 * from tracefs' trace_pipe (mounted first when it is not), until SIGINT or
 * SIGTERM.  Programs in the user-space runtime print theirs to standard
 * error themselves; this is for the kernel backend (`attach` without
 * --userspace, `test-run --backend kernel`).  Reading trace_pipe consumes
 * the lines: another reader sees none of them.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "json.h"
#include "live.h"

#define TRACEFS "/sys/kernel/tracing"
/* Longer lines are printed in pieces; the kernel's are far shorter. */
#define LINE_MAX_BYTES 4096

static int open_trace_pipe(const struct cli *cli, int *fd)
{
	struct stat st;

	if (stat(TRACEFS "/trace_pipe", &st) && mount("tracefs", TRACEFS, "tracefs", 0, NULL))
		return cli_fail(cli, "cannot mount tracefs on %s: %s", TRACEFS, strerror(errno));
	*fd = open(TRACEFS "/trace_pipe", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (*fd < 0)
		return cli_fail(cli, "cannot open %s/trace_pipe: %s", TRACEFS, strerror(errno));
	return CLI_OK;
}

static void emit(struct json *j, const char *line, size_t len)
{
	if (j) {
		char copy[LINE_MAX_BYTES + 1];

		memcpy(copy, line, len);
		copy[len] = '\0';
		json_string(j, NULL, copy);
	} else {
		printf("%.*s\n", (int)len, line);
		fflush(stdout);
	}
}

/* Whole lines out of buf; what is left of a line stays at its start. */
static size_t emit_lines(struct json *j, char *buf, size_t len)
{
	size_t start = 0;

	for (size_t i = 0; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		emit(j, buf + start, i - start);
		start = i + 1;
	}
	if (start == 0 && len == LINE_MAX_BYTES) {
		emit(j, buf, len);
		return 0;
	}
	memmove(buf, buf + start, len - start);
	return len - start;
}

int cmd_trace(const struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "duration", required_argument, NULL, 't' },
		{ 0 },
	};
	char buf[LINE_MAX_BYTES];
	struct json *j = NULL;
	double duration = 0;
	size_t held = 0;
	struct live l;
	int opt, fd = -1, ret;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (opt != 't')
			return cli_usage(cli, "trace", "bad option");
		if (live_parse_seconds(optarg, &duration))
			return cli_usage(cli, "trace", "--duration takes positive seconds, not '%s'", optarg);
	}
	if (optind != argc)
		return cli_usage(cli, "trace", "unexpected '%s'", argv[optind]);
	ret = open_trace_pipe(cli, &fd);
	if (ret)
		return ret;
	ret = live_begin(&l, duration);
	if (ret) {
		close(fd);
		return cli_fail(cli, "cannot take over SIGINT and SIGTERM: %s", strerror(-ret));
	}
	if (cli->json) {
		j = json_new(stdout);
		json_object_begin(j, NULL);
		json_array_begin(j, "lines");
	}
	/* on stderr, so that a script knows when lines start being read */
	fprintf(stderr, "sluice: reading %s/trace_pipe; SIGINT or SIGTERM stops\n", TRACEFS);
	while ((ret = live_wait(&l, fd)) > 0) {
		ssize_t n = read(fd, buf + held, sizeof(buf) - held);

		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			ret = -errno;
			break;
		}
		if (n > 0)
			held = emit_lines(j, buf, held + (size_t)n);
	}
	live_end(&l);
	close(fd);
	if (j) {
		json_array_end(j);
		if (ret)
			json_string(j, "error", strerror(-ret));
		json_object_end(j);
		json_free(j);
	} else if (ret) {
		fprintf(stderr, "sluice: %s/trace_pipe: %s\n", TRACEFS, strerror(-ret));
	}
	return ret ? CLI_FAILED : CLI_OK;
}
