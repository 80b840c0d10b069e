/* SPDX-License-Identifier: MIT */
/*
 * `sluice k8s ...`: Kubernetes service load balancing in eBPF.
 *   agent      load the datapath, hold its maps, serve the commands below
 *   apply/delete -f DIR|FILE   change the services the agent balances
 *   status     frontends, backends, Maglev slots, conntrack, counters
 *   gc         conntrack's garbage collection, now
 *   policy     NetworkPolicy: identities, each pod's effective rules, drops
 *   why        which policy allows a connection, or which denies it by default
 *   topology up|down   pods as network namespaces on one node namespace
 *   echo       the backend pods' server (started by topology up)
 *   probe      a client: new flows to an address, which backend answered
 *   reach      every pod to every pod at once: the NetworkPolicy truth table
 *   serve-metrics   the agent's RED metrics over HTTP, in Prometheus' format
 *   map        the agent's service map, drawn by Graphviz
 * The pieces live in src/k8s/; this file parses arguments and prints.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "cli.h"
#include "files.h"
#include "json.h"
#include "live.h"
#include "k8s/agent.h"
#include "k8s/echo.h"
#include "k8s/reach.h"
#include "k8s/topology.h"
#include "k8s/wire.h"

#define MAX_MANIFEST_PATHS 16

static const struct k8s_sub {
	const char *name;
	int (*fn)(const struct cli *cli, int argc, char **argv);
	const char *usage;
} *find_sub(const char *name);

/* This binary: the topology starts each pod's echo server with it. */
static int exe_path(char *buf, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", buf, size - 1);

	if (n <= 0)
		return -1;
	buf[n] = 0;
	return 0;
}

static int usage(const struct cli *cli, const char *sub, const char *why)
{
	const struct k8s_sub *s = find_sub(sub);

	cli_fail(cli, "k8s %s: %s", sub, why);
	if (s)
		fprintf(stderr, "usage: sluice k8s %s\n", s->usage);
	return CLI_USAGE;
}

static int parse_port(const char *s, uint16_t *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s < '0' || *s > '9' || *end || v == 0 || v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

static int parse_seconds(const char *s, unsigned min, unsigned *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s < '0' || *s > '9' || *end || v < min || v > 86400)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* NAME=SECONDS, NAME one of struct k8s_ct_timeouts' fields with '-' for '_'. */
static int parse_ct_timeout(const char *arg, struct k8s_ct_timeouts *t)
{
	static const struct {
		const char *name;
		size_t offset;
	} fields[] = {
		{ "tcp-syn", offsetof(struct k8s_ct_timeouts, tcp_syn) },
		{ "tcp-established", offsetof(struct k8s_ct_timeouts, tcp_established) },
		{ "tcp-closing", offsetof(struct k8s_ct_timeouts, tcp_closing) },
		{ "udp", offsetof(struct k8s_ct_timeouts, udp) },
	};
	const char *eq = strchr(arg, '=');
	unsigned seconds;

	if (!eq || parse_seconds(eq + 1, 1, &seconds))
		return -1;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (strlen(fields[i].name) == (size_t)(eq - arg) &&
		    !strncmp(arg, fields[i].name, (size_t)(eq - arg))) {
			*(uint32_t *)((char *)t + fields[i].offset) = seconds;
			return 0;
		}
	}
	return -1;
}

static int cmd_agent(const struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "object", required_argument, NULL, 'o' },
		{ "netns", required_argument, NULL, 'n' },
		{ "node", required_argument, NULL, 'N' },
		{ "node-ip", required_argument, NULL, 'i' },
		{ "daemon", no_argument, NULL, 'd' },
		{ "pidfile", required_argument, NULL, 'p' },
		{ "table-entries", required_argument, NULL, 't' },
		{ "ext-if", required_argument, NULL, 'x' },
		{ "ct-timeout", required_argument, NULL, 'c' },
		{ "ct-gc-interval", required_argument, NULL, 'g' },
		{ 0 },
	};
	struct k8s_agent_opts o = { .node = { .name = K8S_NODE_NAME }, .ct = K8S_CT_TIMEOUTS_DEFAULT,
				    .ct_gc_interval = K8S_CT_GC_INTERVAL_DEFAULT };
	char object[PATH_MAX];
	const char *pidfile = NULL;
	struct sluice_error err = { 0 };
	struct k8s_agent *a;
	bool daemon = false, ips_given = false;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 's':
			o.socket_path = optarg;
			break;
		case 'o':
			o.object_path = optarg;
			break;
		case 'n':
			o.netns = optarg;
			break;
		case 'N':
			snprintf(o.node.name, sizeof(o.node.name), "%s", optarg);
			break;
		case 'i':
			if (!ips_given)
				o.node.n_ips = 0;
			ips_given = true;
			if (o.node.n_ips == K8S_MAX_IPS ||
			    k8s_ip_parse(optarg, &o.node.ips[o.node.n_ips]))
				return usage(cli, "agent", "--node-ip: one IPv4 and one IPv6 address");
			o.node.n_ips++;
			break;
		case 'd':
			daemon = true;
			break;
		case 'p':
			pidfile = optarg;
			break;
		case 'x':
			o.ext_ifname = strcmp(optarg, "none") ? optarg : "";
			break;
		case 'c':
			if (parse_ct_timeout(optarg, &o.ct))
				return usage(cli, "agent", "--ct-timeout: tcp-syn, tcp-established, "
					     "tcp-closing or udp =SECONDS (1 to 86400)");
			break;
		case 'g':
			if (parse_seconds(optarg, 0, &o.ct_gc_interval))
				return usage(cli, "agent", "--ct-gc-interval: 0 (on request only) to "
					     "86400 seconds");
			break;
		case 't':
			o.table_entries = (uint32_t)strtoul(optarg, NULL, 10);
			if (o.table_entries < 1021 || o.table_entries > (1u << 28))
				return usage(cli, "agent", "--table-entries: 1021 to 268435456");
			break;
		default:
			return usage(cli, "agent", "bad option");
		}
	}
	if (optind != argc)
		return usage(cli, "agent", "unexpected argument");
	if (!ips_given) {
		k8s_ip_parse(K8S_NODE_IP4, &o.node.ips[0]);
		k8s_ip_parse(K8S_NODE_IP6, &o.node.ips[1]);
		o.node.n_ips = 2;
	}
	if (!o.object_path) {
		if (built_path("datapath/lb.o", object, sizeof(object)))
			return cli_fail(cli, "cannot find this binary's directory: give --object");
		o.object_path = object;
	}
	if (k8s_agent_open(&o, &a, &err))
		return cli_fail(cli, "agent: %s", err.msg);
	if (daemon) {
		pid_t pid = fork();
		int null;

		if (pid < 0)
			return cli_fail(cli, "agent: fork: %s", strerror(errno));
		if (pid > 0) {
			FILE *f = pidfile ? fopen(pidfile, "w") : NULL;

			if (f) {
				fprintf(f, "%d\n", (int)pid);
				fclose(f);
			}
			printf("agent %d listening on %s\n", (int)pid,
			       o.socket_path ? o.socket_path : K8S_DEFAULT_SOCKET);
			/* the child owns the socket and the maps now: leave them be */
			_exit(CLI_OK);
		}
		setsid();
		null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
		}
	}
	if (k8s_agent_serve(a, &err)) {
		k8s_agent_close(a);
		return cli_fail(cli, "agent: %s", err.msg);
	}
	k8s_agent_close(a);
	return CLI_OK;
}

/* Send one request to the agent and show its reply. */
static int call_agent(const struct cli *cli, const char *socket_path, struct k8s_request *req)
{
	struct sluice_error err = { 0 };
	char *reply = NULL;
	bool ok = false;

	if (k8s_call(socket_path ? socket_path : K8S_DEFAULT_SOCKET, req, &ok, &reply, &err))
		return cli_fail(cli, "%s", err.msg);
	if (!ok) {
		cli_fail(cli, "%s", reply);
		free(reply);
		return CLI_FAILED;
	}
	/* status and policy answer in JSON themselves */
	if (cli->json && strcmp(req->verb, "status") && strcmp(req->verb, "policy")) {
		struct json *j = json_new(stdout);

		reply[strcspn(reply, "\n")] = 0;
		json_object_begin(j, NULL);
		json_string(j, "result", reply);
		json_object_end(j);
		json_free(j);
	} else {
		fputs(reply, stdout);
	}
	free(reply);
	return CLI_OK;
}

/* -f PATH (repeatable) and --socket, for apply, delete and topology. */
struct manifest_args {
	const char *paths[MAX_MANIFEST_PATHS];
	size_t n;
	const char *socket_path;
	const char *prefix;
	bool replace;
};

static int parse_manifest_args(const struct cli *cli, const char *sub, int argc, char **argv,
			       struct manifest_args *m)
{
	static const struct option options[] = {
		{ "filename", required_argument, NULL, 'f' },
		{ "socket", required_argument, NULL, 's' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "replace", no_argument, NULL, 'r' },
		{ 0 },
	};
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "f:", options, NULL)) != -1) {
		switch (opt) {
		case 'f':
			if (m->n == MAX_MANIFEST_PATHS)
				return usage(cli, sub, "too many -f");
			m->paths[m->n++] = optarg;
			break;
		case 's':
			m->socket_path = optarg;
			break;
		case 'p':
			m->prefix = optarg;
			break;
		case 'r':
			m->replace = true;
			break;
		default:
			return usage(cli, sub, "bad option");
		}
	}
	if (optind != argc)
		return usage(cli, sub, "unexpected argument");
	return CLI_OK;
}

/* Every file of every -f, in order. */
static int read_manifests(const struct cli *cli, const struct manifest_args *m,
			  struct k8s_request *req)
{
	struct sluice_error err = { 0 };

	for (size_t i = 0; i < m->n; i++) {
		struct k8s_file *files, *all;
		size_t n;

		if (k8s_files_read(m->paths[i], &files, &n, &err)) {
			k8s_request_free(req);
			return cli_fail(cli, "%s", err.msg);
		}
		all = realloc(req->files, (req->n_files + n) * sizeof(*all));
		if (!all) {
			k8s_files_free(files, n);
			k8s_request_free(req);
			return cli_fail(cli, "out of memory");
		}
		memcpy(all + req->n_files, files, n * sizeof(*files));
		free(files);
		req->files = all;
		req->n_files += n;
	}
	return CLI_OK;
}

static int cmd_apply_or_delete(const struct cli *cli, const char *verb, int argc, char **argv)
{
	struct manifest_args m = { 0 };
	struct k8s_request req = { 0 };
	int ret = parse_manifest_args(cli, verb, argc, argv, &m);

	if (ret)
		return ret;
	if (!m.n)
		return usage(cli, verb, "expected -f DIR|FILE");
	if (m.replace && strcmp(verb, "apply"))
		return usage(cli, verb, "--replace is for apply");
	snprintf(req.verb, sizeof(req.verb), "%s", m.replace ? "replace" : verb);
	if ((ret = read_manifests(cli, &m, &req)))
		return ret;
	ret = call_agent(cli, m.socket_path, &req);
	k8s_request_free(&req);
	return ret;
}

static int cmd_apply(const struct cli *cli, int argc, char **argv)
{
	return cmd_apply_or_delete(cli, "apply", argc, argv);
}

static int cmd_delete(const struct cli *cli, int argc, char **argv)
{
	return cmd_apply_or_delete(cli, "delete", argc, argv);
}

static int cmd_status(const struct cli *cli, int argc, char **argv)
{
	struct manifest_args m = { 0 };
	struct k8s_request req = { .verb = "status" };
	int ret = parse_manifest_args(cli, "status", argc, argv, &m);

	if (ret)
		return ret;
	if (m.n)
		return usage(cli, "status", "takes no -f");
	snprintf(req.arg, sizeof(req.arg), "%s", cli->json ? "json" : "text");
	return call_agent(cli, m.socket_path, &req);
}

static int cmd_policy(const struct cli *cli, int argc, char **argv)
{
	struct manifest_args m = { 0 };
	struct k8s_request req = { .verb = "policy" };
	int ret = parse_manifest_args(cli, "policy", argc, argv, &m);

	if (ret)
		return ret;
	if (m.n)
		return usage(cli, "policy", "takes no -f");
	snprintf(req.arg, sizeof(req.arg), "%s", cli->json ? "json" : "text");
	return call_agent(cli, m.socket_path, &req);
}

/* The agent judges SRC -> DST:PORT as its datapath would a new connection. */
static int cmd_why(const struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "proto", required_argument, NULL, 'P' },
		{ 0 },
	};
	struct k8s_request req = { .verb = "why" };
	const char *socket_path = NULL, *proto = "tcp";
	int opt, n;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (opt == 's')
			socket_path = optarg;
		else if (opt == 'P' && (!strcmp(optarg, "tcp") || !strcmp(optarg, "udp") ||
					!strcmp(optarg, "sctp") || !strcmp(optarg, "icmp")))
			proto = optarg;
		else
			return usage(cli, "why", "bad option (--proto: tcp, udp, sctp or icmp)");
	}
	if (argc - optind != 3)
		return usage(cli, "why", "expected SRC DST PORT");
	n = snprintf(req.arg, sizeof(req.arg), "%s,%s,%s,%s", argv[optind], argv[optind + 1],
		     argv[optind + 2], proto);
	if (n < 0 || (size_t)n >= sizeof(req.arg))
		return usage(cli, "why", "addresses too long");
	return call_agent(cli, socket_path, &req);
}

/* Conntrack's garbage collection now, whatever the agent's interval. */
static int cmd_gc(const struct cli *cli, int argc, char **argv)
{
	struct manifest_args m = { 0 };
	struct k8s_request req = { .verb = "gc" };
	int ret = parse_manifest_args(cli, "gc", argc, argv, &m);

	if (ret)
		return ret;
	if (m.n)
		return usage(cli, "gc", "takes no -f");
	return call_agent(cli, m.socket_path, &req);
}

static int cmd_topology(const struct cli *cli, int argc, char **argv)
{
	struct manifest_args m = { 0 };
	struct k8s_topology_opts o = { .prefix = "sluice-k8s" };
	struct sluice_error err = { 0 };
	struct k8s_store store = { 0 };
	struct k8s_request req = { 0 };
	char exe[PATH_MAX];
	bool up;
	size_t n = 0;
	int ret;

	if (argc < 2 || (strcmp(argv[1], "up") && strcmp(argv[1], "down")))
		return usage(cli, "topology", "expected up or down");
	up = argv[1][0] == 'u';
	if ((ret = parse_manifest_args(cli, "topology", argc - 1, argv + 1, &m)))
		return ret;
	if (m.prefix)
		o.prefix = m.prefix;
	if (!up) {
		/* down needs no manifest: it removes whatever carries the prefix */
		if (k8s_topology_down(&o, &n, &err))
			return cli_fail(cli, "topology down: %s", err.msg);
		printf("topology %s: removed %zu network namespaces\n", o.prefix, n);
		return CLI_OK;
	}
	if (!m.n)
		return usage(cli, "topology", "up needs -f DIR|FILE");
	if (exe_path(exe, sizeof(exe)))
		return cli_fail(cli, "cannot find this binary");
	o.exe = exe;
	if ((ret = read_manifests(cli, &m, &req)))
		return ret;
	for (size_t i = 0; i < req.n_files && !ret; i++)
		ret = k8s_parse(req.files[i].name, req.files[i].data, req.files[i].len, &store, &err);
	k8s_request_free(&req);
	if (!ret && !(ret = k8s_store_validate(&store, &err)))
		ret = k8s_topology_up(&store, &o, &n, &err);
	k8s_store_free(&store);
	if (ret)
		return cli_fail(cli, "topology up: %s", err.msg);
	printf("topology %s: node %s-node, %zu pods, external client %s-ext (%s)\n", o.prefix,
	       o.prefix, n, o.prefix, K8S_EXT_IP4);
	return CLI_OK;
}

/* One grid: a row per source pod, 'X' where the target answered, '.' where not. */
static void reach_grid(const char *proto, uint16_t port, const struct k8s_object **pods, size_t n,
		       const bool *reached)
{
	printf("%s/%u\n", proto, port);
	for (size_t s = 0; s < n; s++) {
		printf("%s/%s ", pods[s]->ns, pods[s]->name);
		for (size_t d = 0; d < n; d++)
			putchar(reached[s * n + d] ? 'X' : '.');
		putchar('\n');
	}
}

static int cmd_reach(const struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "filename", required_argument, NULL, 'f' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "port", required_argument, NULL, 'P' },
		{ "udp", no_argument, NULL, 'u' },
		{ "timeout", required_argument, NULL, 't' },
		{ 0 },
	};
	struct manifest_args m = { 0 };
	struct k8s_reach_opts o = { .proto = IPPROTO_TCP, .timeout_ms = 500 };
	struct sluice_error err = { 0 };
	struct k8s_store store = { 0 };
	struct k8s_request req = { 0 };
	const struct k8s_object **pods = NULL;
	char (*names)[256] = NULL;
	const char **netns = NULL;
	struct k8s_ip *dst = NULL;
	bool *reached = NULL;
	uint16_t ports[8];
	size_t n_ports = 0, n = 0;
	const char *prefix = "sluice-k8s";
	int opt, ret = 0;
	long v;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "f:", options, NULL)) != -1) {
		switch (opt) {
		case 'f':
			if (m.n == MAX_MANIFEST_PATHS)
				return usage(cli, "reach", "too many -f");
			m.paths[m.n++] = optarg;
			break;
		case 'p':
			prefix = optarg;
			break;
		case 'P':
			v = strtol(optarg, NULL, 10);
			if (v < 1 || v > 65535 || n_ports == sizeof(ports) / sizeof(ports[0]))
				return usage(cli, "reach", "--port: 1-65535, at most 8 of them");
			ports[n_ports++] = (uint16_t)v;
			break;
		case 'u':
			o.proto = IPPROTO_UDP;
			break;
		case 't':
			o.timeout_ms = atoi(optarg);
			if (o.timeout_ms <= 0)
				return usage(cli, "reach", "--timeout: milliseconds above 0");
			break;
		default:
			return usage(cli, "reach", "bad option");
		}
	}
	if (optind != argc || !m.n || !n_ports)
		return usage(cli, "reach", "expected -f DIR|FILE and --port P");
	if ((ret = read_manifests(cli, &m, &req)))
		return ret;
	for (size_t i = 0; i < req.n_files && !ret; i++)
		ret = k8s_parse(req.files[i].name, req.files[i].data, req.files[i].len, &store, &err);
	k8s_request_free(&req);
	if (!ret)
		ret = k8s_store_index(&store, &err);
	if (ret) {
		k8s_store_free(&store);
		return cli_fail(cli, "reach: %s", err.msg);
	}
	pods = calloc(store.n + 1, sizeof(*pods));
	names = calloc(store.n + 1, sizeof(*names));
	netns = calloc(store.n + 1, sizeof(*netns));
	dst = calloc(store.n + 1, sizeof(*dst));
	reached = calloc(store.n * store.n + 1, sizeof(*reached));
	if (!pods || !names || !netns || !dst || !reached) {
		ret = cli_fail(cli, "out of memory");
		goto out;
	}
	/* the index's order: by namespace, then name */
	for (size_t i = 0; i < store.n_index; i++) {
		const struct k8s_object *p = store.index[i];

		if (p->kind != K8S_POD || !p->u.pod.n_ips)
			continue;
		pods[n] = p;
		k8s_pod_netns(prefix, p->ns, p->name, names[n], sizeof(names[n]));
		netns[n] = names[n];
		dst[n++] = p->u.pod.ips[0];
	}
	o.netns = netns;
	o.n_src = o.n_dst = n;
	o.dst = dst;
	for (size_t i = 0; i < n_ports && !ret; i++) {
		o.port = ports[i];
		if (k8s_reach_run(&o, reached, &err)) {
			ret = cli_fail(cli, "reach: %s", err.msg);
			break;
		}
		reach_grid(k8s_proto_name(o.proto), o.port, pods, n, reached);
	}
out:
	free(pods);
	free(names);
	free(netns);
	free(dst);
	free(reached);
	k8s_store_free(&store);
	return ret ? ret : CLI_OK;
}

static int cmd_echo(const struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "name", required_argument, NULL, 'n' },
		{ "ready-fd", required_argument, NULL, 'r' },
		{ 0 },
	};
	struct k8s_echo_opts o = { .ready_fd = -1 };
	struct sluice_error err = { 0 };
	char host[256];
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'p':
			if (o.n_ports == K8S_ECHO_MAX_PORTS || parse_port(optarg, &o.ports[o.n_ports]))
				return usage(cli, "echo", "--port: 1-65535, at most 16 of them");
			o.n_ports++;
			break;
		case 'n':
			o.name = optarg;
			break;
		case 'r':
			o.ready_fd = atoi(optarg);
			break;
		default:
			return usage(cli, "echo", "bad option");
		}
	}
	if (!o.n_ports || optind != argc)
		return usage(cli, "echo", "expected --port P");
	if (!o.name) {
		gethostname(host, sizeof(host));
		o.name = host;
	}
	if (k8s_echo_run(&o, &err))
		return cli_fail(cli, "echo: %s", err.msg);
	return CLI_OK;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Percentile p (0-100) of the non-zero values, in microseconds. */
static double percentile_us(const struct k8s_probe_flow *f, size_t n, bool connect, int p)
{
	uint64_t *v = calloc(n + 1, sizeof(*v));
	size_t k = 0;
	double r = 0;

	if (!v)
		return 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t x = connect ? f[i].connect_ns : f[i].request_ns;

		if (f[i].backend[0] && x)
			v[k++] = x;
	}
	if (k) {
		qsort(v, k, sizeof(*v), cmp_u64);
		r = (double)v[(k - 1) * (size_t)p / 100] / 1e3;
	}
	free(v);
	return r;
}

struct tally {
	char name[64];
	size_t count;
};

/* Flows per backend name, in order of first appearance. */
static size_t tally(const struct k8s_probe_flow *f, size_t n, struct tally *t, size_t max)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		size_t j;

		if (!f[i].backend[0])
			continue;
		for (j = 0; j < k && strcmp(t[j].name, f[i].backend); j++)
			;
		if (j == k && k < max) {
			snprintf(t[k].name, sizeof(t[k].name), "%s", f[i].backend);
			t[k++].count = 0;
		}
		if (j < k)
			t[j].count++;
	}
	return k;
}

static void probe_report(const struct cli *cli, const struct k8s_probe_opts *o,
			 const struct k8s_probe_flow *f, size_t failed, bool verbose)
{
	struct tally t[64];
	size_t k = tally(f, o->flows, t, 64), switched = 0, refused = 0, unreachable = 0, too_big = 0;
	char addr[64];

	for (size_t i = 0; i < o->flows; i++) {
		switched += f[i].switched;
		refused += f[i].error == ECONNREFUSED;
		unreachable += f[i].error == EHOSTUNREACH || f[i].error == ENETUNREACH;
		too_big += f[i].error == EMSGSIZE;
	}
	k8s_ip_str(&o->addr, addr, sizeof(addr));
	if (cli->json) {
		struct json *j = json_new(stdout);

		json_object_begin(j, NULL);
		json_string(j, "address", addr);
		json_u64(j, "port", o->port);
		json_string(j, "protocol", k8s_proto_name(o->proto));
		json_u64(j, "flows", o->flows);
		json_u64(j, "failed", failed);
		json_u64(j, "switched_backend", switched);
		json_u64(j, "refused", refused);
		json_u64(j, "unreachable", unreachable);
		json_u64(j, "message_too_long", too_big);
		json_array_begin(j, "backends");
		for (size_t i = 0; i < k; i++) {
			json_object_begin(j, NULL);
			json_string(j, "name", t[i].name);
			json_u64(j, "flows", t[i].count);
			json_object_end(j);
		}
		json_array_end(j);
		json_u64(j, "connect_p50_ns", (uint64_t)(percentile_us(f, o->flows, true, 50) * 1e3));
		json_u64(j, "connect_p99_ns", (uint64_t)(percentile_us(f, o->flows, true, 99) * 1e3));
		json_u64(j, "request_p50_ns", (uint64_t)(percentile_us(f, o->flows, false, 50) * 1e3));
		json_u64(j, "request_p99_ns", (uint64_t)(percentile_us(f, o->flows, false, 99) * 1e3));
		if (verbose) {
			json_array_begin(j, "per_flow");
			for (size_t i = 0; i < o->flows; i++)
				json_string(j, NULL, f[i].backend);
			json_array_end(j);
		}
		json_object_end(j);
		json_free(j);
		return;
	}
	if (verbose)
		for (size_t i = 0; i < o->flows; i++)
			printf("flow %zu sport %u backend %s connect_us %.1f request_us %.1f\n", i,
			       o->sport_base ? (unsigned)(o->sport_base + i) : 0,
			       f[i].backend[0] ? f[i].backend : "-", (double)f[i].connect_ns / 1e3,
			       (double)f[i].request_ns / 1e3);
	printf("%zu flows to %s%s%s:%u/%s, %zu failed (%zu refused, %zu unreachable, %zu message "
	       "too long), %zu switched backend mid-flow\n", o->flows,
	       o->addr.family == AF_INET6 ? "[" : "", addr, o->addr.family == AF_INET6 ? "]" : "",
	       o->port, k8s_proto_name(o->proto), failed, refused, unreachable, too_big,
	       switched);
	for (size_t i = 0; i < k; i++)
		printf("  %-24s %6zu flows  %5.1f%%\n", t[i].name, t[i].count,
		       100.0 * (double)t[i].count / (double)o->flows);
	if (o->proto == IPPROTO_TCP)
		printf("connect latency: median %.1f us, p99 %.1f us\n",
		       percentile_us(f, o->flows, true, 50), percentile_us(f, o->flows, true, 99));
	printf("request latency: median %.1f us, p99 %.1f us\n",
	       percentile_us(f, o->flows, false, 50), percentile_us(f, o->flows, false, 99));
}

static int cmd_probe(const struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "udp", no_argument, NULL, 'u' },
		{ "flows", required_argument, NULL, 'f' },
		{ "sport", required_argument, NULL, 's' },
		{ "requests", required_argument, NULL, 'r' },
		{ "netns", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ "interval", required_argument, NULL, 'i' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "size", required_argument, NULL, 'S' },
		{ "fin", no_argument, NULL, 'F' },
		{ 0 },
	};
	struct k8s_probe_opts o = { .proto = IPPROTO_TCP, .flows = 1, .requests = 1,
				    .timeout_ms = 1000 };
	struct sluice_error err = { 0 };
	struct k8s_probe_flow *flows;
	const char *netns = NULL;
	bool verbose = false;
	size_t failed;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "v", options, NULL)) != -1) {
		switch (opt) {
		case 'u':
			o.proto = IPPROTO_UDP;
			break;
		case 'f':
			o.flows = strtoul(optarg, NULL, 10);
			break;
		case 's':
			if (parse_port(optarg, &o.sport_base))
				return usage(cli, "probe", "--sport: 1-65535");
			break;
		case 'r':
			o.requests = strtoul(optarg, NULL, 10);
			break;
		case 'n':
			netns = optarg;
			break;
		case 't':
			o.timeout_ms = atoi(optarg);
			break;
		case 'i':
			o.interval_ms = atoi(optarg);
			break;
		case 'v':
			verbose = true;
			break;
		case 'S':
			o.size = strtoul(optarg, NULL, 10);
			if (o.size < 6 || o.size > 65000)
				return usage(cli, "probe", "--size: 6 to 65000 bytes");
			break;
		case 'F':
			o.fin = true;
			break;
		default:
			return usage(cli, "probe", "bad option");
		}
	}
	if (optind + 2 != argc || k8s_ip_parse(argv[optind], &o.addr) ||
	    parse_port(argv[optind + 1], &o.port))
		return usage(cli, "probe", "expected an IP address and a port");
	if (!o.flows || o.flows > 1000000 || !o.requests || o.timeout_ms <= 0 || o.interval_ms < 0)
		return usage(cli, "probe", "--flows 1-1000000, --requests and --timeout above 0");
	if (netns && k8s_enter_netns(netns, &err))
		return cli_fail(cli, "probe: %s", err.msg);
	flows = calloc(o.flows, sizeof(*flows));
	if (!flows)
		return cli_fail(cli, "out of memory");
	if (k8s_probe_run(&o, flows, &failed, &err)) {
		free(flows);
		return cli_fail(cli, "probe: %s", err.msg);
	}
	probe_report(cli, &o, flows, failed, verbose);
	for (size_t i = 0; i < o.flows; i++)
		failed += flows[i].switched;
	free(flows);
	/* a connection that changed backend is as broken as one that failed */
	return failed ? CLI_FAILED : CLI_OK;
}

/*
 * `k8s serve-metrics`: the agent's RED metrics over HTTP, for Prometheus.
 * Just enough HTTP/1.1 for a scraper: one request per connection (answers
 * say Connection: close), a head of at most HTTP_HEAD_MAX bytes, GET or
 * HEAD /metrics; a client silent for HTTP_IDLE_MS is let go.  Each scrape
 * asks the agent there and then, over its local socket.
 */
#define HTTP_CLIENTS 64
#define HTTP_HEAD_MAX 8192
#define HTTP_IDLE_MS 10000
/* how often the loop looks at --duration and idle clients */
#define HTTP_TICK_MS 200

struct http_client {
	int fd;          /* -1: a free slot */
	uint64_t since;  /* ms, CLOCK_MONOTONIC: when it last made progress */
	size_t len, sent, out_len;
	char *out;       /* the response, once the head is in */
	char head[HTTP_HEAD_MAX + 1];
};

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* ADDR:PORT, [IPv6]:PORT too. */
static int parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	const char *colon = strrchr(s, ':');
	char host[INET6_ADDRSTRLEN + 2];
	size_t n = colon ? (size_t)(colon - s) : 0;
	uint16_t port;

	if (!colon || n >= sizeof(host) || parse_port(colon + 1, &port))
		return -1;
	memcpy(host, s, n);
	host[n] = 0;
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		*len = sizeof(*a4);
		return 0;
	}
	if (n < 2 || host[0] != '[' || host[n - 1] != ']')
		return -1;
	host[n - 1] = 0;
	if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1)
		return -1;
	a6->sin6_family = AF_INET6;
	a6->sin6_port = htons(port);
	*len = sizeof(*a6);
	return 0;
}

/* The whole response in c->out, to be sent as the socket takes it. */
static void http_respond(struct http_client *c, int status, const char *reason,
			 const char *type, const char *extra, const char *body, bool head_only)
{
	size_t len = strlen(body);
	int n = asprintf(&c->out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n%s\r\n%s", status, reason, type, len, extra,
			 head_only ? "" : body);

	c->out_len = n < 0 ? 0 : (size_t)n;
	if (n < 0)
		c->out = NULL;
	c->sent = 0;
}

/* Answer the request whose head is in c->head. */
static void http_serve(struct http_client *c, const char *socket_path, uint64_t *scrapes)
{
	static const char text[] = "text/plain; charset=utf-8";
	struct k8s_request req = { .verb = "metrics" };
	struct sluice_error err = { 0 };
	char method[16], target[1024], version[16], *reply = NULL;
	bool ok = false, head_only;
	int ret;

	if (c->len == HTTP_HEAD_MAX) {
		http_respond(c, 431, "Request Header Fields Too Large", text, "",
			     "request head too large\n", false);
		return;
	}
	if (sscanf(c->head, "%15s %1023s %15s", method, target, version) != 3 ||
	    strncmp(version, "HTTP/1.", 7)) {
		http_respond(c, 400, "Bad Request", text, "", "bad request line\n", false);
		return;
	}
	head_only = !strcmp(method, "HEAD");
	if (strcmp(method, "GET") && !head_only) {
		http_respond(c, 405, "Method Not Allowed", text, "Allow: GET, HEAD\r\n",
			     "only GET and HEAD\n", false);
		return;
	}
	target[strcspn(target, "?")] = 0;
	if (strcmp(target, "/metrics")) {
		http_respond(c, 404, "Not Found", text, "", "the metrics are at /metrics\n",
			     head_only);
		return;
	}
	ret = k8s_call(socket_path, &req, &ok, &reply, &err);
	if (ret || !ok) {
		char *msg = NULL;

		if (asprintf(&msg, "agent %s: %s\n", socket_path, ret ? err.msg : reply) < 0)
			msg = NULL;
		http_respond(c, 503, "Service Unavailable", text, "", msg ? msg : "agent\n",
			     head_only);
		free(msg);
	} else {
		http_respond(c, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", "", reply,
			     head_only);
		++*scrapes;
	}
	free(reply);
}

/* Read or write what the socket allows; false when c is done with. */
static bool http_progress(struct http_client *c, const char *socket_path, uint64_t *scrapes)
{
	ssize_t n;

	if (!c->out) {
		n = recv(c->fd, c->head + c->len, HTTP_HEAD_MAX - c->len, 0);
		if (n <= 0)
			return n < 0 && (errno == EAGAIN || errno == EINTR);
		c->len += (size_t)n;
		c->head[c->len] = 0;
		if (!strstr(c->head, "\r\n\r\n") && !strstr(c->head, "\n\n") &&
		    c->len < HTTP_HEAD_MAX)
			return true;
		http_serve(c, socket_path, scrapes);
		if (!c->out)
			return false;
	}
	n = send(c->fd, c->out + c->sent, c->out_len - c->sent, MSG_NOSIGNAL);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR;
	c->sent += (size_t)n;
	return c->sent < c->out_len;
}

static void http_close(struct http_client *c)
{
	close(c->fd);
	free(c->out);
	c->fd = -1;
	c->out = NULL;
	c->len = c->sent = c->out_len = 0;
}

static int cmd_serve_metrics(const struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "socket", required_argument, NULL, 's' },
		{ "duration", required_argument, NULL, 't' },
		{ 0 },
	};
	const char *listen_at = NULL, *socket_path = K8S_DEFAULT_SOCKET;
	struct pollfd pfd[1 + HTTP_CLIENTS];
	struct http_client *clients;
	struct sockaddr_storage ss;
	socklen_t ss_len = 0;
	uint64_t connections = 0, scrapes = 0;
	double duration = 0;
	struct live l;
	int opt, fd, on = 1, ret = CLI_OK;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (opt == 'l')
			listen_at = optarg;
		else if (opt == 's')
			socket_path = optarg;
		else if (opt != 't' || live_parse_seconds(optarg, &duration))
			return usage(cli, "serve-metrics", "bad option (--duration: seconds above 0)");
	}
	if (optind != argc || !listen_at)
		return usage(cli, "serve-metrics", "expected --listen ADDR:PORT");
	if (parse_listen(listen_at, &ss, &ss_len))
		return usage(cli, "serve-metrics", "--listen: IPV4:PORT or [IPV6]:PORT, port 1-65535");
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, ss_len) || listen(fd, HTTP_CLIENTS)) {
		ret = cli_fail(cli, "serve-metrics: %s: %s", listen_at, strerror(errno));
		if (fd >= 0)
			close(fd);
		return ret;
	}
	clients = calloc(HTTP_CLIENTS, sizeof(*clients));
	if (!clients || live_begin(&l, duration)) {
		free(clients);
		close(fd);
		return cli_fail(cli, "serve-metrics: %s", clients ? "cannot take over SIGINT and SIGTERM"
								  : "out of memory");
	}
	for (size_t i = 0; i < HTTP_CLIENTS; i++)
		clients[i].fd = -1;
	fprintf(stderr, "sluice k8s serve-metrics: http://%s/metrics from the agent at %s; "
		"SIGINT or SIGTERM stops\n", listen_at, socket_path);
	while (!live_stopped(&l)) {
		struct timespec tick = { 0, HTTP_TICK_MS * 1000000L };
		size_t n = 1, busy = 0;
		uint64_t now;

		for (size_t i = 0; i < HTTP_CLIENTS; i++)
			busy += clients[i].fd >= 0;
		/* a full house waits in the listen backlog */
		pfd[0] = (struct pollfd){ .fd = busy < HTTP_CLIENTS ? fd : -1, .events = POLLIN };
		for (size_t i = 0; i < HTTP_CLIENTS; i++)
			if (clients[i].fd >= 0)
				pfd[n++] = (struct pollfd){ .fd = clients[i].fd,
							    .events = clients[i].out ? POLLOUT : POLLIN };
		if (ppoll(pfd, n, &tick, &l.saved_mask) < 0 && errno != EINTR) {
			ret = cli_fail(cli, "serve-metrics: poll: %s", strerror(errno));
			break;
		}
		now = now_ms();
		for (size_t i = 0, k = 1; i < HTTP_CLIENTS; i++) {
			struct http_client *c = &clients[i];

			if (c->fd < 0)
				continue;
			if (pfd[k++].revents) {
				c->since = now;
				if (!http_progress(c, socket_path, &scrapes))
					http_close(c);
			} else if (now - c->since > HTTP_IDLE_MS) {
				http_close(c);
			}
		}
		for (size_t i = 0; pfd[0].revents && i < HTTP_CLIENTS; i++) {
			if (clients[i].fd >= 0)
				continue;
			clients[i].fd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
			if (clients[i].fd < 0)
				break;
			clients[i].since = now;
			connections++;
		}
	}
	live_end(&l);
	for (size_t i = 0; i < HTTP_CLIENTS; i++)
		if (clients[i].fd >= 0)
			http_close(&clients[i]);
	free(clients);
	close(fd);
	if (ret)
		return ret;
	if (cli->json) {
		struct json *j = json_new(stdout);

		json_object_begin(j, NULL);
		json_u64(j, "connections", connections);
		json_u64(j, "scrapes", scrapes);
		json_object_end(j);
		json_free(j);
	} else {
		printf("serve-metrics: %" PRIu64 " connections, %" PRIu64 " scrapes answered\n",
		       connections, scrapes);
	}
	return CLI_OK;
}

/* The DOT text in an anonymous file, for dot to read as its standard input. */
static int dot_stdin(const char *dot_text)
{
	int fd = memfd_create("sluice-map.dot", MFD_CLOEXEC);

	if (fd < 0)
		return -1;
	if (k8s_write_all(fd, dot_text, strlen(dot_text)) || lseek(fd, 0, SEEK_SET)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Graphviz's dot -TFORMAT -o OUT < text; 0, or an error message's text in why. */
static int render_dot(const char *text, const char *format, const char *out, char *why,
		      size_t size)
{
	char type[16];
	char *args[] = { "dot", type, "-o", (char *)out, NULL };
	posix_spawn_file_actions_t fa;
	int in = dot_stdin(text), ret, status;
	pid_t pid;

	snprintf(type, sizeof(type), "-T%s", format);
	if (in < 0) {
		snprintf(why, size, "%s", strerror(errno));
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in, STDIN_FILENO);
	ret = posix_spawnp(&pid, "dot", &fa, NULL, args, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(in);
	if (ret == ENOENT) {
		snprintf(why, size, "Graphviz's dot is not installed (Debian package graphviz); "
			 "-o FILE.dot writes the DOT text without it");
		return -1;
	}
	if (ret) {
		snprintf(why, size, "cannot run dot: %s", strerror(ret));
		return -1;
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		snprintf(why, size, "dot failed (its message above)");
		return -1;
	}
	return 0;
}

/* `k8s map -o FILE.svg|png|dot`: the agent's service map, drawn by Graphviz. */
static int cmd_service_map(const struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "socket", required_argument, NULL, 's' },
		{ 0 },
	};
	struct k8s_request req = { .verb = "map" };
	const char *out = NULL, *socket_path = K8S_DEFAULT_SOCKET, *format;
	struct sluice_error err = { 0 };
	char *reply = NULL, why[256];
	bool ok = false;
	int opt, ret;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "o:", options, NULL)) != -1) {
		if (opt == 'o')
			out = optarg;
		else if (opt == 's')
			socket_path = optarg;
		else
			return usage(cli, "map", "bad option");
	}
	if (optind != argc || !out)
		return usage(cli, "map", "expected -o FILE.svg|FILE.png|FILE.dot");
	format = strrchr(out, '.');
	format = format ? format + 1 : "";
	if (strcmp(format, "svg") && strcmp(format, "png") && strcmp(format, "dot"))
		return usage(cli, "map", "-o: the file's extension says the format: .svg, .png or .dot");
	if (k8s_call(socket_path, &req, &ok, &reply, &err))
		return cli_fail(cli, "map: %s", err.msg);
	if (!ok) {
		ret = cli_fail(cli, "map: %s", reply);
		free(reply);
		return ret;
	}
	if (!strcmp(format, "dot")) {
		FILE *f = fopen(out, "w");

		ret = !f || fputs(reply, f) < 0;
		if (f && fclose(f))
			ret = 1;
		if (ret)
			snprintf(why, sizeof(why), "%s", strerror(errno));
	} else {
		ret = render_dot(reply, format, out, why, sizeof(why));
	}
	free(reply);
	if (ret)
		return cli_fail(cli, "map: %s: %s", out, why);
	if (cli->json) {
		struct json *j = json_new(stdout);

		json_object_begin(j, NULL);
		json_string(j, "output", out);
		json_string(j, "format", format);
		json_object_end(j);
		json_free(j);
	} else {
		printf("map: wrote %s\n", out);
	}
	return CLI_OK;
}

static const struct k8s_sub subs[] = {
	{ "agent", cmd_agent,
	  "agent [--socket S] [--netns NS] [--object lb.o] [--node NAME] [--node-ip IP]... "
	  "[--table-entries N] [--ext-if IF|none] [--ct-timeout tcp-syn|tcp-established|tcp-closing|"
	  "udp=SECONDS]... [--ct-gc-interval SECONDS] [--daemon] [--pidfile F]" },
	{ "apply", cmd_apply, "apply -f DIR|FILE... [--replace] [--socket S]" },
	{ "delete", cmd_delete, "delete -f DIR|FILE... [--socket S]" },
	{ "status", cmd_status, "status [--socket S] [--json]" },
	{ "gc", cmd_gc, "gc [--socket S]" },
	{ "policy", cmd_policy, "policy [--socket S] [--json]" },
	{ "why", cmd_why, "why SRC DST PORT [--proto tcp|udp|sctp|icmp] [--socket S]" },
	{ "topology", cmd_topology, "topology up -f DIR|FILE [--prefix P] | topology down [--prefix P]" },
	{ "echo", cmd_echo, "echo --port P... [--name NAME]" },
	{ "reach", cmd_reach,
	  "reach -f DIR|FILE --port P... [--udp] [--prefix P] [--timeout MS]" },
	{ "probe", cmd_probe,
	  "probe ADDR PORT [--udp [--size BYTES]] [--fin] [--flows N] [--sport BASE] [--requests R] "
	  "[--netns NS] [--timeout MS] [--interval MS] [-v]" },
	{ "serve-metrics", cmd_serve_metrics,
	  "serve-metrics --listen ADDR:PORT [--socket S] [--duration S]" },
	{ "map", cmd_service_map, "map -o FILE.svg|FILE.png|FILE.dot [--socket S]" },
};

static const struct k8s_sub *find_sub(const char *name)
{
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (!strcmp(subs[i].name, name))
			return &subs[i];
	return NULL;
}

int cmd_k8s(const struct cli *cli, int argc, char **argv)
{
	const struct k8s_sub *s = argc >= 2 ? find_sub(argv[1]) : NULL;

	if (argc >= 2 && (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help"))) {
		for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
			printf("sluice k8s %s\n", subs[i].usage);
		return CLI_OK;
	}
	if (!s) {
		cli_usage(cli, "k8s", argc >= 2 ? "unknown k8s command '%s'" : "expected a k8s command%s",
			  argc >= 2 ? argv[1] : "");
		for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
			fprintf(stderr, "  sluice k8s %s\n", subs[i].usage);
		return CLI_USAGE;
	}
	return s->fn(cli, argc - 1, argv + 1);
}
