/* Checkpoint and restore of a container in place, through runc and CRIU.
 * The images live in <ctr>/checkpoint (CRIU's logs and statistics beside them
 * in <ctr>/checkpoint-work), or for a named, Docker-style checkpoint in
 * <dir>/<name>. The record's "checkpoint" object says which and when. */
#ifndef CM_CHECKPOINT_H
#define CM_CHECKPOINT_H

#include <jansson.h>
#include <stdbool.h>

#include "criu.h"

struct cm_store;
struct cm_error;

struct cm_ckpt_opts {
	bool leave_running, keep, tcp_established, file_locks, pre_dump, with_previous;
	/* Return only once the monitor has let go of the runtime state, the
	 * cgroup and the address: the next user of them is on this host. */
	bool wait_released;
	const char *name;       /* a named checkpoint, or NULL for the container's own */
	const char *parent_dir; /* where named checkpoints live; NULL: <ctr>/checkpoints */
	/* Post-copy (migrate --lazy): all but private anonymous memory is
	 * dumped, that memory is served by CRIU's page server at this
	 * "127.0.0.1:PORT". images_ready runs once the images are complete,
	 * the container frozen, with a copy of the record naming them; the
	 * dump returns when every page is taken, or fails with the container
	 * running again here. A failing images_ready must end the page
	 * server's session itself (migrate's relay does), or the dump waits. */
	const char *lazy_page_server;
	int (*images_ready)(void *arg, json_t *rec, struct cm_error *err);
	void *images_ready_arg;
	/* If set: called with the image folder, fresh and empty, right before
	 * runc checkpoint starts, and with NULL once it returned, whatever
	 * happened (checkpoint -e reads behind CRIU's writer). */
	void (*watch)(void *arg, const char *images);
	void *watch_arg;
};

struct cm_restore_opts {
	bool keep, tcp_established, file_locks;
	/* Take a new address or MAC instead of the ones the container had. */
	bool ignore_static_ip, ignore_static_mac;
	bool lazy; /* memory served on demand by CRIU's lazy-pages daemon (runtime/lazy_pages.h) */
	const char *lazy_page_server; /* with lazy: "ADDR:PORT" that serves the pages (migrate --lazy) */
	json_t *ports; /* -p: the published ports from now on, or NULL to keep them */
	const char *name;       /* restore from a named checkpoint (start --checkpoint) */
	const char *parent_dir;
};

/* What --print-stats reports. */
struct cm_ckpt_result {
	double runtime_seconds;
	bool has_stats;
	struct cm_criu_stats stats;
};

int cm_ckpt_dump(struct cm_store *st, json_t *rec, const struct cm_ckpt_opts *o,
		 struct cm_ckpt_result *res, struct cm_error *err);
int cm_ckpt_restore(struct cm_store *st, json_t *rec, const struct cm_restore_opts *o,
		    struct cm_ckpt_result *res, struct cm_error *err);

/* Named checkpoints (Docker's checkpoint ls | rm). */
char *cm_ckpt_named_parent(struct cm_store *st, json_t *rec, const char *parent_dir);
json_t *cm_ckpt_named_list(struct cm_store *st, json_t *rec, const char *parent_dir,
			   struct cm_error *err);
int cm_ckpt_named_remove(struct cm_store *st, json_t *rec, const char *parent_dir,
			 const char *name, struct cm_error *err);
bool cm_ckpt_name_valid(const char *name);

#endif
