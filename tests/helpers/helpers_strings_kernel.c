/* SPDX-License-Identifier: MIT */
/*
 * The string helpers against the running kernel's: bpf_snprintf (the
 * formats it refuses and what it prints for the others: numbers,
 * characters, strings, flags, widths; bpf_trace_printk and
 * bpf_trace_vprintk share its format code, in the kernel and in Sluice)
 * and bpf_strtol / bpf_strtoul (what they take and the errors they give).
 * Each case runs in the kernel as a syscall program, which copies the
 * case's input from its context to its stack, calls the helper and copies
 * the results back; the same helper is called in Sluice through the
 * registry.  Exits 77 where bpf() is refused; prints each disagreement and
 * fails when there is one.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "helpers.h"
#include "helpers/impl.h"

/* The context: the input at 0, the results at RESULT_OFF. */
#define INPUT_SIZE 80
#define RESULT_OFF INPUT_SIZE
#define RESULT_SIZE 48
#define CTX_SIZE (RESULT_OFF + RESULT_SIZE)

struct format_case {
	const char *fmt;
	uint64_t args[6];
	uint32_t nargs;
	/* arguments that are strings of this process, read by the kernel as user memory */
	const char *strings[3];
};

static const struct format_case formats[] = {
	{ .fmt = "plain text" },
	{ .fmt = "tab\tand\nnewline" },
	{ .fmt = "%d %i %u %x %X", .nargs = 5,
	  .args = { (uint64_t)-7, 0x1ffffffffull, (uint64_t)-1, 0xbeef, 0xbeef } },
	{ .fmt = "%ld %lu %lx", .nargs = 3,
	  .args = { (uint64_t)-7, (uint64_t)-1, 0xdeadbeefcafeull } },
	{ .fmt = "%lld %llu %llx %llX", .nargs = 4,
	  .args = { (uint64_t)-1, 1ull << 63, 0xabcull, 0xabcull } },
	{ .fmt = "[%5d][%-5d][%05d][%+d][% d]", .nargs = 5, .args = { 42, 42, 42, 42, 42 } },
	{ .fmt = "[%08llx][%-3u][%3c]", .nargs = 3, .args = { 0xabcdull, 7, 'q' } },
	{ .fmt = "%c%c%c", .nargs = 3, .args = { 'a', 'b', 0x163 } },
	{ .fmt = "100%% %d%%", .nargs = 1, .args = { 5 } },
	{ .fmt = "%d", .nargs = 2, .args = { 1, 2 } },
	{ .fmt = "a long line to cut: %llu %llu", .nargs = 2,
	  .args = { 12345678901234ull, 98765432109876ull } },
	{ .fmt = "[%s][%6s][%-6s]", .nargs = 3, .strings = { "abc", "def", "ghi" } },
	{ .fmt = "[%pus] [%s]", .nargs = 2, .strings = { "user", "" } },
	/* refused */
	{ .fmt = "%d %d", .nargs = 1 },
	{ .fmt = "%f", .nargs = 1 },
	{ .fmt = "%.3d", .nargs = 1 },
	{ .fmt = "%hd", .nargs = 1 },
	{ .fmt = "%zu", .nargs = 1 },
	{ .fmt = "%#x", .nargs = 1 },
	{ .fmt = "%lld%n", .nargs = 2 },
	{ .fmt = "%q", .nargs = 1 },
	{ .fmt = "%sx", .nargs = 1 },
	{ .fmt = "%pZ", .nargs = 1 },
	{ .fmt = "%", .nargs = 1 },
	{ .fmt = "bell\a" },
	{ .fmt = "%lllu", .nargs = 1 },
};

struct number_case {
	const char *buf;
	uint32_t flags;
};

static const struct number_case numbers[] = {
	{ "  -42abc", 0 }, { "0x1f", 0 }, { "0x1f", 16 }, { "0X1F", 0 }, { "1f", 16 },
	{ "017", 0 }, { "019", 0 }, { "0x", 0 }, { "0xg", 0 }, { "-0x10", 0 }, { "+5", 10 },
	{ "\t\n 7", 10 }, { "- 7", 10 }, { "--7", 10 },
	{ "9223372036854775807", 10 }, { "9223372036854775808", 10 },
	{ "-9223372036854775808", 10 }, { "-9223372036854775809", 10 },
	{ "18446744073709551615", 10 }, { "18446744073709551616", 10 },
	{ "ffffffffffffffff", 16 }, { "1ffffffffffffffff", 16 },
	{ "777", 8 }, { "8", 8 }, { "abc", 10 }, { "   ", 0 }, { "12", 3 }, { "12", 0x20 },
	/* only 63 characters are read */
	{ "0000000000000000000000000000000000000000000000000000000000000000000042", 10 },
};

/* Programs are built one instruction at a time. */
struct prog {
	struct bpf_insn insns[96];
	size_t n;
};

static void emit(struct prog *p, struct bpf_insn insn)
{
	if (p->n == sizeof(p->insns) / sizeof(p->insns[0])) {
		fprintf(stderr, "program too long\n");
		_exit(1);
	}
	p->insns[p->n++] = insn;
}

#define INSN(...) ((struct bpf_insn){ __VA_ARGS__ })
#define MOV_REG(dst, src) \
	INSN(.code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = dst, .src_reg = src)
#define MOV_IMM(dst, v) INSN(.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = dst, .imm = v)
#define ADD_IMM(dst, v) INSN(.code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = dst, .imm = v)
#define LOAD64(dst, src, o) \
	INSN(.code = BPF_LDX | BPF_MEM | BPF_DW, .dst_reg = dst, .src_reg = src, .off = o)
#define STORE64(dst, o, src) \
	INSN(.code = BPF_STX | BPF_MEM | BPF_DW, .dst_reg = dst, .src_reg = src, .off = o)
#define CALL(id) INSN(.code = BPF_JMP | BPF_CALL, .imm = id)
#define EXIT() INSN(.code = BPF_JMP | BPF_EXIT)

/* r6 = ctx; the input, ctx[0..INPUT_SIZE), to fp-INPUT_SIZE; the results area zeroed. */
static void prologue(struct prog *p)
{
	emit(p, MOV_REG(6, 1));
	emit(p, MOV_IMM(0, 0));
	for (int i = 0; i < INPUT_SIZE / 8; i++) {
		emit(p, LOAD64(1, 6, 8 * i));
		emit(p, STORE64(10, -INPUT_SIZE + 8 * i, 1));
	}
	for (int i = 0; i < RESULT_SIZE / 8; i++)
		emit(p, STORE64(10, -INPUT_SIZE - RESULT_SIZE + 8 * i, 0));
}

/* r0 to ctx[RESULT_OFF], the results area of the stack after it, then exit. */
static void epilogue(struct prog *p)
{
	emit(p, STORE64(6, RESULT_OFF, 0));
	for (int i = 1; i < RESULT_SIZE / 8; i++) {
		emit(p, LOAD64(1, 10, -INPUT_SIZE - RESULT_SIZE + 8 * (i - 1)));
		emit(p, STORE64(6, RESULT_OFF + 8 * i, 1));
	}
	emit(p, MOV_IMM(0, 0));
	emit(p, EXIT());
}

/* Load and run p on ctx: 0, or -errno when the verifier refuses it. */
static int run_syscall(const struct prog *p, uint8_t ctx[CTX_SIZE])
{
	LIBBPF_OPTS(bpf_prog_load_opts, load_opts, .prog_flags = BPF_F_SLEEPABLE);
	LIBBPF_OPTS(bpf_test_run_opts, run, .ctx_in = ctx, .ctx_size_in = CTX_SIZE);
	int fd = bpf_prog_load(BPF_PROG_TYPE_SYSCALL, "strings", "GPL", p->insns, p->n,
			       &load_opts);
	int err = 0;

	if (fd < 0)
		return -errno;
	if (bpf_prog_test_run_opts(fd, &run))
		err = -errno;
	close(fd);
	return err;
}

/*
 * bpf_snprintf(results, 40, fmt, input, nargs * 8) with fmt in a frozen
 * read-only map (ARG_PTR_TO_CONST_STR): r0 and the output in ctx.
 */
static int kernel_snprintf(const char *fmt, const uint64_t args[6], uint32_t nargs,
			   uint8_t ctx[CTX_SIZE])
{
	uint8_t value[128] = { 0 };
	uint32_t zero = 0;
	LIBBPF_OPTS(bpf_map_create_opts, map_opts, .map_flags = BPF_F_RDONLY_PROG);
	int map = bpf_map_create(BPF_MAP_TYPE_ARRAY, "fmt", 4, sizeof(value), 1, &map_opts);
	struct prog p = { .n = 0 };
	int err;

	if (map < 0)
		return -errno;
	memcpy(value, fmt, strlen(fmt) + 1);
	if (bpf_map_update_elem(map, &zero, value, BPF_ANY) || bpf_map_freeze(map)) {
		err = -errno;
		close(map);
		return err;
	}
	prologue(&p);
	emit(&p, MOV_REG(1, 10));
	emit(&p, ADD_IMM(1, -INPUT_SIZE - RESULT_SIZE));
	emit(&p, MOV_IMM(2, RESULT_SIZE - 8));
	emit(&p, INSN(.code = BPF_LD | BPF_DW | BPF_IMM, .dst_reg = 3,
		      .src_reg = BPF_PSEUDO_MAP_VALUE, .imm = map));
	emit(&p, INSN(0));
	emit(&p, MOV_REG(4, 10));
	emit(&p, ADD_IMM(4, -INPUT_SIZE));
	emit(&p, MOV_IMM(5, (int)nargs * 8));
	emit(&p, CALL(BPF_FUNC_snprintf));
	epilogue(&p);
	memset(ctx, 0, CTX_SIZE);
	memcpy(ctx, args, 6 * sizeof(*args));
	err = run_syscall(&p, ctx);
	close(map);
	return err;
}

/* bpf_strtol / bpf_strtoul(input, strlen(buf), flags, results): r0 and *res in ctx. */
static int kernel_strtox(uint32_t id, const struct number_case *c, uint8_t ctx[CTX_SIZE])
{
	struct prog p = { .n = 0 };

	prologue(&p);
	emit(&p, MOV_REG(1, 10));
	emit(&p, ADD_IMM(1, -INPUT_SIZE));
	emit(&p, MOV_IMM(2, (int)strlen(c->buf)));
	emit(&p, MOV_IMM(3, (int)c->flags));
	emit(&p, MOV_REG(4, 10));
	emit(&p, ADD_IMM(4, -INPUT_SIZE - RESULT_SIZE));
	emit(&p, CALL((int)id));
	epilogue(&p);
	memset(ctx, 0, CTX_SIZE);
	memcpy(ctx, c->buf, strlen(c->buf) < INPUT_SIZE ? strlen(c->buf) : INPUT_SIZE);
	return run_syscall(&p, ctx);
}

static long result_r0(const uint8_t ctx[CTX_SIZE])
{
	int64_t r0;

	memcpy(&r0, ctx + RESULT_OFF, sizeof(r0));
	return (long)r0;
}

static unsigned compare_formats(sluice_helper_fn fn, struct sluice_run *run)
{
	unsigned wrong = 0;

	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		const struct format_case *c = &formats[i];
		uint8_t ctx[CTX_SIZE];
		char ours[RESULT_SIZE - 8] = { 0 };
		uint64_t args[6];
		long kernel, sluice;
		int err;

		memcpy(args, c->args, sizeof(args));
		for (int a = 0; a < 3; a++)
			if (c->strings[a])
				args[a] = (uintptr_t)c->strings[a];
		err = kernel_snprintf(c->fmt, args, c->nargs, ctx);
		/* the verifier refuses the formats it can see are wrong in a constant string */
		kernel = err ? err : result_r0(ctx);
		sluice = (long)(int64_t)fn((uintptr_t)ours, sizeof(ours), (uintptr_t)c->fmt,
					    (uintptr_t)args, c->nargs * 8, run);
		if (kernel != sluice ||
		    (kernel > 0 && memcmp(ctx + RESULT_OFF + 8, ours, sizeof(ours)) != 0)) {
			printf("snprintf \"%s\": kernel %ld \"%.*s\", Sluice %ld \"%.*s\"\n", c->fmt,
			       kernel, (int)sizeof(ours), (char *)ctx + RESULT_OFF + 8, sluice,
			       (int)sizeof(ours), ours);
			wrong++;
		}
	}
	return wrong;
}

static unsigned compare_numbers(uint32_t id, sluice_helper_fn fn, struct sluice_run *run)
{
	unsigned wrong = 0;

	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		const struct number_case *c = &numbers[i];
		uint8_t ctx[CTX_SIZE];
		int64_t kernel_value, sluice_value = 7;
		long kernel, sluice;
		int err = kernel_strtox(id, c, ctx);

		if (err) {
			printf("%s \"%s\": the kernel refuses the program (%s)\n",
			       id == BPF_FUNC_strtol ? "strtol" : "strtoul", c->buf, strerror(-err));
			wrong++;
			continue;
		}
		kernel = result_r0(ctx);
		memcpy(&kernel_value, ctx + RESULT_OFF + 8, sizeof(kernel_value));
		sluice = (long)(int64_t)fn((uintptr_t)c->buf, strlen(c->buf), c->flags,
					    (uintptr_t)&sluice_value, 0, run);
		if (kernel != sluice || kernel_value != sluice_value) {
			printf("%s \"%s\" flags %u: kernel %ld %lld, Sluice %ld %lld\n",
			       id == BPF_FUNC_strtol ? "strtol" : "strtoul", c->buf, c->flags,
			       kernel, (long long)kernel_value, sluice, (long long)sluice_value);
			wrong++;
		}
	}
	return wrong;
}

int main(void)
{
	struct sluice_error err = { 0 };
	struct sluice_helpers *helpers = helpers_for_prog_type(BPF_PROG_TYPE_SYSCALL, &err);
	struct sluice_run run = { 0 };
	uint8_t ctx[CTX_SIZE];
	unsigned wrong;
	int probe;

	if (!helpers) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	probe = kernel_strtox(BPF_FUNC_strtol, &numbers[0], ctx);
	if (probe) {
		fprintf(stderr, "bpf() refused here (%s): skipped\n", strerror(-probe));
		sluice_helpers_free(helpers);
		return 77;
	}
	wrong = compare_formats(sluice_helpers_fn(helpers, BPF_FUNC_snprintf), &run) +
		compare_numbers(BPF_FUNC_strtol, sluice_helpers_fn(helpers, BPF_FUNC_strtol), &run) +
		compare_numbers(BPF_FUNC_strtoul, sluice_helpers_fn(helpers, BPF_FUNC_strtoul), &run);
	printf("%zu formats and %zu numbers (strtol, strtoul) compared, %u disagree\n",
	       sizeof(formats) / sizeof(formats[0]), sizeof(numbers) / sizeof(numbers[0]), wrong);
	sluice_helpers_free(helpers);
	return wrong ? 1 : 0;
}
