/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "helper_proto.h"
#include "helpers.h"
#include "helpers/impl.h"
#include "insn.h"

struct helper_entry {
	sluice_helper_fn fn;
	char *name;
};

/* Indexed by id: the kernel's ids are small and dense, so an array is enough. */
struct sluice_helpers {
	struct helper_entry *by_id;
	uint32_t cap;
};

struct sluice_helpers *sluice_helpers_new(struct sluice_error *err)
{
	struct sluice_helpers *helpers = calloc(1, sizeof(*helpers));

	if (!helpers)
		sluice_fail(err, ENOMEM, "out of memory");
	return helpers;
}

void sluice_helpers_free(struct sluice_helpers *helpers)
{
	if (!helpers)
		return;
	for (uint32_t id = 0; id < helpers->cap; id++)
		free(helpers->by_id[id].name);
	free(helpers->by_id);
	free(helpers);
}

int sluice_helpers_add(struct sluice_helpers *helpers, uint32_t id,
		       const char *name, sluice_helper_fn fn,
		       struct sluice_error *err)
{
	if (!fn || !name)
		return sluice_fail(err, EINVAL, "helper %u: no function or name", id);
	if (id > SLUICE_HELPER_MAX_ID)
		return sluice_fail(err, ERANGE, "helper id %u is above %u", id,
				   SLUICE_HELPER_MAX_ID);
	if (id >= helpers->cap) {
		uint32_t cap = helpers->cap ? helpers->cap : 64;
		struct helper_entry *grown;

		while (cap <= id)
			cap *= 2;
		grown = realloc(helpers->by_id, cap * sizeof(*grown));
		if (!grown)
			return sluice_fail(err, ENOMEM, "out of memory");
		memset(grown + helpers->cap, 0,
		       (cap - helpers->cap) * sizeof(*grown));
		helpers->by_id = grown;
		helpers->cap = cap;
	}
	if (helpers->by_id[id].fn)
		return sluice_fail(err, EEXIST, "helper id %u is already '%s'", id,
				   helpers->by_id[id].name);
	helpers->by_id[id].name = strdup(name);
	if (!helpers->by_id[id].name)
		return sluice_fail(err, ENOMEM, "out of memory");
	helpers->by_id[id].fn = fn;
	return 0;
}

sluice_helper_fn sluice_helpers_fn(const struct sluice_helpers *helpers,
				   uint32_t id)
{
	return helpers && id < helpers->cap ? helpers->by_id[id].fn : NULL;
}

const char *sluice_helpers_name(const struct sluice_helpers *helpers,
				uint32_t id)
{
	return helpers && id < helpers->cap ? helpers->by_id[id].name : NULL;
}

/* Every family of the runtime's implementations, each file's list. */
static const struct helper_family *const families[] = {
	&helpers_maps, &helpers_misc, &helpers_trace,
	&helpers_events, &helpers_packet, &helpers_fib,
};

struct sluice_helpers *helpers_for_prog_type(uint32_t prog_type, struct sluice_error *err)
{
	struct sluice_helpers *helpers = sluice_helpers_new(err);

	if (!helpers)
		return NULL;
	for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++) {
		for (size_t i = 0; i < families[f]->count; i++) {
			const struct helper_impl *impl = &families[f]->impls[i];
			const struct helper_proto *proto = helper_proto(impl->id);
			int ret = 0;

			if (!proto)
				ret = sluice_fail(err, EINVAL,
						  "helper %u is implemented but has no prototype",
						  impl->id);
			else if (helper_allowed(proto, prog_type))
				ret = sluice_helpers_add(helpers, impl->id, proto->name, impl->fn,
							 err);
			if (ret < 0) {
				sluice_helpers_free(helpers);
				errno = -ret;
				return NULL;
			}
		}
	}
	return helpers;
}

int helpers_check_runnable(const struct sluice_helpers *helpers,
			   const struct sluice_insn *insn, size_t pc,
			   struct sluice_error *err)
{
	int op = insn_lookup(insn);

	if (sluice_insn_slots(insn) == 2 && op != OP_LDDW)
		return sluice_fail(err, EINVAL,
				   "pc %zu: %s refers to something only a loader resolves (a map, a kernel symbol, a function): run the program from its object",
				   pc, insn_table[op].mnemonic);
	if (op == OP_CALL_KFUNC)
		return sluice_fail(err, EINVAL,
				   "pc %zu: calls kernel function %d, which user space cannot run",
				   pc, insn->imm);
	if (op == OP_CALL && !sluice_helpers_fn(helpers, (uint32_t)insn->imm))
		return sluice_fail(err, ENOENT, "pc %zu: call to unknown helper %u", pc,
				   (uint32_t)insn->imm);
	return 0;
}

uint32_t helpers_id_limit(const struct sluice_helpers *helpers)
{
	return helpers ? helpers->cap : 0;
}

void sluice_run_stop(struct sluice_run *run, uint64_t r0)
{
	run->stopped = true;
	run->stop_r0 = r0;
}

void *sluice_run_user(const struct sluice_run *run)
{
	return run->user;
}
