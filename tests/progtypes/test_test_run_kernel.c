/* SPDX-License-Identifier: MIT */
/*
 * Sluice's BPF_PROG_TEST_RUN against the kernel's, packet by packet: every
 * XDP, TC, socket-filter and cgroup-skb program of the objects named on the
 * command line runs a generated packet set (valid, truncated and malformed
 * Ethernet, VLAN, IPv4 with and without options, IPv6, TCP, UDP, ICMP,
 * fragments, random bytes) through both, with and without a context and
 * repeated; the
 * return value, the output packet, its size, the output context and, at
 * the end, every map both sides name alike must be identical.
 *
 * Usage: test_test_run_kernel OBJ.o...  Exit 77 when the kernel refuses
 * bpf() or cannot load an object at all.
 */
#define _GNU_SOURCE /* sched_setaffinity */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include <sluice/kernel.h>
#include <sluice/maps.h>
#include <sluice/object.h>
#include <sluice/runtime.h>

#include "packets.h"

#define SKIP 77
#define OUT_ROOM 8192
#define MAX_REPORTS 40
#define REPEAT_EVERY 16
#define REPEAT_EVERY_XDP 256

static unsigned mismatches, compared, programs, map_entries;

static bool packet_type(uint32_t type)
{
	return type == BPF_PROG_TYPE_XDP || type == BPF_PROG_TYPE_SCHED_CLS ||
	       type == BPF_PROG_TYPE_SCHED_ACT || type == BPF_PROG_TYPE_SOCKET_FILTER ||
	       type == BPF_PROG_TYPE_CGROUP_SKB;
}

static void report(const char *prog, size_t packet, const char *what, const char *detail)
{
	if (mismatches++ < MAX_REPORTS)
		printf("MISMATCH %s packet %zu (%s): %s%s\n", prog, packet,
		       packet_name(packet), what, detail);
}

/* The context each type's test run takes, with the fields a caller may set filled. */
static size_t make_ctx(uint32_t type, size_t packet_len, void *ctx)
{
	if (type == BPF_PROG_TYPE_XDP) {
		struct xdp_md md = { .data = 8, .data_end = (uint32_t)packet_len };

		memcpy(ctx, &md, sizeof(md));
		return sizeof(md);
	}
	struct __sk_buff skb = { .mark = 0x55, .priority = 3, .cb = { 1, 2, 3, 4, 5 },
				 .tstamp = 1000, .gso_segs = 1 };
	memcpy(ctx, &skb, sizeof(skb));
	return sizeof(skb);
}

/* How a packet is run: without a context, with one, and three times over the same packet. */
enum run_mode { PLAIN, WITH_CTX, REPEATED, RUN_MODES };

static void compare_one(struct sluice_rt_prog *rp, struct sluice_kernel_object *kobj,
			size_t ki, const char *name, size_t p, enum run_mode mode)
{
	bool with_ctx = mode == WITH_CTX;
	uint32_t repeat = mode == REPEATED ? 3 : 1;
	static uint8_t sl_out[OUT_ROOM], k_out[OUT_ROOM];
	uint8_t ctx_in[256], sl_ctx[256], k_ctx[256];
	uint32_t type = sluice_rt_prog_type(rp);
	const struct packet *pkt = packet_at(p);
	struct sluice_error serr = { 0 }, kerr = { 0 };
	size_t ctx_len = with_ctx ? make_ctx(type, pkt->len, ctx_in) : 0;
	struct sluice_test_run t = {
		.sz = sizeof(t), .data_in = pkt->bytes, .data_size_in = (uint32_t)pkt->len,
		.data_out = sl_out, .data_size_out = OUT_ROOM,
		.ctx_in = with_ctx ? ctx_in : NULL, .ctx_size_in = (uint32_t)ctx_len,
		.ctx_out = with_ctx ? sl_ctx : NULL, .ctx_size_out = sizeof(sl_ctx),
		.repeat = repeat,
	};
	struct sluice_kernel_run k = {
		.sz = sizeof(k), .data_in = pkt->bytes, .data_size_in = pkt->len,
		.data_out = k_out, .data_size_out = OUT_ROOM,
		.ctx_in = with_ctx ? ctx_in : NULL, .ctx_size_in = ctx_len,
		.ctx_out = with_ctx ? k_ctx : NULL, .ctx_size_out = sizeof(k_ctx),
		.repeat = repeat,
	};
	int sret = sluice_rt_test_run(rp, &t, &serr);
	int kret = sluice_kernel_test_run(kobj, ki, &k, &kerr);
	char detail[SLUICE_ERRMSG_MAX * 2 + 64];

	compared++;
	if ((sret < 0) != (kret < 0) || (sret < 0 && serr.code != kerr.code)) {
		snprintf(detail, sizeof(detail), " Sluice %d (%s), kernel %d (%s)", sret, serr.msg,
			 kret, kerr.msg);
		report(name, p, mode == WITH_CTX ? "result with ctx" :
				mode == REPEATED ? "result repeated" : "result", detail);
		return;
	}
	if (sret < 0)
		return;
	if (t.retval != k.retval) {
		snprintf(detail, sizeof(detail), " Sluice %u, kernel %u", t.retval, k.retval);
		report(name, p, "retval", detail);
	} else if (t.data_size_out != k.data_size_out) {
		snprintf(detail, sizeof(detail), " Sluice %u, kernel %zu", t.data_size_out,
			 k.data_size_out);
		report(name, p, "data_size_out", detail);
	} else if (memcmp(sl_out, k_out, t.data_size_out) != 0) {
		size_t at = 0;

		while (sl_out[at] == k_out[at])
			at++;
		snprintf(detail, sizeof(detail), " first difference at byte %zu: 0x%02x, kernel 0x%02x",
			 at, sl_out[at], k_out[at]);
		report(name, p, "data_out", detail);
	} else if (with_ctx && (t.ctx_size_out != k.ctx_size_out ||
				memcmp(sl_ctx, k_ctx, t.ctx_size_out) != 0)) {
		size_t at = 0;

		while (at < t.ctx_size_out && sl_ctx[at] == k_ctx[at])
			at++;
		snprintf(detail, sizeof(detail), " first difference at byte %zu", at);
		report(name, p, "ctx_out", detail);
	}
}

/* Sum of the 8-byte words of each CPU's value: the run's CPU differs between the two. */
static void fold_percpu(uint8_t *value, size_t value_size, int ncpus)
{
	size_t stride = (value_size + 7) / 8 * 8;

	for (int cpu = 1; cpu < ncpus; cpu++)
		for (size_t w = 0; w + 8 <= value_size; w += 8) {
			uint64_t a, b;

			memcpy(&a, value + w, 8);
			memcpy(&b, value + (size_t)cpu * stride + w, 8);
			a += b;
			memcpy(value + w, &a, 8);
		}
}

static bool percpu(uint32_t type)
{
	return type == BPF_MAP_TYPE_PERCPU_ARRAY || type == BPF_MAP_TYPE_PERCPU_HASH ||
	       type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

/* Every key the kernel's map holds, with its value, must be in Sluice's, and no more. */
static void compare_maps(struct sluice_rt *rt, struct sluice_kernel_object *kobj)
{
	for (size_t i = 0; i < sluice_kernel_map_count(kobj); i++) {
		const char *name = sluice_kernel_map_name(kobj, i);
		struct sluice_map *map = sluice_rt_find_map(rt, name);
		struct sluice_map_info info;
		int fd = sluice_kernel_map_fd(kobj, i, NULL);
		uint8_t key[256], next[256], kval[65536], sval[65536];
		size_t vsize, klen = 0, slen = 0;
		void *prev = NULL;

		if (!map || fd < 0)
			continue;
		sluice_map_get_info(map, &info);
		if (info.type != BPF_MAP_TYPE_HASH && info.type != BPF_MAP_TYPE_ARRAY &&
		    info.type != BPF_MAP_TYPE_LPM_TRIE && info.type != BPF_MAP_TYPE_LRU_HASH &&
		    !percpu(info.type))
			continue;
		vsize = sluice_map_value_size(map);
		if (info.key_size > sizeof(key) || vsize > sizeof(kval))
			continue;
		while (bpf_map_get_next_key(fd, prev, next) == 0) {
			memcpy(key, next, info.key_size);
			prev = key;
			klen++;
			map_entries++;
			if (bpf_map_lookup_elem(fd, key, kval) != 0 ||
			    sluice_map_lookup(map, key, sval, 0, NULL) != 0) {
				report(name, 0, "map key missing in Sluice", "");
				continue;
			}
			if (percpu(info.type)) {
				fold_percpu(kval, info.value_size, sluice_num_possible_cpus());
				fold_percpu(sval, info.value_size, sluice_num_possible_cpus());
			}
			if (memcmp(kval, sval, percpu(info.type) ? info.value_size : vsize) != 0)
				report(name, 0, "map value differs", "");
		}
		prev = NULL;
		while (sluice_map_get_next_key(map, prev, next, NULL) == 0) {
			memcpy(key, next, info.key_size);
			prev = key;
			slen++;
		}
		if (klen != slen)
			report(name, 0, "map sizes differ", "");
	}
}

/*
 * 0 compared, 1 skipped (no kernel load), -1 Sluice could not load what the
 * kernel could.  The interpreter runs checked: a helper's stray access fails
 * the run.
 */
static int compare_object(const char *path, const char *engine)
{
	struct sluice_error err = { 0 };
	struct sluice_kernel_object *kobj = sluice_kernel_open(path, NULL, &err);
	struct sluice_object *obj = NULL;
	struct sluice_rt_opts opts = { .sz = sizeof(opts), .engine = engine,
				       .checked = strcmp(engine, "interp") == 0 };
	struct sluice_rt *rt = NULL;
	int ret = 0;

	/* an object with maps the kernel will not create (max_entries left to the loader) is out */
	if (kobj && sluice_kernel_map_count(kobj) && sluice_kernel_map_fd(kobj, 0, &err) < 0) {
		sluice_kernel_close(kobj);
		kobj = NULL;
	}
	if (!kobj) {
		printf("SKIP %s: %s\n", path, err.msg);
		return 1;
	}
	obj = sluice_object_open(path, NULL, &err);
	if (obj)
		rt = sluice_rt_load(obj, &opts, &err);
	if (!rt) {
		printf("FAIL %s: Sluice does not load it: %s\n", path, err.msg);
		ret = -1;
		goto out;
	}
	unsigned before = programs;

	for (size_t ki = 0; ki < sluice_kernel_prog_count(kobj); ki++) {
		const char *name = sluice_kernel_prog_name(kobj, ki);
		struct sluice_rt_prog *rp = sluice_rt_find_prog(rt, name);

		size_t repeat_every;

		if (!rp || !packet_type(sluice_rt_prog_type(rp)))
			continue;
		/* the kernel repeats XDP under a static key it flips, tens of ms a run */
		repeat_every = sluice_rt_prog_type(rp) == BPF_PROG_TYPE_XDP ? REPEAT_EVERY_XDP
									      : REPEAT_EVERY;
		programs++;
		for (size_t p = 0; p < packet_count(); p++)
			for (int mode = 0; mode < RUN_MODES; mode++)
				if (mode != REPEATED || p % repeat_every == 0)
					compare_one(rp, kobj, ki, name, p, mode);
	}
	if (programs > before)
		compare_maps(rt, kobj);
out:
	sluice_rt_free(rt);
	sluice_object_close(obj);
	sluice_kernel_close(kobj);
	return ret;
}

int main(int argc, char **argv)
{
	static const char *const engines[] = { "interp", "jit" };
	struct sluice_error err = { 0 };
	bool failed = false;
	int compared_objects = 0;

	cpu_set_t cpu0;

	if (sluice_kernel_probe(&err) < 0) {
		printf("SKIP: %s\n", err.msg);
		return SKIP;
	}
	/* the kernel's test runs happen here: on CPU 0, as Sluice's (xdp_lb counts per CPU id) */
	CPU_ZERO(&cpu0);
	CPU_SET(0, &cpu0);
	if (sched_setaffinity(0, sizeof(cpu0), &cpu0)) {
		printf("SKIP: cannot run on CPU 0: %s\n", strerror(errno));
		return SKIP;
	}
	packets_build();
	for (int i = 1; i < argc; i++) {
		for (size_t e = 0; e < sizeof(engines) / sizeof(engines[0]); e++) {
			int ret = compare_object(argv[i], engines[e]);

			failed |= ret < 0;
			compared_objects += ret == 0;
		}
	}
	printf("%u program runs (interp, jit) x %zu packets, without and with a context, every "
	       "%dth (XDP: %dth) repeated: %u runs compared, %u map entries compared, %u mismatches\n",
	       programs, packet_count(), REPEAT_EVERY, REPEAT_EVERY_XDP, compared, map_entries, mismatches);
	if (!compared_objects) {
		printf("SKIP: the kernel loaded none of the objects\n");
		return SKIP;
	}
	return failed || mismatches ? 1 : 0;
}
