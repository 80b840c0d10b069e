/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE /* ppoll */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>

#include "live.h"

static volatile sig_atomic_t stop_requested;

static void request_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

int live_parse_seconds(const char *s, double *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	*out = strtod(s, &end);
	return *end || !(*out > 0) || *out > 1e9 ? -1 : 0;
}

int live_begin(struct live *l, double seconds)
{
	struct sigaction act = { .sa_handler = request_stop };
	sigset_t block;

	stop_requested = 0;
	l->timed = seconds > 0;
	if (l->timed) {
		clock_gettime(CLOCK_MONOTONIC, &l->deadline);
		l->deadline.tv_sec += (time_t)seconds;
		l->deadline.tv_nsec += (long)((seconds - (double)(time_t)seconds) * 1e9);
		if (l->deadline.tv_nsec >= 1000000000L) {
			l->deadline.tv_sec++;
			l->deadline.tv_nsec -= 1000000000L;
		}
	}
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &block, &l->saved_mask))
		return -errno;
	/* no SA_RESTART: ppoll returns at once with EINTR */
	sigemptyset(&act.sa_mask);
	if (sigaction(SIGINT, &act, &l->saved_int) || sigaction(SIGTERM, &act, &l->saved_term)) {
		int code = errno;

		sigprocmask(SIG_SETMASK, &l->saved_mask, NULL);
		return -code;
	}
	return 0;
}

/* Time left before the deadline; false when none is left. */
static bool time_left(const struct live *l, struct timespec *left)
{
	struct timespec now;
	int64_t ns;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (int64_t)(l->deadline.tv_sec - now.tv_sec) * 1000000000 +
	     (l->deadline.tv_nsec - now.tv_nsec);
	if (ns <= 0)
		return false;
	left->tv_sec = (time_t)(ns / 1000000000);
	left->tv_nsec = (long)(ns % 1000000000);
	return true;
}

bool live_stopped(struct live *l)
{
	struct timespec left;
	sigset_t pending;

	if (!stop_requested && !sigpending(&pending) &&
	    (sigismember(&pending, SIGINT) == 1 || sigismember(&pending, SIGTERM) == 1))
		stop_requested = 1;
	return stop_requested || (l->timed && !time_left(l, &left));
}

int live_wait(struct live *l, int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct timespec left;

	for (;;) {
		int ret;

		if (live_stopped(l) || (l->timed && !time_left(l, &left)))
			return 0;
		ret = ppoll(&pfd, fd >= 0, l->timed ? &left : NULL, &l->saved_mask);
		if (ret > 0)
			return 1;
		if (ret < 0 && errno != EINTR)
			return -errno;
	}
}

void live_end(struct live *l)
{
	/* a signal still pending reaches request_stop, harmlessly, before the old handlers return */
	sigprocmask(SIG_SETMASK, &l->saved_mask, NULL);
	sigaction(SIGINT, &l->saved_int, NULL);
	sigaction(SIGTERM, &l->saved_term, NULL);
}
