/* The one way ctrmig starts a program: posix_spawn with an argv array. */
#ifndef CM_PROC_SPAWN_H
#define CM_PROC_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

struct cm_error;

struct cm_spawn_result {
	int status;   /* exit status, or 128+signal */
	char *output; /* stdout and stderr, interleaved as they came */
	size_t output_len;
};

/* Runs argv with stdin from /dev/null, captures stdout+stderr, waits.
 * Returns -1 only when the program could not be started. */
int cm_spawn_capture(char *const argv[], struct cm_spawn_result *res, struct cm_error *err);
void cm_spawn_result_free(struct cm_spawn_result *res);

/* Runs argv with the environment envp (NULL: ctrmig's own), input written
 * to its stdin, and its stdout and stderr captured apart (a CNI plugin
 * answers on stdout and logs on stderr). Returns -1 only when the program
 * could not be started. */
struct cm_spawn_io {
	const char *input;
	size_t input_len;
	char *out, *errout; /* NUL-terminated, owned by the caller */
	int status;
};
int cm_spawn_io(char *const argv[], char *const envp[], struct cm_spawn_io *io, struct cm_error *err);

/* Starts argv with the given fds as its 0, 1, 2 (-1: /dev/null) and, when
 * extra_fd >= 0, as its fd 3. Does not wait. */
int cm_spawn_fds(char *const argv[], int in, int out, int errfd, int extra_fd, pid_t *pid,
		 struct cm_error *err);

/* Waits for pid; returns its exit status or 128+signal. */
int cm_spawn_wait(pid_t pid);

/* Runs fn(arg) in a forked copy of this process, for work that must not
 * touch this one (a chroot, a namespace of its own). fn fills msg and returns
 * -1 on failure; that message, or what, comes back in err. */
int cm_fork_run(int (*fn)(void *arg, char *msg, size_t msglen), void *arg, const char *what,
		struct cm_error *err);

/* cm_fork_run in two halves, for work done meanwhile: start forks, finish
 * waits and gives the child's message. */
struct cm_fork_job {
	pid_t pid;
	int fd;
};
int cm_fork_start(int (*fn)(void *arg, char *msg, size_t msglen), void *arg, struct cm_fork_job *job,
		  struct cm_error *err);
int cm_fork_finish(struct cm_fork_job *job, const char *what, struct cm_error *err);

/* The last line of a program's output that is not blank, for one-line errors. */
char *cm_spawn_last_line(const char *output);

#endif
