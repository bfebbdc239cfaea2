#include "mem_stage.h"
#include "error.h"
#include "sha256.h"
#include "store.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>

#define PARENT "/dev/shm"
#define MIN_MARGIN (512ULL << 20)
/* What a file system or cgroup keeps free besides. */
#define SLACK (64ULL << 20)

/* "/dev/shm/ctrmig-<12 hex of the store's root's sha256>-" */
static char *prefix(struct cm_store *st)
{
	char hex[65];
	cm_sha256_hex(st->root, strlen(st->root), hex);
	return cm_strfmt("%s/ctrmig-%.12s-", PARENT, hex);
}

/* CTRMIG_MEM_STAGE_MAX: at most this many bytes in a stage; unset: no cap. */
static uint64_t cap_from_env(void)
{
	const char *v = getenv("CTRMIG_MEM_STAGE_MAX");
	if (!v || !*v)
		return UINT64_MAX;
	char *end;
	unsigned long long n = strtoull(v, &end, 10);
	return *end ? 0 : (uint64_t)n;
}

char *cm_mem_stage_create(struct cm_store *st)
{
	struct statfs sf;
	if (cap_from_env() == 0 || statfs(PARENT, &sf) < 0 || sf.f_type != TMPFS_MAGIC)
		return NULL;
	char rnd[65];
	if (cm_random_id(rnd, NULL) < 0)
		return NULL;
	cm_autofree char *pre = prefix(st);
	char *dir = cm_strfmt("%s%.16s", pre, rnd);
	/* /dev/shm is everyone's: a name someone made first is not ours. */
	if (mkdir(dir, 0700) < 0) {
		cm_debug("staging on disk: %s: %s", dir, strerror(errno));
		free(dir);
		return NULL;
	}
	return dir;
}

/* A number after key in a /proc/meminfo-style text, in bytes (kB there). */
static uint64_t meminfo(const char *text, const char *key)
{
	const char *p = text ? strstr(text, key) : NULL;
	return p ? strtoull(p + strlen(key), NULL, 10) << 10 : 0;
}

/* A number in a cgroup file, or UINT64_MAX for "max" or none. */
static uint64_t cgroup_value(const char *dir, const char *file)
{
	cm_autofree char *path = cm_path_join(dir, file);
	cm_autofree char *text = cm_read_file_max(path, 64, NULL, NULL);
	if (!text || !strncmp(text, "max", 3))
		return UINT64_MAX;
	return strtoull(text, NULL, 10);
}

/* The least room left under memory.max, in ctrmig's cgroup and each one
 * above it (cgroup v2): tmpfs pages are charged to whoever writes them. */
static uint64_t cgroup_room(void)
{
	cm_autofree char *own = cm_read_file_max("/proc/self/cgroup", 4096, NULL, NULL);
	const char *p = own ? strstr(own, "0::/") : NULL;
	if (!p)
		return UINT64_MAX;
	cm_autofree char *dir = cm_strfmt("/sys/fs/cgroup%.*s", (int)strcspn(p + 3, "\n"), p + 3);
	uint64_t room = UINT64_MAX;
	for (;;) {
		uint64_t max = cgroup_value(dir, "memory.max");
		uint64_t cur = cgroup_value(dir, "memory.current");
		if (max != UINT64_MAX && cur != UINT64_MAX) {
			uint64_t left = cur < max ? max - cur : 0;
			/* the same margin inside the cgroup as outside */
			uint64_t margin = max / 8 > SLACK ? max / 8 : SLACK;
			left = left > margin ? left - margin : 0;
			if (left < room)
				room = left;
		}
		char *slash = strrchr(dir, '/');
		if (!slash || slash - dir <= (ptrdiff_t)strlen("/sys/fs/cgroup"))
			break;
		*slash = '\0';
	}
	return room;
}

bool cm_mem_stage_fits(const char *dir, uint64_t staged, uint64_t more)
{
	uint64_t cap = cap_from_env();
	if (staged + more > cap)
		return false;
	struct statvfs vfs;
	if (statvfs(dir, &vfs) < 0 || (uint64_t)vfs.f_bavail * vfs.f_frsize < more + SLACK)
		return false;
	/* Staged pages are not available memory; the restored process will
	 * need as much again as everything staged while the stage holds it. */
	cm_autofree char *text = cm_read_file_max("/proc/meminfo", 1 << 16, NULL, NULL);
	uint64_t avail = meminfo(text, "MemAvailable:"), total = meminfo(text, "MemTotal:");
	uint64_t margin = total / 8 > MIN_MARGIN ? total / 8 : MIN_MARGIN;
	uint64_t need = more + (staged + more) + margin;
	if (avail < need) {
		cm_debug("staging on disk: %" PRIu64 " MiB available, %" PRIu64 " MiB needed in memory",
			 avail >> 20, need >> 20);
		return false;
	}
	return cgroup_room() >= more;
}

char *cm_mem_stage_of(struct cm_store *st, const char *path)
{
	cm_autofree char *pre = prefix(st);
	size_t n = strlen(pre);
	if (!path || strncmp(path, pre, n) || strspn(path + n, "0123456789abcdef") != 16 ||
	    (path[n + 16] && path[n + 16] != '/'))
		return NULL;
	return cm_strfmt("%.*s", (int)n + 16, path);
}

void cm_mem_stage_remove(const char *dir, bool background)
{
	if (background)
		cm_rm_rf_detached(dir);
	else
		cm_rm_rf(dir, NULL);
}

void cm_mem_stage_recover(struct cm_store *st, const char *const *keep)
{
	cm_autofree char *pre = prefix(st);
	const char *base = pre + strlen(PARENT) + 1;
	DIR *d = opendir(PARENT);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (strncmp(de->d_name, base, strlen(base)))
			continue;
		cm_autofree char *path = cm_path_join(PARENT, de->d_name);
		cm_autofree char *stage = cm_mem_stage_of(st, path);
		struct stat sb;
		/* only what ctrmig made: root's folder, under a name of its own */
		if (!stage || strcmp(stage, path) || lstat(path, &sb) < 0 || !S_ISDIR(sb.st_mode) || sb.st_uid != 0)
			continue;
		bool kept = false;
		for (size_t i = 0; keep && keep[i]; i++)
			kept = kept || !strcmp(keep[i], path);
		if (kept)
			continue;
		cm_debug("removing %s, staged by a command that was killed", path);
		cm_rm_rf(path, NULL);
	}
	if (d)
		closedir(d);
}
