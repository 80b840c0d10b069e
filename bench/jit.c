/* SPDX-License-Identifier: MIT */
/*
 * bench_jit: every engine side by side in one process, on the same
 * bytecode and the same input:
 *
 *   interp      Sluice's interpreter (sluice_vm_exec)
 *   jit         Sluice's x86-64 JIT: the plain function sluice_jit_function
 *               gives, as librte_bpf's is called, else sluice_jit_exec
 *   rte         DPDK librte_bpf's interpreter (rte_bpf_exec)
 *   rte-jit     librte_bpf's JIT (the function rte_bpf_get_jit gives)
 *   native      the same algorithm in C, gcc -O2 (native.c): the limit
 *
 * Each program in bench/programs is assembled once with sluice_asm.  The
 * loop-free ones also go, slot for slot, to rte_bpf_load (its validator
 * rejects loops).  Every engine must return what the C version returns
 * before anything is timed.
 *
 * Timing: each engine is calibrated to batches of about BATCH_NS, then the
 * engines take turns for ROUNDS rounds, in an order that reverses every
 * round, so that a noisy moment on the machine lands on all engines rather
 * than on one.  The fastest batch of each is kept: other work on the
 * machine can only slow a batch down, so the fastest is the closest to the
 * engine's own speed.
 *
 *     bench_jit [--program NAME]
 *     bench_jit --iterations N --engine ENGINE --program NAME
 *
 * The second form runs a fixed count with no calibration, for callgrind.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_bpf.h>
#include <rte_errno.h>
#include <rte_version.h>

#include <sluice/asm.h>
#include <sluice/interp.h>
#include <sluice/jit.h>

#include "native.h"

#define ROUNDS 5
#define BATCH_NS 40000000.0   /* 40 ms: five rounds give 0.2 s per engine */
#define CALIBRATE_NS 10000000 /* double the count until a batch takes 10 ms */

enum engine { INTERP, JIT, RTE, RTE_JIT, NATIVE, NENGINES };
static const char *const engine_names[NENGINES] = {
	"interp", "jit", "rte", "rte-jit", "native",
};

struct program {
	const char *name; /* the text is in BENCH_PROGRAMS_DIR/NAME.s */
	size_t mem_size;  /* bytes of input, which r1 points to */
	void (*fill)(uint8_t *mem, size_t size);
	uint64_t (*native)(const uint8_t *mem, size_t size);
	bool loops;       /* librte_bpf's validator refuses it */
};

/* One program, loaded into every engine that takes it. */
struct bench {
	const struct program *prog;
	uint8_t *mem;
	size_t slots;
	struct sluice_vm *vm;
	struct sluice_jit *jit;
	sluice_jit_fn jit_fn; /* NULL when the program needs sluice_jit_exec */
	struct sluice_exec exec;
	struct rte_bpf *rte; /* NULL when the program loops */
	uint64_t (*rte_jit)(void *mem);
	uint64_t result;
	uint64_t executed; /* instructions one run executes */
};

__attribute__((format(printf, 1, 2)))
_Noreturn static void die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout); /* the table so far, before the reason it stops */
	fputs("bench_jit: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* Deterministic bytes (xorshift64), so every run sees the same input. */
static void fill_random(uint8_t *mem, size_t size)
{
	uint64_t x = 0x9e3779b97f4a7c15;

	for (size_t i = 0; i < size; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		mem[i] = (uint8_t)(x >> 32);
	}
}

/*
 * A TCP SYN from 172.16.5.20:40000 to 203.0.113.7:443 with 8 bytes of
 * payload, two bytes into the buffer; branchy.s says why.
 */
static void fill_packet(uint8_t *mem, size_t size)
{
	static const uint8_t packet[] = {
		/* Ethernet: destination, source, type IPv4 */
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
		0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
		0x08, 0x00,
		/* IPv4: version 4 and IHL 5, TOS, total length 48, id,
		 * don't-fragment, TTL 64, TCP, checksum, addresses */
		0x45, 0x00, 0x00, 0x30, 0x1c, 0x46, 0x40, 0x00,
		0x40, 0x06, 0x00, 0x00,
		172, 16, 5, 20,
		203, 0, 113, 7,
		/* TCP: ports, sequence, acknowledgement, data offset 5, SYN,
		 * window, checksum, urgent pointer */
		0x9c, 0x40, 0x01, 0xbb,
		0x12, 0x34, 0x56, 0x78,
		0x00, 0x00, 0x00, 0x00,
		0x50, 0x02, 0xff, 0xff,
		0x00, 0x00, 0x00, 0x00,
	};

	fill_random(mem, size); /* the payload */
	memcpy(mem + 2, packet, sizeof(packet));
}

static const struct program programs[] = {
	{ "alu_chain", 16, fill_random, native_alu_chain, false },
	{ "mem_heavy", 64, fill_random, native_mem_heavy, false },
	{ "branchy", 64, fill_packet, native_branchy, false },
	{ "checksum", 1500, fill_random, native_checksum, true },
	{ "fnv1a", 64, fill_random, native_fnv1a, true },
	{ "bubble_sort", 64, fill_random, native_bubble_sort, true },
};
#define NPROGRAMS (sizeof(programs) / sizeof(programs[0]))

static char *read_text(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *text;
	long size;

	if (!f)
		die("%s: %s", path, strerror(errno));
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0)
		die("%s: %s", path, strerror(errno));
	text = malloc((size_t)size + 1);
	if (!text)
		die("out of memory");
	if (fread(text, 1, (size_t)size, f) != (size_t)size)
		die("%s: short read", path);
	fclose(f);
	*len = (size_t)size;
	return text;
}

/*
 * struct sluice_insn and DPDK's struct ebpf_insn both lay out the standard
 * encoding (RFC 9669), so the slots are handed over as they are.
 */
_Static_assert(sizeof(struct sluice_insn) == sizeof(struct ebpf_insn),
	       "one BPF instruction slot is 8 bytes in both");

static struct rte_bpf *rte_load(const struct program *prog,
				const struct sluice_insn *insns, size_t slots)
{
	struct ebpf_insn *ins = malloc(slots * sizeof(*ins));
	struct rte_bpf *bpf;

	if (!ins)
		die("out of memory");
	memcpy(ins, insns, slots * sizeof(*ins));
	struct rte_bpf_prm prm = {
		.ins = ins,
		.nb_ins = (uint32_t)slots,
		/* r1 is a pointer to mem_size bytes: the validator then
		 * checks every access through it against that size */
		.prog_arg = { .type = RTE_BPF_ARG_PTR, .size = prog->mem_size },
	};
	bpf = rte_bpf_load(&prm); /* copies the instructions, JIT-compiles them */
	free(ins);
	if (!bpf)
		die("%s: rte_bpf_load: %s (librte_bpf's log above says where)",
		    prog->name, rte_strerror(rte_errno));
	return bpf;
}

/* The timed VM does not count; a counting twin runs once to tell ns/insn. */
static uint64_t count_executed(const struct sluice_insn *insns, size_t slots,
			       struct sluice_exec *exec)
{
	struct sluice_vm_opts opts = { .sz = sizeof(opts), .count = true };
	struct sluice_error err = { 0 };
	struct sluice_vm *vm = sluice_vm_new(insns, slots, &opts, &err);
	uint64_t r0;

	if (!vm || sluice_vm_exec(vm, exec, &r0, &err) < 0)
		die("counting run: %s", err.msg);
	sluice_vm_free(vm);
	return exec->executed;
}

static bool engine_takes(const struct bench *b, enum engine e)
{
	return (e != RTE && e != RTE_JIT) || b->rte;
}

/* One run on one engine. */
static uint64_t run_once(struct bench *b, enum engine e)
{
	struct sluice_error err; /* not cleared: that would be timed too */
	uint64_t r0 = 0;

	switch (e) {
	case INTERP:
		if (sluice_vm_exec(b->vm, &b->exec, &r0, &err) < 0)
			die("%s: sluice_vm_exec: %s", b->prog->name, err.msg);
		break;
	case JIT:
		if (b->jit_fn)
			r0 = b->jit_fn((uintptr_t)b->mem, 0, 0, 0, 0);
		else if (sluice_jit_exec(b->jit, &b->exec, &r0, &err) < 0)
			die("%s: sluice_jit_exec: %s", b->prog->name, err.msg);
		break;
	case RTE:
		r0 = rte_bpf_exec(b->rte, b->mem);
		break;
	case RTE_JIT:
		r0 = b->rte_jit(b->mem);
		break;
	case NATIVE:
		r0 = b->prog->native(b->mem, b->prog->mem_size);
		break;
	case NENGINES:
		break;
	}
	return r0;
}

/*
 * Load a program into every engine that takes it, and check that each
 * returns what the C version does before anything is timed.
 */
static void load(struct bench *b, const struct program *prog)
{
	struct sluice_vm_opts vm_opts = { .sz = sizeof(vm_opts) };
	struct sluice_jit_opts jit_opts = { .sz = sizeof(jit_opts) };
	struct sluice_error err = { 0 };
	struct rte_bpf_jit rte_jit;
	struct sluice_insn *insns;
	char path[4096];
	size_t len;
	char *text;

	snprintf(path, sizeof(path), "%s/%s.s", BENCH_PROGRAMS_DIR, prog->name);
	text = read_text(path, &len);
	if (sluice_asm(text, len, path, &insns, &b->slots, &err) < 0)
		die("%s", err.msg);
	free(text);

	b->prog = prog;
	b->mem = malloc(prog->mem_size);
	if (!b->mem)
		die("out of memory");
	prog->fill(b->mem, prog->mem_size);
	b->exec = (struct sluice_exec){
		.sz = sizeof(b->exec),
		.args = { (uintptr_t)b->mem },
	};
	b->vm = sluice_vm_new(insns, b->slots, &vm_opts, &err);
	if (!b->vm)
		die("%s: sluice_vm_new: %s", prog->name, err.msg);
	b->jit = sluice_jit_new(insns, b->slots, &jit_opts, &err);
	if (!b->jit)
		die("%s: sluice_jit_new: %s", prog->name, err.msg);
	b->jit_fn = sluice_jit_function(b->jit);
	b->executed = count_executed(insns, b->slots, &b->exec);
	b->rte = prog->loops ? NULL : rte_load(prog, insns, b->slots);
	if (b->rte && (rte_bpf_get_jit(b->rte, &rte_jit) || !rte_jit.func))
		die("%s: librte_bpf has no JIT code for it", prog->name);
	b->rte_jit = b->rte ? rte_jit.func : NULL;
	free(insns);

	b->result = prog->native(b->mem, prog->mem_size);
	for (int e = 0; e < NENGINES; e++) {
		uint64_t r0;

		if (!engine_takes(b, (enum engine)e))
			continue;
		r0 = run_once(b, (enum engine)e);
		if (r0 != b->result)
			die("%s: %s returned 0x%" PRIx64 " but the C version 0x%" PRIx64,
			    prog->name, engine_names[e], r0, b->result);
	}
}

static void unload(struct bench *b)
{
	sluice_vm_free(b->vm);
	sluice_jit_free(b->jit);
	rte_bpf_destroy(b->rte);
	free(b->mem);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

/*
 * Run the program n times on one engine; returns the nanoseconds taken.
 * Not inlined: callgrind's --toggle-collect=run_batch then counts exactly
 * the runs, JIT code included.
 */
__attribute__((noinline))
static uint64_t run_batch(struct bench *b, enum engine e, uint64_t n)
{
	uint64_t start = now_ns();

	for (uint64_t i = 0; i < n; i++)
		run_once(b, e);
	return now_ns() - start;
}

/* The number of runs that makes one batch last about BATCH_NS. */
static uint64_t calibrate(struct bench *b, enum engine e)
{
	uint64_t n = 1, t;

	while ((t = run_batch(b, e, n)) < CALIBRATE_NS)
		n *= 2;
	n = (uint64_t)((double)n * BATCH_NS / (double)t);
	return n ? n : 1;
}

/* Nanoseconds per run in the fastest batch of each engine that takes the program. */
static void measure(struct bench *b, double ns_per_run[NENGINES])
{
	enum engine order[NENGINES];
	double t[NENGINES][ROUNDS];
	uint64_t n[NENGINES];
	int engines = 0;

	for (int e = 0; e < NENGINES; e++) {
		if (!engine_takes(b, (enum engine)e))
			continue;
		order[engines++] = (enum engine)e;
		n[e] = calibrate(b, (enum engine)e);
	}
	for (int r = 0; r < ROUNDS; r++) {
		for (int i = 0; i < engines; i++) {
			/* A B C, C B A, A B C, ...: a drift in the machine's
			 * speed across the rounds then falls on all alike */
			enum engine e = order[r % 2 ? engines - 1 - i : i];

			t[e][r] = (double)run_batch(b, e, n[e]) / (double)n[e];
		}
	}
	for (int i = 0; i < engines; i++) {
		enum engine e = order[i];

		ns_per_run[e] = t[e][0];
		for (int r = 1; r < ROUNDS; r++)
			ns_per_run[e] = fmin(ns_per_run[e], t[e][r]);
	}
}

static void table(const struct program *only)
{
	double log_jit_vs_rte = 0, log_jit_vs_native = 0, log_interp_vs_rte = 0;
	int compared = 0, programs_run = 0;

	printf("Sluice interpreter and JIT vs librte_bpf (%s) interpreter and JIT vs C (gcc -O2)\n",
	       rte_version());
	printf("ns per run, fastest of %d alternating rounds of ~%.0f ms per engine; "
	       "librte_bpf takes only the loop-free programs\n\n", ROUNDS, BATCH_NS / 1e6);
	printf("%-12s %5s %8s %9s %7s %8s %8s %8s %8s  %10s %9s %9s %9s\n", "program", "slots",
	       "executed", "interp", "ns/insn", "jit", "rte", "rte-jit", "native", "rte/interp",
	       "interp/jit", "rtejit/jit", "jit/native");
	for (size_t i = 0; i < NPROGRAMS; i++) {
		const struct program *prog = &programs[i];
		double ns[NENGINES];
		struct bench b;

		if (only && only != prog)
			continue;
		load(&b, prog);
		measure(&b, ns);
		printf("%-12s %5zu %8" PRIu64 " %9.1f %7.3f %8.1f", prog->name, b.slots,
		       b.executed, ns[INTERP], ns[INTERP] / (double)b.executed, ns[JIT]);
		if (b.rte)
			printf(" %8.1f %8.1f", ns[RTE], ns[RTE_JIT]);
		else
			printf(" %8s %8s", "-", "-");
		printf(" %8.1f", ns[NATIVE]);
		if (b.rte) {
			printf("  %9.2fx", ns[RTE] / ns[INTERP]);
			log_interp_vs_rte += log(ns[RTE] / ns[INTERP]);
		} else {
			printf("  %10s", "-");
		}
		printf(" %9.2fx", ns[INTERP] / ns[JIT]);
		if (b.rte) {
			printf(" %9.2fx", ns[RTE_JIT] / ns[JIT]);
			log_jit_vs_rte += log(ns[RTE_JIT] / ns[JIT]);
			compared++;
		} else {
			printf(" %10s", "-");
		}
		printf(" %9.2fx\n", ns[JIT] / ns[NATIVE]);
		log_jit_vs_native += log(ns[JIT] / ns[NATIVE]);
		programs_run++;
		unload(&b);
	}
	if (compared) {
		printf("\ngeomean: Sluice interpreter %.2fx as fast as librte_bpf's interpreter (loop-free programs)\n",
		       exp(log_interp_vs_rte / compared));
		printf("geomean: Sluice JIT %.2fx as fast as librte_bpf's JIT (loop-free programs)\n",
		       exp(log_jit_vs_rte / compared));
	}
	printf("geomean: Sluice JIT takes %.2fx the time of native C\n",
	       exp(log_jit_vs_native / programs_run));
}

/* A fixed number of runs on one engine, for valgrind --tool=callgrind. */
static void fixed(const struct program *prog, enum engine e, uint64_t n)
{
	struct bench b;
	uint64_t t;

	load(&b, prog);
	if (!engine_takes(&b, e))
		die("%s loops, so librte_bpf cannot run it", prog->name);
	t = run_batch(&b, e, n);
	printf("%s on %s: %" PRIu64 " runs, r0 = 0x%" PRIx64 ", %.1f ns/run\n",
	       prog->name, engine_names[e], n, b.result, (double)t / (double)n);
	unload(&b);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bench_jit [--program NAME]\n"
		   "       bench_jit --iterations N --engine ENGINE --program NAME\n"
		   "engines:");
	for (int e = 0; e < NENGINES; e++)
		fprintf(f, " %s", engine_names[e]);
	fprintf(f, "\nprograms:");
	for (size_t i = 0; i < NPROGRAMS; i++)
		fprintf(f, " %s", programs[i].name);
	fputc('\n', f);
}

static const struct program *find_program(const char *name)
{
	for (size_t i = 0; i < NPROGRAMS; i++)
		if (strcmp(programs[i].name, name) == 0)
			return &programs[i];
	die("no program '%s'", name);
}

static enum engine find_engine(const char *name)
{
	for (int e = 0; e < NENGINES; e++)
		if (strcmp(engine_names[e], name) == 0)
			return (enum engine)e;
	die("no engine '%s'", name);
}

int main(int argc, char **argv)
{
	const struct program *prog = NULL;
	const char *engine = NULL;
	uint64_t iterations = 0;

	for (int i = 1; i < argc; i++) {
		const char *opt = argv[i];

		if (strcmp(opt, "--help") == 0) {
			usage(stdout);
			return 0;
		}
		if (i + 1 == argc) {
			usage(stderr);
			return 2;
		}
		if (strcmp(opt, "--program") == 0) {
			prog = find_program(argv[++i]);
		} else if (strcmp(opt, "--engine") == 0) {
			engine = argv[++i];
		} else if (strcmp(opt, "--iterations") == 0) {
			char *end;

			iterations = strtoull(argv[++i], &end, 10);
			if (*end || iterations == 0)
				die("--iterations wants a positive count");
		} else {
			usage(stderr);
			return 2;
		}
	}

	if (!iterations && !engine) {
		table(prog);
	} else if (iterations && engine && prog) {
		fixed(prog, find_engine(engine), iterations);
	} else {
		usage(stderr);
		return 2;
	}
	return 0;
}
