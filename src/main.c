/* ctrmig: global options, the command table, and the one place errors are printed. */
#include "cli.h"
#include "config_dir.h"
#include "container.h"
#include "error.h"
#include "monitor.h"
#include "ctr_net.h"
#include "lazy_pages.h"
#include "netns.h"
#include "store.h"
#include "util.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#ifndef CM_VERSION
#define CM_VERSION "0.1.0"
#endif
#ifndef CM_HELPER_DIR
#define CM_HELPER_DIR "/usr/local/libexec/ctrmig"
#endif
#define CM_DEFAULT_ROOT "/var/lib/ctrmig"

static int cmd_monitor(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	(void)err;
	return cm_monitor_main(st, argc - 1, argv + 1);
}

static int cmd_netns_hook(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	(void)st, (void)argc, (void)argv;
	return cm_netns_lo_up_hook(err);
}

static int cmd_net_wait_hook(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	(void)st, (void)argc, (void)argv;
	return cm_net_wait_hook(err);
}

static int cmd_lazy_serve(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	(void)st, (void)err;
	return cm_lazy_serve_main(argc, argv);
}

static const struct cm_cmd commands[] = {
	{ "check", cm_cmd_check, CM_CMD_NOSTORE, "say whether this host can run and checkpoint containers" },
	{ "image", cm_cmd_image, CM_CMD_ROOT, "manage images (pull, load, save, import, tag, ls, rm, inspect)" },
	{ "pull", cm_cmd_pull, CM_CMD_ROOT, "copy an image from a registry" },
	{ "push", cm_cmd_push, CM_CMD_ROOT, "send an image (a checkpoint image too) to a registry" },
	{ "run", cm_cmd_run, CM_CMD_ROOT | CM_CMD_LOCK, "create and start a container" },
	{ "create", cm_cmd_create, CM_CMD_ROOT | CM_CMD_LOCK, "create a container" },
	{ "start", cm_cmd_start, CM_CMD_ROOT | CM_CMD_LOCK, "start containers" },
	{ "stop", cm_cmd_stop, CM_CMD_ROOT | CM_CMD_LOCK, "stop containers" },
	{ "kill", cm_cmd_kill, CM_CMD_ROOT | CM_CMD_LOCK, "send a signal to containers" },
	{ "rm", cm_cmd_rm, CM_CMD_ROOT | CM_CMD_LOCK, "remove containers" },
	{ "checkpoint", cm_cmd_checkpoint, CM_CMD_ROOT | CM_CMD_LOCK, "checkpoint containers with CRIU" },
	{ "restore", cm_cmd_restore, CM_CMD_ROOT | CM_CMD_LOCK, "restore checkpointed containers" },
	{ "export", cm_cmd_export, CM_CMD_ROOT | CM_CMD_LOCK, "write a checkpointed container as one archive" },
	{ "import", cm_cmd_import, CM_CMD_ROOT | CM_CMD_LOCK, "register a container from a checkpoint archive" },
	{ "trust", cm_cmd_trust, CM_CMD_NOSTORE, "manage the signing key and the keys this host trusts" },
	{ "ps", cm_cmd_ps, CM_CMD_ROOT | CM_CMD_READONLY, "list containers" },
	{ "inspect", cm_cmd_inspect, CM_CMD_ROOT | CM_CMD_READONLY, "show a container's details as JSON" },
	{ "logs", cm_cmd_logs, CM_CMD_ROOT | CM_CMD_READONLY, "show a container's output" },
	{ "exec", cm_cmd_exec, CM_CMD_ROOT | CM_CMD_LOCK, "run a command in a running container" },
	{ "top", cm_cmd_top, CM_CMD_ROOT | CM_CMD_READONLY, "show a container's processes" },
	{ "attach", cm_cmd_attach, CM_CMD_ROOT | CM_CMD_READONLY, "attach to a running container's terminal or stdin" },
	{ "port", cm_cmd_port, CM_CMD_ROOT | CM_CMD_READONLY, "list a container's published ports" },
	{ "network", cm_cmd_network, CM_CMD_ROOT | CM_CMD_LOCK, "manage networks (create, ls, inspect, rm)" },
	{ "pause", cm_cmd_pause, CM_CMD_ROOT | CM_CMD_LOCK, "freeze containers' processes" },
	{ "unpause", cm_cmd_unpause, CM_CMD_ROOT | CM_CMD_LOCK, "let paused containers run again" },
	{ "wait", cm_cmd_wait, CM_CMD_ROOT | CM_CMD_READONLY, "wait for containers to exit, print their status" },
	{ "restart", cm_cmd_restart, CM_CMD_ROOT | CM_CMD_LOCK, "stop and start containers again" },
	{ "rename", cm_cmd_rename, CM_CMD_ROOT | CM_CMD_LOCK, "give a container another name" },
	{ "diff", cm_cmd_diff, CM_CMD_ROOT | CM_CMD_READONLY, "list the files a container added, changed, deleted" },
	{ "cp", cm_cmd_cp, CM_CMD_ROOT | CM_CMD_LOCK, "copy files between a container and the host" },
	{ "stats", cm_cmd_stats, CM_CMD_ROOT | CM_CMD_READONLY, "show containers' CPU and memory use" },
	{ "migrate", cm_cmd_migrate, CM_CMD_ROOT | CM_CMD_LOCK, "move a running container to another host or store" },
	{ "completion", cm_cmd_completion, CM_CMD_NOSTORE, "print a bash or zsh completion script" },
	/* reached as `container prune` only (see group_alias) */
	{ "container prune", cm_cmd_container_prune, CM_CMD_ROOT | CM_CMD_LOCK | CM_CMD_HIDDEN, "" },
	{ "__monitor", cmd_monitor, CM_CMD_HIDDEN, "" },
	/* run by migrate on its target */
	{ "__migrate-preflight", cm_cmd_migrate_preflight, CM_CMD_ROOT | CM_CMD_LOCK | CM_CMD_HIDDEN, "" },
	{ "__migrate-abort", cm_cmd_migrate_abort, CM_CMD_ROOT | CM_CMD_LOCK | CM_CMD_HIDDEN, "" },
	{ "__netns-lo-up", cmd_netns_hook, CM_CMD_HIDDEN | CM_CMD_NOSTORE, "" },
	{ "__net-wait", cmd_net_wait_hook, CM_CMD_HIDDEN | CM_CMD_NOSTORE, "" },
	{ "__lazy-serve", cmd_lazy_serve, CM_CMD_HIDDEN | CM_CMD_NOSTORE, "" },
};

/* Podman's long forms: `container ls`, `container rm`..., and `container
 * prune`, which has no short form. Moves optind past "container" and says
 * which command table entry is meant, or NULL. */
static const char *group_alias(int argc, char **argv, struct cm_error *err)
{
	static const char *const same[] = { "ls", "list", "ps", "rm", "inspect", "logs", "top",
					    "start", "stop", "kill", "restart", "wait", "pause",
					    "unpause", "rename", "stats", "diff", "cp", "create", "exec",
					    "run", "checkpoint", "restore", "export", "import", "prune" };
	if (optind + 1 >= argc) {
		cm_err(err, 0, "container needs a command: ls, rm, prune... (see ctrmig --help)");
		return NULL;
	}
	const char *sub = argv[++optind];
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		if (strcmp(sub, same[i]))
			continue;
		if (!strcmp(sub, "ls") || !strcmp(sub, "list"))
			return "ps";
		return !strcmp(sub, "prune") ? "container prune" : sub;
	}
	cm_err(err, 0, "unknown command container %s (see ctrmig --help)", sub);
	return NULL;
}

static void usage(FILE *out)
{
	fputs("Usage: ctrmig [--root DIR] [--config-dir DIR] [--runtime PATH] [--log-level LEVEL]\n"
	      "              COMMAND [ARGS...]\n"
	      "\n"
	      "Run containers with runc, checkpoint them with CRIU, carry them anywhere.\n"
	      "\n"
	      "Commands:\n",
	      out);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!(commands[i].flags & CM_CMD_HIDDEN))
			fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fputs("  container  the same as 'container ls|rm|...', and 'container prune'\n"
	      "\nOptions:\n"
	      "  --root DIR         store (default $CTRMIG_ROOT or " CM_DEFAULT_ROOT ")\n"
	      "  --config-dir DIR   signing key, trusted keys, policy (default $CTRMIG_CONFIG_DIR\n"
	      "                     or " CM_DEFAULT_CONFIG_DIR ")\n"
	      "  --runtime PATH     OCI runtime (default runc)\n"
	      "  --log-level LEVEL  error, warn, info or debug (default warn)\n"
	      "  -v, --version      print the version\n"
	      "  -h, --help         print this help\n"
	      "\nRun 'ctrmig COMMAND --help' for a command's options. See ctrmig(1).\n",
	      out);
}

/* runc runs `criu` from PATH: the CRIU set up by install-deps goes first. */
static void put_helpers_on_path(void)
{
	const char *dir = getenv("CTRMIG_HELPER_DIR");
	if (!dir)
		dir = CM_HELPER_DIR;
	if (!cm_path_exists(dir))
		return;
	const char *path = getenv("PATH");
	cm_autofree char *full = cm_strfmt("%s:%s", dir,
					   path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	setenv("PATH", full, 1);
}

/* stdout carries results: a failed write (full disk, closed pipe) is an error. */
static int finish_stdout(int ret)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno != EPIPE)
			fprintf(stderr, "Error: write to standard output: %s\n", strerror(errno));
		return ret == 0 ? CM_EXIT_ERROR : ret;
	}
	return ret;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "config-dir", required_argument, NULL, 'C' },
		{ "runtime", required_argument, NULL, 'R' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "version", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *root = getenv("CTRMIG_ROOT"), *runtime = "runc";
	int c;

	signal(SIGPIPE, SIG_IGN);
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+vh", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			root = optarg;
			break;
		case 'C':
			if (!*optarg) {
				fputs("Error: --config-dir needs a folder\n", stderr);
				return CM_EXIT_ERROR;
			}
			cm_config_dir_set(optarg);
			break;
		case 'R':
			runtime = optarg;
			break;
		case 'L':
			if (cm_log_level_parse(optarg, &cm_log_level) < 0) {
				fprintf(stderr, "Error: unknown log level %s (error, warn, info, debug)\n", optarg);
				return CM_EXIT_ERROR;
			}
			break;
		case 'v':
			printf("ctrmig version %s\n", CM_VERSION);
			return finish_stdout(0);
		case 'h':
			usage(stdout);
			return finish_stdout(0);
		default:
			fprintf(stderr, "Error: unknown or incomplete option %s (see ctrmig --help)\n",
				argv[optind - 1]);
			return CM_EXIT_ERROR;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return CM_EXIT_ERROR;
	}
	/* jansson, and every record, takes UTF-8 only: say so rather than drop it. */
	for (int i = 1; i < argc; i++) {
		if (!cm_utf8_valid(argv[i])) {
			fprintf(stderr, "Error: argument %d is not valid UTF-8\n", i);
			return CM_EXIT_ERROR;
		}
	}
	if (root && !cm_utf8_valid(root)) {
		fputs("Error: CTRMIG_ROOT is not valid UTF-8\n", stderr);
		return CM_EXIT_ERROR;
	}
	const char *name = argv[optind];
	struct cm_error err = { 0 };
	if (!strcmp(name, "container") && !(name = group_alias(argc, argv, &err))) {
		fprintf(stderr, "Error: %s\n", err.msg);
		cm_error_clear(&err);
		return CM_EXIT_ERROR;
	}
	const struct cm_cmd *cmd = NULL;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(commands[i].name, name))
			cmd = &commands[i];
	if (!cmd) {
		fprintf(stderr, "Error: unknown command %s (see ctrmig --help)\n", name);
		return CM_EXIT_ERROR;
	}
	put_helpers_on_path();
	cm_cli_set_commands(commands, sizeof(commands) / sizeof(commands[0]));

	struct cm_store st = { .lock_fd = -1 };
	int ret;
	bool wants_help = false;
	for (int i = optind + 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			wants_help = true;
	int at = optind;
	if ((cmd->flags & CM_CMD_ROOT) && geteuid() != 0 && !wants_help) {
		ret = cm_err(&err, 0, "ctrmig %s must run as root", name);
	} else if (cmd->flags & CM_CMD_NOSTORE) {
		/* named, not opened: such a command may read the store, never create it */
		st.root = cm_strdup(root ? root : CM_DEFAULT_ROOT);
		st.runtime = cm_strdup(runtime);
		optind = 0;
		ret = cmd->fn(&st, argc - at, argv + at, &err);
	} else if ((ret = cm_store_open(&st, root ? root : CM_DEFAULT_ROOT, runtime,
				       !(cmd->flags & CM_CMD_READONLY), &err)) == 0 &&
		   (!(cmd->flags & CM_CMD_LOCK) || wants_help ||
		    (ret = cm_store_lock(&st, &err)) == 0)) {
		if (cmd->flags & CM_CMD_LOCK && !wants_help)
			cm_ctr_recover(&st);
		optind = 0; /* each command parses its own options from scratch */
		ret = cmd->fn(&st, argc - at, argv + at, &err);
	}
	cm_store_close(&st);
	if (ret < 0) {
		fprintf(stderr, "Error: %s\n", err.msg ? err.msg : "unknown error");
		cm_error_clear(&err);
		ret = CM_EXIT_ERROR;
	}
	return finish_stdout(ret);
}
