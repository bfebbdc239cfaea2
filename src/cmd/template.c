#include "template.h"
#include "error.h"
#include "util.h"

#include <ctype.h>
#include <string.h>

struct buf {
	char *s;
	size_t len, cap;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = cm_realloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

/* ".A.B" -> the value, or NULL when a field is missing. "." is the data. */
static json_t *lookup(json_t *data, const char *path, struct cm_error *err)
{
	if (path[0] != '.') {
		cm_err(err, 0, "template: expected a field like .State.Pid, got '%s'", path);
		return NULL;
	}
	json_t *cur = data;
	const char *p = path + 1;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		cm_autofree char *key = cm_malloc(n + 1);
		memcpy(key, p, n);
		cur = json_is_object(cur) ? json_object_get(cur, key) : NULL;
		if (!cur) {
			cm_err(err, 0, "template: no field %s in %s", key, path);
			return NULL;
		}
		p += n + (dot ? 1 : 0);
	}
	return cur;
}

static void render_value(struct buf *b, json_t *v, bool as_json)
{
	if (!as_json && json_is_string(v)) {
		buf_add(b, json_string_value(v), strlen(json_string_value(v)));
		return;
	}
	if (!as_json && json_is_array(v)) {
		/* Go prints a list as [a b c]. */
		buf_add(b, "[", 1);
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e) {
			if (i)
				buf_add(b, " ", 1);
			render_value(b, e, false);
		}
		buf_add(b, "]", 1);
		return;
	}
	cm_autofree char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	if (s)
		buf_add(b, s, strlen(s));
}

char *cm_template_render(const char *tmpl, json_t *data, struct cm_error *err)
{
	struct buf b = { 0 };
	buf_add(&b, "", 0);
	const char *p = tmpl;
	while (*p) {
		const char *open = strstr(p, "{{");
		if (!open) {
			buf_add(&b, p, strlen(p));
			break;
		}
		buf_add(&b, p, (size_t)(open - p));
		const char *close = strstr(open + 2, "}}");
		if (!close) {
			cm_err(err, 0, "template: unclosed '{{' in %s", tmpl);
			goto fail;
		}
		const char *s = open + 2, *e = close;
		while (s < e && isspace((unsigned char)*s))
			s++;
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
		cm_autofree char *action = cm_malloc((size_t)(e - s) + 1);
		memcpy(action, s, (size_t)(e - s));
		bool as_json = false;
		char *path = action;
		if (strncmp(action, "json ", 5) == 0) {
			as_json = true;
			path = action + 5;
			while (*path == ' ')
				path++;
		}
		json_t *v = lookup(data, path, err);
		if (!v)
			goto fail;
		render_value(&b, v, as_json);
		p = close + 2;
	}
	return b.s;
fail:
	free(b.s);
	return NULL;
}
