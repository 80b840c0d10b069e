/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "profile/stacks.h"

struct folded {
	char *line;
	uint64_t count;
};

struct prof_stacks {
	struct folded *lines;
	size_t n, cap;
	uint64_t total;
	bool merged; /* sorted, equal lines summed: reset by every add */
};

struct prof_stacks *prof_stacks_new(void)
{
	return calloc(1, sizeof(struct prof_stacks));
}

void prof_stacks_free(struct prof_stacks *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->lines[i].line);
	free(s->lines);
	free(s);
}

static void copy_frame(char *dst, const char *frame, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = frame[i];

		dst[i] = c == ';' ? ':' : c == '\n' || c == '\r' ? ' ' : c;
	}
}

int prof_stacks_add(struct prof_stacks *s, const char *const *frames, size_t n,
		    uint64_t count, struct sluice_error *err)
{
	static const char unknown[] = "[unknown]";
	size_t len = 0, at = 0;
	char *line;

	for (size_t i = 0; i < n; i++)
		len += (frames[i] && *frames[i] ? strlen(frames[i]) : sizeof(unknown) - 1) + 1;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		struct folded *grown = realloc(s->lines, cap * sizeof(*grown));

		if (!grown)
			return sluice_fail(err, ENOMEM, "out of memory");
		s->lines = grown;
		s->cap = cap;
	}
	line = malloc(len + 1);
	if (!line)
		return sluice_fail(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const char *f = frames[i] && *frames[i] ? frames[i] : unknown;
		size_t flen = strlen(f);

		if (i)
			line[at++] = ';';
		copy_frame(line + at, f, flen);
		at += flen;
	}
	line[at] = '\0';
	s->lines[s->n++] = (struct folded){ line, count };
	s->total += count;
	s->merged = false;
	return 0;
}

static int by_line(const void *a, const void *b)
{
	return strcmp(((const struct folded *)a)->line, ((const struct folded *)b)->line);
}

static void merge(struct prof_stacks *s)
{
	size_t out = 0;

	if (s->merged)
		return;
	if (s->n)
		qsort(s->lines, s->n, sizeof(*s->lines), by_line);
	for (size_t i = 0; i < s->n; i++) {
		if (out && !strcmp(s->lines[out - 1].line, s->lines[i].line)) {
			s->lines[out - 1].count += s->lines[i].count;
			free(s->lines[i].line);
		} else {
			s->lines[out++] = s->lines[i];
		}
	}
	s->n = out;
	s->merged = true;
}

size_t prof_stacks_count(struct prof_stacks *s)
{
	merge(s);
	return s->n;
}

uint64_t prof_stacks_total(const struct prof_stacks *s)
{
	return s->total;
}

const char *prof_stacks_line(struct prof_stacks *s, size_t i, uint64_t *count)
{
	merge(s);
	*count = s->lines[i].count;
	return s->lines[i].line;
}

int prof_stacks_write_folded(struct prof_stacks *s, FILE *f, struct sluice_error *err)
{
	merge(s);
	for (size_t i = 0; i < s->n; i++)
		fprintf(f, "%s %llu\n", s->lines[i].line, (unsigned long long)s->lines[i].count);
	if (fflush(f) || ferror(f))
		return sluice_fail(err, EIO, "cannot write the folded stacks");
	return 0;
}
