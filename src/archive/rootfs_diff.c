#include "rootfs_diff.h"
#include "error.h"
#include "manifest.h"
#include "proc_spawn.h"
#include "untrusted_entry.h"
#include "util.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

/* overlayfs marks a deleted file with a 0:0 character device, and a folder
 * whose image contents were replaced with the opaque xattr. */
static bool is_whiteout(struct archive_entry *e)
{
	return archive_entry_filetype(e) == AE_IFCHR && archive_entry_rdev(e) == 0;
}

static bool is_opaque(const char *path)
{
	char v[4];
	ssize_t n = lgetxattr(path, "trusted.overlay.opaque", v, sizeof(v));
	return n == 1 && v[0] == 'y';
}

int cm_archive_copy_data(struct archive *in, struct archive *out, const char *name,
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
		if (archive_write_data(out, buf, size) < 0)
			return cm_err(err, 0, "%s: %s", name, archive_error_string(out));
	}
}

/* The empty files runc makes in the upper dir to mount ctrmig's /etc/hosts,
 * /etc/hostname and /etc/resolv.conf (and Podman's /run/.containerenv) on,
 * where the image has none: not the container's changes (Podman's diff
 * leaves them out too). */
static bool is_etc_mount_point(const char *rel, struct archive_entry *e)
{
	return archive_entry_filetype(e) == AE_IFREG && archive_entry_size(e) == 0 &&
	       (!strcmp(rel, "etc/hosts") || !strcmp(rel, "etc/hostname") || !strcmp(rel, "etc/resolv.conf") ||
		!strcmp(rel, "run/.containerenv"));
}

int cm_rootfs_upper_walk(const char *upper_dir, cm_upper_fn fn, void *arg, struct cm_error *err)
{
	struct archive *in = archive_read_disk_new();
	size_t plen = strlen(upper_dir);
	int ret = 0;

	archive_read_disk_set_symlink_physical(in);
	archive_read_disk_set_behavior(in, ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS);
	if (archive_read_disk_open(in, upper_dir) != ARCHIVE_OK) {
		ret = cm_err(err, 0, "read %s: %s", upper_dir, archive_error_string(in));
		goto out;
	}
	struct archive_entry *e;
	int r;
	while ((r = archive_read_next_header(in, &e)) == ARCHIVE_OK) {
		const char *src = archive_entry_sourcepath(e);
		archive_read_disk_descend(in);
		const char *rel = archive_entry_pathname(e) + plen;
		while (*rel == '/')
			rel++;
		if (!*rel)
			continue; /* the upper dir itself */
		if (is_etc_mount_point(rel, e))
			continue;
		enum cm_upper_kind kind = CM_UPPER_ENTRY;
		if (is_whiteout(e))
			kind = CM_UPPER_DELETED;
		else if (archive_entry_filetype(e) == AE_IFDIR && is_opaque(src))
			kind = CM_UPPER_OPAQUE_DIR;
		cm_autofree char *name = cm_strdup(rel);
		if ((ret = fn(in, e, name, kind, arg, err)) < 0)
			goto out;
	}
	if (r != ARCHIVE_EOF)
		ret = cm_err(err, 0, "read %s: %s", upper_dir, archive_error_string(in));
out:
	archive_read_free(in);
	return ret;
}

struct diff_tar {
	struct archive *out;
	json_t *deleted;
	bool sizing; /* headers only: libarchive pads each entry's data with zeros */
};

static int add_to_diff(struct archive *in, struct archive_entry *e, const char *rel,
		       enum cm_upper_kind kind, void *arg, struct cm_error *err)
{
	struct diff_tar *d = arg;
	if (kind != CM_UPPER_ENTRY)
		json_array_append_new(d->deleted, json_string(rel)); /* an opaque folder is re-added below */
	if (kind == CM_UPPER_DELETED)
		return 0;
	/* overlay's own bookkeeping is not the container's data */
	archive_entry_xattr_clear(e);
	archive_entry_copy_pathname(e, rel);
	if (archive_write_header(d->out, e) < ARCHIVE_WARN)
		return cm_err(err, 0, "%s: %s", rel, archive_error_string(d->out));
	if (!d->sizing && archive_entry_size(e) > 0 && cm_archive_copy_data(in, d->out, rel, err) < 0)
		return -1;
	return 0;
}

/* The walk into d->out, opened; closes it. */
static json_t *write_diff(struct diff_tar *d, const char *upper_dir, int ret, struct cm_error *err)
{
	if (ret == 0)
		ret = cm_rootfs_upper_walk(upper_dir, add_to_diff, d, err);
	if (archive_write_close(d->out) < ARCHIVE_WARN && ret == 0)
		ret = cm_err(err, 0, "write rootfs-diff.tar: %s", archive_error_string(d->out));
	archive_write_free(d->out);
	if (ret < 0) {
		json_decref(d->deleted);
		return NULL;
	}
	return d->deleted;
}

json_t *cm_rootfs_diff_write(const char *upper_dir, int out_fd, struct cm_error *err)
{
	struct diff_tar d = { archive_write_new(), json_array(), false };
	int ret = 0;
	archive_write_set_format_pax_restricted(d.out);
	if (archive_write_open_fd(d.out, out_fd) != ARCHIVE_OK)
		ret = cm_err(err, 0, "write rootfs-diff.tar: %s", archive_error_string(d.out));
	return write_diff(&d, upper_dir, ret, err);
}

json_t *cm_rootfs_diff_stream(const char *upper_dir, archive_write_callback *write, void *arg, bool sizing,
			      struct cm_error *err)
{
	struct diff_tar d = { archive_write_new(), json_array(), sizing };
	int ret = 0;
	archive_write_set_format_pax_restricted(d.out);
	if (archive_write_open2(d.out, arg, NULL, write, NULL, NULL) != ARCHIVE_OK)
		ret = cm_err(err, 0, "write rootfs-diff.tar: %s", archive_error_string(d.out));
	return write_diff(&d, upper_dir, ret, err);
}

/* ---- applying, inside the container root ------------------------------ */

static int remove_in_root(const char *path, char *msg, size_t msglen)
{
	if (!cm_member_path_safe(path)) {
		snprintf(msg, msglen, "deleted.files: unsafe path %s", path);
		return -1;
	}
	struct cm_error e = { 0 };
	/* Inside the chroot, "/" is the container's root. */
	cm_autofree char *abs = cm_strfmt("/%s", path);
	int ret = cm_rm_rf(abs, &e);
	if (ret < 0)
		snprintf(msg, msglen, "deleted.files: %s", e.msg);
	cm_error_clear(&e);
	return ret;
}

/* Whether the base image has the file at name with the same setuid/setgid
 * bits and owner: looked up inside the image's root, wherever its links lead. */
static bool base_has_setid(const char *name, mode_t mode, uid_t uid, gid_t gid, void *arg)
{
	int base_fd = *(int *)arg;
	if (base_fd < 0)
		return false;
	struct open_how how = { .flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	int fd = (int)syscall(SYS_openat2, base_fd, name, &how, sizeof(how));
	if (fd < 0)
		return false;
	struct stat sb;
	bool same = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_uid == uid && sb.st_gid == gid &&
		    (sb.st_mode & (S_ISUID | S_ISGID)) == (mode & (S_ISUID | S_ISGID));
	close(fd);
	return same;
}

static int extract_in_root(int tar_fd, int base_fd, char *msg, size_t msglen)
{
	struct archive *in = archive_read_new(), *out = archive_write_disk_new();
	archive_read_support_format_tar(in);
	/* Numeric owners: name lookups would read the container's /etc/passwd.
	 * No SECURE_SYMLINKS: inside the chroot a symlink cannot point out. No
	 * xattrs: the diff carries none, and file capabilities would grant. */
	archive_write_disk_set_options(out, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
						    ARCHIVE_EXTRACT_OWNER |
						    ARCHIVE_EXTRACT_UNLINK |
						    ARCHIVE_EXTRACT_SECURE_NODOTDOT |
						    ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);
	int ret = 0;
	if (archive_read_open_fd(in, tar_fd, 1 << 16) != ARCHIVE_OK) {
		snprintf(msg, msglen, "rootfs-diff.tar: %s", archive_error_string(in));
		ret = -1;
	}
	struct archive_entry *e;
	while (ret == 0) {
		int r = archive_read_next_header(in, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			snprintf(msg, msglen, "rootfs-diff.tar: %s", archive_error_string(in));
			ret = -1;
			break;
		}
		char why[512];
		if (cm_untrusted_entry_tame(e, base_has_setid, &base_fd, why, sizeof(why)) < 0) {
			snprintf(msg, msglen, "rootfs-diff.tar: %s", why);
			ret = -1;
			break;
		}
		if (archive_write_header(out, e) < ARCHIVE_WARN) {
			snprintf(msg, msglen, "rootfs-diff.tar: %s: %s", archive_entry_pathname(e),
				 archive_error_string(out));
			ret = -1;
			break;
		}
		const void *buf;
		size_t size;
		la_int64_t off;
		while ((r = archive_read_data_block(in, &buf, &size, &off)) == ARCHIVE_OK) {
			if (archive_write_data_block(out, buf, size, off) < ARCHIVE_WARN) {
				r = ARCHIVE_FATAL;
				break;
			}
		}
		if (r != ARCHIVE_EOF || archive_write_finish_entry(out) < ARCHIVE_WARN) {
			snprintf(msg, msglen, "rootfs-diff.tar: %s: %s", archive_entry_pathname(e),
				 archive_error_string(out) ? archive_error_string(out)
							   : archive_error_string(in));
			ret = -1;
		}
	}
	if (archive_write_close(out) < ARCHIVE_WARN && ret == 0) {
		snprintf(msg, msglen, "rootfs-diff.tar: %s", archive_error_string(out));
		ret = -1;
	}
	archive_write_free(out);
	archive_read_free(in);
	return ret;
}

/* The symlinks rootfs-diff.tar plants, by name: a deleted path must not
 * lead through one of them. Reads the headers only. */
static json_t *planted_links(int tar_fd, struct cm_error *err)
{
	struct archive *in = archive_read_new();
	archive_read_support_format_tar(in);
	json_t *links = json_object();
	int r = archive_read_open_fd(in, tar_fd, 1 << 16);
	struct archive_entry *e;
	while (r == ARCHIVE_OK && (r = archive_read_next_header(in, &e)) == ARCHIVE_OK) {
		if (archive_entry_filetype(e) != AE_IFLNK)
			continue;
		const char *name = archive_entry_pathname(e);
		while (name[0] == '.' && name[1] == '/')
			name += 2;
		cm_autofree char *n = cm_strdup(name);
		size_t len = strlen(n);
		while (len > 1 && n[len - 1] == '/')
			n[--len] = '\0';
		json_object_set_new(links, n, json_true());
	}
	if (r != ARCHIVE_EOF) {
		cm_err(err, 0, "rootfs-diff.tar: %s", archive_error_string(in));
		json_decref(links);
		links = NULL;
	}
	archive_read_free(in);
	if (lseek(tar_fd, 0, SEEK_SET) < 0 && links) {
		cm_err(err, errno, "rootfs-diff.tar");
		json_decref(links);
		links = NULL;
	}
	return links;
}

static int check_deleted(json_t *deleted, json_t *links, struct cm_error *err)
{
	json_t *v;
	size_t i;
	json_array_foreach(deleted, i, v) {
		const char *path = json_string_value(v);
		if (!path || !cm_member_path_safe(path))
			return cm_err(err, 0, "deleted.files: unsafe path %.200s", path ? path : "(not a string)");
		cm_autofree char *prefix = cm_strdup(path);
		for (char *slash = strchr(prefix, '/'); slash; slash = strchr(slash + 1, '/')) {
			*slash = '\0';
			if (json_object_get(links, prefix))
				return cm_err(err, 0, "deleted.files: %.200s leads through the symlink %.200s "
						      "that rootfs-diff.tar plants", path, prefix);
			*slash = '/';
		}
	}
	return 0;
}

struct apply {
	const char *root;
	json_t *deleted;
	int tar_fd, base_fd;
};

/* In the child: chroot into the container's root, delete, extract. */
static int apply_in_root(void *arg, char *msg, size_t msglen)
{
	struct apply *a = arg;
	if (chroot(a->root) < 0 || chdir("/") < 0) {
		snprintf(msg, msglen, "enter %s: %s", a->root, strerror(errno));
		return -1;
	}
	size_t i;
	json_t *v;
	json_array_foreach(a->deleted, i, v) {
		if (!json_is_string(v) || remove_in_root(json_string_value(v), msg, msglen) < 0) {
			if (!*msg)
				snprintf(msg, msglen, "deleted.files: not a list of paths");
			return -1;
		}
	}
	return a->tar_fd >= 0 ? extract_in_root(a->tar_fd, a->base_fd, msg, msglen) : 0;
}

int cm_rootfs_diff_apply(const char *root, const char *base_root, const char *diff_tar,
			 json_t *deleted, struct cm_error *err)
{
	cm_autoclose int tar_fd = -1, base_fd = -1;
	if (diff_tar && (tar_fd = open(diff_tar, O_RDONLY | O_CLOEXEC)) < 0)
		return cm_err(err, errno, "open %s", diff_tar);
	if (base_root && (base_fd = open(base_root, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return cm_err(err, errno, "open %s", base_root);
	json_t *links = tar_fd >= 0 ? planted_links(tar_fd, err) : json_object();
	int checked = links ? check_deleted(deleted, links, err) : -1;
	json_decref(links);
	if (checked < 0)
		return -1;
	struct apply a = { root, deleted, tar_fd, base_fd };
	return cm_fork_run(apply_in_root, &a, "applying the file changes failed", err);
}
