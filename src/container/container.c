#include "container.h"
#include "criu.h"
#include "criu_conf.h"
#include "error.h"
#include "image.h"
#include "jsonio.h"
#include "mem_stage.h"
#include "monitor.h"
#include "ctr_net.h"
#include "netns.h"
#include "oci_spec.h"
#include "rootfs.h"
#include "runc.h"
#include "signal_name.h"
#include "store.h"
#include "util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

const char *cm_ctr_status_name(enum cm_ctr_status s)
{
	static const char *const names[] = { "created", "running", "exited", "checkpointed" };
	return names[s];
}

static enum cm_ctr_status status_from_record(json_t *rec)
{
	const char *s = cm_json_str(rec, "state");
	if (!s || !strcmp(s, "created"))
		return CM_CTR_CREATED;
	if (!strcmp(s, "running"))
		return CM_CTR_RUNNING;
	if (!strcmp(s, "checkpointed"))
		return CM_CTR_CHECKPOINTED;
	return CM_CTR_EXITED;
}

/* Fills out from exit.json when the monitor has written it. */
static bool take_exit(struct cm_store *st, const char *id, struct cm_ctr_state *out)
{
	int code;
	char *finished = NULL;
	if (cm_monitor_read_exit(st, id, &code, &finished) < 0)
		return false;
	out->status = CM_CTR_EXITED;
	out->exit_code = code;
	free(out->finished_at);
	out->finished_at = finished;
	return true;
}

void cm_ctr_state_get(struct cm_store *st, json_t *rec, struct cm_ctr_state *out)
{
	const char *f = cm_json_str(rec, "finished_at");
	out->status = status_from_record(rec);
	out->exit_code = (int)cm_json_int(rec, "exit_code", 0);
	out->finished_at = f ? cm_strdup(f) : NULL;
	const char *id = cm_json_str(rec, "id");
	pid_t pid = (pid_t)cm_json_int(rec, "pid", 0);
	unsigned long long start = (unsigned long long)cm_json_int(rec, "pid_start", 0);
	if (out->status != CM_CTR_RUNNING && cm_json_bool(rec, "launch_pending")) {
		/* ctrmig died while runc restored it: if the monitor said it runs, it does. */
		pid_t cpid, mpid;
		if (cm_monitor_read_launched(st, id, &cpid, &mpid) == 0) {
			cm_ctr_mark_running(rec, cpid, mpid);
			out->status = CM_CTR_RUNNING;
		}
		return;
	}
	if (out->status != CM_CTR_RUNNING)
		return;
	if (cm_json_bool(rec, "checkpoint_pending") && !cm_proc_alive(pid, start)) {
		/* ctrmig died during a checkpoint: CRIU only kills the process after
		 * a complete dump, so a complete dump means it was checkpointed. */
		cm_autofree char *images = cm_store_ctr_path(st, id, "checkpoint");
		if (cm_criu_dump_complete(images)) {
			out->status = CM_CTR_CHECKPOINTED;
			return;
		}
	}
	if (take_exit(st, id, out) || cm_proc_alive(pid, start))
		return;
	/* The process is gone. Its monitor, if alive, is about to record how. */
	pid_t mpid = (pid_t)cm_json_int(rec, "monitor_pid", 0);
	double until = cm_monotonic_seconds() + 3;
	for (;;) {
		bool monitor_alive = mpid > 0 && cm_proc_alive(mpid, 0);
		/* Read after the liveness check: a monitor that just exited wrote first. */
		if (take_exit(st, id, out))
			return;
		if (!monitor_alive || cm_monotonic_seconds() >= until)
			break;
		usleep(10000);
	}
	/* Its process and monitor are gone without a word (kill -9, reboot). */
	out->status = CM_CTR_EXITED;
	out->exit_code = 255;
}

void cm_ctr_state_free(struct cm_ctr_state *s)
{
	free(s->finished_at);
	s->finished_at = NULL;
}

enum cm_ctr_status cm_ctr_status_of(struct cm_store *st, json_t *rec)
{
	struct cm_ctr_state s;
	cm_ctr_state_get(st, rec, &s);
	cm_ctr_state_free(&s);
	return s.status;
}

bool cm_ctr_name_valid(const char *name)
{
	if (!isalnum((unsigned char)name[0]) || strlen(name) > 128)
		return false;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_.-", *p))
			return false;
	/* A name that looks like an id would make references ambiguous. */
	return !(strlen(name) == 64 && cm_is_hex(name));
}

json_t *cm_ctr_image_ref(json_t *image)
{
	json_t *base = json_pack("{s:s, s:s}", "id", cm_json_str(image, "id"), "name",
				 cm_json_str(image, "name") ? cm_json_str(image, "name") : cm_json_str(image, "id"));
	const char *keys[] = { "digest", "rootfs_digest" };
	for (size_t i = 0; i < 2; i++)
		if (cm_json_str(image, keys[i]))
			json_object_set_new(base, keys[i], json_string(cm_json_str(image, keys[i])));
	json_t *rd = json_array_get(json_object_get(image, "repo_digests"), 0);
	if (json_is_string(rd))
		json_object_set(base, "repo_digest", rd);
	return base;
}

int cm_ctr_upper_mode(struct cm_store *st, const char *ctr_dir, const char *image_id, struct cm_error *err)
{
	cm_autofree char *upper = cm_path_join(ctr_dir, "upper");
	/* the top layer's root mode, as containers/storage gives a container */
	mode_t mode = 0755;
	cm_autofree char *lower = image_id ? cm_image_rootfs(st, image_id) : NULL;
	char *colon = lower ? strchr(lower, ':') : NULL;
	if (colon)
		*colon = '\0';
	struct stat sb;
	if (lower && lower[0] == '/' && stat(lower, &sb) == 0)
		mode = sb.st_mode & 07777;
	if (chmod(upper, mode) < 0)
		return cm_err(err, errno, "chmod %s", upper);
	return 0;
}

json_t *cm_ctr_create(struct cm_store *st, const char *name, json_t *image, json_t *config,
		      struct cm_error *err)
{
	char id[65];
	if (cm_random_id(id, err) < 0)
		return NULL;
	cm_autofree char *generated = NULL;
	if (!name)
		name = generated = cm_strfmt("ctr-%.12s", id);
	if (!cm_ctr_name_valid(name)) {
		cm_err(err, 0, "container name '%s' is not valid: use letters, digits, '_', '.', '-'",
		       name);
		return NULL;
	}
	if (cm_store_name_taken(st, name)) {
		cm_err(err, 0, "the container name %s is already in use", name);
		return NULL;
	}
	cm_autofree char *final = cm_store_ctr_dir(st, id);
	char now[40];
	cm_time_now(now);
	json_t *rec = json_pack("{s:s, s:s, s:s, s:o, s:O, s:s}", "id", id, "name", name, "created",
				now, "image", cm_ctr_image_ref(image), "config", config, "state", "created");
	/* The hostname is kept, so that copies restored under new ids keep it. */
	json_t *cfg = json_object_get(rec, "config");
	const char *net = cm_json_str(cfg, "network");
	if (!net || strcmp(net, "host")) {
		cm_autofree char *netns = cm_store_netns_path(st, id);
		json_object_set_new(cfg, "netns", json_string(netns));
	}
	if (!cm_json_str(cfg, "hostname")) {
		cm_autofree char *hostname = cm_strfmt("%.12s", id);
		json_object_set_new(cfg, "hostname", json_string(hostname));
	}
	json_t *spec = cm_ctr_build_spec(st, rec, err);
	if (!spec) {
		json_decref(rec);
		return NULL;
	}

	/* Build it all in a staging directory: a crash leaves no half container. */
	cm_autofree char *staging = cm_strfmt("%s/containers/.new-%s", st->root, id);
	cm_autofree char *bundle = cm_path_join(staging, "bundle");
	cm_autofree char *spec_path = cm_path_join(bundle, "config.json");
	cm_autofree char *rec_path = cm_path_join(staging, "container.json");
	const char *dirs[] = { "bundle", "upper", "work", "rootfs" };
	for (size_t i = 0; i < 4; i++) {
		cm_autofree char *d = cm_path_join(staging, dirs[i]);
		if (cm_mkdir_p(d, 0700, err) < 0)
			goto fail;
	}
	if (cm_ctr_upper_mode(st, staging, cm_json_str(image, "id"), err) < 0)
		goto fail;
	if (cm_json_save(spec_path, spec, 0600, err) < 0 || cm_json_save(rec_path, rec, 0600, err) < 0)
		goto fail;
	if (rename(staging, final) < 0) {
		cm_err(err, errno, "store container in %s", final);
		goto fail;
	}
	cm_fsync_dir_of(final);
	json_decref(spec);
	return rec;
fail:
	cm_rm_rf(staging, NULL);
	json_decref(spec);
	json_decref(rec);
	return NULL;
}

json_t *cm_ctr_build_spec(struct cm_store *st, json_t *rec, struct cm_error *err)
{
	const char *id = cm_json_str(rec, "id");
	cm_autofree char *rootfs = cm_store_ctr_path(st, id, "rootfs");
	cm_autofree char *self = cm_self_exe(err);
	json_t *spec = self ? cm_oci_spec_build(json_object_get(rec, "config"), id, rootfs, err) : NULL;
	if (!spec)
		return NULL;
	cm_oci_spec_set_hooks(spec, self);
	cm_autofree char *cgroup = cm_store_cgroup_path(st, id);
	json_object_set_new(json_object_get(spec, "linux"), "cgroupsPath", json_string(cgroup));
	cm_autofree char *criu_conf = cm_criu_conf_for_spec(st);
	cm_oci_spec_set_criu_conf(spec, criu_conf);
	return spec;
}

int cm_ctr_refresh_spec(struct cm_store *st, json_t *rec, json_t **spec_out, struct cm_error *err)
{
	cm_autofree char *path = cm_store_ctr_path(st, cm_json_str(rec, "id"), "bundle/config.json");
	json_t *spec = cm_ctr_build_spec(st, rec, err);
	int ret = spec ? cm_json_save(path, spec, 0600, err) : -1;
	if (ret == 0 && spec_out)
		*spec_out = cm_steal_ptr(&spec);
	json_decref(spec);
	return ret;
}

/* A monitor still finishing (releasing the network, then writing exit.json)
 * would undo or overwrite what comes next. */
static void wait_monitor_done(struct cm_store *st, json_t *rec)
{
	const char *id = cm_json_str(rec, "id");
	pid_t old = (pid_t)cm_json_int(rec, "monitor_pid", 0);
	double until = cm_monotonic_seconds() + 10;
	while (old > 0 && cm_proc_alive(old, 0) && cm_monotonic_seconds() < until) {
		cm_autofree char *exit_path = cm_store_ctr_path(st, id, "exit.json");
		if (cm_path_exists(exit_path))
			break;
		usleep(10000);
	}
}

void cm_ctr_prepare_relaunch(struct cm_store *st, json_t *rec)
{
	const char *id = cm_json_str(rec, "id");
	wait_monitor_done(st, rec);
	/* A container whose process vanished may have left runc state, a mount
	 * and an address. */
	cm_monitor_release_runtime(st, id);
	cm_monitor_clear_exit(st, id);
	cm_autofree char *launched = cm_store_ctr_path(st, id, "launched.json");
	unlink(launched);
}

void cm_ctr_mark_running(json_t *rec, pid_t pid, pid_t monitor_pid)
{
	char now[40];
	cm_time_now(now);
	json_object_set_new(rec, "state", json_string("running"));
	json_object_set_new(rec, "pid", json_integer(pid));
	json_object_set_new(rec, "pid_start", json_integer((json_int_t)cm_proc_start_time(pid)));
	json_object_set_new(rec, "monitor_pid", json_integer(monitor_pid));
	json_object_set_new(rec, "started_at", json_string(now));
	json_object_del(rec, "finished_at");
	json_object_del(rec, "exit_code");
	json_object_del(rec, "checkpoint_pending");
	json_object_del(rec, "launch_pending");
}

/* Freezes the exit the monitor recorded into the record itself. */
static void record_exit(struct cm_store *st, json_t *rec)
{
	struct cm_ctr_state s;
	cm_ctr_state_get(st, rec, &s);
	if (s.status == CM_CTR_EXITED && status_from_record(rec) == CM_CTR_RUNNING) {
		json_object_set_new(rec, "state", json_string("exited"));
		json_object_set_new(rec, "exit_code", json_integer(s.exit_code));
		if (s.finished_at)
			json_object_set_new(rec, "finished_at", json_string(s.finished_at));
	}
	cm_ctr_state_free(&s);
}

/* runc start unblocks the container, then removes its exec.fifo; a
 * container that ends at once can be deleted by its monitor in between, and
 * runc start then fails on the fifo although the container ran. */
static bool started_anyway(struct cm_store *st, json_t *rec, struct cm_error *err)
{
	if (!err->msg || !strstr(err->msg, "exec.fifo") || !cm_ctr_wait_exit(st, rec, 2))
		return false;
	cm_error_clear(err);
	return true;
}

int cm_ctr_start(struct cm_store *st, json_t *rec, bool remove_on_exit, struct cm_error *err)
{
	const char *id = cm_json_str(rec, "id"), *name = cm_json_str(rec, "name");
	enum cm_ctr_status now = cm_ctr_status_of(st, rec);
	if (now == CM_CTR_RUNNING)
		return cm_err(err, 0, "container %s is already running", name);
	cm_ctr_prepare_relaunch(st, rec);
	if (cm_store_runtime_dir(st, err) < 0 || cm_ctr_net_up(st, rec, NULL, err) < 0)
		return cm_err_wrap(err, "start %s", name);
	if (cm_ctr_refresh_spec(st, rec, NULL, err) < 0 ||
	    cm_rootfs_mount(st, id, cm_json_str(json_object_get(rec, "image"), "id"), err) < 0) {
		cm_ctr_net_down(st, id);
		return cm_err_wrap(err, "start %s", name);
	}

	cm_autofree char *bundle = cm_store_ctr_path(st, id, "bundle");
	cm_autofree char *pid_file = cm_store_ctr_path(st, id, "bundle/pid");
	struct cm_argv a = { 0 };
	cm_autofree char *console = cm_json_bool(json_object_get(rec, "config"), "tty")
					    ? cm_store_socket_path(st, "console", id) : NULL;
	cm_runc_argv_create(st, &a, id, bundle, pid_file, console);
	pid_t pid, mpid;
	int ret = cm_monitor_launch(st, id, a.v, remove_on_exit, &pid, &mpid, err);
	cm_argv_free(&a);
	if (ret < 0) {
		cm_monitor_release_runtime(st, id);
		return cm_err_wrap(err, "start %s", name);
	}
	json_object_set_new(rec, "monitor_pid", json_integer(mpid)); /* whose exit.json to wait for */
	if (cm_runc_run(st, err, "start", id, NULL) < 0 && !started_anyway(st, rec, err)) {
		cm_runc_run(st, NULL, "delete", "--force", id, NULL);
		cm_ctr_wait_exit(st, rec, 5);
		cm_monitor_clear_exit(st, id);
		return cm_err_wrap(err, "start %s", name);
	}
	cm_ctr_mark_running(rec, pid, mpid);
	return cm_store_save_ctr(st, rec, err);
}

bool cm_ctr_wait_exit(struct cm_store *st, json_t *rec, double timeout)
{
	const char *id = cm_json_str(rec, "id");
	cm_autofree char *path = cm_store_ctr_path(st, id, "exit.json");
	pid_t mpid = (pid_t)cm_json_int(rec, "monitor_pid", 0);
	double until = cm_monotonic_seconds() + timeout;
	while (cm_monotonic_seconds() < until) {
		if (cm_path_exists(path))
			return true;
		if (mpid > 0 && !cm_proc_alive(mpid, 0))
			return cm_path_exists(path);
		usleep(10000);
	}
	return cm_path_exists(path);
}

static bool wait_process_gone(json_t *rec, double timeout)
{
	pid_t pid = (pid_t)cm_json_int(rec, "pid", 0);
	unsigned long long start = (unsigned long long)cm_json_int(rec, "pid_start", 0);
	double until = cm_monotonic_seconds() + timeout;
	while (cm_proc_alive(pid, start)) {
		if (cm_monotonic_seconds() >= until)
			return false;
		usleep(10000);
	}
	return true;
}

/* After the process ended: let the monitor finish, or do its work if it is gone. */
static int settle_exit(struct cm_store *st, json_t *rec, struct cm_error *err)
{
	const char *id = cm_json_str(rec, "id");
	if (!cm_ctr_wait_exit(st, rec, 10)) {
		cm_monitor_release_runtime(st, id);
		cm_monitor_write_exit(st, id, 137);
	}
	record_exit(st, rec);
	return cm_store_save_ctr(st, rec, err);
}

int cm_ctr_stop(struct cm_store *st, json_t *rec, int timeout, struct cm_error *err)
{
	const char *id = cm_json_str(rec, "id"), *name = cm_json_str(rec, "name");
	enum cm_ctr_status now = cm_ctr_status_of(st, rec);
	if (now != CM_CTR_RUNNING) {
		/* Like Podman: stopping a stopped container succeeds, tidying up. */
		if (status_from_record(rec) == CM_CTR_RUNNING)
			return settle_exit(st, rec, err);
		return 0;
	}
	struct cm_error ignored = { 0 };
	if (timeout > 0) {
		/* The image's StopSignal, as Docker and Podman send it. */
		const char *sig = cm_json_str(json_object_get(rec, "config"), "stop_signal");
		int signum = SIGTERM;
		if (sig)
			cm_signal_parse(sig, &signum);
		char num[16];
		snprintf(num, sizeof(num), "%d", signum);
		cm_runc_run(st, &ignored, "kill", id, num, NULL);
		cm_error_clear(&ignored);
	}
	if (!wait_process_gone(rec, timeout)) {
		cm_runc_run(st, &ignored, "kill", "--all", id, "KILL", NULL);
		cm_error_clear(&ignored);
		if (!wait_process_gone(rec, 10))
			return cm_err(err, 0, "stop %s: the process did not die after SIGKILL", name);
	}
	return settle_exit(st, rec, err);
}

int cm_ctr_kill(struct cm_store *st, json_t *rec, int sig, struct cm_error *err)
{
	const char *id = cm_json_str(rec, "id"), *name = cm_json_str(rec, "name");
	enum cm_ctr_status now = cm_ctr_status_of(st, rec);
	if (now != CM_CTR_RUNNING)
		return cm_err(err, 0, "container %s is not running", name);
	char signum[16];
	snprintf(signum, sizeof(signum), "%d", sig);
	if (cm_runc_run(st, err, "kill", id, signum, NULL) < 0)
		return cm_err_wrap(err, "kill %s", name);
	return 0;
}

int cm_ctr_remove(struct cm_store *st, json_t *rec, bool force, struct cm_error *err)
{
	const char *id = cm_json_str(rec, "id"), *name = cm_json_str(rec, "name");
	enum cm_ctr_status now = cm_ctr_status_of(st, rec);
	if (now == CM_CTR_RUNNING) {
		if (!force)
			return cm_err(err, 0,
				      "container %s is running: stop it first or use rm -f", name);
		if (cm_ctr_stop(st, rec, 0, err) < 0)
			return cm_err_wrap(err, "remove %s", name);
	}
	wait_monitor_done(st, rec);
	cm_monitor_release_runtime(st, id);
	const char *netns = cm_json_str(json_object_get(rec, "config"), "netns");
	if (netns)
		cm_netns_remove(netns);
	if (cm_store_remove_ctr(st, id, err) < 0)
		return cm_err_wrap(err, "remove %s", name);
	/* images restore -i staged in memory, if its restore never used them up */
	cm_autofree char *mem = cm_mem_stage_of(st, cm_json_str(json_object_get(rec, "checkpoint"), "dir"));
	if (mem)
		cm_mem_stage_remove(mem, false);
	cm_store_forget_runtime_if_empty(st);
	return 0;
}

/* ---- after a crash -------------------------------------------------------- */

/* Staging folders (.import-*, .new-*, .rm-*) of a command that was killed:
 * nobody else can be using them while we hold the lock. */
static void clear_staging(struct cm_store *st, const char *sub)
{
	cm_autofree char *dir = cm_path_join(st->root, sub);
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		const char *n = de->d_name;
		if (strncmp(n, ".import-", 8) && strncmp(n, ".new-", 5) && strncmp(n, ".rm-", 4))
			continue;
		cm_autofree char *path = cm_path_join(dir, n);
		cm_autofree char *rootfs = cm_path_join(path, "rootfs");
		if (cm_rootfs_is_mounted(rootfs))
			umount2(rootfs, MNT_DETACH);
		cm_debug("removing %s, left by a command that was killed", path);
		cm_rm_rf(path, NULL);
	}
	if (d)
		closedir(d);
}

/* An address held by a container that does not run: ctrmig was killed
 * between CNI ADD and the container's start, or its monitor was killed. */
static void release_stale_network(struct cm_store *st, json_t *rec)
{
	const char *id = cm_json_str(rec, "id");
	if (!cm_ctr_net_attached(st, id) || cm_json_bool(rec, "launch_pending"))
		return;
	pid_t cpid, mpid;
	if (cm_monitor_read_launched(st, id, &cpid, &mpid) == 0)
		return; /* it runs (perhaps its starter died before saying so) */
	pid_t monitor = (pid_t)cm_json_int(rec, "monitor_pid", 0);
	if (monitor > 0 && cm_proc_alive(monitor, 0))
		return; /* it is releasing it now */
	pid_t pid = (pid_t)cm_json_int(rec, "pid", 0);
	if (!strcmp(cm_json_str(rec, "state"), "running") &&
	    cm_proc_alive(pid, (unsigned long long)cm_json_int(rec, "pid_start", 0)))
		return;
	cm_debug("releasing the network of %s, left by a command that was killed", cm_json_str(rec, "name"));
	cm_ctr_net_down(st, id);
}

/* A restore -i killed before its container ran leaves it checkpointed,
 * its images in a stage in memory that cannot outlive the command: it is
 * removed, as a failed restore -i removes it, and every stage of the store
 * with it, but one that a runc restore the killed command started still
 * reads, and those that restore --lazy's daemons still serve pages from. */
static void recover_mem_stages(struct cm_store *st, json_t *recs)
{
	json_t *rec;
	size_t i, n = 0;
	const char **keep = cm_malloc((json_array_size(recs) + 1) * sizeof(*keep));
	char **owned = cm_malloc((json_array_size(recs) + 1) * sizeof(*owned));
	json_array_foreach(recs, i, rec) {
		json_t *ckpt = json_object_get(rec, "checkpoint");
		char *mem = cm_mem_stage_of(st, cm_json_str(ckpt, "dir"));
		if (!mem)
			continue;
		enum cm_ctr_status now = cm_ctr_status_of(st, rec);
		cm_autofree char *runc_state = cm_path_join(st->runc_root, cm_json_str(rec, "id"));
		json_t *server = json_object_get(ckpt, "lazy_server");
		if (now == CM_CTR_RUNNING && server &&
		    cm_proc_alive((pid_t)cm_json_int(server, "pid", 0),
				  (unsigned long long)cm_json_int(server, "start", 0))) {
			/* restore --lazy's daemon still reads it; its keeper removes
			 * it once every page is in */
			keep[n] = owned[n] = mem;
			n++;
		} else if (now == CM_CTR_RUNNING || !cm_json_bool(ckpt, "restorable")) {
			free(mem);
		} else if (cm_path_exists(runc_state)) {
			keep[n] = owned[n] = mem; /* runc restore is still at it */
			n++;
		} else {
			cm_debug("removing %s: its restore -i was killed before it ran", cm_json_str(rec, "name"));
			if (cm_ctr_remove(st, rec, true, NULL) == 0 && cm_json_bool(rec, "image_imported"))
				cm_image_remove(st, cm_json_str(json_object_get(rec, "image"), "id"), NULL);
			free(mem);
		}
	}
	keep[n] = NULL;
	cm_mem_stage_recover(st, keep);
	for (i = 0; i < n; i++)
		free(owned[i]);
	free(owned);
	free(keep);
}

void cm_ctr_recover(struct cm_store *st)
{
	clear_staging(st, "containers");
	clear_staging(st, "images");
	cm_image_recover(st);
	json_t *recs = cm_store_list_ctrs(st, NULL), *rec;
	size_t i;
	json_array_foreach(recs, i, rec) {
		release_stale_network(st, rec);
		if (!cm_json_bool(rec, "launch_pending"))
			continue;
		struct cm_ctr_state s;
		cm_ctr_state_get(st, rec, &s); /* marks it running if it is */
		cm_ctr_state_free(&s);
		json_object_del(rec, "launch_pending");
		cm_store_save_ctr(st, rec, NULL);
	}
	recover_mem_stages(st, recs);
	json_decref(recs);
}
