/* SPDX-License-Identifier: MIT */
/*
 * `sluice security run -f RULES.yaml [--cgroup PATH] [--duration S]`: the
 * policy compiled into the maps of security/kern.o, its tracepoints and
 * cgroup programs attached, and every event of its ring buffer printed,
 * one line each (or a JSON object per line), until SIGINT, SIGTERM or the
 * duration; then detached, and the counts of events and of drops (ring
 * buffer full) reported.  `sluice security check -f RULES.yaml` validates
 * a policy without loading anything.
 */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mntent.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <sluice/kernel.h>

#include "cli.h"
#include "files.h"
#include "json.h"
#include "live.h"
#include "security/compile.h"
#include "security/event.h"
#include "security/policy.h"

#define TRACEFS "/sys/kernel/tracing"
#define MAX_ATTACHMENTS 16
#define EVENTS_SOCKET "/run/sluice/security.sock"
#define MAX_READERS 16

struct session {
	const struct cli *cli;
	struct sec_policy *policy;
	struct sluice_kernel_object *obj;
	struct sluice_kernel_attachment *att[MAX_ATTACHMENTS];
	size_t natt;
	int64_t to_realtime;
	/* `sluice events` readers, on a SOCK_SEQPACKET socket */
	int listener;
	int readers[MAX_READERS];
	size_t nreaders;
};

/* The cgroup v2 hierarchy's root: /sys/fs/cgroup on most systems, elsewhere on hybrid ones. */
static int cgroup2_root(char *buf, size_t size)
{
	FILE *f = setmntent("/proc/self/mounts", "r");
	struct mntent *m;
	int ret = -1;

	while (f && ret && (m = getmntent(f)))
		if (!strcmp(m->mnt_type, "cgroup2") && strlen(m->mnt_dir) < size) {
			strcpy(buf, m->mnt_dir);
			ret = 0;
		}
	if (f)
		endmntent(f);
	return ret;
}

static bool has_rule(const struct sec_policy *p, uint32_t kind, uint32_t min_action)
{
	for (size_t i = 0; i < p->nrules; i++)
		if (p->rules[i].kind == kind && p->rules[i].action >= min_action)
			return true;
	return false;
}

/*
 * File denial needs BPF LSM (a hook that can fail the open); a kernel in
 * lockdown refuses LSM programs.  Without it deny becomes detection + kill.
 */
static void check_lsm(const struct sec_policy *p)
{
	char path[4096];
	struct sluice_kernel_object *probe;
	struct sluice_kernel_verdict v = { 0 };
	struct sluice_error err = { 0 };

	if (!has_rule(p, SEC_KIND_FILE, SEC_ACTION_DENY) &&
	    !has_rule(p, SEC_KIND_EXEC, SEC_ACTION_DENY))
		return;
	if (built_path("security/lsm_probe.o", path, sizeof(path)) ||
	    !(probe = sluice_kernel_open(path, NULL, &err))) {
		fprintf(stderr, "sluice security: cannot tell whether BPF LSM is available (%s): "
			"deny falls back to detection + kill\n", err.msg);
		return;
	}
	if (sluice_kernel_load_prog(probe, 0, &v, &err) || !v.accepted)
		fprintf(stderr, "sluice security: file deny needs BPF LSM; this kernel refuses it "
			"(%s): falling back to detection + kill (exec deny: killed at exec)\n",
			v.message ? v.message : err.msg);
	else
		fprintf(stderr, "sluice security: BPF LSM is available, but Sluice has no LSM "
			"enforcement program yet: deny falls back to detection + kill\n");
	sluice_kernel_close(probe);
}

static int mount_tracefs(const struct cli *cli)
{
	struct stat st;

	if (stat(TRACEFS "/events", &st) && mount("tracefs", TRACEFS, "tracefs", 0, NULL))
		return cli_fail(cli, "cannot mount tracefs on %s: %s", TRACEFS, strerror(errno));
	return CLI_OK;
}

/* Load every program, fill the maps, attach: tracepoints globally, connect hooks on cgroup. */
static int start(struct session *s, const char *cgroup)
{
	char path[4096];
	struct sluice_error err = { 0 };
	int ret;

	if (sluice_kernel_probe(&err))
		return cli_fail(s->cli, "%s", err.msg);
	ret = mount_tracefs(s->cli);
	if (ret)
		return ret;
	check_lsm(s->policy);
	if (built_path("security/kern.o", path, sizeof(path)))
		return cli_fail(s->cli, "cannot find this binary's directory");
	s->obj = sluice_kernel_open(path, NULL, &err);
	if (!s->obj)
		return cli_fail(s->cli, "%s", err.msg);
	for (size_t i = 0; i < sluice_kernel_prog_count(s->obj); i++) {
		struct sluice_kernel_verdict v;

		if (sluice_kernel_load_prog(s->obj, i, &v, &err))
			return cli_fail(s->cli, "%s", err.msg);
		if (!v.accepted)
			return cli_fail(s->cli, "%s: the kernel rejected %s: %s", path,
					sluice_kernel_prog_name(s->obj, i), v.message);
	}
	{
		struct sec_map_writer w = { .update = sec_kernel_map_update, .ctx = s->obj };

		if (sec_policy_compile(s->policy, (uint32_t)getpid(), &w, &err))
			return cli_fail(s->cli, "policy: %s", err.msg);
	}
	for (size_t i = 0; i < sluice_kernel_prog_count(s->obj) && s->natt < MAX_ATTACHMENTS; i++) {
		const char *section = sluice_kernel_prog_section(s->obj, i);
		bool cgroup_prog = !strncmp(section, "cgroup/", 7);

		ret = cgroup_prog
			      ? sluice_kernel_attach_cgroup(s->obj, i, cgroup, &s->att[s->natt], &err)
			      : sluice_kernel_attach_tracepoint(s->obj, i, &s->att[s->natt], &err);
		if (ret && !cgroup_prog && ret == -ENOENT) {
			/* a syscall this kernel does not have (open on arm64, openat2 before 5.6) */
			fprintf(stderr, "sluice security: skipping %s: %s\n", section, err.msg);
			continue;
		}
		if (ret)
			return cli_fail(s->cli, "%s", err.msg);
		s->natt++;
	}
	return CLI_OK;
}

static void stop(struct session *s)
{
	struct sluice_error err = { 0 };

	for (size_t i = s->natt; i-- > 0;)
		if (sluice_kernel_detach(s->att[i], &err))
			fprintf(stderr, "sluice security: %s\n", err.msg);
	s->natt = 0;
	if (s->obj)
		sluice_kernel_close(s->obj);
	s->obj = NULL;
}

/*
 * Each event also goes to every `sluice events` reader, without waiting: a
 * reader whose socket is full is dropped rather than slowing the ring
 * buffer's reader down.
 */
static void send_to_readers(struct session *s, const char *rule, const struct sec_event *ev)
{
	struct sec_event_record rec = { .ev = *ev };

	snprintf(rec.rule, sizeof(rec.rule), "%s", rule);
	for (size_t i = 0; i < s->nreaders;) {
		if (send(s->readers[i], &rec, sizeof(rec), MSG_DONTWAIT | MSG_NOSIGNAL) ==
		    (ssize_t)sizeof(rec)) {
			i++;
			continue;
		}
		close(s->readers[i]);
		s->readers[i] = s->readers[--s->nreaders];
	}
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct session *s = ctx;
	const struct sec_event *ev = data;
	const char *rule;

	if (size < sizeof(*ev))
		return 0;
	rule = ev->rule < s->policy->nrules ? s->policy->rules[ev->rule].name : "?";
	sec_event_print(stdout, s->cli->json, rule, ev, s->to_realtime);
	send_to_readers(s, rule, ev);
	return 0;
}

/*
 * The socket `sluice events` connects to, watched through the ring
 * buffer's own epoll set (only ring_buffer__consume reads the rings, so
 * another descriptor in the set disturbs nothing).  A path held by an
 * earlier run is taken over.
 */
static int listen_for_readers(struct session *s, const char *path, int epoll_fd)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct epoll_event e = { .events = EPOLLIN };
	char dir[sizeof(addr.sun_path)];
	char *slash;

	if (strlen(path) >= sizeof(addr.sun_path))
		return cli_fail(s->cli, "--socket %s: longer than %zu bytes", path,
				sizeof(addr.sun_path) - 1);
	strcpy(addr.sun_path, path);
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0755);
	}
	unlink(path);
	s->listener = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->listener < 0 || bind(s->listener, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(s->listener, MAX_READERS))
		return cli_fail(s->cli, "events socket %s: %s", path, strerror(errno));
	e.data.fd = s->listener;
	if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, s->listener, &e))
		return cli_fail(s->cli, "events socket %s: %s", path, strerror(errno));
	return CLI_OK;
}

static void accept_readers(struct session *s)
{
	int fd;

	while ((fd = accept4(s->listener, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		if (s->nreaders == MAX_READERS)
			close(fd);
		else
			s->readers[s->nreaders++] = fd;
	}
}

/* The per-CPU counters of sec_stats, summed. */
static int read_stats(struct session *s, uint64_t *events, uint64_t *drops)
{
	int cpus = libbpf_num_possible_cpus();
	struct sluice_error err = { 0 };
	uint64_t *per_cpu;
	int fd = -1;

	for (size_t i = 0; i < sluice_kernel_map_count(s->obj); i++)
		if (!strcmp(sluice_kernel_map_name(s->obj, i), "sec_stats"))
			fd = sluice_kernel_map_fd(s->obj, i, &err);
	if (fd < 0 || cpus <= 0)
		return -1;
	per_cpu = calloc((size_t)cpus, sizeof(*per_cpu));
	if (!per_cpu)
		return -1;
	*events = *drops = 0;
	for (uint32_t key = 0; key < SEC_STAT_MAX; key++) {
		if (bpf_map_lookup_elem(fd, &key, per_cpu))
			continue;
		for (int c = 0; c < cpus; c++)
			*(key == SEC_STAT_EVENTS ? events : drops) += per_cpu[c];
	}
	free(per_cpu);
	return 0;
}

static void report(struct session *s)
{
	uint64_t events = 0, drops = 0;

	if (read_stats(s, &events, &drops))
		return;
	if (s->cli->json) {
		struct json *j = json_new(stdout);

		json_object_begin(j, NULL);
		json_object_begin(j, "summary");
		json_u64(j, "events", events);
		json_u64(j, "dropped", drops);
		json_object_end(j);
		json_object_end(j);
		json_free(j);
	} else {
		printf("%llu events, %llu dropped (ring buffer full)\n",
		       (unsigned long long)events, (unsigned long long)drops);
	}
}

static int run(const struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "duration", required_argument, NULL, 't' },
		{ "cgroup", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ 0 },
	};
	struct session s = { .cli = cli, .listener = -1 };
	const char *file = NULL, *cgroup = NULL, *socket_path = EVENTS_SOCKET;
	char root[4096];
	struct sluice_error err = { 0 };
	struct ring_buffer *rb = NULL;
	double duration = 0;
	struct live l;
	int opt, ret, fd = -1;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "f:", options, NULL)) != -1) {
		if (opt == 'f')
			file = optarg;
		else if (opt == 'c')
			cgroup = optarg;
		else if (opt == 's')
			socket_path = optarg;
		else if (opt == 't' && !live_parse_seconds(optarg, &duration))
			continue;
		else
			return cli_usage(cli, "security", "bad option");
	}
	if (!file || optind != argc)
		return cli_usage(cli, "security", "run takes -f RULES.yaml and options only");
	if (!cgroup && cgroup2_root(root, sizeof(root)))
		return cli_fail(cli, "no cgroup v2 hierarchy is mounted: give --cgroup PATH");
	if (!cgroup)
		cgroup = root;
	if (sec_policy_load(file, &s.policy, &err))
		return cli_fail(cli, "%s", err.msg);
	ret = start(&s, cgroup);
	for (size_t i = 0; !ret && i < sluice_kernel_map_count(s.obj); i++)
		if (!strcmp(sluice_kernel_map_name(s.obj, i), "sec_events"))
			fd = sluice_kernel_map_fd(s.obj, i, &err);
	if (!ret && (fd < 0 || !(rb = ring_buffer__new(fd, on_event, &s, NULL))))
		ret = cli_fail(cli, "cannot read the event ring buffer");
	if (!ret)
		ret = listen_for_readers(&s, socket_path, ring_buffer__epoll_fd(rb));
	if (!ret && live_begin(&l, duration))
		ret = cli_fail(cli, "cannot take over SIGINT and SIGTERM");
	if (!ret) {
		s.to_realtime = sec_monotonic_to_realtime();
		/* on stderr, so that a script knows when the rules are in force */
		fprintf(stderr, "sluice security: watching with policy %s (%zu rules, %zu hooks, "
			"connect hooks on %s, events also on %s); SIGINT or SIGTERM stops\n",
			s.policy->name, s.policy->nrules, s.natt, cgroup, socket_path);
		while ((ret = live_wait(&l, ring_buffer__epoll_fd(rb))) > 0) {
			accept_readers(&s);
			ring_buffer__consume(rb);
		}
		/* what arrived before the stop is still printed */
		ring_buffer__consume(rb);
		live_end(&l);
		if (ret < 0)
			ret = cli_fail(cli, "waiting for events: %s", strerror(-ret));
		else
			report(&s);
	}
	ring_buffer__free(rb);
	for (size_t i = 0; i < s.nreaders; i++)
		close(s.readers[i]);
	if (s.listener >= 0) {
		close(s.listener);
		unlink(socket_path);
	}
	stop(&s);
	sec_policy_free(s.policy);
	return ret;
}

static int check(const struct cli *cli, int argc, char **argv)
{
	struct sec_policy *p;
	struct sluice_error err = { 0 };

	if (argc != 3 || strcmp(argv[1], "-f"))
		return cli_usage(cli, "security", "check takes -f RULES.yaml");
	if (sec_policy_load(argv[2], &p, &err))
		return cli_fail(cli, "%s", err.msg);
	if (cli->json) {
		struct json *j = json_new(stdout);

		json_object_begin(j, NULL);
		json_string(j, "policy", p->name);
		json_array_begin(j, "rules");
		for (size_t i = 0; i < p->nrules; i++) {
			json_object_begin(j, NULL);
			json_string(j, "name", p->rules[i].name);
			json_string(j, "kind", sec_kind_name(p->rules[i].kind));
			json_string(j, "action", sec_action_name(p->rules[i].action));
			json_object_end(j);
		}
		json_array_end(j);
		json_object_end(j);
		json_free(j);
	} else {
		printf("policy %s: %zu rules\n", p->name, p->nrules);
		for (size_t i = 0; i < p->nrules; i++)
			printf("  %-24s %-8s %s\n", p->rules[i].name, sec_kind_name(p->rules[i].kind),
			       sec_action_name(p->rules[i].action));
	}
	sec_policy_free(p);
	return CLI_OK;
}

/* `sluice events [--socket PATH] [--duration S]`: a running `security run`'s events. */
int cmd_events(const struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "duration", required_argument, NULL, 't' },
		{ 0 },
	};
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	const char *path = EVENTS_SOCKET;
	struct sec_event_record rec;
	int64_t to_realtime = sec_monotonic_to_realtime();
	double duration = 0;
	struct live l;
	int opt, fd, ret;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		if (opt == 's')
			path = optarg;
		else if (opt == 't' && !live_parse_seconds(optarg, &duration))
			continue;
		else
			return cli_usage(cli, "events", "bad option");
	}
	if (optind != argc || strlen(path) >= sizeof(addr.sun_path))
		return cli_usage(cli, "events", "takes --socket PATH and --duration S only");
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		ret = cli_fail(cli, "%s: %s (is `sluice security run` running?)", path,
			       strerror(errno));
		if (fd >= 0)
			close(fd);
		return ret;
	}
	if (live_begin(&l, duration)) {
		close(fd);
		return cli_fail(cli, "cannot take over SIGINT and SIGTERM");
	}
	fprintf(stderr, "sluice events: reading %s; SIGINT or SIGTERM stops\n", path);
	while ((ret = live_wait(&l, fd)) > 0) {
		ssize_t n = recv(fd, &rec, sizeof(rec), 0);

		/* the security run ended */
		if (n == 0)
			break;
		if (n != (ssize_t)sizeof(rec))
			continue;
		rec.rule[sizeof(rec.rule) - 1] = '\0';
		sec_event_print(stdout, cli->json, rec.rule, &rec.ev, to_realtime);
	}
	live_end(&l);
	close(fd);
	return ret < 0 ? cli_fail(cli, "%s: %s", path, strerror(-ret)) : CLI_OK;
}

int cmd_security(const struct cli *cli, int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "run"))
		return run(cli, argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "check"))
		return check(cli, argc - 1, argv + 1);
	return cli_usage(cli, "security", "run or check?");
}
