#include "cli.h"
#include "signal_name.h"
#include "error.h"
#include "store.h"
#include "util.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static const struct cm_cmd *all_cmds;
static size_t n_cmds;

void cm_cli_set_commands(const struct cm_cmd *cmds, size_t n)
{
	all_cmds = cmds;
	n_cmds = n;
}

const struct cm_cmd *cm_cli_commands(size_t *n)
{
	*n = n_cmds;
	return all_cmds;
}

int cm_cli_latest_only(int argc, char **argv, bool args_first, const char *usage, bool *latest,
		       struct cm_error *err)
{
	static const struct option longopts[] = {
		{ "latest", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	*latest = false;
	while ((c = cm_cli_getopt(argc, argv, args_first ? "+lh" : "lh", longopts, usage, err)) != -1) {
		if (c != 'l')
			return c == 'h' ? 1 : -1;
		*latest = true;
	}
	return 0;
}

int cm_cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts,
		  const char *usage, struct cm_error *err)
{
	opterr = 0;
	int c = getopt_long(argc, argv, shortopts, longopts, NULL);
	if (c == 'h') {
		fputs(usage, stdout);
		return 'h';
	}
	if (c == '?' || c == ':') {
		/* getopt returns '?' for a missing value too, with optopt set to
		 * the option: tell the two apart */
		const char *opt = argv[optind - 1];
		const char *known = optopt > 0 && optopt < 256 ? strchr(shortopts, optopt) : NULL;
		bool is_long = !strncmp(opt, "--", 2);
		if (optopt && is_long && strchr(opt, '='))
			cm_err(err, 0, "option %.*s takes no value (see --help)", (int)strcspn(opt, "="), opt);
		else if (optopt && (is_long || (known && known[1] == ':')))
			cm_err(err, 0, "option %s needs a value (see --help)", opt);
		else if (optopt)
			cm_err(err, 0, "unknown option -%c (see --help)", optopt);
		else
			cm_err(err, 0, "unknown or incomplete option %s (see --help)", opt);
		return '?';
	}
	return c;
}

json_t *cm_cli_select_ctrs(struct cm_store *st, bool all, bool latest, int argc, char **argv,
			   const char *usage, struct cm_error *err)
{
	if ((all || latest) && argc > 0) {
		cm_err(err, 0, "give container names or --all/--latest, not both");
		return NULL;
	}
	if (all)
		return cm_store_list_ctrs(st, err);
	json_t *arr = json_array();
	if (latest) {
		json_t *rec = cm_store_latest_ctr(st, err);
		if (!rec) {
			json_decref(arr);
			return NULL;
		}
		json_array_append_new(arr, rec);
		return arr;
	}
	(void)usage; /* errors are one line: --help shows it */
	if (argc == 0) {
		json_decref(arr);
		cm_err(err, 0, "no container given (see --help)");
		return NULL;
	}
	for (int i = 0; i < argc; i++) {
		json_t *rec = cm_store_find_ctr(st, argv[i], err);
		if (!rec) {
			json_decref(arr);
			return NULL;
		}
		json_array_append_new(arr, rec);
	}
	return arr;
}

int cm_cli_parse_int(const char *s, const char *what, int *out, struct cm_error *err)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < 0 || v > 1000000)
		return cm_err(err, 0, "%s: '%s' is not a whole number", what, s);
	*out = (int)v;
	return 0;
}

int cm_cli_parse_signal(const char *s, int *out, struct cm_error *err)
{
	if (cm_signal_parse(s, out) < 0)
		return cm_err(err, 0, "unknown signal %s", s);
	return 0;
}
