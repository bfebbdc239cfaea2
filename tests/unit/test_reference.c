#include "error.h"
#include "reference.h"
#include "tap.h"
#include "util.h"

#include <stdlib.h>

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void normal(const char *in, const char *want)
{
	struct cm_error err = { 0 };
	char *got = cm_ref_normalize(in, &err);
	is_str(got, want, "%s -> %s", in, want);
	if (!got)
		printf("#   error: %s\n", err.msg);
	free(got);
	cm_error_clear(&err);
}

static void refused(const char *in, const char *why)
{
	struct cm_error err = { 0 };
	char *got = cm_ref_normalize(in, &err);
	ok(!got && err.msg && strstr(err.msg, why), "%s is refused (%s)", in, why);
	if (got || !err.msg || !strstr(err.msg, why))
		printf("#   got: %s / %s\n", got ? got : "(null)", err.msg ? err.msg : "(no error)");
	free(got);
	cm_error_clear(&err);
}

int main(void)
{
	/* Docker's and skopeo's normalisation */
	normal("alpine", "docker.io/library/alpine:latest");
	normal("alpine:3.19", "docker.io/library/alpine:3.19");
	normal("library/alpine", "docker.io/library/alpine:latest");
	normal("docker.io/alpine", "docker.io/library/alpine:latest");
	normal("index.docker.io/library/alpine:edge", "docker.io/library/alpine:edge");
	normal("team/app", "docker.io/team/app:latest");
	normal("quay.io/podman/stable", "quay.io/podman/stable:latest");
	normal("localhost/app", "localhost/app:latest");
	normal("localhost:5000/team/app:v1.2", "localhost:5000/team/app:v1.2");
	normal("127.0.0.1:5000/x", "127.0.0.1:5000/x:latest");
	normal("registry:5000/team/app@sha256:" D64, "registry:5000/team/app@sha256:" D64);
	normal("alpine:3.19@sha256:" D64, "docker.io/library/alpine:3.19@sha256:" D64);
	normal("[::1]:5000/a", "[::1]:5000/a:latest");
	normal("Registry.Example/app", "Registry.Example/app:latest");
	normal("a/b.c/d_e/f__g/h---i", "docker.io/a/b.c/d_e/f__g/h---i:latest");
	/* a single component that looks like host:port is a name and a tag */
	normal("localhost:5000", "docker.io/library/localhost:5000");

	/* the parts */
	struct cm_ref r;
	struct cm_error err = { 0 };
	ok(cm_ref_parse("localhost:5000/team/app@sha256:" D64, &r, &err) == 0, "parse with digest");
	is_str(r.domain, "localhost:5000", "domain");
	is_str(r.path, "team/app", "path");
	ok(r.tag == NULL, "no tag when only a digest is given");
	is_str(r.digest, "sha256:" D64, "digest");
	char *s = cm_ref_repository(&r);
	is_str(s, "localhost:5000/team/app", "repository");
	free(s);
	s = cm_ref_name_tag(&r);
	is_str(s, "localhost:5000/team/app@sha256:" D64, "name for a digest-only reference");
	free(s);
	cm_ref_free(&r);
	ok(cm_ref_parse("busybox", &r, &err) == 0, "parse a bare name");
	s = cm_ref_name_tag(&r);
	is_str(s, "docker.io/library/busybox:latest", "name:tag");
	free(s);
	cm_ref_free(&r);

	/* validation */
	refused("", "empty");
	normal("Alpine/app", "Alpine/app:latest"); /* an upper-case first part is a registry */
	refused("library/Alpine", "lower-case");
	refused("../evil", "registry"); /* ".." holds a '.': a registry, and not a valid one */
	refused("a/../evil", "each part");
	refused("a/../b", "each part");
	refused("a//b", "each part");
	refused("a/b/", "each part");
	refused("-a", "each part");
	refused("a_", "each part");
	refused("a...b", "each part");
	refused("a:", "a tag is");
	refused("a:-x", "a tag is");
	refused("a:.x", "a tag is");
	refused("a@sha256:abc", "64 lower-case");
	refused("a@sha256:" "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", "64 lower-case");
	refused("a@md5:d41d8cd98f00b204e9800998ecf8427e", "sha256");
	refused(D64, "image id");
	refused("a b", "spaces");
	refused("bad_host.example_/x", "registry");
	refused("-host.example/x", "registry");
	refused("host.example:/x", "registry");
	char longname[300];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	refused(longname, "255");
	char longtag[140] = "a:";
	memset(longtag + 2, 't', 129);
	longtag[131] = '\0';
	refused(longtag, "a tag is");

	ok(cm_digest_valid("sha256:" D64), "digest valid");
	ok(!cm_digest_valid("sha256:" D64 "0"), "digest too long");
	ok(!cm_digest_valid("sha512:" D64), "other algorithm");
	ok(!cm_digest_valid(NULL), "NULL digest");
	cm_error_clear(&err);
	return done();
}
