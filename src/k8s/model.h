/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_K8S_MODEL_H
#define SLUICE_K8S_MODEL_H

#include "manifest.h"

/*
 * What the datapath should hold, derived from a validated store: one
 * frontend per (cluster IP or node IP) x service port, each with the ready
 * backends it spreads over.  Backends come from the Service's EndpointSlices
 * (or its legacy Endpoints when it has no slice, or, with neither, from the
 * Pods its selector matches, as the endpoints controller would derive
 * them), matched to the service port by port name and protocol.
 */

struct k8s_node {
	char name[K8S_NAME_MAX];           /* for externalTrafficPolicy: Local */
	struct k8s_ip ips[K8S_MAX_IPS];    /* node ports listen here */
	size_t n_ips;
};

struct k8s_backend {
	struct k8s_ip ip;
	uint16_t port;
	const char *pod;                   /* "" when unknown */
};

struct k8s_frontend {
	const struct k8s_object *service;
	const struct k8s_service_port *sport;
	struct k8s_ip ip;
	uint16_t port;
	uint8_t proto;
	bool node_port;
	struct k8s_backend *backends;
	size_t n_backends;
	uint32_t maglev_size;
};

struct k8s_model {
	struct k8s_frontend *v;
	size_t n;
};

/* The frontends of the Services want(namespace, name) accepts (want NULL: of all). */
int k8s_model_build(const struct k8s_store *s, const struct k8s_node *node,
		    bool (*want)(const char *ns, const char *name, void *arg), void *arg,
		    struct k8s_model *m, struct sluice_error *err);
void k8s_model_free(struct k8s_model *m);

/* "10.244.1.5:8080", "[fd00::5]:8080": a backend's stable name (Maglev hashes it). */
const char *k8s_backend_name(const struct k8s_backend *b, char *buf, size_t size);

#endif
