#include "user.h"
#include "error.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

/* /etc/passwd and /etc/group come from the image: bounded, read as text. */
#define DB_MAX (1 << 20)
#define GROUPS_MAX 64

static bool parse_id(const char *s, unsigned long *out)
{
	char *end;
	if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 10)
		return false;
	*out = strtoul(s, &end, 10);
	return *out < 0x7fffffffUL;
}

/* Field n (0-based) of a colon-separated line, copied into buf. */
static bool field(const char *line, size_t len, int n, char *buf, size_t buflen)
{
	const char *p = line, *end = line + len;
	for (int i = 0; i < n; i++) {
		p = memchr(p, ':', (size_t)(end - p));
		if (!p)
			return false;
		p++;
	}
	const char *q = memchr(p, ':', (size_t)(end - p));
	size_t l = (size_t)((q ? q : end) - p);
	if (l >= buflen)
		return false;
	memcpy(buf, p, l);
	buf[l] = '\0';
	return true;
}

/* Finds the line whose field key_field equals key; returns its start. */
static const char *find_line(const char *db, int key_field, const char *key, size_t *len)
{
	for (const char *p = db; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) : strlen(p);
		char buf[256];
		if (p[0] != '#' && field(p, l, key_field, buf, sizeof(buf)) && !strcmp(buf, key)) {
			*len = l;
			return p;
		}
		p = nl ? nl + 1 : NULL;
	}
	return NULL;
}

static bool is_member(const char *members, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = members; *p;) {
		const char *comma = strchr(p, ',');
		size_t l = comma ? (size_t)(comma - p) : strlen(p);
		if (l == n && !strncmp(p, name, n))
			return true;
		p = comma ? comma + 1 : p + l;
	}
	return false;
}

int cm_user_resolve_text(const char *spec, const char *passwd, const char *group,
			 struct cm_user *out, struct cm_error *err)
{
	out->uid = 0, out->gid = 0, out->groups = json_array();
	cm_autofree char *copy = cm_strdup(spec ? spec : "");
	char *grp = strchr(copy, ':');
	if (grp)
		*grp++ = '\0';
	const char *user = copy;
	char name[256] = "", buf[256];
	unsigned long id;
	size_t len;
	const char *line = NULL;
	if (*user && parse_id(user, &id)) {
		out->uid = (uid_t)id;
		snprintf(buf, sizeof(buf), "%lu", id);
		line = passwd ? find_line(passwd, 2, buf, &len) : NULL;
	} else if (*user) {
		line = passwd ? find_line(passwd, 0, user, &len) : NULL;
		if (!line || !field(line, len, 2, buf, sizeof(buf)) || !parse_id(buf, &id))
			goto no_user;
		out->uid = (uid_t)id;
	}
	if (line) {
		field(line, len, 0, name, sizeof(name));
		if (field(line, len, 3, buf, sizeof(buf)) && parse_id(buf, &id))
			out->gid = (gid_t)id;
	}
	if (grp && *grp) {
		if (parse_id(grp, &id)) {
			out->gid = (gid_t)id;
		} else {
			const char *g = group ? find_line(group, 0, grp, &len) : NULL;
			if (!g || !field(g, len, 2, buf, sizeof(buf)) || !parse_id(buf, &id)) {
				json_decref(out->groups);
				out->groups = NULL;
				return cm_err(err, 0, "group %s is not in the image's /etc/group", grp);
			}
			out->gid = (gid_t)id;
		}
	}
	/* The groups that list the user by name, as login would give them. */
	for (const char *p = (*name && group) ? group : NULL; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t l = nl ? (size_t)(nl - p) : strlen(p);
		char members[4096];
		if (p[0] != '#' && field(p, l, 3, members, sizeof(members)) && is_member(members, name) &&
		    field(p, l, 2, buf, sizeof(buf)) && parse_id(buf, &id) && id != out->gid &&
		    json_array_size(out->groups) < GROUPS_MAX)
			json_array_append_new(out->groups, json_integer((json_int_t)id));
		p = nl ? nl + 1 : NULL;
	}
	return 0;
no_user:
	json_decref(out->groups);
	out->groups = NULL;
	return cm_err(err, 0, "user %s is not in the image's /etc/passwd", user);
}

char *cm_user_name_of(const char *db, unsigned long id)
{
	char key[24], name[256];
	size_t len;
	snprintf(key, sizeof(key), "%lu", id);
	const char *line = db ? find_line(db, 2, key, &len) : NULL;
	if (!line || !field(line, len, 0, name, sizeof(name)) || !*name)
		return NULL;
	return cm_strdup(name);
}

char *cm_user_read_in_root(const char *root, const char *path)
{
	cm_autoclose int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return NULL;
	struct open_how how = { .flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK,
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	cm_autoclose int fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	if (fd < 0)
		return NULL;
	char *buf = cm_malloc(DB_MAX + 1);
	size_t n = 0;
	ssize_t r;
	while (n < DB_MAX && (r = read(fd, buf + n, DB_MAX - n)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
	return buf;
}

int cm_user_resolve_lowerdir(const char *spec, const char *lowerdir, struct cm_user *out,
			     struct cm_error *err)
{
	cm_autofree char *copy = cm_strdup(lowerdir);
	const char *roots[512];
	size_t n = 0;
	for (char *save, *t = strtok_r(copy, ":", &save); t && n < 512; t = strtok_r(NULL, ":", &save))
		roots[n++] = t;
	return cm_user_resolve(spec, roots, n, out, err);
}

int cm_user_resolve(const char *spec, const char *const *roots, size_t nroots, struct cm_user *out,
		    struct cm_error *err)
{
	cm_autofree char *passwd = NULL, *group = NULL;
	for (size_t i = 0; i < nroots && !passwd; i++) {
		passwd = cm_user_read_in_root(roots[i], "etc/passwd");
		if (passwd)
			group = cm_user_read_in_root(roots[i], "etc/group");
	}
	return cm_user_resolve_text(spec, passwd, group, out, err);
}
