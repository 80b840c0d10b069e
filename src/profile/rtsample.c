/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE /* REG_RIP, REG_RSP */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <sluice/jit.h>

#include "btf.h"
#include "errmsg.h"
#include "helper_proto.h"
#include "profile/rtsample.h"
#include "profile/symbols.h"

#define CALL_HELPER 0x85 /* BPF_JMP | BPF_CALL, src 0 (src 1: a local call) */
/* The JIT's local call: 4 pushes, 8 bytes of alignment, the return address. */
#define LOCAL_CALL_FRAME 48
/* Stack words searched above a helper's stack pointer for the call's return address. */
#define SCAN_WORDS 512
#define MAX_DEPTH 9 /* SLUICE_MAX_CALL_FRAMES (8) + a helper */

struct rt_sample {
	uint64_t rip;             /* where the process was */
	uint64_t addr[MAX_DEPTH]; /* leaf first: a pc's code address, then return addresses */
	uint8_t n;                /* 0: outside the program */
	bool helper;              /* addr[0] returns from a helper call */
};

/* What the SIGPROF handler sees: set before the timer starts, read after it stops. */
static struct {
	uintptr_t base, len;
	uintptr_t body, body_end; /* offsets of the instructions' code: no entry, no exits */
	struct rt_sample *samples;
	size_t cap;
	volatile size_t n;
	volatile uint64_t dropped;
	volatile sig_atomic_t done; /* the duration is over */
} sampling;

static bool in_code(uint64_t a)
{
	return a - sampling.base < sampling.len;
}

/* Where a call returns to: the entry code's own call into the body does not count. */
static bool in_body(uint64_t a)
{
	return a - sampling.base - sampling.body < sampling.body_end - sampling.body;
}

/*
 * Reads the interrupted code's stack words, wherever they are: under
 * AddressSanitizer some lie in other frames' redzones, and are still data.
 */
__attribute__((no_sanitize_address))
static void on_sigprof(int sig, siginfo_t *si, void *ucv)
{
	const ucontext_t *uc = ucv;
	uint64_t rip = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
	const uint64_t *sp = (const uint64_t *)uc->uc_mcontext.gregs[REG_RSP];
	struct rt_sample *s;

	(void)sig, (void)si;
	if (sampling.n == sampling.cap) {
		sampling.dropped++;
		return;
	}
	s = &sampling.samples[sampling.n];
	s->rip = rip;
	s->n = 0;
	s->helper = false;
	if (in_code(rip)) {
		s->addr[s->n++] = rip;
	} else {
		for (unsigned i = 0; i < SCAN_WORDS; i++)
			if (in_body(sp[i])) {
				s->addr[s->n++] = sp[i];
				s->helper = true;
				sp += i + 1;
				break;
			}
	}
	for (unsigned k = 0; s->n && s->n < MAX_DEPTH; k++) {
		uint64_t ret = sp[k * LOCAL_CALL_FRAME / 8];

		if (!in_body(ret))
			break;
		s->addr[s->n++] = ret;
	}
	sampling.n++;
}

/* Where the program's code and what its instructions mean. */
struct image {
	const struct sluice_insn *insns;
	size_t count;
	const uint8_t *code;
	size_t len;
	const uint32_t *offsets;
	size_t *start;          /* the first slot of the instruction holding each slot */
	struct sluice_btf *btf;
	const struct sluice_func_info *funcs;
	size_t nfuncs;
	const struct sluice_line_info *lines;
	size_t nlines;
};

/* The instruction whose code holds offset off: 0 in the entry code, count in the exits. */
static size_t insn_at(const struct image *im, uint64_t off)
{
	size_t lo = 0, hi = im->count + 1;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (im->offsets[mid] <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return 0;
	return lo - 1 < im->count ? im->start[lo - 1] : im->count;
}

/* The runtime's code for the program, and what its instructions mean. */
static int image_open(struct image *im, const struct prof_rt_opts *o, struct sluice_error *err)
{
	const struct sluice_jit *jit = sluice_rt_prog_jit(o->prog);
	size_t nsrc = 0, noff, btf_size;
	const void *btf;

	if (!jit)
		return sluice_fail(err, EINVAL, "the program was not loaded with the JIT engine");
	im->insns = sluice_rt_prog_insns(o->prog, &im->count);
	im->start = calloc(im->count + 1, sizeof(*im->start));
	if (!im->start)
		return sluice_fail(err, ENOMEM, "out of memory");
	for (size_t pc = 0; pc < im->count; pc += sluice_insn_slots(&im->insns[pc]))
		for (size_t s = 0; s < sluice_insn_slots(&im->insns[pc]) && pc + s < im->count; s++)
			im->start[pc + s] = pc;
	im->code = sluice_jit_code(jit, &im->len);
	im->offsets = sluice_jit_offsets(jit, &noff);
	/* names only when the runtime's program is the object's, slot for slot */
	sluice_prog_insns(o->src, &nsrc);
	btf = sluice_object_btf_data(o->obj, &btf_size);
	if (nsrc == im->count && btf) {
		im->btf = btf_parse(btf, btf_size, NULL, NULL);
		im->funcs = sluice_prog_func_info(o->src, &im->nfuncs);
		im->lines = sluice_prog_line_info(o->src, &im->nlines);
	}
	return 0;
}

static void image_close(struct image *im)
{
	btf_free(im->btf);
	free(im->start);
}

static void func_name(const struct image *im, size_t pc, char *buf, size_t size)
{
	const char *name = NULL;

	for (size_t i = 0; i < im->nfuncs && im->funcs[i].insn <= pc; i++)
		name = btf_type_name(im->btf, im->funcs[i].type_id);
	snprintf(buf, size, "%s", name ? name : "");
}

static void line_name(const struct image *im, size_t pc, char *buf, size_t size)
{
	const struct sluice_line_info *at = NULL;
	const char *base;

	for (size_t i = 0; i < im->nlines && im->lines[i].insn <= pc; i++)
		at = &im->lines[i];
	if (!at) {
		snprintf(buf, size, "pc %zu", pc);
		return;
	}
	base = strrchr(at->file, '/');
	snprintf(buf, size, "%s:%u", base ? base + 1 : at->file, at->line);
}

/*
 * One sample, root first: "sluice", the BPF functions, the sampled line;
 * in a helper, its name and then the runtime's C function it was in; outside
 * the program, "[runtime]" and that C function.
 */
static int fold(const struct image *im, const struct prof_rt_opts *o, struct prof_proc *self,
		const struct rt_sample *s, struct prof_stacks *out, struct sluice_error *err)
{
	char names[MAX_DEPTH + 2][128];
	const char *frames[MAX_DEPTH + 5];
	size_t nf = 0, nn = 0, leaf_pc = 0;

	frames[nf++] = "sluice";
	if (!s->n)
		frames[nf++] = "[runtime]";
	for (size_t i = s->n; i-- > 0;) {
		/* every address but a sampled pc's is a return address, just after its call */
		size_t pc = insn_at(im, (i || s->helper ? s->addr[i] - 1 : s->addr[i]) - sampling.base);

		func_name(im, pc < im->count ? pc : 0, names[nn], sizeof(names[nn]));
		if (!names[nn][0])
			snprintf(names[nn], sizeof(names[nn]), "%s", sluice_rt_prog_name(o->prog));
		frames[nf++] = names[nn++];
		leaf_pc = pc;
	}
	if (s->n && leaf_pc == im->count) {
		frames[nf++] = "[exit]";
	} else if (s->n) {
		line_name(im, leaf_pc, names[nn], sizeof(names[nn]));
		frames[nf++] = names[nn++];
		if (s->helper) {
			const struct helper_proto *p = helper_proto((uint32_t)im->insns[leaf_pc].imm);

			snprintf(names[nn], sizeof(names[nn]), "bpf_%s",
				 im->insns[leaf_pc].code == CALL_HELPER && p ? p->name : "callx");
			frames[nf++] = names[nn++];
		}
	}
	if ((!s->n || s->helper) && self)
		frames[nf++] = prof_proc_symbol(self, s->rip);
	return prof_stacks_add(out, frames, nf, 1, err);
}

static void on_sigalrm(int sig, siginfo_t *si, void *ucv)
{
	(void)sig, (void)si, (void)ucv;
	sampling.done = 1;
}

struct sig_timer {
	int signo;
	timer_t timer;
	struct sigaction prev;
};

static struct timespec ns_to_ts(uint64_t ns)
{
	return (struct timespec){ (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) };
}

/* A timer on clock that raises signo, handled by fn, every period_ns (0: once, after first_ns). */
static int timer_start(struct sig_timer *t, clockid_t clock, int signo,
		       void (*fn)(int, siginfo_t *, void *), uint64_t first_ns, uint64_t period_ns,
		       struct sluice_error *err)
{
	struct sigaction sa = { .sa_sigaction = fn, .sa_flags = SA_SIGINFO | SA_RESTART };
	struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = signo };
	struct itimerspec its = { ns_to_ts(period_ns), ns_to_ts(first_ns) };
	int ret;

	t->signo = signo;
	sigemptyset(&sa.sa_mask);
	if (sigaction(signo, &sa, &t->prev))
		return sluice_fail(err, errno, "sigaction: %s", strerror(errno));
	if (timer_create(clock, &sev, &t->timer) || timer_settime(t->timer, 0, &its, NULL)) {
		ret = sluice_fail(err, errno, "timer_create: %s", strerror(errno));
		sigaction(signo, &t->prev, NULL);
		return ret;
	}
	return 0;
}

static void timer_stop(struct sig_timer *t)
{
	timer_delete(t->timer);
	sigaction(t->signo, &t->prev, NULL);
}

/*
 * Rounds of work until the duration is up (a monotonic one-shot timer, so
 * the loop makes no clock call of its own to pollute the profile), sampled
 * on the process's CPU time.
 */
static int run_sampled(const struct prof_rt_opts *o, struct prof_rt_report *r,
		       struct sluice_error *err)
{
	struct sig_timer prof, end;
	int ret;

	sampling.done = 0;
	ret = timer_start(&end, CLOCK_MONOTONIC, SIGALRM, on_sigalrm,
			  (uint64_t)o->duration_ms * 1000000u, 0, err);
	if (ret)
		return ret;
	ret = timer_start(&prof, CLOCK_PROCESS_CPUTIME_ID, SIGPROF, on_sigprof,
			  1000000000u / o->frequency, 1000000000u / o->frequency, err);
	if (ret) {
		timer_stop(&end);
		return ret;
	}
	while (!ret && !sampling.done && !(o->stop && *o->stop)) {
		ret = o->run(o->run_ctx, err);
		r->rounds++;
	}
	timer_stop(&prof);
	timer_stop(&end);
	return ret;
}

int prof_rt_sample(const struct prof_rt_opts *o, struct prof_stacks *out,
		   struct prof_rt_report *r, struct sluice_error *err)
{
	struct image im = { 0 };
	struct prof_proc *self;
	int ret;

	memset(r, 0, sizeof(*r));
	if (!o->frequency || o->frequency > 100000)
		return sluice_fail(err, EINVAL, "frequency %u Hz is not between 1 and 100000",
				   o->frequency);
	ret = image_open(&im, o, err);
	sampling.base = (uintptr_t)im.code;
	sampling.len = im.len;
	sampling.body = ret ? 0 : im.offsets[0];
	sampling.body_end = ret ? 0 : im.offsets[im.count];
	sampling.n = 0;
	sampling.dropped = 0;
	/* CPU time never outruns wall time in one thread: twice the expected count is room */
	sampling.cap = 2 * ((size_t)o->frequency * (o->duration_ms / 1000 + 1));
	sampling.samples = ret ? NULL : calloc(sampling.cap, sizeof(*sampling.samples));
	if (!ret && !sampling.samples)
		ret = sluice_fail(err, ENOMEM, "out of memory");
	if (!ret)
		ret = run_sampled(o, r, err);
	/* the runtime's own functions, named as any process's */
	self = ret ? NULL : prof_proc_open(getpid(), NULL);
	for (size_t i = 0; !ret && i < sampling.n; i++)
		ret = fold(&im, o, self, &sampling.samples[i], out, err);
	prof_proc_free(self);
	r->samples = sampling.n;
	r->dropped = sampling.dropped;
	free(sampling.samples);
	sampling.samples = NULL;
	image_close(&im);
	return ret;
}
