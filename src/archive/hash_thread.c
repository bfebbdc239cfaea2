#include "hash_thread.h"
#include "error.h"
#include "sha256.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK (1 << 20)

struct cm_hash_thread {
	pthread_t thread;
	bool threaded;   /* small files are hashed at finish, on the caller's thread */
	pthread_mutex_t lock;
	pthread_cond_t more;
	int fd;
	uint64_t ready;  /* bytes the file holds so far */
	bool done;       /* ready is the final size */
	struct cm_sha256 sha;
	uint64_t hashed; /* only the thread touches this, sha and buf */
	int read_errno;  /* 0, an errno, or -1 for a file shorter than ready */
	char *buf;
};

static void *hash_loop(void *arg)
{
	struct cm_hash_thread *h = arg;
	for (;;) {
		pthread_mutex_lock(&h->lock);
		while (h->hashed >= h->ready && !h->done)
			pthread_cond_wait(&h->more, &h->lock);
		uint64_t ready = h->ready;
		pthread_mutex_unlock(&h->lock);
		if (h->hashed >= ready)
			return NULL; /* done, and all of it hashed */
		while (h->hashed < ready) {
			size_t want = ready - h->hashed < CHUNK ? (size_t)(ready - h->hashed) : CHUNK;
			ssize_t n = pread(h->fd, h->buf, want, (off_t)h->hashed);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				h->read_errno = n < 0 ? errno : -1;
				return NULL;
			}
			cm_sha256_update(&h->sha, h->buf, (size_t)n);
			h->hashed += (uint64_t)n;
		}
	}
}

struct cm_hash_thread *cm_hash_thread_start(int fd, uint64_t expected_size, struct cm_error *err)
{
	struct cm_hash_thread *h = calloc(1, sizeof(*h));
	if (!h || !(h->buf = malloc(CHUNK))) {
		free(h);
		cm_err(err, ENOMEM, "hash");
		return NULL;
	}
	h->fd = fd;
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->more, NULL);
	cm_sha256_init(&h->sha);
	/* A thread costs more than hashing the manifest's many small files. */
	h->threaded = expected_size >= CHUNK;
	int e = h->threaded ? pthread_create(&h->thread, NULL, hash_loop, h) : 0;
	if (e) {
		char ignored[65];
		cm_sha256_final_hex(&h->sha, ignored);
		free(h->buf);
		free(h);
		cm_err(err, e, "start a hashing thread");
		return NULL;
	}
	return h;
}

void cm_hash_thread_advance(struct cm_hash_thread *h, uint64_t ready)
{
	pthread_mutex_lock(&h->lock);
	if (ready > h->ready) {
		h->ready = ready;
		pthread_cond_signal(&h->more);
	}
	pthread_mutex_unlock(&h->lock);
}

int cm_hash_thread_finish(struct cm_hash_thread *h, uint64_t size, char hex[65], struct cm_error *err)
{
	pthread_mutex_lock(&h->lock);
	h->ready = size;
	h->done = true;
	pthread_cond_signal(&h->more);
	pthread_mutex_unlock(&h->lock);
	if (h->threaded)
		pthread_join(h->thread, NULL);
	else
		hash_loop(h);
	cm_sha256_final_hex(&h->sha, hex);
	int ret = 0;
	if (h->read_errno > 0)
		ret = cm_err(err, h->read_errno, "read back to hash");
	else if (h->read_errno < 0 || h->hashed != size)
		ret = cm_err(err, 0, "shrank while read");
	pthread_mutex_destroy(&h->lock);
	pthread_cond_destroy(&h->more);
	free(h->buf);
	free(h);
	return ret;
}
