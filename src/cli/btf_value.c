/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "btf.h"
#include "btf_value.h"

/* Nesting deeper than this is not shown: values of real maps are shallow. */
#define MAX_DEPTH 8
/* Longer arrays end in "...". */
#define MAX_ARRAY_SHOWN 32

struct writer {
	char *at;
	size_t left;
	bool full;
};

static void put(struct writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct writer *w, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (w->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(w->at, w->left, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= w->left) {
		w->full = true;
		return;
	}
	w->at += n;
	w->left -= (size_t)n;
}

/* Up to 64 bits starting bit_off bits into data, little-endian as the program stored them. */
static bool read_bits(const uint8_t *data, size_t size, uint32_t bit_off, uint32_t bits,
		      uint64_t *out)
{
	size_t first = bit_off / 8, last = ((size_t)bit_off + bits + 7) / 8;
	unsigned __int128 v = 0;

	if (!bits || bits > 64 || last > size)
		return false;
	for (size_t i = last; i > first; i--)
		v = v << 8 | data[i - 1];
	v >>= bit_off % 8;
	*out = (uint64_t)v & (bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1);
	return true;
}

static bool put_int(struct writer *w, const struct btf_type *t, const uint8_t *data,
		    size_t size, uint32_t bit_off, uint32_t bitfield)
{
	uint32_t encoding = btf_int_encoding(t);
	uint32_t bits = bitfield ? bitfield : btf_int_bits(t);
	uint64_t v;

	if (!read_bits(data, size, bit_off + (bitfield ? 0 : btf_int_offset(t)), bits, &v))
		return false;
	if (encoding & BTF_INT_BOOL)
		put(w, v ? "true" : "false");
	else if ((encoding & BTF_INT_SIGNED) && bits < 64 && (v >> (bits - 1)))
		put(w, "%" PRId64, (int64_t)(v | ~((UINT64_C(1) << bits) - 1)));
	else if (encoding & BTF_INT_SIGNED)
		put(w, "%" PRId64, (int64_t)v);
	else
		put(w, "%" PRIu64, v);
	return true;
}

static bool put_enum(struct writer *w, const struct sluice_btf *btf, const struct btf_type *t,
		     const uint8_t *data, size_t size, uint32_t bit_off, uint32_t bitfield)
{
	uint32_t bits = bitfield ? bitfield : t->size * 8;
	uint64_t v, mask = bits >= 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;

	if (!read_bits(data, size, bit_off, bits, &v))
		return false;
	for (unsigned i = 0; i < btf_vlen(t); i++) {
		uint64_t value;
		uint32_t name;

		if (btf_kind(t) == BTF_KIND_ENUM) {
			value = (uint32_t)btf_enums(t)[i].val;
			name = btf_enums(t)[i].name_off;
		} else {
			value = (uint64_t)btf_enums64(t)[i].val_hi32 << 32 | btf_enums64(t)[i].val_lo32;
			name = btf_enums64(t)[i].name_off;
		}
		if ((value & mask) == v) {
			put(w, "%s", btf_str(btf, name));
			return true;
		}
	}
	put(w, "%" PRIu64, v);
	return true;
}

static bool put_type(struct writer *w, const struct sluice_btf *btf, uint32_t id,
		     const uint8_t *data, size_t size, uint32_t bit_off, uint32_t bitfield,
		     int depth);

/* The members of a struct or union; anonymous ones without a name. */
static bool put_members(struct writer *w, const struct sluice_btf *btf, const struct btf_type *t,
			const uint8_t *data, size_t size, int depth)
{
	put(w, "{");
	for (unsigned i = 0; i < btf_vlen(t); i++) {
		const char *name = btf_str(btf, btf_members(t)[i].name_off);

		put(w, "%s%s%s", i ? "," : "", name, *name ? "=" : "");
		if (!put_type(w, btf, btf_members(t)[i].type, data, size,
			      btf_member_bit_offset(t, i), btf_member_bitfield_size(t, i), depth + 1))
			return false;
	}
	put(w, "}");
	return true;
}

static bool put_array(struct writer *w, const struct sluice_btf *btf, const struct btf_type *t,
		      const uint8_t *data, size_t size, int depth)
{
	const struct btf_array *a = btf_array_info(t);
	int64_t elem = btf_resolve_size(btf, a->type);

	if (elem <= 0 || (uint64_t)elem * a->nelems > size)
		return false;
	put(w, "[");
	for (uint32_t i = 0; i < a->nelems && i < MAX_ARRAY_SHOWN; i++) {
		put(w, i ? "," : "");
		if (!put_type(w, btf, a->type, data + (size_t)elem * i, (size_t)elem, 0, 0, depth + 1))
			return false;
	}
	put(w, a->nelems > MAX_ARRAY_SHOWN ? ",...]" : "]");
	return true;
}

/* The value of type id bit_off bits into data (a bitfield of that many bits when non-zero). */
static bool put_type(struct writer *w, const struct sluice_btf *btf, uint32_t id,
		     const uint8_t *data, size_t size, uint32_t bit_off, uint32_t bitfield,
		     int depth)
{
	const struct btf_type *t;
	int64_t type_size;

	id = btf_skip_modifiers(NULL, btf, id);
	t = btf_type_by_id(btf, id);
	if (!t || depth > MAX_DEPTH)
		return false;
	switch (btf_kind(t)) {
	case BTF_KIND_INT:
		return put_int(w, t, data, size, bit_off, bitfield);
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
		return put_enum(w, btf, t, data, size, bit_off, bitfield);
	case BTF_KIND_PTR: {
		uint64_t v;

		if (!read_bits(data, size, bit_off, 64, &v))
			return false;
		put(w, "0x%" PRIx64, v);
		return true;
	}
	default:
		break;
	}
	/* aggregates start on a byte and lie inside the data */
	type_size = btf_resolve_size(btf, id);
	if (bit_off % 8 || bitfield || type_size < 0 || bit_off / 8 + (uint64_t)type_size > size)
		return false;
	data += bit_off / 8;
	switch (btf_kind(t)) {
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		return put_members(w, btf, t, data, (size_t)type_size, depth);
	case BTF_KIND_ARRAY:
		return put_array(w, btf, t, data, (size_t)type_size, depth);
	default:
		return false;
	}
}

bool btf_value_format(const struct sluice_btf *btf, uint32_t type_id, const uint8_t *data,
		      size_t size, char *out, size_t room)
{
	struct writer w = { out, room, false };

	if (!btf || !type_id || !room)
		return false;
	return put_type(&w, btf, type_id, data, size, 0, 0, 0) && !w.full;
}
