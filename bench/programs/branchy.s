# branchy: a first-match firewall.  Checks the Ethernet and IPv4 headers,
# loads the addresses and ports, then walks a rule list; returns the number
# of the first rule that matches, counting in program order, or 0.  Loop-free,
# 28 conditional jumps; the input packet matches rule 17, so a run takes
# most of them.
#
# Input: 64 bytes holding a TCP/IPv4 packet two bytes in (as drivers place
# it, so the IP header is 4-byte aligned): Ethernet type at 14, IPv4 header
# at 16, TCP header at 36.

	ldxh %r2, [%r1+14]	# Ethernet type
	be16 %r2
	jne %r2, 0x0800, match1	# 1: not IPv4
	ldxb %r2, [%r1+16]	# version and header length
	jne %r2, 0x45, match2	# 2: IP options
	ldxh %r2, [%r1+22]	# flags and fragment offset
	be16 %r2
	jset %r2, 0x1fff, match3	# 3: a fragment after the first
	ldxb %r2, [%r1+24]	# TTL
	jle %r2, 1, match4	# 4: TTL expired
	ldxb %r6, [%r1+25]	# protocol
	ldxw %r7, [%r1+28]	# source address
	be32 %r7
	ldxw %r8, [%r1+32]	# destination address
	be32 %r8
	jeq %r6, 6, ports
	jeq %r6, 17, ports
	jeq %r6, 1, match5	# 5: ICMP
	mov %r0, 6		# 6: any other protocol
	exit
ports:
	ldxh %r9, [%r1+36]	# source port
	be16 %r9
	ldxh %r3, [%r1+38]	# destination port
	be16 %r3
	jeq %r9, 0, match7	# 7: port zero
	jeq %r3, 0, match7
	mov %r2, %r7
	rsh %r2, 24
	jeq %r2, 10, match8	# 8: from 10.0.0.0/8
	jne %r3, 22, udp
	mov %r2, %r7
	rsh %r2, 8
	jeq %r2, 0xc0a801, match9	# 9: ssh from 192.168.1.0/24
	ja match10		# 10: ssh from anywhere else
udp:
	jne %r6, 17, multicast
	jeq %r3, 53, match11	# 11: DNS
	jeq %r3, 123, match12	# 12: NTP
multicast:
	mov %r2, %r8
	rsh %r2, 28
	jeq %r2, 14, match13	# 13: to 224.0.0.0/4
	mov %r5, %r8		# destination /24, for rules 14 and 17
	rsh %r5, 8
	jne %r3, 80, privileged
	jeq %r5, 0xcb0071, match14	# 14: HTTP to 203.0.113.0/24
privileged:
	jne %r6, 6, smtp
	jlt %r9, 1024, match15	# 15: TCP from a privileged port
smtp:
	jeq %r3, 25, match16	# 16: SMTP
	jne %r3, 443, alt_http
	jne %r6, 6, alt_http
	jeq %r5, 0xcb0071, match17	# 17: HTTPS (TCP) to 203.0.113.0/24
alt_http:
	jlt %r3, 8000, syn
	jle %r3, 8999, match18	# 18: ports 8000-8999
syn:
	jne %r6, 6, nomatch
	ldxb %r2, [%r1+49]	# TCP flags
	and %r2, 0x12
	jeq %r2, 0x02, match19	# 19: SYN without ACK
nomatch:
	mov %r0, 0
	exit
match1:
	mov %r0, 1
	exit
match2:
	mov %r0, 2
	exit
match3:
	mov %r0, 3
	exit
match4:
	mov %r0, 4
	exit
match5:
	mov %r0, 5
	exit
match7:
	mov %r0, 7
	exit
match8:
	mov %r0, 8
	exit
match9:
	mov %r0, 9
	exit
match10:
	mov %r0, 10
	exit
match11:
	mov %r0, 11
	exit
match12:
	mov %r0, 12
	exit
match13:
	mov %r0, 13
	exit
match14:
	mov %r0, 14
	exit
match15:
	mov %r0, 15
	exit
match16:
	mov %r0, 16
	exit
match17:
	mov %r0, 17
	exit
match18:
	mov %r0, 18
	exit
match19:
	mov %r0, 19
	exit
