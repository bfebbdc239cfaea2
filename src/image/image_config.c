#include "image_config.h"

json_t *cm_image_run_config(json_t *image)
{
	/* The record keeps the whole OCI config document; its "config" runs. */
	json_t *doc = json_object_get(image, "config");
	json_t *run = json_object_get(doc, "config");
	return json_is_object(run) ? run : NULL;
}
