/* -u and an image's User, resolved in the image's /etc/passwd and /etc/group. */
#include "error.h"
#include <stdbool.h>
#include "tap.h"
#include "user.h"

static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
			     "# a comment\n"
			     "www-data:x:33:33:www:/var/www:/usr/sbin/nologin\n"
			     "app:x:1000:1000::/home/app:/bin/sh\n";
static const char group[] = "root:x:0:\nwww-data:x:33:\napp:x:1000:\naudio:x:29:app,other\n"
			    "video:x:44:other\nstaff:x:50:app\n";

static bool resolves(const char *spec, unsigned uid, unsigned gid, size_t ngroups)
{
	struct cm_user u;
	struct cm_error err = { 0 };
	int r = cm_user_resolve_text(spec, passwd, group, &u, &err);
	bool good = r == 0 && u.uid == uid && u.gid == gid && json_array_size(u.groups) == ngroups;
	if (!good)
		printf("#   %s: r=%d uid=%u gid=%u groups=%zu %s\n", spec, r, (unsigned)u.uid, (unsigned)u.gid,
		       r == 0 ? json_array_size(u.groups) : 0, err.msg ? err.msg : "");
	if (r == 0)
		json_decref(u.groups);
	cm_error_clear(&err);
	return good;
}

static bool refused(const char *spec, const char *want)
{
	struct cm_user u;
	struct cm_error err = { 0 };
	int r = cm_user_resolve_text(spec, passwd, group, &u, &err);
	bool good = r < 0 && strstr(err.msg, want);
	if (r == 0)
		json_decref(u.groups);
	cm_error_clear(&err);
	return good;
}

int main(void)
{
	ok(resolves("", 0, 0, 0), "no user is root");
	ok(resolves("www-data", 33, 33, 0), "a name: its uid and primary group");
	ok(resolves("app", 1000, 1000, 2), "a name: the groups that list it (audio, staff)");
	ok(resolves("33", 33, 33, 0), "a uid the image knows takes its primary group");
	ok(resolves("4242", 4242, 0, 0), "a uid the image does not know runs with gid 0");
	ok(resolves("app:audio", 1000, 29, 1), "USER:GROUP by name; the primary group is not repeated");
	ok(resolves("app:7", 1000, 7, 2), "USER:GID");
	ok(refused("nosuch", "user nosuch is not in the image's /etc/passwd"), "an unknown name");
	ok(refused("app:nogroup", "group nogroup is not in the image's /etc/group"), "an unknown group");
	struct cm_user u;
	struct cm_error err = { 0 };
	ok(cm_user_resolve_text("app", NULL, NULL, &u, &err) < 0, "no /etc/passwd: a name cannot resolve");
	cm_error_clear(&err);
	ok(cm_user_resolve_text("1000:1000", NULL, NULL, &u, &err) == 0 && u.uid == 1000 && u.gid == 1000,
	   "no /etc/passwd: numbers still work");
	json_decref(u.groups);
	return done();
}
