/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_KERNEL_H
#define SLUICE_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sluice/error.h>
#include <sluice/insn.h>

/*
 * The kernel backend: a BPF ELF object handed to the running kernel through
 * libbpf, unchanged, the way `bpftool prog load` would (but never pinned).
 * It is a feature (`--backend=kernel`) and the oracle Sluice's own loader,
 * verifier and engines are tested against.
 *
 * The programs of an object load together, as the object is meant to run
 * (its maps shared, a program array's initial slots filled).  libbpf stops
 * at the first program the kernel rejects: that one is set aside with its
 * verdict and the rest loaded again, so that every program gets its own
 * verdict and one rejected program does not hide the others.  Maps are never
 * pinned, and sizes the object leaves to its user-space tool (max_entries 0)
 * are filled in (one entry per possible CPU).  Loaded programs stay in the
 * kernel until the object is closed.
 *
 * libbpf's messages never reach stderr: the calls here capture them, and
 * the first warning of a failed call ends up in its error or verdict.
 * libbpf keeps process-wide settings (its print callback, SEC() handlers), so
 * like libbpf these calls must not run in several threads at once.
 */
struct sluice_kernel_object;
struct sluice_kernel_attachment;

struct sluice_kernel_opts {
	size_t sz; /* sizeof(struct sluice_kernel_opts) */
	/*
	 * Bytes kept of the verifier log of a rejected program: its tail, with
	 * the error and the instructions that led to it.  0 means 1 MiB.
	 */
	size_t log_size;
};

/*
 * 0 when this process may load BPF programs; otherwise -EPERM, -ENOSYS, ...
 * and "the kernel refused bpf(): ..." in err.  Tests skip on it.
 */
int sluice_kernel_probe(struct sluice_error *err);

/* Open an object with libbpf (which checks it, and finds its programs). */
struct sluice_kernel_object *sluice_kernel_open(const char *path,
						const struct sluice_kernel_opts *opts,
						struct sluice_error *err);
/* The same from memory; name plays the file name's part ("execsnoop.o"). */
struct sluice_kernel_object *sluice_kernel_open_mem(const void *data, size_t size,
						    const char *name,
						    const struct sluice_kernel_opts *opts,
						    struct sluice_error *err);
/* Unloads its programs and maps, detaches nothing: detach attachments first. */
void sluice_kernel_close(struct sluice_kernel_object *obj);

/* Programs in libbpf's order. */
size_t sluice_kernel_prog_count(const struct sluice_kernel_object *obj);
const char *sluice_kernel_prog_name(const struct sluice_kernel_object *obj, size_t i);
const char *sluice_kernel_prog_section(const struct sluice_kernel_object *obj, size_t i);
/* Index of the program with that name, or -ENOENT and the names there are. */
int sluice_kernel_find_prog(const struct sluice_kernel_object *obj, const char *name,
			    struct sluice_error *err);

/* Maps in libbpf's order, by libbpf's names ("events", "execsnoo.rodata"). */
size_t sluice_kernel_map_count(const struct sluice_kernel_object *obj);
const char *sluice_kernel_map_name(const struct sluice_kernel_object *obj, size_t i);

/* What the kernel (or libbpf before it) said about one program. */
struct sluice_kernel_verdict {
	bool accepted;
	int error;                 /* positive errno of the failed load; 0 if accepted */
	/* From the verifier's statistics; -1 when the log does not say. */
	int64_t verification_usec; /* "verification time N usec" */
	int64_t processed_insns;   /* "processed N insns" */
	/*
	 * Why it was rejected, one line: the verifier's error lines, or
	 * libbpf's first warning when the program never reached the verifier
	 * (a map the kernel refused, a CO-RE relocation that failed), or "the
	 * kernel refused bpf(): ..." when bpf() itself is not allowed.  "" when
	 * accepted.
	 */
	const char *message;
	/* The tail of the verifier's log at level 1 when rejected, else its statistics. */
	const char *log;
};

/*
 * Program i's verdict in *v, valid until the object is closed; the first
 * call loads the whole object.  Returns 0 whether the kernel accepted the
 * program or not (see v->accepted); a negative errno only when the attempt
 * itself could not be made (out of memory).
 */
int sluice_kernel_load_prog(struct sluice_kernel_object *obj, size_t i,
			    struct sluice_kernel_verdict *v, struct sluice_error *err);

/*
 * libbpf's final instructions for program i: relocated, CO-RE resolved,
 * subprograms appended, exactly as handed to the kernel.  Map references
 * take the form sluice_prog_insns() uses, so the two compare directly:
 *   lddw src=1 (BPF_PSEUDO_MAP_FD):    imm = map index (sluice_kernel_map_name)
 *   lddw src=2 (BPF_PSEUDO_MAP_VALUE): imm = map index, next slot's imm = offset
 * When the kernel rejected the program (or was not asked), the instructions
 * are taken from libbpf just before its load call.  -ENOENT with libbpf's
 * reason when libbpf cannot prepare the program at all (an unknown section,
 * a map the kernel refuses to create).  *insns is valid until close.
 */
int sluice_kernel_prog_insns(struct sluice_kernel_object *obj, size_t i,
			     const struct sluice_insn **insns, size_t *count,
			     struct sluice_error *err);

/* BPF_PROG_TEST_RUN on a loaded program. */
struct sluice_kernel_run {
	size_t sz;            /* sizeof(struct sluice_kernel_run) */
	const void *data_in;  /* the packet (or other input), may be NULL */
	size_t data_size_in;
	void *data_out;       /* room for the output packet, may be NULL */
	size_t data_size_out; /* in: room in data_out; out: the output's size */
	const void *ctx_in;   /* context (struct xdp_md, struct __sk_buff...), may be NULL */
	size_t ctx_size_in;
	uint32_t repeat;      /* runs; 0 means 1 */
	uint32_t retval;      /* out: the program's return value */
	uint32_t duration_ns; /* out: mean time of one run */
	void *ctx_out;        /* room for the context as the program left it, may be NULL */
	size_t ctx_size_out;  /* in: room in ctx_out; out: the context's size */
};

int sluice_kernel_test_run(struct sluice_kernel_object *obj, size_t i,
			   struct sluice_kernel_run *run, struct sluice_error *err);

/*
 * The file descriptor of map i (sluice_kernel_map_name's index) as the
 * loaded object holds it, loading the object first: for libbpf's
 * bpf_map_update_elem / bpf_map_get_next_key / bpf_map_lookup_elem, to fill
 * a map before test runs and read it after.  Valid until the object is
 * closed; -ENOENT when no program of the object loaded.
 */
int sluice_kernel_map_fd(struct sluice_kernel_object *obj, size_t i,
			 struct sluice_error *err);

/* Where a loaded program can be attached to a network interface. */
enum sluice_kernel_hook {
	SLUICE_HOOK_XDP,        /* flags: XDP_FLAGS_* (0 lets the kernel pick the mode) */
	SLUICE_HOOK_TC_INGRESS, /* clsact qdisc, created when missing */
	SLUICE_HOOK_TC_EGRESS,
};

/*
 * Attach loaded program i at hook on interface ifindex.  For TC the clsact
 * qdisc is created when missing, and removed again when the attachment that
 * created it is detached.  Detach before closing the object.
 */
int sluice_kernel_attach(struct sluice_kernel_object *obj, size_t i, int ifindex,
			 enum sluice_kernel_hook hook, uint32_t flags,
			 struct sluice_kernel_attachment **out, struct sluice_error *err);
/*
 * Attach loaded program i to the tracepoint its section names
 * ("tracepoint/sched/sched_process_exec", "tp/..."), through a BPF link.
 * tracefs must be mounted (libbpf reads the tracepoint's id there).
 */
int sluice_kernel_attach_tracepoint(struct sluice_kernel_object *obj, size_t i,
				    struct sluice_kernel_attachment **out,
				    struct sluice_error *err);
/*
 * Attach loaded program i to the cgroup v2 directory at cgroup_path, at the
 * hook its section names ("cgroup/connect4", "cgroup/sock_create", ...),
 * through a BPF link: other programs on the cgroup stay, and the program
 * leaves with the link, at the latest when this process exits.
 */
int sluice_kernel_attach_cgroup(struct sluice_kernel_object *obj, size_t i,
				const char *cgroup_path, struct sluice_kernel_attachment **out,
				struct sluice_error *err);
/* Detach and free the attachment (also on failure, which is reported). */
int sluice_kernel_detach(struct sluice_kernel_attachment *att, struct sluice_error *err);

#endif
