#include "archive_io.h"
#include "container.h"
#include "ctr_config.h"
#include "criu.h"
#include "error.h"
#include "hash_thread.h"
#include "image.h"
#include "criu_images.h"
#include "ctr_net.h"
#include "foreign.h"
#include "networks.h"
#include "unpack.h"
#include "jsonio.h"
#include "net_opts.h"
#include "reference.h"
#include "pull.h"
#include "oci_layout.h"
#include "manifest.h"
#include "mem_stage.h"
#include "progress.h"
#include "oci_spec.h"
#include "rootfs.h"
#include "rootfs_diff.h"
#include "sha256.h"
#include "spec_check.h"
#include "store.h"
#include "trust.h"
#include "user.h"
#include "util.h"
#include "lazy_import.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

/* Room a member must leave free on the store's file system. */
#define DISK_RESERVE (64ULL << 20)

/* ---- reading the outer archive into a staging folder --------------------- */

struct unpacked {
	char *dir;       /* staging/raw: members as they came */
	const char *store; /* the store's root, for messages */
	json_t *seen;    /* name -> {size, sha256} */
	json_t *manifest;
	char *manifest_text; /* its exact bytes, which the signature covers */
	size_t manifest_len;
	json_t *sig;     /* ctrmig.manifest.sig, or NULL */
	uint64_t pages;  /* bytes of memory images so far */
	int format;      /* as config.dump says, to hash page images as the manifest will; 0: this one's */
	size_t members;
	/* With a stage in memory (restore -i): checkpoint/ goes there instead
	 * of dir, while it fits (mem_stage.h), else back to dir. */
	char *mem;       /* the stage, or NULL */
	int mem_fd;      /* open on it */
	uint64_t mem_bytes; /* in it so far */
	/* restore --lazy -i FILE of an archive with an index: the page images
	 * stay in it (lazy_import.h); or NULL */
	struct cm_lazy_import *lazy;
};

/* Where checkpoint/ is, once unpacked: in the stage or in dir. */
static char *images_dir(const struct unpacked *u)
{
	return cm_path_join(u->mem ? u->mem : u->dir, "checkpoint");
}

static bool is_images_member(const char *name)
{
	return !strncmp(name, "checkpoint", 10) && (!name[10] || name[10] == '/');
}

/* Copies one file from the stage into the same name under dirfd. */
static int copy_out(int from_dir, int to_dir, const char *name, struct cm_error *err)
{
	cm_autoclose int in = openat(from_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	cm_autoclose int out = openat(to_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	struct stat sb;
	if (in < 0 || out < 0 || fstat(in, &sb) < 0)
		return cm_err(err, errno, "member %s: move to disk", name);
	for (off_t left = sb.st_size; left > 0;) {
		ssize_t n = sendfile(out, in, NULL, (size_t)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return cm_err(err, n < 0 ? errno : ENOSPC, "member %s: move to disk", name);
		left -= n;
	}
	return 0;
}

/* The stage is full: what it holds of checkpoint/ moves to dir, and the
 * rest of the archive follows it there. */
static int spill_to_disk(struct unpacked *u, int dirfd, struct cm_error *err)
{
	cm_debug("staging the rest of checkpoint/ on disk: %llu MiB in memory so far",
		 (unsigned long long)(u->mem_bytes >> 20));
	cm_autofree char *images = images_dir(u);
	cm_autoclose int from = open(images, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = from >= 0 ? fdopendir(dup(from)) : NULL;
	int ret = mkdirat(dirfd, "checkpoint", 0700) < 0 && errno != EEXIST
			  ? cm_err(err, errno, "member checkpoint") : 0;
	cm_autoclose int to = ret == 0 ? openat(dirfd, "checkpoint", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
	if (ret == 0 && (from < 0 || to < 0 || !d))
		ret = cm_err(err, errno, "move checkpoint/ to disk");
	struct dirent *de;
	while (ret == 0 && (de = readdir(d)))
		if (de->d_name[0] != '.')
			ret = copy_out(from, to, de->d_name, err);
	if (d)
		closedir(d);
	close(u->mem_fd);
	cm_mem_stage_remove(u->mem, false);
	free(cm_steal_ptr(&u->mem));
	u->mem_fd = -1;
	return ret;
}

/* The folder a member goes into: the stage for checkpoint/ while it fits
 * (a file whose size would not fit moves the stage to disk first), else
 * the staging folder on disk. */
static int member_dir(struct unpacked *u, int dirfd, const char *name, int64_t declared,
		      struct cm_error *err)
{
	if (!u->mem || !is_images_member(name))
		return dirfd;
	uint64_t size = declared < 0 ? 0 : (uint64_t)declared;
	if (!cm_mem_stage_fits(u->mem, u->mem_bytes, size))
		return spill_to_disk(u, dirfd, err) < 0 ? -1 : dirfd;
	u->mem_bytes += size;
	return u->mem_fd;
}

/* MemTotal + SwapTotal: a checkpoint holding more memory cannot be restored here. */
static uint64_t memory_and_swap(void)
{
	cm_autofree char *text = cm_read_file("/proc/meminfo", NULL, NULL);
	uint64_t total = 0;
	const char *keys[] = { "MemTotal:", "SwapTotal:" };
	for (size_t i = 0; text && i < 2; i++) {
		const char *p = strstr(text, keys[i]);
		if (p)
			total += strtoull(p + strlen(keys[i]), NULL, 10) << 10;
	}
	return total ? total : UINT64_MAX;
}

/* Every member is bounded before a byte of it is written: by a fixed limit
 * for the small documents, by this host's memory for CRIU's page images,
 * and by the free space of the store for all but those left in the archive
 * (deferred), which take little. */
static int check_member_size(struct unpacked *u, int dirfd, const char *name, int64_t declared, bool deferred,
			     struct cm_error *err)
{
	uint64_t size = declared < 0 ? 0 : (uint64_t)declared;
	if (size > cm_member_max_size(name))
		return cm_err(err, 0, "member %s: %llu bytes, more than the %llu such a member may have", name,
			      (unsigned long long)size, (unsigned long long)cm_member_max_size(name));
	const char *base = strchr(name, '/');
	if (base && !strncmp(base + 1, "pages-", 6)) {
		u->pages += size;
		uint64_t mem = memory_and_swap();
		if (u->pages > mem)
			return cm_err(err, 0, "the checkpoint holds %llu MiB of memory, more than this host's "
					      "%llu MiB of memory and swap", (unsigned long long)(u->pages >> 20),
				      (unsigned long long)(mem >> 20));
	}
	struct statvfs vfs;
	if (!deferred && fstatvfs(dirfd, &vfs) == 0) {
		uint64_t avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
		if (size + DISK_RESERVE > avail)
			return cm_err(err, ENOSPC, "member %s: %llu MiB do not fit in %s with %llu MiB free", name,
				      (unsigned long long)(size >> 20), u->store,
				      (unsigned long long)(avail >> 20));
	}
	return 0;
}

static int write_member(struct archive *a, struct archive_entry *e, int dirfd, const char *name,
			int format, json_t *seen, struct cm_error *err)
{
	cm_autoclose int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return cm_err(err, errno, "member %s", name);
	/* Hashed on another core from the very bytes written, as they are
	 * written: what CRIU will read, read once. */
	const char *key = cm_member_digest_key(format, name);
	struct cm_hash_thread *h = cm_hash_thread_start_kind((uint64_t)archive_entry_size(e),
							     strcmp(key, "sha256") != 0, err);
	if (!h)
		return -1;
	uint64_t total = 0;
	int ret = 0;
	for (;;) {
		size_t cap;
		char *buf = cm_hash_thread_buffer(h, &cap);
		la_ssize_t n = archive_read_data(a, buf, cap);
		if (n == 0)
			break;
		if (n < 0) {
			ret = cm_err(err, 0, "member %s: %s", name, archive_error_string(a));
			break;
		}
		cm_hash_thread_push(h, (size_t)n);
		if (cm_pwrite_all(fd, buf, (size_t)n, total) < 0) {
			ret = cm_err(err, errno, "member %s: write", name);
			break;
		}
		total += (uint64_t)n;
		/* the archive's own bytes read so far, against its size */
		cm_progress_set((uint64_t)archive_filter_bytes(a, -1));
	}
	char hex[65];
	cm_hash_thread_finish(h, hex, NULL);
	/* Recorded, or refused: an unrecorded member would escape the manifest. */
	if (ret == 0 && json_object_set_new(seen, name, json_pack("{s:I, s:s}", "size", (json_int_t)total,
								  key, hex)) < 0)
		ret = cm_err(err, 0, "member %s: cannot be recorded", name);
	return ret;
}

/* A small member read whole into memory: the manifest or its signature. */
static char *read_small(struct archive *a, const char *name, size_t max, size_t *len,
			struct cm_error *err)
{
	char *buf = cm_malloc(max + 1);
	la_ssize_t n;
	*len = 0;
	while ((n = archive_read_data(a, buf + *len, max + 1 - *len)) > 0)
		*len += (size_t)n;
	if (n < 0)
		cm_err(err, 0, "member %s: %s", name, archive_error_string(a));
	else if (*len > max)
		cm_err(err, 0, "member %s: too large", name);
	if (n < 0 || *len > max) {
		free(buf);
		return NULL;
	}
	buf[*len] = '\0';
	return buf;
}
static int no_manifest(struct cm_error *err);

/* The pages a lazy import writes now (those CRIU restores itself), with
 * room made for them first as for any member: in the stage while they fit,
 * else on disk, where they must fit too. */
static int fill_lazy(struct unpacked *u, int dirfd, struct cm_error *err)
{
	cm_autofree char *images = images_dir(u);
	uint64_t bytes;
	if (cm_lazy_import_measure(u->lazy, images, &bytes, err) < 0)
		return -1;
	if (u->mem && !cm_mem_stage_fits(u->mem, u->mem_bytes, bytes) && spill_to_disk(u, dirfd, err) < 0)
		return -1;
	if (u->mem) {
		u->mem_bytes += bytes;
	} else {
		free(images);
		images = images_dir(u);
		struct statvfs vfs;
		if (fstatvfs(dirfd, &vfs) == 0 && bytes + DISK_RESERVE > (uint64_t)vfs.f_bavail * vfs.f_frsize)
			return cm_err(err, ENOSPC, "%llu MiB of memory to write now do not fit in %s",
				      (unsigned long long)(bytes >> 20), u->store);
	}
	return cm_lazy_import_fill(u->lazy, images, err);
}

/* The format config.dump says the archive has, which decides how its page
 * images are hashed (manifest.h): 1 for an older ctrmig's, else this one's.
 * Only a hint: the manifest is the word, and a wrong hint a mismatch. */
static int config_format(const char *dir)
{
	cm_autofree char *path = cm_path_join(dir, "config.dump");
	size_t len = 0;
	cm_autofree char *text = cm_read_file_max(path, cm_member_max_size("config.dump"), &len, NULL);
	json_t *j = text ? json_loadb(text, len, 0, NULL) : NULL;
	int format = (int)cm_json_int(json_object_get(j, "ctrmig"), "format", CM_ARCHIVE_FORMAT);
	json_decref(j);
	return format == 1 ? 1 : CM_ARCHIVE_FORMAT;
}

static int unpack_outer(const char *input, struct unpacked *u, struct cm_error *err)
{
	struct archive *a = archive_read_new();
	/* Only what ctrmig writes: libarchive runs an outside program (lzop,
	 * lrzip, grzip...) for a compression it has no library for, chosen by
	 * the archive's first bytes. */
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_format_tar(a);
	int r = u->lazy ? cm_lazy_import_read_open(u->lazy, a)
		: !strcmp(input, "-") ? archive_read_open_fd(a, STDIN_FILENO, 1 << 20)
				      : archive_read_open_filename(a, input, 1 << 20);
	struct stat in_sb;
	cm_progress_phase("reading the archive",
			  strcmp(input, "-") && stat(input, &in_sb) == 0 ? (uint64_t)in_sb.st_size : 0);
	int ret = 0;
	if (r != ARCHIVE_OK)
		ret = cm_err(err, 0, "%s", archive_error_string(a));
	cm_autoclose int dirfd = ret == 0 ? open(u->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	if (ret == 0 && dirfd < 0)
		ret = cm_err(err, errno, "open a staging folder in %s", u->store);
	struct archive_entry *e;
	while (ret == 0) {
		r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			ret = cm_err(err, 0, "%s", archive_error_string(a));
			break;
		}
		if (++u->members > CM_ARCHIVE_MAX_MEMBERS) {
			ret = cm_err(err, 0, "more than %d members: not a checkpoint archive",
				     CM_ARCHIVE_MAX_MEMBERS);
			break;
		}
		cm_autofree char *name = cm_strdup(archive_entry_pathname(e));
		mode_t type = archive_entry_filetype(e);
		if (type != AE_IFREG && type != AE_IFDIR) {
			ret = cm_err(err, 0, "member %s: links and special files do not belong in a checkpoint archive",
				     name);
			break;
		}
		if (archive_entry_hardlink(e)) {
			ret = cm_err(err, 0, "member %s: hard links do not belong in a checkpoint archive", name);
			break;
		}
		enum cm_member_kind kind = type == AE_IFDIR ? CM_MEMBER_DIR : CM_MEMBER_FILE;
		bool is_sig = !strcmp(name, CM_TRUST_SIG_NAME);
		if (cm_member_check(name, kind, err) < 0 ||
		    (is_sig && !u->manifest && cm_err(err, 0, "member %s: before the manifest it signs", name)) ||
		    (u->sig && cm_err(err, 0, "member %s: after the signature, which must be last", name)) ||
		    (u->manifest && !is_sig && cm_err(err, 0, "member %s: after the manifest, which must be last", name)) ||
		    (json_object_get(u->seen, name) && cm_err(err, 0, "member %s: twice in the archive", name))) {
			ret = -1;
			break;
		}
		/* a page image left in the archive takes no room here */
		bool defer = kind == CM_MEMBER_FILE && cm_lazy_import_defers(u->lazy, name, u->format);
		int to = member_dir(u, dirfd, name, kind == CM_MEMBER_DIR || defer ? 0 : archive_entry_size(e), err);
		if (to < 0) {
			ret = -1;
			break;
		}
		if (kind == CM_MEMBER_DIR) {
			if (mkdirat(to, name, 0700) < 0 && errno != EEXIST)
				ret = cm_err(err, errno, "member %s", name);
			continue;
		}
		if (!strcmp(name, CM_MANIFEST_NAME)) {
			u->manifest_text = read_small(a, name, (size_t)cm_member_max_size(name),
						      &u->manifest_len, err);
			u->manifest = u->manifest_text ? cm_json_parse(u->manifest_text, u->manifest_len,
								       name, err) : NULL;
			ret = u->manifest ? 0 : -1;
			continue;
		}
		if (is_sig) {
			size_t len;
			cm_autofree char *text = read_small(a, name, CM_TRUST_SIG_MAX, &len, err);
			u->sig = text ? cm_trust_sig_parse(text, len, err) : NULL;
			ret = u->sig ? 0 : -1;
			continue;
		}
		/* the folders may come without their own entries */
		for (char *slash = strchr(name, '/'); slash && ret == 0; slash = strchr(slash + 1, '/')) {
			*slash = '\0';
			if (mkdirat(to, name, 0700) < 0 && errno != EEXIST)
				ret = cm_err(err, errno, "member %s", name);
			*slash = '/';
		}
		if (ret == 0)
			ret = check_member_size(u, to, name, archive_entry_size(e), defer, err);
		/* ctrmig writes none, and a few bytes of sparse map would make it
		 * write and hash a file as large as the free space, all holes. */
		if (ret == 0 && archive_entry_sparse_count(e) > 0)
			ret = cm_err(err, 0, "member %s: sparse files do not belong in a checkpoint archive", name);
		if (ret == 0 && defer)
			ret = cm_lazy_import_defer(u->lazy, a, e, name, u->seen, err);
		else if (ret == 0)
			ret = write_member(a, e, to, name, u->format ? u->format : CM_ARCHIVE_FORMAT, u->seen, err);
		if (ret == 0 && !strcmp(name, "config.dump"))
			u->format = config_format(u->dir);
	}
	archive_read_free(a);
	cm_progress_done();
	/* Without a manifest it is truncated, or another engine's (the import
	 * tells which from config.dump). */
	if (ret == 0 && u->manifest)
		ret = cm_manifest_verify(u->manifest, u->seen, err);
	/* only what the manifest vouches for: a foreign archive has none */
	if (ret == 0 && cm_lazy_import_deferred(u->lazy) > 0)
		ret = u->manifest ? fill_lazy(u, dirfd, err) : no_manifest(err);
	return ret;
}

static int no_manifest(struct cm_error *err)
{
	return cm_err(err, 0, "no %s: the archive is truncated, or was not made by ctrmig", CM_MANIFEST_NAME);
}

/* Who signed the archive, and whether this host lets it in: a signature
 * that does not match is refused; policy.json may refuse all but trusted
 * ones. A trusted signer's archive restores with what its record asks. */
static int check_signature(struct unpacked *u, struct cm_grant_opts *g, struct cm_error *err)
{
	cm_autofree char *signer = NULL;
	int verdict = cm_trust_verify(u->sig, u->manifest_text, u->manifest_len, &signer, err);
	if (verdict < 0)
		return -1;
	bool required;
	if (cm_trust_policy_requires_signature(&required, err) < 0)
		return -1;
	if (required && verdict == CM_TRUST_UNSIGNED)
		return cm_err(err, 0, "the archive is not signed, and this host's policy requires a "
				      "trusted signature");
	if (required && verdict == CM_TRUST_UNTRUSTED)
		return cm_err(err, 0, "the archive is signed by %s, a key this host does not trust "
				      "(its policy requires a trusted signature): 'ctrmig trust add' it", signer);
	if (verdict == CM_TRUST_TRUSTED) {
		cm_info("archive signed by %s, a trusted key", signer);
		g->trust_all = true;
	}
	return 0;
}

/* Frees what u holds; a stage stays (the caller removes it, or hands it on). */
static void unpacked_free(struct unpacked *u)
{
	if (u->mem)
		close(u->mem_fd);
	free(u->mem);
	free(u->dir);
	free(u->manifest_text);
	json_decref(u->seen);
	json_decref(u->manifest);
	json_decref(u->sig);
	cm_lazy_import_free(u->lazy);
}

int cm_archive_unpack(const char *input, const char *dir, bool *trusted, struct cm_error *err)
{
	struct unpacked u = { .dir = cm_strdup(dir), .store = dir, .seen = json_object() };
	struct cm_grant_opts g = { 0 };
	int ret = unpack_outer(input, &u, err);
	if (ret == 0 && !u.manifest)
		ret = no_manifest(err);
	if (ret == 0)
		ret = check_signature(&u, &g, err);
	if (ret == 0 && trusted)
		*trusted = g.trust_all;
	unpacked_free(&u);
	return ret;
}

/* ---- turning it into a container ----------------------------------------- */

static json_t *load_member(struct unpacked *u, const char *name, struct cm_error *err)
{
	cm_autofree char *path = cm_path_join(u->dir, name);
	if (!cm_path_exists(path)) {
		cm_err(err, 0, "member %s: missing", name);
		return NULL;
	}
	/* Named as the archive names it: the staging folder means nothing to the user. */
	size_t len;
	cm_autofree char *text = cm_read_file(path, &len, err);
	cm_autofree char *what = cm_strfmt("member %s", name);
	return text ? cm_json_parse(text, len, what, err) : NULL;
}

/* Whether what was found or brought is the base the archive names: by its
 * id (the config digest), or for an archive of format 1 its tree digest. */
static bool is_base(json_t *found, json_t *img)
{
	const char *id = cm_json_str(img, "id"), *digest = cm_json_str(img, "digest");
	const char *tree = cm_json_str(found, "rootfs_digest"), *want_tree = cm_json_str(img, "rootfs_digest");
	if (!want_tree)
		want_tree = digest; /* format 1 named the base by its tree only */
	return (id && !strcmp(cm_json_str(found, "id"), id)) || (want_tree && tree && !strcmp(tree, want_tree));
}

json_t *cm_archive_base_find(struct cm_store *st, json_t *img)
{
	const char *id = cm_json_str(img, "id"), *digest = cm_json_str(img, "digest");
	const char *tree = cm_json_str(img, "rootfs_digest");
	if (!id)
		return NULL;
	cm_autofree char *by_id = cm_strfmt("sha256:%s", id);
	/* another engine's record has the id alone */
	if (!digest)
		digest = by_id;
	const char *keys[] = { by_id, digest, tree && cm_digest_valid(tree) ? tree : digest };
	for (size_t i = 0; i < 3; i++) {
		json_t *found = cm_image_find(st, keys[i], NULL);
		if (found && is_base(found, img))
			return found;
		json_decref(found);
	}
	return NULL;
}

/* The base as the archive carries it: an OCI layout under image/ (the same
 * image, registered without a name), or image.tar from an older ctrmig
 * (a one-layer image under a name of ctrmig's own, never the archive's). */
static json_t *import_carried(struct cm_store *st, struct unpacked *u, json_t *img, struct cm_error *err)
{
	cm_autofree char *layout = cm_path_join(u->dir, "image");
	cm_autofree char *tar = cm_path_join(u->dir, "image.tar");
	if (cm_path_exists(layout)) {
		struct cm_layout_import li = { .source = "checkpoint archive", .untrusted = true, .owned = true };
		return cm_image_from_layout_opts(st, layout, &li, err);
	}
	char hex[65];
	cm_sha256_hex(cm_json_str(img, "digest"), strlen(cm_json_str(img, "digest")), hex);
	cm_autofree char *local = cm_strfmt("localhost/ctrmig-carried:%.12s", hex);
	return cm_image_import(st, tar, local, true, err);
}

/* The base image: here already (by id, manifest or tree digest), carried in
 * the archive, or pulled by digest from the registry it came from. No tag
 * is ever made or moved from what an archive says. */
static json_t *find_or_import_image(struct cm_store *st, struct unpacked *u, json_t *img,
				    const struct cm_import_opts *o, bool *imported, struct cm_error *err)
{
	const char *id = cm_json_str(img, "id"), *digest = cm_json_str(img, "digest");
	const char *name = cm_json_str(img, "name"), *repo = cm_json_str(img, "repo_digest");
	/* another engine's record names the image by id and name only */
	bool digest_ok = digest ? cm_digest_valid(digest) : !u->manifest;
	if (!digest_ok || !id || strlen(id) != 64 || !cm_is_hex(id)) {
		cm_err(err, 0, "config.dump: no valid base image id and digest");
		return NULL;
	}
	if (repo && (strlen(repo) > 512 || !strchr(repo, '@') || !cm_digest_valid(strchr(repo, '@') + 1))) {
		cm_err(err, 0, "config.dump: the base image's repository digest is not valid");
		return NULL;
	}
	json_t *found = cm_archive_base_find(st, img);
	if (found)
		return found;
	cm_autofree char *layout = cm_path_join(u->dir, "image");
	cm_autofree char *tar = cm_path_join(u->dir, "image.tar");
	const char *what = "image";
	if (cm_path_exists(layout) || cm_path_exists(tar)) {
		found = import_carried(st, u, img, err);
		what = cm_path_exists(layout) ? "member image/" : "image.tar";
	} else if (!u->manifest && name) {
		/* by its name, which must still give the same image (its id) */
		fprintf(stderr, "Trying to pull %s...\n", name);
		struct cm_pull_opts po = { .quiet = true, .untagged = true, .tls_verify = o->tls_verify };
		found = cm_image_pull(st, name, &po, err);
		what = name;
		if (!found)
			cm_err_wrap(err, "the base image %s (sha256:%.12s) is not here and could not be pulled "
					 "(load it with 'ctrmig image load')", name, id);
	} else if (repo) {
		fprintf(stderr, "Trying to pull %s...\n", repo);
		struct cm_pull_opts po = { .quiet = true, .untagged = true, .tls_verify = o->tls_verify };
		found = cm_image_pull(st, repo, &po, err);
		what = repo;
		if (!found)
			cm_err_wrap(err, "the base image %s is not here and could not be pulled (load it with "
					 "'ctrmig image load', or export with --include-image)",
				    name ? name : repo);
	} else {
		cm_err(err, 0, "the base image %s (sha256:%.12s) is not in this store: pull or load it ('ctrmig "
			       "pull NAME', 'ctrmig image load -i FILE', 'ctrmig image import ROOTFS NAME'), or "
			       "export with --include-image",
		       name ? name : "(unnamed)", id);
		return NULL;
	}
	if (!found)
		return NULL;
	*imported = true;
	if (!is_base(found, img)) {
		cm_err(err, 0, "%s: it is image %.12s, config.dump says %.12s", what, cm_json_str(found, "id"), id);
		cm_image_remove(st, cm_json_str(found, "id"), NULL);
		json_decref(found);
		*imported = false;
		return NULL;
	}
	return found;
}

static int check_volumes(json_t *config, struct cm_error *err)
{
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(config, "volumes"), i, v) {
		const char *src = cm_json_str(v, "source");
		if (!src || !cm_path_exists(src))
			return cm_err(err, 0, "volume %s does not exist on this host: create it first",
				      src ? src : "(none)");
	}
	return 0;
}

/* Copies a boolean the archive's record holds, if it is one. */
static void copy_bool(json_t *to, json_t *from, const char *key)
{
	json_t *v = json_object_get(from, key);
	if (json_is_boolean(v))
		json_object_set(to, key, v);
}

/* The new container's record, made afresh: from the archive only its name,
 * creation time, checkpoint options and the config already checked. */
static json_t *new_record(const char *id, const char *name, json_t *old, json_t *config,
			  json_t *image, const char *images, const char *input)
{
	char now[40];
	cm_time_now(now);
	struct timespec ts;
	const char *created = cm_json_str(old, "created");
	json_t *old_ckpt = json_object_get(old, "checkpoint");
	const char *when = cm_json_str(old_ckpt, "time");
	json_t *ckpt = json_pack("{s:s, s:b, s:s}", "dir", images, "restorable", 1, "time",
				 when && cm_time_parse(when, &ts) == 0 ? when : now);
	copy_bool(ckpt, old_ckpt, "leave_running");
	copy_bool(ckpt, old_ckpt, "tcp_established");
	copy_bool(ckpt, old_ckpt, "file_locks");
	return json_pack("{s:s, s:s, s:s, s:o, s:O, s:s, s:o, s:b, s:s, s:s}", "id", id,
			 "name", name, "created",
			 created && cm_time_parse(created, &ts) == 0 ? created : now, "image",
			 cm_ctr_image_ref(image), "config", config, "state", "checkpointed",
			 "checkpoint", ckpt, "restored", 0, "imported_from",
			 !strcmp(input, "-") ? "stdin" : input, "imported_at", now);
}

/* The user the record names must be the uid and gid it records, as the
 * base image resolves it here: inspect shows the name, the numbers run. */
static int check_user(struct cm_store *st, json_t *config, json_t *image, struct cm_error *err)
{
	const char *user = cm_json_str(config, "user");
	if (!user)
		return json_object_get(config, "uid") || json_object_get(config, "gid")
			       ? cm_err(err, 0, "config.dump: a uid or gid without the user it belongs to")
			       : 0;
	cm_autofree char *layers = cm_image_rootfs(st, cm_json_str(image, "id"));
	struct cm_user u;
	if (cm_user_resolve_lowerdir(user, layers, &u, err) < 0)
		return cm_err_wrap(err, "config.dump");
	bool same = u.uid == (uid_t)cm_json_int(config, "uid", 0) && u.gid == (gid_t)cm_json_int(config, "gid", 0);
	json_decref(u.groups);
	if (!same)
		return cm_err(err, 0, "config.dump: user %.64s is %u:%u in the base image, but the record runs "
				      "it as %lld:%lld", user, (unsigned)u.uid, (unsigned)u.gid,
			      (long long)cm_json_int(config, "uid", 0), (long long)cm_json_int(config, "gid", 0));
	return 0;
}

/* The record and the runc config ctrmig builds from it, at the final paths. */
static int write_container(struct cm_store *st, const char *stage, const char *id, const char *name,
			   json_t *old, json_t *config, json_t *image, bool image_imported,
			   const char *images, const char *input, json_t *lazy_archive, struct cm_error *err)
{
	/* Its own network namespace here, wherever the archived one was. */
	if (cm_json_str(config, "netns")) {
		cm_autofree char *netns = cm_store_netns_path(st, id);
		json_object_set_new(config, "netns", json_string(netns));
	}
	json_t *rec = new_record(id, name, old, config, image, images, input);
	/* A restore -i that fails takes the image it brought away again. */
	if (image_imported)
		json_object_set_new(rec, "image_imported", json_true());
	if (lazy_archive)
		json_object_set(json_object_get(rec, "checkpoint"), "lazy_archive", lazy_archive);
	json_t *spec = cm_ctr_build_spec(st, rec, err);
	cm_autofree char *spec_path = cm_path_join(stage, "bundle/config.json");
	cm_autofree char *rec_path = cm_path_join(stage, "container.json");
	int ret = spec ? cm_json_save(spec_path, spec, 0600, err) : -1;
	if (ret == 0)
		ret = cm_json_save(rec_path, rec, 0600, err);
	json_decref(spec);
	json_decref(rec);
	return ret;
}

/* What the archive asks for, checked: its config (each field, and each
 * grant against the command line) and spec.dump against the runc config
 * that config gives. Returns the config the new container gets. */
static json_t *checked_config(json_t *old, json_t *spec, const struct cm_grant_opts *grants,
			      struct cm_error *err)
{
	const char *old_id = cm_json_str(old, "id");
	json_t *asked = cm_config_from_archive(json_object_get(old, "config"), old_id, err);
	if (!asked)
		return NULL;
	cm_autofree char *old_root = cm_strfmt("/containers/%s/rootfs", old_id);
	json_t *config = cm_config_grant(asked, grants, err);
	json_t *built = config ? cm_oci_spec_build(asked, old_id, old_root, err) : NULL;
	if (config && (!built || cm_spec_check(spec, built, old_id, err) < 0)) {
		json_decref(config);
		config = NULL;
	}
	json_decref(built);
	json_decref(asked);
	return config;
}

/* network.status, if the archive has one: the address to take again. */
static int load_network_status(struct unpacked *u, json_t **out, struct cm_error *err)
{
	cm_autofree char *path = cm_path_join(u->dir, "network.status");
	if (!cm_path_exists(path))
		return 0;
	/* Podman writes null for a container without a network */
	cm_autofree char *text = cm_read_file_max(path, 16, NULL, NULL);
	if (text && !strcmp(text, "null"))
		return 0;
	*out = load_member(u, "network.status", err);
	return *out && cm_net_status_check(*out, err) == 0 ? 0 : -1;
}

static int save_in(const char *dir, const char *name, json_t *j, struct cm_error *err)
{
	cm_autofree char *path = cm_path_join(dir, name);
	return cm_json_save(path, j, 0600, err);
}

/* CRIU checks the mode of the root folder at restore; it may differ from
 * what the image gives here (another engine's, an older ctrmig's 0755):
 * the upper folder takes the mode CRIU recorded. */
static int root_mode_as_dumped(const char *stage, const char *images, struct cm_error *err)
{
	cm_autofree char *upper = cm_path_join(stage, "upper");
	uint32_t mode;
	struct cm_error e = { 0 };
	/* images that cannot say are refused by the full check of the restore */
	if (cm_criu_images_root_mode(images, &mode, &e) < 0 || !S_ISDIR(mode)) {
		cm_debug("the root's mode in the images: %s", e.msg ? e.msg : "not a folder");
		cm_error_clear(&e);
		return 0;
	}
	if (chmod(upper, mode & 0777) < 0)
		return cm_err(err, errno, "chmod %s", upper);
	return 0;
}

/* Podman's /dev/shm contents, into the folder ctrmig binds there (the
 * same rules as the rootfs diff: no devices, no setuid, nothing outside). */
static int apply_devshm(struct unpacked *u, const char *stage, struct cm_error *err)
{
	cm_autofree char *tar = cm_path_join(u->dir, "devshm-checkpoint.tar");
	cm_autofree char *shm = cm_path_join(stage, "shm");
	if (!cm_path_exists(tar))
		return 0;
	if (cm_mkdir_p(shm, 01777, err) < 0 || cm_unpack_file(tar, shm, true, err) < 0)
		return cm_err_wrap(err, "member devshm-checkpoint.tar");
	return 0;
}

static int apply_rootfs(struct cm_store *st, struct unpacked *u, const char *stage, json_t *image,
			bool foreign, struct cm_error *err)
{
	cm_autofree char *diff = cm_path_join(u->dir, "rootfs-diff.tar");
	cm_autofree char *deleted_path = cm_path_join(u->dir, "deleted.files");
	bool has_diff = cm_path_exists(diff), has_deleted = cm_path_exists(deleted_path);
	if (!has_diff && !has_deleted)
		return 0; /* exported with --ignore-rootfs */
	json_t *deleted = has_deleted ? load_member(u, "deleted.files", err) : json_array();
	/* Podman lists them from the container's root ("/etc/group"), ctrmig
	 * relative to it (and refuses an absolute one in its own) */
	json_t *v;
	size_t i;
	json_array_foreach(foreign ? deleted : NULL, i, v) {
		const char *p = json_string_value(v);
		if (p && p[0] == '/' && p[strspn(p, "/")])
			json_array_set_new(deleted, i, json_string(p + strspn(p, "/")));
	}
	if (!deleted)
		return -1;
	if (!json_is_array(deleted)) {
		json_decref(deleted);
		return cm_err(err, 0, "member deleted.files: not a list of paths");
	}
	/* The diff is copied into the container's layer while the archive's copy is still there. */
	struct stat sb;
	struct statvfs vfs;
	if (has_diff && stat(diff, &sb) == 0 && statvfs(stage, &vfs) == 0 &&
	    (uint64_t)sb.st_size + DISK_RESERVE > (uint64_t)vfs.f_bavail * vfs.f_frsize) {
		json_decref(deleted);
		return cm_err(err, ENOSPC, "member rootfs-diff.tar: %llu MiB do not fit in %s",
			      (unsigned long long)(sb.st_size >> 20), st->root);
	}
	cm_autofree char *upper = cm_path_join(stage, "upper");
	cm_autofree char *work = cm_path_join(stage, "work");
	cm_autofree char *root = cm_path_join(stage, "rootfs");
	/* the image as it is, to compare setuid files with: a view no path leads to */
	int base = cm_image_view_open(st, cm_json_str(image, "id"), err);
	cm_autofree char *base_path = cm_strfmt("/proc/self/fd/%d", base);
	int ret = base < 0 ? -1 : cm_rootfs_mount_image(st, cm_json_str(image, "id"), upper, work, root, err);
	if (ret == 0) {
		ret = cm_rootfs_diff_apply(root, base_path, has_diff ? diff : NULL, deleted, err);
		umount2(root, MNT_DETACH);
	}
	if (base >= 0)
		close(base);
	json_decref(deleted);
	return ret;
}

/* The CRIU images and statistics, from the unpacked archive into the new
 * container (images staged in memory stay there). */
static int move_checkpoint(struct unpacked *u, const char *stage, struct cm_error *err)
{
	cm_autofree char *raw_ckpt = images_dir(u);
	cm_autofree char *ckpt = cm_path_join(stage, "checkpoint");
	cm_autofree char *raw_stats = cm_path_join(u->dir, "stats-dump");
	cm_autofree char *stats = cm_path_join(stage, "checkpoint-work/stats-dump");
	if (!cm_criu_dump_complete(raw_ckpt))
		return cm_err(err, 0, "member checkpoint/inventory.img: missing, the checkpoint is not complete");
	if ((!u->mem && rename(raw_ckpt, ckpt) < 0) || (cm_path_exists(raw_stats) && rename(raw_stats, stats) < 0))
		return cm_err(err, errno, "move the checkpoint into place");
	return 0;
}

static bool is_pre_checkpoint_archive(struct unpacked *u)
{
	cm_autofree char *pre = cm_path_join(u->dir, "pre-checkpoint");
	cm_autofree char *ckpt = images_dir(u);
	return cm_path_exists(pre) && !cm_path_exists(ckpt);
}

/* Whether the final archive and the one given with --import-previous go
 * together: a dump made --with-previous needs its parent, and only then. */
static int check_previous(struct unpacked *u, json_t *config, const struct cm_import_opts *o,
			  struct cm_error *err)
{
	const char *what = !strcmp(o->input, "-") ? "standard input" : o->input;
	if (is_pre_checkpoint_archive(u))
		return cm_err(err, 0, "this is a pre-checkpoint archive: restore the final checkpoint's "
				      "archive with --import-previous %s", what);
	cm_autofree char *pre = cm_path_join(u->dir, "pre-checkpoint");
	if (cm_path_exists(pre))
		return cm_err(err, 0, "member pre-checkpoint: only in a pre-checkpoint archive");
	bool needs = json_is_true(json_object_get(json_object_get(config, "ctrmig"), "with_previous"));
	if (needs && !o->previous)
		return cm_err(err, 0, "the checkpoint was made --with-previous: give the pre-checkpoint "
				      "archive too, with --import-previous FILE");
	if (!needs && o->previous)
		return cm_err(err, 0, "--import-previous: the checkpoint was not made --with-previous "
				      "and needs no pre-checkpoint");
	return 0;
}

/* The pre-checkpoint archive for a --with-previous dump, checked like any
 * archive, then placed where CRIU's parent link expects it. */
static int import_previous(const char *input, const char *staging, const char *stage,
			   const char *old_id, struct cm_error *err)
{
	struct unpacked p = { .dir = cm_path_join(staging, "previous"), .store = "the store",
			      .seen = json_object() };
	json_t *config = NULL;
	struct cm_grant_opts ignored = { 0 };
	int ret = cm_mkdir_p(p.dir, 0700, err);
	if (ret == 0)
		ret = unpack_outer(input, &p, err);
	if (ret == 0)
		ret = check_signature(&p, &ignored, err);
	if (ret == 0 && !(config = load_member(&p, "config.dump", err)))
		ret = -1;
	cm_autofree char *raw = cm_path_join(p.dir, "pre-checkpoint");
	if (ret == 0 && (!is_pre_checkpoint_archive(&p) || !cm_criu_dump_complete(raw)))
		ret = cm_err(err, 0, "not a pre-checkpoint archive (made with 'ctrmig checkpoint -P -e')");
	json_t *rec = json_object_get(json_object_get(config, "ctrmig"), "record");
	const char *id = cm_json_str(rec, "id");
	if (ret == 0 && (!id || strcmp(id, old_id)))
		ret = cm_err(err, 0, "it is the pre-checkpoint of container %s (%.12s), not of %.12s",
			     cm_json_str(rec, "name") ? cm_json_str(rec, "name") : "(unknown)",
			     id ? id : "?", old_id);
	cm_autofree char *pre = cm_path_join(stage, "pre-checkpoint");
	cm_autofree char *link = cm_path_join(stage, "checkpoint/parent");
	if (ret == 0 && (rename(raw, pre) < 0 || symlink("../pre-checkpoint", link) < 0))
		ret = cm_err(err, errno, "place the pre-checkpoint");
	json_decref(config);
	unpacked_free(&p);
	return ret < 0 ? cm_err_wrap(err, "--import-previous %s", input) : 0;
}

json_t *cm_archive_import(struct cm_store *st, const struct cm_import_opts *o, struct cm_error *err)
{
	char rnd[65], id_buf[65];
	if (cm_random_id(rnd, err) < 0 || cm_random_id(id_buf, err) < 0)
		return NULL;
	const char *what = !strcmp(o->input, "-") ? "standard input" : o->input;
	double t0 = cm_monotonic_seconds();
	cm_autofree char *staging = cm_strfmt("%s/containers/.import-%.16s", st->root, rnd);
	struct unpacked u = { .dir = cm_path_join(staging, "raw"), .store = st->root, .seen = json_object() };
	json_t *config = NULL, *spec = NULL, *image = NULL, *rec = NULL, *ctr_config = NULL;
	json_t *net_status = NULL, *foreign = NULL;
	cm_autofree char *stage = NULL, *final = NULL, *images = NULL, *staged_images = NULL;
	json_t *lazy = NULL;
	bool image_imported = false;
	const char *id = NULL, *name = NULL;

	struct cm_grant_opts grants = o->grants;
	/* CRIU's images in memory when they only pass through; not when a
	 * pre-checkpoint, on disk, must sit beside them (CRIU's parent link). */
	if (o->stage_in_memory && !o->previous && (u.mem = cm_mem_stage_create(st)) &&
	    (u.mem_fd = open(u.mem, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		cm_mem_stage_remove(u.mem, false);
		free(cm_steal_ptr(&u.mem));
	}
	if (o->lazy_pages && strcmp(o->input, "-") && !(u.lazy = cm_lazy_import_open(o->input, err)) && err->msg)
		goto fail;
	if (cm_mkdir_p(u.dir, 0700, err) < 0 || unpack_outer(o->input, &u, err) < 0 ||
	    check_signature(&u, &grants, err) < 0)
		goto fail;
	cm_debug("import %s: archive read and checked after %.3fs, images %s", what,
		 cm_monotonic_seconds() - t0, u.mem ? u.mem : "on disk");
	if (!u.manifest) {
		/* another engine's, or a truncated one of ctrmig's */
		struct cm_error e = { 0 };
		config = load_member(&u, "config.dump", &e);
		spec = config ? load_member(&u, "spec.dump", &e) : NULL;
		cm_error_clear(&e);
	} else if (!(config = load_member(&u, "config.dump", err)) || !(spec = load_member(&u, "spec.dump", err))) {
		goto fail;
	}
	const char *engine = u.manifest ? NULL : cm_foreign_engine(config, spec);
	if (!u.manifest && (!engine || !spec)) {
		no_manifest(err);
		goto fail;
	}
	json_t *old = json_object_get(json_object_get(config, "ctrmig"), "record");
	if (engine) {
		if (!(foreign = cm_foreign_record(config, spec, engine, err)))
			goto fail;
		old = foreign;
		json_t *checked = cm_foreign_spec(spec, old);
		json_decref(spec);
		spec = checked;
	} else if (!json_is_object(old) || !cm_json_str(old, "id") || !cm_json_str(old, "name")) {
		cm_err(err, 0, "config.dump: no ctrmig container record");
		goto fail;
	}
	if (!engine && check_previous(&u, config, o, err) < 0)
		goto fail;
	id = o->name ? id_buf : cm_json_str(old, "id");
	name = o->name ? o->name : cm_json_str(old, "name");
	if (strlen(cm_json_str(old, "id")) != 64 || !cm_is_hex(cm_json_str(old, "id"))) {
		cm_err(err, 0, "config.dump: the container id is not valid");
		goto fail;
	}
	if (!cm_ctr_name_valid(name)) {
		cm_err(err, 0, "container name '%s' is not valid", name);
		goto fail;
	}
	final = cm_store_ctr_dir(st, id);
	if (cm_store_name_taken(st, name) || cm_path_exists(final)) {
		cm_err(err, 0, "a container %s already exists here: restore under another name with -n NAME", name);
		goto fail;
	}
	if (!(ctr_config = checked_config(old, spec, &grants, err)) || check_volumes(ctr_config, err) < 0 ||
	    load_network_status(&u, &net_status, err) < 0)
		goto fail;
	if (engine && net_status && cm_json_str(ctr_config, "netns")) {
		/* its address, on a network of that name here, or a new one */
		const char *net = cm_foreign_network(st, net_status);
		if (net) {
			json_object_set_new(ctr_config, "network", json_string(net));
		} else {
			struct cm_net_address a;
			if (cm_net_status_address(net_status, &a))
				cm_info("address %s on %s's network %s: no such network here, so a new address "
					"on %s", a.ip, engine, a.network, CM_NET_DEFAULT);
			json_decref(cm_steal_ptr(&net_status));
		}
	}
	if (cm_net_config_check(st, ctr_config, NULL, err) < 0)
		goto fail;
	/* A copy takes a new address (and the old one may still be in use). */
	if (o->name) {
		json_object_del(ctr_config, "ip");
		json_object_del(ctr_config, "mac");
		json_decref(cm_steal_ptr(&net_status));
	}
	if (!(image = find_or_import_image(st, &u, json_object_get(old, "image"), o, &image_imported, err)) ||
	    check_user(st, ctr_config, image, err) < 0)
		goto fail;

	stage = cm_strfmt("%s/containers/.new-%s", st->root, id);
	const char *dirs[] = { "bundle", "upper", "work", "rootfs", "checkpoint-work" };
	for (size_t i = 0; i < 5; i++) {
		cm_autofree char *d = cm_path_join(stage, dirs[i]);
		if (cm_mkdir_p(d, 0700, err) < 0)
			goto fail;
	}
	if (cm_ctr_upper_mode(st, stage, NULL, err) < 0)
		goto fail;
	/* the images: in the stage in memory, or in the container's folder */
	images = u.mem ? images_dir(&u) : cm_path_join(final, "checkpoint");
	staged_images = u.mem ? cm_strdup(images) : cm_path_join(stage, "checkpoint");
	if (move_checkpoint(&u, stage, err) < 0 ||
	    (o->previous && import_previous(o->previous, staging, stage, cm_json_str(old, "id"), err) < 0) ||
	    (cm_lazy_import_deferred(u.lazy) > 0 && !(lazy = cm_lazy_import_record(u.lazy, o->input, err))) ||
	    write_container(st, stage, id, name, old, ctr_config, image, image_imported, images, o->input,
			    lazy, err) < 0 ||
	    (net_status && save_in(stage, "network.status", net_status, err) < 0) ||
	    (!o->ignore_rootfs && apply_rootfs(st, &u, stage, image, engine != NULL, err) < 0) ||
	    (engine && apply_devshm(&u, stage, err) < 0) || root_mode_as_dumped(stage, staged_images, err) < 0)
		goto fail;
	if (rename(stage, final) < 0) {
		cm_err(err, errno, "store container in %s", final);
		goto fail;
	}
	cm_fsync_dir_of(final);
	cm_rm_rf(staging, NULL);
	cm_debug("import %s: done after %.3fs", what, cm_monotonic_seconds() - t0);
	rec = cm_store_find_ctr(st, id, err);
	/* One line, once it is in (a refusal stays one line): nothing in it
	 * was signed or could be checked against a manifest. */
	if (rec && engine)
		cm_warn("this archive was made by %s: it has no ctrmig.manifest, so a damaged member "
			"could not be told from a sound one", engine);
	goto out;
fail:
	cm_err_wrap(err, "import %s", what);
	if (stage) {
		cm_autofree char *root = cm_path_join(stage, "rootfs");
		umount2(root, MNT_DETACH);
		cm_rm_rf(stage, NULL);
	}
	cm_rm_rf(staging, NULL);
	if (u.mem)
		cm_mem_stage_remove(u.mem, false);
	if (image_imported)
		cm_image_remove(st, cm_json_str(image, "id"), NULL);
out:
	unpacked_free(&u);
	json_decref(config);
	json_decref(spec);
	json_decref(ctr_config);
	json_decref(net_status);
	json_decref(foreign);
	json_decref(image);
	json_decref(lazy);
	return rec;
}
