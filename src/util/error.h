/* Errors travel up as a struct cm_error; only main() prints them. */
#ifndef CM_ERROR_H
#define CM_ERROR_H

#include <stdarg.h>

/* Exit status for any failure of ctrmig itself (Podman's convention). */
#define CM_EXIT_ERROR 125

struct cm_error {
	int code; /* errno of the root cause, or 0 */
	char *msg;
};

/* Sets *err from a printf format; with errnum != 0 appends ": strerror".
 * Always returns -1 so callers can write `return cm_err(...)`. */
int cm_err(struct cm_error *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefixes the message already in *err with context: "ctx: old". Returns -1. */
int cm_err_wrap(struct cm_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void cm_error_clear(struct cm_error *err);

enum cm_log_level { CM_LOG_ERROR, CM_LOG_WARN, CM_LOG_INFO, CM_LOG_DEBUG };
extern enum cm_log_level cm_log_level;
int cm_log_level_parse(const char *s, enum cm_log_level *out);
void cm_log(enum cm_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
#define cm_warn(...) cm_log(CM_LOG_WARN, __VA_ARGS__)
#define cm_info(...) cm_log(CM_LOG_INFO, __VA_ARGS__)
#define cm_debug(...) cm_log(CM_LOG_DEBUG, __VA_ARGS__)

#endif
