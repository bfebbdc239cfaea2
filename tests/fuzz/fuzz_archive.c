/* libFuzzer target: the bytes are a whole checkpoint archive (tar, gzip or
 * zstd: the reader refuses any other). Its first stage unpacks it into a
 * fresh staging folder (the checksums of uncompressed tar headers made right
 * first): member rules, size bounds, the manifest and its
 * signature (tests/fuzz/corpus/fuzz_archive/ has seeds signed by the key this
 * fuzzer's configuration folder trusts). When the stage accepts an archive,
 * every file it left must be one the manifest lists, with that size; and
 * under a policy that requires a trusted signature it must pass if and only if
 * it was signed by a trusted key, and never when no key is trusted. */
#include "archive_io.h"
#include "error.h"
#include "fuzz.h"
#include "manifest.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <jansson.h>

/* The manifest as the archive carries it, read apart from ctrmig's reader. */
static json_t *manifest_members(const char *input)
{
	struct archive *a = archive_read_new();
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	json_t *members = NULL;
	struct archive_entry *e;
	FUZZ_SETUP(archive_read_open_filename(a, input, 1 << 16) == ARCHIVE_OK, "reopen the input");
	while (archive_read_next_header(a, &e) >= ARCHIVE_WARN) {
		cm_autofree char *name = cm_strdup(archive_entry_pathname(e));
		if (cm_member_check(name, CM_MEMBER_FILE, NULL) < 0 || strcmp(name, CM_MANIFEST_NAME))
			continue;
		size_t cap = (size_t)cm_member_max_size(CM_MANIFEST_NAME) + 1, len = 0;
		cm_autofree char *buf = cm_malloc(cap);
		la_ssize_t n;
		while ((n = archive_read_data(a, buf + len, cap - len)) > 0)
			len += (size_t)n;
		json_t *m = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
		members = json_incref(json_object_get(m, "members"));
		json_decref(m);
		break;
	}
	archive_read_free(a);
	return members;
}

/* Every file in the staging folder (two levels: checkpoint/NAME) is listed. */
static void check_listed(const char *stage, const char *sub, json_t *members)
{
	cm_autofree char *path = sub ? cm_path_join(stage, sub) : cm_strdup(stage);
	DIR *d = opendir(path);
	FUZZ_SETUP(d, path);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		cm_autofree char *rel = sub ? cm_strfmt("%s/%s", sub, de->d_name) : cm_strdup(de->d_name);
		cm_autofree char *full = cm_path_join(stage, rel);
		struct stat st;
		FUZZ_SETUP(lstat(full, &st) == 0, full);
		if (S_ISDIR(st.st_mode)) {
			FUZZ_ASSERT(!sub, "a folder two levels down: %s", rel);
			check_listed(stage, rel, members);
			continue;
		}
		FUZZ_ASSERT(S_ISREG(st.st_mode), "%s: not a regular file (mode 0%o)", rel, st.st_mode);
		json_t *want = json_object_get(members, rel);
		FUZZ_ASSERT(want, "the archive was accepted with %s, which its manifest does not list", rel);
		FUZZ_ASSERT(json_integer_value(json_object_get(want, "size")) == st.st_size,
			    "%s: %lld bytes, the manifest says %lld", rel, (long long)st.st_size,
			    (long long)json_integer_value(json_object_get(want, "size")));
	}
	closedir(d);
}

static char *strict_conf, *stranger_conf;

/* Every 512-byte block of an uncompressed tar that holds a ustar header gets
 * its checksum made right: libarchive is not instrumented, so the mutator
 * cannot learn the checksum, and a changed header would never get past it. */
static void fix_checksums(uint8_t *buf, size_t size)
{
	for (size_t off = 0; off + 512 <= size; off += 512) {
		uint8_t *h = buf + off;
		if (memcmp(h + 257, "ustar", 5))
			continue;
		memset(h + 148, ' ', 8);
		unsigned sum = 0;
		for (size_t i = 0; i < 512; i++)
			sum += h[i];
		char field[8];
		snprintf(field, sizeof(field), "%06o", sum & 0777777);
		memcpy(h + 148, field, 7); /* six digits, a NUL, and the space */
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	strict_conf = fuzz_config_make("conf-strict", true, true);
	stranger_conf = fuzz_config_make("conf-stranger", false, true);
	fuzz_config_dir();
	return 0;
}

/* The first stage into a fresh staging folder, which is removed after. */
static int unpack(const char *input, bool *trusted, bool check)
{
	cm_autofree char *stage = cm_path_join(fuzz_dir(), "stage");
	FUZZ_SETUP(mkdir(stage, 0700) == 0, stage);
	struct cm_error err = { 0 };
	int r = cm_archive_unpack(input, stage, trusted, &err);
	FUZZ_ASSERT(r == 0 || (r == -1 && err.msg && *err.msg), "a failure that says nothing (%d)", r);
	if (r == 0 && check) {
		json_t *members = manifest_members(input);
		FUZZ_ASSERT(json_is_object(members), "accepted without a manifest's member list");
		check_listed(stage, NULL, members);
		json_decref(members);
	}
	cm_error_clear(&err);
	FUZZ_SETUP(cm_rm_rf(stage, NULL) == 0, "remove the staging folder");
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cm_autofree char *input = cm_path_join(fuzz_dir(), "input.tar");
	cm_autofree uint8_t *copy = cm_malloc(size + 1);
	memcpy(copy, data, size);
	fix_checksums(copy, size);
	fuzz_write(input, copy, size);
	bool trusted = false, again = false;
	if (unpack(input, &trusted, true) == 0) {
		cm_config_dir_set(strict_conf);
		int r = unpack(input, &again, false);
		FUZZ_ASSERT((r == 0) == trusted && again == trusted,
			    "trusted %d, and with a signature required: %d, trusted %d", trusted, r, again);
		cm_config_dir_set(stranger_conf);
		FUZZ_ASSERT(unpack(input, NULL, false) < 0, "accepted where a signature is required and no key is trusted");
		fuzz_config_dir();
	}
	unlink(input);
	return 0;
}
