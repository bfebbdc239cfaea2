/* Checks the images CRIU would restore against what the container's config
 * grants, before runc restore runs. Checkpoint archives are untrusted, and
 * CRIU restores whatever credentials, limits and process tree they hold. */
#ifndef CM_CRIU_IMAGES_H
#define CM_CRIU_IMAGES_H

#include "criu_policy.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/* A run of pages a memory map lists with its data in pages-<id>.img:
 * at offset there, nr_pages from vaddr; lazy if the dump let a lazy
 * restore bring it in later (private anonymous memory). */
struct cm_page_run {
	uint64_t vaddr, nr_pages, offset;
	bool lazy;
};

/* The runs with data of file (pagemap-<pid>.img in dirfd), in order, and
 * the pages file they are in (*pages_id). *runs is for the caller to free. */
int cm_criu_pagemap_runs(int dirfd, const char *file, uint32_t *pages_id, struct cm_page_run **runs,
			 size_t *n_runs, struct cm_error *err);

/* Calls fn for each memory map in dirfd (pagemap-<pid>.img and CRIU's
 * pagemap-shmem-<id>.img) until one returns non-zero, which it returns. */
int cm_criu_each_pagemap(int dirfd, int (*fn)(int dirfd, const char *file, void *arg), void *arg,
			 struct cm_error *err);

#endif
