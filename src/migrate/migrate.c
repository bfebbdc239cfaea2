/* The plain migration: preflight, freeze, stream, confirm, remove here. */
#include "migrate.h"
#include "archive_io.h"
#include "checkpoint.h"
#include "container.h"
#include "criu.h"
#include "criu_conf.h"
#include "ctr_config.h"
#include "ctr_net.h"
#include "error.h"
#include "image.h"
#include "jsonio.h"
#include "page_relay.h"
#include "preflight.h"
#include "proc_spawn.h"
#include "store.h"
#include "target.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <signal.h>
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
	int in, out, errfd;
};

#define READY_TIMEOUT_MS 60000

static int remote_restore_finish(struct remote_restore *rr, struct cm_error *err);

/* Whether the target said "ready" on out (then it awaits the archive): a
 * line of its own, after whatever the remote shell's start-up printed.
 * 1: said; 0: its output ended first; -1: silent until the timeout. */
static int heard_ready(int out)
{
	char line[256];
	size_t got = 0;
	double deadline = cm_monotonic_seconds() + READY_TIMEOUT_MS / 1000.0;
	for (;;) {
		int left = (int)((deadline - cm_monotonic_seconds()) * 1000);
		struct pollfd p = { .fd = out, .events = POLLIN };
		int n = left > 0 ? poll(&p, 1, left) : 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		char c;
		ssize_t r = read(out, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return 0;
		if (c != '\n') {
			if (got < sizeof(line) - 1)
				line[got++] = c;
			continue;
		}
		line[got] = 0;
		if (!strcmp(line, "ready"))
			return 1;
		got = 0;
	}
}

static int remote_restore_start(const struct cm_mig_target *t, const struct cm_mig_opts *o,
				const char *page_server, struct remote_restore *rr, struct cm_error *err)
{
	const char *args[] = { "restore", "-i", "-", "--say-ready", NULL, NULL, NULL, NULL, NULL };
	size_t n = 4;
	if (page_server) {
		args[n++] = "--lazy-page-server";
		args[n++] = page_server;
	}
	if (o->tcp_established)
		args[n++] = "--tcp-established";
	if (o->file_locks)
		args[n++] = "--file-locks";
	int p[2], q[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return cm_err(err, errno, "pipe");
	if (pipe2(q, O_CLOEXEC) < 0) {
		close(p[0]), close(p[1]);
		return cm_err(err, errno, "pipe");
	}
	rr->errfd = memfd_create("ctrmig-migrate-stderr", MFD_CLOEXEC);
	if (rr->errfd < 0) {
		close(p[0]), close(p[1]), close(q[0]), close(q[1]);
		return cm_err(err, errno, "memfd_create");
	}
	struct cm_argv argv = { 0 };
	cm_mig_target_argv(t, args, &argv);
	int ret = cm_spawn_fds(argv.v, p[0], q[1], rr->errfd, -1, &rr->pid, err);
	cm_argv_free(&argv);
	close(p[0]);
	close(q[1]);
	if (ret < 0) {
		close(p[1]);
		close(q[0]);
		close(rr->errfd);
		return -1;
	}
	rr->in = p[1];
	rr->out = q[0];
	/* ssh's session and ctrmig's start there take ~0.1 s: before the
	 * freeze, not in the downtime nor competing with the dump for CPU */
	int heard = heard_ready(rr->out);
	if (heard != 1) {
		/* its output ended: its own reason; silent: ours */
		if (heard < 0)
			kill(rr->pid, SIGTERM);
		struct cm_error why = { 0 };
		if (remote_restore_finish(rr, &why) == 0 || heard < 0) {
			cm_error_clear(&why);
			if (heard < 0)
				return cm_err(err, 0, "the restore there did not say it was ready within %d s",
					      READY_TIMEOUT_MS / 1000);
			return cm_err(err, 0, "the restore there ended without saying it was ready");
		}
		*err = why;
		return -1;
	}
	return 0;
}

/* Ends the stream and waits; 0 when the target restored it, else -1 with
 * the target's reason. */
static int remote_restore_finish(struct remote_restore *rr, struct cm_error *err)
{
	if (rr->in >= 0)
		close(rr->in);
	rr->in = -1;
	if (rr->out >= 0)
		close(rr->out);
	rr->out = -1;
	int status = cm_spawn_wait(rr->pid);
	lseek(rr->errfd, 0, SEEK_SET);
	cm_autofree char *text = cm_read_fd_max(rr->errfd, "its messages", 1 << 20, NULL, NULL);
	close(rr->errfd);
	rr->errfd = -1;
	if (text && *text)
		cm_debug("the target's restore said: %s", text);
	if (status == 0)
		return 0;
	cm_autofree char *why = reason(text, status);
	return cm_err(err, 0, "the restore there failed: %s", why);
}

/* The stream's outcome: the local error if there is one, else the
 * target's (remote), which is taken or cleared. */
static int stream_outcome(int ret, int rret, struct cm_error *remote, struct cm_error *err)
{
	if (ret == 0 && rret < 0) {
		*err = *remote;
		return -1;
	}
	cm_error_clear(remote);
	return ret;
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

/* `__migrate-abort ID` there: NULL once the target has no copy, else why not. */
static char *clean_target(const struct cm_mig_target *t, const char *id)
{
	const char *args[] = { "__migrate-abort", id, NULL };
	struct cm_spawn_io io;
	struct cm_error e = { 0 };
	char *why = NULL;
	if (on_target(t, args, &io, &e) < 0 || io.status != 0)
		why = e.msg ? cm_strdup(e.msg) : reason(io.errout, io.status);
	free(io.out);
	free(io.errout);
	cm_error_clear(&e);
	return why;
}

/* After a failure past the freeze: clean the target, then restore here.
 * err holds the failure; it gets what became of the container. */
static void fall_back(struct cm_store *st, const char *id, const char *name,
		      const struct cm_mig_target *t, const struct cm_mig_opts *o, struct cm_error *err)
{
	cm_autofree char *msg = cm_strdup(err->msg);
	cm_autofree char *why = clean_target(t, id);
	cm_error_clear(err);
	if (why) {
		cm_err(err, 0, "%s; the target could not be cleaned (%s), so %s stays checkpointed here: once "
			       "it is sure not to run on %s, 'ctrmig restore %s' brings it back",
		       msg, why, name, t->display, name);
		return;
	}
	struct cm_error e = { 0 };
	json_t *rec = cm_store_find_ctr(st, id, &e);
	struct cm_restore_opts ro = { .tcp_established = o->tcp_established, .file_locks = o->file_locks };
	struct cm_ckpt_result r;
	if (rec && cm_ckpt_restore(st, rec, &ro, &r, &e) == 0)
		cm_err(err, 0, "%s; %s runs here again, the target has nothing", msg, name);
	else
		cm_err(err, 0, "%s; the target has nothing, but the restore here failed too (%s): %s "
			       "stays checkpointed here", msg, e.msg ? e.msg : "?", name);
	json_decref(rec);
	cm_error_clear(&e);
}

/* The container runs there: the local copy, checkpoint included, goes. */
static void remove_here(struct cm_store *st, const char *id, const char *name, const struct cm_mig_target *t)
{
	json_t *fresh = cm_store_find_ctr(st, id, NULL);
	struct cm_error e = { 0 };
	if (fresh && cm_ctr_remove(st, fresh, true, &e) < 0)
		cm_warn("%s runs on %s, but removing it here failed: %s ('ctrmig rm -f %s')", name,
			t->display, e.msg, name);
	cm_error_clear(&e);
	json_decref(fresh);
}

static int move_plain(struct cm_store *st, json_t *rec, const struct cm_mig_target *t,
		      const struct cm_mig_opts *o, struct cm_mig_result *res, struct cm_error *err)
{
	const char *id = cm_json_str(rec, "id"), *name = cm_json_str(rec, "name");
	struct remote_restore rr = { .in = -1, .out = -1, .errfd = -1 };
	if (remote_restore_start(t, o, NULL, &rr, err) < 0)
		return -1;
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
	if (ret < 0)
		runs_here = cm_ctr_status_of(st, rec) == CM_CTR_RUNNING;
	struct cm_error remote = { 0 };
	int rret = remote_restore_finish(&rr, &remote);
	res->downtime = cm_monotonic_seconds() - t0;
	if (runs_here) {
		/* The dump failed: CRIU let the container run on. */
		cm_error_clear(&remote);
		return -1;
	}
	ret = stream_outcome(ret, rret, &remote, err);
	if (ret == 0)
		ret = confirm(t, id, res, err);
	if (ret < 0) {
		fall_back(st, id, name, t, o, err);
		return -1;
	}
	remove_here(st, id, name, t);
	return 0;
}

static bool has_address(struct cm_store *st, json_t *rec)
{
	const char *id = cm_json_str(rec, "id");
	json_t *status = cm_ctr_net_attached(st, id) ? cm_ctr_net_status(st, id) : NULL;
	struct cm_net_address a;
	bool has = status && cm_net_status_address(status, &a) && *a.ip;
	json_decref(status);
	return has;
}

/* migrate --lazy, once the dump's images are complete and the container is
 * frozen: stream them, wait for the restore there (the end of the
 * downtime), confirm. The pages follow through the relay afterwards. */
struct lazy_move {
	struct cm_store *st;
	const struct cm_mig_target *t;
	const struct cm_mig_opts *o;
	struct cm_mig_result *res;
	struct remote_restore rr;
	struct cm_page_relay *relay;
	double t0;
	bool runs_there;
	bool hand_over; /* one host: the copy takes the frozen source's address */
	bool handed_over;
};

static int lazy_images_ready(void *arg, json_t *rec, struct cm_error *err)
{
	struct lazy_move *m = arg;
	cm_debug("migrate --lazy: images complete %.3fs after the freeze", cm_monotonic_seconds() - m->t0);
	if (m->hand_over) {
		/* even a DEL that failed half-way may have released it: a
		 * failure from here takes it back */
		m->handed_over = true;
		if (cm_ctr_net_hand_over(m->st, cm_json_str(rec, "id"), err) < 0) {
			cm_page_relay_abort(m->relay);
			return cm_err_wrap(err, "hand the address over");
		}
		cm_debug("migrate --lazy: address released %.3fs after the freeze", cm_monotonic_seconds() - m->t0);
	}
	struct cm_export_opts eo = { .fd = m->rr.in, .written = &m->res->bytes,
				     .compression = m->o->compression, .include_image = m->o->include_image };
	int ret = cm_archive_export(m->st, rec, &eo, err);
	cm_debug("migrate --lazy: archive sent %.3fs after the freeze", cm_monotonic_seconds() - m->t0);
	struct cm_error remote = { 0 };
	int rret = remote_restore_finish(&m->rr, &remote);
	m->res->downtime = cm_monotonic_seconds() - m->t0;
	ret = stream_outcome(ret, rret, &remote, err);
	m->runs_there = ret == 0 || rret == 0;
	if (ret == 0)
		ret = confirm(m->t, cm_json_str(rec, "id"), m->res, err);
	if (ret < 0)
		cm_page_relay_abort(m->relay);
	return ret;
}

static int move_lazy(struct cm_store *st, json_t *rec, const struct cm_mig_target *t,
		     const struct cm_mig_opts *o, struct cm_mig_result *res, struct cm_error *err)
{
	const char *id = cm_json_str(rec, "id"), *name = cm_json_str(rec, "name");
	int criu_port = cm_free_local_port(), relay_port, remote_port;
	if (criu_port < 0)
		return cm_err(err, errno, "find a free port on 127.0.0.1");
	struct lazy_move m = { .st = st, .t = t, .o = o, .res = res, .rr = { .in = -1, .out = -1, .errfd = -1 } };
	/* The frozen source holds its address until its last page has gone;
	 * on one host its copy needs it at once (same id, same address). */
	m.hand_over = res->same_host && has_address(st, rec);
	m.relay = cm_page_relay_start(criu_port, &relay_port, err);
	if (!m.relay)
		return -1;
	cm_autofree char *criu_at = cm_strfmt("127.0.0.1:%d", criu_port);
	cm_autofree char *there = NULL;
	int ret = cm_mig_target_forward(t, relay_port, &remote_port, err);
	if (ret == 0) {
		there = cm_strfmt("127.0.0.1:%d", remote_port);
		ret = remote_restore_start(t, o, there, &m.rr, err);
	}
	if (ret < 0) {
		cm_page_relay_abort(m.relay);
		cm_page_relay_finish(m.relay, NULL);
		return -1;
	}
	m.t0 = cm_monotonic_seconds();
	struct cm_ckpt_opts co = { .tcp_established = o->tcp_established, .file_locks = o->file_locks,
				   .lazy_page_server = criu_at, .images_ready = lazy_images_ready,
				   .images_ready_arg = &m };
	struct cm_ckpt_result cr;
	ret = cm_ckpt_dump(st, rec, &co, &cr, err);
	if (m.rr.in >= 0) {
		/* the dump failed before its images were complete */
		struct cm_error ignored = { 0 };
		remote_restore_finish(&m.rr, &ignored);
		cm_error_clear(&ignored);
		cm_page_relay_abort(m.relay);
	}
	bool whole = cm_page_relay_finish(m.relay, &res->page_bytes);
	res->checkpoint = cr.runtime_seconds;
	if (ret == 0 && whole) {
		remove_here(st, id, name, t);
		return 0;
	}
	if (ret == 0) {
		/* CRIU took the transfer for done and ended the container here,
		 * but the relay's word is missing (it died): the copy there is
		 * the only one, whatever it holds. It stays. */
		return cm_err(err, 0, "the page transfer's end was not seen (the page relay ended early): %s is "
				      "gone here; check its copy there ('ctrmig inspect %s' on %s)",
			      name, name, t->display);
	}
	/* CRIU let the container run on here: the copy there, if any, goes.
	 * Its memory has holes; this one is whole. */
	json_t *fresh = cm_store_find_ctr(st, id, NULL);
	enum cm_ctr_status now = cm_ctr_status_of(st, fresh ? fresh : rec);
	json_decref(fresh);
	if (now != CM_CTR_RUNNING) {
		/* not here either: whatever is there may be all that is left */
		cm_autofree char *msg = cm_strdup(err->msg);
		cm_error_clear(err);
		return cm_err(err, 0, "%s; %s is %s here, and its copy there, if any, was kept: check it "
				      "('ctrmig inspect %s' on %s)",
			      msg, name, cm_ctr_status_name(now), name, t->display);
	}
	cm_autofree char *why = clean_target(t, id);
	cm_autofree char *msg = cm_strdup(err->msg);
	cm_error_clear(err);
	/* its address back, once the copy there has let it go */
	struct cm_error e = { 0 };
	cm_autofree char *no_address = NULL;
	if (m.handed_over && !why && cm_ctr_net_take_back(st, rec, &e) < 0)
		no_address = cm_strfmt(", without its address (%s; 'ctrmig checkpoint %s && ctrmig restore %s' "
				       "takes it again)", e.msg, name, name);
	else if (m.handed_over && why)
		no_address = cm_strfmt(", without its address (once the copy there is removed, 'ctrmig "
				       "checkpoint %s && ctrmig restore %s' takes it again)", name, name);
	cm_error_clear(&e);
	return cm_err(err, 0, "%s; %s runs here again%s%s", msg, name, no_address ? no_address : "",
		      !m.runs_there ? ", the target has nothing"
		      : !why       ? ", its copy there was removed"
				   : ", but its copy there could not be removed: 'ctrmig rm -f' it there");
}

int cm_migrate(struct cm_store *st, json_t *rec, const struct cm_mig_target *t,
	       const struct cm_mig_opts *o, struct cm_mig_result *res, struct cm_error *err)
{
	const char *name = cm_json_str(rec, "name");
	double start = cm_monotonic_seconds();
	memset(res, 0, sizeof(*res));
	res->lazy = o->lazy;
	enum cm_ctr_status now = cm_ctr_status_of(st, rec);
	if (now != CM_CTR_RUNNING)
		return cm_err(err, 0, "migrate %s: the container is %s, not running", name,
			      cm_ctr_status_name(now));
	if (o->lazy && cm_mig_lazy_check(st, rec, err) < 0)
		return cm_err_wrap(err, "migrate %s --lazy", name);

	json_t *answer = NULL;
	if (cm_mig_preflight(st, rec, t, o->include_image, o->lazy, &answer, err) < 0)
		return cm_err_wrap(err, "migrate %s: %s", name, t->display);
	cm_autofree char *boot = cm_mig_boot_id();
	res->same_host = boot && !strcmp(boot, cm_json_str(answer, "boot_id"));
	/* Untrusted there, the archive gets only what a bare restore -i grants:
	 * see now what the restore there would refuse after the freeze. */
	if (!cm_json_bool(answer, "signer_trusted")) {
		struct cm_grant_opts none = { 0 };
		struct cm_error e = { 0 };
		json_t *granted = cm_config_grant(json_object_get(rec, "config"), &none, &e);
		json_decref(granted);
		if (!granted) {
			json_decref(answer);
			/* "the archive asks for X: give those flags, ..." */
			cm_autofree char *what = cm_strdup(e.msg ? e.msg : "?");
			char *cut = strstr(what, ": give those flags");
			if (cut)
				*cut = '\0';
			cm_error_clear(&e);
			return cm_err(err, 0, "migrate %s: %s does not trust this host's signing key, and without that "
					      "trust %s: 'ctrmig trust key' here prints the key, 'ctrmig trust add' "
					      "takes it there",
				      name, t->display, what);
		}
	}
	res->target_version = cm_strdup(cm_json_str(answer, "version"));
	json_decref(answer);
	res->preflight = cm_monotonic_seconds() - start;
	int ret = o->lazy ? move_lazy(st, rec, t, o, res, err) : move_plain(st, rec, t, o, res, err);
	if (ret < 0)
		return cm_err_wrap(err, "migrate %s to %s", name, t->display);
	res->total = cm_monotonic_seconds() - start;
	return 0;
}

/* CRIU's lazy page server makes a pipe of 819 pages (rounded up to 4 MiB),
 * and does not check that it got it: without CAP_SYS_RESOURCE and with the
 * kernel's default pipe-max-size (1 MiB), every page request then fails. */
static bool has_sys_resource(void)
{
	cm_autofree char *status = cm_read_file("/proc/self/status", NULL, NULL);
	const char *eff = status ? strstr(status, "\nCapEff:") : NULL;
	unsigned long long caps = eff ? strtoull(eff + 8, NULL, 16) : 0;
	return caps & (1ULL << 24); /* CAP_SYS_RESOURCE */
}

static int pipe_too_small(struct cm_error *err)
{
	enum { NEEDED = 4 << 20 };
	cm_autofree char *text = cm_read_file("/proc/sys/fs/pipe-max-size", NULL, NULL);
	long max = text ? strtol(text, NULL, 10) : 0;
	if (max >= NEEDED || has_sys_resource())
		return 0;
	return cm_err(err, 0, "CRIU's page server needs 4 MiB pipes, and this host allows %ld bytes without "
			      "CAP_SYS_RESOURCE: raise it ('sysctl fs.pipe-max-size=%d')",
		      max, (int)NEEDED);
}

int cm_mig_lazy_check(struct cm_store *st, json_t *rec, struct cm_error *err)
{
	if (!cm_criu_has_feature("uffd-noncoop"))
		return cm_err(err, 0, "this kernel has no userfaultfd with non-cooperative events "
				      "('criu check --feature uffd-noncoop' fails)");
	if (cm_criu_conf_ensure(st, err) < 0 || pipe_too_small(err) < 0)
		return -1;
	cm_autofree char *bundle = cm_store_ctr_path(st, cm_json_str(rec, "id"), "bundle/config.json");
	json_t *spec = cm_json_load(bundle, NULL);
	const char *conf = cm_json_str(json_object_get(spec, "annotations"), "org.criu.config");
	cm_autofree char *path = cm_strdup(conf ? conf : CM_RUNC_CRIU_CONF);
	json_decref(spec);
	cm_autofree char *text = cm_read_file(path, NULL, NULL);
	if (!text || !cm_criu_conf_page_server_local(text))
		return cm_err(err, 0, "CRIU's page server would listen on every interface: add the line "
				      "'address 127.0.0.1' to %s",
			      path);
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
