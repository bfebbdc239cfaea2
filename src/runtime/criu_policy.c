#include "criu_policy.h"
#include "caps.h"
#include "error.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>


/* Resource numbers differ between architectures; the images are the host's. */
static const struct {
	const char *name;
	int resource;
} rlimits[] = {
	{ "RLIMIT_CPU", RLIMIT_CPU },         { "RLIMIT_FSIZE", RLIMIT_FSIZE },
	{ "RLIMIT_DATA", RLIMIT_DATA },       { "RLIMIT_STACK", RLIMIT_STACK },
	{ "RLIMIT_CORE", RLIMIT_CORE },       { "RLIMIT_RSS", RLIMIT_RSS },
	{ "RLIMIT_NPROC", RLIMIT_NPROC },     { "RLIMIT_NOFILE", RLIMIT_NOFILE },
	{ "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK }, { "RLIMIT_AS", RLIMIT_AS },
	{ "RLIMIT_LOCKS", RLIMIT_LOCKS },     { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
	{ "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE }, { "RLIMIT_NICE", RLIMIT_NICE },
	{ "RLIMIT_RTPRIO", RLIMIT_RTPRIO },   { "RLIMIT_RTTIME", RLIMIT_RTTIME },
};
_Static_assert(sizeof(rlimits) / sizeof(rlimits[0]) == CM_CRIU_NLIMITS &&
		       RLIMIT_NLIMITS == CM_CRIU_NLIMITS,
	       "one name for each of Linux's resource limits");

const char *cm_criu_rlimit_name(unsigned resource)
{
	for (size_t i = 0; i < CM_CRIU_NLIMITS; i++)
		if ((unsigned)rlimits[i].resource == resource)
			return rlimits[i].name;
	return NULL;
}

static int spec_caps(json_t *bounding, uint64_t *caps, struct cm_error *err)
{
	size_t i;
	json_t *v;
	*caps = 0;
	json_array_foreach(bounding, i, v) {
		const char *name = json_string_value(v);
		int n = name && !strncmp(name, "CAP_", 4) ? cm_cap_number(name) : -1;
		if (n < 0)
			return cm_err(err, 0, "process.capabilities.bounding: unknown capability %s",
				      name ? name : "(not a string)");
		*caps |= 1ull << n;
	}
	return 0;
}

/* What runc applies, and for the rest what this process, like runc, inherited. */
static int spec_rlimits(json_t *list, uint64_t *max, struct cm_error *err)
{
	for (size_t i = 0; i < CM_CRIU_NLIMITS; i++) {
		struct rlimit rl;
		if (getrlimit(rlimits[i].resource, &rl) < 0)
			return cm_err(err, errno, "getrlimit %s", rlimits[i].name);
		max[rlimits[i].resource] = rl.rlim_max;
	}
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v) {
		const char *type = json_string_value(json_object_get(v, "type"));
		size_t r = 0;
		while (type && r < CM_CRIU_NLIMITS && strcmp(rlimits[r].name, type))
			r++;
		if (!type || r == CM_CRIU_NLIMITS)
			return cm_err(err, 0, "process.rlimits: unknown resource %s",
				      type ? type : "(not a string)");
		json_t *hard = json_object_get(v, "hard");
		if (!json_is_integer(hard) || json_integer_value(hard) < 0)
			return cm_err(err, 0, "process.rlimits: %s has no hard limit", type);
		max[rlimits[r].resource] = (uint64_t)json_integer_value(hard);
	}
	return 0;
}

int cm_criu_policy_from_spec(json_t *spec, struct cm_criu_policy *p, struct cm_error *err)
{
	json_t *proc = json_object_get(spec, "process"), *lin = json_object_get(spec, "linux"), *v;
	size_t i;

	memset(p, 0, sizeof(*p));
	if (spec_caps(json_object_get(json_object_get(proc, "capabilities"), "bounding"), &p->caps,
		      err) < 0 ||
	    spec_rlimits(json_object_get(proc, "rlimits"), p->rlimit_max, err) < 0)
		return -1;
	p->no_new_privs = json_is_true(json_object_get(proc, "noNewPrivileges"));
	p->seccomp = json_is_object(json_object_get(lin, "seccomp"));

	json_t *user = json_object_get(proc, "user");
	p->root_user = json_integer_value(json_object_get(user, "uid")) == 0;
	p->root_group = json_integer_value(json_object_get(user, "gid")) == 0;
	json_array_foreach(json_object_get(user, "additionalGids"), i, v)
		p->root_group |= json_is_integer(v) && json_integer_value(v) == 0;

	json_array_foreach(json_object_get(lin, "namespaces"), i, v) {
		const char *type = json_string_value(json_object_get(v, "type"));
		const char *path = json_string_value(json_object_get(v, "path"));
		if (type && !strcmp(type, "pid") && (!path || !*path))
			p->private_pidns = true;
	}

	const char *aa = json_string_value(json_object_get(proc, "apparmorProfile"));
	p->lsm_profile = aa && *aa ? aa : NULL;

	json_int_t pids = json_integer_value(
		json_object_get(json_object_get(json_object_get(lin, "resources"), "pids"), "limit"));
	p->max_tasks = pids <= 0		  ? CM_CRIU_MAX_TASKS
		       : pids < CM_CRIU_PID_LIMIT ? (unsigned)pids
						  : CM_CRIU_PID_LIMIT;
	return 0;
}
