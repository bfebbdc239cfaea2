/* restore --lazy -i FILE of a format-2 archive (zstd_frames.h): the import
 * reads the tar through the archive's index and leaves the page images in
 * the file, then writes only the runs of pages CRIU restores itself; the
 * rest is served later from the file (page_server.h), each chunk checked.
 * The index is only a map: the skipped page images count as read when the
 * index's chunk digests, hashed, match the signed manifest. */
#ifndef CM_LAZY_IMPORT_H
#define CM_LAZY_IMPORT_H

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>
#include <stdbool.h>

struct cm_error;
struct cm_lazy_import;

/* The index of input, a file: NULL without err set if it has none (a pipe,
 * gzip, an older format) or a damaged one (warned about): the archive is
 * then read whole. NULL with err set if input cannot be opened. */
struct cm_lazy_import *cm_lazy_import_open(const char *input, struct cm_error *err);
void cm_lazy_import_free(struct cm_lazy_import *li);

/* Opens a on the tar inside the frames. */
int cm_lazy_import_read_open(struct cm_lazy_import *li, struct archive *a);

/* Whether name is a page image to leave in the archive, in an archive of
 * that format (1 has no chunk digests). */
bool cm_lazy_import_defers(const struct cm_lazy_import *li, const char *name, int format);

/* Skips the data of member name (entry e, read by a), which must be where
 * the index says, and records it in seen as read, with its chunked digest. */
int cm_lazy_import_defer(struct cm_lazy_import *li, struct archive *a, struct archive_entry *e, const char *name,
			 json_t *seen, struct cm_error *err);

/* How many page images were left in the archive. */
size_t cm_lazy_import_deferred(const struct cm_lazy_import *li);

/* The bytes cm_lazy_import_fill will write into images: what CRIU restores
 * itself, for which the folder must have room. */
int cm_lazy_import_measure(struct cm_lazy_import *li, const char *images, uint64_t *bytes, struct cm_error *err);

/* Writes them into images (CRIU's folder): full size, holding only the runs
 * the memory maps there do not mark lazy, each read from a checked chunk. */
int cm_lazy_import_fill(struct cm_lazy_import *li, const char *images, struct cm_error *err);

/* The record's lazy_archive: {"file": input's real path, "members": {name:
 * chunked digest}}, or NULL with err. */
json_t *cm_lazy_import_record(const struct cm_lazy_import *li, const char *input, struct cm_error *err);

#endif
