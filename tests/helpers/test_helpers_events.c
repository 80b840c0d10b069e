/* SPDX-License-Identifier: MIT */
/*
 * The ring buffer helpers and bpf_perf_event_output, read back through the
 * consumers of include/sluice/maps.h.
 */
#include "helpers_test.h"
#include "progtypes/progtypes.h"

struct records {
	int count;
	size_t sizes[4];
	uint8_t data[4][64];
};

static int keep_record(void *ctx, void *data, size_t size)
{
	struct records *r = ctx;

	assert_true(r->count < 4 && size <= sizeof(r->data[0]));
	r->sizes[r->count] = size;
	memcpy(r->data[r->count++], data, size);
	return 0;
}

static int keep_sample(void *ctx, unsigned slot, void *data, size_t size)
{
	assert_int_equal(slot, 1);
	return keep_record(ctx, data, size);
}

static int keep_sample_any_slot(void *ctx, unsigned slot, void *data, size_t size)
{
	(void)slot;
	return keep_record(ctx, data, size);
}

static void test_ringbuf(void **state)
{
	struct fixture *f = fixture_new("loop_sum");
	struct sluice_map *ringbuf = fixture_map(f, "ringbuf");
	struct records r = { 0 };
	uint32_t *sample;

	(void)state;
	assert_int_equal(call(f, BPF_FUNC_ringbuf_output, ptr(ringbuf), ptr("abcd"), 4, 0), 0);
	assert_int_equal(call(f, BPF_FUNC_ringbuf_query, ptr(ringbuf), BPF_RB_AVAIL_DATA), 16);
	sample = (uint32_t *)(uintptr_t)call(f, BPF_FUNC_ringbuf_reserve, ptr(ringbuf), 4, 0);
	assert_non_null(sample);
	*sample = 0x11223344;
	call(f, BPF_FUNC_ringbuf_submit, ptr(sample), 0);
	sample = (uint32_t *)(uintptr_t)call(f, BPF_FUNC_ringbuf_reserve, ptr(ringbuf), 8, 0);
	assert_non_null(sample);
	call(f, BPF_FUNC_ringbuf_discard, ptr(sample), 0);
	/* too big for the buffer, bad flags */
	assert_int_equal(call(f, BPF_FUNC_ringbuf_reserve, ptr(ringbuf), 8192, 0), 0);
	assert_int_equal(call(f, BPF_FUNC_ringbuf_reserve, ptr(ringbuf), 8, 1), 0);
	assert_int_equal(as_long(call(f, BPF_FUNC_ringbuf_output, ptr(ringbuf), ptr("x"), 1, 8)),
			 -EINVAL);
	/* the discarded record is skipped */
	assert_int_equal(sluice_ringbuf_consume(ringbuf, keep_record, &r), 2);
	assert_int_equal(r.sizes[0], 4);
	assert_memory_equal(r.data[0], "abcd", 4);
	assert_int_equal(r.sizes[1], 4);
	assert_int_equal(*(uint32_t *)r.data[1], 0x11223344);
	/* not one of the run's maps */
	assert_int_equal(call(f, BPF_FUNC_ringbuf_reserve, ptr(&r), 8, 0), 0);
	assert_int_equal(as_long(call(f, BPF_FUNC_ringbuf_output, ptr(&r), ptr("x"), 1, 0)),
			 -EINVAL);
	assert_int_equal(as_long(call(f, BPF_FUNC_ringbuf_query, ptr(&r), 0)), -EINVAL);
	fixture_free(f);
}

static void test_perf_event_output_xdp(void **state)
{
	struct fixture *f = fixture_new("loop_sum");
	struct sluice_map *events = fixture_map(f, "events");
	uint8_t packet[6] = { 1, 2, 3, 4, 5, 6 };
	struct xdp_rt xdp = { .data = packet, .data_end = packet + sizeof(packet) };
	struct records r = { 0 };
	const uint64_t slot1 = 1, ctxlen4 = 4ull << 32;

	(void)state;
	f->run.ctx = &xdp;
	f->run.cpu = 1;
	assert_int_equal(call(f, BPF_FUNC_perf_event_output, ptr(&xdp), ptr(events), slot1,
			      ptr("meta"), 4), 0);
	/* the record is the data, then that much of the packet */
	assert_int_equal(call(f, BPF_FUNC_perf_event_output, ptr(&xdp), ptr(events),
			      BPF_F_CURRENT_CPU | ctxlen4, ptr("ab"), 2), 0);
	assert_int_equal(as_long(call(f, BPF_FUNC_perf_event_output, ptr(&xdp), ptr(events),
				      slot1 | (7ull << 32), ptr("ab"), 2)), -EFAULT);
	assert_int_equal(as_long(call(f, BPF_FUNC_perf_event_output, ptr(&xdp), ptr(events),
				      slot1 | ctxlen4 | (1ull << 52), ptr("ab"), 2)), -EINVAL);
	assert_int_equal(as_long(call(f, BPF_FUNC_perf_event_output, ptr(&xdp), ptr(events), 2,
				      ptr("ab"), 2)), -E2BIG);
	/* more than a perf record holds */
	assert_int_equal(as_long(call(f, BPF_FUNC_perf_event_output, ptr(&xdp), ptr(events),
				      slot1 | ctxlen4, ptr("ab"), 65535)), -E2BIG);
	assert_int_equal(sluice_perf_event_consume(events, keep_sample, &r), 2);
	/* raw sample data is padded to 8 bytes with its 4-byte size */
	assert_memory_equal(r.data[0], "meta", 4);
	assert_memory_equal(r.data[1], "ab\x01\x02\x03\x04", 6);
	fixture_free(f);
}

static void test_perf_event_output_tracing(void **state)
{
	struct fixture *f = fixture_new("raw_tp");
	struct sluice_map *events = fixture_map(f, "events");
	struct records r = { 0 };

	(void)state;
	/* no packet to append: the length bits are refused */
	assert_int_equal(as_long(call(f, BPF_FUNC_perf_event_output, 0, ptr(events),
				      1 | (4ull << 32), ptr("ab"), 2)), -EINVAL);
	assert_int_equal(call(f, BPF_FUNC_perf_event_output, 0, ptr(events), 1, ptr("ab"), 2), 0);
	assert_int_equal(as_long(call(f, BPF_FUNC_perf_event_output, 0, ptr(&r), 1, ptr("ab"), 2)),
			 -EINVAL);
	assert_int_equal(sluice_perf_event_consume(events, keep_sample, &r), 1);
	assert_memory_equal(r.data[0], "ab", 2);
	fixture_free(f);
}

static void test_from_program(void **state)
{
	struct fixture *f = fixture_new("events_out");
	struct records rb = { 0 }, perf = { 0 };

	(void)state;
	assert_int_equal(run_xdp(f, "events_out"), 0);
	assert_int_equal(sluice_ringbuf_consume(fixture_map(f, "ringbuf"), keep_record, &rb), 1);
	assert_int_equal(rb.sizes[0], 4);
	assert_int_equal(*(uint32_t *)rb.data[0], 64);
	assert_int_equal(sluice_perf_event_consume(fixture_map(f, "events"), keep_sample_any_slot,
						   &perf), 1);
	assert_memory_equal(perf.data[0], "\x88\x77\x66\x55\x44\x33\x22\x11\0\0\0\0", 12);
	fixture_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ringbuf),
		cmocka_unit_test(test_perf_event_output_xdp),
		cmocka_unit_test(test_perf_event_output_tracing),
		cmocka_unit_test(test_from_program),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
