/* ctrmig attach */
#include "attach_session.h"
#include "cli.h"
#include "container.h"
#include "error.h"
#include "jsonio.h"
#include "store.h"

static const char attach_usage[] =
	"Usage: ctrmig attach [OPTIONS] CONTAINER\n"
	"\n"
	"Attach this terminal to a running container's terminal (run -t) or its\n"
	"stdin (run -i) and output. Detach with ctrl-p ctrl-q: the container goes\n"
	"on. Without detaching, ctrmig exits with the container's status when it ends.\n"
	"\n"
	"Options:\n"
	"      --detach-keys KEYS  keys that detach (default \"ctrl-p,ctrl-q\"; \"\" for none)\n"
	"      --no-stdin          show the output only\n"
	"  -l, --latest            the newest container\n"
	"  -h, --help              show this help\n";

int cm_cmd_attach(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	static const struct option longopts[] = {
		{ "detach-keys", required_argument, NULL, 'k' }, { "no-stdin", no_argument, NULL, 'n' },
		{ "latest", no_argument, NULL, 'l' },            { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cm_attach_opts o = { 0 };
	bool latest = false;
	int c;
	while ((c = cm_cli_getopt(argc, argv, "lh", longopts, attach_usage, err)) != -1) {
		if (c == 'k')
			o.detach_keys = optarg;
		else if (c == 'n')
			o.no_stdin = true;
		else if (c == 'l')
			latest = true;
		else
			return c == 'h' ? 0 : -1;
	}
	if (!latest && argc - optind != 1)
		return cm_err(err, 0, "attach takes one CONTAINER (see --help)");
	json_t *recs = cm_cli_select_ctrs(st, false, latest, argc - optind, argv + optind, attach_usage, err);
	if (!recs)
		return -1;
	json_t *rec = json_array_get(recs, 0);
	enum cm_ctr_status now = cm_ctr_status_of(st, rec);
	int ret;
	bool detached;
	if (now != CM_CTR_RUNNING)
		ret = cm_err(err, 0, "attach %s: the container is not running", cm_json_str(rec, "name"));
	else
		ret = cm_attach_session(st, rec, &o, &detached, err);
	json_decref(recs);
	return ret;
}
