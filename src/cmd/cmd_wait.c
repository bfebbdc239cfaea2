/* ctrmig wait */
#include "cli.h"
#include "container.h"
#include "error.h"
#include "jsonio.h"
#include "store.h"
#include "util.h"

#include <stdio.h>

static const char wait_usage[] =
	"Usage: ctrmig wait [OPTIONS] CONTAINER...\n"
	"\n"
	"Wait for containers to exit and print each one's exit status, a line each.\n"
	"A container that has exited already answers at once; a checkpointed one\n"
	"with the status it was checkpointed with.\n"
	"\n"
	"Options:\n"
	"  -l, --latest   the newest container\n"
	"  -h, --help     show this help\n";

/* Reads the record afresh each time: another command may start, restore or
 * remove the container meanwhile. */
static int wait_one(struct cm_store *st, const char *id, const char *name, int *code,
		    struct cm_error *err)
{
	for (;;) {
		json_t *rec = cm_store_find_ctr(st, id, NULL);
		if (!rec)
			return cm_err(err, 0, "wait %s: the container was removed", name);
		struct cm_ctr_state s;
		cm_ctr_state_get(st, rec, &s);
		cm_ctr_state_free(&s);
		json_decref(rec);
		if (s.status == CM_CTR_EXITED || s.status == CM_CTR_CHECKPOINTED) {
			*code = s.exit_code;
			return 0;
		}
		usleep(100 * 1000);
	}
}

int cm_cmd_wait(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	bool latest;
	int r = cm_cli_latest_only(argc, argv, false, wait_usage, &latest, err);
	if (r != 0)
		return r > 0 ? 0 : -1;
	json_t *recs = cm_cli_select_ctrs(st, false, latest, argc - optind, argv + optind, wait_usage,
					  err), *rec;
	if (!recs)
		return -1;
	size_t i;
	int ret = 0;
	json_array_foreach(recs, i, rec) {
		int code = 0;
		if (wait_one(st, cm_json_str(rec, "id"), cm_json_str(rec, "name"), &code, err) < 0) {
			ret = -1;
			break;
		}
		printf("%d\n", code);
		fflush(stdout);
	}
	json_decref(recs);
	return ret;
}
