/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "echo.h"
#include "errmsg.h"
#include "reach.h"

enum step { CONNECTING, WAITING, DONE };

struct attempt {
	int fd;
	enum step step;
};

static const char request[] = "GET / HTTP/1.0\r\nHost: reach\r\n\r\n";

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A socket of the current namespace on its way to dst; DONE at once when refused. */
static void start(const struct k8s_reach_opts *o, const struct k8s_ip *dst, struct attempt *a)
{
	struct sockaddr_storage ss;
	socklen_t len = k8s_sockaddr_of(dst, o->port, &ss);
	int type = o->proto == IPPROTO_TCP ? SOCK_STREAM : SOCK_DGRAM;

	a->step = DONE;
	a->fd = socket(dst->family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (a->fd < 0)
		return;
	if (connect(a->fd, (struct sockaddr *)&ss, len) && errno != EINPROGRESS)
		return;
	if (o->proto == IPPROTO_UDP) {
		if (send(a->fd, "reach\n", 6, 0) == 6)
			a->step = WAITING;
		return;
	}
	a->step = CONNECTING;
}

/* One poll event: the next step, or DONE with *ok. */
static void advance(struct attempt *a, short revents, int proto, bool *ok)
{
	char buf[256];
	int soerr = 0;
	socklen_t len = sizeof(soerr);
	ssize_t n;

	if (a->step == CONNECTING) {
		if (getsockopt(a->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) || soerr ||
		    send(a->fd, request, sizeof(request) - 1, MSG_NOSIGNAL) !=
			    (ssize_t)(sizeof(request) - 1)) {
			a->step = DONE;
			return;
		}
		a->step = WAITING;
		return;
	}
	if (!(revents & (POLLIN | POLLERR | POLLHUP)))
		return;
	n = recv(a->fd, buf, sizeof(buf) - 1, 0);
	a->step = DONE;
	if (n <= 0)
		return;
	buf[n] = 0;
	*ok = proto == IPPROTO_UDP || !strncmp(buf, "HTTP/1.", 7);
}

static int enter(const char *netns, struct sluice_error *err)
{
	char path[512];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "/run/netns/%s", netns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sluice_fail(err, errno, "%s: %s", path, strerror(errno));
	if (setns(fd, CLONE_NEWNET))
		ret = sluice_fail(err, errno, "entering %s: %s", path, strerror(errno));
	close(fd);
	return ret;
}

int k8s_reach_run(const struct k8s_reach_opts *o, bool *reached, struct sluice_error *err)
{
	size_t n = o->n_src * o->n_dst, waiting;
	struct attempt *a = calloc(n ? n : 1, sizeof(*a));
	struct pollfd *p = calloc(n ? n : 1, sizeof(*p));
	int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), ret = 0;
	uint64_t deadline;

	if (!a || !p || home < 0) {
		ret = sluice_fail(err, errno ? errno : ENOMEM, "reach: %s", strerror(errno));
		goto out;
	}
	memset(reached, 0, n * sizeof(*reached));
	for (size_t i = 0; i < n; i++)
		a[i].fd = -1;
	for (size_t s = 0; s < o->n_src && !ret; s++) {
		if ((ret = enter(o->netns[s], err)))
			break;
		for (size_t d = 0; d < o->n_dst; d++)
			start(o, &o->dst[d], &a[s * o->n_dst + d]);
	}
	if (setns(home, CLONE_NEWNET) && !ret)
		ret = sluice_fail(err, errno, "back to the first namespace: %s", strerror(errno));
	deadline = now_ms() + (uint64_t)o->timeout_ms;
	while (!ret) {
		uint64_t t = now_ms();

		waiting = 0;
		for (size_t i = 0; i < n; i++) {
			if (a[i].step == DONE)
				continue;
			p[waiting].fd = a[i].fd;
			p[waiting].events = a[i].step == CONNECTING ? POLLOUT : POLLIN;
			p[waiting++].revents = 0;
		}
		if (!waiting || t >= deadline)
			break;
		if (poll(p, waiting, (int)(deadline - t)) < 0 && errno != EINTR) {
			ret = sluice_fail(err, errno, "poll: %s", strerror(errno));
			break;
		}
		for (size_t i = 0, k = 0; i < n; i++) {
			if (a[i].step == DONE)
				continue;
			if (p[k].revents)
				advance(&a[i], p[k].revents, o->proto, &reached[i]);
			k++;
		}
	}
out:
	for (size_t i = 0; a && i < n; i++)
		if (a[i].fd >= 0)
			close(a[i].fd);
	if (home >= 0)
		close(home);
	free(a);
	free(p);
	return ret;
}
