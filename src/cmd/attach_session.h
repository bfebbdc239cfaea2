/* The client side of attaching (ctrmig attach, run -it, start -a): the
 * user's terminal in raw mode, its size sent along, keystrokes to the
 * container until the detach keys, the container's output to stdout. */
#ifndef CM_ATTACH_SESSION_H
#define CM_ATTACH_SESSION_H

#include <jansson.h>
#include <stdbool.h>

struct cm_store;
struct cm_error;

struct cm_attach_opts {
	const char *detach_keys; /* NULL: ctrl-p,ctrl-q */
	bool no_stdin;           /* output only */
	bool replay;             /* the output since the start first (run -it) */
};

/* Attaches until the container ends (returns its exit status) or the user
 * detaches (returns 0, *detached set). -1 with err when it cannot attach. */
int cm_attach_session(struct cm_store *st, json_t *rec, const struct cm_attach_opts *o, bool *detached,
		      struct cm_error *err);

#endif
