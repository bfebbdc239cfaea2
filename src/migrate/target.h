/* Where a migration goes, and how ctrmig runs there: through the system's
 * ssh to ssh://[user@]host[:port], or directly for another store on this
 * host (--to-root). Every command for the target is built as an argv; for
 * ssh, whose remote side joins the words into one line for the remote
 * user's shell, each remote word is quoted for that shell. */
#ifndef CM_MIGRATE_TARGET_H
#define CM_MIGRATE_TARGET_H

#include <stdbool.h>

#include "util.h"

struct cm_error;

struct cm_mig_target_opts {
	const char *dest;          /* ssh://..., or NULL with to_root */
	const char *to_root;       /* another store on this host */
	const char *ssh_command;   /* --ssh-command, else $CTRMIG_SSH_COMMAND, else "ssh" */
	const char *remote_root;   /* --remote-root: the target's store (default: its own) */
	const char *remote_ctrmig; /* --remote-ctrmig: ctrmig's path there (default: "ctrmig") */
	const char *self;          /* this binary, for --to-root */
};

struct cm_mig_target {
	bool ssh;
	char *user, *host; /* host without brackets */
	int port;          /* 0: ssh's own default */
	struct cm_argv ssh_cmd;
	char *root, *ctrmig;
	char *display; /* "ssh://user@host:port" or the store's folder */
	/* One ssh connection for the preflight, the stream and the checks:
	 * OpenSSH's multiplexing, with its socket in a folder of our own. */
	char *control_dir;
};

int cm_mig_target_init(struct cm_mig_target *t, const struct cm_mig_target_opts *o,
		       struct cm_error *err);
void cm_mig_target_free(struct cm_mig_target *t);

/* The argv that runs `ctrmig [--root R] ARGS...` on the target. */
void cm_mig_target_argv(const struct cm_mig_target *t, const char *const args[], struct cm_argv *out);

/* A port on the target's 127.0.0.1 that leads to local_port on this
 * host's 127.0.0.1: ssh's remote forward on the session's connection
 * (sshd chooses the port; it listens on the target's loopback only), or
 * local_port itself for --to-root. */
int cm_mig_target_forward(const struct cm_mig_target *t, int local_port, int *remote_port,
			  struct cm_error *err);

/* Splits a command on blanks, as GIT_SSH_COMMAND is used for keys and
 * options (no quoting: a word cannot hold a blank). */
int cm_mig_split_command(const char *cmd, struct cm_argv *out, struct cm_error *err);
/* s in single quotes for a POSIX shell ('\'' for a quote). */
char *cm_mig_shell_quote(const char *s);

#endif
