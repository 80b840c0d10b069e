/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sluice/asm.h>

#include "errmsg.h"
#include "files.h"

int read_file(const char *path, char **data, size_t *len, struct sluice_error *err)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 4096, n = 0;
	char *buf;

	if (!f)
		return sluice_fail(err, errno, "cannot open '%s': %s", path, strerror(errno));
	buf = malloc(cap + 1);
	while (buf) {
		size_t got = fread(buf + n, 1, cap - n, f);

		n += got;
		if (n < cap)
			break;
		cap *= 2;
		char *grown = realloc(buf, cap + 1);
		if (!grown) {
			free(buf);
			buf = NULL;
			break;
		}
		buf = grown;
	}
	if (!buf) {
		fclose(f);
		return sluice_fail(err, ENOMEM, "'%s': out of memory", path);
	}
	if (ferror(f)) {
		int code = errno ? errno : EIO;

		free(buf);
		fclose(f);
		return sluice_fail(err, code, "cannot read '%s': %s", path, strerror(code));
	}
	fclose(f);
	buf[n] = '\0'; /* text callers may treat it as a string */
	*data = buf;
	*len = n;
	return 0;
}

int write_file(const char *path, const void *data, size_t len,
	       struct sluice_error *err)
{
	FILE *f = fopen(path, "wb");

	if (!f)
		return sluice_fail(err, errno, "cannot create '%s': %s", path, strerror(errno));
	if (fwrite(data, 1, len, f) != len || fclose(f)) {
		int code = errno ? errno : EIO;

		if (f)
			fclose(f);
		remove(path);
		return sluice_fail(err, code, "cannot write '%s': %s", path, strerror(code));
	}
	return 0;
}

static int has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

int load_program(const char *path, struct sluice_insn **insns, size_t *count,
		 struct sluice_error *err)
{
	char *data;
	size_t len;
	int ret = read_file(path, &data, &len, err);

	if (ret)
		return ret;
	if (has_suffix(path, ".s") || has_suffix(path, ".asm"))
		ret = sluice_asm(data, len, path, insns, count, err);
	else if ((ret = sluice_insns_decode(data, len, insns, count, err)))
		sluice_fail_prefix(err, ret, path);
	free(data);
	if (ret)
		return ret;
	if ((ret = sluice_insns_check(*insns, *count, err))) {
		sluice_fail_prefix(err, ret, path);
		free(*insns);
		*insns = NULL;
	}
	return ret;
}

int parse_u64_arg(const char *s, uint64_t *out)
{
	char *end;

	if (!*s || *s == '-')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 0);
	return *end || errno ? -1 : 0;
}

static int hex_digit(int c)
{
	return isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
}

int parse_hex_bytes(const char *text, size_t len, uint8_t **out, size_t *out_len,
		    struct sluice_error *err)
{
	uint8_t *buf = malloc(len / 2 + 1);
	size_t n = 0;

	if (!buf)
		return sluice_fail(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < len;) {
		if (isspace((unsigned char)text[i])) {
			i++;
			continue;
		}
		if (i + 1 >= len || !isxdigit((unsigned char)text[i]) ||
		    !isxdigit((unsigned char)text[i + 1])) {
			free(buf);
			return sluice_fail(err, EINVAL,
					   "bad hex byte at offset %zu: expected two hex digits",
					   i);
		}
		buf[n++] = (uint8_t)(hex_digit(text[i]) << 4 | hex_digit(text[i + 1]));
		i += 2;
	}
	*out = buf;
	*out_len = n;
	return 0;
}

int built_path(const char *rel, char *buf, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", buf, size - 1);
	char *slash;

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	if (!slash || (size_t)(slash - buf) + 1 + strlen(rel) >= size)
		return -1;
	snprintf(slash + 1, size - (size_t)(slash + 1 - buf), "%s", rel);
	return 0;
}
