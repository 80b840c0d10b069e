/* SPDX-License-Identifier: MIT */
/*
 * Loaded only to learn whether this kernel lets BPF LSM programs in (file
 * denial needs them); a kernel in lockdown, or without "bpf" in its LSM
 * list, refuses it.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("lsm/file_open")
int sec_lsm_probe(void *ctx)
{
	return 0;
}
