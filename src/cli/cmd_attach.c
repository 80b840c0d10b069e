/* SPDX-License-Identifier: MIT */
/*
 * `sluice attach FILE.o --prog NAME --dev IFACE`: a program on the packets
 * of a network interface until SIGINT or SIGTERM, then a clean detach.
 *
 * With --userspace the program runs in Sluice's runtime on what arrives at
 * the interface, read through an AF_PACKET socket with a TPACKET_V3 receive
 * ring.  That socket is a tap: it gets a copy, and the kernel still delivers
 * the original to its own stack, so in user space
 *   drop and pass  only count (nothing is sent, nothing is withheld);
 *   XDP_TX         sends the packet, as the program left it, back out of
 *                  IFACE;
 *   redirect       sends it out of the interface whose ifindex the program
 *                  chose (bpf_redirect, bpf_redirect_map), when that is
 *                  IFACE or one given with --redirect-dev; other targets,
 *                  and redirects to a device's ingress (BPF_F_INGRESS),
 *                  are counted as not sent, as the kernel drops a redirect
 *                  it cannot carry out.
 * Sending bypasses the qdisc (PACKET_QDISC_BYPASS), as XDP_TX does.  Only
 * incoming packets are seen (PACKET_IGNORE_OUTGOING), as at the XDP hook,
 * with a VLAN tag the driver took off put back where the program expects it.
 *
 * Without --userspace the program is loaded into the kernel and attached at
 * its hook (XDP, or TC ingress/egress with clsact) until the stop, where
 * drop and pass are real.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include <sluice/kernel.h>

#include "cli.h"
#include "engine.h"
#include "events.h"
#include "files.h"
#include "json.h"
#include "live.h"
#include "rtprog.h"

/* The receive ring: blocks the kernel fills and hands over whole. */
#define RING_BLOCK_SIZE (1u << 20)
#define RING_BLOCKS 4u
#define RING_FRAME_SIZE 2048u
/* A partly filled block is handed over after this long, so a trickle of packets is not held back. */
#define RING_BLOCK_TIMEOUT_MS 10u
/* Room for a packet, a VLAN tag put back, and what a TC program may push or append. */
#define PACKET_ROOM (2u * 65536u)
#define VLAN_HLEN 4u
#define MAX_IFACES 8

struct iface {
	const char *name;
	int ifindex;
	int tx_fd;
};

struct attach_args {
	const char *path, *prog, *dev, *hook;
	const char *redirect_devs[MAX_IFACES - 1];
	int nredirect;
	struct engine_opts eopts;
	bool userspace, events, engine_given;
	uint64_t count;  /* 0: no limit */
	double duration; /* seconds; 0: no limit */
};

struct tap {
	struct rtprog p;
	struct iface ifaces[MAX_IFACES]; /* [0]: the attached interface */
	int nifaces;
	int rx_fd;
	uint8_t *ring;
	size_t ring_size;
	uint8_t *frame;  /* a packet whose VLAN tag is put back */
	uint8_t *out;
	struct verdict_counts counts;
	uint64_t sent_tx, sent_redirect, not_sent, failed_runs;
	uint64_t truncated;  /* cut short by the ring, or beyond PACKET_ROOM: not run */
	uint64_t ring_drops; /* packets the kernel had no room for in the ring */
	struct events *events;
	struct json *j;
	bool warned;     /* only the first failure is said on stderr; the rest are counted */
};

/* ---- the AF_PACKET side ------------------------------------------------- */

static int open_tx(struct iface *ifc)
{
	struct sockaddr_ll addr = {
		.sll_family = AF_PACKET, .sll_ifindex = ifc->ifindex,
	};
	int one = 1;

	/* protocol 0: this socket only sends, it receives nothing */
	ifc->tx_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (ifc->tx_fd < 0)
		return -errno;
	if (setsockopt(ifc->tx_fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)) ||
	    bind(ifc->tx_fd, (struct sockaddr *)&addr, sizeof(addr)))
		return -errno;
	return 0;
}

/*
 * The ring is set up before the socket is bound to a protocol: until then
 * it receives nothing, so no packet of another interface slips in.
 */
static int open_rx(struct tap *t)
{
	struct tpacket_req3 req = {
		.tp_block_size = RING_BLOCK_SIZE,
		.tp_block_nr = RING_BLOCKS,
		.tp_frame_size = RING_FRAME_SIZE,
		.tp_frame_nr = RING_BLOCK_SIZE / RING_FRAME_SIZE * RING_BLOCKS,
		.tp_retire_blk_tov = RING_BLOCK_TIMEOUT_MS,
	};
	struct sockaddr_ll addr = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = t->ifaces[0].ifindex,
	};
	int version = TPACKET_V3, one = 1;

	t->rx_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (t->rx_fd < 0)
		return -errno;
	if (setsockopt(t->rx_fd, SOL_PACKET, PACKET_VERSION, &version, sizeof(version)) ||
	    setsockopt(t->rx_fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) ||
	    setsockopt(t->rx_fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)))
		return -errno;
	t->ring_size = (size_t)RING_BLOCK_SIZE * RING_BLOCKS;
	t->ring = mmap(NULL, t->ring_size, PROT_READ | PROT_WRITE, MAP_SHARED, t->rx_fd, 0);
	if (t->ring == MAP_FAILED) {
		t->ring = NULL;
		return -errno;
	}
	if (bind(t->rx_fd, (struct sockaddr *)&addr, sizeof(addr)))
		return -errno;
	return 0;
}

static void close_tap(struct tap *t)
{
	if (t->ring)
		munmap(t->ring, t->ring_size);
	if (t->rx_fd >= 0)
		close(t->rx_fd);
	for (int i = 0; i < t->nifaces; i++)
		if (t->ifaces[i].tx_fd >= 0)
			close(t->ifaces[i].tx_fd);
	events_free(t->events);
	free(t->frame);
	free(t->out);
	rtprog_close(&t->p);
}

static void warn_once(struct tap *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void warn_once(struct tap *t, const char *fmt, ...)
{
	va_list ap;

	if (t->warned)
		return;
	t->warned = true;
	va_start(ap, fmt);
	fprintf(stderr, "sluice: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, " (further failures are only counted)\n");
	va_end(ap);
}

static void send_out(struct tap *t, const struct iface *ifc, const uint8_t *data, uint32_t len,
		     uint64_t *sent)
{
	struct sockaddr_ll to = {
		.sll_family = AF_PACKET,
		.sll_ifindex = ifc->ifindex,
		.sll_halen = ETH_ALEN,
	};

	if (len >= ETH_HLEN) {
		memcpy(&to.sll_protocol, data + 2 * ETH_ALEN, sizeof(to.sll_protocol));
		memcpy(to.sll_addr, data, ETH_ALEN);
	}
	if (sendto(ifc->tx_fd, data, len, 0, (struct sockaddr *)&to, sizeof(to)) == (ssize_t)len) {
		(*sent)++;
		return;
	}
	t->not_sent++;
	warn_once(t, "cannot send %u bytes out of %s: %s", len, ifc->name, strerror(errno));
}

static const struct iface *iface_by_index(const struct tap *t, uint32_t ifindex)
{
	for (int i = 0; i < t->nifaces; i++)
		if ((uint32_t)t->ifaces[i].ifindex == ifindex)
			return &t->ifaces[i];
	return NULL;
}

/* One packet through the program, and its verdict carried out. */
static void handle_packet(struct tap *t, const struct tpacket3_hdr *hdr)
{
	const uint8_t *data = (const uint8_t *)hdr + hdr->tp_mac;
	uint32_t len = hdr->tp_snaplen, ifindex = (uint32_t)t->ifaces[0].ifindex, ctx_size;
	union {
		struct xdp_md xdp;
		struct __sk_buff skb;
	} ctx;
	struct sluice_error err = { 0 };
	struct sluice_test_run run;
	const struct iface *target;
	struct verdict v;

	if (hdr->tp_snaplen < hdr->tp_len || len > PACKET_ROOM - VLAN_HLEN) {
		t->truncated++;
		return;
	}
	if ((hdr->tp_status & TP_STATUS_VLAN_VALID) && len >= 2 * ETH_ALEN) {
		uint16_t tpid = htons(hdr->tp_status & TP_STATUS_VLAN_TPID_VALID ?
				      hdr->hv1.tp_vlan_tpid : ETH_P_8021Q);
		uint16_t tci = htons(hdr->hv1.tp_vlan_tci);

		memcpy(t->frame, data, 2 * ETH_ALEN);
		memcpy(t->frame + 2 * ETH_ALEN, &tpid, 2);
		memcpy(t->frame + 2 * ETH_ALEN + 2, &tci, 2);
		memcpy(t->frame + 2 * ETH_ALEN + VLAN_HLEN, data + 2 * ETH_ALEN, len - 2 * ETH_ALEN);
		data = t->frame;
		len += VLAN_HLEN;
	}
	/* the program sees the interface the packet came in on */
	if (t->p.type == BPF_PROG_TYPE_XDP) {
		ctx.xdp = (struct xdp_md){ .data_end = len, .ingress_ifindex = ifindex };
		ctx_size = sizeof(ctx.xdp);
	} else {
		ctx.skb = (struct __sk_buff){ .ifindex = ifindex, .ingress_ifindex = ifindex };
		ctx_size = sizeof(ctx.skb);
	}
	run = (struct sluice_test_run){
		.sz = sizeof(run),
		.data_in = data, .data_size_in = len,
		.data_out = t->out, .data_size_out = PACKET_ROOM,
		.ctx_in = &ctx, .ctx_size_in = ctx_size,
	};
	if (sluice_rt_test_run(t->p.prog, &run, &err)) {
		t->failed_runs++;
		warn_once(t, "packet of %u bytes: %s", len, err.msg);
		return;
	}
	verdict_of(t->p.type, run.retval, &v);
	verdict_count(&t->counts, &v);
	if (t->events)
		events_drain(t->events, t->counts.packets);
	if (v.action == VERDICT_TX) {
		send_out(t, &t->ifaces[0], t->out, run.data_size_out, &t->sent_tx);
	} else if (v.action == VERDICT_REDIRECT) {
		target = run.redirect_flags & BPF_F_INGRESS ? NULL
							    : iface_by_index(t, run.redirect_ifindex);
		if (target) {
			send_out(t, target, t->out, run.data_size_out, &t->sent_redirect);
		} else {
			t->not_sent++;
			warn_once(t, "redirect to %sifindex %u, which is not an interface of this attach",
				  run.redirect_flags & BPF_F_INGRESS ? "the ingress of " : "",
				  run.redirect_ifindex);
		}
	}
}

/* The packets of one block the kernel handed over; false once --count is reached. */
static bool handle_block(struct tap *t, struct tpacket_block_desc *block, uint64_t limit)
{
	const struct tpacket_hdr_v1 *bh = &block->hdr.bh1;
	const uint8_t *at = (const uint8_t *)block + bh->offset_to_first_pkt;

	for (uint32_t i = 0; i < bh->num_pkts; i++) {
		const struct tpacket3_hdr *hdr = (const struct tpacket3_hdr *)at;

		if (limit && t->counts.packets >= limit)
			return false;
		handle_packet(t, hdr);
		at += hdr->tp_next_offset;
	}
	return !limit || t->counts.packets < limit;
}

static int tap_loop(struct tap *t, const struct attach_args *a, struct live *l)
{
	unsigned current = 0;

	for (;;) {
		struct tpacket_block_desc *block =
			(struct tpacket_block_desc *)(t->ring + (size_t)current * RING_BLOCK_SIZE);
		bool more;

		if (live_stopped(l))
			return 0;
		if (!(__atomic_load_n(&block->hdr.bh1.block_status, __ATOMIC_ACQUIRE) &
		      TP_STATUS_USER)) {
			int ret = live_wait(l, t->rx_fd);

			if (ret <= 0)
				return ret;
			continue;
		}
		more = handle_block(t, block, a->count);
		/* the rest of a block cut short by --count is not wanted either */
		__atomic_store_n(&block->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		current = (current + 1) % RING_BLOCKS;
		if (!more)
			return 0;
	}
}

/* What the ring could not take: the kernel's count since the socket was opened. */
static void read_ring_drops(struct tap *t)
{
	struct tpacket_stats_v3 stats = { 0 };
	socklen_t len = sizeof(stats);

	if (!getsockopt(t->rx_fd, SOL_PACKET, PACKET_STATISTICS, &stats, &len))
		t->ring_drops = stats.tp_drops;
}

static void report_tap(const struct tap *t, const struct attach_args *a)
{
	if (t->j) {
		json_u64(t->j, "packets", t->counts.packets);
		verdict_counts_print(&t->counts, t->j);
		json_u64(t->j, "sent_tx", t->sent_tx);
		json_u64(t->j, "sent_redirect", t->sent_redirect);
		json_u64(t->j, "not_sent", t->not_sent);
		json_u64(t->j, "failed_runs", t->failed_runs);
		json_u64(t->j, "truncated", t->truncated);
		json_u64(t->j, "ring_drops", t->ring_drops);
		map_summaries_print(&t->p, t->j);
		return;
	}
	verdict_counts_print(&t->counts, NULL);
	printf("sent: %llu tx out of %s, %llu redirected; %llu not sent\n",
	       (unsigned long long)t->sent_tx, a->dev, (unsigned long long)t->sent_redirect,
	       (unsigned long long)t->not_sent);
	if (t->failed_runs || t->truncated || t->ring_drops)
		printf("not run: %llu refused by the runtime, %llu cut short by the capture or too large, %llu dropped by a full ring\n",
		       (unsigned long long)t->failed_runs, (unsigned long long)t->truncated,
		       (unsigned long long)t->ring_drops);
	map_summaries_print(&t->p, NULL);
}

static int add_iface(const struct cli *cli, struct tap *t, const char *name)
{
	struct iface *ifc = &t->ifaces[t->nifaces];
	int ret;

	ifc->name = name;
	ifc->tx_fd = -1;
	ifc->ifindex = (int)if_nametoindex(name);
	if (!ifc->ifindex)
		return cli_fail(cli, "no network interface '%s': %s", name, strerror(errno));
	t->nifaces++;
	ret = open_tx(ifc);
	if (ret)
		return cli_fail(cli, "cannot open a packet socket on '%s': %s", name, strerror(-ret));
	return CLI_OK;
}

static int attach_userspace(const struct cli *cli, const struct attach_args *a)
{
	struct tap t = { .rx_fd = -1 };
	struct live l;
	int ret = rtprog_open(cli, "attach", a->path, a->prog, &a->eopts, &t.p);

	if (ret)
		return ret;
	t.counts.prog_type = t.p.type;
	ret = rtprog_require_packet_type(cli, "attach --userspace", &t.p);
	for (int i = -1; !ret && i < a->nredirect; i++)
		ret = add_iface(cli, &t, i < 0 ? a->dev : a->redirect_devs[i]);
	if (ret) {
		close_tap(&t);
		return ret;
	}
	t.frame = malloc(PACKET_ROOM);
	t.out = malloc(PACKET_ROOM);
	if (!t.frame || !t.out) {
		close_tap(&t);
		return cli_fail(cli, "out of memory");
	}
	ret = open_rx(&t);
	if (ret) {
		close_tap(&t);
		return cli_fail(cli, "cannot open a TPACKET_V3 ring on '%s': %s", a->dev,
				strerror(-ret));
	}
	ret = live_begin(&l, a->duration);
	if (ret) {
		close_tap(&t);
		return cli_fail(cli, "cannot take over SIGINT and SIGTERM: %s", strerror(-ret));
	}
	if (cli->json) {
		t.j = json_new(stdout);
		json_object_begin(t.j, NULL);
		json_string(t.j, "prog", a->prog);
		json_string(t.j, "dev", a->dev);
		json_string(t.j, "engine", a->eopts.name);
		if (a->events)
			json_array_begin(t.j, "events");
	}
	if (a->events && !(t.events = events_new(&t.p, t.j)))
		ret = -ENOMEM;
	if (!ret) {
		/* on stderr, so that a script knows when packets start being seen */
		fprintf(stderr, "sluice: %s runs in user space on packets arriving at %s; SIGINT or SIGTERM stops\n",
			a->prog, a->dev);
		ret = tap_loop(&t, a, &l);
	}
	live_end(&l);
	read_ring_drops(&t);
	if (t.j && a->events)
		json_array_end(t.j);
	if (ret) {
		if (t.j)
			json_string(t.j, "error", strerror(-ret));
		else
			fprintf(stderr, "sluice: %s: %s\n", a->dev, strerror(-ret));
	} else {
		report_tap(&t, a);
	}
	if (t.j) {
		json_object_end(t.j);
		json_free(t.j);
	}
	close_tap(&t);
	return ret ? CLI_FAILED : CLI_OK;
}

/* ---- the kernel ------------------------------------------------------------ */

static bool starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* The hook --hook names, or the one the program's section implies. */
static int pick_hook(const char *name, const char *section, enum sluice_kernel_hook *hook)
{
	if (!name)
		name = starts_with(section, "xdp") ? "xdp"
		       : starts_with(section, "tc") || starts_with(section, "classifier") ||
				 starts_with(section, "action") ? "tc-ingress"
		       : "";
	if (!strcmp(name, "xdp"))
		*hook = SLUICE_HOOK_XDP;
	else if (!strcmp(name, "tc-ingress"))
		*hook = SLUICE_HOOK_TC_INGRESS;
	else if (!strcmp(name, "tc-egress"))
		*hook = SLUICE_HOOK_TC_EGRESS;
	else
		return -1;
	return 0;
}

static const char *const hook_names[] = {
	[SLUICE_HOOK_XDP] = "xdp",
	[SLUICE_HOOK_TC_INGRESS] = "tc-ingress",
	[SLUICE_HOOK_TC_EGRESS] = "tc-egress",
};

static int attach_kernel(const struct cli *cli, const struct attach_args *a)
{
	struct kernel_args args = { .backend = "kernel", .prog = a->prog };
	struct sluice_kernel_attachment *att;
	struct sluice_kernel_verdict verdict;
	struct sluice_error err = { 0 };
	struct sluice_kernel_object *obj;
	enum sluice_kernel_hook hook;
	int index, ifindex, ret;
	struct live l;

	ifindex = (int)if_nametoindex(a->dev);
	if (!ifindex)
		return cli_fail(cli, "no network interface '%s': %s", a->dev, strerror(errno));
	ret = kernel_open(cli, "attach", &args, a->path, &obj, &index);
	if (ret)
		return ret;
	if (pick_hook(a->hook, sluice_kernel_prog_section(obj, (size_t)index), &hook)) {
		sluice_kernel_close(obj);
		if (a->hook)
			return cli_usage(cli, "attach", "unknown hook '%s' (xdp, tc-ingress, tc-egress)",
					 a->hook);
		return cli_usage(cli, "attach", "section '%s' names no network hook: say --hook",
				 sluice_kernel_prog_section(obj, (size_t)index));
	}
	if (sluice_kernel_load_prog(obj, (size_t)index, &verdict, &err) || !verdict.accepted) {
		ret = cli_fail(cli, "%s: %s", a->path, verdict.accepted ? err.msg : verdict.message);
		sluice_kernel_close(obj);
		return ret;
	}
	if (sluice_kernel_attach(obj, (size_t)index, ifindex, hook, 0, &att, &err)) {
		sluice_kernel_close(obj);
		return cli_fail(cli, "%s", err.msg);
	}
	ret = live_begin(&l, a->duration);
	if (!ret) {
		fprintf(stderr, "sluice: %s attached to %s at %s in the kernel; SIGINT or SIGTERM detaches\n",
			a->prog, a->dev, hook_names[hook]);
		ret = live_wait(&l, -1);
		live_end(&l);
	}
	if (sluice_kernel_detach(att, &err) && !ret)
		ret = -EIO;
	sluice_kernel_close(obj);
	if (ret)
		return cli_fail(cli, "%s", ret == -EIO ? err.msg : strerror(-ret));
	if (cli->json) {
		struct json *j = json_new(stdout);

		json_object_begin(j, NULL);
		json_string(j, "prog", a->prog);
		json_string(j, "dev", a->dev);
		json_string(j, "hook", hook_names[hook]);
		json_bool(j, "detached", true);
		json_object_end(j);
		json_free(j);
	} else {
		printf("%s detached from %s (%s)\n", a->prog, a->dev, hook_names[hook]);
	}
	return CLI_OK;
}

int cmd_attach(const struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "prog", required_argument, NULL, 'p' },
		{ "dev", required_argument, NULL, 'd' },
		{ "userspace", no_argument, NULL, 'u' },
		{ "redirect-dev", required_argument, NULL, 'r' },
		{ "events", no_argument, NULL, 'e' },
		{ "count", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 't' },
		{ "hook", required_argument, NULL, 'k' },
		ENGINE_LONG_OPTIONS,
		{ 0 },
	};
	struct attach_args a = { .eopts = { .name = "interp" } };
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'p':
			a.prog = optarg;
			break;
		case 'd':
			a.dev = optarg;
			break;
		case 'u':
			a.userspace = true;
			break;
		case 'r':
			if (a.nredirect == MAX_IFACES - 1)
				return cli_usage(cli, "attach", "at most %d --redirect-dev", MAX_IFACES - 1);
			a.redirect_devs[a.nredirect++] = optarg;
			break;
		case 'e':
			a.events = true;
			break;
		case 'c':
			if (parse_u64_arg(optarg, &a.count) || !a.count)
				return cli_usage(cli, "attach", "--count takes a positive number, not '%s'", optarg);
			break;
		case 't':
			if (live_parse_seconds(optarg, &a.duration))
				return cli_usage(cli, "attach", "--duration takes positive seconds, not '%s'", optarg);
			break;
		case 'k':
			a.hook = optarg;
			break;
		default:
			if (!engine_option(&a.eopts, opt, optarg))
				return cli_usage(cli, "attach", "bad option");
			a.engine_given = true;
		}
	}
	if (optind + 1 != argc)
		return cli_usage(cli, "attach", "expected one object file");
	a.path = argv[optind];
	if (!a.prog || !a.dev)
		return cli_usage(cli, "attach", "--prog NAME and --dev IFACE are required");
	if (a.userspace) {
		if (a.hook)
			return cli_usage(cli, "attach", "--hook is the kernel's: --userspace sees what arrives");
		return attach_userspace(cli, &a);
	}
	if (a.engine_given || a.nredirect || a.events || a.count)
		return cli_usage(cli, "attach", "--engine, --checked, --redirect-dev, --events and --count go with --userspace");
	return attach_kernel(cli, &a);
}
