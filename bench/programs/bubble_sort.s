# bubble_sort: copies sixteen 32-bit keys to the stack, bubble-sorts them
# there in place, and folds the sorted keys into h = h * 31 + key so the
# result depends on their order.  Nested loops, so it runs on Sluice only.
#
# Input: 64 bytes, sixteen keys (bench_jit gives them in descending order).

	mov %r2, 0		# copy the keys to the stack, r10-64 .. r10-1
copy:
	mov %r3, %r1
	add %r3, %r2
	ldxw %r4, [%r3+0]
	mov %r3, %r10
	add %r3, %r2
	stxw [%r3-64], %r4
	add %r2, 4
	jlt %r2, 64, copy

	mov %r5, 15		# comparisons in this pass (counts, not cursors:
pass:				# see checksum.s)
	mov %r2, %r10		# cursor, from the first key (added: the
	add %r2, -64		# kernel's verifier refuses `sub` on fp)
	mov %r6, %r5
compare:
	ldxw %r3, [%r2+0]
	ldxw %r4, [%r2+4]
	jle %r3, %r4, ordered
	stxw [%r2+0], %r4
	stxw [%r2+4], %r3
ordered:
	add %r2, 4
	sub %r6, 1
	jne %r6, 0, compare
	sub %r5, 1
	jne %r5, 0, pass

	mov %r0, 0		# h = h * 31 + key over the sorted keys
	mov %r2, %r10
	add %r2, -64
	mov %r6, 16
fold:
	ldxw %r3, [%r2+0]
	mul %r0, 31
	add %r0, %r3
	add %r2, 4
	sub %r6, 1
	jne %r6, 0, fold
	exit
