/* Unpacking trees with libarchive, always with the SECURE_* extract flags. */
#ifndef CM_UNPACK_H
#define CM_UNPACK_H

#include <stdbool.h>

struct archive;
struct cm_error;

/* Enables the compressions libarchive decodes in-process (gzip, bzip2, xz,
 * lzma, zstd, lz4), never archive_read_support_filter_all's outside
 * programs. */
void cm_archive_support_builtin_filters(struct archive *a);

/* Unpacks an archive file (any format libarchive reads, compressed as cm_archive_support_builtin_filters allows) into
 * dest, which must exist. Names with "..", absolute names and writes through
 * symlinks are refused. Owners, permissions, times and xattrs are kept, unless
 * the archive is untrusted (carried in a checkpoint archive): then the rules
 * of untrusted_entry.h apply and no setuid/setgid bit is kept. */
int cm_unpack_file(const char *archive_path, const char *dest, bool untrusted, struct cm_error *err);

/* Copies the tree at src into dest with the same rules (a folder import). */
int cm_unpack_dir(const char *src, const char *dest, struct cm_error *err);

#endif
