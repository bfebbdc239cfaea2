#include "netns.h"
#include "error.h"
#include "jsonio.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

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
