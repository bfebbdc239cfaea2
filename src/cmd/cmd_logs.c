/* ctrmig logs */
#include "cli.h"
#include "container.h"
#include "ctr_log.h"
#include "error.h"
#include "jsonio.h"
#include "store.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>

static const char logs_usage[] =
	"Usage: ctrmig logs [OPTIONS] CONTAINER\n"
	"\n"
	"Print a container's output, stdout to stdout and stderr to stderr.\n"
	"The log outlives the process: it is there until the container is removed.\n"
	"\n"
	"Options:\n"
	"  -f, --follow   keep printing new output until the container exits\n"
	"  -l, --latest   the newest container\n"
	"  -h, --help     show this help\n";

struct follow {
	struct cm_store *st;
	json_t *rec;
};

static bool still_running(void *arg)
{
	struct follow *f = arg;
	json_t *fresh = cm_store_find_ctr(f->st, cm_json_str(f->rec, "id"), NULL);
	if (!fresh)
		return false; /* removed meanwhile */
	struct cm_ctr_state s;
	cm_ctr_state_get(f->st, fresh, &s);
	cm_ctr_state_free(&s);
	json_decref(fresh);
	return s.status == CM_CTR_RUNNING;
}

int cm_cmd_logs(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	static const struct option longopts[] = {
		{ "follow", no_argument, NULL, 'f' }, { "latest", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },   { NULL, 0, NULL, 0 },
	};
	bool follow = false, latest = false;
	int c;
	while ((c = cm_cli_getopt(argc, argv, "flh", longopts, logs_usage, err)) != -1) {
		if (c == 'f' || c == 'l') {
			follow |= c == 'f';
			latest |= c == 'l';
			continue;
		}
		return c == 'h' ? 0 : -1;
	}
	if (argc - optind > 1)
		return cm_err(err, 0, "logs takes one container");
	json_t *recs = cm_cli_select_ctrs(st, false, latest, argc - optind, argv + optind, logs_usage,
					  err);
	if (!recs)
		return -1;
	json_t *rec = json_array_get(recs, 0);
	struct follow f = { st, rec };
	cm_autofree char *path = cm_store_ctr_path(st, cm_json_str(rec, "id"), "ctr.log");
	off_t offset = 0;
	int ret = 0;
	if (cm_ctr_log_print(path, &offset, follow, still_running, &f) < 0)
		ret = cm_err(err, errno, "read %s", path);
	json_decref(recs);
	return ret;
}
