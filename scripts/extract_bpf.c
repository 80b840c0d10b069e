/* SPDX-License-Identifier: MIT */
/*
 * extract_bpf BINARY OUTDIR PREFIX: write every BPF ELF object embedded in
 * BINARY as OUTDIR/PREFIX.N.o (N from 0) and print how many it wrote.
 *
 * libbpf skeletons (`bpftool gen skeleton`) compile the whole .o into the
 * tool as a byte array, so the objects sit in the binary unchanged: an ELF
 * header whose e_machine is EM_BPF, then its sections, then its section
 * header table.  Nothing records where such an object ends, so its size is
 * worked out from its own headers: the end of the section header table or
 * of the furthest section, whichever is later.
 *
 * Used by scripts/corpus.sh; plain C so that the corpus needs no scripting
 * language beyond sh.
 */
#define _GNU_SOURCE /* memmem */
#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef EM_BPF
#define EM_BPF 247
#endif

static int read_all(const char *path, unsigned char **data, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f)
		return -errno;
	for (;;) {
		if (n == cap) {
			unsigned char *bigger;

			cap = cap ? cap * 2 : 1 << 20;
			bigger = realloc(buf, cap);
			if (!bigger) {
				free(buf);
				fclose(f);
				return -ENOMEM;
			}
			buf = bigger;
		}
		size_t got = fread(buf + n, 1, cap - n, f);

		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		free(buf);
		fclose(f);
		return -EIO;
	}
	fclose(f);
	*data = buf;
	*len = n;
	return 0;
}

/*
 * The size of the BPF object starting at p (avail bytes left in the file),
 * or 0 when the bytes there are not a plausible one: 64-bit little-endian
 * (the only kind clang emits for x86-64 hosts), EM_BPF, a section header
 * table of Elf64_Shdr entries that fits, and sections that fit.
 */
static size_t bpf_object_size(const unsigned char *p, size_t avail)
{
	Elf64_Ehdr eh;
	size_t end;

	if (avail < sizeof(eh))
		return 0;
	memcpy(&eh, p, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh.e_machine != EM_BPF || eh.e_shentsize != sizeof(Elf64_Shdr) ||
	    eh.e_shnum == 0 || eh.e_shoff > avail ||
	    (avail - eh.e_shoff) / sizeof(Elf64_Shdr) < eh.e_shnum)
		return 0;
	end = eh.e_shoff + (size_t)eh.e_shnum * sizeof(Elf64_Shdr);
	for (size_t i = 0; i < eh.e_shnum; i++) {
		Elf64_Shdr sh;

		memcpy(&sh, p + eh.e_shoff + i * sizeof(sh), sizeof(sh));
		if (sh.sh_type == SHT_NOBITS) /* .bss takes no bytes in the file */
			continue;
		if (sh.sh_offset > avail || sh.sh_size > avail - sh.sh_offset)
			return 0;
		if (sh.sh_offset + sh.sh_size > end)
			end = sh.sh_offset + sh.sh_size;
	}
	return end;
}

static int write_object(const char *outdir, const char *prefix, int n,
			const unsigned char *p, size_t size)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.%d.o", outdir, prefix, n);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, size, f) != size || fclose(f)) {
		fprintf(stderr, "extract_bpf: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const unsigned char magic[SELFMAG] = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3 };
	unsigned char *data = NULL;
	size_t len = 0, off = 0;
	int n = 0, ret;

	if (argc != 4) {
		fprintf(stderr, "usage: extract_bpf BINARY OUTDIR PREFIX\n");
		return 2;
	}
	ret = read_all(argv[1], &data, &len);
	if (ret) {
		fprintf(stderr, "extract_bpf: %s: %s\n", argv[1], strerror(-ret));
		return 1;
	}
	while (off + SELFMAG <= len) {
		const unsigned char *hit = memmem(data + off, len - off, magic, SELFMAG);
		size_t size;

		if (!hit)
			break;
		off = (size_t)(hit - data);
		size = bpf_object_size(hit, len - off);
		if (!size) { /* the host binary's own header, or bytes that look like one */
			off++;
			continue;
		}
		if (write_object(argv[2], argv[3], n, hit, size)) {
			free(data);
			return 1;
		}
		n++;
		off += size;
	}
	free(data);
	printf("%d\n", n);
	return 0;
}
