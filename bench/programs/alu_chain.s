# alu_chain: the flow hash a load balancer computes.  jhash_3words (the
# final mix of Jenkins' lookup3, all ALU32, each rotate spelled out as
# shift, shift, or) over a 5-tuple, then murmur3's 64-bit finaliser to
# spread it over 64 bits.  Loop-free and almost all ALU: it measures the
# interpreter's dispatch with nothing else in the way.
#
# Input: 16 bytes, source address, destination address, ports, protocol.

	ldxw %r2, [%r1+0]	# a = source address
	ldxw %r3, [%r1+4]	# b = destination address
	ldxw %r4, [%r1+8]	# c = both ports
	ldxw %r5, [%r1+12]
	and32 %r5, 0xff		# protocol, folded into the top byte of c
	lsh32 %r5, 24
	xor32 %r4, %r5
	add32 %r2, 0x9e3779b9	# the golden-ratio seed, on all three
	add32 %r3, 0x9e3779b9
	add32 %r4, 0x9e3779b9

	xor32 %r4, %r3		# c ^= b; c -= rol32(b, 14)
	mov32 %r6, %r3
	lsh32 %r6, 14
	mov32 %r7, %r3
	rsh32 %r7, 18
	or32 %r6, %r7
	sub32 %r4, %r6

	xor32 %r2, %r4		# a ^= c; a -= rol32(c, 11)
	mov32 %r6, %r4
	lsh32 %r6, 11
	mov32 %r7, %r4
	rsh32 %r7, 21
	or32 %r6, %r7
	sub32 %r2, %r6

	xor32 %r3, %r2		# b ^= a; b -= rol32(a, 25)
	mov32 %r6, %r2
	lsh32 %r6, 25
	mov32 %r7, %r2
	rsh32 %r7, 7
	or32 %r6, %r7
	sub32 %r3, %r6

	xor32 %r4, %r3		# c ^= b; c -= rol32(b, 16)
	mov32 %r6, %r3
	lsh32 %r6, 16
	mov32 %r7, %r3
	rsh32 %r7, 16
	or32 %r6, %r7
	sub32 %r4, %r6

	xor32 %r2, %r4		# a ^= c; a -= rol32(c, 4)
	mov32 %r6, %r4
	lsh32 %r6, 4
	mov32 %r7, %r4
	rsh32 %r7, 28
	or32 %r6, %r7
	sub32 %r2, %r6

	xor32 %r3, %r2		# b ^= a; b -= rol32(a, 14)
	mov32 %r6, %r2
	lsh32 %r6, 14
	mov32 %r7, %r2
	rsh32 %r7, 18
	or32 %r6, %r7
	sub32 %r3, %r6

	xor32 %r4, %r3		# c ^= b; c -= rol32(b, 24)
	mov32 %r6, %r3
	lsh32 %r6, 24
	mov32 %r7, %r3
	rsh32 %r7, 8
	or32 %r6, %r7
	sub32 %r4, %r6

	mov %r0, %r4		# h = c << 32 | a, then fmix64(h)
	lsh %r0, 32
	or %r0, %r2
	mov %r6, %r0
	rsh %r6, 33
	xor %r0, %r6
	lddw %r6, 0xff51afd7ed558ccd
	mul %r0, %r6
	mov %r6, %r0
	rsh %r6, 33
	xor %r0, %r6
	lddw %r6, 0xc4ceb9fe1a85ec53
	mul %r0, %r6
	mov %r6, %r0
	rsh %r6, 33
	xor %r0, %r6
	exit
