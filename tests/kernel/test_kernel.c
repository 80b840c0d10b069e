/* SPDX-License-Identifier: MIT */
/*
 * The kernel backend's API on the examples: verdicts and their statistics,
 * errors, BPF_PROG_TEST_RUN, and XDP and TC attachments on a veth pair in a
 * network namespace of the test's own (nothing outside it is touched).
 * usage: test_kernel EXAMPLES_BPF_DIR.  Exits 77, saying why, when the
 * kernel refuses bpf() or the namespace cannot be made.
 */
#define _GNU_SOURCE /* unshare */
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include <sluice/kernel.h>

#define SKIP 77
#define XDP_PASS_ 2 /* enum xdp_action, which <linux/bpf.h> would bring with much else */

static const char *examples;

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

static size_t prog_index(const struct sluice_kernel_object *obj, const char *name)
{
	struct sluice_error err = { 0 };
	int i = sluice_kernel_find_prog(obj, name, &err);

	if (i < 0)
		fail_msg("%s", err.msg);
	return (size_t)i;
}

static void accepted_with_statistics(void **state)
{
	struct sluice_kernel_object *obj = open_example("xdp_filter.o");
	struct sluice_error err = { 0 };
	struct sluice_kernel_verdict v;

	(void)state;
	assert_int_equal(sluice_kernel_load_prog(obj, prog_index(obj, "xdp_filter"), &v, &err), 0);
	assert_true(v.accepted);
	assert_int_equal(v.error, 0);
	assert_true(v.processed_insns > 0);
	assert_true(v.verification_usec >= 0);
	assert_string_equal(v.message, "");
	assert_non_null(strstr(v.log, "processed "));
	sluice_kernel_close(obj);
}

static void rejected_with_the_verifiers_words(void **state)
{
	struct sluice_kernel_object *obj = open_example("unsafe.o");
	struct sluice_error err = { 0 };
	struct sluice_kernel_verdict v;

	(void)state;
	assert_int_equal(sluice_kernel_load_prog(obj, prog_index(obj, "xdp_unsafe"), &v, &err), 0);
	assert_false(v.accepted);
	assert_int_equal(v.error, EACCES);
	assert_non_null(strstr(v.message, "invalid access to packet"));
	/* the level-1 trace: the instruction that strayed, then the error */
	assert_non_null(strstr(v.log, "r1 = *(u32 *)(r1 +0)"));
	assert_non_null(strstr(v.log, "outside of the packet"));
	assert_true(v.processed_insns > 0);
	sluice_kernel_close(obj);
}

static void open_and_lookup_errors(void **state)
{
	static const char junk[] = "not an ELF object";
	struct sluice_error err = { 0 };
	struct sluice_kernel_object *obj;

	(void)state;
	assert_null(sluice_kernel_open("/nonexistent/x.o", NULL, &err));
	assert_int_equal(err.code, ENOENT);
	assert_null(sluice_kernel_open_mem(junk, sizeof(junk), "junk.o", NULL, &err));
	assert_non_null(strstr(err.msg, "junk.o"));
	assert_non_null(strstr(err.msg, "not a proper ELF object"));

	obj = open_example("xdp_filter.o");
	assert_int_equal(sluice_kernel_find_prog(obj, "nope", &err), -ENOENT);
	assert_non_null(strstr(err.msg, "no program 'nope' (it has: xdp_filter)"));
	sluice_kernel_close(obj);
}

/* The same bytes opened from memory give libbpf's names for the file. */
static void memory_and_file_agree(void **state)
{
	struct sluice_kernel_object *file = open_example("global_calls.o"), *mem;
	struct sluice_error err = { 0 };
	char path[4096], *data;
	FILE *f;
	long size;

	(void)state;
	snprintf(path, sizeof(path), "%s/global_calls.o", examples);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	rewind(f);
	data = malloc((size_t)size);
	assert_int_equal(fread(data, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	mem = sluice_kernel_open_mem(data, (size_t)size, "global_calls.o", NULL, &err);
	free(data);
	assert_non_null(mem);
	assert_int_equal(sluice_kernel_map_count(mem), sluice_kernel_map_count(file));
	for (size_t i = 0; i < sluice_kernel_map_count(file); i++)
		assert_string_equal(sluice_kernel_map_name(mem, i), sluice_kernel_map_name(file, i));
	assert_int_equal(sluice_kernel_prog_count(mem), sluice_kernel_prog_count(file));
	sluice_kernel_close(mem);
	sluice_kernel_close(file);
}

/* An ARP frame: not IP, so xdp_filter passes it unchanged. */
static const unsigned char arp[42] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x08, 0x06,
	0, 1, 0x08, 0, 6, 4, 0, 1, 0x02, 0, 0, 0, 0, 1, 10, 0, 0, 1,
	0, 0, 0, 0, 0, 0, 10, 0, 0, 2,
};

static void test_run_returns_verdict_and_packet(void **state)
{
	struct sluice_kernel_object *obj = open_example("xdp_filter.o");
	size_t prog = prog_index(obj, "xdp_filter");
	struct sluice_error err = { 0 };
	unsigned char out[256], tiny[1];
	struct sluice_kernel_run run = {
		.sz = sizeof(run), .data_in = arp, .data_size_in = sizeof(arp),
		.data_out = out, .data_size_out = sizeof(out), .repeat = 3,
	};

	(void)state;
	assert_int_equal(sluice_kernel_test_run(obj, prog, &run, &err), 0);
	assert_int_equal(run.retval, XDP_PASS_);
	assert_int_equal(run.data_size_out, sizeof(arp));
	assert_memory_equal(out, arp, sizeof(arp));

	/* no room for the output: the size it needed is in the message */
	run.data_out = tiny;
	run.data_size_out = sizeof(tiny);
	assert_int_equal(sluice_kernel_test_run(obj, prog, &run, &err), -ENOSPC);
	assert_non_null(strstr(err.msg, "the output (42 bytes) is larger than the 1 bytes"));

	run.sz = 8;
	assert_int_equal(sluice_kernel_test_run(obj, prog, &run, &err), -EINVAL);
	sluice_kernel_close(obj);
}

static void test_run_of_a_rejected_program_fails(void **state)
{
	struct sluice_kernel_object *obj = open_example("unsafe.o");
	struct sluice_error err = { 0 };
	struct sluice_kernel_run run = { .sz = sizeof(run), .data_in = arp,
					 .data_size_in = sizeof(arp) };

	(void)state;
	assert_int_equal(sluice_kernel_test_run(obj, prog_index(obj, "xdp_unsafe"), &run, &err),
			 -EACCES);
	assert_non_null(strstr(err.msg, "the kernel rejected it: invalid access to packet"));
	sluice_kernel_close(obj);
}

static int veth_index(void)
{
	int ifindex = (int)if_nametoindex("sl0");

	assert_true(ifindex > 0);
	return ifindex;
}

static void xdp_attach_and_detach(void **state)
{
	struct sluice_kernel_object *obj = open_example("xdp_filter.o");
	size_t prog = prog_index(obj, "xdp_filter");
	struct sluice_kernel_attachment *att, *again;
	struct sluice_error err = { 0 };
	int ifindex = veth_index();
	__u32 id = 0;

	(void)state;
	assert_int_equal(sluice_kernel_attach(obj, prog, ifindex, SLUICE_HOOK_XDP, 0, &att, &err), 0);
	assert_int_equal(bpf_xdp_query_id(ifindex, 0, &id), 0);
	assert_int_not_equal(id, 0);
	/* the slot is taken: a second program is refused, not swapped in */
	assert_true(sluice_kernel_attach(obj, prog, ifindex, SLUICE_HOOK_XDP,
					 XDP_FLAGS_UPDATE_IF_NOEXIST, &again, &err) < 0);
	assert_non_null(strstr(err.msg, "cannot attach to XDP on ifindex"));
	assert_int_equal(sluice_kernel_detach(att, &err), 0);
	assert_int_equal(bpf_xdp_query_id(ifindex, 0, &id), 0);
	assert_int_equal(id, 0);
	sluice_kernel_close(obj);
}

/* Whether `tc OBJECT show dev sl0 [DIRECTION]` prints word. */
static bool tc_shows(const char *object, const char *direction, const char *word)
{
	char cmd[128], line[512];
	bool found = false;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "tc %s show dev sl0 %s 2>&1", object, direction);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p))
		found |= strstr(line, word) != NULL;
	pclose(p);
	return found;
}

static void tc_attach_and_detach(void **state)
{
	struct sluice_kernel_object *obj = open_example("tc_counter.o");
	size_t prog = prog_index(obj, "tc_count");
	struct sluice_kernel_attachment *in, *out;
	struct sluice_error err = { 0 };
	int ifindex = veth_index();

	(void)state;
	assert_false(tc_shows("qdisc", "", "clsact"));
	assert_int_equal(sluice_kernel_attach(obj, prog, ifindex, SLUICE_HOOK_TC_INGRESS, 0,
					      &in, &err), 0);
	assert_int_equal(sluice_kernel_attach(obj, prog, ifindex, SLUICE_HOOK_TC_EGRESS, 0,
					      &out, &err), 0);
	assert_true(tc_shows("qdisc", "", "clsact"));
	assert_true(tc_shows("filter", "ingress", "tc_count"));
	assert_true(tc_shows("filter", "egress", "tc_count"));
	/* egress found the qdisc there: removing its filter leaves the qdisc */
	assert_int_equal(sluice_kernel_detach(out, &err), 0);
	assert_false(tc_shows("filter", "egress", "tc_count"));
	assert_true(tc_shows("filter", "ingress", "tc_count"));
	/* ingress created it, and takes it away */
	assert_int_equal(sluice_kernel_detach(in, &err), 0);
	assert_false(tc_shows("qdisc", "", "clsact"));
	sluice_kernel_close(obj);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(accepted_with_statistics),
		cmocka_unit_test(rejected_with_the_verifiers_words),
		cmocka_unit_test(open_and_lookup_errors),
		cmocka_unit_test(memory_and_file_agree),
		cmocka_unit_test(test_run_returns_verdict_and_packet),
		cmocka_unit_test(test_run_of_a_rejected_program_fails),
		cmocka_unit_test(xdp_attach_and_detach),
		cmocka_unit_test(tc_attach_and_detach),
	};
	struct sluice_error err = { 0 };

	if (argc != 2) {
		fprintf(stderr, "usage: test_kernel EXAMPLES_BPF_DIR\n");
		return 2;
	}
	examples = argv[1];
	if (sluice_kernel_probe(&err)) {
		printf("SKIP: %s\n", err.msg);
		return SKIP;
	}
	/* a namespace of our own: the veth pair dies with the process */
	if (unshare(CLONE_NEWNET)) {
		printf("SKIP: cannot make a network namespace: %s\n", strerror(errno));
		return SKIP;
	}
	if (system("ip link add sl0 type veth peer name sl1 && ip link set sl0 up && "
		   "ip link set sl1 up")) {
		printf("SKIP: cannot make a veth pair in the namespace (iproute2)\n");
		return SKIP;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
