/* SPDX-License-Identifier: MIT */
/*
 * The helper prototype table: the kernel's argument and return kinds for
 * well-known helpers, the flags the verifier relies on, and which program
 * types may call what (the kernel's get_func_proto chains).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <linux/bpf.h>

#include "helper_proto.h"

static const struct helper_proto *must(uint32_t id)
{
	const struct helper_proto *proto = helper_proto(id);

	if (!proto)
		fail_msg("no prototype for helper %u", id);
	return proto;
}

static void assert_args(const struct helper_proto *proto, enum helper_arg a1,
			enum helper_arg a2, enum helper_arg a3, enum helper_arg a4,
			enum helper_arg a5)
{
	const enum helper_arg want[5] = { a1, a2, a3, a4, a5 };

	for (int i = 0; i < 5; i++)
		if (proto->args[i] != want[i])
			fail_msg("%s: argument %d is %d, want %d", proto->name, i + 1,
				 proto->args[i], want[i]);
}

static void test_map_helpers(void **state)
{
	const struct helper_proto *p;

	(void)state;
	p = must(BPF_FUNC_map_lookup_elem);
	assert_string_equal(p->name, "map_lookup_elem");
	assert_int_equal(p->ret, RET_PTR_TO_MAP_VALUE_OR_NULL);
	assert_args(p, ARG_CONST_MAP_PTR, ARG_PTR_TO_MAP_KEY, ARG_NONE, ARG_NONE, ARG_NONE);
	assert_int_equal(p->flags, HELPER_PKT_ACCESS);
	assert_int_equal(helper_nargs(p), 2);

	p = must(BPF_FUNC_map_update_elem);
	assert_int_equal(p->ret, RET_INTEGER);
	assert_args(p, ARG_CONST_MAP_PTR, ARG_PTR_TO_MAP_KEY, ARG_PTR_TO_MAP_VALUE,
		    ARG_ANYTHING, ARG_NONE);
	assert_int_equal(helper_nargs(p), 4);

	p = must(BPF_FUNC_map_pop_elem);
	assert_args(p, ARG_CONST_MAP_PTR, ARG_PTR_TO_UNINIT_MAP_VALUE, ARG_NONE,
		    ARG_NONE, ARG_NONE);
	assert_int_equal(p->flags, 0);

	p = must(BPF_FUNC_tail_call);
	assert_int_equal(p->ret, RET_VOID);
	assert_args(p, ARG_PTR_TO_CTX, ARG_CONST_MAP_PTR, ARG_ANYTHING, ARG_NONE, ARG_NONE);

	p = must(BPF_FUNC_for_each_map_elem);
	assert_args(p, ARG_CONST_MAP_PTR, ARG_PTR_TO_FUNC, ARG_PTR_TO_STACK_OR_NULL,
		    ARG_ANYTHING, ARG_NONE);
	assert_int_equal(p->flags, HELPER_CALLBACK);
}

static void test_tracing_helpers(void **state)
{
	const struct helper_proto *p;

	(void)state;
	p = must(BPF_FUNC_probe_read_kernel);
	assert_args(p, ARG_PTR_TO_UNINIT_MEM, ARG_CONST_SIZE_OR_ZERO, ARG_ANYTHING,
		    ARG_NONE, ARG_NONE);
	assert_int_equal(p->flags, HELPER_GPL_ONLY);

	p = must(BPF_FUNC_trace_printk);
	assert_args(p, ARG_PTR_TO_MEM, ARG_CONST_SIZE, ARG_NONE, ARG_NONE, ARG_NONE);
	assert_int_equal(p->flags, HELPER_GPL_ONLY);

	p = must(BPF_FUNC_get_current_comm);
	assert_args(p, ARG_PTR_TO_UNINIT_MEM, ARG_CONST_SIZE, ARG_NONE, ARG_NONE, ARG_NONE);
	assert_int_equal(p->flags, 0);

	p = must(BPF_FUNC_perf_event_output);
	assert_args(p, ARG_PTR_TO_CTX, ARG_CONST_MAP_PTR, ARG_ANYTHING, ARG_PTR_TO_MEM,
		    ARG_CONST_SIZE_OR_ZERO);
	assert_int_equal(helper_nargs(p), 5);

	p = must(BPF_FUNC_snprintf);
	assert_args(p, ARG_PTR_TO_MEM_OR_NULL, ARG_CONST_SIZE_OR_ZERO, ARG_PTR_TO_CONST_STR,
		    ARG_PTR_TO_MEM_OR_NULL, ARG_CONST_SIZE_OR_ZERO);

	p = must(BPF_FUNC_get_current_task_btf);
	assert_int_equal(p->ret, RET_PTR_TO_BTF_ID);
	assert_int_equal(helper_nargs(p), 0);
}

static void test_ringbuf_and_loop(void **state)
{
	const struct helper_proto *p;

	(void)state;
	p = must(BPF_FUNC_ringbuf_reserve);
	assert_int_equal(p->ret, RET_PTR_TO_MEM_OR_NULL);
	assert_args(p, ARG_CONST_MAP_PTR, ARG_CONST_ALLOC_SIZE_OR_ZERO, ARG_ANYTHING,
		    ARG_NONE, ARG_NONE);
	assert_int_equal(p->flags, HELPER_ACQUIRES);

	p = must(BPF_FUNC_ringbuf_submit);
	assert_int_equal(p->ret, RET_VOID);
	assert_args(p, ARG_PTR_TO_RINGBUF_MEM, ARG_ANYTHING, ARG_NONE, ARG_NONE, ARG_NONE);
	assert_int_equal(p->flags, HELPER_RELEASES);

	p = must(BPF_FUNC_loop);
	assert_args(p, ARG_ANYTHING, ARG_PTR_TO_FUNC, ARG_PTR_TO_STACK_OR_NULL,
		    ARG_ANYTHING, ARG_NONE);
	assert_int_equal(p->flags, HELPER_CALLBACK);

	p = must(BPF_FUNC_spin_lock);
	assert_int_equal(p->ret, RET_VOID);
	assert_args(p, ARG_PTR_TO_SPIN_LOCK, ARG_NONE, ARG_NONE, ARG_NONE, ARG_NONE);
}

static void test_packet_helpers(void **state)
{
	const struct helper_proto *p;

	(void)state;
	p = must(BPF_FUNC_skb_load_bytes);
	assert_args(p, ARG_PTR_TO_CTX, ARG_ANYTHING, ARG_PTR_TO_UNINIT_MEM, ARG_CONST_SIZE,
		    ARG_NONE);
	assert_int_equal(p->flags, 0);

	p = must(BPF_FUNC_skb_store_bytes);
	assert_args(p, ARG_PTR_TO_CTX, ARG_ANYTHING, ARG_PTR_TO_MEM, ARG_CONST_SIZE,
		    ARG_ANYTHING);
	assert_int_equal(p->flags, HELPER_CHANGES_PKT_DATA);

	p = must(BPF_FUNC_csum_diff);
	assert_args(p, ARG_PTR_TO_MEM_OR_NULL, ARG_CONST_SIZE_OR_ZERO, ARG_PTR_TO_MEM_OR_NULL,
		    ARG_CONST_SIZE_OR_ZERO, ARG_ANYTHING);
	assert_int_equal(p->flags, HELPER_PKT_ACCESS);

	p = must(BPF_FUNC_xdp_adjust_head);
	assert_args(p, ARG_PTR_TO_CTX, ARG_ANYTHING, ARG_NONE, ARG_NONE, ARG_NONE);
	assert_int_equal(p->flags, HELPER_CHANGES_PKT_DATA);

	p = must(BPF_FUNC_redirect_map);
	assert_args(p, ARG_CONST_MAP_PTR, ARG_ANYTHING, ARG_ANYTHING, ARG_NONE, ARG_NONE);
	assert_int_equal(p->flags, 0);

	p = must(BPF_FUNC_fib_lookup);
	assert_args(p, ARG_PTR_TO_CTX, ARG_PTR_TO_MEM, ARG_CONST_SIZE, ARG_ANYTHING, ARG_NONE);
	assert_int_equal(p->flags, HELPER_GPL_ONLY);

	p = must(BPF_FUNC_sk_lookup_tcp);
	assert_int_equal(p->ret, RET_PTR_TO_SOCKET_OR_NULL);
	assert_int_equal(p->flags, HELPER_PKT_ACCESS | HELPER_ACQUIRES);
	p = must(BPF_FUNC_sk_release);
	assert_int_equal(p->flags, HELPER_RELEASES);
}

struct availability {
	uint32_t id;
	uint32_t prog_type;
	bool allowed;
};

static void test_program_types(void **state)
{
	static const struct availability cases[] = {
		/* bpf_base_func_proto: every type */
		{ BPF_FUNC_map_lookup_elem, BPF_PROG_TYPE_SOCKET_FILTER, true },
		{ BPF_FUNC_map_lookup_elem, BPF_PROG_TYPE_SYSCALL, true },
		{ BPF_FUNC_ktime_get_ns, BPF_PROG_TYPE_XDP, true },
		{ BPF_FUNC_get_current_pid_tgid, BPF_PROG_TYPE_XDP, true },
		{ BPF_FUNC_loop, BPF_PROG_TYPE_SCHED_CLS, true },
		{ BPF_FUNC_ringbuf_output, BPF_PROG_TYPE_CGROUP_SOCK, true },
		{ BPF_FUNC_probe_read_kernel, BPF_PROG_TYPE_XDP, true },
		{ BPF_FUNC_trace_printk, BPF_PROG_TYPE_SOCKET_FILTER, true },
		{ BPF_FUNC_spin_lock, BPF_PROG_TYPE_CGROUP_SOCK_ADDR, true },
		/* packet helpers stay with their hooks */
		{ BPF_FUNC_skb_load_bytes, BPF_PROG_TYPE_SOCKET_FILTER, true },
		{ BPF_FUNC_skb_load_bytes, BPF_PROG_TYPE_CGROUP_SKB, true },
		{ BPF_FUNC_skb_load_bytes, BPF_PROG_TYPE_XDP, false },
		{ BPF_FUNC_skb_store_bytes, BPF_PROG_TYPE_SCHED_ACT, true },
		{ BPF_FUNC_skb_store_bytes, BPF_PROG_TYPE_SOCKET_FILTER, false },
		{ BPF_FUNC_xdp_adjust_head, BPF_PROG_TYPE_XDP, true },
		{ BPF_FUNC_xdp_adjust_head, BPF_PROG_TYPE_SCHED_CLS, false },
		{ BPF_FUNC_redirect, BPF_PROG_TYPE_XDP, true },
		{ BPF_FUNC_redirect, BPF_PROG_TYPE_SCHED_CLS, true },
		{ BPF_FUNC_redirect, BPF_PROG_TYPE_SOCKET_FILTER, false },
		{ BPF_FUNC_redirect_map, BPF_PROG_TYPE_XDP, true },
		{ BPF_FUNC_redirect_map, BPF_PROG_TYPE_SCHED_CLS, false },
		{ BPF_FUNC_fib_lookup, BPF_PROG_TYPE_SCHED_CLS, true },
		{ BPF_FUNC_fib_lookup, BPF_PROG_TYPE_KPROBE, false },
		{ BPF_FUNC_csum_diff, BPF_PROG_TYPE_XDP, true },
		{ BPF_FUNC_csum_diff, BPF_PROG_TYPE_CGROUP_SKB, false },
		{ BPF_FUNC_ktime_get_coarse_ns, BPF_PROG_TYPE_XDP, true },
		{ BPF_FUNC_ktime_get_coarse_ns, BPF_PROG_TYPE_CGROUP_SOCK, true },
		{ BPF_FUNC_ktime_get_coarse_ns, BPF_PROG_TYPE_KPROBE, false },
		/* the ctx-taking event and stack helpers */
		{ BPF_FUNC_perf_event_output, BPF_PROG_TYPE_TRACEPOINT, true },
		{ BPF_FUNC_perf_event_output, BPF_PROG_TYPE_XDP, true },
		{ BPF_FUNC_perf_event_output, BPF_PROG_TYPE_CGROUP_SOCK_ADDR, true },
		{ BPF_FUNC_get_stackid, BPF_PROG_TYPE_PERF_EVENT, true },
		{ BPF_FUNC_get_stackid, BPF_PROG_TYPE_XDP, false },
		{ BPF_FUNC_get_stack, BPF_PROG_TYPE_RAW_TRACEPOINT, true },
		/* task helpers: every type since 6.18's bpf_base_func_proto */
		{ BPF_FUNC_get_current_comm, BPF_PROG_TYPE_KPROBE, true },
		{ BPF_FUNC_get_current_comm, BPF_PROG_TYPE_XDP, true },
		{ BPF_FUNC_get_current_uid_gid, BPF_PROG_TYPE_SCHED_CLS, true },
		{ BPF_FUNC_get_netns_cookie, BPF_PROG_TYPE_SCHED_CLS, true },
		{ BPF_FUNC_get_netns_cookie, BPF_PROG_TYPE_XDP, false },
		{ BPF_FUNC_get_netns_cookie, BPF_PROG_TYPE_KPROBE, false },
		{ BPF_FUNC_probe_read, BPF_PROG_TYPE_KPROBE, true },
		{ BPF_FUNC_probe_read, BPF_PROG_TYPE_XDP, false },
		{ BPF_FUNC_override_return, BPF_PROG_TYPE_KPROBE, true },
		{ BPF_FUNC_override_return, BPF_PROG_TYPE_TRACEPOINT, false },
		{ BPF_FUNC_bind, BPF_PROG_TYPE_CGROUP_SOCK_ADDR, true },
		{ BPF_FUNC_bind, BPF_PROG_TYPE_CGROUP_SOCK, false },
		{ BPF_FUNC_get_func_arg, BPF_PROG_TYPE_TRACING, true },
		{ BPF_FUNC_get_func_arg, BPF_PROG_TYPE_KPROBE, false },
		/* no type outside the kernel's enum, no EXT */
		{ BPF_FUNC_map_lookup_elem, BPF_PROG_TYPE_UNSPEC, false },
		{ BPF_FUNC_map_lookup_elem, BPF_PROG_TYPE_EXT, false },
		{ BPF_FUNC_map_lookup_elem, 63, false },
		{ BPF_FUNC_map_lookup_elem, 64, false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (helper_allowed(must(cases[i].id), cases[i].prog_type) != cases[i].allowed)
			fail_msg("%s for program type %u: want %s", helper_proto(cases[i].id)->name,
				 cases[i].prog_type, cases[i].allowed ? "allowed" : "refused");
}

static void test_lookup(void **state)
{
	(void)state;
	assert_null(helper_proto(BPF_FUNC_unspec));
	assert_null(helper_proto(__BPF_FUNC_MAX_ID));
	assert_null(helper_proto(UINT32_MAX));
	assert_ptr_equal(helper_proto_by_name("bpf_ringbuf_output"),
			 helper_proto(BPF_FUNC_ringbuf_output));
	assert_ptr_equal(helper_proto_by_name("ringbuf_output"),
			 helper_proto(BPF_FUNC_ringbuf_output));
	assert_null(helper_proto_by_name("bpf_no_such_helper"));
	assert_null(helper_proto_by_name("bpf_"));
	/* every row sits under its own id */
	for (uint32_t id = 0; id < __BPF_FUNC_MAX_ID; id++) {
		const struct helper_proto *p = helper_proto(id);

		if (!p)
			continue;
		assert_int_equal(p->id, id);
		assert_ptr_equal(helper_proto_by_name(p->name), p);
		for (unsigned a = helper_nargs(p); a < 5; a++)
			assert_int_equal(p->args[a], ARG_NONE);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map_helpers),
		cmocka_unit_test(test_tracing_helpers),
		cmocka_unit_test(test_ringbuf_and_loop),
		cmocka_unit_test(test_packet_helpers),
		cmocka_unit_test(test_program_types),
		cmocka_unit_test(test_lookup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
