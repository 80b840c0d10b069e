/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_K8S_WIRE_H
#define SLUICE_K8S_WIRE_H

#include <stdbool.h>
#include <stddef.h>

#include <sluice/error.h>

/*
 * The agent's unix-socket protocol, one request per connection:
 *   request:  "VERB ARG\n" then, for apply and delete, "N\n" and N files,
 *             each "NAMELEN DATALEN\n" NAME DATA; then the client shuts
 *             down its writing side
 *   reply:    "ok\n" or "error\n", then the text to show, until EOF
 * The files travel whole so that the agent's messages name them as the
 * user wrote them.  One exception: "flows" answers "ok\n", "flows SIZE\n"
 * and binary records (struct k8s_flow), and with its follow filter keeps
 * the connection open for new ones (agent.c).
 */

#define K8S_DEFAULT_SOCKET "/run/sluice/k8s.sock"
/* A bound on one request (manifests for 10,000 services fit easily). */
#define K8S_WIRE_MAX (256u << 20)

struct k8s_file {
	char *name;
	char *data;
	size_t len;
};

struct k8s_request {
	char verb[32];
	char arg[64];
	struct k8s_file *files;
	size_t n_files;
};

/*
 * Read a manifest path: a file, a directory's *.yaml, *.yml, *.json in name
 * order, or "-" for standard input.
 */
int k8s_files_read(const char *path, struct k8s_file **files, size_t *n,
		   struct sluice_error *err);
void k8s_files_free(struct k8s_file *files, size_t n);

/*
 * The client side, for a reply read as it comes (`sluice flows --follow`):
 * connect, send the request, shut the writing side; *fd is the agent's.
 */
int k8s_send(const char *socket_path, const struct k8s_request *req, int *fd,
	     struct sluice_error *err);
/* The client side: send the request, return the agent's reply (text in *reply, malloc'd). */
int k8s_call(const char *socket_path, const struct k8s_request *req, bool *ok, char **reply,
	     struct sluice_error *err);

/* The agent side: read a request from a connected socket (free with k8s_request_free). */
int k8s_request_read(int fd, struct k8s_request *req, struct sluice_error *err);
void k8s_request_free(struct k8s_request *req);
/* Write the whole buffer, going on after short writes. */
int k8s_write_all(int fd, const void *buf, size_t len);

#endif
