/* SPDX-License-Identifier: MIT */
/*
 * Manifests: the bundled ones parse, check and give the expected frontends
 * and backends; each file in bad/ fails with the message its first line
 * expects ("# expect: ..." while parsing, "# expect-store: ..." when checked
 * against the rest of its file); changes merge and delete as kubectl's
 * apply would; a failed parse leaves the store as it was.
 * usage: test_manifest EXAMPLES_K8S_DIR BAD_DIR
 */
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "k8s/model.h"

static const char *examples_dir, *bad_dir;

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = 0;
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Parse dir/name into s, naming it name in messages. */
static int parse_file(const char *dir, const char *name, struct k8s_store *s,
		      struct sluice_error *err)
{
	char path[1024];
	size_t len;
	char *text;
	int ret;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	text = slurp(path, &len);
	ret = k8s_parse(name, text, len, s, err);
	free(text);
	return ret;
}

static void bundled(struct k8s_store *s)
{
	static const char *const files[] = { "00-namespaces.yaml", "10-pods.yaml", "20-web.yaml",
					     "30-api.yaml" };
	struct sluice_error err = { 0 };

	for (size_t i = 0; i < 4; i++)
		assert_int_equal(parse_file(examples_dir, files[i], s, &err), 0);
	assert_int_equal(k8s_store_validate(s, &err), 0);
}

static const struct k8s_node node = { .name = "node-1" };

/* node-1 with an address, for node ports */
static struct k8s_node node_with_ip(void)
{
	struct k8s_node n = { .name = "node-1", .n_ips = 1 };

	k8s_ip_parse("10.0.0.1", &n.ips[0]);
	return n;
}

/* The frontend at addr:port/proto, or NULL. */
static const struct k8s_frontend *frontend(const struct k8s_model *m, const char *addr,
					   uint16_t port, uint8_t proto)
{
	struct k8s_ip ip;

	assert_int_equal(k8s_ip_parse(addr, &ip), 0);
	for (size_t i = 0; i < m->n; i++)
		if (k8s_ip_equal(&m->v[i].ip, &ip) && m->v[i].port == port && m->v[i].proto == proto)
			return &m->v[i];
	return NULL;
}

static void test_bundled(void **state)
{
	struct k8s_store s = { 0 };
	struct k8s_model m;
	struct sluice_error err = { 0 };
	const struct k8s_frontend *f;
	char name[64];

	(void)state;
	bundled(&s);
	assert_int_equal(s.n, 14);
	assert_int_equal(k8s_model_build(&s, &node, NULL, NULL, &m, &err), 0);
	/* web: 2 ports x 2 families; api: ClusterIP (IPv4) and no node IP given */
	assert_int_equal(m.n, 5);
	f = frontend(&m, "10.96.0.10", 80, IPPROTO_TCP);
	assert_non_null(f);
	assert_int_equal(f->n_backends, 3);
	assert_string_equal(k8s_backend_name(&f->backends[0], name, sizeof(name)),
			    "10.244.1.11:8080");
	assert_string_equal(f->backends[0].pod, "web-1");
	assert_int_equal(f->maglev_size, 1021);
	f = frontend(&m, "fd00:10:96::a", 53, IPPROTO_UDP);
	assert_non_null(f);
	assert_int_equal(f->n_backends, 3);
	assert_string_equal(k8s_backend_name(&f->backends[2], name, sizeof(name)),
			    "[fd00:10:244:1::d]:8080");
	/* api's backends come from its legacy Endpoints */
	f = frontend(&m, "10.96.0.20", 80, IPPROTO_TCP);
	assert_non_null(f);
	assert_int_equal(f->n_backends, 3);
	assert_string_equal(f->backends[1].pod, "api-2");
	k8s_model_free(&m);
	k8s_store_free(&s);
}

/* Node ports on the node's addresses; an endpoint that is not ready is left out. */
static void test_change_and_nodeport(void **state)
{
	struct k8s_node with_ip = node_with_ip();
	struct k8s_store s = { 0 }, change = { 0 }, next;
	struct k8s_model m;
	struct sluice_error err = { 0 };
	const struct k8s_frontend *f;

	(void)state;
	bundled(&s);
	assert_int_equal(parse_file(examples_dir, "changes/web-without-web-3.yaml", &change, &err), 0);
	assert_int_equal(k8s_store_merge(&s, &change, false, &next, &err), 0);
	assert_int_equal(next.n, 14); /* replaced, not added */
	assert_int_equal(k8s_store_validate(&next, &err), 0);
	assert_int_equal(k8s_model_build(&next, &with_ip, NULL, NULL, &m, &err), 0);
	assert_int_equal(m.n, 6);
	assert_int_equal(frontend(&m, "10.96.0.10", 80, IPPROTO_TCP)->n_backends, 2);
	assert_int_equal(frontend(&m, "fd00:10:96::a", 80, IPPROTO_TCP)->n_backends, 3);
	f = frontend(&m, "10.0.0.1", 30080, IPPROTO_TCP);
	assert_non_null(f);
	assert_true(f->node_port);
	assert_int_equal(f->n_backends, 3);
	k8s_model_free(&m);
	k8s_store_free(&next);
	/* delete: the objects of the file go, the rest stays */
	assert_int_equal(k8s_store_merge(&s, &change, true, &next, &err), 0);
	assert_int_equal(next.n, 13);
	assert_null(k8s_store_find(&next, K8S_ENDPOINT_SLICE, "shop", "web-ipv4"));
	assert_non_null(k8s_store_find(&next, K8S_ENDPOINT_SLICE, "shop", "web-ipv6"));
	k8s_store_free(&next);
	k8s_store_free(&change);
	k8s_store_free(&s);
}

static const char selector_yaml[] =
	"apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\n"
	"spec:\n  type: NodePort\n  clusterIP: 10.96.0.30\n  externalTrafficPolicy: Local\n"
	"  sessionAffinity: ClientIP\n  selector: {app: web}\n"
	"  ports:\n    - {name: http, port: 80, targetPort: http, nodePort: 30090}\n"
	"---\napiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n"
	"---\napiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: shop, labels: {app: web}}\n"
	"spec:\n  nodeName: node-1\n  containers:\n    - ports: [{name: http, containerPort: 8080}]\n"
	"status: {podIP: 10.244.1.1}\n"
	"---\napiVersion: v1\nkind: Pod\nmetadata: {name: b, namespace: shop, labels: {app: web}}\n"
	"spec:\n  nodeName: node-2\n  containers:\n    - ports: [{name: http, containerPort: 9090}]\n"
	"status: {podIP: 10.244.1.2}\n"
	"---\napiVersion: v1\nkind: Pod\nmetadata: {name: c, namespace: shop, labels: {app: db}}\n"
	"spec:\n  nodeName: node-1\nstatus: {podIP: 10.244.1.3}\n";

/*
 * Without endpoint sets, the selector's Pods at the named target port;
 * externalTrafficPolicy Local keeps only this node's on the node port.
 */
static void test_selector_and_local(void **state)
{
	struct k8s_node with_ip = node_with_ip();
	struct k8s_store s = { 0 };
	struct k8s_model m;
	struct sluice_error err = { 0 };
	const struct k8s_frontend *f;

	(void)state;
	assert_int_equal(k8s_parse("sel.yaml", selector_yaml, sizeof(selector_yaml) - 1, &s, &err), 0);
	assert_int_equal(k8s_store_validate(&s, &err), 0);
	assert_int_equal(k8s_model_build(&s, &with_ip, NULL, NULL, &m, &err), 0);
	f = frontend(&m, "10.96.0.30", 80, IPPROTO_TCP);
	assert_non_null(f);
	assert_int_equal(f->n_backends, 2);
	assert_int_equal(f->backends[0].port, 8080);
	assert_int_equal(f->backends[1].port, 9090);
	assert_true(f->service->u.svc.affinity);
	assert_int_equal(f->service->u.svc.affinity_timeout, 10800);
	f = frontend(&m, "10.0.0.1", 30090, IPPROTO_TCP);
	assert_non_null(f);
	assert_int_equal(f->n_backends, 1);
	assert_string_equal(f->backends[0].pod, "a");
	k8s_model_free(&m);
	k8s_store_free(&s);
}

/* A file whose second object is bad adds nothing, not even the first. */
static void test_all_or_nothing(void **state)
{
	static const char yaml[] = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n"
				   "apiVersion: v1\nkind: Namespace\nmetadata: {name: B}\n";
	struct k8s_store s = { 0 };
	struct sluice_error err = { 0 };

	(void)state;
	assert_int_equal(k8s_parse("ns.yaml", yaml, sizeof(yaml) - 1, &s, &err), -EINVAL);
	assert_int_equal(s.n, 0);
	assert_non_null(strstr(err.msg, "ns.yaml:7: Namespace B: metadata.name"));
	k8s_store_free(&s);
}

/* Every file of bad/ fails with the message its first line expects. */
static void test_bad_manifests(void **state)
{
	DIR *dir = opendir(bad_dir);
	struct dirent *d;
	size_t checked = 0, wrong = 0;

	(void)state;
	assert_non_null(dir);
	while ((d = readdir(dir))) {
		struct sluice_error err = { 0 };
		struct k8s_store s = { 0 };
		char path[1024], expect[512], *text, *nl;
		bool store_level;
		size_t len;
		int ret;

		if (!strstr(d->d_name, ".yaml"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", bad_dir, d->d_name);
		text = slurp(path, &len);
		nl = strchr(text, '\n');
		assert_non_null(nl);
		store_level = !strncmp(text, "# expect-store: ", 16);
		assert_true(store_level || !strncmp(text, "# expect: ", 10));
		snprintf(expect, sizeof(expect), "%.*s", (int)(nl - text - (store_level ? 16 : 10)),
			 text + (store_level ? 16 : 10));
		free(text);
		ret = parse_file(bad_dir, d->d_name, &s, &err);
		if (store_level) {
			assert_int_equal(ret, 0);
			ret = k8s_store_validate(&s, &err);
		}
		if (ret == 0 || !strstr(err.msg, expect)) {
			print_error("%s: expected \"%s\"\n  got %s\"%s\"\n", d->d_name, expect,
				    ret ? "" : "success ", err.msg);
			wrong++;
		}
		k8s_store_free(&s);
		checked++;
	}
	closedir(dir);
	print_message("%zu of %zu bad manifests rejected as expected\n", checked - wrong, checked);
	assert_int_equal(wrong, 0);
	assert_true(checked >= 30);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bundled),
		cmocka_unit_test(test_change_and_nodeport),
		cmocka_unit_test(test_selector_and_local),
		cmocka_unit_test(test_all_or_nothing),
		cmocka_unit_test(test_bad_manifests),
	};

	if (argc != 3) {
		fprintf(stderr, "usage: %s EXAMPLES_K8S_DIR BAD_DIR\n", argv[0]);
		return 2;
	}
	examples_dir = argv[1];
	bad_dir = argv[2];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
