/* ps --filter KEY=VALUE, as Podman takes it: values of one key are
 * alternatives (any may match), different keys must all match.
 *   name=REGEX   id=PREFIX   status=created|running|paused|exited|checkpointed
 *   ancestor=IMAGE (a reference, with or without its tag, or an id prefix) */
#ifndef CM_PS_FILTER_H
#define CM_PS_FILTER_H

#include <stdbool.h>
#include <stddef.h>

struct cm_error;
struct cm_ps_filter;

/* What a filter looks at in one container. */
struct cm_ps_item {
	const char *id, *name, *state, *image_name, *image_id;
};

struct cm_ps_filter *cm_ps_filter_new(void);
/* Adds one KEY=VALUE; an unknown key, a bad status or regex is an error. */
int cm_ps_filter_add(struct cm_ps_filter *f, const char *kv, struct cm_error *err);
/* Whether status= was given (then ps looks at every container, as -a). */
bool cm_ps_filter_has_status(const struct cm_ps_filter *f);
bool cm_ps_filter_match(const struct cm_ps_filter *f, const struct cm_ps_item *it);
void cm_ps_filter_free(struct cm_ps_filter *f);

#endif
