/* ctrmig ps */
#include "cli.h"
#include "ports.h"
#include "container.h"
#include "ctr_cgroup.h"
#include "error.h"
#include "jsonio.h"
#include "ps_filter.h"
#include "store.h"
#include "template.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const char ps_usage[] =
	"Usage: ctrmig ps [OPTIONS]\n"
	"\n"
	"List running containers; with -a, every container.\n"
	"\n"
	"Options:\n"
	"  -a, --all              show every container, not only running ones\n"
	"  -q, --quiet            print ids only\n"
	"  -f, --filter KEY=VALUE only containers that match (repeatable): name=REGEX,\n"
	"                         id=PREFIX, status=created|running|paused|exited|\n"
	"                         checkpointed (looks at every container), ancestor=IMAGE\n"
	"      --format FORMAT    json, a Go template ('{{.ID}} {{.Names}} {{.State}}'),\n"
	"                         or 'table TEMPLATE' for a header line too\n"
	"      --no-trunc         full ids and commands\n"
	"  -n, --last N           the N newest containers, whatever their state\n"
	"  -l, --latest           the newest container, whatever its state\n"
	"  -h, --help             show this help\n";

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
static char *status_text(json_t *rec, const struct cm_ctr_state *s, bool paused, time_t now)
{
	cm_autofree char *ago = NULL;
	if (paused)
		return cm_strdup("Paused");
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

/* What a --format template sees of a container: Podman's field names, and
 * the JSON output's. */
static json_t *ps_row(json_t *rec, const struct cm_ctr_state *s, const char *state, bool no_trunc,
		      time_t now)
{
	const char *id = cm_json_str(rec, "id"), *name = cm_json_str(rec, "name");
	json_t *image = json_object_get(rec, "image");
	const char *created = cm_json_str(rec, "created"), *started = cm_json_str(rec, "started_at");
	cm_autofree char *cmd = command_line(rec);
	cm_autofree char *status = status_text(rec, s, !strcmp(state, "paused"), now);
	cm_autofree char *ago = cm_time_ago(parse_time(created), now);
	cm_autofree char *short_id = cm_strfmt("%.12s", id);
	cm_autofree char *ports = cm_ports_text(json_object_get(rec, "config"));
	bool running = s->status == CM_CTR_RUNNING;
	return json_pack("{s:s?, s:s, s:s?, s:s?, s:s?, s:s, s:s, s:i, s:I, s:b, s:s, s:s?, s:s?, s:s, "
			 "s:b, s:s, s:s, s:s}",
			 "Id", id, "ID", no_trunc ? id : short_id, "Names", name, "Image",
			 cm_json_str(image, "name"), "ImageID", cm_json_str(image, "id"), "Command", cmd,
			 "State", state, "ExitCode", s->exit_code, "Pid",
			 running ? cm_json_int(rec, "pid", 0) : (json_int_t)0, "Checkpointed",
			 s->status == CM_CTR_CHECKPOINTED, "Status", status, "Created", created,
			 "CreatedAt", created, "RunningFor", ago, "Exited", s->status == CM_CTR_EXITED,
			 "StartedAt", started ? started : "", "ExitedAt",
			 s->finished_at ? s->finished_at : "", "Ports", ports);
}

/* The header a "table" format prints: each field's column name. */
static json_t *header_row(json_t *row)
{
	static const char *const names[][2] = {
		{ "ID", "CONTAINER ID" }, { "Id", "CONTAINER ID" }, { "ImageID", "IMAGE ID" },
		{ "RunningFor", "CREATED" }, { "CreatedAt", "CREATED AT" }, { "ExitCode", "EXIT CODE" },
		{ "StartedAt", "STARTED AT" }, { "ExitedAt", "EXITED AT" },
	};
	json_t *h = json_object(), *v;
	const char *key;
	json_object_foreach(row, key, v) {
		char up[64];
		size_t i;
		snprintf(up, sizeof(up), "%s", key);
		for (i = 0; up[i]; i++)
			up[i] = (char)toupper((unsigned char)up[i]);
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (!strcmp(names[i][0], key))
				snprintf(up, sizeof(up), "%s", names[i][1]);
		json_object_set_new(h, key, json_string(up));
	}
	return h;
}

struct ps_opts {
	bool all, quiet, no_trunc;
	const char *format; /* NULL: the table */
	int last;           /* -1: all of them */
	struct cm_ps_filter *filter;
};

static int parse_ps_opts(int argc, char **argv, struct ps_opts *o, struct cm_error *err)
{
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, 'a' }, { "quiet", no_argument, NULL, 'q' },
		{ "format", required_argument, NULL, 'F' }, { "filter", required_argument, NULL, 'f' },
		{ "no-trunc", no_argument, NULL, 'T' }, { "last", required_argument, NULL, 'n' },
		{ "latest", no_argument, NULL, 'l' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = cm_cli_getopt(argc, argv, "aqf:n:lh", longopts, ps_usage, err)) != -1) {
		switch (c) {
		case 'a': o->all = true; break;
		case 'q': o->quiet = true; break;
		case 'T': o->no_trunc = true; break;
		case 'l': o->last = 1; break;
		case 'F': o->format = optarg; break;
		case 'n':
			if (cm_cli_parse_int(optarg, "--last", &o->last, err) < 0)
				return -1;
			break;
		case 'f':
			if (cm_ps_filter_add(o->filter, optarg, err) < 0)
				return -1;
			break;
		default:
			return c == 'h' ? 1 : -1;
		}
	}
	if (optind < argc)
		return cm_err(err, 0, "ps takes no arguments (see --help)");
	if (o->format && !*o->format)
		return cm_err(err, 0, "ps --format: empty format");
	if (o->last >= 0 || cm_ps_filter_has_status(o->filter))
		o->all = true;
	return 0;
}

/* Go templates as Podman's users write them: "\t" and "\n" typed as text. */
static char *unescape(const char *s)
{
	char *out = cm_strdup(s), *w = out;
	for (const char *p = s; *p; p++) {
		if (p[0] == '\\' && (p[1] == 't' || p[1] == 'n')) {
			*w++ = p[1] == 't' ? '\t' : '\n';
			p++;
		} else {
			*w++ = *p;
		}
	}
	*w = '\0';
	return out;
}

static int print_rows(json_t *rows, const struct ps_opts *o, struct cm_error *err)
{
	size_t i;
	json_t *row;
	if (o->quiet) {
		json_array_foreach(rows, i, row)
			printf("%s\n", cm_json_str(row, "ID"));
		return 0;
	}
	if (o->format && !strcmp(o->format, "json")) {
		cm_autofree char *text = json_dumps(rows, JSON_INDENT(2));
		puts(text);
		return 0;
	}
	if (o->format) {
		bool table = !strncmp(o->format, "table", 5) && (!o->format[5] || o->format[5] == ' ');
		cm_autofree char *tmpl = unescape(table ? o->format + 5 + (o->format[5] == ' ') : o->format);
		if (table && !*tmpl) {
			table = false; /* "table" alone: the default table */
		} else {
			if (table) {
				json_t *probe = json_array_size(rows) ? json_incref(json_array_get(rows, 0))
								       : ps_row(json_object(), &(struct cm_ctr_state){ 0 },
										"created", false, 0);
				json_t *h = header_row(probe);
				cm_autofree char *text = cm_template_render(tmpl, h, err);
				json_decref(h);
				json_decref(probe);
				if (!text)
					return -1;
				puts(text);
			}
			json_array_foreach(rows, i, row) {
				cm_autofree char *text = cm_template_render(tmpl, row, err);
				if (!text)
					return -1;
				puts(text);
			}
			return 0;
		}
	}
	printf("%-12s  %-12s  %-24s  %-18s  %-28s  %-20s  %s\n", "CONTAINER ID", "IMAGE", "COMMAND",
	       "CREATED", "STATUS", "PORTS", "NAMES");
	json_array_foreach(rows, i, row) {
		printf("%-12s  %-12s  %-24.*s  %-18s  %-28s  %-20s  %s\n", cm_json_str(row, "ID"),
		       cm_json_str(row, "Image"), o->no_trunc ? 1 << 20 : 24, cm_json_str(row, "Command"),
		       cm_json_str(row, "RunningFor"), cm_json_str(row, "Status"), cm_json_str(row, "Ports"),
		       cm_json_str(row, "Names"));
	}
	return 0;
}

int cm_cmd_ps(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	struct ps_opts o = { .last = -1, .filter = cm_ps_filter_new() };
	int r = parse_ps_opts(argc, argv, &o, err);
	if (r != 0) {
		cm_ps_filter_free(o.filter);
		return r > 0 ? 0 : -1;
	}
	json_t *recs = cm_store_list_ctrs(st, err), *rec, *rows = json_array();
	if (!recs) {
		cm_ps_filter_free(o.filter);
		json_decref(rows);
		return -1;
	}
	time_t now = time(NULL);
	size_t i;
	json_array_foreach(recs, i, rec) {
		struct cm_ctr_state s;
		cm_ctr_state_get(st, rec, &s);
		bool paused = s.status == CM_CTR_RUNNING &&
			      cm_cgroup_frozen((pid_t)cm_json_int(rec, "pid", 0));
		const char *state = paused ? "paused" : cm_ctr_status_name(s.status);
		json_t *image = json_object_get(rec, "image");
		struct cm_ps_item it = { cm_json_str(rec, "id"), cm_json_str(rec, "name"), state,
					 cm_json_str(image, "name"), cm_json_str(image, "id") };
		if ((o.all || s.status == CM_CTR_RUNNING) && cm_ps_filter_match(o.filter, &it))
			json_array_append_new(rows, ps_row(rec, &s, state, o.no_trunc, now));
		cm_ctr_state_free(&s);
	}
	json_decref(recs);
	cm_ps_filter_free(o.filter);
	/* oldest first, as always: --last keeps the tail */
	while (o.last >= 0 && json_array_size(rows) > (size_t)o.last)
		json_array_remove(rows, 0);
	int ret = print_rows(rows, &o, err);
	json_decref(rows);
	return ret;
}
