/* SPDX-License-Identifier: MIT */
/*
 * The map helpers through the registry: the kernel's results and errnos,
 * arguments that are not one of the run's maps, and the helpers that need
 * a running program (bpf_for_each_map_elem's callback, bpf_tail_call).
 */
#include "helpers_test.h"

static void test_registry(void **state)
{
	struct sluice_error err = { 0 };
	struct sluice_helpers *xdp = helpers_for_prog_type(BPF_PROG_TYPE_XDP, &err);
	struct sluice_helpers *kprobe = helpers_for_prog_type(BPF_PROG_TYPE_KPROBE, &err);

	(void)state;
	assert_non_null(xdp);
	assert_non_null(kprobe);
	assert_string_equal(sluice_helpers_name(xdp, BPF_FUNC_map_lookup_elem), "map_lookup_elem");
	assert_non_null(sluice_helpers_fn(xdp, BPF_FUNC_ringbuf_output));
	assert_non_null(sluice_helpers_fn(xdp, BPF_FUNC_probe_read_kernel));
	/* the tracing-only helpers stay out of an XDP program's registry */
	assert_null(sluice_helpers_fn(xdp, BPF_FUNC_probe_read));
	assert_null(sluice_helpers_fn(xdp, BPF_FUNC_get_stackid));
	assert_non_null(sluice_helpers_fn(kprobe, BPF_FUNC_probe_read));
	assert_non_null(sluice_helpers_fn(kprobe, BPF_FUNC_get_stackid));
	sluice_helpers_free(xdp);
	sluice_helpers_free(kprobe);
}

static void test_hash(void **state)
{
	struct fixture *f = fixture_new("loop_sum");
	struct sluice_map *hash = fixture_map(f, "hash");
	uint32_t key = 1, other = 2;
	uint64_t value = 10, *found;

	(void)state;
	assert_null((void *)(uintptr_t)call(f, BPF_FUNC_map_lookup_elem, ptr(hash), ptr(&key)));
	assert_int_equal(as_long(call(f, BPF_FUNC_map_update_elem, ptr(hash), ptr(&key),
				      ptr(&value), BPF_EXIST)), -ENOENT);
	assert_int_equal(call(f, BPF_FUNC_map_update_elem, ptr(hash), ptr(&key), ptr(&value),
			      BPF_NOEXIST), 0);
	assert_int_equal(as_long(call(f, BPF_FUNC_map_update_elem, ptr(hash), ptr(&key),
				      ptr(&value), BPF_NOEXIST)), -EEXIST);
	assert_int_equal(as_long(call(f, BPF_FUNC_map_update_elem, ptr(hash), ptr(&key),
				      ptr(&value), 4)), -EINVAL);
	found = (uint64_t *)(uintptr_t)call(f, BPF_FUNC_map_lookup_elem, ptr(hash), ptr(&key));
	assert_non_null(found);
	assert_int_equal(*found, 10);
	*found = 11; /* the pointer is the map's memory, as in the kernel */
	assert_int_equal(sluice_map_lookup(hash, &key, &value, 0, NULL), 0);
	assert_int_equal(value, 11);
	assert_int_equal(as_long(call(f, BPF_FUNC_map_delete_elem, ptr(hash), ptr(&other))),
			 -ENOENT);
	assert_int_equal(call(f, BPF_FUNC_map_delete_elem, ptr(hash), ptr(&key)), 0);
	fixture_free(f);
}

static void test_not_a_map(void **state)
{
	struct fixture *f = fixture_new("loop_sum");
	uint64_t fake[16] = { 0 }, value = 1;
	uint32_t key = 0;

	(void)state;
	assert_int_equal(call(f, BPF_FUNC_map_lookup_elem, ptr(fake), ptr(&key)), 0);
	assert_int_equal(as_long(call(f, BPF_FUNC_map_update_elem, ptr(fake), ptr(&key),
				      ptr(&value), 0)), -EINVAL);
	assert_int_equal(as_long(call(f, BPF_FUNC_map_delete_elem, 0, ptr(&key))), -EINVAL);
	assert_int_equal(as_long(call(f, BPF_FUNC_map_push_elem, ptr(fake), ptr(&value), 0)),
			 -EINVAL);
	assert_int_equal(as_long(call(f, BPF_FUNC_for_each_map_elem, ptr(fake), 0, 0, 0)),
			 -EINVAL);
	fixture_free(f);
}

static void test_map_of_maps(void **state)
{
	struct fixture *f = fixture_new("inner_lookup");
	struct sluice_map *inner = fixture_map(f, "inner"), *outer = fixture_map(f, "outer");
	struct sluice_map_info info;
	uint32_t key = 0, value = 99;

	(void)state;
	assert_int_equal(run_xdp(f, "inner_lookup"), 1);
	sluice_map_get_info(inner, &info);
	assert_int_equal(sluice_map_update(inner, &key, &value, BPF_ANY, NULL), 0);
	assert_int_equal(sluice_map_update(outer, &key, &info.id, BPF_ANY, NULL), 0);
	/* the inner handle the outer lookup returns is a map the helpers take */
	assert_int_equal(run_xdp(f, "inner_lookup"), 99);
	fixture_free(f);
}

static void test_queue(void **state)
{
	struct fixture *f = fixture_new("loop_sum");
	struct sluice_map *queue = fixture_map(f, "queue");
	uint32_t v1 = 1, v2 = 2, v3 = 3, out = 0xffffffff;

	(void)state;
	assert_int_equal(as_long(call(f, BPF_FUNC_map_peek_elem, ptr(queue), ptr(&out))), -ENOENT);
	assert_int_equal(call(f, BPF_FUNC_map_push_elem, ptr(queue), ptr(&v1), BPF_ANY), 0);
	assert_int_equal(call(f, BPF_FUNC_map_push_elem, ptr(queue), ptr(&v2), BPF_ANY), 0);
	assert_int_equal(as_long(call(f, BPF_FUNC_map_push_elem, ptr(queue), ptr(&v3), BPF_ANY)),
			 -E2BIG);
	/* BPF_EXIST makes room by dropping the oldest */
	assert_int_equal(call(f, BPF_FUNC_map_push_elem, ptr(queue), ptr(&v3), BPF_EXIST), 0);
	assert_int_equal(call(f, BPF_FUNC_map_peek_elem, ptr(queue), ptr(&out)), 0);
	assert_int_equal(out, 2);
	assert_int_equal(call(f, BPF_FUNC_map_pop_elem, ptr(queue), ptr(&out)), 0);
	assert_int_equal(out, 2);
	assert_int_equal(call(f, BPF_FUNC_map_pop_elem, ptr(queue), ptr(&out)), 0);
	assert_int_equal(out, 3);
	assert_int_equal(as_long(call(f, BPF_FUNC_map_pop_elem, ptr(queue), ptr(&out))), -ENOENT);
	fixture_free(f);
}

static void test_percpu(void **state)
{
	struct fixture *f = fixture_new("loop_sum");
	struct sluice_map *percpu = fixture_map(f, "percpu");
	int ncpus = sluice_num_possible_cpus();
	uint32_t key = 0;
	uint64_t *mine, *other;

	(void)state;
	assert_true(ncpus >= 1);
	f->run.cpu = (unsigned)ncpus - 1;
	mine = (uint64_t *)(uintptr_t)call(f, BPF_FUNC_map_lookup_elem, ptr(percpu), ptr(&key));
	assert_non_null(mine);
	*mine = 77;
	other = (uint64_t *)(uintptr_t)call(f, BPF_FUNC_map_lookup_percpu_elem, ptr(percpu),
					   ptr(&key), ncpus - 1);
	assert_ptr_equal(other, mine);
	assert_int_equal(*other, 77);
	assert_int_equal(call(f, BPF_FUNC_map_lookup_percpu_elem, ptr(percpu), ptr(&key), ncpus),
			 0);
	/* only per-CPU maps have a value per CPU */
	assert_int_equal(call(f, BPF_FUNC_map_lookup_percpu_elem, ptr(fixture_map(f, "hash")),
			      ptr(&key), 0), 0);
	fixture_free(f);
}

static void test_for_each(void **state)
{
	(void)state;
	for (size_t e = 0; e < NENGINES; e++) {
		struct fixture *f = fixture_new_on("hash_sum", engines[e]);
		struct sluice_map *hash = fixture_map(f, "hash");

		assert_int_equal(run_xdp(f, "hash_sum"), 0);
		for (uint32_t key = 1; key <= 3; key++) {
			uint64_t value = key * 5;

			assert_int_equal(sluice_map_update(hash, &key, &value, BPF_ANY, NULL), 0);
		}
		/* three elements visited, 5 + 10 + 15 */
		assert_int_equal(run_xdp(f, "hash_sum"), 330);
		fixture_free(f);
	}
}

static void test_tail_call(void **state)
{
	(void)state;
	for (size_t e = 0; e < NENGINES; e++) {
		struct fixture *f = fixture_new_on("tail_caller", engines[e]);
		struct sluice_map *progs = fixture_map(f, "progs");
		uint32_t slot0 = 0;
		uint32_t target = sluice_rt_prog_id(sluice_rt_find_prog(f->rt, "tail_target"));

		/* an empty slot: the caller goes on */
		assert_int_equal(run_xdp(f, "tail_caller"), 7);
		assert_int_equal(sluice_map_update(progs, &slot0, &target, BPF_ANY, NULL), 0);
		assert_int_equal(run_xdp(f, "tail_caller"), 42);
		fixture_free(f);
	}
}

static void test_tail_call_limit(void **state)
{
	(void)state;
	for (size_t e = 0; e < NENGINES; e++) {
		struct fixture *f = fixture_new_on("tail_self", engines[e]);
		struct sluice_map *progs = fixture_map(f, "progs");
		uint32_t slot1 = 1;
		uint32_t self = sluice_rt_prog_id(sluice_rt_find_prog(f->rt, "tail_self"));

		assert_int_equal(sluice_map_update(progs, &slot1, &self, BPF_ANY, NULL), 0);
		/* the first run and the kernel's 33 tail calls */
		assert_int_equal(run_xdp(f, "tail_self"), 34);
		fixture_free(f);
	}
}

static void test_tail_call_direct(void **state)
{
	struct fixture *f = fixture_new("tail_caller");
	struct sluice_map *progs = fixture_map(f, "progs");

	(void)state;
	/* nothing in slot 1: the helper returns and the program is not stopped */
	assert_int_equal(call(f, BPF_FUNC_tail_call, 0, ptr(progs), 1), 0);
	assert_false(f->sluice_run.stopped);
	/* an index past the array */
	assert_int_equal(call(f, BPF_FUNC_tail_call, 0, ptr(progs), 2), 0);
	assert_false(f->sluice_run.stopped);
	assert_int_equal(f->run.tail_calls, 0);
	fixture_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registry),
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_not_a_map),
		cmocka_unit_test(test_map_of_maps),
		cmocka_unit_test(test_queue),
		cmocka_unit_test(test_percpu),
		cmocka_unit_test(test_for_each),
		cmocka_unit_test(test_tail_call),
		cmocka_unit_test(test_tail_call_limit),
		cmocka_unit_test(test_tail_call_direct),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
