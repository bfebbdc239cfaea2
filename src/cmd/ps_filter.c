#include "ps_filter.h"
#include "error.h"
#include "reference.h"
#include "util.h"

#include <regex.h>
#include <string.h>

enum key { K_NAME, K_ID, K_STATUS, K_ANCESTOR, K_COUNT };
static const char *const key_names[K_COUNT] = { "name", "id", "status", "ancestor" };
static const char *const statuses[] = { "created", "running", "paused", "exited", "checkpointed" };

struct value {
	char *text;
	regex_t re; /* name= */
	struct value *next;
};

struct cm_ps_filter {
	struct value *by_key[K_COUNT];
};

struct cm_ps_filter *cm_ps_filter_new(void)
{
	struct cm_ps_filter *f = cm_malloc(sizeof(*f));
	memset(f, 0, sizeof(*f));
	return f;
}

int cm_ps_filter_add(struct cm_ps_filter *f, const char *kv, struct cm_error *err)
{
	const char *eq = strchr(kv, '=');
	size_t kl = eq ? (size_t)(eq - kv) : 0;
	enum key k;
	for (k = 0; k < K_COUNT; k++)
		if (eq && kl == strlen(key_names[k]) && !strncmp(kv, key_names[k], kl))
			break;
	if (!eq)
		return cm_err(err, 0, "ps --filter %.64s: expected KEY=VALUE", kv);
	if (k == K_COUNT)
		return cm_err(err, 0, "ps --filter %.*s: unknown filter (name, id, status, ancestor)",
			      (int)(kl > 64 ? 64 : kl), kv);
	const char *v = eq + 1;
	if (!*v)
		return cm_err(err, 0, "ps --filter %s: needs a value", key_names[k]);
	if (k == K_STATUS) {
		size_t i;
		for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
			if (!strcmp(v, statuses[i]))
				break;
		if (i == sizeof(statuses) / sizeof(statuses[0]))
			return cm_err(err, 0, "ps --filter status=%.64s: expected created, running, "
					      "paused, exited or checkpointed", v);
	}
	struct value *val = cm_malloc(sizeof(*val));
	memset(val, 0, sizeof(*val));
	if (k == K_NAME) {
		int r = regcomp(&val->re, v, REG_EXTENDED | REG_NOSUB);
		if (r != 0) {
			char why[128];
			regerror(r, &val->re, why, sizeof(why));
			free(val);
			return cm_err(err, 0, "ps --filter name=%.64s: %s", v, why);
		}
	}
	val->text = cm_strdup(v);
	val->next = f->by_key[k];
	f->by_key[k] = val;
	return 0;
}

bool cm_ps_filter_has_status(const struct cm_ps_filter *f)
{
	return f->by_key[K_STATUS] != NULL;
}

/* An image by reference (busybox, busybox:latest, docker.io/library/busybox)
 * or by id prefix (with or without "sha256:"). */
static bool ancestor_matches(const char *want, const char *image_name, const char *image_id)
{
	const char *hex = !strncmp(want, "sha256:", 7) ? want + 7 : want;
	if (image_id && cm_is_hex(hex) && !strncmp(image_id, hex, strlen(hex)))
		return true;
	if (!image_name)
		return false;
	struct cm_ref w = { 0 }, have = { 0 };
	bool match = false;
	if (cm_ref_parse(want, &w, NULL) == 0 && cm_ref_parse(image_name, &have, NULL) == 0) {
		cm_autofree char *wr = cm_ref_repository(&w), *hr = cm_ref_repository(&have);
		/* without a tag of its own, any tag of the repository */
		const char *last = strrchr(want, '/');
		bool tagged = strchr(last ? last : want, ':') || strchr(want, '@');
		match = !strcmp(wr, hr) &&
			(!tagged || (w.tag && have.tag && !strcmp(w.tag, have.tag)) ||
			 (w.digest && have.digest && !strcmp(w.digest, have.digest)));
	}
	cm_ref_free(&w);
	cm_ref_free(&have);
	return match;
}

static bool value_matches(enum key k, struct value *v, const struct cm_ps_item *it)
{
	switch (k) {
	case K_NAME: return it->name && regexec(&v->re, it->name, 0, NULL, 0) == 0;
	case K_ID: return it->id && !strncmp(it->id, v->text, strlen(v->text));
	case K_STATUS: return it->state && !strcmp(it->state, v->text);
	case K_ANCESTOR: return ancestor_matches(v->text, it->image_name, it->image_id);
	case K_COUNT: break;
	}
	return false;
}

bool cm_ps_filter_match(const struct cm_ps_filter *f, const struct cm_ps_item *it)
{
	for (enum key k = 0; k < K_COUNT; k++) {
		bool any = !f->by_key[k];
		for (struct value *v = f->by_key[k]; v && !any; v = v->next)
			any = value_matches(k, v, it);
		if (!any)
			return false;
	}
	return true;
}

void cm_ps_filter_free(struct cm_ps_filter *f)
{
	if (!f)
		return;
	for (enum key k = 0; k < K_COUNT; k++) {
		for (struct value *v = f->by_key[k], *next; v; v = next) {
			next = v->next;
			if (k == K_NAME)
				regfree(&v->re);
			free(v->text);
			free(v);
		}
	}
	free(f);
}
