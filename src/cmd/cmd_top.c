/* ctrmig top */
#include "cli.h"
#include "container.h"
#include "error.h"
#include "jsonio.h"
#include "runc.h"
#include "store.h"
#include "util.h"

#include <stdio.h>

static const char top_usage[] =
	"Usage: ctrmig top CONTAINER\n"
	"\n"
	"Show the processes running in a container (runc ps).\n";

int cm_cmd_top(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = cm_cli_getopt(argc, argv, "h", longopts, top_usage, err)) != -1)
		return c == 'h' ? 0 : -1;
	if (argc - optind != 1)
		return cm_err(err, 0, "top takes one container (see 'ctrmig top --help')");
	json_t *rec = cm_store_find_ctr(st, argv[optind], err);
	if (!rec)
		return -1;
	struct cm_ctr_state s;
	cm_ctr_state_get(st, rec, &s);
	cm_ctr_state_free(&s);
	int ret = 0;
	char *out = NULL;
	if (s.status != CM_CTR_RUNNING)
		ret = cm_err(err, 0, "container %s is not running", cm_json_str(rec, "name"));
	else if (cm_runc_output(st, &out, err, "ps", cm_json_str(rec, "id"), NULL) < 0)
		ret = -1;
	else
		fputs(out, stdout);
	free(out);
	json_decref(rec);
	return ret;
}
