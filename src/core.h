/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_CORE_H
#define SLUICE_CORE_H

/*
 * CO-RE: compile once, run everywhere.  A relocation recorded by clang in
 * .BTF.ext names a type in the object's (local) BTF and an access path; it
 * is resolved against the target's BTF (the running kernel's), and the
 * instruction's immediate or offset is patched with the target's answer,
 * exactly as libbpf does (same candidate rules, same patching, the same
 * "poison" call when a relocation cannot be satisfied).
 */
#include <stddef.h>

#include <sluice/insn.h>

#include "btf.h"

/* A target BTF with its name index built once, shared by every relocation. */
struct core_target;

struct core_target *core_target_new(const struct sluice_btf *target,
				    struct sluice_error *err);
void core_target_free(struct core_target *t);

/*
 * Resolve one relocation and patch insns[relo->insn] (and, for lddw, the
 * next slot).  Returns 0 also when the relocation is poisoned (the program
 * then fails only if that instruction runs, as with libbpf); <0 when the
 * relocation itself is malformed, with the reason in err.
 */
int core_relocate(const struct sluice_btf *local, struct core_target *target,
		  const struct btf_ext_core *relo, struct sluice_insn *insns,
		  size_t count, struct sluice_error *err);

#endif
