/* SPDX-License-Identifier: MIT */
/*
 * .BTF.ext: per ELF section, where functions start (func_info), which
 * source line each instruction came from (line_info) and the CO-RE
 * relocations, validated against the object's BTF and regrouped by section.
 *
 * Layout (libbpf's btf.c and the kernel agree): a header, then for each
 * kind of record an area of its own that starts with the record size, then
 * runs of { section name, record count, records }.  Records may be larger
 * than the structs known here; only their known prefix is read.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bpf.h>

#include "btf.h"
#include "errmsg.h"

/* libbpf's struct btf_ext_header: not part of the UAPI headers. */
struct ext_header {
	uint16_t magic;
	uint8_t version;
	uint8_t flags;
	uint32_t hdr_len;
	uint32_t func_info_off;
	uint32_t func_info_len;
	uint32_t line_info_off;
	uint32_t line_info_len;
	uint32_t core_relo_off; /* only when hdr_len covers it */
	uint32_t core_relo_len;
};

/* Kinds of records, CO-RE first: its section order is the order relocations are applied in. */
enum info_kind { INFO_CORE, INFO_FUNC, INFO_LINE, INFO__COUNT };

static const struct info_area {
	const char *name;
	size_t off_field; /* where the header keeps the area's offset; its length follows */
	uint32_t min_rec;
} areas[INFO__COUNT] = {
	[INFO_CORE] = { "core_relo", offsetof(struct ext_header, core_relo_off), sizeof(struct bpf_core_relo) },
	[INFO_FUNC] = { "func_info", offsetof(struct ext_header, func_info_off), sizeof(struct bpf_func_info) },
	[INFO_LINE] = { "line_info", offsetof(struct ext_header, line_info_off), sizeof(struct bpf_line_info) },
};

/* One run of records for one section, as the blob lays it out. */
struct run {
	const char *section;
	enum info_kind kind;
	const uint8_t *recs;
	uint32_t count;
	uint32_t rec_size;
	size_t order; /* position in the blob, areas taken in enum info_kind order */
};

struct btf_ext {
	struct btf_ext_section *sections;
	size_t nsections;
	struct btf_ext_func *funcs;
	struct btf_ext_line *lines;
	struct btf_ext_core *cores;
};

/* Everything one parse needs at hand. */
struct ext_parse {
	const uint8_t *body; /* after the header */
	uint32_t body_len;
	const struct sluice_btf *btf;
	struct run *runs;
	size_t nruns;
	size_t total[INFO__COUNT];
	struct sluice_error *err;
};

static uint32_t get_u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Put the record a failure is about before its message. */
static int in_record(const struct ext_parse *p, const struct run *run, uint32_t i, int ret)
{
	char prefix[SLUICE_ERRMSG_MAX];

	snprintf(prefix, sizeof(prefix), "BTF.ext: %s for section '%s', record %u",
		 areas[run->kind].name, run->section, i);
	return sluice_fail_prefix(p->err, ret, prefix);
}

#define record_fail(p, run, i, ...) in_record(p, run, i, sluice_fail((p)->err, EINVAL, __VA_ARGS__))

/* The runs of one area; with runs NULL, only checks them and counts. */
static int scan_area(struct ext_parse *p, enum info_kind kind, uint32_t off, uint32_t len,
		     struct run *runs)
{
	const char *name = areas[kind].name;
	const uint8_t *at;
	uint32_t rec_size, left;

	if (!len)
		return 0;
	if (off % 4)
		return sluice_fail(p->err, EINVAL, "BTF.ext: %s area at offset %u is not 4-byte aligned",
				   name, off);
	if ((uint64_t)off + len > p->body_len)
		return sluice_fail(p->err, EINVAL, "BTF.ext: %s area (offset %u, length %u) ends past the %u bytes after the header",
				   name, off, len, p->body_len);
	if (len < sizeof(uint32_t))
		return sluice_fail(p->err, EINVAL, "BTF.ext: %s area of %u bytes has no record size",
				   name, len);
	rec_size = get_u32(p->body + off);
	if (rec_size < areas[kind].min_rec || rec_size % 4)
		return sluice_fail(p->err, EINVAL, "BTF.ext: %s record size %u: must be a multiple of 4, at least %u",
				   name, rec_size, areas[kind].min_rec);
	at = p->body + off + sizeof(uint32_t);
	left = len - sizeof(uint32_t);
	if (!left)
		return sluice_fail(p->err, EINVAL, "BTF.ext: %s area has a record size but no sections",
				   name);
	while (left) {
		uint32_t name_off, count;
		const char *section;
		uint64_t need;

		if (left < 2 * sizeof(uint32_t))
			return sluice_fail(p->err, EINVAL, "BTF.ext: %s: truncated section header (%u bytes left)",
					   name, left);
		name_off = get_u32(at);
		count = get_u32(at + sizeof(uint32_t));
		section = btf_str(p->btf, name_off);
		if (!section || !*section)
			return sluice_fail(p->err, EINVAL, "BTF.ext: %s: section name offset %u is %s",
					   name, name_off, section ? "the empty string" : "beyond the BTF strings");
		if (!count)
			return sluice_fail(p->err, EINVAL, "BTF.ext: %s for section '%s': no records",
					   name, section);
		need = 2 * sizeof(uint32_t) + (uint64_t)count * rec_size;
		if (need > left)
			return sluice_fail(p->err, EINVAL, "BTF.ext: %s for section '%s': %u records of %u bytes do not fit in the %u bytes left",
					   name, section, count, rec_size, left);
		if (runs)
			runs[p->nruns] = (struct run){ .section = section, .kind = kind,
						       .recs = at + 2 * sizeof(uint32_t), .count = count,
						       .rec_size = rec_size, .order = p->nruns };
		p->nruns++;
		p->total[kind] += count;
		at += need;
		left -= (uint32_t)need;
	}
	return 0;
}

static int parse_header(struct ext_parse *p, const uint8_t *data, size_t size,
			struct ext_header *hdr)
{
	memset(hdr, 0, sizeof(*hdr));
	if (size < offsetof(struct ext_header, func_info_off))
		return sluice_fail(p->err, EINVAL, "BTF.ext: %zu bytes, shorter than a header", size);
	memcpy(hdr, data, offsetof(struct ext_header, func_info_off));
	if (hdr->magic != BTF_MAGIC)
		return sluice_fail(p->err, EINVAL, "BTF.ext: bad magic 0x%04x (expected 0x%04x)",
				   hdr->magic, BTF_MAGIC);
	if (hdr->version != BTF_VERSION)
		return sluice_fail(p->err, ENOTSUP, "BTF.ext: version %u (only %u is known)",
				   hdr->version, BTF_VERSION);
	if (hdr->flags)
		return sluice_fail(p->err, ENOTSUP, "BTF.ext: unknown header flags 0x%x", hdr->flags);
	if (hdr->hdr_len < offsetof(struct ext_header, core_relo_off) || hdr->hdr_len > size)
		return sluice_fail(p->err, EINVAL, "BTF.ext: header length %u is not between %zu and the %zu bytes of data",
				   hdr->hdr_len, offsetof(struct ext_header, core_relo_off), size);
	/* an older header stops before the CO-RE fields, which then read as zero */
	memcpy(hdr, data, hdr->hdr_len < sizeof(*hdr) ? hdr->hdr_len : sizeof(*hdr));
	p->body = data + hdr->hdr_len;
	p->body_len = (uint32_t)(size - hdr->hdr_len < UINT32_MAX ? size - hdr->hdr_len : UINT32_MAX);
	return 0;
}

static int scan_areas(struct ext_parse *p, const struct ext_header *hdr, struct run *runs)
{
	p->nruns = 0;
	memset(p->total, 0, sizeof(p->total));
	for (int kind = 0; kind < INFO__COUNT; kind++) {
		uint32_t off, len;
		int ret;

		memcpy(&off, (const uint8_t *)hdr + areas[kind].off_field, sizeof(off));
		memcpy(&len, (const uint8_t *)hdr + areas[kind].off_field + sizeof(off), sizeof(len));
		ret = scan_area(p, kind, off, len, runs);
		if (ret)
			return ret;
	}
	return 0;
}

static int insn_index(struct ext_parse *p, const struct run *run, uint32_t i, uint32_t insn_off,
		      uint32_t *insn)
{
	if (insn_off % sizeof(struct bpf_insn))
		return record_fail(p, run, i, "instruction offset %u is not a multiple of %zu",
				   insn_off, sizeof(struct bpf_insn));
	*insn = insn_off / sizeof(struct bpf_insn);
	return 0;
}

static const char *record_str(struct ext_parse *p, const struct run *run, uint32_t i,
			      const char *what, uint32_t offset)
{
	const char *s = btf_str(p->btf, offset);

	if (!s)
		record_fail(p, run, i, "%s offset %u is beyond the BTF strings", what, offset);
	return s;
}

static int convert_func(struct ext_parse *p, const struct run *run, uint32_t i,
			struct btf_ext_func *out)
{
	const struct btf_type *t;
	struct bpf_func_info rec;

	memcpy(&rec, run->recs + (size_t)i * run->rec_size, sizeof(rec));
	t = btf_type_by_id(p->btf, rec.type_id);
	if (!t || btf_kind(t) != BTF_KIND_FUNC)
		return record_fail(p, run, i, "type %u is %s, not a func", rec.type_id,
				   t ? btf_kind_str(btf_kind(t)) : "no type");
	out->type_id = rec.type_id;
	return insn_index(p, run, i, rec.insn_off, &out->insn);
}

static int convert_line(struct ext_parse *p, const struct run *run, uint32_t i,
			struct btf_ext_line *out)
{
	struct bpf_line_info rec;

	memcpy(&rec, run->recs + (size_t)i * run->rec_size, sizeof(rec));
	out->file = record_str(p, run, i, "file name", rec.file_name_off);
	if (!out->file)
		return -EINVAL;
	out->source = record_str(p, run, i, "source line", rec.line_off);
	if (!out->source)
		return -EINVAL;
	out->line = BPF_LINE_INFO_LINE_NUM(rec.line_col);
	out->column = BPF_LINE_INFO_LINE_COL(rec.line_col);
	return insn_index(p, run, i, rec.insn_off, &out->insn);
}

static int convert_core(struct ext_parse *p, const struct run *run, uint32_t i,
			struct btf_ext_core *out)
{
	struct bpf_core_relo rec;

	memcpy(&rec, run->recs + (size_t)i * run->rec_size, sizeof(rec));
	if (rec.type_id > btf_last_id(p->btf))
		return record_fail(p, run, i, "type %u is beyond the last id %u", rec.type_id,
				   btf_last_id(p->btf));
	out->access = record_str(p, run, i, "access string", rec.access_str_off);
	if (!out->access)
		return -EINVAL;
	out->type_id = rec.type_id;
	out->kind = rec.kind;
	return insn_index(p, run, i, rec.insn_off, &out->insn);
}

/* Runs of one section gather in blob order: by name, then position. */
static int by_section(const void *a, const void *b)
{
	const struct run *x = a, *y = b;
	int c = strcmp(x->section, y->section);

	return c ? c : (x->order > y->order) - (x->order < y->order);
}

/* Sections come out in the order their first run appears. */
static int by_first_run(const void *a, const void *b)
{
	const struct run *const *x = a, *const *y = b;

	return ((*x)->order > (*y)->order) - ((*x)->order < (*y)->order);
}

/* Convert the records of section runs[0..n) of one kind into `out`, appending at *used. */
static int convert_runs(struct ext_parse *p, const struct run *runs, size_t n,
			enum info_kind kind, struct btf_ext *ext, size_t *used,
			struct btf_ext_section *sec)
{
	size_t start = *used;
	int ret = 0;

	for (size_t r = 0; r < n && !ret; r++) {
		if (runs[r].kind != kind)
			continue;
		for (uint32_t i = 0; i < runs[r].count && !ret; i++, (*used)++) {
			if (kind == INFO_FUNC)
				ret = convert_func(p, &runs[r], i, &ext->funcs[*used]);
			else if (kind == INFO_LINE)
				ret = convert_line(p, &runs[r], i, &ext->lines[*used]);
			else
				ret = convert_core(p, &runs[r], i, &ext->cores[*used]);
		}
	}
	if (kind == INFO_FUNC) {
		sec->funcs = ext->funcs + start;
		sec->nfuncs = *used - start;
	} else if (kind == INFO_LINE) {
		sec->lines = ext->lines + start;
		sec->nlines = *used - start;
	} else {
		sec->cores = ext->cores + start;
		sec->ncores = *used - start;
	}
	return ret;
}

static int build_sections(struct ext_parse *p, struct btf_ext *ext)
{
	const struct run **firsts = malloc((p->nruns ? p->nruns : 1) * sizeof(*firsts));
	size_t used[INFO__COUNT] = { 0 };
	int ret = 0;

	ext->funcs = malloc((p->total[INFO_FUNC] ? p->total[INFO_FUNC] : 1) * sizeof(*ext->funcs));
	ext->lines = malloc((p->total[INFO_LINE] ? p->total[INFO_LINE] : 1) * sizeof(*ext->lines));
	ext->cores = malloc((p->total[INFO_CORE] ? p->total[INFO_CORE] : 1) * sizeof(*ext->cores));
	if (!firsts || !ext->funcs || !ext->lines || !ext->cores) {
		ret = sluice_fail(p->err, ENOMEM, "BTF.ext: out of memory for %zu records",
				  p->total[INFO_FUNC] + p->total[INFO_LINE] + p->total[INFO_CORE]);
		goto out;
	}
	qsort(p->runs, p->nruns, sizeof(*p->runs), by_section);
	for (size_t r = 0; r < p->nruns; r++)
		if (!r || strcmp(p->runs[r].section, p->runs[r - 1].section))
			firsts[ext->nsections++] = &p->runs[r];
	qsort(firsts, ext->nsections, sizeof(*firsts), by_first_run);
	ext->sections = calloc(ext->nsections ? ext->nsections : 1, sizeof(*ext->sections));
	if (!ext->sections) {
		ret = sluice_fail(p->err, ENOMEM, "BTF.ext: out of memory for %zu sections",
				  ext->nsections);
		goto out;
	}
	for (size_t s = 0; s < ext->nsections && !ret; s++) {
		const struct run *first = firsts[s];
		size_t n = 1;

		while (first + n < p->runs + p->nruns && !strcmp(first[n].section, first->section))
			n++;
		ext->sections[s].name = first->section;
		for (int kind = 0; kind < INFO__COUNT && !ret; kind++)
			ret = convert_runs(p, first, n, kind, ext, &used[kind], &ext->sections[s]);
	}
out:
	free(firsts);
	return ret;
}

struct btf_ext *btf_ext_parse(const void *data, size_t size, const struct sluice_btf *btf,
			      struct sluice_error *err)
{
	struct ext_parse p = { .btf = btf, .err = err };
	struct btf_ext *ext = calloc(1, sizeof(*ext));
	struct ext_header hdr;
	int ret;

	if (!ext) {
		sluice_fail(err, ENOMEM, "BTF.ext: out of memory");
		return NULL;
	}
	/* count first, so that allocations follow what the blob really holds */
	ret = parse_header(&p, data, size, &hdr);
	if (!ret)
		ret = scan_areas(&p, &hdr, NULL);
	if (!ret) {
		p.runs = malloc((p.nruns ? p.nruns : 1) * sizeof(*p.runs));
		ret = p.runs ? scan_areas(&p, &hdr, p.runs)
			     : sluice_fail(err, ENOMEM, "BTF.ext: out of memory for %zu sections", p.nruns);
	}
	if (!ret)
		ret = build_sections(&p, ext);
	free(p.runs);
	if (ret) {
		btf_ext_free(ext);
		errno = -ret;
		return NULL;
	}
	return ext;
}

void btf_ext_free(struct btf_ext *ext)
{
	if (!ext)
		return;
	free(ext->sections);
	free(ext->funcs);
	free(ext->lines);
	free(ext->cores);
	free(ext);
}

size_t btf_ext_section_count(const struct btf_ext *ext)
{
	return ext->nsections;
}

const struct btf_ext_section *btf_ext_section(const struct btf_ext *ext, size_t i)
{
	return i < ext->nsections ? &ext->sections[i] : NULL;
}

const struct btf_ext_section *btf_ext_find(const struct btf_ext *ext, const char *section)
{
	for (size_t i = 0; i < ext->nsections; i++)
		if (!strcmp(ext->sections[i].name, section))
			return &ext->sections[i];
	return NULL;
}
