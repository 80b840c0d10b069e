/* SPDX-License-Identifier: MIT */
/*
 * `sluice k8s echo` (the backends' server) and `sluice k8s probe` (the
 * client that tests, the demo and the benchmark send their flows with).
 * Both sides speak just enough HTTP/1.1 for curl: a request ends at its
 * blank line (no body), a response has a Content-Length.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "echo.h"
#include "errmsg.h"

#define MAX_CLIENTS 256
#define REQUEST_MAX 4096

struct client {
	int fd;
	size_t len;
	char buf[REQUEST_MAX];
};

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

/* A socket on [::]:port taking IPv4 too, or on 0.0.0.0 where IPv6 is off. */
static int bound_socket(int type, uint16_t port, struct sluice_error *err)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(port),
				   .sin6_addr = IN6ADDR_ANY_INIT };
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET6, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), off = 0, on = 1;
	bool v6 = fd >= 0;

	if (!v6)
		fd = socket(AF_INET, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return sluice_fail(err, errno, "socket: %s", strerror(errno));
	if (v6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if ((v6 ? bind(fd, (struct sockaddr *)&a6, sizeof(a6))
		: bind(fd, (struct sockaddr *)&a4, sizeof(a4))) ||
	    (type == SOCK_STREAM && listen(fd, 128))) {
		int e = errno;

		close(fd);
		return sluice_fail(err, e, "port %u: %s", port, strerror(e));
	}
	return fd;
}

static void reply(int fd, const char *name, bool keep)
{
	char resp[512];
	int n = snprintf(resp, sizeof(resp),
			 "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
			 "Connection: %s\r\n\r\n%s\n", strlen(name) + 1, keep ? "keep-alive" : "close",
			 name);

	/* a few hundred bytes fit in any socket buffer: one send is enough */
	if (send(fd, resp, (size_t)n, MSG_NOSIGNAL) < 0)
		return;
}

/* Answer the complete requests in c's buffer; false when c is to be closed. */
static bool serve_client(struct client *c, const char *name)
{
	ssize_t r = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, 0);
	char *end;

	if (r <= 0)
		return r < 0 && (errno == EAGAIN || errno == EINTR);
	c->len += (size_t)r;
	c->buf[c->len] = 0;
	while ((end = strstr(c->buf, "\r\n\r\n"))) {
		size_t used = (size_t)(end + 4 - c->buf);
		bool keep;

		*end = 0;
		/* HTTP/1.1 keeps the connection unless told otherwise; 1.0 closes it */
		keep = strstr(c->buf, "HTTP/1.1") && !strcasestr(c->buf, "connection: close");
		reply(c->fd, name, keep);
		if (!keep)
			return false;
		memmove(c->buf, c->buf + used, c->len - used + 1);
		c->len -= used;
	}
	return c->len < sizeof(c->buf) - 1; /* a request line too long: drop it */
}

int k8s_echo_run(const struct k8s_echo_opts *o, struct sluice_error *err)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct pollfd pfd[2 * K8S_ECHO_MAX_PORTS + MAX_CLIENTS];
	struct client *clients = calloc(MAX_CLIENTS, sizeof(*clients));
	size_t nl = 2 * o->n_ports, nc = 0;
	int ret = 0;

	if (!clients)
		return sluice_fail(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < o->n_ports; i++) {
		int t = bound_socket(SOCK_STREAM, o->ports[i], err);
		int u = t < 0 ? t : bound_socket(SOCK_DGRAM, o->ports[i], err);

		if (t < 0 || u < 0) {
			ret = t < 0 ? t : u;
			nl = 2 * i + (t >= 0);
			if (t >= 0)
				pfd[2 * i] = (struct pollfd){ .fd = t };
			goto out;
		}
		pfd[2 * i] = (struct pollfd){ .fd = t, .events = POLLIN };
		pfd[2 * i + 1] = (struct pollfd){ .fd = u, .events = POLLIN };
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (o->ready_fd >= 0) {
		if (write(o->ready_fd, "1", 1) != 1)
			ret = sluice_fail(err, errno, "ready fd: %s", strerror(errno));
		close(o->ready_fd);
	}
	while (!ret && !stopping) {
		if (poll(pfd, nl + nc, 1000) <= 0)
			continue;
		for (size_t i = 0; i < o->n_ports; i++) {
			struct pollfd *t = &pfd[2 * i], *u = &pfd[2 * i + 1];
			struct sockaddr_storage from;
			socklen_t flen = sizeof(from);
			char dgram[2048], answer[300];
			int fd;

			if ((t->revents & POLLIN) && nc < MAX_CLIENTS &&
			    (fd = accept4(t->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
				clients[nc] = (struct client){ .fd = fd };
				pfd[nl + nc] = (struct pollfd){ .fd = fd, .events = POLLIN };
				nc++;
			}
			if ((u->revents & POLLIN) &&
			    recvfrom(u->fd, dgram, sizeof(dgram), 0, (struct sockaddr *)&from, &flen) >= 0) {
				int n = snprintf(answer, sizeof(answer), "%s\n", o->name);

				sendto(u->fd, answer, (size_t)n, 0, (struct sockaddr *)&from, flen);
			}
		}
		for (size_t i = 0; i < nc; i++) {
			if (!pfd[nl + i].revents || serve_client(&clients[i], o->name))
				continue;
			close(clients[i].fd);
			/* the last client takes its place */
			nc--;
			clients[i] = clients[nc];
			pfd[nl + i] = pfd[nl + nc];
			pfd[nl + i].revents = 0;
			i--;
		}
	}
out:
	for (size_t i = 0; i < nc; i++)
		close(clients[i].fd);
	for (size_t i = 0; i < nl; i++)
		close(pfd[i].fd);
	free(clients);
	return ret;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int wait_for(int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r;

	while ((r = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
		;
	return r == 1 ? 0 : -ETIMEDOUT;
}

socklen_t k8s_sockaddr_of(const struct k8s_ip *ip, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (ip->family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		memcpy(&a->sin_addr, ip->addr, 4);
		return sizeof(*a);
	}
	struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

	a->sin6_family = AF_INET6;
	a->sin6_port = htons(port);
	memcpy(&a->sin6_addr, ip->addr, 16);
	return sizeof(*a);
}

/* Note a request's answer, and whether it is another backend than the flow's first. */
static void answered(struct k8s_probe_flow *f, size_t r, const char *backend)
{
	if (r && strcmp(f->backend, backend))
		f->switched = true;
	snprintf(f->backend, sizeof(f->backend), "%s", backend);
}

static void pause_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	while (ms > 0 && nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* The body of one HTTP response (up to its Content-Length), its last newline cut. */
static int read_response(int fd, int timeout_ms, char *body, size_t size)
{
	char buf[2048], *head_end, *cl;
	size_t len = 0, want = 0;

	for (;;) {
		ssize_t r;

		buf[len] = 0;
		head_end = strstr(buf, "\r\n\r\n");
		if (head_end) {
			cl = strcasestr(buf, "content-length:");
			want = cl ? strtoul(cl + 15, NULL, 10) : 0;
			if (len >= (size_t)(head_end + 4 - buf) + want)
				break;
		}
		if (len == sizeof(buf) - 1 || wait_for(fd, POLLIN, timeout_ms))
			return -EIO;
		r = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
		if (r <= 0)
			return -EIO;
		len += (size_t)r;
	}
	if (want >= size)
		want = size - 1;
	memcpy(body, head_end + 4, want);
	body[want] = 0;
	body[strcspn(body, "\r\n")] = 0;
	return strncmp(buf, "HTTP/1.", 7) ? -EIO : 0;
}

/* The socket of flow i, bound to its source port when the flows have fixed ones. */
static int flow_socket(const struct k8s_probe_opts *o, size_t i, int type)
{
	struct sockaddr_storage from;
	int fd = socket(o->addr.family, type | SOCK_CLOEXEC, 0), on = 1;

	if (fd < 0 || !o->sport_base)
		return fd < 0 ? -errno : fd;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&from,
		 k8s_sockaddr_of(&(struct k8s_ip){ .family = o->addr.family },
			     (uint16_t)(o->sport_base + i), &from))) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

static int probe_tcp(const struct k8s_probe_opts *o, size_t i, struct k8s_probe_flow *f)
{
	struct sockaddr_storage to;
	socklen_t tolen = k8s_sockaddr_of(&o->addr, o->port, &to);
	struct linger rst = { .l_onoff = 1, .l_linger = 0 };
	char got[64];
	int fd = flow_socket(o, i, SOCK_STREAM | SOCK_NONBLOCK);
	int soerr = 0, ret = -EIO;
	socklen_t len = sizeof(soerr);
	uint64_t t0, total = 0;

	if (fd < 0)
		return fd;
	t0 = now_ns();
	if (connect(fd, (struct sockaddr *)&to, tolen) && errno != EINPROGRESS)
		goto out;
	if (wait_for(fd, POLLOUT, o->timeout_ms) ||
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) || soerr) {
		f->error = soerr;
		goto out;
	}
	f->connect_ns = now_ns() - t0;
	for (size_t r = 0; r < o->requests; r++) {
		bool last = r + 1 == o->requests;
		char req[128];
		int n = snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: probe\r\n%s\r\n",
				 last ? "Connection: close\r\n" : "");

		if (r)
			pause_ms(o->interval_ms);
		t0 = now_ns();
		if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n ||
		    read_response(fd, o->timeout_ms, got, sizeof(got)))
			goto out;
		total += now_ns() - t0;
		answered(f, r, got);
	}
	f->request_ns = total / o->requests;
	ret = 0;
	if (o->fin) {
		/* our FIN, then the server's (it closes after the last answer) */
		shutdown(fd, SHUT_WR);
		while (!wait_for(fd, POLLIN, o->timeout_ms) && recv(fd, got, sizeof(got), 0) > 0)
			;
	}
out:
	/* unless asked for a FIN, a reset: no TIME_WAIT keeps the source port from the next run */
	if (!o->fin)
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst));
	close(fd);
	return ret;
}

static int probe_udp(const struct k8s_probe_opts *o, size_t i, struct k8s_probe_flow *f)
{
	struct sockaddr_storage to;
	socklen_t tolen = k8s_sockaddr_of(&o->addr, o->port, &to);
	int fd = flow_socket(o, i, SOCK_DGRAM), ret = -EIO;
	int dont_fragment = o->addr.family == AF_INET ? IP_PMTUDISC_DO : IPV6_PMTUDISC_DO;
	size_t size = o->size > 6 ? o->size : 6;
	char *dgram = calloc(1, size);
	uint64_t t0, total = 0;

	if (fd < 0 || !dgram) {
		free(dgram);
		return fd < 0 ? fd : -ENOMEM;
	}
	memcpy(dgram, "probe\n", 6);
	/* too big for the path: an ICMP error the stack must match to this socket, not fragments */
	if (o->size &&
	    setsockopt(fd, o->addr.family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6,
		       o->addr.family == AF_INET ? IP_MTU_DISCOVER : IPV6_MTU_DISCOVER,
		       &dont_fragment, sizeof(dont_fragment)))
		goto out;
	/* connected: only the service's address may answer (so the reverse NAT is checked) */
	if (connect(fd, (struct sockaddr *)&to, tolen))
		goto out;
	for (size_t r = 0; r < o->requests; r++) {
		char got[64];
		ssize_t n;

		if (r)
			pause_ms(o->interval_ms);
		t0 = now_ns();
		if (send(fd, dgram, size, 0) != (ssize_t)size) {
			f->error = errno;
			goto out;
		}
		if (wait_for(fd, POLLIN, o->timeout_ms))
			goto out;
		n = recv(fd, got, sizeof(got) - 1, 0);
		if (n <= 0) {
			/* an ICMP error, matched to this connected socket */
			f->error = n < 0 ? errno : 0;
			goto out;
		}
		got[n] = 0;
		got[strcspn(got, "\r\n")] = 0;
		total += now_ns() - t0;
		answered(f, r, got);
	}
	f->request_ns = total / o->requests;
	ret = 0;
out:
	free(dgram);
	close(fd);
	return ret;
}

int k8s_probe_run(const struct k8s_probe_opts *o, struct k8s_probe_flow *flows, size_t *failed,
		  struct sluice_error *err)
{
	*failed = 0;
	if (!o->requests || (o->sport_base && o->sport_base + o->flows > 65536))
		return sluice_fail(err, EINVAL, "probe: bad flow count or source ports");
	for (size_t i = 0; i < o->flows; i++) {
		int ret;

		memset(&flows[i], 0, sizeof(flows[i]));
		ret = o->proto == IPPROTO_UDP ? probe_udp(o, i, &flows[i])
					      : probe_tcp(o, i, &flows[i]);
		if (ret) {
			flows[i].backend[0] = 0;
			++*failed;
		}
	}
	return 0;
}
