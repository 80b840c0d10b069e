be16 %r0
le64 %r1
swap32 %r2
bswap16 %r3
movsx832 %r4, %r5
sdiv32 %r1, %r2
smod %r3, 7
neg %r0
call 5
call %r2
exit
