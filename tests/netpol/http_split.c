/* SPDX-License-Identifier: MIT */
/*
 * An HTTP/1.1 request for PATH sent in two TCP segments (split inside the
 * request line, a pause between them, Nagle off), as a client on a slow
 * link may: prints "reset" when the connection was reset, "response" when
 * an answer came, "timeout" when neither did.  With HEADER ("Name: value"),
 * the request carries it and the split falls just before it instead, so
 * that it comes in the second segment.
 * usage: http_split ADDR PORT PATH [HEADER]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct timespec pause = { .tv_nsec = 100 * 1000 * 1000 };
	struct pollfd p;
	char req[512], buf[512];
	int fd, on = 1, split, len;
	ssize_t n;

	if ((argc != 4 && argc != 5) || inet_pton(AF_INET, argv[1], &a.sin_addr) != 1) {
		fprintf(stderr, "usage: http_split ADDR PORT PATH [HEADER]\n");
		return 2;
	}
	a.sin_port = htons((uint16_t)atoi(argv[2]));
	/* "GET /a" | "pi/... HTTP/1.1 ...", or "... Host: split\r\n" | "HEADER\r\n..." */
	len = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: split\r\n", argv[3]);
	if (len < 0 || (size_t)len >= sizeof(req) / 2) {
		fprintf(stderr, "http_split: path too long\n");
		return 2;
	}
	split = argc == 5 ? len : 6;
	snprintf(req + len, sizeof(req) - (size_t)len, "%s%sConnection: close\r\n\r\n",
		 argc == 5 ? argv[4] : "", argc == 5 ? "\r\n" : "");
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) ||
	    connect(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    send(fd, req, (size_t)split, 0) != split) {
		perror("http_split");
		return 2;
	}
	nanosleep(&pause, NULL);
	/* the first half may have been reset already: then this fails */
	if (send(fd, req + split, strlen(req) - (size_t)split, MSG_NOSIGNAL) < 0) {
		puts(errno == ECONNRESET || errno == EPIPE ? "reset" : "error");
		return 0;
	}
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	if (poll(&p, 1, 2000) != 1) {
		puts("timeout");
		return 0;
	}
	n = recv(fd, buf, sizeof(buf), 0);
	puts(n > 0 ? "response" : n < 0 && errno == ECONNRESET ? "reset" : "closed");
	close(fd);
	return 0;
}
