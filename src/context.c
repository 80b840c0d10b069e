/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bpf.h>

#include "context.h"
#include "errmsg.h"
#include "insn.h"
#include "progtypes/progtypes.h"

/*
 * The context tables.  Each row is one field of the UAPI structure with
 * what each program type may do with it, transcribed from the kernel's
 * *_is_valid_access (net/core/filter.c):
 *
 *   NO   refused                          R    load of exactly the field
 *   RN   load, narrower loads too         RW   load and store of exactly the field
 *   RWN  RN, plus a store of the field    MEM  plain memory (cb[])
 *
 * The rt column says where the runtime keeps the field: KEEP where the UAPI
 * puts it; PTR(x) as a real pointer in the runtime context's member x;
 * U16 where the UAPI puts it, but stored 16 bits wide, because the kernel
 * keeps that field in a u16 and a program reads back what was truncated.
 */
#define NO 0
#define R CTX_READ
#define RN (CTX_READ | CTX_NARROW)
#define RW (CTX_READ | CTX_WRITE)
#define RWN (CTX_READ | CTX_WRITE | CTX_NARROW)
#define MEM (CTX_READ | CTX_WRITE | CTX_BYTES)

#define KEEP(rt_struct, uapi, member) \
	.rt_off = offsetof(uapi, member), .rt_size = sizeof(((uapi *)0)->member)
#define PTR(rt_struct, uapi, member) \
	.rt_off = offsetof(rt_struct, member), .rt_size = sizeof(void *)
#define U16(rt_struct, uapi, member) .rt_off = offsetof(uapi, member), .rt_size = 2

/*  member            kind             tc    socket cgroup rt */
#define SKB_FIELDS(X) \
X(len,              CTX_SCALAR,      RN,   RN,    RN,    KEEP) \
X(pkt_type,         CTX_SCALAR,      RN,   RN,    RN,    KEEP) \
X(mark,             CTX_SCALAR,      RWN,  RN,    RWN,   KEEP) \
X(queue_mapping,    CTX_SCALAR,      RWN,  RN,    RN,    U16) \
X(protocol,         CTX_SCALAR,      RN,   RN,    RN,    KEEP) \
X(vlan_present,     CTX_SCALAR,      RN,   RN,    RN,    KEEP) \
X(vlan_tci,         CTX_SCALAR,      RN,   RN,    RN,    KEEP) \
X(vlan_proto,       CTX_SCALAR,      RN,   RN,    RN,    KEEP) \
X(priority,         CTX_SCALAR,      RWN,  RN,    RWN,   KEEP) \
X(ingress_ifindex,  CTX_SCALAR,      RN,   RN,    RN,    KEEP) \
X(ifindex,          CTX_SCALAR,      RN,   RN,    RN,    KEEP) \
X(tc_index,         CTX_SCALAR,      RWN,  RN,    RN,    U16) \
X(cb,               CTX_SCALAR,      MEM,  MEM,   MEM,   KEEP) \
X(hash,             CTX_SCALAR,      RN,   RN,    RN,    KEEP) \
X(tc_classid,       CTX_SCALAR,      RWN,  NO,    NO,    U16) \
X(data,             CTX_PKT,         R,    NO,    R,     PTR) \
X(data_end,         CTX_PKT_END,     R,    NO,    R,     PTR) \
X(napi_id,          CTX_SCALAR,      RN,   RN,    RN,    KEEP) \
X(family,           CTX_SCALAR,      NO,   NO,    RN,    KEEP) \
X(remote_ip4,       CTX_SCALAR,      NO,   NO,    R,     KEEP) \
X(local_ip4,        CTX_SCALAR,      NO,   NO,    R,     KEEP) \
X(remote_ip6[0],    CTX_SCALAR,      NO,   NO,    R,     KEEP) \
X(remote_ip6[1],    CTX_SCALAR,      NO,   NO,    R,     KEEP) \
X(remote_ip6[2],    CTX_SCALAR,      NO,   NO,    R,     KEEP) \
X(remote_ip6[3],    CTX_SCALAR,      NO,   NO,    R,     KEEP) \
X(local_ip6[0],     CTX_SCALAR,      NO,   NO,    R,     KEEP) \
X(local_ip6[1],     CTX_SCALAR,      NO,   NO,    R,     KEEP) \
X(local_ip6[2],     CTX_SCALAR,      NO,   NO,    R,     KEEP) \
X(local_ip6[3],     CTX_SCALAR,      NO,   NO,    R,     KEEP) \
X(remote_port,      CTX_SCALAR,      NO,   NO,    RN,    KEEP) \
X(local_port,       CTX_SCALAR,      NO,   NO,    RN,    KEEP) \
X(data_meta,        CTX_PKT_META,    R,    NO,    NO,    PTR) \
X(flow_keys,        CTX_FLOW_KEYS,   NO,   NO,    NO,    KEEP) \
X(tstamp,           CTX_SCALAR,      RW,   NO,    RW,    KEEP) \
X(wire_len,         CTX_SCALAR,      RN,   NO,    NO,    KEEP) \
X(gso_segs,         CTX_SCALAR,      RN,   RN,    RN,    KEEP) \
X(sk,               CTX_SOCK_COMMON, R,    R,     R,     KEEP) \
X(gso_size,         CTX_SCALAR,      RN,   RN,    RN,    KEEP) \
X(tstamp_type,      CTX_SCALAR,      R,    NO,    NO,    KEEP) \
X(hwtstamp,         CTX_SCALAR,      R,    NO,    R,     KEEP)

#define SKB_ROW(member, kind_, access_, rt)                                    \
	{ .name = #member, .off = offsetof(struct __sk_buff, member),         \
	  .size = sizeof(((struct __sk_buff *)0)->member), .kind = kind_,     \
	  .access = access_, rt(struct skb_rt, struct __sk_buff, member) },
#define SKB_TC(member, kind, tc, sock, cg, rt) SKB_ROW(member, kind, tc, rt)
#define SKB_SOCKET(member, kind, tc, sock, cg, rt) SKB_ROW(member, kind, sock, rt)
#define SKB_CGROUP(member, kind, tc, sock, cg, rt) SKB_ROW(member, kind, cg, rt)

static const struct ctx_field skb_tc_fields[] = { SKB_FIELDS(SKB_TC) };
static const struct ctx_field skb_socket_fields[] = { SKB_FIELDS(SKB_SOCKET) };
static const struct ctx_field skb_cgroup_fields[] = { SKB_FIELDS(SKB_CGROUP) };

/*  member            kind             xdp   devmap rt */
#define XDP_FIELDS(X) \
X(data,             CTX_PKT,         R,    R,     PTR) \
X(data_end,         CTX_PKT_END,     R,    R,     PTR) \
X(data_meta,        CTX_PKT_META,    R,    R,     PTR) \
X(ingress_ifindex,  CTX_SCALAR,      R,    R,     KEEP) \
X(rx_queue_index,   CTX_SCALAR,      R,    R,     KEEP) \
X(egress_ifindex,   CTX_SCALAR,      NO,   R,     KEEP)

#define XDP_ROW(member, kind_, access_, rt)                                    \
	{ .name = #member, .off = offsetof(struct xdp_md, member),            \
	  .size = sizeof(((struct xdp_md *)0)->member), .kind = kind_,        \
	  .access = access_, rt(struct xdp_rt, struct xdp_md, member) },
#define XDP_PLAIN(member, kind, xdp, devmap, rt) XDP_ROW(member, kind, xdp, rt)
#define XDP_DEVMAP(member, kind, xdp, devmap, rt) XDP_ROW(member, kind, devmap, rt)

static const struct ctx_field xdp_fields[] = { XDP_FIELDS(XDP_PLAIN) };
static const struct ctx_field xdp_devmap_fields[] = { XDP_FIELDS(XDP_DEVMAP) };

/* bpf_tracing_ctx_access: MAX_BPF_FUNC_ARGS u64 arguments, read-only. */
#define RAW_TP_ARGS 12
static const struct ctx_field raw_tp_fields[] = {
	{ .name = "args", .off = 0, .size = RAW_TP_ARGS * 8, .kind = CTX_SCALAR,
	  .access = CTX_READ | CTX_BYTES, .rt_off = 0, .rt_size = 8 },
};

#define DESC(name_, uapi_size, rt_size_, fields_)                          \
	{ .name = name_, .size = uapi_size, .rt_size = rt_size_,          \
	  .fields = fields_, .nfields = sizeof(fields_) / sizeof(fields_[0]) }

static const struct ctx_desc skb_tc_desc =
	DESC("struct __sk_buff", sizeof(struct __sk_buff), sizeof(struct skb_rt), skb_tc_fields);
static const struct ctx_desc skb_socket_desc =
	DESC("struct __sk_buff", sizeof(struct __sk_buff), sizeof(struct skb_rt), skb_socket_fields);
static const struct ctx_desc skb_cgroup_desc =
	DESC("struct __sk_buff", sizeof(struct __sk_buff), sizeof(struct skb_rt), skb_cgroup_fields);
static const struct ctx_desc xdp_desc =
	DESC("struct xdp_md", sizeof(struct xdp_md), sizeof(struct xdp_rt), xdp_fields);
static const struct ctx_desc xdp_devmap_desc =
	DESC("struct xdp_md", sizeof(struct xdp_md), sizeof(struct xdp_rt), xdp_devmap_fields);
static const struct ctx_desc raw_tp_desc =
	DESC("u64 args[12]", RAW_TP_ARGS * 8, RAW_TP_ARGS * 8, raw_tp_fields);

const struct ctx_desc *ctx_desc(uint32_t prog_type, uint32_t expected_attach_type)
{
	switch (prog_type) {
	case BPF_PROG_TYPE_XDP:
		return expected_attach_type == BPF_XDP_DEVMAP ? &xdp_devmap_desc : &xdp_desc;
	case BPF_PROG_TYPE_SCHED_CLS:
	case BPF_PROG_TYPE_SCHED_ACT:
		return &skb_tc_desc;
	case BPF_PROG_TYPE_SOCKET_FILTER:
		return &skb_socket_desc;
	case BPF_PROG_TYPE_CGROUP_SKB:
		return &skb_cgroup_desc;
	case BPF_PROG_TYPE_RAW_TRACEPOINT:
		return &raw_tp_desc;
	default:
		return NULL;
	}
}

static const struct ctx_field *field_at(const struct ctx_desc *desc, uint32_t off)
{
	for (size_t i = 0; i < desc->nfields; i++) {
		const struct ctx_field *f = &desc->fields[i];

		if (off >= f->off && off < (uint32_t)f->off + f->size)
			return f;
	}
	return NULL;
}

/* Why the access is refused, NULL when it is allowed. */
static const char *access_refusal(const struct ctx_field *f, uint32_t off,
				  uint32_t size, bool write)
{
	bool exact = off == f->off && size == f->size;

	if (!(f->access & (write ? CTX_WRITE : CTX_READ)))
		return write ? "the field is read-only for this program type"
			     : "the field is not available to this program type";
	if (f->access & CTX_BYTES)
		return off + size <= (uint32_t)f->off + f->size ? NULL
								: "the access runs past the field";
	if (exact)
		return NULL;
	if (write)
		return "a store must cover exactly the field";
	if (!(f->access & CTX_NARROW))
		return "a load must cover exactly the field";
	return size <= f->size ? NULL : "the load is wider than the field";
}

int ctx_check_access(const struct ctx_desc *desc, uint32_t off, uint32_t size,
		     bool write, const struct ctx_field **field,
		     struct sluice_error *err)
{
	const struct ctx_field *f = field_at(desc, off);
	const char *why;

#define REFUSE(fmt, ...)                                                         \
	sluice_fail(err, EACCES, "invalid bpf_context access off=%d size=%u: " fmt, \
		    (int32_t)off, size, __VA_ARGS__)
	if (!f)
		return REFUSE("no field of %s there", desc->name);
	if (size != 1 && size != 2 && size != 4 && size != 8)
		return REFUSE("%s", "not a load or store size");
	if (off % size)
		return REFUSE("%s is not aligned to the access size", f->name);
	why = access_refusal(f, off, size, write);
	if (why)
		return REFUSE("%s: %s", f->name, why);
#undef REFUSE
	*field = f;
	return 0;
}

/*
 * Finding the context pointer: a forward dataflow over the program's
 * control-flow graph, each value in a register or an 8-byte stack slot
 * abstracted to what it may point to.  The lattice, from bottom to top:
 * NONE (no path has set it), then CTX or STACK with a constant offset, the
 * same with a variable offset, then SCALAR (not the context: numbers and
 * every other pointer), and MIXED (the context on one path, something else
 * on another).  Each path into a block is joined at the block's entry, so
 * the pass is path-insensitive: an access the kernel proves reached only
 * with the context on each path, but through a merged register, is still
 * MIXED here.
 */
enum val_kind { V_NONE, V_CTX, V_STACK, V_SCALAR, V_MIXED };

struct absval {
	uint8_t kind;
	bool var;       /* the offset is not one constant */
	int32_t off;    /* from the context's start, or from the frame pointer */
};

#define STACK_SLOTS (SLUICE_STACK_SIZE / 8)

struct frame_state {
	struct absval reg[SLUICE_MAX_REG + 1];
	struct absval slot[STACK_SLOTS];   /* slot i: [r10 - 8 * (i + 1)] */
};

static const struct absval scalar = { .kind = V_SCALAR };
static const struct absval none = { .kind = V_NONE };

static struct absval join(struct absval a, struct absval b)
{
	if (a.kind == V_NONE)
		return b;
	if (b.kind == V_NONE)
		return a;
	if (a.kind == b.kind) {
		if (a.kind == V_CTX || a.kind == V_STACK)
			a.var = a.var || b.var || a.off != b.off;
		return a;
	}
	if (a.kind == V_CTX || b.kind == V_CTX || a.kind == V_MIXED || b.kind == V_MIXED)
		return (struct absval){ .kind = V_MIXED };
	return scalar;
}

static bool same(struct absval a, struct absval b)
{
	return a.kind == b.kind && a.var == b.var && (a.var || a.off == b.off);
}

/* Join src into *dst; whether *dst changed. */
static bool join_state(struct frame_state *dst, const struct frame_state *src)
{
	bool changed = false;

	for (size_t i = 0; i <= SLUICE_MAX_REG; i++) {
		struct absval v = join(dst->reg[i], src->reg[i]);

		changed |= !same(v, dst->reg[i]);
		dst->reg[i] = v;
	}
	for (size_t i = 0; i < STACK_SLOTS; i++) {
		struct absval v = join(dst->slot[i], src->slot[i]);

		changed |= !same(v, dst->slot[i]);
		dst->slot[i] = v;
	}
	return changed;
}

static void entry_state(struct frame_state *s, bool ctx_in_r1)
{
	for (size_t i = 0; i <= SLUICE_MAX_REG; i++)
		s->reg[i] = none;
	for (size_t i = 0; i < STACK_SLOTS; i++)
		s->slot[i] = none;
	s->reg[SLUICE_MAX_REG] = (struct absval){ .kind = V_STACK };
	if (ctx_in_r1)
		s->reg[1] = (struct absval){ .kind = V_CTX };
}

static struct absval moved(struct absval v, int64_t delta)
{
	int64_t off = (int64_t)v.off + delta;

	if (v.kind != V_CTX && v.kind != V_STACK)
		return v.kind == V_MIXED ? v : scalar;
	if (off < INT32_MIN / 2 || off > INT32_MAX / 2)
		v.var = true;
	else
		v.off = (int32_t)off;
	return v;
}

static bool is_pointer(struct absval v)
{
	return v.kind == V_CTX || v.kind == V_STACK;
}

/* The stack slot an 8-byte aligned access at v + off names, -1 if none. */
static int slot_of(struct absval v, int16_t off)
{
	int64_t at = (int64_t)v.off + off;

	if (v.kind != V_STACK || v.var || at % 8 || at < -SLUICE_STACK_SIZE || at > -8)
		return -1;
	return (int)(-at / 8 - 1);
}

/* A store of size bytes at v + off through a stack pointer. */
static void stack_store(struct frame_state *s, struct absval v, int16_t off,
			unsigned size, struct absval value)
{
	int slot = size == 8 ? slot_of(v, off) : -1;

	if (slot >= 0) {
		s->slot[slot] = value;
		return;
	}
	for (int i = 0; i < STACK_SLOTS; i++) {
		int64_t lo = -8 * (int64_t)(i + 1), at = (int64_t)v.off + off;

		/* where the store lands is unknown: every slot may now hold a number */
		if (v.var)
			s->slot[i] = join(s->slot[i], scalar);
		else if (at < lo + 8 && at + size > lo)
			s->slot[i] = scalar;
	}
}

struct block {
	size_t start, end;   /* [start, end) */
	size_t subprog;
	bool reached, queued;
	struct frame_state in;
};

struct walk {
	const struct ctx_desc *desc;
	struct sluice_insn *insns;
	size_t count;
	bool rewrite;
	uint32_t max_off;
	struct block *blocks;
	size_t nblocks;
	size_t *block_at;     /* pc -> block index, SIZE_MAX where no block starts */
	size_t *subprogs;     /* first pc of each subprogram, sorted */
	size_t nsubprogs;
	struct absval *ret;   /* per subprogram: r0 at its exits */
	size_t *queue;        /* worklist of block indices (a ring) */
	size_t qhead, qlen;
	struct sluice_error *err;
};

static int op_at(const struct walk *w, size_t pc)
{
	return insn_lookup(&w->insns[pc]);
}

static size_t subprog_index(const struct walk *w, size_t pc)
{
	size_t lo = 0, hi = w->nsubprogs;

	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (w->subprogs[mid] <= pc)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

static void enqueue(struct walk *w, size_t b, const struct frame_state *s)
{
	struct block *blk = &w->blocks[b];
	bool changed = !blk->reached;

	if (!blk->reached) {
		blk->in = *s;
		blk->reached = true;
	} else {
		changed = join_state(&blk->in, s);
	}
	if (changed && !blk->queued) {
		blk->queued = true;
		w->queue[(w->qhead + w->qlen++) % w->nblocks] = b;
	}
}

static void requeue(struct walk *w, size_t b)
{
	if (w->blocks[b].reached && !w->blocks[b].queued) {
		w->blocks[b].queued = true;
		w->queue[(w->qhead + w->qlen++) % w->nblocks] = b;
	}
}

static void clobber_call(struct frame_state *s)
{
	s->reg[0] = scalar;
	for (int r = 1; r <= 5; r++)
		s->reg[r] = none;
}

static bool is_store_op(enum insn_op op)
{
	uint8_t shape = insn_table[op].shape;

	return shape == SHAPE_STORE_IMM || shape == SHAPE_STORE_REG;
}

/* The store of the same kind as op, rt_size bytes wide. */
static enum insn_op store_of_width(enum insn_op op, unsigned width)
{
	static const enum insn_op imm[] = { OP_STB, OP_STH, OP_STW, OP_STDW };
	static const enum insn_op reg[] = { OP_STXB, OP_STXH, OP_STXW, OP_STXDW };
	const enum insn_op *ops = insn_table[op].shape == SHAPE_STORE_IMM ? imm : reg;

	for (int i = 0; i < 4; i++)
		if (insn_access_size(ops[i]) == width)
			return ops[i];
	return op;
}

/* Check and (when rewriting) convert the access at pc through ctx value v. */
static int ctx_access(struct walk *w, size_t pc, enum insn_op op, unsigned reg,
		      struct absval v)
{
	struct sluice_insn *insn = &w->insns[pc];
	unsigned size = insn_access_size(op);
	bool write = is_store_op(op);
	const struct ctx_field *f;
	int ret;

	if (v.kind == V_MIXED)
		return sluice_fail(w->err, EACCES,
				   "pc %zu: same insn cannot be used with different pointers", pc);
	if (v.var)
		return sluice_fail(w->err, EACCES,
				   "pc %zu: variable ctx access R%u disallowed", pc, reg);
	if (v.off)
		return sluice_fail(w->err, EACCES,
				   "pc %zu: dereference of modified ctx ptr R%u off=%d disallowed",
				   pc, reg, v.off);
	if (insn_table[op].shape == SHAPE_ATOMIC)
		return sluice_fail(w->err, EACCES,
				   "pc %zu: BPF_ATOMIC stores into R%u ctx is not allowed", pc, reg);
	if (insn->off < 0)
		return sluice_fail(w->err, EACCES,
				   "pc %zu: invalid bpf_context access off=%d size=%u", pc,
				   insn->off, size);
	if ((uint32_t)insn->off + size > w->max_off)
		w->max_off = (uint32_t)insn->off + size;
	if (!w->desc)
		return 0;
	ret = ctx_check_access(w->desc, (uint32_t)insn->off, size, write, &f, w->err);
	if (ret < 0) {
		char where[32];

		snprintf(where, sizeof(where), "pc %zu", pc);
		return sluice_fail_prefix(w->err, ret, where);
	}
	if (!w->rewrite)
		return 0;
	if (f->kind == CTX_PKT || f->kind == CTX_PKT_END || f->kind == CTX_PKT_META) {
		struct sluice_insn load = insn_encode(OP_LDXDW);

		/* the UAPI's 32-bit data fields are the runtime's 64-bit pointers */
		insn->code = load.code;
		insn->off = (int16_t)f->rt_off;
		return 0;
	}
	insn->off = (int16_t)(f->rt_off + (insn->off - f->off));
	if (write && f->rt_size < size) {
		struct sluice_insn narrower = insn_encode(store_of_width(op, f->rt_size));

		insn->code = narrower.code;
	}
	return 0;
}

/* A subprogram returns r0: when that widens what it may return, its callers see it again. */
static void subprog_returns(struct walk *w, size_t sp, struct absval r0)
{
	struct absval joined = join(w->ret[sp], r0);
	int64_t target;

	if (same(joined, w->ret[sp]))
		return;
	w->ret[sp] = joined;
	for (size_t b = 0; b < w->nblocks; b++) {
		size_t last = w->blocks[b].end - 1;
		int op = op_at(w, last);

		if (op == OP_CALL_LOCAL && insn_branch_target(&w->insns[last], op, last, &target) &&
		    w->blocks[w->block_at[target]].subprog == sp)
			requeue(w, b);
	}
}

/* Run one block from its entry state; with check set, also check and rewrite. */
static int run_block(struct walk *w, size_t b, bool check)
{
	struct block *blk = &w->blocks[b];
	struct frame_state s = blk->in;
	size_t pc = blk->start;

	while (pc < blk->end) {
		struct sluice_insn *insn = &w->insns[pc];
		int op = op_at(w, pc);
		const struct insn_info *info;
		struct absval *dst, src;
		int64_t target;
		int ret;

		if (op < 0)
			return sluice_fail(w->err, EINVAL, "pc %zu: unknown instruction", pc);
		info = &insn_table[op];
		dst = &s.reg[insn->dst];
		src = s.reg[insn->src];
		switch (info->shape) {
		case SHAPE_LOAD:
			if (check && (src.kind == V_CTX || src.kind == V_MIXED)) {
				ret = ctx_access(w, pc, op, insn->src, src);
				if (ret < 0)
					return ret;
			}
			if (op == OP_LDXDW && slot_of(src, insn->off) >= 0)
				*dst = s.slot[slot_of(src, insn->off)];
			else
				*dst = scalar;
			break;
		case SHAPE_STORE_IMM:
		case SHAPE_STORE_REG:
		case SHAPE_ATOMIC:
			if (check && (dst->kind == V_CTX || dst->kind == V_MIXED)) {
				ret = ctx_access(w, pc, op, insn->dst, *dst);
				if (ret < 0)
					return ret;
			}
			if (dst->kind == V_STACK)
				stack_store(&s, *dst, insn->off, insn_access_size(op),
					    info->shape == SHAPE_STORE_REG ? src : scalar);
			if (op == OP_ATOMIC32_CMPXCHG || op == OP_ATOMIC64_CMPXCHG)
				s.reg[0] = scalar;
			else if (info->shape == SHAPE_ATOMIC && (insn->imm & BPF_FETCH))
				s.reg[insn->src] = scalar;
			break;
		case SHAPE_ALU_REG:
			if (op == OP_MOV64_REG)
				*dst = src;
			else if ((op == OP_ADD64_REG || op == OP_SUB64_REG) && is_pointer(*dst) &&
				 !is_pointer(src) && src.kind != V_MIXED)
				dst->var = true;
			else if (op == OP_ADD64_REG && is_pointer(src) && !is_pointer(*dst) &&
				 dst->kind != V_MIXED)
				*dst = (struct absval){ .kind = src.kind, .var = true };
			else
				*dst = scalar;
			break;
		case SHAPE_ALU_IMM:
			if (op == OP_ADD64_IMM)
				*dst = moved(*dst, insn->imm);
			else if (op == OP_SUB64_IMM)
				*dst = moved(*dst, -(int64_t)insn->imm);
			else
				*dst = scalar;
			break;
		case SHAPE_ALU_UNARY:
		case SHAPE_LDDW:
			*dst = scalar;
			break;
		case SHAPE_LDABS:
		case SHAPE_LDIND:
		case SHAPE_CALL:
		case SHAPE_CALLX:
			clobber_call(&s);
			break;
		case SHAPE_CALL_LOCAL: {
			size_t callee, sp;
			struct frame_state in;

			insn_branch_target(insn, op, pc, &target);
			callee = w->block_at[target];
			sp = w->blocks[callee].subprog;
			entry_state(&in, false);
			for (int r = 1; r <= 5; r++)
				in.reg[r] = s.reg[r].kind == V_STACK ? scalar : s.reg[r];
			enqueue(w, callee, &in);
			s.reg[0] = w->ret[sp];
			for (int r = 1; r <= 5; r++)
				s.reg[r] = none;
			break;
		}
		case SHAPE_EXIT:
			if (blk->subprog != 0)
				subprog_returns(w, blk->subprog, s.reg[0]);
			return 0;
		case SHAPE_JA:
		case SHAPE_JA32:
			insn_branch_target(insn, op, pc, &target);
			enqueue(w, w->block_at[target], &s);
			return 0;
		case SHAPE_JCOND_IMM:
		case SHAPE_JCOND_REG:
			insn_branch_target(insn, op, pc, &target);
			enqueue(w, w->block_at[target], &s);
			break;
		}
		pc += sluice_insn_slots(insn);
	}
	if (pc < w->count)
		enqueue(w, w->block_at[pc], &s);
	return 0;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return (x > y) - (x < y);
}

/* Blocks start at 0, at branch and call targets, and after branches and exits. */
static int build_blocks(struct walk *w, bool **callback_start)
{
	bool *leader = calloc(w->count + 1, sizeof(*leader));
	bool *sub = calloc(w->count, sizeof(*sub));
	bool *cb = calloc(w->count, sizeof(*cb));
	size_t n = 0;

	if (!leader || !sub || !cb)
		goto oom;
	leader[0] = sub[0] = true;
	for (size_t pc = 0; pc < w->count; pc += sluice_insn_slots(&w->insns[pc])) {
		int op = op_at(w, pc);
		int64_t target;
		uint8_t shape;

		if (op < 0) {
			free(leader), free(sub), free(cb);
			return sluice_fail(w->err, EINVAL, "pc %zu: unknown instruction", pc);
		}
		shape = insn_table[op].shape;
		if (insn_branch_target(&w->insns[pc], op, pc, &target)) {
			if (target < 0 || (uint64_t)target >= w->count) {
				free(leader), free(sub), free(cb);
				return sluice_fail(w->err, EINVAL,
						   "pc %zu: branch target %lld outside the program",
						   pc, (long long)target);
			}
			leader[target] = true;
			if (shape == SHAPE_CALL_LOCAL)
				sub[target] = true;
			else if (op == OP_LDDW_FUNC)
				sub[target] = cb[target] = true;
		}
		if (shape == SHAPE_JA || shape == SHAPE_JA32 || shape == SHAPE_JCOND_IMM ||
		    shape == SHAPE_JCOND_REG || shape == SHAPE_EXIT || shape == SHAPE_CALL_LOCAL)
			leader[pc + 1] = true;
	}
	for (size_t pc = 0; pc < w->count; pc++) {
		n += leader[pc];
		w->nsubprogs += sub[pc];
	}
	w->blocks = calloc(n, sizeof(*w->blocks));
	w->block_at = malloc(w->count * sizeof(*w->block_at));
	w->subprogs = malloc(w->nsubprogs * sizeof(*w->subprogs));
	w->ret = calloc(w->nsubprogs, sizeof(*w->ret));
	w->queue = malloc(n * sizeof(*w->queue));
	if (!w->blocks || !w->block_at || !w->subprogs || !w->ret || !w->queue)
		goto oom;
	w->nsubprogs = 0;
	for (size_t pc = 0; pc < w->count; pc++) {
		w->block_at[pc] = SIZE_MAX;
		if (sub[pc])
			w->subprogs[w->nsubprogs++] = pc;
	}
	qsort(w->subprogs, w->nsubprogs, sizeof(*w->subprogs), cmp_size);
	for (size_t pc = 0; pc < w->count; pc++) {
		if (!leader[pc])
			continue;
		if (w->nblocks)
			w->blocks[w->nblocks - 1].end = pc;
		w->block_at[pc] = w->nblocks;
		w->blocks[w->nblocks].start = pc;
		w->blocks[w->nblocks].subprog = subprog_index(w, pc);
		w->nblocks++;
	}
	w->blocks[w->nblocks - 1].end = w->count;
	free(leader);
	free(sub);
	*callback_start = cb;
	return 0;
oom:
	free(leader);
	free(sub);
	free(cb);
	return sluice_fail(w->err, ENOMEM, "out of memory");
}

static int walk_program(struct walk *w)
{
	struct frame_state start;
	bool *callback_start = NULL;
	int ret = build_blocks(w, &callback_start);

	if (ret < 0)
		return ret;
	entry_state(&start, true);
	enqueue(w, 0, &start);
	/* callbacks (bpf_loop, for_each_map_elem) get their arguments from helpers */
	entry_state(&start, false);
	for (size_t pc = 0; pc < w->count; pc++)
		if (callback_start[pc])
			enqueue(w, w->block_at[pc], &start);
	free(callback_start);
	while (w->qlen) {
		size_t b = w->queue[w->qhead];

		w->qhead = (w->qhead + 1) % w->nblocks;
		w->qlen--;
		w->blocks[b].queued = false;
		ret = run_block(w, b, false);
		if (ret < 0)
			return ret;
	}
	/* the entry states are final: check and rewrite each reached block once */
	for (size_t b = 0; b < w->nblocks; b++) {
		if (!w->blocks[b].reached)
			continue;
		ret = run_block(w, b, true);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static void walk_free(struct walk *w)
{
	free(w->blocks);
	free(w->block_at);
	free(w->subprogs);
	free(w->ret);
	free(w->queue);
}

static int walk(uint32_t prog_type, uint32_t expected_attach_type,
		struct sluice_insn *insns, size_t count, bool rewrite,
		uint32_t *max_off, struct sluice_error *err)
{
	struct walk w = {
		.desc = ctx_desc(prog_type, expected_attach_type),
		.insns = insns,
		.count = count,
		.rewrite = rewrite,
		.err = err,
	};
	int ret;

	if (!count)
		return sluice_fail(err, EINVAL, "empty program");
	ret = walk_program(&w);
	walk_free(&w);
	if (ret == 0 && max_off)
		*max_off = w.max_off;
	return ret;
}

int ctx_convert(uint32_t prog_type, uint32_t expected_attach_type,
		struct sluice_insn *insns, size_t count, struct sluice_error *err)
{
	return walk(prog_type, expected_attach_type, insns, count, true, NULL, err);
}

int ctx_max_offset(uint32_t prog_type, uint32_t expected_attach_type,
		   const struct sluice_insn *insns, size_t count, uint32_t *max_off,
		   struct sluice_error *err)
{
	/* without rewriting, the walk only reads the instructions */
	return walk(prog_type, expected_attach_type, (struct sluice_insn *)insns, count,
		    false, max_off, err);
}
