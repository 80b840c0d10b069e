/* SPDX-License-Identifier: MIT */
/*
 * The tracing helpers: bpf_trace_printk's lines and the formats the kernel
 * refuses, bpf_trace_vprintk, bpf_snprintf, the probe_read copies on
 * readable and unmapped memory, the current task, and stacks.
 */
#define _GNU_SOURCE /* gettid */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers_test.h"

static long printk(struct fixture *f, const char *fmt, uint64_t a1, uint64_t a2, uint64_t a3)
{
	f->nlines = 0;
	return as_long(call(f, BPF_FUNC_trace_printk, ptr(fmt), strlen(fmt) + 1, a1, a2, a3));
}

static void assert_printk(struct fixture *f, const char *fmt, uint64_t a1, uint64_t a2,
			  uint64_t a3, const char *line)
{
	long ret = printk(f, fmt, a1, a2, a3);

	if (ret < 0)
		fail_msg("\"%s\": %ld", fmt, ret);
	assert_int_equal(f->nlines, 1);
	assert_string_equal(f->lines[0], line);
}

static void test_printk_formats(void **state)
{
	struct fixture *f = fixture_new("printk");
	const uint8_t ip4[4] = { 10, 0, 0, 1 };
	const uint8_t ip6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

	(void)state;
	assert_int_equal(printk(f, "%d %u %x\n", (uint64_t)-5, 7, 255), 8); /* "-5 7 ff\n" */
	assert_int_equal(f->nlines, 1);
	assert_string_equal(f->lines[0], "-5 7 ff");
	assert_printk(f, "%i|%X|%u", 0x1ffffffffull, 0xabc, (uint64_t)-1, "-1|ABC|4294967295");
	assert_printk(f, "%lld %llu %lx", (uint64_t)-5, (uint64_t)-1, 0x123456789aull,
		      "-5 18446744073709551615 123456789a");
	assert_printk(f, "%5d|%-5d|%05d", 42, 42, 42, "   42|42   |00042");
	assert_printk(f, "[%s] [%c] 100%%", ptr("abc"), 'Z', 0, "[abc] [Z] 100%");
	/* an unreadable string prints as nothing */
	assert_printk(f, "[%s]", 8, 0, 0, "[]");
	assert_printk(f, "%pI4 %pi4", ptr(ip4), ptr(ip4), 0, "10.0.0.1 010.000.000.001");
	assert_printk(f, "%pI6", ptr(ip6), 0, 0, "2001:0db8:0000:0000:0000:0000:0000:0001");
	assert_printk(f, "%pi6", ptr(ip6), 0, 0, "20010db8000000000000000000000001");
	assert_printk(f, "%px %p", 0xabcdef, 0x10, 0, "0000000000abcdef 0000000000000010");
	assert_printk(f, "%pks %pus", ptr("kern"), ptr("user"), 0, "kern user");
	fixture_free(f);
}

static void test_printk_refused(void **state)
{
	static const char *const refused[] = {
		"%d %d %d %d", /* a fourth argument */
		"%f", "%.2d", "%hd", "%lu%n", "%zu", "%#x", "%sx", "%pK%", "%pZ",
		"bell\a", "%",
	};
	struct fixture *f = fixture_new("printk");
	const char unterminated[4] = { 'a', 'b', 'c', 'd' };

	(void)state;
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		long ret = printk(f, refused[i], 1, 2, 3);

		if (ret != -EINVAL)
			fail_msg("\"%s\": %ld, want -EINVAL", refused[i], ret);
		assert_int_equal(f->nlines, 0);
	}
	/* the format must end within its size */
	assert_int_equal(as_long(call(f, BPF_FUNC_trace_printk, ptr(unterminated),
				      sizeof(unterminated), 0, 0, 0)), -EINVAL);
	fixture_free(f);
}

static void test_printk_lines(void **state)
{
	struct fixture *f = fixture_new("printk");
	char long_fmt[1100];

	(void)state;
	assert_int_equal(printk(f, "one\ntwo\n", 0, 0, 0), 8);
	assert_int_equal(f->nlines, 2);
	assert_string_equal(f->lines[0], "one");
	assert_string_equal(f->lines[1], "two");
	/* the line is cut at the kernel's 1024 bytes, the length is not */
	memset(long_fmt, 'x', sizeof(long_fmt) - 1);
	long_fmt[sizeof(long_fmt) - 1] = 0;
	assert_int_equal(printk(f, long_fmt, 0, 0, 0), sizeof(long_fmt) - 1);
	assert_int_equal(strlen(f->lines[0]), 1023);
	/* from a program: the format in .rodata, the argument from the context */
	f->nlines = 0;
	assert_int_equal(run_xdp(f, "printk"), 3); /* "-3%" */
	assert_int_equal(f->nlines, 2);
	assert_string_equal(f->lines[0], "len 64, ok");
	assert_string_equal(f->lines[1], "-3%");
	fixture_free(f);
}

static void test_vprintk_and_snprintf(void **state)
{
	struct fixture *f = fixture_new("printk");
	const uint64_t args[4] = { 1, 2, 3, 4 };
	const char *fmt = "%d-%d-%d-%d";
	char out[8];

	(void)state;
	f->nlines = 0;
	assert_int_equal(call(f, BPF_FUNC_trace_vprintk, ptr(fmt), strlen(fmt) + 1, ptr(args),
			      sizeof(args)), 7);
	assert_int_equal(f->nlines, 1);
	assert_string_equal(f->lines[0], "1-2-3-4");
	assert_int_equal(as_long(call(f, BPF_FUNC_trace_vprintk, ptr(fmt), strlen(fmt) + 1,
				      ptr(args), 7)), -EINVAL);
	assert_int_equal(as_long(call(f, BPF_FUNC_trace_vprintk, ptr(fmt), strlen(fmt) + 1,
				      ptr(args), 13 * 8)), -EINVAL);
	assert_int_equal(as_long(call(f, BPF_FUNC_trace_vprintk, ptr(fmt), strlen(fmt) + 1,
				      ptr(args), 3 * 8)), -EINVAL); /* four conversions */
	/* bpf_snprintf: the length with its NUL, the output cut to fit */
	memset(out, 'z', sizeof(out));
	assert_int_equal(call(f, BPF_FUNC_snprintf, ptr(out), sizeof(out), ptr(fmt), ptr(args),
			      sizeof(args)), 8);
	assert_string_equal(out, "1-2-3-4");
	assert_int_equal(call(f, BPF_FUNC_snprintf, ptr(out), 4, ptr(fmt), ptr(args),
			      sizeof(args)), 8);
	assert_string_equal(out, "1-2");
	assert_int_equal(call(f, BPF_FUNC_snprintf, 0, 0, ptr(fmt), ptr(args), sizeof(args)), 8);
	assert_int_equal(as_long(call(f, BPF_FUNC_snprintf, ptr(out), sizeof(out), ptr("%s"),
				      0, 0)), -EINVAL);
	fixture_free(f);
}

static void test_probe_read(void **state)
{
	struct fixture *f = fixture_new("raw_tp");
	long page = sysconf(_SC_PAGESIZE);
	uint8_t *pages = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *edge = pages + page - 4, dst[8];
	const uint64_t ids[] = { BPF_FUNC_probe_read, BPF_FUNC_probe_read_kernel,
				 BPF_FUNC_probe_read_user, BPF_FUNC_copy_from_user };

	(void)state;
	assert_ptr_not_equal(pages, MAP_FAILED);
	memcpy(edge, "abc", 4);
	assert_int_equal(mprotect(pages + page, page, PROT_NONE), 0);
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		memset(dst, 0xaa, sizeof(dst));
		assert_int_equal(call(f, ids[i], ptr(dst), 4, ptr(edge)), 0);
		assert_memory_equal(dst, "abc\0\xaa", 5);
		/* four readable bytes, then the unmapped page: nothing copied, all zeroed */
		memset(dst, 0xaa, sizeof(dst));
		assert_int_equal(as_long(call(f, ids[i], ptr(dst), 8, ptr(edge))), -EFAULT);
		assert_memory_equal(dst, "\0\0\0\0\0\0\0\0", 8);
		assert_int_equal(as_long(call(f, ids[i], ptr(dst), 1, 0)), -EFAULT);
		assert_int_equal(call(f, ids[i], ptr(dst), 0, 0), 0);
	}
	munmap(pages, 2 * page);
	fixture_free(f);
}

static void test_probe_read_str(void **state)
{
	struct fixture *f = fixture_new("raw_tp");
	long page = sysconf(_SC_PAGESIZE);
	uint8_t *pages = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *edge = pages + page - 4;
	char dst[8];
	const uint64_t ids[] = { BPF_FUNC_probe_read_str, BPF_FUNC_probe_read_kernel_str,
				 BPF_FUNC_probe_read_user_str };

	(void)state;
	assert_ptr_not_equal(pages, MAP_FAILED);
	assert_int_equal(mprotect(pages + page, page, PROT_NONE), 0);
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		/* the string ends before the unmapped page: read, and dst past it untouched */
		memcpy(edge, "abc", 4);
		memset(dst, 0x55, sizeof(dst));
		assert_int_equal(call(f, ids[i], ptr(dst), sizeof(dst), ptr(edge)), 4);
		assert_memory_equal(dst, "abc\0\x55\x55\x55\x55", 8);
		/* cut to the size, terminated */
		assert_int_equal(call(f, ids[i], ptr(dst), 3, ptr("hello")), 3);
		assert_string_equal(dst, "he");
		/* no NUL before the unmapped page */
		memcpy(edge, "abcd", 4);
		memset(dst, 0x55, sizeof(dst));
		assert_int_equal(as_long(call(f, ids[i], ptr(dst), sizeof(dst), ptr(edge))), -EFAULT);
		assert_memory_equal(dst, "\0\0\0\0\0\0\0\0", 8);
		assert_int_equal(call(f, ids[i], ptr(dst), 0, ptr("x")), 0);
	}
	munmap(pages, 2 * page);
	fixture_free(f);
}

static void test_current_task(void **state)
{
	struct fixture *f = fixture_new("raw_tp");
	char comm[16], small[4];
	struct bpf_pidns_info ns;
	struct stat st;

	(void)state;
	assert_int_equal(call(f, BPF_FUNC_get_current_pid_tgid, 0),
			 (uint64_t)getpid() << 32 | (uint32_t)gettid());
	assert_int_equal(call(f, BPF_FUNC_get_current_uid_gid, 0),
			 (uint64_t)getgid() << 32 | getuid());
	assert_int_equal(prctl(PR_SET_NAME, "helper-comm"), 0);
	memset(comm, 0x55, sizeof(comm));
	assert_int_equal(call(f, BPF_FUNC_get_current_comm, ptr(comm), sizeof(comm)), 0);
	assert_memory_equal(comm, "helper-comm\0\0\0\0\0", 16);
	assert_int_equal(call(f, BPF_FUNC_get_current_comm, ptr(small), sizeof(small)), 0);
	assert_memory_equal(small, "hel", 4);
	assert_int_equal(call(f, BPF_FUNC_get_current_task, 0), 0);
	assert_int_equal(call(f, BPF_FUNC_get_attach_cookie, 0), 0);
	/* the pid namespace: only the thread's own */
	assert_int_equal(stat("/proc/self/ns/pid", &st), 0);
	assert_int_equal(call(f, BPF_FUNC_get_ns_current_pid_tgid, st.st_dev, st.st_ino, ptr(&ns),
			      sizeof(ns)), 0);
	assert_int_equal(ns.pid, gettid());
	assert_int_equal(ns.tgid, getpid());
	assert_int_equal(as_long(call(f, BPF_FUNC_get_ns_current_pid_tgid, st.st_dev,
				      st.st_ino + 1, ptr(&ns), sizeof(ns))), -EINVAL);
	assert_int_equal(ns.pid, 0);
	assert_int_equal(as_long(call(f, BPF_FUNC_get_ns_current_pid_tgid, st.st_dev, st.st_ino,
				      ptr(&ns), 4)), -EINVAL);
	fixture_free(f);
}

static void test_cgroup_id(void **state)
{
	struct fixture *f = fixture_new("raw_tp");

	(void)state;
	/* the root cgroup, level 0, is id 1; a level deeper than the thread's has none */
	assert_int_equal(call(f, BPF_FUNC_get_current_ancestor_cgroup_id, 0), 1);
	assert_int_equal(call(f, BPF_FUNC_get_current_ancestor_cgroup_id, 1000), 0);
	assert_int_not_equal(call(f, BPF_FUNC_get_current_cgroup_id, 0), 0);
	fixture_free(f);
}

static void test_stacks(void **state)
{
	struct fixture *f = fixture_new("raw_tp");
	struct sluice_map *stacks = fixture_map(f, "stacks");
	uint64_t ips[8] = { 0 };
	struct bpf_stack_build_id frames[2];
	long id1 = -1, id2 = -1, len;

	(void)state;
	len = as_long(call(f, BPF_FUNC_get_stack, 0, ptr(ips), sizeof(ips), 0));
	assert_true(len > 0 && len % 8 == 0);
	assert_int_not_equal(ips[0], 0);
	/* skipping every frame there is */
	memset(ips, 0x55, sizeof(ips));
	assert_int_equal(as_long(call(f, BPF_FUNC_get_stack, 0, ptr(ips), sizeof(ips), 255)),
			 -EFAULT);
	assert_int_equal(ips[7], 0);
	assert_int_equal(as_long(call(f, BPF_FUNC_get_stack, 0, ptr(ips), 12, 0)), -EINVAL);
	assert_int_equal(as_long(call(f, BPF_FUNC_get_stack, 0, ptr(ips), sizeof(ips), 1ull << 20)),
			 -EINVAL);
	/* build ids: user stacks only, each frame as a bare address */
	assert_int_equal(as_long(call(f, BPF_FUNC_get_stack, 0, ptr(frames), sizeof(frames),
				      BPF_F_USER_BUILD_ID)), -EINVAL);
	assert_int_equal(call(f, BPF_FUNC_get_stack, 0, ptr(frames), sizeof(frames),
			      BPF_F_USER_STACK | BPF_F_USER_BUILD_ID), sizeof(frames));
	assert_int_equal(frames[0].status, BPF_STACK_BUILD_ID_IP);
	assert_int_not_equal(frames[0].ip, 0);
	/* the same call site, the same stack, the same id (volatile: not unrolled) */
	for (volatile int i = 0; i < 2; i++) {
		long id = as_long(call(f, BPF_FUNC_get_stackid, 0, ptr(stacks), 0));

		assert_true(id >= 0);
		*(i ? &id2 : &id1) = id;
	}
	assert_int_equal(id1, id2);
	assert_int_equal(as_long(call(f, BPF_FUNC_get_stackid, 0, ptr(ips), 0)), -EINVAL);
	fixture_free(f);
}

/* BPF_PROG_TEST_RUN of a raw tracepoint program: its retval. */
static int32_t run_raw_tp(struct fixture *f, const char *prog)
{
	uint64_t args[2] = { 0 };
	struct sluice_test_run t = { .sz = sizeof(t), .ctx_in = args, .ctx_size_in = sizeof(args) };
	struct sluice_error err = { 0 };

	if (sluice_rt_test_run(sluice_rt_find_prog(f->rt, prog), &t, &err) < 0)
		fail_msg("%s: %s", prog, err.msg);
	return (int32_t)t.retval;
}

static void test_stacks_from_program(void **state)
{
	struct fixture *f = fixture_new("stack_id");
	int32_t ids[2];

	(void)state;
	/* the engine, the runtime and the test beneath the program: more than 8 frames */
	assert_int_equal(run_raw_tp(f, "stack_depth"), 8);
	/* the same path to the program, the same stack (volatile: one call site, not unrolled) */
	for (volatile int i = 0; i < 2; i++)
		ids[i] = run_raw_tp(f, "stack_id");
	assert_true(ids[0] >= 0);
	assert_int_equal(ids[1], ids[0]);
	fixture_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_printk_formats),
		cmocka_unit_test(test_printk_refused),
		cmocka_unit_test(test_printk_lines),
		cmocka_unit_test(test_vprintk_and_snprintf),
		cmocka_unit_test(test_probe_read),
		cmocka_unit_test(test_probe_read_str),
		cmocka_unit_test(test_current_task),
		cmocka_unit_test(test_cgroup_id),
		cmocka_unit_test(test_stacks),
		cmocka_unit_test(test_stacks_from_program),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
