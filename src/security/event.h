/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_SECURITY_EVENT_H
#define SLUICE_SECURITY_EVENT_H

/*
 * One security event as one line: readable text, or a JSON object per line
 * (the same fields), for `sluice security run` and `sluice exec`.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "security/policy.h"

/* The offset from CLOCK_MONOTONIC (the events' clock) to CLOCK_REALTIME. */
int64_t sec_monotonic_to_realtime(void);

/* rule: the name of the rule ev->rule indexes. */
void sec_event_print(FILE *out, bool json, const char *rule, const struct sec_event *ev,
		     int64_t to_realtime);

/* What `sluice security run` sends to `sluice events`, one per SOCK_SEQPACKET message. */
struct sec_event_record {
	char rule[64];
	struct sec_event ev;
};

#endif
