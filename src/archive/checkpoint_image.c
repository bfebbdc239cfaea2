#include "checkpoint_image.h"
#include "archive_io.h"
#include "error.h"
#include "image.h"
#include "jsonio.h"
#include "oci_layout.h"
#include "reference.h"
#include "sha256.h"
#include "store.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MEDIA_LAYER_TAR "application/vnd.oci.image.layer.v1.tar"
/* The keys engines look for: CRI-O's decides for CRI-O; podman's CLI takes
 * an image as a checkpoint only with Podman's runtime key, whose value must
 * be the runtime it runs (IsCheckpointImage in cmd/podman/utils); the rest
 * inform. */
#define CRIO_KEY "io.kubernetes.cri-o.annotations.checkpoint.name"
#define CRIU_KEY "org.criu.checkpoint.container.name"
#define PODMAN_RUNTIME_KEY "io.podman.annotations.checkpoint.runtime.name"

json_t *cm_ckpt_image_annotations(json_t *rec)
{
	const char *name = cm_json_str(rec, "name"), *id = cm_json_str(rec, "id");
	json_t *image = json_object_get(rec, "image");
	const char *base = cm_json_str(image, "name") ? cm_json_str(image, "name") : "";
	const char *base_id = cm_json_str(image, "id") ? cm_json_str(image, "id") : "";
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
			 CRIO_KEY, name, "io.kubernetes.cri-o.annotations.checkpoint.rootfsImageName", base,
			 "io.kubernetes.cri-o.annotations.checkpoint.rootfsImageID", base_id,
			 CRIU_KEY, name, "org.criu.checkpoint.engine.name", "ctrmig",
			 "org.criu.checkpoint.rootfsImageName", base, "org.criu.checkpoint.rootfsImageID", base_id,
			 "org.criu.checkpoint.runtime.name", "runc", "io.podman.annotations.checkpoint.name", name,
			 "io.podman.annotations.checkpoint.rootfsImageID", base_id,
			 "io.podman.annotations.checkpoint.rootfsImageName", base, PODMAN_RUNTIME_KEY, "runc",
			 "org.ctrmig.checkpoint.id", id,
			 "org.opencontainers.image.title", name);
}

static char *put_json_blob(const char *layout, json_t *j, char hex[65], long long *size, struct cm_error *err)
{
	cm_autofree char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	cm_sha256_hex(text, strlen(text), hex);
	*size = (long long)strlen(text);
	cm_autofree char *path = cm_strfmt("%s/blobs/sha256/%s", layout, hex);
	if (cm_write_file_atomic(path, text, strlen(text), 0644, err) < 0)
		return NULL;
	return cm_strfmt("sha256:%s", hex);
}

/* The OCI layout in dir: the archive as the one layer, a config, a manifest
 * and an index, both annotated. */
static int write_layout(const char *dir, const char *archive, json_t *rec, struct cm_error *err)
{
	char lhex[65], chex[65], mhex[65];
	long long lsize, csize, msize;
	cm_autofree char *blobs = cm_path_join(dir, "blobs/sha256");
	if (cm_mkdir_p(blobs, 0700, err) < 0 || cm_sha256_file(archive, lhex, &lsize, err) < 0)
		return -1;
	cm_autofree char *lpath = cm_strfmt("%s/%s", blobs, lhex);
	if (rename(archive, lpath) < 0)
		return cm_err(err, errno, "move %s", archive);
	cm_autofree char *diff_id = cm_strfmt("sha256:%s", lhex);
	const char *variant = NULL;
	const char *arch = cm_image_host_arch(&variant);
	char now[40];
	cm_time_now(now);
	json_t *annotations = cm_ckpt_image_annotations(rec);
	json_t *config = json_pack("{s:s, s:s, s:s, s:{s:s, s:[s]}, s:{s:O}}", "created", now, "architecture", arch,
				   "os", "linux", "rootfs", "type", "layers", "diff_ids", diff_id, "config",
				   "Labels", annotations);
	cm_autofree char *cdigest = put_json_blob(dir, config, chex, &csize, err);
	json_decref(config);
	json_t *manifest = cdigest ? json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:[{s:s, s:s, s:I}], s:O}",
					       "schemaVersion", 2, "mediaType", CM_MEDIA_OCI_MANIFEST, "config",
					       "mediaType", CM_MEDIA_OCI_CONFIG, "digest", cdigest, "size",
					       (json_int_t)csize, "layers", "mediaType", MEDIA_LAYER_TAR, "digest",
					       diff_id, "size", (json_int_t)lsize, "annotations", annotations)
				   : NULL;
	cm_autofree char *mdigest = manifest ? put_json_blob(dir, manifest, mhex, &msize, err) : NULL;
	json_decref(manifest);
	int ret = -1;
	if (mdigest) {
		/* containerd reads the checkpoint's annotations on the index entry */
		json_t *entry_ann = json_deep_copy(annotations);
		json_object_set_new(entry_ann, "org.opencontainers.image.ref.name", json_string("checkpoint"));
		json_t *index = json_pack("{s:i, s:s, s:[{s:s, s:s, s:I, s:o}], s:O}", "schemaVersion", 2,
					  "mediaType", CM_MEDIA_OCI_INDEX, "manifests", "mediaType",
					  CM_MEDIA_OCI_MANIFEST, "digest", mdigest, "size", (json_int_t)msize,
					  "annotations", entry_ann, "annotations", annotations);
		cm_autofree char *ip = cm_path_join(dir, "index.json");
		cm_autofree char *lp = cm_path_join(dir, "oci-layout");
		const char *layout_text = "{\"imageLayoutVersion\":\"1.0.0\"}";
		ret = cm_json_save(ip, index, 0644, err);
		if (ret == 0)
			ret = cm_write_file_atomic(lp, layout_text, strlen(layout_text), 0644, err);
		json_decref(index);
	}
	json_decref(annotations);
	return ret;
}

json_t *cm_ckpt_image_create(struct cm_store *st, json_t *rec, const char *ref, const char *sign_key,
			     struct cm_error *err)
{
	cm_autofree char *name = cm_ref_normalize(ref, err);
	if (!name)
		return NULL;
	cm_autofree char *staging = cm_image_staging(st, err);
	if (!staging)
		return NULL;
	cm_autofree char *archive = cm_path_join(staging, "checkpoint.tar");
	cm_autofree char *layout = cm_path_join(staging, "layout");
	/* uncompressed: the layer's digest is its diff_id, and a registry or
	 * skopeo may compress it on the way */
	struct cm_export_opts eo = { .output = archive, .fd = -1, .compression = "none", .sign_key = sign_key };
	json_t *img = NULL;
	if (cm_archive_export(st, rec, &eo, err) == 0 && write_layout(layout, archive, rec, err) == 0) {
		struct cm_layout_import li = { .ref_name = "checkpoint", .tag_as = name, .owned = true,
					       .source = "checkpoint --create-image" };
		img = cm_image_from_layout_opts(st, layout, &li, err);
	}
	cm_rm_rf(staging, NULL);
	if (!img)
		cm_err_wrap(err, "create the checkpoint image %s", ref);
	return img;
}

static json_t *stored_manifest(struct cm_store *st, json_t *img)
{
	cm_autofree char *dir = cm_store_image_dir(st, cm_json_str(img, "id"));
	cm_autofree char *path = cm_path_join(dir, "manifest.json");
	return cm_path_exists(path) ? cm_json_load(path, NULL) : NULL;
}

bool cm_ckpt_image_is(struct cm_store *st, json_t *img)
{
	json_t *m = stored_manifest(st, img);
	json_t *ann = json_object_get(m, "annotations");
	bool is = cm_json_str(ann, CRIO_KEY) || cm_json_str(ann, CRIU_KEY) ||
		  cm_json_str(ann, "io.podman.annotations.checkpoint.name");
	json_decref(m);
	return is;
}

char *cm_ckpt_image_archive(struct cm_store *st, json_t *img, struct cm_error *err)
{
	json_t *m = stored_manifest(st, img);
	json_t *layers = json_object_get(m, "layers");
	char *path = NULL;
	if (json_array_size(layers) != 1)
		cm_err(err, 0, "image %s is not a checkpoint image of one layer", cm_json_str(img, "name"));
	else
		path = cm_image_blob_path(st, cm_json_str(json_array_get(layers, 0), "digest"));
	if (path && !cm_path_exists(path)) {
		cm_err(err, 0, "the layer of checkpoint image %s is not in this store", cm_json_str(img, "name"));
		free(path);
		path = NULL;
	}
	json_decref(m);
	return path;
}
