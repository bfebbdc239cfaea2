#include "monitor.h"
#include "ctr_log.h"
#include "error.h"
#include "jsonio.h"
#include "ctr_net.h"
#include "netns.h"
#include "rootfs.h"
#include "runc.h"
#include "proc_spawn.h"
#include "store.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

#define SYNC_FD 3
#define PENDING_MAX 16384

/* ---- the launching side ------------------------------------------------ */

int cm_monitor_launch(struct cm_store *st, const char *id, char *const runc_argv[],
		      bool remove_on_exit, pid_t *ctr_pid, pid_t *monitor_pid,
		      struct cm_error *err)
{
	cm_autofree char *self = cm_self_exe(err);
	if (!self)
		return -1;
	struct cm_argv a = { 0 };
	cm_argv_add(&a, self);
	cm_argv_add(&a, "--root");
	cm_argv_add(&a, st->root);
	cm_argv_add(&a, "--runtime");
	cm_argv_add(&a, st->runtime);
	cm_argv_add(&a, "__monitor");
	if (remove_on_exit)
		cm_argv_add(&a, "--rm");
	cm_argv_add(&a, id);
	cm_argv_add(&a, "--");
	for (size_t i = 0; runc_argv[i]; i++)
		cm_argv_add(&a, runc_argv[i]);

	int sync[2];
	if (pipe2(sync, O_CLOEXEC) < 0) {
		cm_argv_free(&a);
		return cm_err(err, errno, "pipe");
	}
	pid_t pid;
	int ret = cm_spawn_fds(a.v, -1, -1, -1, sync[1], &pid, err);
	cm_argv_free(&a);
	close(sync[1]);
	if (ret < 0) {
		close(sync[0]);
		return -1;
	}
	/* The monitor forks at once and its first process exits: reap that one. */
	cm_spawn_wait(pid);

	char msg[8192];
	size_t len = 0;
	for (;;) {
		ssize_t r = read(sync[0], msg + len, sizeof(msg) - 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
		if (len == sizeof(msg) - 1)
			break;
	}
	close(sync[0]);
	msg[len] = '\0';
	int cpid, mpid;
	if (sscanf(msg, "ok %d %d", &cpid, &mpid) == 2) {
		*ctr_pid = cpid;
		*monitor_pid = mpid;
		return 0;
	}
	if (strncmp(msg, "error ", 6) == 0)
		return cm_err(err, 0, "%s", msg + 6);
	return cm_err(err, 0, "the container monitor exited before the container started");
}

/* ---- exit.json and runtime release -------------------------------------- */

int cm_monitor_read_exit(struct cm_store *st, const char *id, int *exit_code, char **finished_at)
{
	cm_autofree char *path = cm_store_ctr_path(st, id, "exit.json");
	if (!cm_path_exists(path))
		return -1;
	json_t *j = cm_json_load(path, NULL);
	if (!j)
		return -1;
	*exit_code = (int)cm_json_int(j, "exit_code", 255);
	if (finished_at) {
		const char *f = cm_json_str(j, "finished_at");
		*finished_at = f ? cm_strdup(f) : NULL;
	}
	json_decref(j);
	return 0;
}

int cm_monitor_write_exit(struct cm_store *st, const char *id, int exit_code)
{
	char now[40];
	cm_time_now(now);
	json_t *j = json_pack("{s:i, s:s}", "exit_code", exit_code, "finished_at", now);
	cm_autofree char *path = cm_store_ctr_path(st, id, "exit.json");
	int ret = cm_json_save(path, j, 0600, NULL);
	json_decref(j);
	return ret;
}

void cm_monitor_write_launched(struct cm_store *st, const char *id, pid_t ctr_pid)
{
	cm_autofree char *path = cm_store_ctr_path(st, id, "launched.json");
	json_t *j = json_pack("{s:i, s:I, s:i}", "pid", (int)ctr_pid, "pid_start",
			      (json_int_t)cm_proc_start_time(ctr_pid), "monitor_pid", (int)getpid());
	cm_json_save(path, j, 0600, NULL);
	json_decref(j);
}

int cm_monitor_read_launched(struct cm_store *st, const char *id, pid_t *ctr_pid, pid_t *monitor_pid)
{
	cm_autofree char *path = cm_store_ctr_path(st, id, "launched.json");
	json_t *j = cm_path_exists(path) ? cm_json_load(path, NULL) : NULL;
	if (!j)
		return -1;
	*ctr_pid = (pid_t)cm_json_int(j, "pid", 0);
	*monitor_pid = (pid_t)cm_json_int(j, "monitor_pid", 0);
	unsigned long long start = (unsigned long long)cm_json_int(j, "pid_start", 0);
	json_decref(j);
	return *ctr_pid > 0 && cm_proc_alive(*ctr_pid, start) ? 0 : -1;
}

void cm_monitor_clear_exit(struct cm_store *st, const char *id)
{
	cm_autofree char *path = cm_store_ctr_path(st, id, "exit.json");
	unlink(path);
}

void cm_monitor_release_runtime(struct cm_store *st, const char *id)
{
	struct cm_error err = { 0 };
	cm_autofree char *state = cm_strfmt("%s/%s", st->runc_root, id);
	if (cm_path_exists(state) && cm_runc_run(st, &err, "delete", "--force", id, NULL) < 0)
		cm_warn("%s", err.msg);
	cm_error_clear(&err);
	if (cm_rootfs_umount(st, id, &err) < 0)
		cm_warn("%s", err.msg);
	cm_error_clear(&err);
	/* DEL while the namespace exists, or bridge leaves its masquerade rules. */
	cm_ctr_net_down(st, id);
}

/* ---- the monitor process ------------------------------------------------ */

struct stream {
	const char *name;
	int fd;
	char buf[PENDING_MAX];
	size_t len;
};

/* Reads what is there; complete lines go to the log (or stay in buf while
 * runc has not succeeded yet, so that its errors never enter ctr.log). */
static void drain(struct stream *s, int log_fd, bool to_log)
{
	for (;;) {
		if (s->len == sizeof(s->buf)) {
			if (!to_log)
				return;
			cm_ctr_log_append(log_fd, s->name, s->buf, s->len, true);
			s->len = 0;
		}
		ssize_t n = read(s->fd, s->buf + s->len, sizeof(s->buf) - s->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			close(s->fd);
			s->fd = -1;
			break;
		}
		s->len += (size_t)n;
		if (!to_log)
			continue;
		long used = cm_ctr_log_append(log_fd, s->name, s->buf, s->len, false);
		if (used > 0) {
			memmove(s->buf, s->buf + used, s->len - (size_t)used);
			s->len -= (size_t)used;
		}
	}
}

static void flush_stream(struct stream *s, int log_fd)
{
	if (s->len)
		cm_ctr_log_append(log_fd, s->name, s->buf, s->len, true);
	s->len = 0;
}

static pid_t read_pid_file(struct cm_store *st, const char *id)
{
	cm_autofree char *path = cm_store_ctr_path(st, id, "bundle/pid");
	cm_autofree char *text = cm_read_file(path, NULL, NULL);
	return text ? (pid_t)atoi(text) : -1;
}

static void send_sync(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void send_sync(const char *fmt, ...)
{
	char *msg;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		cm_oom();
	va_end(ap);
	cm_write_all(SYNC_FD, msg, strlen(msg));
	free(msg);
	close(SYNC_FD);
}

static int status_code(int wstatus)
{
	return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
}

int cm_monitor_main(struct cm_store *st, int argc, char **argv)
{
	bool remove_on_exit = false;
	int i = 0;
	if (i < argc && !strcmp(argv[i], "--rm")) {
		remove_on_exit = true;
		i++;
	}
	if (i + 2 >= argc || strcmp(argv[i + 1], "--") != 0)
		return CM_EXIT_ERROR;
	const char *id = argv[i];
	char **runc_argv = argv + i + 2;

	/* Detach from the caller: the first process exits, the second lives on
	 * in its own session so that a terminal's hang-up does not reach it. */
	pid_t child = fork();
	if (child < 0)
		return CM_EXIT_ERROR;
	if (child > 0)
		_exit(0);
	setsid();
	prctl(PR_SET_CHILD_SUBREAPER, 1);

	cm_autofree char *mlog = cm_store_ctr_path(st, id, "monitor.log");
	int mfd = open(mlog, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (mfd >= 0) {
		dup2(mfd, STDERR_FILENO);
		close(mfd);
	}
	cm_autofree char *log_path = cm_store_ctr_path(st, id, "ctr.log");
	int log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (log_fd < 0) {
		send_sync("error open %s: %s", log_path, strerror(errno));
		return CM_EXIT_ERROR;
	}

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);

	int out[2], errp[2];
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		send_sync("error pipe: %s", strerror(errno));
		return CM_EXIT_ERROR;
	}
	pid_t runc_pid;
	struct cm_error err = { 0 };
	if (cm_spawn_fds(runc_argv, -1, out[1], errp[1], -1, &runc_pid, &err) < 0) {
		send_sync("error %s", err.msg);
		return CM_EXIT_ERROR;
	}
	close(out[1]);
	close(errp[1]);
	struct stream streams[2] = { { .name = "stdout", .fd = out[0] },
				     { .name = "stderr", .fd = errp[0] } };
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	fcntl(errp[0], F_SETFL, O_NONBLOCK);

	/* Children that end before we know which one is the container. */
	pid_t ended[64];
	int ended_status[64], n_ended = 0;
	pid_t ctr_pid = -1;
	int runc_status = -1, ctr_status = -1;
	bool started = false;

	for (;;) {
		if (started && ctr_status >= 0 && streams[0].fd < 0 && streams[1].fd < 0)
			break;
		struct pollfd pfd[3] = { { sfd, POLLIN, 0 },
					 { streams[0].fd, POLLIN, 0 },
					 { streams[1].fd, POLLIN, 0 } };
		/* Once the container is gone its pipes close soon; do not wait forever
		 * for a descendant that escaped with a copy of them. */
		int r = poll(pfd, 3, ctr_status >= 0 ? 2000 : -1);
		if (r < 0 && errno != EINTR)
			break;
		if (r == 0 && ctr_status >= 0)
			break;
		for (int s = 0; s < 2; s++)
			if (streams[s].fd >= 0 && (pfd[s + 1].revents & (POLLIN | POLLHUP | POLLERR)))
				drain(&streams[s], log_fd, started);
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == sizeof(si))
				; /* SIGTERM and friends are ignored: the monitor outlives them */
			int ws;
			pid_t p;
			while ((p = waitpid(-1, &ws, WNOHANG)) > 0) {
				if (p == runc_pid)
					runc_status = status_code(ws);
				else if (p == ctr_pid)
					ctr_status = status_code(ws);
				else if (n_ended < 64) {
					ended[n_ended] = p;
					ended_status[n_ended++] = status_code(ws);
				}
			}
		}
		if (!started && runc_status >= 0) {
			if (runc_status != 0) {
				drain(&streams[0], log_fd, false);
				drain(&streams[1], log_fd, false);
				char text[PENDING_MAX + 1];
				size_t l = streams[1].len ? streams[1].len : streams[0].len;
				memcpy(text, streams[1].len ? streams[1].buf : streams[0].buf, l);
				text[l] = '\0';
				cm_autofree char *line = cm_spawn_last_line(text);
				/* Released before the caller hears: it releases too, and
				 * two CNI DELs at once trip over each other. */
				cm_monitor_release_runtime(st, id);
				send_sync("error %s %s: %s", st->runtime, runc_argv[3],
					  *line ? line : "failed with no message");
				return CM_EXIT_ERROR;
			}
			ctr_pid = read_pid_file(st, id);
			if (ctr_pid <= 0) {
				send_sync("error %s %s wrote no pid file", st->runtime, runc_argv[3]);
				return CM_EXIT_ERROR;
			}
			for (int k = 0; k < n_ended; k++)
				if (ended[k] == ctr_pid)
					ctr_status = ended_status[k];
			started = true;
			/* Said before the caller hears it: a caller killed now leaves
			 * a running container that the next command can still find. */
			cm_monitor_write_launched(st, id, ctr_pid);
			send_sync("ok %d %d", (int)ctr_pid, (int)getpid());
			for (int s = 0; s < 2; s++)
				drain(&streams[s], log_fd, true);
		}
	}
	flush_stream(&streams[0], log_fd);
	flush_stream(&streams[1], log_fd);
	close(log_fd);

	cm_monitor_release_runtime(st, id);
	cm_monitor_write_exit(st, id, ctr_status >= 0 ? ctr_status : 255);
	if (remove_on_exit && cm_store_lock(st, &err) == 0) {
		cm_autofree char *netns = cm_store_netns_path(st, id);
		cm_netns_remove(netns); /* nothing there for a container without one */
		if (cm_store_remove_ctr(st, id, &err) < 0)
			cm_warn("%s", err.msg);
		cm_store_unlock(st);
	}
	return 0;
}
