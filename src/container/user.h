/* The user a container runs as: "NAME|UID[:GROUP|GID]", as -u and an image's
 * User say it, resolved in the image's own /etc/passwd and /etc/group. */
#ifndef CM_USER_H
#define CM_USER_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

struct cm_error;

struct cm_user {
	uid_t uid;
	gid_t gid;
	json_t *groups; /* additional gids (the groups that list the user), owned */
};

/* roots: the image's file system, top layer first; the first that has
 * etc/passwd is read, inside that root (its symlinks cannot lead out).
 * An empty spec is root. A name that the image does not know is an error. */
int cm_user_resolve(const char *spec, const char *const *roots, size_t nroots, struct cm_user *out,
		    struct cm_error *err);

/* The same for an image's layers as overlayfs' lowerdir lists them
 * ("top:...:bottom", absolute paths). */
int cm_user_resolve_lowerdir(const char *spec, const char *lowerdir, struct cm_user *out,
			     struct cm_error *err);

/* A file of the image (etc/passwd, etc/group), read inside root so that its
 * symlinks cannot lead out; at most 1 MiB. NULL when it cannot be read. */
char *cm_user_read_in_root(const char *root, const char *path);
/* The name that /etc/passwd or /etc/group text gives id (the third field),
 * or NULL (caller frees). */
char *cm_user_name_of(const char *db, unsigned long id);

/* Parsing, for the unit tests: passwd and group as text (NULL: none). */
int cm_user_resolve_text(const char *spec, const char *passwd, const char *group,
			 struct cm_user *out, struct cm_error *err);

#endif
