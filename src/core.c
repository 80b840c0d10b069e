/* SPDX-License-Identifier: MIT */
/*
 * CO-RE relocation.  The rules are libbpf's (src/relo_core.c and the
 * candidate search in src/libbpf.c), kept step for step, quirks included,
 * because the instructions produced here must equal libbpf's bit for bit:
 *
 *  1. Candidates for a local type are the target's types of a compatible
 *     kind whose name is the same once a `___flavor` suffix is dropped.
 *  2. The access string ("0:1:2") is walked through the local type into a
 *     spec: named members, array indices, and the bit offset they add up to.
 *  3. Each candidate is matched against that spec, by member name (looking
 *     inside anonymous members), and the relocated value computed; all
 *     matching candidates must agree, and only they are kept as the
 *     candidates of later relocations of the same local type.
 *  4. The instruction is checked to hold the local value and patched, or,
 *     when nothing matched, turned into a call of helper 0xbad2310.
 *
 * Where libbpf would read out of bounds or divide by zero on a malformed
 * relocation, an error is returned instead.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bpf.h>

#include "core.h"
#include "errmsg.h"
#include "insn.h"

#define SPEC_MAX 64            /* libbpf's BPF_CORE_SPEC_MAX_LEN */
#define TYPES_DEPTH 32         /* libbpf's recursion limit for type comparisons */
#define POISON_HELPER 195896080 /* 0xbad2310, "bad relo": the verifier names it in its complaint */

enum relo_class { RELO_FIELD, RELO_TYPE, RELO_ENUMVAL };

/* One row per enum bpf_core_relo_kind: libbpf's name for it and what it relocates. */
static const struct relo_kind {
	const char *name;
	uint8_t class;
} relo_kinds[] = {
	[BPF_CORE_FIELD_BYTE_OFFSET] = { "byte_off", RELO_FIELD },
	[BPF_CORE_FIELD_BYTE_SIZE] = { "byte_sz", RELO_FIELD },
	[BPF_CORE_FIELD_EXISTS] = { "field_exists", RELO_FIELD },
	[BPF_CORE_FIELD_SIGNED] = { "signed", RELO_FIELD },
	[BPF_CORE_FIELD_LSHIFT_U64] = { "lshift_u64", RELO_FIELD },
	[BPF_CORE_FIELD_RSHIFT_U64] = { "rshift_u64", RELO_FIELD },
	[BPF_CORE_TYPE_ID_LOCAL] = { "local_type_id", RELO_TYPE },
	[BPF_CORE_TYPE_ID_TARGET] = { "target_type_id", RELO_TYPE },
	[BPF_CORE_TYPE_EXISTS] = { "type_exists", RELO_TYPE },
	[BPF_CORE_TYPE_SIZE] = { "type_size", RELO_TYPE },
	[BPF_CORE_ENUMVAL_EXISTS] = { "enumval_exists", RELO_ENUMVAL },
	[BPF_CORE_ENUMVAL_VALUE] = { "enumval_value", RELO_ENUMVAL },
	[BPF_CORE_TYPE_MATCHES] = { "type_matches", RELO_TYPE },
};
#define RELO_KINDS (sizeof(relo_kinds) / sizeof(relo_kinds[0]))

static bool relo_is(uint32_t kind, enum relo_class class)
{
	return kind < RELO_KINDS && relo_kinds[kind].class == class;
}

/* Target candidates of one local type; `known` once searched. */
struct cand_list {
	uint32_t *ids;
	uint32_t len;
	bool known;
};

struct core_target {
	const struct sluice_btf *btf;
	/* chains of type ids by essential name, each in ascending id order */
	uint32_t mask;
	uint32_t *heads; /* by hash: the chain's first id, 0 for none */
	uint32_t *next;  /* by id: the next id of its chain, 0 at the end */
	/*
	 * libbpf's candidate cache, by local type id: it narrows as relocations
	 * resolve, so later results depend on earlier ones, and libbpf keeps
	 * it for the relocations of one object.  So does a core_target: use
	 * one per object.  Another local BTF starts it afresh, but a freed BTF
	 * whose address is reused cannot be told apart.
	 */
	const struct sluice_btf *local;
	struct cand_list *cands;
	uint32_t ncands;
};

/* libbpf's bpf_core_accessor and bpf_core_spec. */
struct access {
	uint32_t type_id; /* struct/union, or the element type of an array */
	uint32_t idx;     /* member or element index */
	const char *name; /* member name, NULL for an array index */
};

struct spec {
	const struct sluice_btf *btf;
	uint32_t root_type_id;
	uint32_t kind;
	struct access acc[SPEC_MAX];
	int len;          /* high-level accessors: named members and indices */
	int raw[SPEC_MAX];
	int raw_len;      /* every step of the access string, anonymous members too */
	uint32_t bit_offset;
};

/* libbpf's bpf_core_relo_res: the value before and after, and how to patch. */
struct result {
	uint64_t orig_val, new_val;
	uint32_t orig_sz, new_sz;           /* loaded field sizes, to resize loads */
	uint32_t orig_type_id, new_type_id;
	bool poison;
	bool validate;                      /* check the instruction holds orig_val */
	bool fail_memsz_adjust;             /* resizing the access would be wrong */
};

/* libbpf's type 0: a zeroed type of kind UNKN, so void has a kind and a size of 0. */
static const struct btf_type void_type;

static const struct btf_type *type_of(const struct sluice_btf *btf, uint32_t id)
{
	return id ? btf_type_by_id(btf, id) : &void_type;
}

static const struct btf_type *skip_mods(const struct sluice_btf *btf, uint32_t id, uint32_t *res_id)
{
	id = btf_skip_modifiers(NULL, btf, id);
	if (res_id)
		*res_id = id;
	return type_of(btf, id);
}

static bool is_composite(const struct btf_type *t)
{
	return btf_kind(t) == BTF_KIND_STRUCT || btf_kind(t) == BTF_KIND_UNION;
}

static bool is_any_enum(const struct btf_type *t)
{
	return btf_kind(t) == BTF_KIND_ENUM || btf_kind(t) == BTF_KIND_ENUM64;
}

static bool kind_compat(const struct btf_type *a, const struct btf_type *b)
{
	return btf_kind(a) == btf_kind(b) || (is_any_enum(a) && is_any_enum(b));
}

static uint32_t enum_name_off(const struct btf_type *t, uint32_t i)
{
	return btf_kind(t) == BTF_KIND_ENUM ? btf_enums(t)[i].name_off : btf_enums64(t)[i].name_off;
}

/* Length of the name without its `___flavor` suffix (X___Y, X and Y not underscores). */
static size_t essential_len(const char *name)
{
	size_t n = strlen(name);

	for (size_t i = n >= 5 ? n - 4 : 0; i-- > 0;)
		if (name[i] != '_' && name[i + 1] == '_' && name[i + 2] == '_' &&
		    name[i + 3] == '_' && name[i + 4] != '_')
			return i + 1;
	return n;
}

static bool essential_eq(const char *a, size_t alen, const char *b)
{
	return essential_len(b) == alen && !strncmp(a, b, alen);
}

/* FNV-1a over the essential name. */
static uint32_t essential_hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h;
}

struct core_target *core_target_new(const struct sluice_btf *target, struct sluice_error *err)
{
	struct core_target *t = calloc(1, sizeof(*t));
	uint32_t last = btf_last_id(target), cap = 16;

	if (!t) {
		sluice_fail(err, ENOMEM, "CO-RE: out of memory");
		return NULL;
	}
	t->btf = target;
	while (cap < last)
		cap *= 2;
	t->mask = cap - 1;
	t->heads = calloc(cap, sizeof(*t->heads));
	t->next = calloc((size_t)last + 1, sizeof(*t->next));
	if (!t->heads || !t->next) {
		core_target_free(t);
		sluice_fail(err, ENOMEM, "CO-RE: out of memory indexing %u types", last);
		return NULL;
	}
	/* pushing from the last id leaves every chain in ascending order, libbpf's scan order */
	for (uint32_t id = last; id > 0; id--) {
		const char *name = btf_type_name(target, id);
		uint32_t h;

		if (!*name)
			continue;
		h = essential_hash(name, essential_len(name)) & t->mask;
		t->next[id] = t->heads[h];
		t->heads[h] = id;
	}
	return t;
}

static void free_cands(struct core_target *t)
{
	for (uint32_t i = 0; i < t->ncands; i++)
		free(t->cands[i].ids);
	free(t->cands);
	t->cands = NULL;
	t->ncands = 0;
	t->local = NULL;
}

void core_target_free(struct core_target *t)
{
	if (!t)
		return;
	free_cands(t);
	free(t->heads);
	free(t->next);
	free(t);
}

/* libbpf's bpf_core_find_cands, cached per local type as libbpf caches it. */
static struct cand_list *find_cands(struct core_target *tg, const struct sluice_btf *local,
				    uint32_t local_id, const char *local_name)
{
	const struct btf_type *local_t = btf_type_by_id(local, local_id);
	size_t len = essential_len(local_name);
	struct cand_list *c;
	uint32_t cap = 0;

	if (tg->local != local || tg->ncands != btf_last_id(local) + 1) {
		free_cands(tg);
		tg->cands = calloc((size_t)btf_last_id(local) + 1, sizeof(*tg->cands));
		if (!tg->cands)
			return NULL;
		tg->ncands = btf_last_id(local) + 1;
		tg->local = local;
	}
	c = &tg->cands[local_id];
	if (c->known)
		return c;
	for (uint32_t id = tg->heads[essential_hash(local_name, len) & tg->mask]; id;
	     id = tg->next[id]) {
		const struct btf_type *t = btf_type_by_id(tg->btf, id);

		if (!kind_compat(t, local_t) || !essential_eq(local_name, len, btf_str(tg->btf, t->name_off)))
			continue;
		if (c->len == cap) {
			uint32_t *grown;

			cap = cap ? 2 * cap : 4;
			grown = realloc(c->ids, cap * sizeof(*c->ids));
			if (!grown) {
				c->len = 0; /* searched again next time */
				return NULL;
			}
			c->ids = grown;
		}
		c->ids[c->len++] = id;
	}
	c->known = true;
	return c;
}

/* ---- type comparisons (libbpf's __bpf_core_types_are_compat and friends) ---- */

static bool int_plain(const struct btf_type *t)
{
	return btf_int_offset(t) == 0;
}

static int types_are_compat(const struct sluice_btf *lb, uint32_t lid, const struct sluice_btf *tb,
			    uint32_t tid, int level)
{
	const struct btf_type *lt = type_of(lb, lid), *tt = type_of(tb, tid);

	if (!kind_compat(lt, tt))
		return 0;
	for (int depth = TYPES_DEPTH; depth > 0; depth--) {
		lt = skip_mods(lb, lid, &lid);
		tt = skip_mods(tb, tid, &tid);
		if (!lt || !tt)
			return -EINVAL;
		if (!kind_compat(lt, tt))
			return 0;
		switch (btf_kind(lt)) {
		case BTF_KIND_UNKN:
		case BTF_KIND_STRUCT:
		case BTF_KIND_UNION:
		case BTF_KIND_ENUM:
		case BTF_KIND_FWD:
		case BTF_KIND_ENUM64:
			return 1;
		case BTF_KIND_INT:
			return int_plain(lt) && int_plain(tt);
		case BTF_KIND_PTR:
			lid = lt->type;
			tid = tt->type;
			break;
		case BTF_KIND_ARRAY:
			lid = btf_array_info(lt)->type;
			tid = btf_array_info(tt)->type;
			break;
		case BTF_KIND_FUNC_PROTO:
			if (btf_vlen(lt) != btf_vlen(tt))
				return 0;
			for (unsigned i = 0; i < btf_vlen(lt); i++) {
				int ret;

				if (level <= 0)
					return -EINVAL;
				ret = types_are_compat(lb, btf_skip_modifiers(NULL, lb, btf_params(lt)[i].type),
						       tb, btf_skip_modifiers(NULL, tb, btf_params(tt)[i].type),
						       level - 1);
				if (ret <= 0)
					return ret;
			}
			lid = btf_skip_modifiers(NULL, lb, lt->type);
			tid = btf_skip_modifiers(NULL, tb, tt->type);
			break;
		default:
			return 0;
		}
	}
	return -EINVAL;
}

/* Field compatibility: composites mix freely, names matter only for enums and fwds. */
static int fields_are_compat(const struct sluice_btf *lb, uint32_t lid, const struct sluice_btf *tb,
			     uint32_t tid)
{
	for (;;) {
		const struct btf_type *lt = skip_mods(lb, lid, &lid), *tt = skip_mods(tb, tid, &tid);
		const char *ln, *tn;

		if (!lt || !tt)
			return -EINVAL;
		if (is_composite(lt) && is_composite(tt))
			return 1;
		if (!kind_compat(lt, tt))
			return 0;
		switch (btf_kind(lt)) {
		case BTF_KIND_PTR:
		case BTF_KIND_FLOAT:
			return 1;
		case BTF_KIND_FWD:
		case BTF_KIND_ENUM:
		case BTF_KIND_ENUM64:
			ln = btf_str(lb, lt->name_off);
			tn = btf_str(tb, tt->name_off);
			/* either anonymous, or the same name but for flavors */
			return !essential_len(ln) || !essential_len(tn) ||
			       essential_eq(ln, essential_len(ln), tn);
		case BTF_KIND_INT:
			return int_plain(lt) && int_plain(tt);
		case BTF_KIND_ARRAY:
			lid = btf_array_info(lt)->type;
			tid = btf_array_info(tt)->type;
			break;
		default:
			return 0;
		}
	}
}

static bool names_match(const struct sluice_btf *lb, uint32_t loff, const struct sluice_btf *tb,
			uint32_t toff)
{
	const char *ln = btf_str(lb, loff), *tn = btf_str(tb, toff);

	if (!*tn)
		return !*ln;
	return essential_eq(ln, essential_len(ln), tn);
}

static int enums_match(const struct sluice_btf *lb, const struct btf_type *lt,
		       const struct sluice_btf *tb, const struct btf_type *tt)
{
	if (lt->size != tt->size || btf_vlen(lt) > btf_vlen(tt))
		return 0;
	for (unsigned i = 0; i < btf_vlen(lt); i++) {
		unsigned j = 0;

		while (j < btf_vlen(tt) &&
		       !names_match(lb, enum_name_off(lt, i), tb, enum_name_off(tt, j)))
			j++;
		if (j == btf_vlen(tt))
			return 0;
	}
	return 1;
}

static int types_match(const struct sluice_btf *lb, uint32_t lid, const struct sluice_btf *tb,
		       uint32_t tid, bool behind_ptr, int level);

static int composites_match(const struct sluice_btf *lb, const struct btf_type *lt,
			    const struct sluice_btf *tb, const struct btf_type *tt,
			    bool behind_ptr, int level)
{
	if (btf_vlen(lt) > btf_vlen(tt))
		return 0;
	for (unsigned i = 0; i < btf_vlen(lt); i++) {
		const struct btf_member *lm = &btf_members(lt)[i];
		bool matched = false;

		for (unsigned j = 0; j < btf_vlen(tt) && !matched; j++) {
			const struct btf_member *tm = &btf_members(tt)[j];
			int ret;

			if (!names_match(lb, lm->name_off, tb, tm->name_off))
				continue;
			ret = types_match(lb, lm->type, tb, tm->type, behind_ptr, level - 1);
			if (ret < 0)
				return ret;
			matched = ret > 0;
		}
		if (!matched)
			return 0;
	}
	return 1;
}

/* libbpf's __bpf_core_types_match: the rules of bpf_core_type_matches(). */
static int types_match(const struct sluice_btf *lb, uint32_t lid, const struct sluice_btf *tb,
		       uint32_t tid, bool behind_ptr, int level)
{
	if (level <= 0)
		return -EINVAL;
	for (int depth = TYPES_DEPTH; depth > 0; depth--) {
		const struct btf_type *lt = skip_mods(lb, lid, &lid), *tt = skip_mods(tb, tid, &tid);
		unsigned lk, tk;

		if (!lt || !tt)
			return -EINVAL;
		if (!names_match(lb, lt->name_off, tb, tt->name_off))
			return 0;
		lk = btf_kind(lt);
		tk = btf_kind(tt);
		switch (lk) {
		case BTF_KIND_UNKN:
			return lk == tk;
		case BTF_KIND_FWD:
			/* kflag: 0 for a struct, 1 for a union */
			if (behind_ptr && lk != tk)
				return (tk == BTF_KIND_STRUCT && !btf_kflag(lt)) ||
				       (tk == BTF_KIND_UNION && btf_kflag(lt));
			return lk == tk && btf_kflag(lt) == btf_kflag(tt);
		case BTF_KIND_ENUM:
		case BTF_KIND_ENUM64:
			return is_any_enum(tt) && enums_match(lb, lt, tb, tt);
		case BTF_KIND_STRUCT:
		case BTF_KIND_UNION:
			if (behind_ptr) {
				if (lk == tk)
					return 1;
				return tk == BTF_KIND_FWD && (lk == BTF_KIND_UNION) == btf_kflag(tt);
			}
			return lk == tk && composites_match(lb, lt, tb, tt, behind_ptr, level);
		case BTF_KIND_INT:
			return lk == tk && lt->size == tt->size &&
			       (btf_int_encoding(lt) & BTF_INT_SIGNED) ==
				       (btf_int_encoding(tt) & BTF_INT_SIGNED);
		case BTF_KIND_PTR:
			if (lk != tk)
				return 0;
			behind_ptr = true;
			lid = lt->type;
			tid = tt->type;
			break;
		case BTF_KIND_ARRAY:
			if (lk != tk || btf_array_info(lt)->nelems != btf_array_info(tt)->nelems)
				return 0;
			lid = btf_array_info(lt)->type;
			tid = btf_array_info(tt)->type;
			break;
		case BTF_KIND_FUNC_PROTO:
			if (lk != tk || btf_vlen(lt) != btf_vlen(tt))
				return 0;
			for (unsigned i = 0; i < btf_vlen(lt); i++) {
				int ret = types_match(lb, btf_params(lt)[i].type, tb,
						      btf_params(tt)[i].type, behind_ptr, level - 1);

				if (ret <= 0)
					return ret;
			}
			lid = lt->type;
			tid = tt->type;
			break;
		default:
			return 0;
		}
	}
	return -EINVAL;
}

/* ---- specs ---- */

/* An index of the access string, as sscanf's %d reads one. */
static int parse_index(const char **s, int *out)
{
	const char *p = *s;
	bool neg = false;
	long long v = 0;

	while (isspace((unsigned char)*p))
		p++;
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	while (isdigit((unsigned char)*p)) {
		v = v * 10 + (*p++ - '0');
		if (v > (long long)INT_MAX + 1)
			return -EINVAL;
	}
	v = neg ? -v : v;
	if (v > INT_MAX)
		return -EINVAL;
	*out = (int)v;
	*s = p;
	return 0;
}

/* A flexible array: the last member of a struct, of no declared size. */
static bool is_flex_arr(const struct sluice_btf *btf, const struct access *acc,
			const struct btf_array *arr)
{
	if (!acc->name || arr->nelems > 0)
		return false;
	return acc->idx == btf_vlen(btf_type_by_id(btf, acc->type_id)) - 1;
}

/* index * size * 8 as libbpf's arithmetic leaves it in a 32-bit bit offset. */
static uint32_t bits_of(int64_t index, int64_t size)
{
	return (uint32_t)((uint64_t)index * (uint64_t)size * 8);
}

/* libbpf's bpf_core_parse_spec. */
static int parse_spec(const struct sluice_btf *btf, const struct btf_ext_core *relo,
		      struct spec *spec)
{
	const char *s = relo->access;
	const struct btf_type *t;
	uint32_t id;
	int64_t sz;

	if (!*s || *s == ':')
		return -EINVAL;
	memset(spec, 0, sizeof(*spec));
	spec->btf = btf;
	spec->root_type_id = relo->type_id;
	spec->kind = relo->kind;
	if (relo_is(relo->kind, RELO_TYPE))
		return strcmp(s, "0") ? -EINVAL : 0;
	while (*s) {
		int idx;

		if (*s == ':')
			s++;
		if (parse_index(&s, &idx))
			return -EINVAL;
		if (spec->raw_len == SPEC_MAX)
			return -E2BIG;
		spec->raw[spec->raw_len++] = idx;
	}
	t = skip_mods(btf, relo->type_id, &id);
	if (!t)
		return -EINVAL;
	spec->acc[0] = (struct access){ .type_id = id, .idx = (uint32_t)spec->raw[0] };
	spec->len = 1;
	if (relo_is(relo->kind, RELO_ENUMVAL)) {
		if (!is_any_enum(t) || spec->raw_len > 1 || spec->raw[0] < 0 ||
		    (unsigned)spec->raw[0] >= btf_vlen(t))
			return -EINVAL;
		spec->acc[0].name = btf_str(btf, enum_name_off(t, spec->acc[0].idx));
		return 0;
	}
	if (!relo_is(relo->kind, RELO_FIELD))
		return -EINVAL;
	sz = btf_resolve_size(btf, id);
	if (sz < 0)
		return (int)sz;
	spec->bit_offset = bits_of(spec->raw[0], sz);
	for (int i = 1; i < spec->raw_len; i++) {
		struct access *acc = &spec->acc[spec->len];
		int idx = spec->raw[i];

		t = skip_mods(btf, id, &id);
		if (!t)
			return -EINVAL;
		if (is_composite(t)) {
			const struct btf_member *m;

			if (idx < 0 || (unsigned)idx >= btf_vlen(t))
				return -EINVAL;
			spec->bit_offset += btf_member_bit_offset(t, (unsigned)idx);
			m = &btf_members(t)[idx];
			if (m->name_off) {
				const char *name = btf_str(btf, m->name_off);

				if (!*name)
					return -EINVAL;
				*acc = (struct access){ .type_id = id, .idx = (uint32_t)idx, .name = name };
				spec->len++;
			}
			id = m->type;
		} else if (btf_kind(t) == BTF_KIND_ARRAY) {
			const struct btf_array *a = btf_array_info(t);

			t = skip_mods(btf, a->type, &id);
			if (!t)
				return -EINVAL;
			if (!is_flex_arr(btf, acc - 1, a) && (uint32_t)idx >= a->nelems)
				return -EINVAL;
			*acc = (struct access){ .type_id = id, .idx = (uint32_t)idx };
			spec->len++;
			sz = btf_resolve_size(btf, id);
			if (sz < 0)
				return (int)sz;
			spec->bit_offset += bits_of(idx, sz);
		} else {
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * libbpf's bpf_core_match_member: find the local accessor's member in the
 * target type, descending into anonymous members; 1 found, 0 not, <0 error.
 * A nested miss leaves its speculative step on the spec, as libbpf's does.
 */
static int match_member(const struct sluice_btf *lb, const struct access *lacc,
			const struct sluice_btf *tb, uint32_t tid, struct spec *spec,
			uint32_t *next_tid)
{
	const struct btf_type *tt = skip_mods(tb, tid, &tid);
	const struct btf_member *lm;
	const char *lname;

	if (!tt)
		return -EINVAL;
	if (!is_composite(tt))
		return 0;
	lm = &btf_members(btf_type_by_id(lb, lacc->type_id))[lacc->idx];
	lname = btf_str(lb, lm->name_off);
	for (unsigned i = 0; i < btf_vlen(tt); i++) {
		const struct btf_member *m = &btf_members(tt)[i];
		uint32_t bit = btf_member_bit_offset(tt, i);
		const char *tname = btf_str(tb, m->name_off);
		int found;

		if (spec->raw_len == SPEC_MAX)
			return -E2BIG;
		spec->bit_offset += bit;
		spec->raw[spec->raw_len++] = (int)i;
		if (!*tname) {
			found = match_member(lb, lacc, tb, m->type, spec, next_tid);
			if (found)
				return found;
		} else if (!strcmp(lname, tname)) {
			spec->acc[spec->len++] = (struct access){ .type_id = tid, .idx = i, .name = tname };
			*next_tid = m->type;
			found = fields_are_compat(lb, lm->type, tb, m->type);
			if (!found)
				spec->len--;
			return found;
		}
		spec->bit_offset -= bit;
		spec->raw_len--;
	}
	return 0;
}

static int match_enumval(const struct spec *local, uint32_t tid, struct spec *targ)
{
	const struct btf_type *tt = skip_mods(targ->btf, tid, &tid);
	size_t len = essential_len(local->acc[0].name);

	if (!is_any_enum(tt))
		return 0;
	for (unsigned i = 0; i < btf_vlen(tt); i++) {
		const char *name = btf_str(targ->btf, enum_name_off(tt, i));

		if (essential_eq(local->acc[0].name, len, name)) {
			targ->acc[targ->len++] = (struct access){ .type_id = tid, .idx = i, .name = name };
			targ->raw[targ->raw_len++] = (int)i;
			return 1;
		}
	}
	return 0;
}

/* libbpf's bpf_core_spec_match: the local spec in candidate tid; 1 matched, 0 not, <0 error. */
static int match_spec(const struct spec *local, const struct sluice_btf *tb, uint32_t tid,
		      struct spec *targ)
{
	memset(targ, 0, sizeof(*targ));
	targ->btf = tb;
	targ->root_type_id = tid;
	targ->kind = local->kind;
	if (relo_is(local->kind, RELO_TYPE)) {
		if (local->kind == BPF_CORE_TYPE_MATCHES)
			return types_match(local->btf, local->root_type_id, tb, tid, false, TYPES_DEPTH);
		return types_are_compat(local->btf, local->root_type_id, tb, tid, TYPES_DEPTH);
	}
	if (relo_is(local->kind, RELO_ENUMVAL))
		return match_enumval(local, tid, targ);
	for (int i = 0; i < local->len; i++) {
		const struct access *lacc = &local->acc[i];
		struct access *tacc = &targ->acc[i];
		const struct btf_type *tt = skip_mods(tb, tid, &tid);
		int sz;

		if (!tt)
			return -EINVAL;
		if (lacc->name) {
			int matched = match_member(local->btf, lacc, tb, tid, targ, &tid);

			if (matched <= 0)
				return matched;
			continue;
		}
		/* the root index applies to the root type itself; later ones to arrays */
		if (i > 0) {
			const struct btf_array *a;

			if (btf_kind(tt) != BTF_KIND_ARRAY)
				return 0;
			a = btf_array_info(tt);
			if (!is_flex_arr(tb, tacc - 1, a) && lacc->idx >= a->nelems)
				return 0;
			if (!skip_mods(tb, a->type, &tid))
				return -EINVAL;
		}
		if (targ->raw_len == SPEC_MAX)
			return -E2BIG;
		*tacc = (struct access){ .type_id = tid, .idx = lacc->idx };
		targ->len++;
		targ->raw[targ->raw_len++] = (int)lacc->idx;
		/* libbpf keeps this size in an int */
		sz = (int)btf_resolve_size(tb, tid);
		if (sz < 0)
			return sz;
		targ->bit_offset += lacc->idx * (uint32_t)sz * 8;
	}
	return 1;
}

/* ---- values ---- */

/* libbpf's bpf_core_calc_field_relo; spec NULL when no candidate matched. */
static int field_value(uint32_t kind, const struct spec *spec, uint64_t *val, uint32_t *field_sz,
		       uint32_t *type_id, bool *validate)
{
	const struct access *acc;
	const struct btf_type *t, *mt;
	uint32_t byte_off, byte_sz, bit_off, bit_sz, field_type_id;
	bool bitfield;
	int64_t sz;

	*field_sz = 0;
	if (kind == BPF_CORE_FIELD_EXISTS) {
		*val = spec != NULL;
		return 0;
	}
	if (!spec)
		return -EUCLEAN; /* poison */
	acc = &spec->acc[spec->len - 1];
	t = btf_type_by_id(spec->btf, acc->type_id);
	if (!acc->name) {
		/* an array element, or the root itself */
		if (kind != BPF_CORE_FIELD_BYTE_OFFSET && kind != BPF_CORE_FIELD_BYTE_SIZE)
			return -EINVAL;
		sz = btf_resolve_size(spec->btf, acc->type_id);
		if (sz < 0)
			return -EINVAL;
		if (kind == BPF_CORE_FIELD_BYTE_OFFSET) {
			*val = spec->bit_offset / 8;
			*field_sz = (uint32_t)sz;
			*type_id = acc->type_id;
		} else {
			*val = (uint64_t)sz;
		}
		if (validate)
			*validate = true;
		return 0;
	}
	mt = skip_mods(spec->btf, btf_members(t)[acc->idx].type, &field_type_id);
	bit_off = spec->bit_offset;
	bit_sz = btf_member_bitfield_size(t, acc->idx);
	bitfield = bit_sz > 0;
	if (bitfield) {
		/* the smallest aligned load of the member's type size or wider that covers it */
		byte_sz = mt->size;
		if (!byte_sz)
			return -EINVAL;
		byte_off = bit_off / 8 / byte_sz * byte_sz;
		while (bit_off + bit_sz - byte_off * 8 > byte_sz * 8) {
			if (byte_sz >= 8)
				return -E2BIG;
			byte_sz *= 2;
			byte_off = bit_off / 8 / byte_sz * byte_sz;
		}
	} else {
		sz = btf_resolve_size(spec->btf, field_type_id);
		if (sz < 0)
			return -EINVAL;
		byte_sz = (uint32_t)sz;
		byte_off = spec->bit_offset / 8;
		bit_sz = byte_sz * 8;
	}
	/* the compiler and libbpf may place a bitfield load differently: check only what is certain */
	if (validate)
		*validate = !bitfield;
	switch (kind) {
	case BPF_CORE_FIELD_BYTE_OFFSET:
		*val = byte_off;
		if (!bitfield) {
			*field_sz = byte_sz;
			*type_id = field_type_id;
		}
		break;
	case BPF_CORE_FIELD_BYTE_SIZE:
		*val = byte_sz;
		break;
	case BPF_CORE_FIELD_SIGNED:
		*val = (is_any_enum(mt) && btf_kflag(mt)) ||
		       (btf_kind(mt) == BTF_KIND_INT && (btf_int_encoding(mt) & BTF_INT_SIGNED));
		if (validate)
			*validate = true;
		break;
	case BPF_CORE_FIELD_LSHIFT_U64:
		*val = (uint32_t)(64 - (bit_off + bit_sz - byte_off * 8));
		break;
	case BPF_CORE_FIELD_RSHIFT_U64:
		*val = (uint32_t)(64 - bit_sz);
		if (validate)
			*validate = true;
		break;
	default:
		return -EOPNOTSUPP;
	}
	return 0;
}

/* libbpf's bpf_core_calc_type_relo (TYPE_ID_LOCAL is handled before). */
static int type_value(uint32_t kind, const struct spec *spec, uint64_t *val, bool *validate)
{
	int64_t sz;

	if (validate)
		*validate = true;
	if (!spec) {
		*val = 0;
		return 0;
	}
	switch (kind) {
	case BPF_CORE_TYPE_ID_TARGET:
		*val = spec->root_type_id;
		/* ids change when objects are linked: nothing to check */
		if (validate)
			*validate = false;
		break;
	case BPF_CORE_TYPE_EXISTS:
	case BPF_CORE_TYPE_MATCHES:
		*val = 1;
		break;
	case BPF_CORE_TYPE_SIZE:
		sz = btf_resolve_size(spec->btf, spec->root_type_id);
		if (sz < 0)
			return -EINVAL;
		*val = (uint64_t)sz;
		break;
	default:
		return -EOPNOTSUPP;
	}
	return 0;
}

static int enumval_value(uint32_t kind, const struct spec *spec, uint64_t *val)
{
	const struct btf_type *t;

	if (kind == BPF_CORE_ENUMVAL_EXISTS) {
		*val = spec != NULL;
		return 0;
	}
	if (!spec)
		return -EUCLEAN; /* poison */
	t = btf_type_by_id(spec->btf, spec->acc[0].type_id);
	if (btf_kind(t) == BTF_KIND_ENUM) {
		/* a 32-bit value sign-extends, as libbpf's does */
		*val = (uint64_t)(int64_t)btf_enums(t)[spec->acc[0].idx].val;
	} else {
		const struct btf_enum64 *e = &btf_enums64(t)[spec->acc[0].idx];

		*val = (uint64_t)e->val_hi32 << 32 | e->val_lo32;
	}
	return 0;
}

/* Resizing a load or store is right only for pointers and unsigned integers. */
static bool resize_is_safe(const struct spec *local, const struct spec *targ,
			   const struct result *res)
{
	const struct btf_type *o = type_of(local->btf, res->orig_type_id);
	const struct btf_type *n = type_of(targ->btf, res->new_type_id);

	if (btf_kind(o) == BTF_KIND_PTR && btf_kind(n) == BTF_KIND_PTR)
		return true;
	return btf_kind(o) == BTF_KIND_INT && btf_kind(n) == BTF_KIND_INT &&
	       btf_int_encoding(o) != BTF_INT_SIGNED && btf_int_encoding(n) != BTF_INT_SIGNED;
}

/* libbpf's bpf_core_calc_relo: -EUCLEAN from a value means "poison". */
static int calc_relo(uint32_t kind, const struct spec *local, const struct spec *targ,
		     struct result *res)
{
	int ret;

	*res = (struct result){ .validate = true };
	if (relo_is(kind, RELO_FIELD)) {
		ret = field_value(kind, local, &res->orig_val, &res->orig_sz, &res->orig_type_id,
				  &res->validate);
		if (!ret)
			ret = field_value(kind, targ, &res->new_val, &res->new_sz,
					  &res->new_type_id, NULL);
		if (!ret && res->orig_sz != res->new_sz)
			res->fail_memsz_adjust = !resize_is_safe(local, targ, res);
	} else if (relo_is(kind, RELO_TYPE)) {
		ret = type_value(kind, local, &res->orig_val, &res->validate);
		if (!ret)
			ret = type_value(kind, targ, &res->new_val, NULL);
	} else {
		ret = enumval_value(kind, local, &res->orig_val);
		if (!ret)
			ret = enumval_value(kind, targ, &res->new_val);
	}
	if (ret == -EUCLEAN) {
		res->poison = true;
		ret = 0;
	}
	return ret;
}

/* ---- patching (libbpf's bpf_core_patch_insn) ---- */

static void poison(struct sluice_insn *insn)
{
	*insn = insn_encode(OP_CALL);
	insn->imm = POISON_HELPER;
}

static int access_bytes(uint8_t code)
{
	static const int8_t bytes[] = { [BPF_W >> 3] = 4, [BPF_H >> 3] = 2, [BPF_B >> 3] = 1,
					[BPF_DW >> 3] = 8 };

	return bytes[BPF_SIZE(code) >> 3];
}

static int size_code(uint32_t bytes)
{
	switch (bytes) {
	case 8: return BPF_DW;
	case 4: return BPF_W;
	case 2: return BPF_H;
	case 1: return BPF_B;
	default: return -1;
	}
}

/* Context for the one-line messages of a relocation. */
struct relo_ctx {
	const struct sluice_btf *local;
	const struct btf_ext_core *relo;
	struct sluice_error *err;
};

/* Put the relocation a failure is about before its message. */
static int in_relo(const struct relo_ctx *c, int ret)
{
	const struct btf_type *t = btf_type_by_id(c->local, c->relo->type_id);
	const char *name = btf_type_name(c->local, c->relo->type_id);
	char prefix[SLUICE_ERRMSG_MAX];

	snprintf(prefix, sizeof(prefix), "CO-RE: insn %u: %s of [%u] %s %s, access '%s'",
		 c->relo->insn, c->relo->kind < RELO_KINDS ? relo_kinds[c->relo->kind].name : "unknown",
		 c->relo->type_id, t ? btf_kind_str(btf_kind(t)) : "void", *name ? name : "<anon>",
		 c->relo->access);
	return sluice_fail_prefix(c->err, ret, prefix);
}

#define relo_fail(c, code, ...) in_relo(c, sluice_fail((c)->err, code, __VA_ARGS__))

static int patch_mem(const struct relo_ctx *c, struct sluice_insn *insn, const struct result *res)
{
	if (res->validate && (uint64_t)(int64_t)insn->off != res->orig_val)
		return relo_fail(c, EINVAL, "the instruction's offset is %d, not %llu", insn->off,
				 (unsigned long long)res->orig_val);
	if (res->new_val > SHRT_MAX)
		return relo_fail(c, ERANGE, "offset %llu does not fit the instruction",
				 (unsigned long long)res->new_val);
	if (res->fail_memsz_adjust) {
		/* libbpf: the field is neither a pointer nor unsigned, so resizing would misread it */
		poison(insn);
		return 0;
	}
	insn->off = (int16_t)res->new_val;
	if (res->new_sz != res->orig_sz) {
		int code = size_code(res->new_sz);

		if (access_bytes(insn->code) != (int)res->orig_sz)
			return relo_fail(c, EINVAL, "the instruction accesses %d bytes, not %u",
					 access_bytes(insn->code), res->orig_sz);
		if (code < 0)
			return relo_fail(c, EINVAL, "no load or store is %u bytes wide", res->new_sz);
		insn->code = (uint8_t)(BPF_MODE(insn->code) | code | BPF_CLASS(insn->code));
	}
	return 0;
}

static int patch(const struct relo_ctx *c, struct sluice_insn *insns, size_t count,
		 const struct result *res)
{
	struct sluice_insn *insn = &insns[c->relo->insn];
	bool wide = insn->code == insn_table[OP_LDDW].opcode;
	uint64_t imm;

	if (wide && c->relo->insn + 1 >= count)
		return relo_fail(c, EINVAL, "lddw is missing its second half");
	if (res->poison) {
		/* both halves of a lddw, or the verifier reports the second as an unknown opcode */
		if (wide)
			poison(insn + 1);
		poison(insn);
		return 0;
	}
	switch (INSN_CLASS(insn->code)) {
	case CLASS_ALU:
	case CLASS_ALU64:
		if (BPF_SRC(insn->code) != BPF_K)
			return relo_fail(c, EINVAL, "the ALU instruction has no immediate");
		if (res->validate && (uint64_t)(int64_t)insn->imm != res->orig_val)
			return relo_fail(c, EINVAL, "the instruction's immediate is %d, not %llu",
					 insn->imm, (unsigned long long)res->orig_val);
		insn->imm = (int32_t)(uint32_t)res->new_val;
		return 0;
	case CLASS_LDX:
	case CLASS_ST:
	case CLASS_STX:
		return patch_mem(c, insn, res);
	case CLASS_LD:
		if (!wide || insn[0].src || insn[0].off || insn[1].code || insn[1].dst ||
		    insn[1].src || insn[1].off)
			return relo_fail(c, EINVAL, "not a plain lddw");
		imm = (uint32_t)insn[0].imm | (uint64_t)(uint32_t)insn[1].imm << 32;
		if (res->validate && imm != res->orig_val)
			return relo_fail(c, EINVAL, "the instruction's immediate is %llu, not %llu",
					 (unsigned long long)imm, (unsigned long long)res->orig_val);
		insn[0].imm = (int32_t)(uint32_t)res->new_val;
		insn[1].imm = (int32_t)(uint32_t)(res->new_val >> 32);
		return 0;
	default:
		return relo_fail(c, EINVAL, "opcode 0x%02x cannot be relocated", insn->code);
	}
}

/* ---- one relocation (libbpf's bpf_core_calc_relo_insn) ---- */

static int resolve(const struct relo_ctx *c, struct core_target *tg, struct result *res)
{
	struct spec local, cand;
	const uint32_t kind = c->relo->kind;
	uint32_t matched = 0, targ_bit_offset = 0;
	struct cand_list *cands;
	const char *name;
	int ret;

	ret = parse_spec(c->local, c->relo, &local);
	if (ret)
		return relo_fail(c, EINVAL, "the access string does not fit the type (%s)",
				 strerror(-ret));
	if (kind == BPF_CORE_TYPE_ID_LOCAL) {
		/* the id may change when objects are linked: nothing to check */
		*res = (struct result){ .orig_val = local.root_type_id, .new_val = local.root_type_id };
		return 0;
	}
	name = btf_type_name(c->local, c->relo->type_id);
	if (!*name)
		return relo_fail(c, EINVAL, "an anonymous type has no candidates");
	cands = find_cands(tg, c->local, c->relo->type_id, name);
	if (!cands)
		return relo_fail(c, ENOMEM, "out of memory for candidates");
	for (uint32_t i = 0; i < cands->len; i++) {
		struct result cres;

		ret = match_spec(&local, tg->btf, cands->ids[i], &cand);
		if (ret < 0)
			return relo_fail(c, -ret, "matching candidate [%u]: %s", cands->ids[i],
					 strerror(-ret));
		if (!ret)
			continue;
		ret = calc_relo(kind, &local, &cand, &cres);
		if (ret)
			return relo_fail(c, -ret, "candidate [%u]: %s", cands->ids[i], strerror(-ret));
		if (!matched) {
			*res = cres;
			targ_bit_offset = cand.bit_offset;
		} else if (cand.bit_offset != targ_bit_offset) {
			return relo_fail(c, EINVAL, "candidates disagree: bit offset %u in [%u], %u before",
					 cand.bit_offset, cands->ids[i], targ_bit_offset);
		} else if (cres.poison != res->poison || cres.new_val != res->new_val) {
			return relo_fail(c, EINVAL, "candidates disagree: %s %llu in [%u], %s %llu before",
					 cres.poison ? "failure" : "success",
					 (unsigned long long)cres.new_val, cands->ids[i],
					 res->poison ? "failure" : "success",
					 (unsigned long long)res->new_val);
		}
		cands->ids[matched++] = cands->ids[i];
	}
	/* the ones that matched are the candidates from now on; none leaves the list as it was */
	if (matched) {
		cands->len = matched;
		return 0;
	}
	ret = calc_relo(kind, &local, NULL, res);
	if (ret)
		return relo_fail(c, -ret, "%s", strerror(-ret));
	return 0;
}

int core_relocate(const struct sluice_btf *local, struct core_target *target,
		  const struct btf_ext_core *relo, struct sluice_insn *insns, size_t count,
		  struct sluice_error *err)
{
	const struct relo_ctx c = { .local = local, .relo = relo, .err = err };
	struct result res;
	int ret;

	if (relo->insn >= count)
		return sluice_fail(err, EINVAL, "CO-RE: instruction %u is beyond the section's %zu",
				   relo->insn, count);
	if (relo->type_id > btf_last_id(local))
		return sluice_fail(err, EINVAL, "CO-RE: insn %u: type %u is beyond the last id %u",
				   relo->insn, relo->type_id, btf_last_id(local));
	ret = resolve(&c, target, &res);
	return ret ? ret : patch(&c, insns, count, &res);
}
