/* The archive's frames (zstd_frames.h) and the chunked digest
 * (chunked_sha256.h): what a lazy restore trusts the trailer for, and what
 * it refuses when the trailer or a chunk is not what it claims. */
#include "chunked_sha256.h"
#include "error.h"
#include "sha256.h"
#include "tap.h"
#include "util.h"
#include "zstd_frames.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

struct mem {
	unsigned char *p;
	size_t len;
};

static int to_mem(void *arg, const void *buf, size_t len)
{
	struct mem *m = arg;
	m->p = realloc(m->p, m->len + len);
	memcpy(m->p + m->len, buf, len);
	m->len += len;
	return 0;
}

static int file_of(const struct mem *m, const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, m->p, m->len) != (ssize_t)m->len)
		return -1;
	return fd;
}

int main(void)
{
	/* the chunked digest: chunks of 1 MiB, however the bytes come */
	size_t len = (5 << 20) / 2; /* 2.5 MiB: two whole chunks and a half */
	unsigned char *data = malloc(len);
	for (size_t i = 0; i < len; i++)
		data[i] = (unsigned char)(i * 13 + i / 4096);
	unsigned char want_d[3 * 32];
	for (size_t i = 0; i < 3; i++) {
		size_t at = i << 20, l = len - at < (1u << 20) ? len - at : (1u << 20);
		struct cm_sha256 h;
		cm_sha256_init(&h);
		cm_sha256_update(&h, data + at, l);
		cm_sha256_final(&h, want_d + 32 * i);
	}
	char want[65], got[65];
	cm_sha256_hex(want_d, sizeof(want_d), want);
	struct cm_chunked_sha256 c;
	cm_chunked_sha256_init(&c);
	for (size_t off = 0; off < len; off += 77777)
		cm_chunked_sha256_update(&c, data + off, len - off < 77777 ? len - off : 77777);
	unsigned char *digests;
	size_t n;
	cm_chunked_sha256_final(&c, got, &digests, &n);
	is_str(got, want, "the chunked digest is the digest of the chunks' digests");
	ok(n == 3 && !memcmp(digests, want_d, sizeof(want_d)), "with one digest per chunk, the last short");
	free(digests);
	cm_chunked_sha256_init(&c);
	cm_chunked_sha256_final(&c, got, NULL, NULL);
	char empty[65];
	cm_sha256_hex("", 0, empty);
	is_str(got, empty, "an empty member has no chunks");

	/* frames: a header, then a member cut per chunk, then a tail */
	struct mem out = { 0 };
	struct cm_frames *f = cm_frames_new(to_mem, &out, 2, NULL);
	ok(f != NULL, "a frame writer");
	cm_frames_write(f, "header..", 8);
	cm_frames_cut(f);
	uint64_t start = cm_frames_raw_offset(f);
	for (size_t off = 0; off < len; off += 1 << 20) {
		cm_frames_write(f, data + off, len - off < (1u << 20) ? len - off : (1u << 20));
		cm_frames_cut(f);
	}
	cm_frames_cut(f); /* an empty frame is no frame */
	cm_frames_write(f, "tail", 4);
	cm_frames_add_member(f, "checkpoint/pages-1.img", start, len, want_d, 3);
	ok(cm_frames_finish(f) == 0, "finished with a trailer");
	cm_frames_free(f);

	size_t plain_len = 8 + len + 4;
	unsigned char *plain = malloc(plain_len);
	size_t r = ZSTD_decompress(plain, plain_len, out.p, out.len);
	ok(r == plain_len && !memcmp(plain, "header..", 8) && !memcmp(plain + 8, data, len) &&
		   !memcmp(plain + 8 + len, "tail", 4),
	   "any zstd reader gets the bytes back, the trailer skipped");

	char path[] = "/tmp/ctrmig-frames-XXXXXX";
	close(mkstemp(path));
	int fd = file_of(&out, path);
	struct cm_frames_index idx;
	struct cm_error err = { 0 };
	ok(cm_frames_index_read(fd, &idx, &err) == 1, "the index is read back");
	ok(idx.n_frames == 5 && idx.raw_size == plain_len, "five frames: header, three chunks, tail");
	const struct cm_frames_member *m = cm_frames_member_find(&idx, "checkpoint/pages-1.img");
	ok(m && m->raw_offset == 8 && m->size == len && m->n_digests == 3, "the member, where it is");
	char *chunk = malloc(CM_CHUNK_BYTES);
	ok(m && cm_frames_read_chunk(fd, &idx, m, 2, chunk, &err) == (long)(len - (2 << 20)) &&
		   !memcmp(chunk, data + (2 << 20), len - (2 << 20)),
	   "a chunk alone, checked");

	/* reading the tar inside, skipping the member's frames */
	struct cm_frames_reader *rd = cm_frames_reader_new(fd, &idx);
	const void *buf;
	long got_n = cm_frames_reader_read(rd, &buf, &err);
	ok(got_n == 8 && !memcmp(buf, "header..", 8), "a read stops at its frame's end");
	ok(cm_frames_reader_skip(rd, len) == len && cm_frames_reader_position(rd) == 8 + len,
	   "a skip passes over whole frames");
	got_n = cm_frames_reader_read(rd, &buf, &err);
	ok(got_n == 4 && !memcmp(buf, "tail", 4) && cm_frames_reader_read(rd, &buf, &err) == 0, "then the tail");
	cm_frames_reader_free(rd);

	/* a flipped bit in a chunk's frame: refused, not served */
	const struct cm_frame *fr = cm_frames_at(&idx, 8 + (1 << 20));
	unsigned char b;
	ok(fr && pread(fd, &b, 1, (off_t)(fr->comp_offset + fr->comp_size / 2)) == 1, "a chunk's frame");
	b ^= 1;
	ok(pwrite(fd, &b, 1, (off_t)(fr->comp_offset + fr->comp_size / 2)) == 1, "flip a bit of it");
	ok(cm_frames_read_chunk(fd, &idx, m, 1, chunk, &err) < 0 && strstr(err.msg, "chunk 1 does not match"),
	   "the chunk is refused: %s", err.msg);
	cm_error_clear(&err);
	/* a digest that does not match the data (an index that lies) */
	m = cm_frames_member_find(&idx, "checkpoint/pages-1.img");
	((struct cm_frames_member *)m)->digests[0] ^= 1;
	ok(cm_frames_read_chunk(fd, &idx, m, 0, chunk, &err) < 0, "a lying digest is refused too");
	cm_error_clear(&err);
	cm_frames_index_free(&idx);
	close(fd);

	/* broken trailers */
	struct mem cut = { out.p, out.len - 1 };
	fd = file_of(&cut, path);
	ok(cm_frames_index_read(fd, &idx, &err) == 0, "a file cut short has no index (read as a plain archive)");
	close(fd);
	unsigned char *copy = malloc(out.len);
	memcpy(copy, out.p, out.len);
	struct mem bad = { copy, out.len };
	copy[out.len - 12] ^= 0x40; /* the trailer's own length */
	fd = file_of(&bad, path);
	ok(cm_frames_index_read(fd, &idx, &err) < 0, "a trailer whose length lies is refused: %s", err.msg);
	cm_error_clear(&err);
	close(fd);
	memcpy(copy, out.p, out.len);
	/* the first frame's compressed size, just after the trailer's magic and counts */
	size_t trailer = out.len - (copy[out.len - 12] | copy[out.len - 11] << 8 | copy[out.len - 10] << 16);
	copy[trailer + 16] ^= 1;
	fd = file_of(&bad, path);
	ok(cm_frames_index_read(fd, &idx, &err) < 0 && strstr(err.msg, "frames end at"),
	   "frames that do not end where the trailer starts are refused: %s", err.msg);
	cm_error_clear(&err);
	close(fd);
	unlink(path);
	free(copy);
	free(chunk);
	free(plain);
	free(out.p);
	free(data);
	return done();
}
