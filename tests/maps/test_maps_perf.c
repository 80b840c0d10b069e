/* SPDX-License-Identifier: MIT */
/*
 * Perf event arrays: records land in the slot the flags pick (or the
 * current CPU's), in perf's sample layout with the raw size padded; a full
 * slot drops records and counts them lost.
 */
#include "maps_test.h"

struct got {
	int n;
	unsigned slots[4];
	size_t sizes[4];
	uint8_t bytes[4][16];
};

static int sample(void *ctx, unsigned slot, void *data, size_t size)
{
	struct got *g = ctx;

	if (g->n < 4) {
		g->slots[g->n] = slot;
		g->sizes[g->n] = size;
		memcpy(g->bytes[g->n], data, size < 16 ? size : 16);
	}
	g->n++;
	return 0;
}

static void test_output_and_consume(void **state)
{
	struct sluice_map *map = make_map(BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 4, 0);
	struct got g = { 0 };

	(void)state;
	assert_int_equal(sluice_perf_event_output(map, 2, 0, "hello", 5), 0);
	assert_int_equal(sluice_perf_event_output(map, BPF_F_CURRENT_CPU, 1, "ab", 2), 0);
	assert_int_equal(sluice_perf_event_output(map, 4, 0, "x", 1), -E2BIG);
	assert_int_equal(sluice_perf_event_output(map, BPF_F_CURRENT_CPU, 9, "x", 1), -E2BIG);
	assert_int_equal(sluice_perf_event_output(map, 1ull << 40, 0, "x", 1), -EINVAL);
	assert_int_equal(sluice_perf_event_consume(map, sample, &g), 2);
	/* slot by slot; raw data padded so that its u32 size and it fill 8-byte words */
	assert_int_equal(g.slots[0], 1);
	assert_int_equal(g.sizes[0], 4);
	assert_memory_equal(g.bytes[0], "ab\0\0", 4);
	assert_int_equal(g.slots[1], 2);
	assert_int_equal(g.sizes[1], 12);
	assert_memory_equal(g.bytes[1], "hello\0\0\0\0\0\0\0", 12);
	assert_int_equal(sluice_perf_event_consume(map, sample, &g), 0);
	sluice_map_close(map);
}

static void test_lost_and_wrap(void **state)
{
	struct sluice_map *map = make_map(BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 1, 0);
	static uint8_t big[3000];
	struct got g = { 0 };
	int stored = 0;

	(void)state;
	while (sluice_perf_event_output(map, 0, 0, big, sizeof(big)) == 0)
		stored++;
	assert_int_equal(stored, (64 << 10) / 3016);
	assert_int_equal(sluice_perf_event_output(map, 0, 0, big, sizeof(big)), -ENOSPC);
	assert_int_equal(sluice_perf_event_lost(map, 0), 2);
	assert_int_equal(sluice_perf_event_output(map, 0, 0, big, 70000), -E2BIG);
	assert_int_equal(sluice_perf_event_consume(map, sample, &g), stored);
	/* the next ones go round the end of the ring, and come back whole */
	for (int i = 0; i < 30; i++) {
		big[0] = (uint8_t)i;
		assert_int_equal(sluice_perf_event_output(map, 0, 0, big, sizeof(big)), 0);
		g.n = 0;
		assert_int_equal(sluice_perf_event_consume(map, sample, &g), 1);
		assert_int_equal(g.sizes[0], 3004);
		assert_int_equal(g.bytes[0][0], (uint8_t)i);
	}
	sluice_map_close(map);
}

static void test_bpf_side(void **state)
{
	struct sluice_map *map = make_map(BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 4, 2, 0);
	uint32_t key = 1, next, v;

	(void)state;
	assert_int_equal(sluice_map_get_next_key(map, &key, &next, NULL), -ENOENT);
	assert_int_equal(sluice_map_get_next_key(map, NULL, &next, NULL), 0);
	assert_int_equal(next, 0);
	assert_int_equal(sluice_map_lookup(map, &key, &v, 0, NULL), -SLUICE_ENOTSUPP);
	assert_int_equal(sluice_map_delete(map, &key, NULL), -ENOENT);
	key = 2;
	assert_int_equal(sluice_map_delete(map, &key, NULL), -E2BIG);
	sluice_map_close(map);
	assert_int_equal(create_errno(BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, 8, 2, 0), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_output_and_consume),
		cmocka_unit_test(test_lost_and_wrap),
		cmocka_unit_test(test_bpf_side),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
