/* SPDX-License-Identifier: MIT */
/*
 * The context tables against the running kernel's verifier: every offset,
 * size and direction of access for each modelled program type, loaded as a
 * two-instruction program, must be accepted by the kernel exactly when
 * ctx_check_access allows it.  Exit 77 when the kernel refuses to load BPF
 * at all.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "context.h"
#include "insn.h"

#define SKIP 77

struct type_case {
	const char *name;
	uint32_t prog_type, attach;
};

static const struct type_case types[] = {
	{ "sched_cls", BPF_PROG_TYPE_SCHED_CLS, 0 },
	{ "socket_filter", BPF_PROG_TYPE_SOCKET_FILTER, 0 },
	{ "cgroup_skb", BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_INGRESS },
	{ "xdp", BPF_PROG_TYPE_XDP, 0 },
	{ "xdp_devmap", BPF_PROG_TYPE_XDP, BPF_XDP_DEVMAP },
	{ "raw_tracepoint", BPF_PROG_TYPE_RAW_TRACEPOINT, 0 },
};

static const enum insn_op loads[] = { OP_LDXB, OP_LDXH, OP_LDXW, OP_LDXDW };
static const enum insn_op stores[] = { OP_STXB, OP_STXH, OP_STXW, OP_STXDW };

static struct sluice_insn insn_of(enum insn_op op, unsigned dst, unsigned src,
				  int16_t off, int32_t imm)
{
	struct sluice_insn insn = insn_encode(op);

	insn.dst = dst & 0xf;
	insn.src = src & 0xf;
	insn.off = off;
	insn.imm = imm;
	return insn;
}

/* Whether the kernel loads a program doing this one access; -1 when bpf() fails otherwise. */
static int kernel_accepts(const struct type_case *t, unsigned off, enum insn_op op, bool write)
{
	struct sluice_insn prog[4];
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = t->attach);
	int fd;

	/* r2, not r0: a packet pointer returned would be refused as a leak */
	prog[0] = insn_of(OP_MOV64_IMM, 2, 0, 0, 0);
	prog[1] = write ? insn_of(op, 1, 2, (int16_t)off, 0) : insn_of(op, 2, 1, (int16_t)off, 0);
	prog[2] = insn_of(OP_MOV64_IMM, 0, 0, 0, 0);
	prog[3] = insn_of(OP_EXIT, 0, 0, 0, 0);
	fd = bpf_prog_load(t->prog_type, NULL, "GPL", (const struct bpf_insn *)prog, 4, &opts);
	if (fd >= 0) {
		close(fd);
		return 1;
	}
	return errno == EACCES || errno == EINVAL ? 0 : -1;
}

int main(void)
{
	unsigned compared = 0, mismatches = 0;

	for (size_t ti = 0; ti < sizeof(types) / sizeof(types[0]); ti++) {
		const struct type_case *t = &types[ti];
		const struct ctx_desc *desc = ctx_desc(t->prog_type, t->attach);

		for (unsigned off = 0; off < desc->size + 8; off++) {
			for (unsigned s = 0; s < 4; s++) {
				for (int write = 0; write < 2; write++) {
					enum insn_op op = write ? stores[s] : loads[s];
					const struct ctx_field *field;
					bool ours = ctx_check_access(desc, off, insn_access_size(op),
								     write, &field, NULL) == 0;
					int theirs = kernel_accepts(t, off, op, write);

					if (theirs < 0) {
						printf("SKIP: the kernel does not load %s programs: %s\n",
						       t->name, strerror(errno));
						return SKIP;
					}
					compared++;
					if (ours != (theirs == 1)) {
						mismatches++;
						printf("%s off=%u size=%u %s: kernel %s, Sluice %s\n",
						       t->name, off, insn_access_size(op),
						       write ? "store" : "load",
						       theirs ? "accepts" : "refuses",
						       ours ? "accepts" : "refuses");
					}
				}
			}
		}
	}
	printf("%u accesses compared, %u mismatches\n", compared, mismatches);
	return mismatches ? 1 : 0;
}
