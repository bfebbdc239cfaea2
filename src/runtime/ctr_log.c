#include "ctr_log.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>

static int write_line(int fd, const char *stream, const char *text, size_t len, bool partial)
{
	char head[80];
	char now[40];
	cm_time_now(now);
	int hl = snprintf(head, sizeof(head), "%s %s %c ", now, stream, partial ? 'P' : 'F');
	struct iovec iov[3] = {
		{ head, (size_t)hl },
		{ (void *)text, len },
		{ "\n", 1 },
	};
	/* O_APPEND and one writev per line: readers never see half a line. */
	size_t total = (size_t)hl + len + 1;
	return writev(fd, iov, 3) == (ssize_t)total ? 0 : -1;
}

long cm_ctr_log_append(int fd, const char *stream, const char *data, size_t len, bool flush)
{
	size_t used = 0;
	while (used < len) {
		const char *nl = memchr(data + used, '\n', len - used);
		if (!nl)
			break;
		if (write_line(fd, stream, data + used, (size_t)(nl - (data + used)), false) < 0)
			return -1;
		used = (size_t)(nl - data) + 1;
	}
	if (flush && used < len) {
		if (write_line(fd, stream, data + used, len - used, true) < 0)
			return -1;
		used = len;
	}
	return (long)used;
}

int cm_ctr_log_parse(char *line, struct cm_log_line *out)
{
	char *sp1 = strchr(line, ' ');
	if (!sp1)
		return -1;
	*sp1 = '\0';
	char *stream = sp1 + 1;
	char *sp2 = strchr(stream, ' ');
	if (!sp2)
		return -1;
	*sp2 = '\0';
	if (strcmp(stream, "stdout") && strcmp(stream, "stderr"))
		return -1;
	char tag = sp2[1];
	if ((tag != 'F' && tag != 'P') || (sp2[2] != ' ' && sp2[2] != '\0'))
		return -1;
	out->time = line;
	out->stream = stream;
	out->partial = tag == 'P';
	out->text = sp2[2] ? sp2 + 3 : sp2 + 2;
	return 0;
}

static void print_line(char *line)
{
	struct cm_log_line l;
	if (cm_ctr_log_parse(line, &l) < 0)
		return;
	FILE *out = strcmp(l.stream, "stderr") == 0 ? stderr : stdout;
	fputs(l.text, out);
	if (!l.partial)
		fputc('\n', out);
}

/* Prints every complete line from *offset; returns bytes consumed, -1 on error. */
static long print_new(int fd, off_t *offset)
{
	char buf[65536];
	long total = 0;
	for (;;) {
		ssize_t n = pread(fd, buf, sizeof(buf) - 1, *offset);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return total;
		buf[n] = '\0';
		char *end = memrchr(buf, '\n', (size_t)n);
		if (!end)
			return total; /* a line still being written, or one longer than buf */
		*end = '\0';
		for (char *save, *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			print_line(line);
		long used = (long)(end - buf) + 1;
		*offset += used;
		total += used;
		fflush(stdout);
		fflush(stderr);
	}
}

int cm_ctr_log_print(const char *path, off_t *offset, bool follow, bool (*alive)(void *),
		     void *arg)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && !(errno == ENOENT && follow))
		return errno == ENOENT ? 0 : -1;
	for (;;) {
		if (fd < 0)
			fd = open(path, O_RDONLY | O_CLOEXEC);
		long n = fd >= 0 ? print_new(fd, offset) : 0;
		if (n < 0) {
			close(fd);
			return -1;
		}
		if (!follow)
			break;
		if (n == 0) {
			if (!alive(arg)) {
				/* The writer is gone: whatever it wrote last is there now. */
				if (fd >= 0)
					print_new(fd, offset);
				break;
			}
			usleep(50000);
		}
	}
	if (fd >= 0)
		close(fd);
	return 0;
}
