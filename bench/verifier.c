/* SPDX-License-Identifier: MIT */
/*
 * bench_verifier: how long Sluice's verifier takes on real programs against
 * the kernel's own "verification time" for the same programs (BPF_PROG_LOAD
 * at log level 4: statistics only, no per-instruction log), with the
 * instructions each processed side by side.
 *
 *   bench_verifier [--rounds N] DIR|FILE.o...
 *
 * Every object's programs go through both verifiers in each round, the
 * kernel first then Sluice, so both see the same machine over the run;
 * the table shows each side's median over the rounds and the ratio
 * kernel / Sluice (above 1: Sluice is faster).  Programs either side
 * rejects are listed but left out of the totals.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sluice/kernel.h>
#include <sluice/object.h>
#include <sluice/verifier.h>

#define MAX_ROUNDS 101

struct prog_result {
	char name[160];       /* object:program */
	char prog[128];
	size_t insns;
	bool kernel_ok, sluice_ok;
	int64_t kernel_processed;
	uint64_t sluice_processed;
	double kernel_usec[MAX_ROUNDS], sluice_usec[MAX_ROUNDS];
};

struct bench {
	struct prog_result *progs;
	size_t nprogs, cap;
	unsigned rounds;
};

static double now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), compare_doubles);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The kernel's license_is_gpl_compatible(). */
static bool gpl_compatible(const char *license)
{
	return !strcmp(license, "GPL") || !strcmp(license, "GPL v2") ||
	       !strcmp(license, "GPL and additional rights") || !strcmp(license, "Dual BSD/GPL") ||
	       !strcmp(license, "Dual MIT/GPL") || !strcmp(license, "Dual MPL/GPL");
}

/* One round of the kernel on an object: each program's verification time, by name. */
static int kernel_round(const char *path, struct bench *b, size_t first, unsigned round)
{
	struct sluice_error err = { 0 };
	struct sluice_kernel_object *obj = sluice_kernel_open(path, NULL, &err);

	if (!obj) {
		fprintf(stderr, "bench_verifier: %s\n", err.msg);
		return -1;
	}
	for (size_t i = 0; i < sluice_kernel_prog_count(obj); i++) {
		const char *name = sluice_kernel_prog_name(obj, i);
		struct sluice_kernel_verdict v;

		if (sluice_kernel_load_prog(obj, i, &v, &err))
			continue;
		for (size_t p = first; p < b->nprogs; p++) {
			struct prog_result *r = &b->progs[p];

			if (strcmp(r->prog, name))
				continue;
			r->kernel_ok = v.accepted && v.verification_usec >= 0;
			r->kernel_processed = v.processed_insns;
			r->kernel_usec[round] = (double)v.verification_usec;
		}
	}
	sluice_kernel_close(obj);
	return 0;
}

static void sluice_round(const struct sluice_object *obj, struct bench *b, size_t first,
			 unsigned round)
{
	const struct sluice_map_def *maps[1024];
	size_t nmaps = sluice_object_map_count(obj);
	bool gpl = gpl_compatible(sluice_object_license(obj));

	if (nmaps > 1024)
		nmaps = 1024;
	for (size_t i = 0; i < nmaps; i++)
		maps[i] = sluice_object_map(obj, i);
	for (size_t i = 0; i < sluice_object_prog_count(obj); i++) {
		const struct sluice_prog *p = sluice_object_prog(obj, i);
		struct prog_result *r = &b->progs[first + i];
		struct sluice_verifier_opts opts = {
			.sz = sizeof(opts), .prog_type = sluice_prog_type(p),
			.expected_attach_type = sluice_prog_attach_type(p), .gpl = gpl,
			.maps = maps, .nmaps = nmaps,
		};
		struct sluice_verdict v = { 0 };
		struct sluice_error err = { 0 };
		const struct sluice_insn *insns = sluice_prog_insns(p, &r->insns);
		double start;
		int ret;

		opts.lines = sluice_prog_line_info(p, &opts.nlines);
		opts.funcs = sluice_prog_func_info(p, &opts.nfuncs);
		start = now_usec();
		ret = sluice_verify(insns, r->insns, &opts, &v, &err);
		r->sluice_usec[round] = now_usec() - start;
		r->sluice_ok = !ret && v.accepted;
		r->sluice_processed = v.insns_processed;
		sluice_verdict_release(&v);
	}
}

static int bench_object(const char *path, struct bench *b)
{
	struct sluice_object_opts opts = { .sz = sizeof(opts) };
	struct sluice_error err = { 0 };
	struct sluice_object *obj = sluice_object_open(path, &opts, &err);
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	size_t first = b->nprogs, n;

	if (!obj) {
		fprintf(stderr, "bench_verifier: %s\n", err.msg);
		return -1;
	}
	n = sluice_object_prog_count(obj);
	if (b->nprogs + n > b->cap) {
		size_t cap = (b->nprogs + n) * 2;
		struct prog_result *progs = realloc(b->progs, cap * sizeof(*progs));

		if (!progs) {
			sluice_object_close(obj);
			return -ENOMEM;
		}
		b->progs = progs;
		b->cap = cap;
	}
	for (size_t i = 0; i < n; i++) {
		struct prog_result *r = &b->progs[b->nprogs++];

		memset(r, 0, sizeof(*r));
		snprintf(r->prog, sizeof(r->prog), "%s", sluice_prog_name(sluice_object_prog(obj, i)));
		snprintf(r->name, sizeof(r->name), "%s:%s", base, r->prog);
	}
	for (unsigned round = 0; round < b->rounds; round++) {
		if (kernel_round(path, b, first, round))
			break;
		sluice_round(obj, b, first, round);
	}
	sluice_object_close(obj);
	return 0;
}

static int bench_path(const char *path, struct bench *b)
{
	struct stat st;
	struct dirent **ents;
	int n, ret = 0;

	if (stat(path, &st)) {
		fprintf(stderr, "bench_verifier: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return bench_object(path, b);
	n = scandir(path, &ents, NULL, alphasort);
	if (n < 0) {
		fprintf(stderr, "bench_verifier: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		size_t len = strlen(ents[i]->d_name);
		char file[4096];

		if (len > 2 && !strcmp(ents[i]->d_name + len - 2, ".o")) {
			snprintf(file, sizeof(file), "%s/%s", path, ents[i]->d_name);
			if (bench_object(file, b))
				ret = -1;
		}
		free(ents[i]);
	}
	free(ents);
	return ret;
}

static void print_table(struct bench *b)
{
	double kernel_total = 0, sluice_total = 0, log_ratios = 0;
	unsigned compared = 0;

	printf("%-48s %6s %10s %10s %10s %10s %7s\n", "PROGRAM", "INSNS", "K_PROCESSED",
	       "S_PROCESSED", "KERNEL_US", "SLUICE_US", "K/S");
	for (size_t i = 0; i < b->nprogs; i++) {
		struct prog_result *r = &b->progs[i];
		double k, s;

		if (!r->kernel_ok || !r->sluice_ok) {
			printf("%-48.48s %6zu %10s %10s %10s %10s %7s\n", r->name, r->insns,
			       r->kernel_ok ? "ok" : "rejected", r->sluice_ok ? "ok" : "rejected",
			       "-", "-", "-");
			continue;
		}
		k = median(r->kernel_usec, b->rounds);
		s = median(r->sluice_usec, b->rounds);
		printf("%-48.48s %6zu %10" PRId64 " %10" PRIu64 " %10.0f %10.1f %7.2f\n", r->name,
		       r->insns, r->kernel_processed, r->sluice_processed, k, s, s > 0 ? k / s : 0);
		kernel_total += k;
		sluice_total += s;
		if (k > 0 && s > 0) {
			log_ratios += log(k / s);
			compared++;
		}
	}
	printf("\n%u programs both accept: kernel %.0f us, Sluice %.0f us in all (ratio %.2f); "
	       "geometric mean of the ratios %.2f\n",
	       compared, kernel_total, sluice_total, sluice_total > 0 ? kernel_total / sluice_total : 0,
	       compared ? exp(log_ratios / compared) : 0);
	printf("(the kernel reports whole microseconds: programs under a few us round hard)\n");
}

int main(int argc, char **argv)
{
	struct bench b = { .rounds = 5 };
	struct sluice_error err = { 0 };
	int i = 1;

	if (argc > 2 && !strcmp(argv[1], "--rounds")) {
		b.rounds = (unsigned)atoi(argv[2]);
		i = 3;
	}
	if (i >= argc || b.rounds < 1 || b.rounds > MAX_ROUNDS) {
		fprintf(stderr, "usage: bench_verifier [--rounds 1..%d] DIR|FILE.o...\n", MAX_ROUNDS);
		return 2;
	}
	if (sluice_kernel_probe(&err)) {
		fprintf(stderr, "bench_verifier: %s\n", err.msg);
		return 1;
	}
	for (; i < argc; i++)
		bench_path(argv[i], &b);
	print_table(&b);
	free(b.progs);
	return 0;
}
