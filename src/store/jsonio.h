/* Loading and saving JSON records the way every ctrmig file is kept. */
#ifndef CM_JSONIO_H
#define CM_JSONIO_H

#include <jansson.h>
#include <stdbool.h>

struct cm_error;

/* Rejects duplicate keys; a parse error names the file and line. */
json_t *cm_json_load(const char *path, struct cm_error *err);
json_t *cm_json_parse(const char *text, size_t len, const char *what, struct cm_error *err);
/* Indented, sorted keys, temp file + fsync + rename. */
int cm_json_save(const char *path, json_t *obj, mode_t mode, struct cm_error *err);

/* Typed getters with defaults, for records whose fields may be missing. */
const char *cm_json_str(json_t *obj, const char *key);
json_int_t cm_json_int(json_t *obj, const char *key, json_int_t dflt);
bool cm_json_bool(json_t *obj, const char *key);

/* A string from a document, fit for a one-line error: in double quotes, cut
 * at max bytes, control characters shown as '?'. The caller frees it. */
char *cm_json_quote(const char *s, size_t max);

#endif
