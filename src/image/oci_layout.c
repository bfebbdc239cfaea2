#include "oci_layout.h"
#include "error.h"
#include "image.h"
#include "jsonio.h"
#include "layer_store.h"
#include "reference.h"
#include "sha256.h"
#include "store.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define ANN_REF_NAME "org.opencontainers.image.ref.name"
#define ANN_CONTAINERD_NAME "io.containerd.image.name"

bool cm_media_is_layer(const char *t)
{
	static const char *const known[] = {
		CM_MEDIA_OCI_LAYER,
		CM_MEDIA_OCI_LAYER_GZIP,
		CM_MEDIA_OCI_LAYER_ZSTD,
		CM_MEDIA_DOCKER_LAYER_GZIP,
		"application/vnd.docker.image.rootfs.diff.tar",
		"application/vnd.oci.image.layer.nondistributable.v1.tar",
		"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
		"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
		"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
	};
	for (size_t i = 0; t && i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(t, known[i]))
			return true;
	return false;
}

static bool is_index(const char *t)
{
	return t && (!strcmp(t, CM_MEDIA_OCI_INDEX) || !strcmp(t, CM_MEDIA_DOCKER_LIST));
}

static bool is_manifest(const char *t)
{
	return t && (!strcmp(t, CM_MEDIA_OCI_MANIFEST) || !strcmp(t, CM_MEDIA_DOCKER_MANIFEST));
}

static bool is_config(const char *t)
{
	return t && (!strcmp(t, CM_MEDIA_OCI_CONFIG) || !strcmp(t, CM_MEDIA_DOCKER_CONFIG));
}

/* A media type from a document, fit for a message. */
static char *quoted(const char *s)
{
	return cm_json_quote(s ? s : "(none)", 100);
}

/* A descriptor's digest, checked: sha256 only (the only one ctrmig hashes). */
static const char *desc_digest(json_t *desc, const char *what, struct cm_error *err)
{
	const char *d = cm_json_str(desc, "digest");
	if (!cm_digest_valid(d)) {
		cm_autofree char *q = quoted(d);
		cm_err(err, 0, "%s: digest %s is not sha256:<64 hex>", what, q);
		return NULL;
	}
	return d;
}

static char *blob_path(const char *layout, const char *digest)
{
	return cm_strfmt("%s/blobs/sha256/%s", layout, digest + 7);
}

/* A blob's file: a regular file (never through a symlink), of the size its
 * descriptor says. */
static int blob_check(const char *layout, json_t *desc, const char *digest, const char *what, struct stat *sb,
		      struct cm_error *err)
{
	cm_autofree char *p = blob_path(layout, digest);
	if (lstat(p, sb) < 0) {
		if (errno == ENOENT)
			return cm_err(err, 0, "%s points at blob %s, which is missing from the layout", what, digest);
		return cm_err(err, errno, "%s: blob %s", what, digest);
	}
	if (!S_ISREG(sb->st_mode))
		return cm_err(err, 0, "%s: blob %s is not a regular file", what, digest);
	json_t *size = json_object_get(desc, "size");
	if (json_is_integer(size) && json_integer_value(size) != (json_int_t)sb->st_size)
		return cm_err(err, 0, "%s: blob %s has %lld bytes, its descriptor says %lld", what, digest,
			      (long long)sb->st_size, (long long)json_integer_value(size));
	return 0;
}

/* A JSON blob, bounded, whose bytes must hash to its digest. */
static char *read_blob(const char *layout, json_t *desc, const char *what, size_t *len, struct cm_error *err)
{
	const char *digest = desc_digest(desc, what, err);
	struct stat sb;
	if (!digest || blob_check(layout, desc, digest, what, &sb, err) < 0)
		return NULL;
	cm_autofree char *p = blob_path(layout, digest);
	cm_autoclose int fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		cm_err(err, errno, "%s: blob %s", what, digest);
		return NULL;
	}
	cm_autofree char *name = cm_strfmt("%s %s", what, digest);
	char *text = cm_read_fd_max(fd, name, CM_IMAGE_JSON_MAX, len, err);
	if (!text)
		return NULL;
	char hex[65];
	cm_sha256_hex(text, *len, hex);
	if (strcmp(hex, digest + 7)) {
		cm_err(err, 0, "blob %s does not match its digest (its content is sha256:%s)", digest, hex);
		free(text);
		return NULL;
	}
	return text;
}

static json_t *load_small(const char *layout, const char *file, struct cm_error *err)
{
	cm_autofree char *p = cm_path_join(layout, file);
	size_t len;
	cm_autofree char *text = cm_read_file_max(p, CM_IMAGE_JSON_MAX, &len, err);
	if (!text) {
		if (err && err->code == ENOENT) {
			cm_error_clear(err);
			cm_err(err, 0, "%s is not an OCI image layout (no %s)", layout, file);
		}
		return NULL;
	}
	json_t *j = cm_json_parse(text, len, file, err);
	if (j && !json_is_object(j)) {
		cm_err(err, 0, "%s: not a JSON object", file);
		json_decref(j);
		return NULL;
	}
	return j;
}

static json_t *load_index(const char *layout, struct cm_error *err)
{
	json_t *ol = load_small(layout, "oci-layout", err);
	if (!ol)
		return NULL;
	const char *v = cm_json_str(ol, "imageLayoutVersion");
	if (!v || strncmp(v, "1.", 2)) {
		cm_autofree char *q = quoted(v);
		cm_err(err, 0, "oci-layout: imageLayoutVersion %s is not 1.x", q);
		json_decref(ol);
		return NULL;
	}
	json_decref(ol);
	json_t *index = load_small(layout, "index.json", err);
	if (index && !json_is_array(json_object_get(index, "manifests"))) {
		cm_err(err, 0, "index.json: no manifests list");
		json_decref(index);
		return NULL;
	}
	return index;
}

json_t *cm_layout_entries(const char *layout, struct cm_error *err)
{
	json_t *index = load_index(layout, err);
	if (!index)
		return NULL;
	json_t *out = json_array(), *d;
	size_t i;
	json_array_foreach(json_object_get(index, "manifests"), i, d) {
		json_t *ann = json_object_get(d, "annotations");
		json_t *e = json_object();
		if (cm_json_str(ann, ANN_REF_NAME))
			json_object_set_new(e, "ref_name", json_string(cm_json_str(ann, ANN_REF_NAME)));
		if (cm_json_str(ann, ANN_CONTAINERD_NAME))
			json_object_set_new(e, "image_name", json_string(cm_json_str(ann, ANN_CONTAINERD_NAME)));
		if (cm_json_str(d, "digest"))
			json_object_set_new(e, "digest", json_string(cm_json_str(d, "digest")));
		json_array_append_new(out, e);
	}
	json_decref(index);
	return out;
}

json_t *cm_index_pick_platform(json_t *index, struct cm_error *err)
{
	const char *want_variant;
	const char *arch = cm_image_host_arch(&want_variant);
	json_t *d, *best = NULL;
	size_t i;
	cm_autofree char *seen = cm_strdup("");
	json_array_foreach(json_object_get(index, "manifests"), i, d) {
		json_t *p = json_object_get(d, "platform");
		const char *os = cm_json_str(p, "os"), *a = cm_json_str(p, "architecture");
		const char *variant = cm_json_str(p, "variant");
		if (!os || !a)
			continue;
		if (strlen(seen) < 200) {
			char *more = cm_strfmt("%s%s%s/%s", seen, *seen ? ", " : "", os, a);
			free(seen);
			seen = more;
		}
		if (strcmp(os, "linux") || strcmp(a, arch))
			continue;
		if (want_variant && variant && !strcmp(variant, want_variant))
			return d; /* exact */
		if (!best && (!variant || !want_variant))
			best = d;
	}
	if (!best)
		cm_err(err, 0, "the image has no linux/%s variant (it has: %s)", arch, *seen ? seen : "none");
	return best;
}

/* index.json's entry for o->ref_name. */
static json_t *pick_entry(json_t *index, const char *ref_name, struct cm_error *err)
{
	json_t *list = json_object_get(index, "manifests"), *d;
	size_t n = json_array_size(list), i;
	if (!ref_name) {
		if (n == 1)
			return json_array_get(list, 0);
		return cm_err(err, 0, "index.json lists %zu images: name one", n), NULL;
	}
	if (ref_name[0] == '@') {
		char *end;
		unsigned long k = strtoul(ref_name + 1, &end, 10);
		if (*end || k >= n)
			return cm_err(err, 0, "index.json has no image %s", ref_name), NULL;
		return json_array_get(list, k);
	}
	json_array_foreach(list, i, d)
		if (!strcmp(cm_json_str(json_object_get(d, "annotations"), ANN_REF_NAME) ?: "", ref_name))
			return d;
	cm_autofree char *q = cm_json_quote(ref_name, 200);
	return cm_err(err, 0, "index.json has no image named %s", q), NULL;
}

struct picked {
	char *manifest, *config;
	size_t manifest_len, config_len;
	json_t *mdoc, *cdoc; /* parsed */
	char *manifest_digest;
};

static void picked_free(struct picked *p)
{
	free(p->manifest), free(p->config), free(p->manifest_digest);
	json_decref(p->mdoc), json_decref(p->cdoc);
}

/* Follows a descriptor (through at most one index) to a manifest and its
 * config, each checked against its digest. */
static int resolve(const char *layout, json_t *desc, struct picked *p, struct cm_error *err)
{
	json_t *owned_index = NULL;
	const char *mt = cm_json_str(desc, "mediaType");
	for (int depth = 0; is_index(mt); depth++) {
		if (depth == 2) {
			json_decref(owned_index);
			return cm_err(err, 0, "indexes nested more than twice");
		}
		size_t len;
		cm_autofree char *text = read_blob(layout, desc, "index", &len, err);
		json_t *idx = text ? cm_json_parse(text, len, "index", err) : NULL;
		json_decref(owned_index);
		owned_index = idx;
		if (!idx)
			return -1;
		if (!(desc = cm_index_pick_platform(idx, err))) {
			json_decref(idx);
			return -1;
		}
		mt = cm_json_str(desc, "mediaType");
	}
	int ret = 0;
	if (!is_manifest(mt)) {
		cm_autofree char *q = quoted(mt);
		ret = cm_err(err, 0, "index.json: media type %s is not an image manifest", q);
	}
	const char *digest = ret == 0 ? desc_digest(desc, "manifest", err) : NULL;
	if (ret == 0 && !digest)
		ret = -1;
	if (ret == 0 && !(p->manifest = read_blob(layout, desc, "manifest", &p->manifest_len, err)))
		ret = -1;
	if (ret == 0) {
		p->manifest_digest = cm_strdup(digest);
		cm_autofree char *what = cm_strfmt("manifest %s", digest);
		p->mdoc = cm_json_parse(p->manifest, p->manifest_len, what, err);
		if (!p->mdoc)
			ret = -1;
	}
	json_decref(owned_index);
	if (ret < 0)
		return -1;
	const char *own = cm_json_str(p->mdoc, "mediaType");
	if (own && !is_manifest(own)) {
		cm_autofree char *q = quoted(own);
		return cm_err(err, 0, "manifest %s: media type %s is not an image manifest", digest, q);
	}
	if (cm_json_int(p->mdoc, "schemaVersion", 0) != 2)
		return cm_err(err, 0, "manifest %s: schemaVersion is not 2", digest);
	json_t *cdesc = json_object_get(p->mdoc, "config");
	if (!is_config(cm_json_str(cdesc, "mediaType"))) {
		cm_autofree char *q = quoted(cm_json_str(cdesc, "mediaType"));
		return cm_err(err, 0, "manifest %s: config media type %s is not an image config (not a container image?)",
			      digest, q);
	}
	cm_autofree char *cwhat = cm_strfmt("manifest %s: config", digest);
	if (!(p->config = read_blob(layout, cdesc, cwhat, &p->config_len, err)))
		return -1;
	p->cdoc = cm_json_parse(p->config, p->config_len, "config", err);
	if (!p->cdoc)
		return -1;
	if (!json_is_object(p->cdoc))
		return cm_err(err, 0, "config %s: not a JSON object", cm_json_str(cdesc, "digest"));
	return 0;
}

/* The manifest's layers against the config's diff_ids: same count, known
 * media types, valid digests, every blob present. */
static int check_layers(const char *layout, struct picked *p, struct cm_error *err)
{
	json_t *layers = json_object_get(p->mdoc, "layers");
	json_t *diffs = json_object_get(json_object_get(p->cdoc, "rootfs"), "diff_ids");
	const char *md = p->manifest_digest;
	if (!json_is_array(layers))
		return cm_err(err, 0, "manifest %s: no layers list", md);
	if (!json_is_array(diffs))
		return cm_err(err, 0, "config of manifest %s: no rootfs.diff_ids list", md);
	if (json_array_size(layers) != json_array_size(diffs))
		return cm_err(err, 0, "manifest %s lists %zu layers, its config %zu diff_ids", md,
			      json_array_size(layers), json_array_size(diffs));
	if (json_array_size(layers) > CM_LAYERS_MAX)
		return cm_err(err, 0, "manifest %s: %zu layers, more than the %d overlayfs can stack", md,
			      json_array_size(layers), CM_LAYERS_MAX);
	size_t i;
	json_t *l;
	json_array_foreach(layers, i, l) {
		cm_autofree char *what = cm_strfmt("manifest %s: layer %zu", md, i + 1);
		const char *mt = cm_json_str(l, "mediaType");
		if (!cm_media_is_layer(mt)) {
			cm_autofree char *q = quoted(mt);
			return cm_err(err, 0, "%s: media type %s is not a layer type ctrmig knows", what, q);
		}
		if (!cm_digest_valid(json_string_value(json_array_get(diffs, i)))) {
			cm_autofree char *q = quoted(json_string_value(json_array_get(diffs, i)));
			return cm_err(err, 0, "config: diff_id %zu %s is not sha256:<64 hex>", i + 1, q);
		}
		struct stat sb;
		const char *d = desc_digest(l, what, err);
		if (!d || blob_check(layout, l, d, what, &sb, err) < 0)
			return -1;
	}
	return 0;
}

static json_t *import_picked(struct cm_store *st, const char *layout, struct picked *p,
			     const struct cm_layout_import *o, struct cm_error *err)
{
	json_t *layers = json_object_get(p->mdoc, "layers");
	json_t *diffs = json_object_get(json_object_get(p->cdoc, "rootfs"), "diff_ids");
	size_t n = json_array_size(layers);
	const char **ids = cm_malloc((n + 1) * sizeof(char *));
	int ret = 0;
	for (size_t i = 0; i < n && ret == 0; i++) {
		const char *digest = cm_json_str(json_array_get(layers, i), "digest");
		const char *diff_id = json_string_value(json_array_get(diffs, i));
		ids[i] = diff_id;
		cm_autofree char *blob = blob_path(layout, digest);
		cm_autofree char *stored = cm_image_blob_path(st, digest);
		bool have_blob = cm_path_exists(stored);
		if (cm_layer_exists(st, diff_id)) {
			/* the layer is here: the blob still has to be what it says */
			if (!(have_blob && cm_layer_knows_blob(st, diff_id, digest)))
				ret = cm_layer_verify_blob(st, blob, digest, diff_id, err);
		} else {
			if (o->progress)
				fprintf(stderr, "Unpacking layer %zu/%zu %.19s\n", i + 1, n, diff_id);
			struct cm_layer_apply a = { .blob = blob, .blob_digest = digest, .diff_id = diff_id,
						    .lowers = ids, .n_lowers = i, .untrusted = o->untrusted };
			ret = cm_layer_apply(st, &a, err);
		}
		if (ret == 0 && !have_blob)
			ret = cm_image_blob_put(st, blob, digest, o->owned, err);
	}
	free(ids);
	if (ret < 0)
		return NULL;
	cm_autofree char *source = o->source ? NULL : cm_strfmt("oci:%s", layout);
	struct cm_image_new img = { .manifest = p->manifest, .manifest_len = p->manifest_len,
				    .config = p->config, .config_len = p->config_len, .name = o->tag_as,
				    .repo_digests = o->repo_digests, .source = o->source ? o->source : source };
	return cm_image_register(st, &img, err);
}

json_t *cm_image_from_layout_opts(struct cm_store *st, const char *layout, const struct cm_layout_import *o,
				  struct cm_error *err)
{
	struct picked p = { 0 };
	json_t *rec = NULL, *index = load_index(layout, err), *entry;
	if (index && (entry = pick_entry(index, o->ref_name, err)) && resolve(layout, entry, &p, err) == 0 &&
	    check_layers(layout, &p, err) == 0)
		rec = import_picked(st, layout, &p, o, err);
	json_decref(index);
	picked_free(&p);
	if (!rec)
		cm_image_gc(st); /* layers unpacked before a later one failed */
	return rec;
}

json_t *cm_image_from_layout(struct cm_store *st, const char *layout, const char *ref_name, const char *tag_as,
			     bool untrusted, struct cm_error *err)
{
	struct cm_layout_import o = { .ref_name = ref_name, .tag_as = tag_as, .untrusted = untrusted };
	return cm_image_from_layout_opts(st, layout, &o, err);
}
