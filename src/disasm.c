/* SPDX-License-Identifier: MIT */
/*
 * Disassembler in two styles.  The assembler's style writes a row's
 * mnemonic and then its shape's operands in the order the assembler reads
 * them (insn_shape_operands), so the two round-trip by construction.  The
 * kernel / llvm-objdump style is C-like and differs per shape; the row's
 * llvm column gives its operator or access type.
 *
 * Like the kernel's, this disassembler shows what an instruction's row
 * reads and no more: a slot is undecodable only when no row matches it (or
 * an lddw lacks its second half).  Stray fields and registers past r10 are
 * sluice_insns_check's to refuse, and only checked programs round-trip.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/disasm.h>

#include "errmsg.h"
#include "insn.h"

/* Text into a fixed buffer, cut short like snprintf when it does not fit. */
struct out {
	char *buf;
	size_t size, len;
};

__attribute__((format(printf, 2, 3)))
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->len + 1 >= o->size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n < o->size - o->len ? (size_t)n : o->size - o->len - 1;
}

static const char *const match_field_name[] = {
	[MATCH_OFF] = "off", [MATCH_IMM] = "imm", [MATCH_SRC] = "src",
};

static int32_t match_field_value(const struct sluice_insn *insn, enum insn_match m)
{
	return m == MATCH_OFF ? insn->off : m == MATCH_IMM ? insn->imm : insn->src;
}

/* The row of the slot at pc, or -1 with the reason it cannot be shown in o. */
static int decode(const struct sluice_insn *insns, size_t count, size_t pc, struct out *o)
{
	const struct sluice_insn *insn;
	int op;

	if (pc >= count) {
		put(o, "no instruction at pc %zu", pc);
		return -1;
	}
	insn = &insns[pc];
	op = insn_lookup(insn);
	if (op < 0) {
		/* Name the discriminator when the opcode byte alone is known. */
		for (int row = 0; row < OP__COUNT; row++) {
			enum insn_match m = insn_table[row].match;

			if (insn_table[row].opcode == insn->code && m != MATCH_ANY) {
				put(o, "unknown opcode 0x%02x with %s %" PRId32, insn->code,
				    match_field_name[m], match_field_value(insn, m));
				return -1;
			}
		}
		put(o, "unknown opcode 0x%02x", insn->code);
		return -1;
	}
	if (sluice_insn_slots(insn) > count - pc) {
		put(o, "%s without second half", insn_table[op].mnemonic);
		return -1;
	}
	return op;
}

static void put_asm(struct out *o, const struct sluice_insn *insn, enum insn_op op,
		    uint64_t imm64)
{
	const uint8_t *operands = insn_shape_operands(insn_table[op].shape);

	put(o, "%s", insn_table[op].mnemonic);
	for (size_t i = 0; operands[i]; i++) {
		int reg = operands[i] == OPERAND_DST || operands[i] == OPERAND_MEM_DST ?
				  insn->dst : insn->src;

		put(o, "%s", i ? ", " : " ");
		switch (operands[i]) {
		case OPERAND_DST:
		case OPERAND_SRC:
			put(o, "%%r%d", reg);
			break;
		case OPERAND_IMM:
			put(o, "%" PRId32, insn->imm);
			break;
		case OPERAND_IMM64:
			put(o, "0x%" PRIx64, imm64);
			break;
		case OPERAND_MEM_DST:
		case OPERAND_MEM_SRC:
			put(o, "[%%r%d%+d]", reg, insn->off);
			break;
		case OPERAND_JUMP_OFF:
			put(o, "%+d", insn->off);
			break;
		case OPERAND_JUMP_IMM:
			put(o, "%+" PRId32, insn->imm);
			break;
		}
	}
}

/* "r10 - 8": llvm sets the sign apart from the magnitude. */
static const char *llvm_address(char *buf, size_t size, int reg, int off)
{
	snprintf(buf, size, "r%d %c %d", reg, off < 0 ? '-' : '+', off < 0 ? -off : off);
	return buf;
}

/* movsx is a mov whose offset discriminator is the source width in bits. */
static int32_t sign_extend_bits(const struct insn_info *info)
{
	return info->match == MATCH_OFF && !strcmp(info->llvm, "=") ? info->match_value : 0;
}

/*
 * lock *(u64 *)(r1 + 0) += r2
 * r2 = atomic_fetch_add((u64 *)(r1 + 0), r2)
 * r2 = xchg_64(r1 + 0, r2)         w2 = xchg32_32(r1 + 0, w2)
 * r0 = cmpxchg_64(r1 + 0, r0, r2)  w0 = cmpxchg32_32(r1 + 0, w0, w2)
 */
static void put_llvm_atomic(struct out *o, const struct sluice_insn *insn, enum insn_op op,
			    const char *addr)
{
	const char *oper = insn_table[op].llvm;
	unsigned bits = insn_access_size(op) * 8;
	char r = bits == 64 ? 'r' : 'w';
	const char *suffix = bits == 64 ? "_64" : "32_32";

	if (oper[strlen(oper) - 1] == '=')
		put(o, "lock *(u%u *)(%s) %s %c%d", bits, addr, oper, r, insn->src);
	else if (!strncmp(oper, "fetch_", 6))
		put(o, "%c%d = atomic_%s((u%u *)(%s), %c%d)", r, insn->src, oper, bits, addr,
		    r, insn->src);
	else if (!strcmp(oper, "cmpxchg")) /* compares against r0 */
		put(o, "%c0 = %s%s(%s, %c0, %c%d)", r, oper, suffix, addr, r, r, insn->src);
	else
		put(o, "%c%d = %s%s(%s, %c%d)", r, insn->src, oper, suffix, addr, r, insn->src);
}

/*
 * A wide load, or one of the loader's pseudo forms in the kernel's notation
 * (`r1 = map[id:3][0]+8` there; here the immediate is a map fd or index).
 */
static void put_llvm_lddw(struct out *o, const struct sluice_insn *insn,
			  enum insn_op op, uint64_t imm64)
{
	int dst = insn->dst;
	int32_t hi = (int32_t)(imm64 >> 32);

	switch (op) {
	case OP_LDDW_MAP_FD:
	case OP_LDDW_MAP_IDX:
		put(o, "r%d = map[%" PRId32 "]", dst, insn->imm);
		break;
	case OP_LDDW_MAP_VALUE:
	case OP_LDDW_MAP_IDX_VALUE:
		put(o, "r%d = map[%" PRId32 "][0]+%" PRId32, dst, insn->imm, hi);
		break;
	case OP_LDDW_BTF_ID:
		put(o, "r%d = btf_id[%" PRId32 "]", dst, insn->imm);
		break;
	case OP_LDDW_FUNC:
		put(o, "r%d = func pc%+" PRId32, dst, insn->imm);
		break;
	default:
		put(o, "r%d = 0x%" PRIx64 " ll", dst, imm64);
		break;
	}
}

static void put_llvm(struct out *o, const struct sluice_insn *insn, enum insn_op op,
		     uint64_t imm64)
{
	const struct insn_info *info = &insn_table[op];
	const char *oper = info->llvm;
	char r = insn_is_wide(op) ? 'r' : 'w';
	int dst = insn->dst, src = insn->src;
	char addr[32];

	switch ((enum insn_shape)info->shape) {
	case SHAPE_ALU_REG:
		if (sign_extend_bits(info))
			put(o, "%c%d = (s%" PRId32 ")%c%d", r, dst, sign_extend_bits(info), r, src);
		else
			put(o, "%c%d %s %c%d", r, dst, oper, r, src);
		break;
	case SHAPE_ALU_IMM:
		put(o, "%c%d %s %" PRId32, r, dst, oper, insn->imm);
		break;
	case SHAPE_ALU_UNARY:
		if (info->match == MATCH_IMM) /* byte order: the width is in imm */
			put(o, "r%d = %s%" PRId32 " r%d", dst, oper, insn->imm, dst);
		else
			put(o, "%c%d = %s%c%d", r, dst, oper, r, dst);
		break;
	case SHAPE_LOAD:
		put(o, "r%d = *(%s *)(%s)", dst, oper,
		    llvm_address(addr, sizeof(addr), src, insn->off));
		break;
	case SHAPE_STORE_IMM:
		put(o, "*(%s *)(%s) = %" PRId32, oper,
		    llvm_address(addr, sizeof(addr), dst, insn->off), insn->imm);
		break;
	case SHAPE_STORE_REG:
		put(o, "*(%s *)(%s) = r%d", oper,
		    llvm_address(addr, sizeof(addr), dst, insn->off), src);
		break;
	case SHAPE_ATOMIC:
		put_llvm_atomic(o, insn, op, llvm_address(addr, sizeof(addr), dst, insn->off));
		break;
	case SHAPE_LDDW:
		put_llvm_lddw(o, insn, op, imm64);
		break;
	case SHAPE_LDABS:
		put(o, "r0 = *(%s *)skb[%" PRId32 "]", oper, insn->imm);
		break;
	case SHAPE_LDIND:
		put(o, "r0 = *(%s *)skb[r%d + %" PRId32 "]", oper, src, insn->imm);
		break;
	case SHAPE_JA:
		put(o, "%s %+d", oper, insn->off);
		break;
	case SHAPE_JA32:
		put(o, "%s %+" PRId32, oper, insn->imm);
		break;
	case SHAPE_JCOND_IMM:
		/* the kernel prints compared immediates as their 32-bit pattern */
		put(o, "if %c%d %s 0x%" PRIx32 " goto %+d", r, dst, oper, (uint32_t)insn->imm,
		    insn->off);
		break;
	case SHAPE_JCOND_REG:
		put(o, "if %c%d %s %c%d goto %+d", r, dst, oper, r, src, insn->off);
		break;
	case SHAPE_CALL:
		put(o, "%s %" PRId32, oper, insn->imm);
		break;
	case SHAPE_CALL_LOCAL:
		put(o, "%s pc%+" PRId32, oper, insn->imm);
		break;
	case SHAPE_CALLX:
		put(o, "%s r%d", oper, dst);
		break;
	case SHAPE_EXIT:
		put(o, "%s", oper);
		break;
	}
}

/* Write the decoded instruction at pc; returns the slots it takes. */
static int render(struct out *o, const struct sluice_insn *insns, size_t pc,
		  enum insn_op op, enum sluice_disasm_style style)
{
	uint64_t imm64 = (uint32_t)insns[pc].imm;

	if (insn_table[op].shape == SHAPE_LDDW)
		imm64 |= (uint64_t)(uint32_t)insns[pc + 1].imm << 32;
	if (style == SLUICE_DISASM_ASM)
		put_asm(o, &insns[pc], op, imm64);
	else
		put_llvm(o, &insns[pc], op, imm64);
	return (int)sluice_insn_slots(&insns[pc]);
}

int sluice_disasm_insn(const struct sluice_insn *insns, size_t count, size_t pc,
		       enum sluice_disasm_style style, char *buf, size_t buflen)
{
	struct out o = { buf, buflen, 0 };
	char why[64];
	struct out reason = { why, sizeof(why), 0 };
	int op = decode(insns, count, pc, &reason);

	if (buflen)
		buf[0] = '\0';
	if (op < 0) {
		put(&o, "<%s>", why);
		return -EINVAL;
	}
	return render(&o, insns, pc, (enum insn_op)op, style);
}

int sluice_disasm(const struct sluice_insn *insns, size_t count,
		  enum sluice_disasm_style style, char **text,
		  struct sluice_error *err)
{
	size_t len = 0, cap = 256;
	char *s = malloc(cap);

	if (!s)
		return sluice_fail(err, ENOMEM, "out of memory");
	s[0] = '\0';
	for (size_t pc = 0; pc < count;) {
		char line[128];
		struct out o = { line, sizeof(line), 0 };
		int op = decode(insns, count, pc, &o);

		if (op < 0) {
			free(s);
			return sluice_fail(err, EINVAL, "pc %zu: %s", pc, line);
		}
		pc += (size_t)render(&o, insns, pc, (enum insn_op)op, style);
		if (len + o.len + 2 > cap) {
			char *bigger;

			while (len + o.len + 2 > cap)
				cap *= 2;
			bigger = realloc(s, cap);
			if (!bigger) {
				free(s);
				return sluice_fail(err, ENOMEM, "out of memory");
			}
			s = bigger;
		}
		memcpy(s + len, line, o.len);
		len += o.len;
		s[len++] = '\n';
		s[len] = '\0';
	}
	*text = s;
	return 0;
}
