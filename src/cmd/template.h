/* Go-template-style --format strings, as Podman takes them:
 *   "{{.State.Pid}}"  "{{.Name}} {{.State.Status}}"  "{{json .Config}}"  "{{json .}}" */
#ifndef CM_TEMPLATE_H
#define CM_TEMPLATE_H

#include <jansson.h>

struct cm_error;

/* Returns the rendered text (caller frees), or NULL with err set. */
char *cm_template_render(const char *tmpl, json_t *data, struct cm_error *err);

#endif
