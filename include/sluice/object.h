/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_OBJECT_H
#define SLUICE_OBJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sluice/error.h>
#include <sluice/insn.h>

/*
 * A clang-compiled BPF ELF object (`clang -target bpf -O2 -g`), opened the
 * way libbpf opens it: programs found by their SEC() names, maps from BTF
 * `.maps`, legacy `maps` and global data sections, bpf-to-bpf calls linked
 * (used `.text` subprograms appended to each program, in libbpf's order),
 * and CO-RE relocations resolved against a target BTF.
 *
 * Relocated instructions refer to maps by their index in the object, not by
 * file descriptor:
 *   lddw rX, map           src = BPF_PSEUDO_MAP_FD (1),    imm = map index
 *   lddw rX, map value+off src = BPF_PSEUDO_MAP_VALUE (2), imm = map index,
 *                          next slot's imm = offset
 * A runtime (Sluice's, or the kernel backend with real fds) patches them in.
 */
struct sluice_object;
struct sluice_prog;

struct sluice_object_opts {
	size_t sz; /* sizeof(struct sluice_object_opts) */
	/*
	 * BTF to resolve CO-RE relocations against: a raw BTF file or an ELF
	 * with a .BTF section.  NULL means /sys/kernel/btf/vmlinux.
	 */
	const char *target_btf;
	/* Leave CO-RE relocations unresolved (for `obj show` without a kernel). */
	bool no_core;
};

/* What each map definition says, from whichever section it came. */
enum sluice_map_origin {
	SLUICE_MAP_BTF,     /* SEC(".maps") */
	SLUICE_MAP_LEGACY,  /* SEC("maps"): bpf_map_def or iproute2 bpf_elf_map */
	SLUICE_MAP_DATA,    /* .data, .data.* */
	SLUICE_MAP_RODATA,  /* .rodata, .rodata.* (read-only to programs) */
	SLUICE_MAP_BSS,     /* .bss */
	SLUICE_MAP_KCONFIG, /* .kconfig externs */
};

/*
 * A slot a prog array or a map of maps starts with, from the object's
 * `.values = { [i] = &prog_or_map }`: the loader fills it once both exist.
 */
struct sluice_map_slot {
	uint32_t index;
	const char *prog;     /* prog arrays: the program's name */
	int map;              /* maps of maps: the inner map's index (else -1) */
};

struct sluice_map_def {
	const char *name;     /* as libbpf names it: "events", "execsnoo.rodata" */
	const char *section;  /* ".maps", ".rodata", ... */
	enum sluice_map_origin origin;
	uint32_t type;        /* enum bpf_map_type */
	uint32_t key_size;
	uint32_t value_size;
	uint32_t max_entries;
	uint32_t map_flags;
	uint32_t pinning;     /* LIBBPF_PIN_* (0: none) */
	uint32_t numa_node;
	uint32_t btf_key_type_id;   /* 0 when unknown */
	uint32_t btf_value_type_id;
	int inner_map;        /* index of the inner map's definition, or -1 */
	const void *init_data;      /* initial contents of global data, or NULL */
	size_t init_size;
	const struct sluice_map_slot *slots; /* initial slots, NULL when none */
	size_t nslots;
};

/* A BTF.ext line_info record, with its strings resolved. */
struct sluice_line_info {
	uint32_t insn;        /* index into the program's relocated instructions */
	const char *file;
	const char *source;   /* the source line's text ("" when absent) */
	uint32_t line;
	uint32_t column;
};

/* A BTF.ext func_info record: where each function of a program starts. */
struct sluice_func_info {
	uint32_t insn;
	uint32_t type_id;     /* BTF_KIND_FUNC in the object's BTF */
};

struct sluice_object *sluice_object_open(const char *path,
					 const struct sluice_object_opts *opts,
					 struct sluice_error *err);
struct sluice_object *sluice_object_open_mem(const void *data, size_t size,
					     const char *name,
					     const struct sluice_object_opts *opts,
					     struct sluice_error *err);
void sluice_object_close(struct sluice_object *obj);

const char *sluice_object_name(const struct sluice_object *obj);
const char *sluice_object_license(const struct sluice_object *obj); /* "" if none */
/* Whether the license lets programs call GPL-only helpers (the kernel's list). */
bool sluice_object_gpl_compatible(const struct sluice_object *obj);
uint32_t sluice_object_kversion(const struct sluice_object *obj);

/* Non-fatal findings while opening (unknown sections, ...), one line each. */
size_t sluice_object_warning_count(const struct sluice_object *obj);
const char *sluice_object_warning(const struct sluice_object *obj, size_t i);

size_t sluice_object_map_count(const struct sluice_object *obj);
const struct sluice_map_def *sluice_object_map(const struct sluice_object *obj,
					       size_t i);
/* Index of the map with that name, or -1. */
int sluice_object_find_map(const struct sluice_object *obj, const char *name);

size_t sluice_object_prog_count(const struct sluice_object *obj);
const struct sluice_prog *sluice_object_prog(const struct sluice_object *obj,
					     size_t i);
const struct sluice_prog *sluice_object_find_prog(const struct sluice_object *obj,
						  const char *name);

const char *sluice_prog_name(const struct sluice_prog *prog);
const char *sluice_prog_section(const struct sluice_prog *prog);
uint32_t sluice_prog_type(const struct sluice_prog *prog);        /* enum bpf_prog_type */
uint32_t sluice_prog_attach_type(const struct sluice_prog *prog); /* enum bpf_attach_type */
/* What the section names to attach to ("sys_enter_execve", "do_unlinkat"), or "". */
const char *sluice_prog_attach_target(const struct sluice_prog *prog);
/* The relocated program: own code, then the subprograms it calls. */
const struct sluice_insn *sluice_prog_insns(const struct sluice_prog *prog,
					    size_t *count);
const struct sluice_line_info *sluice_prog_line_info(const struct sluice_prog *prog,
						     size_t *count);
const struct sluice_func_info *sluice_prog_func_info(const struct sluice_prog *prog,
						     size_t *count);

/* The object's BTF as raw bytes (NULL, 0 when it has none). */
const void *sluice_object_btf_data(const struct sluice_object *obj, size_t *size);

#endif
