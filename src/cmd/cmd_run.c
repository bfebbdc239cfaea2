/* ctrmig run | create | start */
#include "caps.h"
#include "checkpoint.h"
#include "attach_session.h"
#include "cli.h"
#include "container.h"
#include "ctr_config.h"
#include "ctr_log.h"
#include "error.h"
#include "image.h"
#include "image_config.h"
#include "signal_name.h"
#include "user.h"
#include "jsonio.h"
#include "monitor.h"
#include "net_opts.h"
#include "networks.h"
#include "oci_spec.h"
#include "store.h"
#include "util.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char run_usage[] =
	"Usage: ctrmig run [OPTIONS] IMAGE [COMMAND [ARG...]]\n"
	"\n"
	"Create a container from IMAGE and start it. Without -d, its output is shown\n"
	"and ctrmig exits with the container's exit status.\n"
	"\n"
	"Options:\n"
	"  -d, --detach             run in the background and print the container id\n"
	"  -i, --interactive        keep the container's stdin open (and attach it, without -d)\n"
	"  -t, --tty                give the container a terminal (attach with ctrmig attach)\n"
	"      --detach-keys KEYS   keys that detach from -it (default \"ctrl-p,ctrl-q\")\n"
	"      --name NAME          name the container (default: ctr-<id prefix>)\n"
	"      --rm                 remove the container when it exits\n"
	"  -e, --env KEY=VALUE      set an environment variable (repeatable)\n"
	"  -w, --workdir DIR        working directory inside the container (default: the image's)\n"
	"  -u, --user USER[:GROUP]  run as this user, a name in the image or a number\n"
	"      --entrypoint CMD     replace the image's Entrypoint (\"\" clears it)\n"
	"      --tmpfs PATH         mount a tmpfs at PATH (repeatable)\n"
	"  -v, --volume SRC:DST[:ro] bind-mount a host folder (repeatable)\n"
	"      --network MODE|NAME  bridge (default: the network 'ctrmig'), a network's name,\n"
	"                           none (loopback only) or host (the host's)\n"
	"  -p, --publish [[IP:][HOSTPORT]:]PORT[/tcp|udp]  publish a port on the host (repeatable)\n"
	"  -P, --publish-all        publish every exposed port on a free host port\n"
	"      --expose PORT[/PROTO] expose a port without publishing it (repeatable)\n"
	"      --ip ADDRESS         the container's IPv4 address on its network\n"
	"      --mac-address MAC    the container's MAC address\n"
	"      --hostname NAME      the container's host name (default: its id prefix)\n"
	"      --dns IP             a DNS server for /etc/resolv.conf (repeatable)\n"
	"      --dns-search DOMAIN  a search domain for /etc/resolv.conf (repeatable)\n"
	"      --dns-option OPT     an option for /etc/resolv.conf (repeatable)\n"
	"      --add-host NAME:IP   add a line to /etc/hosts (repeatable)\n"
	"      --privileged         every capability, no masked paths, access to all devices\n"
	"      --cap-add CAP        add a capability to the default set (repeatable)\n"
	"      --cap-drop CAP|ALL   drop a capability (repeatable)\n"
	"      --device HOST[:CTR][:rwm]  give the container a host device (repeatable)\n"
	"  -h, --help               show this help\n";

static const char create_usage[] =
	"Usage: ctrmig create [OPTIONS] IMAGE [COMMAND [ARG...]]\n"
	"\n"
	"Create a container from IMAGE without starting it; prints its id.\n"
	"Takes the options of 'ctrmig run' except -d and --detach-keys.\n";

static const char start_usage[] =
	"Usage: ctrmig start [-a] [--checkpoint NAME [--checkpoint-dir DIR]] -l | CONTAINER...\n"
	"\n"
	"Start created or exited containers in the background. With --checkpoint,\n"
	"restore the container from a named checkpoint instead (Docker's way); the\n"
	"checkpoint is kept.\n"
	"\n"
	"Options:\n"
	"      --checkpoint NAME      restore from this checkpoint (see 'checkpoint create')\n"
	"      --checkpoint-dir DIR   where named checkpoints are (default: the container's)\n"
	"  -a, --attach               attach to the container (one) and return its status\n"
	"      --detach-keys KEYS     with -a: keys that detach (default \"ctrl-p,ctrl-q\")\n"
	"  -l, --latest               the newest container\n"
	"  -h, --help                 show this help\n";

struct run_opts {
	bool detach, remove;
	const char *name;
	const char *user;       /* -u, or NULL for the image's */
	const char *entrypoint; /* --entrypoint, or NULL for the image's */
	bool workdir_given;
	bool interactive, tty;   /* -i, -t */
	const char *detach_keys; /* run -it */
	json_t *config;
	struct net_opts net;
};

static int parse_run_opts(int argc, char **argv, bool is_run, struct run_opts *o,
			  struct cm_error *err)
{
	static const struct option longopts[] = {
		{ "detach", no_argument, NULL, 'd' },    { "name", required_argument, NULL, 'n' },
		{ "rm", no_argument, NULL, 'r' },        { "env", required_argument, NULL, 'e' },
		{ "workdir", required_argument, NULL, 'w' }, { "tmpfs", required_argument, NULL, 'f' },
		{ "volume", required_argument, NULL, 'v' }, { "network", required_argument, NULL, 'N' },
		{ "net", required_argument, NULL, 'N' }, { "help", no_argument, NULL, 'h' },
		{ "privileged", no_argument, NULL, 'G' }, { "cap-add", required_argument, NULL, 'A' },
		{ "cap-drop", required_argument, NULL, 'D' }, { "device", required_argument, NULL, 'V' },
		{ "user", required_argument, NULL, 'u' }, { "entrypoint", required_argument, NULL, 'E' },
		{ "publish", required_argument, NULL, 'p' }, { "publish-all", no_argument, NULL, 'a' },
		{ "expose", required_argument, NULL, 'x' }, { "ip", required_argument, NULL, 'I' },
		{ "mac-address", required_argument, NULL, 'M' }, { "hostname", required_argument, NULL, 'H' },
		{ "dns", required_argument, NULL, 'S' }, { "dns-search", required_argument, NULL, 'R' },
		{ "dns-option", required_argument, NULL, 'O' }, { "add-host", required_argument, NULL, 'T' },
		{ "interactive", no_argument, NULL, 'i' }, { "tty", no_argument, NULL, 'y' },
		{ "detach-keys", required_argument, NULL, 'K' },
		{ NULL, 0, NULL, 0 },
	};
	const char *usage = is_run ? run_usage : create_usage;
	json_t *env = json_array(), *tmpfs = json_array(), *volumes = json_array();
	json_t *cap_add = json_array(), *cap_drop = json_array(), *devices = json_array();
	const char *workdir = "/";
	bool privileged = false;
	int c;
	o->config = NULL;
	o->net = (struct net_opts){ .network = "bridge", .ports = json_array(), .expose = json_array(),
				    .dns = json_array(), .dns_search = json_array(),
				    .dns_options = json_array(), .add_hosts = json_array() };
	while ((c = cm_cli_getopt(argc, argv, is_run ? "+de:w:v:u:p:Pith" : "+e:w:v:u:p:Pith", longopts,
				  usage, err)) != -1) {
		switch (c) {
		case 'd':
			if (!is_run)
				goto unknown;
			o->detach = true;
			break;
		case 'n':
			o->name = optarg;
			break;
		case 'i':
			o->interactive = true;
			break;
		case 't':
		case 'y':
			o->tty = true;
			break;
		case 'K':
			if (!is_run)
				goto unknown;
			o->detach_keys = optarg;
			break;
		case 'r':
			o->remove = true;
			break;
		case 'e':
			if (!strchr(optarg, '=') || optarg[0] == '=') {
				cm_err(err, 0, "--env %s: expected KEY=VALUE", optarg);
				goto fail;
			}
			json_array_append_new(env, json_string(optarg));
			break;
		case 'w':
			if (optarg[0] != '/') {
				cm_err(err, 0, "--workdir %s: must be an absolute path", optarg);
				goto fail;
			}
			workdir = optarg;
			o->workdir_given = true;
			break;
		case 'u':
			if (!*optarg || strlen(optarg) > 256) {
				cm_err(err, 0, "--user %s: expected USER[:GROUP]", optarg);
				goto fail;
			}
			o->user = optarg;
			break;
		case 'E':
			o->entrypoint = optarg;
			break;
		case 'f':
			if (optarg[0] != '/' || strchr(optarg, ':')) {
				cm_err(err, 0, "--tmpfs %s: expected an absolute path", optarg);
				goto fail;
			}
			json_array_append_new(tmpfs, json_string(optarg));
			break;
		case 'v': {
			json_t *vol = cm_oci_volume_parse(optarg, err);
			if (!vol)
				goto fail;
			json_array_append_new(volumes, vol);
			break;
		}
		case 'N':
			if (!cm_net_is_mode(optarg) && !cm_net_name_valid(optarg)) {
				cm_err(err, 0, "--network %s: expected bridge, none, host or a network's name", optarg);
				goto fail;
			}
			o->net.network = optarg;
			break;
		case 'P':
			o->net.publish_all = true;
			break;
		case 'p':
		case 'a':
		case 'x':
		case 'I':
		case 'M':
		case 'H':
		case 'S':
		case 'R':
		case 'O':
		case 'T':
			if (cm_net_opt(&o->net, c == 'a' ? 'P' : c, optarg, err) < 0)
				goto fail;
			break;
		case 'G':
			privileged = true;
			break;
		case 'A':
		case 'D':
			if (cm_cap_number(optarg) < 0 && (c == 'A' || strcasecmp(optarg, "ALL"))) {
				cm_err(err, 0, "--cap-%s %s: not a capability", c == 'A' ? "add" : "drop", optarg);
				goto fail;
			}
			json_array_append_new(c == 'A' ? cap_add : cap_drop, json_string(optarg));
			break;
		case 'V': {
			json_t *dev = cm_config_device_parse(optarg, err);
			if (!dev)
				goto fail;
			json_array_append_new(devices, dev);
			break;
		}
		case 'h':
			json_decref(env), json_decref(tmpfs), json_decref(volumes);
			json_decref(cap_add), json_decref(cap_drop), json_decref(devices);
			cm_net_opts_free(&o->net);
			return 1;
		default:
			goto fail;
		}
	}
	if (optind >= argc) {
		cm_err(err, 0, "no image given (see 'ctrmig %s --help')", is_run ? "run" : "create");
		goto fail;
	}
	json_t *cmd = json_array();
	for (int i = optind + 1; i < argc; i++)
		json_array_append_new(cmd, json_string(argv[i]));
	o->config = json_pack("{s:o, s:o, s:s, s:o, s:o}", "cmd", cmd, "env", env, "workdir",
			      workdir, "tmpfs", tmpfs, "volumes", volumes);
	/* Grants are recorded only when given, so that archives of plain
	 * containers stay readable by ctrmig versions that predate them. */
	if (privileged)
		json_object_set_new(o->config, "privileged", json_true());
	if (o->tty)
		json_object_set_new(o->config, "tty", json_true());
	if (o->interactive)
		json_object_set_new(o->config, "stdin_open", json_true());
	const char *keys[] = { "cap_add", "cap_drop", "devices" };
	json_t *lists[] = { cap_add, cap_drop, devices };
	for (size_t k = 0; k < 3; k++) {
		if (json_array_size(lists[k]))
			json_object_set(o->config, keys[k], lists[k]);
		json_decref(lists[k]);
	}
	return 0;
unknown:
	cm_err(err, 0, "unknown option (see --help)");
fail:
	json_decref(env), json_decref(tmpfs), json_decref(volumes);
	json_decref(cap_add), json_decref(cap_drop), json_decref(devices);
	cm_net_opts_free(&o->net);
	return -1;
}

/* Docker's rules: --entrypoint replaces the image's Entrypoint (and then
 * the image's Cmd is not used); a command on the line replaces Cmd. */
static json_t *command_line(json_t *run, const struct run_opts *o, json_t *given)
{
	json_t *argv = json_array(), *v;
	size_t i;
	if (o->entrypoint) {
		if (*o->entrypoint)
			json_array_append_new(argv, json_string(o->entrypoint));
	} else {
		json_array_foreach(json_object_get(run, "Entrypoint"), i, v)
			if (json_is_string(v))
				json_array_append(argv, v);
	}
	json_t *cmd = json_array_size(given) || o->entrypoint ? given : json_object_get(run, "Cmd");
	json_array_foreach(cmd, i, v)
		if (json_is_string(v))
			json_array_append(argv, v);
	return argv;
}

/* The image's config under the command line's: command, environment,
 * working folder, user (resolved in the image) and stop signal. */
static int apply_image_config(struct cm_store *st, json_t *image, struct run_opts *o,
			      struct cm_error *err)
{
	json_t *run = cm_image_run_config(image), *config = o->config, *v;
	json_t *argv = command_line(run, o, json_object_get(config, "cmd"));
	/* A rootfs imported without a config runs a shell, as before. */
	if (!json_array_size(argv) && !run)
		json_array_append_new(argv, json_string("/bin/sh"));
	json_object_set_new(config, "cmd", argv);

	json_t *env = json_array();
	size_t i;
	json_array_foreach(json_object_get(run, "Env"), i, v)
		if (json_is_string(v) && strchr(json_string_value(v), '='))
			cm_oci_env_set(env, json_string_value(v));
	json_array_foreach(json_object_get(config, "env"), i, v)
		cm_oci_env_set(env, json_string_value(v));
	json_object_set_new(config, "env", env);

	const char *wd = cm_json_str(run, "WorkingDir");
	if (!o->workdir_given && wd && cm_config_path_ok(wd))
		json_object_set_new(config, "workdir", json_string(wd));
	const char *sig = cm_json_str(run, "StopSignal");
	int signum;
	if (sig && *sig) {
		if (cm_signal_parse(sig, &signum) < 0)
			return cm_err(err, 0, "the image's StopSignal %.32s is not a signal", sig);
		json_object_set_new(config, "stop_signal", json_string(sig));
	}
	const char *user = o->user ? o->user : cm_json_str(run, "User");
	if (user && *user) {
		cm_autofree char *layers = cm_image_rootfs(st, cm_json_str(image, "id"));
		struct cm_user u;
		if (cm_user_resolve_lowerdir(user, layers, &u, err) < 0)
			return -1;
		json_object_set_new(config, "user", json_string(user));
		json_object_set_new(config, "uid", json_integer(u.uid));
		json_object_set_new(config, "gid", json_integer(u.gid));
		if (json_array_size(u.groups))
			json_object_set(config, "groups", u.groups);
		json_decref(u.groups);
	}
	return 0;
}

static json_t *create_from_args(struct cm_store *st, int argc, char **argv, bool is_run,
				struct run_opts *o, struct cm_error *err)
{
	int r = parse_run_opts(argc, argv, is_run, o, err);
	if (r != 0)
		return NULL;
	const char *image_ref = argv[optind];
	json_t *image = cm_image_find(st, image_ref, err), *rec = NULL;
	if (!image || apply_image_config(st, image, o, err) < 0) {
		cm_err_wrap(err, "%s", is_run ? "run" : "create");
		json_decref(image);
		goto out;
	}
	if (cm_net_opts_apply(st, &o->net, cm_image_run_config(image), o->config, err) < 0) {
		cm_err_wrap(err, "%s", is_run ? "run" : "create");
		json_decref(image);
		goto out;
	}
	rec = cm_ctr_create(st, o->name, image, o->config, err);
	json_decref(image);
out:
	cm_net_opts_free(&o->net);
	json_decref(o->config);
	return rec;
}

int cm_cmd_create(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	struct run_opts o = { 0 };
	json_t *rec = create_from_args(st, argc, argv, false, &o, err);
	if (!rec)
		return err->msg ? -1 : 0;
	printf("%s\n", cm_json_str(rec, "id"));
	json_decref(rec);
	return 0;
}

/* ---- attached run: show the output, pass on Ctrl-C, return its status ---- */

static volatile sig_atomic_t pending_signal;

static void remember_signal(int sig)
{
	pending_signal = sig;
}

struct attached {
	struct cm_store *st;
	json_t *rec;
};

static bool attached_alive(void *arg)
{
	struct attached *a = arg;
	if (pending_signal) {
		kill((pid_t)cm_json_int(a->rec, "pid", 0), pending_signal);
		pending_signal = 0;
	}
	struct cm_ctr_state s;
	cm_ctr_state_get(a->st, a->rec, &s);
	cm_ctr_state_free(&s);
	return s.status == CM_CTR_RUNNING;
}

static int run_attached(struct cm_store *st, json_t *rec, bool remove, struct cm_error *err)
{
	struct sigaction sa = { .sa_handler = remember_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	cm_store_unlock(st); /* other commands may run while we watch */

	struct attached a = { st, rec };
	off_t offset = 0;
	cm_autofree char *log = cm_store_ctr_path(st, cm_json_str(rec, "id"), "ctr.log");
	cm_ctr_log_print(log, &offset, true, attached_alive, &a);
	cm_ctr_wait_exit(st, rec, 10);
	struct cm_ctr_state s;
	cm_ctr_state_get(st, rec, &s);
	cm_ctr_state_free(&s);
	if (remove) {
		if (cm_store_lock(st, err) < 0)
			return -1;
		json_t *fresh = cm_store_find_ctr(st, cm_json_str(rec, "id"), err);
		if (!fresh || cm_ctr_remove(st, fresh, true, err) < 0) {
			json_decref(fresh);
			return -1;
		}
		json_decref(fresh);
	}
	return s.exit_code;
}

/* run -it / -i: attached through the monitor; --rm once it has ended. */
static int run_session(struct cm_store *st, json_t *rec, const struct cm_attach_opts *ao, bool remove,
		       struct cm_error *err)
{
	cm_store_unlock(st); /* other commands (checkpoint!) may run while we are attached */
	bool detached;
	int ret = cm_attach_session(st, rec, ao, &detached, err);
	if (ret < 0 || detached || !remove)
		return ret;
	if (cm_store_lock(st, err) < 0)
		return -1;
	json_t *fresh = cm_store_find_ctr(st, cm_json_str(rec, "id"), NULL);
	struct cm_error ignored = { 0 };
	if (fresh)
		cm_ctr_remove(st, fresh, true, &ignored);
	cm_error_clear(&ignored);
	json_decref(fresh);
	return ret;
}

int cm_cmd_run(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	struct run_opts o = { 0 };
	json_t *rec = create_from_args(st, argc, argv, true, &o, err);
	if (!rec)
		return err->msg ? -1 : 0;
	int ret = cm_ctr_start(st, rec, o.remove && o.detach, err);
	if (ret < 0) {
		/* A container that never ran is not left behind by a failed run. */
		struct cm_error ignored = { 0 };
		cm_ctr_remove(st, rec, true, &ignored);
		cm_error_clear(&ignored);
	} else if (o.detach) {
		printf("%s\n", cm_json_str(rec, "id"));
	} else if (o.tty || o.interactive) {
		struct cm_attach_opts ao = { .detach_keys = o.detach_keys, .replay = true };
		ret = run_session(st, rec, &ao, o.remove, err);
	} else {
		ret = run_attached(st, rec, o.remove, err);
	}
	json_decref(rec);
	return ret;
}

int cm_cmd_start(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	static const struct option longopts[] = {
		{ "checkpoint", required_argument, NULL, 'c' },
		{ "checkpoint-dir", required_argument, NULL, 'D' },
		{ "latest", no_argument, NULL, 'l' },
		{ "attach", no_argument, NULL, 'a' },
		{ "detach-keys", required_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cm_restore_opts ro = { .keep = true };
	struct cm_attach_opts ao = { .replay = true };
	bool latest = false, attach = false;
	int c;
	while ((c = cm_cli_getopt(argc, argv, "alh", longopts, start_usage, err)) != -1) {
		if (c == 'a')
			attach = true;
		else if (c == 'K')
			ao.detach_keys = optarg;
		else if (c == 'l')
			latest = true;
		else if (c == 'c')
			ro.name = optarg;
		else if (c == 'D')
			ro.parent_dir = optarg;
		else
			return c == 'h' ? 0 : -1;
	}
	if (ro.parent_dir && !ro.name)
		return cm_err(err, 0, "--checkpoint-dir goes with --checkpoint NAME");
	if (ro.parent_dir && ro.parent_dir[0] != '/')
		return cm_err(err, 0, "--checkpoint-dir %s: must be an absolute path", ro.parent_dir);
	json_t *recs = cm_cli_select_ctrs(st, false, latest, argc - optind, argv + optind,
					  start_usage, err), *rec;
	if (!recs)
		return -1;
	if (attach && json_array_size(recs) != 1) {
		json_decref(recs);
		return cm_err(err, 0, "start -a attaches to one container");
	}
	size_t i;
	int ret = 0;
	json_array_foreach(recs, i, rec) {
		struct cm_ckpt_result res;
		if ((ro.name ? cm_ckpt_restore(st, rec, &ro, &res, err) : cm_ctr_start(st, rec, false, err)) < 0) {
			ret = -1;
			break;
		}
		if (attach) {
			/* the output only, unless it has a terminal or an open stdin */
			json_t *config = json_object_get(rec, "config");
			ao.no_stdin = !cm_json_bool(config, "tty") && !cm_json_bool(config, "stdin_open");
			ret = run_session(st, rec, &ao, false, err);
			break;
		}
		printf("%s\n", cm_json_str(rec, "name"));
	}
	json_decref(recs);
	return ret;
}
