/* SPDX-License-Identifier: MIT */
/*
 * The process test_profile.sh profiles: a recognisable call chain
 * (main -> busy_outer -> busy_middle -> busy_inner -> busy_spin) spinning
 * on the CPU for the seconds given.  Built with frame pointers and no
 * inlining or tail calls, so that the kernel can walk its stack.
 */
#include <stdlib.h>
#include <time.h>

static volatile unsigned long sink;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__attribute__((noinline)) void busy_spin(double seconds)
{
	double end = now() + seconds;

	while (now() < end)
		for (unsigned long i = 0; i < 1000000; i++)
			sink += i;
}

/* each level does something after its call, so that the call stays a call */
__attribute__((noinline)) void busy_inner(double seconds)
{
	busy_spin(seconds);
	sink++;
}

__attribute__((noinline)) void busy_middle(double seconds)
{
	busy_inner(seconds);
	sink++;
}

__attribute__((noinline)) void busy_outer(double seconds)
{
	busy_middle(seconds);
	sink++;
}

int main(int argc, char **argv)
{
	busy_outer(argc > 1 ? atof(argv[1]) : 1.0);
	return 0;
}
