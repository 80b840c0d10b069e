/* SPDX-License-Identifier: MIT */
/*
 * devmap, devmap_hash, cpumap and xskmap (src/maps/devmap.c) against the
 * kernel's: map creation checks, then one sequence of updates (every flag,
 * present and missing devices, queue sizes, past-the-end keys), deletes,
 * lookups and get_next_key walks applied to a kernel map and a Sluice map
 * alike, every result and errno compared.  Exit 77 when bpf() is refused.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include <sluice/kernel.h>
#include <sluice/maps.h>

#define SKIP 77
#define OPS 5000

static unsigned compared, mismatches;

static void check(bool same, const char *what, uint32_t type, unsigned op)
{
	compared++;
	if (!same && mismatches++ < 20)
		printf("MISMATCH %s %s at op %u\n", sluice_map_type_name(type), what, op);
}

static uint32_t lcg = 7;

static uint32_t next_rand(void)
{
	lcg = lcg * 1103515245u + 12345u;
	return lcg >> 8;
}

struct map_case {
	uint32_t type, value_size, max_entries, flags;
};

/* Both sides create the map, or both refuse it with the same errno. */
static int create_both(const struct map_case *c, int *fd, struct sluice_map **map)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = c->flags);
	struct sluice_map_attr attr = { .sz = sizeof(attr), .type = c->type, .key_size = 4,
					.value_size = c->value_size,
					.max_entries = c->max_entries, .map_flags = c->flags };
	int kerr;

	*fd = bpf_map_create(c->type, NULL, 4, c->value_size, c->max_entries, &opts);
	kerr = *fd < 0 ? errno : 0;
	*map = sluice_map_create(&attr, NULL);
	check((*map ? 0 : errno) == kerr, "create", c->type, 0);
	if (*fd >= 0 && *map)
		return 0;
	if (*fd >= 0)
		close(*fd);
	if (*map)
		sluice_map_close(*map);
	return -1;
}

static void run_ops(const struct map_case *c, int fd, struct sluice_map *map)
{
	static const uint32_t devices[] = { 0, 1, 99999 };
	static const uint32_t qsizes[] = { 0, 1, 64, 16385 };

	for (unsigned op = 0; op < OPS; op++) {
		uint32_t key = next_rand() % (c->max_entries + 3), value[2] = { 0, 0 };
		uint32_t kval[2] = { 0, 0 }, sval[2] = { 0, 0 }, knext = 0, snext = 0;
		uint64_t flags = next_rand() % 4;
		int kr, sr;

		value[0] = c->type == BPF_MAP_TYPE_CPUMAP ? qsizes[next_rand() % 4]
							  : devices[next_rand() % 3];
		switch (next_rand() % 4) {
		case 0:
			kr = bpf_map_update_elem(fd, &key, value, flags) ? -errno : 0;
			sr = sluice_map_update(map, &key, value, flags, NULL);
			check(kr == sr, "update", c->type, op);
			break;
		case 1:
			kr = bpf_map_delete_elem(fd, &key) ? -errno : 0;
			sr = sluice_map_delete(map, &key, NULL);
			check(kr == sr, "delete", c->type, op);
			break;
		case 2:
			kr = bpf_map_lookup_elem(fd, &key, kval) ? -errno : 0;
			sr = sluice_map_lookup(map, &key, sval, 0, NULL);
			check(kr == sr && !memcmp(kval, sval, sizeof(kval)), "lookup", c->type, op);
			break;
		default:
			kr = bpf_map_get_next_key(fd, key % 2 ? &key : NULL, &knext) ? -errno : 0;
			sr = sluice_map_get_next_key(map, key % 2 ? &key : NULL, &snext, NULL);
			check(kr == sr && knext == snext, "get_next_key", c->type, op);
			break;
		}
	}
}

int main(void)
{
	static const struct map_case cases[] = {
		{ BPF_MAP_TYPE_DEVMAP, 4, 8, 0 },
		{ BPF_MAP_TYPE_DEVMAP, 8, 8, 0 },
		{ BPF_MAP_TYPE_DEVMAP_HASH, 4, 6, 0 },
		{ BPF_MAP_TYPE_DEVMAP_HASH, 8, 16, 0 },
		{ BPF_MAP_TYPE_CPUMAP, 4, 4, 0 },
		{ BPF_MAP_TYPE_CPUMAP, 8, 2, 0 },
		{ BPF_MAP_TYPE_XSKMAP, 4, 4, 0 },
		/* refused at creation */
		{ BPF_MAP_TYPE_DEVMAP, 12, 8, 0 },
		{ BPF_MAP_TYPE_DEVMAP, 4, 0, 0 },
		{ BPF_MAP_TYPE_DEVMAP, 4, 8, BPF_F_MMAPABLE },
		{ BPF_MAP_TYPE_CPUMAP, 4, 4, BPF_F_RDONLY },
		{ BPF_MAP_TYPE_XSKMAP, 8, 4, 0 },
	};
	struct sluice_error err;

	if (sluice_kernel_probe(&err) < 0) {
		printf("SKIP: %s\n", err.msg);
		return SKIP;
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sluice_map *map;
		int fd;

		if (create_both(&cases[i], &fd, &map) < 0)
			continue;
		run_ops(&cases[i], fd, map);
		close(fd);
		sluice_map_close(map);
	}
	printf("%u results compared, %u mismatches\n", compared, mismatches);
	return mismatches ? 1 : 0;
}
