/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <linux/perf_event.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../../profile/prof.h"
#include "errmsg.h"
#include "profile/sampler.h"
#include "profile/symbols.h"

/* The kernel's own "not supported" (ENOTSUPP), which reaches user space from bpf(). */
#define KERNEL_ENOTSUPP 524
/* Wake-ups while sampling: how soon a stop request or an exited process is noticed. */
#define POLL_MS 50

bool prof_kernel_refused(int ret)
{
	switch (-ret) {
	case EPERM: case EACCES: case EOPNOTSUPP: case ENOSYS: case KERNEL_ENOTSUPP:
		return true;
	default:
		return false;
	}
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level, (void)fmt, (void)ap;
	return 0;
}

struct session {
	int *fds;
	struct bpf_link **links;
	unsigned nfds;
	struct bpf_object *obj;
};

static void session_stop(struct session *s)
{
	for (unsigned i = 0; i < s->nfds; i++) {
		bpf_link__destroy(s->links[i]);
		close(s->fds[i]);
	}
	s->nfds = 0;
}

static int open_events(struct session *s, unsigned ncpus, unsigned frequency,
		       struct sluice_error *err)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.size = sizeof(attr),
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.sample_freq = frequency,
		.freq = 1,
	};

	s->fds = calloc(ncpus, sizeof(*s->fds));
	s->links = calloc(ncpus, sizeof(*s->links));
	if (!s->fds || !s->links)
		return sluice_fail(err, ENOMEM, "out of memory");
	for (unsigned cpu = 0; cpu < ncpus; cpu++) {
		int fd = (int)syscall(__NR_perf_event_open, &attr, -1, (int)cpu, -1,
				      PERF_FLAG_FD_CLOEXEC);

		if (fd < 0 && errno == ENODEV)
			continue; /* a possible CPU that is offline */
		if (fd < 0)
			return sluice_fail(err, errno, "perf_event_open(cpu-clock, cpu %u): %s", cpu,
					   strerror(errno));
		s->fds[s->nfds++] = fd;
	}
	return 0;
}

static int load(struct session *s, const char *object, pid_t pid, struct sluice_error *err)
{
	struct bpf_program *prog;
	struct bpf_map *map;
	__u32 target = (__u32)pid;
	int ret;

	s->obj = bpf_object__open_file(object, NULL);
	if (!s->obj) {
		ret = -errno;
		return sluice_fail(err, -ret, "%s: %s", object, strerror(-ret));
	}
	/* target_pid, the only constant: the whole of .rodata */
	bpf_object__for_each_map(map, s->obj) {
		const char *name = bpf_map__name(map);
		size_t len = strlen(name), size = 0;

		if (len >= 7 && !strcmp(name + len - 7, ".rodata") &&
		    bpf_map__initial_value(map, &size) && size == sizeof(target))
			break;
	}
	if (!map || bpf_map__set_initial_value(map, &target, sizeof(target)))
		return sluice_fail(err, EINVAL, "%s: no target_pid to set", object);
	ret = bpf_object__load(s->obj);
	if (ret)
		return sluice_fail(err, -ret, "the kernel refused the profiler's BPF program: %s",
				   strerror(-ret));
	prog = bpf_object__find_program_by_name(s->obj, "prof_sample");
	for (unsigned i = 0; prog && i < s->nfds; i++) {
		s->links[i] = bpf_program__attach_perf_event(prog, s->fds[i]);
		if (!s->links[i]) {
			ret = -errno;
			return sluice_fail(err, -ret, "attaching to the CPU-clock event: %s",
					   strerror(-ret));
		}
	}
	return prog ? 0 : sluice_fail(err, ENOENT, "%s has no program prof_sample", object);
}

static void wait_out(const struct prof_kernel_opts *o, struct prof_kernel_report *r)
{
	for (unsigned waited = 0; waited < o->duration_ms; waited += POLL_MS) {
		unsigned ms = o->duration_ms - waited < POLL_MS ? o->duration_ms - waited : POLL_MS;
		struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

		if (o->stop && *o->stop)
			return;
		if (o->pid && kill(o->pid, 0) && errno == ESRCH) {
			r->target_exited = true;
			return;
		}
		nanosleep(&ts, NULL);
	}
}

/* What names the frames of one run: processes opened once, kallsyms once. */
struct namer {
	struct prof_kallsyms *kallsyms;
	bool kallsyms_tried;
	struct { pid_t pid; struct prof_proc *proc; } *procs;
	size_t nprocs;
};

static struct prof_proc *proc_of(struct namer *n, pid_t pid)
{
	typeof(n->procs) grown;

	for (size_t i = 0; i < n->nprocs; i++)
		if (n->procs[i].pid == pid)
			return n->procs[i].proc;
	grown = realloc(n->procs, (n->nprocs + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	n->procs = grown;
	/* a process gone by now is named frame by frame as [unknown] */
	n->procs[n->nprocs].pid = pid;
	n->procs[n->nprocs].proc = prof_proc_open(pid, NULL);
	return n->procs[n->nprocs++].proc;
}

static void namer_free(struct namer *n)
{
	for (size_t i = 0; i < n->nprocs; i++)
		prof_proc_free(n->procs[i].proc);
	free(n->procs);
	prof_kallsyms_free(n->kallsyms);
}

static size_t stack_ips(int stacks_fd, int32_t id, uint64_t *ips)
{
	size_t n = 0;

	if (id < 0 || bpf_map_lookup_elem(stacks_fd, &id, ips))
		return 0;
	while (n < PROF_STACK_DEPTH && ips[n])
		n++;
	return n;
}

/* One counted key as a folded stack: comm, user frames from the root, kernel frames. */
static int add_key(struct namer *n, int stacks_fd, const struct prof_key *key, uint64_t count,
		   struct prof_stacks *out, struct prof_kernel_report *r, struct sluice_error *err)
{
	uint64_t ips[PROF_STACK_DEPTH];
	char comm[PROF_COMM_LEN + 1] = { 0 };
	char kframes[PROF_STACK_DEPTH][96];
	const char *frames[2 * PROF_STACK_DEPTH + 2];
	size_t nf = 0, nips;
	struct prof_proc *proc;

	memcpy(comm, key->comm, PROF_COMM_LEN);
	frames[nf++] = comm;
	/* a stack the map could not keep: a full map, or another stack in its bucket */
	if (key->user_stack == -EEXIST || key->user_stack == -ENOMEM ||
	    key->kernel_stack == -EEXIST || key->kernel_stack == -ENOMEM) {
		r->stacks_lost += count;
		frames[nf++] = "[lost stack]";
	}
	nips = stack_ips(stacks_fd, key->user_stack, ips);
	proc = nips ? proc_of(n, (pid_t)key->pid) : NULL;
	for (size_t i = nips; i-- > 0;)
		/* a return address may be the first byte after a call at a function's end */
		frames[nf++] = proc ? prof_proc_symbol(proc, i ? ips[i] - 1 : ips[i]) : "[unknown]";
	nips = stack_ips(stacks_fd, key->kernel_stack, ips);
	if (nips && !n->kallsyms_tried) {
		struct sluice_error kerr = { 0 };

		n->kallsyms_tried = true;
		n->kallsyms = prof_kallsyms_open(&kerr);
		if (!n->kallsyms)
			snprintf(r->kernel_note, sizeof(r->kernel_note),
				 "kernel frames are not named: %s; shown as [kernel]", kerr.msg);
	}
	for (size_t i = nips; i-- > 0;) {
		const char *name = n->kallsyms ? prof_kallsyms_symbol(n->kallsyms, ips[i]) : NULL;

		snprintf(kframes[i], sizeof(kframes[i]), "%s_[k]", name ? name : "[kernel]");
		frames[nf++] = kframes[i];
	}
	return prof_stacks_add(out, frames, nf, count, err);
}

static int collect(struct session *s, struct prof_stacks *out, struct prof_kernel_report *r,
		   struct sluice_error *err)
{
	int counts_fd = bpf_object__find_map_fd_by_name(s->obj, "prof_counts");
	int stacks_fd = bpf_object__find_map_fd_by_name(s->obj, "prof_stacks");
	int stats_fd = bpf_object__find_map_fd_by_name(s->obj, "prof_stats");
	int ncpus = libbpf_num_possible_cpus();
	struct prof_key key, next;
	struct namer n = { 0 };
	uint64_t *per_cpu;
	bool first = true;
	int ret = 0;

	if (counts_fd < 0 || stacks_fd < 0 || stats_fd < 0 || ncpus <= 0)
		return sluice_fail(err, ENOENT, "the profiler's maps are missing");
	per_cpu = calloc((size_t)ncpus, sizeof(*per_cpu));
	if (!per_cpu)
		return sluice_fail(err, ENOMEM, "out of memory");
	if (!bpf_map_lookup_elem(stats_fd, &(__u32){ PROF_STAT_COUNTS_FULL }, per_cpu))
		for (int c = 0; c < ncpus; c++)
			r->dropped += per_cpu[c];
	free(per_cpu);
	while (!ret && !bpf_map_get_next_key(counts_fd, first ? NULL : &key, &next)) {
		uint64_t count;

		first = false;
		key = next;
		if (!bpf_map_lookup_elem(counts_fd, &key, &count))
			ret = add_key(&n, stacks_fd, &key, count, out, r, err);
	}
	namer_free(&n);
	return ret;
}

int prof_kernel_sample(const struct prof_kernel_opts *o, struct prof_stacks *out,
		       struct prof_kernel_report *r, struct sluice_error *err)
{
	struct session s = { 0 };
	libbpf_print_fn_t prev;
	int ncpus, ret;

	memset(r, 0, sizeof(*r));
	if (o->pid && kill(o->pid, 0) && errno == ESRCH)
		return sluice_fail(err, ESRCH, "no process %d", (int)o->pid);
	ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0)
		return sluice_fail(err, ncpus ? -ncpus : ENODEV, "cannot count the CPUs");
	prev = libbpf_set_print(quiet);
	ret = open_events(&s, (unsigned)ncpus, o->frequency, err);
	if (!ret)
		ret = load(&s, o->object, o->pid, err);
	if (!ret) {
		r->cpus = s.nfds;
		wait_out(o, r);
		session_stop(&s);
		ret = collect(&s, out, r, err);
	}
	session_stop(&s);
	bpf_object__close(s.obj);
	libbpf_set_print(prev);
	free(s.fds);
	free(s.links);
	return ret;
}
