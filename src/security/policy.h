/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_SECURITY_POLICY_H
#define SLUICE_SECURITY_POLICY_H

/*
 * Runtime-security policies (docs/security.md): a YAML file of rules, each
 * matching execs, file opens or outbound connections and naming an action.
 * Loading validates everything; every error names the file, the line, the
 * rule and the field ("p.yaml:12: rule 'no-nc': exec.binary[0]: must be an
 * absolute path").
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sluice/error.h>

#include "../../security/sec.h"

struct sec_strings {
	char **v;
	size_t n;
};

struct sec_cidr {
	int family;        /* AF_INET or AF_INET6 */
	uint8_t addr[16];  /* network order, host bits cleared */
	uint8_t prefix_len;
};

struct sec_rule {
	char *name;
	uint32_t kind;     /* enum sec_kind */
	uint32_t action;   /* enum sec_action */
	/* exec */
	struct sec_strings binary, binary_prefix, parent, parent_prefix, args;
	/* file */
	struct sec_strings path, path_prefix;
	bool write_only;
	/* connect */
	struct sec_cidr *cidrs;
	size_t ncidrs;
	uint16_t *ports;
	size_t nports;
	uint32_t protocols; /* 1 << SEC_PROTO_TCP | 1 << SEC_PROTO_UDP */
};

struct sec_policy {
	char *name;
	struct sec_rule *rules;
	size_t nrules;
};

int sec_policy_load(const char *path, struct sec_policy **out, struct sluice_error *err);
/* The same from text; file names it in messages. */
int sec_policy_parse(const char *text, size_t size, const char *file, struct sec_policy **out,
		     struct sluice_error *err);
void sec_policy_free(struct sec_policy *policy);

const char *sec_kind_name(uint32_t kind);
const char *sec_action_name(uint32_t action);
const char *sec_taken_name(uint32_t taken);

#endif
