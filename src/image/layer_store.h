/* Layers, stored once by their uncompressed digest (diff_id) and shared by
 * every image that lists them:
 *
 *   <root>/layers/<hex>/diff/        the layer, in overlayfs' own format:
 *                                    whiteouts are 0:0 character devices, opaque
 *                                    folders carry trusted.overlay.opaque=y
 *   <root>/layers/<hex>/link         its short name (26 characters)
 *   <root>/layers/<hex>/layer.json   {"diff_id", "size", "created", "link",
 *                                     "compressed": [blob digests known to unpack to it]}
 *   <root>/layers/l/<short>          -> ../<hex>/diff
 *
 * The short links are containers/storage's trick: the mount option page
 * (4096 bytes) holds some 130 lower folders named "l/XXXX..." where it holds
 * only a few dozen full paths. Use is derived from the image records: no
 * reference count to go stale. The caller holds the store lock. */
#ifndef CM_LAYER_STORE_H
#define CM_LAYER_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct cm_store;
struct cm_error;

/* Overlayfs takes at most 500 lower folders. */
#define CM_LAYERS_MAX 500

struct cm_layer_apply {
	const char *blob;          /* the layer tar: plain, gzip or zstd (detected) */
	const char *blob_digest;   /* "sha256:..." the blob's bytes must hash to, or NULL */
	const char *diff_id;       /* "sha256:..." the uncompressed tar must hash to */
	const char *const *lowers; /* diff_ids of the layers below, bottom first */
	size_t n_lowers;
	/* Carried in a checkpoint archive: untrusted_entry.h's rules (no device
	 * nodes, no xattrs, no setuid/setgid bits). Otherwise the layer is kept as
	 * the image says, device nodes and setuid bits included. */
	bool untrusted;
};

/* "sha256:<hex>" -> whether <root>/layers/<hex> is in place. */
bool cm_layer_exists(struct cm_store *st, const char *diff_id);
/* Its layer.json. */
json_t *cm_layer_info(struct cm_store *st, const char *diff_id, struct cm_error *err);

/* Unpacks the blob into a new layer folder inside the layer's own root (no
 * name can leave it: no '..', no absolute names, no writing through a
 * symlink), turning whiteouts into overlay whiteouts and resolving hard links
 * to files of the lower layers, while hashing the compressed and the
 * uncompressed stream. Only when both digests match is the folder renamed
 * into place; otherwise nothing is kept. A layer already present is left. */
int cm_layer_apply(struct cm_store *st, const struct cm_layer_apply *a, struct cm_error *err);

/* Checks, without unpacking, that the blob hashes to blob_digest and
 * decompresses to diff_id (always: the file is read whatever layer.json
 * says), and notes it in layer.json ("compressed"). */
int cm_layer_verify_blob(struct cm_store *st, const char *blob, const char *blob_digest,
			 const char *diff_id, struct cm_error *err);
/* Whether blob_digest is already known to unpack to diff_id. */
bool cm_layer_knows_blob(struct cm_store *st, const char *diff_id, const char *blob_digest);

/* Moves an unpacked tree (a rootfs import, already in the store's file
 * system) into place as layer diff_id; the tree is gone afterwards, also
 * when the layer was there already. */
int cm_layer_adopt(struct cm_store *st, const char *tree, const char *diff_id, long long size,
		   const char *blob_digest, struct cm_error *err);

/* overlay's lowerdir= for layers given bottom first: top first, as
 * "l/SHORT:l/SHORT" relative to <root>/layers (mount from there), or with
 * absolute diff paths. */
char *cm_layer_lowerdir(struct cm_store *st, json_t *diff_ids, bool absolute, struct cm_error *err);
/* <root>/layers/<hex>/diff */
char *cm_layer_diff_path(struct cm_store *st, const char *diff_id);

/* Deletes a layer (renamed away first, so it never looks half there). */
int cm_layer_remove(struct cm_store *st, const char *diff_id, struct cm_error *err);

/* Removes what a killed command left: staging and half-removed folders,
 * short links that lead nowhere. The caller holds the lock. */
void cm_layer_recover(struct cm_store *st);

/* Pure helpers, exposed for the unit tests. */
/* Cleans an archive member name into a relative path ("./a//b/" -> "a/b");
 * "" for the root itself ("/", "./"). Returns -1 for absolute names and '..'. */
int cm_layer_clean_name(const char *in, char *out, size_t outlen);
/* What a member name means in a layer: */
enum cm_whiteout { CM_WH_NONE, CM_WH_FILE, CM_WH_OPAQUE, CM_WH_META, CM_WH_BAD };
/* For "a/b/.wh.c" fills target with "c" and returns CM_WH_FILE; "a/.wh..wh..opq"
 * is CM_WH_OPAQUE; other ".wh..wh." names are aufs metadata (CM_WH_META);
 * ".wh." naming "", "." or "..", or a ".wh." folder with members below it,
 * is CM_WH_BAD. name must be clean. */
enum cm_whiteout cm_layer_whiteout(const char *name, const char **target);

#endif
