#include "error.h"
#include "hash_thread.h"
#include "sha256.h"
#include "tap.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* A temporary file, already unlinked. */
static int temp_file(void)
{
	char path[] = "/tmp/ctrmig-hash-XXXXXX";
	int fd = mkstemp(path);
	unlink(path);
	return fd;
}

int main(void)
{
	/* 3.5 MiB of a pattern, written in pieces the hasher follows. */
	size_t len = 7 << 19;
	unsigned char *data = malloc(len);
	for (size_t i = 0; i < len; i++)
		data[i] = (unsigned char)(i * 31 + i / 4096);
	char want[65], got[65];
	cm_sha256_hex(data, len, want);

	/* On a thread (a big file), and at finish (a file expected small). */
	int fd;
	struct cm_hash_thread *h;
	uint64_t expected[] = { len, 0 };
	for (int k = 0; k < 2; k++) {
		fd = temp_file();
		h = cm_hash_thread_start(fd, expected[k], NULL);
		for (size_t off = 0; off < len; off += 300000) {
			size_t n = len - off < 300000 ? len - off : 300000;
			if (pwrite(fd, data + off, n, (off_t)off) != (ssize_t)n)
				break;
			cm_hash_thread_advance(h, off + n);
		}
		ok(cm_hash_thread_finish(h, len, got, NULL) == 0, "hashing while written succeeds (%d)", k);
		ok(!strcmp(got, want), "same digest as hashing the buffer (%d)", k);
		close(fd);
	}

	/* A hole (a sparse member) hashes as the zeros a reader sees. */
	unsigned char *holey = calloc(1, 2 << 20);
	memcpy(holey + (1 << 20), "end", 3);
	cm_sha256_hex(holey, 2 << 20, want);
	fd = temp_file();
	h = cm_hash_thread_start(fd, 2 << 20, NULL);
	ok(pwrite(fd, "end", 3, 1 << 20) == 3, "write after a hole");
	ok(ftruncate(fd, 2 << 20) == 0, "extend with a hole");
	ok(cm_hash_thread_finish(h, 2 << 20, got, NULL) == 0 && !strcmp(got, want), "a hole hashes as zeros");
	close(fd);

	/* A file shorter than the size claimed is an error, not a digest. */
	fd = temp_file();
	ok(write(fd, "short", 5) == 5, "a short file");
	h = cm_hash_thread_start(fd, 100, NULL);
	struct cm_error err = { 0 };
	ok(cm_hash_thread_finish(h, 100, got, &err) < 0 && strstr(err.msg, "shrank"), "too short: %s", err.msg);
	cm_error_clear(&err);
	close(fd);

	/* Nothing to hash at all. */
	fd = temp_file();
	h = cm_hash_thread_start(fd, 0, NULL);
	cm_sha256_hex("", 0, want);
	ok(cm_hash_thread_finish(h, 0, got, NULL) == 0 && !strcmp(got, want), "an empty file");
	close(fd);

	free(data);
	free(holey);
	return done();
}
