/* The zstd stream of a format-2 archive: ordinary zstd that any reader
 * takes (Podman, tar -I zstd, checkpointctl), cut into independent frames
 * where a lazy restore needs to start reading (each 1 MiB chunk of a page
 * image), and ended by a skippable frame, which zstd readers pass over,
 * holding the frame index and the page images' chunk digests. The index is
 * only a map: a reader checks every chunk it takes against the signed
 * manifest (through the chunk digests, whose own digest it lists). */
#ifndef CM_ZSTD_FRAMES_H
#define CM_ZSTD_FRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cm_error;

/* ---- writing ---- */

struct cm_frames;

/* Where the compressed bytes go: returns -1 with errno on failure. */
typedef int (*cm_frames_sink)(void *arg, const void *buf, size_t len);

struct cm_frames *cm_frames_new(cm_frames_sink sink, void *arg, int threads, struct cm_error *err);
/* The uncompressed (tar) bytes so far. */
uint64_t cm_frames_raw_offset(const struct cm_frames *f);
int cm_frames_write(struct cm_frames *f, const void *buf, size_t len);
/* Ends the frame here, unless it is empty. */
int cm_frames_cut(struct cm_frames *f);
/* A page image whose data starts at raw_offset, for the trailer: size bytes,
 * with the digests of its chunks (copied). */
void cm_frames_add_member(struct cm_frames *f, const char *name, uint64_t raw_offset, uint64_t size,
			  const unsigned char *digests, size_t n_digests);
/* Ends the last frame and writes the trailer. */
int cm_frames_finish(struct cm_frames *f);
/* The compressed bytes written so far. */
uint64_t cm_frames_written(const struct cm_frames *f);
void cm_frames_free(struct cm_frames *f);

/* ---- reading (lazy restores) ---- */

struct cm_frame {
	uint64_t comp_offset, comp_size, raw_offset, raw_size;
};

struct cm_frames_member {
	char *name;
	uint64_t raw_offset, size;
	unsigned char *digests; /* CM_DIGEST_BYTES per chunk */
	size_t n_digests;
};

struct cm_frames_index {
	struct cm_frame *frames;
	size_t n_frames;
	struct cm_frames_member *members;
	size_t n_members;
	uint64_t raw_size; /* the tar's bytes */
};

/* Reads the trailer of the archive open on fd. 1 with idx filled, 0 if the
 * file has none (another compression, an older format, a pipe's copy),
 * -1 if it has a broken one. */
int cm_frames_index_read(int fd, struct cm_frames_index *idx, struct cm_error *err);
void cm_frames_index_free(struct cm_frames_index *idx);
/* The frame starting at raw offset raw, or NULL. */
const struct cm_frame *cm_frames_at(const struct cm_frames_index *idx, uint64_t raw);
const struct cm_frames_member *cm_frames_member_find(const struct cm_frames_index *idx, const char *name);
/* Chunk i of member m, read from fd, decompressed into buf (CM_CHUNK_BYTES)
 * and checked against its digest; returns its length, or -1. */
long cm_frames_read_chunk(int fd, const struct cm_frames_index *idx, const struct cm_frames_member *m,
			  uint64_t i, void *buf, struct cm_error *err);

/* The tar inside, frame by frame, for libarchive's callbacks: a read never
 * returns bytes past its frame's end, so that a skip over a page image's
 * data starts on a frame and passes over whole frames unread. */
struct cm_frames_reader;
struct cm_frames_reader *cm_frames_reader_new(int fd, const struct cm_frames_index *idx);
/* Bytes in *out, 0 at the end, -1 on error. */
long cm_frames_reader_read(struct cm_frames_reader *r, const void **out, struct cm_error *err);
/* Whole frames skipped, at most request bytes of them (0: read on). */
uint64_t cm_frames_reader_skip(struct cm_frames_reader *r, uint64_t request);
/* The raw offset of the next byte a read returns. */
uint64_t cm_frames_reader_position(const struct cm_frames_reader *r);
void cm_frames_reader_free(struct cm_frames_reader *r);

#endif
