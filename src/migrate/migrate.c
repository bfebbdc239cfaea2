/* The plain migration: preflight, freeze, stream, confirm, remove here. */
#include "migrate.h"
#include "archive_io.h"
#include "checkpoint.h"
#include "container.h"
#include "error.h"
#include "image.h"
#include "jsonio.h"
#include "preflight.h"
#include "proc_spawn.h"
#include "store.h"
#include "target.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

void cm_mig_result_free(struct cm_mig_result *res)
{
	free(res->target_version);
	free(res->ip);
}

/* `ctrmig ARGS` on the target, its output captured. */
static int on_target(const struct cm_mig_target *t, const char *const args[], struct cm_spawn_io *io,
		     struct cm_error *err)
{
	struct cm_argv argv = { 0 };
	cm_mig_target_argv(t, args, &argv);
	memset(io, 0, sizeof(*io));
	int ret = cm_spawn_io(argv.v, NULL, io, err);
	cm_argv_free(&argv);
	return ret;
}

static char *reason(const char *output, int status)
{
	cm_autofree char *line = cm_spawn_last_line(output ? output : "");
	const char *l = line && !strncmp(line, "Error: ", 7) ? line + 7 : line;
	if (status == 255)
		return cm_strfmt("the ssh connection failed%s%s", l && *l ? ": " : "", l ? l : "");
	return cm_strfmt("%s (exit %d)", l && *l ? l : "no message", status);
}

/* The streaming half: `restore -i -` started on the target before the
 * freeze (ssh's handshake is not downtime), reading from a pipe; its
 * stderr kept in memory for the reason of a failure. */
struct remote_restore {
	pid_t pid;
	int in, errfd;
};

static int remote_restore_start(const struct cm_mig_target *t, const struct cm_mig_opts *o,
				struct remote_restore *rr, struct cm_error *err)
{
	const char *args[] = { "restore", "-i", "-", NULL, NULL, NULL };
	size_t n = 3;
	if (o->tcp_established)
		args[n++] = "--tcp-established";
	if (o->file_locks)
		args[n++] = "--file-locks";
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return cm_err(err, errno, "pipe");
	rr->errfd = memfd_create("ctrmig-migrate-stderr", MFD_CLOEXEC);
	if (rr->errfd < 0) {
		close(p[0]), close(p[1]);
		return cm_err(err, errno, "memfd_create");
	}
	struct cm_argv argv = { 0 };
	cm_mig_target_argv(t, args, &argv);
	int ret = cm_spawn_fds(argv.v, p[0], -1, rr->errfd, -1, &rr->pid, err);
	cm_argv_free(&argv);
	close(p[0]);
	if (ret < 0) {
		close(p[1]);
		close(rr->errfd);
		return -1;
	}
	rr->in = p[1];
	return 0;
}

/* Ends the stream and waits; 0 when the target restored it, else -1 with
 * the target's reason. */
static int remote_restore_finish(struct remote_restore *rr, struct cm_error *err)
{
	if (rr->in >= 0)
		close(rr->in);
	rr->in = -1;
	int status = cm_spawn_wait(rr->pid);
	lseek(rr->errfd, 0, SEEK_SET);
	cm_autofree char *text = cm_read_fd_max(rr->errfd, "its messages", 1 << 20, NULL, NULL);
	close(rr->errfd);
	if (text && *text)
		cm_debug("the target's restore said: %s", text);
	if (status == 0)
		return 0;
	cm_autofree char *why = reason(text, status);
	return cm_err(err, 0, "the restore there failed: %s", why);
}

/* The container runs there: inspect by id says running. Its address there
 * goes into res. */
static int confirm(const struct cm_mig_target *t, const char *id, struct cm_mig_result *res,
		   struct cm_error *err)
{
	const char *args[] = { "inspect", id, NULL };
	struct cm_spawn_io io;
	if (on_target(t, args, &io, err) < 0)
		return cm_err_wrap(err, "inspect there");
	struct cm_error e = { 0 };
	json_t *j = io.status == 0 && io.out ? cm_json_parse(io.out, strlen(io.out), "inspect", &e) : NULL;
	cm_error_clear(&e);
	json_t *one = json_array_get(j, 0);
	const char *status = cm_json_str(json_object_get(one, "State"), "Status");
	int ret = 0;
	if (!status) {
		cm_autofree char *why = reason(io.errout, io.status);
		ret = cm_err(err, 0, "inspect there: %s", why);
	} else if (strcmp(status, "running")) {
		ret = cm_err(err, 0, "restored there, but it is %s", status);
	} else {
		const char *ip = cm_json_str(json_object_get(one, "NetworkSettings"), "IPAddress");
		res->ip = ip && *ip ? cm_strdup(ip) : NULL;
	}
	json_decref(j);
	free(io.out);
	free(io.errout);
	return ret;
}

/* After a failure past the freeze: clean the target, then restore here.
 * err holds the failure; it gets what became of the container. */
static void fall_back(struct cm_store *st, const char *id, const char *name,
		      const struct cm_mig_target *t, const struct cm_mig_opts *o, struct cm_error *err)
{
	const char *args[] = { "__migrate-abort", id, NULL };
	struct cm_spawn_io io;
	struct cm_error e = { 0 };
	cm_autofree char *msg = cm_strdup(err->msg);
	if (on_target(t, args, &io, &e) < 0 || io.status != 0) {
		cm_autofree char *why = e.msg ? cm_strdup(e.msg) : reason(io.errout, io.status);
		cm_error_clear(err);
		cm_err(err, 0, "%s; the target could not be cleaned (%s), so %s stays checkpointed here: once "
			       "it is sure not to run on %s, 'ctrmig restore %s' brings it back",
		       msg, why, name, t->display, name);
	} else {
		json_t *rec = cm_store_find_ctr(st, id, &e);
		struct cm_restore_opts ro = { .tcp_established = o->tcp_established, .file_locks = o->file_locks };
		struct cm_ckpt_result r;
		cm_error_clear(err);
		if (rec && cm_ckpt_restore(st, rec, &ro, &r, &e) == 0)
			cm_err(err, 0, "%s; %s runs here again, the target has nothing", msg, name);
		else
			cm_err(err, 0, "%s; the target has nothing, but the restore here failed too (%s): %s "
				       "stays checkpointed here", msg, e.msg ? e.msg : "?", name);
		json_decref(rec);
	}
	free(io.out);
	free(io.errout);
	cm_error_clear(&e);
}

int cm_migrate(struct cm_store *st, json_t *rec, const struct cm_mig_target *t,
	       const struct cm_mig_opts *o, struct cm_mig_result *res, struct cm_error *err)
{
	const char *id = cm_json_str(rec, "id"), *name = cm_json_str(rec, "name");
	double start = cm_monotonic_seconds();
	memset(res, 0, sizeof(*res));
	struct cm_ctr_state s;
	cm_ctr_state_get(st, rec, &s);
	cm_ctr_state_free(&s);
	if (s.status != CM_CTR_RUNNING)
		return cm_err(err, 0, "migrate %s: the container is %s, not running", name,
			      cm_ctr_status_name(s.status));

	json_t *answer = NULL;
	if (cm_mig_preflight(st, rec, t, o->include_image, &answer, err) < 0)
		return cm_err_wrap(err, "migrate %s: %s", name, t->display);
	cm_autofree char *boot = cm_mig_boot_id();
	res->same_host = boot && !strcmp(boot, cm_json_str(answer, "boot_id"));
	res->target_version = cm_strdup(cm_json_str(answer, "version"));
	json_decref(answer);
	res->preflight = cm_monotonic_seconds() - start;

	struct remote_restore rr = { .in = -1 };
	if (remote_restore_start(t, o, &rr, err) < 0)
		return cm_err_wrap(err, "migrate %s: %s", name, t->display);
	/* The freeze. On this host, the target's restore needs the address and
	 * the cgroup the source lets go of: the dump waits for that. */
	double t0 = cm_monotonic_seconds();
	struct cm_ckpt_opts co = { .tcp_established = o->tcp_established, .file_locks = o->file_locks,
				   .wait_released = res->same_host };
	struct cm_export_opts eo = { .fd = rr.in, .written = &res->bytes, .compression = o->compression,
				     .include_image = o->include_image };
	struct cm_ckpt_result cr;
	int ret = cm_archive_dump_export(st, rec, &co, &eo, &cr, err);
	res->checkpoint = cr.runtime_seconds;
	bool runs_here = false;
	if (ret < 0) {
		cm_ctr_state_get(st, rec, &s);
		cm_ctr_state_free(&s);
		runs_here = s.status == CM_CTR_RUNNING;
	}
	struct cm_error remote = { 0 };
	int rret = remote_restore_finish(&rr, &remote);
	res->downtime = cm_monotonic_seconds() - t0;
	if (runs_here) {
		/* The dump failed: CRIU let the container run on. */
		cm_error_clear(&remote);
		return cm_err_wrap(err, "migrate %s", name);
	}
	if (ret == 0 && rret < 0) {
		*err = remote;
		ret = -1;
	} else {
		cm_error_clear(&remote);
	}
	if (ret == 0)
		ret = confirm(t, id, res, err);
	if (ret < 0) {
		fall_back(st, id, name, t, o, err);
		return cm_err_wrap(err, "migrate %s to %s", name, t->display);
	}
	/* It runs there: the local copy, checkpoint included, goes. */
	json_t *fresh = cm_store_find_ctr(st, id, NULL);
	struct cm_error e = { 0 };
	if (fresh && cm_ctr_remove(st, fresh, true, &e) < 0)
		cm_warn("%s runs on %s, but removing it here failed: %s ('ctrmig rm -f %s')", name,
			t->display, e.msg, name);
	cm_error_clear(&e);
	json_decref(fresh);
	res->total = cm_monotonic_seconds() - start;
	return 0;
}

int cm_mig_abort_here(struct cm_store *st, const char *id, struct cm_error *err)
{
	json_t *rec = cm_store_find_ctr(st, id, NULL);
	if (!rec || strcmp(cm_json_str(rec, "id"), id)) {
		json_decref(rec);
		puts("absent");
		return 0;
	}
	int ret = cm_ctr_remove(st, rec, true, err);
	if (ret == 0 && cm_json_bool(rec, "image_imported"))
		cm_image_remove(st, cm_json_str(json_object_get(rec, "image"), "id"), NULL);
	json_decref(rec);
	if (ret == 0)
		puts("removed");
	return ret;
}
