/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_K8S_POLICY_MAPS_H
#define SLUICE_K8S_POLICY_MAPS_H

#include <stdbool.h>
#include <stdio.h>

#include <bpf/libbpf.h>

#include "policy.h"

/*
 * The agent's half of NetworkPolicy: the datapath's policy maps (in lb.o,
 * see datapath/policy.h), what it last wrote to them, and the identity
 * numbers handed out so far.  A sync writes only the difference between
 * the compiled policy it is given and the one in the maps, then bumps the
 * revision, so that flows allowed before are checked again at their next
 * packet.
 */
struct k8s_policy_maps {
	int ipcache, rules, ct, config, counters, http_ports, http_rules;
	int ncpus;
	uint32_t revision;
	struct k8s_id_table ids;
	struct k8s_policy cur;
};

int k8s_policy_maps_open(struct k8s_policy_maps *m, struct bpf_object *obj, int ncpus,
			 struct sluice_error *err);
/* Compile the store's policies (nothing written on error). */
int k8s_policy_maps_compile(struct k8s_policy_maps *m, const struct k8s_store *s,
			    struct k8s_policy *out, struct sluice_error *err);
/* Entries written: added, changed, removed. */
struct k8s_policy_changes {
	size_t rules[3];
	size_t ipcache[3];
	size_t http_ports;  /* ports whose HTTP rules were written or removed */
};

/* Write next to the maps; next is then theirs (moved into m). */
int k8s_policy_maps_sync(struct k8s_policy_maps *m, struct k8s_policy *next,
			 struct k8s_policy_changes *c, struct sluice_error *err);
void k8s_policy_maps_close(struct k8s_policy_maps *m);

/* `sluice k8s policy`: identities, endpoints and their rules, drop counters. */
void k8s_policy_maps_show(const struct k8s_policy_maps *m, bool json, FILE *out);
/* `sluice k8s why`: args "SRC,DST,PORT,PROTO" (one word: the wire's argument is one). */
int k8s_policy_maps_why(const struct k8s_policy_maps *m, const char *args, FILE *out,
			struct sluice_error *err);

#endif
