/* Checkpoint images, Kubernetes' way of carrying a checkpoint in a registry:
 * an OCI image of one layer that holds the archive's files at its root
 * (checkpoint/, config.dump, spec.dump, ...), whose manifest carries the
 * annotations CRI-O (io.kubernetes.cri-o.annotations.checkpoint.name),
 * checkpointctl and containerd (org.criu.checkpoint.*) and Podman
 * (io.podman.annotations.checkpoint.*) look for. The layer is ctrmig's
 * archive, uncompressed and signed, so a restore reads the layer blob as
 * it reads any archive. */
#ifndef CM_CHECKPOINT_IMAGE_H
#define CM_CHECKPOINT_IMAGE_H

#include <jansson.h>
#include <stdbool.h>

struct cm_store;
struct cm_error;

/* Writes the container's checkpoint (already dumped) as image ref in the
 * store; returns the image's record. */
json_t *cm_ckpt_image_create(struct cm_store *st, json_t *rec, const char *ref, const char *sign_key,
			     struct cm_error *err);

/* Whether an image is a checkpoint image (by its manifest's annotations). */
bool cm_ckpt_image_is(struct cm_store *st, json_t *img);

/* The archive a checkpoint image holds: its layer blob's path, or NULL with
 * err set. */
char *cm_ckpt_image_archive(struct cm_store *st, json_t *img, struct cm_error *err);

/* The annotations, for the writer and the unit tests. */
json_t *cm_ckpt_image_annotations(json_t *rec);

#endif
