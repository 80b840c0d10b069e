/* SPDX-License-Identifier: MIT */
/*
 * The kernel's helper prototypes (struct bpf_func_proto), one line per
 * helper, and the program types whose get_func_proto offers it.  This list
 * is the specification: helper_proto.c builds the lookup table from it, the
 * verifier checks calls against it and the runtime registers
 * implementations under its names.  Only helper_proto.c includes it.
 *
 * Columns:
 *   name   BPF_FUNC_<name> of <linux/bpf.h>, also the name without "bpf_"
 *   ret    enum helper_ret without RET_
 *   a1-a5  enum helper_arg without ARG_ (NONE after the last argument)
 *   flags  HF_* below (enum helper_flag), 0 when none
 *   types  HT_* program-type groups below
 *
 * Sources: kernel/bpf/helpers.c (bpf_base_func_proto), net/core/filter.c
 * (bpf_sk_base_func_proto, sk_filter_, cg_skb_, tc_cls_act_, xdp_,
 * sock_filter_, sock_addr_func_proto), kernel/trace/bpf_trace.c
 * (bpf_tracing_func_proto and the kprobe, tracepoint, perf_event, raw_tp
 * and tracing chains), kernel/bpf/ringbuf.c, as root (the CAP_BPF and
 * CAP_PERFMON parts of bpf_base_func_proto included), checked against
 * Linux 6.18's verifier by tests/helpers/helper_proto_kernel.c: 6.18's
 * bpf_base_func_proto offers the task helpers (get_current_comm,
 * send_signal, copy_from_user, find_vma, ...) to every program type.
 * probe_write_user (kernel lockdown) and override_return
 * (CONFIG_BPF_KPROBE_OVERRIDE) are listed as the source offers them, a
 * kernel's configuration may take them away.
 *
 * Where the kernel's kinds are finer than enum helper_arg, the nearest
 * kind stands in:
 *   - MEM | MEM_RDONLY and MEM | MEM_WRITE (fib_lookup's params) are MEM;
 *   - FIXED_SIZE_MEM of 8 bytes (strtol's result, get_func_arg) is
 *     PTR_TO_LONG, of 4 bytes (check_mtu's mtu_len) PTR_TO_INT;
 *   - BTF_ID_SOCK_COMMON (sk_release, skc_to_*) is PTR_TO_SOCK_COMMON;
 *   - RET_PTR_TO_RINGBUF_MEM_OR_NULL is PTR_TO_MEM_OR_NULL, sized by the
 *     ALLOC_SIZE argument; RET_PTR_TO_BTF_ID_TRUSTED is PTR_TO_BTF_ID.
 * A helper whose kinds differ between program types in the kernel (the
 * perf_event_output and get_stack variants, flow dissector's
 * skb_load_bytes) has one row with the kinds they share.  Three rows keep
 * the packet hooks' form where other types have another:
 * get_cgroup_classid (ctx; elsewhere no argument), get_socket_cookie and
 * xdp_get_buff_len (ctx; a BTF pointer in tracing and syscall programs).
 *
 * Program-type availability is exact, and checked against the kernel,
 * for socket_filter, sched_cls, sched_act, xdp, kprobe, tracepoint,
 * raw_tracepoint, perf_event, cgroup_skb, cgroup_sock, cgroup_sock_addr
 * and syscall; tracing and lsm (which need a BTF target to load) follow the
 * sources, and every helper call of the corpus programs is one the table
 * allows for their type (tests/helpers/helpers_corpus.c).  The other
 * types get the helpers every type gets (HT_ALL) and those of the
 * bpf_sk_base_func_proto fallback where it applies, but not their own
 * (sk_msg's msg_*, sock_ops' hdr options, lwt's encap, ...), which are not
 * listed.  BPF_PROG_TYPE_EXT takes its target's helpers and has none here.
 */
#ifndef SLUICE_HELPER_TABLE_H
#define SLUICE_HELPER_TABLE_H

#include <linux/bpf.h>

#define HF_GPL   HELPER_GPL_ONLY
#define HF_PKT   HELPER_PKT_ACCESS
#define HF_MOVES HELPER_CHANGES_PKT_DATA
#define HF_SLEEP HELPER_MIGHT_SLEEP
#define HF_CB    HELPER_CALLBACK
#define HF_ACQ   HELPER_ACQUIRES
#define HF_REL   HELPER_RELEASES

#define HT(type) (1ull << BPF_PROG_TYPE_##type)

/* Every program type: all get_func_proto chains end in bpf_base_func_proto. */
#define HT_ALL (HT(SOCKET_FILTER) | HT(KPROBE) | HT(SCHED_CLS) | HT(SCHED_ACT) | \
		HT(TRACEPOINT) | HT(XDP) | HT(PERF_EVENT) | HT(CGROUP_SKB) | \
		HT(CGROUP_SOCK) | HT(LWT_IN) | HT(LWT_OUT) | HT(LWT_XMIT) | \
		HT(SOCK_OPS) | HT(SK_SKB) | HT(CGROUP_DEVICE) | HT(SK_MSG) | \
		HT(RAW_TRACEPOINT) | HT(CGROUP_SOCK_ADDR) | HT(LWT_SEG6LOCAL) | \
		HT(LIRC_MODE2) | HT(SK_REUSEPORT) | HT(FLOW_DISSECTOR) | \
		HT(CGROUP_SYSCTL) | HT(RAW_TRACEPOINT_WRITABLE) | \
		HT(CGROUP_SOCKOPT) | HT(TRACING) | HT(STRUCT_OPS) | HT(LSM) | \
		HT(SK_LOOKUP) | HT(SYSCALL))
/* bpf_tracing_func_proto's users. */
#define HT_TRACE (HT(KPROBE) | HT(TRACEPOINT) | HT(PERF_EVENT) | HT(RAW_TRACEPOINT) | \
		  HT(RAW_TRACEPOINT_WRITABLE) | HT(TRACING) | HT(LSM) | HT(SYSCALL))
/* tracing_prog_func_proto's users (BTF-typed context). */
#define HT_BTF_TRACE (HT(TRACING) | HT(LSM) | HT(SYSCALL))
/* The types whose fallback is bpf_sk_base_func_proto. */
#define HT_SK_BASE (HT(SOCKET_FILTER) | HT(SCHED_CLS) | HT(SCHED_ACT) | HT(XDP) | \
		    HT(CGROUP_SKB) | HT(LWT_IN) | HT(LWT_OUT) | HT(LWT_XMIT) | \
		    HT(LWT_SEG6LOCAL) | HT(SOCK_OPS) | HT(SK_SKB) | HT(SK_MSG) | \
		    HT(CGROUP_SOCK_ADDR) | HT(FLOW_DISSECTOR) | HT(SK_REUSEPORT) | \
		    HT(SK_LOOKUP))
/* sk_filter_func_proto: socket filters, and cgroup_skb which falls back to it. */
#define HT_SKB_FILTER (HT(SOCKET_FILTER) | HT(CGROUP_SKB))
#define HT_TC (HT(SCHED_CLS) | HT(SCHED_ACT))
#define HT_LWT (HT(LWT_IN) | HT(LWT_OUT) | HT(LWT_XMIT))
/* The socket lookups of tc_cls_act, xdp, cg_skb, sock_addr and sk_skb. */
#define HT_SK_LOOKUP (HT_TC | HT(XDP) | HT(CGROUP_SKB) | HT(CGROUP_SOCK_ADDR) | HT(SK_SKB))
/* bpf_skc_to_*: bpf_sk_base_func_proto (CAP_PERFMON) and tracing. */
#define HT_SKC_TO (HT_SK_BASE | HT_BTF_TRACE)

/*  name                           ret                        a1                 a2                    a3                    a4                 a5               flags                   types */
#define SLUICE_HELPERS(X) \
X(map_lookup_elem,               PTR_TO_MAP_VALUE_OR_NULL,  CONST_MAP_PTR,     PTR_TO_MAP_KEY,       NONE,                 NONE,              NONE,            HF_PKT,                 HT_ALL) \
X(map_update_elem,               INTEGER,                   CONST_MAP_PTR,     PTR_TO_MAP_KEY,       PTR_TO_MAP_VALUE,     ANYTHING,          NONE,            HF_PKT,                 HT_ALL) \
X(map_delete_elem,               INTEGER,                   CONST_MAP_PTR,     PTR_TO_MAP_KEY,       NONE,                 NONE,              NONE,            HF_PKT,                 HT_ALL) \
X(probe_read,                    INTEGER,                   PTR_TO_UNINIT_MEM, CONST_SIZE_OR_ZERO,   ANYTHING,             NONE,              NONE,            HF_GPL,                 HT_TRACE) \
X(ktime_get_ns,                  INTEGER,                   NONE,              NONE,                 NONE,                 NONE,              NONE,            0,                      HT_ALL) \
X(trace_printk,                  INTEGER,                   PTR_TO_MEM,        CONST_SIZE,           NONE,                 NONE,              NONE,            HF_GPL,                 HT_ALL) \
X(get_prandom_u32,               INTEGER,                   NONE,              NONE,                 NONE,                 NONE,              NONE,            0,                      HT_ALL) \
X(get_smp_processor_id,          INTEGER,                   NONE,              NONE,                 NONE,                 NONE,              NONE,            0,                      HT_ALL) \
X(skb_store_bytes,               INTEGER,                   PTR_TO_CTX,        ANYTHING,             PTR_TO_MEM,           CONST_SIZE,        ANYTHING,        HF_MOVES,               HT_TC | HT(LWT_XMIT) | HT(SK_SKB)) \
X(l3_csum_replace,               INTEGER,                   PTR_TO_CTX,        ANYTHING,             ANYTHING,             ANYTHING,          ANYTHING,        HF_MOVES,               HT_TC | HT(LWT_XMIT)) \
X(l4_csum_replace,               INTEGER,                   PTR_TO_CTX,        ANYTHING,             ANYTHING,             ANYTHING,          ANYTHING,        HF_MOVES,               HT_TC | HT(LWT_XMIT)) \
X(tail_call,                     VOID,                      PTR_TO_CTX,        CONST_MAP_PTR,        ANYTHING,             NONE,              NONE,            0,                      HT_ALL) \
X(clone_redirect,                INTEGER,                   PTR_TO_CTX,        ANYTHING,             ANYTHING,             NONE,              NONE,            HF_MOVES,               HT_TC | HT(LWT_XMIT)) \
X(get_current_pid_tgid,          INTEGER,                   NONE,              NONE,                 NONE,                 NONE,              NONE,            0,                      HT_ALL) \
X(get_current_uid_gid,           INTEGER,                   NONE,              NONE,                 NONE,                 NONE,              NONE,            0,                      HT_ALL) \
X(get_current_comm,              INTEGER,                   PTR_TO_UNINIT_MEM, CONST_SIZE,           NONE,                 NONE,              NONE,            0,                      HT_ALL) \
X(get_cgroup_classid,            INTEGER,                   PTR_TO_CTX,        NONE,                 NONE,                 NONE,              NONE,            0,                      HT_ALL) \
X(skb_vlan_push,                 INTEGER,                   PTR_TO_CTX,        ANYTHING,             ANYTHING,             NONE,              NONE,            HF_MOVES,               HT_TC) \
X(skb_vlan_pop,                  INTEGER,                   PTR_TO_CTX,        NONE,                 NONE,                 NONE,              NONE,            HF_MOVES,               HT_TC) \
X(skb_get_tunnel_key,            INTEGER,                   PTR_TO_CTX,        PTR_TO_UNINIT_MEM,    CONST_SIZE,           ANYTHING,          NONE,            0,                      HT_TC | HT(LWT_XMIT)) \
X(skb_set_tunnel_key,            INTEGER,                   PTR_TO_CTX,        PTR_TO_MEM,           CONST_SIZE,           ANYTHING,          NONE,            0,                      HT_TC | HT(LWT_XMIT)) \
X(perf_event_read,               INTEGER,                   CONST_MAP_PTR,     ANYTHING,             NONE,                 NONE,              NONE,            HF_GPL,                 HT_ALL) \
X(redirect,                      INTEGER,                   ANYTHING,          ANYTHING,             NONE,                 NONE,              NONE,            0,                      HT_TC | HT(XDP) | HT(LWT_XMIT)) \
X(get_route_realm,               INTEGER,                   PTR_TO_CTX,        NONE,                 NONE,                 NONE,              NONE,            0,                      HT_TC | HT_LWT) \
X(perf_event_output,             INTEGER,                   PTR_TO_CTX,        CONST_MAP_PTR,        ANYTHING,             PTR_TO_MEM,        CONST_SIZE_OR_ZERO, HF_GPL,                 HT_TRACE | HT_SKB_FILTER | HT_TC | HT(XDP) | HT(CGROUP_SOCK) | HT(CGROUP_SOCK_ADDR) | HT_LWT | HT(SOCK_OPS) | HT(SK_SKB) | HT(SK_MSG) | HT(SK_LOOKUP)) \
X(skb_load_bytes,                INTEGER,                   PTR_TO_CTX,        ANYTHING,             PTR_TO_UNINIT_MEM,    CONST_SIZE,        NONE,            0,                      HT_SKB_FILTER | HT_TC | HT_LWT | HT(LWT_SEG6LOCAL) | HT(SK_SKB) | HT(FLOW_DISSECTOR)) \
X(get_stackid,                   INTEGER,                   PTR_TO_CTX,        CONST_MAP_PTR,        ANYTHING,             NONE,              NONE,            HF_GPL,                 HT_TRACE) \
X(csum_diff,                     INTEGER,                   PTR_TO_MEM_OR_NULL, CONST_SIZE_OR_ZERO,   PTR_TO_MEM_OR_NULL,   CONST_SIZE_OR_ZERO, ANYTHING,        HF_PKT,                 HT_TC | HT(XDP) | HT_LWT | HT(LWT_SEG6LOCAL)) \
X(skb_get_tunnel_opt,            INTEGER,                   PTR_TO_CTX,        PTR_TO_UNINIT_MEM,    CONST_SIZE,           NONE,              NONE,            0,                      HT_TC | HT(LWT_XMIT)) \
X(skb_set_tunnel_opt,            INTEGER,                   PTR_TO_CTX,        PTR_TO_MEM,           CONST_SIZE,           NONE,              NONE,            0,                      HT_TC | HT(LWT_XMIT)) \
X(skb_change_proto,              INTEGER,                   PTR_TO_CTX,        ANYTHING,             ANYTHING,             NONE,              NONE,            HF_MOVES,               HT_TC) \
X(skb_change_type,               INTEGER,                   PTR_TO_CTX,        ANYTHING,             NONE,                 NONE,              NONE,            0,                      HT_TC) \
X(skb_under_cgroup,              INTEGER,                   PTR_TO_CTX,        CONST_MAP_PTR,        ANYTHING,             NONE,              NONE,            0,                      HT_TC | HT_LWT | HT(LWT_SEG6LOCAL)) \
X(get_hash_recalc,               INTEGER,                   PTR_TO_CTX,        NONE,                 NONE,                 NONE,              NONE,            0,                      HT_TC | HT_LWT | HT(LWT_SEG6LOCAL)) \
X(get_current_task,              INTEGER,                   NONE,              NONE,                 NONE,                 NONE,              NONE,            HF_GPL,                 HT_ALL) \
X(probe_write_user,              INTEGER,                   ANYTHING,          PTR_TO_MEM,           CONST_SIZE,           NONE,              NONE,            HF_GPL,                 HT_TRACE) \
X(current_task_under_cgroup,     INTEGER,                   CONST_MAP_PTR,     ANYTHING,             NONE,                 NONE,              NONE,            0,                      HT_ALL) \
X(skb_change_tail,               INTEGER,                   PTR_TO_CTX,        ANYTHING,             ANYTHING,             NONE,              NONE,            HF_MOVES,               HT_TC | HT(LWT_XMIT) | HT(SK_SKB)) \
X(skb_pull_data,                 INTEGER,                   PTR_TO_CTX,        ANYTHING,             NONE,                 NONE,              NONE,            HF_MOVES,               HT_TC | HT_LWT | HT(LWT_SEG6LOCAL) | HT(SK_SKB)) \
X(csum_update,                   INTEGER,                   PTR_TO_CTX,        ANYTHING,             NONE,                 NONE,              NONE,            0,                      HT_TC | HT(LWT_XMIT)) \
X(set_hash_invalid,              VOID,                      PTR_TO_CTX,        NONE,                 NONE,                 NONE,              NONE,            0,                      HT_TC | HT(LWT_XMIT)) \
X(get_numa_node_id,              INTEGER,                   NONE,              NONE,                 NONE,                 NONE,              NONE,            0,                      HT_ALL) \
X(skb_change_head,               INTEGER,                   PTR_TO_CTX,        ANYTHING,             ANYTHING,             NONE,              NONE,            HF_MOVES,               HT_TC | HT(LWT_XMIT) | HT(SK_SKB)) \
X(xdp_adjust_head,               INTEGER,                   PTR_TO_CTX,        ANYTHING,             NONE,                 NONE,              NONE,            HF_MOVES,               HT(XDP)) \
X(probe_read_str,                INTEGER,                   PTR_TO_UNINIT_MEM, CONST_SIZE_OR_ZERO,   ANYTHING,             NONE,              NONE,            HF_GPL,                 HT_TRACE) \
X(get_socket_cookie,             INTEGER,                   PTR_TO_CTX,        NONE,                 NONE,                 NONE,              NONE,            0,                      HT_SKB_FILTER | HT_TC | HT(CGROUP_SOCK) | HT(CGROUP_SOCK_ADDR) | HT(SOCK_OPS) | HT(SK_SKB) | HT_BTF_TRACE) \
X(get_socket_uid,                INTEGER,                   PTR_TO_CTX,        NONE,                 NONE,                 NONE,              NONE,            0,                      HT_SKB_FILTER | HT_TC | HT(SK_SKB)) \
X(set_hash,                      INTEGER,                   PTR_TO_CTX,        ANYTHING,             NONE,                 NONE,              NONE,            0,                      HT_TC) \
X(setsockopt,                    INTEGER,                   PTR_TO_CTX,        ANYTHING,             ANYTHING,             PTR_TO_MEM,        CONST_SIZE,      0,                      HT(CGROUP_SOCK_ADDR) | HT(SOCK_OPS)) \
X(skb_adjust_room,               INTEGER,                   PTR_TO_CTX,        ANYTHING,             ANYTHING,             ANYTHING,          NONE,            HF_MOVES,               HT_TC | HT(SK_SKB)) \
X(redirect_map,                  INTEGER,                   CONST_MAP_PTR,     ANYTHING,             ANYTHING,             NONE,              NONE,            0,                      HT(XDP)) \
X(xdp_adjust_meta,               INTEGER,                   PTR_TO_CTX,        ANYTHING,             NONE,                 NONE,              NONE,            HF_MOVES,               HT(XDP)) \
X(perf_event_read_value,         INTEGER,                   CONST_MAP_PTR,     ANYTHING,             PTR_TO_UNINIT_MEM,    CONST_SIZE,        NONE,            HF_GPL,                 HT_ALL) \
X(perf_prog_read_value,          INTEGER,                   PTR_TO_CTX,        PTR_TO_UNINIT_MEM,    CONST_SIZE,           NONE,              NONE,            HF_GPL,                 HT(PERF_EVENT)) \
X(getsockopt,                    INTEGER,                   PTR_TO_CTX,        ANYTHING,             ANYTHING,             PTR_TO_UNINIT_MEM, CONST_SIZE,      0,                      HT(CGROUP_SOCK_ADDR) | HT(SOCK_OPS)) \
X(override_return,               INTEGER,                   PTR_TO_CTX,        ANYTHING,             NONE,                 NONE,              NONE,            HF_GPL,                 HT(KPROBE)) \
X(bind,                          INTEGER,                   PTR_TO_CTX,        PTR_TO_MEM,           CONST_SIZE,           NONE,              NONE,            0,                      HT(CGROUP_SOCK_ADDR)) \
X(xdp_adjust_tail,               INTEGER,                   PTR_TO_CTX,        ANYTHING,             NONE,                 NONE,              NONE,            HF_MOVES,               HT(XDP)) \
X(skb_get_xfrm_state,            INTEGER,                   PTR_TO_CTX,        ANYTHING,             PTR_TO_UNINIT_MEM,    CONST_SIZE,        ANYTHING,        0,                      HT_TC) \
X(get_stack,                     INTEGER,                   PTR_TO_CTX,        PTR_TO_UNINIT_MEM,    CONST_SIZE_OR_ZERO,   ANYTHING,          NONE,            HF_GPL,                 HT_TRACE) \
X(skb_load_bytes_relative,       INTEGER,                   PTR_TO_CTX,        ANYTHING,             PTR_TO_UNINIT_MEM,    CONST_SIZE,        ANYTHING,        0,                      HT_SKB_FILTER | HT_TC) \
X(fib_lookup,                    INTEGER,                   PTR_TO_CTX,        PTR_TO_MEM,           CONST_SIZE,           ANYTHING,          NONE,            HF_GPL,                 HT_TC | HT(XDP)) \
X(skb_cgroup_id,                 INTEGER,                   PTR_TO_CTX,        NONE,                 NONE,                 NONE,              NONE,            0,                      HT_TC | HT(CGROUP_SKB)) \
X(get_current_cgroup_id,         INTEGER,                   NONE,              NONE,                 NONE,                 NONE,              NONE,            0,                      HT_ALL) \
X(skb_ancestor_cgroup_id,        INTEGER,                   PTR_TO_CTX,        ANYTHING,             NONE,                 NONE,              NONE,            0,                      HT_TC | HT(CGROUP_SKB)) \
X(sk_lookup_tcp,                 PTR_TO_SOCKET_OR_NULL,     PTR_TO_CTX,        PTR_TO_MEM,           CONST_SIZE,           ANYTHING,          ANYTHING,        HF_PKT | HF_ACQ,        HT_SK_LOOKUP) \
X(sk_lookup_udp,                 PTR_TO_SOCKET_OR_NULL,     PTR_TO_CTX,        PTR_TO_MEM,           CONST_SIZE,           ANYTHING,          ANYTHING,        HF_PKT | HF_ACQ,        HT_SK_LOOKUP) \
X(sk_release,                    INTEGER,                   PTR_TO_SOCK_COMMON, NONE,                 NONE,                 NONE,              NONE,            HF_REL,                 HT_SK_LOOKUP | HT(SK_LOOKUP)) \
X(map_push_elem,                 INTEGER,                   CONST_MAP_PTR,     PTR_TO_MAP_VALUE,     ANYTHING,             NONE,              NONE,            HF_PKT,                 HT_ALL) \
X(map_pop_elem,                  INTEGER,                   CONST_MAP_PTR,     PTR_TO_UNINIT_MAP_VALUE, NONE,                 NONE,              NONE,            0,                      HT_ALL) \
X(map_peek_elem,                 INTEGER,                   CONST_MAP_PTR,     PTR_TO_UNINIT_MAP_VALUE, NONE,                 NONE,              NONE,            0,                      HT_ALL) \
X(spin_lock,                     VOID,                      PTR_TO_SPIN_LOCK,  NONE,                 NONE,                 NONE,              NONE,            0,                      HT_ALL) \
X(spin_unlock,                   VOID,                      PTR_TO_SPIN_LOCK,  NONE,                 NONE,                 NONE,              NONE,            0,                      HT_ALL) \
X(sk_fullsock,                   PTR_TO_SOCKET_OR_NULL,     PTR_TO_SOCK_COMMON, NONE,                 NONE,                 NONE,              NONE,            0,                      HT_TC | HT(CGROUP_SKB)) \
X(tcp_sock,                      PTR_TO_TCP_SOCK_OR_NULL,   PTR_TO_SOCK_COMMON, NONE,                 NONE,                 NONE,              NONE,            0,                      HT_TC | HT(CGROUP_SKB) | HT(SOCK_OPS)) \
X(skb_ecn_set_ce,                INTEGER,                   PTR_TO_CTX,        NONE,                 NONE,                 NONE,              NONE,            0,                      HT_TC | HT(CGROUP_SKB)) \
X(get_listener_sock,             PTR_TO_SOCKET_OR_NULL,     PTR_TO_SOCK_COMMON, NONE,                 NONE,                 NONE,              NONE,            0,                      HT_TC | HT(CGROUP_SKB)) \
X(skc_lookup_tcp,                PTR_TO_SOCK_COMMON_OR_NULL, PTR_TO_CTX,        PTR_TO_MEM,           CONST_SIZE,           ANYTHING,          ANYTHING,        HF_PKT | HF_ACQ,        HT_SK_LOOKUP) \
X(tcp_check_syncookie,           INTEGER,                   PTR_TO_SOCK_COMMON, PTR_TO_MEM,           CONST_SIZE,           PTR_TO_MEM,        CONST_SIZE,      HF_GPL | HF_PKT,        HT_TC | HT(XDP)) \
X(strtol,                        INTEGER,                   PTR_TO_MEM,        CONST_SIZE,           ANYTHING,             PTR_TO_LONG,       NONE,            0,                      HT_ALL) \
X(strtoul,                       INTEGER,                   PTR_TO_MEM,        CONST_SIZE,           ANYTHING,             PTR_TO_LONG,       NONE,            0,                      HT_ALL) \
X(send_signal,                   INTEGER,                   ANYTHING,          NONE,                 NONE,                 NONE,              NONE,            0,                      HT_ALL) \
X(tcp_gen_syncookie,             INTEGER,                   PTR_TO_SOCK_COMMON, PTR_TO_MEM,           CONST_SIZE,           PTR_TO_MEM,        CONST_SIZE,      HF_GPL | HF_PKT,        HT_TC | HT(XDP)) \
X(skb_output,                    INTEGER,                   PTR_TO_BTF_ID,     CONST_MAP_PTR,        ANYTHING,             PTR_TO_MEM,        CONST_SIZE_OR_ZERO, HF_GPL,                 HT_BTF_TRACE) \
X(probe_read_user,               INTEGER,                   PTR_TO_UNINIT_MEM, CONST_SIZE_OR_ZERO,   ANYTHING,             NONE,              NONE,            HF_GPL,                 HT_ALL) \
X(probe_read_kernel,             INTEGER,                   PTR_TO_UNINIT_MEM, CONST_SIZE_OR_ZERO,   ANYTHING,             NONE,              NONE,            HF_GPL,                 HT_ALL) \
X(probe_read_user_str,           INTEGER,                   PTR_TO_UNINIT_MEM, CONST_SIZE_OR_ZERO,   ANYTHING,             NONE,              NONE,            HF_GPL,                 HT_ALL) \
X(probe_read_kernel_str,         INTEGER,                   PTR_TO_UNINIT_MEM, CONST_SIZE_OR_ZERO,   ANYTHING,             NONE,              NONE,            HF_GPL,                 HT_ALL) \
X(send_signal_thread,            INTEGER,                   ANYTHING,          NONE,                 NONE,                 NONE,              NONE,            0,                      HT_ALL) \
X(jiffies64,                     INTEGER,                   NONE,              NONE,                 NONE,                 NONE,              NONE,            0,                      HT_ALL) \
X(get_ns_current_pid_tgid,       INTEGER,                   ANYTHING,          ANYTHING,             PTR_TO_UNINIT_MEM,    CONST_SIZE,        NONE,            0,                      HT_ALL) \
X(xdp_output,                    INTEGER,                   PTR_TO_BTF_ID,     CONST_MAP_PTR,        ANYTHING,             PTR_TO_MEM,        CONST_SIZE_OR_ZERO, HF_GPL,                 HT_BTF_TRACE) \
X(get_netns_cookie,              INTEGER,                   PTR_TO_CTX_OR_NULL, NONE,                 NONE,                 NONE,              NONE,            0,                      HT_SKB_FILTER | HT_TC | HT(CGROUP_SOCK) | HT(CGROUP_SOCK_ADDR) | HT(SOCK_OPS) | HT(SK_MSG)) \
X(get_current_ancestor_cgroup_id, INTEGER,                   ANYTHING,          NONE,                 NONE,                 NONE,              NONE,            0,                      HT_ALL) \
X(sk_assign,                     INTEGER,                   PTR_TO_CTX,        PTR_TO_SOCK_COMMON,   ANYTHING,             NONE,              NONE,            0,                      HT_TC | HT(SK_LOOKUP)) \
X(ktime_get_boot_ns,             INTEGER,                   NONE,              NONE,                 NONE,                 NONE,              NONE,            0,                      HT_ALL) \
X(ringbuf_output,                INTEGER,                   CONST_MAP_PTR,     PTR_TO_MEM,           CONST_SIZE_OR_ZERO,   ANYTHING,          NONE,            0,                      HT_ALL) \
X(ringbuf_reserve,               PTR_TO_MEM_OR_NULL,        CONST_MAP_PTR,     CONST_ALLOC_SIZE_OR_ZERO, ANYTHING,             NONE,              NONE,            HF_ACQ,                 HT_ALL) \
X(ringbuf_submit,                VOID,                      PTR_TO_RINGBUF_MEM, ANYTHING,             NONE,                 NONE,              NONE,            HF_REL,                 HT_ALL) \
X(ringbuf_discard,               VOID,                      PTR_TO_RINGBUF_MEM, ANYTHING,             NONE,                 NONE,              NONE,            HF_REL,                 HT_ALL) \
X(ringbuf_query,                 INTEGER,                   CONST_MAP_PTR,     ANYTHING,             NONE,                 NONE,              NONE,            0,                      HT_ALL) \
X(csum_level,                    INTEGER,                   PTR_TO_CTX,        ANYTHING,             NONE,                 NONE,              NONE,            0,                      HT_TC | HT(LWT_XMIT)) \
X(skc_to_tcp6_sock,              PTR_TO_BTF_ID_OR_NULL,     PTR_TO_SOCK_COMMON, NONE,                 NONE,                 NONE,              NONE,            0,                      HT_SKC_TO) \
X(skc_to_tcp_sock,               PTR_TO_BTF_ID_OR_NULL,     PTR_TO_SOCK_COMMON, NONE,                 NONE,                 NONE,              NONE,            0,                      HT_SKC_TO) \
X(skc_to_tcp_timewait_sock,      PTR_TO_BTF_ID_OR_NULL,     PTR_TO_SOCK_COMMON, NONE,                 NONE,                 NONE,              NONE,            0,                      HT_SKC_TO) \
X(skc_to_tcp_request_sock,       PTR_TO_BTF_ID_OR_NULL,     PTR_TO_SOCK_COMMON, NONE,                 NONE,                 NONE,              NONE,            0,                      HT_SKC_TO) \
X(skc_to_udp6_sock,              PTR_TO_BTF_ID_OR_NULL,     PTR_TO_SOCK_COMMON, NONE,                 NONE,                 NONE,              NONE,            0,                      HT_SKC_TO) \
X(get_task_stack,                INTEGER,                   PTR_TO_BTF_ID,     PTR_TO_UNINIT_MEM,    CONST_SIZE_OR_ZERO,   ANYTHING,          NONE,            0,                      HT_ALL) \
X(copy_from_user,                INTEGER,                   PTR_TO_UNINIT_MEM, CONST_SIZE_OR_ZERO,   ANYTHING,             NONE,              NONE,            HF_SLEEP,               HT_ALL) \
X(snprintf_btf,                  INTEGER,                   PTR_TO_MEM,        CONST_SIZE,           PTR_TO_MEM,           CONST_SIZE,        ANYTHING,        0,                      HT_ALL) \
X(skb_cgroup_classid,            INTEGER,                   PTR_TO_CTX,        NONE,                 NONE,                 NONE,              NONE,            0,                      HT_TC) \
X(redirect_neigh,                INTEGER,                   ANYTHING,          PTR_TO_MEM_OR_NULL,   CONST_SIZE_OR_ZERO,   ANYTHING,          NONE,            0,                      HT_TC) \
X(redirect_peer,                 INTEGER,                   ANYTHING,          ANYTHING,             NONE,                 NONE,              NONE,            0,                      HT_TC) \
X(get_current_task_btf,          PTR_TO_BTF_ID,             NONE,              NONE,                 NONE,                 NONE,              NONE,            HF_GPL,                 HT_ALL) \
X(ktime_get_coarse_ns,           INTEGER,                   NONE,              NONE,                 NONE,                 NONE,              NONE,            0,                      HT_SK_BASE | HT(CGROUP_SOCK) | HT(CGROUP_SYSCTL)) \
X(check_mtu,                     INTEGER,                   PTR_TO_CTX,        ANYTHING,             PTR_TO_INT,           ANYTHING,          ANYTHING,        HF_GPL,                 HT_TC | HT(XDP)) \
X(for_each_map_elem,             INTEGER,                   CONST_MAP_PTR,     PTR_TO_FUNC,          PTR_TO_STACK_OR_NULL, ANYTHING,          NONE,            HF_CB,                  HT_ALL) \
X(snprintf,                      INTEGER,                   PTR_TO_MEM_OR_NULL, CONST_SIZE_OR_ZERO,   PTR_TO_CONST_STR,     PTR_TO_MEM_OR_NULL, CONST_SIZE_OR_ZERO, HF_GPL,                 HT_ALL) \
X(timer_init,                    INTEGER,                   PTR_TO_TIMER,      CONST_MAP_PTR,        ANYTHING,             NONE,              NONE,            HF_GPL,                 HT_ALL) \
X(timer_set_callback,            INTEGER,                   PTR_TO_TIMER,      PTR_TO_FUNC,          NONE,                 NONE,              NONE,            HF_GPL | HF_CB,         HT_ALL) \
X(timer_start,                   INTEGER,                   PTR_TO_TIMER,      ANYTHING,             ANYTHING,             NONE,              NONE,            HF_GPL,                 HT_ALL) \
X(timer_cancel,                  INTEGER,                   PTR_TO_TIMER,      NONE,                 NONE,                 NONE,              NONE,            HF_GPL,                 HT_ALL) \
X(get_func_ip,                   INTEGER,                   PTR_TO_CTX,        NONE,                 NONE,                 NONE,              NONE,            HF_GPL,                 HT_TRACE) \
X(get_attach_cookie,             INTEGER,                   PTR_TO_CTX,        NONE,                 NONE,                 NONE,              NONE,            0,                      HT(KPROBE) | HT(TRACEPOINT) | HT(PERF_EVENT) | HT(RAW_TRACEPOINT) | HT(TRACING) | HT(LSM)) \
X(task_pt_regs,                  PTR_TO_BTF_ID,             PTR_TO_BTF_ID,     NONE,                 NONE,                 NONE,              NONE,            HF_GPL,                 HT_ALL) \
X(get_branch_snapshot,           INTEGER,                   PTR_TO_UNINIT_MEM, CONST_SIZE_OR_ZERO,   NONE,                 NONE,              NONE,            HF_GPL,                 HT_ALL) \
X(trace_vprintk,                 INTEGER,                   PTR_TO_MEM,        CONST_SIZE,           PTR_TO_MEM_OR_NULL,   CONST_SIZE_OR_ZERO, NONE,            HF_GPL,                 HT_ALL) \
X(skc_to_unix_sock,              PTR_TO_BTF_ID_OR_NULL,     PTR_TO_SOCK_COMMON, NONE,                 NONE,                 NONE,              NONE,            0,                      HT_SKC_TO) \
X(find_vma,                      INTEGER,                   PTR_TO_BTF_ID,     ANYTHING,             PTR_TO_FUNC,          PTR_TO_STACK_OR_NULL, ANYTHING,        HF_CB,                  HT_ALL) \
X(loop,                          INTEGER,                   ANYTHING,          PTR_TO_FUNC,          PTR_TO_STACK_OR_NULL, ANYTHING,          NONE,            HF_CB,                  HT_ALL) \
X(strncmp,                       INTEGER,                   PTR_TO_MEM,        CONST_SIZE,           PTR_TO_CONST_STR,     NONE,              NONE,            0,                      HT_ALL) \
X(get_func_arg,                  INTEGER,                   PTR_TO_CTX,        ANYTHING,             PTR_TO_LONG,          NONE,              NONE,            0,                      HT(TRACING)) \
X(get_func_ret,                  INTEGER,                   PTR_TO_CTX,        PTR_TO_LONG,          NONE,                 NONE,              NONE,            0,                      HT(TRACING)) \
X(get_func_arg_cnt,              INTEGER,                   PTR_TO_CTX,        NONE,                 NONE,                 NONE,              NONE,            0,                      HT(TRACING)) \
X(xdp_get_buff_len,              INTEGER,                   PTR_TO_CTX,        NONE,                 NONE,                 NONE,              NONE,            0,                      HT(XDP) | HT_BTF_TRACE) \
X(xdp_load_bytes,                INTEGER,                   PTR_TO_CTX,        ANYTHING,             PTR_TO_UNINIT_MEM,    CONST_SIZE,        NONE,            0,                      HT(XDP)) \
X(xdp_store_bytes,               INTEGER,                   PTR_TO_CTX,        ANYTHING,             PTR_TO_MEM,           CONST_SIZE,        NONE,            0,                      HT(XDP)) \
X(copy_from_user_task,           INTEGER,                   PTR_TO_UNINIT_MEM, CONST_SIZE_OR_ZERO,   ANYTHING,             PTR_TO_BTF_ID,     ANYTHING,        HF_GPL | HF_SLEEP,      HT_ALL) \
X(skb_set_tstamp,                INTEGER,                   PTR_TO_CTX,        ANYTHING,             ANYTHING,             NONE,              NONE,            0,                      HT_TC) \
X(kptr_xchg,                     PTR_TO_BTF_ID_OR_NULL,     KPTR_XCHG_DEST,    PTR_TO_BTF_ID_OR_NULL, NONE,                 NONE,              NONE,            HF_REL,                 HT_ALL) \
X(map_lookup_percpu_elem,        PTR_TO_MAP_VALUE_OR_NULL,  CONST_MAP_PTR,     PTR_TO_MAP_KEY,       ANYTHING,             NONE,              NONE,            HF_PKT,                 HT_ALL) \
X(skc_to_mptcp_sock,             PTR_TO_BTF_ID_OR_NULL,     PTR_TO_SOCK_COMMON, NONE,                 NONE,                 NONE,              NONE,            0,                      HT_SKC_TO) \
X(dynptr_from_mem,               INTEGER,                   PTR_TO_UNINIT_MEM, CONST_SIZE_OR_ZERO,   ANYTHING,             PTR_TO_DYNPTR,     NONE,            0,                      HT_ALL) \
X(ringbuf_reserve_dynptr,        INTEGER,                   CONST_MAP_PTR,     ANYTHING,             ANYTHING,             PTR_TO_DYNPTR,     NONE,            HF_ACQ,                 HT_ALL) \
X(ringbuf_submit_dynptr,         VOID,                      PTR_TO_DYNPTR,     ANYTHING,             NONE,                 NONE,              NONE,            HF_REL,                 HT_ALL) \
X(ringbuf_discard_dynptr,        VOID,                      PTR_TO_DYNPTR,     ANYTHING,             NONE,                 NONE,              NONE,            HF_REL,                 HT_ALL) \
X(dynptr_read,                   INTEGER,                   PTR_TO_UNINIT_MEM, CONST_SIZE_OR_ZERO,   PTR_TO_DYNPTR,        ANYTHING,          ANYTHING,        0,                      HT_ALL) \
X(dynptr_write,                  INTEGER,                   PTR_TO_DYNPTR,     ANYTHING,             PTR_TO_MEM,           CONST_SIZE_OR_ZERO, ANYTHING,        0,                      HT_ALL) \
X(dynptr_data,                   PTR_TO_MEM_OR_NULL,        PTR_TO_DYNPTR,     ANYTHING,             CONST_ALLOC_SIZE_OR_ZERO, NONE,              NONE,            0,                      HT_ALL) \
X(ktime_get_tai_ns,              INTEGER,                   NONE,              NONE,                 NONE,                 NONE,              NONE,            0,                      HT_ALL) \
X(user_ringbuf_drain,            INTEGER,                   CONST_MAP_PTR,     PTR_TO_FUNC,          PTR_TO_STACK_OR_NULL, ANYTHING,          NONE,            HF_CB,                  HT_ALL)

#endif
