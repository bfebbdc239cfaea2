#include "error.h"
#include "hash_thread.h"
#include "sha256.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Feeds data in pieces of at most piece bytes, as a reader of an archive
 * does: each piece into the buffer the hasher lends. */
static void feed(struct cm_hash_thread *h, const unsigned char *data, size_t len, size_t piece)
{
	for (size_t off = 0; off < len;) {
		size_t cap;
		unsigned char *buf = cm_hash_thread_buffer(h, &cap);
		size_t n = len - off < piece ? len - off : piece;
		if (n > cap)
			n = cap;
		memcpy(buf, data + off, n);
		cm_hash_thread_push(h, n);
		/* the caller may still read what it pushed (to write it out) */
		if (memcmp(buf, data + off, n))
			printf("# pushed buffer changed under the caller\n");
		off += n;
	}
}

int main(void)
{
	/* 9.5 MiB of a pattern: more than the hasher's buffers hold at once. */
	size_t len = 19 << 19;
	unsigned char *data = malloc(len);
	for (size_t i = 0; i < len; i++)
		data[i] = (unsigned char)(i * 31 + i / 4096);
	char want[65], got[65];
	cm_sha256_hex(data, len, want);

	/* On a thread (a big member), and inline (a member expected small,
	 * which turns out big: the size in a header is only a hint here). */
	uint64_t expected[] = { len, 0 };
	size_t pieces[] = { 1 << 20, 300000, 4096 };
	for (int k = 0; k < 2; k++) {
		for (int p = 0; p < 3; p++) {
			struct cm_hash_thread *h = cm_hash_thread_start(expected[k], NULL);
			feed(h, data, len, pieces[p]);
			uint64_t total = 0;
			cm_hash_thread_finish(h, got, &total);
			ok(!strcmp(got, want) && total == len, "same digest as hashing the buffer (%s, pieces of %zu)",
			   k ? "inline" : "threaded", pieces[p]);
		}
	}

	/* Nothing to hash at all, with and without a thread. */
	cm_sha256_hex("", 0, want);
	for (int k = 0; k < 2; k++) {
		struct cm_hash_thread *h = cm_hash_thread_start(k ? 0 : 8 << 20, NULL);
		uint64_t total = 1;
		cm_hash_thread_finish(h, got, &total);
		ok(!strcmp(got, want) && total == 0, "nothing pushed: the empty digest (%d)", k);
	}

	/* A buffer is lent whole: the caller can fill up to cap. */
	struct cm_hash_thread *h = cm_hash_thread_start(len, NULL);
	size_t cap = 0;
	cm_hash_thread_buffer(h, &cap);
	ok(cap >= 64 << 10, "buffers of at least 64 KiB (%zu)", cap);
	cm_hash_thread_finish(h, got, NULL);

	free(data);
	return done();
}
