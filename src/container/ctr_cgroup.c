#include "ctr_cgroup.h"
#include "error.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Whether the comma-separated list holds word. */
static bool has_word(const char *list, size_t len, const char *word)
{
	size_t wl = strlen(word);
	for (const char *p = list, *end = list + len; p < end;) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		size_t l = (size_t)((comma ? comma : end) - p);
		if (l == wl && !strncmp(p, word, wl))
			return true;
		p += l + 1;
	}
	return false;
}

/* mountinfo: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [TAGS] - FSTYPE SOURCE SUPEROPTS".
 * The mount of the hierarchy (fstype cgroup with controller in its options,
 * or cgroup2): its root and mount point. */
static bool find_mount(const char *mountinfo, const char *controller, bool v2, char *root,
		       char *point, size_t len)
{
	for (const char *line = mountinfo; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t l = nl ? (size_t)(nl - line) : strlen(line);
		cm_autofree char *copy = cm_malloc(l + 1);
		memcpy(copy, line, l);
		copy[l] = '\0';
		line = nl ? nl + 1 : NULL;
		char r[4096], m[4096], fstype[64], super[1024] = "";
		const char *dash = strstr(copy, " - ");
		if (!dash || sscanf(copy, "%*s %*s %*s %4095s %4095s", r, m) != 2 ||
		    sscanf(dash + 3, "%63s %*s %1023s", fstype, super) < 1)
			continue;
		if (v2 ? strcmp(fstype, "cgroup2") != 0
		       : strcmp(fstype, "cgroup") != 0 || !has_word(super, strlen(super), controller))
			continue;
		snprintf(root, len, "%s", r);
		snprintf(point, len, "%s", m);
		return true;
	}
	return false;
}

char *cm_cgroup_dir_parse(const char *proc_cgroup, const char *mountinfo, const char *controller,
			  bool *v2)
{
	const char *v1_path = NULL, *v2_path = NULL;
	size_t v1_len = 0, v2_len = 0;
	for (const char *line = proc_cgroup; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t l = nl ? (size_t)(nl - line) : strlen(line);
		const char *c1 = memchr(line, ':', l);
		const char *c2 = c1 ? memchr(c1 + 1, ':', l - (size_t)(c1 + 1 - line)) : NULL;
		if (c2) {
			const char *path = c2 + 1;
			size_t plen = l - (size_t)(path - line);
			if (c2 == c1 + 1 && !strncmp(line, "0:", 2))
				v2_path = path, v2_len = plen;
			else if (has_word(c1 + 1, (size_t)(c2 - c1 - 1), controller))
				v1_path = path, v1_len = plen;
		}
		line = nl ? nl + 1 : NULL;
	}
	*v2 = !v1_path;
	const char *path = v1_path ? v1_path : v2_path;
	size_t plen = v1_path ? v1_len : v2_len;
	char root[4096], point[4096];
	if (!path || !find_mount(mountinfo, controller, *v2, root, point, sizeof(root)))
		return NULL;
	cm_autofree char *rel = cm_malloc(plen + 1);
	memcpy(rel, path, plen);
	rel[plen] = '\0';
	/* a hierarchy mounted from below its top (in a container) shows that part only */
	size_t rl = strcmp(root, "/") ? strlen(root) : 0;
	if (rl && (strncmp(rel, root, rl) || (rel[rl] && rel[rl] != '/')))
		return NULL;
	return cm_strfmt("%s%s", point, rel + rl);
}

char *cm_cgroup_dir(pid_t pid, const char *controller, bool *v2)
{
	cm_autofree char *path = cm_strfmt("/proc/%d/cgroup", (int)pid);
	cm_autofree char *cg = cm_read_file_max(path, 1 << 16, NULL, NULL);
	cm_autofree char *mi = cg ? cm_read_file_max("/proc/self/mountinfo", 1 << 22, NULL, NULL) : NULL;
	return mi ? cm_cgroup_dir_parse(cg, mi, controller, v2) : NULL;
}

static char *read_in(const char *dir, const char *file)
{
	cm_autofree char *path = cm_path_join(dir, file);
	return cm_read_file_max(path, 1 << 16, NULL, NULL);
}

/* "key value" lines (memory.stat, cpu.stat, cgroup.events). */
static bool keyed(const char *text, const char *key, unsigned long long *out)
{
	size_t kl = strlen(key);
	for (const char *line = text; line && *line;) {
		if (!strncmp(line, key, kl) && line[kl] == ' ')
			return sscanf(line + kl, "%llu", out) == 1;
		line = strchr(line, '\n');
		line = line ? line + 1 : NULL;
	}
	return false;
}

bool cm_cgroup_frozen(pid_t pid)
{
	bool v2;
	cm_autofree char *dir = cm_cgroup_dir(pid, "freezer", &v2);
	cm_autofree char *text = dir ? read_in(dir, v2 ? "cgroup.events" : "freezer.state") : NULL;
	unsigned long long frozen = 0;
	if (!text)
		return false;
	if (v2)
		return keyed(text, "frozen", &frozen) && frozen == 1;
	return !strncmp(text, "FROZEN", 6) || !strncmp(text, "FREEZING", 8);
}

static bool number_in(const char *dir, const char *file, unsigned long long *out)
{
	cm_autofree char *text = dir ? read_in(dir, file) : NULL;
	return text && sscanf(text, "%llu", out) == 1;
}

int cm_cgroup_stats(pid_t pid, struct cm_cgroup_stats *out, struct cm_error *err)
{
	memset(out, 0, sizeof(*out));
	bool v2;
	cm_autofree char *cpu = cm_cgroup_dir(pid, "cpuacct", &v2);
	if (!cpu)
		return cm_err(err, 0, "no cgroup found for process %d", (int)pid);
	if (v2) {
		cm_autofree char *stat = read_in(cpu, "cpu.stat");
		unsigned long long usec = 0;
		if (stat && keyed(stat, "usage_usec", &usec))
			out->cpu_ns = usec * 1000;
	} else if (!number_in(cpu, "cpuacct.usage", &out->cpu_ns)) {
		return cm_err(err, errno, "read %s/cpuacct.usage", cpu);
	}
	cm_autofree char *mem = cm_cgroup_dir(pid, "memory", &v2);
	cm_autofree char *mstat = mem ? read_in(mem, "memory.stat") : NULL;
	if (!number_in(mem, v2 ? "memory.current" : "memory.usage_in_bytes", &out->mem_usage))
		return cm_err(err, errno, "read the memory cgroup of process %d", (int)pid);
	unsigned long long inactive = 0;
	if (mstat && keyed(mstat, v2 ? "inactive_file" : "total_inactive_file", &inactive) &&
	    inactive < out->mem_usage)
		out->mem_usage -= inactive;
	unsigned long long host = (unsigned long long)sysconf(_SC_PHYS_PAGES) *
				  (unsigned long long)sysconf(_SC_PAGESIZE);
	if (!number_in(mem, v2 ? "memory.max" : "memory.limit_in_bytes", &out->mem_limit) ||
	    out->mem_limit > host)
		out->mem_limit = host; /* "max", or v1's page-rounded LONG_MAX */
	cm_autofree char *pids = cm_cgroup_dir(pid, "pids", &v2);
	number_in(pids, "pids.current", &out->pids);
	return 0;
}

char *cm_human_size(double bytes)
{
	static const char *const units[] = { "B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB" };
	size_t i = 0;
	while (bytes >= 1000.0 && i + 1 < sizeof(units) / sizeof(units[0])) {
		bytes /= 1000.0;
		i++;
	}
	return cm_strfmt("%.4g%s", bytes, units[i]);
}

int cm_cgroup_kill_all(const char *cgroup_path)
{
	/* The freezer's folder (v1), else the unified one, for that path. */
	cm_autofree char *cg = cm_strfmt("9:freezer:%s\n0::%s\n", cgroup_path, cgroup_path);
	cm_autofree char *mi = cm_read_file_max("/proc/self/mountinfo", 1 << 22, NULL, NULL);
	bool v2;
	cm_autofree char *dir = mi ? cm_cgroup_dir_parse(cg, mi, "freezer", &v2) : NULL;
	if (!dir)
		return -1;
	/* frozen tasks do not die in a v1 freezer */
	cm_autofree char *state = cm_path_join(dir, v2 ? "cgroup.freeze" : "freezer.state");
	int fd = open(state, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		(void)!write(fd, v2 ? "0" : "THAWED", v2 ? 1 : 6);
		close(fd);
	}
	cm_autofree char *procs = cm_path_join(dir, "cgroup.procs");
	int killed = 0;
	for (int round = 0; round < 10; round++) {
		cm_autofree char *text = cm_read_file_max(procs, 1 << 20, NULL, NULL);
		if (!text || !*text)
			break;
		for (char *p = text; *p;) {
			char *end;
			long pid = strtol(p, &end, 10);
			if (end == p)
				break;
			if (pid > 1 && kill((pid_t)pid, SIGKILL) == 0)
				killed++;
			p = end + strspn(end, "\n");
		}
		usleep(20000);
	}
	return killed;
}
