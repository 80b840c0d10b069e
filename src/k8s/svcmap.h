/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_K8S_SVCMAP_H
#define SLUICE_K8S_SVCMAP_H

#include <stdio.h>

#include <sluice/error.h>

#include "flow.h"

/*
 * The service map: pods and services as nodes, who talked to whom as edges
 * weighted by traffic and coloured by drops, built from the agent's flow
 * records and written as Graphviz DOT (`sluice k8s map` renders it).
 */

struct k8s_svcmap;

/* Bounds on the graph: the records that would go beyond are left out, and counted. */
#define K8S_SVCMAP_MAX_NODES 1024
#define K8S_SVCMAP_MAX_EDGES 4096

int k8s_svcmap_new(struct k8s_svcmap **out, struct sluice_error *err);
/* Account one flow record. */
void k8s_svcmap_add(struct k8s_svcmap *m, const struct k8s_flow *f);
/* The graph so far, as a DOT digraph. */
void k8s_svcmap_write_dot(const struct k8s_svcmap *m, FILE *out);
void k8s_svcmap_free(struct k8s_svcmap *m);

#endif
