/* SPDX-License-Identifier: MIT */
/*
 * progen: random, structured BPF programs (see progen.h for what they
 * promise).  Operations are drawn from the rows of the ISA table by operand
 * shape, so a new row is generated as soon as the table has it.
 *
 * The generator tracks which registers hold data (`defined`): a value that
 * is the same in every correct engine.  Pointers (r1 at entry, r10, the
 * input pointer, a register set up as the base of an access) are never
 * data, and a register that is needed but holds no data gets a constant
 * first.  Where paths join, a register is data only if it is on every
 * path.
 */
#include <stdbool.h>
#include <string.h>

#include "insn.h"
#include "progen.h"
#include "splitmix.h"

#define NDATA 10         /* r0-r9: data, except the input pointer */
#define ARG_REGS 0x3eu   /* r1-r5, lost to a helper call */
#define FP 10            /* r10 */
#define FRAME_BYTES 64   /* the data area below r10 that each function zeroes */
#define MAX_LOOPS 2      /* loops nested in one function; counters sit below the data area */
#define MAX_DEPTH 3      /* blocks nested in one function */
/* Slots kept free while statements are added: the functions still to come and the epilogues. */
#define RESERVE (100 + 40 * PROGEN_MAX_FUNCS)

/*
 * The rows of the ISA table by operand shape.  The lddw and call shapes,
 * which also hold the loader's unresolved forms, are not drawn from:
 * progen writes plain lddw and helper calls itself.
 */
struct op_list {
	uint16_t ops[OP__COUNT];
	unsigned n;
};
static struct op_list by_shape[SHAPE_EXIT + 1];

static void build_lists(void)
{
	if (by_shape[SHAPE_ALU_REG].n)
		return;
	for (int op = 0; op < OP__COUNT; op++) {
		struct op_list *l = &by_shape[insn_table[op].shape];

		l->ops[l->n++] = (uint16_t)op;
	}
}

struct gen {
	struct sluice_insn *out;
	size_t n;
	uint64_t rng;
	const struct progen_opts *opts;
	int ptr;           /* the register holding the input pointer */
	unsigned regs;     /* bit r: rN may be chosen (progen_alu_block narrows it) */
	unsigned defined;  /* bit r: rN holds data */
	unsigned func;     /* the function being generated: 0 is main */
	unsigned nfuncs;   /* functions 1..nfuncs follow main */
	unsigned loops;    /* loops around the statement being generated */
	size_t func_pc[PROGEN_MAX_FUNCS + 1];
	struct {
		size_t pc;
		unsigned func;
	} calls[PROGEN_MAX_INSNS];
	size_t ncalls;
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

static enum insn_op pick_op(struct gen *g, enum insn_shape shape)
{
	return (enum insn_op)by_shape[shape].ops[below(g, by_shape[shape].n)];
}

/* Values at the edges of the arithmetic, small ones, and any. */
static int32_t pick_imm(struct gen *g)
{
	static const int32_t edges[] = {
		0, 1, -1, 2, -2, 7, 31, 32, 63, 64, 0xff, 0xffff,
		INT32_MAX, INT32_MIN, 0x12345678,
	};

	switch (below(g, 4)) {
	case 0:
		return edges[below(g, sizeof(edges) / sizeof(edges[0]))];
	case 1:
		return (int32_t)below(g, 256) - 128;
	default:
		return (int32_t)next(g);
	}
}

static uint64_t pick_u64(struct gen *g)
{
	static const uint64_t edges[] = {
		0, 1, UINT64_MAX, 0x8000000000000000, 0x7fffffffffffffff,
		0xffffffff, 0x80000000, 0x100000000, 0xffffffff80000000,
	};

	if (one_in(g, 3))
		return edges[below(g, sizeof(edges) / sizeof(edges[0]))];
	return next(g);
}

static size_t put(struct gen *g, enum insn_op op, int dst, int src, int32_t off, int32_t imm)
{
	g->out[g->n] = insn_make(op, dst, src, off, imm);
	return g->n++;
}

static void put_lddw(struct gen *g, int dst, uint64_t value)
{
	put(g, OP_LDDW, dst, 0, 0, (int32_t)(uint32_t)value);
	g->out[g->n++] = (struct sluice_insn){ .imm = (int32_t)(uint32_t)(value >> 32) };
}

/* Make a forward jump at pc land on the next slot to be emitted. */
static void land_here(struct gen *g, size_t pc)
{
	if (insn_table[insn_lookup(&g->out[pc])].shape == SHAPE_JA32)
		g->out[pc].imm = (int32_t)(g->n - (pc + 1));
	else
		g->out[pc].off = (int16_t)(g->n - (pc + 1));
}

/* Registers. */

static unsigned all_data(const struct gen *g)
{
	return ((1u << NDATA) - 1) & ~(1u << g->ptr);
}

static int pick_reg(struct gen *g)
{
	int r;

	do
		r = (int)below(g, NDATA);
	while (r == g->ptr || !(g->regs & (1u << r)));
	return r;
}

/* Give r a constant, in one of the three ways a program sets one. */
static void define(struct gen *g, int r)
{
	switch (below(g, 3)) {
	case 0:
		put(g, OP_MOV64_IMM, r, 0, 0, pick_imm(g));
		break;
	case 1:
		put(g, OP_MOV32_IMM, r, 0, 0, pick_imm(g));
		break;
	default:
		put_lddw(g, r, pick_u64(g));
	}
	g->defined |= 1u << r;
}

static void repair(struct gen *g, unsigned want)
{
	for (int r = 0; r < NDATA; r++)
		if (want & ~g->defined & (1u << r))
			define(g, r);
}

static int pick_defined(struct gen *g)
{
	int r = pick_reg(g);

	repair(g, 1u << r);
	return r;
}

/* ALU. */

static bool is_assignment(enum insn_op op)
{
	return !strcmp(insn_table[op].llvm, "="); /* mov, movsx: dst is written, not read */
}

static bool is_shift(enum insn_op op)
{
	return strstr(insn_table[op].llvm, "<<") || strstr(insn_table[op].llvm, ">>");
}

static void gen_alu(struct gen *g, enum insn_shape shape)
{
	enum insn_op op = pick_op(g, shape);
	int src = shape == SHAPE_ALU_REG ? pick_defined(g) : 0;
	int dst = is_assignment(op) ? pick_reg(g) : pick_defined(g);
	/* shift counts past the width now and then: they are masked */
	int32_t imm = is_shift(op) && !one_in(g, 4) ? (int32_t)below(g, 128) : pick_imm(g);

	put(g, op, dst, src, 0, imm);
	g->defined |= 1u << dst;
}

/*
 * A rotation spelled as clang spells it (BPF has none): two shifted copies
 * of b ORed.  Now and then the counts do not add up to the width, or the
 * spare copy stays to be read, and engines that fold the idiom must tell.
 */
static void gen_rotation(struct gen *g)
{
	bool wide = one_in(g, 2), left_first = one_in(g, 2);
	unsigned bits = wide ? 64 : 32, count = 1 + below(g, bits - 1);
	unsigned other = one_in(g, 4) ? below(g, bits) : bits - count;
	enum insn_op mov = wide ? OP_MOV64_REG : OP_MOV32_REG;
	enum insn_op lsh = wide ? OP_LSH64_IMM : OP_LSH32_IMM;
	enum insn_op rsh = wide ? OP_RSH64_IMM : OP_RSH32_IMM;
	int b = pick_defined(g), a, c;

	do
		a = pick_reg(g);
	while (a == b);
	do
		c = pick_reg(g);
	while (c == b || c == a);
	put(g, mov, a, b, 0, 0);
	put(g, left_first ? lsh : rsh, a, 0, 0, (int32_t)count);
	put(g, mov, c, b, 0, 0);
	put(g, left_first ? rsh : lsh, c, 0, 0, (int32_t)other);
	put(g, wide ? OP_OR64_REG : OP_OR32_REG, a, c, 0, 0);
	g->defined |= 1u << a | 1u << c;
	if (one_in(g, 2))
		define(g, c); /* the spare copy dies */
}

/* Memory. */

/* An offset for size bytes aligned to align: below r10 in the data area, or in the input. */
static int32_t pick_offset(struct gen *g, bool stack, unsigned size, unsigned align)
{
	size_t room = stack ? FRAME_BYTES : g->opts->input_size;
	int32_t at = (int32_t)(below(g, (unsigned)((room - size) / align + 1)) * align);

	return stack ? at - FRAME_BYTES : at;
}

/*
 * The base register and offset of an access: r10 or the input pointer, or
 * now and then another register made to point somewhere near the target,
 * so that every register serves as a base.  That register holds a
 * pointer afterwards; avoid names registers that must keep their data.
 */
static void pick_address(struct gen *g, unsigned size, unsigned align, unsigned avoid,
			 int *base, int32_t *off)
{
	bool stack = one_in(g, 2);
	int32_t target = pick_offset(g, stack, size, align);
	int direct = stack ? FP : g->ptr;
	int32_t delta;
	int r;

	if (!one_in(g, 3)) {
		*base = direct;
		*off = target;
		return;
	}
	do
		r = pick_reg(g);
	while (avoid & (1u << r));
	delta = stack ? -(int32_t)below(g, FRAME_BYTES + 1) : (int32_t)below(g, (unsigned)g->opts->input_size + 1);
	put(g, OP_MOV64_REG, r, direct, 0, 0);
	put(g, OP_ADD64_IMM, r, 0, 0, delta);
	g->defined &= ~(1u << r);
	*base = r;
	*off = target - delta;
}

static void gen_load(struct gen *g)
{
	enum insn_op op = pick_op(g, SHAPE_LOAD);
	int base, dst;
	int32_t off;

	pick_address(g, insn_access_size(op), 1, 0, &base, &off);
	dst = pick_reg(g);
	put(g, op, dst, base, off, 0);
	g->defined |= 1u << dst;
}

static void gen_store(struct gen *g)
{
	bool from_reg = one_in(g, 2);
	enum insn_op op = pick_op(g, from_reg ? SHAPE_STORE_REG : SHAPE_STORE_IMM);
	int src = from_reg ? pick_defined(g) : 0, base;
	int32_t off;

	pick_address(g, insn_access_size(op), 1, from_reg ? 1u << src : 0, &base, &off);
	put(g, op, base, src, off, pick_imm(g));
}

/* Atomics: aligned; src is data before and after, and so is r0 for cmpxchg, which compares and returns it. */
static void gen_atomic(struct gen *g)
{
	enum insn_op op = pick_op(g, SHAPE_ATOMIC);
	unsigned size = insn_access_size(op), keep;
	int src = pick_defined(g), base;
	int32_t off;

	keep = 1u << src;
	if (!strcmp(insn_table[op].llvm, "cmpxchg")) {
		repair(g, 1u);
		keep |= 1u;
	}
	pick_address(g, size, size, keep, &base, &off);
	put(g, op, base, src, off, 0);
}

/*
 * ld_abs / ld_ind on the input as the packet; one in sixteen reads past
 * it, which ends the program with r0 = 0.  r1-r5 count as lost, as the
 * kernel has it.
 */
static void gen_packet_load(struct gen *g)
{
	bool indirect = one_in(g, 2);
	enum insn_op op = pick_op(g, indirect ? SHAPE_LDIND : SHAPE_LDABS);
	unsigned size = insn_access_size(op);
	int32_t at = one_in(g, 16) ? (one_in(g, 2) ? -(int32_t)below(g, 8) - 1 :
				       (int32_t)(g->opts->input_size - size + 1 + below(g, 8))) :
				     (int32_t)below(g, (unsigned)(g->opts->input_size - size + 1));

	if (indirect) {
		int src = pick_reg(g);
		int32_t part = (int32_t)below(g, 64);

		put(g, OP_MOV32_IMM, src, 0, 0, part);
		put(g, op, 0, src, 0, at - part);
	} else {
		put(g, op, 0, 0, 0, at);
	}
	g->defined = (g->defined & ~ARG_REGS) | 1u;
}

/* Control flow. */

static bool gen_block(struct gen *g, unsigned statements, unsigned depth, bool may_exit);

/* A conditional jump of any kind on data, its offset left for land_here. */
static size_t gen_condition(struct gen *g)
{
	bool from_reg = one_in(g, 2);
	enum insn_op op = pick_op(g, from_reg ? SHAPE_JCOND_REG : SHAPE_JCOND_IMM);
	int src = from_reg ? pick_defined(g) : 0, dst = pick_defined(g);
	int32_t imm = pick_imm(g); /* drawn apart: the order of arguments is the compiler's */

	return put(g, op, dst, src, 0, imm);
}

/* if (cond) { then } [else { else }]; the then-block may end the function. */
static void gen_if(struct gen *g, unsigned depth)
{
	size_t cond = gen_condition(g), skip = 0;
	unsigned before = g->defined, then_end;
	bool then_exits = gen_block(g, below(g, 5), depth + 1, true);

	then_end = then_exits ? all_data(g) : g->defined;
	if (one_in(g, 2)) {
		land_here(g, cond);
		g->defined = before & then_end;
		return;
	}
	if (!then_exits)
		skip = put(g, one_in(g, 2) ? OP_JA : OP_JA32, 0, 0, 0, 0);
	land_here(g, cond);
	g->defined = before;
	/* the else-block must not end too, or the code after would be unreachable */
	gen_block(g, 1 + below(g, 4), depth + 1, false);
	if (!then_exits)
		land_here(g, skip);
	g->defined &= then_end;
}

/* A loop run 1-4 times, its counter in a stack slot below the data area. */
static void gen_loop(struct gen *g, unsigned depth)
{
	static const struct {
		enum insn_op op;
		int32_t imm;
	} again[] = {
		{ OP_JSGT64_IMM, 0 }, { OP_JNE64_IMM, 0 }, { OP_JGT32_IMM, 0 }, { OP_JSGE64_IMM, 1 },
	};
	int32_t slot = -FRAME_BYTES - 8 * (int32_t)(g->loops + 1);
	unsigned entry = g->defined, pick = below(g, sizeof(again) / sizeof(again[0]));
	size_t top;
	int counter;

	put(g, OP_STDW, FP, 0, slot, 1 + (int32_t)below(g, 4));
	top = g->n;
	g->loops++;
	gen_block(g, 1 + below(g, 5), depth + 1, false);
	g->loops--;
	repair(g, entry); /* the next round reads what the first did */
	counter = pick_reg(g);
	put(g, OP_LDXDW, counter, FP, slot, 0);
	if (one_in(g, 2))
		put(g, OP_ADD64_IMM, counter, 0, 0, -1);
	else
		put(g, OP_SUB32_IMM, counter, 0, 0, 1);
	put(g, OP_STXDW, FP, counter, slot, 0);
	put(g, again[pick].op, counter, 0, (int32_t)top - (int32_t)(g->n + 1), again[pick].imm);
	g->defined |= 1u << counter;
}

/* A helper, by id or through callx; r1-r5 are lost after it. */
static void gen_helper_call(struct gen *g)
{
	int32_t id = one_in(g, 2) ? PROGEN_HELPER_A : PROGEN_HELPER_B;

	for (unsigned i = below(g, 3); i > 0; i--)
		define(g, 1 + (int)below(g, 5));
	if (one_in(g, 3)) {
		int target = pick_reg(g);

		put(g, OP_MOV64_IMM, target, 0, 0, id);
		g->defined |= 1u << target;
		repair(g, ARG_REGS);
		put(g, OP_CALLX, target, 0, 0, 0);
	} else {
		repair(g, ARG_REGS);
		put(g, OP_CALL, 0, 0, 0, id);
	}
	g->defined = (g->defined & ~ARG_REGS) | 1u;
}

/* A call to a later function, which takes and returns every register as data. */
static void gen_local_call(struct gen *g)
{
	unsigned callee = g->func + 1 + below(g, g->nfuncs - g->func);

	repair(g, all_data(g));
	g->calls[g->ncalls].pc = put(g, OP_CALL_LOCAL, 0, 0, 0, 0);
	g->calls[g->ncalls++].func = callee;
}

/* Fold every data register and some of the stack into r0, so the result shows them. */
static void gen_fold(struct gen *g)
{
	static const enum insn_op mix[] = { OP_XOR64_REG, OP_ADD64_REG, OP_SUB64_REG };

	repair(g, 1u);
	for (int r = 1; r < NDATA; r++) {
		if (!(g->defined & (1u << r)))
			continue;
		put(g, mix[below(g, 3)], 0, r, 0, 0);
		put(g, OP_MUL64_IMM, 0, 0, 0, 0x2f0b3c4d | 1);
	}
	for (int32_t off = -8; off >= -FRAME_BYTES; off -= 8 * (1 + (int32_t)below(g, 3))) {
		int r;

		do
			r = pick_reg(g);
		while (r == 0); /* r0 is the sum */
		put(g, OP_LDXDW, r, FP, off, 0);
		put(g, mix[below(g, 3)], 0, r, 0, 0);
		g->defined |= 1u << r;
	}
}

static void gen_exit(struct gen *g)
{
	if (g->func == 0)
		gen_fold(g);
	else
		repair(g, all_data(g)); /* a function returns every register as data */
	put(g, OP_EXIT, 0, 0, 0, 0);
}

static void gen_statement(struct gen *g, unsigned depth)
{
	unsigned roll = below(g, 100);

	if (roll < 19)
		gen_alu(g, SHAPE_ALU_IMM);
	else if (roll < 22)
		gen_rotation(g);
	else if (roll < 40)
		gen_alu(g, SHAPE_ALU_REG);
	else if (roll < 45)
		gen_alu(g, SHAPE_ALU_UNARY);
	else if (roll < 48)
		define(g, pick_reg(g));
	else if (roll < 58)
		gen_load(g);
	else if (roll < 66)
		gen_store(g);
	else if (roll < 71)
		gen_atomic(g);
	else if (roll < 74)
		gen_packet_load(g);
	else if (roll < 85 && depth < MAX_DEPTH)
		gen_if(g, depth);
	else if (roll < 89 && depth < MAX_DEPTH && g->loops < MAX_LOOPS)
		gen_loop(g, depth);
	else if (roll < 95 && g->opts->helpers)
		gen_helper_call(g);
	else if (roll < 100 && g->func < g->nfuncs)
		gen_local_call(g);
	else
		gen_alu(g, SHAPE_ALU_IMM);
}

/* Returns whether the block ended the function (only its last statement may). */
static bool gen_block(struct gen *g, unsigned statements, unsigned depth, bool may_exit)
{
	for (unsigned i = 0; i < statements && g->n < PROGEN_MAX_INSNS - RESERVE; i++) {
		if (may_exit && i + 1 == statements && one_in(g, 6)) {
			gen_exit(g);
			return true;
		}
		gen_statement(g, depth);
	}
	return false;
}

static void gen_function(struct gen *g, unsigned func, unsigned statements)
{
	g->func = func;
	g->func_pc[func] = g->n;
	g->loops = 0;
	if (func == 0) {
		/* r1 points at the input; r0 and r2-r9 start as data (r2 its size) */
		put(g, OP_MOV64_REG, g->ptr, 1, 0, 0);
		g->defined = all_data(g) & ~(1u << 1);
	} else {
		g->defined = all_data(g);
	}
	for (int32_t off = -8; off >= -FRAME_BYTES; off -= 8)
		put(g, OP_STDW, FP, 0, off, 0);
	gen_block(g, statements, 0, false);
	gen_exit(g);
}

size_t progen_generate(uint64_t seed, const struct progen_opts *opts,
		       struct sluice_insn out[PROGEN_MAX_INSNS])
{
	static struct gen g; /* the call list is large; tests generate from one thread */

	build_lists();
	g = (struct gen){ .out = out, .rng = seed, .opts = opts, .regs = (1u << NDATA) - 1 };
	g.ptr = 6 + (int)below(&g, 4); /* callee-saved, so helpers keep it */
	g.nfuncs = below(&g, opts->max_funcs + 1);
	gen_function(&g, 0, opts->statements);
	for (unsigned f = 1; f <= g.nfuncs; f++)
		gen_function(&g, f, 1 + opts->statements / 3);
	for (size_t i = 0; i < g.ncalls; i++)
		g.out[g.calls[i].pc].imm = (int32_t)(g.func_pc[g.calls[i].func] - (g.calls[i].pc + 1));
	return g.n;
}

size_t progen_alu_block(uint64_t seed, unsigned regs, unsigned live, unsigned statements,
			struct sluice_insn out[PROGEN_MAX_ALU_BLOCK])
{
	static const struct progen_opts no_memory = { .input_size = 16 };
	struct gen g = {
		.out = out, .rng = seed, .opts = &no_memory, .ptr = FP,
		.regs = regs & ((1u << NDATA) - 1), .defined = live & regs,
	};

	build_lists();
	if (!g.regs)
		return 0;
	if (statements > PROGEN_MAX_ALU_STATEMENTS)
		statements = PROGEN_MAX_ALU_STATEMENTS;
	for (unsigned i = 0; i < statements; i++) {
		unsigned roll = below(&g, 100);

		if (roll < 45)
			gen_alu(&g, SHAPE_ALU_IMM);
		else if (roll < 85)
			gen_alu(&g, SHAPE_ALU_REG);
		else if (roll < 95)
			gen_alu(&g, SHAPE_ALU_UNARY);
		else if (__builtin_popcount(g.regs) >= 3) /* a rotation needs three registers */
			gen_rotation(&g);
	}
	return g.n;
}
