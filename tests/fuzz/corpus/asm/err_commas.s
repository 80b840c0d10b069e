mov %r0,, 1
mov %r0, 1,
