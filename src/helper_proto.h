/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_HELPER_PROTO_H
#define SLUICE_HELPER_PROTO_H

/*
 * The kernel's helper prototypes (struct bpf_func_proto), written down once:
 * what each helper takes and returns, and which program types may call it.
 * The runtime registers implementations against it; the verifier checks
 * calls with it.  Ids and names are <linux/bpf.h>'s BPF_FUNC_*.
 * The table itself is helper_table.h.
 */
#include <stdbool.h>
#include <stdint.h>

/* What an argument must be (the kernel's enum bpf_arg_type). */
enum helper_arg {
	ARG_NONE = 0,                /* no argument from here on */
	ARG_ANYTHING,                /* any initialised value */
	ARG_CONST_MAP_PTR,           /* a map (lddw map) */
	ARG_PTR_TO_MAP_KEY,          /* key_size readable bytes */
	ARG_PTR_TO_MAP_VALUE,        /* value_size readable bytes */
	ARG_PTR_TO_UNINIT_MAP_VALUE, /* value_size writable bytes (pop, peek) */
	ARG_PTR_TO_MEM,              /* readable, size in the next argument */
	ARG_PTR_TO_MEM_OR_NULL,
	ARG_PTR_TO_UNINIT_MEM,       /* written by the helper, size next */
	ARG_CONST_SIZE,              /* a known, bounded, non-zero size */
	ARG_CONST_SIZE_OR_ZERO,
	ARG_CONST_ALLOC_SIZE_OR_ZERO,/* the size of memory the helper returns */
	ARG_PTR_TO_CTX,
	ARG_PTR_TO_CTX_OR_NULL,
	ARG_PTR_TO_STACK_OR_NULL,    /* e.g. bpf_loop's callback context */
	ARG_PTR_TO_LONG,             /* 8 writable bytes */
	ARG_PTR_TO_INT,              /* 4 writable bytes */
	ARG_PTR_TO_CONST_STR,        /* NUL-terminated in a read-only map */
	ARG_PTR_TO_FUNC,             /* a callback: lddw of a subprogram */
	ARG_PTR_TO_SPIN_LOCK,        /* the struct bpf_spin_lock in a map value */
	ARG_PTR_TO_RINGBUF_MEM,      /* a ringbuf_reserve result, released by the call */
	ARG_PTR_TO_SOCK_COMMON,
	ARG_PTR_TO_SOCKET,
	ARG_PTR_TO_SOCKET_OR_NULL,
	ARG_PTR_TO_BTF_ID,           /* a kernel object pointer (task, sock, ...) */
	ARG_PTR_TO_BTF_ID_OR_NULL,
	ARG_PTR_TO_TIMER,
	ARG_PTR_TO_DYNPTR,
	ARG_KPTR_XCHG_DEST,
};

/* What a helper returns (the kernel's enum bpf_return_type). */
enum helper_ret {
	RET_INTEGER = 0,
	RET_VOID,
	RET_PTR_TO_MAP_VALUE_OR_NULL,
	RET_PTR_TO_MEM_OR_NULL,      /* sized by the ARG_CONST_ALLOC_SIZE_OR_ZERO argument */
	RET_PTR_TO_SOCKET_OR_NULL,
	RET_PTR_TO_TCP_SOCK_OR_NULL,
	RET_PTR_TO_SOCK_COMMON_OR_NULL,
	RET_PTR_TO_BTF_ID,           /* e.g. bpf_get_current_task_btf */
	RET_PTR_TO_BTF_ID_OR_NULL,
	RET_PTR_TO_MEM_OR_BTF_ID,    /* bpf_per_cpu_ptr, bpf_this_cpu_ptr */
};

/* Facts the verifier needs beyond the arguments. */
enum helper_flag {
	HELPER_GPL_ONLY = 1u << 0,          /* only for GPL-compatible licenses */
	HELPER_PKT_ACCESS = 1u << 1,        /* may take packet pointers as memory */
	HELPER_CHANGES_PKT_DATA = 1u << 2,  /* invalidates every packet pointer */
	HELPER_MIGHT_SLEEP = 1u << 3,
	HELPER_CALLBACK = 1u << 4,          /* calls back a subprogram (loop, for_each, timer) */
	HELPER_ACQUIRES = 1u << 5,          /* returns a reference to release (sk_lookup, ringbuf_reserve) */
	HELPER_RELEASES = 1u << 6,          /* releases its reference argument */
};

struct helper_proto {
	uint32_t id;
	const char *name;            /* without "bpf_": "map_lookup_elem" */
	enum helper_ret ret;
	enum helper_arg args[5];
	uint32_t flags;              /* enum helper_flag */
	/* Program types that may call it, as bits 1 << BPF_PROG_TYPE_* (< 64). */
	uint64_t prog_types;
};

/* The prototype of helper id, NULL when the kernel has no such helper. */
const struct helper_proto *helper_proto(uint32_t id);
/* The helper named "map_lookup_elem" or "bpf_map_lookup_elem", NULL if none. */
const struct helper_proto *helper_proto_by_name(const char *name);
/* Whether a program of that type may call the helper (the kernel's get_func_proto). */
bool helper_allowed(const struct helper_proto *proto, uint32_t prog_type);
/* Arguments the helper takes: the index of the first ARG_NONE. */
unsigned helper_nargs(const struct helper_proto *proto);

#endif
