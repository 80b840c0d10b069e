/* SPDX-License-Identifier: MIT */
/*
 * Clocks, CPU, random numbers, bpf_loop and the spin lock helpers.  The
 * clocks are checked to read the kernel's clock of the same name (a value
 * between two readings of it), never against a duration.
 */
#include <time.h>
#include <unistd.h>

#include "helpers_test.h"

static uint64_t now(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void assert_reads_clock(struct fixture *f, uint32_t id, clockid_t clock)
{
	uint64_t before = now(clock), value = call(f, id, 0), after = now(clock);

	assert_in_range(value, before, after);
}

static void test_clocks(void **state)
{
	struct fixture *f = fixture_new("loop_sum");
	struct timespec res;
	uint64_t j1, j2, tick;

	(void)state;
	assert_reads_clock(f, BPF_FUNC_ktime_get_ns, CLOCK_MONOTONIC);
	assert_reads_clock(f, BPF_FUNC_ktime_get_boot_ns, CLOCK_BOOTTIME);
	assert_reads_clock(f, BPF_FUNC_ktime_get_coarse_ns, CLOCK_MONOTONIC_COARSE);
	assert_reads_clock(f, BPF_FUNC_ktime_get_tai_ns, CLOCK_TAI);
	/* jiffies: INITIAL_JIFFIES plus the coarse clock in ticks */
	clock_getres(CLOCK_MONOTONIC_COARSE, &res);
	tick = (uint64_t)res.tv_nsec;
	j1 = now(CLOCK_MONOTONIC_COARSE) / tick;
	j2 = call(f, BPF_FUNC_jiffies64, 0);
	assert_in_range(j2 - (uint64_t)(uint32_t)-(int64_t)(300 * (1000000000 / tick)), j1,
			now(CLOCK_MONOTONIC_COARSE) / tick);
	fixture_free(f);
}

static void test_cpu(void **state)
{
	struct fixture *f = fixture_new("loop_sum");
	uint64_t node;

	(void)state;
	f->run.cpu = 1;
	assert_int_equal(call(f, BPF_FUNC_get_smp_processor_id, 0), 1);
	f->run.cpu = 0;
	assert_int_equal(call(f, BPF_FUNC_get_smp_processor_id, 0), 0);
	node = call(f, BPF_FUNC_get_numa_node_id, 0);
	{
		char path[64];

		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu0/node%u", (unsigned)node);
		/* cpu0 sits under that node, or the machine has no NUMA and node is 0 */
		assert_true(access(path, F_OK) == 0 || node == 0);
	}
	fixture_free(f);
}

static void test_prandom(void **state)
{
	struct fixture *f = fixture_new("loop_sum");
	uint64_t first = call(f, BPF_FUNC_get_prandom_u32, 0), value = first;
	bool differs = false;

	(void)state;
	for (int i = 0; i < 64; i++) {
		value = call(f, BPF_FUNC_get_prandom_u32, 0);
		assert_true(value <= UINT32_MAX);
		differs |= value != first;
	}
	assert_true(differs);
	fixture_free(f);
}

static void test_loop(void **state)
{
	struct fixture *f;

	(void)state;
	for (size_t e = 0; e < NENGINES; e++) {
		f = fixture_new_on("loop_sum", engines[e]);
		/* ten iterations, 0 + 1 + ... + 9 */
		assert_int_equal(run_xdp(f, "loop_sum"), 10 * 1000 + 45);
		fixture_set_knob(f, 0, 4);
		/* the callback returns 1 at index 4: five iterations, 0 + 1 + 2 + 3 + 4 */
		assert_int_equal(run_xdp(f, "loop_sum"), 5 * 1000 + 10);
		fixture_free(f);
	}
	f = fixture_new("loop_sum");
	/* the limits, checked before any callback */
	assert_int_equal(as_long(call(f, BPF_FUNC_loop, (1u << 23) + 1, 0, 0, 0)), -E2BIG);
	assert_int_equal(as_long(call(f, BPF_FUNC_loop, 1, 0, 0, 1)), -EINVAL);
	assert_int_equal(call(f, BPF_FUNC_loop, 0, 0, 0, 0), 0);
	fixture_free(f);
}

static void test_spin_lock(void **state)
{
	struct fixture *f = fixture_new("loop_sum");
	uint32_t lock = 0;

	(void)state;
	assert_int_equal(call(f, BPF_FUNC_spin_lock, ptr(&lock)), 0);
	assert_int_not_equal(lock, 0);
	assert_int_equal(call(f, BPF_FUNC_spin_unlock, ptr(&lock)), 0);
	assert_int_equal(lock, 0);
	fixture_free(f);
}

static void test_strncmp(void **state)
{
	struct fixture *f = fixture_new("loop_sum");

	(void)state;
	assert_int_equal(as_long(call(f, BPF_FUNC_strncmp, ptr("abc"), 3, ptr("abz"))), -1);
	assert_int_equal(as_long(call(f, BPF_FUNC_strncmp, ptr("abz"), 3, ptr("abc"))), 1);
	assert_int_equal(as_long(call(f, BPF_FUNC_strncmp, ptr("\xff"), 1, ptr("a"))), 1);
	assert_int_equal(call(f, BPF_FUNC_strncmp, ptr("abc"), 2, ptr("abz")), 0);
	/* equal up to a NUL in both: the rest is not compared */
	assert_int_equal(call(f, BPF_FUNC_strncmp, ptr("ab\0x"), 4, ptr("ab\0y")), 0);
	assert_int_equal(as_long(call(f, BPF_FUNC_strncmp, ptr("ab"), 4, ptr("abc"))), -1);
	fixture_free(f);
}

struct strtol_case {
	const char *buf;
	uint64_t flags;
	long ret;
	int64_t value;
};

static void test_strtol(void **state)
{
	static const struct strtol_case cases[] = {
		{ "  -42abc", 0, 5, -42 },
		{ "0x1f", 0, 4, 31 },
		{ "0x1f", 16, 4, 31 },
		{ "1f", 16, 2, 31 },
		{ "017", 0, 3, 15 },
		{ "0x", 0, 1, 0 },      /* "x" without a hex digit: octal 0 */
		{ "-9223372036854775808", 10, 20, INT64_MIN },
		{ "9223372036854775808", 10, -ERANGE, 0 },
		{ "99999999999999999999", 10, -ERANGE, 0 },
		{ "abc", 10, -EINVAL, 0 },
		{ "   ", 0, -EINVAL, 0 },
		{ "12", 3, -EINVAL, 0 },
		{ "12", 0x20, -EINVAL, 0 },
	};
	struct fixture *f = fixture_new("loop_sum");
	int64_t value;
	uint64_t uvalue;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct strtol_case *c = &cases[i];
		long ret;

		value = 7;
		ret = as_long(call(f, BPF_FUNC_strtol, ptr(c->buf), strlen(c->buf), c->flags,
				   ptr(&value)));
		if (ret != c->ret || value != c->value)
			fail_msg("strtol(\"%s\", %llu): %ld %lld, want %ld %lld", c->buf,
				 (unsigned long long)c->flags, ret, (long long)value, c->ret,
				 (long long)c->value);
	}
	/* the length bounds the string */
	assert_int_equal(call(f, BPF_FUNC_strtol, ptr("12345"), 2, 10, ptr(&value)), 2);
	assert_int_equal(value, 12);
	/* strtoul: the whole 64 bits, and no sign */
	assert_int_equal(call(f, BPF_FUNC_strtoul, ptr("18446744073709551615"), 20, 10,
			      ptr(&uvalue)), 20);
	assert_int_equal(uvalue, UINT64_MAX);
	uvalue = 7;
	assert_int_equal(as_long(call(f, BPF_FUNC_strtoul, ptr("-1"), 2, 10, ptr(&uvalue))),
			 -EINVAL);
	assert_int_equal(uvalue, 0);
	fixture_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clocks),
		cmocka_unit_test(test_cpu),
		cmocka_unit_test(test_prandom),
		cmocka_unit_test(test_loop),
		cmocka_unit_test(test_spin_lock),
		cmocka_unit_test(test_strncmp),
		cmocka_unit_test(test_strtol),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
