/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "json.h"
#include "security/event.h"

int64_t sec_monotonic_to_realtime(void)
{
	struct timespec mono, real;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	return (real.tv_sec - mono.tv_sec) * 1000000000ll + (real.tv_nsec - mono.tv_nsec);
}

/* Strings in events are fixed arrays the kernel may have filled to the brim. */
static void copy_str(char *dst, size_t size, const char *src, size_t src_size)
{
	size_t n = strnlen(src, src_size);

	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void join_args(char *out, size_t size, const struct sec_query *q)
{
	size_t used = 0;

	out[0] = '\0';
	for (uint32_t i = 0; i < q->nargs && i < SEC_ARGS_MAX && used + 1 < size; i++) {
		char arg[SEC_ARG_MAX];

		copy_str(arg, sizeof(arg), q->args[i], sizeof(q->args[i]));
		used += (size_t)snprintf(out + used, size - used, "%s%s", i ? " " : "", arg);
	}
}

static void format_address(char *out, size_t size, const struct sec_query *q)
{
	char ip[INET6_ADDRSTRLEN];
	const char *proto = q->proto == SEC_PROTO_TCP ? "tcp" : q->proto == SEC_PROTO_UDP ? "udp"
											  : "?";

	inet_ntop(q->family == AF_INET ? AF_INET : AF_INET6, q->addr, ip, sizeof(ip));
	snprintf(out, size, q->family == AF_INET ? "%s:%u/%s" : "[%s]:%u/%s", ip, q->port, proto);
}

static void format_event(FILE *out, bool json, const char *rule, const struct sec_event *ev,
			 int64_t to_realtime)
{
	char comm[SEC_COMM_MAX + 1], binary[SEC_PATH_MAX + 1], path[SEC_PATH_MAX + 1];
	char parent[SEC_PATH_MAX + 1], detail[SEC_ARGS_MAX * SEC_ARG_MAX + 64], when[32];
	int64_t real = (int64_t)ev->time_ns + to_realtime;
	time_t secs = (time_t)(real / 1000000000);
	struct tm tm;

	copy_str(comm, sizeof(comm), ev->comm, sizeof(ev->comm));
	copy_str(binary, sizeof(binary), ev->binary, sizeof(ev->binary));
	copy_str(path, sizeof(path), ev->q.path.str, ev->q.path.prefixlen / 8);
	copy_str(parent, sizeof(parent), ev->q.parent.str, ev->q.parent.prefixlen / 8);
	gmtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	snprintf(when + strlen(when), sizeof(when) - strlen(when), ".%06u",
		 (unsigned)(real % 1000000000 / 1000));
	if (ev->q.kind == SEC_KIND_EXEC)
		join_args(detail, sizeof(detail), &ev->q);
	else if (ev->q.kind == SEC_KIND_CONNECT)
		format_address(detail, sizeof(detail), &ev->q);
	else
		detail[0] = '\0';
	if (json) {
		struct json *j = json_new(out);

		json_object_begin(j, NULL);
		json_u64(j, "time_ns", (uint64_t)real);
		json_string(j, "kind", sec_kind_name(ev->q.kind));
		json_string(j, "rule", rule);
		json_string(j, "action", sec_action_name(ev->action));
		json_string(j, "taken", sec_taken_name(ev->taken));
		json_u64(j, "pid", ev->tgid);
		json_u64(j, "tid", ev->pid);
		json_u64(j, "ppid", ev->ppid);
		json_u64(j, "uid", ev->uid);
		json_string(j, "comm", comm);
		json_string(j, "binary", binary);
		if (ev->q.kind == SEC_KIND_EXEC) {
			json_string(j, "exec", path);
			json_string(j, "parent", parent);
			json_string(j, "args", detail);
		} else if (ev->q.kind == SEC_KIND_FILE) {
			json_string(j, "path", path);
			json_bool(j, "write", ev->q.write);
		} else {
			json_string(j, "destination", detail);
		}
		json_object_end(j);
		json_free(j);
	} else {
		fprintf(out, "%s %-7s %-13s rule=%s action=%s pid=%u ppid=%u uid=%u comm=%s binary=%s ",
			when, sec_kind_name(ev->q.kind), sec_taken_name(ev->taken), rule,
			sec_action_name(ev->action), ev->tgid, ev->ppid, ev->uid, comm,
			*binary ? binary : "?");
		if (ev->q.kind == SEC_KIND_EXEC)
			fprintf(out, "exec=%s parent=%s args=\"%s\"\n", path, parent, detail);
		else if (ev->q.kind == SEC_KIND_FILE)
			fprintf(out, "path=%s write=%s\n", path, ev->q.write ? "yes" : "no");
		else
			fprintf(out, "destination=%s\n", detail);
	}
}

void sec_event_print(FILE *out, bool json, const char *rule, const struct sec_event *ev,
		     int64_t to_realtime)
{
	char *line = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&line, &len);

	/* one write per event: on an unbuffered stderr shared with the command, no interleaving */
	if (!mem)
		return;
	format_event(mem, json, rule, ev, to_realtime);
	fclose(mem);
	fwrite(line, 1, len, out);
	fflush(out);
	free(line);
}
