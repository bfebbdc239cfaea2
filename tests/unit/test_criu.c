#include "criu.h"
#include "tap.h"

#include <stdlib.h>

int main(void)
{
	/* A real stats-dump from CRIU 4.1.1: two magics, a size, then protobuf. */
	static const unsigned char dump[] = {
		0x40, 0x59, 0x10, 0x55, 0x06, 0x33, 0x09, 0x57, 0x22, 0x00, 0x00, 0x00, 0x0a, 0x20,
		0x08, 0xe2, 0x03, 0x10, 0xc5, 0xff, 0x03, 0x18, 0x83, 0x04, 0x20, 0x68, 0x28, 0x31,
		0x30, 0x00, 0x38, 0x23, 0x40, 0x00, 0x48, 0x00, 0x50, 0x08, 0x58, 0x08, 0x60, 0x00,
		0x68, 0x00, 0x70, 0x00,
	};
	struct cm_criu_stats s;
	ok(cm_criu_stats_parse(dump, sizeof(dump), &s) == 0, "a dump statistics file parses");
	ok(s.has_dump && !s.has_restore, "it holds the dump half");
	ok(s.freezing_time == 482, "freezing_time %llu", (unsigned long long)s.freezing_time);
	ok(s.frozen_time == 65477, "frozen_time %llu", (unsigned long long)s.frozen_time);
	ok(s.memdump_time == 515 && s.memwrite_time == 104, "memdump and memwrite times");
	ok(s.pages_scanned == 49 && s.pages_written == 35 && s.pages_skipped_parent == 0,
	   "pages scanned and written");
	json_t *j = cm_criu_stats_json(&s);
	ok(json_integer_value(json_object_get(j, "pages_written")) == 35 &&
		   !json_object_get(j, "forking_time"),
	   "JSON has the dump fields only");
	json_decref(j);

	/* restore: field 2 holding forking_time=7, restore_time=300, pages_restored=12 */
	static const unsigned char restore[] = {
		0x40, 0x59, 0x10, 0x55, 0x06, 0x33, 0x09, 0x57, 0x0d, 0x00, 0x00, 0x00,
		0x12, 0x0b, 0x08, 0x01, 0x10, 0x02, 0x18, 0x07, 0x20, 0xac, 0x02, 0x28, 0x0c,
	};
	ok(cm_criu_stats_parse(restore, sizeof(restore), &s) == 0 && s.has_restore, "restore stats parse");
	ok(s.forking_time == 7 && s.restore_time == 300 && s.pages_restored == 12 &&
		   s.pages_compared == 1 && s.pages_skipped_cow == 2,
	   "restore fields");

	unsigned char bad[sizeof(dump)];
	memcpy(bad, dump, sizeof(dump));
	bad[4] = 0;
	ok(cm_criu_stats_parse(bad, sizeof(bad), &s) < 0, "a wrong magic is refused");
	ok(cm_criu_stats_parse(dump, 20, &s) < 0, "a truncated file is refused");
	memcpy(bad, dump, sizeof(dump));
	bad[8] = 0xff;
	ok(cm_criu_stats_parse(bad, sizeof(bad), &s) < 0, "a size past the end is refused");

	const char *log =
		"(00.01) Error (criu/util.c:1533): rlimit: Can't setup RLIMIT_NOFILE for self: Operation not permitted\n"
		"(00.02) Info  something\n"
		"(00.03) Error (criu/sk-inet.c:199): inet: Connected TCP socket, consider using --tcp-established option.\n"
		"(00.04) Error (criu/cr-dump.c:1681): Dump files (pid: 12) failed with -1\n"
		"(00.05) Error (criu/cr-dump.c:2111): Dumping FAILED.\n";
	char *e = cm_criu_log_errors(log, 2);
	is_str(e, "Error (criu/sk-inet.c:199): inet: Connected TCP socket, consider using --tcp-established option.",
	       "the cause is shown, not the noise around it");
	free(e);
	e = cm_criu_log_errors("(00.05) Error (criu/cr-dump.c:2111): Dumping FAILED.\n", 2);
	is_str(e, "Error (criu/cr-dump.c:2111): Dumping FAILED.", "with nothing else, the generic line");
	free(e);
	ok(cm_criu_log_errors("(00.01) Info fine\n", 2) == NULL, "no Error lines: NULL");
	return done();
}
