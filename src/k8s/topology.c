/* SPDX-License-Identifier: MIT */
/*
 * The topology is built with iproute2's `ip`, one command at a time, so that
 * a failure names the exact command and what ip said.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "errmsg.h"
#include "topology.h"

#define MAX_ARGS 32
/* How long an echo server may take to listen. */
#define ECHO_READY_MS 5000

void k8s_veth_name(const char *ns, const char *pod, char out[IF_NAMESIZE])
{
	uint32_t h = 2166136261u;

	for (const char *p = ns; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	h = (h ^ '/') * 16777619u;
	for (const char *p = pod; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	snprintf(out, IF_NAMESIZE, "lxc%08x", h);
}

void k8s_pod_netns(const char *prefix, const char *ns, const char *pod, char *out, size_t size)
{
	snprintf(out, size, "%s-%s-%s", prefix, ns, pod);
}

/*
 * Run a command line (words separated by single spaces; none of ours has a
 * space inside a word) and collect its output; fail with the command and
 * the first line it printed.
 */
static int run(struct sluice_error *err, char **output, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int run(struct sluice_error *err, char **output, const char *fmt, ...)
{
	char line[1024], copy[1024], out[4096] = "", *argv[MAX_ARGS + 1], *save = NULL;
	int argc = 0, pipefd[2], status;
	size_t len = 0;
	ssize_t r;
	va_list ap;
	pid_t pid;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	strcpy(copy, line);
	for (char *w = strtok_r(copy, " ", &save); w && argc < MAX_ARGS; w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	argv[argc] = NULL;
	if (pipe2(pipefd, O_CLOEXEC))
		return sluice_fail(err, errno, "pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return sluice_fail(err, errno, "fork: %s", strerror(errno));
	}
	if (pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		dup2(pipefd[1], STDERR_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(pipefd[1]);
	while ((r = read(pipefd[0], out + len, sizeof(out) - 1 - len)) > 0 ||
	       (r < 0 && errno == EINTR))
		len += r > 0 ? (size_t)r : 0;
	out[len] = 0;
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		out[strcspn(out, "\n")] = 0;
		return sluice_fail(err, EIO, "`%s` failed: %s", line,
				   WIFEXITED(status) && WEXITSTATUS(status) == 127 ?
				   "command not found (install iproute2)" : out);
	}
	if (output) {
		*output = strdup(out);
		if (!*output)
			return sluice_fail(err, ENOMEM, "out of memory");
	}
	return 0;
}

/* Forwarding on, reverse-path filtering off (pods answer from VIPs' flows). */
static int setup_node(const char *node, struct sluice_error *err)
{
	int ret;

	if ((ret = run(err, NULL, "ip netns add %s", node)) ||
	    (ret = run(err, NULL, "ip -n %s link set lo up", node)) ||
	    (ret = run(err, NULL, "ip netns exec %s sysctl -qw net.ipv4.ip_forward=1 "
		       "net.ipv6.conf.all.forwarding=1 net.ipv4.conf.all.rp_filter=0 "
		       "net.ipv4.conf.default.rp_filter=0", node)))
		return ret;
	return 0;
}

/* The client outside the cluster, on the node's ext0. */
static int setup_external(const char *prefix, const char *node, struct sluice_error *err)
{
	char ext[256];
	int ret;

	snprintf(ext, sizeof(ext), "%s-ext", prefix);
	if ((ret = run(err, NULL, "ip netns add %s", ext)) ||
	    (ret = run(err, NULL, "ip -n %s link add %s type veth peer name eth0 netns %s", node,
		       K8S_NODE_EXT_IF, ext)) ||
	    (ret = run(err, NULL, "ip -n %s addr add %s/24 dev %s", node, K8S_NODE_IP4,
		       K8S_NODE_EXT_IF)) ||
	    (ret = run(err, NULL, "ip -n %s addr add %s/64 dev %s nodad", node, K8S_NODE_IP6,
		       K8S_NODE_EXT_IF)) ||
	    (ret = run(err, NULL, "ip -n %s link set %s up", node, K8S_NODE_EXT_IF)) ||
	    (ret = run(err, NULL, "ip -n %s link set lo up", ext)) ||
	    (ret = run(err, NULL, "ip -n %s addr add %s/24 dev eth0", ext, K8S_EXT_IP4)) ||
	    (ret = run(err, NULL, "ip -n %s addr add %s/64 dev eth0 nodad", ext, K8S_EXT_IP6)) ||
	    /* room for the outer header NodePort traffic gets (DSR): IPIP's 20 bytes, IPv6's 40 */
	    (ret = run(err, NULL, "ip -n %s link set eth0 mtu 1480 up", ext)) ||
	    (ret = run(err, NULL, "ip -n %s route add default via %s", ext, K8S_NODE_IP4)) ||
	    (ret = run(err, NULL, "ip -n %s -6 route add default via %s mtu 1460", ext,
		       K8S_NODE_IP6)))
		return ret;
	return 0;
}

/*
 * Start `sluice k8s echo` inside the pod, answering on its container ports,
 * and wait until it listens (it writes a byte to --ready-fd then).
 */
static int start_echo(const struct k8s_topology_opts *o, const char *netns,
		      const struct k8s_object *pod, struct sluice_error *err)
{
	char *argv[2 * 16 + 10], fdstr[16], ports[16][8];
	struct pollfd p;
	int pipefd[2], argc = 0, ret = 0;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC))
		return sluice_fail(err, errno, "pipe: %s", strerror(errno));
	snprintf(fdstr, sizeof(fdstr), "%d", pipefd[1]);
	argv[argc++] = (char *)o->exe;
	argv[argc++] = "k8s";
	argv[argc++] = "echo";
	argv[argc++] = "--name";
	argv[argc++] = (char *)pod->name;
	argv[argc++] = "--ready-fd";
	argv[argc++] = fdstr;
	/* each port once: the echo server takes TCP and UDP on it */
	for (size_t i = 0, n = 0; i < pod->u.pod.n_ports && n < 16; i++) {
		bool seen = false;

		for (size_t j = 0; j < i; j++)
			seen |= pod->u.pod.ports[j].port == pod->u.pod.ports[i].port;
		if (seen)
			continue;
		snprintf(ports[n], sizeof(ports[n]), "%u", pod->u.pod.ports[i].port);
		argv[argc++] = "--port";
		argv[argc++] = ports[n++];
	}
	argv[argc] = NULL;
	pid = fork();
	if (pid < 0) {
		ret = sluice_fail(err, errno, "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		/* a daemon of its own, in the pod's namespace, keeping only the ready pipe */
		if (k8s_enter_netns(netns, NULL) || null < 0)
			_exit(1);
		setsid();
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		fcntl(pipefd[1], F_SETFD, 0);
		if (fork() == 0) {
			execv(o->exe, argv);
			_exit(127);
		}
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	close(pipefd[1]);
	pipefd[1] = -1;
	p = (struct pollfd){ .fd = pipefd[0], .events = POLLIN };
	if (poll(&p, 1, ECHO_READY_MS) != 1 || read(pipefd[0], fdstr, 1) != 1)
		ret = sluice_fail(err, ETIMEDOUT, "Pod %s/%s: the echo server did not start",
				  pod->ns, pod->name);
out:
	close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	return ret;
}

static int setup_pod(const struct k8s_topology_opts *o, const char *node,
		     const struct k8s_object *pod, struct sluice_error *err)
{
	char netns[512], veth[IF_NAMESIZE], ip[64];
	int ret;

	if (!pod->u.pod.n_ips)
		return sluice_fail(err, EINVAL, "%s:%d: Pod %s/%s: status.podIP: needed here: the "
				   "topology takes each pod's address from its manifest", pod->file,
				   pod->line, pod->ns, pod->name);
	k8s_pod_netns(o->prefix, pod->ns, pod->name, netns, sizeof(netns));
	if (strlen(netns) > 200)
		return sluice_fail(err, ENAMETOOLONG, "Pod %s/%s: namespace name %s too long",
				   pod->ns, pod->name, netns);
	k8s_veth_name(pod->ns, pod->name, veth);
	if ((ret = run(err, NULL, "ip netns add %s", netns)) ||
	    (ret = run(err, NULL, "ip -n %s link add %s type veth peer name eth0 netns %s", node,
		       veth, netns)) ||
	    (ret = run(err, NULL, "ip -n %s addr add 169.254.1.1/32 dev %s", node, veth)) ||
	    (ret = run(err, NULL, "ip -n %s addr add fe80::1/64 dev %s nodad", node, veth)) ||
	    (ret = run(err, NULL, "ip -n %s link set %s up", node, veth)) ||
	    (ret = run(err, NULL, "ip -n %s link set lo up", netns)) ||
	    (ret = run(err, NULL, "ip -n %s link set eth0 up", netns)))
		return ret;
	for (size_t i = 0; i < pod->u.pod.n_ips; i++) {
		bool v6 = pod->u.pod.ips[i].family == AF_INET6;

		k8s_ip_str(&pod->u.pod.ips[i], ip, sizeof(ip));
		if ((ret = run(err, NULL, "ip -n %s addr add %s/%d dev eth0%s", netns, ip,
			       v6 ? 128 : 32, v6 ? " nodad" : "")) ||
		    (ret = run(err, NULL, "ip -n %s route add %s/%d dev %s", node, ip, v6 ? 128 : 32,
			       veth)))
			return ret;
		if (v6)
			ret = run(err, NULL, "ip -n %s -6 route add default via fe80::1 dev eth0",
				  netns);
		else if (!(ret = run(err, NULL, "ip -n %s route add 169.254.1.1 dev eth0 scope link",
				     netns)))
			ret = run(err, NULL, "ip -n %s route add default via 169.254.1.1 dev eth0",
				  netns);
		if (ret)
			return ret;
	}
	if (pod->u.pod.n_ports)
		ret = start_echo(o, netns, pod, err);
	return ret;
}

int k8s_topology_up(const struct k8s_store *s, const struct k8s_topology_opts *o,
		    size_t *pods, struct sluice_error *err)
{
	char node[256];
	size_t removed;
	int ret;

	*pods = 0;
	snprintf(node, sizeof(node), "%s-node", o->prefix);
	if ((ret = setup_node(node, err)) || (ret = setup_external(o->prefix, node, err)))
		goto fail;
	for (size_t i = 0; i < s->n; i++) {
		if (s->v[i]->kind != K8S_POD)
			continue;
		if ((ret = setup_pod(o, node, s->v[i], err)))
			goto fail;
		++*pods;
	}
	return 0;
fail:
	k8s_topology_down(o, &removed, NULL);
	return ret;
}

/* The processes in a namespace: ip netns pids. */
static void stop_processes(const char *netns)
{
	char *out = NULL, *save = NULL;
	pid_t pids[256];
	size_t n = 0;

	if (run(NULL, &out, "ip netns pids %s", netns))
		return;
	for (char *w = strtok_r(out, "\n", &save); w && n < 256; w = strtok_r(NULL, "\n", &save))
		pids[n++] = (pid_t)atoi(w);
	free(out);
	for (size_t i = 0; i < n; i++)
		if (pids[i] > 1 && pids[i] != getpid())
			kill(pids[i], SIGTERM);
	/* a moment to exit cleanly (the agent detaches), then no choice */
	for (int t = 0; t < 50 && n; t++) {
		bool alive = false;

		for (size_t i = 0; i < n; i++)
			alive |= pids[i] > 1 && pids[i] != getpid() && kill(pids[i], 0) == 0;
		if (!alive)
			return;
		nanosleep(&(struct timespec){ .tv_nsec = 20000000 }, NULL);
	}
	for (size_t i = 0; i < n; i++)
		if (pids[i] > 1 && pids[i] != getpid())
			kill(pids[i], SIGKILL);
}

int k8s_topology_down(const struct k8s_topology_opts *o, size_t *removed,
		      struct sluice_error *err)
{
	size_t plen = strlen(o->prefix), n = 0;
	DIR *dir = opendir("/run/netns");
	char (*names)[256] = NULL;
	struct dirent *d;
	int ret = 0;

	*removed = 0;
	if (!dir)
		return errno == ENOENT ? 0 : sluice_fail(err, errno, "/run/netns: %s", strerror(errno));
	/* names first: deleting while reading the directory could skip some */
	while ((d = readdir(dir))) {
		char (*more)[256];

		if (strncmp(d->d_name, o->prefix, plen) || d->d_name[plen] != '-')
			continue;
		more = realloc(names, (n + 1) * sizeof(*names));
		if (!more)
			break;
		names = more;
		snprintf(names[n++], sizeof(*names), "%s", d->d_name);
	}
	closedir(dir);
	for (size_t i = 0; i < n; i++) {
		stop_processes(names[i]);
		if (!ret)
			ret = run(err, NULL, "ip netns del %s", names[i]);
		else
			run(NULL, NULL, "ip netns del %s", names[i]);
		++*removed;
	}
	free(names);
	return ret;
}
