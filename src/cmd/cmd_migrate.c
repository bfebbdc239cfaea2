/* ctrmig migrate, and the two hidden commands it runs on the target:
 * __migrate-preflight and __migrate-abort. */
#include "cli.h"
#include "progress.h"
#include "criu.h"
#include "error.h"
#include "jsonio.h"
#include "migrate.h"
#include "preflight.h"
#include "store.h"
#include "target.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char migrate_usage[] =
	"Usage: ctrmig migrate [OPTIONS] CONTAINER ssh://[USER@]HOST[:PORT]\n"
	"       ctrmig migrate [OPTIONS] --to-root DIR CONTAINER\n"
	"\n"
	"Move a running container to another host (through ssh) or another store on\n"
	"this host, memory, processes, file changes, name, id and address included.\n"
	"The target is checked first; then the container is checkpointed here, its\n"
	"archive streamed straight into 'ctrmig restore -i -' there, and removed here\n"
	"once it runs there. If anything fails after the freeze, the target is\n"
	"cleaned and the container runs here again. See ctrmig-migrate(1).\n"
	"\n"
	"Options:\n"
	"      --to-root DIR          the target is the store DIR on this host (no ssh)\n"
	"      --ssh-command CMD      ssh and its options, split on blanks (default\n"
	"                             $CTRMIG_SSH_COMMAND, else ssh)\n"
	"      --remote-root DIR      the store on the target (default: its own default)\n"
	"      --remote-ctrmig PATH   ctrmig on the target (default: ctrmig on its PATH)\n"
	"      --tcp-established      carry established TCP connections\n"
	"      --file-locks           carry file locks\n"
	"      --include-image        send the base image too (for a target without it)\n"
	"  -c, --compress ALGO        zstd (default), gzip or none\n"
	"      --print-stats          print the timings and bytes as JSON\n"
	"      --lazy                 post-copy: run there at once, the memory follows\n"
	"                             from a page server here (through ssh)\n"
	"      --pre-copy[=N]         iterative pre-dump (needs dirty-memory tracking)\n"
	"  -q, --quiet                no progress (shown only when stderr is a terminal)\n"
	"  -h, --help                 show this help\n";

enum {
	OPT_TO_ROOT = 256,
	OPT_SSH_COMMAND,
	OPT_REMOTE_ROOT,
	OPT_REMOTE_CTRMIG,
	OPT_TCP,
	OPT_LOCKS,
	OPT_INCLUDE_IMAGE,
	OPT_STATS,
	OPT_LAZY,
	OPT_PRE_COPY,
};

static int us(double seconds)
{
	return (int)(seconds * 1e6);
}

static void print_result(json_t *rec, const struct cm_mig_target *t, const struct cm_mig_result *r,
			 bool stats)
{
	const char *name = cm_json_str(rec, "name");
	if (!stats) {
		unsigned long long bytes = r->bytes + r->page_bytes;
		bool mib = bytes >= 1048576;
		printf("%s moved to %s%s%s: downtime %.3fs, %.1f %s sent, %.3fs in all\n", name, t->display,
		       r->ip ? " as " : "", r->ip ? r->ip : "", r->downtime,
		       (double)bytes / (mib ? 1048576 : 1024), mib ? "MiB" : "KiB", r->total);
		return;
	}
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s?, s:s?, s:I, s:i, s:i, s:i, s:i}", "Id",
			      cm_json_str(rec, "id"), "Name", name, "destination", t->display, "mode",
			      r->lazy ? "lazy" : "plain", "same_host", r->same_host, "target_version", r->target_version,
			      "ip", r->ip, "bytes_sent", (json_int_t)(r->bytes + r->page_bytes), "preflight_duration",
			      us(r->preflight), "runtime_checkpoint_duration", us(r->checkpoint),
			      "downtime", us(r->downtime), "ctrmig_migrate_duration", us(r->total));
	cm_autofree char *text = json_dumps(j, JSON_INDENT(2));
	puts(text);
	json_decref(j);
}

/* --pre-copy needs CRIU's dirty-memory tracking (soft-dirty bits). */
static int refuse_pre_copy(struct cm_error *err)
{
	if (!cm_criu_has_feature("mem_dirty_track"))
		return cm_err(err, 0, "--pre-copy needs dirty-memory tracking, which this host lacks ('criu "
				      "check --feature mem_dirty_track' fails: a kernel without "
				      "CONFIG_MEM_SOFT_DIRTY); migrate without it");
	return cm_err(err, 0, "--pre-copy is not implemented yet; migrate without it");
}

static bool same_store(const char *a, const char *b)
{
	char ra[PATH_MAX], rb[PATH_MAX];
	return realpath(a, ra) && realpath(b, rb) && !strcmp(ra, rb);
}

int cm_cmd_migrate(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	static const struct option longopts[] = {
		{ "to-root", required_argument, NULL, OPT_TO_ROOT },
		{ "ssh-command", required_argument, NULL, OPT_SSH_COMMAND },
		{ "remote-root", required_argument, NULL, OPT_REMOTE_ROOT },
		{ "remote-ctrmig", required_argument, NULL, OPT_REMOTE_CTRMIG },
		{ "tcp-established", no_argument, NULL, OPT_TCP },
		{ "file-locks", no_argument, NULL, OPT_LOCKS },
		{ "include-image", no_argument, NULL, OPT_INCLUDE_IMAGE },
		{ "compress", required_argument, NULL, 'c' },
		{ "print-stats", no_argument, NULL, OPT_STATS },
		{ "lazy", no_argument, NULL, OPT_LAZY },
		{ "pre-copy", optional_argument, NULL, OPT_PRE_COPY },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cm_mig_target_opts to = { 0 };
	struct cm_mig_opts o = { 0 };
	bool stats = false, lazy = false, pre_copy = false, quiet = false;
	int c;
	while ((c = cm_cli_getopt(argc, argv, "c:qh", longopts, migrate_usage, err)) != -1) {
		switch (c) {
		case 'q': quiet = true; break;
		case OPT_TO_ROOT: to.to_root = optarg; break;
		case OPT_SSH_COMMAND: to.ssh_command = optarg; break;
		case OPT_REMOTE_ROOT: to.remote_root = optarg; break;
		case OPT_REMOTE_CTRMIG: to.remote_ctrmig = optarg; break;
		case OPT_TCP: o.tcp_established = true; break;
		case OPT_LOCKS: o.file_locks = true; break;
		case OPT_INCLUDE_IMAGE: o.include_image = true; break;
		case 'c': o.compression = optarg; break;
		case OPT_STATS: stats = true; break;
		case OPT_LAZY: lazy = true; break;
		case OPT_PRE_COPY: pre_copy = true; break;
		case 'h': return 0;
		default: return -1;
		}
	}
	int want = to.to_root ? 1 : 2;
	if (argc - optind != want)
		return cm_err(err, 0, "migrate takes %s", to.to_root ? "CONTAINER (with --to-root DIR)"
							      : "CONTAINER ssh://[user@]host[:port] or --to-root DIR CONTAINER");
	if (pre_copy)
		return refuse_pre_copy(err);
	cm_progress_enable(!quiet && !stats && isatty(STDERR_FILENO));
	o.lazy = lazy;
	if (o.compression && strcmp(o.compression, "zstd") && strcmp(o.compression, "gzip") &&
	    strcmp(o.compression, "none"))
		return cm_err(err, 0, "unknown compression %s (zstd, gzip or none)", o.compression);
	if (to.to_root && same_store(to.to_root, st->root))
		return cm_err(err, 0, "--to-root %s is this store", to.to_root);
	to.dest = to.to_root ? NULL : argv[optind + 1];
	cm_autofree char *self = cm_self_exe(err);
	if (!self)
		return -1;
	to.self = self;
	struct cm_mig_target t;
	int ret = cm_mig_target_init(&t, &to, err);
	json_t *rec = ret == 0 ? cm_store_find_ctr(st, argv[optind], err) : NULL;
	if (rec) {
		struct cm_mig_result r;
		ret = cm_migrate(st, rec, &t, &o, &r, err);
		if (ret == 0)
			print_result(rec, &t, &r, stats);
		cm_mig_result_free(&r);
		json_decref(rec);
	} else {
		ret = -1;
	}
	cm_mig_target_free(&t);
	return ret;
}

/* ---- on the target ------------------------------------------------------- */

static const char preflight_usage[] =
	"Usage: ctrmig __migrate-preflight --id ID --name NAME --image JSON [--network NET [--ip IP]]\n"
	"                                  [--include-image] [--lazy] [--signer KEY] < cpuinfo.img\n"
	"(run by 'ctrmig migrate' on its target; answers JSON)\n";

/* stdin (the source's `criu cpuinfo dump`) into dir/cpuinfo.img. */
static int save_cpuinfo(const char *dir, struct cm_error *err)
{
	size_t len;
	cm_autofree char *data = cm_read_fd_max(STDIN_FILENO, "the CPU description", 1 << 20, &len, err);
	if (!data)
		return -1;
	cm_autofree char *path = cm_path_join(dir, "cpuinfo.img");
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return cm_err(err, errno, "create %s", path);
	int ret = cm_write_all(fd, data, len) < 0 ? cm_err(err, errno, "write %s", path) : 0;
	close(fd);
	return ret;
}

int cm_cmd_migrate_preflight(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	static const struct option longopts[] = {
		{ "id", required_argument, NULL, 'i' },
		{ "name", required_argument, NULL, 'n' },
		{ "image", required_argument, NULL, 'm' },
		{ "network", required_argument, NULL, 'N' },
		{ "ip", required_argument, NULL, 'I' },
		{ "include-image", no_argument, NULL, 'x' },
		{ "lazy", no_argument, NULL, 'L' },
		{ "signer", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cm_mig_request req = { 0 };
	const char *image = NULL;
	int c;
	while ((c = cm_cli_getopt(argc, argv, "h", longopts, preflight_usage, err)) != -1) {
		switch (c) {
		case 'i': req.id = optarg; break;
		case 'n': req.name = optarg; break;
		case 'm': image = optarg; break;
		case 'N': req.network = optarg; break;
		case 'I': req.ip = optarg; break;
		case 'x': req.include_image = true; break;
		case 'L': req.lazy = true; break;
		case 'S': req.signer = optarg; break;
		case 'h': return 0;
		default: return -1;
		}
	}
	if (!req.id || !req.name || !image || optind != argc)
		return cm_err(err, 0, "__migrate-preflight needs --id, --name and --image");
	req.image = cm_json_parse(image, strlen(image), "--image", err);
	if (!req.image)
		return -1;
	char dir[] = "/tmp/ctrmig-cpuinfo.XXXXXX";
	if (!mkdtemp(dir)) {
		json_decref(req.image);
		return cm_err(err, errno, "make a folder for the CPU description");
	}
	int ret = save_cpuinfo(dir, err);
	if (ret == 0) {
		req.cpuinfo_dir = dir;
		json_t *answer = cm_mig_preflight_answer(st, &req);
		cm_autofree char *text = json_dumps(answer, JSON_COMPACT | JSON_SORT_KEYS);
		puts(text);
		json_decref(answer);
	}
	cm_rm_rf(dir, NULL);
	json_decref(req.image);
	return ret;
}

int cm_cmd_migrate_abort(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	if (argc != 2 || strlen(argv[1]) != 64 || !cm_is_hex(argv[1]))
		return cm_err(err, 0, "__migrate-abort takes a container's full id");
	return cm_mig_abort_here(st, argv[1], err);
}
