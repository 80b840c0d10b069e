/* SPDX-License-Identifier: MIT */
/*
 * Packet I/O for test_runtime_cli.sh, through libpcap:
 *   pkt_io hex FILE.pcap                  each packet of a capture as a hex line
 *   pkt_io send IFACE FILE.pcap           each packet injected out of IFACE
 *   pkt_io recv IFACE COUNT SECONDS       the first COUNT packets arriving at
 *                                         IFACE as hex lines; exit 1 when fewer
 *                                         came within SECONDS (a bound, not a
 *                                         measurement)
 * Exit 2 on misuse, 1 on failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pcap/pcap.h>

static void print_hex(const u_char *data, bpf_u_int32 len)
{
	for (bpf_u_int32 i = 0; i < len; i++)
		printf("%02x", data[i]);
	printf("\n");
}

static int dump_hex(const char *path)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, errbuf);
	struct pcap_pkthdr *hdr;
	const u_char *data;
	int ret;

	if (!p) {
		fprintf(stderr, "pkt_io: %s\n", errbuf);
		return 1;
	}
	while ((ret = pcap_next_ex(p, &hdr, &data)) == 1)
		print_hex(data, hdr->caplen);
	if (ret != PCAP_ERROR_BREAK)
		fprintf(stderr, "pkt_io: %s: %s\n", path, pcap_geterr(p));
	pcap_close(p);
	return ret == PCAP_ERROR_BREAK ? 0 : 1;
}

static pcap_t *open_live(const char *iface)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_create(iface, errbuf);

	if (!p) {
		fprintf(stderr, "pkt_io: %s\n", errbuf);
		return NULL;
	}
	if (pcap_set_immediate_mode(p, 1) || pcap_set_timeout(p, 100) || pcap_activate(p) < 0) {
		fprintf(stderr, "pkt_io: %s: %s\n", iface, pcap_geterr(p));
		pcap_close(p);
		return NULL;
	}
	return p;
}

static int send_all(const char *iface, const char *path)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *in = pcap_open_offline(path, errbuf), *out;
	struct pcap_pkthdr *hdr;
	const u_char *data;
	int ret;

	if (!in) {
		fprintf(stderr, "pkt_io: %s\n", errbuf);
		return 1;
	}
	out = open_live(iface);
	if (!out) {
		pcap_close(in);
		return 1;
	}
	while ((ret = pcap_next_ex(in, &hdr, &data)) == 1) {
		if (pcap_inject(out, data, hdr->caplen) != (int)hdr->caplen) {
			fprintf(stderr, "pkt_io: %s: %s\n", iface, pcap_geterr(out));
			break;
		}
	}
	pcap_close(out);
	pcap_close(in);
	return ret == PCAP_ERROR_BREAK ? 0 : 1;
}

static int receive(const char *iface, long count, long seconds)
{
	pcap_t *p = open_live(iface);
	time_t end = time(NULL) + seconds;
	long got = 0;

	if (!p)
		return 1;
	if (pcap_setdirection(p, PCAP_D_IN)) {
		fprintf(stderr, "pkt_io: %s: %s\n", iface, pcap_geterr(p));
		pcap_close(p);
		return 1;
	}
	/* ready: the caller may start sending */
	fprintf(stderr, "pkt_io: listening on %s\n", iface);
	while (got < count && time(NULL) < end) {
		struct pcap_pkthdr *hdr;
		const u_char *data;
		int ret = pcap_next_ex(p, &hdr, &data);

		if (ret < 0)
			break;
		if (ret == 1) {
			print_hex(data, hdr->caplen);
			fflush(stdout);
			got++;
		}
	}
	pcap_close(p);
	return got == count ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "hex"))
		return dump_hex(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "send"))
		return send_all(argv[2], argv[3]);
	if (argc == 5 && !strcmp(argv[1], "recv"))
		return receive(argv[2], atol(argv[3]), atol(argv[4]));
	fprintf(stderr, "usage: pkt_io hex FILE | send IFACE FILE | recv IFACE COUNT SECONDS\n");
	return 2;
}
