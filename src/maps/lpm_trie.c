/* SPDX-License-Identifier: MIT */
/*
 * Longest-prefix-match tries, as the kernel's lpm_trie.c, node for node: a
 * path-compressed binary trie whose nodes are the prefixes stored plus
 * "intermediate" nodes where two branches part.  Keys are a u32 prefixlen
 * followed by data_size bytes (struct bpf_lpm_trie_key_u8); lookups find
 * the longest stored prefix of the key, update and delete the exact one.
 * Because the shape is the kernel's, get_next_key walks in the kernel's
 * order (post-order: more specific prefixes first).
 *
 * Nodes come from a pool of 2 * max_entries (a trie of n prefixes has at
 * most n - 1 intermediate nodes), allocated as they are first used, as
 * BPF_F_NO_PREALLOC (which the kernel requires) asks.  One seq_lock guards
 * the trie: writers hold it, lookups walk without it and start again when
 * a writer came by.  Replacing a prefix's value rewrites its node in place
 * where the kernel swaps in a new node.
 */
#include <errno.h>
#include <string.h>

#include "errmsg.h"
#include "lock.h"
#include "map.h"

#define LPM_TREE_NODE_FLAG_IM 1u
#define LPM_DATA_SIZE_MAX 256u
#define LPM_KEY_SIZE(data) (4u + (data)) /* struct bpf_lpm_trie_key_u8 */
#define KERNEL_LPM_NODE_SIZE 24u         /* sizeof(struct lpm_trie_node), 6.13 on */
#define LPM_VAL_SIZE_MAX (KMALLOC_MAX_SIZE - LPM_DATA_SIZE_MAX - KERNEL_LPM_NODE_SIZE)
#define LPM_CREATE_FLAG_MASK (BPF_F_NO_PREALLOC | BPF_F_NUMA_NODE | BPF_F_ACCESS_MASK)

struct trie {
	uint32_t lock;        /* seq_lock */
	uint32_t root;        /* index + 1 */
	uint32_t n_entries;   /* prefixes stored (intermediate nodes do not count) */
	uint32_t data_size;
	uint32_t max_prefixlen;
	uint32_t data_stride; /* data_size rounded up to 8: values stay 8-aligned */
	struct map_pool pool;
};

struct trie_node {
	uint32_t child[2]; /* index + 1; child[0] is the pool's while the node is free */
	uint32_t prefixlen;
	uint32_t flags;
	uint8_t data[];    /* data_stride bytes, then the value */
};

static struct trie *trie_of(const struct sluice_map *map)
{
	return map->state;
}

static struct trie_node *node_at(const struct sluice_map *map, const struct trie *t,
				 uint32_t idx)
{
	return pool_elem(map, &t->pool, idx - 1);
}

static uint8_t *node_value(const struct trie *t, struct trie_node *n)
{
	return n->data + t->data_stride;
}

static uint32_t key_prefixlen(const void *key)
{
	uint32_t prefixlen;

	memcpy(&prefixlen, key, sizeof(prefixlen));
	return prefixlen;
}

static const uint8_t *key_data(const void *key)
{
	return (const uint8_t *)key + 4;
}

static unsigned extract_bit(const uint8_t *data, uint32_t index)
{
	return (data[index / 8] >> (7 - index % 8)) & 1;
}

/*
 * The bits where a and b differ, in `bytes` bytes (8, 4 or 1) read as one
 * big-endian number placed at the top of 64 bits: the first bit leads.
 */
static uint64_t diff_bits(const uint8_t *a, const uint8_t *b, unsigned bytes)
{
	uint64_t x = 0, y = 0;

	if (bytes == 8) {
		memcpy(&x, a, 8);
		memcpy(&y, b, 8);
	} else if (bytes == 4) {
		memcpy(&x, a, 4);
		memcpy(&y, b, 4);
	} else {
		x = *a;
		y = *b;
	}
	return __builtin_bswap64(x ^ y);
}

/* How many leading bits of node and key agree, up to the shorter prefix. */
static inline uint32_t longest_prefix_match(const struct trie *t, const struct trie_node *node,
				     const void *key)
{
	uint32_t limit = node->prefixlen < key_prefixlen(key) ? node->prefixlen
							       : key_prefixlen(key);
	const uint8_t *data = key_data(key);
	uint32_t prefixlen = 0;

	for (uint32_t i = 0; i < t->data_size;) {
		unsigned bytes = t->data_size - i >= 8 ? 8 : t->data_size - i >= 4 ? 4 : 1;
		uint64_t diff = diff_bits(node->data + i, data + i, bytes);

		prefixlen += diff ? (uint32_t)__builtin_clzll(diff) : 8 * bytes;
		if (prefixlen >= limit)
			return limit;
		if (diff)
			return prefixlen;
		i += bytes;
	}
	return prefixlen;
}

/* ---- create ---------------------------------------------------------------- */

static int trie_alloc_check(struct map_hdr *h, struct sluice_error *err)
{
	if (h->max_entries == 0 || !(h->map_flags & BPF_F_NO_PREALLOC) ||
	    h->map_flags & ~LPM_CREATE_FLAG_MASK || !map_flags_access_ok(h->map_flags))
		return sluice_fail(err, EINVAL,
				   "lpm_trie maps need max_entries above 0 and BPF_F_NO_PREALLOC "
				   "(flags 0x%x)", h->map_flags);
	if (h->key_size < LPM_KEY_SIZE(1) || h->key_size > LPM_KEY_SIZE(LPM_DATA_SIZE_MAX))
		return sluice_fail(err, EINVAL,
				   "lpm_trie keys are a 4-byte prefixlen and 1 to %u bytes of data",
				   LPM_DATA_SIZE_MAX);
	if (h->value_size < 1 || h->value_size > LPM_VAL_SIZE_MAX)
		return sluice_fail(err, EINVAL, "lpm_trie values are 1 to %u bytes",
				   LPM_VAL_SIZE_MAX);
	/* node indexes are 32-bit (the kernel allocates nodes one by one) */
	if (h->max_entries > UINT32_MAX / 2)
		return sluice_fail(err, E2BIG, "Sluice's lpm_trie maps hold at most %u prefixes",
				   UINT32_MAX / 2);
	return 0;
}

static uint64_t node_size(const struct map_hdr *h)
{
	return sizeof(struct trie_node) + round_up8(h->key_size - 4) + round_up8(h->value_size);
}

static void trie_layout(const struct map_hdr *h, struct map_layout *l)
{
	l->fixed = round_up8(sizeof(struct trie));
	l->state = l->fixed + 2ull * h->max_entries * node_size(h);
}

static void trie_init(struct sluice_map *map)
{
	const struct map_hdr *h = map->hdr;
	struct trie *t = trie_of(map);

	t->data_size = h->key_size - 4;
	t->max_prefixlen = t->data_size * 8;
	t->data_stride = (uint32_t)round_up8(t->data_size);
	pool_init(&t->pool, MAP_STATE_OFF + round_up8(sizeof(struct trie)), 2 * h->max_entries,
		  (uint32_t)node_size(h), 0);
}

/* ---- lookup ------------------------------------------------------------- */

/*
 * trie_lookup_elem: the most specific stored prefix of key (index + 1), or
 * 0.  Without the lock the answer stands only if the count did not move; a
 * node index past the pool, or a prefixlen that does not grow down the
 * walk, can only be a writer's doing and ends the walk.
 */
static uint32_t trie_match(const struct sluice_map *map, const struct trie *t,
			   const void *key)
{
	uint32_t idx = __atomic_load_n(&t->root, __ATOMIC_ACQUIRE), found = 0;

	if (key_prefixlen(key) > t->max_prefixlen)
		return 0;
	while (idx && idx <= t->pool.capacity) {
		const struct trie_node *node = node_at(map, t, idx);
		uint32_t matchlen = longest_prefix_match(t, node, key);

		if (matchlen == t->max_prefixlen)
			return idx;
		if (matchlen < node->prefixlen || node->prefixlen >= t->max_prefixlen)
			break;
		if (!(node->flags & LPM_TREE_NODE_FLAG_IM))
			found = idx;
		idx = __atomic_load_n(&node->child[extract_bit(key_data(key), node->prefixlen)],
				      __ATOMIC_ACQUIRE);
		if (idx && idx <= t->pool.capacity &&
		    node_at(map, t, idx)->prefixlen <= node->prefixlen)
			break;
	}
	return found;
}

static int trie_lookup(struct sluice_map *map, const void *key, void *value, uint64_t flags,
		       struct sluice_error *err)
{
	struct trie *t = trie_of(map);
	uint32_t idx, s;

	do {
		s = seq_read_begin(&t->lock);
		idx = trie_match(map, t, key);
		if (idx)
			map_value_load(map, value, node_value(t, node_at(map, t, idx)), flags);
	} while (seq_read_retry(&t->lock, s));
	return idx ? 0 : sluice_fail(err, ENOENT, "no prefix matches");
}

static void *trie_elem_lookup(struct sluice_map *map, const void *key, unsigned cpu)
{
	struct trie *t = trie_of(map);
	uint32_t idx, s;

	(void)cpu;
	do {
		s = seq_read_begin(&t->lock);
		idx = trie_match(map, t, key);
	} while (seq_read_retry(&t->lock, s));
	return idx ? node_value(t, node_at(map, t, idx)) : NULL;
}

/* ---- update and delete ---------------------------------------------------- */

/* trie_check_add_elem: a prefix is about to be added. */
static int check_add(struct sluice_map *map, struct trie *t, uint64_t flags,
		     struct sluice_error *err)
{
	if (flags == BPF_EXIST)
		return sluice_fail(err, ENOENT, "no such prefix (BPF_EXIST)");
	if (t->n_entries == map->max_entries)
		return sluice_fail(err, ENOSPC, "the trie is full (max_entries %u)",
				   map->max_entries);
	t->n_entries++;
	return 0;
}

static uint32_t new_node(struct sluice_map *map, struct trie *t, uint32_t prefixlen,
			 uint32_t flags, const uint8_t *data)
{
	int why;
	uint32_t idx = pool_alloc(map, &t->pool, &why) + 1;
	struct trie_node *n;

	if (!idx)
		return 0;
	n = node_at(map, t, idx);
	n->child[0] = n->child[1] = 0;
	n->prefixlen = prefixlen;
	n->flags = flags;
	memcpy(n->data, data, t->data_size);
	return idx;
}

/* The key's own node becomes its prefix, with key's data and value. */
static void set_prefix(struct sluice_map *map, struct trie *t, struct trie_node *n,
		       const void *key, const void *value)
{
	memcpy(n->data, key_data(key), t->data_size);
	n->flags = 0;
	map_value_store(map, node_value(t, n), value, 0);
}

static int trie_update_locked(struct sluice_map *map, struct trie *t, const void *key,
			      const void *value, uint64_t flags, struct sluice_error *err)
{
	uint32_t prefixlen = key_prefixlen(key), *slot = &t->root, matchlen = 0;
	uint32_t idx, added, im;
	struct trie_node *node = NULL;
	int ret;

	/* walk down as far as the key's bits agree */
	while ((idx = *slot)) {
		node = node_at(map, t, idx);
		matchlen = longest_prefix_match(t, node, key);
		if (node->prefixlen != matchlen || node->prefixlen == prefixlen)
			break;
		slot = &node->child[extract_bit(key_data(key), node->prefixlen)];
	}
	if (idx && node->prefixlen == matchlen) {
		/* the key's own node: a prefix to replace, or an intermediate to fill */
		if (!(node->flags & LPM_TREE_NODE_FLAG_IM) && flags == BPF_NOEXIST)
			return sluice_fail(err, EEXIST, "the prefix exists (BPF_NOEXIST)");
		if ((node->flags & LPM_TREE_NODE_FLAG_IM) && (ret = check_add(map, t, flags, err)))
			return ret;
		set_prefix(map, t, node, key, value);
		return 0;
	}
	if ((ret = check_add(map, t, flags, err)))
		return ret;
	added = new_node(map, t, prefixlen, 0, key_data(key));
	if (!added)
		goto nomem;
	map_value_store(map, node_value(t, node_at(map, t, added)), value, 0);
	if (!idx) {
		/* an empty slot */
		__atomic_store_n(slot, added, __ATOMIC_RELEASE);
		return 0;
	}
	if (matchlen == prefixlen) {
		/* the new prefix covers node: it goes above it */
		node_at(map, t, added)->child[extract_bit(node->data, matchlen)] = idx;
		__atomic_store_n(slot, added, __ATOMIC_RELEASE);
		return 0;
	}
	/* they part after matchlen bits: an intermediate node holds both */
	im = new_node(map, t, matchlen, LPM_TREE_NODE_FLAG_IM, node->data);
	if (!im) {
		pool_free(map, &t->pool, added - 1);
		goto nomem;
	}
	node_at(map, t, im)->child[extract_bit(key_data(key), matchlen)] = added;
	node_at(map, t, im)->child[!extract_bit(key_data(key), matchlen)] = idx;
	__atomic_store_n(slot, im, __ATOMIC_RELEASE);
	return 0;
nomem:
	t->n_entries--;
	return sluice_fail(err, ENOMEM, "out of shared memory");
}

static int trie_update(struct sluice_map *map, const void *key, const void *value,
		       uint64_t flags, struct sluice_error *err)
{
	struct trie *t = trie_of(map);
	int ret;

	if (flags > BPF_EXIST)
		return sluice_fail(err, EINVAL, "unknown update flags 0x%llx",
				   (unsigned long long)flags);
	if (key_prefixlen(key) > t->max_prefixlen)
		return sluice_fail(err, EINVAL, "prefixlen %u is over %u", key_prefixlen(key),
				   t->max_prefixlen);
	seq_lock(&t->lock);
	ret = trie_update_locked(map, t, key, value, flags, err);
	seq_unlock(&t->lock);
	return ret;
}

static long trie_elem_update(struct sluice_map *map, const void *key, const void *value,
			     uint64_t flags, unsigned cpu)
{
	(void)cpu;
	return trie_update(map, key, value, flags, NULL);
}

/* trie_delete_elem; the nodes that go are returned to be freed after unlocking */
static int trie_delete_locked(struct sluice_map *map, struct trie *t, const void *key,
			      uint32_t freed[2], struct sluice_error *err)
{
	uint32_t prefixlen = key_prefixlen(key), *trim = &t->root, *trim2 = trim;
	uint32_t idx, parent = 0, matchlen = 0;
	struct trie_node *node = NULL, *p;

	while ((idx = *trim)) {
		node = node_at(map, t, idx);
		matchlen = longest_prefix_match(t, node, key);
		if (node->prefixlen != matchlen || node->prefixlen == prefixlen)
			break;
		parent = idx;
		trim2 = trim;
		trim = &node->child[extract_bit(key_data(key), node->prefixlen)];
	}
	if (!idx || node->prefixlen != prefixlen || node->prefixlen != matchlen ||
	    (node->flags & LPM_TREE_NODE_FLAG_IM))
		return sluice_fail(err, ENOENT, "no such prefix");
	t->n_entries--;
	if (node->child[0] && node->child[1]) {
		/* still a fork: it stays, as an intermediate node */
		node->flags |= LPM_TREE_NODE_FLAG_IM;
		return 0;
	}
	p = parent ? node_at(map, t, parent) : NULL;
	if (p && (p->flags & LPM_TREE_NODE_FLAG_IM) && !node->child[0] && !node->child[1]) {
		/* a leaf under an intermediate node: that node's other child moves up */
		__atomic_store_n(trim2, p->child[p->child[0] == idx], __ATOMIC_RELEASE);
		freed[0] = parent;
		freed[1] = idx;
		return 0;
	}
	/* at most one child, which takes the node's place */
	__atomic_store_n(trim, node->child[0] ? node->child[0] : node->child[1],
			 __ATOMIC_RELEASE);
	freed[0] = idx;
	return 0;
}

static int trie_delete(struct sluice_map *map, const void *key, struct sluice_error *err)
{
	struct trie *t = trie_of(map);
	uint32_t freed[2] = { 0, 0 };
	int ret;

	if (key_prefixlen(key) > t->max_prefixlen)
		return sluice_fail(err, EINVAL, "prefixlen %u is over %u", key_prefixlen(key),
				   t->max_prefixlen);
	seq_lock(&t->lock);
	ret = trie_delete_locked(map, t, key, freed, err);
	seq_unlock(&t->lock);
	for (int i = 0; i < 2; i++)
		if (freed[i])
			pool_free(map, &t->pool, freed[i] - 1);
	return ret;
}

/* ---- get_next_key ------------------------------------------------------------ */

/* The first prefix node in post-order under root (intermediate nodes fork). */
static uint32_t leftmost(const struct sluice_map *map, const struct trie *t, uint32_t idx)
{
	uint32_t next = 0;

	while (idx) {
		const struct trie_node *n = node_at(map, t, idx);

		if (n->flags & LPM_TREE_NODE_FLAG_IM) {
			idx = n->child[0];
		} else {
			next = idx;
			idx = n->child[0] ? n->child[0] : n->child[1];
		}
	}
	return next;
}

/*
 * trie_get_next_key: the prefix after key in post-order; a key that is not
 * stored (or NULL) gives the first.
 */
static uint32_t next_in_postorder(const struct sluice_map *map, const struct trie *t,
				  const void *key)
{
	uint32_t stack[LPM_DATA_SIZE_MAX * 8 + 1], idx, matchlen = 0;
	const struct trie_node *node = NULL;
	int sp = -1;

	if (!key || key_prefixlen(key) > t->max_prefixlen)
		return leftmost(map, t, t->root);
	for (idx = t->root; idx;) {
		node = node_at(map, t, idx);
		stack[++sp] = idx;
		matchlen = longest_prefix_match(t, node, key);
		if (node->prefixlen != matchlen || node->prefixlen == key_prefixlen(key))
			break;
		idx = node->child[extract_bit(key_data(key), node->prefixlen)];
	}
	if (!idx || node->prefixlen != matchlen || (node->flags & LPM_TREE_NODE_FLAG_IM))
		return leftmost(map, t, t->root);
	/* up from the key's node: a right sibling's subtree first, else the parent */
	for (idx = stack[sp]; sp > 0; sp--) {
		const struct trie_node *parent = node_at(map, t, stack[sp - 1]);

		if (parent->child[0] == idx && parent->child[1])
			return leftmost(map, t, parent->child[1]);
		if (!(parent->flags & LPM_TREE_NODE_FLAG_IM))
			return stack[sp - 1];
		idx = stack[sp - 1];
	}
	return 0;
}

static int trie_get_next_key(struct sluice_map *map, const void *key, void *next_key,
			     struct sluice_error *err)
{
	struct trie *t = trie_of(map);
	uint32_t idx;

	seq_lock(&t->lock);
	idx = t->root ? next_in_postorder(map, t, key) : 0;
	if (idx) {
		const struct trie_node *n = node_at(map, t, idx);

		memcpy(next_key, &n->prefixlen, 4);
		memcpy((uint8_t *)next_key + 4, n->data, t->data_size);
	}
	seq_unlock(&t->lock);
	return idx ? 0 : sluice_fail(err, ENOENT, "no prefix after this one");
}

static uint32_t trie_count(const struct sluice_map *map)
{
	return __atomic_load_n(&trie_of(map)->n_entries, __ATOMIC_RELAXED);
}

const struct map_ops trie_map_ops = {
	.alloc_check = trie_alloc_check,
	.layout = trie_layout,
	.init = trie_init,
	.lookup = trie_lookup,
	.update = trie_update,
	.delete = trie_delete,
	.get_next_key = trie_get_next_key,
	.elem_lookup = trie_elem_lookup,
	.elem_update = trie_elem_update,
	.meta_equal = map_meta_equal,
	.count = trie_count,
};
