/* SPDX-License-Identifier: MIT */
/*
 * Raw bytecode in, verdict out: whatever the instructions, sluice_verify
 * must return (no crash, no hang past the complexity limit, no leak) and
 * keep its promises: a verdict with a log, and a rejection that names a
 * pc inside the program.
 *
 * The first two bytes choose the setting the bytes are judged in: the
 * program type, privileges and log level; the maps a program can name
 * (lddw map index 0-3) are one of each kind the lookups treat differently.
 */
#include <linux/bpf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/verifier.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct sluice_map_def array = {
	.name = "array", .type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 48,
	.max_entries = 4, .inner_map = -1,
};
static const struct sluice_map_def hash = {
	.name = "hash", .type = BPF_MAP_TYPE_HASH, .key_size = 8, .value_size = 16,
	.max_entries = 64, .inner_map = -1,
};
static const struct sluice_map_def ringbuf = {
	.name = "ringbuf", .type = BPF_MAP_TYPE_RINGBUF, .max_entries = 4096, .inner_map = -1,
};
static const struct sluice_map_def rodata = {
	.name = "fuzz.rodata", .section = ".rodata", .origin = SLUICE_MAP_RODATA,
	.type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 32, .max_entries = 1,
	.map_flags = BPF_F_RDONLY_PROG, .inner_map = -1,
};
static const struct sluice_map_def *const maps[] = { &array, &hash, &ringbuf, &rodata };

static const uint32_t prog_types[] = {
	BPF_PROG_TYPE_SOCKET_FILTER, BPF_PROG_TYPE_XDP, BPF_PROG_TYPE_SCHED_CLS,
	BPF_PROG_TYPE_KPROBE, BPF_PROG_TYPE_TRACEPOINT, BPF_PROG_TYPE_CGROUP_SKB,
	BPF_PROG_TYPE_RAW_TRACEPOINT, BPF_PROG_TYPE_PERF_EVENT,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sluice_verifier_opts opts = {
		.sz = sizeof(opts), .maps = maps, .nmaps = sizeof(maps) / sizeof(maps[0]),
	};
	struct sluice_verdict verdict = { 0 };
	struct sluice_error err = { 0 };
	struct sluice_insn *insns;
	size_t count;

	if (size < 2)
		return 0;
	opts.prog_type = prog_types[data[0] % (sizeof(prog_types) / sizeof(prog_types[0]))];
	opts.unprivileged = data[1] & 1;
	opts.gpl = !(data[1] & 2);
	opts.log_level = (data[1] >> 2) % 3;
	count = (size - 2) / SLUICE_INSN_SIZE;
	/* a copy, aligned as struct sluice_insn wants and exactly as long as the program */
	insns = malloc(count ? count * sizeof(*insns) : 1);
	if (!insns)
		return 0;
	memcpy(insns, data + 2, count * sizeof(*insns));
	if (sluice_verify(insns, count, &opts, &verdict, &err) == 0) {
		if (!verdict.log || (!verdict.accepted && (!verdict.log_len ||
							   (count && verdict.error_pc >= count))))
			abort();
	}
	sluice_verdict_release(&verdict);
	free(insns);
	return 0;
}
