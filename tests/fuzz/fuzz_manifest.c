/* libFuzzer target: the archive's rules for member names and its manifest.
 * The input is up to three parts split at NUL bytes:
 *   names (one a line) \0 ctrmig.manifest \0 what was read ({name: {size, sha256}})
 * Each name goes through cm_member_check as a file and as a folder, and
 * cm_member_path_safe; the manifest through cm_manifest_verify against the
 * third part, or, without one, against its own member list. */
#include "error.h"
#include "fuzz.h"
#include "jsonio.h"
#include "manifest.h"

#include <jansson.h>

/* What "safe" promises, checked without cm_member_path_safe's own code:
 * relative, and no empty, "." or ".." part. */
static bool safe_by_parts(const char *path)
{
	if (!*path || *path == '/')
		return false;
	cm_autofree char *copy = cm_strdup(path);
	size_t len = strlen(copy);
	if (copy[len - 1] == '/')
		return false;
	char *save = NULL;
	size_t parts = 0, slashes = 0;
	for (const char *p = copy; *p; p++)
		slashes += *p == '/';
	for (char *t = strtok_r(copy, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
		if (!strcmp(t, ".") || !strcmp(t, ".."))
			return false;
		parts++;
	}
	return parts == slashes + 1; /* no empty part between two slashes */
}

static void check_name(const char *line, size_t n)
{
	cm_autofree char *raw = cm_malloc(n + 1);
	memcpy(raw, line, n);
	raw[n] = '\0';
	bool safe = cm_member_path_safe(raw);
	FUZZ_ASSERT(safe == safe_by_parts(raw), "cm_member_path_safe(\"%s\") is %d", raw, safe);
	(void)cm_member_max_size(raw);

	for (int kind = CM_MEMBER_FILE; kind <= CM_MEMBER_DIR; kind++) {
		cm_autofree char *name = cm_strdup(raw);
		struct cm_error err = { 0 };
		int r = cm_member_check(name, (enum cm_member_kind)kind, &err);
		FUZZ_ASSERT(r == 0 || (r == -1 && err.msg), "a refusal that says nothing (%d)", r);
		cm_error_clear(&err);
		if (r < 0)
			continue;
		/* An accepted name is safe to open under the staging folder, fits in
		 * the manifest (a JSON key: UTF-8), and is already normal. */
		FUZZ_ASSERT(cm_member_path_safe(name), "accepted unsafe name \"%s\"", name);
		FUZZ_ASSERT(cm_utf8_valid(name), "accepted a name that is not UTF-8, which no manifest can list");
		cm_autofree char *again = cm_strdup(name);
		FUZZ_ASSERT(cm_member_check(again, (enum cm_member_kind)kind, NULL) == 0 && !strcmp(again, name),
			    "\"%s\" is not normal: it becomes \"%s\"", name, again);
		/* One level deep, but for the carried image's OCI layout, which is
		 * exactly image/blobs/sha256/<64 hex>. */
		bool layout_blob = !strncmp(name, "image/blobs/sha256/", 19) && strlen(name + 19) == 64 &&
				   cm_is_hex(name + 19);
		bool layout_dir = !strcmp(name, "image/blobs") || !strcmp(name, "image/blobs/sha256");
		FUZZ_ASSERT(strchr(name, '/') == strrchr(name, '/') || layout_blob || layout_dir,
			    "\"%s\" is more than one level deep", name);
	}
}

/* Whether every entry of a member list is {"size": integer, KEY: string}
 * (KEY "sha256", or "chunked_sha256" for a page image: manifest.h) under a
 * name without a NUL (JSON allows "\u0000"; a member's name cannot hold one,
 * and C code sees such a key cut short). */
static bool well_formed(json_t *members)
{
	const char *name;
	json_t *v;
	json_object_foreach(members, name, v)
		if (json_object_iter_key_len(json_object_key_to_iter(name)) != strlen(name) ||
		    !json_is_integer(json_object_get(v, "size")) ||
		    !json_is_string(json_object_get(v, cm_member_digest_key(CM_ARCHIVE_FORMAT, name))))
			return false;
	return true;
}

static void check_manifest(const struct fuzz_part *m, const struct fuzz_part *s)
{
	struct cm_error err = { 0 };
	json_t *manifest = cm_json_parse(m->p, m->n, CM_MANIFEST_NAME, &err);
	cm_error_clear(&err);
	if (!manifest)
		return;
	json_t *members = json_object_get(manifest, "members");
	json_t *seen = s ? cm_json_parse(s->p, s->n, "seen", NULL) : json_deep_copy(members);
	if (!seen)
		seen = json_object();
	int r = cm_manifest_verify(manifest, seen, &err);
	FUZZ_ASSERT(r == 0 || (r == -1 && err.msg), "a refusal that says nothing (%d)", r);
	cm_error_clear(&err);
	bool format_ok = json_integer_value(json_object_get(manifest, "format")) == CM_ARCHIVE_FORMAT &&
			 json_is_integer(json_object_get(manifest, "format"));
	if (!s && format_ok && json_is_object(members))
		FUZZ_ASSERT((r == 0) == well_formed(members),
			    "a manifest checked against its own list: %d, its list well formed: %d", r,
			    well_formed(members));
	if (r == 0)
		FUZZ_ASSERT(json_is_object(seen) && json_object_size(seen) <= json_object_size(members),
			    "more members read than the manifest lists");

	/* The writer's side: a manifest made from what was read verifies. */
	if (json_is_object(seen) && well_formed(seen)) {
		json_t *made = cm_manifest_new(), *v;
		const char *name;
		json_object_foreach(seen, name, v)
			cm_manifest_add(made, name, (uint64_t)json_integer_value(json_object_get(v, "size")),
					json_string_value(json_object_get(
						v, cm_member_digest_key(CM_ARCHIVE_FORMAT, name))));
		FUZZ_ASSERT(cm_manifest_verify(made, seen, NULL) == 0, "a manifest ctrmig made does not verify");
		json_decref(made);
	}
	json_decref(seen);
	json_decref(manifest);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_part parts[3];
	size_t n = fuzz_split(data, size, parts, 3);
	const char *p = parts[0].p, *end = p + parts[0].n;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		check_name(p, len);
		p += len + 1;
	}
	if (n >= 2)
		check_manifest(&parts[1], n >= 3 ? &parts[2] : NULL);
	return 0;
}
