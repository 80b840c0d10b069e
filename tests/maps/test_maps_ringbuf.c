/* SPDX-License-Identifier: MIT */
/*
 * Ring buffers: the record header, reserve/submit/discard, the consumer's
 * order, a busy record holding back the ones after it, running out of
 * room, a record that wraps, query, the wakeup rules, and a consumer in
 * another process.
 */
#include <sys/wait.h>
#include <unistd.h>

#include "maps_test.h"

#define RING 4096

struct seen {
	int n;
	size_t sizes[8];
	uint8_t first[8];
};

static int record(void *ctx, void *data, size_t size)
{
	struct seen *s = ctx;

	if (s->n < 8) {
		s->sizes[s->n] = size;
		s->first[s->n] = size ? *(uint8_t *)data : 0;
	}
	s->n++;
	return 0;
}

static void test_header_and_query(void **state)
{
	struct sluice_map *map = make_map(BPF_MAP_TYPE_RINGBUF, 0, 0, RING, 0);
	struct seen s = { 0 };
	uint32_t *hdr;
	uint8_t *rec;

	(void)state;
	rec = sluice_ringbuf_reserve(map, 10, 0);
	assert_non_null(rec);
	assert_int_equal((uintptr_t)rec % 8, 0);
	hdr = (uint32_t *)(rec - 8);
	assert_int_equal(hdr[0], 10 | BPF_RINGBUF_BUSY_BIT);
	assert_true(hdr[1] > 0); /* pg_off: the header's page in the map */
	assert_int_equal(sluice_ringbuf_query(map, BPF_RB_PROD_POS), 24);
	assert_int_equal(sluice_ringbuf_query(map, BPF_RB_AVAIL_DATA), 24);
	assert_int_equal(sluice_ringbuf_query(map, BPF_RB_RING_SIZE), RING);
	assert_int_equal(sluice_ringbuf_query(map, 77), 0);
	memset(rec, 0xab, 10);
	sluice_ringbuf_submit(rec, 0);
	assert_int_equal(hdr[0], 10);
	assert_int_equal(sluice_ringbuf_consume(map, record, &s), 1);
	assert_int_equal(s.sizes[0], 10);
	assert_int_equal(s.first[0], 0xab);
	assert_int_equal(sluice_ringbuf_query(map, BPF_RB_CONS_POS), 24);
	assert_int_equal(sluice_ringbuf_query(map, BPF_RB_AVAIL_DATA), 0);
	sluice_map_close(map);
}

static void test_order_discard_busy(void **state)
{
	struct sluice_map *map = make_map(BPF_MAP_TYPE_RINGBUF, 0, 0, RING, 0);
	struct seen s = { 0 };
	uint8_t *a, *b, *c;

	(void)state;
	a = sluice_ringbuf_reserve(map, 1, 0);
	b = sluice_ringbuf_reserve(map, 2, 0);
	c = sluice_ringbuf_reserve(map, 3, 0);
	*a = 'a';
	*b = 'b';
	*c = 'c';
	sluice_ringbuf_discard(b, 0);
	sluice_ringbuf_submit(c, 0);
	/* a is still reserved: nothing after it may be read */
	assert_int_equal(sluice_ringbuf_consume(map, record, &s), 0);
	assert_int_equal(((uint32_t *)b)[-2], 2 | BPF_RINGBUF_DISCARD_BIT);
	sluice_ringbuf_submit(a, 0);
	assert_int_equal(sluice_ringbuf_consume(map, record, &s), 2);
	assert_int_equal(s.first[0], 'a');
	assert_int_equal(s.first[1], 'c');
	assert_int_equal(s.sizes[1], 3);
	sluice_map_close(map);
}

static void test_full_and_wrap(void **state)
{
	struct sluice_map *map = make_map(BPF_MAP_TYPE_RINGBUF, 0, 0, RING, 0);
	struct seen s = { 0 };
	uint8_t data[300], *rec;

	(void)state;
	assert_null(sluice_ringbuf_reserve(map, RING, 0));
	assert_null(sluice_ringbuf_reserve(map, 8, 1)); /* flags must be 0 */
	rec = sluice_ringbuf_reserve(map, 4000, 0);
	assert_non_null(rec);
	assert_null(sluice_ringbuf_reserve(map, 100, 0)); /* 4008 + 112 > RING - 1 */
	assert_int_equal(sluice_ringbuf_output(map, data, 100, 0), -EAGAIN);
	assert_int_equal(sluice_ringbuf_output(map, data, 1, 4), -EINVAL);
	sluice_ringbuf_submit(rec, 0);
	assert_int_equal(sluice_ringbuf_consume(map, record, &s), 1);
	/* this record starts 88 bytes before the end and wraps: still contiguous */
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)i;
	assert_int_equal(sluice_ringbuf_output(map, data, sizeof(data), 0), 0);
	assert_int_equal(sluice_ringbuf_consume(map, record, &s), 1);
	assert_int_equal(s.sizes[1], sizeof(data));
	assert_int_equal(sluice_ringbuf_query(map, BPF_RB_CONS_POS), 4008 + 312);
	sluice_map_close(map);
}

static int check_bytes(void *ctx, void *data, size_t size)
{
	(void)ctx;
	for (size_t i = 0; i < size; i++)
		if (((uint8_t *)data)[i] != (uint8_t)i)
			return -EBADMSG;
	return 0;
}

static void test_wrapped_contents(void **state)
{
	struct sluice_map *map = make_map(BPF_MAP_TYPE_RINGBUF, 0, 0, RING, 0);
	uint8_t data[1000];

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)i;
	/* records of 1008 bytes: the fourth and later ones wrap at some point */
	for (int i = 0; i < 12; i++) {
		assert_int_equal(sluice_ringbuf_output(map, data, sizeof(data), 0), 0);
		assert_int_equal(sluice_ringbuf_consume(map, check_bytes, NULL), 1);
	}
	sluice_map_close(map);
}

static void test_wakeups(void **state)
{
	struct sluice_map *map = make_map(BPF_MAP_TYPE_RINGBUF, 0, 0, RING, 0);
	struct seen s = { 0 };
	uint8_t x = 1;

	(void)state;
	assert_int_equal(sluice_ringbuf_wait(map, 0), -ETIMEDOUT);
	/* the consumer is at this record: it is woken */
	assert_int_equal(sluice_ringbuf_output(map, &x, 1, 0), 0);
	assert_int_equal(sluice_ringbuf_wait(map, 0), 0);
	assert_int_equal(sluice_ringbuf_wait(map, 0), -ETIMEDOUT);
	/* it has a record to read first: no wakeup, unless forced */
	assert_int_equal(sluice_ringbuf_output(map, &x, 1, 0), 0);
	assert_int_equal(sluice_ringbuf_wait(map, 0), -ETIMEDOUT);
	assert_int_equal(sluice_ringbuf_output(map, &x, 1, BPF_RB_FORCE_WAKEUP), 0);
	assert_int_equal(sluice_ringbuf_wait(map, 0), 0);
	/* caught up, but told not to */
	assert_int_equal(sluice_ringbuf_consume(map, record, &s), 3);
	assert_int_equal(sluice_ringbuf_output(map, &x, 1, BPF_RB_NO_WAKEUP), 0);
	assert_int_equal(sluice_ringbuf_wait(map, 0), -ETIMEDOUT);
	sluice_map_close(map);
}

/* A consumer in another process, which opens the map by id and sleeps. */
static void test_other_process(void **state)
{
	struct sluice_map *map = make_map(BPF_MAP_TYPE_RINGBUF, 0, 0, RING, 0);
	struct sluice_map_info info;
	int status;
	pid_t pid;

	(void)state;
	sluice_map_get_info(map, &info);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct sluice_map *mine = sluice_map_open(info.id, NULL);
		struct seen s = { 0 };

		while (mine && s.n < 3 && sluice_ringbuf_wait(mine, 10000) == 0)
			sluice_ringbuf_consume(mine, record, &s);
		_exit(s.n == 3 && s.first[2] == 3 ? 0 : 1);
	}
	for (uint8_t i = 1; i <= 3; i++)
		assert_int_equal(sluice_ringbuf_output(map, &i, 1, BPF_RB_FORCE_WAKEUP), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	sluice_map_close(map);
}

static void test_bpf_side_and_create(void **state)
{
	struct sluice_map *map = make_map(BPF_MAP_TYPE_RINGBUF, 0, 0, RING, 0);
	uint32_t key = 0;

	(void)state;
	assert_int_equal(sluice_map_lookup(map, NULL, NULL, 0, NULL), -SLUICE_ENOTSUPP);
	assert_int_equal(sluice_map_lookup(map, &key, NULL, 0, NULL), -EINVAL);
	assert_int_equal(sluice_map_update(map, NULL, NULL, 0, NULL), -SLUICE_ENOTSUPP);
	assert_int_equal(sluice_map_get_next_key(map, NULL, NULL, NULL), -SLUICE_ENOTSUPP);
	sluice_map_close(map);
	assert_int_equal(create_errno(BPF_MAP_TYPE_RINGBUF, 0, 0, RING + 1, 0), -EINVAL);
	assert_int_equal(create_errno(BPF_MAP_TYPE_RINGBUF, 0, 0, 3 * RING, 0), -EINVAL);
	assert_int_equal(create_errno(BPF_MAP_TYPE_RINGBUF, 4, 0, RING, 0), -EINVAL);
	assert_int_equal(create_errno(BPF_MAP_TYPE_RINGBUF, 0, 0, RING, BPF_F_RDONLY_PROG), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_and_query),
		cmocka_unit_test(test_order_discard_busy),
		cmocka_unit_test(test_full_and_wrap),
		cmocka_unit_test(test_wrapped_contents),
		cmocka_unit_test(test_wakeups),
		cmocka_unit_test(test_other_process),
		cmocka_unit_test(test_bpf_side_and_create),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
