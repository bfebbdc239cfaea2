/* Unpacking trees with libarchive, always with the SECURE_* extract flags. */
#ifndef CM_UNPACK_H
#define CM_UNPACK_H

#include <stdbool.h>

struct cm_error;

/* Unpacks an archive file (any format and compression libarchive reads) into
 * dest, which must exist. Names with "..", absolute names and writes through
 * symlinks are refused. Owners, permissions, times and xattrs are kept, unless
 * the archive is untrusted (carried in a checkpoint archive): then the rules
 * of untrusted_entry.h apply and no setuid/setgid bit is kept. */
int cm_unpack_file(const char *archive_path, const char *dest, bool untrusted, struct cm_error *err);

/* Copies the tree at src into dest with the same rules (a folder import). */
int cm_unpack_dir(const char *src, const char *dest, struct cm_error *err);

#endif
