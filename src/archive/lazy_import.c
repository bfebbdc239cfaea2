#include "lazy_import.h"
#include "chunked_sha256.h"
#include "criu_images.h"
#include "error.h"
#include "manifest.h"
#include "util.h"
#include "zstd_frames.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct cm_lazy_import {
	int fd; /* the archive */
	struct cm_frames_index index;
	struct cm_frames_reader *reader;
	json_t *deferred; /* name -> the chunked digest of its index entry */
};

struct cm_lazy_import *cm_lazy_import_open(const char *input, struct cm_error *err)
{
	int fd = open(input, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		cm_err(err, errno, "open %s", input);
		return NULL;
	}
	struct cm_lazy_import *li = cm_malloc(sizeof(*li));
	struct cm_error e = { 0 };
	int r = cm_frames_index_read(fd, &li->index, &e);
	if (r < 0) /* damaged, or not ours: read whole, every byte checked */
		cm_warn("%s: %s; reading the whole archive", input, e.msg);
	cm_error_clear(&e);
	if (r <= 0) {
		free(li);
		close(fd);
		return NULL;
	}
	li->fd = fd;
	li->reader = cm_frames_reader_new(fd, &li->index);
	li->deferred = json_object();
	return li;
}

void cm_lazy_import_free(struct cm_lazy_import *li)
{
	if (!li)
		return;
	cm_frames_reader_free(li->reader);
	cm_frames_index_free(&li->index);
	json_decref(li->deferred);
	close(li->fd);
	free(li);
}

/* libarchive reads the tar inside the frames, skipping whole frames. */
static la_ssize_t read_cb(struct archive *a, void *arg, const void **buf)
{
	struct cm_lazy_import *li = arg;
	struct cm_error e = { 0 };
	long n = cm_frames_reader_read(li->reader, buf, &e);
	if (n < 0)
		archive_set_error(a, EIO, "%s", e.msg);
	cm_error_clear(&e);
	return n;
}

static la_int64_t skip_cb(struct archive *a, void *arg, la_int64_t request)
{
	(void)a;
	struct cm_lazy_import *li = arg;
	return (la_int64_t)cm_frames_reader_skip(li->reader, (uint64_t)request);
}

int cm_lazy_import_read_open(struct cm_lazy_import *li, struct archive *a)
{
	return archive_read_open2(a, li, NULL, read_cb, skip_cb, NULL);
}

bool cm_lazy_import_defers(const struct cm_lazy_import *li, const char *name, int format)
{
	return li && format != 1 && !strncmp(name, "checkpoint/", 11) && cm_member_chunked(name);
}

/* Its size and where its data is must be as the index says (a size CRIU
 * never writes, not a whole number of tar blocks, puts its padding in the
 * next frame and fails the second check). */
int cm_lazy_import_defer(struct cm_lazy_import *li, struct archive *a, struct archive_entry *e, const char *name,
			 json_t *seen, struct cm_error *err)
{
	const struct cm_frames_member *m = cm_frames_member_find(&li->index, name);
	uint64_t at = cm_frames_reader_position(li->reader);
	if (!m || m->size != (uint64_t)archive_entry_size(e) || m->raw_offset != at)
		return cm_err(err, 0, "member %s: not where the archive's index says", name);
	if (archive_read_data_skip(a) != ARCHIVE_OK)
		return cm_err(err, 0, "member %s: %s", name, archive_error_string(a));
	if (cm_frames_reader_position(li->reader) != m->raw_offset + m->size)
		return cm_err(err, 0, "member %s: not where the archive's index says", name);
	char hex[65];
	cm_chunked_sha256_root(m->digests, m->n_digests, hex);
	json_object_set_new(li->deferred, name, json_string(hex));
	return json_object_set_new(seen, name, json_pack("{s:I, s:s}", "size", (json_int_t)m->size,
							 "chunked_sha256", hex)) < 0
		       ? cm_err(err, 0, "member %s: cannot be recorded", name) : 0;
}

size_t cm_lazy_import_deferred(const struct cm_lazy_import *li)
{
	return li ? json_object_size(li->deferred) : 0;
}

/* Copies [off, off + len) of member m from its checked chunks into fd;
 * chunk holds chunk *have already. */
static int fill_range(struct cm_lazy_import *li, const struct cm_frames_member *m, int fd, uint64_t off,
		      uint64_t len, char *chunk, uint64_t *have, struct cm_error *err)
{
	if (off > m->size || len > m->size - off)
		return cm_err(err, 0, "member %s: the memory map reaches past its end", m->name);
	while (len > 0) {
		uint64_t i = off / CM_CHUNK_BYTES, in = off % CM_CHUNK_BYTES;
		if (*have != i) {
			if (cm_frames_read_chunk(li->fd, &li->index, m, i, chunk, err) < 0)
				return -1;
			*have = i;
		}
		uint64_t n = CM_CHUNK_BYTES - in < len ? CM_CHUNK_BYTES - in : len;
		if (cm_pwrite_all(fd, chunk + in, (size_t)n, off) < 0)
			return cm_err(err, errno, "member %s: write", m->name);
		off += n, len -= n;
	}
	return 0;
}

/* The runs of one memory map that CRIU restores itself, into the page image
 * it names, if that one was left in the archive; chunk NULL: only counted. */
static int fill_map(struct cm_lazy_import *li, int dirfd, const char *map, char *chunk, uint64_t *restored,
		    struct cm_error *err)
{
	uint32_t pages_id;
	cm_autofree struct cm_page_run *runs = NULL;
	size_t n_runs;
	if (cm_criu_pagemap_runs(dirfd, map, &pages_id, &runs, &n_runs, err) < 0)
		return -1;
	cm_autofree char *member = cm_strfmt("checkpoint/pages-%u.img", pages_id);
	const struct cm_frames_member *m = json_object_get(li->deferred, member)
						   ? cm_frames_member_find(&li->index, member) : NULL;
	if (!m)
		return 0; /* read whole already, or not there (the image check says so) */
	cm_autoclose int fd = chunk ? openat(dirfd, strchr(member, '/') + 1, O_WRONLY | O_NOFOLLOW | O_CLOEXEC) : -1;
	if (chunk && fd < 0)
		return cm_err(err, errno, "member %s", member);
	uint64_t have = UINT64_MAX, page = (uint64_t)sysconf(_SC_PAGESIZE);
	for (size_t i = 0; i < n_runs; i++) {
		if (runs[i].lazy)
			continue;
		if (chunk && fill_range(li, m, fd, runs[i].offset, runs[i].nr_pages * page, chunk, &have, err) < 0)
			return -1;
		*restored += runs[i].nr_pages * page;
	}
	return 0;
}

struct fill {
	struct cm_lazy_import *li;
	char *chunk; /* NULL: only counting */
	uint64_t bytes;
	struct cm_error *err;
};

static int fill_one(int dirfd, const char *map, void *arg)
{
	struct fill *f = arg;
	return fill_map(f->li, dirfd, map, f->chunk, &f->bytes, f->err);
}

/* Each memory map in images, through fill_map. */
static int each_map(struct cm_lazy_import *li, int dirfd, char *chunk, uint64_t *bytes, struct cm_error *err)
{
	struct fill f = { li, chunk, 0, err };
	int ret = cm_criu_each_pagemap(dirfd, fill_one, &f, err);
	*bytes = f.bytes;
	return ret;
}

int cm_lazy_import_measure(struct cm_lazy_import *li, const char *images, uint64_t *bytes, struct cm_error *err)
{
	cm_autoclose int dirfd = open(images, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dirfd < 0)
		return cm_err(err, errno, "open %s", images);
	return each_map(li, dirfd, NULL, bytes, err);
}

int cm_lazy_import_fill(struct cm_lazy_import *li, const char *images, struct cm_error *err)
{
	cm_autoclose int dirfd = open(images, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dirfd < 0)
		return cm_err(err, errno, "open %s", images);
	const char *name;
	json_t *v;
	json_object_foreach(li->deferred, name, v) {
		const struct cm_frames_member *m = cm_frames_member_find(&li->index, name);
		cm_autoclose int fd = openat(dirfd, strchr(name, '/') + 1,
					     O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 || ftruncate(fd, (off_t)m->size) < 0)
			return cm_err(err, errno, "member %s", name);
	}
	cm_autofree char *chunk = cm_malloc(CM_CHUNK_BYTES);
	uint64_t restored;
	int ret = each_map(li, dirfd, chunk, &restored, err);
	cm_debug("lazy import: %llu KiB of pages read now, the rest stays in the archive",
		 (unsigned long long)(restored >> 10));
	return ret;
}

json_t *cm_lazy_import_record(const struct cm_lazy_import *li, const char *input, struct cm_error *err)
{
	cm_autofree char *file = realpath(input, NULL);
	if (!file) {
		cm_err(err, errno, "%s", input);
		return NULL;
	}
	return json_pack("{s:s, s:O}", "file", file, "members", li->deferred);
}
