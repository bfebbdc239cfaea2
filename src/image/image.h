/* The image store. An image is its config (its id is the hex sha256 of the
 * config's bytes, Docker's image id) over layers shared through the layer
 * store (layer_store.h):
 *
 *   <root>/images/<id>/image.json     the record, below
 *   <root>/images/<id>/manifest.json  the manifest's exact bytes
 *   <root>/images/<id>/config.json    the config's exact bytes
 *   <root>/blobs/sha256/<hex>         the layer blobs as they came (compressed
 *                                     or not), so that a save gives back the
 *                                     same manifest and digests
 *
 * image.json:
 *   {"id": "<64 hex>",
 *    "names": ["docker.io/library/alpine:3.19", ...],   normalised, may be empty
 *    "digest": "sha256:<hex>",        sha256 of manifest.json
 *    "repo_digests": ["docker.io/library/alpine@sha256:<hex>", ...]
 *                                     what registries call it (pull by these;
 *                                     differs from digest when skopeo had to
 *                                     convert a Docker manifest to OCI)
 *    "layers": ["sha256:<diff_id>", ...],   bottom first
 *    "config": {...},                 the whole image config (architecture,
 *                                     os, config{Entrypoint, Cmd, Env, ...},
 *                                     rootfs, history)
 *    "created": "...",                the config's, or when it was imported
 *    "size": N,                       bytes of the uncompressed layers
 *    "rootfs_digest": "sha256:...",   `image import` only: tree_digest.h's
 *                                     digest, by which archives of format 1
 *                                     name their base
 *    "source": "docker://...", "docker-archive:FILE", "oci:DIR", a path}
 *
 * cm_image_list/find add "name" (the name that matched, the first name, or
 * the id) for callers that show one. Every function that changes the store
 * expects the caller to hold the store lock. */
#ifndef CM_IMAGE_H
#define CM_IMAGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct cm_store;
struct cm_error;

/* Bounds on what registries and archives hand over. */
#define CM_IMAGE_JSON_MAX (4 << 20)

/* Imports a rootfs tarball or folder as a one-layer image named NAME; returns
 * its record. An untrusted tarball (carried in a checkpoint archive) follows
 * the rules of untrusted_entry.h. The layer is a tar ctrmig writes from the
 * tree and the config has a fixed created time, so the same rootfs gives the
 * same id (where the files' times agree). */
json_t *cm_image_import(struct cm_store *st, const char *src, const char *name, bool untrusted,
			struct cm_error *err);
/* A reference cm_ref_parse takes (reference.h). */
bool cm_image_name_valid(const char *name);
/* Every image record, by id. */
json_t *cm_image_list(struct cm_store *st, struct cm_error *err);
/* By name (normalised: "alpine" finds docker.io/library/alpine:latest),
 * NAME@sha256:DIGEST, id, "sha256:" + id, manifest digest, repo digest or
 * rootfs_digest, or a unique id prefix. */
json_t *cm_image_find(struct cm_store *st, const char *ref, struct cm_error *err);
/* Removes an image no container uses. By a name that is not the image's
 * only one, only that name goes. */
int cm_image_remove(struct cm_store *st, const char *ref, struct cm_error *err);
/* As cm_image_remove; with force an image in use loses its names instead.
 * Fills *what with "Untagged: NAME" / "Deleted: ID" lines (caller frees). */
int cm_image_remove_opt(struct cm_store *st, const char *ref, bool force, char **what, struct cm_error *err);
/* Gives the image found by ref the name new_name (normalised), taking it
 * from any image that had it. */
int cm_image_tag(struct cm_store *st, const char *ref, const char *new_name, struct cm_error *err);
/* The image's layers as overlayfs' lowerdir, absolute paths, top first. */
char *cm_image_rootfs(struct cm_store *st, const char *id);

/* ---- for the importers (oci_layout.c) and the mounts -------------------- */

struct cm_image_new {
	const char *manifest; /* exact bytes, already verified */
	size_t manifest_len;
	const char *config;
	size_t config_len;
	const char *name;          /* normalised name to give it, or NULL: untagged */
	const char *const *repo_digests; /* "repository@sha256:...", NULL-terminated, or NULL */
	const char *rootfs_digest; /* imports only, or NULL */
	const char *source;
	bool imported; /* created = now rather than the config's time */
};
/* Registers an image whose layers are all in the layer store (an image
 * already here gains the name and repo digest). Returns its record. */
json_t *cm_image_register(struct cm_store *st, const struct cm_image_new *n, struct cm_error *err);

/* <root>/blobs/sha256/<hex> */
char *cm_image_blob_path(struct cm_store *st, const char *digest);
/* Puts a verified blob into the blob store: moved (hard-linked, for files
 * already in the store's file system) or copied. */
int cm_image_blob_put(struct cm_store *st, const char *src, const char *digest, bool move,
		      struct cm_error *err);

/* overlayfs' lowerdir for the image: relative short links to mount from
 * <root>/layers (*relative = true), or one absolute folder (images of an
 * older store, *relative = false). */
char *cm_image_lowerdir(struct cm_store *st, const char *id, bool *relative, struct cm_error *err);
/* A read-only view of the image's merged layers: an fd of a mount that is
 * attached nowhere (it goes away with the fd). Read it as /proc/self/fd/N. */
int cm_image_view_open(struct cm_store *st, const char *id, struct cm_error *err);
/* A tar of the image's merged root file system (layer_tar.h's order). */
int cm_image_write_rootfs_tar(struct cm_store *st, const char *id, int fd, struct cm_error *err);

/* A private staging folder inside the store, for work done without the lock
 * (a pull's download, a save): <root>/images/.tmp-<pid>-<start>-<random>.
 * cm_image_recover removes those whose process is gone. */
char *cm_image_staging(struct cm_store *st, struct cm_error *err);

/* Removes layers and blobs that no image lists. */
void cm_image_gc(struct cm_store *st);
/* What a killed image command left behind: staging folders, unreferenced
 * layers and blobs of an interrupted pull or removal. Caller holds the lock. */
void cm_image_recover(struct cm_store *st);

/* The host's platform in OCI's words: "amd64", "arm64" (variant "v8"), ... */
const char *cm_image_host_arch(const char **variant);

#endif
