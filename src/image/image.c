#include "image.h"
#include "error.h"
#include "jsonio.h"
#include "store.h"
#include "tree_digest.h"
#include "unpack.h"
#include "util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

char *cm_image_rootfs(struct cm_store *st, const char *id)
{
	return cm_strfmt("%s/images/%s/rootfs", st->root, id);
}

json_t *cm_image_list(struct cm_store *st, struct cm_error *err)
{
	cm_autofree char *dir = cm_path_join(st->root, "images");
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);
	if (n < 0) {
		cm_err(err, errno, "read %s", dir);
		return NULL;
	}
	json_t *arr = json_array();
	for (int i = 0; i < n; i++) {
		const char *id = names[i]->d_name;
		if (cm_is_hex(id)) {
			cm_autofree char *path = cm_strfmt("%s/%s/image.json", dir, id);
			struct cm_error e = { 0 };
			json_t *rec = cm_json_load(path, &e);
			if (rec)
				json_array_append_new(arr, rec);
			else
				cm_warn("skipping image %.12s: %s", id, e.msg);
			cm_error_clear(&e);
		}
		free(names[i]);
	}
	free(names);
	return arr;
}

json_t *cm_image_find(struct cm_store *st, const char *ref, struct cm_error *err)
{
	json_t *all = cm_image_list(st, err), *rec, *found = NULL;
	if (!all)
		return NULL;
	const char *want = strncmp(ref, "sha256:", 7) == 0 ? ref + 7 : ref;
	size_t i, hits = 0;
	json_array_foreach(all, i, rec) {
		if (!strcmp(cm_json_str(rec, "name"), ref) || !strcmp(cm_json_str(rec, "id"), want)) {
			found = rec;
			hits = 1;
			break;
		}
	}
	if (!found && cm_is_hex(want)) {
		json_array_foreach(all, i, rec) {
			if (!strncmp(cm_json_str(rec, "id"), want, strlen(want))) {
				found = rec;
				hits++;
			}
		}
	}
	if (!found)
		cm_err(err, 0, "no such image %s", ref);
	else if (hits > 1) {
		cm_err(err, 0, "image id prefix %s is ambiguous", ref);
		found = NULL;
	} else
		json_incref(found);
	json_decref(all);
	return found;
}

bool cm_image_name_valid(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 128 || !isalnum((unsigned char)name[0]) || strstr(name, ".."))
		return false;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._-:", *p))
			return false;
	return true;
}

json_t *cm_image_import(struct cm_store *st, const char *src, const char *name, bool untrusted,
			struct cm_error *err)
{
	struct stat sb;
	if (stat(src, &sb) < 0) {
		cm_err(err, errno, "import %s", src);
		return NULL;
	}
	if (!cm_image_name_valid(name)) {
		cm_err(err, 0, "image name '%s' is not valid: letters, digits, '.', '_', '-' and ':', "
			       "starting with a letter or digit, no '..'", name);
		return NULL;
	}
	json_t *existing = cm_image_find(st, name, NULL);
	if (existing) {
		cm_err(err, 0, "image name %s is already in use (id %.12s)", name,
		       cm_json_str(existing, "id"));
		json_decref(existing);
		return NULL;
	}

	char rnd[65], hex[65], now[40];
	if (cm_random_id(rnd, err) < 0)
		return NULL;
	cm_autofree char *staging = cm_strfmt("%s/images/.import-%.16s", st->root, rnd);
	cm_autofree char *rootfs = cm_path_join(staging, "rootfs");
	cm_autofree char *recpath = cm_path_join(staging, "image.json");
	cm_autofree char *digest = NULL, *final = NULL;
	json_t *rec = NULL, *same;
	long long bytes;

	if (cm_mkdir_p(rootfs, 0755, err) < 0)
		goto out_remove_staging;
	if (S_ISDIR(sb.st_mode) ? cm_unpack_dir(src, rootfs, err) : cm_unpack_file(src, rootfs, untrusted, err))
		goto out_remove_staging;
	bytes = cm_tree_digest(rootfs, hex, err);
	if (bytes < 0)
		goto out_remove_staging;
	same = cm_image_find(st, hex, NULL);
	if (same) {
		cm_err(err, 0, "this content is already stored as image %s (id %.12s)",
		       cm_json_str(same, "name"), hex);
		json_decref(same);
		goto out_remove_staging;
	}

	cm_time_now(now);
	digest = cm_strfmt("sha256:%s", hex);
	final = cm_store_image_dir(st, hex);
	rec = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s}", "id", hex, "digest", digest, "name",
			name, "created", now, "size", (json_int_t)bytes, "source", src);
	if (cm_json_save(recpath, rec, 0644, err) < 0)
		goto out_remove_staging;
	if (rename(staging, final) < 0) {
		cm_err(err, errno, "store image in %s", final);
		goto out_remove_staging;
	}
	cm_fsync_dir_of(final);
	return rec;

out_remove_staging:
	json_decref(rec);
	cm_rm_rf(staging, NULL);
	cm_err_wrap(err, "import %s", src);
	return NULL;
}

int cm_image_remove(struct cm_store *st, const char *ref, struct cm_error *err)
{
	json_t *img = cm_image_find(st, ref, err);
	if (!img)
		return -1;
	const char *id = cm_json_str(img, "id");
	cm_autofree char *dir = cm_store_image_dir(st, id);
	cm_autofree char *doomed = cm_strfmt("%s/images/.rm-%s", st->root, id);
	json_t *ctrs = cm_store_list_ctrs(st, err), *c;
	size_t i;
	int ret = ctrs ? 0 : -1;
	json_array_foreach(ctrs, i, c) {
		if (!strcmp(cm_json_str(json_object_get(c, "image"), "id"), id)) {
			ret = cm_err(err, 0, "image %s is in use by container %s", ref,
				     cm_json_str(c, "name"));
			break;
		}
	}
	/* Rename first so that a half-removed image never looks valid. */
	if (ret == 0 && rename(dir, doomed) < 0)
		ret = cm_err(err, errno, "remove image %s", ref);
	else if (ret == 0)
		ret = cm_rm_rf(doomed, err);
	json_decref(ctrs);
	json_decref(img);
	return ret;
}
