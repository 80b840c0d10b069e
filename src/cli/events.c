/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>

#include <linux/bpf.h>

#include <sluice/maps.h>
#include <sluice/object.h>

#include "events.h"
#include "json.h"

struct event_map {
	struct sluice_map *map;
	const char *name;
	uint32_t type;
};

struct events {
	struct event_map *maps;
	size_t count;
	struct json *j;
	uint64_t packet; /* the packet whose records are being drained */
	const struct event_map *draining;
};

struct events *events_new(const struct rtprog *p, struct json *j)
{
	size_t n = sluice_rt_map_count(p->rt);
	struct events *ev = calloc(1, sizeof(*ev));

	if (!ev || !(ev->maps = calloc(n ? n : 1, sizeof(*ev->maps)))) {
		free(ev);
		return NULL;
	}
	ev->j = j;
	for (size_t i = 0; i < n; i++) {
		const struct sluice_map_def *def = sluice_object_map(p->obj, i);
		struct sluice_map *map = sluice_rt_map(p->rt, i);

		if (map && (def->type == BPF_MAP_TYPE_RINGBUF ||
			    def->type == BPF_MAP_TYPE_PERF_EVENT_ARRAY))
			ev->maps[ev->count++] = (struct event_map){ map, def->name, def->type };
	}
	return ev;
}

static void print_record(struct events *ev, int cpu, const void *data, size_t size)
{
	const struct event_map *m = ev->draining;
	char *hex = malloc(2 * size + 1);

	if (!hex)
		return;
	hex_string(data, size, hex);
	if (ev->j) {
		json_object_begin(ev->j, NULL);
		json_u64(ev->j, "packet", ev->packet);
		json_string(ev->j, "map", m->name);
		if (cpu >= 0)
			json_u64(ev->j, "cpu", (uint64_t)cpu);
		json_u64(ev->j, "size", size);
		json_string(ev->j, "data", hex);
		json_object_end(ev->j);
	} else if (cpu >= 0) {
		printf("event packet %llu perf %s cpu %d %zu bytes: %s\n",
		       (unsigned long long)ev->packet, m->name, cpu, size, hex);
	} else {
		printf("event packet %llu ringbuf %s %zu bytes: %s\n",
		       (unsigned long long)ev->packet, m->name, size, hex);
	}
	free(hex);
}

static int ringbuf_record(void *ctx, void *data, size_t size)
{
	print_record(ctx, -1, data, size);
	return 0;
}

static int perf_record(void *ctx, unsigned slot, void *data, size_t size)
{
	print_record(ctx, (int)slot, data, size);
	return 0;
}

long events_drain(struct events *ev, uint64_t packet)
{
	long total = 0;

	ev->packet = packet;
	for (size_t i = 0; i < ev->count; i++) {
		long n;

		ev->draining = &ev->maps[i];
		if (ev->maps[i].type == BPF_MAP_TYPE_RINGBUF)
			n = sluice_ringbuf_consume(ev->maps[i].map, ringbuf_record, ev);
		else
			n = sluice_perf_event_consume(ev->maps[i].map, perf_record, ev);
		if (n > 0)
			total += n;
	}
	fflush(stdout); /* a reader of a live attach sees each record as it comes */
	return total;
}

void events_free(struct events *ev)
{
	if (!ev)
		return;
	free(ev->maps);
	free(ev);
}
