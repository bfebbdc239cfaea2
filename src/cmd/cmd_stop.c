/* ctrmig stop | kill | rm */
#include "cli.h"
#include "container.h"
#include "error.h"
#include "jsonio.h"
#include "store.h"
#include "util.h"

#include <signal.h>
#include <stdio.h>

static const char stop_usage[] =
	"Usage: ctrmig stop [OPTIONS] CONTAINER...\n"
	"\n"
	"Stop running containers: the image's StopSignal (default SIGTERM), then SIGKILL\n"
	"after the timeout.\n"
	"\n"
	"Options:\n"
	"  -t, --time SECONDS   wait this long before SIGKILL (default 10)\n"
	"  -a, --all            stop every running container\n"
	"  -l, --latest         the newest container\n"
	"  -h, --help           show this help\n";

static const char kill_usage[] =
	"Usage: ctrmig kill [OPTIONS] CONTAINER...\n"
	"\n"
	"Send a signal to the main process of running containers.\n"
	"\n"
	"Options:\n"
	"  -s, --signal SIGNAL  name or number (default KILL)\n"
	"  -l, --latest         the newest container\n"
	"  -h, --help           show this help\n";

static const char rm_usage[] =
	"Usage: ctrmig rm [OPTIONS] CONTAINER...\n"
	"\n"
	"Remove containers, their file changes, logs and checkpoints.\n"
	"\n"
	"Options:\n"
	"  -f, --force    remove running containers too (they are killed)\n"
	"  -a, --all      every container\n"
	"  -l, --latest   the newest container\n"
	"  -h, --help     show this help\n";

int cm_cmd_stop(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	static const struct option longopts[] = {
		{ "time", required_argument, NULL, 't' }, { "timeout", required_argument, NULL, 't' },
		{ "all", no_argument, NULL, 'a' },        { "latest", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },       { NULL, 0, NULL, 0 },
	};
	int c, timeout = 10;
	bool all = false, latest = false;
	while ((c = cm_cli_getopt(argc, argv, "t:alh", longopts, stop_usage, err)) != -1) {
		if (c == 't' && cm_cli_parse_int(optarg, "--time", &timeout, err) == 0)
			continue;
		if (c == 'a' || c == 'l') {
			all |= c == 'a';
			latest |= c == 'l';
			continue;
		}
		return c == 'h' ? 0 : -1;
	}
	json_t *recs = cm_cli_select_ctrs(st, all, latest, argc - optind, argv + optind, stop_usage,
					  err), *rec;
	if (!recs)
		return -1;
	size_t i;
	int ret = 0;
	json_array_foreach(recs, i, rec) {
		if (cm_ctr_stop(st, rec, timeout, err) < 0) {
			ret = -1;
			break;
		}
		if (!all)
			printf("%s\n", cm_json_str(rec, "name"));
	}
	json_decref(recs);
	return ret;
}

int cm_cmd_kill(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	static const struct option longopts[] = {
		{ "signal", required_argument, NULL, 's' }, { "latest", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },         { NULL, 0, NULL, 0 },
	};
	int c, sig = SIGKILL;
	bool latest = false;
	while ((c = cm_cli_getopt(argc, argv, "s:lh", longopts, kill_usage, err)) != -1) {
		if (c == 's' && cm_cli_parse_signal(optarg, &sig, err) == 0)
			continue;
		if (c == 'l') {
			latest = true;
			continue;
		}
		return c == 'h' ? 0 : -1;
	}
	json_t *recs = cm_cli_select_ctrs(st, false, latest, argc - optind, argv + optind, kill_usage,
					  err), *rec;
	if (!recs)
		return -1;
	size_t i;
	int ret = 0;
	json_array_foreach(recs, i, rec) {
		if (cm_ctr_kill(st, rec, sig, err) < 0) {
			ret = -1;
			break;
		}
		printf("%s\n", cm_json_str(rec, "name"));
	}
	json_decref(recs);
	return ret;
}

int cm_cmd_rm(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	static const struct option longopts[] = {
		{ "force", no_argument, NULL, 'f' }, { "all", no_argument, NULL, 'a' },
		{ "latest", no_argument, NULL, 'l' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	bool force = false, all = false, latest = false;
	while ((c = cm_cli_getopt(argc, argv, "falh", longopts, rm_usage, err)) != -1) {
		if (c == 'f' || c == 'a' || c == 'l') {
			force |= c == 'f';
			all |= c == 'a';
			latest |= c == 'l';
			continue;
		}
		return c == 'h' ? 0 : -1;
	}
	json_t *recs = cm_cli_select_ctrs(st, all, latest, argc - optind, argv + optind, rm_usage,
					  err), *rec;
	if (!recs)
		return -1;
	size_t i;
	int ret = 0;
	json_array_foreach(recs, i, rec) {
		if (cm_ctr_remove(st, rec, force, err) < 0) {
			ret = -1;
			break;
		}
		printf("%s\n", cm_json_str(rec, "id"));
	}
	json_decref(recs);
	return ret;
}
