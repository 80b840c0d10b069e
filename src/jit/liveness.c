/* SPDX-License-Identifier: MIT */
/*
 * Backward liveness over the program's control flow, iterated to the least
 * fixed point: live-in = read | (live-out & ~written), live-out = the union
 * of the successors' live-in.  What an instruction reads may be too much
 * and what it writes too little, never the other way round: a register
 * wrongly dead would lose a value a later instruction needs.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../insn.h"
#include "liveness.h"

#define ALL_REGS ((1u << (SLUICE_MAX_REG + 1)) - 1)
#define R0 1u
#define ARGS 0x3eu /* r1-r5 */

/*
 * The registers the instruction may read, and those it surely writes.
 * `exit` reads r0, and r1-r5 too when it may return to a local call.
 */
static void reads_writes(const struct sluice_insn *insn, enum insn_op op, bool calls,
			 unsigned *reads, unsigned *writes)
{
	uint16_t r, w;

	insn_data_regs(insn, op, &r, &w);
	*reads = r;
	*writes = w;
	switch ((enum insn_shape)insn_table[op].shape) {
	case SHAPE_LDABS:
		*writes = R0;
		break;
	case SHAPE_LDIND:
		*reads = 1u << insn->src;
		*writes = R0;
		break;
	case SHAPE_CALL:
		*reads = ARGS;
		*writes = R0;
		break;
	case SHAPE_CALLX:
		*reads = (1u << insn->dst) | ARGS;
		*writes = R0;
		break;
	case SHAPE_CALL_LOCAL:
		*reads = ALL_REGS;
		break;
	case SHAPE_EXIT:
		*reads = R0 | (calls ? ARGS : 0);
		break;
	default:
		break;
	}
}

/* What the successors of pc may read: the next slot unless it jumps away or ends, and its target. */
static unsigned live_out(const struct sluice_insn *insns, size_t count, const uint16_t *live,
			 size_t pc, enum insn_op op)
{
	enum insn_shape shape = (enum insn_shape)insn_table[op].shape;
	size_t next = pc + sluice_insn_slots(&insns[pc]);
	unsigned out = 0;
	int64_t target;

	if (shape != SHAPE_JA && shape != SHAPE_JA32 && shape != SHAPE_EXIT && next < count)
		out |= live[next];
	/* a local call's target is summed up by the call reading every register */
	if (shape != SHAPE_CALL_LOCAL && insn_branch_target(&insns[pc], op, pc, &target))
		out |= live[target];
	return out;
}

int jit_liveness(const struct sluice_insn *insns, size_t count, uint16_t **live)
{
	uint16_t *in = calloc(count + 1, sizeof(*in));
	bool changed = true, calls = false;

	if (!in)
		return -ENOMEM;
	for (size_t pc = 0; pc < count; pc += sluice_insn_slots(&insns[pc]))
		calls |= insn_lookup(&insns[pc]) == OP_CALL_LOCAL;
	while (changed) {
		changed = false;
		/* backwards, so that most of the flow is seen in one sweep */
		for (size_t pc = count; pc-- > 0;) {
			enum insn_op op;
			unsigned reads, writes, now;

			/* the second slot of an lddw, whose own opcode is 0 */
			if (pc > 0 && sluice_insn_slots(&insns[pc - 1]) == 2)
				continue;
			op = (enum insn_op)insn_lookup(&insns[pc]);
			reads_writes(&insns[pc], op, calls, &reads, &writes);
			now = reads | (live_out(insns, count, in, pc, op) & ~writes);
			if (now != in[pc]) {
				in[pc] = (uint16_t)now;
				changed = true;
			}
		}
	}
	*live = in;
	return 0;
}

/*
 * r1 at each instruction, forward to the least fixed point over a
 * three-level lattice per pc: not reached yet, one constant, anything.
 * Only r1 is followed, and only lddw gives it a constant: clang loads a
 * map's address into r1 right before the call, and a program that moves
 * it there from another register just keeps the generic call.
 */
enum r1_kind { R1_UNREACHED, R1_CONST, R1_ANY };

struct r1_state {
	enum r1_kind kind;
	uint64_t value;
};

static bool r1_join(struct r1_state *at, struct r1_state in)
{
	struct r1_state was = *at;

	if (at->kind == R1_UNREACHED)
		*at = in;
	else if (in.kind != R1_UNREACHED &&
		 (in.kind == R1_ANY || at->kind == R1_ANY || in.value != at->value))
		*at = (struct r1_state){ R1_ANY, 0 };
	return at->kind != was.kind || at->value != was.value;
}

/* r1 after the instruction at pc, from r1 before it. */
static struct r1_state r1_after(const struct sluice_insn *insn, enum insn_op op,
				struct r1_state in)
{
	uint16_t reads, writes;

	switch ((enum insn_shape)insn_table[op].shape) {
	case SHAPE_CALL:       /* helpers and kfuncs clobber r1-r5 */
	case SHAPE_CALLX:
	case SHAPE_CALL_LOCAL: /* the callee may leave anything in them */
	case SHAPE_LDABS:      /* the kernel's ld_abs clobbers them too */
	case SHAPE_LDIND:
		return (struct r1_state){ R1_ANY, 0 };
	default:
		break;
	}
	insn_data_regs(insn, op, &reads, &writes);
	if (!(writes & 2u))
		return in;
	if (op == OP_LDDW)
		return (struct r1_state){ R1_CONST, (uint32_t)insn[0].imm |
						    (uint64_t)(uint32_t)insn[1].imm << 32 };
	return (struct r1_state){ R1_ANY, 0 };
}

int jit_call_r1(const struct sluice_insn *insns, size_t count, uint64_t **r1)
{
	struct r1_state *in = calloc(count + 1, sizeof(*in));
	uint64_t *out = calloc(count ? count : 1, sizeof(*out));
	bool changed = true;

	if (!in || !out) {
		free(in);
		free(out);
		return -ENOMEM;
	}
	in[0].kind = R1_ANY; /* the context */
	while (changed) {
		changed = false;
		for (size_t pc = 0; pc < count; pc += sluice_insn_slots(&insns[pc])) {
			enum insn_op op = (enum insn_op)insn_lookup(&insns[pc]);
			enum insn_shape shape = (enum insn_shape)insn_table[op].shape;
			size_t next = pc + sluice_insn_slots(&insns[pc]);
			struct r1_state after;
			int64_t target;

			if (in[pc].kind == R1_UNREACHED)
				continue;
			after = r1_after(&insns[pc], op, in[pc]);
			if (shape != SHAPE_JA && shape != SHAPE_JA32 && shape != SHAPE_EXIT)
				changed |= r1_join(&in[next], after);
			/* a function called locally gets its caller's r1: any */
			if (insn_branch_target(&insns[pc], op, pc, &target))
				changed |= r1_join(&in[target], shape == SHAPE_CALL_LOCAL ?
						   (struct r1_state){ R1_ANY, 0 } : after);
		}
	}
	for (size_t pc = 0; pc < count; pc += sluice_insn_slots(&insns[pc]))
		if (insn_lookup(&insns[pc]) == OP_CALL && in[pc].kind == R1_CONST)
			out[pc] = in[pc].value;
	free(in);
	*r1 = out;
	return 0;
}
