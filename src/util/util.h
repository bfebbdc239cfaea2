/* Small helpers: allocation, cleanup, paths, files, time. Nothing with a theme. */
#ifndef CM_UTIL_H
#define CM_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/types.h>
#include <time.h>
#include <stdint.h>
#include <unistd.h>

struct cm_error;

__attribute__((noreturn)) void cm_oom(void);
void *cm_malloc(size_t n);
void *cm_realloc(void *p, size_t n);
char *cm_strdup(const char *s);
char *cm_strfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Appends sep and a formatted item to the string at *s, or starts it. */
void cm_str_appendf(char **s, const char *sep, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static inline void cm_freep(void *p) { free(*(void **)p); }
static inline void cm_closep(int *fd) { if (*fd >= 0) close(*fd); }
#define cm_autofree __attribute__((cleanup(cm_freep)))
#define cm_autoclose __attribute__((cleanup(cm_closep)))

/* Hands ownership over: returns *pp and clears it so cleanup does nothing. */
static inline void *cm_steal_ptr(void *pp)
{
	void **p = pp, *v = *p;
	*p = NULL;
	return v;
}
static inline int cm_steal_fd(int *fd)
{
	int v = *fd;
	*fd = -1;
	return v;
}

/* A growable NULL-terminated argv. */
struct cm_argv {
	char **v;
	size_t n, cap;
};
void cm_argv_add(struct cm_argv *a, const char *s);
void cm_argv_addf(struct cm_argv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cm_argv_free(struct cm_argv *a);

char *cm_path_join(const char *a, const char *b);
bool cm_path_exists(const char *path);
int cm_mkdir_p(const char *path, mode_t mode, struct cm_error *err);
int cm_rm_rf(const char *path, struct cm_error *err);
/* Renames path to a hidden name beside it at once, then deletes it in a
 * detached process: for large trees (checkpoint images) nobody waits on. */
int cm_rm_rf_background(const char *path, struct cm_error *err);
/* Deletes path in a detached process, under its own name: for a tree
 * whose name says whose it is, so that the next command can finish the
 * job if that process is killed. */
void cm_rm_rf_detached(const char *path);

int cm_write_all(int fd, const void *buf, size_t len);
/* All of len at off: -1 with errno (ENOSPC for a write that makes no
 * progress, EIO for a file that ends first). */
int cm_pwrite_all(int fd, const void *buf, size_t len, uint64_t off);
int cm_pread_all(int fd, void *buf, size_t len, uint64_t off);
/* Reads a whole file; NUL-terminates. Returns NULL and sets err on failure. */
char *cm_read_file(const char *path, size_t *len, struct cm_error *err);
/* Reads at most max bytes (a file that holds more is an error naming what);
 * NUL-terminates. For files whose size the reader cannot trust. */
char *cm_read_file_max(const char *path, size_t max, size_t *len, struct cm_error *err);
char *cm_read_fd_max(int fd, const char *what, size_t max, size_t *len, struct cm_error *err);
/* Writes path.tmp, fsyncs, renames over path, fsyncs the directory. */
int cm_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
			 struct cm_error *err);
/* Writes a hidden temp file beside path, fsyncs, links it into place: never
 * replaces, so of two racing writers one wins whole and the other gets -1
 * with err->code EEXIST. The file gets mode exactly, whatever the umask. */
int cm_write_file_new(const char *path, const void *data, size_t len, mode_t mode,
		      struct cm_error *err);
int cm_fsync_dir_of(const char *path);

/* 64 lowercase hex characters from the kernel's random source. */
int cm_random_id(char out[65], struct cm_error *err);
bool cm_is_hex(const char *s);
/* Lowercase hex of len bytes, to free; and back into len bytes (-1 if hex
 * is not exactly that, in lowercase). */
char *cm_hex_encode(const unsigned char *data, size_t len);
int cm_hex_decode(const char *hex, unsigned char *out, size_t len);

/* RFC 3339 with nanoseconds, UTC: 2026-11-22T10:00:00.123456789Z */
void cm_time_format(const struct timespec *ts, char out[40]);
void cm_time_now(char out[40]);
int cm_time_parse(const char *s, struct timespec *out);
/* "5 seconds ago", "About a minute ago", like Docker and Podman. */
char *cm_time_ago(time_t then, time_t now);
double cm_monotonic_seconds(void);

/* Well-formed UTF-8 (no overlong forms, no surrogates): what JSON records take. */
bool cm_utf8_valid(const char *s);

/* Whether an executable of that name is in a folder on PATH (without running it). */
bool cm_on_path(const char *prog);
/* The first executable prog on PATH, or NULL. */
char *cm_which(const char *prog);
/* The first executable prog in a colon-separated list of folders, or NULL. */
char *cm_find_executable(const char *dirs, const char *prog);

/* The path of the running ctrmig binary, for the monitor and hooks. */
char *cm_self_exe(struct cm_error *err);

/* /proc/PID/stat field 22; 0 when the process does not exist or is a zombie. */
unsigned long long cm_proc_start_time(pid_t pid);
bool cm_proc_alive(pid_t pid, unsigned long long start_time);

#endif
