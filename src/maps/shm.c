/* SPDX-License-Identifier: MIT */
/*
 * Where maps live: one file per map in /dev/shm, and the registry, which is
 * nothing more than those files' names,
 *
 *   sluice.<owner pid>.<id>[.<name>]      a map of a running process
 *   sluice.pinned.<id>[.<name>]           a map that outlives its creator
 *   sluice.ids                            the last id handed out (flock'd)
 *
 * plus the header at the start of each file.  A map is stale when no outer
 * map holds it and its creator closed it, or died (its pid is gone, or now
 * belongs to a process that started at another time); sluice_map_list
 * removes stale maps.  Ids are unique on the machine, like the kernel's map
 * ids, so an outer map can name its inner maps to any process.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errmsg.h"
#include "map.h"

#define SHM_DIR "/dev/shm"

/* Field 22 of /proc/PID/stat: when the process started, in clock ticks. */
static int proc_start_time(int pid, uint64_t *start)
{
	char path[64], buf[1024], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = 0;
	/* the command may hold spaces and parentheses: start after the last ')' */
	p = strrchr(buf, ')');
	if (!p)
		return -EIO;
	p += 2; /* field 3 */
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (!p)
			return -EIO;
		p++;
	}
	*start = strtoull(p, NULL, 10);
	return 0;
}

bool shm_owner_gone(const struct map_hdr *h)
{
	uint64_t start;

	if (!h->owner_pid)
		return false;
	return proc_start_time(h->owner_pid, &start) || start != h->owner_start;
}

static int alloc_id(uint32_t *id, struct sluice_error *err)
{
	int fd = open(SHM_DIR "/sluice.ids", O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	uint32_t last = 0;
	int ret = 0;

	if (fd < 0)
		return sluice_fail(err, errno, "cannot open " SHM_DIR "/sluice.ids: %s",
				   strerror(errno));
	/* every user's maps draw their ids from it, whatever the umask (maps are 0600) */
	fchmod(fd, 0666);
	/* the lock goes with the descriptor, also when the process dies */
	if (flock(fd, LOCK_EX) || pread(fd, &last, sizeof(last), 0) < 0)
		ret = sluice_fail(err, errno, SHM_DIR "/sluice.ids: %s", strerror(errno));
	if (!ret) {
		if (++last == 0)
			last = 1;
		if (pwrite(fd, &last, sizeof(last), 0) != sizeof(last))
			ret = sluice_fail(err, EIO, SHM_DIR "/sluice.ids: cannot write");
	}
	close(fd);
	*id = last;
	return ret;
}

/* The id in a map file's name, 0 when the name is not one. */
static uint32_t name_id(const char *name)
{
	const char *owner = name + 7, *dot;
	unsigned long id;
	char *end;

	if (strncmp(name, "sluice.", 7) || !(dot = strchr(owner, '.')) || dot == owner)
		return 0;
	if (!(dot - owner == 6 && !strncmp(owner, "pinned", 6)) &&
	    strspn(owner, "0123456789") != (size_t)(dot - owner))
		return 0;
	id = strtoul(dot + 1, &end, 10);
	if (end == dot + 1 || (*end && *end != '.') || id == 0 || id > UINT32_MAX)
		return 0;
	return (uint32_t)id;
}

/* The file, with its last `mirror` bytes mapped again right after it. */
static uint8_t *region_map(int fd, uint64_t size, uint64_t mirror)
{
	uint8_t *base = mmap(NULL, size + mirror, PROT_NONE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (base == MAP_FAILED)
		return NULL;
	if (mmap(base, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) ==
		    MAP_FAILED ||
	    (mirror && mmap(base + size, mirror, PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_FIXED, fd, (off_t)(size - mirror)) == MAP_FAILED)) {
		munmap(base, size + mirror);
		return NULL;
	}
	return base;
}

struct sluice_map *shm_create(const struct map_hdr *h, const struct map_layout *l,
			      bool pinned, struct sluice_error *err)
{
	uint64_t size = MAP_STATE_OFF + round_up_page(l->state);
	struct sluice_map *map = calloc(1, sizeof(*map));
	uint64_t start = 0;
	uint32_t id = 0;
	int fd;

	if (!map) {
		sluice_fail(err, ENOMEM, "out of memory");
		return NULL;
	}
	if (!pinned && proc_start_time(getpid(), &start)) {
		sluice_fail(err, EIO, "cannot read /proc/self/stat");
		free(map);
		return NULL;
	}
	if (alloc_id(&id, err)) {
		free(map);
		return NULL;
	}
	if (pinned)
		snprintf(map->path, sizeof(map->path), SHM_DIR "/sluice.pinned.%u%s%s", id,
			 *h->name ? "." : "", h->name);
	else
		snprintf(map->path, sizeof(map->path), SHM_DIR "/sluice.%d.%u%s%s",
			 (int)getpid(), id, *h->name ? "." : "", h->name);
	fd = open(map->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		sluice_fail(err, errno, "cannot create %s: %s", map->path, strerror(errno));
		free(map);
		return NULL;
	}
	/* the memory a map preallocates is allocated now, as the kernel's is */
	if (size > (uint64_t)INT64_MAX - l->mirror || ftruncate(fd, (off_t)size) ||
	    posix_fallocate(fd, 0, (off_t)(MAP_STATE_OFF + l->fixed)) ||
	    !(map->base = region_map(fd, size, l->mirror))) {
		sluice_fail(err, ENOMEM, "not enough shared memory in " SHM_DIR
			    " for a map of %llu bytes", (unsigned long long)size);
		unlink(map->path);
		close(fd);
		free(map);
		return NULL;
	}
	map->hdr = (struct map_hdr *)map->base;
	*map->hdr = *h;
	map->hdr->magic = MAP_MAGIC;
	map->hdr->version = MAP_VERSION;
	map->hdr->ready = 0;
	map->hdr->size = size;
	map->hdr->mirror = l->mirror;
	map->hdr->id = id;
	map->hdr->owner_pid = pinned ? 0 : (int32_t)getpid();
	map->hdr->owner_start = start;
	map->fd = fd;
	map->mapped = size + l->mirror;
	map->creator = true;
	map_handle_init(map);
	return map;
}

/* Open the map file at path; with `any`, also one still being created. */
static struct sluice_map *open_path(const char *path, bool any, struct sluice_error *err)
{
	struct sluice_map *map;
	struct map_hdr h;
	struct stat st;
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		sluice_fail(err, errno, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) || pread(fd, &h, sizeof(h), 0) != sizeof(h) ||
	    h.magic != MAP_MAGIC || h.version != MAP_VERSION ||
	    h.size != (uint64_t)st.st_size || !map_type_ops(h.type)) {
		sluice_fail(err, EINVAL, "%s is not a map of this version of Sluice", path);
		close(fd);
		return NULL;
	}
	if (!any && !h.ready) {
		sluice_fail(err, EAGAIN, "map %u is still being created", h.id);
		close(fd);
		return NULL;
	}
	map = calloc(1, sizeof(*map));
	if (!map || !(map->base = region_map(fd, h.size, h.mirror))) {
		sluice_fail(err, ENOMEM, "cannot map %s", path);
		free(map);
		close(fd);
		return NULL;
	}
	map->hdr = (struct map_hdr *)map->base;
	map->fd = fd;
	map->mapped = h.size + h.mirror;
	snprintf(map->path, sizeof(map->path), "%s", path);
	map_handle_init(map);
	return map;
}

static int filter_maps(const struct dirent *ent)
{
	return name_id(ent->d_name) != 0;
}

static int by_id(const struct dirent **a, const struct dirent **b)
{
	uint32_t x = name_id((*a)->d_name), y = name_id((*b)->d_name);

	return x < y ? -1 : x > y;
}

struct sluice_map *shm_open_id(uint32_t id, struct sluice_error *err)
{
	struct sluice_map *map = NULL;
	struct dirent **ents;
	int n = scandir(SHM_DIR, &ents, filter_maps, NULL);

	if (n < 0) {
		sluice_fail(err, errno, "cannot read " SHM_DIR ": %s", strerror(errno));
		return NULL;
	}
	for (int i = 0; i < n; i++) {
		if (!map && name_id(ents[i]->d_name) == id) {
			char path[sizeof(map->path)];

			snprintf(path, sizeof(path), SHM_DIR "/%s", ents[i]->d_name);
			map = open_path(path, false, err);
			if (!map)
				id = 0; /* found, and the error says why it cannot open */
		}
		free(ents[i]);
	}
	free(ents);
	if (!map && id)
		sluice_fail(err, ENOENT, "no map with id %u", id);
	return map;
}

/*
 * Whoever removes the file (one process, even if several try) lets go of
 * what an outer map holds.
 */
void shm_unlink_if_unheld(struct sluice_map *map)
{
	const struct map_hdr *h = map->hdr;

	if (!__atomic_load_n(&h->refs, __ATOMIC_ACQUIRE) &&
	    (__atomic_load_n(&h->closed, __ATOMIC_ACQUIRE) || shm_owner_gone(h)) &&
	    !unlink(map->path) && map->ops->release_inner)
		map->ops->release_inner(map);
}

void shm_close(struct sluice_map *map)
{
	/* a child that inherited the creator's handle across fork() is not the creator */
	if (map->creator && map->hdr->owner_pid == (int32_t)getpid()) {
		__atomic_store_n(&map->hdr->closed, 1, __ATOMIC_RELEASE);
		shm_unlink_if_unheld(map);
	}
	munmap(map->base, map->mapped);
	close(map->fd);
	free(map);
}

int shm_reserve(struct sluice_map *map, uint64_t off, uint64_t len)
{
	return posix_fallocate(map->fd, (off_t)off, (off_t)len) ? -ENOMEM : 0;
}

/* A stale map's file goes (also one whose creator died creating it). */
static void remove_if_stale(const char *path)
{
	struct sluice_map *map = open_path(path, true, NULL);

	if (map) {
		shm_unlink_if_unheld(map);
		shm_close(map);
	}
}

int sluice_map_list(int (*fn)(const struct sluice_map_info *info, void *ctx),
		    void *ctx, struct sluice_error *err)
{
	char path[sizeof(((struct sluice_map *)0)->path)];
	struct dirent **ents;
	int n, ret = 0;

	n = scandir(SHM_DIR, &ents, filter_maps, by_id);
	if (n < 0)
		return sluice_fail(err, errno, "cannot read " SHM_DIR ": %s", strerror(errno));
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), SHM_DIR "/%s", ents[i]->d_name);
		remove_if_stale(path);
	}
	for (int i = 0; i < n; i++) {
		struct sluice_map_info info;
		struct sluice_map *map;

		snprintf(path, sizeof(path), SHM_DIR "/%s", ents[i]->d_name);
		map = ret ? NULL : open_path(path, false, NULL);
		if (map) {
			sluice_map_get_info(map, &info);
			shm_close(map);
			ret = fn(&info, ctx);
		}
		free(ents[i]);
	}
	free(ents);
	return ret;
}

int sluice_map_remove(uint32_t id, struct sluice_error *err)
{
	struct sluice_map *map = shm_open_id(id, err);
	int32_t owner;

	if (!map)
		return -errno;
	owner = map->hdr->owner_pid;
	if (!owner) {
		__atomic_store_n(&map->hdr->closed, 1, __ATOMIC_RELEASE);
		shm_unlink_if_unheld(map);
	}
	shm_close(map);
	if (owner)
		return sluice_fail(err, EPERM,
				   "map %u belongs to process %d: only pinned maps can be removed",
				   id, owner);
	return 0;
}
