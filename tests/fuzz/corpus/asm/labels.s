start:
	mov %r0, 0
	jeq %r0, 0, done # forward
	lddw %r1, 0x1122334455667788
done: ja start
loop:ja32 loop
call local func
exit
func:
  mov32 r0, r1
  exit
