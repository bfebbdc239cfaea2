#include "zstd_frames.h"
#include "chunked_sha256.h"
#include "error.h"
#include "sha256.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

/* The trailer: a skippable frame (zstd's format, RFC 8878 3.1.2) whose
 * payload starts and ends with our magic, the end also giving its length,
 * so that a reader finds it from the file's last 12 bytes. Little-endian:
 *   "CTRMIGX1" u32 frames u32 members
 *   frames  x {u64 compressed size, u64 uncompressed size}
 *   members x {u16 name length, name, u64 data offset, u64 size, u32 chunks,
 *              chunks x 32-byte SHA-256}
 *   u32 payload length, "CTRMIGX1" */
#define SKIPPABLE_MAGIC 0x184D2A5Eu
#define TRAILER_MAGIC "CTRMIGX1"
/* The trailer of a 1 TiB dump is 48 MiB; more is not ours (and a writer
 * leaves out an index that would be larger: the archive is then read whole). */
#define TRAILER_MAX (64u << 20)

struct cm_frames {
	ZSTD_CCtx *cctx;
	cm_frames_sink sink;
	void *arg;
	char *out;
	size_t out_cap;
	uint64_t raw, written, frame_raw, frame_comp;
	struct cm_frame *frames;
	size_t n, cap;
	struct cm_frames_member *members;
	size_t n_members;
};

struct cm_frames *cm_frames_new(cm_frames_sink sink, void *arg, int threads, struct cm_error *err)
{
	struct cm_frames *f = calloc(1, sizeof(*f));
	if (!f || !(f->cctx = ZSTD_createCCtx())) {
		free(f);
		cm_err(err, ENOMEM, "zstd");
		return NULL;
	}
	/* Level 1: on memory-like data (README, Speed) a third less CPU than
	 * level 3 for archives 10-15% larger; the CPU, not the disk, sets
	 * the pace. */
	ZSTD_CCtx_setParameter(f->cctx, ZSTD_c_compressionLevel, 1);
	if (threads > 1) {
		ZSTD_CCtx_setParameter(f->cctx, ZSTD_c_nbWorkers, threads);
		/* a 1 MiB frame in two jobs, one per core */
		ZSTD_CCtx_setParameter(f->cctx, ZSTD_c_jobSize, 512 << 10);
	}
	f->sink = sink;
	f->arg = arg;
	f->out_cap = ZSTD_CStreamOutSize();
	f->out = cm_malloc(f->out_cap);
	return f;
}

uint64_t cm_frames_raw_offset(const struct cm_frames *f)
{
	return f->raw;
}

uint64_t cm_frames_written(const struct cm_frames *f)
{
	return f->written;
}

static int emit(struct cm_frames *f, const void *buf, size_t len)
{
	if (len && f->sink(f->arg, buf, len) < 0)
		return -1;
	f->written += len;
	return 0;
}

static int compress(struct cm_frames *f, const void *buf, size_t len, ZSTD_EndDirective mode)
{
	ZSTD_inBuffer in = { buf, len, 0 };
	for (;;) {
		ZSTD_outBuffer out = { f->out, f->out_cap, 0 };
		size_t left = ZSTD_compressStream2(f->cctx, &out, &in, mode);
		if (ZSTD_isError(left)) {
			errno = EIO;
			return -1;
		}
		if (emit(f, f->out, out.pos) < 0)
			return -1;
		if (mode == ZSTD_e_continue ? in.pos == in.size : left == 0)
			return 0;
	}
}

int cm_frames_write(struct cm_frames *f, const void *buf, size_t len)
{
	if (compress(f, buf, len, ZSTD_e_continue) < 0)
		return -1;
	f->raw += len;
	return 0;
}

int cm_frames_cut(struct cm_frames *f)
{
	if (f->raw == f->frame_raw)
		return 0;
	if (compress(f, NULL, 0, ZSTD_e_end) < 0)
		return -1;
	if (f->n == f->cap) {
		f->cap = f->cap ? 2 * f->cap : 256;
		f->frames = cm_realloc(f->frames, f->cap * sizeof(*f->frames));
	}
	f->frames[f->n++] = (struct cm_frame){ f->frame_comp, f->written - f->frame_comp, f->frame_raw,
					       f->raw - f->frame_raw };
	f->frame_raw = f->raw;
	f->frame_comp = f->written;
	return 0;
}

void cm_frames_add_member(struct cm_frames *f, const char *name, uint64_t raw_offset, uint64_t size,
			  const unsigned char *digests, size_t n_digests)
{
	f->members = cm_realloc(f->members, (f->n_members + 1) * sizeof(*f->members));
	unsigned char *copy = cm_malloc(n_digests * CM_DIGEST_BYTES + 1);
	if (n_digests)
		memcpy(copy, digests, n_digests * CM_DIGEST_BYTES);
	f->members[f->n_members++] = (struct cm_frames_member){ cm_strdup(name), raw_offset, size, copy,
								n_digests };
}

/* A growing little-endian buffer. */
struct buf {
	unsigned char *p;
	size_t len, cap;
};

static void put(struct buf *b, const void *data, size_t len)
{
	if (b->len + len > b->cap) {
		b->cap = (b->len + len) * 2;
		b->p = cm_realloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
}

static void put_u16(struct buf *b, uint16_t v)
{
	unsigned char x[2] = { (unsigned char)v, (unsigned char)(v >> 8) };
	put(b, x, 2);
}

static void put_u32(struct buf *b, uint32_t v)
{
	unsigned char x[4];
	for (int i = 0; i < 4; i++)
		x[i] = (unsigned char)(v >> (8 * i));
	put(b, x, 4);
}

static void put_u64(struct buf *b, uint64_t v)
{
	put_u32(b, (uint32_t)v);
	put_u32(b, (uint32_t)(v >> 32));
}

int cm_frames_finish(struct cm_frames *f)
{
	if (cm_frames_cut(f) < 0)
		return -1;
	struct buf b = { 0 };
	put(&b, TRAILER_MAGIC, 8);
	put_u32(&b, (uint32_t)f->n);
	put_u32(&b, (uint32_t)f->n_members);
	for (size_t i = 0; i < f->n; i++) {
		put_u64(&b, f->frames[i].comp_size);
		put_u64(&b, f->frames[i].raw_size);
	}
	for (size_t i = 0; i < f->n_members; i++) {
		const struct cm_frames_member *m = &f->members[i];
		size_t len = strlen(m->name);
		put_u16(&b, (uint16_t)len);
		put(&b, m->name, len);
		put_u64(&b, m->raw_offset);
		put_u64(&b, m->size);
		put_u32(&b, (uint32_t)m->n_digests);
		put(&b, m->digests, m->n_digests * CM_DIGEST_BYTES);
	}
	put_u32(&b, (uint32_t)(b.len + 12));
	put(&b, TRAILER_MAGIC, 8);
	if (b.len > TRAILER_MAX) {
		free(b.p);
		return 0; /* no index: a lazy restore reads it whole */
	}
	struct buf head = { 0 };
	put_u32(&head, SKIPPABLE_MAGIC);
	put_u32(&head, (uint32_t)b.len);
	int ret = emit(f, head.p, head.len) < 0 || emit(f, b.p, b.len) < 0 ? -1 : 0;
	free(head.p);
	free(b.p);
	return ret;
}

static void members_free(struct cm_frames_member *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(m[i].name);
		free(m[i].digests);
	}
	free(m);
}

void cm_frames_free(struct cm_frames *f)
{
	if (!f)
		return;
	ZSTD_freeCCtx(f->cctx);
	free(f->out);
	free(f->frames);
	members_free(f->members, f->n_members);
	free(f);
}

/* ---- reading ---- */

/* A bounded reader over the trailer's payload. */
struct cursor {
	const unsigned char *p;
	size_t len, off;
	bool bad;
};

static const unsigned char *take(struct cursor *c, size_t n)
{
	if (c->bad || c->len - c->off < n) {
		c->bad = true;
		return NULL;
	}
	const unsigned char *p = c->p + c->off;
	c->off += n;
	return p;
}

static uint64_t get_le(struct cursor *c, size_t n)
{
	const unsigned char *p = take(c, n);
	uint64_t v = 0;
	for (size_t i = 0; p && i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static int parse(struct cursor *c, uint64_t comp_end, struct cm_frames_index *idx, struct cm_error *err)
{
	if (memcmp(take(c, 8) ?: (const unsigned char *)"", TRAILER_MAGIC, 8))
		return cm_err(err, 0, "archive index: no magic");
	uint64_t n_frames = get_le(c, 4), n_members = get_le(c, 4);
	/* bounded by what they take in the trailer and in the file (a frame
	 * has at least a header and a block: 9 bytes), before any allocation */
	if (c->bad || n_frames > (c->len - c->off) / 16 || n_frames > comp_end / 9)
		return cm_err(err, 0, "archive index: %llu frames do not fit", (unsigned long long)n_frames);
	idx->frames = cm_malloc((n_frames + 1) * sizeof(*idx->frames));
	uint64_t comp = 0, raw = 0;
	for (size_t i = 0; i < n_frames; i++) {
		struct cm_frame *f = &idx->frames[idx->n_frames++];
		f->comp_offset = comp, f->raw_offset = raw;
		f->comp_size = get_le(c, 8), f->raw_size = get_le(c, 8);
		if (f->comp_size > comp_end - comp || f->raw_size > UINT64_MAX / 2 - raw)
			return cm_err(err, 0, "archive index: frame %zu outside the file", i);
		comp += f->comp_size, raw += f->raw_size;
	}
	if (comp != comp_end)
		return cm_err(err, 0, "archive index: frames end at %llu, the trailer at %llu",
			      (unsigned long long)comp, (unsigned long long)comp_end);
	idx->raw_size = raw;
	/* a member takes at least 22 bytes: name length, offset, size, count */
	if (n_members > (c->len - c->off) / 22)
		return cm_err(err, 0, "archive index: %llu members do not fit", (unsigned long long)n_members);
	idx->members = cm_malloc((n_members + 1) * sizeof(*idx->members));
	for (size_t i = 0; i < n_members; i++) {
		size_t len = (size_t)get_le(c, 2);
		const unsigned char *name = take(c, len);
		uint64_t off = get_le(c, 8), size = get_le(c, 8), n = get_le(c, 4);
		const unsigned char *d = c->bad || n > (c->len - c->off) / CM_DIGEST_BYTES ? NULL
										  : take(c, n * CM_DIGEST_BYTES);
		if (!d || !name)
			return cm_err(err, 0, "archive index: member %zu truncated", i);
		if (off > raw || size > raw - off || n != cm_chunk_count(size))
			return cm_err(err, 0, "archive index: member %zu outside the archive", i);
		struct cm_frames_member *m = &idx->members[idx->n_members++];
		m->name = cm_malloc(len + 1);
		memcpy(m->name, name, len);
		m->name[len] = '\0';
		m->raw_offset = off, m->size = size, m->n_digests = n;
		m->digests = cm_malloc(n * CM_DIGEST_BYTES + 1);
		memcpy(m->digests, d, n * CM_DIGEST_BYTES);
	}
	if (c->len - c->off != 12)
		return cm_err(err, 0, "archive index: %zu bytes left over", c->len - c->off - 12);
	return 0;
}

int cm_frames_index_read(int fd, struct cm_frames_index *idx, struct cm_error *err)
{
	*idx = (struct cm_frames_index){ 0 };
	struct stat sb;
	unsigned char tail[12];
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || sb.st_size < 40 ||
	    cm_pread_all(fd, tail, sizeof(tail), (uint64_t)sb.st_size - sizeof(tail)) < 0 ||
	    memcmp(tail + 4, TRAILER_MAGIC, 8))
		return 0;
	struct cursor t = { tail, 4, 0, false };
	uint64_t len = get_le(&t, 4), size = (uint64_t)sb.st_size;
	if (len < 28 || len > TRAILER_MAX || len > size - 8)
		return cm_err(err, 0, "archive index: %llu bytes", (unsigned long long)len);
	uint64_t start = size - len - 8;
	unsigned char head[8];
	cm_autofree unsigned char *payload = cm_malloc((size_t)len);
	if (cm_pread_all(fd, head, 8, start) < 0 || cm_pread_all(fd, payload, (size_t)len, start + 8) < 0)
		return cm_err(err, errno, "archive index: read");
	struct cursor h = { head, 8, 0, false };
	if (get_le(&h, 4) != SKIPPABLE_MAGIC || get_le(&h, 4) != len)
		return cm_err(err, 0, "archive index: not in a skippable frame");
	struct cursor c = { payload, (size_t)len, 0, false };
	if (parse(&c, start, idx, err) < 0) {
		cm_frames_index_free(idx);
		return -1;
	}
	return 1;
}

void cm_frames_index_free(struct cm_frames_index *idx)
{
	free(idx->frames);
	members_free(idx->members, idx->n_members);
	*idx = (struct cm_frames_index){ 0 };
}

const struct cm_frame *cm_frames_at(const struct cm_frames_index *idx, uint64_t raw)
{
	size_t lo = 0, hi = idx->n_frames;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (idx->frames[mid].raw_offset < raw)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < idx->n_frames && idx->frames[lo].raw_offset == raw ? &idx->frames[lo] : NULL;
}

const struct cm_frames_member *cm_frames_member_find(const struct cm_frames_index *idx, const char *name)
{
	for (size_t i = 0; i < idx->n_members; i++)
		if (!strcmp(idx->members[i].name, name))
			return &idx->members[i];
	return NULL;
}

long cm_frames_read_chunk(int fd, const struct cm_frames_index *idx, const struct cm_frames_member *m,
			  uint64_t i, void *buf, struct cm_error *err)
{
	static __thread ZSTD_DCtx *dctx;
	static __thread char *comp;
	static const size_t comp_max = ZSTD_COMPRESSBOUND(CM_CHUNK_BYTES) + 64;
	if (i >= m->n_digests)
		return cm_err(err, 0, "member %s: no chunk %llu", m->name, (unsigned long long)i);
	uint64_t at = (uint64_t)i * CM_CHUNK_BYTES;
	uint64_t len = m->size - at < CM_CHUNK_BYTES ? m->size - at : CM_CHUNK_BYTES;
	const struct cm_frame *f = cm_frames_at(idx, m->raw_offset + at);
	if (!f || f->raw_size != len || f->comp_size > comp_max)
		return cm_err(err, 0, "member %s: chunk %llu is not a frame of its own", m->name,
			      (unsigned long long)i);
	if (!dctx && !(dctx = ZSTD_createDCtx()))
		return cm_err(err, ENOMEM, "zstd");
	if (!comp)
		comp = cm_malloc(comp_max);
	if (cm_pread_all(fd, comp, (size_t)f->comp_size, f->comp_offset) < 0)
		return cm_err(err, errno, "member %s: chunk %llu: read", m->name, (unsigned long long)i);
	size_t got = ZSTD_decompressDCtx(dctx, buf, CM_CHUNK_BYTES, comp, (size_t)f->comp_size);
	bool match = !ZSTD_isError(got) && got == len;
	if (match) {
		unsigned char digest[CM_DIGEST_BYTES];
		struct cm_sha256 sha;
		cm_sha256_init(&sha);
		cm_sha256_update(&sha, buf, got);
		cm_sha256_final(&sha, digest);
		match = !memcmp(digest, m->digests + i * CM_DIGEST_BYTES, CM_DIGEST_BYTES);
	}
	if (!match)
		return cm_err(err, 0, "member %s: chunk %llu does not match its digest", m->name,
			      (unsigned long long)i);
	return (long)len;
}

/* ---- the tar inside, for libarchive, with page images skipped ---- */

#define READ_OUT (1u << 20)
#define READ_IN (128u << 10)

struct cm_frames_reader {
	int fd;
	const struct cm_frames_index *idx;
	size_t frame;        /* the frame being read */
	uint64_t in_frame;   /* its bytes delivered */
	uint64_t comp_read;  /* its compressed bytes taken from the file */
	ZSTD_DCtx *dctx;
	ZSTD_inBuffer in;
	char *in_buf, *out_buf;
	bool broken;
};

struct cm_frames_reader *cm_frames_reader_new(int fd, const struct cm_frames_index *idx)
{
	struct cm_frames_reader *r = calloc(1, sizeof(*r));
	if (!r || !(r->dctx = ZSTD_createDCtx()))
		cm_oom();
	r->fd = fd;
	r->idx = idx;
	r->in_buf = cm_malloc(READ_IN);
	r->out_buf = cm_malloc(READ_OUT);
	return r;
}

void cm_frames_reader_free(struct cm_frames_reader *r)
{
	if (!r)
		return;
	ZSTD_freeDCtx(r->dctx);
	free(r->in_buf);
	free(r->out_buf);
	free(r);
}

uint64_t cm_frames_reader_position(const struct cm_frames_reader *r)
{
	if (r->frame >= r->idx->n_frames)
		return r->idx->raw_size;
	return r->idx->frames[r->frame].raw_offset + r->in_frame;
}

static void next_frame(struct cm_frames_reader *r)
{
	r->frame++;
	r->in_frame = r->comp_read = 0;
	r->in = (ZSTD_inBuffer){ r->in_buf, 0, 0 };
	ZSTD_DCtx_reset(r->dctx, ZSTD_reset_session_only);
}

long cm_frames_reader_read(struct cm_frames_reader *r, const void **out, struct cm_error *err)
{
	for (;;) {
		if (r->broken)
			return -1;
		if (r->frame >= r->idx->n_frames)
			return 0;
		const struct cm_frame *f = &r->idx->frames[r->frame];
		if (r->in_frame == f->raw_size) {
			next_frame(r);
			continue;
		}
		if (r->in.pos == r->in.size) {
			uint64_t left = f->comp_size - r->comp_read;
			size_t want = left < READ_IN ? (size_t)left : READ_IN;
			if (!want || cm_pread_all(r->fd, r->in_buf, want, f->comp_offset + r->comp_read) < 0) {
				r->broken = true;
				return cm_err(err, want ? errno : 0, "archive frame %zu: %s", r->frame,
					      want ? "read" : "shorter than its index says");
			}
			r->in = (ZSTD_inBuffer){ r->in_buf, want, 0 };
			r->comp_read += want;
		}
		uint64_t room = f->raw_size - r->in_frame;
		ZSTD_outBuffer o = { r->out_buf, room < READ_OUT ? (size_t)room : READ_OUT, 0 };
		size_t ret = ZSTD_decompressStream(r->dctx, &o, &r->in);
		if (ZSTD_isError(ret) || (ret == 0 && r->in_frame + o.pos != f->raw_size)) {
			r->broken = true;
			return cm_err(err, 0, "archive frame %zu: %s", r->frame,
				      ZSTD_isError(ret) ? ZSTD_getErrorName(ret) : "not as long as its index says");
		}
		if (o.pos) {
			r->in_frame += o.pos;
			*out = r->out_buf;
			return (long)o.pos;
		}
	}
}

uint64_t cm_frames_reader_skip(struct cm_frames_reader *r, uint64_t request)
{
	uint64_t skipped = 0;
	if (r->broken)
		return 0;
	if (r->frame < r->idx->n_frames && r->in_frame == r->idx->frames[r->frame].raw_size)
		next_frame(r);
	if (r->in_frame != 0)
		return 0;
	while (r->frame < r->idx->n_frames && r->idx->frames[r->frame].raw_size <= request - skipped) {
		skipped += r->idx->frames[r->frame].raw_size;
		next_frame(r);
	}
	return skipped;
}
