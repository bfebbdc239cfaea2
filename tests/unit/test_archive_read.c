/* The archive reader's first stage (cm_archive_unpack) on archives built
 * here: what it accepts, and forged ones it must refuse. */
#include "archive_io.h"
#include "config_dir.h"
#include "error.h"
#include "manifest.h"
#include "sha256.h"
#include "tap.h"
#include "util.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <sys/stat.h>

struct member {
	const char *name;
	const char *data;
};

static const char pstree[] = "pstree bytes";

/* A tar of the members, then a manifest listing the first `listed` of them. */
static void write_archive(const char *path, const struct member *m, size_t n, size_t listed)
{
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	archive_write_open_filename(a, path);
	json_t *manifest = cm_manifest_new();
	for (size_t i = 0; i <= n; i++) {
		const char *name = i < n ? m[i].name : CM_MANIFEST_NAME;
		cm_autofree char *text = i < n ? NULL : json_dumps(manifest, JSON_SORT_KEYS);
		const char *data = i < n ? m[i].data : text;
		struct archive_entry *e = archive_entry_new();
		archive_entry_copy_pathname(e, name);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0600);
		archive_entry_set_size(e, (la_int64_t)strlen(data));
		archive_write_header(a, e);
		archive_write_data(a, data, strlen(data));
		archive_entry_free(e);
		if (i < listed) {
			char hex[65];
			cm_sha256_hex(data, strlen(data), hex);
			cm_manifest_add(manifest, name, strlen(data), hex);
		}
	}
	archive_write_close(a);
	archive_write_free(a);
	json_decref(manifest);
}

/* Unpacks into a fresh folder; returns cm_archive_unpack's result, err filled. */
static int unpack(const char *tmp, const struct member *m, size_t n, size_t listed, struct cm_error *err)
{
	cm_autofree char *path = cm_path_join(tmp, "a.tar");
	cm_autofree char *stage = cm_path_join(tmp, "stage");
	cm_rm_rf(stage, NULL);
	mkdir(stage, 0700);
	write_archive(path, m, n, listed);
	cm_error_clear(err);
	return cm_archive_unpack(path, stage, NULL, err);
}

int main(void)
{
	char tmp[] = "/tmp/ctrmig-test-archive-XXXXXX";
	if (!mkdtemp(tmp)) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	cm_autofree char *conf = cm_path_join(tmp, "conf"); /* no keys, no policy */
	cm_config_dir_set(conf);
	struct cm_error err = { 0 };

	struct member good[] = { { "checkpoint/pstree.img", pstree }, { "stats-dump", "s" } };
	ok(unpack(tmp, good, 2, 2, &err) == 0, "an archive its manifest describes is unpacked: %s",
	   err.msg ? err.msg : "");
	cm_autofree char *written = cm_path_join(tmp, "stage/checkpoint/pstree.img");
	ok(cm_path_exists(written), "its members are in the staging folder");

	ok(unpack(tmp, good, 2, 1, &err) < 0 && strstr(err.msg, "stats-dump: not in the manifest"),
	   "a member the manifest does not list is refused: %s", err.msg);

	/* A name that is not UTF-8 cannot be a key of the manifest: such a member
	 * was written, never recorded as read, and so never missed. */
	struct member bad_name[] = { { "checkpoint/pstree.img", pstree }, { "checkpoint/\xff\xfe.img", "x" } };
	ok(unpack(tmp, bad_name, 2, 1, &err) < 0 && strstr(err.msg, "not UTF-8"),
	   "a member whose name is not UTF-8 is refused: %s", err.msg ? err.msg : "accepted");
	cm_autofree char *smuggled = cm_path_join(tmp, "stage/checkpoint/\xff\xfe.img");
	ok(!cm_path_exists(smuggled), "and is not written");

	/* A member of 1 GiB of holes and one byte, in a few KiB of sparse map. */
	cm_autofree char *sparse = cm_path_join(tmp, "sparse.tar");
	cm_autofree char *stage = cm_path_join(tmp, "stage");
	struct archive *a = archive_write_new();
	archive_write_set_format_pax(a);
	archive_write_open_filename(a, sparse);
	struct archive_entry *e = archive_entry_new();
	archive_entry_copy_pathname(e, "checkpoint/pages-1.img");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0600);
	archive_entry_set_size(e, 1 << 30);
	archive_entry_sparse_add_entry(e, (1 << 30) - 1, 1);
	archive_write_header(a, e);
	archive_write_data(a, "x", 1);
	archive_entry_free(e);
	archive_write_close(a);
	archive_write_free(a);
	cm_rm_rf(stage, NULL);
	mkdir(stage, 0700);
	ok(cm_archive_unpack(sparse, stage, NULL, &err) < 0 && strstr(err.msg, "sparse"),
	   "a sparse member is refused before its holes are written and hashed: %s", err.msg);

	/* A compression libarchive has no library for: it would run lzop, found
	 * on PATH, on the archive's bytes. */
	cm_autofree char *bin = cm_path_join(tmp, "bin");
	cm_autofree char *lzop = cm_path_join(bin, "lzop");
	cm_autofree char *ran = cm_path_join(tmp, "lzop-ran");
	cm_autofree char *script = cm_strfmt("#!/bin/sh\ntouch %s\nexec cat\n", ran);
	cm_autofree char *lzo = cm_path_join(tmp, "a.tar.lzo");
	static const char lzo_magic[] = "\x89LZO\x00\r\n\x1a\n\x10\x30\x20\xa0\x09\x40";
	cm_mkdir_p(bin, 0700, NULL);
	cm_write_file_atomic(lzop, script, strlen(script), 0755, NULL);
	cm_write_file_atomic(lzo, lzo_magic, sizeof(lzo_magic) - 1, 0600, NULL);
	cm_autofree char *path = cm_strdup(getenv("PATH"));
	setenv("PATH", bin, 1);
	cm_rm_rf(stage, NULL);
	mkdir(stage, 0700);
	ok(cm_archive_unpack(lzo, stage, NULL, &err) < 0, "an lzop archive is refused: %s", err.msg);
	ok(!cm_path_exists(ran), "without running lzop");
	setenv("PATH", path, 1);

	cm_rm_rf(tmp, NULL);
	cm_error_clear(&err);
	return done();
}
