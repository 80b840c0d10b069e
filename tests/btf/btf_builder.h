/* SPDX-License-Identifier: MIT */
/*
 * A tiny BTF writer for tests: types are appended in id order (the first is
 * id 1) and records (members, values, parameters) follow the type they
 * belong to, exactly as the blob lays them out.  Nothing is checked here:
 * tests build broken BTF on purpose.
 */
#ifndef SLUICE_TEST_BTF_BUILDER_H
#define SLUICE_TEST_BTF_BUILDER_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <linux/btf.h>

#define BB_INFO(kind, kflag, vlen) ((uint32_t)(kflag) << 31 | (uint32_t)(kind) << 24 | (vlen))
#define BB_INT(encoding, bits) ((uint32_t)(encoding) << 24 | (bits))
#define BB_BITFIELD(bits, offset) ((uint32_t)(bits) << 24 | (offset))

struct btf_builder {
	uint8_t types[16384];
	uint32_t types_len;
	char strs[4096];
	uint32_t strs_len;
	uint32_t last_id;
	uint8_t out[sizeof(struct btf_header) + 16384 + 4096];
};

static inline void bb_init(struct btf_builder *b)
{
	memset(b, 0, sizeof(*b));
	b->strs_len = 1; /* offset 0 is the empty string */
}

/* Offset of s in the strings (0 for NULL or ""), added when new. */
static inline uint32_t bb_str(struct btf_builder *b, const char *s)
{
	size_t len;

	if (!s || !*s)
		return 0;
	for (uint32_t off = 1; off < b->strs_len; off += (uint32_t)strlen(b->strs + off) + 1)
		if (!strcmp(b->strs + off, s))
			return off;
	len = strlen(s) + 1;
	memcpy(b->strs + b->strs_len, s, len);
	b->strs_len += (uint32_t)len;
	return b->strs_len - (uint32_t)len;
}

static inline void bb_u32(struct btf_builder *b, uint32_t v)
{
	memcpy(b->types + b->types_len, &v, sizeof(v));
	b->types_len += sizeof(v);
}

/* struct btf_type; size_or_type is the size or the referenced id, as the kind says. */
static inline uint32_t bb_type(struct btf_builder *b, const char *name, unsigned kind, bool kflag,
			       unsigned vlen, uint32_t size_or_type)
{
	bb_u32(b, bb_str(b, name));
	bb_u32(b, BB_INFO(kind, kflag, vlen));
	bb_u32(b, size_or_type);
	return ++b->last_id;
}

static inline uint32_t bb_int(struct btf_builder *b, const char *name, uint32_t size,
			      uint32_t encoding)
{
	uint32_t id = bb_type(b, name, BTF_KIND_INT, false, 0, size);

	bb_u32(b, BB_INT(encoding, size * 8));
	return id;
}

/* A member, parameter, enum value or datasec entry: three words or two. */
static inline void bb_record(struct btf_builder *b, const char *name, uint32_t a, uint32_t c)
{
	bb_u32(b, bb_str(b, name));
	bb_u32(b, a);
	bb_u32(b, c);
}

static inline void bb_pair(struct btf_builder *b, const char *name, uint32_t a)
{
	bb_u32(b, bb_str(b, name));
	bb_u32(b, a);
}

static inline uint32_t bb_array(struct btf_builder *b, uint32_t elem, uint32_t index,
				uint32_t nelems)
{
	uint32_t id = bb_type(b, NULL, BTF_KIND_ARRAY, false, 0, 0);

	bb_u32(b, elem);
	bb_u32(b, index);
	bb_u32(b, nelems);
	return id;
}

/* The finished blob: header, types, strings. */
static inline const void *bb_finish(struct btf_builder *b, size_t *size)
{
	struct btf_header hdr = {
		.magic = BTF_MAGIC,
		.version = BTF_VERSION,
		.hdr_len = sizeof(hdr),
		.type_off = 0,
		.type_len = b->types_len,
		.str_off = b->types_len,
		.str_len = b->strs_len,
	};

	memcpy(b->out, &hdr, sizeof(hdr));
	memcpy(b->out + sizeof(hdr), b->types, b->types_len);
	memcpy(b->out + sizeof(hdr) + b->types_len, b->strs, b->strs_len);
	*size = sizeof(hdr) + b->types_len + b->strs_len;
	return b->out;
}

#endif
