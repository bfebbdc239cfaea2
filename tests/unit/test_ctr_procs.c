/* top: /proc parsing, Go's duration text, descriptors and Podman's layout. */
#include "ctr_procs.h"
#include "error.h"
#include "tap.h"
#include "user.h"

#include <stdlib.h>
#include <sys/sysmacros.h>

static char *dur(unsigned long long ns)
{
	static char buf[64];
	cm_go_duration(ns, buf, sizeof(buf));
	return buf;
}

int main(void)
{
	/* a comm with a space and a parenthesis: the last ')' ends it */
	const char *stat = "4242 (my (odd) prog) S 4200 4242 4242 34817 4242 4194560 1 2 3 4 "
			   "250 50 0 0 20 5 1 0 12345 10485760 300 18446744073709551615 0 0";
	struct cm_proc p = { 0 };
	ok(cm_proc_parse_stat(stat, &p) == 0, "stat parses");
	is_str(p.comm, "my (odd) prog", "comm keeps what stands between the parentheses");
	ok(p.state == 'S' && p.host_ppid == 4200 && p.nice == 5, "state, ppid, nice");
	ok(p.utime == 250 && p.stime == 50 && p.start == 12345, "cpu ticks and start");
	ok(p.vsize == 10485760 && p.rss_pages == 300, "vsize and rss");
	ok(major(p.tty_nr) == 136 && minor(p.tty_nr) == 1, "tty_nr 34817 is pts/1");
	ok(cm_proc_parse_stat("4242 no parens here", &p) < 0, "a stat without (comm) is refused");

	const char *status = "Name:\tsh\nUid:\t1000\t1001\t1001\t1001\nGid:\t50\t51\t51\t51\n"
			     "NSpid:\t4242\t7\nNSpgid:\t4242\t1\n";
	ok(cm_proc_parse_status(status, &p) == 0, "status parses");
	ok(p.pid == 7 && p.ns_depth == 2 && p.pgid == 1, "NSpid: the innermost pid, two levels");
	ok(p.ruid == 1000 && p.uid == 1001 && p.rgid == 50 && p.gid == 51, "real and effective ids");
	ok(cm_proc_parse_status("Name:\tsh\nUid:\t0\t0\t0\t0\n", &p) < 0, "no NSpid is an error");

	is_str(dur(0), "0s", "zero");
	is_str(dur(999), "999ns", "nanoseconds");
	is_str(dur(1500), "1.5\xc2\xb5s", "microseconds");
	is_str(dur(5992275), "5.992275ms", "milliseconds");
	is_str(dur(1035992275ULL), "1.035992275s", "seconds with nanoseconds");
	is_str(dur(2000000000ULL), "2s", "whole seconds");
	is_str(dur(62500000000ULL), "1m2.5s", "minutes");
	is_str(dur(3600000000000ULL), "1h0m0s", "an hour shows minutes and seconds");
	is_str(dur(3723000000000ULL), "1h2m3s", "hours");

	enum cm_top_col cols[CM_TOP_MAX_COLS];
	size_t n;
	struct cm_error err = { 0 };
	char *args1[] = { "pid,user", "%C", "args" };
	ok(cm_top_parse_descriptors(3, args1, cols, &n, &err) == 0 && n == 4 && cols[0] == CM_TOP_PID &&
		   cols[1] == CM_TOP_USER && cols[2] == CM_TOP_PCPU && cols[3] == CM_TOP_ARGS,
	   "names split by commas, AIX codes, separate arguments");
	char *args2[] = { "%p %U" };
	ok(cm_top_parse_descriptors(1, args2, cols, &n, &err) == 0 && n == 2 && cols[1] == CM_TOP_USER,
	   "blanks split too");
	char *args3[] = { "pid", "bogus" };
	ok(cm_top_parse_descriptors(2, args3, cols, &n, &err) < 0 && strstr(err.msg, "bogus"),
	   "an unknown descriptor is named in the error");
	cm_error_clear(&err);

	/* Two processes a second apart: Podman's columns and tabwriter's padding. */
	struct cm_proc procs[2] = {
		{ .pid = 1, .ppid = 0, .uid = 0, .user = "root", .utime = 100, .stime = 0, .start = 0,
		  .args = "sh -c sleep 1000" },
		{ .pid = 23, .ppid = 1, .uid = 1000, .user = NULL, .utime = 0, .stime = 0, .start = 100,
		  .tty_nr = makedev(136, 0), .args = "sleep 1000" },
	};
	struct cm_top_clock clk = { 2000000000ULL, 100, 4096 };
	char *t = cm_top_render(procs, 2, cm_top_default_cols, 8, &clk);
	is_str(t,
	       "USER        PID         PPID        %CPU        ELAPSED     TTY         TIME        COMMAND\n"
	       "root        1           0           50.000      2s          ?           1s          sh -c sleep 1000\n"
	       "1000        23          1           0.000       1s          pts/0       0s          sleep 1000\n",
	       "default columns: a user without a name is its number");
	free(t);
	enum cm_top_col one[] = { CM_TOP_ARGS, CM_TOP_PID };
	t = cm_top_render(procs, 2, one, 2, &clk);
	is_str(t, "COMMAND           PID\nsh -c sleep 1000  1\nsleep 1000        23\n",
	       "a column wider than 12 gets 2 blanks after its widest cell");
	free(t);

	const char *passwd = "root:x:0:0:root:/root:/bin/sh\n# comment\nwww:x:33:33::/:/bin/false\n";
	char *name = cm_user_name_of(passwd, 33);
	is_str(name, "www", "uid 33 is www");
	free(name);
	ok(cm_user_name_of(passwd, 4) == NULL && cm_user_name_of(NULL, 0) == NULL,
	   "an unknown uid, or no file, has no name");
	return done();
}
