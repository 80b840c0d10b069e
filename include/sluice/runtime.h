/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_RUNTIME_H
#define SLUICE_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sluice/error.h>
#include <sluice/maps.h>
#include <sluice/object.h>

/*
 * An object loaded into Sluice's user-space runtime, as libbpf's
 * bpf_object__load loads one into the kernel: every program verified by
 * Sluice's verifier with the kernel's rules for a privileged loader, its
 * maps created (global data filled in, .rodata frozen), `lddw` map
 * references patched to the maps,
 * every program's context accesses checked against its program type and
 * rewritten to the runtime's context layout (the kernel's
 * convert_ctx_accesses), and each program prepared for the chosen engine
 * with the helpers its type may call.
 *
 * Programs then run as the kernel runs them under BPF_PROG_TEST_RUN
 * (sluice_rt_test_run), with the same rules for each program type, or on
 * live packets through the same entry point.
 */
struct sluice_rt;
struct sluice_rt_prog;

struct sluice_rt_opts {
	size_t sz;            /* sizeof(struct sluice_rt_opts) */
	const char *engine;   /* "interp" (NULL: the same) or "jit" */
	/* Interpreter only: every access checked against the run's memory. */
	bool checked;
	/*
	 * Where bpf_trace_printk's lines go, one call per line without its
	 * newline, formatted as the kernel formats them.  NULL: standard error,
	 * prefixed like the kernel's trace_pipe.
	 */
	void (*trace)(void *ctx, const char *line);
	void *trace_ctx;
	/*
	 * Load only these programs (names, NULL-terminated), as libbpf's
	 * bpf_program__set_autoload(false) on the rest; NULL loads all.
	 */
	const char *const *progs;
	/*
	 * Run programs the verifier would refuse, for debugging them: they run
	 * in the checked interpreter (the JIT is refused), every memory access
	 * tested against what the run may touch, helper calls and context
	 * accesses still checked at load, and helpers refuse pointers that are
	 * not the run's maps.
	 */
	bool no_verify;
};

/*
 * Load obj (opened with CO-RE relocations resolved) into user space.  The
 * object must stay open while the runtime lives.  NULL with err set when a
 * map cannot be created or a program is refused (the verifier's reason, a
 * helper the runtime lacks, ...), the message naming the program, pc and
 * reason; errno EACCES for a program the verifier rejected.
 */
struct sluice_rt *sluice_rt_load(const struct sluice_object *obj,
				 const struct sluice_rt_opts *opts,
				 struct sluice_error *err);
void sluice_rt_free(struct sluice_rt *rt);

/* The object's maps, in the object's order (sluice_object_map's index). */
size_t sluice_rt_map_count(const struct sluice_rt *rt);
struct sluice_map *sluice_rt_map(const struct sluice_rt *rt, size_t i);
struct sluice_map *sluice_rt_find_map(const struct sluice_rt *rt, const char *name);

/* A loaded program by name; NULL (errno ENOENT) when it was not loaded. */
struct sluice_rt_prog *sluice_rt_find_prog(const struct sluice_rt *rt, const char *name);
const char *sluice_rt_prog_name(const struct sluice_rt_prog *prog);
uint32_t sluice_rt_prog_type(const struct sluice_rt_prog *prog); /* enum bpf_prog_type */
/* The id a prog array takes for this program (sluice_map_update's value). */
uint32_t sluice_rt_prog_id(const struct sluice_rt_prog *prog);
/* The instructions as the engine runs them: maps patched, context rewritten. */
const struct sluice_insn *sluice_rt_prog_insns(const struct sluice_rt_prog *prog,
					       size_t *count);
/* Its machine code when the runtime runs the JIT (sluice_jit_code, _offsets); else NULL. */
const struct sluice_jit *sluice_rt_prog_jit(const struct sluice_rt_prog *prog);

/*
 * BPF_PROG_TEST_RUN's attr.test, field for field, plus where a redirect
 * went.  The rules are the kernel's for each program type
 * (net/bpf/test_run.c): XDP and TC need at least an Ethernet header's 14
 * bytes; a socket filter sees the packet from its network header on; ctx_in
 * is a struct xdp_md or struct __sk_buff whose fields the kernel lets a
 * caller set, the others zero; data_out receives the packet as the program
 * left it, -ENOSPC when it does not fit (data_size_out then holds the size
 * it needed).
 */
struct sluice_test_run {
	size_t sz;               /* sizeof(struct sluice_test_run) */
	const void *data_in;
	uint32_t data_size_in;
	void *data_out;          /* may be NULL */
	uint32_t data_size_out;  /* in: room in data_out; out: the packet's size */
	const void *ctx_in;      /* may be NULL */
	uint32_t ctx_size_in;
	void *ctx_out;           /* may be NULL */
	uint32_t ctx_size_out;   /* in: room in ctx_out; out: the context's size */
	uint32_t repeat;         /* runs; 0 means 1 */
	uint32_t flags;          /* BPF_F_TEST_* the kernel takes for the type */
	uint32_t cpu;            /* the CPU programs run as (BPF_F_TEST_RUN_ON_CPU) */
	/* out */
	uint32_t retval;
	uint32_t duration_ns;    /* mean time of one run */
	/* out: where bpf_redirect / bpf_redirect_map sent the packet (0: nowhere) */
	uint32_t redirect_ifindex;
	uint64_t redirect_flags;
};

int sluice_rt_test_run(struct sluice_rt_prog *prog, struct sluice_test_run *run,
		       struct sluice_error *err);

/*
 * The route table bpf_fib_lookup consults: add one route (family AF_INET
 * or AF_INET6, prefix in network byte order, gateway all-zero when
 * on-link), with the MAC addresses the lookup fills into the packet's
 * Ethernet header and the MTU it reports.
 */
struct sluice_route {
	int family;
	uint8_t dst[16];
	uint8_t prefix_len;
	uint8_t gateway[16];
	uint32_t ifindex;
	uint8_t smac[6];
	uint8_t dmac[6];
	uint16_t mtu;
};

int sluice_rt_add_route(struct sluice_rt *rt, const struct sluice_route *route,
			struct sluice_error *err);

#endif
