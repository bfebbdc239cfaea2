#include "lazy_pages.h"
#include "criu_kdat.h"
#include "ctr_cgroup.h"
#include "error.h"
#include "jsonio.h"
#include "page_server.h"
#include "proc_spawn.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

pid_t cm_lazy_serve_start(const char *images, const char *work, const char *remove,
			  const char *page_server, const char *cgroup, const char *archive,
			  struct cm_error *err)
{
	cm_autofree char *self = cm_self_exe(err);
	if (!self || cm_mkdir_p(work, 0700, err) < 0)
		return -1;
	cm_autofree char *sock = cm_path_join(work, "lazy-pages.socket");
	unlink(sock);
	struct cm_argv a = { 0 };
	cm_argv_add(&a, self);
	cm_argv_add(&a, "__lazy-serve");
	if (remove) {
		cm_argv_add(&a, "--rm");
		cm_argv_add(&a, remove);
	}
	if (page_server) {
		cm_argv_add(&a, "--page-server");
		cm_argv_add(&a, page_server);
	}
	if (cgroup) {
		cm_argv_add(&a, "--cgroup");
		cm_argv_add(&a, cgroup);
	}
	if (archive) {
		cm_argv_add(&a, "--archive");
		cm_argv_add(&a, archive);
	}
	cm_argv_add(&a, images);
	cm_argv_add(&a, work);
	pid_t pid;
	int ret = cm_spawn_fds(a.v, -1, -1, -1, -1, &pid, err);
	cm_argv_free(&a);
	if (ret < 0)
		return -1;
	/* the daemon says it is ready by listening */
	for (int i = 0; i < 500; i++) {
		if (cm_path_exists(sock))
			return pid;
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			cm_err(err, 0, "criu lazy-pages ended at once (see %s/lazy-pages.log)", work);
			return -1;
		}
		usleep(2000);
	}
	cm_lazy_serve_stop(pid);
	cm_err(err, 0, "criu lazy-pages did not listen within 1 s (see %s/lazy-pages.log)", work);
	return -1;
}

void cm_lazy_serve_stop(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
	}
}

/* restore --lazy -i FILE: ctrmig's page server (archive/page_server.h), in
 * a fork of the keeper, at one end of a socket pair whose other end the
 * daemon gets: no port, nothing another user can reach. */
struct archive_server {
	const char *images, *cgroup;
	json_t *lazy;
	int sv[2];
	struct cm_fork_job job; /* pid -1: not started */
};

/* The server's side: serves until the daemon closes. On failure it kills
 * the container before its end of the socket closes, so that the daemon
 * cannot give up first and leave the container reading zeros where pages
 * did not come in. */
static int serve(void *arg, char *msg, size_t msglen)
{
	struct archive_server *s = arg;
	close(s->sv[1]);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	struct cm_error e = { 0 };
	int ret = cm_page_server_run(s->sv[0], s->images, s->lazy, &e);
	if (ret < 0) {
		if (s->cgroup)
			cm_cgroup_kill_all(s->cgroup);
		snprintf(msg, msglen, "%s", e.msg);
	}
	cm_error_clear(&e);
	return ret;
}

/* Starts it from the record's lazy_archive, saved in json; the daemon's end
 * of the socket pair is *daemon_fd. */
static int server_start(struct archive_server *s, const char *json, int *daemon_fd)
{
	struct cm_error e = { 0 };
	s->lazy = cm_json_load(json, &e);
	int ret = s->lazy && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s->sv) == 0 &&
			  cm_fork_start(serve, s, &s->job, &e) == 0 ? 0 : -1;
	cm_error_clear(&e);
	json_decref(cm_steal_ptr(&s->lazy));
	if (s->sv[0] >= 0)
		close(s->sv[0]);
	*daemon_fd = s->sv[1];
	return ret;
}

/* Whether the server has ended, and *ok how, without reaping it
 * (cm_fork_finish does, and reads its message). */
static bool server_ended(const struct archive_server *s, bool *ok)
{
	siginfo_t si = { 0 };
	if (s->job.pid <= 0 || waitid(P_PID, (id_t)s->job.pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 ||
	    si.si_pid == 0)
		return false;
	*ok = si.si_code == CLD_EXITED && si.si_status == 0;
	return true;
}

/* Reaps the server, given tenths of a second to end on its own (it ends
 * when the daemon has closed; a read of the archive may still be under
 * way), else stopped. Whether it ended well; its failure goes to the log. */
static bool server_finish(struct archive_server *s, int tenths, const char *log)
{
	bool ok = false;
	if (s->job.pid <= 0)
		return true;
	for (int i = 0; i < tenths && !server_ended(s, &ok); i++)
		usleep(100 * 1000);
	if (!server_ended(s, &ok))
		kill(s->job.pid, SIGKILL);
	struct cm_error e = { 0 };
	ok = cm_fork_finish(&s->job, "stopped before the daemon had every page", &e) == 0;
	s->job.pid = -1;
	FILE *f = ok ? NULL : fopen(log, "ae");
	if (f) {
		fprintf(f, "ctrmig page server: %s\n", e.msg);
		fclose(f);
	}
	cm_error_clear(&e);
	return ok;
}

int cm_lazy_serve_main(int argc, char **argv)
{
	int i = 1;
	const char *remove = NULL;
	const char *page_server = NULL;
	if (i + 1 < argc && !strcmp(argv[i], "--rm")) {
		remove = argv[i + 1];
		i += 2;
	}
	if (i + 1 < argc && !strcmp(argv[i], "--page-server")) {
		page_server = argv[i + 1];
		i += 2;
	}
	const char *cgroup = NULL;
	if (i + 1 < argc && !strcmp(argv[i], "--cgroup")) {
		cgroup = argv[i + 1];
		i += 2;
	}
	const char *archive = NULL;
	if (i + 1 < argc && !strcmp(argv[i], "--archive")) {
		archive = argv[i + 1];
		i += 2;
	}
	if (argc - i != 2)
		return CM_EXIT_ERROR;
	const char *images = argv[i], *work = argv[i + 1];
	char address[256] = "";
	const char *port = NULL;
	if (page_server) {
		const char *colon = strrchr(page_server, ':');
		if (!colon || colon == page_server || (size_t)(colon - page_server) >= sizeof(address))
			return CM_EXIT_ERROR;
		memcpy(address, page_server, (size_t)(colon - page_server));
		port = colon + 1;
	}
	/* The folder this restore made: a later restore of the same id makes
	 * another at the same path, which is not ours to remove. */
	struct stat made;
	bool have_made = remove && stat(remove, &made) == 0;
	/* Outlive the restore that started us, out of its terminal's reach. */
	setsid();
	signal(SIGPIPE, SIG_IGN);
	cm_criu_kdat_keep();
	cm_autofree char *log = cm_path_join(work, "lazy-pages.log");
	struct cm_argv c = { 0 };
	const char *base[] = { "criu", "lazy-pages", "--images-dir", images, "--work-dir", work,
			       "-o", "lazy-pages.log", "-v2" };
	for (size_t k = 0; k < sizeof(base) / sizeof(base[0]); k++)
		cm_argv_add(&c, base[k]);
	if (page_server) {
		/* the pages come from the source's page server, not the images */
		cm_argv_add(&c, "--page-server");
		cm_argv_add(&c, "--address");
		cm_argv_add(&c, address);
		cm_argv_add(&c, "--port");
		cm_argv_add(&c, port);
	}
	/* A failed restore stops us (SIGTERM): the daemon goes with us. A
	 * child that ends wakes us at once (SIGCHLD): once the daemon is gone
	 * its userfaultfd is, and a page it did not bring in reads as zeros.
	 * Blocked before the server's fork, so that no signal comes between. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int daemon_fd = -1;
	struct archive_server server = { images, cgroup, NULL, { -1, -1 }, { -1, -1 } };
	if (archive) {
		if (server_start(&server, archive, &daemon_fd) < 0)
			return CM_EXIT_ERROR;
		cm_argv_add(&c, "--page-server");
		cm_argv_add(&c, "--ps-socket");
		cm_argv_add(&c, "3");
	}
	struct cm_error err = { 0 };
	pid_t pid;
	int logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	int started = cm_spawn_fds(c.v, -1, logfd, logfd, daemon_fd, &pid, &err);
	cm_argv_free(&c);
	if (logfd >= 0)
		close(logfd);
	if (daemon_fd >= 0)
		close(daemon_fd);
	if (started < 0) {
		server_finish(&server, 0, log);
		return CM_EXIT_ERROR;
	}
	int status = 0;
	bool server_ok = true;
	for (;;) {
		struct timespec ts = { 0, 200 * 1000 * 1000 };
		if (sigtimedwait(&set, NULL, &ts) == SIGTERM) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			server_finish(&server, 0, log);
			/* a container running by now would have holes in its memory */
			if (cgroup)
				cm_cgroup_kill_all(cgroup);
			return CM_EXIT_ERROR;
		}
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		/* a server that failed has killed the container; the daemon too */
		if (server_ended(&server, &server_ok) && !server_ok)
			kill(pid, SIGKILL);
	}
	/* Memory that cannot come in leaves holes no process may run with:
	 * the container dies (and a restore still waiting on it ends). */
	bool whole = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	whole = server_finish(&server, whole ? 50 : 0, log) && whole;
	if (!whole && cgroup)
		cm_cgroup_kill_all(cgroup);
	/* Every page is in, so the used-up checkpoint may go now, as a restore
	 * without --lazy lets it go at once. Not after a failure: a runc
	 * restore that failed ends the daemon too, and its checkpoint stays
	 * restorable (a stage left in memory goes with the next command that
	 * clears them, once this keeper is gone). */
	struct stat now;
	if (whole && have_made && stat(remove, &now) == 0 && now.st_ino == made.st_ino &&
	    now.st_dev == made.st_dev)
		cm_rm_rf(remove, NULL);
	if (!whole)
		return CM_EXIT_ERROR;
	return WIFEXITED(status) ? WEXITSTATUS(status) : CM_EXIT_ERROR;
}
