/* ctrmig migrate, plain mode: preflight on the target, then checkpoint here
 * and stream the archive straight into `ctrmig restore -i -` there (one ssh
 * connection, no file on either side), confirm it runs there, remove it
 * here. After the freeze, any failure cleans the target first and only then
 * restores the container here, where it was: never lost, never running
 * twice. The local checkpoint is kept until the target confirms.
 *
 * --lazy (post-copy): the dump leaves private anonymous memory out, the
 * target restores at once with CRIU's lazy-pages daemon, which takes those
 * pages from CRIU's page server here through the relay (page_relay.h) and
 * ssh's forwarded port. The downtime ends when the target runs; the dump
 * ends when the last page is taken. If the transfer fails, CRIU resumes
 * the container here, and the copy there (missing memory) is removed. */
#ifndef CM_MIGRATE_H
#define CM_MIGRATE_H

#include <jansson.h>
#include <stdbool.h>

struct cm_store;
struct cm_error;
struct cm_mig_target;

struct cm_mig_opts {
	bool tcp_established, file_locks, include_image;
	bool lazy; /* post-copy: the target runs first, its memory follows */
	const char *compression; /* NULL: zstd */
};

struct cm_mig_result {
	double preflight, downtime, total; /* seconds */
	double checkpoint;                 /* runc checkpoint alone */
	unsigned long long bytes;          /* the archive as it left */
	unsigned long long page_bytes;     /* --lazy: the memory that followed */
	bool lazy;
	bool same_host;                    /* the target shares this host's boot id */
	char *target_version, *ip;         /* ip: the container's address there, or NULL */
};

int cm_migrate(struct cm_store *st, json_t *rec, const struct cm_mig_target *t,
	       const struct cm_mig_opts *o, struct cm_mig_result *res, struct cm_error *err);
void cm_mig_result_free(struct cm_mig_result *res);

/* What --lazy needs here before anything stops: userfaultfd with
 * non-cooperative events, and a CRIU config that keeps the page server on
 * the loopback. */
int cm_mig_lazy_check(struct cm_store *st, json_t *rec, struct cm_error *err);

/* On the target, after a failed move: removes the container with this id if
 * it is there (waiting for a restore in progress: it holds the store lock).
 * Prints "removed" or "absent". */
int cm_mig_abort_here(struct cm_store *st, const char *id, struct cm_error *err);

#endif
