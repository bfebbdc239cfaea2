/* The on-disk store: <root>/images, <root>/containers, the lock, volatile state. */
#ifndef CM_STORE_H
#define CM_STORE_H

#include <jansson.h>
#include <stdbool.h>

struct cm_error;

struct cm_store {
	char *root;      /* e.g. /var/lib/ctrmig */
	char *runtime;   /* runc binary name or path */
	char *runc_root; /* runc --root, under /run/ctrmig */
	int lock_fd;
};

/* With create, makes the store's folders if missing; without, a root that is
 * not a store is an error. */
int cm_store_open(struct cm_store *st, const char *root, const char *runtime, bool create,
		  struct cm_error *err);
/* Where a container's network namespace is mounted:
 * /run/ctrmig/<store hash>/netns/<id>. */
char *cm_store_netns_path(struct cm_store *st, const char *id);
/* The container's cgroup, /ctrmig/<store hash>/<id>: two stores on one
 * host may hold the same id at once (a lazy move's frozen source and its
 * copy), and a cgroup v1 freezer is shared by whoever uses its path. */
char *cm_store_cgroup_path(struct cm_store *st, const char *id);
/* The runc root of another store on this host where a container with this
 * id runs (its init alive): a copy restored there from an archive, or a
 * move's other half. NULL if none. */
char *cm_store_id_running_elsewhere(struct cm_store *st, const char *id);
/* A container's unix socket in the same folder, short enough for sun_path:
 * kind "attach" (its monitor's attach socket) or "console" (where runc sends
 * its terminal). */
char *cm_store_socket_path(struct cm_store *st, const char *kind, const char *id);
/* runc's state folder under /run/ctrmig, made before runc needs it. */
int cm_store_runtime_dir(struct cm_store *st, struct cm_error *err);
/* Removes /run/ctrmig/<hash> once the store has no container left. */
void cm_store_forget_runtime_if_empty(struct cm_store *st);
void cm_store_close(struct cm_store *st);

/* One lock serialises every command that changes the store; blocks until free. */
int cm_store_lock(struct cm_store *st, struct cm_error *err);
void cm_store_unlock(struct cm_store *st);

char *cm_store_ctr_dir(struct cm_store *st, const char *id);
char *cm_store_ctr_path(struct cm_store *st, const char *id, const char *rel);
char *cm_store_image_dir(struct cm_store *st, const char *id);

/* Every container record, oldest first (json array, caller owns). */
json_t *cm_store_list_ctrs(struct cm_store *st, struct cm_error *err);
/* Finds a container by name, full id or unique id prefix. */
json_t *cm_store_find_ctr(struct cm_store *st, const char *ref, struct cm_error *err);
json_t *cm_store_latest_ctr(struct cm_store *st, struct cm_error *err);
int cm_store_save_ctr(struct cm_store *st, json_t *rec, struct cm_error *err);
bool cm_store_name_taken(struct cm_store *st, const char *name);
/* Deletes a container's directory; it is renamed away first so that a
 * half-deleted container is never listed. Caller holds the lock. */
int cm_store_remove_ctr(struct cm_store *st, const char *id, struct cm_error *err);

#endif
