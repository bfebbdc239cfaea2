/* image push: an image of the store to a registry, through skopeo, with its
 * stored manifest and blobs (so its digests stay its own). */
#ifndef CM_PUSH_H
#define CM_PUSH_H

#include <stdbool.h>

struct cm_store;
struct cm_error;

struct cm_push_opts {
	int tls_verify;       /* -1: registries.conf decides; 0: plain HTTP allowed; 1: required */
	const char *authfile; /* skopeo's --authfile, or NULL */
	bool quiet;
};

/* Pushes image ref to dest (a reference; NULL: the image's own name).
 * Prints nothing; returns 0 or -1 with err set. */
int cm_image_push(struct cm_store *st, const char *ref, const char *dest, const struct cm_push_opts *o,
		  struct cm_error *err);

#endif
