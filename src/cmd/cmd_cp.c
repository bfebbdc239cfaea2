/* ctrmig cp */
#include "cli.h"
#include "container.h"
#include "copy_tree.h"
#include "error.h"
#include "jsonio.h"
#include "rootfs.h"
#include "store.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

static const char cp_usage[] =
	"Usage: ctrmig cp [OPTIONS] CONTAINER:SRC DEST\n"
	"       ctrmig cp [OPTIONS] SRC CONTAINER:DEST\n"
	"\n"
	"Copy a file or folder between a container and the host, running or not, as\n"
	"docker cp does: into an existing folder DEST keeps SRC's name, otherwise DEST\n"
	"is the copy; SRC ending in /. copies what the folder holds. Paths in the\n"
	"container are resolved inside its root, so its symlinks never lead to the\n"
	"host. Symlinks are copied as links. Copies belong to the user who copies;\n"
	"from a container, device nodes are refused and setuid bits dropped.\n"
	"\n"
	"Options:\n"
	"  -h, --help   show this help\n";

/* "web:/etc/hosts" -> "web" and "/etc/hosts"; a path with '/' before any ':'
 * ("./a:b", "/tmp/x:y") is the host's, as Docker reads it. */
static bool split_ctr(const char *arg, char **ctr, const char **path)
{
	const char *colon = strchr(arg, ':');
	if (!colon || colon == arg || memchr(arg, '/', (size_t)(colon - arg)))
		return false;
	*ctr = cm_strfmt("%.*s", (int)(colon - arg), arg);
	*path = colon + 1;
	return true;
}

/* "/a/b/" -> "b"; "/" -> "" */
static char *base_name(const char *path)
{
	cm_autofree char *copy = cm_strdup(path);
	size_t n = strlen(copy);
	while (n > 0 && copy[n - 1] == '/')
		copy[--n] = '\0';
	char *slash = strrchr(copy, '/');
	return cm_strdup(slash ? slash + 1 : copy);
}

static char *dir_name(const char *path)
{
	cm_autofree char *copy = cm_strdup(path);
	size_t n = strlen(copy);
	while (n > 1 && copy[n - 1] == '/')
		copy[--n] = '\0';
	char *slash = strrchr(copy, '/');
	if (!slash)
		return cm_strdup(".");
	if (slash == copy)
		return cm_strdup("/");
	*slash = '\0';
	return cm_strdup(copy);
}

struct side {
	const char *root; /* "/" for the host */
	char *path;
	bool in_ctr;
};

/* Where the copy goes and under which name, as docker cp decides it. */
static int plan(const struct side *src, const struct side *dst, char **dir, char **top,
		bool *contents_only, struct cm_error *err)
{
	struct stat ss, ds;
	size_t sl = strlen(src->path);
	*contents_only = (sl >= 2 && !strcmp(src->path + sl - 2, "/.")) || !strcmp(src->path, "/");
	if (cm_copy_stat(src->root, src->path, false, &ss) < 0)
		return cm_err(err, errno, "cp: %s%s", src->in_ctr ? "container path " : "", src->path);
	if (*contents_only && !S_ISDIR(ss.st_mode))
		return cm_err(err, 0, "cp: %s is not a folder", src->path);
	bool dst_slash = dst->path[strlen(dst->path) - 1] == '/';
	if (cm_copy_stat(dst->root, dst->path, true, &ds) == 0) {
		if (S_ISDIR(ds.st_mode)) {
			*dir = cm_strdup(dst->path);
			*top = base_name(src->path);
			return 0;
		}
		if (S_ISDIR(ss.st_mode))
			return cm_err(err, 0, "cp: cannot copy the folder %s onto the file %s", src->path,
				      dst->path);
	} else if (errno != ENOENT) {
		return cm_err(err, errno, "cp: %s", dst->path);
	} else if (dst_slash) {
		return cm_err(err, 0, "cp: %s: no such folder", dst->path);
	}
	/* DEST is (or replaces) the copy itself */
	*dir = dir_name(dst->path);
	*top = base_name(dst->path);
	*contents_only = false;
	if (cm_copy_stat(dst->root, *dir, true, &ds) < 0 || !S_ISDIR(ds.st_mode))
		return cm_err(err, errno ? errno : ENOTDIR, "cp: %s", *dir);
	return 0;
}

static int copy(struct cm_store *st, struct side *src, struct side *dst, struct cm_error *err)
{
	cm_autofree char *dir = NULL, *top = NULL;
	bool contents_only;
	if (plan(src, dst, &dir, &top, &contents_only, err) < 0)
		return -1;
	/* staged in the store: a copy may be large, and /tmp may be small */
	cm_autoclose int fd = open(st->root, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return cm_err(err, errno, "cp: temporary file in %s", st->root);
	if (cm_copy_pack(src->root, src->path, top, contents_only, fd, err) < 0 ||
	    cm_copy_unpack(dst->root, dir, fd, src->in_ctr, err) < 0)
		return cm_err_wrap(err, "cp");
	return 0;
}

int cm_cmd_cp(struct cm_store *st, int argc, char **argv, struct cm_error *err)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = cm_cli_getopt(argc, argv, "h", longopts, cp_usage, err)) != -1)
		return c == 'h' ? 0 : -1;
	if (argc - optind != 2)
		return cm_err(err, 0, "cp takes a source and a destination (see --help)");
	cm_autofree char *sctr = NULL, *dctr = NULL;
	const char *spath = argv[optind], *dpath = argv[optind + 1];
	bool s_in = split_ctr(argv[optind], &sctr, &spath), d_in = split_ctr(argv[optind + 1], &dctr, &dpath);
	if (s_in == d_in)
		return cm_err(err, 0, "cp: one of source and destination must be CONTAINER:PATH, "
				      "the other a host path");
	if (!*spath || !*dpath)
		return cm_err(err, 0, "cp: empty path");
	json_t *rec = cm_store_find_ctr(st, s_in ? sctr : dctr, err);
	if (!rec)
		return -1;
	const char *id = cm_json_str(rec, "id");
	enum cm_ctr_status now = cm_ctr_status_of(st, rec);
	/* A running container's root as its processes see it (volumes and tmpfs
	 * included); a stopped one's layers, mounted for the copy. */
	cm_autofree char *root = NULL;
	bool mounted = false;
	int ret = 0;
	if (now == CM_CTR_RUNNING) {
		root = cm_strfmt("/proc/%d/root", (int)cm_json_int(rec, "pid", 0));
	} else {
		root = cm_store_ctr_path(st, id, "rootfs");
		mounted = !cm_rootfs_is_mounted(root);
		if (cm_rootfs_mount(st, id, cm_json_str(json_object_get(rec, "image"), "id"), err) < 0)
			ret = cm_err_wrap(err, "cp: mount %s", cm_json_str(rec, "name"));
	}
	if (ret == 0) {
		/* container paths are from its root; host paths from here */
		struct side ctr = { root, cm_strfmt("%s%s", s_in ? (spath[0] == '/' ? "" : "/") : (dpath[0] == '/' ? "" : "/"), s_in ? spath : dpath), true };
		struct side host = { "/", NULL, false };
		const char *hp = s_in ? dpath : spath;
		if (hp[0] == '/') {
			host.path = cm_strdup(hp);
		} else {
			char cwd[4096];
			host.path = getcwd(cwd, sizeof(cwd)) ? cm_strfmt("%s/%s", cwd, hp) : cm_strdup(hp);
		}
		ret = s_in ? copy(st, &ctr, &host, err) : copy(st, &host, &ctr, err);
		free(ctr.path);
		free(host.path);
	}
	if (mounted)
		cm_rootfs_umount(st, id, NULL);
	json_decref(rec);
	return ret;
}
