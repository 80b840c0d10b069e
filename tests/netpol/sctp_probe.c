/* SPDX-License-Identifier: MIT */
/*
 * SCTP through the datapath without the kernel's SCTP (Debian's kernels
 * build it as a module that a test machine may not load): raw sockets send
 * and receive bare SCTP packets, an INIT chunk one way and an INIT ACK
 * back, which is all the datapath looks at (the common header's ports).
 *   sctp_probe serve PORT MS     answers every packet to PORT for MS ms
 *                                (IPv4 and IPv6), prints how many it answered
 *   sctp_probe ask ADDR PORT MS  sends one to ADDR:PORT, prints "reply" when
 *                                the answer comes within MS ms, else "nothing"
 * Exit 0 on "reply" (and for serve), 1 on "nothing", 2 on bad usage or errors.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef IPPROTO_SCTP
#define IPPROTO_SCTP 132
#endif

#define CHUNK_INIT 1
#define CHUNK_INIT_ACK 2

/* The common header and one INIT (or INIT ACK) chunk without parameters. */
struct sctp_packet {
	uint16_t sport, dport;
	uint32_t vtag;
	uint32_t checksum;     /* CRC32c, which nothing on this path checks: left 0 */
	uint8_t type, flags;
	uint16_t length;
	uint32_t init_tag;
	uint32_t a_rwnd;
	uint16_t out_streams, in_streams;
	uint32_t initial_tsn;
};

union addr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
	struct sockaddr_storage ss;
};

static long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void fill(struct sctp_packet *p, uint16_t sport, uint16_t dport, uint8_t type,
		 uint32_t vtag)
{
	memset(p, 0, sizeof(*p));
	p->sport = htons(sport);
	p->dport = htons(dport);
	p->vtag = vtag;
	p->type = type;
	p->length = htons(sizeof(*p) - 12);
	p->init_tag = htonl(0x5c7b0001);
	p->a_rwnd = htonl(65536);
	p->out_streams = htons(1);
	p->in_streams = htons(1);
	p->initial_tsn = htonl(1);
}

/*
 * The SCTP packet in a raw socket's datagram: after the IPv4 header, which
 * IPv4 raw sockets pass up, or at the start for IPv6.
 */
static const struct sctp_packet *sctp_of(const uint8_t *buf, ssize_t n, int family)
{
	size_t off = family == AF_INET && n > 0 ? (size_t)(buf[0] & 0xf) * 4 : 0;

	if (n < 0 || (size_t)n < off + sizeof(struct sctp_packet))
		return NULL;
	return (const struct sctp_packet *)(buf + off);
}

/* Wait on fds until one holds a packet; its SCTP header (and sender) or NULL at the deadline. */
static const struct sctp_packet *next(struct pollfd *fds, int nfds, long deadline, uint8_t *buf,
				      size_t size, union addr *from, int *family)
{
	for (;;) {
		long left = deadline - now_ms();
		socklen_t len = sizeof(*from);

		if (left <= 0 || poll(fds, (nfds_t)nfds, (int)left) <= 0)
			return NULL;
		for (int i = 0; i < nfds; i++) {
			const struct sctp_packet *p;
			ssize_t n;

			if (!(fds[i].revents & POLLIN))
				continue;
			n = recvfrom(fds[i].fd, buf, size, 0, &from->sa, &len);
			*family = from->sa.sa_family;
			p = sctp_of(buf, n, *family);
			if (p)
				return p;
		}
	}
}

static int serve(uint16_t port, long ms)
{
	struct pollfd fds[2] = {
		{ .fd = socket(AF_INET, SOCK_RAW, IPPROTO_SCTP), .events = POLLIN },
		{ .fd = socket(AF_INET6, SOCK_RAW, IPPROTO_SCTP), .events = POLLIN },
	};
	long deadline = now_ms() + ms;
	unsigned answered = 0;
	const struct sctp_packet *p;
	struct sctp_packet reply;
	uint8_t buf[2048];
	union addr from;
	int family;

	if (fds[0].fd < 0 || fds[1].fd < 0) {
		perror("sctp_probe: socket");
		return 2;
	}
	while ((p = next(fds, 2, deadline, buf, sizeof(buf), &from, &family))) {
		if (ntohs(p->dport) != port || p->type != CHUNK_INIT)
			continue;
		fill(&reply, port, ntohs(p->sport), CHUNK_INIT_ACK, p->init_tag);
		/* a raw socket's port field is the protocol: the address is all that counts */
		if (sendto(fds[family == AF_INET6].fd, &reply, sizeof(reply), 0, &from.sa,
			   family == AF_INET6 ? sizeof(from.in6) : sizeof(from.in)) < 0)
			perror("sctp_probe: sendto");
		else
			answered++;
	}
	printf("answered %u\n", answered);
	return 0;
}

static int ask(const char *addr, uint16_t port, long ms)
{
	union addr to = { 0 }, from;
	uint16_t sport = (uint16_t)(40000 + getpid() % 20000);
	struct sctp_packet init;
	const struct sctp_packet *p;
	struct pollfd fd = { .events = POLLIN };
	long deadline = now_ms() + ms;
	uint8_t buf[2048];
	int family;

	if (inet_pton(AF_INET, addr, &to.in.sin_addr) == 1) {
		to.in.sin_family = AF_INET;
	} else if (inet_pton(AF_INET6, addr, &to.in6.sin6_addr) == 1) {
		to.in6.sin6_family = AF_INET6;
	} else {
		fprintf(stderr, "sctp_probe: not an address: %s\n", addr);
		return 2;
	}
	fd.fd = socket(to.sa.sa_family, SOCK_RAW, IPPROTO_SCTP);
	fill(&init, sport, port, CHUNK_INIT, 0);
	if (fd.fd < 0 || sendto(fd.fd, &init, sizeof(init), 0, &to.sa,
				to.sa.sa_family == AF_INET6 ? sizeof(to.in6) : sizeof(to.in)) < 0) {
		perror("sctp_probe");
		return 2;
	}
	while ((p = next(&fd, 1, deadline, buf, sizeof(buf), &from, &family)))
		if (ntohs(p->sport) == port && ntohs(p->dport) == sport &&
		    p->type == CHUNK_INIT_ACK) {
			printf("reply\n");
			return 0;
		}
	printf("nothing\n");
	return 1;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "serve"))
		return serve((uint16_t)atoi(argv[2]), atol(argv[3]));
	if (argc == 5 && !strcmp(argv[1], "ask"))
		return ask(argv[2], (uint16_t)atoi(argv[3]), atol(argv[4]));
	fprintf(stderr, "usage: sctp_probe serve PORT MS | sctp_probe ask ADDR PORT MS\n");
	return 2;
}
