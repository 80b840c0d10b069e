# checksum: the Internet checksum (RFC 1071) of a 1500-byte packet, one
# 16-bit word per iteration, with the carries folded back in at the end.
# Loops, so it runs on Sluice only.
#
# Input: 1500 bytes.

	mov %r0, 0		# sum
	mov %r2, %r1		# cursor
	mov %r3, %r1
	add %r3, 1500		# end
sum:
	ldxh %r4, [%r2+0]
	add %r0, %r4
	add %r2, 2
	jlt %r2, %r3, sum
fold:
	mov %r4, %r0		# sum = (sum & 0xffff) + (sum >> 16) until no carry is left
	rsh %r4, 16
	and %r0, 0xffff
	add %r0, %r4
	mov %r4, %r0
	rsh %r4, 16
	jne %r4, 0, fold
	xor %r0, 0xffff
	exit
