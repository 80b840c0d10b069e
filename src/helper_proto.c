/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "helper_proto.h"
#include "helper_table.h"

/* Indexed by id: the kernel's ids are dense, so a row is one array access away. */
static const struct helper_proto protos[__BPF_FUNC_MAX_ID] = {
#define X(helper, ret_kind, a1, a2, a3, a4, a5, flag_set, type_set)           \
	[BPF_FUNC_##helper] = {                                                 \
		.id = BPF_FUNC_##helper,                                        \
		.name = #helper,                                                \
		.ret = RET_##ret_kind,                                          \
		.args = { ARG_##a1, ARG_##a2, ARG_##a3, ARG_##a4, ARG_##a5 },   \
		.flags = (flag_set),                                            \
		.prog_types = (type_set),                                       \
	},
	SLUICE_HELPERS(X)
#undef X
};

const struct helper_proto *helper_proto(uint32_t id)
{
	if (id >= sizeof(protos) / sizeof(protos[0]) || !protos[id].name)
		return NULL;
	return &protos[id];
}

const struct helper_proto *helper_proto_by_name(const char *name)
{
	if (strncmp(name, "bpf_", 4) == 0)
		name += 4;
	for (uint32_t id = 0; id < sizeof(protos) / sizeof(protos[0]); id++)
		if (protos[id].name && strcmp(protos[id].name, name) == 0)
			return &protos[id];
	return NULL;
}

bool helper_allowed(const struct helper_proto *proto, uint32_t prog_type)
{
	return prog_type < 64 && (proto->prog_types >> prog_type) & 1;
}

unsigned helper_nargs(const struct helper_proto *proto)
{
	unsigned n = 0;

	while (n < 5 && proto->args[n] != ARG_NONE)
		n++;
	return n;
}
