/* SPDX-License-Identifier: MIT */
/*
 * Memory: what a pointer may become by arithmetic (the kernel's
 * adjust_ptr_min_max_vals and check_reg_sane_offset) and where a load or
 * store through it may go (check_mem_access and its per-kind helpers:
 * stack, context, packet, map value, helper memory, sockets).
 *
 * Offsets: a pointer's address is base + off + var, off a fixed s32 and
 * var a scalar; an access adds the instruction's own offset to off.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <linux/bpf.h>
#include <linux/bpf_perf_event.h>

#include "env.h"

struct frame *stack_frame_of(struct verifier *v, const struct reg *r)
{
	return v->cur->frames[r->frameno];
}

uint64_t stack_slots_of(int64_t lo, int64_t hi)
{
	uint64_t bits = 0;

	for (int64_t a = lo; a < hi; a++)
		bits |= UINT64_C(1) << ((-a - 1) / SLOT_SIZE);
	return bits;
}

void stack_mark_read(struct verifier *v, uint32_t fr, uint64_t slots)
{
	slots &= ~v->cur->frames[fr]->written;
	for (struct vstate *p = v->cur->parent; p && slots && fr <= p->curframe; p = p->parent) {
		p->frames[fr]->read |= slots;
		slots &= ~p->frames[fr]->written;
	}
}

int stack_touch(struct verifier *v, struct frame *f, uint32_t depth)
{
	struct subprog *s = &v->subprogs[f->subprog];

	if (depth > s->stack_depth)
		s->stack_depth = depth;
	return frame_grow(f, depth);
}

/* ---- Pointer arithmetic ---------------------------------------------- */

static bool scalar_known(const struct reg *r)
{
	return scalar_is_const(r->var);
}

/* r is added to (or is) a pointer of ptr's type; the message names that type. */
static int check_sane_offset(struct verifier *v, const struct reg *r, const struct reg *ptr)
{
	bool known = scalar_known(r);
	int64_t val = (int64_t)r->var.t.value, smin = r->var.r64.smin;

	if (known && (val >= MAX_VAR_OFF || val <= -MAX_VAR_OFF))
		return verr(v, "math between %s pointer and %" PRId64 " is not allowed",
			    reg_type_name(ptr), val);
	/* For a scalar, off is the constant it lies from its linked copies (as the kernel checks). */
	if (r->off >= MAX_VAR_OFF || r->off <= -MAX_VAR_OFF)
		return verr(v, "%s pointer offset %d is not allowed", reg_type_name(ptr), r->off);
	if (smin == INT64_MIN)
		return verr(v, "math between %s pointer and register with unbounded min value is not allowed",
			    reg_type_name(ptr));
	if (smin >= MAX_VAR_OFF || smin <= -MAX_VAR_OFF)
		return verr(v, "value %" PRId64 " makes %s pointer be out of bounds", smin,
			    reg_type_name(ptr));
	return 0;
}

static int check_region(struct verifier *v, int regno, const struct reg *r, int32_t off,
			unsigned size, uint64_t mem_size, const char *what);

/*
 * Without Spectre v1 masking of stack accesses, an unprivileged stack
 * pointer must stay at one known place inside the frame (the kernel's
 * check_stack_access_for_ptr_arithmetic): a variable offset would also
 * let a load read a spilled pointer's bytes as a number.
 */
static int check_unprivileged_stack_pointer(struct verifier *v, const struct reg *r, int regno)
{
	int64_t off = r->off + (int64_t)r->var.t.value;
	char tn[64];

	if (!scalar_known(r)) {
		tnum_format(r->var.t, tn, sizeof(tn));
		return verr(v, "R%d variable stack access prohibited for !root, var_off=%s off=%" PRId64,
			    regno, tn, off);
	}
	if (off >= 0 || off < -SLUICE_STACK_SIZE)
		return verr(v, "R%d stack pointer arithmetic goes out of range, prohibited for !root; off=%" PRId64,
			    regno, off);
	return 0;
}

/*
 * The result of unprivileged pointer arithmetic must point into its memory
 * (the kernel's sanitize_check_bounds): the masking of later accesses
 * assumes it does.  A map value pointer may move by a variable offset as
 * long as every byte it can reach is in the value.
 */
static int check_unprivileged_pointer(struct verifier *v, const struct reg *r, int regno)
{
	switch (r->type) {
	case REG_STACK:
		return check_unprivileged_stack_pointer(v, r, regno);
	case REG_MAP_VALUE:
		if (check_region(v, regno, r, r->off, 1, map_of(v, r->map)->value_size, "map value"))
			return verr(v, "R%d pointer arithmetic of map value goes out of range, prohibited for !root",
				    regno);
		return 0;
	default:
		return 0;
	}
}

/* The kernel's alu_state bits for the masking of one instruction. */
enum {
	ALU_SANITIZE_SRC = 1u << 0, /* the pointer is dst; the offset is src */
	ALU_SANITIZE_DST = 1u << 1, /* the pointer is src */
	ALU_NEG_VALUE = 1u << 2,
	ALU_IMMEDIATE = 1u << 3,
};

#define SPEC_ERR "pointer arithmetic with it prohibited for !root"

/*
 * How far ptr lies from the end of its memory that the offset moves it
 * toward (the kernel's retrieve_ptr_limit): what the offset is masked to.
 * Only stack and map value pointers can be masked.  ptr_regno and
 * dst_regno name the registers in the refusal.
 */
static int ptr_limit(struct verifier *v, const struct reg *ptr, bool to_left, bool is_add,
		     int ptr_regno, int dst_regno, uint32_t *limit)
{
	uint32_t max;

	switch (ptr->type) {
	case REG_STACK:
		/* fp itself is out of the frame, yet a fine start to move down from. */
		max = SLUICE_STACK_SIZE + to_left;
		*limit = (uint32_t)-((int64_t)ptr->var.t.value + ptr->off);
		break;
	case REG_MAP_VALUE:
		max = map_of(v, ptr->map)->value_size;
		*limit = (uint32_t)((to_left ? (uint64_t)ptr->var.r64.smin : ptr->var.r64.umax) +
				    (uint64_t)(int64_t)ptr->off);
		break;
	default:
		return verr(v, "R%d has pointer with unsupported alu operation, " SPEC_ERR, ptr_regno);
	}
	if (*limit >= max)
		return verr(v, "R%d tried to %s beyond pointer bounds, " SPEC_ERR, dst_regno,
			    is_add ? "add" : "sub");
	return 0;
}

/*
 * The mask the kernel gives this instruction's offset, from how far the
 * pointer's limit moved (the commit window of sanitize_ptr_alu): one
 * instruction has one mask, so paths that need different ones are refused.
 */
static int commit_alu_mask(struct verifier *v, const struct reg *result, const struct reg *off,
			   bool ptr_is_dst, bool to_left, bool is_add, uint32_t before,
			   int dst_regno)
{
	struct insn_aux *aux = &v->aux[v->pc];
	uint32_t after = 0, distance;
	uint8_t state;
	int ret = ptr_limit(v, result, to_left, is_add, dst_regno, dst_regno, &after);

	if (ret)
		return ret;
	/* The kernel's abs() of the u32 difference, which it takes as an int. */
	distance = (int32_t)(before - after) < 0 ? after - before : before - after;
	state = (off->var.r64.smin < 0 ? ALU_NEG_VALUE : 0) |
		(scalar_known(off) ? ALU_IMMEDIATE : 0) |
		(ptr_is_dst ? ALU_SANITIZE_SRC : ALU_SANITIZE_DST);
	if (aux->alu_state && (aux->alu_state != state || aux->alu_limit != distance))
		return verr(v, "R%d tried to %s from different maps, paths or scalars, " SPEC_ERR,
			    dst_regno, is_add ? "add" : "sub");
	aux->alu_state = state;
	aux->alu_limit = distance;
	return 0;
}

int check_pointer_alu(struct verifier *v, enum insn_op op, enum scalar_op sop, struct reg *dst,
		      const struct reg *src, int dst_regno)
{
	const char *opname = insn_table[op].llvm;
	bool is_add = sop == SCALAR_ADD, is_sub = sop == SCALAR_SUB;
	const struct reg *ptr, *off;
	struct reg result;
	bool sanitize, to_left = false;
	uint32_t limit = 0;
	int ret;

	if (reg_is_pointer(dst) && reg_is_pointer(src)) {
		if (is_sub && v->allow_ptr_leaks) {
			reg_mark_unknown(dst);
			return 0;
		}
		return verr(v, "R%d pointer %s pointer prohibited", dst_regno, opname);
	}
	ptr = reg_is_pointer(dst) ? dst : src;
	off = ptr == dst ? src : dst;
	/* A kernel pointer or a number (see state.h): anything but an offset makes it a number. */
	if (ptr->type == REG_BTF_ID && v->allow_ptr_leaks &&
	    (!insn_is_wide(op) || !(is_add || (is_sub && ptr == dst)))) {
		reg_mark_unknown(dst);
		return 0;
	}
	if (!insn_is_wide(op)) {
		if (is_sub && v->allow_ptr_leaks) {
			reg_mark_unknown(dst);
			return 0;
		}
		return verr(v, "R%d 32-bit pointer arithmetic prohibited", dst_regno);
	}
	if (ptr->flags & REG_MAYBE_NULL)
		return verr(v, "R%d pointer arithmetic on %s prohibited, null-check it first",
			    dst_regno, reg_type_name(ptr));
	switch (ptr->type) {
	case REG_CTX: case REG_MAP_VALUE: case REG_STACK: case REG_PKT: case REG_PKT_META:
	case REG_MEM: case REG_BTF_ID: case REG_FUNC:
		break;
	case REG_FLOW_KEYS:
		if (scalar_known(off))
			break;
		return verr(v, "R%d pointer arithmetic on %s prohibited", dst_regno,
			    reg_type_name(ptr));
	case REG_MAP_PTR:
		if (scalar_known(off) && off->var.t.value == 0 && is_add)
			break;
		return verr(v, "R%d pointer arithmetic on %s prohibited", dst_regno,
			    reg_type_name(ptr));
	default:
		return verr(v, "R%d pointer arithmetic on %s prohibited", dst_regno,
			    reg_type_name(ptr));
	}
	ret = check_sane_offset(v, off, ptr);
	if (!ret)
		ret = check_sane_offset(v, ptr, ptr);
	if (ret)
		return ret;
	/*
	 * The kernel masks an offset taken from a register so that even a
	 * mispredicted path stays in the memory (sanitize_ptr_alu); constants
	 * it checks as they are.  A mask bounds one direction: an offset of
	 * either sign cannot have one.
	 */
	sanitize = !v->bypass_spec_v1 && (is_add || is_sub) &&
		   insn_table[op].shape == SHAPE_ALU_REG;
	if (sanitize) {
		int src_regno = v->insns[v->pc].src;

		if (!scalar_known(off) && (off->var.r64.smin < 0) != (off->var.r64.smax < 0))
			return verr(v, "R%d has unknown scalar with mixed signed bounds, " SPEC_ERR,
				    off == dst ? dst_regno : src_regno);
		to_left = (off->var.r64.smin < 0) == is_add;
		if (!scalar_known(off))
			v->explore_alu_limits = true;
		ret = ptr_limit(v, ptr, to_left, is_add, ptr == dst ? dst_regno : src_regno,
				dst_regno, &limit);
		if (ret)
			return ret;
	}

	result = *ptr;
	if (is_add || is_sub) {
		int64_t k = (int64_t)off->var.t.value;

		if (is_sub && ptr == src)
			return verr(v, "R%d tried to subtract pointer from scalar", dst_regno);
		/* As the kernel: some JITs cannot handle a frame pointer moved down by sub. */
		if (is_sub && ptr->type == REG_STACK)
			return verr(v, "R%d subtraction from stack pointer prohibited", dst_regno);
		if (is_sub)
			k = -k;
		if (scalar_known(off) && (k != INT64_MIN) &&
		    (int64_t)ptr->off + k == (int32_t)((int64_t)ptr->off + k)) {
			result.off = (int32_t)(ptr->off + k);
		} else {
			result.var = scalar_alu(is_add ? SCALAR_ADD : SCALAR_SUB, ptr->var, off->var, 64);
			if (reg_is_pkt(ptr)) {
				/* A new variable part: comparisons must establish its own range. */
				result.id = new_id(v);
				result.range = 0;
			}
		}
	} else if (sop == SCALAR_AND || sop == SCALAR_OR || sop == SCALAR_XOR) {
		return verr(v, "R%d bitwise operator %s on pointer prohibited", dst_regno, opname);
	} else {
		return verr(v, "R%d pointer arithmetic with %s operator prohibited", dst_regno,
			    opname);
	}
	ret = check_sane_offset(v, &result, ptr);
	if (!ret && !v->bypass_spec_v1)
		ret = check_unprivileged_pointer(v, &result, dst_regno);
	if (!ret && sanitize)
		ret = commit_alu_mask(v, &result, off, ptr == dst, to_left, is_add, limit, dst_regno);
	if (ret)
		return ret;
	*dst = result;
	return 0;
}

/* ---- Loads and stores ------------------------------------------------ */

/* The value a load of size bytes gives, from what the memory held (s). */
static void load_scalar(struct reg *dst, struct scalar s, unsigned size, bool sign_extend)
{
	reg_mark_unknown(dst);
	if (size == 8)
		dst->var = s;
	else if (sign_extend)
		dst->var = scalar_movsx(s, size * 8, 64);
	else
		dst->var = scalar_trunc(s, size * 8);
}

/*
 * A region [lo, hi + size) of a memory of mem_size bytes, lo and hi the
 * smallest and largest offsets the pointer may hold (the kernel's
 * check_mem_region_access); *what names the memory in the error.
 */
static int check_region(struct verifier *v, int regno, const struct reg *r, int32_t off,
			unsigned size, uint64_t mem_size, const char *what)
{
	int64_t smin = r->var.r64.smin;
	uint64_t umax = r->var.r64.umax;

	if (smin < 0 && (smin == INT64_MIN || smin + off < 0 ||
			 smin + off != (int32_t)(smin + off)))
		return verr(v, "R%d min value is negative, either use unsigned index or do a if (index >=0) check.",
			    regno);
	if (smin + off < 0 || (uint64_t)(smin + off) + size > mem_size) {
		verr(v, "invalid access to %s, %s=%" PRIu64 " off=%" PRId64 " size=%u", what,
		     !strcmp(what, "map value") ? "value_size" : "mem_size", mem_size, smin + off,
		     size);
		return verr(v, "R%d min value is outside of the allowed memory range", regno);
	}
	if (umax >= MAX_VAR_OFF)
		return verr(v, "R%d unbounded memory access, make sure to bounds check any such access",
			    regno);
	if ((int64_t)umax + off < 0 || umax + (uint64_t)(int64_t)off + size > mem_size) {
		verr(v, "invalid access to %s, %s=%" PRIu64 " off=%" PRId64 " size=%u", what,
		     !strcmp(what, "map value") ? "value_size" : "mem_size", mem_size,
		     (int64_t)umax + off, size);
		return verr(v, "R%d max value is outside of the allowed memory range", regno);
	}
	return 0;
}

static int check_packet_region(struct verifier *v, int regno, const struct reg *r,
			       int32_t off, unsigned size)
{
	if (r->var.r64.smin < 0)
		return verr(v, "R%d min value is negative, either use unsigned index or do a if (index >=0) check.",
			    regno);
	if (off < 0 || (uint64_t)off + size > r->range) {
		verr(v, "invalid access to packet, off=%d size=%u, R%d(id=%u,off=%d,r=%u)", off, size,
		     regno, r->id, r->off, r->range);
		return verr(v, "R%d offset is outside of the packet", regno);
	}
	return 0;
}

/* Program types that may write packet data directly (may_access_direct_pkt_data). */
static bool may_write_packet(uint32_t prog_type)
{
	switch (prog_type) {
	case BPF_PROG_TYPE_XDP:
	case BPF_PROG_TYPE_SCHED_CLS:
	case BPF_PROG_TYPE_SCHED_ACT:
	case BPF_PROG_TYPE_LWT_XMIT:
	case BPF_PROG_TYPE_SK_SKB:
	case BPF_PROG_TYPE_SK_MSG:
		return true;
	default:
		return false;
	}
}

static uint64_t read_le(const uint8_t *p, unsigned size)
{
	uint64_t x = 0;

	for (unsigned i = size; i-- > 0;)
		x = x << 8 | p[i];
	return x;
}

static int map_value_access(struct verifier *v, int regno, const struct reg *r, int32_t off,
			    unsigned size, bool write, int value_regno, bool sign_extend)
{
	const struct sluice_map_def *m = map_of(v, r->map);
	int ret;

	if (write && (m->map_flags & BPF_F_RDONLY_PROG))
		return verr(v, "write into map forbidden, value_size=%u off=%d size=%u",
			    m->value_size, off, size);
	ret = check_region(v, regno, r, off, size, m->value_size, "map value");
	if (ret || write || value_regno < 0)
		return ret;
	/* A frozen read-only map's bytes are known: config globals and kconfig become constants. */
	if ((m->map_flags & BPF_F_RDONLY_PROG) && m->init_data && scalar_known(r) &&
	    (uint64_t)off + r->var.t.value + size <= m->init_size) {
		uint64_t x = read_le((const uint8_t *)m->init_data + off + r->var.t.value, size);

		load_scalar(&cur_regs(v)[value_regno], scalar_const(x), size, sign_extend);
		return 0;
	}
	load_scalar(&cur_regs(v)[value_regno], scalar_unknown(), size, sign_extend);
	return 0;
}

/*
 * Program types whose context is a plain block of numbers that context.h
 * does not describe field by field: the kernel's *_is_valid_access for
 * them only bounds and aligns reads, and every load gives a number.
 * [lo, hi) is where reads may go.
 */
static bool opaque_ctx_bounds(uint32_t prog_type, int32_t *lo, int32_t *hi)
{
	switch (prog_type) {
	case BPF_PROG_TYPE_KPROBE: /* struct pt_regs */
		*lo = 0;
		*hi = 21 * 8;
		return true;
	case BPF_PROG_TYPE_TRACEPOINT: /* the trace record after its common header pointer */
		*lo = 8;
		*hi = 2048;
		return true;
	case BPF_PROG_TYPE_PERF_EVENT:
		*lo = 0;
		*hi = sizeof(struct bpf_perf_event_data);
		return true;
	case BPF_PROG_TYPE_TRACING: /* u64 args[], at most MAX_BPF_FUNC_ARGS and a return value */
	case BPF_PROG_TYPE_LSM:
		*lo = 0;
		*hi = 13 * 8;
		return true;
	default:
		return false;
	}
}

static int opaque_ctx_access(struct verifier *v, int32_t off, unsigned size, bool write,
			     int value_regno, bool sign_extend)
{
	int32_t lo, hi;

	if (!opaque_ctx_bounds(v->opts->prog_type, &lo, &hi))
		return verr(v, "invalid bpf_context access off=%d size=%u (the context of program type %u is not modelled)",
			    off, size, v->opts->prog_type);
	if (write || off < lo || off + (int32_t)size > hi || off % (int32_t)size)
		return verr(v, "invalid bpf_context access off=%d size=%u", off, size);
	if (value_regno < 0)
		return 0;
	if (size == 8 && (v->opts->prog_type == BPF_PROG_TYPE_TRACING ||
			  v->opts->prog_type == BPF_PROG_TYPE_LSM))
		reg_mark_pointer(&cur_regs(v)[value_regno], REG_BTF_ID);
	else
		load_scalar(&cur_regs(v)[value_regno], scalar_unknown(), size, sign_extend);
	return 0;
}

static int ctx_access(struct verifier *v, int regno, const struct reg *r, int32_t off,
		      unsigned size, bool write, int value_regno, bool sign_extend)
{
	const struct ctx_field *field = NULL;
	struct sluice_error why = { 0 };
	char tn[64];
	struct reg *dst;

	if (r->off)
		return verr(v, "dereference of modified ctx ptr R%d off=%d disallowed", regno, r->off);
	if (!scalar_known(r) || r->var.t.value) {
		tnum_format(r->var.t, tn, sizeof(tn));
		return verr(v, "variable ctx access var_off=%s disallowed", tn);
	}
	if (!v->ctx)
		return opaque_ctx_access(v, off, size, write, value_regno, sign_extend);
	if (off < 0 || ctx_check_access(v->ctx, (uint32_t)off, size, write, &field, &why) < 0)
		return verr(v, "invalid bpf_context access off=%d size=%u%s%s", off, size,
			    why.msg[0] ? ": " : "", why.msg);
	if (write || value_regno < 0)
		return 0;
	dst = &cur_regs(v)[value_regno];
	switch (field ? field->kind : CTX_SCALAR) {
	case CTX_PKT:
		reg_mark_pointer(dst, REG_PKT);
		break;
	case CTX_PKT_END:
		reg_mark_pointer(dst, REG_PKT_END);
		break;
	case CTX_PKT_META:
		reg_mark_pointer(dst, REG_PKT_META);
		break;
	case CTX_SOCK_COMMON:
		reg_mark_pointer(dst, REG_SOCK_COMMON);
		dst->flags = REG_MAYBE_NULL;
		dst->id = new_id(v);
		break;
	case CTX_FLOW_KEYS:
		reg_mark_pointer(dst, REG_FLOW_KEYS);
		break;
	default:
		load_scalar(dst, scalar_unknown(), size, sign_extend);
		break;
	}
	return 0;
}

/* ---- The stack ------------------------------------------------------- */

static int stack_bounds(struct verifier *v, int regno, int64_t lo, int64_t hi, unsigned size,
			const char *how)
{
	if (lo < -SLUICE_STACK_SIZE || hi + size > 0 || size == 0)
		return verr(v, "invalid%s stack R%d off=%" PRId64 " size=%u", how, regno, lo, size);
	return 0;
}

static uint8_t *stack_kind(struct frame *f, int64_t off)
{
	uint32_t slot = (uint32_t)((-off - 1) / SLOT_SIZE);

	return &f->stack[slot].kind[off + (int64_t)SLOT_SIZE * (slot + 1)];
}

static struct stack_slot *stack_slot(struct frame *f, int64_t off)
{
	return &f->stack[(-off - 1) / SLOT_SIZE];
}

/*
 * May a load or a helper read this byte (the kernel's
 * check_stack_range_initialized)?  Uninitialised bytes only when the
 * loader may read them, a spilled pointer's bytes only when it may leak it.
 */
static bool stack_byte_readable(const struct verifier *v, struct frame *f, int64_t off)
{
	switch (*stack_kind(f, off)) {
	case STACK_MISC:
	case STACK_ZERO:
		return true;
	case STACK_INVALID:
		return v->allow_uninit_stack;
	default:
		return stack_slot(f, off)->spilled.type == REG_SCALAR || v->allow_ptr_leaks;
	}
}

/* A write destroys whatever register a slot held: its spill bytes become numbers. */
static void scrub_slot(struct stack_slot *s)
{
	for (unsigned b = 0; b < SLOT_SIZE; b++)
		if (s->kind[b] == STACK_SPILL)
			s->kind[b] = STACK_MISC;
}

static int stack_write_fixed(struct verifier *v, struct frame *f, int64_t off, unsigned size,
			     int value_regno, const int32_t *imm)
{
	struct stack_slot *slot = stack_slot(f, off);
	struct reg *value = value_regno >= 0 ? &cur_regs(v)[value_regno] : NULL;
	bool aligned = off % SLOT_SIZE == 0;
	struct reg spilled;
	uint8_t kind;

	if (value && value->type == REG_NOT_INIT)
		return verr(v, "R%d !read_ok", value_regno);
	/* Part of a pointer left behind would read back as a number: a leak. */
	if (!v->allow_ptr_leaks && slot->kind[0] == STACK_SPILL &&
	    slot->spilled.type != REG_SCALAR && size != SLOT_SIZE)
		return verr(v, "attempt to corrupt spilled pointer on stack");
	if (aligned && v->bpf_capable &&
	    ((value && value->type == REG_SCALAR) || (!value && imm))) {
		if (value) {
			/* A narrowing spill keeps part of the number: no longer the same one. */
			bool whole = size == 8 ||
				     scalar_within(value->var, scalar_trunc(scalar_unknown(), size * 8));

			if (whole)
				tie_scalar_copy(v, value);
			spilled = *value;
			if (!whole)
				spilled.id = 0;
		} else {
			reg_mark_const(&spilled, (uint64_t)(int64_t)*imm);
		}
		slot->spilled = spilled;
		for (unsigned b = 0; b < SLOT_SIZE; b++) {
			if (b < size)
				slot->kind[b] = STACK_SPILL;
			else if (slot->kind[b] == STACK_SPILL ||
				 (slot->kind[b] == STACK_INVALID && !v->allow_uninit_stack))
				slot->kind[b] = STACK_MISC;
		}
		return 0;
	}
	if (value && reg_is_pointer(value) && !(value->type == REG_BTF_ID && size != 8)) {
		if (size != 8)
			return verr(v, "invalid size of register spill");
		if (!aligned)
			return verr(v, "misaligned stack access off %" PRId64 " size %u", off, size);
		if (f != cur_frame(v) && value->type == REG_STACK)
			return verr(v, "cannot spill pointers to stack into stack frame of the caller");
		slot->spilled = *value;
		memset(slot->kind, STACK_SPILL, SLOT_SIZE);
		return 0;
	}
	scrub_slot(slot);
	kind = (value && reg_is_const(value, 0)) || (!value && imm && *imm == 0) ? STACK_ZERO
										: STACK_MISC;
	for (unsigned i = 0; i < size; i++)
		*stack_kind(f, off + i) = kind;
	return 0;
}

static int stack_read_fixed(struct verifier *v, struct frame *f, int64_t off, unsigned size,
			    int value_regno, bool sign_extend)
{
	struct stack_slot *slot = stack_slot(f, off);
	struct reg *dst = value_regno >= 0 ? &cur_regs(v)[value_regno] : NULL;
	unsigned zeros = 0, spills = 0;

	if (slot->kind[0] == STACK_SPILL) {
		unsigned spill_size = 0;

		while (spill_size < SLOT_SIZE && slot->kind[spill_size] == STACK_SPILL)
			spill_size++;
		if (size == SLOT_SIZE && spill_size == SLOT_SIZE && off % SLOT_SIZE == 0) {
			if (dst)
				*dst = slot->spilled;
			return 0;
		}
		if (slot->spilled.type != REG_SCALAR)
			return verr(v, "invalid size of register fill");
		if (off % SLOT_SIZE == 0 && size <= spill_size) {
			if (dst) {
				load_scalar(dst, slot->spilled.var, size, sign_extend);
				if (scalar_equal(dst->var, slot->spilled.var)) {
					dst->id = slot->spilled.id;
					dst->off = slot->spilled.off;
				}
			}
			return 0;
		}
	}
	for (unsigned i = 0; i < size; i++) {
		uint8_t kind = *stack_kind(f, off + i);

		if (kind == STACK_SPILL) {
			spills++;
		} else if (kind == STACK_ZERO) {
			zeros++;
		} else if (kind != STACK_MISC &&
			   !(kind == STACK_INVALID && v->allow_uninit_stack)) {
			return verr(v, "invalid read from stack off %" PRId64 "+%u size %u", off, i,
				    size);
		}
	}
	if (!dst)
		return 0;
	if (zeros == size || (spills == size && reg_is_const(&slot->spilled, 0)))
		reg_mark_const(dst, 0);
	else
		load_scalar(dst, scalar_unknown(), size, sign_extend);
	return 0;
}

/* An access at a variable offset touches any byte of [lo, hi + size). */
static int stack_access_var(struct verifier *v, struct frame *f, int regno, const struct reg *r,
			    int64_t lo, int64_t hi, unsigned size, bool write, int value_regno,
			    bool writes_zero, bool sign_extend)
{
	unsigned zeros = 0;
	char tn[64];

	for (int64_t a = lo; a < hi + size; a++) {
		uint8_t *kind = stack_kind(f, a);

		if (write) {
			if (*kind == STACK_SPILL && !v->allow_ptr_leaks &&
			    stack_slot(f, a)->spilled.type != REG_SCALAR)
				return verr(v, "spilled ptr in range of var-offset stack write; insn %u, ptr off: %" PRId64,
					    v->pc, a);
			scrub_slot(stack_slot(f, a));
			if (!(writes_zero && *kind == STACK_ZERO))
				*kind = STACK_MISC;
			continue;
		}
		if (*kind == STACK_ZERO) {
			zeros++;
		} else if (!stack_byte_readable(v, f, a)) {
			tnum_format(r->var.t, tn, sizeof(tn));
			return verr(v, "invalid read from stack R%d var_off %s+%" PRId64 " size %u",
				    regno, tn, a - lo, size);
		}
	}
	if (!write && value_regno >= 0) {
		if (zeros == (uint64_t)(hi - lo) + size)
			reg_mark_const(&cur_regs(v)[value_regno], 0);
		else
			load_scalar(&cur_regs(v)[value_regno], scalar_unknown(), size, sign_extend);
	}
	return 0;
}

static int stack_access(struct verifier *v, int regno, const struct reg *r, int32_t off,
			unsigned size, bool write, int value_regno, const int32_t *imm,
			bool sign_extend)
{
	struct frame *f = stack_frame_of(v, r);
	int64_t lo = r->var.r64.smin + off, hi = r->var.r64.smax + off;
	char tn[64];
	int ret;

	if (!scalar_known(r)) {
		/* check_unprivileged_stack_pointer made every other stack pointer exact. */
		assert(v->bypass_spec_v1);
		if (r->var.r64.smin <= -MAX_VAR_OFF || r->var.r64.smax >= MAX_VAR_OFF)
			return verr(v, "invalid unbounded variable-offset%s stack R%d",
				    write ? " write to" : " read from", regno);
		if (lo < -SLUICE_STACK_SIZE || hi + size > 0) {
			tnum_format(r->var.t, tn, sizeof(tn));
			return verr(v, "invalid variable-offset%s stack R%d var_off=%s off=%d size=%u",
				    write ? " write to" : " read from", regno, tn, off, size);
		}
		/*
		 * An atomic's read goes to no register (value_regno < 0): the
		 * kernel wants such reads at a fixed offset, where the slot's
		 * kind is checked whole (check_stack_read).
		 */
		if (!write && value_regno < 0) {
			tnum_format(r->var.t, tn, sizeof(tn));
			return verr(v, "variable offset stack pointer cannot be passed into helper function; var_off=%s off=%d size=%u",
				    tn, off, size);
		}
	} else {
		lo = hi = (int64_t)r->var.t.value + off;
		ret = stack_bounds(v, regno, lo, hi, size, write ? " write to" : " read from");
		if (ret)
			return ret;
	}
	ret = stack_touch(v, f, (uint32_t)-lo);
	if (ret)
		return ret;
	if (!write) {
		uint64_t slots = stack_slots_of(lo, hi + size);

		stack_mark_read(v, r->frameno, slots);
		/* precision.c follows loads through r10, and nothing else. */
		if (regno != SLUICE_MAX_REG || insn_table[v->aux[v->pc].op].shape != SHAPE_LOAD)
			need_escaped(v, f->subprog, slots);
	} else if (lo == hi && size == SLOT_SIZE) {
		f->written |= stack_slots_of(lo, lo + SLOT_SIZE);
	}
	if (lo != hi) {
		bool writes_zero = write && ((value_regno >= 0 && reg_is_const(&cur_regs(v)[value_regno], 0)) ||
					     (value_regno < 0 && imm && *imm == 0));

		return stack_access_var(v, f, regno, r, lo, hi, size, write, value_regno,
					writes_zero, sign_extend);
	}
	if (write)
		return stack_write_fixed(v, f, lo, size, value_regno, imm);
	return stack_read_fixed(v, f, lo, size, value_regno, sign_extend);
}

/* ---- Dispatch -------------------------------------------------------- */

static int sock_access(struct verifier *v, int regno, const struct reg *r, int32_t off,
		       unsigned size, bool write, int value_regno, uint32_t struct_size)
{
	if (write)
		return verr(v, "R%d cannot write into %s", regno, reg_type_name(r));
	if (!scalar_known(r) || r->var.t.value)
		return verr(v, "R%d invalid variable offset when accessing %s", regno,
			    reg_type_name(r));
	if (off < 0 || (uint64_t)off + size > struct_size || off % size)
		return verr(v, "R%d invalid %s access off=%d size=%u", regno, reg_type_name(r), off,
			    size);
	if (value_regno >= 0)
		reg_mark_unknown(&cur_regs(v)[value_regno]);
	return 0;
}

static const char *alignment_desc(const struct reg *r)
{
	switch (r->type) {
	case REG_STACK: return "stack ";
	case REG_MAP_VALUE: return "value ";
	case REG_PKT: case REG_PKT_META: return "packet ";
	case REG_CTX: return "context ";
	default: return "";
	}
}

int check_alignment(struct verifier *v, int regno, int32_t off, unsigned size, bool strict)
{
	const struct reg *r = &cur_regs(v)[regno];
	struct tnum addr;
	char tn[64];

	if (!strict && r->type != REG_STACK)
		return 0;
	addr = tnum_add(r->var.t, tnum_const((uint64_t)(int64_t)(r->off + off)));
	if (tnum_is_aligned(addr, size))
		return 0;
	tnum_format(r->var.t, tn, sizeof(tn));
	return verr(v, "misaligned %saccess off %s+%d+%d size %u", alignment_desc(r), tn, r->off,
		    off, size);
}

int check_mem_access(struct verifier *v, int regno, int16_t insn_off, unsigned size,
		     bool write, int value_regno, const int32_t *imm, bool sign_extend)
{
	const struct reg *r = &cur_regs(v)[regno];
	const struct reg *value = value_regno >= 0 && write ? &cur_regs(v)[value_regno] : NULL;
	int32_t off = r->off + insn_off;
	int ret;

	if (r->type == REG_NOT_INIT)
		return verr(v, "R%d !read_ok", regno);
	if (value && value->type == REG_NOT_INIT)
		return verr(v, "R%d !read_ok", value_regno);
	if (value && reg_is_pointer(value) && !v->allow_ptr_leaks && r->type != REG_STACK)
		return verr(v, "R%d leaks addr into mem", value_regno);
	if (r->flags & REG_MAYBE_NULL)
		return verr(v, "R%d invalid mem access '%s'", regno, reg_type_name(r));
	ret = check_alignment(v, regno, insn_off, size, false);
	if (ret)
		return ret;
	switch (r->type) {
	case REG_STACK:
		return stack_access(v, regno, r, off, size, write, value_regno, imm, sign_extend);
	case REG_MAP_VALUE:
		return map_value_access(v, regno, r, off, size, write, value_regno, sign_extend);
	case REG_CTX:
		return ctx_access(v, regno, r, insn_off, size, write, value_regno, sign_extend);
	case REG_PKT:
	case REG_PKT_META:
		if (write && !may_write_packet(v->opts->prog_type))
			return verr(v, "cannot write into packet");
		ret = check_packet_region(v, regno, r, off, size);
		if (!ret && !write && value_regno >= 0)
			load_scalar(&cur_regs(v)[value_regno], scalar_unknown(), size, sign_extend);
		return ret;
	case REG_MEM:
		if (write && (r->flags & REG_RDONLY))
			return verr(v, "R%d cannot write into %s", regno, reg_type_name(r));
		ret = check_region(v, regno, r, off, size, r->mem_size, "memory");
		if (!ret && !write && value_regno >= 0)
			load_scalar(&cur_regs(v)[value_regno], scalar_unknown(), size, sign_extend);
		return ret;
	case REG_FLOW_KEYS:
		if (off < 0 || (uint64_t)off + size > sizeof(struct bpf_flow_keys))
			return verr(v, "invalid access to flow keys off=%d size=%u", off, size);
		if (!write && value_regno >= 0)
			load_scalar(&cur_regs(v)[value_regno], scalar_unknown(), size, sign_extend);
		return 0;
	case REG_SOCK_COMMON:
	case REG_SOCKET:
		return sock_access(v, regno, r, off, size, write, value_regno,
				   sizeof(struct bpf_sock));
	case REG_TCP_SOCK:
		return sock_access(v, regno, r, off, size, write, value_regno,
				   sizeof(struct bpf_tcp_sock));
	case REG_BTF_ID:
		if (write)
			return verr(v, "R%d cannot write into %s", regno, reg_type_name(r));
		if (value_regno >= 0 && size == 8)
			reg_mark_pointer(&cur_regs(v)[value_regno], REG_BTF_ID);
		else if (value_regno >= 0)
			load_scalar(&cur_regs(v)[value_regno], scalar_unknown(), size, sign_extend);
		return 0;
	default:
		return verr(v, "R%d invalid mem access '%s'", regno, reg_type_name(r));
	}
}

/* ---- What helpers read and write ------------------------------------ */

static int helper_stack_access(struct verifier *v, int regno, const struct reg *r,
			       uint64_t size, bool write)
{
	struct frame *f = stack_frame_of(v, r);
	int64_t lo = r->var.r64.smin + r->off, hi = r->var.r64.smax + r->off;
	int ret;

	if (r->var.r64.smin == INT64_MIN || r->var.r64.smax == INT64_MAX ||
	    lo < -SLUICE_STACK_SIZE || hi + (int64_t)size > 0)
		return verr(v, "invalid indirect access to stack R%d off=%" PRId64 " size=%" PRIu64,
			    regno, lo, size);
	assert(scalar_known(r) || v->bypass_spec_v1);
	ret = stack_touch(v, f, (uint32_t)-lo);
	if (ret)
		return ret;
	/* Only the kinds of what a helper reads matter (a map key's number: calls.c). */
	if (!write)
		stack_mark_read(v, r->frameno, stack_slots_of(lo, hi + (int64_t)size));
	for (int64_t a = lo; a < hi + (int64_t)size; a++) {
		uint8_t *kind = stack_kind(f, a);
		struct stack_slot *slot = stack_slot(f, a);

		if (write) {
			/* The helper fills the bytes with something: numbers. */
			if (*kind == STACK_SPILL) {
				reg_mark_unknown(&slot->spilled);
				scrub_slot(slot);
			}
			*kind = STACK_MISC;
			continue;
		}
		if (stack_byte_readable(v, f, a))
			continue;
		return verr(v, "invalid indirect read from stack R%d off %" PRId64 "+%" PRId64 " size %" PRIu64,
			    regno, lo, a - lo, size);
	}
	return 0;
}

int check_helper_mem_access(struct verifier *v, int regno, uint64_t size, bool write,
			    bool zero_size_allowed, bool pkt_access)
{
	const struct reg *r = &cur_regs(v)[regno];

	if (size == 0 && zero_size_allowed)
		return 0;
	switch (r->type) {
	case REG_STACK:
		return helper_stack_access(v, regno, r, size, write);
	case REG_PKT:
	case REG_PKT_META:
		if (!pkt_access)
			return verr(v, "helper access to the packet is not allowed");
		if (write && !may_write_packet(v->opts->prog_type))
			return verr(v, "cannot write into packet");
		return check_packet_region(v, regno, r, r->off, (unsigned)size);
	case REG_MAP_VALUE:
		if (write && (map_of(v, r->map)->map_flags & BPF_F_RDONLY_PROG))
			return verr(v, "write into map forbidden, value_size=%u off=%d size=%" PRIu64,
				    map_of(v, r->map)->value_size, r->off, size);
		return check_region(v, regno, r, r->off, (unsigned)size,
				    map_of(v, r->map)->value_size, "map value");
	case REG_MEM:
		if (write && (r->flags & REG_RDONLY))
			return verr(v, "R%d cannot write into %s", regno, reg_type_name(r));
		return check_region(v, regno, r, r->off, (unsigned)size, r->mem_size, "memory");
	default:
		return verr(v, "R%d type=%s expected=fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem",
			    regno, reg_type_name(r));
	}
}
