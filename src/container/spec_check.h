/* spec.dump, the runc config an archived container ran with, is read only to
 * compare: ctrmig never runs it. What it asks for beyond the config ctrmig
 * builds from the archive's record is named and refused, because no record
 * of ctrmig's would have made it. */
#ifndef CM_SPEC_CHECK_H
#define CM_SPEC_CHECK_H

#include <jansson.h>

struct cm_error;

/* dumped: spec.dump; built: the spec ctrmig builds from the archive's own
 * config (with its grants); old_id: the archived container's id. Returns 0
 * when dumped asks for nothing more, else -1 with one line naming all of it. */
int cm_spec_check(json_t *dumped, json_t *built, const char *old_id, struct cm_error *err);

#endif
