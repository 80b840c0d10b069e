addd %r0, 1
