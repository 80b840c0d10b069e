/* SPDX-License-Identifier: MIT */
/*
 * Opening a clang-compiled BPF object the way libbpf 1.1 opens and loads
 * it, up to the instructions it would hand to the kernel: programs by their
 * SEC() names, maps from BTF `.maps`, the legacy `maps` section and global
 * data sections, externs, CO-RE, and the linking of bpf-to-bpf calls.
 *
 * The order of every list follows libbpf, because programs refer to maps by
 * index and because Sluice's relocated instructions are compared with
 * libbpf's one by one:
 *   programs  sorted by (section index, offset in section);
 *   maps      legacy, then BTF-defined (by offset in .maps), then global
 *             data (by section index), then .kconfig; inner-map definitions
 *             of map-in-maps come last, where libbpf has none;
 *   linking   depth first: a subprogram is appended to the calling main
 *             program the first time a call to it is met, and its own calls
 *             are followed before the caller's walk resumes.
 */
#define _GNU_SOURCE /* asprintf */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <elf.h>
#include <linux/bpf.h>

#include "btf.h"
#include "core.h"
#include "errmsg.h"
#include "insn.h"
#include "loader.h"

#define LICENSE_MAX 64
#define TEXT_SECTION ".text"
#define DEFAULT_TARGET_BTF "/sys/kernel/btf/vmlinux"
/* The kernel loads at most this many instructions into one program. */
#define MAX_PROG_INSNS 1000000
#define LIBBPF_PIN_BY_NAME 1
#ifndef SHT_LLVM_ADDRSIG
#define SHT_LLVM_ADDRSIG 0x6fff4c03
#endif

enum reloc_type { RELO_LD64, RELO_CALL, RELO_DATA, RELO_EXTERN_LD64, RELO_EXTERN_CALL,
		  RELO_SUBPROG_ADDR };

/* One relocation of a program, in the program's own instruction numbering. */
struct reloc {
	enum reloc_type type;
	size_t insn;
	size_t map;           /* RELO_LD64, RELO_DATA */
	uint64_t sym_off;     /* RELO_CALL, RELO_DATA, RELO_SUBPROG_ADDR */
	size_t ext;           /* RELO_EXTERN_* */
};

struct sluice_prog {
	const char *name;
	const char *section;   /* without libbpf's "?" (load-on-demand) mark */
	size_t sec_idx;
	size_t sec_insn_off, sec_insn_cnt;
	bool subprog;          /* a .text function other programs call */
	uint32_t type, attach_type;
	const char *attach_target;
	struct sluice_insn *code;  /* the function's own instructions, CO-RE applied */
	struct reloc *relocs;      /* sorted by instruction */
	size_t nrelocs;
	/* main programs: the linked result */
	struct sluice_insn *insns;
	size_t count;
	struct sluice_func_info *funcs;
	size_t nfuncs;
	struct sluice_line_info *lines;
	size_t nlines;
	/* linking scratch: where this subprogram sits in the current main program */
	size_t sub_insn_off;
};

struct map {
	struct sluice_map_def def;
	size_t sec_idx;        /* SIZE_MAX when no relocation can name it */
	uint64_t sec_offset;
	char *owned_name;      /* names made here rather than found in the file */
	bool has_inner;        /* a BTF map-in-map, whose inner definition is added last */
	struct sluice_map_def inner;
	uint64_t values_off;   /* where `values` starts in its .maps variable (0: none) */
	struct sluice_map_slot *slots;
};

enum ext_type { EXT_KCFG, EXT_KSYM };

/* An extern (`__kconfig` or `__ksym`), as libbpf's collect_externs sees it. */
struct ext {
	enum ext_type type;
	size_t sym;            /* its ELF symbol */
	const char *name;
	bool weak;
	bool func;             /* a kfunc rather than a variable */
	uint32_t type_id;      /* ksym: local BTF type (0: typeless) */
	int64_t size, align;   /* kcfg */
	uint32_t data_off;     /* kcfg: offset in the .kconfig map */
	bool resolved;         /* ksym: found in the target BTF */
	uint32_t target_id;
};

struct sluice_object {
	char *path;
	char name[BPF_OBJ_NAME_LEN];
	char license[LICENSE_MAX];
	uint32_t kversion;
	struct elf_file elf;
	struct sluice_btf *btf;
	struct btf_ext *ext;
	size_t text_shndx, maps_shndx, legacy_maps_shndx;

	struct sluice_prog *progs;   /* every function, subprograms included */
	size_t nprogs;
	struct sluice_prog **mains;  /* the entry points, in the same order */
	size_t nmains;

	struct map *maps;
	size_t nmaps;

	struct ext *exts;
	size_t nexts;
	int kconfig_map;
	uint8_t *kconfig_data;

	char **warnings;
	size_t nwarnings;

	/* while opening */
	struct sluice_object_opts opts;
	struct sluice_btf *target;
	struct core_target *core;
};

/* ---- small helpers ---- */

static bool has_prefix(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

__attribute__((format(printf, 2, 3)))
static int warn(struct sluice_object *obj, const char *fmt, ...)
{
	char **grown = realloc(obj->warnings, (obj->nwarnings + 1) * sizeof(*grown));
	va_list ap;
	int n;

	if (!grown)
		return -ENOMEM;
	obj->warnings = grown;
	va_start(ap, fmt);
	n = vasprintf(&obj->warnings[obj->nwarnings], fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	obj->nwarnings++;
	return 0;
}

static int oom(struct sluice_error *err)
{
	return sluice_fail(err, ENOMEM, "out of memory");
}

static const struct elf_section *section(const struct sluice_object *obj, size_t i)
{
	return &obj->elf.sections[i];
}

/* ---- sections ---- */

/* libbpf's ignore_elf_section: parts of the file the loader never reads. */
static bool ignored_section(const struct elf_section *s)
{
	const char *name = s->name;

	if (s->type == SHT_STRTAB || s->type == SHT_LLVM_ADDRSIG)
		return true;
	if (s->type == SHT_PROGBITS && s->size == 0 && !strcmp(name, TEXT_SECTION))
		return true;
	if (has_prefix(name, ".debug_"))
		return true;
	if (has_prefix(name, ".rel")) {
		name += strlen(".rel");
		return has_prefix(name, ".debug_") || !strcmp(name, ".BTF") ||
		       !strcmp(name, ".BTF.ext");
	}
	return false;
}

static bool named(const char *name, const char *base)
{
	size_t n = strlen(base);

	return !strncmp(name, base, n) && (name[n] == '\0' || name[n] == '.');
}

/* The kind of global data a section holds (.data, .rodata.str1.1, .bss, ...), or -1. */
static int data_origin(const struct elf_section *s)
{
	if (s->type == SHT_NOBITS && named(s->name, ".bss"))
		return SLUICE_MAP_BSS;
	if (s->type == SHT_PROGBITS && !(s->flags & SHF_EXECINSTR) && s->size) {
		if (named(s->name, ".data"))
			return SLUICE_MAP_DATA;
		if (named(s->name, ".rodata"))
			return SLUICE_MAP_RODATA;
	}
	return -1;
}

/* ---- programs ---- */

static int add_programs(struct sluice_object *obj, size_t sec_idx, struct sluice_error *err)
{
	const struct elf_section *s = section(obj, sec_idx);
	size_t found = 0;

	for (size_t i = 0; i < obj->elf.nsymbols; i++) {
		const struct elf_symbol *sym = &obj->elf.symbols[i];
		struct sluice_prog *p, *grown;

		if (sym->shndx != sec_idx || sym->type != STT_FUNC)
			continue;
		if (sym->size == 0 || sym->size % SLUICE_INSN_SIZE || sym->value % SLUICE_INSN_SIZE ||
		    sym->value > s->size || s->size - sym->value < sym->size)
			return sluice_fail(err, EINVAL,
					   "%s: section '%s' (index %zu): function '%s' at offset 0x%" PRIx64
					   " (%" PRIu64 " bytes) is not whole instructions inside the section",
					   obj->path, s->name, sec_idx, sym->name, sym->value, sym->size);
		if (sec_idx != obj->text_shndx && sym->bind == STB_LOCAL)
			return sluice_fail(err, ENOTSUP,
					   "%s: section '%s' (index %zu): program '%s' is static, which libbpf does not load",
					   obj->path, s->name, sec_idx, sym->name);
		grown = realloc(obj->progs, (obj->nprogs + 1) * sizeof(*grown));
		if (!grown)
			return oom(err);
		obj->progs = grown;
		p = &obj->progs[obj->nprogs++];
		memset(p, 0, sizeof(*p));
		p->name = sym->name;
		p->section = s->name[0] == '?' ? s->name + 1 : s->name;
		p->sec_idx = sec_idx;
		p->sec_insn_off = sym->value / SLUICE_INSN_SIZE;
		p->sec_insn_cnt = sym->size / SLUICE_INSN_SIZE;
		p->attach_target = "";
		p->code = malloc(sym->size);
		if (!p->code)
			return oom(err);
		memcpy(p->code, s->data + sym->value, sym->size);
		found++;
	}
	if (!found)
		return warn(obj, "section '%s' (index %zu): code without function symbols, ignored",
			    s->name, sec_idx) ? oom(err) : 0;
	return 0;
}

static int cmp_progs(const void *a, const void *b)
{
	const struct sluice_prog *x = a, *y = b;

	if (x->sec_idx != y->sec_idx)
		return x->sec_idx < y->sec_idx ? -1 : 1;
	return x->sec_insn_off < y->sec_insn_off ? -1 : x->sec_insn_off > y->sec_insn_off;
}

/* libbpf's find_prog_by_sec_insn: the function holding that instruction of the section. */
static struct sluice_prog *prog_at(const struct sluice_object *obj, size_t sec_idx, int64_t insn)
{
	size_t l = 0, r;
	struct sluice_prog *p;

	if (!obj->nprogs || insn < 0)
		return NULL;
	r = obj->nprogs - 1;
	while (l < r) {
		size_t m = l + (r - l + 1) / 2;

		p = &obj->progs[m];
		if (p->sec_idx < sec_idx || (p->sec_idx == sec_idx && p->sec_insn_off <= (size_t)insn))
			l = m;
		else
			r = m - 1;
	}
	p = &obj->progs[l];
	if (p->sec_idx == sec_idx && (size_t)insn >= p->sec_insn_off &&
	    (size_t)insn < p->sec_insn_off + p->sec_insn_cnt)
		return p;
	return NULL;
}

/* Sort, tell entry points from subprograms, and type the entry points by section name. */
static int classify_programs(struct sluice_object *obj, struct sluice_error *err)
{
	size_t warned_sec = 0;

	if (obj->nprogs)
		qsort(obj->progs, obj->nprogs, sizeof(*obj->progs), cmp_progs);
	obj->mains = calloc(obj->nprogs ? obj->nprogs : 1, sizeof(*obj->mains));
	if (!obj->mains)
		return oom(err);
	for (size_t i = 0; i < obj->nprogs; i++) {
		struct sluice_prog *p = &obj->progs[i];
		const struct sec_def *def;

		p->subprog = p->sec_idx == obj->text_shndx && obj->nprogs > 1;
		if (p->subprog)
			continue;
		obj->mains[obj->nmains++] = p;
		def = sec_def_find(p->section);
		if (def) {
			p->type = def->prog_type;
			p->attach_type = def->attach_type;
			p->attach_target = sec_def_attach_target(def, p->section);
		} else if (warned_sec != p->sec_idx) {
			warned_sec = p->sec_idx;
			if (warn(obj, "section '%s' (index %zu): no known program type; its programs load only with an explicit type",
				 section(obj, p->sec_idx)->name, p->sec_idx))
				return oom(err);
		}
	}
	return 0;
}

/* ---- BTF ---- */

static const struct btf_type *skip_mods(const struct sluice_btf *btf, uint32_t id, uint32_t *res)
{
	id = btf_skip_modifiers(NULL, btf, id);
	if (res)
		*res = id;
	return btf_type_by_id(btf, id);
}

/*
 * The bytes of .BTF or .BTF.ext, or NULL with the reason in why.  libbpf
 * refuses the object when either is not PROGBITS (the return value then is
 * an error), and treats an empty one as broken.
 */
static int btf_bytes(const struct sluice_object *obj, size_t index, const struct elf_section **out,
		     struct sluice_error *why, struct sluice_error *err)
{
	const struct elf_section *s = section(obj, index);

	*out = NULL;
	if (s->type != SHT_PROGBITS)
		return sluice_fail(err, EINVAL, "%s: section '%s' (index %zu) is not PROGBITS",
				   obj->path, s->name, index);
	if (!s->data)
		snprintf(why->msg, sizeof(why->msg), "section '%s' is empty", s->name);
	else
		*out = s;
	return 0;
}

static int init_btf(struct sluice_object *obj, bool required, struct sluice_error *err)
{
	size_t btf_sec = elf_find_section(&obj->elf, ".BTF");
	size_t ext_sec = elf_find_section(&obj->elf, ".BTF.ext");
	struct sluice_error why = { 0 };
	const struct elf_section *s;
	int ret;

	if (!btf_sec && required)
		return sluice_fail(err, EINVAL, "%s: no .BTF section, which BTF-defined maps and externs need",
				   obj->path);
	if (!btf_sec)
		return 0;
	ret = btf_bytes(obj, btf_sec, &s, &why, err);
	if (ret)
		return ret;
	obj->btf = s ? btf_parse(s->data, s->size, NULL, &why) : NULL;
	if (!obj->btf && required)
		return sluice_fail(err, why.code ? why.code : EINVAL,
				   "%s: .BTF, which this object needs: %s", obj->path, why.msg);
	if (!obj->btf)
		return warn(obj, ".BTF ignored: %s", why.msg) ? oom(err) : 0;
	if (!ext_sec)
		return 0;
	ret = btf_bytes(obj, ext_sec, &s, &why, err);
	if (ret)
		return ret;
	obj->ext = s ? btf_ext_parse(s->data, s->size, obj->btf, &why) : NULL;
	if (!obj->ext && warn(obj, ".BTF.ext ignored (no line info, no CO-RE): %s", why.msg))
		return oom(err);
	return 0;
}

/* The target BTF for CO-RE and ksyms, loaded the first time it is needed. */
static int load_target(struct sluice_object *obj, struct sluice_error *err)
{
	const char *path = obj->opts.target_btf ? obj->opts.target_btf : DEFAULT_TARGET_BTF;
	char prefix[SLUICE_ERRMSG_MAX];

	if (obj->core)
		return 0;
	snprintf(prefix, sizeof(prefix), "%s: target BTF", obj->path);
	obj->target = btf_load_file(path, err);
	if (!obj->target)
		return sluice_fail_prefix(err, -errno, prefix);
	obj->core = core_target_new(obj->target, err);
	if (!obj->core)
		return sluice_fail_prefix(err, -errno, prefix);
	return 0;
}

/* ---- maps ---- */

static struct map *add_map(struct sluice_object *obj, struct sluice_error *err)
{
	struct map *grown = realloc(obj->maps, (obj->nmaps + 1) * sizeof(*grown));
	struct map *m;

	if (!grown) {
		oom(err);
		return NULL;
	}
	obj->maps = grown;
	m = &obj->maps[obj->nmaps++];
	memset(m, 0, sizeof(*m));
	m->def.inner_map = -1;
	return m;
}

/*
 * Legacy `maps`: one definition per symbol, all of one size (libbpf 0.x's
 * rule): struct bpf_map_def of 20 bytes; 28 with inner_map_idx and
 * numa_node (the kernel samples' loader); 36 for iproute2's struct
 * bpf_elf_map, whose id, pinning, inner_id and inner_idx follow the flags.
 */
enum { LEGACY_WORDS = 9 };

static int init_legacy_maps(struct sluice_object *obj, struct sluice_error *err)
{
	size_t sec_idx = obj->legacy_maps_shndx, first = obj->nmaps, nsyms = 0, def_size;
	const struct elf_section *s = section(obj, sec_idx);
	uint32_t (*words)[LEGACY_WORDS];

	for (size_t i = 0; i < obj->elf.nsymbols; i++)
		nsyms += obj->elf.symbols[i].shndx == sec_idx &&
			 obj->elf.symbols[i].type != STT_SECTION;
	if (!s->data || !nsyms || s->size % nsyms)
		return sluice_fail(err, EINVAL,
				   "%s: section 'maps' (index %zu): %zu bytes for %zu map symbols: cannot tell the definition size",
				   obj->path, sec_idx, s->size, nsyms);
	def_size = s->size / nsyms;
	if (def_size < 4 * sizeof(uint32_t))
		return sluice_fail(err, EINVAL,
				   "%s: section 'maps' (index %zu): %zu-byte map definitions are too small",
				   obj->path, sec_idx, def_size);
	if (def_size > sizeof(*words) &&
	    warn(obj, "section 'maps': %zu-byte map definitions, only the first %zu bytes read",
		 def_size, sizeof(*words)))
		return oom(err);
	words = calloc(nsyms, sizeof(*words));
	if (!words)
		return oom(err);
	for (size_t i = 0; i < obj->elf.nsymbols; i++) {
		const struct elf_symbol *sym = &obj->elf.symbols[i];
		uint32_t *w = words[obj->nmaps - first];
		struct map *m;

		if (sym->shndx != sec_idx || sym->type == STT_SECTION)
			continue;
		if (sym->value > s->size || s->size - sym->value < def_size) {
			free(words);
			return sluice_fail(err, EINVAL,
					   "%s: section 'maps' (index %zu): map '%s' at offset 0x%" PRIx64
					   " runs past the section's end",
					   obj->path, sec_idx, sym->name, sym->value);
		}
		memcpy(w, s->data + sym->value, def_size < sizeof(*words) ? def_size : sizeof(*words));
		m = add_map(obj, err);
		if (!m) {
			free(words);
			return -ENOMEM;
		}
		m->sec_idx = sec_idx;
		m->sec_offset = sym->value;
		m->def = (struct sluice_map_def){
			.name = sym->name, .section = "maps", .origin = SLUICE_MAP_LEGACY,
			.type = w[0], .key_size = w[1], .value_size = w[2], .max_entries = w[3],
			.map_flags = w[4], .inner_map = -1,
		};
		if (def_size == 28) /* inner_map_idx, numa_node */
			m->def.numa_node = w[6];
		if (def_size == 36) /* iproute2 pins in its own bpffs tree, by name */
			m->def.pinning = w[6] ? LIBBPF_PIN_BY_NAME : 0;
	}
	for (size_t i = first; i < obj->nmaps; i++) {
		const uint32_t *w = words[i - first];
		uint32_t type = obj->maps[i].def.type;

		if (type != BPF_MAP_TYPE_ARRAY_OF_MAPS && type != BPF_MAP_TYPE_HASH_OF_MAPS)
			continue;
		if (def_size == 28 && w[5] < nsyms)
			obj->maps[i].def.inner_map = (int)(first + w[5]);
		for (size_t j = first; def_size == 36 && w[7] && j < obj->nmaps; j++)
			if (j != i && words[j - first][5] == w[7]) /* inner_id names a map's id */
				obj->maps[i].def.inner_map = (int)j;
	}
	free(words);
	return 0;
}

/* A libbpf "int (*name)[N]" field: N. */
static int map_field_int(const struct sluice_object *obj, const char *map, const char *field,
			 uint32_t type_id, uint32_t *out, struct sluice_error *err)
{
	const struct btf_type *t = skip_mods(obj->btf, type_id, NULL);
	const struct btf_type *arr;

	if (!t || btf_kind(t) != BTF_KIND_PTR)
		return sluice_fail(err, EINVAL, "%s: map '%s': field '%s' is not a pointer",
				   obj->path, map, field);
	arr = btf_type_by_id(obj->btf, t->type);
	if (!arr || btf_kind(arr) != BTF_KIND_ARRAY)
		return sluice_fail(err, EINVAL, "%s: map '%s': field '%s' is not a pointer to an array",
				   obj->path, map, field);
	*out = btf_array_info(arr)->nelems;
	return 0;
}

/* A libbpf "TYPE *name" field: sizeof(TYPE) and TYPE's id. */
static int map_field_type(const struct sluice_object *obj, const char *map, const char *field,
			  uint32_t type_id, uint32_t *size, uint32_t *id, struct sluice_error *err)
{
	const struct btf_type *t = btf_type_by_id(obj->btf, type_id);
	int64_t sz;

	if (!t || btf_kind(t) != BTF_KIND_PTR)
		return sluice_fail(err, EINVAL, "%s: map '%s': field '%s' is not a pointer",
				   obj->path, map, field);
	sz = btf_resolve_size(obj->btf, t->type);
	if (sz < 0 || sz > UINT32_MAX)
		return sluice_fail(err, EINVAL, "%s: map '%s': the size of '%s' (type %u) is unknown",
				   obj->path, map, field, t->type);
	if (*size && *size != sz)
		return sluice_fail(err, EINVAL, "%s: map '%s': conflicting %s size %u != %" PRId64,
				   obj->path, map, field, *size, sz);
	*size = (uint32_t)sz;
	*id = t->type;
	return 0;
}

static int set_size(const struct sluice_object *obj, const char *map, const char *what,
		    uint32_t *size, uint32_t value, struct sluice_error *err)
{
	if (*size && *size != value)
		return sluice_fail(err, EINVAL, "%s: map '%s': conflicting %s size %u != %u",
				   obj->path, map, what, *size, value);
	*size = value;
	return 0;
}

/* libbpf's parse_btf_map_def; inner is NULL when def_t is itself an inner map. */
static int parse_map_def(const struct sluice_object *obj, const char *map,
			 const struct btf_type *def_t, struct sluice_map_def *def,
			 struct sluice_map_def *inner, bool *has_inner, struct sluice_error *err)
{
	const struct btf_member *m = btf_members(def_t);
	unsigned vlen = btf_vlen(def_t);
	int ret = 0;

	for (unsigned i = 0; i < vlen && !ret; i++, m++) {
		const char *name = btf_str(obj->btf, m->name_off);
		uint32_t v = 0;

		if (!strcmp(name, "type")) {
			ret = map_field_int(obj, map, name, m->type, &def->type, err);
		} else if (!strcmp(name, "max_entries")) {
			ret = map_field_int(obj, map, name, m->type, &def->max_entries, err);
		} else if (!strcmp(name, "map_flags")) {
			ret = map_field_int(obj, map, name, m->type, &def->map_flags, err);
		} else if (!strcmp(name, "numa_node")) {
			ret = map_field_int(obj, map, name, m->type, &def->numa_node, err);
		} else if (!strcmp(name, "map_extra")) {
			ret = map_field_int(obj, map, name, m->type, &v, err);
		} else if (!strcmp(name, "key_size")) {
			ret = map_field_int(obj, map, name, m->type, &v, err);
			ret = ret ? ret : set_size(obj, map, "key", &def->key_size, v, err);
		} else if (!strcmp(name, "value_size")) {
			ret = map_field_int(obj, map, name, m->type, &v, err);
			ret = ret ? ret : set_size(obj, map, "value", &def->value_size, v, err);
		} else if (!strcmp(name, "key")) {
			ret = map_field_type(obj, map, name, m->type, &def->key_size,
					     &def->btf_key_type_id, err);
		} else if (!strcmp(name, "value")) {
			ret = map_field_type(obj, map, name, m->type, &def->value_size,
					     &def->btf_value_type_id, err);
		} else if (!strcmp(name, "pinning")) {
			if (!inner)
				return sluice_fail(err, EINVAL, "%s: map '%s': an inner map cannot be pinned",
						   obj->path, map);
			ret = map_field_int(obj, map, name, m->type, &def->pinning, err);
			if (!ret && def->pinning > LIBBPF_PIN_BY_NAME)
				return sluice_fail(err, EINVAL, "%s: map '%s': pinning %u is not 0 or 1",
						   obj->path, map, def->pinning);
		} else if (!strcmp(name, "values")) {
			bool in_map = def->type == BPF_MAP_TYPE_ARRAY_OF_MAPS ||
				      def->type == BPF_MAP_TYPE_HASH_OF_MAPS;
			const struct btf_type *t;

			if (!inner)
				return sluice_fail(err, ENOTSUP, "%s: map '%s': inner maps of inner maps are not supported",
						   obj->path, map);
			if (i != vlen - 1)
				return sluice_fail(err, EINVAL, "%s: map '%s': 'values' must be the last field",
						   obj->path, map);
			if (!in_map && def->type != BPF_MAP_TYPE_PROG_ARRAY)
				return sluice_fail(err, ENOTSUP, "%s: map '%s': 'values' needs a map-in-map or a prog array",
						   obj->path, map);
			ret = set_size(obj, map, "value", &def->value_size, 4, err);
			t = btf_type_by_id(obj->btf, m->type);
			if (!ret && (!t || btf_kind(t) != BTF_KIND_ARRAY || btf_array_info(t)->nelems))
				return sluice_fail(err, EINVAL, "%s: map '%s': 'values' is not a zero-sized array",
						   obj->path, map);
			if (ret)
				break;
			t = skip_mods(obj->btf, btf_array_info(t)->type, NULL);
			if (!t || btf_kind(t) != BTF_KIND_PTR)
				return sluice_fail(err, EINVAL, "%s: map '%s': 'values' is not an array of pointers",
						   obj->path, map);
			t = skip_mods(obj->btf, t->type, NULL);
			if (!in_map) {
				if (!t || btf_kind(t) != BTF_KIND_FUNC_PROTO)
					return sluice_fail(err, EINVAL, "%s: map '%s': prog-array values are not functions",
							   obj->path, map);
				continue;
			}
			if (!t || btf_kind(t) != BTF_KIND_STRUCT)
				return sluice_fail(err, EINVAL, "%s: map '%s': the inner map is not a struct",
						   obj->path, map);
			ret = parse_map_def(obj, map, t, inner, NULL, NULL, err);
			*has_inner = true;
		} else if (inner) { /* libbpf's strict mode; inner definitions come here checked */
			return sluice_fail(err, ENOTSUP, "%s: map '%s': unknown field '%s'",
					   obj->path, map, name);
		}
	}
	if (!ret && def->type == BPF_MAP_TYPE_UNSPEC)
		return sluice_fail(err, EINVAL, "%s: map '%s': no map type", obj->path, map);
	return ret;
}

/* The kernel wants a ring buffer of a power-of-2 number of pages; libbpf rounds up. */
static uint32_t ringbuf_size(uint32_t size)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t mul;

	if (!size || page <= 0)
		return size;
	if (size % page == 0 && !((size / page) & (size / page - 1)))
		return size;
	for (mul = 1; mul * page <= UINT32_MAX; mul <<= 1)
		if (mul * page > size)
			return (uint32_t)(mul * page);
	return size;
}

static void fix_map_sizes(struct sluice_map_def *def)
{
	if (def->type == BPF_MAP_TYPE_RINGBUF || def->type == BPF_MAP_TYPE_USER_RINGBUF)
		def->max_entries = ringbuf_size(def->max_entries);
}

/* A global variable's ELF symbol (libbpf's find_elf_var_sym), or NULL. */
static const struct elf_symbol *var_symbol(const struct sluice_object *obj, const char *name)
{
	for (size_t i = 0; i < obj->elf.nsymbols; i++) {
		const struct elf_symbol *s = &obj->elf.symbols[i];

		if (s->type == STT_OBJECT && (s->bind == STB_GLOBAL || s->bind == STB_WEAK) &&
		    !strcmp(s->name, name))
			return s;
	}
	return NULL;
}

/* A .maps variable with its offset in the section, which clang leaves at 0. */
struct btf_map_var {
	uint32_t index;       /* in the DATASEC */
	uint64_t offset;
};

static int cmp_map_var(const void *a, const void *b)
{
	const struct btf_map_var *x = a, *y = b;

	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int add_btf_map(struct sluice_object *obj, const struct btf_type *sec,
		       const struct btf_map_var *mv, struct sluice_error *err)
{
	const struct btf_var_secinfo *vi = &btf_secinfos(sec)[mv->index];
	const struct elf_section *s = section(obj, obj->maps_shndx);
	const struct btf_type *var = btf_type_by_id(obj->btf, vi->type);
	const char *name = var ? btf_str(obj->btf, var->name_off) : "";
	struct sluice_map_def def = { .name = name, .section = ".maps", .origin = SLUICE_MAP_BTF,
				      .inner_map = -1 };
	struct sluice_map_def inner = { .origin = SLUICE_MAP_BTF, .section = ".maps", .inner_map = -1 };
	const struct btf_type *def_t;
	bool has_inner = false;
	struct map *m;
	int ret;

	if (!name[0])
		return sluice_fail(err, EINVAL, "%s: .maps variable %u has no name", obj->path, mv->index);
	if (mv->offset > s->size || s->size - mv->offset < vi->size)
		return sluice_fail(err, EINVAL, "%s: map '%s' at offset 0x%" PRIx64 " runs past the end of .maps",
				   obj->path, name, mv->offset);
	if (btf_kind(var) != BTF_KIND_VAR)
		return sluice_fail(err, EINVAL, "%s: map '%s' is a BTF %s, not a variable",
				   obj->path, name, btf_kind_str(btf_kind(var)));
	if (btf_var_info(var)->linkage != BTF_VAR_GLOBAL_ALLOCATED)
		return sluice_fail(err, ENOTSUP, "%s: map '%s' is not a global variable", obj->path, name);
	def_t = skip_mods(obj->btf, var->type, NULL);
	if (!def_t || btf_kind(def_t) != BTF_KIND_STRUCT)
		return sluice_fail(err, EINVAL, "%s: map '%s' is not a struct", obj->path, name);
	if (def_t->size > vi->size)
		return sluice_fail(err, EINVAL, "%s: map '%s': its struct is larger than its variable",
				   obj->path, name);
	ret = parse_map_def(obj, name, def_t, &def, &inner, &has_inner, err);
	if (ret)
		return ret;
	fix_map_sizes(&def);
	m = add_map(obj, err);
	if (!m)
		return -ENOMEM;
	m->def = def;
	m->sec_idx = obj->maps_shndx;
	m->sec_offset = mv->offset;
	m->has_inner = has_inner;
	m->inner = inner;
	fix_map_sizes(&m->inner);
	for (unsigned i = 0; i < btf_vlen(def_t); i++)
		if (!strcmp(btf_str(obj->btf, btf_members(def_t)[i].name_off), "values"))
			m->values_off = btf_member_bit_offset(def_t, i) / 8;
	return 0;
}

/* The BTF map whose .maps variable holds offset, or NULL. */
static struct map *btf_map_at(struct sluice_object *obj, uint64_t offset)
{
	struct map *found = NULL;

	for (size_t i = 0; i < obj->nmaps; i++) {
		struct map *m = &obj->maps[i];

		if (m->sec_idx == obj->maps_shndx && m->sec_offset <= offset &&
		    (!found || m->sec_offset > found->sec_offset))
			found = m;
	}
	return found;
}

static const char *prog_name_at(const struct sluice_object *obj, const struct elf_symbol *sym)
{
	for (size_t i = 0; i < obj->nmains; i++)
		if (obj->mains[i]->sec_idx == sym->shndx &&
		    obj->mains[i]->sec_insn_off * SLUICE_INSN_SIZE == sym->value)
			return obj->mains[i]->name;
	return NULL;
}

/*
 * `.values = { ... }` of prog arrays and maps of maps: relocations against
 * .maps name the program or map each slot starts with (libbpf's
 * bpf_object__collect_map_relos).
 */
static int collect_map_slots(struct sluice_object *obj, struct sluice_error *err)
{
	for (size_t i = 0; i < obj->elf.nrelocs; i++) {
		const struct elf_relocs *rs = &obj->elf.relocs[i];

		if (!obj->maps_shndx || rs->target != obj->maps_shndx)
			continue;
		for (size_t j = 0; j < rs->count; j++) {
			const struct elf_symbol *sym = &obj->elf.symbols[rs->relocs[j].sym];
			struct map *m = btf_map_at(obj, rs->relocs[j].offset);
			uint64_t at = rs->relocs[j].offset - (m ? m->sec_offset : 0);
			struct sluice_map_slot slot = { .map = -1 };
			struct sluice_map_slot *grown;

			if (!m || !m->values_off || at < m->values_off || (at - m->values_off) % 8)
				return sluice_fail(err, EINVAL, "%s: .maps relocation at 0x%" PRIx64 " is not a slot of a map's 'values'",
						   obj->path, rs->relocs[j].offset);
			slot.index = (uint32_t)((at - m->values_off) / 8);
			if (slot.index >= m->def.max_entries)
				return sluice_fail(err, EINVAL, "%s: map '%s': slot %u is past max_entries %u",
						   obj->path, m->def.name, slot.index, m->def.max_entries);
			if (m->def.type == BPF_MAP_TYPE_PROG_ARRAY) {
				slot.prog = prog_name_at(obj, sym);
				if (!slot.prog)
					return sluice_fail(err, EINVAL, "%s: map '%s': slot %u names '%s', which is not a program",
							   obj->path, m->def.name, slot.index, sym->name);
			} else {
				slot.map = sym->shndx == obj->maps_shndx ?
					   sluice_object_find_map(obj, sym->name) : -1;
				if (slot.map < 0)
					return sluice_fail(err, EINVAL, "%s: map '%s': slot %u names '%s', which is not a map",
							   obj->path, m->def.name, slot.index, sym->name);
			}
			grown = realloc(m->slots, (m->def.nslots + 1) * sizeof(*grown));
			if (!grown)
				return oom(err);
			m->slots = grown;
			m->slots[m->def.nslots++] = slot;
			m->def.slots = m->slots;
		}
	}
	return 0;
}

static int init_btf_maps(struct sluice_object *obj, struct sluice_error *err)
{
	int sec_id = btf_find_by_name_kind(obj->btf, ".maps", BTF_KIND_DATASEC);
	const struct btf_type *sec;
	struct btf_map_var *vars;
	unsigned vlen;
	int ret = 0;

	if (sec_id < 0)
		return sluice_fail(err, ENOENT, "%s: no BTF DATASEC '.maps' for section '.maps'", obj->path);
	sec = btf_type_by_id(obj->btf, (uint32_t)sec_id);
	vlen = btf_vlen(sec);
	vars = calloc(vlen ? vlen : 1, sizeof(*vars));
	if (!vars)
		return oom(err);
	for (unsigned i = 0; i < vlen; i++) {
		const struct btf_var_secinfo *vi = &btf_secinfos(sec)[i];
		const struct btf_type *var = btf_type_by_id(obj->btf, vi->type);
		const struct elf_symbol *sym;

		vars[i] = (struct btf_map_var){ .index = i, .offset = vi->offset };
		if (sec->size || !var || btf_kind(var) != BTF_KIND_VAR ||
		    btf_var_info(var)->linkage == BTF_VAR_STATIC ||
		    btf_var_info(var)->linkage == BTF_VAR_GLOBAL_EXTERN)
			continue;
		/* libbpf's btf_fixup_datasec: the ELF symbol has the real offset */
		sym = var_symbol(obj, btf_str(obj->btf, var->name_off));
		if (!sym) {
			ret = sluice_fail(err, ENOENT, "%s: map '%s' has no ELF symbol", obj->path,
					  btf_str(obj->btf, var->name_off));
			break;
		}
		vars[i].offset = sym->value;
	}
	if (!ret)
		qsort(vars, vlen, sizeof(*vars), cmp_map_var);
	for (unsigned i = 0; i < vlen && !ret; i++)
		ret = add_btf_map(obj, sec, &vars[i], err);
	free(vars);
	return ret;
}

/* libbpf's internal_map_name: "<object name prefix><section>", at most 15 characters. */
static char *internal_map_name(const struct sluice_object *obj, const char *section_name)
{
	size_t sfx = strlen(section_name), pfx;
	char name[BPF_OBJ_NAME_LEN];

	if (sfx < 7)
		sfx = 7; /* room is kept for ".rodata" even for ".bss" */
	if (sfx >= BPF_OBJ_NAME_LEN)
		sfx = BPF_OBJ_NAME_LEN - 1;
	if (strchr(section_name + 1, '.')) /* a custom ".data.foo": no object prefix */
		pfx = 0;
	else
		pfx = BPF_OBJ_NAME_LEN - sfx - 1 < strlen(obj->name) ? BPF_OBJ_NAME_LEN - sfx - 1
								      : strlen(obj->name);
	snprintf(name, sizeof(name), "%.*s%.*s", (int)pfx, obj->name, (int)sfx, section_name);
	for (char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.')
			*p = '_';
	return strdup(name);
}

/* libbpf's map_is_mmapable: a data map is mmap-able when a variable in it is visible outside. */
static bool data_is_mmapable(const struct sluice_object *obj, const char *section_name)
{
	int id = obj->btf ? btf_find_by_name_kind(obj->btf, section_name, BTF_KIND_DATASEC) : -1;
	const struct btf_type *sec;

	if (id < 0)
		return false;
	sec = btf_type_by_id(obj->btf, (uint32_t)id);
	for (unsigned i = 0; i < btf_vlen(sec); i++) {
		const struct btf_type *var = btf_type_by_id(obj->btf, btf_secinfos(sec)[i].type);
		const struct elf_symbol *sym;

		if (!var || btf_kind(var) != BTF_KIND_VAR ||
		    btf_var_info(var)->linkage == BTF_VAR_STATIC)
			continue;
		/* hidden globals count as static, as libbpf's fixup marks them */
		sym = var_symbol(obj, btf_str(obj->btf, var->name_off));
		if (!sym || (sym->visibility != STV_HIDDEN && sym->visibility != STV_INTERNAL))
			return true;
	}
	return false;
}

static int add_internal_map(struct sluice_object *obj, const char *section_name, size_t sec_idx,
			    enum sluice_map_origin origin, const void *data, size_t size,
			    struct sluice_error *err)
{
	struct map *m;
	int id;

	if (size > UINT32_MAX)
		return sluice_fail(err, E2BIG, "%s: section '%s' is too large for a map", obj->path,
				   section_name);
	m = add_map(obj, err);
	if (!m)
		return -ENOMEM;
	m->owned_name = internal_map_name(obj, section_name);
	if (!m->owned_name)
		return oom(err);
	m->sec_idx = sec_idx;
	m->def = (struct sluice_map_def){
		.name = m->owned_name, .section = section_name, .origin = origin,
		.type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = (uint32_t)size,
		.max_entries = 1, .inner_map = -1, .init_data = data, .init_size = size,
	};
	if (origin == SLUICE_MAP_RODATA || origin == SLUICE_MAP_KCONFIG)
		m->def.map_flags = BPF_F_RDONLY_PROG;
	id = obj->btf ? btf_find_by_name_kind(obj->btf, section_name, BTF_KIND_DATASEC) : -1;
	if (id > 0)
		m->def.btf_value_type_id = (uint32_t)id;
	if (data_is_mmapable(obj, section_name))
		m->def.map_flags |= BPF_F_MMAPABLE;
	return 0;
}

static int init_data_maps(struct sluice_object *obj, struct sluice_error *err)
{
	for (size_t i = 1; i < obj->elf.nsections; i++) {
		const struct elf_section *s = section(obj, i);
		int origin, ret;

		origin = data_origin(s);
		if (origin < 0 || !s->size)
			continue;
		ret = add_internal_map(obj, s->name, i, (enum sluice_map_origin)origin, s->data,
				       s->size, err);
		if (ret)
			return ret;
	}
	return 0;
}

/* After every map libbpf knows: the inner-map definitions of map-in-maps. */
static int finish_maps(struct sluice_object *obj, struct sluice_error *err)
{
	size_t n = obj->nmaps;

	for (size_t i = 0; i < n; i++) {
		struct map *m;

		if (!obj->maps[i].has_inner)
			continue;
		m = add_map(obj, err);
		if (!m)
			return -ENOMEM;
		obj->maps[i].def.inner_map = (int)(obj->nmaps - 1);
		m->def = obj->maps[i].inner;
		m->sec_idx = SIZE_MAX;
		if (asprintf(&m->owned_name, "%s.inner", obj->maps[i].def.name) < 0) {
			m->owned_name = NULL;
			return oom(err);
		}
		m->def.name = m->owned_name;
	}
	return 0;
}

/* ---- externs ---- */

static bool sym_is_extern(const struct elf_symbol *s)
{
	return s->shndx == SHN_UNDEF && (s->bind == STB_GLOBAL || s->bind == STB_WEAK) &&
	       s->type == STT_NOTYPE;
}

/* Alignment of a __kconfig variable's type (libbpf's btf__align_of, for the types kconfig allows). */
static int64_t kcfg_align(const struct sluice_btf *btf, uint32_t id)
{
	const struct btf_type *t = skip_mods(btf, id, &id);

	if (!t)
		return -EINVAL;
	switch (btf_kind(t)) {
	case BTF_KIND_INT:
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
		return t->size < 8 ? t->size : 8;
	case BTF_KIND_ARRAY:
		return kcfg_align(btf, btf_array_info(t)->type);
	default:
		return -EINVAL;
	}
}

static int cmp_exts(const void *a, const void *b)
{
	const struct ext *x = a, *y = b;

	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	if (x->type == EXT_KCFG) {
		if (x->align != y->align)
			return x->align > y->align ? -1 : 1;
		if (x->size != y->size)
			return x->size < y->size ? -1 : 1;
	}
	return strcmp(x->name, y->name);
}

/* The BTF VAR or FUNC of an extern, and the DATASEC holding it (libbpf's find_extern_*). */
static int extern_btf(const struct sluice_object *obj, const char *name, uint32_t *id,
		      const char **sec_name, struct sluice_error *err)
{
	uint32_t last = btf_last_id(obj->btf);

	*id = 0;
	for (uint32_t i = 1; i <= last && !*id; i++) {
		const struct btf_type *t = btf_type_by_id(obj->btf, i);
		unsigned kind = btf_kind(t);

		if ((kind != BTF_KIND_VAR && kind != BTF_KIND_FUNC) ||
		    strcmp(btf_str(obj->btf, t->name_off), name))
			continue;
		if ((kind == BTF_KIND_VAR && btf_var_info(t)->linkage != BTF_VAR_GLOBAL_EXTERN) ||
		    (kind == BTF_KIND_FUNC && btf_vlen(t) != BTF_FUNC_EXTERN))
			return sluice_fail(err, EINVAL, "%s: extern '%s' is not extern in BTF",
					   obj->path, name);
		*id = i;
	}
	if (!*id)
		return sluice_fail(err, ESRCH, "%s: extern '%s' has no BTF", obj->path, name);
	for (uint32_t i = 1; i <= last; i++) {
		const struct btf_type *t = btf_type_by_id(obj->btf, i);

		if (btf_kind(t) != BTF_KIND_DATASEC)
			continue;
		for (unsigned j = 0; j < btf_vlen(t); j++) {
			if (btf_secinfos(t)[j].type == *id) {
				*sec_name = btf_str(obj->btf, t->name_off);
				return 0;
			}
		}
	}
	return sluice_fail(err, ESRCH, "%s: extern '%s' is in no BTF section", obj->path, name);
}

static int add_extern(struct sluice_object *obj, size_t sym_idx, struct sluice_error *err)
{
	const struct elf_symbol *sym = &obj->elf.symbols[sym_idx];
	const char *sec_name = NULL;
	const struct btf_type *t;
	struct ext *e, *grown;
	uint32_t id;
	int ret;

	if (!obj->btf)
		return sluice_fail(err, ESRCH, "%s: extern '%s' needs BTF, and the object has none",
				   obj->path, sym->name);
	ret = extern_btf(obj, sym->name, &id, &sec_name, err);
	if (ret)
		return ret;
	grown = realloc(obj->exts, (obj->nexts + 1) * sizeof(*grown));
	if (!grown)
		return oom(err);
	obj->exts = grown;
	e = &obj->exts[obj->nexts++];
	t = btf_type_by_id(obj->btf, id);
	*e = (struct ext){ .sym = sym_idx, .name = btf_str(obj->btf, t->name_off),
			   .weak = sym->bind == STB_WEAK, .func = btf_kind(t) == BTF_KIND_FUNC };
	if (!strcmp(sec_name, ".kconfig")) {
		e->type = EXT_KCFG;
		if (e->func)
			return sluice_fail(err, ENOTSUP, "%s: extern function '%s' in .kconfig",
					   obj->path, e->name);
		e->size = btf_resolve_size(obj->btf, t->type);
		e->align = kcfg_align(obj->btf, t->type);
		if (e->size <= 0 || e->size > UINT32_MAX || e->align <= 0)
			return sluice_fail(err, ENOTSUP, "%s: extern (kconfig) '%s': unsupported type",
					   obj->path, e->name);
	} else if (!strcmp(sec_name, ".ksyms")) {
		e->type = EXT_KSYM;
		e->type_id = e->func ? id : btf_skip_modifiers(NULL, obj->btf, t->type);
	} else {
		return sluice_fail(err, ENOTSUP, "%s: extern '%s' in unknown section '%s'",
				   obj->path, e->name, sec_name);
	}
	return 0;
}

/* libbpf's get_kernel_version: KERNEL_VERSION(major, minor, min(patch, 255)) of this kernel. */
static uint32_t running_kernel_version(void)
{
	struct utsname u;
	unsigned major = 0, minor = 0, patch = 0;

	if (uname(&u) || sscanf(u.release, "%u.%u.%u", &major, &minor, &patch) < 2)
		return 0;
	return (major << 16) + (minor << 8) + (patch > 255 ? 255 : patch);
}

static int collect_externs(struct sluice_object *obj, struct sluice_error *err)
{
	uint64_t off = 0;
	int ret;

	for (size_t i = 0; i < obj->elf.nsymbols; i++) {
		const struct elf_symbol *sym = &obj->elf.symbols[i];

		if (!sym_is_extern(sym) || !sym->name[0])
			continue;
		ret = add_extern(obj, i, err);
		if (ret)
			return ret;
	}
	if (!obj->nexts)
		return 0;
	qsort(obj->exts, obj->nexts, sizeof(*obj->exts), cmp_exts);
	for (size_t i = 0; i < obj->nexts; i++) {
		struct ext *e = &obj->exts[i];

		if (e->type != EXT_KCFG)
			continue;
		off = (off + (uint64_t)e->align - 1) / (uint64_t)e->align * (uint64_t)e->align;
		if (off > UINT32_MAX)
			return sluice_fail(err, E2BIG, "%s: .kconfig externs too large", obj->path);
		e->data_off = (uint32_t)off;
		off += (uint64_t)e->size;
	}
	if (off == 0)
		return 0;
	if (off > UINT32_MAX)
		return sluice_fail(err, E2BIG, "%s: .kconfig externs too large", obj->path);
	obj->kconfig_data = calloc(1, off);
	if (!obj->kconfig_data)
		return oom(err);
	for (size_t i = 0; i < obj->nexts; i++) {
		struct ext *e = &obj->exts[i];

		if (e->type != EXT_KCFG)
			continue;
		if (!strcmp(e->name, "LINUX_KERNEL_VERSION") && e->size == 4) {
			uint32_t v = running_kernel_version();

			memcpy(obj->kconfig_data + e->data_off, &v, sizeof(v));
		} else if (warn(obj, "extern (kconfig) '%s' is left zero: Sluice does not read the kernel configuration",
				e->name)) {
			return oom(err);
		}
	}
	ret = add_internal_map(obj, ".kconfig", obj->elf.symtab_index, SLUICE_MAP_KCONFIG,
			       obj->kconfig_data, off, err);
	if (ret)
		return ret;
	obj->kconfig_map = (int)obj->nmaps - 1;
	/* relocations find .kconfig through the extern, never through a section */
	obj->maps[obj->kconfig_map].sec_idx = SIZE_MAX;
	return 0;
}

/* Typed ksyms and kfuncs, by name in the target BTF (libbpf also checks their types). */
static int resolve_ksyms(struct sluice_object *obj, struct sluice_error *err)
{
	bool typed = false;
	int ret;

	for (size_t i = 0; i < obj->nexts; i++)
		typed |= obj->exts[i].type == EXT_KSYM && obj->exts[i].type_id;
	if (typed && !obj->opts.no_core) {
		ret = load_target(obj, err);
		if (ret)
			return ret;
	}
	for (size_t i = 0; i < obj->nexts; i++) {
		struct ext *e = &obj->exts[i];
		int id = -ENOENT;

		if (e->type != EXT_KSYM)
			continue;
		if (e->type_id && obj->target)
			id = btf_find_by_name_kind(obj->target, e->name,
						   e->func ? BTF_KIND_FUNC : BTF_KIND_VAR);
		if (id > 0) {
			e->resolved = true;
			e->target_id = (uint32_t)id;
			continue;
		}
		if (e->type_id && obj->target && !e->weak)
			return sluice_fail(err, ESRCH, "%s: extern (ksym) '%s' is not in the target BTF",
					   obj->path, e->name);
		if (warn(obj, "extern (ksym) '%s' left unresolved (%s)", e->name,
			 !e->type_id ? "typeless ksyms need /proc/kallsyms" :
			 obj->target ? "weak, not in the target BTF" : "no target BTF"))
			return oom(err);
	}
	return 0;
}

/* ---- relocations ---- */

static int find_map(const struct sluice_object *obj, size_t sec_idx, uint64_t offset, bool data)
{
	for (size_t i = 0; i < obj->nmaps; i++) {
		const struct map *m = &obj->maps[i];
		bool is_data = m->def.origin == SLUICE_MAP_DATA || m->def.origin == SLUICE_MAP_RODATA ||
			       m->def.origin == SLUICE_MAP_BSS;

		if (m->sec_idx == sec_idx && is_data == data && (data || m->sec_offset == offset))
			return (int)i;
	}
	return -1;
}

static bool is_lddw(const struct sluice_insn *insn)
{
	int op = insn_lookup(insn);

	return op >= 0 && insn_table[op].shape == SHAPE_LDDW;
}

static bool is_call(const struct sluice_insn *insn)
{
	int op = insn_lookup(insn);

	return op == OP_CALL || op == OP_CALL_LOCAL || op == OP_CALL_KFUNC;
}

__attribute__((format(printf, 6, 7)))
static int reloc_fail(const struct sluice_object *obj, const struct sluice_prog *p, size_t insn,
		      const char *sym, struct sluice_error *err, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return sluice_fail(err, EINVAL, "%s: program '%s': instruction %zu, relocation against '%s': %s",
			   obj->path, p->name, insn, sym, why);
}

/* libbpf's bpf_program__record_reloc: what a relocation at insn of p means. */
static int record_reloc(struct sluice_object *obj, struct sluice_prog *p, size_t insn,
			size_t sym_idx, struct reloc *r, struct sluice_error *err)
{
	const struct elf_symbol *sym = &obj->elf.symbols[sym_idx];
	const struct sluice_insn *in = &p->code[insn];
	const char *what;
	int map;

#define FAIL(...) reloc_fail(obj, p, insn, sym->name, err, __VA_ARGS__)
	if (!is_call(in) && !is_lddw(in))
		return FAIL("the instruction (opcode 0x%02x) is neither a call nor lddw", in->code);
	if (is_lddw(in) && insn + 1 >= p->sec_insn_cnt)
		return FAIL("lddw without its second half");
	r->insn = insn;
	if (sym_is_extern(sym)) {
		for (size_t i = 0; i < obj->nexts; i++) {
			if (obj->exts[i].sym == sym_idx) {
				r->type = is_call(in) ? RELO_EXTERN_CALL : RELO_EXTERN_LD64;
				r->ext = i;
				return 0;
			}
		}
		return FAIL("an extern with no BTF");
	}
	if (is_call(in)) {
		if (insn_lookup(in) != OP_CALL_LOCAL)
			return FAIL("not a bpf-to-bpf call");
		if (!sym->shndx || sym->shndx != obj->text_shndx || sym->value % SLUICE_INSN_SIZE)
			return FAIL("calls must go to whole instructions of .text");
		r->type = RELO_CALL;
		r->sym_off = sym->value;
		return 0;
	}
	if (!sym->shndx || sym->shndx >= obj->elf.nsections)
		return FAIL("symbol in special section 0x%x (an uninitialised global?)", sym->shndx);
	if (sym->shndx == obj->text_shndx &&
	    ((sym->bind == STB_LOCAL && sym->type == STT_SECTION) ||
	     (sym->bind == STB_GLOBAL && sym->type == STT_FUNC))) {
		if (sym->value % SLUICE_INSN_SIZE || in->imm % SLUICE_INSN_SIZE)
			return FAIL("function address not on an instruction");
		r->type = RELO_SUBPROG_ADDR;
		r->sym_off = sym->value;
		return 0;
	}
	what = section(obj, sym->shndx)->name;
	if (sym->shndx == obj->maps_shndx || sym->shndx == obj->legacy_maps_shndx) {
		map = find_map(obj, sym->shndx, sym->value, false);
		if (map < 0)
			return FAIL("no map at offset 0x%" PRIx64 " of '%s'", sym->value,
				    what);
		r->type = RELO_LD64;
		r->map = (size_t)map;
		return 0;
	}
	map = data_origin(section(obj, sym->shndx)) >= 0 ? find_map(obj, sym->shndx, 0, true) : -1;
	if (map < 0)
		return FAIL("section '%s' holds neither maps nor global data", what);
	r->type = RELO_DATA;
	r->map = (size_t)map;
	r->sym_off = sym->value;
	return 0;
#undef FAIL
}

static int cmp_relocs(const void *a, const void *b)
{
	const struct reloc *x = a, *y = b;

	if (x->insn != y->insn)
		return x->insn < y->insn ? -1 : 1;
	return x->type < y->type ? -1 : x->type > y->type;
}

static int collect_relocs(struct sluice_object *obj, struct sluice_error *err)
{
	for (size_t i = 0; i < obj->elf.nrelocs; i++) {
		const struct elf_relocs *rs = &obj->elf.relocs[i];

		if (!(section(obj, rs->target)->flags & SHF_EXECINSTR))
			continue;
		for (size_t j = 0; j < rs->count; j++) {
			size_t insn = rs->relocs[j].offset / SLUICE_INSN_SIZE;
			struct sluice_prog *p = prog_at(obj, rs->target, (int64_t)insn);
			struct reloc *grown;
			int ret;

			if (!p) /* code outside any function: libbpf skips it too */
				continue;
			grown = realloc(p->relocs, (p->nrelocs + 1) * sizeof(*grown));
			if (!grown)
				return oom(err);
			p->relocs = grown;
			ret = record_reloc(obj, p, insn - p->sec_insn_off, rs->relocs[j].sym,
					   &p->relocs[p->nrelocs], err);
			if (ret)
				return ret;
			p->nrelocs++;
		}
	}
	for (size_t i = 0; i < obj->nprogs; i++)
		if (obj->progs[i].nrelocs)
			qsort(obj->progs[i].relocs, obj->progs[i].nrelocs, sizeof(struct reloc),
			      cmp_relocs);
	return 0;
}

/* ---- CO-RE ---- */

static size_t core_relo_count(const struct sluice_object *obj)
{
	size_t n = 0;

	for (size_t i = 0; obj->ext && i < btf_ext_section_count(obj->ext); i++)
		n += btf_ext_section(obj->ext, i)->ncores;
	return n;
}

/* libbpf's bpf_object__relocate_core: each relocation patches the function it falls in. */
static int relocate_core(struct sluice_object *obj, struct sluice_error *err)
{
	int ret;

	if (!core_relo_count(obj) || obj->opts.no_core)
		return 0;
	ret = load_target(obj, err);
	if (ret)
		return ret;
	for (size_t i = 0; i < btf_ext_section_count(obj->ext); i++) {
		const struct btf_ext_section *s = btf_ext_section(obj->ext, i);
		size_t sec_idx = elf_find_section(&obj->elf, s->name);

		for (size_t j = 0; sec_idx && j < s->ncores; j++) {
			struct btf_ext_core relo = s->cores[j];
			struct sluice_prog *p = prog_at(obj, sec_idx, relo.insn);

			if (!p)
				continue;
			relo.insn -= (uint32_t)p->sec_insn_off;
			ret = core_relocate(obj->btf, obj->core, &relo, p->code, p->sec_insn_cnt, err);
			if (ret) {
				char prefix[SLUICE_ERRMSG_MAX];

				snprintf(prefix, sizeof(prefix), "%s: program '%s'", obj->path, p->name);
				return sluice_fail_prefix(err, ret, prefix);
			}
		}
	}
	return 0;
}

/* ---- linking ---- */

/* Where, in the records of a section, the ones of p's instructions start and how many. */
static size_t ext_range(const struct sluice_prog *p, const void *recs, size_t n, size_t stride,
			size_t *first)
{
	size_t count = 0;

	for (size_t i = 0; i < n; i++) {
		uint32_t insn;

		memcpy(&insn, (const uint8_t *)recs + i * stride, sizeof(insn));
		if (insn < p->sec_insn_off)
			continue;
		if (insn >= p->sec_insn_off + p->sec_insn_cnt)
			break;
		if (!count)
			*first = i;
		count = i - *first + 1;
	}
	return count;
}

struct linker {
	struct sluice_object *obj;
	struct sluice_prog *main;
	struct sluice_insn *insns;
	size_t count;
	struct reloc *relocs;
	size_t nrelocs;
	bool no_funcs, no_lines;  /* libbpf gave up on the main program's func/line info */
};

/*
 * libbpf's reloc_prog_func_and_line_info: append p's func_info and
 * line_info records at p's place in the main program.  A main program
 * without them makes libbpf drop that kind of record for the whole program;
 * a subprogram without them, when the main program has them, is an error.
 */
static int append_ext_info(struct linker *lk, const struct sluice_prog *p, struct sluice_error *err)
{
	const struct btf_ext_section *s;
	struct sluice_prog *m = lk->main;
	size_t first = 0, n;
	int64_t adj = (int64_t)p->sub_insn_off - (int64_t)p->sec_insn_off;

	if (!lk->obj->ext)
		return 0;
	s = btf_ext_find(lk->obj->ext, section(lk->obj, p->sec_idx)->name);
	if (!lk->no_funcs) {
		n = s ? ext_range(p, s->funcs, s->nfuncs, sizeof(*s->funcs), &first) : 0;
		if (!n && m->nfuncs)
			return sluice_fail(err, EINVAL, "%s: program '%s': subprogram '%s' has no func_info",
					   lk->obj->path, m->name, p->name);
		if (!n) {
			lk->no_funcs = true;
			if (warn(lk->obj, "program '%s': no func_info, none used", m->name))
				return oom(err);
		} else {
			struct sluice_func_info *grown = realloc(m->funcs, (m->nfuncs + n) * sizeof(*grown));

			if (!grown)
				return oom(err);
			m->funcs = grown;
			for (size_t i = 0; i < n; i++)
				m->funcs[m->nfuncs++] = (struct sluice_func_info){
					.insn = (uint32_t)(s->funcs[first + i].insn + adj),
					.type_id = s->funcs[first + i].type_id,
				};
		}
	}
	if (!lk->no_lines) {
		n = s ? ext_range(p, s->lines, s->nlines, sizeof(*s->lines), &first) : 0;
		if (!n && m->nlines)
			return sluice_fail(err, EINVAL, "%s: program '%s': subprogram '%s' has no line_info",
					   lk->obj->path, m->name, p->name);
		if (!n) {
			lk->no_lines = true;
			if (warn(lk->obj, "program '%s': no line_info, none used", m->name))
				return oom(err);
		} else {
			struct sluice_line_info *grown = realloc(m->lines, (m->nlines + n) * sizeof(*grown));

			if (!grown)
				return oom(err);
			m->lines = grown;
			for (size_t i = 0; i < n; i++) {
				const struct btf_ext_line *l = &s->lines[first + i];

				m->lines[m->nlines++] = (struct sluice_line_info){
					.insn = (uint32_t)(l->insn + adj), .file = l->file,
					.source = l->source, .line = l->line, .column = l->column,
				};
			}
		}
	}
	return 0;
}

/* libbpf's append_subprog_code and append_subprog_relos, then the subprogram's records. */
static int append_code(struct linker *lk, struct sluice_prog *p, struct sluice_error *err)
{
	struct sluice_insn *insns;
	struct reloc *relocs;

	if (lk->count + p->sec_insn_cnt > MAX_PROG_INSNS)
		return sluice_fail(err, E2BIG,
				   "%s: program '%s': more than %d instructions once its subprograms are appended",
				   lk->obj->path, lk->main->name, MAX_PROG_INSNS);
	insns = realloc(lk->insns, (lk->count + p->sec_insn_cnt) * sizeof(*insns));
	if (!insns)
		return oom(err);
	lk->insns = insns;
	relocs = realloc(lk->relocs, (lk->nrelocs + p->nrelocs + 1) * sizeof(*relocs));
	if (!relocs)
		return oom(err);
	lk->relocs = relocs;
	p->sub_insn_off = lk->count;
	memcpy(lk->insns + lk->count, p->code, p->sec_insn_cnt * sizeof(*insns));
	lk->count += p->sec_insn_cnt;
	for (size_t i = 0; i < p->nrelocs; i++) {
		lk->relocs[lk->nrelocs] = p->relocs[i];
		lk->relocs[lk->nrelocs++].insn += p->sub_insn_off;
	}
	return append_ext_info(lk, p, err);
}

static const struct reloc *reloc_at(const struct sluice_prog *p, size_t insn)
{
	size_t l = 0, r = p->nrelocs;

	while (l < r) {
		size_t m = l + (r - l) / 2;

		if (p->relocs[m].insn == insn)
			return &p->relocs[m];
		if (p->relocs[m].insn < insn)
			l = m + 1;
		else
			r = m;
	}
	return NULL;
}

/* The .text function a call or function address at insn of p refers to. */
static int call_target(struct linker *lk, struct sluice_prog *p, size_t insn,
		       struct sluice_prog **target, struct sluice_error *err)
{
	const struct sluice_insn *in = &lk->insns[p->sub_insn_off + insn];
	const struct reloc *r = reloc_at(p, insn);
	int64_t sub;

	*target = NULL;
	if (r && r->type == RELO_EXTERN_CALL) /* a kfunc: relocated with the data */
		return 0;
	if (r && r->type != RELO_CALL && r->type != RELO_SUBPROG_ADDR)
		return sluice_fail(err, EINVAL, "%s: program '%s': instruction %zu: unexpected relocation",
				   lk->obj->path, p->name, insn);
	if (r && r->type == RELO_CALL)
		sub = (int64_t)(r->sym_off / SLUICE_INSN_SIZE) + in->imm + 1;
	else if (r)
		sub = ((int64_t)r->sym_off + in->imm) / SLUICE_INSN_SIZE;
	else if (insn_lookup(in) != OP_CALL_LOCAL)
		return sluice_fail(err, EINVAL, "%s: program '%s': instruction %zu: function address without a relocation",
				   lk->obj->path, p->name, insn);
	else /* a call inside the section needs no relocation */
		sub = (int64_t)(p->sec_insn_off + insn) + in->imm + 1;
	*target = lk->obj->text_shndx ? prog_at(lk->obj, lk->obj->text_shndx, sub) : NULL;
	if (!*target)
		return sluice_fail(err, EINVAL, "%s: program '%s': instruction %zu calls outside the functions of .text",
				   lk->obj->path, p->name, insn);
	return 0;
}

static bool is_subprog_ref(const struct sluice_insn *in)
{
	int op = insn_lookup(in);

	return (op == OP_CALL_LOCAL && in->dst == 0 && in->off == 0) || op == OP_LDDW_FUNC;
}

/* A function still being walked, and the next of its instructions to look at. */
struct walk {
	struct sluice_prog *prog;
	size_t next;
};

/* libbpf's bpf_object__relocate_calls, without recursion: the stack is explicit. */
static int link_calls(struct linker *lk, struct sluice_error *err)
{
	struct sluice_object *obj = lk->obj;
	struct walk *stack = malloc((obj->nprogs + 1) * sizeof(*stack));
	size_t depth = 0;
	int ret;

	if (!stack)
		return oom(err);
	for (size_t i = 0; i < obj->nprogs; i++)
		if (obj->progs[i].subprog)
			obj->progs[i].sub_insn_off = 0;
	lk->main->sub_insn_off = 0;
	ret = append_code(lk, lk->main, err);
	if (!ret)
		stack[depth++] = (struct walk){ lk->main, 0 };
	while (!ret && depth) {
		struct walk *w = &stack[depth - 1];
		struct sluice_prog *p = w->prog, *sub;
		size_t insn = w->next++;

		if (insn >= p->sec_insn_cnt) {
			depth--;
			continue;
		}
		if (!is_subprog_ref(&lk->insns[p->sub_insn_off + insn]))
			continue;
		ret = call_target(lk, p, insn, &sub, err);
		if (ret || !sub)
			continue;
		if (sub->sub_insn_off == 0) {
			if (depth > obj->nprogs)
				ret = sluice_fail(err, ELOOP, "%s: program '%s': call chain too deep",
						  obj->path, lk->main->name);
			else
				ret = append_code(lk, sub, err);
			if (!ret)
				stack[depth++] = (struct walk){ sub, 0 };
		}
		/* the offset is final once the target is placed, before its own calls are walked */
		lk->insns[p->sub_insn_off + insn].imm =
			(int32_t)((int64_t)sub->sub_insn_off - (int64_t)(p->sub_insn_off + insn) - 1);
	}
	free(stack);
	return ret;
}

/* libbpf's bpf_object__relocate_data, with map indices where libbpf puts fds. */
static void relocate_data(struct linker *lk)
{
	const struct sluice_object *obj = lk->obj;

	for (size_t i = 0; i < lk->nrelocs; i++) {
		const struct reloc *r = &lk->relocs[i];
		struct sluice_insn *in = &lk->insns[r->insn];
		const struct ext *e = r->type >= RELO_EXTERN_LD64 && r->type <= RELO_EXTERN_CALL ?
					      &obj->exts[r->ext] : NULL;

		switch (r->type) {
		case RELO_LD64:
			in[0].src = BPF_PSEUDO_MAP_FD;
			in[0].imm = (int32_t)r->map;
			break;
		case RELO_DATA:
			in[1].imm = (int32_t)((uint32_t)in[0].imm + (uint32_t)r->sym_off);
			in[0].src = BPF_PSEUDO_MAP_VALUE;
			in[0].imm = (int32_t)r->map;
			break;
		case RELO_EXTERN_LD64:
			if (e->type == EXT_KCFG) {
				in[0].src = BPF_PSEUDO_MAP_VALUE;
				in[0].imm = obj->kconfig_map;
				in[1].imm = (int32_t)e->data_off;
			} else if (e->type_id && e->resolved) {
				in[0].src = BPF_PSEUDO_BTF_ID;
				in[0].imm = (int32_t)e->target_id;
				in[1].imm = 0; /* vmlinux, not a module's BTF */
			} else { /* typeless or unresolved: address 0 */
				in[0].imm = 0;
				in[1].imm = 0;
			}
			break;
		case RELO_EXTERN_CALL:
			in[0].src = BPF_PSEUDO_KFUNC_CALL;
			in[0].imm = e->resolved ? (int32_t)e->target_id : 0;
			in[0].off = 0;
			break;
		case RELO_CALL:
		case RELO_SUBPROG_ADDR:
			break;
		}
	}
}

static int link_program(struct sluice_object *obj, struct sluice_prog *main, struct sluice_error *err)
{
	struct linker lk = { .obj = obj, .main = main };
	int ret;

	ret = link_calls(&lk, err);
	if (!ret)
		relocate_data(&lk);
	free(lk.relocs);
	if (ret) {
		free(lk.insns);
		return ret;
	}
	main->insns = lk.insns;
	main->count = lk.count;
	if (lk.no_funcs) {
		free(main->funcs);
		main->funcs = NULL;
		main->nfuncs = 0;
	}
	if (lk.no_lines) {
		free(main->lines);
		main->lines = NULL;
		main->nlines = 0;
	}
	return 0;
}

/* ---- opening ---- */

static int read_license_version(struct sluice_object *obj, size_t i, struct sluice_error *err)
{
	const struct elf_section *s = section(obj, i);

	if (!strcmp(s->name, "license")) {
		size_t n = s->size < LICENSE_MAX - 1 ? s->size : LICENSE_MAX - 1;

		if (!s->data)
			return sluice_fail(err, EINVAL, "%s: section 'license' (index %zu) is empty",
					   obj->path, i);
		memcpy(obj->license, s->data, n);
		obj->license[n] = '\0';
	} else if (!strcmp(s->name, "version")) {
		if (!s->data || s->size != sizeof(obj->kversion))
			return sluice_fail(err, EINVAL, "%s: section 'version' (index %zu) is not 4 bytes",
					   obj->path, i);
		memcpy(&obj->kversion, s->data, sizeof(obj->kversion));
	}
	return 0;
}

/* libbpf's bpf_object__elf_collect: what each section is. */
static int collect_sections(struct sluice_object *obj, struct sluice_error *err)
{
	obj->text_shndx = elf_find_section(&obj->elf, TEXT_SECTION);
	for (size_t i = 1; i < obj->elf.nsections; i++) {
		const struct elf_section *s = section(obj, i);
		int ret = 0;

		if (ignored_section(s))
			continue;
		if (!strcmp(s->name, "license") || !strcmp(s->name, "version"))
			ret = read_license_version(obj, i, err);
		else if (!strcmp(s->name, "maps"))
			obj->legacy_maps_shndx = i;
		else if (!strcmp(s->name, ".maps"))
			obj->maps_shndx = i;
		else if (!strcmp(s->name, ".BTF") || !strcmp(s->name, ".BTF.ext") ||
			 s->type == SHT_SYMTAB || s->type == SHT_REL || data_origin(s) >= 0)
			continue; /* read by their own steps */
		else if (s->type == SHT_PROGBITS && s->size && (s->flags & SHF_EXECINSTR))
			ret = add_programs(obj, i, err);
		else if (s->type == SHT_PROGBITS && s->size && !strcmp(s->name, ".struct_ops"))
			ret = warn(obj, "section '.struct_ops' (index %zu): struct_ops maps are not supported, skipped",
				   i) ? oom(err) : 0;
		else if (s->size)
			ret = warn(obj, "section '%s' (index %zu): not one libbpf reads, skipped",
				   s->name, i) ? oom(err) : 0;
		if (ret)
			return ret;
	}
	/* libbpf knows .text only when it holds code */
	if (obj->text_shndx && (!(section(obj, obj->text_shndx)->flags & SHF_EXECINSTR) ||
				!section(obj, obj->text_shndx)->size))
		obj->text_shndx = 0;
	return 0;
}

/* The object's name as libbpf derives it from a path: the file name up to its first dot. */
static void set_name(struct sluice_object *obj, const char *path)
{
	const char *base = strrchr(path, '/');
	size_t n;

	base = base ? base + 1 : path;
	n = strcspn(base, ".");
	if (n >= sizeof(obj->name))
		n = sizeof(obj->name) - 1;
	memcpy(obj->name, base, n);
	obj->name[n] = '\0';
}

static int open_object(struct sluice_object *obj, const void *data, size_t size,
		       struct sluice_error *err)
{
	int ret;

	ret = elf_file_open(&obj->elf, data, size, obj->path, err);
	if (!ret)
		ret = collect_sections(obj, err);
	if (!ret)
		ret = classify_programs(obj, err);
	if (!ret) {
		bool needs_btf = obj->maps_shndx != 0;

		for (size_t i = 0; i < obj->elf.nsymbols; i++)
			needs_btf |= sym_is_extern(&obj->elf.symbols[i]) && obj->elf.symbols[i].name[0];
		ret = init_btf(obj, needs_btf, err);
	}
	if (!ret && obj->legacy_maps_shndx)
		ret = init_legacy_maps(obj, err);
	if (!ret && obj->maps_shndx)
		ret = init_btf_maps(obj, err);
	if (!ret)
		ret = init_data_maps(obj, err);
	if (!ret)
		ret = collect_externs(obj, err);
	if (!ret)
		ret = finish_maps(obj, err);
	if (!ret)
		ret = collect_relocs(obj, err);
	if (!ret)
		ret = collect_map_slots(obj, err);
	if (!ret)
		ret = resolve_ksyms(obj, err);
	if (!ret)
		ret = relocate_core(obj, err);
	/* libbpf marks function-address loads before linking, so that linking follows them */
	for (size_t i = 0; !ret && i < obj->nprogs; i++)
		for (size_t j = 0; j < obj->progs[i].nrelocs; j++)
			if (obj->progs[i].relocs[j].type == RELO_SUBPROG_ADDR)
				obj->progs[i].code[obj->progs[i].relocs[j].insn].src = BPF_PSEUDO_FUNC;
	for (size_t i = 0; !ret && i < obj->nmains; i++)
		ret = link_program(obj, obj->mains[i], err);
	return ret;
}

struct sluice_object *sluice_object_open_mem(const void *data, size_t size, const char *name,
					     const struct sluice_object_opts *opts,
					     struct sluice_error *err)
{
	struct sluice_object *obj;
	int ret;

	if (!name)
		name = "object";
	obj = calloc(1, sizeof(*obj));
	if (!obj || !(obj->path = strdup(name))) {
		free(obj);
		oom(err);
		return NULL;
	}
	/* options from a caller built against an older, smaller struct read as zero past its end */
	if (opts)
		memcpy(&obj->opts, opts, opts->sz < sizeof(*opts) ? opts->sz : sizeof(*opts));
	obj->kconfig_map = -1;
	set_name(obj, name);
	ret = open_object(obj, data, size, err);
	core_target_free(obj->core);
	btf_free(obj->target);
	obj->core = NULL;
	obj->target = NULL;
	if (ret) {
		sluice_object_close(obj);
		errno = -ret;
		return NULL;
	}
	return obj;
}

struct sluice_object *sluice_object_open(const char *path, const struct sluice_object_opts *opts,
					 struct sluice_error *err)
{
	struct sluice_object *obj = NULL;
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	struct stat st;

	if (!f || fstat(fileno(f), &st))
		sluice_fail(err, errno, "%s: %s", path, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		sluice_fail(err, EINVAL, "%s: not a regular file", path);
	else if (!(data = malloc(st.st_size ? (size_t)st.st_size : 1)))
		oom(err);
	else if (fread(data, 1, (size_t)st.st_size, f) != (size_t)st.st_size)
		sluice_fail(err, EIO, "%s: read error", path);
	else
		obj = sluice_object_open_mem(data, (size_t)st.st_size, path, opts, err);
	free(data);
	if (f)
		fclose(f);
	return obj;
}

void sluice_object_close(struct sluice_object *obj)
{
	if (!obj)
		return;
	for (size_t i = 0; i < obj->nprogs; i++) {
		struct sluice_prog *p = &obj->progs[i];

		free(p->code);
		free(p->relocs);
		free(p->insns);
		free(p->funcs);
		free(p->lines);
	}
	free(obj->progs);
	free(obj->mains);
	for (size_t i = 0; i < obj->nmaps; i++) {
		free(obj->maps[i].owned_name);
		free(obj->maps[i].slots);
	}
	free(obj->maps);
	free(obj->exts);
	free(obj->kconfig_data);
	for (size_t i = 0; i < obj->nwarnings; i++)
		free(obj->warnings[i]);
	free(obj->warnings);
	btf_ext_free(obj->ext);
	btf_free(obj->btf);
	elf_file_close(&obj->elf);
	free(obj->path);
	free(obj);
}

/* ---- accessors ---- */

const char *sluice_object_name(const struct sluice_object *obj)
{
	return obj->name;
}

const char *sluice_object_license(const struct sluice_object *obj)
{
	return obj->license;
}

bool sluice_object_gpl_compatible(const struct sluice_object *obj)
{
	/* license_is_gpl_compatible() in the kernel's module code */
	static const char *const gpl[] = {
		"GPL", "GPL v2", "GPL and additional rights", "Dual BSD/GPL",
		"Dual MIT/GPL", "Dual MPL/GPL",
	};

	for (size_t i = 0; i < sizeof(gpl) / sizeof(gpl[0]); i++)
		if (!strcmp(obj->license, gpl[i]))
			return true;
	return false;
}

uint32_t sluice_object_kversion(const struct sluice_object *obj)
{
	return obj->kversion;
}

size_t sluice_object_warning_count(const struct sluice_object *obj)
{
	return obj->nwarnings;
}

const char *sluice_object_warning(const struct sluice_object *obj, size_t i)
{
	return i < obj->nwarnings ? obj->warnings[i] : NULL;
}

size_t sluice_object_map_count(const struct sluice_object *obj)
{
	return obj->nmaps;
}

const struct sluice_map_def *sluice_object_map(const struct sluice_object *obj, size_t i)
{
	return i < obj->nmaps ? &obj->maps[i].def : NULL;
}

int sluice_object_find_map(const struct sluice_object *obj, const char *name)
{
	for (size_t i = 0; i < obj->nmaps; i++)
		if (!strcmp(obj->maps[i].def.name, name))
			return (int)i;
	return -1;
}

size_t sluice_object_prog_count(const struct sluice_object *obj)
{
	return obj->nmains;
}

const struct sluice_prog *sluice_object_prog(const struct sluice_object *obj, size_t i)
{
	return i < obj->nmains ? obj->mains[i] : NULL;
}

const struct sluice_prog *sluice_object_find_prog(const struct sluice_object *obj,
						  const char *name)
{
	for (size_t i = 0; i < obj->nmains; i++)
		if (!strcmp(obj->mains[i]->name, name))
			return obj->mains[i];
	return NULL;
}

const char *sluice_prog_name(const struct sluice_prog *prog)
{
	return prog->name;
}

const char *sluice_prog_section(const struct sluice_prog *prog)
{
	return prog->section;
}

uint32_t sluice_prog_type(const struct sluice_prog *prog)
{
	return prog->type;
}

uint32_t sluice_prog_attach_type(const struct sluice_prog *prog)
{
	return prog->attach_type;
}

const char *sluice_prog_attach_target(const struct sluice_prog *prog)
{
	return prog->attach_target;
}

const struct sluice_insn *sluice_prog_insns(const struct sluice_prog *prog, size_t *count)
{
	*count = prog->count;
	return prog->insns;
}

const struct sluice_line_info *sluice_prog_line_info(const struct sluice_prog *prog,
						     size_t *count)
{
	*count = prog->nlines;
	return prog->lines;
}

const struct sluice_func_info *sluice_prog_func_info(const struct sluice_prog *prog,
						     size_t *count)
{
	*count = prog->nfuncs;
	return prog->funcs;
}

const void *sluice_object_btf_data(const struct sluice_object *obj, size_t *size)
{
	if (!obj->btf) {
		*size = 0;
		return NULL;
	}
	return btf_raw_data(obj->btf, size);
}

void object_btf_summary(const struct sluice_object *obj, struct object_btf_summary *s)
{
	memset(s, 0, sizeof(*s));
	s->has_btf = obj->btf != NULL;
	s->types = obj->btf ? btf_last_id(obj->btf) : 0;
	s->has_ext = obj->ext != NULL;
	for (size_t i = 0; obj->ext && i < btf_ext_section_count(obj->ext); i++) {
		const struct btf_ext_section *sec = btf_ext_section(obj->ext, i);

		s->func_infos += sec->nfuncs;
		s->line_infos += sec->nlines;
		s->core_relos += sec->ncores;
	}
}

const char *object_btf_name(const struct sluice_object *obj, uint32_t type_id)
{
	return obj->btf ? btf_type_name(obj->btf, type_id) : "";
}
