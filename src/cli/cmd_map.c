/* SPDX-License-Identifier: MIT */
/*
 * `sluice map`: the maps of running Sluice programs, and pinned ones, as
 * `bpftool map` shows the kernel's.
 *
 *   sluice map list
 *   sluice map dump MAP
 *   sluice map lookup MAP [key BYTES]
 *   sluice map update MAP [key BYTES] value BYTES [any|noexist|exist]
 *   sluice map delete MAP key BYTES
 *   sluice map create NAME type TYPE key N value N entries N [flags N] [inner MAP]
 *   sluice map remove MAP
 *
 * MAP is `id N`, `name NAME` or just NAME.  BYTES is `hex 0a 0b ...` (also
 * `hex 0a0b...`), or one byte per word as a C number (`10 0x0b 013`);
 * map-in-maps and program arrays also take `id N`.  A per-CPU map takes
 * either one value, for every CPU, or all of them.  Queues and stacks have
 * no key: update pushes, lookup peeks.  `create` makes a pinned map, which
 * stays until `remove`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bpf.h>

#include <sluice/maps.h>

#include "cli.h"
#include "files.h"
#include "json.h"

struct args {
	int argc;
	char **argv;
	int i;
};

static const char *peek(const struct args *a)
{
	return a->i < a->argc ? a->argv[a->i] : NULL;
}

static const char *next(struct args *a)
{
	return a->i < a->argc ? a->argv[a->i++] : NULL;
}

static bool accept(struct args *a, const char *word)
{
	if (!peek(a) || strcmp(peek(a), word))
		return false;
	a->i++;
	return true;
}

static bool parse_u32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	v = strtoul(s, &end, 0);
	if (*end || errno || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* ---- MAP --------------------------------------------------------------- */

struct by_name {
	const char *name;
	uint32_t ids[8];
	int n;
};

static int match_name(const struct sluice_map_info *info, void *ctx)
{
	struct by_name *b = ctx;

	if (!strcmp(info->name, b->name) && b->n++ < 8)
		b->ids[b->n - 1] = info->id;
	return 0;
}

static int open_map(const struct cli *cli, struct args *a, struct sluice_map **map)
{
	struct sluice_error err = { 0 };
	const char *word = next(a);
	struct by_name b = { 0 };
	uint32_t id;

	if (!word)
		return cli_usage(cli, "map", "expected a map: id N, name NAME or NAME");
	if (!strcmp(word, "id")) {
		if (!parse_u32(next(a), &id))
			return cli_usage(cli, "map", "id takes a number");
	} else {
		if (!strcmp(word, "name") && !(word = next(a)))
			return cli_usage(cli, "map", "name takes a map name");
		b.name = word;
		if (sluice_map_list(match_name, &b, &err))
			return cli_fail(cli, "%s", err.msg);
		if (b.n == 0)
			return cli_fail(cli, "no map named '%s' (sluice map list shows the live ones)",
					word);
		if (b.n > 1)
			return cli_fail(cli, "%d maps are named '%s' (ids %u, %u%s): say id N", b.n,
					word, b.ids[0], b.ids[1], b.n > 2 ? ", ..." : "");
		id = b.ids[0];
	}
	*map = sluice_map_open(id, &err);
	return *map ? CLI_OK : cli_fail(cli, "%s", err.msg);
}

/* ---- BYTES ----------------------------------------------------------------- */

static bool keyword(const char *word)
{
	static const char *const words[] = { "key", "value", "any", "noexist", "exist" };

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (!strcmp(word, words[i]))
			return true;
	return false;
}

static int append(uint8_t **buf, size_t *len, const uint8_t *bytes, size_t n)
{
	uint8_t *grown = realloc(*buf, *len + n);

	if (!grown)
		return -ENOMEM;
	memcpy(grown + *len, bytes, n);
	*buf = grown;
	*len += n;
	return 0;
}

/* BYTES after `key` or `value` (named by what), up to the next keyword; *buf is the caller's to free. */
static int parse_bytes(const struct cli *cli, struct args *a, const char *what, uint8_t **buf,
		       size_t *len)
{
	bool hex = accept(a, "hex");
	const char *word;
	uint32_t id;

	*len = 0;
	if (!hex && accept(a, "id")) {
		if (!parse_u32(next(a), &id))
			return cli_usage(cli, "map", "%s id takes a number", what);
		return append(buf, len, (uint8_t *)&id, sizeof(id)) ? cli_fail(cli, "out of memory")
								    : CLI_OK;
	}
	while ((word = peek(a)) && !keyword(word)) {
		struct sluice_error err = { 0 };
		uint8_t *bytes, byte;
		size_t n;
		uint32_t v;

		if (hex) {
			if (parse_hex_bytes(word, strlen(word), &bytes, &n, &err))
				return cli_usage(cli, "map", "%s: '%s': %s", what, word, err.msg);
		} else {
			if (!parse_u32(word, &v) || v > 255)
				return cli_usage(cli, "map",
						 "%s: '%s' is not a byte (or say hex first)", what,
						 word);
			byte = (uint8_t)v;
			bytes = &byte;
			n = 1;
		}
		if (append(buf, len, bytes, n))
			return cli_fail(cli, "out of memory");
		if (hex)
			free(bytes);
		a->i++;
	}
	return *len ? CLI_OK : cli_usage(cli, "map", "%s: expected bytes", what);
}

/* `key BYTES`, exactly key_size of them; a keyless map takes none (key NULL). */
static int parse_key(const struct cli *cli, struct args *a, const struct sluice_map_info *info,
		     bool required, uint8_t **key)
{
	size_t len;
	int ret;

	if (!accept(a, "key"))
		return required && info->key_size ? cli_usage(cli, "map", "expected key BYTES")
						  : CLI_OK;
	if (!info->key_size)
		return cli_fail(cli, "map '%s' is a %s: it has no keys", info->name,
				sluice_map_type_name(info->type));
	if ((ret = parse_bytes(cli, a, "key", key, &len)))
		return ret;
	if (len != info->key_size)
		return cli_fail(cli, "map '%s': keys are %u bytes, not %zu", info->name,
				info->key_size, len);
	return CLI_OK;
}

/* `value BYTES`: value_size of them, once for every CPU of a per-CPU map or all of them. */
static int parse_value(const struct cli *cli, struct args *a, struct sluice_map *map,
		       const struct sluice_map_info *info, uint8_t **value)
{
	size_t len, full = sluice_map_value_size(map);
	uint8_t *all;
	int ret;

	if (!accept(a, "value"))
		return cli_usage(cli, "map", "expected value BYTES");
	if ((ret = parse_bytes(cli, a, "value", value, &len)))
		return ret;
	if (len == full)
		return CLI_OK;
	if (len != info->value_size)
		return cli_fail(cli, "map '%s': values are %u bytes%s, not %zu", info->name,
				info->value_size,
				full != info->value_size ? " (or all CPUs' values)" : "", len);
	/* one per CPU, each padded to 8 bytes, as libbpf lays them out */
	all = calloc(1, full);
	if (!all)
		return cli_fail(cli, "out of memory");
	for (size_t at = 0; at < full; at += (full / (size_t)sluice_num_possible_cpus()))
		memcpy(all + at, *value, len);
	free(*value);
	*value = all;
	return CLI_OK;
}

/* ---- output ------------------------------------------------------------------ */

static void print_bytes(const uint8_t *b, size_t len)
{
	for (size_t i = 0; i < len; i++)
		printf(i ? " %02x" : "%02x", b[i]);
}

static void json_bytes(struct json *j, const char *key, const uint8_t *b, size_t len)
{
	json_array_begin(j, key);
	for (size_t i = 0; i < len; i++) {
		char s[5];

		snprintf(s, sizeof(s), "0x%02x", b[i]);
		json_string(j, NULL, s);
	}
	json_array_end(j);
}

/* One element, bpftool style: per-CPU maps show each CPU's value. */
static void print_entry(struct json *j, struct sluice_map *map,
			const struct sluice_map_info *info, const uint8_t *key,
			const uint8_t *value)
{
	size_t full = sluice_map_value_size(map);
	bool percpu = full != info->value_size;
	size_t stride = percpu ? full / (size_t)sluice_num_possible_cpus() : full;

	if (j) {
		json_object_begin(j, NULL);
		if (info->key_size)
			json_bytes(j, "key", key, info->key_size);
		if (!percpu) {
			json_bytes(j, "value", value, info->value_size);
		} else {
			json_array_begin(j, "values");
			for (size_t at = 0; at < full; at += stride) {
				json_object_begin(j, NULL);
				json_u64(j, "cpu", at / stride);
				json_bytes(j, "value", value + at, info->value_size);
				json_object_end(j);
			}
			json_array_end(j);
		}
		json_object_end(j);
		return;
	}
	if (info->key_size) {
		printf("key: ");
		print_bytes(key, info->key_size);
		printf(percpu ? "\n" : "  ");
	}
	if (!percpu) {
		printf("value: ");
		print_bytes(value, info->value_size);
		printf("\n");
	}
	for (size_t at = 0; percpu && at < full; at += stride) {
		printf("value (CPU %02zu): ", at / stride);
		print_bytes(value + at, info->value_size);
		printf("\n");
	}
}

static int print_info(const struct sluice_map_info *info, void *ctx)
{
	struct json *j = ctx;
	const char *type = sluice_map_type_name(info->type);

	if (j) {
		json_object_begin(j, NULL);
		json_u64(j, "id", info->id);
		json_string(j, "type", type);
		json_string(j, "name", info->name);
		json_u64(j, "flags", info->map_flags);
		json_u64(j, "key_size", info->key_size);
		json_u64(j, "value_size", info->value_size);
		json_u64(j, "max_entries", info->max_entries);
		json_u64(j, "entries", info->entries);
		json_i64(j, "owner_pid", info->owner_pid);
		json_bool(j, "pinned", !info->owner_pid);
		json_bool(j, "frozen", info->frozen);
		json_object_end(j);
		return 0;
	}
	printf("%u: %s  name %s  flags 0x%x  ", info->id, type, *info->name ? info->name : "-",
	       info->map_flags);
	if (info->owner_pid)
		printf("pid %d%s\n", info->owner_pid, info->frozen ? "  frozen" : "");
	else
		printf("pinned%s\n", info->frozen ? "  frozen" : "");
	printf("\tkey %uB  value %uB  max_entries %u  entries %u\n", info->key_size,
	       info->value_size, info->max_entries, info->entries);
	return 0;
}

static int done(const struct cli *cli, const struct sluice_map_info *info, const char *what)
{
	if (cli->json) {
		struct json *j = json_new(stdout);

		json_object_begin(j, NULL);
		json_u64(j, "id", info->id);
		json_string(j, "name", info->name);
		json_string(j, "result", what);
		json_object_end(j);
		json_free(j);
	}
	return CLI_OK;
}

/* ---- the subcommands ------------------------------------------------------------ */

static int map_list(const struct cli *cli, struct args *a)
{
	struct sluice_error err = { 0 };
	struct json *j = NULL;
	int ret;

	if (peek(a))
		return cli_usage(cli, "map", "list takes no arguments");
	if (cli->json) {
		j = json_new(stdout);
		json_object_begin(j, NULL);
		json_array_begin(j, "maps");
	}
	ret = sluice_map_list(print_info, j, &err);
	if (j) {
		json_array_end(j);
		if (ret)
			json_string(j, "error", err.msg);
		json_object_end(j);
		json_free(j);
	} else if (ret) {
		fprintf(stderr, "sluice: %s\n", err.msg);
	}
	return ret ? CLI_FAILED : CLI_OK;
}

static int map_dump(const struct cli *cli, struct sluice_map *map,
		    const struct sluice_map_info *info)
{
	uint8_t *key = malloc(info->key_size + 1), *next_key = malloc(info->key_size + 1);
	uint8_t *value = malloc(sluice_map_value_size(map) + 1);
	struct sluice_error err = { 0 };
	struct json *j = NULL;
	uint32_t found = 0, steps = 0;
	int ret;

	if (!key || !next_key || !value) {
		free(key);
		free(next_key);
		free(value);
		return cli_fail(cli, "out of memory");
	}
	ret = sluice_map_get_next_key(map, NULL, next_key, &err);
	if (ret && ret != -ENOENT) {
		free(key);
		free(next_key);
		free(value);
		return cli_fail(cli, "cannot walk map '%s': %s", info->name, err.msg);
	}
	if (cli->json) {
		j = json_new(stdout);
		json_object_begin(j, NULL);
		json_u64(j, "id", info->id);
		json_string(j, "name", info->name);
		json_array_begin(j, "entries");
	}
	/* a hash map that keeps changing could restart the walk forever: bound it */
	for (; !ret && steps++ <= info->max_entries;
	     ret = sluice_map_get_next_key(map, key, next_key, NULL)) {
		memcpy(key, next_key, info->key_size);
		if (sluice_map_lookup(map, key, value, 0, NULL))
			continue; /* gone since, or an empty slot of a prog array */
		print_entry(j, map, info, key, value);
		found++;
	}
	if (j) {
		json_array_end(j);
		json_u64(j, "found", found);
		json_object_end(j);
		json_free(j);
	} else {
		printf("Found %u element%s\n", found, found == 1 ? "" : "s");
	}
	free(key);
	free(next_key);
	free(value);
	return CLI_OK;
}

static int map_lookup(const struct cli *cli, struct args *a, struct sluice_map *map,
		      const struct sluice_map_info *info)
{
	uint8_t *key = NULL, *value = malloc(sluice_map_value_size(map) + 1);
	struct sluice_error err = { 0 };
	int ret = value ? parse_key(cli, a, info, true, &key) : cli_fail(cli, "out of memory");

	if (!ret && peek(a))
		ret = cli_usage(cli, "map", "unexpected '%s'", peek(a));
	if (!ret && sluice_map_lookup(map, key, value, 0, &err))
		ret = cli_fail(cli, "lookup in map '%s': %s", info->name, err.msg);
	if (!ret) {
		struct json *j = cli->json ? json_new(stdout) : NULL;

		print_entry(j, map, info, key, value);
		json_free(j);
	}
	free(key);
	free(value);
	return ret;
}

static int map_update(const struct cli *cli, struct args *a, struct sluice_map *map,
		      const struct sluice_map_info *info)
{
	uint8_t *key = NULL, *value = NULL;
	struct sluice_error err = { 0 };
	uint64_t flags = BPF_ANY;
	int ret = parse_key(cli, a, info, true, &key);

	if (!ret)
		ret = parse_value(cli, a, map, info, &value);
	if (accept(a, "noexist"))
		flags = BPF_NOEXIST;
	else if (accept(a, "exist"))
		flags = BPF_EXIST;
	else
		accept(a, "any");
	if (!ret && peek(a))
		ret = cli_usage(cli, "map", "unexpected '%s' (flags: any, noexist, exist)", peek(a));
	if (!ret && sluice_map_update(map, key, value, flags, &err))
		ret = cli_fail(cli, "update of map '%s': %s", info->name, err.msg);
	free(key);
	free(value);
	return ret ? ret : done(cli, info, "updated");
}

static int map_delete(const struct cli *cli, struct args *a, struct sluice_map *map,
		      const struct sluice_map_info *info)
{
	struct sluice_error err = { 0 };
	uint8_t *key = NULL;
	int ret = parse_key(cli, a, info, true, &key);

	if (!ret && peek(a))
		ret = cli_usage(cli, "map", "unexpected '%s'", peek(a));
	if (!ret && sluice_map_delete(map, key, &err))
		ret = cli_fail(cli, "delete from map '%s': %s", info->name, err.msg);
	free(key);
	return ret ? ret : done(cli, info, "deleted");
}

static int map_create(const struct cli *cli, struct args *a)
{
	struct sluice_map_attr attr = { .sz = sizeof(attr), .pinned = true };
	struct sluice_map *inner = NULL, *map;
	struct sluice_error err = { 0 };
	struct sluice_map_info info;
	const char *word;
	int type = -EINVAL, ret = CLI_OK;

	attr.name = next(a);
	if (!attr.name || keyword(attr.name))
		return cli_usage(cli, "map", "create takes a NAME first");
	while (!ret && (word = next(a))) {
		uint32_t *field = !strcmp(word, "key")	   ? &attr.key_size
				  : !strcmp(word, "value")   ? &attr.value_size
				  : !strcmp(word, "entries") ? &attr.max_entries
				  : !strcmp(word, "flags")   ? &attr.map_flags
							     : NULL;

		if (field) {
			if (!parse_u32(next(a), field))
				ret = cli_usage(cli, "map", "%s takes a number", word);
		} else if (!strcmp(word, "type")) {
			const char *name = next(a);

			type = name ? sluice_map_type_by_name(name) : -EINVAL;
			if (type < 0)
				ret = cli_usage(cli, "map", "unknown map type '%s'", name ? name : "");
		} else if (!strcmp(word, "inner") && !inner) {
			ret = open_map(cli, a, &inner);
		} else {
			ret = cli_usage(cli, "map", "unexpected '%s'", word);
		}
	}
	if (!ret && type < 0)
		ret = cli_usage(cli, "map", "create needs type TYPE (hash, array, lru_hash, ...)");
	if (ret) {
		sluice_map_close(inner);
		return ret;
	}
	attr.type = (uint32_t)type;
	attr.inner_map = inner;
	map = sluice_map_create(&attr, &err);
	sluice_map_close(inner);
	if (!map)
		return cli_fail(cli, "cannot create map '%s': %s", attr.name, err.msg);
	sluice_map_get_info(map, &info);
	sluice_map_close(map);
	if (!cli->json)
		printf("created pinned map %u '%s'\n", info.id, info.name);
	return done(cli, &info, "created");
}

int cmd_map(const struct cli *cli, int argc, char **argv)
{
	struct args a = { argc, argv, 1 };
	const char *verb = next(&a);
	struct sluice_error err = { 0 };
	struct sluice_map_info info;
	struct sluice_map *map;
	int ret;

	if (!verb)
		return cli_usage(cli, "map", "expected list, dump, lookup, update, delete, "
					     "create or remove");
	if (!strcmp(verb, "list"))
		return map_list(cli, &a);
	if (!strcmp(verb, "create"))
		return map_create(cli, &a);
	if (strcmp(verb, "dump") && strcmp(verb, "lookup") && strcmp(verb, "update") &&
	    strcmp(verb, "delete") && strcmp(verb, "remove"))
		return cli_usage(cli, "map", "unknown map command '%s'", verb);
	if ((ret = open_map(cli, &a, &map)))
		return ret;
	sluice_map_get_info(map, &info);
	if (!strcmp(verb, "dump"))
		ret = peek(&a) ? cli_usage(cli, "map", "unexpected '%s'", peek(&a))
			       : map_dump(cli, map, &info);
	else if (!strcmp(verb, "lookup"))
		ret = map_lookup(cli, &a, map, &info);
	else if (!strcmp(verb, "update"))
		ret = map_update(cli, &a, map, &info);
	else if (!strcmp(verb, "delete"))
		ret = map_delete(cli, &a, map, &info);
	sluice_map_close(map);
	if (!strcmp(verb, "remove"))
		ret = sluice_map_remove(info.id, &err) ? cli_fail(cli, "%s", err.msg)
						       : done(cli, &info, "removed");
	return ret;
}
