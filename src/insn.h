/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_INSN_INTERNAL_H
#define SLUICE_INSN_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <sluice/insn.h>

#include "insn_table.h"

/* Instruction classes: the low three bits of the opcode. */
enum insn_class {
	CLASS_LD = 0x00, CLASS_LDX = 0x01, CLASS_ST = 0x02, CLASS_STX = 0x03,
	CLASS_ALU = 0x04, CLASS_JMP = 0x05, CLASS_JMP32 = 0x06, CLASS_ALU64 = 0x07,
};
#define INSN_CLASS(code) ((code) & 0x07)

/* One entry per line of the ISA table. */
enum insn_op {
#define X(id, ...) OP_##id,
	SLUICE_ISA(X)
#undef X
	OP__COUNT
};

/* The field that tells apart instructions sharing an opcode byte. */
enum insn_match { MATCH_ANY, MATCH_OFF, MATCH_IMM, MATCH_SRC };

/*
 * Operand shapes.  Each says which fields carry operands; every other field
 * must be zero, except the one named by the match column.
 */
enum insn_shape {
	SHAPE_ALU_REG,    /* op dst, src */
	SHAPE_ALU_IMM,    /* op dst, imm */
	SHAPE_ALU_UNARY,  /* op dst            (neg, byte order) */
	SHAPE_LOAD,       /* op dst, [src+off] */
	SHAPE_STORE_IMM,  /* op [dst+off], imm */
	SHAPE_STORE_REG,  /* op [dst+off], src */
	SHAPE_ATOMIC,     /* lock op [dst+off], src */
	SHAPE_LDDW,       /* lddw dst, imm64   (two slots) */
	SHAPE_LDABS,      /* op imm            (legacy packet access) */
	SHAPE_LDIND,      /* op src, imm */
	SHAPE_JA,         /* ja off */
	SHAPE_JA32,       /* ja32 imm */
	SHAPE_JCOND_IMM,  /* op dst, imm, off */
	SHAPE_JCOND_REG,  /* op dst, src, off */
	SHAPE_CALL,       /* call imm          (helper id) */
	SHAPE_CALL_LOCAL, /* call local imm    (relative slot) */
	SHAPE_CALLX,      /* call dst */
	SHAPE_EXIT,
};

enum insn_field { FIELD_DST = 1, FIELD_SRC = 2, FIELD_OFF = 4, FIELD_IMM = 8 };

/* RFC 9669 conformance groups. */
enum insn_group {
	GROUP_BASE32 = 1 << 0, GROUP_BASE64 = 1 << 1,
	GROUP_ATOMIC32 = 1 << 2, GROUP_ATOMIC64 = 1 << 3,
	GROUP_DIVMUL32 = 1 << 4, GROUP_DIVMUL64 = 1 << 5,
	GROUP_PACKET = 1 << 6, GROUP_CALLX = 1 << 7,
};

struct insn_info {
	const char *id;       /* "ADD64_IMM" */
	uint8_t opcode;
	uint8_t match;        /* enum insn_match */
	int32_t match_value;
	const char *mnemonic; /* "add" */
	uint8_t shape;        /* enum insn_shape */
	const char *llvm;     /* "+=" */
	uint8_t version;
	uint8_t group;        /* enum insn_group */
};

extern const struct insn_info insn_table[OP__COUNT];

/* Fields that carry operands for each shape (enum insn_field bits). */
unsigned insn_shape_fields(enum insn_shape shape);

/*
 * The operands of a shape as the assembler writes them, in order; shared by
 * the assembler and the disassembler so that the two cannot drift apart.
 */
enum insn_operand {
	OPERAND_NONE,
	OPERAND_DST,      /* %rD */
	OPERAND_SRC,      /* %rS */
	OPERAND_IMM,      /* 32-bit immediate */
	OPERAND_IMM64,    /* lddw: 64-bit immediate split over two slots */
	OPERAND_MEM_DST,  /* [%rD+off] */
	OPERAND_MEM_SRC,  /* [%rS+off] */
	OPERAND_JUMP_OFF, /* label or +N slots, kept in off */
	OPERAND_JUMP_IMM, /* label or +N slots, kept in imm */
};
#define INSN_MAX_OPERANDS 3

/* At most INSN_MAX_OPERANDS enum insn_operand values, then OPERAND_NONE. */
const uint8_t *insn_shape_operands(enum insn_shape shape);

/* The instruction op with every operand zero: its opcode and discriminator. */
struct sluice_insn insn_encode(enum insn_op op);
/*
 * The registers (bit r: rN) an instruction reads and those it writes as
 * data, from its shape: ALU, loads, stores, atomics (a fetch writes src,
 * cmpxchg reads and writes r0), lddw and jumps.  Calls, exit and the legacy
 * packet loads read and write by a convention the caller knows (helpers,
 * local calls, skb in r6): for those both masks come back 0.
 */
void insn_data_regs(const struct sluice_insn *insn, enum insn_op op, uint16_t *reads,
		    uint16_t *writes);

/* op with the operands its shape has (the others are ignored), as generators build code. */
struct sluice_insn insn_make(enum insn_op op, int dst, int src, int32_t off, int32_t imm);

/* The table row an instruction matches, or -1 for an unknown encoding. */
int insn_lookup(const struct sluice_insn *insn);

/* Width in bytes of a memory access by op (loads, stores, atomics, ld_abs). */
unsigned insn_access_size(enum insn_op op);

/* Does op belong to the 64-bit ALU / JMP class, as opposed to 32-bit? */
static inline bool insn_is_wide(enum insn_op op)
{
	uint8_t class = INSN_CLASS(insn_table[op].opcode);

	return class == CLASS_ALU64 || class == CLASS_JMP;
}

/*
 * Whether the instruction at pc is a jump or local call by offset, and if so
 * the slot it lands on in *target (which may lie outside the program).
 */
bool insn_branch_target(const struct sluice_insn *insn, enum insn_op op,
			size_t pc, int64_t *target);

#endif
