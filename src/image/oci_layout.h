/* Importing an image from an OCI image layout folder (oci-layout,
 * index.json, blobs/sha256/...): what skopeo writes for a pull, what an
 * oci-archive holds, what `image save` builds. ctrmig checks every digest
 * itself (manifest, config, each blob, each layer's diff_id against the
 * config's rootfs.diff_ids), bounds every JSON document, and refuses layer
 * media types it does not know; anything wrong is a one-line error naming
 * it, and no image is registered. */
#ifndef CM_OCI_LAYOUT_H
#define CM_OCI_LAYOUT_H

#include <jansson.h>
#include <stdbool.h>

struct cm_store;
struct cm_error;

struct cm_layout_import {
	/* Which entry of index.json: by its org.opencontainers.image.ref.name
	 * annotation, "@N" for the Nth (from 0), or NULL when there is one. An
	 * entry that is an index (several platforms) gives linux/<host arch>. */
	const char *ref_name;
	const char *tag_as;      /* normalised name to give the image, or NULL */
	const char *const *repo_digests; /* "repository@sha256:..." the registry knows it by, NULL-terminated */
	const char *source;      /* for the record; NULL: "oci:LAYOUT" */
	bool untrusted;          /* layers from a checkpoint archive: untrusted_entry.h's rules */
	bool owned;              /* a staging folder of ctrmig's: its blobs may be moved, not copied */
	bool progress;           /* say on stderr which layer is being unpacked */
};

/* Verifies and imports; returns the image record (the caller holds the lock). */
json_t *cm_image_from_layout_opts(struct cm_store *st, const char *layout, const struct cm_layout_import *o,
				  struct cm_error *err);
/* The short form, for callers that need nothing more. */
json_t *cm_image_from_layout(struct cm_store *st, const char *layout, const char *ref_name,
			     const char *tag_as, bool untrusted, struct cm_error *err);

/* index.json's entries: [{"ref_name": "...", "image_name": "..." (containerd's
 * io.containerd.image.name), "digest": "sha256:..."}], for a loader that
 * imports them all. */
json_t *cm_layout_entries(const char *layout, struct cm_error *err);

/* Media types, for the writers. */
#define CM_MEDIA_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define CM_MEDIA_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define CM_MEDIA_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define CM_MEDIA_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define CM_MEDIA_OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define CM_MEDIA_OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define CM_MEDIA_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define CM_MEDIA_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define CM_MEDIA_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define CM_MEDIA_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"

/* Whether a media type names a layer ctrmig can unpack. */
bool cm_media_is_layer(const char *media_type);

/* From a manifest list or index, the manifest for linux/<host arch>: its
 * descriptor (borrowed from index), or NULL with err naming what it has. */
json_t *cm_index_pick_platform(json_t *index, struct cm_error *err);

#endif
