#include "jsonio.h"
#include "error.h"
#include "util.h"

#include <string.h>

json_t *cm_json_parse(const char *text, size_t len, const char *what, struct cm_error *err)
{
	json_error_t je;
	json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		cm_err(err, 0, "%s: line %d: %s", what, je.line, je.text);
	return j;
}

json_t *cm_json_load(const char *path, struct cm_error *err)
{
	size_t len;
	cm_autofree char *text = cm_read_file(path, &len, err);
	if (!text)
		return NULL;
	return cm_json_parse(text, len, path, err);
}

int cm_json_save(const char *path, json_t *obj, mode_t mode, struct cm_error *err)
{
	cm_autofree char *text = json_dumps(obj, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!text)
		return cm_err(err, 0, "encode %s", path);
	size_t len = strlen(text);
	cm_autofree char *with_nl = cm_strfmt("%s\n", text);
	return cm_write_file_atomic(path, with_nl, len + 1, mode, err);
}

const char *cm_json_str(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

json_int_t cm_json_int(json_t *obj, const char *key, json_int_t dflt)
{
	json_t *v = json_object_get(obj, key);
	return json_is_integer(v) ? json_integer_value(v) : dflt;
}

bool cm_json_bool(json_t *obj, const char *key)
{
	return json_is_true(json_object_get(obj, key));
}

char *cm_json_quote(const char *s, size_t max)
{
	size_t n = strnlen(s, max);
	char *q = cm_malloc(n + 3);
	q[0] = '"';
	for (size_t i = 0; i < n; i++)
		q[i + 1] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	q[n + 1] = '"';
	return q;
}
