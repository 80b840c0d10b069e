/* SPDX-License-Identifier: MIT */
/*
 * The user-space runtime: an object's maps created, its programs patched
 * and prepared for an engine, and the runs of those programs.  What a
 * program type means (its context, its BPF_PROG_TEST_RUN rules) is
 * progtypes/'s; what a helper does is helpers/'s.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/bpf.h>

#include <sluice/interp.h>
#include <sluice/jit.h>
#include <sluice/runtime.h>
#include <sluice/verifier.h>

#include "context.h"
#include "errmsg.h"
#include "helper_proto.h"
#include "helpers/fib.h"
#include "helpers/impl.h"
#include "insn.h"
#include "maps/map.h"
#include "progtypes/progtypes.h"
#include "runtime.h"

/*
 * What `lddw rX, func` becomes: a tag the helpers that take callbacks hand
 * back to rt_call_subprog, with the callback's instruction index below it.
 * No real pointer has these upper bits on x86-64.
 */
#define FUNC_TAG 0xf0ca11ba00000000ull
#define FUNC_TAG_MASK 0xffffffff00000000ull

struct rt_prog {
	struct sluice_rt *rt;
	const char *name;          /* the object's */
	uint32_t type;
	uint32_t expected_attach_type;
	uint32_t id;
	struct sluice_insn *insns; /* patched and rewritten */
	size_t count;
	struct sluice_helpers *helpers;
	struct sluice_vm *vm;      /* the interpreter; with the JIT, only for callbacks */
	struct sluice_jit *jit;
};

struct sluice_rt {
	const struct sluice_object *obj;
	bool jit;
	bool checked;
	bool verified;             /* every program passed the verifier */
	const struct sluice_map_def **defs; /* the object's maps, as the verifier takes them */
	void (*trace)(void *ctx, const char *line);
	void *trace_ctx;
	struct sluice_map **maps;  /* by the object's map index; NULL when not created */
	size_t nmaps;
	struct rt_prog *progs;
	size_t nprogs;
	struct rt_fib *fib;
	/* checked mode: every map's memory is a region a program may touch */
	struct sluice_region *map_regions;
	size_t nmap_regions;
};

/* Program ids are unique in the process, as the kernel's are on the machine. */
static atomic_uint next_prog_id = 1;

static const char *prog_type_name(uint32_t type)
{
	switch (type) {
	case BPF_PROG_TYPE_SOCKET_FILTER: return "socket_filter";
	case BPF_PROG_TYPE_SCHED_CLS: return "sched_cls";
	case BPF_PROG_TYPE_SCHED_ACT: return "sched_act";
	case BPF_PROG_TYPE_XDP: return "xdp";
	case BPF_PROG_TYPE_KPROBE: return "kprobe";
	case BPF_PROG_TYPE_TRACEPOINT: return "tracepoint";
	case BPF_PROG_TYPE_RAW_TRACEPOINT: return "raw_tracepoint";
	case BPF_PROG_TYPE_PERF_EVENT: return "perf_event";
	case BPF_PROG_TYPE_CGROUP_SKB: return "cgroup_skb";
	case BPF_PROG_TYPE_TRACING: return "tracing";
	case BPF_PROG_TYPE_SYSCALL: return "syscall";
	default: return "this type of";
	}
}

/* ---- maps ---------------------------------------------------------------- */

static void map_name(const struct sluice_map_def *def, char name[16])
{
	/* the kernel keeps 15 characters; libbpf's names are already legal */
	snprintf(name, 16, "%s", def->name);
}

static struct sluice_map *create_map(const struct sluice_object *obj, size_t i,
				     struct sluice_error *err)
{
	const struct sluice_map_def *def = sluice_object_map(obj, i);
	struct sluice_map *inner = NULL, *map;
	struct sluice_map_attr attr = {
		.sz = sizeof(attr),
		.type = def->type,
		.key_size = def->key_size,
		.value_size = def->value_size,
		.max_entries = def->max_entries,
		.map_flags = def->map_flags,
	};
	char name[16];

	map_name(def, name);
	attr.name = name;
	/*
	 * Unsized maps get one entry per possible CPU: libbpf's rule for perf
	 * event arrays, and the kernel backend's for the maps a loader would
	 * have sized before loading (xdp-bench's per-CPU tables).
	 */
	if (!attr.max_entries)
		attr.max_entries = (uint32_t)sluice_num_possible_cpus();
	if (def->inner_map >= 0) {
		/* the inner definition is only a template, as libbpf uses it */
		inner = create_map(obj, (size_t)def->inner_map, err);
		if (!inner)
			return NULL;
		attr.inner_map = inner;
	}
	map = sluice_map_create(&attr, err);
	sluice_map_close(inner);
	if (!map) {
		sluice_fail_prefix(err, -errno, def->name);
		return NULL;
	}
	return map;
}

/* Global data: the section's bytes as the one value, .rodata frozen. */
static int fill_global_data(struct sluice_map *map, const struct sluice_map_def *def,
			    struct sluice_error *err)
{
	uint32_t zero = 0;
	int ret;

	if (def->init_data) {
		ret = sluice_map_update(map, &zero, def->init_data, BPF_ANY, err);
		if (ret)
			return sluice_fail_prefix(err, ret, def->name);
	}
	if (def->origin == SLUICE_MAP_RODATA || def->origin == SLUICE_MAP_KCONFIG) {
		ret = sluice_map_freeze(map, err);
		if (ret)
			return sluice_fail_prefix(err, ret, def->name);
	}
	return 0;
}

static bool is_inner_template(const struct sluice_object *obj, size_t i)
{
	for (size_t j = 0; j < sluice_object_map_count(obj); j++)
		if (sluice_object_map(obj, j)->inner_map == (int)i)
			return true;
	return false;
}

static int create_maps(struct sluice_rt *rt, struct sluice_error *err)
{
	const struct sluice_object *obj = rt->obj;

	rt->nmaps = sluice_object_map_count(obj);
	rt->maps = calloc(rt->nmaps ? rt->nmaps : 1, sizeof(*rt->maps));
	rt->map_regions = calloc(rt->nmaps ? rt->nmaps : 1, sizeof(*rt->map_regions));
	rt->defs = calloc(rt->nmaps ? rt->nmaps : 1, sizeof(*rt->defs));
	if (!rt->maps || !rt->map_regions || !rt->defs)
		return sluice_fail(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < rt->nmaps; i++) {
		const struct sluice_map_def *def = sluice_object_map(obj, i);
		struct sluice_map *map;
		int ret;

		rt->defs[i] = def;
		if (is_inner_template(obj, i))
			continue;
		map = create_map(obj, i, err);
		if (!map)
			return -errno;
		rt->maps[i] = map;
		ret = fill_global_data(map, def, err);
		if (ret)
			return ret;
		rt->map_regions[rt->nmap_regions++] = (struct sluice_region){
			.name = def->name,
			.base = map->base,
			.size = map->mapped,
			.writable = true,
		};
	}
	return 0;
}

/* `.values = { ... }`: once programs are loaded, as libbpf's init_*_slots. */
static int fill_slots(struct sluice_rt *rt, struct sluice_error *err)
{
	for (size_t i = 0; i < rt->nmaps; i++) {
		const struct sluice_map_def *def = sluice_object_map(rt->obj, i);

		for (size_t j = 0; rt->maps[i] && j < def->nslots; j++) {
			const struct sluice_map_slot *slot = &def->slots[j];
			struct sluice_map_info info;
			uint32_t value;
			int ret;

			if (slot->prog) {
				const struct sluice_rt_prog *prog = sluice_rt_find_prog(rt, slot->prog);

				if (!prog) /* not loaded: the slot stays empty */
					continue;
				value = sluice_rt_prog_id(prog);
			} else {
				sluice_map_get_info(rt->maps[slot->map], &info);
				value = info.id;
			}
			ret = sluice_map_update(rt->maps[i], &slot->index, &value, BPF_ANY, err);
			if (ret)
				return sluice_fail_prefix(err, ret, def->name);
		}
	}
	return 0;
}

/* ---- programs ------------------------------------------------------------ */

static void set_lddw(struct sluice_insn *insn, uint64_t value)
{
	insn[0].src = 0;
	insn[0].imm = (int32_t)(uint32_t)value;
	insn[1].imm = (int32_t)(uint32_t)(value >> 32);
}

/* lddw's map, map value and function forms, as the kernel's resolve_pseudo_ldimm64. */
static int patch_references(struct sluice_rt *rt, struct rt_prog *prog,
			    struct sluice_error *err)
{
	for (size_t pc = 0; pc < prog->count; pc += sluice_insn_slots(&prog->insns[pc])) {
		struct sluice_insn *insn = &prog->insns[pc];
		int op = insn_lookup(insn);
		uint32_t idx = (uint32_t)insn->imm;
		struct sluice_map *map;
		uint8_t *value;
		uint32_t zero = 0;
		int64_t target;

		switch (op) {
		case OP_LDDW_MAP_FD:
		case OP_LDDW_MAP_VALUE:
			if (idx >= rt->nmaps || !rt->maps[idx])
				return sluice_fail(err, EINVAL, "program '%s': pc %zu: map index %u is not a map of the object",
						   prog->name, pc, idx);
			map = rt->maps[idx];
			if (op == OP_LDDW_MAP_FD) {
				set_lddw(insn, (uintptr_t)map);
				break;
			}
			/* only arrays have one address for a value (map_direct_value_addr) */
			if (map->type != BPF_MAP_TYPE_ARRAY)
				return sluice_fail(err, EINVAL, "program '%s': pc %zu: map '%s' has no direct value address",
						   prog->name, pc, sluice_object_map(rt->obj, idx)->name);
			if ((uint32_t)insn[1].imm >= map->value_size)
				return sluice_fail(err, EACCES, "program '%s': pc %zu: offset %u is past the %u-byte value of map '%s'",
						   prog->name, pc, (uint32_t)insn[1].imm, map->value_size,
						   sluice_object_map(rt->obj, idx)->name);
			value = sluice_map_elem_lookup(map, &zero, 0);
			set_lddw(insn, (uintptr_t)value + (uint32_t)insn[1].imm);
			break;
		case OP_LDDW_FUNC:
			insn_branch_target(insn, op, pc, &target);
			set_lddw(insn, FUNC_TAG | (uint64_t)target);
			break;
		case OP_LDDW_BTF_ID:
		case OP_CALL_KFUNC:
			return sluice_fail(err, EOPNOTSUPP, "program '%s': pc %zu: refers to a kernel symbol, which the user-space runtime does not have",
					   prog->name, pc);
		default:
			break;
		}
	}
	return 0;
}

/* Every helper call must be one the type may make and the runtime implements. */
static int check_helper_calls(const struct rt_prog *prog, struct sluice_error *err)
{
	for (size_t pc = 0; pc < prog->count; pc += sluice_insn_slots(&prog->insns[pc])) {
		const struct sluice_insn *insn = &prog->insns[pc];
		const struct helper_proto *proto;
		uint32_t id = (uint32_t)insn->imm;

		if (insn_lookup(insn) != OP_CALL)
			continue;
		proto = helper_proto(id);
		if (!proto)
			return sluice_fail(err, EINVAL, "program '%s': pc %zu: invalid func unknown#%u",
					   prog->name, pc, id);
		if (!helper_allowed(proto, prog->type))
			return sluice_fail(err, EINVAL, "program '%s': pc %zu: helper bpf_%s#%u is not available to %s programs",
					   prog->name, pc, proto->name, id, prog_type_name(prog->type));
		if (!sluice_helpers_fn(prog->helpers, id))
			return sluice_fail(err, EOPNOTSUPP, "program '%s': pc %zu: helper bpf_%s#%u is not implemented in the user-space runtime",
					   prog->name, pc, proto->name, id);
	}
	return 0;
}

static int prepare_engines(struct sluice_rt *rt, struct rt_prog *prog,
			   struct sluice_error *err)
{
	struct sluice_vm_opts vopts = {
		.sz = sizeof(vopts),
		.helpers = prog->helpers,
		.checked = rt->checked,
	};
	struct sluice_jit_opts jopts = {
		.sz = sizeof(jopts),
		.helpers = prog->helpers,
		.maps = rt->maps,
		.nmaps = rt->nmaps,
	};

	prog->vm = sluice_vm_new(prog->insns, prog->count, &vopts, err);
	if (!prog->vm)
		return sluice_fail_prefix(err, -errno, prog->name);
	if (rt->jit) {
		prog->jit = sluice_jit_new(prog->insns, prog->count, &jopts, err);
		if (!prog->jit)
			return sluice_fail_prefix(err, -errno, prog->name);
	}
	return 0;
}

static bool wanted(const char *const *names, const char *name)
{
	if (!names)
		return true;
	for (; *names; names++)
		if (!strcmp(*names, name))
			return true;
	return false;
}

/* The kernel's rule: nothing runs that the verifier did not accept. */
static int verify_prog(const struct sluice_rt *rt, const struct sluice_prog *src,
		       struct sluice_error *err)
{
	struct sluice_verifier_opts opts = {
		.sz = sizeof(opts),
		.prog_type = sluice_prog_type(src),
		.expected_attach_type = sluice_prog_attach_type(src),
		.gpl = sluice_object_gpl_compatible(rt->obj),
		.maps = rt->defs,
		.nmaps = rt->nmaps,
	};
	struct sluice_verdict verdict = { 0 };
	size_t count;
	const struct sluice_insn *insns = sluice_prog_insns(src, &count);
	int ret;

	opts.lines = sluice_prog_line_info(src, &opts.nlines);
	opts.funcs = sluice_prog_func_info(src, &opts.nfuncs);
	ret = sluice_verify(insns, count, &opts, &verdict, err);
	if (!ret && !verdict.accepted)
		ret = -EACCES;
	sluice_verdict_release(&verdict);
	return ret ? sluice_fail_prefix(err, ret, sluice_prog_name(src)) : 0;
}

static int load_prog(struct sluice_rt *rt, const struct sluice_prog *src,
		     struct rt_prog *prog, struct sluice_error *err)
{
	const struct sluice_insn *insns = sluice_prog_insns(src, &prog->count);
	int ret = rt->verified ? verify_prog(rt, src, err) : 0;

	if (ret)
		return ret;
	prog->rt = rt;
	prog->name = sluice_prog_name(src);
	prog->type = sluice_prog_type(src);
	prog->expected_attach_type = sluice_prog_attach_type(src);
	prog->id = atomic_fetch_add(&next_prog_id, 1);
	prog->insns = malloc(prog->count * sizeof(*insns));
	if (!prog->insns)
		return sluice_fail(err, ENOMEM, "out of memory");
	memcpy(prog->insns, insns, prog->count * sizeof(*insns));
	ret = patch_references(rt, prog, err);
	if (!ret) {
		ret = ctx_convert(prog->type, prog->expected_attach_type, prog->insns,
				  prog->count, err);
		if (ret)
			ret = sluice_fail_prefix(err, ret, prog->name);
	}
	if (!ret) {
		prog->helpers = helpers_for_prog_type(prog->type, err);
		ret = prog->helpers ? check_helper_calls(prog, err) : -errno;
	}
	return ret ? ret : prepare_engines(rt, prog, err);
}

static void free_prog(struct rt_prog *prog)
{
	sluice_jit_free(prog->jit);
	sluice_vm_free(prog->vm);
	sluice_helpers_free(prog->helpers);
	free(prog->insns);
}

struct sluice_rt *sluice_rt_load(const struct sluice_object *obj,
				 const struct sluice_rt_opts *opts,
				 struct sluice_error *err)
{
	const char *engine = opts && opts->engine ? opts->engine : "interp";
	struct sluice_rt *rt;

	if (opts && opts->sz < sizeof(*opts)) {
		sluice_fail(err, EINVAL, "sluice_rt_opts: bad size");
		return NULL;
	}
	if (strcmp(engine, "interp") && strcmp(engine, "jit")) {
		sluice_fail(err, EINVAL, "unknown engine '%s' (interp, jit)", engine);
		return NULL;
	}
	rt = calloc(1, sizeof(*rt));
	if (!rt) {
		sluice_fail(err, ENOMEM, "out of memory");
		return NULL;
	}
	rt->obj = obj;
	rt->jit = !strcmp(engine, "jit");
	rt->verified = !opts || !opts->no_verify;
	if (opts) {
		rt->checked = opts->checked;
		rt->trace = opts->trace;
		rt->trace_ctx = opts->trace_ctx;
	}
	if (rt->jit && !rt->verified) {
		sluice_fail(err, EINVAL, "unverified programs run checked, in the interpreter, not the JIT");
		goto fail;
	}
	if (!rt->verified)
		rt->checked = true;
	if (rt->jit && rt->checked) {
		sluice_fail(err, EINVAL, "checked runs are the interpreter's");
		goto fail;
	}
	if (create_maps(rt, err))
		goto fail;
	rt->progs = calloc(sluice_object_prog_count(obj) + 1, sizeof(*rt->progs));
	if (!rt->progs) {
		sluice_fail(err, ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < sluice_object_prog_count(obj); i++) {
		const struct sluice_prog *src = sluice_object_prog(obj, i);

		if (!wanted(opts ? opts->progs : NULL, sluice_prog_name(src)))
			continue;
		if (load_prog(rt, src, &rt->progs[rt->nprogs++], err))
			goto fail;
	}
	if (fill_slots(rt, err))
		goto fail;
	return rt;
fail:
	sluice_rt_free(rt);
	return NULL;
}

void sluice_rt_free(struct sluice_rt *rt)
{
	if (!rt)
		return;
	for (size_t i = 0; i < rt->nprogs; i++)
		free_prog(&rt->progs[i]);
	free(rt->progs);
	for (size_t i = 0; i < rt->nmaps; i++)
		sluice_map_close(rt->maps[i]);
	free(rt->maps);
	free(rt->map_regions);
	free(rt->defs);
	fib_free(rt->fib);
	free(rt);
}

size_t sluice_rt_map_count(const struct sluice_rt *rt)
{
	return rt->nmaps;
}

struct sluice_map *sluice_rt_map(const struct sluice_rt *rt, size_t i)
{
	return i < rt->nmaps ? rt->maps[i] : NULL;
}

struct sluice_map *sluice_rt_find_map(const struct sluice_rt *rt, const char *name)
{
	int i = sluice_object_find_map(rt->obj, name);

	return i < 0 ? NULL : rt->maps[i];
}

struct sluice_rt_prog *sluice_rt_find_prog(const struct sluice_rt *rt, const char *name)
{
	for (size_t i = 0; i < rt->nprogs; i++)
		if (!strcmp(rt->progs[i].name, name))
			return (struct sluice_rt_prog *)&rt->progs[i];
	errno = ENOENT;
	return NULL;
}

const struct rt_prog *rt_prog_of(const struct sluice_rt_prog *prog)
{
	return (const struct rt_prog *)prog;
}

const char *sluice_rt_prog_name(const struct sluice_rt_prog *prog)
{
	return rt_prog_of(prog)->name;
}

uint32_t sluice_rt_prog_type(const struct sluice_rt_prog *prog)
{
	return rt_prog_of(prog)->type;
}

uint32_t sluice_rt_prog_id(const struct sluice_rt_prog *prog)
{
	return rt_prog_of(prog)->id;
}

const struct sluice_insn *rt_prog_insns(const struct rt_prog *prog, size_t *count)
{
	*count = prog->count;
	return prog->insns;
}

const struct sluice_insn *sluice_rt_prog_insns(const struct sluice_rt_prog *prog,
					       size_t *count)
{
	return rt_prog_insns(rt_prog_of(prog), count);
}

const struct sluice_jit *sluice_rt_prog_jit(const struct sluice_rt_prog *prog)
{
	return rt_prog_of(prog)->jit;
}

uint32_t rt_prog_type(const struct rt_prog *prog)
{
	return prog->type;
}

uint32_t rt_prog_expected_attach_type(const struct rt_prog *prog)
{
	return prog->expected_attach_type;
}

/* ---- runs ---------------------------------------------------------------- */

/*
 * Checked mode: a program may touch the context, the packet buffer and
 * every map; a callback also what its caller could, the caller's stack,
 * and whatever the helper calling it adds.
 */
static struct sluice_region *run_regions(const struct rt_run *run,
					 const struct sluice_region *extra, size_t *count)
{
	const struct sluice_exec *caller = run->exec;
	const struct sluice_rt *rt = run->rt;
	size_t inherited = caller ? caller->nregions + 1 : rt->nmap_regions + 2;
	struct sluice_region *regions = malloc((inherited + 1) * sizeof(*regions));
	size_t n = 0;

	if (!regions)
		return NULL;
	if (caller) {
		memcpy(regions, caller->regions, caller->nregions * sizeof(*regions));
		n = caller->nregions;
		if (caller->stack)
			regions[n++] = (struct sluice_region){ "caller's stack", caller->stack,
							       caller->stack_size, true };
	} else {
		if (run->ctx)
			regions[n++] = (struct sluice_region){ "ctx", run->ctx, run->ctx_size, true };
		if (run->buf)
			regions[n++] = (struct sluice_region){ "packet", run->buf, run->buf_size, true };
		memcpy(regions + n, rt->map_regions, rt->nmap_regions * sizeof(*regions));
		n += rt->nmap_regions;
	}
	if (extra)
		regions[n++] = *extra;
	*count = n;
	return regions;
}

/* Checked mode: inner maps are mapped when a lookup first hands one out. */
static bool inner_maps_allow(void *user, uint64_t addr, uint64_t size, bool write)
{
	(void)user, (void)write;
	return map_inner_handles_hold(addr, size);
}

static int exec_at(struct rt_run *run, const struct rt_prog *prog, size_t entry,
		   const uint64_t args[5], const struct sluice_region *extra,
		   uint64_t *r0, struct sluice_error *err)
{
	/*
	 * Every field named, and args element by element rather than copied
	 * after: a partial initializer makes gcc clear the struct with rep
	 * stos first (some 6 ns, as long as a whole run of a small program),
	 * and a copy reads args back wider than they were stored, a store
	 * forwarding stall.
	 */
	struct sluice_exec exec = {
		.sz = sizeof(exec),
		.args = { args[0], args[1], args[2], args[3], args[4] },
		.regions = NULL,
		.nregions = 0,
		.packet = run->ld_data,
		.packet_len = run->ld_len,
		.packet_ll = run->ld_ll,
		.packet_net = run->ld_net,
		.user = run,
		.executed = 0,
		.entry = entry,
		.stack = NULL,
		.stack_size = 0,
		.allows = NULL,
	};
	const struct rt_prog *outer_prog = run->prog;
	struct sluice_exec *outer_exec = run->exec;
	struct sluice_region *regions = NULL;
	int ret;

	if (prog->rt->checked) {
		/* a tail call replaces its caller: it inherits no stack */
		if (!entry)
			run->exec = NULL;
		regions = run_regions(run, extra, &exec.nregions);
		run->exec = outer_exec;
		if (!regions)
			return sluice_fail(err, ENOMEM, "out of memory");
		exec.regions = regions;
		exec.allows = inner_maps_allow;
	}
	run->prog = prog;
	run->exec = &exec;
	/* the JIT enters programs only at their start: callbacks interpret */
	if (prog->jit && !entry)
		ret = sluice_jit_exec(prog->jit, &exec, r0, err);
	else
		ret = sluice_vm_exec(prog->vm, &exec, r0, err);
	run->prog = outer_prog;
	run->exec = outer_exec;
	free(regions);
	if (!ret && run->fault) {
		if (err)
			*err = run->fault_err;
		ret = run->fault;
	}
	return ret;
}

int rt_exec(struct rt_run *run, const struct rt_prog *prog, uint64_t *r0,
	    struct sluice_error *err)
{
	const uint64_t args[5] = { (uintptr_t)run->ctx };

	return exec_at(run, prog, 0, args, NULL, r0, err);
}

int rt_call_subprog(struct rt_run *run, uint64_t fn, const uint64_t args[5],
		    const struct sluice_region *extra, uint64_t *r0,
		    struct sluice_error *err)
{
	const struct rt_prog *prog = run->prog;

	/* entry 0 is the program itself, never a callback */
	if ((fn & FUNC_TAG_MASK) != FUNC_TAG || !(fn & ~FUNC_TAG_MASK) ||
	    (fn & ~FUNC_TAG_MASK) >= prog->count)
		return sluice_fail(err, EINVAL, "program '%s': 0x%llx is not one of its functions",
				   prog->name, (unsigned long long)fn);
	return exec_at(run, prog, (size_t)(fn & ~FUNC_TAG_MASK), args, extra, r0, err);
}

void rt_fault(struct sluice_run *run, int ret, const struct sluice_error *err)
{
	struct rt_run *r = sluice_run_user(run);

	if (!r->fault) {
		r->fault = ret;
		r->fault_err = *err;
	}
	sluice_run_stop(run, 0);
}

const struct rt_prog *rt_prog_by_id(const struct sluice_rt *rt, uint32_t id)
{
	for (size_t i = 0; i < rt->nprogs; i++)
		if (rt->progs[i].id == id)
			return &rt->progs[i];
	return NULL;
}

bool rt_owns_map(const struct sluice_rt *rt, const struct sluice_map *map)
{
	/* the verifier proved every map argument is one of the object's */
	if (rt->verified)
		return true;
	for (size_t i = 0; i < rt->nmaps; i++)
		if (rt->maps[i] == map)
			return true;
	/* a lookup in a map of maps hands out inner handles */
	return map_is_inner_handle(map);
}

void rt_trace(const struct sluice_rt *rt, const char *line)
{
	if (rt->trace)
		rt->trace(rt->trace_ctx, line);
	else
		fprintf(stderr, "sluice-%d [%03d] bpf_trace_printk: %s\n", (int)getpid(), 0, line);
}

struct rt_fib *rt_fib(const struct sluice_rt *rt)
{
	return rt->fib;
}

int sluice_rt_add_route(struct sluice_rt *rt, const struct sluice_route *route,
			struct sluice_error *err)
{
	return fib_add_route(&rt->fib, route, err);
}

int sluice_rt_test_run(struct sluice_rt_prog *prog, struct sluice_test_run *t,
		       struct sluice_error *err)
{
	const struct rt_prog *p = rt_prog_of(prog);
	struct rt_run run = { .rt = p->rt, .prog = p };

	if (!t || t->sz < sizeof(*t))
		return sluice_fail(err, EINVAL, "sluice_test_run: bad size");
	if (t->flags & BPF_F_TEST_RUN_ON_CPU)
		run.cpu = t->cpu;
	return progtype_test_run(&run, t, err);
}
