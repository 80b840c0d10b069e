/* SPDX-License-Identifier: MIT */
/*
 * Context tables against the kernel's *_is_valid_access, and ctx_convert on
 * small assembled programs: what it rewrites, what it refuses and how.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <linux/bpf.h>

#include "../test_asm_text.h"
#include "context.h"
#include "insn.h"
#include "progtypes/progtypes.h"

struct access_case {
	uint32_t prog_type, attach;
	uint32_t off, size;
	bool write;
	int expect;            /* 0 or -EACCES */
	const char *field;     /* on success: the field's name */
};

static const struct access_case access_cases[] = {
	/* TC: tc_cls_act_is_valid_access + bpf_skb_is_valid_access */
	{ BPF_PROG_TYPE_SCHED_CLS, 0, 76, 4, false, 0, "data" },
	{ BPF_PROG_TYPE_SCHED_CLS, 0, 76, 2, false, -EACCES, NULL },
	{ BPF_PROG_TYPE_SCHED_CLS, 0, 76, 4, true, -EACCES, NULL },
	{ BPF_PROG_TYPE_SCHED_CLS, 0, 140, 4, false, 0, "data_meta" },
	{ BPF_PROG_TYPE_SCHED_CLS, 0, 0, 1, false, 0, "len" },
	{ BPF_PROG_TYPE_SCHED_CLS, 0, 0, 8, false, -EACCES, NULL },
	{ BPF_PROG_TYPE_SCHED_CLS, 0, 0, 4, true, -EACCES, NULL },
	{ BPF_PROG_TYPE_SCHED_CLS, 0, 10, 2, false, 0, "mark" },
	{ BPF_PROG_TYPE_SCHED_CLS, 0, 8, 4, true, 0, "mark" },
	{ BPF_PROG_TYPE_SCHED_CLS, 0, 8, 2, true, -EACCES, NULL },
	{ BPF_PROG_TYPE_SCHED_CLS, 0, 9, 2, false, -EACCES, NULL },
	{ BPF_PROG_TYPE_SCHED_CLS, 0, 48, 8, true, 0, "cb" },
	{ BPF_PROG_TYPE_SCHED_CLS, 0, 66, 2, true, 0, "cb" },
	{ BPF_PROG_TYPE_SCHED_CLS, 0, 52, 8, false, -EACCES, NULL },
	{ BPF_PROG_TYPE_SCHED_CLS, 0, 64, 8, false, -EACCES, NULL },
	{ BPF_PROG_TYPE_SCHED_CLS, 0, 72, 4, true, 0, "tc_classid" },
	{ BPF_PROG_TYPE_SCHED_CLS, 0, 88, 4, false, -EACCES, NULL },   /* family */
	{ BPF_PROG_TYPE_SCHED_CLS, 0, 92, 4, false, -EACCES, NULL },   /* remote_ip4 */
	{ BPF_PROG_TYPE_SCHED_CLS, 0, 144, 8, false, -EACCES, NULL },  /* flow_keys */
	{ BPF_PROG_TYPE_SCHED_CLS, 0, 152, 8, true, 0, "tstamp" },
	{ BPF_PROG_TYPE_SCHED_CLS, 0, 152, 4, false, -EACCES, NULL },
	{ BPF_PROG_TYPE_SCHED_CLS, 0, 168, 8, false, 0, "sk" },
	{ BPF_PROG_TYPE_SCHED_CLS, 0, 168, 4, false, -EACCES, NULL },
	{ BPF_PROG_TYPE_SCHED_CLS, 0, 168, 8, true, -EACCES, NULL },
	{ BPF_PROG_TYPE_SCHED_CLS, 0, 180, 1, false, 0, "tstamp_type" },
	{ BPF_PROG_TYPE_SCHED_CLS, 0, 180, 1, true, -EACCES, NULL },
	{ BPF_PROG_TYPE_SCHED_CLS, 0, 181, 1, false, -EACCES, NULL },  /* padding */
	{ BPF_PROG_TYPE_SCHED_CLS, 0, 184, 8, false, 0, "hwtstamp" },
	{ BPF_PROG_TYPE_SCHED_CLS, 0, 184, 8, true, -EACCES, NULL },
	{ BPF_PROG_TYPE_SCHED_CLS, 0, 192, 4, false, -EACCES, NULL },  /* past the end */
	{ BPF_PROG_TYPE_SCHED_ACT, 0, 12, 4, true, 0, "queue_mapping" },
	/* socket filters: sk_filter_is_valid_access */
	{ BPF_PROG_TYPE_SOCKET_FILTER, 0, 76, 4, false, -EACCES, NULL },
	{ BPF_PROG_TYPE_SOCKET_FILTER, 0, 80, 4, false, -EACCES, NULL },
	{ BPF_PROG_TYPE_SOCKET_FILTER, 0, 72, 4, false, -EACCES, NULL },
	{ BPF_PROG_TYPE_SOCKET_FILTER, 0, 8, 4, false, 0, "mark" },
	{ BPF_PROG_TYPE_SOCKET_FILTER, 0, 8, 4, true, -EACCES, NULL },
	{ BPF_PROG_TYPE_SOCKET_FILTER, 0, 56, 4, true, 0, "cb" },
	{ BPF_PROG_TYPE_SOCKET_FILTER, 0, 16, 2, false, 0, "protocol" },
	{ BPF_PROG_TYPE_SOCKET_FILTER, 0, 152, 8, false, -EACCES, NULL },
	{ BPF_PROG_TYPE_SOCKET_FILTER, 0, 160, 4, false, -EACCES, NULL }, /* wire_len */
	{ BPF_PROG_TYPE_SOCKET_FILTER, 0, 180, 1, false, -EACCES, NULL },
	/* cgroup skb: cg_skb_is_valid_access */
	{ BPF_PROG_TYPE_CGROUP_SKB, 0, 76, 4, false, 0, "data" },
	{ BPF_PROG_TYPE_CGROUP_SKB, 0, 140, 4, false, -EACCES, NULL },
	{ BPF_PROG_TYPE_CGROUP_SKB, 0, 88, 2, false, 0, "family" },
	{ BPF_PROG_TYPE_CGROUP_SKB, 0, 92, 2, false, -EACCES, NULL },
	{ BPF_PROG_TYPE_CGROUP_SKB, 0, 104, 4, false, 0, "remote_ip6[1]" },
	{ BPF_PROG_TYPE_CGROUP_SKB, 0, 32, 4, true, 0, "priority" },
	{ BPF_PROG_TYPE_CGROUP_SKB, 0, 44, 4, true, -EACCES, NULL },
	/* XDP: xdp_is_valid_access, 4-byte loads only */
	{ BPF_PROG_TYPE_XDP, 0, 0, 4, false, 0, "data" },
	{ BPF_PROG_TYPE_XDP, 0, 12, 4, false, 0, "ingress_ifindex" },
	{ BPF_PROG_TYPE_XDP, 0, 12, 2, false, -EACCES, NULL },
	{ BPF_PROG_TYPE_XDP, 0, 16, 4, true, -EACCES, NULL },
	{ BPF_PROG_TYPE_XDP, 0, 20, 4, false, -EACCES, NULL },
	{ BPF_PROG_TYPE_XDP, BPF_XDP_DEVMAP, 20, 4, false, 0, "egress_ifindex" },
	{ BPF_PROG_TYPE_XDP, 0, 24, 4, false, -EACCES, NULL },
	/* raw tracepoints: bpf_tracing_ctx_access */
	{ BPF_PROG_TYPE_RAW_TRACEPOINT, 0, 88, 8, false, 0, "args" },
	{ BPF_PROG_TYPE_RAW_TRACEPOINT, 0, 92, 4, false, 0, "args" },
	{ BPF_PROG_TYPE_RAW_TRACEPOINT, 0, 96, 1, false, -EACCES, NULL },
	{ BPF_PROG_TYPE_RAW_TRACEPOINT, 0, 8, 8, true, -EACCES, NULL },
};

static void access_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(access_cases) / sizeof(access_cases[0]); i++) {
		const struct access_case *c = &access_cases[i];
		const struct ctx_desc *desc = ctx_desc(c->prog_type, c->attach);
		const struct ctx_field *field = NULL;
		struct sluice_error err = { 0 };
		int ret;

		assert_non_null(desc);
		ret = ctx_check_access(desc, c->off, c->size, c->write, &field, &err);
		if (ret != c->expect)
			fail_msg("case %zu (type %u off %u size %u %s): %d, want %d (%s)", i,
				 c->prog_type, c->off, c->size, c->write ? "store" : "load",
				 ret, c->expect, err.msg);
		if (c->field)
			assert_string_equal(field->name, c->field);
	}
}

static void refusal_message(void **state)
{
	const struct ctx_desc *desc = ctx_desc(BPF_PROG_TYPE_SCHED_CLS, 0);
	const struct ctx_field *field;
	struct sluice_error err = { 0 };

	(void)state;
	assert_int_equal(ctx_check_access(desc, 76, 2, false, &field, &err), -EACCES);
	assert_string_equal(err.msg, "invalid bpf_context access off=76 size=2: "
				     "data: a load must cover exactly the field");
	assert_int_equal(ctx_check_access(desc, 181, 1, false, &field, &err), -EACCES);
	assert_string_equal(err.msg, "invalid bpf_context access off=181 size=1: "
				     "no field of struct __sk_buff there");
}

static void runtime_layout(void **state)
{
	const struct ctx_desc *tc = ctx_desc(BPF_PROG_TYPE_SCHED_CLS, 0);
	const struct ctx_desc *xdp = ctx_desc(BPF_PROG_TYPE_XDP, 0);
	const struct ctx_field *f;

	(void)state;
	assert_int_equal(tc->size, 192);
	assert_int_equal(tc->rt_size, sizeof(struct skb_rt));
	assert_int_equal(ctx_check_access(tc, 80, 4, false, &f, NULL), 0);
	assert_int_equal(f->kind, CTX_PKT_END);
	assert_int_equal(f->rt_off, offsetof(struct skb_rt, data_end));
	assert_int_equal(f->rt_size, 8);
	assert_int_equal(ctx_check_access(tc, 44, 4, true, &f, NULL), 0);
	assert_int_equal(f->rt_size, 2);
	assert_int_equal(ctx_check_access(xdp, 8, 4, false, &f, NULL), 0);
	assert_int_equal(f->kind, CTX_PKT_META);
	assert_int_equal(f->rt_off, offsetof(struct xdp_rt, data_meta));
	assert_null(ctx_desc(BPF_PROG_TYPE_KPROBE, 0));
}

/* Convert text as prog_type; the instructions, or NULL with err filled. */
static struct sluice_insn *convert(uint32_t prog_type, const char *text, size_t *count,
				   struct sluice_error *err)
{
	struct sluice_insn *insns = assemble(text, count);

	if (ctx_convert(prog_type, 0, insns, *count, err) < 0) {
		free(insns);
		return NULL;
	}
	return insns;
}

static void expect_insn(const struct sluice_insn *insn, enum insn_op op, int16_t off)
{
	assert_int_equal(insn_lookup(insn), op);
	assert_int_equal(insn->off, off);
}

static void rewrites_data_pointers(void **state)
{
	struct sluice_error err = { 0 };
	size_t n;
	struct sluice_insn *p = convert(BPF_PROG_TYPE_SCHED_CLS,
					"ldxw %r2, [%r1+76]\n"
					"ldxw %r3, [%r1+80]\n"
					"ldxw %r4, [%r1+140]\n"
					"ldxh %r5, [%r1+10]\n"
					"stxw [%r1+44], %r2\n"
					"stw [%r1+72], 7\n"
					"ldxdw %r0, [%r1+48]\n"
					"exit\n", &n, &err);

	(void)state;
	assert_non_null(p);
	expect_insn(&p[0], OP_LDXDW, offsetof(struct skb_rt, data));
	expect_insn(&p[1], OP_LDXDW, offsetof(struct skb_rt, data_end));
	expect_insn(&p[2], OP_LDXDW, offsetof(struct skb_rt, data_meta));
	expect_insn(&p[3], OP_LDXH, 10);
	expect_insn(&p[4], OP_STXH, 44);
	expect_insn(&p[5], OP_STH, 72);
	assert_int_equal(p[5].imm, 7);
	expect_insn(&p[6], OP_LDXDW, 48);
	free(p);

	p = convert(BPF_PROG_TYPE_XDP,
		    "ldxw %r2, [%r1+0]\n"
		    "ldxw %r3, [%r1+4]\n"
		    "ldxw %r4, [%r1+8]\n"
		    "ldxw %r0, [%r1+16]\n"
		    "exit\n", &n, &err);
	assert_non_null(p);
	expect_insn(&p[0], OP_LDXDW, 24);
	expect_insn(&p[1], OP_LDXDW, 32);
	expect_insn(&p[2], OP_LDXDW, 40);
	expect_insn(&p[3], OP_LDXW, 16);
	free(p);
}

static void follows_copies_spills_and_calls(void **state)
{
	struct sluice_error err = { 0 };
	size_t n;
	struct sluice_insn *p = convert(BPF_PROG_TYPE_XDP,
					"mov %r6, %r1\n"
					"stxdw [%r10-16], %r6\n"
					"call 5\n"
					"ldxdw %r7, [%r10-16]\n"
					"ldxw %r2, [%r7+4]\n"
					"ldxw %r3, [%r6+0]\n"
					"mov %r1, %r6\n"
					"call local f\n"
					"ldxw %r4, [%r0+8]\n"
					"ldxw %r0, [%r1+0]\n"
					"exit\n"
					"f:\n"
					"ldxw %r2, [%r1+0]\n"
					"mov %r0, %r1\n"
					"exit\n", &n, &err);

	(void)state;
	assert_non_null(p);
	expect_insn(&p[4], OP_LDXDW, 32);
	expect_insn(&p[5], OP_LDXDW, 24);
	expect_insn(&p[8], OP_LDXDW, 40);   /* r0: the context the callee returned */
	expect_insn(&p[9], OP_LDXW, 0);     /* r1 is not the context after a call */
	expect_insn(&p[11], OP_LDXDW, 24);
	free(p);

	/* an overwritten spill slot no longer holds the context */
	p = convert(BPF_PROG_TYPE_XDP,
		    "stxdw [%r10-8], %r1\n"
		    "stw [%r10-4], 0\n"
		    "ldxdw %r2, [%r10-8]\n"
		    "ldxw %r0, [%r2+0]\n"
		    "exit\n", &n, &err);
	assert_non_null(p);
	expect_insn(&p[3], OP_LDXW, 0);
	free(p);

	/* offsets that come back to zero are fine */
	p = convert(BPF_PROG_TYPE_XDP,
		    "add %r1, 8\n"
		    "sub %r1, 8\n"
		    "ldxw %r0, [%r1+4]\n"
		    "exit\n", &n, &err);
	assert_non_null(p);
	expect_insn(&p[2], OP_LDXDW, 32);
	free(p);
}

struct refusal {
	uint32_t prog_type;
	const char *text;
	const char *msg;
};

static const struct refusal refusals[] = {
	{ BPF_PROG_TYPE_SCHED_CLS, "ldxh %r0, [%r1+76]\nexit\n",
	  "pc 0: invalid bpf_context access off=76 size=2: data: a load must cover exactly the field" },
	{ BPF_PROG_TYPE_SOCKET_FILTER, "mov %r0, 0\nldxw %r2, [%r1+76]\nexit\n",
	  "pc 1: invalid bpf_context access off=76 size=4: data: the field is not available to this program type" },
	{ BPF_PROG_TYPE_XDP, "stw [%r1+16], 1\nexit\n",
	  "pc 0: invalid bpf_context access off=16 size=4: rx_queue_index: the field is read-only for this program type" },
	{ BPF_PROG_TYPE_XDP, "ldxw %r0, [%r1-4]\nexit\n",
	  "pc 0: invalid bpf_context access off=-4 size=4" },
	{ BPF_PROG_TYPE_XDP, "add %r1, 8\nldxw %r0, [%r1+0]\nexit\n",
	  "pc 1: dereference of modified ctx ptr R1 off=8 disallowed" },
	{ BPF_PROG_TYPE_XDP, "ldxw %r2, [%r1+12]\nadd %r1, %r2\nldxw %r0, [%r1+0]\nexit\n",
	  "pc 2: variable ctx access R1 disallowed" },
	{ BPF_PROG_TYPE_XDP,
	  "ldxw %r2, [%r1+12]\njeq %r2, 0, +1\nmov %r1, %r10\nldxw %r0, [%r1-8]\nexit\n",
	  "pc 3: same insn cannot be used with different pointers" },
	{ BPF_PROG_TYPE_SCHED_CLS, "mov %r2, 1\nlock add32 [%r1+8], %r2\nexit\n",
	  "pc 1: BPF_ATOMIC stores into R1 ctx is not allowed" },
	{ BPF_PROG_TYPE_SCHED_CLS, "call local f\nexit\nf:\nldxb %r0, [%r1+77]\nexit\n",
	  "pc 2: invalid bpf_context access off=77 size=1: data: a load must cover exactly the field" },
};

static void refuses(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		struct sluice_error err = { 0 };
		size_t n;
		struct sluice_insn *p = convert(refusals[i].prog_type, refusals[i].text, &n, &err);

		if (p)
			fail_msg("case %zu was accepted:\n%s", i, refusals[i].text);
		assert_int_equal(err.code, EACCES);
		assert_string_equal(err.msg, refusals[i].msg);
	}
}

static void max_offset(void **state)
{
	struct sluice_error err = { 0 };
	uint32_t max = 0;
	size_t n;
	struct sluice_insn *p = assemble("ldxdw %r2, [%r1+16]\n"
					 "ldxb %r3, [%r1+41]\n"
					 "mov %r0, 0\n"
					 "exit\n", &n);

	(void)state;
	assert_int_equal(ctx_max_offset(BPF_PROG_TYPE_RAW_TRACEPOINT, 0, p, n, &max, &err), 0);
	assert_int_equal(max, 42);
	assert_int_equal(ctx_max_offset(BPF_PROG_TYPE_SYSCALL, 0, p, n, &max, &err), 0);
	assert_int_equal(max, 42);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(access_table),
		cmocka_unit_test(refusal_message),
		cmocka_unit_test(runtime_layout),
		cmocka_unit_test(rewrites_data_pointers),
		cmocka_unit_test(follows_copies_spills_and_calls),
		cmocka_unit_test(refuses),
		cmocka_unit_test(max_offset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
