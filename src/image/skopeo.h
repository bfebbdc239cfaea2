/* skopeo, ctrmig's transport to and from registries and archives: it brings
 * registries.conf, auth files, mirrors, proxies and retries, which ctrmig does
 * not re-implement. Run through proc_spawn.h only (argv, never a shell). */
#ifndef CM_SKOPEO_H
#define CM_SKOPEO_H

#include <stdbool.h>
#include <stddef.h>

struct cm_error;

struct cm_skopeo {
	int tls_verify;       /* -1: registries.conf decides; 0: plain HTTP allowed; 1: required */
	const char *authfile; /* or NULL: skopeo's default search */
	const char *tmpdir;   /* skopeo's big temporary files, inside the store */
	bool progress;        /* skopeo's progress on our stderr */
};

/* The skopeo binary ($CTRMIG_SKOPEO or skopeo on PATH); NULL with a
 * one-line error saying how to install it. */
const char *cm_skopeo_path(struct cm_error *err);

/* `skopeo inspect --raw docker://REF`: the manifest (or index) as the
 * registry serves it, at most 4 MiB. */
char *cm_skopeo_inspect_raw(const struct cm_skopeo *o, const char *ref, size_t *len, struct cm_error *err);
/* `skopeo copy SRC DST` (transport:...); the registry flags apply to
 * whichever side is docker://. */
int cm_skopeo_copy(const struct cm_skopeo *o, const char *src, const char *dst, struct cm_error *err);

/* skopeo's failure as one line: the message of its last "level=fatal" line,
 * with unreachable registries, missing images and refused credentials said
 * plainly and the registry named. Exposed for the unit tests. */
char *cm_skopeo_explain(const char *output, const char *registry);

#endif
