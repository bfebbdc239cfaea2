#include "push.h"
#include "error.h"
#include "image.h"
#include "image_archive.h"
#include "jsonio.h"
#include "reference.h"
#include "skopeo.h"
#include "store.h"
#include "util.h"

#include <stdbool.h>
#include <unistd.h>

int cm_image_push(struct cm_store *st, const char *ref, const char *dest, const struct cm_push_opts *o,
		  struct cm_error *err)
{
	json_t *img = cm_image_find(st, ref, err);
	if (!img)
		return -1;
	const char *own = cm_json_str(img, "name");
	if (!dest && !own) {
		json_decref(img);
		return cm_err(err, 0, "image %s has no name to push it by: give a destination", ref);
	}
	cm_autofree char *target = cm_ref_normalize(dest ? dest : own, err);
	cm_autofree char *staging = target ? cm_image_staging(st, err) : NULL;
	cm_autofree char *layout = staging ? cm_path_join(staging, "layout") : NULL;
	int ret = layout ? cm_image_write_layout(st, img, layout, "push", err) : -1;
	if (ret == 0) {
		cm_autofree char *src = cm_strfmt("oci:%s:push", layout);
		cm_autofree char *dst = cm_strfmt("docker://%s", target);
		struct cm_skopeo so = { .tls_verify = o->tls_verify, .authfile = o->authfile, .tmpdir = staging,
					.progress = !o->quiet && isatty(STDERR_FILENO) };
		ret = cm_skopeo_copy(&so, src, dst, err);
	}
	if (staging)
		cm_rm_rf(staging, NULL);
	json_decref(img);
	return ret < 0 ? cm_err_wrap(err, "push %s", ref) : 0;
}
