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

/* A number in a cgroup file, or UINT64_MAX for "max", none, or v1's
 * "no limit" (a page-rounded 2^63). */
static uint64_t cgroup_value(const char *dir, const char *file)
{
	cm_autofree char *path = cm_path_join(dir, file);
	cm_autofree char *text = cm_read_file_max(path, 64, NULL, NULL);
	if (!text || !strncmp(text, "max", 3))
		return UINT64_MAX;
	uint64_t v = strtoull(text, NULL, 10);
	return v >= (1ULL << 62) ? UINT64_MAX : v;
}

/* The memory controller's folder for ctrmig's cgroup, and the names of its
 * limit and usage files: cgroup v2's unified tree, or v1's memory tree. */
static char *memory_cgroup(const char **max, const char **cur, size_t *root_len)
{
	cm_autofree char *own = cm_read_file_max("/proc/self/cgroup", 1 << 16, NULL, NULL);
	for (char *line = own, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c2 = '\0';
		const char *ctrls = c1 + 1, *path = c2 + 1;
		if (!strcmp(line, "0") && !*ctrls) {
			*max = "memory.max", *cur = "memory.current";
			*root_len = strlen("/sys/fs/cgroup");
			return cm_strfmt("/sys/fs/cgroup%s", path);
		}
		for (const char *k = ctrls; k; k = strchr(k, ',') ? strchr(k, ',') + 1 : NULL) {
			if (!strncmp(k, "memory", 6) && (k[6] == ',' || !k[6])) {
				*max = "memory.limit_in_bytes", *cur = "memory.usage_in_bytes";
				*root_len = strlen("/sys/fs/cgroup/memory");
				return cm_strfmt("/sys/fs/cgroup/memory%s", path);
			}
		}
	}
	return NULL;
}

/* The least room left under the memory limit of ctrmig's cgroup and each
 * one above it, less a margin: tmpfs pages are charged to whoever writes
 * them. UINT64_MAX without a limit. */
static uint64_t cgroup_room(void)
{
	const char *max_file = NULL, *cur_file = NULL;
	size_t root_len = 0;
	cm_autofree char *dir = memory_cgroup(&max_file, &cur_file, &root_len);
	if (!dir)
		return UINT64_MAX;
	uint64_t room = UINT64_MAX;
	for (;;) {
		uint64_t max = cgroup_value(dir, max_file), cur = cgroup_value(dir, cur_file);
		if (max != UINT64_MAX && cur != UINT64_MAX) {
			uint64_t left = cur < max ? max - cur : 0;
			/* the same kind of margin inside the cgroup as outside */
			uint64_t margin = max / 8 > SLACK ? max / 8 : SLACK;
			left = left > margin ? left - margin : 0;
			if (left < room)
				room = left;
		}
		char *slash = strrchr(dir, '/');
		if (strlen(dir) <= root_len || !slash || (size_t)(slash - dir) < root_len)
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
