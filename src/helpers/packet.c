/* SPDX-License-Identifier: MIT */
/*
 * The packet helpers of XDP and socket-buffer programs, as net/core/filter.c
 * runs them on a BPF_PROG_TEST_RUN packet: received, not offloaded, so its
 * checksum state is CHECKSUM_NONE (the csum helpers change only the packet,
 * never skb->csum) and it has no hardware VLAN tag until the program pushes
 * one.
 *
 * The context argument is the run's context: anything else (an unverified
 * program's stray pointer) gets -EINVAL, as a map argument does.
 */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <string.h>

#include <arpa/inet.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>

#include <sluice/maps.h>

#include "helpers/impl.h"
#include "progtypes/progtypes.h"

/* sizeof(struct xdp_frame), kept at the frame's start: adjust_head and adjust_meta stop there */
#define XDP_FRAME_HDR 40
/* skb_shared_info's u8 meta_len bounds the metadata */
#define XDP_META_MAX 255
#define VLAN_HLEN 4
/* the kernel's CSUM_MANGLED_0: a UDP checksum of zero sent as all ones */
#define CSUM_MANGLED_0 0xffff

/* ---- ones' complement arithmetic, as include/net/checksum.h --------------- */

static uint32_t csum_add(uint32_t sum, uint32_t addend)
{
	sum += addend;
	return sum + (sum < addend);
}

static uint32_t csum_sub(uint32_t sum, uint32_t addend)
{
	return csum_add(sum, ~addend);
}

/* The 16-bit sum, not complemented (csum_from32to16). */
static uint16_t csum_from32to16(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	return (uint16_t)~csum_from32to16(sum);
}

/*
 * csum_partial: the 32-bit ones' complement sum of len bytes read as
 * little-endian words, a short tail zero-extended, plus seed.  Zero only
 * when everything added is zero, as the x86 code the kernel runs.
 */
static uint32_t csum_partial(const uint8_t *buf, size_t len, uint32_t seed)
{
	uint64_t sum = seed;
	size_t i = 0;

	for (; i + 4 <= len; i += 4) {
		uint32_t word;

		memcpy(&word, buf + i, 4);
		sum += word;
	}
	if (i < len) {
		uint32_t word = 0;

		memcpy(&word, buf + i, len - i);
		sum += word;
	}
	/* fold 64 to 32 bits with end-around carry: at most 2^32 words, so twice is enough */
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffffffu) + (sum >> 32);
	return (uint32_t)sum;
}

static uint16_t load16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static void store16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

/* csum_replace4: a 32-bit field of the summed data changed from `from` to `to`. */
static void csum_replace4(uint8_t *field, uint32_t from, uint32_t to)
{
	uint32_t tmp = csum_sub(~(uint32_t)load16(field), from);

	store16(field, csum_fold(csum_add(tmp, to)));
}

static uint16_t csum16_add(uint16_t sum, uint16_t addend)
{
	uint16_t res = (uint16_t)(sum + addend);

	return (uint16_t)(res + (res < addend));
}

/* csum_replace2: as csum_replace4, for a 16-bit field, in 16-bit arithmetic. */
static void csum_replace2(uint8_t *field, uint16_t from, uint16_t to)
{
	uint16_t sum = load16(field);

	store16(field, (uint16_t)~csum16_add(csum16_add((uint16_t)~sum, (uint16_t)~from), to));
}

/* csum_replace_by_diff: the summed data changed by diff (a csum_diff result). */
static void csum_replace_by_diff(uint8_t *field, uint32_t diff)
{
	store16(field, csum_fold(csum_add(diff, ~(uint32_t)load16(field))));
}

/* ---- the context argument ---------------------------------------------------- */

static struct xdp_rt *helper_xdp(struct sluice_run *run, uint64_t ctx)
{
	struct rt_run *r = helper_run(run);

	if (rt_prog_type(r->prog) != BPF_PROG_TYPE_XDP || (void *)(uintptr_t)ctx != r->ctx)
		return NULL;
	return r->ctx;
}

static bool is_skb_type(uint32_t type)
{
	return type == BPF_PROG_TYPE_SCHED_CLS || type == BPF_PROG_TYPE_SCHED_ACT ||
	       type == BPF_PROG_TYPE_SOCKET_FILTER || type == BPF_PROG_TYPE_CGROUP_SKB;
}

static struct skb_rt *helper_skb(struct sluice_run *run, uint64_t ctx)
{
	struct rt_run *r = helper_run(run);

	if (!is_skb_type(rt_prog_type(r->prog)) || (void *)(uintptr_t)ctx != r->ctx)
		return NULL;
	return r->ctx;
}

static uint32_t skb_len(const struct skb_rt *skb)
{
	return (uint32_t)(skb->tail - skb->data);
}

/* ---- XDP ---------------------------------------------------------------------- */

static uint64_t xdp_adjust_head(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				uint64_t r5, struct sluice_run *run)
{
	struct xdp_rt *xdp = helper_xdp(run, r1);
	int32_t offset = (int32_t)r2;
	size_t metalen;
	uint8_t *data;

	(void)r3, (void)r4, (void)r5;
	if (!xdp)
		return helper_result(-EINVAL);
	metalen = (size_t)(xdp->data - xdp->data_meta);
	data = xdp->data + offset;
	if (data < xdp->data_hard_start + XDP_FRAME_HDR + metalen || data > xdp->data_end - ETH_HLEN)
		return helper_result(-EINVAL);
	if (metalen)
		memmove(xdp->data_meta + offset, xdp->data_meta, metalen);
	xdp->data_meta += offset;
	xdp->data = data;
	xdp_rt_sync(helper_run(run), xdp);
	return 0;
}

static uint64_t xdp_adjust_meta(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				uint64_t r5, struct sluice_run *run)
{
	struct xdp_rt *xdp = helper_xdp(run, r1);
	uint8_t *meta;
	size_t metalen;

	(void)r3, (void)r4, (void)r5;
	if (!xdp)
		return helper_result(-EINVAL);
	meta = xdp->data_meta + (int32_t)r2;
	if (meta < xdp->data_hard_start + XDP_FRAME_HDR || meta > xdp->data)
		return helper_result(-EINVAL);
	metalen = (size_t)(xdp->data - meta);
	if (metalen % 4 || metalen > XDP_META_MAX)
		return helper_result(-EACCES);
	xdp->data_meta = meta;
	return 0;
}

/* bpf_xdp_frags_increase_tail: the last fragment grows into its page. */
static long frags_increase_tail(struct xdp_rt *xdp, uint32_t offset)
{
	uint32_t last = xdp->nr_frags - 1;

	if (offset > RT_XDP_FRAME_SIZE - xdp->frag_size[last])
		return -EINVAL;
	memset(xdp->frags + (size_t)last * RT_XDP_FRAME_SIZE + xdp->frag_size[last], 0, offset);
	xdp->frag_size[last] += offset;
	xdp->frags_len += offset;
	return 0;
}

/* bpf_xdp_frags_shrink_tail: fragments go from the last; past them, the first page shrinks. */
static long frags_shrink_tail(struct xdp_rt *xdp, uint32_t offset)
{
	if (offset > (uint32_t)(xdp->data_end - xdp->data) + xdp->frags_len - ETH_HLEN)
		return -EINVAL;
	while (xdp->nr_frags && offset) {
		uint32_t *size = &xdp->frag_size[xdp->nr_frags - 1];
		uint32_t cut = offset < *size ? offset : *size;

		*size -= cut;
		xdp->frags_len -= cut;
		offset -= cut;
		if (!*size)
			xdp->nr_frags--;
	}
	if (!xdp->nr_frags)
		xdp->data_end -= offset;
	return 0;
}

static uint64_t xdp_adjust_tail(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				uint64_t r5, struct sluice_run *run)
{
	struct xdp_rt *xdp = helper_xdp(run, r1);
	int32_t offset = (int32_t)r2;
	uint8_t *data_end;
	long ret;

	(void)r3, (void)r4, (void)r5;
	if (!xdp)
		return helper_result(-EINVAL);
	if (xdp->nr_frags) {
		ret = offset < 0 ? frags_shrink_tail(xdp, -(uint32_t)offset)
				 : frags_increase_tail(xdp, (uint32_t)offset);
		xdp_rt_sync(helper_run(run), xdp);
		return helper_result(ret);
	}
	data_end = xdp->data_end + offset;
	/* the frame's last bytes are skb_shared_info's */
	if (data_end > xdp->data_hard_start + xdp->frame_sz - RT_XDP_TAILROOM ||
	    data_end < xdp->data + ETH_HLEN)
		return helper_result(-EINVAL);
	/* what grows in may hold what an earlier shrink left there: zero it */
	if (offset > 0)
		memset(xdp->data_end, 0, (size_t)offset);
	xdp->data_end = data_end;
	xdp_rt_sync(helper_run(run), xdp);
	return 0;
}

static uint64_t xdp_get_buff_len(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				 uint64_t r5, struct sluice_run *run)
{
	struct xdp_rt *xdp = helper_xdp(run, r1);

	(void)r2, (void)r3, (void)r4, (void)r5;
	if (!xdp)
		return helper_result(-EINVAL);
	return (uint64_t)(xdp->data_end - xdp->data) + xdp->frags_len;
}

/*
 * bpf_xdp_load_bytes and bpf_xdp_store_bytes: len bytes at offset in the
 * frame, its first page and then its fragments, copied to or from buf.
 */
static long xdp_copy(struct xdp_rt *xdp, uint32_t offset, uint8_t *buf, uint32_t len, bool store)
{
	uint32_t linear = (uint32_t)(xdp->data_end - xdp->data);

	if (offset > 0xffff || len > 0xffff)
		return -EFAULT;
	if ((uint64_t)offset + len > (uint64_t)linear + xdp->frags_len)
		return -EINVAL;
	for (uint32_t i = 0; len; i++) {
		uint8_t *part = i ? xdp->frags + (size_t)(i - 1) * RT_XDP_FRAME_SIZE : xdp->data;
		uint32_t size = i ? xdp->frag_size[i - 1] : linear, n;

		if (offset >= size) {
			offset -= size;
			continue;
		}
		n = len < size - offset ? len : size - offset;
		if (store)
			memmove(part + offset, buf, n);
		else
			memmove(buf, part + offset, n);
		buf += n;
		len -= n;
		offset = 0;
	}
	return 0;
}

/* bpf_xdp_load_bytes / bpf_xdp_store_bytes(xdp, offset, buf, len): through the fragments too. */
static uint64_t xdp_bytes(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
			  struct sluice_run *run, bool store)
{
	struct xdp_rt *xdp = helper_xdp(run, r1);

	if (!xdp)
		return helper_result(-EINVAL);
	return helper_result(xdp_copy(xdp, (uint32_t)r2, (uint8_t *)(uintptr_t)r3, (uint32_t)r4,
				      store));
}

static uint64_t xdp_load_bytes(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
			       uint64_t r5, struct sluice_run *run)
{
	(void)r5;
	return xdp_bytes(r1, r2, r3, r4, run, false);
}

static uint64_t xdp_store_bytes(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				uint64_t r5, struct sluice_run *run)
{
	(void)r5;
	return xdp_bytes(r1, r2, r3, r4, run, true);
}

/* ---- reading and writing a socket buffer ------------------------------------- */

static uint64_t skb_load_bytes(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
			       uint64_t r5, struct sluice_run *run)
{
	struct skb_rt *skb = helper_skb(run, r1);
	uint32_t offset = (uint32_t)r2, len = (uint32_t)r4;
	void *to = (void *)(uintptr_t)r3;

	(void)r5;
	if (skb && offset <= INT_MAX && (uint64_t)offset + len <= skb_len(skb)) {
		memcpy(to, skb->data + offset, len);
		return 0;
	}
	memset(to, 0, len);
	return helper_result(-EFAULT);
}

static uint64_t skb_load_bytes_relative(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
					uint64_t r5, struct sluice_run *run)
{
	struct skb_rt *skb = helper_skb(run, r1);
	uint32_t offset = (uint32_t)r2, len = (uint32_t)r4;
	void *to = (void *)(uintptr_t)r3;
	const uint8_t *start = NULL;

	if (skb && offset <= 0xffff) {
		if (r5 == BPF_HDR_START_MAC)
			start = skb->mac_header;
		else if (r5 == BPF_HDR_START_NET)
			start = skb->network_header;
	}
	if (start && start + offset + len <= skb->tail) {
		memcpy(to, start + offset, len);
		return 0;
	}
	memset(to, 0, len);
	return helper_result(-EFAULT);
}

static uint64_t skb_store_bytes(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				uint64_t r5, struct sluice_run *run)
{
	struct skb_rt *skb = helper_skb(run, r1);
	uint32_t offset = (uint32_t)r2, len = (uint32_t)r4;

	if (!skb || (r5 & ~(uint64_t)(BPF_F_RECOMPUTE_CSUM | BPF_F_INVALIDATE_HASH)))
		return helper_result(-EINVAL);
	if (offset > INT_MAX || (uint64_t)offset + len > skb_len(skb))
		return helper_result(-EFAULT);
	/* BPF_F_RECOMPUTE_CSUM updates skb->csum only under CHECKSUM_COMPLETE */
	memmove(skb->data + offset, (const void *)(uintptr_t)r3, len);
	if (r5 & BPF_F_INVALIDATE_HASH)
		skb->md.hash = 0;
	return 0;
}

/* The checksum field at offset for l3/l4_csum_replace, NULL with *ret set when refused. */
static uint8_t *csum_field(struct skb_rt *skb, uint32_t offset, long *ret)
{
	if (offset > 0xffff || offset & 1) {
		*ret = -EFAULT;
		return NULL;
	}
	if ((uint64_t)offset + 2 > skb_len(skb)) {
		*ret = -EFAULT;
		return NULL;
	}
	return skb->data + offset;
}

/*
 * The change both checksum helpers make, by the size in their flags: 0
 * folds in a precomputed difference (from must be 0), 2 and 4 replace from
 * by to.  The L4 one widens a 2-byte change to 4 bytes, as the kernel's
 * inet_proto_csum_replace2 does.  0, or -EINVAL.
 */
static long csum_change(uint8_t *field, uint64_t size, uint64_t from, uint64_t to, bool l4)
{
	switch (size) {
	case 0:
		if (from)
			return -EINVAL;
		csum_replace_by_diff(field, (uint32_t)to);
		return 0;
	case 2:
		if (l4)
			csum_replace4(field, (uint16_t)from, (uint16_t)to);
		else
			csum_replace2(field, (uint16_t)from, (uint16_t)to);
		return 0;
	case 4:
		csum_replace4(field, (uint32_t)from, (uint32_t)to);
		return 0;
	default:
		return -EINVAL;
	}
}

static uint64_t l3_csum_replace(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				uint64_t r5, struct sluice_run *run)
{
	struct skb_rt *skb = helper_skb(run, r1);
	uint8_t *field;
	long ret = 0;

	if (!skb || (r5 & ~(uint64_t)BPF_F_HDR_FIELD_MASK))
		return helper_result(-EINVAL);
	field = csum_field(skb, (uint32_t)r2, &ret);
	if (!field)
		return helper_result(ret);
	return helper_result(csum_change(field, r5 & BPF_F_HDR_FIELD_MASK, r3, r4, false));
}

static uint64_t l4_csum_replace(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				uint64_t r5, struct sluice_run *run)
{
	const uint64_t known = BPF_F_MARK_MANGLED_0 | BPF_F_MARK_ENFORCE | BPF_F_PSEUDO_HDR |
			       BPF_F_HDR_FIELD_MASK | BPF_F_IPV6;
	struct skb_rt *skb = helper_skb(run, r1);
	bool mangled_0 = r5 & BPF_F_MARK_MANGLED_0;
	uint8_t *field;
	long ret = 0;

	if (!skb || (r5 & ~known))
		return helper_result(-EINVAL);
	field = csum_field(skb, (uint32_t)r2, &ret);
	if (!field)
		return helper_result(ret);
	/* a UDP datagram sent without a checksum keeps none */
	if (mangled_0 && !(r5 & BPF_F_MARK_ENFORCE) && !load16(field))
		return 0;
	/* BPF_F_PSEUDO_HDR and BPF_F_IPV6 matter only to skb->csum, not kept here */
	ret = csum_change(field, r5 & BPF_F_HDR_FIELD_MASK, r3, r4, true);
	if (ret)
		return helper_result(ret);
	if (mangled_0 && !load16(field))
		store16(field, CSUM_MANGLED_0);
	return 0;
}

static uint64_t csum_diff(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
			  uint64_t r5, struct sluice_run *run)
{
	const uint8_t *from = (const uint8_t *)(uintptr_t)r1, *to = (const uint8_t *)(uintptr_t)r3;
	uint32_t from_size = (uint32_t)r2, to_size = (uint32_t)r4, sum = (uint32_t)r5;

	(void)run;
	if (from_size && to_size)
		sum = csum_sub(csum_partial(to, to_size, sum), csum_partial(from, from_size, 0));
	else if (to_size)
		sum = csum_partial(to, to_size, sum);
	else if (from_size)
		sum = ~csum_partial(from, from_size, ~sum);
	return csum_from32to16(sum);
}

static uint64_t csum_update(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
			    uint64_t r5, struct sluice_run *run)
{
	(void)r2, (void)r3, (void)r4, (void)r5;
	if (!helper_skb(run, r1))
		return helper_result(-EINVAL);
	/* only a CHECKSUM_COMPLETE packet carries a sum to update */
	return helper_result(-SLUICE_ENOTSUPP);
}

/* ---- changing a socket buffer's length ----------------------------------------- */

static uint64_t skb_change_tail(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				uint64_t r5, struct sluice_run *run)
{
	struct skb_rt *skb = helper_skb(run, r1);
	uint32_t new_len = (uint32_t)r2;
	long ret = 0;

	(void)r4, (void)r5;
	if (!skb)
		return helper_result(-EINVAL);
	/* the network header must stay inside the packet */
	if (r3 || new_len > skb->max_len ||
	    (skb->network_header > skb->data && new_len < (uint32_t)(skb->network_header - skb->data)))
		ret = -EINVAL;
	else if (skb->data + new_len > skb->end)
		ret = -ENOMEM;
	else
		skb->tail = skb->data + new_len;
	skb_rt_sync(helper_run(run), skb);
	return helper_result(ret);
}

static uint64_t skb_change_head(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				uint64_t r5, struct sluice_run *run)
{
	struct skb_rt *skb = helper_skb(run, r1);
	uint32_t head_room = (uint32_t)r2, new_len;

	(void)r4, (void)r5;
	if (!skb)
		return helper_result(-EINVAL);
	new_len = skb_len(skb) + head_room;
	if (r3 || new_len > skb->max_len || new_len < skb_len(skb))
		return helper_result(-EINVAL);
	if (head_room > (size_t)(skb->data - skb->head))
		return helper_result(-ENOMEM);
	skb->data -= head_room;
	memset(skb->data, 0, head_room);
	skb->mac_header = skb->data;
	skb_rt_sync(helper_run(run), skb);
	return 0;
}

static uint64_t skb_pull_data(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
			      uint64_t r5, struct sluice_run *run)
{
	struct skb_rt *skb = helper_skb(run, r1);

	(void)r3, (void)r4, (void)r5;
	if (!skb)
		return helper_result(-EINVAL);
	/* the packet is linear: all of it is readable and writable already */
	skb_rt_sync(helper_run(run), skb);
	return (uint32_t)r2 > skb_len(skb) ? helper_result(-ENOMEM) : 0;
}

/*
 * bpf_skb_adjust_room: room made or taken after the MAC header
 * (BPF_ADJ_ROOM_MAC) or after the network header's base length
 * (BPF_ADJ_ROOM_NET), with the ENCAP flags marking the new room as an
 * outer header and the DECAP flags (Linux 6.6, newer than the installed
 * UAPI header) naming the protocol left once one is removed.
 */
#define ADJ_ROOM_DECAP_L3_IPV4 (1ULL << 7)
#define ADJ_ROOM_DECAP_L3_IPV6 (1ULL << 8)
#define ADJ_ROOM_ENCAP_L3 (BPF_F_ADJ_ROOM_ENCAP_L3_IPV4 | BPF_F_ADJ_ROOM_ENCAP_L3_IPV6)
#define ADJ_ROOM_DECAP_L3 (ADJ_ROOM_DECAP_L3_IPV4 | ADJ_ROOM_DECAP_L3_IPV6)
#define ADJ_ROOM_FLAGS (BPF_F_ADJ_ROOM_FIXED_GSO | ADJ_ROOM_ENCAP_L3 |                  \
			BPF_F_ADJ_ROOM_ENCAP_L4_GRE | BPF_F_ADJ_ROOM_ENCAP_L4_UDP |          \
			BPF_F_ADJ_ROOM_ENCAP_L2_ETH |                                         \
			BPF_F_ADJ_ROOM_ENCAP_L2(BPF_ADJ_ROOM_ENCAP_L2_MASK) | ADJ_ROOM_DECAP_L3)
/* the most bpf_skb_adjust_room grows a packet to: SKB_MAX_ALLOC */
#define ADJ_ROOM_MAX_LEN (16384u - 320u)

/* bpf_skb_net_base_len: the network header without options, ~0 for other protocols. */
static uint32_t net_base_len(const struct skb_rt *skb)
{
	if (skb->md.protocol == htons(ETH_P_IP))
		return 20;
	return skb->md.protocol == htons(ETH_P_IPV6) ? 40 : UINT32_MAX;
}

/* bpf_skb_net_grow: len zero bytes at off, the headers from the MAC header on moved back. */
static long adjust_room_grow(struct skb_rt *skb, uint32_t off, uint32_t len, uint64_t flags)
{
	uint32_t inner_mac_len = (uint32_t)(flags >> BPF_ADJ_ROOM_ENCAP_L2_SHIFT);
	bool encap = flags & ADJ_ROOM_ENCAP_L3;
	size_t mac_len = (size_t)(skb->network_header - skb->mac_header);

	if (encap) {
		if ((flags & ADJ_ROOM_ENCAP_L3) == ADJ_ROOM_ENCAP_L3 ||
		    ((flags & BPF_F_ADJ_ROOM_ENCAP_L4_GRE) && (flags & BPF_F_ADJ_ROOM_ENCAP_L4_UDP)) ||
		    ((flags & BPF_F_ADJ_ROOM_ENCAP_L2_ETH) && inner_mac_len < ETH_HLEN))
			return -EINVAL;
		if (skb->encapsulated)
			return -EALREADY;
		if (inner_mac_len > len)
			return -EINVAL;
	}
	if (len > (size_t)(skb->data - skb->head))
		return -ENOMEM;
	skb->data -= len;
	memmove(skb->data, skb->data + len, off);
	memset(skb->data + off, 0, len);
	skb->mac_header -= len;
	skb->network_header -= len;
	if (encap) {
		skb->encapsulated = true;
		skb->network_header = skb->data + mac_len;
		/* the outer header's protocol becomes the packet's */
		if (skb->md.protocol == htons(ETH_P_IP) && (flags & BPF_F_ADJ_ROOM_ENCAP_L3_IPV6))
			skb->md.protocol = htons(ETH_P_IPV6);
		else if (skb->md.protocol == htons(ETH_P_IPV6) &&
			 (flags & BPF_F_ADJ_ROOM_ENCAP_L3_IPV4))
			skb->md.protocol = htons(ETH_P_IP);
	}
	return 0;
}

/* bpf_skb_net_shrink: len bytes at off taken out. */
static long adjust_room_shrink(struct skb_rt *skb, uint32_t off, uint32_t len, uint64_t flags)
{
	if (flags & ~(uint64_t)(BPF_F_ADJ_ROOM_FIXED_GSO | ADJ_ROOM_DECAP_L3 |
				BPF_F_ADJ_ROOM_NO_CSUM_RESET))
		return -EINVAL;
	if ((uint64_t)off + len > skb_len(skb))
		return -ENOMEM;
	memmove(skb->data + len, skb->data, off);
	skb->data += len;
	skb->mac_header += len;
	skb->network_header += len;
	if (skb->md.protocol == htons(ETH_P_IP) && (flags & ADJ_ROOM_DECAP_L3_IPV6))
		skb->md.protocol = htons(ETH_P_IPV6);
	else if (skb->md.protocol == htons(ETH_P_IPV6) && (flags & ADJ_ROOM_DECAP_L3_IPV4))
		skb->md.protocol = htons(ETH_P_IP);
	return 0;
}

static uint64_t skb_adjust_room(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				uint64_t r5, struct sluice_run *run)
{
	struct skb_rt *skb = helper_skb(run, r1);
	int32_t diff = (int32_t)r2;
	uint32_t diff_abs = diff < 0 ? -(uint32_t)diff : (uint32_t)diff, len_min, len_cur, off;
	bool shrink = diff < 0;
	long ret;

	(void)r5;
	if (!skb || (r4 & ~(uint64_t)(ADJ_ROOM_FLAGS | BPF_F_ADJ_ROOM_NO_CSUM_RESET)))
		return helper_result(-EINVAL);
	if (diff_abs > 0xfff)
		return helper_result(-EFAULT);
	len_min = net_base_len(skb);
	if (len_min == UINT32_MAX)
		return helper_result(-SLUICE_ENOTSUPP);
	off = (uint32_t)(skb->network_header - skb->mac_header);
	if (r3 == BPF_ADJ_ROOM_NET)
		off += len_min;
	else if (r3 != BPF_ADJ_ROOM_MAC)
		return helper_result(-SLUICE_ENOTSUPP);
	if (r4 & ADJ_ROOM_DECAP_L3) {
		if (!shrink || (r4 & ADJ_ROOM_DECAP_L3) == ADJ_ROOM_DECAP_L3)
			return helper_result(-EINVAL);
		len_min = r4 & ADJ_ROOM_DECAP_L3_IPV4 ? 20 : 40;
	}
	len_cur = skb_len(skb) - (uint32_t)(skb->network_header - skb->data);
	if ((shrink && (diff_abs >= len_cur || len_cur - diff_abs < len_min)) ||
	    (!shrink && skb_len(skb) + diff_abs > ADJ_ROOM_MAX_LEN))
		return helper_result(-SLUICE_ENOTSUPP);
	ret = shrink ? adjust_room_shrink(skb, off, diff_abs, r4)
		     : adjust_room_grow(skb, off, diff_abs, r4);
	skb_rt_sync(helper_run(run), skb);
	return helper_result(ret);
}

/* ---- VLAN tags ---------------------------------------------------------------- */

static bool eth_type_vlan(uint16_t proto_be)
{
	return proto_be == htons(ETH_P_8021Q) || proto_be == htons(ETH_P_8021AD);
}

/* Put the hardware-accelerated tag into the packet: __vlan_insert_tag. */
static long vlan_insert_tag(struct skb_rt *skb, uint16_t proto_be, uint16_t tci)
{
	uint16_t tci_be = htons(tci);

	if (skb->data != skb->mac_header)
		return -EINVAL;
	if (skb->data - skb->head < VLAN_HLEN)
		return -ENOMEM;
	skb->data -= VLAN_HLEN;
	memmove(skb->data, skb->data + VLAN_HLEN, 2 * ETH_ALEN);
	skb->mac_header -= VLAN_HLEN;
	memcpy(skb->data + 2 * ETH_ALEN, &proto_be, 2);
	memcpy(skb->data + 2 * ETH_ALEN + 2, &tci_be, 2);
	return 0;
}

/* Take the packet's outer tag out: __skb_vlan_pop; its TCI in *tci. */
static long vlan_remove_tag(struct skb_rt *skb, uint16_t *tci)
{
	uint16_t tci_be, inner;

	if (skb->data != skb->mac_header)
		return -EINVAL;
	if (skb_len(skb) < ETH_HLEN + VLAN_HLEN)
		return -ENOMEM;
	memcpy(&tci_be, skb->data + ETH_HLEN, 2);
	memcpy(&inner, skb->data + ETH_HLEN + 2, 2);
	*tci = ntohs(tci_be);
	memmove(skb->data + VLAN_HLEN, skb->data, 2 * ETH_ALEN);
	skb->data += VLAN_HLEN;
	skb->mac_header += VLAN_HLEN;
	if (ntohs(inner) >= ETH_P_802_3_MIN)
		skb->md.protocol = inner;
	else if (skb_len(skb) >= ETH_HLEN + 2 && skb->data[ETH_HLEN] == 0xff &&
		 skb->data[ETH_HLEN + 1] == 0xff)
		skb->md.protocol = htons(ETH_P_802_3);
	else
		skb->md.protocol = htons(ETH_P_802_2);
	if (skb->network_header - skb->data < ETH_HLEN)
		skb->network_header = skb->data + ETH_HLEN;
	return 0;
}

static void vlan_put_hw_tag(struct skb_rt *skb, uint16_t proto_be, uint16_t tci)
{
	skb->md.vlan_present = 1;
	skb->md.vlan_proto = proto_be;
	skb->md.vlan_tci = tci;
}

static uint64_t skb_vlan_push(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
			      uint64_t r5, struct sluice_run *run)
{
	struct skb_rt *skb = helper_skb(run, r1);
	uint16_t proto_be = (uint16_t)r2;
	long ret = 0;

	(void)r4, (void)r5;
	if (!skb)
		return helper_result(-EINVAL);
	if (!eth_type_vlan(proto_be))
		proto_be = htons(ETH_P_8021Q);
	/* a second tag pushes the first into the packet */
	if (skb->md.vlan_present) {
		ret = vlan_insert_tag(skb, (uint16_t)skb->md.vlan_proto, (uint16_t)skb->md.vlan_tci);
		if (ret == 0)
			skb->md.protocol = skb->md.vlan_proto;
	}
	if (ret == 0)
		vlan_put_hw_tag(skb, proto_be, (uint16_t)r3);
	skb_rt_sync(helper_run(run), skb);
	return helper_result(ret);
}

static uint64_t skb_vlan_pop(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
			     uint64_t r5, struct sluice_run *run)
{
	struct skb_rt *skb = helper_skb(run, r1);
	uint16_t tci, proto_be;
	long ret = 0;

	(void)r2, (void)r3, (void)r4, (void)r5;
	if (!skb)
		return helper_result(-EINVAL);
	if (skb->md.vlan_present) {
		skb->md.vlan_present = skb->md.vlan_proto = skb->md.vlan_tci = 0;
	} else if (eth_type_vlan((uint16_t)skb->md.protocol)) {
		ret = vlan_remove_tag(skb, &tci);
	} else {
		skb_rt_sync(helper_run(run), skb);
		return 0;
	}
	/* the next tag in the packet becomes the hardware tag */
	if (ret == 0 && eth_type_vlan((uint16_t)skb->md.protocol)) {
		proto_be = (uint16_t)skb->md.protocol;
		ret = vlan_remove_tag(skb, &tci);
		if (ret == 0)
			vlan_put_hw_tag(skb, proto_be, tci);
	}
	skb_rt_sync(helper_run(run), skb);
	return helper_result(ret);
}

/* ---- redirects ------------------------------------------------------------------ */

/* Where the packet goes once the program returns: what a test run reports. */
static uint64_t redirect_to(struct rt_run *r, uint64_t ifindex, uint64_t flags, uint64_t verdict)
{
	r->redirect_ifindex = (uint32_t)ifindex;
	r->redirect_flags = flags;
	return verdict;
}

static uint64_t redirect(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
			 uint64_t r5, struct sluice_run *run)
{
	struct rt_run *r = helper_run(run);

	(void)r3, (void)r4, (void)r5;
	if (rt_prog_type(r->prog) == BPF_PROG_TYPE_XDP) {
		if (r2)
			return XDP_ABORTED;
		return redirect_to(r, r1, 0, XDP_REDIRECT);
	}
	if (r2 & ~(uint64_t)BPF_F_INGRESS)
		return TC_ACT_SHOT;
	return redirect_to(r, r1, r2, TC_ACT_REDIRECT);
}

/*
 * bpf_redirect_neigh: out of ifindex with the neighbour (or the route's
 * next hop in params) resolving the MAC addresses; a test run reports only
 * where the packet went.
 */
static uint64_t redirect_neigh(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
			       uint64_t r5, struct sluice_run *run)
{
	struct rt_run *r = helper_run(run);

	(void)r5;
	if (r4 || (r2 && r3 != sizeof(struct bpf_redir_neigh)))
		return TC_ACT_SHOT;
	return redirect_to(r, r1, 0, TC_ACT_REDIRECT);
}

/* bpf_redirect_peer: into the other end of a veth pair, on its ingress side. */
static uint64_t redirect_peer(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
			      uint64_t r5, struct sluice_run *run)
{
	struct rt_run *r = helper_run(run);

	(void)r3, (void)r4, (void)r5;
	if (r2)
		return TC_ACT_SHOT;
	return redirect_to(r, r1, BPF_F_INGRESS, TC_ACT_REDIRECT);
}

static uint64_t clone_redirect(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
			       uint64_t r5, struct sluice_run *run)
{
	struct skb_rt *skb = helper_skb(run, r1);
	char name[IF_NAMESIZE];

	(void)r4, (void)r5;
	if (!skb || (r3 & ~(uint64_t)BPF_F_INGRESS))
		return helper_result(-EINVAL);
	/* ctx_in's gso_size without a GSO type is a malformed offload */
	if (skb->md.gso_size)
		return helper_result(-EBADMSG);
	if (!if_indextoname((unsigned)r2, name))
		return helper_result(-EINVAL);
	/* the clone leaves; the packet the program holds goes on unchanged */
	return redirect_to(helper_run(run), r2, r3, 0);
}

static uint64_t redirect_map(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
			     uint64_t r5, struct sluice_run *run)
{
	const uint64_t actions = XDP_ABORTED | XDP_DROP | XDP_PASS | XDP_TX;
	struct sluice_map *map = helper_map(run, r1);
	struct rt_run *r = helper_run(run);
	struct sluice_map_info info;
	uint64_t allowed = actions;
	uint32_t key = (uint32_t)r2;
	const uint32_t *target;

	(void)r4, (void)r5;
	if (!map)
		return XDP_ABORTED;
	sluice_map_get_info(map, &info);
	if (info.type == BPF_MAP_TYPE_DEVMAP || info.type == BPF_MAP_TYPE_DEVMAP_HASH)
		allowed |= BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS;
	else if (info.type != BPF_MAP_TYPE_CPUMAP && info.type != BPF_MAP_TYPE_XSKMAP)
		return XDP_ABORTED;
	/* the flags' low bits are the action when the key has no entry */
	if (r3 & ~allowed)
		return XDP_ABORTED;
	target = r2 > UINT32_MAX ? NULL : sluice_map_elem_lookup(map, &key, r->cpu);
	if (!target && !(r3 & BPF_F_BROADCAST))
		return r3 & actions;
	/* a device map's value starts with the target's ifindex */
	return redirect_to(r,
			   target && info.type != BPF_MAP_TYPE_CPUMAP &&
					   info.type != BPF_MAP_TYPE_XSKMAP ? *target : 0,
			   r3 & BPF_F_BROADCAST ? r3 : 0, XDP_REDIRECT);
}

static const struct helper_impl packet_impls[] = {
	{ BPF_FUNC_xdp_adjust_head, xdp_adjust_head },
	{ BPF_FUNC_xdp_adjust_meta, xdp_adjust_meta },
	{ BPF_FUNC_xdp_adjust_tail, xdp_adjust_tail },
	{ BPF_FUNC_xdp_get_buff_len, xdp_get_buff_len },
	{ BPF_FUNC_xdp_load_bytes, xdp_load_bytes },
	{ BPF_FUNC_xdp_store_bytes, xdp_store_bytes },
	{ BPF_FUNC_skb_load_bytes, skb_load_bytes },
	{ BPF_FUNC_skb_load_bytes_relative, skb_load_bytes_relative },
	{ BPF_FUNC_skb_store_bytes, skb_store_bytes },
	{ BPF_FUNC_l3_csum_replace, l3_csum_replace },
	{ BPF_FUNC_l4_csum_replace, l4_csum_replace },
	{ BPF_FUNC_csum_diff, csum_diff },
	{ BPF_FUNC_csum_update, csum_update },
	{ BPF_FUNC_skb_change_tail, skb_change_tail },
	{ BPF_FUNC_skb_change_head, skb_change_head },
	{ BPF_FUNC_skb_pull_data, skb_pull_data },
	{ BPF_FUNC_skb_adjust_room, skb_adjust_room },
	{ BPF_FUNC_skb_vlan_push, skb_vlan_push },
	{ BPF_FUNC_skb_vlan_pop, skb_vlan_pop },
	{ BPF_FUNC_redirect, redirect },
	{ BPF_FUNC_clone_redirect, clone_redirect },
	{ BPF_FUNC_redirect_neigh, redirect_neigh },
	{ BPF_FUNC_redirect_peer, redirect_peer },
	{ BPF_FUNC_redirect_map, redirect_map },
};

const struct helper_family helpers_packet = {
	.impls = packet_impls,
	.count = sizeof(packet_impls) / sizeof(packet_impls[0]),
};
