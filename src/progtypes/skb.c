/* SPDX-License-Identifier: MIT */
/*
 * Socket buffers under BPF_PROG_TEST_RUN, as bpf_prog_test_run_skb builds
 * them for TC (sched_cls, sched_act), socket filters and cgroup skb
 * programs: the packet is received on the loopback device (or the device
 * ctx_in's ifindex names) through eth_type_trans, which sets protocol and
 * pkt_type and pulls the Ethernet header; TC programs get it pushed back,
 * the others see the packet from its network header.  Whatever the type,
 * data_out starts with an Ethernet header: the packet's own for TC, 14 zero
 * bytes for the others.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/ip.h>
#include <linux/ipv6.h>

#include "errmsg.h"
#include "progtypes/progtypes.h"

/* NET_SKB_PAD + NET_IP_ALIGN and the aligned skb_shared_info on x86-64 */
#define SKB_TEST_HEADROOM 64u
#define SKB_TEST_TAILROOM 320u
#define SKB_TEST_PAGE 4096u
/* room for the helpers that grow the packet: the loopback device's MTU and more */
#define SKB_RT_HEADROOM 65536u
#define SKB_RT_TAILROOM (65536u + 1024u)
#define LOOPBACK_IFINDEX 1u
/* GSO_LEGACY_MAX_SIZE and GSO_MAX_SEGS */
#define WIRE_LEN_MAX 65536u
#define GSO_SEGS_MAX 65535u

void skb_rt_sync(struct rt_run *run, struct skb_rt *skb)
{
	skb->md.len = (uint32_t)(skb->tail - skb->data);
	if (skb->direct_access) {
		skb->data_meta = skb->data;
		skb->data_end = skb->tail;
	}
	run->ld_data = skb->data;
	run->ld_len = skb->md.len;
	run->ld_ll = skb->mac_header;
	run->ld_net = skb->network_header;
	if (run->exec) {
		run->exec->packet = run->ld_data;
		run->exec->packet_len = run->ld_len;
		run->exec->packet_ll = run->ld_ll;
		run->exec->packet_net = run->ld_net;
	}
}

/* A device's link-layer address or broadcast address, from sysfs. */
static int read_mac(const char *dev, const char *file, uint8_t mac[ETH_ALEN],
		    struct sluice_error *err)
{
	char path[128];
	unsigned b[ETH_ALEN];
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", dev, file);
	f = fopen(path, "r");
	if (!f)
		return sluice_fail(err, errno, "%s: %s", path, strerror(errno));
	n = fscanf(f, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]);
	fclose(f);
	if (n != ETH_ALEN)
		return sluice_fail(err, EINVAL, "%s: not an Ethernet address", path);
	for (int i = 0; i < ETH_ALEN; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

struct rx_device {
	uint32_t ifindex;
	uint32_t mtu;
	uint8_t addr[ETH_ALEN];
	uint8_t broadcast[ETH_ALEN];
};

static int read_mtu(const char *dev, uint32_t *mtu, struct sluice_error *err)
{
	char path[128];
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/sys/class/net/%s/mtu", dev);
	f = fopen(path, "r");
	if (!f)
		return sluice_fail(err, errno, "%s: %s", path, strerror(errno));
	n = fscanf(f, "%u", mtu);
	fclose(f);
	return n == 1 ? 0 : sluice_fail(err, EINVAL, "%s: not a number", path);
}

/*
 * The device the packet arrives on: loopback, whose addresses are all
 * zero, or the one ctx_in names.
 */
static int rx_device(uint32_t ifindex, struct rx_device *dev, struct sluice_error *err)
{
	char name[IF_NAMESIZE];
	int ret;

	memset(dev, 0, sizeof(*dev));
	dev->ifindex = ifindex > LOOPBACK_IFINDEX ? ifindex : LOOPBACK_IFINDEX;
	if (!if_indextoname(dev->ifindex, name))
		return sluice_fail(err, ENODEV, "ifindex %u: no such device", dev->ifindex);
	ret = read_mtu(name, &dev->mtu, err);
	if (ret < 0 || dev->ifindex == LOOPBACK_IFINDEX)
		return ret;
	ret = read_mac(name, "address", dev->addr, err);
	return ret < 0 ? ret : read_mac(name, "broadcast", dev->broadcast, err);
}

/* eth_type_trans: pkt_type from the destination, the protocol, the header pulled. */
static void eth_type_trans(struct skb_rt *skb, const struct rx_device *dev)
{
	const uint8_t *dst = skb->data;
	uint16_t proto_be, type;

	skb->mac_header = skb->data;
	memcpy(&proto_be, skb->data + 2 * ETH_ALEN, sizeof(proto_be));
	skb->data += ETH_HLEN;
	skb->md.pkt_type = PACKET_HOST;
	if (memcmp(dst, dev->addr, ETH_ALEN) != 0) {
		if (dst[0] & 1)
			skb->md.pkt_type = memcmp(dst, dev->broadcast, ETH_ALEN) == 0 ?
						   PACKET_BROADCAST : PACKET_MULTICAST;
		else
			skb->md.pkt_type = PACKET_OTHERHOST;
	}
	type = (uint16_t)(skb->mac_header[2 * ETH_ALEN] << 8 | skb->mac_header[2 * ETH_ALEN + 1]);
	if (type >= ETH_P_802_3_MIN) {
		skb->md.protocol = proto_be;
		return;
	}
	/* a raw 802.3 frame starts with 0xffff (Novell IPX); anything else is 802.2 LLC */
	if (skb->tail - skb->data >= 2 && skb->data[0] == 0xff && skb->data[1] == 0xff)
		skb->md.protocol = htons(ETH_P_802_3);
	else
		skb->md.protocol = htons(ETH_P_802_2);
}

/*
 * The test run's socket: its family and addresses come from the packet's
 * IP header, which an IPv4 or IPv6 packet must then hold whole (Linux 6.18
 * refuses shorter ones).
 */
static int fake_socket(struct skb_rt *skb, struct sluice_error *err)
{
	size_t len = (size_t)(skb->tail - skb->data);

	if (skb->md.protocol == htons(ETH_P_IP)) {
		struct iphdr ip;

		if (len < sizeof(ip))
			return sluice_fail(err, EINVAL, "data_in: IPv4 with %zu bytes after the "
					   "Ethernet header, less than an IPv4 header", len);
		memcpy(&ip, skb->data, sizeof(ip));
		skb->md.family = AF_INET;
		skb->md.local_ip4 = ip.saddr;
		skb->md.remote_ip4 = ip.daddr;
	} else if (skb->md.protocol == htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;

		if (len < sizeof(ip6))
			return sluice_fail(err, EINVAL, "data_in: IPv6 with %zu bytes after the "
					   "Ethernet header, less than an IPv6 header", len);
		memcpy(&ip6, skb->data, sizeof(ip6));
		skb->md.family = AF_INET6;
		memcpy(skb->md.local_ip6, &ip6.saddr, sizeof(skb->md.local_ip6));
		memcpy(skb->md.remote_ip6, &ip6.daddr, sizeof(skb->md.remote_ip6));
	}
	return 0;
}

static bool zero(const void *p, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (((const uint8_t *)p)[i])
			return false;
	return true;
}

#define END(member) (offsetof(struct __sk_buff, member) + sizeof(((struct __sk_buff *)0)->member))

/* convert___skb_to_skb: the fields a caller may set, every other byte zero. */
static int apply_ctx_in(struct skb_rt *skb, const struct __sk_buff *in,
			struct sluice_error *err)
{
	if (!zero(in, 0, offsetof(struct __sk_buff, mark)) ||
	    !zero(in, END(mark), offsetof(struct __sk_buff, priority)) ||
	    !zero(in, END(ifindex), offsetof(struct __sk_buff, cb)) ||
	    !zero(in, END(cb), offsetof(struct __sk_buff, tstamp)) ||
	    !zero(in, END(gso_segs), offsetof(struct __sk_buff, gso_size)) ||
	    !zero(in, END(gso_size), offsetof(struct __sk_buff, hwtstamp)) ||
	    !zero(in, END(hwtstamp), sizeof(*in)))
		return sluice_fail(err, EINVAL,
				   "ctx_in: only mark, priority, ingress_ifindex, ifindex, cb, "
				   "tstamp, wire_len, gso_segs, gso_size and hwtstamp may be set");
	skb->md.mark = in->mark;
	skb->md.priority = in->priority;
	skb->md.ingress_ifindex = in->ingress_ifindex;
	skb->md.tstamp = in->tstamp;
	memcpy(skb->md.cb, in->cb, sizeof(skb->md.cb));
	if (in->wire_len) {
		if (in->wire_len < skb->md.len || in->wire_len > WIRE_LEN_MAX)
			return sluice_fail(err, EINVAL, "ctx_in: wire_len %u is below len %u or above %u",
					   in->wire_len, skb->md.len, WIRE_LEN_MAX);
		skb->md.wire_len = in->wire_len;
	}
	if (in->gso_segs > GSO_SEGS_MAX)
		return sluice_fail(err, EINVAL, "ctx_in: gso_segs %u is above %u", in->gso_segs,
				   GSO_SEGS_MAX);
	skb->md.gso_segs = in->gso_segs;
	skb->md.gso_size = in->gso_size;
	skb->md.hwtstamp = in->hwtstamp;
	return 0;
}

/* convert_skb_to___skb: what the run changed, into the caller's context. */
static void fill_ctx_out(const struct skb_rt *skb, struct __sk_buff *out)
{
	out->mark = skb->md.mark;
	out->priority = skb->md.priority;
	out->ingress_ifindex = skb->md.ingress_ifindex;
	out->ifindex = skb->md.ifindex;
	out->tstamp = skb->md.tstamp;
	memcpy(out->cb, skb->md.cb, sizeof(out->cb));
	out->wire_len = skb->md.wire_len;
	out->gso_segs = skb->md.gso_segs;
	out->hwtstamp = skb->md.hwtstamp;
}

static int build_skb(struct rt_run *run, struct sluice_test_run *t, struct skb_rt *skb,
		     struct __sk_buff *ctx, bool have_ctx, bool is_l2, struct sluice_error *err)
{
	struct rx_device dev;
	int ret;

	ret = rx_device(have_ctx ? ctx->ifindex : 0, &dev, err);
	if (ret < 0)
		return ret;
	run->buf_size = SKB_RT_HEADROOM + t->data_size_in + SKB_RT_TAILROOM;
	run->buf = calloc(1, run->buf_size);
	if (!run->buf)
		return sluice_fail(err, ENOMEM, "out of memory");
	skb->head = run->buf;
	skb->end = run->buf + run->buf_size;
	skb->data = skb->head + SKB_RT_HEADROOM;
	memcpy(skb->data, t->data_in, t->data_size_in);
	skb->tail = skb->data + t->data_size_in;
	skb->md.ifindex = dev.ifindex;
	skb->max_len = dev.mtu + ETH_HLEN;
	eth_type_trans(skb, &dev);
	skb->network_header = skb->data;
	ret = fake_socket(skb, err);
	if (ret < 0)
		return ret;
	if (is_l2)
		skb->data -= ETH_HLEN;
	skb->md.len = (uint32_t)(skb->tail - skb->data);
	/* without a context, the wire length is never set */
	if (have_ctx) {
		skb->md.wire_len = skb->md.len;
		ret = apply_ctx_in(skb, ctx, err);
		if (ret < 0)
			return ret;
	}
	run->ctx = skb;
	run->ctx_size = sizeof(*skb);
	skb_rt_sync(run, skb);
	return 0;
}

int skb_test_run(struct rt_run *run, struct sluice_test_run *t, struct sluice_error *err)
{
	uint32_t type = rt_prog_type(run->prog), retval = 0;
	bool is_l2 = type == BPF_PROG_TYPE_SCHED_CLS || type == BPF_PROG_TYPE_SCHED_ACT;
	/* TC and (since Linux 6.x) cgroup skb programs read data_end */
	struct skb_rt skb = { .direct_access = is_l2 || type == BPF_PROG_TYPE_CGROUP_SKB };
	struct __sk_buff ctx;
	bool have_ctx;
	int ret;

	if (t->flags || t->cpu)
		return sluice_fail(err, EINVAL, "socket buffer programs take no flags and no cpu");
	if (t->data_size_in < ETH_HLEN ||
	    t->data_size_in > SKB_TEST_PAGE - SKB_TEST_HEADROOM - SKB_TEST_TAILROOM)
		return sluice_fail(err, EINVAL, "data_in: %u bytes, %u to %u allowed",
				   t->data_size_in, ETH_HLEN,
				   SKB_TEST_PAGE - SKB_TEST_HEADROOM - SKB_TEST_TAILROOM);
	ret = test_ctx_init(t, &ctx, sizeof(ctx), &have_ctx, err);
	if (ret == 0)
		ret = build_skb(run, t, &skb, &ctx, have_ctx, is_l2, err);
	if (ret == 0)
		ret = test_repeat(run, t, &retval, err);
	if (ret == 0) {
		if (!is_l2) {
			/* the caller gets an Ethernet header back, all zero */
			skb.data -= ETH_HLEN;
			memset(skb.data, 0, ETH_HLEN);
			skb.md.len += ETH_HLEN;
		}
		ret = test_finish(t, skb.data, skb.md.len, NULL, retval, err);
		if (ret == 0 && have_ctx) {
			fill_ctx_out(&skb, &ctx);
			ret = test_ctx_finish(t, &ctx, sizeof(ctx), err);
		}
	}
	free(run->buf);
	run->buf = NULL;
	run->ctx = NULL;
	return ret;
}
