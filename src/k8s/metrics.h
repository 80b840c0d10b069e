/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_K8S_METRICS_H
#define SLUICE_K8S_METRICS_H

#include <stdio.h>

#include <sluice/error.h>

#include "flow.h"

/*
 * RED metrics (rate, errors, duration) per service and per pod pair, built
 * from the agent's flow records and written in Prometheus' text exposition
 * format (`sluice k8s serve-metrics` serves them over HTTP).
 */

struct k8s_metrics;

/*
 * Label sets kept per scope (services; source and destination pod pairs):
 * the records of any more are folded into one set whose labels are all
 * "_other" (no Kubernetes name has an underscore), and counted.
 */
#define K8S_METRICS_MAX_LABEL_SETS 1024

int k8s_metrics_new(struct k8s_metrics **out, struct sluice_error *err);
/* Account one flow record. */
void k8s_metrics_add(struct k8s_metrics *m, const struct k8s_flow *f);
/* Everything accounted so far, in Prometheus text format 0.0.4. */
void k8s_metrics_write(const struct k8s_metrics *m, FILE *out);
void k8s_metrics_free(struct k8s_metrics *m);

#endif
