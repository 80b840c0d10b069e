# The same filter with its length checks removed (a bug): 1 for an IPv4 TCP packet to port 80, 0 for anything else.
# r1 points at the packet (from its Ethernet header), r2 holds its length.
	mov %r0, 0
	ldxh %r3, [%r1+12]         # EtherType, network byte order
	be16 %r3
	jne %r3, 0x0800, done      # not IPv4
	ldxb %r3, [%r1+23]         # IPv4 protocol
	jne %r3, 6, done           # not TCP
	ldxb %r4, [%r1+14]         # version and header length (IHL, in words)
	and %r4, 0x0f
	lsh %r4, 2
	mov %r5, %r4
	add %r5, 18                # the TCP destination port ends 4 bytes into TCP
	add %r4, %r1
	ldxh %r3, [%r4+16]         # TCP destination port: 14 + IHL + 2
	be16 %r3
	jne %r3, 80, done
	mov %r0, 1
done:
	exit
