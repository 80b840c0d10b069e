/* SPDX-License-Identifier: MIT */
/*
 * The policy matcher, compiled into both the kernel's programs (kern.c)
 * and the one Sluice's user-space runtime runs for `sluice exec`
 * (user.c): the same maps, filled by the same compiler
 * (src/security/compile.c), and the same function deciding.
 */
#ifndef SLUICE_SECURITY_MATCH_H
#define SLUICE_SECURITY_MATCH_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "sec.h"

#define SEC_LPM_ENTRIES 1024

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sec_config);
} sec_config SEC(".maps");

/* path -> the rules whose paths it starts with (or equals) */
#define SEC_PATH_TRIE(name)                                  \
	struct {                                             \
		__uint(type, BPF_MAP_TYPE_LPM_TRIE);         \
		__uint(max_entries, SEC_LPM_ENTRIES);        \
		__uint(map_flags, BPF_F_NO_PREALLOC);        \
		__type(key, struct sec_path_key);            \
		__type(value, __u64);                        \
	} name SEC(".maps")

SEC_PATH_TRIE(sec_binaries);
SEC_PATH_TRIE(sec_parents);
SEC_PATH_TRIE(sec_files);

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SEC_LPM_ENTRIES);
	__type(key, char[SEC_ARG_MAX]);
	__type(value, __u64);
} sec_args SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, SEC_LPM_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct sec_ip4_key);
	__type(value, __u64);
} sec_ip4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, SEC_LPM_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct sec_ip6_key);
	__type(value, __u64);
} sec_ip6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SEC_LPM_ENTRIES);
	__type(key, __u32);
	__type(value, __u64);
} sec_ports SEC(".maps");

/* Room for one event per CPU: too big for the 512-byte stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sec_event);
} sec_scratch SEC(".maps");

static __always_inline __u64 sec_lookup(void *map, const void *key)
{
	__u64 *rules = bpf_map_lookup_elem(map, key);

	return rules ? *rules : 0;
}

static __always_inline __u64 sec_match_exec(struct sec_query *q, const struct sec_config *cfg)
{
	__u64 args = 0;

	for (__u32 i = 0; i < SEC_ARGS_MAX; i++) {
		if (i >= q->nargs)
			break;
		args |= sec_lookup(&sec_args, q->args[i]);
	}
	return cfg->exec_rules &
	       (sec_lookup(&sec_binaries, &q->path) | ~cfg->need_binary) &
	       (sec_lookup(&sec_parents, &q->parent) | ~cfg->need_parent) &
	       (args | ~cfg->need_args);
}

static __always_inline __u64 sec_match_file(struct sec_query *q, const struct sec_config *cfg)
{
	return cfg->file_rules & (sec_lookup(&sec_files, &q->path) | ~cfg->need_path) &
	       (q->write ? ~0ull : ~cfg->write_only);
}

static __always_inline __u64 sec_match_connect(struct sec_query *q, const struct sec_config *cfg)
{
	__u64 cidr = 0, proto = cfg->tcp_rules | cfg->udp_rules;
	__u32 port = q->port;

	if (q->family == 2 /* AF_INET */) {
		struct sec_ip4_key k = { .prefixlen = 32 };

		__builtin_memcpy(k.addr, q->addr, 4);
		cidr = sec_lookup(&sec_ip4, &k);
	} else {
		struct sec_ip6_key k = { .prefixlen = 128 };

		__builtin_memcpy(k.addr, q->addr, 16);
		cidr = sec_lookup(&sec_ip6, &k);
	}
	/* a protocol the caller could not tell matches every rule */
	if (q->proto == SEC_PROTO_TCP)
		proto = cfg->tcp_rules;
	else if (q->proto == SEC_PROTO_UDP)
		proto = cfg->udp_rules;
	return cfg->connect_rules & (cidr | ~cfg->need_cidr) &
	       (sec_lookup(&sec_ports, &port) | ~cfg->need_port) & proto;
}

/* Index of the lowest set bit of a non-zero mask, without a loop for the verifier to walk. */
static __always_inline __u32 sec_lowest_rule(__u64 mask)
{
	__u64 low = mask & -mask;
	__u32 i = 0;

	if (low & 0xffffffff00000000ull)
		i += 32;
	if (low & 0xffff0000ffff0000ull)
		i += 16;
	if (low & 0xff00ff00ff00ff00ull)
		i += 8;
	if (low & 0xf0f0f0f0f0f0f0f0ull)
		i += 4;
	if (low & 0xccccccccccccccccull)
		i += 2;
	if (low & 0xaaaaaaaaaaaaaaaaull)
		i += 1;
	return i;
}

/* SEC_VERDICT of the most severe matching rule (the first of equals), 0 if none. */
static __always_inline __u32 sec_match(struct sec_query *q, const struct sec_config *cfg)
{
	__u64 rules;

	if (q->kind == SEC_KIND_EXEC)
		rules = sec_match_exec(q, cfg);
	else if (q->kind == SEC_KIND_FILE)
		rules = sec_match_file(q, cfg);
	else if (q->kind == SEC_KIND_CONNECT)
		rules = sec_match_connect(q, cfg);
	else
		return 0;
	if (rules & cfg->action_rules[SEC_ACTION_KILL])
		return SEC_VERDICT(sec_lowest_rule(rules & cfg->action_rules[SEC_ACTION_KILL]),
				   SEC_ACTION_KILL);
	if (rules & cfg->action_rules[SEC_ACTION_DENY])
		return SEC_VERDICT(sec_lowest_rule(rules & cfg->action_rules[SEC_ACTION_DENY]),
				   SEC_ACTION_DENY);
	if (rules & cfg->action_rules[SEC_ACTION_LOG])
		return SEC_VERDICT(sec_lowest_rule(rules & cfg->action_rules[SEC_ACTION_LOG]),
				   SEC_ACTION_LOG);
	return 0;
}

#endif
