/* SPDX-License-Identifier: MIT */
/*
 * What the differential needs of the kernel backend beyond a test run's
 * verdict: the context a program hands back (ctx_out) and its maps' file
 * descriptors.  usage: test_kernel_ctx_maps EXAMPLES_BPF_DIR TEST_OBJECTS_DIR
 * (where rejected_with_map.o is); exits 77, saying why, when the kernel
 * refuses bpf().
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <sluice/kernel.h>

#define SKIP 77
#define TC_COUNTER_MARK_BASE 0x5100 /* examples/bpf/tc_counter.c */
#define UDP 17

static const char *examples;
static const char *test_objects; /* rejected_with_map.o */

/* Ethernet, IPv4 (UDP), 8 bytes of UDP header. */
static const uint8_t udp_frame[42] = {
	0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00,
	0x45, 0, 0, 28, 0, 0, 0, 0, 64, UDP, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
	0, 53, 0, 53, 0, 8, 0, 0,
};

static struct sluice_kernel_object *open_example(const char *name)
{
	struct sluice_error err = { 0 };
	char path[4096];
	struct sluice_kernel_object *obj;

	snprintf(path, sizeof(path), "%s/%s", examples, name);
	obj = sluice_kernel_open(path, NULL, &err);
	if (!obj)
		fail_msg("%s", err.msg);
	return obj;
}

static void context_comes_back(void **state)
{
	struct sluice_kernel_object *obj = open_example("tc_counter.o");
	struct __sk_buff in = { .priority = 3, .cb = { 1, 2, 3, 4, 5 } }, out;
	uint8_t packet[sizeof(udp_frame)];
	struct sluice_error err = { 0 };
	struct sluice_kernel_run run = {
		.sz = sizeof(run), .data_in = udp_frame, .data_size_in = sizeof(udp_frame),
		.data_out = packet, .data_size_out = sizeof(packet),
		.ctx_in = &in, .ctx_size_in = sizeof(in),
		.ctx_out = &out, .ctx_size_out = sizeof(out),
	};

	(void)state;
	memset(&out, 0xee, sizeof(out));
	assert_int_equal(sluice_kernel_test_run(obj, 0, &run, &err), 0);
	assert_int_equal(run.ctx_size_out, sizeof(out));
	/* the program's write, and what the caller set, both come back */
	assert_int_equal(out.mark, TC_COUNTER_MARK_BASE + UDP);
	assert_int_equal(out.priority, 3);
	assert_memory_equal(out.cb, in.cb, sizeof(in.cb));
	sluice_kernel_close(obj);
}

static void no_context_asked_for(void **state)
{
	struct sluice_kernel_object *obj = open_example("tc_counter.o");
	struct sluice_error err = { 0 };
	struct sluice_kernel_run run = {
		.sz = sizeof(run), .data_in = udp_frame, .data_size_in = sizeof(udp_frame),
		.ctx_size_out = 123, /* without ctx_out, not read */
	};

	(void)state;
	assert_int_equal(sluice_kernel_test_run(obj, 0, &run, &err), 0);
	assert_int_equal(run.ctx_size_out, 0);
	sluice_kernel_close(obj);
}

/* The per-CPU counter the test run bumped, read through the map's fd. */
static void map_through_fd(void **state)
{
	struct sluice_kernel_object *obj = open_example("tc_counter.o");
	struct sluice_error err = { 0 };
	struct sluice_kernel_run run = {
		.sz = sizeof(run), .data_in = udp_frame, .data_size_in = sizeof(udp_frame),
	};
	int cpus = libbpf_num_possible_cpus();
	uint64_t *values = calloc((size_t)cpus, 2 * sizeof(uint64_t)); /* {packets, bytes} */
	uint64_t packets = 0, bytes = 0;
	uint32_t key = UDP;
	int fd;

	(void)state;
	assert_non_null(values);
	assert_int_equal(sluice_kernel_map_count(obj), 1);
	fd = sluice_kernel_map_fd(obj, 0, &err);
	assert_true(fd >= 0);
	assert_int_equal(sluice_kernel_test_run(obj, 0, &run, &err), 0);
	assert_int_equal(bpf_map_lookup_elem(fd, &key, values), 0);
	for (int c = 0; c < cpus; c++) {
		packets += values[2 * c];
		bytes += values[2 * c + 1];
	}
	assert_int_equal(packets, 1);
	assert_int_equal(bytes, sizeof(udp_frame));
	assert_int_equal(sluice_kernel_map_fd(obj, 1, &err), -EINVAL);
	free(values);
	sluice_kernel_close(obj);
}

/* No program loads, so no map exists to hand out. */
static void no_maps_without_programs(void **state)
{
	struct sluice_error err = { 0 };
	char path[4096];
	struct sluice_kernel_object *obj;

	(void)state;
	snprintf(path, sizeof(path), "%s/rejected_with_map.o", test_objects);
	obj = sluice_kernel_open(path, NULL, &err);
	assert_non_null(obj);
	assert_int_equal(sluice_kernel_map_count(obj), 1);
	assert_int_equal(sluice_kernel_map_fd(obj, 0, &err), -ENOENT);
	sluice_kernel_close(obj);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(context_comes_back),
		cmocka_unit_test(no_context_asked_for),
		cmocka_unit_test(map_through_fd),
		cmocka_unit_test(no_maps_without_programs),
	};
	struct sluice_error err = { 0 };

	if (argc != 3) {
		fprintf(stderr, "usage: test_kernel_ctx_maps EXAMPLES_BPF_DIR TEST_OBJECTS_DIR\n");
		return 2;
	}
	examples = argv[1];
	test_objects = argv[2];
	if (sluice_kernel_probe(&err)) {
		printf("skipped: %s\n", err.msg);
		return SKIP;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
