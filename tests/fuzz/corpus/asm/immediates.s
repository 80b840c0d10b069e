mov %r0, -2147483648
mov %r0, 2147483647
mov32 %r1, 0xffffffff
add %r1, -0x10
lddw %r2, 18446744073709551615
lddw %r3, -9223372036854775808
lddw %r4, 0XABCDEF
stdw [%r10-0x8], +5
exit
