/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_K8S_TOPOLOGY_H
#define SLUICE_K8S_TOPOLOGY_H

#include <net/if.h>

#include "manifest.h"

/*
 * One Kubernetes node on one machine, out of network namespaces:
 *   PREFIX-node           the node: forwards between pods, runs the agent
 *   PREFIX-NS-POD         a pod: eth0 (its address /32 or /128), default
 *                         route via 169.254.1.1 / fe80::1 on the node's end
 *   PREFIX-ext            a client outside the cluster, on the node's ext0
 *                         (K8S_NODE_IP4 <-> K8S_EXT_IP4), for NodePorts
 * Each pod's veth end in the node is named by k8s_veth_name(), which is how
 * the agent finds where to attach the datapath.  Pods with container ports
 * run `sluice k8s echo` on them, answering with the pod's name.
 */

#define K8S_NODE_NAME "node-1"
#define K8S_NODE_IP4 "10.0.0.1"
#define K8S_EXT_IP4 "10.0.0.2"
#define K8S_NODE_IP6 "fd00:10::1"
#define K8S_EXT_IP6 "fd00:10::2"
#define K8S_NODE_EXT_IF "ext0"

/* "lxc" and 8 hex digits of a hash of "ns/pod": unique in the node, short enough. */
void k8s_veth_name(const char *ns, const char *pod, char out[IF_NAMESIZE]);

struct k8s_topology_opts {
	const char *prefix;   /* of every namespace name */
	const char *exe;      /* the sluice binary, for the echo servers */
};

/* Create everything for the store's Pods; on failure remove what was made. */
int k8s_topology_up(const struct k8s_store *s, const struct k8s_topology_opts *o,
		    size_t *pods, struct sluice_error *err);
/*
 * Remove every namespace named PREFIX-* (and stop the processes inside,
 * the agent included): whatever up made, even when it stopped half-way.
 */
int k8s_topology_down(const struct k8s_topology_opts *o, size_t *removed,
		      struct sluice_error *err);

/* The network namespace of a pod: PREFIX-NS-POD. */
void k8s_pod_netns(const char *prefix, const char *ns, const char *pod, char *out, size_t size);

#endif
