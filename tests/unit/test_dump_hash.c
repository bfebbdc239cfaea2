#include "dump_hash.h"
#include "error.h"
#include "sha256.h"
#include "tap.h"
#include "util.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Appends data to path in pieces, as CRIU writes a page image. */
static void write_slowly(const char *path, const unsigned char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	struct timespec pause = { 0, 200 * 1000 };
	for (size_t off = 0; off < len; off += 100000) {
		size_t n = len - off < 100000 ? len - off : 100000;
		if (write(fd, data + off, n) != (ssize_t)n)
			break;
		nanosleep(&pause, NULL);
	}
	close(fd);
}

/* The chunked digest (chunked_sha256.h) computed the plain way: each 1 MiB
 * on its own, then the digest of the digests. */
static void chunked_hex(const unsigned char *data, size_t len, char hex[65], char **chunks_hex)
{
	size_t n = (len + (1 << 20) - 1) >> 20;
	unsigned char *all = malloc(32 * n + 1);
	for (size_t i = 0; i < n; i++) {
		size_t at = i << 20, l = len - at < (1u << 20) ? len - at : (1u << 20);
		struct cm_sha256 h;
		cm_sha256_init(&h);
		cm_sha256_update(&h, data + at, l);
		cm_sha256_final(&h, all + 32 * i);
	}
	cm_sha256_hex(all, 32 * n, hex);
	*chunks_hex = cm_hex_encode(all, 32 * n);
	free(all);
}

int main(void)
{
	char dir[] = "/tmp/ctrmig-dump-hash-XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	size_t len = 5 << 20;
	unsigned char *data = malloc(len);
	for (size_t i = 0; i < len; i++)
		data[i] = (unsigned char)(i * 7 + i / 4096);
	char want1[65], want2[65];
	cm_autofree char *chunks1 = NULL, *chunks2 = NULL;
	chunked_hex(data, len, want1, &chunks1);
	chunked_hex(data, len / 3, want2, &chunks2);

	struct cm_dump_hash *h = cm_dump_hash_start(dir, NULL);
	ok(h != NULL, "follows an empty folder");
	cm_autofree char *p1 = cm_path_join(dir, "pages-1.img");
	cm_autofree char *p2 = cm_path_join(dir, "pages-2.img");
	cm_autofree char *other = cm_path_join(dir, "core-1.img");
	write_slowly(p1, data, len);
	write_slowly(p2, data, len / 3);
	write_slowly(other, data, 1000);
	cm_dump_hash_criu_done(h);
	ok(cm_dump_hash_follows(h, p1) && cm_dump_hash_follows(h, p2), "follows the page images");
	ok(!cm_dump_hash_follows(h, other), "not the other images");
	json_t *d = cm_dump_hash_finish(h);

	struct stat sb;
	stat(p1, &sb);
	const char *chunks = NULL;
	const char *got = cm_dump_hash_lookup(d, p1, &sb, &chunks);
	ok(got && !strcmp(got, want1), "the chunked digest of a file hashed while it was written");
	ok(chunks && !strcmp(chunks, chunks1), "and its chunks' digests");
	stat(p2, &sb);
	got = cm_dump_hash_lookup(d, p2, &sb, &chunks);
	ok(got && !strcmp(got, want2) && chunks && !strcmp(chunks, chunks2),
	   "and of the second one, not a whole number of chunks");
	stat(other, &sb);
	ok(!cm_dump_hash_lookup(d, other, &sb, NULL), "none for a file not followed");

	/* Changed since: the digest is not used. */
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	nanosleep(&pause, NULL);
	int fd = open(p1, O_WRONLY | O_CLOEXEC);
	ok(pwrite(fd, "x", 1, 10) == 1, "rewrite a byte in place");
	close(fd);
	stat(p1, &sb);
	ok(!cm_dump_hash_lookup(d, p1, &sb, NULL), "a file changed since is not taken for hashed");
	json_decref(d);

	/* Stopped before anything was written. */
	char empty[] = "/tmp/ctrmig-dump-hash-XXXXXX";
	h = mkdtemp(empty) ? cm_dump_hash_start(empty, NULL) : NULL;
	d = h ? cm_dump_hash_finish(h) : NULL;
	ok(d && json_object_size(d) == 0, "nothing written, nothing hashed");
	json_decref(d);

	cm_rm_rf(dir, NULL);
	cm_rm_rf(empty, NULL);
	free(data);
	return done();
}
