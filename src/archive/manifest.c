#include "manifest.h"
#include "error.h"
#include "jsonio.h"
#include "trust.h"
#include "util.h"

#include <string.h>

static const char *const top_files[] = {
	"config.dump", "spec.dump", "rootfs-diff.tar", "deleted.files",
	"stats-dump",  "image.tar", "network.status", CM_MANIFEST_NAME, CM_TRUST_SIG_NAME,
	/* Podman's and CRI-O's: its /dev/shm, bind mounts, logs */
	"devshm-checkpoint.tar", "bind.mounts", "ctr.log", "dump.log", "io.kubernetes.cri-o.LogPath",
};
static const char *const top_dirs[] = { "checkpoint", "pre-checkpoint", "artifacts" };

bool cm_member_path_safe(const char *path)
{
	if (!*path || path[0] == '/')
		return false;
	const char *p = path;
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p += n + (slash ? 1 : 0);
		if (slash && !*p)
			return false; /* trailing slash */
	}
	return true;
}

/* image/: the base image as an OCI layout (--include-image), and nothing
 * else: its two documents and blobs named by their digest. */
static int carried_image_member(const char *name, enum cm_member_kind kind, struct cm_error *err)
{
	static const char *const dirs[] = { "image", "image/blobs", "image/blobs/sha256" };
	static const char *const files[] = { "image/oci-layout", "image/index.json" };
	const char *const *list = kind == CM_MEMBER_DIR ? dirs : files;
	size_t n = kind == CM_MEMBER_DIR ? 3 : 2;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(name, list[i]))
			return 0;
	const char *hex = name + strlen("image/blobs/sha256/");
	if (kind == CM_MEMBER_FILE && !strncmp(name, "image/blobs/sha256/", 19) && strlen(hex) == 64 &&
	    cm_is_hex(hex))
		return 0;
	return cm_err(err, 0, "member %s: not part of a checkpoint archive", name);
}

int cm_member_check(char *name, enum cm_member_kind kind, struct cm_error *err)
{
	while (name[0] == '.' && name[1] == '/')
		memmove(name, name + 2, strlen(name + 2) + 1);
	size_t len = strlen(name);
	if (len && name[len - 1] == '/')
		name[--len] = '\0';
	if (!cm_member_path_safe(name))
		return cm_err(err, 0, "member %s: unsafe name", name);
	/* The manifest, JSON, can only list UTF-8 names: any other would be
	 * read without ever being checked against it. */
	if (!cm_utf8_valid(name)) {
		cm_autofree char *q = cm_json_quote(name, 64);
		return cm_err(err, 0, "member %s: name is not UTF-8", q);
	}
	if (!strncmp(name, "image", 5) && (name[5] == '/' || !name[5]))
		return carried_image_member(name, kind, err);
	const char *slash = strchr(name, '/');
	if (!slash) {
		const char *const *list = kind == CM_MEMBER_DIR ? top_dirs : top_files;
		size_t n = kind == CM_MEMBER_DIR ? sizeof(top_dirs) / sizeof(top_dirs[0])
						 : sizeof(top_files) / sizeof(top_files[0]);
		for (size_t i = 0; i < n; i++)
			if (!strcmp(name, list[i]))
				return 0;
		return cm_err(err, 0, "member %s: not part of a checkpoint archive", name);
	}
	/* checkpoint/NAME: one level, plain files only */
	size_t dlen = (size_t)(slash - name);
	bool known_dir = false;
	for (size_t i = 0; i < sizeof(top_dirs) / sizeof(top_dirs[0]); i++)
		known_dir |= strlen(top_dirs[i]) == dlen && !strncmp(name, top_dirs[i], dlen);
	if (!known_dir || strchr(slash + 1, '/') || kind != CM_MEMBER_FILE)
		return cm_err(err, 0, "member %s: not part of a checkpoint archive", name);
	return 0;
}

uint64_t cm_member_max_size(const char *name)
{
	static const struct {
		const char *name;
		uint64_t max;
	} limits[] = {
		{ "config.dump", 1 << 20 },   { "spec.dump", 1 << 20 },   { "stats-dump", 1 << 20 },
		{ "deleted.files", 16 << 20 }, { CM_MANIFEST_NAME, 4 << 20 }, { "network.status", 1 << 20 },
		{ "bind.mounts", 1 << 20 },
		{ "image/oci-layout", 1 << 20 }, { "image/index.json", 1 << 20 },
	};
	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++)
		if (!strcmp(name, limits[i].name))
			return limits[i].max;
	return UINT64_MAX;
}

bool cm_member_chunked(const char *name)
{
	const char *slash = strchr(name, '/');
	size_t len = strlen(name);
	return slash && (!strncmp(name, "checkpoint/", 11) || !strncmp(name, "pre-checkpoint/", 15)) &&
	       !strncmp(slash + 1, "pages-", 6) && len > 4 && !strcmp(name + len - 4, ".img");
}

const char *cm_member_digest_key(int format, const char *name)
{
	return format >= 2 && cm_member_chunked(name) ? "chunked_sha256" : "sha256";
}

json_t *cm_manifest_new(void)
{
	return json_pack("{s:i, s:s, s:o}", "format", CM_ARCHIVE_FORMAT, "tool", "ctrmig", "members",
			 json_object());
}

void cm_manifest_add(json_t *manifest, const char *name, uint64_t size, const char *sha256_hex)
{
	json_object_set_new(json_object_get(manifest, "members"), name,
			    json_pack("{s:I, s:s}", "size", (json_int_t)size,
				      cm_member_digest_key(CM_ARCHIVE_FORMAT, name), sha256_hex));
}

int cm_manifest_verify(json_t *manifest, json_t *seen, struct cm_error *err)
{
	int format = (int)cm_json_int(manifest, "format", 0);
	if (format < 1 || format > CM_ARCHIVE_FORMAT)
		return cm_err(err, 0, "%s: format %lld is not one this ctrmig reads (1 to %d)", CM_MANIFEST_NAME,
			      (long long)cm_json_int(manifest, "format", 0), CM_ARCHIVE_FORMAT);
	json_t *members = json_object_get(manifest, "members"), *want, *got;
	if (!json_is_object(members))
		return cm_err(err, 0, "%s: no member list", CM_MANIFEST_NAME);
	const char *name;
	json_object_foreach(members, name, want) {
		got = json_object_get(seen, name);
		if (!got)
			return cm_err(err, 0, "member %s: missing from the archive", name);
		if (cm_json_int(got, "size", -1) != cm_json_int(want, "size", -2))
			return cm_err(err, 0, "member %s: %lld bytes, the manifest says %lld", name,
				      (long long)cm_json_int(got, "size", -1),
				      (long long)cm_json_int(want, "size", -2));
		const char *key = cm_member_digest_key(format, name);
		const char *a = cm_json_str(got, key), *b = cm_json_str(want, key);
		if (!a || !b || strcmp(a, b))
			return cm_err(err, 0, "member %s: sha256 mismatch", name);
	}
	json_object_foreach(seen, name, got) {
		if (!json_object_get(members, name))
			return cm_err(err, 0, "member %s: not in the manifest", name);
	}
	return 0;
}
