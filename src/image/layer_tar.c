#include "layer_tar.h"
#include "error.h"
#include "sha256.h"
#include "util.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

struct sink {
	int fd;
	struct cm_sha256 h;
	long long bytes;
	int err;
};

static la_ssize_t sink_write(struct archive *a, void *arg, const void *buf, size_t len)
{
	struct sink *s = arg;
	if (cm_write_all(s->fd, buf, len) < 0) {
		s->err = errno;
		archive_set_error(a, errno, "write");
		return -1;
	}
	cm_sha256_update(&s->h, buf, len);
	s->bytes += (long long)len;
	return (la_ssize_t)len;
}

/* Files seen with more than one link: the first name carries the data. */
struct links {
	struct seen {
		dev_t dev;
		ino_t ino;
		char *path;
	} *v;
	size_t n, cap;
};

static const char *links_find(struct links *l, const struct stat *st)
{
	if (!l->cap)
		return NULL;
	for (size_t i = (st->st_ino * 2654435761u) % l->cap;; i = (i + 1) % l->cap) {
		if (!l->v[i].path)
			return NULL;
		if (l->v[i].ino == st->st_ino && l->v[i].dev == st->st_dev)
			return l->v[i].path;
	}
}

static void links_add(struct links *l, const struct stat *st, const char *path)
{
	if ((l->n + 1) * 2 > l->cap) {
		struct links bigger = { .cap = l->cap ? l->cap * 2 : 64 };
		bigger.v = calloc(bigger.cap, sizeof(*bigger.v));
		if (!bigger.v)
			cm_oom();
		for (size_t i = 0; i < l->cap; i++) {
			if (!l->v[i].path)
				continue;
			size_t j = (l->v[i].ino * 2654435761u) % bigger.cap;
			while (bigger.v[j].path)
				j = (j + 1) % bigger.cap;
			bigger.v[j] = l->v[i];
		}
		bigger.n = l->n;
		free(l->v);
		*l = bigger;
	}
	size_t j = (st->st_ino * 2654435761u) % l->cap;
	while (l->v[j].path)
		j = (j + 1) % l->cap;
	l->v[j] = (struct seen){ st->st_dev, st->st_ino, cm_strdup(path) };
	l->n++;
}

static void links_free(struct links *l)
{
	for (size_t i = 0; i < l->cap; i++)
		free(l->v[i].path);
	free(l->v);
}

static void add_xattrs(struct archive_entry *e, int fd)
{
	char names[8192];
	ssize_t n = flistxattr(fd, names, sizeof(names));
	/* sorted by name: the order a file system lists them in is its own */
	const char *list[256];
	size_t count = 0;
	for (ssize_t i = 0; n > 0 && i < n && count < 256; i += (ssize_t)strlen(names + i) + 1)
		if (strncmp(names + i, "trusted.overlay.", 16))
			list[count++] = names + i;
	for (size_t i = 1; i < count; i++)
		for (size_t j = i; j > 0 && strcmp(list[j - 1], list[j]) > 0; j--) {
			const char *t = list[j];
			list[j] = list[j - 1];
			list[j - 1] = t;
		}
	for (size_t i = 0; i < count; i++) {
		char val[65536];
		ssize_t v = fgetxattr(fd, list[i], val, sizeof(val));
		if (v >= 0)
			archive_entry_xattr_add_entry(e, list[i], val, (size_t)v);
	}
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int skip_dots(const struct dirent *d)
{
	return strcmp(d->d_name, ".") && strcmp(d->d_name, "..");
}

struct walker {
	struct archive *a;
	struct links links;
};

static int write_data(struct archive *a, int fd, const char *path, struct cm_error *err)
{
	char buf[1 << 16];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return cm_err(err, errno, "read %s", path);
		if (n == 0)
			return 0;
		if (archive_write_data(a, buf, (size_t)n) != n)
			return cm_err(err, 0, "%s: %s", path, archive_error_string(a));
	}
}

static int walk(struct walker *w, int dirfd, const char *rel, struct cm_error *err)
{
	struct dirent **names;
	cm_autofree char *self = cm_strfmt("/proc/self/fd/%d", dirfd);
	int n = scandir(self, &names, skip_dots, by_name);
	if (n < 0)
		return cm_err(err, errno, "read %s", *rel ? rel : ".");
	int ret = 0;
	for (int i = 0; i < n && ret == 0; i++) {
		const char *name = names[i]->d_name;
		cm_autofree char *path = *rel ? cm_strfmt("%s/%s", rel, name) : cm_strdup(name);
		struct stat st;
		if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			ret = cm_err(err, errno, "stat %s", path);
			break;
		}
		if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0))
			continue; /* an overlay whiteout: nothing in a flat tree */
		if (S_ISSOCK(st.st_mode))
			continue; /* tar has no sockets */
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, path);
		archive_entry_set_mode(e, st.st_mode);
		archive_entry_set_uid(e, st.st_uid);
		archive_entry_set_gid(e, st.st_gid);
		archive_entry_set_mtime(e, st.st_mtim.tv_sec, 0);
		int fd = -1;
		const char *first = NULL;
		if (S_ISREG(st.st_mode) && st.st_nlink > 1 && (first = links_find(&w->links, &st))) {
			archive_entry_set_hardlink(e, first);
			archive_entry_set_size(e, 0);
		} else if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
			fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0));
			if (fd < 0) {
				ret = cm_err(err, errno, "open %s", path);
				archive_entry_free(e);
				break;
			}
			add_xattrs(e, fd);
			if (S_ISREG(st.st_mode)) {
				archive_entry_set_size(e, st.st_size);
				if (st.st_nlink > 1)
					links_add(&w->links, &st, path);
			}
		} else if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX + 1];
			ssize_t l = readlinkat(dirfd, name, target, sizeof(target) - 1);
			if (l < 0) {
				ret = cm_err(err, errno, "read link %s", path);
				archive_entry_free(e);
				break;
			}
			target[l] = '\0';
			archive_entry_set_symlink(e, target);
		} else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
			archive_entry_set_rdevmajor(e, major(st.st_rdev));
			archive_entry_set_rdevminor(e, minor(st.st_rdev));
		}
		if (archive_write_header(w->a, e) < ARCHIVE_WARN)
			ret = cm_err(err, 0, "%s: %s", path, archive_error_string(w->a));
		else if (fd >= 0 && S_ISREG(st.st_mode))
			ret = write_data(w->a, fd, path, err);
		archive_entry_free(e);
		if (ret == 0 && S_ISDIR(st.st_mode))
			ret = walk(w, fd, path, err);
		if (fd >= 0)
			close(fd);
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return ret;
}

int cm_tree_tar_write(int dirfd, int out, char hex[65], long long *size, struct cm_error *err)
{
	struct sink s = { .fd = out };
	struct walker w = { .a = archive_write_new() };
	cm_sha256_init(&s.h);
	archive_write_set_format_pax_restricted(w.a);
	int ret = 0;
	if (archive_write_open(w.a, &s, NULL, sink_write, NULL) != ARCHIVE_OK)
		ret = cm_err(err, 0, "%s", archive_error_string(w.a));
	if (ret == 0)
		ret = walk(&w, dirfd, "", err);
	if (archive_write_close(w.a) < ARCHIVE_WARN && ret == 0)
		ret = cm_err(err, s.err, "write the layer");
	archive_write_free(w.a);
	links_free(&w.links);
	cm_sha256_final_hex(&s.h, hex);
	*size = s.bytes;
	return ret;
}
