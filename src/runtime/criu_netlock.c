#include "criu_netlock.h"
#include "error.h"
#include "proc_spawn.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int quietly(char *const argv[])
{
	struct cm_spawn_result r;
	if (cm_spawn_capture(argv, &r, NULL) < 0)
		return -1;
	int status = r.status;
	cm_spawn_result_free(&r);
	return status == 0 ? 0 : -1;
}

/* nftables: CRIU's table is "inet CRIU-<its run id>", cut to 31 characters,
 * so it is found by its prefix. */
static int unlock_nftables(void)
{
	char *list[] = { "nft", "list", "tables", NULL };
	struct cm_spawn_result r;
	if (cm_spawn_capture(list, &r, NULL) < 0)
		return -1;
	int ret = r.status == 0 ? 0 : -1;
	for (char *line = r.output; ret == 0 && line && *line;) {
		char *end = strchr(line, '\n');
		if (end)
			*end = '\0';
		char table[64];
		if (sscanf(line, "table inet %63s", table) == 1 && !strncmp(table, "CRIU-", 5)) {
			char *del[] = { "nft", "delete", "table", "inet", table, NULL };
			ret = quietly(del);
		}
		line = end ? end + 1 : NULL;
	}
	cm_spawn_result_free(&r);
	return ret;
}

/* iptables: CRIU's chain "CRIU" in filter, jumped to from INPUT and OUTPUT. */
static void unlock_iptables(const char *tool)
{
	char *steps[][7] = {
		{ (char *)tool, "-w", "-D", "INPUT", "-j", "CRIU", NULL },
		{ (char *)tool, "-w", "-D", "OUTPUT", "-j", "CRIU", NULL },
		{ (char *)tool, "-w", "-F", "CRIU", NULL },
		{ (char *)tool, "-w", "-X", "CRIU", NULL },
	};
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		quietly(steps[i]);
}

static int unlock_in_child(void *arg, char *msg, size_t msglen)
{
	const char *path = arg;
	int ns = open(path, O_RDONLY | O_CLOEXEC);
	if (ns < 0 || setns(ns, CLONE_NEWNET) < 0) {
		snprintf(msg, msglen, "enter %s: %s", path, strerror(errno));
		return -1;
	}
	close(ns);
	unlock_iptables("iptables");
	unlock_iptables("ip6tables");
	if (unlock_nftables() < 0) {
		snprintf(msg, msglen, "'nft' could not remove CRIU's table (is nftables installed?)");
		return -1;
	}
	return 0;
}

int cm_criu_network_unlock(pid_t pid, struct cm_error *err)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	return cm_fork_run(unlock_in_child, path, "CRIU's network lock stays", err);
}
