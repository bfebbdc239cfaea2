/* helpers/exec_helper, built statically and carried inside ctrmig so that
 * exec needs no file installed beside it (see cmd_exec.c). */
#include "exec_spec.h"
#include "error.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

__asm__(".section .rodata\n"
	".balign 16\n"
	"cm_exec_helper_start:\n"
	".incbin \"build/exec_helper\"\n"
	"cm_exec_helper_end:\n"
	".previous\n");
extern const char cm_exec_helper_start[] __asm__("cm_exec_helper_start");
extern const char cm_exec_helper_end[] __asm__("cm_exec_helper_end");

int cm_exec_helper_fd(struct cm_error *err)
{
	cm_autoclose int mfd = memfd_create("ctrmig-exec-helper", MFD_CLOEXEC);
	if (mfd < 0)
		return cm_err(err, errno, "memfd_create");
	size_t len = (size_t)(cm_exec_helper_end - cm_exec_helper_start);
	if (cm_write_all(mfd, cm_exec_helper_start, len) < 0 || fchmod(mfd, 0755) < 0)
		return cm_err(err, errno, "write the exec helper");
	/* execve refuses a file open for writing (ETXTBSY): a read-only fd only */
	cm_autofree char *path = cm_strfmt("/proc/self/fd/%d", mfd);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cm_err(err, errno, "reopen the exec helper");
	return fd;
}
