#include "netns.h"
#include "error.h"
#include "jsonio.h"
#include "proc_spawn.h"
#include "util.h"

#include <errno.h>
#include <libgen.h>
#include <linux/magic.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/statfs.h>

static int lo_up_here(struct cm_error *err)
{
	cm_autoclose int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sk < 0)
		return cm_err(err, errno, "socket");
	struct ifreq ifr = { 0 };
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(sk, SIOCGIFFLAGS, &ifr) < 0)
		return cm_err(err, errno, "read flags of lo");
	if (ifr.ifr_flags & IFF_UP)
		return 0;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(sk, SIOCSIFFLAGS, &ifr) < 0)
		return cm_err(err, errno, "bring lo up");
	return 0;
}

bool cm_netns_is_mounted(const char *path)
{
	struct statfs fs;
	return statfs(path, &fs) == 0 && fs.f_type == NSFS_MAGIC;
}

/* In the child: only the network is new, so the bind mount lands in the
 * host's mounts and outlives the child. */
static int make_netns(void *arg, char *msg, size_t msglen)
{
	const char *path = arg;
	struct cm_error e = { 0 };
	if (unshare(CLONE_NEWNET) < 0)
		snprintf(msg, msglen, "new network namespace: %s", strerror(errno));
	else if (lo_up_here(&e) < 0)
		snprintf(msg, msglen, "%s", e.msg);
	else if (mount("/proc/self/ns/net", path, NULL, MS_BIND, NULL) < 0)
		snprintf(msg, msglen, "mount it on %s: %s", path, strerror(errno));
	return *msg ? -1 : 0;
}

int cm_netns_create(const char *path, struct cm_error *err)
{
	if (cm_netns_is_mounted(path))
		return 0;
	cm_autofree char *copy = cm_strdup(path);
	if (cm_mkdir_p(dirname(copy), 0700, err) < 0)
		return -1;
	int fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return cm_err(err, errno, "create %s", path);
	close(fd);
	if (cm_fork_run(make_netns, (void *)path, "could not be made", err) < 0) {
		unlink(path);
		return cm_err_wrap(err, "network namespace");
	}
	return 0;
}

void cm_netns_remove(const char *path)
{
	umount2(path, MNT_DETACH);
	unlink(path);
}

int cm_netns_lo_up(int pid, struct cm_error *err)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	cm_autoclose int ns = open(path, O_RDONLY | O_CLOEXEC);
	if (ns < 0)
		return cm_err(err, errno, "open %s", path);
	/* The hook is a process of its own: moving it into the namespace is fine. */
	if (setns(ns, CLONE_NEWNET) < 0)
		return cm_err(err, errno, "enter network namespace of %d", pid);
	return lo_up_here(err);
}

int cm_netns_lo_up_hook(struct cm_error *err)
{
	char buf[65536];
	size_t len = 0;
	ssize_t n;
	while (len < sizeof(buf) && (n = read(STDIN_FILENO, buf + len, sizeof(buf) - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return cm_err(err, errno, "read the OCI state");
		len += (size_t)n;
	}
	json_t *state = cm_json_parse(buf, len, "OCI state", err);
	if (!state)
		return -1;
	int pid = (int)cm_json_int(state, "pid", 0);
	json_decref(state);
	if (pid <= 0)
		return cm_err(err, 0, "OCI state has no pid");
	return cm_netns_lo_up(pid, err);
}
