#include "page_server.h"
#include "chunked_sha256.h"
#include "criu_images.h"
#include "error.h"
#include "jsonio.h"
#include "util.h"
#include "zstd_frames.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* criu/page-xfer.c, CRIU 4.2: the header of every request and answer. */
struct ps_iov {
	uint32_t cmd;
	uint64_t nr_pages;
	uint64_t vaddr;
	uint64_t dst_id;
};

#define PS_IOV_ADD_F 6
#define PS_IOV_GET 7
#define PS_IOV_CLOSE 0x1023
#define PS_IOV_FORCE_CLOSE 0x1024
#define PS_CMD_BITS 16
#define PE_PRESENT (1u << 2)

/* The most pages one answer carries: fewer than asked is allowed. */
#define MAX_PAGES 1024
/* Chunks kept decompressed and checked: the daemon's background fetch goes
 * in order, its faults anywhere. */
#define CACHED 4

/* One task's memory map: runs sorted by address, in a page image. */
struct task_map {
	uint64_t pid;
	struct cm_page_run *runs;
	size_t n;
	const struct cm_frames_member *member;
};

struct server {
	int fd; /* the archive */
	struct cm_frames_index idx;
	struct task_map *maps;
	size_t n_maps;
	struct {
		const struct cm_frames_member *m;
		uint64_t i;
		char *buf;
	} cache[CACHED];
	size_t next_slot;
	uint64_t page;
};

static const char *chunk(struct server *s, const struct cm_frames_member *m, uint64_t i, struct cm_error *err)
{
	for (size_t k = 0; k < CACHED; k++)
		if (s->cache[k].m == m && s->cache[k].i == i)
			return s->cache[k].buf;
	size_t k = s->next_slot++ % CACHED;
	s->cache[k].m = NULL;
	if (cm_frames_read_chunk(s->fd, &s->idx, m, i, s->cache[k].buf, err) < 0)
		return NULL;
	s->cache[k].m = m;
	s->cache[k].i = i;
	return s->cache[k].buf;
}

static int copy_pages(struct server *s, const struct cm_frames_member *m, uint64_t off, uint64_t len, char *out,
		      struct cm_error *err)
{
	if (off > m->size || len > m->size - off)
		return cm_err(err, 0, "member %s: a memory map reaches past its end", m->name);
	while (len > 0) {
		uint64_t i = off / CM_CHUNK_BYTES, in = off % CM_CHUNK_BYTES;
		const char *c = chunk(s, m, i, err);
		if (!c)
			return -1;
		uint64_t n = CM_CHUNK_BYTES - in < len ? CM_CHUNK_BYTES - in : len;
		memcpy(out, c + in, (size_t)n);
		out += n, off += n, len -= n;
	}
	return 0;
}

static int read_full(int fd, void *buf, size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = read(fd, (char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 && done == 0 ? 0 : -1;
		done += (size_t)n;
	}
	return 1;
}

static int write_full(int fd, const void *buf, size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = write(fd, (const char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

/* The run of task map t holding vaddr, or NULL. */
static const struct cm_page_run *run_at(const struct task_map *t, uint64_t vaddr, uint64_t page)
{
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct cm_page_run *r = &t->runs[mid];
		if (vaddr < r->vaddr)
			hi = mid;
		else if (vaddr >= r->vaddr + r->nr_pages * page)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

static int answer(struct server *s, int sock, const struct ps_iov *q, char *buf, struct cm_error *err)
{
	const struct task_map *t = NULL;
	for (size_t i = 0; i < s->n_maps && !t; i++)
		if (s->maps[i].pid == q->dst_id)
			t = &s->maps[i];
	const struct cm_page_run *r = t && t->member ? run_at(t, q->vaddr, s->page) : NULL;
	if (!r || q->vaddr % s->page || !q->nr_pages)
		return cm_err(err, 0, "the lazy-pages daemon asked for %llu pages at 0x%llx of task %llu, which the "
				      "checkpoint does not hold",
			      (unsigned long long)q->nr_pages, (unsigned long long)q->vaddr,
			      (unsigned long long)q->dst_id);
	uint64_t left = r->nr_pages - (q->vaddr - r->vaddr) / s->page;
	uint64_t n = q->nr_pages < left ? q->nr_pages : left;
	if (n > MAX_PAGES)
		n = MAX_PAGES;
	if (copy_pages(s, t->member, r->offset + (q->vaddr - r->vaddr), n * s->page, buf, err) < 0)
		return -1;
	struct ps_iov a;
	memset(&a, 0, sizeof(a)); /* the padding too */
	a.cmd = (PE_PRESENT << PS_CMD_BITS) | PS_IOV_ADD_F;
	a.nr_pages = n, a.vaddr = q->vaddr, a.dst_id = q->dst_id;
	if (write_full(sock, &a, sizeof(a)) < 0 || write_full(sock, buf, (size_t)(n * s->page)) < 0)
		return cm_err(err, errno, "send pages to the lazy-pages daemon");
	return 0;
}

struct map_load {
	struct server *s;
	json_t *members;
	struct cm_error *err;
};

/* A task's memory map (pagemap-<pid>.img; CRIU's shared memory, which is
 * never lazy, is not asked for), and the page image it is in. */
static int load_map(int dirfd, const char *file, void *arg)
{
	struct map_load *ml = arg;
	char *end;
	unsigned long long pid = strtoull(file + 8, &end, 10);
	if (end == file + 8 || strcmp(end, ".img"))
		return 0;
	struct server *s = ml->s;
	s->maps = cm_realloc(s->maps, (s->n_maps + 1) * sizeof(*s->maps));
	struct task_map *t = &s->maps[s->n_maps++];
	*t = (struct task_map){ .pid = pid };
	uint32_t pages_id;
	if (cm_criu_pagemap_runs(dirfd, file, &pages_id, &t->runs, &t->n, ml->err) < 0)
		return -1;
	cm_autofree char *member = cm_strfmt("checkpoint/pages-%u.img", pages_id);
	if (json_object_get(ml->members, member))
		t->member = cm_frames_member_find(&s->idx, member);
	return 0;
}

/* The archive's index, its page images' digests as the record has them
 * (from the manifest the import checked), and the tasks' memory maps. */
static int load(struct server *s, const char *images, json_t *lazy, struct cm_error *err)
{
	const char *file = cm_json_str(lazy, "file");
	json_t *members = json_object_get(lazy, "members");
	if (!file || !json_is_object(members))
		return cm_err(err, 0, "the checkpoint names no archive to serve its memory from");
	s->fd = open(file, O_RDONLY | O_CLOEXEC);
	if (s->fd < 0)
		return cm_err(err, errno, "open %s", file);
	int r = cm_frames_index_read(s->fd, &s->idx, err);
	if (r <= 0)
		return r < 0 ? -1 : cm_err(err, 0, "%s: no longer the archive the checkpoint came from", file);
	const char *name;
	json_t *want;
	json_object_foreach(members, name, want) {
		const struct cm_frames_member *m = cm_frames_member_find(&s->idx, name);
		char hex[65];
		if (m)
			cm_chunked_sha256_root(m->digests, m->n_digests, hex);
		if (!m || !json_is_string(want) || strcmp(hex, json_string_value(want)))
			return cm_err(err, 0, "%s: no longer the archive the checkpoint came from (%s)", file, name);
	}
	cm_autoclose int dirfd = open(images, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dirfd < 0)
		return cm_err(err, errno, "read %s", images);
	struct map_load ml = { s, members, err };
	return cm_criu_each_pagemap(dirfd, load_map, &ml, err);
}

int cm_page_server_run(int sock, const char *images, json_t *lazy_archive, struct cm_error *err)
{
	struct server s = { .fd = -1, .page = (uint64_t)sysconf(_SC_PAGESIZE) };
	for (size_t k = 0; k < CACHED; k++)
		s.cache[k].buf = cm_malloc(CM_CHUNK_BYTES);
	cm_autofree char *buf = cm_malloc(MAX_PAGES * s.page);
	int ret = load(&s, images, lazy_archive, err);
	uint64_t asked = 0;
	while (ret == 0) {
		struct ps_iov q;
		int r = read_full(sock, &q, sizeof(q));
		if (r <= 0) {
			ret = cm_err(err, r < 0 ? errno : 0, "the lazy-pages daemon went away before it had every page");
			break;
		}
		uint32_t cmd = q.cmd & ((1u << PS_CMD_BITS) - 1);
		if (cmd == PS_IOV_CLOSE || cmd == PS_IOV_FORCE_CLOSE) {
			int32_t ok = 0;
			ret = write_full(sock, &ok, sizeof(ok)) < 0 ? cm_err(err, errno, "answer the close") : 0;
			break;
		}
		if (cmd != PS_IOV_GET) {
			ret = cm_err(err, 0, "the lazy-pages daemon sent command %u", q.cmd);
			break;
		}
		asked++;
		ret = answer(&s, sock, &q, buf, err);
	}
	cm_debug("page server: %llu requests", (unsigned long long)asked);
	for (size_t i = 0; i < s.n_maps; i++)
		free(s.maps[i].runs);
	free(s.maps);
	for (size_t k = 0; k < CACHED; k++)
		free(s.cache[k].buf);
	cm_frames_index_free(&s.idx);
	if (s.fd >= 0)
		close(s.fd);
	return ret;
}
