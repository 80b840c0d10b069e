mov %r0, 1
ja exit
mov %r0, 2
exit
