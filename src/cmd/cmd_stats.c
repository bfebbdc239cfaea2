/* ctrmig stats */
#include "cli.h"
#include "container.h"
#include "ctr_cgroup.h"
#include "ctr_procs.h"
#include "error.h"
#include "jsonio.h"
#include "store.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

static const char stats_usage[] =
	"Usage: ctrmig stats [OPTIONS] [CONTAINER...]\n"
	"\n"
	"Show running containers' CPU and memory use from their cgroups, refreshed\n"
	"every second until interrupted; every running container when none is named.\n"
	"CPU % is over the last interval, 100% being one core; memory leaves out\n"
	"inactive page cache, as Docker and Podman count it.\n"
	"\n"
	"Options:\n"
	"      --no-stream   print once and exit\n"
	"  -a, --all         every container (those not running show --)\n"
	"  -l, --latest      the newest container\n"
	"  -h, --help        show this help\n";

struct sample {
	bool have;
	struct cm_cgroup_stats cg;
	double at;
};

static int take(struct cm_store *st, json_t *recs, struct sample *out, bool named,
		struct cm_error *err)
{
	size_t i;
	json_t *rec;
	json_array_foreach(recs, i, rec) {
		enum cm_ctr_status now = cm_ctr_status_of(st, rec);
		out[i].have = false;
		out[i].at = cm_monotonic_seconds();
		if (now != CM_CTR_RUNNING) {
			if (named)
				return cm_err(err, 0, "stats %s: the container is not running",
					      cm_json_str(rec, "name"));
			continue;
		}
		if (cm_cgroup_stats((pid_t)cm_json_int(rec, "pid", 0), &out[i].cg, err) < 0)
			return cm_err_wrap(err, "stats %s", cm_json_str(rec, "name"));
		out[i].have = true;
	}
	return 0;
}

static void print_table(json_t *recs, const struct sample *a, const struct sample *b)
{
	printf("%-14s%-16s%-10s%-24s%-10s%-8s%s\n", "ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %",
	       "PIDS", "CPU TIME");
	size_t i;
	json_t *rec;
	json_array_foreach(recs, i, rec) {
		char id[13];
		snprintf(id, sizeof(id), "%.12s", cm_json_str(rec, "id"));
		if (!b[i].have) {
			printf("%-14s%-16s%-10s%-24s%-10s%-8s%s\n", id, cm_json_str(rec, "name"), "--",
			       "-- / --", "--", "--", "--");
			continue;
		}
		double wall = b[i].at - a[i].at;
		double cpu = a[i].have && wall > 0 && b[i].cg.cpu_ns >= a[i].cg.cpu_ns
				     ? (double)(b[i].cg.cpu_ns - a[i].cg.cpu_ns) / (wall * 1e9) * 100.0
				     : 0.0;
		cm_autofree char *use = cm_human_size((double)b[i].cg.mem_usage);
		cm_autofree char *lim = cm_human_size((double)b[i].cg.mem_limit);
		cm_autofree char *mem = cm_strfmt("%s / %s", use, lim);
		char cpu_pct[32], mem_pct[32], cpu_time[64];
		snprintf(cpu_pct, sizeof(cpu_pct), "%.2f%%", cpu);
		snprintf(mem_pct, sizeof(mem_pct), "%.2f%%",
			 b[i].cg.mem_limit ? (double)b[i].cg.mem_usage / (double)b[i].cg.mem_limit * 100.0 : 0.0);
		/* to the millisecond, as Podman shows it */
		cm_go_duration(b[i].cg.cpu_ns / 1000000 * 1000000, cpu_time, sizeof(cpu_time));
		printf("%-14s%-16s%-10s%-24s%-10s%-8llu%s\n", id, cm_json_str(rec, "name"), cpu_pct, mem,
		       mem_pct, b[i].cg.pids, cpu_time);
	}
}

int cm_cmd_stats(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	static const struct option longopts[] = {
		{ "no-stream", no_argument, NULL, 'N' }, { "all", no_argument, NULL, 'a' },
		{ "latest", no_argument, NULL, 'l' },    { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool no_stream = false, all = false, latest = false;
	int c;
	while ((c = cm_cli_getopt(argc, argv, "alh", longopts, stats_usage, err)) != -1) {
		if (c == 'N' || c == 'a' || c == 'l') {
			no_stream |= c == 'N';
			all |= c == 'a';
			latest |= c == 'l';
			continue;
		}
		return c == 'h' ? 0 : -1;
	}
	bool named = latest || optind < argc;
	json_t *recs = named ? cm_cli_select_ctrs(st, all, latest, argc - optind, argv + optind,
						  stats_usage, err)
			     : cm_store_list_ctrs(st, err);
	if (!recs)
		return -1;
	if (!named && !all) { /* running ones only */
		for (size_t i = json_array_size(recs); i-- > 0;) {
			struct cm_ctr_state s;
			cm_ctr_state_get(st, json_array_get(recs, i), &s);
			cm_ctr_state_free(&s);
			if (s.status != CM_CTR_RUNNING)
				json_array_remove(recs, i);
		}
	}
	size_t n = json_array_size(recs);
	struct sample *a = cm_malloc(sizeof(*a) * (n + 1)), *b = cm_malloc(sizeof(*b) * (n + 1));
	int ret = take(st, recs, a, named, err);
	/* CPU % needs two readings: half a second apart for one table, a second
	 * apart while streaming */
	for (;;) {
		if (ret < 0)
			break;
		usleep(no_stream ? 500 * 1000 : 1000 * 1000);
		if ((ret = take(st, recs, b, named, err)) < 0)
			break;
		if (!no_stream)
			fputs("\033[2J\033[H", stdout); /* a fresh screen each time, as podman does */
		print_table(recs, a, b);
		if (no_stream || fflush(stdout) != 0)
			break;
		memcpy(a, b, sizeof(*a) * n);
	}
	free(a);
	free(b);
	json_decref(recs);
	return ret;
}
