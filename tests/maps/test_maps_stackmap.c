/* SPDX-License-Identifier: MIT */
/*
 * Stack trace maps: the same stack gets the same id, a different one in
 * the same bucket -EEXIST unless BPF_F_REUSE_STACKID, skipping frames and
 * the depth kept, and the bpf(2) side.
 */
#include "maps_test.h"

/* Two stacks that land in the same one of 2 buckets. */
static void colliding(struct sluice_map *map, uint64_t a[2], uint64_t b[2], long *id)
{
	a[0] = 0x1000;
	a[1] = 0x2000;
	*id = sluice_stackmap_get_stackid(map, a, 2, 0);
	assert_true(*id >= 0);
	for (uint64_t ip = 0x3000;; ip += 8) {
		b[0] = ip;
		b[1] = 0x2000;
		long got = sluice_stackmap_get_stackid(map, b, 2, 0);

		if (got == -EEXIST)
			return;
		assert_true(got >= 0);
		assert_int_equal(sluice_map_delete(map, &(uint32_t){ (uint32_t)got }, NULL), 0);
	}
}

static void test_ids(void **state)
{
	struct sluice_map *map = make_map(BPF_MAP_TYPE_STACK_TRACE, 4, 32, 2, 0);
	uint64_t a[2], b[2], out[4];
	long id, again;
	uint32_t key;

	(void)state;
	colliding(map, a, b, &id);
	assert_int_equal(sluice_stackmap_get_stackid(map, a, 2, 0), id);
	/* another stack in that bucket: with REUSE_STACKID it takes the bucket over */
	assert_int_equal(sluice_stackmap_get_stackid(map, b, 2, BPF_F_FAST_STACK_CMP), -EEXIST);
	again = sluice_stackmap_get_stackid(map, b, 2, BPF_F_REUSE_STACKID);
	assert_int_equal(again, id);
	key = (uint32_t)id;
	assert_int_equal(sluice_map_lookup(map, &key, out, 0, NULL), 0);
	assert_int_equal(out[0], b[0]);
	assert_int_equal(out[1], b[1]);
	assert_int_equal(out[2], 0); /* past the stack: zeros */
	assert_int_equal(sluice_map_lookup_and_delete(map, &key, out, 0, NULL), 0);
	assert_int_equal(sluice_map_lookup(map, &key, out, 0, NULL), -ENOENT);
	sluice_map_close(map);
}

static void test_skip_and_depth(void **state)
{
	struct sluice_map *map = make_map(BPF_MAP_TYPE_STACK_TRACE, 4, 16, 8, 0);
	uint64_t ips[5] = { 1, 2, 3, 4, 5 }, out[2];
	uint32_t key;
	long id;

	(void)state;
	assert_int_equal(sluice_stackmap_get_stackid(map, ips, 2, 2), -EFAULT);
	assert_int_equal(sluice_stackmap_get_stackid(map, ips, 2, 1ull << 20), -EINVAL);
	/* skip 1, and keep 2 frames (value_size 16): ips 2 and 3 */
	id = sluice_stackmap_get_stackid(map, ips, 5, 1);
	assert_true(id >= 0);
	key = (uint32_t)id;
	assert_int_equal(sluice_map_lookup(map, &key, out, 0, NULL), 0);
	assert_int_equal(out[0], 2);
	assert_int_equal(out[1], 3);
	assert_int_equal(sluice_map_update(map, &key, out, 0, NULL), -EINVAL);
	key = 8;
	assert_int_equal(sluice_map_delete(map, &key, NULL), -E2BIG);
	assert_int_equal(sluice_map_get_next_key(map, NULL, &key, NULL), 0);
	assert_int_equal(key, (uint32_t)id);
	assert_int_equal(sluice_map_get_next_key(map, &key, &key, NULL), -ENOENT);
	sluice_map_close(map);
}

static void test_create_rules(void **state)
{
	(void)state;
	assert_int_equal(create_errno(BPF_MAP_TYPE_STACK_TRACE, 4, 12, 4, 0), -EINVAL);
	assert_int_equal(create_errno(BPF_MAP_TYPE_STACK_TRACE, 4, 8 * 128, 4, 0), -EINVAL);
	assert_int_equal(create_errno(BPF_MAP_TYPE_STACK_TRACE, 8, 16, 4, 0), -EINVAL);
	assert_int_equal(create_errno(BPF_MAP_TYPE_STACK_TRACE, 4, 32, 4, BPF_F_STACK_BUILD_ID),
			 -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_skip_and_depth),
		cmocka_unit_test(test_create_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
