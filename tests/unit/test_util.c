#include "container.h"
#include "error.h"
#include "jsonio.h"
#include "proc_spawn.h"
#include "tap.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

int main(void)
{
	char *s;
	is_str(s = cm_path_join("/a/", "/b"), "/a/b", "path_join drops doubled slashes");
	free(s);
	is_str(s = cm_path_join("/a", "b/c"), "/a/b/c", "path_join adds one slash");
	free(s);

	struct timespec ts = { 1700000000, 123456789 }, back;
	char buf[40];
	cm_time_format(&ts, buf);
	is_str(buf, "2023-11-14T22:13:20.123456789Z", "time format");
	ok(cm_time_parse(buf, &back) == 0 && back.tv_sec == ts.tv_sec && back.tv_nsec == ts.tv_nsec,
	   "time parse round-trips");
	ok(cm_time_parse("2023-11-14 22:13:20", &back) < 0, "a non-RFC 3339 time is rejected");

	is_str(s = cm_time_ago(100, 100), "Less than a second ago", "ago: now");
	free(s);
	is_str(s = cm_time_ago(100, 105), "5 seconds ago", "ago: seconds");
	free(s);
	is_str(s = cm_time_ago(0, 90), "About a minute ago", "ago: a minute");
	free(s);
	is_str(s = cm_time_ago(0, 3 * 86400), "3 days ago", "ago: days");
	free(s);

	ok(cm_is_hex("0af9"), "hex");
	ok(!cm_is_hex("0AF9") && !cm_is_hex("") && !cm_is_hex("xyz"), "not hex");

	ok(cm_ctr_name_valid("web-1.a_b"), "a valid container name");
	ok(!cm_ctr_name_valid("-x") && !cm_ctr_name_valid("a/b") && !cm_ctr_name_valid("a b") &&
		   !cm_ctr_name_valid(""),
	   "invalid names are refused");

	char id[65];
	ok(cm_random_id(id, NULL) == 0 && strlen(id) == 64 && cm_is_hex(id), "random id is 64 hex");

	struct cm_error err = { 0 };
	json_t *j = cm_json_parse("{\"a\": 1,\n \"a\": 2}", 17, "rec.json", &err);
	ok(j == NULL && err.msg && strstr(err.msg, "rec.json: line 2"),
	   "duplicate keys rejected with the line: %s", err.msg);
	cm_error_clear(&err);

	is_str(s = cm_spawn_last_line("first\nsecond\n\n"), "second", "last non-blank line");
	free(s);

	struct cm_spawn_result res;
	char *argv[] = { "sh", "-c", "echo out; echo err >&2; exit 3", NULL };
	ok(cm_spawn_capture(argv, &res, NULL) == 0 && res.status == 3, "spawn returns the status");
	ok(strstr(res.output, "out") && strstr(res.output, "err"), "stdout and stderr captured");
	cm_spawn_result_free(&res);
	char *missing[] = { "/nonexistent/prog", NULL };
	ok(cm_spawn_capture(missing, &res, &err) < 0 && strstr(err.msg, "run /nonexistent/prog"),
	   "a missing program is an error naming it");
	cm_error_clear(&err);

	char dir[] = "/tmp/ctrmig-test-util-XXXXXX";
	if (mkdtemp(dir)) {
		char *f = cm_path_join(dir, "f");
		size_t len = 0;
		ok(cm_write_file_new(f, "abcd", 4, 0640, &err) == 0, "write_file_new creates");
		ok(cm_write_file_new(f, "xy", 2, 0640, &err) < 0 && err.code == EEXIST,
		   "and never replaces: EEXIST");
		cm_error_clear(&err);
		ok((s = cm_read_file_max(f, 4, &len, &err)) && len == 4 && !strcmp(s, "abcd"),
		   "read_file_max reads up to the limit");
		free(s);
		ok(!cm_read_file_max(f, 3, &len, &err) && strstr(err.msg, "larger than 3 bytes"),
		   "and refuses more: %s", err.msg);
		cm_error_clear(&err);
		struct stat sb;
		ok(stat(f, &sb) == 0 && (sb.st_mode & 0777) == 0640, "with the mode asked for");
		free(f);
		cm_rm_rf(dir, NULL);
	}
	is_str(s = cm_json_quote("a\nb\x1b", 10), "\"a?b?\"", "quote: control characters as ?");
	free(s);
	is_str(s = cm_json_quote("abcdef", 3), "\"abc\"", "quote: cut at max");
	free(s);

	ok(cm_err(&err, 0, "open %s", "x") == -1 && !strcmp(err.msg, "open x"), "cm_err");
	cm_err_wrap(&err, "restore %s", "web");
	is_str(err.msg, "restore web: open x", "cm_err_wrap adds context in front");
	cm_error_clear(&err);
	return done();
}
