/* Driving the OCI runtime (runc): argv building and running its commands. */
#ifndef CM_RUNC_H
#define CM_RUNC_H

#include <stdbool.h>

#include "util.h"

struct cm_store;
struct cm_error;

/* Options of `runc checkpoint`, Podman's meanings. */
struct cm_runc_ckpt_opts {
	const char *image_path;
	const char *work_path;
	const char *parent_path; /* --parent-path, relative to image_path */
	bool leave_running;
	bool tcp_established;
	bool file_locks;
	bool pre_dump;
	/* Post-copy: "ADDR:PORT" of the page server that serves the lazy
	 * memory, and the fd CRIU's readiness byte is written to (-1: none). */
	const char *lazy_page_server;
	int status_fd;
};

struct cm_runc_restore_opts {
	const char *image_path;
	const char *work_path;
	const char *bundle;
	const char *pid_file;
	bool tcp_established;
	bool file_locks;
	const char *console_socket; /* a container with a terminal: where its new master goes */
	bool lazy_pages; /* memory from CRIU's lazy-pages daemon, whose work folder is work_path */
};

/* argv: RUNTIME --root RUNC_ROOT SUBCOMMAND */
void cm_runc_argv_base(struct cm_store *st, struct cm_argv *a, const char *subcmd);
/* console_socket: for a container with a terminal, where runc sends its master. */
void cm_runc_argv_create(struct cm_store *st, struct cm_argv *a, const char *id,
			 const char *bundle, const char *pid_file, const char *console_socket);
void cm_runc_argv_checkpoint(struct cm_store *st, struct cm_argv *a, const char *id,
			     const struct cm_runc_ckpt_opts *o);
void cm_runc_argv_restore(struct cm_store *st, struct cm_argv *a, const char *id,
			  const struct cm_runc_restore_opts *o);

/* Runs `runc SUBCMD [args...] id`, NULL-terminated; on failure the error
 * carries runc's last line of output. */
int cm_runc_run(struct cm_store *st, struct cm_error *err, const char *subcmd, ...)
	__attribute__((sentinel));
/* Like cm_runc_run but hands back runc's output. */
int cm_runc_output(struct cm_store *st, char **output, struct cm_error *err,
		   const char *subcmd, ...) __attribute__((sentinel));

/* The runtime's version line, or NULL when it cannot be run. */
char *cm_runc_version(struct cm_store *st);

#endif
