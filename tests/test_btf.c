/* SPDX-License-Identifier: MIT */
/*
 * BTF and BTF.ext: every kind parsed and measured, every validation rule
 * broken once (with the exact message), split BTF, files (raw and ELF), the
 * running kernel's BTF when there is one, and .BTF.ext records regrouped by
 * section.  Blobs are written by tests/btf/btf_builder.h; sample.bpf.o
 * (beside its source in tests/btf) is a real clang object.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "btf.h"
#include "btf/btf_builder.h"

static struct sluice_btf *parse(struct btf_builder *b, struct sluice_error *err)
{
	size_t size;
	const void *data = bb_finish(b, &size);

	return btf_parse(data, size, NULL, err);
}

/* Parse b, expecting failure with exactly msg. */
static void expect_error(struct btf_builder *b, const char *msg)
{
	struct sluice_error err = { 0 };

	assert_null(parse(b, &err));
	assert_int_equal(err.code, EINVAL);
	assert_string_equal(err.msg, msg);
}

static void expect_raw_error(const void *data, size_t size, int code, const char *msg)
{
	struct sluice_error err = { 0 };

	assert_null(btf_parse(data, size, NULL, &err));
	assert_int_equal(err.code, code);
	assert_int_equal(errno, code);
	assert_string_equal(err.msg, msg);
}

/* One type of every kind, with the ids the asserts below use. */
static void build_every_kind(struct btf_builder *b)
{
	bb_init(b);
	bb_int(b, "int", 4, BTF_INT_SIGNED);                          /* 1 */
	bb_type(b, NULL, BTF_KIND_PTR, false, 0, 1);                  /* 2: int * */
	bb_array(b, 1, 1, 10);                                        /* 3: int[10] */
	bb_type(b, "s", BTF_KIND_STRUCT, true, 4, 56);                /* 4 */
	bb_record(b, "a", 1, 0);
	bb_record(b, "bits", 13, BB_BITFIELD(3, 36));
	bb_record(b, "arr", 3, 64);
	bb_record(b, NULL, 5, 384);
	bb_type(b, "u", BTF_KIND_UNION, false, 2, 8);                 /* 5 */
	bb_record(b, "p", 2, 0);
	bb_record(b, "x", 1, 0);
	bb_type(b, "e", BTF_KIND_ENUM, true, 2, 4);                   /* 6 */
	bb_pair(b, "E_A", (uint32_t)-1);
	bb_pair(b, "E_B", 7);
	bb_type(b, "later", BTF_KIND_FWD, false, 0, 0);               /* 7 */
	bb_type(b, "myint", BTF_KIND_TYPEDEF, false, 0, 9);           /* 8 */
	bb_type(b, NULL, BTF_KIND_VOLATILE, false, 0, 10);            /* 9 */
	bb_type(b, NULL, BTF_KIND_CONST, false, 0, 11);               /* 10 */
	bb_type(b, "tag", BTF_KIND_TYPE_TAG, false, 0, 1);            /* 11: int */
	bb_type(b, NULL, BTF_KIND_RESTRICT, false, 0, 2);             /* 12: int *restrict */
	bb_int(b, "unsigned int", 4, 0);                              /* 13 */
	bb_type(b, NULL, BTF_KIND_FUNC_PROTO, false, 2, 1);           /* 14: int (int, ...) */
	bb_pair(b, "x", 1);
	bb_pair(b, NULL, 0);
	bb_type(b, "f", BTF_KIND_FUNC, false, BTF_FUNC_GLOBAL, 14);   /* 15 */
	bb_type(b, "v", BTF_KIND_VAR, false, 0, 4);                   /* 16 */
	bb_u32(b, BTF_VAR_GLOBAL_ALLOCATED);
	bb_type(b, ".data", BTF_KIND_DATASEC, false, 1, 56);          /* 17 */
	bb_u32(b, 16); /* secinfo: type, offset, size */
	bb_u32(b, 0);
	bb_u32(b, 56);
	bb_type(b, "double", BTF_KIND_FLOAT, false, 0, 8);            /* 18 */
	bb_type(b, "tagged", BTF_KIND_DECL_TAG, false, 0, 4);         /* 19: on member 1 of s */
	bb_u32(b, 1);
	bb_type(b, "e64", BTF_KIND_ENUM64, false, 1, 8);              /* 20 */
	bb_record(b, "BIG", 0x89abcdef, 0x01234567);
}

static void every_kind_parses_and_measures(void **state)
{
	struct btf_builder *b = malloc(sizeof(*b));
	struct sluice_error err = { 0 };
	struct sluice_btf *btf;
	const struct btf_type *t;

	(void)state;
	build_every_kind(b);
	btf = parse(b, &err);
	assert_non_null(btf);
	assert_string_equal(err.msg, "");
	assert_int_equal(btf_last_id(btf), 20);
	assert_null(btf_type_by_id(btf, 0));
	assert_null(btf_type_by_id(btf, 21));
	for (uint32_t id = 1; id <= 20; id++)
		assert_non_null(btf_type_by_id(btf, id));

	assert_int_equal(btf_resolve_size(btf, 1), 4);
	assert_int_equal(btf_resolve_size(btf, 2), 8);
	assert_int_equal(btf_resolve_size(btf, 3), 40);
	assert_int_equal(btf_resolve_size(btf, 4), 56);
	assert_int_equal(btf_resolve_size(btf, 6), 4);
	assert_int_equal(btf_resolve_size(btf, 7), -EINVAL);  /* fwd: no size */
	assert_int_equal(btf_resolve_size(btf, 8), 4);        /* typedef, volatile, const, tag */
	assert_int_equal(btf_resolve_size(btf, 12), 8);
	assert_int_equal(btf_resolve_size(btf, 14), -EINVAL); /* func_proto */
	assert_int_equal(btf_resolve_size(btf, 15), -EINVAL); /* func */
	assert_int_equal(btf_resolve_size(btf, 16), 56);      /* var: its type */
	assert_int_equal(btf_resolve_size(btf, 17), 56);
	assert_int_equal(btf_resolve_size(btf, 18), 8);
	assert_int_equal(btf_resolve_size(btf, 19), 56);      /* decl_tag: what it tags */
	assert_int_equal(btf_resolve_size(btf, 20), 8);
	assert_int_equal(btf_resolve_size(btf, 0), -EINVAL);

	assert_int_equal(btf_skip_modifiers(NULL, btf, 8), 1);
	assert_int_equal(btf_skip_modifiers(btf_type_by_id(btf, 12), btf, 12), 2);
	assert_int_equal(btf_skip_modifiers(NULL, btf, 4), 4);

	t = btf_type_by_id(btf, 4);
	assert_int_equal(btf_kind(t), BTF_KIND_STRUCT);
	assert_true(btf_kflag(t));
	assert_int_equal(btf_vlen(t), 4);
	assert_int_equal(btf_member_bit_offset(t, 1), 36);
	assert_int_equal(btf_member_bitfield_size(t, 1), 3);
	assert_int_equal(btf_member_bit_offset(t, 2), 64);
	assert_int_equal(btf_member_bitfield_size(t, 2), 0);
	assert_string_equal(btf_str(btf, btf_members(t)[2].name_off), "arr");
	assert_string_equal(btf_str(btf, btf_members(t)[3].name_off), "");
	t = btf_type_by_id(btf, 5); /* no kflag: offsets are plain bits */
	assert_int_equal(btf_member_bitfield_size(t, 0), 0);

	assert_int_equal(btf_int_bits(btf_type_by_id(btf, 1)), 32);
	assert_int_equal(btf_int_encoding(btf_type_by_id(btf, 1)), BTF_INT_SIGNED);
	assert_int_equal(btf_enums(btf_type_by_id(btf, 6))[0].val, -1);
	assert_int_equal(btf_enums64(btf_type_by_id(btf, 20))[0].val_hi32, 0x01234567);
	assert_int_equal(btf_array_info(btf_type_by_id(btf, 3))->nelems, 10);
	assert_int_equal(btf_params(btf_type_by_id(btf, 14))[1].type, 0);
	assert_int_equal(btf_var_info(btf_type_by_id(btf, 16))->linkage, BTF_VAR_GLOBAL_ALLOCATED);
	assert_int_equal(btf_secinfos(btf_type_by_id(btf, 17))[0].size, 56);

	assert_string_equal(btf_type_name(btf, 4), "s");
	assert_string_equal(btf_type_name(btf, 2), "");
	assert_string_equal(btf_type_name(btf, 0), "");
	assert_string_equal(btf_str(btf, 0), "");
	assert_null(btf_str(btf, 100000));
	assert_string_equal(btf_kind_str(BTF_KIND_FUNC_PROTO), "func_proto");
	assert_string_equal(btf_kind_str(BTF_KIND_ENUM64), "enum64");
	assert_string_equal(btf_kind_str(99), "unknown");

	assert_int_equal(btf_find_by_name_kind(btf, "int", BTF_KIND_INT), 1);
	assert_int_equal(btf_find_by_name_kind(btf, "s", BTF_KIND_STRUCT), 4);
	assert_int_equal(btf_find_by_name_kind(btf, "s", BTF_KIND_UNION), -ENOENT);
	assert_int_equal(btf_find_by_name_kind(btf, "e64", BTF_KIND_ENUM64), 20);
	assert_int_equal(btf_find_by_name_kind(btf, "nothing", BTF_KIND_INT), -ENOENT);
	btf_free(btf);
	free(b);
}

static void raw_data_is_a_copy(void **state)
{
	struct btf_builder *b = malloc(sizeof(*b));
	struct sluice_btf *btf;
	const void *data, *raw;
	size_t size, raw_size;

	(void)state;
	bb_init(b);
	bb_int(b, "int", 4, BTF_INT_SIGNED);
	data = bb_finish(b, &size);
	btf = btf_parse(data, size, NULL, NULL);
	assert_non_null(btf);
	memset(b->out, 0xff, sizeof(b->out)); /* the caller's bytes may go away */
	raw = btf_raw_data(btf, &raw_size);
	assert_int_equal(raw_size, size);
	assert_int_equal(((const struct btf_header *)raw)->magic, BTF_MAGIC);
	assert_string_equal(btf_type_name(btf, 1), "int");
	btf_free(btf);
	free(b);
}

static void first_of_equal_names_is_found(void **state)
{
	struct btf_builder *b = malloc(sizeof(*b));
	struct sluice_btf *btf;

	(void)state;
	bb_init(b);
	for (int i = 0; i < 50; i++) {
		char name[16];

		snprintf(name, sizeof(name), "t%d", i % 7);
		bb_type(b, name, i % 2 ? BTF_KIND_FWD : BTF_KIND_STRUCT, false, 0, 0);
	}
	btf = parse(b, NULL);
	assert_non_null(btf);
	assert_int_equal(btf_find_by_name_kind(btf, "t3", BTF_KIND_FWD), 4);
	assert_int_equal(btf_find_by_name_kind(btf, "t3", BTF_KIND_STRUCT), 11);
	assert_int_equal(btf_find_by_name_kind(btf, "t6", BTF_KIND_STRUCT), 7);
	btf_free(btf);
	free(b);
}

/* ---- validation: each rule broken once ---- */

static void header_rules(void **state)
{
	struct btf_builder *b = malloc(sizeof(*b));
	struct btf_header *hdr = (struct btf_header *)b->out;
	size_t size;

	(void)state;
	bb_init(b);
	bb_int(b, "int", 4, 0);
	bb_finish(b, &size);
	expect_raw_error(b->out, 10, EINVAL, "BTF: 10 bytes, shorter than the 24-byte header");
	expect_raw_error(b->out, 0, EINVAL, "BTF: 0 bytes, shorter than the 24-byte header");

	hdr->magic = 0x1234;
	expect_raw_error(b->out, size, EINVAL, "BTF: bad magic 0x1234 (expected 0xeb9f)");
	hdr->magic = 0x9feb;
	expect_raw_error(b->out, size, ENOTSUP, "BTF: byte-swapped (big-endian) BTF is not supported");
	hdr->magic = BTF_MAGIC;

	hdr->version = 2;
	expect_raw_error(b->out, size, ENOTSUP, "BTF: version 2 (only 1 is known)");
	hdr->version = 1;
	hdr->flags = 1;
	expect_raw_error(b->out, size, ENOTSUP, "BTF: unknown header flags 0x1");
	hdr->flags = 0;

	hdr->hdr_len = 100;
	expect_raw_error(b->out, size, EINVAL,
			 "BTF: header length 100 is not between 24 and the 45 bytes of data");
	hdr->hdr_len = 16;
	expect_raw_error(b->out, size, EINVAL,
			 "BTF: header length 16 is not between 24 and the 45 bytes of data");
	hdr->hdr_len = 24;

	expect_raw_error(b->out, size - 1, EINVAL,
			 "BTF: string section (offset 16, length 5) ends past the 20 bytes after the header");
	hdr->type_len = 0xfffffff0; /* a huge count must fail before anything is allocated for it */
	expect_raw_error(b->out, size, EINVAL,
			 "BTF: type section (offset 0, length 4294967280) ends past the 21 bytes after the header");
	hdr->type_len = 16;
	hdr->str_off = 8;
	expect_raw_error(b->out, size, EINVAL,
			 "BTF: type section (offset 0, length 16) overlaps string section (offset 8, length 5)");
	hdr->str_off = 16;
	free(b);
}

static void header_extension_and_alignment(void **state)
{
	uint8_t blob[64] = { 0 };
	struct btf_header hdr = { .magic = BTF_MAGIC, .version = 1, .hdr_len = 28,
				  .type_off = 0, .type_len = 0, .str_off = 0, .str_len = 1 };
	struct sluice_btf *btf;

	(void)state;
	/* a longer header with zeroes in the unknown part is fine */
	memcpy(blob, &hdr, sizeof(hdr));
	btf = btf_parse(blob, 29, NULL, NULL);
	assert_non_null(btf);
	assert_int_equal(btf_last_id(btf), 0);
	btf_free(btf);
	blob[26] = 1;
	expect_raw_error(blob, 29, ENOTSUP, "BTF: header byte 26 is set: an unknown header field");
	blob[26] = 0;

	hdr.hdr_len = 24;
	hdr.type_off = 2;
	hdr.type_len = 12;
	hdr.str_off = 0;
	memcpy(blob, &hdr, sizeof(hdr));
	expect_raw_error(blob, 40, EINVAL, "BTF: type section at byte 26 is not 4-byte aligned");
}

static void string_section_rules(void **state)
{
	uint8_t blob[40] = { 0 };
	struct btf_header hdr = { .magic = BTF_MAGIC, .version = 1, .hdr_len = 24,
				  .str_off = 0, .str_len = 4 };
	struct sluice_btf *btf;

	(void)state;
	memcpy(blob, &hdr, sizeof(hdr));
	memcpy(blob + 24, "\0ab", 4);
	btf = btf_parse(blob, 28, NULL, NULL);
	assert_non_null(btf);
	assert_string_equal(btf_str(btf, 1), "ab");
	btf_free(btf);
	memcpy(blob + 24, "\0abc", 4);
	expect_raw_error(blob, 28, EINVAL,
			 "BTF: string section of 4 bytes is empty, too large or not NUL-terminated");
	memcpy(blob + 24, "x\0b", 4);
	expect_raw_error(blob, 28, EINVAL, "BTF: string section does not start with the empty string");
	hdr.str_len = 0;
	memcpy(blob, &hdr, sizeof(hdr));
	expect_raw_error(blob, 28, EINVAL,
			 "BTF: string section of 0 bytes is empty, too large or not NUL-terminated");
}

static void name_offset_out_of_range(void **state)
{
	struct btf_builder *b = malloc(sizeof(*b));

	(void)state;
	bb_init(b);
	bb_int(b, "int", 4, 0);
	bb_type(b, "s", BTF_KIND_STRUCT, false, 1, 4);
	bb_u32(b, 999);
	bb_u32(b, 1);
	bb_u32(b, 0);
	expect_error(b, "BTF: type 2 (struct s): member 0: name offset 999 is beyond the strings (7 bytes)");
	bb_init(b);
	bb_u32(b, 7);
	bb_u32(b, BB_INFO(BTF_KIND_FWD, 0, 0));
	bb_u32(b, 0);
	expect_error(b, "BTF: type 1 (fwd): name offset 7 is beyond the strings (1 bytes)");
	free(b);
}

static void type_id_out_of_range(void **state)
{
	struct btf_builder *b = malloc(sizeof(*b));

	(void)state;
	bb_init(b);
	bb_int(b, "int", 4, 0);
	bb_type(b, "foo", BTF_KIND_STRUCT, false, 2, 8);
	bb_record(b, "a", 1, 0);
	bb_record(b, "b", 99, 32);
	expect_error(b, "BTF: type 2 (struct foo): member 1 references type 99, beyond the last id 2");

	bb_init(b);
	bb_type(b, "p", BTF_KIND_TYPEDEF, false, 0, 5);
	expect_error(b, "BTF: type 1 (typedef p): its type references type 5, beyond the last id 1");

	bb_init(b);
	bb_int(b, "int", 4, 0);
	bb_array(b, 1, 7, 3);
	expect_error(b, "BTF: type 2 (array): index type references type 7, beyond the last id 2");

	bb_init(b);
	bb_int(b, "int", 4, 0);
	bb_type(b, "v", BTF_KIND_VAR, false, 0, 0);
	bb_u32(b, 0);
	expect_error(b, "BTF: type 2 (var v): its type is void");
	free(b);
}

static void reference_loops(void **state)
{
	struct btf_builder *b = malloc(sizeof(*b));
	struct sluice_btf *btf;

	(void)state;
	bb_init(b);
	bb_type(b, "a", BTF_KIND_TYPEDEF, false, 0, 2);
	bb_type(b, "b", BTF_KIND_TYPEDEF, false, 0, 1);
	expect_error(b, "BTF: type 1 (typedef a): reference loop: type 2 refers back to it");

	bb_init(b);
	bb_array(b, 1, 1, 4);
	expect_error(b, "BTF: type 1 (array): reference loop: type 1 refers back to it");

	bb_init(b); /* a struct holding itself, through a const */
	bb_int(b, "int", 4, 0);
	bb_type(b, "node", BTF_KIND_STRUCT, false, 2, 8);
	bb_record(b, "v", 1, 0);
	bb_record(b, "self", 3, 32);
	bb_type(b, NULL, BTF_KIND_CONST, false, 0, 2);
	expect_error(b, "BTF: type 2 (struct node): reference loop: type 3 refers back to it");

	bb_init(b); /* through a pointer it is a list, not a loop */
	bb_int(b, "int", 4, 0);
	bb_type(b, "node", BTF_KIND_STRUCT, false, 2, 16);
	bb_record(b, "v", 1, 0);
	bb_record(b, "next", 3, 64);
	bb_type(b, NULL, BTF_KIND_PTR, false, 0, 2);
	btf = parse(b, NULL);
	assert_non_null(btf);
	assert_int_equal(btf_resolve_size(btf, 2), 16);
	btf_free(btf);
	free(b);
}

static void long_chains_are_not_loops(void **state)
{
	struct btf_builder *b = malloc(sizeof(*b));
	struct sluice_btf *btf;

	(void)state;
	bb_init(b);
	bb_int(b, "int", 4, 0);
	for (uint32_t id = 2; id <= 1000; id++)
		bb_type(b, NULL, BTF_KIND_CONST, false, 0, id - 1);
	btf = parse(b, NULL);
	assert_non_null(btf);
	assert_int_equal(btf_skip_modifiers(NULL, btf, 1000), 1);
	/* libbpf gives up resolving sizes after 32 steps, and so does CO-RE here */
	assert_int_equal(btf_resolve_size(btf, 32), 4);
	assert_int_equal(btf_resolve_size(btf, 1000), -EINVAL);
	btf_free(btf);
	free(b);
}

static void records_must_fit(void **state)
{
	struct btf_builder *b = malloc(sizeof(*b));

	(void)state;
	bb_init(b);
	bb_int(b, "int", 4, 0);
	bb_type(b, "s", BTF_KIND_STRUCT, false, 3, 4); /* says 3 members, has 1 */
	bb_record(b, "a", 1, 0);
	expect_error(b, "BTF: type 2 (struct) at byte 16: its 48 bytes (vlen 3) run past the type section (40 bytes)");
	free(b);
}

static void huge_counts(void **state)
{
	struct btf_builder *b = malloc(sizeof(*b));
	struct sluice_btf *btf;

	(void)state;
	bb_init(b);
	bb_type(b, "e", BTF_KIND_ENUM, false, 0xffff, 4);
	expect_error(b, "BTF: type 1 (enum) at byte 0: its 524292 bytes (vlen 65535) run past the type section (12 bytes)");

	bb_init(b);
	bb_int(b, "int", 4, 0);
	bb_array(b, 1, 1, 0xffffffff);
	bb_array(b, 2, 1, 2);
	btf = parse(b, NULL);
	assert_non_null(btf);
	assert_int_equal(btf_resolve_size(btf, 2), -E2BIG);
	assert_int_equal(btf_resolve_size(btf, 3), -E2BIG);
	btf_free(btf);
	free(b);
}

static void kind_rules(void **state)
{
	struct btf_builder *b = malloc(sizeof(*b));

	(void)state;
	bb_init(b);
	bb_type(b, NULL, 25, false, 0, 0);
	expect_error(b, "BTF: type 1 at byte 0: unknown kind 25");

	bb_init(b);
	bb_type(b, NULL, BTF_KIND_UNKN, false, 0, 0);
	expect_error(b, "BTF: type 1 at byte 0: unknown kind 0");

	bb_init(b);
	bb_type(b, "int", BTF_KIND_INT, false, 0, 4);
	bb_u32(b, BB_INT(0, 40));
	expect_error(b, "BTF: type 1 (int int): 40 bits at bit 0 do not fit in 4 bytes");

	bb_init(b);
	bb_type(b, "int", BTF_KIND_INT, false, 0, 3);
	bb_u32(b, BB_INT(0, 24));
	expect_error(b, "BTF: type 1 (int int): size 3 is not 1, 2, 4, 8 or 16");

	bb_init(b);
	bb_type(b, "int", BTF_KIND_INT, false, 0, 4);
	bb_u32(b, BB_INT(3, 32));
	expect_error(b, "BTF: type 1 (int int): unknown encoding 0x3");

	bb_init(b);
	bb_int(b, "int", 4, 0);
	bb_type(b, "f", BTF_KIND_FUNC, false, 0, 1);
	expect_error(b, "BTF: type 2 (func f): its type 1 is a int, not a func_proto");

	bb_init(b);
	bb_int(b, "int", 4, 0);
	bb_type(b, NULL, BTF_KIND_FUNC_PROTO, false, 2, 1);
	bb_pair(b, NULL, 0);
	bb_pair(b, "x", 1);
	expect_error(b, "BTF: type 2 (func_proto): parameter 0 is void");

	bb_init(b);
	bb_int(b, "int", 4, 0);
	bb_type(b, ".data", BTF_KIND_DATASEC, false, 1, 4);
	bb_u32(b, 1); /* secinfo: type, offset, size */
	bb_u32(b, 0);
	bb_u32(b, 4);
	expect_error(b, "BTF: type 2 (datasec .data): variable 0 is type 1, a int");

	bb_init(b);
	bb_int(b, "int", 4, 0);
	bb_type(b, "t", BTF_KIND_DECL_TAG, false, 0, 1);
	bb_u32(b, (uint32_t)-1);
	expect_error(b, "BTF: type 2 (decl_tag t): tags type 1, a int");

	bb_init(b);
	bb_int(b, "int", 4, 0);
	bb_type(b, "s", BTF_KIND_STRUCT, false, 1, 4);
	bb_record(b, "a", 1, 0);
	bb_type(b, "t", BTF_KIND_DECL_TAG, false, 0, 2);
	bb_u32(b, 1);
	expect_error(b, "BTF: type 3 (decl_tag t): component 1 of type 2, which has 1");

	bb_init(b);
	bb_int(b, "int", 4, 0);
	bb_type(b, NULL, BTF_KIND_PTR, false, 2, 1);
	expect_error(b, "BTF: type 2 (ptr): vlen 2 where a ptr has none");

	bb_init(b);
	bb_u32(b, 0);
	bb_u32(b, BB_INFO(BTF_KIND_FWD, 0, 0) | 1u << 29);
	bb_u32(b, 0);
	expect_error(b, "BTF: type 1 (fwd): unknown bits set in info 0x27000000");

	bb_init(b);
	bb_int(b, "int", 4, 0);
	bb_type(b, "s", BTF_KIND_STRUCT, false, 1, 4);
	bb_record(b, "a", 1, 64);
	expect_error(b, "BTF: type 2 (struct s): member 0 starts at bit 64, past the 4 bytes");
	free(b);
}

static void truncated_types(void **state)
{
	struct btf_builder *b = malloc(sizeof(*b));

	(void)state;
	bb_init(b);
	bb_int(b, "int", 4, 0);
	b->types_len += 2; /* the start of a second type, cut short */
	expect_error(b, "BTF: type 2 at byte 16: truncated header (2 bytes left)");
	free(b);
}

/* ---- split BTF ---- */

static void split_btf_continues_ids_and_strings(void **state)
{
	struct btf_builder *b = malloc(sizeof(*b));
	struct sluice_error err = { 0 };
	struct sluice_btf *base, *split;
	size_t size, base_strs;

	(void)state;
	bb_init(b);
	bb_int(b, "int", 4, BTF_INT_SIGNED);
	bb_type(b, "base_s", BTF_KIND_STRUCT, false, 1, 4);
	bb_record(b, "x", 1, 0);
	base = parse(b, NULL);
	assert_non_null(base);
	base_strs = b->strs_len; /* "", "int", "base_s", "x" */

	/*
	 * Split offsets count from the start of the base's strings: the
	 * split's "mod_s" is at base_strs + 1, its "m" at base_strs + 7.
	 */
	bb_init(b);
	bb_u32(b, (uint32_t)base_strs + 1);                   /* 3: struct mod_s */
	bb_u32(b, BB_INFO(BTF_KIND_STRUCT, 0, 2));
	bb_u32(b, 16);
	bb_u32(b, 1);                                         /* named "int" (a base string), */
	bb_u32(b, 4);                                         /* of the split's own pointer */
	bb_u32(b, 0);
	bb_u32(b, (uint32_t)base_strs + 7);                   /* named "m", */
	bb_u32(b, 2);                                         /* of the base's struct */
	bb_u32(b, 64);
	bb_type(b, NULL, BTF_KIND_PTR, false, 0, 3);          /* 4 */
	bb_str(b, "mod_s");
	bb_str(b, "m");
	bb_finish(b, &size);
	split = btf_parse(b->out, size, base, &err);
	assert_non_null(split);
	assert_int_equal(btf_last_id(split), 4);
	assert_string_equal(btf_type_name(split, 3), "mod_s");
	assert_string_equal(btf_type_name(split, 2), "base_s");
	assert_string_equal(btf_str(split, 1), "int");
	assert_string_equal(btf_str(split, btf_members(btf_type_by_id(split, 3))[1].name_off), "m");
	assert_int_equal(btf_resolve_size(split, 3), 16);
	assert_int_equal(btf_resolve_size(split, 4), 8);
	assert_int_equal(btf_find_by_name_kind(split, "int", BTF_KIND_INT), 1);
	assert_int_equal(btf_find_by_name_kind(split, "mod_s", BTF_KIND_STRUCT), 3);
	assert_null(btf_type_by_id(split, 5));

	/* a split type naming an id past its own end */
	bb_init(b);
	bb_type(b, NULL, BTF_KIND_PTR, false, 0, 9);
	bb_finish(b, &size);
	assert_null(btf_parse(b->out, size, base, &err));
	assert_string_equal(err.msg, "BTF: type 3 (ptr): its type references type 9, beyond the last id 3");
	btf_free(split);
	btf_free(base);
	free(b);
}

/* ---- files ---- */

#ifndef BTF_TEST_DATA
#define BTF_TEST_DATA "tests/btf"
#endif

static void loads_raw_and_elf_files(void **state)
{
	struct btf_builder *b = malloc(sizeof(*b));
	char path[] = "/tmp/sluice-btf-XXXXXX";
	struct sluice_error err = { 0 };
	struct sluice_btf *btf;
	const void *data;
	size_t size;
	int fd;

	(void)state;
	bb_init(b);
	bb_int(b, "int", 4, BTF_INT_SIGNED);
	data = bb_finish(b, &size);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, size), (ssize_t)size);
	close(fd);
	btf = btf_load_file(path, &err);
	assert_non_null(btf);
	assert_string_equal(btf_type_name(btf, 1), "int");
	btf_free(btf);
	unlink(path);

	btf = btf_load_file(BTF_TEST_DATA "/sample.bpf.o", &err);
	assert_non_null(btf);
	assert_true(btf_find_by_name_kind(btf, "task", BTF_KIND_STRUCT) > 0);
	assert_true(btf_find_by_name_kind(btf, "task___old", BTF_KIND_STRUCT) > 0);
	assert_true(btf_find_by_name_kind(btf, "sample", BTF_KIND_FUNC) > 0);
	btf_free(btf);

	assert_null(btf_load_file("/nonexistent/btf", &err));
	assert_int_equal(err.code, ENOENT);
	assert_string_equal(err.msg, "/nonexistent/btf: No such file or directory");

	/* an ELF file without BTF: this test program itself */
	assert_null(btf_load_file("/proc/self/exe", &err));
	assert_string_equal(err.msg, "/proc/self/exe: no .BTF section");
	free(b);
}

static void kernel_btf(void **state)
{
	const char *path = "/sys/kernel/btf/vmlinux";
	struct sluice_error err = { 0 };
	struct timespec start, end;
	struct sluice_btf *btf;
	int id;

	(void)state;
	if (access(path, R_OK)) {
		print_message("%s is absent: skipping the kernel BTF test\n", path);
		skip();
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	btf = btf_load_file(path, &err);
	clock_gettime(CLOCK_MONOTONIC, &end);
	assert_non_null(btf);
	print_message("%s: %u types parsed in %.1f ms\n", path, btf_last_id(btf),
		      (double)(end.tv_sec - start.tv_sec) * 1e3 +
			      (double)(end.tv_nsec - start.tv_nsec) / 1e6);
	assert_true(btf_last_id(btf) > 10000);
	id = btf_find_by_name_kind(btf, "task_struct", BTF_KIND_STRUCT);
	assert_true(id > 0);
	assert_true(btf_resolve_size(btf, (uint32_t)id) > 1000);
	id = btf_find_by_name_kind(btf, "int", BTF_KIND_INT);
	assert_true(id > 0);
	assert_int_equal(btf_resolve_size(btf, (uint32_t)id), 4);
	id = btf_find_by_name_kind(btf, "long unsigned int", BTF_KIND_INT);
	assert_true(id > 0);
	assert_int_equal(btf_resolve_size(btf, (uint32_t)id), 8);
	btf_free(btf);
}

/* ---- BTF.ext ---- */

/* .BTF.ext from three areas of words (each starting with its record size). */
static size_t make_ext(uint8_t *out, const uint32_t *func, size_t nfunc, const uint32_t *line,
		       size_t nline, const uint32_t *core, size_t ncore)
{
	uint32_t hdr[8] = { BTF_MAGIC | 1u << 16, 32, 0, 4 * (uint32_t)nfunc, 4 * (uint32_t)nfunc,
			    4 * (uint32_t)nline, 4 * (uint32_t)(nfunc + nline),
			    4 * (uint32_t)ncore };

	memcpy(out, hdr, sizeof(hdr));
	/* an absent area is NULL, which memcpy may not be given even for 0 bytes */
	if (nfunc)
		memcpy(out + 32, func, 4 * nfunc);
	if (nline)
		memcpy(out + 32 + 4 * nfunc, line, 4 * nline);
	if (ncore)
		memcpy(out + 32 + 4 * (nfunc + nline), core, 4 * ncore);
	return 32 + 4 * (nfunc + nline + ncore);
}

struct ext_fixture {
	struct btf_builder b;
	struct sluice_btf *btf;
	uint32_t text, prog, file, src, access; /* string offsets */
};

static struct ext_fixture *ext_fixture(void)
{
	struct ext_fixture *f = malloc(sizeof(*f));

	bb_init(&f->b);
	bb_int(&f->b, "int", 4, BTF_INT_SIGNED);               /* 1 */
	bb_type(&f->b, NULL, BTF_KIND_FUNC_PROTO, false, 0, 1);  /* 2 */
	bb_type(&f->b, "main", BTF_KIND_FUNC, false, 1, 2);      /* 3 */
	bb_type(&f->b, "helper", BTF_KIND_FUNC, false, 0, 2);    /* 4 */
	f->text = bb_str(&f->b, ".text");
	f->prog = bb_str(&f->b, "xdp");
	f->file = bb_str(&f->b, "prog.c");
	f->src = bb_str(&f->b, "\treturn 0;");
	f->access = bb_str(&f->b, "0:1");
	f->btf = parse(&f->b, NULL);
	assert_non_null(f->btf);
	return f;
}

static void ext_fixture_free(struct ext_fixture *f)
{
	btf_free(f->btf);
	free(f);
}

static void ext_records_by_section(void **state)
{
	struct ext_fixture *f = ext_fixture();
	/* func_info with 12-byte records: the extra word is skipped */
	uint32_t func[] = { 12, f->prog, 1, 0, 3, 0xdead, f->text, 1, 16, 4, 0xbeef };
	uint32_t line[] = { 16, f->text, 1, 16, f->file, f->src, 42 << 10 | 9,
			    f->prog, 2, 0, f->file, 0, 7 << 10, 8, f->file, f->src, 8 << 10 | 1 };
	uint32_t core[] = { 16, f->text, 1, 24, 1, f->access, 0 };
	struct sluice_error err = { 0 };
	const struct btf_ext_section *s;
	uint8_t blob[512];
	struct btf_ext *ext;
	size_t size = make_ext(blob, func, 11, line, 17, core, 7);

	(void)state;
	ext = btf_ext_parse(blob, size, f->btf, &err);
	assert_non_null(ext);
	/* sections with CO-RE relocations first, in their order, then the others */
	assert_int_equal(btf_ext_section_count(ext), 2);
	s = btf_ext_section(ext, 0);
	assert_string_equal(s->name, ".text");
	assert_int_equal(s->ncores, 1);
	assert_int_equal(s->cores[0].insn, 3);
	assert_int_equal(s->cores[0].type_id, 1);
	assert_string_equal(s->cores[0].access, "0:1");
	assert_int_equal(s->cores[0].kind, 0);
	assert_int_equal(s->nfuncs, 1);
	assert_int_equal(s->funcs[0].insn, 2);
	assert_int_equal(s->funcs[0].type_id, 4);
	assert_int_equal(s->nlines, 1);
	assert_int_equal(s->lines[0].insn, 2);
	assert_string_equal(s->lines[0].file, "prog.c");
	assert_string_equal(s->lines[0].source, "\treturn 0;");
	assert_int_equal(s->lines[0].line, 42);
	assert_int_equal(s->lines[0].column, 9);

	s = btf_ext_find(ext, "xdp");
	assert_ptr_equal(s, btf_ext_section(ext, 1));
	assert_int_equal(s->nfuncs, 1);
	assert_int_equal(s->funcs[0].type_id, 3);
	assert_int_equal(s->ncores, 0);
	assert_int_equal(s->nlines, 2);
	assert_string_equal(s->lines[0].source, "");
	assert_int_equal(s->lines[0].line, 7);
	assert_int_equal(s->lines[1].insn, 1);
	assert_int_equal(s->lines[1].column, 1);
	assert_null(btf_ext_find(ext, "tc"));
	assert_null(btf_ext_section(ext, 2));
	btf_ext_free(ext);
	ext_fixture_free(f);
}

static void expect_ext_error(struct ext_fixture *f, const uint8_t *blob, size_t size,
			     const char *msg)
{
	struct sluice_error err = { 0 };

	assert_null(btf_ext_parse(blob, size, f->btf, &err));
	assert_string_equal(err.msg, msg);
	assert_int_equal(errno, err.code);
}

static void ext_validation(void **state)
{
	struct ext_fixture *f = ext_fixture();
	uint8_t blob[512];
	size_t size;

	(void)state;
	expect_ext_error(f, blob, 4, "BTF.ext: 4 bytes, shorter than a header");
	size = make_ext(blob, (uint32_t[]){ 8, f->prog, 1, 4, 3 }, 5, NULL, 0, NULL, 0);
	expect_ext_error(f, blob, size,
			 "BTF.ext: func_info for section 'xdp', record 0: instruction offset 4 is not a multiple of 8");
	size = make_ext(blob, (uint32_t[]){ 8, f->prog, 1, 0, 1 }, 5, NULL, 0, NULL, 0);
	expect_ext_error(f, blob, size,
			 "BTF.ext: func_info for section 'xdp', record 0: type 1 is int, not a func");
	size = make_ext(blob, (uint32_t[]){ 8, f->prog, 1, 0, 77 }, 5, NULL, 0, NULL, 0);
	expect_ext_error(f, blob, size,
			 "BTF.ext: func_info for section 'xdp', record 0: type 77 is no type, not a func");
	size = make_ext(blob, (uint32_t[]){ 8, 5000, 1, 0, 3 }, 5, NULL, 0, NULL, 0);
	expect_ext_error(f, blob, size,
			 "BTF.ext: func_info: section name offset 5000 is beyond the BTF strings");
	size = make_ext(blob, (uint32_t[]){ 8, 0, 1, 0, 3 }, 5, NULL, 0, NULL, 0);
	expect_ext_error(f, blob, size, "BTF.ext: func_info: section name offset 0 is the empty string");
	size = make_ext(blob, (uint32_t[]){ 8, f->prog, 0 }, 3, NULL, 0, NULL, 0);
	expect_ext_error(f, blob, size, "BTF.ext: func_info for section 'xdp': no records");
	/* a huge record count fails before anything is allocated for it */
	size = make_ext(blob, (uint32_t[]){ 8, f->prog, 0x10000000, 0, 3 }, 5, NULL, 0, NULL, 0);
	expect_ext_error(f, blob, size,
			 "BTF.ext: func_info for section 'xdp': 268435456 records of 8 bytes do not fit in the 16 bytes left");
	size = make_ext(blob, (uint32_t[]){ 4, f->prog, 1, 0 }, 4, NULL, 0, NULL, 0);
	expect_ext_error(f, blob, size,
			 "BTF.ext: func_info record size 4: must be a multiple of 4, at least 8");
	size = make_ext(blob, (uint32_t[]){ 8 }, 1, NULL, 0, NULL, 0);
	expect_ext_error(f, blob, size, "BTF.ext: func_info area has a record size but no sections");
	size = make_ext(blob, NULL, 0, (uint32_t[]){ 16, f->prog, 1, 0, 9999, f->src, 0 }, 7, NULL, 0);
	expect_ext_error(f, blob, size,
			 "BTF.ext: line_info for section 'xdp', record 0: file name offset 9999 is beyond the BTF strings");
	size = make_ext(blob, NULL, 0, NULL, 0, (uint32_t[]){ 16, f->prog, 1, 0, 50, f->access, 0 }, 7);
	expect_ext_error(f, blob, size,
			 "BTF.ext: core_relo for section 'xdp', record 0: type 50 is beyond the last id 4");
	size = make_ext(blob, NULL, 0, NULL, 0, (uint32_t[]){ 16, f->prog, 1, 0, 1, 4444, 0 }, 7);
	expect_ext_error(f, blob, size,
			 "BTF.ext: core_relo for section 'xdp', record 0: access string offset 4444 is beyond the BTF strings");

	size = make_ext(blob, (uint32_t[]){ 8, f->prog, 1, 0, 3 }, 5, NULL, 0, NULL, 0);
	blob[0] = 0;
	expect_ext_error(f, blob, size, "BTF.ext: bad magic 0xeb00 (expected 0xeb9f)");
	blob[0] = 0x9f;
	((uint32_t *)blob)[2] = 2; /* func_info at offset 2 */
	expect_ext_error(f, blob, size, "BTF.ext: func_info area at offset 2 is not 4-byte aligned");
	((uint32_t *)blob)[2] = 0;
	((uint32_t *)blob)[3] = 400;
	expect_ext_error(f, blob, size,
			 "BTF.ext: func_info area (offset 0, length 400) ends past the 20 bytes after the header");
	((uint32_t *)blob)[3] = 20;
	((uint32_t *)blob)[1] = 20;
	expect_ext_error(f, blob, size, "BTF.ext: header length 20 is not between 24 and the 52 bytes of data");
	ext_fixture_free(f);
}

static void ext_without_core_area(void **state)
{
	struct ext_fixture *f = ext_fixture();
	uint32_t blob[] = { BTF_MAGIC | 1u << 16, 24, 0, 28, 28, 0,
			    8, f->prog, 2, 0, 3, 8, 4 };
	struct btf_ext *ext;

	(void)state;
	ext = btf_ext_parse(blob, sizeof(blob), f->btf, NULL);
	assert_non_null(ext);
	assert_int_equal(btf_ext_section_count(ext), 1);
	assert_int_equal(btf_ext_section(ext, 0)->nfuncs, 2);
	assert_int_equal(btf_ext_section(ext, 0)->funcs[1].insn, 1);
	btf_ext_free(ext);
	ext_fixture_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_kind_parses_and_measures),
		cmocka_unit_test(raw_data_is_a_copy),
		cmocka_unit_test(first_of_equal_names_is_found),
		cmocka_unit_test(header_rules),
		cmocka_unit_test(header_extension_and_alignment),
		cmocka_unit_test(string_section_rules),
		cmocka_unit_test(name_offset_out_of_range),
		cmocka_unit_test(type_id_out_of_range),
		cmocka_unit_test(reference_loops),
		cmocka_unit_test(long_chains_are_not_loops),
		cmocka_unit_test(records_must_fit),
		cmocka_unit_test(huge_counts),
		cmocka_unit_test(kind_rules),
		cmocka_unit_test(truncated_types),
		cmocka_unit_test(split_btf_continues_ids_and_strings),
		cmocka_unit_test(loads_raw_and_elf_files),
		cmocka_unit_test(kernel_btf),
		cmocka_unit_test(ext_records_by_section),
		cmocka_unit_test(ext_validation),
		cmocka_unit_test(ext_without_core_area),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
