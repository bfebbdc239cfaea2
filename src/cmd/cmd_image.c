/* ctrmig image import | ls | rm | inspect */
#include "cli.h"
#include "error.h"
#include "image.h"
#include "jsonio.h"
#include "store.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

static const char image_usage[] =
	"Usage: ctrmig image COMMAND\n"
	"\n"
	"Commands:\n"
	"  import ROOTFS.tar|DIR NAME   store a root file system as image NAME; prints its id\n"
	"  ls [-q]                      list images\n"
	"  rm IMAGE...                  remove images no container uses\n"
	"  inspect IMAGE...             show images as JSON\n"
	"\n"
	"An image's id is the sha256 of its content, so the same rootfs has the same\n"
	"id on every host. IMAGE is a name, an id, sha256:ID or a unique id prefix.\n";

static int image_import(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	if (argc != 3)
		return cm_err(err, 0, "image import takes ROOTFS.tar|DIR NAME (see 'ctrmig image --help')");
	if (cm_store_lock(st, err) < 0)
		return -1;
	json_t *rec = cm_image_import(st, argv[1], argv[2], false, err);
	if (!rec)
		return -1;
	printf("%s\n", cm_json_str(rec, "id"));
	json_decref(rec);
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

static int image_ls(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	bool quiet = argc == 2 && (!strcmp(argv[1], "-q") || !strcmp(argv[1], "--quiet"));
	if (argc > 2 || (argc == 2 && !quiet))
		return cm_err(err, 0, "image ls takes only -q");
	json_t *all = cm_image_list(st, err), *rec;
	if (!all)
		return -1;
	if (!quiet)
		printf("%-24s  %-12s  %-30s  %s\n", "NAME", "IMAGE ID", "CREATED", "SIZE");
	size_t i;
	json_array_foreach(all, i, rec) {
		if (quiet) {
			printf("%.12s\n", cm_json_str(rec, "id"));
			continue;
		}
		cm_autofree char *size = human_size(cm_json_int(rec, "size", 0));
		printf("%-24s  %-12.12s  %-30s  %s\n", cm_json_str(rec, "name"), cm_json_str(rec, "id"),
		       cm_json_str(rec, "created"), size);
	}
	json_decref(all);
	return 0;
}

static int image_rm(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	if (argc < 2)
		return cm_err(err, 0, "image rm takes one or more images");
	if (cm_store_lock(st, err) < 0)
		return -1;
	for (int i = 1; i < argc; i++) {
		if (cm_image_remove(st, argv[i], err) < 0)
			return -1;
		printf("%s\n", argv[i]);
	}
	return 0;
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
		cm_autofree char *rootfs = cm_image_rootfs(st, cm_json_str(rec, "id"));
		json_object_set_new(rec, "rootfs", json_string(rootfs));
		json_array_append_new(out, rec);
	}
	cm_autofree char *text = json_dumps(out, JSON_INDENT(4) | JSON_SORT_KEYS);
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
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(image_usage, stdout);
			return 0;
		}
	}
	const char *sub = argv[1];
	if (!strcmp(sub, "import"))
		return image_import(st, argc - 1, argv + 1, err);
	if (!strcmp(sub, "ls") || !strcmp(sub, "list"))
		return image_ls(st, argc - 1, argv + 1, err);
	if (!strcmp(sub, "rm"))
		return image_rm(st, argc - 1, argv + 1, err);
	if (!strcmp(sub, "inspect"))
		return image_inspect(st, argc - 1, argv + 1, err);
	return cm_err(err, 0, "unknown image command %s (see ctrmig image --help)", sub);
}
