/* SPDX-License-Identifier: MIT */
/*
 * Maglev on the table alone: every backend gets floor(M/N) or ceil(M/N)
 * entries; the table does not depend on the backends' order; removing or
 * adding a backend moves at most 1/N of the entries (plus a small margin),
 * and of 10,000 flows hashed the way the datapath hashes them, each
 * backend gets its share within 10%.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../datapath/lb.h"
#include "k8s/maglev.h"

#define MAX_BACKENDS 64
#define FLOWS 10000

static const uint32_t sizes[] = { 1021, 16381, 65537 };

static char names[MAX_BACKENDS][32];
static const char *name_ptrs[MAX_BACKENDS];

static void make_names(size_t n)
{
	for (size_t i = 0; i < n; i++) {
		snprintf(names[i], sizeof(names[i]), "10.244.%zu.%zu:8080", i / 200, 10 + i % 200);
		name_ptrs[i] = names[i];
	}
}

static uint32_t *build(const char *const *v, size_t n, uint32_t m)
{
	uint32_t *t = malloc(m * sizeof(*t));
	struct sluice_error err = { 0 };

	assert_non_null(t);
	assert_int_equal(k8s_maglev_build(v, n, m, t, &err), 0);
	return t;
}

static void test_primes_and_sizes(void **state)
{
	(void)state;
	assert_true(k8s_is_prime(2));
	assert_true(k8s_is_prime(1021));
	assert_true(k8s_is_prime(16381));
	assert_true(k8s_is_prime(65537));
	assert_false(k8s_is_prime(0));
	assert_false(k8s_is_prime(1));
	assert_false(k8s_is_prime(1000));
	assert_false(k8s_is_prime(65535));
	assert_int_equal(k8s_maglev_default_size(1), 1021);
	assert_int_equal(k8s_maglev_default_size(10), 1021);
	assert_int_equal(k8s_maglev_default_size(11), 16381);
	assert_int_equal(k8s_maglev_default_size(163), 16381);
	assert_int_equal(k8s_maglev_default_size(164), 65537);
	assert_int_equal(k8s_maglev_default_size(5000), 65537);
}

static void test_bad_arguments(void **state)
{
	struct sluice_error err = { 0 };
	uint32_t t[1000];

	(void)state;
	make_names(3);
	assert_int_equal(k8s_maglev_build(name_ptrs, 3, 1000, t, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not prime"));
	assert_int_equal(k8s_maglev_build(name_ptrs, 0, 1021, t, &err), -EINVAL);
}

/* Each backend's share of the table is floor(M/N) or ceil(M/N). */
static void test_balance(void **state)
{
	static const size_t counts[] = { 1, 2, 3, 5, 7, 10, 33, 64 };

	(void)state;
	make_names(MAX_BACKENDS);
	for (size_t s = 0; s < 2; s++) {
		for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
			size_t n = counts[c];
			uint32_t *t = build(name_ptrs, n, sizes[s]), per[MAX_BACKENDS] = { 0 };

			for (uint32_t i = 0; i < sizes[s]; i++) {
				assert_true(t[i] < n);
				per[t[i]]++;
			}
			for (size_t b = 0; b < n; b++) {
				assert_true(per[b] >= sizes[s] / n);
				assert_true(per[b] <= (sizes[s] + n - 1) / n);
			}
			free(t);
		}
	}
}

/* The same backends in another order give the same backend per entry. */
static void test_order_independent(void **state)
{
	const char *reversed[MAX_BACKENDS];
	size_t n = 10;
	uint32_t *a, *b;

	(void)state;
	make_names(n);
	for (size_t i = 0; i < n; i++)
		reversed[i] = name_ptrs[n - 1 - i];
	a = build(name_ptrs, n, 1021);
	b = build(reversed, n, 1021);
	for (uint32_t i = 0; i < 1021; i++)
		assert_string_equal(name_ptrs[a[i]], reversed[b[i]]);
	free(a);
	free(b);
}

/* Entries whose backend differs (by name) between two tables. */
static uint32_t moved(const uint32_t *a, const char *const *an, const uint32_t *b,
		      const char *const *bn, uint32_t m)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < m; i++)
		n += strcmp(an[a[i]], bn[b[i]]) != 0;
	return n;
}

/*
 * Removing backend r of n: its own entries must move, and few others.
 * Maglev trades a little disruption for its perfect balance (the paper's
 * figure 12); at the sizes the agent picks (M >= 100 N) the bound here is
 * 1/N plus 3% of the table.
 */
static void test_disruption(void **state)
{
	const char *fewer[MAX_BACKENDS];

	(void)state;
	make_names(MAX_BACKENDS);
	for (size_t s = 0; s < 2; s++) {
		uint32_t m = sizes[s];

		for (size_t n = 3; n <= 10; n++) {
			uint32_t *full = build(name_ptrs, n, m), *less, *more;
			size_t r = n / 2, k = 0;
			double bound = (double)m / (double)n + 0.03 * m;

			for (size_t i = 0; i < n; i++)
				if (i != r)
					fewer[k++] = name_ptrs[i];
			less = build(fewer, n - 1, m);
			print_message("M %u: removing 1 of %zu moves %u entries, adding it back %u "
				      "(bound %.0f)\n", m, n, moved(full, name_ptrs, less, fewer, m),
				      moved(less, fewer, full, name_ptrs, m), bound);
			assert_true(moved(full, name_ptrs, less, fewer, m) <= bound);
			/* and back: adding a backend moves at most 1/N + 3% too */
			more = build(name_ptrs, n, m);
			assert_true(moved(less, fewer, more, name_ptrs, m) <= bound);
			for (uint32_t i = 0; i < m; i++)
				if (full[i] == r)
					assert_string_not_equal(name_ptrs[full[i]], fewer[less[i]]);
			free(full);
			free(less);
			free(more);
		}
	}
}

/* Flow i: client 10.244.0.x:port to 10.96.0.10:80/TCP, as the datapath hashes it. */
static void flow(size_t i, struct lb_ct_key *k)
{
	memset(k, 0, sizeof(*k));
	k->saddr[0] = htonl(0x0af40000u | (uint32_t)(i % 250 + 2));
	k->daddr[0] = htonl(0x0a60000au);
	k->sport = htons((uint16_t)(32768 + i / 250 * 7 + i % 7));
	k->dport = htons(80);
	k->proto = 6;
	k->family = 2;
}

/* 10,000 flows over 3 backends (and 10): each within 10% of its share. */
static void test_flow_spread(void **state)
{
	static const size_t counts[] = { 3, 10 };

	(void)state;
	make_names(MAX_BACKENDS);
	for (size_t c = 0; c < 2; c++) {
		size_t n = counts[c], per[MAX_BACKENDS] = { 0 };
		uint32_t m = k8s_maglev_default_size(n), *t = build(name_ptrs, n, m);
		double share = (double)FLOWS / (double)n;

		for (size_t i = 0; i < FLOWS; i++) {
			struct lb_ct_key k;

			flow(i, &k);
			per[t[lb_flow_hash(&k) % m]]++;
		}
		for (size_t b = 0; b < n; b++) {
			print_message("%zu backends: %s has %zu of %d flows\n", n, names[b], per[b],
				      FLOWS);
			assert_true(per[b] >= 0.9 * share && per[b] <= 1.1 * share);
		}
		free(t);
	}
}

/* The same flows, one backend of three removed: at most 1/3 + 2% move. */
static void test_flow_disruption(void **state)
{
	const char *fewer[2];
	uint32_t *full, *less, n_moved = 0, from_removed = 0;

	(void)state;
	make_names(3);
	fewer[0] = name_ptrs[0];
	fewer[1] = name_ptrs[2];
	full = build(name_ptrs, 3, 1021);
	less = build(fewer, 2, 1021);
	for (size_t i = 0; i < FLOWS; i++) {
		struct lb_ct_key k;
		uint32_t h;

		flow(i, &k);
		h = lb_flow_hash(&k) % 1021;
		from_removed += full[h] == 1;
		n_moved += strcmp(name_ptrs[full[h]], fewer[less[h]]) != 0;
	}
	print_message("removing 1 of 3 backends moved %u of %d flows (%u were on it)\n", n_moved,
		      FLOWS, from_removed);
	assert_true(n_moved >= from_removed);
	assert_true(n_moved <= FLOWS / 3 + FLOWS / 50);
	free(full);
	free(less);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_primes_and_sizes),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_balance),
		cmocka_unit_test(test_order_independent),
		cmocka_unit_test(test_disruption),
		cmocka_unit_test(test_flow_spread),
		cmocka_unit_test(test_flow_disruption),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
