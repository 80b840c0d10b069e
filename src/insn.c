/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "insn.h"

_Static_assert(sizeof(struct sluice_insn) == SLUICE_INSN_SIZE,
	       "struct sluice_insn must match the 8-byte encoding");
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "instructions are copied as they are laid out on little-endian hosts");

const struct insn_info insn_table[OP__COUNT] = {
#define X(id_, opcode_, match_, value_, mnemonic_, shape_, llvm_, version_, group_) \
	[OP_##id_] = { .id = #id_, .opcode = opcode_, .match = MATCH_##match_,       \
		       .match_value = value_, .mnemonic = mnemonic_,                 \
		       .shape = SHAPE_##shape_, .llvm = llvm_, .version = version_,  \
		       .group = GROUP_##group_ },
	SLUICE_ISA(X)
#undef X
};

static const unsigned shape_fields[] = {
	[SHAPE_ALU_REG] = FIELD_DST | FIELD_SRC,
	[SHAPE_ALU_IMM] = FIELD_DST | FIELD_IMM,
	[SHAPE_ALU_UNARY] = FIELD_DST,
	[SHAPE_LOAD] = FIELD_DST | FIELD_SRC | FIELD_OFF,
	[SHAPE_STORE_IMM] = FIELD_DST | FIELD_OFF | FIELD_IMM,
	[SHAPE_STORE_REG] = FIELD_DST | FIELD_SRC | FIELD_OFF,
	[SHAPE_ATOMIC] = FIELD_DST | FIELD_SRC | FIELD_OFF,
	[SHAPE_LDDW] = FIELD_DST | FIELD_IMM,
	[SHAPE_LDABS] = FIELD_IMM,
	[SHAPE_LDIND] = FIELD_SRC | FIELD_IMM,
	[SHAPE_JA] = FIELD_OFF,
	[SHAPE_JA32] = FIELD_IMM,
	[SHAPE_JCOND_IMM] = FIELD_DST | FIELD_OFF | FIELD_IMM,
	[SHAPE_JCOND_REG] = FIELD_DST | FIELD_SRC | FIELD_OFF,
	[SHAPE_CALL] = FIELD_IMM,
	[SHAPE_CALL_LOCAL] = FIELD_IMM,
	[SHAPE_CALLX] = FIELD_DST,
	[SHAPE_EXIT] = 0,
};

unsigned insn_shape_fields(enum insn_shape shape)
{
	return shape_fields[shape];
}

static const uint8_t shape_operands[][INSN_MAX_OPERANDS + 1] = {
	[SHAPE_ALU_REG] = { OPERAND_DST, OPERAND_SRC },
	[SHAPE_ALU_IMM] = { OPERAND_DST, OPERAND_IMM },
	[SHAPE_ALU_UNARY] = { OPERAND_DST },
	[SHAPE_LOAD] = { OPERAND_DST, OPERAND_MEM_SRC },
	[SHAPE_STORE_IMM] = { OPERAND_MEM_DST, OPERAND_IMM },
	[SHAPE_STORE_REG] = { OPERAND_MEM_DST, OPERAND_SRC },
	[SHAPE_ATOMIC] = { OPERAND_MEM_DST, OPERAND_SRC },
	[SHAPE_LDDW] = { OPERAND_DST, OPERAND_IMM64 },
	[SHAPE_LDABS] = { OPERAND_IMM },
	[SHAPE_LDIND] = { OPERAND_SRC, OPERAND_IMM },
	[SHAPE_JA] = { OPERAND_JUMP_OFF },
	[SHAPE_JA32] = { OPERAND_JUMP_IMM },
	[SHAPE_JCOND_IMM] = { OPERAND_DST, OPERAND_IMM, OPERAND_JUMP_OFF },
	[SHAPE_JCOND_REG] = { OPERAND_DST, OPERAND_SRC, OPERAND_JUMP_OFF },
	[SHAPE_CALL] = { OPERAND_IMM },
	[SHAPE_CALL_LOCAL] = { OPERAND_JUMP_IMM },
	[SHAPE_CALLX] = { OPERAND_DST },
	[SHAPE_EXIT] = { OPERAND_NONE },
};

const uint8_t *insn_shape_operands(enum insn_shape shape)
{
	return shape_operands[shape];
}

struct sluice_insn insn_encode(enum insn_op op)
{
	const struct insn_info *info = &insn_table[op];
	struct sluice_insn insn = { .code = info->opcode };

	if (info->match == MATCH_OFF)
		insn.off = (int16_t)info->match_value;
	else if (info->match == MATCH_IMM)
		insn.imm = info->match_value;
	else if (info->match == MATCH_SRC)
		insn.src = (uint8_t)info->match_value;
	return insn;
}

void insn_data_regs(const struct sluice_insn *insn, enum insn_op op, uint16_t *reads,
		    uint16_t *writes)
{
	uint16_t dst = (uint16_t)(1u << insn->dst), src = (uint16_t)(1u << insn->src);
	/* mov and movsx only write their destination */
	bool assigns = !strcmp(insn_table[op].llvm, "=");

	*reads = *writes = 0;
	switch ((enum insn_shape)insn_table[op].shape) {
	case SHAPE_ALU_REG:
		*reads = (uint16_t)(src | (assigns ? 0 : dst));
		*writes = dst;
		break;
	case SHAPE_ALU_IMM:
		*reads = assigns ? 0 : dst;
		*writes = dst;
		break;
	case SHAPE_ALU_UNARY:
		*reads = *writes = dst;
		break;
	case SHAPE_LOAD:
	case SHAPE_LDDW:
		*reads = insn_table[op].shape == SHAPE_LOAD ? src : 0;
		*writes = dst;
		break;
	case SHAPE_STORE_IMM:
	case SHAPE_JCOND_IMM:
		*reads = dst;
		break;
	case SHAPE_STORE_REG:
	case SHAPE_JCOND_REG:
		*reads = dst | src;
		break;
	case SHAPE_ATOMIC:
		*reads = dst | src;
		if (op == OP_ATOMIC32_CMPXCHG || op == OP_ATOMIC64_CMPXCHG) {
			*reads |= 1u;
			*writes = 1u;
		} else if (insn->imm & 1) { /* BPF_FETCH */
			*writes = src;
		}
		break;
	default:
		break;
	}
}

struct sluice_insn insn_make(enum insn_op op, int dst, int src, int32_t off, int32_t imm)
{
	struct sluice_insn insn = insn_encode(op);
	unsigned fields = insn_shape_fields((enum insn_shape)insn_table[op].shape);

	if (fields & FIELD_DST)
		insn.dst = (uint8_t)dst;
	if (fields & FIELD_SRC)
		insn.src = (uint8_t)src;
	if (fields & FIELD_OFF)
		insn.off = (int16_t)off;
	if (fields & FIELD_IMM)
		insn.imm = imm;
	return insn;
}

/*
 * Rows sharing an opcode byte are chained so that a lookup tries only the
 * few rows that can match; built once, read by every thread after.
 */
static int16_t first_row[256];
static int16_t next_row[OP__COUNT];
static pthread_once_t chains_once = PTHREAD_ONCE_INIT;

static void build_chains(void)
{
	for (int i = 0; i < 256; i++)
		first_row[i] = -1;
	for (int op = OP__COUNT - 1; op >= 0; op--) {
		uint8_t code = insn_table[op].opcode;

		next_row[op] = first_row[code];
		first_row[code] = (int16_t)op;
	}
}

static int32_t match_field(const struct sluice_insn *insn, enum insn_match m)
{
	switch (m) {
	case MATCH_OFF:
		return insn->off;
	case MATCH_IMM:
		return insn->imm;
	case MATCH_SRC:
		return insn->src;
	case MATCH_ANY:
		break;
	}
	return 0;
}

int insn_lookup(const struct sluice_insn *insn)
{
	pthread_once(&chains_once, build_chains);
	for (int op = first_row[insn->code]; op >= 0; op = next_row[op]) {
		const struct insn_info *info = &insn_table[op];

		if (info->match == MATCH_ANY ||
		    match_field(insn, info->match) == info->match_value)
			return op;
	}
	return -1;
}

unsigned insn_access_size(enum insn_op op)
{
	static const unsigned by_size_bits[4] = { 4, 2, 1, 8 };

	return by_size_bits[(insn_table[op].opcode >> 3) & 3];
}

size_t sluice_insn_slots(const struct sluice_insn *insn)
{
	return insn->code == insn_table[OP_LDDW].opcode ? 2 : 1;
}

bool insn_branch_target(const struct sluice_insn *insn, enum insn_op op,
			size_t pc, int64_t *target)
{
	switch (insn_table[op].shape) {
	case SHAPE_JA:
	case SHAPE_JCOND_IMM:
	case SHAPE_JCOND_REG:
		*target = (int64_t)pc + 1 + insn->off;
		return true;
	case SHAPE_JA32:
	case SHAPE_CALL_LOCAL:
		*target = (int64_t)pc + 1 + insn->imm;
		return true;
	default:
		/* a callback's address, relative like a local call's */
		*target = (int64_t)pc + 1 + insn->imm;
		return op == OP_LDDW_FUNC;
	}
}

int sluice_insns_decode(const void *bytes, size_t len, struct sluice_insn **out,
			size_t *count, struct sluice_error *err)
{
	if (len == 0)
		return sluice_fail(err, EINVAL, "empty program");
	if (len % SLUICE_INSN_SIZE)
		return sluice_fail(err, EINVAL,
				   "program size %zu is not a multiple of %d bytes",
				   len, SLUICE_INSN_SIZE);
	*out = malloc(len);
	if (!*out)
		return sluice_fail(err, ENOMEM, "out of memory");
	memcpy(*out, bytes, len);
	*count = len / SLUICE_INSN_SIZE;
	return 0;
}

/* The field, other than the operands of its shape, that holds a stray value. */
static const char *stray_field(const struct sluice_insn *insn,
			       const struct insn_info *info)
{
	unsigned used = shape_fields[info->shape];

	if (!(used & FIELD_DST) && insn->dst)
		return "dst";
	if (!(used & FIELD_SRC) && info->match != MATCH_SRC && insn->src)
		return "src";
	if (!(used & FIELD_OFF) && info->match != MATCH_OFF && insn->off)
		return "offset";
	if (!(used & FIELD_IMM) && info->match != MATCH_IMM && insn->imm)
		return "imm";
	return NULL;
}

int sluice_insns_check(const struct sluice_insn *insns, size_t count,
		       struct sluice_error *err)
{
	/* second_half[pc] marks the upper slot of an lddw: no jump may land there */
	unsigned char *second_half;
	int ret = 0;

	if (count == 0)
		return sluice_fail(err, EINVAL, "empty program");
	second_half = calloc(count, 1);
	if (!second_half)
		return sluice_fail(err, ENOMEM, "out of memory");

	for (size_t pc = 0; pc < count && !ret; pc++) {
		const struct sluice_insn *insn = &insns[pc];
		int op = insn_lookup(insn);
		const char *stray;

		if (op < 0) {
			ret = sluice_fail(err, EINVAL,
					  "pc %zu: unknown opcode 0x%02x", pc,
					  insn->code);
		} else if (insn->dst > SLUICE_MAX_REG || insn->src > SLUICE_MAX_REG) {
			ret = sluice_fail(err, EINVAL,
					  "pc %zu: register r%u does not exist", pc,
					  insn->dst > SLUICE_MAX_REG ? insn->dst : insn->src);
		} else if ((stray = stray_field(insn, &insn_table[op]))) {
			ret = sluice_fail(err, EINVAL,
					  "pc %zu: %s: %s field must be zero", pc,
					  insn_table[op].mnemonic, stray);
		} else if (sluice_insn_slots(insn) == 2) {
			const struct sluice_insn *hi = insn + 1;

			if (pc + 1 >= count)
				ret = sluice_fail(err, EINVAL,
						  "pc %zu: lddw is missing its second half",
						  pc);
			else if (hi->code || hi->dst || hi->src || hi->off)
				ret = sluice_fail(err, EINVAL,
						  "pc %zu: lddw second half must hold only the upper immediate",
						  pc + 1);
			else
				second_half[++pc] = 1;
		}
	}

	for (size_t pc = 0; pc < count && !ret; pc += sluice_insn_slots(&insns[pc])) {
		int op = insn_lookup(&insns[pc]);
		int64_t target;

		if (insn_branch_target(&insns[pc], op, pc, &target)) {
			if (target < 0 || (uint64_t)target >= count)
				ret = sluice_fail(err, EINVAL,
						  "pc %zu: %s target %lld is outside the program (0..%zu)",
						  pc, insn_table[op].mnemonic,
						  (long long)target, count - 1);
			else if (second_half[target])
				ret = sluice_fail(err, EINVAL,
						  "pc %zu: %s target %lld is the middle of an lddw",
						  pc, insn_table[op].mnemonic,
						  (long long)target);
		}
	}
	free(second_half);
	return ret;
}
