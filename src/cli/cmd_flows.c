/* SPDX-License-Identifier: MIT */
/*
 * `sluice flows`: the agent's flow records, like `hubble observe`: one line
 * a flow (colours on a terminal) or one JSON object a line.  The agent
 * filters (k8s_flow_filter) and sends binary records of this build's
 * struct k8s_flow; with --follow it streams new ones until we hang up.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../datapath/lb.h"
#include "cli.h"
#include "json.h"
#include "k8s/flow.h"
#include "k8s/wire.h"

#define USAGE_NAME "flows"

/* "30s", "5m", "1h30m", "250ms": a duration in ns; -1 when malformed. */
static int64_t parse_duration(const char *s)
{
	int64_t total = 0;

	if (!*s)
		return -1;
	while (*s) {
		char *end;
		double v = strtod(s, &end);
		int64_t unit;

		if (end == s || v < 0)
			return -1;
		if (!strncmp(end, "ms", 2))
			unit = 1000000, end += 2;
		else if (*end == 's')
			unit = 1000000000, end++;
		else if (*end == 'm')
			unit = 60 * 1000000000ll, end++;
		else if (*end == 'h')
			unit = 3600 * 1000000000ll, end++;
		else
			return -1;
		if (v * (double)unit > 9e18 - (double)total)
			return -1;
		total += (int64_t)(v * (double)unit);
		s = end;
	}
	return total;
}

/* "2026-11-25T18:30:00Z", with fractional seconds and a "+01:00" offset allowed. */
static int parse_rfc3339(const char *s, uint64_t *ns)
{
	struct tm tm = { 0 };
	const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	double frac = 0;
	long offset = 0;
	time_t t;

	if (!p)
		return -1;
	if (*p == '.') {
		char *end;

		frac = strtod(p, &end);
		p = end;
	}
	if (*p == '+' || *p == '-') {
		int h, m;

		if (sscanf(p + 1, "%2d:%2d", &h, &m) != 2 || strlen(p) != 6)
			return -1;
		offset = (*p == '-' ? -1 : 1) * (h * 3600L + m * 60L);
	} else if (strcmp(p, "Z")) {
		return -1;
	}
	t = timegm(&tm) - offset;
	if (t < 0)
		return -1;
	*ns = (uint64_t)t * 1000000000u + (uint64_t)(frac * 1e9);
	return 0;
}

static uint64_t now_real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static const char *proto_name(uint8_t proto, char *buf, size_t size)
{
	const char *name = k8s_proto_name(proto);

	if (strcmp(name, "?"))
		return name;
	snprintf(buf, size, "proto-%u", proto);
	return buf;
}

/* "SYN,ACK": the TCP flags the datapath reads. */
static const char *tcp_flags(uint8_t flags, char *buf, size_t size)
{
	static const struct {
		uint8_t bit;
		const char *name;
	} names[] = { { LB_TCP_SYN, "SYN" }, { LB_TCP_FIN, "FIN" }, { LB_TCP_RST, "RST" },
		      { LB_TCP_ACK, "ACK" } };
	size_t n = 0;

	buf[0] = 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (flags & names[i].bit)
			n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "%s%s",
					      n ? "," : "", names[i].name);
	return buf;
}

/* "shop/web-1:8080", or the address ("[fd00::1]:80") of what is no pod. */
static const char *peer_name(const struct k8s_flow_peer *p, char *buf, size_t size)
{
	if (*p->pod)
		snprintf(buf, size, "%s/%s:%u", p->ns, p->pod, p->port);
	else if (strchr(p->addr, ':'))
		snprintf(buf, size, "[%s]:%u", p->addr, p->port);
	else
		snprintf(buf, size, "%s:%u", p->addr, p->port);
	return buf;
}

static void time_text(uint64_t ns, bool rfc3339, char *buf, size_t size)
{
	time_t t = (time_t)(ns / 1000000000u);
	struct tm tm;
	size_t n;

	if (rfc3339) {
		gmtime_r(&t, &tm);
		n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(buf + n, size - n, ".%09" PRIu64 "Z", ns % 1000000000u);
	} else {
		localtime_r(&t, &tm);
		n = strftime(buf, size, "%b %e %H:%M:%S", &tm);
		snprintf(buf + n, size - n, ".%03" PRIu64, ns % 1000000000u / 1000000u);
	}
}

static bool is_http(const struct k8s_flow *f)
{
	return f->type == K8S_FLOW_HTTP_REQUEST || f->type == K8S_FLOW_HTTP_RESPONSE;
}

static void print_json(const struct k8s_flow *f)
{
	const struct k8s_flow_peer *peers[2] = { &f->src, &f->dst };
	static const char *const keys[2] = { "source", "destination" };
	struct json *j = json_new(stdout);
	char buf[64];

	json_object_begin(j, NULL);
	time_text(f->time_ns, true, buf, sizeof(buf));
	json_string(j, "time", buf);
	json_u64(j, "time_ns", f->time_ns);
	json_string(j, "type", k8s_flow_type_name(f->type));
	json_string(j, "verdict", k8s_flow_verdict_name(f->verdict));
	json_string(j, "drop_reason", k8s_drop_reason_name(f->drop_reason));
	json_u64(j, "ip_version", f->family == AF_INET6 ? 6 : 4);
	json_string(j, "protocol", proto_name(f->proto, buf, sizeof(buf)));
	json_string(j, "tcp_flags", tcp_flags(f->tcp_flags, buf, sizeof(buf)));
	json_bool(j, "egress", f->egress);
	for (int i = 0; i < 2; i++) {
		json_object_begin(j, keys[i]);
		json_string(j, "namespace", peers[i]->ns);
		json_string(j, "pod", peers[i]->pod);
		json_u64(j, "identity", peers[i]->identity);
		json_string(j, "address", peers[i]->addr);
		json_u64(j, "port", peers[i]->port);
		json_object_end(j);
	}
	json_string(j, "service", f->service);
	json_u64(j, "packets", f->packets);
	json_u64(j, "bytes", f->bytes);
	if (is_http(f)) {
		json_object_begin(j, "http");
		json_string(j, "method", f->http.method);
		json_string(j, "path", f->http.path);
		json_u64(j, "status", f->http.status);
		json_u64(j, "latency_ns", f->http.latency_ns);
		json_object_end(j);
	}
	json_object_end(j);
	json_free(j);
}

struct colours {
	const char *on_ok, *on_drop, *dim, *off;
};

static void print_text(const struct k8s_flow *f, const struct colours *c)
{
	char when[48], src[2 * K8S_NAME_MAX + 16], dst[2 * K8S_NAME_MAX + 16], proto[16], flags[32];
	bool dropped = f->verdict == K8S_FLOW_DROPPED;

	time_text(f->time_ns, false, when, sizeof(when));
	printf("%s%s%s: %s (ID:%u) -> %s (ID:%u)", c->dim, when, c->off,
	       peer_name(&f->src, src, sizeof(src)), f->src.identity,
	       peer_name(&f->dst, dst, sizeof(dst)), f->dst.identity);
	if (*f->service)
		printf(" svc %s", f->service);
	printf(" %s", proto_name(f->proto, proto, sizeof(proto)));
	if (*tcp_flags(f->tcp_flags, flags, sizeof(flags)))
		printf(" %s", flags);
	printf(" %s %s%s%s", k8s_flow_type_name(f->type), dropped ? c->on_drop : c->on_ok,
	       dropped ? "DROPPED" : "FORWARDED", c->off);
	if (dropped)
		printf(" (%s)", k8s_drop_reason_name(f->drop_reason));
	if (f->packets)
		printf(" %" PRIu64 " pkts %" PRIu64 " B", f->packets, f->bytes);
	if (is_http(f) && *f->http.method)
		printf(" %s %s", f->http.method, f->http.path);
	if (f->type == K8S_FLOW_HTTP_RESPONSE) {
		printf(" %s%u%s", f->http.status >= 400 ? c->on_drop : c->on_ok, f->http.status,
		       c->off);
		if (f->http.latency_ns)
			printf(" (%.3f ms)", (double)f->http.latency_ns / 1e6);
	}
	printf("\n");
}

/* A line of the reply's head, read a byte at a time: the records follow it unbuffered. */
static int read_line(int fd, char *buf, size_t size)
{
	size_t n = 0;

	while (n + 1 < size) {
		ssize_t r = read(fd, buf + n, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = 0;
	return 0;
}

static int read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t r = read(fd, (char *)buf + got, len - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return got ? -1 : 0;
		got += (size_t)r;
	}
	return 1;
}

/* The reply: "error\n" and why, or "ok\n", "flows SIZE\n" and records until the agent stops. */
static int show(const struct cli *cli, int fd, bool follow)
{
	static const struct colours plain = { "", "", "", "" },
				    ansi = { "\033[32m", "\033[31m", "\033[2m", "\033[0m" };
	const struct colours *c = !cli->json && isatty(STDOUT_FILENO) ? &ansi : &plain;
	struct k8s_flow f;
	char line[256];
	size_t size = 0;
	int r;

	if (read_line(fd, line, sizeof(line)))
		return cli_fail(cli, "the agent's reply is malformed");
	if (!strcmp(line, "error")) {
		ssize_t n = read(fd, line, sizeof(line) - 1);

		line[n > 0 ? n : 0] = 0;
		return cli_fail(cli, "%s", line);
	}
	if (strcmp(line, "ok") || read_line(fd, line, sizeof(line)) ||
	    sscanf(line, "flows %zu", &size) != 1)
		return cli_fail(cli, "the agent's reply is malformed");
	if (size != sizeof(f))
		return cli_fail(cli, "the agent is another build (records of %zu bytes, not %zu)",
				size, sizeof(f));
	while ((r = read_full(fd, &f, sizeof(f))) > 0) {
		if (cli->json)
			print_json(&f);
		else
			print_text(&f, c);
		if (follow)
			fflush(stdout);
	}
	return r < 0 ? cli_fail(cli, "the agent's reply ends inside a record") : CLI_OK;
}

/* One option into the filter (or the socket); CLI_OK, or the usage error's code. */
static int flows_option(const struct cli *cli, int opt, const char *arg,
			struct k8s_flow_filter *flt, const char **socket_path)
{
	const char *slash = strchr(arg, '/');
	uint64_t now = now_real_ns();
	int64_t ago;
	char *end;

	switch (opt) {
	case 's':
		*socket_path = arg;
		return CLI_OK;
	case 'f':
		flt->follow = 1;
		return CLI_OK;
	case 'p':
		if (!*arg || (slash && (slash == arg || !slash[1])) ||
		    strlen(arg) >= sizeof(flt->pod))
			return cli_usage(cli, USAGE_NAME, "--pod: expected [NAMESPACE/]POD, "
					 "got '%s'", arg);
		if (slash)
			snprintf(flt->ns, sizeof(flt->ns), "%.*s", (int)(slash - arg), arg);
		snprintf(flt->pod, sizeof(flt->pod), "%s", slash ? slash + 1 : arg);
		return CLI_OK;
	case 'v':
		if (strcmp(arg, "forwarded") && strcmp(arg, "dropped"))
			return cli_usage(cli, USAGE_NAME, "--verdict: expected forwarded or "
					 "dropped, got '%s'", arg);
		flt->verdict = strcmp(arg, "dropped") ? K8S_FLOW_FORWARDED : K8S_FLOW_DROPPED;
		return CLI_OK;
	case 'S':
		ago = parse_duration(arg);
		if (ago >= 0)
			flt->since_ns = now > (uint64_t)ago ? now - (uint64_t)ago : 0;
		else if (parse_rfc3339(arg, &flt->since_ns))
			return cli_usage(cli, USAGE_NAME, "--since: expected a duration (30s, 5m, "
					 "1h) or an RFC 3339 time (2026-11-25T18:30:00Z), got '%s'",
					 arg);
		return CLI_OK;
	case 'n':
		errno = 0;
		flt->last = strtoull(arg, &end, 10);
		if (errno || *end || !*arg || *arg == '-' || !flt->last)
			return cli_usage(cli, USAGE_NAME, "--last: expected a positive number, "
					 "got '%s'", arg);
		return CLI_OK;
	}
	return CLI_USAGE;
}

int cmd_flows(const struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "follow", no_argument, NULL, 'f' },
		{ "pod", required_argument, NULL, 'p' },
		{ "verdict", required_argument, NULL, 'v' },
		{ "since", required_argument, NULL, 'S' },
		{ "last", required_argument, NULL, 'n' },
		{ 0 },
	};
	const char *socket_path = K8S_DEFAULT_SOCKET;
	struct k8s_flow_filter flt;
	struct sluice_error err = { 0 };
	struct k8s_request req = { .verb = "flows" };
	struct k8s_file file = { .name = "filter" };
	char text[3 * K8S_NAME_MAX];
	int opt, fd, ret;

	k8s_flow_filter_init(&flt);
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":f", options, NULL)) != -1) {
		if (opt == ':')
			return cli_usage(cli, USAGE_NAME, "%s needs a value", argv[optind - 1]);
		if (opt == '?')
			return cli_usage(cli, USAGE_NAME, "unknown option '%s'", argv[optind - 1]);
		if ((ret = flows_option(cli, opt, optarg ? optarg : "", &flt, &socket_path)))
			return ret;
	}
	if (optind < argc)
		return cli_usage(cli, USAGE_NAME, "unexpected argument '%s'", argv[optind]);
	ret = k8s_flow_filter_format(&flt, text, sizeof(text));
	if (ret < 0)
		return cli_fail(cli, "the filter is too long");
	file.data = text;
	file.len = (size_t)ret;
	req.files = &file;
	req.n_files = 1;
	if (k8s_send(socket_path, &req, &fd, &err))
		return cli_fail(cli, "%s", err.msg);
	ret = show(cli, fd, flt.follow);
	close(fd);
	return ret;
}
