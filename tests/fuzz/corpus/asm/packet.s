ldabsb 12
ldabsh 0x10
ldabsw -1
ldindb %r1, 0
ldindh r2, 4
ldindw %r3, 0xffffffff
exit
