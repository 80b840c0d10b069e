/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_VERIFIER_H
#define SLUICE_VERIFIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sluice/error.h>
#include <sluice/insn.h>
#include <sluice/object.h>

/*
 * The static verifier: proves a program safe the way the Linux kernel's
 * verifier does (kernel/bpf/verifier.c), with the same rules and, on
 * rejection, the reason in one sentence plus the state that led there.
 *
 * Programs come as the loader leaves them: maps referenced by index into
 * opts->maps (lddw src 1 / 2, see <sluice/object.h>).
 *
 * The rules are those of a 6.x kernel loading as root (CAP_BPF and
 * CAP_PERFMON: bounded loops, pointer comparisons and leaks, reads of
 * uninitialised stack), or without those capabilities when
 * opts->unprivileged.  Where the kernel computes no bounds (division,
 * modulo, shifts by a register) neither does Sluice, so that the same
 * programs pass.  Sluice departs from the kernel where it lacks the
 * kernel's BTF: a tracing program's arguments, and what it loads through
 * them, may be pointers or numbers (read-only memory, bounded by the
 * comparisons the program makes); kfunc calls and the helpers taking
 * timers or dynptrs are refused.  Read-only maps with initial data
 * (.rodata, .kconfig) are frozen: loads from them at known offsets give
 * known numbers, as in the kernel.
 */
struct sluice_verifier_opts {
	size_t sz;                   /* sizeof(struct sluice_verifier_opts) */
	uint32_t prog_type;          /* enum bpf_prog_type */
	uint32_t expected_attach_type;
	bool unprivileged;           /* the rules for a loader without CAP_BPF/CAP_PERFMON */
	bool gpl;                    /* the license is GPL-compatible */
	/*
	 * 0: the log says only why a program was rejected: the registers and
	 * stack at the failing instruction, its C source line (from lines),
	 * the instruction, and the kernel's sentence; 1: also every
	 * instruction explored and the state where each postponed branch
	 * resumes ("from 4 to 7: ..."), as BPF_LOG_LEVEL1; 2: also the state
	 * before every instruction, as BPF_LOG_LEVEL2.  Levels 1 and 2 end
	 * with "processed N insns ...".
	 */
	unsigned log_level;
	const struct sluice_map_def *const *maps; /* by the lddw's map index */
	size_t nmaps;
	const struct sluice_line_info *lines;     /* BTF line_info, may be NULL */
	size_t nlines;
	const struct sluice_func_info *funcs;     /* BTF func_info, may be NULL */
	size_t nfuncs;                            /* (subprograms are found from the calls) */
	const struct sluice_verifier_entry *entry; /* NULL: the program type's entry state */
};

/*
 * A chosen entry state instead of the program type's (r1 = ctx, r10 = fp,
 * the rest uninitialised), for test suites that check a fragment from a
 * given state, as PREVAIL's do.  Registers left at SLUICE_ENTRY_DEFAULT
 * keep what the program type gives them; the stack holds the listed
 * scalars and is uninitialised elsewhere.  An entry state that holds no
 * number (an empty range) or names a map past opts->nmaps is refused with
 * -EINVAL.
 */
enum sluice_entry_kind {
	SLUICE_ENTRY_DEFAULT = 0,
	SLUICE_ENTRY_UNINIT,
	SLUICE_ENTRY_SCALAR,     /* within [smin, smax] and [umin, umax] */
	SLUICE_ENTRY_CTX,        /* ctx + off */
	SLUICE_ENTRY_STACK,      /* r10 + off, off in [-512, 0] */
	SLUICE_ENTRY_PACKET,     /* data + off, with range bytes from data known readable */
	SLUICE_ENTRY_PACKET_END, /* data_end */
	SLUICE_ENTRY_MAP_VALUE,  /* value of maps[map] + off, not NULL */
	SLUICE_ENTRY_MAP_PTR,    /* maps[map] itself, as lddw map leaves it */
};

struct sluice_entry_reg {
	enum sluice_entry_kind kind;
	int64_t smin, smax;      /* SCALAR */
	uint64_t umin, umax;
	int32_t off;             /* the pointer kinds */
	uint32_t range;          /* PACKET */
	uint32_t map;            /* MAP_VALUE, MAP_PTR: index into opts->maps */
};

/*
 * size bytes at r10 + off hold a scalar within the bounds: at the start of
 * an 8-byte slot, the number itself (as a store of a register leaves it);
 * elsewhere, bytes known only to be a number (or zero, for [0, 0]).
 */
struct sluice_entry_stack {
	int16_t off;
	uint8_t size;            /* 1, 2, 4 or 8 */
	int64_t smin, smax;
	uint64_t umin, umax;
};

struct sluice_verifier_entry {
	struct sluice_entry_reg regs[SLUICE_MAX_REG]; /* r0-r9; r10 is always the frame pointer */
	const struct sluice_entry_stack *stack;
	size_t nstack;
};

struct sluice_verdict {
	bool accepted;
	size_t error_pc;             /* rejected: where */
	uint64_t insns_processed;    /* as the kernel's "processed N insns" */
	uint32_t total_states;
	uint32_t peak_states;
	uint32_t max_stack_depth;    /* bytes, largest over the frames */
	char *log;                   /* NUL-terminated, owned by the verdict */
	size_t log_len;
};

/*
 * Verify a program.  0 with verdict->accepted true, or 0 with accepted
 * false and the log saying why (err names the pc and the reason too, so
 * callers that only want an error can use it); -errno for failures of the
 * verifier itself (out of memory, bad options).
 */
int sluice_verify(const struct sluice_insn *insns, size_t count,
		  const struct sluice_verifier_opts *opts,
		  struct sluice_verdict *verdict, struct sluice_error *err);
void sluice_verdict_release(struct sluice_verdict *verdict);

#endif
