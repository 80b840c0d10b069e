/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "errmsg.h"
#include "wire.h"

void k8s_files_free(struct k8s_file *files, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(files[i].name);
		free(files[i].data);
	}
	free(files);
}

/* One file, or standard input for "-" (what `kubectl get -o yaml` pipes in). */
static int read_one(const char *path, struct k8s_file *f, struct sluice_error *err)
{
	FILE *in = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	size_t cap = 4096;
	int failed;

	if (!in)
		return sluice_fail(err, errno, "%s: %s", path, strerror(errno));
	f->name = strdup(path);
	f->data = malloc(cap);
	f->len = 0;
	while (f->name && f->data) {
		size_t got = fread(f->data + f->len, 1, cap - f->len, in);
		char *bigger;

		f->len += got;
		if (f->len < cap)
			break;
		bigger = f->len < K8S_WIRE_MAX ? realloc(f->data, cap * 2) : NULL;
		if (!bigger) {
			free(f->data);
			f->data = NULL;
			break;
		}
		f->data = bigger;
		cap *= 2;
	}
	failed = ferror(in);
	if (in != stdin)
		fclose(in);
	if (!f->name || !f->data || failed)
		return sluice_fail(err, failed ? EIO : ENOMEM, "%s: cannot read", path);
	return 0;
}

static bool manifest_name(const char *name)
{
	size_t len = strlen(name);

	return name[0] != '.' &&
	       ((len > 5 && !strcmp(name + len - 5, ".yaml")) ||
		(len > 4 && !strcmp(name + len - 4, ".yml")) ||
		(len > 5 && !strcmp(name + len - 5, ".json")));
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int k8s_files_read(const char *path, struct k8s_file **files, size_t *n,
		   struct sluice_error *err)
{
	struct stat st;
	struct dirent *d;
	char **names = NULL;
	size_t count = 0;
	DIR *dir;
	int ret = 0;

	*files = NULL;
	*n = 0;
	if (strcmp(path, "-") && stat(path, &st))
		return sluice_fail(err, errno, "%s: %s", path, strerror(errno));
	if (!strcmp(path, "-") || !S_ISDIR(st.st_mode)) {
		*files = calloc(1, sizeof(**files));
		if (!*files)
			return sluice_fail(err, ENOMEM, "out of memory");
		ret = read_one(path, *files, err);
		if (ret) {
			k8s_files_free(*files, 1);
			*files = NULL;
			return ret;
		}
		*n = 1;
		return 0;
	}
	dir = opendir(path);
	if (!dir)
		return sluice_fail(err, errno, "%s: %s", path, strerror(errno));
	while ((d = readdir(dir))) {
		char **more;

		if (!manifest_name(d->d_name))
			continue;
		more = realloc(names, (count + 1) * sizeof(*names));
		if (!more || asprintf(&more[count], "%s/%s", path, d->d_name) < 0) {
			names = more ? more : names;
			ret = sluice_fail(err, ENOMEM, "out of memory");
			break;
		}
		names = more;
		count++;
	}
	closedir(dir);
	if (!ret && !count)
		ret = sluice_fail(err, ENOENT, "%s: no *.yaml, *.yml or *.json files", path);
	if (!ret) {
		qsort(names, count, sizeof(*names), by_name);
		*files = calloc(count, sizeof(**files));
		if (!*files)
			ret = sluice_fail(err, ENOMEM, "out of memory");
	}
	for (size_t i = 0; !ret && i < count; i++) {
		ret = read_one(names[i], &(*files)[i], err);
		*n = i + 1;
	}
	for (size_t i = 0; i < count; i++)
		free(names[i]);
	free(names);
	if (ret) {
		k8s_files_free(*files, *n);
		*files = NULL;
		*n = 0;
	}
	return ret;
}

int k8s_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -errno;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Everything until EOF, NUL-terminated. */
static int read_all(int fd, char **out, size_t *len)
{
	size_t cap = 4096;
	char *buf = malloc(cap);

	*len = 0;
	while (buf) {
		ssize_t r = read(fd, buf + *len, cap - *len - 1);
		char *bigger;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			return -errno;
		}
		if (r == 0)
			break;
		*len += (size_t)r;
		if (*len + 1 < cap)
			continue;
		bigger = cap < K8S_WIRE_MAX ? realloc(buf, cap * 2) : NULL;
		if (!bigger) {
			free(buf);
			return -E2BIG;
		}
		buf = bigger;
		cap *= 2;
	}
	if (!buf)
		return -ENOMEM;
	buf[*len] = 0;
	*out = buf;
	return 0;
}

int k8s_send(const char *socket_path, const struct k8s_request *req, int *out,
	     struct sluice_error *err)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char head[128];
	int fd, ret = 0;

	if (strlen(socket_path) >= sizeof(addr.sun_path))
		return sluice_fail(err, ENAMETOOLONG, "%s: socket path too long", socket_path);
	strcpy(addr.sun_path, socket_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sluice_fail(err, errno, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		ret = sluice_fail(err, errno, "no agent at %s (%s): start one with `sluice k8s agent`",
				  socket_path, strerror(errno));
		close(fd);
		return ret;
	}
	snprintf(head, sizeof(head), "%s %s\n%zu\n", req->verb, req->arg, req->n_files);
	ret = k8s_write_all(fd, head, strlen(head));
	for (size_t i = 0; !ret && i < req->n_files; i++) {
		const struct k8s_file *f = &req->files[i];

		snprintf(head, sizeof(head), "%zu %zu\n", strlen(f->name), f->len);
		if (!(ret = k8s_write_all(fd, head, strlen(head))) &&
		    !(ret = k8s_write_all(fd, f->name, strlen(f->name))))
			ret = k8s_write_all(fd, f->data, f->len);
	}
	if (ret) {
		close(fd);
		return sluice_fail(err, -ret, "sending to the agent: %s", strerror(-ret));
	}
	shutdown(fd, SHUT_WR);
	*out = fd;
	return 0;
}

int k8s_call(const char *socket_path, const struct k8s_request *req, bool *ok, char **reply,
	     struct sluice_error *err)
{
	char *text = NULL, *nl;
	size_t len;
	int fd, ret = k8s_send(socket_path, req, &fd, err);

	if (ret)
		return ret;
	if ((ret = read_all(fd, &text, &len))) {
		ret = sluice_fail(err, -ret, "reading the agent's reply: %s", strerror(-ret));
		goto out;
	}
	nl = strchr(text, '\n');
	if (!nl || (strncmp(text, "ok\n", 3) && strncmp(text, "error\n", 6))) {
		free(text);
		ret = sluice_fail(err, EPROTO, "the agent's reply is malformed");
		goto out;
	}
	*ok = text[0] == 'o';
	memmove(text, nl + 1, strlen(nl + 1) + 1);
	*reply = text;
out:
	close(fd);
	return ret;
}

void k8s_request_free(struct k8s_request *req)
{
	k8s_files_free(req->files, req->n_files);
	req->files = NULL;
	req->n_files = 0;
}

/* One "A B\n" header line of numbers or words at *p. */
static const char *header(const char *p, const char *end, char *line, size_t size)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	if (!nl || (size_t)(nl - p) >= size)
		return NULL;
	memcpy(line, p, (size_t)(nl - p));
	line[nl - p] = 0;
	return nl + 1;
}

int k8s_request_read(int fd, struct k8s_request *req, struct sluice_error *err)
{
	char *buf, line[128];
	const char *p, *end;
	size_t len, n = 0;
	int ret;

	memset(req, 0, sizeof(*req));
	if ((ret = read_all(fd, &buf, &len)))
		return sluice_fail(err, -ret, "reading the request: %s", strerror(-ret));
	p = buf;
	end = buf + len;
	if (!(p = header(p, end, line, sizeof(line))) ||
	    sscanf(line, "%31s %63s", req->verb, req->arg) < 1 ||
	    !(p = header(p, end, line, sizeof(line))) || sscanf(line, "%zu", &n) != 1 ||
	    n > 100000)
		goto bad;
	req->files = calloc(n + 1, sizeof(*req->files));
	if (!req->files)
		goto bad;
	for (size_t i = 0; i < n; i++) {
		struct k8s_file *f = &req->files[i];
		size_t nlen, dlen;

		if (!(p = header(p, end, line, sizeof(line))) ||
		    sscanf(line, "%zu %zu", &nlen, &dlen) != 2 || nlen > 4096 ||
		    dlen > (size_t)(end - p) || nlen > (size_t)(end - p) - dlen)
			goto bad;
		f->name = strndup(p, nlen);
		f->data = malloc(dlen + 1);
		req->n_files++;
		if (!f->name || !f->data)
			goto bad;
		memcpy(f->data, p + nlen, dlen);
		f->data[dlen] = 0;
		f->len = dlen;
		p += nlen + dlen;
	}
	free(buf);
	return 0;
bad:
	free(buf);
	k8s_request_free(req);
	return sluice_fail(err, EPROTO, "malformed request");
}
