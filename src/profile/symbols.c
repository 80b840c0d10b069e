/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE /* asprintf */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errmsg.h"
#include "profile/symbols.h"

struct sym {
	uint64_t addr;
	uint64_t size; /* 0 in kallsyms: a symbol runs to the next one */
	int rank;      /* among symbols at one address, the highest is the name shown */
	char *name;
};

struct symtab {
	struct sym *syms;
	size_t n, cap;
};

static int symtab_add(struct symtab *t, uint64_t addr, uint64_t size, int rank, const char *name)
{
	char *copy;

	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 256;
		struct sym *grown = realloc(t->syms, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		t->syms = grown;
		t->cap = cap;
	}
	copy = strdup(name);
	if (!copy)
		return -ENOMEM;
	t->syms[t->n++] = (struct sym){ addr, size, rank, copy };
	return 0;
}

static int by_addr(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return x->rank - y->rank;
}

/* The last symbol at or below addr: among aliases, the highest rank. */
static const struct sym *symtab_find(const struct symtab *t, uint64_t addr)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? &t->syms[lo - 1] : NULL;
}

static void symtab_free(struct symtab *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->syms[i].name);
	free(t->syms);
}

/* One mapped file: its load segments and function symbols. */
struct elf_file {
	char *path;
	char *label;   /* "[basename]", for addresses no symbol covers */
	bool loaded;   /* readable as ELF */
	struct { uint64_t offset, vaddr, filesz; } *loads;
	size_t nloads;
	struct symtab syms;
};

struct mapping {
	uint64_t start, end, offset;
	struct elf_file *file; /* NULL: anonymous, or not a file */
};

struct prof_proc {
	pid_t pid;
	struct mapping *maps;
	size_t nmaps;
	struct elf_file **files;
	size_t nfiles;
};

/* Global over weak over local, so that an alias does not hide the exported name. */
static int bind_rank(unsigned bind)
{
	return bind == STB_GLOBAL ? 2 : bind == STB_WEAK ? 1 : 0;
}

static int read_symbols(struct elf_file *f, Elf *elf)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *data;

		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) ||
		    !sh.sh_entsize || !(data = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym s;
			const char *name;
			unsigned type;

			if (!gelf_getsym(data, (int)i, &s))
				continue;
			type = GELF_ST_TYPE(s.st_info);
			if ((type != STT_FUNC && type != STT_GNU_IFUNC) || s.st_shndx == SHN_UNDEF ||
			    !s.st_value)
				continue;
			name = elf_strptr(elf, sh.sh_link, s.st_name);
			if (name && *name &&
			    symtab_add(&f->syms, s.st_value, s.st_size, bind_rank(GELF_ST_BIND(s.st_info)),
				       name))
				return -ENOMEM;
		}
	}
	if (f->syms.n)
		qsort(f->syms.syms, f->syms.n, sizeof(*f->syms.syms), by_addr);
	return 0;
}

static int read_loads(struct elf_file *f, Elf *elf)
{
	size_t n;

	if (elf_getphdrnum(elf, &n))
		return -EINVAL;
	f->loads = calloc(n ? n : 1, sizeof(*f->loads));
	if (!f->loads)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_LOAD)
			f->loads[f->nloads++] = (typeof(*f->loads)){ ph.p_offset, ph.p_vaddr,
								     ph.p_filesz };
	}
	return 0;
}

/* A file unreadable or not ELF is no error: its addresses are named after it. */
static int load_elf(struct elf_file *f, pid_t pid)
{
	char path[4096];
	int fd, ret = 0;
	Elf *elf;

	/* through the process's root: a container's files are not the host's */
	snprintf(path, sizeof(path), "/proc/%d/root%s", (int)pid, f->path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fd = open(f->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (elf && elf_kind(elf) == ELF_K_ELF) {
		ret = read_loads(f, elf);
		if (!ret)
			ret = read_symbols(f, elf);
		f->loaded = !ret;
	}
	elf_end(elf);
	close(fd);
	return ret == -ENOMEM ? ret : 0;
}

static struct elf_file *file_for(struct prof_proc *p, const char *path)
{
	struct elf_file *f, **grown;
	const char *base = strrchr(path, '/');

	for (size_t i = 0; i < p->nfiles; i++)
		if (!strcmp(p->files[i]->path, path))
			return p->files[i];
	grown = realloc(p->files, (p->nfiles + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	p->files = grown;
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	p->files[p->nfiles++] = f;
	f->path = strdup(path);
	/* the kernel's pseudo-files ("[vdso]", "[heap]") are named as they are */
	if (path[0] == '[')
		return f->path && (f->label = strdup(path)) ? f : NULL;
	if (!f->path || asprintf(&f->label, "[%s]", base ? base + 1 : path) < 0 ||
	    load_elf(f, p->pid))
		return NULL;
	return f;
}

static int read_maps(struct prof_proc *p, FILE *maps, struct sluice_error *err)
{
	char line[4352];
	size_t cap = 0;

	while (fgets(line, sizeof(line), maps)) {
		uint64_t start, end, offset;
		char perms[8];
		int path_at = 0;
		struct mapping *m;

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %*s %*s %n", &start, &end,
			   perms, &offset, &path_at) < 4 || perms[2] != 'x')
			continue;
		line[strcspn(line, "\n")] = '\0';
		if (p->nmaps == cap) {
			cap = cap ? 2 * cap : 32;
			m = realloc(p->maps, cap * sizeof(*m));
			if (!m)
				return sluice_fail(err, ENOMEM, "out of memory");
			p->maps = m;
		}
		m = &p->maps[p->nmaps++];
		*m = (struct mapping){ start, end, offset, NULL };
		if (path_at && (line[path_at] == '/' || line[path_at] == '[') &&
		    !(m->file = file_for(p, line + path_at)))
			return sluice_fail(err, ENOMEM, "out of memory");
	}
	return 0;
}

struct prof_proc *prof_proc_open(pid_t pid, struct sluice_error *err)
{
	struct prof_proc *p = calloc(1, sizeof(*p));
	char path[64];
	FILE *maps;

	if (!p) {
		sluice_fail(err, ENOMEM, "out of memory");
		return NULL;
	}
	p->pid = pid;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	maps = fopen(path, "re");
	if (!maps) {
		sluice_fail(err, errno, "%s: %s", path, strerror(errno));
		free(p);
		return NULL;
	}
	if (read_maps(p, maps, err)) {
		fclose(maps);
		prof_proc_free(p);
		return NULL;
	}
	fclose(maps);
	return p;
}

void prof_proc_free(struct prof_proc *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nfiles; i++) {
		if (!p->files[i])
			continue;
		symtab_free(&p->files[i]->syms);
		free(p->files[i]->loads);
		free(p->files[i]->label);
		free(p->files[i]->path);
		free(p->files[i]);
	}
	free(p->files);
	free(p->maps);
	free(p);
}

const char *prof_proc_symbol(struct prof_proc *p, uint64_t addr)
{
	for (size_t i = 0; i < p->nmaps; i++) {
		const struct mapping *m = &p->maps[i];
		uint64_t file_off = addr - m->start + m->offset;

		if (addr < m->start || addr >= m->end)
			continue;
		if (!m->file)
			return "[anon]";
		for (size_t j = 0; j < m->file->nloads; j++) {
			const typeof(*m->file->loads) *l = &m->file->loads[j];
			const struct sym *s;
			uint64_t vaddr;

			if (file_off < l->offset || file_off >= l->offset + l->filesz)
				continue;
			vaddr = file_off - l->offset + l->vaddr;
			s = symtab_find(&m->file->syms, vaddr);
			if (s && vaddr < s->addr + s->size)
				return s->name;
			break;
		}
		return m->file->label;
	}
	return "[unknown]";
}

struct prof_kallsyms {
	struct symtab syms;
};

struct prof_kallsyms *prof_kallsyms_open(struct sluice_error *err)
{
	struct prof_kallsyms *k = calloc(1, sizeof(*k));
	FILE *f = fopen("/proc/kallsyms", "re");
	char line[512];
	bool nonzero = false;

	if (!k || !f) {
		sluice_fail(err, k ? errno : ENOMEM, "/proc/kallsyms: %s", strerror(k ? errno : ENOMEM));
		goto fail;
	}
	while (fgets(line, sizeof(line), f)) {
		uint64_t addr;
		char type, name[256];

		if (sscanf(line, "%" SCNx64 " %c %255s", &addr, &type, name) != 3 ||
		    (type != 't' && type != 'T' && type != 'w' && type != 'W'))
			continue;
		nonzero |= addr != 0;
		if (symtab_add(&k->syms, addr, 0, 0, name)) {
			sluice_fail(err, ENOMEM, "out of memory");
			goto fail;
		}
	}
	if (!nonzero) {
		sluice_fail(err, EACCES, "/proc/kallsyms shows no addresses (kptr_restrict or lockdown)");
		goto fail;
	}
	fclose(f);
	qsort(k->syms.syms, k->syms.n, sizeof(*k->syms.syms), by_addr);
	return k;
fail:
	if (f)
		fclose(f);
	prof_kallsyms_free(k);
	return NULL;
}

void prof_kallsyms_free(struct prof_kallsyms *k)
{
	if (!k)
		return;
	symtab_free(&k->syms);
	free(k);
}

const char *prof_kallsyms_symbol(const struct prof_kallsyms *k, uint64_t addr)
{
	const struct sym *s = symtab_find(&k->syms, addr);

	return s ? s->name : NULL;
}
