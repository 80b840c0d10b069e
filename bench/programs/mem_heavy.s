# mem_heavy: a record digest.  Reads the sixteen 32-bit fields of a 64-byte
# record, combines them in pairs and spills the pairs to the stack, copies
# narrow fields through the stack with byte, half-word and immediate
# stores, then reads every spilled value back into a multiplicative hash.
# Each value has its own 8-byte stack slot, as a compiler lays out locals
# (librte_bpf's validator tracks one value per slot and refuses to read
# back a narrow value that shares one).  Loop-free; more than half of the
# instructions touch memory.
#
# Input: 64 bytes.

	ldxw %r2, [%r1+0]	# pairs of fields, spilled to eight stack slots
	ldxw %r3, [%r1+4]
	add %r2, %r3
	stxdw [%r10-8], %r2
	ldxw %r2, [%r1+8]
	ldxw %r3, [%r1+12]
	xor %r2, %r3
	stxdw [%r10-16], %r2
	ldxw %r2, [%r1+16]
	ldxw %r3, [%r1+20]
	add %r2, %r3
	stxdw [%r10-24], %r2
	ldxw %r2, [%r1+24]
	ldxw %r3, [%r1+28]
	xor %r2, %r3
	stxdw [%r10-32], %r2
	ldxw %r2, [%r1+32]
	ldxw %r3, [%r1+36]
	add %r2, %r3
	stxdw [%r10-40], %r2
	ldxw %r2, [%r1+40]
	ldxw %r3, [%r1+44]
	xor %r2, %r3
	stxdw [%r10-48], %r2
	ldxw %r2, [%r1+48]
	ldxw %r3, [%r1+52]
	add %r2, %r3
	stxdw [%r10-56], %r2
	ldxw %r2, [%r1+56]
	ldxw %r3, [%r1+60]
	xor %r2, %r3
	stxdw [%r10-64], %r2

	ldxb %r2, [%r1+1]	# narrow fields and constants, one to a stack slot
	stxb [%r10-72], %r2
	ldxh %r2, [%r1+6]
	stxh [%r10-80], %r2
	ldxdw %r2, [%r1+16]
	stxdw [%r10-88], %r2
	stw [%r10-96], 0x1234
	sth [%r10-104], 7
	stb [%r10-112], 1

	ldxdw %r0, [%r10-8]	# read everything back: h = h * 31 + x
	ldxdw %r2, [%r10-16]
	mul %r0, 31
	add %r0, %r2
	ldxdw %r2, [%r10-24]
	mul %r0, 31
	add %r0, %r2
	ldxdw %r2, [%r10-32]
	mul %r0, 31
	add %r0, %r2
	ldxdw %r2, [%r10-40]
	mul %r0, 31
	add %r0, %r2
	ldxdw %r2, [%r10-48]
	mul %r0, 31
	add %r0, %r2
	ldxdw %r2, [%r10-56]
	mul %r0, 31
	add %r0, %r2
	ldxdw %r2, [%r10-64]
	mul %r0, 31
	add %r0, %r2
	ldxb %r2, [%r10-72]
	mul %r0, 31
	add %r0, %r2
	ldxh %r2, [%r10-80]
	mul %r0, 31
	add %r0, %r2
	ldxdw %r2, [%r10-88]
	mul %r0, 31
	add %r0, %r2
	ldxw %r2, [%r10-96]
	mul %r0, 31
	add %r0, %r2
	ldxh %r2, [%r10-104]
	mul %r0, 31
	add %r0, %r2
	ldxb %r2, [%r10-112]
	mul %r0, 31
	add %r0, %r2
	exit
