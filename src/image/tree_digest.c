#include "tree_digest.h"
#include "error.h"
#include "sha256.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

static int hash_file(int fd, char hex[65], long long *bytes)
{
	struct cm_sha256 h;
	unsigned char buf[1 << 16];
	ssize_t n;

	cm_sha256_init(&h);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		cm_sha256_update(&h, buf, (size_t)n);
		*bytes += n;
	}
	cm_sha256_final_hex(&h, hex);
	return n < 0 ? -1 : 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int skip_dots(const struct dirent *d)
{
	return strcmp(d->d_name, ".") && strcmp(d->d_name, "..");
}

static int walk(struct cm_sha256 *ctx, int dirfd, const char *rel, long long *bytes,
		struct cm_error *err)
{
	struct dirent **names;
	cm_autofree char *self = cm_strfmt("/proc/self/fd/%d", dirfd);
	int n = scandir(self, &names, skip_dots, by_name);
	if (n < 0)
		return cm_err(err, errno, "read %s", rel);
	int ret = 0;
	for (int i = 0; i < n && ret == 0; i++) {
		const char *name = names[i]->d_name;
		cm_autofree char *path = cm_strfmt("%s/%s", rel, name);
		struct stat st;
		if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			ret = cm_err(err, errno, "stat %s", path);
			break;
		}
		char extra[PATH_MAX + 1] = "";
		if (S_ISREG(st.st_mode)) {
			cm_autoclose int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0 || hash_file(fd, extra, bytes) < 0)
				ret = cm_err(err, errno, "read %s", path);
		} else if (S_ISLNK(st.st_mode)) {
			ssize_t l = readlinkat(dirfd, name, extra, sizeof(extra) - 1);
			if (l < 0)
				ret = cm_err(err, errno, "read link %s", path);
			else
				extra[l] = '\0';
		} else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
			snprintf(extra, sizeof(extra), "%u:%u", major(st.st_rdev), minor(st.st_rdev));
		}
		if (ret < 0)
			break;
		char head[128];
		int hl = snprintf(head, sizeof(head), "%o %u %u", (unsigned)st.st_mode, st.st_uid,
				  st.st_gid);
		cm_sha256_update(ctx, path, strlen(path) + 1);
		cm_sha256_update(ctx, head, (size_t)hl + 1);
		cm_sha256_update(ctx, extra, strlen(extra) + 1);
		if (S_ISDIR(st.st_mode)) {
			cm_autoclose int sub = openat(dirfd, name,
						      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0)
				ret = cm_err(err, errno, "open %s", path);
			else
				ret = walk(ctx, sub, path, bytes, err);
		}
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return ret;
}

long long cm_tree_digest(const char *dir, char hex[65], struct cm_error *err)
{
	cm_autoclose int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return cm_err(err, errno, "open %s", dir);
	struct cm_sha256 h;
	cm_sha256_init(&h);
	long long bytes = 0;
	int ret = walk(&h, fd, "", &bytes, err);
	cm_sha256_final_hex(&h, hex);
	return ret < 0 ? -1 : bytes;
}
