/* SPDX-License-Identifier: MIT */
/*
 * The verifier on small programs, each with its exact verdict: accepted,
 * or refused at one pc with a message containing the kernel's words.
 * One table row per program; every row is its own cmocka test.  Then the
 * example objects of examples/bpf, as clang compiled them.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <linux/bpf.h>

#include <sluice/object.h>
#include <sluice/verifier.h>

#include "../test_asm_text.h"

static const uint8_t rodata_bytes[8] = { 'h', 'i', 0, 0, 42, 0, 0, 0 };

/* lddw_map N in the programs below refers to these, by index. */
static const struct sluice_map_def test_maps[] = {
	{ .name = "hash", .type = BPF_MAP_TYPE_HASH, .key_size = 4, .value_size = 8,
	  .max_entries = 16, .inner_map = -1 },
	{ .name = "data", .type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 16,
	  .max_entries = 1, .origin = SLUICE_MAP_DATA, .inner_map = -1 },
	{ .name = "events", .type = BPF_MAP_TYPE_RINGBUF, .max_entries = 4096, .inner_map = -1 },
	{ .name = "progs", .type = BPF_MAP_TYPE_PROG_ARRAY, .key_size = 4, .value_size = 4,
	  .max_entries = 4, .inner_map = -1 },
	{ .name = "rodata", .type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 8,
	  .max_entries = 1, .map_flags = BPF_F_RDONLY_PROG, .origin = SLUICE_MAP_RODATA,
	  .init_data = rodata_bytes, .init_size = sizeof(rodata_bytes), .inner_map = -1 },
};

struct vcase {
	const char *name;
	uint32_t prog_type;
	bool unprivileged;
	const char *text;
	int reject_pc;      /* -1: accepted */
	const char *message; /* part of the log when refused */
};

#define ACCEPT -1
#define PRUNED_DIAMONDS 130 /* 1 + 16 * (6 one way + 2 the other, pruned where they meet) + 1 */
#define XDP BPF_PROG_TYPE_XDP
#define TC BPF_PROG_TYPE_SCHED_CLS
#define SOCKET BPF_PROG_TYPE_SOCKET_FILTER
#define CGROUP_SKB BPF_PROG_TYPE_CGROUP_SKB
#define KPROBE BPF_PROG_TYPE_KPROBE
#define TRACING BPF_PROG_TYPE_TRACING

/* r2 = data, r3 = data_end of an XDP context in r1. */
#define XDP_DATA "ldxw %r2, [%r1+0]\nldxw %r3, [%r1+4]\n"
/*
 * What the verifier knows shows in which branches it explores: "jne rX, K,
 * bad" where bad returns an uninitialised R0 is accepted only when rX is
 * known to be K.
 */
#define BAD_UNLESS(reg, k) "mov %r0, 0\njne " reg ", " #k ", bad\nexit\nbad:\nmov %r0, %r9\nexit\n"
/* r2 = &key on the stack (key 0), r1 = map 0. */
#define HASH_KEY "stw [%r10-4], 0\nmov %r2, %r10\nadd %r2, -4\nlddw_map %r1, 0\n"
/*
 * Pointer arithmetic an unprivileged loader may not do (Spectre v1), each
 * program also in a privileged case that accepts it.  LEN_VALUE leaves
 * r6 = skb->len and r0 = the value of array map 1 (16 bytes) from pc 8,
 * going to out when there is none; OUT returns 0.
 */
#define LEN_VALUE "ldxw %r6, [%r1+0]\nstw [%r10-4], 0\nmov %r2, %r10\nadd %r2, -4\n" \
	"lddw_map %r1, 1\ncall 1\njeq %r0, 0, out\n"
#define OUT "out:\nmov %r0, 0\nexit\n"
#define VALUE_VAR_PAST_END LEN_VALUE "and %r6, 31\nadd %r0, %r6\n" OUT
#define VALUE_CONST_PAST_END LEN_VALUE "add %r0, 16\n" OUT
#define VALUE_MIXED_SIGNS LEN_VALUE "and %r6, 15\nsub %r6, 8\nadd %r0, %r6\n" OUT
/* Two paths reach the add moving r0 by 4 and by 8: one mask cannot serve both. */
#define VALUE_TWO_MASKS LEN_VALUE "mov %r2, 4\njeq %r6, 0, add\nmov %r2, 8\nadd:\nadd %r0, %r2\n" OUT
/*
 * The same with the wider offset first: a checkpoint holding r2 in 0..7
 * would cover r2 = 4, but 4 is masked otherwise, so pruning must not hide it.
 */
#define VALUE_MASK_PRUNED LEN_VALUE "mov %r2, 4\njeq %r6, 0, add\nmov %r2, %r6\nand %r2, 7\n" \
	"add:\nadd %r0, %r2\n" OUT
#define CTX_PLUS_REG "mov %r0, 0\nmov %r2, 4\nadd %r1, %r2\nexit\n"
#define REG_PLUS_CTX "mov %r0, 0\nmov %r2, 4\nadd %r2, %r1\nexit\n"
/* fp-512 is the frame's last byte: a mask toward its end leaves no room to move. */
#define STACK_END_PLUS_REG "mov %r1, %r10\nadd %r1, -512\nmov %r2, 8\nadd %r1, %r2\nmov %r0, 0\nexit\n"

static const struct vcase cases[] = {
	/* ---- Registers and control flow ---- */
	{ "return_zero", XDP, false, "mov %r0, 0\nexit\n", ACCEPT, NULL },
	{ "r0_uninit_at_exit", XDP, false, "exit\n", 0, "R0 !read_ok" },
	{ "read_uninit_register", XDP, false, "mov %r0, %r2\nexit\n", 0, "R2 !read_ok" },
	{ "write_frame_pointer", XDP, false, "mov %r10, 0\nmov %r0, 0\nexit\n", 0,
	  "frame pointer is read only" },
	{ "unreachable", XDP, false, "mov %r0, 0\nexit\nmov %r0, 1\nexit\n", 2,
	  "unreachable insn 2" },
	{ "fall_off_the_end", XDP, false, "mov %r0, 0\n", 0, "last insn is not an exit or jmp" },
	{ "jump_out_of_range", XDP, false, "mov %r0, 0\nja +3\nexit\n", 1,
	  "jump out of range from insn 1 to 5" },
	{ "jump_into_lddw", XDP, false, "mov %r0, 0\nja +1\nlddw %r1, 1\nexit\n", 1,
	  "jump to the middle of ldimm64 insn 3" },
	{ "bounded_loop", XDP, false,
	  "mov %r1, 0\nloop:\nadd %r1, 1\njlt %r1, 10, loop\nmov %r0, 0\nexit\n", ACCEPT, NULL },
	{ "loop_refused_unprivileged", SOCKET, true,
	  "mov %r1, 0\nloop:\nadd %r1, 1\njlt %r1, 10, loop\nmov %r0, 0\nexit\n", 2,
	  "back-edge from insn 2 to 1" },
	{ "infinite_loop", XDP, false, "mov %r0, 0\nloop:\nja loop\n", 1,
	  "infinite loop detected at insn 1" },
	/* r1's id, left by a copy whose other half was overwritten, ties nothing */
	{ "infinite_loop_with_a_lone_id", XDP, false,
	  "call 5\nmov %r1, %r0\nmov %r0, 1\nloop:\nja loop\n", 3,
	  "infinite loop detected at insn 3" },
	{ "unbounded_loop_hits_the_limit", XDP, false,
	  "mov %r1, 0\nloop:\nadd %r1, 1\nja loop\n", 2,
	  "BPF program is too large. Processed 1000001 insn" },
	{ "dead_branch_not_explored", XDP, false,
	  "mov %r1, 5\njgt %r1, 6, bad\nmov %r0, 0\nexit\nbad:\nexit\n", ACCEPT, NULL },

	/* ---- Scalars ---- */
	{ "division_by_zero_register_allowed", XDP, false,
	  "mov %r1, 0\nmov %r0, 7\ndiv %r0, %r1\nexit\n", ACCEPT, NULL },
	{ "division_by_zero_immediate", XDP, false, "mov %r0, 7\ndiv %r0, 0\nexit\n", 1,
	  "div by zero" },
	{ "shift_immediate_too_wide", XDP, false, "mov %r0, 7\nlsh32 %r0, 32\nexit\n", 1,
	  "invalid shift 32" },
	{ "copies_learn_together", XDP, false,
	  XDP_DATA "ldxw %r4, [%r1+12]\nmov %r5, %r4\njgt %r4, 8, out\n"
	  "mov %r6, %r2\nadd %r6, %r5\nmov %r7, %r6\nadd %r7, 1\njgt %r7, %r3, out\n"
	  "ldxb %r0, [%r6+0]\nout:\nmov %r0, 2\nexit\n", ACCEPT, NULL },

	{ "linked_copy_with_constant", XDP, false,
	  XDP_DATA "ldxw %r4, [%r1+12]\nmov %r5, %r4\nadd %r5, 4\njgt %r5, 10, out\n"
	  "mov %r6, %r2\nadd %r6, %r4\nmov %r7, %r6\nadd %r7, 1\njgt %r7, %r3, out\n"
	  "ldxb %r0, [%r6+0]\nout:\nmov %r0, 2\nexit\n", ACCEPT, NULL },
	{ "and_bounds", XDP, false,
	  "ldxdw %r1, [%r10-8]\nand %r1, 15\nmov %r0, 0\njgt %r1, 15, bad\nexit\nbad:\nmov %r0, %r9\nexit\n",
	  ACCEPT, NULL },
	/* Pruning must keep the numbers later checks depend on: the safe side is explored first. */
	{ "pruning_keeps_a_deciding_number", XDP, false,
	  "ldxdw %r1, [%r10-16]\nmov %r2, 1\njgt %r1, 5, +1\nmov %r2, 0\njeq %r2, 1, +2\n"
	  "mov %r0, 0\nexit\nmov %r0, %r9\nexit\n", 7, "R9 !read_ok" },
	/*
	 * A spilled number loaded back through r10, or through a copy of it
	 * (which precision.c does not follow: the slot escapes), or read by a
	 * helper as a map key, matters: the second side, out of bounds or with
	 * a key past the array, is not pruned where the sides meet.
	 */
	{ "spilled_index_loaded_back", XDP, false,
	  "call 7\nmov %r1, 600\njeq %r0, 0, +1\nmov %r1, 8\nstxdw [%r10-8], %r1\nmov %r0, 0\n"
	  "ldxdw %r2, [%r10-8]\nmov %r3, %r10\nadd %r3, -16\nadd %r3, %r2\nldxb %r0, [%r3+0]\nexit\n",
	  10, "invalid read from stack" },
	{ "spilled_index_loaded_through_a_copy_of_r10", XDP, false,
	  "call 7\nmov %r1, 600\njeq %r0, 0, +1\nmov %r1, 8\nstxdw [%r10-8], %r1\nmov %r0, 0\n"
	  "mov %r4, %r10\nldxdw %r2, [%r4-8]\nmov %r3, %r10\nadd %r3, -16\nadd %r3, %r2\n"
	  "ldxb %r0, [%r3+0]\nexit\n",
	  11, "invalid read from stack" },
	{ "spilled_map_key_decides_null", XDP, false,
	  "call 7\nmov %r1, 100\njeq %r0, 0, +1\nmov %r1, 0\nstxw [%r10-8], %r1\n"
	  "lddw_map %r1, 1\nmov %r2, %r10\nadd %r2, -8\ncall 1\nldxb %r0, [%r0+0]\nmov %r0, 0\nexit\n",
	  10, "invalid mem access 'map_value_or_null'" },
	/*
	 * A path pruned where another was covered goes on as that one did: the
	 * checkpoints on its way learn what that one read.  Here fp-8 holds the
	 * context on the first two paths, which meet at x and read it there; the
	 * third overwrites it with a number on the way to a, where the second
	 * path's checkpoint must not ignore fp-8.
	 */
	{ "pruned_path_reads_what_the_covering_path_read", SOCKET, false,
	  "mov %r9, %r1\ncall 7\nmov %r6, %r0\nstxdw [%r10-8], %r9\njeq %r6, 0, bad\n"
	  "jeq %r6, 1, a\nja x\nbad:\nstxdw [%r10-8], %r6\nja a\na:\nmov %r0, 0\n"
	  "x:\nldxdw %r1, [%r10-8]\nldxw %r0, [%r1+0]\nexit\n",
	  11, "R1 invalid mem access 'scalar'" },
	/*
	 * The same through a callback's runs: the first run is pruned at the
	 * bpf_loop call against the run still being explored, which reads fp-8
	 * after the loop; the run's other side overwrites fp-8 and must not be
	 * pruned at the first side's checkpoint in the callback.
	 */
	{ "pruned_callback_run_reads_what_the_loop_reads", SOCKET, false,
	  "stxdw [%r10-8], %r1\nmov %r1, 2\nlddw_func %r2, 8\nmov %r3, %r10\nadd %r3, -8\n"
	  "mov %r4, 0\ncall 181\nldxdw %r1, [%r10-8]\nldxw %r0, [%r1+0]\nexit\n"
	  "cb:\nmov %r6, %r2\ncall 7\njeq %r0, 0, bad\nja out\nbad:\nstdw [%r6+0], 0\n"
	  "out:\nmov %r0, 0\nexit\n",
	  9, "R1 invalid mem access 'scalar'" },
	{ "pruning_keeps_an_offset", XDP, false,
	  "ldxdw %r1, [%r10-16]\nmov %r2, 100\njgt %r1, 5, +1\nmov %r2, 3\nmov %r3, %r2\n"
	  "and %r3, 255\nlddw_map_value %r4, 1\nadd %r4, %r3\nldxb %r0, [%r4+0]\nexit\n", 9,
	  "invalid access to map value, value_size=16 off=100 size=1" },
	{ "pruning_keeps_a_stacked_offset", XDP, false,
	  "ldxdw %r1, [%r10-16]\nmov %r2, 100\njgt %r1, 5, +1\nmov %r2, 3\nstxdw [%r10-8], %r2\n"
	  "mov %r2, 0\nldxdw %r3, [%r10-8]\nlddw_map_value %r4, 1\nadd %r4, %r3\n"
	  "ldxb %r0, [%r4+0]\nexit\n", 10, "invalid access to map value, value_size=16 off=100 size=1" },
	{ "mov32_of_pointer_is_a_32_bit_number", XDP, false,
	  "mov32 %r2, %r1\nrsh %r2, 32\n" BAD_UNLESS("%r2", 0), ACCEPT, NULL },
	{ "shift_amount_with_upper_bits_not_tracked", XDP, false,
	  "lddw %r3, 0x100000000\nmov %r5, 7\nlsh32 %r5, %r3\n" BAD_UNLESS("%r5", 7), 7,
	  "R9 !read_ok" },
	{ "modulo_is_not_tracked", XDP, false,
	  "ldxdw %r1, [%r10-8]\nmod %r1, 16\nmov %r0, 0\njgt %r1, 15, bad\nexit\nbad:\nmov %r0, %r9\nexit\n",
	  5, "R9 !read_ok" },
	{ "jmp32_leaves_upper_half", XDP, false,
	  XDP_DATA "ldxdw %r4, [%r10-8]\njgt32 %r4, 7, out\nadd %r2, %r4\nout:\nmov %r0, 2\nexit\n", 4,
	  "math between pkt pointer and register with unbounded min value is not allowed" },
	{ "cve_2020_8835_32_bit_bounds", XDP, false,
	  HASH_KEY "call 1\njeq %r0, 0, out\nldxdw %r1, [%r0+0]\njlt %r1, 1, out\n"
	  "lddw %r2, 0x100000001\njgt %r1, %r2, out\njne32 %r1, 1, out\nrsh %r1, 1\n"
	  "add %r0, %r1\nldxb %r2, [%r0+0]\nout:\nmov %r0, 0\nexit\n", 15,
	  "R0 unbounded memory access" },

	/* ---- Context ---- */
	{ "ctx_read", XDP, false, "ldxw %r0, [%r1+12]\nexit\n", ACCEPT, NULL },
	{ "ctx_read_past_the_end", XDP, false, "ldxw %r0, [%r1+200]\nexit\n", 0,
	  "invalid bpf_context access off=200 size=4" },
	{ "ctx_modified_pointer", XDP, false, "add %r1, 4\nldxw %r0, [%r1+0]\nexit\n", 1,
	  "dereference of modified ctx ptr R1 off=4 disallowed" },
	{ "ctx_store_immediate", TC, false, "stw [%r1+48], 1\nmov %r0, 0\nexit\n", ACCEPT, NULL },
	{ "ctx_store_read_only_field", TC, false, "stw [%r1+0], 1\nmov %r0, 0\nexit\n", 0,
	  "invalid bpf_context access off=0 size=4" },

	{ "kprobe_regs_read", KPROBE, false, "ldxdw %r0, [%r1+112]\nexit\n", ACCEPT, NULL },
	{ "kprobe_regs_write", KPROBE, false, "stdw [%r1+112], 0\nmov %r0, 0\nexit\n", 0,
	  "invalid bpf_context access off=112 size=8" },
	{ "kprobe_regs_past_the_end", KPROBE, false, "ldxdw %r0, [%r1+168]\nexit\n", 0,
	  "invalid bpf_context access off=168 size=8" },
	{ "tracing_argument_dereferenced", TRACING, false,
	  "ldxdw %r2, [%r1+0]\nldxdw %r0, [%r2+16]\nexit\n", ACCEPT, NULL },
	{ "tracing_argument_bounded_by_compare", TRACING, false,
	  "ldxdw %r2, [%r1+8]\njgt %r2, 3, out\nlddw_map_value %r3, 1\nlsh %r2, 2\nadd %r3, %r2\n"
	  "ldxw %r0, [%r3+0]\nout:\nmov %r0, 0\nexit\n", ACCEPT, NULL },
	{ "tracing_argument_not_written", TRACING, false,
	  "ldxdw %r2, [%r1+0]\nstdw [%r2+0], 0\nmov %r0, 0\nexit\n", 1, "R2 cannot write into ptr_" },

	/* ---- Packet ---- */
	{ "packet_checked", XDP, false,
	  XDP_DATA "mov %r4, %r2\nadd %r4, 14\njgt %r4, %r3, out\nldxb %r0, [%r2+13]\n"
	  "out:\nmov %r0, 2\nexit\n", ACCEPT, NULL },
	{ "packet_unchecked", XDP, false, XDP_DATA "ldxb %r0, [%r2+13]\nmov %r0, 2\nexit\n", 2,
	  "invalid access to packet, off=13 size=1, R2(id=0,off=0,r=0)" },
	{ "packet_one_past_the_check", XDP, false,
	  XDP_DATA "mov %r4, %r2\nadd %r4, 14\njgt %r4, %r3, out\nldxb %r0, [%r2+14]\n"
	  "out:\nmov %r0, 2\nexit\n", 5, "invalid access to packet, off=14 size=1" },
	{ "packet_check_reversed", XDP, false,
	  XDP_DATA "mov %r4, %r2\nadd %r4, 14\njle %r3, %r4, out\nldxb %r0, [%r2+13]\n"
	  "out:\nmov %r0, 2\nexit\n", ACCEPT, NULL },
	{ "packet_unbounded_offset", XDP, false,
	  XDP_DATA "ldxdw %r4, [%r10-8]\nadd %r2, %r4\nmov %r0, 2\nexit\n", 3,
	  "math between pkt pointer and register with unbounded min value is not allowed" },
	{ "packet_write_refused_to_cgroup_skb", CGROUP_SKB, false,
	  "ldxw %r2, [%r1+76]\nldxw %r3, [%r1+80]\nmov %r4, %r2\nadd %r4, 1\n"
	  "jgt %r4, %r3, out\nstb [%r2+0], 1\nout:\nmov %r0, 1\nexit\n", 5,
	  "cannot write into packet" },
	{ "packet_pointers_invalidated_by_helper", TC, false,
	  "mov %r6, %r1\nldxw %r7, [%r6+76]\nldxw %r8, [%r6+80]\nmov %r4, %r7\nadd %r4, 1\n"
	  "jgt %r4, %r8, out\nmov %r1, %r6\nmov %r2, 0\ncall 39\n"
	  "ldxb %r0, [%r7+0]\nout:\nmov %r0, 0\nexit\n", 9, "R7 invalid mem access 'scalar'" },

	/* ---- Stack ---- */
	{ "stack_uninit_read_privileged", XDP, false, "ldxdw %r0, [%r10-8]\nexit\n", ACCEPT, NULL },
	{ "stack_uninit_read_unprivileged", SOCKET, true, "ldxdw %r0, [%r10-8]\nexit\n", 0,
	  "invalid read from stack off -8+0 size 8" },
	{ "stack_out_of_bounds", XDP, false, "stdw [%r10-520], 0\nmov %r0, 0\nexit\n", 0,
	  "invalid write to stack R10 off=-520 size=8" },
	{ "stack_misaligned", XDP, false, "stw [%r10-6], 0\nmov %r0, 0\nexit\n", 0,
	  "misaligned stack access" },
	{ "spill_and_fill_ctx", XDP, false,
	  "stxdw [%r10-8], %r1\nldxdw %r2, [%r10-8]\nldxw %r0, [%r2+12]\nexit\n", ACCEPT, NULL },
	{ "spill_pointer_partially", XDP, false, "stxw [%r10-8], %r1\nmov %r0, 0\nexit\n", 0,
	  "invalid size of register spill" },
	{ "spilled_constant_kept", XDP, false,
	  XDP_DATA "stdw [%r10-8], 4\nldxdw %r4, [%r10-8]\nmov %r5, %r2\nadd %r5, 8\n"
	  "jgt %r5, %r3, out\nadd %r2, %r4\nldxw %r0, [%r2+0]\nout:\nmov %r0, 2\nexit\n",
	  ACCEPT, NULL },
	{ "partial_spill_keeps_the_number", XDP, false,
	  "mov %r2, 5\nstxw [%r10-8], %r2\nldxw %r3, [%r10-8]\n" BAD_UNLESS("%r3", 5), ACCEPT, NULL },
	{ "zero_bytes_read_back_as_zero", XDP, false,
	  "stw [%r10-4], 0\nldxw %r3, [%r10-4]\n" BAD_UNLESS("%r3", 0), ACCEPT, NULL },
	{ "misc_bytes_read_back_unknown", XDP, false,
	  "mov %r2, 5\nstxw [%r10-4], %r2\nldxw %r3, [%r10-4]\n" BAD_UNLESS("%r3", 5), 6,
	  "R9 !read_ok" },
	{ "spilled_pointer_corrupted_unprivileged", SOCKET, true,
	  "stxdw [%r10-8], %r1\nstw [%r10-8], 0\nmov %r0, 0\nexit\n", 1,
	  "attempt to corrupt spilled pointer on stack" },
	{ "spilled_pointer_overwritten_privileged", XDP, false,
	  "stxdw [%r10-8], %r1\nstw [%r10-8], 0\nldxdw %r0, [%r10-8]\nexit\n", ACCEPT, NULL },
	{ "sub_from_stack_pointer", XDP, false, "mov %r1, %r10\nsub %r1, 8\nmov %r0, 0\nexit\n",
	  1, "R1 subtraction from stack pointer prohibited" },
	/*
	 * A variable offset into the stack: every byte of [smin + off, smax +
	 * off + size) must lie in the frame.  r1 is 0..64 here, so the last
	 * byte may be fp+0.
	 */
	{ "stack_variable_offset_write_reaching_the_frame_pointer", XDP, false,
	  "ldxdw %r1, [%r10-16]\nand %r1, 127\njgt %r1, 64, out\nmov %r2, %r10\nadd %r2, -64\n"
	  "add %r2, %r1\nstb [%r2+0], 1\nout:\nmov %r0, 0\nexit\n", 6,
	  "invalid variable-offset write to stack R2 var_off=(0x0; 0x7f) off=-64 size=1" },
	{ "stack_variable_offset_read_reaching_the_frame_pointer", XDP, false,
	  "ldxdw %r1, [%r10-16]\nand %r1, 127\njgt %r1, 64, out\nmov %r2, %r10\nadd %r2, -64\n"
	  "add %r2, %r1\nldxb %r0, [%r2+0]\nout:\nmov %r0, 0\nexit\n", 6,
	  "invalid variable-offset read from stack R2 var_off=(0x0; 0x7f) off=-64 size=1" },
	/*
	 * The kernel refuses this one: its ranges do not learn from the bits,
	 * so r1 | 51 below 66 stays 51..65 there.  The bits 0x33 always set
	 * leave 51, 55, 59 and 63: the last byte is fp-1.
	 */
	{ "stack_variable_offset_narrowed_by_known_bits", XDP, false,
	  "ldxdw %r1, [%r10-16]\nand %r1, 127\nor %r1, 51\njgt %r1, 65, out\nmov %r2, %r10\n"
	  "add %r2, -64\nadd %r2, %r1\nstb [%r2+0], 1\nldxb %r0, [%r2+0]\nout:\nmov %r0, 0\nexit\n",
	  ACCEPT, NULL },
	/* Unprivileged, a stack pointer stays exact and in the frame (no Spectre masking of it). */
	{ "stack_variable_offset_unprivileged", SOCKET, true,
	  "stxdw [%r10-16], %r1\nstdw [%r10-8], 7\nldxw %r3, [%r1+0]\nand %r3, 8\nmov %r2, %r10\n"
	  "add %r2, -16\nadd %r2, %r3\nldxdw %r0, [%r2+0]\nand %r0, 1\nexit\n", 6,
	  "R2 variable stack access prohibited for !root, var_off=(0x0; 0x8) off=-16" },
	{ "stack_pointer_out_of_the_frame_unprivileged", SOCKET, true,
	  "mov %r2, %r10\nadd %r2, 8\nmov %r0, 0\nexit\n", 1,
	  "R2 stack pointer arithmetic goes out of range, prohibited for !root; off=8" },
	/* A map value pointer may move by a variable offset only within the value. */
	{ "map_value_variable_offset_in_the_value_unprivileged", SOCKET, true,
	  LEN_VALUE "and %r6, 15\nadd %r0, %r6\nldxb %r0, [%r0+0]\nexit\n" OUT, ACCEPT, NULL },
	{ "map_value_variable_offset_past_the_value_unprivileged", SOCKET, true,
	  VALUE_VAR_PAST_END, 9,
	  "R0 pointer arithmetic of map value goes out of range, prohibited for !root" },
	{ "map_value_variable_offset_past_the_value", SOCKET, false, VALUE_VAR_PAST_END, ACCEPT,
	  NULL },
	{ "map_value_constant_past_the_value_unprivileged", SOCKET, true, VALUE_CONST_PAST_END, 8,
	  "R0 pointer arithmetic of map value goes out of range, prohibited for !root" },
	{ "map_value_constant_past_the_value", SOCKET, false, VALUE_CONST_PAST_END, ACCEPT, NULL },
	{ "map_value_offset_of_mixed_signs_unprivileged", SOCKET, true, VALUE_MIXED_SIGNS, 10,
	  "R6 has unknown scalar with mixed signed bounds, pointer arithmetic with it prohibited for !root" },
	{ "map_value_offset_of_mixed_signs", SOCKET, false, VALUE_MIXED_SIGNS, ACCEPT, NULL },
	{ "map_value_two_masks_unprivileged", SOCKET, true, VALUE_TWO_MASKS, 11,
	  "R0 tried to add from different maps, paths or scalars, pointer arithmetic with it prohibited for !root" },
	{ "map_value_two_masks", SOCKET, false, VALUE_TWO_MASKS, ACCEPT, NULL },
	{ "map_value_mask_not_pruned_unprivileged", SOCKET, true, VALUE_MASK_PRUNED, 12,
	  "R0 tried to add from different maps, paths or scalars, pointer arithmetic with it prohibited for !root" },
	{ "map_value_mask_not_pruned", SOCKET, false, VALUE_MASK_PRUNED, ACCEPT, NULL },
	/* Only stack and map value pointers can be masked; constants need no mask. */
	{ "ctx_plus_register_unprivileged", SOCKET, true, CTX_PLUS_REG, 2,
	  "R1 has pointer with unsupported alu operation, pointer arithmetic with it prohibited for !root" },
	{ "ctx_plus_register", SOCKET, false, CTX_PLUS_REG, ACCEPT, NULL },
	{ "register_plus_ctx_unprivileged", SOCKET, true, REG_PLUS_CTX, 2,
	  "R1 has pointer with unsupported alu operation, pointer arithmetic with it prohibited for !root" },
	{ "register_plus_ctx", SOCKET, false, REG_PLUS_CTX, ACCEPT, NULL },
	{ "ctx_plus_constant_unprivileged", SOCKET, true, "mov %r0, 0\nadd %r1, 4\nexit\n", ACCEPT,
	  NULL },
	{ "stack_plus_register_unprivileged", SOCKET, true,
	  "mov %r1, %r10\nmov %r2, -8\nadd %r1, %r2\nstdw [%r1+0], 0\nmov %r0, 0\nexit\n", ACCEPT,
	  NULL },
	{ "stack_end_plus_register_unprivileged", SOCKET, true, STACK_END_PLUS_REG, 3,
	  "R1 tried to add beyond pointer bounds, pointer arithmetic with it prohibited for !root" },
	{ "stack_end_plus_register", SOCKET, false, STACK_END_PLUS_REG, ACCEPT, NULL },
	/* Which slot a variable offset reads is unknown: a spilled pointer reads as a number. */
	{ "stack_variable_offset_read_of_a_spilled_pointer_privileged", XDP, false,
	  "stxdw [%r10-16], %r1\nstdw [%r10-8], 7\nldxw %r3, [%r1+12]\nand %r3, 8\nmov %r2, %r10\n"
	  "add %r2, -16\nadd %r2, %r3\nldxdw %r0, [%r2+0]\nldxw %r0, [%r0+0]\nexit\n", 8,
	  "R0 invalid mem access 'scalar'" },
	/* An atomic's read goes to no register: the kernel wants a fixed offset. */
	{ "stack_variable_offset_atomic", XDP, false,
	  "stdw [%r10-16], 0\nstdw [%r10-8], 0\nldxdw %r1, [%r10-24]\nand %r1, 8\nmov %r2, %r10\n"
	  "add %r2, -16\nadd %r2, %r1\nmov %r3, 1\nlock add [%r2+0], %r3\nmov %r0, 0\nexit\n", 8,
	  "variable offset stack pointer cannot be passed into helper function; var_off=(0x0; 0x8) off=-16 size=8" },

	/* ---- Pointer arithmetic ---- */
	{ "pointer_multiplied", XDP, false, "mov %r0, %r1\nmul %r0, 2\nexit\n", 1,
	  "R0 pointer arithmetic with *= operator prohibited" },
	{ "pointer_and", XDP, false, "and %r1, 7\nmov %r0, 0\nexit\n", 0,
	  "R1 bitwise operator &= on pointer prohibited" },
	{ "pointer_32_bit_add", XDP, false, "add32 %r1, 4\nmov %r0, 0\nexit\n", 0,
	  "R1 32-bit pointer arithmetic prohibited" },
	{ "pointer_returned_privileged", XDP, false, "mov %r0, %r1\nexit\n", ACCEPT, NULL },
	{ "pointer_returned_unprivileged", SOCKET, true, "mov %r0, %r1\nexit\n", 1,
	  "R0 leaks addr as return value" },
	{ "pointer_stored_to_map_unprivileged", SOCKET, true,
	  HASH_KEY "call 1\njeq %r0, 0, out\nstxdw [%r0+0], %r10\nout:\nmov %r0, 0\nexit\n", 7,
	  "R10 leaks addr into mem" },
	{ "pointer_subtraction_unprivileged", SOCKET, true,
	  "mov %r0, %r10\nsub %r0, %r1\nexit\n", 1, "R0 pointer -= pointer prohibited" },
	{ "pointer_subtraction_privileged", XDP, false,
	  "mov %r0, %r10\nsub %r0, %r1\nexit\n", ACCEPT, NULL },
	{ "pointer_comparison_unprivileged", SOCKET, true,
	  "mov %r2, %r10\njeq %r1, %r2, out\nout:\nmov %r0, 0\nexit\n", 1,
	  "R1 pointer comparison prohibited" },

	/* ---- Maps ---- */
	{ "lookup_null_checked", XDP, false,
	  HASH_KEY "call 1\njeq %r0, 0, out\nldxdw %r1, [%r0+0]\nout:\nmov %r0, 0\nexit\n",
	  ACCEPT, NULL },
	{ "lookup_not_null_checked", XDP, false,
	  HASH_KEY "call 1\nldxdw %r1, [%r0+0]\nmov %r0, 0\nexit\n", 6,
	  "R0 invalid mem access 'map_value_or_null'" },
	/* Only a 64-bit compare with zero is a null check (a pointer's low half may be zero). */
	{ "lookup_null_check_is_64_bit", XDP, false,
	  HASH_KEY "call 1\njeq32 %r0, 0, out\nldxdw %r1, [%r0+0]\nout:\nmov %r0, 0\nexit\n", 7,
	  "R0 invalid mem access 'map_value_or_null'" },
	{ "lookup_copy_checked", XDP, false,
	  HASH_KEY "call 1\nmov %r6, %r0\njne %r0, 0, ok\nmov %r0, 0\nexit\n"
	  "ok:\nldxdw %r1, [%r6+0]\nmov %r0, 0\nexit\n", ACCEPT, NULL },
	{ "lookup_past_the_value", XDP, false,
	  HASH_KEY "call 1\njeq %r0, 0, out\nldxdw %r1, [%r0+4]\nout:\nmov %r0, 0\nexit\n", 7,
	  "invalid access to map value, value_size=8 off=4 size=8" },
	/* CVE-2022-23222: arithmetic on a *_OR_NULL pointer before its null check */
	{ "cve_2022_23222_arithmetic_before_null_check", XDP, false,
	  HASH_KEY "call 1\nadd %r0, 4\nmov %r0, 0\nexit\n", 6,
	  "R0 pointer arithmetic on map_value_or_null prohibited, null-check it first" },
	{ "lookup_variable_offset_in_range", XDP, false,
	  HASH_KEY "call 1\njeq %r0, 0, out\nldxdw %r2, [%r10-16]\nand %r2, 7\nadd %r0, %r2\n"
	  "stb [%r0+0], 1\nout:\nmov %r0, 0\nexit\n", ACCEPT, NULL },
	{ "lookup_variable_offset_too_far", XDP, false,
	  HASH_KEY "call 1\njeq %r0, 0, out\nldxdw %r2, [%r10-16]\nand %r2, 15\nadd %r0, %r2\n"
	  "stb [%r0+0], 1\nout:\nmov %r0, 0\nexit\n", 10,
	  "R0 max value is outside of the allowed memory range" },
	{ "lookup_key_uninit_unprivileged", SOCKET, true,
	  "mov %r2, %r10\nadd %r2, -4\nlddw_map %r1, 0\ncall 1\nmov %r0, 0\nexit\n", 4,
	  "invalid indirect read from stack R2 off -4+0 size 4" },
	{ "lookup_key_uninit_privileged", XDP, false,
	  "mov %r2, %r10\nadd %r2, -4\nlddw_map %r1, 0\ncall 1\nmov %r0, 0\nexit\n",
	  ACCEPT, NULL },
	{ "array_lookup_constant_key_not_null", XDP, false,
	  "stw [%r10-4], 0\nmov %r2, %r10\nadd %r2, -4\nlddw_map %r1, 1\ncall 1\n"
	  "ldxdw %r0, [%r0+8]\nexit\n", ACCEPT, NULL },
	{ "array_lookup_key_out_of_range", XDP, false,
	  "stw [%r10-4], 1\nmov %r2, %r10\nadd %r2, -4\nlddw_map %r1, 1\ncall 1\n"
	  "ldxdw %r0, [%r0+8]\nexit\n", 6, "R0 invalid mem access 'map_value_or_null'" },
	/*
	 * A key in part of a spilled number counts as the whole number, as in
	 * the kernel: the key's bytes here are 0, but 3 is past the map's end.
	 */
	{ "array_key_inside_a_spill", XDP, false,
	  "stdw [%r10-8], 3\nmov %r2, %r10\nadd %r2, -4\nlddw_map %r1, 1\ncall 1\n"
	  "ldxdw %r0, [%r0+8]\nexit\n", 6, "R0 invalid mem access 'map_value_or_null'" },
	{ "array_key_inside_a_spill_in_range", XDP, false,
	  "stdw [%r10-8], 0\nmov %r2, %r10\nadd %r2, -4\nlddw_map %r1, 1\ncall 1\n"
	  "ldxdw %r0, [%r0+8]\nexit\n", ACCEPT, NULL },
	{ "array_key_inside_a_spill_out_of_range", XDP, false,
	  "lddw %r3, 0x100000000\nstxdw [%r10-8], %r3\nmov %r2, %r10\nadd %r2, -4\n"
	  "lddw_map %r1, 1\ncall 1\nldxdw %r0, [%r0+8]\nexit\n", 8,
	  "R0 invalid mem access 'map_value_or_null'" },
	{ "global_data_direct", XDP, false,
	  "lddw_map_value %r1, 0x800000001\nldxdw %r0, [%r1+0]\nexit\n", ACCEPT, NULL },
	{ "global_data_past_the_end", XDP, false,
	  "lddw_map_value %r1, 0x800000001\nldxdw %r0, [%r1+4]\nexit\n", 2,
	  "invalid access to map value, value_size=16 off=12 size=8" },
	{ "rodata_write", XDP, false,
	  "lddw_map_value %r1, 4\nstw [%r1+0], 1\nmov %r0, 0\nexit\n", 2,
	  "write into map forbidden" },
	{ "rodata_constant_prunes", XDP, false,
	  "lddw_map_value %r1, 4\nldxw %r2, [%r1+4]\njeq %r2, 42, ok\nmov %r0, %r5\nexit\n"
	  "ok:\nmov %r0, 0\nexit\n", ACCEPT, NULL },
	{ "bad_map_index", XDP, false, "lddw_map %r1, 9\nmov %r0, 0\nexit\n", 0,
	  "fd 9 is not pointing to valid bpf_map" },
	{ "map_of_the_wrong_kind", XDP, false,
	  "stw [%r10-4], 0\nmov %r2, %r10\nadd %r2, -4\nlddw_map %r1, 3\ncall 1\nmov %r0, 0\nexit\n",
	  5, "cannot pass map_type 3 into func bpf_map_lookup_elem#1" },

	/* ---- Helpers ---- */
	{ "unknown_helper", XDP, false, "call 9999\nmov %r0, 0\nexit\n", 0,
	  "invalid func unknown#9999" },
	{ "helper_not_for_this_type", XDP, false, "call 26\nmov %r0, 0\nexit\n", 0,
	  "program of this type cannot use helper bpf_skb_load_bytes#26" },
	{ "helper_wrong_argument", XDP, false, "mov %r1, 0\ncall 1\nmov %r0, 0\nexit\n", 1,
	  "R1 type=scalar expected=map_ptr" },
	{ "helper_size_unbounded", TC, false,
	  "ldxw %r4, [%r1+0]\nadd %r4, 1\nmov %r3, %r10\nadd %r3, -16\nmov %r2, 0\ncall 26\n"
	  "mov %r0, 0\nexit\n", 5, "R4 unbounded memory access" },
	{ "helper_size_maybe_zero", TC, false,
	  "ldxw %r4, [%r1+0]\nmov %r3, %r10\nadd %r3, -16\nmov %r2, 0\ncall 26\nmov %r0, 0\nexit\n",
	  4, "R4 invalid zero-sized read: u64=[0,4294967295]" },
	{ "helper_size_bounded", TC, false,
	  "ldxw %r4, [%r1+0]\nand %r4, 15\nadd %r4, 1\nmov %r3, %r10\nadd %r3, -16\nmov %r2, 0\n"
	  "call 26\nmov %r0, 0\nexit\n", ACCEPT, NULL },
	/*
	 * A number spilled and loaded back twice, checked through each load
	 * (clang's code for "if (!len || len > 256)" with len on the stack):
	 * the slot is tied to the register spilled, so every load learns what
	 * each check taught (the kernel's spill and fill).  A spill narrower
	 * than the number keeps part of it only: no tie, the size may be zero.
	 */
	{ "helper_size_checked_through_spill", TC, false,
	  "mov %r6, %r1\nldxw %r4, [%r6+0]\nand %r4, 65535\nstxdw [%r10-8], %r4\n"
	  "ldxdw %r5, [%r10-8]\njeq %r5, 0, out\nmov %r2, 257\nldxdw %r5, [%r10-8]\n"
	  "jge %r5, %r2, out\nldxdw %r4, [%r10-8]\nmov %r3, %r10\nadd %r3, -272\nmov %r2, 0\n"
	  "mov %r1, %r6\ncall 26\nout:\nmov %r0, 0\nexit\n", ACCEPT, NULL },
	{ "helper_size_checked_through_narrowing_spill", TC, false,
	  "mov %r6, %r1\nldxw %r4, [%r6+0]\nlsh %r4, 8\nstxw [%r10-8], %r4\n"
	  "ldxw %r5, [%r10-8]\njeq %r5, 0, out\njgt %r5, 256, out\nmov %r3, %r10\nadd %r3, -272\n"
	  "mov %r2, 0\nmov %r1, %r6\ncall 26\nout:\nmov %r0, 0\nexit\n", 11,
	  "R4 invalid zero-sized read: u64=[0,1099511627520]" },
	{ "helper_size_past_the_stack", TC, false,
	  "mov %r4, 32\nmov %r3, %r10\nadd %r3, -16\nmov %r2, 0\ncall 26\nmov %r0, 0\nexit\n",
	  4, "invalid indirect access to stack R3 off=-16 size=32" },
	{ "helper_clobbers_caller_saved", XDP, false,
	  "mov %r2, 1\ncall 5\nmov %r0, %r2\nexit\n", 2, "R2 !read_ok" },
	{ "ringbuf_submitted", XDP, false,
	  "lddw_map %r1, 2\nmov %r2, 8\nmov %r3, 0\ncall 131\njeq %r0, 0, out\n"
	  "stdw [%r0+0], 1\nmov %r1, %r0\nmov %r2, 0\ncall 132\nout:\nmov %r0, 0\nexit\n",
	  ACCEPT, NULL },
	{ "ringbuf_leaked", XDP, false,
	  "lddw_map %r1, 2\nmov %r2, 8\nmov %r3, 0\ncall 131\njeq %r0, 0, out\n"
	  "stdw [%r0+0], 1\nout:\nmov %r0, 0\nexit\n", 8, "Unreleased reference" },
	{ "ringbuf_write_past_the_record", XDP, false,
	  "lddw_map %r1, 2\nmov %r2, 8\nmov %r3, 0\ncall 131\njeq %r0, 0, out\n"
	  "stdw [%r0+4], 1\nmov %r1, %r0\nmov %r2, 0\ncall 132\nout:\nmov %r0, 0\nexit\n", 6,
	  "invalid access to memory, mem_size=8 off=4 size=8" },
	{ "tail_call", XDP, false,
	  "lddw_map %r2, 3\nmov %r3, 0\ncall 12\nmov %r0, 0\nexit\n", ACCEPT, NULL },
	{ "bpf_loop_callback", XDP, false,
	  "mov %r1, 10\nlddw_func %r2, 6\nmov %r3, 0\nmov %r4, 0\ncall 181\nmov %r0, 0\nexit\n"
	  "cb:\nmov %r0, 0\nexit\n", ACCEPT, NULL },
	/*
	 * The second run starts with fp-8 widened (the first changed it) and so
	 * is not pruned at the call; once it stores 1 there, it is where the
	 * first run was, at the same pc.  That is no infinite loop: bpf_loop
	 * bounds the runs.  The run after it starts as the second did: pruned.
	 */
	{ "bpf_loop_callback_runs_meet_no_loop", XDP, false,
	  "stdw [%r10-8], 0\nmov %r1, 4\nlddw_func %r2, 13\nmov %r3, %r10\nadd %r3, -8\n"
	  "mov %r4, 0\ncall 181\nldxdw %r1, [%r10-8]\nand %r1, 15\nlddw_map_value %r2, 1\n"
	  "add %r2, %r1\nldxb %r0, [%r2+0]\nmov %r0, 0\nexit\n"
	  "cb:\nmov %r6, %r2\nstdw [%r6+0], 1\ncall 7\nmov %r0, 0\nexit\n", ACCEPT, NULL },
	/*
	 * One run stores 100 in fp-8, which a later run may use as an offset:
	 * the run after the store must not be pruned at the call against the
	 * first run's state (fp-8 = 0) before the side that reads fp-8 is explored.
	 */
	{ "bpf_loop_callback_store_seen_by_a_later_run", XDP, false,
	  "stdw [%r10-8], 0\nmov %r1, 4\nlddw_func %r2, 7\nmov %r3, %r10\nadd %r3, -8\n"
	  "mov %r4, 0\ncall 181\nmov %r0, 0\nexit\n"
	  "cb:\nmov %r6, %r2\ncall 7\njeq %r0, 0, use\nstdw [%r6+0], 100\nmov %r0, 0\nexit\n"
	  "use:\nldxdw %r1, [%r6+0]\nlddw_map_value %r2, 1\nadd %r2, %r1\nldxb %r0, [%r2+0]\n"
	  "mov %r0, 0\nexit\n", 19,
	  "math between map_value pointer and register with unbounded min value is not allowed" },
	{ "bpf_loop_callback_bad_return", XDP, false,
	  "mov %r1, 10\nlddw_func %r2, 6\nmov %r3, 0\nmov %r4, 0\ncall 181\nmov %r0, 0\nexit\n"
	  "cb:\nmov %r0, 7\nexit\n", 9, "At callback return the register R0 has value 7" },
	{ "bpf_loop_callback_writes_caller_stack", XDP, false,
	  "stdw [%r10-8], 0\nmov %r1, 10\nlddw_func %r2, 7\nmov %r3, %r10\nadd %r3, -8\n"
	  "mov %r4, 0\ncall 181\nldxdw %r0, [%r10-8]\nexit\n"
	  "cb:\nstdw [%r2+0], 1\nmov %r0, 0\nexit\n", ACCEPT, NULL },
	/* a sum the callback grows every run: widened, so the runs converge */
	{ "bpf_loop_callback_accumulates", XDP, false,
	  "stdw [%r10-8], 0\nmov %r1, 100\nlddw_func %r2, 7\nmov %r3, %r10\nadd %r3, -8\n"
	  "mov %r4, 0\ncall 181\nldxdw %r0, [%r10-8]\nexit\n"
	  "cb:\nand %r1, 255\nldxdw %r3, [%r2+0]\nadd %r3, %r1\nstxdw [%r2+0], %r3\nmov %r0, 0\nexit\n",
	  ACCEPT, NULL },

	{ "for_each_map_elem_callback", XDP, false,
	  "lddw_map %r1, 1\nlddw_func %r2, 6\nmov %r3, 0\nmov %r4, 0\ncall 164\nmov %r0, 0\nexit\n"
	  "cb:\nldxdw %r0, [%r3+8]\nmov %r0, 0\nexit\n", ACCEPT, NULL },
	{ "for_each_map_elem_callback_past_the_value", XDP, false,
	  "lddw_map %r1, 1\nlddw_func %r2, 6\nmov %r3, 0\nmov %r4, 0\ncall 164\nmov %r0, 0\nexit\n"
	  "cb:\nldxdw %r0, [%r3+12]\nmov %r0, 0\nexit\n", 9,
	  "invalid access to map value, value_size=16 off=12 size=8" },

	/* ---- bpf-to-bpf calls ---- */
	{ "local_call", XDP, false,
	  "mov %r1, 5\ncall local f\nexit\nf:\nmov %r0, %r1\nadd %r0, 1\nexit\n", ACCEPT, NULL },
	{ "local_call_clobbers_args", XDP, false,
	  "mov %r1, 5\ncall local f\nmov %r0, %r1\nexit\nf:\nmov %r0, 0\nexit\n", 2,
	  "R1 !read_ok" },
	{ "local_call_returns_stack_pointer", XDP, false,
	  "call local f\nmov %r0, 0\nexit\nf:\nmov %r0, %r10\nexit\n", 4,
	  "cannot return stack pointer to the caller" },
	{ "local_call_reads_caller_stack", XDP, false,
	  "stdw [%r10-8], 3\nmov %r1, %r10\nadd %r1, -8\ncall local f\nexit\n"
	  "f:\nldxdw %r0, [%r1+0]\nexit\n", ACCEPT, NULL },
	{ "call_stack_too_deep", XDP, false,
	  "call local f1\nmov %r0, 0\nexit\nf1:\ncall local f2\nexit\nf2:\ncall local f3\nexit\n"
	  "f3:\ncall local f4\nexit\nf4:\ncall local f5\nexit\nf5:\ncall local f6\nexit\n"
	  "f6:\ncall local f7\nexit\nf7:\ncall local f8\nexit\nf8:\nmov %r0, 0\nexit\n", 15,
	  "the call stack of 9 frames is too deep" },
	{ "combined_stack_too_large", XDP, false,
	  "stdw [%r10-400], 0\ncall local f\nmov %r0, 0\nexit\nf:\nstdw [%r10-200], 0\n"
	  "mov %r0, 0\nexit\n", 1, "combined stack size of 2 calls is 608. Too large" },

	/* ---- Program types ---- */
	{ "cgroup_skb_return_range", CGROUP_SKB, false, "mov %r0, 2\nexit\n", 1,
	  "At program exit the register R0 has value 2 should have been in [0, 1]" },
	{ "cgroup_skb_return_in_range", CGROUP_SKB, false, "mov %r0, 1\nexit\n", ACCEPT, NULL },
	{ "ld_abs_in_socket_filter", SOCKET, false, "mov %r6, %r1\nldabsb 12\nexit\n", ACCEPT, NULL },
	{ "ld_abs_in_xdp", XDP, false, "mov %r6, %r1\nldabsb 12\nexit\n", 1,
	  "BPF_LD_[ABS|IND] instructions not allowed for this program type" },
};

static const struct sluice_verifier_opts base_opts = {
	.sz = sizeof(struct sluice_verifier_opts),
	.gpl = true,
};

static void verify_text(const char *text, uint32_t prog_type, bool unprivileged,
			struct sluice_verdict *verdict)
{
	const struct sluice_map_def *maps[sizeof(test_maps) / sizeof(test_maps[0])];
	struct sluice_verifier_opts opts = base_opts;
	struct sluice_error err = { 0 };
	struct sluice_insn *insns;
	size_t count;

	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
		maps[i] = &test_maps[i];
	opts.prog_type = prog_type;
	opts.unprivileged = unprivileged;
	opts.maps = maps;
	opts.nmaps = sizeof(maps) / sizeof(maps[0]);
	insns = assemble(text, &count);
	assert_int_equal(sluice_verify(insns, count, &opts, verdict, &err), 0);
	free(insns);
}

static void run_case(void **state)
{
	const struct vcase *c = *state;
	struct sluice_verdict verdict;

	verify_text(c->text, c->prog_type, c->unprivileged, &verdict);
	if (c->reject_pc == ACCEPT) {
		if (!verdict.accepted)
			fail_msg("%s: refused at pc %zu:\n%s", c->name, verdict.error_pc, verdict.log);
	} else {
		if (verdict.accepted)
			fail_msg("%s: accepted, expected a refusal at pc %d", c->name, c->reject_pc);
		if (verdict.error_pc != (size_t)c->reject_pc || !strstr(verdict.log, c->message))
			fail_msg("%s: refused at pc %zu, expected pc %d with \"%s\":\n%s", c->name,
				 verdict.error_pc, c->reject_pc, c->message, verdict.log);
	}
	sluice_verdict_release(&verdict);
}

/* The log at level 2 shows each instruction with the state before it, kernel style. */
static void test_log_level2(void **state)
{
	struct sluice_verifier_opts opts = base_opts;
	struct sluice_verdict verdict;
	struct sluice_error err = { 0 };
	size_t count;
	struct sluice_insn *insns = assemble("mov %r0, 0\nexit\n", &count);

	(void)state;
	opts.prog_type = XDP;
	opts.log_level = 2;
	assert_int_equal(sluice_verify(insns, count, &opts, &verdict, &err), 0);
	assert_true(verdict.accepted);
	assert_non_null(strstr(verdict.log, "0: R1=ctx() R10=fp0\n0: (b7) r0 = 0\n"));
	assert_non_null(strstr(verdict.log, "1: R0=0 R1=ctx() R10=fp0\n1: (95) exit\n"));
	assert_non_null(strstr(verdict.log, "processed 2 insns"));
	assert_int_equal(verdict.insns_processed, 2);
	sluice_verdict_release(&verdict);
	free(insns);
}

/* A refusal names the pc and the reason in err too, and the log shows the state there. */
static void test_refusal_report(void **state)
{
	struct sluice_verdict verdict;
	struct sluice_verifier_opts opts = base_opts;
	struct sluice_error err = { 0 };
	size_t count;
	struct sluice_insn *insns = assemble("mov %r2, 1\nldxb %r0, [%r2+0]\nexit\n", &count);

	(void)state;
	opts.prog_type = XDP;
	assert_int_equal(sluice_verify(insns, count, &opts, &verdict, &err), 0);
	assert_false(verdict.accepted);
	assert_string_equal(err.msg, "pc 1: R2 invalid mem access 'scalar'");
	assert_string_equal(verdict.log, "1: R1=ctx() R2=1 R10=fp0\n1: (71) r0 = *(u8 *)(r2 + 0)\n"
					 "R2 invalid mem access 'scalar'\n");
	sluice_verdict_release(&verdict);
	free(insns);
}

/* A chosen entry state: r2 a number in [0, 7], r3 the value of map 1, fp-8 holding 3. */
static void test_entry_state(void **state)
{
	const struct sluice_map_def *maps[] = { &test_maps[0], &test_maps[1] };
	struct sluice_entry_stack slot = { .off = -8, .size = 8, .smin = 3, .smax = 3, .umin = 3,
					   .umax = 3 };
	struct sluice_verifier_entry entry = { .stack = &slot, .nstack = 1 };
	struct sluice_verifier_opts opts = base_opts;
	struct sluice_verdict verdict;
	struct sluice_error err = { 0 };
	size_t count;
	struct sluice_insn *ok = assemble("add %r3, %r2\nldxdw %r4, [%r10-8]\nadd %r3, %r4\n"
					  "ldxb %r0, [%r3+5]\nexit\n", &count);

	(void)state;
	entry.regs[2] = (struct sluice_entry_reg){ .kind = SLUICE_ENTRY_SCALAR, .smin = 0, .smax = 7,
						   .umin = 0, .umax = 7 };
	entry.regs[3] = (struct sluice_entry_reg){ .kind = SLUICE_ENTRY_MAP_VALUE, .map = 1 };
	opts.prog_type = XDP;
	opts.maps = maps;
	opts.nmaps = 2;
	opts.entry = &entry;
	/* 7 + 3 + 5 + 1 <= 16 bytes */
	assert_int_equal(sluice_verify(ok, count, &opts, &verdict, &err), 0);
	if (!verdict.accepted)
		fail_msg("refused:\n%s", verdict.log);
	sluice_verdict_release(&verdict);
	/* one more byte of range for r2 goes past the value */
	entry.regs[2].smax = entry.regs[2].umax = 8;
	assert_int_equal(sluice_verify(ok, count, &opts, &verdict, &err), 0);
	assert_false(verdict.accepted);
	assert_int_equal(verdict.error_pc, 3);
	sluice_verdict_release(&verdict);
	/* an empty range is a caller's error */
	entry.regs[2].smin = 9;
	assert_int_equal(sluice_verify(ok, count, &opts, &verdict, &err), -EINVAL);
	assert_string_equal(err.msg, "entry state: r2 holds no number");
	free(ok);
}

/*
 * Pruning: 16 branches in a row on an unknown number, each setting a
 * register no check depends on (or a stack slot overwritten before it is
 * read) to a different number on each side.  Without precision and stack liveness each side doubles
 * the paths (2^16); with them, the second side of each is pruned where
 * they meet.
 */
static uint64_t processed_by_diamonds(const char *left, const char *right)
{
	struct sluice_verifier_opts opts = base_opts;
	struct sluice_verdict verdict;
	struct sluice_error err = { 0 };
	char text[8192];
	size_t len, count;
	struct sluice_insn *insns;
	uint64_t processed;

	len = (size_t)snprintf(text, sizeof(text), "mov %%r0, 0\n");
	for (int i = 0; i < 16; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"ldxdw %%r1, [%%r10-16]\njgt %%r1, %d, +2\n%s, %d\nja +1\n"
					"%s, %d\nadd %%r0, 1\nstdw [%%r10-8], 0\n",
					i, left, i, right, i + 1000);
	snprintf(text + len, sizeof(text) - len, "exit\n");
	insns = assemble(text, &count);
	opts.prog_type = XDP;
	assert_int_equal(sluice_verify(insns, count, &opts, &verdict, &err), 0);
	if (!verdict.accepted)
		fail_msg("refused:\n%s", verdict.log);
	processed = verdict.insns_processed;
	sluice_verdict_release(&verdict);
	free(insns);
	return processed;
}

static void test_pruning(void **state)
{
	(void)state;
	assert_int_equal(processed_by_diamonds("mov %r3", "mov %r3"), PRUNED_DIAMONDS);
	assert_int_equal(processed_by_diamonds("stdw [%r10-8]", "stdw [%r10-8]"), PRUNED_DIAMONDS);
}

/*
 * Spilled numbers: 16 branches on an unknown number, each spilling a
 * different number on each side to a slot of its own, all loaded back
 * after the last.  When no loaded number decides anything, the sides meet
 * where they join (2^16 paths otherwise); when the last one decides a
 * branch to an unsafe instruction, its side with 1015 gets there.
 */
static void test_spilled_numbers(void **state)
{
	char text[8192];
	size_t len = (size_t)snprintf(text, sizeof(text), "mov %%r0, 0\n");
	struct sluice_verdict verdict;

	(void)state;
	for (int i = 0; i < 16; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
					"ldxdw %%r1, [%%r10-16]\njgt %%r1, %d, +2\nstdw [%%r10-%d], %d\n"
					"ja +1\nstdw [%%r10-%d], %d\nadd %%r0, 1\n",
					i, 24 + 8 * i, i, 24 + 8 * i, i + 1000);
	for (int i = 0; i < 16; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "ldxdw %%r4, [%%r10-%d]\n",
					24 + 8 * i);
	snprintf(text + len, sizeof(text) - len, "exit\n");
	verify_text(text, XDP, false, &verdict);
	if (!verdict.accepted)
		fail_msg("refused:\n%s", verdict.log);
	assert_int_equal(verdict.insns_processed, 130);
	sluice_verdict_release(&verdict);
	snprintf(text + len, sizeof(text) - len, "jlt %%r4, 1000, +1\nmov %%r0, %%r9\nexit\n");
	verify_text(text, XDP, false, &verdict);
	assert_false(verdict.accepted);
	assert_non_null(strstr(verdict.log, "R9 !read_ok"));
	sluice_verdict_release(&verdict);
}

/*
 * A loop run again (by an outer loop, or by the next run of a bpf_loop
 * callback) finds the in-progress checkpoints of its earlier run at every
 * pc; it must still take its own, or the two sides of each of its branches
 * never meet again and every turn doubles the paths.  (datapath/lb.c's
 * lb_to_pod once compared HTTP paths byte by byte so, in a bpf_loop
 * callback, and passed Sluice's limit.)
 * Here each turn calls a helper and branches on its result; at most a
 * dozen instructions are processed per turn run.
 */
static void test_loop_run_again(void **state)
{
	static const char outer_loop[] =
		"mov %r6, 0\nouter:\nmov %r7, 0\ninner:\ncall 7\njeq %r0, 0, +1\nmov %r8, 1\n"
		"add %r7, 1\njlt %r7, 80, inner\nadd %r6, 1\njlt %r6, 3, outer\nmov %r0, 0\nexit\n";
	static const char callback_runs[] =
		"mov %r1, 4\nlddw_func %r2, 6\nmov %r3, 0\nmov %r4, 0\ncall 181\nmov %r0, 0\nexit\n"
		"cb:\nmov %r7, 0\ninner:\ncall 7\njeq %r0, 0, +1\nmov %r8, 1\nadd %r7, 1\n"
		"jlt %r7, 82, inner\nmov %r0, 0\nexit\n";
	struct sluice_verdict verdict;

	(void)state;
	verify_text(outer_loop, XDP, false, &verdict);
	if (!verdict.accepted)
		fail_msg("outer loop refused:\n%s", verdict.log);
	assert_in_range(verdict.insns_processed, 3 * 80, 3 * 80 * 12);
	sluice_verdict_release(&verdict);
	/* the runs converge after two */
	verify_text(callback_runs, XDP, false, &verdict);
	if (!verdict.accepted)
		fail_msg("callback runs refused:\n%s", verdict.log);
	assert_in_range(verdict.insns_processed, 2 * 82, 2 * 82 * 12);
	sluice_verdict_release(&verdict);
}

static void test_bad_options(void **state)
{
	struct sluice_insn exit_insn = { .code = 0x95 };
	struct sluice_verifier_opts opts = { .sz = 4 };
	struct sluice_verdict verdict;
	struct sluice_error err = { 0 };

	(void)state;
	assert_int_equal(sluice_verify(&exit_insn, 1, &opts, &verdict, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "opts->sz"));
	assert_int_equal(sluice_verify(&exit_insn, 1, NULL, &verdict, &err), -EINVAL);
}

/* Registers beyond r10 and fields an instruction does not use are refused, not read. */
static void test_malformed_instructions(void **state)
{
	static const struct {
		struct sluice_insn insn;
		const char *message;
	} bad[] = {
		{ { .code = 0xbf, .dst = 0, .src = 12 }, "R12 is invalid" },
		{ { .code = 0xb7, .dst = 15 }, "R15 is invalid" },
		{ { .code = 0xb7, .dst = 0, .src = 1 }, "src field must be zero" },
		{ { .code = 0x07, .dst = 0, .off = 3 }, "offset field must be zero" },
	};
	struct sluice_verifier_opts opts = base_opts;

	(void)state;
	opts.prog_type = XDP;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sluice_insn insns[2] = { bad[i].insn, { .code = 0x95 } };
		struct sluice_verdict verdict;
		struct sluice_error err = { 0 };

		assert_int_equal(sluice_verify(insns, 2, &opts, &verdict, &err), 0);
		assert_false(verdict.accepted);
		assert_int_equal(verdict.error_pc, 0);
		if (!strstr(verdict.log, bad[i].message))
			fail_msg("expected \"%s\":\n%s", bad[i].message, verdict.log);
		sluice_verdict_release(&verdict);
	}
}

/* Garbage never crashes: random bytes, registers and all, are judged. */
static void test_random_bytes(void **state)
{
	struct sluice_verifier_opts opts = base_opts;
	uint64_t seed = 0x9e3779b97f4a7c15u;

	(void)state;
	opts.prog_type = XDP;
	for (int round = 0; round < 2000; round++) {
		struct sluice_insn insns[8];
		struct sluice_verdict verdict;
		struct sluice_error err = { 0 };

		for (size_t i = 0; i < 8; i++) {
			seed ^= seed << 13;
			seed ^= seed >> 7;
			seed ^= seed << 17;
			memcpy(&insns[i], &seed, sizeof(insns[i]));
			insns[i].off %= 8;
		}
		insns[7] = (struct sluice_insn){ .code = 0x95 };
		assert_int_equal(sluice_verify(insns, 8, &opts, &verdict, &err), 0);
		sluice_verdict_release(&verdict);
	}
}

static int license_is_gpl(const char *license)
{
	return strstr(license, "GPL") != NULL;
}

/* examples/bpf, compiled by clang: unsafe.o is refused, every other program accepted. */
static void test_examples(void **state)
{
	static const char *const names[] = {
		"xdp_filter", "tc_counter", "socket_filter", "global_calls", "btf_maps", "unsafe",
	};

	(void)state;
	for (size_t n = 0; n < sizeof(names) / sizeof(names[0]); n++) {
		struct sluice_object_opts oopts = { .sz = sizeof(oopts), .no_core = true };
		const struct sluice_map_def *maps[64];
		struct sluice_error err = { 0 };
		struct sluice_object *obj;
		char path[512];

		snprintf(path, sizeof(path), "%s/%s.o", BPF_EXAMPLES_DIR, names[n]);
		obj = sluice_object_open(path, &oopts, &err);
		if (!obj)
			fail_msg("%s: %s", path, err.msg);
		assert_true(sluice_object_map_count(obj) <= 64);
		for (size_t i = 0; i < sluice_object_map_count(obj); i++)
			maps[i] = sluice_object_map(obj, i);
		for (size_t p = 0; p < sluice_object_prog_count(obj); p++) {
			const struct sluice_prog *prog = sluice_object_prog(obj, p);
			struct sluice_verifier_opts opts = {
				.sz = sizeof(opts),
				.prog_type = sluice_prog_type(prog),
				.expected_attach_type = sluice_prog_attach_type(prog),
				.gpl = license_is_gpl(sluice_object_license(obj)),
				.maps = maps,
				.nmaps = sluice_object_map_count(obj),
			};
			struct sluice_verdict verdict;
			const struct sluice_insn *insns;
			size_t count;
			bool unsafe = !strcmp(names[n], "unsafe");

			insns = sluice_prog_insns(prog, &count);
			opts.lines = sluice_prog_line_info(prog, &opts.nlines);
			opts.funcs = sluice_prog_func_info(prog, &opts.nfuncs);
			assert_int_equal(sluice_verify(insns, count, &opts, &verdict, &err), 0);
			if (unsafe) {
				if (verdict.accepted)
					fail_msg("%s: %s accepted", path, sluice_prog_name(prog));
				assert_non_null(strstr(verdict.log, "invalid access to packet"));
			} else if (!verdict.accepted) {
				fail_msg("%s: %s refused at pc %zu:\n%s", path, sluice_prog_name(prog),
					 verdict.error_pc, verdict.log);
			}
			sluice_verdict_release(&verdict);
		}
		sluice_object_close(obj);
	}
}

int main(void)
{
	size_t ncases = sizeof(cases) / sizeof(cases[0]);
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_log_level2),
		cmocka_unit_test(test_refusal_report),
		cmocka_unit_test(test_entry_state),
		cmocka_unit_test(test_pruning),
		cmocka_unit_test(test_loop_run_again),
		cmocka_unit_test(test_spilled_numbers),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_malformed_instructions),
		cmocka_unit_test(test_random_bytes),
		cmocka_unit_test(test_examples),
	};
	size_t nfixed = sizeof(fixed) / sizeof(fixed[0]);
	struct CMUnitTest *tests = calloc(ncases + nfixed, sizeof(*tests));
	int failed;

	if (!tests)
		return 1;
	for (size_t i = 0; i < ncases; i++) {
		tests[i] = (struct CMUnitTest){
			.name = cases[i].name,
			.test_func = run_case,
			.initial_state = (void *)&cases[i],
		};
	}
	memcpy(tests + ncases, fixed, sizeof(fixed));
	failed = _cmocka_run_group_tests("verifier", tests, ncases + nfixed, NULL, NULL);
	free(tests);
	return failed;
}
