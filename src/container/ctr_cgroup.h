/* What a container's cgroups say: whether its freezer holds it (pause), and
 * its CPU, memory and process counts (stats). cgroup v1 (a hierarchy per
 * controller, as on this project's hosts) or v2 (one unified hierarchy). */
#ifndef CM_CTR_CGROUP_H
#define CM_CTR_CGROUP_H

#include <stdbool.h>
#include <sys/types.h>

struct cm_error;

/* The folder of controller's cgroup ("memory", "freezer"...) from the text of
 * /proc/PID/cgroup and /proc/self/mountinfo; v2's when no v1 hierarchy has the
 * controller. NULL when neither has it. Pure, for the tests. */
char *cm_cgroup_dir_parse(const char *proc_cgroup, const char *mountinfo, const char *controller,
			  bool *v2);
/* The same for a live process. */
char *cm_cgroup_dir(pid_t pid, const char *controller, bool *v2);

/* SIGKILLs every process of the cgroup at this path (as in a spec's
 * cgroupsPath), thawing it first; the number killed, or -1 when the cgroup
 * cannot be found. */
int cm_cgroup_kill_all(const char *cgroup_path);

/* Whether the freezer holds pid's cgroup (runc pause). */
bool cm_cgroup_frozen(pid_t pid);

struct cm_cgroup_stats {
	unsigned long long cpu_ns;    /* CPU time used, all processes */
	unsigned long long mem_usage; /* bytes, without inactive page cache, as docker stats */
	unsigned long long mem_limit; /* bytes; the host's memory when there is no limit */
	unsigned long long pids;
};
int cm_cgroup_stats(pid_t pid, struct cm_cgroup_stats *out, struct cm_error *err);

/* Docker's units.HumanSize: 4 significant digits, powers of 1000: "512B",
 * "2.068MB", "25.17GB". Caller frees. */
char *cm_human_size(double bytes);

#endif
