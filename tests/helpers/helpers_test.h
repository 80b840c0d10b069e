/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_TESTS_HELPERS_TEST_H
#define SLUICE_TESTS_HELPERS_TEST_H

/*
 * What the helper tests share: the runtime loaded with bpf/helpers.bpf.c
 * (its maps are the ones helpers accept), a run fabricated around one of
 * its programs, the helpers its type may call, and the lines
 * bpf_trace_printk sent to the runtime's trace sink.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <linux/bpf.h>

#include <sluice/maps.h>
#include <sluice/object.h>
#include <sluice/runtime.h>

#include "helpers.h"
#include "helpers/impl.h"

#define MAX_LINES 8

struct fixture {
	struct sluice_object *obj;
	struct sluice_rt *rt;
	struct sluice_helpers *helpers;
	struct rt_run run;
	struct sluice_run sluice_run;
	char lines[MAX_LINES][1024];
	int nlines;
};

static void capture_line(void *ctx, const char *line)
{
	struct fixture *f = ctx;

	if (f->nlines < MAX_LINES)
		snprintf(f->lines[f->nlines++], sizeof(f->lines[0]), "%s", line);
}

/*
 * The runtime on engine ("interp", "jit", or NULL: the checked interpreter
 * of a runtime that did not verify), and a run of program `prog` (its type
 * picks the helpers).
 */
static inline struct fixture *fixture_new_on(const char *prog, const char *engine)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct sluice_error err = { 0 };
	struct sluice_rt_opts opts = { .sz = sizeof(opts), .engine = engine,
				       .trace = capture_line, .no_verify = !engine };
	struct sluice_object_opts obj_opts = { .sz = sizeof(obj_opts), .no_core = true };
	const struct rt_prog *p;

	assert_non_null(f);
	opts.trace_ctx = f;
	f->obj = sluice_object_open(HELPERS_BPF_OBJ, &obj_opts, &err);
	if (!f->obj)
		fail_msg("%s", err.msg);
	f->rt = sluice_rt_load(f->obj, &opts, &err);
	if (!f->rt)
		fail_msg("%s", err.msg);
	p = rt_prog_of(sluice_rt_find_prog(f->rt, prog));
	f->helpers = helpers_for_prog_type(rt_prog_type(p), &err);
	if (!f->helpers)
		fail_msg("%s", err.msg);
	f->run = (struct rt_run){ .rt = f->rt, .prog = p };
	f->sluice_run = (struct sluice_run){ .user = &f->run };
	return f;
}

/* The engines the helpers that run program code are tested from. */
static const char *const engines[] = { "interp", "jit" };
#define NENGINES (sizeof(engines) / sizeof(engines[0]))

/*
 * For calling helpers directly, with arguments no verifier would let a
 * program pass: they must check them as for an unverified program.
 */
static inline struct fixture *fixture_new(const char *prog)
{
	return fixture_new_on(prog, NULL);
}

static inline void fixture_free(struct fixture *f)
{
	sluice_helpers_free(f->helpers);
	sluice_rt_free(f->rt);
	sluice_object_close(f->obj);
	free(f);
}

static inline struct sluice_map *fixture_map(struct fixture *f, const char *name)
{
	struct sluice_map *map = sluice_rt_find_map(f->rt, name);

	assert_non_null(map);
	return map;
}

/* Set knob `index` of bpf/helpers.bpf.c (its `knobs` array). */
static inline void fixture_set_knob(struct fixture *f, uint32_t index, uint32_t value)
{
	struct sluice_error err = { 0 };

	if (sluice_map_update(fixture_map(f, "knobs"), &index, &value, BPF_ANY, &err) < 0)
		fail_msg("%s", err.msg);
}

/* Call helper id as a program would, with r1..r5. */
static inline uint64_t call5(struct fixture *f, uint32_t id, uint64_t r1, uint64_t r2,
			     uint64_t r3, uint64_t r4, uint64_t r5)
{
	sluice_helper_fn fn = sluice_helpers_fn(f->helpers, id);

	if (!fn)
		fail_msg("helper %u is not registered for this program type", id);
	return fn(r1, r2, r3, r4, r5, &f->sluice_run);
}

#define call(f, id, ...) call_n(f, id, __VA_ARGS__, 0, 0, 0, 0, 0)
#define call_n(f, id, a, b, c, d, e, ...) \
	call5(f, id, (uint64_t)(a), (uint64_t)(b), (uint64_t)(c), (uint64_t)(d), (uint64_t)(e))
#define ptr(p) ((uint64_t)(uintptr_t)(p))

/* A helper's r0 as the signed long the kernel returns. */
#define as_long(r0) ((long)(int64_t)(r0))

/* BPF_PROG_TEST_RUN of an XDP program on 64 zero bytes: its retval. */
static inline uint32_t run_xdp(struct fixture *f, const char *prog)
{
	uint8_t packet[64] = { 0 };
	struct sluice_test_run t = { .sz = sizeof(t), .data_in = packet,
				     .data_size_in = sizeof(packet) };
	struct sluice_error err = { 0 };
	struct sluice_rt_prog *p = sluice_rt_find_prog(f->rt, prog);

	assert_non_null(p);
	if (sluice_rt_test_run(p, &t, &err) < 0)
		fail_msg("%s: %s", prog, err.msg);
	return t.retval;
}

#endif
