/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_CLI_EVENTS_H
#define SLUICE_CLI_EVENTS_H

#include <stdint.h>

#include "rtprog.h"

/*
 * `--events`: the records a program wrote to its ring buffers and perf event
 * arrays, drained after each packet and printed in hex.  (The maps' BTF
 * cannot say more: a ring buffer has no value type, and a perf event
 * array's value is a file descriptor, so a record's type is known only to
 * the program's source.)
 */
struct events;

/*
 * The object's ring buffers and perf event arrays (none is fine).  With j,
 * records become objects of the JSON array open there; otherwise lines on
 * standard output.  NULL when out of memory.
 */
struct events *events_new(const struct rtprog *p, struct json *j);
/* Print every record waiting, saying which packet produced it; the count. */
long events_drain(struct events *ev, uint64_t packet);
void events_free(struct events *ev);

#endif
