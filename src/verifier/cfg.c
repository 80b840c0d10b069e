/* SPDX-License-Identifier: MIT */
/*
 * Control flow before any state is computed (the kernel's check_subprogs
 * and check_cfg): every instruction decodes, every jump stays inside its
 * subprogram and lands on an instruction, every subprogram ends in exit or
 * a jump, every instruction is reachable from the entry, and loops exist
 * only for privileged loaders (who must then show, by exploring them,
 * that they end).  Also derived here: where to take checkpoints, and
 * which registers each instruction's future may read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env.h"
#include "errmsg.h"

static int compare_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int decode(struct verifier *v)
{
	for (uint32_t pc = 0; pc < v->count; pc++) {
		int op = insn_lookup(&v->insns[pc]);

		v->pc = pc;
		if (op < 0)
			return verr(v, "unknown opcode %02x", v->insns[pc].code);
		if (v->insns[pc].dst > SLUICE_MAX_REG || v->insns[pc].src > SLUICE_MAX_REG)
			return verr(v, "R%u is invalid",
				    v->insns[pc].dst > SLUICE_MAX_REG ? v->insns[pc].dst : v->insns[pc].src);
		v->aux[pc].op = (int16_t)op;
		if (insn_table[op].shape == SHAPE_LDDW) {
			if (pc + 1 >= v->count || v->insns[pc + 1].code != 0)
				return verr(v, "invalid bpf_ld_imm64 insn");
			v->aux[++pc].op = -1;
		}
	}
	return 0;
}

/* Where a local call or a callback's lddw lands, or -1. */
static int64_t subprog_target(const struct sluice_insn *insn, int op, uint32_t pc)
{
	if (op == OP_CALL_LOCAL || op == OP_LDDW_FUNC)
		return (int64_t)pc + insn->imm + 1;
	return -1;
}

static int find_subprogs(struct verifier *v)
{
	uint32_t *starts = malloc((v->count + 1) * sizeof(*starts));
	uint32_t n = 0;

	if (!starts)
		return -ENOMEM;
	starts[n++] = 0;
	for (uint32_t pc = 0; pc < v->count; pc++) {
		int64_t target = subprog_target(&v->insns[pc], v->aux[pc].op, pc);

		if (v->aux[pc].op != OP_CALL_LOCAL && v->aux[pc].op != OP_LDDW_FUNC)
			continue;
		v->pc = pc;
		if (target < 0 || target >= v->count) {
			free(starts);
			return verr(v, "function call to insn %lld is out of range from insn %u",
				    (long long)target, pc);
		}
		if (!v->bpf_capable) {
			free(starts);
			return verr(v, "loading/calling other bpf or kernel functions are allowed for CAP_BPF and CAP_SYS_ADMIN");
		}
		starts[n++] = (uint32_t)target;
	}
	qsort(starts, n, sizeof(*starts), compare_u32);
	v->subprogs = calloc(n, sizeof(*v->subprogs));
	if (!v->subprogs) {
		free(starts);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < n; i++) {
		if (i && starts[i] == starts[i - 1])
			continue;
		v->subprogs[v->nsubprogs++].start = starts[i];
	}
	free(starts);
	for (uint32_t i = 0; i < v->nsubprogs; i++) {
		struct subprog *s = &v->subprogs[i];

		s->end = i + 1 < v->nsubprogs ? v->subprogs[i + 1].start : v->count;
		for (uint32_t pc = s->start; pc < s->end; pc++)
			v->aux[pc].subprog = i;
	}
	return 0;
}

static int check_jumps(struct verifier *v)
{
	for (uint32_t i = 0; i < v->nsubprogs; i++) {
		const struct subprog *s = &v->subprogs[i];
		uint32_t last = s->end - 1;
		int op;

		if (v->aux[last].op < 0)
			last--;
		op = v->aux[last].op;
		v->pc = last;
		if (op != OP_EXIT && op != OP_JA && op != OP_JA32)
			return verr(v, "last insn is not an exit or jmp");
		for (uint32_t pc = s->start; pc < s->end; pc++) {
			int64_t target;

			op = v->aux[pc].op;
			if (op < 0 || op == OP_CALL_LOCAL || op == OP_LDDW_FUNC ||
			    !insn_branch_target(&v->insns[pc], (enum insn_op)op, pc, &target))
				continue;
			v->pc = pc;
			if (target < s->start || target >= s->end)
				return verr(v, "jump out of range from insn %u to %lld", pc,
					    (long long)target);
			if (v->aux[target].op < 0)
				return verr(v, "jump to the middle of ldimm64 insn %lld",
					    (long long)target);
		}
	}
	return 0;
}

/*
 * What the kernel's per-class checks refuse as "uses reserved fields":
 * every field an instruction does not use must be zero (insn.c's check,
 * whose jump and register checks the ones above have made already).
 */
static int check_fields(struct verifier *v)
{
	struct sluice_error why = { 0 };
	unsigned pc = 0;

	if (!sluice_insns_check(v->insns, v->count, &why))
		return 0;
	if (sscanf(why.msg, "pc %u:", &pc) == 1 && pc < v->count)
		v->pc = pc;
	return verr(v, "%s", why.msg);
}

unsigned cfg_successors(struct verifier *v, uint32_t pc, uint32_t out[2])
{
	int op = v->aux[pc].op;
	enum insn_shape shape = insn_table[op].shape;
	int64_t target;

	switch (shape) {
	case SHAPE_EXIT:
		return 0;
	case SHAPE_JA:
	case SHAPE_JA32:
		insn_branch_target(&v->insns[pc], (enum insn_op)op, pc, &target);
		out[0] = (uint32_t)target;
		return 1;
	case SHAPE_JCOND_IMM:
	case SHAPE_JCOND_REG:
		insn_branch_target(&v->insns[pc], (enum insn_op)op, pc, &target);
		out[0] = pc + 1;
		out[1] = (uint32_t)target;
		return 2;
	case SHAPE_LDDW:
		out[0] = pc + 2;
		if (op == OP_LDDW_FUNC) {
			out[1] = (uint32_t)subprog_target(&v->insns[pc], op, pc);
			return 2;
		}
		return 1;
	case SHAPE_CALL_LOCAL:
		out[0] = pc + 1;
		out[1] = (uint32_t)subprog_target(&v->insns[pc], op, pc);
		return 2;
	default:
		out[0] = pc + 1;
		return 1;
	}
}

/*
 * Depth-first walk from the entry: discovered-but-unfinished instructions
 * are on the current path, so an edge into one is a back-edge (a loop).
 */
static int walk_cfg(struct verifier *v)
{
	enum { UNSEEN, ON_PATH, DONE };
	uint8_t *mark = calloc(v->count, 1);
	uint32_t *path = malloc(v->count * sizeof(*path));
	uint8_t *next_edge = calloc(v->count, 1);
	size_t depth = 0;
	int ret = 0;

	if (!mark || !path || !next_edge) {
		ret = -ENOMEM;
		goto out;
	}
	path[depth++] = 0;
	mark[0] = ON_PATH;
	while (depth) {
		uint32_t pc = path[depth - 1], succ[2];
		unsigned n = cfg_successors(v, pc, succ);

		if (next_edge[pc] == n) {
			mark[pc] = DONE;
			depth--;
			continue;
		}
		uint32_t w = succ[next_edge[pc]++];

		v->pc = pc;
		if (w >= v->count) {
			ret = verr(v, "jump out of range from insn %u to %u", pc, w);
			goto out;
		}
		/* Whatever follows a branch or a call starts a new stretch worth a checkpoint. */
		if (n == 2 || insn_table[v->aux[pc].op].shape == SHAPE_CALL ||
		    insn_table[v->aux[pc].op].shape == SHAPE_JA)
			v->aux[w].prune_point = true;
		if (mark[w] == ON_PATH) {
			if (!v->bpf_capable) {
				ret = verr(v, "back-edge from insn %u to %u", pc, w);
				goto out;
			}
			v->aux[w].prune_point = true;
		} else if (mark[w] == UNSEEN) {
			mark[w] = ON_PATH;
			path[depth++] = w;
		}
	}
	for (uint32_t pc = 0; pc < v->count; pc++) {
		if (v->aux[pc].op >= 0 && mark[pc] != DONE) {
			v->pc = pc;
			ret = verr(v, "unreachable insn %u", pc);
			goto out;
		}
	}
out:
	free(mark);
	free(path);
	free(next_edge);
	return ret;
}


/* The registers an instruction reads (*use) and writes (*def). */
static void uses_defs(const struct sluice_insn *insn, int op, uint16_t *use, uint16_t *def)
{
	insn_data_regs(insn, (enum insn_op)op, use, def);
	switch ((enum insn_shape)insn_table[op].shape) {
	case SHAPE_LDABS:
	case SHAPE_LDIND:
		*use = REG_BIT(6) | (insn_table[op].shape == SHAPE_LDIND ? REG_BIT(insn->src) : 0);
		*def = CALLER_SAVED;
		break;
	case SHAPE_CALL:
	case SHAPE_CALL_LOCAL:
	case SHAPE_CALLX:
		*use = ARG_REGS;
		*def = CALLER_SAVED;
		break;
	case SHAPE_EXIT:
		*use = REG_BIT(0);
		break;
	default:
		break;
	}
}

/*
 * Backward dataflow to a fixed point: live_in = use | (live_out & ~def).
 * A local call's callee is left out of its caller's liveness (the call
 * reads R1-R5 and writes R0-R5 as far as the caller is concerned).
 */
static void compute_liveness(struct verifier *v)
{
	bool changed = true;

	while (changed) {
		changed = false;
		for (uint32_t pc = v->count; pc-- > 0;) {
			struct insn_aux *a = &v->aux[pc];
			uint32_t succ[2];
			uint16_t use, def, out = 0, in;
			unsigned n;

			if (a->op < 0)
				continue;
			n = cfg_successors(v, pc, succ);
			if (a->op == OP_CALL_LOCAL || a->op == OP_LDDW_FUNC)
				n = 1;
			for (unsigned i = 0; i < n; i++)
				if (succ[i] < v->count)
					out |= v->aux[succ[i]].live_in;
			uses_defs(&v->insns[pc], a->op, &use, &def);
			in = use | (out & ~def);
			if (in != a->live_in) {
				a->live_in = in;
				changed = true;
			}
		}
	}
}

static void mark_callback_calls(struct verifier *v)
{
	for (uint32_t pc = 0; pc < v->count; pc++) {
		const struct helper_proto *proto;

		if (v->aux[pc].op != OP_CALL)
			continue;
		proto = helper_proto((uint32_t)v->insns[pc].imm);
		if (proto && (proto->flags & HELPER_CALLBACK)) {
			v->aux[pc].calls_callback = true;
			v->aux[pc].prune_point = true;
		}
	}
}

int cfg_check(struct verifier *v)
{
	int ret;

	if (!v->count)
		return verr(v, "empty program");
	ret = decode(v);
	if (!ret)
		ret = find_subprogs(v);
	if (!ret)
		ret = check_jumps(v);
	if (!ret)
		ret = check_fields(v);
	if (!ret)
		ret = walk_cfg(v);
	if (ret)
		return ret;
	for (uint32_t i = 0; i < v->nsubprogs; i++)
		v->aux[v->subprogs[i].start].prune_point = true;
	mark_callback_calls(v);
	compute_liveness(v);
	return 0;
}

/*
 * The kernel rounds each frame's stack up to 16 bytes when the program is
 * JITed (as it always is on x86-64) and adds the frames of every chain of
 * calls; a chain over 512 bytes is refused.
 */
static uint32_t frame_size(const struct subprog *s)
{
	return (s->stack_depth + 15) & ~15u;
}

/*
 * The deepest chain of frames from subprogram idx down (bytes and
 * frames), memoised: a subprogram's chain does not depend on who calls it.
 * A subprogram met again on its own chain calls itself.
 */
static int deepest_chain(struct verifier *v, uint32_t idx, unsigned depth)
{
	struct subprog *s = &v->subprogs[idx];

	if (s->chain_known)
		return 0;
	if (s->on_chain)
		return verr(v, "recursive call from insn %u", s->start);
	if (depth >= SLUICE_MAX_CALL_FRAMES)
		return verr(v, "the call stack of %u frames is too deep !", depth + 1);
	s->on_chain = true;
	s->chain = frame_size(s);
	s->chain_frames = 1;
	for (uint32_t pc = s->start; pc < s->end; pc++) {
		const struct subprog *callee;
		int ret;

		if (v->aux[pc].op != OP_CALL_LOCAL)
			continue;
		v->pc = pc;
		callee = &v->subprogs[v->aux[subprog_target(&v->insns[pc], OP_CALL_LOCAL, pc)].subprog];
		ret = deepest_chain(v, (uint32_t)(callee - v->subprogs), depth + 1);
		if (ret)
			return ret;
		if (frame_size(s) + callee->chain > s->chain) {
			s->chain = frame_size(s) + callee->chain;
			s->chain_frames = callee->chain_frames + 1;
		}
		if (s->chain > SLUICE_STACK_SIZE)
			return verr(v, "combined stack size of %u calls is %u. Too large",
				    s->chain_frames, s->chain);
	}
	s->on_chain = false;
	s->chain_known = true;
	return 0;
}

int cfg_check_stack_depth(struct verifier *v)
{
	return deepest_chain(v, 0, 0);
}
