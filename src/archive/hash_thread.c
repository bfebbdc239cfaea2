#include "hash_thread.h"
#include "chunked_sha256.h"
#include "error.h"
#include "sha256.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Buffers of CHUNK bytes, SLOTS of them: the caller fills one while the
 * hasher works through the others. */
#define CHUNK (1 << 20)
#define SLOTS 4
/* A member smaller than this is hashed as it comes, in one small buffer. */
#define SMALL_CHUNK (64 << 10)

struct cm_hash_thread {
	pthread_t thread;
	bool threaded;
	size_t cap;
	char *buf[SLOTS];
	size_t len[SLOTS];
	pthread_mutex_t lock;
	pthread_cond_t changed; /* a buffer pushed, one hashed, or the end */
	uint64_t pushed, hashed; /* buffers, in order; slot = n % SLOTS */
	bool done;
	bool chunked; /* a page image: its chunks' digests (chunked_sha256.h) */
	struct cm_sha256 sha;
	struct cm_chunked_sha256 csha;
	uint64_t bytes; /* hashed so far; only the hashing thread touches this and sha */
};

static void update(struct cm_hash_thread *h, const void *data, size_t len)
{
	if (h->chunked)
		cm_chunked_sha256_update(&h->csha, data, len);
	else
		cm_sha256_update(&h->sha, data, len);
}

static void final(struct cm_hash_thread *h, char hex[65], unsigned char **digests, size_t *n)
{
	if (h->chunked)
		cm_chunked_sha256_final(&h->csha, hex, digests, n);
	else
		cm_sha256_final_hex(&h->sha, hex);
}

static void *hash_loop(void *arg)
{
	struct cm_hash_thread *h = arg;
	pthread_mutex_lock(&h->lock);
	for (;;) {
		while (h->hashed == h->pushed && !h->done)
			pthread_cond_wait(&h->changed, &h->lock);
		if (h->hashed == h->pushed)
			break; /* done, and all of it hashed */
		size_t slot = h->hashed % SLOTS;
		pthread_mutex_unlock(&h->lock);
		update(h, h->buf[slot], h->len[slot]);
		h->bytes += h->len[slot];
		pthread_mutex_lock(&h->lock);
		h->hashed++;
		pthread_cond_broadcast(&h->changed);
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

static void hash_free(struct cm_hash_thread *h)
{
	for (size_t i = 0; i < SLOTS; i++)
		free(h->buf[i]);
	pthread_mutex_destroy(&h->lock);
	pthread_cond_destroy(&h->changed);
	free(h);
}

struct cm_hash_thread *cm_hash_thread_start(uint64_t expected_size, struct cm_error *err)
{
	return cm_hash_thread_start_kind(expected_size, false, err);
}

struct cm_hash_thread *cm_hash_thread_start_kind(uint64_t expected_size, bool chunked,
						 struct cm_error *err)
{
	struct cm_hash_thread *h = calloc(1, sizeof(*h));
	if (!h) {
		cm_err(err, ENOMEM, "hash");
		return NULL;
	}
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->changed, NULL);
	/* A thread costs more than hashing the manifest's many small files. */
	h->threaded = expected_size >= CHUNK;
	h->cap = h->threaded ? CHUNK : SMALL_CHUNK;
	for (size_t i = 0; i < (h->threaded ? SLOTS : 1); i++) {
		if (!(h->buf[i] = malloc(h->cap))) {
			hash_free(h);
			cm_err(err, ENOMEM, "hash");
			return NULL;
		}
	}
	h->chunked = chunked;
	if (chunked)
		cm_chunked_sha256_init(&h->csha);
	else
		cm_sha256_init(&h->sha);
	int e = h->threaded ? pthread_create(&h->thread, NULL, hash_loop, h) : 0;
	if (e) {
		char ignored[65];
		final(h, ignored, NULL, NULL);
		hash_free(h);
		cm_err(err, e, "start a hashing thread");
		return NULL;
	}
	return h;
}

void *cm_hash_thread_buffer(struct cm_hash_thread *h, size_t *cap)
{
	*cap = h->cap;
	if (!h->threaded)
		return h->buf[0];
	pthread_mutex_lock(&h->lock);
	while (h->pushed - h->hashed == SLOTS)
		pthread_cond_wait(&h->changed, &h->lock);
	size_t slot = h->pushed % SLOTS;
	pthread_mutex_unlock(&h->lock);
	return h->buf[slot];
}

void cm_hash_thread_push(struct cm_hash_thread *h, size_t len)
{
	if (!h->threaded) {
		update(h, h->buf[0], len);
		h->bytes += len;
		return;
	}
	pthread_mutex_lock(&h->lock);
	h->len[h->pushed % SLOTS] = len;
	h->pushed++;
	pthread_cond_broadcast(&h->changed);
	pthread_mutex_unlock(&h->lock);
}

void cm_hash_thread_finish(struct cm_hash_thread *h, char hex[65], uint64_t *total)
{
	cm_hash_thread_finish_chunked(h, hex, total, NULL, NULL);
}

void cm_hash_thread_finish_chunked(struct cm_hash_thread *h, char hex[65], uint64_t *total,
				   unsigned char **digests, size_t *n)
{
	if (h->threaded) {
		pthread_mutex_lock(&h->lock);
		h->done = true;
		pthread_cond_broadcast(&h->changed);
		pthread_mutex_unlock(&h->lock);
		pthread_join(h->thread, NULL);
	}
	final(h, hex, digests, n);
	if (total)
		*total = h->bytes;
	hash_free(h);
}
