/* SPDX-License-Identifier: MIT */
/*
 * The tracing helpers: bpf_trace_printk, bpf_trace_vprintk and
 * bpf_snprintf with the kernel's format rules, the probe_read family as
 * bounds-checked copies, the current task's identity, and stacks.
 *
 * A program runs inside this process, so "kernel" and "user" memory are
 * the same address space: the probe_read helpers, _user and _kernel alike,
 * copy from it through process_vm_readv on the process itself, which
 * reports an unmapped address as EFAULT instead of faulting.  The task a
 * program sees as current is the thread running it.
 */
#define _GNU_SOURCE /* process_vm_readv, gettid */
#include <ctype.h>
#include <errno.h>
#include <execinfo.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/bpf.h>

#include <sluice/maps.h>

#include "helpers/impl.h"

/* The kernel's limits: kernel/bpf/helpers.c and include/linux/bpf.h. */
#define MAX_BPRINTF_BUF 1024        /* bpf_trace_printk's line */
#define MAX_BPRINTF_BIN_ARGS 512    /* the arguments, strings included, once copied */
#define MAX_TRACE_PRINTK_VARARGS 3
#define MAX_BPRINTF_VARARGS 12
#define PERF_MAX_STACK_DEPTH 127    /* sysctl kernel.perf_event_max_stack's default */
#define FIELD_WIDTH_MAX ((1u << 23) - 1)

/* Copies stop at this boundary: a string that ends before an unmapped page reads. */
#define PROBE_CHUNK 4096u

/* ---- bounds-checked copies ------------------------------------------------ */

static int probe_copy(void *dst, uint64_t src, size_t size)
{
	struct iovec local = { dst, size }, remote = { (void *)(uintptr_t)src, size };

	if (!size)
		return 0;
	return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == (ssize_t)size ? 0 : -EFAULT;
}

/*
 * strncpy_from_kernel_nofault: the string at src into dst, at most size
 * bytes with its NUL (a longer one is cut and terminated); its length with
 * the NUL, or -EFAULT.  Nothing after the NUL in dst is touched.
 */
static long probe_copy_str(char *dst, uint64_t src, size_t size)
{
	char chunk[PROBE_CHUNK];
	size_t done = 0;

	while (done < size) {
		uint64_t at = src + done;
		size_t n = PROBE_CHUNK - (size_t)(at % PROBE_CHUNK);
		char *nul;

		if (n > size - done)
			n = size - done;
		if (probe_copy(chunk, at, n) < 0)
			return -EFAULT;
		nul = memchr(chunk, 0, n);
		if (nul) {
			memcpy(dst + done, chunk, (size_t)(nul - chunk) + 1);
			return (long)(done + (size_t)(nul - chunk) + 1);
		}
		memcpy(dst + done, chunk, n);
		done += n;
	}
	if (size)
		dst[size - 1] = 0;
	return (long)size;
}

/*
 * bpf_probe_read_kernel, _user, the compat bpf_probe_read and the sleepable
 * bpf_copy_from_user, which takes the same arguments: 0, or -EFAULT and dst
 * zeroed.
 */
static uint64_t probe_read(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
			   struct sluice_run *run)
{
	void *dst = (void *)(uintptr_t)r1;
	uint32_t size = (uint32_t)r2;
	int ret = probe_copy(dst, r3, size);

	(void)r4, (void)r5, (void)run;
	if (ret < 0)
		memset(dst, 0, size);
	return helper_result(ret);
}

/* The _str variants: the length copied with its NUL, or -EFAULT and dst zeroed. */
static uint64_t probe_read_str(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
			       uint64_t r5, struct sluice_run *run)
{
	char *dst = (char *)(uintptr_t)r1;
	uint32_t size = (uint32_t)r2;
	long ret = probe_copy_str(dst, r3, size);

	(void)r4, (void)r5, (void)run;
	if (ret < 0)
		memset(dst, 0, size);
	return helper_result(ret);
}

/* ---- printf ------------------------------------------------------------------ */

/*
 * One piece of a format, as bpf_bprintf_prepare reads it: literal text, or
 * a conversion with its flags ("0+- "), width and length ("l", "ll").
 */
enum piece_kind { PIECE_END, PIECE_TEXT, PIECE_INT, PIECE_CHAR, PIECE_STR, PIECE_PTR, PIECE_IP };

struct piece {
	enum piece_kind kind;
	const char *text;   /* PIECE_TEXT: the text; conversions: the '%' */
	size_t len;         /* of the text, or of the whole conversion */
	char conv;          /* d i u x X c s; pointers: the letter after 'p' (or 'p') */
	char ip_form[3];    /* PIECE_IP: "I4", "i6", ... */
	unsigned longs;     /* PIECE_INT: 0, 1 or 2 'l' */
	char flags[5];      /* each of "0+- " at most once */
	unsigned width;     /* 0: none */
};

static bool ends_word(char c)
{
	return c == 0 || isspace((unsigned char)c) || ispunct((unsigned char)c);
}

/* The next piece at *pos, or -EINVAL where the kernel refuses the format. */
static int next_piece(const char *fmt, size_t *pos, struct piece *p)
{
	const char *s = fmt + *pos, *start = s;
	size_t nflags = 0;

	memset(p, 0, sizeof(*p));
	if (!*s) {
		p->kind = PIECE_END;
		return 0;
	}
	if (*s != '%' || s[1] == '%') {
		/* "%%" prints one '%' */
		p->kind = PIECE_TEXT;
		p->text = s;
		p->len = *s == '%' ? 1 : strcspn(s, "%");
		*pos += *s == '%' ? 2 : p->len;
		return 0;
	}
	s++;
	/* four flags there are, repeating one changes nothing */
	while (*s == '0' || *s == '+' || *s == '-' || *s == ' ') {
		if (!strchr(p->flags, *s))
			p->flags[nflags++] = *s;
		s++;
	}
	if (*s >= '1' && *s <= '9')
		while (*s >= '0' && *s <= '9') {
			p->width = p->width * 10 + (unsigned)(*s++ - '0');
			/* vsnprintf's FIELD_WIDTH_MAX */
			if (p->width > FIELD_WIDTH_MAX)
				p->width = FIELD_WIDTH_MAX;
		}
	if (*s == 'p') {
		if ((s[1] == 'k' || s[1] == 'u') && s[2] == 's') {
			p->kind = PIECE_STR;
			s += 2;
		} else if (s[1] == 'K' || s[1] == 'x' || s[1] == 's' || s[1] == 'S' ||
			   s[1] == 'B') {
			p->kind = PIECE_PTR;
			p->conv = *++s;
		} else if (ends_word(s[1])) {
			p->kind = PIECE_PTR;
			p->conv = 'p';
		} else if ((s[1] == 'i' || s[1] == 'I') && (s[2] == '4' || s[2] == '6')) {
			p->kind = PIECE_IP;
			p->ip_form[0] = s[1];
			p->ip_form[1] = s[2];
			s += 2;
		} else {
			return -EINVAL;
		}
	} else if (*s == 's') {
		p->kind = PIECE_STR;
	} else if (*s == 'c') {
		p->kind = PIECE_CHAR;
	} else {
		while (*s == 'l' && p->longs < 2) {
			p->longs++;
			s++;
		}
		if (*s != 'i' && *s != 'd' && *s != 'u' && *s != 'x' && *s != 'X')
			return -EINVAL;
		p->kind = PIECE_INT;
	}
	if (p->kind == PIECE_STR && !ends_word(s[1]))
		return -EINVAL;
	if (p->kind != PIECE_PTR)
		p->conv = *s;
	p->text = start;
	p->len = (size_t)(s + 1 - start);
	*pos += p->len;
	return 0;
}

/* Output that keeps counting past the end, as vsnprintf does. */
struct out {
	char *buf;
	size_t size;
	size_t len;
};

static void __attribute__((format(printf, 2, 3))) out_printf(struct out *o, const char *fmt, ...)
{
	size_t at = o->len < o->size ? o->len : o->size;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = o->size ? vsnprintf(o->buf + at, o->size - at, fmt, ap) : vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

static void format_ip(struct out *o, const struct piece *p, uint64_t addr)
{
	uint8_t ip[16];
	bool padded = p->ip_form[0] == 'i';

	if (p->ip_form[1] == '4') {
		if (probe_copy(ip, addr, 4) < 0)
			memset(ip, 0, 4);
		out_printf(o, padded ? "%03u.%03u.%03u.%03u" : "%u.%u.%u.%u",
			   ip[0], ip[1], ip[2], ip[3]);
		return;
	}
	if (probe_copy(ip, addr, 16) < 0)
		memset(ip, 0, 16);
	/* %pI6: eight groups of four digits; %pi6: the 32 digits alone */
	for (int i = 0; i < 16; i += 2)
		out_printf(o, "%s%02x%02x", i && !padded ? ":" : "", ip[i], ip[i + 1]);
}

/*
 * The arguments as bpf_bprintf_prepare leaves them for bstr_printf:
 * numbers as they are, strings and IP addresses copied (or formatted) into
 * a 512-byte buffer, each cut to the room left in it.
 */
struct prepared {
	uint64_t values[MAX_BPRINTF_VARARGS];
	const char *texts[MAX_BPRINTF_VARARGS];
	char arena[MAX_BPRINTF_BIN_ARGS];
};

/*
 * bpf_bprintf_prepare: printable ASCII only, at most nargs conversions,
 * each one the kernel knows, and room for what they copy.  0, -EINVAL or
 * -ENOSPC.
 */
static int prepare(const char *fmt, const uint64_t *args, uint32_t nargs, struct prepared *pa)
{
	size_t pos = 0, used = 0;
	uint32_t n = 0;
	struct piece p;

	for (const char *c = fmt; *c; c++)
		if ((!isprint((unsigned char)*c) && !isspace((unsigned char)*c)) ||
		    !isascii((unsigned char)*c))
			return -EINVAL;
	for (;;) {
		char *at = pa->arena + used;
		size_t room = sizeof(pa->arena) - used;
		struct out o = { at, room, 0 };
		long copied;

		if (next_piece(fmt, &pos, &p) < 0)
			return -EINVAL;
		if (p.kind == PIECE_END)
			return 0;
		if (p.kind == PIECE_TEXT)
			continue;
		if (n >= nargs)
			return -EINVAL;
		pa->values[n] = args[n];
		switch (p.kind) {
		case PIECE_STR:
			if (!room)
				return -ENOSPC;
			copied = probe_copy_str(at, args[n], room);
			if (copied < 0) {
				/* an unreadable string prints as nothing */
				at[0] = 0;
				copied = 1;
			}
			pa->texts[n] = at;
			used += (size_t)copied;
			break;
		case PIECE_IP:
			if (room < (p.ip_form[1] == '4' ? 4u : 16u))
				return -ENOSPC;
			format_ip(&o, &p, args[n]);
			pa->texts[n] = at;
			used += (o.len < room ? o.len : room - 1) + 1;
			break;
		case PIECE_CHAR:
			if (!room)
				return -ENOSPC;
			used++;
			break;
		default: /* numbers and pointers, each 4-byte aligned */
			used = (used + 3) & ~(size_t)3;
			if (sizeof(pa->arena) - used < (p.kind == PIECE_INT && !p.longs ? 4u : 8u))
				return -ENOSPC;
			used += p.kind == PIECE_INT && !p.longs ? 4 : 8;
			break;
		}
		n++;
	}
}

/* %s with the piece's flags and width. */
static void out_field(struct out *o, const struct piece *p, const char *text)
{
	out_printf(o, "%*s", p->flags[0] == '-' ? -(int)p->width : (int)p->width, text);
}

/* One conversion, printed as bstr_printf prints it. */
static void print_piece(struct out *o, const struct piece *p, uint64_t value, const char *text)
{
	bool is_signed = p->conv == 'd' || p->conv == 'i';
	char spec[16];

	switch (p->kind) {
	case PIECE_INT:
		snprintf(spec, sizeof(spec), "%%%s%.0u%s%c", p->flags, p->width,
			 p->longs ? "ll" : "", p->conv);
		if (p->longs && is_signed)
			out_printf(o, spec, (long long)value);
		else if (p->longs)
			out_printf(o, spec, (unsigned long long)value);
		else if (is_signed)
			out_printf(o, spec, (int)(uint32_t)value);
		else
			out_printf(o, spec, (unsigned)value);
		break;
	case PIECE_CHAR:
		snprintf(spec, sizeof(spec), "%%%s%.0uc", p->flags, p->width);
		out_printf(o, spec, (int)(unsigned char)value);
		break;
	case PIECE_STR:
	case PIECE_IP:
		out_field(o, p, text);
		break;
	default:
		/*
		 * No symbols to name (%ps, %pS, %pB print the address as the
		 * kernel does for one it cannot name) and no kernel pointers
		 * to hide (%p, %pK print as %px).
		 */
		if (p->conv == 's' || p->conv == 'S' || p->conv == 'B')
			out_printf(o, "0x%llx", (unsigned long long)value);
		else if (p->width)
			out_printf(o, p->flags[0] == '-' ? "%-*llx" : "%*llx", (int)p->width,
				   (unsigned long long)value);
		else
			out_printf(o, "%016llx", (unsigned long long)value);
		break;
	}
}

/*
 * bpf_bprintf_prepare then bstr_printf: fmt checked, then printed with
 * args into buf (size bytes, NUL-terminated when size > 0).  The length of
 * the whole output, or -EINVAL / -ENOSPC with nothing printed.
 */
static long bprintf(char *buf, size_t size, const char *fmt, const uint64_t *args,
		    uint32_t nargs)
{
	struct prepared pa;
	struct out o = { buf, size, 0 };
	size_t pos = 0;
	uint32_t n = 0;
	struct piece p;
	int err = prepare(fmt, args, nargs, &pa);

	if (err < 0)
		return err;
	if (size)
		buf[0] = 0;
	while (next_piece(fmt, &pos, &p) == 0 && p.kind != PIECE_END) {
		if (p.kind == PIECE_TEXT) {
			out_printf(&o, "%.*s", (int)p.len, p.text);
		} else {
			print_piece(&o, &p, pa.values[n], pa.texts[n]);
			n++;
		}
	}
	return (long)o.len;
}

/* The format of trace_printk and trace_vprintk: NUL-terminated within its size. */
static const char *sized_format(uint64_t fmt, uint32_t fmt_size)
{
	const char *s = (const char *)(uintptr_t)fmt;

	return s && fmt_size && memchr(s, 0, fmt_size) ? s : NULL;
}

/* The line to the run's trace sink, one call per line of it. */
static void trace_lines(struct sluice_run *run, char *text)
{
	char *line = text, *nl;

	while ((nl = strchr(line, '\n'))) {
		*nl = 0;
		rt_trace(helper_run(run)->rt, line);
		line = nl + 1;
	}
	if (*line)
		rt_trace(helper_run(run)->rt, line);
}

static long trace_format(struct sluice_run *run, const char *fmt, const uint64_t *args,
			 uint32_t nargs)
{
	char line[MAX_BPRINTF_BUF];
	long ret;

	if (!fmt)
		return -EINVAL;
	ret = bprintf(line, sizeof(line), fmt, args, nargs);
	if (ret >= 0)
		trace_lines(run, line);
	return ret;
}

/* bpf_trace_printk(fmt, fmt_size, a1, a2, a3): the length printed. */
static uint64_t trace_printk(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
			     struct sluice_run *run)
{
	const uint64_t args[MAX_TRACE_PRINTK_VARARGS] = { r3, r4, r5 };

	return helper_result(trace_format(run, sized_format(r1, (uint32_t)r2), args,
					 MAX_TRACE_PRINTK_VARARGS));
}

/* The u64 array bpf_trace_vprintk and bpf_snprintf take: NULL when malformed. */
static bool varargs_ok(uint64_t args, uint32_t data_len)
{
	return data_len % 8 == 0 && data_len <= MAX_BPRINTF_VARARGS * 8 && (!data_len || args);
}

/* bpf_trace_vprintk(fmt, fmt_size, args, data_len) */
static uint64_t trace_vprintk(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
			      uint64_t r5, struct sluice_run *run)
{
	(void)r5;
	if (!varargs_ok(r3, (uint32_t)r4))
		return helper_result(-EINVAL);
	return helper_result(trace_format(run, sized_format(r1, (uint32_t)r2),
					 (const uint64_t *)(uintptr_t)r3, (uint32_t)r4 / 8));
}

/* bpf_snprintf(str, str_size, fmt, args, data_len): the length with its NUL. */
static uint64_t snprintf_helper(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				uint64_t r5, struct sluice_run *run)
{
	long ret;

	(void)run;
	if (!varargs_ok(r4, (uint32_t)r5) || !r3)
		return helper_result(-EINVAL);
	ret = bprintf((char *)(uintptr_t)r1, (uint32_t)r2, (const char *)(uintptr_t)r3,
		      (const uint64_t *)(uintptr_t)r4, (uint32_t)r5 / 8);
	return helper_result(ret < 0 ? ret : ret + 1);
}

/* ---- the current task -------------------------------------------------------- */

static uint64_t get_current_pid_tgid(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				     uint64_t r5, struct sluice_run *run)
{
	(void)r1, (void)r2, (void)r3, (void)r4, (void)r5, (void)run;
	return (uint64_t)(uint32_t)getpid() << 32 | (uint32_t)gettid();
}

static uint64_t get_current_uid_gid(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				    uint64_t r5, struct sluice_run *run)
{
	(void)r1, (void)r2, (void)r3, (void)r4, (void)r5, (void)run;
	return (uint64_t)getgid() << 32 | getuid();
}

/* The thread's name, cut to size and padded with zeros (strscpy_pad). */
static uint64_t get_current_comm(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				 uint64_t r5, struct sluice_run *run)
{
	char comm[16] = { 0 }, *buf = (char *)(uintptr_t)r1;
	uint32_t size = (uint32_t)r2;
	size_t len;

	(void)r3, (void)r4, (void)r5, (void)run;
	if (!size)
		return 0;
	prctl(PR_GET_NAME, comm);
	len = strnlen(comm, sizeof(comm) - 1);
	if (len > size - 1)
		len = size - 1;
	memcpy(buf, comm, len);
	memset(buf + len, 0, size - len);
	return 0;
}

/* There is no task_struct in user space to point at. */
static uint64_t get_current_task(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				 uint64_t r5, struct sluice_run *run)
{
	(void)r1, (void)r2, (void)r3, (void)r4, (void)r5, (void)run;
	return 0;
}

/* A program the runtime runs is attached through no link: no cookie was given. */
static uint64_t get_attach_cookie(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				  uint64_t r5, struct sluice_run *run)
{
	(void)r1, (void)r2, (void)r3, (void)r4, (void)r5, (void)run;
	return 0;
}

/* Where cgroup v2 is mounted ("" when it is not), looked up once. */
static pthread_once_t cgroup2_once = PTHREAD_ONCE_INIT;
static char cgroup2_root[4096];

static void find_cgroup2(void)
{
	char line[8192], root[4096], fstype[32];
	FILE *f = fopen("/proc/self/mountinfo", "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		const char *sep = strstr(line, " - ");

		/* id parent major:minor root mount-point options ... - fstype source */
		if (sep && sscanf(sep, " - %31s", fstype) == 1 && !strcmp(fstype, "cgroup2") &&
		    sscanf(line, "%*s %*s %*s %*s %4095s", root) == 1) {
			snprintf(cgroup2_root, sizeof(cgroup2_root), "%s", root);
			break;
		}
	}
	fclose(f);
}

/*
 * The id of the thread's cgroup v2, or of its ancestor at level (0: the
 * root) when level >= 0: the inode number of its directory in cgroupfs,
 * which is the kernel's cgroup id (the root's is 1, known without a mount).
 * 0 when the ancestor does not exist or cannot be found.
 */
static uint64_t cgroup_id(int level)
{
	char line[4096], path[8200];
	const char *cgroup;
	struct stat st;
	size_t end = 0;
	FILE *f = fopen("/proc/thread-self/cgroup", "r");
	bool found = false;

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f))
		found = strncmp(line, "0::", 3) == 0;
	fclose(f);
	if (!found)
		return 0;
	line[strcspn(line, "\n")] = 0;
	cgroup = line + 3;
	if (level >= 0) {
		/* keep the first `level` components of the path */
		for (int depth = 0; depth < level; depth++) {
			if (!cgroup[end] || !cgroup[end + 1])
				return 0;
			end += 1 + strcspn(cgroup + end + 1, "/");
		}
		line[3 + end] = 0;
	}
	if (!strcmp(cgroup, "/") || !*cgroup)
		return 1;
	pthread_once(&cgroup2_once, find_cgroup2);
	if (!cgroup2_root[0])
		return 0;
	snprintf(path, sizeof(path), "%s%s", cgroup2_root, cgroup);
	return stat(path, &st) == 0 ? st.st_ino : 0;
}

static uint64_t get_current_cgroup_id(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				      uint64_t r5, struct sluice_run *run)
{
	(void)r1, (void)r2, (void)r3, (void)r4, (void)r5, (void)run;
	return cgroup_id(-1);
}

static uint64_t get_current_ancestor_cgroup_id(uint64_t r1, uint64_t r2, uint64_t r3,
					       uint64_t r4, uint64_t r5, struct sluice_run *run)
{
	(void)r2, (void)r3, (void)r4, (void)r5, (void)run;
	return (int32_t)r1 < 0 ? 0 : cgroup_id((int32_t)r1);
}

/*
 * bpf_get_ns_current_pid_tgid(dev, ino, nsdata, size): the thread's pid and
 * tgid in the pid namespace dev:ino, which must be its own.
 */
static uint64_t get_ns_current_pid_tgid(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
					uint64_t r5, struct sluice_run *run)
{
	struct bpf_pidns_info *nsdata = (struct bpf_pidns_info *)(uintptr_t)r3;
	uint32_t size = (uint32_t)r4;
	struct stat st;

	(void)r5, (void)run;
	if (size == sizeof(*nsdata) && (uint64_t)(dev_t)r1 == r1 &&
	    stat("/proc/thread-self/ns/pid", &st) == 0 && st.st_dev == (dev_t)r1 &&
	    st.st_ino == r2) {
		nsdata->pid = (uint32_t)gettid();
		nsdata->tgid = (uint32_t)getpid();
		return 0;
	}
	memset(nsdata, 0, size);
	return helper_result(-EINVAL);
}

/* ---- stacks ----------------------------------------------------------------------- */

/*
 * The runtime has no kernel stack to give: a program runs in this process,
 * on the stack of the thread that called the runtime.  Both stacks, the
 * "kernel" one and BPF_F_USER_STACK's, are that thread's return addresses,
 * innermost first, from the engine running the program out to main: real
 * user-space addresses, symbolized against this process's maps.  The
 * helper's own frames are left out.
 */
static __attribute__((noinline)) uint32_t native_stack(uint64_t *ips, uint32_t max)
{
	void *frames[PERF_MAX_STACK_DEPTH + 2];
	/* this function and the helper that called it */
	const int own = 2;
	int n = backtrace(frames, (int)(max + own < PERF_MAX_STACK_DEPTH + 2 ?
					max + own : PERF_MAX_STACK_DEPTH + 2));
	uint32_t nr = n > own ? (uint32_t)(n - own) : 0;

	for (uint32_t i = 0; i < nr; i++)
		ips[i] = (uintptr_t)frames[i + own];
	return nr;
}

static uint64_t get_stackid(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
			    struct sluice_run *run)
{
	struct sluice_map *map = helper_map(run, r2);
	uint64_t ips[PERF_MAX_STACK_DEPTH];
	uint32_t nr;

	(void)r1, (void)r4, (void)r5;
	if (!map)
		return helper_result(-EINVAL);
	nr = native_stack(ips, PERF_MAX_STACK_DEPTH);
	return helper_result(sluice_stackmap_get_stackid(map, ips, nr, r3));
}

/*
 * bpf_get_stack(ctx, buf, size, flags): __bpf_get_stack.  A build-id stack
 * gets each frame as BPF_STACK_BUILD_ID_IP, what the kernel gives for a
 * frame whose build id it cannot read.
 */
static uint64_t get_stack(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
			  struct sluice_run *run)
{
	uint8_t *buf = (uint8_t *)(uintptr_t)r2;
	uint32_t size = (uint32_t)r3, skip = r4 & BPF_F_SKIP_FIELD_MASK, elem_size, num_elem;
	bool user = r4 & BPF_F_USER_STACK, build_id = r4 & BPF_F_USER_BUILD_ID;
	uint64_t ips[PERF_MAX_STACK_DEPTH];
	uint32_t nr, max_depth;
	long err = -EINVAL;

	(void)r1, (void)r5, (void)run;
	if (r4 & ~(uint64_t)(BPF_F_SKIP_FIELD_MASK | BPF_F_USER_STACK | BPF_F_USER_BUILD_ID))
		goto clear;
	if (build_id && !user)
		goto clear;
	elem_size = build_id ? sizeof(struct bpf_stack_build_id) : sizeof(uint64_t);
	if (size % elem_size)
		goto clear;
	num_elem = size / elem_size;
	max_depth = num_elem + skip;
	if (max_depth > PERF_MAX_STACK_DEPTH)
		max_depth = PERF_MAX_STACK_DEPTH;
	nr = native_stack(ips, max_depth);
	err = -EFAULT;
	if (nr < skip)
		goto clear;
	nr -= skip;
	if (nr > num_elem)
		nr = num_elem;
	for (uint32_t i = 0; i < nr; i++) {
		if (build_id) {
			struct bpf_stack_build_id frame = { .status = BPF_STACK_BUILD_ID_IP,
							    .ip = ips[skip + i] };

			memcpy(buf + i * elem_size, &frame, sizeof(frame));
		} else {
			memcpy(buf + i * elem_size, &ips[skip + i], sizeof(uint64_t));
		}
	}
	memset(buf + nr * elem_size, 0, size - nr * elem_size);
	return nr * elem_size;
clear:
	memset(buf, 0, size);
	return helper_result(err);
}

static const struct helper_impl impls[] = {
	{ BPF_FUNC_trace_printk, trace_printk },
	{ BPF_FUNC_trace_vprintk, trace_vprintk },
	{ BPF_FUNC_snprintf, snprintf_helper },
	{ BPF_FUNC_probe_read, probe_read },
	{ BPF_FUNC_probe_read_kernel, probe_read },
	{ BPF_FUNC_probe_read_user, probe_read },
	{ BPF_FUNC_copy_from_user, probe_read },
	{ BPF_FUNC_probe_read_str, probe_read_str },
	{ BPF_FUNC_probe_read_kernel_str, probe_read_str },
	{ BPF_FUNC_probe_read_user_str, probe_read_str },
	{ BPF_FUNC_get_current_pid_tgid, get_current_pid_tgid },
	{ BPF_FUNC_get_current_uid_gid, get_current_uid_gid },
	{ BPF_FUNC_get_current_comm, get_current_comm },
	{ BPF_FUNC_get_current_task, get_current_task },
	{ BPF_FUNC_get_attach_cookie, get_attach_cookie },
	{ BPF_FUNC_get_current_cgroup_id, get_current_cgroup_id },
	{ BPF_FUNC_get_current_ancestor_cgroup_id, get_current_ancestor_cgroup_id },
	{ BPF_FUNC_get_ns_current_pid_tgid, get_ns_current_pid_tgid },
	{ BPF_FUNC_get_stackid, get_stackid },
	{ BPF_FUNC_get_stack, get_stack },
};

const struct helper_family helpers_trace = { impls, sizeof(impls) / sizeof(impls[0]) };
