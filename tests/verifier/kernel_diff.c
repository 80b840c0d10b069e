/* SPDX-License-Identifier: MIT */
/*
 * Sluice's verifier against the running kernel's, on vgen's programs: each
 * is loaded with BPF_PROG_LOAD as root (real maps, BTF func_info for its
 * functions, the log on rejection) and verified by sluice_verify with the
 * same maps, functions and program type, and the two verdicts compared.
 *
 *   kernel_diff [--count N] [--seed S] [--out DIR] [--min-agree PCT] [--runs N]
 *
 * Prints "N programs, A agree (P%), K kernel-only accept, S sluice-only
 * accept" and where the disagreements lie by what the programs exercise;
 * with --out, writes each disagreement (the program as assembly and both
 * logs) to DIR.  Fails (exit 1) when the agreement is below --min-agree or
 * when Sluice accepts any program the kernel rejects: such a program may
 * be unsafe, and is to be shown safe or fixed.  The ones whose rejection
 * the kernel's own log shows unfounded (enum unfounded) are counted apart,
 * written as unfounded-SEED.txt, and do not fail.  Exits 77 when the
 * kernel refuses bpf().
 *
 * With --runs N, every program Sluice accepts also runs N times in the
 * checked interpreter (Sluice's runtime, as an object: see vgen_elf) on
 * random packets with random map contents; a run that strays outside its
 * memory (EFAULT) means an unsafe acceptance and fails the test too.
 * Runs the runtime cannot make (a helper it lacks) are counted apart.
 */
#include <bpf/bpf.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/btf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sluice/disasm.h>
#include <sluice/kernel.h>
#include <sluice/maps.h>
#include <sluice/runtime.h>
#include <sluice/verifier.h>

#include "errmsg.h"
#include "vgen.h"
#include "../splitmix.h"

#define SKIP 77
/* Enough for the kernel's level-1 log of any vgen program; the tail is kept if not. */
#define KERNEL_LOG_SIZE (4u << 20)
/* Lines of a log written beside a disagreement: the error and what led there. */
#define LOG_TAIL_LINES 40

/*
 * A program Sluice accepts and the kernel rejects may be unsafe, and fails
 * the test, unless the kernel's log proves its rejection unfounded from the
 * kernel's own facts, not Sluice's.  A level-1 log holds only the path that
 * failed (the kernel rewinds it at each branch it goes back to), so the
 * last state it prints of a register is the one the failing instruction
 * saw.  What the kernel did not explore past the failure is left to the
 * checked runs.
 */
enum unfounded {
	/*
	 * The failing path never runs: the kernel's bounds of a register were
	 * empty on the edge of a branch it took ("REG INVARIANTS VIOLATION"),
	 * or its range and known bits of the register compared before the
	 * branch rule out that edge.
	 */
	UNFOUNDED_DEAD_PATH,
	/*
	 * A variable-offset stack access the kernel's ranges refuse, which
	 * the register's known bits keep inside the frame: the kernel's
	 * ranges do not learn from the bits (umax=65 with var_off=(0x33; 0x4c)
	 * leaves 63 at most).
	 */
	UNFOUNDED_STACK_BITS,
	UNFOUNDED__COUNT,
	UNFOUNDED_NOT = -1,
};

static const char *const unfounded_names[UNFOUNDED__COUNT] = {
	[UNFOUNDED_DEAD_PATH] = "the failing path cannot run",
	[UNFOUNDED_STACK_BITS] = "stack access inside the frame by the known bits",
};

struct tally {
	unsigned long programs, agree, kernel_only, sluice_only, kernel_accepts;
	unsigned long unfounded[UNFOUNDED__COUNT]; /* sluice-only accepts, by why the kernel erred */
	unsigned long ran, faulted, not_run; /* programs run checked, of them faulting, not runnable */
	unsigned long by_feature[VGEN__COUNT]; /* disagreements per feature of the program */
	unsigned long with_feature[VGEN__COUNT], kernel_accepts_with[VGEN__COUNT];
};

/* Program types vgen makes, each with its own program array (see create_maps). */
static const uint32_t prog_types[] = {
	BPF_PROG_TYPE_XDP, BPF_PROG_TYPE_SCHED_CLS, BPF_PROG_TYPE_SOCKET_FILTER,
};
#define NTYPES (sizeof(prog_types) / sizeof(prog_types[0]))

/* Where each function starts, as BTF func_info records (BTF_TYPE_FUNC for all). */
struct functions {
	struct bpf_func_info kernel[VGEN_MAX_INSNS];
	struct sluice_func_info sluice[VGEN_MAX_INSNS];
	size_t count;
};

struct kernel_side {
	int map_fds[VGEN_NMAPS];
	int progs_fds[NTYPES]; /* the program array, one per type */
	int btf_fd;
	struct bpf_insn insns[VGEN_MAX_INSNS];
	char *log;
};

static const char *tail_lines(const char *text, int n)
{
	const char *p = text + strlen(text);

	if (p > text && p[-1] == '\n')
		p--;
	while (p > text) {
		if (p[-1] == '\n' && --n == 0)
			break;
		p--;
	}
	return p;
}

/* ---- Rejections the kernel's own log shows unfounded (enum unfounded) -- */

static const char *line_start(const char *text, const char *p)
{
	while (p > text && p[-1] != '\n')
		p--;
	return p;
}

static const char *next_line(const char *p)
{
	p = strchr(p, '\n');
	return p ? p + 1 : NULL;
}

/* The pc of an instruction line ("13: (d6) if ..."), or -1 for another line. */
static long insn_line_pc(const char *line)
{
	unsigned pc;
	int n = 0;

	return sscanf(line, "%u: (%n", &pc, &n) == 1 && n ? (long)pc : -1;
}

#define VIOLATION "REG INVARIANTS VIOLATION ("

static bool dead_path(const char *log, const char *failed)
{
	for (const char *bug = strstr(log, VIOLATION); bug && bug < failed;
	     bug = strstr(bug + 1, VIOLATION)) {
		const char *line = line_start(log, bug), *jump, *to, *edge = bug + strlen(VIOLATION);
		long pc, next = -1;
		int off;

		if (line == log)
			continue;
		jump = line_start(log, line - 1);
		to = strstr(jump, " goto pc");
		pc = insn_line_pc(jump);
		if (pc < 0 || !to || to > line || sscanf(to, " goto pc%d", &off) != 1)
			continue;
		for (const char *l = next_line(bug); l && l < failed && next < 0; l = next_line(l))
			next = insn_line_pc(l);
		if ((next == pc + 1 && !strncmp(edge, "false_reg", 9)) ||
		    (next == pc + 1 + off && off && !strncmp(edge, "true_reg", 8)))
			return true;
	}
	return false;
}

/* The bounds the kernel prints of a register, raw: signed ones by their width. */
enum { B_UMIN, B_UMAX, B_SMIN, B_SMAX, B_UMIN32, B_UMAX32, B_SMIN32, B_SMAX32, B__COUNT };

/* From after "fp(" or "scalar(" to the closing parenthesis: "off=-64,smin=umin=51,...,var_off=(0x33; 0x4c))". */
static bool parse_bounds(const char *p, uint64_t b[B__COUNT], uint64_t *value, uint64_t *mask)
{
	static const char *const names[B__COUNT] = {
		"umin", "umax", "smin", "smax", "umin32", "umax32", "smin32", "smax32",
	};
	static const uint64_t unknown[B__COUNT] = {
		0, UINT64_MAX, (uint64_t)INT64_MIN, INT64_MAX, 0, UINT32_MAX, (uint64_t)INT32_MIN, INT32_MAX,
	};

	memcpy(b, unknown, sizeof(unknown));
	*value = 0;
	*mask = UINT64_MAX;
	while (*p && *p != ')') {
		if (!strncmp(p, "var_off=(", 9)) {
			if (sscanf(p + 9, "%" SCNx64 "; %" SCNx64, value, mask) != 2 || !(p = strchr(p, ')')))
				return false;
			p++;
		} else {
			/* "smax=umax=smax32=umax32=63": every name before the last = takes the number */
			size_t len = strcspn(p, ",)");
			const char *val = p + len;
			uint64_t x;

			while (val > p && val[-1] != '=')
				val--;
			if (val == p)
				return false;
			x = strtoull(val, NULL, 0);
			for (const char *name = p; name < val; name += strcspn(name, "=") + 1)
				for (int i = 0; i < B__COUNT; i++)
					if (strcspn(name, "=") == strlen(names[i]) &&
					    !strncmp(name, names[i], strlen(names[i])))
						b[i] = x;
			p += len;
		}
		if (*p == ',')
			p++;
	}
	return *p == ')';
}

/* The largest member of the known bits (value; mask) not above limit (value is not). */
static uint64_t tnum_max_upto(uint64_t value, uint64_t mask, uint64_t limit)
{
	for (uint64_t bit = UINT64_C(1) << 63; bit; bit >>= 1)
		if ((mask & bit) && (value | bit) <= limit)
			value |= bit;
	return value;
}

/* [*lo, *hi] narrowed to its least and largest members with the known bits; false: none. */
static bool tnum_span(uint64_t value, uint64_t mask, uint64_t *lo, uint64_t *hi)
{
	if (*lo > *hi || value > *hi || (value | mask) < *lo)
		return false;
	/* the least member from lo up is the complement of the largest up to ~lo */
	*lo = ~tnum_max_upto(~value & ~mask, mask, ~*lo);
	*hi = tnum_max_upto(value, mask, *hi);
	return *lo <= *hi;
}

/*
 * What the kernel last printed of register regno before `before`, from
 * after "R<regno>=", or NULL; NULL too when a function returned since: the
 * print may be of the callee's register.
 */
static const char *last_state(const char *log, const char *before, unsigned regno)
{
	const char *state = NULL, *ret;
	char needle[16];

	snprintf(needle, sizeof(needle), " R%u=", regno);
	for (const char *p = strstr(log, needle); p && p < before; p = strstr(p + 1, needle))
		state = p + strlen(needle);
	ret = state ? strstr(state, "(95) exit") : NULL;
	return ret && ret < before ? NULL : state;
}

static bool stack_bits_in_frame(const char *log, const char *failed)
{
	uint64_t value, mask, pvalue, pmask, b[B__COUNT];
	unsigned regno, size;
	const char *state;
	int64_t lo, hi;
	int off;

	if (sscanf(failed, "invalid variable-offset %*s %*s stack R%u var_off=(%" SCNx64 "; %" SCNx64 ") off=%d size=%u",
		   &regno, &value, &mask, &off, &size) != 5)
		return false;
	state = last_state(log, failed, regno);
	if (!state || strncmp(state, "fp(", 3) || !parse_bounds(state + 3, b, &pvalue, &pmask) ||
	    pvalue != value || pmask != mask)
		return false;
	lo = (int64_t)b[B_SMIN];
	hi = (int64_t)b[B_SMAX];
	/* Within 32 signed bits the number is its low half. */
	if (lo >= INT32_MIN && hi <= INT32_MAX) {
		lo = lo > (int32_t)b[B_SMIN32] ? lo : (int32_t)b[B_SMIN32];
		hi = hi < (int32_t)b[B_SMAX32] ? hi : (int32_t)b[B_SMAX32];
	}
	if (lo >= 0 && lo <= hi) {
		uint64_t ulo = (uint64_t)lo > b[B_UMIN] ? (uint64_t)lo : b[B_UMIN];
		uint64_t uhi = (uint64_t)hi < b[B_UMAX] ? (uint64_t)hi : b[B_UMAX];

		if (uhi <= UINT32_MAX) {
			ulo = ulo > b[B_UMIN32] ? ulo : b[B_UMIN32];
			uhi = uhi < b[B_UMAX32] ? uhi : b[B_UMAX32];
		}
		if (!tnum_span(value, mask, &ulo, &uhi))
			return true; /* no number is all of that: the access never runs */
		lo = (int64_t)ulo;
		hi = (int64_t)uhi;
	}
	/* [lo + off, hi + off + size) within [-512, 0), said without overflow */
	return lo > hi || (lo >= -SLUICE_STACK_SIZE - (int64_t)off &&
			   hi <= -(int64_t)off - (int64_t)size);
}

/*
 * Can x <cmp> k hold for an x of [lo, hi] with the known bits (value;
 * mask)?  For the unsigned comparisons; -1 for the others.
 */
static int unsigned_cmp_possible(const char *cmp, uint64_t lo, uint64_t hi, uint64_t value,
				 uint64_t mask, uint64_t k)
{
	if (!tnum_span(value, mask, &lo, &hi))
		return 0;
	if (!strcmp(cmp, "<"))
		return lo < k;
	if (!strcmp(cmp, "<="))
		return lo <= k;
	if (!strcmp(cmp, ">"))
		return hi > k;
	if (!strcmp(cmp, ">="))
		return hi >= k;
	return -1;
}

/* The fall-through edge of each unsigned comparison holds its opposite. */
static const char *unsigned_opposite(const char *cmp)
{
	static const char *const pairs[][2] = { { "<", ">=" }, { "<=", ">" }, { ">", "<=" }, { ">=", "<" } };

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		if (!strcmp(cmp, pairs[i][0]))
			return pairs[i][1];
	return NULL;
}

/* A branch of the failing path whose edge the kernel's facts before it rule out. */
static bool dead_branch(const char *log, const char *failed)
{
	for (const char *line = log; line && line < failed; line = next_line(line)) {
		uint64_t b[B__COUNT], value, mask;
		unsigned pc, code, regno;
		const char *cmp, *state;
		char width, op[4];
		long next = -1;
		uint32_t imm;
		int off, possible;

		if (sscanf(line, "%u: (%x) if %c%u %3s 0x%" SCNx32 " goto pc%d", &pc, &code, &width, &regno,
			   op, &imm, &off) != 7 || (width != 'r' && width != 'w') || !off)
			continue;
		for (const char *l = next_line(line); l && l < failed && next < 0; l = next_line(l))
			next = insn_line_pc(l);
		cmp = next == (long)pc + 1 ? unsigned_opposite(op) : next == (long)pc + 1 + off ? op : NULL;
		state = last_state(log, line, regno);
		if (!cmp || !state || strncmp(state, "scalar(", 7) || !parse_bounds(state + 7, b, &value, &mask))
			continue;
		if (width == 'w')
			possible = unsigned_cmp_possible(cmp, b[B_UMIN32], b[B_UMAX32], value & UINT32_MAX,
							 mask & UINT32_MAX, imm);
		else /* the kernel prints the immediate unextended */
			possible = unsigned_cmp_possible(cmp, b[B_UMIN], b[B_UMAX], value, mask,
							 (uint64_t)(int64_t)(int32_t)imm);
		if (!possible)
			return true;
	}
	return false;
}

/* Why the kernel's rejection (its log) is unfounded, or UNFOUNDED_NOT. */
static enum unfounded unfounded_rejection(const char *log)
{
	const char *end = strstr(log, "\nprocessed ");
	const char *failed = end ? line_start(log, end) : NULL;

	if (!failed)
		return UNFOUNDED_NOT;
	if (dead_path(log, failed) || dead_branch(log, failed))
		return UNFOUNDED_DEAD_PATH;
	if (stack_bits_in_frame(log, failed))
		return UNFOUNDED_STACK_BITS;
	return UNFOUNDED_NOT;
}

/*
 * The maps, created once.  A program array belongs to the first program
 * type loaded with it (the kernel refuses others after verifying them), so
 * each type gets its own.
 */
static int create_maps(struct kernel_side *k)
{
	for (size_t i = 0; i < VGEN_NMAPS + NTYPES; i++) {
		const struct sluice_map_def *m = vgen_maps[i < VGEN_NMAPS ? i : VGEN_MAP_PROGS];
		int *fd = i < VGEN_NMAPS ? &k->map_fds[i] : &k->progs_fds[i - VGEN_NMAPS];

		*fd = bpf_map_create(m->type, m->name, m->key_size, m->value_size, m->max_entries, NULL);
		if (*fd < 0) {
			fprintf(stderr, "kernel_diff: creating map %s: %s\n", m->name, strerror(errno));
			return -1;
		}
	}
	return 0;
}

static void close_maps(struct kernel_side *k)
{
	for (size_t i = 0; i < VGEN_NMAPS; i++)
		close(k->map_fds[i]);
	for (size_t i = 0; i < NTYPES; i++)
		close(k->progs_fds[i]);
}

/*
 * The BTF func_info needs (the kernel wants it for programs with
 * callbacks): int, void *, int (void *ctx), and static functions "vgen"
 * (main) and "vgen_f" (every other) of that type.
 */
enum { BTF_TYPE_INT = 1, BTF_TYPE_PTR, BTF_TYPE_PROTO, BTF_TYPE_MAIN, BTF_TYPE_FUNC };

static int load_btf(void)
{
	static const char strings[] = "\0int\0ctx\0vgen\0vgen_f";
	static const uint32_t types[] = {
		1, BTF_KIND_INT << 24, 4, BTF_INT_SIGNED << 24 | 32,       /* int */
		0, BTF_KIND_PTR << 24, 0,                                  /* void * */
		0, BTF_KIND_FUNC_PROTO << 24 | 1, BTF_TYPE_INT, 5, BTF_TYPE_PTR, /* int (void *ctx) */
		9, BTF_KIND_FUNC << 24, BTF_TYPE_PROTO,                    /* static vgen */
		14, BTF_KIND_FUNC << 24, BTF_TYPE_PROTO,                   /* static vgen_f */
	};
	struct {
		struct btf_header h;
		uint32_t types[sizeof(types) / sizeof(types[0])];
		char strings[sizeof(strings)];
	} blob = {
		.h = { .magic = BTF_MAGIC, .version = BTF_VERSION, .hdr_len = sizeof(blob.h),
		       .type_len = sizeof(types), .str_off = sizeof(types), .str_len = sizeof(strings) },
	};

	memcpy(blob.types, types, sizeof(types));
	memcpy(blob.strings, strings, sizeof(strings));
	/* the exact size: padding after the strings would read as an unknown section */
	return bpf_btf_load(&blob, sizeof(blob.h) + sizeof(types) + sizeof(strings), NULL);
}

static int compare_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* main at 0, and every function a call or bpf_loop names. */
static void find_functions(const struct vgen_prog *p, struct functions *f)
{
	static uint32_t starts[VGEN_MAX_INSNS];
	size_t n = 0;

	starts[n++] = 0;
	for (size_t pc = 0; pc < p->count; pc++) {
		const struct sluice_insn *in = &p->insns[pc];

		if ((in->code == (BPF_JMP | BPF_CALL) && in->src == BPF_PSEUDO_CALL) ||
		    (in->code == (BPF_LD | BPF_IMM | BPF_DW) && in->src == BPF_PSEUDO_FUNC))
			starts[n++] = (uint32_t)((int64_t)pc + in->imm + 1);
	}
	qsort(starts, n, sizeof(starts[0]), compare_u32);
	f->count = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t type = starts[i] ? BTF_TYPE_FUNC : BTF_TYPE_MAIN;

		if (f->count && f->sluice[f->count - 1].insn == starts[i])
			continue;
		f->kernel[f->count] = (struct bpf_func_info){ .insn_off = starts[i], .type_id = type };
		f->sluice[f->count++] = (struct sluice_func_info){ .insn = starts[i], .type_id = type };
	}
}

/*
 * The kernel's verdict: 1 accepted, 0 rejected (with its log in k->log),
 * -1 when bpf() itself was refused (errno EPERM), which only the first
 * program can meet.
 */
static int kernel_verdict(struct kernel_side *k, const struct vgen_prog *p,
			  const struct functions *f)
{
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .prog_btf_fd = (uint32_t)k->btf_fd,
		    .func_info = f->kernel, .func_info_cnt = (uint32_t)f->count,
		    .func_info_rec_size = sizeof(f->kernel[0]));
	size_t type_slot = 0;
	size_t len;
	int fd;

	while (type_slot + 1 < NTYPES && prog_types[type_slot] != p->prog_type)
		type_slot++;
	for (size_t i = 0; i < p->count; i++) {
		const struct sluice_insn *in = &p->insns[i];

		k->insns[i] = (struct bpf_insn){
			.code = in->code, .dst_reg = in->dst, .src_reg = in->src,
			.off = in->off, .imm = in->imm,
		};
		/* lddw of a map: the index vgen wrote becomes the map's fd */
		if (in->code == (BPF_LD | BPF_IMM | BPF_DW) && in->src == BPF_PSEUDO_MAP_FD &&
		    in->imm >= 0 && in->imm < VGEN_NMAPS)
			k->insns[i].imm = in->imm == VGEN_MAP_PROGS ? k->progs_fds[type_slot] :
								   k->map_fds[in->imm];
	}
	/* no log on the first try: a level-1 log of an accepted program is only noise */
	fd = bpf_prog_load(p->prog_type, "vgen", "GPL", k->insns, p->count, &opts);
	if (fd >= 0) {
		close(fd);
		return 1;
	}
	if (errno == EPERM)
		return -1;
	opts.log_buf = k->log;
	opts.log_size = KERNEL_LOG_SIZE;
	opts.log_level = 1;
	k->log[0] = '\0';
	fd = bpf_prog_load(p->prog_type, "vgen", "GPL", k->insns, p->count, &opts);
	if (fd >= 0) { /* accepted the second time: never expected, but the kernel has the last word */
		close(fd);
		return 1;
	}
	/* the verifier's statistics may be all the log says when a later step refused */
	len = strlen(k->log);
	snprintf(k->log + len, KERNEL_LOG_SIZE - len, "bpf(BPF_PROG_LOAD): %s\n", strerror(errno));
	return 0;
}

static const char *type_name(uint32_t type)
{
	return type == BPF_PROG_TYPE_XDP ? "xdp" : type == BPF_PROG_TYPE_SCHED_CLS ? "tc" : "socket";
}

static void write_disagreement(const char *dir, uint64_t seed, const struct vgen_prog *p,
			       bool kernel_accepted, const char *kernel_log,
			       const struct sluice_verdict *v, enum unfounded why)
{
	struct sluice_error err = { 0 };
	char path[4096], *text = NULL;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s-%" PRIu64 ".txt", dir,
		 kernel_accepted ? "kernel-only" : why == UNFOUNDED_NOT ? "sluice-only" : "unfounded",
		 seed);
	f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "kernel_diff: %s: %s\n", path, strerror(errno));
		return;
	}
	fprintf(f, "seed %" PRIu64 ", type %s, features", seed, type_name(p->prog_type));
	for (int i = 0; i < VGEN__COUNT; i++)
		if (p->features & (1u << i))
			fprintf(f, " %s", vgen_feature_names[i]);
	fprintf(f, "\nkernel: %s; sluice: %s at pc %zu\n\n",
		kernel_accepted ? "accepted" : "rejected", v->accepted ? "accepted" : "rejected",
		v->error_pc);
	if (why != UNFOUNDED_NOT)
		fprintf(f, "the kernel's log shows its rejection unfounded: %s\n\n", unfounded_names[why]);
	if (sluice_disasm(p->insns, p->count, SLUICE_DISASM_ASM, &text, &err) == 0)
		fprintf(f, "%s\n", text);
	else
		fprintf(f, "(no disassembly: %s)\n\n", err.msg);
	free(text);
	fprintf(f, "--- kernel log (tail)\n%s\n", kernel_accepted ? "" : tail_lines(kernel_log, LOG_TAIL_LINES));
	fprintf(f, "--- sluice log\n%s\n", v->log ? v->log : "");
	fclose(f);
}

static bool is_directory(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISDIR(st.st_mode);
}

/* Disagreements of an earlier run would read as this one's. */
static void clear_disagreements(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *ent;
	char path[4096];

	if (!d)
		return;
	while ((ent = readdir(d))) {
		if (strncmp(ent->d_name, "kernel-only-", 12) && strncmp(ent->d_name, "sluice-only-", 12) &&
		    strncmp(ent->d_name, "unfounded-", 10))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, ent->d_name);
		unlink(path);
	}
	closedir(d);
}

static void fill_random(uint64_t *state, uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)splitmix_next(state);
}

static void ignore_trace(void *ctx, const char *line)
{
	(void)ctx;
	(void)line;
}

/* Random values under every array key and some hash keys. */
static int fill_maps(struct sluice_rt *rt, uint64_t *state, struct sluice_error *err)
{
	uint8_t value[64];

	for (int m = 0; m < VGEN_NMAPS; m++) {
		const struct sluice_map_def *d = vgen_maps[m];
		struct sluice_map *map = sluice_rt_find_map(rt, d->name);

		if (d->type != BPF_MAP_TYPE_ARRAY && d->type != BPF_MAP_TYPE_HASH)
			continue; /* the ring buffer and the (empty) program array hold no data */
		if (!map)
			return sluice_fail(err, ENOENT, "no map %s in the runtime", d->name);
		for (uint64_t key = 0; key < d->max_entries && key < 10; key++) {
			if (d->type == BPF_MAP_TYPE_HASH && splitmix_next(state) % 2)
				continue;
			fill_random(state, value, d->value_size);
			if (sluice_map_update(map, &key, value, BPF_ANY, err))
				return -1;
		}
	}
	return 0;
}

/*
 * Run an accepted program `runs` times, checked: 1 when a run strayed
 * (err says where), 0 when none did, -1 when the runtime could not run it.
 */
static int run_checked(const struct vgen_prog *p, uint64_t seed, unsigned runs,
		       struct sluice_error *err)
{
	static uint8_t elf[1 << 16];
	struct sluice_object_opts oopts = { .sz = sizeof(oopts), .no_core = true };
	struct sluice_rt_opts ropts = { .sz = sizeof(ropts), .checked = true, .trace = ignore_trace };
	size_t size = vgen_elf(p, elf, sizeof(elf));
	struct sluice_object *obj;
	struct sluice_rt *rt = NULL;
	struct sluice_rt_prog *prog;
	uint64_t state = seed;
	uint8_t packet[256];
	int ret = -1;

	if (!size) {
		sluice_fail(err, EINVAL, "no ELF object for the program");
		return -1;
	}
	obj = sluice_object_open_mem(elf, size, "vgen.o", &oopts, err);
	if (!obj)
		return -1;
	rt = sluice_rt_load(obj, &ropts, err);
	prog = rt ? sluice_rt_find_prog(rt, "vgen") : NULL;
	if (rt && !prog)
		sluice_fail(err, ENOENT, "no program vgen in the runtime");
	if (prog && !fill_maps(rt, &state, err)) {
		ret = 0;
		for (unsigned i = 0; i < runs && !ret; i++) {
			struct sluice_test_run run = {
				.sz = sizeof(run), .data_in = packet,
				.data_size_in = 14 + (uint32_t)(splitmix_next(&state) % (sizeof(packet) - 13)),
			};

			fill_random(&state, packet, run.data_size_in);
			if (sluice_rt_test_run(prog, &run, err))
				ret = err->code == EFAULT ? 1 : -1;
		}
	}
	if (rt)
		sluice_rt_free(rt);
	sluice_object_close(obj);
	return ret;
}

static int usage(void)
{
	fprintf(stderr, "usage: kernel_diff [--count N] [--seed S] [--out DIR] [--min-agree PCT] "
			"[--runs N]\n");
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 's' },
		{ "out", required_argument, NULL, 'o' },
		{ "min-agree", required_argument, NULL, 'a' },
		{ "runs", required_argument, NULL, 'r' },
		{ 0 },
	};
	static struct kernel_side kernel;
	static struct vgen_prog prog;
	static struct functions functions;
	struct sluice_error err = { 0 };
	struct tally t = { 0 };
	unsigned long count = 3000, runs = 0;
	char first_not_run[SLUICE_ERRMSG_MAX + 32] = "";
	uint64_t first_seed = 1;
	double min_agree = 0, agree_pct;
	const char *out_dir = NULL;
	char *end;
	int opt, status = 0;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'n':
			count = strtoul(optarg, &end, 10);
			if (*end || !count)
				return usage();
			break;
		case 's':
			first_seed = strtoull(optarg, &end, 0);
			if (*end)
				return usage();
			break;
		case 'o':
			out_dir = optarg;
			break;
		case 'r':
			runs = strtoul(optarg, &end, 10);
			if (*end)
				return usage();
			break;
		case 'a':
			min_agree = strtod(optarg, &end);
			if (*end || min_agree < 0 || min_agree > 100)
				return usage();
			break;
		default:
			return usage();
		}
	}
	if (optind != argc)
		return usage();
	if (sluice_kernel_probe(&err)) {
		printf("SKIP: %s\n", err.msg);
		return SKIP;
	}
	if (out_dir && mkdir(out_dir, 0755) && (errno != EEXIST || !is_directory(out_dir))) {
		fprintf(stderr, "kernel_diff: %s: %s\n", out_dir,
			errno == EEXIST ? "exists and is not a directory" : strerror(errno));
		return 2;
	}
	if (out_dir)
		clear_disagreements(out_dir);
	kernel.btf_fd = load_btf();
	if (kernel.btf_fd < 0) {
		fprintf(stderr, "kernel_diff: loading BTF: %s\n", strerror(errno));
		return 2;
	}
	kernel.log = malloc(KERNEL_LOG_SIZE);
	if (!kernel.log || create_maps(&kernel)) {
		free(kernel.log);
		close(kernel.btf_fd);
		return 2;
	}

	for (uint64_t seed = first_seed; seed < first_seed + count; seed++) {
		struct sluice_verifier_opts opts = {
			.sz = sizeof(opts), .gpl = true,
			.maps = vgen_maps, .nmaps = VGEN_NMAPS,
		};
		struct sluice_verdict v = { 0 };
		int kernel_accepted;

		vgen_generate(seed, &prog);
		find_functions(&prog, &functions);
		kernel_accepted = kernel_verdict(&kernel, &prog, &functions);
		if (kernel_accepted < 0) {
			printf("SKIP: the kernel refused BPF_PROG_LOAD: %s\n", strerror(errno));
			status = SKIP;
			break;
		}
		opts.prog_type = prog.prog_type;
		opts.funcs = functions.sluice;
		opts.nfuncs = functions.count;
		if (sluice_verify(prog.insns, prog.count, &opts, &v, &err)) {
			fprintf(stderr, "kernel_diff: seed %" PRIu64 ": sluice_verify failed: %s\n",
				seed, err.msg);
			sluice_verdict_release(&v);
			status = 1;
			break;
		}
		t.programs++;
		t.kernel_accepts += (unsigned long)kernel_accepted;
		for (int i = 0; i < VGEN__COUNT; i++) {
			t.with_feature[i] += !!(prog.features & (1u << i));
			t.kernel_accepts_with[i] += (prog.features & (1u << i)) && kernel_accepted;
		}
		if (runs && v.accepted) {
			int ran = run_checked(&prog, seed, (unsigned)runs, &err);

			t.ran += ran >= 0;
			t.faulted += ran > 0;
			t.not_run += ran < 0;
			if (ran > 0)
				printf("seed %" PRIu64 ": accepted, but a checked run faulted: %s\n", seed,
				       err.msg);
			if (ran < 0 && !first_not_run[0])
				snprintf(first_not_run, sizeof(first_not_run), "seed %" PRIu64 ": %s", seed,
					 err.msg);
		}
		if (v.accepted == (kernel_accepted == 1)) {
			t.agree++;
		} else {
			enum unfounded why = kernel_accepted ? UNFOUNDED_NOT : unfounded_rejection(kernel.log);

			if (kernel_accepted)
				t.kernel_only++;
			else if (why == UNFOUNDED_NOT)
				t.sluice_only++;
			else
				t.unfounded[why]++;
			for (int i = 0; i < VGEN__COUNT; i++)
				t.by_feature[i] += !!(prog.features & (1u << i));
			if (out_dir)
				write_disagreement(out_dir, seed, &prog, kernel_accepted, kernel.log, &v,
						   why);
		}
		sluice_verdict_release(&v);
	}
	close_maps(&kernel);
	close(kernel.btf_fd);
	free(kernel.log);
	if (status)
		return status;

	agree_pct = 100.0 * (double)t.agree / (double)t.programs;
	printf("%lu programs, %lu agree (%.3f%%), %lu kernel-only accept, %lu sluice-only accept\n",
	       t.programs, t.agree, agree_pct, t.kernel_only, t.sluice_only);
	for (int i = 0; i < UNFOUNDED__COUNT; i++)
		if (t.unfounded[i])
			printf("and %lu sluice-only accept%s the kernel's log shows safe: %s\n",
			       t.unfounded[i], t.unfounded[i] == 1 ? "" : "s", unfounded_names[i]);
	printf("the kernel accepted %lu (%.1f%%); by what the program exercises:", t.kernel_accepts,
	       100.0 * (double)t.kernel_accepts / (double)t.programs);
	for (int i = 0; i < VGEN__COUNT; i++)
		if (t.with_feature[i])
			printf(" %s %lu/%lu", vgen_feature_names[i], t.kernel_accepts_with[i],
			       t.with_feature[i]);
	printf("\n");
	if (t.agree < t.programs) {
		printf("disagreements by what the program exercises:");
		for (int i = 0; i < VGEN__COUNT; i++)
			if (t.by_feature[i])
				printf(" %s %lu", vgen_feature_names[i], t.by_feature[i]);
		printf("\n");
	}
	if (runs)
		printf("%lu accepted programs ran %lu times each, checked: %lu faulted; %lu could not "
		       "run%s%s\n", t.ran + t.not_run, runs, t.faulted, t.not_run,
		       first_not_run[0] ? ", first: " : "", first_not_run);
	if (t.faulted) {
		printf("FAIL: %lu accepted program%s strayed outside their memory\n", t.faulted,
		       t.faulted == 1 ? "" : "s");
		return 1;
	}
	if (t.sluice_only) {
		printf("FAIL: Sluice accepted %lu program%s the kernel rejects%s%s\n", t.sluice_only,
		       t.sluice_only == 1 ? "" : "s", out_dir ? ", see " : "", out_dir ? out_dir : "");
		return 1;
	}
	if (agree_pct < min_agree) {
		printf("FAIL: agreement %.2f%% is below %.2f%%\n", agree_pct, min_agree);
		return 1;
	}
	return 0;
}
