/* ctrmig exec: run a command in a running container (runc exec --process). */
#include "cli.h"
#include "container.h"
#include "ctr_cgroup.h"
#include "error.h"
#include "exec_spec.h"
#include "jsonio.h"
#include "proc_spawn.h"
#include "store.h"
#include "user.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char exec_usage[] =
	"Usage: ctrmig exec [OPTIONS] CONTAINER COMMAND [ARG...]\n"
	"       ctrmig exec [OPTIONS] -l COMMAND [ARG...]\n"
	"\n"
	"Run a command in a running container, with the container's environment,\n"
	"working folder, user and capabilities unless told otherwise. ctrmig exits\n"
	"with the command's status: 127 when it is not found, 126 when it cannot be\n"
	"run, 125 when ctrmig itself fails.\n"
	"\n"
	"Options:\n"
	"  -i, --interactive        keep standard input open (default: /dev/null)\n"
	"  -t, --tty                give the command a terminal (stdin must be one)\n"
	"  -d, --detach             run it in the background, as part of the container\n"
	"                           (a checkpoint saves it and a restore brings it back)\n"
	"  -e, --env KEY=VALUE      set an environment variable (repeatable)\n"
	"      --env-file FILE      read KEY=VALUE lines from FILE (repeatable)\n"
	"  -w, --workdir DIR        working folder (default: the container's)\n"
	"  -u, --user USER[:GROUP]  run as this user, a name in the container or a number\n"
	"      --privileged         every capability\n"
	"  -l, --latest             the newest container\n"
	"  -h, --help               show this help\n";

struct exec_args {
	bool interactive, tty, detach, privileged, latest;
	const char *workdir, *user;
	json_t *env;  /* --env-file lines and -e, in the order given */
	json_t *args; /* what runc runs: the command, behind the helper if any */
	bool helper, timens;
};

static int parse_args(int argc, char **argv, struct exec_args *a, struct cm_error *err)
{
	static const struct option longopts[] = {
		{ "interactive", no_argument, NULL, 'i' }, { "tty", no_argument, NULL, 't' },
		{ "detach", no_argument, NULL, 'd' },      { "env", required_argument, NULL, 'e' },
		{ "env-file", required_argument, NULL, 'F' }, { "workdir", required_argument, NULL, 'w' },
		{ "user", required_argument, NULL, 'u' },  { "privileged", no_argument, NULL, 'P' },
		{ "latest", no_argument, NULL, 'l' },      { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	/* '+': the command's own options are not ctrmig's */
	while ((c = cm_cli_getopt(argc, argv, "+itde:w:u:lh", longopts, exec_usage, err)) != -1) {
		switch (c) {
		case 'i':
			a->interactive = true;
			break;
		case 't':
			a->tty = true;
			break;
		case 'd':
			a->detach = true;
			break;
		case 'P':
			a->privileged = true;
			break;
		case 'l':
			a->latest = true;
			break;
		case 'e':
			if (!strchr(optarg, '=') || optarg[0] == '=')
				return cm_err(err, 0, "--env %s: expected KEY=VALUE", optarg);
			json_array_append_new(a->env, json_string(optarg));
			break;
		case 'F': {
			cm_autofree char *text = cm_read_file_max(optarg, 1 << 20, NULL, err);
			if (!text || cm_exec_env_file_parse(text, optarg, a->env, err) < 0)
				return cm_err_wrap(err, "--env-file");
			break;
		}
		case 'w':
			if (optarg[0] != '/')
				return cm_err(err, 0, "--workdir %s: must be an absolute path", optarg);
			a->workdir = optarg;
			break;
		case 'u':
			if (!*optarg || strlen(optarg) > 256)
				return cm_err(err, 0, "--user %s: expected USER[:GROUP]", optarg);
			a->user = optarg;
			break;
		case 'h':
			return 1;
		default:
			return -1;
		}
	}
	if (a->detach && a->tty)
		return cm_err(err, 0, "exec -d with -t is not supported yet: a detached command gets no terminal");
	if (a->detach && a->interactive)
		return cm_err(err, 0, "exec -d with -i: a detached command has no input to keep open");
	if (a->tty && !isatty(STDIN_FILENO))
		return cm_err(err, 0, "exec -t: the input device is not a TTY");
	int need = a->latest ? 1 : 2;
	if (argc - optind < need)
		return cm_err(err, 0, "exec takes %s and a command (see 'ctrmig exec --help')",
			      a->latest ? "-l" : "a container");
	return 0;
}

/* The process spec for this exec, from the container's own. */
static json_t *build_process(struct cm_store *st, json_t *rec, const struct exec_args *a,
			     json_t *args, struct cm_error *err)
{
	struct cm_exec_opts o = { .args = args, .env = a->env, .cwd = a->workdir,
				  .terminal = a->tty, .privileged = a->privileged,
				  .helper = a->helper, .detach = a->detach, .timens = a->timens };
	json_t *spec = cm_ctr_build_spec(st, rec, err);
	if (!spec)
		return NULL;
	if (a->user) {
		/* the container's own /etc/passwd, as it is now */
		cm_autofree char *rootfs = cm_store_ctr_path(st, cm_json_str(rec, "id"), "rootfs");
		const char *roots[] = { rootfs };
		struct cm_user u;
		if (cm_user_resolve(a->user, roots, 1, &u, err) < 0) {
			json_decref(spec);
			return NULL;
		}
		o.user_given = true;
		o.uid = u.uid;
		o.gid = u.gid;
		o.groups = u.groups;
	}
	json_t *p = cm_exec_process(json_object_get(spec, "process"), &o, err);
	json_decref(o.groups);
	json_decref(spec);
	return p;
}

/* ---- the foreground: the terminal goes to runc, signals are passed on ---- */

static volatile sig_atomic_t pending_signal;

static void remember_signal(int sig)
{
	pending_signal = sig;
}

/* runc runs in a process group of its own: when ctrmig owns the terminal,
 * runc's group takes it (a background group that reads from it, or sets it
 * raw, is stopped), and gets it back after. */
static bool give_terminal(pid_t pid)
{
	if (!isatty(STDIN_FILENO) || tcgetpgrp(STDIN_FILENO) != getpgrp())
		return false;
	if (tcsetpgrp(STDIN_FILENO, pid) < 0)
		return false;
	kill(pid, SIGCONT); /* in case it touched the terminal before it was its own */
	return true;
}

static void take_terminal_back(void)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	sigaction(SIGTTOU, &ign, &old);
	tcsetpgrp(STDIN_FILENO, getpgrp());
	sigaction(SIGTTOU, &old, NULL);
}

static int wait_foreground(pid_t pid)
{
	struct sigaction sa = { .sa_handler = remember_signal }, old[4];
	const int sigs[4] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	for (int i = 0; i < 4; i++)
		sigaction(sigs[i], &sa, &old[i]);
	bool has_terminal = give_terminal(pid);
	int status;
	for (;;) {
		pid_t r = waitpid(pid, &status, 0);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR) {
			status = 255 << 8;
			break;
		}
		if (pending_signal) { /* runc hands it on to the command */
			kill(pid, pending_signal);
			pending_signal = 0;
		}
	}
	if (has_terminal)
		take_terminal_back();
	for (int i = 0; i < 4; i++)
		sigaction(sigs[i], &old[i], NULL);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* A restored container runs in the time namespace CRIU made for it (its
 * clocks go on from the checkpoint's), which runc 1.1 does not join, and
 * runc itself must not run in it (it would misread the start time of the
 * container's init and call it stopped): the helper joins it. */
static bool in_own_time_ns(pid_t ctr_pid)
{
	cm_autofree char *path = cm_strfmt("/proc/%d/ns/time", (int)ctr_pid);
	struct stat theirs, ours;
	if (stat(path, &theirs) < 0 || stat("/proc/self/ns/time", &ours) < 0)
		return false; /* a kernel without time namespaces */
	return ours.st_ino != theirs.st_ino || ours.st_dev != theirs.st_dev;
}

/* Foreground: runc exec with the user's stdio (runc copies it through
 * pipes, or a terminal with -t); its status is the command's. Detached (-d):
 * the helper (helpers/exec_helper.c) starts the command with the container's
 * /dev/null as stdio, as an orphan that the container's init adopts, so that
 * a checkpoint saves it; runc returns once the helper has, with 0, 126 or
 * 127. The helper is runc's process whenever a.helper is set: it is passed
 * as fd 3 (--preserve-fds 1), from a memfd. */
static int spawn_runc(struct cm_store *st, json_t *rec, const struct exec_args *a, const char *pfile,
		      const char *log, struct cm_error *err)
{
	const char *id = cm_json_str(rec, "id"), *name = cm_json_str(rec, "name");
	int in = -1, out = STDOUT_FILENO, errfd = STDERR_FILENO;
	cm_autoclose int helper_fd = -1;
	if (a->detach)
		out = -1;
	else if (a->interactive || a->tty)
		in = STDIN_FILENO;
	if (a->helper && (helper_fd = cm_exec_helper_fd(err)) < 0)
		return cm_err_wrap(err, "exec %s", name);
	struct cm_argv argv = { 0 };
	cm_exec_argv(&argv, st->runtime, st->runc_root, log, pfile, a->helper ? 1 : 0, id);
	if (!a->detach)
		cm_store_unlock(st); /* a long session must not hold up other commands */
	pid_t pid;
	int ret = cm_spawn_fds(argv.v, in, out, errfd, helper_fd, &pid, err);
	cm_argv_free(&argv);
	if (ret < 0)
		return cm_err_wrap(err, "exec %s", name);
	int status = a->detach ? cm_spawn_wait(pid) : wait_foreground(pid);
	cm_autofree char *log_text = cm_read_file_max(log, 1 << 20, NULL, NULL);
	ret = cm_exec_status(status, log_text);
	cm_debug("exec %s: runc exit %d, status %d", name, status, ret);
	cm_autofree char *why = status == 255 ? cm_exec_runc_error(log_text) : NULL;
	if (why && ret == 125) /* runc has printed it too, and it was runc's failure */
		return cm_err(err, 0, "exec %s: %s", name, why);
	return ret;
}

static int run_exec(struct cm_store *st, json_t *rec, const struct exec_args *a, json_t *process,
		    struct cm_error *err)
{
	const char *id = cm_json_str(rec, "id"), *name = cm_json_str(rec, "name");
	cm_autofree char *stem = cm_strfmt("exec-%d", (int)getpid());
	cm_autofree char *file = cm_store_ctr_path(st, id, stem);
	cm_autofree char *pfile = cm_strfmt("%s.json", file), *log = cm_strfmt("%s.log", file);
	cm_autofree char *text = json_dumps(process, JSON_COMPACT);
	unlink(pfile), unlink(log); /* a pid's leftovers from a killed ctrmig */
	if (cm_write_file_new(pfile, text, strlen(text), 0600, err) < 0)
		return cm_err_wrap(err, "exec %s", name);
	int ret = spawn_runc(st, rec, a, pfile, log, err);
	unlink(pfile);
	unlink(log);
	return ret;
}

int cm_cmd_exec(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	struct exec_args a = { .env = json_array() };
	int ret = parse_args(argc, argv, &a, err);
	if (ret != 0) {
		json_decref(a.env);
		return ret < 0 ? -1 : 0;
	}
	int first = optind + (a.latest ? 0 : 1);
	json_t *recs = cm_cli_select_ctrs(st, false, a.latest, first - optind, argv + optind,
					  exec_usage, err);
	json_t *process = NULL;
	a.args = json_array();
	if (!recs) {
		ret = -1;
		goto out;
	}
	json_t *rec = json_array_get(recs, 0);
	a.timens = in_own_time_ns((pid_t)cm_json_int(rec, "pid", 0));
	a.helper = a.detach || a.timens;
	for (int i = first; i < argc; i++)
		json_array_append_new(a.args, json_string(argv[i]));
	const char *name = cm_json_str(rec, "name");
	enum cm_ctr_status now = cm_ctr_status_of(st, rec);
	if (now != CM_CTR_RUNNING) {
		ret = cm_err(err, 0, "exec %s: the container is %s, not running", name,
			     cm_ctr_status_name(now));
		goto out;
	}
	if (cm_cgroup_frozen((pid_t)cm_json_int(rec, "pid", 0))) {
		ret = cm_err(err, 0, "exec %s: the container is paused (ctrmig unpause %s)", name, name);
		goto out;
	}
	process = build_process(st, rec, &a, a.args, err);
	if (!process) {
		ret = cm_err_wrap(err, "exec %s", name);
		goto out;
	}
	ret = run_exec(st, rec, &a, process, err);
out:
	json_decref(process);
	json_decref(a.args);
	json_decref(recs);
	json_decref(a.env);
	return ret;
}
