/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_PROGTYPES_H
#define SLUICE_PROGTYPES_H

/*
 * Program types in the runtime: the contexts it builds for them and how
 * BPF_PROG_TEST_RUN runs each (net/bpf/test_run.c's rules).  xdp.c: XDP;
 * skb.c: TC (sched_cls, sched_act) and socket filters; test_run.c: the
 * dispatch and the types whose context is plain bytes.
 *
 * The runtime contexts start with the UAPI structure, so every field the
 * program sees as a number sits where the UAPI puts it; the pointers the
 * UAPI squeezes into 32 bits (data, data_end, data_meta) follow as real
 * 64-bit pointers, and context.c rewrites the loads of them.
 */
#include <stdbool.h>
#include <stdint.h>

#include <linux/bpf.h>

#include <sluice/error.h>
#include <sluice/runtime.h>

#include "runtime.h"

/* XDP_PACKET_HEADROOM: room bpf_xdp_adjust_head and adjust_meta may grow into. */
#define RT_XDP_HEADROOM 256u

/* MAX_SKB_FRAGS: the pages of a multi-buffer frame after its first */
#define RT_XDP_MAX_FRAGS 17u

struct xdp_rt {
	struct xdp_md md;      /* what the program reads as numbers */
	uint8_t *data;
	uint8_t *data_end;
	uint8_t *data_meta;
	uint8_t *data_hard_start;
	uint32_t frame_sz;     /* bytes from data_hard_start the frame may use */
	/*
	 * A multi-buffer frame's fragments, beyond data_end: fragment i is
	 * frag_size[i] bytes at the start of page i of frags.
	 */
	uint32_t nr_frags;
	uint32_t frags_len;
	uint32_t frag_size[RT_XDP_MAX_FRAGS];
	uint8_t *frags;
};

/* The bytes after the frame that bpf_xdp_adjust_tail may not grow into (skb_shared_info). */
#define RT_XDP_TAILROOM 320u
/* XDP test runs use one page per frame. */
#define RT_XDP_FRAME_SIZE 4096u

struct skb_rt {
	struct __sk_buff md;   /* what the program reads as numbers */
	uint8_t *data;         /* what the program reads as data, data_end, data_meta */
	uint8_t *data_end;
	uint8_t *data_meta;
	uint8_t *head;         /* start of the buffer (skb->head) */
	uint8_t *end;          /* end of the buffer */
	uint8_t *mac_header;   /* the Ethernet header (socket filters see data after it) */
	uint8_t *network_header;
	uint8_t *tail;         /* end of the packet: skb->data + skb->len */
	/* the longest packet the device takes: MTU plus Ethernet header (__bpf_skb_max_len) */
	uint32_t max_len;
	/* the program type reads data_end (bpf_compute_data_pointers) */
	bool direct_access;
	/* bpf_skb_adjust_room made an outer header (skb->encapsulation) */
	bool encapsulated;
};

/* BPF_PROG_TEST_RUN for run->prog's type; -ENOTSUPP (SLUICE_ENOTSUPP) as the kernel. */
int progtype_test_run(struct rt_run *run, struct sluice_test_run *t,
		      struct sluice_error *err);

int xdp_test_run(struct rt_run *run, struct sluice_test_run *t, struct sluice_error *err);
int skb_test_run(struct rt_run *run, struct sluice_test_run *t, struct sluice_error *err);

/*
 * After a helper moved skb->data or skb->tail: skb->md.len, the pointers the
 * program reads and what LD_ABS reads follow.
 */
void skb_rt_sync(struct rt_run *run, struct skb_rt *skb);
/* After a helper moved the XDP frame's data or data_end: what LD_ABS reads follows. */
void xdp_rt_sync(struct rt_run *run, struct xdp_rt *xdp);

/*
 * BPF_PROG_TEST_RUN's steps that every type shares (net/bpf/test_run.c):
 *
 * test_ctx_init: the context buffer (size bytes, zeroed) with ctx_in copied
 * in, as bpf_ctx_init; *have tells whether the caller gave a context at all
 * (ctx_in or ctx_out), which changes the rules of some types.
 */
int test_ctx_init(const struct sluice_test_run *t, void *ctx, uint32_t size, bool *have,
		  struct sluice_error *err);
/* Run the program t->repeat times (at least once), t->duration_ns their mean. */
int test_repeat(struct rt_run *run, struct sluice_test_run *t, uint32_t *retval,
		struct sluice_error *err);
/*
 * bpf_test_finish: data_out, data_size_out, retval; -ENOSPC when data_out
 * is short.  The packet is size bytes at data, then an XDP frame's
 * fragments (NULL for none).
 */
int test_finish(struct sluice_test_run *t, const void *data, uint32_t size,
		const struct xdp_rt *frags, uint32_t retval, struct sluice_error *err);
/* bpf_ctx_finish: ctx_out and ctx_size_out. */
int test_ctx_finish(struct sluice_test_run *t, const void *ctx, uint32_t size,
		    struct sluice_error *err);

#endif
