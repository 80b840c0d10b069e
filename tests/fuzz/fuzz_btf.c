/* SPDX-License-Identifier: MIT */
/*
 * Bytes in as BTF (alone, and split on a small fixed base), then as the
 * .BTF.ext of that fixed BTF.  Whatever parses must be safe to walk: every
 * type's name, size and qualifiers, lookups by name (which must find a
 * type of that very name and kind), and CO-RE relocations both ways
 * between the fuzzed BTF and the fixed one.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bpf.h>

#include "../btf/btf_builder.h"
#include "btf.h"
#include "core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SLOTS 64

/* A little of everything CO-RE looks at: flavors, bitfields, anonymous members, arrays, enums. */
static const struct sluice_btf *fixed_btf(void)
{
	static struct sluice_btf *btf;
	static struct btf_builder b;
	size_t size;
	const void *raw;

	if (btf)
		return btf;
	bb_init(&b);
	bb_int(&b, "int", 4, BTF_INT_SIGNED);                        /* 1 */
	bb_int(&b, "unsigned int", 4, 0);                            /* 2 */
	bb_type(&b, "foo", BTF_KIND_STRUCT, true, 4, 32);            /* 3 */
	bb_record(&b, "a", 1, 0);
	bb_record(&b, "flags", 2, BB_BITFIELD(3, 32));
	bb_record(&b, NULL, 4, 64);
	bb_record(&b, "arr", 5, 96);
	bb_type(&b, NULL, BTF_KIND_STRUCT, false, 1, 4);             /* 4 */
	bb_record(&b, "c", 1, 0);
	bb_array(&b, 1, 1, 4);                                       /* 5 */
	bb_type(&b, "e", BTF_KIND_ENUM, true, 2, 4);                 /* 6 */
	bb_pair(&b, "A", (uint32_t)-1);
	bb_pair(&b, "B", 2);
	bb_type(&b, "foo___v2", BTF_KIND_STRUCT, false, 1, 4);       /* 7 */
	bb_record(&b, "a", 1, 0);
	bb_type(&b, "foo_t", BTF_KIND_TYPEDEF, false, 0, 3);         /* 8 */
	bb_type(&b, NULL, BTF_KIND_PTR, false, 0, 3);                /* 9 */
	bb_type(&b, NULL, BTF_KIND_FUNC_PROTO, false, 1, 1);         /* 10 */
	bb_pair(&b, "p", 9);
	bb_type(&b, "prog", BTF_KIND_FUNC, false, 1, 10);            /* 11 */
	bb_type(&b, "e64", BTF_KIND_ENUM64, false, 1, 8);            /* 12 */
	bb_record(&b, "BIG", 1, 2);
	bb_str(&b, ".text");
	bb_str(&b, "0");
	bb_str(&b, "0:0");
	bb_str(&b, "0:1");
	bb_str(&b, "0:2:0");
	bb_str(&b, "0:3:2");
	bb_str(&b, "1:0");
	raw = bb_finish(&b, &size);
	btf = btf_parse(raw, size, NULL, NULL);
	if (!btf)
		abort();
	return btf;
}

/* Every instruction form a relocation may patch, repeated: mov, ldx, lddw (two slots). */
static void fill_insns(struct sluice_insn *insns)
{
	for (size_t i = 0; i < SLOTS; i += 4) {
		insns[i] = (struct sluice_insn){ .code = BPF_ALU64 | BPF_MOV | BPF_K };
		insns[i + 1] = (struct sluice_insn){ .code = BPF_LDX | BPF_MEM | BPF_W, .src = 1 };
		insns[i + 2] = (struct sluice_insn){ .code = BPF_LD | BPF_IMM | BPF_DW };
		insns[i + 3] = (struct sluice_insn){ 0 };
	}
}

static void walk(const struct sluice_btf *btf)
{
	for (uint32_t id = 1; id <= btf_last_id(btf); id++) {
		const struct btf_type *t = btf_type_by_id(btf, id);
		const char *name = btf_type_name(btf, id);

		if (!t || !name || !btf_kind_str(btf_kind(t)))
			abort();
		btf_resolve_size(btf, id);
		btf_skip_modifiers(t, btf, id);
		if (btf_kind(t) == BTF_KIND_STRUCT || btf_kind(t) == BTF_KIND_UNION)
			for (unsigned i = 0; i < btf_vlen(t); i++)
				if (!btf_str(btf, btf_members(t)[i].name_off) ||
				    btf_member_bit_offset(t, i) > 8 * (uint64_t)t->size)
					abort();
		if (*name) {
			int found = btf_find_by_name_kind(btf, name, btf_kind(t));

			if (found <= 0 || (uint32_t)found > id ||
			    btf_kind(btf_type_by_id(btf, (uint32_t)found)) != btf_kind(t) ||
			    strcmp(btf_type_name(btf, (uint32_t)found), name))
				abort();
		}
	}
}

/* Every relocation kind on the first types of local, against target. */
static void relocate_all(const struct sluice_btf *local, const struct sluice_btf *target)
{
	static const char *const access[] = { "0", "0:0", "0:1", "0:2:0", "0:3:2", "1:0" };
	struct core_target *core = core_target_new(target, NULL);
	struct sluice_insn insns[SLOTS];

	if (!core)
		return;
	fill_insns(insns);
	for (uint32_t id = 0; id <= btf_last_id(local) && id < 48; id++)
		for (uint32_t kind = 0; kind <= BPF_CORE_TYPE_MATCHES + 1; kind++)
			for (size_t a = 0; a < sizeof(access) / sizeof(access[0]); a++) {
				struct btf_ext_core relo = { .insn = (id + kind + (uint32_t)a) % SLOTS,
							     .type_id = id, .access = access[a],
							     .kind = kind };

				core_relocate(local, core, &relo, insns, SLOTS, NULL);
			}
	core_target_free(core);
}

static void ext_records(const uint8_t *data, size_t size)
{
	const struct sluice_btf *btf = fixed_btf();
	struct btf_ext *ext = btf_ext_parse(data, size, btf, NULL);
	struct core_target *core;
	struct sluice_insn insns[SLOTS];

	if (!ext)
		return;
	core = core_target_new(btf, NULL);
	if (!core)
		abort();
	fill_insns(insns);
	for (size_t i = 0; i < btf_ext_section_count(ext); i++) {
		const struct btf_ext_section *s = btf_ext_section(ext, i);

		if (btf_ext_find(ext, s->name) != s)
			abort();
		for (size_t j = 0; j < s->nlines; j++)
			if (!s->lines[j].file || !s->lines[j].source)
				abort();
		for (size_t j = 0; j < s->ncores; j++)
			core_relocate(btf, core, &s->cores[j], insns, SLOTS, NULL);
	}
	core_target_free(core);
	btf_ext_free(ext);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct sluice_btf *fixed = fixed_btf();
	struct sluice_btf *btf = btf_parse(data, size, NULL, NULL);

	if (btf) {
		walk(btf);
		relocate_all(fixed, btf);
		relocate_all(btf, fixed);
		btf_free(btf);
	}
	btf = btf_parse(data, size, fixed, NULL);
	if (btf) {
		walk(btf);
		relocate_all(btf, btf);
		btf_free(btf);
	}
	ext_records(data, size);
	return 0;
}
