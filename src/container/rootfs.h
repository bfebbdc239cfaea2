/* A container's root file system: overlayfs with the image's layers below
 * and the container's own changes in upper/. */
#ifndef CM_ROOTFS_H
#define CM_ROOTFS_H

#include <stdbool.h>

struct cm_store;
struct cm_error;

/* Mounts <ctr>/rootfs unless it is mounted already. */
int cm_rootfs_mount(struct cm_store *st, const char *ctr_id, const char *image_id,
		    struct cm_error *err);
/* The image's layers (short links, top first) under upper at target. */
int cm_rootfs_mount_image(struct cm_store *st, const char *image_id, const char *upper, const char *work,
			  const char *target, struct cm_error *err);
/* The same overlay with every folder named, for one outside the store's
 * usual place (an import being staged). */
int cm_rootfs_mount_at(const char *lower, const char *upper, const char *work, const char *target,
		       struct cm_error *err);
int cm_rootfs_umount(struct cm_store *st, const char *ctr_id, struct cm_error *err);
bool cm_rootfs_is_mounted(const char *path);

#endif
