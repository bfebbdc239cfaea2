/* The SHA-256 of a file, computed on a second thread that reads the file
 * behind whoever writes or streams it, so that hashing a member of a
 * checkpoint archive costs no time on the thread moving its bytes. */
#ifndef CM_HASH_THREAD_H
#define CM_HASH_THREAD_H

#include <stdint.h>

struct cm_error;
struct cm_hash_thread;

/* Starts hashing the file open at fd (readable; fd stays the caller's).
 * A file expected to be small is hashed at finish, with no thread. */
struct cm_hash_thread *cm_hash_thread_start(int fd, uint64_t expected_size, struct cm_error *err);

/* Bytes [0, ready) are in the file now and may be hashed; a hole reads as
 * zeros, as any reader of the file sees it. */
void cm_hash_thread_advance(struct cm_hash_thread *h, uint64_t ready);

/* The file is size bytes long: waits for the hash of all of them, frees h.
 * Fails if the file could not be read that far. */
int cm_hash_thread_finish(struct cm_hash_thread *h, uint64_t size, char hex[65], struct cm_error *err);

#endif
