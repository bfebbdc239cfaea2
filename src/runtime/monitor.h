/* The per-container monitor (like Podman's conmon): a small process that is
 * the container's subreaper, owns its stdout/stderr pipes, writes ctr.log and
 * records the exit status in exit.json when the container ends. */
#ifndef CM_MONITOR_H
#define CM_MONITOR_H

#include <stdbool.h>
#include <sys/types.h>

struct cm_store;
struct cm_error;

/* Starts a monitor that runs runc_argv (runc create or runc restore --detach)
 * with fresh pipes as the container's stdio. Returns once runc has finished:
 * the container exists (created, or restored and running) and its pid is known.
 * On failure the error carries runc's own message. */
int cm_monitor_launch(struct cm_store *st, const char *id, char *const runc_argv[],
		      bool remove_on_exit, pid_t *ctr_pid, pid_t *monitor_pid,
		      struct cm_error *err);

/* The monitor process itself: `ctrmig __monitor [--rm] ID -- RUNC ARGV...`. */
int cm_monitor_main(struct cm_store *st, int argc, char **argv);

/* exit.json, written by the monitor after the container and its runtime state
 * are gone. Returns -1 when there is none (still running, or monitor lost). */
int cm_monitor_read_exit(struct cm_store *st, const char *id, int *exit_code,
			 char **finished_at);
int cm_monitor_write_exit(struct cm_store *st, const char *id, int exit_code);
void cm_monitor_clear_exit(struct cm_store *st, const char *id);

/* launched.json, written by the monitor once runc has started or restored
 * the container: how a caller killed in the middle is found out afterwards.
 * read returns 0 while that process lives. */
void cm_monitor_write_launched(struct cm_store *st, const char *id, pid_t ctr_pid);
int cm_monitor_read_launched(struct cm_store *st, const char *id, pid_t *ctr_pid, pid_t *monitor_pid);

/* What the monitor does when a container ends: runc delete, unmount the
 * rootfs, release the network (CNI DEL, then the namespace). rm and stop do
 * it too when the monitor was lost. Idempotent. */
void cm_monitor_release_runtime(struct cm_store *st, const char *id);

#endif
