# siphash: SipHash-2-4 of a 64-byte message under the key 00 01 .. 0f (the
# reference implementation's test key): eight 64-bit words, two SipRounds
# each, then four more.  A rotation is spelled as clang spells one in place,
# mov / rsh / lsh / or.  Loops, so it runs on Sluice and the kernel only.
#
# Input: 64 bytes.  v0-v3 live in r2-r5, r0 is the rotations' scratch.

	lddw %r2, 0x7469686173716475	# v0 = k0 ^ "somepseu"
	lddw %r3, 0x6b617f6d656e6665	# v1 = k1 ^ "dorandom"
	lddw %r4, 0x6b7f62616d677361	# v2 = k0 ^ "lygenera"
	lddw %r5, 0x7b6b696e727e6c7b	# v3 = k1 ^ "tedbytes"
	mov %r6, 8		# words left (checksum.s says why a count)
word:
	ldxdw %r7, [%r1+0]	# m
	xor %r5, %r7		# v3 ^= m
	add %r2, %r3		# v0 += v1
	mov %r0, %r3		# v1 = rotl(v1, 13)
	rsh %r0, 51
	lsh %r3, 13
	or %r3, %r0
	xor %r3, %r2		# v1 ^= v0
	mov %r0, %r2		# v0 = rotl(v0, 32)
	rsh %r0, 32
	lsh %r2, 32
	or %r2, %r0
	add %r4, %r5		# v2 += v3
	mov %r0, %r5		# v3 = rotl(v3, 16)
	rsh %r0, 48
	lsh %r5, 16
	or %r5, %r0
	xor %r5, %r4		# v3 ^= v2
	add %r2, %r5		# v0 += v3
	mov %r0, %r5		# v3 = rotl(v3, 21)
	rsh %r0, 43
	lsh %r5, 21
	or %r5, %r0
	xor %r5, %r2		# v3 ^= v0
	add %r4, %r3		# v2 += v1
	mov %r0, %r3		# v1 = rotl(v1, 17)
	rsh %r0, 47
	lsh %r3, 17
	or %r3, %r0
	xor %r3, %r4		# v1 ^= v2
	mov %r0, %r4		# v2 = rotl(v2, 32)
	rsh %r0, 32
	lsh %r4, 32
	or %r4, %r0
	add %r2, %r3		# v0 += v1
	mov %r0, %r3		# v1 = rotl(v1, 13)
	rsh %r0, 51
	lsh %r3, 13
	or %r3, %r0
	xor %r3, %r2		# v1 ^= v0
	mov %r0, %r2		# v0 = rotl(v0, 32)
	rsh %r0, 32
	lsh %r2, 32
	or %r2, %r0
	add %r4, %r5		# v2 += v3
	mov %r0, %r5		# v3 = rotl(v3, 16)
	rsh %r0, 48
	lsh %r5, 16
	or %r5, %r0
	xor %r5, %r4		# v3 ^= v2
	add %r2, %r5		# v0 += v3
	mov %r0, %r5		# v3 = rotl(v3, 21)
	rsh %r0, 43
	lsh %r5, 21
	or %r5, %r0
	xor %r5, %r2		# v3 ^= v0
	add %r4, %r3		# v2 += v1
	mov %r0, %r3		# v1 = rotl(v1, 17)
	rsh %r0, 47
	lsh %r3, 17
	or %r3, %r0
	xor %r3, %r4		# v1 ^= v2
	mov %r0, %r4		# v2 = rotl(v2, 32)
	rsh %r0, 32
	lsh %r4, 32
	or %r4, %r0
	xor %r2, %r7		# v0 ^= m
	add %r1, 8
	sub %r6, 1
	jne %r6, 0, word

	lddw %r7, 0x4000000000000000	# the last block: the length, 64, in the top byte
	xor %r5, %r7
	mov %r6, 0		# finalisation rounds done
final:
	add %r2, %r3		# v0 += v1
	mov %r0, %r3		# v1 = rotl(v1, 13)
	rsh %r0, 51
	lsh %r3, 13
	or %r3, %r0
	xor %r3, %r2		# v1 ^= v0
	mov %r0, %r2		# v0 = rotl(v0, 32)
	rsh %r0, 32
	lsh %r2, 32
	or %r2, %r0
	add %r4, %r5		# v2 += v3
	mov %r0, %r5		# v3 = rotl(v3, 16)
	rsh %r0, 48
	lsh %r5, 16
	or %r5, %r0
	xor %r5, %r4		# v3 ^= v2
	add %r2, %r5		# v0 += v3
	mov %r0, %r5		# v3 = rotl(v3, 21)
	rsh %r0, 43
	lsh %r5, 21
	or %r5, %r0
	xor %r5, %r2		# v3 ^= v0
	add %r4, %r3		# v2 += v1
	mov %r0, %r3		# v1 = rotl(v1, 17)
	rsh %r0, 47
	lsh %r3, 17
	or %r3, %r0
	xor %r3, %r4		# v1 ^= v2
	mov %r0, %r4		# v2 = rotl(v2, 32)
	rsh %r0, 32
	lsh %r4, 32
	or %r4, %r0
	add %r6, 1
	jne %r6, 2, more
	xor %r2, %r7		# after two rounds: v0 ^= b, v2 ^= 0xff
	xor %r4, 0xff
more:
	jlt %r6, 6, final
	mov %r0, %r2		# v0 ^ v1 ^ v2 ^ v3
	xor %r0, %r3
	xor %r0, %r4
	xor %r0, %r5
	exit
