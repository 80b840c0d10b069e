/* SPDX-License-Identifier: MIT */
/*
 * map_holder: a process with live maps for the `sluice map` test to find,
 * as a running Sluice program would have.  It creates them, prints one line
 * per map ("NAME ID") and then "ready", and holds them until its stdin
 * closes.  The names end in the pid, so that holders never share a name.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/bpf.h>

#include <sluice/maps.h>

static struct sluice_map *make(const char *prefix, uint32_t type, uint32_t key,
			       uint32_t value, uint32_t max, uint32_t flags,
			       const struct sluice_map *inner)
{
	struct sluice_map_attr attr = {
		.sz = sizeof(attr), .type = type, .key_size = key, .value_size = value,
		.max_entries = max, .map_flags = flags, .inner_map = inner,
	};
	struct sluice_error err = { 0 };
	struct sluice_map_info info;
	struct sluice_map *map;
	char name[16];

	snprintf(name, sizeof(name), "%s%d", prefix, (int)getpid() % 100000);
	attr.name = name;
	map = sluice_map_create(&attr, &err);
	if (!map) {
		fprintf(stderr, "map_holder: %s\n", err.msg);
		return NULL;
	}
	sluice_map_get_info(map, &info);
	printf("%s %u\n", prefix, info.id);
	return map;
}

int main(void)
{
	struct sluice_map *maps[5];
	uint32_t k = 1;
	uint64_t v = 0x1122334455667788ull;
	char c;

	maps[0] = make("hash", BPF_MAP_TYPE_HASH, 4, 8, 64, 0, NULL);
	maps[1] = make("pcpu", BPF_MAP_TYPE_PERCPU_HASH, 4, 4, 8, 0, NULL);
	maps[2] = make("queue", BPF_MAP_TYPE_QUEUE, 0, 2, 4, 0, NULL);
	maps[3] = make("inner", BPF_MAP_TYPE_ARRAY, 4, 4, 2, 0, NULL);
	maps[4] = make("outer", BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 2, 0, maps[3]);
	for (int i = 0; i < 5; i++)
		if (!maps[i])
			return 1;
	if (sluice_map_update(maps[0], &k, &v, BPF_ANY, NULL))
		return 1;
	printf("ready\n");
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	for (int i = 4; i >= 0; i--)
		sluice_map_close(maps[i]);
	return 0;
}
