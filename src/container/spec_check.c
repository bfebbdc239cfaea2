#include "spec_check.h"
#include "caps.h"
#include "error.h"
#include "jsonio.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

struct found {
	char *text;
	int count;
};

#define note(f, ...)                                                                  \
	do {                                                                          \
		/* one line: the first few name the problem well enough */            \
		if (++(f)->count <= 8)                                                \
			cm_str_appendf(&(f)->text, "; ", __VA_ARGS__);                \
	} while (0)

/* A string for messages: at most 80 bytes of what the archive says. */
static const char *shown(json_t *v)
{
	static char buf[4][84];
	static int next;
	char *b = buf[next++ % 4];
	snprintf(b, 84, "%.80s", json_is_string(v) ? json_string_value(v) : "?");
	return b;
}

static bool contains(json_t *arr, json_t *v)
{
	json_t *w;
	size_t j;
	json_array_foreach(arr, j, w)
		if (json_equal(v, w))
			return true;
	return false;
}

static bool same_strings(json_t *a, json_t *b)
{
	if (json_array_size(a) != json_array_size(b))
		return false;
	json_t *v;
	size_t i;
	json_array_foreach(a, i, v)
		if (!contains(b, v))
			return false;
	return true;
}

/* Sources equal, or both ctrmig's own file of the container (/etc/hosts and
 * friends in <store>/containers/<id>/etc/): built from a root of
 * "/containers/<id>/rootfs", ours is that path's tail. The spec ctrmig
 * builds names this store's own path; the dumped one only has to agree. */
static bool same_source(json_t *dumped, json_t *built)
{
	const char *d = json_string_value(dumped), *b = json_string_value(built);
	if (!d || !b)
		return json_equal(dumped, built);
	size_t dl = strlen(d), bl = strlen(b);
	if (!strncmp(b, "/containers/", 12) && strstr(b, "/etc/") && dl > bl)
		return !strcmp(d + dl - bl, b);
	return !strcmp(d, b);
}

static bool same_mount(json_t *built, json_t *b)
{
	json_t *a = built;
	return json_equal(json_object_get(a, "type"), json_object_get(b, "type")) &&
	       same_source(json_object_get(b, "source"), json_object_get(a, "source")) &&
	       same_strings(json_object_get(a, "options"), json_object_get(b, "options"));
}

/* The first of ours at the mount's destination, or NULL; *same says whether
 * any of ours there (a config may stack several: --tmpfs /sys over the
 * default /sys, two volumes) is the same mount. */
static json_t *mount_at(json_t *mounts, json_t *m, bool *same)
{
	json_t *v, *first = NULL;
	size_t i;
	*same = false;
	json_array_foreach(mounts, i, v) {
		if (!json_equal(json_object_get(v, "destination"), json_object_get(m, "destination")))
			continue;
		if (!first)
			first = v;
		*same |= same_mount(v, m);
	}
	return first;
}

static void check_mounts(json_t *dumped, json_t *built, struct found *f)
{
	json_t *v, *mounts = json_object_get(dumped, "mounts");
	size_t i;
	if (mounts && !json_is_array(mounts)) {
		note(f, "mounts that are not a list");
		return;
	}
	json_array_foreach(mounts, i, v) {
		bool same;
		json_t *mine = mount_at(json_object_get(built, "mounts"), v, &same);
		if (same)
			continue;
		const char *type = cm_json_str(v, "type");
		if (type && !strcmp(type, "bind"))
			note(f, "host path %s mounted at %s", shown(json_object_get(v, "source")),
			     shown(json_object_get(v, "destination")));
		else
			note(f, "a %s mount at %s%s", shown(json_object_get(v, "type")),
			     shown(json_object_get(v, "destination")),
			     mine ? " with other options" : "");
	}
}

static void check_caps(json_t *dumped, json_t *built, struct found *f)
{
	json_t *caps = json_object_get(json_object_get(dumped, "process"), "capabilities");
	json_t *mine = json_object_get(json_object_get(json_object_get(built, "process"),
						       "capabilities"), "bounding");
	bool named[CM_CAP_LAST + 2] = { false };
	const char *set;
	json_t *list;
	json_object_foreach(caps, set, list) {
		json_t *v;
		size_t i;
		json_array_foreach(list, i, v) {
			bool granted = contains(mine, v);
			int n = json_is_string(v) ? cm_cap_number(json_string_value(v)) : -1;
			if (granted || named[n + 1])
				continue;
			named[n + 1] = true;
			note(f, "capability %s", shown(v));
		}
	}
}

static json_t *ns_of(json_t *spec, const char *type)
{
	json_t *v;
	size_t i;
	json_array_foreach(json_object_get(json_object_get(spec, "linux"), "namespaces"), i, v) {
		const char *t = cm_json_str(v, "type");
		if (t && !strcmp(t, type))
			return v;
	}
	return NULL;
}

static void check_namespaces(json_t *dumped, json_t *built, struct found *f)
{
	json_t *v;
	size_t i;
	json_array_foreach(json_object_get(json_object_get(built, "linux"), "namespaces"), i, v) {
		const char *type = cm_json_str(v, "type");
		if (!ns_of(dumped, type))
			note(f, "the host's %s namespace", type);
	}
	json_array_foreach(json_object_get(json_object_get(dumped, "linux"), "namespaces"), i, v) {
		json_t *mine = json_is_string(json_object_get(v, "type"))
				       ? ns_of(built, json_string_value(json_object_get(v, "type"))) : NULL;
		/* ctrmig's own network namespace, which the record names too */
		if (json_object_get(v, "path") &&
		    !(mine && json_equal(json_object_get(v, "path"), json_object_get(mine, "path"))))
			note(f, "joining the %s namespace at %s", shown(json_object_get(v, "type")),
			     shown(json_object_get(v, "path")));
	}
}

/* Paths ctrmig masks or makes read-only that the dump leaves open. */
static void check_paths(json_t *dumped, json_t *built, const char *key, const char *what,
			struct found *f)
{
	json_t *theirs = json_object_get(json_object_get(dumped, "linux"), key), *v;
	size_t i;
	json_array_foreach(json_object_get(json_object_get(built, "linux"), key), i, v) {
		if (!contains(theirs, v))
			note(f, "%s %s", what, shown(v));
	}
}

static void check_devices(json_t *dumped, json_t *built, struct found *f)
{
	json_t *lx = json_object_get(dumped, "linux"), *mine = json_object_get(built, "linux"), *v;
	size_t i;
	json_array_foreach(json_object_get(lx, "devices"), i, v) {
		if (!contains(json_object_get(mine, "devices"), v))
			note(f, "device %s", shown(json_object_get(v, "path")));
	}
	json_t *rules = json_object_get(json_object_get(lx, "resources"), "devices");
	json_t *my_rules = json_object_get(json_object_get(mine, "resources"), "devices");
	json_array_foreach(rules, i, v) {
		if (!json_is_true(json_object_get(v, "allow")))
			continue;
		if (!contains(my_rules, v))
			note(f, "access to devices (%s %s:%s)",
			     json_object_get(v, "type") ? shown(json_object_get(v, "type")) : "all",
			     json_is_integer(json_object_get(v, "major")) ? "major" : "*",
			     json_is_integer(json_object_get(v, "minor")) ? "minor" : "*");
	}
}

/* Annotations runc or CRIU act on; any other is only a label, and dropped. */
static bool meaningful_annotation(const char *key)
{
	static const char *const prefixes[] = { "org.criu.", "org.systemd.property.", "run.oci.",
						"org.opencontainers.runc." };
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(key, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

static void check_process(json_t *dumped, json_t *built, struct found *f)
{
	json_t *p = json_object_get(dumped, "process"), *mine = json_object_get(built, "process");
	json_t *user = json_object_get(p, "user"), *my_user = json_object_get(mine, "user");
	if (user && (!json_equal(json_object_get(user, "uid"), json_object_get(my_user, "uid")) ||
		     !json_equal(json_object_get(user, "gid"), json_object_get(my_user, "gid"))))
		note(f, "another user (uid %lld)", (long long)cm_json_int(user, "uid", -1));
	if (json_array_size(json_object_get(user, "additionalGids")) &&
	    !json_equal(json_object_get(user, "additionalGids"), json_object_get(my_user, "additionalGids")))
		note(f, "additional groups");
	if (json_is_true(json_object_get(mine, "noNewPrivileges")) &&
	    !json_is_true(json_object_get(p, "noNewPrivileges")))
		note(f, "no_new_privileges off");
	const char *keys[] = { "apparmorProfile", "selinuxLabel" };
	for (size_t k = 0; k < 2; k++) {
		json_t *v = json_object_get(p, keys[k]);
		if (v && !json_equal(v, json_object_get(mine, keys[k])))
			note(f, "%s %s", keys[k], shown(v));
	}
	json_t *v;
	size_t i;
	json_array_foreach(json_object_get(p, "rlimits"), i, v) {
		bool known = false;
		json_t *w;
		size_t j;
		json_array_foreach(json_object_get(mine, "rlimits"), j, w)
			known |= json_equal(json_object_get(v, "type"), json_object_get(w, "type"));
		if (!known)
			note(f, "the limit %s", shown(json_object_get(v, "type")));
	}
}

int cm_spec_check(json_t *dumped, json_t *built, const char *old_id, struct cm_error *err)
{
	struct found f = { NULL, 0 };
	if (!json_is_object(dumped))
		return cm_err(err, 0, "spec.dump: not a runc config");
	/* The archived container's own rootfs, wherever its store was. */
	const char *root = cm_json_str(json_object_get(dumped, "root"), "path");
	cm_autofree char *tail = cm_strfmt("/containers/%s/rootfs", old_id);
	size_t rl = root ? strlen(root) : 0, tl = strlen(tail);
	if (!root || root[0] != '/' || rl < tl || strcmp(root + rl - tl, tail))
		note(&f, "the root file system %s", root ? shown(json_object_get(json_object_get(dumped, "root"), "path")) : "(none)");
	check_mounts(dumped, built, &f);
	check_caps(dumped, built, &f);
	check_process(dumped, built, &f);
	check_namespaces(dumped, built, &f);
	check_devices(dumped, built, &f);
	check_paths(dumped, built, "maskedPaths", "unmasked", &f);
	check_paths(dumped, built, "readonlyPaths", "writable", &f);
	json_t *lx = json_object_get(dumped, "linux");
	const char *key;
	json_t *v;
	json_object_foreach(json_object_get(lx, "sysctl"), key, v)
		note(&f, "the sysctl %.80s", key);
	if (json_object_get(json_object_get(built, "linux"), "seccomp") && !json_object_get(lx, "seccomp"))
		note(&f, "no seccomp filter");
	json_object_foreach(json_object_get(dumped, "hooks"), key, v)
		if (json_array_size(v))
			note(&f, "%.20s hooks", key);
	json_object_foreach(json_object_get(dumped, "annotations"), key, v)
		if (meaningful_annotation(key))
			note(&f, "the annotation %.80s", key);
	if (!f.text)
		return 0;
	cm_err(err, 0, "spec.dump asks for %s%s, which ctrmig never takes from an archive", f.text,
	       f.count > 8 ? " and more" : "");
	free(f.text);
	return -1;
}
