/* SPDX-License-Identifier: MIT */
/*
 * maps_concurrency: two processes update and read one shared hash map at
 * once, and a third reads it, with invariants instead of timings.
 *
 * The map is created by the parent; each child opens it by id (a mapping of
 * its own, at another address) and owns half the keys.  A writer gives key
 * k the value make_value(k, version), 32 words that all depend on both, with
 * version growing each time it writes k; it also deletes its keys now and
 * then, so elements go back to the pool and get reused by both.  Every
 * process reads keys of both halves and checks that each value it sees is
 * whole (all 32 words of one version: no torn copy) and, per key, that
 * versions never go back.  A writer's own keys must read back exactly what
 * it last wrote, through bpf(2) and through the program-side pointer.  At
 * the end the parent checks that no entry was lost or left behind: the map
 * holds exactly the keys each writer says it holds, at their last version.
 *
 * Bounded in iterations, not time (the parent reads until the writers
 * are done); run for hash, LRU hash (which takes its other locks) and a
 * hash map that allocates as it grows.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/bpf.h>

#include <sluice/maps.h>

#define KEYS_PER_WRITER 700
#define WRITERS 2
#define ITERATIONS 300000
#define READS_BY_PARENT 300000
#define WORDS 32

struct value {
	uint64_t w[WORDS];
};

/* What each writer ends with, in memory the parent shares. */
struct outcome {
	bool present[KEYS_PER_WRITER];
	uint64_t version[KEYS_PER_WRITER];
	unsigned long updates, deletes, reads, walks, changes;
};

/* All start together; the parent reads until both writers are done. */
struct shared {
	struct outcome outs[WRITERS];
	uint32_t started, finished;
};

static void start_together(struct shared *sh)
{
	__atomic_fetch_add(&sh->started, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&sh->started, __ATOMIC_SEQ_CST) < WRITERS + 1)
		sched_yield();
}

static struct value make_value(uint32_t key, uint64_t version)
{
	struct value v;

	v.w[0] = key;
	v.w[1] = version;
	for (int i = 2; i < WORDS; i++)
		v.w[i] = (key * 0x9e3779b97f4a7c15ull ^ version * 0xc2b2ae3d27d4eb4full) + (uint64_t)i;
	return v;
}

static bool well_formed(uint32_t key, const struct value *v)
{
	struct value want = make_value(key, v->w[1]);

	return !memcmp(&want, v, sizeof(want));
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

struct reader {
	uint64_t last[WRITERS * KEYS_PER_WRITER]; /* highest version seen per key */
	unsigned long errors;
	unsigned long changes; /* reads that saw a key move on since the last read */
};

__attribute__((format(printf, 2, 3)))
static void complain(struct reader *r, const char *fmt, ...)
{
	va_list ap;

	if (r->errors++ < 5) {
		va_start(ap, fmt);
		fprintf(stderr, "pid %d: ", (int)getpid());
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
}

/* Read key through bpf(2): a value seen must be whole and not older than before. */
static void check_read(struct sluice_map *map, struct reader *r, uint32_t key)
{
	struct value v;
	int ret = sluice_map_lookup(map, &key, &v, 0, NULL);

	if (ret == -ENOENT)
		return;
	if (ret)
		complain(r, "lookup of %u: %d", key, ret);
	else if (!well_formed(key, &v))
		complain(r, "key %u: torn or foreign value (version %" PRIu64 ")", key, v.w[1]);
	else if (v.w[1] < r->last[key])
		complain(r, "key %u: version went back from %" PRIu64 " to %" PRIu64, key,
			 r->last[key], v.w[1]);
	else {
		r->changes += r->last[key] && v.w[1] > r->last[key];
		r->last[key] = v.w[1];
	}
}

/* Walk the whole map: every key is one of the writers', every value whole. */
static void check_walk(struct sluice_map *map, struct reader *r)
{
	uint32_t key, next;
	int steps = 0;

	for (int ret = sluice_map_get_next_key(map, NULL, &next, NULL); !ret;
	     ret = sluice_map_get_next_key(map, &key, &next, NULL)) {
		if (next >= WRITERS * KEYS_PER_WRITER || ++steps > 100000) {
			complain(r, "walk: key %u, step %d", next, steps);
			return;
		}
		check_read(map, r, next);
		key = next;
	}
}

static int writer(uint32_t id, int w, struct shared *sh, uint32_t cpu)
{
	struct sluice_map *map = sluice_map_open(id, NULL);
	struct outcome *out = &sh->outs[w];
	struct reader r = { 0 };
	uint64_t seed = 0x1234567ull + (uint64_t)w * 0x9e3779b9ull;
	uint32_t base = (uint32_t)w * KEYS_PER_WRITER;

	start_together(sh);
	if (!map)
		return 1;
	for (unsigned long i = 0; i < ITERATIONS; i++) {
		uint32_t what = (uint32_t)(rnd(&seed) % 100);
		uint32_t own = (uint32_t)(rnd(&seed) % KEYS_PER_WRITER), key = base + own;

		if (what < 55) {
			struct value v = make_value(key, ++out->version[own]);
			long ret = what % 2 ? sluice_map_update(map, &key, &v, BPF_ANY, NULL)
					    : sluice_map_elem_update(map, &key, &v, BPF_ANY, cpu);

			if (ret)
				complain(&r, "update of %u: %ld", key, ret);
			out->present[own] = true;
			out->updates++;
		} else if (what < 65) {
			int ret = sluice_map_delete(map, &key, NULL);

			if (ret != (out->present[own] ? 0 : -ENOENT))
				complain(&r, "delete of %u: %d, present %d", key, ret,
					 out->present[own]);
			out->present[own] = false;
			out->deletes++;
		} else if (what < 75) {
			/* my own key: no one else writes it, so it is exactly mine */
			struct value *p = sluice_map_elem_lookup(map, &key, cpu);
			struct value want = make_value(key, out->version[own]);

			if (!p != !out->present[own] ||
			    (p && memcmp(p, &want, sizeof(want))))
				complain(&r, "own key %u: %s", key, p ? "wrong value" : "missing");
			out->reads++;
		} else if (what < 99) {
			/* the other writer's keys */
			uint32_t other = (base + KEYS_PER_WRITER) % (WRITERS * KEYS_PER_WRITER);

			check_read(map, &r, other + (uint32_t)(rnd(&seed) % KEYS_PER_WRITER));
			out->reads++;
		} else if (i % 50 == 0) {
			check_walk(map, &r);
			out->walks++;
		}
	}
	out->changes = r.changes;
	__atomic_fetch_add(&sh->finished, 1, __ATOMIC_SEQ_CST);
	sluice_map_close(map);
	return r.errors ? 1 : 0;
}

/* The end: exactly the keys each writer holds, at their last versions. */
static unsigned long check_final(struct sluice_map *map, const struct outcome *outs)
{
	struct sluice_map_info info;
	unsigned long errors = 0, expected = 0;

	for (int w = 0; w < WRITERS; w++) {
		for (uint32_t own = 0; own < KEYS_PER_WRITER; own++) {
			uint32_t key = (uint32_t)w * KEYS_PER_WRITER + own;
			struct value v, want = make_value(key, outs[w].version[own]);
			int ret = sluice_map_lookup(map, &key, &v, 0, NULL);

			expected += outs[w].present[own];
			if (outs[w].present[own] ? ret || memcmp(&v, &want, sizeof(v))
						 : ret != -ENOENT) {
				if (errors++ < 5)
					fprintf(stderr, "final: key %u %s\n", key,
						outs[w].present[own] ? "lost or stale"
								     : "deleted but there");
			}
		}
	}
	sluice_map_get_info(map, &info);
	if (info.entries != expected) {
		fprintf(stderr, "final: %u entries, expected %lu\n", info.entries, expected);
		errors++;
	}
	return errors;
}

static int run(const char *label, uint32_t type, uint32_t flags)
{
	struct sluice_map_attr attr = {
		.sz = sizeof(attr), .type = type, .key_size = 4,
		.value_size = sizeof(struct value),
		.max_entries = WRITERS * KEYS_PER_WRITER + 100, .map_flags = flags,
		.name = "concurrency",
	};
	struct sluice_error err = { 0 };
	struct sluice_map *map = sluice_map_create(&attr, &err);
	struct shared *sh;
	struct outcome *outs;
	struct sluice_map_info info;
	struct reader *r;
	pid_t pids[WRITERS];
	unsigned long errors = 0, parent_reads = 0;

	if (!map) {
		fprintf(stderr, "%s: %s\n", label, err.msg);
		return 1;
	}
	sluice_map_get_info(map, &info);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	r = calloc(1, sizeof(*r));
	if (sh == MAP_FAILED || !r)
		return 1;
	memset(sh, 0, sizeof(*sh));
	outs = sh->outs;
	for (int w = 0; w < WRITERS; w++) {
		pids[w] = fork();
		if (pids[w] < 0)
			return 1;
		if (pids[w] == 0)
			_exit(writer(info.id, w, sh,
				     (uint32_t)w % (uint32_t)sluice_num_possible_cpus()));
	}
	/* the parent reads while they write: at least this many, and until they are done */
	start_together(sh);
	for (uint64_t seed = 99; parent_reads < READS_BY_PARENT ||
				 __atomic_load_n(&sh->finished, __ATOMIC_SEQ_CST) < WRITERS;
	     parent_reads++)
		check_read(map, r, (uint32_t)(rnd(&seed) % (WRITERS * KEYS_PER_WRITER)));
	for (int w = 0; w < WRITERS; w++) {
		int status;

		if (waitpid(pids[w], &status, 0) != pids[w] || !WIFEXITED(status) ||
		    WEXITSTATUS(status)) {
			fprintf(stderr, "%s: writer %d failed\n", label, w);
			errors++;
		}
	}
	errors += r->errors + check_final(map, outs);
	sluice_map_get_info(map, &info);
	printf("%-16s %d writers x %d iterations: %lu updates, %lu deletes, %lu reads "
	       "(%lu saw a newer version), %lu walks; parent: %lu reads (%lu newer); "
	       "%u entries at the end; %lu errors\n",
	       label, WRITERS, ITERATIONS, outs[0].updates + outs[1].updates,
	       outs[0].deletes + outs[1].deletes, outs[0].reads + outs[1].reads,
	       outs[0].changes + outs[1].changes, outs[0].walks + outs[1].walks,
	       parent_reads, r->changes, info.entries, errors);
	munmap(sh, sizeof(*sh));
	free(r);
	sluice_map_close(map);
	return errors ? 1 : 0;
}

int main(void)
{
	int failed = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	failed |= run("hash", BPF_MAP_TYPE_HASH, 0);
	failed |= run("lru_hash", BPF_MAP_TYPE_LRU_HASH, 0);
	failed |= run("hash/no_prealloc", BPF_MAP_TYPE_HASH, BPF_F_NO_PREALLOC);
	printf("%s\n", failed ? "FAIL" : "PASS");
	return failed;
}
