/* SPDX-License-Identifier: MIT */
/*
 * `sluice exec --policy P.yaml [--engine interp|jit] -- CMD ARGS...`: CMD
 * under a seccomp user-notification filter, each exec, open and connect
 * (and addressed send) decided by the policy's eBPF matcher in Sluice's
 * user-space runtime (src/security/supervisor.c).  Events go to standard error, one line (or
 * JSON object) each, so that CMD's own output stays as it was.  The exit
 * status is CMD's, 128 + the signal when a signal ended it.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "cli.h"
#include "files.h"
#include "security/event.h"
#include "security/policy.h"
#include "security/supervisor.h"

struct printer {
	const struct cli *cli;
	const struct sec_policy *policy;
	int64_t to_realtime;
};

static void print_event(void *ctx, const struct sec_event *ev)
{
	struct printer *p = ctx;

	sec_event_print(stderr, p->cli->json, p->policy->rules[ev->rule].name, ev, p->to_realtime);
}

int cmd_exec(const struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "engine", required_argument, NULL, 'e' },
		{ 0 },
	};
	const char *policy_path = NULL, *engine = NULL;
	struct sluice_error err = { 0 };
	struct sec_policy *policy;
	char matcher[4096];
	struct printer printer;
	int opt, status = 0;

	optind = 1;
	/* "+": options end at the command, which has options of its own */
	while ((opt = getopt_long(argc, argv, "+", options, NULL)) != -1) {
		if (opt == 'p')
			policy_path = optarg;
		else if (opt == 'e' && (!strcmp(optarg, "interp") || !strcmp(optarg, "jit")))
			engine = optarg;
		else
			return cli_usage(cli, "exec", "bad option");
	}
	if (!policy_path || optind >= argc)
		return cli_usage(cli, "exec", "needs --policy P.yaml and a command after --");
	if (sec_policy_load(policy_path, &policy, &err))
		return cli_fail(cli, "%s", err.msg);
	if (built_path("security/user.o", matcher, sizeof(matcher))) {
		sec_policy_free(policy);
		return cli_fail(cli, "cannot find this binary's directory");
	}
	printer = (struct printer){ cli, policy, sec_monotonic_to_realtime() };
	struct sec_supervisor_opts o = {
		.sz = sizeof(o), .policy = policy, .matcher = matcher, .engine = engine,
		.on_event = print_event, .ctx = &printer,
	};
	if (sec_supervise(argv + optind, &o, &status, &err)) {
		sec_policy_free(policy);
		return cli_fail(cli, "exec: %s", err.msg);
	}
	sec_policy_free(policy);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
