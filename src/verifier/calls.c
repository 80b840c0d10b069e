/* SPDX-License-Identifier: MIT */
/*
 * Calls and returns: helper calls checked against their prototypes
 * (helper_proto.h; the kernel's check_helper_call and check_func_arg),
 * bpf-to-bpf calls (a new frame), helpers that call a subprogram back
 * (bpf_loop, bpf_for_each_map_elem, bpf_find_vma), and exits.
 *
 * A callback runs any number of times, zero included.  The call
 * instruction is explored both ways: on as if the helper returned at once,
 * and into the callback, whose exit goes back to the call instruction to
 * run it again.  The call is a checkpoint that may prune against states
 * still being explored: once one more run of the callback leaves a state
 * the earlier runs covered, further runs add nothing (the kernel's
 * treatment of callback-calling instructions in is_state_visited).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <linux/bpf.h>

#include "env.h"

struct call_meta {
	int map;               /* the ARG_CONST_MAP_PTR's map index, or -1 */
	int mem_regno;         /* the pointer the next size argument measures */
	bool mem_write, mem_null;
	uint64_t alloc_size;   /* ARG_CONST_ALLOC_SIZE_OR_ZERO */
	int callback;          /* the ARG_PTR_TO_FUNC's subprogram, or -1 */
	/* An array lookup's key is a constant on the stack, key; below max_entries, never null. */
	bool key_known;
	uint64_t key;
	uint32_t release_ref;  /* the reference a releasing helper gives back */
};

static const char *helper_name(const struct helper_proto *p, char *buf, size_t len)
{
	snprintf(buf, len, "bpf_%s#%u", p->name, p->id);
	return buf;
}

/*
 * Helpers that only work with one kind of map, and maps that only work
 * with their own helpers (the kernel's check_map_func_compatibility, for
 * the pairs a program gets wrong in practice).
 */
struct map_func_pair {
	uint32_t map_type;
	uint32_t func;
};

static const struct map_func_pair map_funcs[] = {
	{ BPF_MAP_TYPE_PROG_ARRAY, BPF_FUNC_tail_call },
	{ BPF_MAP_TYPE_PERF_EVENT_ARRAY, BPF_FUNC_perf_event_output },
	{ BPF_MAP_TYPE_PERF_EVENT_ARRAY, BPF_FUNC_perf_event_read },
	{ BPF_MAP_TYPE_PERF_EVENT_ARRAY, BPF_FUNC_perf_event_read_value },
	{ BPF_MAP_TYPE_PERF_EVENT_ARRAY, BPF_FUNC_skb_output },
	{ BPF_MAP_TYPE_PERF_EVENT_ARRAY, BPF_FUNC_xdp_output },
	{ BPF_MAP_TYPE_RINGBUF, BPF_FUNC_ringbuf_output },
	{ BPF_MAP_TYPE_RINGBUF, BPF_FUNC_ringbuf_reserve },
	{ BPF_MAP_TYPE_RINGBUF, BPF_FUNC_ringbuf_query },
	{ BPF_MAP_TYPE_RINGBUF, BPF_FUNC_ringbuf_reserve_dynptr },
	{ BPF_MAP_TYPE_STACK_TRACE, BPF_FUNC_get_stackid },
};

static bool map_type_restricted(uint32_t map_type)
{
	for (size_t i = 0; i < sizeof(map_funcs) / sizeof(map_funcs[0]); i++)
		if (map_funcs[i].map_type == map_type)
			return true;
	return false;
}

static int check_map_func(struct verifier *v, const struct helper_proto *p, int map)
{
	uint32_t map_type = map_of(v, (uint32_t)map)->type;
	bool func_restricted = false, paired = false;
	char name[64];

	for (size_t i = 0; i < sizeof(map_funcs) / sizeof(map_funcs[0]); i++) {
		if (map_funcs[i].func != p->id)
			continue;
		func_restricted = true;
		paired |= map_funcs[i].map_type == map_type;
	}
	if (func_restricted ? paired : !map_type_restricted(map_type))
		return 0;
	return verr(v, "cannot pass map_type %u into func %s", map_type,
		    helper_name(p, name, sizeof(name)));
}

static int type_error(struct verifier *v, int regno, const char *expected)
{
	return verr(v, "R%d type=%s expected=%s", regno, reg_type_name(&cur_regs(v)[regno]),
		    expected);
}

static bool is_null_const(const struct reg *r)
{
	return reg_is_const(r, 0);
}

static bool is_mem_pointer(const struct reg *r)
{
	return r->type == REG_STACK || reg_is_pkt(r) || r->type == REG_MAP_VALUE ||
	       r->type == REG_MEM;
}

static int check_size_arg(struct verifier *v, int regno, bool zero_ok, struct call_meta *meta,
			  const struct helper_proto *p)
{
	const struct reg *r = &cur_regs(v)[regno];

	if (r->type != REG_SCALAR)
		return type_error(v, regno, "scalar");
	if (r->var.r64.smin < 0)
		return verr(v, "R%d min value is negative, either use unsigned or 'var &= const'",
			    regno);
	if (r->var.r64.umin == 0 && !zero_ok)
		return verr(v, "R%d invalid zero-sized read: u64=[%" PRIu64 ",%" PRIu64 "]", regno,
			    r->var.r64.umin, r->var.r64.umax);
	if (r->var.r64.umax >= MAX_VAR_OFF)
		return verr(v, "R%d unbounded memory access, use 'var &= const' or 'if (var < const)'",
			    regno);
	if (meta->mem_regno < 0)
		return verr(v, "R%d size argument follows no memory argument", regno);
	if (meta->mem_null)
		return 0;
	return check_helper_mem_access(v, meta->mem_regno, r->var.r64.umax, meta->mem_write,
				       zero_ok, p->flags & HELPER_PKT_ACCESS);
}

static int check_const_str(struct verifier *v, int regno)
{
	const struct reg *r = &cur_regs(v)[regno];
	const struct sluice_map_def *m;
	uint64_t off;

	if (r->type != REG_MAP_VALUE || (r->flags & REG_MAYBE_NULL))
		return type_error(v, regno, "map_value");
	m = map_of(v, r->map);
	if (!(m->map_flags & BPF_F_RDONLY_PROG) || !m->init_data)
		return verr(v, "R%d does not point to a readonly map'", regno);
	if (!scalar_is_const(r->var))
		return verr(v, "R%d is not a constant address'", regno);
	off = (uint64_t)r->off + r->var.t.value;
	if (off >= m->init_size ||
	    !memchr((const char *)m->init_data + off, 0, m->init_size - off))
		return verr(v, "string is not zero-terminated");
	return 0;
}

/*
 * A key the stack holds as a known number: zero bytes, or a spilled
 * constant of exactly the key's size (the kernel's get_constant_map_key).
 * Whether it is one decides the lookup's result: the slot's number matters.
 */
static bool const_map_key(struct verifier *v, const struct reg *key, uint32_t key_size,
			  uint64_t *value)
{
	const struct frame *f = stack_frame_of(v, key);
	const struct stack_slot *slot;
	int64_t off;
	unsigned first, zeros = 0, spills = 0;

	if (!v->bpf_capable || key->type != REG_STACK || !scalar_is_const(key->var))
		return false;
	off = key->off + (int64_t)key->var.t.value;
	if (off >= 0 || off < -SLUICE_STACK_SIZE || (uint32_t)((-off - 1) / SLOT_SIZE) >= f->nslots)
		return false;
	need_escaped(v, f->subprog, stack_slots_of(off, off + 1));
	slot = &f->stack[(-off - 1) / SLOT_SIZE];
	first = (unsigned)(off + SLOT_SIZE * ((-off - 1) / SLOT_SIZE + 1));
	for (unsigned b = first; b < SLOT_SIZE && slot->kind[b] == STACK_ZERO; b++)
		zeros++;
	if (zeros >= key_size) {
		*value = 0;
		return true;
	}
	if (slot->kind[0] != STACK_SPILL || slot->spilled.type != REG_SCALAR ||
	    !scalar_is_const(slot->spilled.var))
		return false;
	/* The spilled bytes from the key's first up must be exactly the key. */
	for (unsigned b = first; b < SLOT_SIZE && slot->kind[b] == STACK_SPILL; b++)
		spills++;
	if (spills != key_size)
		return false;
	/*
	 * The whole spilled number, wherever the key sits in it, as the
	 * kernel's get_constant_map_key takes it: it can only overstate the
	 * key (a number below any max_entries has nothing in its high bytes),
	 * so the two verifiers agree on which lookups cannot fail.
	 */
	*value = slot->spilled.var.t.value;
	return true;
}

static int check_arg(struct verifier *v, const struct helper_proto *p, unsigned i,
		     struct call_meta *meta)
{
	int regno = (int)i + 1;
	struct reg *r = &cur_regs(v)[regno];
	enum helper_arg kind = p->args[i];
	bool pkt = p->flags & HELPER_PKT_ACCESS;

	if (r->type == REG_NOT_INIT)
		return verr(v, "R%d !read_ok", regno);
	/* Sizes, flags the checks read, a null in place of a pointer: their numbers matter. */
	if (r->type == REG_SCALAR && kind != ARG_ANYTHING)
		need_seed(v, v->pc, (unsigned)regno);
	switch (kind) {
	case ARG_NONE:
		return 0;
	case ARG_ANYTHING:
		if (reg_is_pointer(r) && !v->allow_ptr_leaks)
			return verr(v, "R%d leaks addr into helper function", regno);
		return 0;
	case ARG_CONST_MAP_PTR:
		if (r->type != REG_MAP_PTR || r->flags)
			return type_error(v, regno, "map_ptr");
		meta->map = (int)r->map;
		return check_map_func(v, p, meta->map);
	case ARG_PTR_TO_MAP_KEY:
	case ARG_PTR_TO_MAP_VALUE:
	case ARG_PTR_TO_UNINIT_MAP_VALUE:
		if (meta->map < 0)
			return verr(v, "invalid map_ptr to access map->%s",
				    kind == ARG_PTR_TO_MAP_KEY ? "key" : "value");
		if (!is_mem_pointer(r) || r->flags & REG_MAYBE_NULL)
			return type_error(v, regno, "fp, pkt, pkt_meta, map_key, map_value");
		if (kind == ARG_PTR_TO_MAP_KEY && p->id == BPF_FUNC_map_lookup_elem &&
		    (map_of(v, (uint32_t)meta->map)->type == BPF_MAP_TYPE_ARRAY ||
		     map_of(v, (uint32_t)meta->map)->type == BPF_MAP_TYPE_PERCPU_ARRAY))
			meta->key_known = const_map_key(v, r, map_of(v, (uint32_t)meta->map)->key_size,
							&meta->key);
		return check_helper_mem_access(v, regno,
					       kind == ARG_PTR_TO_MAP_KEY
						       ? map_of(v, (uint32_t)meta->map)->key_size
						       : map_of(v, (uint32_t)meta->map)->value_size,
					       kind == ARG_PTR_TO_UNINIT_MAP_VALUE, false, pkt);
	case ARG_PTR_TO_MEM_OR_NULL:
	case ARG_PTR_TO_MEM:
	case ARG_PTR_TO_UNINIT_MEM:
		meta->mem_regno = regno;
		meta->mem_write = kind == ARG_PTR_TO_UNINIT_MEM;
		meta->mem_null = kind == ARG_PTR_TO_MEM_OR_NULL && is_null_const(r);
		if (meta->mem_null)
			return 0;
		if (!is_mem_pointer(r) || r->flags & REG_MAYBE_NULL)
			return type_error(v, regno,
					  "fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_");
		return 0;
	case ARG_CONST_SIZE:
	case ARG_CONST_SIZE_OR_ZERO:
		return check_size_arg(v, regno, kind == ARG_CONST_SIZE_OR_ZERO, meta, p);
	case ARG_CONST_ALLOC_SIZE_OR_ZERO:
		if (r->type != REG_SCALAR || !scalar_is_const(r->var))
			return verr(v, "R%d is not a known constant'", regno);
		meta->alloc_size = r->var.t.value;
		return 0;
	case ARG_PTR_TO_CTX_OR_NULL:
		if (is_null_const(r))
			return 0;
		/* fall through */
	case ARG_PTR_TO_CTX:
		if (r->type != REG_CTX)
			return type_error(v, regno, "ctx");
		if (r->off || !scalar_is_const(r->var) || r->var.t.value)
			return verr(v, "dereference of modified ctx ptr R%d off=%d disallowed", regno,
				    r->off);
		return 0;
	case ARG_PTR_TO_STACK_OR_NULL:
		if (is_null_const(r) || r->type == REG_STACK)
			return 0;
		return type_error(v, regno, "fp");
	case ARG_PTR_TO_LONG:
	case ARG_PTR_TO_INT:
		if (r->type != REG_STACK && r->type != REG_MAP_VALUE)
			return type_error(v, regno, "fp, map_value");
		return check_helper_mem_access(v, regno, kind == ARG_PTR_TO_LONG ? 8 : 4, true,
					       false, false);
	case ARG_PTR_TO_CONST_STR:
		return check_const_str(v, regno);
	case ARG_PTR_TO_FUNC:
		if (r->type != REG_FUNC)
			return type_error(v, regno, "func");
		meta->callback = (int)r->map;
		return 0;
	case ARG_PTR_TO_SPIN_LOCK:
		if (r->type != REG_MAP_VALUE || r->flags & REG_MAYBE_NULL)
			return type_error(v, regno, "map_value");
		return 0;
	case ARG_PTR_TO_RINGBUF_MEM:
		if (r->type != REG_MEM || !(r->flags & REG_RINGBUF) || r->flags & REG_MAYBE_NULL)
			return type_error(v, regno, "ringbuf_mem");
		if (r->off || !scalar_is_const(r->var) || r->var.t.value)
			return verr(v, "R%d must have zero offset when passed to release func", regno);
		meta->release_ref = r->ref_obj_id;
		return 0;
	case ARG_PTR_TO_SOCKET_OR_NULL:
		if (is_null_const(r))
			return 0;
		/* fall through */
	case ARG_PTR_TO_SOCKET:
		if (r->type != REG_SOCKET || r->flags & REG_MAYBE_NULL)
			return type_error(v, regno, "sock");
		meta->release_ref = r->ref_obj_id;
		return 0;
	case ARG_PTR_TO_SOCK_COMMON:
		if ((r->type != REG_SOCK_COMMON && r->type != REG_SOCKET && r->type != REG_TCP_SOCK) ||
		    r->flags & REG_MAYBE_NULL)
			return type_error(v, regno, "sock_common, sock, tcp_sock");
		return 0;
	case ARG_PTR_TO_BTF_ID_OR_NULL:
		if (is_null_const(r))
			return 0;
		/* fall through */
	case ARG_PTR_TO_BTF_ID:
		if ((r->type != REG_BTF_ID && r->type != REG_SOCKET && r->type != REG_SOCK_COMMON &&
		     r->type != REG_TCP_SOCK) || r->flags & REG_MAYBE_NULL)
			return type_error(v, regno, "ptr_");
		return 0;
	case ARG_PTR_TO_TIMER:
	case ARG_PTR_TO_DYNPTR:
	case ARG_KPTR_XCHG_DEST:
		break;
	}
	return verr(v, "R%d: helper argument kind %d is not supported by this verifier", regno,
		    (int)kind);
}

/* Registers (and spills) still referring to a released reference become numbers. */
static int release_reference(struct verifier *v, uint32_t ref)
{
	if (!ref || !vstate_release_ref(v->cur, ref))
		return verr(v, "reference has not been acquired before");
	VSTATE_FOR_EACH_REG(v->cur, r, {
		if (r->ref_obj_id == ref) {
			if (v->allow_ptr_leaks)
				reg_mark_unknown(r);
			else
				reg_mark_not_init(r);
		}
	})
	return 0;
}

void invalidate_pkt_pointers(struct verifier *v)
{
	VSTATE_FOR_EACH_REG(v->cur, r, {
		if (reg_is_pkt(r) || r->type == REG_PKT_END) {
			if (v->allow_ptr_leaks)
				reg_mark_unknown(r);
			else
				reg_mark_not_init(r);
		}
	})
}

static int set_return(struct verifier *v, const struct helper_proto *p,
		      const struct call_meta *meta)
{
	struct reg *r0 = &cur_regs(v)[0];
	const struct sluice_map_def *m;

	switch (p->ret) {
	case RET_INTEGER:
		reg_mark_unknown(r0);
		return 0;
	case RET_VOID:
		reg_mark_not_init(r0);
		return 0;
	case RET_PTR_TO_MAP_VALUE_OR_NULL:
		if (meta->map < 0)
			return verr(v, "kernel subsystem misconfigured verifier");
		m = map_of(v, (uint32_t)meta->map);
		if ((m->type == BPF_MAP_TYPE_ARRAY_OF_MAPS || m->type == BPF_MAP_TYPE_HASH_OF_MAPS) &&
		    m->inner_map >= 0) {
			reg_mark_pointer(r0, REG_MAP_PTR);
			r0->map = (uint32_t)m->inner_map;
		} else {
			reg_mark_pointer(r0, REG_MAP_VALUE);
			r0->map = (uint32_t)meta->map;
			if (meta->key_known && meta->key < m->max_entries)
				return 0;
		}
		break;
	case RET_PTR_TO_MEM_OR_NULL:
		reg_mark_pointer(r0, REG_MEM);
		r0->mem_size = (uint32_t)meta->alloc_size;
		if (p->flags & HELPER_ACQUIRES)
			r0->flags = REG_RINGBUF;
		break;
	case RET_PTR_TO_SOCKET_OR_NULL:
		reg_mark_pointer(r0, REG_SOCKET);
		break;
	case RET_PTR_TO_TCP_SOCK_OR_NULL:
		reg_mark_pointer(r0, REG_TCP_SOCK);
		break;
	case RET_PTR_TO_SOCK_COMMON_OR_NULL:
		reg_mark_pointer(r0, REG_SOCK_COMMON);
		break;
	case RET_PTR_TO_BTF_ID:
		reg_mark_pointer(r0, REG_BTF_ID);
		return 0;
	case RET_PTR_TO_BTF_ID_OR_NULL:
	case RET_PTR_TO_MEM_OR_BTF_ID:
		reg_mark_pointer(r0, REG_BTF_ID);
		break;
	}
	r0->flags |= REG_MAYBE_NULL;
	r0->id = new_id(v);
	if (p->flags & HELPER_ACQUIRES) {
		r0->ref_obj_id = r0->id;
		return vstate_acquire_ref(v->cur, r0->id);
	}
	return 0;
}

/* What the helper passes its callback, from the caller's registers at the call. */
static int setup_callback_frame(struct verifier *v, uint32_t helper, const struct frame *caller,
				struct frame *callee)
{
	const struct reg *r;

	switch (helper) {
	case BPF_FUNC_loop: /* callback(u32 index, void *ctx) */
		reg_mark_unknown(&callee->regs[1]);
		callee->regs[2] = caller->regs[3];
		return 0;
	case BPF_FUNC_for_each_map_elem: /* callback(map, key, value, ctx) */
		r = &caller->regs[1];
		callee->regs[1] = *r;
		reg_mark_pointer(&callee->regs[2], REG_MEM);
		callee->regs[2].flags = REG_RDONLY;
		callee->regs[2].mem_size = map_of(v, r->map)->key_size;
		reg_mark_pointer(&callee->regs[3], REG_MAP_VALUE);
		callee->regs[3].map = r->map;
		callee->regs[4] = caller->regs[3];
		return 0;
	case BPF_FUNC_find_vma: /* callback(task, vma, ctx) */
		callee->regs[1] = caller->regs[1];
		reg_mark_pointer(&callee->regs[2], REG_BTF_ID);
		callee->regs[3] = caller->regs[4];
		return 0;
	default:
		return verr(v, "callbacks of helper #%u are not supported by this verifier", helper);
	}
}

static int enter_frame(struct verifier *v, struct vstate *st, uint32_t callsite,
		       uint32_t target, uint32_t callback_helper)
{
	struct frame *f;

	if (st->curframe + 1 >= SLUICE_MAX_CALL_FRAMES)
		return verr(v, "the call stack of %u frames is too deep !", st->curframe + 2);
	f = frame_new(callsite, v->aux[target].subprog);
	if (!f)
		return -ENOMEM;
	f->callback_helper = callback_helper;
	reg_mark_pointer(&f->regs[SLUICE_MAX_REG], REG_STACK);
	f->regs[SLUICE_MAX_REG].frameno = (uint8_t)(st->curframe + 1);
	st->frames[++st->curframe] = f;
	return 0;
}

static int push_callback(struct verifier *v, uint32_t helper, int subprog)
{
	uint32_t target = v->subprogs[subprog].start;
	struct vstate *st;
	int ret;

	ret = push_branch(v, target, &st);
	if (ret)
		return ret;
	st->callback_runs++;
	ret = enter_frame(v, st, v->pc, target, helper);
	if (ret)
		return ret;
	return setup_callback_frame(v, helper, st->frames[st->curframe - 1],
				    st->frames[st->curframe]);
}

int check_helper_call(struct verifier *v, const struct sluice_insn *insn)
{
	const struct helper_proto *p = helper_proto((uint32_t)insn->imm);
	struct call_meta meta = { .map = -1, .mem_regno = -1, .callback = -1 };
	char name[64];
	int ret;

	if (!p)
		return verr(v, "invalid func unknown#%d", insn->imm);
	if (!helper_allowed(p, v->opts->prog_type))
		return verr(v, "program of this type cannot use helper %s",
			    helper_name(p, name, sizeof(name)));
	if ((p->flags & HELPER_GPL_ONLY) && !v->opts->gpl)
		return verr(v, "cannot call GPL-restricted function from non-GPL compatible program");
	for (unsigned i = 0; i < 5 && p->args[i] != ARG_NONE; i++) {
		ret = check_arg(v, p, i, &meta);
		if (ret)
			return ret;
	}
	if (p->flags & HELPER_RELEASES) {
		ret = release_reference(v, meta.release_ref);
		if (ret)
			return ret;
	}
	if (p->flags & HELPER_CALLBACK) {
		if (meta.callback < 0)
			return verr(v, "%s calls back no function", helper_name(p, name, sizeof(name)));
		ret = push_callback(v, p->id, meta.callback);
		if (ret)
			return ret;
	}
	for (int r = 1; r <= 5; r++)
		reg_mark_not_init(&cur_regs(v)[r]);
	ret = set_return(v, p, &meta);
	if (ret)
		return ret;
	if (p->flags & HELPER_CHANGES_PKT_DATA)
		invalidate_pkt_pointers(v);
	v->pc++;
	return 0;
}

int check_local_call(struct verifier *v, uint32_t target)
{
	struct frame *caller = cur_frame(v), *callee;
	int ret = enter_frame(v, v->cur, v->pc, target, 0);

	if (ret)
		return ret;
	callee = cur_frame(v);
	for (int r = 1; r <= 5; r++) {
		callee->regs[r] = caller->regs[r];
		reg_mark_not_init(&caller->regs[r]);
	}
	reg_mark_not_init(&caller->regs[0]);
	v->pc = target;
	return 0;
}

/* The values a program of each type may return (the kernel's check_return_code). */
static bool return_range(uint32_t prog_type, int64_t *lo, int64_t *hi)
{
	switch (prog_type) {
	case BPF_PROG_TYPE_CGROUP_SKB:
	case BPF_PROG_TYPE_CGROUP_SOCK:
	case BPF_PROG_TYPE_CGROUP_SOCK_ADDR:
	case BPF_PROG_TYPE_SOCK_OPS:
	case BPF_PROG_TYPE_CGROUP_DEVICE:
	case BPF_PROG_TYPE_CGROUP_SYSCTL:
	case BPF_PROG_TYPE_CGROUP_SOCKOPT:
	case BPF_PROG_TYPE_SK_LOOKUP:
		*lo = 0;
		*hi = 1;
		return true;
	default:
		return false;
	}
}

static int check_return_value(struct verifier *v, const struct reg *r0, const char *where,
			      int64_t lo, int64_t hi)
{
	if (r0->type != REG_SCALAR)
		return verr(v, "At %s the register R0 is not a known value (%s)", where,
			    reg_type_name(r0));
	if (r0->var.r64.smin >= lo && r0->var.r64.smax <= hi)
		return 0;
	if (scalar_is_const(r0->var))
		return verr(v, "At %s the register R0 has value %" PRId64 " should have been in [%" PRId64 ", %" PRId64 "]",
			    where, (int64_t)r0->var.t.value, lo, hi);
	return verr(v, "At %s the register R0 has smin=%" PRId64 " smax=%" PRId64 " should have been in [%" PRId64 ", %" PRId64 "]",
		    where, r0->var.r64.smin, r0->var.r64.smax, lo, hi);
}

int check_exit(struct verifier *v)
{
	struct vstate *st = v->cur;
	struct frame *callee = cur_frame(v), *caller;
	const struct reg *r0 = &callee->regs[0];
	bool callee_was_callback;
	int64_t lo, hi;
	int ret;

	if (r0->type == REG_NOT_INIT)
		return verr(v, "R0 !read_ok");
	/* A checked return value, or one a caller goes on with. */
	if (st->curframe || return_range(v->opts->prog_type, &lo, &hi))
		need_seed(v, v->pc, 0);
	if (st->curframe == 0) {
		if (st->nrefs)
			return verr(v, "Unreleased reference id=%u", st->refs[0]);
		if (reg_is_pointer(r0) && !v->allow_ptr_leaks)
			return verr(v, "R0 leaks addr as return value");
		/* the path ends here: 1, once the value is one the type may return */
		if (return_range(v->opts->prog_type, &lo, &hi)) {
			ret = check_return_value(v, r0, "program exit", lo, hi);
			if (ret)
				return ret;
		}
		return 1;
	}
	if (r0->type == REG_STACK && r0->frameno == st->curframe)
		return verr(v, "cannot return stack pointer to the caller");
	caller = st->frames[st->curframe - 1];
	callee_was_callback = callee->callback_helper != 0;
	if (callee_was_callback) {
		ret = check_return_value(v, r0, "callback return", 0, 1);
		if (ret)
			return ret;
		/* Back to the call, to run the callback once more (or return). */
		v->pc = callee->callsite;
	} else {
		caller->regs[0] = *r0;
		v->pc = callee->callsite + 1;
	}
	frame_free(callee);
	st->frames[st->curframe--] = NULL;
	if (callee_was_callback)
		widen_callback_loop(v, v->pc);
	return 0;
}
