/* ctrmig checkpoint | restore, and Docker's checkpoint create | ls | rm */
#include "archive_io.h"
#include "caps.h"
#include "checkpoint.h"
#include "checkpoint_image.h"
#include "cli.h"
#include "progress.h"
#include "image.h"
#include "pull.h"
#include "reference.h"
#include "ports.h"
#include "container.h"
#include "criu_kdat.h"
#include "error.h"
#include "image.h"
#include "jsonio.h"
#include "listeners.h"
#include "oci_spec.h"
#include "store.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GRANT_USAGE                                                                         \
	"\n"                                                                                  \
	"What an archive may have beyond ctrmig's defaults (see ctrmig-archive(5), Trust),\n" \
	"unless a trusted key signed it:\n"                                                   \
	"  -v, --volume SRC:DST[:ro]  allow the recorded volume at DST, from SRC on this host\n" \
	"      --privileged           allow privileged mode and any capability\n"            \
	"      --cap-add CAP          allow a recorded extra capability\n"                   \
	"      --device PATH          allow a recorded device\n"                             \
	"      --network host         allow the host's network\n"                            \
	"  -p, --publish [[IP:][HOSTPORT]:]PORT[/PROTO]  publish these ports instead of the\n" \
	"                             archive's (repeatable; its own need -p or trust)\n"    \
	"      --trust-archive-config allow everything the archive's record asks for\n"     \
	"\n"                                                                                  \
	"A base image that is not here is pulled by digest from where it came from:\n"      \
	"      --tls-verify=false     allow plain HTTP for that pull\n"

static const char checkpoint_usage[] =
	"Usage: ctrmig checkpoint [OPTIONS] [-a | -l | CONTAINER...]\n"
	"       ctrmig checkpoint create [--leave-running] [--checkpoint-dir DIR] CONTAINER NAME\n"
	"       ctrmig checkpoint ls [--checkpoint-dir DIR] CONTAINER\n"
	"       ctrmig checkpoint rm [--checkpoint-dir DIR] CONTAINER NAME\n"
	"\n"
	"Save running containers' memory and processes to disk with CRIU (through runc).\n"
	"The container stops, shown as checkpointed, until 'ctrmig restore'.\n"
	"\n"
	"Options:\n"
	"  -a, --all              every running container\n"
	"  -l, --latest           the newest container\n"
	"  -R, --leave-running    keep the container running after the checkpoint\n"
	"  -k, --keep             keep CRIU's log and work files\n"
	"      --tcp-established  checkpoint established TCP connections\n"
	"      --file-locks       checkpoint file locks\n"
	"  -P, --pre-checkpoint   dump memory only, keep running (needs dirty-memory tracking)\n"
	"      --with-previous    final dump on top of the pre-checkpoint: only changed pages\n"
	"      --print-stats      print timing and CRIU statistics as JSON on stdout\n"
	"  -e, --export FILE|-    also write the checkpoint as one archive (- for stdout)\n"
	"  -c, --compress ALGO    zstd (default, level 1, all cores), gzip (one core) or none\n"
	"      --ignore-rootfs    leave the container's file changes out of the archive\n"
	"      --include-image    put the base image in the archive too\n"
	"      --sign-key FILE    sign with this Ed25519 key (default: this host's, see ctrmig-trust(1))\n"
	"  -q, --quiet            no progress (shown only when stderr is a terminal)\n"
	"      --create-image REF also make a checkpoint image REF (Kubernetes' format: the archive\n"
	"                         as one layer, CRI-O's and checkpointctl's annotations); see\n"
	"                         'ctrmig image push' and 'ctrmig restore REF'\n"
	"  -h, --help             show this help\n"
	"\n"
	"A container literally named create, ls or rm is addressed after '--':\n"
	"  ctrmig checkpoint -- create\n";

static const char restore_usage[] =
	"Usage: ctrmig restore [OPTIONS] [-a | -l | CONTAINER...]\n"
	"       ctrmig restore [OPTIONS] -i FILE|-|IMAGE\n"
	"       ctrmig restore [OPTIONS] IMAGE\n"
	"\n"
	"Bring checkpointed containers back from their checkpoint, memory and\n"
	"processes as they were. Without --keep the checkpoint is used up. -i takes\n"
	"an archive (ctrmig's, Podman's or CRI-O's) or a checkpoint image; a name\n"
	"that is no container here is a checkpoint image, here or pulled.\n"
	"\n"
	"Options:\n"
	"  -a, --all              every checkpointed container\n"
	"  -l, --latest           the newest container\n"
	"  -k, --keep             keep the checkpoint (restore it again later) and CRIU's log\n"
	"      --tcp-established  restore established TCP connections\n"
	"      --file-locks       restore file locks\n"
	"      --print-stats      print timing and CRIU statistics as JSON on stdout\n"
	"  -i, --import FILE|-    restore from an archive (- for stdin) into this store\n"
	"  -n, --name NAME        with -i: a new name (and id), to start several copies\n"
	"      --import-previous FILE\n"
	"                         with -i: the pre-checkpoint archive (checkpoint -P -e)\n"
	"                         of a checkpoint made --with-previous\n"
	"      --ignore-rootfs    with -i: do not apply the archive's file changes\n"
	"      --ignore-static-ip take a new address instead of the container's own\n"
	"      --ignore-static-mac take a new MAC address instead of the container's own\n"
	"  -q, --quiet            no progress (shown only when stderr is a terminal)\n"
	"      --lazy             run at once: CRIU's lazy-pages daemon brings the memory in\n"
	"                         on demand and then in the background (userfaultfd)\n"
	"  -h, --help             show this help\n"
	GRANT_USAGE;

static void print_stats(const char *verb, double total, json_t *per_ctr)
{
	cm_autofree char *key = cm_strfmt("ctrmig_%s_duration", verb);
	json_t *out = json_pack("{s:I, s:O}", key, (json_int_t)(total * 1e6), "container_statistics",
				per_ctr);
	cm_autofree char *text = json_dumps(out, JSON_INDENT(2));
	puts(text);
	json_decref(out);
}

static json_t *ctr_stats(json_t *rec, const char *verb, const struct cm_ckpt_result *r)
{
	cm_autofree char *key = cm_strfmt("runtime_%s_duration", verb);
	json_t *j = json_pack("{s:s, s:s, s:I}", "Id", cm_json_str(rec, "id"), "Name",
			      cm_json_str(rec, "name"), key, (json_int_t)(r->runtime_seconds * 1e6));
	if (r->has_stats)
		json_object_set_new(j, "criu_statistics", cm_criu_stats_json(&r->stats));
	return j;
}

/* Only running containers for -a, only restorable ones for restore -a. */
static json_t *keep_status(struct cm_store *st, json_t *recs, bool running)
{
	json_t *out = json_array(), *rec;
	size_t i;
	json_array_foreach(recs, i, rec) {
		enum cm_ctr_status now = cm_ctr_status_of(st, rec);
		if ((now == CM_CTR_RUNNING) == running &&
		    (running || now == CM_CTR_CHECKPOINTED))
			json_array_append(out, rec);
	}
	json_decref(recs);
	return out;
}

/* Runs one verb over the selected containers (consuming recs): prints each
 * name, or with --print-stats one JSON document for all. */
static int for_each_ctr(struct cm_store *st, json_t *recs, const char *verb, bool stats, bool quiet,
			int (*one)(struct cm_store *, json_t *, const void *, struct cm_ckpt_result *,
				   struct cm_error *),
			const void *opts, struct cm_error *err)
{
	double t0 = cm_monotonic_seconds();
	json_t *per_ctr = json_array(), *rec;
	size_t i;
	int ret = 0;
	json_array_foreach(recs, i, rec) {
		struct cm_ckpt_result r;
		if (one(st, rec, opts, &r, err) < 0) {
			ret = -1;
			break;
		}
		json_array_append_new(per_ctr, ctr_stats(rec, verb, &r));
		if (!stats && !quiet)
			printf("%s\n", cm_json_str(rec, "name"));
	}
	if (ret == 0 && stats && !quiet)
		print_stats(verb, cm_monotonic_seconds() - t0, per_ctr);
	json_decref(per_ctr);
	json_decref(recs);
	return ret;
}

static int restore_one(struct cm_store *st, json_t *rec, const void *o, struct cm_ckpt_result *r,
		       struct cm_error *err)
{
	return cm_ckpt_restore(st, rec, o, r, err);
}

/* ---- Docker style -------------------------------------------------------- */

static int docker_style(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	static const struct option longopts[] = {
		{ "leave-running", no_argument, NULL, 'R' },
		{ "checkpoint-dir", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sub = argv[0], *dir = NULL;
	bool leave_running = false;
	int c;
	while ((c = cm_cli_getopt(argc, argv, "h", longopts, checkpoint_usage, err)) != -1) {
		if (c == 'R' && !strcmp(sub, "create")) {
			leave_running = true;
			continue;
		}
		if (c == 'D') {
			dir = optarg;
			continue;
		}
		if (c == 'h')
			return 0;
		if (c == 'R')
			return cm_err(err, 0, "checkpoint %s takes no --leave-running", sub);
		return -1;
	}
	int want = !strcmp(sub, "ls") ? 1 : 2;
	if (argc - optind != want)
		return cm_err(err, 0, "checkpoint %s takes %s", sub,
			      want == 1 ? "CONTAINER" : "CONTAINER NAME");
	if (dir && dir[0] != '/')
		return cm_err(err, 0, "--checkpoint-dir %s: must be an absolute path", dir);
	json_t *rec = cm_store_find_ctr(st, argv[optind], err);
	if (!rec)
		return -1;
	int ret = 0;
	if (!strcmp(sub, "create")) {
		struct cm_ckpt_opts o = { .leave_running = leave_running, .name = argv[optind + 1],
					  .parent_dir = dir };
		struct cm_ckpt_result r;
		ret = cm_ckpt_dump(st, rec, &o, &r, err);
		if (ret == 0)
			printf("%s\n", argv[optind + 1]);
	} else if (!strcmp(sub, "ls")) {
		json_t *names = cm_ckpt_named_list(st, rec, dir, err), *v;
		size_t i;
		if (!names)
			ret = -1;
		else
			puts("CHECKPOINT NAME");
		json_array_foreach(names, i, v)
			puts(json_string_value(v));
		json_decref(names);
	} else {
		ret = cm_ckpt_named_remove(st, rec, dir, argv[optind + 1], err);
	}
	json_decref(rec);
	return ret;
}

/* ---- Podman style --------------------------------------------------------- */

enum {
	OPT_TCP = 256,
	OPT_LOCKS,
	OPT_PREVIOUS,
	OPT_STATS,
	OPT_IGNORE_ROOTFS,
	OPT_INCLUDE_IMAGE,
	OPT_IMPORT_PREVIOUS,
	OPT_PRIVILEGED,
	OPT_CAP_ADD,
	OPT_DEVICE,
	OPT_NETWORK,
	OPT_TRUST_CONFIG,
	OPT_IGNORE_STATIC_IP,
	OPT_IGNORE_STATIC_MAC,
	OPT_LAZY,
	OPT_LAZY_PAGE_SERVER,
	OPT_SAY_READY,
	OPT_SIGN_KEY,
	OPT_CREATE_IMAGE,
	OPT_TLS_VERIFY,
};

/* The flags with which restore -i and import allow an archive more than
 * ctrmig's defaults. Returns 1 when c was one of them, -1 on a bad value. */
static int grant_opt(int c, struct cm_grant_opts *g, struct cm_error *err)
{
	json_t *v;
	switch (c) {
	case 'v':
		if (!(v = cm_oci_volume_parse(optarg, err)))
			return -1;
		json_array_append_new(g->volumes ? g->volumes : (g->volumes = json_array()), v);
		return 1;
	case OPT_DEVICE:
		if (!(v = cm_config_device_parse(optarg, err)))
			return -1;
		json_array_append_new(g->devices ? g->devices : (g->devices = json_array()), v);
		return 1;
	case OPT_CAP_ADD:
		if (cm_cap_number(optarg) < 0)
			return cm_err(err, 0, "--cap-add %s: not a capability", optarg);
		json_array_append_new(g->cap_add ? g->cap_add : (g->cap_add = json_array()),
				      json_string(optarg));
		return 1;
	case OPT_NETWORK:
		if (strcmp(optarg, "host"))
			return cm_err(err, 0, "--network %s: a restored container keeps its network; only "
					      "--network host (to allow the host's) is taken here", optarg);
		g->network = optarg;
		return 1;
	case OPT_PRIVILEGED:
		g->privileged = true;
		return 1;
	case OPT_TRUST_CONFIG:
		g->trust_all = true;
		return 1;
	case 'p':
		if (!(v = cm_port_parse(optarg, err)))
			return -1;
		json_array_append_new(g->ports ? g->ports : (g->ports = json_array()), v);
		return 1;
	}
	return 0;
}

/* --tls-verify=false: the base image may be pulled over plain HTTP. */
static int tls_opt(int c, int *tls_verify, struct cm_error *err)
{
	if (c != OPT_TLS_VERIFY)
		return 0;
	if (strcmp(optarg, "true") && strcmp(optarg, "false"))
		return cm_err(err, 0, "--tls-verify takes true or false");
	*tls_verify = !strcmp(optarg, "true");
	return 1;
}

static bool grants_given(const struct cm_grant_opts *g)
{
	return g->volumes || g->devices || g->cap_add || g->network || g->privileged || g->trust_all ||
	       g->ports;
}

static void grants_free(struct cm_grant_opts *g)
{
	json_decref(g->volumes);
	json_decref(g->devices);
	json_decref(g->cap_add);
	json_decref(g->ports);
}

#define GRANT_LONGOPTS                                                      \
	{ "volume", required_argument, NULL, 'v' },                        \
	{ "privileged", no_argument, NULL, OPT_PRIVILEGED },               \
	{ "cap-add", required_argument, NULL, OPT_CAP_ADD },               \
	{ "device", required_argument, NULL, OPT_DEVICE },                 \
	{ "network", required_argument, NULL, OPT_NETWORK },               \
	{ "publish", required_argument, NULL, 'p' },                       \
	{ "trust-archive-config", no_argument, NULL, OPT_TRUST_CONFIG },      \
	{ "tls-verify", required_argument, NULL, OPT_TLS_VERIFY }


/* checkpoint -e: the dump, then the archive (as migrate does);
 * --create-image: the dump, then the checkpoint image. */
struct dump_export {
	struct cm_ckpt_opts ckpt;
	struct cm_export_opts exp;
	const char *image; /* --create-image REF */
};

static int dump_and_export(struct cm_store *st, json_t *rec, const void *arg,
			   struct cm_ckpt_result *r, struct cm_error *err)
{
	const struct dump_export *de = arg;
	if (cm_archive_dump_export(st, rec, &de->ckpt, &de->exp, r, err) < 0)
		return -1;
	if (!de->image)
		return 0;
	json_t *fresh = cm_store_find_ctr(st, cm_json_str(rec, "id"), err);
	json_t *img = fresh ? cm_ckpt_image_create(st, fresh, de->image, de->exp.sign_key, err) : NULL;
	json_decref(fresh);
	json_decref(img);
	return img ? 0 : -1;
}

int cm_cmd_checkpoint(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	if (argc > 1 && (!strcmp(argv[1], "create") || !strcmp(argv[1], "ls") ||
			 !strcmp(argv[1], "rm")))
		return docker_style(st, argc - 1, argv + 1, err);
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "latest", no_argument, NULL, 'l' },
		{ "leave-running", no_argument, NULL, 'R' },
		{ "keep", no_argument, NULL, 'k' },
		{ "tcp-established", no_argument, NULL, OPT_TCP },
		{ "file-locks", no_argument, NULL, OPT_LOCKS },
		{ "pre-checkpoint", no_argument, NULL, 'P' },
		{ "with-previous", no_argument, NULL, OPT_PREVIOUS },
		{ "print-stats", no_argument, NULL, OPT_STATS },
		{ "export", required_argument, NULL, 'e' },
		{ "compress", required_argument, NULL, 'c' },
		{ "ignore-rootfs", no_argument, NULL, OPT_IGNORE_ROOTFS },
		{ "include-image", no_argument, NULL, OPT_INCLUDE_IMAGE },
		{ "sign-key", required_argument, NULL, OPT_SIGN_KEY },
		{ "create-image", required_argument, NULL, OPT_CREATE_IMAGE },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct dump_export de = { .exp.fd = -1 };
	struct cm_ckpt_opts o = { 0 };
	bool all = false, latest = false, stats = false;
	int c;
	bool quiet = false;
	while ((c = cm_cli_getopt(argc, argv, "alRkPe:c:qh", longopts, checkpoint_usage, err)) != -1) {
		switch (c) {
		case 'q': quiet = true; break;
		case 'e': de.exp.output = optarg; break;
		case 'c': de.exp.compression = optarg; break;
		case OPT_IGNORE_ROOTFS: de.exp.ignore_rootfs = true; break;
		case OPT_INCLUDE_IMAGE: de.exp.include_image = true; break;
		case OPT_SIGN_KEY: de.exp.sign_key = optarg; break;
		case OPT_CREATE_IMAGE: de.image = optarg; break;
		case 'a': all = true; break;
		case 'l': latest = true; break;
		case 'R': o.leave_running = true; break;
		case 'k': o.keep = true; break;
		case 'P': o.pre_dump = true; break;
		case OPT_TCP: o.tcp_established = true; break;
		case OPT_LOCKS: o.file_locks = true; break;
		case OPT_PREVIOUS: o.with_previous = true; break;
		case OPT_STATS: stats = true; break;
		case 'h': return 0;
		default: return -1;
		}
	}
	json_t *recs = cm_cli_select_ctrs(st, all, latest, argc - optind, argv + optind,
					  checkpoint_usage, err);
	if (!recs)
		return -1;
	if (all)
		recs = keep_status(st, recs, true);
	if (de.image && (json_array_size(recs) != 1 || o.pre_dump)) {
		json_decref(recs);
		return cm_err(err, 0, "--create-image takes exactly one container and a full checkpoint");
	}
	if (!de.exp.output && (de.exp.compression || de.exp.ignore_rootfs || de.exp.include_image ||
			       (de.exp.sign_key && !de.image))) {
		json_decref(recs);
		return cm_err(err, 0, "--compress, --ignore-rootfs, --include-image and --sign-key go with --export");
	}
	if (de.exp.output && json_array_size(recs) != 1) {
		json_decref(recs);
		return cm_err(err, 0, "--export takes exactly one container");
	}
	if (de.exp.output && o.pre_dump && (de.exp.ignore_rootfs || de.exp.include_image)) {
		json_decref(recs);
		return cm_err(err, 0, "a pre-checkpoint archive holds memory only: --ignore-rootfs and "
				      "--include-image go with the final checkpoint");
	}
	if (de.exp.output && cm_archive_export_check(&de.exp, err) < 0) {
		json_decref(recs);
		return cm_err_wrap(err, "--export %s", de.exp.output);
	}
	de.exp.pre_checkpoint = o.pre_dump;
	/* CRIU kills the container, and its monitor releases the address and
	 * the cgroup in the background, during the export; the archive is
	 * sealed once that is done, so that its restore in another store on
	 * this host, under the same id, cannot race the release (the plugins
	 * key everything by id), even through a pipe. */
	o.wait_released = de.exp.output && !o.leave_running && !o.pre_dump;
	de.ckpt = o;
	cm_progress_enable(!quiet && isatty(STDERR_FILENO));
	/* With -e -, stdout is the archive: names and stats go nowhere else. */
	bool archive_on_stdout = de.exp.output && !strcmp(de.exp.output, "-");
	return for_each_ctr(st, recs, "checkpoint", stats, archive_on_stdout, dump_and_export, &de, err);
}

/* A restore -i that failed after the import: the archive is the copy to
 * keep, so the imported container goes again, with the log CRIU's error
 * points at; -k keeps both to look into and retry. */
static void undo_import(struct cm_store *st, json_t *rec, bool keep, struct cm_error *err)
{
	const char *name = cm_json_str(rec, "name");
	cm_autofree char *msg = NULL;
	if (keep) {
		msg = cm_strfmt("%s; the imported container %s stays checkpointed ('ctrmig restore %s' "
				"retries)", err->msg, name, name);
	} else {
		char *log = strstr(err->msg, " (full log: ");
		if (log)
			*log = '\0';
		struct cm_error ignored = { 0 };
		if (cm_ctr_remove(st, rec, true, &ignored) == 0 && cm_json_bool(rec, "image_imported"))
			cm_image_remove(st, cm_json_str(json_object_get(rec, "image"), "id"), &ignored);
		cm_error_clear(&ignored);
		msg = cm_strfmt("%s (the imported container is removed again; restore -k -i keeps it "
				"and CRIU's log)", err->msg);
	}
	cm_err(err, 0, "%s", msg);
}

/* Standard input can carry one archive, not both. */
static int check_import_inputs(const struct cm_import_opts *io, struct cm_error *err)
{
	if (io->previous && !strcmp(io->previous, "-") && !strcmp(io->input, "-"))
		return cm_err(err, 0, "only one archive can come from standard input");
	return 0;
}

static bool ctr_exists(struct cm_store *st, const char *ref)
{
	json_t *rec = cm_store_find_ctr(st, ref, NULL);
	json_decref(rec);
	return rec != NULL;
}

/* A reference rather than a path: no slash before the name's first dot or
 * colon, as "registry:5000/x" or "localhost/ckpt:1" have; "./a.tar" is a path. */
static bool looks_like_image(const char *s)
{
	struct cm_error e = { 0 };
	cm_autofree char *norm = s[0] != '/' && s[0] != '.' ? cm_ref_normalize(s, &e) : NULL;
	cm_error_clear(&e);
	return norm != NULL;
}

/* The archive inside checkpoint image ref, pulled first if it is not here. */
static char *checkpoint_image_archive(struct cm_store *st, const char *ref, int tls_verify, struct cm_error *err)
{
	json_t *img = cm_image_find(st, ref, NULL);
	if (!img && looks_like_image(ref)) {
		struct cm_pull_opts po = { .tls_verify = tls_verify };
		img = cm_image_pull(st, ref, &po, err);
		if (!img) {
			cm_err_wrap(err, "%s is no container here, and no checkpoint image could be pulled", ref);
			return NULL;
		}
	}
	if (!img) {
		cm_err(err, 0, "no container or checkpoint image %s", ref);
		return NULL;
	}
	char *archive = NULL;
	if (!cm_ckpt_image_is(st, img))
		cm_err(err, 0, "image %s is not a checkpoint image (no checkpoint annotation)", ref);
	else
		archive = cm_ckpt_image_archive(st, img, err);
	json_decref(img);
	return archive;
}

/* migrate --lazy's page port here (ssh's remote forward) reaches the
 * source's memory: it must exist and listen on loopback alone, which sshd's
 * GatewayPorts yes would not keep, whatever address the client asked for. */
static int page_port_private(const char *at, struct cm_error *err)
{
	const char *colon = strrchr(at, ':');
	char *end = NULL;
	long port = colon ? strtol(colon + 1, &end, 10) : 0;
	if (!colon || strncmp(at, "127.0.0.1:", 10) || *end || port <= 0 || port > 65535)
		return cm_err(err, 0, "--lazy-page-server %s: not 127.0.0.1:PORT", at);
	return cm_listen_loopback_only((int)port, "--lazy", err);
}

/* One line, then stdout is /dev/null: the reader may stop reading. */
static int say_ready_once(void)
{
	if (fputs("ready\n", stdout) == EOF || fflush(stdout) == EOF)
		return -1;
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (null < 0 || dup2(null, STDOUT_FILENO) < 0)
		return -1;
	close(null);
	return 0;
}

int cm_cmd_restore(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "latest", no_argument, NULL, 'l' },
		{ "keep", no_argument, NULL, 'k' },
		{ "tcp-established", no_argument, NULL, OPT_TCP },
		{ "file-locks", no_argument, NULL, OPT_LOCKS },
		{ "print-stats", no_argument, NULL, OPT_STATS },
		{ "import", required_argument, NULL, 'i' },
		{ "name", required_argument, NULL, 'n' },
		{ "import-previous", required_argument, NULL, OPT_IMPORT_PREVIOUS },
		{ "ignore-rootfs", no_argument, NULL, OPT_IGNORE_ROOTFS },
		{ "ignore-static-ip", no_argument, NULL, OPT_IGNORE_STATIC_IP },
		{ "lazy", no_argument, NULL, OPT_LAZY },
		/* migrate --lazy's, on the target: where the pages are */
		{ "lazy-page-server", required_argument, NULL, OPT_LAZY_PAGE_SERVER },
		/* migrate's, on the target: "ready" on stdout once the archive is
		 * awaited, so that the freeze waits for ssh and this start-up */
		{ "say-ready", no_argument, NULL, OPT_SAY_READY },
		{ "quiet", no_argument, NULL, 'q' },
		{ "ignore-static-mac", no_argument, NULL, OPT_IGNORE_STATIC_MAC },
		GRANT_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *from_image = NULL;
	struct cm_restore_opts o = { 0 };
	struct cm_import_opts io = { .tls_verify = -1 };
	bool all = false, latest = false, stats = false;
	int c, ret = -1;
	bool quiet = false, say_ready = false;
	while ((c = cm_cli_getopt(argc, argv, "alki:n:v:p:qh", longopts, restore_usage, err)) != -1) {
		int g = grant_opt(c, &io.grants, err);
		if (g == 0)
			g = tls_opt(c, &io.tls_verify, err);
		if (g < 0)
			goto out;
		if (g > 0)
			continue;
		switch (c) {
		case 'i': io.input = optarg; break;
		case 'n': io.name = optarg; break;
		case OPT_IMPORT_PREVIOUS: io.previous = optarg; break;
		case OPT_IGNORE_ROOTFS: io.ignore_rootfs = true; break;
		case 'a': all = true; break;
		case 'l': latest = true; break;
		case 'k': o.keep = true; break;
		case OPT_TCP: o.tcp_established = true; break;
		case OPT_LOCKS: o.file_locks = true; break;
		case OPT_IGNORE_STATIC_IP: o.ignore_static_ip = true; break;
		case OPT_LAZY: o.lazy = true; break;
		case OPT_LAZY_PAGE_SERVER: o.lazy = true, o.lazy_page_server = optarg; break;
		case OPT_SAY_READY: say_ready = true; break;
		case 'q': quiet = true; break;
		case OPT_IGNORE_STATIC_MAC: o.ignore_static_mac = true; break;
		case OPT_STATS: stats = true; break;
		case 'h': ret = 0; goto out;
		default: goto out;
		}
	}
	if (io.name && !io.input) {
		cm_err(err, 0, "-n goes with -i: it names the copy an archive restores as");
		goto out;
	}
	/* As Podman: a copy has a new address, and a connection bound to the
	 * old one cannot come back there. */
	if (io.name && o.tcp_established) {
		cm_err(err, 0, "--tcp-established cannot be used with -n: a copy gets a new address");
		goto out;
	}
	/* -p replaces the published ports: in place, or as what -i allows. */
	o.ports = io.grants.ports;
	json_t *ports = cm_steal_ptr(&io.grants.ports);
	bool import_only = io.previous || io.ignore_rootfs || grants_given(&io.grants);
	io.grants.ports = ports;
	if (import_only && !io.input) {
		cm_err(err, 0, "--import-previous, --ignore-rootfs and the options that allow an "
			       "archive more (-v, --privileged, ...) go with -i");
		goto out;
	}
	/* restore REF / restore -i REF: a checkpoint image, here or pulled */
	if (!io.input && !all && !latest && argc - optind == 1 && !ctr_exists(st, argv[optind])) {
		if (!(from_image = checkpoint_image_archive(st, argv[optind], io.tls_verify, err)))
			goto out;
		io.input = from_image;
		optind++;
	} else if (io.input && strcmp(io.input, "-") && !cm_path_exists(io.input) && looks_like_image(io.input)) {
		if (!(from_image = checkpoint_image_archive(st, io.input, io.tls_verify, err)))
			goto out;
		io.input = from_image;
	}
	if (io.input && check_import_inputs(&io, err) < 0)
		goto out;
	cm_progress_enable(!quiet && isatty(STDERR_FILENO));
	if (io.input && (all || latest || optind < argc)) {
		cm_err(err, 0, "-i restores the archive's container: give no container names");
		goto out;
	}
	json_t *recs;
	if (io.input) {
		/* Its images are read once, by this restore (or, with --lazy,
		 * its lazy-pages daemon), then deleted: in memory if it allows.
		 * Kept (-k), on disk. */
		io.stage_in_memory = !o.keep;
		/* and with --lazy, the memory only as the container touches it,
		 * straight from the file */
		io.lazy_pages = o.lazy && !o.keep && !o.lazy_page_server && strcmp(io.input, "-");
		if (o.lazy_page_server && page_port_private(o.lazy_page_server, err) < 0)
			goto out;
		/* CRIU's kernel probe, if it must be written, before the
		 * source freezes: not in the downtime */
		if (say_ready)
			cm_criu_kdat_keep();
		if (say_ready && say_ready_once() < 0) {
			cm_err(err, errno, "--say-ready: write to stdout");
			goto out;
		}
		json_t *rec = cm_archive_import(st, &io, err);
		if (!rec)
			goto out;
		recs = json_pack("[o]", rec);
		ret = for_each_ctr(st, json_incref(recs), "restore", stats, false, restore_one, &o, err);
		if (ret < 0)
			undo_import(st, json_array_get(recs, 0), o.keep, err);
		json_decref(recs);
		goto out;
	}
	recs = cm_cli_select_ctrs(st, all, latest, argc - optind, argv + optind, restore_usage, err);
	if (!recs)
		goto out;
	if (all)
		recs = keep_status(st, recs, false);
	ret = for_each_ctr(st, recs, "restore", stats, false, restore_one, &o, err);
out:
	free(from_image);
	grants_free(&io.grants);
	return ret;
}

static const char export_usage[] =
	"Usage: ctrmig export [OPTIONS] CONTAINER -o FILE|-\n"
	"\n"
	"Write a checkpointed container's checkpoint, config and file changes as one\n"
	"archive (see ctrmig-archive(5)); - writes to stdout.\n"
	"\n"
	"Options:\n"
	"  -o, --output FILE|-    where to write (FILE.tmp, fsynced, renamed; mode 0600)\n"
	"  -c, --compress ALGO    zstd (default, level 1, all cores), gzip (one core) or none\n"
	"      --ignore-rootfs    leave the container's file changes out\n"
	"      --include-image    put the base image in the archive too\n"
	"  -P, --pre-checkpoint   the container's pre-checkpoint instead (memory only)\n"
	"      --sign-key FILE    sign with this Ed25519 key (default: this host's)\n"
	"  -h, --help             show this help\n";

int cm_cmd_export(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "compress", required_argument, NULL, 'c' },
		{ "ignore-rootfs", no_argument, NULL, OPT_IGNORE_ROOTFS },
		{ "include-image", no_argument, NULL, OPT_INCLUDE_IMAGE },
		{ "pre-checkpoint", no_argument, NULL, 'P' },
		{ "sign-key", required_argument, NULL, OPT_SIGN_KEY },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cm_export_opts o = { 0 };
	int c;
	while ((c = cm_cli_getopt(argc, argv, "o:c:Ph", longopts, export_usage, err)) != -1) {
		switch (c) {
		case 'o': o.output = optarg; break;
		case 'P': o.pre_checkpoint = true; break;
		case 'c': o.compression = optarg; break;
		case OPT_IGNORE_ROOTFS: o.ignore_rootfs = true; break;
		case OPT_INCLUDE_IMAGE: o.include_image = true; break;
		case OPT_SIGN_KEY: o.sign_key = optarg; break;
		case 'h': return 0;
		default: return -1;
		}
	}
	if (!o.output)
		return cm_err(err, 0, "export needs -o FILE or -o - for stdout");
	if (o.pre_checkpoint && (o.ignore_rootfs || o.include_image))
		return cm_err(err, 0, "a pre-checkpoint archive holds memory only: --ignore-rootfs and "
				      "--include-image go with the final checkpoint");
	if (argc - optind != 1)
		return cm_err(err, 0, "export takes one container");
	json_t *rec = cm_store_find_ctr(st, argv[optind], err);
	if (!rec)
		return -1;
	/* A running container's files change while they are packed. */
	enum cm_ctr_status now = cm_ctr_status_of(st, rec);
	if (now == CM_CTR_RUNNING && !o.pre_checkpoint) {
		cm_err(err, 0, "export %s: the container is running: 'ctrmig checkpoint -e FILE %s' "
			       "checkpoints and exports it", cm_json_str(rec, "name"), cm_json_str(rec, "name"));
		json_decref(rec);
		return -1;
	}
	int ret = cm_archive_export(st, rec, &o, err);
	json_decref(rec);
	return ret;
}

static const char import_usage[] =
	"Usage: ctrmig import [OPTIONS] FILE|-\n"
	"\n"
	"Register the container in a checkpoint archive (- for stdin) in this store, as\n"
	"checkpointed; 'ctrmig restore NAME' starts it. The base image must be here\n"
	"(matched by content digest) or carried in the archive (--include-image).\n"
	"\n"
	"Options:\n"
	"      --name NAME              a new name (and id) instead of the archive's\n"
	"      --import-previous FILE   the pre-checkpoint archive of a checkpoint made\n"
	"                               --with-previous\n"
	"      --ignore-rootfs          do not apply the archive's file changes\n"
	"  -h, --help                   show this help\n"
	GRANT_USAGE;

int cm_cmd_import(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	static const struct option longopts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "import-previous", required_argument, NULL, OPT_IMPORT_PREVIOUS },
		{ "ignore-rootfs", no_argument, NULL, OPT_IGNORE_ROOTFS },
		GRANT_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cm_import_opts o = { .tls_verify = -1 };
	int c, ret = -1;
	while ((c = cm_cli_getopt(argc, argv, "n:v:p:h", longopts, import_usage, err)) != -1) {
		int g = grant_opt(c, &o.grants, err);
		if (g == 0)
			g = tls_opt(c, &o.tls_verify, err);
		if (g < 0)
			goto out;
		if (g > 0)
			continue;
		switch (c) {
		case 'n': o.name = optarg; break;
		case OPT_IMPORT_PREVIOUS: o.previous = optarg; break;
		case OPT_IGNORE_ROOTFS: o.ignore_rootfs = true; break;
		case 'h': ret = 0; goto out;
		default: goto out;
		}
	}
	if (argc - optind != 1) {
		cm_err(err, 0, "import takes one archive (FILE or - for stdin)");
		goto out;
	}
	o.input = argv[optind];
	if (check_import_inputs(&o, err) < 0)
		goto out;
	json_t *rec = cm_archive_import(st, &o, err);
	if (rec) {
		printf("%s\n", cm_json_str(rec, "name"));
		json_decref(rec);
		ret = 0;
	}
out:
	grants_free(&o.grants);
	return ret;
}
