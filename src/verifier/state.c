/* SPDX-License-Identifier: MIT */
/*
 * Verifier states (state.h): building, copying and comparing them.  The
 * comparison is the kernel's states_equal with regsafe and stacksafe: a
 * path reaching a checkpoint with a state the checkpoint's state covers
 * needs no further exploration.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"

void reg_mark_not_init(struct reg *r)
{
	*r = (struct reg){ .type = REG_NOT_INIT, .var = scalar_unknown() };
}

void reg_mark_unknown(struct reg *r)
{
	*r = (struct reg){ .type = REG_SCALAR, .var = scalar_unknown() };
}

void reg_mark_const(struct reg *r, uint64_t v)
{
	*r = (struct reg){ .type = REG_SCALAR, .var = scalar_const(v) };
}

void reg_mark_pointer(struct reg *r, enum reg_type t)
{
	*r = (struct reg){ .type = (uint8_t)t, .var = scalar_const(0) };
}

struct frame *frame_new(uint32_t callsite, uint32_t subprog)
{
	struct frame *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->callsite = callsite;
	f->subprog = subprog;
	for (unsigned i = 0; i <= SLUICE_MAX_REG; i++)
		reg_mark_not_init(&f->regs[i]);
	return f;
}

void frame_free(struct frame *f)
{
	if (!f)
		return;
	free(f->stack);
	free(f);
}

int frame_grow(struct frame *f, uint32_t bytes)
{
	uint32_t nslots = (bytes + SLOT_SIZE - 1) / SLOT_SIZE;
	struct stack_slot *stack;

	if (nslots <= f->nslots)
		return 0;
	stack = realloc(f->stack, nslots * sizeof(*stack));
	if (!stack)
		return -ENOMEM;
	memset(stack + f->nslots, 0, (nslots - f->nslots) * sizeof(*stack));
	f->stack = stack;
	f->nslots = nslots;
	return 0;
}

static struct frame *frame_copy(const struct frame *src)
{
	struct frame *f = malloc(sizeof(*f));

	if (!f)
		return NULL;
	*f = *src;
	f->stack = NULL;
	if (src->nslots) {
		f->stack = malloc(src->nslots * sizeof(*f->stack));
		if (!f->stack) {
			free(f);
			return NULL;
		}
		memcpy(f->stack, src->stack, src->nslots * sizeof(*f->stack));
	}
	return f;
}

void vstate_free(struct vstate *s)
{
	if (!s)
		return;
	for (uint32_t i = 0; i <= s->curframe; i++)
		frame_free(s->frames[i]);
	free(s->refs);
	free(s);
}

struct vstate *vstate_copy(const struct vstate *src)
{
	struct vstate *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->curframe = src->curframe;
	s->parent = src->parent;
	s->pc = src->pc;
	s->callback_runs = src->callback_runs;
	for (uint32_t i = 0; i <= src->curframe; i++) {
		s->frames[i] = frame_copy(src->frames[i]);
		if (!s->frames[i]) {
			s->curframe = i ? i - 1 : 0;
			vstate_free(s);
			return NULL;
		}
	}
	if (src->nrefs) {
		s->refs = malloc(src->nrefs * sizeof(*s->refs));
		if (!s->refs) {
			vstate_free(s);
			return NULL;
		}
		memcpy(s->refs, src->refs, src->nrefs * sizeof(*s->refs));
		s->nrefs = src->nrefs;
	}
	return s;
}

int vstate_acquire_ref(struct vstate *s, uint32_t id)
{
	uint32_t *refs = realloc(s->refs, (s->nrefs + 1) * sizeof(*refs));

	if (!refs)
		return -ENOMEM;
	refs[s->nrefs++] = id;
	s->refs = refs;
	return 0;
}

bool vstate_release_ref(struct vstate *s, uint32_t id)
{
	for (uint32_t i = 0; i < s->nrefs; i++) {
		if (s->refs[i] == id) {
			s->refs[i] = s->refs[--s->nrefs];
			return true;
		}
	}
	return false;
}

/*
 * Ids in the old state must correspond one to one with ids in the current
 * one: if old relied on two registers sharing an id (one null check
 * settles both), cur's registers must share one too, and two different
 * old ids must not meet in one cur id.
 */
#define IDMAP_MAX 1024

struct idmap {
	uint32_t n;
	uint32_t old[IDMAP_MAX], cur[IDMAP_MAX];
};

static bool ids_match(struct idmap *m, uint32_t old, uint32_t cur)
{
	if (!old)
		return true;
	if (!cur)
		return false;
	for (uint32_t i = 0; i < m->n; i++) {
		if (m->old[i] == old)
			return m->cur[i] == cur;
		if (m->cur[i] == cur)
			return false;
	}
	if (m->n == IDMAP_MAX)
		return false;
	m->old[m->n] = old;
	m->cur[m->n++] = cur;
	return true;
}

static bool regsafe(const struct reg *old, const struct reg *cur, struct idmap *m,
		    bool precise, bool exact)
{
	if (old->type == REG_NOT_INIT)
		return true;
	if (cur->type != old->type)
		return false;
	if (old->type == REG_SCALAR && exact)
		return scalar_equal(cur->var, old->var) && ids_match(m, old->id, cur->id) &&
		       old->off == cur->off;
	if (old->type == REG_SCALAR && !precise && !old->id)
		return true;
	if (old->type == REG_SCALAR)
		return scalar_within(cur->var, old->var) && ids_match(m, old->id, cur->id) &&
		       (!old->id || old->off == cur->off);
	if (cur->flags != old->flags || cur->off != old->off || cur->frameno != old->frameno ||
	    cur->map != old->map || cur->mem_size != old->mem_size)
		return false;
	if (reg_is_pkt(old) && cur->range < old->range)
		return false;
	return scalar_within(cur->var, old->var) && ids_match(m, old->id, cur->id) &&
	       ids_match(m, old->ref_obj_id, cur->ref_obj_id);
}

static uint8_t kind_at(const struct frame *f, uint32_t slot, unsigned byte)
{
	return slot < f->nslots ? f->stack[slot].kind[byte] : STACK_INVALID;
}

static bool slot_has_spill(const struct stack_slot *s)
{
	for (unsigned b = 0; b < SLOT_SIZE; b++)
		if (s->kind[b] == STACK_SPILL)
			return true;
	return false;
}

/*
 * Does a byte of this kind in old ask anything of cur's byte?  Reading an
 * uninitialised one gives what a misc one does.
 */
static bool byte_constrains(uint8_t kind, bool allow_uninit_stack)
{
	return kind != STACK_INVALID && !(kind == STACK_MISC && allow_uninit_stack);
}

uint64_t frame_constrained_slots(const struct frame *f, bool allow_uninit_stack)
{
	uint64_t slots = 0;

	for (uint32_t i = 0; i < f->nslots; i++)
		for (unsigned b = 0; b < SLOT_SIZE; b++)
			if (byte_constrains(f->stack[i].kind[b], allow_uninit_stack))
				slots |= UINT64_C(1) << i;
	return slots;
}

static bool stacksafe(const struct frame *old, const struct frame *cur, uint64_t precise,
		      bool exact, struct idmap *m, bool reads_known, bool allow_uninit_stack)
{
	for (uint32_t i = 0; i < old->nslots; i++) {
		const struct stack_slot *os = &old->stack[i];

		if (reads_known && !(old->read >> i & 1))
			continue;
		for (unsigned b = 0; b < SLOT_SIZE; b++) {
			uint8_t ok = os->kind[b], ck = kind_at(cur, i, b);

			if (!byte_constrains(ok, allow_uninit_stack))
				continue;
			if (ok == STACK_MISC && (ck == STACK_ZERO || ck == STACK_MISC))
				continue;
			if (ok == STACK_MISC && ck == STACK_SPILL &&
			    cur->stack[i].spilled.type == REG_SCALAR)
				continue;
			if (ok != ck)
				return false;
		}
		/* Where old holds part of a register, so does cur (a spill byte matches only one). */
		if (slot_has_spill(os) &&
		    !regsafe(&os->spilled, &cur->stack[i].spilled, m, precise >> i & 1, exact))
			return false;
	}
	return true;
}

bool vstate_within(const struct vstate *cur, const struct vstate *old,
		   const struct prune_masks *masks, bool reads_known, bool allow_uninit_stack)
{
	static __thread struct idmap m;

	if (cur->curframe != old->curframe || cur->nrefs != old->nrefs)
		return false;
	m.n = 0;
	for (uint32_t fr = 0; fr <= old->curframe; fr++) {
		const struct frame *of = old->frames[fr], *cf = cur->frames[fr];

		if (of->callsite != cf->callsite || of->subprog != cf->subprog ||
		    of->callback_helper != cf->callback_helper)
			return false;
		for (unsigned r = 0; r < SLUICE_MAX_REG; r++)
			if ((masks->live[fr] >> r & 1) &&
			    !regsafe(&of->regs[r], &cf->regs[r], &m, masks->precise[fr] >> r & 1,
				     masks->exact_scalars))
				return false;
		if (!stacksafe(of, cf, masks->precise_slots[fr], masks->exact_scalars, &m,
			       reads_known, allow_uninit_stack))
			return false;
	}
	for (uint32_t i = 0; i < old->nrefs; i++) {
		bool found = false;

		for (uint32_t j = 0; j < cur->nrefs && !found; j++)
			found = ids_match(&m, old->refs[i], cur->refs[j]);
		if (!found)
			return false;
	}
	return true;
}

bool vstate_equal(const struct vstate *a, const struct vstate *b)
{
	struct prune_masks all;

	memset(&all, 0xff, sizeof(all));
	all.exact_scalars = false;
	return vstate_within(a, b, &all, false, false) && vstate_within(b, a, &all, false, false);
}
