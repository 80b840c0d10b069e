/* SPDX-License-Identifier: MIT */
/*
 * XDP under BPF_PROG_TEST_RUN, as bpf_prog_test_run_xdp: one page per
 * frame, XDP_PACKET_HEADROOM before the packet (the metadata ctx_in asks
 * for taken out of it), the skb_shared_info's room kept free at the page's
 * end, what does not fit in further pages (a multi-buffer frame), and the
 * frame the loopback device's first receive queue delivers unless ctx_in
 * names another.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/if_ether.h>

#include "errmsg.h"
#include "progtypes/progtypes.h"

#define LOOPBACK_IFINDEX 1u

void xdp_rt_sync(struct rt_run *run, struct xdp_rt *xdp)
{
	run->ld_data = xdp->data;
	run->ld_len = (size_t)(xdp->data_end - xdp->data);
	if (run->exec) {
		run->exec->packet = run->ld_data;
		run->exec->packet_len = run->ld_len;
	}
}

/* xdp_metalen_invalid: whole 32-bit words, at most what skb_shared_info's u8 meta_len holds */
static bool metalen_valid(uint32_t len)
{
	return len % 4 == 0 && len <= 255;
}

/* The receive queue ctx_in names must exist, as xdp_convert_md_to_buff asks of the device. */
static int check_rx_queue(uint32_t ifindex, uint32_t queue, struct sluice_error *err)
{
	char name[IF_NAMESIZE], path[128];

	if (!if_indextoname(ifindex, name))
		return sluice_fail(err, ENODEV, "ingress_ifindex %u: no such device", ifindex);
	snprintf(path, sizeof(path), "/sys/class/net/%s/queues/rx-%u", name, queue);
	if (access(path, F_OK) != 0)
		return sluice_fail(err, EINVAL, "rx_queue_index %u: %s has no such queue", queue,
				   name);
	return 0;
}

static int check_ctx_in(const struct xdp_md *md, uint32_t size, struct sluice_error *err)
{
	if (md->data_meta || md->data_end != size || md->data > md->data_end)
		return sluice_fail(err, EINVAL,
				   "ctx_in: data_meta must be 0, data_end the packet's size (%u) "
				   "and data at most data_end", size);
	if (!metalen_valid(md->data))
		return sluice_fail(err, EINVAL,
				   "ctx_in: %u bytes of metadata, a multiple of 4 up to 252 allowed",
				   md->data);
	if (md->egress_ifindex)
		return sluice_fail(err, EINVAL, "ctx_in: egress_ifindex must be 0");
	if (!md->ingress_ifindex && md->rx_queue_index)
		return sluice_fail(err, EINVAL, "ctx_in: rx_queue_index without ingress_ifindex");
	if (md->ingress_ifindex)
		return check_rx_queue(md->ingress_ifindex, md->rx_queue_index, err);
	return 0;
}

/* The bytes past the first page, a page a fragment, at most MAX_SKB_FRAGS of them. */
static int add_frags(struct xdp_rt *xdp, const uint8_t *data, uint32_t len,
		     struct sluice_error *err)
{
	uint32_t pages = (len + RT_XDP_FRAME_SIZE - 1) / RT_XDP_FRAME_SIZE;

	if (!len)
		return 0;
	if (pages > RT_XDP_MAX_FRAGS)
		return sluice_fail(err, ENOMEM, "%u bytes of fragments: more than %u pages", len,
				   RT_XDP_MAX_FRAGS);
	xdp->frags = calloc(pages, RT_XDP_FRAME_SIZE);
	if (!xdp->frags)
		return sluice_fail(err, ENOMEM, "out of memory");
	for (uint32_t i = 0; i < pages; i++) {
		uint32_t n = len - i * RT_XDP_FRAME_SIZE;

		xdp->frag_size[i] = n < RT_XDP_FRAME_SIZE ? n : RT_XDP_FRAME_SIZE;
		memcpy(xdp->frags + (size_t)i * RT_XDP_FRAME_SIZE, data + (size_t)i * RT_XDP_FRAME_SIZE,
		       xdp->frag_size[i]);
	}
	xdp->nr_frags = pages;
	xdp->frags_len = len;
	return 0;
}

int xdp_test_run(struct rt_run *run, struct sluice_test_run *t, struct sluice_error *err)
{
	uint32_t expected = rt_prog_expected_attach_type(run->prog);
	uint32_t headroom = RT_XDP_HEADROOM, metalen = 0, max_data, size = t->data_size_in;
	struct xdp_rt xdp = { 0 };
	uint32_t retval = 0, given_ifindex;
	bool have_ctx;
	int ret;

	if (expected == BPF_XDP_DEVMAP || expected == BPF_XDP_CPUMAP)
		return sluice_fail(err, EINVAL, "devmap and cpumap programs cannot be test-run");
	if (t->flags & BPF_F_TEST_XDP_LIVE_FRAMES)
		return sluice_fail(err, SLUICE_ENOTSUPP, "BPF_F_TEST_XDP_LIVE_FRAMES: not in Sluice");
	if (t->flags)
		return sluice_fail(err, EINVAL, "flags 0x%x: XDP takes BPF_F_TEST_XDP_LIVE_FRAMES only",
				   t->flags);
	ret = test_ctx_init(t, &xdp.md, sizeof(xdp.md), &have_ctx, err);
	if (ret < 0)
		return ret;
	if (have_ctx) {
		ret = check_ctx_in(&xdp.md, size, err);
		if (ret < 0)
			return ret;
		metalen = xdp.md.data;
	}
	/* the metadata sits in the headroom, so the packet starts where it always does */
	headroom -= metalen;
	max_data = RT_XDP_FRAME_SIZE - headroom - RT_XDP_TAILROOM;
	/* what does not fit the first page goes into fragments */
	if (size > max_data)
		size = max_data;
	if (size - metalen < ETH_HLEN)
		return sluice_fail(err, EINVAL,
				   "data_in: %u bytes after the metadata, less than an Ethernet header",
				   size - metalen);
	run->buf = calloc(1, RT_XDP_FRAME_SIZE);
	if (!run->buf)
		return sluice_fail(err, ENOMEM, "out of memory");
	run->buf_size = RT_XDP_FRAME_SIZE;
	memcpy(run->buf + headroom, t->data_in, size);
	ret = add_frags(&xdp, (const uint8_t *)t->data_in + size, t->data_size_in - size, err);
	if (ret < 0)
		goto out;
	xdp.data_hard_start = run->buf;
	xdp.frame_sz = RT_XDP_FRAME_SIZE;
	given_ifindex = xdp.md.ingress_ifindex;
	xdp.data_meta = run->buf + headroom;
	xdp.data = xdp.data_meta + metalen;
	xdp.data_end = xdp.data_meta + size;
	if (!xdp.md.ingress_ifindex)
		xdp.md.ingress_ifindex = LOOPBACK_IFINDEX;
	run->ctx = &xdp;
	run->ctx_size = sizeof(xdp);
	xdp_rt_sync(run, &xdp);

	ret = test_repeat(run, t, &retval, err);
	if (ret == 0) {
		/* ctx_out: the ifindex as the caller gave it, the data offsets from data_meta */
		struct xdp_md out = xdp.md;

		out.ingress_ifindex = given_ifindex;
		out.data = (uint32_t)(xdp.data - xdp.data_meta);
		out.data_end = (uint32_t)(xdp.data_end - xdp.data_meta);
		ret = test_finish(t, xdp.data_meta, (uint32_t)(xdp.data_end - xdp.data_meta),
				  &xdp, retval, err);
		if (ret == 0 && have_ctx)
			ret = test_ctx_finish(t, &out, sizeof(out), err);
	}
out:
	free(xdp.frags);
	free(run->buf);
	run->buf = NULL;
	run->ctx = NULL;
	return ret;
}
