/* SPDX-License-Identifier: MIT */
/*
 * PREVAIL's verifier test cases (github.com/vbpf/ebpf-verifier, test-data/
 * *.yaml) run through Sluice's verifier: each case's code, in PREVAIL's
 * assembly, becomes a program, and its `pre` conditions the entry state
 * (struct sluice_verifier_entry); Sluice's verdict is compared with the
 * one PREVAIL expects: rejected when `messages` holds an error, accepted
 * when it holds nothing or only "Code becomes unreachable" notes.
 *
 *   prevail DIR [--verbose] [--case NAME]
 *
 * Prints the agreement per file and in total.  Linux (which Sluice follows)
 * and PREVAIL disagree by design in places; those cases are listed below
 * with the reason, and the run fails on any disagreement outside the list,
 * and on a listed case that agrees (the list must stay true).  Cases that
 * cannot be posed to a Linux verifier (big-endian ones, pre-conditions
 * relating two registers) are counted apart, with the reason.
 *
 * Translation, where PREVAIL has what BPF has not:
 *   - `assume C` becomes `if C goto +2; r0 = 0; exit`: the path on which C
 *     fails ends there, the rest goes on knowing C;
 *   - `if A &!= B goto L` (no bit set) becomes `if A & B goto +1; goto L`;
 *   - code that may run off its end gets `r0 = 0; exit` appended, as
 *     PREVAIL does not require the exit Linux does;
 *   - the program type is XDP, whose context, like PREVAIL's test
 *     context, has data at 0 and data_end at 4; a socket filter when the
 *     code reads skb[...] (ld_abs), which XDP may not;
 *   - maps: `map_fd N` is maps[N] (an array of 4 entries of 4 bytes, as in
 *     PREVAIL's test environment, a prog_array for map_fd_programs);
 *     a `shared` region is a map value of its shared_region_size.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/bpf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include <sluice/disasm.h>
#include <sluice/verifier.h>

#include "insn.h"

#define MAX_SLOTS 1024
#define MAX_LABELS 64
#define MAX_STACK_ENTRIES 128
#define FD_MAPS 8            /* maps[0..7] answer map_fd 0..7 */
#define MAX_MAPS (FD_MAPS + SLUICE_MAX_REG)
#define PREVAIL_STACK 512    /* r10.stack_offset unless the case says otherwise */

/* ---- the known differences ---- */

/*
 * Where Linux (and so Sluice) and PREVAIL part ways, each case with its
 * reason.  Sluice applies the kernel's rules for a privileged loader, as
 * the kernel it is measured against loads as root.
 */
#define REASON_DIV_ZERO \
	"Linux defines division and modulo by zero (0, and the dividend) and accepts them; " \
	"the case asks PREVAIL to reject them (!allow_division_by_zero)"
#define REASON_DIV_IMM_ZERO \
	"Linux refuses a division or modulo by the immediate 0 outright ('div by zero'), " \
	"where PREVAIL gives it the run-time meaning"
#define REASON_SHIFT_IMM \
	"Linux refuses a shift by an immediate outside 0..width-1 ('invalid shift'); " \
	"PREVAIL masks the count as the CPU would"
#define REASON_CALLX \
	"Linux has no callx (BPF_CALL | BPF_X): the kernel refuses the opcode"
#define REASON_CALLEE_REGS \
	"In Linux a function starts with r0 and r6-r9 uninitialised and must set r0 before " \
	"its exit; PREVAIL passes every register through a local call and needs no r0"
#define REASON_FUNCTION_CFG \
	"Linux refuses code no path reaches and jumps from one function into another; " \
	"PREVAIL checks only the paths it follows"
#define REASON_CTX \
	"The context is XDP's struct xdp_md: data_end is a 32-bit field, loaded whole; " \
	"PREVAIL's test context takes loads of any size"
#define REASON_HELPERS \
	"Linux checks helpers against the program type (bpf_get_stack is for tracing, not " \
	"XDP) and the map type (bpf_ringbuf_output needs a ring buffer); PREVAIL's test " \
	"platform allows any helper on any map"
#define REASON_STACK_ALIGN \
	"Linux refuses stack accesses not aligned to their size; PREVAIL allows them"
#define REASON_STACK_SUB \
	"Linux refuses to subtract a register from a stack pointer ('subtraction from stack " \
	"pointer prohibited'); PREVAIL tracks the result"
#define REASON_UNINIT_COPY \
	"Linux refuses to copy or store a register that was never written ('!read_ok'); " \
	"PREVAIL copies its unknown type along and only checks where it is used"
#define REASON_EXIT_R0 \
	"Linux does not decide a compare of the context pointer with 0, follows both edges, " \
	"and refuses the exit reached with r0 unset; PREVAIL does not check r0 at exit"
#define REASON_RELATIONAL \
	"PREVAIL relates registers (r3 < r2 = data_end - data bounds the access); Linux " \
	"learns packet bounds only from comparing a packet pointer with data_end"
#define REASON_PATH_SENSITIVE \
	"Linux follows each path to the access separately, so correlated branches keep " \
	"their facts; PREVAIL joins the paths first and loses them"
#define REASON_MAP_VALUE_OFFSET \
	"Linux checks a map value address (lddw map_val) against the value size when it is " \
	"loaded: offset 8 of a 4-byte value is refused"
#define REASON_PTR_AS_NUMBER \
	"Linux lets a privileged program use a pointer as a number (copy its low half, " \
	"compare, subtract or return pointers, store them in memory or maps): an address " \
	"leak root may make; PREVAIL forbids every such use"

static const struct known {
	const char *file, *name, *reason;
} known[] = {
	{ "assign.yaml", "16-bit indirect assignment from context", REASON_CTX },
	{ "assign.yaml", "32-bit assign register context value", REASON_PTR_AS_NUMBER },
	{ "assign.yaml", "32-bit assign register map programs value", REASON_PTR_AS_NUMBER },
	{ "assign.yaml", "32-bit assign register map value", REASON_PTR_AS_NUMBER },
	{ "assign.yaml", "32-bit assign register packet value", REASON_PTR_AS_NUMBER },
	{ "assign.yaml", "32-bit assign register shared value", REASON_PTR_AS_NUMBER },
	{ "assign.yaml", "32-bit assign register stack value", REASON_PTR_AS_NUMBER },
	{ "assign.yaml", "64-bit indirect assignment from context", REASON_CTX },
	{ "atomic.yaml", "atomic 64-bit ADD and fetch stack", REASON_STACK_ALIGN },
	{ "atomic.yaml", "atomic 64-bit ADD stack", REASON_STACK_ALIGN },
	{ "atomic.yaml", "atomic 64-bit AND and fetch stack", REASON_STACK_ALIGN },
	{ "atomic.yaml", "atomic 64-bit AND stack", REASON_STACK_ALIGN },
	{ "atomic.yaml", "atomic 64-bit CMPXCHG comparing against non-number", REASON_PTR_AS_NUMBER },
	{ "atomic.yaml", "atomic 64-bit CMPXCHG stack", REASON_STACK_ALIGN },
	{ "atomic.yaml", "atomic 64-bit OR and fetch stack", REASON_STACK_ALIGN },
	{ "atomic.yaml", "atomic 64-bit OR stack", REASON_STACK_ALIGN },
	{ "atomic.yaml", "atomic 64-bit XCHG stack", REASON_STACK_ALIGN },
	{ "atomic.yaml", "atomic 64-bit XOR and fetch stack", REASON_STACK_ALIGN },
	{ "atomic.yaml", "atomic 64-bit XOR stack", REASON_STACK_ALIGN },
	{ "call.yaml", "bpf_get_stack writing into shared memory", REASON_HELPERS },
	{ "call.yaml", "bpf_get_stack", REASON_HELPERS },
	{ "call.yaml", "bpf_map_lookup_elem with non-numeric stack key", REASON_PTR_AS_NUMBER },
	{ "call.yaml", "bpf_map_update_elem with non-numeric stack value", REASON_PTR_AS_NUMBER },
	{ "call.yaml", "bpf_ringbuf_output with numeric stack value", REASON_HELPERS },
	{ "calllocal.yaml", "call local must preserve R6-R9 types", REASON_CALLEE_REGS },
	{ "calllocal.yaml", "call local must preserve R6-R9", REASON_CALLEE_REGS },
	{ "calllocal.yaml", "call local with multiple branches", REASON_CALLEE_REGS },
	{ "calllocal.yaml", "call local with multiple calls", REASON_CALLEE_REGS },
	{ "calllocal.yaml", "jump out of a subfunction", REASON_FUNCTION_CFG },
	{ "calllocal.yaml", "jump within a subfunction", REASON_FUNCTION_CFG },
	{ "callx.yaml", "callx bpf_get_stack writing into shared memory", REASON_CALLX },
	{ "callx.yaml", "callx bpf_get_stack", REASON_CALLX },
	{ "callx.yaml", "callx bpf_map_lookup_elem packet key", REASON_CALLX },
	{ "callx.yaml", "callx bpf_map_lookup_elem shared key", REASON_CALLX },
	{ "callx.yaml", "callx bpf_map_lookup_elem", REASON_CALLX },
	{ "callx.yaml", "callx bpf_map_update_elem with numeric stack value", REASON_CALLX },
	{ "callx.yaml", "callx bpf_map_update_elem with packet value", REASON_CALLX },
	{ "callx.yaml", "callx bpf_map_update_elem with shared value larger than target region", REASON_CALLX },
	{ "callx.yaml", "callx bpf_map_update_elem with shared value", REASON_CALLX },
	{ "callx.yaml", "callx bpf_ringbuf_output with numeric stack value", REASON_CALLX },
	{ "jump.yaml", "JEQ with imm 0 and pointer", REASON_EXIT_R0 },
	{ "jump.yaml", "JLE with imm 0 and pointer", REASON_EXIT_R0 },
	{ "jump.yaml", "JLT with imm 0 and pointer", REASON_EXIT_R0 },
	{ "jump.yaml", "assume map_fd1 < map_fd2", REASON_PTR_AS_NUMBER },
	{ "jump.yaml", "lost implications in correlated branches", REASON_PATH_SENSITIVE },
	{ "jump.yaml", "multiple types add fail", REASON_PATH_SENSITIVE },
	{ "loop.yaml", "realistic forward loop", REASON_RELATIONAL },
	{ "map.yaml", "load_map_address", REASON_MAP_VALUE_OFFSET },
	{ "packet.yaml", "simple valid access", REASON_UNINIT_COPY },
	{ "pointer.yaml", "32-bit return context pointer", REASON_PTR_AS_NUMBER },
	{ "pointer.yaml", "64-bit return context pointer", REASON_PTR_AS_NUMBER },
	{ "sdivmod.yaml", "non-zero divided by possibly zero register 2", REASON_DIV_ZERO },
	{ "sdivmod.yaml", "non-zero divided by possibly zero register", REASON_DIV_ZERO },
	{ "sdivmod.yaml", "non-zero divided by undefined value register", REASON_DIV_ZERO },
	{ "sdivmod.yaml", "non-zero divided by zero immediate", REASON_DIV_IMM_ZERO },
	{ "sdivmod.yaml", "non-zero divided by zero register", REASON_DIV_ZERO },
	{ "sdivmod.yaml", "non-zero modulo possibly zero register 2", REASON_DIV_ZERO },
	{ "sdivmod.yaml", "non-zero modulo possibly zero register", REASON_DIV_ZERO },
	{ "sdivmod.yaml", "non-zero modulo undefined value register", REASON_DIV_ZERO },
	{ "sdivmod.yaml", "non-zero modulo zero immediate", REASON_DIV_IMM_ZERO },
	{ "sdivmod.yaml", "non-zero modulo zero register", REASON_DIV_ZERO },
	{ "sdivmod.yaml", "zero divided by possibly zero register 2", REASON_DIV_ZERO },
	{ "sdivmod.yaml", "zero divided by possibly zero register", REASON_DIV_ZERO },
	{ "sdivmod.yaml", "zero divided by undefined value register", REASON_DIV_ZERO },
	{ "sdivmod.yaml", "zero divided by zero immediate", REASON_DIV_IMM_ZERO },
	{ "sdivmod.yaml", "zero divided by zero register", REASON_DIV_ZERO },
	{ "sdivmod.yaml", "zero modulo possibly zero register 2", REASON_DIV_ZERO },
	{ "sdivmod.yaml", "zero modulo possibly zero register", REASON_DIV_ZERO },
	{ "sdivmod.yaml", "zero modulo undefined value register", REASON_DIV_ZERO },
	{ "sdivmod.yaml", "zero modulo zero immediate", REASON_DIV_IMM_ZERO },
	{ "sdivmod.yaml", "zero modulo zero register", REASON_DIV_ZERO },
	{ "shift.yaml", "32-bit left shift singleton by high imm", REASON_SHIFT_IMM },
	{ "shift.yaml", "32-bit left shift singleton by negative imm", REASON_SHIFT_IMM },
	{ "shift.yaml", "32-bit signed right shift singleton by high imm", REASON_SHIFT_IMM },
	{ "shift.yaml", "32-bit signed right shift singleton by negative imm", REASON_SHIFT_IMM },
	{ "shift.yaml", "32-bit unsigned right shift singleton by high imm", REASON_SHIFT_IMM },
	{ "shift.yaml", "32-bit unsigned right shift singleton by negative imm", REASON_SHIFT_IMM },
	{ "shift.yaml", "64-bit left shift singleton by high imm", REASON_SHIFT_IMM },
	{ "shift.yaml", "64-bit left shift singleton by negative imm", REASON_SHIFT_IMM },
	{ "shift.yaml", "64-bit signed right shift singleton by high imm", REASON_SHIFT_IMM },
	{ "shift.yaml", "64-bit signed right shift singleton by negative imm", REASON_SHIFT_IMM },
	{ "shift.yaml", "64-bit unsigned right shift singleton by high imm", REASON_SHIFT_IMM },
	{ "shift.yaml", "64-bit unsigned right shift singleton by negative imm", REASON_SHIFT_IMM },
	{ "stack.yaml", "havoc numeric size", REASON_UNINIT_COPY },
	{ "stack.yaml", "join two stack ranges", REASON_STACK_SUB },
	{ "stack.yaml", "set numeric size", REASON_STACK_SUB },
	{ "stack.yaml", "shorten numeric size from int64* to int32*", REASON_UNINIT_COPY },
	{ "stack.yaml", "stack re-assign little-endian immediate middle", REASON_STACK_ALIGN },
	{ "subtract.yaml", "disallow subtraction of shared pointers", REASON_PTR_AS_NUMBER },
	{ "udivmod.yaml", "non-zero divided by possibly zero register 2", REASON_DIV_ZERO },
	{ "udivmod.yaml", "non-zero divided by possibly zero register", REASON_DIV_ZERO },
	{ "udivmod.yaml", "non-zero divided by undefined value register", REASON_DIV_ZERO },
	{ "udivmod.yaml", "non-zero divided by zero immediate", REASON_DIV_IMM_ZERO },
	{ "udivmod.yaml", "non-zero divided by zero register", REASON_DIV_ZERO },
	{ "udivmod.yaml", "non-zero modulo possibly zero register 2", REASON_DIV_ZERO },
	{ "udivmod.yaml", "non-zero modulo possibly zero register", REASON_DIV_ZERO },
	{ "udivmod.yaml", "non-zero modulo undefined value register", REASON_DIV_ZERO },
	{ "udivmod.yaml", "non-zero modulo zero immediate", REASON_DIV_IMM_ZERO },
	{ "udivmod.yaml", "non-zero modulo zero register", REASON_DIV_ZERO },
	{ "udivmod.yaml", "zero divided by possibly zero register 2", REASON_DIV_ZERO },
	{ "udivmod.yaml", "zero divided by possibly zero register", REASON_DIV_ZERO },
	{ "udivmod.yaml", "zero divided by undefined value register", REASON_DIV_ZERO },
	{ "udivmod.yaml", "zero divided by zero immediate", REASON_DIV_IMM_ZERO },
	{ "udivmod.yaml", "zero divided by zero register", REASON_DIV_ZERO },
	{ "udivmod.yaml", "zero modulo possibly zero register 2", REASON_DIV_ZERO },
	{ "udivmod.yaml", "zero modulo possibly zero register", REASON_DIV_ZERO },
	{ "udivmod.yaml", "zero modulo undefined value register", REASON_DIV_ZERO },
	{ "udivmod.yaml", "zero modulo zero immediate", REASON_DIV_IMM_ZERO },
	{ "udivmod.yaml", "zero modulo zero register", REASON_DIV_ZERO },
	{ "uninit.yaml", "MOV of a number and an uninitialized register", REASON_UNINIT_COPY },
	{ "uninit.yaml", "Read uninitialized stack range - unaligned", REASON_STACK_ALIGN },
	{ NULL, NULL, NULL },
};

#define NKNOWN (sizeof(known) / sizeof(known[0]) - 1)
static unsigned known_seen[NKNOWN]; /* how many cases each entry stood for */

/* The entry for a case, or NULL. */
static const struct known *find_known(const char *file, const char *name)
{
	for (const struct known *k = known; k->file; k++)
		if (!strcmp(k->file, file) && !strcmp(k->name, name))
			return k;
	return NULL;
}

static bool reason_listed_before(size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (!strcmp(known[j].reason, known[i].reason))
			return true;
	return false;
}

/* The differences met, by reason. */
static void print_reasons(void)
{
	for (size_t i = 0; i < NKNOWN; i++) {
		unsigned cases = 0;

		if (reason_listed_before(i))
			continue;
		for (size_t j = i; j < NKNOWN; j++)
			if (!strcmp(known[j].reason, known[i].reason))
				cases += known_seen[j];
		if (cases)
			printf("%4u: %s\n", cases, known[i].reason);
	}
}

/* ---- one case as the YAML has it ---- */

struct test_case {
	char name[256];
	bool big_endian, no_div_by_zero;
	const char *pre[64];
	size_t npre;
	struct {
		const char *label; /* "<start>", "<loop>" */
		const char *text;
	} blocks[MAX_LABELS];
	size_t nblocks;
	bool expect_reject;
	const char *first_error;
};

static const char *scalar(yaml_node_t *node)
{
	return node && node->type == YAML_SCALAR_NODE ? (const char *)node->data.scalar.value : NULL;
}

static yaml_node_t *lookup(yaml_document_t *doc, yaml_node_t *map, const char *key)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		const char *k = scalar(yaml_document_get_node(doc, p->key));

		if (k && !strcmp(k, key))
			return yaml_document_get_node(doc, p->value);
	}
	return NULL;
}

/* The scalars of a sequence node, at most max; -1 when it is not a sequence of scalars. */
static int sequence(yaml_document_t *doc, yaml_node_t *seq, const char **out, size_t max,
		    size_t *n)
{
	*n = 0;
	if (!seq)
		return 0;
	if (seq->type != YAML_SEQUENCE_NODE)
		return -1;
	for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top; i++) {
		const char *s = scalar(yaml_document_get_node(doc, *i));

		if (!s || *n == max)
			return -1;
		out[(*n)++] = s;
	}
	return 0;
}

static int read_case(yaml_document_t *doc, struct test_case *tc, char *why, size_t why_len)
{
	yaml_node_t *root = yaml_document_get_root_node(doc), *code;
	const char *options[16], *messages[32], *name = scalar(lookup(doc, root, "test-case"));
	size_t noptions, nmessages;

	memset(tc, 0, sizeof(*tc));
	if (!name) {
		snprintf(why, why_len, "no test-case name");
		return -1;
	}
	snprintf(tc->name, sizeof(tc->name), "%s", name);
	if (sequence(doc, lookup(doc, root, "options"), options, 16, &noptions) ||
	    sequence(doc, lookup(doc, root, "pre"), tc->pre, 64, &tc->npre) ||
	    sequence(doc, lookup(doc, root, "messages"), messages, 32, &nmessages)) {
		snprintf(why, why_len, "options, pre or messages is not a list of strings");
		return -1;
	}
	for (size_t i = 0; i < noptions; i++) {
		tc->big_endian |= !strcmp(options[i], "big_endian");
		tc->no_div_by_zero |= !strcmp(options[i], "!allow_division_by_zero");
	}
	for (size_t i = 0; i < nmessages; i++) {
		if (strstr(messages[i], "Code becomes unreachable"))
			continue;
		tc->expect_reject = true;
		if (!tc->first_error)
			tc->first_error = messages[i];
	}
	code = lookup(doc, root, "code");
	if (!code || code->type != YAML_MAPPING_NODE) {
		snprintf(why, why_len, "no code mapping");
		return -1;
	}
	for (yaml_node_pair_t *p = code->data.mapping.pairs.start; p < code->data.mapping.pairs.top; p++) {
		const char *label = scalar(yaml_document_get_node(doc, p->key));
		const char *text = scalar(yaml_document_get_node(doc, p->value));

		if (!label || !text || tc->nblocks == MAX_LABELS) {
			snprintf(why, why_len, "a code block is not label: text");
			return -1;
		}
		tc->blocks[tc->nblocks].label = label;
		tc->blocks[tc->nblocks++].text = text;
	}
	return 0;
}

/* ---- PREVAIL assembly to instructions ---- */

struct program {
	struct sluice_insn insns[MAX_SLOTS];
	size_t n;
	uint32_t prog_type;
	size_t label_pc[MAX_LABELS];
	struct {
		size_t pc;
		char label[64];
		bool in_imm; /* call local: the offset is in imm */
	} fixups[MAX_SLOTS];
	size_t nfixups;
	char why[256];   /* why the case cannot be translated */
};

/* A cursor over one line. */
struct line {
	const char *p;
};

static void skip_space(struct line *l)
{
	while (*l->p == ' ' || *l->p == '\t')
		l->p++;
}

static bool accept(struct line *l, const char *word)
{
	size_t len = strlen(word);

	skip_space(l);
	if (strncmp(l->p, word, len))
		return false;
	l->p += len;
	return true;
}

/* rN or wN; *wide is false for wN. */
static bool parse_reg(struct line *l, int *reg, bool *wide)
{
	char *end;
	long r;

	skip_space(l);
	if ((*l->p != 'r' && *l->p != 'w') || l->p[1] < '0' || l->p[1] > '9')
		return false;
	r = strtol(l->p + 1, &end, 10);
	if (r > SLUICE_MAX_REG)
		return false;
	if (wide)
		*wide = *l->p == 'r';
	*reg = (int)r;
	l->p = end;
	return true;
}

/* A decimal or hex integer, maybe negative, maybe with PREVAIL's `ll` (a 64-bit immediate). */
static bool parse_number(struct line *l, int64_t *value, bool *ll)
{
	bool negative;
	char *end;
	uint64_t v;

	skip_space(l);
	negative = *l->p == '-';
	if (negative)
		l->p++;
	skip_space(l);
	if (*l->p < '0' || *l->p > '9')
		return false;
	errno = 0;
	v = strtoull(l->p, &end, 0);
	if (errno)
		return false;
	l->p = end;
	*value = negative ? (int64_t)(0 - v) : (int64_t)v;
	*ll = accept(l, "ll");
	return true;
}

/* A number that an instruction's 32-bit immediate holds, as signed or unsigned. */
static bool parse_imm(struct line *l, int32_t *imm)
{
	int64_t v;
	bool ll;

	if (!parse_number(l, &v, &ll) || v < INT32_MIN || v > (int64_t)UINT32_MAX)
		return false;
	*imm = (int32_t)(uint32_t)v;
	return true;
}

static bool parse_label(struct line *l, char *label, size_t len)
{
	const char *close;

	skip_space(l);
	close = *l->p == '<' ? strchr(l->p, '>') : NULL;
	if (!close || (size_t)(close - l->p) + 2 > len)
		return false;
	memcpy(label, l->p, (size_t)(close - l->p) + 1);
	label[close - l->p + 1] = '\0';
	l->p = close + 1;
	return true;
}

static bool parse_size(struct line *l, unsigned *size)
{
	static const struct { const char *text; unsigned size; } sizes[] = {
		{ "u8", 1 }, { "u16", 2 }, { "u32", 4 }, { "u64", 8 },
	};

	for (size_t i = 0; i < 4; i++)
		if (accept(l, sizes[i].text)) {
			*size = sizes[i].size;
			return true;
		}
	return false;
}

/* *(uN *) */
static bool parse_mem_size(struct line *l, unsigned *size)
{
	return accept(l, "*(") && parse_size(l, size) && accept(l, "*)");
}

/* (rB + off) or (rB - off) */
static bool parse_address(struct line *l, int *base, int16_t *off)
{
	int64_t v;
	bool ll, minus;

	if (!accept(l, "(") || !parse_reg(l, base, NULL))
		return false;
	minus = accept(l, "-");
	if (!minus && !accept(l, "+"))
		return false;
	if (!parse_number(l, &v, &ll) || v > 32768 || !accept(l, ")"))
		return false;
	*off = (int16_t)(minus ? -v : v);
	return true;
}

static bool parse_mem(struct line *l, unsigned *size, int *base, int16_t *off)
{
	return parse_mem_size(l, size) && parse_address(l, base, off);
}

static size_t put(struct program *p, enum insn_op op, int dst, int src, int32_t off, int32_t imm)
{
	if (p->n < MAX_SLOTS)
		p->insns[p->n] = insn_make(op, dst, src, off, imm);
	return p->n++;
}

static void put_lddw(struct program *p, enum insn_op op, int dst, int32_t lo, int32_t hi)
{
	put(p, op, dst, 0, 0, lo);
	if (p->n < MAX_SLOTS)
		p->insns[p->n] = (struct sluice_insn){ .imm = hi };
	p->n++;
}

static void fixup(struct program *p, size_t pc, const char *label, bool in_imm)
{
	if (p->nfixups == MAX_SLOTS)
		return;
	p->fixups[p->nfixups].pc = pc;
	p->fixups[p->nfixups].in_imm = in_imm;
	snprintf(p->fixups[p->nfixups++].label, sizeof(p->fixups[0].label), "%s", label);
}

/* Operators with their four encodings: 64-bit imm, 64-bit reg, 32-bit imm, 32-bit reg. */
struct op4 {
	const char *text;
	enum insn_op ops[4];
};
#define OP4(text, name) { text, { OP_##name##64_IMM, OP_##name##64_REG, OP_##name##32_IMM, OP_##name##32_REG } }

/* Longest first, so that "s>>=" is not read as ">>=" after an "s". */
static const struct op4 alu_ops[] = {
	OP4("s>>=", ARSH), OP4("s/=", SDIV), OP4("s%=", SMOD), OP4("<<=", LSH), OP4(">>=", RSH),
	OP4("+=", ADD), OP4("-=", SUB), OP4("*=", MUL), OP4("/=", DIV), OP4("%=", MOD),
	OP4("|=", OR), OP4("&=", AND), OP4("^=", XOR),
};

/* Conditions; "&==" is PREVAIL's spelling of jset (some bit set), "&!=" of its negation. */
enum { COND_NSET = -1 };
static const struct op4 cond_ops[] = {
	OP4("s<=", JSLE), OP4("s>=", JSGE), OP4("&==", JSET), OP4("s<", JSLT), OP4("s>", JSGT),
	OP4("==", JEQ), OP4("!=", JNE), OP4("<=", JLE), OP4(">=", JGE), OP4("<", JLT),
	OP4(">", JGT),
};
#define NSET_TEXT "&!="
#define JSET_INDEX 2

struct cond {
	int index;      /* into cond_ops, or COND_NSET */
	int dst, src;   /* src < 0: imm */
	int32_t imm;
	bool wide;
};

static bool parse_cond(struct line *l, struct cond *c)
{
	bool src_wide;

	if (!parse_reg(l, &c->dst, &c->wide))
		return false;
	skip_space(l);
	c->index = accept(l, NSET_TEXT) ? COND_NSET : -2;
	for (int i = 0; c->index == -2 && i < (int)(sizeof(cond_ops) / sizeof(cond_ops[0])); i++)
		if (accept(l, cond_ops[i].text))
			c->index = i;
	if (c->index == -2)
		return false;
	c->src = -1;
	if (parse_reg(l, &c->src, &src_wide))
		return true;
	return parse_imm(l, &c->imm);
}

/* A jump taken when c holds, to label or (label NULL) by rel slots. */
static void put_cond_jump(struct program *p, const struct cond *c, const char *label, int16_t rel)
{
	int index = c->index == COND_NSET ? JSET_INDEX : c->index;
	enum insn_op op = cond_ops[index].ops[(c->wide ? 0 : 2) + (c->src >= 0)];
	size_t pc;

	if (c->index == COND_NSET) {
		/* no bit set: skip the jump when one is */
		put(p, op, c->dst, c->src, 1, c->imm);
		pc = put(p, OP_JA, 0, 0, label ? 0 : rel - 1, 0);
	} else {
		pc = put(p, op, c->dst, c->src, label ? 0 : rel, c->imm);
	}
	if (label)
		fixup(p, pc, label, false);
}

static bool translate_assignment(struct program *p, struct line *l, int dst, bool wide)
{
	static const struct { const char *text; enum insn_op op; } swaps[] = {
		{ "be16", OP_BE16 }, { "be32", OP_BE32 }, { "be64", OP_BE64 },
		{ "le16", OP_LE16 }, { "le32", OP_LE32 }, { "le64", OP_LE64 },
		{ "swap16", OP_BSWAP16 }, { "swap32", OP_BSWAP32 }, { "swap64", OP_BSWAP64 },
	};
	struct line start;
	int src, base;
	int64_t v;
	bool ll, src_wide;
	unsigned size;
	int16_t off;

	for (size_t i = 0; i < sizeof(swaps) / sizeof(swaps[0]); i++) {
		if (!accept(l, swaps[i].text))
			continue;
		if (!parse_reg(l, &src, NULL) || src != dst) /* BPF swaps in place */
			return false;
		put(p, swaps[i].op, dst, 0, 0, 0);
		return true;
	}
	if (accept(l, "map_fd")) {
		int32_t fd;

		if (!parse_imm(l, &fd))
			return false;
		put_lddw(p, OP_LDDW_MAP_FD, dst, fd, 0);
		return true;
	}
	if (accept(l, "map_val(")) {
		int32_t fd, value_off;

		if (!parse_imm(l, &fd) || !accept(l, ")") || !accept(l, "+") || !parse_imm(l, &value_off))
			return false;
		put_lddw(p, OP_LDDW_MAP_VALUE, dst, fd, value_off);
		return true;
	}
	if (parse_mem_size(l, &size)) {
		if (accept(l, "skb[")) {
			enum insn_op abs = size == 1 ? OP_LDABSB : size == 2 ? OP_LDABSH : OP_LDABSW;
			enum insn_op ind = size == 1 ? OP_LDINDB : size == 2 ? OP_LDINDH : OP_LDINDW;
			int32_t at;

			p->prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
			if (dst != 0 || size == 8)
				return false;
			if (parse_reg(l, &src, NULL))
				put(p, ind, 0, src, 0, 0);
			else if (parse_imm(l, &at))
				put(p, abs, 0, 0, 0, at);
			else
				return false;
			return accept(l, "]");
		}
		if (!parse_address(l, &base, &off))
			return false;
		put(p, size == 1 ? OP_LDXB : size == 2 ? OP_LDXH : size == 4 ? OP_LDXW : OP_LDXDW,
		    dst, base, off, 0);
		return true;
	}
	start = *l;
	if (accept(l, "-") && parse_reg(l, &src, &src_wide)) {
		if (src != dst) /* BPF negates in place */
			return false;
		put(p, wide ? OP_NEG64 : OP_NEG32, dst, 0, 0, 0);
		return true;
	}
	*l = start; /* a negative number */
	if (parse_reg(l, &src, &src_wide)) {
		put(p, wide ? OP_MOV64_REG : OP_MOV32_REG, dst, src, 0, 0);
		return true;
	}
	if (!parse_number(l, &v, &ll))
		return false;
	if (wide && (ll || v < INT32_MIN || v > INT32_MAX))
		put_lddw(p, OP_LDDW, dst, (int32_t)(uint32_t)(uint64_t)v,
			 (int32_t)(uint32_t)((uint64_t)v >> 32));
	else if (v >= INT32_MIN && v <= (int64_t)UINT32_MAX)
		put(p, wide ? OP_MOV64_IMM : OP_MOV32_IMM, dst, 0, 0, (int32_t)(uint32_t)v);
	else
		return false;
	return true;
}

static bool translate_atomic(struct program *p, struct line *l)
{
	static const struct { const char *text; enum insn_op ops[4]; } atomics[] = {
		{ "+=", { OP_ATOMIC32_ADD, OP_ATOMIC32_FETCH_ADD, OP_ATOMIC64_ADD, OP_ATOMIC64_FETCH_ADD } },
		{ "|=", { OP_ATOMIC32_OR, OP_ATOMIC32_FETCH_OR, OP_ATOMIC64_OR, OP_ATOMIC64_FETCH_OR } },
		{ "&=", { OP_ATOMIC32_AND, OP_ATOMIC32_FETCH_AND, OP_ATOMIC64_AND, OP_ATOMIC64_FETCH_AND } },
		{ "^=", { OP_ATOMIC32_XOR, OP_ATOMIC32_FETCH_XOR, OP_ATOMIC64_XOR, OP_ATOMIC64_FETCH_XOR } },
		{ "cx=", { OP_ATOMIC32_CMPXCHG, OP_ATOMIC32_CMPXCHG, OP_ATOMIC64_CMPXCHG, OP_ATOMIC64_CMPXCHG } },
		{ "x=", { OP_ATOMIC32_XCHG, OP_ATOMIC32_XCHG, OP_ATOMIC64_XCHG, OP_ATOMIC64_XCHG } },
	};
	unsigned size;
	int base, src;
	int16_t off;

	if (!parse_mem(l, &size, &base, &off) || (size != 4 && size != 8))
		return false;
	for (size_t i = 0; i < sizeof(atomics) / sizeof(atomics[0]); i++) {
		if (!accept(l, atomics[i].text))
			continue;
		if (!parse_reg(l, &src, NULL))
			return false;
		put(p, atomics[i].ops[(size == 8) * 2 + accept(l, "fetch")], base, src, off, 0);
		return true;
	}
	return false;
}

static bool translate_line(struct program *p, struct line *l)
{
	char label[64];
	struct cond c;
	unsigned size;
	int dst, src, base;
	int16_t off;
	int32_t imm;
	bool wide, src_wide;

	if (accept(l, "exit")) {
		put(p, OP_EXIT, 0, 0, 0, 0);
		return true;
	}
	if (accept(l, "goto")) {
		if (!parse_label(l, label, sizeof(label)))
			return false;
		fixup(p, put(p, OP_JA, 0, 0, 0, 0), label, false);
		return true;
	}
	if (accept(l, "callx")) {
		if (!parse_reg(l, &dst, NULL))
			return false;
		put(p, OP_CALLX, dst, 0, 0, 0);
		return true;
	}
	if (accept(l, "call")) {
		if (parse_label(l, label, sizeof(label))) {
			fixup(p, put(p, OP_CALL_LOCAL, 0, 0, 0, 0), label, true);
			return true;
		}
		if (!parse_imm(l, &imm))
			return false;
		put(p, OP_CALL, 0, 0, 0, imm);
		return true;
	}
	if (accept(l, "assume")) {
		if (!parse_cond(l, &c))
			return false;
		put_cond_jump(p, &c, NULL, 2);
		put(p, OP_MOV64_IMM, 0, 0, 0, 0);
		put(p, OP_EXIT, 0, 0, 0, 0);
		return true;
	}
	if (accept(l, "if")) {
		if (!parse_cond(l, &c) || !accept(l, "goto") || !parse_label(l, label, sizeof(label)))
			return false;
		put_cond_jump(p, &c, label, 0);
		return true;
	}
	if (accept(l, "lock"))
		return translate_atomic(p, l);
	if (*l->p == '*') {
		if (!parse_mem(l, &size, &base, &off) || !accept(l, "="))
			return false;
		if (parse_reg(l, &src, NULL))
			put(p, size == 1 ? OP_STXB : size == 2 ? OP_STXH : size == 4 ? OP_STXW : OP_STXDW,
			    base, src, off, 0);
		else if (parse_imm(l, &imm))
			put(p, size == 1 ? OP_STB : size == 2 ? OP_STH : size == 4 ? OP_STW : OP_STDW,
			    base, 0, off, imm);
		else
			return false;
		return true;
	}
	if (!parse_reg(l, &dst, &wide))
		return false;
	skip_space(l);
	if (accept(l, "s8=") || accept(l, "s16=") || accept(l, "s32=")) {
		char bits = l->p[-2];

		if (!parse_reg(l, &src, NULL))
			return false;
		put(p, bits == '8' ? (wide ? OP_MOVSX8_64 : OP_MOVSX8_32) :
		       bits == '6' ? (wide ? OP_MOVSX16_64 : OP_MOVSX16_32) : OP_MOVSX32_64,
		    dst, src, 0, 0);
		return wide || bits != '2';
	}
	for (size_t i = 0; i < sizeof(alu_ops) / sizeof(alu_ops[0]); i++) {
		if (!accept(l, alu_ops[i].text))
			continue;
		if (parse_reg(l, &src, &src_wide))
			put(p, alu_ops[i].ops[wide ? 1 : 3], dst, src, 0, 0);
		else if (parse_imm(l, &imm))
			put(p, alu_ops[i].ops[wide ? 0 : 2], dst, 0, 0, imm);
		else
			return false;
		return true;
	}
	if (!accept(l, "="))
		return false;
	return translate_assignment(p, l, dst, wide);
}

static int label_index(const struct test_case *tc, const char *label)
{
	for (size_t i = 0; i < tc->nblocks; i++)
		if (!strcmp(tc->blocks[i].label, label))
			return (int)i;
	return -1;
}

/* Whether control may run past the last instruction, or a jump lead there. */
static bool reaches_end(const struct program *p)
{
	int op;

	if (!p->n)
		return true;
	op = insn_lookup(&p->insns[p->n - 1]);
	if (op != OP_EXIT && op != OP_JA)
		return true;
	for (size_t pc = 0; pc < p->n; pc++) {
		int64_t target;

		op = insn_lookup(&p->insns[pc]);
		if (op >= 0 && insn_branch_target(&p->insns[pc], (enum insn_op)op, pc, &target) &&
		    target == (int64_t)p->n)
			return true;
	}
	return false;
}

static int translate_code(const struct test_case *tc, struct program *p)
{
	p->n = p->nfixups = 0;
	p->prog_type = BPF_PROG_TYPE_XDP;
	for (size_t b = 0; b < tc->nblocks; b++) {
		const char *text = tc->blocks[b].text;

		p->label_pc[b] = p->n;
		while (*text) {
			size_t len = strcspn(text, "\n");
			char buf[256], *semi;
			struct line l = { buf };

			snprintf(buf, sizeof(buf), "%.*s", (int)(len < 255 ? len : 255), text);
			text += len + (text[len] == '\n');
			if ((semi = strchr(buf, ';')))
				*semi = '\0';
			skip_space(&l);
			if (!*l.p)
				continue;
			if (!translate_line(p, &l) || (skip_space(&l), *l.p)) {
				snprintf(p->why, sizeof(p->why), "cannot translate '%.200s'", buf);
				return -1;
			}
		}
	}
	if (p->n + 2 > MAX_SLOTS) {
		snprintf(p->why, sizeof(p->why), "more than %d slots", MAX_SLOTS - 2);
		return -1;
	}
	for (size_t i = 0; i < p->nfixups; i++) {
		int b = label_index(tc, p->fixups[i].label);
		int64_t rel;

		if (b < 0) {
			snprintf(p->why, sizeof(p->why), "no label %s", p->fixups[i].label);
			return -1;
		}
		rel = (int64_t)p->label_pc[b] - (int64_t)p->fixups[i].pc - 1;
		if (p->fixups[i].in_imm)
			p->insns[p->fixups[i].pc].imm = (int32_t)rel;
		else
			p->insns[p->fixups[i].pc].off = (int16_t)rel;
	}
	if (reaches_end(p)) {
		put(p, OP_MOV64_IMM, 0, 0, 0, 0);
		put(p, OP_EXIT, 0, 0, 0, 0);
	}
	return 0;
}

/* ---- pre-conditions to the entry state ---- */

struct interval {
	bool set;
	int64_t lo, hi; /* for uvalue: unsigned, stored in the same bits */
};

struct reg_pre {
	char type[32];
	struct interval svalue, uvalue;
	bool same_sign;  /* uvalue = svalue: non-negative */
	bool packet_end; /* packet_offset = packet_size */
	struct interval ctx_offset, stack_offset, packet_offset, shared_offset, region_size,
		map_fd, numeric_size;
};

struct entry {
	struct sluice_verifier_entry entry;
	struct sluice_entry_stack stack[MAX_STACK_ENTRIES];
	struct sluice_map_def maps[MAX_MAPS];
	const struct sluice_map_def *map_ptrs[MAX_MAPS];
	size_t nmaps;
	char why[256];
};

static bool parse_interval(const char *text, struct interval *iv)
{
	struct line l = { text };
	bool ll;

	if (accept(&l, "[")) {
		if (!parse_number(&l, &iv->lo, &ll) || !accept(&l, ",") ||
		    !parse_number(&l, &iv->hi, &ll) || !accept(&l, "]"))
			return false;
	} else {
		if (!parse_number(&l, &iv->lo, &ll))
			return false;
		iv->hi = iv->lo;
	}
	skip_space(&l);
	iv->set = true;
	return !*l.p;
}

/* Byte range of a stack cell constraint "s[a...b]" or "s[a]". */
struct cell_pre {
	int64_t first, last;
	bool number;
	struct interval svalue, uvalue;
};

static int read_pre(const struct test_case *tc, struct reg_pre regs[SLUICE_MAX_REG + 1],
		    struct cell_pre *cells, size_t *ncells, struct interval *packet_size,
		    char *why, size_t why_len)
{
	*ncells = 0;
	for (size_t i = 0; i < tc->npre; i++) {
		const char *c = tc->pre[i], *eq = strchr(c, '=');
		char lhs[64];
		long r;
		char *end;

		if (!eq || (size_t)(eq - c) >= sizeof(lhs))
			goto unsupported;
		snprintf(lhs, sizeof(lhs), "%.*s", (int)(eq - c), c);
		eq++;
		if (!strcmp(lhs, "packet_size")) {
			if (!parse_interval(eq, packet_size))
				goto unsupported;
			continue;
		}
		if (!strcmp(lhs, "meta_offset"))
			continue; /* Linux's XDP has data_meta, which no case reads */
		if (lhs[0] == 's' && lhs[1] == '[') {
			struct cell_pre cell = { 0 };
			const char *field = strchr(lhs, ']');
			size_t k;

			cell.first = strtoll(lhs + 2, &end, 10);
			cell.last = !strncmp(end, "...", 3) ? strtoll(end + 3, &end, 10) : cell.first;
			if (!field || end != field || field[1] != '.')
				goto unsupported;
			for (k = 0; k < *ncells; k++)
				if (cells[k].first == cell.first && cells[k].last == cell.last)
					break;
			if (k == *ncells) {
				if (k == MAX_STACK_ENTRIES)
					goto unsupported;
				cells[(*ncells)++] = cell;
			}
			if (!strcmp(field + 2, "type")) {
				if (strcmp(eq, "number"))
					goto unsupported;
				cells[k].number = true;
			} else if (!strcmp(field + 2, "svalue")) {
				if (!parse_interval(eq, &cells[k].svalue))
					goto unsupported;
			} else if (!strcmp(field + 2, "uvalue")) {
				if (!parse_interval(eq, &cells[k].uvalue))
					goto unsupported;
			} else {
				goto unsupported;
			}
			continue;
		}
		if (lhs[0] != 'r' || (r = strtol(lhs + 1, &end, 10)) < 0 || r > SLUICE_MAX_REG ||
		    *end != '.')
			goto unsupported;
		{
			struct reg_pre *rp = &regs[r];
			const char *field = end + 1;
			static const struct { const char *name; size_t at; } fields[] = {
				{ "ctx_offset", offsetof(struct reg_pre, ctx_offset) },
				{ "stack_offset", offsetof(struct reg_pre, stack_offset) },
				{ "packet_offset", offsetof(struct reg_pre, packet_offset) },
				{ "shared_offset", offsetof(struct reg_pre, shared_offset) },
				{ "shared_region_size", offsetof(struct reg_pre, region_size) },
				{ "map_fd", offsetof(struct reg_pre, map_fd) },
				{ "stack_numeric_size", offsetof(struct reg_pre, numeric_size) },
				{ "svalue", offsetof(struct reg_pre, svalue) },
				{ "uvalue", offsetof(struct reg_pre, uvalue) },
			};
			char same[32];
			size_t f;

			if (!strcmp(field, "type")) {
				snprintf(rp->type, sizeof(rp->type), "%s", eq);
				continue;
			}
			snprintf(same, sizeof(same), "r%ld.svalue", r);
			if (!strcmp(field, "uvalue") && !strcmp(eq, same)) {
				rp->same_sign = true;
				continue;
			}
			if (!strcmp(field, "packet_offset") && !strcmp(eq, "packet_size")) {
				rp->packet_end = true;
				continue;
			}
			for (f = 0; f < sizeof(fields) / sizeof(fields[0]); f++)
				if (!strcmp(field, fields[f].name))
					break;
			if (f == sizeof(fields) / sizeof(fields[0]) ||
			    !parse_interval(eq, (struct interval *)((char *)rp + fields[f].at)))
				goto unsupported;
		}
		continue;
unsupported:
		snprintf(why, why_len, "pre-condition '%.200s' has no Linux counterpart", c);
		return -1;
	}
	return 0;
}

static void scalar_bounds(const struct interval *s, const struct interval *u, bool same_sign,
			  int64_t *smin, int64_t *smax, uint64_t *umin, uint64_t *umax)
{
	*smin = s->set ? s->lo : INT64_MIN;
	*smax = s->set ? s->hi : INT64_MAX;
	*umin = u->set ? (uint64_t)u->lo : 0;
	*umax = u->set ? (uint64_t)u->hi : UINT64_MAX;
	if (same_sign) {
		if (*smin < 0)
			*smin = 0;
		if (*umax > INT64_MAX)
			*umax = INT64_MAX;
	}
}

static void add_stack_entry(struct entry *e, int64_t off, unsigned size, const struct interval *s,
			    const struct interval *u)
{
	struct sluice_entry_stack *st;

	if (e->entry.nstack == MAX_STACK_ENTRIES)
		return;
	st = &e->stack[e->entry.nstack++];
	st->off = (int16_t)off;
	st->size = (uint8_t)size;
	scalar_bounds(s, u, false, &st->smin, &st->smax, &st->umin, &st->umax);
}

/* Unknown numbers over [off, off + len) below r10, in the largest aligned pieces. */
static void add_numeric_bytes(struct entry *e, int64_t off, int64_t len)
{
	static const struct interval any;

	while (len > 0) {
		unsigned size = 8;

		while (size > 1 && (size > len || (off & (int64_t)(size - 1))))
			size /= 2;
		add_stack_entry(e, off, size, &any, &any);
		off += size;
		len -= size;
	}
}

/* Unset, or one value: a pointer's offset in an entry state is exact. */
static bool single(const struct interval *iv)
{
	return !iv->set || iv->lo == iv->hi;
}

static int build_entry(const struct test_case *tc, struct entry *e)
{
	struct reg_pre regs[SLUICE_MAX_REG + 1] = { 0 };
	struct cell_pre cells[MAX_STACK_ENTRIES];
	struct interval packet_size = { 0 };
	int64_t fp_offset = PREVAIL_STACK;
	size_t ncells;

	memset(e, 0, sizeof(*e));
	if (read_pre(tc, regs, cells, &ncells, &packet_size, e->why, sizeof(e->why)))
		return -1;
	for (int i = 0; i < FD_MAPS; i++)
		e->maps[i] = (struct sluice_map_def){
			.name = "prevail_map", .type = BPF_MAP_TYPE_ARRAY, .key_size = 4,
			.value_size = 4, .max_entries = 4, .inner_map = -1,
		};
	e->nmaps = FD_MAPS;
	if (!strcmp(regs[10].type, "stack") && regs[10].stack_offset.set)
		fp_offset = regs[10].stack_offset.lo;
	e->entry.stack = e->stack;

	for (int r = 0; r < SLUICE_MAX_REG; r++) {
		struct reg_pre *rp = &regs[r];
		struct sluice_entry_reg *er = &e->entry.regs[r];

		/*
		 * PREVAIL's pointers carry their address: a shared region's that
		 * may be 0 is a map value not yet checked for NULL, which an
		 * entry state cannot give (the context, stack and packet are
		 * never NULL, whatever range their address has).
		 */
		if (!strcmp(rp->type, "shared") && rp->svalue.set && rp->svalue.lo <= 0 &&
		    rp->svalue.hi >= 0) {
			snprintf(e->why, sizeof(e->why), "r%d may be a null pointer", r);
			return -1;
		}
		if (!single(&rp->ctx_offset) || !single(&rp->stack_offset) ||
		    (!rp->packet_end && !single(&rp->packet_offset)) || !single(&rp->shared_offset) ||
		    !single(&rp->map_fd)) {
			snprintf(e->why, sizeof(e->why), "r%d points at a range of offsets", r);
			return -1;
		}
		if (!rp->type[0]) {
			if (rp->svalue.set || rp->uvalue.set || rp->map_fd.set) {
				snprintf(e->why, sizeof(e->why), "r%d has values but no type", r);
				return -1;
			}
			er->kind = SLUICE_ENTRY_UNINIT;
		} else if (!strcmp(rp->type, "number")) {
			er->kind = SLUICE_ENTRY_SCALAR;
			scalar_bounds(&rp->svalue, &rp->uvalue, rp->same_sign, &er->smin, &er->smax,
				      &er->umin, &er->umax);
		} else if (!strcmp(rp->type, "ctx")) {
			er->kind = SLUICE_ENTRY_CTX;
			er->off = (int32_t)rp->ctx_offset.lo;
		} else if (!strcmp(rp->type, "stack")) {
			er->kind = SLUICE_ENTRY_STACK;
			er->off = (int32_t)(rp->stack_offset.lo - fp_offset);
			if (rp->numeric_size.set)
				add_numeric_bytes(e, er->off, rp->numeric_size.lo);
		} else if (!strcmp(rp->type, "packet") && rp->packet_end) {
			er->kind = SLUICE_ENTRY_PACKET_END;
		} else if (!strcmp(rp->type, "packet")) {
			er->kind = SLUICE_ENTRY_PACKET;
			er->off = (int32_t)rp->packet_offset.lo;
			er->range = packet_size.set && packet_size.lo > 0 ? (uint32_t)packet_size.lo : 0;
		} else if (!strcmp(rp->type, "shared")) {
			if (!rp->region_size.set || rp->region_size.lo != rp->region_size.hi ||
			    rp->region_size.lo <= 0) {
				snprintf(e->why, sizeof(e->why), "r%d: a shared region of no one size", r);
				return -1;
			}
			e->maps[e->nmaps] = (struct sluice_map_def){
				.name = "prevail_shared", .type = BPF_MAP_TYPE_ARRAY, .key_size = 4,
				.value_size = (uint32_t)rp->region_size.lo, .max_entries = 1,
				.inner_map = -1,
			};
			er->kind = SLUICE_ENTRY_MAP_VALUE;
			er->map = (uint32_t)e->nmaps++;
			er->off = (int32_t)rp->shared_offset.lo;
		} else if (!strcmp(rp->type, "map_fd") || !strcmp(rp->type, "map_fd_programs")) {
			int64_t fd = rp->map_fd.set ? rp->map_fd.lo : 1;

			if (fd < 0 || fd >= FD_MAPS) {
				snprintf(e->why, sizeof(e->why), "r%d: map fd out of range", r);
				return -1;
			}
			if (!strcmp(rp->type, "map_fd_programs"))
				e->maps[fd].type = BPF_MAP_TYPE_PROG_ARRAY;
			er->kind = SLUICE_ENTRY_MAP_PTR;
			er->map = (uint32_t)fd;
		} else {
			snprintf(e->why, sizeof(e->why), "r%d.type=%.31s has no Linux counterpart", r,
				 rp->type);
			return -1;
		}
	}
	for (size_t i = 0; i < ncells; i++) {
		int64_t off = cells[i].first - fp_offset, len = cells[i].last - cells[i].first + 1;

		if (!cells[i].number || off < -SLUICE_STACK_SIZE || off + len > 0) {
			snprintf(e->why, sizeof(e->why), "stack cells s[%" PRId64 "...%" PRId64 "]",
				 cells[i].first, cells[i].last);
			return -1;
		}
		if (cells[i].svalue.set || cells[i].uvalue.set) {
			if (len != 1 && len != 2 && len != 4 && len != 8) {
				snprintf(e->why, sizeof(e->why), "a value over %" PRId64 " stack bytes", len);
				return -1;
			}
			add_stack_entry(e, off, (unsigned)len, &cells[i].svalue, &cells[i].uvalue);
		} else {
			add_numeric_bytes(e, off, len);
		}
	}
	for (size_t i = 0; i < e->nmaps; i++)
		e->map_ptrs[i] = &e->maps[i];
	return 0;
}

/* ---- the run ---- */

struct tally {
	unsigned cases, agree, listed, not_applicable, failed;
};

static struct program prog; /* large; one case at a time */

static void show_case(const char *file, const struct test_case *tc, const struct program *p,
		      const struct sluice_verdict *v)
{
	struct sluice_error err;
	char *text;

	printf("  %s: \"%s\": PREVAIL %s%s%s, Sluice %s\n", file, tc->name,
	       tc->expect_reject ? "rejects (" : "accepts", tc->expect_reject ? tc->first_error : "",
	       tc->expect_reject ? ")" : "", v->accepted ? "accepts" : "rejects");
	if (sluice_disasm(p->insns, p->n, SLUICE_DISASM_ASM, &text, &err) == 0) {
		printf("%s", text);
		free(text);
	}
	if (v->log && v->log[0])
		printf("    sluice: %s%s", v->log, v->log[v->log_len - 1] == '\n' ? "" : "\n");
}

static void run_case(const char *file, const struct test_case *tc, bool verbose,
		     struct tally *t)
{
	static struct entry e;
	struct sluice_verifier_opts opts = { .sz = sizeof(opts), .gpl = true };
	struct sluice_verdict v = { 0 };
	struct sluice_error err = { 0 };
	const struct known *k = find_known(file, tc->name);
	const char *reason = k ? k->reason : NULL;
	bool agree;

	t->cases++;
	if (tc->big_endian) {
		t->not_applicable++;
		if (verbose)
			printf("  %s: \"%s\": n/a, big-endian\n", file, tc->name);
		return;
	}
	if (build_entry(tc, &e) || translate_code(tc, &prog)) {
		t->not_applicable++;
		if (verbose)
			printf("  %s: \"%s\": n/a, %s\n", file, tc->name, e.why[0] ? e.why : prog.why);
		return;
	}
	opts.prog_type = prog.prog_type;
	opts.maps = e.map_ptrs;
	opts.nmaps = e.nmaps;
	opts.entry = &e.entry;
	if (sluice_verify(prog.insns, prog.n, &opts, &v, &err)) {
		printf("  %s: \"%s\": sluice_verify failed: %s\n", file, tc->name, err.msg);
		t->failed++;
		sluice_verdict_release(&v);
		return;
	}
	agree = v.accepted != tc->expect_reject;
	if (agree && !reason) {
		t->agree++;
	} else if (!agree && reason) {
		t->listed++;
		known_seen[k - known]++;
		if (verbose)
			printf("  %s: \"%s\": a known difference: %s\n", file, tc->name, reason);
	} else {
		t->failed++;
		if (agree)
			printf("  %s: \"%s\": listed as a difference, but Sluice agrees now\n", file,
			       tc->name);
		else
			show_case(file, tc, &prog, &v);
	}
	sluice_verdict_release(&v);
}

static int run_file(const char *dir, const char *file, const char *only, bool verbose,
		    struct tally *total)
{
	char path[4096];
	struct tally t = { 0 };
	yaml_parser_t parser;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "prevail: %s: %s\n", path, strerror(errno));
		return -1;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	for (;;) {
		yaml_document_t doc;
		struct test_case tc;
		char why[256];

		if (!yaml_parser_load(&parser, &doc)) {
			fprintf(stderr, "prevail: %s:%zu: %s\n", path, parser.problem_mark.line + 1,
				parser.problem ? parser.problem : "YAML error");
			yaml_parser_delete(&parser);
			fclose(f);
			return -1;
		}
		if (!yaml_document_get_root_node(&doc)) {
			yaml_document_delete(&doc);
			break;
		}
		if (read_case(&doc, &tc, why, sizeof(why))) {
			fprintf(stderr, "prevail: %s: a case: %s\n", path, why);
			t.failed++;
		} else if (!only || !strcmp(only, tc.name)) {
			run_case(file, &tc, verbose, &t);
		}
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
	fclose(f);
	if (t.cases)
		printf("%-14s %3u cases: %3u agree, %2u known differences, %2u n/a, %2u unexpected\n",
		       file, t.cases, t.agree, t.listed, t.not_applicable, t.failed);
	total->cases += t.cases;
	total->agree += t.agree;
	total->listed += t.listed;
	total->not_applicable += t.not_applicable;
	total->failed += t.failed;
	return 0;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	const char *dir = NULL, *only = NULL;
	struct tally total = { 0 };
	bool verbose = false, bad_usage = false;
	char *names[256];
	size_t nnames = 0;
	struct dirent *ent;
	unsigned judged;
	DIR *d;
	int status = 0;

	for (int i = 1; i < argc && !bad_usage; i++) {
		if (!strcmp(argv[i], "--verbose"))
			verbose = true;
		else if (!strcmp(argv[i], "--case") && i + 1 < argc)
			only = argv[++i];
		else if (!dir && argv[i][0] != '-')
			dir = argv[i];
		else
			bad_usage = true;
	}
	if (!dir || bad_usage) {
		fprintf(stderr, "usage: prevail DIR [--verbose] [--case NAME]\n");
		return 2;
	}
	d = opendir(dir);
	if (!d) {
		fprintf(stderr, "prevail: %s: %s\n", dir, strerror(errno));
		return 2;
	}
	while ((ent = readdir(d)) && nnames < 256) {
		size_t len = strlen(ent->d_name);

		if (len > 5 && !strcmp(ent->d_name + len - 5, ".yaml") &&
		    strcmp(ent->d_name, "test-schema.yaml"))
			names[nnames++] = strdup(ent->d_name);
	}
	closedir(d);
	qsort(names, nnames, sizeof(names[0]), compare_names);
	for (size_t i = 0; i < nnames; i++) {
		if (names[i] && run_file(dir, names[i], only, verbose, &total))
			status = 1;
		free(names[i]);
	}
	judged = total.cases - total.not_applicable;
	printf("total: %u cases, %u judged: %u agree (%.1f%%), %u known differences, %u n/a, "
	       "%u unexpected\n", total.cases, judged, total.agree,
	       judged ? 100.0 * total.agree / judged : 0.0, total.listed, total.not_applicable,
	       total.failed);
	if (total.listed) {
		printf("known differences by reason:\n");
		print_reasons();
	}
	if (!nnames || !total.cases) {
		fprintf(stderr, "prevail: no cases in %s\n", dir);
		return 1;
	}
	return status || total.failed ? 1 : 0;
}
