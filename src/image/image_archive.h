/* `image load` and `image save`: images in files, as docker save, podman
 * save and skopeo write them. */
#ifndef CM_IMAGE_ARCHIVE_H
#define CM_IMAGE_ARCHIVE_H

#include <jansson.h>
#include <stdbool.h>

struct cm_store;
struct cm_error;

/* Loads every image of a docker-archive (Docker 25's OCI layout plus
 * manifest.json included), an oci-archive (plain or compressed), or an OCI
 * layout folder; "-" reads the archive from stdin. A docker-archive is read
 * by ctrmig itself, so that the config's bytes, and the image id, stay what
 * they were. The archive's names (RepoTags, ref.name annotations that are
 * full names, containerd's image name) are given to the images. Returns the
 * records; the caller holds the lock. */
json_t *cm_image_load(struct cm_store *st, const char *input, bool progress, struct cm_error *err);

/* Writes the image as an oci-archive (format NULL or "oci-archive") or a
 * docker-archive to output ("-": stdout): an OCI layout built from the
 * stored manifest, config and blobs, copied by skopeo. */
int cm_image_save(struct cm_store *st, const char *ref, const char *output, const char *format,
		  struct cm_error *err);

/* image save REF...: one image as asked (cm_image_save); several in one
 * oci-archive, whose index names each by its name. */
int cm_image_save_all(struct cm_store *st, char *const *refs, size_t n, const char *output,
		      const char *format, struct cm_error *err);

/* Writes the image as an OCI layout into layout (made if missing): its
 * stored manifest and config and its blobs, hard-linked where they can be,
 * under the ref.name ref_name. The image's digests stay its own. */
int cm_image_write_layout(struct cm_store *st, json_t *img, const char *layout, const char *ref_name,
			  struct cm_error *err);

#endif
