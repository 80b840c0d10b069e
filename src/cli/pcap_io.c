/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "errmsg.h"
#include "pcap_io.h"

struct pcap_in {
	pcap_t *pcap;
	char *name;
	uint64_t count;
};

struct pcap_out {
	pcap_t *dead;   /* only the link type and snapshot length the file header needs */
	pcap_dumper_t *dumper;
	char *path;
};

static struct pcap_in *wrap_offline(pcap_t *pcap, const char *name, const char *errbuf,
				    struct sluice_error *err)
{
	struct pcap_in *in;
	int link;

	if (!pcap) {
		sluice_fail(err, EINVAL, "'%s': not a readable capture: %s", name, errbuf);
		return NULL;
	}
	link = pcap_datalink(pcap);
	if (link != DLT_EN10MB) {
		const char *link_name = pcap_datalink_val_to_name(link);

		sluice_fail(err, EINVAL, "'%s': link type %s (%d) is not Ethernet (EN10MB), the only one taken",
			    name, link_name ? link_name : "unknown", link);
		pcap_close(pcap);
		return NULL;
	}
	in = calloc(1, sizeof(*in));
	if (in)
		in->name = strdup(name);
	if (!in || !in->name) {
		free(in);
		pcap_close(pcap);
		sluice_fail(err, ENOMEM, "out of memory");
		return NULL;
	}
	in->pcap = pcap;
	return in;
}

struct pcap_in *pcap_in_open(const char *path, struct sluice_error *err)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	FILE *f = fopen(path, "rb");

	/* fopen first: its errno says "no such file" better than libpcap's text */
	if (!f) {
		sluice_fail(err, errno, "cannot open '%s': %s", path, strerror(errno));
		return NULL;
	}
	return wrap_offline(pcap_fopen_offline(f, errbuf), path, errbuf, err);
}

struct pcap_in *pcap_in_open_mem(const void *data, size_t size, const char *name,
				 struct sluice_error *err)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	FILE *f;

	if (!size) {
		sluice_fail(err, EINVAL, "'%s': empty file, not a capture", name);
		return NULL;
	}
	f = fmemopen((void *)data, size, "rb");
	if (!f) {
		sluice_fail(err, errno, "'%s': %s", name, strerror(errno));
		return NULL;
	}
	/* on failure libpcap leaves the FILE to us; on success pcap_close closes it */
	pcap_t *pcap = pcap_fopen_offline(f, errbuf);
	if (!pcap)
		fclose(f);
	return wrap_offline(pcap, name, errbuf, err);
}

int pcap_in_next(struct pcap_in *in, struct pcap_frame *frame, struct sluice_error *err)
{
	struct pcap_pkthdr *hdr;
	const u_char *data;
	int ret = pcap_next_ex(in->pcap, &hdr, &data);

	if (ret == PCAP_ERROR_BREAK)
		return 0;
	in->count++;
	if (ret != 1)
		return sluice_fail(err, EINVAL, "'%s': packet %llu: %s", in->name,
				   (unsigned long long)in->count, pcap_geterr(in->pcap));
	if (hdr->caplen > PCAP_IO_MAX_FRAME)
		return sluice_fail(err, EMSGSIZE, "'%s': packet %llu: %u bytes captured, more than the %u a frame may have",
				   in->name, (unsigned long long)in->count, hdr->caplen,
				   PCAP_IO_MAX_FRAME);
	*frame = (struct pcap_frame){
		.data = data,
		.len = hdr->caplen,
		.wire_len = hdr->len,
		.ts = hdr->ts,
		.number = in->count,
	};
	return 1;
}

void pcap_in_close(struct pcap_in *in)
{
	if (!in)
		return;
	pcap_close(in->pcap);
	free(in->name);
	free(in);
}

struct pcap_out *pcap_out_open(const char *path, struct sluice_error *err)
{
	struct pcap_out *out = calloc(1, sizeof(*out));

	if (!out || !(out->path = strdup(path)) ||
	    !(out->dead = pcap_open_dead(DLT_EN10MB, PCAP_IO_MAX_FRAME))) {
		if (out)
			free(out->path);
		free(out);
		sluice_fail(err, ENOMEM, "out of memory");
		return NULL;
	}
	errno = 0;
	out->dumper = pcap_dump_open(out->dead, path);
	if (!out->dumper) {
		int code = errno ? errno : EIO; /* pcap_dump_open fails as its fopen does */

		sluice_fail(err, code, "cannot create '%s': %s", path, strerror(code));
		pcap_close(out->dead);
		free(out->path);
		free(out);
		return NULL;
	}
	return out;
}

int pcap_out_write(struct pcap_out *out, const struct pcap_frame *from, const uint8_t *data,
		   uint32_t len, struct sluice_error *err)
{
	/* the packet as the program left it is the whole packet now */
	struct pcap_pkthdr hdr = { .ts = from->ts, .caplen = len, .len = len };

	pcap_dump((u_char *)out->dumper, &hdr, data);
	if (ferror(pcap_dump_file(out->dumper)))
		return sluice_fail(err, EIO, "cannot write '%s': packet %llu", out->path,
				   (unsigned long long)from->number);
	return 0;
}

int pcap_out_close(struct pcap_out *out, struct sluice_error *err)
{
	int ret = 0;

	if (!out)
		return 0;
	if (pcap_dump_flush(out->dumper) || ferror(pcap_dump_file(out->dumper)))
		ret = sluice_fail(err, EIO, "cannot write '%s': %s", out->path, strerror(errno));
	pcap_dump_close(out->dumper);
	pcap_close(out->dead);
	free(out->path);
	free(out);
	return ret;
}
