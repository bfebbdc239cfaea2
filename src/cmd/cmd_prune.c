/* ctrmig container prune */
#include "cli.h"
#include "container.h"
#include "error.h"
#include "jsonio.h"
#include "store.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static const char prune_usage[] =
	"Usage: ctrmig container prune [OPTIONS]\n"
	"\n"
	"Remove every container that is created or exited, with its file changes and\n"
	"logs, and print their ids. Running, paused and checkpointed containers stay\n"
	"(a checkpoint is a container's processes: 'rm' it by name if it must go).\n"
	"Asks first on a terminal; without one, -f is needed.\n"
	"\n"
	"Options:\n"
	"  -f, --force   do not ask\n"
	"  -h, --help    show this help\n";

static int confirm(struct cm_error *err)
{
	if (!isatty(STDIN_FILENO))
		return cm_err(err, 0, "container prune: standard input is not a terminal to ask on: "
				      "use -f to remove without asking");
	fputs("WARNING! This will remove all stopped containers.\n"
	      "Are you sure you want to continue? [y/N] ",
	      stderr);
	char line[64];
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	line[strcspn(line, "\n")] = '\0';
	return !strcasecmp(line, "y") || !strcasecmp(line, "yes") ? 0 : 1;
}

int cm_cmd_container_prune(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	static const struct option longopts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool force = false;
	int c;
	while ((c = cm_cli_getopt(argc, argv, "fh", longopts, prune_usage, err)) != -1) {
		if (c == 'f') {
			force = true;
			continue;
		}
		return c == 'h' ? 0 : -1;
	}
	if (optind < argc)
		return cm_err(err, 0, "container prune takes no arguments (see --help)");
	int asked = force ? 0 : confirm(err);
	if (asked != 0)
		return asked < 0 ? -1 : 0; /* "no" is not an error */
	json_t *recs = cm_store_list_ctrs(st, err), *rec;
	if (!recs)
		return -1;
	size_t i;
	int ret = 0;
	json_array_foreach(recs, i, rec) {
		enum cm_ctr_status now = cm_ctr_status_of(st, rec);
		if (now != CM_CTR_CREATED && now != CM_CTR_EXITED)
			continue;
		if (cm_ctr_remove(st, rec, false, err) < 0) {
			ret = -1;
			break;
		}
		printf("%s\n", cm_json_str(rec, "id"));
	}
	json_decref(recs);
	return ret;
}
