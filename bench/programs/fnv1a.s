# fnv1a: the 64-bit FNV-1a hash of a 64-byte key, one byte per iteration.
# Loops, so it runs on Sluice only.
#
# Input: 64 bytes.

	lddw %r0, 0xcbf29ce484222325	# offset basis
	lddw %r5, 0x100000001b3		# FNV prime
	mov %r2, %r1		# cursor
	mov %r3, 64		# bytes left (checksum.s says why a count)
byte:
	ldxb %r4, [%r2+0]
	xor %r0, %r4
	mul %r0, %r5
	add %r2, 1
	sub %r3, 1
	jne %r3, 0, byte
	exit
