/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_TESTS_FORWARD_H
#define SLUICE_TESTS_FORWARD_H

/* What xdp_fib writes over the packet after its IPv4 header, for the test to read. */
struct fib_report {
	__s32 rc;
	__u32 ifindex;
	__u16 mtu;
	__u8 smac[6];
	__u8 dmac[6];
	__be32 next_hop;
};

#endif
