/* SPDX-License-Identifier: MIT */
/*
 * The policy as bit masks (see security/sec.h).  An LPM trie answers with
 * its longest matching prefix only, so each entry's value is closed over
 * its prefixes: the rules of every shorter entry that is a prefix of it
 * are ORed in, and the one longest match carries all the rules that match.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <bpf/bpf.h>

#include <sluice/kernel.h>

#include "errmsg.h"
#include "security/compile.h"

/* One trie's entries: key bytes and prefix length in bits, with their rules. */
struct entry {
	uint8_t key[SEC_PATH_MAX];
	uint32_t bits;
	uint64_t rules;
};

struct trie {
	struct entry *v;
	size_t n;
};

static int add(struct trie *t, const void *key, size_t key_len, uint32_t bits, size_t rule,
	       struct sluice_error *err)
{
	struct entry *grown;

	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].bits == bits && !memcmp(t->v[i].key, key, key_len)) {
			t->v[i].rules |= 1ull << rule;
			return 0;
		}
	grown = realloc(t->v, (t->n + 1) * sizeof(*t->v));
	if (!grown)
		return sluice_fail(err, ENOMEM, "out of memory");
	t->v = grown;
	memset(&t->v[t->n], 0, sizeof(t->v[t->n]));
	memcpy(t->v[t->n].key, key, key_len);
	t->v[t->n].bits = bits;
	t->v[t->n].rules = 1ull << rule;
	t->n++;
	return 0;
}

/* Whether the first bits of a and b agree. */
static int same_prefix(const uint8_t *a, const uint8_t *b, uint32_t bits)
{
	uint32_t bytes = bits / 8, rest = bits % 8;

	if (memcmp(a, b, bytes))
		return 0;
	return !rest || !((a[bytes] ^ b[bytes]) & (uint8_t)(0xff << (8 - rest)));
}

/* Close each entry over its prefixes, then write it as the map's key layout says. */
static int write_trie(const struct sec_map_writer *w, const char *map, struct trie *t,
		      size_t key_len, struct sluice_error *err)
{
	int ret = 0;

	for (size_t i = 0; !ret && i < t->n; i++) {
		struct {
			uint32_t prefixlen;
			uint8_t data[SEC_PATH_MAX];
		} key = { .prefixlen = t->v[i].bits };
		uint64_t rules = 0;

		for (size_t j = 0; j < t->n; j++)
			if (t->v[j].bits <= t->v[i].bits &&
			    same_prefix(t->v[j].key, t->v[i].key, t->v[j].bits))
				rules |= t->v[j].rules;
		memcpy(key.data, t->v[i].key, key_len);
		ret = w->update(w->ctx, map, &key, &rules, err);
	}
	free(t->v);
	t->v = NULL;
	t->n = 0;
	return ret;
}

/* Paths: an exact path's key includes its NUL, a prefix's stops before it. */
static int add_paths(struct trie *t, const struct sec_strings *s, int exact, size_t rule,
		     struct sluice_error *err)
{
	for (size_t i = 0; i < s->n; i++) {
		size_t len = strlen(s->v[i]) + (exact ? 1 : 0);
		int ret = add(t, s->v[i], len, (uint32_t)len * 8, rule, err);

		if (ret)
			return ret;
	}
	return 0;
}

/* A hash of fixed-size keys (arguments, ports): rules ORed per key. */
static int write_hash(const struct sec_map_writer *w, const char *map, struct trie *t,
		      struct sluice_error *err)
{
	int ret = 0;

	for (size_t i = 0; !ret && i < t->n; i++)
		ret = w->update(w->ctx, map, t->v[i].key, &t->v[i].rules, err);
	free(t->v);
	t->v = NULL;
	t->n = 0;
	return ret;
}

int sec_policy_compile(const struct sec_policy *p, uint32_t agent_tgid,
		       const struct sec_map_writer *w, struct sluice_error *err)
{
	struct trie binaries = { 0 }, parents = { 0 }, files = { 0 }, args = { 0 }, ip4 = { 0 },
		    ip6 = { 0 }, ports = { 0 };
	struct sec_config cfg = { .agent_tgid = agent_tgid };
	uint32_t zero = 0;
	int ret = 0;

	for (size_t i = 0; !ret && i < p->nrules; i++) {
		const struct sec_rule *r = &p->rules[i];
		uint64_t bit = 1ull << i;

		cfg.action_rules[r->action] |= bit;
		switch (r->kind) {
		case SEC_KIND_EXEC:
			cfg.exec_rules |= bit;
			if (r->binary.n || r->binary_prefix.n)
				cfg.need_binary |= bit;
			if (r->parent.n || r->parent_prefix.n)
				cfg.need_parent |= bit;
			if (r->args.n)
				cfg.need_args |= bit;
			ret = add_paths(&binaries, &r->binary, 1, i, err);
			if (!ret)
				ret = add_paths(&binaries, &r->binary_prefix, 0, i, err);
			if (!ret)
				ret = add_paths(&parents, &r->parent, 1, i, err);
			if (!ret)
				ret = add_paths(&parents, &r->parent_prefix, 0, i, err);
			for (size_t a = 0; !ret && a < r->args.n; a++) {
				char key[SEC_ARG_MAX] = { 0 };

				strncpy(key, r->args.v[a], sizeof(key) - 1);
				ret = add(&args, key, sizeof(key), 0, i, err);
			}
			break;
		case SEC_KIND_FILE:
			cfg.file_rules |= bit;
			cfg.need_path |= bit;
			if (r->write_only)
				cfg.write_only |= bit;
			ret = add_paths(&files, &r->path, 1, i, err);
			if (!ret)
				ret = add_paths(&files, &r->path_prefix, 0, i, err);
			break;
		case SEC_KIND_CONNECT:
			cfg.connect_rules |= bit;
			if (r->ncidrs)
				cfg.need_cidr |= bit;
			if (r->nports)
				cfg.need_port |= bit;
			if (r->protocols & (1u << SEC_PROTO_TCP))
				cfg.tcp_rules |= bit;
			if (r->protocols & (1u << SEC_PROTO_UDP))
				cfg.udp_rules |= bit;
			for (size_t c = 0; !ret && c < r->ncidrs; c++) {
				const struct sec_cidr *cidr = &r->cidrs[c];

				ret = add(cidr->family == AF_INET ? &ip4 : &ip6, cidr->addr,
					  cidr->family == AF_INET ? 4 : 16, cidr->prefix_len, i,
					  err);
			}
			for (size_t k = 0; !ret && k < r->nports; k++) {
				uint32_t port = r->ports[k];

				ret = add(&ports, &port, sizeof(port), 0, i, err);
			}
			break;
		}
	}
	if (!ret)
		ret = write_trie(w, "sec_binaries", &binaries, SEC_PATH_MAX, err);
	if (!ret)
		ret = write_trie(w, "sec_parents", &parents, SEC_PATH_MAX, err);
	if (!ret)
		ret = write_trie(w, "sec_files", &files, SEC_PATH_MAX, err);
	if (!ret)
		ret = write_trie(w, "sec_ip4", &ip4, 4, err);
	if (!ret)
		ret = write_trie(w, "sec_ip6", &ip6, 16, err);
	if (!ret)
		ret = write_hash(w, "sec_args", &args, err);
	if (!ret)
		ret = write_hash(w, "sec_ports", &ports, err);
	/* the configuration last: until it is there the programs match nothing */
	if (!ret)
		ret = w->update(w->ctx, "sec_config", &zero, &cfg, err);
	free(binaries.v), free(parents.v), free(files.v), free(args.v);
	free(ip4.v), free(ip6.v), free(ports.v);
	return ret;
}

int sec_kernel_map_update(void *ctx, const char *map, const void *key, const void *value,
			  struct sluice_error *err)
{
	struct sluice_kernel_object *obj = ctx;

	for (size_t i = 0; i < sluice_kernel_map_count(obj); i++) {
		int fd;

		if (strcmp(sluice_kernel_map_name(obj, i), map))
			continue;
		fd = sluice_kernel_map_fd(obj, i, err);
		if (fd < 0)
			return fd;
		if (bpf_map_update_elem(fd, key, value, BPF_ANY))
			return sluice_fail(err, errno, "map %s: %s", map, strerror(errno));
		return 0;
	}
	return sluice_fail(err, ENOENT, "the object has no map '%s'", map);
}
