/* SPDX-License-Identifier: MIT */
/*
 * The BPF instruction set (RFC 9669 plus the v4 additions), one line per
 * instruction.  This list is the specification: the decoder, assembler,
 * disassembler and interpreter (and later the verifier and JIT) read it
 * through src/insn.h instead of repeating their own switches.
 *
 * Columns:
 *   id        name of the operation (OP_<id>, and the interpreter's handler)
 *   opcode    the opcode byte
 *   match     which other field tells instructions with the same opcode apart:
 *             ANY (none), OFF (div vs sdiv, mov vs movsx), IMM (byte order
 *             width, atomic operation), SRC (helper vs local call, lddw kind)
 *   value     the value that field must hold
 *   mnemonic  the assembler's name (conformance-suite syntax)
 *   shape     the operands it takes, see enum insn_shape
 *   llvm      the operator in kernel/llvm-objdump style ("+=", "s>", "u16")
 *   version   the ISA version that introduced it (cpu v1..v4)
 *
 * The lddw_* rows and `call kfunc` are the pseudo forms a loader produces
 * (src names what the immediate refers to: a map, a map value, a kernel
 * BTF id, a function); they run only once a runtime has resolved them.
 *   group     its RFC 9669 conformance group
 */
#ifndef SLUICE_INSN_TABLE_H
#define SLUICE_INSN_TABLE_H

/*  id                  opcode match value mnemonic              shape        llvm         version group */
#define SLUICE_ISA(X) \
X(ADD64_IMM,          0x07, ANY,    0, "add",                 ALU_IMM,    "+=",          1, BASE64) \
X(ADD64_REG,          0x0f, ANY,    0, "add",                 ALU_REG,    "+=",          1, BASE64) \
X(SUB64_IMM,          0x17, ANY,    0, "sub",                 ALU_IMM,    "-=",          1, BASE64) \
X(SUB64_REG,          0x1f, ANY,    0, "sub",                 ALU_REG,    "-=",          1, BASE64) \
X(MUL64_IMM,          0x27, ANY,    0, "mul",                 ALU_IMM,    "*=",          1, DIVMUL64) \
X(MUL64_REG,          0x2f, ANY,    0, "mul",                 ALU_REG,    "*=",          1, DIVMUL64) \
X(DIV64_IMM,          0x37, OFF,    0, "div",                 ALU_IMM,    "/=",          1, DIVMUL64) \
X(DIV64_REG,          0x3f, OFF,    0, "div",                 ALU_REG,    "/=",          1, DIVMUL64) \
X(OR64_IMM,           0x47, ANY,    0, "or",                  ALU_IMM,    "|=",          1, BASE64) \
X(OR64_REG,           0x4f, ANY,    0, "or",                  ALU_REG,    "|=",          1, BASE64) \
X(AND64_IMM,          0x57, ANY,    0, "and",                 ALU_IMM,    "&=",          1, BASE64) \
X(AND64_REG,          0x5f, ANY,    0, "and",                 ALU_REG,    "&=",          1, BASE64) \
X(LSH64_IMM,          0x67, ANY,    0, "lsh",                 ALU_IMM,    "<<=",         1, BASE64) \
X(LSH64_REG,          0x6f, ANY,    0, "lsh",                 ALU_REG,    "<<=",         1, BASE64) \
X(RSH64_IMM,          0x77, ANY,    0, "rsh",                 ALU_IMM,    ">>=",         1, BASE64) \
X(RSH64_REG,          0x7f, ANY,    0, "rsh",                 ALU_REG,    ">>=",         1, BASE64) \
X(MOD64_IMM,          0x97, OFF,    0, "mod",                 ALU_IMM,    "%=",          1, DIVMUL64) \
X(MOD64_REG,          0x9f, OFF,    0, "mod",                 ALU_REG,    "%=",          1, DIVMUL64) \
X(XOR64_IMM,          0xa7, ANY,    0, "xor",                 ALU_IMM,    "^=",          1, BASE64) \
X(XOR64_REG,          0xaf, ANY,    0, "xor",                 ALU_REG,    "^=",          1, BASE64) \
X(MOV64_IMM,          0xb7, OFF,    0, "mov",                 ALU_IMM,    "=",           1, BASE64) \
X(MOV64_REG,          0xbf, OFF,    0, "mov",                 ALU_REG,    "=",           1, BASE64) \
X(ARSH64_IMM,         0xc7, ANY,    0, "arsh",                ALU_IMM,    "s>>=",        1, BASE64) \
X(ARSH64_REG,         0xcf, ANY,    0, "arsh",                ALU_REG,    "s>>=",        1, BASE64) \
X(NEG64,              0x87, ANY,    0, "neg",                 ALU_UNARY,  "-",           1, BASE64) \
X(SDIV64_IMM,         0x37, OFF,    1, "sdiv",                ALU_IMM,    "s/=",         4, DIVMUL64) \
X(SDIV64_REG,         0x3f, OFF,    1, "sdiv",                ALU_REG,    "s/=",         4, DIVMUL64) \
X(SMOD64_IMM,         0x97, OFF,    1, "smod",                ALU_IMM,    "s%=",         4, DIVMUL64) \
X(SMOD64_REG,         0x9f, OFF,    1, "smod",                ALU_REG,    "s%=",         4, DIVMUL64) \
X(ADD32_IMM,          0x04, ANY,    0, "add32",               ALU_IMM,    "+=",          1, BASE32) \
X(ADD32_REG,          0x0c, ANY,    0, "add32",               ALU_REG,    "+=",          1, BASE32) \
X(SUB32_IMM,          0x14, ANY,    0, "sub32",               ALU_IMM,    "-=",          1, BASE32) \
X(SUB32_REG,          0x1c, ANY,    0, "sub32",               ALU_REG,    "-=",          1, BASE32) \
X(MUL32_IMM,          0x24, ANY,    0, "mul32",               ALU_IMM,    "*=",          1, DIVMUL32) \
X(MUL32_REG,          0x2c, ANY,    0, "mul32",               ALU_REG,    "*=",          1, DIVMUL32) \
X(DIV32_IMM,          0x34, OFF,    0, "div32",               ALU_IMM,    "/=",          1, DIVMUL32) \
X(DIV32_REG,          0x3c, OFF,    0, "div32",               ALU_REG,    "/=",          1, DIVMUL32) \
X(OR32_IMM,           0x44, ANY,    0, "or32",                ALU_IMM,    "|=",          1, BASE32) \
X(OR32_REG,           0x4c, ANY,    0, "or32",                ALU_REG,    "|=",          1, BASE32) \
X(AND32_IMM,          0x54, ANY,    0, "and32",               ALU_IMM,    "&=",          1, BASE32) \
X(AND32_REG,          0x5c, ANY,    0, "and32",               ALU_REG,    "&=",          1, BASE32) \
X(LSH32_IMM,          0x64, ANY,    0, "lsh32",               ALU_IMM,    "<<=",         1, BASE32) \
X(LSH32_REG,          0x6c, ANY,    0, "lsh32",               ALU_REG,    "<<=",         1, BASE32) \
X(RSH32_IMM,          0x74, ANY,    0, "rsh32",               ALU_IMM,    ">>=",         1, BASE32) \
X(RSH32_REG,          0x7c, ANY,    0, "rsh32",               ALU_REG,    ">>=",         1, BASE32) \
X(MOD32_IMM,          0x94, OFF,    0, "mod32",               ALU_IMM,    "%=",          1, DIVMUL32) \
X(MOD32_REG,          0x9c, OFF,    0, "mod32",               ALU_REG,    "%=",          1, DIVMUL32) \
X(XOR32_IMM,          0xa4, ANY,    0, "xor32",               ALU_IMM,    "^=",          1, BASE32) \
X(XOR32_REG,          0xac, ANY,    0, "xor32",               ALU_REG,    "^=",          1, BASE32) \
X(MOV32_IMM,          0xb4, OFF,    0, "mov32",               ALU_IMM,    "=",           1, BASE32) \
X(MOV32_REG,          0xbc, OFF,    0, "mov32",               ALU_REG,    "=",           1, BASE32) \
X(ARSH32_IMM,         0xc4, ANY,    0, "arsh32",              ALU_IMM,    "s>>=",        1, BASE32) \
X(ARSH32_REG,         0xcc, ANY,    0, "arsh32",              ALU_REG,    "s>>=",        1, BASE32) \
X(NEG32,              0x84, ANY,    0, "neg32",               ALU_UNARY,  "-",           1, BASE32) \
X(SDIV32_IMM,         0x34, OFF,    1, "sdiv32",              ALU_IMM,    "s/=",         4, DIVMUL32) \
X(SDIV32_REG,         0x3c, OFF,    1, "sdiv32",              ALU_REG,    "s/=",         4, DIVMUL32) \
X(SMOD32_IMM,         0x94, OFF,    1, "smod32",              ALU_IMM,    "s%=",         4, DIVMUL32) \
X(SMOD32_REG,         0x9c, OFF,    1, "smod32",              ALU_REG,    "s%=",         4, DIVMUL32) \
X(MOVSX8_32,          0xbc, OFF,    8, "movsx832",            ALU_REG,    "=",           4, BASE32) \
X(MOVSX16_32,         0xbc, OFF,   16, "movsx1632",           ALU_REG,    "=",           4, BASE32) \
X(MOVSX8_64,          0xbf, OFF,    8, "movsx864",            ALU_REG,    "=",           4, BASE64) \
X(MOVSX16_64,         0xbf, OFF,   16, "movsx1664",           ALU_REG,    "=",           4, BASE64) \
X(MOVSX32_64,         0xbf, OFF,   32, "movsx3264",           ALU_REG,    "=",           4, BASE64) \
X(LE16,               0xd4, IMM,   16, "le16",                ALU_UNARY,  "le",          1, BASE32) \
X(LE32,               0xd4, IMM,   32, "le32",                ALU_UNARY,  "le",          1, BASE32) \
X(LE64,               0xd4, IMM,   64, "le64",                ALU_UNARY,  "le",          1, BASE32) \
X(BE16,               0xdc, IMM,   16, "be16",                ALU_UNARY,  "be",          1, BASE32) \
X(BE32,               0xdc, IMM,   32, "be32",                ALU_UNARY,  "be",          1, BASE32) \
X(BE64,               0xdc, IMM,   64, "be64",                ALU_UNARY,  "be",          1, BASE32) \
X(BSWAP16,            0xd7, IMM,   16, "bswap16",             ALU_UNARY,  "bswap",       4, BASE32) \
X(BSWAP32,            0xd7, IMM,   32, "bswap32",             ALU_UNARY,  "bswap",       4, BASE32) \
X(BSWAP64,            0xd7, IMM,   64, "bswap64",             ALU_UNARY,  "bswap",       4, BASE32) \
X(LDXW,               0x61, ANY,    0, "ldxw",                LOAD,       "u32",         1, BASE32) \
X(LDXH,               0x69, ANY,    0, "ldxh",                LOAD,       "u16",         1, BASE32) \
X(LDXB,               0x71, ANY,    0, "ldxb",                LOAD,       "u8",          1, BASE32) \
X(LDXDW,              0x79, ANY,    0, "ldxdw",               LOAD,       "u64",         1, BASE32) \
X(LDXSW,              0x81, ANY,    0, "ldxsw",               LOAD,       "s32",         4, BASE32) \
X(LDXSH,              0x89, ANY,    0, "ldxsh",               LOAD,       "s16",         4, BASE32) \
X(LDXSB,              0x91, ANY,    0, "ldxsb",               LOAD,       "s8",          4, BASE32) \
X(STW,                0x62, ANY,    0, "stw",                 STORE_IMM,  "u32",         1, BASE32) \
X(STH,                0x6a, ANY,    0, "sth",                 STORE_IMM,  "u16",         1, BASE32) \
X(STB,                0x72, ANY,    0, "stb",                 STORE_IMM,  "u8",          1, BASE32) \
X(STDW,               0x7a, ANY,    0, "stdw",                STORE_IMM,  "u64",         1, BASE32) \
X(STXW,               0x63, ANY,    0, "stxw",                STORE_REG,  "u32",         1, BASE32) \
X(STXH,               0x6b, ANY,    0, "stxh",                STORE_REG,  "u16",         1, BASE32) \
X(STXB,               0x73, ANY,    0, "stxb",                STORE_REG,  "u8",          1, BASE32) \
X(STXDW,              0x7b, ANY,    0, "stxdw",               STORE_REG,  "u64",         1, BASE32) \
X(ATOMIC32_ADD,       0xc3, IMM,    0, "lock add32",          ATOMIC,     "+=",          3, ATOMIC32) \
X(ATOMIC32_FETCH_ADD, 0xc3, IMM,    1, "lock fetch add32",    ATOMIC,     "fetch_add",   3, ATOMIC32) \
X(ATOMIC32_OR,        0xc3, IMM,   64, "lock or32",           ATOMIC,     "|=",          3, ATOMIC32) \
X(ATOMIC32_FETCH_OR,  0xc3, IMM,   65, "lock fetch or32",     ATOMIC,     "fetch_or",    3, ATOMIC32) \
X(ATOMIC32_AND,       0xc3, IMM,   80, "lock and32",          ATOMIC,     "&=",          3, ATOMIC32) \
X(ATOMIC32_FETCH_AND, 0xc3, IMM,   81, "lock fetch and32",    ATOMIC,     "fetch_and",   3, ATOMIC32) \
X(ATOMIC32_XOR,       0xc3, IMM,  160, "lock xor32",          ATOMIC,     "^=",          3, ATOMIC32) \
X(ATOMIC32_FETCH_XOR, 0xc3, IMM,  161, "lock fetch xor32",    ATOMIC,     "fetch_xor",   3, ATOMIC32) \
X(ATOMIC32_XCHG,      0xc3, IMM,  225, "lock xchg32",         ATOMIC,     "xchg",        3, ATOMIC32) \
X(ATOMIC32_CMPXCHG,   0xc3, IMM,  241, "lock cmpxchg32",      ATOMIC,     "cmpxchg",     3, ATOMIC32) \
X(ATOMIC64_ADD,       0xdb, IMM,    0, "lock add",            ATOMIC,     "+=",          3, ATOMIC64) \
X(ATOMIC64_FETCH_ADD, 0xdb, IMM,    1, "lock fetch add",      ATOMIC,     "fetch_add",   3, ATOMIC64) \
X(ATOMIC64_OR,        0xdb, IMM,   64, "lock or",             ATOMIC,     "|=",          3, ATOMIC64) \
X(ATOMIC64_FETCH_OR,  0xdb, IMM,   65, "lock fetch or",       ATOMIC,     "fetch_or",    3, ATOMIC64) \
X(ATOMIC64_AND,       0xdb, IMM,   80, "lock and",            ATOMIC,     "&=",          3, ATOMIC64) \
X(ATOMIC64_FETCH_AND, 0xdb, IMM,   81, "lock fetch and",      ATOMIC,     "fetch_and",   3, ATOMIC64) \
X(ATOMIC64_XOR,       0xdb, IMM,  160, "lock xor",            ATOMIC,     "^=",          3, ATOMIC64) \
X(ATOMIC64_FETCH_XOR, 0xdb, IMM,  161, "lock fetch xor",      ATOMIC,     "fetch_xor",   3, ATOMIC64) \
X(ATOMIC64_XCHG,      0xdb, IMM,  225, "lock xchg",           ATOMIC,     "xchg",        3, ATOMIC64) \
X(ATOMIC64_CMPXCHG,   0xdb, IMM,  241, "lock cmpxchg",        ATOMIC,     "cmpxchg",     3, ATOMIC64) \
X(LDDW,               0x18, SRC,    0, "lddw",                LDDW,       "=",           1, BASE64) \
X(LDDW_MAP_FD,        0x18, SRC,    1, "lddw_map",            LDDW,       "map",         1, BASE64) \
X(LDDW_MAP_VALUE,     0x18, SRC,    2, "lddw_map_value",      LDDW,       "map_value",   1, BASE64) \
X(LDDW_BTF_ID,        0x18, SRC,    3, "lddw_btf_id",         LDDW,       "btf_id",      1, BASE64) \
X(LDDW_FUNC,          0x18, SRC,    4, "lddw_func",           LDDW,       "func",        1, BASE64) \
X(LDDW_MAP_IDX,       0x18, SRC,    5, "lddw_map_idx",        LDDW,       "map",         1, BASE64) \
X(LDDW_MAP_IDX_VALUE, 0x18, SRC,    6, "lddw_map_idx_value",  LDDW,       "map_value",   1, BASE64) \
X(LDABSW,             0x20, ANY,    0, "ldabsw",              LDABS,      "u32",         1, PACKET) \
X(LDABSH,             0x28, ANY,    0, "ldabsh",              LDABS,      "u16",         1, PACKET) \
X(LDABSB,             0x30, ANY,    0, "ldabsb",              LDABS,      "u8",          1, PACKET) \
X(LDINDW,             0x40, ANY,    0, "ldindw",              LDIND,      "u32",         1, PACKET) \
X(LDINDH,             0x48, ANY,    0, "ldindh",              LDIND,      "u16",         1, PACKET) \
X(LDINDB,             0x50, ANY,    0, "ldindb",              LDIND,      "u8",          1, PACKET) \
X(JA,                 0x05, ANY,    0, "ja",                  JA,         "goto",        1, BASE32) \
X(JA32,               0x06, ANY,    0, "ja32",                JA32,       "gotol",       4, BASE32) \
X(JEQ64_IMM,          0x15, ANY,    0, "jeq",                 JCOND_IMM,  "==",          1, BASE64) \
X(JEQ64_REG,          0x1d, ANY,    0, "jeq",                 JCOND_REG,  "==",          1, BASE64) \
X(JGT64_IMM,          0x25, ANY,    0, "jgt",                 JCOND_IMM,  ">",           1, BASE64) \
X(JGT64_REG,          0x2d, ANY,    0, "jgt",                 JCOND_REG,  ">",           1, BASE64) \
X(JGE64_IMM,          0x35, ANY,    0, "jge",                 JCOND_IMM,  ">=",          1, BASE64) \
X(JGE64_REG,          0x3d, ANY,    0, "jge",                 JCOND_REG,  ">=",          1, BASE64) \
X(JSET64_IMM,         0x45, ANY,    0, "jset",                JCOND_IMM,  "&",           1, BASE64) \
X(JSET64_REG,         0x4d, ANY,    0, "jset",                JCOND_REG,  "&",           1, BASE64) \
X(JNE64_IMM,          0x55, ANY,    0, "jne",                 JCOND_IMM,  "!=",          1, BASE64) \
X(JNE64_REG,          0x5d, ANY,    0, "jne",                 JCOND_REG,  "!=",          1, BASE64) \
X(JSGT64_IMM,         0x65, ANY,    0, "jsgt",                JCOND_IMM,  "s>",          1, BASE64) \
X(JSGT64_REG,         0x6d, ANY,    0, "jsgt",                JCOND_REG,  "s>",          1, BASE64) \
X(JSGE64_IMM,         0x75, ANY,    0, "jsge",                JCOND_IMM,  "s>=",         1, BASE64) \
X(JSGE64_REG,         0x7d, ANY,    0, "jsge",                JCOND_REG,  "s>=",         1, BASE64) \
X(JLT64_IMM,          0xa5, ANY,    0, "jlt",                 JCOND_IMM,  "<",           2, BASE64) \
X(JLT64_REG,          0xad, ANY,    0, "jlt",                 JCOND_REG,  "<",           2, BASE64) \
X(JLE64_IMM,          0xb5, ANY,    0, "jle",                 JCOND_IMM,  "<=",          2, BASE64) \
X(JLE64_REG,          0xbd, ANY,    0, "jle",                 JCOND_REG,  "<=",          2, BASE64) \
X(JSLT64_IMM,         0xc5, ANY,    0, "jslt",                JCOND_IMM,  "s<",          2, BASE64) \
X(JSLT64_REG,         0xcd, ANY,    0, "jslt",                JCOND_REG,  "s<",          2, BASE64) \
X(JSLE64_IMM,         0xd5, ANY,    0, "jsle",                JCOND_IMM,  "s<=",         2, BASE64) \
X(JSLE64_REG,         0xdd, ANY,    0, "jsle",                JCOND_REG,  "s<=",         2, BASE64) \
X(JEQ32_IMM,          0x16, ANY,    0, "jeq32",               JCOND_IMM,  "==",          3, BASE32) \
X(JEQ32_REG,          0x1e, ANY,    0, "jeq32",               JCOND_REG,  "==",          3, BASE32) \
X(JGT32_IMM,          0x26, ANY,    0, "jgt32",               JCOND_IMM,  ">",           3, BASE32) \
X(JGT32_REG,          0x2e, ANY,    0, "jgt32",               JCOND_REG,  ">",           3, BASE32) \
X(JGE32_IMM,          0x36, ANY,    0, "jge32",               JCOND_IMM,  ">=",          3, BASE32) \
X(JGE32_REG,          0x3e, ANY,    0, "jge32",               JCOND_REG,  ">=",          3, BASE32) \
X(JSET32_IMM,         0x46, ANY,    0, "jset32",              JCOND_IMM,  "&",           3, BASE32) \
X(JSET32_REG,         0x4e, ANY,    0, "jset32",              JCOND_REG,  "&",           3, BASE32) \
X(JNE32_IMM,          0x56, ANY,    0, "jne32",               JCOND_IMM,  "!=",          3, BASE32) \
X(JNE32_REG,          0x5e, ANY,    0, "jne32",               JCOND_REG,  "!=",          3, BASE32) \
X(JSGT32_IMM,         0x66, ANY,    0, "jsgt32",              JCOND_IMM,  "s>",          3, BASE32) \
X(JSGT32_REG,         0x6e, ANY,    0, "jsgt32",              JCOND_REG,  "s>",          3, BASE32) \
X(JSGE32_IMM,         0x76, ANY,    0, "jsge32",              JCOND_IMM,  "s>=",         3, BASE32) \
X(JSGE32_REG,         0x7e, ANY,    0, "jsge32",              JCOND_REG,  "s>=",         3, BASE32) \
X(JLT32_IMM,          0xa6, ANY,    0, "jlt32",               JCOND_IMM,  "<",           3, BASE32) \
X(JLT32_REG,          0xae, ANY,    0, "jlt32",               JCOND_REG,  "<",           3, BASE32) \
X(JLE32_IMM,          0xb6, ANY,    0, "jle32",               JCOND_IMM,  "<=",          3, BASE32) \
X(JLE32_REG,          0xbe, ANY,    0, "jle32",               JCOND_REG,  "<=",          3, BASE32) \
X(JSLT32_IMM,         0xc6, ANY,    0, "jslt32",              JCOND_IMM,  "s<",          3, BASE32) \
X(JSLT32_REG,         0xce, ANY,    0, "jslt32",              JCOND_REG,  "s<",          3, BASE32) \
X(JSLE32_IMM,         0xd6, ANY,    0, "jsle32",              JCOND_IMM,  "s<=",         3, BASE32) \
X(JSLE32_REG,         0xde, ANY,    0, "jsle32",              JCOND_REG,  "s<=",         3, BASE32) \
X(CALL,               0x85, SRC,    0, "call",                CALL,       "call",        1, BASE32) \
X(CALL_LOCAL,         0x85, SRC,    1, "call local",          CALL_LOCAL, "call",        3, BASE32) \
X(CALL_KFUNC,         0x85, SRC,    2, "call kfunc",          CALL,       "call kfunc",  3, BASE32) \
X(CALLX,              0x8d, ANY,    0, "call",                CALLX,      "callx",       1, CALLX) \
X(EXIT,               0x95, ANY,    0, "exit",                EXIT,       "exit",        1, BASE32)

#endif
