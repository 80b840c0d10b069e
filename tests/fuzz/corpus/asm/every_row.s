add %r0, 0
add %r1, %r7
sub %r2, -2000
sub %r3, %r10
mul %r4, -4000
mul %r5, %r2
div %r6, 6
div %r7, %r5
or %r8, -8000
or %r9, %r8
and %r10, -10000
and %r0, %r0
lsh %r1, 12
lsh %r2, %r3
rsh %r3, -14000
rsh %r4, %r6
mod %r5, -16000
mod %r6, %r9
xor %r7, 18
xor %r8, %r1
mov %r9, -20000
mov %r10, %r4
arsh %r0, -22000
arsh %r1, %r7
neg %r2
sdiv %r3, -25000
sdiv %r4, %r6
smod %r5, 27
smod %r6, %r9
add32 %r7, -29000
add32 %r8, %r1
sub32 %r9, -31000
sub32 %r10, %r4
mul32 %r0, 33
mul32 %r1, %r7
div32 %r2, -35000
div32 %r3, %r10
or32 %r4, -37000
or32 %r5, %r2
and32 %r6, 39
and32 %r7, %r5
lsh32 %r8, -41000
lsh32 %r9, %r8
rsh32 %r10, -43000
rsh32 %r0, %r0
mod32 %r1, 45
mod32 %r2, %r3
xor32 %r3, -47000
xor32 %r4, %r6
mov32 %r5, -49000
mov32 %r6, %r9
arsh32 %r7, 51
arsh32 %r8, %r1
neg32 %r9
sdiv32 %r10, 54
sdiv32 %r0, %r0
smod32 %r1, -56000
smod32 %r2, %r3
movsx832 %r3, %r10
movsx1632 %r4, %r6
movsx864 %r5, %r2
movsx1664 %r6, %r9
movsx3264 %r7, %r5
le16 %r8
le32 %r9
le64 %r10
be16 %r0
be32 %r1
be64 %r2
bswap16 %r3
bswap32 %r4
bswap64 %r5
ldxw %r6, [%r9+72]
ldxh %r7, [%r5-73]
ldxb %r8, [%r1+74]
ldxdw %r9, [%r8-75]
ldxsw %r10, [%r4+76]
ldxsh %r0, [%r0-77]
ldxsb %r1, [%r7+78]
stw [%r2-79], -79000
sth [%r3+80], -80000
stb [%r4-81], 81
stdw [%r5+82], -82000
stxw [%r6-83], %r9
stxh [%r7+84], %r5
stxb [%r8-85], %r1
stxdw [%r9+86], %r8
lock add32 [%r10-87], %r4
lock fetch add32 [%r0+88], %r0
lock or32 [%r1-89], %r7
lock fetch or32 [%r2+90], %r3
lock and32 [%r3-91], %r10
lock fetch and32 [%r4+92], %r6
lock xor32 [%r5-93], %r2
lock fetch xor32 [%r6+94], %r9
lock xchg32 [%r7-95], %r5
lock cmpxchg32 [%r8+96], %r1
lock add [%r9-97], %r8
lock fetch add [%r10+98], %r4
lock or [%r0-99], %r0
lock fetch or [%r1+100], %r7
lock and [%r2-101], %r3
lock fetch and [%r3+102], %r10
lock xor [%r4-103], %r6
lock fetch xor [%r5+104], %r2
lock xchg [%r6-105], %r9
lock cmpxchg [%r7+106], %r5
lddw %r8, 0x6bfffe5e08
ldabsw 108
ldabsh -109000
ldabsb -110000
ldindw %r7, 111
ldindh %r3, -112000
ldindb %r10, -113000
ja +114
ja32 -115000
jeq %r6, -116000, +116
jeq %r7, %r5, -117
jgt %r8, -118000, +118
jgt %r9, %r8, -119
jge %r10, 120, +120
jge %r0, %r0, -121
jset %r1, -122000, +122
jset %r2, %r3, -123
jne %r3, -124000, +124
jne %r4, %r6, -125
jsgt %r5, 126, +126
jsgt %r6, %r9, -127
jsge %r7, -128000, +128
jsge %r8, %r1, -129
jlt %r9, -130000, +130
jlt %r10, %r4, -131
jle %r0, 132, +132
jle %r1, %r7, -133
jslt %r2, -134000, +134
jslt %r3, %r10, -135
jsle %r4, -136000, +136
jsle %r5, %r2, -137
jeq32 %r6, 138, +138
jeq32 %r7, %r5, -139
jgt32 %r8, -140000, +140
jgt32 %r9, %r8, -141
jge32 %r10, -142000, +142
jge32 %r0, %r0, -143
jset32 %r1, 144, +144
jset32 %r2, %r3, -145
jne32 %r3, -146000, +146
jne32 %r4, %r6, -147
jsgt32 %r5, -148000, +148
jsgt32 %r6, %r9, -149
jsge32 %r7, 150, +150
jsge32 %r8, %r1, -151
jlt32 %r9, -152000, +152
jlt32 %r10, %r4, -153
jle32 %r0, -154000, +154
jle32 %r1, %r7, -155
jslt32 %r2, 156, +156
jslt32 %r3, %r10, -157
jsle32 %r4, -158000, +158
jsle32 %r5, %r2, -159
call -160000
call local -161000
call %r8
exit
