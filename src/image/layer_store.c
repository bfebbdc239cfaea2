#include "layer_store.h"
#include "error.h"
#include "jsonio.h"
#include "reference.h"
#include "sha256.h"
#include "store.h"
#include "untrusted_entry.h"
#include "util.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#define OPAQUE_XATTR "trusted.overlay.opaque"
#define LINK_LEN 26

/* ---- names ----------------------------------------------------------------- */

int cm_layer_clean_name(const char *in, char *out, size_t outlen)
{
	size_t o = 0;
	const char *p = in;
	while (*p) {
		while (*p == '/')
			p++;
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n == 0)
			break;
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return -1;
		if (!(n == 1 && p[0] == '.')) {
			if (o + n + 2 > outlen)
				return -1;
			if (o)
				out[o++] = '/';
			memcpy(out + o, p, n);
			o += n;
		}
		p += n;
	}
	out[o] = '\0';
	/* "/" alone is the root (umoci writes it); "/etc" is absolute */
	return in[0] == '/' && o ? -1 : 0;
}

enum cm_whiteout cm_layer_whiteout(const char *name, const char **target)
{
	const char *base = strrchr(name, '/');
	base = base ? base + 1 : name;
	/* a ".wh." folder with members below it is no whiteout and no file */
	for (const char *p = name; p < base; p = strchr(p, '/') + 1)
		if (!strncmp(p, ".wh.", 4))
			return CM_WH_BAD;
	if (strncmp(base, ".wh.", 4))
		return CM_WH_NONE;
	if (!strcmp(base, ".wh..wh..opq"))
		return CM_WH_OPAQUE;
	if (!strncmp(base, ".wh..wh.", 8))
		return CM_WH_META;
	const char *t = base + 4;
	if (!*t || !strcmp(t, ".") || !strcmp(t, ".."))
		return CM_WH_BAD;
	*target = t;
	return CM_WH_FILE;
}

static const char *hex_of(const char *digest)
{
	return digest + 7;
}

char *cm_layer_diff_path(struct cm_store *st, const char *diff_id)
{
	return cm_strfmt("%s/layers/%s/diff", st->root, hex_of(diff_id));
}

bool cm_layer_exists(struct cm_store *st, const char *diff_id)
{
	if (!cm_digest_valid(diff_id))
		return false;
	cm_autofree char *p = cm_strfmt("%s/layers/%s/layer.json", st->root, hex_of(diff_id));
	return cm_path_exists(p);
}

json_t *cm_layer_info(struct cm_store *st, const char *diff_id, struct cm_error *err)
{
	cm_autofree char *p = cm_strfmt("%s/layers/%s/layer.json", st->root, hex_of(diff_id));
	return cm_json_load(p, err);
}

/* ---- reading a layer blob: compressed bytes -> raw stream -> tar ----------- */

struct blob_in {
	int fd;
	struct cm_sha256 h;
	long long bytes;
	unsigned char buf[1 << 17];
};

struct tar_in {
	struct archive *raw;
	struct cm_sha256 h;
	long long bytes;
	bool eof;
};

struct stream {
	struct blob_in *bin;
	struct tar_in tin;
	struct archive *raw, *tar;
	bool hashing;
};

static la_ssize_t blob_read(struct archive *a, void *arg, const void **buf)
{
	struct blob_in *b = arg;
	for (;;) {
		ssize_t n = read(b->fd, b->buf, sizeof(b->buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			archive_set_error(a, errno, "read the blob");
			return -1;
		}
		cm_sha256_update(&b->h, b->buf, (size_t)n);
		b->bytes += n;
		*buf = b->buf;
		return n;
	}
}

/* The tar reader's input: the decompressed stream, hashed as it passes. */
static la_ssize_t tar_read(struct archive *a, void *arg, const void **buf)
{
	struct tar_in *t = arg;
	while (!t->eof) {
		size_t size;
		la_int64_t off;
		int r = archive_read_data_block(t->raw, buf, &size, &off);
		if (r == ARCHIVE_EOF) {
			t->eof = true;
			break;
		}
		if (r < ARCHIVE_WARN) {
			archive_set_error(a, archive_errno(t->raw), "%s", archive_error_string(t->raw));
			return -1;
		}
		if (size == 0)
			continue;
		cm_sha256_update(&t->h, *buf, size);
		t->bytes += (long long)size;
		return (la_ssize_t)size;
	}
	return 0;
}

static void stream_close(struct stream *s)
{
	if (s->tar)
		archive_read_free(s->tar);
	if (s->raw)
		archive_read_free(s->raw);
	if (s->hashing) {
		char dummy[65];
		cm_sha256_final_hex(&s->bin->h, dummy);
		cm_sha256_final_hex(&s->tin.h, dummy);
		s->hashing = false;
	}
	if (s->bin) {
		if (s->bin->fd >= 0)
			close(s->bin->fd);
		free(s->bin);
	}
	memset(s, 0, sizeof(*s));
}

static int stream_open(struct stream *s, const char *blob, bool want_tar, struct cm_error *err)
{
	memset(s, 0, sizeof(*s));
	s->bin = cm_malloc(sizeof(*s->bin));
	s->bin->bytes = 0;
	s->bin->fd = open(blob, O_RDONLY | O_CLOEXEC);
	if (s->bin->fd < 0) {
		int e = errno;
		free(s->bin);
		s->bin = NULL;
		return cm_err(err, e, "open %s", blob);
	}
	cm_sha256_init(&s->bin->h);
	cm_sha256_init(&s->tin.h);
	s->hashing = true;
	struct archive_entry *e;
	s->raw = archive_read_new();
	archive_read_support_filter_gzip(s->raw);
	archive_read_support_filter_zstd(s->raw);
	archive_read_support_format_raw(s->raw);
	if (archive_read_open(s->raw, s->bin, NULL, blob_read, NULL) != ARCHIVE_OK ||
	    archive_read_next_header(s->raw, &e) != ARCHIVE_OK)
		return cm_err(err, 0, "not a tar, gzip or zstd stream: %s",
			      archive_error_string(s->raw) ? archive_error_string(s->raw) : "empty");
	s->tin.raw = s->raw;
	if (!want_tar)
		return 0;
	s->tar = archive_read_new();
	archive_read_support_format_tar(s->tar);
	if (archive_read_open(s->tar, &s->tin, NULL, tar_read, NULL) != ARCHIVE_OK)
		return cm_err(err, 0, "not a tar stream: %s", archive_error_string(s->tar));
	return 0;
}

/* Reads what the tar reader left (its end-of-archive padding, trailing
 * bytes) so that both digests cover every byte, then finishes them. */
static int stream_finish(struct stream *s, char blob_hex[65], char diff_hex[65], long long *size,
			 struct cm_error *err)
{
	const void *buf;
	la_ssize_t n;
	while ((n = tar_read(s->tar ? s->tar : s->raw, &s->tin, &buf)) > 0)
		;
	if (n < 0)
		return cm_err(err, 0, "%s", archive_error_string(s->raw));
	while ((n = blob_read(s->raw, s->bin, &buf)) > 0)
		;
	if (n < 0)
		return cm_err(err, errno, "read the blob");
	cm_sha256_final_hex(&s->bin->h, blob_hex);
	cm_sha256_final_hex(&s->tin.h, diff_hex);
	s->hashing = false;
	*size = s->tin.bytes;
	return 0;
}

/* ---- looking paths up in the lower layers, as overlayfs merges them -------- */

static bool is_whiteout(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

static bool is_opaque(int dirfd)
{
	char v[2];
	return fgetxattr(dirfd, OPAQUE_XATTR, v, sizeof(v)) == 1 && v[0] == 'y';
}

enum lookup { ABSENT, HIDDEN, FOUND };

/* One layer: FOUND (with the parent folder's fd in *parent), HIDDEN by a
 * whiteout or a non-folder on the way, or ABSENT; *opaque when a folder on
 * the way hides what the layers below have there. */
static enum lookup lookup_one(int layer, const char *path, struct stat *st, int *parent, bool *opaque)
{
	*opaque = is_opaque(layer);
	int fd = fcntl(layer, F_DUPFD_CLOEXEC, 0);
	cm_autofree char *copy = cm_strdup(path);
	char *comp = copy, *slash;
	while ((slash = strchr(comp, '/'))) {
		*slash = '\0';
		struct stat s;
		int next = -1;
		enum lookup r = ABSENT;
		if (fstatat(fd, comp, &s, AT_SYMLINK_NOFOLLOW) < 0)
			r = ABSENT;
		else if (!S_ISDIR(s.st_mode))
			r = HIDDEN;
		else if ((next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
			r = HIDDEN;
		close(fd);
		if (next < 0)
			return r;
		fd = next;
		*opaque |= is_opaque(fd);
		comp = slash + 1;
	}
	if (fstatat(fd, comp, st, AT_SYMLINK_NOFOLLOW) < 0) {
		close(fd);
		return ABSENT;
	}
	if (is_whiteout(st)) {
		close(fd);
		return HIDDEN;
	}
	*parent = fd;
	return FOUND;
}

/* The top-most lower layer that shows path; -1 when the merged lower view
 * has nothing there. */
static int lower_lookup(const int *lowers, size_t n, const char *path, struct stat *st, int *parent)
{
	for (size_t i = n; i-- > 0;) {
		bool opaque;
		enum lookup r = lookup_one(lowers[i], path, st, parent, &opaque);
		if (r == FOUND)
			return (int)i;
		if (r == HIDDEN || opaque)
			return -1;
	}
	return -1;
}

/* ---- applying entries ------------------------------------------------------ */

struct applier {
	int root;          /* the new layer's diff folder */
	const int *lowers; /* bottom first */
	size_t n_lowers;
	bool untrusted;
	struct archive *out;
	char *last_dir; /* the folder the previous member went into, known good */
	struct tar_in *tin;
	/* The stream ended right after the last member's data, without the
	 * padding to 512 bytes or the two zero blocks: Go's archive/tar (Docker,
	 * containerd) takes that as the end of the archive, and umoci writes such
	 * layers, so ctrmig does too. Data cut short is still an error. */
	bool ended;
	bool whole; /* the last member was read to its end */
};

static int dup_fd(int fd)
{
	return fcntl(fd, F_DUPFD_CLOEXEC, 0);
}

static int set_opaque(int dirfd, const char *what, struct cm_error *err)
{
	if (fsetxattr(dirfd, OPAQUE_XATTR, "y", 1, 0) < 0)
		return cm_err(err, errno, "%s: mark the folder opaque", what);
	return 0;
}

/* Makes a folder that is in this layer but was not in its tar, with the
 * attributes the lower layers give it (overlayfs shows the top-most folder's
 * owner and mode). */
static int make_dir(struct applier *ap, int parent, const char *comp, const char *path, struct cm_error *err)
{
	mode_t mode = 0755;
	uid_t uid = 0;
	gid_t gid = 0;
	struct stat st;
	int lp = -1;
	if (lower_lookup(ap->lowers, ap->n_lowers, path, &st, &lp) >= 0) {
		close(lp);
		if (S_ISDIR(st.st_mode)) {
			mode = st.st_mode & 07777;
			uid = st.st_uid;
			gid = st.st_gid;
		}
	}
	if (mkdirat(parent, comp, 0700) < 0 || fchownat(parent, comp, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 ||
	    fchmodat(parent, comp, mode, 0) < 0)
		return cm_err(err, errno, "member %s: create the folder", path);
	return 0;
}

/* A whiteout of this layer where a folder is now wanted: the folder replaces
 * it, opaque, so that the lower layers' folder stays hidden. */
static int whiteout_to_opaque_dir(int parent, const char *comp, const char *path, struct cm_error *err)
{
	if (unlinkat(parent, comp, 0) < 0 || mkdirat(parent, comp, 0755) < 0)
		return cm_err(err, errno, "member %s: replace the whiteout", path);
	cm_autoclose int fd = openat(parent, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return cm_err(err, errno, "member %s", path);
	return set_opaque(fd, path, err);
}

/* Opens folder dir of the new layer (relative, clean; "" is the root), each
 * component a real folder of this layer: missing ones are made, and a
 * symlink on the way is refused, never followed. */
static int open_dir_opt(struct applier *ap, const char *dir, bool create, struct cm_error *err)
{
	int fd = dup_fd(ap->root);
	if (fd < 0)
		return cm_err(err, errno, "dup");
	if (!*dir)
		return fd;
	cm_autofree char *copy = cm_strdup(dir);
	char *comp = copy;
	for (;;) {
		char *slash = strchr(comp, '/');
		if (slash)
			*slash = '\0';
		int next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOENT && create) {
			if (make_dir(ap, fd, comp, copy, err) < 0)
				goto fail;
			next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		} else if (next < 0 && errno == ENOTDIR && create) {
			struct stat st;
			if (fstatat(fd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && is_whiteout(&st)) {
				if (whiteout_to_opaque_dir(fd, comp, copy, err) < 0)
					goto fail;
				next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			} else {
				errno = ENOTDIR;
			}
		}
		if (next < 0) {
			if (errno == ELOOP || errno == ENOTDIR)
				cm_err(err, 0, "%s: not a folder of this layer (a symlink or a file); "
					       "nothing is written through it", copy);
			else
				cm_err(err, errno, "%s", copy);
			goto fail;
		}
		close(fd);
		fd = next;
		if (!slash)
			return fd;
		*slash = '/';
		comp = slash + 1;
	}
fail:
	close(fd);
	return -1;
}

static int open_dir(struct applier *ap, const char *dir, struct cm_error *err)
{
	return open_dir_opt(ap, dir, true, err);
}

static void split(const char *name, char *dir, size_t dirlen, const char **base)
{
	const char *slash = strrchr(name, '/');
	if (!slash) {
		dir[0] = '\0';
		*base = name;
		return;
	}
	snprintf(dir, dirlen, "%.*s", (int)(slash - name), name);
	*base = slash + 1;
}

static int apply_whiteout(struct applier *ap, const char *name, enum cm_whiteout w, const char *target,
			  struct cm_error *err)
{
	char dir[PATH_MAX];
	const char *base;
	split(name, dir, sizeof(dir), &base);
	cm_autoclose int fd = open_dir(ap, dir, err);
	if (fd < 0)
		return -1;
	if (w == CM_WH_OPAQUE)
		return set_opaque(fd, name, err);
	struct stat st;
	/* Something of this layer holds the name: a whiteout hides only the
	 * layers below (image-spec), so it stays. */
	if (fstatat(fd, target, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	if (mknodat(fd, target, S_IFCHR | 0, makedev(0, 0)) < 0)
		return cm_err(err, errno, "member %s: make the whiteout", name);
	return 0;
}

static int copy_xattrs(int src, int dst)
{
	char names[4096];
	ssize_t n = flistxattr(src, names, sizeof(names));
	for (ssize_t i = 0; n > 0 && i < n; i += (ssize_t)strlen(names + i) + 1) {
		char val[4096];
		ssize_t v = fgetxattr(src, names + i, val, sizeof(val));
		if (v >= 0 && fsetxattr(dst, names + i, val, (size_t)v, 0) < 0)
			return -1;
	}
	return 0;
}

/* A copy of a lower layer's file, when a hard link to it cannot be made. */
static int copy_file(int sdir, const char *sname, const struct stat *st, int ddir, const char *dname)
{
	if (S_ISLNK(st->st_mode)) {
		char target[PATH_MAX + 1];
		ssize_t l = readlinkat(sdir, sname, target, sizeof(target) - 1);
		if (l < 0)
			return -1;
		target[l] = '\0';
		if (symlinkat(target, ddir, dname) < 0)
			return -1;
		return fchownat(ddir, dname, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW);
	}
	if (!S_ISREG(st->st_mode)) {
		if (mknodat(ddir, dname, st->st_mode, st->st_rdev) < 0)
			return -1;
		return fchownat(ddir, dname, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW);
	}
	cm_autoclose int in = openat(sdir, sname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	cm_autoclose int out = openat(ddir, dname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (in < 0 || out < 0)
		return -1;
	for (;;) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
		if (n == 0)
			break;
		if (n < 0) {
			char buf[1 << 16];
			ssize_t r = read(in, buf, sizeof(buf));
			if (r < 0)
				return -1;
			if (r == 0)
				break;
			if (cm_write_all(out, buf, (size_t)r) < 0)
				return -1;
		}
	}
	struct timespec times[2] = { st->st_atim, st->st_mtim };
	if (copy_xattrs(in, out) < 0 || fchown(out, st->st_uid, st->st_gid) < 0 ||
	    fchmod(out, st->st_mode & 07777) < 0 || futimens(out, times) < 0)
		return -1;
	return 0;
}

/* A hard link whose target is not in this layer: the file the lower layers
 * show at that path, linked (or copied) in place of whatever is there. */
static int link_from_lower(struct applier *ap, const char *name, const char *target, struct cm_error *err)
{
	struct stat st;
	int lparent = -1;
	if (lower_lookup(ap->lowers, ap->n_lowers, target, &st, &lparent) < 0)
		return cm_err(err, 0, "member %s: hard link to %s, which is in no layer", name, target);
	cm_autoclose int lp = lparent;
	if (S_ISDIR(st.st_mode))
		return cm_err(err, 0, "member %s: hard link to the folder %s", name, target);
	char dir[PATH_MAX];
	const char *base, *tbase = strrchr(target, '/');
	tbase = tbase ? tbase + 1 : target;
	split(name, dir, sizeof(dir), &base);
	cm_autoclose int fd = open_dir(ap, dir, err);
	if (fd < 0)
		return -1;
	struct stat old;
	if (fstatat(fd, base, &old, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISDIR(old.st_mode))
			return cm_err(err, 0, "member %s: a hard link cannot replace a folder", name);
		if (unlinkat(fd, base, 0) < 0)
			return cm_err(err, errno, "member %s: replace", name);
	}
	if (ap->untrusted && !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
		return cm_err(err, 0, "member %s: hard link to a device node, fifo or socket", name);
	if (linkat(lp, tbase, fd, base, 0) == 0)
		return 0;
	if (copy_file(lp, tbase, &st, fd, base) < 0)
		return cm_err(err, errno, "member %s: link or copy %s from a lower layer", name, target);
	return 0;
}

/* overlayfs' own attributes come from ctrmig, never from a tar: a
 * trusted.overlay.redirect or metacopy could make the merged view show
 * another path's content. */
static void strip_overlay_xattrs(struct archive_entry *e)
{
	if (archive_entry_xattr_reset(e) == 0)
		return;
	const char *name;
	const void *value;
	size_t size;
	struct keep {
		char *name;
		void *value;
		size_t size;
	} *keep = NULL;
	size_t n = 0;
	bool dropped = false;
	while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
		if (!strncmp(name, "trusted.overlay.", 16)) {
			dropped = true;
			continue;
		}
		keep = cm_realloc(keep, (n + 1) * sizeof(*keep));
		keep[n].name = cm_strdup(name);
		keep[n].value = cm_malloc(size ? size : 1);
		memcpy(keep[n].value, value, size);
		keep[n++].size = size;
	}
	if (dropped) {
		archive_entry_xattr_clear(e);
		for (size_t i = 0; i < n; i++)
			archive_entry_xattr_add_entry(e, keep[i].name, keep[i].value, keep[i].size);
	}
	for (size_t i = 0; i < n; i++) {
		free(keep[i].name);
		free(keep[i].value);
	}
	free(keep);
}

static int copy_data(struct applier *ap, struct archive *in, la_int64_t want, const char *name,
		     struct cm_error *err)
{
	struct archive *out = ap->out;
	const void *buf;
	size_t size;
	la_int64_t offset, got = 0;
	for (;;) {
		int r = archive_read_data_block(in, &buf, &size, &offset);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r < ARCHIVE_WARN && ap->tin->eof && got >= want) {
			ap->ended = true; /* only the padding is missing */
			return 0;
		}
		if (r < ARCHIVE_WARN)
			return cm_err(err, 0, "member %s: %s", name, archive_error_string(in));
		if (offset + (la_int64_t)size > got)
			got = offset + (la_int64_t)size;
		if (archive_write_data_block(out, buf, size, offset) < ARCHIVE_WARN)
			return cm_err(err, 0, "member %s: %s", name, archive_error_string(out));
	}
}

static const int extract_flags = ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_OWNER |
				 ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
				 ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS |
				 ARCHIVE_EXTRACT_NO_AUTODIR;

/* One member. Returns 1 when the member's data is to be skipped. */
static int apply_entry(struct applier *ap, struct archive *in, struct archive_entry *e, struct cm_error *err)
{
	char name[PATH_MAX];
	const char *raw = archive_entry_pathname(e);
	if (!raw || cm_layer_clean_name(raw, name, sizeof(name)) < 0) {
		cm_autofree char *q = cm_json_quote(raw ? raw : "", 200);
		return cm_err(err, 0, "member %s: absolute names and '..' are refused", q);
	}
	if (!*name)
		return 1; /* the layer's root: its folder is ctrmig's */
	const char *target = NULL;
	enum cm_whiteout w = cm_layer_whiteout(name, &target);
	if (w == CM_WH_BAD) {
		cm_autofree char *q = cm_json_quote(name, 200);
		return cm_err(err, 0, "member %s: not a whiteout ctrmig can apply", q);
	}
	if (w == CM_WH_META)
		return 1;
	if (w != CM_WH_NONE)
		return apply_whiteout(ap, name, w, target, err) < 0 ? -1 : 1;

	const char *hl = archive_entry_hardlink(e);
	if (hl) {
		char link[PATH_MAX];
		if (cm_layer_clean_name(hl, link, sizeof(link)) < 0 || !*link) {
			cm_autofree char *q = cm_json_quote(hl, 200);
			return cm_err(err, 0, "member %s: hard link to %s: absolute names and '..' are refused",
				      name, q);
		}
		struct stat st;
		int lfd = -1;
		bool lower_only = true;
		/* In this layer already? Then libarchive links it, with its checks. */
		char ldir[PATH_MAX];
		const char *lbase;
		split(link, ldir, sizeof(ldir), &lbase);
		struct cm_error ignored = { 0 };
		if ((lfd = open_dir_opt(ap, ldir, false, &ignored)) >= 0) {
			lower_only = fstatat(lfd, lbase, &st, AT_SYMLINK_NOFOLLOW) < 0 || is_whiteout(&st);
			close(lfd);
		}
		cm_error_clear(&ignored);
		if (lower_only)
			return link_from_lower(ap, name, link, err) < 0 ? -1 : 1;
		archive_entry_copy_hardlink(e, link);
	}

	if (ap->untrusted) {
		char why[512];
		if (cm_untrusted_entry_tame(e, NULL, NULL, why, sizeof(why)) < 0)
			return cm_err(err, 0, "member %s", why);
	} else {
		strip_overlay_xattrs(e);
	}
	archive_entry_copy_pathname(e, name);

	char dir[PATH_MAX];
	const char *base;
	split(name, dir, sizeof(dir), &base);
	if (!ap->last_dir || strcmp(ap->last_dir, dir) || archive_entry_filetype(e) == AE_IFDIR) {
		int fd = open_dir(ap, dir, err);
		if (fd < 0)
			return -1;
		struct stat st;
		if (archive_entry_filetype(e) == AE_IFDIR && fstatat(fd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    is_whiteout(&st) && whiteout_to_opaque_dir(fd, base, name, err) < 0) {
			close(fd);
			return -1;
		}
		close(fd);
		free(ap->last_dir);
		ap->last_dir = cm_strdup(dir);
	}
	if (archive_write_header(ap->out, e) < ARCHIVE_WARN)
		return cm_err(err, 0, "member %s: %s", name, archive_error_string(ap->out));
	if (archive_entry_size(e) > 0 && copy_data(ap, in, archive_entry_size(e), name, err) < 0)
		return -1;
	if (archive_write_finish_entry(ap->out) < ARCHIVE_WARN)
		return cm_err(err, 0, "member %s: %s", name, archive_error_string(ap->out));
	return 0;
}

static int apply_entries(struct applier *ap, struct archive *in, struct cm_error *err)
{
	struct archive_entry *e;
	for (;;) {
		if (ap->ended)
			return 0;
		int r = archive_read_next_header(in, &e);
		if (r == ARCHIVE_EOF)
			return 0;
		/* the last member was whole; what is missing is the padding */
		if (r < ARCHIVE_WARN && ap->tin->eof && ap->whole)
			return 0;
		if (r < ARCHIVE_WARN)
			return cm_err(err, 0, "%s", archive_error_string(in));
		ap->whole = false;
		r = apply_entry(ap, in, e, err);
		if (r < 0)
			return -1;
		if (r == 1 && archive_read_data_skip(in) < ARCHIVE_WARN) {
			if (!(ap->tin->eof && archive_entry_size(e) == 0))
				return cm_err(err, 0, "%s", archive_error_string(in));
			ap->ended = true;
		}
		ap->whole = true;
	}
}

/* ---- the layer folder ------------------------------------------------------ */

static int new_link_name(char out[LINK_LEN + 1], struct cm_error *err)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	unsigned char rnd[LINK_LEN];
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return cm_err(err, errno, "random name");
	for (int i = 0; i < LINK_LEN; i++)
		out[i] = alphabet[rnd[i] & 31];
	out[LINK_LEN] = '\0';
	return 0;
}

static char *staging_dir(struct cm_store *st, struct cm_error *err)
{
	char rnd[65];
	cm_autofree char *layers = cm_path_join(st->root, "layers");
	cm_autofree char *links = cm_path_join(layers, "l");
	if (cm_mkdir_p(links, 0700, err) < 0 || cm_random_id(rnd, err) < 0)
		return NULL;
	char *dir = cm_strfmt("%s/.import-%.16s", layers, rnd);
	cm_autofree char *diff = cm_path_join(dir, "diff");
	if (cm_mkdir_p(diff, 0755, err) < 0) {
		free(dir);
		return NULL;
	}
	/* A layer's root mode is not in its tar (nor its digest): take
	 * containers/storage's, 0555, or its parent's (cm_layer_apply), so
	 * that a container's root has the mode Podman gives it and CRIU's
	 * images of it restore in either engine. */
	chmod(diff, 0555);
	return dir;
}

/* layer.json, the link file and the short link in the staging folder, then
 * the rename that makes the layer exist. */
static int commit_layer(struct cm_store *st, const char *stage, const char *diff_id, long long size,
			const char *blob_digest, struct cm_error *err)
{
	char link[LINK_LEN + 1], now[40];
	cm_autofree char *final = cm_strfmt("%s/layers/%s", st->root, hex_of(diff_id));
	cm_autofree char *json_path = cm_path_join(stage, "layer.json");
	cm_autofree char *link_path = cm_path_join(stage, "link");
	if (new_link_name(link, err) < 0)
		return -1;
	cm_autofree char *short_path = cm_strfmt("%s/layers/l/%s", st->root, link);
	cm_autofree char *short_target = cm_strfmt("../%s/diff", hex_of(diff_id));
	cm_time_now(now);
	json_t *info = json_pack("{s:s, s:I, s:s, s:s, s:[]}", "diff_id", diff_id, "size", (json_int_t)size,
				 "created", now, "link", link, "compressed");
	if (blob_digest)
		json_array_append_new(json_object_get(info, "compressed"), json_string(blob_digest));
	int ret = cm_json_save(json_path, info, 0600, err);
	json_decref(info);
	if (ret == 0)
		ret = cm_write_file_atomic(link_path, link, LINK_LEN, 0600, err);
	if (ret == 0 && symlink(short_target, short_path) < 0)
		ret = cm_err(err, errno, "link %s", short_path);
	if (ret < 0)
		return -1;
	if (rename(stage, final) < 0) {
		int e = errno;
		unlink(short_path);
		if ((e == EEXIST || e == ENOTEMPTY) && cm_layer_exists(st, diff_id))
			return 1; /* the same layer is there already */
		return cm_err(err, e, "store layer %s", final);
	}
	cm_fsync_dir_of(final);
	return 0;
}

/* Whether the file's bytes hash to digest; hex gets what they hash to. */
static bool blob_matches(const char *path, const char *digest, char hex[65])
{
	cm_autoclose int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true; /* nothing better to say than the first error */
	struct cm_sha256 h;
	cm_sha256_init(&h);
	unsigned char buf[1 << 16];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		cm_sha256_update(&h, buf, (size_t)n);
	cm_sha256_final_hex(&h, hex);
	return n < 0 || !strcmp(hex, hex_of(digest));
}

int cm_layer_apply(struct cm_store *st, const struct cm_layer_apply *a, struct cm_error *err)
{
	if (!cm_digest_valid(a->diff_id))
		return cm_err(err, 0, "layer diff_id %s: not a sha256 digest", a->diff_id);
	if (cm_layer_exists(st, a->diff_id))
		return 0;
	cm_autofree char *stage = staging_dir(st, err);
	if (!stage)
		return -1;
	cm_autofree char *diff = cm_path_join(stage, "diff");
	int *lowers = cm_malloc((a->n_lowers + 1) * sizeof(int));
	size_t opened = 0;
	struct stream s = { 0 };
	struct archive *out = NULL;
	struct applier ap = { .root = -1, .lowers = lowers, .n_lowers = a->n_lowers, .untrusted = a->untrusted };
	cm_autoclose int here = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	bool moved = false;
	int ret = -1;
	char blob_hex[65], diff_hex[65];
	long long size = 0;

	if (a->n_lowers) {
		cm_autofree char *parent = cm_layer_diff_path(st, a->lowers[a->n_lowers - 1]);
		struct stat psb;
		if (stat(parent, &psb) == 0)
			chmod(diff, psb.st_mode & 07777);
	}
	for (; opened < a->n_lowers; opened++) {
		if (!cm_layer_exists(st, a->lowers[opened])) {
			cm_err(err, 0, "lower layer %s is not in the store", a->lowers[opened]);
			goto out;
		}
		cm_autofree char *p = cm_layer_diff_path(st, a->lowers[opened]);
		lowers[opened] = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (lowers[opened] < 0) {
			cm_err(err, errno, "open %s", p);
			goto out;
		}
	}
	ap.root = open(diff, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ap.root < 0 || here < 0) {
		cm_err(err, errno, "open %s", diff);
		goto out;
	}
	if (stream_open(&s, a->blob, true, err) < 0)
		goto out;
	/* libarchive writes names relative to the working directory: the layer's root. */
	if (chdir(diff) < 0) {
		cm_err(err, errno, "enter %s", diff);
		goto out;
	}
	moved = true;
	out = archive_write_disk_new();
	archive_write_disk_set_options(out, extract_flags);
	ap.out = out;
	ap.tin = &s.tin;
	ret = apply_entries(&ap, s.tar, err);
	if (archive_write_close(out) < ARCHIVE_WARN && ret == 0)
		ret = cm_err(err, 0, "%s", archive_error_string(out));
	if (ret == 0)
		ret = stream_finish(&s, blob_hex, diff_hex, &size, err);
	if (ret == 0 && a->blob_digest && strcmp(hex_of(a->blob_digest), blob_hex))
		ret = cm_err(err, 0, "blob %s does not match its digest (its content is sha256:%s)",
			     a->blob_digest, blob_hex);
	if (ret == 0 && strcmp(hex_of(a->diff_id), diff_hex))
		ret = cm_err(err, 0, "its uncompressed content is sha256:%s, not %s", diff_hex, a->diff_id);
	if (fchdir(here) < 0 && ret == 0)
		ret = cm_err(err, errno, "return to the working directory");
	moved = false;
	if (ret == 0)
		ret = commit_layer(st, stage, a->diff_id, size, a->blob_digest, err) < 0 ? -1 : 0;
out:
	if (moved && fchdir(here) < 0)
		cm_warn("cannot return to the working directory: %s", strerror(errno));
	if (out)
		archive_write_free(out);
	stream_close(&s);
	free(ap.last_dir);
	if (ap.root >= 0)
		close(ap.root);
	for (size_t i = 0; i < opened; i++)
		close(lowers[i]);
	free(lowers);
	cm_rm_rf(stage, NULL);
	if (ret < 0 && a->blob_digest && !blob_matches(a->blob, a->blob_digest, blob_hex)) {
		/* a damaged blob is the cause: say that, not what it made the tar
		 * or gzip reader trip over */
		cm_error_clear(err);
		cm_err(err, 0, "blob %s does not match its digest (its content is sha256:%s)", a->blob_digest,
		       blob_hex);
	}
	if (ret < 0)
		return cm_err_wrap(err, "layer %s", a->diff_id);
	return 0;
}

/* ---- blobs known to unpack to a layer -------------------------------------- */

bool cm_layer_knows_blob(struct cm_store *st, const char *diff_id, const char *blob_digest)
{
	if (!cm_layer_exists(st, diff_id))
		return false;
	if (!strcmp(diff_id, blob_digest))
		return true; /* an uncompressed blob is its own diff */
	json_t *info = cm_layer_info(st, diff_id, NULL), *d;
	size_t i;
	bool known = false;
	json_array_foreach(json_object_get(info, "compressed"), i, d)
		known |= json_is_string(d) && !strcmp(json_string_value(d), blob_digest);
	json_decref(info);
	return known;
}

static int note_blob(struct cm_store *st, const char *diff_id, const char *blob_digest, struct cm_error *err)
{
	if (cm_layer_knows_blob(st, diff_id, blob_digest))
		return 0;
	json_t *info = cm_layer_info(st, diff_id, err);
	if (!info)
		return -1;
	json_t *list = json_object_get(info, "compressed");
	if (!json_is_array(list)) {
		list = json_array();
		json_object_set_new(info, "compressed", list);
	}
	json_array_append_new(list, json_string(blob_digest));
	cm_autofree char *p = cm_strfmt("%s/layers/%s/layer.json", st->root, hex_of(diff_id));
	int ret = cm_json_save(p, info, 0600, err);
	json_decref(info);
	return ret;
}

int cm_layer_verify_blob(struct cm_store *st, const char *blob, const char *blob_digest, const char *diff_id,
			 struct cm_error *err)
{
	struct stream s;
	char blob_hex[65], diff_hex[65];
	long long size;
	int ret = stream_open(&s, blob, false, err);
	if (ret == 0)
		ret = stream_finish(&s, blob_hex, diff_hex, &size, err);
	stream_close(&s);
	if (ret == 0 && blob_digest && strcmp(hex_of(blob_digest), blob_hex))
		ret = cm_err(err, 0, "blob %s does not match its digest (its content is sha256:%s)", blob_digest,
			     blob_hex);
	if (ret == 0 && strcmp(hex_of(diff_id), diff_hex))
		ret = cm_err(err, 0, "blob %s unpacks to sha256:%s, not %s", blob_digest, diff_hex, diff_id);
	if (ret == 0 && blob_digest)
		ret = note_blob(st, diff_id, blob_digest, err);
	if (ret < 0)
		return cm_err_wrap(err, "layer %s", diff_id);
	return 0;
}

int cm_layer_adopt(struct cm_store *st, const char *tree, const char *diff_id, long long size,
		   const char *blob_digest, struct cm_error *err)
{
	if (cm_layer_exists(st, diff_id)) {
		cm_rm_rf(tree, NULL);
		return blob_digest ? note_blob(st, diff_id, blob_digest, err) : 0;
	}
	cm_autofree char *stage = staging_dir(st, err);
	if (!stage)
		return -1;
	cm_autofree char *diff = cm_path_join(stage, "diff");
	int ret = 0;
	if (rmdir(diff) < 0 || rename(tree, diff) < 0)
		ret = cm_err(err, errno, "move %s into the layer store", tree);
	else
		chmod(diff, 0555); /* as staging_dir says */
	if (ret == 0)
		ret = commit_layer(st, stage, diff_id, size, blob_digest, err) < 0 ? -1 : 0;
	cm_rm_rf(stage, NULL);
	cm_rm_rf(tree, NULL);
	return ret;
}

/* ---- mounting and removing ------------------------------------------------- */

/* The layer's short name, its link made again if a crash lost it. */
static char *short_link(struct cm_store *st, const char *diff_id, struct cm_error *err)
{
	cm_autofree char *p = cm_strfmt("%s/layers/%s/link", st->root, hex_of(diff_id));
	size_t len;
	char *link = cm_read_file_max(p, 64, &len, err);
	if (!link)
		return NULL;
	if (len != LINK_LEN || strspn(link, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != LINK_LEN) {
		cm_err(err, 0, "layer %s: its link file is damaged", diff_id);
		free(link);
		return NULL;
	}
	cm_autofree char *lp = cm_strfmt("%s/layers/l/%s", st->root, link);
	if (!cm_path_exists(lp)) {
		cm_autofree char *target = cm_strfmt("../%s/diff", hex_of(diff_id));
		cm_autofree char *dir = cm_strfmt("%s/layers/l", st->root);
		if (cm_mkdir_p(dir, 0700, err) < 0 || symlink(target, lp) < 0) {
			cm_err(err, errno, "link %s", lp);
			free(link);
			return NULL;
		}
	}
	return link;
}

char *cm_layer_lowerdir(struct cm_store *st, json_t *diff_ids, bool absolute, struct cm_error *err)
{
	size_t n = json_array_size(diff_ids);
	size_t cap = 64, len = 0;
	char *out = cm_malloc(cap);
	out[0] = '\0';
	for (size_t i = n; i-- > 0;) {
		const char *d = json_string_value(json_array_get(diff_ids, i));
		if (!d || !cm_layer_exists(st, d)) {
			cm_err(err, 0, "layer %s is missing from %s/layers", d ? d : "(none)", st->root);
			free(out);
			return NULL;
		}
		cm_autofree char *part = NULL;
		if (absolute) {
			part = cm_layer_diff_path(st, d);
		} else {
			cm_autofree char *link = short_link(st, d, err);
			if (!link) {
				free(out);
				return NULL;
			}
			part = cm_strfmt("l/%s", link);
		}
		size_t pl = strlen(part);
		while (len + pl + 2 > cap)
			out = cm_realloc(out, cap *= 2);
		if (len)
			out[len++] = ':';
		memcpy(out + len, part, pl + 1);
		len += pl;
	}
	return out;
}

int cm_layer_remove(struct cm_store *st, const char *diff_id, struct cm_error *err)
{
	if (!cm_layer_exists(st, diff_id))
		return 0;
	cm_autofree char *dir = cm_strfmt("%s/layers/%s", st->root, hex_of(diff_id));
	cm_autofree char *doomed = cm_strfmt("%s/layers/.rm-%s", st->root, hex_of(diff_id));
	cm_autofree char *link_file = cm_path_join(dir, "link");
	size_t len;
	cm_autofree char *link = cm_read_file_max(link_file, 64, &len, NULL);
	if (rename(dir, doomed) < 0)
		return cm_err(err, errno, "remove layer %s", diff_id);
	if (link && len == LINK_LEN && !strchr(link, '/')) {
		cm_autofree char *lp = cm_strfmt("%s/layers/l/%s", st->root, link);
		unlink(lp);
	}
	return cm_rm_rf(doomed, err);
}

void cm_layer_recover(struct cm_store *st)
{
	cm_autofree char *dir = cm_path_join(st->root, "layers");
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (strncmp(de->d_name, ".import-", 8) && strncmp(de->d_name, ".rm-", 4))
			continue;
		cm_autofree char *p = cm_path_join(dir, de->d_name);
		cm_debug("removing %s, left by a command that was killed", p);
		cm_rm_rf(p, NULL);
	}
	if (d)
		closedir(d);
	cm_autofree char *links = cm_path_join(dir, "l");
	d = opendir(links);
	while (d && (de = readdir(d))) {
		struct stat sb;
		if (de->d_name[0] == '.' || fstatat(dirfd(d), de->d_name, &sb, 0) == 0)
			continue;
		unlinkat(dirfd(d), de->d_name, 0);
	}
	if (d)
		closedir(d);
}
