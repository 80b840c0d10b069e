/* SPDX-License-Identifier: MIT */
/*
 * Hash and per-CPU hash maps: update flags and their errnos, E2BIG when
 * full, get_next_key's rules, per-CPU values from programs and from bpf(2),
 * lookup_and_delete, BPF_F_LOCK, for_each, and pools that grow chunk by
 * chunk (BPF_F_NO_PREALLOC).
 */
#include "maps_test.h"

/*
 * A 6-byte key: no lookup of its own size (the one for any size), and not
 * whole 8-byte words (the hash's tail).
 */
struct key6 {
	uint8_t b[6];
};

static struct key6 k6(unsigned n)
{
	struct key6 k = { { (uint8_t)n, (uint8_t)(n >> 8), 0xaa, 0xbb, 0xcc, 0xdd } };

	return k;
}

static void test_update_flags(void **state)
{
	struct sluice_map *map = make_map(BPF_MAP_TYPE_HASH, 6, 8, 4, 0);
	struct sluice_error err = { 0 };
	struct key6 k = k6(1);
	uint64_t v = 10, out;

	(void)state;
	assert_int_equal(sluice_map_update(map, &k, &v, BPF_EXIST, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "BPF_EXIST"));
	assert_int_equal(sluice_map_update(map, &k, &v, BPF_NOEXIST, NULL), 0);
	assert_int_equal(sluice_map_update(map, &k, &v, BPF_NOEXIST, NULL), -EEXIST);
	v = 11;
	assert_int_equal(sluice_map_update(map, &k, &v, BPF_EXIST, NULL), 0);
	assert_int_equal(sluice_map_lookup(map, &k, &out, 0, NULL), 0);
	assert_int_equal(out, 11);
	assert_int_equal(sluice_map_update(map, &k, &v, 3, NULL), -EINVAL);
	/* BPF_F_LOCK needs a lock in the value; the generic layer says so first */
	assert_int_equal(sluice_map_update(map, &k, &v, BPF_F_LOCK, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "spin_lock"));
	assert_int_equal(sluice_map_elem_update(map, &k, &v, BPF_ANY | BPF_F_LOCK, 0), -EINVAL);
	assert_int_equal(sluice_map_delete(map, &k, NULL), 0);
	assert_int_equal(sluice_map_delete(map, &k, &err), -ENOENT);
	assert_int_equal(sluice_map_lookup(map, &k, &out, 0, NULL), -ENOENT);
	sluice_map_close(map);
}

static void test_full(void **state)
{
	struct sluice_map *map = make_map(BPF_MAP_TYPE_HASH, 6, 8, 3, 0);
	struct sluice_map_info info;
	struct key6 k;
	uint64_t v = 1;

	(void)state;
	for (unsigned i = 0; i < 3; i++) {
		k = k6(i);
		assert_int_equal(sluice_map_update(map, &k, &v, BPF_ANY, NULL), 0);
	}
	k = k6(3);
	assert_int_equal(sluice_map_update(map, &k, &v, BPF_ANY, NULL), -E2BIG);
	assert_int_equal(sluice_map_elem_update(map, &k, &v, BPF_ANY, 0), -E2BIG);
	/* replacing a key of a full map is fine */
	k = k6(2);
	assert_int_equal(sluice_map_update(map, &k, &v, BPF_ANY, NULL), 0);
	sluice_map_get_info(map, &info);
	assert_int_equal(info.entries, 3);
	/* a freed element is reused */
	assert_int_equal(sluice_map_delete(map, &k, NULL), 0);
	k = k6(3);
	assert_int_equal(sluice_map_update(map, &k, &v, BPF_ANY, NULL), 0);
	sluice_map_close(map);
}

static void test_get_next_key(void **state)
{
	struct sluice_map *map = make_map(BPF_MAP_TYPE_HASH, 4, 4, 64, BPF_F_ZERO_SEED);
	uint32_t key, next, n = 0, missing = 1000;
	bool seen[40] = { false };

	(void)state;
	assert_int_equal(sluice_map_get_next_key(map, NULL, &next, NULL), -ENOENT);
	for (key = 0; key < 40; key++)
		assert_int_equal(sluice_map_update(map, &key, &key, BPF_ANY, NULL), 0);
	/* a walk from NULL sees every key once */
	for (int ret = sluice_map_get_next_key(map, NULL, &next, NULL); !ret;
	     ret = sluice_map_get_next_key(map, &key, &next, NULL)) {
		assert_true(next < 40);
		assert_false(seen[next]);
		seen[next] = true;
		key = next;
		n++;
	}
	assert_int_equal(n, 40);
	/* a key that is not there starts over from the first */
	assert_int_equal(sluice_map_get_next_key(map, NULL, &key, NULL), 0);
	assert_int_equal(sluice_map_get_next_key(map, &missing, &next, NULL), 0);
	assert_int_equal(next, key);
	sluice_map_close(map);
}

static void test_lookup_and_delete(void **state)
{
	struct sluice_map *map = make_map(BPF_MAP_TYPE_HASH, 4, 8, 4, 0);
	uint32_t k = 5;
	uint64_t v = 99, out = 0;

	(void)state;
	assert_int_equal(sluice_map_lookup_and_delete(map, &k, &out, 0, NULL), -ENOENT);
	assert_int_equal(sluice_map_update(map, &k, &v, BPF_ANY, NULL), 0);
	assert_int_equal(sluice_map_lookup_and_delete(map, &k, &out, 8, NULL), -EINVAL);
	assert_int_equal(sluice_map_lookup_and_delete(map, &k, &out, 0, NULL), 0);
	assert_int_equal(out, 99);
	assert_int_equal(sluice_map_lookup(map, &k, &out, 0, NULL), -ENOENT);
	sluice_map_close(map);
}

/* Per-CPU hash: programs write their CPU's value, a new element zeroes the others. */
static void test_percpu(void **state)
{
	uint32_t n = ncpus(), k = 1;
	struct sluice_map *map = make_map(BPF_MAP_TYPE_PERCPU_HASH, 4, 4, 8, 0);
	uint8_t *all = malloc(8 * n);
	uint32_t v = 0x11111111, *p;

	(void)state;
	assert_int_equal(sluice_map_value_size(map), 8 * n);
	assert_int_equal(sluice_map_elem_update(map, &k, &v, BPF_ANY, n - 1), 0);
	assert_int_equal(sluice_map_lookup(map, &k, all, 0, NULL), 0);
	for (uint32_t c = 0; c < n; c++)
		assert_int_equal(*(uint32_t *)(all + 8 * c), c == n - 1 ? v : 0);
	/* an existing element: only that CPU's value changes */
	memset(all, 0x22, 8 * n);
	assert_int_equal(sluice_map_update(map, &k, all, BPF_EXIST, NULL), 0);
	v = 0x33333333;
	assert_int_equal(sluice_map_elem_update(map, &k, &v, BPF_EXIST, 0), 0);
	assert_int_equal(sluice_map_lookup(map, &k, all, 0, NULL), 0);
	assert_int_equal(*(uint32_t *)all, v);
	if (n > 1)
		assert_int_equal(*(uint32_t *)(all + 8), 0x22222222);
	p = sluice_map_elem_lookup(map, &k, 0);
	assert_non_null(p);
	assert_int_equal(*p, v);
	assert_null(sluice_map_elem_lookup(map, &k, n));
	assert_int_equal(sluice_map_elem_update(map, &k, &v, BPF_ANY, n), -EINVAL);
	/* BPF_F_LOCK is an unknown flag to per-CPU maps */
	assert_int_equal(sluice_map_elem_update(map, &k, &v, BPF_F_LOCK, 0), -EINVAL);
	assert_int_equal(sluice_map_lookup_and_delete(map, &k, all, 0, NULL), 0);
	assert_int_equal(*(uint32_t *)all, v);
	free(all);
	sluice_map_close(map);
}

struct locked {
	uint64_t a;
	uint32_t lock;
	uint32_t b;
};

static void test_spin_lock(void **state)
{
	struct sluice_map_attr attr = {
		.type = BPF_MAP_TYPE_HASH, .key_size = 4, .value_size = sizeof(struct locked),
		.max_entries = 4, .spin_lock = true, .spin_lock_off = 8,
	};
	struct sluice_map *map = make_map_attr(&attr);
	struct locked in = { 1, 0x5555, 2 }, out;
	uint32_t k = 3;

	(void)state;
	/* not there yet: inserted as without the flag, lock word zero */
	assert_int_equal(sluice_map_update(map, &k, &in, BPF_F_LOCK, NULL), 0);
	assert_int_equal(((struct locked *)sluice_map_elem_lookup(map, &k, 0))->lock, 0);
	in.a = 7;
	assert_int_equal(sluice_map_update(map, &k, &in, BPF_F_LOCK | BPF_EXIST, NULL), 0);
	assert_int_equal(sluice_map_update(map, &k, &in, BPF_F_LOCK | BPF_NOEXIST, NULL),
			 -EEXIST);
	assert_int_equal(sluice_map_lookup(map, &k, &out, BPF_F_LOCK, NULL), 0);
	assert_int_equal(out.a, 7);
	assert_int_equal(out.lock, 0);
	assert_int_equal(out.b, 2);
	assert_int_equal(sluice_map_lookup_and_delete(map, &k, &out, BPF_F_LOCK, NULL), 0);
	sluice_map_close(map);
}

/* for_each may delete the element it is given, and stop early. */
static long delete_odd(struct sluice_map *map, const void *key, void *value, void *ctx)
{
	uint32_t k;

	(void)value;
	memcpy(&k, key, 4);
	if (k % 2)
		assert_int_equal(sluice_map_elem_delete(map, key), 0);
	return k == *(uint32_t *)ctx;
}

static void test_for_each(void **state)
{
	struct sluice_map *map = make_map(BPF_MAP_TYPE_HASH, 4, 4, 16, 0);
	struct sluice_map_info info;
	uint32_t none = 100, stop = 4;

	(void)state;
	for (uint32_t k = 0; k < 10; k++)
		assert_int_equal(sluice_map_update(map, &k, &k, BPF_ANY, NULL), 0);
	assert_int_equal(sluice_map_for_each(map, delete_odd, &none, 0, 0), 10);
	sluice_map_get_info(map, &info);
	assert_int_equal(info.entries, 5);
	/* elements are visited in pool order, which is insertion order here */
	assert_int_equal(sluice_map_for_each(map, delete_odd, &stop, 0, 0), 3);
	sluice_map_close(map);
}

/* BPF_F_NO_PREALLOC: memory comes as the map grows, past several chunks. */
static void test_no_prealloc(void **state)
{
	struct sluice_map *map = make_map(BPF_MAP_TYPE_HASH, 8, 200, 5000, BPF_F_NO_PREALLOC);
	uint8_t v[200], out[200];
	uint64_t k;

	(void)state;
	for (k = 0; k < 5000; k++) {
		memset(v, (int)k, sizeof(v));
		assert_int_equal(sluice_map_update(map, &k, v, BPF_NOEXIST, NULL), 0);
	}
	assert_int_equal(sluice_map_update(map, &k, v, BPF_NOEXIST, NULL), -E2BIG);
	for (k = 0; k < 5000; k += 499) {
		memset(v, (int)k, sizeof(v));
		assert_int_equal(sluice_map_lookup(map, &k, out, 0, NULL), 0);
		assert_memory_equal(v, out, sizeof(v));
	}
	sluice_map_close(map);
}

static void test_create_rules(void **state)
{
	(void)state;
	assert_int_equal(create_errno(BPF_MAP_TYPE_HASH, 0, 8, 4, 0), -EINVAL);
	assert_int_equal(create_errno(BPF_MAP_TYPE_HASH, 4, 0, 4, 0), -EINVAL);
	assert_int_equal(create_errno(BPF_MAP_TYPE_HASH, 4, 8, 0, 0), -EINVAL);
	assert_int_equal(create_errno(BPF_MAP_TYPE_HASH, 4, 8, 4, BPF_F_NO_COMMON_LRU), -EINVAL);
	assert_int_equal(create_errno(BPF_MAP_TYPE_HASH, 4, 8, 4, BPF_F_MMAPABLE), -EINVAL);
	assert_int_equal(create_errno(BPF_MAP_TYPE_HASH, 4, (4u << 20) - 52, 1,
				      BPF_F_NO_PREALLOC), -E2BIG);
	assert_int_equal(create_errno(BPF_MAP_TYPE_HASH, 4, 8, (1u << 28) + 1, 0), -E2BIG);
	assert_int_equal(create_errno(BPF_MAP_TYPE_PERCPU_HASH, 4, 32769, 1, 0), -E2BIG);
	assert_int_equal(create_errno(BPF_MAP_TYPE_PERCPU_HASH, 4, 8, 4, BPF_F_NUMA_NODE),
			 -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_update_flags),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_get_next_key),
		cmocka_unit_test(test_lookup_and_delete),
		cmocka_unit_test(test_percpu),
		cmocka_unit_test(test_spin_lock),
		cmocka_unit_test(test_for_each),
		cmocka_unit_test(test_no_prealloc),
		cmocka_unit_test(test_create_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
