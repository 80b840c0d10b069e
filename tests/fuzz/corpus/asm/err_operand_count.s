add %r0
exit 1
