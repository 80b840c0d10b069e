/* SPDX-License-Identifier: MIT */
/*
 * The agent's state mirrors what it put in the maps: the frontends (sorted
 * by key, each with where its table lies in lb_maglev) and the backends
 * (sorted by address, each with its id).  An apply computes the new sorted
 * sets from the model and looks old ones up by binary search, so that
 * loading 10,000 services costs a sort, not a quadratic search.  The tables
 * are written straight into lb_maglev's memory (mmap); the entries they
 * occupy are handed out by a first-fit allocator over free extents.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../../datapath/flow.h"
#include "../../datapath/lb.h"
#include "agent.h"
#include "errmsg.h"
#include "flow.h"
#include "json.h"
#include "maglev.h"
#include "metrics.h"
#include "policy_maps.h"
#include "svcmap.h"
#include "topology.h"
#include "wire.h"

struct fe_state {
	struct lb_frontend_key key;
	struct lb_frontend val;
	const struct k8s_object *service; /* in the agent's store */
	size_t index;                 /* while syncing: in the model being applied */
	uint32_t *ids;                /* its backends' ids, sorted: the table is a function of them */
	size_t n_ids;
};

/* A run of free entries of lb_maglev. */
struct extent {
	uint32_t start;
	uint32_t len;
};

struct table_pool {
	uint32_t *mem;                /* lb_maglev, mapped */
	uint32_t entries;
	struct extent *free;          /* sorted by start, never adjacent */
	size_t n_free;
	/* freed by this apply: a packet may still read them, reusable from the next */
	struct extent *pending;
	size_t n_pending;
};

struct be_state {
	struct lb_backend val;
	uint32_t id;                  /* references: k8s_agent.be_refs[id] */
};

/* The TC programs, one on each side of each pod's veth (lb_nodeport is XDP, on ext0). */
static const struct {
	const char *prog;
	enum bpf_tc_attach_point point;
} tc_programs[] = {
	{ "lb_from_pod", BPF_TC_INGRESS },
	{ "lb_to_pod", BPF_TC_EGRESS },
};

#define N_TC_PROGRAMS (sizeof(tc_programs) / sizeof(tc_programs[0]))

/* Flow records kept for `sluice flows`, as Hubble's ring keeps them. */
#define FLOW_RING 4096u
/* HTTP requests awaiting their response (for its latency), by connection hash. */
#define HTTP_PENDING 1024u

/* An address the agent knows: a pod's (its endpoint: identity and name). */
struct addr_item {
	struct k8s_ip ip;
	const struct k8s_endpoint_policy *ep;
};

/* The request of one connection whose response has not come back yet. */
struct http_pending {
	struct lb_ct_key conn;        /* client -> backend, as the pod got it */
	uint64_t time;                /* bpf_ktime_get_ns() */
	char method[16];
	char path[128];
};

/* A reader of `sluice flows --follow`: new records that match go to it. */
struct follower {
	int fd;                       /* non-blocking: a full socket drops the reader */
	struct k8s_flow_filter filter;
};

struct flow_log {
	struct ring_buffer *rb;
	int lost_fd;                  /* lb_flow_lost */
	struct k8s_flow *ring;        /* FLOW_RING records, the oldest at head once full */
	size_t head, n;
	uint64_t events;
	struct addr_item *addrs;      /* every pod address, sorted */
	size_t n_addrs;
	struct http_pending *pending; /* HTTP_PENDING of them */
	struct follower *fol;
	size_t n_fol;
	uint64_t dropped_readers;
	struct k8s_metrics *metrics;
	struct k8s_svcmap *svcmap;
};

struct k8s_agent {
	struct bpf_object *obj;
	int prog_tc[N_TC_PROGRAMS];
	int prog_xdp;
	int xdp_ifindex;              /* 0 when not attached */
	int services, backends, maglev, ct, stats, config;
	struct lb_config cfg;         /* as written to lb_config */
	unsigned gc_interval;         /* seconds; 0: only when asked */
	uint64_t gc_runs, gc_removed;
	int listen_fd;
	char socket_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int ncpus;
	struct k8s_node node;
	struct table_pool pool;
	struct k8s_store store;
	struct k8s_model model;
	struct fe_state *fes;
	size_t n_fes;
	struct be_state *bes;
	size_t n_bes;
	uint8_t fe_used[LB_MAX_FRONTENDS / 8];
	uint8_t be_used[LB_MAX_BACKENDS / 8];
	uint32_t be_refs[LB_MAX_BACKENDS]; /* frontends naming each backend id */
	int *att;                     /* ifindexes of the pods' veths the TC programs are on */
	size_t n_att;
	struct k8s_policy_maps pol;   /* NetworkPolicy's maps and identities */
	struct flow_log flows;        /* flow events made records (sluice flows) */
};

/* libbpf's last warning, for the error of the call that failed. */
static char libbpf_msg[SLUICE_ERRMSG_MAX];

static int libbpf_capture(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN) {
		vsnprintf(libbpf_msg, sizeof(libbpf_msg), fmt, ap);
		libbpf_msg[strcspn(libbpf_msg, "\n")] = 0;
	}
	return 0;
}

int k8s_enter_netns(const char *name, struct sluice_error *err)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sluice_fail(err, errno, "network namespace %s: %s", name, strerror(errno));
	if (setns(fd, CLONE_NEWNET)) {
		int e = errno;

		close(fd);
		return sluice_fail(err, e, "entering network namespace %s: %s", name, strerror(e));
	}
	close(fd);
	return 0;
}

static int id_alloc(uint8_t *used, uint32_t max, uint32_t *id)
{
	for (uint32_t i = 0; i < max; i++) {
		if (!(used[i / 8] & (1u << (i % 8)))) {
			used[i / 8] |= (uint8_t)(1u << (i % 8));
			*id = i;
			return 0;
		}
	}
	return -ENOSPC;
}

static void id_free(uint8_t *used, uint32_t id)
{
	used[id / 8] &= (uint8_t)~(1u << (id % 8));
}

/* Put an extent back among the free ones, merging it with its neighbours. */
static int pool_insert(struct table_pool *p, struct extent e)
{
	struct extent *more = realloc(p->free, (p->n_free + 1) * sizeof(*more));
	size_t i = 0;

	if (!more)
		return -ENOMEM;
	p->free = more;
	while (i < p->n_free && p->free[i].start < e.start)
		i++;
	memmove(&p->free[i + 1], &p->free[i], (p->n_free - i) * sizeof(*more));
	p->free[i] = e;
	p->n_free++;
	if (i + 1 < p->n_free && p->free[i].start + p->free[i].len == p->free[i + 1].start) {
		p->free[i].len += p->free[i + 1].len;
		memmove(&p->free[i + 1], &p->free[i + 2], (p->n_free - i - 2) * sizeof(*more));
		p->n_free--;
	}
	if (i > 0 && p->free[i - 1].start + p->free[i - 1].len == p->free[i].start) {
		p->free[i - 1].len += p->free[i].len;
		memmove(&p->free[i], &p->free[i + 1], (p->n_free - i - 1) * sizeof(*more));
		p->n_free--;
	}
	return 0;
}

/* First fit; -ENOSPC when no run of len free entries is left. */
static int pool_alloc(struct table_pool *p, uint32_t len, uint32_t *start)
{
	for (size_t i = 0; i < p->n_free; i++) {
		if (p->free[i].len < len)
			continue;
		*start = p->free[i].start;
		p->free[i].start += len;
		p->free[i].len -= len;
		if (!p->free[i].len) {
			memmove(&p->free[i], &p->free[i + 1], (p->n_free - i - 1) * sizeof(*p->free));
			p->n_free--;
		}
		return 0;
	}
	return -ENOSPC;
}

static int pool_release(struct table_pool *p, uint32_t start, uint32_t len)
{
	struct extent *more = realloc(p->pending, (p->n_pending + 1) * sizeof(*more));

	if (!more)
		return -ENOMEM;
	p->pending = more;
	p->pending[p->n_pending++] = (struct extent){ start, len };
	return 0;
}

/* At the start of an apply: what the previous one freed is free now. */
static int pool_settle(struct table_pool *p)
{
	for (size_t i = 0; i < p->n_pending; i++)
		if (pool_insert(p, p->pending[i]))
			return -ENOMEM;
	p->n_pending = 0;
	return 0;
}

static int map_fd(struct k8s_agent *a, const char *name, struct sluice_error *err)
{
	struct bpf_map *m = bpf_object__find_map_by_name(a->obj, name);

	if (!m)
		return sluice_fail(err, ENOENT, "the datapath object has no map %s", name);
	return bpf_map__fd(m);
}

static int on_flow_event(void *ctx, void *data, size_t size);

/* The flow events' ring buffer, the records' ring and what the records feed. */
static int open_flows(struct k8s_agent *a, struct sluice_error *err)
{
	struct flow_log *l = &a->flows;
	int ring = map_fd(a, "lb_flows", err), ret;

	if (ring < 0 || (l->lost_fd = map_fd(a, "lb_flow_lost", err)) < 0)
		return -ENOENT;
	l->rb = ring_buffer__new(ring, on_flow_event, a, NULL);
	if (!l->rb)
		return sluice_fail(err, errno, "reading lb_flows: %s", strerror(errno));
	l->ring = calloc(FLOW_RING, sizeof(*l->ring));
	l->pending = calloc(HTTP_PENDING, sizeof(*l->pending));
	if (!l->ring || !l->pending)
		return sluice_fail(err, ENOMEM, "out of memory");
	ret = k8s_metrics_new(&l->metrics, err);
	return ret ? ret : k8s_svcmap_new(&l->svcmap, err);
}

static void close_flows(struct flow_log *l)
{
	ring_buffer__free(l->rb);
	for (size_t i = 0; i < l->n_fol; i++)
		close(l->fol[i].fd);
	free(l->fol);
	free(l->ring);
	free(l->pending);
	free(l->addrs);
	k8s_metrics_free(l->metrics);
	k8s_svcmap_free(l->svcmap);
}

static int open_datapath(struct k8s_agent *a, const char *path, uint32_t table_entries,
			 struct sluice_error *err)
{
	struct bpf_program *prog;
	struct bpf_map *tables;
	size_t bytes;
	void *mem;
	int ret;

	libbpf_set_print(libbpf_capture);
	a->obj = bpf_object__open_file(path, NULL);
	if (!a->obj) {
		a->obj = NULL;
		return sluice_fail(err, errno, "%s: %s", path, *libbpf_msg ? libbpf_msg : strerror(errno));
	}
	tables = bpf_object__find_map_by_name(a->obj, "lb_maglev");
	if (!tables)
		return sluice_fail(err, ENOENT, "%s: no map lb_maglev", path);
	if (table_entries && (ret = bpf_map__set_max_entries(tables, (table_entries + 1) / 2)))
		return sluice_fail(err, -ret, "lb_maglev: %u entries: %s", table_entries,
				   strerror(-ret));
	ret = bpf_object__load(a->obj);
	if (ret)
		return sluice_fail(err, -ret, "%s: loading into the kernel: %s", path,
				   *libbpf_msg ? libbpf_msg : strerror(-ret));
	for (size_t i = 0; i < N_TC_PROGRAMS; i++) {
		prog = bpf_object__find_program_by_name(a->obj, tc_programs[i].prog);
		if (!prog)
			return sluice_fail(err, ENOENT, "%s: no program %s", path, tc_programs[i].prog);
		a->prog_tc[i] = bpf_program__fd(prog);
	}
	prog = bpf_object__find_program_by_name(a->obj, "lb_nodeport");
	if (!prog)
		return sluice_fail(err, ENOENT, "%s: no program lb_nodeport", path);
	a->prog_xdp = bpf_program__fd(prog);
	if ((a->services = map_fd(a, "lb_services", err)) < 0 ||
	    (a->backends = map_fd(a, "lb_backends", err)) < 0 ||
	    (a->maglev = map_fd(a, "lb_maglev", err)) < 0 ||
	    (a->ct = map_fd(a, "lb_ct", err)) < 0 ||
	    (a->stats = map_fd(a, "lb_stats", err)) < 0 ||
	    (a->config = map_fd(a, "lb_config", err)) < 0)
		return -ENOENT;
	if (bpf_map_update_elem(a->config, &(uint32_t){ 0 }, &a->cfg, BPF_ANY))
		return sluice_fail(err, errno, "writing lb_config: %s", strerror(errno));
	a->ncpus = libbpf_num_possible_cpus();
	if (a->ncpus <= 0)
		return sluice_fail(err, EINVAL, "cannot count the possible CPUs");
	if ((ret = k8s_policy_maps_open(&a->pol, a->obj, a->ncpus, err)) ||
	    (ret = open_flows(a, err)))
		return ret;
	a->pool.entries = 2 * bpf_map__max_entries(tables); /* two ids an element */
	bytes = (size_t)a->pool.entries * sizeof(uint32_t);
	mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, a->maglev, 0);
	if (mem == MAP_FAILED)
		return sluice_fail(err, errno, "mapping lb_maglev: %s", strerror(errno));
	a->pool.mem = mem;
	return pool_insert(&a->pool, (struct extent){ 0, a->pool.entries }) ?
	       sluice_fail(err, ENOMEM, "out of memory") : 0;
}

static int listen_on(struct k8s_agent *a, const char *path, struct sluice_error *err)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char dir[sizeof(addr.sun_path)], *slash;

	if (strlen(path) >= sizeof(addr.sun_path))
		return sluice_fail(err, ENAMETOOLONG, "%s: socket path too long", path);
	strcpy(addr.sun_path, path);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		mkdir(dir, 0755); /* /run/sluice; an error shows at bind */
	}
	a->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (a->listen_fd < 0)
		return sluice_fail(err, errno, "socket: %s", strerror(errno));
	/* A socket file no one listens on is a dead agent's: take it over. */
	if (connect(a->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
		return sluice_fail(err, EADDRINUSE, "%s: another agent is listening there", path);
	close(a->listen_fd);
	a->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (a->listen_fd < 0)
		return sluice_fail(err, errno, "socket: %s", strerror(errno));
	unlink(path);
	if (bind(a->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(a->listen_fd, 16))
		return sluice_fail(err, errno, "%s: %s", path, strerror(errno));
	strcpy(a->socket_path, path);
	return 0;
}

/*
 * NodePorts from outside: XDP on the node's external interface (by default
 * the topology's, when there is one).
 */
static int attach_xdp(struct k8s_agent *a, const char *ifname, struct sluice_error *err)
{
	const char *name = ifname ? ifname : K8S_NODE_EXT_IF;
	int ifindex, ret;

	if (!*name)
		return 0;
	ifindex = (int)if_nametoindex(name);
	if (!ifindex && !ifname)
		return 0;
	if (!ifindex)
		return sluice_fail(err, ENODEV, "external interface %s: no such interface", name);
	ret = bpf_xdp_attach(ifindex, a->prog_xdp, 0, NULL);
	if (ret)
		return sluice_fail(err, -ret, "%s: attaching XDP: %s", name, strerror(-ret));
	a->xdp_ifindex = ifindex;
	return 0;
}

int k8s_agent_open(const struct k8s_agent_opts *opts, struct k8s_agent **out,
		   struct sluice_error *err)
{
	struct k8s_agent *a = calloc(1, sizeof(*a));
	int ret;

	if (!a)
		return sluice_fail(err, ENOMEM, "out of memory");
	a->listen_fd = -1;
	a->node = opts->node;
	a->gc_interval = opts->ct_gc_interval;
	a->cfg.tcp_syn = opts->ct.tcp_syn;
	a->cfg.tcp_established = opts->ct.tcp_established;
	a->cfg.tcp_closing = opts->ct.tcp_closing;
	a->cfg.udp = opts->ct.udp;
	inet_pton(AF_INET, K8S_HAIRPIN_IP4, a->cfg.hairpin4);
	inet_pton(AF_INET6, K8S_HAIRPIN_IP6, a->cfg.hairpin6);
	if ((opts->netns && (ret = k8s_enter_netns(opts->netns, err))) ||
	    (ret = open_datapath(a, opts->object_path, opts->table_entries, err)) ||
	    (ret = attach_xdp(a, opts->ext_ifname, err)) ||
	    (ret = listen_on(a, opts->socket_path ? opts->socket_path : K8S_DEFAULT_SOCKET, err))) {
		k8s_agent_close(a);
		return ret;
	}
	*out = a;
	return 0;
}

static void detach_all(struct k8s_agent *a)
{
	if (a->xdp_ifindex)
		bpf_xdp_detach(a->xdp_ifindex, 0, NULL);
	for (size_t i = 0; i < a->n_att; i++) {
		for (size_t p = 0; p < N_TC_PROGRAMS; p++) {
			LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = a->att[i],
				    .attach_point = tc_programs[p].point);
			LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = 1);

			/* the veth may be gone with its pod: nothing left to detach then */
			bpf_tc_detach(&hook, &opts);
		}
	}
	free(a->att);
	a->att = NULL;
	a->n_att = 0;
}

void k8s_agent_close(struct k8s_agent *a)
{
	if (!a)
		return;
	detach_all(a);
	if (a->listen_fd >= 0) {
		close(a->listen_fd);
		if (*a->socket_path)
			unlink(a->socket_path);
	}
	if (a->pool.mem)
		munmap(a->pool.mem, (size_t)a->pool.entries * sizeof(uint32_t));
	free(a->pool.free);
	free(a->pool.pending);
	for (size_t i = 0; i < a->n_fes; i++)
		free(a->fes[i].ids);
	free(a->fes);
	free(a->bes);
	k8s_model_free(&a->model);
	k8s_policy_maps_close(&a->pol);
	close_flows(&a->flows);
	k8s_store_free(&a->store);
	bpf_object__close(a->obj);
	free(a);
}

/* Both TC programs on one interface; the clsact qdisc is made when missing. */
static int attach_tc(struct k8s_agent *a, int ifindex, struct sluice_error *err)
{
	char ifname[IF_NAMESIZE] = "?";
	int ret;

	if_indextoname((unsigned)ifindex, ifname);
	for (size_t p = 0; p < N_TC_PROGRAMS; p++) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = tc_programs[p].point);
		LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = 1,
			    .prog_fd = a->prog_tc[p], .flags = BPF_TC_F_REPLACE);

		ret = bpf_tc_hook_create(&hook);
		if (ret && ret != -EEXIST)
			return sluice_fail(err, -ret, "%s: creating the clsact qdisc: %s", ifname,
					   strerror(-ret));
		ret = bpf_tc_attach(&hook, &opts);
		if (ret)
			return sluice_fail(err, -ret, "%s: attaching %s: %s", ifname,
					   tc_programs[p].prog, strerror(-ret));
	}
	return 0;
}

/* TC on the node's end of each pod's veth that exists and is not attached yet. */
static int attach_pods(struct k8s_agent *a, size_t *attached, struct sluice_error *err)
{
	*attached = 0;
	for (size_t i = 0; i < a->store.n; i++) {
		const struct k8s_object *o = a->store.v[i];
		char ifname[IF_NAMESIZE];
		int *more;
		unsigned ifindex;
		bool done = false;
		int ret;

		if (o->kind != K8S_POD)
			continue;
		k8s_veth_name(o->ns, o->name, ifname);
		ifindex = if_nametoindex(ifname);
		if (!ifindex)
			continue; /* not in this topology (yet) */
		for (size_t j = 0; j < a->n_att && !done; j++)
			done = a->att[j] == (int)ifindex;
		if (done)
			continue;
		if ((ret = attach_tc(a, (int)ifindex, err))) {
			char what[2 * K8S_NAME_MAX + 8];

			snprintf(what, sizeof(what), "Pod %s/%s", o->ns, o->name);
			return sluice_fail_prefix(err, ret, what);
		}
		more = realloc(a->att, (a->n_att + 1) * sizeof(*more));
		if (!more)
			return sluice_fail(err, ENOMEM, "out of memory");
		a->att = more;
		a->att[a->n_att++] = (int)ifindex;
		++*attached;
	}
	return 0;
}

static void frontend_key(const struct k8s_frontend *f, struct lb_frontend_key *k)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->addr, f->ip.addr, sizeof(k->addr));
	k->port = htons(f->port);
	k->proto = f->proto;
	k->family = (__u8)f->ip.family;
}

static void backend_val(const struct k8s_backend *b, struct lb_backend *v)
{
	memset(v, 0, sizeof(*v));
	memcpy(v->addr, b->ip.addr, sizeof(v->addr));
	v->port = htons(b->port);
	v->family = (__u8)b->ip.family;
}

static int cmp_fe(const void *a, const void *b)
{
	return memcmp(&((const struct fe_state *)a)->key, &((const struct fe_state *)b)->key,
		      sizeof(struct lb_frontend_key));
}

static int cmp_be(const void *a, const void *b)
{
	return memcmp(&((const struct be_state *)a)->val, &((const struct be_state *)b)->val,
		      sizeof(struct lb_backend));
}

static struct be_state *find_be(struct be_state *v, size_t n, const struct lb_backend *val)
{
	struct be_state key = { .val = *val };

	/* bsearch and qsort want a real array even when it is empty */
	return n ? bsearch(&key, v, n, sizeof(*v), cmp_be) : NULL;
}

static struct fe_state *find_fe(struct fe_state *v, size_t n, const struct lb_frontend_key *k)
{
	struct fe_state key = { .key = *k };

	return n ? bsearch(&key, v, n, sizeof(*v), cmp_fe) : NULL;
}

/* What an apply changed, for its reply. */
struct changes {
	size_t fe_added, fe_changed, fe_removed, be_added, be_removed;
};

static int zero_stats(struct k8s_agent *a, uint32_t id)
{
	struct lb_stats *zero = calloc((size_t)a->ncpus, sizeof(*zero));
	int ret;

	if (!zero)
		return -ENOMEM;
	ret = bpf_map_update_elem(a->stats, &id, zero, BPF_ANY);
	free(zero);
	return ret;
}

/*
 * The Services an apply touches, "namespace/name" sorted: those it brings,
 * those whose endpoint sets it brings (before and after), or all of them
 * when Pods or Namespaces change (selectors, validation) or on replace.
 * Only their frontends are rebuilt: adding one Service to 10,000 costs one
 * Service's work in the maps.
 */
struct service_name {
	const char *ns;
	const char *name;
};

struct scope {
	bool all;
	struct service_name *v;       /* sorted; the strings are the request's objects' */
	size_t n;
};

static int scope_add(struct scope *sc, const char *ns, const char *name)
{
	struct service_name *more = realloc(sc->v, (sc->n + 1) * sizeof(*more));

	if (!more)
		return -ENOMEM;
	sc->v = more;
	more[sc->n++] = (struct service_name){ ns, name };
	return 0;
}

static int cmp_service_name(const void *a, const void *b)
{
	const struct service_name *x = a, *y = b;
	int c = strcmp(x->ns, y->ns);

	return c ? c : strcmp(x->name, y->name);
}

static bool want_service(const char *ns, const char *name, void *scope)
{
	const struct scope *sc = scope;
	struct service_name key = { ns, name };

	return sc->all || (sc->n && bsearch(&key, sc->v, sc->n, sizeof(*sc->v), cmp_service_name));
}

static bool in_scope(const struct scope *sc, const struct k8s_object *svc)
{
	return want_service(svc->ns, svc->name, (void *)sc);
}

static int scope_of(const struct k8s_agent *a, const struct k8s_store *add, bool replace,
		    struct scope *sc)
{
	memset(sc, 0, sizeof(*sc));
	sc->all = replace;
	for (size_t i = 0; i < add->n && !sc->all; i++) {
		const struct k8s_object *o = add->v[i], *was;

		switch (o->kind) {
		case K8S_SERVICE:
			if (scope_add(sc, o->ns, o->name))
				return -ENOMEM;
			break;
		case K8S_ENDPOINT_SLICE:
		case K8S_ENDPOINTS:
			was = k8s_store_find(&a->store, o->kind, o->ns, o->name);
			if (scope_add(sc, o->ns, o->u.eps.service) ||
			    (was && scope_add(sc, was->ns, was->u.eps.service)))
				return -ENOMEM;
			break;
		case K8S_POD:
		case K8S_NAMESPACE:
			sc->all = true;
			break;
		case K8S_NETWORK_POLICY:
		case K8S_HTTP_POLICY:
			break; /* no service depends on one */
		}
	}
	if (sc->n)
		qsort(sc->v, sc->n, sizeof(*sc->v), cmp_service_name);
	return 0;
}

static void scope_free(struct scope *sc)
{
	free(sc->v);
}

/*
 * The backends of the rebuilt frontends that the maps lack get an id and go
 * into lb_backends now, before any table can name them.
 */
static int add_backends(struct k8s_agent *a, const struct k8s_model *m, struct changes *c,
			struct sluice_error *err)
{
	for (size_t i = 0; i < m->n; i++) {
		for (size_t j = 0; j < m->v[i].n_backends; j++) {
			struct be_state fresh = { 0 }, *more;
			size_t at = 0;

			backend_val(&m->v[i].backends[j], &fresh.val);
			if (find_be(a->bes, a->n_bes, &fresh.val))
				continue;
			if (id_alloc(a->be_used, LB_MAX_BACKENDS, &fresh.id))
				return sluice_fail(err, ENOSPC, "more than %u backends", LB_MAX_BACKENDS);
			if (bpf_map_update_elem(a->backends, &fresh.id, &fresh.val, BPF_ANY))
				return sluice_fail(err, errno, "adding a backend: %s", strerror(errno));
			more = realloc(a->bes, (a->n_bes + 1) * sizeof(*more));
			if (!more)
				return sluice_fail(err, ENOMEM, "out of memory");
			a->bes = more;
			/* keep them sorted: one memmove per new backend */
			while (at < a->n_bes && cmp_be(&a->bes[at], &fresh) < 0)
				at++;
			memmove(&a->bes[at + 1], &a->bes[at], (a->n_bes - at) * sizeof(*more));
			a->bes[at] = fresh;
			a->n_bes++;
			a->be_refs[fresh.id] = 0;
			c->be_added++;
		}
	}
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* The ids of a frontend's backends, in f->backends' order (*sorted: sorted too). */
static int backend_ids(const struct k8s_frontend *f, struct be_state *bes, size_t n_bes,
		       uint32_t **ids, uint32_t **sorted)
{
	*ids = calloc(f->n_backends + 1, sizeof(**ids));
	*sorted = calloc(f->n_backends + 1, sizeof(**sorted));
	if (!*ids || !*sorted) {
		free(*ids);
		free(*sorted);
		*sorted = NULL;
		return -ENOMEM;
	}
	for (size_t i = 0; i < f->n_backends; i++) {
		struct lb_backend val;

		backend_val(&f->backends[i], &val);
		(*ids)[i] = (*sorted)[i] = find_be(bes, n_bes, &val)->id;
	}
	qsort(*sorted, f->n_backends, sizeof(**sorted), cmp_u32);
	return 0;
}

/* The Maglev table of a frontend, as backend ids (ids[i] is f->backends[i]'s). */
static int build_table(const struct k8s_frontend *f, const uint32_t *ids, uint32_t **out,
		       struct sluice_error *err)
{
	const char **names = calloc(f->n_backends + 1, sizeof(*names));
	char (*bufs)[64] = calloc(f->n_backends + 1, sizeof(*bufs));
	uint32_t *table = malloc(f->maglev_size * sizeof(*table));
	int ret;

	*out = NULL;
	if (!names || !bufs || !table) {
		ret = sluice_fail(err, ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < f->n_backends; i++)
		names[i] = k8s_backend_name(&f->backends[i], bufs[i], sizeof(bufs[i]));
	ret = k8s_maglev_build(names, f->n_backends, f->maglev_size, table, err);
	if (ret)
		goto out;
	/* indexes into f->backends become backend ids */
	for (uint32_t i = 0; i < f->maglev_size; i++)
		table[i] = ids[table[i]];
	*out = table;
	table = NULL;
out:
	free(names);
	free(bufs);
	free(table);
	return ret;
}

/* Unchanged: same settings and the same backends, hence the same table. */
static bool same_frontend(const struct fe_state *old, const struct lb_frontend *val,
			  const uint32_t *ids, size_t n_ids)
{
	return old->val.size == val->size && old->val.flags == val->flags &&
	       old->val.affinity_timeout == val->affinity_timeout &&
	       old->val.backends == val->backends && old->n_ids == n_ids &&
	       !memcmp(old->ids, ids, n_ids * sizeof(*ids));
}

/*
 * One rebuilt frontend: unchanged (decided without building its table), or
 * a new table in free entries and the switch to it; new frontends get an id
 * and zeroed counters.  Its backends gain a reference.
 */
static int sync_frontend(struct k8s_agent *a, const struct k8s_frontend *f,
			 const struct fe_state *old, struct fe_state *fe, struct changes *c,
			 struct sluice_error *err)
{
	const struct k8s_service *svc = &f->service->u.svc;
	struct lb_frontend val = { 0 };
	uint32_t *table = NULL, *ids;
	int ret;

	if (backend_ids(f, a->bes, a->n_bes, &ids, &fe->ids))
		return sluice_fail(err, ENOMEM, "out of memory");
	fe->n_ids = f->n_backends;
	fe->service = f->service;
	for (size_t i = 0; i < fe->n_ids; i++)
		a->be_refs[fe->ids[i]]++;
	val.flags = (svc->affinity ? LB_F_AFFINITY : 0) | (f->node_port ? LB_F_NODEPORT : 0);
	val.affinity_timeout = svc->affinity_timeout;
	val.backends = (__u16)(f->n_backends > 0xffff ? 0xffff : f->n_backends);
	val.size = f->n_backends ? f->maglev_size : 0;
	if (old && same_frontend(old, &val, fe->ids, fe->n_ids)) {
		fe->val = old->val;
		free(ids);
		return 0;
	}
	ret = f->n_backends ? build_table(f, ids, &table, err) : 0;
	free(ids);
	if (ret)
		return ret;
	if (old) {
		val.id = old->val.id;
		c->fe_changed++;
	} else {
		if (id_alloc(a->fe_used, LB_MAX_FRONTENDS, &val.id)) {
			free(table);
			return sluice_fail(err, ENOSPC, "more than %u frontends", LB_MAX_FRONTENDS);
		}
		if (zero_stats(a, val.id)) {
			free(table);
			return sluice_fail(err, errno, "resetting counters: %s", strerror(errno));
		}
		c->fe_added++;
	}
	if (table) {
		if (pool_alloc(&a->pool, val.size, &val.table)) {
			free(table);
			return sluice_fail(err, ENOSPC, "Service %s/%s: no room for a Maglev table of %u "
					   "(lb_maglev holds %u entries: agent --table-entries)",
					   f->service->ns, f->service->name, val.size, a->pool.entries);
		}
		memcpy(a->pool.mem + val.table, table, val.size * sizeof(*table));
		free(table);
	}
	/* the switch: packets see the old table and size, or the new ones */
	if (bpf_map_update_elem(a->services, &fe->key, &val, BPF_ANY))
		return sluice_fail(err, errno, "switching a frontend: %s", strerror(errno));
	if (old && old->val.size && pool_release(&a->pool, old->val.table, old->val.size))
		return sluice_fail(err, ENOMEM, "out of memory");
	fe->val = val;
	return 0;
}

/* An old frontend of a rebuilt Service: its backends lose a reference; gone, it leaves the maps. */
static void retire_frontend(struct k8s_agent *a, const struct fe_state *fe, bool gone,
			    struct changes *c)
{
	for (size_t i = 0; i < fe->n_ids; i++)
		a->be_refs[fe->ids[i]]--;
	if (!gone)
		return;
	bpf_map_delete_elem(a->services, &fe->key);
	if (fe->val.size)
		pool_release(&a->pool, fe->val.table, fe->val.size);
	id_free(a->fe_used, fe->val.id);
	c->fe_removed++;
}

/* Backends no frontend names any more leave the map, after every switch. */
static void drop_unused_backends(struct k8s_agent *a, struct changes *c)
{
	size_t kept = 0;

	for (size_t i = 0; i < a->n_bes; i++) {
		if (a->be_refs[a->bes[i].id]) {
			a->bes[kept++] = a->bes[i];
			continue;
		}
		bpf_map_delete_elem(a->backends, &a->bes[i].id);
		id_free(a->be_used, a->bes[i].id);
		c->be_removed++;
	}
	a->n_bes = kept;
}

/*
 * Make the maps hold model m for the Services in scope (m has theirs only);
 * the frontends of other Services stay as they are.
 */
static int sync_maps(struct k8s_agent *a, const struct scope *sc, const struct k8s_model *m,
		     struct changes *c, struct sluice_error *err)
{
	struct fe_state *nf = calloc(m->n + 1, sizeof(*nf)), *all;
	size_t i, j, n = 0;
	int ret = 0;

	if (!nf)
		return sluice_fail(err, ENOMEM, "out of memory");
	if (pool_settle(&a->pool) || (ret = add_backends(a, m, c, err))) {
		free(nf);
		return ret ? ret : sluice_fail(err, ENOMEM, "out of memory");
	}
	for (i = 0; i < m->n; i++) {
		frontend_key(&m->v[i], &nf[i].key);
		nf[i].index = i;
	}
	qsort(nf, m->n, sizeof(*nf), cmp_fe);
	for (i = 0; i < m->n && !ret; i++) {
		const struct k8s_frontend *f = &m->v[nf[i].index];
		const struct fe_state *old = find_fe(a->fes, a->n_fes, &nf[i].key);

		if ((i && !cmp_fe(&nf[i - 1], &nf[i])) || (old && !in_scope(sc, old->service)))
			ret = sluice_fail(err, EINVAL, "Service %s/%s and another share the frontend "
					  "%s port %u", f->service->ns, f->service->name,
					  f->node_port ? "node" : "cluster IP", f->port);
		else
			ret = sync_frontend(a, f, old, &nf[i], c, err);
	}
	all = ret ? NULL : malloc((a->n_fes + m->n + 1) * sizeof(*all));
	if (!all) {
		for (i = 0; i < m->n; i++)
			free(nf[i].ids);
		free(nf);
		return ret ? ret : sluice_fail(err, ENOMEM, "out of memory");
	}
	/* the new state: the old frontends out of scope and the rebuilt ones, merged by key */
	for (i = 0, j = 0; i < a->n_fes || j < m->n;) {
		if (i < a->n_fes && in_scope(sc, a->fes[i].service)) {
			retire_frontend(a, &a->fes[i], !find_fe(nf, m->n, &a->fes[i].key), c);
			free(a->fes[i++].ids);
		} else if (j == m->n || (i < a->n_fes && cmp_fe(&a->fes[i], &nf[j]) < 0)) {
			all[n++] = a->fes[i++];
		} else {
			all[n++] = nf[j++];
		}
	}
	drop_unused_backends(a, c);
	free(a->fes);
	free(nf);
	a->fes = all;
	a->n_fes = n;
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * The agent's model after an apply: its frontends of Services out of scope
 * (moved, with their backends) and the rebuilt ones (moved from m).
 */
static int patch_model(struct k8s_agent *a, const struct scope *sc, struct k8s_model *m,
		       struct sluice_error *err)
{
	struct k8s_frontend *v = malloc((a->model.n + m->n + 1) * sizeof(*v));
	size_t n = 0;

	if (!v)
		return sluice_fail(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < a->model.n; i++) {
		if (in_scope(sc, a->model.v[i].service))
			continue;
		v[n++] = a->model.v[i];
		a->model.v[i].backends = NULL;
	}
	if (m->n)
		memcpy(v + n, m->v, m->n * sizeof(*v));
	n += m->n;
	free(m->v);
	m->v = NULL;
	m->n = 0;
	k8s_model_free(&a->model);
	a->model.v = v;
	a->model.n = n;
	return 0;
}

/*
 * Flow records (sluice flows): each datapath event (datapath/flow.h) made a
 * record (flow.c), its addresses named after the pods and identities of
 * the last apply and the service of its frontend, kept in a ring and given
 * to the metrics, the service map and the readers that follow.
 */
static int cmp_addr_item(const void *a, const void *b)
{
	const struct addr_item *x = a, *y = b;

	if (x->ip.family != y->ip.family)
		return x->ip.family < y->ip.family ? -1 : 1;
	return memcmp(x->ip.addr, y->ip.addr, sizeof(x->ip.addr));
}

/* After an apply: every pod address, to its endpoint in the policy just synced. */
static int index_addrs(struct k8s_agent *a)
{
	const struct k8s_policy *p = &a->pol.cur;
	struct addr_item *v;
	size_t n = 0;

	for (size_t i = 0; i < p->n_eps; i++)
		n += p->eps[i].pod->u.pod.n_ips;
	v = calloc(n + 1, sizeof(*v));
	free(a->flows.addrs);
	a->flows.addrs = v;
	a->flows.n_addrs = 0;
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_eps; i++)
		for (size_t k = 0; k < p->eps[i].pod->u.pod.n_ips; k++)
			v[a->flows.n_addrs++] = (struct addr_item){ p->eps[i].pod->u.pod.ips[k],
								    &p->eps[i] };
	if (a->flows.n_addrs)
		qsort(v, a->flows.n_addrs, sizeof(*v), cmp_addr_item);
	return 0;
}

/* A pod's namespace, name and identity; else the identity of the most specific CIDR holding it. */
static void name_peer(const struct k8s_agent *a, uint8_t family, const __be32 *addr,
		      struct k8s_flow_peer *peer)
{
	const struct k8s_policy *p = &a->pol.cur;
	struct addr_item key = { .ip.family = family };
	const struct addr_item *hit;
	struct k8s_cidr host;
	int best = -1;

	memcpy(key.ip.addr, addr, sizeof(key.ip.addr));
	hit = a->flows.n_addrs ? bsearch(&key, a->flows.addrs, a->flows.n_addrs,
					 sizeof(key), cmp_addr_item) : NULL;
	if (hit) {
		snprintf(peer->ns, sizeof(peer->ns), "%s", hit->ep->pod->ns);
		snprintf(peer->pod, sizeof(peer->pod), "%s", hit->ep->pod->name);
		peer->identity = hit->ep->identity;
		return;
	}
	host.ip = key.ip;
	host.len = family == AF_INET ? 32 : 128;
	peer->identity = POL_ID_WORLD;
	for (size_t i = 0; i < p->n_ids; i++) {
		if (p->ids[i].is_cidr && p->ids[i].cidr.len > best &&
		    k8s_cidr_contains(&p->ids[i].cidr, &host)) {
			best = p->ids[i].cidr.len;
			peer->identity = p->ids[i].id;
		}
	}
}

/*
 * The Service a flow addressed: its frontend's, when the event has the
 * flow as the client sent it; for one a pod got after the DNAT (nat 0),
 * conntrack's reply entry names the frontend.
 */
static const struct k8s_object *service_of(const struct k8s_agent *a, const struct flow_event *ev,
					   int nat)
{
	struct lb_frontend_key fk = { 0 };
	struct lb_ct_key rk = { 0 };
	struct lb_ct_entry rev;
	const struct fe_state *fe;

	memcpy(fk.addr, ev->tuple.daddr, sizeof(fk.addr));
	fk.port = ev->tuple.dport;
	fk.proto = ev->tuple.proto;
	fk.family = ev->tuple.family;
	fe = find_fe(a->fes, a->n_fes, &fk);
	if (fe || nat)
		return fe ? fe->service : NULL;
	memcpy(rk.saddr, ev->tuple.daddr, sizeof(rk.saddr));
	memcpy(rk.daddr, ev->tuple.saddr, sizeof(rk.daddr));
	rk.sport = ev->tuple.dport;
	rk.dport = ev->tuple.sport;
	rk.proto = ev->tuple.proto;
	rk.family = ev->tuple.family;
	rk.dir = LB_CT_REPLY;
	if (bpf_map_lookup_elem(a->ct, &rk, &rev))
		return NULL;
	memcpy(fk.addr, rev.addr, sizeof(fk.addr));
	fk.port = rev.port;
	fe = find_fe(a->fes, a->n_fes, &fk);
	return fe ? fe->service : NULL;
}

/*
 * Requests wait for their response by connection (client -> backend):
 * the response gets their method, path and its latency.
 */
static void http_pair(struct flow_log *l, const struct flow_event *ev, int nat, struct k8s_flow *f)
{
	struct lb_ct_key conn = ev->tuple;
	struct http_pending *slot;

	if (nat) {
		memcpy(conn.daddr, ev->backend, sizeof(conn.daddr));
		conn.dport = ev->backend_port;
	}
	slot = &l->pending[lb_flow_hash(&conn) % HTTP_PENDING];
	if (ev->type == FLOW_EV_HTTP_REQUEST && !ev->reason) {
		slot->conn = conn;
		slot->time = ev->time;
		memcpy(slot->method, f->http.method, sizeof(slot->method));
		memcpy(slot->path, f->http.path, sizeof(slot->path));
	} else if (ev->type == FLOW_EV_HTTP_RESPONSE && slot->time &&
		   !memcmp(&slot->conn, &conn, sizeof(conn))) {
		f->http.latency_ns = ev->time > slot->time ? ev->time - slot->time : 0;
		memcpy(f->http.method, slot->method, sizeof(f->http.method));
		memcpy(f->http.path, slot->path, sizeof(f->http.path));
		slot->time = 0;
	}
}

static void drop_reader(struct flow_log *l, size_t i)
{
	close(l->fol[i].fd);
	l->fol[i] = l->fol[--l->n_fol];
}

/* A new record: into the ring, the aggregators, and to the readers that want it. */
static void flow_keep(struct flow_log *l, const struct k8s_flow *f)
{
	l->ring[(l->head + l->n) % FLOW_RING] = *f;
	if (l->n < FLOW_RING)
		l->n++;
	else
		l->head = (l->head + 1) % FLOW_RING;
	k8s_metrics_add(l->metrics, f);
	k8s_svcmap_add(l->svcmap, f);
	for (size_t i = l->n_fol; i-- > 0;) {
		if (!k8s_flow_match(f, &l->fol[i].filter))
			continue;
		/* a reader whose socket is full is dropped, never waited for */
		if (send(l->fol[i].fd, f, sizeof(*f), MSG_DONTWAIT | MSG_NOSIGNAL) !=
		    (ssize_t)sizeof(*f)) {
			drop_reader(l, i);
			l->dropped_readers++;
		}
	}
}

static int64_t mono_to_real_ns(void)
{
	struct timespec m, r;

	clock_gettime(CLOCK_REALTIME, &r);
	clock_gettime(CLOCK_MONOTONIC, &m);
	return ((int64_t)r.tv_sec - m.tv_sec) * 1000000000 + (r.tv_nsec - m.tv_nsec);
}

static void flow_event_record(struct k8s_agent *a, const struct flow_event *ev)
{
	static const __be32 none[4];
	int nat = memcmp(ev->backend, none, sizeof(none)) != 0;
	const struct k8s_object *svc;
	struct k8s_flow f;

	k8s_flow_from_event(ev, mono_to_real_ns(), &f);
	name_peer(a, ev->tuple.family, ev->tuple.saddr, &f.src);
	name_peer(a, ev->tuple.family, nat ? ev->backend : ev->tuple.daddr, &f.dst);
	svc = service_of(a, ev, nat);
	if (svc)
		snprintf(f.service, sizeof(f.service), "%s/%s", svc->ns, svc->name);
	if (ev->type == FLOW_EV_HTTP_REQUEST || ev->type == FLOW_EV_HTTP_RESPONSE)
		http_pair(&a->flows, ev, nat, &f);
	flow_keep(&a->flows, &f);
}

static int on_flow_event(void *ctx, void *data, size_t size)
{
	struct k8s_agent *a = ctx;

	a->flows.events++;
	if (size >= sizeof(struct flow_event))
		flow_event_record(a, data);
	return 0;
}

/* Events the datapath lost to a full ring, summed over the CPUs. */
static uint64_t flow_events_lost(const struct k8s_agent *a)
{
	uint64_t *per = calloc((size_t)a->ncpus, sizeof(*per)), sum = 0;

	if (per && !bpf_map_lookup_elem(a->flows.lost_fd, &(uint32_t){ 0 }, per))
		for (int i = 0; i < a->ncpus; i++)
			sum += per[i];
	free(per);
	return sum;
}

enum apply_mode {
	APPLY_MERGE,    /* apply: the objects join or replace those applied before */
	APPLY_REMOVE,   /* delete: the objects go */
	APPLY_REPLACE,  /* replace: the objects are all there is (kubectl apply --prune) */
};

/* Apply the request's manifests; the reply's text goes to out. */
static int apply(struct k8s_agent *a, const struct k8s_request *req, enum apply_mode mode,
		 FILE *out, struct sluice_error *err)
{
	static const struct k8s_store nothing;
	static const char *const done[] = { "applied", "deleted", "replaced everything with" };
	bool remove = mode == APPLY_REMOVE;
	struct k8s_store add = { 0 }, next = { 0 };
	struct k8s_model model = { 0 };
	struct k8s_policy policy = { 0 };
	struct changes c = { 0 };
	struct scope sc = { 0 };
	size_t attached = 0, objects;
	struct k8s_policy_changes pc = { 0 };
	uint64_t t0 = now_ns(), t1, t2;
	int ret = 0;

	for (size_t i = 0; i < req->n_files && !ret; i++)
		ret = k8s_parse(req->files[i].name, req->files[i].data, req->files[i].len, &add, err);
	if (!ret && remove) {
		for (size_t i = 0; i < add.n && !ret; i++)
			if (!k8s_store_find(&a->store, add.v[i]->kind, add.v[i]->ns, add.v[i]->name))
				ret = sluice_fail(err, ENOENT, "%s:%d: %s %s%s%s: not applied",
						  add.v[i]->file, add.v[i]->line,
						  k8s_kind_name(add.v[i]->kind), add.v[i]->ns,
						  *add.v[i]->ns ? "/" : "", add.v[i]->name);
	}
	if (!ret && scope_of(a, &add, mode == APPLY_REPLACE, &sc))
		ret = sluice_fail(err, ENOMEM, "out of memory");
	if (!ret)
		ret = k8s_store_merge(mode == APPLY_REPLACE ? &nothing : &a->store, &add, remove,
				      &next, err);
	if (!ret && !(ret = k8s_store_validate(&next, err)))
		ret = k8s_model_build(&next, &a->node, want_service, &sc, &model, err);
	if (!ret)
		ret = k8s_policy_maps_compile(&a->pol, &next, &policy, err);
	objects = add.n;
	if (ret) {
		/* nothing was applied: the agent keeps its state */
		k8s_store_free(&add);
		k8s_store_free(&next);
		scope_free(&sc);
		return ret;
	}
	t1 = now_ns();
	ret = sync_maps(a, &sc, &model, &c, err);
	if (!ret)
		ret = k8s_policy_maps_sync(&a->pol, &policy, &pc, err);
	/* the flows' names follow the policy just synced: the old one is gone */
	if (!ret && index_addrs(a))
		ret = sluice_fail(err, ENOMEM, "out of memory");
	t2 = now_ns();
	if (!ret)
		ret = patch_model(a, &sc, &model, err);
	/* the scope names Services by the strings of add's objects */
	scope_free(&sc);
	k8s_store_free(&add);
	k8s_model_free(&model);
	k8s_policy_free(&policy);
	if (ret) {
		k8s_store_free(&next);
		return ret;
	}
	k8s_store_free(&a->store);
	a->store = next;
	ret = attach_pods(a, &attached, err);
	fprintf(out, "%s %zu object%s: frontends +%zu ~%zu -%zu, backends +%zu -%zu, "
		"policy rules +%zu ~%zu -%zu, ipcache +%zu ~%zu -%zu, http ports %zu; "
		"checked in %.0f us, maps updated in %.0f us; datapath attached to %zu more pod%s\n",
		done[mode], objects, objects == 1 ? "" : "s", c.fe_added, c.fe_changed,
		c.fe_removed, c.be_added, c.be_removed, pc.rules[0], pc.rules[1], pc.rules[2],
		pc.ipcache[0], pc.ipcache[1], pc.ipcache[2], pc.http_ports, (double)(t1 - t0) / 1e3,
		(double)(t2 - t1) / 1e3, attached, attached == 1 ? "" : "s");
	return ret;
}

static void addr_port(const struct k8s_ip *ip, uint16_t port, char *buf, size_t size)
{
	struct k8s_backend b = { .ip = *ip, .port = port };

	k8s_backend_name(&b, buf, size);
}

/* The counters of a frontend, summed over the CPUs. */
static void read_stats(struct k8s_agent *a, uint32_t id, struct lb_stats *sum)
{
	struct lb_stats *per = calloc((size_t)a->ncpus, sizeof(*per));

	memset(sum, 0, sizeof(*sum));
	if (!per || bpf_map_lookup_elem(a->stats, &id, per)) {
		free(per);
		return;
	}
	for (int i = 0; i < a->ncpus; i++) {
		sum->packets += per[i].packets;
		sum->bytes += per[i].bytes;
		sum->reply_packets += per[i].reply_packets;
		sum->reply_bytes += per[i].reply_bytes;
		sum->no_backend += per[i].no_backend;
	}
	free(per);
}

/*
 * Conntrack as one read sees it: every entry, sorted by key, so that the
 * forward entry of a reply entry is a binary search away.
 */
struct ct_item {
	struct lb_ct_key key;
	struct lb_ct_entry val;
};

struct ct_snapshot {
	struct ct_item *v;
	size_t n;
	uint64_t now;                 /* CLOCK_MONOTONIC, bpf_ktime_get_ns()'s clock */
};

#define CT_BATCH 4096u

static int cmp_ct_item(const void *a, const void *b)
{
	return memcmp(&((const struct ct_item *)a)->key, &((const struct ct_item *)b)->key,
		      sizeof(struct lb_ct_key));
}

static int ct_read(struct k8s_agent *a, struct ct_snapshot *s)
{
	struct lb_ct_key *keys = malloc(CT_BATCH * sizeof(*keys));
	struct lb_ct_entry *vals = malloc(CT_BATCH * sizeof(*vals));
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	uint32_t token = 0;
	bool first = true, done = false;
	int ret = 0;

	memset(s, 0, sizeof(*s));
	s->now = now_ns();
	while (keys && vals && !done && !ret) {
		uint32_t count = CT_BATCH;
		struct ct_item *more;

		ret = bpf_map_lookup_batch(a->ct, first ? NULL : &token, &token, keys, vals, &count,
					   &opts);
		first = false;
		/* ENOENT: the last batch, which may still hold entries */
		done = ret == -ENOENT;
		if (done)
			ret = 0;
		if (ret || !count)
			continue;
		more = realloc(s->v, (s->n + count) * sizeof(*more));
		if (!more) {
			ret = -ENOMEM;
			continue;
		}
		s->v = more;
		for (uint32_t i = 0; i < count; i++)
			s->v[s->n++] = (struct ct_item){ keys[i], vals[i] };
	}
	if (!keys || !vals)
		ret = -ENOMEM;
	free(keys);
	free(vals);
	if (ret) {
		free(s->v);
		s->v = NULL;
		s->n = 0;
		return ret;
	}
	if (s->n)
		qsort(s->v, s->n, sizeof(*s->v), cmp_ct_item);
	return 0;
}

static const struct ct_item *ct_find(const struct ct_snapshot *s, const struct lb_ct_key *k)
{
	struct ct_item key = { .key = *k };

	return s->n ? bsearch(&key, s->v, s->n, sizeof(*s->v), cmp_ct_item) : NULL;
}

/* An entry the datapath would no longer use: an expired flow, or a stale reply entry. */
static bool ct_dead(const struct k8s_agent *a, const struct ct_snapshot *s,
		    const struct ct_item *it)
{
	const struct ct_item *fwd;
	struct lb_ct_key fk;

	if (it->key.dir == LB_CT_FORWARD)
		return lb_ct_expired(&a->cfg, it->key.proto, &it->val, s->now);
	lb_ct_forward_key(&it->key, &it->val, &fk);
	fwd = ct_find(s, &fk);
	return lb_ct_reply_stale(&a->cfg, fk.proto, &it->val, fwd ? &fwd->val : NULL, s->now);
}

/*
 * Still dead now, read from the map again: since the snapshot, a packet may
 * have revived the flow, a new flow may have taken over the reply entry, or
 * a forward entry the snapshot missed (written while it was read) may exist.
 */
static bool ct_still_dead(const struct k8s_agent *a, const struct ct_item *it)
{
	struct lb_ct_entry cur, fwd;
	struct lb_ct_key fk;
	uint64_t now = now_ns();

	if (bpf_map_lookup_elem(a->ct, &it->key, &cur))
		return false; /* gone already */
	if (it->key.dir == LB_CT_FORWARD)
		return lb_ct_expired(&a->cfg, it->key.proto, &cur, now);
	if (memcmp(&cur, &it->val, sizeof(cur)))
		return false;
	lb_ct_forward_key(&it->key, &cur, &fk);
	return lb_ct_reply_stale(&a->cfg, fk.proto, &cur,
				 bpf_map_lookup_elem(a->ct, &fk, &fwd) ? NULL : &fwd, now);
}

/* A flow that aged out without FIN or RST: its CLOSED record comes from here. */
static void flow_aged_out(struct k8s_agent *a, const struct ct_item *it)
{
	struct flow_event ev = { .type = FLOW_EV_CLOSED };
	enum lb_flow_state state = lb_flow_state(it->key.proto, it->val.flags);
	struct lb_backend be;

	if (it->key.dir != LB_CT_FORWARD || state == LB_FLOW_CLOSED || state == LB_FLOW_RESET)
		return;
	ev.time = now_ns();
	ev.packets = it->val.packets;
	ev.bytes = it->val.bytes;
	ev.tuple = it->key;
	if (it->val.backend_id != LB_NO_BACKEND &&
	    !bpf_map_lookup_elem(a->backends, &it->val.backend_id, &be)) {
		memcpy(ev.backend, be.addr, sizeof(ev.backend));
		ev.backend_port = be.port;
	}
	flow_event_record(a, &ev);
}

/*
 * The garbage collector: an LRU hash only forgets when it is full, so the
 * entries of expired flows and the reply entries of vanished ones go here.
 */
static int ct_gc(struct k8s_agent *a, size_t *seen, size_t *removed)
{
	struct ct_snapshot s;
	int ret = ct_read(a, &s);

	*seen = s.n;
	*removed = 0;
	if (ret)
		return ret;
	for (size_t i = 0; i < s.n; i++)
		if (ct_dead(a, &s, &s.v[i]) && ct_still_dead(a, &s.v[i]) &&
		    !bpf_map_delete_elem(a->ct, &s.v[i].key)) {
			flow_aged_out(a, &s.v[i]);
			++*removed;
		}
	free(s.v);
	a->gc_runs++;
	a->gc_removed += *removed;
	return 0;
}

static uint32_t slots_of(const struct k8s_agent *a, const struct fe_state *fe, uint32_t id)
{
	const uint32_t *table = a->pool.mem + fe->val.table;
	uint32_t n = 0;

	for (uint32_t i = 0; i < fe->val.size; i++)
		n += table[i] == id;
	return n;
}

/* What status shows of a frontend, gathered once for both renderings. */
struct backend_view {
	char address[64];
	const char *pod;              /* "" when unknown */
	uint32_t id;
	uint32_t slots;               /* of the Maglev table */
};

struct frontend_view {
	const struct k8s_frontend *f;
	const struct fe_state *fe;
	char address[96];
	struct lb_stats st;
	uint32_t flows;               /* conntrack forward entries */
	struct backend_view *b;       /* f->n_backends of them */
};

/* The names status gives enum lb_flow_state's states. */
static const char *const flow_state_names[LB_FLOW_STATES] = {
	"syn-sent", "established", "fin-wait", "closed", "reset", "udp",
};

/* Status lists the most recently active flows: a screenful as text, more as JSON. */
#define STATUS_FLOWS_TEXT 10
#define STATUS_FLOWS_JSON 256

struct flow_view {
	const struct ct_item *it;
	char client[64], frontend[64], backend[64];
	enum lb_flow_state state;
	double age_s, expires_s;
};

struct status {
	struct frontend_view *v;
	size_t n;
	struct ct_snapshot ct;
	size_t flows, replies, expired;   /* live forward entries, reply entries, awaiting the GC */
	size_t by_state[LB_FLOW_STATES];  /* of the live flows */
	struct flow_view *shown;
	size_t n_shown;
};

static void status_free(struct status *st)
{
	for (size_t i = 0; i < st->n; i++)
		free(st->v[i].b);
	free(st->v);
	free(st->ct.v);
	free(st->shown);
}

static void key_addr(const __be32 *addr, uint8_t family, __be16 port, char *buf, size_t size)
{
	struct k8s_ip ip = { .family = family };

	memcpy(ip.addr, addr, sizeof(ip.addr));
	addr_port(&ip, ntohs(port), buf, size);
}

static int cmp_flow_age(const void *a, const void *b)
{
	const struct flow_view *x = a, *y = b;

	return (x->age_s > y->age_s) - (x->age_s < y->age_s);
}

/* The live flows: counted per frontend and state; the most recent described. */
static int status_flows(struct k8s_agent *a, struct status *st, size_t max, uint32_t *per_frontend)
{
	size_t live = 0;

	st->shown = calloc(st->ct.n + 1, sizeof(*st->shown));
	if (!st->shown)
		return -ENOMEM;
	for (size_t i = 0; i < st->ct.n; i++) {
		const struct ct_item *it = &st->ct.v[i];
		struct flow_view *f = &st->shown[live];
		uint64_t idle;

		if (ct_dead(a, &st->ct, it)) {
			st->expired++;
			continue;
		}
		if (it->key.dir == LB_CT_REPLY) {
			st->replies++;
			continue;
		}
		st->flows++;
		if (it->val.frontend_id < LB_MAX_FRONTENDS)
			per_frontend[it->val.frontend_id]++;
		f->it = it;
		f->state = lb_flow_state(it->key.proto, it->val.flags);
		st->by_state[f->state]++;
		idle = st->ct.now > it->val.last_seen ? st->ct.now - it->val.last_seen : 0;
		f->age_s = (double)idle / 1e9;
		f->expires_s = (double)(lb_ct_lifetime(&a->cfg, it->key.proto, it->val.flags) - idle) / 1e9;
		live++;
	}
	qsort(st->shown, live, sizeof(*st->shown), cmp_flow_age);
	st->n_shown = live < max ? live : max;
	for (size_t i = 0; i < st->n_shown; i++) {
		struct flow_view *f = &st->shown[i];
		const struct lb_ct_key *k = &f->it->key;
		struct lb_backend be;

		key_addr(k->saddr, k->family, k->sport, f->client, sizeof(f->client));
		key_addr(k->daddr, k->family, k->dport, f->frontend, sizeof(f->frontend));
		if (f->it->val.backend_id == LB_NO_BACKEND ||
		    bpf_map_lookup_elem(a->backends, &f->it->val.backend_id, &be))
			snprintf(f->backend, sizeof(f->backend), "-");
		else
			key_addr(be.addr, be.family, be.port, f->backend, sizeof(f->backend));
	}
	return 0;
}

static int status_collect(struct k8s_agent *a, struct status *st, size_t max_flows)
{
	uint32_t *ct = calloc(LB_MAX_FRONTENDS, sizeof(*ct));

	memset(st, 0, sizeof(*st));
	st->v = calloc(a->model.n + 1, sizeof(*st->v));
	if (!st->v || !ct || ct_read(a, &st->ct) || status_flows(a, st, max_flows, ct)) {
		free(ct);
		status_free(st);
		return -ENOMEM;
	}
	for (size_t i = 0; i < a->model.n; i++) {
		const struct k8s_frontend *f = &a->model.v[i];
		struct frontend_view *v = &st->v[st->n];
		struct lb_frontend_key key;

		frontend_key(f, &key);
		v->fe = find_fe(a->fes, a->n_fes, &key);
		if (!v->fe)
			continue;
		st->n++;
		v->f = f;
		addr_port(&f->ip, f->port, v->address, sizeof(v->address));
		read_stats(a, v->fe->val.id, &v->st);
		v->flows = ct[v->fe->val.id];
		v->b = calloc(f->n_backends + 1, sizeof(*v->b));
		if (!v->b) {
			free(ct);
			status_free(st);
			return -ENOMEM;
		}
		for (size_t k = 0; k < f->n_backends; k++) {
			struct lb_backend val;
			struct be_state *be;

			backend_val(&f->backends[k], &val);
			be = find_be(a->bes, a->n_bes, &val);
			k8s_backend_name(&f->backends[k], v->b[k].address, sizeof(v->b[k].address));
			v->b[k].pod = f->backends[k].pod ? f->backends[k].pod : "";
			v->b[k].id = be ? be->id : 0;
			v->b[k].slots = be ? slots_of(a, v->fe, be->id) : 0;
		}
	}
	free(ct);
	return 0;
}

static void status_json(struct k8s_agent *a, const struct status *st, FILE *out)
{
	struct json *j = json_new(out);

	json_object_begin(j, NULL);
	json_string(j, "node", a->node.name);
	json_array_begin(j, "frontends");
	for (size_t i = 0; i < st->n; i++) {
		const struct frontend_view *v = &st->v[i];

		json_object_begin(j, NULL);
		json_string(j, "namespace", v->f->service->ns);
		json_string(j, "service", v->f->service->name);
		json_string(j, "port_name", v->f->sport->port.name);
		json_string(j, "type", v->f->node_port ? "NodePort" : "ClusterIP");
		json_string(j, "frontend", v->address);
		json_string(j, "protocol", k8s_proto_name(v->f->proto));
		json_u64(j, "id", v->fe->val.id);
		json_u64(j, "maglev_size", v->fe->val.size);
		json_bool(j, "session_affinity", v->fe->val.flags & LB_F_AFFINITY);
		json_u64(j, "packets", v->st.packets);
		json_u64(j, "bytes", v->st.bytes);
		json_u64(j, "reply_packets", v->st.reply_packets);
		json_u64(j, "reply_bytes", v->st.reply_bytes);
		json_u64(j, "no_backend_drops", v->st.no_backend);
		json_u64(j, "conntrack_flows", v->flows);
		json_array_begin(j, "backends");
		for (size_t k = 0; k < v->f->n_backends; k++) {
			json_object_begin(j, NULL);
			json_string(j, "address", v->b[k].address);
			json_string(j, "pod", v->b[k].pod);
			json_u64(j, "id", v->b[k].id);
			json_u64(j, "slots", v->b[k].slots);
			json_object_end(j);
		}
		json_array_end(j);
		json_object_end(j);
	}
	json_array_end(j);
	json_u64(j, "conntrack_entries", st->ct.n);
	json_object_begin(j, "conntrack");
	json_u64(j, "flows", st->flows);
	json_u64(j, "reply_entries", st->replies);
	json_u64(j, "expired_entries", st->expired);
	json_object_begin(j, "states");
	for (size_t i = 0; i < LB_FLOW_STATES; i++)
		json_u64(j, flow_state_names[i], st->by_state[i]);
	json_object_end(j);
	json_u64(j, "gc_interval_s", a->gc_interval);
	json_u64(j, "gc_runs", a->gc_runs);
	json_u64(j, "gc_removed", a->gc_removed);
	json_array_begin(j, "recent_flows");
	for (size_t i = 0; i < st->n_shown; i++) {
		const struct flow_view *f = &st->shown[i];

		json_object_begin(j, NULL);
		json_string(j, "protocol", k8s_proto_name(f->it->key.proto));
		json_string(j, "client", f->client);
		json_string(j, "frontend", f->frontend);
		json_string(j, "backend", f->backend);
		json_string(j, "state", flow_state_names[f->state]);
		json_u64(j, "age_ms", (uint64_t)(f->age_s * 1e3));
		json_u64(j, "expires_in_ms", (uint64_t)(f->expires_s * 1e3));
		json_object_end(j);
	}
	json_array_end(j);
	json_object_end(j);
	json_u64(j, "attached_pods", a->n_att);
	json_object_begin(j, "flow_events");
	json_u64(j, "received", a->flows.events);
	json_u64(j, "lost", flow_events_lost(a));
	json_u64(j, "records_kept", a->flows.n);
	json_u64(j, "readers", a->flows.n_fol);
	json_u64(j, "readers_dropped", a->flows.dropped_readers);
	json_object_end(j);
	json_object_end(j);
	json_free(j);
}

static void status_text(struct k8s_agent *a, const struct status *st, FILE *out)
{
	fprintf(out, "node %s: %zu frontends, %zu backends, %zu conntrack entries, datapath on %zu "
		"pods\n", a->node.name, a->n_fes, a->n_bes, st->ct.n, a->n_att);
	for (size_t i = 0; i < st->n; i++) {
		const struct frontend_view *v = &st->v[i];
		const struct k8s_frontend *f = v->f;

		fprintf(out, "%s/%s%s%s %s/%s %s  maglev %u%s  flows %u  packets %llu (%llu B)  "
			"replies %llu (%llu B)  no-backend drops %llu\n",
			f->service->ns, f->service->name, *f->sport->port.name ? ":" : "",
			f->sport->port.name, v->address, k8s_proto_name(f->proto),
			f->node_port ? "NodePort" : "ClusterIP", v->fe->val.size,
			v->fe->val.flags & LB_F_AFFINITY ? "  affinity ClientIP" : "", v->flows,
			(unsigned long long)v->st.packets, (unsigned long long)v->st.bytes,
			(unsigned long long)v->st.reply_packets, (unsigned long long)v->st.reply_bytes,
			(unsigned long long)v->st.no_backend);
		for (size_t k = 0; k < f->n_backends; k++)
			fprintf(out, "    -> %-24s %-20s %u slots\n", v->b[k].address,
				*v->b[k].pod ? v->b[k].pod : "-", v->b[k].slots);
		if (!f->n_backends)
			fprintf(out, "    (no ready backend: packets are dropped)\n");
	}
	fprintf(out, "conntrack: %zu flows (", st->flows);
	for (size_t i = 0; i < LB_FLOW_STATES; i++)
		fprintf(out, "%s%s %zu", i ? ", " : "", flow_state_names[i], st->by_state[i]);
	fprintf(out, "), %zu reply entries, %zu expired; gc ", st->replies, st->expired);
	if (a->gc_interval)
		fprintf(out, "every %u s", a->gc_interval);
	else
		fprintf(out, "on request");
	fprintf(out, ": %" PRIu64 " runs removed %" PRIu64 " entries\n", a->gc_runs, a->gc_removed);
	for (size_t i = 0; i < st->n_shown; i++) {
		const struct flow_view *f = &st->shown[i];

		fprintf(out, "    %s %s -> %s via %s  %s  idle %.1f s, expires in %.1f s\n",
			k8s_proto_name(f->it->key.proto), f->client, f->frontend, f->backend,
			flow_state_names[f->state], f->age_s, f->expires_s);
	}
	if (st->flows > st->n_shown)
		fprintf(out, "    (%zu more)\n", st->flows - st->n_shown);
	fprintf(out, "flow events: %" PRIu64 " received, %" PRIu64 " lost (ring buffer full), "
		"%zu records kept, %zu readers following, %" PRIu64 " dropped as too slow\n",
		a->flows.events, flow_events_lost(a), a->flows.n, a->flows.n_fol,
		a->flows.dropped_readers);
}

static int status(struct k8s_agent *a, bool json, FILE *out, struct sluice_error *err)
{
	struct status st;

	if (status_collect(a, &st, json ? STATUS_FLOWS_JSON : STATUS_FLOWS_TEXT))
		return sluice_fail(err, ENOMEM, "out of memory");
	(json ? status_json : status_text)(a, &st, out);
	status_free(&st);
	return 0;
}

static int gc_request(struct k8s_agent *a, FILE *out, struct sluice_error *err)
{
	uint64_t t0 = now_ns();
	size_t seen, removed;
	int ret = ct_gc(a, &seen, &removed);

	if (ret)
		return sluice_fail(err, -ret, "reading conntrack: %s", strerror(-ret));
	fprintf(out, "conntrack: removed %zu of %zu entries in %.1f ms\n", removed, seen,
		(double)(now_ns() - t0) / 1e6);
	return 0;
}

/* Readers following the flows at once, at most: each costs a poll entry. */
#define FLOW_READERS_MAX 64
/* How long a reader may take to read the ring before it is dropped. */
#define FLOW_DUMP_TIMEOUT_S 2

/*
 * `sluice flows`: "ok\n", a line "flows SIZE\n" (a record's size: the
 * reader must be the same build), then the ring's matching records (the
 * last N of them when the filter says), as binary records; with follow,
 * the connection stays and every new matching record follows.  Returns
 * whether the connection is kept.
 */
static bool flows_request(struct k8s_agent *a, int fd, const struct k8s_request *req,
			  struct sluice_error *err)
{
	struct flow_log *l = &a->flows;
	struct timeval tv = { .tv_sec = FLOW_DUMP_TIMEOUT_S };
	struct k8s_flow_filter flt;
	struct follower *more;
	uint64_t matching = 0, skip;
	char head[64];
	int ret = 0;

	if (!req->n_files)
		ret = sluice_fail(err, EINVAL, "flows: no filter");
	else if (!(ret = k8s_flow_filter_parse(req->files[0].data, &flt, err)) && flt.follow &&
		 l->n_fol >= FLOW_READERS_MAX)
		ret = sluice_fail(err, EBUSY, "flows: %d readers follow already", FLOW_READERS_MAX);
	if (ret) {
		if (!k8s_write_all(fd, "error\n", 6))
			k8s_write_all(fd, err->msg, strlen(err->msg));
		return false;
	}
	for (size_t i = 0; i < l->n; i++)
		matching += k8s_flow_match(&l->ring[(l->head + i) % FLOW_RING], &flt);
	skip = flt.last && matching > flt.last ? matching - flt.last : 0;
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	snprintf(head, sizeof(head), "ok\nflows %zu\n", sizeof(struct k8s_flow));
	ret = k8s_write_all(fd, head, strlen(head));
	for (size_t i = 0; i < l->n && !ret; i++) {
		const struct k8s_flow *f = &l->ring[(l->head + i) % FLOW_RING];

		if (!k8s_flow_match(f, &flt) || (skip && skip--))
			continue;
		ret = k8s_write_all(fd, f, sizeof(*f));
	}
	if (ret || !flt.follow || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK))
		return false;
	more = realloc(l->fol, (l->n_fol + 1) * sizeof(*more));
	if (!more)
		return false;
	l->fol = more;
	l->fol[l->n_fol++] = (struct follower){ fd, flt };
	return true;
}

/*
 * One request: the reply is "ok\n"/"error\n" and a text (flows: records).
 * Returns whether the connection is kept (a reader following the flows).
 */
static bool serve_one(struct k8s_agent *a, int fd)
{
	struct sluice_error err = { 0 };
	struct k8s_request req;
	char *text = NULL;
	size_t len = 0;
	FILE *out;
	bool keep;
	int ret;

	ret = k8s_request_read(fd, &req, &err);
	if (!ret && !strcmp(req.verb, "flows")) {
		keep = flows_request(a, fd, &req, &err);
		k8s_request_free(&req);
		return keep;
	}
	out = open_memstream(&text, &len);
	if (!out) {
		if (!ret)
			k8s_request_free(&req);
		return false;
	}
	if (!ret) {
		if (!strcmp(req.verb, "apply"))
			ret = apply(a, &req, APPLY_MERGE, out, &err);
		else if (!strcmp(req.verb, "delete"))
			ret = apply(a, &req, APPLY_REMOVE, out, &err);
		else if (!strcmp(req.verb, "replace"))
			ret = apply(a, &req, APPLY_REPLACE, out, &err);
		else if (!strcmp(req.verb, "status"))
			ret = status(a, !strcmp(req.arg, "json"), out, &err);
		else if (!strcmp(req.verb, "gc"))
			ret = gc_request(a, out, &err);
		else if (!strcmp(req.verb, "policy"))
			k8s_policy_maps_show(&a->pol, !strcmp(req.arg, "json"), out);
		else if (!strcmp(req.verb, "why"))
			ret = k8s_policy_maps_why(&a->pol, req.arg, out, &err);
		else if (!strcmp(req.verb, "metrics"))
			k8s_metrics_write(a->flows.metrics, out);
		else if (!strcmp(req.verb, "map"))
			k8s_svcmap_write_dot(a->flows.svcmap, out);
		else
			ret = sluice_fail(&err, EINVAL, "unknown request '%s'", req.verb);
		k8s_request_free(&req);
	}
	fclose(out);
	/* a client that hung up gets nothing: there is no one to tell */
	if (ret) {
		if (!k8s_write_all(fd, "error\n", 6))
			k8s_write_all(fd, err.msg, strlen(err.msg));
	} else if (!k8s_write_all(fd, "ok\n", 3)) {
		k8s_write_all(fd, text, len);
	}
	free(text);
	return false;
}

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

int k8s_agent_serve(struct k8s_agent *a, struct sluice_error *err)
{
	struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART: poll returns */
	uint64_t next_gc = now_ns() + (uint64_t)a->gc_interval * LB_NSEC_PER_SEC;
	struct flow_log *l = &a->flows;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	while (!stopping) {
		/* the socket, the flow events, then the readers (only their hang-up is awaited) */
		struct pollfd p[2 + FLOW_READERS_MAX] = {
			{ .fd = a->listen_fd, .events = POLLIN },
			{ .fd = ring_buffer__epoll_fd(l->rb), .events = POLLIN },
		};
		size_t n_fol = l->n_fol;
		int fd, r;
		size_t seen, removed;

		for (size_t i = 0; i < n_fol; i++)
			p[2 + i].fd = l->fol[i].fd;
		r = poll(p, 2 + n_fol, 1000);
		if (a->gc_interval && now_ns() >= next_gc) {
			/* a failed read (out of memory) is retried at the next interval */
			ct_gc(a, &seen, &removed);
			next_gc = now_ns() + (uint64_t)a->gc_interval * LB_NSEC_PER_SEC;
		}

		if (r < 0 && errno != EINTR)
			return sluice_fail(err, errno, "poll: %s", strerror(errno));
		if (r <= 0)
			continue;
		/* readers that hung up first: the events' records may drop others */
		for (size_t i = n_fol; i-- > 0;)
			if (p[2 + i].revents & (POLLHUP | POLLERR))
				drop_reader(l, i);
		if (p[1].revents & POLLIN)
			ring_buffer__consume(l->rb);
		if (!(p[0].revents & POLLIN))
			continue;
		fd = accept4(a->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		if (!serve_one(a, fd))
			close(fd);
	}
	return 0;
}
