/* SPDX-License-Identifier: MIT */
/*
 * bench_jit: every engine side by side in one process, on the same
 * bytecode and the same input:
 *
 *   interp      Sluice's interpreter (sluice_vm_exec)
 *   jit         Sluice's x86-64 JIT: the plain function sluice_jit_function
 *               gives, as librte_bpf's is called, else sluice_jit_exec
 *   rte         DPDK librte_bpf's interpreter (rte_bpf_exec)
 *   rte-jit     librte_bpf's JIT (the function rte_bpf_get_jit gives)
 *   kernel      the kernel's JIT, through BPF_PROG_TEST_RUN
 *   native      the same algorithm in C, gcc -O2 (native.c): the limit
 *
 * The programs in bench/programs/NAME.s are assembled once with sluice_asm;
 * the loop-free ones also go, slot for slot, to rte_bpf_load (its validator
 * rejects loops).  The map programs are TC classifiers in BENCH_OBJECT,
 * which Sluice's runtime and the kernel load as they are.  Every engine
 * must return what the C version returns before anything is timed.
 *
 * Timing: each engine is calibrated to batches of about BATCH_NS, then the
 * engines take turns for `rounds` rounds, in an order that reverses every
 * round, so that a noisy moment on the machine lands on all engines rather
 * than on one.  The fastest batch of each is kept: other work on the
 * machine can only slow a batch down, so the fastest is the closest to the
 * engine's own speed.  bench/README.md says what each column counts.
 *
 *     bench_jit [--program NAME] [--rounds N]
 *     bench_jit --iterations N --engine ENGINE --program NAME
 *
 * The second form runs a fixed count of the program and then of its
 * baseline with no calibration, for callgrind (bench/callgrind.sh).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <rte_bpf.h>
#include <rte_errno.h>
#include <rte_version.h>

#include <sluice/asm.h>
#include <sluice/interp.h>
#include <sluice/jit.h>
#include <sluice/object.h>
#include <sluice/runtime.h>

#include "native.h"
#include "programs/netbench.h"

#define MAX_ROUNDS 100
/* rounds of batches per engine; --rounds sets more for a busy machine */
static int rounds = 5;
#define BATCH_NS 40000000.0   /* 40 ms: five rounds give 0.2 s per engine */
#define CALIBRATE_NS 10000000 /* double the count until a batch takes 10 ms */

enum engine { INTERP, JIT, RTE, RTE_JIT, KERNEL, NATIVE, NENGINES };
static const char *const engine_names[NENGINES] = {
	"interp", "jit", "rte", "rte-jit", "kernel", "native",
};

struct program {
	/* the text is in BENCH_PROGRAMS_DIR/NAME.s, or with `maps` the
	 * program is NAME in BENCH_OBJECT */
	const char *name;
	size_t mem_size;  /* bytes of input, which r1 points to; with maps, the packet */
	void (*fill)(uint8_t *mem, size_t size);
	/* with maps, the packet is its own copy, which lb rewrites */
	uint64_t (*native)(uint8_t *mem, size_t size);
	bool loops;       /* librte_bpf's validator refuses it */
	bool maps;        /* runs as a TC classifier in Sluice's runtime and the kernel */
};

/* One program, loaded into every engine that takes it. */
struct bench {
	const struct program *prog;
	uint8_t *mem;
	size_t slots;
	struct sluice_vm *vm;
	struct sluice_jit *jit;
	sluice_jit_fn jit_fn; /* NULL when the program needs sluice_jit_exec */
	struct sluice_exec exec;
	struct rte_bpf *rte; /* NULL when librte_bpf cannot run it (loops, maps) */
	uint64_t (*rte_jit)(void *mem);
	int kernel_fd;       /* the program in the kernel; -1: bpf() refused */
	/* map programs: the object in the kernel, and in Sluice's runtime once
	 * per engine (rt[INTERP], rt[JIT]), each with its own maps */
	struct bpf_object *kernel_obj;
	struct sluice_object *obj;
	struct sluice_rt *rt[JIT + 1];
	struct sluice_rt_prog *rt_prog[JIT + 1];
	/* the empty program, in the same engines the same way: its time is
	 * the cost of a run that is not the program's, and is subtracted */
	struct bench *baseline;
	struct program as_empty; /* the baseline's description */
	uint8_t *native_mem; /* the C version's copy of the packet */
	uint8_t *out;        /* the packet as a test run leaves it */
	uint32_t out_size;
	uint64_t result;
	uint64_t executed; /* instructions one run executes */
};

__attribute__((format(printf, 1, 2)))
_Noreturn static void die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout); /* the table so far, before the reason it stops */
	fputs("bench_jit: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* Deterministic bytes (xorshift64), so every run sees the same input. */
static void fill_random(uint8_t *mem, size_t size)
{
	uint64_t x = 0x9e3779b97f4a7c15;

	for (size_t i = 0; i < size; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		mem[i] = (uint8_t)(x >> 32);
	}
}

/*
 * Keys in descending order, so that bubble_sort swaps at every comparison:
 * its branches then go the same way in every engine, and the time is the
 * code's.  With keys in random order it was the branch predictor's: the
 * same mispredictions cost more or less with where the code lies, and the
 * engines' times swung by a third from build to build.
 */
static void fill_descending(uint8_t *mem, size_t size)
{
	for (size_t i = 0; i + 4 <= size; i += 4) {
		uint32_t key = (uint32_t)(size - i);

		memcpy(mem + i, &key, sizeof(key));
	}
}

/*
 * A TCP SYN from 172.16.5.20:40000 to 203.0.113.7:443 with 8 bytes of
 * payload, two bytes into the buffer; branchy.s says why.
 */
static void fill_packet(uint8_t *mem, size_t size)
{
	static const uint8_t packet[] = {
		/* Ethernet: destination, source, type IPv4 */
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
		0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
		0x08, 0x00,
		/* IPv4: version 4 and IHL 5, TOS, total length 48, id,
		 * don't-fragment, TTL 64, TCP, checksum, addresses */
		0x45, 0x00, 0x00, 0x30, 0x1c, 0x46, 0x40, 0x00,
		0x40, 0x06, 0x00, 0x00,
		172, 16, 5, 20,
		203, 0, 113, 7,
		/* TCP: ports, sequence, acknowledgement, data offset 5, SYN,
		 * window, checksum, urgent pointer */
		0x9c, 0x40, 0x01, 0xbb,
		0x12, 0x34, 0x56, 0x78,
		0x00, 0x00, 0x00, 0x00,
		0x50, 0x02, 0xff, 0xff,
		0x00, 0x00, 0x00, 0x00,
	};

	fill_random(mem, size); /* the payload */
	memcpy(mem + 2, packet, sizeof(packet));
}

/* parser.s's batch: one frame of each kind it tells apart. */
struct frame_spec {
	uint16_t tags[2];   /* VLAN TPIDs, outermost first; 0 ends */
	uint16_t type;      /* EtherType: IPv4, IPv6, or ARP */
	uint8_t ihl;        /* IPv4 header length in words */
	uint8_t proto;      /* IPPROTO_TCP, _UDP, _ICMP... */
	bool later_fragment;
};

static const struct frame_spec frame_specs[] = {
	{ .type = 0x0800, .ihl = 5, .proto = 6 },
	{ .tags = { 0x8100 }, .type = 0x0800, .ihl = 5, .proto = 17 },
	{ .type = 0x86dd, .proto = 6 },
	{ .tags = { 0x8100 }, .type = 0x86dd, .proto = 17 },
	{ .type = 0x0800, .ihl = 6, .proto = 6 },
	{ .tags = { 0x88a8, 0x8100 }, .type = 0x0800, .ihl = 5, .proto = 17 },
	{ .type = 0x0806 },
	{ .type = 0x0800, .ihl = 5, .proto = 17, .later_fragment = true },
};
#define NFRAME_SPECS (sizeof(frame_specs) / sizeof(frame_specs[0]))

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* A frame into a slot of parser.s's input: its length, then its bytes. */
static size_t build_frame(uint8_t *frame, const struct frame_spec *spec, uint8_t seed)
{
	static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };
	size_t n = sizeof(macs);

	memcpy(frame, macs, n);
	for (int i = 0; i < 2 && spec->tags[i]; i++, n += 4) {
		put_be16(frame + n, spec->tags[i]);
		put_be16(frame + n + 2, (uint16_t)(100 + i)); /* VLAN id */
	}
	put_be16(frame + n, spec->type);
	n += 2;
	if (spec->type == 0x0800) {
		size_t header = spec->ihl * 4u;

		memset(frame + n, 0, header);
		frame[n] = (uint8_t)(0x40 | spec->ihl);
		put_be16(frame + n + 6, spec->later_fragment ? 0x00b9 : 0x4000);
		frame[n + 8] = 64;
		frame[n + 9] = spec->proto;
		memcpy(frame + n + 12, (uint8_t[]){ 10, 1, seed, 20, 203, 0, 113, seed }, 8);
		n += header;
	} else if (spec->type == 0x86dd) {
		memset(frame + n, 0, 40);
		frame[n] = 0x60;
		frame[n + 6] = spec->proto;
		frame[n + 7] = 64;
		for (int i = 0; i < 2; i++) { /* 2001:db8::SEED:1, 2001:db8::SEED:2 */
			put_be16(frame + n + 8 + 16 * i, 0x2001);
			put_be16(frame + n + 10 + 16 * i, 0x0db8);
			frame[n + 21 + 16 * i] = seed;
			frame[n + 23 + 16 * i] = (uint8_t)(1 + i);
		}
		n += 40;
	} else {
		n += 28; /* an ARP request: its bytes do not matter */
	}
	if (spec->type != 0x0806 && (spec->proto == 6 || spec->proto == 17)) {
		put_be16(frame + n, (uint16_t)(40000 + seed));
		put_be16(frame + n + 2, spec->proto == 6 ? 443 : 53);
		if (spec->proto == 6)
			frame[n + 12] = 0x50; /* data offset 5: the payload follows */
		n += spec->proto == 6 ? 20 : 8;
	}
	return n + 16; /* and 16 bytes of payload, already random */
}

static void fill_frames(uint8_t *mem, size_t size)
{
	size_t slots = size / PARSER_SLOT;

	fill_random(mem, size);
	for (size_t i = 0; i < slots; i++) {
		const struct frame_spec *spec = &frame_specs[i % NFRAME_SPECS];
		uint8_t *slot = mem + i * PARSER_SLOT;
		uint16_t len = (uint16_t)build_frame(slot + 2, spec, (uint8_t)i);

		memcpy(slot, &len, sizeof(len)); /* host order: ldxh reads it */
	}
}

/*
 * The map programs' traffic: FLOWS flows in the flow table, one of which
 * the flowtable packet belongs to; the lb packet is a client's SYN to the
 * service.
 *
 * The packet's flow is the one added last.  The kernel's htab and Sluice's
 * both put a new element at the head of its bucket's chain, so a lookup
 * finds that flow at the first step in both, whatever their hash functions
 * and random seeds.  Any other flow's depth in its chain is drawn anew with
 * each map's seed, and moved the engines' times by a chain step from one
 * run to the next, on one engine and not the other.
 */
static struct flow_key flow(uint32_t i)
{
	return (struct flow_key){
		.saddr = NB_HTONL(0x0a000000 | i),             /* 10.0.0.0/8 */
		.daddr = NB_HTONL(0xc0a80001 + i % 16),        /* 192.168.0.1-16 */
		.sport = NB_HTONS((uint16_t)(1024 + i * 7 % 60000)),
		.dport = NB_HTONS(443),
		.proto = i % 4 ? IPPROTO_TCP : IPPROTO_UDP,
	};
}
#define TESTED_FLOW (FLOWS - 1)

/* Ethernet, IPv4 (checksummed), TCP or UDP from key, then payload to size. */
static void build_packet(uint8_t *mem, size_t size, const struct flow_key *key)
{
	static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 0xfe, 2, 0, 0, 0, 0, 1 };
	uint8_t *ip = mem + ETH_HLEN, *l4 = ip + 20;
	uint32_t sum = 0;

	fill_random(mem, size);
	memcpy(mem, macs, sizeof(macs));
	put_be16(mem + 12, ETH_P_IP);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put_be16(ip + 2, (uint16_t)(size - ETH_HLEN));
	put_be16(ip + 6, 0x4000); /* don't fragment */
	ip[8] = 64;
	ip[9] = key->proto;
	memcpy(ip + 12, &key->saddr, 4);
	memcpy(ip + 16, &key->daddr, 4);
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)ip[i] << 8 | ip[i + 1];
	sum = (sum & 0xffff) + (sum >> 16);
	put_be16(ip + 10, (uint16_t)~(sum + (sum >> 16)));
	memcpy(l4, &key->sport, 2);
	memcpy(l4 + 2, &key->dport, 2);
	if (key->proto == IPPROTO_TCP) {
		l4[12] = 0x50; /* data offset 5 */
		l4[13] = 0x02; /* SYN */
	} else {
		put_be16(l4 + 4, (uint16_t)(size - ETH_HLEN - 20));
	}
}

static void fill_flow_packet(uint8_t *mem, size_t size)
{
	struct flow_key key = flow(TESTED_FLOW);

	build_packet(mem, size, &key);
}

static void fill_lb_packet(uint8_t *mem, size_t size)
{
	struct flow_key key = {
		.saddr = NB_HTONL(0xc6336407), /* 198.51.100.7 */
		.daddr = LB_VIP,
		.sport = NB_HTONS(51234),
		.dport = LB_PORT,
		.proto = IPPROTO_TCP,
	};

	build_packet(mem, size, &key);
}

/* Where the map programs' maps are filled: the kernel's or a runtime's. */
struct map_target {
	struct bpf_object *kernel;
	struct sluice_rt *rt;
};

static void map_put(const struct map_target *t, const char *name, const void *key,
		    const void *value)
{
	struct sluice_error err = { 0 };
	int ret;

	if (t->kernel) {
		struct bpf_map *map = bpf_object__find_map_by_name(t->kernel, name);

		ret = map ? bpf_map_update_elem(bpf_map__fd(map), key, value, BPF_ANY) : -ENOENT;
		if (ret)
			die("kernel map %s: %s", name, strerror(-ret));
	} else {
		struct sluice_map *map = sluice_rt_find_map(t->rt, name);

		if (!map)
			die("Sluice's runtime has no map %s", name);
		if (sluice_map_update(map, key, value, BPF_ANY, &err) < 0)
			die("map %s: %s", name, err.msg);
	}
}

/* The same contents into every set of maps. */
static void fill_maps(const struct map_target *t)
{
	for (uint32_t i = 0; i < FLOWS; i++) {
		struct flow_key key = flow(i);
		struct flow_stats stats = { .class = 1 + i };

		map_put(t, "flows", &key, &stats);
	}
	for (uint32_t slot = 0; slot < LB_RING; slot++) {
		uint32_t number = slot * 7 % LB_BACKENDS; /* spread, as Maglev's fill is */

		map_put(t, "ring", &slot, &number);
	}
	for (uint32_t i = 0; i < LB_BACKENDS; i++) {
		struct backend backend = {
			.addr = NB_HTONL(0x0af40001 | i << 8), /* 10.244.I.1 */
			.mac = { 0x02, 0, 0, 0, (uint8_t)i, 0x01 },
		};

		map_put(t, "backends", &i, &backend);
	}
}

static const struct program programs[] = {
	{ .name = "alu_chain", .mem_size = 16, .fill = fill_random,
	  .native = native_alu_chain },
	{ .name = "mem_heavy", .mem_size = 64, .fill = fill_random,
	  .native = native_mem_heavy },
	{ .name = "branchy", .mem_size = 64, .fill = fill_packet,
	  .native = native_branchy },
	{ .name = "checksum", .mem_size = 1500, .fill = fill_random,
	  .native = native_checksum, .loops = true },
	{ .name = "fnv1a", .mem_size = 64, .fill = fill_random,
	  .native = native_fnv1a, .loops = true },
	{ .name = "bubble_sort", .mem_size = 64, .fill = fill_descending,
	  .native = native_bubble_sort, .loops = true },
	{ .name = "siphash", .mem_size = 64, .fill = fill_random,
	  .native = native_siphash, .loops = true },
	{ .name = "parser", .mem_size = 8 * PARSER_SLOT, .fill = fill_frames,
	  .native = native_parser, .loops = true },
	{ .name = "flowtable", .mem_size = 128, .fill = fill_flow_packet,
	  .native = native_flowtable, .maps = true },
	{ .name = "lb", .mem_size = 128, .fill = fill_lb_packet,
	  .native = native_lb, .maps = true },
};
#define NPROGRAMS (sizeof(programs) / sizeof(programs[0]))

static char *read_text(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *text;
	long size;

	if (!f)
		die("%s: %s", path, strerror(errno));
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0)
		die("%s: %s", path, strerror(errno));
	text = malloc((size_t)size + 1);
	if (!text)
		die("out of memory");
	if (fread(text, 1, (size_t)size, f) != (size_t)size)
		die("%s: short read", path);
	fclose(f);
	*len = (size_t)size;
	return text;
}

/*
 * struct sluice_insn and DPDK's struct ebpf_insn both lay out the standard
 * encoding (RFC 9669), so the slots are handed over as they are.
 */
_Static_assert(sizeof(struct sluice_insn) == sizeof(struct ebpf_insn),
	       "one BPF instruction slot is 8 bytes in both");

static struct rte_bpf *rte_load(const struct program *prog,
				const struct sluice_insn *insns, size_t slots)
{
	struct ebpf_insn *ins = malloc(slots * sizeof(*ins));
	struct rte_bpf *bpf;

	if (!ins)
		die("out of memory");
	memcpy(ins, insns, slots * sizeof(*ins));
	struct rte_bpf_prm prm = {
		.ins = ins,
		.nb_ins = (uint32_t)slots,
		/* r1 is a pointer to mem_size bytes: the validator then
		 * checks every access through it against that size */
		.prog_arg = { .type = RTE_BPF_ARG_PTR, .size = prog->mem_size },
	};
	bpf = rte_bpf_load(&prm); /* copies the instructions, JIT-compiles them */
	free(ins);
	if (!bpf)
		die("%s: rte_bpf_load: %s (librte_bpf's log above says where)",
		    prog->name, rte_strerror(rte_errno));
	return bpf;
}

/*
 * The kernel's column.  BPF_PROG_TEST_RUN hands a program a context, not
 * the input itself, so each program goes in as a TC classifier behind a
 * prologue that turns the struct __sk_buff into what the other engines get,
 * r1 = the input and r2 = its end, and proves mem_size bytes to the
 * verifier:
 *
 *     r2 = skb->data_end; r1 = skb->data
 *     if r1 + mem_size > r2: return 0
 *
 * TC rather than XDP: a test run of an XDP program switches the kernel's
 * XDP dispatcher to it and back, some 15 ms per call that would drown the
 * runs, whereas a TC test run costs a fixed few ns per run.  That cost, and
 * the prologue's, which the other engines do not pay, go with the baseline
 * (empty.s behind the same prologue).  A test run reports 32 bits of r0:
 * they are checked against the low half of the C version's.
 */
#define KERNEL_PROLOGUE 7

static struct bpf_insn bpf_insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	return (struct bpf_insn){ .code = code, .dst_reg = dst, .src_reg = src, .off = off,
				  .imm = imm };
}

static int kernel_load(const struct program *prog, const struct sluice_insn *body,
		       size_t slots)
{
	static char log[1 << 20];
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .log_buf = log, .log_size = sizeof(log));
	struct bpf_insn *insns = malloc((KERNEL_PROLOGUE + slots) * sizeof(*insns));
	struct bpf_insn *p = insns;
	int fd;

	if (!insns)
		die("out of memory");
	*p++ = bpf_insn(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_2, BPF_REG_1,
			offsetof(struct __sk_buff, data_end), 0);
	*p++ = bpf_insn(BPF_LDX | BPF_W | BPF_MEM, BPF_REG_1, BPF_REG_1,
			offsetof(struct __sk_buff, data), 0);
	*p++ = bpf_insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_3, BPF_REG_1, 0, 0);
	*p++ = bpf_insn(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_3, 0, 0, (int32_t)prog->mem_size);
	*p++ = bpf_insn(BPF_JMP | BPF_JLE | BPF_X, BPF_REG_3, BPF_REG_2, 2, 0);
	*p++ = bpf_insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
	*p++ = bpf_insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	_Static_assert(sizeof(*body) == sizeof(*p), "one slot is 8 bytes in both");
	memcpy(p, body, slots * sizeof(*p));
	fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "bench", "GPL", insns, KERNEL_PROLOGUE + slots,
			   &opts);
	free(insns);
	if (fd < 0 && fd != -EPERM && fd != -ENOSYS) {
		size_t len = strlen(log);

		die("%s: the kernel refused the program (%s); the verifier's log ends:\n%s",
		    prog->name, strerror(-fd), log + (len > 2000 ? len - 2000 : 0));
	}
	return fd;
}

/* repeat runs of the program in the kernel; the last one's r0, the packet in b->out */
static uint32_t kernel_run(struct bench *b, int fd, uint32_t repeat)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = b->mem,
		    .data_size_in = (uint32_t)b->prog->mem_size, .data_out = b->out,
		    .data_size_out = b->out ? b->out_size : 0, .repeat = (int)repeat);
	int ret = bpf_prog_test_run_opts(fd, &opts);

	if (ret)
		die("%s: BPF_PROG_TEST_RUN: %s", b->prog->name, strerror(-ret));
	return opts.retval;
}

/* The same through Sluice's runtime, BPF_PROG_TEST_RUN's twin. */
static uint32_t rt_run(struct bench *b, struct sluice_rt_prog *prog, uint32_t repeat)
{
	struct sluice_test_run run = {
		.sz = sizeof(run),
		.data_in = b->mem,
		.data_size_in = (uint32_t)b->prog->mem_size,
		.data_out = b->out,
		.data_size_out = b->out_size,
		.repeat = repeat,
	};
	struct sluice_error err; /* not cleared: that would be timed too */

	if (sluice_rt_test_run(prog, &run, &err) < 0)
		die("%s: sluice_rt_test_run: %s", b->prog->name, err.msg);
	return run.retval;
}

/* The timed VM does not count; a counting twin runs once to tell ns/insn. */
static uint64_t count_executed(const struct sluice_insn *insns, size_t slots,
			       struct sluice_exec *exec)
{
	struct sluice_vm_opts opts = { .sz = sizeof(opts), .count = true };
	struct sluice_error err = { 0 };
	struct sluice_vm *vm = sluice_vm_new(insns, slots, &opts, &err);
	uint64_t r0;

	if (!vm || sluice_vm_exec(vm, exec, &r0, &err) < 0)
		die("counting run: %s", err.msg);
	sluice_vm_free(vm);
	return exec->executed;
}

static bool engine_takes(const struct bench *b, enum engine e)
{
	if (e == RTE || e == RTE_JIT)
		return b->rte;
	if (e == KERNEL)
		return b->kernel_fd >= 0;
	return true;
}


/* One run on one engine. */
static uint64_t run_once(struct bench *b, enum engine e)
{
	struct sluice_error err; /* not cleared: that would be timed too */
	uint64_t r0 = 0;

	if (b->prog->maps && (e == INTERP || e == JIT))
		return rt_run(b, b->rt_prog[e], 1);
	switch (e) {
	case INTERP:
		if (sluice_vm_exec(b->vm, &b->exec, &r0, &err) < 0)
			die("%s: sluice_vm_exec: %s", b->prog->name, err.msg);
		break;
	case JIT:
		if (b->jit_fn)
			r0 = b->jit_fn((uintptr_t)b->mem, (uintptr_t)b->mem + b->prog->mem_size,
				       0, 0, 0);
		else if (sluice_jit_exec(b->jit, &b->exec, &r0, &err) < 0)
			die("%s: sluice_jit_exec: %s", b->prog->name, err.msg);
		break;
	case RTE:
		r0 = rte_bpf_exec(b->rte, b->mem);
		break;
	case RTE_JIT:
		r0 = b->rte_jit(b->mem);
		break;
	case KERNEL:
		r0 = kernel_run(b, b->kernel_fd, 1);
		break;
	case NATIVE:
		r0 = b->prog->native(b->native_mem, b->prog->mem_size);
		break;
	case NENGINES:
		break;
	}
	return r0;
}

/* An assembled program, into every engine: each takes r1 = the input. */
static void load_asm(struct bench *b, const struct program *prog)
{
	struct sluice_vm_opts vm_opts = { .sz = sizeof(vm_opts) };
	struct sluice_jit_opts jit_opts = { .sz = sizeof(jit_opts) };
	struct sluice_error err = { 0 };
	struct rte_bpf_jit rte_jit;
	struct sluice_insn *insns;
	char path[4096];
	size_t len;
	char *text;

	snprintf(path, sizeof(path), "%s/%s.s", BENCH_PROGRAMS_DIR, prog->name);
	text = read_text(path, &len);
	if (sluice_asm(text, len, path, &insns, &b->slots, &err) < 0)
		die("%s", err.msg);
	free(text);

	b->exec = (struct sluice_exec){
		.sz = sizeof(b->exec),
		.args = { (uintptr_t)b->mem, (uintptr_t)b->mem + prog->mem_size },
	};
	b->vm = sluice_vm_new(insns, b->slots, &vm_opts, &err);
	if (!b->vm)
		die("%s: sluice_vm_new: %s", prog->name, err.msg);
	b->jit = sluice_jit_new(insns, b->slots, &jit_opts, &err);
	if (!b->jit)
		die("%s: sluice_jit_new: %s", prog->name, err.msg);
	b->jit_fn = sluice_jit_function(b->jit);
	b->executed = count_executed(insns, b->slots, &b->exec);
	b->rte = prog->loops ? NULL : rte_load(prog, insns, b->slots);
	if (b->rte && (rte_bpf_get_jit(b->rte, &rte_jit) || !rte_jit.func))
		die("%s: librte_bpf has no JIT code for it", prog->name);
	b->rte_jit = b->rte ? rte_jit.func : NULL;
	b->kernel_fd = kernel_load(prog, insns, b->slots);
	free(insns);
}

/*
 * A map program: BENCH_OBJECT into Sluice's runtime, once per engine, and
 * into the kernel through libbpf, the maps of each filled alike.
 */
static void load_object(struct bench *b, const struct program *prog)
{
	const char *const names[] = { prog->name, NULL };
	struct sluice_error err = { 0 };
	struct bpf_program *kprog;
	int ret;

	b->obj = sluice_object_open(BENCH_OBJECT, NULL, &err);
	if (!b->obj)
		die("%s", err.msg);
	for (int e = INTERP; e <= JIT; e++) {
		struct sluice_rt_opts opts = {
			.sz = sizeof(opts), .engine = engine_names[e], .progs = names,
		};

		b->rt[e] = sluice_rt_load(b->obj, &opts, &err);
		if (!b->rt[e])
			die("%s: sluice_rt_load, engine %s: %s", prog->name, engine_names[e],
			    err.msg);
		b->rt_prog[e] = sluice_rt_find_prog(b->rt[e], prog->name);
		if (!b->rt_prog[e])
			die("%s: not in %s", prog->name, BENCH_OBJECT);
		fill_maps(&(struct map_target){ .rt = b->rt[e] });
	}
	sluice_rt_prog_insns(b->rt_prog[INTERP], &b->slots);
	nb_maps = (struct nb_maps){
		.flows = sluice_rt_find_map(b->rt[INTERP], "flows"),
		.ring = sluice_rt_find_map(b->rt[INTERP], "ring"),
		.backends = sluice_rt_find_map(b->rt[INTERP], "backends"),
	};

	b->kernel_fd = -1;
	b->kernel_obj = bpf_object__open_file(BENCH_OBJECT, NULL);
	ret = libbpf_get_error(b->kernel_obj);
	if (ret)
		die("%s: libbpf cannot open it: %s", BENCH_OBJECT, strerror(-ret));
	ret = bpf_object__load(b->kernel_obj);
	if (ret == -EPERM) {
		bpf_object__close(b->kernel_obj);
		b->kernel_obj = NULL;
		return;
	}
	if (ret)
		die("%s: the kernel refused it: %s (libbpf's log above says why)", BENCH_OBJECT,
		    strerror(-ret));
	fill_maps(&(struct map_target){ .kernel = b->kernel_obj });
	kprog = bpf_object__find_program_by_name(b->kernel_obj, prog->name);
	if (!kprog)
		die("%s: not in %s", prog->name, BENCH_OBJECT);
	b->kernel_fd = bpf_program__fd(kprog);
}

/*
 * Load a program into every engine that takes it, and check that each
 * returns what the C version does (and, for the map programs, leaves the
 * packet as it does) before anything is timed.
 */
static void load_one(struct bench *b, const struct program *prog)
{
	*b = (struct bench){ .prog = prog };
	b->mem = malloc(prog->mem_size);
	b->native_mem = prog->maps ? malloc(prog->mem_size) : b->mem;
	b->out_size = prog->maps ? (uint32_t)prog->mem_size : 0;
	b->out = prog->maps ? malloc(prog->mem_size) : NULL;
	if (!b->mem || !b->native_mem || (prog->maps && !b->out))
		die("out of memory");
	prog->fill(b->mem, prog->mem_size);
	if (prog->maps)
		load_object(b, prog);
	else
		load_asm(b, prog);

	if (prog->maps)
		memcpy(b->native_mem, b->mem, prog->mem_size);
	b->result = prog->native(b->native_mem, prog->mem_size);
	for (int e = 0; e < NENGINES; e++) {
		bool test_run = e == KERNEL || (prog->maps && e != NATIVE);
		uint64_t r0;

		if (!engine_takes(b, (enum engine)e))
			continue;
		r0 = run_once(b, (enum engine)e);
		if (test_run ? r0 != (uint32_t)b->result : r0 != b->result)
			die("%s: %s returned 0x%" PRIx64 " but the C version 0x%" PRIx64,
			    prog->name, engine_names[e], r0, b->result);
		if (b->out && e != NATIVE && memcmp(b->out, b->native_mem, prog->mem_size))
			die("%s: %s left another packet than the C version", prog->name,
			    engine_names[e]);
	}
}

/*
 * The program, and beside it its baseline: the empty program (empty.s, or
 * the object's `empty`, and a C function returning 0) on the same input,
 * in the same engines, called the same way.
 */
static void load(struct bench *b, const struct program *prog)
{
	struct bench *baseline = malloc(sizeof(*baseline));

	if (!baseline)
		die("out of memory");
	load_one(b, prog);
	b->as_empty = *prog;
	b->as_empty.name = "empty";
	b->as_empty.native = native_empty;
	load_one(baseline, &b->as_empty);
	b->baseline = baseline;
}

static void unload(struct bench *b)
{
	/* a baseline is unloaded by the bench it belongs to */
	sluice_vm_free(b->vm);
	sluice_jit_free(b->jit);
	rte_bpf_destroy(b->rte);
	if (b->kernel_obj)
		bpf_object__close(b->kernel_obj);
	else if (b->kernel_fd >= 0)
		close(b->kernel_fd);
	for (int e = INTERP; e <= JIT; e++)
		sluice_rt_free(b->rt[e]);
	sluice_object_close(b->obj);
	if (b->native_mem != b->mem)
		free(b->native_mem);
	free(b->mem);
	free(b->out);
	if (b->baseline) {
		unload(b->baseline);
		free(b->baseline);
	}
}

/* The kernel's JIT switch as the kernel reports it: "1" on, "?" unreadable. */
static const char *jit_enable(void)
{
	static char value[8] = "?";
	FILE *f = fopen("/proc/sys/net/core/bpf_jit_enable", "r");

	if (f) {
		if (!fgets(value, sizeof(value), f))
			strcpy(value, "?");
		value[strcspn(value, "\n")] = 0;
		fclose(f);
	}
	return value;
}

/*
 * This thread's CPU time, the kernel's work for it in a test run included:
 * time the thread spends descheduled, while other work on the machine
 * runs, does not count against the batch it falls in.
 */
static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

/*
 * Run the program (or the engine's empty program) n times on one engine;
 * returns the nanoseconds taken.  The kernel runs a batch in one
 * BPF_PROG_TEST_RUN with repeat n, timed from here rather than by its
 * duration field, which is whole nanoseconds per run.
 */
static uint64_t run_batch(struct bench *b, enum engine e, uint64_t n, bool empty)
{
	uint64_t start;

	if (empty)
		b = b->baseline;
	start = now_ns();
	if (e == KERNEL) {
		kernel_run(b, b->kernel_fd, (uint32_t)n);
	} else if (b->prog->maps && (e == INTERP || e == JIT)) {
		rt_run(b, b->rt_prog[e], (uint32_t)n);
	} else {
		for (uint64_t i = 0; i < n; i++)
			run_once(b, e);
	}
	return now_ns() - start;
}

/* The number of runs that makes one batch last about BATCH_NS. */
static uint64_t calibrate(struct bench *b, enum engine e)
{
	uint64_t n = 1, t;

	while ((t = run_batch(b, e, n, false)) < CALIBRATE_NS)
		n *= 2;
	n = (uint64_t)((double)n * BATCH_NS / (double)t);
	return n ? (n < UINT32_MAX ? n : UINT32_MAX) : 1;
}

/*
 * The engines whose runs go through a test run's framework, the kernel's
 * BPF_PROG_TEST_RUN and Sluice's runtime for the map programs: its cost
 * per run, measured on the empty program, is taken off theirs.  Direct
 * calls are shown as they are, call included: taking an empty call's time
 * off them also takes off the part of it the processor overlaps with the
 * program.  The JIT's is measured all the same, for the one comparison
 * that wants it: with the kernel's, whose figure went through that
 * subtraction.
 */
static bool engine_in_framework(const struct bench *b, enum engine e)
{
	return e == KERNEL || (b->prog->maps && e != NATIVE);
}

static bool engine_has_baseline(const struct bench *b, enum engine e)
{
	return engine_in_framework(b, e) || e == JIT;
}

static double fastest(const double t[MAX_ROUNDS])
{
	double min = t[0];

	for (int r = 1; r < rounds; r++)
		min = fmin(min, t[r]);
	return min;
}

/*
 * Nanoseconds per run in the fastest batch of each engine that takes the
 * program, and for an engine with a baseline, in the fastest batch of the
 * empty program, timed right after each batch.
 */
static void measure(struct bench *b, double ns_per_run[NENGINES], double empty_ns[NENGINES])
{
	double t[NENGINES][MAX_ROUNDS], t_empty[NENGINES][MAX_ROUNDS];
	enum engine order[NENGINES];
	uint64_t n[NENGINES];
	int engines = 0;

	for (int e = 0; e < NENGINES; e++) {
		if (!engine_takes(b, (enum engine)e))
			continue;
		order[engines++] = (enum engine)e;
		n[e] = calibrate(b, (enum engine)e);
	}
	for (int r = 0; r < rounds; r++) {
		for (int i = 0; i < engines; i++) {
			/* A B C, C B A, A B C, ...: a drift in the machine's
			 * speed across the rounds then falls on all alike */
			enum engine e = order[r % 2 ? engines - 1 - i : i];

			t[e][r] = (double)run_batch(b, e, n[e], false) / (double)n[e];
			if (engine_has_baseline(b, e))
				t_empty[e][r] = (double)run_batch(b, e, n[e], true) / (double)n[e];
		}
	}
	for (int i = 0; i < engines; i++) {
		enum engine e = order[i];

		empty_ns[e] = engine_has_baseline(b, e) ? fastest(t_empty[e]) : 0;
		ns_per_run[e] = fastest(t[e]);
	}
}

/* A ratio of two times, or "-" when an engine did not run the program. */
static void print_ratio(bool ran, double num, double den, double *log_sum, int *count)
{
	if (!ran) {
		printf(" %10s", "-");
		return;
	}
	printf(" %9.2fx", num / den);
	*log_sum += log(num / den);
	(*count)++;
}

static void print_ns(bool ran, double ns)
{
	if (ran)
		printf(" %7.1f", ns);
	else
		printf(" %7s", "-");
}

static void table(const struct program *only)
{
	/* geometric means of rte/interp, rtejit/jit, kernel/jit-e, jit/native, kraw/jraw */
	double log_sum[5] = { 0 };
	int count[5] = { 0 };
	/* the baselines' ns per run, fewest and most, for direct calls and map programs */
	double empty_min[2][NENGINES], empty_max[2][NENGINES] = { { 0 } };
	bool kernel_ran = false;

	for (int e = 0; e < NENGINES; e++)
		empty_min[0][e] = empty_min[1][e] = INFINITY;

	printf("Sluice interpreter and JIT vs librte_bpf (%s) interpreter and JIT vs the "
	       "kernel's JIT vs C (gcc -O2)\n", rte_version());
	printf("ns per run, fastest of %d alternating rounds of ~%.0f ms per engine\n\n", rounds,
	       BATCH_NS / 1e6);
	printf("%-11s %5s %8s %8s %7s %7s %7s %7s %7s %7s %7s %10s %10s %10s %10s %10s %10s\n",
	       "program", "slots", "executed", "interp", "ns/insn", "jit", "jit-e", "rte",
	       "rte-jit", "kernel", "native", "rte/interp", "interp/jit", "rtejit/jit",
	       "kern/jit-e", "kraw/jraw", "jit/native");
	for (size_t i = 0; i < NPROGRAMS; i++) {
		const struct program *prog = &programs[i];
		double raw[NENGINES], empty[NENGINES], ns[NENGINES], jit_delta;
		int ignored = 0;
		struct bench b;
		bool rte, kernel;

		if (only && only != prog)
			continue;
		load(&b, prog);
		measure(&b, raw, empty);
		for (int e = 0; e < NENGINES; e++)
			ns[e] = raw[e] - (engine_in_framework(&b, (enum engine)e) ? empty[e] : 0);
		jit_delta = raw[JIT] - empty[JIT];
		rte = engine_takes(&b, RTE);
		kernel = engine_takes(&b, KERNEL);
		printf("%-11s %5zu", prog->name, b.slots);
		if (b.executed)
			printf(" %8" PRIu64 " %8.1f %7.3f", b.executed, ns[INTERP],
			       ns[INTERP] / (double)b.executed);
		else
			printf(" %8s %8.1f %7s", "-", ns[INTERP], "-");
		print_ns(true, ns[JIT]);
		print_ns(true, jit_delta);
		print_ns(rte, ns[RTE]);
		print_ns(rte, ns[RTE_JIT]);
		print_ns(kernel, ns[KERNEL]);
		print_ns(true, ns[NATIVE]);
		print_ratio(rte, ns[RTE], ns[INTERP], &log_sum[0], &count[0]);
		print_ratio(true, ns[INTERP], ns[JIT], &(double){ 0 }, &ignored);
		print_ratio(rte, ns[RTE_JIT], ns[JIT], &log_sum[1], &count[1]);
		print_ratio(kernel, ns[KERNEL], jit_delta, &log_sum[2], &count[2]);
		print_ratio(kernel, raw[KERNEL], raw[JIT], &log_sum[4], &count[4]);
		print_ratio(true, ns[JIT], ns[NATIVE], &log_sum[3], &count[3]);
		putchar('\n');
		for (int e = 0; e < NENGINES; e++) {
			if (!engine_takes(&b, (enum engine)e) || !engine_has_baseline(&b, (enum engine)e))
				continue;
			empty_min[prog->maps][e] = fmin(empty_min[prog->maps][e], empty[e]);
			empty_max[prog->maps][e] = fmax(empty_max[prog->maps][e], empty[e]);
		}
		kernel_ran |= kernel;
		unload(&b);
	}
	putchar('\n');
	if (count[0]) {
		printf("geomean: Sluice interpreter %.2fx as fast as librte_bpf's interpreter\n",
		       exp(log_sum[0] / count[0]));
		printf("geomean: Sluice JIT %.2fx as fast as librte_bpf's JIT\n",
		       exp(log_sum[1] / count[1]));
	}
	if (count[2])
		printf("geomean: Sluice JIT %.2fx (kern/jit-e) to %.2fx (kraw/jraw) as fast as the "
		       "kernel's JIT\n", exp(log_sum[2] / count[2]), exp(log_sum[4] / count[4]));
	printf("geomean: Sluice JIT takes %.2fx the time of native C\n",
	       exp(log_sum[3] / count[3]));
	printf("\n"
	       "interp, jit, rte, rte-jit, native: ns per run of a direct call, call included\n"
	       "  (sluice_vm_exec, the function sluice_jit_function gives, rte_bpf_exec, the\n"
	       "  rte_bpf_get_jit function, the C function), r1 = the input, r2 = its end.\n"
	       "kernel: BPF_PROG_TEST_RUN with repeat N, timed around the call, less the same\n"
	       "  for empty.s (its baseline, below): the test run's loop and its call into the\n"
	       "  program are not counted; the program as a TC classifier behind a\n"
	       "  7-instruction prologue (r1 = skb->data, r2 = skb->data_end, bounds check),\n"
	       "  bpf_jit_enable=%s.\n"
	       "jit-e: the JIT measured as the kernel is, its direct call less the same call of\n"
	       "  empty.s.  The two ratios bound Sluice's JIT against the kernel's: kern/jit-e\n"
	       "  from below, as the processor overlaps part of the kernel's larger baseline\n"
	       "  with the program, which its subtraction then takes off the program; kraw/jraw\n"
	       "  (before subtraction: test run against direct call, or test run against test\n"
	       "  run for the map programs) from above.\n"
	       "flowtable, lb: map programs (netbench.bpf.o, TC): interp and jit are Sluice's\n"
	       "  runtime, sluice_rt_test_run with repeat N, timed and less its baseline (the\n"
	       "  object's `empty`) as the kernel's column is, so both include what a test run\n"
	       "  does per run beyond the empty program's; native is the same C (netbench.h)\n"
	       "  with sluice_map_elem_lookup on the runtime's maps, a direct call.\n"
	       "  executed: '-', not counted through the runtime.\n"
	       "rte, rte-jit: '-' where librte_bpf cannot run the program: its validator rejects\n"
	       "  loops, and it has no maps or helpers.\n",
	       jit_enable());
	if (!kernel_ran)
		printf("kernel: '-', this process may not load BPF programs (root or CAP_BPF).\n");
	for (int maps = 0; maps < 2; maps++) {
		bool any = false;

		for (int e = 0; e < NENGINES; e++) {
			if (empty_min[maps][e] == INFINITY)
				continue;
			printf("%s %s %.1f-%.1f", any ? "," : maps ? "baseline ns per run, map programs:"
								   : "baseline ns per run:",
			       engine_names[e], empty_min[maps][e], empty_max[maps][e]);
			any = true;
		}
		if (any)
			putchar('\n');
	}
}

/* A fixed number of runs on one engine, for valgrind --tool=callgrind. */
/*
 * n runs of the program and then n of its baseline, each batch in its own
 * function, so that callgrind (bench/callgrind.sh) can count them apart:
 * --toggle-collect='count_program*' --toggle-collect='count_baseline*'.
 */
__attribute__((noinline))
static uint64_t count_program(struct bench *b, enum engine e, uint64_t n)
{
	return run_batch(b, e, n, false);
}

__attribute__((noinline))
static uint64_t count_baseline(struct bench *b, enum engine e, uint64_t n)
{
	return run_batch(b, e, n, true);
}

static void fixed(const struct program *prog, enum engine e, uint64_t n)
{
	uint64_t t, t_empty;
	struct bench b;

	if (e == KERNEL)
		die("callgrind counts user-space instructions only, not the kernel's");
	load(&b, prog);
	if (!engine_takes(&b, e))
		die("librte_bpf cannot run %s (loops or maps)", prog->name);
	t = count_program(&b, e, n);
	t_empty = count_baseline(&b, e, n);
	printf("%s on %s: %" PRIu64 " runs, r0 = 0x%" PRIx64 ", %.1f ns/run, baseline %.1f\n",
	       prog->name, engine_names[e], n, b.result, (double)t / (double)n,
	       (double)t_empty / (double)n);
	unload(&b);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bench_jit [--program NAME] [--rounds N]\n"
		   "       bench_jit --iterations N --engine ENGINE --program NAME\n"
		   "engines:");
	for (int e = 0; e < NENGINES; e++)
		fprintf(f, " %s", engine_names[e]);
	fprintf(f, "\nprograms:");
	for (size_t i = 0; i < NPROGRAMS; i++)
		fprintf(f, " %s", programs[i].name);
	fputc('\n', f);
}

static const struct program *find_program(const char *name)
{
	for (size_t i = 0; i < NPROGRAMS; i++)
		if (strcmp(programs[i].name, name) == 0)
			return &programs[i];
	die("no program '%s'", name);
}

static enum engine find_engine(const char *name)
{
	for (int e = 0; e < NENGINES; e++)
		if (strcmp(engine_names[e], name) == 0)
			return (enum engine)e;
	die("no engine '%s'", name);
}

int main(int argc, char **argv)
{
	const struct program *prog = NULL;
	const char *engine = NULL;
	uint64_t iterations = 0;

	for (int i = 1; i < argc; i++) {
		const char *opt = argv[i];

		if (strcmp(opt, "--help") == 0) {
			usage(stdout);
			return 0;
		}
		if (i + 1 == argc) {
			usage(stderr);
			return 2;
		}
		if (strcmp(opt, "--program") == 0) {
			prog = find_program(argv[++i]);
		} else if (strcmp(opt, "--engine") == 0) {
			engine = argv[++i];
		} else if (strcmp(opt, "--rounds") == 0) {
			rounds = atoi(argv[++i]);
			if (rounds < 1 || rounds > MAX_ROUNDS)
				die("--rounds wants 1 to %d", MAX_ROUNDS);
		} else if (strcmp(opt, "--iterations") == 0) {
			char *end;

			iterations = strtoull(argv[++i], &end, 10);
			if (*end || iterations == 0)
				die("--iterations wants a positive count");
		} else {
			usage(stderr);
			return 2;
		}
	}

	if (!iterations && !engine) {
		table(prog);
	} else if (iterations && engine && prog) {
		fixed(prog, find_engine(engine), iterations);
	} else {
		usage(stderr);
		return 2;
	}
	return 0;
}
