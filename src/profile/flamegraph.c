/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "profile/flamegraph.h"

#define FLAME_TOP 36.0    /* the title's band */
#define FLAME_BOTTOM 24.0 /* the sample count's band */

struct node {
	char *name;
	uint64_t count;
	struct node *kids;
	size_t nkids, cap;
};

static void node_free(struct node *n)
{
	for (size_t i = 0; i < n->nkids; i++)
		node_free(&n->kids[i]);
	free(n->kids);
	free(n->name);
}

static struct node *child(struct node *n, const char *name, size_t len)
{
	struct node *k;

	for (size_t i = 0; i < n->nkids; i++)
		if (!strncmp(n->kids[i].name, name, len) && !n->kids[i].name[len])
			return &n->kids[i];
	if (n->nkids == n->cap) {
		size_t cap = n->cap ? 2 * n->cap : 4;
		struct node *grown = realloc(n->kids, cap * sizeof(*grown));

		if (!grown)
			return NULL;
		n->kids = grown;
		n->cap = cap;
	}
	k = &n->kids[n->nkids];
	*k = (struct node){ .name = strndup(name, len) };
	if (!k->name)
		return NULL;
	n->nkids++;
	return k;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct node *)a)->name, ((const struct node *)b)->name);
}

static unsigned sort_tree(struct node *n)
{
	unsigned depth = 0;

	if (n->nkids > 1)
		qsort(n->kids, n->nkids, sizeof(*n->kids), by_name);
	for (size_t i = 0; i < n->nkids; i++) {
		unsigned d = sort_tree(&n->kids[i]) + 1;

		depth = d > depth ? d : depth;
	}
	return depth;
}

static int build(struct prof_stacks *s, struct node *root)
{
	size_t n = prof_stacks_count(s);

	for (size_t i = 0; i < n; i++) {
		uint64_t count;
		const char *line = prof_stacks_line(s, i, &count);
		struct node *at = root;

		root->count += count;
		while (*line) {
			size_t len = strcspn(line, ";");

			at = child(at, line, len);
			if (!at)
				return -ENOMEM;
			at->count += count;
			line += len + (line[len] == ';');
		}
	}
	return 0;
}

/* XML 1.0 text: markup characters as entities, control bytes and non-ASCII as '?'. */
static void put_escaped(FILE *out, const char *text)
{
	for (; *text; text++) {
		unsigned char c = (unsigned char)*text;

		switch (c) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&apos;", out); break;
		default: fputc(c < 0x20 || c >= 0x7f ? '?' : c, out);
		}
	}
}

/* FNV-1a: a stable hash, so a name keeps its colour from run to run. */
static uint32_t name_hash(const char *name)
{
	uint32_t h = 2166136261u;

	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 16777619u;
	return h;
}

void prof_flame_clip(const char *name, double width, char *buf, size_t size)
{
	size_t len = strlen(name);
	double room = (width - 6) / FLAME_CHAR_WIDTH;
	size_t fit = room > 0 ? (size_t)room : 0;

	if (fit < 3 || size < 3) {
		buf[0] = '\0';
		return;
	}
	if (fit >= size)
		fit = size - 1;
	if (len <= fit) {
		memcpy(buf, name, len + 1);
		return;
	}
	memcpy(buf, name, fit - 2);
	memcpy(buf + fit - 2, "..", 3);
}

struct layout {
	FILE *out;
	double scale;
	double base_y; /* y of the root's rectangle */
	uint64_t total;
};

static void draw(const struct layout *l, const struct node *n, unsigned depth, double x)
{
	double w = (double)n->count * l->scale;
	double y = l->base_y - depth * FLAME_FRAME_HEIGHT;
	uint32_t h = name_hash(n->name);
	char clipped[256];

	if (w < FLAME_MIN_WIDTH)
		return;
	fputs("<g><title>", l->out);
	put_escaped(l->out, n->name);
	fprintf(l->out, " (%llu sample%s, %.2f%%)</title>", (unsigned long long)n->count,
		n->count == 1 ? "" : "s", 100.0 * (double)n->count / (double)l->total);
	fprintf(l->out, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
		"fill=\"rgb(%u,%u,%u)\" rx=\"2\" ry=\"2\"/>",
		x, y, w, FLAME_FRAME_HEIGHT - 1, 205 + h % 51, (h >> 8) % 231, (h >> 16) % 56);
	prof_flame_clip(n->name, w, clipped, sizeof(clipped));
	if (*clipped) {
		fprintf(l->out, "<text x=\"%.2f\" y=\"%.2f\">", x + 3, y + 11);
		put_escaped(l->out, clipped);
		fputs("</text>", l->out);
	}
	fputs("</g>\n", l->out);
	for (size_t i = 0; i < n->nkids; i++) {
		draw(l, &n->kids[i], depth + 1, x);
		x += (double)n->kids[i].count * l->scale;
	}
}

int prof_flamegraph_write(struct prof_stacks *s, const struct prof_flame_opts *opts, FILE *out,
			  struct sluice_error *err)
{
	struct node root = { .name = strdup("all") };
	unsigned width = opts && opts->width ? opts->width : 1200;
	const char *title = opts && opts->title ? opts->title : "Flame Graph";
	unsigned depth;
	double height;

	if (!root.name || build(s, &root)) {
		node_free(&root);
		return sluice_fail(err, ENOMEM, "out of memory");
	}
	depth = sort_tree(&root);
	height = FLAME_TOP + (depth + 1) * FLAME_FRAME_HEIGHT + FLAME_BOTTOM;
	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
		"<svg version=\"1.1\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%u\" "
		"height=\"%.0f\" viewBox=\"0 0 %u %.0f\">\n"
		"<rect x=\"0\" y=\"0\" width=\"%u\" height=\"%.0f\" fill=\"#f8f8f8\"/>\n"
		"<text x=\"%.2f\" y=\"24\" text-anchor=\"middle\" font-family=\"monospace\" "
		"font-size=\"17\">",
		width, height, width, height, width, height, width / 2.0);
	put_escaped(out, title);
	fputs("</text>\n<g font-family=\"monospace\" font-size=\"12\">\n", out);
	if (root.count) {
		struct layout l = {
			.out = out,
			.scale = (width - 2 * FLAME_XPAD) / (double)root.count,
			.base_y = FLAME_TOP + depth * FLAME_FRAME_HEIGHT,
			.total = root.count,
		};

		draw(&l, &root, 0, FLAME_XPAD);
	}
	fprintf(out, "</g>\n<text x=\"%.2f\" y=\"%.0f\" font-family=\"monospace\" "
		"font-size=\"12\">%llu sample%s</text>\n</svg>\n",
		FLAME_XPAD, height - 8, (unsigned long long)root.count, root.count == 1 ? "" : "s");
	node_free(&root);
	if (fflush(out) || ferror(out))
		return sluice_fail(err, EIO, "cannot write the flame graph");
	return 0;
}
