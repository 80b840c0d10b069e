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
