#include "util.h"
#include "error.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>

void cm_oom(void)
{
	fputs("ctrmig: out of memory\n", stderr);
	abort();
}

void *cm_malloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);
	if (!p)
		cm_oom();
	return p;
}

void *cm_realloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		cm_oom();
	return p;
}

char *cm_strdup(const char *s)
{
	char *d = strdup(s ? s : "");
	if (!d)
		cm_oom();
	return d;
}

char *cm_strfmt(const char *fmt, ...)
{
	char *s;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		cm_oom();
	va_end(ap);
	return s;
}

void cm_argv_add(struct cm_argv *a, const char *s)
{
	if (a->n + 2 > a->cap) {
		a->cap = a->cap ? a->cap * 2 : 16;
		a->v = cm_realloc(a->v, a->cap * sizeof(char *));
	}
	a->v[a->n++] = cm_strdup(s);
	a->v[a->n] = NULL;
}

void cm_argv_addf(struct cm_argv *a, const char *fmt, ...)
{
	char *s;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		cm_oom();
	va_end(ap);
	cm_argv_add(a, s);
	free(s);
}

void cm_argv_free(struct cm_argv *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	a->v = NULL;
	a->n = a->cap = 0;
}

char *cm_path_join(const char *a, const char *b)
{
	size_t la = strlen(a);
	while (*b == '/')
		b++;
	if (la && a[la - 1] == '/')
		return cm_strfmt("%s%s", a, b);
	return cm_strfmt("%s/%s", a, b);
}

bool cm_path_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

int cm_mkdir_p(const char *path, mode_t mode, struct cm_error *err)
{
	cm_autofree char *p = cm_strdup(path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return cm_err(err, errno, "create directory %s", p);
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return cm_err(err, errno, "create directory %s", p);
	return 0;
}

/* A folder on another file system than its parent is a mount point (a
 * leftover bind mount, overlay or CRIU's cgroup yard): it is detached, never
 * emptied, so that nothing is deleted through it. */
static int mount_id(int dirfd, const char *path, unsigned long long *id)
{
	struct statx sx;
	if (statx(dirfd, path, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &sx) < 0)
		return -1;
	/* a bind mount within one file system keeps its st_dev: the mount id tells */
	*id = (sx.stx_mask & STATX_MNT_ID) ? sx.stx_mnt_id : ((unsigned long long)sx.stx_dev_major << 32 | sx.stx_dev_minor);
	return 0;
}

static int detach_mount(int parent, int *fd, const char *name, struct cm_error *err)
{
	unsigned long long in, up;
	if (mount_id(*fd, "", &in) < 0 || mount_id(*fd, "..", &up) < 0)
		return cm_err(err, errno, "stat %s", name);
	if (in == up)
		return 0;
	char where[64];
	snprintf(where, sizeof(where), "/proc/self/fd/%d", *fd);
	if (umount2(where, MNT_DETACH) < 0)
		return cm_err(err, errno, "%s is a mount point, and it could not be detached", name);
	close(*fd);
	*fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (*fd < 0)
		return cm_err(err, errno, "open %s", name);
	return detach_mount(parent, fd, name, err);
}

static int rm_rf_at(int parent, const char *name, struct cm_error *err)
{
	if (unlinkat(parent, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return cm_err(err, errno, "remove %s", name);
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return cm_err(err, errno, "open %s", name);
	if (detach_mount(parent, &fd, name, err) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return cm_err(err, errno, "read %s", name);
	}
	struct dirent *de;
	int ret = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (rm_rf_at(dirfd(d), de->d_name, err) < 0) {
			ret = -1;
			break;
		}
	}
	closedir(d);
	if (ret == 0 && unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return cm_err(err, errno, "remove %s", name);
	return ret;
}

int cm_rm_rf(const char *path, struct cm_error *err)
{
	if (rm_rf_at(AT_FDCWD, path, err) < 0)
		return cm_err_wrap(err, "remove %s", path);
	return 0;
}

/* Deletes path in a detached process (a grandchild, so that nobody is
 * left to reap it), which holds none of our fds (the store lock). */
static int rm_rf_detached(const char *path, struct cm_error *err)
{
	pid_t pid = fork();
	if (pid < 0)
		return cm_rm_rf(path, err);
	if (pid == 0) {
		if (fork() == 0) {
			/* nor its stdio: `$(ctrmig restore ...)` and pipes would
			 * wait for the deletion otherwise */
			int null = open("/dev/null", O_RDWR);
			for (int fd = 0; fd < 3 && null >= 0; fd++)
				dup2(null, fd);
			close_range(3, ~0U, 0);
			setsid();
			cm_rm_rf(path, NULL);
		}
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	return 0;
}

int cm_rm_rf_background(const char *path, struct cm_error *err)
{
	char rnd[65];
	if (cm_random_id(rnd, err) < 0)
		return -1;
	cm_autofree char *copy = cm_strdup(path);
	cm_autofree char *trash = cm_strfmt("%s/.trash-%.16s", dirname(copy), rnd);
	if (rename(path, trash) < 0)
		return errno == ENOENT ? 0 : cm_err(err, errno, "remove %s", path);
	return rm_rf_detached(trash, err);
}

void cm_rm_rf_detached(const char *path)
{
	rm_rf_detached(path, NULL);
}

int cm_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = ENOSPC; /* no progress: a full disk */
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int cm_pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	const char *p = buf;
	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = ENOSPC;
			return -1;
		}
		p += n, len -= (size_t)n, off += (uint64_t)n;
	}
	return 0;
}

int cm_pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	char *p = buf;
	while (len) {
		ssize_t n = pread(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		p += n, len -= (size_t)n, off += (uint64_t)n;
	}
	return 0;
}

char *cm_read_file(const char *path, size_t *len, struct cm_error *err)
{
	cm_autoclose int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		cm_err(err, errno, "open %s", path);
		return NULL;
	}
	size_t cap = 4096, n = 0;
	char *buf = cm_malloc(cap);
	for (;;) {
		if (n + 1 >= cap)
			buf = cm_realloc(buf, cap *= 2);
		ssize_t r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			cm_err(err, errno, "read %s", path);
			free(buf);
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

char *cm_read_fd_max(int fd, const char *what, size_t max, size_t *len, struct cm_error *err)
{
	char *buf = cm_malloc(max + 2);
	size_t n = 0;
	while (n <= max) {
		ssize_t r = read(fd, buf + n, max + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			cm_err(err, errno, "read %s", what);
			free(buf);
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > max) {
		cm_err(err, 0, "%s: larger than %zu bytes", what, max);
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

char *cm_read_file_max(const char *path, size_t max, size_t *len, struct cm_error *err)
{
	cm_autoclose int fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		cm_err(err, errno, "open %s", path);
		return NULL;
	}
	return cm_read_fd_max(fd, path, max, len, err);
}

int cm_fsync_dir_of(const char *path)
{
	cm_autofree char *copy = cm_strdup(path);
	cm_autoclose int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		return -1;
	return 0;
}

int cm_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
			 struct cm_error *err)
{
	cm_autofree char *tmp = cm_strfmt("%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return cm_err(err, errno, "create %s", tmp);
	if (cm_write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		int e = errno;
		close(fd);
		unlink(tmp);
		return cm_err(err, e, "write %s", tmp);
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return cm_err(err, e, "replace %s", path);
	}
	cm_fsync_dir_of(path);
	return 0;
}

int cm_write_file_new(const char *path, const void *data, size_t len, mode_t mode,
		      struct cm_error *err)
{
	cm_autofree char *dcopy = cm_strdup(path), *bcopy = cm_strdup(path);
	cm_autofree char *tmp = cm_strfmt("%s/.%s.XXXXXX", dirname(dcopy), basename(bcopy));
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return cm_err(err, errno, "create %s", tmp);
	if (fchmod(fd, mode) < 0 || cm_write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		int e = errno;
		close(fd);
		unlink(tmp);
		return cm_err(err, e, "write %s", tmp);
	}
	if (close(fd) < 0 || link(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return cm_err(err, e, "create %s", path);
	}
	unlink(tmp);
	cm_fsync_dir_of(path);
	return 0;
}

int cm_random_id(char out[65], struct cm_error *err)
{
	unsigned char raw[32];
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return cm_err(err, errno, "read random bytes");
	for (size_t i = 0; i < sizeof(raw); i++)
		sprintf(out + 2 * i, "%02x", raw[i]);
	return 0;
}

bool cm_is_hex(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

char *cm_hex_encode(const unsigned char *data, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	char *hex = cm_malloc(2 * len + 1);
	for (size_t i = 0; i < len; i++) {
		hex[2 * i] = digits[data[i] >> 4];
		hex[2 * i + 1] = digits[data[i] & 15];
	}
	hex[2 * len] = '\0';
	return hex;
}

int cm_hex_decode(const char *hex, unsigned char *out, size_t len)
{
	if (strlen(hex) != 2 * len)
		return -1;
	for (size_t i = 0; i < 2 * len; i++) {
		char c = hex[i];
		int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (v < 0)
			return -1;
		out[i / 2] = (unsigned char)(i % 2 ? (out[i / 2] | v) : v << 4);
	}
	return 0;
}

void cm_time_format(const struct timespec *ts, char out[40])
{
	struct tm tm;
	gmtime_r(&ts->tv_sec, &tm);
	size_t n = strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 40 - n, ".%09ldZ", ts->tv_nsec);
}

void cm_time_now(char out[40])
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	cm_time_format(&ts, out);
}

int cm_time_parse(const char *s, struct timespec *out)
{
	struct tm tm = { 0 };
	const char *rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!rest)
		return -1;
	long ns = 0;
	if (*rest == '.') {
		long scale = 100000000;
		for (rest++; *rest >= '0' && *rest <= '9'; rest++, scale /= 10)
			ns += (*rest - '0') * scale;
	}
	if (strcmp(rest, "Z") != 0)
		return -1;
	out->tv_sec = timegm(&tm);
	out->tv_nsec = ns;
	return 0;
}

char *cm_time_ago(time_t then, time_t now)
{
	long d = (long)(now - then);
	if (d < 1)
		return cm_strdup("Less than a second ago");
	if (d < 60)
		return cm_strfmt("%ld second%s ago", d, d == 1 ? "" : "s");
	if (d < 120)
		return cm_strdup("About a minute ago");
	if (d < 3600)
		return cm_strfmt("%ld minutes ago", d / 60);
	if (d < 7200)
		return cm_strdup("About an hour ago");
	if (d < 86400 * 2)
		return cm_strfmt("%ld hours ago", d / 3600);
	return cm_strfmt("%ld days ago", d / 86400);
}

double cm_monotonic_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

unsigned long long cm_proc_start_time(pid_t pid)
{
	char path[64], buf[1024];
	if (pid <= 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	cm_autoclose int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: fields follow the last ')'. */
	char *p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return 0;
	char state = p[2];
	if (state == 'Z' || state == 'X')
		return 0;
	p += 2; /* now at field 3 */
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (!p)
			return 0;
		p++;
	}
	return strtoull(p, NULL, 10);
}

bool cm_proc_alive(pid_t pid, unsigned long long start_time)
{
	unsigned long long now = cm_proc_start_time(pid);
	return now != 0 && (start_time == 0 || now == start_time);
}

char *cm_self_exe(struct cm_error *err)
{
	char buf[4096];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	if (n < 0) {
		cm_err(err, errno, "find the ctrmig binary");
		return NULL;
	}
	buf[n] = '\0';
	return cm_strdup(buf);
}

char *cm_find_executable(const char *dirs, const char *prog)
{
	cm_autofree char *copy = cm_strdup(dirs ? dirs : "");
	for (char *save, *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		char *full = cm_path_join(d, prog);
		if (access(full, X_OK) == 0)
			return full;
		free(full);
	}
	return NULL;
}

char *cm_which(const char *prog)
{
	return cm_find_executable(getenv("PATH"), prog);
}

bool cm_on_path(const char *prog)
{
	cm_autofree char *full = cm_which(prog);
	return full != NULL;
}

bool cm_utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		int n = *p < 0x80 ? 0 : (*p & 0xe0) == 0xc0 ? 1 : (*p & 0xf0) == 0xe0 ? 2 : (*p & 0xf8) == 0xf0 ? 3 : -1;
		if (n < 0 || (n == 1 && *p < 0xc2) || (n == 3 && *p > 0xf4))
			return false;
		unsigned cp = n == 0 ? *p : *p & (0x3f >> n);
		for (int i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		/* overlong forms, surrogates, past U+10FFFF */
		if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		p += n + 1;
	}
	return true;
}

void cm_str_appendf(char **s, const char *sep, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *item;
	if (vasprintf(&item, fmt, ap) < 0)
		cm_oom();
	va_end(ap);
	char *joined = *s ? cm_strfmt("%s%s%s", *s, sep, item) : item;
	if (*s) {
		free(*s);
		free(item);
	}
	*s = joined;
}
