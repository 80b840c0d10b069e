/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE /* qsort_r */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "flowstats.h"

#define CONN_WAYS 4

struct k8s_conn {
	uint64_t key;        /* hash of the 5-tuple; 0: a free way */
	uint64_t new_ns;     /* its NEW's time; 0 when its NEW was not seen */
	uint64_t seen_ns;    /* its latest record's time */
	uint64_t packets, bytes;
	bool established;
};

static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

#define FNV_OFFSET 0xcbf29ce484222325ull

int k8s_table_init(struct k8s_table *t, size_t key_size, size_t entry_size, size_t max)
{
	size_t n_slots = 16;

	/* at most half full: probes stay short */
	while (n_slots < 2 * max)
		n_slots *= 2;
	*t = (struct k8s_table){ .key_size = key_size, .entry_size = entry_size, .max = max,
				 .mask = n_slots - 1 };
	t->slots = calloc(n_slots, sizeof(*t->slots));
	return t->slots ? 0 : -ENOMEM;
}

void *k8s_table_get(struct k8s_table *t, const void *key)
{
	size_t i = (size_t)fnv1a(FNV_OFFSET, key, t->key_size) & t->mask;
	unsigned char *e;

	for (; t->slots[i]; i = (i + 1) & t->mask) {
		e = t->entries + (size_t)(t->slots[i] - 1) * t->entry_size;
		if (!memcmp(e, key, t->key_size))
			return e;
	}
	if (t->n == t->max)
		return NULL;
	if (t->n == t->allocated) {
		size_t more = t->allocated ? 2 * t->allocated : 16;
		unsigned char *grown;

		if (more > t->max)
			more = t->max;
		grown = realloc(t->entries, more * t->entry_size);
		if (!grown)
			return NULL;
		t->entries = grown;
		t->allocated = more;
	}
	e = t->entries + t->n * t->entry_size;
	memcpy(e, key, t->key_size);
	memset(e + t->key_size, 0, t->entry_size - t->key_size);
	t->slots[i] = (uint32_t)++t->n;
	return e;
}

struct sort_by {
	int (*cmp)(const void *a, const void *b, void *ctx);
	void *ctx;
};

static int cmp_entries(const void *a, const void *b, void *by)
{
	const struct sort_by *s = by;

	return s->cmp(*(void *const *)a, *(void *const *)b, s->ctx);
}

void **k8s_table_sorted(const struct k8s_table *t,
			int (*cmp)(const void *a, const void *b, void *ctx), void *ctx)
{
	struct sort_by by = { cmp, ctx };
	void **v = t->n ? malloc(t->n * sizeof(*v)) : NULL;

	if (!v)
		return NULL;
	for (size_t i = 0; i < t->n; i++)
		v[i] = t->entries + i * t->entry_size;
	qsort_r(v, t->n, sizeof(*v), cmp_entries, &by);
	return v;
}

size_t k8s_table_index(const struct k8s_table *t, const void *entry)
{
	return (size_t)((const unsigned char *)entry - t->entries) / t->entry_size;
}

void k8s_table_free(struct k8s_table *t)
{
	free(t->entries);
	free(t->slots);
	*t = (struct k8s_table){ 0 };
}

int k8s_conns_init(struct k8s_conns *c, size_t n_sets)
{
	*c = (struct k8s_conns){ .n_sets = n_sets };
	c->slots = calloc(n_sets * CONN_WAYS, sizeof(*c->slots));
	return c->slots ? 0 : -ENOMEM;
}

static uint64_t conn_key(const struct k8s_flow *f)
{
	uint64_t h = fnv1a(FNV_OFFSET, &f->proto, sizeof(f->proto));

	h = fnv1a(h, f->src.addr, strnlen(f->src.addr, sizeof(f->src.addr)));
	h = fnv1a(h, &f->src.port, sizeof(f->src.port));
	/* the address strings' ends: "10.0.0.1" then port 2 is not "10.0.0.12" then port 0 */
	h = fnv1a(h, "|", 1);
	h = fnv1a(h, f->dst.addr, strnlen(f->dst.addr, sizeof(f->dst.addr)));
	h = fnv1a(h, &f->dst.port, sizeof(f->dst.port));
	return h ? h : 1;
}

/* The connection's way in its set, taken over from the least recent one when new. */
static struct k8s_conn *conn_find(struct k8s_conns *c, uint64_t key)
{
	struct k8s_conn *set = c->slots + (key % c->n_sets) * CONN_WAYS, *victim = set;

	for (size_t w = 0; w < CONN_WAYS; w++) {
		if (set[w].key == key)
			return &set[w];
		if (victim->key && (!set[w].key || set[w].seen_ns < victim->seen_ns))
			victim = &set[w];
	}
	c->evicted += victim->key != 0;
	*victim = (struct k8s_conn){ .key = key };
	return victim;
}

void k8s_conns_account(struct k8s_conns *c, const struct k8s_flow *f, struct k8s_conn_delta *d)
{
	struct k8s_conn *conn;

	*d = (struct k8s_conn_delta){ 0 };
	/* a verdict on a packet that opened nothing: its own counts */
	if (f->type == K8S_FLOW_POLICY) {
		d->packets = f->packets;
		d->bytes = f->bytes;
		return;
	}
	conn = conn_find(c, conn_key(f));
	/* the same 5-tuple again without a CLOSED between: a new connection */
	if (f->type == K8S_FLOW_NEW && (conn->new_ns || conn->packets))
		*conn = (struct k8s_conn){ .key = conn->key };
	if (f->type == K8S_FLOW_NEW)
		conn->new_ns = f->time_ns;
	conn->seen_ns = f->time_ns;
	if (f->packets > conn->packets) {
		d->packets = f->packets - conn->packets;
		conn->packets = f->packets;
	}
	if (f->bytes > conn->bytes) {
		d->bytes = f->bytes - conn->bytes;
		conn->bytes = f->bytes;
	}
	if (f->type == K8S_FLOW_ESTABLISHED && conn->new_ns && !conn->established &&
	    f->time_ns >= conn->new_ns) {
		conn->established = true;
		d->connected = true;
		d->connect_ns = f->time_ns - conn->new_ns;
	}
	if (f->type == K8S_FLOW_CLOSED)
		*conn = (struct k8s_conn){ 0 };
}

void k8s_conns_free(struct k8s_conns *c)
{
	free(c->slots);
	*c = (struct k8s_conns){ 0 };
}

void k8s_write_escaped(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(out, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
}
