/* A content digest of a directory tree, independent of how it was unpacked:
 * the same rootfs gives the same id from a tarball, a folder, or another host. */
#ifndef CM_TREE_DIGEST_H
#define CM_TREE_DIGEST_H

struct cm_error;

/* Fills hex (64 chars + NUL) with the sha256 over every entry under dir, in
 * name order: path, type, permission bits, owner, and content or link target.
 * Modification times are left out on purpose. Returns the bytes of file data. */
long long cm_tree_digest(const char *dir, char hex[65], struct cm_error *err);

#endif
