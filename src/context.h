/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_CONTEXT_H
#define SLUICE_CONTEXT_H

/*
 * Program contexts: for each program type, the fields of its context
 * structure (struct xdp_md, struct __sk_buff, ...) a program may read or
 * write, with their sizes and what a load of them yields (a number, a
 * packet pointer, ...); the kernel's *_is_valid_access.  Written once, used
 * by the runtime (which rewrites context accesses to its own layout, as the
 * kernel's convert_ctx_accesses) and by the verifier (which types the
 * loaded values).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sluice/error.h>
#include <sluice/insn.h>

/* What loading a field gives the program (the verifier's register type). */
enum ctx_kind {
	CTX_SCALAR = 0,
	CTX_PKT,           /* data: PTR_TO_PACKET */
	CTX_PKT_END,       /* data_end: PTR_TO_PACKET_END */
	CTX_PKT_META,      /* data_meta: PTR_TO_PACKET_META */
	CTX_SOCK_COMMON,   /* __sk_buff.sk: PTR_TO_SOCK_COMMON_OR_NULL */
	CTX_FLOW_KEYS,     /* __sk_buff.flow_keys: PTR_TO_FLOW_KEYS */
};

enum ctx_access {
	CTX_READ = 1u << 0,
	CTX_WRITE = 1u << 1,
	/* loads narrower than the field are allowed (bpf_ctx_narrow_access_ok) */
	CTX_NARROW = 1u << 2,
	/*
	 * Plain memory (cb[], raw tracepoint arguments): any aligned 1, 2, 4
	 * or 8-byte access inside it, loads and stores alike.
	 */
	CTX_BYTES = 1u << 3,
};

struct ctx_field {
	const char *name;     /* "data_end", "cb[2]" */
	uint16_t off, size;   /* in the UAPI structure */
	uint8_t kind;         /* enum ctx_kind */
	uint8_t access;       /* enum ctx_access */
	uint16_t rt_off;      /* where the runtime keeps it in its own context */
	uint8_t rt_size;
};

struct ctx_desc {
	const char *name;     /* "struct xdp_md" */
	uint32_t size;        /* of the UAPI structure */
	uint32_t rt_size;     /* of the runtime's context */
	const struct ctx_field *fields;
	size_t nfields;
};

/* NULL for program types whose context Sluice does not model. */
const struct ctx_desc *ctx_desc(uint32_t prog_type, uint32_t expected_attach_type);

/*
 * Whether a size-byte load or store at off is allowed: 0 and *field, or
 * -EACCES with a message naming the field (or the hole) and why.
 */
int ctx_check_access(const struct ctx_desc *desc, uint32_t off, uint32_t size,
		     bool write, const struct ctx_field **field,
		     struct sluice_error *err);

/*
 * Find every load and store through the context pointer (r1 at entry, its
 * copies, spills and the subprograms it is passed to), check each against
 * the type's fields and rewrite it to the runtime's layout, in place.
 * Refused, naming the program's pc: an access to a field the type does not
 * allow, a variable offset into the context, an instruction reached with
 * the context on one path and other memory on another.
 */
int ctx_convert(uint32_t prog_type, uint32_t expected_attach_type,
		struct sluice_insn *insns, size_t count, struct sluice_error *err);

/*
 * The end of the furthest context access (the kernel's max_ctx_offset),
 * which BPF_PROG_TEST_RUN holds ctx_size_in to for the types whose context
 * is the caller's bytes (raw tracepoints, syscall programs), whose accesses
 * ctx_convert leaves as they are; -errno as ctx_convert when the program's
 * accesses are refused.
 */
int ctx_max_offset(uint32_t prog_type, uint32_t expected_attach_type,
		   const struct sluice_insn *insns, size_t count, uint32_t *max_off,
		   struct sluice_error *err);

#endif
