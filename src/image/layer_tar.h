/* A tar of a folder that depends only on what the folder holds: members in
 * name order, numeric owners only, whole-second times, no atime or ctime.
 * The same rootfs imported twice (or carried to another host and imported
 * there) gives the same bytes, so the same layer digest and image id. */
#ifndef CM_LAYER_TAR_H
#define CM_LAYER_TAR_H

struct cm_error;

/* Writes the tree under dirfd (the folder itself is not a member) to out,
 * and fills hex with the sha256 of what was written and *size with its
 * length. Overlay whiteouts (0:0 character devices) and overlayfs' own
 * trusted.overlay.* attributes are left out. */
int cm_tree_tar_write(int dirfd, int out, char hex[65], long long *size, struct cm_error *err);

#endif
