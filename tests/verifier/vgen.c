/* SPDX-License-Identifier: MIT */
/*
 * vgen: programs that verifiers must judge (see vgen.h).  Register use is
 * fixed so that snippets compose: r6 = ctx, r7 = data, r8 = data_end for
 * the whole program, r9 the index a snippet computes before a helper call
 * would clobber r1-r5, r0-r5 scratch.  A snippet's failure exits jump to
 * its end (the "pending" jumps), so the code after it runs on both paths.
 */
#include <elf.h>
#include <linux/bpf.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "insn.h"
#include "progen.h"
#include "vgen.h"
#include "../splitmix.h"

#define CTX 6
#define DATA 7
#define DATA_END 8
#define INDEX 9
#define FP 10
#define SCRATCH 0x3eu       /* r1-r5, which a helper call clobbers */
#define ARRAY_VALUE 48
#define HASH_VALUE 16
#define STACK_WINDOW 64     /* variable stack accesses stay in r10-64 .. r10-1 */
#define SUB_MAX 512         /* slots of subprograms one program may have */
#define MAX_SNIPPETS 6
#define MAX_PENDING 16
#define MAX_CALLS 8
/* Room a snippet may take, so that the next one is only started when it fits. */
#define ARRAY_LEN(a) (unsigned)(sizeof(a) / sizeof((a)[0]))
#define SNIPPET_ROOM (PROGEN_MAX_ALU_BLOCK + 96)

static const struct sluice_map_def array_map = {
	.name = "vgen_array", .type = BPF_MAP_TYPE_ARRAY, .key_size = 4,
	.value_size = ARRAY_VALUE, .max_entries = 8, .inner_map = -1,
};
static const struct sluice_map_def hash_map = {
	.name = "vgen_hash", .type = BPF_MAP_TYPE_HASH, .key_size = 8,
	.value_size = HASH_VALUE, .max_entries = 64, .inner_map = -1,
};
static const struct sluice_map_def ringbuf_map = {
	.name = "vgen_ringbuf", .type = BPF_MAP_TYPE_RINGBUF, .max_entries = 4096, .inner_map = -1,
};
static const struct sluice_map_def progs_map = {
	.name = "vgen_progs", .type = BPF_MAP_TYPE_PROG_ARRAY, .key_size = 4, .value_size = 4,
	.max_entries = 4, .inner_map = -1,
};
const struct sluice_map_def *const vgen_maps[VGEN_NMAPS] = {
	&array_map, &hash_map, &ringbuf_map, &progs_map,
};

const char *const vgen_feature_names[VGEN__COUNT] = {
#define X(name) [VGEN_##name] = #name,
	VGEN_FEATURES(X)
#undef X
};

struct gen {
	struct vgen_prog *p;
	struct sluice_insn *out;  /* p->insns, or sub while a subprogram is written */
	size_t n, main_n;
	uint64_t rng;
	unsigned mistake_odds;    /* one detail in this many goes wrong */
	bool packet;              /* r7 and r8 hold data and data_end */
	size_t pending[MAX_PENDING];
	unsigned npending;
	struct {
		size_t pc, target;    /* the call in main, its callee's start in sub */
	} calls[MAX_CALLS];
	unsigned ncalls;
	struct sluice_insn sub[SUB_MAX];
	size_t sub_n;
};

static uint64_t next(struct gen *g)
{
	return splitmix_next(&g->rng);
}

static unsigned below(struct gen *g, unsigned n)
{
	return splitmix_below(&g->rng, n);
}

static bool one_in(struct gen *g, unsigned n)
{
	return below(g, n) == 0;
}

/* The one place a snippet decides to get something wrong. */
static bool mistake(struct gen *g)
{
	return one_in(g, g->mistake_odds);
}

static unsigned pick_size(struct gen *g)
{
	return 1u << below(g, 4);
}

static size_t emit(struct gen *g, enum insn_op op, int dst, int src, int32_t off, int32_t imm)
{
	g->out[g->n] = insn_make(op, dst, src, off, imm);
	return g->n++;
}

static void emit_map(struct gen *g, int dst, unsigned map)
{
	emit(g, OP_LDDW_MAP_FD, dst, 0, 0, (int32_t)map);
	g->out[g->n++] = (struct sluice_insn){ 0 };
}

static void emit_call(struct gen *g, int32_t helper)
{
	emit(g, OP_CALL, 0, 0, 0, helper);
}

/* The load, store and atomic rows for an access of size bytes. */
static enum insn_op load_op(unsigned size)
{
	return size == 1 ? OP_LDXB : size == 2 ? OP_LDXH : size == 4 ? OP_LDXW : OP_LDXDW;
}

static enum insn_op store_reg_op(unsigned size)
{
	return size == 1 ? OP_STXB : size == 2 ? OP_STXH : size == 4 ? OP_STXW : OP_STXDW;
}

static enum insn_op store_imm_op(unsigned size)
{
	return size == 1 ? OP_STB : size == 2 ? OP_STH : size == 4 ? OP_STW : OP_STDW;
}

/* A load into r0, or a store of a constant or of r0-r5's first, through base + off. */
static void access(struct gen *g, int base, int32_t off, unsigned size)
{
	switch (below(g, 3)) {
	case 0:
		emit(g, load_op(size), 0, base, off, 0);
		break;
	case 1:
		emit(g, store_imm_op(size), base, 0, off, (int32_t)next(g));
		break;
	default:
		emit(g, OP_MOV64_IMM, 1, 0, 0, (int32_t)below(g, 1000));
		emit(g, store_reg_op(size), base, 1, off, 0);
	}
}

/* A jump to the end of the snippet; off is filled in by land_pending. */
static void jump_out(struct gen *g, enum insn_op op, int dst, int src, int32_t imm)
{
	size_t pc = emit(g, op, dst, src, 0, imm);

	if (g->npending < MAX_PENDING)
		g->pending[g->npending++] = pc;
	else
		g->out[pc].off = 0; /* falls through: harmless, the branch just refines nothing */
}

static void land(struct gen *g, size_t pc)
{
	g->out[pc].off = (int16_t)(g->n - (pc + 1));
}

static void land_pending(struct gen *g)
{
	for (unsigned i = 0; i < g->npending; i++)
		land(g, g->pending[i]);
	g->npending = 0;
}

/* ---- scalars ---- */

/* A u32 context field that holds a number, by program type (sometimes a wrong one). */
static int32_t ctx_scalar_field(struct gen *g)
{
	static const int32_t skb[] = { 0, 4, 8, 16, 32, 36, 40, 48, 52, 68 };
	static const int32_t xdp[] = { 12, 16 };

	if (mistake(g))
		return (int32_t)(4 * below(g, 48));
	if (g->p->prog_type == BPF_PROG_TYPE_XDP)
		return xdp[below(g, 2)];
	return skb[below(g, ARRAY_LEN(skb))];
}

/*
 * dst gets a value no verifier knows: a context field (32 bits, zero
 * extended), or a helper's result (64 bits as far as the verifier knows).
 * A helper clobbers r1-r5, so callers make their unknowns first.
 */
static void unknown_scalar(struct gen *g, int dst)
{
	switch (below(g, 3)) {
	case 0:
		emit(g, OP_LDXW, dst, CTX, ctx_scalar_field(g), 0);
		return;
	case 1:
		emit_call(g, BPF_FUNC_get_prandom_u32);
		break;
	default:
		emit_call(g, BPF_FUNC_ktime_get_ns);
	}
	if (dst != 0)
		emit(g, OP_MOV64_REG, dst, 0, 0, 0);
}

/* The largest 2^k - 1 at most limit - 1. */
static int32_t mask_below(uint32_t limit)
{
	uint32_t mask = 0;

	while (mask * 2 + 1 <= limit - 1)
		mask = mask * 2 + 1;
	return (int32_t)mask;
}

/*
 * Make r an index in [0, limit) the way programs do, on the exit side of
 * the snippet's pending jumps.  Getting it wrong: one too many, a bound on
 * the low 32 bits only, an upper bound on a signed value without a lower.
 */
static void bound_index(struct gen *g, int r, uint32_t limit)
{
	uint32_t top = limit - 1 + (mistake(g) ? 1 + below(g, 2) : 0);

	switch (below(g, 8)) {
	case 0:
		emit(g, OP_AND64_IMM, r, 0, 0, mistake(g) ? mask_below(limit) * 2 + 1 : mask_below(limit));
		break;
	case 1:
		emit(g, OP_AND32_IMM, r, 0, 0, mask_below(limit));
		break;
	case 2:
		jump_out(g, OP_JGT64_IMM, r, 0, (int32_t)top);
		break;
	case 3:
		jump_out(g, OP_JGE64_IMM, r, 0, (int32_t)top + 1);
		break;
	case 4: /* the low half only: enough when the upper half is known zero */
		jump_out(g, one_in(g, 2) ? OP_JGT32_IMM : OP_JGE32_IMM, r, 0, (int32_t)top + 1);
		break;
	case 5:
		if (!mistake(g))
			jump_out(g, OP_JSLT64_IMM, r, 0, 0);
		jump_out(g, one_in(g, 2) ? OP_JSGT64_IMM : OP_JSGT32_IMM, r, 0, (int32_t)top);
		break;
	case 6: /* against a register holding the bound */
		emit(g, OP_MOV64_IMM, 5, 0, 0, (int32_t)top);
		jump_out(g, one_in(g, 2) ? OP_JGT64_REG : OP_JGT32_REG, r, 5, 0);
		break;
	default:
		emit(g, OP_MOD64_IMM, r, 0, 0, (int32_t)top + 1);
	}
}

/* ---- snippets ---- */

static void snippet_stack(struct gen *g)
{
	unsigned size = pick_size(g), load_size = mistake(g) ? pick_size(g) : size;
	int32_t off = -(int32_t)(8 * (1 + below(g, 8)));
	int32_t load_off = off;

	g->p->features |= 1u << VGEN_STACK;
	if (mistake(g))
		off += one_in(g, 2) ? (int32_t)below(g, 8) : (one_in(g, 2) ? 8 : -512);
	if (mistake(g)) {
		load_off = -(int32_t)(8 * below(g, 66));
		load_off += (int32_t)below(g, 8);
	}
	if (one_in(g, 3)) {
		/* at a variable offset in the window: bytes, as the offset's alignment is unknown */
		if (!mistake(g))
			size = 1;
		unknown_scalar(g, INDEX);
		bound_index(g, INDEX, STACK_WINDOW - size + 1);
		emit(g, OP_MOV64_REG, 2, FP, 0, 0);
		emit(g, OP_ADD64_IMM, 2, 0, 0, -STACK_WINDOW);
		emit(g, OP_ADD64_REG, 2, INDEX, 0, 0);
		access(g, 2, 0, size);
		land_pending(g);
		return;
	}
	if (one_in(g, 2))
		emit(g, store_imm_op(size), FP, 0, off, (int32_t)next(g));
	else
		emit(g, store_reg_op(size), FP, one_in(g, 4) ? CTX : INDEX, off, 0);
	emit(g, load_op(load_size), 0, FP, load_off, 0);
}

/* r0 = lookup(map, key on the stack); the snippet's end is reached when it is NULL. */
static unsigned map_lookup(struct gen *g)
{
	unsigned map = below(g, 2); /* the array or the hash */
	int32_t key = map == VGEN_MAP_ARRAY ? -4 : -8;

	if (!mistake(g))
		emit(g, map == VGEN_MAP_ARRAY ? OP_STW : OP_STDW, FP, 0, key, (int32_t)below(g, 10));
	emit_map(g, 1, map);
	emit(g, OP_MOV64_REG, 2, FP, 0, 0);
	emit(g, OP_ADD64_IMM, 2, 0, 0, key);
	emit_call(g, BPF_FUNC_map_lookup_elem);
	return map;
}

static void null_check(struct gen *g, int r)
{
	if (mistake(g))
		return;
	switch (below(g, 4)) {
	case 0: {
		size_t skip = emit(g, OP_JNE64_IMM, r, 0, 0, 0);

		emit(g, OP_MOV64_IMM, 0, 0, 0, 0);
		emit(g, OP_EXIT, 0, 0, 0, 0);
		land(g, skip);
		break;
	}
	case 1:
		jump_out(g, mistake(g) ? OP_JEQ32_IMM : OP_JEQ64_IMM, r, 0, 0);
		break;
	default:
		jump_out(g, OP_JEQ64_IMM, r, 0, 0);
	}
}

static void snippet_map(struct gen *g)
{
	unsigned size = pick_size(g), map, value_size;
	bool variable = one_in(g, 2);
	int ptr = 0;

	g->p->features |= 1u << VGEN_MAP;
	if (variable)
		unknown_scalar(g, INDEX);
	map = map_lookup(g);
	value_size = vgen_maps[map]->value_size;
	if (one_in(g, 3)) {
		/* a copy checked in its place: both share the lookup's id */
		ptr = 3;
		emit(g, OP_MOV64_REG, ptr, 0, 0, 0);
	}
	null_check(g, one_in(g, 2) ? 0 : ptr);
	if (variable) {
		bound_index(g, INDEX, value_size - size + 1);
		emit(g, OP_ADD64_REG, ptr, INDEX, 0, 0);
		access(g, ptr, mistake(g) ? (int32_t)size : 0, size);
	} else if (one_in(g, 4)) {
		/* the value to a helper: update the other key with it */
		emit(g, OP_MOV64_REG, 3, ptr, 0, 0);
		emit_map(g, 1, map);
		emit(g, OP_MOV64_REG, 2, FP, 0, 0);
		emit(g, OP_ADD64_IMM, 2, 0, 0, -16);
		if (!mistake(g))
			emit(g, OP_STDW, FP, 0, -16, 1);
		emit(g, OP_MOV64_IMM, 4, 0, 0, mistake(g) ? 7 : BPF_ANY);
		emit_call(g, BPF_FUNC_map_update_elem);
	} else {
		int32_t off = (int32_t)(below(g, (value_size - size) / size + 1) * size);

		if (mistake(g))
			off = one_in(g, 2) ? (int32_t)(value_size - size + 1 + below(g, 8)) : -(int32_t)size;
		access(g, ptr, off, size);
	}
	land_pending(g);
}

/* Socket filters read the packet with ld_abs / ld_ind, which check bounds at run time. */
static void packet_legacy(struct gen *g)
{
	static const enum insn_op abs_ops[] = { OP_LDABSB, OP_LDABSH, OP_LDABSW };
	static const enum insn_op ind_ops[] = { OP_LDINDB, OP_LDINDH, OP_LDINDW };

	unsigned size = below(g, 3);
	int32_t at;

	if (one_in(g, 2)) {
		at = (int32_t)below(g, 128);
		emit(g, abs_ops[size], 0, 0, 0, at);
		return;
	}
	unknown_scalar(g, INDEX);
	at = (int32_t)below(g, 16);
	emit(g, ind_ops[size], 0, INDEX, 0, at);
}

static void snippet_packet(struct gen *g)
{
	unsigned size = pick_size(g);
	unsigned room = size + below(g, 64);
	int32_t off = (int32_t)below(g, room - size + 1);

	g->p->features |= 1u << VGEN_PACKET;
	if (g->p->prog_type == BPF_PROG_TYPE_SOCKET_FILTER && !mistake(g)) {
		packet_legacy(g);
		return;
	}
	if (!g->packet) {
		/* socket filters may not, and after a helper moved the packet the pointers must be reloaded */
		if (g->p->prog_type == BPF_PROG_TYPE_XDP && !mistake(g)) {
			emit(g, OP_LDXW, DATA, CTX, 0, 0);
			emit(g, OP_LDXW, DATA_END, CTX, 4, 0);
			g->packet = true;
		} else if (g->p->prog_type == BPF_PROG_TYPE_SCHED_CLS && !mistake(g)) {
			emit(g, OP_LDXW, DATA, CTX, 76, 0);
			emit(g, OP_LDXW, DATA_END, CTX, 80, 0);
			g->packet = true;
		} else if (g->p->prog_type == BPF_PROG_TYPE_SOCKET_FILTER) {
			emit(g, OP_LDXW, DATA, CTX, 76, 0);
			emit(g, OP_LDXW, DATA_END, CTX, 80, 0);
		}
	}
	if (one_in(g, 3)) {
		unknown_scalar(g, INDEX);
		bound_index(g, INDEX, 256);
		emit(g, OP_MOV64_REG, 2, DATA, 0, 0);
		emit(g, OP_ADD64_REG, 2, INDEX, 0, 0);
	} else {
		emit(g, OP_MOV64_REG, 2, DATA, 0, 0);
	}
	emit(g, OP_MOV64_REG, 3, 2, 0, 0);
	emit(g, OP_ADD64_IMM, 3, 0, 0, (int32_t)room);
	if (mistake(g)) {
		switch (below(g, 3)) {
		case 0: /* no check */
			break;
		case 1: /* the wrong way round */
			jump_out(g, OP_JLT64_REG, 3, DATA_END, 0);
			break;
		default: /* against data, not data_end */
			jump_out(g, OP_JGT64_REG, 3, DATA, 0);
		}
	} else {
		switch (below(g, 3)) {
		case 0:
			jump_out(g, OP_JGT64_REG, 3, DATA_END, 0);
			break;
		case 1:
			jump_out(g, OP_JLT64_REG, DATA_END, 3, 0);
			break;
		default:
			jump_out(g, OP_JGE64_REG, 3, DATA_END, 0); /* one byte less proven */
		}
	}
	if (mistake(g))
		off += (int32_t)(1 + below(g, 4));
	access(g, 2, off, size);
	land_pending(g);
}

static void snippet_ctx(struct gen *g)
{
	static const int32_t skb_writable[] = { 8, 32, 44, 48, 52, 56, 60, 64, 72 };
	unsigned size = mistake(g) ? pick_size(g) : 4, kind = below(g, 4);

	g->p->features |= 1u << VGEN_CTX;
	if (kind == 2 && g->p->prog_type == BPF_PROG_TYPE_XDP && !mistake(g))
		kind = 0; /* XDP's context is read-only */
	switch (kind) {
	case 0:
	case 1:
		emit(g, load_op(size), 0, CTX, ctx_scalar_field(g), 0);
		break;
	case 2: {
		int32_t off = g->p->prog_type == BPF_PROG_TYPE_XDP || mistake(g) ?
				      (int32_t)(4 * below(g, 40)) :
				      skb_writable[below(g, ARRAY_LEN(skb_writable))];

		if (one_in(g, 2))
			emit(g, store_imm_op(size), CTX, 0, off, (int32_t)below(g, 16));
		else
			emit(g, store_reg_op(size), CTX, INDEX, off, 0);
		break;
	}
	default:
		/* through a copy of the context pointer, which must not move */
		emit(g, OP_MOV64_REG, 2, CTX, 0, 0);
		if (mistake(g))
			emit(g, OP_ADD64_IMM, 2, 0, 0, (int32_t)(4 * below(g, 4)));
		emit(g, OP_LDXW, 0, 2, ctx_scalar_field(g), 0);
	}
}

static void snippet_ptr_arith(struct gen *g)
{
	static const enum insn_op wrong[] = {
		OP_MUL64_IMM, OP_AND64_IMM, OP_OR64_IMM, OP_LSH64_IMM, OP_ADD32_IMM, OP_NEG64,
		OP_SUB64_IMM, OP_XOR64_IMM,
	};
	int base = one_in(g, 4) && g->packet ? DATA : FP;
	enum insn_op op;

	g->p->features |= 1u << VGEN_PTR_ARITH;
	/* cases 1 and 3 do what pointers may not */
	switch (mistake(g) ? 1 + 2 * below(g, 2) : 2 * below(g, 2)) {
	case 0: /* stack pointer moved by a constant, then back */
		emit(g, OP_MOV64_REG, 2, FP, 0, 0);
		emit(g, OP_ADD64_IMM, 2, 0, 0, -(int32_t)(8 * (1 + below(g, 64))));
		if (mistake(g)) /* the kernel forbids any subtraction from a stack pointer */
			emit(g, OP_SUB64_IMM, 2, 0, 0, -(int32_t)(8 * below(g, 4)));
		access(g, 2, -(int32_t)(8 * below(g, 2)), 8);
		break;
	case 1: /* an operation pointers do not support, or 32-bit arithmetic on one */
		op = wrong[below(g, ARRAY_LEN(wrong))];
		emit(g, OP_MOV64_REG, 2, base, 0, 0);
		emit(g, op, 2, 0, 0, (int32_t)below(g, 16));
		emit(g, OP_MOV64_IMM, 0, 0, 0, 0);
		break;
	case 2: /* pointers compared, and subtracted: the packet's length */
		base = g->packet ? DATA_END : FP;
		emit(g, OP_MOV64_REG, 2, base, 0, 0);
		emit(g, OP_MOV64_REG, 3, g->packet ? DATA : FP, 0, 0);
		if (one_in(g, 2))
			jump_out(g, OP_JGT64_REG, 3, 2, 0);
		if (g->packet || mistake(g))
			emit(g, OP_SUB64_REG, 2, 3, 0, 0);
		emit(g, OP_MOV64_REG, 0, 2, 0, 0);
		land_pending(g);
		break;
	default: /* a map pointer moved */
		emit_map(g, 1, below(g, VGEN_NMAPS));
		emit(g, OP_ADD64_IMM, 1, 0, 0, (int32_t)below(g, 8));
		emit(g, OP_MOV64_IMM, 0, 0, 0, 0);
	}
}

/* A jump out of the snippet comparing the index with one of the constants. */
static void cut(struct gen *g, enum insn_op op, const int32_t *constants, unsigned n)
{
	jump_out(g, op, INDEX, 0, constants[below(g, n)]);
}

/*
 * Compares that refine r's ranges on the fall-through, then an access that
 * needs them: one that cuts the top (of either signedness and width), one
 * that cuts the bottom, and now and then any compare at all.
 */
static void snippet_range(struct gen *g)
{
	static const enum insn_op upper[] = {
		OP_JGT64_IMM, OP_JGE64_IMM, OP_JSGT64_IMM, OP_JSGE64_IMM,
		OP_JGT32_IMM, OP_JGE32_IMM, OP_JSGT32_IMM, OP_JSGE32_IMM,
	};
	static const enum insn_op lower[] = {
		OP_JSLT64_IMM, OP_JSLE64_IMM, OP_JSLT32_IMM, OP_JSLE32_IMM, OP_JLT64_IMM,
	};
	static const enum insn_op any[] = {
		OP_JLT64_IMM, OP_JLE64_IMM, OP_JLT32_IMM, OP_JLE32_IMM, OP_JEQ64_IMM,
		OP_JNE64_IMM, OP_JSET64_IMM, OP_JEQ32_IMM, OP_JNE32_IMM, OP_JSET32_IMM,
	};
	static const int32_t tops[] = { 7, 8, 31, 32, 56, 62, 63, 64, 65, 255, INT32_MAX, -1 };
	static const int32_t bottoms[] = { 0, 1, -1, -64, INT32_MIN };
	static const int32_t edges[] = { 0, 1, -1, 8, 32, 63, 64, INT32_MAX, INT32_MIN };

	g->p->features |= 1u << VGEN_RANGE;
	unknown_scalar(g, INDEX);
	if (one_in(g, 3))
		emit(g, OP_MOV32_REG, INDEX, INDEX, 0, 0);
	if (one_in(g, 3))
		cut(g, any[below(g, ARRAY_LEN(any))], edges, ARRAY_LEN(edges));
	cut(g, upper[below(g, ARRAY_LEN(upper))], tops, ARRAY_LEN(tops));
	if (!one_in(g, 4))
		cut(g, lower[below(g, ARRAY_LEN(lower))], bottoms, ARRAY_LEN(bottoms));
	if (one_in(g, 2)) {
		/* the taken edge leads to the access */
		size_t taken = emit(g, one_in(g, 2) ? OP_JLT64_IMM : OP_JLT32_IMM, INDEX, 0, 0,
				    STACK_WINDOW);
		size_t skip = emit(g, OP_JA, 0, 0, 0, 0);

		land(g, taken);
		emit(g, OP_MOV64_REG, 2, FP, 0, 0);
		emit(g, OP_ADD64_IMM, 2, 0, 0, -STACK_WINDOW);
		emit(g, OP_ADD64_REG, 2, INDEX, 0, 0);
		access(g, 2, 0, 1);
		land(g, skip);
	} else if (one_in(g, 2)) {
		emit(g, OP_MOV64_REG, 2, FP, 0, 0);
		emit(g, OP_ADD64_IMM, 2, 0, 0, -STACK_WINDOW);
		emit(g, OP_ADD64_REG, 2, INDEX, 0, 0);
		access(g, 2, 0, 1);
	} else {
		map_lookup(g);
		jump_out(g, OP_JEQ64_IMM, 0, 0, 0);
		emit(g, OP_ADD64_REG, 0, INDEX, 0, 0);
		access(g, 0, 0, 1);
	}
	land_pending(g);
}

/* progen's ALU rows on r1-r5 around an unknown, then the result as an index. */
static void snippet_alu(struct gen *g)
{
	unsigned statements = 1 + below(g, 4);

	g->p->features |= 1u << VGEN_ALU;
	unknown_scalar(g, 1);
	g->n += progen_alu_block(next(g), SCRATCH, 1u << 1, statements, g->out + g->n);
	if (!mistake(g))
		bound_index(g, 1, STACK_WINDOW);
	emit(g, OP_MOV64_REG, 2, FP, 0, 0);
	emit(g, OP_ADD64_IMM, 2, 0, 0, -STACK_WINDOW);
	emit(g, OP_ADD64_REG, 2, 1, 0, 0);
	access(g, 2, 0, 1);
	land_pending(g);
}

static void snippet_div(struct gen *g)
{
	static const enum insn_op reg_ops[] = {
		OP_DIV64_REG, OP_MOD64_REG, OP_SDIV64_REG, OP_SMOD64_REG,
		OP_DIV32_REG, OP_MOD32_REG, OP_SDIV32_REG, OP_SMOD32_REG,
	};
	static const enum insn_op imm_ops[] = {
		OP_DIV64_IMM, OP_MOD64_IMM, OP_SDIV64_IMM, OP_SMOD64_IMM,
		OP_DIV32_IMM, OP_MOD32_IMM, OP_SDIV32_IMM, OP_SMOD32_IMM,
	};
	static const int32_t divisors[] = { 0, 1, -1, 2, 3, 7, 64, INT32_MIN };

	g->p->features |= 1u << VGEN_DIV;
	unknown_scalar(g, INDEX);
	if (one_in(g, 2)) {
		unknown_scalar(g, 2);
		if (one_in(g, 2))
			emit(g, OP_MOV64_IMM, 2, 0, 0, divisors[below(g, 8)]);
		emit(g, reg_ops[below(g, 8)], INDEX, 2, 0, 0);
	} else {
		int32_t divisor = divisors[1 + below(g, 7)];
		enum insn_op op = imm_ops[below(g, 8)];

		emit(g, op, INDEX, 0, 0, mistake(g) ? 0 : divisor);
	}
	if (one_in(g, 2)) {
		bound_index(g, INDEX, STACK_WINDOW);
		emit(g, OP_MOV64_REG, 2, FP, 0, 0);
		emit(g, OP_ADD64_IMM, 2, 0, 0, -STACK_WINDOW);
		emit(g, OP_ADD64_REG, 2, INDEX, 0, 0);
		access(g, 2, 0, 1);
	}
	emit(g, OP_MOV64_REG, 0, INDEX, 0, 0);
	land_pending(g);
}

/* A u32 shifted right far enough to index the window, or shifts past the width. */
static void snippet_shift(struct gen *g)
{
	bool wide = one_in(g, 2);
	unsigned bits = wide ? 64 : 32;

	g->p->features |= 1u << VGEN_SHIFT;
	unknown_scalar(g, INDEX);
	switch (below(g, 3)) {
	case 0: {
		int32_t by = (int32_t)(bits - 6);

		if (mistake(g))
			by = one_in(g, 2) ? by - 1 : (int32_t)(bits + below(g, 8));
		emit(g, wide ? OP_RSH64_IMM : OP_RSH32_IMM, INDEX, 0, 0, by);
		break;
	}
	case 1:
		emit(g, OP_MOV64_REG, 2, INDEX, 0, 0);
		emit(g, OP_AND64_IMM, 2, 0, 0, (int32_t)(bits - 1) | (mistake(g) ? (int32_t)bits : 0));
		emit(g, wide ? OP_LSH64_REG : OP_LSH32_REG, INDEX, 2, 0, 0);
		emit(g, wide ? OP_ARSH64_IMM : OP_ARSH32_IMM, INDEX, 0, 0, (int32_t)below(g, bits));
		bound_index(g, INDEX, STACK_WINDOW);
		break;
	default:
		emit(g, wide ? OP_LSH64_IMM : OP_LSH32_IMM, INDEX, 0, 0, (int32_t)below(g, bits));
		emit(g, wide ? OP_RSH64_IMM : OP_RSH32_IMM, INDEX, 0, 0, (int32_t)(bits - 6));
	}
	emit(g, OP_MOV64_REG, 2, FP, 0, 0);
	emit(g, OP_ADD64_IMM, 2, 0, 0, -STACK_WINDOW);
	emit(g, OP_ADD64_REG, 2, INDEX, 0, 0);
	access(g, 2, 0, 1);
	land_pending(g);
}

/* A register spilled to the stack and filled back, whole or not, then used as what it was. */
static void snippet_spill(struct gen *g)
{
	int value = one_in(g, 2) ? CTX : INDEX;
	int32_t slot = -16 - (int32_t)(8 * below(g, 4));
	int32_t spill_at = mistake(g) ? slot + (int32_t)(1 + below(g, 7)) : slot;

	g->p->features |= 1u << VGEN_SPILL;
	if (value == INDEX) {
		unknown_scalar(g, INDEX);
		emit(g, OP_AND64_IMM, INDEX, 0, 0, STACK_WINDOW - 1);
	}
	emit(g, mistake(g) ? OP_STXW : OP_STXDW, FP, value, spill_at, 0);
	if (mistake(g))
		emit(g, OP_STB, FP, 0, slot + (int32_t)below(g, 8), 0);
	emit(g, mistake(g) ? OP_LDXW : OP_LDXDW, 2, FP, slot, 0);
	if (value == CTX) {
		emit(g, OP_LDXW, 0, 2, ctx_scalar_field(g), 0);
		return;
	}
	emit(g, OP_MOV64_REG, 3, FP, 0, 0);
	emit(g, OP_ADD64_IMM, 3, 0, 0, -STACK_WINDOW);
	emit(g, OP_ADD64_REG, 3, 2, 0, 0);
	access(g, 3, 0, 1);
}

static void snippet_atomic(struct gen *g)
{
	static const enum insn_op ops[] = {
		OP_ATOMIC64_ADD, OP_ATOMIC64_FETCH_ADD, OP_ATOMIC64_XCHG, OP_ATOMIC64_CMPXCHG,
		OP_ATOMIC32_AND, OP_ATOMIC32_FETCH_OR, OP_ATOMIC32_XOR, OP_ATOMIC32_CMPXCHG,
	};
	enum insn_op op = ops[below(g, ARRAY_LEN(ops))];
	unsigned size = insn_access_size(op);
	int base = FP;
	int32_t off = -(int32_t)(8 * (1 + below(g, 4)));

	g->p->features |= 1u << VGEN_ATOMIC;
	/* the stack and map values allow atomics; the context and the packet do not */
	switch (mistake(g) ? 2 + below(g, 3) : below(g, 2)) {
	case 0:
		if (!mistake(g))
			emit(g, OP_STDW, FP, 0, off, 1);
		break;
	case 1:
		map_lookup(g);
		null_check(g, 0);
		emit(g, OP_MOV64_REG, 3, 0, 0, 0);
		base = 3;
		off = (int32_t)(size * below(g, HASH_VALUE / size));
		break;
	case 2:
		base = CTX;
		off = 48;
		break;
	case 3:
		break;
	default:
		base = g->packet ? DATA : CTX;
		off = 0;
	}
	if (mistake(g))
		off += (int32_t)(1 + below(g, size));
	emit(g, OP_MOV64_IMM, 1, 0, 0, (int32_t)below(g, 100));
	if (!mistake(g))
		emit(g, OP_MOV64_IMM, 0, 0, 0, 0); /* cmpxchg compares with r0 */
	emit(g, op, base, 1, off, 0);
	land_pending(g);
}

/*
 * Down from an unknown: it ends, but only a verifier that follows the bound
 * can tell.  Without the bound both verifiers give up at the complexity
 * limit, seconds of the kernel's time: that mistake is made rarely.
 */
static void loop_unknown(struct gen *g)
{
	size_t top;

	unknown_scalar(g, 1);
	if (!mistake(g) || !one_in(g, 8))
		emit(g, OP_AND64_IMM, 1, 0, 0, 15);
	top = emit(g, OP_SUB64_IMM, 1, 0, 0, 1);
	emit(g, OP_JSGT64_IMM, 1, 0, (int32_t)top - (int32_t)(g->n + 1), 0);
}

/* A counted loop writing the stack window at its counter. */
static void snippet_loop(struct gen *g)
{
	uint32_t bound = 1 + below(g, STACK_WINDOW);
	int32_t step = 1 + (int32_t)below(g, 3);
	size_t top;

	g->p->features |= 1u << VGEN_LOOP;
	if (one_in(g, 8)) {
		loop_unknown(g);
		return;
	}
	if (mistake(g))
		bound += 1 + below(g, 8);
	emit(g, OP_MOV64_IMM, 1, 0, 0, 0);
	top = emit(g, OP_MOV64_REG, 2, FP, 0, 0);
	emit(g, OP_ADD64_IMM, 2, 0, 0, -STACK_WINDOW);
	emit(g, OP_ADD64_REG, 2, 1, 0, 0);
	emit(g, OP_STB, 2, 0, 0, 1);
	emit(g, OP_ADD64_IMM, 1, 0, 0, step);
	emit(g, one_in(g, 2) ? OP_JLT64_IMM : OP_JLT32_IMM, 1, 0,
	     (int32_t)top - (int32_t)(g->n + 1), (int32_t)bound);
}

/* Switch writing to the subprogram area; returns where the callee starts. */
static size_t begin_sub(struct gen *g)
{
	g->main_n = g->n;
	g->out = g->sub;
	g->n = g->sub_n;
	return g->n;
}

static void end_sub(struct gen *g)
{
	g->sub_n = g->n;
	g->out = g->p->insns;
	g->n = g->main_n;
}

/* A bpf-to-bpf call with a pointer into the caller's frame, and the mistakes calls allow. */
static void snippet_call(struct gen *g)
{
	int32_t slot = -8 * (1 + (int32_t)below(g, 8));
	int32_t callee_depth = 8 * (1 + (int32_t)below(g, mistake(g) ? 64 : 40));
	size_t start;

	g->p->features |= 1u << VGEN_CALL;
	if (g->ncalls == MAX_CALLS || g->sub_n + 16 > SUB_MAX)
		return;
	if (!mistake(g))
		emit(g, OP_STDW, FP, 0, slot, (int32_t)below(g, 100));
	emit(g, OP_MOV64_REG, 1, FP, 0, 0);
	emit(g, OP_ADD64_IMM, 1, 0, 0, slot);
	emit(g, OP_MOV64_IMM, 2, 0, 0, (int32_t)below(g, 100));
	g->calls[g->ncalls].pc = emit(g, OP_CALL_LOCAL, 0, 0, 0, 0);

	start = begin_sub(g);
	g->calls[g->ncalls++].target = start;
	emit(g, OP_STDW, FP, 0, -callee_depth, 0);
	emit(g, OP_LDXDW, 0, 1, mistake(g) ? 8 : 0, 0);
	if (mistake(g))
		emit(g, OP_ADD64_REG, 0, 6, 0, 0); /* callee-saved, but not set in the callee */
	emit(g, OP_ADD64_REG, 0, 2, 0, 0);
	if (mistake(g)) {
		emit(g, OP_MOV64_REG, 0, FP, 0, 0);
		emit(g, OP_ADD64_IMM, 0, 0, 0, -callee_depth);
	}
	emit(g, OP_EXIT, 0, 0, 0, 0);
	end_sub(g);

	/* the caller's own stack below the slot: with the callee's, at most 512 bytes */
	if (mistake(g))
		emit(g, OP_STDW, FP, 0, -8 * (1 + (int32_t)below(g, 64)), 0);
	emit(g, OP_MOV64_REG, INDEX, mistake(g) ? 1 : 0, 0, 0);
}

static void snippet_helper(struct gen *g)
{
	g->p->features |= 1u << VGEN_HELPER;
	/* cases 3 and 4 call what may not be called */
	switch (mistake(g) ? 3 + below(g, 2) : (unsigned[]){ 0, 1, 2, 5 }[below(g, 4)]) {
	case 0: { /* a buffer on the stack with a size that must be known and inside it */
		int32_t buf = -8 * (1 + (int32_t)below(g, 4));

		emit(g, OP_STDW, FP, 0, buf, 0x0a7825);
		if (one_in(g, 3)) {
			unknown_scalar(g, INDEX);
			bound_index(g, INDEX, (uint32_t)-buf + 1);
			emit(g, OP_MOV64_REG, 2, INDEX, 0, 0);
		} else {
			emit(g, OP_MOV64_IMM, 2, 0, 0, mistake(g) ? -buf + 8 : (int32_t)below(g, (unsigned)-buf) + 1);
		}
		emit(g, OP_MOV64_REG, 1, FP, 0, 0);
		emit(g, OP_ADD64_IMM, 1, 0, 0, buf);
		emit_call(g, BPF_FUNC_trace_printk);
		break;
	}
	case 1: /* bytes of the packet into the stack: skb only */
		emit(g, OP_MOV64_REG, 1, CTX, 0, 0);
		emit(g, OP_MOV64_IMM, 2, 0, 0, (int32_t)below(g, 64));
		emit(g, OP_MOV64_REG, 3, FP, 0, 0);
		emit(g, OP_ADD64_IMM, 3, 0, 0, -32);
		emit(g, OP_MOV64_IMM, 4, 0, 0, mistake(g) ? 33 : 1 + (int32_t)below(g, 32));
		emit_call(g, g->p->prog_type == BPF_PROG_TYPE_XDP ? BPF_FUNC_xdp_load_bytes
								   : BPF_FUNC_skb_load_bytes);
		break;
	case 2: /* a helper that moves the packet: the old pointers die */
		emit(g, OP_MOV64_REG, 1, CTX, 0, 0);
		emit(g, OP_MOV64_IMM, 2, 0, 0, (int32_t)below(g, 16) - 8);
		emit_call(g, g->p->prog_type == BPF_PROG_TYPE_XDP ? BPF_FUNC_xdp_adjust_head
								   : BPF_FUNC_skb_pull_data);
		if (!mistake(g))
			g->packet = false;
		break;
	case 3: /* a wrong argument */
		emit(g, OP_MOV64_REG, 1, one_in(g, 2) ? CTX : FP, 0, 0);
		emit(g, OP_MOV64_REG, 2, FP, 0, 0);
		emit(g, OP_ADD64_IMM, 2, 0, 0, -8);
		emit_call(g, BPF_FUNC_map_lookup_elem);
		break;
	case 4: /* an id the kernel has no helper for, or one this type may not call */
		emit_call(g, one_in(g, 2) ? 10000 + (int32_t)below(g, 100) : BPF_FUNC_get_current_pid_tgid);
		break;
	default: /* the arguments are gone after a call */
		emit_call(g, BPF_FUNC_get_smp_processor_id);
		if (mistake(g))
			emit(g, OP_MOV64_REG, 0, 1 + (int)below(g, 5), 0, 0);
	}
}

/* A ring buffer record: reserved, checked for NULL, written, submitted or discarded. */
static void snippet_ringbuf(struct gen *g)
{
	int32_t size = 8 * (1 + (int32_t)below(g, 8));
	int32_t off = (int32_t)(8 * below(g, (unsigned)size / 8));

	g->p->features |= 1u << VGEN_RINGBUF;
	if (mistake(g)) /* a size that is not a known constant */
		unknown_scalar(g, 2);
	else
		emit(g, OP_MOV64_IMM, 2, 0, 0, size);
	emit_map(g, 1, VGEN_MAP_RINGBUF);
	emit(g, OP_MOV64_IMM, 3, 0, 0, 0);
	emit_call(g, BPF_FUNC_ringbuf_reserve);
	null_check(g, 0);
	if (mistake(g))
		off = size;
	emit(g, OP_STDW, 0, 0, off, (int32_t)below(g, 1000));
	emit(g, OP_MOV64_REG, 1, 0, 0, 0);
	emit(g, OP_MOV64_IMM, 2, 0, 0, 0);
	if (!mistake(g)) /* a record never released is a leak the kernel refuses */
		emit_call(g, one_in(g, 2) ? BPF_FUNC_ringbuf_submit : BPF_FUNC_ringbuf_discard);
	land_pending(g);
	emit(g, OP_MOV64_IMM, 0, 0, 0, 0);
}

/*
 * bpf_loop with a callback that reads the caller's stack through its
 * context argument and returns 0 or 1 (only those may a callback return).
 */
static void snippet_callback(struct gen *g)
{
	int32_t slot = -8 * (1 + (int32_t)below(g, 8));
	size_t start;

	g->p->features |= 1u << VGEN_CALLBACK;
	if (g->ncalls == MAX_CALLS || g->sub_n + 16 > SUB_MAX)
		return;
	if (!mistake(g))
		emit(g, OP_STDW, FP, 0, slot, (int32_t)below(g, 100));
	emit(g, OP_MOV64_IMM, 1, 0, 0, 1 + (int32_t)below(g, 64));
	g->calls[g->ncalls].pc = emit(g, OP_LDDW_FUNC, 2, 0, 0, 0);
	g->out[g->n++] = (struct sluice_insn){ 0 };
	emit(g, OP_MOV64_REG, 3, FP, 0, 0);
	emit(g, OP_ADD64_IMM, 3, 0, 0, slot);
	emit(g, OP_MOV64_IMM, 4, 0, 0, mistake(g) ? 1 : 0);
	emit_call(g, BPF_FUNC_loop);

	start = begin_sub(g);
	g->calls[g->ncalls++].target = start;
	emit(g, OP_LDXDW, 0, 2, mistake(g) ? 8 : 0, 0);
	emit(g, OP_MOV64_IMM, 0, 0, 0, mistake(g) ? 2 : (int32_t)below(g, 2));
	emit(g, OP_EXIT, 0, 0, 0, 0);
	end_sub(g);
}

/* A tail call through the program array: when the slot is empty, the program goes on. */
static void snippet_tail_call(struct gen *g)
{
	g->p->features |= 1u << VGEN_TAIL_CALL;
	if (mistake(g))
		unknown_scalar(g, 3);
	else
		emit(g, OP_MOV64_IMM, 3, 0, 0, (int32_t)below(g, 6));
	emit(g, OP_MOV64_REG, 1, mistake(g) ? FP : CTX, 0, 0);
	emit_map(g, 2, mistake(g) ? VGEN_MAP_ARRAY : VGEN_MAP_PROGS);
	emit_call(g, BPF_FUNC_tail_call);
}

/* Control flow the kernel refuses before it looks at values. */
static void snippet_cfg(struct gen *g)
{
	g->p->features |= 1u << VGEN_CFG;
	switch (below(g, 4)) {
	case 0: /* dead code */
		emit(g, OP_JA, 0, 0, 1, 0);
		emit(g, OP_MOV64_IMM, 0, 0, 0, 0);
		break;
	case 1: /* into the middle of an lddw */
		emit(g, OP_JEQ64_IMM, INDEX, 0, 1, 0);
		emit(g, OP_LDDW, 0, 0, 0, 1);
		g->out[g->n++] = (struct sluice_insn){ 0 };
		break;
	case 2: /* a loop with no way out */
		emit(g, OP_JA, 0, 0, -1, 0);
		break;
	default: /* out of the program */
		emit(g, OP_JEQ64_IMM, INDEX, 0, (int32_t)VGEN_MAX_INSNS, 0);
	}
}

static void (*const snippets[])(struct gen *) = {
	snippet_stack, snippet_map, snippet_map, snippet_packet, snippet_packet, snippet_ctx,
	snippet_ptr_arith, snippet_range, snippet_range, snippet_alu, snippet_div,
	snippet_shift, snippet_spill, snippet_atomic, snippet_loop, snippet_call,
	snippet_helper, snippet_ringbuf, snippet_callback, snippet_tail_call,
};

void vgen_generate(uint64_t seed, struct vgen_prog *prog)
{
	static struct gen g; /* the subprogram area is large; tests generate from one thread */
	unsigned count;

	g = (struct gen){ .p = prog, .out = prog->insns, .rng = seed };
	prog->features = 0;
	switch (below(&g, 5)) {
	case 0:
	case 1:
		prog->prog_type = BPF_PROG_TYPE_XDP;
		break;
	case 2:
	case 3:
		prog->prog_type = BPF_PROG_TYPE_SCHED_CLS;
		break;
	default:
		prog->prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
	}
	count = 1 + below(&g, MAX_SNIPPETS);
	/* about half the programs should be safe, whatever their length */
	g.mistake_odds = 8 + 4 * count + below(&g, 8);

	emit(&g, OP_MOV64_REG, CTX, 1, 0, 0);
	emit(&g, OP_MOV64_IMM, INDEX, 0, 0, 0);
	if (prog->prog_type == BPF_PROG_TYPE_XDP) {
		emit(&g, OP_LDXW, DATA, CTX, 0, 0);
		emit(&g, OP_LDXW, DATA_END, CTX, 4, 0);
		g.packet = true;
	} else if (prog->prog_type == BPF_PROG_TYPE_SCHED_CLS) {
		emit(&g, OP_LDXW, DATA, CTX, 76, 0);
		emit(&g, OP_LDXW, DATA_END, CTX, 80, 0);
		g.packet = true;
	}
	for (unsigned i = 0; i < count && g.n + SNIPPET_ROOM < VGEN_MAX_INSNS - SUB_MAX; i++)
		snippets[below(&g, ARRAY_LEN(snippets))](&g);
	if (one_in(&g, 25))
		snippet_cfg(&g);
	if (!mistake(&g))
		emit(&g, OP_MOV64_IMM, 0, 0, 0, (int32_t)below(&g, 3));
	emit(&g, OP_EXIT, 0, 0, 0, 0);

	memcpy(prog->insns + g.n, g.sub, g.sub_n * sizeof(g.sub[0]));
	for (unsigned i = 0; i < g.ncalls; i++)
		prog->insns[g.calls[i].pc].imm =
			(int32_t)(g.n + g.calls[i].target - (g.calls[i].pc + 1));
	prog->count = g.n + g.sub_n;
	prog->main_count = g.n;
}

/* ---- as an ELF object ---- */

#define R_BPF_64_64 1   /* lddw of a map */
#define R_BPF_64_32 10  /* call of a function */
#define MAP_DEF_SIZE 20 /* struct bpf_map_def: type, key_size, value_size, max_entries, flags */
#define MAX_SYMBOLS (2 + MAX_CALLS + VGEN_NMAPS)

struct elf_out {
	uint8_t *buf;
	size_t size, len;
	bool overflow;
};

/* Append data 8-byte aligned; returns its offset. */
static size_t elf_put(struct elf_out *w, const void *data, size_t len)
{
	size_t at = (w->len + 7) & ~(size_t)7;

	if (w->overflow || at + len > w->size) {
		w->overflow = true;
		return 0;
	}
	memset(w->buf + w->len, 0, at - w->len);
	if (len)
		memcpy(w->buf + at, data, len);
	w->len = at + len;
	return at;
}

struct strings {
	char data[256];
	uint32_t len; /* starts at 1: offset 0 is the empty name */
};

static uint32_t add_string(struct strings *t, const char *s)
{
	uint32_t at = t->len;
	size_t n = strlen(s) + 1;

	if (t->len + n > sizeof(t->data))
		return 0;
	memcpy(t->data + at, s, n);
	t->len += (uint32_t)n;
	return at;
}

/* The symbol of .text itself, after the null symbol. */
#define TEXT_SYMBOL 1

static bool is_function_ref(const struct sluice_insn *in)
{
	int op = insn_lookup(in);

	return op == OP_CALL_LOCAL || op == OP_LDDW_FUNC;
}

static const char *section_name(uint32_t prog_type)
{
	return prog_type == BPF_PROG_TYPE_XDP ? "xdp" :
	       prog_type == BPF_PROG_TYPE_SCHED_CLS ? "tc" : "socket";
}

size_t vgen_elf(const struct vgen_prog *prog, uint8_t *buf, size_t size)
{
	enum { S_NULL, S_PROG, S_TEXT, S_MAPS, S_LICENSE, S_SYMTAB, S_STRTAB, S_REL, S_SHSTRTAB, S_COUNT };
	static struct sluice_insn code[VGEN_MAX_INSNS];
	struct elf_out w = { .buf = buf, .size = size };
	struct strings names = { .len = 1 }, section_names = { .len = 1 };
	Elf64_Sym syms[MAX_SYMBOLS] = { { 0 } };
	Elf64_Rel rels[MAX_CALLS + VGEN_MAX_INSNS / 2];
	Elf64_Shdr sh[S_COUNT] = { { 0 } };
	Elf64_Ehdr eh = { 0 };
	size_t callee_start[MAX_CALLS], ncallees = 0, nsyms = 1, nrels = 0;
	uint8_t maps[VGEN_NMAPS * MAP_DEF_SIZE];
	char rel_name[16];

	memcpy(code, prog->insns, prog->count * sizeof(code[0]));
	/* the functions, each started by the call or bpf_loop that leads to it (one each) */
	for (size_t pc = 0; pc < prog->main_count; pc++)
		if (is_function_ref(&code[pc]) && ncallees < MAX_CALLS)
			callee_start[ncallees++] = pc + (size_t)((int64_t)code[pc].imm + 1);
	for (size_t pc = prog->main_count; pc < prog->count; pc++) {
		if (is_function_ref(&code[pc]) || insn_lookup(&code[pc]) == OP_LDDW_MAP_FD)
			return 0; /* vgen's functions neither call nor name maps */
	}
	/*
	 * symbols: .text's own (callbacks are addressed through it), the
	 * functions (local, as static functions are), then main and the maps
	 */
	syms[nsyms++] = (Elf64_Sym){ .st_info = ELF64_ST_INFO(STB_LOCAL, STT_SECTION),
				     .st_shndx = S_TEXT };
	for (size_t f = 0; f < ncallees; f++) {
		size_t end = prog->count;
		char name[16];

		for (size_t o = 0; o < ncallees; o++)
			if (callee_start[o] > callee_start[f] && callee_start[o] < end)
				end = callee_start[o];
		snprintf(name, sizeof(name), "vgen_f%zu", f);
		syms[nsyms++] = (Elf64_Sym){
			.st_name = add_string(&names, name), .st_info = ELF64_ST_INFO(STB_LOCAL, STT_FUNC),
			.st_shndx = S_TEXT,
			.st_value = (callee_start[f] - prog->main_count) * SLUICE_INSN_SIZE,
			.st_size = (end - callee_start[f]) * SLUICE_INSN_SIZE,
		};
	}
	syms[nsyms++] = (Elf64_Sym){
		.st_name = add_string(&names, "vgen"), .st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC),
		.st_shndx = S_PROG, .st_size = prog->main_count * SLUICE_INSN_SIZE,
	};
	for (unsigned m = 0; m < VGEN_NMAPS; m++) {
		const struct sluice_map_def *d = vgen_maps[m];
		uint32_t def[MAP_DEF_SIZE / 4] = { d->type, d->key_size, d->value_size, d->max_entries,
						   d->map_flags };

		memcpy(maps + m * MAP_DEF_SIZE, def, MAP_DEF_SIZE);
		syms[nsyms++] = (Elf64_Sym){
			.st_name = add_string(&names, d->name),
			.st_info = ELF64_ST_INFO(STB_GLOBAL, STT_OBJECT), .st_shndx = S_MAPS,
			.st_value = m * MAP_DEF_SIZE, .st_size = MAP_DEF_SIZE,
		};
	}
	/* main's map and call references become relocations, as in clang's output */
	for (size_t pc = 0, f = 0; pc < prog->main_count; pc++) {
		int op = insn_lookup(&code[pc]);

		if (op == OP_LDDW_MAP_FD) {
			rels[nrels++] = (Elf64_Rel){
				.r_offset = pc * SLUICE_INSN_SIZE,
				.r_info = ELF64_R_INFO(TEXT_SYMBOL + 1 + ncallees + 1 + (uint32_t)code[pc].imm,
						       R_BPF_64_64),
			};
			code[pc].imm = 0;
			code[pc].src = 0;
		} else if (op == OP_CALL_LOCAL && f < ncallees) {
			rels[nrels++] = (Elf64_Rel){
				.r_offset = pc * SLUICE_INSN_SIZE,
				.r_info = ELF64_R_INFO(TEXT_SYMBOL + 1 + f++, R_BPF_64_32),
			};
			code[pc].imm = -1;
		} else if (op == OP_LDDW_FUNC && f < ncallees) {
			/* the callback's address: .text plus its offset, as clang writes it */
			rels[nrels++] = (Elf64_Rel){
				.r_offset = pc * SLUICE_INSN_SIZE,
				.r_info = ELF64_R_INFO(TEXT_SYMBOL, R_BPF_64_64),
			};
			code[pc].imm = (int32_t)((callee_start[f++] - prog->main_count) * SLUICE_INSN_SIZE);
		}
	}

	elf_put(&w, &eh, sizeof(eh));
	snprintf(rel_name, sizeof(rel_name), ".rel%s", section_name(prog->prog_type));
	sh[S_PROG] = (Elf64_Shdr){ .sh_type = SHT_PROGBITS, .sh_flags = SHF_ALLOC | SHF_EXECINSTR,
				   .sh_addralign = 8,
				   .sh_name = add_string(&section_names, section_name(prog->prog_type)) };
	sh[S_TEXT] = (Elf64_Shdr){ .sh_type = SHT_PROGBITS, .sh_flags = SHF_ALLOC | SHF_EXECINSTR,
				   .sh_addralign = 8, .sh_name = add_string(&section_names, ".text") };
	sh[S_MAPS] = (Elf64_Shdr){ .sh_type = SHT_PROGBITS, .sh_flags = SHF_ALLOC | SHF_WRITE,
				   .sh_addralign = 4, .sh_name = add_string(&section_names, "maps") };
	sh[S_LICENSE] = (Elf64_Shdr){ .sh_type = SHT_PROGBITS, .sh_flags = SHF_ALLOC | SHF_WRITE,
				      .sh_addralign = 1,
				      .sh_name = add_string(&section_names, "license") };
	sh[S_SYMTAB] = (Elf64_Shdr){ .sh_type = SHT_SYMTAB, .sh_link = S_STRTAB,
				     .sh_info = (uint32_t)(TEXT_SYMBOL + 1 + ncallees), .sh_addralign = 8,
				     .sh_entsize = sizeof(Elf64_Sym),
				     .sh_name = add_string(&section_names, ".symtab") };
	sh[S_STRTAB] = (Elf64_Shdr){ .sh_type = SHT_STRTAB, .sh_addralign = 1,
				     .sh_name = add_string(&section_names, ".strtab") };
	sh[S_REL] = (Elf64_Shdr){ .sh_type = SHT_REL, .sh_link = S_SYMTAB, .sh_info = S_PROG,
				  .sh_addralign = 8, .sh_entsize = sizeof(Elf64_Rel),
				  .sh_name = add_string(&section_names, rel_name) };
	sh[S_SHSTRTAB] = (Elf64_Shdr){ .sh_type = SHT_STRTAB, .sh_addralign = 1,
				       .sh_name = add_string(&section_names, ".shstrtab") };

	sh[S_PROG].sh_size = prog->main_count * SLUICE_INSN_SIZE;
	sh[S_PROG].sh_offset = elf_put(&w, code, sh[S_PROG].sh_size);
	sh[S_TEXT].sh_size = (prog->count - prog->main_count) * SLUICE_INSN_SIZE;
	sh[S_TEXT].sh_offset = elf_put(&w, code + prog->main_count, sh[S_TEXT].sh_size);
	sh[S_MAPS].sh_size = sizeof(maps);
	sh[S_MAPS].sh_offset = elf_put(&w, maps, sizeof(maps));
	sh[S_LICENSE].sh_size = 4;
	sh[S_LICENSE].sh_offset = elf_put(&w, "GPL", 4);
	sh[S_SYMTAB].sh_size = nsyms * sizeof(Elf64_Sym);
	sh[S_SYMTAB].sh_offset = elf_put(&w, syms, sh[S_SYMTAB].sh_size);
	sh[S_STRTAB].sh_size = names.len;
	sh[S_STRTAB].sh_offset = elf_put(&w, names.data, names.len);
	sh[S_REL].sh_size = nrels * sizeof(Elf64_Rel);
	sh[S_REL].sh_offset = elf_put(&w, rels, sh[S_REL].sh_size);
	sh[S_SHSTRTAB].sh_size = section_names.len;
	sh[S_SHSTRTAB].sh_offset = elf_put(&w, section_names.data, section_names.len);

	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_REL;
	eh.e_machine = EM_BPF;
	eh.e_version = EV_CURRENT;
	eh.e_ehsize = sizeof(Elf64_Ehdr);
	eh.e_shentsize = sizeof(Elf64_Shdr);
	eh.e_shnum = S_COUNT;
	eh.e_shstrndx = S_SHSTRTAB;
	eh.e_shoff = elf_put(&w, sh, sizeof(sh));
	if (w.overflow)
		return 0;
	memcpy(buf, &eh, sizeof(eh));
	return w.len;
}
