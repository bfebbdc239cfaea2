#include "dump_hash.h"
#include "chunked_sha256.h"
#include "error.h"
#include "sha256.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define CHUNK (1 << 20)
/* Per file and pass, so that two page images written at once both move. */
#define PASS_CHUNKS 16
/* How long to wait for CRIU to write more. */
#define IDLE_US 2000

struct followed {
	char *name;
	int fd;
	struct cm_chunked_sha256 sha;
	uint64_t hashed;
	bool broken; /* it shrank, or could not be read: the export hashes it */
};

struct cm_dump_hash {
	pthread_t thread;
	char *images;
	DIR *dir;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	bool done;   /* CRIU has finished */
	bool listed; /* and every page image it wrote is in f: f no longer grows */
	struct followed *f;
	size_t n, cap;
	char *buf;
};

static bool is_page_image(const char *name)
{
	size_t len = strlen(name);
	return !strncmp(name, "pages-", 6) && len > 10 && !strcmp(name + len - 4, ".img");
}

/* Starts following page images that appeared since the last pass. */
static void find_new(struct cm_dump_hash *h)
{
	struct dirent *de;
	rewinddir(h->dir);
	while ((de = readdir(h->dir))) {
		if (!is_page_image(de->d_name))
			continue;
		bool known = false;
		for (size_t i = 0; i < h->n && !known; i++)
			known = !strcmp(h->f[i].name, de->d_name);
		if (known)
			continue;
		int fd = openat(dirfd(h->dir), de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (h->n == h->cap) {
			h->cap = h->cap ? 2 * h->cap : 8;
			h->f = cm_realloc(h->f, h->cap * sizeof(*h->f));
		}
		struct followed *f = &h->f[h->n++];
		*f = (struct followed){ .name = cm_strdup(de->d_name), .fd = fd };
		cm_chunked_sha256_init(&f->sha);
	}
}

/* Hashes what each file holds beyond what is hashed, at most max chunks of
 * each; returns whether anything was. */
static bool catch_up(struct cm_dump_hash *h, size_t max)
{
	bool moved = false;
	for (size_t i = 0; i < h->n; i++) {
		struct followed *f = &h->f[i];
		struct stat sb;
		if (f->broken)
			continue;
		if (fstat(f->fd, &sb) < 0 || (uint64_t)sb.st_size < f->hashed) {
			f->broken = true;
			continue;
		}
		for (size_t k = 0; k < max && f->hashed < (uint64_t)sb.st_size; k++) {
			uint64_t left = (uint64_t)sb.st_size - f->hashed;
			ssize_t r = pread(f->fd, h->buf, left < CHUNK ? (size_t)left : CHUNK, (off_t)f->hashed);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				f->broken = true;
				break;
			}
			cm_chunked_sha256_update(&f->sha, h->buf, (size_t)r);
			f->hashed += (uint64_t)r;
			moved = true;
		}
	}
	return moved;
}

static bool is_done(struct cm_dump_hash *h)
{
	pthread_mutex_lock(&h->lock);
	bool done = h->done;
	pthread_mutex_unlock(&h->lock);
	return done;
}

static void *follow(void *arg)
{
	struct cm_dump_hash *h = arg;
	/* Only the time CRIU leaves: its dump is the freeze, and comes first. */
	struct sched_param idle = { 0 };
	pthread_mutex_lock(&h->lock);
	if (!h->done)
		pthread_setschedparam(pthread_self(), SCHED_IDLE, &idle);
	pthread_mutex_unlock(&h->lock);
	while (!is_done(h)) {
		find_new(h);
		if (!catch_up(h, PASS_CHUNKS))
			usleep(IDLE_US);
	}
	/* CRIU has closed them all (and cm_dump_hash_criu_done made this a
	 * normal thread again): the rest, to the end, beside the export. */
	find_new(h);
	pthread_mutex_lock(&h->lock);
	h->listed = true;
	pthread_cond_broadcast(&h->changed);
	pthread_mutex_unlock(&h->lock);
	while (catch_up(h, SIZE_MAX))
		;
	return NULL;
}

struct cm_dump_hash *cm_dump_hash_start(const char *images, struct cm_error *err)
{
	struct cm_dump_hash *h = calloc(1, sizeof(*h));
	if (!h || !(h->buf = malloc(CHUNK)) || !(h->dir = opendir(images))) {
		int e = h && h->buf ? errno : ENOMEM;
		if (h)
			free(h->buf);
		free(h);
		cm_err(err, e, "follow %s", images);
		return NULL;
	}
	h->images = cm_strdup(images);
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->changed, NULL);
	int e = pthread_create(&h->thread, NULL, follow, h);
	if (e) {
		closedir(h->dir);
		pthread_mutex_destroy(&h->lock);
		pthread_cond_destroy(&h->changed);
		free(h->images);
		free(h->buf);
		free(h);
		cm_err(err, e, "start a hashing thread");
		return NULL;
	}
	return h;
}

static json_int_t ns(const struct timespec *t)
{
	return (json_int_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

void cm_dump_hash_criu_done(struct cm_dump_hash *h)
{
	/* From here it is on the export's path: a normal thread at once, not
	 * when it gets a turn at SCHED_IDLE on a busy machine. */
	struct sched_param normal = { 0 };
	pthread_mutex_lock(&h->lock);
	if (!h->done)
		pthread_setschedparam(h->thread, SCHED_OTHER, &normal);
	h->done = true;
	pthread_mutex_unlock(&h->lock);
}

bool cm_dump_hash_follows(struct cm_dump_hash *h, const char *path)
{
	cm_dump_hash_criu_done(h);
	pthread_mutex_lock(&h->lock);
	while (!h->listed)
		pthread_cond_wait(&h->changed, &h->lock);
	pthread_mutex_unlock(&h->lock);
	size_t n = strlen(h->images);
	if (strncmp(path, h->images, n) || path[n] != '/')
		return false;
	for (size_t i = 0; i < h->n; i++)
		if (!strcmp(h->f[i].name, path + n + 1))
			return true;
	return false;
}

json_t *cm_dump_hash_finish(struct cm_dump_hash *h)
{
	cm_dump_hash_criu_done(h);
	pthread_join(h->thread, NULL);
	json_t *digests = json_object();
	for (size_t i = 0; i < h->n; i++) {
		struct followed *f = &h->f[i];
		char hex[65];
		struct stat sb;
		cm_autofree unsigned char *chunks = NULL;
		size_t n_chunks = 0;
		cm_chunked_sha256_final(&f->sha, hex, &chunks, &n_chunks);
		if (!f->broken && fstat(f->fd, &sb) == 0 && (uint64_t)sb.st_size == f->hashed) {
			cm_autofree char *path = cm_path_join(h->images, f->name);
			cm_autofree char *chunks_hex = cm_hex_encode(chunks, n_chunks * CM_DIGEST_BYTES);
			json_object_set_new(digests, path,
					    json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "sha256", hex,
						      "chunks", chunks_hex, "size",
						      (json_int_t)sb.st_size, "dev", (json_int_t)sb.st_dev,
						      "ino", (json_int_t)sb.st_ino, "mtime", ns(&sb.st_mtim),
						      "ctime", ns(&sb.st_ctim)));
		}
		close(f->fd);
		free(f->name);
	}
	closedir(h->dir);
	pthread_mutex_destroy(&h->lock);
	pthread_cond_destroy(&h->changed);
	free(h->f);
	free(h->images);
	free(h->buf);
	free(h);
	return digests;
}

const char *cm_dump_hash_lookup(json_t *digests, const char *path, const struct stat *sb,
				const char **chunks)
{
	json_t *d = json_object_get(digests, path);
	if (!d || json_integer_value(json_object_get(d, "size")) != (json_int_t)sb->st_size ||
	    json_integer_value(json_object_get(d, "dev")) != (json_int_t)sb->st_dev ||
	    json_integer_value(json_object_get(d, "ino")) != (json_int_t)sb->st_ino ||
	    json_integer_value(json_object_get(d, "mtime")) != ns(&sb->st_mtim) ||
	    json_integer_value(json_object_get(d, "ctime")) != ns(&sb->st_ctim))
		return NULL;
	if (chunks)
		*chunks = json_string_value(json_object_get(d, "chunks"));
	return json_string_value(json_object_get(d, "sha256"));
}
