/* The pure parts of pulling and loading: skopeo's errors as one line, the
 * layer media types ctrmig takes, picking linux/<host arch> from an index. */
#include "error.h"
#include "image.h"
#include "oci_layout.h"
#include "skopeo.h"
#include "tap.h"
#include "util.h"

#include <jansson.h>
#include <stdlib.h>

static void explains(const char *out, const char *reg, const char *want)
{
	char *got = cm_skopeo_explain(out, reg);
	ok(got && strstr(got, want), "explained: %s", want);
	if (!got || !strstr(got, want))
		printf("#   got: %s\n", got ? got : "(null)");
	ok(got && !strchr(got, '\n'), "one line");
	free(got);
}

int main(void)
{
	explains("time=\"2026-12-06T09:00:12Z\" level=fatal msg=\"Error parsing image name \\\"docker://127.0.0.1:1/x:t\\\": "
		 "pinging container registry 127.0.0.1:1: Get \\\"https://127.0.0.1:1/v2/\\\": dial tcp 127.0.0.1:1: "
		 "connect: connection refused\"\n",
		 "127.0.0.1:1", "registry 127.0.0.1:1 is not reachable: connection refused");
	explains("time=\"x\" level=fatal msg=\"Error parsing image name \\\"docker://r:5000/x:t\\\": pinging container "
		 "registry r:5000: Get \\\"https://r:5000/v2/\\\": http: server gave HTTP response to HTTPS client\"\n",
		 "r:5000", "speaks plain HTTP: pull with --tls-verify=false");
	explains("time=\"x\" level=fatal msg=\"Error parsing image name \\\"docker://r/x:t\\\": reading manifest t in r/x: "
		 "manifest unknown: manifest unknown\"\n",
		 "r", "registry r has no such image (manifest unknown)");
	explains("time=\"x\" level=fatal msg=\"initializing source docker://r/x:t: reading manifest t in r/x: "
		 "unauthorized: authentication required\"\n",
		 "r", "registry r refused access");
	explains("time=\"x\" level=warning msg=\"something\"\ntime=\"x\" level=fatal msg=\"open /etc/containers/policy.json: "
		 "no such file or directory\"\n",
		 NULL, "open /etc/containers/policy.json: no such file or directory");
	explains("plain text, no logrus\nlast line\n", NULL, "last line");
	explains("", NULL, "without saying why");

	ok(cm_media_is_layer("application/vnd.oci.image.layer.v1.tar+gzip"), "OCI gzip layer");
	ok(cm_media_is_layer("application/vnd.oci.image.layer.v1.tar+zstd"), "OCI zstd layer");
	ok(cm_media_is_layer("application/vnd.oci.image.layer.v1.tar"), "OCI plain layer");
	ok(cm_media_is_layer("application/vnd.docker.image.rootfs.diff.tar.gzip"), "Docker layer");
	ok(!cm_media_is_layer("application/vnd.oci.image.layer.v1.tar+bzip2"), "no bzip2");
	ok(!cm_media_is_layer("application/octet-stream"), "no octet-stream");
	ok(!cm_media_is_layer(NULL), "no media type at all");

	const char *variant;
	const char *arch = cm_image_host_arch(&variant);
	char *text = cm_strfmt(
		"{\"manifests\": ["
		"{\"digest\": \"sha256:1\", \"platform\": {\"os\": \"windows\", \"architecture\": \"%s\"}},"
		"{\"digest\": \"sha256:2\", \"platform\": {\"os\": \"linux\", \"architecture\": \"s390x-nope\"}},"
		"{\"digest\": \"sha256:3\", \"platform\": {\"os\": \"unknown\", \"architecture\": \"unknown\"}},"
		"{\"digest\": \"sha256:4\", \"platform\": {\"os\": \"linux\", \"architecture\": \"%s\"}}]}",
		arch, arch);
	json_t *idx = json_loads(text, 0, NULL);
	struct cm_error err = { 0 };
	json_t *d = cm_index_pick_platform(idx, &err);
	is_str(json_string_value(json_object_get(d, "digest")), "sha256:4", "linux/%s picked", arch);
	json_decref(idx);
	free(text);
	idx = json_loads("{\"manifests\": [{\"digest\": \"sha256:1\", \"platform\": {\"os\": \"linux\", "
			 "\"architecture\": \"mips-none\"}}]}",
			 0, NULL);
	d = cm_index_pick_platform(idx, &err);
	ok(!d && err.msg && strstr(err.msg, "has no linux/") && strstr(err.msg, "linux/mips-none"),
	   "no variant for this host: the error lists what there is (%s)", err.msg);
	json_decref(idx);
	cm_error_clear(&err);
	return done();
}
