/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_K8S_AGENT_H
#define SLUICE_K8S_AGENT_H

#include <stdbool.h>
#include <stdint.h>

#include <sluice/error.h>

#include "model.h"

/*
 * The node agent, like cilium-agent: it loads the datapath (datapath/lb.o)
 * through libbpf, holds its maps (nothing is pinned: they live as long as
 * the agent), attaches the TC programs to each pod's veth in the node's
 * network namespace and the XDP program to its external interface, and
 * serves `sluice k8s apply/delete/status/gc` and `sluice flows` on a unix
 * socket; it reads the datapath's flow events into records (flow.h).  Every
 * ct_gc_interval seconds it deletes the conntrack entries of flows idle
 * longer than their state allows.  An apply parses and checks the manifests against everything
 * applied so far; only when all of it is valid does it touch the maps: new
 * backends first, then a new Maglev table per changed frontend and one
 * atomic switch to it (see datapath/lb.h), then the removals.  A failure
 * of the kernel half-way (out of memory) leaves the maps partly updated and
 * is reported as such; invalid input never gets that far.  The same apply
 * compiles the NetworkPolicy and CiliumNetworkPolicy objects into the
 * policy maps (policy_maps.h, docs/netpol.md).
 */

struct k8s_agent;

/*
 * How long an idle flow stays in conntrack, in seconds, by state (see
 * datapath/lb.h); Cilium's defaults: a connection that only sent SYNs or
 * one that closed goes soon, an established one stays six hours, UDP a
 * minute.
 */
struct k8s_ct_timeouts {
	uint32_t tcp_syn;
	uint32_t tcp_established;
	uint32_t tcp_closing;
	uint32_t udp;
};

#define K8S_CT_TIMEOUTS_DEFAULT \
	{ .tcp_syn = 60, .tcp_established = 21600, .tcp_closing = 10, .udp = 60 }
#define K8S_CT_GC_INTERVAL_DEFAULT 10

/*
 * The source of a pod's packets to a service whose chosen backend is the
 * pod itself (Cilium's IPv4 choice; neither is any pod's or node's address).
 */
#define K8S_HAIRPIN_IP4 "169.254.42.1"
#define K8S_HAIRPIN_IP6 "fd00:10:42::1"

struct k8s_agent_opts {
	const char *socket_path;  /* K8S_DEFAULT_SOCKET when NULL */
	const char *object_path;  /* the datapath object, lb.o */
	const char *netns;        /* enter /run/netns/NAME first; NULL: stay */
	struct k8s_node node;     /* its name and the addresses node ports use */
	uint32_t table_entries;   /* room for Maglev tables; 0: LB_MAGLEV_ENTRIES */
	/* NodePorts from outside (XDP, DSR) here; NULL: K8S_NODE_EXT_IF if any; "": none */
	const char *ext_ifname;
	struct k8s_ct_timeouts ct;
	/* seconds between conntrack garbage collections; 0: only when asked (sluice k8s gc) */
	unsigned ct_gc_interval;
};

/* Enter the namespace, load and set up the datapath, listen on the socket. */
int k8s_agent_open(const struct k8s_agent_opts *opts, struct k8s_agent **out,
		   struct sluice_error *err);
/* Serve requests until SIGINT or SIGTERM. */
int k8s_agent_serve(struct k8s_agent *a, struct sluice_error *err);
/* Detach the programs, remove the socket, free the maps. */
void k8s_agent_close(struct k8s_agent *a);

/* Enter the network namespace /run/netns/NAME (ip netns add NAME). */
int k8s_enter_netns(const char *name, struct sluice_error *err);

#endif
