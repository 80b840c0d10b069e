/* SPDX-License-Identifier: MIT */
/*
 * The interpreter loop, included by interp.c once per strategy with
 *   INTERP_NAME     the function to define
 *   INTERP_CHECKED  1: test each memory access against the run's regions
 *   INTERP_BUDGET   1: count instructions, stop at vm->budget
 * Only the counting variants know how many instructions ran: in the fast
 * one the count would be an eighth of the work of a typical handler.
 *
 * Called with vm == NULL it only hands out its handler table, so that
 * sluice_vm_new can translate instructions into handler addresses.
 */

#ifndef INTERP_ALU_OPS
#define INTERP_ALU_OPS
/*
 * ALU: both widths, both sources.  Each operation is written once, as
 * an expression of the destination's value d (d32 for 32 bits) and
 * the source operand b; 32-bit results are zero-extended.
 */
#define ALU_OPS(X)                                                           \
X(ADD, d + b, d32 + b)                                               \
X(SUB, d - b, d32 - b)                                               \
X(MUL, d * b, d32 * b)                                               \
X(OR, d | b, d32 | b)                                                \
X(AND, d & b, d32 & b)                                               \
X(XOR, d ^ b, d32 ^ b)                                               \
/* Shift counts are masked to the width, as RFC 9669 specifies. */  \
X(LSH, d << (b & 63), d32 << (b & 31))                               \
X(RSH, d >> (b & 63), d32 >> (b & 31))                               \
X(ARSH, (uint64_t)((int64_t)d >> (b & 63)),                          \
  (uint32_t)((int32_t)d32 >> (b & 31)))                              \
/* Division by zero gives 0; modulo by zero leaves the dividend. */ \
X(DIV, b ? d / b : 0, b ? d32 / b : 0)                               \
X(MOD, b ? d % b : d, b ? d32 % b : d32)                             \
/*                                                                   \
 * Signed: x / -1 is computed as -x so that INT_MIN / -1 wraps to    \
 * INT_MIN (and INT_MIN % -1 is 0) instead of trapping.              \
 */                                                                  \
X(SDIV,                                                              \
  !b ? 0 : (int64_t)b == -1 ? -d : (uint64_t)((int64_t)d / (int64_t)b), \
  !b ? 0 : (int32_t)b == -1 ? -d32 : (uint32_t)((int32_t)d32 / (int32_t)b)) \
X(SMOD,                                                              \
  !b ? d : (int64_t)b == -1 ? 0 : (uint64_t)((int64_t)d % (int64_t)b), \
  !b ? d32 : (int32_t)b == -1 ? 0 : (uint32_t)((int32_t)d32 % (int32_t)b))

#endif

/* The pair fusion below only pays where nothing is counted or checked. */
#define INTERP_FUSE (!INTERP_CHECKED && !INTERP_BUDGET)

static int INTERP_NAME(const struct sluice_vm *vm, struct interp_state *st,
		       const void *const **labels_out,
		       const void *const **fused_out)
{
	static const void *const labels[LABEL__COUNT] = {
#define X(id, ...) [OP_##id] = &&op_##id,
		SLUICE_ISA(X)
#undef X
		[LABEL_FELL_OFF] = &&fell_off,
		[LABEL_NOT_INSN] = &&not_insn,
	};
#if INTERP_FUSE
	/* Indexed by the op that follows a register move of the same width. */
	static const void *const fused[OP__COUNT] = {
#define FUSED_LABELS(name, ...)                          \
		[OP_##name##64_IMM] = &&fused_##name##64_IMM, \
		[OP_##name##64_REG] = &&fused_##name##64_REG, \
		[OP_##name##32_IMM] = &&fused_##name##32_IMM, \
		[OP_##name##32_REG] = &&fused_##name##32_REG,
		ALU_OPS(FUSED_LABELS)
#undef FUSED_LABELS
	};
#else
	static const void *const *const fused = NULL;
#endif
	const struct tinsn *pc;
	uint64_t reg[SLUICE_MAX_REG + 1];
	uint64_t executed = 0;
	unsigned depth = 0;
	sluice_helper_fn fn;
#if INTERP_BUDGET
	uint64_t budget;
#endif
#if INTERP_CHECKED
	uint64_t addr;
	unsigned size;
	bool write;
#endif

	if (!vm) {
		*labels_out = labels;
		*fused_out = fused;
		return 0;
	}
	pc = vm->code + st->exec->entry;
#if INTERP_BUDGET
	budget = vm->budget; /* a local: stores through BPF pointers could alias vm */
#endif
	memcpy(&reg[1], st->exec->args, sizeof(st->exec->args));
	reg[0] = 0;
	for (int r = 6; r <= SLUICE_MAX_REG; r++)
		reg[r] = 0;
	reg[SLUICE_MAX_REG] = (uintptr_t)st->stack + sizeof(st->stack);

#if INTERP_BUDGET
#define DISPATCH()                                           \
	do {                                                 \
		if (++executed > budget)                   \
			goto out_of_budget;                  \
		goto *pc->handler;                           \
	} while (0)
#else
#define DISPATCH() goto *pc->handler
#endif
#define NEXT()             \
	do {               \
		pc++;      \
		DISPATCH(); \
	} while (0)
#define CASE(id) op_##id:
#define PC ((size_t)(pc - vm->code))
#define DST reg[pc->dst]
#define SRC reg[pc->src]
#define IMM ((uint64_t)(int64_t)pc->imm) /* sign-extended, as ALU64 reads it */
#define DST32 ((uint32_t)DST)
#define SRC32 ((uint32_t)SRC)
#define IMM32 ((uint32_t)pc->imm)

#if INTERP_CHECKED
#define CHECK(a, n, w)                                                  \
	do {                                                            \
		addr = (a);                                             \
		size = (n);                                             \
		write = (w);                                            \
		if (!access_ok(st, depth, addr, size, write))           \
			goto bad_access;                                \
	} while (0)
#define CHECK_ATOMIC(a, n)                                              \
	do {                                                            \
		CHECK(a, n, true);                                      \
		if (addr % size)                                        \
			goto misaligned_atomic;                         \
	} while (0)
#else
#define CHECK(a, n, w) (void)0
#define CHECK_ATOMIC(a, n) (void)0
#endif

	DISPATCH();

	/* `to` is where the result goes, `from` the value it starts as. */
#define ALU_HANDLER(label, step, to, from, b_value, bits, expr)           \
	label: {                                                             \
		uint64_t d = (from), b = (b_value);                          \
		uint32_t d32 = (uint32_t)d;                                  \
		(void)d32;                                                   \
		if (bits == 32)                                              \
			b = (uint32_t)b;                                     \
		to = (expr);                                                 \
		pc += step;                                                  \
		DISPATCH();                                                  \
	}
#define ALU_CASES(name, expr64, expr32)                                                    \
	ALU_HANDLER(op_##name##64_IMM, 1, DST, DST, IMM, 64, expr64)                         \
	ALU_HANDLER(op_##name##64_REG, 1, DST, DST, SRC, 64, expr64)                         \
	ALU_HANDLER(op_##name##32_IMM, 1, DST, DST, IMM, 32, (uint32_t)(expr32))             \
	ALU_HANDLER(op_##name##32_REG, 1, DST, DST, SRC, 32, (uint32_t)(expr32))
	ALU_OPS(ALU_CASES)
	ALU_HANDLER(op_MOV64_IMM, 1, DST, 0, IMM, 64, b)
	ALU_HANDLER(op_MOV64_REG, 1, DST, 0, SRC, 64, b)
	ALU_HANDLER(op_MOV32_IMM, 1, DST, 0, IMM, 32, b)
	ALU_HANDLER(op_MOV32_REG, 1, DST, 0, SRC, 32, b)
#if INTERP_FUSE
	/*
	 * Clang writes three-address arithmetic as a move and an operation on
	 * the same register (r1 = r2; r1 <<= 3).  Run as one handler, the pair
	 * costs one dispatch, and the moved value never takes the round trip
	 * through reg[] that would put a store-to-load delay on the data's path.
	 * sluice_vm_new picks these for the move; the second slot keeps its own
	 * handler for jumps that land on it.
	 */
#define FUSED_CASES(name, expr64, expr32)                                                      \
	ALU_HANDLER(fused_##name##64_IMM, 2, reg[pc[1].dst], SRC, (uint64_t)(int64_t)pc[1].imm, 64, expr64)          \
	ALU_HANDLER(fused_##name##64_REG, 2, reg[pc[1].dst], SRC, reg[pc[1].src], 64, expr64)       \
	ALU_HANDLER(fused_##name##32_IMM, 2, reg[pc[1].dst], SRC, (uint64_t)(int64_t)pc[1].imm, 32, (uint32_t)(expr32)) \
	ALU_HANDLER(fused_##name##32_REG, 2, reg[pc[1].dst], SRC, reg[pc[1].src], 32, (uint32_t)(expr32))
	ALU_OPS(FUSED_CASES)
#undef FUSED_CASES
#endif
#undef ALU_CASES
#undef ALU_HANDLER
	CASE(NEG64) { DST = -DST; NEXT(); }
	CASE(NEG32) { DST = (uint32_t)-DST32; NEXT(); }
	CASE(MOVSX8_32) { DST = (uint32_t)(int32_t)(int8_t)SRC; NEXT(); }
	CASE(MOVSX16_32) { DST = (uint32_t)(int32_t)(int16_t)SRC; NEXT(); }
	CASE(MOVSX8_64) { DST = (uint64_t)(int64_t)(int8_t)SRC; NEXT(); }
	CASE(MOVSX16_64) { DST = (uint64_t)(int64_t)(int16_t)SRC; NEXT(); }
	CASE(MOVSX32_64) { DST = (uint64_t)(int64_t)(int32_t)SRC; NEXT(); }

	/* Byte order: the host is little-endian, so `le` only truncates. */
	CASE(LE16) { DST = (uint16_t)DST; NEXT(); }
	CASE(LE32) { DST = (uint32_t)DST; NEXT(); }
	CASE(LE64) { NEXT(); }
	CASE(BE16) CASE(BSWAP16) { DST = __builtin_bswap16((uint16_t)DST); NEXT(); }
	CASE(BE32) CASE(BSWAP32) { DST = __builtin_bswap32((uint32_t)DST); NEXT(); }
	CASE(BE64) CASE(BSWAP64) { DST = __builtin_bswap64(DST); NEXT(); }

	/* Memory. */
#define LOAD(name, bits, conv)                                         \
	CASE(name) {                                                   \
		CHECK(SRC + pc->off, bits / 8, false);                 \
		DST = conv(load##bits(SRC + pc->off));                 \
		NEXT();                                                \
	}
#define ZEXT(v) (v)
	LOAD(LDXB, 8, ZEXT)
	LOAD(LDXH, 16, ZEXT)
	LOAD(LDXW, 32, ZEXT)
	LOAD(LDXDW, 64, ZEXT)
	LOAD(LDXSB, 8, (uint64_t)(int64_t)(int8_t))
	LOAD(LDXSH, 16, (uint64_t)(int64_t)(int16_t))
	LOAD(LDXSW, 32, (uint64_t)(int64_t)(int32_t))
#undef ZEXT
#undef LOAD
#define STORE(name, bits, value)                                       \
	CASE(name) {                                                   \
		CHECK(DST + pc->off, bits / 8, true);                  \
		store##bits(DST + pc->off, (value));                   \
		NEXT();                                                \
	}
	STORE(STB, 8, IMM)
	STORE(STH, 16, IMM)
	STORE(STW, 32, IMM)
	STORE(STDW, 64, IMM)
	STORE(STXB, 8, SRC)
	STORE(STXH, 16, SRC)
	STORE(STXW, 32, SRC)
	STORE(STXDW, 64, SRC)
#undef STORE

	/*
	 * Atomics.  The plain forms leave src alone; the fetch forms return
	 * the old value in src (zero-extended for 32 bits); cmpxchg compares
	 * with r0 and returns the old value in r0.
	 */
#define ATOMIC(width, type, name, builtin)                                       \
	CASE(ATOMIC##width##_##name) {                                           \
		CHECK_ATOMIC(DST + pc->off, width / 8);                          \
		builtin((type *)(uintptr_t)(DST + pc->off), (type)SRC,           \
			__ATOMIC_SEQ_CST);                                       \
		NEXT();                                                          \
	}                                                                        \
	CASE(ATOMIC##width##_FETCH_##name) {                                     \
		CHECK_ATOMIC(DST + pc->off, width / 8);                          \
		SRC = builtin((type *)(uintptr_t)(DST + pc->off), (type)SRC,     \
			      __ATOMIC_SEQ_CST);                                 \
		NEXT();                                                          \
	}
#define ATOMIC_WIDTH(width, type)                                                \
	ATOMIC(width, type, ADD, __atomic_fetch_add)                             \
	ATOMIC(width, type, OR, __atomic_fetch_or)                               \
	ATOMIC(width, type, AND, __atomic_fetch_and)                             \
	ATOMIC(width, type, XOR, __atomic_fetch_xor)                             \
	CASE(ATOMIC##width##_XCHG) {                                             \
		CHECK_ATOMIC(DST + pc->off, width / 8);                          \
		SRC = __atomic_exchange_n((type *)(uintptr_t)(DST + pc->off),    \
					  (type)SRC, __ATOMIC_SEQ_CST);          \
		NEXT();                                                          \
	}                                                                        \
	CASE(ATOMIC##width##_CMPXCHG) {                                          \
		type expected = (type)reg[0];                                    \
		CHECK_ATOMIC(DST + pc->off, width / 8);                          \
		__atomic_compare_exchange_n((type *)(uintptr_t)(DST + pc->off),  \
					    &expected, (type)SRC, false,         \
					    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); \
		reg[0] = expected;                                               \
		NEXT();                                                          \
	}
	ATOMIC_WIDTH(32, uint32_t)
	ATOMIC_WIDTH(64, uint64_t)
#undef ATOMIC_WIDTH
#undef ATOMIC

	/* sluice_vm_new refuses these until a runtime resolves them. */
	CASE(LDDW_MAP_FD) CASE(LDDW_MAP_VALUE) CASE(LDDW_BTF_ID) CASE(LDDW_FUNC)
	CASE(LDDW_MAP_IDX) CASE(LDDW_MAP_IDX_VALUE) CASE(CALL_KFUNC)
		goto not_insn;

	CASE(LDDW) {
		DST = (uint32_t)pc->imm | ((uint64_t)(uint32_t)pc[1].imm << 32);
		pc += 2;
		DISPATCH();
	}

	/*
	 * Legacy packet access: big-endian loads from the run's packet; an
	 * offset outside it ends the whole program with r0 = 0, as in the kernel.
	 */
#define PACKET_LOAD(name, bytes, offset)                                        \
	CASE(name) {                                                            \
		const uint8_t *at = exec_packet_at(st->exec, (int32_t)(offset), bytes); \
		if (!at) {                                                      \
			reg[0] = 0;                                             \
			goto done;                                              \
		}                                                               \
		reg[0] = load_be(at, bytes);                                    \
		NEXT();                                                         \
	}
	PACKET_LOAD(LDABSB, 1, pc->imm)
	PACKET_LOAD(LDABSH, 2, pc->imm)
	PACKET_LOAD(LDABSW, 4, pc->imm)
	PACKET_LOAD(LDINDB, 1, SRC + IMM)
	PACKET_LOAD(LDINDH, 2, SRC + IMM)
	PACKET_LOAD(LDINDW, 4, SRC + IMM)
#undef PACKET_LOAD

	/* Jumps: offsets count slots from the next instruction. */
	CASE(JA) { pc += pc->off; NEXT(); }
	CASE(JA32) { pc += pc->imm; NEXT(); }
#define JCOND(name, op, type64, type32)                                                \
	CASE(name##64_IMM) { if ((type64)DST op (type64)IMM) pc += pc->off; NEXT(); }  \
	CASE(name##64_REG) { if ((type64)DST op (type64)SRC) pc += pc->off; NEXT(); }  \
	CASE(name##32_IMM) { if ((type32)DST op (type32)IMM32) pc += pc->off; NEXT(); } \
	CASE(name##32_REG) { if ((type32)DST op (type32)SRC) pc += pc->off; NEXT(); }
	JCOND(JEQ, ==, uint64_t, uint32_t)
	JCOND(JNE, !=, uint64_t, uint32_t)
	JCOND(JGT, >, uint64_t, uint32_t)
	JCOND(JGE, >=, uint64_t, uint32_t)
	JCOND(JLT, <, uint64_t, uint32_t)
	JCOND(JLE, <=, uint64_t, uint32_t)
	JCOND(JSGT, >, int64_t, int32_t)
	JCOND(JSGE, >=, int64_t, int32_t)
	JCOND(JSLT, <, int64_t, int32_t)
	JCOND(JSLE, <=, int64_t, int32_t)
	JCOND(JSET, &, uint64_t, uint32_t)
#undef JCOND

	/* Calls. */
	/* Calls: helpers get r1-r5, and may stop the program. */
	CASE(CALL) {
		fn = vm->helper_fns[(uint32_t)pc->imm];
		goto call_helper;
	}
	CASE(CALLX) {
		fn = DST < vm->helper_limit ? vm->helper_fns[DST] : NULL;
		if (fn)
			goto call_helper;
		st->executed = executed;
		return sluice_fail(st->err, ENOENT,
				   "pc %zu: callx to %llu, which is no helper", PC,
				   (unsigned long long)DST);
	}
call_helper:
	reg[0] = fn(reg[1], reg[2], reg[3], reg[4], reg[5], &st->run);
	if (st->run.stopped) {
		reg[0] = st->run.stop_r0;
		goto done;
	}
	NEXT();
	CASE(CALL_LOCAL) {
		struct interp_frame *f = &st->frames[depth];

		if (depth + 1 >= SLUICE_MAX_CALL_FRAMES) {
			st->executed = executed;
			return sluice_fail(st->err, E2BIG,
					   "pc %zu: local calls nested deeper than %d frames",
					   PC, SLUICE_MAX_CALL_FRAMES);
		}
		f->ret = pc + 1;
		memcpy(f->callee_saved, &reg[6], sizeof(f->callee_saved));
		depth++;
		reg[SLUICE_MAX_REG] -= SLUICE_STACK_SIZE;
		pc += pc->imm;
		NEXT();
	}
	CASE(EXIT) {
		struct interp_frame *f;

		if (!depth)
			goto done;
		f = &st->frames[--depth];
		memcpy(&reg[6], f->callee_saved, sizeof(f->callee_saved));
		reg[SLUICE_MAX_REG] += SLUICE_STACK_SIZE;
		pc = f->ret;
		DISPATCH();
	}

fell_off:
	st->executed = executed - INTERP_BUDGET;
	return sluice_fail(st->err, EINVAL,
			   "pc %zu: fell off the end of the program", PC);
not_insn:
	st->executed = executed - INTERP_BUDGET;
	return sluice_fail(st->err, EINVAL,
			   "pc %zu: not an instruction the interpreter runs", PC);
#if INTERP_BUDGET
out_of_budget:
	st->executed = executed - INTERP_BUDGET;
	return sluice_fail(st->err, ELOOP,
			   "pc %zu: instruction budget of %llu spent", PC,
			   (unsigned long long)vm->budget);
#endif
#if INTERP_CHECKED
bad_access:
	st->executed = executed;
	return fault(st, PC, addr, size, write);
misaligned_atomic:
	st->executed = executed;
	return sluice_fail(st->err, EFAULT,
			   "pc %zu: misaligned %u-byte atomic at 0x%llx", PC,
			   size, (unsigned long long)addr);
#endif
done:
	st->executed = executed;
	st->r0 = reg[0];
	return 0;

#undef DISPATCH
#undef NEXT
#undef CASE
#undef PC
#undef DST
#undef SRC
#undef IMM
#undef DST32
#undef SRC32
#undef IMM32
#undef CHECK
#undef CHECK_ATOMIC
}

#undef INTERP_NAME
#undef INTERP_CHECKED
#undef INTERP_BUDGET
#undef INTERP_FUSE
