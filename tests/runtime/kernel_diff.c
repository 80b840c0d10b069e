/* SPDX-License-Identifier: MIT */
/*
 * runtime_kernel_diff: Sluice's user-space runtime against the kernel,
 * packet by packet.
 *
 * Every XDP, TC (classifier and action) and socket-filter program of the
 * example objects and of the datapath objects (the Kubernetes load
 * balancer, lb.o), and every XDP program of the corpus objects, that the
 * kernel accepts runs on the same generated packets (pktgen.h) through
 * BPF_PROG_TEST_RUN in the kernel and through sluice_rt_test_run in each
 * engine.  For every packet the outcome must be the same: the error when
 * the run is refused, else the return value, the output packet (size and
 * bytes) and the context handed back.  After the whole set, every map must
 * hold the same contents (see enum map_kind for how each kind is read).
 * No map is left out: run against itself (--kernel-only), the kernel fills
 * every map of these programs the same way each time, so any difference is
 * Sluice's.  The datapath's conntrack and affinity entries store the clock
 * (time_fields): those fields compare as set or not, the rest exactly.
 *
 * Both sides start from fresh maps for each program (the kernel object is
 * loaded again, and so is Sluice's), filled with the same configuration
 * (map_seeds; for the datapath, service_seeds) so that lookups hit, and
 * see the same routes (a network namespace of the test's own).  Per-CPU
 * values compare CPU by CPU: XDP and skb test runs take no CPU (cpu must
 * be 0, in the kernel and in Sluice), the kernel runs them where the
 * caller runs and Sluice as CPU 0, so the test stays on CPU 0.
 *
 * The kernel's outcomes also say how much of each program the packets
 * reach: a table (expected_verdicts) lists, for the examples and the
 * datapath, the verdicts that the set must produce (some: on packets that
 * come out rewritten, or of a kind), and a verdict no packet reaches any
 * more fails the test.
 *
 * usage: runtime_kernel_diff [--kernel-only] [--engine interp|jit|checked]...
 *                            [--datapath DIR] [-v] EXAMPLES_DIR [CORPUS_DIR]
 * The engines are interp, jit and checked (the interpreter testing every
 * access against the run's memory), all three unless some are named.
 * --kernel-only compares the kernel with itself instead, two fresh loads and
 * runs, which shows what depends on more than the packets (time, random).
 * --datapath names the directory of the datapath objects (lb.o).
 * -v also says which maps compared equal and with how many entries.
 * Exit 0 when everything agrees, 1 on a mismatch or a program Sluice
 * refuses, 77 when the kernel refuses bpf() here (ctest: skipped).
 */
#define _GNU_SOURCE /* sched_setaffinity, unshare */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <net/if.h>
#include <net/route.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <sluice/kernel.h>
#include <sluice/maps.h>
#include <sluice/object.h>
#include <sluice/runtime.h>

#include "datapath/flow.h"
#include "datapath/lb.h"
#include "errmsg.h"
#include "k8s/agent.h"
#include "k8s/maglev.h"
#include "pktgen.h"

#define SKIP 77
#define SEED 0x51c3d1ffu
/* Room for any output: the largest frame plus what a program may grow it by. */
#define OUT_ROOM (PKTGEN_MAX_LEN + 1024)
#define META_LEN 8
#define HEX_WINDOW 64      /* bytes of a packet shown around a difference */
#define MAX_ENGINES 4
#define MAX_VERDICTS 24
#define MAX_KEY 512
#define MAX_PROGS 64

/* ---- what the harness knows about particular objects --------------------- */

/*
 * Configuration both sides get before the packets: entries that make the
 * programs' lookups hit addresses of the packet set (pktgen_ipv4_addrs...).
 * Keys and values are raw bytes as the program reads them: addresses in
 * network order, LPM prefix lengths and actions in host (little-endian) order.
 * A per-CPU map gets the value on every CPU.  object is a file name or a
 * pattern (fnmatch); a pattern's seeds go to those of its objects that
 * have the map.
 */
struct map_seed {
	const char *object;
	const char *map;
	uint8_t key[20];
	size_t key_size;
	uint8_t value[64];
	size_t value_size;
};

static const struct map_seed map_seeds[] = {
	/* blocked sources, with their drop counters at 0 */
	{ "xdp_filter.o", "blocklist", { 10, 0, 0, 2 }, 4, { 0 }, 8 },
	{ "xdp_filter.o", "blocklist6", { 0xfd, [15] = 2 }, 16, { 0 }, 8 },
	/* routes: 192.168.7.0/24 and 8.8.8.8 dropped (through the tail call), 10/8 passed */
	{ "btf_maps.o", "routes", { 24, 0, 0, 0, 192, 168, 7, 0 }, 8, { 1 }, 4 },
	{ "btf_maps.o", "routes", { 32, 0, 0, 0, 8, 8, 8, 8 }, 8, { 1 }, 4 },
	{ "btf_maps.o", "routes", { 8, 0, 0, 0, 10, 0, 0, 0 }, 8, { 0 }, 4 },
	/* acl: the router's own 10.0.0.0/30, a dropped /24, a redirected /16, a passed host */
	{ "xdp_edge.o", "acl", { 30, 0, 0, 0, 10, 0, 0, 0 }, 8, { 3 }, 8 },
	{ "xdp_edge.o", "acl", { 24, 0, 0, 0, 192, 168, 7, 0 }, 8, { 1 }, 8 },
	{ "xdp_edge.o", "acl", { 16, 0, 0, 0, 172, 16, 0, 0 }, 8, { 2, 0, 0, 0, 1 }, 8 },
	{ "xdp_edge.o", "acl", { 32, 0, 0, 0, 203, 0, 113, 9 }, 8, { 0 }, 8 },
	/* services: 10.1.2.3 TCP 80 -> 192.168.7.20:8080, UDP 53 -> 192.168.1.10:5353 */
	{ "tc_nat.o", "services", { 10, 1, 2, 3, 0, 80, 6 }, 8,
	  { 192, 168, 7, 20, 0x1f, 0x90 }, 8 },
	{ "tc_nat.o", "services", { 10, 1, 2, 3, 0, 53, 17 }, 8,
	  { 192, 168, 1, 10, 0x14, 0xe9 }, 8 },
	/*
	 * vips: 10.1.2.3 TCP 80 over three backends, UDP 53 over two, 8.8.8.8
	 * UDP 53 over none (dropped); values {lock, count, backends[4], packets, bytes}
	 */
	{ "xdp_lb.o", "vips", { 10, 1, 2, 3, 0, 80, 6 }, 8,
	  { [4] = 3, [8] = 192, 168, 7, 20, 172, 16, 0, 5, 203, 0, 113, 9 }, 40 },
	{ "xdp_lb.o", "vips", { 10, 1, 2, 3, 0, 53, 17 }, 8,
	  { [4] = 2, [8] = 192, 168, 1, 10, 8, 8, 8, 8 }, 40 },
	{ "xdp_lb.o", "vips", { 8, 8, 8, 8, 0, 53, 17 }, 8, { 0 }, 40 },
	/*
	 * xdp-filter (corpus): ports 80 and 53 (as the program reads them, in
	 * network order), 10.0.0.2, fd00::2 and 02:00:00:00:00:01, each with
	 * every flag below the hit counter (bit 6 up): source, destination,
	 * TCP, UDP
	 */
	{ "xdpfilt_*.o", "filter_ports", { 0, 80 }, 4, { 0x3f }, 8 },
	{ "xdpfilt_*.o", "filter_ports", { 0, 53 }, 4, { 0x3f }, 8 },
	{ "xdpfilt_*.o", "filter_ipv4", { 10, 0, 0, 2 }, 4, { 0x3f }, 8 },
	{ "xdpfilt_*.o", "filter_ipv6", { 0xfd, [15] = 2 }, 16, { 0x3f }, 8 },
	{ "xdpfilt_*.o", "filter_ethernet", { 2, 0, 0, 0, 0, 1 }, 6, { 0x3f }, 8 },
};

/*
 * The Kubernetes services the datapath objects (--datapath, lb.o) get,
 * written as the agent writes them (src/k8s/agent.c): frontends with ids
 * in table order, backends with ids in order of first mention, each
 * frontend's Maglev table built from its backends' names
 * (k8s_maglev_build, k8s_backend_name) at the default size and laid out
 * one after the other in lb_maglev, and lb_config with the agent's
 * default timeouts and hairpin addresses.  The timeouts matter: with
 * lb_config left zeroed every flow would expire by its next packet; with
 * the agent's (10 s for a closed flow, a minute or more for the others)
 * none expires within a program's run, far shorter even on the slowest
 * engine, so no verdict depends on the clock.  The
 * frontends are where the conversations of pktgen.h go, the backends
 * addresses of its pools on the ports its answers come from.
 */
#define SERVICE_BACKENDS 4

struct service_seed {
	const char *frontend;          /* "10.1.2.3:80", "[fd00:1::9]:53" */
	uint8_t proto;
	uint16_t flags;                /* LB_F_* */
	uint32_t affinity_timeout;     /* seconds */
	const char *backends[SERVICE_BACKENDS];
};

static const struct service_seed service_seeds[] = {
	/* ClusterIPs: the IPv4 conversations, TCP to three pods' port 8080 */
	{ "10.1.2.3:80", IPPROTO_TCP, 0, 0,
	  { "192.168.7.20:8080", "172.16.0.5:8080", "203.0.113.9:8080" } },
	/* UDP with sessionAffinity ClientIP (Kubernetes' default timeout, 3 hours) */
	{ "10.1.2.3:53", IPPROTO_UDP, LB_F_AFFINITY, 10800, { "192.168.1.10:53", "10.0.0.2:53" } },
	{ "[fd00:1::9]:80", IPPROTO_TCP, 0, 0, { "[fd00::2]:8080", "[2001:db8::42]:8080" } },
	/* its clients fd00::1 and fd00::2 are its backends too: hairpin flows */
	{ "[fd00:1::9]:53", IPPROTO_UDP, 0, 0, { "[fd00::1]:53", "[fd00::2]:53" } },
	/* NodePorts, on the addresses the other conversations go to */
	{ "8.8.8.8:53", IPPROTO_UDP, LB_F_NODEPORT, 0, { "192.168.1.10:53", "172.16.0.5:53" } },
	{ "[2001:db8::42]:80", IPPROTO_TCP, LB_F_NODEPORT, 0,
	  { "[fd00::1]:8080", "[fd00:1::9]:8080" } },
	/* a NodePort whose pods are all gone: its packets are dropped, and counted */
	{ "[2001:db8::42]:53", IPPROTO_UDP, LB_F_NODEPORT, 0, { NULL } },
};

#define DATAPATH_OBJECT "lb.o"
#define MAX_BACKENDS 16

static struct {
	struct map_seed *v;
	size_t n, cap;
} datapath_seeds;

static int add_seed(const char *map, const void *key, size_t key_size, const void *value,
		    size_t value_size)
{
	struct map_seed *s;

	if (key_size > sizeof(s->key) || value_size > sizeof(s->value))
		return -E2BIG;
	if (datapath_seeds.n == datapath_seeds.cap) {
		size_t cap = datapath_seeds.cap ? datapath_seeds.cap * 2 : 1024;
		struct map_seed *grown = realloc(datapath_seeds.v, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		datapath_seeds.v = grown;
		datapath_seeds.cap = cap;
	}
	s = &datapath_seeds.v[datapath_seeds.n++];
	memset(s, 0, sizeof(*s));
	s->object = DATAPATH_OBJECT;
	s->map = map;
	memcpy(s->key, key, key_size);
	s->key_size = key_size;
	memcpy(s->value, value, value_size);
	s->value_size = value_size;
	return 0;
}

/* "addr:port" or "[addr6]:port" into *b; 0 or -EINVAL. */
static int parse_endpoint(const char *text, struct k8s_backend *b)
{
	const char *colon = strrchr(text, ':');
	bool v6 = text[0] == '[';
	char addr[64];
	size_t len;

	memset(b, 0, sizeof(*b));
	if (!colon)
		return -EINVAL;
	len = (size_t)(colon - text) - (v6 ? 2 : 0);
	if (len >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, text + v6, len);
	addr[len] = '\0';
	b->ip.family = v6 ? AF_INET6 : AF_INET;
	b->port = (uint16_t)atoi(colon + 1);
	b->pod = "";
	return inet_pton(b->ip.family, addr, b->ip.addr) == 1 ? 0 : -EINVAL;
}

/* Backend b's id, given one when it is new (the seeds then hold it). */
static int backend_id(const struct k8s_backend *b, struct k8s_backend *known, size_t *count,
		      uint32_t *id)
{
	struct lb_backend val = { 0 };

	for (*id = 0; *id < *count; ++*id)
		if (known[*id].ip.family == b->ip.family && known[*id].port == b->port &&
		    !memcmp(known[*id].ip.addr, b->ip.addr, sizeof(b->ip.addr)))
			return 0;
	if (*count == MAX_BACKENDS)
		return -E2BIG;
	known[(*count)++] = *b;
	memcpy(val.addr, b->ip.addr, sizeof(val.addr));
	val.port = htons(b->port);
	val.family = (uint8_t)b->ip.family;
	return add_seed("lb_backends", id, sizeof(*id), &val, sizeof(val));
}

/*
 * Frontend i and its backends into the seeds, its Maglev table appended
 * to *tables (lb_maglev as the agent sees it, a uint32_t array), which
 * holds *used entries.
 */
static int seed_service(uint32_t i, struct k8s_backend *known, size_t *n_known,
			uint32_t **tables, uint32_t *used, struct sluice_error *err)
{
	const struct service_seed *svc = &service_seeds[i];
	struct lb_frontend_key key = { 0 };
	struct lb_frontend val = { .id = i, .flags = svc->flags,
				   .affinity_timeout = svc->affinity_timeout };
	const char *names[SERVICE_BACKENDS];
	char bufs[SERVICE_BACKENDS][64];
	uint32_t ids[SERVICE_BACKENDS], *grown;
	struct k8s_backend fe;
	size_t n = 0;
	int ret;

	if (parse_endpoint(svc->frontend, &fe))
		return sluice_fail(err, EINVAL, "%s: not an address and port", svc->frontend);
	memcpy(key.addr, fe.ip.addr, sizeof(key.addr));
	key.port = htons(fe.port);
	key.proto = svc->proto;
	key.family = (uint8_t)fe.ip.family;
	for (; n < SERVICE_BACKENDS && svc->backends[n]; n++) {
		struct k8s_backend b;

		if (parse_endpoint(svc->backends[n], &b))
			return sluice_fail(err, EINVAL, "%s: not an address and port",
					   svc->backends[n]);
		ret = backend_id(&b, known, n_known, &ids[n]);
		if (ret)
			return sluice_fail(err, -ret, "seeding backend %s", svc->backends[n]);
		names[n] = k8s_backend_name(&b, bufs[n], sizeof(bufs[n]));
	}
	if (n) {
		val.table = *used;
		val.size = k8s_maglev_default_size(n);
		val.backends = (uint16_t)n;
		if (*used + val.size > LB_MAGLEV_ENTRIES)
			return sluice_fail(err, ENOSPC, "no room for the Maglev tables");
		/* one spare entry: the last element's second half, when *used ends odd */
		grown = realloc(*tables, (*used + val.size + 1) * sizeof(**tables));
		if (!grown)
			return sluice_fail(err, ENOMEM, "out of memory");
		*tables = grown;
		ret = k8s_maglev_build(names, n, val.size, grown + *used, err);
		if (ret)
			return ret;
		/* indexes into the service's backends become backend ids */
		for (uint32_t e = 0; e < val.size; e++)
			grown[*used + e] = ids[grown[*used + e]];
		*used += val.size;
		grown[*used] = 0;
	}
	ret = add_seed("lb_services", &key, sizeof(key), &val, sizeof(val));
	return ret ? sluice_fail(err, -ret, "out of memory") : 0;
}

static int build_datapath_seeds(struct sluice_error *err)
{
	static const uint32_t zero = 0;
	struct k8s_ct_timeouts timeouts = K8S_CT_TIMEOUTS_DEFAULT;
	struct lb_config cfg = {
		.tcp_syn = timeouts.tcp_syn, .tcp_established = timeouts.tcp_established,
		.tcp_closing = timeouts.tcp_closing, .udp = timeouts.udp,
	};
	struct k8s_backend known[MAX_BACKENDS];
	uint32_t *tables = NULL;
	size_t n_known = 0;
	uint32_t used = 0;
	int ret = 0;

	inet_pton(AF_INET, K8S_HAIRPIN_IP4, cfg.hairpin4);
	inet_pton(AF_INET6, K8S_HAIRPIN_IP6, cfg.hairpin6);
	if (add_seed("lb_config", &zero, sizeof(zero), &cfg, sizeof(cfg)))
		ret = sluice_fail(err, ENOMEM, "out of memory");
	for (uint32_t i = 0; !ret && i < sizeof(service_seeds) / sizeof(service_seeds[0]); i++)
		ret = seed_service(i, known, &n_known, &tables, &used, err);
	/* lb_maglev's elements are pairs of entries: the tables' share of them */
	for (uint32_t e = 0; !ret && e < (used + 1) / 2; e++) {
		struct lb_maglev_pair pair = { { tables[2 * e], tables[2 * e + 1] } };

		if (add_seed("lb_maglev", &e, sizeof(e), &pair, sizeof(pair)))
			ret = sluice_fail(err, ENOMEM, "out of memory");
	}
	free(tables);
	return ret;
}

/*
 * The verdicts the packet set must reach in each example program, checked
 * on the kernel's outcomes: a verdict that went missing means the packets
 * no longer exercise that path.
 */
struct expectation {
	const char *object;
	const char *prog;
	/*
	 * verdict_name()s, space-separated, each maybe with "+rewritten": some
	 * packet came out changed; and "@text": in a packet labelled so
	 */
	const char *verdicts;
};

static const struct expectation expected_verdicts[] = {
	{ "xdp_filter.o", "xdp_filter", "DROP PASS" },
	{ "tc_counter.o", "tc_count", "OK" },
	{ "socket_filter.o", "udp_only", "drop keep" },
	{ "global_calls.o", "xdp_sizes", "DROP PASS" },
	{ "btf_maps.o", "xdp_router", "DROP PASS" },
	{ "btf_maps.o", "xdp_drop_tail", "DROP" },
	{ "xdp_edge.o", "xdp_edge", "ABORTED DROP PASS TX REDIRECT" },
	{ "tc_nat.o", "tc_nat", "UNSPEC OK SHOT REDIRECT" },
	{ "tc_nat.o", "tc_police", "SHOT PIPE" },
	{ "socket_ldabs.o", "ip_sniffer", "drop keep" },
	{ "xdp_lb.o", "xdp_lb", "DROP PASS TX" },
	{ "xdp_lb.o", "xdp_tail_check", "DROP PASS" },
	{ "skb_trace.o", "tc_trace", "OK" },
	{ "skb_trace.o", "sock_trace", "drop keep" },
	{ "xdp_ext6.o", "xdp_ext6", "ABORTED DROP PASS" },
	/*
	 * the datapath: conversations DNATed (hairpins included), answers
	 * reverse-NATed, both sent on by the FIB (REDIRECT, else OK when the
	 * ingress device is none), a NodePort without backends dropped, DSR
	 * encapsulated at XDP, the tunnels taken off and DNATed at TC, ICMP
	 * errors about flows translated (where the backend lives, IPv6 only:
	 * the IPv4 NodePort's tunnels DNAT UDP to port PKTGEN_TUNNEL_ID, its
	 * errors quote port 53)
	 */
	{ DATAPATH_OBJECT, "lb_from_pod",
	  "OK SHOT OK+rewritten@ipv4@flow OK+rewritten@ipv6@flow OK+rewritten@ipv4@answer "
	  "OK+rewritten@ipv6@answer SHOT@ipv6@flow REDIRECT+rewritten@ipv4@answer "
	  "REDIRECT+rewritten@ipv6@answer REDIRECT+rewritten@ipv4@flow REDIRECT+rewritten@ipv6@flow "
	  "REDIRECT+rewritten@ipv4@error REDIRECT+rewritten@ipv6@error OK+rewritten@error" },
	{ DATAPATH_OBJECT, "lb_to_pod",
	  "OK SHOT OK+rewritten@ipv4@tunnel OK+rewritten@ipv6@tunnel SHOT@ipv4@tunnel "
	  "OK+rewritten@ipv6@error" },
	{ DATAPATH_OBJECT, "lb_nodeport",
	  "PASS DROP PASS+rewritten@ipv4@flow PASS+rewritten@ipv6@flow DROP@ipv6@flow" },
};

/* ---- program kinds and their verdicts ----------------------------------- */

enum kind { KIND_XDP, KIND_TC, KIND_SOCKET, KIND_OTHER };

static enum kind kind_of(uint32_t prog_type)
{
	switch (prog_type) {
	case BPF_PROG_TYPE_XDP:
		return KIND_XDP;
	case BPF_PROG_TYPE_SCHED_CLS:
	case BPF_PROG_TYPE_SCHED_ACT:
		return KIND_TC;
	case BPF_PROG_TYPE_SOCKET_FILTER:
		return KIND_SOCKET;
	default:
		return KIND_OTHER;
	}
}

static const char *verdict_name(enum kind kind, uint32_t retval, char *buf, size_t size)
{
	static const char *const xdp[] = { "ABORTED", "DROP", "PASS", "TX", "REDIRECT" };
	static const char *const tc[] = { "OK", "RECLASSIFY", "SHOT", "PIPE", "STOLEN",
					  "QUEUED", "REPEAT", "REDIRECT", "TRAP" };

	if (kind == KIND_XDP && retval < sizeof(xdp) / sizeof(xdp[0]))
		return xdp[retval];
	if (kind == KIND_TC && retval == UINT32_MAX)
		return "UNSPEC";
	if (kind == KIND_TC && retval < sizeof(tc) / sizeof(tc[0]))
		return tc[retval];
	if (kind == KIND_SOCKET) /* the bytes to keep */
		return retval ? "keep" : "drop";
	snprintf(buf, size, "retval %" PRIu32, retval);
	return buf;
}

struct verdicts {
	struct {
		char name[24];
		unsigned long count;
	} v[MAX_VERDICTS];
	size_t n;
};

static void count_verdict(struct verdicts *vs, const char *name)
{
	for (size_t i = 0; i < vs->n; i++)
		if (!strcmp(vs->v[i].name, name)) {
			vs->v[i].count++;
			return;
		}
	if (vs->n < MAX_VERDICTS) {
		snprintf(vs->v[vs->n].name, sizeof(vs->v[vs->n].name), "%s", name);
		vs->v[vs->n++].count = 1;
	}
}

/* ---- one run's input and outcome --------------------------------------- */


struct input {
	uint8_t data[META_LEN + PKTGEN_MAX_LEN];
	uint32_t len;
	union {
		struct xdp_md xdp;
		struct __sk_buff skb;
	} ctx;
	uint32_t ctx_size; /* 0: no context given */
};

/*
 * Packet i as program kind sees it.  The context varies with i so that both
 * sides meet each way a caller can set it up: none; XDP with the loopback
 * device's receive queue, or with metadata before the packet; an skb with
 * the fields BPF_PROG_TEST_RUN lets a caller set.
 */
static void make_input(struct input *in, const struct pktgen_packet *p, size_t i, enum kind kind)
{
	/* XDP: a quarter with ctx_in, a quarter with ctx_in and metadata; skb: two thirds */
	bool xdp_ctx = i % 4 == 1 || i % 4 == 2;
	uint32_t meta = 0;

	memset(&in->ctx, 0, sizeof(in->ctx));
	in->ctx_size = 0;
	if (kind == KIND_XDP && xdp_ctx) {
		meta = i % 4 == 2 ? META_LEN : 0;
		in->ctx.xdp.data = meta;
		in->ctx.xdp.data_end = meta + p->len;
		in->ctx.xdp.ingress_ifindex = 1;
		in->ctx_size = sizeof(in->ctx.xdp);
	} else if (kind != KIND_XDP && i % 3 != 0) {
		struct __sk_buff *skb = &in->ctx.skb;

		skb->mark = (uint32_t)(i * 2654435761u);
		skb->priority = (uint32_t)(i % 7);
		for (size_t k = 0; k < 5; k++)
			skb->cb[k] = (uint32_t)(i << 8 | k);
		if (i % 3 == 1) {
			skb->ingress_ifindex = 1;
			skb->ifindex = 1;
			skb->tstamp = i * 1000003ull;
		}
		in->ctx_size = sizeof(*skb);
	}
	for (uint32_t k = 0; k < meta; k++)
		in->data[k] = (uint8_t)(0xa0 + k);
	memcpy(in->data + meta, p->data, p->len);
	in->len = meta + p->len;
}

struct outcome {
	int err;               /* 0, or the -errno of a refused run */
	uint32_t retval;
	uint32_t size_out;
	uint8_t *data;         /* size_out bytes */
	uint32_t ctx_size_out;
	uint8_t ctx[sizeof(struct __sk_buff)];
	char msg[SLUICE_ERRMSG_MAX];
};

static int keep_output(struct outcome *out, const uint8_t *room, uint32_t size)
{
	out->size_out = size;
	out->data = malloc(size ? size : 1);
	if (!out->data)
		return -ENOMEM;
	memcpy(out->data, room, size);
	return 0;
}

static int kernel_run(struct sluice_kernel_object *obj, size_t prog, const struct input *in,
		      uint8_t *room, struct outcome *out)
{
	struct sluice_error err = { 0 };
	struct sluice_kernel_run run = {
		.sz = sizeof(run),
		.data_in = in->data,
		.data_size_in = in->len,
		.data_out = room,
		.data_size_out = OUT_ROOM,
		.ctx_in = in->ctx_size ? &in->ctx : NULL,
		.ctx_size_in = in->ctx_size,
		.ctx_out = in->ctx_size ? out->ctx : NULL,
		.ctx_size_out = in->ctx_size ? sizeof(out->ctx) : 0,
	};

	memset(out, 0, sizeof(*out));
	out->err = sluice_kernel_test_run(obj, prog, &run, &err);
	if (out->err) {
		snprintf(out->msg, sizeof(out->msg), "%s", err.msg);
		return 0;
	}
	out->retval = run.retval;
	out->ctx_size_out = (uint32_t)run.ctx_size_out;
	return keep_output(out, room, (uint32_t)run.data_size_out);
}

static int sluice_run(struct sluice_rt_prog *prog, const struct input *in, uint8_t *room,
		      struct outcome *out)
{
	struct sluice_error err = { 0 };
	struct sluice_test_run run = {
		.sz = sizeof(run),
		.data_in = in->data,
		.data_size_in = in->len,
		.data_out = room,
		.data_size_out = OUT_ROOM,
		.ctx_in = in->ctx_size ? &in->ctx : NULL,
		.ctx_size_in = in->ctx_size,
		.ctx_out = in->ctx_size ? out->ctx : NULL,
		.ctx_size_out = in->ctx_size ? sizeof(out->ctx) : 0,
		.cpu = 0, /* what Sluice runs XDP and skb programs as */
	};

	memset(out, 0, sizeof(*out));
	out->err = sluice_rt_test_run(prog, &run, &err);
	if (out->err) {
		snprintf(out->msg, sizeof(out->msg), "%s", err.msg);
		return 0;
	}
	out->retval = run.retval;
	out->ctx_size_out = run.ctx_size_out;
	return keep_output(out, room, run.data_size_out);
}

/* How two outcomes differ, the most telling difference first. */
enum difference {
	SAME, DIFF_ERROR, DIFF_RETVAL, DIFF_SIZE, DIFF_DATA, DIFF_CTX, DIFFERENCES
};

static const char *const difference_names[DIFFERENCES] = {
	"same", "refusal", "retval", "size", "bytes", "context",
};

static size_t first_difference(const uint8_t *a, const uint8_t *b, size_t len)
{
	size_t i = 0;

	while (i < len && a[i] == b[i])
		i++;
	return i;
}

/* *at: for DIFF_DATA and DIFF_CTX, the first byte that differs. */
static enum difference compare_outcomes(const struct outcome *k, const struct outcome *s,
					size_t *at)
{
	*at = 0;
	if (k->err || s->err)
		return k->err == s->err ? SAME : DIFF_ERROR;
	if (k->retval != s->retval)
		return DIFF_RETVAL;
	if (k->size_out != s->size_out || k->ctx_size_out != s->ctx_size_out)
		return DIFF_SIZE;
	*at = first_difference(k->data, s->data, k->size_out);
	if (*at < k->size_out)
		return DIFF_DATA;
	*at = first_difference(k->ctx, s->ctx, k->ctx_size_out < sizeof(k->ctx)
					       ? k->ctx_size_out : sizeof(k->ctx));
	return *at < k->ctx_size_out ? DIFF_CTX : SAME;
}

/* Up to HEX_WINDOW bytes of p, from a little before offset at. */
static void print_hex(const char *what, const uint8_t *p, size_t len, size_t at)
{
	size_t from = at >= 16 ? (at & ~(size_t)15) - 16 : 0;

	printf("      %s, %zu bytes, from byte %zu:", what, len, from);
	for (size_t i = from; i < len && i < from + HEX_WINDOW; i++)
		printf("%s%02x", (i - from) % 32 ? " " : "\n        ", p[i]);
	printf("%s\n", len > from + HEX_WINDOW ? " ..." : "");
}

static void print_outcome(const char *side, const struct outcome *o, size_t at)
{
	if (o->err) {
		printf("    %s: refused, %s (%s)\n", side, strerror(-o->err), o->msg);
		return;
	}
	printf("    %s: retval %" PRIu32 ", %" PRIu32 " bytes out, context %" PRIu32 " bytes\n",
	       side, o->retval, o->size_out, o->ctx_size_out);
	print_hex("packet", o->data, o->size_out, at);
	if (o->ctx_size_out)
		print_hex("context", o->ctx, o->ctx_size_out, 0);
}

/* ---- map contents ------------------------------------------------------- */

/*
 * How a map is read on both sides.  Plain data: every key with its value
 * (per-CPU: all CPUs'), as sets, since hash maps walk in orders of their
 * own.  Handles (program and map arrays, device maps, perf event arrays):
 * their values are ids or descriptors that differ by nature, so only which
 * keys hold something.  Records (ring buffers) and queues/stacks: drained,
 * in order.
 */
enum map_kind { MK_DATA, MK_HANDLES, MK_RECORDS, MK_QUEUE, MK_UNREADABLE };

static enum map_kind map_kind_of(uint32_t type)
{
	switch (type) {
	case BPF_MAP_TYPE_HASH:
	case BPF_MAP_TYPE_ARRAY:
	case BPF_MAP_TYPE_PERCPU_HASH:
	case BPF_MAP_TYPE_PERCPU_ARRAY:
	case BPF_MAP_TYPE_LRU_HASH:
	case BPF_MAP_TYPE_LRU_PERCPU_HASH:
	case BPF_MAP_TYPE_LPM_TRIE:
		return MK_DATA;
	case BPF_MAP_TYPE_PROG_ARRAY:
	case BPF_MAP_TYPE_PERF_EVENT_ARRAY:
	case BPF_MAP_TYPE_ARRAY_OF_MAPS:
	case BPF_MAP_TYPE_HASH_OF_MAPS:
	case BPF_MAP_TYPE_DEVMAP:
	case BPF_MAP_TYPE_DEVMAP_HASH:
	case BPF_MAP_TYPE_CPUMAP:
	case BPF_MAP_TYPE_XSKMAP:
		return MK_HANDLES;
	case BPF_MAP_TYPE_RINGBUF:
		return MK_RECORDS;
	case BPF_MAP_TYPE_QUEUE:
	case BPF_MAP_TYPE_STACK:
		return MK_QUEUE;
	default:
		return MK_UNREADABLE;
	}
}

static bool is_percpu(uint32_t type)
{
	return type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_ARRAY ||
	       type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

struct map_entry {
	uint8_t *bytes;     /* key, then value */
	uint32_t key_size;
	uint32_t value_size;
};

struct map_dump {
	char name[64];
	uint32_t type;
	enum map_kind kind;
	struct map_entry *e;
	size_t count, cap;
	int err;            /* reading it failed: -errno */
	char msg[SLUICE_ERRMSG_MAX];
};

static int add_entry(struct map_dump *d, const void *key, uint32_t key_size, const void *value,
		     uint32_t value_size)
{
	struct map_entry *e;

	if (d->count == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		struct map_entry *grown = realloc(d->e, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		d->e = grown;
		d->cap = cap;
	}
	e = &d->e[d->count];
	e->bytes = malloc(key_size + value_size + 1);
	if (!e->bytes)
		return -ENOMEM;
	if (key_size) /* records and queue values have no key */
		memcpy(e->bytes, key, key_size);
	memcpy(e->bytes + key_size, value, value_size);
	e->key_size = key_size;
	e->value_size = value_size;
	d->count++;
	return 0;
}

static void free_dump(struct map_dump *d)
{
	for (size_t i = 0; i < d->count; i++)
		free(d->e[i].bytes);
	free(d->e);
	memset(d, 0, sizeof(*d));
}

static int cmp_entries(const void *a, const void *b)
{
	const struct map_entry *x = a, *y = b;
	size_t nx = x->key_size + x->value_size, ny = y->key_size + y->value_size;
	int c = memcmp(x->bytes, y->bytes, nx < ny ? nx : ny);

	return c ? c : (nx > ny) - (nx < ny);
}

/* One side of a map, behind the calls both sides offer. */
struct map_reader {
	int (*next_key)(void *m, const void *key, void *next);
	int (*lookup)(void *m, const void *key, void *value);
	int (*pop)(void *m, void *value);
	int (*drain_records)(void *m, struct map_dump *d);
	void *m;
	uint32_t key_size;
	uint32_t value_size; /* on the bpf(2) side: per-CPU values for every CPU */
	uint32_t max_entries;
};

static int read_map(const struct map_reader *r, struct map_dump *d)
{
	uint8_t key[MAX_KEY], next[MAX_KEY];
	uint8_t *value = malloc(r->value_size + 1); /* ring buffers have no value size */
	bool first = true;
	int ret = 0;

	if (!value || r->key_size > MAX_KEY) {
		free(value);
		return value ? -E2BIG : -ENOMEM;
	}
	switch (d->kind) {
	case MK_DATA:
	case MK_HANDLES:
		while (!ret && !r->next_key(r->m, first ? NULL : key, next)) {
			int found = r->lookup(r->m, next, value);
			uint8_t occupied = !found;

			if (d->count == r->max_entries)
				ret = -ELOOP; /* more keys than the map holds: the walk never ends */
			else if (d->kind == MK_DATA && found)
				ret = found; /* the key was just handed out: it must be there */
			/* handles: the key, and whether its slot holds anything */
			else if (d->kind == MK_HANDLES)
				ret = add_entry(d, next, r->key_size, &occupied, 1);
			else
				ret = add_entry(d, next, r->key_size, value, r->value_size);
			memcpy(key, next, r->key_size);
			first = false;
		}
		if (!ret && d->count)
			qsort(d->e, d->count, sizeof(*d->e), cmp_entries);
		break;
	case MK_QUEUE:
		while (!ret && !r->pop(r->m, value))
			ret = add_entry(d, NULL, 0, value, r->value_size);
		break;
	case MK_RECORDS:
		ret = r->drain_records(r->m, d);
		break;
	case MK_UNREADABLE:
		break;
	}
	free(value);
	return ret;
}

/* -- the kernel's side, through libbpf */

static int k_next_key(void *m, const void *key, void *next)
{
	return bpf_map_get_next_key((int)(long)m, key, next) ? -errno : 0;
}

static int k_lookup(void *m, const void *key, void *value)
{
	return bpf_map_lookup_elem((int)(long)m, key, value) ? -errno : 0;
}

static int k_pop(void *m, void *value)
{
	return bpf_map_lookup_and_delete_elem((int)(long)m, NULL, value) ? -errno : 0;
}

static int add_record(void *ctx, void *data, size_t size)
{
	return add_entry(ctx, NULL, 0, data, (uint32_t)size);
}

static int k_drain_records(void *m, struct map_dump *d)
{
	struct ring_buffer *rb = ring_buffer__new((int)(long)m, add_record, d, NULL);
	int ret;

	if (!rb)
		return -errno;
	ret = ring_buffer__consume(rb);
	ring_buffer__free(rb);
	return ret < 0 ? ret : 0;
}

static uint32_t bpf_side_value_size(uint32_t type, uint32_t value_size)
{
	if (is_percpu(type))
		return ((value_size + 7) & ~7u) * (uint32_t)libbpf_num_possible_cpus();
	return value_size;
}

static int kernel_dump(int fd, struct map_dump *d)
{
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info);
	struct map_reader r = {
		.next_key = k_next_key, .lookup = k_lookup, .pop = k_pop,
		.drain_records = k_drain_records, .m = (void *)(long)fd,
	};

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	d->type = info.type;
	d->kind = map_kind_of(info.type);
	r.key_size = info.key_size;
	r.value_size = bpf_side_value_size(info.type, info.value_size);
	r.max_entries = info.max_entries;
	return read_map(&r, d);
}

/* -- Sluice's side */

static int s_next_key(void *m, const void *key, void *next)
{
	return sluice_map_get_next_key(m, key, next, NULL);
}

static int s_lookup(void *m, const void *key, void *value)
{
	return sluice_map_lookup(m, key, value, 0, NULL);
}

static int s_pop(void *m, void *value)
{
	return sluice_map_lookup_and_delete(m, NULL, value, 0, NULL);
}

static int s_drain_records(void *m, struct map_dump *d)
{
	long n = sluice_ringbuf_consume(m, add_record, d);

	return n < 0 ? (int)n : 0;
}

static int sluice_dump(struct sluice_map *map, struct map_dump *d)
{
	struct sluice_map_info info;
	struct map_reader r = {
		.next_key = s_next_key, .lookup = s_lookup, .pop = s_pop,
		.drain_records = s_drain_records, .m = map,
	};

	sluice_map_get_info(map, &info);
	d->type = info.type;
	d->kind = map_kind_of(info.type);
	r.key_size = info.key_size;
	r.value_size = (uint32_t)sluice_map_value_size(map);
	r.max_entries = info.max_entries;
	return read_map(&r, d);
}

/* ---- the network ---------------------------------------------------------- */

/*
 * bpf_fib_lookup reads the kernel's routes and forwarding settings,
 * Sluice's the routes it is given.  The test makes both the same: a
 * network namespace of its own, whose loopback device (ifindex 1, the
 * device test runs arrive on) is up, forwards, and routes everything,
 * and the same routes for Sluice.  The route's MTU is the loopback
 * device's (65,536), less one for Sluice's 16 bits: no packet comes near.
 */
#define LOOPBACK 1

static const struct sluice_route routes[] = {
	{ .family = AF_INET, .ifindex = LOOPBACK, .mtu = 65535 },
	{ .family = AF_INET6, .ifindex = LOOPBACK, .mtu = 65535 },
};

static bool routed; /* the namespace is set up: Sluice gets the routes */

static int write_sysctl(const char *path)
{
	FILE *f = fopen(path, "w");
	int ret = f && fputs("1", f) >= 0 ? 0 : -errno;

	if (f && fclose(f) && !ret)
		ret = -errno;
	return ret;
}

static int add_kernel_route(int fd, const struct sluice_route *r)
{
	if (r->family == AF_INET) {
		struct rtentry rt = { .rt_flags = RTF_UP, .rt_dev = "lo" };
		struct sockaddr_in *dst = (struct sockaddr_in *)&rt.rt_dst;
		struct sockaddr_in *mask = (struct sockaddr_in *)&rt.rt_genmask;

		dst->sin_family = mask->sin_family = AF_INET;
		memcpy(&dst->sin_addr, r->dst, 4);
		mask->sin_addr.s_addr = r->prefix_len ? htonl(~0u << (32 - r->prefix_len)) : 0;
		return ioctl(fd, SIOCADDRT, &rt) ? -errno : 0;
	} else {
		struct in6_rtmsg rt = { .rtmsg_dst_len = r->prefix_len, .rtmsg_flags = RTF_UP,
					.rtmsg_metric = 1, .rtmsg_ifindex = (int)r->ifindex };
		int fd6 = socket(AF_INET6, SOCK_DGRAM, 0);
		int ret = fd6 < 0 ? -errno : 0;

		memcpy(&rt.rtmsg_dst, r->dst, 16);
		if (!ret && ioctl(fd6, SIOCADDRT, &rt))
			ret = -errno;
		if (fd6 >= 0)
			close(fd6);
		return ret;
	}
}

/* The namespace, or why not: "unshare", "lo up", ... */
static const char *make_network(int *ret)
{
	struct ifreq lo = { .ifr_flags = IFF_UP };
	const char *step = "unshare";
	int fd = -1;

	*ret = unshare(CLONE_NEWNET) ? -errno : 0;
	if (!*ret) {
		step = "lo up";
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		snprintf(lo.ifr_name, sizeof(lo.ifr_name), "lo");
		*ret = fd < 0 || ioctl(fd, SIOCSIFFLAGS, &lo) ? -errno : 0;
	}
	if (!*ret) {
		step = "forwarding";
		*ret = write_sysctl("/proc/sys/net/ipv4/conf/lo/forwarding");
		if (!*ret)
			*ret = write_sysctl("/proc/sys/net/ipv6/conf/lo/forwarding");
	}
	for (size_t i = 0; !*ret && i < sizeof(routes) / sizeof(routes[0]); i++) {
		step = "routes";
		*ret = add_kernel_route(fd, &routes[i]);
	}
	if (fd >= 0)
		close(fd);
	return step;
}

/*
 * Values that hold a bpf_ktime_get_ns(): the kernel's clock and the one
 * Sluice runs on read differently, so such a field compares only as set or
 * not; every other byte of the entry compares exactly.  The datapath's
 * conntrack (struct lb_ct_entry.last_seen: a forward entry's last packet,
 * a reply entry's making), ClientIP affinity (struct
 * lb_affinity.last_seen: the client's last new flow) and the flow events'
 * records (struct flow_event.time).
 */
struct time_field {
	const char *object;
	const char *map;
	size_t offset;  /* of a __u64 in the value */
};

static const struct time_field time_fields[] = {
	{ DATAPATH_OBJECT, "lb_ct", offsetof(struct lb_ct_entry, last_seen) },
	{ DATAPATH_OBJECT, "lb_affinity", offsetof(struct lb_affinity, last_seen) },
	{ DATAPATH_OBJECT, "lb_flows", offsetof(struct flow_event, time) },
};

static void mask_times(const char *file, struct map_dump *d)
{
	for (size_t t = 0; t < sizeof(time_fields) / sizeof(time_fields[0]); t++) {
		const struct time_field *f = &time_fields[t];

		if (strcmp(f->object, file) || strcmp(f->map, d->name) ||
		    (d->kind != MK_DATA && d->kind != MK_RECORDS))
			continue;
		for (size_t i = 0; i < d->count; i++) {
			struct map_entry *e = &d->e[i];
			uint64_t stamp;

			if (f->offset + sizeof(stamp) > e->value_size)
				continue;
			memcpy(&stamp, e->bytes + e->key_size + f->offset, sizeof(stamp));
			stamp = stamp != 0;
			memcpy(e->bytes + e->key_size + f->offset, &stamp, sizeof(stamp));
		}
	}
}

/* ---- one program -------------------------------------------------------- */

struct totals {
	size_t programs;         /* compared on every engine asked for */
	unsigned long packet_mismatches;
	unsigned long map_mismatches;
	unsigned long maps_compared;
	unsigned long refused;   /* kernel-accepted programs Sluice would not load */
	unsigned long uncovered; /* expected verdicts no packet reached */
	unsigned long skipped;   /* programs the kernel rejects */
	unsigned long failures;  /* the harness could not do its part */
};

struct options {
	bool kernel_only;
	bool verbose;
	const char *datapath; /* the directory of lb.o, or NULL */
	const char *engines[MAX_ENGINES];
	size_t engine_count;
};

struct program {
	const char *path;
	const char *label;    /* "examples/xdp_edge.o" */
	const char *file;     /* "xdp_edge.o" */
	const char *name;
	enum kind kind;
	const struct sluice_object *sobj;
	const char *loaded[MAX_PROGS + 1]; /* the object's programs the kernel accepted */
};

static const struct pktgen_set *packets;
static const struct options *opts;
static struct totals totals;

static struct sluice_kernel_object *open_kernel(const struct program *p, size_t *index,
						struct sluice_kernel_verdict *v)
{
	struct sluice_error err = { 0 };
	struct sluice_kernel_object *kobj = sluice_kernel_open(p->path, NULL, &err);
	int i;

	if (!kobj) {
		printf("FAIL %s: the kernel backend cannot open it: %s\n", p->label, err.msg);
		return NULL;
	}
	i = sluice_kernel_find_prog(kobj, p->name, &err);
	if (i < 0 || sluice_kernel_load_prog(kobj, (size_t)i, v, &err)) {
		printf("FAIL %s/%s: %s\n", p->label, p->name, err.msg);
		sluice_kernel_close(kobj);
		return NULL;
	}
	*index = (size_t)i;
	return kobj;
}

typedef int seed_fn(void *ctx, const struct map_seed *s, struct sluice_error *err);

/* The seeds of seeds[0..n) for this object into one side, through set(ctx, seed, err). */
static int seed_from(const struct program *p, const struct map_seed *seeds, size_t n,
		     seed_fn *set, void *ctx)
{
	for (size_t i = 0; i < n; i++) {
		const struct map_seed *s = &seeds[i];
		struct sluice_error err = { 0 };
		int ret;

		if (fnmatch(s->object, p->file, 0))
			continue;
		if (strchr(s->object, '*') && sluice_object_find_map(p->sobj, s->map) < 0)
			continue;
		ret = set(ctx, s, &err);
		if (ret) {
			printf("FAIL %s/%s: seeding map %s: %s\n", p->label, p->name, s->map, err.msg);
			return ret;
		}
	}
	return 0;
}

static int seed_maps(const struct program *p, seed_fn *set, void *ctx)
{
	int ret = seed_from(p, map_seeds, sizeof(map_seeds) / sizeof(map_seeds[0]), set, ctx);

	return ret ? ret : seed_from(p, datapath_seeds.v, datapath_seeds.n, set, ctx);
}

/* A seed written for another layout than the map's would fill it with nonsense. */
static int check_seed_sizes(const struct map_seed *s, uint32_t key_size, uint32_t value_size,
			    struct sluice_error *err)
{
	if (s->key_size == key_size && s->value_size == value_size)
		return 0;
	snprintf(err->msg, sizeof(err->msg), "the seed has %zu-byte keys and %zu-byte values, "
		 "the map %" PRIu32 " and %" PRIu32, s->key_size, s->value_size, key_size,
		 value_size);
	return -EINVAL;
}

/* The bpf(2) form of a seed's value: per-CPU maps take a copy per possible CPU. */
static uint8_t *seed_value(const struct map_seed *s, bool percpu)
{
	size_t stride = (s->value_size + 7) & ~(size_t)7;
	size_t copies = percpu ? (size_t)libbpf_num_possible_cpus() : 1;
	uint8_t *value = calloc(copies, stride);

	for (size_t c = 0; value && c < copies; c++)
		memcpy(value + c * stride, s->value, s->value_size);
	return value;
}

static int kernel_map_index(struct sluice_kernel_object *kobj, const char *name)
{
	for (size_t i = 0; i < sluice_kernel_map_count(kobj); i++)
		if (!strcmp(sluice_kernel_map_name(kobj, i), name))
			return (int)i;
	return -ENOENT;
}

static int kernel_seed(void *ctx, const struct map_seed *s, struct sluice_error *err)
{
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info);
	int i = kernel_map_index(ctx, s->map), fd, ret;
	uint8_t *value;

	if (i < 0) {
		snprintf(err->msg, sizeof(err->msg), "the kernel's object has no such map");
		return i;
	}
	fd = sluice_kernel_map_fd(ctx, (size_t)i, err);
	if (fd < 0)
		return fd;
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		snprintf(err->msg, sizeof(err->msg), "BPF_OBJ_GET_INFO_BY_FD: %s", strerror(errno));
		return -errno;
	}
	ret = check_seed_sizes(s, info.key_size, info.value_size, err);
	if (ret)
		return ret;
	value = seed_value(s, is_percpu(info.type));
	if (!value)
		return -ENOMEM;
	if (bpf_map_update_elem(fd, s->key, value, BPF_ANY)) {
		snprintf(err->msg, sizeof(err->msg), "BPF_MAP_UPDATE_ELEM: %s", strerror(errno));
		ret = -errno;
	}
	free(value);
	return ret;
}

static int sluice_seed(void *ctx, const struct map_seed *s, struct sluice_error *err)
{
	struct sluice_map *m = sluice_rt_find_map(ctx, s->map);
	struct sluice_map_info info;
	uint8_t *value;
	int ret;

	if (!m) {
		snprintf(err->msg, sizeof(err->msg), "Sluice's object has no such map");
		return -ENOENT;
	}
	sluice_map_get_info(m, &info);
	ret = check_seed_sizes(s, info.key_size, info.value_size, err);
	if (ret)
		return ret;
	value = seed_value(s, is_percpu(info.type));
	if (!value)
		return -ENOMEM;
	ret = sluice_map_update(m, s->key, value, 0, err);
	free(value);
	return ret;
}

/* What the kernel did with every packet, and its maps after. */
struct kernel_side {
	struct outcome *outcomes;
	struct map_dump *maps;
	size_t map_count;
	struct verdicts verdicts;
	unsigned long refused_runs;
};

static void free_kernel_side(struct kernel_side *k)
{
	for (size_t i = 0; k->outcomes && i < packets->count; i++)
		free(k->outcomes[i].data);
	for (size_t i = 0; i < k->map_count; i++)
		free_dump(&k->maps[i]);
	free(k->outcomes);
	free(k->maps);
}

static int run_kernel_side(struct program *p, struct kernel_side *k, struct input *in,
			   uint8_t *room)
{
	struct sluice_kernel_verdict v;
	struct sluice_kernel_object *kobj;
	size_t index, n = 0;
	int ret;

	kobj = open_kernel(p, &index, &v);
	if (!kobj)
		return -EINVAL;
	/* both sides load the same programs: the ones the kernel accepted */
	for (size_t i = 0; i < sluice_kernel_prog_count(kobj) && n < MAX_PROGS; i++) {
		struct sluice_kernel_verdict other;

		if (!sluice_kernel_load_prog(kobj, i, &other, NULL) && other.accepted)
			p->loaded[n++] = sluice_kernel_prog_name(kobj, i);
	}
	p->loaded[n] = NULL;
	k->outcomes = calloc(packets->count, sizeof(*k->outcomes));
	k->map_count = sluice_kernel_map_count(kobj);
	k->maps = calloc(k->map_count ? k->map_count : 1, sizeof(*k->maps));
	ret = k->outcomes && k->maps ? seed_maps(p, kernel_seed, kobj) : -ENOMEM;
	for (size_t i = 0; !ret && i < packets->count; i++) {
		struct outcome *o = &k->outcomes[i];
		char buf[32];

		make_input(in, &packets->pkts[i], i, p->kind);
		ret = kernel_run(kobj, index, in, room, o);
		if (o->err)
			k->refused_runs++;
		else
			count_verdict(&k->verdicts, verdict_name(p->kind, o->retval, buf, sizeof(buf)));
	}
	for (size_t i = 0; !ret && i < k->map_count; i++) {
		struct map_dump *d = &k->maps[i];
		struct sluice_error err = { 0 };
		int fd = sluice_kernel_map_fd(kobj, i, &err);

		snprintf(d->name, sizeof(d->name), "%s", sluice_kernel_map_name(kobj, i));
		d->err = fd < 0 ? fd : kernel_dump(fd, d);
		if (d->err)
			snprintf(d->msg, sizeof(d->msg), "%s", fd < 0 ? err.msg : strerror(-d->err));
		else
			mask_times(p->file, d);
	}
	/* the kernel object goes, and its names with it: Sluice's object holds the same */
	n = 0;
	for (size_t i = 0; p->loaded[i]; i++) {
		const struct sluice_prog *sp = sluice_object_find_prog(p->sobj, p->loaded[i]);

		if (sp)
			p->loaded[n++] = sluice_prog_name(sp);
	}
	p->loaded[n] = NULL;
	sluice_kernel_close(kobj);
	return ret;
}

static void print_verdicts(const struct kernel_side *k)
{
	for (size_t i = 0; i < k->verdicts.n; i++)
		printf(" %s %lu", k->verdicts.v[i].name, k->verdicts.v[i].count);
	if (k->refused_runs)
		printf(" refused %lu", k->refused_runs);
}

#define REWRITTEN "+rewritten"

/* Whether a packet's label holds every "@text" of an expectation's tail. */
static bool labelled(const char *label, const char *tail)
{
	char want[80];

	while (*tail == '@') {
		size_t len = strcspn(tail + 1, "@");

		snprintf(want, sizeof(want), "%.*s", (int)len, tail + 1);
		if (!strstr(label, want))
			return false;
		tail += 1 + len;
	}
	return !*tail; /* anything else is a typo in the table, which must not pass */
}

/*
 * Whether some packet reaches what token says: a verdict_name(), then
 * optionally REWRITTEN (the packet came out other than it went in: its
 * size or its bytes) and "@text"s its label must each contain, as in
 * "OK+rewritten@ipv6@answer".
 */
static bool reached(const struct program *p, const struct kernel_side *k, struct input *in,
		    const char *token)
{
	size_t name_len = strcspn(token, "+@");
	bool rewritten = !strncmp(token + name_len, REWRITTEN, strlen(REWRITTEN));
	const char *tail = token + name_len + (rewritten ? strlen(REWRITTEN) : 0);

	for (size_t i = 0; i < packets->count; i++) {
		const struct outcome *o = &k->outcomes[i];
		char buf[32];
		const char *name = o->err ? "" : verdict_name(p->kind, o->retval, buf, sizeof(buf));

		if (strlen(name) != name_len || strncmp(name, token, name_len) ||
		    !labelled(packets->pkts[i].label, tail))
			continue;
		if (!rewritten)
			return true;
		make_input(in, &packets->pkts[i], i, p->kind);
		if (o->size_out != in->len || memcmp(o->data, in->data, in->len))
			return true;
	}
	return false;
}

/* The verdicts the table expects of this program that no packet produced. */
static void check_coverage(const struct program *p, const struct kernel_side *k,
			   struct input *in)
{
	for (size_t i = 0; i < sizeof(expected_verdicts) / sizeof(expected_verdicts[0]); i++) {
		const struct expectation *e = &expected_verdicts[i];

		if (strcmp(e->object, p->file) || strcmp(e->prog, p->name))
			continue;
		for (const char *v = e->verdicts; *v;) {
			size_t len = strcspn(v, " ");
			char token[128];

			snprintf(token, sizeof(token), "%.*s", (int)len, v);
			if (!reached(p, k, in, token)) {
				printf("FAIL %s/%s: no packet reaches verdict %s\n", p->label, p->name,
				       token);
				totals.uncovered++;
			}
			v += len + strspn(v + len, " ");
		}
	}
}

static void report_packet_mismatch(const struct program *p, const char *engine, size_t i,
				   const struct input *in, const struct outcome *k,
				   const struct outcome *s)
{
	const struct pktgen_packet *pkt = &packets->pkts[i];
	size_t at;
	enum difference d = compare_outcomes(k, s, &at);

	printf("MISMATCH %s/%s, engine %s, packet %zu (%s, %s): %s differs", p->label, p->name,
	       engine, i, pktgen_class_name(pkt->cls), pkt->label, difference_names[d]);
	if (d == DIFF_DATA || d == DIFF_CTX)
		printf(" at byte %zu", at);
	printf("\n");
	print_hex("input", in->data, in->len, d == DIFF_DATA ? at : 0);
	if (in->ctx_size)
		print_hex("context in", (const uint8_t *)&in->ctx, in->ctx_size, 0);
	print_outcome("kernel", k, d == DIFF_DATA ? at : 0);
	print_outcome("sluice", s, d == DIFF_DATA ? at : 0);
}

static void report_map_mismatch(const struct program *p, const char *engine,
				const struct map_dump *k, const struct map_dump *s)
{
	size_t i = 0;

	printf("MISMATCH %s/%s, engine %s, map %s: ", p->label, p->name, engine, k->name);
	if (k->err || s->err) {
		printf("reading it failed: kernel %s, sluice %s\n", k->err ? k->msg : "ok",
		       s->err ? s->msg : "ok");
		return;
	}
	printf("kernel holds %zu entries, sluice %zu\n", k->count, s->count);
	while (i < k->count && i < s->count && !cmp_entries(&k->e[i], &s->e[i]))
		i++;
	if (i < k->count)
		print_hex("first entry only the kernel holds (key, value)", k->e[i].bytes,
			  k->e[i].key_size + k->e[i].value_size, 0);
	if (i < s->count)
		print_hex("first entry only sluice holds (key, value)", s->e[i].bytes,
			  s->e[i].key_size + s->e[i].value_size, 0);
}

static bool same_dump(const struct map_dump *k, const struct map_dump *s)
{
	if (k->err || s->err || k->count != s->count)
		return false;
	for (size_t i = 0; i < k->count; i++)
		if (k->e[i].key_size != s->e[i].key_size || k->e[i].value_size != s->e[i].value_size ||
		    cmp_entries(&k->e[i], &s->e[i]))
			return false;
	return true;
}

/* Sluice's maps, read as the kernel's were (into dumps, in the kernel's order). */
static void dump_sluice_maps(const struct program *p, const struct kernel_side *k,
			     struct sluice_rt *rt, struct map_dump *dumps)
{
	for (size_t i = 0; i < k->map_count; i++) {
		struct sluice_map *m = sluice_rt_find_map(rt, k->maps[i].name);
		struct map_dump *d = &dumps[i];

		snprintf(d->name, sizeof(d->name), "%s", k->maps[i].name);
		if (!m) {
			d->err = -ENOENT;
			snprintf(d->msg, sizeof(d->msg), "Sluice has no map of that name");
			continue;
		}
		d->err = sluice_dump(m, d);
		if (d->err)
			snprintf(d->msg, sizeof(d->msg), "%s", strerror(-d->err));
		else
			mask_times(p->file, d);
	}
}

/* Another run's maps against the kernel's; mismatches counted and shown. */
static unsigned long compare_maps(const struct program *p, const char *engine,
				  const struct kernel_side *k, const struct map_dump *other)
{
	unsigned long mismatches = 0;

	for (size_t i = 0; i < k->map_count; i++) {
		const struct map_dump *kd = &k->maps[i];

		if (!kd->err && kd->kind == MK_UNREADABLE) {
			if (opts->verbose)
				printf("  map %s: type %" PRIu32 " has no contents to compare\n",
				       kd->name, kd->type);
			continue;
		}
		totals.maps_compared++;
		if (!same_dump(kd, &other[i])) {
			report_map_mismatch(p, engine, kd, &other[i]);
			mismatches++;
		} else if (opts->verbose) {
			printf("  map %s: %zu entries the same\n", kd->name, kd->count);
		}
	}
	return mismatches;
}

/* One engine's comparison of one program: its mismatching packets by difference. */
struct engine_result {
	unsigned long by_difference[DIFFERENCES];
	unsigned long packets;
	unsigned long maps;
};

/* Count packet i's outcome; the first mismatch of the run is shown whole. */
static void count_packet(struct engine_result *r, const struct program *p, const char *engine,
			 size_t i, const struct input *in, const struct outcome *k,
			 const struct outcome *s)
{
	size_t at;
	enum difference d = compare_outcomes(k, s, &at);

	if (d == SAME)
		return;
	if (!r->packets++)
		report_packet_mismatch(p, engine, i, in, k, s);
	r->by_difference[d]++;
}

static void tally(const struct program *p, const char *engine, const struct engine_result *r)
{
	totals.packet_mismatches += r->packets;
	totals.map_mismatches += r->maps;
	printf("  %s/%s: %s: %s", p->label, p->name, engine,
	       r->packets || r->maps ? "MISMATCH" : "identical");
	if (r->packets) {
		printf(" (%lu packets:", r->packets);
		for (int d = DIFF_ERROR; d < DIFFERENCES; d++)
			if (r->by_difference[d])
				printf(" %s %lu", difference_names[d], r->by_difference[d]);
		printf(")");
	}
	if (r->maps)
		printf(" (%lu maps)", r->maps);
	printf("\n");
}

/*
 * Programs the kernel accepts and Sluice's verifier refuses: gaps in the
 * verifier's precision, each with its reason.  Their runtime is still
 * compared, in the checked interpreter without the verifier (the only way
 * Sluice runs an unverified program); the JIT and the plain interpreter
 * are not tried.  A listed program the verifier comes to accept fails the
 * test, so that the list cannot outlive the gap.
 */
static const struct verifier_gap {
	const char *file, *prog, *why;
} verifier_gaps[] = {
	{ NULL, NULL, NULL }, /* the end */
};

static const struct verifier_gap *verifier_gap(const struct program *p)
{
	for (const struct verifier_gap *g = verifier_gaps; g->file; g++)
		if (!strcmp(g->file, p->file) && !strcmp(g->prog, p->name))
			return g;
	return NULL;
}

enum side_result { SIDE_RAN, SIDE_REFUSED, SIDE_FAILED, SIDE_VERIFIER_GAP };

/*
 * Load the object into Sluice as the kernel holds it (the programs it
 * accepted); when Sluice refuses that, the program alone, so that one
 * refused program does not hide the others.  *gap: the program is a listed
 * verifier gap and Sluice refused it as expected (NULL returned), or it was
 * loaded unverified for the checked engine.
 */
static struct sluice_rt *load_sluice(const struct program *p, const char *engine,
				     struct sluice_error *err, enum side_result *gap)
{
	const char *alone[] = { p->name, NULL };
	bool checked = !strcmp(engine, "checked");
	struct sluice_rt_opts o = {
		.sz = sizeof(o), .engine = checked ? "interp" : engine, .checked = checked,
		.progs = p->loaded,
	};
	struct sluice_rt *rt = sluice_rt_load(p->sobj, &o, err);

	*gap = SIDE_RAN;
	if (rt || !p->loaded[1])
		goto out;
	printf("  %s/%s: Sluice refuses the object's programs together (%s); "
	       "loading %s alone\n", p->label, p->name, err->msg, p->name);
	o.progs = alone;
	rt = sluice_rt_load(p->sobj, &o, err);
out:
	if (!verifier_gap(p))
		return rt;
	if (rt) {
		printf("FAIL %s/%s: listed as a verifier gap, but Sluice's verifier accepts it now: "
		       "take it off the list\n", p->label, p->name);
		sluice_rt_free(rt);
		*gap = SIDE_FAILED;
		return NULL;
	}
	*gap = SIDE_VERIFIER_GAP;
	if (!checked)
		return NULL;
	o.checked = false;
	o.no_verify = true;
	return sluice_rt_load(p->sobj, &o, err);
}

/* Why Sluice refused programs, each reason once, for the summary. */
#define MAX_REASONS 32

static struct {
	char why[SLUICE_ERRMSG_MAX];
	unsigned long times;
} reasons[MAX_REASONS];
static size_t reason_count;

static void note_refusal(const char *why)
{
	size_t i = 0;

	while (i < reason_count && strcmp(reasons[i].why, why))
		i++;
	if (i == MAX_REASONS)
		return;
	if (i == reason_count)
		snprintf(reasons[reason_count++].why, sizeof(reasons[i].why), "%s", why);
	reasons[i].times++;
}

/*
 * Every packet through Sluice on one engine, then its maps: mismatches
 * counted (the first packet's shown).
 */
static enum side_result run_sluice_side(const struct program *p, const char *engine,
			    const struct kernel_side *k, struct input *in, uint8_t *room)
{
	struct engine_result result = { 0 };
	struct sluice_error err = { 0 };
	enum side_result gap;
	struct sluice_rt *rt = load_sluice(p, engine, &err, &gap);
	struct map_dump *dumps = NULL;
	struct sluice_rt_prog *prog;
	int ret = 0;

	if (gap == SIDE_FAILED)
		return SIDE_FAILED;
	if (gap == SIDE_VERIFIER_GAP && !rt) {
		printf("  %s/%s: %s: Sluice's verifier refuses it (a listed gap: %s)\n", p->label,
		       p->name, engine, verifier_gap(p)->why);
		return SIDE_VERIFIER_GAP;
	}
	if (gap == SIDE_VERIFIER_GAP)
		printf("  %s/%s: %s: run unverified (a listed verifier gap)\n", p->label, p->name,
		       engine);
	if (!rt) {
		printf("REFUSED %s/%s: Sluice (%s) will not load it: %s\n", p->label, p->name,
		       engine, err.msg);
		note_refusal(err.msg);
		return SIDE_REFUSED;
	}
	prog = sluice_rt_find_prog(rt, p->name);
	if (!prog) {
		printf("REFUSED %s/%s: Sluice loaded the object without it\n", p->label, p->name);
		note_refusal("the program is missing from the loaded object");
		sluice_rt_free(rt);
		return SIDE_REFUSED;
	}
	dumps = calloc(k->map_count ? k->map_count : 1, sizeof(*dumps));
	ret = dumps ? seed_maps(p, sluice_seed, rt) : -ENOMEM;
	for (size_t i = 0; routed && !ret && i < sizeof(routes) / sizeof(routes[0]); i++)
		ret = sluice_rt_add_route(rt, &routes[i], &err);
	for (size_t i = 0; !ret && i < packets->count; i++) {
		struct outcome s;

		make_input(in, &packets->pkts[i], i, p->kind);
		ret = sluice_run(prog, in, room, &s);
		if (!ret)
			count_packet(&result, p, engine, i, in, &k->outcomes[i], &s);
		free(s.data);
	}
	if (!ret) {
		dump_sluice_maps(p, k, rt, dumps);
		result.maps = compare_maps(p, engine, k, dumps);
	}
	for (size_t i = 0; dumps && i < k->map_count; i++)
		free_dump(&dumps[i]);
	free(dumps);
	sluice_rt_free(rt);
	if (ret) {
		printf("FAIL %s/%s: %s\n", p->label, p->name, strerror(-ret));
		return SIDE_FAILED;
	}
	tally(p, engine, &result);
	return SIDE_RAN;
}

/*
 * The kernel against itself: a second fresh load and run must give what the
 * first gave, or the program depends on something else than its packets
 * (time, random numbers) and Sluice cannot be held to it there.
 */
static void run_kernel_again(struct program *p, const struct kernel_side *k, struct input *in,
			     uint8_t *room)
{
	const char *engine = "kernel (again)";
	struct engine_result result = { 0 };
	struct kernel_side again = { 0 };

	if (run_kernel_side(p, &again, in, room)) {
		totals.failures++;
	} else {
		for (size_t i = 0; i < packets->count; i++) {
			make_input(in, &packets->pkts[i], i, p->kind);
			count_packet(&result, p, engine, i, in, &k->outcomes[i], &again.outcomes[i]);
		}
		result.maps = compare_maps(p, engine, k, again.maps);
		tally(p, engine, &result);
	}
	free_kernel_side(&again);
}

static void compare_program(struct program *p)
{
	struct input *in = malloc(sizeof(*in));
	uint8_t *room = malloc(OUT_ROOM);
	struct kernel_side k = { 0 };
	bool refused = false, failed = false;

	if (!in || !room || run_kernel_side(p, &k, in, room)) {
		if (!in || !room)
			printf("FAIL %s/%s: out of memory\n", p->label, p->name);
		totals.failures++;
		goto out;
	}
	check_coverage(p, &k, in);
	printf("  %s/%s: kernel:", p->label, p->name);
	print_verdicts(&k);
	printf("\n");
	if (k.refused_runs == packets->count)
		printf("  %s/%s: the kernel refuses every test run (%s): Sluice must too\n",
		       p->label, p->name, k.outcomes[0].msg);
	if (opts->kernel_only)
		run_kernel_again(p, &k, in, room);
	for (size_t e = 0; !opts->kernel_only && e < opts->engine_count; e++) {
		enum side_result r = run_sluice_side(p, opts->engines[e], &k, in, room);

		refused |= r == SIDE_REFUSED;
		failed |= r == SIDE_FAILED;
	}
	totals.refused += refused;
	totals.failures += failed;
	if (!refused && !failed)
		totals.programs++;
out:
	free_kernel_side(&k);
	free(room);
	free(in);
}

/* ---- objects ------------------------------------------------------------ */

enum source { EXAMPLES, CORPUS, DATAPATH };

static const char *const source_names[] = { "examples", "corpus", "datapath" };

static bool wanted(enum kind kind, enum source source)
{
	return source == CORPUS ? kind == KIND_XDP : kind != KIND_OTHER;
}

static void compare_object(const char *dir, const char *file, enum source source)
{
	struct sluice_kernel_object *verdicts;
	struct sluice_error err = { 0 };
	char path[4096], label[512];
	struct sluice_object *sobj;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	snprintf(label, sizeof(label), "%s/%s", source_names[source], file);
	sobj = sluice_object_open(path, NULL, &err);
	if (!sobj) {
		printf("REFUSED %s: Sluice cannot open it: %s\n", label, err.msg);
		note_refusal(err.msg);
		totals.refused++;
		return;
	}
	/* the verdicts, from one load; each program then runs on fresh loads */
	verdicts = sluice_kernel_open(path, NULL, &err);
	if (!verdicts) {
		printf("FAIL %s: the kernel backend cannot open it: %s\n", label, err.msg);
		totals.failures++;
	}
	for (size_t i = 0; verdicts && i < sluice_object_prog_count(sobj); i++) {
		const struct sluice_prog *sp = sluice_object_prog(sobj, i);
		struct program p = {
			.path = path, .label = label, .file = file, .name = sluice_prog_name(sp),
			.kind = kind_of(sluice_prog_type(sp)), .sobj = sobj,
		};
		struct sluice_kernel_verdict v;
		int k;

		if (!wanted(p.kind, source))
			continue;
		k = sluice_kernel_find_prog(verdicts, p.name, &err);
		if (k < 0 || sluice_kernel_load_prog(verdicts, (size_t)k, &v, &err)) {
			printf("FAIL %s/%s: %s\n", label, p.name, err.msg);
			totals.failures++;
		} else if (!v.accepted && source == DATAPATH) {
			/* the datapath is meant to run in the kernel: a rejection is its bug */
			printf("FAIL %s/%s: the kernel rejects it: %s\n", label, p.name, v.message);
			totals.failures++;
		} else if (!v.accepted) {
			printf("SKIP %s/%s: the kernel rejects it: %s\n", label, p.name, v.message);
			totals.skipped++;
		} else {
			compare_program(&p);
		}
	}
	sluice_kernel_close(verdicts);
	sluice_object_close(sobj);
}

static int is_object(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 2 && !strcmp(d->d_name + n - 2, ".o");
}

static size_t compare_dir(const char *dir, enum source source)
{
	struct dirent **names;
	int n = scandir(dir, &names, is_object, alphasort);

	if (n < 0) {
		printf("NOTE %s: %s\n", dir, strerror(errno));
		return 0;
	}
	for (int i = 0; i < n; i++) {
		compare_object(dir, names[i]->d_name, source);
		free(names[i]);
	}
	free(names);
	return (size_t)n;
}

static void usage(void)
{
	fprintf(stderr, "usage: runtime_kernel_diff [--kernel-only] "
			"[--engine interp|jit|checked]... [--datapath DIR] [-v] "
			"EXAMPLES_DIR [CORPUS_DIR]\n");
	exit(2);
}

static bool is_engine(const char *name)
{
	return !strcmp(name, "interp") || !strcmp(name, "jit") || !strcmp(name, "checked");
}

int main(int argc, char **argv)
{
	static struct options o;
	struct pktgen_set set = { 0 };
	struct sluice_error err = { 0 };
	cpu_set_t cpu0;
	int a = 1;
	size_t counts[PKTGEN_CLASS_COUNT] = { 0 };
	char engines[128] = "";
	const char *step;
	bool ok;
	int ret;

	for (; a < argc && argv[a][0] == '-'; a++) {
		if (!strcmp(argv[a], "--kernel-only"))
			o.kernel_only = true;
		else if (!strcmp(argv[a], "-v"))
			o.verbose = true;
		else if (!strcmp(argv[a], "--datapath") && a + 1 < argc)
			o.datapath = argv[++a];
		else if (!strcmp(argv[a], "--engine") && a + 1 < argc && is_engine(argv[a + 1]) &&
			 o.engine_count < MAX_ENGINES)
			o.engines[o.engine_count++] = argv[++a];
		else
			usage();
	}
	if (a != argc - 1 && a != argc - 2)
		usage();
	if (!o.engine_count) {
		o.engines[o.engine_count++] = "interp";
		o.engines[o.engine_count++] = "jit";
		o.engines[o.engine_count++] = "checked";
	}
	opts = &o;
	for (size_t e = 0; e < o.engine_count; e++)
		snprintf(engines + strlen(engines), sizeof(engines) - strlen(engines), "%s%s",
			 e ? " and " : "", o.engines[e]);
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (sluice_kernel_probe(&err)) {
		printf("skipped: %s\n", err.msg);
		return SKIP;
	}
	step = make_network(&ret);
	routed = !ret;
	if (ret)
		printf("NOTE: no network of its own (%s: %s): the host's routes answer the "
		       "kernel's bpf_fib_lookup, none Sluice's\n", step, strerror(-ret));
	/* where the kernel's test runs happen, so that per-CPU values land on CPU 0 */
	CPU_ZERO(&cpu0);
	CPU_SET(0, &cpu0);
	if (sched_setaffinity(0, sizeof(cpu0), &cpu0)) {
		printf("skipped: cannot run on CPU 0: %s\n", strerror(errno));
		return SKIP;
	}
	if (pktgen_generate(&set, SEED)) {
		printf("FAIL: out of memory generating packets\n");
		return 1;
	}
	packets = &set;
	for (size_t i = 0; i < set.count; i++)
		counts[set.pkts[i].cls]++;
	printf("%zu packets:", set.count);
	for (int c = 0; c < PKTGEN_CLASS_COUNT; c++)
		printf(" %zu %s", counts[c], pktgen_class_name((enum pktgen_class)c));
	printf("\n");

	if (!compare_dir(argv[a], EXAMPLES)) {
		printf("FAIL %s: no example objects\n", argv[a]);
		totals.failures++;
	}
	if (a + 1 < argc && !compare_dir(argv[a + 1], CORPUS))
		printf("NOTE %s: no corpus objects (scripts/corpus.sh gathers them)\n", argv[a + 1]);
	if (o.datapath && build_datapath_seeds(&err)) {
		printf("FAIL: the datapath's services: %s\n", err.msg);
		totals.failures++;
	} else if (o.datapath && !compare_dir(o.datapath, DATAPATH)) {
		printf("FAIL %s: no datapath objects\n", o.datapath);
		totals.failures++;
	}

	printf("%zu programs x %zu packets compared (%s): %lu mismatches "
	       "(%lu packet runs, %lu of %lu map comparisons)\n", totals.programs, set.count,
	       o.kernel_only ? "the kernel with itself" : engines,
	       totals.packet_mismatches + totals.map_mismatches, totals.packet_mismatches,
	       totals.map_mismatches, totals.maps_compared);
	printf("%lu skipped (the kernel rejects them), %lu refused by Sluice, "
	       "%lu expected verdicts unreached, %lu failures\n", totals.skipped, totals.refused,
	       totals.uncovered, totals.failures);
	for (size_t i = 0; i < reason_count; i++)
		printf("  refused %lu times (programs x engines): %s\n", reasons[i].times,
		       reasons[i].why);
	ok = !totals.packet_mismatches && !totals.map_mismatches && !totals.refused &&
	     !totals.uncovered && !totals.failures;
	pktgen_free(&set);
	free(datapath_seeds.v);
	return ok ? 0 : 1;
}
