/* SPDX-License-Identifier: MIT */
/*
 * Security policies: the bundled examples load; each file in bad/ fails
 * with the message its first line expects ("# expect: ..."); and a policy
 * compiled into the matcher's maps (security/user.o in Sluice's runtime)
 * decides a table of queries: which rule, which action, or none; and,
 * where bpf() is allowed, the kernel decides the same with the same
 * program and maps (BPF_PROG_TEST_RUN), or the test says why it skipped.
 * usage: test_policy EXAMPLES_DIR BAD_DIR USER_O
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <cmocka.h>

#include <sluice/kernel.h>

#include "security/compile.h"
#include "security/matcher.h"
#include "security/policy.h"

static const char *examples_dir, *bad_dir, *user_o;

static void each_yaml(const char *dir, void (*fn)(const char *path))
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d))) {
		char path[4096];
		size_t len = strlen(e->d_name);

		if (len < 5 || strcmp(e->d_name + len - 5, ".yaml"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		fn(path);
		n++;
	}
	closedir(d);
	assert_true(n > 0);
}

static void loads(const char *path)
{
	struct sluice_error err = { 0 };
	struct sec_policy *p;

	if (sec_policy_load(path, &p, &err))
		fail_msg("%s: %s", path, err.msg);
	assert_true(p->nrules > 0);
	sec_policy_free(p);
}

static void test_examples(void **state)
{
	(void)state;
	each_yaml(examples_dir, loads);
}

static void fails_as_expected(const char *path)
{
	struct sluice_error err = { 0 };
	struct sec_policy *p;
	char expect[512] = "";
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	assert_non_null(fgets(expect, sizeof(expect), f));
	fclose(f);
	assert_memory_equal(expect, "# expect: ", 10);
	expect[strcspn(expect, "\n")] = '\0';
	assert_int_not_equal(sec_policy_load(path, &p, &err), 0);
	assert_null(p);
	if (!strstr(err.msg, expect + 10))
		fail_msg("%s:\n  got      %s\n  expected %s", path, err.msg, expect + 10);
}

static void test_bad(void **state)
{
	(void)state;
	each_yaml(bad_dir, fails_as_expected);
}

static const char policy_text[] =
	"apiVersion: sluice.io/v1alpha1\n"
	"kind: SecurityPolicy\n"
	"metadata: {name: matcher}\n"
	"spec:\n"
	"  rules:\n"
	"  - {name: nc, exec: {binary: [/usr/bin/nc]}, action: kill}\n"
	"  - {name: tmp-exec, exec: {binaryPrefix: [/tmp/]}, action: log}\n"
	"  - {name: shell-from-web, exec: {binaryPrefix: [/bin/], parent: [/usr/sbin/nginx],\n"
	"     args: ['-c', '-i']}, action: deny}\n"
	"  - {name: shadow-write, file: {path: [/etc/shadow], operations: [write]}, action: kill}\n"
	"  - {name: k8s-any, file: {pathPrefix: [/etc/kubernetes/]}, action: log}\n"
	"  - {name: k8s-pki-write, file: {pathPrefix: [/etc/kubernetes/pki/], operations: [write]},\n"
	"     action: deny}\n"
	"  - {name: meta, connect: {cidr: [169.254.169.254/32], ports: [80], protocol: [tcp]},\n"
	"     action: deny}\n"
	"  - {name: net10, connect: {cidr: [10.0.0.0/8, 'fd00::/8']}, action: log}\n"
	"  - {name: net10-ssh, connect: {cidr: [10.1.0.0/16], ports: [22]}, action: kill}\n"
	"  - {name: dns-udp, connect: {ports: [53], protocol: [udp]}, action: log}\n";

static void set_path(struct sec_path_key *k, const char *s)
{
	memset(k, 0, sizeof(*k));
	strcpy(k->str, s);
	k->prefixlen = (uint32_t)(strlen(s) + 1) * 8;
}

static struct sec_query exec_q(const char *bin, const char *parent, const char *arg)
{
	struct sec_query q = { .kind = SEC_KIND_EXEC };

	set_path(&q.path, bin);
	set_path(&q.parent, parent);
	if (arg) {
		strcpy(q.args[0], "--verbose");
		strcpy(q.args[1], arg);
		q.nargs = 2;
	}
	return q;
}

static struct sec_query file_q(const char *path, int write)
{
	struct sec_query q = { .kind = SEC_KIND_FILE, .write = (uint32_t)write };

	set_path(&q.path, path);
	return q;
}

static struct sec_query connect_q(const char *addr, uint16_t port, uint32_t proto)
{
	struct sec_query q = { .kind = SEC_KIND_CONNECT, .port = port, .proto = proto };

	q.family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(q.family, addr, q.addr), 1);
	return q;
}

struct matcher_case {
	struct sec_query q;
	const char *expect;
};

static size_t matcher_cases(struct matcher_case *out)
{
	const struct matcher_case cases[] = {
		{ exec_q("/usr/bin/nc", "/bin/bash", NULL), "nc kill" },
		/* an exact binary is not a prefix */
		{ exec_q("/usr/bin/ncat", "/bin/bash", NULL), "" },
		{ exec_q("/tmp/x/run", "/bin/bash", NULL), "tmp-exec log" },
		{ exec_q("/bin/sh", "/usr/sbin/nginx", "-c"), "shell-from-web deny" },
		/* every selector must hold: the parent, then the arguments */
		{ exec_q("/bin/sh", "/usr/sbin/apache2", "-c"), "" },
		{ exec_q("/bin/sh", "/usr/sbin/nginx", "-x"), "" },
		{ exec_q("/bin/sh", "/usr/sbin/nginx", NULL), "" },
		{ file_q("/etc/shadow", 1), "shadow-write kill" },
		{ file_q("/etc/shadow", 0), "" },
		{ file_q("/etc/shadow-", 1), "" },
		{ file_q("/etc/kubernetes/admin.conf", 0), "k8s-any log" },
		/* nested prefixes: both rules match, the more severe acts */
		{ file_q("/etc/kubernetes/pki/ca.key", 1), "k8s-pki-write deny" },
		{ file_q("/etc/kubernetes/pki/ca.key", 0), "k8s-any log" },
		{ file_q("/etc/kubernetes", 1), "" },
		{ connect_q("169.254.169.254", 80, SEC_PROTO_TCP), "meta deny" },
		{ connect_q("169.254.169.254", 80, SEC_PROTO_UDP), "" },
		{ connect_q("169.254.169.254", 443, SEC_PROTO_TCP), "" },
		/* a protocol the caller could not tell matches either */
		{ connect_q("169.254.169.254", 80, 0), "meta deny" },
		{ connect_q("10.9.9.9", 443, SEC_PROTO_TCP), "net10 log" },
		{ connect_q("10.1.2.3", 22, SEC_PROTO_TCP), "net10-ssh kill" },
		{ connect_q("10.2.2.3", 22, SEC_PROTO_TCP), "net10 log" },
		{ connect_q("fd00::1", 8080, SEC_PROTO_TCP), "net10 log" },
		{ connect_q("fe80::1", 8080, SEC_PROTO_TCP), "" },
		{ connect_q("192.0.2.1", 53, SEC_PROTO_UDP), "dns-udp log" },
		{ connect_q("192.0.2.1", 53, SEC_PROTO_TCP), "" },
	};

	memcpy(out, cases, sizeof(cases));
	return sizeof(cases) / sizeof(cases[0]);
}

static struct sec_policy *matcher_policy(void)
{
	struct sluice_error err = { 0 };
	struct sec_policy *policy;

	if (sec_policy_parse(policy_text, sizeof(policy_text) - 1, "matcher.yaml", &policy, &err))
		fail_msg("%s", err.msg);
	return policy;
}

static void check_cases(const char *where, const struct sec_policy *p,
			uint32_t (*decide_fn)(void *ctx, const struct sec_query *q), void *ctx)
{
	struct matcher_case cases[64];
	size_t n = matcher_cases(cases);

	for (size_t i = 0; i < n; i++) {
		uint32_t verdict = decide_fn(ctx, &cases[i].q);
		char got[128] = "";

		if (verdict) {
			assert_true(SEC_VERDICT_RULE(verdict) < p->nrules);
			snprintf(got, sizeof(got), "%s %s", p->rules[SEC_VERDICT_RULE(verdict)].name,
				 sec_action_name(SEC_VERDICT_ACTION(verdict)));
		}
		if (strcmp(got, cases[i].expect))
			fail_msg("%s, case %zu (%s): got '%s', expected '%s'", where, i,
				 cases[i].q.path.str, got, cases[i].expect);
	}
}

static uint32_t runtime_decide(void *ctx, const struct sec_query *q)
{
	struct sluice_error err = { 0 };
	uint32_t verdict;

	if (sec_matcher_decide(ctx, q, &verdict, &err))
		fail_msg("test run: %s", err.msg);
	return verdict;
}

static void test_matcher(void **state)
{
	struct sec_policy *policy = matcher_policy();
	struct sluice_error err = { 0 };
	struct sec_matcher *m;

	(void)state;
	m = sec_matcher_open(user_o, policy, NULL, &err);
	if (!m)
		fail_msg("%s", err.msg);
	check_cases("runtime", policy, runtime_decide, m);
	sec_matcher_close(m);
	sec_policy_free(policy);
}

struct kernel_matcher {
	struct sluice_kernel_object *obj;
	size_t prog;
};

static uint32_t kernel_decide(void *ctx, const struct sec_query *q)
{
	struct kernel_matcher *k = ctx;
	uint8_t packet[14 + sizeof(*q)] = { 0 };
	struct sluice_kernel_run run = { .sz = sizeof(run), .data_in = packet,
					 .data_size_in = sizeof(packet) };
	struct sluice_error err = { 0 };

	memcpy(packet + 14, q, sizeof(*q));
	if (sluice_kernel_test_run(k->obj, k->prog, &run, &err))
		fail_msg("kernel test run: %s", err.msg);
	return run.retval;
}

/* The same program and maps in the kernel: its verdicts are the runtime's. */
static void test_matcher_kernel(void **state)
{
	struct sluice_error err = { 0 };
	struct kernel_matcher k = { 0 };
	struct sec_policy *policy;
	struct sec_map_writer w;
	struct sluice_kernel_verdict v;

	(void)state;
	if (sluice_kernel_probe(&err)) {
		printf("skipped: %s\n", err.msg);
		skip();
	}
	policy = matcher_policy();
	k.obj = sluice_kernel_open(user_o, NULL, &err);
	if (!k.obj)
		fail_msg("%s", err.msg);
	assert_int_equal(sluice_kernel_load_prog(k.obj, k.prog, &v, &err), 0);
	if (!v.accepted)
		fail_msg("the kernel rejected sec_decide: %s", v.message);
	w = (struct sec_map_writer){ .update = sec_kernel_map_update, .ctx = k.obj };
	if (sec_policy_compile(policy, 0, &w, &err))
		fail_msg("%s", err.msg);
	check_cases("kernel", policy, kernel_decide, &k);
	sluice_kernel_close(k.obj);
	sec_policy_free(policy);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_examples),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_matcher),
		cmocka_unit_test(test_matcher_kernel),
	};

	if (argc != 4) {
		fprintf(stderr, "usage: %s EXAMPLES_DIR BAD_DIR USER_O\n", argv[0]);
		return 2;
	}
	examples_dir = argv[1];
	bad_dir = argv[2];
	user_o = argv[3];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
