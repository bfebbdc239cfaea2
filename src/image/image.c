#include "image.h"
#include "error.h"
#include "jsonio.h"
#include "layer_store.h"
#include "layer_tar.h"
#include "reference.h"
#include "sha256.h"
#include "store.h"
#include "tree_digest.h"
#include "unpack.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#define MEDIA_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MEDIA_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MEDIA_OCI_LAYER_TAR "application/vnd.oci.image.layer.v1.tar"
/* The created time of an imported image's config: the same rootfs, the same id. */
#define IMPORT_CREATED "1970-01-01T00:00:00Z"

const char *cm_image_host_arch(const char **variant)
{
	static struct utsname u;
	if (!u.machine[0])
		uname(&u);
	static const struct {
		const char *machine, *arch, *variant;
	} map[] = {
		{ "x86_64", "amd64", NULL }, { "aarch64", "arm64", "v8" }, { "armv7l", "arm", "v7" },
		{ "armv6l", "arm", "v6" },   { "i686", "386", NULL },      { "i386", "386", NULL },
		{ "ppc64le", "ppc64le", NULL }, { "s390x", "s390x", NULL }, { "riscv64", "riscv64", NULL },
		{ "mips64", "mips64", NULL }, { "loongarch64", "loong64", NULL },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (!strcmp(u.machine, map[i].machine)) {
			if (variant)
				*variant = map[i].variant;
			return map[i].arch;
		}
	}
	if (variant)
		*variant = NULL;
	return u.machine;
}

/* ---- records --------------------------------------------------------------- */

static char *image_path(struct cm_store *st, const char *id, const char *file)
{
	return cm_strfmt("%s/images/%s/%s", st->root, id, file);
}

/* Records of a store from before layers ({"name", "digest" = tree digest,
 * rootfs/}) read as the new kind. */
static void upgrade_legacy(json_t *rec)
{
	if (json_is_array(json_object_get(rec, "names")))
		return;
	json_t *names = json_array();
	const char *old = cm_json_str(rec, "name");
	if (old) {
		cm_autofree char *norm = cm_ref_normalize(old, NULL);
		json_array_append_new(names, json_string(norm ? norm : old));
	}
	json_object_set_new(rec, "names", names);
	if (cm_json_str(rec, "digest") && !cm_json_str(rec, "rootfs_digest"))
		json_object_set_new(rec, "rootfs_digest", json_string(cm_json_str(rec, "digest")));
	json_object_set_new(rec, "legacy", json_true());
}

/* The one name callers show: the first one, or the id. */
static void set_display_name(json_t *rec, const char *matched)
{
	const char *first = json_string_value(json_array_get(json_object_get(rec, "names"), 0));
	json_object_set_new(rec, "name", json_string(matched ? matched : first ? first : cm_json_str(rec, "id")));
}

static json_t *load_record(struct cm_store *st, const char *id, struct cm_error *err)
{
	cm_autofree char *path = image_path(st, id, "image.json");
	json_t *rec = cm_json_load(path, err);
	if (!rec)
		return NULL;
	if (!json_is_object(rec) || !cm_json_str(rec, "id") || strcmp(cm_json_str(rec, "id"), id)) {
		cm_err(err, 0, "%s: not an image record", path);
		json_decref(rec);
		return NULL;
	}
	upgrade_legacy(rec);
	set_display_name(rec, NULL);
	return rec;
}

static int save_record(struct cm_store *st, json_t *rec, const char *dir, struct cm_error *err)
{
	json_t *copy = json_deep_copy(rec);
	json_object_del(copy, "name");
	json_object_del(copy, "legacy");
	cm_autofree char *path = cm_path_join(dir, "image.json");
	int ret = cm_json_save(path, copy, 0644, err);
	json_decref(copy);
	(void)st;
	return ret;
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
		if (strlen(id) == 64 && cm_is_hex(id)) {
			struct cm_error e = { 0 };
			json_t *rec = load_record(st, id, &e);
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

static bool has_string(json_t *arr, const char *s)
{
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), s))
			return true;
	return false;
}

/* repo_digests hold "repository@sha256:..."; true if one has digest. */
static bool has_repo_digest(json_t *rec, const char *digest)
{
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(rec, "repo_digests"), i, v) {
		const char *at = json_is_string(v) ? strrchr(json_string_value(v), '@') : NULL;
		if (at && !strcmp(at + 1, digest))
			return true;
	}
	return false;
}

static bool matches_digest(json_t *rec, const char *digest)
{
	const char *d = cm_json_str(rec, "digest"), *r = cm_json_str(rec, "rootfs_digest");
	return !strcmp(cm_json_str(rec, "id"), digest + 7) || (d && !strcmp(d, digest)) ||
	       (r && !strcmp(r, digest)) || has_repo_digest(rec, digest);
}

json_t *cm_image_find(struct cm_store *st, const char *ref, struct cm_error *err)
{
	if (!ref || !*ref) {
		cm_err(err, 0, "no image named");
		return NULL;
	}
	json_t *all = cm_image_list(st, err), *rec, *found = NULL;
	if (!all)
		return NULL;
	size_t i, hits = 0;
	const char *matched = NULL, *prefix = strncmp(ref, "sha256:", 7) ? ref : ref + 7;
	cm_autofree char *norm = NULL, *repo_digest = NULL;
	if (cm_digest_valid(ref)) {
		json_array_foreach(all, i, rec) {
			if (matches_digest(rec, ref)) {
				found = rec;
				break;
			}
		}
	} else if (strlen(ref) == 64 && cm_is_hex(ref)) {
		json_array_foreach(all, i, rec) {
			if (!strcmp(cm_json_str(rec, "id"), ref)) {
				found = rec;
				break;
			}
		}
	} else {
		struct cm_ref r;
		if (cm_ref_parse(ref, &r, NULL) == 0) {
			if (r.digest) {
				cm_autofree char *repo = cm_ref_repository(&r);
				repo_digest = cm_strfmt("%s@%s", repo, r.digest);
				json_array_foreach(all, i, rec) {
					if (has_string(json_object_get(rec, "repo_digests"), repo_digest) ||
					    !strcmp(cm_json_str(rec, "digest") ? cm_json_str(rec, "digest") : "", r.digest)) {
						found = rec;
						break;
					}
				}
			} else {
				norm = cm_ref_name_tag(&r);
				json_array_foreach(all, i, rec) {
					if (has_string(json_object_get(rec, "names"), norm)) {
						found = rec;
						matched = norm;
						break;
					}
				}
			}
			cm_ref_free(&r);
		}
	}
	if (found) {
		hits = 1;
	} else if (cm_is_hex(prefix) && *prefix && strlen(prefix) < 64) {
		json_array_foreach(all, i, rec) {
			if (!strncmp(cm_json_str(rec, "id"), prefix, strlen(prefix))) {
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
	} else {
		json_incref(found);
		if (matched)
			set_display_name(found, matched);
	}
	json_decref(all);
	return found;
}

bool cm_image_name_valid(const char *name)
{
	struct cm_ref r;
	if (cm_ref_parse(name, &r, NULL) < 0)
		return false;
	cm_ref_free(&r);
	return true;
}

/* ---- blobs ----------------------------------------------------------------- */

char *cm_image_blob_path(struct cm_store *st, const char *digest)
{
	return cm_strfmt("%s/blobs/sha256/%s", st->root, digest + 7);
}

static int copy_to(const char *src, const char *dst, struct cm_error *err)
{
	cm_autoclose int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return cm_err(err, errno, "open %s", src);
	cm_autofree char *tmp = cm_strfmt("%s.tmp", dst);
	cm_autoclose int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0)
		return cm_err(err, errno, "create %s", tmp);
	for (;;) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
		if (n == 0)
			break;
		if (n < 0) {
			char buf[1 << 16];
			ssize_t r = read(in, buf, sizeof(buf));
			if (r == 0)
				break;
			if (r < 0 || cm_write_all(out, buf, (size_t)r) < 0) {
				unlink(tmp);
				return cm_err(err, errno, "copy %s", src);
			}
		}
	}
	if (rename(tmp, dst) < 0) {
		unlink(tmp);
		return cm_err(err, errno, "store %s", dst);
	}
	return 0;
}

int cm_image_blob_put(struct cm_store *st, const char *src, const char *digest, bool move, struct cm_error *err)
{
	cm_autofree char *dir = cm_strfmt("%s/blobs/sha256", st->root);
	cm_autofree char *dst = cm_image_blob_path(st, digest);
	if (cm_mkdir_p(dir, 0700, err) < 0)
		return -1;
	if (cm_path_exists(dst))
		return 0;
	if (move && link(src, dst) == 0)
		return 0;
	return copy_to(src, dst, err);
}

/* ---- registering ----------------------------------------------------------- */

/* Takes name away from every image but keep_id. */
static int untag_others(struct cm_store *st, const char *name, const char *keep_id, struct cm_error *err)
{
	json_t *all = cm_image_list(st, err), *rec;
	if (!all)
		return -1;
	size_t i;
	int ret = 0;
	json_array_foreach(all, i, rec) {
		if (!strcmp(cm_json_str(rec, "id"), keep_id))
			continue;
		json_t *names = json_object_get(rec, "names");
		for (size_t j = json_array_size(names); j-- > 0;) {
			if (!strcmp(json_string_value(json_array_get(names, j)), name)) {
				json_array_remove(names, j);
				cm_autofree char *dir = cm_store_image_dir(st, cm_json_str(rec, "id"));
				if (save_record(st, rec, dir, err) < 0)
					ret = -1;
			}
		}
	}
	json_decref(all);
	return ret;
}

static long long layers_size(struct cm_store *st, json_t *layers)
{
	long long total = 0;
	size_t i;
	json_t *d;
	json_array_foreach(layers, i, d) {
		json_t *info = cm_layer_info(st, json_string_value(d), NULL);
		total += cm_json_int(info, "size", 0);
		json_decref(info);
	}
	return total;
}

static int add_unique(json_t *arr, const char *s)
{
	if (s && !has_string(arr, s))
		json_array_append_new(arr, json_string(s));
	return 0;
}

json_t *cm_image_register(struct cm_store *st, const struct cm_image_new *n, struct cm_error *err)
{
	char id[65], mhex[65], now[40];
	cm_sha256_hex(n->config, n->config_len, id);
	cm_sha256_hex(n->manifest, n->manifest_len, mhex);
	cm_time_now(now);
	json_t *config = cm_json_parse(n->config, n->config_len, "config", err);
	if (!config)
		return NULL;
	json_t *layers = json_object_get(json_object_get(config, "rootfs"), "diff_ids");
	size_t i;
	json_t *d;
	json_array_foreach(layers, i, d) {
		if (!json_is_string(d) || !cm_layer_exists(st, json_string_value(d))) {
			cm_err(err, 0, "image %.12s: layer %d is not in the store", id, (int)i + 1);
			json_decref(config);
			return NULL;
		}
	}
	cm_autofree char *final = cm_store_image_dir(st, id);
	json_t *rec = NULL;
	int ret = 0;
	if (cm_path_exists(final)) {
		/* known already: it gains the name and the registry's digest */
		if (!(rec = load_record(st, id, err))) {
			json_decref(config);
			return NULL;
		}
		add_unique(json_object_get(rec, "names"), n->name);
		if (!json_is_array(json_object_get(rec, "repo_digests")))
			json_object_set_new(rec, "repo_digests", json_array());
		for (size_t k = 0; n->repo_digests && n->repo_digests[k]; k++)
			add_unique(json_object_get(rec, "repo_digests"), n->repo_digests[k]);
		ret = save_record(st, rec, final, err);
	} else {
		const char *created = cm_json_str(config, "created");
		cm_autofree char *digest = cm_strfmt("sha256:%s", mhex);
		rec = json_pack("{s:s, s:[], s:s, s:[], s:O, s:O, s:s, s:I, s:s}", "id", id, "names", "digest",
				digest, "repo_digests", "layers", layers ? layers : json_array(), "config", config,
				"created", n->imported || !created ? now : created, "size",
				(json_int_t)layers_size(st, layers), "source", n->source ? n->source : "");
		if (!rec) {
			cm_err(err, 0, "image %.12s: cannot make its record", id);
			json_decref(config);
			return NULL;
		}
		add_unique(json_object_get(rec, "names"), n->name);
		for (size_t k = 0; n->repo_digests && n->repo_digests[k]; k++)
			add_unique(json_object_get(rec, "repo_digests"), n->repo_digests[k]);
		if (n->rootfs_digest)
			json_object_set_new(rec, "rootfs_digest", json_string(n->rootfs_digest));
		char rnd[65];
		cm_autofree char *stage = NULL;
		if (cm_random_id(rnd, err) < 0)
			ret = -1;
		else
			stage = cm_strfmt("%s/images/.import-%.16s", st->root, rnd);
		cm_autofree char *mpath = stage ? cm_path_join(stage, "manifest.json") : NULL;
		cm_autofree char *cpath = stage ? cm_path_join(stage, "config.json") : NULL;
		if (ret == 0 && (cm_mkdir_p(stage, 0755, err) < 0 ||
				 cm_write_file_atomic(mpath, n->manifest, n->manifest_len, 0644, err) < 0 ||
				 cm_write_file_atomic(cpath, n->config, n->config_len, 0644, err) < 0 ||
				 save_record(st, rec, stage, err) < 0))
			ret = -1;
		if (ret == 0 && rename(stage, final) < 0)
			ret = cm_err(err, errno, "store image in %s", final);
		if (ret == 0)
			cm_fsync_dir_of(final);
		if (stage)
			cm_rm_rf(stage, NULL);
	}
	json_decref(config);
	if (ret == 0 && n->name)
		ret = untag_others(st, n->name, id, err);
	if (ret < 0) {
		json_decref(rec);
		return NULL;
	}
	set_display_name(rec, n->name);
	return rec;
}

/* ---- import ---------------------------------------------------------------- */

static char *import_config(const char *diff_id)
{
	const char *variant;
	const char *arch = cm_image_host_arch(&variant);
	json_t *c = json_pack("{s:s, s:s, s:s, s:{}, s:{s:s, s:[s]}, s:[{s:s, s:s}]}", "architecture", arch,
			      "os", "linux", "created", IMPORT_CREATED, "config", "rootfs", "type", "layers",
			      "diff_ids", diff_id, "history", "created", IMPORT_CREATED, "created_by",
			      "ctrmig image import");
	if (variant)
		json_object_set_new(c, "variant", json_string(variant));
	char *text = json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(c);
	return text;
}

static char *import_manifest(const char *config_digest, size_t config_len, const char *layer_digest,
			     long long layer_size)
{
	json_t *m = json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:[{s:s, s:s, s:I}]}", "schemaVersion", 2,
			      "mediaType", MEDIA_OCI_MANIFEST, "config", "mediaType", MEDIA_OCI_CONFIG, "digest",
			      config_digest, "size", (json_int_t)config_len, "layers", "mediaType",
			      MEDIA_OCI_LAYER_TAR, "digest", layer_digest, "size", (json_int_t)layer_size);
	char *text = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(m);
	return text;
}

static const char *first_name(json_t *rec)
{
	const char *n = json_string_value(json_array_get(json_object_get(rec, "names"), 0));
	return n ? n : "<none>";
}

/* A marker that an image operation may leave unreferenced layers or blobs
 * if it is killed: the next locked command collects them. */
static void gc_mark(struct cm_store *st)
{
	cm_autofree char *dir = cm_path_join(st->root, "layers");
	cm_autofree char *p = cm_path_join(dir, ".gc-pending");
	cm_mkdir_p(dir, 0700, NULL);
	int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
}

static void gc_done(struct cm_store *st)
{
	cm_autofree char *p = cm_strfmt("%s/layers/.gc-pending", st->root);
	unlink(p);
}

json_t *cm_image_import(struct cm_store *st, const char *src, const char *name, bool untrusted,
			struct cm_error *err)
{
	struct stat sb;
	struct cm_ref ref;
	struct cm_error why = { 0 };
	if (cm_ref_parse(name, &ref, &why) < 0) {
		const char *reason = why.msg && strstr(why.msg, ": ") ? strstr(why.msg, ": ") + 2 : "";
		cm_err(err, 0, "image name '%s' is not valid: %s", name, reason);
		cm_error_clear(&why);
		return NULL;
	}
	if (ref.digest) {
		cm_ref_free(&ref);
		cm_err(err, 0, "image name '%s' is not valid: a name to give cannot carry a digest", name);
		return NULL;
	}
	cm_autofree char *norm = cm_ref_name_tag(&ref);
	cm_ref_free(&ref);
	if (stat(src, &sb) < 0) {
		cm_err(err, errno, "import %s", src);
		return NULL;
	}
	json_t *existing = cm_image_find(st, norm, NULL);
	if (existing) {
		cm_err(err, 0, "image name %s is already in use (id %.12s)", norm, cm_json_str(existing, "id"));
		json_decref(existing);
		return NULL;
	}

	char rnd[65], tree_hex[65], layer_hex[65], id[65];
	if (cm_random_id(rnd, err) < 0)
		return NULL;
	cm_autofree char *staging = cm_strfmt("%s/images/.import-%.16s", st->root, rnd);
	cm_autofree char *rootfs = cm_path_join(staging, "rootfs");
	cm_autofree char *tar_path = cm_path_join(staging, "layer.tar");
	cm_autofree char *config = NULL, *manifest = NULL, *config_digest = NULL, *diff_id = NULL;
	cm_autofree char *rootfs_digest = NULL;
	json_t *rec = NULL, *same;
	long long size = 0;
	int tar_fd = -1, root_fd = -1;

	gc_mark(st);
	if (cm_mkdir_p(rootfs, 0755, err) < 0)
		goto fail;
	if (S_ISDIR(sb.st_mode) ? cm_unpack_dir(src, rootfs, err) : cm_unpack_file(src, rootfs, untrusted, err))
		goto fail;
	if (cm_tree_digest(rootfs, tree_hex, err) < 0)
		goto fail;
	root_fd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	tar_fd = open(tar_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (root_fd < 0 || tar_fd < 0) {
		cm_err(err, errno, "open %s", root_fd < 0 ? rootfs : tar_path);
		goto fail;
	}
	if (cm_tree_tar_write(root_fd, tar_fd, layer_hex, &size, err) < 0)
		goto fail;
	close(root_fd), close(tar_fd);
	root_fd = tar_fd = -1;
	diff_id = cm_strfmt("sha256:%s", layer_hex);
	rootfs_digest = cm_strfmt("sha256:%s", tree_hex);
	config = import_config(diff_id);
	cm_sha256_hex(config, strlen(config), id);
	if ((same = cm_image_find(st, id, NULL))) {
		cm_err(err, 0, "this content is already stored as image %s (id %.12s)", first_name(same), id);
		json_decref(same);
		goto fail;
	}
	config_digest = cm_strfmt("sha256:%s", id);
	manifest = import_manifest(config_digest, strlen(config), diff_id, size);
	if (cm_image_blob_put(st, tar_path, diff_id, true, err) < 0 ||
	    cm_layer_adopt(st, rootfs, diff_id, size, NULL, err) < 0)
		goto fail;
	struct cm_image_new n = { .manifest = manifest, .manifest_len = strlen(manifest), .config = config,
				  .config_len = strlen(config), .name = norm, .rootfs_digest = rootfs_digest,
				  .source = src, .imported = true };
	rec = cm_image_register(st, &n, err);
	if (!rec)
		goto fail;
	cm_rm_rf(staging, NULL);
	gc_done(st);
	return rec;

fail:
	if (root_fd >= 0)
		close(root_fd);
	if (tar_fd >= 0)
		close(tar_fd);
	cm_rm_rf(staging, NULL);
	cm_image_gc(st);
	cm_err_wrap(err, "import %s", src);
	return NULL;
}

/* ---- removing -------------------------------------------------------------- */

static int used_by(struct cm_store *st, const char *id, const char **ctr, json_t **ctrs, struct cm_error *err)
{
	*ctrs = cm_store_list_ctrs(st, err);
	if (!*ctrs)
		return -1;
	size_t i;
	json_t *c;
	*ctr = NULL;
	json_array_foreach(*ctrs, i, c) {
		if (!strcmp(cm_json_str(json_object_get(c, "image"), "id") ?: "", id)) {
			*ctr = cm_json_str(c, "name");
			return 1;
		}
	}
	return 0;
}

static void append_line(char **what, const char *fmt, const char *arg)
{
	if (!what)
		return;
	cm_autofree char *line = cm_strfmt(fmt, arg);
	char *both = cm_strfmt("%s%s\n", *what ? *what : "", line);
	free(*what);
	*what = both;
}

static int delete_image(struct cm_store *st, const char *id, struct cm_error *err)
{
	cm_autofree char *dir = cm_store_image_dir(st, id);
	cm_autofree char *doomed = cm_strfmt("%s/images/.rm-%s", st->root, id);
	gc_mark(st);
	/* Renamed first so that a half-removed image never looks valid. */
	if (rename(dir, doomed) < 0)
		return cm_err(err, errno, "remove image %.12s", id);
	int ret = cm_rm_rf(doomed, err);
	cm_image_gc(st);
	return ret;
}

int cm_image_remove_opt(struct cm_store *st, const char *ref, bool force, char **what, struct cm_error *err)
{
	json_t *img = cm_image_find(st, ref, err), *ctrs = NULL;
	if (!img)
		return -1;
	const char *id = cm_json_str(img, "id"), *ctr = NULL;
	json_t *names = json_object_get(img, "names");
	cm_autofree char *dir = cm_store_image_dir(st, id);
	cm_autofree char *norm = cm_ref_normalize(ref, NULL);
	int ret = 0;
	/* By one of several names: only the name goes. */
	if (norm && json_array_size(names) > 1 && has_string(names, norm)) {
		for (size_t j = json_array_size(names); j-- > 0;)
			if (!strcmp(json_string_value(json_array_get(names, j)), norm))
				json_array_remove(names, j);
		ret = save_record(st, img, dir, err);
		if (ret == 0)
			append_line(what, "Untagged: %s", norm);
		json_decref(img);
		return ret;
	}
	int used = used_by(st, id, &ctr, &ctrs, err);
	if (used < 0) {
		ret = -1;
	} else if (used && !force) {
		ret = cm_err(err, 0, "image %s is in use by container %s", ref, ctr);
	} else if (used) {
		size_t j;
		json_t *n;
		json_array_foreach(names, j, n)
			append_line(what, "Untagged: %s", json_string_value(n));
		json_array_clear(names);
		ret = save_record(st, img, dir, err);
	} else {
		size_t j;
		json_t *n;
		json_array_foreach(names, j, n)
			append_line(what, "Untagged: %s", json_string_value(n));
		ret = delete_image(st, id, err);
		if (ret == 0)
			append_line(what, "Deleted: %s", id);
	}
	json_decref(ctrs);
	json_decref(img);
	return ret;
}

int cm_image_remove(struct cm_store *st, const char *ref, struct cm_error *err)
{
	return cm_image_remove_opt(st, ref, false, NULL, err);
}

int cm_image_tag(struct cm_store *st, const char *ref, const char *new_name, struct cm_error *err)
{
	struct cm_ref r;
	if (cm_ref_parse(new_name, &r, err) < 0)
		return -1;
	if (r.digest) {
		cm_ref_free(&r);
		return cm_err(err, 0, "a tag cannot carry a digest: %s", new_name);
	}
	cm_autofree char *norm = cm_ref_name_tag(&r);
	cm_ref_free(&r);
	json_t *img = cm_image_find(st, ref, err);
	if (!img)
		return -1;
	const char *id = cm_json_str(img, "id");
	cm_autofree char *dir = cm_store_image_dir(st, id);
	int ret = 0;
	if (!has_string(json_object_get(img, "names"), norm)) {
		json_array_append_new(json_object_get(img, "names"), json_string(norm));
		ret = save_record(st, img, dir, err);
	}
	if (ret == 0)
		ret = untag_others(st, norm, id, err);
	json_decref(img);
	return ret;
}

/* ---- garbage: layers and blobs no image lists ------------------------------ */

void cm_image_gc(struct cm_store *st)
{
	struct cm_error err = { 0 };
	json_t *all = cm_image_list(st, &err), *rec;
	if (!all) {
		cm_error_clear(&err);
		return;
	}
	/* An image.json that cannot be read might list anything: keep everything. */
	cm_autofree char *imgdir = cm_path_join(st->root, "images");
	DIR *d = opendir(imgdir);
	struct dirent *de;
	size_t records = 0;
	while (d && (de = readdir(d)))
		records += strlen(de->d_name) == 64 && cm_is_hex(de->d_name);
	if (d)
		closedir(d);
	if (records != json_array_size(all)) {
		json_decref(all);
		return;
	}
	json_t *layers = json_object(), *blobs = json_object();
	size_t i, j;
	json_t *v;
	json_array_foreach(all, i, rec) {
		json_array_foreach(json_object_get(rec, "layers"), j, v)
			if (json_is_string(v))
				json_object_set(layers, json_string_value(v) + 7, json_true());
		cm_autofree char *mpath = image_path(st, cm_json_str(rec, "id"), "manifest.json");
		json_t *m = cm_path_exists(mpath) ? cm_json_load(mpath, NULL) : NULL;
		if (cm_path_exists(mpath) && !m) {
			json_decref(all), json_decref(layers), json_decref(blobs);
			return;
		}
		json_array_foreach(json_object_get(m, "layers"), j, v)
			if (cm_digest_valid(cm_json_str(v, "digest")))
				json_object_set(blobs, cm_json_str(v, "digest") + 7, json_true());
		json_decref(m);
	}
	cm_autofree char *ldir = cm_path_join(st->root, "layers");
	d = opendir(ldir);
	while (d && (de = readdir(d))) {
		if (strlen(de->d_name) != 64 || !cm_is_hex(de->d_name) || json_object_get(layers, de->d_name))
			continue;
		cm_autofree char *diff_id = cm_strfmt("sha256:%s", de->d_name);
		cm_debug("removing layer %.12s, which no image lists", de->d_name);
		cm_layer_remove(st, diff_id, NULL);
	}
	if (d)
		closedir(d);
	cm_autofree char *bdir = cm_strfmt("%s/blobs/sha256", st->root);
	d = opendir(bdir);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || json_object_get(blobs, de->d_name))
			continue;
		unlinkat(dirfd(d), de->d_name, 0);
	}
	if (d)
		closedir(d);
	json_decref(layers);
	json_decref(blobs);
	json_decref(all);
	gc_done(st);
}

char *cm_image_staging(struct cm_store *st, struct cm_error *err)
{
	char rnd[65];
	if (cm_random_id(rnd, err) < 0)
		return NULL;
	pid_t pid = getpid();
	char *dir = cm_strfmt("%s/images/.tmp-%d-%llu-%.12s", st->root, (int)pid, cm_proc_start_time(pid), rnd);
	if (mkdir(dir, 0700) < 0) {
		cm_err(err, errno, "create %s", dir);
		free(dir);
		return NULL;
	}
	return dir;
}

/* .tmp-<pid>-<start>-... folders whose process has gone. */
static void clear_dead_staging(struct cm_store *st)
{
	cm_autofree char *dir = cm_path_join(st->root, "images");
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		int pid;
		unsigned long long start;
		if (sscanf(de->d_name, ".tmp-%d-%llu-", &pid, &start) != 2 || cm_proc_alive(pid, start))
			continue;
		cm_autofree char *p = cm_path_join(dir, de->d_name);
		cm_debug("removing %s, left by a command that was killed", p);
		cm_rm_rf(p, NULL);
	}
	if (d)
		closedir(d);
}

void cm_image_recover(struct cm_store *st)
{
	clear_dead_staging(st);
	cm_layer_recover(st);
	cm_autofree char *marker = cm_strfmt("%s/layers/.gc-pending", st->root);
	if (cm_path_exists(marker))
		cm_image_gc(st);
}

/* ---- mounting -------------------------------------------------------------- */

char *cm_image_rootfs(struct cm_store *st, const char *id)
{
	json_t *rec = load_record(st, id, NULL);
	char *out = NULL;
	if (rec && !cm_json_bool(rec, "legacy"))
		out = cm_layer_lowerdir(st, json_object_get(rec, "layers"), true, NULL);
	if (!out)
		out = image_path(st, id, "rootfs");
	json_decref(rec);
	return out;
}

/* An empty folder under the layers, for images without any layer and for
 * read-only views (overlayfs wants two lower folders when it has no upper). */
static int empty_dir(struct cm_store *st, struct cm_error *err)
{
	cm_autofree char *p = cm_strfmt("%s/layers/empty", st->root);
	if (cm_mkdir_p(p, 0755, err) < 0)
		return -1;
	return 0;
}

char *cm_image_lowerdir(struct cm_store *st, const char *id, bool *relative, struct cm_error *err)
{
	json_t *rec = load_record(st, id, err);
	if (!rec) {
		cm_err_wrap(err, "image %.12s", id);
		return NULL;
	}
	char *out = NULL;
	if (cm_json_bool(rec, "legacy")) {
		*relative = false;
		out = image_path(st, id, "rootfs");
		if (!cm_path_exists(out)) {
			cm_err(err, 0, "image %.12s is missing from %s/images", id, st->root);
			free(out);
			out = NULL;
		}
	} else if (json_array_size(json_object_get(rec, "layers")) == 0) {
		*relative = true;
		out = empty_dir(st, err) == 0 ? cm_strdup("empty") : NULL;
	} else {
		*relative = true;
		out = cm_layer_lowerdir(st, json_object_get(rec, "layers"), false, err);
	}
	json_decref(rec);
	return out;
}

int cm_image_view_open(struct cm_store *st, const char *id, struct cm_error *err)
{
	bool relative;
	cm_autofree char *lower = cm_image_lowerdir(st, id, &relative, err);
	if (!lower)
		return -1;
	if (!relative) {
		int fd = open(lower, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		return fd < 0 ? cm_err(err, errno, "open %s", lower) : fd;
	}
	if (empty_dir(st, err) < 0)
		return -1;
	cm_autofree char *both = cm_strfmt("%s:empty", lower);
	cm_autofree char *layers = cm_path_join(st->root, "layers");
	cm_autoclose int here = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cm_autoclose int fs = fsopen("overlay", FSOPEN_CLOEXEC);
	if (fs < 0)
		return cm_err(err, errno, "overlayfs");
	/* lowerdir's relative names are looked up from <root>/layers: at
	 * fsconfig time on Linux 6.5+, at FSCONFIG_CMD_CREATE before (6.1) */
	if (here < 0 || chdir(layers) < 0)
		return cm_err(err, errno, "enter %s", layers);
	int r = fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir", both, 0);
	if (r == 0)
		r = fsconfig(fs, FSCONFIG_SET_STRING, "source", "ctrmig", 0);
	if (r == 0)
		r = fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0);
	int e = errno;
	if (fchdir(here) < 0)
		cm_warn("cannot return to the working directory: %s", strerror(errno));
	if (r < 0)
		return cm_err(err, e, "image %.12s: overlay of its layers", id);
	int mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID);
	if (mnt < 0)
		return cm_err(err, errno, "image %.12s: mount a view", id);
	return mnt;
}

int cm_image_write_rootfs_tar(struct cm_store *st, const char *id, int fd, struct cm_error *err)
{
	int view = cm_image_view_open(st, id, err);
	if (view < 0)
		return -1;
	char hex[65];
	long long size;
	int ret = cm_tree_tar_write(view, fd, hex, &size, err);
	close(view);
	if (ret < 0)
		return cm_err_wrap(err, "image %.12s", id);
	return 0;
}
