/* SPDX-License-Identifier: MIT */
/*
 * The policy matcher as a program of its own for `sluice exec`: Sluice's
 * user-space runtime runs it on a struct sec_query the seccomp supervisor
 * filled in, and it returns the SEC_VERDICT to enforce.
 *
 * It is a socket filter over a "packet" holding the query after a dummy
 * Ethernet header: a type every kernel loads and test-runs the same way
 * (a syscall program, whose context would be the bytes themselves, is
 * sleepable and may not use LPM tries), so the kernel can check the
 * runtime's answers with BPF_PROG_TEST_RUN.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "match.h"

char LICENSE[] SEC("license") = "GPL";

SEC("socket")
int sec_decide(struct __sk_buff *skb)
{
	__u32 zero = 0;
	const struct sec_config *cfg = bpf_map_lookup_elem(&sec_config, &zero);
	struct sec_event *scratch = bpf_map_lookup_elem(&sec_scratch, &zero);

	if (!cfg || !scratch)
		return 0;
	/* map keys cannot point into the packet: the matcher reads a copy */
	if (bpf_skb_load_bytes(skb, 0, &scratch->q, sizeof(scratch->q)))
		return 0;
	return sec_match(&scratch->q, cfg);
}
