#include "error.h"
#include "jsonio.h"
#include "oci_spec.h"
#include "runc.h"
#include "store.h"
#include "tap.h"

#include <stdlib.h>

static bool has_ns(json_t *spec, const char *type)
{
	json_t *ns = json_object_get(json_object_get(spec, "linux"), "namespaces"), *v;
	size_t i;
	json_array_foreach(ns, i, v)
		if (!strcmp(cm_json_str(v, "type"), type))
			return true;
	return false;
}

static json_t *mount_at(json_t *spec, const char *dst)
{
	json_t *v;
	size_t i;
	json_array_foreach(json_object_get(spec, "mounts"), i, v)
		if (!strcmp(cm_json_str(v, "destination"), dst))
			return v;
	return NULL;
}

static char *joined(struct cm_argv *a)
{
	size_t len = 1;
	for (size_t i = 0; i < a->n; i++)
		len += strlen(a->v[i]) + 1;
	char *s = calloc(1, len);
	for (size_t i = 0; i < a->n; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, a->v[i]);
	}
	return s;
}

int main(void)
{
	struct cm_error err = { 0 };
	json_t *env = json_pack("[s, s]", "PATH=/bin", "A=1");
	cm_oci_env_set(env, "A=2");
	cm_oci_env_set(env, "B=3");
	ok(json_array_size(env) == 3, "env: a key is replaced, a new one added");
	is_str(json_string_value(json_array_get(env, 1)), "A=2", "env: replaced in place");
	json_decref(env);

	json_t *v = cm_oci_volume_parse("/src:/dst:ro", &err);
	ok(v && cm_json_bool(v, "ro") && !strcmp(cm_json_str(v, "destination"), "/dst"), "volume ro");
	json_decref(v);
	v = cm_oci_volume_parse("/src:/dst", &err);
	ok(v && !cm_json_bool(v, "ro"), "volume rw by default");
	json_decref(v);
	ok(!cm_oci_volume_parse("rel:/dst", &err) && strstr(err.msg, "absolute"), "relative source refused");
	ok(!cm_oci_volume_parse("/a", &err) && strstr(err.msg, "SRC:DST"), "missing destination refused");
	ok(!cm_oci_volume_parse("/a:/b:zz", &err) && strstr(err.msg, "unknown option"), "bad mode refused");
	cm_error_clear(&err);

	json_t *config = json_pack("{s:[s, s], s:[s], s:s, s:[s], s:[], s:s}", "cmd", "sh", "-c", "env",
				   "X=1", "workdir", "/tmp", "tmpfs", "/scratch", "volumes", "network",
				   "none");
	json_t *spec = cm_oci_spec_build(config, "0123456789abcdef", "/r/rootfs", &err);
	ok(spec != NULL, "spec builds");
	json_t *proc = json_object_get(spec, "process");
	is_str(cm_json_str(proc, "cwd"), "/tmp", "workdir becomes cwd");
	ok(!cm_json_bool(proc, "terminal"), "no terminal: the monitor owns pipes");
	is_str(cm_json_str(json_object_get(spec, "root"), "path"), "/r/rootfs", "root path");
	is_str(cm_json_str(spec, "hostname"), "0123456789ab", "hostname is the short id");
	ok(has_ns(spec, "network") && has_ns(spec, "pid") && has_ns(spec, "mount"),
	   "private network, pid and mount namespaces");
	json_t *t = mount_at(spec, "/scratch");
	ok(t && !strcmp(cm_json_str(t, "type"), "tmpfs"), "--tmpfs becomes a tmpfs mount");
	json_t *rl = json_array_get(json_object_get(proc, "rlimits"), 0);
	ok(cm_json_int(rl, "soft", 0) <= cm_json_int(rl, "hard", 0) && cm_json_int(rl, "hard", 0) > 0,
	   "RLIMIT_NOFILE within the host's hard limit");
	bool has_x = false;
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(proc, "env"), i, e)
		has_x |= !strcmp(json_string_value(e), "X=1");
	ok(has_x, "user env passed");
	cm_oci_spec_set_criu_conf(spec, "/store/criu.conf");
	is_str(cm_json_str(json_object_get(spec, "annotations"), "org.criu.config"), "/store/criu.conf",
	       "CRIU config named for runc");
	ok(json_object_get(json_object_get(spec, "annotations"), "org.ctrmig.id") != NULL,
	   "the other annotations stay");
	cm_oci_spec_set_criu_conf(spec, NULL);
	ok(!json_object_get(json_object_get(spec, "annotations"), "org.criu.config"),
	   "no CRIU config: runc's default applies");
	json_object_del(spec, "annotations");
	cm_oci_spec_set_criu_conf(spec, "/s/criu.conf");
	is_str(cm_json_str(json_object_get(spec, "annotations"), "org.criu.config"), "/s/criu.conf",
	       "annotations made when the spec had none");
	json_decref(spec);

	json_object_set_new(config, "network", json_string("host"));
	spec = cm_oci_spec_build(config, "0123456789abcdef", "/r/rootfs", &err);
	ok(spec && !has_ns(spec, "network"), "--network host: no network namespace");
	json_decref(spec);
	json_object_set_new(config, "cmd", json_array());
	ok(!cm_oci_spec_build(config, "0123456789abcdef", "/r", &err) && strstr(err.msg, "no command"),
	   "an empty command is refused");
	cm_error_clear(&err);
	json_decref(config);

	struct cm_store st = { .runtime = "runc", .runc_root = "/run/x" };
	struct cm_argv a = { 0 };
	struct cm_runc_ckpt_opts co = { .image_path = "/i", .work_path = "/w", .leave_running = true,
					.tcp_established = true };
	cm_runc_argv_checkpoint(&st, &a, "ID", &co);
	char *s = joined(&a);
	is_str(s, "runc --root /run/x checkpoint --image-path /i --work-path /w --leave-running --tcp-established ID",
	       "checkpoint argv");
	free(s);
	cm_argv_free(&a);
	co = (struct cm_runc_ckpt_opts){ .image_path = "/i", .work_path = "/w", .pre_dump = true,
					 .leave_running = true, .parent_path = "../p" };
	cm_runc_argv_checkpoint(&st, &a, "ID", &co);
	s = joined(&a);
	is_str(s, "runc --root /run/x checkpoint --image-path /i --work-path /w --parent-path ../p --pre-dump ID",
	       "pre-dump argv: --pre-dump implies running, no --leave-running");
	free(s);
	cm_argv_free(&a);
	struct cm_runc_restore_opts ro = { .image_path = "/i", .work_path = "/w", .bundle = "/b",
					   .pid_file = "/b/pid", .file_locks = true };
	cm_runc_argv_restore(&st, &a, "ID", &ro);
	s = joined(&a);
	is_str(s, "runc --root /run/x restore --detach --image-path /i --work-path /w --bundle /b --pid-file /b/pid --file-locks ID",
	       "restore argv");
	free(s);
	cm_argv_free(&a);
	return done();
}
