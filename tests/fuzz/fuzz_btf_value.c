/* SPDX-License-Identifier: MIT */
/*
 * A BTF blob and bytes, as the map summaries of `sluice run --pcap` and
 * `attach` show a map's keys and values: input is a 4-byte little-endian
 * length, that many bytes of BTF, and the data.  Every type of BTF that
 * parses is shown from the data, whole and cut short, into a roomy and a
 * tiny buffer: reads must stay inside the data, writes inside the buffer,
 * and the text must end in NUL.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "btf.h"
#include "btf_value.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* More types than this are not all tried: one input stays fast. */
#define MAX_TYPES 512

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sluice_btf *btf;
	uint32_t btf_size;
	char out[512], tiny[8];

	if (size < 4)
		return 0;
	memcpy(&btf_size, data, 4);
	if (btf_size > size - 4)
		return 0;
	btf = btf_parse(data + 4, btf_size, NULL, NULL);
	if (!btf)
		return 0;
	data += 4 + btf_size;
	size -= 4 + (size_t)btf_size;
	for (uint32_t id = 1; id <= btf_last_id(btf) && id <= MAX_TYPES; id++) {
		/* a copy of exactly the data's size, so the sanitizer sees any read past it */
		uint8_t *copy = malloc(size ? size : 1);

		if (!copy)
			break;
		memcpy(copy, data, size);
		if (btf_value_format(btf, id, copy, size, out, sizeof(out)) && !memchr(out, 0, sizeof(out)))
			abort();
		if (size)
			btf_value_format(btf, id, copy, size / 2, out, sizeof(out));
		btf_value_format(btf, id, copy, size, tiny, sizeof(tiny));
		free(copy);
	}
	btf_free(btf);
	return 0;
}
