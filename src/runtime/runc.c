#include "runc.h"
#include "error.h"
#include "proc_spawn.h"
#include "store.h"

#include <stdarg.h>
#include <string.h>

void cm_runc_argv_base(struct cm_store *st, struct cm_argv *a, const char *subcmd)
{
	cm_argv_add(a, st->runtime);
	cm_argv_add(a, "--root");
	cm_argv_add(a, st->runc_root);
	cm_argv_add(a, subcmd);
}

void cm_runc_argv_create(struct cm_store *st, struct cm_argv *a, const char *id,
			 const char *bundle, const char *pid_file, const char *console_socket)
{
	cm_runc_argv_base(st, a, "create");
	if (console_socket) {
		cm_argv_add(a, "--console-socket");
		cm_argv_add(a, console_socket);
	}
	cm_argv_add(a, "--bundle");
	cm_argv_add(a, bundle);
	cm_argv_add(a, "--pid-file");
	cm_argv_add(a, pid_file);
	cm_argv_add(a, id);
}

void cm_runc_argv_checkpoint(struct cm_store *st, struct cm_argv *a, const char *id,
			     const struct cm_runc_ckpt_opts *o)
{
	cm_runc_argv_base(st, a, "checkpoint");
	cm_argv_add(a, "--image-path");
	cm_argv_add(a, o->image_path);
	cm_argv_add(a, "--work-path");
	cm_argv_add(a, o->work_path);
	if (o->parent_path) {
		cm_argv_add(a, "--parent-path");
		cm_argv_add(a, o->parent_path);
	}
	if (o->lazy_page_server) {
		cm_argv_add(a, "--lazy-pages");
		cm_argv_add(a, "--page-server");
		cm_argv_add(a, o->lazy_page_server);
		cm_argv_add(a, "--status-fd");
		cm_argv_addf(a, "%d", o->status_fd);
	}
	if (o->pre_dump)
		cm_argv_add(a, "--pre-dump");
	else if (o->leave_running)
		cm_argv_add(a, "--leave-running");
	if (o->tcp_established)
		cm_argv_add(a, "--tcp-established");
	if (o->file_locks)
		cm_argv_add(a, "--file-locks");
	cm_argv_add(a, id);
}

void cm_runc_argv_restore(struct cm_store *st, struct cm_argv *a, const char *id,
			  const struct cm_runc_restore_opts *o)
{
	cm_runc_argv_base(st, a, "restore");
	cm_argv_add(a, "--detach");
	cm_argv_add(a, "--image-path");
	cm_argv_add(a, o->image_path);
	cm_argv_add(a, "--work-path");
	cm_argv_add(a, o->work_path);
	cm_argv_add(a, "--bundle");
	cm_argv_add(a, o->bundle);
	cm_argv_add(a, "--pid-file");
	cm_argv_add(a, o->pid_file);
	if (o->tcp_established)
		cm_argv_add(a, "--tcp-established");
	if (o->file_locks)
		cm_argv_add(a, "--file-locks");
	if (o->lazy_pages)
		cm_argv_add(a, "--lazy-pages");
	/* CRIU makes the terminal anew and runc hands its master over here
	 * (CRIU's orphan-pts-master, which runc asks for at checkpoint). */
	if (o->console_socket) {
		cm_argv_add(a, "--console-socket");
		cm_argv_add(a, o->console_socket);
	}
	cm_argv_add(a, id);
}

static int run_va(struct cm_store *st, char **output, struct cm_error *err, const char *subcmd,
		  va_list ap)
{
	struct cm_argv a = { 0 };
	cm_runc_argv_base(st, &a, subcmd);
	for (const char *arg; (arg = va_arg(ap, const char *));)
		cm_argv_add(&a, arg);
	struct cm_spawn_result res;
	int ret = cm_spawn_capture(a.v, &res, err);
	if (ret == 0 && res.status != 0) {
		cm_autofree char *line = cm_spawn_last_line(res.output);
		ret = cm_err(err, 0, "%s %s: %s", st->runtime, subcmd,
			     *line ? line : "failed with no message");
	}
	cm_debug("%s %s: exit %d", st->runtime, subcmd, ret == 0 ? 0 : res.status);
	if (ret == 0 && output)
		*output = cm_steal_ptr(&res.output);
	cm_spawn_result_free(&res);
	cm_argv_free(&a);
	return ret;
}

int cm_runc_run(struct cm_store *st, struct cm_error *err, const char *subcmd, ...)
{
	va_list ap;
	va_start(ap, subcmd);
	int ret = run_va(st, NULL, err, subcmd, ap);
	va_end(ap);
	return ret;
}

int cm_runc_output(struct cm_store *st, char **output, struct cm_error *err, const char *subcmd,
		   ...)
{
	va_list ap;
	va_start(ap, subcmd);
	int ret = run_va(st, output, err, subcmd, ap);
	va_end(ap);
	return ret;
}

char *cm_runc_version(struct cm_store *st)
{
	char *argv[] = { st->runtime, "--version", NULL };
	struct cm_spawn_result res;
	if (cm_spawn_capture(argv, &res, NULL) < 0)
		return NULL;
	char *line = NULL;
	if (res.status == 0) {
		char *nl = strchr(res.output, '\n');
		if (nl)
			*nl = '\0';
		line = cm_strdup(res.output);
	}
	cm_spawn_result_free(&res);
	return line;
}
