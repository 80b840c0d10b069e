// SPDX-License-Identifier: MIT
/*
 * A packet tracer in the style of pwru: for every packet, a ring buffer
 * record of what the kernel knows about it (struct __sk_buff: length,
 * packet type, protocol, VLAN, mark, priority, interfaces, queue, the
 * control block, GSO and timestamps) and of its first bytes.  One program
 * for a TC hook, one for a socket, which sees fewer fields; both trace
 * everything and let every packet through.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include <bpf/bpf_helpers.h>

#define HEAD_LEN 16

struct trace {
	__u32 len;
	__u32 pkt_type;
	__u32 protocol;
	__u32 vlan_present;
	__u32 vlan_tci;
	__u32 vlan_proto;
	__u32 mark;
	__u32 priority;
	__u32 ingress_ifindex;
	__u32 ifindex;
	__u32 queue_mapping;
	__u32 tc_index;
	__u32 cb[5];
	__u32 wire_len;
	__u32 gso_segs;
	__u32 gso_size;
	__u64 tstamp;
	__u32 linear_len;   /* data_end - data: TC only */
	__u32 head_len;     /* bytes of head copied */
	__u8 head[HEAD_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} traces SEC(".maps");

static __always_inline struct trace *trace_common(struct __sk_buff *skb)
{
	struct trace *t = bpf_ringbuf_reserve(&traces, sizeof(*t), 0);
	__u32 n;

	if (!t)
		return NULL;
	t->len = skb->len;
	t->pkt_type = skb->pkt_type;
	t->protocol = skb->protocol;
	t->vlan_present = skb->vlan_present;
	t->vlan_tci = skb->vlan_tci;
	t->vlan_proto = skb->vlan_proto;
	t->mark = skb->mark;
	t->priority = skb->priority;
	t->ingress_ifindex = skb->ingress_ifindex;
	t->ifindex = skb->ifindex;
	t->queue_mapping = skb->queue_mapping;
	for (int i = 0; i < 5; i++)
		t->cb[i] = skb->cb[i];
	t->gso_segs = skb->gso_segs;
	t->gso_size = skb->gso_size;
	t->linear_len = 0;
	t->tc_index = 0;
	t->wire_len = 0;
	t->tstamp = 0;
	t->head_len = 0;
	__builtin_memset(t->head, 0, HEAD_LEN);
	/* a socket sees the packet from the network header: it may be empty */
	n = skb->len < HEAD_LEN ? skb->len : HEAD_LEN;
	if (n > 0 && n <= HEAD_LEN && !bpf_skb_load_bytes(skb, 0, t->head, n))
		t->head_len = n;
	return t;
}

SEC("tc")
int tc_trace(struct __sk_buff *skb)
{
	struct trace *t = trace_common(skb);

	if (!t)
		return TC_ACT_OK;
	t->tc_index = skb->tc_index;
	t->wire_len = skb->wire_len;
	t->tstamp = skb->tstamp;
	t->linear_len = skb->data_end - skb->data;
	bpf_ringbuf_submit(t, 0);
	return TC_ACT_OK;
}

SEC("socket")
int sock_trace(struct __sk_buff *skb)
{
	struct trace *t = trace_common(skb);

	if (t)
		bpf_ringbuf_submit(t, 0);
	return skb->len;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
