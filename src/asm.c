/* SPDX-License-Identifier: MIT */
/*
 * Assembler for the bpf_conformance syntax (see include/sluice/asm.h).
 *
 * A line is looked up in the ISA table by its mnemonic (up to three words,
 * "lock fetch add32") and the kinds of its operands ("add" with a register
 * is ADD64_REG, with a number ADD64_IMM).  The row gives the opcode and its
 * discriminator, the row's shape gives the field each operand goes to, so
 * no instruction is known here by name.  Jumps to labels are recorded as
 * fixups and patched once the whole text has been read.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/asm.h>

#include "errmsg.h"
#include "insn.h"

/* A piece of the input text; never NUL-terminated. */
struct token {
	const char *s;
	size_t len;
};

/* Quote at most this much of a token in a message, which holds one line. */
#define QUOTE_MAX 40
#define QUOTE(t) (int)((t).len < QUOTE_MAX ? (t).len : QUOTE_MAX), (t).s

/* The longest mnemonic has three words ("lock fetch add32"). */
#define MAX_TOKENS (3 + INSN_MAX_OPERANDS)

struct label {
	struct token name;
	size_t slot;
	size_t line;
};

/* An operand naming a label, patched once every label is known. */
struct fixup {
	struct token name;
	size_t slot;
	size_t line;
	uint8_t operand; /* OPERAND_JUMP_OFF or OPERAND_JUMP_IMM */
};

struct assembler {
	const char *filename;
	size_t line;
	struct sluice_error *err;
	struct sluice_insn *insns;
	size_t count, insns_cap;
	struct label *labels;
	size_t nlabels, labels_cap;
	struct fixup *fixups;
	size_t nfixups, fixups_cap;
	size_t first_exit; /* slot of the implicit `exit` label, or SIZE_MAX */
};

__attribute__((format(printf, 3, 4)))
static int error_at(const struct assembler *a, size_t line, const char *fmt, ...)
{
	char msg[SLUICE_ERRMSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return sluice_fail(a->err, EINVAL, "%s:%zu: %s", a->filename, line, msg);
}

#define syntax_error(a, ...) error_at(a, (a)->line, __VA_ARGS__)

/* Room for `need` elements in a growable array; NULL (array kept) when out of memory. */
static void *grow(void *items, size_t *cap, size_t need, size_t size)
{
	size_t new_cap = *cap ? *cap : 16;
	void *p;

	if (need <= *cap)
		return items;
	while (new_cap < need && new_cap <= SIZE_MAX / 2)
		new_cap *= 2;
	if (new_cap < need || new_cap > SIZE_MAX / size)
		return NULL;
	p = realloc(items, new_cap * size);
	if (p)
		*cap = new_cap;
	return p;
}

static int out_of_memory(const struct assembler *a)
{
	return sluice_fail(a->err, ENOMEM, "%s: out of memory", a->filename);
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_identifier(struct token t)
{
	if (!t.len || is_digit(t.s[0]))
		return false;
	for (size_t i = 0; i < t.len; i++) {
		char c = t.s[i];

		if (!(c == '_' || c == '.' || is_digit(c) || (c >= 'a' && c <= 'z') ||
		      (c >= 'A' && c <= 'Z')))
			return false;
	}
	return true;
}

static bool token_is(struct token t, const char *s)
{
	return t.len == strlen(s) && !memcmp(t.s, s, t.len);
}

/* Lexing ------------------------------------------------------------------ */

struct cursor {
	const char *p, *end;
};

/*
 * The next token of a line: 1 with *t set, 0 at the end of the line, or an
 * error.  Tokens are separated by spaces and at most one comma; `[...]` is
 * one token even with spaces inside; a label's `:` ends its token so that
 * "loop:exit" is a label and an instruction.
 */
static int next_token(const struct assembler *a, struct cursor *c, struct token *t)
{
	bool comma = false;

	for (;;) {
		while (c->p < c->end && is_space(*c->p))
			c->p++;
		if (c->p == c->end || *c->p != ',')
			break;
		if (comma)
			return syntax_error(a, "unexpected ','");
		comma = true;
		c->p++;
	}
	if (c->p == c->end) {
		if (comma)
			return syntax_error(a, "unexpected ',' at the end of the line");
		return 0;
	}

	t->s = c->p;
	if (*c->p == '[') {
		const char *close = memchr(c->p, ']', (size_t)(c->end - c->p));
		struct token rest = { c->p, (size_t)(c->end - c->p) };

		if (!close)
			return syntax_error(a, "missing ']' in '%.*s'", QUOTE(rest));
		c->p = close + 1;
		rest.len = (size_t)(c->p - rest.s);
		if (c->p < c->end && !is_space(*c->p) && *c->p != ',')
			return syntax_error(a, "trailing garbage after '%.*s'", QUOTE(rest));
	} else {
		while (c->p < c->end && !is_space(*c->p) && *c->p != ',')
			if (*c->p++ == ':')
				break;
	}
	t->len = (size_t)(c->p - t->s);
	return 1;
}

/* Operands ---------------------------------------------------------------- */

static bool looks_like_register(struct token t)
{
	return t.s[0] == '%' || (t.len >= 2 && t.s[0] == 'r' && is_digit(t.s[1]));
}

static bool is_memory(struct token t)
{
	return t.s[0] == '[';
}

/* Whether a token is of the kind an operand takes, to choose between rows. */
static bool operand_fits(uint8_t operand, struct token t)
{
	switch (operand) {
	case OPERAND_DST:
	case OPERAND_SRC:
		return looks_like_register(t);
	case OPERAND_MEM_DST:
	case OPERAND_MEM_SRC:
		return is_memory(t);
	case OPERAND_JUMP_OFF:
	case OPERAND_JUMP_IMM:
		return !is_memory(t); /* a label may look like a register */
	default:
		return !is_memory(t) && !looks_like_register(t);
	}
}

static int parse_register(const struct assembler *a, struct token t, uint8_t *reg)
{
	struct token digits = t;
	unsigned n = 0;

	if (!t.len || !looks_like_register(t))
		return syntax_error(a, "expected a register, got '%.*s'", QUOTE(t));
	if (digits.s[0] == '%') {
		digits.s++;
		digits.len--;
	}
	if (!digits.len || digits.s[0] != 'r' || digits.len < 2 || digits.len > 3 ||
	    (digits.len == 3 && digits.s[1] == '0'))
		return syntax_error(a, "unknown register '%.*s'", QUOTE(t));
	for (size_t i = 1; i < digits.len; i++) {
		if (!is_digit(digits.s[i]))
			return syntax_error(a, "unknown register '%.*s'", QUOTE(t));
		n = n * 10 + (unsigned)(digits.s[i] - '0');
	}
	if (n > SLUICE_MAX_REG)
		return syntax_error(a, "unknown register '%.*s'", QUOTE(t));
	*reg = (uint8_t)n;
	return 0;
}

/* A number as written: sign and magnitude, so each use can check its range. */
struct number {
	bool neg, hex;
	uint64_t mag;
};

enum { NUMBER_OK, NUMBER_INVALID, NUMBER_TOO_BIG };

/*
 * [+-]digits or [+-]0xhexdigits.  Spaces may follow the sign, which only
 * happens inside brackets ("[%r1 - 8]").
 */
static int parse_number(struct token t, struct number *n)
{
	const char *p = t.s, *end = t.s + t.len;
	unsigned base = 10;
	bool too_big = false;

	*n = (struct number){ 0 };
	if (p < end && (*p == '+' || *p == '-')) {
		n->neg = *p++ == '-';
		while (p < end && is_space(*p))
			p++;
	}
	if (end - p > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		n->hex = true;
		p += 2;
	}
	if (p == end)
		return NUMBER_INVALID;
	for (; p < end; p++) {
		unsigned d;

		if (is_digit(*p))
			d = (unsigned)(*p - '0');
		else if ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'f')
			d = (unsigned)((*p | 0x20) - 'a' + 10);
		else
			return NUMBER_INVALID;
		if (d >= base)
			return NUMBER_INVALID;
		if (n->mag > (UINT64_MAX - d) / base)
			too_big = true;
		else
			n->mag = n->mag * base + d;
	}
	return too_big ? NUMBER_TOO_BIG : NUMBER_OK;
}

/* Is the number within [-neg_max, pos_max]? */
static bool number_within(const struct number *n, uint64_t neg_max, uint64_t pos_max)
{
	return n->mag <= (n->neg ? neg_max : pos_max);
}

/* Two's complement bits of the number, for the caller to narrow. */
static uint64_t number_bits(const struct number *n)
{
	return n->neg ? -n->mag : n->mag;
}

/*
 * Decimal must fit int32; hex is the raw 32-bit pattern up to 0xffffffff,
 * which the CPU sign-extends where the ISA says so.
 */
static int parse_imm32(const struct assembler *a, struct token t, int32_t *imm)
{
	struct number n;
	int ret = parse_number(t, &n);

	if (ret == NUMBER_INVALID)
		return syntax_error(a, "invalid immediate '%.*s'", QUOTE(t));
	if (ret == NUMBER_TOO_BIG ||
	    !number_within(&n, (uint64_t)INT32_MAX + 1, n.hex ? UINT32_MAX : INT32_MAX))
		return syntax_error(a, "immediate %.*s out of range", QUOTE(t));
	*imm = (int32_t)(uint32_t)number_bits(&n);
	return 0;
}

static int parse_imm64(const struct assembler *a, struct token t, uint64_t *imm)
{
	struct number n;
	int ret = parse_number(t, &n);

	if (ret == NUMBER_INVALID)
		return syntax_error(a, "invalid immediate '%.*s'", QUOTE(t));
	if (ret == NUMBER_TOO_BIG || !number_within(&n, (uint64_t)INT64_MAX + 1, UINT64_MAX))
		return syntax_error(a, "immediate %.*s out of range", QUOTE(t));
	*imm = number_bits(&n);
	return 0;
}

/* [%rN], [%rN+off] or [%rN-off], the offset decimal or hex. */
static int parse_memory(const struct assembler *a, struct token t, uint8_t *reg,
			int16_t *off)
{
	const char *p = t.s + 1, *end = t.s + t.len - 1;
	struct token base, offset;
	struct number n;
	int ret;

	while (p < end && is_space(*p))
		p++;
	base.s = p;
	while (p < end && !is_space(*p) && *p != '+' && *p != '-')
		p++;
	base.len = (size_t)(p - base.s);
	while (p < end && is_space(*p))
		p++;
	while (end > p && is_space(end[-1]))
		end--;
	offset = (struct token){ p, (size_t)(end - p) };

	ret = parse_register(a, base, reg);
	if (ret)
		return ret;
	*off = 0;
	if (!offset.len)
		return 0;
	if (offset.s[0] != '+' && offset.s[0] != '-')
		return syntax_error(a, "invalid memory operand '%.*s'", QUOTE(t));
	ret = parse_number(offset, &n);
	if (ret == NUMBER_INVALID)
		return syntax_error(a, "invalid offset in '%.*s'", QUOTE(t));
	if (ret == NUMBER_TOO_BIG || !number_within(&n, -(int64_t)INT16_MIN, INT16_MAX))
		return syntax_error(a, "offset %.*s out of range", QUOTE(offset));
	*off = (int16_t)number_bits(&n);
	return 0;
}

/* Store a relative jump in the operand's field, if it fits there. */
static bool set_jump(struct sluice_insn *insn, uint8_t operand, int64_t delta)
{
	if (operand == OPERAND_JUMP_OFF) {
		if (delta < INT16_MIN || delta > INT16_MAX)
			return false;
		insn->off = (int16_t)delta;
	} else {
		if (delta < INT32_MIN || delta > INT32_MAX)
			return false;
		insn->imm = (int32_t)delta;
	}
	return true;
}

/* +N / -N slots after the next one, or a label patched by resolve_labels. */
static int parse_jump(struct assembler *a, struct token t, uint8_t operand,
		      struct sluice_insn *insn)
{
	struct fixup *fixups;
	struct number n;
	int ret;

	if (t.s[0] == '+' || t.s[0] == '-') {
		ret = parse_number(t, &n);
		if (ret == NUMBER_INVALID)
			return syntax_error(a, "invalid jump target '%.*s'", QUOTE(t));
		if (ret == NUMBER_TOO_BIG || n.mag > INT64_MAX)
			return syntax_error(a, "jump to '%.*s' out of range", QUOTE(t));
		if (!set_jump(insn, operand, (int64_t)number_bits(&n)))
			return syntax_error(a, "jump to '%.*s' out of range (offset %lld)",
					    QUOTE(t), (long long)number_bits(&n));
		return 0;
	}
	if (!is_identifier(t))
		return syntax_error(a, "invalid jump target '%.*s'", QUOTE(t));
	fixups = grow(a->fixups, &a->fixups_cap, a->nfixups + 1, sizeof(*fixups));
	if (!fixups)
		return out_of_memory(a);
	a->fixups = fixups;
	fixups[a->nfixups++] = (struct fixup){
		.name = t, .slot = a->count, .line = a->line, .operand = operand,
	};
	return 0;
}

static int parse_operand(struct assembler *a, uint8_t operand, struct token t,
			 struct sluice_insn *insn, uint64_t *imm64)
{
	uint8_t reg = 0;
	int ret;

	switch (operand) {
	case OPERAND_IMM:
		return parse_imm32(a, t, &insn->imm);
	case OPERAND_IMM64:
		return parse_imm64(a, t, imm64);
	case OPERAND_JUMP_OFF:
	case OPERAND_JUMP_IMM:
		return parse_jump(a, t, operand, insn);
	case OPERAND_MEM_DST:
	case OPERAND_MEM_SRC:
		if (!is_memory(t))
			return syntax_error(a, "expected a memory operand [%%rN+off], got '%.*s'",
					    QUOTE(t));
		ret = parse_memory(a, t, &reg, &insn->off);
		break;
	default:
		ret = parse_register(a, t, &reg);
		break;
	}
	if (operand == OPERAND_DST || operand == OPERAND_MEM_DST)
		insn->dst = reg;
	else
		insn->src = reg;
	return ret;
}

/* Instructions ------------------------------------------------------------ */

/* Spellings the conformance suite also uses: a mnemonic prefix and its table name. */
static const struct {
	const char *alias, *name;
} aliases[] = {
	{ "swap", "bswap" }, /* swap16/32/64 */
};

/* How many of the tokens spell mnemonic, word by word (0 if they don't). */
static size_t match_words(const char *mnemonic, const struct token *toks, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t len = strcspn(mnemonic, " ");

		if (len != toks[i].len || memcmp(mnemonic, toks[i].s, len))
			return 0;
		mnemonic += len;
		if (!*mnemonic)
			return i + 1;
		mnemonic++;
	}
	return 0;
}

/* The first row whose mnemonic spells the most leading tokens, or -1. */
static int find_mnemonic(const struct token *toks, size_t n, size_t *words)
{
	struct token spelled[MAX_TOKENS];
	char first[16];
	int best = -1;

	memcpy(spelled, toks, n * sizeof(*toks));
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
		size_t prefix = strlen(aliases[i].alias), name = strlen(aliases[i].name);
		size_t len = toks[0].len - prefix + name;

		if (toks[0].len > prefix && !memcmp(toks[0].s, aliases[i].alias, prefix) &&
		    len <= sizeof(first)) {
			memcpy(first, aliases[i].name, name);
			memcpy(first + name, toks[0].s + prefix, toks[0].len - prefix);
			spelled[0] = (struct token){ first, len };
			break;
		}
	}
	*words = 0;
	for (int op = 0; op < OP__COUNT; op++) {
		size_t w = match_words(insn_table[op].mnemonic, spelled, n);

		if (w > *words) {
			*words = w;
			best = op;
		}
	}
	return best;
}

/*
 * Among the rows spelled like `op`, the one whose operand kinds fit the
 * tokens; failing that, `op` itself, whose parse then says what is wrong.
 */
static int choose_row(int op, const struct token *operands, size_t n)
{
	for (int row = op; row < OP__COUNT; row++) {
		const uint8_t *kinds = insn_shape_operands(insn_table[row].shape);
		size_t i = 0;

		if (strcmp(insn_table[row].mnemonic, insn_table[op].mnemonic))
			continue;
		while (i < n && kinds[i] && operand_fits(kinds[i], operands[i]))
			i++;
		if (i == n && !kinds[i])
			return row;
	}
	return op;
}

static int emit(struct assembler *a, const struct sluice_insn *insn, size_t slots)
{
	struct sluice_insn *insns = grow(a->insns, &a->insns_cap, a->count + slots,
					 sizeof(*insns));

	if (!insns)
		return out_of_memory(a);
	a->insns = insns;
	memcpy(&insns[a->count], insn, slots * sizeof(*insn));
	a->count += slots;
	return 0;
}

static int assemble_insn(struct assembler *a, const struct token *toks, size_t n)
{
	struct sluice_insn insn[2] = { 0 };
	const uint8_t *kinds;
	size_t words, expected = 0;
	uint64_t imm64 = 0;
	int op, ret;

	op = find_mnemonic(toks, n < MAX_TOKENS ? n : MAX_TOKENS, &words);
	if (op < 0)
		return syntax_error(a, "unknown mnemonic '%.*s'", QUOTE(toks[0]));
	kinds = insn_shape_operands(insn_table[op].shape);
	while (kinds[expected])
		expected++;
	if (n - words != expected)
		return syntax_error(a, "expected %zu operand%s for '%s', got %zu", expected,
				    expected == 1 ? "" : "s", insn_table[op].mnemonic,
				    n - words);
	op = choose_row(op, toks + words, expected);
	kinds = insn_shape_operands(insn_table[op].shape);

	insn[0] = insn_encode((enum insn_op)op);
	for (size_t i = 0; kinds[i]; i++) {
		ret = parse_operand(a, kinds[i], toks[words + i], &insn[0], &imm64);
		if (ret)
			return ret;
	}
	if (op == OP_EXIT && a->first_exit == SIZE_MAX)
		a->first_exit = a->count;
	if (insn_table[op].shape == SHAPE_LDDW) {
		insn[0].imm = (int32_t)(uint32_t)imm64;
		insn[1].imm = (int32_t)(uint32_t)(imm64 >> 32);
	}
	return emit(a, insn, sluice_insn_slots(insn));
}

static int define_label(struct assembler *a, struct token t)
{
	struct token name = { t.s, t.len - 1 };
	struct label *labels;

	if (!is_identifier(name))
		return syntax_error(a, "invalid label name '%.*s'", QUOTE(name));
	labels = grow(a->labels, &a->labels_cap, a->nlabels + 1, sizeof(*labels));
	if (!labels)
		return out_of_memory(a);
	a->labels = labels;
	labels[a->nlabels++] = (struct label){ .name = name, .slot = a->count, .line = a->line };
	return 0;
}

/* Labels first ("loop:"), then a mnemonic and its operands, if any. */
static int assemble_line(struct assembler *a, struct cursor *c)
{
	struct token toks[MAX_TOKENS], t;
	size_t n = 0;
	int ret;

	while ((ret = next_token(a, c, &t)) > 0) {
		if (n == 0 && t.s[t.len - 1] == ':') {
			ret = define_label(a, t);
			if (ret)
				return ret;
			continue;
		}
		if (n < MAX_TOKENS)
			toks[n] = t;
		n++;
	}
	if (ret < 0)
		return ret;
	return n ? assemble_insn(a, toks, n) : 0;
}

/* Labels ------------------------------------------------------------------ */

static int compare_names(struct token x, struct token y)
{
	int c = memcmp(x.s, y.s, x.len < y.len ? x.len : y.len);

	if (c)
		return c;
	return (x.len > y.len) - (x.len < y.len);
}

/* By name, then by line, so that a duplicate follows its first definition. */
static int compare_labels(const void *x, const void *y)
{
	const struct label *l = x, *m = y;
	int c = compare_names(l->name, m->name);

	return c ? c : (l->line > m->line) - (l->line < m->line);
}

static int compare_key(const void *key, const void *label)
{
	return compare_names(*(const struct token *)key, ((const struct label *)label)->name);
}

/* The slot a label names, or SIZE_MAX; `exit` alone may be implicit. */
static size_t label_slot(const struct assembler *a, struct token name)
{
	const struct label *l = NULL;

	if (a->nlabels)
		l = bsearch(&name, a->labels, a->nlabels, sizeof(*l), compare_key);
	if (l)
		return l->slot;
	return token_is(name, insn_table[OP_EXIT].mnemonic) ? a->first_exit : SIZE_MAX;
}

static int resolve_labels(struct assembler *a)
{
	const struct label *dup = NULL;

	if (a->nlabels)
		qsort(a->labels, a->nlabels, sizeof(*a->labels), compare_labels);
	for (size_t i = 1; i < a->nlabels; i++)
		if (!compare_names(a->labels[i - 1].name, a->labels[i].name) &&
		    (!dup || a->labels[i].line < dup[1].line))
			dup = &a->labels[i - 1];
	if (dup)
		return error_at(a, dup[1].line, "duplicate label '%.*s' (first defined on line %zu)",
				QUOTE(dup->name), dup->line);

	for (size_t i = 0; i < a->nfixups; i++) {
		const struct fixup *f = &a->fixups[i];
		size_t target = label_slot(a, f->name);
		int64_t delta;

		if (target == SIZE_MAX)
			return error_at(a, f->line, "undefined label '%.*s'", QUOTE(f->name));
		delta = (int64_t)target - (int64_t)(f->slot + 1);
		if (!set_jump(&a->insns[f->slot], f->operand, delta))
			return error_at(a, f->line, "jump to '%.*s' out of range (offset %lld)",
					QUOTE(f->name), (long long)delta);
	}
	return 0;
}

int sluice_asm(const char *text, size_t len, const char *filename,
	       struct sluice_insn **out, size_t *count, struct sluice_error *err)
{
	struct assembler a = {
		.filename = filename ? filename : "<input>",
		.err = err,
		.first_exit = SIZE_MAX,
	};
	int ret = 0;

	/* Lines are sliced by length, so the text need not be NUL-terminated. */
	for (size_t pos = 0; pos < len && !ret;) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t line_len = nl ? (size_t)(nl - line) : len - pos;
		const char *comment = memchr(line, '#', line_len);
		struct cursor c = { line, comment ? comment : line + line_len };

		a.line++;
		ret = assemble_line(&a, &c);
		pos += line_len + 1;
	}
	if (!ret && !a.count)
		ret = sluice_fail(err, EINVAL, "%s: no instructions", a.filename);
	if (!ret)
		ret = resolve_labels(&a);
	free(a.labels);
	free(a.fixups);
	if (ret) {
		free(a.insns);
		return ret;
	}
	*out = a.insns;
	*count = a.count;
	return 0;
}
