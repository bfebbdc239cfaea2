/* ps --filter: parsing, and which containers each filter keeps. */
#include "error.h"
#include "ps_filter.h"
#include "tap.h"

static bool keeps(const char *const *filters, const struct cm_ps_item *it)
{
	struct cm_ps_filter *f = cm_ps_filter_new();
	struct cm_error err = { 0 };
	for (; *filters; filters++)
		if (cm_ps_filter_add(f, *filters, &err) < 0) {
			printf("# %s\n", err.msg);
			cm_error_clear(&err);
		}
	bool m = cm_ps_filter_match(f, it);
	cm_ps_filter_free(f);
	return m;
}

static const char *refused(const char *kv)
{
	static char msg[256];
	struct cm_ps_filter *f = cm_ps_filter_new();
	struct cm_error err = { 0 };
	msg[0] = '\0';
	if (cm_ps_filter_add(f, kv, &err) < 0)
		snprintf(msg, sizeof(msg), "%s", err.msg);
	cm_error_clear(&err);
	cm_ps_filter_free(f);
	return msg;
}

int main(void)
{
	struct cm_ps_item web = { "f7d12b4e4326aaaa", "web", "running", "docker.io/library/busybox:latest",
				  "d80d9789b422" };
	struct cm_ps_item db = { "92e61ebc665bbbbb", "db-1", "exited", "quay.io/team/app:2.0", "0123abcd" };

	ok(keeps((const char *[]){ NULL }, &web), "no filter keeps everything");
	ok(keeps((const char *[]){ "name=web", NULL }, &web), "name= matches");
	ok(keeps((const char *[]){ "name=^d", NULL }, &db) && !keeps((const char *[]){ "name=^d", NULL }, &web),
	   "name= is a regular expression");
	ok(keeps((const char *[]){ "name=nope", "name=web", NULL }, &web), "values of one key: any may match");
	ok(!keeps((const char *[]){ "name=web", "status=exited", NULL }, &web), "different keys: all must match");
	ok(keeps((const char *[]){ "id=f7d1", NULL }, &web) && !keeps((const char *[]){ "id=7d1", NULL }, &web),
	   "id= is a prefix");
	ok(keeps((const char *[]){ "status=exited", NULL }, &db) && !keeps((const char *[]){ "status=exited", NULL }, &web),
	   "status= is the state");
	ok(keeps((const char *[]){ "ancestor=busybox", NULL }, &web), "ancestor= a short name");
	ok(keeps((const char *[]){ "ancestor=busybox:latest", NULL }, &web), "ancestor= with its tag");
	ok(!keeps((const char *[]){ "ancestor=busybox:1.36", NULL }, &web), "ancestor= another tag does not match");
	ok(keeps((const char *[]){ "ancestor=quay.io/team/app", NULL }, &db), "ancestor= no tag: any tag");
	ok(!keeps((const char *[]){ "ancestor=app", NULL }, &db), "ancestor= docker.io/library/app is not quay.io's");
	ok(keeps((const char *[]){ "ancestor=d80d97", NULL }, &web) &&
		   keeps((const char *[]){ "ancestor=sha256:d80d97", NULL }, &web),
	   "ancestor= an image id prefix");
	ok(!keeps((const char *[]){ "ancestor=0123", NULL }, &web), "ancestor= another image's id");

	ok(strstr(refused("nokey"), "expected KEY=VALUE") != NULL, "no '=' is refused");
	ok(strstr(refused("label=a"), "unknown filter") != NULL, "an unknown key is refused");
	ok(strstr(refused("status=up"), "expected created, running") != NULL, "an unknown status is refused");
	ok(strstr(refused("name=("), "name=(") != NULL, "a bad regular expression is refused");
	ok(strstr(refused("id="), "needs a value") != NULL, "an empty value is refused");
	is_str(refused("status=paused"), "", "status=paused is taken");

	struct cm_ps_filter *f = cm_ps_filter_new();
	ok(!cm_ps_filter_has_status(f), "no status filter yet");
	cm_ps_filter_add(f, "status=created", NULL);
	ok(cm_ps_filter_has_status(f), "status= is known to be given");
	cm_ps_filter_free(f);
	return done();
}
