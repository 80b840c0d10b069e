/* SPDX-License-Identifier: MIT */
/*
 * A flood of flow events never blocks the datapath (docs/observability.md):
 * lb_from_pod runs on thousands of TCP SYNs to a service, each from a new
 * source port, so each makes a NEW event, and nobody reads lb_flows.  Every
 * run must forward its SYN as the first did; the ring must end full, holding
 * exactly the events that fit; every other event must be counted lost in
 * lb_flow_lost (summed over the CPUs).
 *
 * In the kernel, lb_flows is shrunk to one page before the load, so that a
 * few thousand runs overflow it many times.  In Sluice's user-space runtime
 * (whose loader takes the object's sizes as they are) the ring keeps its
 * 4 MiB, and the runs are that many events plus the same overflow.
 *
 * usage: test_flow_flood LB.O
 * Exit 0 when both hold, 1 on a failure, 77 when the kernel refuses bpf()
 * here (ctest: skipped; the user-space half alone still runs first).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>

#include <sluice/maps.h>
#include <sluice/object.h>
#include <sluice/runtime.h>

#include "../../datapath/flow.h"
#include "k8s/agent.h"
#include "k8s/maglev.h"
#include "k8s/model.h"

#define SKIP 77
#define CLIENT "10.0.0.1"
#define VIP "10.96.0.10"
#define VIP_PORT 80
#define BACKEND "10.0.0.2"
#define BACKEND_PORT 8080
/* the kernel's runs: past one page's events many times over */
#define KERNEL_RUNS 5000u
/* the runtime's runs beyond the events its ring holds */
#define RUNTIME_OVERFLOW 1000u

/* The bytes one event takes in a ring: its header, then the record rounded up to 8. */
#define RING_RECORD ((BPF_RINGBUF_HDR_SZ + sizeof(struct flow_event) + 7) / 8 * 8)

/* How a backend's maps are written: update map's key with value. */
typedef int (*update_fn)(void *ctx, const char *map, const void *key, const void *value);

/*
 * One ClusterIP, VIP:VIP_PORT/TCP, over one backend, written as the agent
 * writes them: lb_config with its default timeouts and hairpin addresses,
 * the backend as id 0, the frontend's Maglev table from k8s_maglev_build.
 */
static int seed_service(update_fn update, void *ctx)
{
	struct k8s_ct_timeouts t = K8S_CT_TIMEOUTS_DEFAULT;
	struct lb_config cfg = { .tcp_syn = t.tcp_syn, .tcp_established = t.tcp_established,
				 .tcp_closing = t.tcp_closing, .udp = t.udp };
	struct lb_frontend_key fk = { .port = htons(VIP_PORT), .proto = IPPROTO_TCP,
				      .family = AF_INET };
	struct lb_frontend fe = { .id = 0, .table = 0, .size = k8s_maglev_default_size(1),
				  .backends = 1 };
	struct lb_backend be = { .port = htons(BACKEND_PORT), .family = AF_INET };
	struct k8s_backend kb = { .ip = { .family = AF_INET }, .port = BACKEND_PORT, .pod = "" };
	struct sluice_error err;
	const char *names[1];
	char name[64];
	uint32_t zero = 0, *table;
	int ret;

	inet_pton(AF_INET, K8S_HAIRPIN_IP4, cfg.hairpin4);
	inet_pton(AF_INET6, K8S_HAIRPIN_IP6, cfg.hairpin6);
	inet_pton(AF_INET, VIP, fk.addr);
	inet_pton(AF_INET, BACKEND, be.addr);
	inet_pton(AF_INET, BACKEND, kb.ip.addr);
	names[0] = k8s_backend_name(&kb, name, sizeof(name));
	/* one spare entry: the last element's second half */
	table = calloc(fe.size + 1, sizeof(*table));
	if (!table)
		return -ENOMEM;
	ret = k8s_maglev_build(names, 1, fe.size, table, &err);
	if (!ret)
		ret = update(ctx, "lb_config", &zero, &cfg);
	if (!ret)
		ret = update(ctx, "lb_backends", &zero, &be);
	if (!ret)
		ret = update(ctx, "lb_services", &fk, &fe);
	/* indexes into the service's backends are backend ids here: the one backend is id 0 */
	for (uint32_t e = 0; !ret && e < (fe.size + 1) / 2; e++) {
		struct lb_maglev_pair pair = { { table[2 * e], table[2 * e + 1] } };

		ret = update(ctx, "lb_maglev", &e, &pair);
	}
	free(table);
	return ret;
}

/* A TCP SYN from CLIENT:sport to the service. */
struct syn {
	struct ethhdr eth;
	struct iphdr ip;
	struct tcphdr tcp;
} __attribute__((packed));

static void make_syn(struct syn *s, uint16_t sport)
{
	memset(s, 0, sizeof(*s));
	memcpy(s->eth.h_source, "\x02\x00\x00\x00\x00\x01", ETH_ALEN);
	memcpy(s->eth.h_dest, "\x02\x00\x00\x00\x00\x02", ETH_ALEN);
	s->eth.h_proto = htons(ETH_P_IP);
	s->ip.version = 4;
	s->ip.ihl = 5;
	s->ip.tot_len = htons(sizeof(s->ip) + sizeof(s->tcp));
	s->ip.ttl = 64;
	s->ip.protocol = IPPROTO_TCP;
	inet_pton(AF_INET, CLIENT, &s->ip.saddr);
	inet_pton(AF_INET, VIP, &s->ip.daddr);
	s->tcp.source = htons(sport);
	s->tcp.dest = htons(VIP_PORT);
	s->tcp.seq = htonl(1);
	s->tcp.doff = 5;
	s->tcp.syn = 1;
	s->tcp.window = htons(65535);
}

/* Run the program once on packet, its verdict in *retval; 0 or the run's error. */
typedef int (*run_fn)(void *ctx, const struct syn *packet, uint32_t *retval);

/* What the ring held after the flood: records, all NEW events of distinct ports. */
struct drained {
	size_t records, not_new, bad_size;
	uint8_t seen_port[65536 / 8];
	size_t repeated_ports;
};

static int count_record(void *ctx, void *data, size_t size)
{
	struct drained *d = ctx;
	const struct flow_event *ev = data;
	uint16_t port;

	d->records++;
	if (size != sizeof(*ev)) {
		d->bad_size++;
		return 0;
	}
	if (ev->type != FLOW_EV_NEW)
		d->not_new++;
	port = ntohs(ev->tuple.sport);
	if (d->seen_port[port / 8] & (1u << (port % 8)))
		d->repeated_ports++;
	d->seen_port[port / 8] |= (uint8_t)(1u << (port % 8));
	return 0;
}

/*
 * runs SYNs, each from its own port, through run; 0 when every verdict is
 * the first one's and that is TC_ACT_OK (the SYN DNATed and sent on).
 */
static int flood(const char *side, run_fn run, void *ctx, uint32_t runs)
{
	uint32_t first = 0, retval;
	struct syn s;
	int ret;

	for (uint32_t i = 0; i < runs; i++) {
		make_syn(&s, (uint16_t)(1024 + i));
		ret = run(ctx, &s, &retval);
		if (ret) {
			printf("FAIL %s: run %u refused: %s\n", side, i, strerror(-ret));
			return -1;
		}
		if (!i)
			first = retval;
		if (retval != first || retval != TC_ACT_OK) {
			printf("FAIL %s: run %u returned %u, the first %u (TC_ACT_OK is %d)\n", side,
			       i, retval, first, TC_ACT_OK);
			return -1;
		}
	}
	return 0;
}

/* The arithmetic: of runs events, fit go in a ring of ring_bytes, the rest are lost. */
static int check_counts(const char *side, uint32_t runs, uint64_t ring_bytes, uint64_t lost,
			const struct drained *d)
{
	uint64_t fit = ring_bytes / RING_RECORD;
	int ok = d->records == fit && lost == runs - fit && !d->not_new && !d->bad_size &&
		 !d->repeated_ports;

	printf("%s %s: %u SYNs forwarded; ring of %llu bytes full with %zu events of %zu bytes "
	       "(%llu fit), %llu lost (expected %llu)%s\n", ok ? "ok" : "FAIL", side, runs,
	       (unsigned long long)ring_bytes, d->records, RING_RECORD, (unsigned long long)fit,
	       (unsigned long long)lost, (unsigned long long)(runs - fit),
	       d->not_new || d->bad_size || d->repeated_ports ? ": records not all NEW, whole "
	       "and from distinct ports" : "");
	return ok ? 0 : -1;
}

/* ---- the kernel ----------------------------------------------------------- */

static int k_update(void *ctx, const char *name, const void *key, const void *value)
{
	struct bpf_map *m = bpf_object__find_map_by_name(ctx, name);

	if (!m)
		return -ENOENT;
	return bpf_map__update_elem(m, key, bpf_map__key_size(m), value, bpf_map__value_size(m),
				    BPF_ANY);
}

static int k_run(void *ctx, const struct syn *packet, uint32_t *retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = packet, .data_size_in = sizeof(*packet));
	int ret = bpf_prog_test_run_opts(*(int *)ctx, &o);

	*retval = o.retval;
	return ret ? -errno : 0;
}

/* Sum of lb_flow_lost over the CPUs. */
static int k_lost(struct bpf_object *obj, uint64_t *sum)
{
	int cpus = libbpf_num_possible_cpus();
	uint32_t zero = 0;
	uint64_t *per_cpu;
	int ret;

	if (cpus <= 0)
		return -EINVAL;
	per_cpu = calloc((size_t)cpus, sizeof(*per_cpu));
	if (!per_cpu)
		return -ENOMEM;
	ret = bpf_map_lookup_elem(bpf_map__fd(bpf_object__find_map_by_name(obj, "lb_flow_lost")),
				  &zero, per_cpu);
	*sum = 0;
	for (int c = 0; !ret && c < cpus; c++)
		*sum += per_cpu[c];
	free(per_cpu);
	return ret ? -errno : 0;
}

/* 0 passed, 1 failed, SKIP when the kernel refuses to load the object. */
static int kernel_flood(const char *path)
{
	uint32_t page = (uint32_t)sysconf(_SC_PAGESIZE);
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	struct drained *d = calloc(1, sizeof(*d));
	struct ring_buffer *rb = NULL;
	struct bpf_program *prog;
	uint64_t lost = 0;
	int ret = 1, fd, err;

	libbpf_set_print(NULL);
	if (!obj || !d) {
		printf("FAIL kernel: cannot open %s: %s\n", path, strerror(errno));
		goto out;
	}
	if (bpf_map__set_max_entries(bpf_object__find_map_by_name(obj, "lb_flows"), page)) {
		printf("FAIL kernel: cannot shrink lb_flows\n");
		goto out;
	}
	err = bpf_object__load(obj);
	if (err) {
		printf("skipped: the kernel refuses to load %s here: %s\n", path, strerror(-err));
		ret = SKIP;
		goto out;
	}
	prog = bpf_object__find_program_by_name(obj, "lb_from_pod");
	fd = prog ? bpf_program__fd(prog) : -1;
	err = seed_service(k_update, obj);
	if (err) {
		printf("FAIL kernel: filling the service's maps: %s\n", strerror(-err));
		goto out;
	}
	if (flood("kernel", k_run, &fd, KERNEL_RUNS) || k_lost(obj, &lost))
		goto out;
	/* only now is the ring read: how many records it held, and which */
	rb = ring_buffer__new(bpf_map__fd(bpf_object__find_map_by_name(obj, "lb_flows")),
			      count_record, d, NULL);
	if (!rb || ring_buffer__consume(rb) < 0) {
		printf("FAIL kernel: cannot read lb_flows: %s\n", strerror(errno));
		goto out;
	}
	ret = check_counts("kernel", KERNEL_RUNS, page, lost, d) ? 1 : 0;
out:
	ring_buffer__free(rb);
	bpf_object__close(obj);
	free(d);
	return ret;
}

/* ---- Sluice's user-space runtime ---------------------------------------- */

static int s_update(void *ctx, const char *name, const void *key, const void *value)
{
	struct sluice_map *m = sluice_rt_find_map(ctx, name);

	if (!m)
		return -ENOENT;
	return sluice_map_update(m, key, value, BPF_ANY, NULL);
}

static int s_run(void *ctx, const struct syn *packet, uint32_t *retval)
{
	struct sluice_test_run run = { .sz = sizeof(run), .data_in = packet,
				       .data_size_in = sizeof(*packet) };
	int ret = sluice_rt_test_run(ctx, &run, NULL);

	*retval = run.retval;
	return ret;
}

/* 0 passed, 1 failed. */
static int runtime_flood(const char *path)
{
	static const char *const progs[] = { "lb_from_pod", NULL };
	struct sluice_rt_opts o = { .sz = sizeof(o), .engine = "jit", .progs = progs };
	struct drained *d = calloc(1, sizeof(*d));
	struct sluice_object *obj = NULL;
	struct sluice_rt *rt = NULL;
	struct sluice_map *lost_map;
	struct sluice_error err;
	uint64_t lost = 0, ring_bytes = FLOW_RING_BYTES;
	uint32_t zero = 0, runs = (uint32_t)(ring_bytes / RING_RECORD) + RUNTIME_OVERFLOW;
	int ret = 1, cpus = sluice_num_possible_cpus();
	uint64_t *per_cpu = cpus > 0 ? calloc((size_t)cpus, sizeof(*per_cpu)) : NULL;

	if (!d || !per_cpu) {
		printf("FAIL runtime: out of memory\n");
		goto out;
	}
	obj = sluice_object_open(path, NULL, &err);
	rt = obj ? sluice_rt_load(obj, &o, &err) : NULL;
	if (!rt) {
		printf("FAIL runtime: %s\n", err.msg);
		goto out;
	}
	if (seed_service(s_update, rt)) {
		printf("FAIL runtime: filling the service's maps\n");
		goto out;
	}
	if (flood("runtime", s_run, sluice_rt_find_prog(rt, "lb_from_pod"), runs))
		goto out;
	lost_map = sluice_rt_find_map(rt, "lb_flow_lost");
	if (!lost_map || sluice_map_lookup(lost_map, &zero, per_cpu, 0, &err) ||
	    sluice_ringbuf_consume(sluice_rt_find_map(rt, "lb_flows"), count_record, d) < 0) {
		printf("FAIL runtime: cannot read lb_flow_lost and lb_flows\n");
		goto out;
	}
	for (int c = 0; c < cpus; c++)
		lost += per_cpu[c];
	ret = check_counts("runtime", runs, ring_bytes, lost, d) ? 1 : 0;
out:
	sluice_rt_free(rt);
	sluice_object_close(obj);
	free(per_cpu);
	free(d);
	return ret;
}

int main(int argc, char **argv)
{
	int runtime, kernel;

	if (argc != 2) {
		fprintf(stderr, "usage: %s LB.O\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	runtime = runtime_flood(argv[1]);
	kernel = kernel_flood(argv[1]);
	if (runtime || kernel == 1)
		return 1;
	return kernel;
}
