/* SPDX-License-Identifier: MIT */
/*
 * Security policies through libyaml's document API: the file is loaded as
 * a node tree (which keeps line numbers), then read field by field; a
 * field the format does not know is an error, not ignored, so that a typo
 * never turns a rule into one that matches more than was meant.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <yaml.h>

#include "errmsg.h"
#include "security/policy.h"

#define RULE_NAME_MAX 63

struct reader {
	yaml_document_t *doc;
	const char *file;
	const char *rule;   /* the rule being read, "" outside rules */
	struct sluice_error *err;
};

static int fail_at(struct reader *r, const yaml_node_t *node, const char *field,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail_at(struct reader *r, const yaml_node_t *node, const char *field,
		   const char *fmt, ...)
{
	char msg[SLUICE_ERRMSG_MAX], rule[RULE_NAME_MAX + 16] = "";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (*r->rule)
		snprintf(rule, sizeof(rule), " rule '%s':", r->rule);
	return sluice_fail(r->err, EINVAL, "%s:%zu:%s %s%s%s", r->file,
			   node ? node->start_mark.line + 1 : 1, rule, field, *field ? ": " : "",
			   msg);
}

/* The same about element i of the list at seq, on that element's line. */
static int fail_item(struct reader *r, const yaml_node_t *seq, const char *field, size_t i,
		     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int fail_item(struct reader *r, const yaml_node_t *seq, const char *field, size_t i,
		     const char *fmt, ...)
{
	const yaml_node_t *item = yaml_document_get_node(r->doc, seq->data.sequence.items.start[i]);
	char msg[SLUICE_ERRMSG_MAX], where[80];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(where, sizeof(where), "%s[%zu]", field, i);
	return fail_at(r, item, where, "%s", msg);
}

static const char *scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static yaml_node_t *node(struct reader *r, int id)
{
	return yaml_document_get_node(r->doc, id);
}

/* Every key of a mapping must be one of known (NULL-terminated). */
static int check_keys(struct reader *r, const yaml_node_t *map, const char *parent,
		      const char *const *known)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node(r, p->key);
		size_t i;

		if (k->type != YAML_SCALAR_NODE)
			return fail_at(r, k, parent, "a key must be a string");
		for (i = 0; known[i]; i++)
			if (!strcmp(scalar(k), known[i]))
				break;
		if (!known[i]) {
			char list[256] = "";

			for (i = 0; known[i]; i++)
				snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
					 i ? ", " : "", known[i]);
			return fail_at(r, k, parent, "unknown field '%s' (known: %s)", scalar(k),
				       list);
		}
	}
	return 0;
}

static yaml_node_t *map_get(struct reader *r, const yaml_node_t *map, const char *key)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node(r, p->key);

		if (k->type == YAML_SCALAR_NODE && !strcmp(scalar(k), key))
			return node(r, p->value);
	}
	return NULL;
}

static int expect(struct reader *r, const yaml_node_t *n, yaml_node_type_t type,
		  const char *field)
{
	static const char *const names[] = {
		[YAML_SCALAR_NODE] = "a scalar",
		[YAML_SEQUENCE_NODE] = "a list",
		[YAML_MAPPING_NODE] = "a mapping",
	};

	if (n->type == type)
		return 0;
	return fail_at(r, n, field, "expected %s, got %s", names[type],
		       n->type <= YAML_MAPPING_NODE && names[n->type] ? names[n->type] : "nothing");
}

/* A scalar, or a list of scalars, as strings; each checked by check (NULL: none). */
typedef const char *(*string_check)(const char *s);

static int get_strings(struct reader *r, const yaml_node_t *map, const char *parent,
		       const char *key, string_check check, struct sec_strings *out)
{
	yaml_node_t *v = map_get(r, map, key);
	char field[64], item[80];
	int ret;

	snprintf(field, sizeof(field), "%s.%s", parent, key);
	if (!v)
		return 0;
	ret = expect(r, v, YAML_SEQUENCE_NODE, field);
	if (ret)
		return ret;
	if (v->data.sequence.items.start == v->data.sequence.items.top)
		return fail_at(r, v, field, "empty list");
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	     it++) {
		yaml_node_t *s = node(r, *it);
		const char *why;
		char **grown;

		snprintf(item, sizeof(item), "%s[%zu]", field,
			 (size_t)(it - v->data.sequence.items.start));
		ret = expect(r, s, YAML_SCALAR_NODE, item);
		if (ret)
			return ret;
		why = check ? check(scalar(s)) : NULL;
		if (why)
			return fail_at(r, s, item, "'%s' %s", scalar(s), why);
		grown = realloc(out->v, (out->n + 1) * sizeof(*out->v));
		if (!grown)
			return sluice_fail(r->err, ENOMEM, "out of memory");
		out->v = grown;
		out->v[out->n] = strdup(scalar(s));
		if (!out->v[out->n])
			return sluice_fail(r->err, ENOMEM, "out of memory");
		out->n++;
	}
	return 0;
}

static void free_strings(struct sec_strings *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
}

static const char *check_path(const char *s)
{
	if (s[0] != '/')
		return "must be an absolute path";
	if (strlen(s) >= SEC_PATH_MAX)
		return "is longer than 255 bytes, the most a path key holds";
	return NULL;
}

static const char *check_arg(const char *s)
{
	if (!*s)
		return "is empty";
	if (strlen(s) >= SEC_ARG_MAX)
		return "is longer than 63 bytes, the most an argument key holds";
	return NULL;
}

static int read_exec(struct reader *r, const yaml_node_t *m, struct sec_rule *rule)
{
	static const char *const known[] = { "binary", "binaryPrefix", "parent", "parentPrefix",
					     "args", NULL };
	int ret = check_keys(r, m, "exec", known);

	if (!ret)
		ret = get_strings(r, m, "exec", "binary", check_path, &rule->binary);
	if (!ret)
		ret = get_strings(r, m, "exec", "binaryPrefix", check_path, &rule->binary_prefix);
	if (!ret)
		ret = get_strings(r, m, "exec", "parent", check_path, &rule->parent);
	if (!ret)
		ret = get_strings(r, m, "exec", "parentPrefix", check_path, &rule->parent_prefix);
	if (!ret)
		ret = get_strings(r, m, "exec", "args", check_arg, &rule->args);
	return ret;
}

static int read_file(struct reader *r, const yaml_node_t *m, struct sec_rule *rule)
{
	static const char *const known[] = { "path", "pathPrefix", "operations", NULL };
	struct sec_strings ops = { 0 };
	int ret = check_keys(r, m, "file", known);

	if (!ret)
		ret = get_strings(r, m, "file", "path", check_path, &rule->path);
	if (!ret)
		ret = get_strings(r, m, "file", "pathPrefix", check_path, &rule->path_prefix);
	if (!ret && !rule->path.n && !rule->path_prefix.n)
		ret = fail_at(r, m, "file", "needs path or pathPrefix (a rule on every open "
			      "would report the whole system)");
	if (!ret)
		ret = get_strings(r, m, "file", "operations", NULL, &ops);
	/* "open" is every open, "write" only those that may change the file */
	rule->write_only = ops.n > 0;
	for (size_t i = 0; !ret && i < ops.n; i++) {
		if (!strcmp(ops.v[i], "open"))
			rule->write_only = false;
		else if (strcmp(ops.v[i], "write"))
			ret = fail_item(r, map_get(r, m, "operations"), "file.operations", i,
					"'%s' is not an operation (open, write)", ops.v[i]);
	}
	free_strings(&ops);
	return ret;
}

static int parse_cidr(const char *s, struct sec_cidr *c)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t len = slash ? (size_t)(slash - s) : strlen(s);
	int max;
	char *end;
	long bits;

	if (len >= sizeof(addr))
		return -1;
	memcpy(addr, s, len);
	addr[len] = '\0';
	memset(c->addr, 0, sizeof(c->addr));
	if (inet_pton(AF_INET, addr, c->addr) == 1)
		c->family = AF_INET, max = 32;
	else if (inet_pton(AF_INET6, addr, c->addr) == 1)
		c->family = AF_INET6, max = 128;
	else
		return -1;
	bits = max;
	if (slash) {
		bits = strtol(slash + 1, &end, 10);
		if (!slash[1] || *end || bits < 0 || bits > max)
			return -1;
	}
	c->prefix_len = (uint8_t)bits;
	for (int b = (int)bits; b < max; b++)
		c->addr[b / 8] &= (uint8_t)~(0x80 >> (b % 8));
	return 0;
}

static int read_connect(struct reader *r, const yaml_node_t *m, struct sec_rule *rule)
{
	static const char *const known[] = { "cidr", "ports", "protocol", NULL };
	struct sec_strings cidrs = { 0 }, ports = { 0 }, protos = { 0 };
	int ret = check_keys(r, m, "connect", known);

	if (!ret)
		ret = get_strings(r, m, "connect", "cidr", NULL, &cidrs);
	if (!ret && cidrs.n) {
		rule->cidrs = calloc(cidrs.n, sizeof(*rule->cidrs));
		if (!rule->cidrs)
			ret = sluice_fail(r->err, ENOMEM, "out of memory");
	}
	for (size_t i = 0; !ret && i < cidrs.n; i++, rule->ncidrs++)
		if (parse_cidr(cidrs.v[i], &rule->cidrs[i]))
			ret = fail_item(r, map_get(r, m, "cidr"), "connect.cidr", i,
					"'%s' is not an IPv4 or IPv6 address or CIDR", cidrs.v[i]);
	if (!ret)
		ret = get_strings(r, m, "connect", "ports", NULL, &ports);
	if (!ret && ports.n) {
		rule->ports = calloc(ports.n, sizeof(*rule->ports));
		if (!rule->ports)
			ret = sluice_fail(r->err, ENOMEM, "out of memory");
	}
	for (size_t i = 0; !ret && i < ports.n; i++) {
		char *end;
		long port = strtol(ports.v[i], &end, 10);

		if (!*ports.v[i] || *end || port < 1 || port > 65535)
			ret = fail_item(r, map_get(r, m, "ports"), "connect.ports", i,
					"'%s' is not a port (1-65535)", ports.v[i]);
		else
			rule->ports[rule->nports++] = (uint16_t)port;
	}
	if (!ret)
		ret = get_strings(r, m, "connect", "protocol", NULL, &protos);
	rule->protocols = protos.n ? 0 : (1u << SEC_PROTO_TCP) | (1u << SEC_PROTO_UDP);
	for (size_t i = 0; !ret && i < protos.n; i++) {
		if (!strcmp(protos.v[i], "tcp"))
			rule->protocols |= 1u << SEC_PROTO_TCP;
		else if (!strcmp(protos.v[i], "udp"))
			rule->protocols |= 1u << SEC_PROTO_UDP;
		else
			ret = fail_item(r, map_get(r, m, "protocol"), "connect.protocol", i,
					"'%s' is not a protocol (tcp, udp)", protos.v[i]);
	}
	free_strings(&cidrs);
	free_strings(&ports);
	free_strings(&protos);
	return ret;
}

static const char *const action_names[] = {
	[SEC_ACTION_LOG] = "log", [SEC_ACTION_DENY] = "deny", [SEC_ACTION_KILL] = "kill",
};

static const char *const kind_names[] = {
	[SEC_KIND_EXEC] = "exec", [SEC_KIND_FILE] = "file", [SEC_KIND_CONNECT] = "connect",
};

static int read_rule(struct reader *r, const yaml_node_t *m, struct sec_policy *p, size_t index)
{
	static const char *const known[] = { "name", "exec", "file", "connect", "action",
					     "description", NULL };
	struct sec_rule *rule = &p->rules[index];
	yaml_node_t *name, *action, *sel = NULL;
	char field[48];
	int ret;

	snprintf(field, sizeof(field), "spec.rules[%zu]", index);
	ret = expect(r, m, YAML_MAPPING_NODE, field);
	if (ret)
		return ret;
	name = map_get(r, m, "name");
	action = map_get(r, m, "action");
	if (!name || name->type != YAML_SCALAR_NODE || !*scalar(name))
		return fail_at(r, name ? name : m, field, "every rule needs a name");
	if (strlen(scalar(name)) > RULE_NAME_MAX)
		return fail_at(r, name, field, "name longer than %d characters", RULE_NAME_MAX);
	for (size_t i = 0; i < index; i++)
		if (!strcmp(p->rules[i].name, scalar(name)))
			return fail_at(r, name, field, "name '%s' is already rule %zu's", scalar(name),
				       i);
	rule->name = strdup(scalar(name));
	if (!rule->name)
		return sluice_fail(r->err, ENOMEM, "out of memory");
	r->rule = rule->name;
	ret = check_keys(r, m, "", known);
	if (ret)
		return ret;
	for (uint32_t k = SEC_KIND_EXEC; k <= SEC_KIND_CONNECT; k++) {
		yaml_node_t *v = map_get(r, m, kind_names[k]);

		if (!v)
			continue;
		if (sel)
			return fail_at(r, v, kind_names[k], "a rule matches one of exec, file or "
				       "connect, this one also has %s", kind_names[rule->kind]);
		sel = v;
		rule->kind = k;
	}
	if (!sel)
		return fail_at(r, m, "", "needs one of exec, file or connect");
	ret = expect(r, sel, YAML_MAPPING_NODE, kind_names[rule->kind]);
	if (ret)
		return ret;
	if (!action)
		return fail_at(r, m, "action", "required field is missing (log, deny or kill)");
	ret = expect(r, action, YAML_SCALAR_NODE, "action");
	if (ret)
		return ret;
	for (uint32_t a = SEC_ACTION_LOG; a <= SEC_ACTION_KILL; a++)
		if (!strcmp(scalar(action), action_names[a]))
			rule->action = a;
	if (!rule->action)
		return fail_at(r, action, "action", "'%s' is not an action (log, deny, kill)",
			       scalar(action));
	if (rule->kind == SEC_KIND_EXEC)
		return read_exec(r, sel, rule);
	if (rule->kind == SEC_KIND_FILE)
		return read_file(r, sel, rule);
	return read_connect(r, sel, rule);
}

static int read_policy(struct reader *r, struct sec_policy *p)
{
	static const char *const known_top[] = { "apiVersion", "kind", "metadata", "spec", NULL };
	static const char *const known_spec[] = { "rules", NULL };
	yaml_node_t *root = yaml_document_get_root_node(r->doc), *v, *spec, *rules;
	int ret;

	if (!root)
		return fail_at(r, NULL, "", "empty document");
	ret = expect(r, root, YAML_MAPPING_NODE, "the document");
	if (!ret)
		ret = check_keys(r, root, "", known_top);
	if (ret)
		return ret;
	v = map_get(r, root, "kind");
	if (!v || v->type != YAML_SCALAR_NODE || strcmp(scalar(v), "SecurityPolicy"))
		return fail_at(r, v ? v : root, "kind", "must be SecurityPolicy");
	v = map_get(r, root, "apiVersion");
	if (!v || v->type != YAML_SCALAR_NODE || strcmp(scalar(v), "sluice.io/v1alpha1"))
		return fail_at(r, v ? v : root, "apiVersion", "must be sluice.io/v1alpha1");
	v = map_get(r, root, "metadata");
	v = v && v->type == YAML_MAPPING_NODE ? map_get(r, v, "name") : NULL;
	if (!v || v->type != YAML_SCALAR_NODE || !*scalar(v))
		return fail_at(r, root, "metadata.name", "required field is missing");
	p->name = strdup(scalar(v));
	spec = map_get(r, root, "spec");
	if (!spec)
		return fail_at(r, root, "spec", "required field is missing");
	ret = expect(r, spec, YAML_MAPPING_NODE, "spec");
	if (!ret)
		ret = check_keys(r, spec, "spec", known_spec);
	if (ret)
		return ret;
	rules = map_get(r, spec, "rules");
	if (!rules)
		return fail_at(r, spec, "spec.rules", "required field is missing");
	ret = expect(r, rules, YAML_SEQUENCE_NODE, "spec.rules");
	if (ret)
		return ret;
	p->nrules = (size_t)(rules->data.sequence.items.top - rules->data.sequence.items.start);
	if (!p->nrules || p->nrules > SEC_RULES_MAX)
		return fail_at(r, rules, "spec.rules", "%zu rules: between 1 and %d", p->nrules,
			       SEC_RULES_MAX);
	p->rules = calloc(p->nrules, sizeof(*p->rules));
	if (!p->name || !p->rules)
		return sluice_fail(r->err, ENOMEM, "out of memory");
	for (size_t i = 0; i < p->nrules; i++) {
		r->rule = "";
		ret = read_rule(r, node(r, rules->data.sequence.items.start[i]), p, i);
		if (ret)
			return ret;
	}
	return 0;
}

int sec_policy_parse(const char *text, size_t size, const char *file, struct sec_policy **out,
		     struct sluice_error *err)
{
	struct sec_policy *p = calloc(1, sizeof(*p));
	struct reader r = { .file = file, .rule = "", .err = err };
	yaml_parser_t parser;
	yaml_document_t doc;
	int ret;

	*out = NULL;
	if (!p)
		return sluice_fail(err, ENOMEM, "out of memory");
	if (!yaml_parser_initialize(&parser)) {
		free(p);
		return sluice_fail(err, ENOMEM, "out of memory");
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, size);
	if (!yaml_parser_load(&parser, &doc)) {
		ret = sluice_fail(err, EINVAL, "%s:%zu: %s", file, parser.problem_mark.line + 1,
				  parser.problem ? parser.problem : "not YAML");
		yaml_parser_delete(&parser);
		free(p);
		return ret;
	}
	r.doc = &doc;
	ret = read_policy(&r, p);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (ret) {
		sec_policy_free(p);
		return ret;
	}
	*out = p;
	return 0;
}

int sec_policy_load(const char *path, struct sec_policy **out, struct sluice_error *err)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t size = 0;
	long len;
	int ret;

	*out = NULL;
	if (!f)
		return sluice_fail(err, errno, "%s: %s", path, strerror(errno));
	if (fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		ret = sluice_fail(err, errno, "%s: %s", path, strerror(errno));
		fclose(f);
		return ret;
	}
	text = malloc((size_t)len + 1);
	if (!text) {
		fclose(f);
		return sluice_fail(err, ENOMEM, "out of memory");
	}
	size = fread(text, 1, (size_t)len, f);
	fclose(f);
	ret = sec_policy_parse(text, size, path, out, err);
	free(text);
	return ret;
}

void sec_policy_free(struct sec_policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; p->rules && i < p->nrules; i++) {
		struct sec_rule *r = &p->rules[i];
		struct sec_strings *lists[] = { &r->binary, &r->binary_prefix, &r->parent,
						&r->parent_prefix, &r->args, &r->path,
						&r->path_prefix };

		for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++)
			free_strings(lists[l]);
		free(r->name);
		free(r->cidrs);
		free(r->ports);
	}
	free(p->rules);
	free(p->name);
	free(p);
}

const char *sec_kind_name(uint32_t kind)
{
	return kind >= SEC_KIND_EXEC && kind <= SEC_KIND_CONNECT ? kind_names[kind] : "?";
}

const char *sec_action_name(uint32_t action)
{
	return action >= SEC_ACTION_LOG && action <= SEC_ACTION_KILL ? action_names[action] : "?";
}

const char *sec_taken_name(uint32_t taken)
{
	static const char *const names[] = {
		[SEC_TAKEN_LOGGED] = "logged", [SEC_TAKEN_DENIED] = "denied",
		[SEC_TAKEN_KILLED] = "killed", [SEC_TAKEN_DENIED_KILLED] = "denied+killed",
	};

	return taken >= SEC_TAKEN_LOGGED && taken <= SEC_TAKEN_DENIED_KILLED ? names[taken] : "?";
}
