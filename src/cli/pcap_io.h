/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_CLI_PCAP_IO_H
#define SLUICE_CLI_PCAP_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

#include <sluice/error.h>

/*
 * Packet captures through libpcap (pcap and pcapng in, pcap out), Ethernet
 * only: that is what XDP, TC and socket filter programs see.  Every message
 * names the file, and the packet by its 1-based number.
 */

/* The largest frame taken: a 16-bit IP datagram with its Ethernet header fits. */
#define PCAP_IO_MAX_FRAME 65535u

struct pcap_frame {
	const uint8_t *data;  /* valid until the next pcap_in_next */
	uint32_t len;         /* bytes captured */
	uint32_t wire_len;    /* bytes the packet had on the wire */
	struct timeval ts;
	uint64_t number;      /* 1 for the first packet */
};

struct pcap_in;

struct pcap_in *pcap_in_open(const char *path, struct sluice_error *err);
/* The same from memory; name stands for the file in messages. */
struct pcap_in *pcap_in_open_mem(const void *data, size_t size, const char *name,
				 struct sluice_error *err);
/* 1 and the next frame, 0 after the last, -errno when the capture is corrupt. */
int pcap_in_next(struct pcap_in *in, struct pcap_frame *frame, struct sluice_error *err);
void pcap_in_close(struct pcap_in *in);

struct pcap_out;

struct pcap_out *pcap_out_open(const char *path, struct sluice_error *err);
/* One packet of len bytes, with the timestamp and number of the frame it came from. */
int pcap_out_write(struct pcap_out *out, const struct pcap_frame *from, const uint8_t *data,
		   uint32_t len, struct sluice_error *err);
/* Flushes and closes; -errno when the file could not be written whole. */
int pcap_out_close(struct pcap_out *out, struct sluice_error *err);

#endif
