/* SPDX-License-Identifier: MIT */
/*
 * Bytes in as a packet capture (pcap or pcapng), as `sluice run --pcap`
 * reads one: every frame it hands out must lie inside its limit and be
 * readable whole, and a corrupt capture must end with an error, not a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pcap_io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sluice_error err = { 0 };
	struct pcap_in *in = pcap_in_open_mem(data, size, "fuzz.pcap", &err);
	struct pcap_frame frame;
	static uint8_t copy[PCAP_IO_MAX_FRAME];

	if (!in)
		return 0;
	while (pcap_in_next(in, &frame, &err) == 1) {
		if (frame.len > PCAP_IO_MAX_FRAME)
			abort();
		memcpy(copy, frame.data, frame.len); /* the sanitizer checks every byte is there */
	}
	pcap_in_close(in);
	return 0;
}
