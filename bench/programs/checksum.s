# checksum: the Internet checksum (RFC 1071) of a 1500-byte packet, one
# 16-bit word per iteration, with the carries folded back in at the end
# (twice, as the kernel's csum_fold does: a loop until no carry is left
# is one the kernel's verifier cannot bound).
# Loops, so it runs on Sluice only.
#
# Input: 1500 bytes.

	mov %r0, 0		# sum
	mov %r2, %r1		# cursor
	mov %r3, 750		# words left: a count the kernel's verifier
sum:				# can bound, where a cursor it cannot
	ldxh %r4, [%r2+0]
	add %r0, %r4
	add %r2, 2
	sub %r3, 1
	jne %r3, 0, sum
	mov %r4, %r0		# fold the carries: 750 words sum to under 2^26,
	rsh %r4, 16		# so one fold leaves at most 0x1fffe and a second
	and %r0, 0xffff		# adds the one carry that can be left
	add %r0, %r4
	mov %r4, %r0
	rsh %r4, 16
	add %r0, %r4
	xor %r0, 0xffff
	and %r0, 0xffff
	exit
