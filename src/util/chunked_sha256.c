#include "chunked_sha256.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

void cm_chunked_sha256_init(struct cm_chunked_sha256 *h)
{
	*h = (struct cm_chunked_sha256){ 0 };
	cm_sha256_init(&h->chunk);
}

static void end_chunk(struct cm_chunked_sha256 *h)
{
	if (h->n == h->cap) {
		h->cap = h->cap ? 2 * h->cap : 64;
		h->digests = cm_realloc(h->digests, h->cap * CM_DIGEST_BYTES);
	}
	cm_sha256_final(&h->chunk, h->digests + h->n++ * CM_DIGEST_BYTES);
	cm_sha256_init(&h->chunk);
	h->in_chunk = 0;
}

void cm_chunked_sha256_update(struct cm_chunked_sha256 *h, const void *data, size_t len)
{
	const unsigned char *p = data;
	while (len > 0) {
		size_t room = CM_CHUNK_BYTES - (size_t)h->in_chunk;
		size_t n = len < room ? len : room;
		cm_sha256_update(&h->chunk, p, n);
		h->in_chunk += n;
		p += n, len -= n;
		if (h->in_chunk == CM_CHUNK_BYTES)
			end_chunk(h);
	}
}

void cm_chunked_sha256_root(const unsigned char *digests, size_t n, char hex[65])
{
	cm_sha256_hex(digests, n * CM_DIGEST_BYTES, hex);
}

void cm_chunked_sha256_final(struct cm_chunked_sha256 *h, char hex[65], unsigned char **digests,
			     size_t *n)
{
	if (h->in_chunk)
		end_chunk(h);
	unsigned char ignored[CM_DIGEST_BYTES];
	cm_sha256_final(&h->chunk, ignored);
	cm_chunked_sha256_root(h->digests, h->n, hex);
	if (digests) {
		*digests = h->digests;
		*n = h->n;
	} else {
		free(h->digests);
	}
	h->digests = NULL;
}
