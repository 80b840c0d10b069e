/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bpf.h>

#include <bpf/libbpf.h>

#include <sluice/maps.h>
#include <sluice/object.h>

#include "btf.h"
#include "btf_value.h"
#include "json.h"
#include "rtprog.h"

/* Maps with more elements than this are summarised by their count alone. */
#define SUMMARY_MAX_ELEMS 16

int rtprog_open(const struct cli *cli, const char *command, const char *path,
		const char *prog, const struct engine_opts *eopts, struct rtprog *out)
{
	struct sluice_rt_opts opts = {
		.sz = sizeof(opts), .engine = eopts->name, .checked = eopts->checked,
		.no_verify = eopts->no_verify,
	};
	struct sluice_error err = { 0 };

	if (!engine_known(eopts->name))
		return cli_usage(cli, command, "unknown engine '%s' (available: %s)",
				 eopts->name, engine_names());
	*out = (struct rtprog){ .path = path };
	out->obj = sluice_object_open(path, NULL, &err);
	if (!out->obj)
		return cli_fail(cli, "%s", err.msg);
	out->rt = sluice_rt_load(out->obj, &opts, &err);
	if (!out->rt) {
		rtprog_close(out);
		return cli_fail(cli, "%s: %s", path, err.msg);
	}
	out->prog = sluice_rt_find_prog(out->rt, prog);
	if (!out->prog) {
		rtprog_close(out);
		return cli_fail(cli, "%s: no program named '%s'", path, prog);
	}
	out->type = sluice_rt_prog_type(out->prog);
	return CLI_OK;
}

void rtprog_close(struct rtprog *p)
{
	sluice_rt_free(p->rt);
	sluice_object_close(p->obj);
	p->rt = NULL;
	p->obj = NULL;
	p->prog = NULL;
}

/* ---- verdicts ------------------------------------------------------------ */

struct verdict_name {
	const char *name;
	enum verdict_action action;
};

/* Indexed by the return value. */
static const struct verdict_name xdp_verdicts[] = {
	{ "XDP_ABORTED", VERDICT_DROP },
	{ "XDP_DROP", VERDICT_DROP },
	{ "XDP_PASS", VERDICT_PASS },
	{ "XDP_TX", VERDICT_TX },
	{ "XDP_REDIRECT", VERDICT_REDIRECT },
};

/*
 * Indexed by the return value + 1 (TC_ACT_UNSPEC is -1).  What
 * sch_handle_ingress does with each: the values it does not know, like
 * UNSPEC and PIPE, let the packet go on; STOLEN, QUEUED and TRAP consume it.
 */
static const struct verdict_name tc_verdicts[] = {
	{ "TC_ACT_UNSPEC", VERDICT_PASS },
	{ "TC_ACT_OK", VERDICT_PASS },
	{ "TC_ACT_RECLASSIFY", VERDICT_PASS },
	{ "TC_ACT_SHOT", VERDICT_DROP },
	{ "TC_ACT_PIPE", VERDICT_PASS },
	{ "TC_ACT_STOLEN", VERDICT_DROP },
	{ "TC_ACT_QUEUED", VERDICT_DROP },
	{ "TC_ACT_REPEAT", VERDICT_PASS },
	{ "TC_ACT_REDIRECT", VERDICT_REDIRECT },
	{ "TC_ACT_TRAP", VERDICT_DROP },
};

/* A socket filter's value is the bytes it keeps. */
static const struct verdict_name socket_verdicts[] = {
	{ "dropped", VERDICT_DROP },
	{ "kept", VERDICT_PASS },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct verdict_name *verdict_table(uint32_t prog_type, size_t *count)
{
	switch (prog_type) {
	case BPF_PROG_TYPE_XDP:
		*count = N(xdp_verdicts);
		return xdp_verdicts;
	case BPF_PROG_TYPE_SCHED_CLS:
	case BPF_PROG_TYPE_SCHED_ACT:
		*count = N(tc_verdicts);
		return tc_verdicts;
	case BPF_PROG_TYPE_SOCKET_FILTER:
		*count = N(socket_verdicts);
		return socket_verdicts;
	default:
		*count = 0;
		return NULL;
	}
}

int rtprog_require_packet_type(const struct cli *cli, const char *command,
			       const struct rtprog *p)
{
	const char *type = libbpf_bpf_prog_type_str(p->type);
	size_t count;

	if (verdict_table(p->type, &count))
		return CLI_OK;
	return cli_fail(cli, "%s: program '%s' is a %s program; %s takes xdp, sched_cls, sched_act and socket_filter programs",
			p->path, sluice_rt_prog_name(p->prog), type ? type : "unknown", command);
}

void verdict_of(uint32_t prog_type, uint32_t retval, struct verdict *v)
{
	size_t count, index = retval;
	const struct verdict_name *table = verdict_table(prog_type, &count);

	if (prog_type == BPF_PROG_TYPE_SCHED_CLS || prog_type == BPF_PROG_TYPE_SCHED_ACT)
		index = (size_t)((int64_t)(int32_t)retval + 1);
	else if (prog_type == BPF_PROG_TYPE_SOCKET_FILTER)
		index = retval != 0;
	if (index < count) {
		*v = (struct verdict){ table[index].name, table[index].action, (unsigned)index };
		return;
	}
	/* the kernel warns about a value it does not know and drops the packet */
	*v = (struct verdict){ "unknown", VERDICT_DROP, VERDICT_SLOTS - 1 };
}

void verdict_count(struct verdict_counts *c, const struct verdict *v)
{
	c->packets++;
	c->by_slot[v->slot]++;
}

void verdict_counts_print(const struct verdict_counts *c, struct json *j)
{
	size_t count;
	const struct verdict_name *table = verdict_table(c->prog_type, &count);

	if (j)
		json_object_begin(j, "verdicts");
	else
		printf("%llu packet%s\n", (unsigned long long)c->packets, c->packets == 1 ? "" : "s");
	for (size_t slot = 0; slot < VERDICT_SLOTS; slot++) {
		const char *name = slot < count ? table[slot].name : "unknown";

		if (!c->by_slot[slot])
			continue;
		if (j)
			json_u64(j, name, c->by_slot[slot]);
		else
			printf("  %-18s %llu\n", name, (unsigned long long)c->by_slot[slot]);
	}
	if (j)
		json_object_end(j);
}

/* ---- maps ------------------------------------------------------------------ */

void hex_string(const uint8_t *bytes, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 15];
	}
	out[2 * len] = '\0';
}

/* Room for a key or value as BTF shows it; longer ones are shown in hex. */
#define FORMATTED_ROOM 4096

/* How the summaries show one map's keys and values. */
struct element_view {
	const struct sluice_map_info *info;
	size_t full;                 /* bytes of a value: one per CPU for per-CPU maps */
	const struct sluice_btf *btf;
	uint32_t key_type, value_type;
	char *hex;                   /* room for the widest of key and value */
	char formatted[FORMATTED_ROOM];
};

/* The bytes as BTF shows them when it can, else in hex. */
static const char *shown(struct element_view *v, uint32_t type, const uint8_t *bytes, size_t len)
{
	if (btf_value_format(v->btf, type, bytes, len, v->formatted, sizeof(v->formatted)))
		return v->formatted;
	hex_string(bytes, len, v->hex);
	return v->hex;
}

static size_t cpu_stride(const struct element_view *v)
{
	bool percpu = v->full != v->info->value_size;

	return percpu ? v->full / (size_t)sluice_num_possible_cpus() : v->full;
}

/* "value", or for a per-CPU map "values" with each CPU's, in hex or as BTF shows them. */
static void json_values(struct json *j, struct element_view *v, const uint8_t *value, bool as_btf)
{
	bool percpu = v->full != v->info->value_size;
	size_t stride = cpu_stride(v);

	if (percpu)
		json_array_begin(j, as_btf ? "values_btf" : "values");
	for (size_t at = 0; at < v->full; at += stride) {
		const char *key = percpu ? NULL : as_btf ? "value_btf" : "value";

		if (as_btf) {
			json_string(j, key, shown(v, v->value_type, value + at, v->info->value_size));
		} else {
			hex_string(value + at, v->info->value_size, v->hex);
			json_string(j, key, v->hex);
		}
	}
	if (percpu)
		json_array_end(j);
}

/*
 * One element: JSON keeps the bytes in hex and adds what BTF makes of them
 * (key_btf, value_btf or values_btf); text shows the BTF form when there
 * is one.  Per-CPU maps show each CPU's value.
 */
static void print_element(struct json *j, struct element_view *v, const uint8_t *key,
			  const uint8_t *value)
{
	const struct sluice_map_info *info = v->info;

	if (!j) {
		printf("    %s:", info->key_size ? shown(v, v->key_type, key, info->key_size) : "-");
		for (size_t at = 0; at < v->full; at += cpu_stride(v))
			printf(" %s", shown(v, v->value_type, value + at, info->value_size));
		printf("\n");
		return;
	}
	json_object_begin(j, NULL);
	hex_string(key, info->key_size, v->hex);
	json_string(j, "key", v->hex);
	if (btf_value_format(v->btf, v->key_type, key, info->key_size, v->formatted,
			     sizeof(v->formatted)))
		json_string(j, "key_btf", v->formatted);
	json_values(j, v, value, false);
	if (btf_value_format(v->btf, v->value_type, value, info->value_size, v->formatted,
			     sizeof(v->formatted)))
		json_values(j, v, value, true);
	json_object_end(j);
}

/* The elements of a small map (its type has keys to walk). */
static void print_elements(struct json *j, struct sluice_map *map, struct element_view *v)
{
	const struct sluice_map_info *info = v->info;
	size_t widest = v->full > info->key_size ? v->full : info->key_size;
	uint8_t *key = malloc(info->key_size + 1), *next = malloc(info->key_size + 1);
	uint8_t *value = malloc(v->full + 1);
	int ret;

	v->hex = malloc(2 * widest + 1);
	ret = key && next && value && v->hex ? sluice_map_get_next_key(map, NULL, next, NULL)
					     : -ENOMEM;
	if (ret && ret != -ENOENT)
		goto out;
	if (j)
		json_array_begin(j, "elements");
	for (uint32_t steps = 0; !ret && steps++ < SUMMARY_MAX_ELEMS;
	     ret = sluice_map_get_next_key(map, key, next, NULL)) {
		memcpy(key, next, info->key_size);
		if (!sluice_map_lookup(map, key, value, 0, NULL))
			print_element(j, v, key, value);
	}
	if (j)
		json_array_end(j);
out:
	free(key);
	free(next);
	free(value);
	free(v->hex);
}

static bool has_elements(uint32_t type)
{
	switch (type) {
	case BPF_MAP_TYPE_RINGBUF:
	case BPF_MAP_TYPE_PERF_EVENT_ARRAY:
	case BPF_MAP_TYPE_QUEUE:
	case BPF_MAP_TYPE_STACK:
	case BPF_MAP_TYPE_STACK_TRACE:
		return false;
	default:
		return true;
	}
}

void map_summaries_print(const struct rtprog *p, struct json *j)
{
	size_t btf_size;
	const void *raw = sluice_object_btf_data(p->obj, &btf_size);
	/* without BTF (or with BTF that does not parse) keys and values stay hex */
	struct sluice_btf *btf = raw ? btf_parse(raw, btf_size, NULL, NULL) : NULL;
	struct element_view *view = malloc(sizeof(*view));

	if (j)
		json_array_begin(j, "maps");
	for (size_t i = 0; i < sluice_rt_map_count(p->rt); i++) {
		struct sluice_map *map = sluice_rt_map(p->rt, i);
		const char *name = sluice_object_map(p->obj, i)->name;
		struct sluice_map_info info;
		bool small;

		if (!map)
			continue; /* an inner map's template */
		sluice_map_get_info(map, &info);
		small = info.entries <= SUMMARY_MAX_ELEMS && has_elements(info.type);
		if (j) {
			json_object_begin(j, NULL);
			json_string(j, "name", name);
			json_string(j, "type", sluice_map_type_name(info.type));
			json_u64(j, "entries", info.entries);
			json_u64(j, "max_entries", info.max_entries);
		} else {
			printf("map %s (%s): %u of %u entries\n", name,
			       sluice_map_type_name(info.type), info.entries, info.max_entries);
		}
		if (small && view) {
			const struct sluice_map_def *def = sluice_object_map(p->obj, i);

			view->info = &info;
			view->full = sluice_map_value_size(map);
			view->btf = btf;
			view->key_type = def->btf_key_type_id;
			view->value_type = def->btf_value_type_id;
			print_elements(j, map, view);
		}
		if (j)
			json_object_end(j);
	}
	if (j)
		json_array_end(j);
	free(view);
	btf_free(btf);
}
