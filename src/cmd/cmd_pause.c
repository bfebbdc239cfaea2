/* ctrmig pause | unpause */
#include "cli.h"
#include "container.h"
#include "ctr_cgroup.h"
#include "error.h"
#include "jsonio.h"
#include "runc.h"
#include "store.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

static const char pause_usage[] =
	"Usage: ctrmig pause [OPTIONS] CONTAINER...\n"
	"\n"
	"Freeze every process of running containers (runc pause, the cgroup freezer).\n"
	"\n"
	"Options:\n"
	"  -a, --all      every running container\n"
	"  -l, --latest   the newest container\n"
	"  -h, --help     show this help\n";

static const char unpause_usage[] =
	"Usage: ctrmig unpause [OPTIONS] CONTAINER...\n"
	"\n"
	"Let the processes of paused containers run again (runc resume).\n"
	"\n"
	"Options:\n"
	"  -a, --all      every paused container\n"
	"  -l, --latest   the newest container\n"
	"  -h, --help     show this help\n";

static int pause_one(struct cm_store *st, json_t *rec, bool pause, bool quiet_skip,
		     struct cm_error *err)
{
	const char *name = cm_json_str(rec, "name");
	enum cm_ctr_status now = cm_ctr_status_of(st, rec);
	bool frozen = now == CM_CTR_RUNNING && cm_cgroup_frozen((pid_t)cm_json_int(rec, "pid", 0));
	/* with --all, only those it applies to */
	if (quiet_skip && (now != CM_CTR_RUNNING || frozen == pause))
		return 1;
	if (now != CM_CTR_RUNNING)
		return cm_err(err, 0, "%s %s: the container is not running", pause ? "pause" : "unpause",
			      name);
	if (frozen == pause)
		return cm_err(err, 0, "%s %s: the container is %s", pause ? "pause" : "unpause", name,
			      pause ? "already paused" : "not paused");
	if (cm_runc_run(st, err, pause ? "pause" : "resume", cm_json_str(rec, "id"), NULL) < 0)
		return cm_err_wrap(err, "%s %s", pause ? "pause" : "unpause", name);
	return 0;
}

static int pause_cmd(struct cm_store *st, int argc, char **argv, bool pause, struct cm_error *err)
{
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, 'a' }, { "latest", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	const char *usage = pause ? pause_usage : unpause_usage;
	bool all = false, latest = false;
	int c;
	while ((c = cm_cli_getopt(argc, argv, "alh", longopts, usage, err)) != -1) {
		if (c == 'a' || c == 'l') {
			all |= c == 'a';
			latest |= c == 'l';
			continue;
		}
		return c == 'h' ? 0 : -1;
	}
	json_t *recs = cm_cli_select_ctrs(st, all, latest, argc - optind, argv + optind, usage, err), *rec;
	if (!recs)
		return -1;
	size_t i;
	int ret = 0;
	json_array_foreach(recs, i, rec) {
		int r = pause_one(st, rec, pause, all, err);
		if (r < 0) {
			ret = -1;
			break;
		}
		if (r == 0)
			printf("%s\n", all ? cm_json_str(rec, "id") : cm_json_str(rec, "name"));
	}
	json_decref(recs);
	return ret;
}

int cm_cmd_pause(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	return pause_cmd(st, argc, argv, true, err);
}

int cm_cmd_unpause(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	return pause_cmd(st, argc, argv, false, err);
}
