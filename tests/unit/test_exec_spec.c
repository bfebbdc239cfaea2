/* exec's process spec, --env-file, runc's status, runc's argv. */
#include "error.h"
#include "exec_spec.h"
#include "jsonio.h"
#include "oci_spec.h"
#include "tap.h"
#include "util.h"

#include <stdlib.h>

static bool has(json_t *arr, const char *s)
{
	json_t *v;
	size_t i;
	json_array_foreach(arr, i, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), s))
			return true;
	return false;
}

static json_t *cap_set(json_t *p, const char *set)
{
	return json_object_get(json_object_get(p, "capabilities"), set);
}

/* A container's process as oci_spec builds it. */
static json_t *ctr_process(const char *config_text)
{
	struct cm_error err = { 0 };
	json_t *config = json_loads(config_text, 0, NULL);
	json_t *spec = cm_oci_spec_build(config, "0123456789abcdef", "/x/rootfs", &err);
	json_t *p = json_incref(json_object_get(spec, "process"));
	json_decref(spec);
	json_decref(config);
	return p;
}

static void test_process(void)
{
	struct cm_error err = { 0 };
	json_t *ctr = ctr_process("{\"cmd\": [\"sleep\", \"1\"], \"env\": [\"A=ctr\", \"B=ctr\"],"
				  " \"workdir\": \"/srv\", \"uid\": 7, \"gid\": 8, \"groups\": [9]}");
	json_object_set_new(ctr, "apparmorProfile", json_string("ctrmig-default"));
	json_object_set_new(ctr, "noNewPrivileges", json_true());
	json_t *args = json_pack("[s, s]", "env", "-0");
	json_t *env = json_pack("[s, s]", "B=file", "C=cli");

	struct cm_exec_opts o = { .args = args, .env = env };
	json_t *p = cm_exec_process(ctr, &o, &err);
	ok(p != NULL, "a process from the container's");
	is_str(json_string_value(json_array_get(json_object_get(p, "args"), 0)), "env", "the command");
	ok(json_is_false(json_object_get(p, "terminal")), "no terminal without -t");
	json_t *penv = json_object_get(p, "env");
	ok(has(penv, "A=ctr") && has(penv, "B=file") && has(penv, "C=cli") && !has(penv, "B=ctr"),
	   "the container's env, then the options' (later wins)");
	ok(has(penv, "HOSTNAME=0123456789ab") && has(penv, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
	   "the container's defaults too");
	is_str(cm_json_str(p, "cwd"), "/srv", "the container's working folder");
	json_t *user = json_object_get(p, "user");
	ok(cm_json_int(user, "uid", -1) == 7 && cm_json_int(user, "gid", -1) == 8 &&
	   json_integer_value(json_array_get(json_object_get(user, "additionalGids"), 0)) == 9,
	   "the container's user and groups");
	ok(json_equal(json_object_get(p, "capabilities"), json_object_get(ctr, "capabilities")),
	   "the container's capabilities");
	ok(json_equal(json_object_get(p, "rlimits"), json_object_get(ctr, "rlimits")), "its rlimits");
	ok(json_is_true(json_object_get(p, "noNewPrivileges")), "its noNewPrivileges");
	is_str(cm_json_str(p, "apparmorProfile"), "ctrmig-default", "its AppArmor profile");
	ok(has(json_object_get(ctr, "env"), "B=ctr") && !has(json_object_get(ctr, "env"), "C=cli"),
	   "the container's process is left as it was");
	json_decref(p);

	json_t *groups = json_pack("[i]", 42);
	o = (struct cm_exec_opts){ .args = args, .cwd = "/tmp", .user_given = true, .uid = 1000,
				   .gid = 1001, .groups = groups, .terminal = true, .privileged = true };
	p = cm_exec_process(ctr, &o, &err);
	is_str(cm_json_str(p, "cwd"), "/tmp", "-w");
	user = json_object_get(p, "user");
	ok(cm_json_int(user, "uid", -1) == 1000 && cm_json_int(user, "gid", -1) == 1001 &&
	   json_integer_value(json_array_get(json_object_get(user, "additionalGids"), 0)) == 42,
	   "-u replaces uid, gid and groups");
	ok(json_is_true(json_object_get(p, "terminal")), "-t");
	ok(json_array_size(cap_set(p, "bounding")) > json_array_size(cap_set(ctr, "bounding")) &&
	   json_equal(cap_set(p, "bounding"), cap_set(p, "effective")),
	   "--privileged: more capabilities than the container's (as many as ctrmig holds)");
	json_decref(p);
	json_decref(groups);

	/* -d: the helper first, with "bg"; no time namespace: no capability added */
	o = (struct cm_exec_opts){ .args = args, .helper = true, .detach = true };
	p = cm_exec_process(ctr, &o, &err);
	json_t *pargs = json_object_get(p, "args");
	ok(json_array_size(pargs) == 4, "helper, mode, then the command");
	is_str(json_string_value(json_array_get(pargs, 0)), CM_EXEC_HELPER_PATH, "the helper runs first");
	is_str(json_string_value(json_array_get(pargs, 1)), "bg", "in the background");
	is_str(json_string_value(json_array_get(pargs, 2)), "env", "then the command");
	ok(json_equal(json_object_get(p, "capabilities"), json_object_get(ctr, "capabilities")),
	   "no capability added without a time namespace");
	json_decref(p);

	/* a time namespace to join: the helper gets what it needs in every set,
	 * and is told to drop what the container lacks (21 SYS_ADMIN, 19 SYS_PTRACE;
	 * the default set has SETPCAP) */
	o = (struct cm_exec_opts){ .args = args, .helper = true, .timens = true };
	p = cm_exec_process(ctr, &o, &err);
	is_str(json_string_value(json_array_get(json_object_get(p, "args"), 1)), "fg+time=21,19",
	       "in the foreground, dropping SYS_ADMIN and SYS_PTRACE after joining");
	const char *sets[] = { "bounding", "effective", "permitted", "inheritable", "ambient" };
	bool all = true;
	for (size_t k = 0; k < 5; k++)
		all &= has(cap_set(p, sets[k]), "CAP_SYS_ADMIN") && has(cap_set(p, sets[k]), "CAP_SETPCAP") &&
		       has(cap_set(p, sets[k]), "CAP_SYS_PTRACE");
	ok(all, "the helper's capabilities in every set (root keeps bounding, others ambient)");
	ok(!has(cap_set(ctr, "bounding"), "CAP_SYS_ADMIN"), "not in the container's");
	json_decref(p);

	o = (struct cm_exec_opts){ .args = args, .helper = true, .timens = true, .privileged = true };
	p = cm_exec_process(ctr, &o, &err);
	const char *mode = json_string_value(json_array_get(json_object_get(p, "args"), 1));
	ok(mode && !strncmp(mode, "fg+time=", 8) && !strstr(mode, "21"),
	   "--privileged keeps SYS_ADMIN: the helper does not drop it (%s)", mode ? mode : "");
	json_decref(p);

	json_t *empty = json_array();
	o = (struct cm_exec_opts){ .args = empty };
	ok(cm_exec_process(ctr, &o, &err) == NULL && err.msg, "no command: an error");
	cm_error_clear(&err);
	json_t *bad = json_object();
	o = (struct cm_exec_opts){ .args = args };
	ok(cm_exec_process(bad, &o, &err) == NULL && err.msg, "a spec without a process: an error");
	cm_error_clear(&err);
	json_decref(bad);
	json_decref(empty);
	json_decref(env);
	json_decref(args);
	json_decref(ctr);
}

static void test_env_file(void)
{
	struct cm_error err = { 0 };
	json_t *env = json_array();
	setenv("CM_TEST_FROM_HOST", "host", 1);
	unsetenv("CM_TEST_UNSET");
	int r = cm_exec_env_file_parse("# comment\n\nA=1\n  B=two words\r\nCM_TEST_FROM_HOST\n"
				       "CM_TEST_UNSET\nC=\nD=x=y", "f", env, &err);
	ok(r == 0, "parses");
	ok(json_array_size(env) == 5, "five variables (%zu)", json_array_size(env));
	is_str(json_string_value(json_array_get(env, 0)), "A=1", "K=V");
	is_str(json_string_value(json_array_get(env, 1)), "B=two words", "leading blanks and CR dropped");
	is_str(json_string_value(json_array_get(env, 2)), "CM_TEST_FROM_HOST=host", "a bare name takes ctrmig's value");
	is_str(json_string_value(json_array_get(env, 3)), "C=", "an empty value");
	is_str(json_string_value(json_array_get(env, 4)), "D=x=y", "'=' in the value");
	ok(cm_exec_env_file_parse("=x\n", "f", env, &err) < 0 && strstr(err.msg, "line 1"),
	   "no name: an error naming the line");
	cm_error_clear(&err);
	ok(cm_exec_env_file_parse("A=1\nBAD NAME=2\n", "f", env, &err) < 0 && strstr(err.msg, "line 2"),
	   "white space in a name: an error");
	cm_error_clear(&err);
	json_decref(env);
}

static void test_status(void)
{
	const char *nf = "{\"level\":\"error\",\"msg\":\"exec failed: unable to start container process: "
			 "exec: \\\"nope\\\": executable file not found in $PATH\",\"time\":\"x\"}\n";
	const char *nf2 = "{\"level\":\"error\",\"msg\":\"exec failed: unable to start container process: "
			  "exec: \\\"/nope\\\": stat /nope: no such file or directory\",\"time\":\"x\"}\n";
	const char *perm = "{\"level\":\"warning\",\"msg\":\"something\"}\n"
			   "{\"level\":\"error\",\"msg\":\"exec failed: unable to start container process: "
			   "exec: \\\"/etc\\\": permission denied\",\"time\":\"x\"}\n";
	const char *stopped = "{\"level\":\"error\",\"msg\":\"exec failed: cannot exec in a stopped container\"}\n";
	ok(cm_exec_status(0, NULL) == 0, "0 is 0");
	ok(cm_exec_status(3, nf) == 3, "the command's status as it is");
	ok(cm_exec_status(255, NULL) == 255, "255 with no runc error is the command's own");
	ok(cm_exec_status(255, "{\"level\":\"warning\",\"msg\":\"x\"}\n") == 255, "a warning is not a failure");
	ok(cm_exec_status(255, nf) == 127, "not in PATH: 127");
	ok(cm_exec_status(255, nf2) == 127, "no such file: 127");
	ok(cm_exec_status(255, perm) == 126, "permission denied: 126");
	ok(cm_exec_status(255, stopped) == 125, "runc's own failure: 125");
	ok(cm_exec_status(255, "not json\n") == 255, "a log that is not JSON says nothing");
	cm_autofree char *why = cm_exec_runc_error(nf);
	is_str(why, "exec: \"nope\": executable file not found in $PATH", "runc's reason, without its prefixes");
}

static void test_argv(void)
{
	struct cm_argv a = { 0 };
	cm_exec_argv(&a, "runc", "/run/r", "/c/exec-1.log", "/c/exec-1.json", 1, "ID");
	cm_autofree char *s = NULL;
	size_t len = 0;
	for (size_t i = 0; i < a.n; i++)
		len += strlen(a.v[i]) + 1;
	s = cm_malloc(len + 1);
	s[0] = '\0';
	for (size_t i = 0; i < a.n; i++) {
		strcat(s, a.v[i]);
		if (i + 1 < a.n)
			strcat(s, " ");
	}
	is_str(s, "runc --root /run/r --log /c/exec-1.log --log-format json exec --preserve-fds=1 "
		  "--process /c/exec-1.json ID", "runc exec's argv");
	ok(a.v[a.n] == NULL, "NULL-terminated");
	cm_argv_free(&a);
	cm_exec_argv(&a, "runc", "/run/r", "l", "p", 0, "ID");
	bool preserve = false;
	for (size_t i = 0; i < a.n; i++)
		preserve |= !strncmp(a.v[i], "--preserve-fds", 14);
	ok(!preserve, "no --preserve-fds without the helper");
	cm_argv_free(&a);
}

int main(void)
{
	test_process();
	test_env_file();
	test_status();
	test_argv();
	return done();
}
