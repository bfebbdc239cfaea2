#include "rootfs.h"
#include "error.h"
#include "image.h"
#include "store.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

bool cm_rootfs_is_mounted(const char *path)
{
	struct stat a, b;
	cm_autofree char *parent = cm_strfmt("%s/..", path);
	if (stat(path, &a) < 0 || stat(parent, &b) < 0)
		return false;
	return a.st_dev != b.st_dev;
}

int cm_rootfs_mount(struct cm_store *st, const char *ctr_id, const char *image_id,
		    struct cm_error *err)
{
	cm_autofree char *target = cm_store_ctr_path(st, ctr_id, "rootfs");
	if (cm_rootfs_is_mounted(target))
		return 0;
	cm_autofree char *upper = cm_store_ctr_path(st, ctr_id, "upper");
	cm_autofree char *work = cm_store_ctr_path(st, ctr_id, "work");
	if (cm_mkdir_p(upper, 0755, err) < 0 || cm_mkdir_p(work, 0700, err) < 0 ||
	    cm_mkdir_p(target, 0755, err) < 0)
		return -1;
	return cm_rootfs_mount_image(st, image_id, upper, work, target, err);
}

int cm_rootfs_mount_image(struct cm_store *st, const char *image_id, const char *upper, const char *work,
			  const char *target, struct cm_error *err)
{
	bool relative;
	cm_autofree char *lower = cm_image_lowerdir(st, image_id, &relative, err);
	if (!lower)
		return -1;
	if (!relative)
		return cm_rootfs_mount_at(lower, upper, work, target, err);
	/* The layers' short links are relative to <root>/layers, as
	 * containers/storage mounts them: 60 layers fit in the option page. */
	cm_autofree char *opts = cm_strfmt("lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work);
	if (strlen(opts) >= 4096)
		return cm_err(err, 0, "image %.12s: too many layers for one overlay mount", image_id);
	cm_autofree char *layers = cm_path_join(st->root, "layers");
	cm_autoclose int here = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (here < 0 || chdir(layers) < 0)
		return cm_err(err, errno, "enter %s", layers);
	int r = mount("overlay", target, "overlay", 0, opts);
	int e = errno;
	if (fchdir(here) < 0)
		cm_warn("cannot return to the working directory: %s", strerror(errno));
	if (r < 0)
		return cm_err(err, e, "mount overlay on %s", target);
	return 0;
}

int cm_rootfs_mount_at(const char *lower, const char *upper, const char *work, const char *target,
		       struct cm_error *err)
{
	cm_autofree char *opts = cm_strfmt("lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work);
	if (mount("overlay", target, "overlay", 0, opts) < 0)
		return cm_err(err, errno, "mount overlay on %s", target);
	return 0;
}

int cm_rootfs_umount(struct cm_store *st, const char *ctr_id, struct cm_error *err)
{
	cm_autofree char *target = cm_store_ctr_path(st, ctr_id, "rootfs");
	if (!cm_rootfs_is_mounted(target))
		return 0;
	if (umount2(target, MNT_DETACH) < 0)
		return cm_err(err, errno, "unmount %s", target);
	return 0;
}
