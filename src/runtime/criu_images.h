/* Checks the images CRIU would restore against what the container's config
 * grants, before runc restore runs. Checkpoint archives are untrusted, and
 * CRIU restores whatever credentials, limits and process tree they hold. */
#ifndef CM_CRIU_IMAGES_H
#define CM_CRIU_IMAGES_H

#include "criu_policy.h"

struct cm_error;

/* Reads pstree.img and the core-<tid>.img of every thread in it from
 * image_dir; returns the number of tasks, or -1 with err naming the image
 * ("checkpoint/core-7.img"), the task and what it holds that the config does
 * not grant. */
int cm_criu_images_check(const char *image_dir, const struct cm_criu_policy *p,
			 struct cm_error *err);

/* The mode CRIU recorded for the first task's root folder, which it checks
 * at restore ("File . has bad mode"). */
int cm_criu_images_root_mode(const char *image_dir, uint32_t *mode, struct cm_error *err);

#endif
