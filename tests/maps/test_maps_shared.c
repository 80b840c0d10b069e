/* SPDX-License-Identifier: MIT */
/*
 * Maps shared between processes: the registry (`sluice map list`), opening
 * a map by id from another process, pinned maps, stale maps of processes
 * that died, names, and the number of possible CPUs.
 */
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "maps_test.h"

struct find {
	uint32_t id;
	struct sluice_map_info info;
	int found;
};

static int find_id(const struct sluice_map_info *info, void *ctx)
{
	struct find *f = ctx;

	if (info->id == f->id) {
		f->info = *info;
		f->found++;
	}
	return 0;
}

static int listed(uint32_t id, struct sluice_map_info *info)
{
	struct find f = { .id = id };

	assert_int_equal(sluice_map_list(find_id, &f, NULL), 0);
	if (info)
		*info = f.info;
	return f.found;
}

static uint32_t id_of(struct sluice_map *map)
{
	struct sluice_map_info info;

	sluice_map_get_info(map, &info);
	return info.id;
}

static int stop_at_first(const struct sluice_map_info *info, void *ctx)
{
	(void)info;
	(void)ctx;
	return 7;
}

static void test_list(void **state)
{
	struct sluice_map_attr attr = {
		.type = BPF_MAP_TYPE_HASH, .key_size = 4, .value_size = 8, .max_entries = 16,
		.name = "flows.v4",
	};
	struct sluice_map *map = make_map_attr(&attr);
	struct sluice_map_info info;
	uint32_t id = id_of(map), k = 1;
	uint64_t v = 2;

	(void)state;
	assert_int_equal(sluice_map_update(map, &k, &v, BPF_ANY, NULL), 0);
	assert_int_equal(listed(id, &info), 1);
	assert_string_equal(info.name, "flows.v4");
	assert_int_equal(info.owner_pid, getpid());
	assert_int_equal(info.type, BPF_MAP_TYPE_HASH);
	assert_int_equal(info.entries, 1);
	assert_int_equal(sluice_map_list(stop_at_first, NULL, NULL), 7);
	sluice_map_close(map);
	assert_int_equal(listed(id, NULL), 0);
}

/* Another process opens the map by id (its own mapping) and writes; we read. */
static void test_other_process(void **state)
{
	struct sluice_map *map = make_map(BPF_MAP_TYPE_HASH, 4, 8, 64, 0);
	uint32_t id = id_of(map);
	int status;
	pid_t pid = fork();

	(void)state;
	assert_true(pid >= 0);
	if (pid == 0) {
		struct sluice_map *mine = sluice_map_open(id, NULL);
		int bad = !mine;

		for (uint32_t k = 0; mine && k < 32; k++) {
			uint64_t v = k * 3;

			bad |= sluice_map_update(mine, &k, &v, BPF_NOEXIST, NULL) != 0;
		}
		sluice_map_close(mine);
		_exit(bad);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	for (uint32_t k = 0; k < 32; k++) {
		uint64_t v;

		assert_int_equal(sluice_map_lookup(map, &k, &v, 0, NULL), 0);
		assert_int_equal(v, k * 3);
	}
	/* the other process only closed its handle: the map lives on */
	assert_int_equal(listed(id, NULL), 1);
	sluice_map_close(map);
}

static void test_pinned(void **state)
{
	struct sluice_map_attr attr = {
		.type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 4, .max_entries = 1,
		.name = "pinned_one", .pinned = true,
	};
	struct sluice_map *map = make_map_attr(&attr), *plain;
	struct sluice_map_info info;
	struct sluice_error err = { 0 };
	uint32_t id = id_of(map), plain_id;

	(void)state;
	sluice_map_close(map);
	assert_int_equal(listed(id, &info), 1);
	assert_int_equal(info.owner_pid, 0);
	map = sluice_map_open(id, &err);
	assert_non_null(map);
	sluice_map_close(map);
	assert_int_equal(sluice_map_remove(id, NULL), 0);
	assert_int_equal(listed(id, NULL), 0);
	assert_int_equal(sluice_map_remove(id, &err), -ENOENT);

	plain = make_map(BPF_MAP_TYPE_ARRAY, 4, 4, 1, 0);
	plain_id = id_of(plain);
	assert_int_equal(sluice_map_remove(plain_id, &err), -EPERM);
	assert_non_null(strstr(err.msg, "only pinned"));
	sluice_map_close(plain);
}

/* A process that dies with its maps open leaves stale files: list removes them. */
static void test_stale(void **state)
{
	int pipefd[2], status;
	uint32_t id = 0;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct sluice_map_attr attr = {
			.sz = sizeof(attr), .type = BPF_MAP_TYPE_HASH, .key_size = 4,
			.value_size = 4, .max_entries = 4, .name = "doomed",
		};
		struct sluice_map *map = sluice_map_create(&attr, NULL);

		id = map ? id_of(map) : 0;
		_exit(write(pipefd[1], &id, sizeof(id)) != sizeof(id)); /* no close */
	}
	assert_int_equal(read(pipefd[0], &id, sizeof(id)), sizeof(id));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	close(pipefd[0]);
	close(pipefd[1]);
	assert_true(id != 0);
	assert_int_equal(listed(id, NULL), 0);
	assert_null(sluice_map_open(id, NULL));
}

static void test_names_and_attrs(void **state)
{
	struct sluice_map_attr attr = {
		.sz = sizeof(attr), .type = BPF_MAP_TYPE_ARRAY, .key_size = 4,
		.value_size = 4, .max_entries = 1,
	};
	struct sluice_error err = { 0 };
	struct sluice_map *map;

	(void)state;
	attr.name = "no-dashes";
	assert_null(sluice_map_create(&attr, &err));
	assert_int_equal(err.code, EINVAL);
	attr.name = "sixteen_chars_xx";
	assert_null(sluice_map_create(&attr, &err));
	assert_int_equal(err.code, EINVAL);
	attr.name = "fifteen_chars_x";
	map = sluice_map_create(&attr, &err);
	assert_non_null(map);
	sluice_map_close(map);
	attr.name = NULL; /* unnamed */
	map = sluice_map_create(&attr, &err);
	assert_non_null(map);
	sluice_map_close(map);
	attr.sz = 4;
	assert_null(sluice_map_create(&attr, &err));
	assert_int_equal(err.code, EINVAL);
	assert_null(sluice_map_open(0xfffffff0u, &err));
	assert_int_equal(err.code, ENOENT);
}

static void test_possible_cpus(void **state)
{
	(void)state;
	assert_int_equal(sluice_num_possible_cpus(), libbpf_num_possible_cpus());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_other_process),
		cmocka_unit_test(test_pinned),
		cmocka_unit_test(test_stale),
		cmocka_unit_test(test_names_and_attrs),
		cmocka_unit_test(test_possible_cpus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
