#include "store.h"
#include "error.h"
#include "jsonio.h"
#include "sha256.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <libgen.h>
#include <sys/file.h>
#include <sys/stat.h>

/* runc state is volatile (gone after a reboot, like the processes it describes).
 * Each store gets its own runc root so that two --root stores never collide. */
static char *runc_root_for(const char *root)
{
	char hex[65];
	cm_sha256_hex(root, strlen(root), hex);
	return cm_strfmt("/run/ctrmig/%.12s/runc", hex);
}

int cm_store_open(struct cm_store *st, const char *root, const char *runtime, bool create,
		  struct cm_error *err)
{
	memset(st, 0, sizeof(*st));
	st->lock_fd = -1;
	if (root[0] != '/')
		return cm_err(err, 0, "root %s: must be an absolute path", root);
	st->root = cm_strdup(root);
	st->runtime = cm_strdup(runtime);
	st->runc_root = runc_root_for(root);
	const char *subdirs[] = { "images", "containers" };
	for (size_t i = 0; i < 2; i++) {
		cm_autofree char *d = cm_path_join(root, subdirs[i]);
		struct stat sb;
		if (!create && (stat(d, &sb) < 0 || !S_ISDIR(sb.st_mode)))
			return cm_err(err, 0, "%s is not a ctrmig store (no %s folder)", root, subdirs[i]);
		if (create && cm_mkdir_p(d, 0700, err) < 0)
			return -1;
	}
	/* Created when a container needs it: a read-only command makes nothing. */
	return 0;
}

char *cm_store_netns_path(struct cm_store *st, const char *id)
{
	cm_autofree char *copy = cm_strdup(st->runc_root);
	return cm_strfmt("%s/netns/%s", dirname(copy), id);
}

char *cm_store_id_running_elsewhere(struct cm_store *st, const char *id)
{
	DIR *d = opendir("/run/ctrmig");
	struct dirent *de;
	char *found = NULL;
	while (d && !found && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		cm_autofree char *runc = cm_strfmt("/run/ctrmig/%s/runc", de->d_name);
		if (!strcmp(runc, st->runc_root))
			continue;
		cm_autofree char *state = cm_strfmt("%s/%s/state.json", runc, id);
		json_t *j = cm_path_exists(state) ? cm_json_load(state, NULL) : NULL;
		pid_t pid = (pid_t)cm_json_int(j, "init_process_pid", 0);
		unsigned long long start = (unsigned long long)cm_json_int(j, "init_process_start", 0);
		if (pid > 0 && cm_proc_alive(pid, start))
			found = cm_strdup(runc);
		json_decref(j);
	}
	if (d)
		closedir(d);
	return found;
}

char *cm_store_cgroup_path(struct cm_store *st, const char *id)
{
	/* runc_root is /run/ctrmig/<hash>/runc */
	cm_autofree char *copy = cm_strdup(st->runc_root);
	cm_autofree char *parent = cm_strdup(dirname(copy));
	return cm_strfmt("/ctrmig/%s/%s", basename(parent), id);
}

char *cm_store_socket_path(struct cm_store *st, const char *kind, const char *id)
{
	cm_autofree char *copy = cm_strdup(st->runc_root);
	return cm_strfmt("%s/%s/%s", dirname(copy), kind, id);
}

int cm_store_runtime_dir(struct cm_store *st, struct cm_error *err)
{
	return cm_mkdir_p(st->runc_root, 0700, err);
}

void cm_store_forget_runtime_if_empty(struct cm_store *st)
{
	json_t *recs = cm_store_list_ctrs(st, NULL);
	if (recs && json_array_size(recs) == 0) {
		cm_autofree char *copy = cm_strdup(st->runc_root);
		cm_rm_rf(dirname(copy), NULL); /* /run/ctrmig/<hash> */
	}
	json_decref(recs);
}

void cm_store_close(struct cm_store *st)
{
	cm_store_unlock(st);
	free(st->root);
	free(st->runtime);
	free(st->runc_root);
	st->root = st->runtime = st->runc_root = NULL;
}

int cm_store_lock(struct cm_store *st, struct cm_error *err)
{
	if (st->lock_fd >= 0)
		return 0;
	cm_autofree char *path = cm_path_join(st->root, "lock");
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return cm_err(err, errno, "open lock %s", path);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int e = errno;
			close(fd);
			return cm_err(err, e, "lock %s", path);
		}
	}
	st->lock_fd = fd;
	return 0;
}

void cm_store_unlock(struct cm_store *st)
{
	if (st->lock_fd >= 0) {
		close(st->lock_fd);
		st->lock_fd = -1;
	}
}

char *cm_store_ctr_dir(struct cm_store *st, const char *id)
{
	return cm_strfmt("%s/containers/%s", st->root, id);
}

char *cm_store_ctr_path(struct cm_store *st, const char *id, const char *rel)
{
	return cm_strfmt("%s/containers/%s/%s", st->root, id, rel);
}

char *cm_store_image_dir(struct cm_store *st, const char *id)
{
	return cm_strfmt("%s/images/%s", st->root, id);
}

static int by_created(const void *a, const void *b)
{
	json_t *ja = *(json_t *const *)a, *jb = *(json_t *const *)b;
	const char *ca = cm_json_str(ja, "created"), *cb = cm_json_str(jb, "created");
	return strcmp(ca ? ca : "", cb ? cb : "");
}

json_t *cm_store_list_ctrs(struct cm_store *st, struct cm_error *err)
{
	cm_autofree char *dir = cm_path_join(st->root, "containers");
	DIR *d = opendir(dir);
	if (!d) {
		cm_err(err, errno, "read %s", dir);
		return NULL;
	}
	size_t n = 0, cap = 16;
	json_t **recs = cm_malloc(cap * sizeof(*recs));
	struct dirent *de;
	while ((de = readdir(d))) {
		/* Only finished records count: staging directories start with '.'. */
		if (de->d_name[0] == '.' || !cm_is_hex(de->d_name))
			continue;
		cm_autofree char *path = cm_store_ctr_path(st, de->d_name, "container.json");
		struct cm_error ignored = { 0 };
		json_t *rec = cm_json_load(path, &ignored);
		if (!rec) {
			if (ignored.code != ENOENT)
				cm_warn("skipping container %.12s: %s", de->d_name, ignored.msg);
			cm_error_clear(&ignored);
			continue;
		}
		if (n == cap)
			recs = cm_realloc(recs, (cap *= 2) * sizeof(*recs));
		recs[n++] = rec;
	}
	closedir(d);
	qsort(recs, n, sizeof(*recs), by_created);
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, recs[i]);
	free(recs);
	return arr;
}

json_t *cm_store_find_ctr(struct cm_store *st, const char *ref, struct cm_error *err)
{
	json_t *all = cm_store_list_ctrs(st, err);
	if (!all)
		return NULL;
	json_t *found = NULL, *rec;
	size_t i, prefix_hits = 0, reflen = strlen(ref);
	json_array_foreach(all, i, rec) {
		const char *name = cm_json_str(rec, "name"), *id = cm_json_str(rec, "id");
		if ((name && !strcmp(name, ref)) || (id && !strcmp(id, ref))) {
			found = rec;
			prefix_hits = 1;
			break;
		}
	}
	if (!found && cm_is_hex(ref)) {
		json_array_foreach(all, i, rec) {
			const char *id = cm_json_str(rec, "id");
			if (id && !strncmp(id, ref, reflen)) {
				found = rec;
				prefix_hits++;
			}
		}
	}
	if (!found)
		cm_err(err, 0, "no such container %s", ref);
	else if (prefix_hits > 1) {
		cm_err(err, 0, "container id prefix %s is ambiguous (%zu matches)", ref, prefix_hits);
		found = NULL;
	} else
		json_incref(found);
	json_decref(all);
	return found;
}

json_t *cm_store_latest_ctr(struct cm_store *st, struct cm_error *err)
{
	json_t *all = cm_store_list_ctrs(st, err);
	if (!all)
		return NULL;
	size_t n = json_array_size(all);
	json_t *rec = n ? json_incref(json_array_get(all, n - 1)) : NULL;
	json_decref(all);
	if (!rec)
		cm_err(err, 0, "no containers");
	return rec;
}

int cm_store_save_ctr(struct cm_store *st, json_t *rec, struct cm_error *err)
{
	cm_autofree char *path = cm_store_ctr_path(st, cm_json_str(rec, "id"), "container.json");
	return cm_json_save(path, rec, 0600, err);
}

bool cm_store_name_taken(struct cm_store *st, const char *name)
{
	struct cm_error err = { 0 };
	json_t *rec = cm_store_find_ctr(st, name, &err);
	cm_error_clear(&err);
	bool taken = rec && !strcmp(cm_json_str(rec, "name"), name);
	json_decref(rec);
	return taken;
}

int cm_store_remove_ctr(struct cm_store *st, const char *id, struct cm_error *err)
{
	cm_autofree char *dir = cm_store_ctr_dir(st, id);
	cm_autofree char *doomed = cm_strfmt("%s/containers/.rm-%s", st->root, id);
	if (rename(dir, doomed) < 0 && errno != ENOENT)
		return cm_err(err, errno, "remove %s", dir);
	return cm_rm_rf(doomed, err);
}
