/* SPDX-License-Identifier: MIT */
/* bench_jit's map programs as TC classifiers; the programs are in netbench.h. */
#include "netbench.h"

#define SKB_DATA(skb) ((void *)(long)(skb)->data)
#define SKB_DATA_END(skb) ((void *)(long)(skb)->data_end)

SEC("tc")
int flowtable(struct __sk_buff *skb)
{
	return flowtable_run(SKB_DATA(skb), SKB_DATA_END(skb));
}

SEC("tc")
int lb(struct __sk_buff *skb)
{
	return lb_run(SKB_DATA(skb), SKB_DATA_END(skb));
}

/* A test run's own cost per run, subtracted from the others'. */
SEC("tc")
int empty(struct __sk_buff *skb)
{
	(void)skb;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
