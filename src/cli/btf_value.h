/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_CLI_BTF_VALUE_H
#define SLUICE_CLI_BTF_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sluice_btf;

/*
 * A map key or value as its BTF type says, in a C-like notation: `17`,
 * `-3`, `true`, `ACTION_DROP`, `{packets=4,bytes=240}`, `[1,2,3]`.  False
 * when the type cannot be shown from size bytes (floats, 128-bit integers,
 * a type larger than the data) or out is too small: callers print hex.
 * (Global data is not shown this way: a clang object's DATASECs have their
 * sizes and offsets only once libbpf fixes them up from the ELF symbols.)
 */
bool btf_value_format(const struct sluice_btf *btf, uint32_t type_id, const uint8_t *data,
		      size_t size, char *out, size_t room);

#endif
