/* SPDX-License-Identifier: MIT */
/*
 * Which scalars' values matter (the kernel's precision tracking, done as a
 * dataflow instead of by backtracking): at each instruction, need_in holds
 * the registers whose numbers may decide whether something later is safe.
 * Pruning compares those exactly and, for every other scalar, only that it
 * is one, so that states differing in numbers nothing depends on meet.
 *
 * A value matters where the exploration uses it (a seed): added to a
 * pointer, stored on the stack other than through r10, passed to a helper
 * that checks it, deciding a branch, compared with a linked copy, or
 * returned where the return value is checked.  Seeds spread backwards
 * along every path: to the operands an instruction computed the value
 * from, and through a comparison to both operands, since each bounds the
 * other.  need_in only grows, and a checkpoint prunes only once every path
 * from it has been explored, so every seed that path set has spread by
 * then.  Scalars with an id (linked copies) are always compared exactly,
 * so what one comparison teaches the others is never lost.
 *
 * Numbers spilled to the stack through r10 are followed the same way, by
 * slot of the instruction's own frame (need_slots_in): a load through r10
 * into a register that matters makes the slots it reads matter, and a
 * store through r10 makes the register it stores matter where its slot
 * does, and ends the slot's past.  A slot whose number is read any other
 * way (through a copy of r10, which is how callees and callbacks read it
 * too, by an atomic, or as an array map key, which decides whether the
 * lookup may give null) is escaped: its numbers matter at every
 * instruction of the subprogram, and so do the registers stored to it
 * through r10.  What else helpers read of the stack is only its kinds.
 */
#include <errno.h>
#include <stdlib.h>

#include "env.h"

static bool is_mov(enum insn_op op)
{
	return op == OP_MOV64_IMM || op == OP_MOV64_REG || op == OP_MOV32_IMM ||
	       op == OP_MOV32_REG || op == OP_MOVSX8_32 || op == OP_MOVSX16_32 ||
	       op == OP_MOVSX8_64 || op == OP_MOVSX16_64 || op == OP_MOVSX32_64;
}

struct need {
	uint16_t regs;
	uint64_t slots;
};

/* The slots an access of size bytes at r10 + off covers (none when it cannot pass the checks). */
static uint64_t fp_slots(int16_t off, unsigned size)
{
	if (off >= 0 || off < -SLUICE_STACK_SIZE || off + (int)size > 0)
		return 0;
	return stack_slots_of(off, off + (int)size);
}

/* The registers pc needs from what its successors need (the instruction's data dependencies). */
static uint16_t transfer_regs(struct verifier *v, uint32_t pc, const struct need *o)
{
	const struct sluice_insn *insn = &v->insns[pc];
	enum insn_op op = (enum insn_op)v->aux[pc].op;
	uint16_t dst = REG_BIT(insn->dst), src = REG_BIT(insn->src), out = o->regs;
	uint32_t succ[2];

	switch ((enum insn_shape)insn_table[op].shape) {
	case SHAPE_ALU_REG:
		if (!(out & dst))
			return out;
		return (is_mov(op) ? (uint16_t)(out & ~dst) : out) | src;
	case SHAPE_ALU_IMM:
		return is_mov(op) ? (uint16_t)(out & ~dst) : out;
	case SHAPE_LOAD:
	case SHAPE_LDDW:
		return out & ~dst;
	case SHAPE_ATOMIC:
		/* What a fetch loads comes from memory, not from the register. */
		if (op == OP_ATOMIC32_CMPXCHG || op == OP_ATOMIC64_CMPXCHG)
			return out & ~REG_BIT(0);
		return insn->imm & 1 || op == OP_ATOMIC32_XCHG || op == OP_ATOMIC64_XCHG
			       ? (uint16_t)(out & ~src)
			       : out;
	case SHAPE_JCOND_REG:
		return out & (dst | src) ? (uint16_t)(out | dst | src) : out;
	case SHAPE_LDABS:
	case SHAPE_LDIND:
	case SHAPE_CALL:
		return out & ~CALLER_SAVED;
	case SHAPE_CALL_LOCAL:
		cfg_successors(v, pc, succ);
		return (out & ~CALLER_SAVED) |
		       (v->aux[v->subprogs[v->aux[succ[1]].subprog].start].need_in & ARG_REGS);
	case SHAPE_STORE_REG:
		if (insn->dst == SLUICE_MAX_REG &&
		    (o->slots & fp_slots(insn->off, insn_access_size(op))))
			return out | src;
		return out;
	case SHAPE_EXIT:
		return 0;
	default:
		return out;
	}
}

/* need_in and need_slots_in at pc from its successors'. */
static struct need transfer(struct verifier *v, uint32_t pc)
{
	const struct sluice_insn *insn = &v->insns[pc];
	enum insn_op op = (enum insn_op)v->aux[pc].op;
	enum insn_shape shape = (enum insn_shape)insn_table[op].shape;
	struct need out = { 0 }, in;
	uint32_t succ[2];
	unsigned n = cfg_successors(v, pc, succ);

	/* A callee's needs reach its caller only through the arguments (transfer_regs). */
	if (op == OP_CALL_LOCAL || op == OP_LDDW_FUNC)
		n = 1;
	for (unsigned i = 0; i < n; i++) {
		out.regs |= v->aux[succ[i]].need_in;
		out.slots |= v->aux[succ[i]].need_slots_in;
	}
	in.regs = transfer_regs(v, pc, &out);
	in.slots = out.slots;
	if (shape == SHAPE_EXIT)
		in.slots = 0;
	else if (shape == SHAPE_LOAD && insn->src == SLUICE_MAX_REG && (out.regs & REG_BIT(insn->dst)))
		in.slots |= fp_slots(insn->off, insn_access_size(op));
	else if ((shape == SHAPE_STORE_REG || shape == SHAPE_STORE_IMM) && insn->dst == SLUICE_MAX_REG)
		in.slots &= ~fp_slots(insn->off, insn_access_size(op));
	return in;
}

int precision_init(struct verifier *v)
{
	uint32_t *count = calloc(v->count + 1, sizeof(*count));
	int ret = -ENOMEM;

	v->pred_start = calloc(v->count + 1, sizeof(*v->pred_start));
	v->worklist = malloc(v->count * sizeof(*v->worklist));
	v->queued = calloc(v->count, 1);
	if (!count || !v->pred_start || !v->worklist || !v->queued)
		goto out;
	for (uint32_t pc = 0; pc < v->count; pc++) {
		uint32_t succ[2];
		unsigned n;

		if (v->aux[pc].op < 0)
			continue;
		n = cfg_successors(v, pc, succ);
		for (unsigned i = 0; i < n; i++)
			count[succ[i]]++;
	}
	for (uint32_t pc = 0; pc < v->count; pc++)
		v->pred_start[pc + 1] = v->pred_start[pc] + count[pc];
	v->preds = malloc((v->pred_start[v->count] + 1) * sizeof(*v->preds));
	if (!v->preds)
		goto out;
	for (uint32_t pc = 0; pc < v->count; pc++)
		count[pc] = v->pred_start[pc];
	for (uint32_t pc = 0; pc < v->count; pc++) {
		uint32_t succ[2];
		unsigned n;

		if (v->aux[pc].op < 0)
			continue;
		n = cfg_successors(v, pc, succ);
		for (unsigned i = 0; i < n; i++)
			v->preds[count[succ[i]]++] = pc;
	}
	ret = 0;
out:
	free(count);
	return ret;
}

void precision_release(struct verifier *v)
{
	free(v->pred_start);
	free(v->preds);
	free(v->worklist);
	free(v->queued);
}

static void enqueue_preds(struct verifier *v, uint32_t pc, uint32_t *n)
{
	for (uint32_t i = v->pred_start[pc]; i < v->pred_start[pc + 1]; i++) {
		uint32_t p = v->preds[i];

		if (!v->queued[p]) {
			v->queued[p] = 1;
			v->worklist[(*n)++] = p;
		}
	}
}

void need_seed(struct verifier *v, uint32_t pc, unsigned regno)
{
	struct insn_aux *a = &v->aux[pc];
	uint32_t n = 0;

	if (regno >= SLUICE_MAX_REG || (a->seeds & REG_BIT(regno)))
		return;
	a->seeds |= REG_BIT(regno);
	if (a->need_in & REG_BIT(regno))
		return;
	a->need_in |= REG_BIT(regno);
	enqueue_preds(v, pc, &n);
	while (n) {
		uint32_t p = v->worklist[--n];
		struct need in;

		v->queued[p] = 0;
		in = transfer(v, p);
		in.regs |= v->aux[p].seeds;
		if ((in.regs & ~v->aux[p].need_in) == 0 && (in.slots & ~v->aux[p].need_slots_in) == 0)
			continue;
		v->aux[p].need_in |= in.regs;
		v->aux[p].need_slots_in |= in.slots;
		enqueue_preds(v, p, &n);
	}
}

void need_escaped(struct verifier *v, uint32_t subprog, uint64_t slots)
{
	struct subprog *s = &v->subprogs[subprog];
	uint64_t fresh = slots & ~s->escaped;

	if (!fresh)
		return;
	s->escaped |= fresh;
	for (uint32_t pc = s->start; pc < s->end; pc++) {
		const struct sluice_insn *insn = &v->insns[pc];
		enum insn_op op = (enum insn_op)v->aux[pc].op;

		if (v->aux[pc].op >= 0 && insn_table[op].shape == SHAPE_STORE_REG &&
		    insn->dst == SLUICE_MAX_REG && (fp_slots(insn->off, insn_access_size(op)) & fresh))
			need_seed(v, pc, insn->src);
	}
}
