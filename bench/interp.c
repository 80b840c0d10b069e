/* SPDX-License-Identifier: MIT */
/*
 * bench_interp: Sluice's interpreter against DPDK's librte_bpf interpreter,
 * side by side in one process, on the same bytecode.
 *
 * Each program in bench/programs is assembled once with sluice_asm.  The
 * loop-free ones also go, slot for slot, to rte_bpf_load (its validator
 * rejects loops), and both engines must return the same r0 before anything
 * is timed.  The ones that loop run on Sluice alone and are checked against
 * the same computation written in C.
 *
 * Timing: each engine is calibrated to batches of about BATCH_NS, then the
 * engines take turns for ROUNDS rounds and the median batch of each is
 * kept, so that a noisy moment on the machine lands on both engines rather
 * than on one.
 *
 *     bench_interp [--program NAME]
 *     bench_interp --iterations N --engine sluice|rte --program NAME
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

#define ROUNDS 5
#define BATCH_NS 40000000.0   /* 40 ms: five rounds give 0.2 s per engine */
#define CALIBRATE_NS 10000000 /* double the count until a batch takes 10 ms */

enum engine { SLUICE, RTE, NENGINES };
static const char *const engine_names[NENGINES] = { "sluice", "rte" };

struct program {
	const char *name; /* the text is in BENCH_PROGRAMS_DIR/NAME.s */
	size_t mem_size;  /* bytes of input, which r1 points to */
	void (*fill)(uint8_t *mem, size_t size);
	/*
	 * NULL for the loop-free programs, which librte_bpf checks.  The
	 * programs that loop run on Sluice only, and this computes their
	 * result in C instead.
	 */
	uint64_t (*reference)(const uint8_t *mem, size_t size);
};

/* One program, loaded into both engines (or only Sluice if it loops). */
struct bench {
	const struct program *prog;
	uint8_t *mem;
	size_t slots;
	struct sluice_vm *vm;
	struct sluice_exec exec;
	struct rte_bpf *rte; /* NULL when the program loops */
	uint64_t result;
	uint64_t executed; /* instructions one run executes */
};

__attribute__((format(printf, 1, 2)))
_Noreturn static void die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout); /* the table so far, before the reason it stops */
	fputs("bench_interp: ", stderr);
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

static uint64_t checksum_reference(const uint8_t *mem, size_t size)
{
	uint64_t sum = 0;

	for (size_t i = 0; i + 2 <= size; i += 2) {
		uint16_t word;

		memcpy(&word, mem + i, sizeof(word)); /* host order, as ldxh */
		sum += word;
	}
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

static uint64_t fnv1a_reference(const uint8_t *mem, size_t size)
{
	uint64_t h = 0xcbf29ce484222325;

	for (size_t i = 0; i < size; i++)
		h = (h ^ mem[i]) * 0x100000001b3;
	return h;
}

static int compare_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static uint64_t bubble_sort_reference(const uint8_t *mem, size_t size)
{
	uint32_t keys[16];
	uint64_t h = 0;

	if (size != sizeof(keys))
		die("bubble_sort: the program sorts exactly 16 keys");
	memcpy(keys, mem, sizeof(keys));
	qsort(keys, 16, sizeof(keys[0]), compare_u32);
	for (size_t i = 0; i < 16; i++)
		h = h * 31 + keys[i];
	return h;
}

static const struct program programs[] = {
	{ "alu_chain", 16, fill_random, NULL },
	{ "mem_heavy", 64, fill_random, NULL },
	{ "branchy", 64, fill_packet, NULL },
	{ "checksum", 1500, fill_random, checksum_reference },
	{ "fnv1a", 64, fill_random, fnv1a_reference },
	{ "bubble_sort", 64, fill_random, bubble_sort_reference },
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
	bpf = rte_bpf_load(&prm); /* copies the instructions */
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

static uint64_t sluice_run(struct bench *b)
{
	struct sluice_error err; /* not cleared: that would be timed too */
	uint64_t r0;

	if (sluice_vm_exec(b->vm, &b->exec, &r0, &err) < 0)
		die("%s: sluice_vm_exec: %s", b->prog->name, err.msg);
	return r0;
}

/*
 * Load a program into Sluice, and into librte_bpf too unless it loops, and
 * check its result before anything is timed.
 */
static void load(struct bench *b, const struct program *prog)
{
	struct sluice_vm_opts opts = { .sz = sizeof(opts) };
	struct sluice_error err = { 0 };
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

	b->vm = sluice_vm_new(insns, b->slots, &opts, &err);
	if (!b->vm)
		die("%s: sluice_vm_new: %s", prog->name, err.msg);
	b->exec = (struct sluice_exec){
		.sz = sizeof(b->exec),
		.args = { (uintptr_t)b->mem },
	};
	b->result = sluice_run(b);
	b->executed = count_executed(insns, b->slots, &b->exec);

	b->rte = prog->reference ? NULL : rte_load(prog, insns, b->slots);
	free(insns);

	uint64_t want = b->rte ? rte_bpf_exec(b->rte, b->mem) :
				 prog->reference(b->mem, prog->mem_size);
	if (b->result != want)
		die("%s: sluice returned 0x%" PRIx64
		    " but %s returned 0x%" PRIx64, prog->name, b->result,
		    b->rte ? "librte_bpf" : "the C reference", want);
}

static void unload(struct bench *b)
{
	sluice_vm_free(b->vm);
	rte_bpf_destroy(b->rte);
	free(b->mem);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

/* Run the program n times on one engine; returns the nanoseconds taken. */
static uint64_t run_batch(struct bench *b, enum engine e, uint64_t n)
{
	uint64_t start = now_ns();

	if (e == SLUICE) {
		for (uint64_t i = 0; i < n; i++)
			sluice_run(b);
	} else {
		for (uint64_t i = 0; i < n; i++)
			rte_bpf_exec(b->rte, b->mem);
	}
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

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median nanoseconds per run of each engine that can run the program. */
static void measure(struct bench *b, double ns_per_run[NENGINES])
{
	int engines = b->rte ? 2 : 1;
	double t[NENGINES][ROUNDS];
	uint64_t n[NENGINES];

	for (int e = 0; e < engines; e++)
		n[e] = calibrate(b, (enum engine)e);
	for (int r = 0; r < ROUNDS; r++) {
		for (int i = 0; i < engines; i++) {
			/* A B, B A, A B, ...: a drift in the machine's speed
			 * across the rounds then falls on both engines alike */
			int e = r % 2 ? engines - 1 - i : i;

			t[e][r] = (double)run_batch(b, (enum engine)e, n[e]) /
				  (double)n[e];
		}
	}
	for (int e = 0; e < engines; e++) {
		qsort(t[e], ROUNDS, sizeof(t[e][0]), compare_double);
		ns_per_run[e] = t[e][ROUNDS / 2];
	}
}

static void table(const struct program *only)
{
	double log_speedup = 0;
	int compared = 0;

	printf("Sluice interpreter vs librte_bpf interpreter (%s), "
	       "same bytecode\n", rte_version());
	printf("%d alternating rounds of ~%.0f ms per engine, median kept\n\n",
	       ROUNDS, BATCH_NS / 1e6);
	printf("%-12s %6s %9s  %13s %8s  %11s %8s  %10s\n", "program", "slots",
	       "executed", "sluice ns/run", "ns/insn", "rte ns/run", "ns/insn",
	       "rte/sluice");
	for (size_t i = 0; i < NPROGRAMS; i++) {
		const struct program *prog = &programs[i];
		double ns[NENGINES];
		struct bench b;

		if (only && only != prog)
			continue;
		load(&b, prog);
		measure(&b, ns);
		printf("%-12s %6zu %9" PRIu64 "  %13.1f %8.3f", prog->name,
		       b.slots, b.executed, ns[SLUICE],
		       ns[SLUICE] / (double)b.executed);
		if (b.rte) {
			printf("  %11.1f %8.3f  %9.2fx\n", ns[RTE],
			       ns[RTE] / (double)b.executed,
			       ns[RTE] / ns[SLUICE]);
			log_speedup += log(ns[RTE] / ns[SLUICE]);
			compared++;
		} else {
			printf("  %11s %8s  %10s\n", "(loops)", "-", "-");
		}
		unload(&b);
	}
	if (compared)
		printf("\ngeomean speedup vs librte_bpf (loop-free): %.2fx\n",
		       exp(log_speedup / compared));
}

/* A fixed number of runs on one engine, for valgrind --tool=callgrind. */
static void fixed(const struct program *prog, enum engine e, uint64_t n)
{
	struct bench b;
	uint64_t t;

	load(&b, prog);
	if (e == RTE && !b.rte)
		die("%s loops, so librte_bpf cannot run it", prog->name);
	t = run_batch(&b, e, n);
	printf("%s on %s: %" PRIu64 " runs, r0 = 0x%" PRIx64 ", %.1f ns/run\n",
	       prog->name, engine_names[e], n, b.result, (double)t / (double)n);
	unload(&b);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bench_interp [--program NAME]\n"
		   "       bench_interp --iterations N --engine sluice|rte "
		   "--program NAME\n"
		   "programs:");
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
	die("no engine '%s' (sluice or rte)", name);
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
