/* ctrmig image pull | push | load | save | import | tag | ls | rm | inspect, and ctrmig pull */
#include "cli.h"
#include "error.h"
#include "image.h"
#include "image_archive.h"
#include "jsonio.h"
#include "pull.h"
#include "push.h"
#include "reference.h"
#include "store.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static const char image_usage[] =
	"Usage: ctrmig image COMMAND\n"
	"\n"
	"Commands:\n"
	"  pull [-q] [--tls-verify=false] [--authfile FILE] [--creds USER[:PASS]] REF\n"
	"                               copy an image from a registry (through skopeo)\n"
	"  load [-q] -i FILE|-|DIR      images from a docker-archive, oci-archive or OCI layout\n"
	"  push [--tls-verify=false] IMAGE [DEST]   send an image to a registry\n"
	"  save -o FILE|- [--format oci-archive|docker-archive] IMAGE\n"
	"                               write an image as an archive\n"
	"  import ROOTFS.tar|DIR NAME   store a root file system as a one-layer image; prints its id\n"
	"  tag IMAGE NAME...            give an image more names\n"
	"  ls [-q]                      list images\n"
	"  rm [-f] IMAGE...             remove images no container uses (-f: untag those in use)\n"
	"  inspect IMAGE...             show images and their config as JSON\n"
	"\n"
	"A name is normalised as Docker does it: 'alpine' is docker.io/library/alpine:latest.\n"
	"IMAGE is a name, NAME@sha256:DIGEST, an id, sha256:ID or a unique id prefix. An image's\n"
	"id is the sha256 of its config, so the same image has the same id on every host.\n";

static const char pull_usage[] =
	"Usage: ctrmig pull [OPTIONS] REF\n"
	"\n"
	"Copies an image from a registry (through skopeo, with the host's registries.conf,\n"
	"auth files, mirrors and proxies), checks every digest and stores its layers.\n"
	"A bare name means docker.io/library/NAME:latest. Prints the image id.\n"
	"\n"
	"Options:\n"
	"  -q, --quiet              no progress (progress is shown only on a terminal)\n"
	"      --tls-verify=false   allow plain HTTP and unverified TLS for this registry\n"
	"      --authfile FILE      credentials file (default: skopeo's, e.g. auth.json)\n"
	"      --creds USER[:PASS]  credentials (asked on the terminal without PASS)\n"
	"  -h, --help               this help\n";

static const char load_usage[] =
	"Usage: ctrmig image load [-q] -i FILE|-|DIR\n"
	"\n"
	"Loads every image of a docker-archive (docker save, podman save, skopeo; Docker 25's\n"
	"OCI form too), an oci-archive or an OCI layout folder, with the names it carries.\n"
	"With -i - (or no -i and stdin not a terminal) the archive comes from stdin.\n";

static const char save_usage[] =
	"Usage: ctrmig image save -o FILE|- [--format oci-archive|docker-archive] IMAGE...\n"
	"\n"
	"Writes the image with its stored manifest, config and layer blobs, so that a load\n"
	"elsewhere gives the same image id. The default format is oci-archive, which can\n"
	"hold several images; a docker-archive holds one.\n";

static const char rm_usage[] =
	"Usage: ctrmig image rm [-f] IMAGE...\n"
	"\n"
	"Removes images; by one of several names, only that name. An image a container\n"
	"uses is refused; with -f it loses its names instead. Layers no other image\n"
	"lists are freed.\n";

static bool lock(struct cm_store *st, struct cm_error *err)
{
	if (cm_store_lock(st, err) < 0)
		return false;
	cm_image_recover(st);
	return true;
}

static int image_import(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	if (argc != 3)
		return cm_err(err, 0, "image import takes ROOTFS.tar|DIR NAME (see 'ctrmig image --help')");
	if (!lock(st, err))
		return -1;
	json_t *rec = cm_image_import(st, argv[1], argv[2], false, err);
	if (!rec)
		return -1;
	printf("%s\n", cm_json_str(rec, "id"));
	json_decref(rec);
	return 0;
}

/* --tls-verify[=true|false]: 1 or 0, or -1 with err set. */
static int tls_verify_arg(const char *arg, struct cm_error *err)
{
	if (!arg || !strcmp(arg, "true"))
		return 1;
	if (!strcmp(arg, "false"))
		return 0;
	return cm_err(err, 0, "--tls-verify takes true or false");
}

int cm_cmd_pull(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	static const struct option longopts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "tls-verify", optional_argument, NULL, 'T' },
		{ "authfile", required_argument, NULL, 'A' },
		{ "creds", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cm_pull_opts o = { .tls_verify = -1 };
	int c;
	optind = 0;
	while ((c = cm_cli_getopt(argc, argv, "+qh", longopts, pull_usage, err)) != -1) {
		switch (c) {
		case 'q':
			o.quiet = true;
			break;
		case 'T':
			if ((o.tls_verify = tls_verify_arg(optarg, err)) < 0)
				return -1;
			break;
		case 'A':
			o.authfile = optarg;
			break;
		case 'C':
			if (!*optarg)
				return cm_err(err, 0, "--creds takes USER[:PASS]");
			o.creds = optarg;
			break;
		default:
			return c == 'h' ? 0 : -1;
		}
	}
	if (argc - optind != 1)
		return cm_err(err, 0, "pull takes one image reference (see 'ctrmig pull --help')");
	json_t *rec = cm_image_pull(st, argv[optind], &o, err);
	cm_store_unlock(st);
	if (!rec)
		return -1;
	printf("%s\n", cm_json_str(rec, "id"));
	json_decref(rec);
	return 0;
}

static int image_load(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	static const struct option longopts[] = {
		{ "input", required_argument, NULL, 'i' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *input = NULL;
	bool quiet = false;
	int c;
	optind = 0;
	while ((c = cm_cli_getopt(argc, argv, "+i:qh", longopts, load_usage, err)) != -1) {
		if (c == 'i')
			input = optarg;
		else if (c == 'q')
			quiet = true;
		else
			return c == 'h' ? 0 : -1;
	}
	if (argc - optind > 1 || (argc - optind == 1 && input))
		return cm_err(err, 0, "image load takes one -i FILE|-|DIR (see 'ctrmig image load --help')");
	if (argc - optind == 1)
		input = argv[optind];
	if (!input) {
		if (isatty(STDIN_FILENO))
			return cm_err(err, 0, "image load needs -i FILE|-|DIR (stdin is a terminal)");
		input = "-";
	}
	if (!lock(st, err))
		return -1;
	json_t *recs = cm_image_load(st, input, !quiet && isatty(STDERR_FILENO), err), *rec;
	if (!recs)
		return -1;
	size_t i, j;
	json_t *n;
	json_array_foreach(recs, i, rec) {
		json_t *names = json_object_get(rec, "names");
		json_array_foreach(names, j, n)
			printf("Loaded image: %s\n", json_string_value(n));
		if (!json_array_size(names))
			printf("Loaded image: sha256:%s\n", cm_json_str(rec, "id"));
	}
	json_decref(recs);
	return 0;
}

static const char push_usage[] =
	"Usage: ctrmig image push [OPTIONS] IMAGE [DESTINATION]\n"
	"\n"
	"Sends an image of this store (a checkpoint image too) to a registry through\n"
	"skopeo, with its own manifest and blobs: its digests stay the same. Without\n"
	"DESTINATION, to the registry its name says.\n"
	"\n"
	"Options:\n"
	"  -q, --quiet              no progress\n"
	"      --tls-verify=false   allow plain HTTP and unverified TLS for this registry\n"
	"      --authfile FILE      credentials file (default: skopeo's)\n"
	"  -h, --help               this help\n";

int cm_cmd_push(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	static const struct option longopts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "tls-verify", optional_argument, NULL, 'T' },
		{ "authfile", required_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cm_push_opts o = { .tls_verify = -1 };
	int c;
	optind = 0;
	while ((c = cm_cli_getopt(argc, argv, "+qh", longopts, push_usage, err)) != -1) {
		if (c == 'q') {
			o.quiet = true;
		} else if (c == 'T') {
			if ((o.tls_verify = tls_verify_arg(optarg, err)) < 0)
				return -1;
		} else if (c == 'A') {
			o.authfile = optarg;
		} else {
			return c == 'h' ? 0 : -1;
		}
	}
	int n = argc - optind;
	if (n < 1 || n > 2)
		return cm_err(err, 0, "push takes IMAGE [DESTINATION] (see --help)");
	return cm_image_push(st, argv[optind], n == 2 ? argv[optind + 1] : NULL, &o, err);
}

static int image_save(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *output = NULL, *format = NULL;
	int c;
	optind = 0;
	while ((c = cm_cli_getopt(argc, argv, "+o:h", longopts, save_usage, err)) != -1) {
		if (c == 'o')
			output = optarg;
		else if (c == 'F')
			format = optarg;
		else
			return c == 'h' ? 0 : -1;
	}
	if (argc - optind < 1)
		return cm_err(err, 0, "image save takes one or more images (see 'ctrmig image save --help')");
	if (!output) {
		if (isatty(STDOUT_FILENO))
			return cm_err(err, 0, "image save needs -o FILE|- (stdout is a terminal)");
		output = "-";
	}
	return cm_image_save_all(st, argv + optind, (size_t)(argc - optind), output, format, err);
}

static int image_tag(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	if (argc < 3)
		return cm_err(err, 0, "image tag takes IMAGE NAME... (see 'ctrmig image --help')");
	if (!lock(st, err))
		return -1;
	for (int i = 2; i < argc; i++)
		if (cm_image_tag(st, argv[1], argv[i], err) < 0)
			return -1;
	return 0;
}

static char *human_size(json_int_t bytes)
{
	const char *units[] = { "B", "kB", "MB", "GB", "TB" };
	double v = (double)bytes;
	int u = 0;
	while (v >= 1000 && u < 4) {
		v /= 1000;
		u++;
	}
	return u ? cm_strfmt("%.3g %s", v, units[u]) : cm_strfmt("%lld B", (long long)bytes);
}

static int newest_first(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int c = strcmp(cm_json_str(y, "created") ?: "", cm_json_str(x, "created") ?: "");
	return c ? c : strcmp(cm_json_str(x, "id"), cm_json_str(y, "id"));
}

static char *dup_n(const char *s, size_t n)
{
	char *d = strndup(s, n);
	if (!d)
		cm_oom();
	return d;
}

struct row {
	char *repo, *tag, *created, *size;
	const char *id;
};

/* One row per name, as Podman lists them; <none> for an untagged image. */
static void add_rows(json_t *rec, struct row **rows, size_t *n, time_t now)
{
	json_t *names = json_object_get(rec, "names"), *v;
	size_t count = json_array_size(names), i;
	struct timespec ts = { 0 };
	cm_time_parse(cm_json_str(rec, "created") ?: "", &ts);
	for (i = 0; i < (count ? count : 1); i++) {
		*rows = cm_realloc(*rows, (*n + 1) * sizeof(**rows));
		struct row *r = &(*rows)[(*n)++];
		const char *name = count ? json_string_value(json_array_get(names, i)) : NULL;
		const char *colon = name ? strrchr(name, ':') : NULL;
		if (colon && strchr(colon, '/'))
			colon = NULL;
		r->repo = name ? dup_n(name, colon ? (size_t)(colon - name) : strlen(name)) : NULL;
		r->tag = cm_strdup(colon ? colon + 1 : "<none>");
		if (!name) {
			/* pulled by digest: the repository it came from */
			v = json_array_get(json_object_get(rec, "repo_digests"), 0);
			const char *rd = json_string_value(v), *at = rd ? strchr(rd, '@') : NULL;
			r->repo = at ? dup_n(rd, (size_t)(at - rd)) : cm_strdup("<none>");
		}
		r->id = cm_json_str(rec, "id");
		r->created = ts.tv_sec ? cm_time_ago(ts.tv_sec, now) : cm_strdup("");
		r->size = human_size(cm_json_int(rec, "size", 0));
	}
}

static int image_ls(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	bool quiet = argc == 2 && (!strcmp(argv[1], "-q") || !strcmp(argv[1], "--quiet"));
	if (argc > 2 || (argc == 2 && !quiet))
		return cm_err(err, 0, "image ls takes only -q");
	json_t *all = cm_image_list(st, err);
	if (!all)
		return -1;
	size_t n = json_array_size(all), nrows = 0;
	json_t **recs = cm_malloc((n + 1) * sizeof(*recs));
	for (size_t i = 0; i < n; i++)
		recs[i] = json_array_get(all, i);
	qsort(recs, n, sizeof(*recs), newest_first);
	if (quiet) {
		for (size_t i = 0; i < n; i++)
			printf("%.12s\n", cm_json_str(recs[i], "id"));
		free(recs);
		json_decref(all);
		return 0;
	}
	struct row *rows = NULL;
	time_t now = time(NULL);
	for (size_t i = 0; i < n; i++)
		add_rows(recs[i], &rows, &nrows, now);
	int wrepo = 10, wtag = 3, wcreated = 7;
	for (size_t i = 0; i < nrows; i++) {
		wrepo = (int)strlen(rows[i].repo) > wrepo ? (int)strlen(rows[i].repo) : wrepo;
		wtag = (int)strlen(rows[i].tag) > wtag ? (int)strlen(rows[i].tag) : wtag;
		wcreated = (int)strlen(rows[i].created) > wcreated ? (int)strlen(rows[i].created) : wcreated;
	}
	printf("%-*s  %-*s  %-12s  %-*s  %s\n", wrepo, "REPOSITORY", wtag, "TAG", "IMAGE ID", wcreated, "CREATED",
	       "SIZE");
	for (size_t i = 0; i < nrows; i++) {
		printf("%-*s  %-*s  %-12.12s  %-*s  %s\n", wrepo, rows[i].repo, wtag, rows[i].tag, rows[i].id,
		       wcreated, rows[i].created, rows[i].size);
		free(rows[i].repo), free(rows[i].tag), free(rows[i].created), free(rows[i].size);
	}
	free(rows);
	free(recs);
	json_decref(all);
	return 0;
}

static int image_rm(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	static const struct option longopts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool force = false;
	int c;
	optind = 0;
	while ((c = cm_cli_getopt(argc, argv, "+fh", longopts, rm_usage, err)) != -1) {
		if (c == 'f')
			force = true;
		else
			return c == 'h' ? 0 : -1;
	}
	if (argc - optind < 1)
		return cm_err(err, 0, "image rm takes one or more images");
	if (!lock(st, err))
		return -1;
	for (int i = optind; i < argc; i++) {
		char *what = NULL;
		int r = cm_image_remove_opt(st, argv[i], force, &what, err);
		if (what)
			fputs(what, stdout);
		free(what);
		if (r < 0)
			return -1;
	}
	return 0;
}

/* Podman's keys, from the record and the image config. */
static json_t *inspect_one(struct cm_store *st, json_t *rec)
{
	json_t *cfg = json_object_get(rec, "config");
	json_t *inner = json_object_get(cfg, "config");
	const char *id = cm_json_str(rec, "id");
	cm_autofree char *lower = cm_image_rootfs(st, id);
	cm_autofree char *mpath = cm_strfmt("%s/images/%s/manifest.json", st->root, id);
	json_t *m = cm_path_exists(mpath) ? cm_json_load(mpath, NULL) : NULL;
	json_t *out = json_pack("{s:s, s:s?, s:O, s:O, s:s?, s:s?, s:s?, s:s?, s:s?, s:O, s:O, s:{s:s, s:O}, "
				"s:I, s:I, s:O, s:{s:s, s:{s:s}}, s:s?, s:s?}",
				"Id", id, "Digest", cm_json_str(rec, "digest"), "RepoTags", json_object_get(rec, "names"),
				"RepoDigests",
				json_object_get(rec, "repo_digests") ? json_object_get(rec, "repo_digests") : json_null(),
				"Created", cm_json_str(cfg, "created") ?: cm_json_str(rec, "created"), "Author",
				cm_json_str(cfg, "author"), "Architecture", cm_json_str(cfg, "architecture"), "Os",
				cm_json_str(cfg, "os"), "Variant", cm_json_str(cfg, "variant"), "Config",
				json_is_object(inner) ? inner : json_object(), "Labels",
				json_object_get(inner, "Labels") ? json_object_get(inner, "Labels") : json_null(),
				"RootFS", "Type", "layers", "Layers",
				json_object_get(rec, "layers") ? json_object_get(rec, "layers") : json_array(), "Size",
				cm_json_int(rec, "size", 0), "VirtualSize", cm_json_int(rec, "size", 0), "History",
				json_object_get(cfg, "history") ? json_object_get(cfg, "history") : json_array(),
				"GraphDriver", "Name", "overlay", "Data", "LowerDir", lower, "ManifestType",
				cm_json_str(m, "mediaType"), "Source", cm_json_str(rec, "source"));
	if (cm_json_str(rec, "rootfs_digest"))
		json_object_set_new(out, "RootfsDigest", json_string(cm_json_str(rec, "rootfs_digest")));
	json_decref(m);
	return out;
}

static int image_inspect(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	if (argc < 2)
		return cm_err(err, 0, "image inspect takes one or more images");
	json_t *out = json_array();
	for (int i = 1; i < argc; i++) {
		json_t *rec = cm_image_find(st, argv[i], err);
		if (!rec) {
			json_decref(out);
			return -1;
		}
		json_array_append_new(out, inspect_one(st, rec));
		json_decref(rec);
	}
	cm_autofree char *text = json_dumps(out, JSON_INDENT(4));
	puts(text);
	json_decref(out);
	return 0;
}

int cm_cmd_image(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(image_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? cm_err(err, 0, "image needs a command") : 0;
	}
	const char *sub = argv[1];
	/* commands with options of their own print their own help */
	if (!strcmp(sub, "pull"))
		return cm_cmd_pull(st, argc - 1, argv + 1, err);
	if (!strcmp(sub, "load"))
		return image_load(st, argc - 1, argv + 1, err);
	if (!strcmp(sub, "save"))
		return image_save(st, argc - 1, argv + 1, err);
	if (!strcmp(sub, "push"))
		return cm_cmd_push(st, argc - 1, argv + 1, err);
	if (!strcmp(sub, "rm") || !strcmp(sub, "remove"))
		return image_rm(st, argc - 1, argv + 1, err);
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(image_usage, stdout);
			return 0;
		}
	}
	if (!strcmp(sub, "import"))
		return image_import(st, argc - 1, argv + 1, err);
	if (!strcmp(sub, "tag"))
		return image_tag(st, argc - 1, argv + 1, err);
	if (!strcmp(sub, "ls") || !strcmp(sub, "list"))
		return image_ls(st, argc - 1, argv + 1, err);
	if (!strcmp(sub, "inspect"))
		return image_inspect(st, argc - 1, argv + 1, err);
	return cm_err(err, 0, "unknown image command %s (see ctrmig image --help)", sub);
}
