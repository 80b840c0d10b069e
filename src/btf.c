/* SPDX-License-Identifier: MIT */
/*
 * BTF, parsed and validated once so that every accessor can trust it.
 *
 * Validation follows the kernel's rules where they protect a reader (ids in
 * range, names inside the strings, records inside the section, no loops a
 * size computation could run around) and stays as lenient as libbpf where
 * clang's output for an object differs from what the kernel accepts
 * (DATASEC sizes and offsets are only known after linking, for instance).
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "btf.h"
#include "errmsg.h"

/* Bits of btf_type.info that mean something: kind, kflag and vlen. */
#define BTF_INFO_USED 0x9f00ffffu
#define BTF_INT_USED 0x0fff00ffu
/* libbpf's limit on chains followed when resolving a size. */
#define RESOLVE_DEPTH 32

/* What btf_type.type holds for each kind. */
enum ref_rule {
	REF_NONE,      /* a size, or nothing */
	REF_POINTEE,   /* any type or void, not needed whole (ptr, return type) */
	REF_QUALIFIED, /* any type or void, which this one merely renames or qualifies */
	REF_OBJECT,    /* a type that is not void, contained whole (var, decl_tag) */
	REF_FUNC,      /* a func_proto */
};

/* One row per kind: the bytes that follow struct btf_type and what it refers to. */
static const struct kind_info {
	const char *name;
	uint8_t extra;  /* fixed bytes after struct btf_type */
	uint8_t record; /* bytes per vlen record; 0 when vlen must be 0 (or, for func, is the linkage) */
	uint8_t ref;    /* enum ref_rule */
} kinds[NR_BTF_KINDS] = {
	[BTF_KIND_UNKN] = { "unknown", 0, 0, REF_NONE },
	[BTF_KIND_INT] = { "int", sizeof(uint32_t), 0, REF_NONE },
	[BTF_KIND_PTR] = { "ptr", 0, 0, REF_POINTEE },
	[BTF_KIND_ARRAY] = { "array", sizeof(struct btf_array), 0, REF_NONE },
	[BTF_KIND_STRUCT] = { "struct", 0, sizeof(struct btf_member), REF_NONE },
	[BTF_KIND_UNION] = { "union", 0, sizeof(struct btf_member), REF_NONE },
	[BTF_KIND_ENUM] = { "enum", 0, sizeof(struct btf_enum), REF_NONE },
	[BTF_KIND_FWD] = { "fwd", 0, 0, REF_NONE },
	[BTF_KIND_TYPEDEF] = { "typedef", 0, 0, REF_QUALIFIED },
	[BTF_KIND_VOLATILE] = { "volatile", 0, 0, REF_QUALIFIED },
	[BTF_KIND_CONST] = { "const", 0, 0, REF_QUALIFIED },
	[BTF_KIND_RESTRICT] = { "restrict", 0, 0, REF_QUALIFIED },
	[BTF_KIND_FUNC] = { "func", 0, 0, REF_FUNC },
	[BTF_KIND_FUNC_PROTO] = { "func_proto", 0, sizeof(struct btf_param), REF_POINTEE },
	[BTF_KIND_VAR] = { "var", sizeof(struct btf_var), 0, REF_OBJECT },
	[BTF_KIND_DATASEC] = { "datasec", 0, sizeof(struct btf_var_secinfo), REF_NONE },
	[BTF_KIND_FLOAT] = { "float", 0, 0, REF_NONE },
	[BTF_KIND_DECL_TAG] = { "decl_tag", sizeof(struct btf_decl_tag), 0, REF_OBJECT },
	[BTF_KIND_TYPE_TAG] = { "type_tag", 0, 0, REF_QUALIFIED },
	[BTF_KIND_ENUM64] = { "enum64", 0, sizeof(struct btf_enum64), REF_NONE },
};

/* Open addressing over type ids, keyed by name; 0 marks a free slot. */
struct name_index {
	uint32_t mask;
	uint32_t slots[];
};

struct sluice_btf {
	const struct sluice_btf *base;
	uint8_t *data;             /* the raw blob, owned */
	size_t size;
	const uint8_t *types;      /* the type section inside data */
	uint32_t *type_offs;       /* offset in types of each own type */
	const char *strs;          /* the string section inside data */
	uint32_t str_len;
	uint32_t start_str_off;    /* name offsets below this are the base's */
	uint32_t start_id;         /* first own id: 1, or the base's last + 1 */
	uint32_t last_id;
	uint32_t ptr_size;         /* 0 until a `long` says otherwise */
	/* built on the first lookup by name; accessors take a const btf */
	_Atomic(struct name_index *) names;
};

const char *btf_kind_str(unsigned kind)
{
	return kind < NR_BTF_KINDS ? kinds[kind].name : "unknown";
}

uint32_t btf_last_id(const struct sluice_btf *btf)
{
	return btf->last_id;
}

const void *btf_raw_data(const struct sluice_btf *btf, size_t *size)
{
	*size = btf->size;
	return btf->data;
}

const struct btf_type *btf_type_by_id(const struct sluice_btf *btf, uint32_t id)
{
	if (id < btf->start_id)
		return btf->base ? btf_type_by_id(btf->base, id) : NULL;
	if (id > btf->last_id)
		return NULL;
	return (const struct btf_type *)(btf->types + btf->type_offs[id - btf->start_id]);
}

const char *btf_str(const struct sluice_btf *btf, uint32_t offset)
{
	if (offset < btf->start_str_off)
		return btf_str(btf->base, offset);
	offset -= btf->start_str_off;
	return offset < btf->str_len ? btf->strs + offset : NULL;
}

const char *btf_type_name(const struct sluice_btf *btf, uint32_t id)
{
	const struct btf_type *t = btf_type_by_id(btf, id);

	return t ? btf_str(btf, t->name_off) : "";
}

uint32_t btf_member_bit_offset(const struct btf_type *t, unsigned i)
{
	uint32_t offset = btf_members(t)[i].offset;

	return btf_kflag(t) ? BTF_MEMBER_BIT_OFFSET(offset) : offset;
}

uint32_t btf_member_bitfield_size(const struct btf_type *t, unsigned i)
{
	return btf_kflag(t) ? BTF_MEMBER_BITFIELD_SIZE(btf_members(t)[i].offset) : 0;
}

static bool is_qualifier(const struct btf_type *t)
{
	return kinds[btf_kind(t)].ref == REF_QUALIFIED;
}

/* t is the type of id, or NULL to look it up. */
uint32_t btf_skip_modifiers(const struct btf_type *t, const struct sluice_btf *btf, uint32_t id)
{
	if (!t)
		t = btf_type_by_id(btf, id);
	/* validation rejected qualifier loops, so this ends */
	while (t && is_qualifier(t)) {
		id = t->type;
		t = btf_type_by_id(btf, id);
	}
	return id;
}

/*
 * libbpf's btf__resolve_size, step for step (depth limit and overflow
 * checks included): CO-RE must compute the same sizes libbpf does.
 */
int64_t btf_resolve_size(const struct sluice_btf *btf, uint32_t id)
{
	const struct btf_type *t = btf_type_by_id(btf, id);
	uint32_t nelems = 1;
	int64_t size = -1;

	for (int depth = 0; depth < RESOLVE_DEPTH && t && size < 0; depth++) {
		switch (btf_kind(t)) {
		case BTF_KIND_INT:
		case BTF_KIND_STRUCT:
		case BTF_KIND_UNION:
		case BTF_KIND_ENUM:
		case BTF_KIND_ENUM64:
		case BTF_KIND_DATASEC:
		case BTF_KIND_FLOAT:
			size = t->size;
			break;
		case BTF_KIND_PTR:
			size = btf->ptr_size ? btf->ptr_size : sizeof(void *);
			break;
		case BTF_KIND_TYPEDEF:
		case BTF_KIND_VOLATILE:
		case BTF_KIND_CONST:
		case BTF_KIND_RESTRICT:
		case BTF_KIND_VAR:
		case BTF_KIND_DECL_TAG:
		case BTF_KIND_TYPE_TAG:
			t = btf_type_by_id(btf, t->type);
			break;
		case BTF_KIND_ARRAY: {
			const struct btf_array *array = btf_array_info(t);

			if (nelems && array->nelems > UINT32_MAX / nelems)
				return -E2BIG;
			nelems *= array->nelems;
			t = btf_type_by_id(btf, array->type);
			break;
		}
		default:
			return -EINVAL;
		}
	}
	if (size < 0)
		return -EINVAL;
	if (nelems && size > UINT32_MAX / nelems)
		return -E2BIG;
	return nelems * size;
}

/* FNV-1a: cheap, and good enough to spread C identifiers. */
static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

static struct name_index *build_name_index(const struct sluice_btf *btf)
{
	uint32_t named = 0, cap = 16;
	struct name_index *idx;

	for (uint32_t id = btf->start_id; id <= btf->last_id; id++)
		named += btf_type_by_id(btf, id)->name_off != 0;
	while (cap < 2 * named)
		cap *= 2;
	idx = calloc(1, sizeof(*idx) + cap * sizeof(idx->slots[0]));
	if (!idx)
		return NULL;
	idx->mask = cap - 1;
	/* in id order, so that a probe meets equal names lowest id first */
	for (uint32_t id = btf->start_id; id <= btf->last_id; id++) {
		const struct btf_type *t = btf_type_by_id(btf, id);
		uint32_t slot;

		if (!t->name_off)
			continue;
		slot = name_hash(btf_str(btf, t->name_off)) & idx->mask;
		while (idx->slots[slot])
			slot = (slot + 1) & idx->mask;
		idx->slots[slot] = id;
	}
	return idx;
}

int btf_find_by_name_kind(const struct sluice_btf *btf, const char *name, unsigned kind)
{
	struct sluice_btf *mut = (struct sluice_btf *)btf; /* only the lazy index changes */
	struct name_index *idx = atomic_load_explicit(&mut->names, memory_order_acquire);
	uint32_t slot;

	if (btf->base) {
		int id = btf_find_by_name_kind(btf->base, name, kind);

		if (id != -ENOENT)
			return id;
	}
	if (!idx) {
		struct name_index *expected = NULL;

		idx = build_name_index(btf);
		if (!idx)
			return -ENOMEM;
		/* another thread may have built it meanwhile: keep the first */
		if (!atomic_compare_exchange_strong_explicit(&mut->names, &expected, idx,
							     memory_order_acq_rel,
							     memory_order_acquire)) {
			free(idx);
			idx = expected;
		}
	}
	for (slot = name_hash(name) & idx->mask; idx->slots[slot]; slot = (slot + 1) & idx->mask) {
		uint32_t id = idx->slots[slot];
		const struct btf_type *t = btf_type_by_id(btf, id);

		if (btf_kind(t) == kind && !strcmp(btf_str(btf, t->name_off), name))
			return (int)id;
	}
	return -ENOENT;
}

/* ---- validation ---- */

/* -1 for the tagged type itself, else its member or parameter index. */
static int32_t tag_component(const struct btf_type *t)
{
	return ((const struct btf_decl_tag *)(t + 1))->component_idx;
}

static size_t type_bytes(const struct btf_type *t)
{
	const struct kind_info *k = &kinds[btf_kind(t)];

	return sizeof(*t) + k->extra + (size_t)k->record * btf_vlen(t);
}

/* Put the type a failure is about before its message: "BTF: type 7 (struct foo): ...". */
static int in_type(const struct sluice_btf *btf, uint32_t id, struct sluice_error *err, int ret)
{
	const struct btf_type *t = btf_type_by_id(btf, id);
	const char *name = btf_str(btf, t->name_off);
	char prefix[SLUICE_ERRMSG_MAX];

	snprintf(prefix, sizeof(prefix), "BTF: type %u (%s%s%s)", id, btf_kind_str(btf_kind(t)),
		 name && *name ? " " : "", name ? name : "");
	return sluice_fail_prefix(err, ret, prefix);
}

#define type_fail(btf, id, err, ...) in_type(btf, id, err, sluice_fail(err, EINVAL, __VA_ARGS__))

static bool str_ok(const struct sluice_btf *btf, uint32_t offset)
{
	return offset < btf->start_str_off + (uint64_t)btf->str_len;
}

static int bad_str(const struct sluice_btf *btf, uint32_t id, struct sluice_error *err,
		   const char *what, unsigned i, uint32_t offset)
{
	return type_fail(btf, id, err, "%s %u: name offset %u is beyond the strings (%u bytes)",
			 what, i, offset, btf->start_str_off + btf->str_len);
}

/* A reference from type id (its part named by fmt) to ref: in range, and void only where void_ok. */
static int check_ref(const struct sluice_btf *btf, uint32_t id, struct sluice_error *err,
		     uint32_t ref, bool void_ok, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static int check_ref(const struct sluice_btf *btf, uint32_t id, struct sluice_error *err,
		     uint32_t ref, bool void_ok, const char *fmt, ...)
{
	char what[64];
	va_list ap;

	if (ref <= btf->last_id && (ref || void_ok))
		return 0;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (ref)
		return type_fail(btf, id, err, "%s references type %u, beyond the last id %u",
				 what, ref, btf->last_id);
	return type_fail(btf, id, err, "%s is void", what);
}

static int check_int(const struct sluice_btf *btf, uint32_t id, const struct btf_type *t,
		     struct sluice_error *err)
{
	uint32_t data = *(const uint32_t *)(t + 1);
	uint32_t bits = BTF_INT_BITS(data), offset = BTF_INT_OFFSET(data);
	uint32_t enc = BTF_INT_ENCODING(data);

	if (data & ~BTF_INT_USED)
		return type_fail(btf, id, err, "unknown bits set in 0x%08x", data);
	if (t->size != 1 && t->size != 2 && t->size != 4 && t->size != 8 && t->size != 16)
		return type_fail(btf, id, err, "size %u is not 1, 2, 4, 8 or 16", t->size);
	if (bits > 128 || offset + bits > 8 * t->size)
		return type_fail(btf, id, err, "%u bits at bit %u do not fit in %u bytes", bits,
				 offset, t->size);
	if (enc && enc != BTF_INT_SIGNED && enc != BTF_INT_CHAR && enc != BTF_INT_BOOL)
		return type_fail(btf, id, err, "unknown encoding 0x%x", enc);
	return 0;
}

static int check_members(const struct sluice_btf *btf, uint32_t id, const struct btf_type *t,
			 struct sluice_error *err)
{
	for (unsigned i = 0; i < btf_vlen(t); i++) {
		const struct btf_member *m = &btf_members(t)[i];
		uint32_t bit = btf_member_bit_offset(t, i);
		int ret;

		if (!str_ok(btf, m->name_off))
			return bad_str(btf, id, err, "member", i, m->name_off);
		ret = check_ref(btf, id, err, m->type, false, "member %u", i);
		if (ret)
			return ret;
		if (bit > 8 * (uint64_t)t->size)
			return type_fail(btf, id, err, "member %u starts at bit %u, past the %u bytes",
					 i, bit, t->size);
	}
	return 0;
}

static int check_enum(const struct sluice_btf *btf, uint32_t id, const struct btf_type *t,
		      struct sluice_error *err)
{
	bool wide = btf_kind(t) == BTF_KIND_ENUM64;

	if (t->size != 1 && t->size != 2 && t->size != 4 && t->size != 8)
		return type_fail(btf, id, err, "size %u is not 1, 2, 4 or 8", t->size);
	for (unsigned i = 0; i < btf_vlen(t); i++) {
		uint32_t name = wide ? btf_enums64(t)[i].name_off : btf_enums(t)[i].name_off;

		if (!str_ok(btf, name))
			return bad_str(btf, id, err, "value", i, name);
	}
	return 0;
}

static int check_params(const struct sluice_btf *btf, uint32_t id, const struct btf_type *t,
			struct sluice_error *err)
{
	for (unsigned i = 0; i < btf_vlen(t); i++) {
		const struct btf_param *p = &btf_params(t)[i];
		/* void marks `...`, nameless and last */
		bool varargs = i + 1 == btf_vlen(t) && !p->name_off;
		int ret;

		if (!str_ok(btf, p->name_off))
			return bad_str(btf, id, err, "parameter", i, p->name_off);
		ret = check_ref(btf, id, err, p->type, varargs, "parameter %u", i);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * libbpf takes the pointer size of a BTF from its first `long`, spelled any
 * of these ways, and the host's when there is none.
 */
static bool is_long(const struct btf_type *t, const char *name)
{
	static const char *const spellings[] = {
		"long", "long int", "int long", "unsigned long", "long unsigned",
		"unsigned long int", "unsigned int long", "long unsigned int",
		"long int unsigned", "int unsigned long", "int long unsigned",
	};

	if (t->size != 4 && t->size != 8)
		return false;
	for (size_t i = 0; i < sizeof(spellings) / sizeof(spellings[0]); i++)
		if (!strcmp(name, spellings[i]))
			return true;
	return false;
}

/* What a type says about itself and the ids it names; other types need not exist yet. */
static int check_type(struct sluice_btf *btf, uint32_t id, const struct btf_type *t,
		      struct sluice_error *err)
{
	const struct kind_info *k = &kinds[btf_kind(t)];
	int ret = 0;

	if (!str_ok(btf, t->name_off))
		return type_fail(btf, id, err, "name offset %u is beyond the strings (%u bytes)",
				 t->name_off, btf->start_str_off + btf->str_len);
	if (t->info & ~BTF_INFO_USED)
		return type_fail(btf, id, err, "unknown bits set in info 0x%08x", t->info);
	if (!k->record && btf_kind(t) != BTF_KIND_FUNC && btf_vlen(t))
		return type_fail(btf, id, err, "vlen %u where a %s has none", btf_vlen(t), k->name);
	if (k->ref != REF_NONE) {
		ret = check_ref(btf, id, err, t->type,
				k->ref == REF_POINTEE || k->ref == REF_QUALIFIED, "its type");
		if (ret)
			return ret;
	}
	switch (btf_kind(t)) {
	case BTF_KIND_INT:
		ret = check_int(btf, id, t, err);
		if (!btf->ptr_size && is_long(t, btf_str(btf, t->name_off)))
			btf->ptr_size = t->size;
		break;
	case BTF_KIND_ARRAY:
		ret = check_ref(btf, id, err, btf_array_info(t)->type, false, "element type");
		if (!ret)
			ret = check_ref(btf, id, err, btf_array_info(t)->index_type, false,
					"index type");
		break;
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		ret = check_members(btf, id, t, err);
		break;
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
		ret = check_enum(btf, id, t, err);
		break;
	case BTF_KIND_FUNC:
		if (btf_vlen(t) > BTF_FUNC_EXTERN)
			ret = type_fail(btf, id, err, "unknown linkage %u", btf_vlen(t));
		break;
	case BTF_KIND_FUNC_PROTO:
		ret = check_params(btf, id, t, err);
		break;
	case BTF_KIND_VAR:
		if (btf_var_info(t)->linkage > BTF_VAR_GLOBAL_EXTERN)
			ret = type_fail(btf, id, err, "unknown linkage %u", btf_var_info(t)->linkage);
		break;
	case BTF_KIND_DATASEC:
		for (unsigned i = 0; i < btf_vlen(t) && !ret; i++)
			ret = check_ref(btf, id, err, btf_secinfos(t)[i].type, false, "variable %u", i);
		break;
	case BTF_KIND_FLOAT:
		if (t->size != 2 && t->size != 4 && t->size != 8 && t->size != 12 && t->size != 16)
			ret = type_fail(btf, id, err, "size %u is not 2, 4, 8, 12 or 16", t->size);
		break;
	case BTF_KIND_DECL_TAG:
		if (tag_component(t) < -1)
			ret = type_fail(btf, id, err, "component %d is below -1", tag_component(t));
		break;
	}
	return ret;
}

/* How many parts a decl_tag may address in the type it tags, or -1 when it may tag none. */
static int tag_components(const struct sluice_btf *btf, const struct btf_type *target)
{
	switch (btf_kind(target)) {
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		return btf_vlen(target);
	case BTF_KIND_FUNC:
		return btf_vlen(btf_type_by_id(btf, target->type));
	case BTF_KIND_VAR:
	case BTF_KIND_TYPEDEF:
		return 0;
	default:
		return -1;
	}
}

/* What a type says about the types it names, once they all exist. */
static int check_links(const struct sluice_btf *btf, uint32_t id, const struct btf_type *t,
		       struct sluice_error *err)
{
	const struct btf_type *target = btf_type_by_id(btf, t->type);

	switch (btf_kind(t)) {
	case BTF_KIND_FUNC:
		if (btf_kind(target) != BTF_KIND_FUNC_PROTO)
			return type_fail(btf, id, err, "its type %u is a %s, not a func_proto",
					 t->type, btf_kind_str(btf_kind(target)));
		break;
	case BTF_KIND_DATASEC:
		for (unsigned i = 0; i < btf_vlen(t); i++) {
			uint32_t var = btf_secinfos(t)[i].type;
			unsigned kind = btf_kind(btf_type_by_id(btf, var));

			if (kind != BTF_KIND_VAR && kind != BTF_KIND_FUNC)
				return type_fail(btf, id, err, "variable %u is type %u, a %s",
						 i, var, btf_kind_str(kind));
		}
		break;
	case BTF_KIND_DECL_TAG: {
		int parts = tag_components(btf, target);
		int32_t idx = tag_component(t);

		if (parts < 0)
			return type_fail(btf, id, err, "tags type %u, a %s", t->type,
					 btf_kind_str(btf_kind(target)));
		if (idx >= parts)
			return type_fail(btf, id, err, "component %d of type %u, which has %d",
					 idx, t->type, parts);
		break;
	}
	}
	return 0;
}

/* The types t contains whole (the edges a reference loop cannot be allowed to cross). */
static unsigned value_edge_count(const struct btf_type *t)
{
	switch (btf_kind(t)) {
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
	case BTF_KIND_DATASEC:
		return btf_vlen(t);
	case BTF_KIND_ARRAY:
		return 1;
	default:
		return kinds[btf_kind(t)].ref == REF_QUALIFIED || kinds[btf_kind(t)].ref == REF_OBJECT;
	}
}

static uint32_t value_edge(const struct btf_type *t, unsigned i)
{
	switch (btf_kind(t)) {
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		return btf_members(t)[i].type;
	case BTF_KIND_DATASEC:
		return btf_secinfos(t)[i].type;
	case BTF_KIND_ARRAY:
		return btf_array_info(t)->type;
	default:
		return t->type;
	}
}

/*
 * Depth-first over value edges with an explicit stack (chains in vmlinux
 * run thousands deep); a type met again while still on the stack closes a
 * loop.  Base types cannot lead back into split ones, so only own ids count.
 */
static int check_loops(const struct sluice_btf *btf, struct sluice_error *err)
{
	enum { UNSEEN, OPEN, DONE };
	uint32_t count = btf->last_id - btf->start_id + 1, depth = 0;
	uint8_t *state = calloc(count, 1);
	uint32_t *stack = malloc(count * sizeof(*stack));
	uint32_t *next = malloc(count * sizeof(*next));
	int ret = 0;

	if (!state || !stack || !next) {
		ret = sluice_fail(err, ENOMEM, "BTF: out of memory checking %u types", count);
		goto out;
	}
	for (uint32_t root = 0; root < count && !ret; root++) {
		if (state[root] != UNSEEN)
			continue;
		state[root] = OPEN;
		stack[depth] = root;
		next[depth++] = 0;
		while (depth && !ret) {
			uint32_t top = stack[depth - 1];
			const struct btf_type *t = btf_type_by_id(btf, top + btf->start_id);
			uint32_t to;

			if (next[depth - 1] == value_edge_count(t)) {
				state[top] = DONE;
				depth--;
				continue;
			}
			to = value_edge(t, next[depth - 1]++);
			if (to < btf->start_id)
				continue;
			to -= btf->start_id;
			if (state[to] == OPEN) {
				ret = type_fail(btf, to + btf->start_id, err,
						"reference loop: type %u refers back to it",
						top + btf->start_id);
			} else if (state[to] == UNSEEN) {
				state[to] = OPEN;
				stack[depth] = to;
				next[depth++] = 0;
			}
		}
	}
out:
	free(state);
	free(stack);
	free(next);
	return ret;
}

static int parse_header(struct sluice_btf *btf, uint32_t *type_len, struct sluice_error *err)
{
	struct btf_header hdr;
	uint64_t body;

	if (btf->size < sizeof(hdr))
		return sluice_fail(err, EINVAL, "BTF: %zu bytes, shorter than the %zu-byte header",
				   btf->size, sizeof(hdr));
	memcpy(&hdr, btf->data, sizeof(hdr));
	if (hdr.magic == __builtin_bswap16(BTF_MAGIC))
		return sluice_fail(err, ENOTSUP, "BTF: byte-swapped (big-endian) BTF is not supported");
	if (hdr.magic != BTF_MAGIC)
		return sluice_fail(err, EINVAL, "BTF: bad magic 0x%04x (expected 0x%04x)", hdr.magic,
				   BTF_MAGIC);
	if (hdr.version != BTF_VERSION)
		return sluice_fail(err, ENOTSUP, "BTF: version %u (only %u is known)", hdr.version,
				   BTF_VERSION);
	if (hdr.flags)
		return sluice_fail(err, ENOTSUP, "BTF: unknown header flags 0x%x", hdr.flags);
	if (hdr.hdr_len < sizeof(hdr) || hdr.hdr_len > btf->size)
		return sluice_fail(err, EINVAL, "BTF: header length %u is not between %zu and the %zu bytes of data",
				   hdr.hdr_len, sizeof(hdr), btf->size);
	/* a newer header is fine as long as it asks for nothing we would ignore */
	for (uint32_t i = sizeof(hdr); i < hdr.hdr_len; i++)
		if (btf->data[i])
			return sluice_fail(err, ENOTSUP, "BTF: header byte %u is set: an unknown header field", i);
	body = btf->size - hdr.hdr_len;
	if ((uint64_t)hdr.type_off + hdr.type_len > body)
		return sluice_fail(err, EINVAL, "BTF: type section (offset %u, length %u) ends past the %llu bytes after the header",
				   hdr.type_off, hdr.type_len, (unsigned long long)body);
	if ((uint64_t)hdr.str_off + hdr.str_len > body)
		return sluice_fail(err, EINVAL, "BTF: string section (offset %u, length %u) ends past the %llu bytes after the header",
				   hdr.str_off, hdr.str_len, (unsigned long long)body);
	if (hdr.type_len && hdr.str_len && hdr.type_off < hdr.str_off + hdr.str_len &&
	    hdr.str_off < hdr.type_off + hdr.type_len)
		return sluice_fail(err, EINVAL, "BTF: type section (offset %u, length %u) overlaps string section (offset %u, length %u)",
				   hdr.type_off, hdr.type_len, hdr.str_off, hdr.str_len);
	if (((uint64_t)hdr.hdr_len + hdr.type_off) % 4)
		return sluice_fail(err, EINVAL, "BTF: type section at byte %llu is not 4-byte aligned",
				   (unsigned long long)hdr.hdr_len + hdr.type_off);
	btf->types = btf->data + hdr.hdr_len + hdr.type_off;
	btf->strs = (const char *)btf->data + hdr.hdr_len + hdr.str_off;
	btf->str_len = hdr.str_len;
	*type_len = hdr.type_len;
	if (!hdr.str_len && btf->base)
		return 0; /* split BTF may add no strings */
	if (!hdr.str_len || hdr.str_len - 1 > BTF_MAX_NAME_OFFSET || btf->strs[hdr.str_len - 1])
		return sluice_fail(err, EINVAL, "BTF: string section of %u bytes is empty, too large or not NUL-terminated",
				   hdr.str_len);
	if (!btf->base && btf->strs[0])
		return sluice_fail(err, EINVAL, "BTF: string section does not start with the empty string");
	return 0;
}

/* Walk the type section twice: count (checking only that each type fits), then record offsets. */
static int index_types(struct sluice_btf *btf, uint32_t len, struct sluice_error *err)
{
	uint32_t count = 0, pos;

	for (pos = 0; pos < len; count++) {
		const struct btf_type *t = (const struct btf_type *)(btf->types + pos);
		uint64_t need;

		if (len - pos < sizeof(*t))
			return sluice_fail(err, EINVAL, "BTF: type %u at byte %u: truncated header (%u bytes left)",
					   btf->start_id + count, pos, len - pos);
		if (btf_kind(t) == BTF_KIND_UNKN || btf_kind(t) >= NR_BTF_KINDS)
			return sluice_fail(err, EINVAL, "BTF: type %u at byte %u: unknown kind %u",
					   btf->start_id + count, pos, btf_kind(t));
		need = type_bytes(t);
		if (need > len - pos)
			return sluice_fail(err, EINVAL, "BTF: type %u (%s) at byte %u: its %llu bytes (vlen %u) run past the type section (%u bytes)",
					   btf->start_id + count, btf_kind_str(btf_kind(t)), pos,
					   (unsigned long long)need, btf_vlen(t), len);
		if ((uint64_t)btf->start_id + count > BTF_MAX_TYPE)
			return sluice_fail(err, E2BIG, "BTF: more than %u types", BTF_MAX_TYPE);
		pos += (uint32_t)need;
	}
	btf->last_id = btf->start_id + count - 1;
	btf->type_offs = malloc((count ? count : 1) * sizeof(*btf->type_offs));
	if (!btf->type_offs)
		return sluice_fail(err, ENOMEM, "BTF: out of memory for %u types", count);
	pos = 0;
	for (uint32_t i = 0; i < count; i++) {
		btf->type_offs[i] = pos;
		pos += (uint32_t)type_bytes((const struct btf_type *)(btf->types + pos));
	}
	return 0;
}

/* Takes ownership of data, which is freed on failure too. */
static struct sluice_btf *parse_owned(uint8_t *data, size_t size, const struct sluice_btf *base,
				      struct sluice_error *err)
{
	struct sluice_btf *btf = calloc(1, sizeof(*btf));
	uint32_t type_len = 0;
	int ret;

	if (!btf) {
		free(data);
		sluice_fail(err, ENOMEM, "BTF: out of memory");
		return NULL;
	}
	btf->data = data;
	btf->size = size;
	btf->base = base;
	btf->start_id = base ? base->last_id + 1 : 1;
	btf->start_str_off = base ? base->start_str_off + base->str_len : 0;
	btf->ptr_size = base ? base->ptr_size : 0;
	ret = parse_header(btf, &type_len, err);
	if (!ret)
		ret = index_types(btf, type_len, err);
	for (uint32_t id = btf->start_id; !ret && id <= btf->last_id; id++)
		ret = check_type(btf, id, btf_type_by_id(btf, id), err);
	for (uint32_t id = btf->start_id; !ret && id <= btf->last_id; id++)
		ret = check_links(btf, id, btf_type_by_id(btf, id), err);
	if (!ret && btf->last_id >= btf->start_id)
		ret = check_loops(btf, err);
	if (ret) {
		btf_free(btf);
		errno = -ret;
		return NULL;
	}
	return btf;
}

struct sluice_btf *btf_parse(const void *data, size_t size, const struct sluice_btf *base,
			     struct sluice_error *err)
{
	uint8_t *copy = malloc(size ? size : 1);

	if (!copy) {
		sluice_fail(err, ENOMEM, "BTF: out of memory for %zu bytes", size);
		return NULL;
	}
	if (size) /* an empty section may come with no data pointer at all */
		memcpy(copy, data, size);
	return parse_owned(copy, size, base, err);
}

void btf_free(struct sluice_btf *btf)
{
	if (!btf)
		return;
	free(atomic_load(&btf->names));
	free(btf->type_offs);
	free(btf->data);
	free(btf);
}

/* The whole file: sysfs files report no useful size, so read to the end. */
static int read_all(const char *path, uint8_t **out, size_t *size, struct sluice_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 1 << 16, len = 0;
	uint8_t *buf = NULL;
	struct stat st;

	if (fd < 0)
		return sluice_fail(err, errno, "%s: %s", path, strerror(errno));
	if (!fstat(fd, &st) && st.st_size > 0)
		cap = (size_t)st.st_size + 1;
	for (;;) {
		ssize_t n;

		if (!buf || len == cap) {
			uint8_t *grown;

			if (buf)
				cap *= 2;
			grown = realloc(buf, cap);
			if (!grown) {
				free(buf);
				close(fd);
				return sluice_fail(err, ENOMEM, "%s: out of memory", path);
			}
			buf = grown;
		}
		n = read(fd, buf + len, cap - len);
		if (n == 0)
			break;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int code = errno;

			free(buf);
			close(fd);
			return sluice_fail(err, code, "%s: %s", path, strerror(code));
		}
		len += (size_t)n;
	}
	close(fd);
	*out = buf;
	*size = len;
	return 0;
}

static struct sluice_btf *parse_elf(uint8_t *image, size_t size, struct sluice_error *err)
{
	struct sluice_btf *btf = NULL;
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	Elf *elf;

	elf_version(EV_CURRENT);
	elf = elf_memory((char *)image, size);
	if (!elf || elf_getshdrstrndx(elf, &shstrndx)) {
		sluice_fail(err, EINVAL, "not a readable ELF file: %s", elf_errmsg(-1));
		goto out;
	}
	while ((scn = elf_nextscn(elf, scn))) {
		const char *name;
		Elf_Data *data;
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(elf, shstrndx, sh.sh_name)) ||
		    strcmp(name, ".BTF"))
			continue;
		data = sh.sh_type == SHT_NOBITS ? NULL : elf_getdata(scn, NULL);
		if (!data || !data->d_buf)
			sluice_fail(err, EINVAL, "section .BTF has no readable data: %s", elf_errmsg(-1));
		else
			btf = btf_parse(data->d_buf, data->d_size, NULL, err);
		goto out;
	}
	sluice_fail(err, ENOENT, "no .BTF section");
out:
	elf_end(elf);
	return btf;
}

struct sluice_btf *btf_load_file(const char *path, struct sluice_error *err)
{
	struct sluice_btf *btf;
	uint8_t *data = NULL;
	size_t size = 0;
	int code;

	if (read_all(path, &data, &size, err))
		return NULL;
	if (size >= SELFMAG && !memcmp(data, ELFMAG, SELFMAG)) {
		btf = parse_elf(data, size, err);
		free(data);
	} else {
		btf = parse_owned(data, size, NULL, err);
	}
	if (btf)
		return btf;
	code = errno;
	sluice_fail_prefix(err, -code, path);
	errno = code;
	return NULL;
}
