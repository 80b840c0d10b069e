/* SPDX-License-Identifier: MIT */
/*
 * Flow events, Hubble's raw material: the datapath (lb.c, policy_tc.h)
 * writes one into the lb_flows ring buffer per change of a connection's
 * state and per drop; the agent (src/k8s/agent.c) reads them, resolves the
 * addresses to pods, identities and services and keeps the records
 * (src/k8s/flow.h).  One layout, compiled twice.
 *
 * Events are built in one non-inlined function of lb.c (flow_emit), so
 * that each place that reports costs a call, not a copy of the code.  A
 * full ring never blocks a packet: the event is lost and counted in
 * lb_flow_lost (per CPU), which `sluice k8s status` reports.
 *
 * What is reported, and where:
 * - NEW: a service flow got its conntrack entry (lb_from_pod after the
 *   egress policy allowed it, lb_nodeport, or lb_to_pod for a DSR flow
 *   another node balanced); a flow through no service got its policy
 *   conntrack entry at its source pod's egress (policy_tc.h);
 * - ESTABLISHED: the backend's first reply (lb_from_pod);
 * - CLOSED: FIN from both sides or a RST, either way;
 * - DROP: no backend, a policy denied it, an HTTP request was refused;
 * - HTTP_REQUEST: a request head to a port with HTTP rules (lb_to_pod),
 *   its first FLOW_HTTP_HEAD bytes (the request line) carried along;
 * - HTTP_RESPONSE: a reply segment of a service flow that starts with an
 *   HTTP/1.x status line (lb_from_pod), with its status code.
 * Flows that age out of conntrack are reported by the agent's collector.
 */
#ifndef SLUICE_DATAPATH_FLOW_H
#define SLUICE_DATAPATH_FLOW_H

#include <linux/types.h>

#include "lb.h"

/* The ring's size: a power of two pages; room for about 19,000 events. */
#define FLOW_RING_BYTES (1u << 22)
#define FLOW_HTTP_HEAD 128u

/* The same numbers as enum k8s_flow_type and enum k8s_drop_reason. */
enum flow_event_type {
	FLOW_EV_NEW,
	FLOW_EV_ESTABLISHED,
	FLOW_EV_CLOSED,
	FLOW_EV_DROP,
	FLOW_EV_HTTP_REQUEST,
	FLOW_EV_HTTP_RESPONSE,
};

enum flow_drop_reason {
	FLOW_DROP_NONE,
	FLOW_DROP_POLICY_DENIED,
	FLOW_DROP_NO_IDENTITY,
	FLOW_DROP_HTTP_DENIED,
	FLOW_DROP_NO_BACKEND,
	FLOW_DROP_MALFORMED,
};

struct flow_event {
	__u64 time;                /* bpf_ktime_get_ns() */
	__u64 packets;             /* of the connection so far, both ways; 0: not tracked here */
	__u64 bytes;
	struct lb_ct_key tuple;    /* as the client sent it: to a frontend, or to a pod */
	__be32 backend[4];         /* where a service DNAT sent it; zero: nowhere (tuple.daddr) */
	__be16 backend_port;
	__u8 type;                 /* FLOW_EV_* */
	__u8 reason;               /* FLOW_DROP_* (FLOW_EV_DROP, refused HTTP requests) */
	__u8 tcp_flags;            /* of the packet that made the event */
	__u8 egress;               /* 1: seen leaving a pod (lb_from_pod); 0: arriving */
	__u16 status;              /* HTTP responses */
	__u8 http[FLOW_HTTP_HEAD]; /* HTTP requests: the head's first bytes */
};

/*
 * What flow_emit() is told besides the addresses, in one register: the
 * type, the reason, the TCP flags, the direction, the backend's port and an
 * HTTP status.
 */
#define FLOW_WHAT(type, reason, tcp_flags, egress, port, status)                        \
	((__u64)(type) | (__u64)(reason) << 8 | (__u64)(tcp_flags) << 16 |                  \
	 (__u64)(egress) << 24 | (__u64)(port) << 32 | (__u64)(status) << 48)

/*
 * 1 when a TCP flow's flags say it has ended: a RST, or FIN from both
 * sides (lb_flow_state()'s closed and reset), in arithmetic: a branch less
 * for the verifier to follow at each place a packet is noted.
 */
static inline __attribute__((always_inline)) __u8 flow_ct_ended(__u8 f)
{
	return ((f >> 4) | ((f >> 2) & (f >> 3))) & 1;
}

_Static_assert(LB_CT_CLIENT_FIN == 1 << 2 && LB_CT_BACKEND_FIN == 1 << 3 && LB_CT_RST == 1 << 4 &&
	       LB_CT_REPLIED == 1, "flow_ct_ended() and flow_ct_event() read these bits");

/*
 * The event a packet makes by changing a flow's forward entry flags from
 * was to now (lb_ct_seen()): CLOSED when a TCP flow reaches closed or
 * reset, else ESTABLISHED at the first reply; -1 for none.
 */
static inline __attribute__((always_inline)) int flow_ct_event(__u8 proto, __u8 was, __u8 now)
{
	if (proto == 6 && (flow_ct_ended(now) & ~flow_ct_ended(was))) /* IPPROTO_TCP */
		return FLOW_EV_CLOSED;
	return (now & ~was & LB_CT_REPLIED) ? FLOW_EV_ESTABLISHED : -1;
}

#endif
