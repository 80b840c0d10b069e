/* SPDX-License-Identifier: MIT */
/*
 * LPM tries: longest-prefix match on lookup, exact match on update and
 * delete, the kernel's walk order (its own example), flags and errnos, and
 * keys of other sizes.
 */
#include "maps_test.h"

struct v4 {
	uint32_t prefixlen;
	uint8_t addr[4];
};

static struct v4 pfx(unsigned a, unsigned b, unsigned c, unsigned d, uint32_t len)
{
	return (struct v4){ len, { (uint8_t)a, (uint8_t)b, (uint8_t)c, (uint8_t)d } };
}

static struct sluice_map *v4_trie(uint32_t max)
{
	return make_map(BPF_MAP_TYPE_LPM_TRIE, 8, 4, max, BPF_F_NO_PREALLOC);
}

static void add(struct sluice_map *map, struct v4 k, uint32_t v)
{
	assert_int_equal(sluice_map_update(map, &k, &v, BPF_ANY, NULL), 0);
}

/* The value of the longest prefix that matches the /32 address, 0 if none. */
static uint32_t match(struct sluice_map *map, unsigned a, unsigned b, unsigned c, unsigned d)
{
	struct v4 k = pfx(a, b, c, d, 32);
	uint32_t v = 0, *p = sluice_map_elem_lookup(map, &k, 0);

	if (sluice_map_lookup(map, &k, &v, 0, NULL))
		v = 0;
	assert_int_equal(p ? *p : 0, v); /* both sides agree */
	return v;
}

static void test_longest_prefix(void **state)
{
	struct sluice_map *map = v4_trie(16);

	(void)state;
	add(map, pfx(10, 0, 0, 0, 8), 1);
	add(map, pfx(10, 1, 0, 0, 16), 2);
	add(map, pfx(10, 1, 2, 0, 24), 3);
	add(map, pfx(0, 0, 0, 0, 0), 9); /* the default route */
	assert_int_equal(match(map, 10, 1, 2, 3), 3);
	assert_int_equal(match(map, 10, 1, 3, 3), 2);
	assert_int_equal(match(map, 10, 2, 2, 3), 1);
	assert_int_equal(match(map, 11, 1, 2, 3), 9);
	/* a lookup key's own prefixlen bounds the match */
	{
		struct v4 k = pfx(10, 1, 2, 3, 20);
		uint32_t v;

		assert_int_equal(sluice_map_lookup(map, &k, &v, 0, NULL), 0);
		assert_int_equal(v, 2);
		k.prefixlen = 33;
		assert_int_equal(sluice_map_lookup(map, &k, &v, 0, NULL), -ENOENT);
	}
	/* delete is exact: a /16 that is not stored is not the /16 that is */
	{
		struct v4 k = pfx(10, 1, 0, 0, 17);

		assert_int_equal(sluice_map_delete(map, &k, NULL), -ENOENT);
		k.prefixlen = 16;
		assert_int_equal(sluice_map_delete(map, &k, NULL), 0);
		assert_int_equal(match(map, 10, 1, 3, 3), 1);
		assert_int_equal(match(map, 10, 1, 2, 3), 3);
	}
	sluice_map_close(map);
}

/* The walk order of the kernel's lpm_trie.c comment: more specific first. */
static void test_walk_order(void **state)
{
	struct sluice_map *map = v4_trie(16);
	const struct v4 expect[] = {
		pfx(192, 168, 0, 0, 24), pfx(192, 168, 1, 0, 24),
		pfx(192, 168, 128, 0, 24), pfx(192, 168, 0, 0, 16),
	};
	struct v4 k, next;
	int n = 0;

	(void)state;
	add(map, pfx(192, 168, 0, 0, 16), 1);
	add(map, pfx(192, 168, 0, 0, 24), 2);
	add(map, pfx(192, 168, 128, 0, 24), 3);
	add(map, pfx(192, 168, 1, 0, 24), 4);
	for (int ret = sluice_map_get_next_key(map, NULL, &next, NULL); !ret;
	     ret = sluice_map_get_next_key(map, &k, &next, NULL)) {
		assert_true(n < 4);
		assert_memory_equal(&next, &expect[n], sizeof(next));
		k = next;
		n++;
	}
	assert_int_equal(n, 4);
	/* a key that is not stored starts the walk over */
	k = pfx(1, 2, 3, 4, 32);
	assert_int_equal(sluice_map_get_next_key(map, &k, &next, NULL), 0);
	assert_memory_equal(&next, &expect[0], sizeof(next));
	sluice_map_close(map);
}

static void test_flags_and_errnos(void **state)
{
	struct sluice_map *map = v4_trie(2);
	struct v4 a = pfx(10, 0, 0, 0, 8), b = pfx(11, 0, 0, 0, 8), c = pfx(12, 0, 0, 0, 8);
	struct sluice_error err = { 0 };
	uint32_t v = 1;

	(void)state;
	assert_int_equal(sluice_map_update(map, &a, &v, BPF_EXIST, NULL), -ENOENT);
	assert_int_equal(sluice_map_update(map, &a, &v, BPF_NOEXIST, NULL), 0);
	assert_int_equal(sluice_map_update(map, &a, &v, BPF_NOEXIST, NULL), -EEXIST);
	assert_int_equal(sluice_map_update(map, &a, &v, BPF_EXIST, NULL), 0);
	assert_int_equal(sluice_map_update(map, &a, &v, 4, NULL), -EINVAL);
	assert_int_equal(sluice_map_update(map, &b, &v, BPF_ANY, NULL), 0);
	assert_int_equal(sluice_map_update(map, &c, &v, BPF_ANY, &err), -ENOSPC);
	assert_non_null(strstr(err.msg, "full"));
	assert_int_equal(sluice_map_update(map, &a, &v, BPF_ANY, NULL), 0); /* replacing is fine */
	c.prefixlen = 33;
	assert_int_equal(sluice_map_update(map, &c, &v, BPF_ANY, NULL), -EINVAL);
	assert_int_equal(sluice_map_delete(map, &c, NULL), -EINVAL);
	assert_int_equal(sluice_map_lookup_and_delete(map, &a, &v, 0, NULL), -SLUICE_ENOTSUPP);
	sluice_map_close(map);
}

static void test_create_rules(void **state)
{
	(void)state;
	assert_int_equal(create_errno(BPF_MAP_TYPE_LPM_TRIE, 8, 4, 4, 0), -EINVAL);
	assert_int_equal(create_errno(BPF_MAP_TYPE_LPM_TRIE, 4, 4, 4, BPF_F_NO_PREALLOC), -EINVAL);
	assert_int_equal(create_errno(BPF_MAP_TYPE_LPM_TRIE, 261, 4, 4, BPF_F_NO_PREALLOC),
			 -EINVAL);
	assert_int_equal(create_errno(BPF_MAP_TYPE_LPM_TRIE, 260, 4, 4, BPF_F_NO_PREALLOC), 0);
	assert_int_equal(create_errno(BPF_MAP_TYPE_LPM_TRIE, 8, 0, 4, BPF_F_NO_PREALLOC), -EINVAL);
}

/* IPv6 keys, 16 bytes of data: the 8-byte comparison path. */
static void test_ipv6(void **state)
{
	struct sluice_map *map = make_map(BPF_MAP_TYPE_LPM_TRIE, 20, 8, 8, BPF_F_NO_PREALLOC);
	struct {
		uint32_t prefixlen;
		uint8_t addr[16];
	} k = { 64, { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1 } }, q = k;
	uint64_t v = 64, out;

	(void)state;
	assert_int_equal(sluice_map_update(map, &k, &v, BPF_ANY, NULL), 0);
	k.prefixlen = 72;
	k.addr[8] = 0xff;
	v = 72;
	assert_int_equal(sluice_map_update(map, &k, &v, BPF_ANY, NULL), 0);
	q.prefixlen = 128;
	q.addr[8] = 0xff;
	q.addr[15] = 9;
	assert_int_equal(sluice_map_lookup(map, &q, &out, 0, NULL), 0);
	assert_int_equal(out, 72);
	q.addr[8] = 0x7f;
	assert_int_equal(sluice_map_lookup(map, &q, &out, 0, NULL), 0);
	assert_int_equal(out, 64);
	q.addr[7] = 2;
	assert_int_equal(sluice_map_lookup(map, &q, &out, 0, NULL), -ENOENT);
	sluice_map_close(map);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_longest_prefix),
		cmocka_unit_test(test_walk_order),
		cmocka_unit_test(test_flags_and_errnos),
		cmocka_unit_test(test_create_rules),
		cmocka_unit_test(test_ipv6),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
