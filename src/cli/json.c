/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdlib.h>

#include "json.h"

#define JSON_MAX_DEPTH 32

struct json {
	FILE *out;
	int depth;
	bool need_comma[JSON_MAX_DEPTH];
};

struct json *json_new(FILE *out)
{
	struct json *j = calloc(1, sizeof(*j));

	if (j)
		j->out = out;
	return j;
}

void json_free(struct json *j)
{
	if (!j)
		return;
	fputc('\n', j->out);
	fflush(j->out);
	free(j);
}

static void write_escaped(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", out);
		else if (*p < 0x20 || *p >= 0x7f)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

/* Separator and key before a value at the current level. */
static void value_prefix(struct json *j, const char *key)
{
	if (j->need_comma[j->depth])
		fputc(',', j->out);
	j->need_comma[j->depth] = true;
	if (key) {
		write_escaped(j->out, key);
		fputc(':', j->out);
	}
}

static void open_level(struct json *j, const char *key, char bracket)
{
	value_prefix(j, key);
	fputc(bracket, j->out);
	if (j->depth + 1 < JSON_MAX_DEPTH)
		j->depth++;
	j->need_comma[j->depth] = false;
}

static void close_level(struct json *j, char bracket)
{
	fputc(bracket, j->out);
	if (j->depth > 0)
		j->depth--;
}

void json_object_begin(struct json *j, const char *key) { open_level(j, key, '{'); }
void json_object_end(struct json *j) { close_level(j, '}'); }
void json_array_begin(struct json *j, const char *key) { open_level(j, key, '['); }
void json_array_end(struct json *j) { close_level(j, ']'); }

void json_string(struct json *j, const char *key, const char *value)
{
	value_prefix(j, key);
	write_escaped(j->out, value ? value : "");
}

void json_u64(struct json *j, const char *key, uint64_t value)
{
	value_prefix(j, key);
	fprintf(j->out, "%" PRIu64, value);
}

void json_i64(struct json *j, const char *key, int64_t value)
{
	value_prefix(j, key);
	fprintf(j->out, "%" PRId64, value);
}

void json_bool(struct json *j, const char *key, bool value)
{
	value_prefix(j, key);
	fputs(value ? "true" : "false", j->out);
}
