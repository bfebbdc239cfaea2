/* ctrmig cp's engine: a file or folder packed as a tar inside one root and
 * unpacked inside another, each side in a child that chroots into its root
 * (a container's), so that no path and no symlink of the container can lead
 * to the host. Extraction refuses ".." and absolute names and never writes
 * through a symlink it finds. */
#ifndef CM_COPY_TREE_H
#define CM_COPY_TREE_H

#include <stdbool.h>
#include <sys/stat.h>

struct cm_error;

/* stat(2) of path inside root ("/" for the host), its symlinks resolved the
 * way the root's own processes would; a final one only with follow (else
 * lstat). -1 with errno set. */
int cm_copy_stat(const char *root, const char *path, bool follow, struct stat *sb);

/* Packs src (inside root) into tar_fd: its entries are named top/..., or,
 * with contents_only, after what src holds. Symlinks are copied as links. */
int cm_copy_pack(const char *root, const char *src, const char *top, bool contents_only, int tar_fd,
		 struct cm_error *err);

/* Unpacks tar_fd into the folder dir (inside root). With untrusted (a tar
 * packed inside a container), device nodes are refused and setuid/setgid
 * bits cleared, as for a checkpoint's rootfs diff. Files belong to the
 * user who copies, as with docker cp. */
int cm_copy_unpack(const char *root, const char *dir, int tar_fd, bool untrusted,
		   struct cm_error *err);

#endif
