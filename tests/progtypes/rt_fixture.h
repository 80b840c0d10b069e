/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_TESTS_RT_FIXTURE_H
#define SLUICE_TESTS_RT_FIXTURE_H

/*
 * For cmocka tests of the runtime on a compiled BPF object: load it once,
 * test-run one program on one packet.  Include after <cmocka.h>.
 */
#include <string.h>

#include <sluice/object.h>
#include <sluice/runtime.h>

struct rt_fixture {
	struct sluice_object *obj;
	struct sluice_rt *rt;
};

static inline void fixture_load(struct rt_fixture *f, const char *path)
{
	struct sluice_rt_opts opts = { .sz = sizeof(opts), .checked = true };
	struct sluice_error err = { 0 };

	f->obj = sluice_object_open(path, NULL, &err);
	if (!f->obj)
		fail_msg("%s: %s", path, err.msg);
	f->rt = sluice_rt_load(f->obj, &opts, &err);
	if (!f->rt)
		fail_msg("%s: %s", path, err.msg);
}

static inline void fixture_free(struct rt_fixture *f)
{
	sluice_rt_free(f->rt);
	sluice_object_close(f->obj);
}

static inline struct sluice_rt_prog *fixture_prog(const struct rt_fixture *f, const char *name)
{
	struct sluice_rt_prog *prog = sluice_rt_find_prog(f->rt, name);

	if (!prog)
		fail_msg("no program %s", name);
	return prog;
}

/* A test run on data (into out, room bytes), with no context yet. */
static inline void fixture_prepare(struct sluice_test_run *t, const void *data, uint32_t len,
				   void *out, uint32_t room)
{
	memset(t, 0, sizeof(*t));
	t->sz = sizeof(*t);
	t->data_in = data;
	t->data_size_in = len;
	t->data_out = out;
	t->data_size_out = room;
}

/* Test-run name as fixture_prepare sets it up; its result. */
static inline int fixture_run(const struct rt_fixture *f, const char *name, const void *data,
			      uint32_t len, void *out, uint32_t room, struct sluice_test_run *t,
			      struct sluice_error *err)
{
	fixture_prepare(t, data, len, out, room);
	return sluice_rt_test_run(fixture_prog(f, name), t, err);
}

#endif
