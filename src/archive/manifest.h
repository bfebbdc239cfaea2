/* The checkpoint archive's rules (format 2): which members may be in it, and
 * ctrmig.manifest, its last member, with the size and sha256 of every other:
 * for a page image, its chunked sha256 (chunked_sha256.h), which format 1
 * did not have. */
#ifndef CM_MANIFEST_H
#define CM_MANIFEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct cm_error;

#define CM_ARCHIVE_FORMAT 2
#define CM_MANIFEST_NAME "ctrmig.manifest"

enum cm_member_kind { CM_MEMBER_FILE, CM_MEMBER_DIR };

/* Normalises an outer-archive name in place (drops "./" and a trailing "/")
 * and says whether it may be there with that kind: the known top-level files,
 * the checkpoint/ and pre-checkpoint/ folders and plain files right inside
 * them. Everything else (links, devices, "..", absolute names, names that
 * are not UTF-8, other names) is refused with a reason in err. */
int cm_member_check(char *name, enum cm_member_kind kind, struct cm_error *err);

/* Whether a path from deleted.files may be applied inside a root: relative,
 * no "..", no empty or "." parts. */
bool cm_member_path_safe(const char *path);

/* The most bytes a member may have whatever the manifest says: the JSON
 * documents are small, so a large one is an attack on memory, not data.
 * UINT64_MAX for members bounded only by the space they need. */
uint64_t cm_member_max_size(const char *name);

/* At most this many members: a checkpoint has a few files per process. */
#define CM_ARCHIVE_MAX_MEMBERS 100000

/* A page image (checkpoint/pages-N.img, pre-checkpoint/pages-N.img), whose
 * digest is chunked from format 2 on. */
bool cm_member_chunked(const char *name);
/* The manifest's key for name's digest in that format: "chunked_sha256"
 * or "sha256". */
const char *cm_member_digest_key(int format, const char *name);

json_t *cm_manifest_new(void);
void cm_manifest_add(json_t *manifest, const char *name, uint64_t size, const char *sha256_hex);

/* Checks what was read (an object name -> {"size", KEY}, KEY as
 * cm_member_digest_key says for the manifest's format) against the
 * manifest: every member listed and the same, nothing unlisted. The error
 * names the first member that differs. */
int cm_manifest_verify(json_t *manifest, json_t *seen, struct cm_error *err);

#endif
