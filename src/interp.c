/* SPDX-License-Identifier: MIT */
/*
 * The interpreter.  sluice_vm_new translates each instruction into a
 * `struct tinsn` holding the address of its handler (direct threading), so
 * running a program is a chain of indirect jumps with no decode step and no
 * central switch.  The loop itself lives in interp_loop.h and is compiled
 * three times with different strategies:
 *
 *   interp_fast     no checks beyond what the ISA defines, no counting
 *   interp_budget   counts instructions and stops at the budget (if any)
 *   interp_checked  also tests every memory access against the run's regions
 */
#include <errno.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/interp.h>

#include "errmsg.h"
#include "helpers.h"
#include "insn.h"

/* A translated instruction: the fields of sluice_insn plus its handler. */
struct tinsn {
	const void *handler;
	int32_t imm;
	int16_t off;
	uint8_t dst;
	uint8_t src;
};

/* Handler slots after the ISA's own: what runs when control leaves the code. */
enum { LABEL_FELL_OFF = OP__COUNT, LABEL_NOT_INSN, LABEL__COUNT };

struct interp_frame {
	const struct tinsn *ret;
	uint64_t callee_saved[4]; /* r6..r9 */
};

/* Everything one run needs beside the registers, on the caller's stack. */
struct interp_state {
	struct sluice_exec *exec;
	struct sluice_error *err;
	struct sluice_run run;
	uint64_t r0;
	uint64_t executed;
	struct interp_frame frames[SLUICE_MAX_CALL_FRAMES];
	alignas(16) uint8_t stack[SLUICE_MAX_CALL_FRAMES * SLUICE_STACK_SIZE];
};

struct sluice_vm;
typedef int (*interp_loop_fn)(const struct sluice_vm *vm,
			      struct interp_state *st,
			      const void *const **labels,
			      const void *const **fused);

struct sluice_vm {
	struct tinsn *code; /* one per slot, plus one that catches a fall-through */
	size_t count;
	const void *not_insn; /* the handler of an lddw's second half */
	sluice_helper_fn *helper_fns; /* indexed by id, helper_limit of them */
	uint32_t helper_limit;
	uint64_t budget;
	bool checked;
	interp_loop_fn loop;
};

/*
 * Checked mode: an access must lie wholly inside one region given to the
 * run, or inside the stack frames that are live (the current one and its
 * callers'; a callee may write through a pointer into its caller's frame).
 */
static bool access_ok(const struct interp_state *st, unsigned depth,
		      uint64_t addr, unsigned size, bool write)
{
	uint64_t stack_top = (uintptr_t)st->stack + sizeof(st->stack);
	uint64_t stack_lo = stack_top - (uint64_t)(depth + 1) * SLUICE_STACK_SIZE;

	if (addr + size < addr)
		return false;
	if (addr >= stack_lo && addr + size <= stack_top)
		return true;
	for (size_t i = 0; i < st->exec->nregions; i++) {
		const struct sluice_region *r = &st->exec->regions[i];
		uint64_t base = (uintptr_t)r->base;

		if (addr >= base && addr + size <= base + r->size)
			return !write || r->writable;
	}
	return st->exec->allows && st->exec->allows(st->exec->user, addr, size, write);
}

static const char *region_name(const struct sluice_region *r)
{
	return r->name ? r->name : "region";
}

/*
 * Say where a stray access went relative to the nearest region, which is
 * what a person debugging a missing bounds check wants to know.
 */
static int fault(struct interp_state *st, size_t pc, uint64_t addr,
		 unsigned size, bool write)
{
	const char *kind = write ? "store" : "load";
	const struct sluice_region *near = NULL;
	uint64_t best = UINT64_MAX;

	for (size_t i = 0; i < st->exec->nregions; i++) {
		const struct sluice_region *r = &st->exec->regions[i];
		uint64_t base = (uintptr_t)r->base, end = base + r->size;
		uint64_t dist = addr < base ? base - addr : addr + size > end ? addr + size - end : 0;

		if (!dist)
			return sluice_fail(st->err, EFAULT,
					   "pc %zu: %u-byte store to read-only %s at offset %llu",
					   pc, size, region_name(r),
					   (unsigned long long)(addr - base));
		if (dist < best) {
			best = dist;
			near = r;
		}
	}
	if (near && best <= 4096) {
		uint64_t base = (uintptr_t)near->base;

		if (addr < base)
			return sluice_fail(st->err, EFAULT,
					   "pc %zu: out-of-bounds %u-byte %s at 0x%llx, %llu byte%s before %s (size %llu)",
					   pc, size, kind, (unsigned long long)addr,
					   (unsigned long long)(base - addr),
					   base - addr == 1 ? "" : "s", region_name(near),
					   (unsigned long long)near->size);
		return sluice_fail(st->err, EFAULT,
				   "pc %zu: out-of-bounds %u-byte %s at 0x%llx, offset %llu of %s (size %llu)",
				   pc, size, kind, (unsigned long long)addr,
				   (unsigned long long)(addr - base), region_name(near),
				   (unsigned long long)near->size);
	}
	return sluice_fail(st->err, EFAULT,
			   "pc %zu: out-of-bounds %u-byte %s at 0x%llx", pc, size,
			   kind, (unsigned long long)addr);
}

/*
 * Unaligned and type-punned accesses are legal in BPF; memcpy with a
 * constant size compiles to one mov and keeps the C side defined.
 */
#define DEFINE_MEM_ACCESS(bits)                                              \
	static inline uint64_t load##bits(uint64_t addr)                     \
	{                                                                    \
		uint##bits##_t v;                                            \
		memcpy(&v, (const void *)(uintptr_t)addr, sizeof(v));        \
		return v;                                                    \
	}                                                                    \
	static inline void store##bits(uint64_t addr, uint64_t v)            \
	{                                                                    \
		uint##bits##_t narrow = (uint##bits##_t)v;                   \
		memcpy((void *)(uintptr_t)addr, &narrow, sizeof(narrow));    \
	}
DEFINE_MEM_ACCESS(8)
DEFINE_MEM_ACCESS(16)
DEFINE_MEM_ACCESS(32)
DEFINE_MEM_ACCESS(64)

/* Network byte order, for the legacy packet loads. */
static inline uint64_t load_be(const uint8_t *p, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes; i++)
		v = v << 8 | p[i];
	return v;
}

#define INTERP_NAME interp_fast
#define INTERP_CHECKED 0
#define INTERP_BUDGET 0
#include "interp_loop.h"

#define INTERP_NAME interp_budget
#define INTERP_CHECKED 0
#define INTERP_BUDGET 1
#include "interp_loop.h"

#define INTERP_NAME interp_checked
#define INTERP_CHECKED 1
#define INTERP_BUDGET 1
#include "interp_loop.h"

/*
 * Give `mov rD, rS` the fused handler of the operation after it when that
 * operation works on rD at the same width (see interp_loop.h).  A register
 * source equal to rD would have to see the moved value; such pairs stay apart.
 */
static void fuse_moves(struct sluice_vm *vm, const struct sluice_insn *insns,
		       size_t count, const void *const *fused)
{
	for (size_t pc = 0; pc + 1 < count; pc++) {
		const struct sluice_insn *mov = &insns[pc], *next = &insns[pc + 1];
		int op = insn_lookup(mov), next_op = insn_lookup(next);

		if ((op != OP_MOV64_REG && op != OP_MOV32_REG) || !fused[next_op] ||
		    insn_is_wide(op) != insn_is_wide(next_op) || next->dst != mov->dst ||
		    (insn_table[next_op].shape == SHAPE_ALU_REG && next->src == mov->dst))
			continue;
		vm->code[pc].handler = fused[next_op];
	}
}

static int resolve_references(struct sluice_vm *vm, const struct sluice_insn *insns,
			   size_t count, const struct sluice_helpers *helpers,
			   struct sluice_error *err)
{
	uint32_t limit = helpers_id_limit(helpers);

	for (size_t pc = 0; pc < count; pc += sluice_insn_slots(&insns[pc])) {
		int ret = helpers_check_runnable(helpers, &insns[pc], pc, err);

		if (ret)
			return ret;
	}
	if (!limit)
		return 0;
	vm->helper_fns = calloc(limit, sizeof(*vm->helper_fns));
	if (!vm->helper_fns)
		return sluice_fail(err, ENOMEM, "out of memory");
	for (uint32_t id = 0; id < limit; id++)
		vm->helper_fns[id] = sluice_helpers_fn(helpers, id);
	vm->helper_limit = limit;
	return 0;
}

struct sluice_vm *sluice_vm_new(const struct sluice_insn *insns, size_t count,
				const struct sluice_vm_opts *opts,
				struct sluice_error *err)
{
	const void *const *labels, *const *fused;
	struct sluice_vm *vm;

	if (!opts || opts->sz < sizeof(struct sluice_vm_opts)) {
		sluice_fail(err, EINVAL, "sluice_vm_opts: bad size");
		return NULL;
	}
	if (sluice_insns_check(insns, count, err))
		return NULL;
	vm = calloc(1, sizeof(*vm));
	if (!vm || !(vm->code = calloc(count + 1, sizeof(*vm->code)))) {
		sluice_fail(err, ENOMEM, "out of memory");
		free(vm);
		return NULL;
	}
	vm->count = count;
	vm->checked = opts->checked;
	vm->budget = opts->insn_budget ? opts->insn_budget : UINT64_MAX;
	if (opts->checked)
		vm->loop = interp_checked;
	else if (opts->insn_budget || opts->count)
		vm->loop = interp_budget;
	else
		vm->loop = interp_fast;
	if (resolve_references(vm, insns, count, opts->helpers, err)) {
		sluice_vm_free(vm);
		return NULL;
	}

	vm->loop(NULL, NULL, &labels, &fused);
	for (size_t pc = 0; pc < count; pc++) {
		const struct sluice_insn *insn = &insns[pc];
		struct tinsn *t = &vm->code[pc];

		t->handler = labels[insn_lookup(insn)];
		t->dst = insn->dst;
		t->src = insn->src;
		t->off = insn->off;
		t->imm = insn->imm;
		if (sluice_insn_slots(insn) == 2) {
			/* the upper half keeps its immediate for lddw to read */
			pc++;
			vm->code[pc].imm = insns[pc].imm;
			vm->code[pc].handler = labels[LABEL_NOT_INSN];
		}
	}
	vm->code[count].handler = labels[LABEL_FELL_OFF];
	vm->not_insn = labels[LABEL_NOT_INSN];
	if (fused)
		fuse_moves(vm, insns, count, fused);
	return vm;
}

void sluice_vm_free(struct sluice_vm *vm)
{
	if (!vm)
		return;
	free(vm->code);
	free(vm->helper_fns);
	free(vm);
}

int sluice_vm_exec(struct sluice_vm *vm, struct sluice_exec *exec,
		   uint64_t *r0, struct sluice_error *err)
{
	struct interp_state st;
	int ret;

	if (!exec || exec->sz < sizeof(struct sluice_exec))
		return sluice_fail(err, EINVAL, "sluice_exec: bad size");
	if (exec->entry >= vm->count || vm->code[exec->entry].handler == vm->not_insn)
		return sluice_fail(err, EINVAL, "entry %zu is not an instruction of the program",
				   exec->entry);
	st.exec = exec;
	st.err = err;
	st.run = (struct sluice_run){ .user = exec->user };
	st.executed = 0;
	/* Checked runs must be reproducible even when a program reads stack it never wrote. */
	if (vm->checked)
		memset(st.stack, 0, sizeof(st.stack));
	exec->stack = st.stack;
	exec->stack_size = sizeof(st.stack);
	ret = vm->loop(vm, &st, NULL, NULL);
	exec->stack = NULL;
	exec->stack_size = 0;
	exec->executed = st.executed;
	if (!ret)
		*r0 = st.r0;
	return ret;
}
