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
 * so ctrmig has CRIU write it once on a private tmpfs, keeps it on a small
 * tmpfs of its own in /run/ctrmig (root's only; gone at reboot like CRIU's
 * own) and binds it onto /run/criu.kdat (a bind mount is gone at reboot too;
 * the empty file under it is taken as stale and removed by CRIU).
 */

#define RUN_FILE "/run/criu.kdat"
#define KEEP_DIR "/run/ctrmig/criu-kdat"
#define KEEP_FILE KEEP_DIR "/criu.kdat"
#define KEEP_ID KEEP_DIR "/criu-id"
/* a criu check that hangs must not hold every checkpoint on the host */
#define CHECK_TIMEOUT_S 20

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

/* The keeping folder: a 1 MiB tmpfs, mode 0700, inside /run/ctrmig (0700). */
static int keep_dir_open(void)
{
	if (cm_mkdir_p(KEEP_DIR, 0700, NULL) < 0)
		return -1;
	if (!on_tmpfs(KEEP_DIR) &&
	    mount("ctrmig-criu-kdat", KEEP_DIR, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=1m,mode=0700") < 0) {
		cm_debug("criu kdat: cannot mount a tmpfs on %s: %s", KEEP_DIR, strerror(errno));
		return -1;
	}
	return open(KEEP_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* In a mount namespace of its own with a tmpfs on /run, CRIU writes its
 * cache; the child copies it into the kept folder, which it reaches through
 * the folder's descriptor (its /run is another). Callers are single-threaded
 * here: the child allocates and spawns. */
static int write_cache(int dfd)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		alarm(CHECK_TIMEOUT_S);
		if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount("ctrmig-kdat", "/run", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=1m,mode=0755") < 0)
			_exit(1);
		char *argv[] = { "criu", "check", NULL };
		struct cm_spawn_result res;
		if (cm_spawn_capture(argv, &res, NULL) == 0)
			cm_spawn_result_free(&res);
		size_t len = 0;
		cm_autofree char *data = cm_read_file_max(RUN_FILE, 1 << 20, &len, NULL);
		int fd = data && len ? openat(dfd, "criu.kdat.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;
		bool ok = fd >= 0 && cm_write_all(fd, data, len) == 0 && fsync(fd) == 0;
		if (fd >= 0)
			close(fd);
		_exit(ok && renameat(dfd, "criu.kdat.tmp", dfd, "criu.kdat") == 0 ? 0 : 1);
	}
	int st = 0;
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* Our bind on /run/criu.kdat (a tmpfs file there, where /run is not one)
 * taken away, as before a rewrite: a CRIU must never read another's file. */
static void unbind_cache(void)
{
	while (on_tmpfs(RUN_FILE) && umount2(RUN_FILE, MNT_DETACH) == 0)
		;
}

/* /run/criu.kdat made the mount point of the kept file. */
static int bind_cache(void)
{
	unbind_cache();
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
	cm_autofree char *failed = cm_strfmt("failed %s", id);
	cm_autofree char *known = cm_read_file_max(KEEP_ID, 4096, NULL, NULL);
	if (known && ((!strcmp(known, id) && same_file(RUN_FILE, KEEP_FILE)) || !strcmp(known, failed)))
		return;
	int dfd = keep_dir_open();
	if (dfd < 0)
		return;
	/* Two ctrmigs at once: one writes, the other goes on without waiting
	 * (CRIU then probes for itself). */
	if (flock(dfd, LOCK_EX | LOCK_NB) == 0) {
		free(known);
		known = cm_read_file_max(KEEP_ID, 4096, NULL, NULL);
		bool fresh = known && !strcmp(known, id) && cm_path_exists(KEEP_FILE);
		if (!fresh) {
			/* another criu's file is neither bound nor kept meanwhile */
			unbind_cache();
			unlink(KEEP_ID);
			unlink(KEEP_FILE);
			fresh = write_cache(dfd) == 0;
			/* a criu that cannot write it is not asked again */
			const char *say = fresh ? id : failed;
			if (cm_write_file_atomic(KEEP_ID, say, strlen(say), 0600, NULL) < 0)
				fresh = false;
			if (!fresh)
				cm_debug("criu kdat: not kept for %s", id);
		}
		if (fresh && !same_file(RUN_FILE, KEEP_FILE) && bind_cache() < 0)
			cm_debug("criu kdat: cannot bind %s: %s", RUN_FILE, strerror(errno));
	}
	close(dfd);
}
