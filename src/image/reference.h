/* Image references as Docker and skopeo read them:
 *   alpine                    -> docker.io/library/alpine:latest
 *   registry:5000/team/app@sha256:<64 hex>
 * The first component is a registry when it holds '.' or ':', is
 * "localhost", or has upper-case letters; otherwise the registry is
 * docker.io, where a one-component name lives under library/. */
#ifndef CM_REFERENCE_H
#define CM_REFERENCE_H

#include <stdbool.h>

struct cm_error;

/* Limits of distribution/reference: a repository (registry/path) of at most
 * 255 characters, a tag of at most 128. */
#define CM_REF_NAME_MAX 255
#define CM_REF_TAG_MAX 128

struct cm_ref {
	char *domain; /* "docker.io", "localhost:5000", "[::1]:5000" */
	char *path;   /* "library/alpine", "team/app" */
	char *tag;    /* "latest" when neither a tag nor a digest was given; NULL with only a digest */
	char *digest; /* "sha256:<64 hex>" or NULL */
};

/* Parses and normalises s; fills ref (free it with cm_ref_free). On error the
 * message quotes s and says which rule it broke. */
int cm_ref_parse(const char *s, struct cm_ref *ref, struct cm_error *err);
void cm_ref_free(struct cm_ref *ref);

/* "docker.io/library/alpine" */
char *cm_ref_repository(const struct cm_ref *ref);
/* The whole normalised form: "docker.io/library/alpine:3.19",
 * "docker.io/library/alpine@sha256:...", or with both "NAME:TAG@sha256:..." */
char *cm_ref_string(const struct cm_ref *ref);
/* REPOSITORY:TAG, or REPOSITORY@DIGEST without a tag: the name an image is
 * stored under and the form skopeo is given. */
char *cm_ref_name_tag(const struct cm_ref *ref);

/* parse + cm_ref_string in one step; NULL with err set on a bad reference. */
char *cm_ref_normalize(const char *s, struct cm_error *err);

/* "sha256:" and 64 lower-case hex characters. */
bool cm_digest_valid(const char *s);

#endif
