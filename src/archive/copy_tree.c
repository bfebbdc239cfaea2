#include "copy_tree.h"
#include "error.h"
#include "proc_spawn.h"
#include "rootfs_diff.h"
#include "untrusted_entry.h"
#include "util.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

int cm_copy_stat(const char *root, const char *path, bool follow, struct stat *sb)
{
	cm_autoclose int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return -1;
	struct open_how how = { .flags = O_PATH | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW),
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	cm_autoclose int fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	if (fd < 0)
		return -1;
	return fstatat(fd, "", sb, AT_EMPTY_PATH);
}

static int enter_root(const char *root, char *msg, size_t msglen)
{
	if (strcmp(root, "/") && (chroot(root) < 0 || chdir("/") < 0)) {
		snprintf(msg, msglen, "enter %s: %s", root, strerror(errno));
		return -1;
	}
	return 0;
}

struct pack {
	const char *root, *src, *top;
	bool contents_only;
	int fd;
};

static int pack_in_root(void *arg, char *msg, size_t msglen)
{
	struct pack *p = arg;
	if (enter_root(p->root, msg, msglen) < 0)
		return -1;
	struct archive *in = archive_read_disk_new(), *out = archive_write_new();
	archive_read_disk_set_symlink_physical(in);
	archive_write_set_format_pax_restricted(out);
	size_t slen = strlen(p->src);
	int ret = 0;
	if (archive_read_disk_open(in, p->src) != ARCHIVE_OK || archive_write_open_fd(out, p->fd) != ARCHIVE_OK) {
		snprintf(msg, msglen, "%s: %s", p->src, archive_error_string(in));
		ret = -1;
	}
	struct archive_entry *e;
	int r = ARCHIVE_OK;
	while (ret == 0 && (r = archive_read_next_header(in, &e)) == ARCHIVE_OK) {
		archive_read_disk_descend(in);
		const char *rest = archive_entry_pathname(e) + slen;
		while (*rest == '/')
			rest++;
		if (p->contents_only && !*rest)
			continue; /* the folder itself */
		cm_autofree char *name = p->contents_only ? cm_strdup(rest)
				       : *rest ? cm_strfmt("%s/%s", p->top, rest) : cm_strdup(p->top);
		archive_entry_copy_pathname(e, name);
		struct cm_error err = { 0 };
		if (archive_write_header(out, e) < ARCHIVE_WARN) {
			snprintf(msg, msglen, "%s: %s", name, archive_error_string(out));
			ret = -1;
		} else if (archive_entry_size(e) > 0 && cm_archive_copy_data(in, out, name, &err) < 0) {
			snprintf(msg, msglen, "%s", err.msg);
			cm_error_clear(&err);
			ret = -1;
		}
	}
	if (ret == 0 && r != ARCHIVE_EOF) {
		snprintf(msg, msglen, "%s: %s", p->src, archive_error_string(in));
		ret = -1;
	}
	if (archive_write_close(out) < ARCHIVE_WARN && ret == 0) {
		snprintf(msg, msglen, "write the copy: %s", archive_error_string(out));
		ret = -1;
	}
	archive_write_free(out);
	archive_read_free(in);
	return ret;
}

int cm_copy_pack(const char *root, const char *src, const char *top, bool contents_only, int tar_fd,
		 struct cm_error *err)
{
	struct pack p = { root, src, top, contents_only, tar_fd };
	return cm_fork_run(pack_in_root, &p, "packing the copy failed", err);
}

struct unpack {
	const char *root, *dir;
	int fd;
	bool untrusted;
};

static int unpack_in_root(void *arg, char *msg, size_t msglen)
{
	struct unpack *u = arg;
	if (enter_root(u->root, msg, msglen) < 0)
		return -1;
	if (chdir(u->dir) < 0) {
		snprintf(msg, msglen, "%s: %s", u->dir, strerror(errno));
		return -1;
	}
	struct archive *in = archive_read_new(), *out = archive_write_disk_new();
	archive_read_support_format_tar(in);
	archive_write_disk_set_options(out, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
						    ARCHIVE_EXTRACT_UNLINK |
						    ARCHIVE_EXTRACT_SECURE_SYMLINKS |
						    ARCHIVE_EXTRACT_SECURE_NODOTDOT |
						    ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);
	int ret = 0, r = ARCHIVE_OK;
	if (archive_read_open_fd(in, u->fd, 1 << 16) != ARCHIVE_OK) {
		snprintf(msg, msglen, "read the copy: %s", archive_error_string(in));
		ret = -1;
	}
	struct archive_entry *e;
	while (ret == 0 && (r = archive_read_next_header(in, &e)) == ARCHIVE_OK) {
		char why[512];
		if (u->untrusted && cm_untrusted_entry_tame(e, NULL, NULL, why, sizeof(why)) < 0) {
			snprintf(msg, msglen, "%s", why);
			ret = -1;
		} else if (archive_write_header(out, e) < ARCHIVE_WARN) {
			snprintf(msg, msglen, "%s: %s", archive_entry_pathname(e), archive_error_string(out));
			ret = -1;
		} else {
			const void *buf;
			size_t size;
			la_int64_t off;
			while ((r = archive_read_data_block(in, &buf, &size, &off)) == ARCHIVE_OK)
				if (archive_write_data_block(out, buf, size, off) < ARCHIVE_WARN)
					break;
			if (r != ARCHIVE_EOF || archive_write_finish_entry(out) < ARCHIVE_WARN) {
				snprintf(msg, msglen, "%s: %s", archive_entry_pathname(e),
					 archive_error_string(out) ? archive_error_string(out)
								   : archive_error_string(in));
				ret = -1;
			}
			r = ARCHIVE_OK;
		}
	}
	if (ret == 0 && r != ARCHIVE_EOF) {
		snprintf(msg, msglen, "read the copy: %s", archive_error_string(in));
		ret = -1;
	}
	if (archive_write_close(out) < ARCHIVE_WARN && ret == 0) {
		snprintf(msg, msglen, "%s", archive_error_string(out));
		ret = -1;
	}
	archive_write_free(out);
	archive_read_free(in);
	return ret;
}

int cm_copy_unpack(const char *root, const char *dir, int tar_fd, bool untrusted,
		   struct cm_error *err)
{
	if (lseek(tar_fd, 0, SEEK_SET) < 0)
		return cm_err(err, errno, "rewind the copy");
	struct unpack u = { root, dir, tar_fd, untrusted };
	return cm_fork_run(unpack_in_root, &u, "unpacking the copy failed", err);
}
