/* SPDX-License-Identifier: MIT */
/*
 * The kernel backend, through libbpf (see include/sluice/kernel.h).
 *
 * Every libbpf object made for one sluice_kernel_object is opened from the
 * same file or bytes under the same name, so libbpf names maps
 * ("execsnoo.rodata") and orders programs and maps the same way each time:
 * indices found on the listing object hold for every loaded instance.
 */
#define _GNU_SOURCE /* basename() that does not modify its argument */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include <sluice/kernel.h>

#include "errmsg.h"

/* The verifier's statistics (log level 4) fit in far less than this. */
#define STATS_LOG_SIZE (64 * 1024)
#define DEFAULT_LOG_SIZE (1024 * 1024)

struct kprog {
	const char *name;    /* owned by the listing object */
	const char *section;
	struct sluice_kernel_verdict verdict;
	char message[SLUICE_ERRMSG_MAX];
	char *log;
	struct sluice_insn *insns; /* libbpf's final instructions, maps by index */
	size_t insn_count;
};

struct sluice_kernel_object {
	char name[64];        /* libbpf's object name: the file name up to its first '.' */
	char *label;          /* the file name or the name given, for messages */
	char *path;           /* the file libbpf reads, or NULL: */
	void *image;          /* the bytes it reads */
	size_t size;
	size_t log_size;
	struct bpf_object *listing; /* opened, never loaded */
	struct bpf_object *loaded;  /* the instance holding the accepted programs */
	bool load_tried;            /* every program has its verdict */
	struct kprog *progs;
	size_t prog_count;
	const char **map_names;     /* owned by the listing object */
	size_t map_count;
};

struct sluice_kernel_attachment {
	enum sluice_kernel_hook hook;
	int ifindex;
	uint32_t flags;
	int prog_fd;
	struct bpf_tc_hook tc_hook;
	struct bpf_tc_opts tc_opts;
	bool created_qdisc;
	struct bpf_link *link; /* tracepoint and cgroup attachments */
};

/*
 * libbpf prints through one process-wide callback.  While a call of this
 * file runs, the callback keeps libbpf's first warning that names a cause
 * for the error message: the later ones say what failed because of it.
 */
struct libbpf_said {
	char first[SLUICE_ERRMSG_MAX];
	char failed[128];     /* the program libbpf says failed to load, or "" */
	libbpf_print_fn_t prev;
};

static _Thread_local struct libbpf_said *said;

/* Warnings that name no cause: a step libbpf retries, or the summary after. */
static bool is_aftermath(const char *line)
{
	static const char *const noise[] = {
		"Retrying without BTF",        /* the map is created again, without BTF */
		"permission error while running as root", /* a guess at RLIMIT_MEMLOCK */
		"': failed to load: -",        /* prog 'x': failed to load: -13 */
		"failed to load object",
		"-- BEGIN PROG LOAD LOG --",   /* read from its buffer, not from the echo */
	};

	for (size_t i = 0; i < sizeof(noise) / sizeof(noise[0]); i++)
		if (strstr(line, noise[i]))
			return true;
	return false;
}

static int keep_first_warning(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[SLUICE_ERRMSG_MAX];
	const char *text = line;
	size_t len;

	if (!said || level != LIBBPF_WARN)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (!strncmp(text, "libbpf: ", 8))
		text += 8;
	/* libbpf stops at the first program that fails: "prog 'x': failed to load: -13" */
	if (strstr(text, "': failed to load: -") && !said->failed[0])
		sscanf(text, "prog '%127[^']'", said->failed);
	if (said->first[0] || is_aftermath(text))
		return 0;
	len = strcspn(text, "\n");
	snprintf(said->first, sizeof(said->first), "%.*s", (int)len, text);
	return 0;
}

static void listen_to_libbpf(struct libbpf_said *s)
{
	s->first[0] = '\0';
	s->failed[0] = '\0';
	s->prev = libbpf_set_print(keep_first_warning);
	said = s;
}

static void stop_listening(struct libbpf_said *s)
{
	said = NULL;
	libbpf_set_print(s->prev);
}

/* libbpf's own codes (LIBBPF_ERRNO__*, from 4000) are not errno values. */
static int as_errno(int libbpf_err)
{
	int e = libbpf_err < 0 ? -libbpf_err : libbpf_err;

	return e > 0 && e < 4000 ? e : EINVAL;
}

static void describe(int libbpf_err, char *buf, size_t size)
{
	if (libbpf_strerror(libbpf_err, buf, size))
		snprintf(buf, size, "error %d", libbpf_err);
}

/*
 * The errno values of a bpf() call refused outright, before the verifier
 * looks at anything: no privilege, lockdown, or no bpf() in this kernel.
 */
static bool is_refusal(int e)
{
	return e == EPERM || e == ENOSYS;
}

static int fail_refused(struct sluice_error *err, int e)
{
	char why[128];

	describe(e, why, sizeof(why));
	return sluice_fail(err, e, "the kernel refused bpf(): %s", why);
}

int sluice_kernel_probe(struct sluice_error *err)
{
	/* r0 = 0; exit: the smallest program every kernel accepts */
	static const struct bpf_insn prog[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, NULL, "GPL", prog, 2, NULL);

	if (fd < 0)
		return fail_refused(err, errno);
	close(fd);
	return 0;
}

static void set_object_name(struct sluice_kernel_object *obj, const char *name)
{
	snprintf(obj->name, sizeof(obj->name), "%s", basename(name));
	obj->name[strcspn(obj->name, ".")] = '\0';
}

static struct bpf_object *open_instance(const struct sluice_kernel_object *obj)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = obj->name);

	if (obj->path)
		return bpf_object__open_file(obj->path, NULL);
	return bpf_object__open_mem(obj->image, obj->size, &oo);
}

static int list_contents(struct sluice_kernel_object *obj)
{
	struct bpf_program *p;
	struct bpf_map *m;
	size_t n = 0;

	bpf_object__for_each_program(p, obj->listing)
		n++;
	obj->progs = calloc(n ? n : 1, sizeof(*obj->progs));
	if (!obj->progs)
		return -ENOMEM;
	bpf_object__for_each_program(p, obj->listing) {
		obj->progs[obj->prog_count].name = bpf_program__name(p);
		obj->progs[obj->prog_count].section = bpf_program__section_name(p);
		obj->prog_count++;
	}
	n = 0;
	bpf_object__for_each_map(m, obj->listing)
		n++;
	obj->map_names = calloc(n ? n : 1, sizeof(*obj->map_names));
	if (!obj->map_names)
		return -ENOMEM;
	bpf_object__for_each_map(m, obj->listing)
		obj->map_names[obj->map_count++] = bpf_map__name(m);
	return 0;
}

/* Takes ownership of path or image (malloc'ed), one of which is NULL. */
static struct sluice_kernel_object *open_source(char *path, void *image, size_t size,
						const char *name,
						const struct sluice_kernel_opts *opts,
						struct sluice_error *err)
{
	struct sluice_kernel_object *obj = calloc(1, sizeof(*obj));
	struct libbpf_said s;

	if (!obj) {
		free(path);
		free(image);
		sluice_fail(err, ENOMEM, "%s: out of memory", name);
		return NULL;
	}
	obj->path = path;
	obj->image = image;
	obj->label = strdup(name);
	if (!obj->label) {
		sluice_fail(err, ENOMEM, "%s: out of memory", name);
		sluice_kernel_close(obj);
		return NULL;
	}
	obj->size = size;
	obj->log_size = DEFAULT_LOG_SIZE;
	if (opts && opts->sz >= sizeof(*opts) && opts->log_size)
		obj->log_size = opts->log_size;
	set_object_name(obj, name);

	listen_to_libbpf(&s);
	obj->listing = open_instance(obj);
	stop_listening(&s);
	if (!obj->listing) {
		int e = errno;
		char why[128];

		describe(e, why, sizeof(why));
		sluice_fail(err, as_errno(e), "libbpf cannot open '%s': %s", name,
			    s.first[0] ? s.first : why);
		sluice_kernel_close(obj);
		return NULL;
	}
	if (list_contents(obj)) {
		sluice_fail(err, ENOMEM, "%s: out of memory", name);
		sluice_kernel_close(obj);
		return NULL;
	}
	return obj;
}

struct sluice_kernel_object *sluice_kernel_open_mem(const void *data, size_t size,
						    const char *name,
						    const struct sluice_kernel_opts *opts,
						    struct sluice_error *err)
{
	void *image = malloc(size ? size : 1);

	if (!image) {
		sluice_fail(err, ENOMEM, "%s: out of memory", name);
		return NULL;
	}
	memcpy(image, data, size);
	return open_source(NULL, image, size, name, opts, err);
}

struct sluice_kernel_object *sluice_kernel_open(const char *path,
						const struct sluice_kernel_opts *opts,
						struct sluice_error *err)
{
	char *copy = strdup(path);

	if (!copy) {
		sluice_fail(err, ENOMEM, "%s: out of memory", path);
		return NULL;
	}
	return open_source(copy, NULL, 0, path, opts, err);
}

void sluice_kernel_close(struct sluice_kernel_object *obj)
{
	if (!obj)
		return;
	bpf_object__close(obj->loaded);
	for (size_t i = 0; i < obj->prog_count; i++) {
		free(obj->progs[i].log);
		free(obj->progs[i].insns);
	}
	free(obj->progs);
	free(obj->map_names);
	bpf_object__close(obj->listing);
	free(obj->label);
	free(obj->path);
	free(obj->image);
	free(obj);
}

size_t sluice_kernel_prog_count(const struct sluice_kernel_object *obj)
{
	return obj->prog_count;
}

const char *sluice_kernel_prog_name(const struct sluice_kernel_object *obj, size_t i)
{
	return i < obj->prog_count ? obj->progs[i].name : NULL;
}

const char *sluice_kernel_prog_section(const struct sluice_kernel_object *obj, size_t i)
{
	return i < obj->prog_count ? obj->progs[i].section : NULL;
}

int sluice_kernel_find_prog(const struct sluice_kernel_object *obj, const char *name,
			    struct sluice_error *err)
{
	char names[SLUICE_ERRMSG_MAX] = "";
	size_t used = 0;

	for (size_t i = 0; i < obj->prog_count; i++)
		if (!strcmp(obj->progs[i].name, name))
			return (int)i;
	for (size_t i = 0; i < obj->prog_count && used < sizeof(names); i++) {
		int n = snprintf(names + used, sizeof(names) - used, "%s%s", i ? ", " : "",
				 obj->progs[i].name);

		used += n > 0 ? (size_t)n : 0;
	}
	if (!obj->prog_count)
		return sluice_fail(err, ENOENT, "%s: no program '%s': it has no programs",
				   obj->label, name);
	return sluice_fail(err, ENOENT, "%s: no program '%s' (it has: %s)", obj->label, name,
			   names);
}

size_t sluice_kernel_map_count(const struct sluice_kernel_object *obj)
{
	return obj->map_count;
}

const char *sluice_kernel_map_name(const struct sluice_kernel_object *obj, size_t i)
{
	return i < obj->map_count ? obj->map_names[i] : NULL;
}

/* Program i of an instance: programs come in the same order in each. */
static struct bpf_program *instance_prog(struct bpf_object *bo, size_t i)
{
	struct bpf_program *p;
	size_t n = 0;

	bpf_object__for_each_program(p, bo)
		if (n++ == i)
			return p;
	return NULL;
}

/*
 * Open an instance in which the programs marked in `load` will load, with
 * maps that can be created here: none pinned (bpffs is off limits), and
 * sizes the object leaves to its tool (set at run time, 0 in the file)
 * filled in: one entry per possible CPU, the rule libbpf itself applies to
 * perf event arrays, and for stack trace maps one frame.  None of this
 * changes an instruction.
 */
static struct bpf_object *open_to_load(const struct sluice_kernel_object *obj,
				       const bool *load)
{
	struct bpf_object *bo = open_instance(obj);
	int cpus = libbpf_num_possible_cpus();
	struct bpf_program *p;
	struct bpf_map *m;
	size_t i = 0;

	if (!bo)
		return NULL;
	bpf_object__for_each_map(m, bo) {
		bpf_map__set_pin_path(m, NULL);
		if (!bpf_map__max_entries(m) && cpus > 0)
			bpf_map__set_max_entries(m, (uint32_t)cpus);
		if (bpf_map__type(m) == BPF_MAP_TYPE_STACK_TRACE && !bpf_map__value_size(m))
			bpf_map__set_value_size(m, sizeof(uint64_t));
	}
	bpf_object__for_each_program(p, bo)
		bpf_program__set_autoload(p, load[i++]);
	return bo;
}

static bool is_stats_line(const char *line)
{
	return !strncmp(line, "processed ", 10) || !strncmp(line, "verification time ", 18) ||
	       !strncmp(line, "stack depth ", 12);
}

/*
 * Read the statistics (log level 4) into the verdict, and the error lines
 * that come before them, joined into one line, into the message.
 */
static void read_stats_log(const char *log, struct kprog *kp)
{
	struct sluice_kernel_verdict *v = &kp->verdict;
	size_t used = 0;

	v->verification_usec = -1;
	v->processed_insns = -1;
	kp->message[0] = '\0';
	for (const char *line = log; *line; ) {
		size_t len = strcspn(line, "\n");

		if (sscanf(line, "processed %" SCNd64 " insns", &v->processed_insns) != 1 &&
		    sscanf(line, "verification time %" SCNd64 " usec", &v->verification_usec) != 1 &&
		    !is_stats_line(line) && len && used + 3 < sizeof(kp->message)) {
			int n = snprintf(kp->message + used, sizeof(kp->message) - used, "%s%.*s",
					 used ? "; " : "", (int)len, line);

			used = n < 0 ? used : used + (size_t)n;
			if (used >= sizeof(kp->message))
				used = sizeof(kp->message) - 1;
		}
		line += len + (line[len] == '\n');
	}
}

/*
 * Rewrite the map file descriptors libbpf put into the lddw instructions
 * of instance bo as indices into its maps, the form sluice_prog_insns() uses.
 */
static int maps_by_index(struct bpf_object *bo, struct sluice_insn *insns, size_t count,
			 struct sluice_error *err)
{
	for (size_t pc = 0; pc < count; pc += sluice_insn_slots(&insns[pc])) {
		struct sluice_insn *in = &insns[pc];
		struct bpf_map *m;
		int index = 0;

		if (in->code != (BPF_LD | BPF_IMM | BPF_DW) ||
		    (in->src != BPF_PSEUDO_MAP_FD && in->src != BPF_PSEUDO_MAP_VALUE))
			continue;
		bpf_object__for_each_map(m, bo) {
			if (bpf_map__fd(m) == in->imm)
				break;
			index++;
		}
		if (!m)
			return sluice_fail(err, EINVAL, "pc %zu: fd %d is none of the object's maps",
					   pc, in->imm);
		in->imm = index;
	}
	return 0;
}

/* Keep libbpf's instructions for program p of instance bo in kp. */
static int keep_insns(struct kprog *kp, struct bpf_object *bo, const struct bpf_program *p,
		      struct sluice_error *err)
{
	size_t count = bpf_program__insn_cnt(p);
	struct sluice_insn *insns = malloc((count ? count : 1) * sizeof(*insns));
	int ret;

	_Static_assert(sizeof(struct sluice_insn) == sizeof(struct bpf_insn),
		       "Sluice's instruction is the kernel's");
	if (!insns)
		return sluice_fail(err, ENOMEM, "out of memory");
	memcpy(insns, bpf_program__insns(p), count * sizeof(*insns));
	ret = maps_by_index(bo, insns, count, err);
	if (ret) {
		free(insns);
		return sluice_fail_prefix(err, ret, kp->name);
	}
	kp->insns = insns;
	kp->insn_count = count;
	return 0;
}

/*
 * One load of the programs marked in `load`, program i's log going to
 * logs[i] at log_level.  Returns the instance when libbpf loaded them all,
 * else NULL with libbpf's error in *ret and what it said in *s.
 */
static struct bpf_object *try_load(const struct sluice_kernel_object *obj, const bool *load,
				   char *const *logs, size_t log_size, uint32_t log_level,
				   int *ret, struct libbpf_said *s)
{
	struct bpf_object *bo;
	struct bpf_program *p;
	size_t i = 0;

	listen_to_libbpf(s);
	bo = open_to_load(obj, load);
	if (!bo) {
		*ret = -errno;
		stop_listening(s);
		return NULL;
	}
	bpf_object__for_each_program(p, bo) {
		if (load[i]) {
			logs[i][0] = '\0';
			bpf_program__set_log_buf(p, logs[i], log_size);
			bpf_program__set_log_level(p, log_level);
		}
		i++;
	}
	*ret = bpf_object__load(bo);
	stop_listening(s);
	if (*ret) {
		bpf_object__close(bo);
		return NULL;
	}
	return bo;
}

/* A log buffer cut down to its text. */
static char *shrink(char *log)
{
	char *small = realloc(log, strlen(log) + 1);

	return small ? small : log;
}

/*
 * Why program i was rejected when the verifier gave no error line: bpf()
 * refused before the verifier ran, or what libbpf said, or libbpf's code.
 */
static void explain_rejection(struct kprog *kp, int ret, const struct libbpf_said *s)
{
	if (!kp->log[0] && is_refusal(kp->verdict.error)) {
		struct sluice_error refused;

		fail_refused(&refused, kp->verdict.error);
		snprintf(kp->message, sizeof(kp->message), "%.100s, before the verifier ran%s%.120s%s",
			 refused.msg, s->first[0] ? " (" : "", s->first, s->first[0] ? ")" : "");
	} else if (s->first[0]) {
		snprintf(kp->message, sizeof(kp->message), "%s", s->first);
	} else {
		describe(ret, kp->message, sizeof(kp->message));
	}
}

/*
 * Load program i once more, alone, at log level 1, for the trace that led
 * to its rejection; its verdict stays the first load's.
 */
static int trace_rejection(struct sluice_kernel_object *obj, size_t i,
			   struct sluice_error *err)
{
	struct kprog *kp = &obj->progs[i];
	bool *alone = calloc(obj->prog_count, sizeof(*alone));
	char **logs = calloc(obj->prog_count, sizeof(*logs));
	char *log = malloc(obj->log_size);
	struct libbpf_said again;
	int again_ret;

	if (!alone || !logs || !log) {
		free(log);
		free(logs);
		free(alone);
		return sluice_fail(err, ENOMEM, "out of memory");
	}
	alone[i] = true;
	logs[i] = log;
	bpf_object__close(try_load(obj, alone, logs, obj->log_size, 1 | 4, &again_ret, &again));
	free(kp->log);
	kp->log = shrink(log);
	free(logs);
	free(alone);
	return 0;
}

/*
 * Program i failed to load: ret from libbpf, s what libbpf said, its
 * statistics log in kp->log.  With trace, the verifier's own rejection,
 * whose trace is worth a second load.
 */
static int reject(struct sluice_kernel_object *obj, size_t i, int ret,
		  const struct libbpf_said *s, bool trace, struct sluice_error *err)
{
	struct kprog *kp = &obj->progs[i];

	read_stats_log(kp->log, kp);
	kp->verdict.error = as_errno(ret);
	if (trace && kp->log[0] && trace_rejection(obj, i, err))
		return -ENOMEM;
	if (!kp->message[0])
		explain_rejection(kp, ret, s);
	return 0;
}

/* The program libbpf named as the one that failed, or -1 when it named none. */
static int failed_prog(const struct sluice_kernel_object *obj, const bool *pending,
		       const struct libbpf_said *s)
{
	for (size_t i = 0; i < obj->prog_count; i++)
		if (pending[i] && !strcmp(obj->progs[i].name, s->failed))
			return (int)i;
	return -1;
}

/*
 * Load every program of the object together, as it is meant to run (a
 * program array's initial slots need their programs loaded too).  libbpf
 * stops at the first program the kernel rejects, so that one is set aside
 * with its verdict and the others are loaded again, until the rest load or
 * what fails is the object itself (a map the kernel refuses): then every
 * program still pending shares that verdict.
 */
static int load_all(struct sluice_kernel_object *obj, struct sluice_error *err)
{
	size_t n = obj->prog_count, left = n;
	bool *pending = calloc(n ? n : 1, sizeof(*pending));
	char **logs = calloc(n ? n : 1, sizeof(*logs));
	int ret = 0;

	for (size_t i = 0; pending && logs && i < n; i++) {
		pending[i] = true;
		logs[i] = obj->progs[i].log = malloc(STATS_LOG_SIZE);
	}
	for (size_t i = 0; i < n; i++)
		if (!logs || !logs[i])
			ret = sluice_fail(err, ENOMEM, "out of memory");
	while (!ret && left) {
		struct libbpf_said s;
		int load_ret, i;
		struct bpf_object *bo = try_load(obj, pending, logs, STATS_LOG_SIZE, 4, &load_ret, &s);

		if (bo) {
			obj->loaded = bo;
			for (size_t j = 0; !ret && j < n; j++) {
				struct kprog *kp = &obj->progs[j];

				if (!pending[j])
					continue;
				read_stats_log(kp->log, kp);
				kp->verdict.accepted = true;
				kp->message[0] = '\0';
				/* while the instance lives its map fds are valid: name them now */
				ret = keep_insns(kp, bo, instance_prog(bo, j), err);
			}
			break;
		}
		i = failed_prog(obj, pending, &s);
		if (i < 0) {
			for (size_t j = 0; !ret && j < n; j++)
				if (pending[j])
					ret = reject(obj, j, load_ret, &s, false, err);
			break;
		}
		ret = reject(obj, (size_t)i, load_ret, &s, true, err);
		pending[i] = false;
		left--;
	}
	for (size_t i = 0; i < n; i++) {
		struct kprog *kp = &obj->progs[i];

		kp->log = kp->log ? shrink(kp->log) : NULL;
		kp->verdict.message = kp->message;
		kp->verdict.log = kp->log ? kp->log : "";
	}
	free(logs);
	free(pending);
	obj->load_tried = true; /* after running out of memory too: never twice */
	return ret;
}

int sluice_kernel_load_prog(struct sluice_kernel_object *obj, size_t i,
			    struct sluice_kernel_verdict *v, struct sluice_error *err)
{
	int ret;

	if (i >= obj->prog_count)
		return sluice_fail(err, EINVAL, "%s: no program %zu", obj->label, i);
	if (!obj->load_tried) {
		ret = load_all(obj, err);
		if (ret)
			return ret;
	}
	*v = obj->progs[i].verdict;
	return 0;
}

/*
 * Capturing the instructions of a program the kernel rejects: after a failed
 * load libbpf has closed the maps, so the fds in its instructions no longer
 * name anything.  A SEC() handler's prepare callback runs right before the
 * program goes to the kernel, when relocation is done and the maps are
 * open: it takes the instructions there and stops the load.
 */
struct capture {
	struct kprog *kp;
	struct bpf_object *bo;
	struct sluice_error *err;
	bool called;
	int ret;
};

static int capture_insns(struct bpf_program *prog, struct bpf_prog_load_opts *opts, long cookie)
{
	struct capture *c = (struct capture *)cookie;

	(void)opts;
	c->called = true;
	c->ret = keep_insns(c->kp, c->bo, prog, c->err);
	return -ECANCELED; /* the instructions were all we came for */
}

/*
 * libbpf 1.1 shrinks its array of custom handlers with realloc() on every
 * unregistration; at zero entries realloc() frees it and returns NULL, and
 * libbpf goes on using the freed pointer.  One handler that stays registered,
 * for a section name no object has, keeps the array from ever reaching zero.
 */
static int keep_handler_array(void)
{
	static int anchor;

	if (!anchor)
		anchor = libbpf_register_prog_handler("sluice/anchor/no-program-is-here",
						      BPF_PROG_TYPE_SOCKET_FILTER, 0, NULL);
	return anchor < 0 ? anchor : 0;
}

static int capture_prepared_insns(struct sluice_kernel_object *obj, size_t i,
				  struct sluice_error *err)
{
	struct kprog *kp = &obj->progs[i];
	struct capture c = { .kp = kp, .err = err };
	LIBBPF_OPTS(libbpf_prog_handler_opts, ho, .cookie = (long)&c,
		    .prog_prepare_load_fn = capture_insns);
	enum bpf_attach_type attach;
	enum bpf_prog_type type;
	struct libbpf_said s;
	bool *only;
	int handler;

	if (libbpf_prog_type_by_name(kp->section, &type, &attach))
		return sluice_fail(err, ENOENT, "%s: libbpf does not know section '%s'",
				   kp->name, kp->section);
	/*
	 * The handler stands in for libbpf's own one for this section name
	 * while it is registered, and libbpf keeps a pointer to it in every
	 * program opened meanwhile: open, load and close all happen inside.
	 */
	only = calloc(obj->prog_count, sizeof(*only));
	if (!only)
		return sluice_fail(err, ENOMEM, "out of memory");
	only[i] = true;
	handler = keep_handler_array();
	if (!handler)
		handler = libbpf_register_prog_handler(kp->section, type, attach, &ho);
	if (handler < 0) {
		free(only);
		return sluice_fail(err, as_errno(handler), "%s: cannot register a handler for '%s'",
				   kp->name, kp->section);
	}
	listen_to_libbpf(&s);
	c.bo = open_to_load(obj, only);
	if (c.bo) {
		bpf_object__load(c.bo);
		bpf_object__close(c.bo);
	}
	stop_listening(&s);
	libbpf_unregister_prog_handler(handler);
	free(only);
	if (!c.called)
		return sluice_fail(err, ENOENT, "%s: libbpf cannot prepare it: %s", kp->name,
				   s.first[0] ? s.first : "no reason given");
	return c.ret;
}

int sluice_kernel_prog_insns(struct sluice_kernel_object *obj, size_t i,
			     const struct sluice_insn **insns, size_t *count,
			     struct sluice_error *err)
{
	struct kprog *kp;
	int ret;

	if (i >= obj->prog_count)
		return sluice_fail(err, EINVAL, "%s: no program %zu", obj->label, i);
	kp = &obj->progs[i];
	if (!kp->insns) {
		ret = capture_prepared_insns(obj, i, err);
		if (ret)
			return ret;
	}
	*insns = kp->insns;
	*count = kp->insn_count;
	return 0;
}

/* The fd of program i, loading it first; fails when the kernel rejects it. */
static int loaded_fd(struct sluice_kernel_object *obj, size_t i, struct sluice_error *err)
{
	struct sluice_kernel_verdict v;
	int ret = sluice_kernel_load_prog(obj, i, &v, err);

	if (ret)
		return ret;
	if (!v.accepted)
		return sluice_fail(err, v.error, "%s: the kernel rejected it: %s",
				   obj->progs[i].name, v.message);
	return bpf_program__fd(instance_prog(obj->loaded, i));
}

int sluice_kernel_test_run(struct sluice_kernel_object *obj, size_t i,
			   struct sluice_kernel_run *run, struct sluice_error *err)
{
	LIBBPF_OPTS(bpf_test_run_opts, t);
	int fd;

	if (!run || run->sz < sizeof(*run))
		return sluice_fail(err, EINVAL, "test run: struct sluice_kernel_run of unknown size");
	if (run->data_size_in > UINT32_MAX || run->data_size_out > UINT32_MAX ||
	    run->ctx_size_in > UINT32_MAX || run->ctx_size_out > UINT32_MAX)
		return sluice_fail(err, E2BIG, "test run: input larger than 4 GiB");
	fd = loaded_fd(obj, i, err);
	if (fd < 0)
		return fd;
	t.data_in = run->data_in;
	t.data_size_in = (uint32_t)run->data_size_in;
	t.data_out = run->data_out;
	t.data_size_out = (uint32_t)run->data_size_out;
	t.ctx_in = run->ctx_in;
	t.ctx_size_in = (uint32_t)run->ctx_size_in;
	t.ctx_out = run->ctx_out;
	t.ctx_size_out = (uint32_t)(run->ctx_out ? run->ctx_size_out : 0);
	t.repeat = (int)(run->repeat ? run->repeat : 1);
	if (bpf_prog_test_run_opts(fd, &t)) {
		int e = errno;

		if (is_refusal(e))
			return fail_refused(err, e);
		if (e == ENOSPC)
			return sluice_fail(err, e, "%s: the output (%u bytes) is larger than the %zu "
					   "bytes of room given", obj->progs[i].name,
					   t.data_size_out, run->data_size_out);
		return sluice_fail(err, e, "%s: BPF_PROG_TEST_RUN failed: %s",
				   obj->progs[i].name, strerror(e));
	}
	run->retval = t.retval;
	run->duration_ns = t.duration;
	run->data_size_out = t.data_size_out;
	run->ctx_size_out = t.ctx_size_out;
	return 0;
}

int sluice_kernel_map_fd(struct sluice_kernel_object *obj, size_t i,
			 struct sluice_error *err)
{
	struct sluice_kernel_verdict v;
	struct bpf_map *m;
	size_t n = 0;
	int ret;

	if (i >= obj->map_count)
		return sluice_fail(err, EINVAL, "%s: no map %zu", obj->label, i);
	if (obj->prog_count) {
		ret = sluice_kernel_load_prog(obj, 0, &v, err);
		if (ret)
			return ret;
	}
	if (!obj->loaded)
		return sluice_fail(err, ENOENT, "%s: no program loaded, so no map was created",
				   obj->label);
	/* maps come in the same order in every instance */
	bpf_object__for_each_map(m, obj->loaded)
		if (n++ == i)
			return bpf_map__fd(m);
	return sluice_fail(err, ENOENT, "%s: no map %zu in the loaded object", obj->label, i);
}

static int attach_tc(struct sluice_kernel_attachment *att, struct sluice_error *err)
{
	int ret;

	att->tc_hook.sz = sizeof(att->tc_hook);
	att->tc_hook.ifindex = att->ifindex;
	att->tc_hook.attach_point = att->hook == SLUICE_HOOK_TC_INGRESS ? BPF_TC_INGRESS
								       : BPF_TC_EGRESS;
	ret = bpf_tc_hook_create(&att->tc_hook);
	if (ret && ret != -EEXIST)
		return sluice_fail(err, -ret, "cannot add a clsact qdisc to ifindex %d: %s",
				   att->ifindex, strerror(-ret));
	att->created_qdisc = !ret;
	att->tc_opts.sz = sizeof(att->tc_opts);
	att->tc_opts.prog_fd = att->prog_fd;
	att->tc_opts.flags = att->flags;
	ret = bpf_tc_attach(&att->tc_hook, &att->tc_opts);
	if (ret) {
		sluice_fail(err, -ret, "cannot attach to tc on ifindex %d: %s", att->ifindex,
			    strerror(-ret));
		if (att->created_qdisc) {
			att->tc_hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
			bpf_tc_hook_destroy(&att->tc_hook);
		}
		return ret;
	}
	return 0;
}

int sluice_kernel_attach(struct sluice_kernel_object *obj, size_t i, int ifindex,
			 enum sluice_kernel_hook hook, uint32_t flags,
			 struct sluice_kernel_attachment **out, struct sluice_error *err)
{
	struct sluice_kernel_attachment *att;
	struct libbpf_said s;
	int fd = loaded_fd(obj, i, err), ret;

	if (fd < 0)
		return fd;
	att = calloc(1, sizeof(*att));
	if (!att)
		return sluice_fail(err, ENOMEM, "out of memory");
	*att = (struct sluice_kernel_attachment){
		.hook = hook, .ifindex = ifindex, .flags = flags, .prog_fd = fd,
	};
	listen_to_libbpf(&s);
	if (hook == SLUICE_HOOK_XDP) {
		ret = bpf_xdp_attach(ifindex, fd, flags, NULL);
		if (ret)
			sluice_fail(err, -ret, "cannot attach to XDP on ifindex %d: %s", ifindex,
				    s.first[0] ? s.first : strerror(-ret));
	} else {
		ret = attach_tc(att, err);
	}
	stop_listening(&s);
	if (ret) {
		free(att);
		return ret;
	}
	*out = att;
	return 0;
}

/* A program of the loaded instance attached by link, made by attach (libbpf's NULL + errno). */
static int attach_link(struct sluice_kernel_object *obj, size_t i, const char *what,
		       struct bpf_link *(*attach)(const struct bpf_program *p, const void *arg),
		       const void *arg, struct sluice_kernel_attachment **out,
		       struct sluice_error *err)
{
	struct sluice_kernel_attachment *att;
	struct libbpf_said s;
	struct bpf_link *link;
	int fd = loaded_fd(obj, i, err), e;

	if (fd < 0)
		return fd;
	att = calloc(1, sizeof(*att));
	if (!att)
		return sluice_fail(err, ENOMEM, "out of memory");
	listen_to_libbpf(&s);
	link = attach(instance_prog(obj->loaded, i), arg);
	e = errno;
	stop_listening(&s);
	if (!link) {
		free(att);
		return sluice_fail(err, as_errno(e), "%s: cannot attach to %s: %s",
				   obj->progs[i].name, what, s.first[0] ? s.first : strerror(e));
	}
	att->link = link;
	att->prog_fd = fd;
	*out = att;
	return 0;
}

static struct bpf_link *attach_tp(const struct bpf_program *p, const void *section)
{
	const char *rest = strchr(section, '/');
	char category[128];
	size_t len;

	/* "tracepoint/CATEGORY/NAME" or "tp/CATEGORY/NAME" */
	if (!rest || !strchr(rest + 1, '/')) {
		errno = EINVAL;
		return NULL;
	}
	len = (size_t)(strchr(rest + 1, '/') - (rest + 1));
	if (len >= sizeof(category)) {
		errno = EINVAL;
		return NULL;
	}
	memcpy(category, rest + 1, len);
	category[len] = '\0';
	return bpf_program__attach_tracepoint(p, category, rest + 1 + len + 1);
}

int sluice_kernel_attach_tracepoint(struct sluice_kernel_object *obj, size_t i,
				    struct sluice_kernel_attachment **out,
				    struct sluice_error *err)
{
	const char *section;

	if (i >= obj->prog_count)
		return sluice_fail(err, EINVAL, "%s: no program %zu", obj->label, i);
	section = obj->progs[i].section;
	if (strncmp(section, "tracepoint/", 11) && strncmp(section, "tp/", 3))
		return sluice_fail(err, EINVAL, "%s: section '%s' names no tracepoint",
				   obj->progs[i].name, section);
	return attach_link(obj, i, section, attach_tp, section, out, err);
}

static struct bpf_link *attach_cg(const struct bpf_program *p, const void *cgroup_fd)
{
	return bpf_program__attach_cgroup(p, *(const int *)cgroup_fd);
}

int sluice_kernel_attach_cgroup(struct sluice_kernel_object *obj, size_t i,
				const char *cgroup_path, struct sluice_kernel_attachment **out,
				struct sluice_error *err)
{
	int fd = open(cgroup_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret;

	if (fd < 0)
		return sluice_fail(err, errno, "cgroup %s: %s", cgroup_path, strerror(errno));
	/* the link holds the cgroup; the directory's descriptor is not needed after */
	ret = attach_link(obj, i, cgroup_path, attach_cg, &fd, out, err);
	close(fd);
	return ret;
}

int sluice_kernel_detach(struct sluice_kernel_attachment *att, struct sluice_error *err)
{
	struct libbpf_said s;
	int ret;

	if (att->link) {
		ret = bpf_link__destroy(att->link);
		free(att);
		return ret ? sluice_fail(err, -ret, "cannot detach: %s", strerror(-ret)) : 0;
	}
	listen_to_libbpf(&s);
	if (att->hook == SLUICE_HOOK_XDP) {
		/* only if our program is still the one attached */
		LIBBPF_OPTS(bpf_xdp_attach_opts, xo, .old_prog_fd = att->prog_fd);

		ret = bpf_xdp_attach(att->ifindex, -1, att->flags | XDP_FLAGS_REPLACE, &xo);
	} else {
		/* bpf_tc_detach finds the filter by handle and priority alone */
		att->tc_opts.prog_fd = 0;
		att->tc_opts.prog_id = 0;
		att->tc_opts.flags = 0;
		ret = bpf_tc_detach(&att->tc_hook, &att->tc_opts);
		if (!ret && att->created_qdisc) {
			att->tc_hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
			ret = bpf_tc_hook_destroy(&att->tc_hook);
		}
	}
	stop_listening(&s);
	if (ret)
		sluice_fail(err, -ret, "cannot detach from ifindex %d: %s", att->ifindex,
			    s.first[0] ? s.first : strerror(-ret));
	free(att);
	return ret;
}
