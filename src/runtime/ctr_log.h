/* ctr.log, in Podman's k8s-file format, one line per chunk of output:
 *   2026-11-22T10:00:00.123456789Z stdout F hello
 * F ends a line of the program's output, P is part of a longer line. */
#ifndef CM_CTR_LOG_H
#define CM_CTR_LOG_H

#include <stdbool.h>
#include <stddef.h>

struct cm_log_line {
	const char *time;
	const char *stream; /* "stdout" or "stderr" */
	bool partial;
	const char *text;   /* without the newline */
};

/* Appends data from one stream; complete lines become F lines. Returns the
 * bytes consumed: a trailing partial line is left for the next call unless
 * flush is set (then it is written as P). -1 on a write error. */
long cm_ctr_log_append(int fd, const char *stream, const char *data, size_t len, bool flush);

/* Splits one log line in place; -1 if it is not in the format. */
int cm_ctr_log_parse(char *line, struct cm_log_line *out);

/* Prints the log from *offset on: text to stdout or stderr as it was written.
 * With follow, waits for more until alive(arg) says the writer is gone.
 * Returns -1 when the log cannot be read. */
#include <sys/types.h>
int cm_ctr_log_print(const char *path, off_t *offset, bool follow, bool (*alive)(void *),
		     void *arg);

#endif
