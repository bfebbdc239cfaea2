/* The first process of `ctrmig exec -d` inside the container, run by runc
 * from a memfd (argv[0] is /proc/self/fd/3): it starts the command in a
 * session of its own and exits, so that the command's parent becomes the
 * container's init. CRIU dumps the process tree under init; a process whose
 * parent is outside the container (runc, then the host's reaper) would be
 * left out of a checkpoint and killed with the container. The command's
 * stdio is the container's /dev/null: runc's pipes, which it copies until
 * they close, must not stay open in it, nor may a file CRIU cannot dump.
 *
 * Exit status: 0 once the command runs, 127 when it is not found, 126 when
 * it cannot be run, 125 on any other failure. Linked statically: the
 * container's file system need not have a C library. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int p[2], e = 0;
	close(3); /* this program's own file, from the host */
	if (argc < 2 || pipe2(p, O_CLOEXEC) < 0)
		return 125;
	pid_t pid = fork();
	if (pid < 0)
		return 125;
	if (pid == 0) {
		close(p[0]);
		int null = open("/dev/null", O_RDWR);
		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0) {
			e = errno;
			(void)!write(p[1], &e, sizeof(e));
			_exit(125);
		}
		if (null > 2)
			close(null);
		setsid();
		execvp(argv[1], argv + 1);
		e = errno;
		(void)!write(p[1], &e, sizeof(e));
		_exit(127);
	}
	close(p[1]);
	ssize_t n;
	while ((n = read(p[0], &e, sizeof(e))) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(e))
		return 0; /* the pipe closed on exec: the command runs */
	return e == ENOENT || e == ENOTDIR ? 127 : e == EACCES || e == ENOEXEC || e == EISDIR ? 126 : 125;
}
