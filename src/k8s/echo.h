/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_K8S_ECHO_H
#define SLUICE_K8S_ECHO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <sluice/error.h>

#include "manifest.h"

/*
 * The backend pods' server: on each port, TCP (HTTP/1.x, keep-alive when
 * the client wants it) and UDP, answering every request or datagram with
 * the pod's name and a newline, so that a client sees which backend the
 * service sent it to.
 */

#define K8S_ECHO_MAX_PORTS 16

struct k8s_echo_opts {
	const char *name;
	uint16_t ports[K8S_ECHO_MAX_PORTS];
	size_t n_ports;
	int ready_fd;           /* written once listening, then closed; -1: none */
};

/* Serve until SIGTERM or SIGINT. */
int k8s_echo_run(const struct k8s_echo_opts *o, struct sluice_error *err);

/* The socket address of ip:port (either family) into *ss; its length. */
socklen_t k8s_sockaddr_of(const struct k8s_ip *ip, uint16_t port, struct sockaddr_storage *ss);

/*
 * The client: flows new connections (or datagrams) to addr:port, one after
 * the other, each from source port sport_base + i (0: any), each sending
 * `requests` requests on its connection, interval_ms apart.  Per flow: the
 * backend's answer, whether it changed within the flow, and the latencies.
 */
struct k8s_probe_opts {
	struct k8s_ip addr;
	uint16_t port;
	int proto;              /* IPPROTO_TCP, IPPROTO_UDP */
	size_t flows;
	uint16_t sport_base;
	size_t requests;        /* per flow, at least 1 */
	int timeout_ms;         /* per step */
	int interval_ms;        /* pause between a flow's requests */
	size_t size;            /* UDP: bytes a datagram carries (0: a few), sent with don't fragment */
	bool fin;               /* TCP: close with FIN (the default is a reset, leaving no TIME_WAIT) */
};

struct k8s_probe_flow {
	char backend[64];       /* "" when it failed */
	uint64_t connect_ns;    /* TCP handshake (UDP: 0) */
	uint64_t request_ns;    /* mean round trip of a request */
	bool switched;          /* a later request answered by another backend */
	/*
	 * Why it failed, when the socket said: ECONNREFUSED (a reset, an ICMP
	 * port unreachable), EHOSTUNREACH/ENETUNREACH, EMSGSIZE (fragmentation
	 * needed, packet too big): ICMP errors the client's stack matched to it.
	 */
	int error;
};

/* flows[opts->flows]; a flow that fails leaves backend "" and counts in *failed. */
int k8s_probe_run(const struct k8s_probe_opts *o, struct k8s_probe_flow *flows, size_t *failed,
		  struct sluice_error *err);

#endif
