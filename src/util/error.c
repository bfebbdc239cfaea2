#include "error.h"
#include "util.h"

#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

enum cm_log_level cm_log_level = CM_LOG_WARN;

int cm_err(struct cm_error *err, int errnum, const char *fmt, ...)
{
	char *msg;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		cm_oom();
	va_end(ap);
	if (errnum) {
		char *full = cm_strfmt("%s: %s", msg, strerror(errnum));
		free(msg);
		msg = full;
	}
	if (err) {
		free(err->msg);
		err->msg = msg;
		err->code = errnum;
	} else {
		free(msg);
	}
	return -1;
}

int cm_err_wrap(struct cm_error *err, const char *fmt, ...)
{
	char *ctx;
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	if (vasprintf(&ctx, fmt, ap) < 0)
		cm_oom();
	va_end(ap);
	char *full = cm_strfmt("%s: %s", ctx, err->msg ? err->msg : "unknown error");
	free(ctx);
	free(err->msg);
	err->msg = full;
	return -1;
}

void cm_error_clear(struct cm_error *err)
{
	free(err->msg);
	err->msg = NULL;
	err->code = 0;
}

int cm_log_level_parse(const char *s, enum cm_log_level *out)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (enum cm_log_level)i;
			return 0;
		}
	}
	return -1;
}

void cm_log(enum cm_log_level level, const char *fmt, ...)
{
	static const char *const tags[] = { "error", "warning", "info", "debug" };
	va_list ap;

	if (level > cm_log_level)
		return;
	char stamp[32] = "";
	if (level == CM_LOG_DEBUG) {
		/* wall-clock time to the microsecond: one timeline for every
		 * ctrmig of a move (both hosts, monitors, lazy-pages daemons) */
		struct timespec ts;
		struct tm tm;
		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		size_t n = strftime(stamp, sizeof(stamp), "[%H:%M:%S", &tm);
		snprintf(stamp + n, sizeof(stamp) - n, ".%06ld] ", ts.tv_nsec / 1000);
	}
	char *msg = NULL;
	va_start(ap, fmt);
	int len = vasprintf(&msg, fmt, ap);
	va_end(ap);
	/* one write per line: several processes share a stderr */
	if (len >= 0)
		fprintf(stderr, "ctrmig: %s: %s%s\n", tags[level], stamp, msg);
	free(msg);
}
