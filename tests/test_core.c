/* SPDX-License-Identifier: MIT */
/*
 * CO-RE relocation: every relocation kind against a target whose types
 * moved, grew, were renamed by flavor or are missing, with the exact values
 * libbpf 1.1 produces for the same local and target BTF (checked against
 * libbpf's own relocation code when these tests were written), poisoning,
 * load-size changes, ambiguity, candidate pruning, and malformed
 * relocations.  sample.bpf.o (tests/btf) adds a real clang object.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <linux/bpf.h>

#include "btf.h"
#include "btf/btf_builder.h"
#include "core.h"

#ifndef BTF_TEST_DATA
#define BTF_TEST_DATA "tests/btf"
#endif

#define POISON_HELPER 195896080 /* 0xbad2310 */

static struct sluice_btf *build(struct btf_builder *b)
{
	size_t size;
	const void *data = bb_finish(b, &size);
	struct sluice_btf *btf = btf_parse(data, size, NULL, NULL);

	assert_non_null(btf);
	return btf;
}

/* Local (the object's) types. */
enum {
	L_INT = 1, L_UINT, L_FOO, L_ANON, L_ARR, L_E, L_FOO_V2, L_MISSING, L_FOO_T, L_FOO_V3,
	L_E_X, L_BIG,
};

static struct sluice_btf *local_btf(void)
{
	struct btf_builder *b = malloc(sizeof(*b));
	struct sluice_btf *btf;

	bb_init(b);
	bb_int(b, "int", 4, BTF_INT_SIGNED);
	bb_int(b, "unsigned int", 4, 0);
	bb_type(b, "foo", BTF_KIND_STRUCT, true, 7, 48);
	bb_record(b, "a", L_INT, 0);
	bb_record(b, "b", L_INT, 32);
	bb_record(b, NULL, L_ANON, 64);
	bb_record(b, "flags", L_UINT, BB_BITFIELD(3, 96));
	bb_record(b, "arr", L_ARR, 128);
	bb_record(b, "u", L_UINT, 256);
	bb_record(b, "s", L_INT, 288);
	bb_type(b, NULL, BTF_KIND_STRUCT, false, 1, 4);
	bb_record(b, "c", L_INT, 0);
	bb_array(b, L_INT, L_INT, 4);
	bb_type(b, "e", BTF_KIND_ENUM, false, 2, 4);
	bb_pair(b, "A", 1);
	bb_pair(b, "B", 2);
	bb_type(b, "foo___v2", BTF_KIND_STRUCT, false, 1, 4);
	bb_record(b, "b", L_INT, 0);
	bb_type(b, "missing", BTF_KIND_STRUCT, false, 1, 4);
	bb_record(b, "x", L_INT, 0);
	bb_type(b, "foo_t", BTF_KIND_TYPEDEF, false, 0, L_FOO);
	bb_type(b, "foo___v3", BTF_KIND_STRUCT, false, 1, 4);
	bb_record(b, "gone", L_INT, 0);
	bb_type(b, "e___x", BTF_KIND_ENUM, false, 1, 4);
	bb_pair(b, "C", 5);
	bb_type(b, "big", BTF_KIND_STRUCT, false, 1, 4);
	bb_record(b, "x", L_INT, 0);
	btf = build(b);
	free(b);
	return btf;
}

/* Target (the kernel's) types: foo grew, its fields moved, c went into an anonymous union. */
enum {
	T_INT = 1, T_LONG, T_ULONG, T_FOO, T_UNION, T_UINT, T_ARR, T_E, T_FOO_T, T_BIG, T_CHARS,
	T_CHAR,
};

static struct sluice_btf *target_btf(void)
{
	struct btf_builder *b = malloc(sizeof(*b));
	struct sluice_btf *btf;

	bb_init(b);
	bb_int(b, "int", 4, BTF_INT_SIGNED);
	bb_int(b, "long", 8, BTF_INT_SIGNED);
	bb_int(b, "unsigned long", 8, 0);
	bb_type(b, "foo", BTF_KIND_STRUCT, true, 8, 72);
	bb_record(b, "pad", T_LONG, 0);
	bb_record(b, "b", T_INT, 64);
	bb_record(b, "a", T_INT, 96);
	bb_record(b, NULL, T_UNION, 128);
	bb_record(b, "flags", T_UINT, BB_BITFIELD(5, 170));
	bb_record(b, "arr", T_ARR, 192);
	bb_record(b, "u", T_ULONG, 448);
	bb_record(b, "s", T_LONG, 512);
	bb_type(b, NULL, BTF_KIND_UNION, false, 2, 8);
	bb_record(b, "z", T_LONG, 0);
	bb_record(b, "c", T_INT, 0);
	bb_int(b, "unsigned int", 4, 0);
	bb_array(b, T_INT, T_INT, 8);
	bb_type(b, "e", BTF_KIND_ENUM, false, 2, 4);
	bb_pair(b, "B", 20);
	bb_pair(b, "A", 10);
	bb_type(b, "foo_t", BTF_KIND_TYPEDEF, false, 0, T_FOO);
	bb_type(b, "big", BTF_KIND_STRUCT, false, 2, 40004);
	bb_record(b, "pad", T_CHARS, 0);
	bb_record(b, "x", T_INT, 320000);
	bb_array(b, T_CHAR, T_INT, 40000);
	bb_int(b, "char", 1, 0);
	btf = build(b);
	free(b);
	return btf;
}

struct fixture {
	struct sluice_btf *local, *target;
	struct core_target *core;
	struct sluice_error err;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->local = local_btf();
	f->target = target_btf();
	f->core = core_target_new(f->target, NULL);
	assert_non_null(f->core);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	core_target_free(f->core);
	btf_free(f->target);
	btf_free(f->local);
	free(f);
	return 0;
}

static struct sluice_insn ldx(uint8_t size, int16_t off)
{
	return (struct sluice_insn){ .code = BPF_LDX | BPF_MEM | size, .dst = 0, .src = 1, .off = off };
}

static struct sluice_insn mov(int32_t imm)
{
	return (struct sluice_insn){ .code = BPF_ALU64 | BPF_MOV | BPF_K, .imm = imm };
}

static int relocate(struct fixture *f, uint32_t type, const char *access, uint32_t kind,
		    struct sluice_insn *insns, size_t count)
{
	struct btf_ext_core relo = { .insn = 0, .type_id = type, .access = access, .kind = kind };

	memset(&f->err, 0, sizeof(f->err));
	return core_relocate(f->local, f->core, &relo, insns, count, &f->err);
}

static void assert_poisoned(const struct sluice_insn *insn)
{
	assert_int_equal(insn->code, BPF_JMP | BPF_CALL);
	assert_int_equal(insn->dst, 0);
	assert_int_equal(insn->src, 0);
	assert_int_equal(insn->off, 0);
	assert_int_equal(insn->imm, POISON_HELPER);
}

/* A `mov r0, imm` holding the local value, and what the target makes of it. */
static const struct imm_case {
	const char *what;
	uint32_t type;
	const char *access;
	uint32_t kind;
	int32_t local, target;
} imm_cases[] = {
	{ "&foo->arr[2]", L_FOO, "0:4:2", BPF_CORE_FIELD_BYTE_OFFSET, 24, 32 },
	{ "&foos[1].b: the root index counts whole structs", L_FOO, "1:1", BPF_CORE_FIELD_BYTE_OFFSET, 52, 80 },
	{ "a flavor of foo", L_FOO_V2, "0:0", BPF_CORE_FIELD_BYTE_OFFSET, 0, 8 },
	{ "foo through a typedef, indexed as an array", L_FOO_T, "0", BPF_CORE_FIELD_BYTE_OFFSET, 0, 0 },
	{ "a signed, wider field: only loads mind", L_FOO, "0:6", BPF_CORE_FIELD_BYTE_OFFSET, 36, 64 },
	{ "an offset too large for a load", L_BIG, "0:0", BPF_CORE_FIELD_BYTE_OFFSET, 0, 40000 },
	{ "sizeof(foo->b)", L_FOO, "0:1", BPF_CORE_FIELD_BYTE_SIZE, 4, 4 },
	{ "sizeof(foo->arr)", L_FOO, "0:4", BPF_CORE_FIELD_BYTE_SIZE, 16, 32 },
	{ "sizeof(foo->u)", L_FOO, "0:5", BPF_CORE_FIELD_BYTE_SIZE, 4, 8 },
	{ "foo->a is signed", L_FOO, "0:0", BPF_CORE_FIELD_SIGNED, 1, 1 },
	{ "foo->flags is not", L_FOO, "0:3", BPF_CORE_FIELD_SIGNED, 0, 0 },
	/* flags: 3 bits at bit 96 locally, 5 bits at bit 170 in the target, in a 4-byte unit */
	{ "bitfield offset", L_FOO, "0:3", BPF_CORE_FIELD_BYTE_OFFSET, 12, 20 },
	{ "bitfield size", L_FOO, "0:3", BPF_CORE_FIELD_BYTE_SIZE, 4, 4 },
	{ "bitfield left shift", L_FOO, "0:3", BPF_CORE_FIELD_LSHIFT_U64, 61, 49 },
	{ "bitfield right shift", L_FOO, "0:3", BPF_CORE_FIELD_RSHIFT_U64, 61, 59 },
	/* compilers place bitfield loads differently: libbpf does not check those values */
	{ "bitfield offset, unchecked", L_FOO, "0:3", BPF_CORE_FIELD_BYTE_OFFSET, 999, 20 },
	{ "bitfield left shift, unchecked", L_FOO, "0:3", BPF_CORE_FIELD_LSHIFT_U64, 7, 49 },
	{ "foo->a exists", L_FOO, "0:0", BPF_CORE_FIELD_EXISTS, 1, 1 },
	{ "foo->c exists, in a union now", L_FOO, "0:2:0", BPF_CORE_FIELD_EXISTS, 1, 1 },
	{ "foo exists, foo->gone does not", L_FOO_V3, "0:0", BPF_CORE_FIELD_EXISTS, 1, 0 },
	{ "no missing type, no field", L_MISSING, "0:0", BPF_CORE_FIELD_EXISTS, 1, 0 },
	{ "the target id of a typedef", L_FOO_T, "0", BPF_CORE_TYPE_ID_TARGET, 0, T_FOO_T },
	{ "no target id for a missing type", L_MISSING, "0", BPF_CORE_TYPE_ID_TARGET, 0, 0 },
	{ "an anonymous type's local id", L_ANON, "0", BPF_CORE_TYPE_ID_LOCAL, 0, L_ANON },
	{ "foo exists", L_FOO, "0", BPF_CORE_TYPE_EXISTS, 1, 1 },
	{ "foo_t exists", L_FOO_T, "0", BPF_CORE_TYPE_EXISTS, 1, 1 },
	{ "missing does not", L_MISSING, "0", BPF_CORE_TYPE_EXISTS, 1, 0 },
	{ "sizeof(foo)", L_FOO, "0", BPF_CORE_TYPE_SIZE, 48, 72 },
	{ "sizeof(missing)", L_MISSING, "0", BPF_CORE_TYPE_SIZE, 4, 0 },
	{ "foo exists but c is in a union, not a struct", L_FOO, "0", BPF_CORE_TYPE_MATCHES, 1, 0 },
	{ "enum e matches, its values reordered", L_E, "0", BPF_CORE_TYPE_MATCHES, 1, 1 },
	{ "e::B exists", L_E, "1", BPF_CORE_ENUMVAL_EXISTS, 1, 1 },
	{ "e::A", L_E, "0", BPF_CORE_ENUMVAL_VALUE, 1, 10 },
	{ "e::B", L_E, "1", BPF_CORE_ENUMVAL_VALUE, 2, 20 },
	{ "e___x::C, a flavor of e which has no C", L_E_X, "0", BPF_CORE_ENUMVAL_EXISTS, 1, 0 },
};

static void immediates(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(imm_cases) / sizeof(imm_cases[0]); i++) {
		const struct imm_case *c = &imm_cases[i];
		struct sluice_insn insn = mov(c->local);

		if (relocate(f, c->type, c->access, c->kind, &insn, 1))
			fail_msg("%s: %s", c->what, f->err.msg);
		if (insn.code != (BPF_ALU64 | BPF_MOV | BPF_K) || insn.imm != c->target)
			fail_msg("%s: code 0x%02x imm %d, not %d", c->what, insn.code, insn.imm,
				 c->target);
	}
}

static void loads(void **state)
{
	struct fixture *f = *state;
	struct sluice_insn insn = ldx(BPF_W, 0);

	assert_int_equal(relocate(f, L_FOO, "0:0", BPF_CORE_FIELD_BYTE_OFFSET, &insn, 1), 0);
	assert_int_equal(insn.off, 12);
	assert_int_equal(insn.code, BPF_LDX | BPF_MEM | BPF_W);
	insn = ldx(BPF_W, 4);
	assert_int_equal(relocate(f, L_FOO, "0:1", BPF_CORE_FIELD_BYTE_OFFSET, &insn, 1), 0);
	assert_int_equal(insn.off, 8);
	/* c sits in an anonymous struct locally, in an anonymous union in the target */
	insn = ldx(BPF_W, 8);
	assert_int_equal(relocate(f, L_FOO, "0:2:0", BPF_CORE_FIELD_BYTE_OFFSET, &insn, 1), 0);
	assert_int_equal(insn.off, 16);
}

static void wide_immediates(void **state)
{
	struct fixture *f = *state;
	struct sluice_insn ld[2] = { { .code = BPF_LD | BPF_IMM | BPF_DW, .imm = L_FOO }, { 0 } };

	assert_int_equal(relocate(f, L_FOO, "0", BPF_CORE_TYPE_ID_TARGET, ld, 2), 0);
	assert_int_equal(ld[0].imm, T_FOO);
	assert_int_equal(ld[1].imm, 0);
	/* local ids are taken as they are, whatever the instruction held */
	ld[0].imm = 12345;
	assert_int_equal(relocate(f, L_FOO, "0", BPF_CORE_TYPE_ID_LOCAL, ld, 2), 0);
	assert_int_equal(ld[0].imm, L_FOO);
	/* a missing enum value poisons both halves */
	ld[0].imm = 5;
	assert_int_equal(relocate(f, L_E_X, "0", BPF_CORE_ENUMVAL_VALUE, ld, 2), 0);
	assert_poisoned(&ld[0]);
	assert_poisoned(&ld[1]);
}

static void poisoning(void **state)
{
	struct fixture *f = *state;
	struct sluice_insn insns[2] = { ldx(BPF_W, 0), mov(7) };

	assert_int_equal(relocate(f, L_MISSING, "0:0", BPF_CORE_FIELD_BYTE_OFFSET, insns, 2), 0);
	assert_poisoned(&insns[0]);
	assert_int_equal(insns[1].imm, 7);
	insns[0] = mov(4);
	assert_int_equal(relocate(f, L_FOO_V3, "0:0", BPF_CORE_FIELD_BYTE_SIZE, insns, 1), 0);
	assert_poisoned(&insns[0]);
}

static void load_size_follows_unsigned_fields(void **state)
{
	struct fixture *f = *state;
	struct sluice_insn insn = ldx(BPF_W, 32);

	/* u: a 4-byte unsigned int locally, an 8-byte unsigned long in the target */
	assert_int_equal(relocate(f, L_FOO, "0:5", BPF_CORE_FIELD_BYTE_OFFSET, &insn, 1), 0);
	assert_int_equal(insn.code, BPF_LDX | BPF_MEM | BPF_DW);
	assert_int_equal(insn.off, 56);
	/* s: signed, so a wider load would misread it */
	insn = ldx(BPF_W, 36);
	assert_int_equal(relocate(f, L_FOO, "0:6", BPF_CORE_FIELD_BYTE_OFFSET, &insn, 1), 0);
	assert_poisoned(&insn);
	/* the instruction's width must be the local field's */
	insn = ldx(BPF_H, 32);
	assert_int_equal(relocate(f, L_FOO, "0:5", BPF_CORE_FIELD_BYTE_OFFSET, &insn, 1), -EINVAL);
	assert_string_equal(f->err.msg, "CO-RE: insn 0: byte_off of [3] struct foo, access '0:5': "
					"the instruction accesses 2 bytes, not 4");
}

static void instruction_checks(void **state)
{
	struct fixture *f = *state;
	struct sluice_insn insns[2] = { ldx(BPF_W, 5) };

	assert_int_equal(relocate(f, L_FOO, "0:0", BPF_CORE_FIELD_BYTE_OFFSET, insns, 1), -EINVAL);
	assert_string_equal(f->err.msg, "CO-RE: insn 0: byte_off of [3] struct foo, access '0:0': "
					"the instruction's offset is 5, not 0");
	insns[0] = mov(3);
	assert_int_equal(relocate(f, L_FOO, "0:1", BPF_CORE_FIELD_BYTE_SIZE, insns, 1), -EINVAL);
	assert_string_equal(f->err.msg, "CO-RE: insn 0: byte_sz of [3] struct foo, access '0:1': "
					"the instruction's immediate is 3, not 4");
	insns[0] = (struct sluice_insn){ .code = BPF_ALU64 | BPF_MOV | BPF_X, .src = 2 };
	assert_int_equal(relocate(f, L_FOO, "0:1", BPF_CORE_FIELD_BYTE_SIZE, insns, 1), -EINVAL);
	assert_string_equal(f->err.msg, "CO-RE: insn 0: byte_sz of [3] struct foo, access '0:1': "
					"the ALU instruction has no immediate");
	insns[0] = (struct sluice_insn){ .code = BPF_JMP | BPF_JEQ | BPF_K, .imm = 4 };
	assert_int_equal(relocate(f, L_FOO, "0:1", BPF_CORE_FIELD_BYTE_SIZE, insns, 1), -EINVAL);
	assert_string_equal(f->err.msg, "CO-RE: insn 0: byte_sz of [3] struct foo, access '0:1': "
					"opcode 0x15 cannot be relocated");
	insns[0] = (struct sluice_insn){ .code = BPF_LD | BPF_IMM | BPF_DW, .imm = 4 };
	assert_int_equal(relocate(f, L_FOO, "0:1", BPF_CORE_FIELD_BYTE_SIZE, insns, 1), -EINVAL);
	assert_string_equal(f->err.msg, "CO-RE: insn 0: byte_sz of [3] struct foo, access '0:1': "
					"lddw is missing its second half");
	insns[1] = (struct sluice_insn){ .src = 1 };
	assert_int_equal(relocate(f, L_FOO, "0:1", BPF_CORE_FIELD_BYTE_SIZE, insns, 2), -EINVAL);
	assert_string_equal(f->err.msg, "CO-RE: insn 0: byte_sz of [3] struct foo, access '0:1': "
					"not a plain lddw");
	insns[0] = ldx(BPF_W, 0);
	assert_int_equal(relocate(f, L_BIG, "0:0", BPF_CORE_FIELD_BYTE_OFFSET, insns, 1), -ERANGE);
	assert_string_equal(f->err.msg, "CO-RE: insn 0: byte_off of [12] struct big, access '0:0': "
					"offset 40000 does not fit the instruction");
}

static void malformed_relocations(void **state)
{
	struct fixture *f = *state;
	struct sluice_insn insn = mov(0);
	struct btf_ext_core relo = { .insn = 1, .type_id = L_FOO, .access = "0", .kind = 0 };

	assert_int_equal(relocate(f, L_FOO, "0:9", BPF_CORE_FIELD_BYTE_OFFSET, &insn, 1), -EINVAL);
	assert_string_equal(f->err.msg, "CO-RE: insn 0: byte_off of [3] struct foo, access '0:9': "
					"the access string does not fit the type (Invalid argument)");
	assert_int_equal(relocate(f, L_FOO, "", BPF_CORE_FIELD_BYTE_OFFSET, &insn, 1), -EINVAL);
	assert_int_equal(relocate(f, L_FOO, ":0", BPF_CORE_FIELD_BYTE_OFFSET, &insn, 1), -EINVAL);
	assert_int_equal(relocate(f, L_FOO, "0:", BPF_CORE_FIELD_BYTE_OFFSET, &insn, 1), -EINVAL);
	assert_int_equal(relocate(f, L_FOO, "0:x", BPF_CORE_FIELD_BYTE_OFFSET, &insn, 1), -EINVAL);
	assert_int_equal(relocate(f, L_FOO, "1", BPF_CORE_TYPE_SIZE, &insn, 1), -EINVAL);
	assert_int_equal(relocate(f, L_FOO, "0", BPF_CORE_ENUMVAL_VALUE, &insn, 1), -EINVAL);
	assert_int_equal(relocate(f, L_E, "2", BPF_CORE_ENUMVAL_VALUE, &insn, 1), -EINVAL);
	assert_int_equal(relocate(f, L_FOO, "0:1:0", BPF_CORE_FIELD_BYTE_OFFSET, &insn, 1), -EINVAL);
	/* arrays take only indices below their length (foo.arr has 4) */
	assert_int_equal(relocate(f, L_FOO, "0:4:4", BPF_CORE_FIELD_BYTE_OFFSET, &insn, 1), -EINVAL);
	/* a bitfield has no size as an array element */
	assert_int_equal(relocate(f, L_FOO, "0:4:1", BPF_CORE_FIELD_SIGNED, &insn, 1), -EINVAL);
	assert_int_equal(relocate(f, L_FOO, "0", 13, &insn, 1), -EINVAL);
	assert_string_equal(f->err.msg, "CO-RE: insn 0: unknown of [3] struct foo, access '0': "
					"the access string does not fit the type (Invalid argument)");
	assert_int_equal(relocate(f, L_ANON, "0:0", BPF_CORE_FIELD_BYTE_OFFSET, &insn, 1), -EINVAL);
	assert_string_equal(f->err.msg, "CO-RE: insn 0: byte_off of [4] struct <anon>, access '0:0': "
					"an anonymous type has no candidates");
	assert_int_equal(core_relocate(f->local, f->core, &relo, &insn, 1, &f->err), -EINVAL);
	assert_string_equal(f->err.msg, "CO-RE: instruction 1 is beyond the section's 1");
	relo = (struct btf_ext_core){ .insn = 0, .type_id = 99, .access = "0", .kind = 0 };
	assert_int_equal(core_relocate(f->local, f->core, &relo, &insn, 1, &f->err), -EINVAL);
	assert_string_equal(f->err.msg, "CO-RE: insn 0: type 99 is beyond the last id 12");
}

/* Target BTF of two flavors of foo: {int a; int b;} and {int b; int a;}, or {int a@32} and {int a; int b;}. */
static struct sluice_btf *two_foos(bool swapped)
{
	struct btf_builder *b = malloc(sizeof(*b));
	struct sluice_btf *btf;

	bb_init(b);
	bb_int(b, "int", 4, BTF_INT_SIGNED);
	if (swapped) {
		bb_type(b, "foo", BTF_KIND_STRUCT, false, 2, 8);
		bb_record(b, "a", 1, 0);
		bb_record(b, "b", 1, 32);
		bb_type(b, "foo___2", BTF_KIND_STRUCT, false, 2, 8);
		bb_record(b, "b", 1, 0);
		bb_record(b, "a", 1, 32);
	} else {
		bb_type(b, "foo", BTF_KIND_STRUCT, false, 1, 8);
		bb_record(b, "a", 1, 32);
		bb_type(b, "foo___2", BTF_KIND_STRUCT, false, 2, 8);
		bb_record(b, "a", 1, 0);
		bb_record(b, "b", 1, 32);
	}
	btf = build(b);
	free(b);
	return btf;
}

static void ambiguous_candidates(void **state)
{
	struct fixture *f = *state;
	struct sluice_btf *target = two_foos(true);
	struct core_target *core = core_target_new(target, NULL);
	struct btf_ext_core relo = { .insn = 0, .type_id = L_FOO, .access = "0:0", .kind = 0 };
	struct sluice_insn insn = ldx(BPF_W, 0);

	assert_int_equal(core_relocate(f->local, core, &relo, &insn, 1, &f->err), -EINVAL);
	assert_string_equal(f->err.msg, "CO-RE: insn 0: byte_off of [3] struct foo, access '0:0': "
					"candidates disagree: bit offset 32 in [3], 0 before");
	/* where they agree, there is no ambiguity: both are 8 bytes */
	relo = (struct btf_ext_core){ .insn = 0, .type_id = L_FOO, .access = "0",
				      .kind = BPF_CORE_TYPE_SIZE };
	insn = mov(48);
	assert_int_equal(core_relocate(f->local, core, &relo, &insn, 1, &f->err), 0);
	assert_int_equal(insn.imm, 8);
	core_target_free(core);
	btf_free(target);
}

static void matching_candidates_are_kept(void **state)
{
	struct fixture *f = *state;
	struct sluice_btf *target = two_foos(false);
	struct core_target *core = core_target_new(target, NULL);
	struct btf_ext_core a = { .insn = 0, .type_id = L_FOO, .access = "0:0", .kind = 0 };
	struct btf_ext_core b = { .insn = 0, .type_id = L_FOO, .access = "0:1", .kind = 0 };
	struct sluice_insn insn = ldx(BPF_W, 0);

	/* foo.a alone is ambiguous: 4 in foo, 0 in foo___2 */
	assert_int_equal(core_relocate(f->local, core, &a, &insn, 1, &f->err), -EINVAL);
	core_target_free(core);

	/* after foo.b, which only foo___2 has, foo___2 is foo's only candidate (libbpf's cache) */
	core = core_target_new(target, NULL);
	insn = ldx(BPF_W, 4);
	assert_int_equal(core_relocate(f->local, core, &b, &insn, 1, &f->err), 0);
	assert_int_equal(insn.off, 4);
	insn = ldx(BPF_W, 0);
	assert_int_equal(core_relocate(f->local, core, &a, &insn, 1, &f->err), 0);
	assert_int_equal(insn.off, 0);
	/* another local BTF starts with fresh candidates */
	{
		struct sluice_btf *other = local_btf();

		insn = ldx(BPF_W, 0);
		assert_int_equal(core_relocate(other, core, &a, &insn, 1, &f->err), -EINVAL);
		btf_free(other);
	}
	core_target_free(core);
	btf_free(target);
}

/* The instructions and BTF of sample.bpf.o, through libelf. */
struct sample {
	int fd;
	Elf *elf;
	struct sluice_btf *btf;
	struct btf_ext *ext;
	struct sluice_insn *insns;
	size_t count;
};

static Elf_Data *section_data(Elf *elf, const char *name)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	assert_int_equal(elf_getshdrstrndx(elf, &shstrndx), 0);
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;

		assert_non_null(gelf_getshdr(scn, &sh));
		if (!strcmp(elf_strptr(elf, shstrndx, sh.sh_name), name))
			return elf_getdata(scn, NULL);
	}
	fail_msg("sample.bpf.o has no section %s", name);
	return NULL;
}

static void open_sample(struct sample *s)
{
	Elf_Data *btf, *ext, *text;

	elf_version(EV_CURRENT);
	s->fd = open(BTF_TEST_DATA "/sample.bpf.o", O_RDONLY);
	assert_true(s->fd >= 0);
	s->elf = elf_begin(s->fd, ELF_C_READ, NULL);
	assert_non_null(s->elf);
	btf = section_data(s->elf, ".BTF");
	ext = section_data(s->elf, ".BTF.ext");
	text = section_data(s->elf, "tp/sample");
	s->btf = btf_parse(btf->d_buf, btf->d_size, NULL, NULL);
	assert_non_null(s->btf);
	s->ext = btf_ext_parse(ext->d_buf, ext->d_size, s->btf, NULL);
	assert_non_null(s->ext);
	s->count = text->d_size / sizeof(struct sluice_insn);
	s->insns = malloc(text->d_size);
	memcpy(s->insns, text->d_buf, text->d_size);
}

static void close_sample(struct sample *s)
{
	free(s->insns);
	btf_ext_free(s->ext);
	btf_free(s->btf);
	elf_end(s->elf);
	close(s->fd);
}

static void sample_object_against_itself(void **state)
{
	const struct btf_ext_section *sec;
	struct sluice_insn *before;
	struct core_target *core;
	struct sample s;

	(void)state;
	open_sample(&s);
	sec = btf_ext_find(s.ext, "tp/sample");
	assert_non_null(sec);
	assert_int_equal(sec->ncores, 12);
	before = malloc(s.count * sizeof(*before));
	memcpy(before, s.insns, s.count * sizeof(*before));
	/*
	 * Its own BTF as the target: task and task___old are both candidates
	 * for each other, they agree where both have the field, and every
	 * value stays what clang wrote but for the bitfield's: clang reads
	 * `state` as 8 bytes at offset 0, libbpf as 4 bytes at offset 4.
	 */
	core = core_target_new(s.btf, NULL);
	for (size_t i = 0; i < sec->ncores; i++) {
		struct sluice_error err = { 0 };

		assert_int_equal(core_relocate(s.btf, core, &sec->cores[i], s.insns, s.count, &err), 0);
	}
	assert_int_equal(before[20].imm, 0);
	assert_int_equal(s.insns[20].imm, 4);  /* byte offset */
	assert_int_equal(before[25].imm, 8);
	assert_int_equal(s.insns[25].imm, 4);  /* byte size */
	assert_int_equal(before[28].imm, 24);
	assert_int_equal(s.insns[28].imm, 56); /* left shift */
	before[20].imm = 4;
	before[25].imm = 4;
	before[28].imm = 56;
	assert_memory_equal(before, s.insns, s.count * sizeof(*before));
	core_target_free(core);
	free(before);
	close_sample(&s);
}

static void sample_object_against_a_new_layout(void **state)
{
	struct btf_builder *b = malloc(sizeof(*b));
	const struct btf_ext_section *sec;
	struct sluice_btf *target;
	struct core_target *core;
	struct sample s;

	(void)state;
	/* the target's task: pid moved behind a pointer-sized field, the anonymous start is named now */
	bb_init(b);
	bb_int(b, "int", 4, BTF_INT_SIGNED);                          /* 1 */
	bb_int(b, "unsigned int", 4, 0);                              /* 2 */
	bb_int(b, "long", 8, BTF_INT_SIGNED);                         /* 3 */
	bb_int(b, "char", 1, BTF_INT_SIGNED);                         /* 4 */
	bb_array(b, 4, 1, 16);                                        /* 5 */
	bb_type(b, "task", BTF_KIND_STRUCT, true, 5, 48);             /* 6 */
	bb_record(b, "next", 3, 0);
	bb_record(b, "pid", 1, 64);
	bb_record(b, "state", 2, BB_BITFIELD(5, 96));
	bb_record(b, "start", 3, 128);
	bb_record(b, "comm", 5, 192);
	bb_type(b, "mode", BTF_KIND_ENUM, false, 2, 4);               /* 7 */
	bb_pair(b, "MODE_B", 7);
	bb_pair(b, "MODE_A", 9);
	target = build(b);
	core = core_target_new(target, NULL);
	open_sample(&s);
	sec = btf_ext_find(s.ext, "tp/sample");
	for (size_t i = 0; i < sec->ncores; i++) {
		struct sluice_error err = { 0 };

		assert_int_equal(core_relocate(s.btf, core, &sec->cores[i], s.insns, s.count, &err), 0);
	}
	/* BPF_CORE_READ(t, pid): the offset added to the pointer */
	assert_int_equal(s.insns[1].imm, 8);
	/* BPF_CORE_READ(t, start) */
	assert_int_equal(s.insns[8].imm, 16);
	/* bpf_core_field_exists(task___old->pid): task has a pid */
	assert_int_equal(s.insns[17].imm, 1);
	/* t->comm[3] */
	assert_int_equal(s.insns[42].off, 27);
	/* bpf_core_enum_value(enum mode, MODE_B), an lddw */
	assert_int_equal(s.insns[46].imm, 7);
	close_sample(&s);
	core_target_free(core);
	btf_free(target);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(immediates, setup, teardown),
		cmocka_unit_test_setup_teardown(loads, setup, teardown),
		cmocka_unit_test_setup_teardown(wide_immediates, setup, teardown),
		cmocka_unit_test_setup_teardown(poisoning, setup, teardown),
		cmocka_unit_test_setup_teardown(load_size_follows_unsigned_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(instruction_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(malformed_relocations, setup, teardown),
		cmocka_unit_test_setup_teardown(ambiguous_candidates, setup, teardown),
		cmocka_unit_test_setup_teardown(matching_candidates_are_kept, setup, teardown),
		cmocka_unit_test(sample_object_against_itself),
		cmocka_unit_test(sample_object_against_a_new_layout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
