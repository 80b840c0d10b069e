/* SPDX-License-Identifier: MIT */
/*
 * Folded-stack aggregation and the flame graph renderer on synthetic
 * stacks: merged counts, the folded text, exact rectangle geometry,
 * escaping, clipping, colours that depend on the name only, and XML that
 * xmllint accepts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "profile/flamegraph.h"
#include "profile/stacks.h"

static const char *xmllint;

static void add(struct prof_stacks *s, const char *a, const char *b, const char *c,
		uint64_t count)
{
	const char *frames[] = { a, b, c };

	assert_int_equal(prof_stacks_add(s, frames, c ? 3 : b ? 2 : 1, count, NULL), 0);
}

static char *render(struct prof_stacks *s, unsigned width)
{
	struct prof_flame_opts o = { .title = "t", .width = width };
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	assert_int_equal(prof_flamegraph_write(s, &o, f, NULL), 0);
	fclose(f);
	return text;
}

static char *folded(struct prof_stacks *s)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	assert_int_equal(prof_stacks_write_folded(s, f, NULL), 0);
	fclose(f);
	return text;
}

static void test_merge(void **state)
{
	struct prof_stacks *s = prof_stacks_new();
	const char *odd[] = { "p", "a;b\nc", "" };
	char *text;

	(void)state;
	add(s, "main", "b", NULL, 2);
	add(s, "main", "c", NULL, 1);
	add(s, "main", "b", NULL, 1);
	add(s, "main", NULL, NULL, 5);
	assert_int_equal(prof_stacks_add(s, odd, 3, 1, NULL), 0);
	assert_int_equal(prof_stacks_count(s), 4);
	assert_int_equal(prof_stacks_total(s), 10);
	text = folded(s);
	assert_string_equal(text, "main 5\nmain;b 3\nmain;c 1\np;a:b c;[unknown] 1\n");
	free(text);
	prof_stacks_free(s);
}

static void test_geometry(void **state)
{
	struct prof_stacks *s = prof_stacks_new();
	char *svg;

	(void)state;
	add(s, "a", "b", NULL, 3);
	add(s, "a", "c", NULL, 1);
	svg = render(s, 1200);
	/* 3 levels: height 36 + 3 * 16 + 24; scale (1200 - 20) / 4 samples = 295 px */
	assert_non_null(strstr(svg, "width=\"1200\" height=\"108\""));
	assert_non_null(strstr(svg, "<title>all (4 samples, 100.00%)</title><rect x=\"10.00\" "
				    "y=\"68.00\" width=\"1180.00\" height=\"15.00\""));
	assert_non_null(strstr(svg, "<title>a (4 samples, 100.00%)</title><rect x=\"10.00\" "
				    "y=\"52.00\" width=\"1180.00\" height=\"15.00\""));
	assert_non_null(strstr(svg, "<title>b (3 samples, 75.00%)</title><rect x=\"10.00\" "
				    "y=\"36.00\" width=\"885.00\" height=\"15.00\""));
	assert_non_null(strstr(svg, "<title>c (1 sample, 25.00%)</title><rect x=\"895.00\" "
				    "y=\"36.00\" width=\"295.00\" height=\"15.00\""));
	assert_non_null(strstr(svg, "<text x=\"898.00\" y=\"47.00\">c</text>"));
	assert_non_null(strstr(svg, ">4 samples</text>"));
	free(svg);
	prof_stacks_free(s);
}

static void test_escaping(void **state)
{
	struct prof_stacks *s = prof_stacks_new();
	char *svg;

	(void)state;
	add(s, "x<y>&\"z'", "operator<<", NULL, 1);
	svg = render(s, 1200);
	assert_non_null(strstr(svg, "<title>x&lt;y&gt;&amp;&quot;z&apos; (1 sample, 100.00%)"));
	assert_non_null(strstr(svg, ">operator&lt;&lt;</text>"));
	assert_null(strstr(svg, "<y>"));
	free(svg);
	prof_stacks_free(s);
}

static void test_clip(void **state)
{
	char buf[64];

	(void)state;
	/* (50 - 6) / 7.2 = 6.1 characters */
	prof_flame_clip("abcdefghij", 50, buf, sizeof(buf));
	assert_string_equal(buf, "abcd..");
	prof_flame_clip("abcdef", 50, buf, sizeof(buf));
	assert_string_equal(buf, "abcdef");
	prof_flame_clip("abcdef", 27, buf, sizeof(buf)); /* 2.9: nothing fits */
	assert_string_equal(buf, "");
}

/* The fill of the first frame named name: "rgb(r,g,b)". */
static void fill_of(const char *svg, const char *name, char *buf, size_t size)
{
	char title[64];
	const char *at;

	snprintf(title, sizeof(title), "<title>%s (", name);
	at = strstr(svg, title);
	assert_non_null(at);
	at = strstr(at, "fill=\"");
	assert_non_null(at);
	at += 6;
	snprintf(buf, size, "%.*s", (int)strcspn(at, "\""), at);
}

static void test_colours_and_narrow(void **state)
{
	struct prof_stacks *s = prof_stacks_new(), *other = prof_stacks_new();
	char *one, *two, *three, fill1[32], fill2[32];

	(void)state;
	add(s, "same", "wide", NULL, 100000);
	add(s, "same", "narrow", NULL, 1);
	one = render(s, 1200);
	two = render(s, 1200);
	assert_string_equal(one, two);
	/* 1180 / 100001 px is under FLAME_MIN_WIDTH: left out */
	assert_null(strstr(one, "narrow"));
	/* a name's colour is the name's: the same in another graph */
	add(other, "root", "same", NULL, 7);
	three = render(other, 800);
	fill_of(one, "same", fill1, sizeof(fill1));
	fill_of(three, "same", fill2, sizeof(fill2));
	assert_string_equal(fill1, fill2);
	fill_of(three, "root", fill2, sizeof(fill2));
	assert_string_not_equal(fill1, fill2);
	free(one);
	free(two);
	free(three);
	prof_stacks_free(s);
	prof_stacks_free(other);
}

static void test_xmllint(void **state)
{
	struct prof_stacks *s = prof_stacks_new();
	char path[] = "/tmp/sluice-flame-XXXXXX";
	char cmd[256];
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	(void)state;
	assert_non_null(f);
	add(s, "comm", "a<b", "c&d", 3);
	add(s, "comm", "\"quoted\"", "\x01\x7f\xc3\xa9", 2);
	add(s, "comm", NULL, NULL, 1);
	assert_int_equal(prof_flamegraph_write(s, NULL, f, NULL), 0);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "%s --noout %s", xmllint, path);
	assert_int_equal(system(cmd), 0);
	unlink(path);
	prof_stacks_free(s);
}

static void test_empty(void **state)
{
	struct prof_stacks *s = prof_stacks_new();
	char *svg = render(s, 0);

	(void)state;
	assert_non_null(strstr(svg, ">0 samples</text>"));
	assert_null(strstr(svg, "<rect x=\"10.00\""));
	free(svg);
	prof_stacks_free(s);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_geometry),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_clip),
		cmocka_unit_test(test_colours_and_narrow),
		cmocka_unit_test(test_xmllint),
		cmocka_unit_test(test_empty),
	};

	xmllint = argc > 1 ? argv[1] : "xmllint";
	return cmocka_run_group_tests(tests, NULL, NULL);
}
