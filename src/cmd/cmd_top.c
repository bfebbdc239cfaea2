/* ctrmig top */
#include "cli.h"
#include "container.h"
#include "ctr_procs.h"
#include "error.h"
#include "jsonio.h"
#include "runc.h"
#include "store.h"
#include "user.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const char top_usage[] =
	"Usage: ctrmig top [OPTIONS] CONTAINER [DESCRIPTOR...]\n"
	"\n"
	"Show the processes running in a container, PIDs as the container sees them,\n"
	"users as its /etc/passwd names them. Default columns, as Podman's:\n"
	"USER PID PPID %CPU ELAPSED TTY TIME COMMAND.\n"
	"\n"
	"Descriptors (as separate arguments or split by commas): args comm etime group\n"
	"hpid huser nice pcpu pgid pid ppid rgroup rss ruser state time tty user vsz,\n"
	"or the AIX codes %a %c %t %G %n %C %r %p %P %g %u %x %y %U %z.\n"
	"\n"
	"Options:\n"
	"  -l, --latest   the newest container\n"
	"  -h, --help     show this help\n";

/* The container's processes by host pid, from its cgroup (runc ps). */
static json_t *container_pids(struct cm_store *st, const char *id, struct cm_error *err)
{
	cm_autofree char *out = NULL;
	if (cm_runc_output(st, &out, err, "ps", "--format", "json", id, NULL) < 0)
		return NULL;
	json_t *pids = cm_json_parse(out, strlen(out), "runc ps", err);
	if (pids && !json_is_array(pids)) {
		json_decref(pids);
		cm_err(err, 0, "runc ps: expected a list of pids");
		return NULL;
	}
	return pids;
}

static int show(struct cm_store *st, json_t *rec, const enum cm_top_col *cols, size_t ncols,
		struct cm_error *err)
{
	const char *id = cm_json_str(rec, "id"), *name = cm_json_str(rec, "name");
	json_t *pids = container_pids(st, id, err), *v;
	if (!pids)
		return cm_err_wrap(err, "top %s", name);
	/* The container's own names, read inside its root. */
	cm_autofree char *root = cm_strfmt("/proc/%d/root", (int)cm_json_int(rec, "pid", 0));
	cm_autofree char *passwd = cm_user_read_in_root(root, "etc/passwd");
	cm_autofree char *group = cm_user_read_in_root(root, "etc/group");
	size_t n = 0, i;
	struct cm_proc *procs = cm_malloc(sizeof(*procs) * (json_array_size(pids) + 1));
	json_array_foreach(pids, i, v) {
		/* a process that ended since runc listed it is not shown */
		if (json_is_integer(v) &&
		    cm_proc_read((pid_t)json_integer_value(v), passwd, group, &procs[n], NULL) == 0)
			n++;
	}
	json_decref(pids);
	for (i = 0; i < n; i++)
		cm_proc_resolve_ppid(&procs[i]);
	struct timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	struct cm_top_clock clk = { (unsigned long long)ts.tv_sec * 1000000000ULL + (unsigned long long)ts.tv_nsec,
				    sysconf(_SC_CLK_TCK), sysconf(_SC_PAGESIZE) };
	cm_autofree char *table = cm_top_render(procs, n, cols, ncols, &clk);
	fputs(table, stdout);
	for (i = 0; i < n; i++)
		cm_proc_free(&procs[i]);
	free(procs);
	return 0;
}

int cm_cmd_top(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	bool latest;
	/* descriptors such as %C are arguments, not options */
	int r = cm_cli_latest_only(argc, argv, true, top_usage, &latest, err);
	if (r != 0)
		return r > 0 ? 0 : -1;
	int nctr = latest ? 0 : 1;
	if (!latest && optind >= argc)
		return cm_err(err, 0, "top takes a container (see 'ctrmig top --help')");
	enum cm_top_col cols[CM_TOP_MAX_COLS];
	size_t ncols = 8;
	memcpy(cols, cm_top_default_cols, sizeof(cm_top_default_cols));
	if (argc - optind > nctr &&
	    cm_top_parse_descriptors(argc - optind - nctr, argv + optind + nctr, cols, &ncols, err) < 0)
		return -1;
	json_t *recs = cm_cli_select_ctrs(st, false, latest, nctr, argv + optind, top_usage, err);
	if (!recs)
		return -1;
	json_t *rec = json_array_get(recs, 0);
	enum cm_ctr_status now = cm_ctr_status_of(st, rec);
	int ret;
	if (now != CM_CTR_RUNNING)
		ret = cm_err(err, 0, "top: container %s is not running", cm_json_str(rec, "name"));
	else
		ret = show(st, rec, cols, ncols, err);
	json_decref(recs);
	return ret;
}
