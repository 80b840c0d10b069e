/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "errmsg.h"
#include "maglev.h"
#include "model.h"

const char *k8s_backend_name(const struct k8s_backend *b, char *buf, size_t size)
{
	char ip[64];

	k8s_ip_str(&b->ip, ip, sizeof(ip));
	snprintf(buf, size, b->ip.family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, b->port);
	return buf;
}

static bool selects(const struct k8s_labels *selector, const struct k8s_labels *labels)
{
	for (size_t i = 0; i < selector->n; i++) {
		const char *v = k8s_label(labels, selector->v[i].key);

		if (!v || strcmp(v, selector->v[i].value))
			return false;
	}
	return true;
}

static int add_backend(struct k8s_frontend *f, const struct k8s_ip *ip, uint16_t port,
		       const char *pod)
{
	struct k8s_backend *v;

	for (size_t i = 0; i < f->n_backends; i++)
		if (k8s_ip_equal(&f->backends[i].ip, ip) && f->backends[i].port == port)
			return 0; /* in two slices: Kubernetes dedups too */
	v = realloc(f->backends, (f->n_backends + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	f->backends = v;
	v[f->n_backends++] = (struct k8s_backend){ .ip = *ip, .port = port, .pod = pod };
	return 0;
}

/* The endpoint set's port for the service port: same name and protocol. */
static const struct k8s_port *subset_port(const struct k8s_subset *sub,
					  const struct k8s_service_port *sp)
{
	for (size_t i = 0; i < sub->n_ports; i++)
		if (!strcmp(sub->ports[i].name, sp->port.name) &&
		    sub->ports[i].proto == sp->port.proto)
			return &sub->ports[i];
	return NULL;
}

/* The endpoint sets, sorted by namespace and Service, for a binary search per Service. */
struct eps_index {
	const struct k8s_object **v;
	size_t n;
};

static int eps_cmp(const char *ns, const char *service, const struct k8s_object *o)
{
	int c = strcmp(ns, o->ns);

	return c ? c : strcmp(service, o->u.eps.service);
}

static int cmp_eps(const void *a, const void *b)
{
	const struct k8s_object *x = *(const struct k8s_object *const *)a;
	const struct k8s_object *y = *(const struct k8s_object *const *)b;

	return eps_cmp(x->ns, x->u.eps.service, y);
}

/* The endpoint sets of the Services wanted. */
static int eps_index_build(const struct k8s_store *s,
			   bool (*want)(const char *ns, const char *name, void *arg), void *arg,
			   struct eps_index *idx)
{
	idx->n = 0;
	idx->v = malloc((s->n + 1) * sizeof(*idx->v));
	if (!idx->v)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++)
		if ((s->v[i]->kind == K8S_ENDPOINT_SLICE || s->v[i]->kind == K8S_ENDPOINTS) &&
		    (!want || want(s->v[i]->ns, s->v[i]->u.eps.service, arg)))
			idx->v[idx->n++] = s->v[i];
	qsort(idx->v, idx->n, sizeof(*idx->v), cmp_eps);
	return 0;
}

/* Ready endpoints of one kind of endpoint set; *found when the Service has one. */
static int from_endpoints(const struct eps_index *idx, struct k8s_frontend *f,
			  enum k8s_kind kind, const struct k8s_node *node, bool *found)
{
	const struct k8s_object *svc = f->service;
	size_t lo = 0, hi = idx->n;

	/* the first set of the Service */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (eps_cmp(svc->ns, svc->name, idx->v[mid]) > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < idx->n && !eps_cmp(svc->ns, svc->name, idx->v[i]); i++) {
		const struct k8s_object *o = idx->v[i];

		if (o->kind != kind)
			continue;
		*found = true;
		for (size_t j = 0; j < o->u.eps.n_subsets; j++) {
			const struct k8s_subset *sub = &o->u.eps.subsets[j];
			const struct k8s_port *p = subset_port(sub, f->sport);

			for (size_t k = 0; p && k < sub->n_endpoints; k++) {
				const struct k8s_endpoint *e = &sub->endpoints[k];

				if (!e->ready || e->ip.family != f->ip.family)
					continue;
				if (f->node_port && svc->u.svc.local && strcmp(e->node, node->name))
					continue;
				if (add_backend(f, &e->ip, p->port, e->pod))
					return -ENOMEM;
			}
		}
	}
	return 0;
}

/* Without endpoint sets: the Pods the selector matches, at the target port. */
static int from_selector(const struct k8s_store *s, struct k8s_frontend *f,
			 const struct k8s_node *node)
{
	const struct k8s_service *svc = &f->service->u.svc;

	for (size_t i = 0; i < s->n && svc->has_selector; i++) {
		const struct k8s_object *o = s->v[i];
		uint16_t port = f->sport->target_port;

		if (o->kind != K8S_POD || strcmp(o->ns, f->service->ns) ||
		    !selects(&svc->selector, &o->labels))
			continue;
		if (f->node_port && svc->local && strcmp(o->u.pod.node, node->name))
			continue;
		for (size_t j = 0; !port && j < o->u.pod.n_ports; j++)
			if (!strcmp(o->u.pod.ports[j].name, f->sport->target_name) &&
			    o->u.pod.ports[j].proto == f->sport->port.proto)
				port = o->u.pod.ports[j].port;
		for (size_t j = 0; port && j < o->u.pod.n_ips; j++)
			if (o->u.pod.ips[j].family == f->ip.family &&
			    add_backend(f, &o->u.pod.ips[j], port, o->name))
				return -ENOMEM;
	}
	return 0;
}

static int add_frontend(const struct k8s_store *s, const struct eps_index *idx,
			const struct k8s_node *node, struct k8s_model *m, const struct k8s_object *svc,
			const struct k8s_service_port *sp, const struct k8s_ip *ip, bool node_port)
{
	struct k8s_frontend *v = realloc(m->v, (m->n + 1) * sizeof(*v)), *f;
	bool found = false;

	if (!v)
		return -ENOMEM;
	m->v = v;
	f = &v[m->n++];
	*f = (struct k8s_frontend){
		.service = svc, .sport = sp, .ip = *ip, .proto = sp->port.proto,
		.port = node_port ? sp->node_port : sp->port.port, .node_port = node_port,
	};
	if (from_endpoints(idx, f, K8S_ENDPOINT_SLICE, node, &found))
		return -ENOMEM;
	if (!found && from_endpoints(idx, f, K8S_ENDPOINTS, node, &found))
		return -ENOMEM;
	if (!found && from_selector(s, f, node))
		return -ENOMEM;
	f->maglev_size = svc->u.svc.maglev_size ? svc->u.svc.maglev_size :
			 k8s_maglev_default_size(f->n_backends);
	return 0;
}

int k8s_model_build(const struct k8s_store *s, const struct k8s_node *node,
		    bool (*want)(const char *ns, const char *name, void *arg), void *arg,
		    struct k8s_model *m, struct sluice_error *err)
{
	struct eps_index idx;

	memset(m, 0, sizeof(*m));
	if (eps_index_build(s, want, arg, &idx))
		return sluice_fail(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < s->n; i++) {
		const struct k8s_object *o = s->v[i];
		const struct k8s_service *svc = &o->u.svc;

		if (o->kind != K8S_SERVICE || svc->headless || (want && !want(o->ns, o->name, arg)))
			continue;
		for (size_t p = 0; p < svc->n_ports; p++) {
			const struct k8s_service_port *sp = &svc->ports[p];

			for (size_t a = 0; a < svc->n_ips; a++)
				if (add_frontend(s, &idx, node, m, o, sp, &svc->ips[a], false))
					goto nomem;
			/* a node port on the node's address of each family the service has */
			for (size_t a = 0; sp->node_port && a < node->n_ips; a++)
				for (size_t b = 0; b < svc->n_ips; b++)
					if (svc->ips[b].family == node->ips[a].family &&
					    add_frontend(s, &idx, node, m, o, sp, &node->ips[a], true))
						goto nomem;
		}
	}
	free(idx.v);
	return 0;
nomem:
	free(idx.v);
	k8s_model_free(m);
	return sluice_fail(err, ENOMEM, "out of memory");
}

void k8s_model_free(struct k8s_model *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].backends);
	free(m->v);
	m->v = NULL;
	m->n = 0;
}
