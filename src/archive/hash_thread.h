/* The SHA-256 of a member of a checkpoint archive, computed on a second
 * thread while the caller moves its bytes, so that hashing costs no time on
 * the thread that moves them. The caller fills buffers the hasher lends it,
 * in order, and hands each back; it writes or streams a buffer while the
 * hasher reads it, and never reads a byte twice (no read back from a file). */
#ifndef CM_HASH_THREAD_H
#define CM_HASH_THREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cm_error;
struct cm_hash_thread;

/* Starts a hasher for about expected_size bytes. A member expected to be
 * small is hashed on the caller's thread, with no thread started. */
struct cm_hash_thread *cm_hash_thread_start(uint64_t expected_size, struct cm_error *err);

/* The same for a page image: the digest is chunked (chunked_sha256.h). */
struct cm_hash_thread *cm_hash_thread_start_kind(uint64_t expected_size, bool chunked,
						 struct cm_error *err);

/* A buffer to fill, of *cap bytes; waits while every buffer is still being
 * hashed. It stays the caller's until cm_hash_thread_push. */
void *cm_hash_thread_buffer(struct cm_hash_thread *h, size_t *cap);

/* The buffer last returned holds len bytes (len <= cap), to be hashed
 * after those pushed before. The caller may go on reading it (to write it
 * out) until it asks for the next buffer; it must not change it. */
void cm_hash_thread_push(struct cm_hash_thread *h, size_t len);

/* Waits for the hash of everything pushed, frees h; *total (if not NULL)
 * is the number of bytes hashed. */
void cm_hash_thread_finish(struct cm_hash_thread *h, char hex[65], uint64_t *total);

/* The same, for a chunked hasher: *digests (if not NULL) takes the chunks'
 * digests, *n of them, for the caller to free. */
void cm_hash_thread_finish_chunked(struct cm_hash_thread *h, char hex[65], uint64_t *total,
				   unsigned char **digests, size_t *n);

#endif
