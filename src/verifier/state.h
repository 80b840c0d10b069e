/* SPDX-License-Identifier: MIT */
/*
 * The verifier's abstract state: what every register and stack byte of
 * every call frame may hold at one point of one path (the kernel's
 * bpf_reg_state, bpf_stack_state, bpf_func_state, bpf_verifier_state).
 *
 * A register is a type plus, for scalars, the value's scalar domain
 * (bounds.h) and, for pointers, a fixed offset (off) plus a variable one
 * (var, a scalar).  Ids tie registers together: copies of one
 * maybe-null pointer share an id so that one null check settles them all;
 * packet pointers derived from one variable offset share an id so that
 * one comparison against data_end gives all of them their range; copies of
 * a scalar share an id so that a comparison narrows all of them.
 *
 * Stack bytes carry a kind each; an 8-byte slot whose bytes say
 * STACK_SPILL holds a register (spilled), all of it or, for a scalar
 * stored with a narrower store, its low bytes.
 */
#ifndef SLUICE_VERIFIER_STATE_H
#define SLUICE_VERIFIER_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include <sluice/insn.h>

#include "bounds.h"

enum reg_type {
	REG_NOT_INIT = 0,
	REG_SCALAR,
	REG_CTX,
	REG_MAP_PTR,      /* CONST_PTR_TO_MAP: map is the map's index */
	REG_MAP_VALUE,    /* map is the map's index */
	REG_STACK,        /* frameno says whose stack */
	REG_PKT,
	REG_PKT_META,
	REG_PKT_END,
	REG_MEM,          /* mem_size bytes from a helper (ringbuf_reserve, ...) */
	REG_SOCK_COMMON,
	REG_SOCKET,
	REG_TCP_SOCK,
	REG_FLOW_KEYS,
	REG_FUNC,         /* a subprogram's address: map is its index */
	/*
	 * A kernel object, or a value the verifier cannot type without the
	 * kernel's BTF (what a tracing program loads from its context or
	 * through such a pointer): it may be a pointer or a number, so it
	 * may be read through (8-byte loads give another such value), and
	 * any arithmetic but adding an offset turns it into a number.
	 */
	REG_BTF_ID,
	REG__COUNT,
};

enum reg_flag {
	REG_MAYBE_NULL = 1u << 0,
	REG_RDONLY = 1u << 1,
	REG_RINGBUF = 1u << 2,
};

struct reg {
	uint8_t type;       /* enum reg_type */
	uint8_t flags;      /* enum reg_flag */
	uint8_t frameno;    /* REG_STACK: the frame whose stack it points into */
	int32_t off;        /* pointers: the fixed part of the offset */
	struct scalar var;  /* scalars: the value; pointers: the variable offset */
	uint32_t id;
	uint32_t ref_obj_id; /* the reference the program must release, or 0 */
	uint32_t range;     /* packet: bytes from the pointer's off 0 known present */
	uint32_t map;       /* map index (map ptr, map value) or subprogram (func) */
	uint32_t mem_size;  /* REG_MEM */
};

enum stack_kind {
	STACK_INVALID = 0, /* never written: uninitialised */
	STACK_MISC,        /* some number */
	STACK_ZERO,        /* known zero */
	STACK_SPILL,       /* part of the register kept in the slot */
};

#define SLOT_SIZE 8

struct stack_slot {
	uint8_t kind[SLOT_SIZE]; /* by address, lowest first */
	struct reg spilled;
};

struct frame {
	struct reg regs[SLUICE_MAX_REG + 1];
	uint32_t callsite;  /* pc of the call that made this frame (0 for the main one) */
	uint32_t subprog;
	uint32_t callback_helper; /* the helper calling this frame back, or 0 */
	uint32_t nslots;    /* slot i covers fp-8*(i+1) .. fp-8*i-1 */
	struct stack_slot *stack;
	/*
	 * Stack liveness (the kernel's REG_LIVE_WRITTEN and REG_LIVE_READ), bit
	 * i for slot i.  written: slots this path overwrote whole since its
	 * last checkpoint (in a checkpoint: on the way to it).  read, in a
	 * checkpoint: slots some path from it read before overwriting them (a
	 * path pruned reads what the paths of the state that covered it read);
	 * once every path from it is explored, the other slots cannot matter.
	 */
	uint64_t written, read;
};

struct vstate {
	struct frame *frames[SLUICE_MAX_CALL_FRAMES];
	uint32_t curframe;
	uint32_t *refs;     /* ids of references acquired and not yet released */
	uint32_t nrefs;
	/*
	 * The last checkpoint this path went through, and, in a checkpoint,
	 * how many paths still being explored go through it: it can prune
	 * others only once that is zero (all its successors proven safe).
	 */
	struct vstate *parent;
	uint32_t branches;
	uint32_t pc;        /* checkpoints: where they were taken */
	uint32_t hits, misses; /* checkpoints: how often they pruned, or failed to */
	/*
	 * Callback runs begun on the way here (the kernel's
	 * callback_unroll_depth): a helper bounds how often it calls back, so
	 * states of two runs that look the same are no infinite loop.
	 */
	uint32_t callback_runs;
	uint64_t taken_at;  /* checkpoints: instructions processed when they were taken */
	/*
	 * An in-progress checkpoint that newer ones of a loop pushed off its
	 * pc's list: it only counts its paths, and goes with the last one.
	 */
	bool detached;
	struct vstate *next_visited;
};

static inline bool reg_is_pkt(const struct reg *r)
{
	return r->type == REG_PKT || r->type == REG_PKT_META;
}

static inline bool reg_is_pointer(const struct reg *r)
{
	return r->type != REG_NOT_INIT && r->type != REG_SCALAR;
}

static inline bool reg_is_const(const struct reg *r, uint64_t v)
{
	return r->type == REG_SCALAR && scalar_is_const(r->var) && r->var.t.value == v;
}

void reg_mark_unknown(struct reg *r);
void reg_mark_const(struct reg *r, uint64_t v);
void reg_mark_not_init(struct reg *r);
/* A pointer of type t at offset 0 with no variable part. */
void reg_mark_pointer(struct reg *r, enum reg_type t);

struct frame *frame_new(uint32_t callsite, uint32_t subprog);
void frame_free(struct frame *f);
/* Make room for bytes bytes of stack; -ENOMEM. */
int frame_grow(struct frame *f, uint32_t bytes);

struct vstate *vstate_copy(const struct vstate *s);
void vstate_free(struct vstate *s);
int vstate_acquire_ref(struct vstate *s, uint32_t id);
/* false when id was not held. */
bool vstate_release_ref(struct vstate *s, uint32_t id);

/*
 * Call f on every register of every frame and every spilled register:
 * the places an id can live.
 */
#define VSTATE_FOR_EACH_REG(st, r, body)                                        \
	for (uint32_t fr_ = 0; fr_ <= (st)->curframe; fr_++) {                    \
		struct frame *f_ = (st)->frames[fr_];                             \
		for (unsigned i_ = 0; i_ <= SLUICE_MAX_REG; i_++) {               \
			struct reg *r = &f_->regs[i_];                            \
			body                                                      \
		}                                                                 \
		for (uint32_t s_ = 0; s_ < f_->nslots; s_++) {                    \
			if (f_->stack[s_].kind[0] != STACK_SPILL &&               \
			    f_->stack[s_].kind[SLOT_SIZE - 1] != STACK_SPILL)     \
				continue;                                         \
			struct reg *r = &f_->stack[s_].spilled;                   \
			body                                                      \
		}                                                                 \
	}

/* What pruning looks at in each frame (bit i: register i, or stack slot i). */
struct prune_masks {
	uint16_t live[SLUICE_MAX_CALL_FRAMES];    /* registers still read */
	uint16_t precise[SLUICE_MAX_CALL_FRAMES]; /* registers whose numbers matter */
	uint64_t precise_slots[SLUICE_MAX_CALL_FRAMES]; /* slots whose spilled numbers matter */
	/*
	 * Every live number, precise or not, must be the same one (the
	 * kernel's explore_alu_limits): a narrower offset would get another
	 * Spectre v1 mask, which a pruned path never shows.
	 */
	bool exact_scalars;
};

/*
 * Pruning: does old allow every concrete state cur allows, looking only at
 * the live registers of each frame, at the numbers only of the precise
 * scalars, registers or spilled (and of linked ones), and, when
 * reads_known (old's paths are all explored), only at the stack slots
 * they read?  Then what was proven safe from old holds for cur.
 */
bool vstate_within(const struct vstate *cur, const struct vstate *old,
		   const struct prune_masks *masks, bool reads_known, bool allow_uninit_stack);
/* The slots of f that vstate_within compares when f is old's and its reads are not known. */
uint64_t frame_constrained_slots(const struct frame *f, bool allow_uninit_stack);
/* Identical abstract states (for "infinite loop detected"). */
bool vstate_equal(const struct vstate *a, const struct vstate *b);

#endif
