#include "monitor.h"
#include "attach.h"
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
#include <sys/ioctl.h>
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

/* What the monitor serves besides the log: attached clients, and the
 * container's terminal or stdin pipe they type into. */
struct io {
	struct cm_attach_server srv;
	bool serving;
	int master;  /* the pty master of a container with a terminal, or -1 */
	int stdin_w; /* the write end of its stdin with -i and no terminal, or -1 */
};

/* Reads what is there; complete lines go to the log (or stay in buf while
 * runc has not succeeded yet, so that its errors never enter ctr.log). Once
 * the container runs, attached clients get each read at once: a prompt has
 * no newline to wait for. */
static void drain(struct stream *s, int log_fd, bool to_log, struct io *io)
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
		if (n <= 0) { /* EIO: a terminal whose last process is gone */
			close(s->fd);
			s->fd = -1;
			break;
		}
		if (to_log && io->serving)
			cm_attach_server_broadcast(&io->srv, s->buf + s->len, (size_t)n);
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

/* ---- what attached clients do ---- */

static void client_input(void *arg, const uint8_t *data, size_t len)
{
	struct io *io = arg;
	int fd = io->master >= 0 ? io->master : io->stdin_w;
	while (fd >= 0 && len) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* a container not reading: the keystrokes are dropped */
		data += n;
		len -= (size_t)n;
	}
}

static void client_winsize(void *arg, unsigned rows, unsigned cols)
{
	struct io *io = arg;
	struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols };
	if (io->master >= 0)
		ioctl(io->master, TIOCSWINSZ, &ws);
}

static void client_close_stdin(void *arg)
{
	struct io *io = arg;
	if (io->stdin_w >= 0) {
		close(io->stdin_w);
		io->stdin_w = -1;
	}
}

/* The record's say on a terminal and an open stdin. */
static void read_io_config(struct cm_store *st, const char *id, bool *tty, bool *stdin_open)
{
	cm_autofree char *path = cm_store_ctr_path(st, id, "container.json");
	json_t *rec = cm_json_load(path, NULL);
	json_t *config = json_object_get(rec, "config");
	*tty = cm_json_bool(config, "tty");
	*stdin_open = cm_json_bool(config, "stdin_open");
	json_decref(rec);
}

enum { P_SIG, P_OUT, P_ERR, P_TTY, P_CONSOLE, P_ATTACH, P_CLIENT0, P_COUNT = P_CLIENT0 + CM_ATTACH_CLIENTS };

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
	signal(SIGPIPE, SIG_IGN);
	int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);

	bool tty, stdin_open;
	read_io_config(st, id, &tty, &stdin_open);
	struct io io = { .master = -1, .stdin_w = -1 };
	struct cm_error err = { 0 };
	cm_autofree char *attach_path = cm_store_socket_path(st, "attach", id);
	cm_autofree char *console_path = tty ? cm_store_socket_path(st, "console", id) : NULL;
	int console_fd = -1, stdin_r = -1;
	if (cm_attach_server_open(&io.srv, attach_path, &err) < 0 ||
	    (tty && (console_fd = cm_console_listen(console_path, &err)) < 0)) {
		send_sync("error %s", err.msg);
		return CM_EXIT_ERROR;
	}
	io.serving = true;
	if (stdin_open && !tty) {
		int in[2];
		if (pipe2(in, O_CLOEXEC) < 0) {
			send_sync("error pipe: %s", strerror(errno));
			return CM_EXIT_ERROR;
		}
		stdin_r = in[0];
		io.stdin_w = in[1];
	}

	int out[2], errp[2];
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		send_sync("error pipe: %s", strerror(errno));
		return CM_EXIT_ERROR;
	}
	pid_t runc_pid;
	if (cm_spawn_fds(runc_argv, stdin_r, out[1], errp[1], -1, &runc_pid, &err) < 0) {
		send_sync("error %s", err.msg);
		return CM_EXIT_ERROR;
	}
	if (stdin_r >= 0)
		close(stdin_r);
	close(out[1]);
	close(errp[1]);
	struct stream streams[3] = { { .name = "stdout", .fd = out[0] },
				     { .name = "stderr", .fd = errp[0] },
				     { .name = "stdout", .fd = -1 } };
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	fcntl(errp[0], F_SETFL, O_NONBLOCK);
	struct cm_attach_sink sink = { client_input, client_winsize, client_close_stdin, &io };

	/* Children that end before we know which one is the container. */
	pid_t ended[64];
	int ended_status[64], n_ended = 0;
	pid_t ctr_pid = -1;
	int runc_status = -1, ctr_status = -1;
	bool started = false;

	for (;;) {
		if (started && ctr_status >= 0 && streams[0].fd < 0 && streams[1].fd < 0 && streams[2].fd < 0)
			break;
		struct pollfd pfd[P_COUNT] = { [P_SIG] = { sfd, POLLIN, 0 },
					       [P_OUT] = { streams[0].fd, POLLIN, 0 },
					       [P_ERR] = { streams[1].fd, POLLIN, 0 },
					       [P_TTY] = { streams[2].fd, POLLIN, 0 },
					       [P_CONSOLE] = { console_fd, POLLIN, 0 },
					       [P_ATTACH] = { io.srv.listen_fd, POLLIN, 0 } };
		for (int c = 0; c < CM_ATTACH_CLIENTS; c++)
			pfd[P_CLIENT0 + c] = (struct pollfd){ io.srv.clients[c].fd, POLLIN, 0 };
		/* Once the container is gone its pipes close soon; do not wait forever
		 * for a descendant that escaped with a copy of them. */
		int r = poll(pfd, P_COUNT, ctr_status >= 0 ? 2000 : -1);
		if (r < 0 && errno != EINTR)
			break;
		if (r == 0 && ctr_status >= 0)
			break;
		for (int k = 0; k < 3; k++)
			if (streams[k].fd >= 0 && (pfd[P_OUT + k].revents & (POLLIN | POLLHUP | POLLERR)))
				drain(&streams[k], log_fd, started, &io);
		if (console_fd >= 0 && (pfd[P_CONSOLE].revents & POLLIN)) {
			struct cm_error cerr = { 0 };
			int m = cm_console_receive(console_fd, &cerr);
			if (m < 0)
				cm_warn("%s", cerr.msg);
			cm_error_clear(&cerr);
			if (m >= 0) {
				fcntl(m, F_SETFL, O_NONBLOCK);
				io.master = streams[2].fd = m;
				close(console_fd);
				console_fd = -1;
				unlink(console_path);
			}
		}
		if (pfd[P_ATTACH].revents & POLLIN)
			cm_attach_server_accept(&io.srv);
		for (int c = 0; c < CM_ATTACH_CLIENTS; c++)
			if (io.srv.clients[c].fd >= 0 && pfd[P_CLIENT0 + c].fd == io.srv.clients[c].fd &&
			    (pfd[P_CLIENT0 + c].revents & (POLLIN | POLLHUP | POLLERR)))
				cm_attach_server_read(&io.srv, c, &sink);
		if (pfd[P_SIG].revents & POLLIN) {
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
				drain(&streams[0], log_fd, false, &io);
				drain(&streams[1], log_fd, false, &io);
				char text[PENDING_MAX + 1];
				size_t l = streams[1].len ? streams[1].len : streams[0].len;
				memcpy(text, streams[1].len ? streams[1].buf : streams[0].buf, l);
				text[l] = '\0';
				cm_autofree char *line = cm_spawn_last_line(text);
				/* Released before the caller hears: it releases too, and
				 * two CNI DELs at once trip over each other. */
				cm_attach_server_close(&io.srv, attach_path);
				if (console_path)
					unlink(console_path);
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
			/* What came before runc finished goes out now, to log and clients. */
			for (int k = 0; k < 3; k++)
				if (streams[k].len && io.serving)
					cm_attach_server_broadcast(&io.srv, streams[k].buf, streams[k].len);
			/* Said before the caller hears it: a caller killed now leaves
			 * a running container that the next command can still find. */
			cm_monitor_write_launched(st, id, ctr_pid);
			send_sync("ok %d %d", (int)ctr_pid, (int)getpid());
			for (int k = 0; k < 3; k++)
				if (streams[k].fd >= 0)
					drain(&streams[k], log_fd, true, &io);
		}
	}
	for (int k = 0; k < 3; k++)
		flush_stream(&streams[k], log_fd);
	close(log_fd);
	/* Attached clients see the end; they read the exit status from exit.json. */
	cm_attach_server_close(&io.srv, attach_path);
	if (io.stdin_w >= 0)
		close(io.stdin_w);
	if (console_fd >= 0) {
		close(console_fd);
		unlink(console_path);
	}

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
