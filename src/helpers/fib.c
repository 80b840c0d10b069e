/* SPDX-License-Identifier: MIT */
/*
 * bpf_fib_lookup against the routes given with sluice_rt_add_route, one
 * table, longest prefix first.  The results are the kernel's
 * (bpf_ipv4_fib_lookup, bpf_ipv6_fib_lookup): on success the egress
 * ifindex, the next hop (the gateway when the route has one) in the
 * destination, the route's MTU in mtu_result and the Ethernet addresses;
 * BPF_FIB_LKUP_RET_* otherwise.  A route's neighbour is known when its
 * destination MAC is set; the ingress device (which must exist, as in
 * the kernel: -ENODEV) always forwards.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/socket.h>

#include <linux/bpf.h>
#include <linux/if_ether.h>

#include "errmsg.h"
#include "helpers/fib.h"
#include "helpers/impl.h"
#include "progtypes/progtypes.h"

/* BPF_FIB_LOOKUP_MARK (Linux 6.10), newer than the installed UAPI header */
#define FIB_LOOKUP_MARK (1u << 5)
#define FIB_LOOKUP_FLAGS (BPF_FIB_LOOKUP_DIRECT | BPF_FIB_LOOKUP_OUTPUT |             \
			  BPF_FIB_LOOKUP_SKIP_NEIGH | BPF_FIB_LOOKUP_TBID | BPF_FIB_LOOKUP_SRC | \
			  FIB_LOOKUP_MARK)
/* a route without an MTU has the Ethernet device's */
#define DEFAULT_MTU 1500u
#define VLAN_HLEN 4

struct rt_fib {
	struct sluice_route *routes;
	size_t count, cap;
};

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

int fib_add_route(struct rt_fib **fib, const struct sluice_route *route,
		  struct sluice_error *err)
{
	struct rt_fib *table = *fib;

	if (route->family != AF_INET && route->family != AF_INET6)
		return sluice_fail(err, EINVAL, "route: family %d is neither AF_INET nor AF_INET6",
				   route->family);
	if (route->prefix_len > addr_len(route->family) * 8)
		return sluice_fail(err, EINVAL, "route: prefix length %u is too long",
				   route->prefix_len);
	if (!route->ifindex)
		return sluice_fail(err, EINVAL, "route: no ifindex");
	if (!table) {
		table = calloc(1, sizeof(*table));
		if (!table)
			return sluice_fail(err, ENOMEM, "out of memory");
		*fib = table;
	}
	if (table->count == table->cap) {
		size_t cap = table->cap ? table->cap * 2 : 8;
		struct sluice_route *grown = realloc(table->routes, cap * sizeof(*grown));

		if (!grown)
			return sluice_fail(err, ENOMEM, "out of memory");
		table->routes = grown;
		table->cap = cap;
	}
	table->routes[table->count++] = *route;
	return 0;
}

void fib_free(struct rt_fib *fib)
{
	if (!fib)
		return;
	free(fib->routes);
	free(fib);
}

static bool prefix_matches(const uint8_t *prefix, const uint8_t *addr, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;

	if (memcmp(prefix, addr, whole) != 0)
		return false;
	return !rest || ((prefix[whole] ^ addr[whole]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

/* The longest prefix holding dst; among equals the first added. */
static const struct sluice_route *fib_match(const struct rt_fib *fib, int family,
					    const uint8_t *dst)
{
	const struct sluice_route *best = NULL;

	for (size_t i = 0; fib && i < fib->count; i++) {
		const struct sluice_route *r = &fib->routes[i];

		if (r->family == family && prefix_matches(r->dst, dst, r->prefix_len) &&
		    (!best || r->prefix_len > best->prefix_len))
			best = r;
	}
	return best;
}

static bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

static uint64_t fib_lookup(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
			   uint64_t r5, struct sluice_run *run)
{
	struct rt_run *r = helper_run(run);
	struct bpf_fib_lookup *params = (struct bpf_fib_lookup *)(uintptr_t)r2;
	bool xdp = rt_prog_type(r->prog) == BPF_PROG_TYPE_XDP;
	uint32_t flags = (uint32_t)r4;
	const struct sluice_route *route;
	uint8_t *dst;
	char name[IF_NAMESIZE];
	uint32_t mtu;
	uint16_t tot_len;
	size_t len;

	(void)r5;
	if ((void *)(uintptr_t)r1 != r->ctx || (int32_t)r3 < (int32_t)sizeof(*params) ||
	    (flags & ~FIB_LOOKUP_FLAGS))
		return helper_result(-EINVAL);
	if (params->family != AF_INET && params->family != AF_INET6)
		return helper_result(-EAFNOSUPPORT);
	/* the kernel starts from the device (bpf_ipv4_fib_lookup, bpf_ipv6_fib_lookup) */
	if (!if_indextoname(params->ifindex, name))
		return helper_result(-ENODEV);
	len = addr_len(params->family);
	dst = params->family == AF_INET ? (uint8_t *)&params->ipv4_dst : (uint8_t *)params->ipv6_dst;
	route = fib_match(rt_fib(r->rt), params->family, dst);
	if (!route)
		return BPF_FIB_LKUP_RET_NOT_FWDED;
	mtu = route->mtu ? route->mtu : DEFAULT_MTU;
	/* XDP always checks tot_len; TC checks it when given, else the packet's own length */
	tot_len = params->tot_len;
	if ((xdp || tot_len) && tot_len > mtu) {
		params->mtu_result = (uint16_t)mtu;
		return BPF_FIB_LKUP_RET_FRAG_NEEDED;
	}
	if (flags & BPF_FIB_LOOKUP_SRC)
		return BPF_FIB_LKUP_RET_NO_SRC_ADDR;
	params->rt_metric = 0;
	params->ifindex = route->ifindex;
	if (!all_zero(route->gateway, len))
		memcpy(dst, route->gateway, len);
	if (!(flags & BPF_FIB_LOOKUP_SKIP_NEIGH)) {
		if (all_zero(route->dmac, ETH_ALEN))
			return BPF_FIB_LKUP_RET_NO_NEIGH;
		memcpy(params->dmac, route->dmac, ETH_ALEN);
		memcpy(params->smac, route->smac, ETH_ALEN);
	}
	params->h_vlan_TCI = 0;
	params->h_vlan_proto = 0;
	/* mtu_result shares its bytes with tot_len */
	params->mtu_result = (uint16_t)mtu;
	/* without tot_len, TC holds the packet itself to the MTU (is_skb_forwardable) */
	if (!xdp && !tot_len && ((const struct skb_rt *)r->ctx)->md.len > mtu + ETH_HLEN + VLAN_HLEN)
		return BPF_FIB_LKUP_RET_FRAG_NEEDED;
	return BPF_FIB_LKUP_RET_SUCCESS;
}

static const struct helper_impl fib_impls[] = {
	{ BPF_FUNC_fib_lookup, fib_lookup },
};

const struct helper_family helpers_fib = {
	.impls = fib_impls,
	.count = sizeof(fib_impls) / sizeof(fib_impls[0]),
};
