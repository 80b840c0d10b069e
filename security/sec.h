/* SPDX-License-Identifier: MIT */
/*
 * What the runtime-security BPF programs and Sluice's user space share:
 * the compiled policy's map layouts, the query the matcher reads and the
 * event it emits.  Included by clang -target bpf and by the host compiler,
 * so only fixed-size <linux/types.h> types.
 *
 * A policy of up to SEC_RULES_MAX rules is compiled into bit masks: each
 * lookup (a path in an LPM trie, an argument in a hash, an address in an
 * LPM trie, a port in a hash) yields the set of rules it satisfies, and the
 * rules that match are the AND of those sets, each widened by the rules
 * that do not constrain that selector.  One lookup per selector, whatever
 * the number of rules.
 */
#ifndef SLUICE_SECURITY_SEC_H
#define SLUICE_SECURITY_SEC_H

#include <linux/types.h>

#define SEC_RULES_MAX 64
/* LPM tries key at most 256 bytes of data (LPM_DATA_SIZE_MAX). */
#define SEC_PATH_MAX 256
#define SEC_ARGS_MAX 8
#define SEC_ARG_MAX 64
#define SEC_COMM_MAX 16

enum sec_kind {
	SEC_KIND_EXEC = 1,
	SEC_KIND_FILE = 2,
	SEC_KIND_CONNECT = 3,
};

/* Ordered by severity: when several rules match, the most severe acts. */
enum sec_action {
	SEC_ACTION_NONE = 0,
	SEC_ACTION_LOG = 1,
	SEC_ACTION_DENY = 2,
	SEC_ACTION_KILL = 3,
};

/* What was done, which can differ from the rule's action where the hook cannot deny. */
enum sec_taken {
	SEC_TAKEN_LOGGED = 1,
	SEC_TAKEN_DENIED = 2,
	SEC_TAKEN_KILLED = 3,
	SEC_TAKEN_DENIED_KILLED = 4,
};

enum sec_proto {
	SEC_PROTO_TCP = 1,
	SEC_PROTO_UDP = 2,
};

/*
 * An LPM trie key over a NUL-terminated string.  Lookups use the string
 * with its NUL (8 * (len + 1) bits): an exact rule's entry includes the
 * NUL, a prefix rule's stops before it.
 */
struct sec_path_key {
	__u32 prefixlen;
	char str[SEC_PATH_MAX];
};

struct sec_ip4_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct sec_ip6_key {
	__u32 prefixlen;
	__u8 addr[16];
};

/* The whole policy's masks and actions: the one entry of the "sec_config" array. */
struct sec_config {
	__u64 exec_rules;
	__u64 file_rules;
	__u64 connect_rules;
	/* rules that constrain the selector; the others pass it whatever it says */
	__u64 need_binary;
	__u64 need_parent;
	__u64 need_args;
	__u64 need_path;
	__u64 need_cidr;
	__u64 need_port;
	__u64 write_only;  /* file rules that match only opens with write intent */
	__u64 tcp_rules;   /* connect rules that take TCP (all unless restricted) */
	__u64 udp_rules;
	/* the rules of each enum sec_action */
	__u64 action_rules[SEC_ACTION_KILL + 1];
	__u32 agent_tgid;  /* the process enforcing the policy, never matched */
	__u32 pad;
};

/* What is asked of the matcher: filled by a tracepoint, or by user space. */
struct sec_query {
	__u32 kind;        /* enum sec_kind */
	__u32 write;       /* a file open with write intent */
	__u32 proto;       /* enum sec_proto, 0 when unknown */
	__u16 family;      /* AF_INET or AF_INET6 */
	__u16 port;        /* host order */
	__u8 addr[16];     /* IPv4 in the first 4 bytes */
	__u32 nargs;
	__u32 pad;
	struct sec_path_key path;    /* exec: the binary; file: the path */
	struct sec_path_key parent;  /* exec: the parent's binary */
	char args[SEC_ARGS_MAX][SEC_ARG_MAX]; /* exec: argv[1..], each zero-padded */
};

/* One event in the ring buffer. */
struct sec_event {
	__u64 time_ns;     /* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	__u32 pid;         /* thread id */
	__u32 tgid;        /* process id */
	__u32 ppid;
	__u32 uid;
	__u16 rule;
	__u8 action;       /* the rule's enum sec_action */
	__u8 taken;        /* enum sec_taken */
	__u32 pad;
	char comm[SEC_COMM_MAX];
	char binary[SEC_PATH_MAX];   /* the acting process's binary ("" when unknown) */
	struct sec_query q;          /* the path, parent, args or address matched */
};

/* Keys of the "sec_stats" per-CPU array. */
enum sec_stat {
	SEC_STAT_EVENTS = 0,
	SEC_STAT_DROPS = 1,   /* ring buffer full: events lost, never waited for */
	SEC_STAT_MAX = 2,
};

/* The user-space matcher's return value: 0 for no match, else this. */
#define SEC_VERDICT(rule, action) ((((__u32)(action)) << 16) | ((__u32)(rule) + 1))
#define SEC_VERDICT_ACTION(v) ((v) >> 16)
#define SEC_VERDICT_RULE(v) (((v) & 0xffff) - 1)

#endif
