/* The image store: read-only root file systems under <root>/images/<id>. */
#ifndef CM_IMAGE_H
#define CM_IMAGE_H

#include <jansson.h>
#include <stdbool.h>

struct cm_store;
struct cm_error;

/* Imports a rootfs tarball or folder as NAME; returns its record. An
 * untrusted tarball (carried in a checkpoint archive) follows the rules of
 * untrusted_entry.h. */
json_t *cm_image_import(struct cm_store *st, const char *src, const char *name, bool untrusted,
			struct cm_error *err);
/* Letters, digits, '.', '_', '-', ':'; no ".." (names become messages and
 * keys, and a carried image's name comes from an archive). */
bool cm_image_name_valid(const char *name);
/* Every image record, by name. */
json_t *cm_image_list(struct cm_store *st, struct cm_error *err);
/* By name, id, "sha256:" digest or unique id prefix. */
json_t *cm_image_find(struct cm_store *st, const char *ref, struct cm_error *err);
/* Refuses while a container uses the image. */
int cm_image_remove(struct cm_store *st, const char *ref, struct cm_error *err);
char *cm_image_rootfs(struct cm_store *st, const char *id);

#endif
