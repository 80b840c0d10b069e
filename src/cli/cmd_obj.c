/* SPDX-License-Identifier: MIT */
/*
 * `sluice obj show FILE.o`: what a clang-compiled BPF object holds, as the
 * loader reads it.  `sluice disasm FILE.o` (cmd_asm.c sends .o files here):
 * its programs as linked, with maps by name and optionally the C source.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <sluice/disasm.h>
#include <sluice/object.h>

#include "cli.h"
#include "insn.h"
#include "json.h"
#include "loader.h"

static const char *const origin_names[] = {
	[SLUICE_MAP_BTF] = "btf", [SLUICE_MAP_LEGACY] = "legacy", [SLUICE_MAP_DATA] = "data",
	[SLUICE_MAP_RODATA] = "rodata", [SLUICE_MAP_BSS] = "bss", [SLUICE_MAP_KCONFIG] = "kconfig",
};

static const char *prog_type_name(const struct sluice_prog *p)
{
	const char *name = bpf_prog_type_str(sluice_prog_type(p));

	return name && sluice_prog_type(p) ? name : "unknown";
}

static const char *map_type_name(const struct sluice_map_def *m)
{
	const char *name = bpf_map_type_str(m->type);

	return name ? name : "unknown";
}

static bool is_data_map(const struct sluice_map_def *m)
{
	return m->origin != SLUICE_MAP_BTF && m->origin != SLUICE_MAP_LEGACY;
}

static struct sluice_object *open_object(const struct cli *cli, const char *path,
					 const struct obj_open_args *args)
{
	struct sluice_object_opts opts = {
		.sz = sizeof(opts), .target_btf = args->btf, .no_core = args->no_core,
	};
	struct sluice_error err = { 0 };
	struct sluice_object *obj = sluice_object_open(path, &opts, &err);

	if (!obj)
		cli_fail(cli, "%s", err.msg);
	return obj;
}

static void show_json(const struct sluice_object *obj, const char *path)
{
	struct object_btf_summary btf;
	struct json *j = json_new(stdout);

	object_btf_summary(obj, &btf);
	json_object_begin(j, NULL);
	json_string(j, "file", path);
	json_string(j, "name", sluice_object_name(obj));
	json_string(j, "license", sluice_object_license(obj));
	json_u64(j, "kversion", sluice_object_kversion(obj));
	json_array_begin(j, "programs");
	for (size_t i = 0; i < sluice_object_prog_count(obj); i++) {
		const struct sluice_prog *p = sluice_object_prog(obj, i);
		size_t insns, lines, funcs;

		sluice_prog_insns(p, &insns);
		sluice_prog_line_info(p, &lines);
		sluice_prog_func_info(p, &funcs);
		json_object_begin(j, NULL);
		json_string(j, "name", sluice_prog_name(p));
		json_string(j, "section", sluice_prog_section(p));
		json_string(j, "type", prog_type_name(p));
		json_u64(j, "type_id", sluice_prog_type(p));
		json_u64(j, "attach_type", sluice_prog_attach_type(p));
		json_string(j, "attach_target", sluice_prog_attach_target(p));
		json_u64(j, "insns", insns);
		json_u64(j, "func_info", funcs);
		json_u64(j, "line_info", lines);
		json_object_end(j);
	}
	json_array_end(j);
	json_array_begin(j, "maps");
	for (size_t i = 0; i < sluice_object_map_count(obj); i++) {
		const struct sluice_map_def *m = sluice_object_map(obj, i);

		json_object_begin(j, NULL);
		json_string(j, "name", m->name);
		json_string(j, "section", m->section);
		json_string(j, "origin", origin_names[m->origin]);
		json_string(j, "type", map_type_name(m));
		json_u64(j, "type_id", m->type);
		json_u64(j, "key_size", m->key_size);
		json_u64(j, "value_size", m->value_size);
		json_u64(j, "max_entries", m->max_entries);
		json_u64(j, "flags", m->map_flags);
		json_u64(j, "pinning", m->pinning);
		if (m->inner_map >= 0)
			json_string(j, "inner_map", sluice_object_map(obj, (size_t)m->inner_map)->name);
		json_object_end(j);
	}
	json_array_end(j);
	json_array_begin(j, "data");
	for (size_t i = 0; i < sluice_object_map_count(obj); i++) {
		const struct sluice_map_def *m = sluice_object_map(obj, i);

		if (!is_data_map(m))
			continue;
		json_object_begin(j, NULL);
		json_string(j, "section", m->section);
		json_string(j, "map", m->name);
		json_u64(j, "size", m->value_size);
		json_object_end(j);
	}
	json_array_end(j);
	json_object_begin(j, "btf");
	json_bool(j, "present", btf.has_btf);
	json_u64(j, "types", btf.types);
	json_bool(j, "ext", btf.has_ext);
	json_u64(j, "func_info", btf.func_infos);
	json_u64(j, "line_info", btf.line_infos);
	json_u64(j, "core_relos", btf.core_relos);
	json_object_end(j);
	json_array_begin(j, "warnings");
	for (size_t i = 0; i < sluice_object_warning_count(obj); i++)
		json_string(j, NULL, sluice_object_warning(obj, i));
	json_array_end(j);
	json_object_end(j);
	json_free(j);
}

static int width(int w, const char *s)
{
	int n = (int)strlen(s);

	return n > w ? n : w;
}

static void show_text(const struct sluice_object *obj, const char *path)
{
	size_t nprogs = sluice_object_prog_count(obj), nmaps = sluice_object_map_count(obj), ndata = 0;
	int wname = 4, wsec = 7, wmap = 4;
	struct object_btf_summary btf;

	for (size_t i = 0; i < nprogs; i++) {
		wname = width(wname, sluice_prog_name(sluice_object_prog(obj, i)));
		wsec = width(wsec, sluice_prog_section(sluice_object_prog(obj, i)));
	}
	for (size_t i = 0; i < nmaps; i++)
		wmap = width(wmap, sluice_object_map(obj, i)->name);

	printf("%s: object %s, license \"%s\"", path, sluice_object_name(obj),
	       sluice_object_license(obj));
	if (sluice_object_kversion(obj))
		printf(", kernel version 0x%" PRIx32, sluice_object_kversion(obj));
	printf("\n\nprograms: %zu\n", nprogs);
	if (nprogs)
		printf("  %-*s  %-*s  %-16s %6s  %s\n", wname, "NAME", wsec, "SECTION", "TYPE",
		       "INSNS", "ATTACH TO");
	for (size_t i = 0; i < nprogs; i++) {
		const struct sluice_prog *p = sluice_object_prog(obj, i);
		size_t insns;

		sluice_prog_insns(p, &insns);
		printf("  %-*s  %-*s  %-16s %6zu  %s\n", wname, sluice_prog_name(p), wsec,
		       sluice_prog_section(p), prog_type_name(p), insns,
		       sluice_prog_attach_target(p)[0] ? sluice_prog_attach_target(p) : "-");
	}
	printf("\nmaps: %zu\n", nmaps);
	if (nmaps)
		printf("  %-*s  %-18s %5s %6s %11s  %-10s %s\n", wmap, "NAME", "TYPE", "KEY", "VALUE",
		       "MAX_ENTRIES", "FLAGS", "SECTION");
	for (size_t i = 0; i < nmaps; i++) {
		const struct sluice_map_def *m = sluice_object_map(obj, i);

		printf("  %-*s  %-18s %5" PRIu32 " %6" PRIu32 " %11" PRIu32 "  0x%-8" PRIx32 " %s",
		       wmap, m->name, map_type_name(m), m->key_size, m->value_size, m->max_entries,
		       m->map_flags, m->section);
		if (m->inner_map >= 0)
			printf("  (inner map %s)", sluice_object_map(obj, (size_t)m->inner_map)->name);
		if (m->pinning)
			printf("  (pinned by name)");
		printf("\n");
	}
	for (size_t i = 0; i < nmaps; i++)
		ndata += is_data_map(sluice_object_map(obj, i));
	printf("\nglobal data: %zu\n", ndata);
	for (size_t i = 0; i < nmaps; i++) {
		const struct sluice_map_def *m = sluice_object_map(obj, i);

		if (is_data_map(m))
			printf("  %-16s %8" PRIu32 " bytes  (map %s)\n", m->section, m->value_size, m->name);
	}
	object_btf_summary(obj, &btf);
	if (btf.has_btf)
		printf("\nbtf: %" PRIu32 " types", btf.types);
	else
		printf("\nbtf: none");
	if (btf.has_ext)
		printf("; .BTF.ext: %zu func_info, %zu line_info, %zu CO-RE relocations\n",
		       btf.func_infos, btf.line_infos, btf.core_relos);
	else
		printf("; no .BTF.ext\n");
	if (sluice_object_warning_count(obj))
		printf("\nwarnings:\n");
	for (size_t i = 0; i < sluice_object_warning_count(obj); i++)
		printf("  %s\n", sluice_object_warning(obj, i));
}

static const struct option open_options[] = {
	{ "btf", required_argument, NULL, 'b' },
	{ "no-core", no_argument, NULL, 'n' },
	{ 0 },
};

int cmd_obj(const struct cli *cli, int argc, char **argv)
{
	struct obj_open_args args = { 0 };
	struct sluice_object *obj;
	int opt;

	if (argc < 2 || strcmp(argv[1], "show"))
		return cli_usage(cli, "obj", "expected 'show'");
	optind = 2;
	while ((opt = getopt_long(argc, argv, "", open_options, NULL)) != -1) {
		if (opt == 'b')
			args.btf = optarg;
		else if (opt == 'n')
			args.no_core = true;
		else
			return cli_usage(cli, "obj", "bad option");
	}
	if (optind + 1 != argc)
		return cli_usage(cli, "obj", "expected one object file");
	obj = open_object(cli, argv[optind], &args);
	if (!obj)
		return CLI_FAILED;
	if (cli->json)
		show_json(obj, argv[optind]);
	else
		show_text(obj, argv[optind]);
	sluice_object_close(obj);
	return CLI_OK;
}

/* ---- disassembly ---- */

/*
 * One instruction into buf; returns its slots.  Map references are named:
 * `lddw %r1, map[events]`, `lddw %r1, map[execsnoo.rodata]+16` in the
 * assembler's style, `r1 = map[events]`, `r1 = map[execsnoo.rodata][0]+16`
 * in the kernel's (as bpftool prints them, with names for ids).
 */
static int render(const struct sluice_object *obj, const struct sluice_insn *insns, size_t count,
		  size_t pc, enum sluice_disasm_style style, char *buf, size_t len)
{
	const struct sluice_insn *in = &insns[pc];
	int op = insn_lookup(in);
	const struct sluice_map_def *m;
	char value[24] = "";

	if ((op != OP_LDDW_MAP_FD && op != OP_LDDW_MAP_VALUE) || pc + 1 >= count || in->imm < 0 ||
	    !(m = sluice_object_map(obj, (size_t)in->imm)))
		return sluice_disasm_insn(insns, count, pc, style, buf, len);
	if (op == OP_LDDW_MAP_VALUE)
		snprintf(value, sizeof(value), "%s%+" PRId32,
			 style == SLUICE_DISASM_LLVM ? "[0]" : "", insns[pc + 1].imm);
	if (style == SLUICE_DISASM_LLVM)
		snprintf(buf, len, "r%d = map[%s]%s", in->dst, m->name, value);
	else
		snprintf(buf, len, "lddw %%r%d, map[%s]%s", in->dst, m->name, value);
	return 2;
}

/* The function a func_info record places at pc, or NULL. */
static const char *function_at(const struct sluice_object *obj, const struct sluice_prog *p,
			       int64_t pc)
{
	size_t n;
	const struct sluice_func_info *f = sluice_prog_func_info(p, &n);

	for (size_t i = 0; i < n; i++)
		if (f[i].insn == pc)
			return object_btf_name(obj, f[i].type_id);
	return NULL;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static void disasm_prog(const struct sluice_object *obj, const struct sluice_prog *p,
			bool source, enum sluice_disasm_style style, struct json *j)
{
	size_t count, nlines;
	const struct sluice_insn *insns = sluice_prog_insns(p, &count);
	const struct sluice_line_info *lines = sluice_prog_line_info(p, &nlines);
	const struct sluice_line_info *shown = NULL;
	size_t next_line = 0;

	if (j) {
		json_object_begin(j, NULL);
		json_string(j, "name", sluice_prog_name(p));
		json_string(j, "section", sluice_prog_section(p));
		json_array_begin(j, "insns");
	} else {
		printf("%s (section %s, %zu instructions):\n", sluice_prog_name(p),
		       sluice_prog_section(p), count);
	}
	for (size_t pc = 0; pc < count;) {
		const struct sluice_line_info *line = NULL;
		const char *func = function_at(obj, p, (int64_t)pc);
		const char *callee = NULL;
		int op = insn_lookup(&insns[pc]);
		char text[160];
		int slots;

		while (next_line < nlines && lines[next_line].insn < pc)
			next_line++;
		/* a line's column records repeat the line: show it once */
		if (source && next_line < nlines && lines[next_line].insn == pc &&
		    !(shown && shown->line == lines[next_line].line &&
		      !strcmp(shown->file, lines[next_line].file)))
			line = shown = &lines[next_line];
		if (op == OP_CALL_LOCAL || op == OP_LDDW_FUNC)
			callee = function_at(obj, p, (int64_t)pc + insns[pc].imm + 1);
		slots = render(obj, insns, count, pc, style, text, sizeof(text));
		if (j) {
			json_insn_begin(j, pc, &insns[pc], text);
			if (func)
				json_string(j, "function", func);
			if (callee)
				json_string(j, "callee", callee);
			if (line) {
				json_object_begin(j, "source");
				json_string(j, "file", line->file);
				json_u64(j, "line", line->line);
				json_u64(j, "column", line->column);
				json_string(j, "text", line->source);
				json_object_end(j);
			}
			json_object_end(j);
		} else {
			if (func)
				printf("%s:\n", func);
			if (line)
				printf("      ; %s  (%s:%" PRIu32 ")\n",
				       line->source + strspn(line->source, " \t"),
				       base_name(line->file), line->line);
			printf("%6zu: %s", pc, text);
			if (callee)
				printf("  # %s", callee);
			printf("\n");
		}
		pc += slots > 0 ? (size_t)slots : 1;
	}
	if (j) {
		json_array_end(j);
		json_object_end(j);
	}
}

int disasm_object(const struct cli *cli, const char *path, const struct obj_open_args *open,
		  const char *prog_name, bool source, enum sluice_disasm_style style)
{
	struct sluice_object *obj = open_object(cli, path, open);
	const struct sluice_prog *only = NULL;
	struct json *j = NULL;

	if (!obj)
		return CLI_FAILED;
	if (prog_name && !(only = sluice_object_find_prog(obj, prog_name))) {
		sluice_object_close(obj);
		return cli_fail(cli, "%s: no program '%s'", path, prog_name);
	}
	if (cli->json) {
		j = json_new(stdout);
		json_object_begin(j, NULL);
		json_string(j, "file", path);
		json_array_begin(j, "programs");
	}
	for (size_t i = 0; i < sluice_object_prog_count(obj); i++) {
		const struct sluice_prog *p = sluice_object_prog(obj, i);

		if (only && p != only)
			continue;
		if (!j && i && !only)
			printf("\n");
		disasm_prog(obj, p, source, style, j);
	}
	if (j) {
		json_array_end(j);
		json_object_end(j);
		json_free(j);
	}
	sluice_object_close(obj);
	return CLI_OK;
}
