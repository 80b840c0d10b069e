/* SPDX-License-Identifier: MIT */
/*
 * The runtime end to end on compiled objects, with both engines: global
 * data created and patched in, .rodata read-only, maps of maps and prog
 * arrays filled from `.values`, tail calls to the kernel's limit,
 * callbacks, and what sluice_rt_load refuses.
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

struct loaded {
	struct sluice_object *obj;
	struct sluice_rt *rt;
};

/* engine: "interp", "jit", or "checked" (the interpreter testing every access) */
static struct loaded load(const char *dir, const char *file, const char *engine)
{
	bool checked = !strcmp(engine, "checked");
	struct sluice_rt_opts opts = { .sz = sizeof(opts), .engine = checked ? "interp" : engine,
				       .checked = checked };
	struct sluice_object_opts oopts = { .sz = sizeof(oopts), .no_core = true };
	struct sluice_error err = { 0 };
	struct loaded l;
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	l.obj = sluice_object_open(path, &oopts, &err);
	if (!l.obj)
		fail_msg("%s: %s", path, err.msg);
	l.rt = sluice_rt_load(l.obj, &opts, &err);
	if (!l.rt)
		fail_msg("%s (%s): %s", path, engine, err.msg);
	return l;
}

static void unload(struct loaded *l)
{
	sluice_rt_free(l->rt);
	sluice_object_close(l->obj);
}

/* An Ethernet + IPv4 packet of len bytes from 192.168.1.1 to daddr (host order). */
static void ipv4_packet(uint8_t *pkt, size_t len, uint32_t daddr)
{
	memset(pkt, 0, len);
	memset(pkt, 0xaa, 12);
	pkt[12] = 0x08; /* ETH_P_IP */
	pkt[14] = 0x45;
	pkt[16] = (uint8_t)((len - 14) >> 8);
	pkt[17] = (uint8_t)(len - 14);
	pkt[22] = 64;
	pkt[23] = 17; /* UDP */
	pkt[26] = 192, pkt[27] = 168, pkt[28] = 1, pkt[29] = 1;
	pkt[30] = (uint8_t)(daddr >> 24), pkt[31] = (uint8_t)(daddr >> 16);
	pkt[32] = (uint8_t)(daddr >> 8), pkt[33] = (uint8_t)daddr;
}

static uint32_t run(struct loaded *l, const char *prog_name, const uint8_t *pkt, size_t len)
{
	struct sluice_rt_prog *prog = sluice_rt_find_prog(l->rt, prog_name);
	struct sluice_test_run t = {
		.sz = sizeof(t),
		.data_in = pkt,
		.data_size_in = (uint32_t)len,
	};
	struct sluice_error err = { 0 };

	if (!prog)
		fail_msg("no program %s", prog_name);
	if (sluice_rt_test_run(prog, &t, &err))
		fail_msg("%s: %s", prog_name, err.msg);
	return t.retval;
}

/* The one value of a global-data map, at byte offset off. */
static uint64_t global_u64(struct loaded *l, const char *map_name, size_t off)
{
	struct sluice_map *map = sluice_rt_find_map(l->rt, map_name);
	struct sluice_map_info info;
	uint32_t zero = 0;
	uint8_t value[256];
	uint64_t v;

	if (!map)
		fail_msg("no map %s", map_name);
	sluice_map_get_info(map, &info);
	assert_true(info.value_size <= sizeof(value) && off + 8 <= info.value_size);
	assert_int_equal(sluice_map_lookup(map, &zero, value, 0, NULL), 0);
	memcpy(&v, value + off, 8);
	return v;
}

static const char *const engines[] = { "interp", "jit", "checked" };
#define NENGINES (sizeof(engines) / sizeof(engines[0]))

static void global_data(void **state)
{
	(void)state;
	for (size_t e = 0; e < NENGINES; e++) {
		struct loaded l = load(BPF_EXAMPLES_DIR, "global_calls.o", engines[e]);
		uint8_t pkt[200];
		uint32_t zero = 0, min_len;
		struct sluice_error err = { 0 };

		ipv4_packet(pkt, 100, 0x0a000001);
		assert_int_equal(run(&l, "xdp_sizes", pkt, 100), XDP_PASS);
		assert_int_equal(run(&l, "xdp_sizes", pkt, 50), XDP_DROP); /* under min_len 60 */
		assert_int_equal(run(&l, "xdp_sizes", pkt, 200), XDP_PASS);
		/* .bss: packets, bytes, size_hist[4] */
		assert_int_equal(global_u64(&l, "global_c.bss", 0), 3);
		assert_int_equal(global_u64(&l, "global_c.bss", 8), 350);
		assert_int_equal(global_u64(&l, "global_c.bss", 16), 1);  /* 100 <= 128 */
		assert_int_equal(global_u64(&l, "global_c.bss", 24), 1);  /* 200 <= 256 */
		assert_int_equal(global_u64(&l, ".data.stats", 0), 1);
		/* .rodata is frozen: user space cannot change it after load either */
		min_len = 10;
		assert_int_equal(sluice_map_update(sluice_rt_find_map(l.rt, "global_c.rodata"),
						   &zero, &min_len, BPF_ANY, &err), -EPERM);
		unload(&l);
	}
}

static void maps_of_maps_and_prog_arrays(void **state)
{
	(void)state;
	for (size_t e = 0; e < NENGINES; e++) {
		struct loaded l = load(BPF_EXAMPLES_DIR, "btf_maps.o", engines[e]);
		struct { uint32_t prefixlen, addr; } route = { 32, __builtin_bswap32(0x0a010203) };
		uint32_t drop = 1, key;
		uint64_t count;
		uint8_t pkt[64];
		struct sluice_error err = { 0 };

		assert_int_equal(sluice_map_update(sluice_rt_find_map(l.rt, "routes"), &route,
						   &drop, BPF_ANY, &err), 0);
		ipv4_packet(pkt, sizeof(pkt), 0x0a010203);
		/* the route says drop: xdp_router tail-calls xdp_drop_tail */
		assert_int_equal(run(&l, "xdp_router", pkt, sizeof(pkt)), XDP_DROP);
		ipv4_packet(pkt, sizeof(pkt), 0x08080808);
		assert_int_equal(run(&l, "xdp_router", pkt, sizeof(pkt)), XDP_PASS);
		/* per-class counters reached through the map of maps */
		key = 1; /* ACTION_DROP, class local */
		assert_int_equal(sluice_map_lookup(sluice_rt_find_map(l.rt, "local_counters"),
						   &key, &count, 0, &err), 0);
		assert_int_equal(count, 1);
		key = 0; /* ACTION_PASS, class remote */
		assert_int_equal(sluice_map_lookup(sluice_rt_find_map(l.rt, "remote_counters"),
						   &key, &count, 0, &err), 0);
		assert_int_equal(count, 1);
		key = 2; /* TOTAL_NEW_FLOWS */
		assert_int_equal(sluice_map_lookup(sluice_rt_find_map(l.rt, "totals"),
						   &key, &count, 0, &err), 0);
		assert_int_equal(count, 2);
		unload(&l);
	}
}

/* Run one program of rt/calls.o on every engine; check its verdict and a .bss counter. */
static void check_calls_prog(const char *prog, uint32_t retval, size_t bss_off, uint64_t want)
{
	for (size_t e = 0; e < NENGINES; e++) {
		struct loaded l = load(RT_TEST_DIR, "calls.o", engines[e]);
		uint8_t pkt[64];

		ipv4_packet(pkt, sizeof(pkt), 0x0a000001);
		assert_int_equal(run(&l, prog, pkt, sizeof(pkt)), retval);
		assert_int_equal(global_u64(&l, "calls.bss", bss_off), want);
		unload(&l);
	}
}

static void tail_calls_stop_at_33(void **state)
{
	(void)state;
	check_calls_prog("xdp_again", XDP_PASS, 0, 34);
}

static void loop_callbacks(void **state)
{
	(void)state;
	/* 0 + 1 + ... + 9, and ten iterations */
	check_calls_prog("xdp_loop", XDP_TX, 8, 45010);
}

static void refuses_unknown_engine(void **state)
{
	struct sluice_object_opts oopts = { .sz = sizeof(oopts), .no_core = true };
	struct sluice_rt_opts opts = { .sz = sizeof(opts), .engine = "llvm" };
	struct sluice_error err = { 0 };
	struct sluice_object *obj = sluice_object_open(BPF_EXAMPLES_DIR "/global_calls.o", &oopts, &err);

	(void)state;
	assert_non_null(obj);
	assert_null(sluice_rt_load(obj, &opts, &err));
	assert_int_equal(err.code, EINVAL);
	assert_non_null(strstr(err.msg, "unknown engine 'llvm'"));
	opts.engine = "jit";
	opts.checked = true;
	assert_null(sluice_rt_load(obj, &opts, &err));
	assert_non_null(strstr(err.msg, "checked runs are the interpreter's"));
	sluice_object_close(obj);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(global_data),
		cmocka_unit_test(maps_of_maps_and_prog_arrays),
		cmocka_unit_test(tail_calls_stop_at_33),
		cmocka_unit_test(loop_callbacks),
		cmocka_unit_test(refuses_unknown_engine),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
