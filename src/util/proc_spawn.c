#include "proc_spawn.h"
#include "error.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>

extern char **environ;

static int spawn_with(char *const argv[], int fds[4], pid_t *pid, struct cm_error *err)
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
	rc = posix_spawnp(pid, argv[0], &fa, &attr, argv, environ);
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
	return spawn_with(argv, fds, pid, err);
}

int cm_spawn_capture(char *const argv[], struct cm_spawn_result *res, struct cm_error *err)
{
	int p[2];
	pid_t pid;

	memset(res, 0, sizeof(*res));
	if (pipe2(p, O_CLOEXEC) < 0)
		return cm_err(err, errno, "pipe");
	int fds[4] = { -1, p[1], p[1], -1 };
	if (spawn_with(argv, fds, &pid, err) < 0) {
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

int cm_fork_run(int (*fn)(void *arg, char *msg, size_t msglen), void *arg, const char *what,
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
	char msg[1024];
	ssize_t n = read(p[0], msg, sizeof(msg) - 1);
	close(p[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	msg[n > 0 ? n : 0] = '\0';
	return cm_err(err, 0, "%s", n > 0 ? msg : what);
}
