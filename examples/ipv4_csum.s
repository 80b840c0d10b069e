# The Internet checksum (RFC 1071) of the IPv4 header of an Ethernet frame:
# 0 when the header's checksum field is right.  r1 = frame, r2 = its length.
	mov %r0, 0xffff
	jlt %r2, 34, done          # too short to hold an IPv4 header
	ldxb %r3, [%r1+14]
	and %r3, 0x0f
	lsh %r3, 2                 # header length in bytes (20..60)
	mov %r4, %r3
	add %r4, 14
	jgt %r4, %r2, done         # header runs past the frame
	add %r1, 14                # r1 walks the header, r3 counts bytes left
	mov %r0, 0
loop:
	ldxh %r5, [%r1]
	be16 %r5
	add %r0, %r5
	add %r1, 2
	sub %r3, 2
	jgt %r3, 0, loop
fold:                          # fold the carries back into 16 bits
	mov %r5, %r0
	rsh %r5, 16
	and %r0, 0xffff
	add %r0, %r5
	jgt %r0, 0xffff, fold
	xor %r0, 0xffff            # one's complement
done:
	exit
