#include "unpack.h"
#include "error.h"
#include "untrusted_entry.h"
#include "util.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>

static const int extract_flags =
	ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_OWNER |
	ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
	ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS;

static int copy_data(struct archive *in, struct archive *out, const char *name,
		     struct cm_error *err)
{
	const void *buf;
	size_t size;
	la_int64_t offset;
	for (;;) {
		int r = archive_read_data_block(in, &buf, &size, &offset);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r < ARCHIVE_WARN)
			return cm_err(err, 0, "%s: %s", name, archive_error_string(in));
		if (archive_write_data_block(out, buf, size, offset) < ARCHIVE_WARN)
			return cm_err(err, 0, "%s: %s", name, archive_error_string(out));
	}
}

/* Copies every entry of in to out. With dest_prefix (a folder import, where
 * libarchive's disk reader moves the working directory itself), each name
 * below src_prefix is rewritten to the same name below dest_prefix. */
static int copy_entries(struct archive *in, struct archive *out, const char *src_prefix,
			const char *dest_prefix, bool untrusted, struct cm_error *err)
{
	struct archive_entry *entry;
	for (;;) {
		int r = archive_read_next_header(in, &entry);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r < ARCHIVE_WARN)
			return cm_err(err, 0, "%s", archive_error_string(in));
		const char *name = archive_entry_pathname(entry);
		if (src_prefix) {
			/* Descend first: it opens the directory by the entry's current name. */
			archive_read_disk_descend(in);
			size_t pl = strlen(src_prefix);
			if (strncmp(name, src_prefix, pl) != 0)
				continue;
			cm_autofree char *target = cm_strfmt("%s%s", dest_prefix, name + pl);
			archive_entry_copy_pathname(entry, target);
		}
		name = archive_entry_pathname(entry);
		char why[512];
		if (untrusted && cm_untrusted_entry_tame(entry, NULL, NULL, why, sizeof(why)) < 0)
			return cm_err(err, 0, "%s", why);
		if (archive_write_header(out, entry) < ARCHIVE_WARN)
			return cm_err(err, 0, "%s: %s", name, archive_error_string(out));
		if (archive_entry_size(entry) > 0 && copy_data(in, out, name, err) < 0)
			return -1;
		if (archive_write_finish_entry(out) < ARCHIVE_WARN)
			return cm_err(err, 0, "%s: %s", name, archive_error_string(out));
	}
}

static struct archive *disk_writer(int flags)
{
	struct archive *out = archive_write_disk_new();
	archive_write_disk_set_options(out, flags);
	archive_write_disk_set_standard_lookup(out);
	return out;
}

/* Close reports late errors (directory times, a full disk). */
static int close_writer(struct archive *out, int ret, struct cm_error *err)
{
	if (archive_write_close(out) < ARCHIVE_WARN && ret == 0)
		ret = cm_err(err, 0, "%s", archive_error_string(out));
	archive_write_free(out);
	return ret;
}

/* An archive's names are relative: extraction runs inside dest and returns to
 * where it was. ctrmig is single-threaded. */
static int extract_archive(struct archive *in, const char *dest, bool untrusted, struct cm_error *err)
{
	cm_autoclose int here = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (here < 0)
		return cm_err(err, errno, "open current directory");
	if (chdir(dest) < 0)
		return cm_err(err, errno, "enter %s", dest);
	struct archive *out = disk_writer(extract_flags);
	int ret = close_writer(out, copy_entries(in, out, NULL, NULL, untrusted, err), err);
	if (fchdir(here) < 0 && ret == 0)
		ret = cm_err(err, errno, "return to working directory");
	return ret;
}

void cm_archive_support_builtin_filters(struct archive *a)
{
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_lzma(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_lz4(a);
}

int cm_unpack_file(const char *archive_path, const char *dest, bool untrusted, struct cm_error *err)
{
	struct archive *in = archive_read_new();
	/* Only the filters libarchive decodes itself: "all" would run outside
	 * programs (lzop, lrzip, grzip) as root on a file it cannot decode. An
	 * untrusted file (image.tar in an archive) is a plain tar, gzip or zstd,
	 * as ctrmig writes them. */
	archive_read_support_filter_gzip(in);
	archive_read_support_filter_zstd(in);
	if (untrusted) {
		archive_read_support_format_tar(in);
	} else {
		cm_archive_support_builtin_filters(in);
		archive_read_support_format_all(in);
	}
	int ret;
	if (archive_read_open_filename(in, archive_path, 1 << 16) != ARCHIVE_OK)
		ret = cm_err(err, 0, "%s", archive_error_string(in));
	else
		ret = extract_archive(in, dest, untrusted, err);
	archive_read_free(in);
	if (ret < 0)
		return cm_err_wrap(err, "unpack %s", archive_path);
	return 0;
}

int cm_unpack_dir(const char *src_arg, const char *dest, struct cm_error *err)
{
	/* Extraction runs inside dest: the source must not be a relative path. */
	cm_autofree char *src = realpath(src_arg, NULL);
	if (!src)
		return cm_err(err, errno, "%s", src_arg);
	struct archive *in = archive_read_disk_new();
	archive_read_disk_set_standard_lookup(in);
	archive_read_disk_set_symlink_physical(in);
	int ret;
	if (archive_read_disk_open(in, src) != ARCHIVE_OK)
		ret = cm_err(err, 0, "%s", archive_error_string(in));
	else {
		struct archive *out = disk_writer(extract_flags & ~ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);
		ret = close_writer(out, copy_entries(in, out, src, dest, false, err), err);
	}
	archive_read_free(in);
	if (ret < 0)
		return cm_err_wrap(err, "copy %s", src_arg);
	return 0;
}
