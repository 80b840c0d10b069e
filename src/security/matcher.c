/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bpf.h>

#include <sluice/object.h>
#include <sluice/runtime.h>

#include "errmsg.h"
#include "security/compile.h"
#include "security/matcher.h"

/* The matcher is a socket filter: the query follows an Ethernet header's worth of bytes. */
#define ETH_HLEN 14

struct sec_matcher {
	struct sluice_object *obj;
	struct sluice_rt *rt;
	struct sluice_rt_prog *prog;
	uint8_t packet[ETH_HLEN + sizeof(struct sec_query)];
};

static int rt_update(void *ctx, const char *name, const void *key, const void *value,
		     struct sluice_error *err)
{
	struct sluice_map *map = sluice_rt_find_map(ctx, name);

	if (!map)
		return sluice_fail(err, ENOENT, "the matcher has no map '%s'", name);
	return sluice_map_update(map, key, value, BPF_ANY, err);
}

struct sec_matcher *sec_matcher_open(const char *path, const struct sec_policy *policy,
				     const char *engine, struct sluice_error *err)
{
	static const char *const progs[] = { "sec_decide", NULL };
	struct sluice_rt_opts opts = { .sz = sizeof(opts), .engine = engine, .progs = progs };
	struct sec_matcher *m = calloc(1, sizeof(*m));
	struct sec_map_writer w;
	int ret;

	if (!m) {
		sluice_fail(err, ENOMEM, "out of memory");
		return NULL;
	}
	m->obj = sluice_object_open(path, NULL, err);
	if (m->obj)
		m->rt = sluice_rt_load(m->obj, &opts, err);
	if (m->rt) {
		m->prog = sluice_rt_find_prog(m->rt, "sec_decide");
		if (!m->prog)
			sluice_fail(err, ENOENT, "%s: no program sec_decide", path);
	}
	if (!m->prog) {
		ret = errno;
		sec_matcher_close(m);
		errno = ret;
		return NULL;
	}
	w = (struct sec_map_writer){ .update = rt_update, .ctx = m->rt };
	ret = sec_policy_compile(policy, 0, &w, err);
	if (ret) {
		sec_matcher_close(m);
		errno = -ret;
		return NULL;
	}
	return m;
}

void sec_matcher_close(struct sec_matcher *m)
{
	if (!m)
		return;
	sluice_rt_free(m->rt);
	sluice_object_close(m->obj);
	free(m);
}

int sec_matcher_decide(struct sec_matcher *m, const struct sec_query *q, uint32_t *verdict,
		       struct sluice_error *err)
{
	struct sluice_test_run run = { .sz = sizeof(run) };
	int ret;

	memcpy(m->packet + ETH_HLEN, q, sizeof(*q));
	run.data_in = m->packet;
	run.data_size_in = sizeof(m->packet);
	ret = sluice_rt_test_run(m->prog, &run, err);
	*verdict = ret ? 0 : run.retval;
	return ret;
}
