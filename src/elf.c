/* SPDX-License-Identifier: MIT */
/*
 * The ELF layer of the object loader: libelf reads the file, and every
 * number the rest of the loader will use is checked here first, so that
 * object.c can index sections, symbols and relocation targets without
 * re-checking them.  Bytes out of range, overlapping sections, a missing
 * string table or a relocation naming a symbol that does not exist are one
 * error each, naming the file, the section and the offset.
 */
#include <errno.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "loader.h"

#ifndef EM_BPF
#define EM_BPF 247
#endif

/* A byte range of the file, for the overlap check. */
struct extent {
	uint64_t start, end;
	size_t section; /* a section index, or one of these two: */
};
#define EXTENT_HEADER SIZE_MAX
#define EXTENT_SHDRS (SIZE_MAX - 1)

static void describe_extent(const struct elf_file *f, const struct extent *e, char *buf,
			    size_t len)
{
	if (e->section == EXTENT_HEADER)
		snprintf(buf, len, "the ELF header");
	else if (e->section == EXTENT_SHDRS)
		snprintf(buf, len, "the section header table");
	else
		snprintf(buf, len, "section '%s' (index %zu)", f->sections[e->section].name,
			 e->section);
}

static int cmp_extent(const void *a, const void *b)
{
	const struct extent *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* The header, before libelf sees the bytes: the kind of file this must be. */
static int check_header(const struct elf_file *f, const uint8_t *data, size_t size,
			struct sluice_error *err)
{
	Elf64_Ehdr eh;
	uint64_t shnum;

	if (size < sizeof(eh))
		return sluice_fail(err, EINVAL,
				   "%s: truncated: %zu bytes, an ELF64 header takes %zu",
				   f->path, size, sizeof(eh));
	memcpy(&eh, data, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG))
		return sluice_fail(err, EINVAL, "%s: not an ELF file", f->path);
	if (eh.e_ident[EI_CLASS] != ELFCLASS64)
		return sluice_fail(err, EINVAL, "%s: not a 64-bit ELF file", f->path);
	if (eh.e_ident[EI_DATA] != ELFDATA2LSB)
		return sluice_fail(err, EINVAL, "%s: not a little-endian ELF file", f->path);
	if (eh.e_type != ET_REL)
		return sluice_fail(err, EINVAL,
				   "%s: ELF type %u is not a relocatable object (ET_REL)",
				   f->path, eh.e_type);
	if (eh.e_machine != EM_BPF)
		return sluice_fail(err, EINVAL,
				   "%s: machine %u is not BPF (EM_BPF, %u)", f->path,
				   eh.e_machine, EM_BPF);
	if (eh.e_shoff == 0)
		return sluice_fail(err, EINVAL, "%s: no section header table", f->path);
	if (eh.e_shentsize != sizeof(Elf64_Shdr))
		return sluice_fail(err, EINVAL, "%s: section header size %u, expected %zu",
				   f->path, eh.e_shentsize, sizeof(Elf64_Shdr));
	if (eh.e_shoff > size || size - eh.e_shoff < sizeof(Elf64_Shdr))
		return sluice_fail(err, EINVAL,
				   "%s: section header table at offset 0x%" PRIx64
				   " is beyond the end of the file (%zu bytes)",
				   f->path, (uint64_t)eh.e_shoff, size);
	shnum = eh.e_shnum;
	if (shnum == 0) { /* more than SHN_LORESERVE sections: the count is in section 0 */
		Elf64_Shdr sh0;

		memcpy(&sh0, data + eh.e_shoff, sizeof(sh0));
		shnum = sh0.sh_size;
	}
	if (shnum > (size - eh.e_shoff) / sizeof(Elf64_Shdr))
		return sluice_fail(err, EINVAL,
				   "%s: %" PRIu64 " section headers at offset 0x%" PRIx64
				   " run past the end of the file (%zu bytes)",
				   f->path, shnum, (uint64_t)eh.e_shoff, size);
	return 0;
}

static int libelf_fail(const struct elf_file *f, const char *what, struct sluice_error *err)
{
	return sluice_fail(err, EINVAL, "%s: %s: %s", f->path, what, elf_errmsg(-1));
}

/* Section i's bytes lie inside the file. */
static int check_in_file(const struct elf_file *f, size_t i, const char *name,
			 const GElf_Shdr *sh, size_t size, struct sluice_error *err)
{
	if (sh->sh_type != SHT_NOBITS &&
	    (sh->sh_offset > size || size - sh->sh_offset < sh->sh_size))
		return sluice_fail(err, EINVAL,
				   "%s: section '%s' (index %zu): bytes 0x%" PRIx64 "..0x%" PRIx64
				   " are beyond the end of the file (%zu bytes)",
				   f->path, name, i, (uint64_t)sh->sh_offset,
				   (uint64_t)sh->sh_offset + sh->sh_size, size);
	return 0;
}

/* Names, kinds and bytes of every section, each inside the file. */
static int read_sections(struct elf_file *f, Elf *elf, size_t size, struct sluice_error *err)
{
	size_t shstrndx;
	Elf_Scn *scn;
	GElf_Shdr sh;
	int ret;

	if (elf_getshdrnum(elf, &f->nsections) || elf_getshdrstrndx(elf, &shstrndx))
		return libelf_fail(f, "reading the section table", err);
	if (shstrndx == SHN_UNDEF || shstrndx >= f->nsections)
		return sluice_fail(err, EINVAL,
				   "%s: section-name table index %zu is not one of the %zu sections",
				   f->path, shstrndx, f->nsections);
	/* the names first: every other message names its section */
	scn = elf_getscn(elf, shstrndx);
	if (!scn || !gelf_getshdr(scn, &sh))
		return libelf_fail(f, "reading a section header", err);
	ret = check_in_file(f, shstrndx, "(section names)", &sh, size, err);
	if (ret)
		return ret;
	if (sh.sh_type != SHT_STRTAB)
		return sluice_fail(err, EINVAL,
				   "%s: section-name table (index %zu) is not a string table",
				   f->path, shstrndx);
	f->sections = calloc(f->nsections, sizeof(*f->sections));
	if (!f->sections)
		return sluice_fail(err, ENOMEM, "out of memory");
	f->sections[0].name = "";

	for (size_t i = 1; i < f->nsections; i++) {
		struct elf_section *s = &f->sections[i];

		scn = elf_getscn(elf, i);
		if (!scn || !gelf_getshdr(scn, &sh))
			return libelf_fail(f, "reading a section header", err);
		s->name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!s->name)
			return sluice_fail(err, EINVAL,
					   "%s: section %zu: name offset %u is outside the section-name table",
					   f->path, i, sh.sh_name);
		ret = check_in_file(f, i, s->name, &sh, size, err);
		if (ret)
			return ret;
		s->type = sh.sh_type;
		s->flags = sh.sh_flags;
		s->link = sh.sh_link;
		s->info = sh.sh_info;
		s->size = sh.sh_size;
		/* libelf refuses a table of partial entries without saying so */
		if ((s->type == SHT_SYMTAB && s->size % sizeof(Elf64_Sym)) ||
		    (s->type == SHT_REL && s->size % sizeof(Elf64_Rel)))
			return sluice_fail(err, EINVAL,
					   "%s: section '%s' (index %zu): size %zu is not a multiple of %zu",
					   f->path, s->name, i, s->size,
					   s->type == SHT_REL ? sizeof(Elf64_Rel) : sizeof(Elf64_Sym));
		if (sh.sh_type != SHT_NOBITS && sh.sh_size) {
			Elf_Data *d = elf_rawdata(scn, NULL);

			if (!d || d->d_size != sh.sh_size)
				return sluice_fail(err, EINVAL, "%s: section '%s' (index %zu): %s",
						   f->path, s->name, i, elf_errmsg(-1));
			s->data = d->d_buf;
		}
	}
	return 0;
}

/* No two pieces of the file (header, section table, sections) share a byte. */
static int check_overlaps(const struct elf_file *f, const Elf64_Ehdr *eh,
			  struct sluice_error *err)
{
	struct extent *ext = malloc((f->nsections + 2) * sizeof(*ext));
	size_t n = 0;
	int ret = 0;

	if (!ext)
		return sluice_fail(err, ENOMEM, "out of memory");
	ext[n++] = (struct extent){ 0, sizeof(*eh), EXTENT_HEADER };
	ext[n++] = (struct extent){ eh->e_shoff,
				    eh->e_shoff + f->nsections * sizeof(Elf64_Shdr), EXTENT_SHDRS };
	for (size_t i = 1; i < f->nsections; i++) {
		const struct elf_section *s = &f->sections[i];

		if (s->data) /* every such range was checked to be inside the file */
			ext[n++] = (struct extent){ (uint64_t)(s->data - f->image),
						    (uint64_t)(s->data - f->image) + s->size, i };
	}
	qsort(ext, n, sizeof(*ext), cmp_extent);
	for (size_t i = 1; i < n; i++) {
		char first[96], second[96];

		if (ext[i].start >= ext[i - 1].end)
			continue;
		describe_extent(f, &ext[i - 1], first, sizeof(first));
		describe_extent(f, &ext[i], second, sizeof(second));
		ret = sluice_fail(err, EINVAL, "%s: %s and %s overlap at offset 0x%" PRIx64,
				  f->path, first, second, ext[i].start);
		break;
	}
	free(ext);
	return ret;
}

static int read_symbols(struct elf_file *f, Elf *elf, struct sluice_error *err)
{
	const struct elf_section *symtab;
	Elf_Data *data;
	size_t strtab;

	for (size_t i = 1; i < f->nsections; i++) {
		if (f->sections[i].type != SHT_SYMTAB)
			continue;
		if (f->symtab_index)
			return sluice_fail(err, EINVAL, "%s: more than one symbol table (sections %zu and %zu)",
					   f->path, f->symtab_index, i);
		f->symtab_index = i;
	}
	if (!f->symtab_index)
		return sluice_fail(err, EINVAL, "%s: no symbol table (a stripped object?)", f->path);
	symtab = &f->sections[f->symtab_index];
	strtab = symtab->link;
	if (strtab == 0 || strtab >= f->nsections || f->sections[strtab].type != SHT_STRTAB)
		return sluice_fail(err, EINVAL,
				   "%s: section '%s' (index %zu): its string table (section %zu) is missing",
				   f->path, symtab->name, f->symtab_index, strtab);
	f->nsymbols = symtab->size / sizeof(Elf64_Sym); /* whole entries: read_sections checked */
	if (!f->nsymbols)
		return 0;
	data = elf_getdata(elf_getscn(elf, f->symtab_index), NULL);
	if (!data)
		return libelf_fail(f, "reading the symbol table", err);
	f->symbols = calloc(f->nsymbols, sizeof(*f->symbols));
	if (!f->symbols)
		return sluice_fail(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < f->nsymbols; i++) {
		struct elf_symbol *s = &f->symbols[i];
		GElf_Sym sym;

		if (!gelf_getsym(data, (int)i, &sym))
			return libelf_fail(f, "reading a symbol", err);
		s->name = elf_strptr(elf, strtab, sym.st_name);
		if (!s->name)
			return sluice_fail(err, EINVAL,
					   "%s: symbol %zu: name offset %u is outside the string table '%s'",
					   f->path, i, sym.st_name, f->sections[strtab].name);
		if (sym.st_shndx == SHN_XINDEX ||
		    (sym.st_shndx >= f->nsections && sym.st_shndx < SHN_LORESERVE))
			return sluice_fail(err, EINVAL,
					   "%s: symbol %zu ('%s') refers to section %u, beyond the %zu sections",
					   f->path, i, s->name, sym.st_shndx, f->nsections);
		s->value = sym.st_value;
		s->size = sym.st_size;
		s->shndx = sym.st_shndx;
		s->type = GELF_ST_TYPE(sym.st_info);
		s->bind = GELF_ST_BIND(sym.st_info);
		s->visibility = GELF_ST_VISIBILITY(sym.st_other);
	}
	return 0;
}

/* One SHT_REL section: its links, then each entry. */
static int read_rel_section(struct elf_file *f, Elf *elf, size_t index,
			    struct elf_relocs *out, struct sluice_error *err)
{
	const struct elf_section *rel = &f->sections[index];
	const struct elf_section *target;
	struct elf_reloc *relocs;
	Elf_Data *data;
	size_t count;
	bool code;

	if (rel->link != f->symtab_index)
		return sluice_fail(err, EINVAL,
				   "%s: section '%s' (index %zu): links section %u, not the symbol table (%zu)",
				   f->path, rel->name, index, rel->link, f->symtab_index);
	if (rel->info == 0 || rel->info >= f->nsections)
		return sluice_fail(err, EINVAL,
				   "%s: section '%s' (index %zu): patches section %u, beyond the %zu sections",
				   f->path, rel->name, index, rel->info, f->nsections);
	count = rel->size / sizeof(Elf64_Rel);
	target = &f->sections[rel->info];
	code = target->flags & SHF_EXECINSTR;
	*out = (struct elf_relocs){ .section = index, .target = rel->info };
	if (!count)
		return 0;
	data = elf_getdata(elf_getscn(elf, index), NULL);
	if (!data)
		return libelf_fail(f, "reading relocations", err);
	relocs = calloc(count, sizeof(*relocs));
	if (!relocs)
		return sluice_fail(err, ENOMEM, "out of memory");
	out->relocs = relocs;
	out->count = count;
	for (size_t i = 0; i < count; i++) {
		GElf_Rel r;
		uint64_t sym;

		if (!gelf_getrel(data, (int)i, &r))
			return libelf_fail(f, "reading a relocation", err);
		sym = GELF_R_SYM(r.r_info);
		if (sym >= f->nsymbols)
			return sluice_fail(err, EINVAL,
					   "%s: section '%s' (index %u): relocation %zu at offset 0x%" PRIx64
					   " refers to symbol %" PRIu64 ", beyond the %zu symbols",
					   f->path, target->name, rel->info, i, (uint64_t)r.r_offset,
					   sym, f->nsymbols);
		if (r.r_offset >= target->size || (code && (r.r_offset % 8 || target->size - r.r_offset < 8)))
			return sluice_fail(err, EINVAL,
					   "%s: section '%s' (index %u): relocation %zu at offset 0x%" PRIx64
					   " is %s",
					   f->path, target->name, rel->info, i, (uint64_t)r.r_offset,
					   r.r_offset >= target->size ? "beyond the section's end"
								      : "not on an instruction");
		relocs[i] = (struct elf_reloc){ .offset = r.r_offset, .sym = (uint32_t)sym };
	}
	return 0;
}

static int read_relocations(struct elf_file *f, Elf *elf, struct sluice_error *err)
{
	size_t n = 0;

	for (size_t i = 1; i < f->nsections; i++)
		n += f->sections[i].type == SHT_REL;
	if (!n)
		return 0;
	f->relocs = calloc(n, sizeof(*f->relocs));
	if (!f->relocs)
		return sluice_fail(err, ENOMEM, "out of memory");
	for (size_t i = 1; i < f->nsections; i++) {
		int ret;

		if (f->sections[i].type != SHT_REL)
			continue;
		ret = read_rel_section(f, elf, i, &f->relocs[f->nrelocs++], err);
		if (ret)
			return ret;
	}
	return 0;
}

int elf_file_open(struct elf_file *f, const void *data, size_t size, const char *path,
		  struct sluice_error *err)
{
	Elf64_Ehdr eh;
	Elf *elf;
	int ret;

	memset(f, 0, sizeof(*f));
	f->path = path;
	ret = check_header(f, data, size, err);
	if (ret)
		return ret;
	memcpy(&eh, data, sizeof(eh));
	f->image = malloc(size);
	if (!f->image)
		return sluice_fail(err, ENOMEM, "out of memory");
	memcpy(f->image, data, size);
	/* libelf wants to be told which ELF version its caller speaks, once or more */
	if (elf_version(EV_CURRENT) == EV_NONE) {
		ret = libelf_fail(f, "initialising libelf", err);
		goto fail;
	}
	elf = elf_memory((char *)f->image, size);
	if (!elf) {
		ret = libelf_fail(f, "opening", err);
		goto fail;
	}
	f->elf = elf;
	if (elf_kind(elf) != ELF_K_ELF) {
		ret = sluice_fail(err, EINVAL, "%s: not an ELF object", path);
		goto fail;
	}
	ret = read_sections(f, elf, size, err);
	if (!ret)
		ret = check_overlaps(f, &eh, err);
	if (!ret)
		ret = read_symbols(f, elf, err);
	if (!ret)
		ret = read_relocations(f, elf, err);
	if (!ret)
		return 0;
fail:
	elf_file_close(f);
	return ret;
}

void elf_file_close(struct elf_file *f)
{
	for (size_t i = 0; i < f->nrelocs; i++)
		free((void *)f->relocs[i].relocs);
	free(f->relocs);
	free(f->symbols);
	free(f->sections);
	if (f->elf)
		elf_end(f->elf);
	free(f->image);
	memset(f, 0, sizeof(*f));
}

size_t elf_find_section(const struct elf_file *f, const char *name)
{
	for (size_t i = 1; i < f->nsections; i++)
		if (!strcmp(f->sections[i].name, name))
			return i;
	return 0;
}
