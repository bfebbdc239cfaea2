/* The digest of a page image in a format-2 archive: the SHA-256 of the
 * SHA-256s of its 1 MiB chunks, in order. It costs what a plain SHA-256
 * costs, and lets a reader check one chunk alone against a list whose own
 * digest the signed manifest holds: what a lazy restore needs, which serves
 * memory from the archive long after the restore has started. */
#ifndef CM_CHUNKED_SHA256_H
#define CM_CHUNKED_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "sha256.h"

#define CM_CHUNK_BYTES (1u << 20)
#define CM_DIGEST_BYTES 32

struct cm_chunked_sha256 {
	struct cm_sha256 chunk; /* the chunk being hashed */
	uint64_t in_chunk;      /* its bytes so far */
	unsigned char *digests; /* CM_DIGEST_BYTES per chunk done */
	size_t n, cap;
};

void cm_chunked_sha256_init(struct cm_chunked_sha256 *h);
void cm_chunked_sha256_update(struct cm_chunked_sha256 *h, const void *data, size_t len);
/* Ends the last chunk and writes the digest; *digests (if not NULL) takes
 * the chunks' digests, *n of them, for the caller to free. */
void cm_chunked_sha256_final(struct cm_chunked_sha256 *h, char hex[65], unsigned char **digests,
			     size_t *n);

/* The digest of a list of n chunk digests: what the manifest holds. */
void cm_chunked_sha256_root(const unsigned char *digests, size_t n, char hex[65]);

/* The number of chunks a member of size bytes has. */
static inline uint64_t cm_chunk_count(uint64_t size)
{
	return (size + CM_CHUNK_BYTES - 1) / CM_CHUNK_BYTES;
}

#endif
