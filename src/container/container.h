/* A container's life: create, start, stop, kill, remove, and its status.
 * The record is <root>/containers/<id>/container.json:
 *   {"id", "name", "created", "image": {"id", "name", "digest"}, "config": {...},
 *    "state": "created"|"running"|"exited"|"checkpointed",
 *    "pid", "pid_start", "monitor_pid", "started_at", "finished_at", "exit_code"}
 * While "running", exit.json (written by the monitor) says when it ended. */
#ifndef CM_CONTAINER_H
#define CM_CONTAINER_H

#include <jansson.h>
#include <stdbool.h>

struct cm_store;
struct cm_error;

enum cm_ctr_status { CM_CTR_CREATED, CM_CTR_RUNNING, CM_CTR_EXITED, CM_CTR_CHECKPOINTED };

struct cm_ctr_state {
	enum cm_ctr_status status;
	int exit_code;
	char *finished_at; /* NULL while it never ended */
};

const char *cm_ctr_status_name(enum cm_ctr_status s);
/* Derives the status from the record, exit.json and whether the process lives:
 * a container whose process vanished (kill -9, reboot) is exited, not running. */
void cm_ctr_state_get(struct cm_store *st, json_t *rec, struct cm_ctr_state *out);
void cm_ctr_state_free(struct cm_ctr_state *s);
/* Only the status, for the many callers that ask nothing else. */
enum cm_ctr_status cm_ctr_status_of(struct cm_store *st, json_t *rec);

bool cm_ctr_name_valid(const char *name);
/* What a container's record keeps of its image, so that another host finds
 * the same base: {"id", "name", "digest" (manifest), "repo_digest"
 * (REPOSITORY@sha256:..., to pull it by), "rootfs_digest" (an import's tree)}. */
json_t *cm_ctr_image_ref(json_t *image);
/* The overlay's upper folder is the container's "/": the mode of the
 * image's top layer root (0555 unless a layer says otherwise, as
 * containers/storage has it), so a container's root looks the same to
 * CRIU here and in Podman. */
int cm_ctr_upper_mode(struct cm_store *st, const char *ctr_dir, const char *image_id, struct cm_error *err);
/* Makes the record, bundle and overlay directories; state "created". */
json_t *cm_ctr_create(struct cm_store *st, const char *name, json_t *image, json_t *config,
		      struct cm_error *err);
int cm_ctr_start(struct cm_store *st, json_t *rec, bool remove_on_exit, struct cm_error *err);
/* SIGTERM, then SIGKILL after timeout seconds; returns once exit.json exists. */
int cm_ctr_stop(struct cm_store *st, json_t *rec, int timeout, struct cm_error *err);
int cm_ctr_kill(struct cm_store *st, json_t *rec, int sig, struct cm_error *err);
int cm_ctr_remove(struct cm_store *st, json_t *rec, bool force, struct cm_error *err);
/* Waits up to timeout seconds for the monitor to record the exit. */
bool cm_ctr_wait_exit(struct cm_store *st, json_t *rec, double timeout);
/* The runc config, built afresh from the record's config (never taken from
 * an archive), with this binary's hook and the store's CRIU config. */
json_t *cm_ctr_build_spec(struct cm_store *st, json_t *rec, struct cm_error *err);
/* Writes bundle/config.json from the record before runc create or restore;
 * hands the spec back in *spec_out when that is not NULL. */
int cm_ctr_refresh_spec(struct cm_store *st, json_t *rec, json_t **spec_out, struct cm_error *err);
/* Before a new monitor starts: waits for the last one to finish, then clears
 * what it left (runc state, mount, exit.json). */
void cm_ctr_prepare_relaunch(struct cm_store *st, json_t *rec);
/* Under the store lock, before a command changes anything: removes what a
 * killed command staged, and settles a restore whose caller was killed
 * (running if the monitor says so, else still checkpointed). */
void cm_ctr_recover(struct cm_store *st);
/* The record marked running with the pids the monitor reported. */
void cm_ctr_mark_running(json_t *rec, pid_t pid, pid_t monitor_pid);

#endif
