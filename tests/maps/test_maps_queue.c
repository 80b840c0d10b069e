/* SPDX-License-Identifier: MIT */
/*
 * Queues and stacks: order, BPF_EXIST making room by dropping the oldest,
 * E2BIG when full, the flags refused, and the bpf(2) calls that have no
 * meaning without keys.
 */
#include "maps_test.h"

static void push(struct sluice_map *map, uint16_t v, uint64_t flags, int expect)
{
	assert_int_equal(sluice_map_push(map, &v, flags), expect);
}

static uint16_t pop(struct sluice_map *map)
{
	uint16_t v = 0xffff;

	assert_int_equal(sluice_map_pop(map, &v), 0);
	return v;
}

static void test_queue(void **state)
{
	struct sluice_map *map = make_map(BPF_MAP_TYPE_QUEUE, 0, 2, 3, 0);
	uint16_t v = 0xffff;

	(void)state;
	assert_int_equal(sluice_map_peek(map, &v), -ENOENT);
	assert_int_equal(v, 0); /* the kernel clears the value it could not fill */
	push(map, 1, BPF_ANY, 0);
	push(map, 2, BPF_ANY, 0);
	push(map, 3, BPF_ANY, 0);
	push(map, 4, BPF_ANY, -E2BIG);
	push(map, 4, BPF_EXIST, 0); /* 1, the oldest, makes room */
	assert_int_equal(sluice_map_peek(map, &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(pop(map), 2);
	assert_int_equal(pop(map), 3);
	assert_int_equal(pop(map), 4);
	assert_int_equal(sluice_map_pop(map, &v), -ENOENT);
	push(map, 5, BPF_NOEXIST, -EINVAL);
	push(map, 5, 3, -EINVAL);
	sluice_map_close(map);
}

static void test_stack(void **state)
{
	struct sluice_map *map = make_map(BPF_MAP_TYPE_STACK, 0, 2, 3, 0);
	struct sluice_map_info info;

	(void)state;
	push(map, 1, BPF_ANY, 0);
	push(map, 2, BPF_ANY, 0);
	push(map, 3, BPF_ANY, 0);
	push(map, 4, BPF_EXIST, 0); /* 1, at the bottom, makes room */
	sluice_map_get_info(map, &info);
	assert_int_equal(info.entries, 3);
	assert_int_equal(pop(map), 4);
	assert_int_equal(pop(map), 3);
	push(map, 9, BPF_ANY, 0);
	assert_int_equal(pop(map), 9);
	assert_int_equal(pop(map), 2);
	sluice_map_get_info(map, &info);
	assert_int_equal(info.entries, 0);
	sluice_map_close(map);
}

/* bpf(2): update pushes, lookup peeks, lookup_and_delete pops; keys are refused. */
static void test_bpf_side(void **state)
{
	struct sluice_map *map = make_map(BPF_MAP_TYPE_QUEUE, 0, 4, 2, 0);
	uint32_t v = 7, out = 0, key = 0;

	(void)state;
	assert_int_equal(sluice_map_update(map, NULL, &v, BPF_ANY, NULL), 0);
	assert_int_equal(sluice_map_update(map, &key, &v, BPF_ANY, NULL), -EINVAL);
	assert_int_equal(sluice_map_lookup(map, NULL, &out, 0, NULL), 0);
	assert_int_equal(out, 7);
	assert_int_equal(sluice_map_lookup_and_delete(map, NULL, &out, BPF_F_LOCK, NULL), -EINVAL);
	assert_int_equal(sluice_map_lookup_and_delete(map, NULL, &out, 0, NULL), 0);
	assert_int_equal(sluice_map_lookup(map, NULL, &out, 0, NULL), -ENOENT);
	assert_int_equal(sluice_map_delete(map, NULL, NULL), -EINVAL);
	assert_int_equal(sluice_map_get_next_key(map, NULL, &key, NULL), -EINVAL);
	/* programs cannot use the keyed helpers on them */
	assert_null(sluice_map_elem_lookup(map, NULL, 0));
	assert_int_equal(sluice_map_elem_update(map, NULL, &v, 0, 0), -EINVAL);
	sluice_map_close(map);
}

static void test_create_rules(void **state)
{
	(void)state;
	assert_int_equal(create_errno(BPF_MAP_TYPE_QUEUE, 4, 4, 2, 0), -EINVAL);
	assert_int_equal(create_errno(BPF_MAP_TYPE_STACK, 0, 0, 2, 0), -EINVAL);
	assert_int_equal(create_errno(BPF_MAP_TYPE_STACK, 0, 4, 0, 0), -EINVAL);
	assert_int_equal(create_errno(BPF_MAP_TYPE_QUEUE, 0, 4, 2, BPF_F_NO_PREALLOC), -EINVAL);
	assert_int_equal(create_errno(BPF_MAP_TYPE_QUEUE, 0, (4u << 20) + 1, 1, 0), -E2BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_queue),
		cmocka_unit_test(test_stack),
		cmocka_unit_test(test_bpf_side),
		cmocka_unit_test(test_create_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
