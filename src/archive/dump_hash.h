/* checkpoint -e: the SHA-256 of CRIU's page images, computed while CRIU
 * writes them (chunked, chunked_sha256.h), reading behind its writer on the core the dump leaves idle,
 * so that the export that follows streams them without hashing them again.
 * CRIU writes a page image from start to end, never back; a digest is used
 * only for the same file (device, inode), unchanged since (size, mtime,
 * ctime), and any doubt leaves the export to hash the file itself. */
#ifndef CM_DUMP_HASH_H
#define CM_DUMP_HASH_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/stat.h>

struct cm_error;
struct cm_dump_hash;

/* Starts following the image folder images, empty now, that CRIU is
 * about to fill. */
struct cm_dump_hash *cm_dump_hash_start(const char *images, struct cm_error *err);

/* CRIU has finished (or failed): the thread hashes what is left of the
 * files it follows, at full speed now, while the export streams them. */
void cm_dump_hash_criu_done(struct cm_dump_hash *h);

/* Whether path is a page image h follows (so that the export need not
 * hash it). Only once CRIU is done (says so if not yet). */
bool cm_dump_hash_follows(struct cm_dump_hash *h, const char *path);

/* Waits until every file is hashed to its end, stops, frees h. Returns
 * path -> {"sha256", "chunks", "size", "dev", "ino", "mtime", "ctime"} for
 * each page image followed to its end: its chunked digest
 * (chunked_sha256.h) and its chunks' digests, as hex. */
json_t *cm_dump_hash_finish(struct cm_dump_hash *h);

/* The digest of the file at path, open as sb describes it, if digests has
 * one for that very file as it is now; else NULL. *chunks (if not NULL)
 * then points at its chunks' digests, as hex. */
const char *cm_dump_hash_lookup(json_t *digests, const char *path, const struct stat *sb,
				const char **chunks);

#endif
