/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_CLI_LIVE_H
#define SLUICE_CLI_LIVE_H

#include <signal.h>
#include <stdbool.h>
#include <time.h>

/*
 * Commands that run until SIGINT or SIGTERM, or for a given time (attach,
 * trace).  The two signals stay blocked except inside live_wait, so one
 * that arrives while a packet is being handled is not lost between a check
 * and the next wait; live_stopped also sees one that is pending.
 */
struct live {
	sigset_t saved_mask;
	struct sigaction saved_int, saved_term;
	bool timed;
	struct timespec deadline; /* CLOCK_MONOTONIC */
};

/* A --duration: positive seconds, fractions allowed; 0, or -1 when s is not one. */
int live_parse_seconds(const char *s, double *out);

/* seconds 0: no time limit.  -errno when the signals cannot be taken over. */
int live_begin(struct live *l, double seconds);
/* A stop was asked for, or the time is up. */
bool live_stopped(struct live *l);
/*
 * Sleep until fd is readable (fd < 0: until a stop): 1 when readable, 0 when
 * it is time to stop, -errno on failure.
 */
int live_wait(struct live *l, int fd);
/* Give the signals back as they were. */
void live_end(struct live *l);

#endif
