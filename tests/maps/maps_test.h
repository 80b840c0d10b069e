/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_TESTS_MAPS_TEST_H
#define SLUICE_TESTS_MAPS_TEST_H

/* What the map unit tests share: cmocka, and making a map that must work. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <linux/bpf.h>

#include <sluice/maps.h>

static inline struct sluice_map *make_map_attr(struct sluice_map_attr *attr)
{
	struct sluice_error err = { 0 };
	struct sluice_map *map;

	attr->sz = sizeof(*attr);
	map = sluice_map_create(attr, &err);
	if (!map)
		fail_msg("sluice_map_create: %s", err.msg);
	return map;
}

static inline struct sluice_map *make_map(uint32_t type, uint32_t key_size,
					  uint32_t value_size, uint32_t max_entries,
					  uint32_t flags)
{
	struct sluice_map_attr attr = {
		.type = type, .key_size = key_size, .value_size = value_size,
		.max_entries = max_entries, .map_flags = flags, .name = "test",
	};

	return make_map_attr(&attr);
}

/* The errno sluice_map_create gives (0 when it creates the map). */
static inline int create_errno(uint32_t type, uint32_t key_size, uint32_t value_size,
			       uint32_t max_entries, uint32_t flags)
{
	struct sluice_map_attr attr = {
		.sz = sizeof(attr), .type = type, .key_size = key_size,
		.value_size = value_size, .max_entries = max_entries, .map_flags = flags,
	};
	struct sluice_error err = { 0 };
	struct sluice_map *map = sluice_map_create(&attr, &err);

	if (!map) {
		assert_true(err.msg[0] != 0); /* every refusal says why */
		return -err.code;
	}
	sluice_map_close(map);
	return 0;
}

static inline uint32_t ncpus(void)
{
	int n = sluice_num_possible_cpus();

	assert_true(n > 0);
	return (uint32_t)n;
}

#endif
