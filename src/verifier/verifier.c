/* SPDX-License-Identifier: MIT */
/*
 * The exploration (the kernel's do_check): one path at a time, depth
 * first, with the other side of every undecided branch pushed on a stack
 * for later.  Each instruction is checked against the abstract state and
 * transforms it; the path ends at the main program's exit, at an error,
 * or at a checkpoint whose earlier, fully explored state covers the
 * current one (pruning, see is_state_visited).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bpf.h>

#include "env.h"
#include "errmsg.h"

#define MAX_PENDING 8192 /* the kernel's BPF_COMPLEXITY_LIMIT_JMP_SEQ */

uint32_t new_id(struct verifier *v)
{
	return ++v->id_gen;
}

void tie_scalar_copy(struct verifier *v, struct reg *r)
{
	if (r->type == REG_SCALAR && !r->id && !scalar_is_const(r->var))
		r->id = new_id(v);
}

int push_branch(struct verifier *v, uint32_t target, struct vstate **copy)
{
	struct vstate *st;

	if (v->nstack >= MAX_PENDING)
		return verr(v, "The sequence of %d jumps is too complex.", MAX_PENDING);
	if (v->nstack == v->capstack) {
		size_t cap = v->capstack ? v->capstack * 2 : 64;
		struct pending *stack = realloc(v->stack, cap * sizeof(*stack));

		if (!stack)
			return -ENOMEM;
		v->stack = stack;
		v->capstack = cap;
	}
	st = vstate_copy(v->cur);
	if (!st)
		return -ENOMEM;
	if (st->parent)
		st->parent->branches++;
	v->stack[v->nstack++] = (struct pending){ st, target, v->pc };
	if (copy)
		*copy = st;
	return 0;
}

/*
 * The path of st is done (or abandoned): checkpoints all of whose paths
 * are done become usable for pruning, or are freed when detached.
 */
static void drop_path(struct verifier *v, struct vstate *st)
{
	struct vstate *p = st->parent, *up;

	vstate_free(st);
	for (; p && !--p->branches; p = up) {
		up = p->parent;
		if (p->detached) {
			vstate_free(p);
			v->cur_states--;
		}
	}
}

static void path_done(struct verifier *v)
{
	drop_path(v, v->cur);
	v->cur = NULL;
}

static bool pop_branch(struct verifier *v, uint32_t *from)
{
	if (!v->nstack)
		return false;
	v->nstack--;
	v->cur = v->stack[v->nstack].st;
	v->pc = v->stack[v->nstack].pc;
	*from = v->stack[v->nstack].from;
	return true;
}

/* ---- ALU ------------------------------------------------------------- */

struct alu_name {
	const char *mnemonic;
	enum scalar_op op;
};

static const struct alu_name alu_names[] = {
	{ "add", SCALAR_ADD }, { "sub", SCALAR_SUB }, { "mul", SCALAR_MUL },
	{ "div", SCALAR_DIV }, { "sdiv", SCALAR_SDIV }, { "mod", SCALAR_MOD },
	{ "smod", SCALAR_SMOD }, { "or", SCALAR_OR }, { "and", SCALAR_AND },
	{ "xor", SCALAR_XOR }, { "lsh", SCALAR_LSH }, { "rsh", SCALAR_RSH },
	{ "arsh", SCALAR_ARSH }, { "mov", SCALAR_MOV },
};

/*
 * By instruction, read off the ISA table once per process: its enum
 * scalar_op and enum scalar_cmp ("add32" and "add" alike), or -1.
 */
static int8_t alu_of[OP__COUNT], cmp_of_op[OP__COUNT];
static pthread_once_t op_tables_once = PTHREAD_ONCE_INIT;

/* The field of the entry of names whose mnemonic is m's first len bytes, or -1. */
#define FIND_NAME(names, m, len, field)                                                  \
	({                                                                               \
		int found_ = -1;                                                         \
		for (size_t i_ = 0; i_ < sizeof(names) / sizeof(names[0]); i_++)       \
			if (strlen(names[i_].mnemonic) == (len) &&                       \
			    !strncmp(names[i_].mnemonic, (m), (len)))                    \
				found_ = (int)names[i_].field;                           \
		found_;                                                                  \
	})

static bool is_movsx(enum insn_op op)
{
	return op == OP_MOVSX8_32 || op == OP_MOVSX16_32 || op == OP_MOVSX8_64 ||
	       op == OP_MOVSX16_64 || op == OP_MOVSX32_64;
}

static void unlink_scalar(struct reg *r)
{
	r->id = 0;
	r->off = 0;
}

/*
 * rX += K (or -= K) on a copy keeps it tied to the others, K apart (the
 * kernel's BPF_ADD_CONST): a later comparison of either bounds both.  Only
 * one constant per copy, and only for 64-bit operations, as the kernel.
 */
static bool keeps_link(struct verifier *v, enum scalar_op sop, struct reg *dst,
		       const struct reg *src, unsigned width)
{
	int64_t k = (int64_t)src->var.t.value;

	if (!v->bpf_capable || !dst->id || dst->off || width != 64 ||
	    (sop != SCALAR_ADD && sop != SCALAR_SUB) || !scalar_is_const(src->var) ||
	    k != (int32_t)k || (sop == SCALAR_SUB && k == INT32_MIN))
		return false;
	dst->off = (int32_t)(sop == SCALAR_SUB ? -k : k);
	return true;
}

static int check_unary(struct verifier *v, const struct sluice_insn *insn, enum insn_op op,
		       unsigned width)
{
	struct reg *dst = &cur_regs(v)[insn->dst];
	const char *m = insn_table[op].mnemonic;

	if (reg_is_pointer(dst)) {
		if (!v->allow_ptr_leaks)
			return verr(v, "R%d pointer arithmetic prohibited", insn->dst);
		reg_mark_unknown(dst);
		return 0;
	}
	if (!strncmp(m, "neg", 3))
		dst->var = scalar_neg(dst->var, width);
	else if (!strncmp(m, "le", 2))
		dst->var = scalar_trunc(dst->var, (unsigned)insn->imm);
	else
		dst->var = scalar_bswap(dst->var, (unsigned)insn->imm);
	unlink_scalar(dst);
	return 0;
}

static int check_mov(struct verifier *v, const struct sluice_insn *insn, enum insn_op op,
		     unsigned width)
{
	struct reg *regs = cur_regs(v), *dst = &regs[insn->dst], *src = &regs[insn->src];

	if (insn_table[op].shape == SHAPE_ALU_IMM) {
		reg_mark_const(dst, width == 64 ? (uint64_t)(int64_t)insn->imm : (uint32_t)insn->imm);
		return 0;
	}
	if (reg_is_pointer(src) && (width == 32 || is_movsx(op))) {
		if (!v->allow_ptr_leaks)
			return verr(v, is_movsx(op) ? "R%d sign-extension part of pointer"
						    : "R%d partial copy of pointer",
				    insn->src);
		/* Some number; a 32-bit operation still zero-extends it. */
		reg_mark_unknown(dst);
		dst->var = scalar_trunc(scalar_unknown(), width);
		return 0;
	}
	if (is_movsx(op)) {
		struct scalar s = scalar_movsx(src->var, (unsigned)insn->off, width);

		reg_mark_unknown(dst);
		dst->var = s;
		return 0;
	}
	if (width == 32) {
		struct scalar s = scalar_trunc(src->var, 32);

		reg_mark_unknown(dst);
		dst->var = s;
		return 0;
	}
	tie_scalar_copy(v, src);
	*dst = *src;
	return 0;
}

/*
 * Whether the kernel computes the result's bounds (its
 * is_safe_to_compute_dst_reg_range): not for division and modulo, and for
 * shifts only by a known amount below the width.  Elsewhere the result is
 * any 64-bit number, even of a 32-bit operation.  bounds.c could do better;
 * programs the kernel refuses for want of those bounds are refused here too.
 */
static bool kernel_tracks(enum scalar_op sop, const struct reg *src, unsigned width)
{
	switch (sop) {
	case SCALAR_DIV: case SCALAR_SDIV: case SCALAR_MOD: case SCALAR_SMOD:
		return false;
	case SCALAR_LSH: case SCALAR_RSH: case SCALAR_ARSH:
		/* As the kernel: the amount's width-bit part known, and all 64 bits below the width. */
		return (src->var.t.mask & (width == 64 ? UINT64_MAX : UINT32_MAX)) == 0 &&
		       src->var.r64.umax < width;
	default:
		return true;
	}
}

static int check_alu(struct verifier *v, const struct sluice_insn *insn, enum insn_op op)
{
	enum insn_shape shape = insn_table[op].shape;
	unsigned width = insn_is_wide(op) ? 64 : 32;
	struct reg *regs = cur_regs(v), *dst = &regs[insn->dst];
	struct reg imm_reg;
	const struct reg *src;
	enum scalar_op sop;

	if (shape == SHAPE_ALU_REG && regs[insn->src].type == REG_NOT_INIT)
		return verr(v, "R%d !read_ok", insn->src);
	if (insn->dst == SLUICE_MAX_REG)
		return verr(v, "frame pointer is read only");
	if (shape == SHAPE_ALU_UNARY) {
		if (dst->type == REG_NOT_INIT)
			return verr(v, "R%d !read_ok", insn->dst);
		return check_unary(v, insn, op, width);
	}
	if (is_movsx(op))
		return check_mov(v, insn, op, width);
	if (alu_of[op] < 0)
		return verr(v, "unknown opcode %02x", insn->code);
	sop = (enum scalar_op)alu_of[op];
	if (sop == SCALAR_MOV)
		return check_mov(v, insn, op, width);
	if (dst->type == REG_NOT_INIT)
		return verr(v, "R%d !read_ok", insn->dst);
	if (shape == SHAPE_ALU_IMM) {
		if ((sop == SCALAR_LSH || sop == SCALAR_RSH || sop == SCALAR_ARSH) &&
		    (insn->imm < 0 || (unsigned)insn->imm >= width))
			return verr(v, "invalid shift %d", insn->imm);
		if ((sop == SCALAR_DIV || sop == SCALAR_SDIV || sop == SCALAR_MOD ||
		     sop == SCALAR_SMOD) && insn->imm == 0)
			return verr(v, "div by zero");
		reg_mark_const(&imm_reg, (uint64_t)(int64_t)insn->imm);
		src = &imm_reg;
	} else {
		src = &regs[insn->src];
	}
	if (reg_is_pointer(dst) || reg_is_pointer(src)) {
		/* The offset a pointer moves by decides where it can reach. */
		if (dst->type == REG_SCALAR)
			need_seed(v, v->pc, insn->dst);
		if (shape == SHAPE_ALU_REG && src->type == REG_SCALAR)
			need_seed(v, v->pc, insn->src);
		return check_pointer_alu(v, op, sop, dst, src, insn->dst);
	}
	if (kernel_tracks(sop, src, width))
		dst->var = scalar_alu(sop, dst->var, src->var, width);
	else
		dst->var = scalar_unknown();
	if (!keeps_link(v, sop, dst, src, width))
		unlink_scalar(dst);
	return 0;
}

/* ---- Loads, stores, atomics, lddw, legacy packet loads --------------- */

static int check_load(struct verifier *v, const struct sluice_insn *insn, enum insn_op op)
{
	bool sign_extend = op == OP_LDXSW || op == OP_LDXSH || op == OP_LDXSB;

	if (insn->dst == SLUICE_MAX_REG)
		return verr(v, "frame pointer is read only");
	return check_mem_access(v, insn->src, insn->off, insn_access_size(op), false, insn->dst,
				NULL, sign_extend);
}

static int check_store(struct verifier *v, const struct sluice_insn *insn, enum insn_op op)
{
	if (insn_table[op].shape == SHAPE_STORE_REG) {
		if (cur_regs(v)[insn->src].type == REG_NOT_INIT)
			return verr(v, "R%d !read_ok", insn->src);
		/* precision.c follows stores through r10; others may land in any slot. */
		if (cur_regs(v)[insn->dst].type == REG_STACK && insn->dst != SLUICE_MAX_REG)
			need_seed(v, v->pc, insn->src);
		return check_mem_access(v, insn->dst, insn->off, insn_access_size(op), true,
					insn->src, NULL, false);
	}
	return check_mem_access(v, insn->dst, insn->off, insn_access_size(op), true, -1,
				&insn->imm, false);
}

static int check_atomic(struct verifier *v, const struct sluice_insn *insn, enum insn_op op)
{
	struct reg *regs = cur_regs(v), *base = &regs[insn->dst];
	bool cmpxchg = op == OP_ATOMIC32_CMPXCHG || op == OP_ATOMIC64_CMPXCHG;
	bool fetch = insn->imm & 1 || op == OP_ATOMIC32_XCHG || op == OP_ATOMIC64_XCHG;
	unsigned size = insn_access_size(op);
	int load_reg = cmpxchg ? 0 : insn->src;
	int ret;

	if (regs[insn->src].type == REG_NOT_INIT)
		return verr(v, "R%d !read_ok", insn->src);
	if (base->type == REG_NOT_INIT)
		return verr(v, "R%d !read_ok", insn->dst);
	if (cmpxchg && regs[0].type == REG_NOT_INIT)
		return verr(v, "R0 !read_ok");
	if (reg_is_pointer(&regs[insn->src]) && !v->allow_ptr_leaks)
		return verr(v, "R%d leaks addr into mem", insn->src);
	if (base->type == REG_CTX || reg_is_pkt(base) || base->type == REG_FLOW_KEYS ||
	    base->type == REG_SOCKET || base->type == REG_SOCK_COMMON || base->type == REG_TCP_SOCK)
		return verr(v, "BPF_ATOMIC stores into R%d %s is not allowed", insn->dst,
			    reg_type_name(base));
	if (base->type == REG_STACK) {
		need_seed(v, v->pc, insn->src);
		if (cmpxchg)
			need_seed(v, v->pc, 0);
	}
	ret = check_alignment(v, insn->dst, insn->off, size, true);
	if (!ret)
		ret = check_mem_access(v, insn->dst, insn->off, size, false, -1, NULL, false);
	if (!ret)
		ret = check_mem_access(v, insn->dst, insn->off, size, true, -1, NULL, false);
	if (ret || !(fetch || cmpxchg))
		return ret;
	reg_mark_unknown(&regs[load_reg]);
	regs[load_reg].var = scalar_trunc(scalar_unknown(), size * 8);
	return 0;
}

static int check_lddw(struct verifier *v, const struct sluice_insn *insn, enum insn_op op)
{
	struct reg *dst = &cur_regs(v)[insn->dst];
	uint64_t imm = (uint32_t)insn[0].imm | (uint64_t)(uint32_t)insn[1].imm << 32;
	uint32_t index = (uint32_t)insn->imm;

	if (insn->dst == SLUICE_MAX_REG)
		return verr(v, "frame pointer is read only");
	switch (op) {
	case OP_LDDW:
		reg_mark_const(dst, imm);
		break;
	case OP_LDDW_MAP_FD:
	case OP_LDDW_MAP_IDX:
	case OP_LDDW_MAP_VALUE:
	case OP_LDDW_MAP_IDX_VALUE:
		if (index >= v->opts->nmaps || !v->opts->maps[index])
			return verr(v, "fd %d is not pointing to valid bpf_map", insn->imm);
		if (op == OP_LDDW_MAP_FD || op == OP_LDDW_MAP_IDX) {
			reg_mark_pointer(dst, REG_MAP_PTR);
		} else {
			const struct sluice_map_def *m = map_of(v, index);
			uint32_t off = (uint32_t)insn[1].imm;

			if (m->type != BPF_MAP_TYPE_ARRAY)
				return verr(v, "no direct value access support for this map type");
			if (m->max_entries != 1)
				return verr(v, "direct value offset of %u is not allowed", off);
			if (off >= m->value_size)
				return verr(v, "invalid access to map value pointer, value_size=%u off=%u",
					    m->value_size, off);
			reg_mark_pointer(dst, REG_MAP_VALUE);
			dst->off = (int32_t)off;
		}
		dst->map = index;
		break;
	case OP_LDDW_FUNC:
		reg_mark_pointer(dst, REG_FUNC);
		dst->map = v->aux[v->pc + insn->imm + 1].subprog;
		break;
	default:
		reg_mark_pointer(dst, REG_BTF_ID);
		break;
	}
	v->pc += 2;
	return 0;
}

static int check_ld_abs(struct verifier *v, const struct sluice_insn *insn, enum insn_op op)
{
	struct reg *regs = cur_regs(v);
	uint32_t t = v->opts->prog_type;

	if (t != BPF_PROG_TYPE_SOCKET_FILTER && t != BPF_PROG_TYPE_SCHED_CLS &&
	    t != BPF_PROG_TYPE_SCHED_ACT)
		return verr(v, "BPF_LD_[ABS|IND] instructions not allowed for this program type");
	if (v->cur->nrefs)
		return verr(v, "BPF_LD_[ABS|IND] cannot be mixed with socket references");
	if (regs[6].type != REG_CTX)
		return verr(v, "at the time of BPF_LD_ABS|IND R6 != pointer to skb");
	if (insn_table[op].shape == SHAPE_LDIND && regs[insn->src].type == REG_NOT_INIT)
		return verr(v, "R%d !read_ok", insn->src);
	for (int r = 1; r <= 5; r++)
		reg_mark_not_init(&regs[r]);
	reg_mark_unknown(&regs[0]);
	regs[0].var = scalar_trunc(scalar_unknown(), insn_access_size(op) * 8);
	return 0;
}

/* ---- Conditional jumps ----------------------------------------------- */

struct cmp_name {
	const char *mnemonic;
	enum scalar_cmp cmp;
};

static const struct cmp_name cmp_names[] = {
	{ "jeq", CMP_EQ }, { "jne", CMP_NE }, { "jset", CMP_SET },
	{ "jgt", CMP_GT }, { "jge", CMP_GE }, { "jlt", CMP_LT }, { "jle", CMP_LE },
	{ "jsgt", CMP_SGT }, { "jsge", CMP_SGE }, { "jslt", CMP_SLT }, { "jsle", CMP_SLE },
};


/* Fills alu_of and cmp_of_op (the tables come before the functions that use them). */
static void build_op_tables(void)
{
	for (int op = 0; op < OP__COUNT; op++) {
		const char *m = insn_table[op].mnemonic;
		size_t len = strlen(m);

		if (len > 2 && !strcmp(m + len - 2, "32"))
			len -= 2;
		alu_of[op] = (int8_t)FIND_NAME(alu_names, m, len, op);
		cmp_of_op[op] = (int8_t)FIND_NAME(cmp_names, m, len, cmp);
	}
}

static enum scalar_cmp cmp_of(enum insn_op op)
{
	return (enum scalar_cmp)cmp_of_op[op];
}

/*
 * Every register tied to r by a shared id learns what r learned, shifted
 * by the constant between them (the kernel's sync_linked_regs).
 */
static void set_scalar(struct vstate *st, struct reg *r, struct scalar s)
{
	uint32_t id = r->id;
	int32_t off = r->off;

	r->var = s;
	if (!id)
		return;
	VSTATE_FOR_EACH_REG(st, other, {
		if (other->type != REG_SCALAR || other->id != id)
			continue;
		other->var = other->off == off
				     ? s
				     : scalar_alu(SCALAR_ADD, s,
						  scalar_const((uint64_t)((int64_t)other->off - off)), 64);
	})
}

/* The registers of st that correspond to dst and src of the instruction. */
static struct reg *reg_in(struct vstate *st, unsigned regno)
{
	return &st->frames[st->curframe]->regs[regno];
}

/* A null check settled: every copy of the pointer (same id) is null or not. */
static void mark_null_checked(struct vstate *st, uint32_t id, bool is_null)
{
	VSTATE_FOR_EACH_REG(st, r, {
		if (r->id != id || !(r->flags & REG_MAYBE_NULL))
			continue;
		if (is_null) {
			reg_mark_const(r, 0);
		} else {
			r->flags &= (uint8_t)~REG_MAYBE_NULL;
			/* Only the reference needs tracking from here on. */
			if (r->type != REG_MAP_PTR)
				r->id = 0;
		}
	})
}

static void null_branch(struct vstate *st, uint32_t id, uint32_t ref, bool is_null)
{
	mark_null_checked(st, id, is_null);
	if (is_null && ref)
		vstate_release_ref(st, ref);
}

/*
 * pkt (+off) compared with the end: on the edge where pkt + off <= end
 * (or <, right_open), off bytes (off + 1) from every pointer sharing pkt's
 * variable part are in the packet (find_good_pkt_pointers).
 */
static void pkt_range_learned(struct vstate *st, const struct reg *pkt, bool right_open)
{
	uint32_t range;

	if (pkt->off < 0 || (pkt->off == 0 && right_open))
		return;
	if (pkt->var.r64.umax > MAX_PACKET_OFF || pkt->var.r64.umax + (uint64_t)pkt->off > MAX_PACKET_OFF)
		return;
	range = (uint32_t)pkt->off + right_open;
	VSTATE_FOR_EACH_REG(st, r, {
		if (r->type == pkt->type && r->id == pkt->id && r->range < range)
			r->range = range;
	})
}

/*
 * Which edge of "pkt <cmp> end" (pkt_is_dst) or "end <cmp> pkt" shows that
 * pkt lies below the end: 1 the taken edge, 0 the fall-through; *open when
 * the comparison is strict (pkt < end).
 */
static int pkt_safe_edge(enum scalar_cmp cmp, bool pkt_is_dst, bool *open)
{
	switch (cmp) {
	case CMP_GT: *open = !pkt_is_dst; return !pkt_is_dst;
	case CMP_GE: *open = pkt_is_dst; return !pkt_is_dst;
	case CMP_LT: *open = pkt_is_dst; return pkt_is_dst;
	case CMP_LE: *open = !pkt_is_dst; return pkt_is_dst;
	default: return -1;
	}
}

/* The pointer kinds that compare with each other to bound packet access. */
static bool pkt_pair(const struct reg *pkt, const struct reg *end)
{
	return (pkt->type == REG_PKT && end->type == REG_PKT_END) ||
	       (pkt->type == REG_PKT_META && end->type == REG_PKT);
}

static bool never_null(const struct reg *r)
{
	if (r->flags & REG_MAYBE_NULL)
		return false;
	return r->type == REG_SOCKET || r->type == REG_TCP_SOCK || r->type == REG_MAP_VALUE ||
	       r->type == REG_SOCK_COMMON || r->type == REG_MEM;
}

static int branch_pointers(struct verifier *v, const struct sluice_insn *insn, enum insn_op op,
			   const struct reg *dst, const struct reg *src, uint32_t target)
{
	enum scalar_cmp cmp = cmp_of(op);
	bool wide = insn_is_wide(op), is_eq = cmp == CMP_EQ || cmp == CMP_NE;
	const struct reg *ptr = reg_is_pointer(dst) ? dst : src;
	const struct reg *other = ptr == dst ? src : dst;
	struct vstate *taken;
	bool open;
	int edge, ret;

	/* A zero that makes this a null check, or settles the branch, must stay zero. */
	if (reg_is_const(other, 0) && insn_table[op].shape == SHAPE_JCOND_REG)
		need_seed(v, v->pc, other == dst ? insn->dst : insn->src);
	if (wide && is_eq && reg_is_const(other, 0) && (ptr->flags & REG_MAYBE_NULL)) {
		uint32_t id = ptr->id, ref = ptr->ref_obj_id;

		ret = push_branch(v, target, &taken);
		if (ret)
			return ret;
		null_branch(taken, id, ref, cmp == CMP_EQ);
		null_branch(v->cur, id, ref, cmp != CMP_EQ);
		v->pc++;
		return 0;
	}
	if (wide && is_eq && reg_is_const(other, 0) && never_null(ptr)) {
		v->pc = cmp == CMP_EQ ? v->pc + 1 : target;
		return 0;
	}
	if (wide && reg_is_pointer(dst) && reg_is_pointer(src) &&
	    (pkt_pair(dst, src) || pkt_pair(src, dst))) {
		bool pkt_is_dst = pkt_pair(dst, src);
		const struct reg *pkt = pkt_is_dst ? dst : src;
		struct reg pkt_copy = *pkt;

		edge = pkt_safe_edge(cmp, pkt_is_dst, &open);
		ret = push_branch(v, target, &taken);
		if (ret)
			return ret;
		if (edge == 1)
			pkt_range_learned(taken, &pkt_copy, open);
		else if (edge == 0)
			pkt_range_learned(v->cur, &pkt_copy, open);
		v->pc++;
		return 0;
	}
	if (!v->allow_ptr_leaks)
		return verr(v, "R%d pointer comparison prohibited", insn->dst);
	ret = push_branch(v, target, NULL);
	if (!ret)
		v->pc++;
	return ret;
}

/*
 * A value that may be a kernel pointer or a number (REG_BTF_ID, see
 * state.h) compared with a number other than by a null check is taken
 * for a number, so that the comparison bounds it.
 */
static void number_if_compared(struct reg *r, const struct reg *other, enum scalar_cmp cmp)
{
	if (r->type != REG_BTF_ID || other->type != REG_SCALAR)
		return;
	if ((cmp == CMP_EQ || cmp == CMP_NE) && reg_is_const(other, 0))
		return;
	reg_mark_unknown(r);
}

static int check_cond_jmp(struct verifier *v, const struct sluice_insn *insn, enum insn_op op)
{
	unsigned width = insn_is_wide(op) ? 64 : 32;
	struct reg *regs = cur_regs(v), *dst = &regs[insn->dst];
	bool has_src = insn_table[op].shape == SHAPE_JCOND_REG;
	uint32_t target = (uint32_t)((int64_t)v->pc + insn->off + 1);
	struct scalar_branch b;
	struct reg imm_reg;
	const struct reg *src;
	struct vstate *taken;
	int ret;

	if (dst->type == REG_NOT_INIT)
		return verr(v, "R%d !read_ok", insn->dst);
	if (has_src) {
		src = &regs[insn->src];
		if (src->type == REG_NOT_INIT)
			return verr(v, "R%d !read_ok", insn->src);
	} else {
		reg_mark_const(&imm_reg, width == 64 ? (uint64_t)(int64_t)insn->imm
						     : (uint32_t)insn->imm);
		src = &imm_reg;
	}
	number_if_compared(dst, src, cmp_of(op));
	if (has_src)
		number_if_compared(&regs[insn->src], dst, cmp_of(op));
	if (reg_is_pointer(dst) || reg_is_pointer(src))
		return branch_pointers(v, insn, op, dst, src, target);

	b = scalar_branch(cmp_of(op), dst->var, src->var, width);
	/*
	 * A branch the numbers decide was explored one way only; a linked
	 * copy learns from the other operand: both must compare exactly.
	 */
	if (scalar_is_bottom(b.taken.dst) || scalar_is_bottom(b.fallthrough.dst) ||
	    (has_src && (dst->id || src->id))) {
		need_seed(v, v->pc, insn->dst);
		if (has_src)
			need_seed(v, v->pc, insn->src);
	}
	if (scalar_is_bottom(b.taken.dst)) {
		set_scalar(v->cur, dst, b.fallthrough.dst);
		if (has_src)
			set_scalar(v->cur, &regs[insn->src], b.fallthrough.src);
		v->pc++;
		return 0;
	}
	if (scalar_is_bottom(b.fallthrough.dst)) {
		set_scalar(v->cur, dst, b.taken.dst);
		if (has_src)
			set_scalar(v->cur, &regs[insn->src], b.taken.src);
		v->pc = target;
		return 0;
	}
	ret = push_branch(v, target, &taken);
	if (ret)
		return ret;
	set_scalar(taken, reg_in(taken, insn->dst), b.taken.dst);
	set_scalar(v->cur, dst, b.fallthrough.dst);
	if (has_src) {
		set_scalar(taken, reg_in(taken, insn->src), b.taken.src);
		set_scalar(v->cur, &regs[insn->src], b.fallthrough.src);
	}
	v->pc++;
	return 0;
}

/* ---- One instruction ------------------------------------------------- */

/* 0: go on at v->pc; 1: the path ended; < 0: refused. */
static int do_insn(struct verifier *v)
{
	const struct sluice_insn *insn = &v->insns[v->pc];
	enum insn_op op = (enum insn_op)v->aux[v->pc].op;
	int64_t target;
	int ret;

	switch ((enum insn_shape)insn_table[op].shape) {
	case SHAPE_ALU_REG:
	case SHAPE_ALU_IMM:
	case SHAPE_ALU_UNARY:
		ret = check_alu(v, insn, op);
		break;
	case SHAPE_LOAD:
		ret = check_load(v, insn, op);
		break;
	case SHAPE_STORE_IMM:
	case SHAPE_STORE_REG:
		ret = check_store(v, insn, op);
		break;
	case SHAPE_ATOMIC:
		ret = check_atomic(v, insn, op);
		break;
	case SHAPE_LDDW:
		return check_lddw(v, insn, op);
	case SHAPE_LDABS:
	case SHAPE_LDIND:
		ret = check_ld_abs(v, insn, op);
		break;
	case SHAPE_JA:
	case SHAPE_JA32:
		insn_branch_target(insn, op, v->pc, &target);
		v->pc = (uint32_t)target;
		return 0;
	case SHAPE_JCOND_IMM:
	case SHAPE_JCOND_REG:
		return check_cond_jmp(v, insn, op);
	case SHAPE_CALL:
		if (op == OP_CALL_KFUNC)
			return verr(v, "calling kernel functions is not supported by this verifier");
		return check_helper_call(v, insn);
	case SHAPE_CALL_LOCAL:
		return check_local_call(v, (uint32_t)(v->pc + insn->imm + 1));
	case SHAPE_CALLX:
		return verr(v, "unknown opcode %02x", insn->code);
	case SHAPE_EXIT:
		return check_exit(v);
	default:
		return verr(v, "unknown opcode %02x", insn->code);
	}
	if (!ret)
		v->pc++;
	return ret;
}

/* ---- Pruning --------------------------------------------------------- */


/*
 * Registers of each frame that what follows may still read (live), and
 * the registers and stack slots whose numbers it may depend on (precise).
 */
static void live_masks(struct verifier *v, uint32_t pc, struct prune_masks *m)
{
	const struct vstate *st = v->cur;

	m->exact_scalars = v->explore_alu_limits;
	m->live[st->curframe] = v->aux[pc].live_in;
	m->precise[st->curframe] = v->aux[pc].need_in;
	m->precise_slots[st->curframe] = v->aux[pc].need_slots_in |
					 v->subprogs[cur_frame(v)->subprog].escaped;
	for (uint32_t fr = 0; fr < st->curframe; fr++) {
		const struct frame *callee = st->frames[fr + 1];
		/* A callback returns to its call, which runs again and reads R1-R5. */
		const struct insn_aux *resume = callee->callback_helper
							? &v->aux[callee->callsite]
							: &v->aux[callee->callsite + 1];
		uint16_t clobbered = callee->callback_helper ? 0 : CALLER_SAVED;

		m->live[fr] = resume->live_in & ~clobbered;
		m->precise[fr] = resume->need_in & ~clobbered;
		m->precise_slots[fr] = resume->need_slots_in |
				       v->subprogs[st->frames[fr]->subprog].escaped;
	}
}

static bool is_ancestor(const struct vstate *old, const struct vstate *cur)
{
	for (const struct vstate *p = cur->parent; p; p = p->parent)
		if (p == old)
			return true;
	return false;
}

/*
 * A loop through a callback converges only if what its runs accumulate
 * stops changing: numbers the callback keeps in its caller's stack (a sum,
 * a counter) would otherwise take a new range every run until the jump
 * limit.  So a number that differs from the one the previous run started
 * with, at the checkpoint on the call, becomes unknown: the next run then
 * starts from the same state and prunes.  As the kernel, only for numbers
 * no pointer arithmetic or helper argument of the caller depends on at
 * the call (a register whose value matters keeps it).
 */
void widen_callback_loop(struct verifier *v, uint32_t callsite)
{
	struct vstate *cur = v->cur;
	const struct vstate *prev = NULL;

	for (const struct vstate *cp = v->aux[callsite].visited; cp && !prev; cp = cp->next_visited)
		if (cp->branches && cp->curframe == cur->curframe && is_ancestor(cp, cur))
			prev = cp;
	if (!prev)
		return;
	for (uint32_t fr = 0; fr <= cur->curframe; fr++) {
		struct frame *f = cur->frames[fr];
		const struct frame *old = prev->frames[fr];
		uint16_t keep = fr == cur->curframe ? v->aux[callsite].need_in : 0;

		for (unsigned r = 0; r <= SLUICE_MAX_REG; r++) {
			struct reg *reg = &f->regs[r];

			if (reg->type == REG_SCALAR && old->regs[r].type == REG_SCALAR &&
			    !(keep & REG_BIT(r)) && !scalar_equal(reg->var, old->regs[r].var)) {
				reg->var = scalar_unknown();
				reg->id = 0;
			}
		}
		for (uint32_t i = 0; i < f->nslots && i < old->nslots; i++) {
			struct reg *spilled = &f->stack[i].spilled;

			if (f->stack[i].kind[0] == STACK_SPILL && old->stack[i].kind[0] == STACK_SPILL &&
			    spilled->type == REG_SCALAR && old->stack[i].spilled.type == REG_SCALAR &&
			    !scalar_equal(spilled->var, old->stack[i].spilled.var)) {
				spilled->var = scalar_unknown();
				spilled->id = 0;
			}
		}
	}
}

/* A scalar id no other register shares ties nothing: drop it so that it cannot block pruning. */
static void drop_lone_ids(struct vstate *st)
{
	VSTATE_FOR_EACH_REG(st, r, {
		if (r->type != REG_SCALAR || !r->id)
			continue;
		unsigned count = 0;
		uint32_t id = r->id;

		VSTATE_FOR_EACH_REG(st, other, {
			if (other->type == REG_SCALAR && other->id == id)
				count++;
		})
		if (count == 1) {
			r->id = 0;
			r->off = 0;
		}
	})
}

/*
 * A checkpoint's ids: nor does the id of a register nothing reads from
 * here on (dead in masks) tie anything, and it would keep another's from
 * looking shared (a number spilled from a register overwritten since).
 */
static void clear_lone_ids(struct vstate *st, const struct prune_masks *masks)
{
	for (uint32_t fr = 0; fr <= st->curframe; fr++)
		for (unsigned r = 0; r < SLUICE_MAX_REG; r++)
			if (!(masks->live[fr] >> r & 1) && st->frames[fr]->regs[r].type == REG_SCALAR)
				unlink_scalar(&st->frames[fr]->regs[r]);
	drop_lone_ids(st);
}

/*
 * Bounds on the work a checkpoint list costs (the kernel has the same
 * kinds): a loop leaves one in-progress checkpoint per turn at its head,
 * and only the latest few are worth comparing for a repeat; a completed
 * checkpoint that keeps failing to prune is dropped.  Past MAX_IN_PROGRESS
 * turns a new checkpoint replaces the oldest in-progress one on the list,
 * but only every LOOP_CHECKPOINT_GAP instructions of the path, as all
 * stay allocated until their paths end: a long loop costs memory by its
 * length over the gap.  Never stopping to take them matters: a loop run
 * again (inside a callback, or an outer loop) starts with a full list,
 * and its branches meet only at checkpoints of its own run.
 */
#define LOOP_CHECK_RECENT 16
#define MAX_IN_PROGRESS 64
#define LOOP_CHECKPOINT_GAP 100

static bool evict(const struct vstate *old)
{
	return old->misses > old->hits * 3 + 3;
}

/*
 * cur goes on as old did, so the checkpoints on its way here learn what
 * old's paths read: what its explored paths did, or, while they are still
 * being explored, any slot whose content old's paths may rely on.
 */
static void inherit_reads(struct verifier *v, const struct vstate *old)
{
	for (uint32_t fr = 0; fr <= old->curframe; fr++) {
		const struct frame *f = old->frames[fr];

		stack_mark_read(v, fr, old->branches
					       ? frame_constrained_slots(f, v->allow_uninit_stack)
					       : f->read);
	}
}

/*
 * Take the in-progress checkpoint at *link off its list: from now on it
 * only counts its paths and passes read marks up, so its stack contents,
 * most of its memory, go now and the rest with its last path.
 */
static void detach(struct vstate **link)
{
	struct vstate *cp = *link;

	*link = cp->next_visited;
	cp->detached = true;
	for (uint32_t fr = 0; fr <= cp->curframe; fr++) {
		free(cp->frames[fr]->stack);
		cp->frames[fr]->stack = NULL;
		cp->frames[fr]->nslots = 0;
	}
}

/* 1: covered by an earlier state, prune; 0: go on (a checkpoint was taken); < 0: refused. */
static int is_state_visited(struct verifier *v, uint32_t pc)
{
	struct insn_aux *aux = &v->aux[pc];
	struct prune_masks masks, all_numbers;
	unsigned in_progress = 0;
	struct vstate **link, **oldest = NULL, *cp;

	live_masks(v, pc, &masks);
	/*
	 * The checkpoints have no lone ids: neither may the current state, or
	 * a path that repeats itself exactly would not be seen as a loop.  (Its
	 * dead registers keep theirs: the stack slots they were spilled to
	 * stay tied to what is loaded from them later.)
	 */
	drop_lone_ids(v->cur);
	/*
	 * Against a checkpoint whose paths are still being explored every
	 * number counts: the seeds its other paths will set are not known yet
	 * (the kernel's RANGE_WITHIN).
	 */
	all_numbers = masks;
	memset(all_numbers.precise, 0xff, sizeof(all_numbers.precise));
	memset(all_numbers.precise_slots, 0xff, sizeof(all_numbers.precise_slots));
	for (link = &aux->visited; *link;) {
		struct vstate *old = *link;

		if (old->branches) {
			if (aux->calls_callback) {
				if (vstate_within(v->cur, old, &all_numbers, false,
						  v->allow_uninit_stack)) {
					inherit_reads(v, old);
					return 1;
				}
			} else {
				if (++in_progress <= LOOP_CHECK_RECENT &&
				    old->callback_runs == v->cur->callback_runs &&
				    vstate_equal(v->cur, old) && is_ancestor(old, v->cur))
					return verr(v, "infinite loop detected at insn %u", pc);
				oldest = link;
			}
			link = &old->next_visited;
			continue;
		}
		if (vstate_within(v->cur, old, &masks, true, v->allow_uninit_stack)) {
			old->hits++;
			inherit_reads(v, old);
			return 1;
		}
		old->misses++;
		if (evict(old)) {
			/* No path goes through a completed checkpoint: nothing points to it any more. */
			*link = old->next_visited;
			vstate_free(old);
			v->cur_states--;
			continue;
		}
		link = &old->next_visited;
	}
	if (in_progress >= MAX_IN_PROGRESS) {
		struct vstate *last = v->cur->parent;

		if (last && v->insns_processed - last->taken_at < LOOP_CHECKPOINT_GAP)
			return 0;
		detach(oldest);
	}
	cp = vstate_copy(v->cur);
	if (!cp)
		return -ENOMEM;
	clear_lone_ids(cp, &masks);
	cp->pc = pc;
	cp->taken_at = v->insns_processed;
	cp->branches = 1;
	cp->parent = v->cur->parent;
	v->cur->parent = cp;
	cp->next_visited = aux->visited;
	aux->visited = cp;
	/* A new stretch of the path begins: what it overwrites is counted from here. */
	for (uint32_t fr = 0; fr <= v->cur->curframe; fr++)
		v->cur->frames[fr]->written = 0;
	v->total_states++;
	if (++v->cur_states > v->peak_states)
		v->peak_states = v->cur_states;
	return 0;
}

/* ---- The exploration ------------------------------------------------- */

/* The numbers within the given bounds (bottom when there are none). */
static struct scalar scalar_within_bounds(int64_t smin, int64_t smax, uint64_t umin, uint64_t umax)
{
	struct scalar s = scalar_unknown();

	s.r64 = (struct range){ umin, umax, smin, smax };
	if (umin > umax || smin > smax)
		return scalar_bottom();
	s.t = tnum_range(umin, umax);
	return scalar_reduce(s);
}

static int entry_reg(struct verifier *v, unsigned regno, const struct sluice_entry_reg *e,
		     struct reg *r, struct sluice_error *err)
{
	switch (e->kind) {
	case SLUICE_ENTRY_DEFAULT:
		return 0;
	case SLUICE_ENTRY_UNINIT:
		reg_mark_not_init(r);
		return 0;
	case SLUICE_ENTRY_SCALAR:
		reg_mark_unknown(r);
		r->var = scalar_within_bounds(e->smin, e->smax, e->umin, e->umax);
		if (scalar_is_bottom(r->var))
			return sluice_fail(err, EINVAL, "entry state: r%u holds no number", regno);
		return 0;
	case SLUICE_ENTRY_CTX:
		reg_mark_pointer(r, REG_CTX);
		break;
	case SLUICE_ENTRY_STACK:
		reg_mark_pointer(r, REG_STACK);
		break;
	case SLUICE_ENTRY_PACKET:
		reg_mark_pointer(r, REG_PKT);
		r->range = e->range;
		break;
	case SLUICE_ENTRY_PACKET_END:
		reg_mark_pointer(r, REG_PKT_END);
		break;
	case SLUICE_ENTRY_MAP_VALUE:
	case SLUICE_ENTRY_MAP_PTR:
		if (e->map >= v->opts->nmaps || !v->opts->maps[e->map])
			return sluice_fail(err, EINVAL, "entry state: r%u names map %u of %zu", regno,
					   e->map, v->opts->nmaps);
		reg_mark_pointer(r, e->kind == SLUICE_ENTRY_MAP_PTR ? REG_MAP_PTR : REG_MAP_VALUE);
		r->map = e->map;
		break;
	default:
		return sluice_fail(err, EINVAL, "entry state: r%u has kind %d", regno, (int)e->kind);
	}
	r->off = e->off;
	return 0;
}

/* A number on the stack: a (partial) spill at a slot's start, numeric bytes elsewhere. */
static int entry_stack(struct verifier *v, struct frame *f, const struct sluice_entry_stack *e,
		       struct sluice_error *err)
{
	struct scalar s = scalar_within_bounds(e->smin, e->smax, e->umin, e->umax);
	struct stack_slot *slot;

	if ((e->size != 1 && e->size != 2 && e->size != 4 && e->size != 8) ||
	    e->off < -SLUICE_STACK_SIZE || e->off + e->size > 0 || scalar_is_bottom(s))
		return sluice_fail(err, EINVAL, "entry state: no %u-byte number at fp%d", e->size,
				   e->off);
	if (stack_touch(v, f, (uint32_t)-e->off))
		return sluice_fail(err, ENOMEM, "entry state: out of memory");
	if (e->off % SLOT_SIZE == 0) {
		slot = &f->stack[(-e->off - 1) / SLOT_SIZE];
		reg_mark_unknown(&slot->spilled);
		slot->spilled.var = s;
		memset(slot->kind, STACK_SPILL, e->size);
		return 0;
	}
	for (int32_t a = e->off; a < e->off + e->size; a++) {
		slot = &f->stack[(-a - 1) / SLOT_SIZE];
		slot->kind[a + SLOT_SIZE * ((-a - 1) / SLOT_SIZE + 1)] =
			scalar_is_const(s) && !s.t.value ? STACK_ZERO : STACK_MISC;
	}
	return 0;
}

static int initial_state(struct verifier *v, struct sluice_error *err)
{
	const struct sluice_verifier_entry *entry = v->opts->entry;
	struct frame *f;
	int ret;

	v->cur = calloc(1, sizeof(*v->cur));
	if (!v->cur)
		return -ENOMEM;
	f = frame_new(0, 0);
	if (!f)
		return -ENOMEM;
	v->cur->frames[0] = f;
	reg_mark_pointer(&f->regs[1], REG_CTX);
	reg_mark_pointer(&f->regs[SLUICE_MAX_REG], REG_STACK);
	v->pc = 0;
	if (!entry)
		return 0;
	for (unsigned r = 0; r < SLUICE_MAX_REG; r++) {
		ret = entry_reg(v, r, &entry->regs[r], &f->regs[r], err);
		if (ret)
			return ret;
	}
	if (entry->nstack && !entry->stack)
		return sluice_fail(err, EINVAL, "entry state: %zu stack entries but no array",
				   entry->nstack);
	for (size_t i = 0; i < entry->nstack; i++) {
		ret = entry_stack(v, f, &entry->stack[i], err);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * The state (and, unless the log has it already, the instruction) that
 * failed, before the reason, which is in the log from mark.
 */
static int explain(struct verifier *v, size_t mark, bool with_insn)
{
	size_t tail_len = v->log.len - mark;
	char *tail = malloc(tail_len + 1);

	if (!tail)
		return -ENOMEM;
	if (tail_len)
		memcpy(tail, v->log.buf + mark, tail_len);
	tail[tail_len] = 0;
	v->log.len = mark;
	if (v->cur) {
		vlog_printf(&v->log, "%u: ", v->pc);
		log_state(v, v->cur);
	}
	if (with_insn) {
		log_source_line(v, v->pc);
		log_insn(v, v->pc);
	}
	vlog_printf(&v->log, "%s", tail);
	free(tail);
	return 0;
}

static int do_check(struct verifier *v)
{
	unsigned level = v->opts->log_level;
	uint32_t from;
	size_t mark;
	int ret;

	for (;;) {
		mark = v->log.len;
		if (++v->insns_processed > COMPLEXITY_LIMIT)
			return verr(v, "BPF program is too large. Processed %" PRIu64 " insn",
				    v->insns_processed);
		ret = 0;
		if (v->aux[v->pc].prune_point) {
			ret = is_state_visited(v, v->pc);
			if (ret == 1 && level)
				vlog_printf(&v->log, "%u: safe\n", v->pc);
		}
		if (ret == 0) {
			if (level >= 2) {
				vlog_printf(&v->log, "%u: ", v->pc);
				log_state(v, v->cur);
			}
			if (level >= 1) {
				log_source_line(v, v->pc);
				log_insn(v, v->pc);
				mark = v->log.len;
			}
			ret = do_insn(v);
		}
		if (ret < 0) {
			if (ret == -EACCES && level < 2 && explain(v, mark, level == 0))
				return -ENOMEM;
			return ret;
		}
		if (ret == 0)
			continue;
		path_done(v);
		if (!pop_branch(v, &from))
			return 0;
		if (level) {
			vlog_printf(&v->log, "from %u to %u: ", from, v->pc);
			log_state(v, v->cur);
		}
	}
}

static void release_all(struct verifier *v)
{
	/* Paths left unexplored still hold detached checkpoints. */
	if (v->cur)
		drop_path(v, v->cur);
	for (size_t i = 0; i < v->nstack; i++)
		drop_path(v, v->stack[i].st);
	free(v->stack);
	if (v->aux) {
		for (uint32_t pc = 0; pc < v->count; pc++) {
			struct vstate *s = v->aux[pc].visited, *next;

			for (; s; s = next) {
				next = s->next_visited;
				vstate_free(s);
			}
		}
	}
	free(v->aux);
	free(v->subprogs);
	precision_release(v);
}

static int check_opts(const struct sluice_insn *insns, size_t count,
		      const struct sluice_verifier_opts *opts, struct sluice_verdict *verdict,
		      struct sluice_error *err)
{
	if (!opts || !verdict || (!insns && count))
		return sluice_fail(err, EINVAL, "sluice_verify: NULL program, options or verdict");
	if (opts->sz < sizeof(*opts))
		return sluice_fail(err, EINVAL, "sluice_verify: opts->sz %zu is smaller than %zu",
				   opts->sz, sizeof(*opts));
	if (opts->nmaps && !opts->maps)
		return sluice_fail(err, EINVAL, "sluice_verify: %zu maps but no map array",
				   opts->nmaps);
	if (count > UINT32_MAX / 2)
		return sluice_fail(err, E2BIG, "sluice_verify: %zu instructions is too many", count);
	return 0;
}

int sluice_verify(const struct sluice_insn *insns, size_t count,
		  const struct sluice_verifier_opts *opts, struct sluice_verdict *verdict,
		  struct sluice_error *err)
{
	struct verifier v = { 0 };
	int ret = check_opts(insns, count, opts, verdict, err);

	if (ret)
		return ret;
	memset(verdict, 0, sizeof(*verdict));
	v.insns = insns;
	v.count = (uint32_t)count;
	v.opts = opts;
	v.ctx = ctx_desc(opts->prog_type, opts->expected_attach_type);
	v.bpf_capable = v.allow_ptr_leaks = v.allow_uninit_stack = v.bypass_spec_v1 =
		!opts->unprivileged;
	pthread_once(&op_tables_once, build_op_tables);
	v.aux = calloc(count ? count : 1, sizeof(*v.aux));
	ret = v.aux ? cfg_check(&v) : -ENOMEM;
	if (!ret)
		ret = precision_init(&v);
	if (!ret) {
		ret = initial_state(&v, err);
		if (ret == -EINVAL) {
			release_all(&v);
			free(v.log.buf);
			return ret;
		}
	}
	if (!ret)
		ret = do_check(&v);
	if (!ret)
		ret = cfg_check_stack_depth(&v);
	if (ret && ret != -EACCES) {
		release_all(&v);
		free(v.log.buf);
		return sluice_fail(err, -ret, "sluice_verify: %s", strerror(-ret));
	}
	verdict->accepted = !ret;
	verdict->error_pc = ret ? v.pc : 0;
	verdict->insns_processed = v.insns_processed;
	verdict->total_states = v.total_states;
	verdict->peak_states = v.peak_states;
	for (uint32_t i = 0; i < v.nsubprogs; i++)
		if (v.subprogs[i].stack_depth > verdict->max_stack_depth)
			verdict->max_stack_depth = v.subprogs[i].stack_depth;
	if (opts->log_level)
		vlog_printf(&v.log, "processed %" PRIu64 " insns (limit %u) total_states %u peak_states %u\n",
			    v.insns_processed, COMPLEXITY_LIMIT, v.total_states, v.peak_states);
	release_all(&v);
	if (v.log.failed) {
		free(v.log.buf);
		return sluice_fail(err, ENOMEM, "sluice_verify: out of memory for the log");
	}
	if (!v.log.buf)
		vlog_printf(&v.log, "%s", "");
	verdict->log = v.log.buf;
	verdict->log_len = v.log.len;
	if (ret)
		sluice_fail(err, EACCES, "pc %zu: %s", verdict->error_pc, v.reason);
	return 0;
}

void sluice_verdict_release(struct sluice_verdict *verdict)
{
	if (!verdict)
		return;
	free(verdict->log);
	verdict->log = NULL;
	verdict->log_len = 0;
}
