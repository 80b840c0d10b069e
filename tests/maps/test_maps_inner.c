/* SPDX-License-Identifier: MIT */
/*
 * Maps of maps and program arrays: the inner-map template and what must
 * match it, slots that name maps by id, a program's lookup giving the inner
 * map itself, inner maps kept alive by the outer maps that hold them, and
 * prog_array's slots of program ids.
 */
#include "maps_test.h"

static uint32_t id_of(struct sluice_map *map)
{
	struct sluice_map_info info;

	sluice_map_get_info(map, &info);
	return info.id;
}

static int create_outer(uint32_t type, uint32_t value_size, struct sluice_map *inner)
{
	struct sluice_map_attr attr = {
		.sz = sizeof(attr), .type = type, .key_size = 4, .value_size = value_size,
		.max_entries = 4, .inner_map = inner,
	};
	struct sluice_error err = { 0 };
	struct sluice_map *map = sluice_map_create(&attr, &err);

	sluice_map_close(map);
	return map ? 0 : -err.code;
}

static struct sluice_map *outer_of(uint32_t type, struct sluice_map *inner)
{
	struct sluice_map_attr attr = {
		.type = type, .key_size = 4, .value_size = 4, .max_entries = 4,
		.inner_map = inner, .name = "outer",
	};

	return make_map_attr(&attr);
}

static void test_template(void **state)
{
	struct sluice_map *inner = make_map(BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0);
	struct sluice_map *progs = make_map(BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4, 0);
	struct sluice_map *outer = outer_of(BPF_MAP_TYPE_ARRAY_OF_MAPS, inner);

	(void)state;
	assert_int_equal(create_outer(BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, NULL), -EINVAL);
	assert_int_equal(create_outer(BPF_MAP_TYPE_ARRAY_OF_MAPS, 8, inner), -EINVAL);
	assert_int_equal(create_outer(BPF_MAP_TYPE_HASH_OF_MAPS, 8, inner), -EINVAL);
	assert_int_equal(create_outer(BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, outer), -EINVAL);
	assert_int_equal(create_outer(BPF_MAP_TYPE_HASH_OF_MAPS, 4, progs), -SLUICE_ENOTSUPP);
	assert_int_equal(create_outer(BPF_MAP_TYPE_HASH_OF_MAPS, 4, inner), 0);
	sluice_map_close(outer);
	sluice_map_close(progs);
	sluice_map_close(inner);
}

static void test_array_of_maps(void **state)
{
	struct sluice_map *tmpl = make_map(BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0);
	struct sluice_map *outer = outer_of(BPF_MAP_TYPE_ARRAY_OF_MAPS, tmpl);
	struct sluice_map *same = make_map(BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0);
	struct sluice_map *longer = make_map(BPF_MAP_TYPE_ARRAY, 4, 8, 5, 0);
	struct sluice_map *wider = make_map(BPF_MAP_TYPE_ARRAY, 4, 16, 4, 0);
	struct sluice_map *got;
	uint32_t slot = 1, id, out, ghost = 999999;
	uint64_t v = 77;

	(void)state;
	id = id_of(longer);
	assert_int_equal(sluice_map_update(outer, &slot, &id, BPF_ANY, NULL), -EINVAL);
	id = id_of(wider);
	assert_int_equal(sluice_map_update(outer, &slot, &id, BPF_ANY, NULL), -EINVAL);
	assert_int_equal(sluice_map_update(outer, &slot, &ghost, BPF_ANY, NULL), -EBADF);
	id = id_of(same);
	assert_int_equal(sluice_map_update(outer, &slot, &id, BPF_NOEXIST, NULL), -EINVAL);
	assert_int_equal(sluice_map_update(outer, &slot, &id, BPF_ANY, NULL), 0);
	assert_int_equal(sluice_map_lookup(outer, &slot, &out, 0, NULL), 0);
	assert_int_equal(out, id);
	/* a program gets the inner map itself, and writes into it */
	got = sluice_map_elem_lookup(outer, &slot, 0);
	assert_non_null(got);
	assert_int_equal(id_of(got), id);
	assert_int_equal(sluice_map_elem_update(got, &(uint32_t){ 2 }, &v, BPF_ANY, 0), 0);
	v = 0;
	assert_int_equal(sluice_map_lookup(same, &(uint32_t){ 2 }, &v, 0, NULL), 0);
	assert_int_equal(v, 77);
	slot = 0;
	assert_null(sluice_map_elem_lookup(outer, &slot, 0));
	assert_int_equal(sluice_map_lookup(outer, &slot, &out, 0, NULL), -ENOENT);
	assert_int_equal(sluice_map_delete(outer, &slot, NULL), -ENOENT);
	slot = 4;
	assert_int_equal(sluice_map_delete(outer, &slot, NULL), -E2BIG);
	assert_int_equal(sluice_map_update(outer, &slot, &id, BPF_ANY, NULL), -E2BIG);
	sluice_map_close(outer);
	sluice_map_close(same);
	sluice_map_close(longer);
	sluice_map_close(wider);
	sluice_map_close(tmpl);
}

/* BPF_F_INNER_MAP on the template lets inner arrays differ in size. */
static void test_inner_map_flag(void **state)
{
	struct sluice_map *tmpl = make_map(BPF_MAP_TYPE_ARRAY, 4, 8, 4, BPF_F_INNER_MAP);
	struct sluice_map *outer = outer_of(BPF_MAP_TYPE_ARRAY_OF_MAPS, tmpl);
	struct sluice_map *longer = make_map(BPF_MAP_TYPE_ARRAY, 4, 8, 9, BPF_F_INNER_MAP);
	uint32_t slot = 0, id = id_of(longer);

	(void)state;
	assert_int_equal(sluice_map_update(outer, &slot, &id, BPF_ANY, NULL), 0);
	sluice_map_close(outer);
	sluice_map_close(longer);
	sluice_map_close(tmpl);
}

/* An inner map outlives its creator's handle while an outer map holds it. */
static void test_lifetime(void **state)
{
	struct sluice_map *tmpl = make_map(BPF_MAP_TYPE_HASH, 4, 4, 4, 0);
	struct sluice_map *outer = outer_of(BPF_MAP_TYPE_HASH_OF_MAPS, tmpl);
	struct sluice_map *a = make_map(BPF_MAP_TYPE_HASH, 4, 4, 4, 0);
	struct sluice_map *b = make_map(BPF_MAP_TYPE_HASH, 4, 4, 4, 0);
	uint32_t key = 10, ida = id_of(a), idb = id_of(b), out;
	struct sluice_error err = { 0 };
	struct sluice_map *again;

	(void)state;
	assert_int_equal(sluice_map_update(outer, &key, &ida, BPF_NOEXIST, NULL), 0);
	assert_int_equal(sluice_map_update(outer, &key, &idb, BPF_NOEXIST, NULL), -EEXIST);
	sluice_map_close(a);
	again = sluice_map_open(ida, &err);
	assert_non_null(again); /* held by the outer map */
	sluice_map_close(again);
	/* replacing a lets it go */
	assert_int_equal(sluice_map_update(outer, &key, &idb, BPF_EXIST, NULL), 0);
	assert_null(sluice_map_open(ida, &err));
	assert_int_equal(err.code, ENOENT);
	assert_int_equal(sluice_map_lookup(outer, &key, &out, 0, NULL), 0);
	assert_int_equal(out, idb);
	/* and when the outer map goes, what it held goes with it */
	sluice_map_close(b);
	sluice_map_close(outer);
	assert_null(sluice_map_open(idb, &err));
	sluice_map_close(tmpl);
}

static void test_prog_array(void **state)
{
	struct sluice_map *map = make_map(BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4, 0);
	uint32_t slot = 3, prog = 42, zero = 0, out;

	(void)state;
	assert_int_equal(sluice_map_prog_id(map, slot), 0);
	assert_int_equal(sluice_map_update(map, &slot, &zero, BPF_ANY, NULL), -EBADF);
	assert_int_equal(sluice_map_update(map, &slot, &prog, BPF_EXIST, NULL), -EINVAL);
	assert_int_equal(sluice_map_update(map, &slot, &prog, BPF_ANY, NULL), 0);
	assert_int_equal(sluice_map_prog_id(map, slot), 42);
	assert_int_equal(sluice_map_prog_id(map, 4), 0);
	assert_int_equal(sluice_map_lookup(map, &slot, &out, 0, NULL), 0);
	assert_int_equal(out, 42);
	assert_null(sluice_map_elem_lookup(map, &slot, 0)); /* programs tail-call instead */
	assert_int_equal(sluice_map_delete(map, &slot, NULL), 0);
	assert_int_equal(sluice_map_delete(map, &slot, NULL), -ENOENT);
	assert_int_equal(sluice_map_prog_id(map, slot), 0);
	slot = 4;
	assert_int_equal(sluice_map_update(map, &slot, &prog, BPF_ANY, NULL), -E2BIG);
	sluice_map_close(map);
	assert_int_equal(create_errno(BPF_MAP_TYPE_PROG_ARRAY, 4, 8, 4, 0), -EINVAL);
	assert_int_equal(create_errno(BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 4, BPF_F_RDONLY_PROG),
			 -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_template),
		cmocka_unit_test(test_array_of_maps),
		cmocka_unit_test(test_inner_map_flag),
		cmocka_unit_test(test_lifetime),
		cmocka_unit_test(test_prog_array),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
