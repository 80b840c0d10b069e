/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_PROFILE_STACKS_H
#define SLUICE_PROFILE_STACKS_H

/*
 * Sampled stacks in Brendan Gregg's folded form: one line per distinct
 * stack, its frames from the root (the process name) to the leaf joined by
 * ';', then a space and how many samples had exactly that stack:
 *
 *   worker;main;parse;memcpy 12
 *
 * Both samplers (kernel, runtime) produce it; the flame graph and
 * `--folded FILE` consume it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <sluice/error.h>

struct prof_stacks;

struct prof_stacks *prof_stacks_new(void);
void prof_stacks_free(struct prof_stacks *s);

/*
 * Count `count` samples of the stack frames[0] (root) .. frames[n - 1]
 * (leaf).  A ';' or a line break inside a frame would end it early in the
 * folded form, so each becomes ':' or ' '; an empty frame is "[unknown]".
 */
int prof_stacks_add(struct prof_stacks *s, const char *const *frames, size_t n,
		    uint64_t count, struct sluice_error *err);

/* Distinct stacks (after merging equal ones) and samples in all. */
size_t prof_stacks_count(struct prof_stacks *s);
uint64_t prof_stacks_total(const struct prof_stacks *s);
/* Stack i in byte order of the folded lines, its frames joined by ';'. */
const char *prof_stacks_line(struct prof_stacks *s, size_t i, uint64_t *count);

/* The folded lines, sorted, into f; -EIO when the write fails. */
int prof_stacks_write_folded(struct prof_stacks *s, FILE *f, struct sluice_error *err);

#endif
