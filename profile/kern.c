/* SPDX-License-Identifier: MIT */
/*
 * `sluice profile` in the kernel: attached to one CPU-clock sampling event
 * per CPU, this program records the user and kernel stacks of the sampled
 * thread into a stack-trace map and counts each distinct pair per process.
 * User space symbolises and renders them once sampling stops.
 *
 * The events sample every task; the process filter is here (target_pid), so
 * that every thread of the process is seen, including threads started after
 * the profile begins, without one event per thread.
 */
#include <linux/bpf.h>
#include <linux/bpf_perf_event.h>
#include <bpf/bpf_helpers.h>

#include "prof.h"

char LICENSE[] SEC("license") = "GPL";

/* 0: every process; set before load */
const volatile __u32 target_pid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16384);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, PROF_STACK_DEPTH * sizeof(__u64));
} prof_stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct prof_key);
	__type(value, __u64);
} prof_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PROF_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} prof_stats SEC(".maps");

static void stat_inc(__u32 slot)
{
	__u64 *v = bpf_map_lookup_elem(&prof_stats, &slot);

	if (v)
		*v += 1;
}

SEC("perf_event")
int prof_sample(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct prof_key key = { .pid = id >> 32 };
	__u64 one = 1, *count;

	/* the idle task (pid 0) is not a process anyone profiles */
	if (!key.pid || (target_pid && key.pid != target_pid))
		return 0;
	bpf_get_current_comm(key.comm, sizeof(key.comm));
	/*
	 * -EFAULT for the kernel stack is the usual case, not an error: a
	 * sample taken in user mode has no kernel frames.
	 */
	key.user_stack = bpf_get_stackid(ctx, &prof_stacks, BPF_F_USER_STACK);
	key.kernel_stack = bpf_get_stackid(ctx, &prof_stacks, 0);
	count = bpf_map_lookup_elem(&prof_counts, &key);
	if (!count && !bpf_map_update_elem(&prof_counts, &key, &one, BPF_NOEXIST))
		return 0;
	/* another CPU may have added the key between the lookup and the update */
	if (!count)
		count = bpf_map_lookup_elem(&prof_counts, &key);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		stat_inc(PROF_STAT_COUNTS_FULL);
	return 0;
}
