/* The first process of `ctrmig exec` inside the container, run by runc from
 * a memfd (argv[0] is /proc/self/fd/3, which it closes):
 *
 *   exec_helper fg|bg[+time=CAP,...] COMMAND [ARG...]
 *
 * +time: a restored container runs in the time namespace CRIU made for it,
 * which runc 1.1 does not join: CRIU cannot restore a tree whose tasks differ
 * in their time namespace. ctrmig gives the helper CAP_SYS_ADMIN,
 * CAP_SYS_PTRACE and CAP_SETPCAP in every set for joining it; the helper then clears the ambient
 * and inheritable sets (the container's spec has neither) and drops the
 * listed capabilities (those the container lacks) from the others, so that
 * the command has exactly the container's.
 *
 * fg: runs the command in its place.
 * bg: starts the command in a session of its own, with the container's
 * /dev/null as stdio, and exits, so that the container's init adopts it: CRIU
 * dumps the tree under init, and a process whose parent is outside the
 * container would be left out of a checkpoint and killed with it; runc's
 * pipes, which it copies until they close, must not stay open in it.
 *
 * Exit status: bg: 0 once the command runs; both: 127 when the command is
 * not found, 126 when it cannot be run (with a line on stderr), 125 for
 * another failure. Linked statically: the container need not have a C
 * library. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <string.h>
#include <stdbool.h>
#include <unistd.h>

static int status_of(int e)
{
	return e == ENOENT || e == ENOTDIR ? 127 : e == EACCES || e == ENOEXEC || e == EISDIR ? 126 : 125;
}

static int exec_failed(const char *cmd, int e)
{
	fprintf(stderr, "Error: exec %s: %s\n", cmd,
		e == ENOENT || e == ENOTDIR ? "no such command in the container" : strerror(e));
	return status_of(e);
}

/* Starts the command in the background; its exec's errno comes back through a CLOEXEC pipe. */
static int start(char **cmd, pid_t *pid)
{
	int p[2], e = 0;
	if (pipe2(p, O_CLOEXEC) < 0)
		return errno;
	*pid = fork();
	if (*pid < 0)
		return errno;
	if (*pid == 0) {
		close(p[0]);
		int null = open("/dev/null", O_RDWR);
		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
			goto fail;
		if (null > 2)
			close(null);
		setsid();
		execvp(cmd[0], cmd);
fail:
		e = errno;
		(void)!write(p[1], &e, sizeof(e));
		_exit(127);
	}
	close(p[1]);
	ssize_t n;
	while ((n = read(p[0], &e, sizeof(e))) < 0 && errno == EINTR)
		;
	close(p[0]);
	return n == (ssize_t)sizeof(e) ? e : 0;
}

static int drop_caps(const char *list)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	bool setpcap = false;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return -1;
	if (syscall(SYS_capget, &h, d) < 0)
		return -1;
	d[0].inheritable = d[1].inheritable = 0;
	for (const char *p = list; *p;) {
		char *end;
		long n = strtol(p, &end, 10);
		if (end == p || n < 0 || n > 63)
			return errno = EINVAL, -1;
		if (n == CAP_SETPCAP)
			setpcap = true; /* needed for the others: dropped last */
		else if (prctl(PR_CAPBSET_DROP, n, 0, 0, 0) < 0)
			return -1;
		d[n / 32].effective &= ~(1u << (n % 32));
		d[n / 32].permitted &= ~(1u << (n % 32));
		p = *end == ',' ? end + 1 : end;
	}
	if (setpcap && prctl(PR_CAPBSET_DROP, CAP_SETPCAP, 0, 0, 0) < 0)
		return -1;
	return syscall(SYS_capset, &h, d) < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	close(3); /* this program's own file, from the host */
	if (argc < 3)
		return 125;
	bool bg = !strncmp(argv[1], "bg", 2);
	const char *timens = strstr(argv[1], "+time=");
	char **cmd = argv + 2;
	if (timens) {
		int fd = open("/proc/1/ns/time", O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWTIME) < 0) {
			fprintf(stderr, "Error: exec %s: join the container's time namespace: %s\n", cmd[0],
				strerror(errno));
			return 125;
		}
		close(fd);
		if (drop_caps(timens + strlen("+time=")) < 0) {
			fprintf(stderr, "Error: exec %s: drop the helper's capabilities: %s\n", cmd[0],
				strerror(errno));
			return 125;
		}
	}
	if (!bg) {
		/* execve moves this process into the time namespace it joined for
		 * its children (Linux 5.11's exec_task_namespaces) */
		execvp(cmd[0], cmd);
		return exec_failed(cmd[0], errno);
	}
	pid_t pid;
	int e = start(cmd, &pid);
	return e ? exec_failed(cmd[0], e) : 0;
}
