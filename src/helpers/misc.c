/* SPDX-License-Identifier: MIT */
/*
 * Clocks, random numbers, the CPU a program runs on, bpf_loop, the spin
 * lock helpers, and the string helpers bpf_strncmp, bpf_strtol and
 * bpf_strtoul.  The clocks are the kernel's own, read through
 * clock_gettime: the values a kernel program would see at the same moment.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <linux/bpf.h>

#include <sluice/maps.h>

#include "helpers/impl.h"

/* bpf_loop's limit on iterations (BPF_MAX_LOOPS). */
#define BPF_MAX_LOOPS (8u * 1024 * 1024)

static uint64_t clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One helper per kernel clock: they take no arguments. */
#define CLOCK_HELPER(name, clock)                                                        \
	static uint64_t name(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,           \
			     uint64_t r5, struct sluice_run *run)                          \
	{                                                                                  \
		(void)r1, (void)r2, (void)r3, (void)r4, (void)r5, (void)run;               \
		return clock_ns(clock);                                                    \
	}
CLOCK_HELPER(ktime_get_ns, CLOCK_MONOTONIC)
CLOCK_HELPER(ktime_get_boot_ns, CLOCK_BOOTTIME)
CLOCK_HELPER(ktime_get_coarse_ns, CLOCK_MONOTONIC_COARSE)
CLOCK_HELPER(ktime_get_tai_ns, CLOCK_TAI)
#undef CLOCK_HELPER

/*
 * User space cannot read jiffies, but it can count them: the coarse clock
 * advances one tick at a time, its resolution is the kernel's TICK_NSEC (so
 * HZ comes out exact), and jiffies start at INITIAL_JIFFIES, five minutes
 * before wrapping 32 bits.  The count runs a little ahead of the kernel's,
 * whose ticks start after its monotonic clock does (56 ticks, 0.2 s, on
 * the machine this was written on): right for intervals, not to the tick.
 */
static uint64_t jiffies64(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
			  struct sluice_run *run)
{
	struct timespec res;
	uint64_t tick_ns, hz;

	(void)r1, (void)r2, (void)r3, (void)r4, (void)r5, (void)run;
	clock_getres(CLOCK_MONOTONIC_COARSE, &res);
	tick_ns = (uint64_t)res.tv_nsec ? (uint64_t)res.tv_nsec : 1;
	hz = 1000000000u / tick_ns;
	return (uint64_t)(uint32_t)-(int64_t)(300 * hz) + clock_ns(CLOCK_MONOTONIC_COARSE) / tick_ns;
}

/*
 * The kernel keeps one pseudo-random state per CPU for programs
 * (bpf_user_rnd_u32); here each thread has one, seeded from getrandom.
 */
static uint64_t get_prandom_u32(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				uint64_t r5, struct sluice_run *run)
{
	static _Thread_local uint64_t state;
	uint64_t z;

	(void)r1, (void)r2, (void)r3, (void)r4, (void)r5, (void)run;
	while (!state)
		if (getrandom(&state, sizeof(state), 0) != sizeof(state))
			state = clock_ns(CLOCK_MONOTONIC);
	/* splitmix64 */
	z = (state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (uint32_t)(z ^ (z >> 31));
}

static uint64_t get_smp_processor_id(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				     uint64_t r5, struct sluice_run *run)
{
	(void)r1, (void)r2, (void)r3, (void)r4, (void)r5;
	return helper_run(run)->cpu;
}

/* The node sysfs files the run's CPU under (cpuN/nodeM), 0 on a machine without NUMA. */
static uint64_t get_numa_node_id(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
				 uint64_t r5, struct sluice_run *run)
{
	char path[64];
	struct dirent *entry;
	unsigned node = 0;
	DIR *dir;

	(void)r1, (void)r2, (void)r3, (void)r4, (void)r5;
	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%u", helper_run(run)->cpu);
	dir = opendir(path);
	if (!dir)
		return 0;
	while ((entry = readdir(dir)))
		if (sscanf(entry->d_name, "node%u", &node) == 1)
			break;
	closedir(dir);
	return node;
}

/*
 * bpf_loop(nr_loops, callback, ctx, flags): callback(i, ctx) for i from 0,
 * until it returns non-zero; the iterations done.  A callback that faults
 * ends the program, and the run fails with the fault.
 */
static uint64_t loop(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
		     struct sluice_run *run)
{
	uint32_t nr_loops = (uint32_t)r1;
	struct sluice_error err = { 0 };

	(void)r5;
	if (r4)
		return helper_result(-EINVAL);
	if (nr_loops > BPF_MAX_LOOPS)
		return helper_result(-E2BIG);
	for (uint32_t i = 0; i < nr_loops; i++) {
		const uint64_t args[5] = { i, r3 };
		uint64_t r0;
		int ret = rt_call_subprog(helper_run(run), r2, args, NULL, &r0, &err);

		if (ret < 0) {
			rt_fault(run, ret, &err);
			return i;
		}
		if (r0)
			return i + 1;
	}
	return nr_loops;
}

static uint64_t spin_lock(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
			  struct sluice_run *run)
{
	(void)r2, (void)r3, (void)r4, (void)r5, (void)run;
	sluice_spin_lock((void *)(uintptr_t)r1);
	return 0;
}

static uint64_t spin_unlock(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
			    struct sluice_run *run)
{
	(void)r2, (void)r3, (void)r4, (void)r5, (void)run;
	sluice_spin_unlock((void *)(uintptr_t)r1);
	return 0;
}

/*
 * bpf_strncmp(s1, s1_sz, s2): the kernel's strncmp, whose result is the
 * sign alone (-1, 0, 1), unlike the C library's.
 */
static uint64_t strncmp_helper(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
			       uint64_t r5, struct sluice_run *run)
{
	const unsigned char *s1 = (const unsigned char *)(uintptr_t)r1;
	const unsigned char *s2 = (const unsigned char *)(uintptr_t)r3;

	(void)r4, (void)r5, (void)run;
	for (uint32_t i = 0; i < (uint32_t)r2; i++) {
		if (s1[i] != s2[i])
			return helper_result(s1[i] < s2[i] ? -1 : 1);
		if (!s1[i])
			break;
	}
	return 0;
}

/* The kernel's isspace: the C locale's, and the no-break space of its Latin-1 table. */
static bool kernel_isspace(unsigned char c)
{
	return isspace(c) || c == 0xa0;
}

/*
 * __bpf_strtoull: the number at the start of buf[0..len) in base flags
 * (0: by its prefix, 8, 10 or 16), after blanks and a '-'; the characters
 * taken, or -EINVAL (no digits, bad flags), -ERANGE (over 64 bits).  At
 * most 63 characters after the sign are read, as the kernel copies them.
 */
static long parse_u64(const char *buf, uint32_t len, uint64_t flags, uint64_t *res,
		      bool *negative)
{
	unsigned base = flags & 0x1f;
	char digits[64];
	size_t at = 0, n, taken = 0;
	bool overflow = false;
	const char *s = digits;

	if (!buf || !len || (base != 0 && base != 8 && base != 10 && base != 16) ||
	    (flags & ~(uint64_t)0x1f))
		return -EINVAL;
	while (at < len && kernel_isspace((unsigned char)buf[at]))
		at++;
	*negative = at < len && buf[at] == '-';
	if (*negative)
		at++;
	if (at == len)
		return -EINVAL;
	n = len - at < sizeof(digits) - 1 ? len - at : sizeof(digits) - 1;
	memcpy(digits, buf + at, n);
	digits[n] = 0;
	/* _parse_integer_fixup_radix */
	if (base == 0 && s[0] != '0')
		base = 10;
	else if (base == 0)
		base = tolower(s[1]) == 'x' && isxdigit((unsigned char)s[2]) ? 16 : 8;
	if (base == 16 && s[0] == '0' && tolower(s[1]) == 'x')
		s += 2;
	*res = 0;
	for (;; s++, taken++) {
		int c = tolower((unsigned char)*s);
		unsigned digit = isdigit(c) ? (unsigned)(c - '0') :
				 c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10) : 16;

		if (digit >= base)
			break;
		if (*res > (UINT64_MAX - digit) / base)
			overflow = true;
		*res = *res * base + digit;
	}
	if (overflow)
		return -ERANGE;
	if (!taken)
		return -EINVAL;
	return (long)(at + (size_t)(s - digits));
}

/* bpf_strtol(buf, buf_len, flags, res): the characters taken, *res the value (0 on error). */
static uint64_t strtol_helper(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
			      uint64_t r5, struct sluice_run *run)
{
	int64_t *res = (int64_t *)(uintptr_t)r4;
	uint64_t value;
	bool negative;
	long taken;

	(void)r5, (void)run;
	*res = 0;
	taken = parse_u64((const char *)(uintptr_t)r1, (uint32_t)r2, r3, &value, &negative);
	if (taken < 0)
		return helper_result(taken);
	if (negative ? (int64_t)-value > 0 : (int64_t)value < 0)
		return helper_result(-ERANGE);
	*res = negative ? (int64_t)-value : (int64_t)value;
	return helper_result(taken);
}

/* bpf_strtoul: as bpf_strtol, and a '-' is refused. */
static uint64_t strtoul_helper(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4,
			       uint64_t r5, struct sluice_run *run)
{
	uint64_t *res = (uint64_t *)(uintptr_t)r4, value;
	bool negative;
	long taken;

	(void)r5, (void)run;
	*res = 0;
	taken = parse_u64((const char *)(uintptr_t)r1, (uint32_t)r2, r3, &value, &negative);
	if (taken < 0)
		return helper_result(taken);
	if (negative)
		return helper_result(-EINVAL);
	*res = value;
	return helper_result(taken);
}

static const struct helper_impl impls[] = {
	{ BPF_FUNC_ktime_get_ns, ktime_get_ns },
	{ BPF_FUNC_ktime_get_boot_ns, ktime_get_boot_ns },
	{ BPF_FUNC_ktime_get_coarse_ns, ktime_get_coarse_ns },
	{ BPF_FUNC_ktime_get_tai_ns, ktime_get_tai_ns },
	{ BPF_FUNC_jiffies64, jiffies64 },
	{ BPF_FUNC_get_prandom_u32, get_prandom_u32 },
	{ BPF_FUNC_get_smp_processor_id, get_smp_processor_id },
	{ BPF_FUNC_get_numa_node_id, get_numa_node_id },
	{ BPF_FUNC_loop, loop },
	{ BPF_FUNC_spin_lock, spin_lock },
	{ BPF_FUNC_spin_unlock, spin_unlock },
	{ BPF_FUNC_strncmp, strncmp_helper },
	{ BPF_FUNC_strtol, strtol_helper },
	{ BPF_FUNC_strtoul, strtoul_helper },
};

const struct helper_family helpers_misc = { impls, sizeof(impls) / sizeof(impls[0]) };
