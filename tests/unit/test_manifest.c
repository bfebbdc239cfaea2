#include "error.h"
#include "manifest.h"
#include "tap.h"

#include <stdlib.h>

static int check(const char *name, enum cm_member_kind kind, char *out)
{
	strcpy(out, name);
	return cm_member_check(out, kind, NULL);
}

int main(void)
{
	char n[256];
	ok(check("config.dump", CM_MEMBER_FILE, n) == 0, "config.dump is allowed");
	ok(check("./spec.dump", CM_MEMBER_FILE, n) == 0 && !strcmp(n, "spec.dump"), "./ is dropped");
	ok(check("checkpoint/", CM_MEMBER_DIR, n) == 0 && !strcmp(n, "checkpoint"), "checkpoint/ dir");
	ok(check("checkpoint/pages-1.img", CM_MEMBER_FILE, n) == 0, "an image file in checkpoint/");
	ok(check("pre-checkpoint/pages-1.img", CM_MEMBER_FILE, n) == 0, "pre-checkpoint/ images");
	ok(check("../etc/passwd", CM_MEMBER_FILE, n) < 0, "../ refused");
	ok(check("checkpoint/../../x", CM_MEMBER_FILE, n) < 0, ".. inside refused");
	ok(check("/etc/passwd", CM_MEMBER_FILE, n) < 0, "absolute refused");
	ok(check("checkpoint/sub/x", CM_MEMBER_FILE, n) < 0, "nested folders refused");
	ok(check("checkpoint", CM_MEMBER_FILE, n) < 0, "checkpoint as a file refused");
	ok(check("config.dump", CM_MEMBER_DIR, n) < 0, "a known file name as a dir refused");
	ok(check("evil.sh", CM_MEMBER_FILE, n) < 0, "unknown top-level names refused");
	ok(check("checkpoint/x", CM_MEMBER_DIR, n) < 0, "dirs inside checkpoint/ refused");
	ok(check("checkpoint/\xff.img", CM_MEMBER_FILE, n) < 0 && check("checkpoint/\xc0\xaf", CM_MEMBER_FILE, n) < 0,
	   "names that are not UTF-8 (no manifest can list them) refused");
	ok(check("checkpoint/caf\xc3\xa9.img", CM_MEMBER_FILE, n) == 0, "UTF-8 names allowed");
	struct cm_error err = { 0 };
	strcpy(n, "etc/../../x");
	ok(cm_member_check(n, CM_MEMBER_FILE, &err) < 0 && strstr(err.msg, "unsafe"), "reason given: %s", err.msg);
	cm_error_clear(&err);

	ok(cm_member_path_safe("etc/group") && cm_member_path_safe("a"), "plain relative paths are safe");
	ok(!cm_member_path_safe("/etc/group") && !cm_member_path_safe("../x") &&
		   !cm_member_path_safe("a/../b") && !cm_member_path_safe("a//b") &&
		   !cm_member_path_safe("./a") && !cm_member_path_safe("") && !cm_member_path_safe("a/"),
	   "absolute, .., empty and . parts are not");

	json_t *m = cm_manifest_new(), *seen = json_object();
	cm_manifest_add(m, "config.dump", 10, "aa");
	cm_manifest_add(m, "checkpoint/pages-1.img", 4096, "bb");
	json_object_set_new(seen, "config.dump", json_pack("{s:I, s:s}", "size", (json_int_t)10, "sha256", "aa"));
	ok(cm_manifest_verify(m, seen, &err) < 0 && strstr(err.msg, "checkpoint/pages-1.img: missing"),
	   "a missing member is named: %s", err.msg);
	json_object_set_new(seen, "checkpoint/pages-1.img",
			    json_pack("{s:I, s:s}", "size", (json_int_t)4096, "sha256", "bb"));
	ok(cm_manifest_verify(m, seen, &err) < 0 && strstr(err.msg, "pages-1.img: sha256 mismatch"),
	   "a page image's plain digest is not its chunked one (format 2)");
	json_object_set_new(seen, "checkpoint/pages-1.img",
			    json_pack("{s:I, s:s}", "size", (json_int_t)4096, "chunked_sha256", "bb"));
	ok(cm_manifest_verify(m, seen, &err) == 0, "all members match");
	json_object_set_new(seen, "checkpoint/pages-1.img",
			    json_pack("{s:I, s:s}", "size", (json_int_t)8192, "chunked_sha256", "bb"));
	ok(cm_manifest_verify(m, seen, &err) < 0 && strstr(err.msg, "8192 bytes, the manifest says 4096"),
	   "a size over the manifest's is caught: %s", err.msg);
	json_object_set_new(seen, "checkpoint/pages-1.img",
			    json_pack("{s:I, s:s}", "size", (json_int_t)4096, "chunked_sha256", "cc"));
	ok(cm_manifest_verify(m, seen, &err) < 0 && strstr(err.msg, "sha256 mismatch"), "a flipped bit is caught");
	json_object_set_new(seen, "checkpoint/pages-1.img",
			    json_pack("{s:I, s:s}", "size", (json_int_t)4096, "chunked_sha256", "bb"));
	json_object_set_new(seen, "stats-dump", json_pack("{s:I, s:s}", "size", (json_int_t)1, "sha256", "dd"));
	ok(cm_manifest_verify(m, seen, &err) < 0 && strstr(err.msg, "stats-dump: not in the manifest"),
	   "an unlisted member is caught");
	json_object_del(seen, "stats-dump");

	/* Format 1, an older ctrmig's: plain digests for page images too. */
	json_t *m1 = json_pack("{s:i, s:{s:{s:i, s:s}}}", "format", 1, "members", "checkpoint/pages-1.img",
			       "size", 4096, "sha256", "bb");
	json_t *seen1 = json_pack("{s:{s:i, s:s}}", "checkpoint/pages-1.img", "size", 4096, "sha256", "bb");
	ok(cm_manifest_verify(m1, seen1, &err) == 0, "format 1 is still read, with plain digests");
	ok(!strcmp(cm_member_digest_key(1, "checkpoint/pages-1.img"), "sha256") &&
		   !strcmp(cm_member_digest_key(2, "checkpoint/pages-1.img"), "chunked_sha256") &&
		   !strcmp(cm_member_digest_key(2, "pre-checkpoint/pages-3.img"), "chunked_sha256") &&
		   !strcmp(cm_member_digest_key(2, "checkpoint/pagemap-1.img"), "sha256") &&
		   !strcmp(cm_member_digest_key(2, "pages-1.img"), "sha256"),
	   "only page images are chunked, from format 2 on");
	json_decref(m1);
	json_decref(seen1);
	json_object_set_new(m, "format", json_integer(3));
	ok(cm_manifest_verify(m, seen, &err) < 0 && strstr(err.msg, "format 3"), "a later format is refused");
	cm_error_clear(&err);
	json_decref(m);
	json_decref(seen);
	return done();
}
