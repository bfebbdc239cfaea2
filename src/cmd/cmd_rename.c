/* ctrmig rename */
#include "cli.h"
#include "container.h"
#include "error.h"
#include "jsonio.h"
#include "store.h"
#include "util.h"

#include <string.h>

static const char rename_usage[] =
	"Usage: ctrmig rename CONTAINER NEW-NAME\n"
	"\n"
	"Give a container another name; running or not, its id stays.\n"
	"\n"
	"Options:\n"
	"  -h, --help   show this help\n";

int cm_cmd_rename(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = cm_cli_getopt(argc, argv, "h", longopts, rename_usage, err)) != -1)
		return c == 'h' ? 0 : -1;
	if (argc - optind != 2)
		return cm_err(err, 0, "rename takes a container and its new name (see --help)");
	const char *ref = argv[optind], *name = argv[optind + 1];
	if (!cm_ctr_name_valid(name))
		return cm_err(err, 0, "rename: container name '%s' is not valid: use letters, digits, "
				      "'_', '.', '-'", name);
	json_t *rec = cm_store_find_ctr(st, ref, err);
	if (!rec)
		return -1;
	int ret = 0;
	const char *old = cm_json_str(rec, "name");
	if (strcmp(old, name) && cm_store_name_taken(st, name))
		ret = cm_err(err, 0, "rename %s: the container name %s is already in use", old, name);
	else
		json_object_set_new(rec, "name", json_string(name));
	if (ret == 0 && cm_store_save_ctr(st, rec, err) < 0)
		ret = cm_err_wrap(err, "rename %s", ref);
	json_decref(rec);
	return ret;
}
