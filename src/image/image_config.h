/* What an image says about running it: the "config" object of its OCI image
 * config (Entrypoint, Cmd, Env, WorkingDir, User, StopSignal, ExposedPorts,
 * Labels). Images imported from a rootfs have none. */
#ifndef CM_IMAGE_CONFIG_H
#define CM_IMAGE_CONFIG_H

#include <jansson.h>

/* The run config of an image record (borrowed), or NULL. */
json_t *cm_image_run_config(json_t *image);

#endif
