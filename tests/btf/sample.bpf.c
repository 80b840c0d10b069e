/* SPDX-License-Identifier: MIT */
/*
 * Source of sample.bpf.o, the small clang-compiled object the BTF tests
 * read (its .BTF, .BTF.ext and CO-RE relocations).  The build compiles it
 * (tests/CMakeLists.txt) with the examples' flags.
 */
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct task {
	int pid;
	unsigned int flags : 3;
	unsigned int state : 5;
	struct {
		long start;
	};
	char comm[16];
} __attribute__((preserve_access_index));

struct task___old {
	short pid;
} __attribute__((preserve_access_index));

enum mode { MODE_A = 1, MODE_B = 2 };

SEC("tp/sample")
int sample(struct task *t)
{
	int pid = BPF_CORE_READ(t, pid);
	long start = BPF_CORE_READ(t, start);

	if (bpf_core_field_exists(((struct task___old *)t)->pid))
		pid += 1;
	return pid + (int)start + BPF_CORE_READ_BITFIELD_PROBED(t, state) + t->comm[3] +
	       bpf_core_enum_value(enum mode, MODE_B) + bpf_core_type_size(struct task);
}

char LICENSE[] SEC("license") = "GPL";
