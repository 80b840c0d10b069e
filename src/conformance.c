/* SPDX-License-Identifier: MIT */
/*
 * Reader for the bpf_conformance `.data` format, following the suite's own
 * parser: `#` comments, `--` section lines recognised by substring in a
 * fixed order, hex or decimal results.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/asm.h>
#include <sluice/conformance.h>

#include "errmsg.h"

enum section { SEC_NONE, SEC_ASM, SEC_RESULT, SEC_MEM, SEC_RAW, SEC_IGNORED, SEC_ERROR };

/* Keyword order matters: the suite tests them by substring in this order. */
static const struct {
	const char *keyword;
	enum section section;
} section_keywords[] = {
	{ "asm", SEC_ASM },
	{ "result", SEC_RESULT },
	{ "mem", SEC_MEM },
	{ "raw", SEC_RAW },
	{ "no register offset", SEC_IGNORED },
	{ " c", SEC_IGNORED },
	{ "error", SEC_ERROR },
};

struct parser {
	const char *filename;
	unsigned line;
	struct sluice_error *err;
	struct sluice_conformance_case *c;
	char *asm_text;     /* the file with every non-asm line blanked */
	size_t asm_len;
	uint64_t *raw;
	size_t nraw, raw_cap;
	size_t mem_cap;
};

static int parse_fail(struct parser *p, const char *what, const char *text)
{
	return sluice_fail(p->err, EINVAL, "%s:%u: %s '%.40s'", p->filename,
			   p->line, what, text);
}

static int grow(void **buf, size_t *cap, size_t need, size_t elem)
{
	size_t cap2 = *cap ? *cap : 16;
	void *grown;

	if (need <= *cap)
		return 0;
	while (cap2 < need)
		cap2 *= 2;
	grown = realloc(*buf, cap2 * elem);
	if (!grown)
		return -ENOMEM;
	*buf = grown;
	*cap = cap2;
	return 0;
}

static int parse_u64(const char *s, int base, uint64_t *out, const char **end)
{
	char *stop;

	errno = 0;
	*out = strtoull(s, &stop, base);
	if (stop == s || errno)
		return -1;
	*end = stop;
	return 0;
}

static int parse_mem(struct parser *p, const char *line)
{
	while (*line) {
		unsigned long byte;
		char *stop;

		line += strspn(line, " \t");
		if (!*line)
			break;
		byte = strtoul(line, &stop, 16);
		if (stop - line != 2)
			return parse_fail(p, "expected a two-digit hex byte at", line);
		if (grow((void **)&p->c->mem, &p->mem_cap, p->c->mem_len + 1, 1))
			return sluice_fail(p->err, ENOMEM, "out of memory");
		p->c->mem[p->c->mem_len++] = (uint8_t)byte;
		line = stop;
	}
	return 0;
}

static int parse_raw(struct parser *p, const char *line)
{
	while (*line) {
		uint64_t v;

		line += strspn(line, " \t");
		if (!*line)
			break;
		if (parse_u64(line, 0, &v, &line))
			return parse_fail(p, "expected a 64-bit number at", line);
		if (grow((void **)&p->raw, &p->raw_cap, p->nraw + 1, sizeof(*p->raw)))
			return sluice_fail(p->err, ENOMEM, "out of memory");
		p->raw[p->nraw++] = v;
	}
	return 0;
}

static int parse_result(struct parser *p, const char *line)
{
	const char *end;
	int base = strstr(line, "0x") || strstr(line, "0X") ? 16 : 10;

	line += strspn(line, " \t");
	if (parse_u64(line, base, &p->c->result, &end) ||
	    end[strspn(end, " \t")])
		return parse_fail(p, "bad result", line);
	p->c->has_result = true;
	return 0;
}

static int parse_error(struct parser *p, const char *line)
{
	free(p->c->error);
	p->c->error = strdup(line + strspn(line, " \t"));
	return p->c->error ? 0 : sluice_fail(p->err, ENOMEM, "out of memory");
}

static int parse_line(struct parser *p, enum section *sec, char *line,
		      size_t asm_at)
{
	if (strstr(line, "--")) {
		for (size_t i = 0; i < sizeof(section_keywords) / sizeof(section_keywords[0]); i++) {
			if (strstr(line, section_keywords[i].keyword)) {
				*sec = section_keywords[i].section;
				return 0;
			}
		}
		return parse_fail(p, "unknown section", line);
	}
	switch (*sec) {
	case SEC_ASM:
		memcpy(p->asm_text + asm_at, line, strlen(line));
		return 0;
	case SEC_MEM:
		return parse_mem(p, line);
	case SEC_RAW:
		return parse_raw(p, line);
	case SEC_RESULT:
		return parse_result(p, line);
	case SEC_ERROR:
		return parse_error(p, line);
	case SEC_IGNORED:
		return 0;
	case SEC_NONE:
		break;
	}
	return parse_fail(p, "text outside any section", line);
}

static int build_program(struct parser *p)
{
	struct sluice_conformance_case *c = p->c;

	if (p->nraw) {
		/* raw slots are little-endian 64-bit words, which is the insn layout */
		return sluice_insns_decode(p->raw, p->nraw * sizeof(*p->raw),
					   &c->insns, &c->count, p->err);
	}
	return sluice_asm(p->asm_text, p->asm_len, p->filename, &c->insns,
			  &c->count, p->err);
}

int sluice_conformance_parse(const char *text, size_t len, const char *filename,
			     struct sluice_conformance_case *out,
			     struct sluice_error *err)
{
	struct parser p = { .filename = filename, .err = err, .c = out };
	enum section sec = SEC_NONE;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	p.asm_text = malloc(len + 1);
	if (!p.asm_text)
		return sluice_fail(err, ENOMEM, "out of memory");
	/* Same length and newlines as the file, so assembler errors keep its line numbers. */
	for (size_t i = 0; i < len; i++)
		p.asm_text[i] = text[i] == '\n' ? '\n' : ' ';
	p.asm_len = len;

	for (size_t at = 0; at < len && !ret;) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t line_len = nl ? (size_t)(nl - (text + at)) : len - at;
		size_t n = line_len;
		char *line = malloc(n + 1);
		char *hash;

		if (!line) {
			ret = sluice_fail(err, ENOMEM, "out of memory");
			break;
		}
		memcpy(line, text + at, n);
		line[n] = '\0';
		p.line++;
		if (memchr(line, '\0', n)) {
			ret = parse_fail(&p, "NUL byte in line", "");
		} else {
			if ((hash = strchr(line, '#')))
				*hash = '\0';
			n = strlen(line);
			while (n && strchr(" \t\r", line[n - 1]))
				line[--n] = '\0';
			if (n)
				ret = parse_line(&p, &sec, line, at);
		}
		free(line);
		at += line_len + 1;
	}
	if (!ret && !out->has_result && !out->error)
		ret = sluice_fail(err, EINVAL, "%s: no '-- result' or '-- error' section",
				  filename);
	if (!ret)
		ret = build_program(&p);
	free(p.asm_text);
	free(p.raw);
	if (ret)
		sluice_conformance_case_free(out);
	return ret;
}

void sluice_conformance_case_free(struct sluice_conformance_case *c)
{
	free(c->insns);
	free(c->mem);
	free(c->error);
	memset(c, 0, sizeof(*c));
}
