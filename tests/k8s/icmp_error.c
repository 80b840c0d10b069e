/* SPDX-License-Identifier: MIT */
/*
 * Send the error a router on the client's side would send the backend of
 * a service: "fragmentation needed" (ICMPv6 "packet too big") with an MTU,
 * quoting a UDP datagram FROM:SPORT -> TO:DPORT, addressed to FROM (the
 * service address of a reply the client got).  Run it in the client's
 * network namespace; the datapath must hand it to the backend as quoting
 * the backend's own datagram.
 * usage: icmp_error MTU FROM SPORT TO DPORT
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The Internet checksum of len bytes (ICMPv4 and the quoted IPv4 header). */
static uint16_t checksum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

int main(int argc, char **argv)
{
	uint8_t msg[8 + 40 + 8] = { 0 };
	struct sockaddr_storage to = { 0 };
	struct in6_addr from6, to6;
	struct in_addr from4, to4;
	unsigned long mtu;
	uint16_t sport, dport, sum;
	size_t len;
	int fd;

	if (argc != 6) {
		fprintf(stderr, "usage: icmp_error MTU FROM SPORT TO DPORT\n");
		return 2;
	}
	mtu = strtoul(argv[1], NULL, 10);
	sport = htons((uint16_t)atoi(argv[3]));
	dport = htons((uint16_t)atoi(argv[5]));
	if (inet_pton(AF_INET, argv[2], &from4) == 1 && inet_pton(AF_INET, argv[4], &to4) == 1) {
		struct sockaddr_in *a = (struct sockaddr_in *)&to;
		uint8_t *ip = msg + 8, *udp = ip + 20;

		msg[0] = 3; /* destination unreachable */
		msg[1] = 4; /* fragmentation needed */
		msg[6] = (uint8_t)(mtu >> 8);
		msg[7] = (uint8_t)mtu;
		ip[0] = 0x45;
		ip[2] = (1400 + 28) >> 8; /* the datagram that did not fit */
		ip[3] = (1400 + 28) & 0xff;
		ip[6] = 0x40; /* don't fragment */
		ip[8] = 64;
		ip[9] = IPPROTO_UDP;
		memcpy(ip + 12, &from4, 4);
		memcpy(ip + 16, &to4, 4);
		sum = checksum(ip, 20);
		memcpy(ip + 10, &sum, 2);
		memcpy(udp, &sport, 2);
		memcpy(udp + 2, &dport, 2);
		udp[4] = (1400 + 8) >> 8;
		udp[5] = (1400 + 8) & 0xff;
		len = 8 + 20 + 8;
		sum = checksum(msg, len);
		memcpy(msg + 2, &sum, 2);
		a->sin_family = AF_INET;
		a->sin_addr = from4;
		fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	} else if (inet_pton(AF_INET6, argv[2], &from6) == 1 &&
		   inet_pton(AF_INET6, argv[4], &to6) == 1) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&to;
		uint8_t *ip = msg + 8, *udp = ip + 40;

		msg[0] = 2; /* packet too big; the kernel computes the ICMPv6 checksum */
		msg[4] = (uint8_t)(mtu >> 24);
		msg[5] = (uint8_t)(mtu >> 16);
		msg[6] = (uint8_t)(mtu >> 8);
		msg[7] = (uint8_t)mtu;
		ip[0] = 0x60;
		ip[4] = (1400 + 8) >> 8;
		ip[5] = (1400 + 8) & 0xff;
		ip[6] = IPPROTO_UDP;
		ip[7] = 64;
		memcpy(ip + 8, &from6, 16);
		memcpy(ip + 24, &to6, 16);
		memcpy(udp, &sport, 2);
		memcpy(udp + 2, &dport, 2);
		udp[4] = (1400 + 8) >> 8;
		udp[5] = (1400 + 8) & 0xff;
		len = 8 + 40 + 8;
		a->sin6_family = AF_INET6;
		a->sin6_addr = from6;
		fd = socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
	} else {
		fprintf(stderr, "icmp_error: FROM and TO: two IPv4 or two IPv6 addresses\n");
		return 2;
	}
	if (fd < 0 || sendto(fd, msg, len, 0, (struct sockaddr *)&to,
			     to.ss_family == AF_INET ? sizeof(struct sockaddr_in)
						     : sizeof(struct sockaddr_in6)) != (ssize_t)len) {
		perror("icmp_error");
		return 1;
	}
	close(fd);
	return 0;
}
