/* SPDX-License-Identifier: MIT */
/*
 * vgen: random BPF programs for judging a verifier against the kernel's.
 * Unlike progen (tests/progen.h), whose programs are always safe, these
 * are meant to be accepted about half the time and rejected the rest, for
 * the reasons verifiers get wrong: each program is a prologue (r6 = ctx,
 * and r7 = data, r8 = data_end in XDP and TC), a few snippets, an exit, and
 * the subprograms it calls.  A snippet does one thing a real program does
 * (a map lookup and access, a packet bounds check, a stack spill, a loop,
 * a call, a ring buffer record, a bpf_loop callback, a tail call, ...) with
 * parameters drawn at the edges, and now and then gets one detail wrong: a
 * missing null check, an index bounded one too high or by a 32-bit compare
 * only, a stale packet pointer, a read of a clobbered register, a record
 * never submitted.  Whether the result is safe is for the verifiers to say.
 *
 * Programs name maps as the loader leaves them (lddw src 1, imm = index
 * into vgen_maps); the runner creates the maps in the kernel and patches
 * in their fds.  Scalars are computed by progen_alu_block too, so every
 * ALU row of the ISA table turns up.
 */
#ifndef SLUICE_TESTS_VGEN_H
#define SLUICE_TESTS_VGEN_H

#include <stddef.h>
#include <stdint.h>

#include <sluice/insn.h>
#include <sluice/object.h>

#define VGEN_MAX_INSNS 2048

enum { VGEN_MAP_ARRAY, VGEN_MAP_HASH, VGEN_MAP_RINGBUF, VGEN_MAP_PROGS, VGEN_NMAPS };
extern const struct sluice_map_def *const vgen_maps[VGEN_NMAPS];

/* What a program exercises: one bit per kind of snippet in it, for sorting disagreements. */
#define VGEN_FEATURES(X) \
	X(STACK) X(MAP) X(PACKET) X(CTX) X(PTR_ARITH) X(RANGE) X(ALU) X(DIV) X(SHIFT) \
	X(SPILL) X(ATOMIC) X(LOOP) X(CALL) X(HELPER) X(CFG) X(RINGBUF) X(CALLBACK) X(TAIL_CALL)
enum vgen_feature {
#define X(name) VGEN_##name,
	VGEN_FEATURES(X)
#undef X
	VGEN__COUNT
};
extern const char *const vgen_feature_names[VGEN__COUNT];

struct vgen_prog {
	uint32_t prog_type;   /* XDP, SCHED_CLS or SOCKET_FILTER */
	unsigned features;    /* bit per enum vgen_feature */
	size_t count;
	size_t main_count;    /* main's slots; the functions it calls follow */
	struct sluice_insn insns[VGEN_MAX_INSNS];
};

/* The program for seed; the same seed always gives the same program. */
void vgen_generate(uint64_t seed, struct vgen_prog *prog);

/*
 * The program as a BPF ELF object laid out as clang lays one out, for
 * runtimes that load objects: main as the one program (named "vgen", in
 * section xdp, tc or socket), the functions it calls in .text, the maps as
 * legacy `maps` definitions (named as vgen_maps), license GPL.  Returns
 * the bytes written to buf, 0 when they do not fit in size.
 */
size_t vgen_elf(const struct vgen_prog *prog, uint8_t *buf, size_t size);

#endif
