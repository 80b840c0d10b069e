/* SPDX-License-Identifier: MIT */
/*
 * LRU hash maps: an insert into a full map evicts the least recently used
 * element, where "used" is created, updated, or looked up by a program
 * (not by bpf(2) lookups, as in the kernel); the per-CPU flavour; and the
 * create rules (always preallocated, NO_COMMON_LRU rounding).
 */
#include "maps_test.h"

static void put(struct sluice_map *map, uint32_t k)
{
	uint64_t v = k * 10;

	assert_int_equal(sluice_map_update(map, &k, &v, BPF_ANY, NULL), 0);
}

static bool has(struct sluice_map *map, uint32_t k)
{
	uint64_t v;

	return sluice_map_lookup(map, &k, &v, 0, NULL) == 0;
}

static void test_evicts_least_recent(void **state)
{
	struct sluice_map *map = make_map(BPF_MAP_TYPE_LRU_HASH, 4, 8, 4, 0);
	struct sluice_map_info info;
	uint32_t k;

	(void)state;
	for (k = 1; k <= 4; k++)
		put(map, k);
	/* a program uses 1, bpf(2) looks at 2 (which does not count), 3 is updated */
	k = 1;
	assert_non_null(sluice_map_elem_lookup(map, &k, 0));
	assert_true(has(map, 2));
	put(map, 3);
	/* so 2 is the least recently used, then 4 */
	put(map, 5);
	assert_false(has(map, 2));
	put(map, 6);
	assert_false(has(map, 4));
	assert_true(has(map, 1));
	assert_true(has(map, 3));
	assert_true(has(map, 5));
	assert_true(has(map, 6));
	sluice_map_get_info(map, &info);
	assert_int_equal(info.entries, 4);
	sluice_map_close(map);
}

/* No eviction unless an insert needs room; flags fail before that. */
static void test_no_needless_eviction(void **state)
{
	struct sluice_map *map = make_map(BPF_MAP_TYPE_LRU_HASH, 4, 8, 2, 0);
	uint64_t v = 1;
	uint32_t k;

	(void)state;
	put(map, 1);
	put(map, 2);
	k = 2;
	assert_int_equal(sluice_map_update(map, &k, &v, BPF_NOEXIST, NULL), -EEXIST);
	assert_int_equal(sluice_map_update(map, &k, &v, BPF_F_LOCK, NULL), -EINVAL);
	k = 9;
	assert_int_equal(sluice_map_update(map, &k, &v, BPF_EXIST, NULL), -ENOENT);
	assert_true(has(map, 1));
	assert_true(has(map, 2));
	/* a delete makes room: the next insert evicts nothing */
	k = 1;
	assert_int_equal(sluice_map_delete(map, &k, NULL), 0);
	put(map, 3);
	assert_true(has(map, 2));
	assert_true(has(map, 3));
	/* programs insert and evict too */
	k = 4;
	assert_int_equal(sluice_map_elem_update(map, &k, &v, BPF_ANY, 0), 0);
	assert_false(has(map, 2));
	sluice_map_close(map);
}

static void test_percpu_lru(void **state)
{
	uint32_t n = ncpus();
	struct sluice_map *map = make_map(BPF_MAP_TYPE_LRU_PERCPU_HASH, 4, 4, 2, 0);
	uint8_t *all = calloc(n, 8);
	uint32_t k, *p;

	(void)state;
	for (k = 1; k <= 3; k++) {
		uint32_t v = k;

		assert_int_equal(sluice_map_elem_update(map, &k, &v, BPF_ANY, n - 1), 0);
	}
	k = 1;
	assert_int_equal(sluice_map_lookup(map, &k, all, 0, NULL), -ENOENT);
	k = 3;
	assert_int_equal(sluice_map_lookup(map, &k, all, 0, NULL), 0);
	assert_int_equal(*(uint32_t *)(all + 8 * (n - 1)), 3);
	p = sluice_map_elem_lookup(map, &k, n - 1);
	assert_non_null(p);
	assert_int_equal(*p, 3);
	free(all);
	sluice_map_close(map);
}

static void test_create_rules(void **state)
{
	uint32_t n = ncpus();
	struct sluice_map *map;
	struct sluice_map_info info;

	(void)state;
	assert_int_equal(create_errno(BPF_MAP_TYPE_LRU_HASH, 4, 8, 4, BPF_F_NO_PREALLOC),
			 -SLUICE_ENOTSUPP);
	/* each CPU's list gets an equal share: max_entries rounds up */
	map = make_map(BPF_MAP_TYPE_LRU_HASH, 4, 8, n + 1, BPF_F_NO_COMMON_LRU);
	sluice_map_get_info(map, &info);
	assert_int_equal(info.max_entries, 2 * n);
	sluice_map_close(map);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_evicts_least_recent),
		cmocka_unit_test(test_no_needless_eviction),
		cmocka_unit_test(test_percpu_lru),
		cmocka_unit_test(test_create_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
