/* What the commands share: the command table's shape and option helpers.
 * Commands return 0, a positive exit status of their own, or -1 with err set;
 * only main() prints errors. */
#ifndef CM_CLI_H
#define CM_CLI_H

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct cm_store;
struct cm_error;

enum {
	CM_CMD_LOCK = 1 << 0,   /* main takes the store lock before running it */
	CM_CMD_ROOT = 1 << 1,   /* needs root */
	CM_CMD_HIDDEN = 1 << 2, /* internal, not listed in help */
	CM_CMD_NOSTORE = 1 << 3, /* runs without opening the store */
	CM_CMD_READONLY = 1 << 4, /* reads a store that must exist; creates nothing */
};

struct cm_cmd {
	const char *name;
	int (*fn)(struct cm_store *st, int argc, char **argv, struct cm_error *err);
	unsigned flags;
	const char *summary;
};

/* main's command table, handed over for completion (main is not linked
 * into the unit tests). */
void cm_cli_set_commands(const struct cm_cmd *cmds, size_t n);
const struct cm_cmd *cm_cli_commands(size_t *n);

/* Option parsing for one command: returns the option character, -1 at the
 * end, 'h' after printing usage to stdout (caller returns 0), or '?' after
 * setting err (unknown option or missing argument). */
int cm_cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts,
		  const char *usage, struct cm_error *err);

/* For commands whose only options are -l/--latest and -h/--help: returns 0
 * with *latest set, 1 after printing usage (the caller returns 0), or -1
 * with err set. args_first: stop at the first argument (top's descriptors
 * look like options). */
int cm_cli_latest_only(int argc, char **argv, bool args_first, const char *usage, bool *latest,
		       struct cm_error *err);

/* Containers named on the command line, or the newest with -l, or all with -a.
 * Returns a json array of records, or NULL with err set. */
json_t *cm_cli_select_ctrs(struct cm_store *st, bool all, bool latest, int argc, char **argv,
			   const char *usage, struct cm_error *err);

int cm_cli_parse_int(const char *s, const char *what, int *out, struct cm_error *err);
int cm_cli_parse_signal(const char *s, int *out, struct cm_error *err);

/* Every command's entry point. */
int cm_cmd_check(struct cm_store *, int, char **, struct cm_error *);
int cm_cmd_image(struct cm_store *, int, char **, struct cm_error *);
int cm_cmd_pull(struct cm_store *, int, char **, struct cm_error *);
int cm_cmd_push(struct cm_store *, int, char **, struct cm_error *);
int cm_cmd_run(struct cm_store *, int, char **, struct cm_error *);
int cm_cmd_create(struct cm_store *, int, char **, struct cm_error *);
int cm_cmd_start(struct cm_store *, int, char **, struct cm_error *);
int cm_cmd_stop(struct cm_store *, int, char **, struct cm_error *);
int cm_cmd_kill(struct cm_store *, int, char **, struct cm_error *);
int cm_cmd_rm(struct cm_store *, int, char **, struct cm_error *);
int cm_cmd_ps(struct cm_store *, int, char **, struct cm_error *);
int cm_cmd_inspect(struct cm_store *, int, char **, struct cm_error *);
int cm_cmd_logs(struct cm_store *, int, char **, struct cm_error *);
int cm_cmd_exec(struct cm_store *, int, char **, struct cm_error *);
int cm_cmd_top(struct cm_store *, int, char **, struct cm_error *);
int cm_cmd_checkpoint(struct cm_store *, int, char **, struct cm_error *);
int cm_cmd_restore(struct cm_store *, int, char **, struct cm_error *);
int cm_cmd_export(struct cm_store *, int, char **, struct cm_error *);
int cm_cmd_import(struct cm_store *, int, char **, struct cm_error *);
int cm_cmd_trust(struct cm_store *, int, char **, struct cm_error *);
int cm_cmd_attach(struct cm_store *, int, char **, struct cm_error *);
int cm_cmd_port(struct cm_store *, int, char **, struct cm_error *);
int cm_cmd_network(struct cm_store *, int, char **, struct cm_error *);
int cm_cmd_pause(struct cm_store *, int, char **, struct cm_error *);
int cm_cmd_unpause(struct cm_store *, int, char **, struct cm_error *);
int cm_cmd_wait(struct cm_store *, int, char **, struct cm_error *);
int cm_cmd_restart(struct cm_store *, int, char **, struct cm_error *);
int cm_cmd_rename(struct cm_store *, int, char **, struct cm_error *);
int cm_cmd_diff(struct cm_store *, int, char **, struct cm_error *);
int cm_cmd_cp(struct cm_store *, int, char **, struct cm_error *);
int cm_cmd_stats(struct cm_store *, int, char **, struct cm_error *);
int cm_cmd_completion(struct cm_store *, int, char **, struct cm_error *);
int cm_cmd_container_prune(struct cm_store *, int, char **, struct cm_error *);
int cm_cmd_migrate(struct cm_store *, int, char **, struct cm_error *);
int cm_cmd_migrate_preflight(struct cm_store *, int, char **, struct cm_error *);
int cm_cmd_migrate_abort(struct cm_store *, int, char **, struct cm_error *);

#endif
