/* SPDX-License-Identifier: MIT */
/*
 * bench_security: what enforcing a policy costs a syscall-heavy program.
 * The workload opens and closes a file N times and reports its own time
 * per open+close (so process start-up is not counted); it runs plain, under
 * `sluice exec` with the matcher in the interpreter and in the JIT (every
 * open a seccomp notification, a BPF run and a reply), and, as root, beside
 * `sluice security run` (the kernel's tracepoint programs).  The policy has
 * rules of every kind, none of which matches the workload's file: what is
 * measured is the decision, not an action.
 * usage: bench_security SLUICE [N]   (or: bench_security --workload N PATH)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int workload(long n, const char *path)
{
	double start = now_ns();

	for (long i = 0; i < n; i++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);

		if (fd < 0) {
			perror(path);
			return 1;
		}
		close(fd);
	}
	printf("%.1f\n", (now_ns() - start) / (double)n);
	return 0;
}

/* Run argv, return the ns per open+close the workload printed (<0 on failure). */
static double measure(char *const argv[])
{
	int out[2], status;
	char buf[64] = "";
	ssize_t got;
	pid_t pid;

	if (pipe(out))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(out[1], STDOUT_FILENO);
		close(out[0]);
		close(out[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(out[1]);
	got = read(out[0], buf, sizeof(buf) - 1);
	close(out[0]);
	waitpid(pid, &status, 0);
	if (got <= 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		return -1;
	return strtod(buf, NULL);
}

/* `sluice security run` in the background, until it says it is watching. */
static pid_t start_kernel_side(const char *sluice, const char *policy)
{
	int err[2];
	char line[512];
	FILE *f;
	pid_t pid;

	if (geteuid() || pipe(err))
		return -1;
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, STDOUT_FILENO);
		dup2(err[1], STDERR_FILENO);
		close(err[0]);
		execl(sluice, sluice, "security", "run", "-f", policy, "--duration", "600",
		      (char *)NULL);
		_exit(127);
	}
	close(err[1]);
	f = fdopen(err[0], "r");
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "watching")) {
			/* the rest of its messages go nowhere; the pipe stays open */
			return pid;
		}
	if (f)
		fclose(f);
	waitpid(pid, NULL, 0);
	return -1;
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/sluice-bench-sec.XXXXXX", file[64], policy[64], count[32];
	const char *sluice;
	double plain, interp, jit, kernel = -1;
	long n = 100000;
	pid_t runner;
	FILE *p;

	if (argc == 4 && !strcmp(argv[1], "--workload"))
		return workload(atol(argv[2]), argv[3]);
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s SLUICE [N]\n", argv[0]);
		return 2;
	}
	sluice = argv[1];
	if (argc == 3)
		n = atol(argv[2]);
	if (!mkdtemp(dir))
		return 1;
	snprintf(file, sizeof(file), "%s/data", dir);
	snprintf(policy, sizeof(policy), "%s/policy.yaml", dir);
	snprintf(count, sizeof(count), "%ld", n);
	close(open(file, O_CREAT | O_WRONLY, 0600));
	p = fopen(policy, "w");
	if (!p)
		return 1;
	fprintf(p, "apiVersion: sluice.io/v1alpha1\nkind: SecurityPolicy\n"
		   "metadata: {name: bench}\nspec:\n  rules:\n"
		   "  - {name: secrets, file: {pathPrefix: [%s/secret/]}, action: deny}\n"
		   "  - {name: shadow, file: {path: [%s/shadow], operations: [write]}, action: kill}\n"
		   "  - {name: nc, exec: {binary: [%s/nc]}, action: kill}\n"
		   "  - {name: meta, connect: {cidr: [169.254.169.254/32]}, action: deny}\n",
		dir, dir, dir);
	fclose(p);

	char *plain_argv[] = { argv[0], "--workload", count, file, NULL };
	char *interp_argv[] = { (char *)sluice, "exec", "--policy", policy, "--engine", "interp",
				"--", argv[0], "--workload", count, file, NULL };
	char *jit_argv[] = { (char *)sluice, "exec", "--policy", policy, "--engine", "jit",
			     "--", argv[0], "--workload", count, file, NULL };

	plain = measure(plain_argv);
	interp = measure(interp_argv);
	jit = measure(jit_argv);
	runner = start_kernel_side(sluice, policy);
	if (runner > 0) {
		kernel = measure(plain_argv);
		kill(runner, SIGINT);
		waitpid(runner, NULL, 0);
	}
	unlink(file);
	unlink(policy);
	rmdir(dir);
	if (plain <= 0 || interp <= 0 || jit <= 0) {
		fprintf(stderr, "bench_security: a run failed (plain %.1f, interp %.1f, jit %.1f)\n",
			plain, interp, jit);
		return 1;
	}
	printf("open+close x %ld, 4 rules (none matching)   ns/op   ratio to plain\n", n);
	printf("  plain                                      %8.1f   1.00\n", plain);
	printf("  sluice exec, matcher in the interpreter    %8.1f   %.2f\n", interp, interp / plain);
	printf("  sluice exec, matcher in the JIT            %8.1f   %.2f\n", jit, jit / plain);
	if (kernel > 0)
		printf("  sluice security run (kernel tracepoints)   %8.1f   %.2f\n", kernel,
		       kernel / plain);
	else
		printf("  sluice security run (kernel tracepoints)          -   (needs root and bpf())\n");
	return 0;
}
