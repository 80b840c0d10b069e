/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_CLI_RTPROG_H
#define SLUICE_CLI_RTPROG_H

#include <stdbool.h>
#include <stdint.h>

#include <sluice/runtime.h>

#include "cli.h"
#include "engine.h"

/*
 * What test-run, run --pcap and attach --userspace share: an object's
 * program in the user-space runtime, what its return value means for the
 * packet, and the maps it leaves behind.
 */
struct rtprog {
	const char *path;
	struct sluice_object *obj;
	struct sluice_rt *rt;
	struct sluice_rt_prog *prog;
	uint32_t type; /* enum bpf_prog_type */
};

/*
 * Open path and load all of its programs into the runtime (a tail call may
 * reach any of them, as when libbpf loads the object), on the engine eopts
 * names.  Reports its own failures; returns CLI_OK or the exit code.
 */
int rtprog_open(const struct cli *cli, const char *command, const char *path,
		const char *prog, const struct engine_opts *eopts, struct rtprog *out);
void rtprog_close(struct rtprog *p);

/*
 * Packets run through XDP, TC (sched_cls, sched_act) and socket filter
 * programs: CLI_OK for those, or a failure naming the program's type.
 */
int rtprog_require_packet_type(const struct cli *cli, const char *command,
			       const struct rtprog *p);

/* What becomes of the packet. */
enum verdict_action { VERDICT_DROP, VERDICT_PASS, VERDICT_TX, VERDICT_REDIRECT };

#define VERDICT_SLOTS 11

struct verdict {
	const char *name;   /* the type's name for the value: XDP_PASS, TC_ACT_SHOT, kept */
	enum verdict_action action;
	unsigned slot;      /* below VERDICT_SLOTS: where verdict_counts counts it */
};

/*
 * A return value of a program of a supported type, as the kernel takes it.
 * Socket filters keep the packet when they return non-zero.
 */
void verdict_of(uint32_t prog_type, uint32_t retval, struct verdict *v);

struct verdict_counts {
	uint32_t prog_type;
	uint64_t packets;
	uint64_t by_slot[VERDICT_SLOTS];
};

void verdict_count(struct verdict_counts *c, const struct verdict *v);
/* "XDP_DROP 3" lines in the order of the values, or a "verdicts" object under j. */
void verdict_counts_print(const struct verdict_counts *c, struct json *j);

/*
 * Each map of the runtime: type, entries and, for maps of at most a few
 * entries, their keys and values (each CPU's for per-CPU maps) as the
 * object's BTF describes them, else in hex.  A "maps" array under j, or
 * text.
 */
void map_summaries_print(const struct rtprog *p, struct json *j);

/* Bytes as lower-case hex without separators into out (2 * len + 1 bytes). */
void hex_string(const uint8_t *bytes, size_t len, char *out);

#endif
