#include "ctr_log.h"
#include "tap.h"
#include "util.h"

#include <stdlib.h>
#include <unistd.h>

int main(void)
{
	char path[] = "/tmp/ctrmig-test-log.XXXXXX";
	int fd = mkstemp(path);
	ok(fd >= 0, "temp log file");

	long used = cm_ctr_log_append(fd, "stdout", "one\ntwo\nthr", 11, false);
	ok(used == 8, "two complete lines consumed, the partial one left (%ld)", used);
	used = cm_ctr_log_append(fd, "stderr", "x", 1, true);
	ok(used == 1, "flush writes a partial line");
	used = cm_ctr_log_append(fd, "stdout", "\n", 1, false);
	ok(used == 1, "an empty line is a line");

	char *text = cm_read_file(path, NULL, NULL);
	ok(text != NULL, "log readable");
	char *save, *line;
	struct cm_log_line l;
	line = strtok_r(text, "\n", &save);
	ok(cm_ctr_log_parse(line, &l) == 0, "first line parses");
	is_str(l.stream, "stdout", "stream");
	is_str(l.text, "one", "text");
	ok(!l.partial, "full line tag F");
	ok(strlen(l.time) == 30 && l.time[29] == 'Z', "RFC 3339 nano time (%s)", l.time);
	line = strtok_r(NULL, "\n", &save);
	ok(cm_ctr_log_parse(line, &l) == 0 && !strcmp(l.text, "two"), "second line");
	line = strtok_r(NULL, "\n", &save);
	ok(cm_ctr_log_parse(line, &l) == 0 && l.partial && !strcmp(l.stream, "stderr") &&
		   !strcmp(l.text, "x"),
	   "partial stderr line tagged P");
	line = strtok_r(NULL, "\n", &save);
	ok(cm_ctr_log_parse(line, &l) == 0 && !strcmp(l.text, ""), "empty line keeps empty text");

	char bad1[] = "garbage";
	char bad2[] = "2026-01-01T00:00:00Z stdin F x";
	char bad3[] = "2026-01-01T00:00:00Z stdout X x";
	ok(cm_ctr_log_parse(bad1, &l) < 0, "no fields: rejected");
	ok(cm_ctr_log_parse(bad2, &l) < 0, "unknown stream: rejected");
	ok(cm_ctr_log_parse(bad3, &l) < 0, "unknown tag: rejected");
	free(text);
	close(fd);
	unlink(path);
	return done();
}
