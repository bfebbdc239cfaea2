/* `ctrmig exec`: the process spec runc exec runs (--process FILE), built from
 * the container's own spec "process", and what runc's exit means. */
#ifndef CM_EXEC_SPEC_H
#define CM_EXEC_SPEC_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

struct cm_error;
struct cm_argv;

struct cm_exec_opts {
	json_t *args;      /* the command, a non-empty array of strings */
	json_t *env;       /* "K=V" to add, in order (--env-file, then -e); may be NULL */
	const char *cwd;   /* -w, or NULL for the container's */
	bool user_given;   /* -u: uid, gid, groups below replace the container's */
	uid_t uid;
	gid_t gid;
	json_t *groups;    /* additional gids, or NULL */
	bool terminal;     /* -t */
	bool privileged;   /* every capability, as Podman's exec --privileged */
	/* runc runs helpers/exec_helper.c (fd 3) which runs the command:
	 * always with detach, and when the container has a time namespace of
	 * its own (a restored one), which the helper joins, given
	 * CAP_SYS_ADMIN, CAP_SYS_PTRACE and CAP_SETPCAP in every set for it;
	 * its argument "+time=N,..." names those it drops before the command,
	 * which ends up with the capabilities it would have had without. */
	bool helper, detach, timens;
};

/* The exec process: a copy of the container's spec process (rlimits,
 * noNewPrivileges, apparmorProfile, capabilities, user, env, cwd) with the
 * options applied. Returns NULL with err set when ctr_process is unusable. */
json_t *cm_exec_process(json_t *ctr_process, const struct cm_exec_opts *o, struct cm_error *err);

/* Docker's --env-file: a "K=V" a line, blank lines and lines starting with
 * '#' skipped, leading blanks ignored; a bare "K" takes K's value from
 * ctrmig's own environment, or is skipped when K is unset there. Appends to
 * env in order; what names the file in errors. */
int cm_exec_env_file_parse(const char *text, const char *what, json_t *env, struct cm_error *err);

/* runc exits 255 both when the command itself exits 255 and when the command
 * could not be started; its JSON log (--log-format json) tells them apart.
 * Returns Docker's code: 127 when the command is not found, 126 when it
 * cannot be executed, 125 for any other failure of runc, else runc_status. */
enum { CM_EXEC_NOT_FOUND = 127, CM_EXEC_CANNOT_RUN = 126 };
int cm_exec_status(int runc_status, const char *runc_log);

/* runc's last error in its JSON log, without "exec failed: unable to start
 * container process: " (so "exec: \"x\": executable file not found..."),
 * or NULL when it logged none. Caller frees. */
char *cm_exec_runc_error(const char *runc_log);

/* A read-only fd of the static exec helper (helpers/exec_helper.c),
 * which runc runs as /proc/self/fd/3 with --preserve-fds 1. */
int cm_exec_helper_fd(struct cm_error *err);
#define CM_EXEC_HELPER_PATH "/proc/self/fd/3"

/* RUNTIME --root RUNC_ROOT --log LOG --log-format json exec [--preserve-fds N]
 * --process FILE ID */
void cm_exec_argv(struct cm_argv *a, const char *runtime, const char *runc_root, const char *log,
		  const char *process_file, int preserve_fds, const char *id);

#endif
