/* Pulling an image from a registry: skopeo copies it into an OCI layout
 * staged inside the store, then oci_layout.h imports it with every digest
 * checked. */
#ifndef CM_PULL_H
#define CM_PULL_H

#include <jansson.h>
#include <stdbool.h>

struct cm_store;
struct cm_error;

struct cm_pull_opts {
	bool quiet;           /* no progress, even on a terminal */
	int tls_verify;       /* -1: registries.conf decides; 0: plain HTTP allowed; 1: required */
	const char *authfile; /* skopeo's --authfile */
	const char *creds;    /* USER[:PASS]; without PASS it is asked on the terminal */
	bool untagged;        /* give no name (a restore that pulls its base by digest must not move a tag) */
};

/* Pulls ref ("alpine", "registry:5000/app@sha256:..."): returns the image's
 * record. When the registry's manifest digest for this host (one `skopeo
 * inspect --raw`) is one the store has already, nothing is copied: the image
 * only gets the name. Takes the store lock for what changes the store, not
 * while skopeo downloads. */
json_t *cm_image_pull(struct cm_store *st, const char *ref, const struct cm_pull_opts *o, struct cm_error *err);

#endif
