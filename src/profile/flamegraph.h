/* SPDX-License-Identifier: MIT */
#ifndef SLUICE_PROFILE_FLAMEGRAPH_H
#define SLUICE_PROFILE_FLAMEGRAPH_H

/*
 * A flame graph (Brendan Gregg's) of folded stacks, as a standalone SVG:
 * the root "all" at the bottom spanning the width, each frame a rectangle
 * above its caller as wide as its share of the samples, siblings in name
 * order from the left.  Each rectangle has a <title> tooltip (name, samples,
 * percentage) and its name clipped to fit; colours come from a hash of the
 * name, so one function has one colour in every graph.
 *
 * Geometry, for tests and readers: frames are FLAME_FRAME_HEIGHT apart,
 * x = FLAME_XPAD + samples before it * scale, width = samples * scale,
 * scale = (width - 2 * FLAME_XPAD) / total samples; frames narrower than
 * FLAME_MIN_WIDTH pixels are left out with what they called.  Numbers are
 * printed with two decimals.
 */
#include <stdio.h>

#include <sluice/error.h>

#include "profile/stacks.h"

#define FLAME_XPAD 10.0
#define FLAME_FRAME_HEIGHT 16.0
#define FLAME_MIN_WIDTH 0.1
#define FLAME_CHAR_WIDTH 7.2 /* 12px monospace */

struct prof_flame_opts {
	const char *title; /* NULL: "Flame Graph" */
	unsigned width;    /* pixels; 0: 1200 */
};

int prof_flamegraph_write(struct prof_stacks *s, const struct prof_flame_opts *opts, FILE *out,
			  struct sluice_error *err);

/* The text of name as it fits in a frame of that width ("" when nothing fits). */
void prof_flame_clip(const char *name, double width, char *buf, size_t size);

#endif
