/* SPDX-License-Identifier: MIT */
/*
 * Which scalars' values matter (the kernel's precision tracking, done as a
 * dataflow instead of by backtracking): at each instruction, need_in holds
 * the registers whose numbers may decide whether something later is safe.
 * Pruning compares those exactly and, for every other scalar, only that it
 * is one, so that states differing in numbers nothing depends on meet.
 *
 * A value matters where the exploration uses it (a seed): added to a
 * pointer, stored on the stack (which pruning always compares exactly),
 * passed to a helper that checks it, deciding a branch, compared with a
 * linked copy, or returned where the return value is checked.  Seeds
 * spread backwards along every path: to the operands an instruction
 * computed the value from, and through a comparison to both operands,
 * since each bounds the other.  need_in only grows, and a checkpoint
 * prunes only once every path from it has been explored, so every seed
 * that path set has spread by then.  Scalars with an id (linked copies)
 * are always compared exactly, so what one comparison teaches the others
 * is never lost.
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

/* need_in at pc from what its successors need (the data dependencies of the instruction). */
static uint16_t transfer(struct verifier *v, uint32_t pc)
{
	const struct sluice_insn *insn = &v->insns[pc];
	enum insn_op op = (enum insn_op)v->aux[pc].op;
	uint16_t dst = REG_BIT(insn->dst), src = REG_BIT(insn->src), out = 0;
	uint32_t succ[2];
	unsigned n = cfg_successors(v, pc, succ);

	/* A callee's needs reach its caller only through the arguments, below. */
	if (op == OP_CALL_LOCAL || op == OP_LDDW_FUNC)
		n = 1;
	for (unsigned i = 0; i < n; i++)
		out |= v->aux[succ[i]].need_in;

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
		return (out & ~CALLER_SAVED) |
		       (v->aux[v->subprogs[v->aux[succ[1]].subprog].start].need_in & ARG_REGS);
	case SHAPE_EXIT:
		return 0;
	default:
		return out;
	}
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
		uint16_t in;

		v->queued[p] = 0;
		in = transfer(v, p) | v->aux[p].seeds;
		if ((in & ~v->aux[p].need_in) == 0)
			continue;
		v->aux[p].need_in |= in;
		enqueue_preds(v, p, &n);
	}
}
