#include "caps.h"
#include "criu_images.h"
#include "error.h"
#include "util.h"

#include "criu/core.pb-c.h"
#include "criu/fs.pb-c.h"
#include "criu/pagemap.pb-c.h"
#include "criu/pstree.pb-c.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* ---- image files ---------------------------------------------------------- */

/* From CRIU's criu/include/magic.h: every image but the inventory starts with
 * the common magic, then its own. */
#define IMG_COMMON_MAGIC 0x54564319u
#define PSTREE_MAGIC 0x50273030u
#define CORE_MAGIC 0x55053847u
#define PAGEMAP_MAGIC 0x56084025u
#define FS_MAGIC 0x51403912u
#define FILES_MAGIC 0x56303138u

/* A core image holds a few KiB and a pstree entry a few bytes: a file this
 * large is forged, and protobuf-c's allocations stay bounded by it. */
#define IMG_MAX (4u << 20)

/* One image file in memory, and how far its entries have been read. */
struct img {
	char name[48]; /* as errors show it: "checkpoint/core-7.img" */
	unsigned char *buf;
	size_t len, off;
	unsigned entry;
};

static void img_close(struct img *img)
{
	free(img->buf);
	img->buf = NULL;
}
#define autoimg __attribute__((cleanup(img_close)))

static int img_err(struct cm_error *err, const struct img *img, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int img_err(struct cm_error *err, const struct img *img, const char *fmt, ...)
{
	char *msg;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		cm_oom();
	va_end(ap);
	cm_err(err, 0, "%s: %s", img->name, msg);
	free(msg);
	return -1;
}

/* CRIU writes its u32 words in the host's byte order. */
static uint32_t u32_at(const unsigned char *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

/* A memory map has an entry per run of pages: more room, still bounded. */
#define PAGEMAP_MAX (64u << 20)

static int img_open_max(int dirfd, const char *file, uint32_t magic, const char *kind, const char *why,
			size_t max, struct img *img, struct cm_error *err);

/* Reads file and checks its magic; why says, for a missing file, who needs it. */
static int img_open(int dirfd, const char *file, uint32_t magic, const char *kind, const char *why,
		    struct img *img, struct cm_error *err)
{
	return img_open_max(dirfd, file, magic, kind, why, IMG_MAX, img, err);
}

static int img_open_max(int dirfd, const char *file, uint32_t magic, const char *kind, const char *why,
			size_t max, struct img *img, struct cm_error *err)
{
	snprintf(img->name, sizeof(img->name), "checkpoint/%s", file);
	/* No symlink out of the folder, and no fifo to block on. */
	cm_autoclose int fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT)
		return img_err(err, img, "missing; %s", why);
	if (fd < 0)
		return cm_err(err, errno, "%s: open", img->name);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return cm_err(err, errno, "%s: stat", img->name);
	if (!S_ISREG(st.st_mode))
		return img_err(err, img, "not a regular file");
	if ((uint64_t)st.st_size > max)
		return img_err(err, img, "%lld bytes, more than the %zu MiB such an image may have",
			       (long long)st.st_size, max >> 20);
	/* A byte more than fstat said, to notice a file that grows meanwhile. */
	size_t want = (size_t)st.st_size + 1;
	img->buf = cm_malloc(want);
	while (img->len < want) {
		ssize_t r = read(fd, img->buf + img->len, want - img->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return cm_err(err, errno, "%s: read", img->name);
		if (r == 0)
			break;
		img->len += (size_t)r;
	}
	if (img->len == want)
		return img_err(err, img, "grew while being read");
	if (img->len < 8)
		return img_err(err, img, "%zu bytes, too short for its magic", img->len);
	if (u32_at(img->buf) != IMG_COMMON_MAGIC)
		return img_err(err, img, "not a CRIU image (magic 0x%08x)", u32_at(img->buf));
	if (u32_at(img->buf + 4) != magic)
		return img_err(err, img, "not a %s image (magic 0x%08x, expected 0x%08x)", kind,
			       u32_at(img->buf + 4), magic);
	img->off = 8;
	return 0;
}

/* Decodes the next entry, a u32 length and that many bytes of protobuf:
 * 1, or 0 at the end of the file. */
static int img_next(struct img *img, const ProtobufCMessageDescriptor *desc, void *out,
		    struct cm_error *err)
{
	ProtobufCMessage **msg = out;
	size_t left = img->len - img->off;
	*msg = NULL;
	if (!left)
		return 0;
	img->entry++;
	if (left < 4)
		return img_err(err, img, "entry %u: truncated in its length", img->entry);
	uint32_t size = u32_at(img->buf + img->off);
	if (size > left - 4)
		return img_err(err, img, "entry %u: truncated: %u bytes declared, %zu present",
			       img->entry, size, left - 4);
	*msg = protobuf_c_message_unpack(desc, NULL, size, img->buf + img->off + 4);
	if (!*msg) {
		const char *dot = strrchr(desc->name, '.'); /* CRIU's name, without our package */
		return img_err(err, img, "entry %u: not a valid %s", img->entry,
			       dot ? dot + 1 : desc->name);
	}
	img->off += 4 + (size_t)size;
	return 1;
}

static void pb_freep(void *p)
{
	ProtobufCMessage **m = p;
	if (*m)
		protobuf_c_message_free_unpacked(*m, NULL);
}
#define autopb __attribute__((cleanup(pb_freep)))

/* Image strings into one-line messages: printable ASCII, at most len - 1 bytes. */
static void printable(char *out, size_t len, const char *in)
{
	size_t n = 0;
	for (; in && in[n] && n + 1 < len; n++)
		out[n] = in[n] >= 0x20 && in[n] < 0x7f ? in[n] : '?';
	out[n] = '\0';
}

/* ---- the process tree ----------------------------------------------------- */

struct tree {
	CmCriu__PstreeEntry **e; /* in the image's order: parents first */
	size_t n, cap;
	size_t n_threads;
};

static void tree_free(struct tree *t)
{
	for (size_t i = 0; i < t->n; i++)
		cm_criu__pstree_entry__free_unpacked(t->e[i], NULL);
	free(t->e);
}

/* The entry just read, on its own and against the entries before it. */
static int check_entry(const struct img *img, struct tree *t, const struct cm_criu_policy *p,
		       struct cm_error *err)
{
	const CmCriu__PstreeEntry *e = t->e[t->n - 1];
	if (!e->has_pid || !e->pid || e->pid > CM_CRIU_PID_LIMIT)
		return img_err(err, img, "entry %zu has no valid pid", t->n);
	if (!e->has_ppid)
		return img_err(err, img, "task %u has no parent pid", e->pid);
	if (!e->n_threads)
		return img_err(err, img, "task %u lists no threads", e->pid);
	/* A zombie's one thread id is whatever CRIU's dump left there: its core
	 * image (by its pid) must then say it is dead (check_task). */
	if (e->threads[0] != e->pid && e->n_threads != 1)
		return img_err(err, img, "task %u lists thread %u first, not itself", e->pid,
			       e->threads[0]);
	for (size_t i = 1; i < e->n_threads; i++)
		if (!e->threads[i] || e->threads[i] > CM_CRIU_PID_LIMIT)
			return img_err(err, img, "task %u lists thread %u, not a valid pid", e->pid,
				       e->threads[i]);
	t->n_threads += e->n_threads;
	if (t->n_threads > p->max_tasks)
		return img_err(err, img, "more than %u tasks, threads counted: more than this container may run",
			       p->max_tasks);
	if (t->n > 1) {
		if (!e->ppid)
			return img_err(err, img, "task %u has no parent, but only the first task is the root",
				       e->pid);
		return 0;
	}
	if (e->ppid)
		return img_err(err, img, "the first task, %u, has parent %u: the root must come first",
			       e->pid, e->ppid);
	if (p->private_pidns && e->pid != 1)
		return img_err(err, img, "the root task is %u, not 1 as in the container's own pid namespace",
			       e->pid);
	return 0;
}

struct pid_at {
	uint32_t pid;
	size_t index;
};

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static int cmp_pid_at(const void *a, const void *b)
{
	return cmp_u32(&((const struct pid_at *)a)->pid, &((const struct pid_at *)b)->pid);
}

/* Each pid and tid once; each parent an earlier task, as CRIU reads the tree,
 * which also rules out cycles. Sorted, for trees of thousands. */
static int check_links(const struct img *img, const struct tree *t, struct cm_error *err)
{
	cm_autofree uint32_t *ids = cm_malloc(t->n_threads * sizeof(*ids));
	size_t n = 0;
	for (size_t i = 0; i < t->n; i++)
		for (size_t j = 0; j < t->e[i]->n_threads; j++)
			ids[n++] = t->e[i]->threads[j];
	qsort(ids, n, sizeof(*ids), cmp_u32);
	for (size_t i = 1; i < n; i++)
		if (ids[i] == ids[i - 1])
			return img_err(err, img, "pid %u appears twice", ids[i]);

	cm_autofree struct pid_at *by_pid = cm_malloc(t->n * sizeof(*by_pid));
	for (size_t i = 0; i < t->n; i++)
		by_pid[i] = (struct pid_at){ t->e[i]->pid, i };
	qsort(by_pid, t->n, sizeof(*by_pid), cmp_pid_at);
	for (size_t i = 1; i < t->n; i++) {
		struct pid_at key = { t->e[i]->ppid, 0 };
		const struct pid_at *parent =
			bsearch(&key, by_pid, t->n, sizeof(*by_pid), cmp_pid_at);
		if (!parent || parent->index >= i)
			return img_err(err, img, "task %u has parent %u, which is not an earlier task of the tree",
				       t->e[i]->pid, key.pid);
	}
	return 0;
}

static int read_tree(int dirfd, const struct cm_criu_policy *p, struct tree *t,
		     struct cm_error *err)
{
	autoimg struct img img = { 0 };
	if (img_open(dirfd, "pstree.img", PSTREE_MAGIC, "pstree", "every CRIU dump has one", &img,
		     err) < 0)
		return -1;
	CmCriu__PstreeEntry *e;
	int r;
	while ((r = img_next(&img, &cm_criu__pstree_entry__descriptor, &e, err)) > 0) {
		if (t->n == t->cap)
			t->e = cm_realloc(t->e, (t->cap = t->cap ? 2 * t->cap : 16) * sizeof(*t->e));
		t->e[t->n++] = e;
		if (check_entry(&img, t, p, err) < 0)
			return -1;
	}
	if (r < 0)
		return -1;
	if (!t->n)
		return img_err(err, &img, "holds no tasks");
	return check_links(&img, t, err);
}

/* ---- each thread's core image --------------------------------------------- */

#if defined(__x86_64__)
#define HOST_MARCH CM_CRIU__CORE_ENTRY__MARCH__X86_64
#elif defined(__aarch64__)
#define HOST_MARCH CM_CRIU__CORE_ENTRY__MARCH__AARCH64
#elif defined(__powerpc64__)
#define HOST_MARCH CM_CRIU__CORE_ENTRY__MARCH__PPC64
#elif defined(__s390x__)
#define HOST_MARCH CM_CRIU__CORE_ENTRY__MARCH__S390
#elif defined(__riscv) && __riscv_xlen == 64
#define HOST_MARCH CM_CRIU__CORE_ENTRY__MARCH__RISCV64
#elif defined(__loongarch64)
#define HOST_MARCH CM_CRIU__CORE_ENTRY__MARCH__LOONGARCH64
#elif defined(__mips__)
#define HOST_MARCH CM_CRIU__CORE_ENTRY__MARCH__MIPS
#elif defined(__arm__)
#define HOST_MARCH CM_CRIU__CORE_ENTRY__MARCH__ARM
#else
#define HOST_MARCH CM_CRIU__CORE_ENTRY__MARCH__UNKNOWN
#endif

/* compel's TASK_DEAD: a zombie, which CRIU restores only to exit, without
 * its credentials or limits. */
#define TASK_DEAD 2

static const char *march_name(int m)
{
	const ProtobufCEnumValue *v =
		protobuf_c_enum_descriptor_get_value(&cm_criu__core_entry__march__descriptor, m);
	return v && m ? v->name : "an unknown architecture";
}

/* Which thread an error is about: "task 7 (sh)" or "thread 9 of task 7 (sh)". */
struct who {
	char s[80];
};

static int check_caps(const struct img *img, const struct who *w, const char *set,
		      const uint32_t *words, size_t n, uint64_t granted, struct cm_error *err)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t ok = i < 2 ? (uint32_t)(granted >> (32 * i)) : 0;
		uint32_t extra = words[i] & ~ok;
		if (!extra)
			continue;
		unsigned cap = 32 * (unsigned)i + (unsigned)__builtin_ctz(extra);
		const char *name = cm_cap_name(cap);
		if (name)
			return img_err(err, img, "%s holds %s in its %s set, which the container's config does not grant",
				       w->s, name, set);
		return img_err(err, img, "%s holds capability %u in its %s set, which the container's config does not grant",
			       w->s, cap, set);
	}
	return 0;
}

static int check_ids(const struct img *img, const struct who *w, const CmCriu__CredsEntry *c,
		     const struct cm_criu_policy *p, struct cm_error *err)
{
	/* In the image's field order: uids at even places, gids at odd. */
	static const char *const names[] = { "uid", "gid", "euid", "egid", "suid", "sgid", "fsuid", "fsgid" };
	const bool has[] = { c->has_uid, c->has_gid, c->has_euid, c->has_egid,
			     c->has_suid, c->has_sgid, c->has_fsuid, c->has_fsgid };
	const uint32_t id[] = { c->uid, c->gid, c->euid, c->egid, c->suid, c->sgid, c->fsuid, c->fsgid };
	for (size_t i = 0; i < 8; i++) {
		if (!has[i])
			return img_err(err, img, "%s has credentials without a %s", w->s, names[i]);
		if (id[i] == 0 && i % 2 == 0 && !p->root_user)
			return img_err(err, img, "%s has %s 0, but the container's user is not root",
				       w->s, names[i]);
		if (id[i] == 0 && i % 2 == 1 && !p->root_group)
			return img_err(err, img, "%s has %s 0, but the container's groups do not include root",
				       w->s, names[i]);
	}
	for (size_t i = 0; i < c->n_groups && !p->root_group; i++)
		if (c->groups[i] == 0)
			return img_err(err, img, "%s has supplementary group 0, but the container's groups do not include root",
				       w->s);
	return 0;
}

static int check_creds(const struct img *img, const struct who *w, const CmCriu__CredsEntry *c,
		       const struct cm_criu_policy *p, struct cm_error *err)
{
	if (check_ids(img, w, c, p, err) < 0 ||
	    check_caps(img, w, "inheritable", c->cap_inh, c->n_cap_inh, p->caps, err) < 0 ||
	    check_caps(img, w, "permitted", c->cap_prm, c->n_cap_prm, p->caps, err) < 0 ||
	    check_caps(img, w, "effective", c->cap_eff, c->n_cap_eff, p->caps, err) < 0 ||
	    check_caps(img, w, "bounding", c->cap_bnd, c->n_cap_bnd, p->caps, err) < 0 ||
	    check_caps(img, w, "ambient", c->cap_amb, c->n_cap_amb, p->caps, err) < 0)
		return -1;
	if (p->no_new_privs && !(c->has_no_new_privs && c->no_new_privs))
		return img_err(err, img, "%s lacks no_new_privs, which the container's config sets",
			       w->s);
	/* CRIU records no profile for an unconfined process (nor with no LSM). */
	const char *lsm = c->lsm_profile;
	if (lsm && *lsm && !(p->lsm_profile && !strcmp(lsm, p->lsm_profile))) {
		char shown[80];
		printable(shown, sizeof(shown), lsm);
		return img_err(err, img, "%s has LSM profile \"%s\", which the container's config does not name",
			       w->s, shown);
	}
	if (c->lsm_sockcreate && *c->lsm_sockcreate) {
		char shown[80];
		printable(shown, sizeof(shown), c->lsm_sockcreate);
		return img_err(err, img, "%s has LSM socket label \"%s\", which the container's config does not set",
			       w->s, shown);
	}
	return 0;
}

static void show_limit(char out[24], uint64_t v)
{
	if (v == UINT64_MAX)
		snprintf(out, 24, "unlimited");
	else
		snprintf(out, 24, "%llu", (unsigned long long)v);
}

static int check_rlimits(const struct img *img, const struct who *w,
			 const CmCriu__TaskRlimitsEntry *rl, const struct cm_criu_policy *p,
			 struct cm_error *err)
{
	/* Without them CRIU would read an old-style rlimit image instead. */
	if (!rl)
		return img_err(err, img, "%s holds no resource limits", w->s);
	if (rl->n_rlimits > CM_CRIU_NLIMITS)
		return img_err(err, img, "%s holds %zu resource limits; Linux has %d", w->s,
			       rl->n_rlimits, CM_CRIU_NLIMITS);
	for (unsigned r = 0; r < rl->n_rlimits; r++) {
		const CmCriu__RlimitEntry *e = rl->rlimits[r];
		if (!e->has_cur || !e->has_max)
			return img_err(err, img, "%s holds %s without a %s limit", w->s, cm_criu_rlimit_name(r),
				       e->has_cur ? "hard" : "soft");
		bool hard = e->max > p->rlimit_max[r];
		if (!hard && e->cur <= p->rlimit_max[r])
			continue;
		char have[24], may[24];
		show_limit(have, hard ? e->max : e->cur);
		show_limit(may, p->rlimit_max[r]);
		return img_err(err, img, "%s has a %s %s limit of %s, above the container's %s", w->s,
			       hard ? "hard" : "soft", cm_criu_rlimit_name(r), have, may);
	}
	return 0;
}

/* One thread's core image; the leader's (first) also carries the task's state
 * and its name, which comm receives for the other threads' messages. */
static int check_core(const struct img *img, const CmCriu__CoreEntry *core, uint32_t pid,
		      uint32_t tid, char comm[16], const struct cm_criu_policy *p,
		      struct cm_error *err)
{
	bool leader = tid == pid;
	if (!core->has_mtype)
		return img_err(err, img, "names no architecture");
	if (core->mtype != HOST_MARCH)
		return img_err(err, img, "dumped on %s, but this host is %s", march_name(core->mtype),
			       march_name(HOST_MARCH));
	const CmCriu__TaskCoreEntry *tc = core->tc;
	if (leader) {
		if (!tc)
			return img_err(err, img, "task %u holds no task state", pid);
		printable(comm, 16, tc->comm ? tc->comm : "?");
		if (tc->has_task_state && tc->task_state == TASK_DEAD)
			return 0;
	}
	struct who w;
	if (leader)
		snprintf(w.s, sizeof(w.s), "task %u (%s)", pid, comm);
	else
		snprintf(w.s, sizeof(w.s), "thread %u of task %u (%s)", tid, pid, comm);

	const CmCriu__ThreadCoreEntry *th = core->thread_core;
	if (!th || !th->creds)
		return img_err(err, img, "%s holds no credentials; CRIU would leave it its own, root's",
			       w.s);
	if (check_creds(img, &w, th->creds, p, err) < 0)
		return -1;
	/* As CRIU does, a per-task mode of an old image overrides the leader's own. */
	int mode = leader && tc->has_old_seccomp_mode ? (int)tc->old_seccomp_mode
		   : th->has_seccomp_mode		 ? (int)th->seccomp_mode
							 : CM_CRIU__SECCOMP_MODE__disabled;
	if (p->seccomp && mode != CM_CRIU__SECCOMP_MODE__filter)
		return img_err(err, img, "%s is not in seccomp filter mode (mode %d), which the container's config requires",
			       w.s, mode);
	if (leader)
		return check_rlimits(img, &w, tc->rlimits, p, err);
	return 0;
}

static int check_task(int dirfd, const CmCriu__PstreeEntry *e, const struct cm_criu_policy *p,
		      struct cm_error *err)
{
	char comm[16] = "?";
	for (size_t i = 0; i < e->n_threads; i++) {
		uint32_t tid = i == 0 ? e->pid : e->threads[i];
		char file[32], why[64];
		snprintf(file, sizeof(file), "core-%u.img", tid);
		if (i == 0)
			snprintf(why, sizeof(why), "pstree.img lists task %u", tid);
		else
			snprintf(why, sizeof(why), "pstree.img lists thread %u of task %u", tid, e->pid);
		autoimg struct img img = { 0 };
		if (img_open(dirfd, file, CORE_MAGIC, "core", why, &img, err) < 0)
			return -1;
		autopb CmCriu__CoreEntry *core = NULL;
		int r = img_next(&img, &cm_criu__core_entry__descriptor, &core, err);
		if (r < 0)
			return -1;
		if (r == 0)
			return img_err(err, &img, "holds no entry");
		if (img.off != img.len)
			return img_err(err, &img, "holds more than one entry");
		if (i == 0 && e->threads[0] != e->pid &&
		    !(core->tc && core->tc->has_task_state && core->tc->task_state == TASK_DEAD))
			return img_err(err, &img, "task %u lists thread %u first, not itself, and is no zombie",
				       e->pid, e->threads[0]);
		if (check_core(&img, core, e->pid, tid, comm, p, err) < 0)
			return -1;
	}
	return 0;
}

/* ---- memory maps ---------------------------------------------------------- */

#define PE_PARENT (1u << 0)
#define PE_PRESENT (1u << 2)

#define PE_LAZY (1u << 1)

/* The runs of a memory map, *bytes (if not NULL): how much of the pages
 * file they take, as CRIU reads it, and *remote (if not NULL): the pages
 * that are in no file, only lazy (a dump with --lazy-pages left them at
 * its page server). */
static int pagemap_read(int dirfd, const char *file, uint32_t *pages_id, struct cm_page_run **runs,
			size_t *n_runs, uint64_t *bytes, uint64_t *remote, struct cm_error *err)
{
	*runs = NULL;
	*n_runs = 0;
	autoimg struct img img = { 0 };
	if (img_open_max(dirfd, file, PAGEMAP_MAGIC, "pagemap", "", PAGEMAP_MAX, &img, err) < 0)
		return -1;
	__attribute__((cleanup(pb_freep))) CmCriu__PagemapHead *head = NULL;
	int r = img_next(&img, &cm_criu__pagemap_head__descriptor, &head, err);
	if (r <= 0)
		return r < 0 ? -1 : img_err(err, &img, "no head entry");
	if (!head->has_pages_id)
		return img_err(err, &img, "its head names no pages file");
	*pages_id = head->pages_id;
	size_t cap = 0;
	uint64_t offset = 0, page = (uint64_t)sysconf(_SC_PAGESIZE);
	for (;;) {
		__attribute__((cleanup(pb_freep))) CmCriu__PagemapEntry *e = NULL;
		r = img_next(&img, &cm_criu__pagemap_entry__descriptor, &e, err);
		if (r <= 0)
			break;
		uint64_t nr = e->has_nr_pages ? e->nr_pages : e->compat_nr_pages;
		/* CRIU's init_compat_pagemap_entry: in_parent adds PE_PARENT;
		 * an entry without flags is present */
		uint32_t flags = e->has_flags ? e->flags : 0;
		if (e->has_in_parent && e->in_parent)
			flags |= PE_PARENT;
		else if (!e->has_flags)
			flags = PE_PRESENT;
		if (nr > (1ull << 40) || e->vaddr % page || e->vaddr > UINT64_MAX - nr * page) {
			r = img_err(err, &img, "entry %u: %llu pages at 0x%llx", img.entry,
				    (unsigned long long)nr, (unsigned long long)e->vaddr);
			break;
		}
		/* CRIU writes present, in the parent, or lazy at its page server;
		 * both present and in the parent it reads one way and counts
		 * offsets another (pagemap.c): no dump of its has that. */
		if ((flags & PE_PRESENT) && (flags & PE_PARENT)) {
			r = img_err(err, &img, "entry %u: pages both in this file and in the parent", img.entry);
			break;
		}
		if (remote && (flags & (PE_PRESENT | PE_PARENT | PE_LAZY)) == PE_LAZY)
			*remote += nr;
		if (!(flags & PE_PRESENT))
			continue;
		if (*n_runs == cap) {
			cap = cap ? 2 * cap : 64;
			*runs = cm_realloc(*runs, cap * sizeof(**runs));
		}
		(*runs)[(*n_runs)++] = (struct cm_page_run){ e->vaddr, nr, offset, (flags & PE_LAZY) != 0 };
		offset += nr * page;
	}
	if (r < 0) {
		free(*runs);
		*runs = NULL;
		*n_runs = 0;
		return -1;
	}
	if (bytes)
		*bytes = offset;
	return 0;
}

int cm_criu_pagemap_runs(int dirfd, const char *file, uint32_t *pages_id, struct cm_page_run **runs,
			 size_t *n_runs, struct cm_error *err)
{
	return pagemap_read(dirfd, file, pages_id, runs, n_runs, NULL, NULL, err);
}

/* The pages a memory map says pages-<id>.img holds must be there: CRIU 4.2
 * given a pages file cut short spins at full CPU and never returns. Pages
 * in no file at all only a restore from a page server may have. */
static int check_pagemap(int dirfd, const char *file, bool remote_pages, struct cm_error *err)
{
	uint32_t id;
	cm_autofree struct cm_page_run *runs = NULL;
	size_t n;
	uint64_t need, remote = 0;
	if (pagemap_read(dirfd, file, &id, &runs, &n, &need, &remote, err) < 0)
		return -1;
	if (remote && !remote_pages)
		return cm_err(err, 0, "checkpoint/%s: %llu pages are in no file (dumped for a page server, "
				      "as migrate --lazy does), and this restore has none", file,
			      (unsigned long long)remote);
	char pages_file[48];
	snprintf(pages_file, sizeof(pages_file), "pages-%u.img", id);
	struct stat st;
	if (fstatat(dirfd, pages_file, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
		return need ? cm_err(err, 0, "checkpoint/%s: its pages file %s is missing", file, pages_file) : 0;
	if ((uint64_t)st.st_size < need)
		return cm_err(err, 0, "checkpoint/%s: %llu bytes of pages, but %s holds %lld", file,
			      (unsigned long long)need, pages_file, (long long)st.st_size);
	return 0;
}

int cm_criu_each_pagemap(int dirfd, int (*fn)(int dirfd, const char *file, void *arg), void *arg,
			 struct cm_error *err)
{
	int dup = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	DIR *d = dup >= 0 ? fdopendir(dup) : NULL;
	if (!d) {
		if (dup >= 0)
			close(dup);
		return cm_err(err, errno, "read the checkpoint folder");
	}
	struct dirent *de;
	int ret = 0;
	while (ret == 0 && (de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (!strncmp(de->d_name, "pagemap-", 8) && n > 12 && !strcmp(de->d_name + n - 4, ".img") &&
		    n < 40)
			ret = fn(dirfd, de->d_name, arg);
	}
	closedir(d);
	return ret;
}

struct pagemaps_check {
	bool remote_pages;
	struct cm_error *err;
};

static int check_one_pagemap(int dirfd, const char *file, void *arg)
{
	struct pagemaps_check *c = arg;
	return check_pagemap(dirfd, file, c->remote_pages, c->err);
}

int cm_criu_images_check(const char *image_dir, const struct cm_criu_policy *p,
			 struct cm_error *err)
{
	cm_autoclose int dirfd = open(image_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return cm_err(err, errno, "open %s", image_dir);
	__attribute__((cleanup(tree_free))) struct tree t = { 0 };
	if (read_tree(dirfd, p, &t, err) < 0)
		return -1;
	for (size_t i = 0; i < t.n; i++)
		if (check_task(dirfd, t.e[i], p, err) < 0)
			return -1;
	struct pagemaps_check pc = { p->remote_pages, err };
	if (cm_criu_each_pagemap(dirfd, check_one_pagemap, &pc, err) < 0)
		return -1;
	return (int)t.n;
}

int cm_criu_images_root_mode(const char *image_dir, uint32_t *mode, struct cm_error *err)
{
	cm_autoclose int dirfd = open(image_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return cm_err(err, errno, "open %s", image_dir);
	struct img img = { 0 };
	autopb CmCriu__PstreeEntry *e = NULL;
	int ret = img_open(dirfd, "pstree.img", PSTREE_MAGIC, "pstree", "every CRIU dump has one", &img, err);
	if (ret == 0 && img_next(&img, &cm_criu__pstree_entry__descriptor, &e, err) <= 0)
		ret = err->msg ? -1 : img_err(err, &img, "no task");
	img_close(&img);
	if (ret < 0)
		return -1;
	char fs_name[32];
	snprintf(fs_name, sizeof(fs_name), "fs-%u.img", e->has_pid ? e->pid : 0);
	struct img fs = { 0 };
	autopb CmCriu__FsEntry *f = NULL;
	ret = img_open(dirfd, fs_name, FS_MAGIC, "fs", "the first task's root", &fs, err);
	if (ret == 0 && img_next(&fs, &cm_criu__fs_entry__descriptor, &f, err) <= 0)
		ret = err->msg ? -1 : img_err(err, &fs, "empty");
	img_close(&fs);
	if (ret < 0 || !f->has_root_id)
		return ret < 0 ? -1 : cm_err(err, 0, "checkpoint/%s: no root", fs_name);
	struct img files = { 0 };
	ret = img_open(dirfd, "files.img", FILES_MAGIC, "files", "the root's entry", &files, err);
	int found = 0;
	while (ret == 0 && !found) {
		autopb CmCriu__FileEntry *fe = NULL;
		int r = img_next(&files, &cm_criu__file_entry__descriptor, &fe, err);
		if (r <= 0) {
			ret = r < 0 ? -1 : img_err(err, &files, "no entry for the root (id %u)", f->root_id);
			break;
		}
		if (fe->has_id && fe->id == f->root_id && fe->reg && fe->reg->has_mode) {
			*mode = fe->reg->mode;
			found = 1;
		}
	}
	img_close(&files);
	return ret;
}
