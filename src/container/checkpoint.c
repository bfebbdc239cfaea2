#include "checkpoint.h"
#include "container.h"
#include "criu_conf.h"
#include "ctr_net.h"
#include "criu_images.h"
#include "criu_kdat.h"
#include "criu_netlock.h"
#include "error.h"
#include "jsonio.h"
#include "lazy_pages.h"
#include "mem_stage.h"
#include "monitor.h"
#include "oci_spec.h"
#include "ports.h"
#include "proc_spawn.h"
#include "rootfs.h"
#include "runc.h"
#include "store.h"
#include "util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* ---- where things are ------------------------------------------------- */

bool cm_ckpt_name_valid(const char *name)
{
	if (!*name || !isalnum((unsigned char)name[0]) || strlen(name) > 128)
		return false;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_.-", *p))
			return false;
	return true;
}

char *cm_ckpt_named_parent(struct cm_store *st, json_t *rec, const char *parent_dir)
{
	if (parent_dir)
		return cm_strdup(parent_dir);
	return cm_store_ctr_path(st, cm_json_str(rec, "id"), "checkpoints");
}

/* Image and work folders for a dump: the container's own, or a named one
 * (whose CRIU log and statistics stay inside it, so that it is self-contained). */
static void dump_dirs(struct cm_store *st, json_t *rec, const char *name, const char *parent_dir,
		      bool pre, char **images, char **work)
{
	const char *id = cm_json_str(rec, "id");
	if (name) {
		cm_autofree char *parent = cm_ckpt_named_parent(st, rec, parent_dir);
		*images = cm_path_join(parent, name);
		*work = cm_strdup(*images);
	} else {
		*images = cm_store_ctr_path(st, id, pre ? "pre-checkpoint" : "checkpoint");
		*work = cm_store_ctr_path(st, id, pre ? "pre-checkpoint-work" : "checkpoint-work");
	}
}

/* ---- errors from CRIU --------------------------------------------------- */

/* runc only says "criu failed: type NOTIFY errno 0"; CRIU's log says why. */
static int criu_error(struct cm_error *err, const char *what, const char *log_path)
{
	cm_autofree char *text = cm_read_file(log_path, NULL, NULL);
	cm_autofree char *errors = text ? cm_criu_log_errors(text, 2) : NULL;
	if (!errors)
		return cm_err_wrap(err, "%s", what);
	cm_error_clear(err);
	return cm_err(err, 0, "%s: %s (full log: %s)", what, errors, log_path);
}

/* CRIU present, with its kernel probe kept for the start ahead. */
static int criu_ready(struct cm_error *err)
{
	if (!cm_criu_found())
		return cm_err(err, 0, "criu not found on PATH: run 'make deps' (scripts/install-deps.sh)");
	cm_criu_kdat_keep();
	return 0;
}

/* ---- checkpoint --------------------------------------------------------- */

struct saved_signals {
	struct sigaction intr, term, hup;
};

/* A dump is short and must not be cut in half: Ctrl-C and a cron job's
 * SIGTERM wait until it is done. (SIGKILL is handled by cm_ctr_state_get.) */
static void signals_hold(struct saved_signals *s)
{
	struct sigaction ign = { .sa_handler = SIG_IGN };
	sigaction(SIGINT, &ign, &s->intr);
	sigaction(SIGTERM, &ign, &s->term);
	sigaction(SIGHUP, &ign, &s->hup);
}

static void signals_release(const struct saved_signals *s)
{
	sigaction(SIGINT, &s->intr, NULL);
	sigaction(SIGTERM, &s->term, NULL);
	sigaction(SIGHUP, &s->hup, NULL);
}

static int check_dump_opts(struct cm_store *st, json_t *rec, const struct cm_ckpt_opts *o,
			   struct cm_error *err)
{
	const char *name = cm_json_str(rec, "name");
	enum cm_ctr_status now = cm_ctr_status_of(st, rec);
	if (now != CM_CTR_RUNNING)
		return cm_err(err, 0, "container %s is not running", name);
	if (o->pre_dump && o->with_previous)
		return cm_err(err, 0, "--pre-checkpoint and --with-previous do not go together");
	if (o->pre_dump && o->name)
		return cm_err(err, 0, "a named checkpoint cannot be a pre-checkpoint");
	if (criu_ready(err) < 0)
		return -1;
	if ((o->pre_dump || o->with_previous) && !cm_criu_has_feature("mem_dirty_track"))
		return cm_err(err, 0,
			      "%s needs the kernel's soft-dirty memory tracking, which this kernel "
			      "lacks ('criu check --feature mem_dirty_track' fails); a full checkpoint works",
			      o->pre_dump ? "--pre-checkpoint" : "--with-previous");
	if (o->with_previous) {
		cm_autofree char *pre = cm_store_ctr_path(st, cm_json_str(rec, "id"), "pre-checkpoint");
		if (!cm_criu_dump_complete(pre))
			return cm_err(err, 0, "container %s has no pre-checkpoint: run 'ctrmig checkpoint -P %s' first",
				      name, name);
	}
	if (o->name) {
		if (!cm_ckpt_name_valid(o->name))
			return cm_err(err, 0, "checkpoint name '%s' is not valid: use letters, digits, '_', '.', '-'",
				      o->name);
		cm_autofree char *parent = cm_ckpt_named_parent(st, rec, o->parent_dir);
		cm_autofree char *dir = cm_path_join(parent, o->name);
		if (cm_path_exists(dir))
			return cm_err(err, 0, "checkpoint %s of container %s already exists in %s", o->name,
				      name, parent);
	}
	return 0;
}

static void record_checkpoint(json_t *rec, const struct cm_ckpt_opts *o, const char *images)
{
	char now[40];
	cm_time_now(now);
	json_t *info = json_pack("{s:s, s:s, s:b, s:b, s:b, s:b}", "time", now, "dir", images,
				 "leave_running", o->leave_running, "tcp_established",
				 o->tcp_established, "file_locks", o->file_locks, "restorable", 1);
	if (o->name)
		json_object_set_new(info, "name", json_string(o->name));
	json_object_set_new(rec, o->pre_dump ? "pre_checkpoint" : "checkpoint", info);
}

/* runc checkpoint --lazy-pages: CRIU's status byte on fd 3 says the images
 * are complete and the page server listens; images_ready runs then, and the
 * dump goes on until the pages are taken. */
static int run_lazy_dump(char *const argv[], const struct cm_ckpt_opts *o, json_t *rec,
			 const char *images, struct cm_spawn_result *out, struct cm_error *err)
{
	memset(out, 0, sizeof(*out));
	int status[2], log = memfd_create("ctrmig-runc-checkpoint", MFD_CLOEXEC);
	if (log < 0)
		return cm_err(err, errno, "memfd_create");
	if (pipe2(status, O_CLOEXEC) < 0) {
		close(log);
		return cm_err(err, errno, "pipe");
	}
	pid_t pid;
	int ret = cm_spawn_fds(argv, -1, log, log, status[1], &pid, err);
	close(status[1]);
	if (ret == 0) {
		char byte;
		ssize_t n;
		while ((n = read(status[0], &byte, 1)) < 0 && errno == EINTR)
			;
		if (n == 1) {
			json_t *copy = json_deep_copy(rec);
			record_checkpoint(copy, o, images);
			ret = o->images_ready(o->images_ready_arg, copy, err);
			json_decref(copy);
		}
		out->status = cm_spawn_wait(pid);
		lseek(log, 0, SEEK_SET);
		out->output = cm_read_fd_max(log, "runc's messages", 1 << 20, &out->output_len, NULL);
	}
	close(status[0]);
	close(log);
	return ret;
}

/* After a failed page transfer CRIU lets the container run on here, with
 * its network still locked. */
static void unlock_after_lazy_failure(json_t *rec)
{
	pid_t pid = (pid_t)json_integer_value(json_object_get(rec, "pid"));
	struct cm_error e = { 0 };
	if (pid > 0 && kill(pid, 0) == 0 && cm_criu_network_unlock(pid, &e) < 0)
		cm_warn("%s runs here again, but %s", cm_json_str(rec, "name"), e.msg);
	cm_error_clear(&e);
}

int cm_ckpt_dump(struct cm_store *st, json_t *rec, const struct cm_ckpt_opts *o,
		 struct cm_ckpt_result *res, struct cm_error *err)
{
	const char *id = cm_json_str(rec, "id"), *name = cm_json_str(rec, "name");
	memset(res, 0, sizeof(*res));
	if (check_dump_opts(st, rec, o, err) < 0 || cm_criu_conf_ensure(st, err) < 0)
		return cm_err_wrap(err, "checkpoint %s", name);

	cm_autofree char *images = NULL, *work = NULL;
	dump_dirs(st, rec, o->name, o->parent_dir, o->pre_dump, &images, &work);
	cm_autofree char *previous = cm_strfmt("%s.old", images);
	cm_autofree char *log = cm_path_join(work, o->pre_dump ? "predump.log" : "dump.log");
	cm_autofree char *stats_path = cm_path_join(work, "stats-dump");
	bool stops = !o->leave_running && !o->pre_dump;

	/* A previous checkpoint is kept aside until the new one is complete. */
	cm_rm_rf(previous, NULL);
	if (!o->name && cm_path_exists(images) && rename(images, previous) < 0)
		return cm_err(err, errno, "checkpoint %s: move aside %s", name, images);
	if (!o->name)
		cm_rm_rf(work, NULL);
	if (cm_mkdir_p(images, 0700, err) < 0 || cm_mkdir_p(work, 0700, err) < 0)
		goto fail_restore_previous;

	/* If ctrmig dies from here on, a complete dump with the process gone
	 * means "checkpointed"; anything else leaves the container running. */
	json_object_set_new(rec, "checkpoint_pending", json_boolean(stops && !o->name));
	if (stops && !o->name && cm_store_save_ctr(st, rec, err) < 0)
		goto fail_restore_previous;

	struct cm_runc_ckpt_opts ro = { .image_path = images, .work_path = work,
					.leave_running = o->leave_running,
					.tcp_established = o->tcp_established,
					.file_locks = o->file_locks, .pre_dump = o->pre_dump,
					.parent_path = o->with_previous ? "../pre-checkpoint" : NULL };
	struct cm_argv a = { 0 };
	struct saved_signals saved;
	signals_hold(&saved);
	double t0 = cm_monotonic_seconds();
	struct cm_spawn_result out;
	int ret;
	bool lazy_failed = false;
	if (o->watch)
		o->watch(o->watch_arg, images);
	if (o->lazy_page_server) {
		ro.lazy_page_server = o->lazy_page_server;
		ro.status_fd = 3;
		cm_runc_argv_checkpoint(st, &a, id, &ro);
		ret = run_lazy_dump(a.v, o, rec, images, &out, err);
		lazy_failed = ret < 0;
	} else {
		cm_runc_argv_checkpoint(st, &a, id, &ro);
		ret = cm_spawn_capture(a.v, &out, err);
	}
	res->runtime_seconds = cm_monotonic_seconds() - t0;
	if (o->watch)
		o->watch(o->watch_arg, NULL);
	cm_debug("checkpoint %s: runc took %.3fs", name, res->runtime_seconds);
	cm_argv_free(&a);
	if (ret == 0 && out.status != 0) {
		cm_autofree char *line = cm_spawn_last_line(out.output);
		cm_err(err, 0, "%s", line);
		ret = -1;
	}
	cm_spawn_result_free(&out);
	json_object_del(rec, "checkpoint_pending");
	if (ret < 0 && o->lazy_page_server)
		unlock_after_lazy_failure(rec);
	if (ret < 0 && lazy_failed) {
		/* migrate's own reason: CRIU's log only says the transfer failed */
		signals_release(&saved);
		goto fail_save_record;
	}
	if (ret < 0) {
		signals_release(&saved);
		criu_error(err, "runc checkpoint", log);
		goto fail_save_record;
	}

	/* a lazy dump's statistics restart with its page server: not ours */
	res->has_stats = !o->lazy_page_server && cm_criu_stats_read(stats_path, &res->stats, NULL) == 0;
	if (!o->keep)
		unlink(log);
	record_checkpoint(rec, o, images);
	/* CRIU killed the container; its monitor tidies up on its own (runc
	 * delete, unmount, the address released) while this command returns:
	 * whatever runs the container next waits for that first. */
	if (stops)
		json_object_set_new(rec, "state", json_string("checkpointed"));
	if (stops && o->wait_released)
		cm_ctr_prepare_relaunch(st, rec);
	ret = cm_store_save_ctr(st, rec, err);
	cm_debug("checkpoint %s: record saved after %.3fs", name, cm_monotonic_seconds() - t0);
	signals_release(&saved);
	cm_rm_rf(previous, NULL);
	return ret < 0 ? cm_err_wrap(err, "checkpoint %s", name) : 0;

fail_save_record:
	cm_store_save_ctr(st, rec, NULL);
fail_restore_previous:
	if (o->name) {
		cm_rm_rf(images, NULL);
	} else if (cm_path_exists(previous)) {
		cm_rm_rf(images, NULL);
		rename(previous, images);
	}
	return cm_err_wrap(err, "checkpoint %s", name);
}

/* ---- restore ------------------------------------------------------------ */

/* The images a restore starts from: a named checkpoint, or the one the
 * record points at (the container's own, or its last named one). */
static char *restore_images(struct cm_store *st, json_t *rec, const struct cm_restore_opts *o)
{
	if (o->name) {
		cm_autofree char *parent = cm_ckpt_named_parent(st, rec, o->parent_dir);
		return cm_path_join(parent, o->name);
	}
	const char *dir = cm_json_str(json_object_get(rec, "checkpoint"), "dir");
	return dir ? cm_strdup(dir) : cm_store_ctr_path(st, cm_json_str(rec, "id"), "checkpoint");
}

/* Writes the runc config from the record and checks CRIU's images against
 * it before CRIU reads them: an archive's images cannot hold credentials,
 * limits or a process tree the config does not grant. */
static int check_images(struct cm_store *st, json_t *rec, const char *images, bool net_wait, bool remote_pages,
			struct cm_error *err)
{
	cm_autofree char *path = cm_store_ctr_path(st, cm_json_str(rec, "id"), "bundle/config.json");
	cm_autofree char *self = NULL;
	struct cm_criu_policy policy;
	json_t *spec = cm_ctr_build_spec(st, rec, err);
	int ret = spec ? 0 : -1;
	if (ret == 0 && net_wait) {
		if ((self = cm_self_exe(err)))
			cm_oci_spec_add_prestart(spec, self, "__net-wait");
		else
			ret = -1;
	}
	if (ret == 0)
		ret = cm_json_save(path, spec, 0600, err);
	if (ret == 0)
		ret = cm_criu_policy_from_spec(spec, &policy, err);
	policy.remote_pages = remote_pages;
	if (ret == 0 && cm_criu_images_check(images, &policy, err) < 0)
		ret = cm_err_wrap(err, "the checkpoint is refused");
	json_decref(spec);
	return ret < 0 ? -1 : 0;
}

/* -p on restore: the published ports from now on. */
static int net_ports(struct cm_store *st, json_t *rec, const struct cm_restore_opts *o, struct cm_error *err)
{
	if (!o->ports)
		return 0;
	json_t *ports = json_deep_copy(o->ports);
	json_object_set_new(json_object_get(rec, "config"), "ports", ports);
	if (cm_ports_assign(st, ports, cm_json_str(rec, "id"), err) < 0)
		return -1;
	return cm_store_save_ctr(st, rec, err);
}

struct net_job {
	struct cm_store *st;
	json_t *rec;
	const struct cm_restore_opts *o;
	const char *ctr_dir;
};

/* In the child: CNI ADD with the address the container had, then the word
 * for the hook. */
static int net_attach_child(void *arg, char *msg, size_t msglen)
{
	struct net_job *j = arg;
	struct cm_error e = { 0 };
	json_t *status = cm_ctr_net_status(j->st, cm_json_str(j->rec, "id"));
	struct cm_net_address a;
	struct cm_net_request req = { 0 };
	const char *net = cm_json_str(json_object_get(j->rec, "config"), "network");
	if (status && cm_net_status_address(status, &a) && net && !strcmp(a.network, net)) {
		if (!j->o->ignore_static_ip)
			req.ip = a.ip;
		if (!j->o->ignore_static_mac && *a.mac)
			req.mac = a.mac;
	}
	int ret = cm_ctr_net_attach(j->st, j->rec, &req, &e);
	json_decref(status);
	cm_net_ready_write(j->ctr_dir, ret < 0 ? e.msg : NULL);
	if (ret < 0)
		snprintf(msg, msglen, "%s", e.msg);
	return ret;
}

int cm_ckpt_restore(struct cm_store *st, json_t *rec, const struct cm_restore_opts *o,
		    struct cm_ckpt_result *res, struct cm_error *err)
{
	const char *id = cm_json_str(rec, "id"), *name = cm_json_str(rec, "name");
	memset(res, 0, sizeof(*res));
	struct cm_ctr_state s;
	cm_ctr_state_get(st, rec, &s);
	cm_ctr_state_free(&s);
	if (s.status == CM_CTR_RUNNING)
		return cm_err(err, 0, "restore %s: the container is running; stop it first", name);
	cm_autofree char *images = restore_images(st, rec, o);
	if (!cm_criu_dump_complete(images)) {
		if (o->name)
			return cm_err(err, 0, "restore %s: no checkpoint named %s in %s", name, o->name,
				      images);
		return cm_err(err, 0, "restore %s: the container has no checkpoint; run 'ctrmig checkpoint %s' first",
			      name, name);
	}
	if (criu_ready(err) < 0)
		return cm_err_wrap(err, "restore %s", name);
	if (o->lazy && !cm_criu_has_feature("uffd-noncoop"))
		return cm_err(err, 0, "restore %s: --lazy needs userfaultfd with non-cooperative events, which "
				      "this kernel lacks ('criu check --feature uffd-noncoop' fails)", name);
	/* restore --lazy -i FILE left the lazy memory in the archive: only a
	 * lazy restore, served from there, brings it back */
	json_t *in_archive = o->name ? NULL : json_object_get(json_object_get(rec, "checkpoint"), "lazy_archive");
	if (in_archive && (!o->lazy || o->lazy_page_server))
		return cm_err(err, 0, "restore %s: part of its memory is still in %s, where 'restore --lazy -i' "
				      "left it: restore it with --lazy", name, cm_json_str(in_archive, "file"));

	double t0 = cm_monotonic_seconds();
	cm_ctr_prepare_relaunch(st, rec);
	cm_debug("restore %s: previous monitor done after %.3fs", name, cm_monotonic_seconds() - t0);
	/* The network: the namespace now (runc opens it), the plugins in a
	 * child while this process checks the images, mounts the root and
	 * starts runc restore. CRIU waits at its setup-namespaces step, before
	 * it restores a socket, in the prestart hook that waits for the child's
	 * word (ctr_net.h). */
	cm_autofree char *ctr_dir = cm_store_ctr_dir(st, id);
	struct net_job nj = { st, rec, o, ctr_dir };
	struct cm_fork_job job;
	cm_net_ready_clear(ctr_dir);
	if (cm_store_runtime_dir(st, err) < 0 || net_ports(st, rec, o, err) < 0 ||
	    cm_ctr_net_prepare(st, rec, err) < 0)
		return cm_err_wrap(err, "restore %s", name);
	if (cm_fork_start(net_attach_child, &nj, &job, err) < 0) {
		cm_ctr_net_down(st, id);
		return cm_err_wrap(err, "restore %s", name);
	}
	int r = check_images(st, rec, images, true, o->lazy_page_server != NULL, err);
	if (r == 0)
		r = cm_rootfs_mount(st, id, cm_json_str(json_object_get(rec, "image"), "id"), err);
	if (r < 0) {
		struct cm_error ignored = { 0 };
		cm_fork_finish(&job, "", &ignored);
		cm_error_clear(&ignored);
		cm_net_ready_clear(ctr_dir);
		cm_monitor_release_runtime(st, id);
		return cm_err_wrap(err, "restore %s", name);
	}
	cm_debug("restore %s: spec and rootfs ready after %.3fs", name, cm_monotonic_seconds() - t0);
	cm_autofree char *work = cm_store_ctr_path(st, id, "restore-work");
	cm_autofree char *log = cm_path_join(work, "restore.log");
	cm_rm_rf(work, NULL);
	json_t *own = json_object_get(rec, "checkpoint");
	bool uses_up = !o->name && !o->keep && own && !cm_json_str(own, "name");
	pid_t lazy = -1;
	cm_autofree char *cgroup = cm_store_cgroup_path(st, id);
	/* images restore -i staged in memory go with their stage */
	cm_autofree char *mem = cm_mem_stage_of(st, images);
	const char *used_up = !uses_up ? NULL : mem ? mem : images;
	cm_autofree char *archive = in_archive ? cm_path_join(work, "lazy-archive.json") : NULL;
	if (cm_mkdir_p(work, 0700, err) < 0 || (archive && cm_json_save(archive, in_archive, 0600, err) < 0) ||
	    (o->lazy && (lazy = cm_lazy_serve_start(images, work, used_up, o->lazy_page_server, cgroup,
						    archive, err)) < 0)) {
		struct cm_error ignored = { 0 };
		cm_fork_finish(&job, "", &ignored);
		cm_error_clear(&ignored);
		cm_net_ready_clear(ctr_dir);
		cm_monitor_release_runtime(st, id);
		return cm_err_wrap(err, "restore %s", name);
	}

	cm_autofree char *bundle = cm_store_ctr_path(st, id, "bundle");
	cm_autofree char *pid_file = cm_store_ctr_path(st, id, "bundle/pid");
	cm_autofree char *console = cm_json_bool(json_object_get(rec, "config"), "tty")
					    ? cm_store_socket_path(st, "console", id) : NULL;
	struct cm_runc_restore_opts ro = { .image_path = images, .work_path = work,
					   .bundle = bundle, .pid_file = pid_file,
					   .tcp_established = o->tcp_established,
					   .file_locks = o->file_locks, .console_socket = console,
					   .lazy_pages = o->lazy };
	struct cm_argv a = { 0 };
	cm_runc_argv_restore(st, &a, id, &ro);
	/* Until the record says running, a killed ctrmig is settled from here. */
	json_object_set_new(rec, "launch_pending", json_true());
	/* Whose images these are now, for a command that clears what killed
	 * ones left: the lazy-pages daemon's keeper, while it lives. */
	if (lazy > 0 && used_up)
		json_object_set_new(own, "lazy_server", json_pack("{s:i, s:I}", "pid", (int)lazy, "start",
								  (json_int_t)cm_proc_start_time(lazy)));
	if (cm_store_save_ctr(st, rec, err) < 0) {
		cm_argv_free(&a);
		struct cm_error ignored = { 0 };
		cm_fork_finish(&job, "", &ignored);
		cm_error_clear(&ignored);
		cm_net_ready_clear(ctr_dir);
		cm_monitor_release_runtime(st, id);
		return cm_err_wrap(err, "restore %s", name);
	}
	pid_t pid, mpid;
	double t1 = cm_monotonic_seconds();
	int ret = cm_monitor_launch(st, id, a.v, false, &pid, &mpid, err);
	res->runtime_seconds = cm_monotonic_seconds() - t1;
	cm_debug("restore %s: runc restore took %.3fs", name, res->runtime_seconds);
	cm_argv_free(&a);
	struct cm_error net_err = { 0 };
	bool net_failed = cm_fork_finish(&job, "the network could not be set up", &net_err) < 0;
	if (net_failed) {
		/* runc's own error is then the hook's: say what the plugins said */
		if (ret == 0)
			cm_ctr_stop(st, rec, 0, NULL);
		cm_error_clear(err);
		*err = net_err;
		ret = -1;
	} else {
		cm_error_clear(&net_err);
	}
	cm_net_ready_clear(ctr_dir);
	if (ret < 0) {
		cm_lazy_serve_stop(lazy);
		json_object_del(rec, "launch_pending");
		cm_store_save_ctr(st, rec, NULL);
		cm_monitor_release_runtime(st, id);
		if (!net_failed)
			criu_error(err, "runc restore", log);
		return cm_err_wrap(err, "restore %s", name);
	}

	cm_autofree char *stats_path = cm_path_join(work, "stats-restore");
	res->has_stats = cm_criu_stats_read(stats_path, &res->stats, NULL) == 0;
	if (!o->keep)
		unlink(log);
	cm_ctr_mark_running(rec, pid, mpid);
	char now[40];
	cm_time_now(now);
	json_object_set_new(rec, "restored", json_true());
	json_object_set_new(rec, "restored_at", json_string(now));
	/* Like Podman, a restore uses up the container's own checkpoint unless
	 * --keep; named checkpoints stay until 'checkpoint rm', as in Docker. */
	json_t *ckpt = json_object_get(rec, "checkpoint");
	if (uses_up) {
		/* with --lazy, the lazy-pages daemon's keeper removes them once
		 * all pages are in */
		if (!o->lazy && mem)
			cm_mem_stage_remove(mem, true);
		else if (!o->lazy)
			cm_rm_rf_background(images, NULL);
		json_object_set_new(ckpt, "restorable", json_false());
	}
	if (cm_store_save_ctr(st, rec, err) < 0)
		return cm_err_wrap(err, "restore %s", name);
	cm_debug("restore %s: done after %.3fs", name, cm_monotonic_seconds() - t0);
	return 0;
}

/* ---- named checkpoints --------------------------------------------------- */

json_t *cm_ckpt_named_list(struct cm_store *st, json_t *rec, const char *parent_dir,
			   struct cm_error *err)
{
	cm_autofree char *parent = cm_ckpt_named_parent(st, rec, parent_dir);
	json_t *names = json_array();
	struct dirent **ents;
	int n = scandir(parent, &ents, NULL, alphasort);
	if (n < 0) {
		if (errno == ENOENT)
			return names;
		json_decref(names);
		cm_err(err, errno, "read %s", parent);
		return NULL;
	}
	for (int i = 0; i < n; i++) {
		cm_autofree char *dir = cm_path_join(parent, ents[i]->d_name);
		if (ents[i]->d_name[0] != '.' && cm_criu_dump_complete(dir))
			json_array_append_new(names, json_string(ents[i]->d_name));
		free(ents[i]);
	}
	free(ents);
	return names;
}

int cm_ckpt_named_remove(struct cm_store *st, json_t *rec, const char *parent_dir,
			 const char *name, struct cm_error *err)
{
	if (!cm_ckpt_name_valid(name))
		return cm_err(err, 0, "checkpoint name '%s' is not valid", name);
	cm_autofree char *parent = cm_ckpt_named_parent(st, rec, parent_dir);
	cm_autofree char *dir = cm_path_join(parent, name);
	if (!cm_criu_dump_complete(dir))
		return cm_err(err, 0, "container %s has no checkpoint named %s in %s",
			      cm_json_str(rec, "name"), name, parent);
	return cm_rm_rf(dir, err);
}
