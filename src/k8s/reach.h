/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_K8S_REACH_H
#define SLUICE_K8S_REACH_H

#include <stdbool.h>
#include <stddef.h>

#include "manifest.h"

/*
 * The fast probe behind the NetworkPolicy truth tables: from every source
 * network namespace, one connection (or datagram) to every target at
 * once, all answered or timed out within one timeout.  A target is reached
 * when its echo server answered (TCP: an HTTP response; UDP: a datagram),
 * so both the request and the reply crossed the datapath.  Each socket is
 * made in its source's namespace (setns applies to the calling thread, and
 * a socket stays in the namespace it was made in).
 */
struct k8s_reach_opts {
	const char *const *netns;   /* the sources: names under /run/netns */
	size_t n_src;
	const struct k8s_ip *dst;   /* the targets */
	size_t n_dst;
	uint16_t port;
	int proto;                  /* IPPROTO_TCP, IPPROTO_UDP */
	int timeout_ms;
};

/* reached[s * n_dst + d] for source s, target d. */
int k8s_reach_run(const struct k8s_reach_opts *o, bool *reached, struct sluice_error *err);

#endif
