/* ctrmig ps */
#include "cli.h"
#include "ports.h"
#include "container.h"
#include "error.h"
#include "jsonio.h"
#include "store.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

static const char ps_usage[] =
	"Usage: ctrmig ps [OPTIONS]\n"
	"\n"
	"List running containers; with -a, every container.\n"
	"\n"
	"Options:\n"
	"  -a, --all            show every container, not only running ones\n"
	"  -q, --quiet          print ids only\n"
	"      --format json    print a JSON array\n"
	"  -h, --help           show this help\n";

static char *command_line(json_t *rec)
{
	json_t *cmd = json_object_get(json_object_get(rec, "config"), "cmd"), *v;
	size_t i;
	char *line = cm_strdup("");
	json_array_foreach(cmd, i, v) {
		char *next = cm_strfmt("%s%s%s", line, i ? " " : "", json_string_value(v));
		free(line);
		line = next;
	}
	return line;
}

static time_t parse_time(const char *s)
{
	struct timespec ts = { 0 };
	if (s)
		cm_time_parse(s, &ts);
	return ts.tv_sec;
}

/* "Up 5 seconds", "Exited (0) 3 seconds ago", "Created", "Checkpointed 1 minute ago" */
static char *status_text(json_t *rec, const struct cm_ctr_state *s, time_t now)
{
	cm_autofree char *ago = NULL;
	switch (s->status) {
	case CM_CTR_CREATED:
		return cm_strdup("Created");
	case CM_CTR_RUNNING:
		ago = cm_time_ago(parse_time(cm_json_str(rec, "started_at")), now);
		ago[strlen(ago) - 4] = '\0'; /* "5 seconds ago" -> "5 seconds" */
		return cm_strfmt("Up %s", ago);
	case CM_CTR_CHECKPOINTED:
		ago = cm_time_ago(parse_time(cm_json_str(json_object_get(rec, "checkpoint"), "time")), now);
		return cm_strfmt("Exited (checkpointed) %s", ago);
	case CM_CTR_EXITED:
		if (!s->finished_at) /* lost without a word: no time to tell */
			return cm_strfmt("Exited (%d)", s->exit_code);
		ago = cm_time_ago(parse_time(s->finished_at), now);
		return cm_strfmt("Exited (%d) %s", s->exit_code, ago);
	}
	return cm_strdup("Unknown");
}

int cm_cmd_ps(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, 'a' }, { "quiet", no_argument, NULL, 'q' },
		{ "format", required_argument, NULL, 'f' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool all = false, quiet = false, json = false;
	int c;
	while ((c = cm_cli_getopt(argc, argv, "aqh", longopts, ps_usage, err)) != -1) {
		if (c == 'a' || c == 'q') {
			all |= c == 'a';
			quiet |= c == 'q';
			continue;
		}
		if (c == 'f' && !strcmp(optarg, "json")) {
			json = true;
			continue;
		}
		if (c == 'f')
			return cm_err(err, 0, "ps --format: only 'json' is supported");
		return c == 'h' ? 0 : -1;
	}
	if (optind < argc)
		return cm_err(err, 0, "ps takes no arguments (see --help)");
	json_t *recs = cm_store_list_ctrs(st, err), *rec, *out = json_array();
	if (!recs)
		return -1;
	time_t now = time(NULL);
	if (!quiet && !json)
		printf("%-12s  %-12s  %-24s  %-18s  %-28s  %-20s  %s\n", "CONTAINER ID", "IMAGE", "COMMAND",
		       "CREATED", "STATUS", "PORTS", "NAMES");
	size_t i;
	json_array_foreach(recs, i, rec) {
		struct cm_ctr_state s;
		cm_ctr_state_get(st, rec, &s);
		if (!all && s.status != CM_CTR_RUNNING) {
			cm_ctr_state_free(&s);
			continue;
		}
		const char *id = cm_json_str(rec, "id"), *name = cm_json_str(rec, "name");
		const char *image = cm_json_str(json_object_get(rec, "image"), "name");
		cm_autofree char *cmd = command_line(rec);
		cm_autofree char *status = status_text(rec, &s, now);
		cm_autofree char *created = cm_time_ago(parse_time(cm_json_str(rec, "created")), now);
		cm_autofree char *ports = cm_ports_text(json_object_get(rec, "config"));
		if (quiet)
			printf("%.12s\n", id);
		else if (json)
			json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:I, s:b, s:s, s:s}",
				"Id", id, "Names", name, "Image", image, "Command", cmd, "State",
				cm_ctr_status_name(s.status), "Status", status, "ExitCode", s.exit_code,
				"Pid", s.status == CM_CTR_RUNNING ? cm_json_int(rec, "pid", 0) : 0,
				"Checkpointed", s.status == CM_CTR_CHECKPOINTED, "Created",
				cm_json_str(rec, "created"), "Ports", ports));
		else
			printf("%-12.12s  %-12s  %-24.24s  %-18s  %-28s  %-20s  %s\n", id, image, cmd, created,
			       status, ports, name);
		cm_ctr_state_free(&s);
	}
	if (json) {
		cm_autofree char *text = json_dumps(out, JSON_INDENT(2));
		puts(text);
	}
	json_decref(out);
	json_decref(recs);
	return 0;
}
