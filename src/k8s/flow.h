/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_K8S_FLOW_H
#define SLUICE_K8S_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include <sluice/error.h>

#include "manifest.h"

/*
 * One flow record as the agent hands it to its readers (`sluice flows`,
 * the RED metrics, the service map): a datapath flow event
 * (datapath/flow.h) with its addresses resolved to pods, identities and
 * the service, in the spirit of Hubble's Flow.  Records are plain values:
 * fixed-size strings, no pointers, so that they can be copied into rings.
 */

enum k8s_flow_type {
	K8S_FLOW_NEW,           /* conntrack made an entry: the connection's first packet */
	K8S_FLOW_ESTABLISHED,   /* the first reply came back */
	K8S_FLOW_CLOSED,        /* FIN or RST seen, or the entry aged out */
	K8S_FLOW_POLICY,        /* a policy verdict on a packet that opened nothing */
	K8S_FLOW_HTTP_REQUEST,  /* an HTTP/1.x request line went by */
	K8S_FLOW_HTTP_RESPONSE, /* its status line came back (status, latency) */
};

enum k8s_flow_verdict {
	K8S_FLOW_FORWARDED,
	K8S_FLOW_DROPPED,
};

/* Why a packet was dropped (K8S_FLOW_DROPPED), as the datapath counts it. */
enum k8s_drop_reason {
	K8S_DROP_NONE,
	K8S_DROP_POLICY_DENIED,  /* no policy allowed it */
	K8S_DROP_NO_IDENTITY,    /* the peer's address has no identity */
	K8S_DROP_HTTP_DENIED,    /* an L7 rule refused the request */
	K8S_DROP_NO_BACKEND,     /* the service has no ready backend */
	K8S_DROP_MALFORMED,      /* a packet the parser refused */
};

struct k8s_flow_peer {
	char ns[K8S_NAME_MAX];    /* "" when the address is no pod's (world, node) */
	char pod[K8S_NAME_MAX];
	uint32_t identity;        /* 0: none */
	char addr[48];            /* textual IPv4 or IPv6 */
	uint16_t port;
};

struct k8s_flow {
	uint64_t time_ns;         /* wall clock, nanoseconds since the epoch */
	enum k8s_flow_type type;
	enum k8s_flow_verdict verdict;
	enum k8s_drop_reason drop_reason;
	uint8_t family;           /* AF_INET, AF_INET6 */
	uint8_t proto;            /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, ... */
	uint8_t tcp_flags;        /* of the packet that made the event (LB_TCP_*) */
	uint8_t egress;           /* 1: seen leaving a pod (a client's, a backend's replies); 0: arriving */
	struct k8s_flow_peer src; /* the client */
	struct k8s_flow_peer dst; /* the backend (after DNAT) or the pod addressed */
	char service[2 * K8S_NAME_MAX]; /* "ns/name" when addressed through a service, else "" */
	uint64_t packets;         /* of the connection so far, both ways */
	uint64_t bytes;
	struct {
		char method[16];
		char path[128];
		uint16_t status;      /* responses */
		uint64_t latency_ns;  /* responses: since their request */
	} http;
};

const char *k8s_flow_type_name(enum k8s_flow_type t);
const char *k8s_flow_verdict_name(enum k8s_flow_verdict v);
const char *k8s_drop_reason_name(enum k8s_drop_reason r);

struct flow_event;

/*
 * The record of a datapath event (datapath/flow.h), before the agent
 * names anything: addresses and ports (the destination is the backend
 * when a service DNAT chose one), type, verdict, counters, the HTTP
 * request line's method and path, the response's status.  mono_to_real_ns
 * turns the event's bpf_ktime_get_ns() (CLOCK_MONOTONIC) into wall-clock
 * time.  Pure.
 */
void k8s_flow_from_event(const struct flow_event *ev, int64_t mono_to_real_ns,
			 struct k8s_flow *f);

/*
 * Which records a reader wants (`sluice flows`): the agent applies it to
 * its ring and to the records it streams.
 */
struct k8s_flow_filter {
	char ns[K8S_NAME_MAX];      /* with pod: the pod's namespace, "" for any */
	char pod[K8S_NAME_MAX];     /* "": any; else a record with this pod on either side */
	int verdict;                /* enum k8s_flow_verdict, or -1 for any */
	uint64_t since_ns;          /* wall clock; 0: all */
	uint64_t last;              /* the ring's last N matching records; 0: all */
	int follow;                 /* then keep streaming new records */
};

void k8s_flow_filter_init(struct k8s_flow_filter *flt);
int k8s_flow_match(const struct k8s_flow *f, const struct k8s_flow_filter *flt);
/* The filter as the request carries it ("key value" lines), and back. */
int k8s_flow_filter_format(const struct k8s_flow_filter *flt, char *buf, size_t size);
int k8s_flow_filter_parse(const char *text, struct k8s_flow_filter *flt,
			  struct sluice_error *err);

#endif
