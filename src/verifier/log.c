/* SPDX-License-Identifier: MIT */
/*
 * The verifier's log, worded and shaped as the kernel's (print_verifier_state,
 * print_bpf_insn) so that what a user searches for is what they find:
 *
 *     0: R1=ctx() R10=fp0
 *     0: (61) r2 = *(u32 *)(r1 +0)
 *     ...
 *     invalid access to packet, off=14 size=1, R2(id=0,off=14,r=0)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sluice/disasm.h>

#include "env.h"

static void vlog_vprintf(struct vlog *log, const char *fmt, va_list ap)
{
	va_list again;
	int n;

	if (log->failed)
		return;
	va_copy(again, ap);
	n = vsnprintf(log->buf ? log->buf + log->len : NULL,
		      log->buf ? log->cap - log->len : 0, fmt, ap);
	if (n >= 0 && log->len + (size_t)n + 1 > log->cap) {
		size_t cap = log->cap ? log->cap : 4096;
		char *buf;

		while (cap < log->len + (size_t)n + 1)
			cap *= 2;
		buf = realloc(log->buf, cap);
		if (!buf) {
			log->failed = true;
			va_end(again);
			return;
		}
		log->buf = buf;
		log->cap = cap;
		n = vsnprintf(log->buf + log->len, log->cap - log->len, fmt, again);
	}
	va_end(again);
	if (n > 0)
		log->len += (size_t)n;
}

void vlog_printf(struct vlog *log, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog_vprintf(log, fmt, ap);
	va_end(ap);
}

int verr(struct verifier *v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->reason, sizeof(v->reason), fmt, ap);
	va_end(ap);
	vlog_printf(&v->log, "%s\n", v->reason);
	return -EACCES;
}

static const char *const type_names[REG__COUNT] = {
	[REG_NOT_INIT] = "?",
	[REG_SCALAR] = "scalar",
	[REG_CTX] = "ctx",
	[REG_MAP_PTR] = "map_ptr",
	[REG_MAP_VALUE] = "map_value",
	[REG_STACK] = "fp",
	[REG_PKT] = "pkt",
	[REG_PKT_META] = "pkt_meta",
	[REG_PKT_END] = "pkt_end",
	[REG_MEM] = "mem",
	[REG_SOCK_COMMON] = "sock_common",
	[REG_SOCKET] = "sock",
	[REG_TCP_SOCK] = "tcp_sock",
	[REG_FLOW_KEYS] = "flow_keys",
	[REG_FUNC] = "func",
	[REG_BTF_ID] = "ptr_",
};

const char *reg_type_name(const struct reg *r)
{
	static __thread char buf[48];

	snprintf(buf, sizeof(buf), "%s%s%s%s", r->flags & REG_RDONLY ? "rdonly_" : "",
		 r->flags & REG_RINGBUF ? "ringbuf_" : "", type_names[r->type],
		 r->flags & REG_MAYBE_NULL ? "_or_null" : "");
	return buf;
}

void tnum_format(struct tnum t, char *buf, size_t len)
{
	snprintf(buf, len, "(0x%" PRIx64 "; 0x%" PRIx64 ")", t.value, t.mask);
}

/* The views of a scalar that say more than its type does, as the kernel lists them. */
static void log_scalar_views(struct vlog *log, struct scalar s, const char **sep)
{
	char tn[64];

#define VIEW(cond, name, fmt, val)                                    \
	do {                                                          \
		if (cond) {                                           \
			vlog_printf(log, "%s" name "=" fmt, *sep, val); \
			*sep = ",";                                   \
		}                                                     \
	} while (0)
	VIEW(s.r64.smin != INT64_MIN, "smin", "%" PRId64, s.r64.smin);
	VIEW(s.r64.smax != INT64_MAX, "smax", "%" PRId64, s.r64.smax);
	VIEW(s.r64.umin != 0, "umin", "%" PRIu64, s.r64.umin);
	VIEW(s.r64.umax != UINT64_MAX, "umax", "%" PRIu64, s.r64.umax);
	VIEW(s.r32.smin != INT32_MIN && s.r32.smin != s.r64.smin, "smin32", "%" PRId64, s.r32.smin);
	VIEW(s.r32.smax != INT32_MAX && s.r32.smax != s.r64.smax, "smax32", "%" PRId64, s.r32.smax);
	VIEW(s.r32.umin != 0 && s.r32.umin != s.r64.umin, "umin32", "%" PRIu64, s.r32.umin);
	VIEW(s.r32.umax != UINT32_MAX && s.r32.umax != s.r64.umax, "umax32", "%" PRIu64, s.r32.umax);
#undef VIEW
	if (!tnum_is_unknown(s.t)) {
		tnum_format(s.t, tn, sizeof(tn));
		vlog_printf(log, "%svar_off=%s", *sep, tn);
		*sep = ",";
	}
}

void log_reg(struct vlog *log, struct verifier *v, const struct reg *r)
{
	const char *sep = "";

	if (r->type == REG_SCALAR) {
		if (scalar_is_const(r->var)) {
			vlog_printf(log, "%" PRId64, (int64_t)r->var.t.value);
			return;
		}
		vlog_printf(log, "scalar(");
		if (r->id) {
			vlog_printf(log, "id=%u", r->id);
			if (r->off)
				vlog_printf(log, "%+d", r->off);
			sep = ",";
		}
		log_scalar_views(log, r->var, &sep);
		vlog_printf(log, ")");
		return;
	}
	if (r->type == REG_STACK && scalar_is_const(r->var)) {
		vlog_printf(log, "fp%" PRId64, (int64_t)(r->off + r->var.t.value));
		return;
	}
	vlog_printf(log, "%s(", reg_type_name(r));
	if (r->type == REG_MAP_PTR || r->type == REG_MAP_VALUE) {
		const struct sluice_map_def *m = map_of(v, r->map);

		vlog_printf(log, "map=%s,ks=%u,vs=%u", m->name ? m->name : "?", m->key_size,
			    m->value_size);
		sep = ",";
	}
	if (r->id) {
		vlog_printf(log, "%sid=%u", sep, r->id);
		sep = ",";
	}
	if (r->ref_obj_id) {
		vlog_printf(log, "%sref_obj_id=%u", sep, r->ref_obj_id);
		sep = ",";
	}
	if (r->off) {
		vlog_printf(log, "%soff=%d", sep, r->off);
		sep = ",";
	}
	if (reg_is_pkt(r)) {
		vlog_printf(log, "%sr=%u", sep, r->range);
		sep = ",";
	}
	if (r->type == REG_MEM) {
		vlog_printf(log, "%ssz=%u", sep, r->mem_size);
		sep = ",";
	}
	if (!scalar_is_const(r->var) || r->var.t.value)
		log_scalar_views(log, r->var, &sep);
	vlog_printf(log, ")");
}

static char stack_char(uint8_t kind)
{
	switch (kind) {
	case STACK_MISC: return 'm';
	case STACK_ZERO: return '0';
	case STACK_SPILL: return 'r';
	default: return '?';
	}
}

void log_state(struct verifier *v, const struct vstate *st)
{
	for (uint32_t fr = 0; fr <= st->curframe; fr++) {
		const struct frame *f = st->frames[fr];
		const char *sep = "";

		if (st->curframe)
			vlog_printf(&v->log, "frame%u: ", fr);
		for (unsigned i = 0; i <= SLUICE_MAX_REG; i++) {
			if (f->regs[i].type == REG_NOT_INIT)
				continue;
			vlog_printf(&v->log, "%sR%u=", sep, i);
			log_reg(&v->log, v, &f->regs[i]);
			sep = " ";
		}
		for (uint32_t s = 0; s < f->nslots; s++) {
			const struct stack_slot *slot = &f->stack[s];
			char kinds[SLOT_SIZE + 1];
			bool any = false;

			for (unsigned b = 0; b < SLOT_SIZE; b++) {
				kinds[SLOT_SIZE - 1 - b] = stack_char(slot->kind[b]);
				any |= slot->kind[b] != STACK_INVALID;
			}
			kinds[SLOT_SIZE] = 0;
			if (!any)
				continue;
			vlog_printf(&v->log, "%sfp%d=", sep, -(int)(s + 1) * SLOT_SIZE);
			if (slot->kind[0] == STACK_SPILL && slot->kind[SLOT_SIZE - 1] == STACK_SPILL)
				log_reg(&v->log, v, &slot->spilled);
			else
				vlog_printf(&v->log, "%s", kinds);
			sep = " ";
		}
		vlog_printf(&v->log, "\n");
	}
}

void log_source_line(struct verifier *v, uint32_t pc)
{
	for (size_t i = 0; i < v->opts->nlines; i++) {
		const struct sluice_line_info *l = &v->opts->lines[i];
		const struct sluice_line_info *last = v->last_line;

		if (l->insn != pc || !l->source || !*l->source)
			continue;
		/* As the kernel: a line once, however many records repeat it in a row. */
		if (last && last->line == l->line && last->file == l->file)
			return;
		v->last_line = l;
		vlog_printf(&v->log, "; %s @ %s:%u\n", l->source, l->file ? l->file : "?", l->line);
		return;
	}
}

void log_insn(struct verifier *v, uint32_t pc)
{
	char text[128];

	if (sluice_disasm_insn(v->insns, v->count, pc, SLUICE_DISASM_LLVM, text,
			       sizeof(text)) < 0)
		snprintf(text, sizeof(text), "?");
	vlog_printf(&v->log, "%u: (%02x) %s\n", pc, v->insns[pc].code, text);
}
