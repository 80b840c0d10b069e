/* SPDX-License-Identifier: MIT */
/*
 * test_relocations DIR...: Sluice's loader against libbpf, on every program
 * of every *.o in the directories (the corpus of real objects, the examples).
 *
 * For each program, libbpf's final instructions come from the kernel
 * backend: after the kernel accepted the program (bpf_program__insns), or,
 * when the kernel refuses it (lockdown, a missing attach target, a CO-RE
 * poison), taken right before libbpf's load call.  Sluice's come from
 * sluice_prog_insns().  They must be equal slot for slot, except that map
 * references are compared by identity: both sides give a map index, each
 * into its own object's maps, and the maps' names must match (and for
 * map-value references the offset too).
 *
 * Prints a line per difference, then "N programs compared, N matched, N
 * mismatched, N skipped (why)".  Exit 0 when every difference is in the
 * allow-list below, 1 otherwise, 77 (a skip for ctest) when the kernel
 * refuses bpf() so that libbpf can prepare nothing.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/disasm.h>
#include <sluice/insn.h>
#include <sluice/kernel.h>
#include <sluice/object.h>

#define SKIP 77
#define MAX_LINES_PER_PROG 8  /* a systematic difference shows in the first few */
#define PSEUDO_MAP_FD 1       /* BPF_PSEUDO_MAP_FD */
#define PSEUDO_MAP_VALUE 2    /* BPF_PSEUDO_MAP_VALUE */
#define LDDW 0x18             /* BPF_LD | BPF_IMM | BPF_DW */

/*
 * Differences that are understood and accepted.  Each entry names the
 * object file, the program, and why the two loaders may differ there.
 */
static const struct allowed {
	const char *object;
	const char *prog;
	const char *why;
} allowed[] = {
	{ NULL, NULL, NULL },
};

struct tally {
	size_t compared, matched, mismatched, allowed, skipped;
	size_t after_load; /* libbpf's side read after the kernel accepted the program */
};

static const struct allowed *find_allowed(const char *object, const char *prog)
{
	for (const struct allowed *a = allowed; a->object; a++)
		if (!strcmp(a->object, object) && !strcmp(a->prog, prog))
			return a;
	return NULL;
}

static bool is_map_ref(const struct sluice_insn *in)
{
	return in->code == LDDW && (in->src == PSEUDO_MAP_FD || in->src == PSEUDO_MAP_VALUE);
}

/* What one side says at pc: its disassembly, and the map it names. */
static void describe(const struct sluice_insn *insns, size_t count, size_t pc,
		     const char *map, char *buf, size_t size)
{
	int n;

	if (pc >= count) {
		snprintf(buf, size, "(end of program)");
		return;
	}
	sluice_disasm_insn(insns, count, pc, SLUICE_DISASM_LLVM, buf, size);
	n = (int)strlen(buf);
	if (map && (size_t)n < size)
		snprintf(buf + n, size - (size_t)n, "  ; map '%s'", map);
}

struct side {
	const struct sluice_insn *insns;
	size_t count;
};

struct pair {
	const char *object, *prog;
	struct side libbpf, sluice;
	const struct sluice_kernel_object *kobj;
	const struct sluice_object *sobj;
	size_t differences;
};

static const char *libbpf_map(const struct pair *p, size_t pc)
{
	const struct sluice_insn *in = &p->libbpf.insns[pc];

	if (pc >= p->libbpf.count || !is_map_ref(in))
		return NULL;
	return sluice_kernel_map_name(p->kobj, (size_t)in->imm);
}

static const char *sluice_map(const struct pair *p, size_t pc)
{
	const struct sluice_insn *in = &p->sluice.insns[pc];
	const struct sluice_map_def *def;

	if (pc >= p->sluice.count || !is_map_ref(in))
		return NULL;
	def = in->imm >= 0 ? sluice_object_map(p->sobj, (size_t)in->imm) : NULL;
	return def ? def->name : "(no such map)";
}

static void report(struct pair *p, size_t pc)
{
	char a[160], b[160];

	if (p->differences++ >= MAX_LINES_PER_PROG)
		return;
	describe(p->libbpf.insns, p->libbpf.count, pc, libbpf_map(p, pc), a, sizeof(a));
	describe(p->sluice.insns, p->sluice.count, pc, sluice_map(p, pc), b, sizeof(b));
	printf("MISMATCH %s %s pc %zu: libbpf: %s | sluice: %s\n", p->object, p->prog, pc, a, b);
}

/* Slots at pc equal, maps by name: how many slots they take, 0 if they differ. */
static size_t same_insn(const struct pair *p, size_t pc)
{
	const struct sluice_insn *l = &p->libbpf.insns[pc], *s = &p->sluice.insns[pc];
	size_t slots = sluice_insn_slots(l);
	const char *lm, *sm;

	if (pc + slots > p->libbpf.count || pc + slots > p->sluice.count)
		return 0;
	if (!is_map_ref(l) || !is_map_ref(s))
		return memcmp(l, s, slots * sizeof(*l)) ? 0 : slots;
	lm = libbpf_map(p, pc);
	sm = sluice_map(p, pc);
	if (l->code != s->code || l->dst != s->dst || l->src != s->src || l->off != s->off ||
	    !lm || !sm || strcmp(lm, sm) || memcmp(&l[1], &s[1], sizeof(*l)))
		return 0;
	return slots;
}

static void compare(struct pair *p)
{
	size_t pc = 0;

	if (p->libbpf.count != p->sluice.count)
		printf("MISMATCH %s %s: libbpf has %zu slots, sluice %zu\n", p->object, p->prog,
		       p->libbpf.count, p->sluice.count);
	while (pc < p->libbpf.count && pc < p->sluice.count) {
		size_t slots = same_insn(p, pc);

		if (!slots) {
			report(p, pc);
			slots = 1;
		}
		pc += slots;
	}
	if (p->differences > MAX_LINES_PER_PROG)
		printf("MISMATCH %s %s: %zu more differing instructions\n", p->object, p->prog,
		       p->differences - MAX_LINES_PER_PROG);
	if (p->libbpf.count != p->sluice.count && !p->differences)
		p->differences = 1;
}

static void count_difference(struct tally *t, const char *object, const char *prog)
{
	const struct allowed *a = find_allowed(object, prog);

	if (a) {
		printf("ALLOWED %s %s: %s\n", object, prog, a->why);
		t->allowed++;
	} else {
		t->mismatched++;
	}
}

static void check_object(const char *dir, const char *file, struct tally *t)
{
	struct sluice_error kerr = { 0 }, serr = { 0 };
	struct sluice_kernel_object *kobj;
	struct sluice_object *sobj;
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	kobj = sluice_kernel_open(path, NULL, &kerr);
	if (!kobj) {
		printf("SKIP %s: %s\n", file, kerr.msg);
		t->skipped++;
		return;
	}
	sobj = sluice_object_open(path, NULL, &serr);
	for (size_t i = 0; i < sluice_kernel_prog_count(kobj); i++) {
		struct pair p = { .object = file, .prog = sluice_kernel_prog_name(kobj, i),
				  .kobj = kobj, .sobj = sobj };
		const struct sluice_prog *sp;
		struct sluice_kernel_verdict v;

		/* loaded first, so that accepted programs compare after the load */
		if (sluice_kernel_load_prog(kobj, i, &v, &kerr) ||
		    sluice_kernel_prog_insns(kobj, i, &p.libbpf.insns, &p.libbpf.count, &kerr)) {
			printf("SKIP %s %s: %s\n", file, p.prog, kerr.msg);
			t->skipped++;
			continue;
		}
		t->compared++;
		t->after_load += v.accepted;
		sp = sobj ? sluice_object_find_prog(sobj, p.prog) : NULL;
		if (!sp) {
			printf("MISMATCH %s %s: %s\n", file, p.prog,
			       sobj ? "Sluice has no program of that name" : serr.msg);
			count_difference(t, file, p.prog);
			continue;
		}
		p.sluice.insns = sluice_prog_insns(sp, &p.sluice.count);
		compare(&p);
		if (p.differences)
			count_difference(t, file, p.prog);
		else
			t->matched++;
	}
	sluice_object_close(sobj);
	sluice_kernel_close(kobj);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_object(const struct dirent *d)
{
	size_t len = strlen(d->d_name);

	return len > 2 && !strcmp(d->d_name + len - 2, ".o");
}

int main(int argc, char **argv)
{
	struct sluice_error err = { 0 };
	struct tally t = { 0 };

	if (argc < 2) {
		fprintf(stderr, "usage: test_relocations DIR...\n");
		return 2;
	}
	if (sluice_kernel_probe(&err)) {
		printf("SKIP: %s: libbpf can prepare no program here\n", err.msg);
		return SKIP;
	}
	for (int a = 1; a < argc; a++) {
		struct dirent **names;
		int n = scandir(argv[a], &names, is_object, by_name);

		/* an empty directory would make the test pass on nothing */
		if (n <= 0) {
			printf("FAIL %s: no objects there\n", argv[a]);
			return 1;
		}
		for (int i = 0; i < n; i++) {
			check_object(argv[a], names[i]->d_name, &t);
			free(names[i]);
		}
		free(names);
	}
	printf("%zu programs compared (%zu after the kernel accepted them, %zu taken before a "
	       "load it refused), %zu matched, %zu mismatched, %zu allowed, %zu skipped%s\n",
	       t.compared, t.after_load, t.compared - t.after_load, t.matched, t.mismatched,
	       t.allowed, t.skipped, t.skipped ? " (libbpf cannot prepare them: SKIP lines above)" : "");
	return t.mismatched || !t.compared ? 1 : 0;
}
