/* SPDX-License-Identifier: MIT */
/*
 * Runtime security in the kernel: tracepoints see every exec and file
 * open, cgroup hooks every connect; each is matched against the compiled
 * policy (match.h) and, when a rule matches, acted on and reported into
 * the "sec_events" ring buffer.
 *
 * What each hook can do without BPF LSM (refused by a kernel in lockdown):
 *   - exec: sched_process_exec fires once the new image is in place and
 *     before it runs a single instruction, so `deny` becomes SIGKILL there;
 *   - file: sys_enter_open* fire before the open, but cannot fail it, so
 *     `deny` becomes SIGKILL, delivered on the way back to user space: the
 *     open itself (O_CREAT, O_TRUNC) has happened, no write follows;
 *   - connect: cgroup/connect4 and connect6 fail the call with EPERM, as
 *     sendmsg4 and sendmsg6 fail a datagram sent to an address without
 *     connect().
 */
#include <linux/bpf.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "match.h"

#define SIGKILL 9
/* open(2) flags that mean the file may change */
#define SEC_WRITE_FLAGS (01 /* O_WRONLY */ | 02 /* O_RDWR */ | 0100 /* O_CREAT */ | \
			 01000 /* O_TRUNC */ | 02000 /* O_APPEND */)
/*
 * The longest argument read whole: a longer one is cut into pieces of this
 * size (a byte lost at each cut), the pieces counted as further arguments.
 */
#define SEC_ARGS_AREA 512

char LICENSE[] SEC("license") = "GPL";

/* Only the fields read here; CO-RE finds them in the running kernel. */
struct mm_struct {
	unsigned long arg_start;
	unsigned long arg_end;
} __attribute__((preserve_access_index));

struct task_struct {
	int tgid;
	struct task_struct *real_parent;
	struct mm_struct *mm;
	char comm[16];
} __attribute__((preserve_access_index));

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} sec_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SEC_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} sec_stats SEC(".maps");

/* process id -> the binary it last executed: the parent of later execs */
struct sec_binary {
	char path[SEC_PATH_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct sec_binary);
} sec_procs SEC(".maps");

struct sec_args_area {
	char bytes[SEC_ARGS_AREA];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sec_args_area);
} sec_args_scratch SEC(".maps");

static __always_inline void count(__u32 stat)
{
	__u64 *n = bpf_map_lookup_elem(&sec_stats, &stat);

	if (n)
		*n += 1;
}

/* The scratch event, or NULL when there is no policy or the agent itself acts. */
static __always_inline struct sec_event *event_begin(__u32 kind, const struct sec_config **cfg)
{
	__u32 zero = 0, tgid = bpf_get_current_pid_tgid() >> 32;
	struct sec_event *ev;

	*cfg = bpf_map_lookup_elem(&sec_config, &zero);
	ev = bpf_map_lookup_elem(&sec_scratch, &zero);
	if (!*cfg || !ev || tgid == (*cfg)->agent_tgid)
		return NULL;
	ev->q.kind = kind;
	ev->q.write = 0;
	ev->q.nargs = 0;
	ev->q.path.prefixlen = 0;
	ev->q.parent.prefixlen = 0;
	ev->q.path.str[0] = '\0';
	ev->q.parent.str[0] = '\0';
	return ev;
}

/* Identify the process and hand the event over; a full ring buffer is counted, never waited for. */
static __always_inline void emit(struct sec_event *ev, __u32 verdict, __u32 taken, __u32 ppid)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct sec_binary *bin;

	ev->time_ns = bpf_ktime_get_ns();
	ev->pid = (__u32)pid_tgid;
	ev->tgid = pid_tgid >> 32;
	ev->ppid = ppid;
	ev->uid = (__u32)bpf_get_current_uid_gid();
	ev->rule = SEC_VERDICT_RULE(verdict);
	ev->action = SEC_VERDICT_ACTION(verdict);
	ev->taken = taken;
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
	bin = bpf_map_lookup_elem(&sec_procs, &ev->tgid);
	/* a forked child that has not executed anything runs its parent's binary */
	if (!bin && ppid)
		bin = bpf_map_lookup_elem(&sec_procs, &ppid);
	if (bin)
		__builtin_memcpy(ev->binary, bin->path, sizeof(ev->binary));
	else
		ev->binary[0] = '\0';
	if (bpf_ringbuf_output(&sec_events, ev, sizeof(*ev), 0))
		count(SEC_STAT_DROPS);
	else
		count(SEC_STAT_EVENTS);
}

static __always_inline __u32 parent_tgid(void)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	return BPF_CORE_READ(task, real_parent, tgid);
}

/* Read a NUL-terminated user string into an LPM key (prefixlen covers its NUL). */
static __always_inline void read_user_path(struct sec_path_key *key, const void *src)
{
	long n = bpf_probe_read_user_str(key->str, sizeof(key->str), src);

	key->prefixlen = n > 0 ? (__u32)n * 8 : 0;
}

/*
 * argv[1..] from the argument area: each argument's full length is read
 * first (up to SEC_ARGS_AREA bytes) to find the next one, then its first
 * SEC_ARG_MAX - 1 bytes are kept, zero-padded as the hash's keys are.
 */
static __always_inline void read_args(struct sec_query *q)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	unsigned long p = BPF_CORE_READ(task, mm, arg_start);
	unsigned long end = BPF_CORE_READ(task, mm, arg_end);
	struct sec_args_area *area;
	__u32 zero = 0;
	long n;

	area = bpf_map_lookup_elem(&sec_args_scratch, &zero);
	if (!area)
		return;
	__builtin_memset(q->args, 0, sizeof(q->args));
	n = bpf_probe_read_user_str(area->bytes, sizeof(area->bytes), (void *)p);
	if (n <= 0)
		return;
	p += n; /* past argv[0] */
	for (__u32 i = 0; i < SEC_ARGS_MAX; i++) {
		if (p >= end)
			break;
		n = bpf_probe_read_user_str(area->bytes, sizeof(area->bytes), (void *)p);
		if (n <= 0)
			break;
		bpf_probe_read_user_str(q->args[i], SEC_ARG_MAX, (void *)p);
		p += n;
		q->nargs = i + 1;
	}
}

struct exec_ctx {
	__u64 common;
	__u32 filename_loc; /* __data_loc: offset in the low 16 bits, length above */
	__s32 pid;
	__s32 old_pid;
};

SEC("tracepoint/sched/sched_process_exec")
int sec_exec(struct exec_ctx *ctx)
{
	const struct sec_config *cfg;
	struct sec_event *ev = event_begin(SEC_KIND_EXEC, &cfg);
	__u32 tgid = bpf_get_current_pid_tgid() >> 32, ppid = parent_tgid(), verdict, taken;
	struct sec_binary *parent;
	long n;

	if (!ev)
		return 0;
	n = bpf_probe_read_kernel_str(ev->q.path.str, sizeof(ev->q.path.str),
				      (void *)ctx + (ctx->filename_loc & 0xffff));
	ev->q.path.prefixlen = n > 0 ? (__u32)n * 8 : 0;
	bpf_map_update_elem(&sec_procs, &tgid, ev->q.path.str, BPF_ANY);
	parent = bpf_map_lookup_elem(&sec_procs, &ppid);
	if (parent) {
		n = bpf_probe_read_kernel_str(ev->q.parent.str, sizeof(ev->q.parent.str),
					      parent->path);
	} else {
		/* started before the agent: only its name is known */
		struct task_struct *task = (struct task_struct *)bpf_get_current_task();

		n = BPF_CORE_READ_STR_INTO(&ev->q.parent.str, task, real_parent, comm);
	}
	ev->q.parent.prefixlen = n > 0 ? (__u32)n * 8 : 0;
	read_args(&ev->q);
	verdict = sec_match(&ev->q, cfg);
	if (!verdict)
		return 0;
	taken = SEC_TAKEN_LOGGED;
	if (SEC_VERDICT_ACTION(verdict) >= SEC_ACTION_DENY) {
		bpf_send_signal(SIGKILL);
		taken = SEC_TAKEN_KILLED;
	}
	emit(ev, verdict, taken, ppid);
	return 0;
}

static __always_inline int file_open(const void *filename, __u64 flags)
{
	const struct sec_config *cfg;
	struct sec_event *ev = event_begin(SEC_KIND_FILE, &cfg);
	__u32 verdict, taken = SEC_TAKEN_LOGGED;

	if (!ev)
		return 0;
	read_user_path(&ev->q.path, filename);
	ev->q.write = (flags & SEC_WRITE_FLAGS) != 0;
	verdict = sec_match(&ev->q, cfg);
	if (!verdict)
		return 0;
	/* without BPF LSM the open cannot fail: deny falls back to kill */
	if (SEC_VERDICT_ACTION(verdict) >= SEC_ACTION_DENY) {
		bpf_send_signal(SIGKILL);
		taken = SEC_TAKEN_KILLED;
	}
	emit(ev, verdict, taken, parent_tgid());
	return 0;
}

/* The syscalls/sys_enter_* layout: 8 bytes of common fields, the number, six arguments. */
struct syscall_ctx {
	__u64 common;
	__s64 nr;
	__u64 args[6];
};

SEC("tracepoint/syscalls/sys_enter_openat")
int sec_openat(struct syscall_ctx *ctx)
{
	return file_open((const void *)ctx->args[1], ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_enter_open")
int sec_open(struct syscall_ctx *ctx)
{
	return file_open((const void *)ctx->args[0], ctx->args[1]);
}

struct open_how {
	__u64 flags;
	__u64 mode;
	__u64 resolve;
};

SEC("tracepoint/syscalls/sys_enter_openat2")
int sec_openat2(struct syscall_ctx *ctx)
{
	struct open_how how = {};

	bpf_probe_read_user(&how, sizeof(how), (const void *)ctx->args[2]);
	return file_open((const void *)ctx->args[1], how.flags);
}

SEC("tracepoint/sched/sched_process_exit")
int sec_exit(void *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32;

	if ((__u32)pid_tgid == tgid)
		bpf_map_delete_elem(&sec_procs, &tgid);
	return 0;
}

/* A connect, or a datagram sent to an address: the destination against the connect rules. */
static __always_inline int outbound(struct bpf_sock_addr *ctx, __u16 family)
{
	const struct sec_config *cfg;
	struct sec_event *ev = event_begin(SEC_KIND_CONNECT, &cfg);
	__u32 verdict;

	if (!ev)
		return 1;
	ev->q.family = family;
	ev->q.port = bpf_ntohs((__u16)ctx->user_port);
	ev->q.proto = ctx->protocol == 6 /* IPPROTO_TCP */ ? SEC_PROTO_TCP
		    : ctx->protocol == 17 /* IPPROTO_UDP */ ? SEC_PROTO_UDP : 0;
	__builtin_memset(ev->q.addr, 0, sizeof(ev->q.addr));
	if (family == 2 /* AF_INET */) {
		__u32 ip4 = ctx->user_ip4;

		__builtin_memcpy(ev->q.addr, &ip4, 4);
	} else {
		__u32 ip6[4] = { ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2],
				 ctx->user_ip6[3] };

		__builtin_memcpy(ev->q.addr, ip6, 16);
	}
	verdict = sec_match(&ev->q, cfg);
	if (!verdict)
		return 1;
	if (SEC_VERDICT_ACTION(verdict) == SEC_ACTION_LOG) {
		emit(ev, verdict, SEC_TAKEN_LOGGED, parent_tgid());
		return 1;
	}
	if (SEC_VERDICT_ACTION(verdict) == SEC_ACTION_KILL) {
		bpf_send_signal(SIGKILL);
		emit(ev, verdict, SEC_TAKEN_DENIED_KILLED, parent_tgid());
		return 0;
	}
	emit(ev, verdict, SEC_TAKEN_DENIED, parent_tgid());
	return 0;
}

SEC("cgroup/connect4")
int sec_connect4(struct bpf_sock_addr *ctx)
{
	return outbound(ctx, 2);
}

SEC("cgroup/connect6")
int sec_connect6(struct bpf_sock_addr *ctx)
{
	return outbound(ctx, 10 /* AF_INET6 */);
}

/* UDP sent without connect(): sendto and sendmsg with an address */
SEC("cgroup/sendmsg4")
int sec_sendmsg4(struct bpf_sock_addr *ctx)
{
	return outbound(ctx, 2);
}

SEC("cgroup/sendmsg6")
int sec_sendmsg6(struct bpf_sock_addr *ctx)
{
	return outbound(ctx, 10 /* AF_INET6 */);
}
