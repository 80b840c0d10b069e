/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_LOADER_H
#define SLUICE_LOADER_H

/*
 * Internals of the object loader, shared by elf.c (reading and validating
 * the ELF file), section_names.c (libbpf's SEC() conventions), object.c
 * (maps, programs, linking: the public <sluice/object.h>) and `sluice obj`.
 *
 * (This header is not called elf.h: src/ is on the include path, and
 * <gelf.h> includes the system's <elf.h>, which a src/elf.h would shadow.)
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sluice/error.h>
#include <sluice/object.h>

/* ---- elf.c: an ELF64 little-endian EM_BPF relocatable object, validated ---- */

struct elf_section {
	const char *name;
	uint32_t type;        /* SHT_* */
	uint64_t flags;       /* SHF_* */
	uint32_t link, info;
	const uint8_t *data;  /* NULL for SHT_NOBITS and empty sections */
	size_t size;          /* sh_size, also for SHT_NOBITS */
};

struct elf_symbol {
	const char *name;     /* "" when unnamed */
	uint64_t value;
	uint64_t size;
	uint16_t shndx;       /* section index, or SHN_UNDEF / SHN_ABS / SHN_COMMON */
	uint8_t type;         /* STT_* */
	uint8_t bind;         /* STB_* */
	uint8_t visibility;   /* STV_* */
};

struct elf_reloc {
	uint64_t offset;      /* inside the target section, checked */
	uint32_t sym;         /* index into the symbol table, checked */
};

/* The SHT_REL sections, each for one target section. */
struct elf_relocs {
	size_t section;       /* index of the SHT_REL section itself */
	size_t target;        /* index of the section it patches */
	const struct elf_reloc *relocs;
	size_t count;
};

struct elf_file {
	const char *path;     /* for messages */
	struct elf_section *sections; /* indexed like the ELF; [0] is the null section */
	size_t nsections;
	struct elf_symbol *symbols;
	size_t nsymbols;
	size_t symtab_index;  /* section index of .symtab */
	struct elf_relocs *relocs;
	size_t nrelocs;
	/* private */
	void *elf;            /* Elf *, kept open: names and data point into it */
	uint8_t *image;       /* our copy of the file bytes */
};

/*
 * Read and check the whole file: header, section table (every section's
 * bytes inside the file, none overlapping), the one symbol table and its
 * strings, and every SHT_REL entry (symbol index in range, offset inside its
 * target section, 8-aligned in executable sections).  The bytes are copied.
 */
int elf_file_open(struct elf_file *f, const void *data, size_t size,
		  const char *path, struct sluice_error *err);
void elf_file_close(struct elf_file *f);

/* The section with that name, or 0 (the null section) when there is none. */
size_t elf_find_section(const struct elf_file *f, const char *name);

/* ---- section_names.c: libbpf's SEC() table and the bpftool type names ---- */

struct sec_def {
	const char *prefix;     /* "xdp", "kprobe+", "tracepoint+", "cgroup/connect4" */
	uint32_t prog_type;     /* enum bpf_prog_type */
	uint32_t attach_type;   /* enum bpf_attach_type */
};

/* libbpf's find_sec_def: the first entry that matches, or NULL. */
const struct sec_def *sec_def_find(const char *section);
/* What the section names to attach to: "syscalls/sys_enter_execve", or "". */
const char *sec_def_attach_target(const struct sec_def *def, const char *section);

/* "xdp", "kprobe", "sched_cls" (libbpf's names, as bpftool prints them); NULL if unknown. */
const char *bpf_prog_type_str(uint32_t type);
/* "hash", "array", "ringbuf", ...; NULL if unknown. */
const char *bpf_map_type_str(uint32_t type);

/* ---- object.c: what `sluice obj show` reports beyond the public API ---- */

struct object_btf_summary {
	bool has_btf;
	uint32_t types;       /* BTF type count (ids 1..types) */
	bool has_ext;         /* .BTF.ext parsed */
	size_t func_infos;    /* records in .BTF.ext, all sections */
	size_t line_infos;
	size_t core_relos;
};

void object_btf_summary(const struct sluice_object *obj, struct object_btf_summary *s);
/* The name of a type in the object's BTF (a func_info's function), "" if none. */
const char *object_btf_name(const struct sluice_object *obj, uint32_t type_id);

#endif
