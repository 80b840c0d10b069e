/* SPDX-License-Identifier: MIT */
/*
 * Arrays and per-CPU arrays: each update flag and errno rule, get_next_key,
 * per-CPU layout on both sides, bpf_spin_lock and BPF_F_LOCK, for_each,
 * the access flags and freezing.
 */
#include "maps_test.h"

static uint64_t lookup_u64(struct sluice_map *map, uint32_t index)
{
	uint64_t v = 0;

	assert_int_equal(sluice_map_lookup(map, &index, &v, 0, NULL), 0);
	return v;
}

static void test_update_rules(void **state)
{
	struct sluice_map *map = make_map(BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0);
	struct sluice_error err = { 0 };
	uint64_t v = 42;
	uint32_t i = 1;

	(void)state;
	assert_int_equal(sluice_map_update(map, &i, &v, BPF_ANY, NULL), 0);
	assert_int_equal(sluice_map_update(map, &i, &v, BPF_EXIST, NULL), 0);
	assert_int_equal(sluice_map_update(map, &i, &v, BPF_NOEXIST, &err), -EEXIST);
	assert_non_null(strstr(err.msg, "always exist"));
	assert_int_equal(sluice_map_update(map, &i, &v, 3, NULL), -EINVAL);
	assert_int_equal(sluice_map_update(map, &i, &v, BPF_F_LOCK, NULL), -EINVAL);
	i = 4;
	assert_int_equal(sluice_map_update(map, &i, &v, BPF_ANY, &err), -E2BIG);
	assert_non_null(strstr(err.msg, "past the end"));
	assert_int_equal(sluice_map_lookup(map, &i, &v, 0, NULL), -ENOENT);
	assert_int_equal(sluice_map_delete(map, &i, NULL), -EINVAL);
	assert_int_equal(sluice_map_lookup_and_delete(map, &i, &v, 0, NULL), -SLUICE_ENOTSUPP);
	assert_int_equal(lookup_u64(map, 1), 42);
	assert_int_equal(lookup_u64(map, 0), 0); /* elements start zeroed */
	sluice_map_close(map);
}

static void test_get_next_key(void **state)
{
	struct sluice_map *map = make_map(BPF_MAP_TYPE_ARRAY, 4, 4, 3, 0);
	uint32_t key, next = 99;

	(void)state;
	assert_int_equal(sluice_map_get_next_key(map, NULL, &next, NULL), 0);
	assert_int_equal(next, 0);
	key = 1;
	assert_int_equal(sluice_map_get_next_key(map, &key, &next, NULL), 0);
	assert_int_equal(next, 2);
	key = 2;
	assert_int_equal(sluice_map_get_next_key(map, &key, &next, NULL), -ENOENT);
	key = 77; /* out of range: from the start */
	assert_int_equal(sluice_map_get_next_key(map, &key, &next, NULL), 0);
	assert_int_equal(next, 0);
	sluice_map_close(map);
}

static void test_create_rules(void **state)
{
	(void)state;
	assert_int_equal(create_errno(BPF_MAP_TYPE_ARRAY, 8, 8, 4, 0), -EINVAL);
	assert_int_equal(create_errno(BPF_MAP_TYPE_ARRAY, 4, 0, 4, 0), -EINVAL);
	assert_int_equal(create_errno(BPF_MAP_TYPE_ARRAY, 4, 8, 0, 0), -EINVAL);
	assert_int_equal(create_errno(BPF_MAP_TYPE_ARRAY, 4, 8, 4, BPF_F_NO_PREALLOC), -EINVAL);
	assert_int_equal(create_errno(BPF_MAP_TYPE_ARRAY, 4, 8, 4, BPF_F_MMAPABLE), 0);
	assert_int_equal(create_errno(BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 4, BPF_F_MMAPABLE),
			 -EINVAL);
	assert_int_equal(create_errno(BPF_MAP_TYPE_PERCPU_ARRAY, 4, 32769, 1, 0), -E2BIG);
	assert_int_equal(create_errno(BPF_MAP_TYPE_ARRAY, 4, 8, 4,
				      BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG), -EINVAL);
	assert_int_equal(create_errno(BPF_MAP_TYPE_ARRAY, 4, 8, 4, BPF_F_RDONLY | BPF_F_WRONLY),
			 -EINVAL);
	assert_int_equal(create_errno(999, 4, 8, 4, 0), -EINVAL);
}

/* bpf(2) values: one per possible CPU, each rounded up to 8 bytes. */
static void test_percpu_layout(void **state)
{
	uint32_t n = ncpus(), i = 2;
	struct sluice_map *map = make_map(BPF_MAP_TYPE_PERCPU_ARRAY, 4, 12, 4, 0);
	uint8_t *in = malloc(16 * n), *out = malloc(16 * n);
	uint8_t *slot;

	(void)state;
	assert_int_equal(sluice_map_value_size(map), 16 * n);
	for (uint32_t b = 0; b < 16 * n; b++)
		in[b] = (uint8_t)(b + 1); /* the padding too: the kernel keeps it */
	assert_int_equal(sluice_map_update(map, &i, in, BPF_ANY, NULL), 0);
	assert_int_equal(sluice_map_lookup(map, &i, out, 0, NULL), 0);
	assert_memory_equal(in, out, 16 * n);

	/* a program on the last CPU sees and writes only its own value */
	slot = sluice_map_elem_lookup(map, &i, n - 1);
	assert_non_null(slot);
	assert_memory_equal(slot, in + 16 * (n - 1), 12);
	assert_null(sluice_map_elem_lookup(map, &i, n));
	assert_int_equal(sluice_map_elem_update(map, &i, "abcdefghijkl", BPF_ANY, 0), 0);
	assert_int_equal(sluice_map_lookup(map, &i, out, 0, NULL), 0);
	assert_memory_equal(out, "abcdefghijkl", 12);
	assert_memory_equal(out + 12, in + 12, 16 * n - 12);
	free(in);
	free(out);
	sluice_map_close(map);
}

/* Program-side pointers are the map's memory: what they write, bpf(2) reads. */
static void test_pointer_into_map(void **state)
{
	struct sluice_map *map = make_map(BPF_MAP_TYPE_ARRAY, 4, 8, 2, BPF_F_MMAPABLE);
	uint32_t i = 1;
	uint64_t *p = sluice_map_elem_lookup(map, &i, 0);

	(void)state;
	assert_non_null(p);
	assert_int_equal((uintptr_t)p % 8, 0);
	__atomic_fetch_add(p, 5, __ATOMIC_RELAXED);
	assert_int_equal(lookup_u64(map, 1), 5);
	i = 2;
	assert_null(sluice_map_elem_lookup(map, &i, 0));
	assert_int_equal(sluice_map_elem_update(map, &i, p, BPF_ANY, 0), -E2BIG);
	sluice_map_close(map);
}

struct locked_value {
	uint32_t lock; /* struct bpf_spin_lock */
	uint32_t a;
	uint64_t b;
};

static void test_spin_lock(void **state)
{
	struct sluice_map_attr attr = {
		.type = BPF_MAP_TYPE_ARRAY, .key_size = 4,
		.value_size = sizeof(struct locked_value), .max_entries = 2,
		.spin_lock = true, .spin_lock_off = 0,
	};
	struct sluice_map *map = make_map_attr(&attr);
	struct locked_value in = { .lock = 0xdead, .a = 1, .b = 2 }, out;
	struct locked_value *inside;
	struct sluice_error err = { 0 };
	uint32_t i = 0;

	(void)state;
	assert_int_equal(sluice_map_update(map, &i, &in, BPF_F_LOCK, NULL), 0);
	inside = sluice_map_elem_lookup(map, &i, 0);
	assert_int_equal(inside->lock, 0); /* the map's own lock is never overwritten */
	assert_int_equal(inside->b, 2);
	assert_int_equal(sluice_map_lookup(map, &i, &out, BPF_F_LOCK, NULL), 0);
	assert_int_equal(out.lock, 0); /* and reads as zero */
	assert_int_equal(out.a, 1);
	/* a lock a program holds does not hold up a plain copy */
	sluice_spin_lock(&inside->lock);
	assert_int_equal(sluice_map_lookup(map, &i, &out, 0, NULL), 0);
	sluice_spin_unlock(&inside->lock);
	assert_int_equal(sluice_map_freeze(map, &err), -SLUICE_ENOTSUPP);
	sluice_map_close(map);

	/* only hash and array values may hold one, 4-aligned inside the value */
	attr.type = BPF_MAP_TYPE_PERCPU_ARRAY;
	attr.sz = sizeof(attr);
	assert_null(sluice_map_create(&attr, &err));
	assert_int_equal(err.code, EOPNOTSUPP);
	attr.type = BPF_MAP_TYPE_ARRAY;
	attr.spin_lock_off = 14;
	assert_null(sluice_map_create(&attr, &err));
	assert_int_equal(err.code, EINVAL);
}

static long count_until(struct sluice_map *map, const void *key, void *value, void *ctx)
{
	uint32_t index;

	(void)map;
	(void)value;
	memcpy(&index, key, 4);
	return index == *(uint32_t *)ctx;
}

static void test_for_each(void **state)
{
	struct sluice_map *map = make_map(BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 10, 0);
	uint32_t stop = 3, none = 100;

	(void)state;
	assert_int_equal(sluice_map_for_each(map, count_until, &stop, 0, 0), 4);
	assert_int_equal(sluice_map_for_each(map, count_until, &none, 0, 0), 10);
	assert_int_equal(sluice_map_for_each(map, count_until, &none, 1, 0), -EINVAL);
	sluice_map_close(map);
}

static void test_access_flags(void **state)
{
	struct sluice_map *ro = make_map(BPF_MAP_TYPE_ARRAY, 4, 8, 2, BPF_F_RDONLY);
	struct sluice_map *wo = make_map(BPF_MAP_TYPE_ARRAY, 4, 8, 2, BPF_F_WRONLY);
	struct sluice_map_info info;
	uint64_t v = 1;
	uint32_t i = 0;

	(void)state;
	assert_int_equal(sluice_map_update(ro, &i, &v, 0, NULL), -EPERM);
	assert_int_equal(sluice_map_lookup(ro, &i, &v, 0, NULL), 0);
	assert_int_equal(sluice_map_elem_update(ro, &i, &v, 0, 0), 0); /* programs may */
	assert_int_equal(sluice_map_lookup(wo, &i, &v, 0, NULL), -EPERM);
	assert_int_equal(sluice_map_get_next_key(wo, NULL, &i, NULL), -EPERM);
	assert_int_equal(sluice_map_update(wo, &i, &v, 0, NULL), 0);
	/* they belong to the file descriptor in the kernel: info does not show them */
	sluice_map_get_info(ro, &info);
	assert_int_equal(info.map_flags, 0);
	sluice_map_close(ro);
	sluice_map_close(wo);
}

static void test_freeze(void **state)
{
	struct sluice_map *map = make_map(BPF_MAP_TYPE_ARRAY, 4, 8, 2, 0);
	struct sluice_map_info info;
	uint64_t v = 7;
	uint32_t i = 0;

	(void)state;
	assert_int_equal(sluice_map_update(map, &i, &v, 0, NULL), 0);
	assert_int_equal(sluice_map_freeze(map, NULL), 0);
	assert_int_equal(sluice_map_freeze(map, NULL), -EPERM);
	assert_int_equal(sluice_map_update(map, &i, &v, 0, NULL), -EPERM);
	assert_int_equal(sluice_map_elem_update(map, &i, &v, 0, 0), 0);
	sluice_map_get_info(map, &info);
	assert_true(info.frozen);
	assert_int_equal(info.entries, 2);
	sluice_map_close(map);
}

static void test_bad_buffers(void **state)
{
	struct sluice_map *map = make_map(BPF_MAP_TYPE_ARRAY, 4, 8, 2, 0);
	uint64_t v;
	uint32_t i = 0;

	(void)state;
	assert_int_equal(sluice_map_lookup(map, NULL, &v, 0, NULL), -EFAULT);
	assert_int_equal(sluice_map_lookup(map, &i, NULL, 0, NULL), -EFAULT);
	assert_int_equal(sluice_map_lookup(map, &i, &v, 2, NULL), -EINVAL);
	assert_int_equal(sluice_map_get_next_key(map, &i, NULL, NULL), -EFAULT);
	sluice_map_close(map);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_update_rules),
		cmocka_unit_test(test_get_next_key),
		cmocka_unit_test(test_create_rules),
		cmocka_unit_test(test_percpu_layout),
		cmocka_unit_test(test_pointer_into_map),
		cmocka_unit_test(test_spin_lock),
		cmocka_unit_test(test_for_each),
		cmocka_unit_test(test_access_flags),
		cmocka_unit_test(test_freeze),
		cmocka_unit_test(test_bad_buffers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
