/* ctrmig migrate, plain mode: preflight on the target, then checkpoint here
 * and stream the archive straight into `ctrmig restore -i -` there (one ssh
 * connection, no file on either side), confirm it runs there, remove it
 * here. After the freeze, any failure cleans the target first and only then
 * restores the container here, where it was: never lost, never running
 * twice. The local checkpoint is kept until the target confirms. */
#ifndef CM_MIGRATE_H
#define CM_MIGRATE_H

#include <jansson.h>
#include <stdbool.h>

struct cm_store;
struct cm_error;
struct cm_mig_target;

struct cm_mig_opts {
	bool tcp_established, file_locks, include_image;
	const char *compression; /* NULL: zstd */
};

struct cm_mig_result {
	double preflight, downtime, total; /* seconds */
	double checkpoint;                 /* runc checkpoint alone */
	unsigned long long bytes;          /* the archive as it left */
	bool same_host;                    /* the target shares this host's boot id */
	char *target_version, *ip;         /* ip: the container's address there, or NULL */
};

int cm_migrate(struct cm_store *st, json_t *rec, const struct cm_mig_target *t,
	       const struct cm_mig_opts *o, struct cm_mig_result *res, struct cm_error *err);
void cm_mig_result_free(struct cm_mig_result *res);

/* On the target, after a failed move: removes the container with this id if
 * it is there (waiting for a restore in progress: it holds the store lock).
 * Prints "removed" or "absent". */
int cm_mig_abort_here(struct cm_store *st, const char *id, struct cm_error *err);

#endif
