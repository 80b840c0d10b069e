/* SPDX-License-Identifier: MIT */
/*
 * The kernel backend's tracepoint and cgroup attachments, with the
 * security programs: a cgroup program is attached to a cgroup made for the
 * test (and listed there by BPF_PROG_QUERY) and gone after detach; a
 * tracepoint attaches and detaches; the wrong section, a missing cgroup and
 * a missing tracepoint are refused with a reason.
 * usage: test_attach KERN_O   (exit 77 without root, bpf() or cgroup v2)
 */
#include <errno.h>
#include <mntent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <bpf/bpf.h>

#include <sluice/kernel.h>

static const char *kern_o;
static char cgroup[4096];

static struct sluice_kernel_object *open_loaded(void)
{
	struct sluice_error err = { 0 };
	struct sluice_kernel_object *obj = sluice_kernel_open(kern_o, NULL, &err);
	struct sluice_kernel_verdict v;

	if (!obj)
		fail_msg("%s", err.msg);
	assert_int_equal(sluice_kernel_load_prog(obj, 0, &v, &err), 0);
	return obj;
}

static size_t prog_index(struct sluice_kernel_object *obj, const char *name)
{
	struct sluice_error err = { 0 };
	int i = sluice_kernel_find_prog(obj, name, &err);

	if (i < 0)
		fail_msg("%s", err.msg);
	return (size_t)i;
}

static uint32_t attached_to_cgroup(void)
{
	int fd = open(cgroup, O_RDONLY | O_DIRECTORY);
	uint32_t count = 0;

	assert_true(fd >= 0);
	assert_int_equal(bpf_prog_query(fd, BPF_CGROUP_INET4_CONNECT, 0, NULL, NULL, &count), 0);
	close(fd);
	return count;
}

static void test_cgroup(void **state)
{
	struct sluice_kernel_object *obj = open_loaded();
	struct sluice_kernel_attachment *att = NULL;
	struct sluice_error err = { 0 };
	size_t i = prog_index(obj, "sec_connect4");

	(void)state;
	assert_int_equal(attached_to_cgroup(), 0);
	if (sluice_kernel_attach_cgroup(obj, i, cgroup, &att, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(attached_to_cgroup(), 1);
	assert_int_equal(sluice_kernel_detach(att, &err), 0);
	assert_int_equal(attached_to_cgroup(), 0);
	assert_int_equal(sluice_kernel_attach_cgroup(obj, i, "/nonexistent/cgroup", &att, &err),
			 -ENOENT);
	assert_non_null(strstr(err.msg, "/nonexistent/cgroup"));
	sluice_kernel_close(obj);
}

static void test_tracepoint(void **state)
{
	struct sluice_kernel_object *obj = open_loaded();
	struct sluice_kernel_attachment *att = NULL;
	struct sluice_error err = { 0 };

	(void)state;
	if (sluice_kernel_attach_tracepoint(obj, prog_index(obj, "sec_exec"), &att, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(sluice_kernel_detach(att, &err), 0);
	/* a cgroup program names no tracepoint */
	assert_int_equal(sluice_kernel_attach_tracepoint(obj, prog_index(obj, "sec_connect4"),
							 &att, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "names no tracepoint"));
	sluice_kernel_close(obj);
}

static int cgroup2_root(char *buf, size_t size)
{
	FILE *f = setmntent("/proc/self/mounts", "r");
	struct mntent *m;
	int ret = -1;

	while (f && ret && (m = getmntent(f)))
		if (!strcmp(m->mnt_type, "cgroup2")) {
			snprintf(buf, size, "%s", m->mnt_dir);
			ret = 0;
		}
	if (f)
		endmntent(f);
	return ret;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cgroup),
		cmocka_unit_test(test_tracepoint),
	};
	struct sluice_error err = { 0 };
	char root[2048];
	struct stat st;
	int ret;

	if (argc != 2) {
		fprintf(stderr, "usage: %s KERN_O\n", argv[0]);
		return 2;
	}
	kern_o = argv[1];
	if (geteuid() || sluice_kernel_probe(&err)) {
		printf("SKIP: needs root and bpf() (%s)\n", err.msg);
		return 77;
	}
	if (cgroup2_root(root, sizeof(root))) {
		printf("SKIP: no cgroup v2 hierarchy\n");
		return 77;
	}
	if (stat("/sys/kernel/tracing/events", &st) &&
	    mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL)) {
		printf("SKIP: no tracefs\n");
		return 77;
	}
	snprintf(cgroup, sizeof(cgroup), "%s/sluice-attach-test-%d", root, getpid());
	if (mkdir(cgroup, 0755)) {
		printf("SKIP: cannot create %s\n", cgroup);
		return 77;
	}
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(cgroup);
	return ret;
}
