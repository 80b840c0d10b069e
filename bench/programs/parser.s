# parser: the header walk in front of every classifier, over a batch of
# eight frames: Ethernet, up to two VLAN tags (802.1Q, 802.1ad), IPv4 (with
# options, fragments) or IPv6, then TCP or UDP ports.  Each frame is folded
# into a summary, and the summaries into h = h * 31 + summary:
#
#   1                     truncated: a header ends past the frame's length
#   2                     malformed: bad IP version or IPv4 header length
#   type << 16 | 3        not IP
#   (ports << 32 ^ addrs) + (protocol << 8 | L4 offset)      IP
#
# ports: the L4 header's first 4 bytes as ldxw reads them (0 for a later
# fragment or another protocol); addrs: source ^ destination for IPv4, the
# eight 32-bit halves of the IPv6 addresses xored together.  Loops, so it
# runs on Sluice and the kernel only.
#
# Input: 8 slots of 128 bytes: a 16-bit length in host order, then the frame
# (so the IP header is 4-byte aligned when there is no VLAN tag); r2 is the
# input's end.  A header at a variable offset (TCP or UDP after IPv4 options)
# is also checked against that end, as every XDP or TC program checks its
# headers against data_end: without it the kernel's verifier refuses the
# read.  It never fails where the frames' lengths are right.
#
# r1 slot, r2 length, r3 header offset, r4 EtherType then protocol, r5 the
# header (2 bytes before it), r6 frames left, r7 summary, r8 scratch, r9 the
# input's end, r0 h.

	mov %r9, %r2
	mov %r0, 0
	mov %r6, 8		# a count, not a cursor: see checksum.s
frame:
	ldxh %r2, [%r1+0]	# the frame's length
	jlt %r2, 14, truncated
	mov %r3, 14
	ldxh %r4, [%r1+14]	# EtherType
	be16 %r4
	jeq %r4, 0x8100, vlan
	jne %r4, 0x88a8, l3
vlan:
	jlt %r2, 18, truncated
	ldxh %r4, [%r1+18]	# the type the tag wraps
	be16 %r4
	mov %r3, 18
	jeq %r4, 0x8100, vlan2
	jne %r4, 0x88a8, l3
vlan2:
	jlt %r2, 22, truncated
	ldxh %r4, [%r1+22]
	be16 %r4
	mov %r3, 22
l3:
	mov %r5, %r1
	add %r5, %r3
	jeq %r4, 0x0800, ipv4
	jeq %r4, 0x86dd, ipv6
	mov %r7, %r4		# not IP
	lsh %r7, 16
	or %r7, 3
	ja next

ipv4:
	mov %r8, %r3
	add %r8, 20
	jgt %r8, %r2, truncated
	ldxb %r8, [%r5+2]	# version and header length
	mov %r7, %r8
	rsh %r7, 4
	jne %r7, 4, malformed
	and %r8, 0xf
	lsh %r8, 2
	jlt %r8, 20, malformed
	add %r3, %r8		# the L4 header
	jgt %r3, %r2, malformed
	ldxb %r4, [%r5+11]	# protocol
	ldxw %r7, [%r5+14]	# source ^ destination
	ldxw %r8, [%r5+18]
	xor %r7, %r8
	ldxh %r8, [%r5+8]	# flags and fragment offset
	be16 %r8
	jset %r8, 0x1fff, ip	# a later fragment: no L4 header in it
	ja l4

ipv6:
	mov %r8, %r3
	add %r8, 40
	jgt %r8, %r2, truncated
	ldxb %r8, [%r5+2]	# version
	rsh %r8, 4
	jne %r8, 6, malformed
	ldxb %r4, [%r5+8]	# next header
	ldxdw %r7, [%r5+10]	# the addresses, xored in 64-bit halves
	ldxdw %r8, [%r5+18]
	xor %r7, %r8
	ldxdw %r8, [%r5+26]
	xor %r7, %r8
	ldxdw %r8, [%r5+34]
	xor %r7, %r8
	mov %r8, %r7		# then the two 32-bit halves of that
	rsh %r8, 32
	xor32 %r7, %r8
	add %r3, 40

l4:
	jeq %r4, 6, tcp
	jne %r4, 17, ip
	mov %r8, 8		# UDP header
	ja ports
tcp:
	mov %r8, 20
ports:
	add %r8, %r3
	jgt %r8, %r2, truncated
	mov %r5, %r1
	add %r5, %r3
	mov %r8, %r5
	add %r8, 6
	jgt %r8, %r9, truncated	# inside the input, for the kernel's verifier
	ldxw %r8, [%r5+2]	# source and destination port
	lsh %r8, 32
	xor %r7, %r8
ip:
	lsh %r4, 8
	or %r4, %r3
	add %r7, %r4
	ja next
truncated:
	mov %r7, 1
	ja next
malformed:
	mov %r7, 2
next:
	mul %r0, 31
	add %r0, %r7
	add %r1, 128
	sub %r6, 1
	jne %r6, 0, frame
	exit
