/* SPDX-License-Identifier: MIT */
/*
 * The prototype table against the running kernel's verifier: for every
 * helper the table lists and every program type it models exactly, load
 * `call helper; r0 = 0; exit` and see whether the verifier refuses the call
 * for the type ("cannot use helper", "unknown func") or goes on to check
 * its arguments; then, under a license that is not GPL, whether it refuses
 * the call as GPL-restricted (the table's HELPER_GPL_ONLY).  Exits 77 where
 * bpf() is refused; prints each disagreement and fails when there is one,
 * except on kernels older than the 6.18 the table follows, where it skips
 * (77).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "helper_proto.h"

struct hook {
	const char *name;
	enum bpf_prog_type type;
	enum bpf_attach_type attach;
	uint32_t prog_flags;
};

/* The types the table claims to model exactly; tracing and lsm need a BTF target. */
static const struct hook hooks[] = {
	{ "socket_filter", BPF_PROG_TYPE_SOCKET_FILTER, 0, 0 },
	{ "kprobe", BPF_PROG_TYPE_KPROBE, 0, 0 },
	{ "sched_cls", BPF_PROG_TYPE_SCHED_CLS, 0, 0 },
	{ "sched_act", BPF_PROG_TYPE_SCHED_ACT, 0, 0 },
	{ "tracepoint", BPF_PROG_TYPE_TRACEPOINT, 0, 0 },
	{ "xdp", BPF_PROG_TYPE_XDP, 0, 0 },
	{ "perf_event", BPF_PROG_TYPE_PERF_EVENT, 0, 0 },
	{ "cgroup_skb", BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_INGRESS, 0 },
	{ "cgroup_sock", BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET_SOCK_CREATE, 0 },
	{ "raw_tracepoint", BPF_PROG_TYPE_RAW_TRACEPOINT, 0, 0 },
	/* connect: the attach type that may call bind */
	{ "cgroup_sock_addr", BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_CONNECT, 0 },
	{ "syscall", BPF_PROG_TYPE_SYSCALL, 0, BPF_F_SLEEPABLE },
};

/* Helpers a kernel's configuration takes away (lockdown, Kconfig), not its source. */
static bool configuration_dependent(uint32_t id)
{
	return id == BPF_FUNC_probe_write_user || id == BPF_FUNC_override_return;
}

static char log_buf[1 << 16];

static bool older_than_table(void)
{
	struct utsname u;
	unsigned major = 0, minor = 0;

	return uname(&u) == 0 && sscanf(u.release, "%u.%u", &major, &minor) == 2 &&
	       (major < 6 || (major == 6 && minor < 18));
}

/*
 * The verifier's log for `call id; r0 = 0; exit` as a program of the hook
 * under license, NULL when bpf() is refused.
 */
static const char *kernel_log(const struct hook *hook, uint32_t id, const char *license)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_JMP | BPF_CALL, .imm = (int32_t)id },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .log_buf = log_buf,
		    .log_size = sizeof(log_buf), .log_level = 1,
		    .expected_attach_type = hook->attach, .prog_flags = hook->prog_flags);
	int fd;

	log_buf[0] = 0;
	fd = bpf_prog_load(hook->type, "probe", license, insns, 3, &opts);
	if (fd >= 0)
		close(fd);
	else if (errno == EPERM)
		return NULL;
	return log_buf;
}

/* Whether the kernel's get_func_proto for the hook offers the helper. */
static bool offered(const char *log)
{
	return !strstr(log, "cannot use helper") && !strstr(log, "unknown func");
}

int main(void)
{
	unsigned compared = 0, wrong = 0, gpl_compared = 0;

	if (!kernel_log(&hooks[0], BPF_FUNC_ktime_get_ns, "GPL")) {
		fprintf(stderr, "bpf() refused here: skipped\n");
		return 77;
	}
	for (uint32_t id = 1; id < __BPF_FUNC_MAX_ID; id++) {
		const struct helper_proto *proto = helper_proto(id);
		const struct hook *allowed_in = NULL;

		if (!proto)
			continue;
		for (size_t h = 0; h < sizeof(hooks) / sizeof(hooks[0]); h++) {
			bool ours = helper_allowed(proto, hooks[h].type);
			const char *log = kernel_log(&hooks[h], id, "GPL");
			bool kernel = log && offered(log);

			compared++;
			if (kernel && !allowed_in)
				allowed_in = &hooks[h];
			if (!log || ours == kernel || (ours && configuration_dependent(id)))
				continue;
			wrong++;
			printf("%-28s %-18s kernel %s, table %s\n", proto->name, hooks[h].name,
			       kernel ? "allows" : "refuses", ours ? "allows" : "refuses");
		}
		/* gpl_only: the verifier refuses the call from a program under another license */
		if (allowed_in) {
			const char *log = kernel_log(allowed_in, id, "Proprietary");
			bool kernel = log && strstr(log, "GPL-restricted");

			gpl_compared++;
			if (log && kernel != !!(proto->flags & HELPER_GPL_ONLY)) {
				wrong++;
				printf("%-28s kernel says %sGPL only, table %s\n", proto->name,
				       kernel ? "" : "not ", kernel ? "does not" : "does");
			}
		}
	}
	printf("%u helper x program type pairs and %u licenses compared, %u disagree\n",
	       compared, gpl_compared, wrong);
	if (wrong && older_than_table()) {
		printf("this kernel is older than the 6.18 the table follows: skipped\n");
		return 77;
	}
	return wrong ? 1 : 0;
}
