/* SPDX-License-Identifier: MIT */
/*
 * The object loader on the compiled examples (examples/bpf) and on two
 * legacy-map objects (tests/object): programs, maps, global data, linked
 * calls and line info, exactly; then broken files, made by damaging a
 * compiled example, each of which must fail with its own message.
 */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <linux/bpf.h>

#include <sluice/object.h>

#include "insn.h"
#include "loader.h"

/* Whole file into memory; the test fails when it cannot be read. */
static uint8_t *slurp(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	data = malloc((size_t)n);
	assert_non_null(data);
	assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*size = (size_t)n;
	return data;
}

static struct sluice_object *open_path(const char *dir, const char *name)
{
	struct sluice_object_opts opts = { .sz = sizeof(opts), .no_core = true };
	struct sluice_error err = { 0 };
	char path[512];
	struct sluice_object *obj;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	obj = sluice_object_open(path, &opts, &err);
	if (!obj)
		fail_msg("%s", err.msg);
	return obj;
}

static struct sluice_object *open_example(const char *name)
{
	return open_path(BPF_EXAMPLES_DIR, name);
}

static const struct sluice_map_def *map_named(const struct sluice_object *obj, const char *name)
{
	int i = sluice_object_find_map(obj, name);

	assert_true(i >= 0);
	return sluice_object_map(obj, (size_t)i);
}

static void check_map(const struct sluice_object *obj, const char *name, uint32_t type,
		      uint32_t key, uint32_t value, uint32_t max, uint32_t flags)
{
	const struct sluice_map_def *m = map_named(obj, name);

	assert_int_equal(m->type, type);
	assert_int_equal(m->key_size, key);
	assert_int_equal(m->value_size, value);
	assert_int_equal(m->max_entries, max);
	assert_int_equal(m->map_flags, flags);
}

static const struct sluice_prog *check_prog(const struct sluice_object *obj, const char *name,
					    const char *section, uint32_t type, size_t insns)
{
	const struct sluice_prog *p = sluice_object_find_prog(obj, name);
	size_t n;

	assert_non_null(p);
	assert_string_equal(sluice_prog_section(p), section);
	assert_int_equal(sluice_prog_type(p), type);
	sluice_prog_insns(p, &n);
	assert_int_equal(n, insns);
	return p;
}

/* Every map load names a map of the object; returns which ones, as bits. */
static unsigned maps_loaded(const struct sluice_object *obj, const struct sluice_prog *p)
{
	size_t n;
	const struct sluice_insn *insns = sluice_prog_insns(p, &n);
	unsigned used = 0;

	for (size_t pc = 0; pc < n; pc++) {
		int op = insn_lookup(&insns[pc]);

		if (op == OP_LDDW_MAP_FD || op == OP_LDDW_MAP_VALUE) {
			assert_true(insns[pc].imm >= 0);
			assert_true((size_t)insns[pc].imm < sluice_object_map_count(obj));
			used |= 1u << insns[pc].imm;
		}
	}
	return used;
}

/* The C source comes through: a line record at the first instruction, from NAME.c. */
static void check_line_info(const struct sluice_prog *p, const char *file)
{
	size_t n;
	const struct sluice_line_info *lines = sluice_prog_line_info(p, &n);
	size_t len = strlen(lines ? lines[0].file : ""), flen = strlen(file);

	assert_true(n > 0);
	assert_int_equal(lines[0].insn, 0);
	assert_true(len >= flen);
	assert_string_equal(lines[0].file + len - flen, file);
	assert_true(lines[0].line > 0);
	for (size_t i = 1; i < n; i++)
		assert_true(lines[i].insn >= lines[i - 1].insn);
}

static void test_xdp_filter(void **state)
{
	struct sluice_object *obj = open_example("xdp_filter.o");
	const struct sluice_prog *p;

	(void)state;
	assert_string_equal(sluice_object_name(obj), "xdp_filter");
	assert_string_equal(sluice_object_license(obj), "Dual MIT/GPL");
	assert_int_equal(sluice_object_prog_count(obj), 1);
	p = check_prog(obj, "xdp_filter", "xdp", BPF_PROG_TYPE_XDP, 260);
	assert_int_equal(sluice_prog_attach_type(p), BPF_XDP);
	assert_string_equal(sluice_prog_attach_target(p), "");
	assert_int_equal(sluice_object_map_count(obj), 3);
	check_map(obj, "blocklist", BPF_MAP_TYPE_HASH, 4, 8, 1024, 0);
	check_map(obj, "blocklist6", BPF_MAP_TYPE_HASH, 16, 8, 1024, 0);
	check_map(obj, "stats", BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 8, 0);
	assert_int_equal(map_named(obj, "stats")->origin, SLUICE_MAP_BTF);
	assert_int_equal(maps_loaded(obj, p), 0x7);
	check_line_info(p, "xdp_filter.c");
	assert_int_equal(sluice_object_warning_count(obj), 0);
	sluice_object_close(obj);
}

static void test_tc_and_socket(void **state)
{
	struct sluice_object *obj = open_example("tc_counter.o");
	const struct sluice_prog *p;

	(void)state;
	p = check_prog(obj, "tc_count", "tc", BPF_PROG_TYPE_SCHED_CLS, 43);
	check_map(obj, "proto_stats", BPF_MAP_TYPE_PERCPU_ARRAY, 4, 16, 256, 0);
	assert_int_equal(maps_loaded(obj, p), 0x1);
	check_line_info(p, "tc_counter.c");
	sluice_object_close(obj);

	obj = open_example("socket_filter.o");
	p = check_prog(obj, "udp_only", "socket", BPF_PROG_TYPE_SOCKET_FILTER, 18);
	assert_int_equal(sluice_object_map_count(obj), 0);
	check_line_info(p, "socket_filter.c");
	sluice_object_close(obj);

	/* the loader does not verify: the unsafe program opens like any other */
	obj = open_example("unsafe.o");
	check_prog(obj, "xdp_unsafe", "xdp", BPF_PROG_TYPE_XDP, 9);
	sluice_object_close(obj);
}

static void check_data_map(const struct sluice_object *obj, const char *name, const char *section,
			   enum sluice_map_origin origin, uint32_t size, uint32_t flags)
{
	const struct sluice_map_def *m = map_named(obj, name);

	assert_string_equal(m->section, section);
	assert_int_equal(m->origin, origin);
	assert_int_equal(m->type, BPF_MAP_TYPE_ARRAY);
	assert_int_equal(m->key_size, 4);
	assert_int_equal(m->value_size, size);
	assert_int_equal(m->max_entries, 1);
	assert_int_equal(m->map_flags, flags);
	assert_int_equal(m->init_size, size);
}

static void test_global_calls(void **state)
{
	struct sluice_object *obj = open_example("global_calls.o");
	const struct sluice_prog *p = check_prog(obj, "xdp_sizes", "xdp", BPF_PROG_TYPE_XDP, 65);
	size_t n, nfuncs;
	const struct sluice_insn *insns = sluice_prog_insns(p, &n);
	const struct sluice_func_info *funcs = sluice_prog_func_info(p, &nfuncs);
	int bss = sluice_object_find_map(obj, "global_c.bss");
	uint32_t value;
	bool hist_ref = false;
	unsigned calls = 0;

	(void)state;
	/* libbpf's order and names: by section index, "<8 chars of object>.<section>" */
	assert_int_equal(sluice_object_map_count(obj), 4);
	assert_string_equal(sluice_object_map(obj, 0)->name, "global_c.rodata");
	assert_string_equal(sluice_object_map(obj, 1)->name, "global_c.data");
	assert_string_equal(sluice_object_map(obj, 2)->name, ".data.stats");
	assert_string_equal(sluice_object_map(obj, 3)->name, "global_c.bss");
	check_data_map(obj, "global_c.rodata", ".rodata", SLUICE_MAP_RODATA, 4,
		       BPF_F_RDONLY_PROG | BPF_F_MMAPABLE);
	check_data_map(obj, "global_c.data", ".data", SLUICE_MAP_DATA, 4, BPF_F_MMAPABLE);
	check_data_map(obj, ".data.stats", ".data.stats", SLUICE_MAP_DATA, 8, BPF_F_MMAPABLE);
	check_data_map(obj, "global_c.bss", ".bss", SLUICE_MAP_BSS, 48, BPF_F_MMAPABLE);
	memcpy(&value, map_named(obj, "global_c.rodata")->init_data, 4);
	assert_int_equal(value, 60); /* min_len */
	memcpy(&value, map_named(obj, "global_c.data")->init_data, 4);
	assert_int_equal(value, 128); /* small_len */
	assert_null(map_named(obj, "global_c.bss")->init_data);

	/*
	 * xdp_sizes is 24 instructions; it calls account (global, first at
	 * .text offset 0, 21 instructions) and then bucket (static), appended
	 * in that order.
	 */
	assert_int_equal(nfuncs, 3);
	assert_int_equal(funcs[0].insn, 0);
	assert_int_equal(funcs[1].insn, 24);
	assert_int_equal(funcs[2].insn, 45);
	assert_string_equal(object_btf_name(obj, funcs[0].type_id), "xdp_sizes");
	assert_string_equal(object_btf_name(obj, funcs[1].type_id), "account");
	assert_string_equal(object_btf_name(obj, funcs[2].type_id), "bucket");
	for (size_t pc = 0; pc < n; pc++) {
		int op = insn_lookup(&insns[pc]);

		if (op == OP_CALL_LOCAL) {
			int64_t target = (int64_t)pc + insns[pc].imm + 1;

			assert_true(target == 24 || target == 45);
			calls |= target == 24 ? 1 : 2;
		}
		if (op == OP_LDDW_MAP_VALUE && insns[pc].imm == bss && insns[pc + 1].imm == 16)
			hist_ref = true; /* &size_hist[0]: .bss offset 16 */
	}
	assert_int_equal(calls, 3);
	assert_true(hist_ref);
	assert_int_equal(maps_loaded(obj, p), 0xf);
	check_line_info(p, "global_calls.c");
	sluice_object_close(obj);
}

static void test_btf_maps(void **state)
{
	struct sluice_object *obj = open_example("btf_maps.o");
	const struct sluice_map_def *classes;
	const struct sluice_prog *p;

	(void)state;
	assert_int_equal(sluice_object_prog_count(obj), 2);
	/* in the order of their offsets in the section */
	assert_string_equal(sluice_prog_name(sluice_object_prog(obj, 0)), "xdp_drop_tail");
	check_prog(obj, "xdp_drop_tail", "xdp", BPF_PROG_TYPE_XDP, 2);
	p = check_prog(obj, "xdp_router", "xdp", BPF_PROG_TYPE_XDP, 155);
	/* nine maps as libbpf has them, then the inner-map definition */
	assert_int_equal(sluice_object_map_count(obj), 10);
	check_map(obj, "routes", BPF_MAP_TYPE_LPM_TRIE, 8, 4, 256, BPF_F_NO_PREALLOC);
	check_map(obj, "flows", BPF_MAP_TYPE_LRU_HASH, 12, 8, 4096, 0);
	check_map(obj, "by_source", BPF_MAP_TYPE_HASH, 4, 8, 1024, 0);
	check_map(obj, "totals", BPF_MAP_TYPE_ARRAY, 4, 8, 3, 0);
	check_map(obj, "events", BPF_MAP_TYPE_RINGBUF, 0, 0, 16 * 4096, 0);
	check_map(obj, "jump", BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 1, 0);
	check_map(obj, "local_counters", BPF_MAP_TYPE_ARRAY, 4, 8, 2, 0);
	check_map(obj, "classes", BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 2, 0);
	classes = map_named(obj, "classes");
	assert_int_equal(classes->inner_map, 9);
	assert_string_equal(sluice_object_map(obj, 9)->name, "classes.inner");
	check_map(obj, "classes.inner", BPF_MAP_TYPE_ARRAY, 4, 8, 2, 0);
	assert_true(map_named(obj, "flows")->btf_key_type_id > 0);
	assert_int_equal(map_named(obj, "jump")->btf_key_type_id, 0);
	/* .values = { [ACTION_DROP - 1] = &xdp_drop_tail } and the two counters */
	assert_int_equal(map_named(obj, "jump")->nslots, 1);
	assert_int_equal(map_named(obj, "jump")->slots[0].index, 0);
	assert_string_equal(map_named(obj, "jump")->slots[0].prog, "xdp_drop_tail");
	assert_int_equal(classes->nslots, 2);
	assert_int_equal(classes->slots[0].index, 0);
	assert_int_equal(classes->slots[0].map, sluice_object_find_map(obj, "local_counters"));
	assert_null(classes->slots[0].prog);
	assert_int_equal(classes->slots[1].index, 1);
	assert_int_equal(classes->slots[1].map, sluice_object_find_map(obj, "remote_counters"));
	assert_int_equal(map_named(obj, "flows")->nslots, 0);
	/* xdp_router uses every map but the two inner instances */
	assert_int_equal(maps_loaded(obj, p), 0x1fc);
	sluice_object_close(obj);
}

static void test_iproute2_legacy(void **state)
{
	struct sluice_object *obj = open_path(OBJECT_TEST_DIR, "iproute2_maps.o");
	const struct sluice_prog *tail, *cls;
	size_t size, n;

	(void)state;
	tail = check_prog(obj, "cls_tail", "1/0", 0, 11);
	cls = check_prog(obj, "cls_main", "classifier", BPF_PROG_TYPE_SCHED_CLS, 25);
	assert_int_equal(sluice_object_warning_count(obj), 1);
	assert_non_null(strstr(sluice_object_warning(obj, 0), "'1/0'"));
	/* struct bpf_elf_map, in symbol order */
	assert_int_equal(sluice_object_map_count(obj), 4);
	assert_string_equal(sluice_object_map(obj, 0)->name, "counters");
	check_map(obj, "counters", BPF_MAP_TYPE_ARRAY, 4, 8, 4, 0);
	check_map(obj, "jmp_table", BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 2, 0);
	check_map(obj, "outer", BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 1, 0);
	assert_int_equal(map_named(obj, "counters")->origin, SLUICE_MAP_LEGACY);
	assert_int_equal(map_named(obj, "counters")->pinning, 1);
	assert_int_equal(map_named(obj, "outer")->inner_map, sluice_object_find_map(obj, "inner"));
	assert_int_equal(maps_loaded(obj, tail), 1u << sluice_object_find_map(obj, "counters"));
	assert_int_equal(maps_loaded(obj, cls), 0x7);
	/* compiled without -g: no BTF, no line info */
	assert_null(sluice_object_btf_data(obj, &size));
	assert_int_equal(size, 0);
	sluice_prog_line_info(cls, &n);
	assert_int_equal(n, 0);
	sluice_object_close(obj);

	obj = open_path(OBJECT_TEST_DIR, "map_def.o");
	cls = check_prog(obj, "count_lengths", "socket", BPF_PROG_TYPE_SOCKET_FILTER, 35);
	assert_int_equal(sluice_object_map_count(obj), 2);
	check_map(obj, "lengths", BPF_MAP_TYPE_HASH, 4, 8, 64, 0);
	check_map(obj, "seen", BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 1, 0);
	assert_int_equal(maps_loaded(obj, cls), 0x3);
	sluice_object_close(obj);
}

static void test_section_names(void **state)
{
	static const struct {
		const char *section;
		uint32_t type, attach;
		const char *target;
	} cases[] = {
		{ "kprobe/do_unlinkat", BPF_PROG_TYPE_KPROBE, 0, "do_unlinkat" },
		{ "kprobe", BPF_PROG_TYPE_KPROBE, 0, "" },
		{ "kretprobe/tcp_v4_connect", BPF_PROG_TYPE_KPROBE, 0, "tcp_v4_connect" },
		{ "tracepoint/syscalls/sys_enter_execve", BPF_PROG_TYPE_TRACEPOINT, 0,
		  "syscalls/sys_enter_execve" },
		{ "tp_btf/sched_switch", BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, "sched_switch" },
		{ "fentry/vfs_read", BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, "vfs_read" },
		{ "tc/ingress", BPF_PROG_TYPE_SCHED_CLS, 0, "" },
		{ "classifier", BPF_PROG_TYPE_SCHED_CLS, 0, "" },
		{ "xdp.frags", BPF_PROG_TYPE_XDP, BPF_XDP, "" },
		{ "xdp/devmap", BPF_PROG_TYPE_XDP, BPF_XDP_DEVMAP, "" },
		{ "sk_reuseport/migrate", BPF_PROG_TYPE_SK_REUSEPORT,
		  BPF_SK_REUSEPORT_SELECT_OR_MIGRATE, "" },
		{ "cgroup/connect4", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_CONNECT, "" },
		{ "cgroup_skb/egress", BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_EGRESS, "" },
		{ "lsm/file_open", BPF_PROG_TYPE_LSM, BPF_LSM_MAC, "file_open" },
		{ "usdt/libc:malloc", BPF_PROG_TYPE_KPROBE, 0, "libc:malloc" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct sec_def *def = sec_def_find(cases[i].section);

		assert_non_null(def);
		assert_int_equal(def->prog_type, cases[i].type);
		assert_int_equal(def->attach_type, cases[i].attach);
		assert_string_equal(sec_def_attach_target(def, cases[i].section), cases[i].target);
	}
	/* "kprobe+" needs the name whole or followed by '/'; numbered sections are unknown */
	assert_null(sec_def_find("kprobex"));
	assert_null(sec_def_find("xdp/other"));
	assert_null(sec_def_find("1/0"));
	assert_null(sec_def_find("from-container"));
	assert_string_equal(bpf_prog_type_str(BPF_PROG_TYPE_SCHED_CLS), "sched_cls");
	assert_string_equal(bpf_map_type_str(BPF_MAP_TYPE_RINGBUF), "ringbuf");
	assert_null(bpf_map_type_str(10000));
}

/* From memory, a name picks the object name as a path would: map names follow it. */
static void test_open_mem_names(void **state)
{
	size_t size;
	uint8_t *data = slurp(BPF_EXAMPLES_DIR "/global_calls.o", &size);
	struct sluice_object_opts opts = { .sz = sizeof(opts), .no_core = true };
	struct sluice_error err = { 0 };
	struct sluice_object *obj =
		sluice_object_open_mem(data, size, "some/dir/a_long_object_name.bpf.o", &opts, &err);

	(void)state;
	assert_non_null(obj);
	assert_string_equal(sluice_object_name(obj), "a_long_object_n");
	assert_int_equal(sluice_object_find_map(obj, "a_long_o.rodata"), 0);
	assert_int_equal(sluice_object_find_map(obj, "a_long_o.bss"), 3);
	assert_int_equal(sluice_object_find_map(obj, ".data.stats"), 2);
	sluice_object_close(obj);
	free(data);
}

/* ---- damaged files ---- */

static Elf64_Shdr *shdr(uint8_t *data, size_t i)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)data;

	return (Elf64_Shdr *)(data + eh->e_shoff + i * sizeof(Elf64_Shdr));
}

static size_t find_section(uint8_t *data, const char *name)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)data;
	const char *names = (const char *)data + shdr(data, eh->e_shstrndx)->sh_offset;

	for (size_t i = 1; i < eh->e_shnum; i++)
		if (!strcmp(names + shdr(data, i)->sh_name, name))
			return i;
	fail_msg("no section %s", name);
	return 0;
}

/* Opens the damaged bytes, which must fail with a message containing `expect`. */
static void expect_error(const uint8_t *data, size_t size, const char *expect)
{
	struct sluice_object_opts opts = { .sz = sizeof(opts), .no_core = true };
	struct sluice_error err = { 0 };
	struct sluice_object *obj;

	errno = 0;
	obj = sluice_object_open_mem(data, size, "bad.o", &opts, &err);
	if (obj)
		fail_msg("opened, but expected: %s", expect);
	assert_int_equal(errno, err.code);
	assert_true(err.code > 0);
	assert_non_null(strstr(err.msg, "bad.o"));
	if (!strstr(err.msg, expect))
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, expect);
}

struct damage {
	uint8_t *data;
	size_t size;
};

static int damage_setup(void **state)
{
	struct damage *d = malloc(sizeof(*d));

	assert_non_null(d);
	d->data = slurp(BPF_EXAMPLES_DIR "/xdp_filter.o", &d->size);
	*state = d;
	return 0;
}

static int damage_teardown(void **state)
{
	struct damage *d = *state;

	free(d->data);
	free(d);
	return 0;
}

static uint8_t *copy(const struct damage *d)
{
	uint8_t *c = malloc(d->size);

	assert_non_null(c);
	memcpy(c, d->data, d->size);
	return c;
}

static void test_bad_header(void **state)
{
	const struct damage *d = *state;
	uint8_t *c = copy(d);

	expect_error(d->data, 40, "truncated");
	expect_error((const uint8_t *)"hello, world, this is not an ELF file at all.......64 bytes",
		     60, "truncated");
	memset(c, 'x', 64);
	expect_error(c, d->size, "not an ELF file");
	memcpy(c, d->data, d->size);
	((Elf64_Ehdr *)c)->e_machine = EM_X86_64;
	expect_error(c, d->size, "machine 62 is not BPF");
	memcpy(c, d->data, d->size);
	c[EI_CLASS] = ELFCLASS32;
	expect_error(c, d->size, "not a 64-bit");
	memcpy(c, d->data, d->size);
	((Elf64_Ehdr *)c)->e_type = ET_EXEC;
	expect_error(c, d->size, "not a relocatable object");
	/* the section table sits at the end: cutting the file cuts it */
	expect_error(d->data, d->size / 2, "beyond the end of the file");
	free(c);
}

static void test_bad_sections(void **state)
{
	const struct damage *d = *state;
	uint8_t *c = copy(d);
	size_t xdp = find_section(c, "xdp"), license = find_section(c, "license");
	size_t symtab = find_section(c, ".symtab");

	shdr(c, xdp)->sh_offset = d->size + 100;
	expect_error(c, d->size, "beyond the end of the file");
	memcpy(c, d->data, d->size);
	shdr(c, license)->sh_offset = shdr(c, xdp)->sh_offset;
	expect_error(c, d->size, "overlap");
	memcpy(c, d->data, d->size);
	shdr(c, symtab)->sh_link = 0;
	expect_error(c, d->size, "string table (section 0) is missing");
	memcpy(c, d->data, d->size);
	shdr(c, symtab)->sh_type = SHT_PROGBITS;
	expect_error(c, d->size, "no symbol table");
	memcpy(c, d->data, d->size);
	shdr(c, symtab)->sh_size -= 5;
	expect_error(c, d->size, "not a multiple of 24");
	free(c);
}

static void test_bad_relocations(void **state)
{
	const struct damage *d = *state;
	uint8_t *c = copy(d);
	size_t rel = find_section(c, ".relxdp");
	Elf64_Rel *r = (Elf64_Rel *)(c + shdr(c, rel)->sh_offset);
	size_t nsyms = shdr(c, find_section(c, ".symtab"))->sh_size / sizeof(Elf64_Sym);
	char expect[128];

	r[0].r_info = ELF64_R_INFO(9999, ELF64_R_TYPE(r[0].r_info));
	snprintf(expect, sizeof(expect), "section 'xdp' (index %zu): relocation 0 at offset 0x%llx "
		 "refers to symbol 9999, beyond the %zu symbols", find_section(c, "xdp"),
		 (unsigned long long)r[0].r_offset, nsyms);
	expect_error(c, d->size, expect);
	memcpy(c, d->data, d->size);
	r[1].r_offset += 3;
	expect_error(c, d->size, "is not on an instruction");
	memcpy(c, d->data, d->size);
	r[0].r_offset = shdr(c, find_section(c, "xdp"))->sh_size;
	expect_error(c, d->size, "beyond the section's end");
	memcpy(c, d->data, d->size);
	/* a relocation on an instruction that is neither lddw nor call */
	r[0].r_offset += 8;
	expect_error(c, d->size, "neither a call nor lddw");
	free(c);
}

/* Any prefix of the file, and any damaged byte, gives an object or an error: never a crash. */
static void test_no_crash(void **state)
{
	const struct damage *d = *state;
	struct sluice_object_opts opts = { .sz = sizeof(opts), .no_core = true };
	uint8_t *c = copy(d);
	uint32_t seed = 12345;

	for (size_t n = 0; n < d->size; n += 37) {
		struct sluice_object *obj = sluice_object_open_mem(d->data, n, "cut.o", &opts, NULL);

		assert_null(obj);
	}
	for (int i = 0; i < 3000; i++) {
		size_t at;

		seed = seed * 1103515245 + 12345;
		at = (seed >> 8) % d->size;
		c[at] ^= (uint8_t)(1u << (seed % 8));
		sluice_object_close(sluice_object_open_mem(c, d->size, "flip.o", &opts, NULL));
		c[at] = d->data[at];
	}
	free(c);
}

static void test_missing_file(void **state)
{
	struct sluice_error err = { 0 };

	(void)state;
	assert_null(sluice_object_open("/nonexistent/x.o", NULL, &err));
	assert_int_equal(err.code, ENOENT);
	assert_non_null(strstr(err.msg, "/nonexistent/x.o"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xdp_filter),
		cmocka_unit_test(test_tc_and_socket),
		cmocka_unit_test(test_global_calls),
		cmocka_unit_test(test_btf_maps),
		cmocka_unit_test(test_iproute2_legacy),
		cmocka_unit_test(test_section_names),
		cmocka_unit_test(test_open_mem_names),
		cmocka_unit_test_setup_teardown(test_bad_header, damage_setup, damage_teardown),
		cmocka_unit_test_setup_teardown(test_bad_sections, damage_setup, damage_teardown),
		cmocka_unit_test_setup_teardown(test_bad_relocations, damage_setup, damage_teardown),
		cmocka_unit_test_setup_teardown(test_no_crash, damage_setup, damage_teardown),
		cmocka_unit_test(test_missing_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
