/* A container's file changes, as Podman carries them: rootfs-diff.tar holds
 * what was added or changed in the overlay's upper layer, deleted.files the
 * paths the container deleted from the image (overlay whiteouts). */
#ifndef CM_ROOTFS_DIFF_H
#define CM_ROOTFS_DIFF_H

#include <archive.h>
#include <jansson.h>
#include <stdbool.h>

struct archive;
struct archive_entry;
struct cm_error;

/* Copies the current entry's data from a disk or archive reader into an
 * archive writer; name is for the error. */
int cm_archive_copy_data(struct archive *in, struct archive *out, const char *name,
			 struct cm_error *err);

/* What an overlay upper folder holds, entry by entry, parents first: rel is
 * the path inside the container's root (no leading '/'); kind says whether
 * it was deleted (a whiteout), is a folder whose image contents were
 * replaced (opaque; its new contents follow), or was added or changed. fn
 * may read the entry's data from in; a negative return stops the walk. */
enum cm_upper_kind { CM_UPPER_ENTRY, CM_UPPER_DELETED, CM_UPPER_OPAQUE_DIR };
typedef int (*cm_upper_fn)(struct archive *in, struct archive_entry *e, const char *rel,
			   enum cm_upper_kind kind, void *arg, struct cm_error *err);
int cm_rootfs_upper_walk(const char *upper_dir, cm_upper_fn fn, void *arg, struct cm_error *err);

/* Writes the diff of upper_dir as a tar to out_fd; returns the deleted paths
 * (a JSON array of relative paths), or NULL with err set. */
json_t *cm_rootfs_diff_write(const char *upper_dir, int out_fd, struct cm_error *err);

/* The same tar, handed to write (libarchive's write callback, with arg) as
 * it is made. With sizing, no file is read: each entry's data comes as
 * zeros, so that the bytes counted are the tar's exact size, for a header
 * that must say it before the tar itself is streamed. */
json_t *cm_rootfs_diff_stream(const char *upper_dir, archive_write_callback *write, void *arg, bool sizing,
			      struct cm_error *err);

/* Applies deleted paths, then the diff tar, inside root (a mounted container
 * rootfs): in a child that chroots there, so that the container's own
 * symlinks (/var/run -> /run) work and nothing can reach outside. The diff
 * is untrusted (untrusted_entry.h): setuid/setgid bits stay only on files
 * base_root (the image) has with the same bits; a deleted path may not lead
 * through a symlink the diff plants. */
int cm_rootfs_diff_apply(const char *root, const char *base_root, const char *diff_tar,
			 json_t *deleted, struct cm_error *err);

#endif
