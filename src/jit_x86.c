/* SPDX-License-Identifier: MIT */
/*
 * The x86-64 JIT.
 *
 * Each BPF instruction becomes a short x86 sequence chosen by its row of
 * the ISA table (the op id, with its shape, width and access size from
 * src/insn.h).  The BPF registers live in x86 registers for the whole run
 * (reg2x86 below), so most instructions become one x86 instruction:
 * immediates go into the instruction, a conditional jump becomes cmp + jcc.
 * Register liveness (jit/liveness.c) drops what nothing reads: the zeroing
 * of registers no path reads unwritten, and the spare copy of a rotation,
 * which BPF has to spell in five instructions and x86 does in one.
 *
 * Layout of the code:
 *
 *   entry     save the callee-saved registers the program uses, take the
 *             BPF stack from the native one (r1-r5 arrive where they live,
 *             as arguments)
 *   body      the program, one sequence per instruction; `exit` is the
 *             epilogue: free the stack, restore the registers, return r0
 *   exits     falling off the end, then the unwinding path shared by a
 *             helper's stop, ld_abs out of range, and one stub per local
 *             call and callx site for its error: each only if the program
 *             can take it
 *
 * A program that needs none of the exits costs little more to call than a
 * C function: it does not even keep the run's context in r12.
 *
 * Map lookups.  Given the maps the program's lddw immediates may hold (the
 * runtime names its own), a bpf_map_lookup_elem whose r1 is the same one
 * of them on every path (jit/liveness.c) is compiled for that map, as the
 * kernel's JIT does with its verifier's record of each call site: inline
 * for an array, a direct call to the map's own lookup otherwise.  Neither
 * needs the run or can stop it, so a program whose only calls are such
 * lookups needs no context either.  Unsigned 32-bit division and modulo by
 * a constant multiply by its reciprocal instead of dividing.
 *
 * Jumps between instructions take 2 bytes when the distance fits in 8 bits
 * and 5 or 6 otherwise.  Distances depend on the sizes of the code between,
 * so the program is emitted in passes, each taking its distances from the
 * one before, until two passes agree (as the kernel's bpf_jit_comp.c does).
 * The first pass makes every jump long, so sizes only shrink from there and
 * the passes converge.
 *
 * Local calls are real call/ret pairs: the caller pushes r6-r9, moves r10
 * down one 512-byte frame and calls.  In a program that makes them, the
 * entry calls the body too, followed by the epilogue, and `exit` is `ret`
 * whichever frame it ends, because which frame that is is known only at
 * run time (the interpreter decides it the same way, with its depth
 * counter).
 *
 * The code runs verified or trusted programs: memory accesses are not
 * checked (the interpreter's checked mode is there for untrusted ones).
 */
#include <errno.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#include <sluice/jit.h>

#include "errmsg.h"
#include "helpers.h"
#include "insn.h"
#include "jit/liveness.h"
#include "maps/map.h"

#if !defined(__x86_64__)
#error "the JIT emits x86-64 code: build it on x86-64 hosts"
#endif

/* x86-64 registers, numbered as the encoding numbers them. */
enum x86_reg {
	RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI,
	R8, R9, R10, R11, R12, R13, R14, R15,
};

/*
 * Where each BPF register lives for the whole run.
 *
 *   r0       rax  where helpers return, and the comparand cmpxchg wants
 *   r1-r5    rdi, rsi, rdx, rcx, r8: the System V argument registers in
 *            order, so a helper call needs no moves
 *   r6-r9    rbx, r13, r14, r15: callee-saved, so helpers keep them (the
 *            BPF calling convention has them survive calls too)
 *   r10      rbp  callee-saved as well; never a base needing a SIB byte
 */
static const uint8_t reg2x86[SLUICE_MAX_REG + 1] = {
	[0] = RAX,
	[1] = RDI, [2] = RSI, [3] = RDX, [4] = RCX, [5] = R8,
	[6] = RBX, [7] = R13, [8] = R14, [9] = R15,
	[10] = RBP,
};

/*
 * The x86 registers left over.  r9, r10 and r11 are caller-saved, free
 * between helper calls; r12 is callee-saved, so the run's context survives
 * them.
 */
#define RUN_ARG R9 /* a helper's sixth argument, the struct sluice_run *; the
		      * entry's too, the context; scratch otherwise */
#define AUX2 R10   /* scratch: a saved r0 (division, fetch atomics), packet offsets */
#define AUX R11    /* scratch: immediates, divisors, call targets */
#define CTX R12    /* the struct jit_ctx * of the run */

/*
 * What a run of a program that can end early (see emit_exits) reads and
 * writes beside its registers; on the stack of sluice_jit_exec.  The code
 * reaches it through r12.
 */
struct jit_ctx {
	/* First, so that the context's address is also the run's: a helper's
	 * sixth argument is then one `mov r9, r12`. */
	struct sluice_run run;
	/* the packet ld_abs/ld_ind read, looked up at each load: helpers move it */
	const struct sluice_exec *exec;
	uint64_t entry_rsp;  /* rsp outside the program: exits unwind to it */
	uint64_t call_limit; /* rsp at the deepest frame a local call may leave */
	int64_t status;      /* enum jit_status */
	uint64_t err_pc;
	uint64_t err_value;
};
_Static_assert(offsetof(struct jit_ctx, run) == 0, "helpers get the context as their run");
_Static_assert(sizeof(struct jit_ctx) <= 128, "the fields take 8-bit displacements");

/* How a run ended, when not through `exit` or a helper's stop. */
enum jit_status { STATUS_OK, STATUS_FELL_OFF, STATUS_TOO_DEEP, STATUS_BAD_CALLX };

/* Condition codes, the low nibble of jcc. */
enum x86_cond {
	X86_JB = 0x2, X86_JAE = 0x3, X86_JE = 0x4, X86_JNE = 0x5,
	X86_JBE = 0x6, X86_JA = 0x7, X86_JS = 0x8, X86_JL = 0xc,
	X86_JGE = 0xd, X86_JLE = 0xe, X86_JG = 0xf,
	X86_JMP = -1, /* not a condition: the unconditional jmp */
};

/* The ModRM.reg digit of the group-1 ALU instructions (0x01, 0x81, 0x83). */
enum x86_alu { ALU_ADD = 0, ALU_OR = 1, ALU_AND = 4, ALU_SUB = 5, ALU_XOR = 6, ALU_CMP = 7 };
/* ... of the shifts (0xc1, 0xd1, 0xd3). */
enum x86_shift { SHIFT_ROL = 0, SHIFT_ROR = 1, SHIFT_SHL = 4, SHIFT_SHR = 5, SHIFT_SAR = 7 };
/* ... of group 3 (0xf7). */
enum x86_unary { UNARY_TEST = 0, UNARY_NEG = 3, UNARY_DIV = 6, UNARY_IDIV = 7 };

/* Prefixes of one instruction. */
enum {
	X86_W = 1,        /* REX.W: 64-bit operands */
	X86_16 = 2,       /* 0x66: 16-bit operands */
	X86_LOCK = 4,     /* 0xf0 */
	X86_BYTE_REG = 8, /* ModRM.reg names a byte register: sil, dil, bpl need a REX */
	X86_BYTE_RM = 16, /* ModRM.rm does */
};

/* Labels outside the program's instructions, after LABEL__FIXED one per error stub. */
enum { LABEL_UNWIND, LABEL_STOPPED, LABEL_LD_OUT, LABEL__FIXED };

/* An array lookup's index kept in r11 from the store before it (find_kept_key). */
enum key_kept { KEY_LOADED, KEY_KEEP, KEY_KEPT };

/* A stub that reports an error of one local call or callx site. */
struct jit_stub {
	enum jit_status status;
	size_t pc;
	int value_reg; /* x86 register whose value the report names, or -1 */
};

/* Each local call pushes r6-r9, an 8-byte pad to keep rsp 16-byte aligned, and the return address. */
#define LOCAL_CALL_FRAME (4 * 8 + 8 + 8)

/* Passes before giving up on the jump sizes settling (they take 2-4). */
#define MAX_PASSES 16

/* A loop of fewer instructions is small (under some 64 bytes of code): aligned. */
#define SMALL_LOOP_SLOTS 16

struct jit {
	/* What is compiled. */
	const struct sluice_insn *insns;
	size_t count;
	const struct sluice_helpers *helpers;
	sluice_helper_fn *helper_fns; /* the callx table, indexed by id */
	uint32_t helper_limit;
	struct sluice_map *const *maps; /* those lddw immediates may name */
	size_t nmaps;
	bool blind;
	uint64_t blind_seed;

	/* What the program uses, which decides what the entry and exits hold. */
	uint16_t *live;       /* count + 1: registers each instruction may leave to be read */
	uint8_t *landed_on;   /* count: 1 where a jump or local call lands */
	uint8_t *loop_head;   /* count: 1 where a small loop starts: aligned */
	uint32_t *heads_before; /* count + 2: loop heads in [0, pc) */
	unsigned regs_used;   /* bit r: some instruction names BPF register r */
	/* count: the map a bpf_map_lookup_elem at pc is compiled for, or NULL */
	struct sluice_map **lookup_map;
	uint8_t *key_kept;    /* count: enum key_kept, see find_kept_key */
	bool calls_helpers;   /* call or callx: a helper may stop the program */
	bool calls_maps;      /* direct calls to a map's lookup, which never stops it */
	bool calls_local;
	bool loads_packet;    /* ld_abs or ld_ind: may end the program with r0 = 0 */
	bool can_fall_off;    /* the last instruction is not exit or ja */
	bool needs_ctx;       /* any of the four above: r12 holds the context */
	uint32_t stack_size;  /* BPF stack below r10: a frame, or all when it calls */
	uint8_t saved[6];     /* callee-saved registers the entry pushes, in order */
	size_t nsaved;
	uint32_t frame_size;  /* native stack the entry takes: the BPF stack, and alignment */

	/* The pass being emitted. */
	uint8_t *buf;
	size_t len, cap; /* bytes past cap are counted but not written */
	bool first_pass;
	uint64_t key_state;
	uint32_t *offsets;      /* count + 1: where each instruction starts */
	uint32_t *prev_offsets; /* the same, from the pass before */
	uint32_t *labels, *prev_labels; /* LABEL__FIXED + nstubs */
	struct jit_stub *stubs;
	size_t nstubs, max_stubs;
	uint8_t *short_jump;    /* count: 1 once the jump at pc took 2 bytes, as it then stays */
	bool short_missed;      /* a short jump of this pass does not reach: not the last */
};

struct sluice_jit {
	uint8_t *code; /* mapped read + execute */
	size_t code_len, mapped_len;
	uint32_t *offsets;
	size_t count;
	sluice_helper_fn *helper_fns;
	bool needs_ctx; /* else the code is called with no context and cannot fail */
	uint64_t (*entry)(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
			  struct jit_ctx *ctx);
};

/* Bytes. */

static void emit1(struct jit *j, uint8_t byte)
{
	if (j->len < j->cap)
		j->buf[j->len] = byte;
	j->len++;
}

/* A little-endian immediate or displacement of n bytes. */
static void emit_le(struct jit *j, uint64_t value, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		emit1(j, (uint8_t)(value >> (8 * i)));
}

static void patch1(struct jit *j, size_t at, uint8_t byte)
{
	if (at < j->cap)
		j->buf[at] = byte;
}

static bool is_s8(int64_t v)
{
	return v >= INT8_MIN && v <= INT8_MAX;
}

static bool is_s32(int64_t v)
{
	return v >= INT32_MIN && v <= INT32_MAX;
}

/*
 * Encoding.  Every instruction is legacy prefixes, then a REX byte when one
 * of W, a register from r8 up, or a byte register past bl asks for it, then
 * the opcode (one byte, or 0x0f and one), then ModRM and whatever follows.
 */

static void emit_prefixes(struct jit *j, unsigned flags, int reg, int index,
			  int rm, bool byte_reg)
{
	unsigned rex = (flags & X86_W ? 8 : 0) | (reg & 8 ? 4 : 0) |
		       (index & 8 ? 2 : 0) | (rm & 8 ? 1 : 0);

	if (flags & X86_LOCK)
		emit1(j, 0xf0);
	if (flags & X86_16)
		emit1(j, 0x66);
	if (rex || byte_reg)
		emit1(j, (uint8_t)(0x40 | rex));
}

static void emit_opcode(struct jit *j, uint32_t opcode)
{
	if (opcode > 0xff)
		emit1(j, (uint8_t)(opcode >> 8));
	emit1(j, (uint8_t)opcode);
}

/* Without a REX prefix, byte registers 4-7 are ah..bh rather than spl..dil. */
static bool needs_byte_rex(int reg)
{
	return reg >= RSP && reg <= RDI;
}

/* opcode with two register operands: ModRM mod 11, reg, rm. */
static void emit_rr(struct jit *j, unsigned flags, uint32_t opcode, int reg, int rm)
{
	bool byte_reg = (flags & X86_BYTE_REG && needs_byte_rex(reg)) ||
			(flags & X86_BYTE_RM && needs_byte_rex(rm));

	emit_prefixes(j, flags, reg, 0, rm, byte_reg);
	emit_opcode(j, opcode);
	emit1(j, (uint8_t)(0xc0 | (reg & 7) << 3 | (rm & 7)));
}

/*
 * opcode with a register (or digit) and the memory operand [base + disp].
 * rsp and r12 as a base need a SIB byte; rbp and r13 with mod 00 would mean
 * rip-relative, so they always take a displacement.
 */
static void emit_rm(struct jit *j, unsigned flags, uint32_t opcode, int reg,
		    int base, int32_t disp)
{
	unsigned mod = disp == 0 && (base & 7) != RBP ? 0 : is_s8(disp) ? 1 : 2;

	emit_prefixes(j, flags, reg, 0, base, flags & X86_BYTE_REG && needs_byte_rex(reg));
	emit_opcode(j, opcode);
	emit1(j, (uint8_t)(mod << 6 | (reg & 7) << 3 | (base & 7)));
	if ((base & 7) == RSP)
		emit1(j, 0x24); /* SIB: base only */
	if (mod == 1)
		emit1(j, (uint8_t)disp);
	else if (mod == 2)
		emit_le(j, (uint32_t)disp, 4);
}

/* opcode + register in the low three bits (push, pop, bswap, mov imm). */
static void emit_plus_reg(struct jit *j, unsigned flags, uint32_t opcode, int reg)
{
	emit_prefixes(j, flags, 0, 0, reg, false);
	emit_opcode(j, opcode + (reg & 7));
}

static unsigned width(bool wide)
{
	return wide ? X86_W : 0;
}

/* Instructions, named after x86. */

/* mov dst, src (32 bits zero-extend) */
static void emit_mov_rr(struct jit *j, bool wide, int dst, int src)
{
	emit_rr(j, width(wide), 0x89, src, dst);
}

/* mov dst, [base + disp] (64 bits) */
static void emit_load64(struct jit *j, int dst, int base, int32_t disp)
{
	emit_rm(j, X86_W, 0x8b, dst, base, disp);
}

/* mov [base + disp], src (64 bits) */
static void emit_store64(struct jit *j, int base, int32_t disp, int src)
{
	emit_rm(j, X86_W, 0x89, src, base, disp);
}

/* dst = value, in the fewest bytes; may clobber the flags. */
static void emit_mov_imm64(struct jit *j, int dst, uint64_t value)
{
	if (value == 0) {
		emit_rr(j, 0, 0x31, dst, dst);            /* xor e_dst, e_dst */
	} else if (value <= UINT32_MAX) {
		emit_plus_reg(j, 0, 0xb8, dst);           /* mov e_dst, imm32 */
		emit_le(j, value, 4);
	} else if (is_s32((int64_t)value)) {
		emit_rr(j, X86_W, 0xc7, 0, dst);          /* mov dst, simm32 */
		emit_le(j, value, 4);
	} else {
		emit_plus_reg(j, X86_W, 0xb8, dst);       /* movabs dst, imm64 */
		emit_le(j, value, 8);
	}
}

/* op dst, src  for op in add, or, and, sub, xor, cmp */
static void emit_alu_rr(struct jit *j, bool wide, enum x86_alu op, int dst, int src)
{
	emit_rr(j, width(wide), (uint32_t)op << 3 | 1, src, dst);
}

/* op dst, imm  (the imm sign-extends to 64 bits) */
static void emit_alu_ri(struct jit *j, bool wide, enum x86_alu op, int dst, int32_t imm)
{
	if (is_s8(imm)) {
		emit_rr(j, width(wide), 0x83, op, dst);  /* op dst, imm8 */
		emit1(j, (uint8_t)imm);
		return;
	}
	if (dst == RAX) {
		emit_prefixes(j, width(wide), 0, 0, 0, false);
		emit1(j, (uint8_t)(op << 3 | 5));        /* op eax/rax, imm32 */
	} else {
		emit_rr(j, width(wide), 0x81, op, dst);  /* op dst, imm32 */
	}
	emit_le(j, (uint32_t)imm, 4);
}

/* shl/shr/sar/rol/ror dst, count  (16 bits with X86_16 in flags) */
static void emit_shift_ri(struct jit *j, unsigned flags, enum x86_shift op, int dst, unsigned count)
{
	if (count == 1) {
		emit_rr(j, flags, 0xd1, op, dst);        /* shl dst, 1 */
	} else {
		emit_rr(j, flags, 0xc1, op, dst);        /* shl dst, imm8 */
		emit1(j, (uint8_t)count);
	}
}

/* test dst, src */
static void emit_test_rr(struct jit *j, bool wide, int dst, int src)
{
	emit_rr(j, width(wide), 0x85, src, dst);
}

/* push reg ; pop reg */
static void emit_push(struct jit *j, int reg)
{
	emit_plus_reg(j, 0, 0x50, reg);
}

static void emit_pop(struct jit *j, int reg)
{
	emit_plus_reg(j, 0, 0x58, reg);
}

/*
 * Jumps.  To another instruction: from the previous pass's offsets, short
 * when the distance fits (the jump is the last thing its instruction
 * emits, so its end is where the next instruction starts).  To a label
 * after the program: always near, so that the size never depends on the
 * distance.  Within one instruction's sequence: short, patched.
 */

static void emit_jcc8(struct jit *j, enum x86_cond cc, int8_t disp)
{
	emit1(j, cc == X86_JMP ? 0xeb : (uint8_t)(0x70 | cc)); /* jmp/jcc rel8 */
	emit1(j, (uint8_t)disp);
}

/* jmp/jcc rel32 to the absolute code offset target */
static void emit_jcc32(struct jit *j, enum x86_cond cc, uint32_t target)
{
	size_t end = j->len + (cc == X86_JMP ? 5 : 6);

	if (cc == X86_JMP) {
		emit1(j, 0xe9);                         /* jmp rel32 */
	} else {
		emit1(j, 0x0f);                         /* jcc rel32 */
		emit1(j, (uint8_t)(0x80 | cc));
	}
	emit_le(j, (uint32_t)(target - end), 4);
}

/*
 * A jump takes 2 bytes when its distance fits in 8 bits even if each loop
 * head between grows its padding to the most, 15 bytes: the code between
 * only shrinks from pass to pass and padding grows only that much, so a
 * jump once short stays short, and the passes settle.  The distance of a
 * backward jump is this pass's; of a forward one, the pass before's.  The
 * displacement runs from this jump's end (padding may follow it) to the
 * target where this pass put it or, not emitted yet, where the pass before
 * did: exact once two passes agree, and a pass whose short jump does not
 * reach is not taken to agree.
 */
static void emit_jump_to_insn(struct jit *j, enum x86_cond cc, size_t next, size_t target)
{
	size_t pc = next - 1; /* jumps take one slot */
	bool backward = target <= pc;
	int64_t at = backward ? j->offsets[target] : j->prev_offsets[target];
	int64_t disp = at - (int64_t)(j->len + 2);
	size_t lo = backward ? target : next, hi = backward ? next : target;
	int64_t slack = 15 * (int64_t)(j->heads_before[hi + 1] - j->heads_before[lo]);
	int64_t reach = backward ? disp - slack
				 : (int64_t)j->prev_offsets[target] - j->prev_offsets[next] + slack;

	if (!j->first_pass && (j->short_jump[pc] || is_s8(reach))) {
		j->short_jump[pc] = 1;
		j->short_missed |= !is_s8(disp);
		emit_jcc8(j, cc, (int8_t)disp);
	} else {
		emit_jcc32(j, cc, (uint32_t)at);
	}
}

/*
 * Pad to a 16-byte boundary with the processor's recommended long NOPs, so
 * that a small loop starts at one and so does not straddle a 64-byte line:
 * bench_jit's bubble_sort, whose inner loop did, ran 14% faster aligned.
 * Large loops are left where they fall: shifting them moves their branches
 * about, which was measured to cost as much as it saved (parser).  The
 * padding runs once as the loop is entered, not per iteration; it shows
 * under the instruction before the loop's first.
 */
static void emit_align(struct jit *j)
{
	static const uint8_t nops[10][9] = {
		[1] = { 0x90 },
		[2] = { 0x66, 0x90 },
		[3] = { 0x0f, 0x1f, 0x00 },
		[4] = { 0x0f, 0x1f, 0x40, 0x00 },
		[5] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 },
		[6] = { 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00 },
		[7] = { 0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00 },
		[8] = { 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 },
		[9] = { 0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 },
	};
	size_t pad = -j->len & 15;

	while (pad) {
		size_t n = pad < 9 ? pad : 9;

		for (size_t i = 0; i < n; i++)
			emit1(j, nops[n][i]);                   /* nop */
		pad -= n;
	}
}

static void emit_jump_to_label(struct jit *j, enum x86_cond cc, size_t label)
{
	emit_jcc32(j, cc, j->prev_labels[label]);
}

/* A short jump within a sequence to a point not emitted yet; patch_here lands it. */
static size_t emit_jcc8_forward(struct jit *j, enum x86_cond cc)
{
	emit_jcc8(j, cc, 0);
	return j->len - 1;
}

static void patch_here(struct jit *j, size_t at)
{
	patch1(j, at, (uint8_t)(j->len - (at + 1)));
}

/*
 * Immediates the program chose.  With blinding they reach the code XORed
 * with a fresh key and are rebuilt by a second XOR at run time, as the
 * kernel's bpf_jit_blind_constants does; the blinded forms keep one size
 * whatever the key, so passes still agree.  Shift counts (6 bits) and
 * byte-order widths are too short to carry an instruction and stay as they
 * are.
 */

static uint64_t next_key(struct jit *j)
{
	/* splitmix64: one key per immediate, the same sequence in every pass */
	uint64_t z = (j->key_state += 0x9e3779b97f4a7c15);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
	return z ^ (z >> 31);
}

/* reg = imm, sign-extended to 64 bits when wide, zero-extended otherwise */
static void emit_mov_untrusted(struct jit *j, bool wide, int reg, int32_t imm)
{
	uint32_t key;

	if (!j->blind) {
		emit_mov_imm64(j, reg, wide ? (uint64_t)(int64_t)imm : (uint32_t)imm);
		return;
	}
	key = (uint32_t)next_key(j);
	emit_rr(j, width(wide), 0xc7, 0, reg);          /* mov reg, imm ^ key */
	emit_le(j, (uint32_t)imm ^ key, 4);
	emit_rr(j, width(wide), 0x81, ALU_XOR, reg);    /* xor reg, key */
	emit_le(j, key, 4);
}

/* op dst, imm */
static void emit_alu_untrusted(struct jit *j, bool wide, enum x86_alu op, int dst, int32_t imm)
{
	if (!j->blind) {
		emit_alu_ri(j, wide, op, dst, imm);
		return;
	}
	emit_mov_untrusted(j, wide, AUX, imm);
	emit_alu_rr(j, wide, op, dst, AUX);
}

/* ALU. */

/* op dst, src|imm  for add, sub, or, and, xor */
static void emit_alu(struct jit *j, enum insn_op op, const struct sluice_insn *insn,
		     enum x86_alu alu)
{
	bool wide = insn_is_wide(op);
	int dst = reg2x86[insn->dst];

	if (insn_table[op].shape == SHAPE_ALU_REG)
		emit_alu_rr(j, wide, alu, dst, reg2x86[insn->src]);
	else
		emit_alu_untrusted(j, wide, alu, dst, insn->imm);
}

static void emit_mov(struct jit *j, enum insn_op op, const struct sluice_insn *insn)
{
	bool wide = insn_is_wide(op);
	int dst = reg2x86[insn->dst], src = reg2x86[insn->src];

	if (insn_table[op].shape == SHAPE_ALU_IMM)
		emit_mov_untrusted(j, wide, dst, insn->imm);
	else if (dst != src || !wide) /* mov32 r, r still clears the top half */
		emit_mov_rr(j, wide, dst, src);
}

static void emit_mul(struct jit *j, enum insn_op op, const struct sluice_insn *insn)
{
	bool wide = insn_is_wide(op);
	int dst = reg2x86[insn->dst], src = reg2x86[insn->src];

	if (insn_table[op].shape == SHAPE_ALU_REG) {
		emit_rr(j, width(wide), 0x0faf, dst, src);      /* imul dst, src */
	} else if (j->blind) {
		emit_mov_untrusted(j, wide, AUX, insn->imm);
		emit_rr(j, width(wide), 0x0faf, dst, AUX);      /* imul dst, r11 */
	} else if (is_s8(insn->imm)) {
		emit_rr(j, width(wide), 0x6b, dst, dst);        /* imul dst, dst, imm8 */
		emit1(j, (uint8_t)insn->imm);
	} else {
		emit_rr(j, width(wide), 0x69, dst, dst);        /* imul dst, dst, imm32 */
		emit_le(j, (uint32_t)insn->imm, 4);
	}
}

/* A 32-bit operation leaves the top half clear even when it changes nothing else. */
static void emit_zero_extend(struct jit *j, bool wide, int dst)
{
	if (!wide)
		emit_mov_rr(j, false, dst, dst);                /* mov e_dst, e_dst */
}

/*
 * Shifts.  x86 masks the count to 5 or 6 bits, exactly as RFC 9669 asks.
 * A count in a register must be in cl, which is r4's: any other is swapped
 * in through r11 for the one instruction.
 */
static void emit_shift(struct jit *j, enum insn_op op, const struct sluice_insn *insn,
		       enum x86_shift shift)
{
	bool wide = insn_is_wide(op);
	int dst = reg2x86[insn->dst], src = reg2x86[insn->src];
	int target;

	if (insn_table[op].shape == SHAPE_ALU_IMM) {
		unsigned count = (uint32_t)insn->imm & (wide ? 63 : 31);

		if (count)
			emit_shift_ri(j, width(wide), shift, dst, count);
		else
			emit_zero_extend(j, wide, dst);
		return;
	}
	if (src == RCX) {
		emit_rr(j, width(wide), 0xd3, shift, dst);      /* shl dst, cl */
		return;
	}
	target = dst == RCX ? AUX : dst;
	emit_mov_rr(j, true, AUX, RCX);                         /* mov r11, rcx */
	emit_mov_rr(j, true, RCX, src);                         /* mov rcx, src */
	emit_rr(j, width(wide), 0xd3, shift, target);           /* shl dst, cl (r11 if dst is rcx) */
	emit_mov_rr(j, true, RCX, AUX);                         /* mov rcx, r11 */
}

/*
 * Division.  x86 divides rdx:rax, where r3 and r0 live, so around the
 * divide they are parked in r9 and r10 unless the destination is one of
 * them.  The divisor goes to r11 first, so it may be any register.
 */
static void emit_x86_divide(struct jit *j, bool wide, bool is_signed, bool is_mod, int dst)
{
	int result = is_mod ? RDX : RAX;

	if (dst != RAX)
		emit_mov_rr(j, true, AUX2, RAX);                /* mov r10, rax */
	if (dst != RDX)
		emit_mov_rr(j, true, RUN_ARG, RDX);             /* mov r9, rdx */
	if (dst != RAX)
		emit_mov_rr(j, wide, RAX, dst);                 /* mov rax, dst */
	if (!is_signed)
		emit_rr(j, 0, 0x31, RDX, RDX);                  /* xor edx, edx */
	else
		emit_plus_reg(j, width(wide), 0x99, 0);         /* cqo / cdq */
	emit_rr(j, width(wide), 0xf7, is_signed ? UNARY_IDIV : UNARY_DIV, AUX); /* (i)div r11 */
	if (dst != result)
		emit_mov_rr(j, true, dst, result);              /* mov dst, rax|rdx */
	if (dst != RDX)
		emit_mov_rr(j, true, RDX, RUN_ARG);             /* mov rdx, r9 */
	if (dst != RAX)
		emit_mov_rr(j, true, RAX, AUX2);                /* mov rax, r10 */
}

/*
 * Unsigned 32-bit x / d and x % d for a constant d that is no power of two,
 * by a multiply with d's reciprocal instead of a divide (a dozen cycles or
 * more), as compilers do it (Granlund and Montgomery, "Division by
 * invariant integers using multiplication", 1994, theorem 4.2): with
 * l = ceil(log2 d) and m = ceil(2^(32 + l) / d), which lies between 2^32
 * and 2^33, x / d = (x * m) >> (32 + l) for every 32-bit x.  That product
 * takes 65 bits; with m = 2^32 + m' it is
 *
 *   x / d = (((x * m') >> 32) + x) >> l
 *
 * where nothing passes 64 bits, and x % d = x - (x / d) * d:
 *
 *   mov r10d, e_dst                          ; x, zero-extended
 *   imul r11, r10, m'                        ; mov r11d, m' ; imul r11, r10
 *                                            ;   when m' needs all 32 bits
 *   shr r11, 32 ; add r11, r10 ; shr r11, l
 *   mov e_dst, r11d                          ; x / d
 *   imul r11d, r11d, d ; sub e_dst, r11d     ; x % d
 *
 * x is zero-extended into r10 rather than in place: a move between two
 * registers costs no latency, one onto itself does.
 */
static void emit_divide_by_constant(struct jit *j, bool is_mod, int dst, uint32_t d)
{
	unsigned l = 32 - (unsigned)__builtin_clz(d - 1);
	uint64_t m = (uint64_t)((((unsigned __int128)1 << (32 + l)) + d - 1) / d) - (1ull << 32);

	emit_mov_rr(j, false, AUX2, dst);
	if (is_s32((int64_t)m)) {
		emit_rr(j, X86_W, 0x69, AUX, AUX2);             /* imul r11, r10, m' */
		emit_le(j, m, 4);
	} else {
		emit_mov_imm64(j, AUX, m);
		emit_rr(j, X86_W, 0x0faf, AUX, AUX2);           /* imul r11, r10 */
	}
	emit_shift_ri(j, X86_W, SHIFT_SHR, AUX, 32);
	emit_alu_rr(j, true, ALU_ADD, AUX, AUX2);
	emit_shift_ri(j, X86_W, SHIFT_SHR, AUX, l);
	if (!is_mod) {
		emit_mov_rr(j, false, dst, AUX);
		return;
	}
	emit_rr(j, 0, 0x69, AUX, AUX);                          /* imul r11d, r11d, d */
	emit_le(j, d, 4);
	emit_alu_rr(j, false, ALU_SUB, dst, AUX);
}

/* RFC 9669: x / 0 = 0 and x % 0 = x, where x is 32 bits wide for ALU32. */
static void emit_divide_by_zero(struct jit *j, bool wide, bool is_mod, int dst)
{
	if (!is_mod)
		emit_rr(j, 0, 0x31, dst, dst);                  /* xor e_dst, e_dst */
	else
		emit_zero_extend(j, wide, dst);
}

/* Signed x / -1 = -x, wrapping at INT_MIN where idiv would trap; x % -1 = 0. */
static void emit_divide_by_minus_one(struct jit *j, bool wide, bool is_mod, int dst)
{
	if (!is_mod)
		emit_rr(j, width(wide), 0xf7, UNARY_NEG, dst);  /* neg dst */
	else
		emit_rr(j, 0, 0x31, dst, dst);                  /* xor e_dst, e_dst */
}

static void emit_divmod(struct jit *j, enum insn_op op, const struct sluice_insn *insn,
			bool is_signed, bool is_mod)
{
	bool wide = insn_is_wide(op);
	int dst = reg2x86[insn->dst];
	size_t to_zero, to_minus_one = 0, to_done, to_done2 = 0;

	if (insn_table[op].shape == SHAPE_ALU_IMM) {
		/* The divisor is known: only one of the cases is emitted. */
		uint64_t divisor = wide ? (uint64_t)(int64_t)insn->imm : (uint32_t)insn->imm;

		if (!divisor) {
			emit_divide_by_zero(j, wide, is_mod, dst);
		} else if (is_signed && insn->imm == -1) {
			emit_divide_by_minus_one(j, wide, is_mod, dst);
		} else if (!is_signed && !(divisor & (divisor - 1))) {
			/* a power of two: a shift, or a mask whose top bit is below 31 */
			if (is_mod)
				emit_alu_untrusted(j, wide, ALU_AND, dst, (int32_t)(divisor - 1));
			else if (divisor == 1)
				emit_zero_extend(j, wide, dst);
			else
				emit_shift_ri(j, width(wide), SHIFT_SHR, dst,
					      (unsigned)__builtin_ctzll(divisor));
		} else if (!is_signed && !wide && !j->blind) {
			/* blinded, the divisor must not reach the code, nor its reciprocal */
			emit_divide_by_constant(j, is_mod, dst, (uint32_t)divisor);
		} else {
			emit_mov_untrusted(j, wide, AUX, insn->imm);
			emit_x86_divide(j, wide, is_signed, is_mod, dst);
		}
		return;
	}

	emit_mov_rr(j, wide, AUX, reg2x86[insn->src]);          /* mov r11, src */
	emit_test_rr(j, wide, AUX, AUX);                        /* test r11, r11 */
	to_zero = emit_jcc8_forward(j, X86_JE);                 /* jz .zero */
	if (is_signed) {
		emit_alu_ri(j, wide, ALU_CMP, AUX, -1);         /* cmp r11, -1 */
		to_minus_one = emit_jcc8_forward(j, X86_JE);    /* je .minus_one */
	}
	emit_x86_divide(j, wide, is_signed, is_mod, dst);
	to_done = emit_jcc8_forward(j, X86_JMP);                /* jmp .done */
	if (is_signed) {
		patch_here(j, to_minus_one);                    /* .minus_one: */
		emit_divide_by_minus_one(j, wide, is_mod, dst);
		to_done2 = emit_jcc8_forward(j, X86_JMP);       /* jmp .done */
	}
	patch_here(j, to_zero);                                 /* .zero: */
	emit_divide_by_zero(j, wide, is_mod, dst);
	patch_here(j, to_done);                                 /* .done: */
	if (is_signed)
		patch_here(j, to_done2);
}

static void emit_neg(struct jit *j, enum insn_op op, const struct sluice_insn *insn)
{
	emit_rr(j, width(insn_is_wide(op)), 0xf7, UNARY_NEG, reg2x86[insn->dst]); /* neg dst */
}

/* movsx dst, src: from 8, 16 or 32 bits to 32 or 64; 32-bit results zero-extend */
static void emit_movsx(struct jit *j, enum insn_op op, const struct sluice_insn *insn)
{
	unsigned from = (unsigned)insn_table[op].match_value, flags = width(insn_is_wide(op));
	int dst = reg2x86[insn->dst], src = reg2x86[insn->src];

	if (from == 8)
		emit_rr(j, flags | X86_BYTE_RM, 0x0fbe, dst, src); /* movsx dst, src8 */
	else if (from == 16)
		emit_rr(j, flags, 0x0fbf, dst, src);               /* movsx dst, src16 */
	else
		emit_rr(j, flags, 0x63, dst, src);                 /* movsxd dst, e_src */
}

/*
 * Byte order.  The host is little-endian: `le` only truncates, `be` and
 * `bswap` swap.  16 bits swap as a rotation of the low word.
 */
static void emit_byte_order(struct jit *j, enum insn_op op, const struct sluice_insn *insn,
			    bool swap)
{
	unsigned bits = (unsigned)insn_table[op].match_value;
	int dst = reg2x86[insn->dst];

	if (bits == 16) {
		if (swap)
			emit_shift_ri(j, X86_16, SHIFT_ROR, dst, 8); /* ror dst16, 8 */
		emit_rr(j, 0, 0x0fb7, dst, dst);                   /* movzx e_dst, dst16 */
	} else if (swap) {
		emit_plus_reg(j, width(bits == 64), 0x0fc8, dst);  /* bswap dst */
	} else if (bits == 32) {
		emit_mov_rr(j, false, dst, dst);                   /* mov e_dst, e_dst */
	}
}

/* Memory. */

/* dst = *(size *)(base + off): movzx, mov, or movsx for the signed loads */
static void emit_load(struct jit *j, unsigned size, bool is_signed, int dst, int base, int16_t off)
{
	static const uint32_t unsigned_opcode[9] = { [1] = 0x0fb6, [2] = 0x0fb7, [4] = 0x8b, [8] = 0x8b };
	static const uint32_t signed_opcode[5] = { [1] = 0x0fbe, [2] = 0x0fbf, [4] = 0x63 };

	if (is_signed)
		emit_rm(j, X86_W, signed_opcode[size], dst, base, off);   /* movsx dst, [base+off] */
	else
		emit_rm(j, width(size == 8), unsigned_opcode[size], dst, base, off); /* movzx/mov */
}

static unsigned size_flags(unsigned size)
{
	return size == 8 ? X86_W : size == 2 ? X86_16 : 0;
}

/* mov [base + off], src  of size bytes */
static void emit_store_reg(struct jit *j, unsigned size, int base, int16_t off, int src)
{
	if (size == 1)
		emit_rm(j, X86_BYTE_REG, 0x88, src, base, off);     /* mov [base+off], src8 */
	else
		emit_rm(j, size_flags(size), 0x89, src, base, off); /* mov [base+off], src */
}

/* mov [base + off], imm  of size bytes (8: the imm sign-extended) */
static void emit_store_imm(struct jit *j, unsigned size, int base, int16_t off, int32_t imm)
{
	if (j->blind) {
		emit_mov_untrusted(j, size == 8, AUX, imm);
		emit_store_reg(j, size, base, off, AUX);
		return;
	}
	emit_rm(j, size_flags(size), size == 1 ? 0xc6 : 0xc7, 0, base, off); /* mov [base+off], imm */
	emit_le(j, (uint32_t)imm, size < 4 ? size : 4);
}

/*
 * Atomics.  x86 has one locked instruction for most:
 *   lock add|or|and|xor [dst+off], src      without a result
 *   lock xadd [dst+off], src                fetch_add: src = the old value
 *   xchg [dst+off], src                     (locked without the prefix)
 *   lock cmpxchg [dst+off], src             compares with rax, which is r0
 * 32-bit forms zero-extend what they write to a register.
 */
static void emit_atomic_rm(struct jit *j, enum insn_op op, const struct sluice_insn *insn,
			   unsigned flags, uint32_t opcode)
{
	emit_rm(j, flags | width(insn_access_size(op) == 8), opcode, reg2x86[insn->src],
		reg2x86[insn->dst], insn->off);
}

static void emit_atomic_alu(struct jit *j, enum insn_op op, const struct sluice_insn *insn,
			    enum x86_alu alu)
{
	emit_atomic_rm(j, op, insn, X86_LOCK, (uint32_t)alu << 3 | 1);
}

static void emit_cmpxchg(struct jit *j, enum insn_op op, const struct sluice_insn *insn)
{
	emit_atomic_rm(j, op, insn, X86_LOCK, 0x0fb1);
	/* a 32-bit cmpxchg that succeeds leaves the top of rax alone */
	emit_zero_extend(j, insn_access_size(op) == 8, RAX);
}

/*
 * The fetch forms of or, and, xor have no x86 instruction: a cmpxchg loop,
 * which needs rax, where r0 lives.  r0 waits in r10; an address or a value
 * in r0 is read from copies (r9, r10).
 *
 *   mov r10, rax
 *   mov rax, [base+off]
 * .retry:
 *   mov r11, rax
 *   op r11, value
 *   lock cmpxchg [base+off], r11
 *   jne .retry
 *   mov src, rax          ; the old value
 *   mov rax, r10          ; unless src is r0
 */
static void emit_atomic_fetch_alu(struct jit *j, enum insn_op op, const struct sluice_insn *insn,
				  enum x86_alu alu)
{
	bool wide = insn_access_size(op) == 8;
	int dst = reg2x86[insn->dst], src = reg2x86[insn->src];
	int base = dst == RAX ? RUN_ARG : dst, value = src == RAX ? AUX2 : src;
	size_t retry;

	if (dst == RAX)
		emit_mov_rr(j, true, RUN_ARG, RAX);             /* mov r9, rax */
	emit_mov_rr(j, true, AUX2, RAX);                        /* mov r10, rax */
	emit_rm(j, width(wide), 0x8b, RAX, base, insn->off);    /* mov rax, [base+off] */
	retry = j->len;
	emit_mov_rr(j, true, AUX, RAX);                         /* .retry: mov r11, rax */
	emit_alu_rr(j, wide, alu, AUX, value);                  /* op r11, value */
	emit_rm(j, X86_LOCK | width(wide), 0x0fb1, AUX, base, insn->off); /* lock cmpxchg [base+off], r11 */
	emit_jcc8(j, X86_JNE, (int8_t)(retry - (j->len + 2)));  /* jne .retry */
	if (src != RAX) {
		emit_mov_rr(j, wide, src, RAX);                 /* mov src, rax */
		emit_mov_rr(j, true, RAX, AUX2);                /* mov rax, r10 */
	}
}

static void emit_lddw(struct jit *j, const struct sluice_insn *insn)
{
	uint64_t value = (uint32_t)insn[0].imm | (uint64_t)(uint32_t)insn[1].imm << 32;
	int dst = reg2x86[insn->dst];
	uint64_t key;

	if (!j->blind) {
		emit_mov_imm64(j, dst, value);
		return;
	}
	key = next_key(j);
	emit_plus_reg(j, X86_W, 0xb8, dst);                     /* movabs dst, value ^ key */
	emit_le(j, value ^ key, 8);
	emit_plus_reg(j, X86_W, 0xb8, AUX);                     /* movabs r11, key */
	emit_le(j, key, 8);
	emit_alu_rr(j, true, ALU_XOR, dst, AUX);                /* xor dst, r11 */
}

/* Out of line: what negative ld_abs/ld_ind offsets read (the headers' ranges). */
static const uint8_t *packet_at_negative(const struct sluice_exec *exec, int64_t off,
					 unsigned size)
{
	return exec_packet_at(exec, off, size);
}

/*
 * Legacy packet loads: r0 = the big-endian value at packet + offset, where
 * the offset is imm (ld_abs) or src + imm in 32 bits, sign-extended
 * (ld_ind).  An offset outside the packet ends the program with r0 = 0.
 * Negative offsets name the kernel's SKF_NET_OFF / SKF_LL_OFF ranges and
 * go through a C call: r1-r5 are lost, as the kernel has it for these
 * loads, and r0 is the result anyway.
 *
 *   mov r10d, imm                                  ; ld_abs
 *   mov r10d, e_src ; add r10d, imm                ; ld_ind
 *   movsxd r10, r10d ; test r10, r10 ; js .neg     ; ld_ind
 *   mov rax, [r12 + exec]
 *   lea r11, [r10 + size]
 *   cmp r11, [rax + packet_len]
 *   ja .out
 *   add r10, [rax + packet]
 *   jmp .load                                      ; ld_ind
 * .neg:                                            ; ld_ind, or a negative ld_abs alone
 *   mov rdi, [r12 + exec] ; mov rsi, r10 ; mov edx, size
 *   movabs rax, packet_at_negative ; call rax
 *   test rax, rax ; jz .out
 *   mov r10, rax
 * .load:
 *   movzx eax, byte|word [r10]  or  mov eax, [r10]
 *   rol ax, 8  or  bswap eax
 */
static void emit_packet_load(struct jit *j, enum insn_op op, const struct sluice_insn *insn)
{
	unsigned size = insn_access_size(op);
	bool absolute = insn_table[op].shape == SHAPE_LDABS;
	size_t to_negative = 0, to_load = 0;

	if (absolute) {
		emit_mov_untrusted(j, false, AUX2, insn->imm);
		if (insn->imm < 0)
			emit_rr(j, X86_W, 0x63, AUX2, AUX2);    /* movsxd r10, r10d */
	} else {
		emit_mov_rr(j, false, AUX2, reg2x86[insn->src]);
		emit_alu_untrusted(j, false, ALU_ADD, AUX2, insn->imm);
		emit_rr(j, X86_W, 0x63, AUX2, AUX2);            /* movsxd r10, r10d */
		emit_test_rr(j, true, AUX2, AUX2);
		to_negative = emit_jcc8_forward(j, X86_JS);
	}
	if (!absolute || insn->imm >= 0) {
		emit_load64(j, RAX, CTX, offsetof(struct jit_ctx, exec));
		emit_rm(j, X86_W, 0x8d, AUX, AUX2, (int32_t)size);      /* lea r11, [r10 + size] */
		emit_rm(j, X86_W, 0x3b, AUX, RAX, offsetof(struct sluice_exec, packet_len));
		emit_jump_to_label(j, X86_JA, LABEL_LD_OUT);
		emit_rm(j, X86_W, 0x03, AUX2, RAX, offsetof(struct sluice_exec, packet));
		if (!absolute)
			to_load = emit_jcc8_forward(j, X86_JMP);
	}
	if (!absolute || insn->imm < 0) {
		if (to_negative)
			patch_here(j, to_negative);
		emit_load64(j, RDI, CTX, offsetof(struct jit_ctx, exec));
		emit_mov_rr(j, true, RSI, AUX2);                 /* mov rsi, r10 */
		emit_mov_imm64(j, RDX, size);                    /* mov edx, size */
		emit_plus_reg(j, X86_W, 0xb8, RAX);              /* movabs rax, packet_at_negative */
		emit_le(j, (uint64_t)(uintptr_t)packet_at_negative, 8);
		emit_rr(j, 0, 0xff, 2, RAX);                     /* call rax */
		emit_test_rr(j, true, RAX, RAX);
		emit_jump_to_label(j, X86_JE, LABEL_LD_OUT);
		emit_mov_rr(j, true, AUX2, RAX);                 /* mov r10, rax */
		if (to_load)
			patch_here(j, to_load);
	}
	emit_load(j, size, false, RAX, AUX2, 0);
	if (size == 2)
		emit_shift_ri(j, X86_16, SHIFT_ROL, RAX, 8);    /* rol ax, 8 */
	else if (size == 4)
		emit_plus_reg(j, 0, 0x0fc8, RAX);               /* bswap eax */
}

/* Jumps. */

/* cmp (or for jset, test) dst, src|imm ; jcc target */
static void emit_jcond(struct jit *j, enum insn_op op, size_t pc, enum x86_cond cc, bool is_test)
{
	const struct sluice_insn *insn = &j->insns[pc];
	bool wide = insn_is_wide(op);
	int dst = reg2x86[insn->dst];
	int64_t target;

	insn_branch_target(insn, op, pc, &target);
	if ((size_t)target == pc + 1)
		return; /* lands on the next instruction either way */
	if (insn_table[op].shape == SHAPE_JCOND_REG) {
		if (is_test)
			emit_test_rr(j, wide, dst, reg2x86[insn->src]);            /* test dst, src */
		else
			emit_alu_rr(j, wide, ALU_CMP, dst, reg2x86[insn->src]);    /* cmp dst, src */
	} else if (is_test) {
		if (j->blind) {
			emit_mov_untrusted(j, wide, AUX, insn->imm);
			emit_test_rr(j, wide, dst, AUX);                           /* test dst, r11 */
		} else if (dst == RAX) {
			emit_prefixes(j, width(wide), 0, 0, 0, false);
			emit1(j, 0xa9);                                            /* test rax, imm32 */
			emit_le(j, (uint32_t)insn->imm, 4);
		} else {
			emit_rr(j, width(wide), 0xf7, UNARY_TEST, dst);            /* test dst, imm32 */
			emit_le(j, (uint32_t)insn->imm, 4);
		}
	} else if (insn->imm == 0) {
		emit_test_rr(j, wide, dst, dst); /* flags of dst - 0, with one byte less */
	} else {
		emit_alu_untrusted(j, wide, ALU_CMP, dst, insn->imm);             /* cmp dst, imm */
	}
	emit_jump_to_insn(j, cc, pc + 1, (size_t)target);
}

static void emit_ja(struct jit *j, enum insn_op op, size_t pc)
{
	int64_t target;

	insn_branch_target(&j->insns[pc], op, pc, &target);
	if ((size_t)target != pc + 1)
		emit_jump_to_insn(j, X86_JMP, pc + 1, (size_t)target);
}

/* Calls. */

/* A stub reporting status for the site at pc; returns its label. */
static size_t add_stub(struct jit *j, enum jit_status status, size_t pc, int value_reg)
{
	j->stubs[j->nstubs] = (struct jit_stub){ status, pc, value_reg };
	return LABEL__FIXED + j->nstubs++;
}

/*
 * Call the helper whose address is in r11, with r1-r5 already where System
 * V wants them and the run as the sixth argument, then end the program if
 * the helper asked to stop.
 *
 * No retpoline: this is a user-space JIT, and program, helpers and runtime
 * share one process and one privilege level, so there is no boundary for a
 * poisoned indirect branch to cross.
 */
static void emit_call_aux(struct jit *j)
{
	emit_mov_rr(j, true, RUN_ARG, CTX);                     /* mov r9, r12 */
	emit_rr(j, 0, 0xff, 2, AUX);                            /* call r11 */
	emit_rm(j, 0, 0x80, 7, CTX, offsetof(struct jit_ctx, run.stopped)); /* cmp byte [r12+stopped], 0 */
	emit1(j, 0);
	emit_jump_to_label(j, X86_JNE, LABEL_STOPPED);
}

static void emit_call_helper(struct jit *j, const struct sluice_insn *insn)
{
	sluice_helper_fn fn = sluice_helpers_fn(j->helpers, (uint32_t)insn->imm);

	emit_plus_reg(j, X86_W, 0xb8, AUX);                     /* movabs r11, helper */
	emit_le(j, (uint64_t)(uintptr_t)fn, 8);
	emit_call_aux(j);
}

/*
 * bpf_map_lookup_elem in a map known where the program is compiled (see
 * jit_call_r1), as the kernel's JIT compiles it.  An array's inline, as
 * array_map_gen_lookup does (r0 = NULL past the end):
 *
 *   mov eax, [rsi]                ; the index; r2, the key, is rsi
 *                                 ; (mov eax, r11d: see find_kept_key)
 *   cmp eax, max_entries ; jae .past_end
 *   shl rax, log2(stride)         ; or imul rax, rax, stride
 *   movabs r11, values ; add rax, r11
 *   jmp .done
 * .past_end:
 *   xor eax, eax
 * .done:
 *
 * Another map's as a direct call to its lookup: r1 (the map) and r2 (the
 * key) are already its arguments, and it needs no run and never stops the
 * program.  Either way only registers a helper call clobbers change.
 */
static void emit_map_lookup(struct jit *j, size_t pc, const struct sluice_map *map)
{
	uint8_t *values = array_values(map);
	uint32_t stride = map->value_stride;
	size_t past_end, done;

	if (!values) {
		emit_plus_reg(j, X86_W, 0xb8, AUX);             /* movabs r11, lookup */
		emit_le(j, (uint64_t)(uintptr_t)map->lookup, 8);
		emit_rr(j, 0, 0xff, 2, AUX);                    /* call r11 */
		return;
	}
	if (j->key_kept[pc] == KEY_KEPT)
		emit_mov_rr(j, false, RAX, AUX);                /* mov eax, r11d */
	else
		emit_load(j, 4, false, RAX, reg2x86[2], 0);
	emit_alu_ri(j, false, ALU_CMP, RAX, (int32_t)map->max_entries);
	past_end = emit_jcc8_forward(j, X86_JAE);
	if (!(stride & (stride - 1))) {
		emit_shift_ri(j, X86_W, SHIFT_SHL, RAX, (unsigned)__builtin_ctz(stride));
	} else {
		emit_rr(j, X86_W, 0x69, RAX, RAX);              /* imul rax, rax, imm32 */
		emit_le(j, stride, 4);
	}
	emit_plus_reg(j, X86_W, 0xb8, AUX);                     /* movabs r11, values */
	emit_le(j, (uint64_t)(uintptr_t)values, 8);
	emit_alu_rr(j, true, ALU_ADD, RAX, AUX);
	done = emit_jcc8_forward(j, X86_JMP);
	patch_here(j, past_end);
	emit_mov_imm64(j, RAX, 0);
	patch_here(j, done);
}

/*
 * callx: the helper whose id is in dst, through the table of helpers by
 * id, after checking the id is inside it and names a helper.
 *
 *   cmp dst, limit ; jae .stub
 *   movabs r11, table ; mov r11, [r11 + dst*8]
 *   test r11, r11 ; jz .stub
 */
static void emit_callx(struct jit *j, size_t pc, const struct sluice_insn *insn)
{
	int dst = reg2x86[insn->dst];
	size_t stub = add_stub(j, STATUS_BAD_CALLX, pc, dst);

	if (!j->helper_limit) {
		emit_jump_to_label(j, X86_JMP, stub); /* no helpers at all */
		return;
	}
	emit_rr(j, X86_W, 0x81, ALU_CMP, dst);                  /* cmp dst, limit */
	emit_le(j, j->helper_limit, 4);
	emit_jump_to_label(j, X86_JAE, stub);
	emit_plus_reg(j, X86_W, 0xb8, AUX);                     /* movabs r11, table */
	emit_le(j, (uint64_t)(uintptr_t)j->helper_fns, 8);
	emit_prefixes(j, X86_W, AUX, dst, AUX, false);          /* mov r11, [r11 + dst*8] */
	emit1(j, 0x8b);
	emit1(j, (uint8_t)((AUX & 7) << 3 | 4));                /* ModRM: mod 00, SIB follows */
	emit1(j, (uint8_t)(3 << 6 | (dst & 7) << 3 | (AUX & 7))); /* SIB: scale 8 */
	emit_test_rr(j, true, AUX, AUX);
	emit_jump_to_label(j, X86_JE, stub);
	emit_call_aux(j);
}

/*
 * Local call, with the interpreter's limit of SLUICE_MAX_CALL_FRAMES frames:
 *
 *   cmp rsp, [r12 + call_limit] ; jbe .stub   ; no frame left
 *   push rbx ; push r13 ; push r14 ; push r15  ; r6-r9 survive the call
 *   sub rsp, 8                                 ; rsp stays 16-byte aligned
 *   sub rbp, 512                               ; the callee's frame
 *   call target
 *   add rbp, 512
 *   add rsp, 8
 *   pop r15 ; pop r14 ; pop r13 ; pop rbx
 */
static void emit_call_local(struct jit *j, enum insn_op op, size_t pc)
{
	int64_t target;
	size_t end;

	insn_branch_target(&j->insns[pc], op, pc, &target);
	emit_rm(j, X86_W, 0x3b, RSP, CTX, offsetof(struct jit_ctx, call_limit));
	emit_jump_to_label(j, X86_JBE, add_stub(j, STATUS_TOO_DEEP, pc, -1));
	for (int r = 6; r <= 9; r++)
		emit_push(j, reg2x86[r]);
	emit_alu_ri(j, true, ALU_SUB, RSP, 8);
	emit_alu_ri(j, true, ALU_SUB, RBP, SLUICE_STACK_SIZE);
	end = j->len + 5;
	emit1(j, 0xe8);                                         /* call rel32 */
	emit_le(j, (uint32_t)(j->prev_offsets[target] - end), 4);
	emit_alu_ri(j, true, ALU_ADD, RBP, SLUICE_STACK_SIZE);
	emit_alu_ri(j, true, ALU_ADD, RSP, 8);
	for (int r = 9; r >= 6; r--)
		emit_pop(j, reg2x86[r]);
}

/* Free the BPF stack, restore what the entry saved, return r0 (in rax). */
static void emit_epilogue(struct jit *j)
{
	if (j->frame_size) {
		emit_rr(j, X86_W, 0x81, ALU_ADD, RSP);          /* add rsp, frame_size */
		emit_le(j, j->frame_size, 4);
	}
	for (size_t i = j->nsaved; i-- > 0;)
		emit_pop(j, j->saved[i]);                       /* ... pop rbx */
	emit1(j, 0xc3);                                         /* ret */
}

/* One BPF instruction.  The switch names every op: -Wswitch flags a new row of the ISA table. */
static void emit_insn(struct jit *j, size_t pc)
{
	const struct sluice_insn *insn = &j->insns[pc];
	enum insn_op op = (enum insn_op)insn_lookup(insn);
	int dst = reg2x86[insn->dst], src = reg2x86[insn->src];

#define ALL_FORMS(name) \
	case OP_##name##64_IMM: case OP_##name##64_REG: case OP_##name##32_IMM: case OP_##name##32_REG
	switch (op) {
	ALL_FORMS(ADD): emit_alu(j, op, insn, ALU_ADD); break;
	ALL_FORMS(SUB): emit_alu(j, op, insn, ALU_SUB); break;
	ALL_FORMS(OR):  emit_alu(j, op, insn, ALU_OR); break;
	ALL_FORMS(AND): emit_alu(j, op, insn, ALU_AND); break;
	ALL_FORMS(XOR): emit_alu(j, op, insn, ALU_XOR); break;
	ALL_FORMS(MOV): emit_mov(j, op, insn); break;
	ALL_FORMS(MUL): emit_mul(j, op, insn); break;
	ALL_FORMS(LSH): emit_shift(j, op, insn, SHIFT_SHL); break;
	ALL_FORMS(RSH): emit_shift(j, op, insn, SHIFT_SHR); break;
	ALL_FORMS(ARSH): emit_shift(j, op, insn, SHIFT_SAR); break;
	ALL_FORMS(DIV): emit_divmod(j, op, insn, false, false); break;
	ALL_FORMS(MOD): emit_divmod(j, op, insn, false, true); break;
	ALL_FORMS(SDIV): emit_divmod(j, op, insn, true, false); break;
	ALL_FORMS(SMOD): emit_divmod(j, op, insn, true, true); break;
	case OP_NEG64: case OP_NEG32:
		emit_neg(j, op, insn);
		break;
	case OP_MOVSX8_32: case OP_MOVSX16_32:
	case OP_MOVSX8_64: case OP_MOVSX16_64: case OP_MOVSX32_64:
		emit_movsx(j, op, insn);
		break;
	case OP_LE16: case OP_LE32: case OP_LE64:
		emit_byte_order(j, op, insn, false);
		break;
	case OP_BE16: case OP_BE32: case OP_BE64:
	case OP_BSWAP16: case OP_BSWAP32: case OP_BSWAP64:
		emit_byte_order(j, op, insn, true);
		break;
	case OP_LDXB: case OP_LDXH: case OP_LDXW: case OP_LDXDW:
		emit_load(j, insn_access_size(op), false, dst, src, insn->off);
		break;
	case OP_LDXSB: case OP_LDXSH: case OP_LDXSW:
		emit_load(j, insn_access_size(op), true, dst, src, insn->off);
		break;
	case OP_STB: case OP_STH: case OP_STW: case OP_STDW:
		emit_store_imm(j, insn_access_size(op), dst, insn->off, insn->imm);
		break;
	case OP_STXB: case OP_STXH: case OP_STXW: case OP_STXDW:
		emit_store_reg(j, insn_access_size(op), dst, insn->off, src);
		if (j->key_kept[pc] == KEY_KEEP)
			emit_mov_rr(j, false, AUX, src);        /* mov r11d, e_src */
		break;
#define BOTH_WIDTHS(name) case OP_ATOMIC32_##name: case OP_ATOMIC64_##name
	BOTH_WIDTHS(ADD): emit_atomic_alu(j, op, insn, ALU_ADD); break;
	BOTH_WIDTHS(OR):  emit_atomic_alu(j, op, insn, ALU_OR); break;
	BOTH_WIDTHS(AND): emit_atomic_alu(j, op, insn, ALU_AND); break;
	BOTH_WIDTHS(XOR): emit_atomic_alu(j, op, insn, ALU_XOR); break;
	BOTH_WIDTHS(FETCH_ADD): emit_atomic_rm(j, op, insn, X86_LOCK, 0x0fc1); break; /* lock xadd */
	BOTH_WIDTHS(FETCH_OR):  emit_atomic_fetch_alu(j, op, insn, ALU_OR); break;
	BOTH_WIDTHS(FETCH_AND): emit_atomic_fetch_alu(j, op, insn, ALU_AND); break;
	BOTH_WIDTHS(FETCH_XOR): emit_atomic_fetch_alu(j, op, insn, ALU_XOR); break;
	BOTH_WIDTHS(XCHG): emit_atomic_rm(j, op, insn, 0, 0x87); break;
	BOTH_WIDTHS(CMPXCHG): emit_cmpxchg(j, op, insn); break;
#undef BOTH_WIDTHS
	case OP_LDDW:
		emit_lddw(j, insn);
		break;
	case OP_LDABSW: case OP_LDABSH: case OP_LDABSB:
	case OP_LDINDW: case OP_LDINDH: case OP_LDINDB:
		emit_packet_load(j, op, insn);
		break;
	case OP_JA: case OP_JA32:
		emit_ja(j, op, pc);
		break;
	ALL_FORMS(JEQ): emit_jcond(j, op, pc, X86_JE, false); break;
	ALL_FORMS(JNE): emit_jcond(j, op, pc, X86_JNE, false); break;
	ALL_FORMS(JGT): emit_jcond(j, op, pc, X86_JA, false); break;
	ALL_FORMS(JGE): emit_jcond(j, op, pc, X86_JAE, false); break;
	ALL_FORMS(JLT): emit_jcond(j, op, pc, X86_JB, false); break;
	ALL_FORMS(JLE): emit_jcond(j, op, pc, X86_JBE, false); break;
	ALL_FORMS(JSGT): emit_jcond(j, op, pc, X86_JG, false); break;
	ALL_FORMS(JSGE): emit_jcond(j, op, pc, X86_JGE, false); break;
	ALL_FORMS(JSLT): emit_jcond(j, op, pc, X86_JL, false); break;
	ALL_FORMS(JSLE): emit_jcond(j, op, pc, X86_JLE, false); break;
	ALL_FORMS(JSET): emit_jcond(j, op, pc, X86_JNE, true); break;
	case OP_CALL:
		if (j->lookup_map[pc])
			emit_map_lookup(j, pc, j->lookup_map[pc]);
		else
			emit_call_helper(j, insn);
		break;
	case OP_CALL_LOCAL:
		emit_call_local(j, op, pc);
		break;
	case OP_CALLX:
		emit_callx(j, pc, insn);
		break;
	case OP_EXIT:
		if (j->calls_local)
			emit1(j, 0xc3);                         /* ret, to a caller or the entry */
		else
			emit_epilogue(j);
		break;
	case OP_LDDW_MAP_FD: case OP_LDDW_MAP_VALUE: case OP_LDDW_BTF_ID: case OP_LDDW_FUNC:
	case OP_LDDW_MAP_IDX: case OP_LDDW_MAP_IDX_VALUE: case OP_CALL_KFUNC:
	case OP__COUNT:
		break; /* refused by resolve_references; OP__COUNT is not a row */
	}
#undef ALL_FORMS
}

/* Does the entry save x: it holds one of r6-r10 the program names, or the context. */
static bool entry_saves(const struct jit *j, int x)
{
	for (int r = 6; r <= SLUICE_MAX_REG; r++)
		if (reg2x86[r] == x && (j->regs_used & (1u << r)))
			return true;
	return x == CTX && j->needs_ctx;
}

/*
 * Entry: called as uint64_t entry(r1, r2, r3, r4, r5, struct jit_ctx *ctx),
 * so r1-r5 arrive in their registers and the context in r9.  It saves the
 * callee-saved registers the program uses (and r12 for the context when it
 * needs one), and takes the BPF stack from the native one, below them.
 *
 * Helpers need rsp 16-byte aligned in the body.  It is 8 off at entry, and
 * 8 * (1 + saved + 1 if the body is called) off in the body (the BPF stack
 * takes multiples of 16): when that is odd, the entry takes 8 bytes more.
 */
static void emit_entry(struct jit *j)
{
	static const uint8_t callee_saved[] = { RBX, RBP, R12, R13, R14, R15 };
	size_t call;

	j->nsaved = 0;
	for (size_t i = 0; i < sizeof(callee_saved); i++)
		if (entry_saves(j, callee_saved[i]))
			j->saved[j->nsaved++] = callee_saved[i];
	j->frame_size = j->stack_size;
	if ((j->calls_helpers || j->calls_maps || j->loads_packet) &&
	    (1 + j->nsaved + j->calls_local) % 2)
		j->frame_size += 8;
	for (size_t i = 0; i < j->nsaved; i++)
		emit_push(j, j->saved[i]);                      /* push rbx ... */
	if (j->frame_size) {
		emit_rr(j, X86_W, 0x81, ALU_SUB, RSP);          /* sub rsp, frame_size */
		emit_le(j, j->frame_size, 4);
	}
	if (j->stack_size)                                      /* lea rbp, [rsp+frame_size] */
		emit_rm(j, X86_W, 0x8d, reg2x86[10], RSP, (int32_t)j->frame_size);
	if (j->needs_ctx) {
		emit_mov_rr(j, true, CTX, RUN_ARG);             /* mov r12, r9 */
		emit_store64(j, CTX, offsetof(struct jit_ctx, entry_rsp), RSP); /* mov [r12+entry_rsp], rsp */
	}
	/*
	 * r0 and r6-r9 start at zero, as in the interpreter, where a path may
	 * read them unwritten.  Only an instruction naming r6-r9 reads them
	 * (liveness also counts a call's callee), and only those the entry
	 * saved may be changed.
	 */
	for (int r = 0; r <= 9; r++)
		if ((r == 0 || (r >= 6 && (j->regs_used & (1u << r)))) && (j->live[0] & (1u << r)))
			emit_mov_imm64(j, reg2x86[r], 0);
	if (!j->calls_local)
		return; /* the body follows */

	/* lea r11, [rsp - 8 - 7 frames]: where rsp is in the deepest frame allowed */
	emit_rm(j, X86_W, 0x8d, AUX, RSP, -(8 + LOCAL_CALL_FRAME * (SLUICE_MAX_CALL_FRAMES - 1)));
	emit_store64(j, CTX, offsetof(struct jit_ctx, call_limit), AUX);
	emit1(j, 0xe8);                                         /* call body */
	call = j->len;
	emit_le(j, 0, 4);
	emit_epilogue(j);
	for (unsigned i = 0; i < 4; i++)                        /* the body follows */
		patch1(j, call + i, (uint8_t)((j->len - (call + 4)) >> (8 * i)));
}

/* jmp to a label emitted earlier in this pass */
static void emit_jump_back(struct jit *j, size_t label)
{
	int64_t disp = (int64_t)j->labels[label] - (int64_t)(j->len + 2);

	if (is_s8(disp))
		emit_jcc8(j, X86_JMP, (int8_t)disp);
	else
		emit_jcc32(j, X86_JMP, j->labels[label]);
}

/* mov qword [r12 + field], imm32 */
static void emit_store_ctx_imm(struct jit *j, size_t field, int32_t imm)
{
	emit_rm(j, X86_W, 0xc7, 0, CTX, (int32_t)field);
	emit_le(j, (uint32_t)imm, 4);
}

/* Report status at pc through the context, then unwind. */
static void emit_error_exit(struct jit *j, const struct jit_stub *stub)
{
	if (stub->value_reg >= 0)
		emit_store64(j, CTX, offsetof(struct jit_ctx, err_value), stub->value_reg);
	emit_store_ctx_imm(j, offsetof(struct jit_ctx, err_pc), (int32_t)stub->pc);
	emit_store_ctx_imm(j, offsetof(struct jit_ctx, status), (int32_t)stub->status);
}

/*
 * What follows the program: falling off its end, then the unwinding path
 * every early end takes, then the early ends, each only if the program can
 * take it.
 */
static void emit_exits(struct jit *j)
{
	struct jit_stub fell_off = { STATUS_FELL_OFF, j->count, -1 };

	if (!j->needs_ctx)
		return;
	if (j->can_fall_off)
		emit_error_exit(j, &fell_off);
	j->labels[LABEL_UNWIND] = (uint32_t)j->len;
	emit_load64(j, RSP, CTX, offsetof(struct jit_ctx, entry_rsp)); /* mov rsp, [r12+entry_rsp] */
	emit_epilogue(j);

	if (j->calls_helpers) {
		j->labels[LABEL_STOPPED] = (uint32_t)j->len;    /* a helper called sluice_run_stop */
		emit_load64(j, RAX, CTX, offsetof(struct jit_ctx, run.stop_r0));
		emit_jump_back(j, LABEL_UNWIND);
	}
	if (j->loads_packet) {
		j->labels[LABEL_LD_OUT] = (uint32_t)j->len;     /* ld_abs/ld_ind outside the packet */
		emit_mov_imm64(j, RAX, 0);
		emit_jump_back(j, LABEL_UNWIND);
	}
	for (size_t i = 0; i < j->nstubs; i++) {
		j->labels[LABEL__FIXED + i] = (uint32_t)j->len;
		emit_error_exit(j, &j->stubs[i]);
		emit_jump_back(j, LABEL_UNWIND);
	}
}

/*
 * The left rotation two shifts of copies of one value make when ORed: the
 * first by first_count, the second by second_count, one left and one
 * right, adding up to the width.  0 when they make none.
 */
static unsigned rotation_count(bool wide, enum insn_op first, int32_t first_count,
			       enum insn_op second, int32_t second_count)
{
	unsigned bits = wide ? 64 : 32;
	unsigned a = (uint32_t)first_count & (bits - 1), b = (uint32_t)second_count & (bits - 1);
	enum insn_op lsh = wide ? OP_LSH64_IMM : OP_LSH32_IMM;
	enum insn_op rsh = wide ? OP_RSH64_IMM : OP_RSH32_IMM;

	if (!a || !b || a + b != bits)
		return 0;
	if (first == lsh && second == rsh)
		return a;
	if (first == rsh && second == lsh)
		return b;
	return 0;
}

/*
 * clang spells a rotation, which BPF lacks, with two shifted copies of a
 * value ORed together (either shift first, into either copy): from B into
 * new registers A and C,
 *
 *   mov A, B ; lsh A, k ; mov C, B ; rsh C, w - k ; or A, C  (or C, A)
 *
 * or from A, rotating it in place or into C,
 *
 *   mov C, A ; rsh C, w - k ; lsh A, k ; or A, C  (or C, A)
 *
 * When nothing lands in the middle and nothing reads the copy ORed in
 * after, that is
 *
 *   mov A, B ; rol A, k        or        rol A, k   (mov C, A ; rol C, k)
 *
 * Returns the slots it stands for: 5 or 4, or 0 when pc starts no rotation.
 */
static size_t emit_rotation(struct jit *j, size_t pc)
{
	const struct sluice_insn *insn = &j->insns[pc];
	enum insn_op op[5];
	size_t n = pc + 5 <= j->count ? 5 : j->count - pc;
	enum insn_op mov, or;
	unsigned left;
	bool wide;
	int a, b, c, into, spare;

	if (n < 4)
		return 0;
	for (size_t i = 0; i < n; i++)
		op[i] = (enum insn_op)insn_lookup(&insn[i]);
	wide = insn_is_wide(op[0]);
	mov = wide ? OP_MOV64_REG : OP_MOV32_REG;
	or = wide ? OP_OR64_REG : OP_OR32_REG;
	if (op[0] != mov)
		return 0;

	/* mov A, B ; shift A ; mov C, B ; shift C ; or A, C (or C, A) */
	a = insn[0].dst, b = insn[0].src;
	if (n == 5 && op[2] == mov && op[4] == or && !j->landed_on[pc + 1] &&
	    !j->landed_on[pc + 2] && !j->landed_on[pc + 3] && !j->landed_on[pc + 4]) {
		c = insn[2].dst;
		into = insn[4].dst, spare = insn[4].src;
		left = rotation_count(wide, op[1], insn[1].imm, op[3], insn[3].imm);
		if (left && insn[2].src == b && a != b && c != b && a != c && insn[1].dst == a &&
		    insn[3].dst == c && ((into == a && spare == c) || (into == c && spare == a)) &&
		    !(j->live[pc + 5] & (1u << spare))) {
			emit_mov_rr(j, wide, reg2x86[into], reg2x86[b]);            /* mov A, B */
			emit_shift_ri(j, width(wide), SHIFT_ROL, reg2x86[into], left); /* rol A, k */
			return 5;
		}
	}

	/* mov C, A ; shift C ; shift A ; or A, C (or C, A) */
	c = insn[0].dst, a = insn[0].src;
	if (op[3] == or && !j->landed_on[pc + 1] && !j->landed_on[pc + 2] &&
	    !j->landed_on[pc + 3]) {
		into = insn[3].dst, spare = insn[3].src;
		left = rotation_count(wide, op[2], insn[2].imm, op[1], insn[1].imm);
		if (left && a != c && insn[1].dst == c && insn[2].dst == a &&
		    ((into == a && spare == c) || (into == c && spare == a)) &&
		    !(j->live[pc + 4] & (1u << spare))) {
			if (into == c)
				emit_mov_rr(j, wide, reg2x86[c], reg2x86[a]);   /* mov C, A */
			emit_shift_ri(j, width(wide), SHIFT_ROL, reg2x86[into], left); /* rol A, k */
			return 4;
		}
	}
	return 0;
}

/* One pass over the program; the result is complete when len <= cap. */
static void emit_pass(struct jit *j)
{
	j->len = 0;
	j->nstubs = 0;
	j->short_missed = false;
	j->key_state = j->blind_seed;
	emit_entry(j);
	for (size_t pc = 0; pc < j->count;) {
		size_t slots;

		if (j->loop_head[pc])
			emit_align(j);
		j->offsets[pc] = (uint32_t)j->len;
		slots = emit_rotation(j, pc);
		if (!slots) {
			emit_insn(j, pc);
			slots = sluice_insn_slots(&j->insns[pc]);
		}
		/* the slots folded into pc's code start, and end, where it ends */
		for (size_t folded = pc + 1; folded < pc + slots; folded++)
			j->offsets[folded] = (uint32_t)j->len;
		pc += slots;
	}
	j->offsets[j->count] = (uint32_t)j->len;
	emit_exits(j);
}

static bool pass_agrees(const struct jit *j)
{
	return !j->short_missed && !memcmp(j->offsets, j->prev_offsets, (j->count + 1) * sizeof(*j->offsets)) &&
	       !memcmp(j->labels, j->prev_labels, (LABEL__FIXED + j->nstubs) * sizeof(*j->labels));
}

static void swap_u32p(uint32_t **a, uint32_t **b)
{
	uint32_t *t = *a;

	*a = *b;
	*b = t;
}

/* Emit passes until two agree; the last one's code is then in j->buf. */
static int settle(struct jit *j, struct sluice_error *err)
{
	for (int pass = 0; pass < MAX_PASSES; pass++) {
		j->first_pass = pass == 0;
		emit_pass(j);
		if (j->len > j->cap) {
			/* the buffer was short: grow it and emit the same pass again */
			uint8_t *grown = realloc(j->buf, j->len);

			if (!grown)
				return sluice_fail(err, ENOMEM, "out of memory");
			j->buf = grown;
			j->cap = j->len;
			emit_pass(j);
		}
		if (!j->first_pass && pass_agrees(j))
			return 0;
		swap_u32p(&j->offsets, &j->prev_offsets);
		swap_u32p(&j->labels, &j->prev_labels);
	}
	/* Never: sizes only shrink after the first pass.  Kept so that a bug
	 * there shows as an error rather than as code with wrong jumps. */
	return sluice_fail(err, EAGAIN, "jump sizes did not settle in %d passes", MAX_PASSES);
}

/*
 * What the program uses: the registers it names, and the parts of the
 * runtime its instructions reach.
 */
static void note_use(struct jit *j, size_t pc, enum insn_op op)
{
	const struct sluice_insn *insn = &j->insns[pc];
	unsigned fields = insn_shape_fields((enum insn_shape)insn_table[op].shape);

	if (fields & FIELD_DST)
		j->regs_used |= 1u << insn->dst;
	if (fields & FIELD_SRC)
		j->regs_used |= 1u << insn->src;
	switch (insn_table[op].shape) {
	case SHAPE_CALL:
		if (j->lookup_map[pc]) {
			j->calls_maps |= !array_values(j->lookup_map[pc]);
			break;
		}
		/* fall through */
	case SHAPE_CALLX:
		j->calls_helpers = true;
		break;
	case SHAPE_CALL_LOCAL:
		j->calls_local = true;
		j->regs_used |= 1u << 10; /* each call moves r10 */
		break;
	case SHAPE_LDABS:
	case SHAPE_LDIND:
		j->loads_packet = true;
		break;
	default:
		break;
	}
	j->can_fall_off = op != OP_EXIT && op != OP_JA && op != OP_JA32; /* the last one counts */
}

/*
 * The map lookups compiled for their map: bpf_map_lookup_elem where r1 is
 * one of the maps the caller named on every path, and the map is an array
 * or has a lookup to call directly.  Not arrays under constant blinding: an
 * inline lookup carries the map's size in its code, which the program's
 * author chose.
 */
static int find_map_lookups(struct jit *j, struct sluice_error *err)
{
	uint64_t *r1;

	j->lookup_map = calloc(j->count ? j->count : 1, sizeof(*j->lookup_map));
	j->key_kept = calloc(j->count ? j->count : 1, 1);
	if (!j->lookup_map || !j->key_kept)
		return sluice_fail(err, ENOMEM, "out of memory");
	if (!j->nmaps)
		return 0;
	if (jit_call_r1(j->insns, j->count, &r1))
		return sluice_fail(err, ENOMEM, "out of memory");
	for (size_t pc = 0; pc < j->count; pc++) {
		if (!r1[pc] || j->insns[pc].imm != BPF_FUNC_map_lookup_elem)
			continue;
		for (size_t i = 0; i < j->nmaps; i++) {
			struct sluice_map *map = j->maps[i];

			if (map && (uintptr_t)map == r1[pc] &&
			    (array_values(map) ? !j->blind : map->lookup != NULL))
				j->lookup_map[pc] = map;
		}
	}
	free(r1);
	return 0;
}

/* The instruction before the one at pc > 0 (an lddw takes two slots). */
static size_t insn_before(const struct jit *j, size_t pc)
{
	return pc >= 2 && sluice_insn_slots(&j->insns[pc - 2]) == 2 ? pc - 2 : pc - 1;
}

/*
 * An array lookup whose index was stored just before it, as clang spells
 * bpf_map_lookup_elem(&array, &index) for an index it just computed:
 *
 *   stxw [r10 + k], rS ; mov r2, r10 ; add r2, k ; lddw r1, map ; call
 *
 * (the lddw anywhere after the store, or earlier).  The store then also
 * leaves the index in r11 and the lookup takes it from there instead of
 * reading it back: a load the store forwards to costs some five cycles, on
 * the longest chain of such a program.  Nothing lands between the store
 * and the call, and what lies between leaves r11 alone (constants are not
 * blinded where arrays are looked up inline).
 */
static void find_kept_key(struct jit *j, size_t call)
{
	bool add = false, mov = false, lddw = false;
	size_t pc = call;
	int32_t k = 0;

	if (j->landed_on[call])
		return;
	while (pc > 0) {
		const struct sluice_insn *insn;
		enum insn_op op;

		pc = insn_before(j, pc);
		insn = &j->insns[pc];
		op = (enum insn_op)insn_lookup(insn);
		if (op == OP_STXW && insn->dst == 10 && insn->off == k && mov) {
			j->key_kept[pc] = KEY_KEEP;
			j->key_kept[call] = KEY_KEPT;
			return;
		}
		if (j->landed_on[pc])
			return;
		if (op == OP_ADD64_IMM && insn->dst == 2 && !add) {
			add = true;
			k = insn->imm;
		} else if (op == OP_MOV64_REG && insn->dst == 2 && insn->src == 10 && add && !mov) {
			mov = true;
		} else if (op == OP_LDDW && insn->dst == 1 && !lddw) {
			lddw = true;
		} else {
			return;
		}
	}
}

/*
 * Refuse what only a loader can resolve, as the interpreter does, find
 * every helper called by id, count the sites that need an error stub, and
 * note what the program uses.
 */
static int resolve_references(struct jit *j, struct sluice_error *err)
{
	int64_t target;
	int ret = find_map_lookups(j, err);

	if (ret)
		return ret;
	j->landed_on = calloc(j->count, 1);
	j->loop_head = calloc(j->count, 1);
	j->heads_before = calloc(j->count + 2, sizeof(*j->heads_before));
	j->short_jump = calloc(j->count, 1);
	if (!j->landed_on || !j->loop_head || !j->heads_before || !j->short_jump)
		return sluice_fail(err, ENOMEM, "out of memory");
	for (size_t pc = 0; pc < j->count; pc += sluice_insn_slots(&j->insns[pc])) {
		const struct sluice_insn *insn = &j->insns[pc];
		int op = insn_lookup(insn);

		ret = helpers_check_runnable(j->helpers, insn, pc, err);
		if (ret)
			return ret;
		note_use(j, pc, (enum insn_op)op);
		if (op == OP_CALL_LOCAL || op == OP_CALLX)
			j->max_stubs++;
		if (insn_branch_target(insn, (enum insn_op)op, pc, &target)) {
			j->landed_on[target] = 1;
			if ((size_t)target <= pc && pc - (size_t)target < SMALL_LOOP_SLOTS &&
			    op != OP_CALL_LOCAL)
				j->loop_head[target] = 1;
		}
	}
	for (size_t pc = 0; pc <= j->count; pc++)
		j->heads_before[pc + 1] = j->heads_before[pc] + (pc < j->count && j->loop_head[pc]);
	for (size_t pc = 0; pc < j->count; pc++)
		if (j->lookup_map[pc] && array_values(j->lookup_map[pc]))
			find_kept_key(j, pc);
	j->needs_ctx = j->calls_helpers || j->calls_local || j->loads_packet || j->can_fall_off;
	if (j->regs_used & (1u << 10))
		j->stack_size = (j->calls_local ? SLUICE_MAX_CALL_FRAMES : 1) * SLUICE_STACK_SIZE;
	j->helper_limit = helpers_id_limit(j->helpers);
	if (!j->helper_limit)
		return 0;
	j->helper_fns = calloc(j->helper_limit, sizeof(*j->helper_fns));
	if (!j->helper_fns)
		return sluice_fail(err, ENOMEM, "out of memory");
	for (uint32_t id = 0; id < j->helper_limit; id++)
		j->helper_fns[id] = sluice_helpers_fn(j->helpers, id);
	return 0;
}

/* Copy the settled code to fresh pages: written while read+write, then read+execute, never both. */
static int map_code(struct sluice_jit *out, const struct jit *j, struct sluice_error *err)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	void *mem;

	out->code_len = j->len;
	out->mapped_len = (j->len + page - 1) / page * page;
	mem = mmap(NULL, out->mapped_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return sluice_fail(err, errno, "mmap: cannot map %zu bytes of code", out->mapped_len);
	memcpy(mem, j->buf, j->len);
	if (mprotect(mem, out->mapped_len, PROT_READ | PROT_EXEC)) {
		int code = errno;

		munmap(mem, out->mapped_len);
		return sluice_fail(err, code, "mprotect: cannot make the code executable");
	}
	out->code = mem;
	out->entry = (uint64_t (*)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t,
				   struct jit_ctx *))mem;
	return 0;
}

static void jit_release(struct jit *j)
{
	free(j->live);
	free(j->lookup_map);
	free(j->key_kept);
	free(j->landed_on);
	free(j->loop_head);
	free(j->heads_before);
	free(j->short_jump);
	free(j->buf);
	free(j->offsets);
	free(j->prev_offsets);
	free(j->labels);
	free(j->prev_labels);
	free(j->stubs);
	free(j->helper_fns);
}

static int compile(struct sluice_jit *out, struct jit *j, struct sluice_error *err)
{
	int ret = resolve_references(j, err);

	if (ret)
		return ret;
	if (jit_liveness(j->insns, j->count, &j->live))
		return sluice_fail(err, ENOMEM, "out of memory");
	if (j->blind && getrandom(&j->blind_seed, sizeof(j->blind_seed), 0) != sizeof(j->blind_seed))
		return sluice_fail(err, errno, "getrandom: no key for constant blinding");
	j->cap = 8 * j->count + 256; /* most programs fit; settle grows the rest */
	j->buf = malloc(j->cap);
	j->offsets = calloc(j->count + 1, sizeof(*j->offsets));
	j->prev_offsets = calloc(j->count + 1, sizeof(*j->prev_offsets));
	j->labels = calloc(LABEL__FIXED + j->max_stubs, sizeof(*j->labels));
	j->prev_labels = calloc(LABEL__FIXED + j->max_stubs, sizeof(*j->prev_labels));
	j->stubs = calloc(j->max_stubs + 1, sizeof(*j->stubs));
	if (!j->buf || !j->offsets || !j->prev_offsets || !j->labels || !j->prev_labels || !j->stubs)
		return sluice_fail(err, ENOMEM, "out of memory");
	ret = settle(j, err);
	if (ret)
		return ret;
	ret = map_code(out, j, err);
	if (ret)
		return ret;
	/* the settled pass's offsets and callx table now belong to the program */
	out->offsets = j->offsets;
	j->offsets = NULL;
	out->helper_fns = j->helper_fns;
	j->helper_fns = NULL;
	out->needs_ctx = j->needs_ctx;
	return 0;
}

struct sluice_jit *sluice_jit_new(const struct sluice_insn *insns, size_t count,
				  const struct sluice_jit_opts *opts,
				  struct sluice_error *err)
{
	struct sluice_jit *out;
	struct jit j;

	if (!opts || opts->sz < sizeof(struct sluice_jit_opts)) {
		sluice_fail(err, EINVAL, "sluice_jit_opts: bad size");
		return NULL;
	}
	if (sluice_insns_check(insns, count, err))
		return NULL;
	out = calloc(1, sizeof(*out));
	if (!out) {
		sluice_fail(err, ENOMEM, "out of memory");
		return NULL;
	}
	j = (struct jit){
		.insns = insns, .count = count, .helpers = opts->helpers,
		.maps = opts->maps, .nmaps = opts->maps ? opts->nmaps : 0,
		.blind = opts->blind_constants,
	};
	out->count = count;
	if (compile(out, &j, err)) {
		int code = errno;

		jit_release(&j);
		sluice_jit_free(out);
		errno = code;
		return NULL;
	}
	jit_release(&j);
	return out;
}

void sluice_jit_free(struct sluice_jit *jit)
{
	if (!jit)
		return;
	if (jit->code)
		munmap(jit->code, jit->mapped_len);
	free(jit->offsets);
	free(jit->helper_fns);
	free(jit);
}

/* How a run that ended early through the context went. */
static int run_status(const struct jit_ctx *ctx, struct sluice_error *err)
{
	switch ((enum jit_status)ctx->status) {
	case STATUS_OK:
		break;
	case STATUS_FELL_OFF:
		return sluice_fail(err, EINVAL, "pc %llu: fell off the end of the program",
				   (unsigned long long)ctx->err_pc);
	case STATUS_TOO_DEEP:
		return sluice_fail(err, E2BIG, "pc %llu: local calls nested deeper than %d frames",
				   (unsigned long long)ctx->err_pc, SLUICE_MAX_CALL_FRAMES);
	case STATUS_BAD_CALLX:
		return sluice_fail(err, ENOENT, "pc %llu: callx to %llu, which is no helper",
				   (unsigned long long)ctx->err_pc,
				   (unsigned long long)ctx->err_value);
	}
	return 0;
}

/*
 * A run of a program that can end early, through a context.  Kept out of
 * line, so that the plain run in sluice_jit_exec needs no frame of its own.
 */
__attribute__((noinline))
static int exec_with_ctx(const struct sluice_jit *jit, const struct sluice_exec *exec,
			 uint64_t *r0, struct sluice_error *err)
{
	struct jit_ctx ctx = {
		.run = { .user = exec->user },
		.exec = exec,
		.status = STATUS_OK,
	};
	uint64_t result = jit->entry(exec->args[0], exec->args[1], exec->args[2],
				     exec->args[3], exec->args[4], &ctx);
	int ret = run_status(&ctx, err);

	if (!ret)
		*r0 = result;
	return ret;
}

int sluice_jit_exec(struct sluice_jit *jit, struct sluice_exec *exec,
		    uint64_t *r0, struct sluice_error *err)
{
	if (!exec || exec->sz < sizeof(struct sluice_exec))
		return sluice_fail(err, EINVAL, "sluice_exec: bad size");
	if (exec->entry)
		return sluice_fail(err, ENOTSUP,
				   "the JIT starts a program at its first instruction, not at %zu",
				   exec->entry);
	exec->executed = 0;
	if (jit->needs_ctx)
		return exec_with_ctx(jit, exec, r0, err);
	/* no helper, packet or call, and no way to fall off: it cannot fail */
	*r0 = jit->entry(exec->args[0], exec->args[1], exec->args[2], exec->args[3],
			 exec->args[4], NULL);
	return 0;
}

sluice_jit_fn sluice_jit_function(const struct sluice_jit *jit)
{
	/* the entry, which reads its sixth argument, the context, only when it needs one */
	return jit->needs_ctx ? NULL : (sluice_jit_fn)(uintptr_t)jit->code;
}

const uint8_t *sluice_jit_code(const struct sluice_jit *jit, size_t *len)
{
	*len = jit->code_len;
	return jit->code;
}

const uint32_t *sluice_jit_offsets(const struct sluice_jit *jit, size_t *count)
{
	*count = jit->count;
	return jit->offsets;
}
