/* What a container's OCI spec grants its processes, in the terms of CRIU's
 * images: the yardstick cm_criu_images_check measures a checkpoint against. */
#ifndef CM_CRIU_POLICY_H
#define CM_CRIU_POLICY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct cm_error;

/* Linux's resource limits (RLIMIT_NLIMITS), indexed by resource number. */
#define CM_CRIU_NLIMITS 16
/* Linux's PID_MAX_LIMIT: no pid or tid is larger. */
#define CM_CRIU_PID_LIMIT 4194304u
/* max_tasks when the spec sets no pids limit. */
#define CM_CRIU_MAX_TASKS 32768u

/* What the container's config grants, against which every task is checked. */
struct cm_criu_policy {
	uint64_t caps;          /* bit n set: capability n is in the spec's bounding set */
	bool no_new_privs;      /* the spec sets noNewPrivileges: every task must have it */
	bool seccomp;           /* the spec has a seccomp profile: every thread must be in filter mode */
	bool root_user;         /* the spec's uid is 0; else no uid of any task may be 0 */
	bool root_group;        /* the spec's gid or an additional gid is 0; else no gid
				 * or supplementary group of any task may be 0 */
	bool private_pidns;     /* the container has its own pid namespace: the tree's root is pid 1 */
	uint64_t rlimit_max[CM_CRIU_NLIMITS]; /* ceiling for each resource's soft and hard
					       * limit; RLIM_INFINITY = none */
	const char *lsm_profile;/* the AppArmor profile the spec names, or NULL; points into the spec */
	unsigned max_tasks;     /* refuse trees with more tasks, threads counted as pids.max counts them */
	bool remote_pages;      /* not from the spec: the restore's lazy pages come from a page
				 * server (migrate --lazy), so a memory map may name pages in no file */
};

/* Fills a policy from an OCI runtime spec: the capability names of
 * process.capabilities.bounding, noNewPrivileges, linux.seccomp, process.user,
 * a "pid" entry without a path in linux.namespaces, process.rlimits (with this
 * process's own hard limits as ceilings for resources the spec does not list,
 * as runc passes those on), process.apparmorProfile, and
 * linux.resources.pids.limit. An unknown capability or resource name is an
 * error. A spec without a bounding set grants no capability (runc would leave
 * every one: the check refuses rather than guess). */
int cm_criu_policy_from_spec(json_t *spec, struct cm_criu_policy *p, struct cm_error *err);

/* "RLIMIT_NOFILE" for RLIMIT_NOFILE; NULL for a number Linux has no limit for. */
const char *cm_criu_rlimit_name(unsigned resource);

#endif
