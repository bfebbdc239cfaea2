/* ctrmig diff */
#include "cli.h"
#include "error.h"
#include "image.h"
#include "jsonio.h"
#include "rootfs_diff.h"
#include "store.h"
#include "util.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

static const char diff_usage[] =
	"Usage: ctrmig diff [OPTIONS] CONTAINER\n"
	"\n"
	"List the files a container changed against its image, as Podman does:\n"
	"A added, C changed, D deleted, sorted by path. Read from the container's\n"
	"own layer, running or not; the same changes a checkpoint carries.\n"
	"\n"
	"Options:\n"
	"      --format json   a JSON object {\"added\": [...], \"changed\": [...], \"deleted\": [...]}\n"
	"  -l, --latest        the newest container\n"
	"  -h, --help          show this help\n";

struct changes {
	int image_fd; /* the image's merged layers */
	json_t *list; /* [["A", "/path"], ...] */
};

static bool in_image(int image_fd, const char *rel)
{
	struct open_how how = { .flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	int fd = (int)syscall(SYS_openat2, image_fd, rel, &how, sizeof(how));
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static int add_change(struct archive *in, struct archive_entry *e, const char *rel,
		      enum cm_upper_kind kind, void *arg, struct cm_error *err)
{
	(void)in, (void)e, (void)err;
	struct changes *c = arg;
	const char *what = kind == CM_UPPER_DELETED ? "D" : in_image(c->image_fd, rel) ? "C" : "A";
	cm_autofree char *path = cm_strfmt("/%s", rel);
	json_array_append_new(c->list, json_pack("[s, s]", what, path));
	return 0;
}

static int by_path(const void *a, const void *b)
{
	return strcmp(json_string_value(json_array_get(*(json_t *const *)a, 1)),
		      json_string_value(json_array_get(*(json_t *const *)b, 1)));
}

static void print_changes(json_t *list, bool as_json)
{
	size_t n = json_array_size(list), i;
	json_t **v = cm_malloc(sizeof(*v) * (n + 1));
	for (i = 0; i < n; i++)
		v[i] = json_array_get(list, i);
	qsort(v, n, sizeof(*v), by_path);
	json_t *out = json_pack("{s:[], s:[], s:[]}", "added", "changed", "deleted");
	for (i = 0; i < n; i++) {
		const char *what = json_string_value(json_array_get(v[i], 0));
		const char *path = json_string_value(json_array_get(v[i], 1));
		if (!as_json)
			printf("%s %s\n", what, path);
		const char *key = *what == 'A' ? "added" : *what == 'C' ? "changed" : "deleted";
		json_array_append_new(json_object_get(out, key), json_string(path));
	}
	if (as_json) {
		cm_autofree char *text = json_dumps(out, JSON_INDENT(4));
		puts(text);
	}
	json_decref(out);
	free(v);
}

int cm_cmd_diff(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'F' }, { "latest", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },         { NULL, 0, NULL, 0 },
	};
	bool latest = false, as_json = false;
	int c;
	while ((c = cm_cli_getopt(argc, argv, "lh", longopts, diff_usage, err)) != -1) {
		if (c == 'l') {
			latest = true;
			continue;
		}
		if (c == 'F' && !strcmp(optarg, "json")) {
			as_json = true;
			continue;
		}
		if (c == 'F')
			return cm_err(err, 0, "diff --format: only 'json' is supported");
		return c == 'h' ? 0 : -1;
	}
	if (argc - optind > 1)
		return cm_err(err, 0, "diff takes one container (see --help)");
	json_t *recs = cm_cli_select_ctrs(st, false, latest, argc - optind, argv + optind, diff_usage,
					  err);
	if (!recs)
		return -1;
	json_t *rec = json_array_get(recs, 0);
	const char *name = cm_json_str(rec, "name");
	cm_autofree char *upper = cm_store_ctr_path(st, cm_json_str(rec, "id"), "upper");
	struct changes ch = { -1, json_array() };
	int ret = 0;
	if ((ch.image_fd = cm_image_view_open(st, cm_json_str(json_object_get(rec, "image"), "id"), err)) < 0 ||
	    cm_rootfs_upper_walk(upper, add_change, &ch, err) < 0)
		ret = cm_err_wrap(err, "diff %s", name);
	else
		print_changes(ch.list, as_json);
	if (ch.image_fd >= 0)
		close(ch.image_fd);
	json_decref(ch.list);
	json_decref(recs);
	return ret;
}
