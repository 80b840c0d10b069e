/* SPDX-License-Identifier: MIT */
/*
 * libbpf's SEC() conventions (its section_defs table, as of libbpf 1.1),
 * and the names libbpf and bpftool give program and map types.
 *
 * A prefix ending in '+' matches the exact name or the name followed by
 * "/target"; one ending in '/' needs the target; any other matches exactly.
 * The first match wins, so longer names come before the names they extend
 * ("sk_reuseport/migrate" before "sk_reuseport").
 */
#include <stddef.h>
#include <string.h>

#include <linux/bpf.h>

#include "loader.h"

#define SEC_DEF(prefix_, ptype, atype) \
	{ .prefix = prefix_, .prog_type = BPF_PROG_TYPE_##ptype, .attach_type = atype }

static const struct sec_def sec_defs[] = {
	SEC_DEF("socket",                 SOCKET_FILTER, 0),
	SEC_DEF("sk_reuseport/migrate",   SK_REUSEPORT, BPF_SK_REUSEPORT_SELECT_OR_MIGRATE),
	SEC_DEF("sk_reuseport",           SK_REUSEPORT, BPF_SK_REUSEPORT_SELECT),
	SEC_DEF("kprobe+",                KPROBE, 0),
	SEC_DEF("uprobe+",                KPROBE, 0),
	SEC_DEF("uprobe.s+",              KPROBE, 0),
	SEC_DEF("kretprobe+",             KPROBE, 0),
	SEC_DEF("uretprobe+",             KPROBE, 0),
	SEC_DEF("uretprobe.s+",           KPROBE, 0),
	SEC_DEF("kprobe.multi+",          KPROBE, BPF_TRACE_KPROBE_MULTI),
	SEC_DEF("kretprobe.multi+",       KPROBE, BPF_TRACE_KPROBE_MULTI),
	SEC_DEF("ksyscall+",              KPROBE, 0),
	SEC_DEF("kretsyscall+",           KPROBE, 0),
	SEC_DEF("usdt+",                  KPROBE, 0),
	/*
	 * libbpf 1.1 knows only "tc"; later versions read tc/ingress and
	 * tc/egress as tcx attachments.  Sluice attaches classifiers through
	 * the qdisc (as libbpf 1.1's bpf_tc_attach does), hence no attach type.
	 */
	SEC_DEF("tc/ingress",             SCHED_CLS, 0),
	SEC_DEF("tc/egress",              SCHED_CLS, 0),
	SEC_DEF("tc",                     SCHED_CLS, 0),
	SEC_DEF("classifier",             SCHED_CLS, 0),
	SEC_DEF("action",                 SCHED_ACT, 0),
	SEC_DEF("tracepoint+",            TRACEPOINT, 0),
	SEC_DEF("tp+",                    TRACEPOINT, 0),
	SEC_DEF("raw_tracepoint+",        RAW_TRACEPOINT, 0),
	SEC_DEF("raw_tp+",                RAW_TRACEPOINT, 0),
	SEC_DEF("raw_tracepoint.w+",      RAW_TRACEPOINT_WRITABLE, 0),
	SEC_DEF("raw_tp.w+",              RAW_TRACEPOINT_WRITABLE, 0),
	SEC_DEF("tp_btf+",                TRACING, BPF_TRACE_RAW_TP),
	SEC_DEF("fentry+",                TRACING, BPF_TRACE_FENTRY),
	SEC_DEF("fmod_ret+",              TRACING, BPF_MODIFY_RETURN),
	SEC_DEF("fexit+",                 TRACING, BPF_TRACE_FEXIT),
	SEC_DEF("fentry.s+",              TRACING, BPF_TRACE_FENTRY),
	SEC_DEF("fmod_ret.s+",            TRACING, BPF_MODIFY_RETURN),
	SEC_DEF("fexit.s+",               TRACING, BPF_TRACE_FEXIT),
	SEC_DEF("freplace+",              EXT, 0),
	SEC_DEF("lsm+",                   LSM, BPF_LSM_MAC),
	SEC_DEF("lsm.s+",                 LSM, BPF_LSM_MAC),
	SEC_DEF("lsm_cgroup+",            LSM, BPF_LSM_CGROUP),
	SEC_DEF("iter+",                  TRACING, BPF_TRACE_ITER),
	SEC_DEF("iter.s+",                TRACING, BPF_TRACE_ITER),
	SEC_DEF("syscall",                SYSCALL, 0),
	SEC_DEF("xdp.frags/devmap",       XDP, BPF_XDP_DEVMAP),
	SEC_DEF("xdp/devmap",             XDP, BPF_XDP_DEVMAP),
	SEC_DEF("xdp.frags/cpumap",       XDP, BPF_XDP_CPUMAP),
	SEC_DEF("xdp/cpumap",             XDP, BPF_XDP_CPUMAP),
	SEC_DEF("xdp.frags",              XDP, BPF_XDP),
	SEC_DEF("xdp",                    XDP, BPF_XDP),
	SEC_DEF("perf_event",             PERF_EVENT, 0),
	SEC_DEF("lwt_in",                 LWT_IN, 0),
	SEC_DEF("lwt_out",                LWT_OUT, 0),
	SEC_DEF("lwt_xmit",               LWT_XMIT, 0),
	SEC_DEF("lwt_seg6local",          LWT_SEG6LOCAL, 0),
	SEC_DEF("sockops",                SOCK_OPS, BPF_CGROUP_SOCK_OPS),
	SEC_DEF("sk_skb/stream_parser",   SK_SKB, BPF_SK_SKB_STREAM_PARSER),
	SEC_DEF("sk_skb/stream_verdict",  SK_SKB, BPF_SK_SKB_STREAM_VERDICT),
	SEC_DEF("sk_skb",                 SK_SKB, 0),
	SEC_DEF("sk_msg",                 SK_MSG, BPF_SK_MSG_VERDICT),
	SEC_DEF("lirc_mode2",             LIRC_MODE2, BPF_LIRC_MODE2),
	SEC_DEF("flow_dissector",         FLOW_DISSECTOR, BPF_FLOW_DISSECTOR),
	SEC_DEF("cgroup_skb/ingress",     CGROUP_SKB, BPF_CGROUP_INET_INGRESS),
	SEC_DEF("cgroup_skb/egress",      CGROUP_SKB, BPF_CGROUP_INET_EGRESS),
	SEC_DEF("cgroup/skb",             CGROUP_SKB, 0),
	SEC_DEF("cgroup/sock_create",     CGROUP_SOCK, BPF_CGROUP_INET_SOCK_CREATE),
	SEC_DEF("cgroup/sock_release",    CGROUP_SOCK, BPF_CGROUP_INET_SOCK_RELEASE),
	SEC_DEF("cgroup/sock",            CGROUP_SOCK, BPF_CGROUP_INET_SOCK_CREATE),
	SEC_DEF("cgroup/post_bind4",      CGROUP_SOCK, BPF_CGROUP_INET4_POST_BIND),
	SEC_DEF("cgroup/post_bind6",      CGROUP_SOCK, BPF_CGROUP_INET6_POST_BIND),
	SEC_DEF("cgroup/bind4",           CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_BIND),
	SEC_DEF("cgroup/bind6",           CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_BIND),
	SEC_DEF("cgroup/connect4",        CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_CONNECT),
	SEC_DEF("cgroup/connect6",        CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_CONNECT),
	SEC_DEF("cgroup/sendmsg4",        CGROUP_SOCK_ADDR, BPF_CGROUP_UDP4_SENDMSG),
	SEC_DEF("cgroup/sendmsg6",        CGROUP_SOCK_ADDR, BPF_CGROUP_UDP6_SENDMSG),
	SEC_DEF("cgroup/recvmsg4",        CGROUP_SOCK_ADDR, BPF_CGROUP_UDP4_RECVMSG),
	SEC_DEF("cgroup/recvmsg6",        CGROUP_SOCK_ADDR, BPF_CGROUP_UDP6_RECVMSG),
	SEC_DEF("cgroup/getpeername4",    CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_GETPEERNAME),
	SEC_DEF("cgroup/getpeername6",    CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_GETPEERNAME),
	SEC_DEF("cgroup/getsockname4",    CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_GETSOCKNAME),
	SEC_DEF("cgroup/getsockname6",    CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_GETSOCKNAME),
	SEC_DEF("cgroup/sysctl",          CGROUP_SYSCTL, BPF_CGROUP_SYSCTL),
	SEC_DEF("cgroup/getsockopt",      CGROUP_SOCKOPT, BPF_CGROUP_GETSOCKOPT),
	SEC_DEF("cgroup/setsockopt",      CGROUP_SOCKOPT, BPF_CGROUP_SETSOCKOPT),
	SEC_DEF("cgroup/dev",             CGROUP_DEVICE, BPF_CGROUP_DEVICE),
	SEC_DEF("struct_ops+",            STRUCT_OPS, 0),
	SEC_DEF("sk_lookup",              SK_LOOKUP, BPF_SK_LOOKUP),
};

/* Length of the name part of a prefix, without its trailing '+'. */
static size_t prefix_len(const char *prefix)
{
	size_t len = strlen(prefix);

	return prefix[len - 1] == '+' ? len - 1 : len;
}

static bool sec_def_matches(const struct sec_def *def, const char *section)
{
	size_t len = strlen(def->prefix);

	if (def->prefix[len - 1] == '/')
		return !strncmp(section, def->prefix, len);
	if (def->prefix[len - 1] == '+') {
		len--;
		return !strncmp(section, def->prefix, len) &&
		       (section[len] == '\0' || section[len] == '/');
	}
	return !strcmp(section, def->prefix);
}

const struct sec_def *sec_def_find(const char *section)
{
	for (size_t i = 0; i < sizeof(sec_defs) / sizeof(sec_defs[0]); i++)
		if (sec_def_matches(&sec_defs[i], section))
			return &sec_defs[i];
	return NULL;
}

const char *sec_def_attach_target(const struct sec_def *def, const char *section)
{
	size_t len = prefix_len(def->prefix);
	char last = def->prefix[strlen(def->prefix) - 1];

	if (last != '+' && last != '/')
		return "";
	if (last == '/')
		return section + len;
	return section[len] == '/' ? section + len + 1 : "";
}

static const char *const prog_type_names[] = {
	[BPF_PROG_TYPE_UNSPEC] = "unspec",
	[BPF_PROG_TYPE_SOCKET_FILTER] = "socket_filter",
	[BPF_PROG_TYPE_KPROBE] = "kprobe",
	[BPF_PROG_TYPE_SCHED_CLS] = "sched_cls",
	[BPF_PROG_TYPE_SCHED_ACT] = "sched_act",
	[BPF_PROG_TYPE_TRACEPOINT] = "tracepoint",
	[BPF_PROG_TYPE_XDP] = "xdp",
	[BPF_PROG_TYPE_PERF_EVENT] = "perf_event",
	[BPF_PROG_TYPE_CGROUP_SKB] = "cgroup_skb",
	[BPF_PROG_TYPE_CGROUP_SOCK] = "cgroup_sock",
	[BPF_PROG_TYPE_LWT_IN] = "lwt_in",
	[BPF_PROG_TYPE_LWT_OUT] = "lwt_out",
	[BPF_PROG_TYPE_LWT_XMIT] = "lwt_xmit",
	[BPF_PROG_TYPE_SOCK_OPS] = "sock_ops",
	[BPF_PROG_TYPE_SK_SKB] = "sk_skb",
	[BPF_PROG_TYPE_CGROUP_DEVICE] = "cgroup_device",
	[BPF_PROG_TYPE_SK_MSG] = "sk_msg",
	[BPF_PROG_TYPE_RAW_TRACEPOINT] = "raw_tracepoint",
	[BPF_PROG_TYPE_CGROUP_SOCK_ADDR] = "cgroup_sock_addr",
	[BPF_PROG_TYPE_LWT_SEG6LOCAL] = "lwt_seg6local",
	[BPF_PROG_TYPE_LIRC_MODE2] = "lirc_mode2",
	[BPF_PROG_TYPE_SK_REUSEPORT] = "sk_reuseport",
	[BPF_PROG_TYPE_FLOW_DISSECTOR] = "flow_dissector",
	[BPF_PROG_TYPE_CGROUP_SYSCTL] = "cgroup_sysctl",
	[BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE] = "raw_tracepoint_writable",
	[BPF_PROG_TYPE_CGROUP_SOCKOPT] = "cgroup_sockopt",
	[BPF_PROG_TYPE_TRACING] = "tracing",
	[BPF_PROG_TYPE_STRUCT_OPS] = "struct_ops",
	[BPF_PROG_TYPE_EXT] = "ext",
	[BPF_PROG_TYPE_LSM] = "lsm",
	[BPF_PROG_TYPE_SK_LOOKUP] = "sk_lookup",
	[BPF_PROG_TYPE_SYSCALL] = "syscall",
};

static const char *const map_type_names[] = {
	[BPF_MAP_TYPE_UNSPEC] = "unspec",
	[BPF_MAP_TYPE_HASH] = "hash",
	[BPF_MAP_TYPE_ARRAY] = "array",
	[BPF_MAP_TYPE_PROG_ARRAY] = "prog_array",
	[BPF_MAP_TYPE_PERF_EVENT_ARRAY] = "perf_event_array",
	[BPF_MAP_TYPE_PERCPU_HASH] = "percpu_hash",
	[BPF_MAP_TYPE_PERCPU_ARRAY] = "percpu_array",
	[BPF_MAP_TYPE_STACK_TRACE] = "stack_trace",
	[BPF_MAP_TYPE_CGROUP_ARRAY] = "cgroup_array",
	[BPF_MAP_TYPE_LRU_HASH] = "lru_hash",
	[BPF_MAP_TYPE_LRU_PERCPU_HASH] = "lru_percpu_hash",
	[BPF_MAP_TYPE_LPM_TRIE] = "lpm_trie",
	[BPF_MAP_TYPE_ARRAY_OF_MAPS] = "array_of_maps",
	[BPF_MAP_TYPE_HASH_OF_MAPS] = "hash_of_maps",
	[BPF_MAP_TYPE_DEVMAP] = "devmap",
	[BPF_MAP_TYPE_SOCKMAP] = "sockmap",
	[BPF_MAP_TYPE_CPUMAP] = "cpumap",
	[BPF_MAP_TYPE_XSKMAP] = "xskmap",
	[BPF_MAP_TYPE_SOCKHASH] = "sockhash",
	[BPF_MAP_TYPE_CGROUP_STORAGE] = "cgroup_storage",
	[BPF_MAP_TYPE_REUSEPORT_SOCKARRAY] = "reuseport_sockarray",
	[BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE] = "percpu_cgroup_storage",
	[BPF_MAP_TYPE_QUEUE] = "queue",
	[BPF_MAP_TYPE_STACK] = "stack",
	[BPF_MAP_TYPE_SK_STORAGE] = "sk_storage",
	[BPF_MAP_TYPE_DEVMAP_HASH] = "devmap_hash",
	[BPF_MAP_TYPE_STRUCT_OPS] = "struct_ops",
	[BPF_MAP_TYPE_RINGBUF] = "ringbuf",
	[BPF_MAP_TYPE_INODE_STORAGE] = "inode_storage",
	[BPF_MAP_TYPE_TASK_STORAGE] = "task_storage",
	[BPF_MAP_TYPE_BLOOM_FILTER] = "bloom_filter",
	[BPF_MAP_TYPE_USER_RINGBUF] = "user_ringbuf",
};

const char *bpf_prog_type_str(uint32_t type)
{
	return type < sizeof(prog_type_names) / sizeof(prog_type_names[0]) ? prog_type_names[type]
									    : NULL;
}

const char *bpf_map_type_str(uint32_t type)
{
	return type < sizeof(map_type_names) / sizeof(map_type_names[0]) ? map_type_names[type]
									  : NULL;
}
