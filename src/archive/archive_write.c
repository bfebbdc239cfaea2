#include "archive_io.h"
#include "chunked_sha256.h"
#include "container.h"
#include "criu.h"
#include "dump_hash.h"
#include "error.h"
#include "hash_thread.h"
#include "image.h"
#include "image_archive.h"
#include "jsonio.h"
#include "manifest.h"
#include "progress.h"
#include "rootfs_diff.h"
#include "sha256.h"
#include "store.h"
#include "trust.h"
#include "util.h"
#include "zstd_frames.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#ifndef CM_VERSION
#define CM_VERSION "0.1.0"
#endif

/* libarchive's message, with the system's reason when it has one
 * ("Write error: No space left on device"). */
static const char *why(struct archive *a)
{
	static char buf[512];
	const char *m = archive_error_string(a);
	int e = archive_errno(a);
	if (e > 0 && (!m || !strstr(m, strerror(e))))
		snprintf(buf, sizeof(buf), "%s: %s", m ? m : "error", strerror(e));
	else
		snprintf(buf, sizeof(buf), "%s", m ? m : "error");
	return buf;
}

/* A member streamed while the follower hashes it: its digest comes at the end. */
struct pending {
	char *name, *path;
	struct stat sb; /* as it was streamed */
	uint64_t raw_offset; /* where its data starts in the tar */
};

struct packer {
	struct archive *a;
	struct cm_frames *frames; /* zstd: ctrmig's own frames (zstd_frames.h); else NULL */
	json_t *manifest;
	time_t now;
	struct cm_dump_hash *follower; /* or NULL */
	struct pending *pending;
	size_t n_pending;
};

static struct archive_entry *header(struct packer *p, const char *name, mode_t type, int64_t size)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, type == AE_IFDIR ? 0700 : 0600);
	archive_entry_set_size(e, size);
	archive_entry_set_mtime(e, p->now, 0);
	return e;
}

static int add_dir(struct packer *p, const char *name, struct cm_error *err)
{
	struct archive_entry *e = header(p, name, AE_IFDIR, 0);
	int r = archive_write_header(p->a, e);
	archive_entry_free(e);
	return r < ARCHIVE_WARN ? cm_err(err, 0, "%s: %s", name, why(p->a)) : 0;
}

static int add_buffer(struct packer *p, const char *name, const char *data, size_t len,
		      struct cm_error *err)
{
	struct archive_entry *e = header(p, name, AE_IFREG, (int64_t)len);
	int r = archive_write_header(p->a, e);
	archive_entry_free(e);
	if (r < ARCHIVE_WARN || (len && archive_write_data(p->a, data, len) != (la_ssize_t)len))
		return cm_err(err, 0, "%s: %s", name, why(p->a));
	char hex[65];
	cm_sha256_hex(data, len, hex);
	cm_manifest_add(p->manifest, name, len, hex);
	return 0;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* A page image's chunks are frames of their own, so that a lazy restore
 * reads one without the rest; a cut here ends the frame the header is in. */
static int cut_frame(struct packer *p)
{
	if (p->frames && cm_frames_cut(p->frames) < 0) {
		archive_set_error(p->a, errno, "Write error");
		return -1;
	}
	return 0;
}

/* How much to read at off of a file of size bytes into a buffer of cap:
 * never across a chunk's end, where its frame is cut. */
static size_t chunk_piece(off_t off, off_t size, size_t cap)
{
	uint64_t left = (uint64_t)(size - off), to_end = CM_CHUNK_BYTES - (uint64_t)off % CM_CHUNK_BYTES;
	uint64_t n = left < to_end ? left : to_end;
	return n < cap ? (size_t)n : cap;
}

/* A page image in the trailer, with its chunks' digests. */
static void add_to_index(struct packer *p, const char *name, uint64_t raw_offset, uint64_t size,
			 const unsigned char *digests, size_t n)
{
	if (p->frames)
		cm_frames_add_member(p->frames, name, raw_offset, size, digests, n);
}

/* Streams a page image that the follower hashes: it is only read and
 * compressed here, and must not change meanwhile. */
static int add_followed(struct packer *p, const char *name, const char *path, int fd, const struct stat *sb,
			struct cm_error *err)
{
	struct archive_entry *e = header(p, name, AE_IFREG, sb->st_size);
	int r = archive_write_header(p->a, e);
	archive_entry_free(e);
	if (r < ARCHIVE_WARN || cut_frame(p) < 0)
		return cm_err(err, 0, "%s: %s", name, why(p->a));
	uint64_t raw_offset = p->frames ? cm_frames_raw_offset(p->frames) : 0;
	static char buf[CM_CHUNK_BYTES];
	for (off_t off = 0; off < sb->st_size;) {
		size_t want = chunk_piece(off, sb->st_size, sizeof(buf));
		ssize_t n = pread(fd, buf, want, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return cm_err(err, n < 0 ? errno : 0, "%s: %s", name, n < 0 ? "read" : "shrank while read");
		if (archive_write_data(p->a, buf, (size_t)n) != n)
			return cm_err(err, 0, "%s: %s", name, why(p->a));
		off += n;
		if ((off % CM_CHUNK_BYTES == 0 || off == sb->st_size) && cut_frame(p) < 0)
			return cm_err(err, 0, "%s: %s", name, why(p->a));
		cm_progress_add((uint64_t)n);
	}
	struct stat after;
	if (fstat(fd, &after) < 0 || !same_file(sb, &after))
		return cm_err(err, 0, "%s: changed while read", name);
	p->pending = cm_realloc(p->pending, (p->n_pending + 1) * sizeof(*p->pending));
	p->pending[p->n_pending++] = (struct pending){ cm_strdup(name), cm_strdup(path), *sb, raw_offset };
	return 0;
}

/* The digest of a file that must still be as it was streamed, read again:
 * for a page image the follower gave up on. */
static int hash_again(const struct pending *pd, char hex[65], unsigned char **digests, size_t *n_digests,
		      struct cm_error *err)
{
	cm_autoclose int fd = open(pd->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) < 0)
		return cm_err(err, errno, "%s", pd->name);
	if (!same_file(&sb, &pd->sb))
		return cm_err(err, 0, "%s: changed while read", pd->name);
	struct cm_hash_thread *h = cm_hash_thread_start_kind((uint64_t)sb.st_size, true, err);
	if (!h)
		return -1;
	int ret = 0;
	for (off_t off = 0; ret == 0 && off < sb.st_size;) {
		size_t cap;
		char *buf = cm_hash_thread_buffer(h, &cap);
		ssize_t n = pread(fd, buf, sb.st_size - off < (off_t)cap ? (size_t)(sb.st_size - off) : cap, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			ret = cm_err(err, n < 0 ? errno : 0, "%s: %s", pd->name, n < 0 ? "read" : "shrank while read");
		else
			cm_hash_thread_push(h, (size_t)n), off += n;
	}
	cm_hash_thread_finish_chunked(h, hex, NULL, digests, n_digests);
	if (ret == 0 && (fstat(fd, &sb) < 0 || !same_file(&sb, &pd->sb)))
		ret = cm_err(err, 0, "%s: changed while read", pd->name);
	return ret;
}

/* The digests of the members streamed while the follower hashed them. */
static int resolve_pending(struct packer *p, struct cm_error *err)
{
	if (!p->follower)
		return 0;
	json_t *digests = cm_dump_hash_finish(cm_steal_ptr(&p->follower));
	int ret = 0;
	for (size_t i = 0; ret == 0 && i < p->n_pending; i++) {
		struct pending *pd = &p->pending[i];
		char again[65];
		const char *chunks_hex = NULL;
		cm_autofree unsigned char *chunks = NULL;
		size_t n_chunks = cm_chunk_count((uint64_t)pd->sb.st_size);
		const char *hex = cm_dump_hash_lookup(digests, pd->path, &pd->sb, &chunks_hex);
		if (hex) {
			chunks = cm_malloc(n_chunks * CM_DIGEST_BYTES + 1);
			if (!chunks_hex || cm_hex_decode(chunks_hex, chunks, n_chunks * CM_DIGEST_BYTES) < 0)
				hex = NULL;
		}
		if (!hex) {
			cm_debug("%s: hashed again, not while CRIU wrote it", pd->name);
			free(cm_steal_ptr(&chunks));
			ret = hash_again(pd, again, &chunks, &n_chunks, err);
			hex = again;
		}
		if (ret == 0) {
			cm_manifest_add(p->manifest, pd->name, (uint64_t)pd->sb.st_size, hex);
			add_to_index(p, pd->name, pd->raw_offset, (uint64_t)pd->sb.st_size, chunks, n_chunks);
		}
	}
	json_decref(digests);
	return ret;
}

static void packer_free(struct packer *p)
{
	if (p->follower)
		json_decref(cm_dump_hash_finish(cm_steal_ptr(&p->follower)));
	for (size_t i = 0; i < p->n_pending; i++) {
		free(p->pending[i].name);
		free(p->pending[i].path);
	}
	free(p->pending);
	archive_write_free(p->a);
	cm_frames_free(p->frames);
	json_decref(p->manifest);
}

/* Streams an open file into the archive, reading it once: another core
 * hashes each buffer while the compressor takes it, unless path was hashed
 * already, as it is now (a page image hashed behind CRIU's writer). */
static int add_fd(struct packer *p, const char *name, const char *path, int fd, struct cm_error *err)
{
	struct stat sb;
	if (fstat(fd, &sb) < 0)
		return cm_err(err, errno, "%s", name);
	if (path && p->follower && cm_dump_hash_follows(p->follower, path))
		return add_followed(p, name, path, fd, &sb, err);
	bool chunked = cm_member_chunked(name);
	struct archive_entry *e = header(p, name, AE_IFREG, sb.st_size);
	int r = archive_write_header(p->a, e);
	archive_entry_free(e);
	if (r < ARCHIVE_WARN || (chunked && cut_frame(p) < 0))
		return cm_err(err, 0, "%s: %s", name, why(p->a));
	uint64_t raw_offset = p->frames ? cm_frames_raw_offset(p->frames) : 0;
	struct cm_hash_thread *h = cm_hash_thread_start_kind((uint64_t)sb.st_size, chunked, err);
	if (!h)
		return -1;
	int64_t left = sb.st_size;
	off_t off = 0;
	int ret = 0;
	while (left > 0) {
		size_t cap;
		char *buf = cm_hash_thread_buffer(h, &cap);
		ssize_t n = pread(fd, buf, chunk_piece(off, sb.st_size, cap), off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = cm_err(err, n < 0 ? errno : 0, "%s: %s", name, n < 0 ? "read" : "shrank while read");
			break;
		}
		cm_hash_thread_push(h, (size_t)n);
		if (archive_write_data(p->a, buf, (size_t)n) != n) {
			ret = cm_err(err, 0, "%s: %s", name, why(p->a));
			break;
		}
		left -= n;
		off += n;
		cm_progress_add((uint64_t)n);
		if (chunked && (off % CM_CHUNK_BYTES == 0 || left == 0) && cut_frame(p) < 0) {
			ret = cm_err(err, 0, "%s: %s", name, why(p->a));
			break;
		}
	}
	char hex[65];
	cm_autofree unsigned char *chunks = NULL;
	size_t n_chunks = 0;
	cm_hash_thread_finish_chunked(h, hex, NULL, chunked ? &chunks : NULL, &n_chunks);
	if (ret == 0)
		cm_manifest_add(p->manifest, name, (uint64_t)sb.st_size, hex);
	if (ret == 0 && chunked)
		add_to_index(p, name, raw_offset, (uint64_t)sb.st_size, chunks, n_chunks);
	return ret;
}

static int add_file(struct packer *p, const char *name, const char *path, struct cm_error *err)
{
	cm_autoclose int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return cm_err(err, errno, "open %s", path);
	return add_fd(p, name, path, fd, err);
}

/* Whether a dump was made --with-previous: CRIU linked it to its parent. */
static bool has_parent(const char *images)
{
	cm_autofree char *link = cm_path_join(images, "parent");
	struct stat sb;
	return lstat(link, &sb) == 0 && S_ISLNK(sb.st_mode);
}

/* checkpoint/ (an explicit entry, as Podman writes it) and the images in it. */
static int add_images(struct packer *p, const char *prefix, const char *dir, struct cm_error *err)
{
	if (add_dir(p, prefix, err) < 0)
		return -1;
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);
	if (n < 0)
		return cm_err(err, errno, "read %s", dir);
	int ret = 0;
	for (int i = 0; i < n; i++) {
		const char *f = names[i]->d_name;
		/* CRIU's link to the pre-checkpoint is a path on this host: the
		 * archive says with_previous instead, and import makes the link. */
		bool parent_link = !strcmp(f, "parent") && has_parent(dir);
		if (ret == 0 && f[0] != '.' && !parent_link) {
			cm_autofree char *path = cm_path_join(dir, f);
			cm_autofree char *name = cm_strfmt("%s/%s", prefix, f);
			ret = add_file(p, name, path, err);
		}
		free(names[i]);
	}
	free(names);
	return ret;
}

/* Podman's config.dump, which checkpointctl reads, with ctrmig's record. */
static json_t *config_dump(json_t *rec, const char *which, bool with_previous)
{
	json_t *image = json_object_get(rec, "image"), *ckpt = json_object_get(rec, which);
	json_t *record = json_deep_copy(rec);
	const char *runtime_fields[] = { "pid", "pid_start", "monitor_pid", "checkpoint_pending",
					 "exit_code", "finished_at" };
	for (size_t i = 0; i < sizeof(runtime_fields) / sizeof(runtime_fields[0]); i++)
		json_object_del(record, runtime_fields[i]);
	/* checkpointctl's fields as CRI-O fills them: rootfsImage the image as
	 * the user named it, rootfsImageRef its id (the config digest's 64 hex,
	 * which CRI-O's restore takes as the image and refuses in any other
	 * form), rootfsImageName a name it can be pulled by. */
	const char *image_id = cm_json_str(image, "id");
	const char *image_name = cm_json_str(image, "name") ? cm_json_str(image, "name") : image_id;
	json_t *j = json_pack("{s:s, s:s, s:s?, s:s?, s:s, s:s, s:s, s:b, s:{s:s, s:i, s:o}}", "id",
			 cm_json_str(rec, "id"), "name", cm_json_str(rec, "name"), "rootfsImage", image_name,
			 "rootfsImageName", cm_json_str(image, "name"), "runtime", "runc",
			 "createdTime", cm_json_str(rec, "created"), "checkpointedTime",
			 cm_json_str(ckpt, "time"), "restored", 0, "ctrmig", "version", CM_VERSION,
			 "format", CM_ARCHIVE_FORMAT, "record", record);
	if (image_id && strlen(image_id) == 64 && cm_is_hex(image_id))
		json_object_set_new(j, "rootfsImageRef", json_string(image_id));
	if (with_previous)
		json_object_set_new(json_object_get(j, "ctrmig"), "with_previous", json_true());
	/* What `podman container restore -i` reads (libpod's ContainerConfig;
	 * unknown keys it ignores): the base by its id (the config digest, as
	 * containers/storage names images), and a network of Podman's own.
	 * ctrmig pins every container's own network namespace, --network none
	 * too, so CRIU's images take it as external: Podman must make one
	 * (createNetNS), which for none it leaves with lo down, where its own
	 * none containers get theirs from runc with lo up. */
	json_t *config = json_object_get(rec, "config");
	const char *net = cm_json_str(config, "network");
	bool own_net = !net || strcmp(net, "host");
	bool cni = net && strcmp(net, "host") && strcmp(net, "none");
	json_t *podman = json_pack("{s:s, s:s, s:b, s:s, s:s, s:i, s:i, s:I, s:b, s:{s:b, s:b}, s:s}",
				   "rootfsImageID", cm_json_str(image, "id"), "RawImageName", image_name,
				   "createNetNS", own_net, "networkMode", cni ? "bridge" : own_net ? "none" : "host",
				   "logDriver", "k8s-file", "stopSignal", 15, "stopTimeout", 10,
				   "shmSize", (json_int_t)65536000, "createWorkingDir", 1, "idMappingsOptions",
				   "HostUIDMapping", 1, "HostGIDMapping", 1, "cgroupsMode", "enabled");
	if (cni)
		json_object_set_new(podman, "newNetworks", json_pack("{s:{s:s}}", "podman", "interface_name", "eth0"));
	json_object_update_missing(j, podman);
	json_decref(podman);
	return j;
}

/* The spec the container ran with, saying honestly who made the archive. */
static json_t *spec_dump(struct cm_store *st, json_t *rec, struct cm_error *err)
{
	cm_autofree char *path = cm_store_ctr_path(st, cm_json_str(rec, "id"), "bundle/config.json");
	json_t *spec = cm_json_load(path, err);
	if (!spec)
		return NULL;
	json_t *ann = json_object_get(spec, "annotations");
	if (!json_is_object(ann)) {
		ann = json_object();
		json_object_set_new(spec, "annotations", ann);
	}
	/* The creator and manager, as Podman and CRI-O mean the key. checkpointctl
	 * knows only "libpod" and "cri-o" and labels any other value
	 * "containerd"; "libpod" would buy the label "Podman" with a false
	 * provenance that `checkpointctl build` then stamps on images
	 * (org.criu.checkpoint.engine.name). `checkpointctl inspect --metadata`
	 * shows this value. */
	json_object_set_new(ann, "io.container.manager", json_string("ctrmig"));
	json_object_set_new(ann, "org.ctrmig.version", json_string(CM_VERSION));
	json_object_set_new(ann, "org.ctrmig.name", json_string(cm_json_str(rec, "name")));
	/* checkpointctl takes the name of a container whose manager it does not
	 * know from here; the value is the container's own name. */
	json_object_set_new(ann, "io.kubernetes.cri.container-name",
			    json_string(cm_json_str(rec, "name")));
	/* CRI-O's restore requires the Kubernetes annotations the container
	 * was made with, as a JSON object (server/container_restore.go); a
	 * ctrmig container had none. */
	json_object_set_new(ann, "io.kubernetes.cri-o.Annotations", json_string("{}"));
	/* paths on this host */
	json_object_del(spec, "hooks");
	json_object_del(ann, "org.criu.config");
	return spec;
}

static int add_json(struct packer *p, const char *name, json_t *j, struct cm_error *err)
{
	cm_autofree char *text = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
	return add_buffer(p, name, text, strlen(text), err);
}

/* The rootfs diff's bytes on their way into the archive: hashed on another
 * core and compressed as the inner tar is made, never stored on their own. */
struct diff_stream {
	struct packer *p;
	struct cm_hash_thread *h; /* NULL: only counting (the sizing pass) */
	uint64_t bytes;
	bool failed; /* the outer archive refused them; why(p->a) says why */
};

static la_ssize_t diff_stream_write(struct archive *inner, void *arg, const void *data, size_t len)
{
	struct diff_stream *s = arg;
	for (size_t done = 0; s->h && done < len;) {
		size_t cap;
		char *buf = cm_hash_thread_buffer(s->h, &cap);
		size_t n = len - done < cap ? len - done : cap;
		memcpy(buf, (const char *)data + done, n);
		cm_hash_thread_push(s->h, n);
		if (archive_write_data(s->p->a, buf, n) != (la_ssize_t)n) {
			s->failed = true;
			archive_set_error(inner, EIO, "rootfs-diff.tar: %s", why(s->p->a));
			return -1;
		}
		done += n;
	}
	s->bytes += len;
	return (la_ssize_t)len;
}

/* The inner tar streamed: once to count its bytes (no file read), which the
 * member's header needs first, then for real. A stopped container's upper
 * folder does not change between the two; if it did, the export fails. */
static int stream_rootfs_diff(struct packer *p, const char *upper, json_t **deleted, struct cm_error *err)
{
	struct diff_stream count = { p, NULL, 0, false };
	json_t *first = cm_rootfs_diff_stream(upper, diff_stream_write, &count, true, err);
	if (!first)
		return -1;
	json_decref(first);
	struct archive_entry *e = header(p, "rootfs-diff.tar", AE_IFREG, (int64_t)count.bytes);
	int r = archive_write_header(p->a, e);
	archive_entry_free(e);
	if (r < ARCHIVE_WARN)
		return cm_err(err, 0, "rootfs-diff.tar: %s", why(p->a));
	struct diff_stream real = { p, cm_hash_thread_start(count.bytes, err), 0, false };
	if (!real.h)
		return -1;
	*deleted = cm_rootfs_diff_stream(upper, diff_stream_write, &real, false, err);
	char hex[65];
	cm_hash_thread_finish(real.h, hex, NULL);
	if (!*deleted)
		return -1;
	if (real.bytes != count.bytes) {
		json_decref(cm_steal_ptr(deleted));
		return cm_err(err, 0, "rootfs-diff.tar: the container's files changed while they were read");
	}
	cm_manifest_add(p->manifest, "rootfs-diff.tar", real.bytes, hex);
	return 0;
}

/* The inner tar kept in a temporary file first: the container still runs
 * (checkpoint -R), and its files may change between two passes. */
static int spool_rootfs_diff(struct packer *p, const char *dir, const char *upper, json_t **deleted,
			     struct cm_error *err)
{
	cm_autoclose int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return cm_err(err, errno, "temporary file in %s", dir);
	if (!(*deleted = cm_rootfs_diff_write(upper, fd, err)))
		return -1;
	int ret = lseek(fd, 0, SEEK_SET) < 0 ? cm_err(err, errno, "rewind") : 0;
	if (ret == 0)
		ret = add_fd(p, "rootfs-diff.tar", NULL, fd, err);
	return ret;
}

static int add_rootfs_diff(struct packer *p, struct cm_store *st, json_t *rec, struct cm_error *err)
{
	cm_autofree char *dir = cm_store_ctr_dir(st, cm_json_str(rec, "id"));
	cm_autofree char *upper = cm_path_join(dir, "upper");
	const char *state = cm_json_str(rec, "state");
	json_t *deleted = NULL;
	int ret = state && !strcmp(state, "checkpointed") ? stream_rootfs_diff(p, upper, &deleted, err)
							  : spool_rootfs_diff(p, dir, upper, &deleted, err);
	if (ret == 0)
		ret = add_json(p, "deleted.files", deleted, err);
	json_decref(deleted);
	return ret;
}

/* The base image for a target that lacks it: as an OCI layout under image/
 * (its own manifest, config and layer blobs, so that the target registers
 * the very same image and skips layers it has); image.tar, the merged rootfs,
 * only for an image stored before ctrmig kept manifests. */
static int add_image(struct packer *p, struct cm_store *st, json_t *rec, struct cm_error *err)
{
	const char *image_id = cm_json_str(json_object_get(rec, "image"), "id");
	cm_autofree char *dir = cm_store_ctr_dir(st, cm_json_str(rec, "id"));
	json_t *img = cm_image_find(st, image_id, err);
	if (!img)
		return -1;
	cm_autofree char *manifest = cm_strfmt("%s/images/%s/manifest.json", st->root, image_id);
	if (!cm_path_exists(manifest)) {
		json_decref(img);
		cm_autoclose int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		if (fd < 0)
			return cm_err(err, errno, "temporary file in %s", dir);
		if (cm_image_write_rootfs_tar(st, image_id, fd, err) < 0)
			return cm_err_wrap(err, "image.tar");
		if (lseek(fd, 0, SEEK_SET) < 0)
			return cm_err(err, errno, "rewind");
		return add_fd(p, "image.tar", NULL, fd, err);
	}
	cm_autofree char *layout = cm_path_join(dir, "image-layout");
	cm_rm_rf(layout, NULL);
	int ret = cm_image_write_layout(st, img, layout, "base", err);
	json_decref(img);
	cm_autofree char *blobs = cm_path_join(layout, "blobs/sha256");
	const char *dirs[] = { "image", "image/blobs", "image/blobs/sha256" };
	for (size_t i = 0; ret == 0 && i < 3; i++)
		ret = add_dir(p, dirs[i], err);
	if (ret == 0) {
		cm_autofree char *f = cm_path_join(layout, "oci-layout");
		ret = add_file(p, "image/oci-layout", f, err);
	}
	if (ret == 0) {
		cm_autofree char *f = cm_path_join(layout, "index.json");
		ret = add_file(p, "image/index.json", f, err);
	}
	struct dirent **names = NULL;
	int n = ret == 0 ? scandir(blobs, &names, NULL, alphasort) : 0;
	if (n < 0)
		ret = cm_err(err, errno, "read %s", blobs);
	for (int i = 0; i < n; i++) {
		if (ret == 0 && names[i]->d_name[0] != '.') {
			cm_autofree char *f = cm_path_join(blobs, names[i]->d_name);
			cm_autofree char *member = cm_strfmt("image/blobs/sha256/%s", names[i]->d_name);
			ret = add_file(p, member, f, err);
		}
		free(names[i]);
	}
	free(names);
	cm_rm_rf(layout, NULL);
	return ret;
}

/* gzip and none through libarchive; zstd through ctrmig's own frames
 * (export below), to cut them where a lazy restore reads. */
static int set_compression(struct archive *a, const char *c, struct cm_error *err)
{
	if (!c || !strcmp(c, "zstd") || !strcmp(c, "none"))
		return 0;
	if (!strcmp(c, "gzip"))
		return archive_write_add_filter_gzip(a) == ARCHIVE_OK ? 0 : cm_err(err, 0, "gzip: %s", archive_error_string(a));
	return cm_err(err, 0, "unknown compression %s (zstd, gzip or none)", c);
}

/* The CRIU images an export packs: the pre-checkpoint, or the checkpoint the
 * record points at (the container's own, or its last named one). */
static char *archive_images(struct cm_store *st, json_t *rec, const struct cm_export_opts *o)
{
	const char *id = cm_json_str(rec, "id");
	if (o->pre_checkpoint)
		return cm_store_ctr_path(st, id, "pre-checkpoint");
	const char *dir = cm_json_str(json_object_get(rec, "checkpoint"), "dir");
	return dir ? cm_strdup(dir) : cm_store_ctr_path(st, id, "checkpoint");
}

/* The bytes of the files in a folder (CRIU's images: one level). */
static uint64_t dir_bytes(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	uint64_t total = 0;
	while (d && (de = readdir(d))) {
		struct stat sb;
		if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(sb.st_mode))
			total += (uint64_t)sb.st_size;
	}
	if (d)
		closedir(d);
	return total;
}

/* A member outside the manifest: the manifest itself and its signature. */
static int write_small(struct packer *p, const char *name, const char *text, struct cm_error *err)
{
	struct archive_entry *e = header(p, name, AE_IFREG, (int64_t)strlen(text));
	int ret = 0;
	if (archive_write_header(p->a, e) < ARCHIVE_WARN ||
	    archive_write_data(p->a, text, strlen(text)) != (la_ssize_t)strlen(text))
		ret = cm_err(err, 0, "%s: %s", name, why(p->a));
	archive_entry_free(e);
	return ret;
}

static int write_members(struct packer *p, struct cm_store *st, json_t *rec,
			 const struct cm_export_opts *o, struct cm_error *err)
{
	const char *id = cm_json_str(rec, "id");
	const char *which = o->pre_checkpoint ? "pre-checkpoint" : "checkpoint";
	cm_autofree char *images = archive_images(st, rec, o);
	cm_autofree char *stats = cm_store_ctr_path(st, id, "checkpoint-work/stats-dump");
	json_t *config = config_dump(rec, o->pre_checkpoint ? "pre_checkpoint" : "checkpoint",
				     has_parent(images));
	json_t *spec = spec_dump(st, rec, err);
	int ret = spec ? 0 : -1;
	cm_progress_phase("writing the archive", dir_bytes(images));
	if (ret == 0)
		ret = add_json(p, "config.dump", config, err);
	if (ret == 0)
		ret = add_json(p, "spec.dump", spec, err);
	/* The address, in Podman's format: a restore takes it again. */
	cm_autofree char *net_status = cm_store_ctr_path(st, id, "network.status");
	if (ret == 0 && !o->pre_checkpoint && cm_path_exists(net_status))
		ret = add_file(p, "network.status", net_status, err);
	if (ret == 0)
		ret = add_images(p, which, images, err);
	/* A pre-checkpoint archive holds memory only; the rest comes with the
	 * final checkpoint's archive. */
	if (ret == 0 && !o->pre_checkpoint && cm_path_exists(stats))
		ret = add_file(p, "stats-dump", stats, err);
	if (ret == 0 && !o->pre_checkpoint && !o->ignore_rootfs)
		ret = add_rootfs_diff(p, st, rec, err);
	if (ret == 0 && !o->pre_checkpoint && o->include_image)
		ret = add_image(p, st, rec, err);
	if (ret == 0)
		ret = resolve_pending(p, err);
	if (ret == 0 && o->wait_released)
		cm_ctr_prepare_relaunch(st, rec);
	if (ret == 0) {
		/* The manifest, then its signature, end the archive: one that has
		 * them is whole. The signature covers the manifest's exact bytes. */
		cm_autofree char *text = json_dumps(p->manifest, JSON_INDENT(2) | JSON_SORT_KEYS);
		json_t *sig = cm_trust_sign(o->sign_key, text, strlen(text), err);
		cm_autofree char *sig_text = sig ? json_dumps(sig, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
		json_decref(sig);
		ret = sig_text ? write_small(p, CM_MANIFEST_NAME, text, err) : cm_err_wrap(err, "sign");
		if (ret == 0)
			ret = write_small(p, CM_TRUST_SIG_NAME, sig_text, err);
	}
	json_decref(config);
	json_decref(spec);
	cm_progress_done();
	return ret;
}

/* Where the archive's bytes go. To a file, the disk starts writing them out
 * every few MiB (sync_file_range: no wait, no fsync), so that the one fsync
 * at the end finds little left to write. */
struct output {
	int fd;
	bool file;
	uint64_t written, started;
};

#define WRITEBACK_STEP (8ULL << 20)

static int output_put(void *arg, const void *buf, size_t len)
{
	struct output *out = arg;
	if (cm_write_all(out->fd, buf, len) < 0)
		return -1;
	out->written += (uint64_t)len;
	if (out->file && out->written - out->started >= WRITEBACK_STEP) {
		sync_file_range(out->fd, (off_t)out->started, (off_t)(out->written - out->started),
				SYNC_FILE_RANGE_WRITE);
		out->started = out->written;
	}
	return 0;
}

static la_ssize_t output_write(struct archive *a, void *arg, const void *buf, size_t len)
{
	if (output_put(arg, buf, len) < 0) {
		archive_set_error(a, errno, "Write error");
		return -1;
	}
	return (la_ssize_t)len;
}

/* libarchive's tar, unblocked, into the frames: so that a cut falls
 * exactly where the packer asks. */
static la_ssize_t frames_write(struct archive *a, void *arg, const void *buf, size_t len)
{
	if (cm_frames_write(arg, buf, len) < 0) {
		archive_set_error(a, errno, "Write error");
		return -1;
	}
	return (la_ssize_t)len;
}

/* The output file is made unnamed (O_TMPFILE) where the file system allows,
 * so that a killed export leaves no file with process memory in it; it gets
 * its name only once it is complete. Elsewhere FILE.tmp, renamed. */
static int open_output(const char *output, bool *unnamed, struct cm_error *err)
{
	cm_autofree char *copy = cm_strdup(output);
	int fd = open(dirname(copy), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	*unnamed = fd >= 0;
	if (fd < 0) {
		if (errno != EOPNOTSUPP && errno != EISDIR)
			return cm_err(err, errno, "create %s", output);
		cm_autofree char *tmp = cm_strfmt("%s.tmp", output);
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0)
			return cm_err(err, errno, "create %s", tmp);
	}
	fchmod(fd, 0600); /* whatever the umask: it holds process memory */
	return fd;
}

/* fsync once, then name the file; on failure nothing is left. */
static int finish_output(int fd, const char *output, bool unnamed, int ret, struct cm_error *err)
{
	cm_autofree char *tmp = cm_strfmt("%s.tmp", output);
	if (ret == 0 && fsync(fd) < 0)
		ret = cm_err(err, errno, "%s", output);
	if (ret == 0 && unnamed) {
		/* linkat cannot replace a file: link beside it, then rename over. */
		cm_autofree char *proc = cm_strfmt("/proc/self/fd/%d", fd);
		if (linkat(AT_FDCWD, proc, AT_FDCWD, tmp, AT_SYMLINK_FOLLOW) < 0)
			ret = cm_err(err, errno, "name %s", output);
	}
	if (close(fd) < 0 && ret == 0)
		ret = cm_err(err, errno, "%s", output);
	if (ret == 0 && rename(tmp, output) < 0)
		ret = cm_err(err, errno, "rename %s", tmp);
	if (ret < 0)
		unlink(tmp);
	else
		cm_fsync_dir_of(output);
	return ret;
}

int cm_archive_export_check(const struct cm_export_opts *o, struct cm_error *err)
{
	if (o->compression && strcmp(o->compression, "zstd") && strcmp(o->compression, "gzip") &&
	    strcmp(o->compression, "none"))
		return cm_err(err, 0, "unknown compression %s (zstd, gzip or none)", o->compression);
	if (!strcmp(o->output, "-"))
		return isatty(STDOUT_FILENO) ? cm_err(err, 0, "refusing to write an archive to a terminal") : 0;
	struct stat sb;
	if (stat(o->output, &sb) == 0 && !S_ISREG(sb.st_mode))
		return cm_err(err, 0, "%s: not a regular file", o->output);
	cm_autofree char *copy = cm_strdup(o->output);
	const char *dir = dirname(copy);
	if (access(dir, W_OK) < 0)
		return cm_err(err, errno, "cannot write into %s", dir);
	return 0;
}

/* What cannot be exported at all, before anything is written. */
static int export_refused(struct cm_store *st, json_t *rec, const struct cm_export_opts *o,
			  struct cm_error *err)
{
	const char *name = cm_json_str(rec, "name");
	cm_autofree char *images = archive_images(st, rec, o);
	if (!cm_criu_dump_complete(images))
		return cm_err(err, 0, "the container has no %s; run 'ctrmig checkpoint %s%s' first",
			      o->pre_checkpoint ? "pre-checkpoint" : "checkpoint",
			      o->pre_checkpoint ? "-P " : "", name);
	if (o->output && !strcmp(o->output, "-") && isatty(STDOUT_FILENO))
		return cm_err(err, 0, "refusing to write an archive to a terminal");
	json_t *in_archive = json_object_get(json_object_get(rec, "checkpoint"), "lazy_archive");
	if (!o->pre_checkpoint && in_archive)
		return cm_err(err, 0, "part of the checkpoint's memory is still in %s, where 'restore --lazy -i' "
				      "left it: export that file, or restore the container with --lazy first",
			      cm_json_str(in_archive, "file"));
	return 0;
}

int cm_archive_export(struct cm_store *st, json_t *rec, const struct cm_export_opts *o,
		      struct cm_error *err)
{
	const char *name = cm_json_str(rec, "name");
	bool to_fd = !o->output, to_stdout = to_fd || !strcmp(o->output, "-");
	int fd = to_fd ? o->fd : STDOUT_FILENO;
	bool unnamed = false;
	if (export_refused(st, rec, o, err) < 0 ||
	    (!to_stdout && (fd = open_output(o->output, &unnamed, err)) < 0)) {
		if (o->follower)
			json_decref(cm_dump_hash_finish(o->follower));
		return cm_err_wrap(err, "export %s", name);
	}
	double t0 = cm_monotonic_seconds();
	struct packer p = { .a = archive_write_new(), .manifest = cm_manifest_new(), .now = time(NULL),
			    .follower = o->follower };
	archive_write_set_format_pax_restricted(p.a);
	/* Unpadded even on a pipe: zeros after the zstd frame are not zstd. */
	archive_write_set_bytes_in_last_block(p.a, 1);
	struct stat out_sb;
	struct output out = { .fd = fd, .file = fstat(fd, &out_sb) == 0 && S_ISREG(out_sb.st_mode) };
	int ret = set_compression(p.a, o->compression, err);
	bool zstd = !o->compression || !strcmp(o->compression, "zstd");
	if (ret == 0 && zstd) {
		p.frames = cm_frames_new(output_put, &out, (int)sysconf(_SC_NPROCESSORS_ONLN), err);
		ret = p.frames ? 0 : -1;
		archive_write_set_bytes_per_block(p.a, 0);
	}
	if (ret == 0 && archive_write_open2(p.a, p.frames ? (void *)p.frames : (void *)&out, NULL,
					    p.frames ? frames_write : output_write, NULL, NULL) != ARCHIVE_OK)
		ret = cm_err(err, 0, "%s", why(p.a));
	if (ret == 0)
		ret = write_members(&p, st, rec, o, err);
	/* A full disk or a closed pipe often shows only here. */
	if (archive_write_close(p.a) < ARCHIVE_WARN && ret == 0)
		ret = cm_err(err, 0, "%s", why(p.a));
	if (ret == 0 && p.frames && cm_frames_finish(p.frames) < 0)
		ret = cm_err(err, errno, "write");
	if (o->written)
		*o->written = p.frames ? cm_frames_written(p.frames) : (unsigned long long)archive_filter_bytes(p.a, -1);
	packer_free(&p);
	cm_debug("export %s: archive written after %.3fs", name, cm_monotonic_seconds() - t0);
	if (!to_stdout) {
		ret = finish_output(fd, o->output, unnamed, ret, err);
		cm_debug("export %s: synced and named after %.3fs", name, cm_monotonic_seconds() - t0);
	}
	if (ret < 0)
		return cm_err_wrap(err, "export %s to %s", name,
				   to_fd ? "the stream" : to_stdout ? "standard output" : o->output);
	return 0;
}
