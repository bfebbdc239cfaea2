#include "criu_kdat.h"
#include "criu.h"
#include "error.h"
#include "proc_spawn.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * CRIU probes the kernel each time it starts (~30 ms here) and keeps the
 * answers in /run/criu.kdat, but only where /run is a tmpfs: the file must
 * not outlive a reboot into another kernel. Where /run is a disk (as on some
 * VMs), every checkpoint, restore and lazy-pages daemon pays the probe, three
 * times within a lazy move's downtime. CRIU reads the file wherever it lies,
 * so ctrmig has CRIU write it once on a private tmpfs, keeps it on /dev/shm
 * (gone at reboot like CRIU's own) and binds it onto /run/criu.kdat (a bind
 * mount is gone at reboot too; the empty file under it is taken as stale and
 * removed by CRIU).
 */

#define RUN_FILE "/run/criu.kdat"
#define KEEP_DIR "/dev/shm/ctrmig-criu-kdat"
#define KEEP_FILE KEEP_DIR "/criu.kdat"
#define KEEP_ID KEEP_DIR "/criu-id"

static bool on_tmpfs(const char *path)
{
	struct statfs sf;
	return statfs(path, &sf) == 0 && sf.f_type == TMPFS_MAGIC;
}

static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* /dev/shm is everyone's: the folder counts only if root made it for this. */
static int keep_dir_open(void)
{
	if (mkdir(KEEP_DIR, 0700) < 0 && errno != EEXIST)
		return -1;
	int fd = open(KEEP_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat sb;
	if (fd >= 0 && (fstat(fd, &sb) < 0 || sb.st_uid != 0 || (sb.st_mode & 077))) {
		cm_debug("criu kdat: %s is not root's own; not kept", KEEP_DIR);
		close(fd);
		return -1;
	}
	return fd;
}

/* In a mount namespace of its own with a tmpfs on /run, CRIU writes its
 * cache; the child copies it into the kept folder (visible from there). */
static int write_cache(void)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount("ctrmig-kdat", "/run", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=1m,mode=0755") < 0)
			_exit(1);
		char *argv[] = { "criu", "check", NULL };
		struct cm_spawn_result res;
		if (cm_spawn_capture(argv, &res, NULL) == 0)
			cm_spawn_result_free(&res);
		size_t len = 0;
		cm_autofree char *data = cm_read_file_max(RUN_FILE, 1 << 20, &len, NULL);
		_exit(data && len && cm_write_file_atomic(KEEP_FILE, data, len, 0600, NULL) == 0 ? 0 : 1);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* /run/criu.kdat made the mount point of the kept file; a bind of an older
 * kept file (from before a new criu) is replaced. */
static int bind_cache(void)
{
	if (on_tmpfs(RUN_FILE) && umount2(RUN_FILE, MNT_DETACH) < 0)
		return -1;
	int fd = open(RUN_FILE, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	close(fd);
	return mount(KEEP_FILE, RUN_FILE, NULL, MS_BIND, NULL);
}

void cm_criu_kdat_keep(void)
{
	if (on_tmpfs("/run"))
		return; /* CRIU keeps it itself */
	cm_autofree char *id = cm_criu_identity();
	if (!id)
		return;
	cm_autofree char *known = cm_read_file_max(KEEP_ID, 4096, NULL, NULL);
	if (known && !strcmp(known, id) && same_file(RUN_FILE, KEEP_FILE))
		return;
	int dfd = keep_dir_open();
	if (dfd < 0)
		return;
	/* two ctrmigs at once: one writes, the other finds it done */
	if (flock(dfd, LOCK_EX) == 0) {
		free(known);
		known = cm_read_file_max(KEEP_ID, 4096, NULL, NULL);
		bool fresh = known && !strcmp(known, id) && cm_path_exists(KEEP_FILE);
		if (!fresh && write_cache() == 0)
			fresh = cm_write_file_atomic(KEEP_ID, id, strlen(id), 0600, NULL) == 0;
		if (fresh && !same_file(RUN_FILE, KEEP_FILE) && bind_cache() < 0)
			cm_debug("criu kdat: cannot bind %s: %s", RUN_FILE, strerror(errno));
	}
	close(dfd);
}
