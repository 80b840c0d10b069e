/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_HELPERS_INTERNAL_H
#define SLUICE_HELPERS_INTERNAL_H

#include <stdbool.h>

#include <stddef.h>

#include <sluice/helpers.h>
#include <sluice/insn.h>
#include <sluice/interp.h>

/* What a helper may see of, and do to, the run that called it. */
struct sluice_run {
	void *user;
	bool stopped;     /* set by sluice_run_stop: end the program after the call */
	uint64_t stop_r0;
};

/*
 * Whether a user-space engine can run the instruction at pc: not one of the
 * loader's unresolved pseudo forms, not a kernel function call, and a helper
 * call only to a registered id.  0, or -EINVAL / -ENOENT naming pc.
 */
int helpers_check_runnable(const struct sluice_helpers *helpers,
			   const struct sluice_insn *insn, size_t pc,
			   struct sluice_error *err);

/* The kernel's <linux/filter.h> offsets for loads relative to the headers. */
#define SKF_NET_OFF (-0x100000)
#define SKF_LL_OFF (-0x200000)

/*
 * Where a legacy packet load (LD_ABS / LD_IND) of size bytes at off reads,
 * or NULL when that is outside the packet, as the kernel's
 * bpf_internal_load_pointer_neg_helper decides for negative offsets.
 */
static inline const uint8_t *exec_packet_at(const struct sluice_exec *exec, int64_t off,
					    unsigned size)
{
	const uint8_t *packet = exec->packet, *at, *lowest = packet;

	if (off >= 0)
		return (uint64_t)off + size <= exec->packet_len ? packet + off : NULL;
	if (off >= SKF_NET_OFF && exec->packet_net)
		at = (const uint8_t *)exec->packet_net + (off - SKF_NET_OFF);
	else if (off < SKF_NET_OFF && off >= SKF_LL_OFF && exec->packet_ll)
		at = (const uint8_t *)exec->packet_ll + (off - SKF_LL_OFF);
	else
		return NULL;
	if (exec->packet_ll && (const uint8_t *)exec->packet_ll < lowest)
		lowest = exec->packet_ll;
	return at >= lowest && at + size <= packet + exec->packet_len ? at : NULL;
}

/* One past the largest id that can be registered so far (array bound). */
uint32_t helpers_id_limit(const struct sluice_helpers *helpers);

#endif
