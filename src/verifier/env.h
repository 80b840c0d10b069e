/* SPDX-License-Identifier: MIT */
/*
 * The verifier's working environment, shared by its parts:
 *
 *   state.h/.c registers, stack slots, frames; copying and comparing states
 *   cfg.c      subprograms, the control-flow checks, prune points, register liveness
 *   precision.c which scalars' numbers matter, for pruning
 *   mem.c      pointer arithmetic and loads and stores through each pointer kind;
 *              stack liveness (read marks on checkpoints)
 *   calls.c    helper calls, bpf-to-bpf calls, callbacks, exits
 *   log.c      the kernel-style log
 *   verifier.c the exploration (the kernel's do_check) and the public entry
 *
 * Every check that refuses a program does it through verr(), which writes
 * the kernel's sentence to the log and returns -EACCES; callers pass the
 * negative value up unchanged until the exploration stops.
 */
#ifndef SLUICE_VERIFIER_ENV_H
#define SLUICE_VERIFIER_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sluice/verifier.h>

#include "context.h"
#include "helper_proto.h"
#include "insn.h"
#include "state.h"

#define COMPLEXITY_LIMIT 1000000u
/* The kernel's BPF_MAX_VAR_OFF and BPF_MAX_VAR_SIZ: bounds on what pointer math may add. */
#define MAX_VAR_OFF (1 << 29)
#define MAX_PACKET_OFF 0xffff

/* Register masks: bit r for register r. */
#define REG_BIT(r) ((uint16_t)(1u << (r)))
#define CALLER_SAVED (REG_BIT(0) | REG_BIT(1) | REG_BIT(2) | REG_BIT(3) | REG_BIT(4) | REG_BIT(5))
#define ARG_REGS (REG_BIT(1) | REG_BIT(2) | REG_BIT(3) | REG_BIT(4) | REG_BIT(5))

struct insn_aux {
	int16_t op;          /* enum insn_op; -1 on the second slot of lddw */
	bool prune_point;    /* a jump target or the instruction after a branch or call */
	bool calls_callback; /* a helper call that calls a subprogram back */
	uint16_t live_in;    /* registers read before being written, from here on */
	uint16_t need_in;    /* registers whose numbers matter from here on (precision.c) */
	uint64_t need_slots_in; /* the same for the numbers spilled in the frame's stack slots */
	uint16_t seeds;      /* registers whose numbers this instruction itself depends on */
	uint32_t subprog;
	struct vstate *visited; /* checkpoints taken here */
	/*
	 * Unprivileged pointer arithmetic by a register: how the kernel would
	 * mask its offset against Spectre v1 (sanitize_ptr_alu's alu_state and
	 * alu_limit).  One instruction gets one mask, so every path must agree.
	 */
	uint8_t alu_state;
	uint32_t alu_limit;
};

struct subprog {
	uint32_t start, end; /* [start, end) */
	uint32_t stack_depth; /* deepest byte any path touched, in bytes */
	/* cfg_check_stack_depth: the deepest chain of frames from here down */
	uint32_t chain, chain_frames;
	bool chain_known, on_chain;
	/* Slots whose numbers a path read where precision.c cannot follow: they always matter. */
	uint64_t escaped;
};

struct vlog {
	char *buf;
	size_t len, cap;
	bool failed;         /* out of memory: the log is cut short */
};

struct pending {
	struct vstate *st;
	uint32_t pc;
	uint32_t from;       /* the branch that left it for later */
};

struct verifier {
	const struct sluice_insn *insns;
	uint32_t count;
	const struct sluice_verifier_opts *opts;
	const struct ctx_desc *ctx;
	struct insn_aux *aux;
	struct subprog *subprogs;
	uint32_t nsubprogs;

	/* The kernel's privilege switches (bpf_verifier_env). */
	bool allow_ptr_leaks;
	bool allow_uninit_stack;
	bool bpf_capable;
	bool bypass_spec_v1;
	/* Some pointer moved by an unknown offset under Spectre v1 masking: prune on exact numbers. */
	bool explore_alu_limits;

	struct vstate *cur;
	uint32_t pc;
	struct pending *stack;
	size_t nstack, capstack;
	uint32_t id_gen;

	uint64_t insns_processed;
	uint32_t total_states, cur_states, peak_states;

	struct vlog log;
	char reason[SLUICE_ERRMSG_MAX]; /* the last verr() sentence */
	const struct sluice_line_info *last_line; /* the source line the log showed last */

	/* precision.c: predecessors of each instruction, and its worklist */
	uint32_t *pred_start, *preds;
	uint32_t *worklist;
	uint8_t *queued;
};

static inline struct frame *cur_frame(struct verifier *v)
{
	return v->cur->frames[v->cur->curframe];
}

static inline struct reg *cur_regs(struct verifier *v)
{
	return cur_frame(v)->regs;
}

static inline const struct sluice_map_def *map_of(struct verifier *v, uint32_t index)
{
	return v->opts->maps[index];
}

/* ---- log.c ---- */
void vlog_printf(struct vlog *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Refuse the program: the sentence goes to the log and v->reason; returns -EACCES. */
int verr(struct verifier *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *reg_type_name(const struct reg *r);
/* "(0x0; 0xff)": a tnum as the kernel prints it. */
void tnum_format(struct tnum t, char *buf, size_t len);
void log_reg(struct vlog *log, struct verifier *v, const struct reg *r);
/* The registers and stack of every frame, kernel style, ending in a newline. */
void log_state(struct verifier *v, const struct vstate *st);
void log_insn(struct verifier *v, uint32_t pc);
/* "; the C source line" for pc, when line_info has one that starts there. */
void log_source_line(struct verifier *v, uint32_t pc);

/* ---- cfg.c ---- */
/* Decode, find subprograms, check the control flow, mark prune points, liveness. */
int cfg_check(struct verifier *v);
/* The combined stack of the deepest chain of calls (after the exploration). */
int cfg_check_stack_depth(struct verifier *v);
/* Where control goes after pc: 0, 1 or 2 instructions (a local call: pc + 1, the callee). */
unsigned cfg_successors(struct verifier *v, uint32_t pc, uint32_t out[2]);

/* ---- precision.c ---- */
int precision_init(struct verifier *v);
void precision_release(struct verifier *v);
/* The number in register regno before pc decides safety: it and its sources must be compared. */
void need_seed(struct verifier *v, uint32_t pc, unsigned regno);
/* Numbers in slots of a frame of subprog were read where precision.c cannot follow them. */
void need_escaped(struct verifier *v, uint32_t subprog, uint64_t slots);

/* ---- mem.c ---- */
/*
 * A load (write false) or store of size bytes at regs[regno] + off.  Loads
 * put the value in regs[value_regno]; stores take it from there, or are
 * of the immediate *imm when value_regno is -1 (imm NULL: an unknown number).
 */
int check_mem_access(struct verifier *v, int regno, int16_t off, unsigned size,
		     bool write, int value_regno, const int32_t *imm, bool sign_extend);
/*
 * Is regs[regno] + off a multiple of size?  The stack always must be;
 * other memory only when strict (atomics; the kernel's strict_alignment_once).
 */
int check_alignment(struct verifier *v, int regno, int32_t off, unsigned size, bool strict);
/* What a helper reads or writes through regs[regno]: size bytes (umax of a size register). */
int check_helper_mem_access(struct verifier *v, int regno, uint64_t size, bool write,
			    bool zero_size_allowed, bool pkt_access);
/* dst = dst <op> src where either is a pointer (the kernel's adjust_ptr_min_max_vals). */
int check_pointer_alu(struct verifier *v, enum insn_op op, enum scalar_op sop, struct reg *dst,
		      const struct reg *src, int dst_regno);
/* The slots of the stack bytes [lo, hi) (offsets from the frame pointer, all below it). */
uint64_t stack_slots_of(int64_t lo, int64_t hi);
/*
 * The slots of the stack of frame fr (bit i: slot i) were read: the
 * checkpoints on the way here learn that they matter.
 */
void stack_mark_read(struct verifier *v, uint32_t fr, uint64_t slots);
/* Note that frame f touched its stack down to depth bytes below its frame pointer. */
int stack_touch(struct verifier *v, struct frame *f, uint32_t depth);
struct frame *stack_frame_of(struct verifier *v, const struct reg *r);

/* ---- calls.c ---- */
int check_helper_call(struct verifier *v, const struct sluice_insn *insn);
int check_local_call(struct verifier *v, uint32_t target);
/* Exit of a frame: returns 1 when the path ends (the main program's exit). */
int check_exit(struct verifier *v);
void invalidate_pkt_pointers(struct verifier *v);

/* ---- verifier.c ---- */
uint32_t new_id(struct verifier *v);
/*
 * r (a scalar) is about to be copied, to a register or a stack slot: give
 * it an id if it has none, so that what a branch learns about the copy or
 * the original holds for both (the kernel's assign_scalar_id_before_mov).
 */
void tie_scalar_copy(struct verifier *v, struct reg *r);
/* Explore target later with a copy of the current state; -ENOMEM. */
int push_branch(struct verifier *v, uint32_t target, struct vstate **copy);
/*
 * A callback returned to its call at callsite for one more run: widen what
 * changed since the run before (the kernel's widen_imprecise_scalars).
 */
void widen_callback_loop(struct verifier *v, uint32_t callsite);

#endif
