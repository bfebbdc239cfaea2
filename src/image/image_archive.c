#include "image_archive.h"
#include "layer_tar.h"
#include "error.h"
#include "image.h"
#include "jsonio.h"
#include "layer_store.h"
#include "oci_layout.h"
#include "reference.h"
#include "sha256.h"
#include "skopeo.h"
#include "store.h"
#include "unpack.h"
#include "util.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* ---- unpacking the archive ------------------------------------------------- */

/* Only folders and regular files, inside dest: an image archive needs
 * nothing else (the symlinks of docker-archive's legacy folders are left
 * out; manifest.json names the real files). */
static int extract(const char *input, const char *dest, struct cm_error *err)
{
	struct archive *in = archive_read_new(), *out = archive_write_disk_new();
	cm_archive_support_builtin_filters(in);
	archive_read_support_format_tar(in);
	archive_write_disk_set_options(out, ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
						    ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);
	cm_autoclose int here = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret = 0, r;
	bool moved = false;
	if (!strcmp(input, "-"))
		r = archive_read_open_fd(in, STDIN_FILENO, 1 << 16);
	else
		r = archive_read_open_filename(in, input, 1 << 16);
	if (r != ARCHIVE_OK)
		ret = cm_err(err, 0, "%s", archive_error_string(in));
	if (ret == 0 && (here < 0 || chdir(dest) < 0))
		ret = cm_err(err, errno, "enter %s", dest);
	moved = ret == 0;
	struct archive_entry *e;
	size_t members = 0;
	while (ret == 0 && (r = archive_read_next_header(in, &e)) != ARCHIVE_EOF) {
		if (r < ARCHIVE_WARN) {
			ret = cm_err(err, 0, "%s", archive_error_string(in));
			break;
		}
		members++;
		char name[PATH_MAX];
		const char *raw = archive_entry_pathname(e);
		if (!raw || cm_layer_clean_name(raw, name, sizeof(name)) < 0) {
			cm_autofree char *q = cm_json_quote(raw ? raw : "", 200);
			ret = cm_err(err, 0, "member %s: absolute names and '..' are refused", q);
			break;
		}
		int type = archive_entry_filetype(e);
		if (!*name || archive_entry_hardlink(e) || (type != AE_IFREG && type != AE_IFDIR))
			continue;
		archive_entry_copy_pathname(e, name);
		archive_entry_set_perm(e, type == AE_IFDIR ? 0700 : 0600);
		archive_entry_xattr_clear(e);
		archive_entry_acl_clear(e);
		if (archive_write_header(out, e) < ARCHIVE_WARN) {
			ret = cm_err(err, 0, "member %s: %s", name, archive_error_string(out));
			break;
		}
		const void *buf;
		size_t size;
		la_int64_t off;
		while (ret == 0 && (r = archive_read_data_block(in, &buf, &size, &off)) != ARCHIVE_EOF) {
			if (r < ARCHIVE_WARN)
				ret = cm_err(err, 0, "member %s: %s", name, archive_error_string(in));
			else if (archive_write_data_block(out, buf, size, off) < ARCHIVE_WARN)
				ret = cm_err(err, 0, "member %s: %s", name, archive_error_string(out));
		}
		if (ret == 0 && archive_write_finish_entry(out) < ARCHIVE_WARN)
			ret = cm_err(err, 0, "member %s: %s", name, archive_error_string(out));
	}
	if (archive_write_close(out) < ARCHIVE_WARN && ret == 0)
		ret = cm_err(err, 0, "%s", archive_error_string(out));
	if (moved && fchdir(here) < 0 && ret == 0)
		ret = cm_err(err, errno, "return to the working directory");
	if (ret == 0 && members == 0)
		ret = cm_err(err, 0, "the archive is empty");
	archive_write_free(out);
	archive_read_free(in);
	return ret;
}

/* ---- docker-archive -> OCI layout ------------------------------------------ */

static int hash_file(const char *path, char hex[65], long long *size, unsigned char magic[4],
		     struct cm_error *err)
{
	cm_autoclose int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return cm_err(err, errno, "open %s", path);
	struct cm_sha256 h;
	cm_sha256_init(&h);
	unsigned char buf[1 << 17];
	ssize_t n;
	*size = 0;
	memset(magic, 0, 4);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (*size == 0)
			memcpy(magic, buf, n < 4 ? (size_t)n : 4);
		cm_sha256_update(&h, buf, (size_t)n);
		*size += n;
	}
	cm_sha256_final_hex(&h, hex);
	return n < 0 ? cm_err(err, errno, "read %s", path) : 0;
}

/* A file manifest.json names, inside the unpacked archive. */
static char *member_path(const char *root, json_t *v, const char *what, struct cm_error *err)
{
	char clean[PATH_MAX];
	const char *raw = json_string_value(v);
	if (!raw || cm_layer_clean_name(raw, clean, sizeof(clean)) < 0 || !*clean) {
		cm_autofree char *q = cm_json_quote(raw ? raw : "(none)", 200);
		cm_err(err, 0, "manifest.json: %s %s is not a name inside the archive", what, q);
		return NULL;
	}
	char *p = cm_path_join(root, clean);
	struct stat sb;
	if (lstat(p, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		cm_err(err, 0, "manifest.json names %s %s, which the archive does not hold as a file", what, clean);
		free(p);
		return NULL;
	}
	return p;
}

static int put_blob(const char *layout, const char *src, const char *hex, struct cm_error *err)
{
	cm_autofree char *dst = cm_strfmt("%s/blobs/sha256/%s", layout, hex);
	if (cm_path_exists(dst))
		return 0;
	if (link(src, dst) < 0)
		return cm_err(err, errno, "link %s", dst);
	return 0;
}

static char *write_blob(const char *layout, const char *text, char hex[65], struct cm_error *err)
{
	cm_sha256_hex(text, strlen(text), hex);
	cm_autofree char *dst = cm_strfmt("%s/blobs/sha256/%s", layout, hex);
	if (cm_write_file_atomic(dst, text, strlen(text), 0600, err) < 0)
		return NULL;
	return cm_strfmt("sha256:%s", hex);
}

/* One image of manifest.json as an OCI manifest over the same files: the
 * config's bytes are kept as they are (its digest is the image id). */
static json_t *docker_entry_to_oci(const char *root, const char *layout, json_t *item, struct cm_error *err)
{
	cm_autofree char *cpath = member_path(root, json_object_get(item, "Config"), "config", err);
	if (!cpath)
		return NULL;
	char hex[65];
	long long size;
	unsigned char magic[4];
	if (hash_file(cpath, hex, &size, magic, err) < 0 || put_blob(layout, cpath, hex, err) < 0)
		return NULL;
	if (size > CM_IMAGE_JSON_MAX) {
		cm_err(err, 0, "manifest.json: the config has more than %d bytes", CM_IMAGE_JSON_MAX);
		return NULL;
	}
	cm_autofree char *config_digest = cm_strfmt("sha256:%s", hex);
	json_t *layers = json_array();
	json_t *manifest = json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:o}", "schemaVersion", 2, "mediaType",
				     CM_MEDIA_OCI_MANIFEST, "config", "mediaType", CM_MEDIA_OCI_CONFIG, "digest",
				     config_digest, "size", (json_int_t)size, "layers", layers);
	json_t *list = json_object_get(item, "Layers");
	if (!json_is_array(list)) {
		cm_err(err, 0, "manifest.json: an image without a Layers list");
		json_decref(manifest);
		return NULL;
	}
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v) {
		cm_autofree char *lpath = member_path(root, v, "layer", err);
		if (!lpath || hash_file(lpath, hex, &size, magic, err) < 0 || put_blob(layout, lpath, hex, err) < 0) {
			json_decref(manifest);
			return NULL;
		}
		const char *mt = magic[0] == 0x1f && magic[1] == 0x8b ? CM_MEDIA_OCI_LAYER_GZIP
				 : magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd
					 ? CM_MEDIA_OCI_LAYER_ZSTD
					 : CM_MEDIA_OCI_LAYER;
		cm_autofree char *d = cm_strfmt("sha256:%s", hex);
		json_array_append_new(layers, json_pack("{s:s, s:s, s:I}", "mediaType", mt, "digest", d, "size",
							(json_int_t)size));
	}
	return manifest;
}

static int write_layout_files(const char *layout, json_t *entries, struct cm_error *err)
{
	cm_autofree char *ol = cm_path_join(layout, "oci-layout");
	cm_autofree char *ip = cm_path_join(layout, "index.json");
	const char *v = "{\"imageLayoutVersion\":\"1.0.0\"}";
	json_t *index = json_pack("{s:i, s:O}", "schemaVersion", 2, "manifests", entries);
	cm_autofree char *text = json_dumps(index, JSON_COMPACT);
	json_decref(index);
	if (cm_write_file_atomic(ol, v, strlen(v), 0600, err) < 0 ||
	    cm_write_file_atomic(ip, text, strlen(text), 0600, err) < 0)
		return -1;
	return 0;
}

/* A name from an archive: normalised, or NULL (with a warning) if it is no
 * reference. */
static char *archive_name(const char *s)
{
	struct cm_ref r;
	struct cm_error e = { 0 };
	if (!s || cm_ref_parse(s, &r, &e) < 0) {
		if (s)
			cm_warn("ignoring the archive's name for an image: %s", e.msg);
		cm_error_clear(&e);
		return NULL;
	}
	char *n = r.tag ? cm_ref_name_tag(&r) : NULL;
	cm_ref_free(&r);
	return n;
}

static int report(json_t *out, json_t *rec)
{
	json_array_append(out, rec);
	return 0;
}

static json_t *load_docker(struct cm_store *st, const char *root, const char *source, bool progress,
			   struct cm_error *err)
{
	cm_autofree char *mpath = cm_path_join(root, "manifest.json");
	size_t len;
	cm_autofree char *text = cm_read_file_max(mpath, CM_IMAGE_JSON_MAX, &len, err);
	json_t *items = text ? cm_json_parse(text, len, "manifest.json", err) : NULL;
	if (!items)
		return NULL;
	if (!json_is_array(items) || json_array_size(items) == 0) {
		cm_err(err, 0, "manifest.json: not a list of images");
		json_decref(items);
		return NULL;
	}
	cm_autofree char *layout = cm_path_join(root, ".oci");
	cm_autofree char *blobs = cm_path_join(layout, "blobs/sha256");
	json_t *entries = json_array(), *out = json_array(), *item;
	size_t i;
	int ret = cm_mkdir_p(blobs, 0700, err);
	json_array_foreach(items, i, item) {
		if (ret < 0)
			break;
		json_t *m = docker_entry_to_oci(root, layout, item, err);
		char hex[65];
		cm_autofree char *mtext = m ? json_dumps(m, JSON_COMPACT) : NULL;
		cm_autofree char *digest = mtext ? write_blob(layout, mtext, hex, err) : NULL;
		json_decref(m);
		if (!digest) {
			ret = -1;
			break;
		}
		cm_autofree char *ref = cm_strfmt("image-%zu", i);
		json_array_append_new(entries, json_pack("{s:s, s:s, s:I, s:{s:s}}", "mediaType", CM_MEDIA_OCI_MANIFEST,
							 "digest", digest, "size", (json_int_t)strlen(mtext),
							 "annotations", "org.opencontainers.image.ref.name", ref));
	}
	if (ret == 0)
		ret = write_layout_files(layout, entries, err);
	json_array_foreach(items, i, item) {
		if (ret < 0)
			break;
		json_t *tags = json_object_get(item, "RepoTags"), *t;
		cm_autofree char *first = NULL;
		size_t j;
		json_array_foreach(tags, j, t) {
			if ((first = archive_name(json_string_value(t))))
				break;
		}
		cm_autofree char *ref = cm_strfmt("image-%zu", i);
		struct cm_layout_import o = { .ref_name = ref, .tag_as = first, .source = source, .owned = true,
					      .progress = progress };
		json_t *rec = cm_image_from_layout_opts(st, layout, &o, err);
		if (!rec) {
			ret = -1;
			break;
		}
		json_array_foreach(tags, j, t) {
			cm_autofree char *n = archive_name(json_string_value(t));
			if (ret == 0 && n && (!first || strcmp(n, first)))
				ret = cm_image_tag(st, cm_json_str(rec, "id"), n, err);
		}
		/* the record as it is now, with every name */
		json_t *now = ret == 0 ? cm_image_find(st, cm_json_str(rec, "id"), err) : NULL;
		json_decref(rec);
		if (!now)
			ret = -1;
		else
			report(out, now);
		json_decref(now);
	}
	json_decref(entries);
	json_decref(items);
	if (ret < 0) {
		json_decref(out);
		return NULL;
	}
	return out;
}

/* ---- OCI layouts ----------------------------------------------------------- */

/* The name an OCI layout gives an entry: containerd's full image name, or a
 * ref.name that is a whole reference (holds '/' or ':'); a bare tag such as
 * "latest" names nothing. */
static char *layout_name(json_t *entry)
{
	const char *full = cm_json_str(entry, "image_name"), *ref = cm_json_str(entry, "ref_name");
	if (full)
		return archive_name(full);
	if (ref && (strchr(ref, '/') || strchr(ref, ':')))
		return archive_name(ref);
	return NULL;
}

static json_t *load_layout(struct cm_store *st, const char *layout, const char *source, bool owned,
			   bool progress, struct cm_error *err)
{
	json_t *entries = cm_layout_entries(layout, err), *e;
	if (!entries)
		return NULL;
	if (json_array_size(entries) == 0) {
		cm_err(err, 0, "index.json lists no image");
		json_decref(entries);
		return NULL;
	}
	json_t *out = json_array();
	size_t i;
	json_array_foreach(entries, i, e) {
		cm_autofree char *at = cm_strfmt("@%zu", i);
		cm_autofree char *name = layout_name(e);
		struct cm_layout_import o = { .ref_name = at, .tag_as = name, .source = source, .owned = owned,
					      .progress = progress };
		json_t *rec = cm_image_from_layout_opts(st, layout, &o, err);
		if (!rec) {
			json_decref(out);
			out = NULL;
			break;
		}
		json_array_append_new(out, rec);
	}
	json_decref(entries);
	return out;
}

json_t *cm_image_load(struct cm_store *st, const char *input, bool progress, struct cm_error *err)
{
	struct stat sb;
	bool is_stdin = !strcmp(input, "-");
	if (!is_stdin && stat(input, &sb) < 0) {
		cm_err(err, errno, "load %s", input);
		return NULL;
	}
	if (!is_stdin && S_ISDIR(sb.st_mode)) {
		cm_autofree char *source = cm_strfmt("oci:%s", input);
		json_t *recs = load_layout(st, input, source, false, progress, err);
		if (!recs)
			cm_err_wrap(err, "load %s", input);
		return recs;
	}
	json_t *recs = NULL;
	cm_autofree char *stage = cm_image_staging(st, err);
	cm_autofree char *root = stage ? cm_path_join(stage, "archive") : NULL;
	cm_autofree char *manifest = root ? cm_path_join(root, "manifest.json") : NULL;
	cm_autofree char *oci = root ? cm_path_join(root, "oci-layout") : NULL;
	if (!stage)
		goto out;
	if (cm_mkdir_p(root, 0700, err) < 0 || extract(input, root, err) < 0)
		goto out;
	if (cm_path_exists(manifest)) {
		cm_autofree char *source = cm_strfmt("docker-archive:%s", is_stdin ? "stdin" : input);
		recs = load_docker(st, root, source, progress, err);
	} else if (cm_path_exists(oci)) {
		cm_autofree char *source = cm_strfmt("oci-archive:%s", is_stdin ? "stdin" : input);
		recs = load_layout(st, root, source, true, progress, err);
	} else {
		cm_err(err, 0, "neither a docker-archive (no manifest.json) nor an oci-archive (no oci-layout)");
	}
out:
	if (stage)
		cm_rm_rf(stage, NULL);
	if (!recs)
		cm_err_wrap(err, "load %s", is_stdin ? "stdin" : input);
	return recs;
}

/* ---- save ------------------------------------------------------------------ */

static int link_or_write(const char *layout, const char *src, const char *digest, struct cm_error *err)
{
	cm_autofree char *dst = cm_strfmt("%s/blobs/sha256/%s", layout, digest + 7);
	if (cm_path_exists(dst))
		return 0;
	if (link(src, dst) < 0)
		return cm_err(err, errno, "blob %s", digest);
	return 0;
}

static int copy_out(const char *from, const char *output, struct cm_error *err)
{
	cm_autoclose int in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return cm_err(err, errno, "open %s", from);
	bool to_stdout = !strcmp(output, "-");
	cm_autofree char *tmp = to_stdout ? NULL : cm_strfmt("%s.tmp", output);
	cm_autoclose int out = to_stdout ? dup(STDOUT_FILENO)
					 : open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0)
		return cm_err(err, errno, "create %s", to_stdout ? "standard output" : tmp);
	char buf[1 << 16];
	int ret = 0;
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = cm_err(err, errno, "read %s", from);
			break;
		}
		if (n == 0)
			break;
		if (cm_write_all(out, buf, (size_t)n) < 0) {
			ret = cm_err(err, errno, "write %s", to_stdout ? "standard output" : tmp);
			break;
		}
	}
	if (!to_stdout) {
		if (ret == 0 && fsync(out) < 0)
			ret = cm_err(err, errno, "write %s", tmp);
		if (ret == 0 && rename(tmp, output) < 0)
			ret = cm_err(err, errno, "rename %s", tmp);
		if (ret < 0)
			unlink(tmp);
	}
	return ret;
}

int cm_image_write_layout(struct cm_store *st, json_t *img, const char *layout, const char *ref_name,
			  struct cm_error *err)
{
	const char *id = cm_json_str(img, "id");
	cm_autofree char *dir = cm_store_image_dir(st, id);
	cm_autofree char *mpath = cm_path_join(dir, "manifest.json");
	cm_autofree char *cpath = cm_path_join(dir, "config.json");
	cm_autofree char *blobs = cm_path_join(layout, "blobs/sha256");
	cm_autofree char *ip = cm_path_join(layout, "index.json");
	cm_autofree char *mtext = NULL, *mdigest = NULL, *cdigest = NULL;
	json_t *m = NULL, *entries = NULL;
	size_t mlen;
	int ret = -1;
	char hex[65];
	if (!cm_path_exists(mpath)) {
		cm_err(err, 0, "image %.12s was stored before ctrmig kept manifests: import its rootfs again", id);
		goto out;
	}
	if (cm_mkdir_p(blobs, 0700, err) < 0 || !(mtext = cm_read_file_max(mpath, CM_IMAGE_JSON_MAX, &mlen, err)) ||
	    !(m = cm_json_parse(mtext, mlen, "manifest.json", err)))
		goto out;
	cm_sha256_hex(mtext, mlen, hex);
	mdigest = cm_strfmt("sha256:%s", hex);
	cdigest = cm_strfmt("sha256:%s", id);
	if (link_or_write(layout, mpath, mdigest, err) < 0 || link_or_write(layout, cpath, cdigest, err) < 0)
		goto out;
	size_t i;
	json_t *l;
	json_array_foreach(json_object_get(m, "layers"), i, l) {
		const char *d = cm_json_str(l, "digest");
		cm_autofree char *blob = cm_digest_valid(d) ? cm_image_blob_path(st, d) : NULL;
		if (!blob || !cm_path_exists(blob)) {
			cm_err(err, 0, "image %.12s: layer blob %s is missing from the store", id, d ? d : "(none)");
			goto out;
		}
		if (link_or_write(layout, blob, d, err) < 0)
			goto out;
	}
	const char *mt = cm_json_str(m, "mediaType");
	/* A layout that holds images already (a save of several) gains one. */
	json_t *old = cm_path_exists(ip) ? cm_json_load(ip, NULL) : NULL;
	entries = json_is_array(json_object_get(old, "manifests")) ? json_incref(json_object_get(old, "manifests"))
								  : json_array();
	json_decref(old);
	json_array_append_new(entries, json_pack("{s:s, s:s, s:I, s:{s:s}}", "mediaType",
						 mt ? mt : CM_MEDIA_OCI_MANIFEST, "digest", mdigest, "size",
						 (json_int_t)mlen, "annotations",
						 "org.opencontainers.image.ref.name", ref_name));
	ret = write_layout_files(layout, entries, err);
out:
	json_decref(m);
	json_decref(entries);
	return ret;
}

/* Several images in one oci-archive: the layout holds them all, and the
 * archive is a plain tar of it (skopeo copies one image at a time). */
static int save_several(struct cm_store *st, char *const *refs, size_t n, const char *output,
			struct cm_error *err)
{
	cm_autofree char *stage = cm_image_staging(st, err);
	if (!stage)
		return -1;
	cm_autofree char *layout = cm_path_join(stage, "layout");
	cm_autofree char *out = cm_path_join(stage, "out.tar");
	int ret = 0;
	for (size_t i = 0; ret == 0 && i < n; i++) {
		json_t *img = cm_image_find(st, refs[i], err);
		const char *name = img && json_array_size(json_object_get(img, "names")) ? cm_json_str(img, "name")
										 : NULL;
		ret = img ? cm_image_write_layout(st, img, layout, name ? name : cm_json_str(img, "id"), err)
			  : cm_err_wrap(err, "save %s", refs[i]);
		json_decref(img);
	}
	if (ret == 0) {
		cm_autoclose int dirfd = open(layout, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		cm_autoclose int fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		char hex[65];
		long long size;
		if (dirfd < 0 || fd < 0)
			ret = cm_err(err, errno, "save");
		else
			ret = cm_tree_tar_write(dirfd, fd, hex, &size, err);
	}
	if (ret == 0)
		ret = copy_out(out, output, err);
	cm_rm_rf(stage, NULL);
	return ret;
}

int cm_image_save_all(struct cm_store *st, char *const *refs, size_t n, const char *output,
		      const char *format, struct cm_error *err)
{
	if (n == 1)
		return cm_image_save(st, refs[0], output, format, err);
	if (format && strcmp(format, "oci-archive"))
		return cm_err(err, 0, "a %s holds one image: save several as an oci-archive", format);
	return save_several(st, refs, n, output, err);
}

int cm_image_save(struct cm_store *st, const char *ref, const char *output, const char *format,
		  struct cm_error *err)
{
	if (!format)
		format = "oci-archive";
	if (strcmp(format, "oci-archive") && strcmp(format, "docker-archive"))
		return cm_err(err, 0, "unknown format %s (oci-archive or docker-archive)", format);
	if (!cm_skopeo_path(err))
		return -1;
	json_t *img = cm_image_find(st, ref, err);
	if (!img)
		return cm_err_wrap(err, "save %s", ref);
	/* the name the user gave, or the image's first; none for an untagged image */
	const char *name = json_array_size(json_object_get(img, "names")) ? cm_json_str(img, "name") : NULL;
	cm_autofree char *stage = NULL, *layout = NULL, *out = NULL, *src = NULL, *dst = NULL;
	int ret = -1;
	if (!(stage = cm_image_staging(st, err)))
		goto out;
	layout = cm_path_join(stage, "layout");
	if (cm_image_write_layout(st, img, layout, "save", err) < 0)
		goto out;
	out = cm_path_join(stage, "out.tar");
	src = cm_strfmt("oci:%s:save", layout);
	dst = name ? cm_strfmt("%s:%s:%s", format, out, name) : cm_strfmt("%s:%s", format, out);
	if (strchr(layout, ':')) {
		cm_err(err, 0, "the store's path %s holds a ':', which skopeo cannot take", st->root);
		goto out;
	}
	struct cm_skopeo sk = { .tls_verify = -1, .tmpdir = stage };
	if (cm_skopeo_copy(&sk, src, dst, err) < 0)
		goto out;
	ret = copy_out(out, output, err);
out:
	json_decref(img);
	if (stage)
		cm_rm_rf(stage, NULL);
	if (ret < 0)
		cm_err_wrap(err, "save %s", ref);
	return ret;
}
