/* ctrmig restart */
#include "cli.h"
#include "container.h"
#include "error.h"
#include "jsonio.h"
#include "store.h"
#include "util.h"

#include <stdio.h>

static const char restart_usage[] =
	"Usage: ctrmig restart [OPTIONS] CONTAINER...\n"
	"\n"
	"Stop containers as 'stop' does (if they run), then start them again: same\n"
	"name, same id, same file changes; the processes start afresh. A checkpointed\n"
	"container is refused: 'restore' brings its processes back.\n"
	"\n"
	"Options:\n"
	"  -t, --time SECONDS   wait this long before SIGKILL (default 10)\n"
	"  -a, --all            every container that is not checkpointed\n"
	"      --running        with --all: only the running ones\n"
	"  -l, --latest         the newest container\n"
	"  -h, --help           show this help\n";

static int restart_one(struct cm_store *st, json_t *rec, int timeout, bool all, bool running_only,
		       struct cm_error *err)
{
	const char *name = cm_json_str(rec, "name");
	enum cm_ctr_status now = cm_ctr_status_of(st, rec);
	if (now == CM_CTR_CHECKPOINTED) {
		if (all)
			return 1;
		return cm_err(err, 0, "restart %s: the container is checkpointed (restore it, or "
				      "rm it)", name);
	}
	if (running_only && now != CM_CTR_RUNNING)
		return 1;
	if (cm_ctr_stop(st, rec, timeout, err) < 0 || cm_ctr_start(st, rec, false, err) < 0)
		return cm_err_wrap(err, "restart %s", name);
	return 0;
}

int cm_cmd_restart(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	static const struct option longopts[] = {
		{ "time", required_argument, NULL, 't' }, { "timeout", required_argument, NULL, 't' },
		{ "all", no_argument, NULL, 'a' },        { "running", no_argument, NULL, 'r' },
		{ "latest", no_argument, NULL, 'l' },     { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, timeout = 10;
	bool all = false, latest = false, running_only = false;
	while ((c = cm_cli_getopt(argc, argv, "t:alh", longopts, restart_usage, err)) != -1) {
		if (c == 't' && cm_cli_parse_int(optarg, "--time", &timeout, err) == 0)
			continue;
		if (c == 'a' || c == 'l' || c == 'r') {
			all |= c == 'a';
			latest |= c == 'l';
			running_only |= c == 'r';
			continue;
		}
		return c == 'h' ? 0 : -1;
	}
	if (running_only && !all)
		return cm_err(err, 0, "restart --running goes with --all");
	json_t *recs = cm_cli_select_ctrs(st, all, latest, argc - optind, argv + optind,
					  restart_usage, err), *rec;
	if (!recs)
		return -1;
	size_t i;
	int ret = 0;
	json_array_foreach(recs, i, rec) {
		int r = restart_one(st, rec, timeout, all, running_only, err);
		if (r < 0) {
			ret = -1;
			break;
		}
		if (r == 0)
			printf("%s\n", cm_json_str(rec, "name"));
	}
	json_decref(recs);
	return ret;
}
