/* SPDX-License-Identifier: MIT */
/*
 * Flow records from datapath events, their names, and the filter readers
 * give the agent.  Everything here is pure: the agent adds the pods,
 * identities and services it knows (agent.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>

#include "../../datapath/flow.h"
#include "errmsg.h"
#include "flow.h"

/* The datapath's numbers are the records' (flow.h in datapath/ says so). */
_Static_assert((int)FLOW_EV_HTTP_RESPONSE == (int)K8S_FLOW_HTTP_RESPONSE &&
	       (int)FLOW_EV_DROP == (int)K8S_FLOW_POLICY, "flow event types");
_Static_assert((int)FLOW_DROP_MALFORMED == (int)K8S_DROP_MALFORMED &&
	       (int)FLOW_DROP_NO_BACKEND == (int)K8S_DROP_NO_BACKEND, "drop reasons");

const char *k8s_flow_type_name(enum k8s_flow_type t)
{
	static const char *const names[] = {
		[K8S_FLOW_NEW] = "new",
		[K8S_FLOW_ESTABLISHED] = "established",
		[K8S_FLOW_CLOSED] = "closed",
		[K8S_FLOW_POLICY] = "policy",
		[K8S_FLOW_HTTP_REQUEST] = "http-request",
		[K8S_FLOW_HTTP_RESPONSE] = "http-response",
	};

	return (unsigned)t < sizeof(names) / sizeof(names[0]) ? names[t] : "unknown";
}

const char *k8s_flow_verdict_name(enum k8s_flow_verdict v)
{
	return v == K8S_FLOW_DROPPED ? "dropped" : "forwarded";
}

const char *k8s_drop_reason_name(enum k8s_drop_reason r)
{
	static const char *const names[] = {
		[K8S_DROP_NONE] = "",
		[K8S_DROP_POLICY_DENIED] = "policy-denied",
		[K8S_DROP_NO_IDENTITY] = "no-identity",
		[K8S_DROP_HTTP_DENIED] = "http-denied",
		[K8S_DROP_NO_BACKEND] = "no-backend",
		[K8S_DROP_MALFORMED] = "malformed",
	};

	return (unsigned)r < sizeof(names) / sizeof(names[0]) ? names[r] : "unknown";
}

static void peer_of(const __be32 *addr, __be16 port, uint8_t family, struct k8s_flow_peer *p)
{
	inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, addr, p->addr, sizeof(p->addr));
	p->port = ntohs(port);
}

/* The word of head[*at..len) up to a space or the line's end, into out; *at past it. */
static void head_word(const uint8_t *head, size_t len, size_t *at, char *out, size_t size)
{
	size_t n = 0;

	while (*at < len && head[*at] > ' ' && head[*at] <= '~') {
		if (n + 1 < size)
			out[n++] = (char)head[*at];
		++*at;
	}
	out[n] = 0;
}

void k8s_flow_from_event(const struct flow_event *ev, int64_t mono_to_real_ns,
			 struct k8s_flow *f)
{
	static const __be32 none[4];
	int nat = memcmp(ev->backend, none, sizeof(none)) != 0;

	memset(f, 0, sizeof(*f));
	f->time_ns = (uint64_t)((int64_t)ev->time + mono_to_real_ns);
	f->type = (enum k8s_flow_type)ev->type;
	f->drop_reason = (enum k8s_drop_reason)ev->reason;
	f->verdict = ev->reason ? K8S_FLOW_DROPPED : K8S_FLOW_FORWARDED;
	f->family = ev->tuple.family;
	f->proto = ev->tuple.proto;
	f->tcp_flags = ev->tcp_flags;
	f->egress = ev->egress;
	f->packets = ev->packets;
	f->bytes = ev->bytes;
	peer_of(ev->tuple.saddr, ev->tuple.sport, f->family, &f->src);
	if (nat)
		peer_of(ev->backend, ev->backend_port, f->family, &f->dst);
	else
		peer_of(ev->tuple.daddr, ev->tuple.dport, f->family, &f->dst);
	f->http.status = ev->status;
	if (ev->type == FLOW_EV_HTTP_REQUEST) {
		/* the request line: METHOD SP PATH SP VERSION, as the datapath checked it or not */
		size_t at = 0;

		head_word(ev->http, FLOW_HTTP_HEAD, &at, f->http.method, sizeof(f->http.method));
		if (at < FLOW_HTTP_HEAD && ev->http[at] == ' ')
			at++;
		head_word(ev->http, FLOW_HTTP_HEAD, &at, f->http.path, sizeof(f->http.path));
	}
}

void k8s_flow_filter_init(struct k8s_flow_filter *flt)
{
	memset(flt, 0, sizeof(*flt));
	flt->verdict = -1;
}

static int is_pod(const struct k8s_flow_peer *p, const struct k8s_flow_filter *flt)
{
	return !strcmp(p->pod, flt->pod) && (!*flt->ns || !strcmp(p->ns, flt->ns));
}

int k8s_flow_match(const struct k8s_flow *f, const struct k8s_flow_filter *flt)
{
	if (flt->verdict >= 0 && (int)f->verdict != flt->verdict)
		return 0;
	if (f->time_ns < flt->since_ns)
		return 0;
	return !*flt->pod || is_pod(&f->src, flt) || is_pod(&f->dst, flt);
}

int k8s_flow_filter_format(const struct k8s_flow_filter *flt, char *buf, size_t size)
{
	int n = snprintf(buf, size, "ns %s\npod %s\nverdict %d\nsince %" PRIu64 "\nlast %" PRIu64
			 "\nfollow %d\n", *flt->ns ? flt->ns : "-", *flt->pod ? flt->pod : "-",
			 flt->verdict, flt->since_ns, flt->last, flt->follow);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : n;
}

int k8s_flow_filter_parse(const char *text, struct k8s_flow_filter *flt, struct sluice_error *err)
{
	char key[16], val[K8S_NAME_MAX];
	const char *p = text;
	int n;

	k8s_flow_filter_init(flt);
	while (*p) {
		if (sscanf(p, "%15s %253s%n", key, val, &n) != 2)
			return sluice_fail(err, EINVAL, "malformed flow filter");
		p += n;
		while (*p == '\n')
			p++;
		if (!strcmp(key, "ns") || !strcmp(key, "pod")) {
			char *to = !strcmp(key, "ns") ? flt->ns : flt->pod;

			if (strcmp(val, "-"))
				snprintf(to, K8S_NAME_MAX, "%s", val);
		} else if (!strcmp(key, "verdict")) {
			flt->verdict = atoi(val);
		} else if (!strcmp(key, "since")) {
			flt->since_ns = strtoull(val, NULL, 10);
		} else if (!strcmp(key, "last")) {
			flt->last = strtoull(val, NULL, 10);
		} else if (!strcmp(key, "follow")) {
			flt->follow = atoi(val);
		} else {
			return sluice_fail(err, EINVAL, "unknown flow filter '%s'", key);
		}
	}
	return 0;
}
