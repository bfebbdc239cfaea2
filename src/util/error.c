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
	fprintf(stderr, "ctrmig: %s: ", tags[level]);
	if (level == CM_LOG_DEBUG) {
		/* the monotonic clock: one timeline for every ctrmig on a host
		 * (a migration's two sides, a monitor, a lazy-pages daemon) */
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		fprintf(stderr, "[%lld.%06ld] ", (long long)ts.tv_sec, ts.tv_nsec / 1000);
	}
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
