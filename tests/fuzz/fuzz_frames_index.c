/* libFuzzer target: the bytes are the end of a zstd archive, its frame index
 * (zstd_frames.h) included, which restore --lazy -i trusts for nothing but a
 * map. Whatever the trailer says, reading it stays inside the file; every
 * frame and member it accepts lies inside the file and the tar; and a chunk
 * it serves matches its digest (the read checks it) or is refused. */
#include "chunked_sha256.h"
#include "error.h"
#include "fuzz.h"
#include "zstd_frames.h"

#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *path;
	if (!path)
		path = cm_path_join(fuzz_dir(), "archive.tar.zst");
	fuzz_write(path, data, size);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	FUZZ_SETUP(fd >= 0, "open the input");
	struct cm_frames_index idx;
	struct cm_error err = { 0 };
	int r = cm_frames_index_read(fd, &idx, &err);
	FUZZ_ASSERT(r != 1 || !err.msg, "accepted with an error: %s", err.msg);
	cm_error_clear(&err);
	if (r == 1) {
		uint64_t comp = 0;
		for (size_t i = 0; i < idx.n_frames; i++) {
			FUZZ_ASSERT(idx.frames[i].comp_offset == comp, "frame %zu not after the one before", i);
			comp += idx.frames[i].comp_size;
		}
		FUZZ_ASSERT(comp <= size, "frames past the end of the file");
		static char buf[CM_CHUNK_BYTES];
		for (size_t i = 0; i < idx.n_members; i++) {
			const struct cm_frames_member *m = &idx.members[i];
			FUZZ_ASSERT(m->raw_offset + m->size <= idx.raw_size, "member %zu outside the tar", i);
			FUZZ_ASSERT(m->n_digests == cm_chunk_count(m->size), "member %zu's digests", i);
			for (uint64_t c = 0; c < m->n_digests && c < 4; c++) {
				long n = cm_frames_read_chunk(fd, &idx, m, c, buf, &err);
				FUZZ_ASSERT(n < 0 || (uint64_t)n <= CM_CHUNK_BYTES, "chunk of %ld bytes", n);
				cm_error_clear(&err);
			}
		}
		struct cm_frames_reader *rd = cm_frames_reader_new(fd, &idx);
		const void *out;
		for (int k = 0; k < 64 && cm_frames_reader_read(rd, &out, &err) > 0; k++)
			cm_frames_reader_skip(rd, 1 << 20);
		cm_error_clear(&err);
		cm_frames_reader_free(rd);
		cm_frames_index_free(&idx);
	}
	close(fd);
	return 0;
}
