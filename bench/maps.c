/* SPDX-License-Identifier: MIT */
/*
 * bench_maps: lookups and updates in Sluice's hash, LRU hash and LPM trie
 * maps against the kernel's, side by side in one run.
 *
 * Kernel: a socket filter built from raw instructions runs N map calls in a
 * loop (the map's fd in an lddw with src 1), through BPF_PROG_TEST_RUN with a
 * large repeat count; the same loop without the calls is timed too and
 * subtracted, which leaves the cost of the calls alone.
 *
 * Sluice: sluice_map_elem_lookup / sluice_map_elem_update, the calls the
 * helpers make, called directly in a C loop over the same keys.
 *
 * Both sides get the same maps (same types, sizes, contents) and the same
 * key sequence.  Each side is calibrated to batches of about BATCH_NS; the
 * two then take turns for ROUNDS rounds and the median batch of each is
 * kept, so that a noisy moment lands on both rather than on one.  The last
 * column is kernel time / Sluice time: above 1, Sluice is faster.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include <sluice/maps.h>

#define ROUNDS 5
#define BATCH_NS 30e6     /* 30 ms */
#define CALLS 256         /* map calls per program run / per Sluice pass */
#define ENTRIES 1024      /* elements in each map */
#define MULT 0x9e3779b1u  /* spreads the loop counter over keys */

enum op { LOOKUP, UPDATE };

struct bench {
	const char *label;
	uint32_t type, key_size, flags;
	enum op op;
	int kfd, prog, empty; /* the kernel map, the program, the program without calls */
	struct sluice_map *smap;
	uint8_t keys[CALLS][8];
};

__attribute__((format(printf, 1, 2)))
_Noreturn static void die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("bench_maps: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* ---- the kernel's side: a program from raw instructions ------------------ */

static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	return (struct bpf_insn){ .code = code, .dst_reg = dst, .src_reg = src, .off = off,
				  .imm = imm };
}

struct prog {
	struct bpf_insn insns[64];
	int n;
};

static void emit(struct prog *p, struct bpf_insn i)
{
	p->insns[p->n++] = i;
}

/*
 * for (r6 = 0; r6 < CALLS; r6++) { key from r6; [value]; [call] } return 0
 *
 * The key: hash maps, (r6 * MULT) & (ENTRIES - 1) at fp-4; LPM tries,
 * {32, r6 * MULT} at fp-8 (a /32 lookup of a spread address).  Updates
 * write the value r6 (8 bytes at fp-16) with BPF_ANY.
 */
static int load_prog(const struct bench *b, bool with_call)
{
	LIBBPF_OPTS(bpf_prog_load_opts, opts);
	bool lpm = b->type == BPF_MAP_TYPE_LPM_TRIE;
	struct prog p = { .n = 0 };
	int loop, fd;

	emit(&p, insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_6, 0, 0, 0));        /* r6 = 0 */
	loop = p.n;
	emit(&p, insn(BPF_ALU | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_6, 0, 0));  /* w1 = w6 */
	emit(&p, insn(BPF_ALU | BPF_MUL | BPF_K, BPF_REG_1, 0, 0, (int32_t)MULT)); /* w1 *= MULT */
	if (lpm) {
		emit(&p, insn(BPF_ST | BPF_W | BPF_MEM, BPF_REG_10, 0, -8, 32));  /* *(u32 *)(fp-8) = 32 */
	} else {
		emit(&p, insn(BPF_ALU | BPF_AND | BPF_K, BPF_REG_1, 0, 0, ENTRIES - 1)); /* w1 &= N-1 */
	}
	emit(&p, insn(BPF_STX | BPF_W | BPF_MEM, BPF_REG_10, BPF_REG_1, -4, 0)); /* *(u32 *)(fp-4) = w1 */
	if (b->op == UPDATE)
		emit(&p, insn(BPF_STX | BPF_DW | BPF_MEM, BPF_REG_10, BPF_REG_6, -16, 0)); /* *(u64 *)(fp-16) = r6 */
	if (with_call) {
		emit(&p, insn(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, b->kfd)); /* r1 = map */
		emit(&p, insn(0, 0, 0, 0, 0));
		emit(&p, insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_10, 0, 0)); /* r2 = fp */
		emit(&p, insn(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, lpm ? -8 : -4)); /* r2 = &key */
		if (b->op == UPDATE) {
			emit(&p, insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_3, BPF_REG_10, 0, 0));
			emit(&p, insn(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_3, 0, 0, -16)); /* r3 = &value */
			emit(&p, insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_4, 0, 0, BPF_ANY)); /* r4 = flags */
		}
		emit(&p, insn(BPF_JMP | BPF_CALL, 0, 0, 0,
			      b->op == UPDATE ? BPF_FUNC_map_update_elem : BPF_FUNC_map_lookup_elem));
	}
	emit(&p, insn(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_6, 0, 0, 1));        /* r6 += 1 */
	emit(&p, insn(BPF_JMP | BPF_JLT | BPF_K, BPF_REG_6, 0, (int16_t)(loop - p.n - 1), CALLS));
	emit(&p, insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0));        /* r0 = 0 */
	emit(&p, insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
	fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "bench_maps", "GPL", p.insns,
			   (size_t)p.n, &opts);
	if (fd < 0)
		die("%s: the kernel refused the program: %s", b->label, strerror(-fd));
	return fd;
}

/* ns per run of the program, over `repeat` runs in the kernel */
static double kernel_run(int prog, uint32_t repeat)
{
	uint8_t packet[64] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet, .data_size_in = sizeof(packet),
		    .repeat = (int)repeat);
	int ret = bpf_prog_test_run_opts(prog, &opts);

	if (ret)
		die("BPF_PROG_TEST_RUN: %s", strerror(-ret));
	return opts.duration;
}

/* ---- the two sides, timed ------------------------------------------------- */

/*
 * This thread's CPU time: time spent descheduled does not count, as it does
 * not in BPF_PROG_TEST_RUN's timer (which stops around cond_resched).
 */
static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static volatile uintptr_t sink;

/* ns per map call, over `passes` passes of the CALLS keys */
static double sluice_batch(struct bench *b, uint32_t passes)
{
	uintptr_t acc = 0;
	double t0 = now_ns();

	for (uint32_t r = 0; r < passes; r++) {
		for (uint64_t i = 0; i < CALLS; i++) {
			if (b->op == LOOKUP)
				acc ^= (uintptr_t)sluice_map_elem_lookup(b->smap, b->keys[i], 0);
			else
				acc ^= (uintptr_t)sluice_map_elem_update(b->smap, b->keys[i], &i,
									  BPF_ANY, 0);
		}
	}
	sink = acc;
	return (now_ns() - t0) / ((double)passes * CALLS);
}

/* ns per map call in the kernel: the program's time less the empty loop's */
static double kernel_batch(struct bench *b, uint32_t repeat)
{
	double full = kernel_run(b->prog, repeat), empty = kernel_run(b->empty, repeat);

	return (full - empty) / CALLS;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* ---- set-up ---------------------------------------------------------------- */

static void key_for(const struct bench *b, uint32_t i, uint8_t *key)
{
	uint32_t spread = i * MULT, prefixlen = 32;

	if (b->type == BPF_MAP_TYPE_LPM_TRIE) {
		memcpy(key, &prefixlen, 4);
		memcpy(key + 4, &spread, 4);
	} else {
		spread &= ENTRIES - 1;
		memcpy(key, &spread, 4);
	}
}

/* ENTRIES elements: keys 0..ENTRIES-1, or prefixes /8 to /24 of spread addresses */
static void fill(struct bench *b)
{
	for (uint32_t i = 0; i < ENTRIES; i++) {
		uint64_t value = i;
		uint8_t key[8];
		uint32_t addr = i * 0x85ebca6bu, prefixlen = 8 + i % 17;
		int k;

		if (b->type == BPF_MAP_TYPE_LPM_TRIE) {
			memcpy(key, &prefixlen, 4);
			memcpy(key + 4, &addr, 4);
		} else {
			memcpy(key, &i, 4);
		}
		k = bpf_map_update_elem(b->kfd, key, &value, BPF_ANY);
		if (k || sluice_map_update(b->smap, key, &value, BPF_ANY, NULL))
			die("%s: cannot fill the maps: %s", b->label, strerror(-k));
	}
	for (uint32_t i = 0; i < CALLS; i++)
		key_for(b, i, b->keys[i]);
}

static void setup(struct bench *b)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = b->flags);
	struct sluice_map_attr attr = {
		.sz = sizeof(attr), .type = b->type, .key_size = b->key_size, .value_size = 8,
		.max_entries = 4 * ENTRIES, .map_flags = b->flags, .name = "bench_maps",
	};
	struct sluice_error err = { 0 };

	b->kfd = bpf_map_create(b->type, "bench_maps", b->key_size, 8, 4 * ENTRIES, &opts);
	if (b->kfd < 0)
		die("%s: the kernel refused the map: %s", b->label, strerror(-b->kfd));
	b->smap = sluice_map_create(&attr, &err);
	if (!b->smap)
		die("%s: %s", b->label, err.msg);
	fill(b);
	b->prog = load_prog(b, true);
	b->empty = load_prog(b, false);
}

static void run(struct bench *b)
{
	double k[ROUNDS], s[ROUNDS], per;
	uint32_t repeat = 64, passes = 64;

	setup(b);
	/* calibrate: a batch of about BATCH_NS on each side */
	per = kernel_run(b->prog, repeat);
	repeat = (uint32_t)(BATCH_NS / (per > 1 ? per : 1)) + 1;
	per = sluice_batch(b, passes) * CALLS;
	passes = (uint32_t)(BATCH_NS / (per > 1 ? per : 1)) + 1;
	for (int r = 0; r < ROUNDS; r++) {
		if (r % 2) {
			s[r] = sluice_batch(b, passes);
			k[r] = kernel_batch(b, repeat);
		} else {
			k[r] = kernel_batch(b, repeat);
			s[r] = sluice_batch(b, passes);
		}
	}
	qsort(k, ROUNDS, sizeof(double), cmp_double);
	qsort(s, ROUNDS, sizeof(double), cmp_double);
	printf("%-10s %-7s %12.1f %12.1f %10.2f\n", b->label, b->op == LOOKUP ? "lookup" : "update",
	       k[ROUNDS / 2], s[ROUNDS / 2], k[ROUNDS / 2] / s[ROUNDS / 2]);
	close(b->prog);
	close(b->empty);
	close(b->kfd);
	sluice_map_close(b->smap);
}

int main(void)
{
	struct bench benches[] = {
		{ .label = "hash", .type = BPF_MAP_TYPE_HASH, .key_size = 4, .op = LOOKUP },
		{ .label = "hash", .type = BPF_MAP_TYPE_HASH, .key_size = 4, .op = UPDATE },
		{ .label = "lru_hash", .type = BPF_MAP_TYPE_LRU_HASH, .key_size = 4, .op = LOOKUP },
		{ .label = "lru_hash", .type = BPF_MAP_TYPE_LRU_HASH, .key_size = 4, .op = UPDATE },
		{ .label = "lpm_trie", .type = BPF_MAP_TYPE_LPM_TRIE, .key_size = 8,
		  .flags = BPF_F_NO_PREALLOC, .op = LOOKUP },
		{ .label = "lpm_trie", .type = BPF_MAP_TYPE_LPM_TRIE, .key_size = 8,
		  .flags = BPF_F_NO_PREALLOC, .op = UPDATE },
	};
	char jit[8] = "?";
	FILE *f = fopen("/proc/sys/net/core/bpf_jit_enable", "r");

	if (f) {
		if (!fgets(jit, sizeof(jit), f))
			jit[0] = '?';
		jit[strcspn(jit, "\n")] = 0;
		fclose(f);
	}
	printf("bench_maps: ns per map call, median of %d alternating rounds of ~%.0f ms a side;\n"
	       "%d-element maps, %d keys per pass, 8-byte values.\n"
	       "kernel: BPF_PROG_TEST_RUN of a socket filter making %d calls to the helper,\n"
	       "        less the same loop without the calls (bpf_jit_enable=%s).\n"
	       "sluice: sluice_map_elem_lookup/update called directly in a C loop (thread CPU time).\n\n",
	       ROUNDS, BATCH_NS / 1e6, ENTRIES, CALLS, CALLS, jit);
	printf("%-10s %-7s %12s %12s %10s\n", "map", "op", "kernel ns", "sluice ns",
	       "kernel/sl");
	for (size_t i = 0; i < sizeof(benches) / sizeof(benches[0]); i++)
		run(&benches[i]);
	return 0;
}
