/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_BTF_H
#define SLUICE_BTF_H

/*
 * BTF (the BPF Type Format) and BTF.ext, read and validated.  The records
 * are the kernel's UAPI structs from <linux/btf.h>; this module checks them
 * once when parsing so that every accessor below can trust them: ids in
 * range, names inside the string section, sizes resolvable, no reference
 * cycles that do not pass through a struct/union/func_proto pointer.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/btf.h>

#include <sluice/error.h>

struct sluice_btf;

/*
 * Parse raw BTF (a .BTF section or /sys/kernel/btf/vmlinux).  The data is
 * copied.  `base` is NULL, or the BTF that split BTF (a module's) extends.
 */
struct sluice_btf *btf_parse(const void *data, size_t size,
			     const struct sluice_btf *base,
			     struct sluice_error *err);
/* A raw BTF file, or the .BTF section of an ELF file. */
struct sluice_btf *btf_load_file(const char *path, struct sluice_error *err);
void btf_free(struct sluice_btf *btf);

/* The raw bytes, as parsed (for loading into the kernel). */
const void *btf_raw_data(const struct sluice_btf *btf, size_t *size);

/* Ids run from 1 to btf_last_id(); id 0 is void. */
uint32_t btf_last_id(const struct sluice_btf *btf);
/* NULL for id 0 or an id out of range. */
const struct btf_type *btf_type_by_id(const struct sluice_btf *btf, uint32_t id);
/* "" for offset 0; never NULL for a validated offset. */
const char *btf_str(const struct sluice_btf *btf, uint32_t offset);
const char *btf_type_name(const struct sluice_btf *btf, uint32_t id);

static inline unsigned btf_kind(const struct btf_type *t) { return BTF_INFO_KIND(t->info); }
static inline unsigned btf_vlen(const struct btf_type *t) { return BTF_INFO_VLEN(t->info); }
static inline bool btf_kflag(const struct btf_type *t) { return BTF_INFO_KFLAG(t->info); }
static inline const struct btf_member *btf_members(const struct btf_type *t) { return (const struct btf_member *)(t + 1); }
static inline const struct btf_enum *btf_enums(const struct btf_type *t) { return (const struct btf_enum *)(t + 1); }
static inline const struct btf_enum64 *btf_enums64(const struct btf_type *t) { return (const struct btf_enum64 *)(t + 1); }
static inline const struct btf_param *btf_params(const struct btf_type *t) { return (const struct btf_param *)(t + 1); }
static inline const struct btf_array *btf_array_info(const struct btf_type *t) { return (const struct btf_array *)(t + 1); }
static inline const struct btf_var_secinfo *btf_secinfos(const struct btf_type *t) { return (const struct btf_var_secinfo *)(t + 1); }
static inline const struct btf_var *btf_var_info(const struct btf_type *t) { return (const struct btf_var *)(t + 1); }
static inline uint32_t btf_int_encoding(const struct btf_type *t) { return BTF_INT_ENCODING(*(const uint32_t *)(t + 1)); }
static inline uint32_t btf_int_bits(const struct btf_type *t) { return BTF_INT_BITS(*(const uint32_t *)(t + 1)); }
static inline uint32_t btf_int_offset(const struct btf_type *t) { return BTF_INT_OFFSET(*(const uint32_t *)(t + 1)); }
/* Bit offset and bitfield size of member i (kflag decides the encoding). */
uint32_t btf_member_bit_offset(const struct btf_type *t, unsigned i);
uint32_t btf_member_bitfield_size(const struct btf_type *t, unsigned i);

/* "int", "struct", ... for messages and `obj show`. */
const char *btf_kind_str(unsigned kind);

/* Follow typedef/const/volatile/restrict/type_tag to the type they qualify. */
uint32_t btf_skip_modifiers(const struct btf_type *t, const struct sluice_btf *btf, uint32_t id);
/* Size in bytes of a type (arrays multiply, pointers are 8); <0 on error. */
int64_t btf_resolve_size(const struct sluice_btf *btf, uint32_t id);
/* First id with that name and kind, or -ENOENT. */
int btf_find_by_name_kind(const struct sluice_btf *btf, const char *name,
			  unsigned kind);

/* BTF.ext: per ELF section, instruction offsets already divided by 8. */
struct btf_ext_func {
	uint32_t insn;
	uint32_t type_id;
};
struct btf_ext_line {
	uint32_t insn;
	const char *file;   /* strings of the object's BTF */
	const char *source;
	uint32_t line;
	uint32_t column;
};
struct btf_ext_core {
	uint32_t insn;
	uint32_t type_id;         /* root type in the object's BTF */
	const char *access;       /* "0:1:2" */
	uint32_t kind;            /* enum bpf_core_relo_kind */
};
struct btf_ext_section {
	const char *name;         /* the ELF section the records are about */
	const struct btf_ext_func *funcs;
	size_t nfuncs;
	const struct btf_ext_line *lines;
	size_t nlines;
	const struct btf_ext_core *cores;
	size_t ncores;
};
struct btf_ext;

/* Parse .BTF.ext against the object's BTF (its strings and func types). */
struct btf_ext *btf_ext_parse(const void *data, size_t size,
			      const struct sluice_btf *btf,
			      struct sluice_error *err);
void btf_ext_free(struct btf_ext *ext);
size_t btf_ext_section_count(const struct btf_ext *ext);
const struct btf_ext_section *btf_ext_section(const struct btf_ext *ext, size_t i);
/* NULL when the section has no records. */
const struct btf_ext_section *btf_ext_find(const struct btf_ext *ext,
					   const char *section);

#endif
