#include "proc_spawn.h"
#include "error.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <string.h>
#include <sys/wait.h>

extern char **environ;

static int spawn_with(char *const argv[], char *const envp[], int fds[4], pid_t *pid,
		      struct cm_error *err)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, dflt;
	int rc;

	posix_spawn_file_actions_init(&fa);
	for (int i = 0; i < 4; i++) {
		if (fds[i] >= 0)
			posix_spawn_file_actions_adddup2(&fa, fds[i], i);
		else if (i < 3)
			posix_spawn_file_actions_addopen(&fa, i, "/dev/null", i ? O_WRONLY : O_RDONLY, 0);
	}
	/* The child starts with an empty signal mask and default dispositions,
	 * whatever ctrmig itself blocked or ignored (SIGPIPE, SIGCHLD). */
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigfillset(&dflt);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &dflt);
	/* Its own process group: a Ctrl-C meant for ctrmig must not reach runc or
	 * CRIU half-way through a dump, with the container frozen. */
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
					       POSIX_SPAWN_SETPGROUP);
	rc = posix_spawnp(pid, argv[0], &fa, &attr, argv, envp ? envp : environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (rc != 0)
		return cm_err(err, rc, "run %s", argv[0]);
	return 0;
}

int cm_spawn_wait(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			return 255;
	}
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + WTERMSIG(st);
}

int cm_spawn_fds(char *const argv[], int in, int out, int errfd, int extra_fd, pid_t *pid,
		 struct cm_error *err)
{
	int fds[4] = { in, out, errfd, extra_fd };
	return spawn_with(argv, NULL, fds, pid, err);
}

int cm_spawn_capture(char *const argv[], struct cm_spawn_result *res, struct cm_error *err)
{
	int p[2];
	pid_t pid;

	memset(res, 0, sizeof(*res));
	if (pipe2(p, O_CLOEXEC) < 0)
		return cm_err(err, errno, "pipe");
	int fds[4] = { -1, p[1], p[1], -1 };
	if (spawn_with(argv, NULL, fds, &pid, err) < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	close(p[1]);
	size_t cap = 4096;
	res->output = cm_malloc(cap);
	for (;;) {
		if (res->output_len + 1 >= cap)
			res->output = cm_realloc(res->output, cap *= 2);
		ssize_t n = read(p[0], res->output + res->output_len, cap - res->output_len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		res->output_len += (size_t)n;
	}
	res->output[res->output_len] = '\0';
	close(p[0]);
	res->status = cm_spawn_wait(pid);
	return 0;
}

struct growing {
	char *buf;
	size_t len, cap;
};

/* Reads what fd has into g; returns false at the end (or an error). */
static bool read_some(int fd, struct growing *g)
{
	if (g->len + 4097 > g->cap)
		g->buf = cm_realloc(g->buf, g->cap = g->cap * 2 + 8192);
	ssize_t n = read(fd, g->buf + g->len, g->cap - g->len - 1);
	if (n < 0 && errno == EINTR)
		return true;
	if (n <= 0)
		return false;
	g->len += (size_t)n;
	return true;
}

int cm_spawn_io(char *const argv[], char *const envp[], struct cm_spawn_io *io, struct cm_error *err)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, errp[2] = { -1, -1 };
	io->out = io->errout = NULL;
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		int e = errno;
		for (int i = 0; i < 2; i++)
			close(in[i]), close(out[i]), close(errp[i]);
		return cm_err(err, e, "pipe");
	}
	int fds[4] = { in[0], out[1], errp[1], -1 };
	pid_t pid;
	int ret = spawn_with(argv, envp, fds, &pid, err);
	close(in[0]), close(out[1]), close(errp[1]);
	if (ret < 0) {
		close(in[1]), close(out[0]), close(errp[0]);
		return -1;
	}
	/* Write and read together: a child that answers before it has read all
	 * its input must not block us both. */
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	struct growing g[2] = { { 0 }, { 0 } };
	size_t written = 0;
	int wfd = in[1];
	if (io->input_len == 0)
		close(wfd), wfd = -1;
	struct pollfd pfd[3] = { { out[0], POLLIN, 0 }, { errp[0], POLLIN, 0 }, { wfd, POLLOUT, 0 } };
	while (pfd[0].fd >= 0 || pfd[1].fd >= 0) {
		pfd[2].fd = wfd;
		if (poll(pfd, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++)
			if (pfd[i].fd >= 0 && pfd[i].revents && !read_some(pfd[i].fd, &g[i])) {
				close(pfd[i].fd);
				pfd[i].fd = -1;
			}
		if (wfd >= 0 && pfd[2].revents) {
			ssize_t n = write(wfd, io->input + written, io->input_len - written);
			if (n > 0)
				written += (size_t)n;
			if ((n < 0 && errno != EAGAIN && errno != EINTR) || written == io->input_len)
				close(wfd), wfd = -1;
		}
	}
	if (wfd >= 0)
		close(wfd);
	for (int i = 0; i < 2; i++) {
		if (!g[i].buf)
			g[i].buf = cm_malloc(1);
		g[i].buf[g[i].len] = '\0';
	}
	io->out = g[0].buf;
	io->errout = g[1].buf;
	io->status = cm_spawn_wait(pid);
	return 0;
}

void cm_spawn_result_free(struct cm_spawn_result *res)
{
	free(res->output);
	res->output = NULL;
}

char *cm_spawn_last_line(const char *output)
{
	const char *end = output + strlen(output);
	while (end > output && (end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\r'))
		end--;
	const char *start = end;
	while (start > output && start[-1] != '\n')
		start--;
	char *line = cm_malloc((size_t)(end - start) + 1);
	memcpy(line, start, (size_t)(end - start));
	return line;
}

int cm_fork_start(int (*fn)(void *arg, char *msg, size_t msglen), void *arg, struct cm_fork_job *job,
		  struct cm_error *err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return cm_err(err, errno, "pipe");
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]), close(p[1]);
		return cm_err(err, errno, "fork");
	}
	if (pid == 0) {
		char msg[1024] = "";
		int ret = fn(arg, msg, sizeof(msg));
		if (ret < 0)
			cm_write_all(p[1], msg, strlen(msg));
		_exit(ret < 0 ? 1 : 0);
	}
	close(p[1]);
	job->pid = pid;
	job->fd = p[0];
	return 0;
}

int cm_fork_finish(struct cm_fork_job *job, const char *what, struct cm_error *err)
{
	char msg[1024];
	ssize_t n = read(job->fd, msg, sizeof(msg) - 1);
	close(job->fd);
	int status;
	while (waitpid(job->pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	msg[n > 0 ? n : 0] = '\0';
	return cm_err(err, 0, "%s", n > 0 ? msg : what);
}

int cm_fork_run(int (*fn)(void *arg, char *msg, size_t msglen), void *arg, const char *what,
		struct cm_error *err)
{
	struct cm_fork_job job;
	if (cm_fork_start(fn, arg, &job, err) < 0)
		return -1;
	return cm_fork_finish(&job, what, err);
}
