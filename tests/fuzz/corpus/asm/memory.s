ldxw %r1, [%r2+4]
ldxdw %r0, [%r10-8]
ldxb %r0, [%r1]
ldxh %r0, [%r1+0x10]
ldxsw %r0, [ %r1 - 4 ]
stxb [%r1-32768], %r2
sth [%r1+32767], 7
lock fetch or32 [%r1+2], %r3
lock xchg [%r10-16], %r0
exit
