/* SPDX-License-Identifier: MIT */
/*
 * The seccomp user-notification supervisor behind `sluice exec`.
 *
 * The caller's arguments are read from its memory (process_vm_readv) while
 * it waits in the kernel.  That is a check, not a boundary: another thread
 * of the caller, or a process sharing its memory, can change a path after
 * it was read and before the kernel reads it again to carry the call out
 * (seccomp_unotify(2), "Design goals; use of SECCOMP_USER_NOTIF_FLAG_CONTINUE").
 * SECCOMP_IOCTL_NOTIF_ID_VALID after reading makes sure the caller is still
 * the one that asked, so a recycled pid is never read in its place.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <linux/unistd.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "errmsg.h"
#include "security/matcher.h"
#include "security/supervisor.h"

#define WRITE_FLAGS (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND)

/* A NUL-terminated string of the caller's, page by page (no read crosses a page). */
static int read_str(pid_t pid, uint64_t addr, char *buf, size_t size)
{
	size_t got = 0;
	long page = sysconf(_SC_PAGESIZE);

	while (got + 1 < size) {
		size_t chunk = (size_t)page - ((addr + got) % (size_t)page);
		struct iovec local, remote;
		ssize_t n;

		if (chunk > size - 1 - got)
			chunk = size - 1 - got;
		local = (struct iovec){ buf + got, chunk };
		remote = (struct iovec){ (void *)(uintptr_t)(addr + got), chunk };
		n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
		if (n <= 0)
			return -1;
		if (memchr(buf + got, '\0', (size_t)n))
			return 0;
		got += (size_t)n;
	}
	buf[size - 1] = '\0';
	return 0;
}

static int read_mem(pid_t pid, uint64_t addr, void *buf, size_t size)
{
	struct iovec local = { buf, size }, remote = { (void *)(uintptr_t)addr, size };

	return process_vm_readv(pid, &local, 1, &remote, 1, 0) == (ssize_t)size ? 0 : -1;
}

/* "/a/./b//c/../d" as "/a/b/d", in place: lexically, symbolic links are not followed. */
static void normalise(char *path)
{
	char *out = path, *in = path;

	while (*in) {
		char *end;
		size_t len;

		while (*in == '/')
			in++;
		end = strchrnul(in, '/');
		len = (size_t)(end - in);
		if (len == 1 && in[0] == '.') {
			/* nothing */
		} else if (len == 2 && in[0] == '.' && in[1] == '.') {
			while (out > path && *--out != '/')
				;
		} else if (len) {
			*out++ = '/';
			memmove(out, in, len);
			out += len;
		}
		in = end;
	}
	if (out == path)
		*out++ = '/';
	*out = '\0';
}

/* A path the caller named, made absolute from its cwd or dirfd, into an LPM key. */
static void read_path(pid_t pid, int dirfd, uint64_t addr, struct sec_path_key *key)
{
	char path[PATH_MAX], base[PATH_MAX], link[64];
	ssize_t n = -1;
	size_t len;

	key->prefixlen = 0;
	memset(key->str, 0, sizeof(key->str));
	if (read_str(pid, addr, path, sizeof(path)))
		return;
	if (path[0] != '/') {
		if (dirfd == AT_FDCWD)
			snprintf(link, sizeof(link), "/proc/%d/cwd", pid);
		else
			snprintf(link, sizeof(link), "/proc/%d/fd/%d", pid, dirfd);
		n = readlink(link, base, sizeof(base) - 1);
	}
	if (n > 0) {
		char full[2 * PATH_MAX];

		base[n] = '\0';
		snprintf(full, sizeof(full), "%s/%s", strcmp(base, "/") ? base : "", path);
		memcpy(path, full, sizeof(path) - 1);
		path[sizeof(path) - 1] = '\0';
		normalise(path);
	}
	/* longer paths are compared by their first bytes, as the kernel side does */
	len = strnlen(path, sizeof(key->str) - 1);
	memcpy(key->str, path, len);
	key->prefixlen = (uint32_t)(len + 1) * 8;
}

/* What /proc says of the caller: its process, parent, user, name and binary. */
static void identify(pid_t tid, struct sec_event *ev)
{
	char file[64], line[256];
	ssize_t n;
	FILE *f;

	ev->pid = (uint32_t)tid;
	ev->tgid = (uint32_t)tid;
	snprintf(file, sizeof(file), "/proc/%d/status", tid);
	f = fopen(file, "r");
	while (f && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "Name:\t", 6))
			snprintf(ev->comm, sizeof(ev->comm), "%.*s", (int)strcspn(line + 6, "\n"),
				 line + 6);
		sscanf(line, "Tgid: %u", &ev->tgid);
		sscanf(line, "PPid: %u", &ev->ppid);
		sscanf(line, "Uid: %u", &ev->uid);
	}
	if (f)
		fclose(f);
	snprintf(file, sizeof(file), "/proc/%d/exe", tid);
	n = readlink(file, ev->binary, sizeof(ev->binary) - 1);
	ev->binary[n > 0 ? n : 0] = '\0';
}

/* The parent process of a thread, from /proc/PID/stat ("pid (comm) state ppid ..."). */
static unsigned parent_of(pid_t tid)
{
	char file[64], buf[512], *close_paren;
	unsigned ppid = 0;
	ssize_t n;
	int fd;

	snprintf(file, sizeof(file), "/proc/%d/stat", tid);
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* the name may hold spaces and parentheses: the last ')' ends it */
	close_paren = strrchr(buf, ')');
	if (close_paren)
		sscanf(close_paren + 1, " %*c %u", &ppid);
	return ppid;
}

static void query_exec(pid_t pid, int dirfd, uint64_t path, uint64_t argv,
		       struct sec_query *q)
{
	char link[64];
	ssize_t n;

	q->kind = SEC_KIND_EXEC;
	read_path(pid, dirfd, path, &q->path);
	/* the new image's parent is the caller's parent, as sched_process_exec sees it */
	snprintf(link, sizeof(link), "/proc/%u/exe", parent_of(pid));
	memset(q->parent.str, 0, sizeof(q->parent.str));
	n = readlink(link, q->parent.str, sizeof(q->parent.str) - 1);
	q->parent.prefixlen = n > 0 ? (uint32_t)(n + 1) * 8 : 0;
	memset(q->args, 0, sizeof(q->args));
	for (uint32_t i = 0; i < SEC_ARGS_MAX; i++) {
		uint64_t arg;

		/* argv[0] is the name the program is called by, not an argument */
		if (read_mem(pid, argv + 8 * (i + 1), &arg, sizeof(arg)) || !arg ||
		    read_str(pid, arg, q->args[i], SEC_ARG_MAX))
			break;
		q->nargs = i + 1;
	}
}

static void query_connect(pid_t pid, int fd, uint64_t addr, uint64_t len, struct sec_query *q)
{
	struct sockaddr_in6 sa = { 0 };
	int pidfd, sock, proto = 0;
	socklen_t plen = sizeof(proto);

	q->kind = SEC_KIND_CONNECT;
	if (read_mem(pid, addr, &sa, len < sizeof(sa) ? len : sizeof(sa)))
		return;
	q->family = sa.sin6_family;
	q->port = ntohs(sa.sin6_port);
	if (sa.sin6_family == AF_INET)
		memcpy(q->addr, &((struct sockaddr_in *)&sa)->sin_addr, 4);
	else
		memcpy(q->addr, &sa.sin6_addr, 16);
	/* the protocol is the socket's: look at a copy of the caller's descriptor */
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	sock = pidfd >= 0 ? (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0) : -1;
	if (sock >= 0 && !getsockopt(sock, SOL_SOCKET, SO_PROTOCOL, &proto, &plen))
		q->proto = proto == IPPROTO_TCP ? SEC_PROTO_TCP
			 : proto == IPPROTO_UDP ? SEC_PROTO_UDP : 0;
	if (sock >= 0)
		close(sock);
	if (pidfd >= 0)
		close(pidfd);
}

/* The query for a notification; false for calls no rule can be about (a unix socket). */
static bool build_query(const struct seccomp_notif *req, struct sec_event *ev)
{
	const __u64 *a = req->data.args;
	struct sec_query *q = &ev->q;
	pid_t pid = (pid_t)req->pid;
	struct open_how how = { 0 };
	struct msghdr msg;

	memset(q, 0, sizeof(*q));
	switch (req->data.nr) {
	case SYS_execve:
		query_exec(pid, AT_FDCWD, a[0], a[1], q);
		return true;
	case SYS_execveat:
		query_exec(pid, (int)a[0], a[1], a[2], q);
		return true;
	case SYS_open:
		q->kind = SEC_KIND_FILE;
		read_path(pid, AT_FDCWD, a[0], &q->path);
		q->write = (a[1] & WRITE_FLAGS) != 0;
		return true;
	case SYS_openat:
		q->kind = SEC_KIND_FILE;
		read_path(pid, (int)a[0], a[1], &q->path);
		q->write = (a[2] & WRITE_FLAGS) != 0;
		return true;
	case SYS_openat2:
		q->kind = SEC_KIND_FILE;
		read_path(pid, (int)a[0], a[1], &q->path);
		read_mem(pid, a[2], &how, a[3] < sizeof(how) ? a[3] : sizeof(how));
		q->write = (how.flags & WRITE_FLAGS) != 0;
		return true;
	case SYS_connect:
		query_connect(pid, (int)a[0], a[1], a[2], q);
		return q->family == AF_INET || q->family == AF_INET6;
	case SYS_sendto:
		/* without an address the socket is connected: its connect was decided */
		if (!a[4])
			return false;
		query_connect(pid, (int)a[0], a[4], a[5], q);
		return q->family == AF_INET || q->family == AF_INET6;
	case SYS_sendmsg:
		if (read_mem(pid, a[1], &msg, sizeof(msg)) || !msg.msg_name)
			return false;
		query_connect(pid, (int)a[0], (uintptr_t)msg.msg_name, msg.msg_namelen, q);
		return q->family == AF_INET || q->family == AF_INET6;
	default:
		return false;
	}
}

/* The filter: the calls above go to the supervisor, everything else runs. */
static int install_filter(void)
{
	static const int trapped[] = { SYS_execve, SYS_execveat, SYS_open, SYS_openat,
				       SYS_openat2, SYS_connect, SYS_sendto, SYS_sendmsg };
	enum { N = sizeof(trapped) / sizeof(trapped[0]) };
	struct sock_filter insns[6 + N + 2];
	struct sock_fprog prog = { .len = sizeof(insns) / sizeof(insns[0]), .filter = insns };
	size_t i = 0;

	insns[i++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						  offsetof(struct seccomp_data, arch));
	insns[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	insns[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	insns[i++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						  offsetof(struct seccomp_data, nr));
	/* x32 calls have numbers of their own: none of them passes unseen */
	insns[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, __X32_SYSCALL_BIT, 0, 1);
	insns[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	for (size_t k = 0; k < N; k++)
		insns[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
							  (uint32_t)trapped[k],
							  (uint8_t)(N - k), 0);
	insns[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	insns[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
			    SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
}

/*
 * The listener crosses to the supervisor by number and pidfd_getfd: the
 * child cannot send it with SCM_RIGHTS, sendmsg being one of the calls its
 * own filter hands to the supervisor that does not have the listener yet.
 */
static int take_listener(int sock, pid_t child)
{
	int number, pidfd, fd;

	if (read(sock, &number, sizeof(number)) != (ssize_t)sizeof(number))
		return -1;
	pidfd = (int)syscall(SYS_pidfd_open, child, 0);
	if (pidfd < 0)
		return -1;
	fd = (int)syscall(SYS_pidfd_getfd, pidfd, number, 0);
	close(pidfd);
	return fd;
}

static void run_child(int sock, char *const argv[])
{
	int listener = install_filter();
	char status = 0;

	if (listener < 0 || write(sock, &listener, sizeof(listener)) != (ssize_t)sizeof(listener)) {
		fprintf(stderr, "sluice exec: cannot install the seccomp filter: %s\n",
			strerror(errno));
		_exit(126);
	}
	/* wait until the supervisor holds the listener, or the exec would wait on no one */
	if (read(sock, &status, 1) != 1)
		_exit(126);
	close(listener);
	close(sock);
	execvp(argv[0], argv);
	fprintf(stderr, "sluice exec: %s: %s\n", argv[0], strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

/* Decide one notification and answer it. */
static int handle(int listener, struct sec_matcher *m, const struct sec_supervisor_opts *o,
		  struct seccomp_notif *req, struct seccomp_notif_resp *resp,
		  struct sluice_error *err)
{
	struct sec_event ev = { 0 };
	uint32_t verdict = 0, action;
	struct timespec now;
	int ret;

	memset(resp, 0, sizeof(*resp));
	resp->id = req->id;
	resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	if (build_query(req, &ev)) {
		ret = sec_matcher_decide(m, &ev.q, &verdict, err);
		if (ret)
			return ret;
	}
	/* the memory read belonged to the caller only if it is still waiting */
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id))
		return 0;
	action = SEC_VERDICT_ACTION(verdict);
	/* /proc is read only for what is reported: most calls match nothing */
	if (verdict)
		identify((pid_t)req->pid, &ev);
	if (action >= SEC_ACTION_DENY) {
		resp->flags = 0;
		resp->error = ev.q.kind == SEC_KIND_CONNECT ? -EPERM : -EACCES;
		ev.taken = SEC_TAKEN_DENIED;
	} else if (verdict) {
		ev.taken = SEC_TAKEN_LOGGED;
	}
	if (action == SEC_ACTION_KILL) {
		kill((pid_t)ev.tgid, SIGKILL);
		ev.taken = SEC_TAKEN_KILLED;
	}
	/* reported before the caller goes on, so the event comes before what it prints */
	if (verdict && o->on_event) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		ev.time_ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
		ev.rule = (uint16_t)SEC_VERDICT_RULE(verdict);
		ev.action = (uint8_t)action;
		o->on_event(o->ctx, &ev);
	}
	/* a caller killed meanwhile can no longer be answered: nothing is lost */
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp) && errno != ENOENT)
		return sluice_fail(err, errno, "SECCOMP_IOCTL_NOTIF_SEND: %s", strerror(errno));
	return 0;
}

static int serve(int listener, struct sec_matcher *m, const struct sec_supervisor_opts *o,
		 struct sluice_error *err)
{
	struct seccomp_notif_sizes sizes;
	struct seccomp_notif *req;
	struct seccomp_notif_resp *resp;
	int ret = 0;

	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes))
		return sluice_fail(err, errno, "SECCOMP_GET_NOTIF_SIZES: %s", strerror(errno));
	req = calloc(1, sizes.seccomp_notif > sizeof(*req) ? sizes.seccomp_notif : sizeof(*req));
	resp = calloc(1, sizes.seccomp_notif_resp > sizeof(*resp) ? sizes.seccomp_notif_resp
								  : sizeof(*resp));
	if (!req || !resp) {
		free(req);
		free(resp);
		return sluice_fail(err, ENOMEM, "out of memory");
	}
	for (;;) {
		struct pollfd p = { .fd = listener, .events = POLLIN };

		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			ret = sluice_fail(err, errno, "poll: %s", strerror(errno));
			break;
		}
		/* every process under the filter has exited */
		if (p.revents & (POLLHUP | POLLERR) && !(p.revents & POLLIN))
			break;
		memset(req, 0, sizes.seccomp_notif);
		if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req)) {
			/* the caller died before we took its call */
			if (errno == EINTR || errno == ENOENT)
				continue;
			ret = sluice_fail(err, errno, "SECCOMP_IOCTL_NOTIF_RECV: %s",
					  strerror(errno));
			break;
		}
		ret = handle(listener, m, o, req, resp, err);
		if (ret)
			break;
	}
	free(req);
	free(resp);
	return ret;
}

int sec_supervise(char *const argv[], const struct sec_supervisor_opts *o, int *status,
		  struct sluice_error *err)
{
	struct sigaction ignore = { .sa_handler = SIG_IGN }, saved_int, saved_quit;
	struct sec_matcher *m;
	int sv[2], listener, ret;
	pid_t child;

	if (!o || o->sz < sizeof(*o))
		return sluice_fail(err, EINVAL, "struct sec_supervisor_opts of unknown size");
	m = sec_matcher_open(o->matcher, o->policy, o->engine, err);
	if (!m)
		return -errno;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		sec_matcher_close(m);
		return sluice_fail(err, errno, "socketpair: %s", strerror(errno));
	}
	child = fork();
	if (child < 0) {
		ret = sluice_fail(err, errno, "fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		sec_matcher_close(m);
		return ret;
	}
	if (child == 0) {
		close(sv[0]);
		run_child(sv[1], argv);
	}
	close(sv[1]);
	/* as system(3) does: Ctrl-C is for the command, which keeps its supervisor */
	sigaction(SIGINT, &ignore, &saved_int);
	sigaction(SIGQUIT, &ignore, &saved_quit);
	listener = take_listener(sv[0], child);
	if (listener >= 0 && write(sv[0], "", 1) == 1)
		ret = serve(listener, m, o, err);
	else
		ret = sluice_fail(err, EIO, "the command could not hand over its seccomp listener");
	close(sv[0]);
	if (listener >= 0)
		close(listener);
	while (waitpid(child, status, 0) < 0 && errno == EINTR)
		;
	sigaction(SIGINT, &saved_int, NULL);
	sigaction(SIGQUIT, &saved_quit, NULL);
	sec_matcher_close(m);
	return ret;
}
