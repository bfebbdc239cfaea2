#include "caps.h"
#include "criu_images.h"
#include "error.h"
#include "oci_spec.h"
#include "tap.h"
#include "util.h"

#include "criu/core.pb-c.h"
#include "criu/pagemap.pb-c.h"
#include "criu/pstree.pb-c.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>

#define IMG_COMMON_MAGIC 0x54564319u
#define PSTREE_MAGIC 0x50273030u
#define CORE_MAGIC 0x55053847u

#if defined(__x86_64__)
#define HOST_MARCH CM_CRIU__CORE_ENTRY__MARCH__X86_64
#define OTHER_MARCH CM_CRIU__CORE_ENTRY__MARCH__AARCH64
#define OTHER_NAME "AARCH64"
#elif defined(__aarch64__)
#define HOST_MARCH CM_CRIU__CORE_ENTRY__MARCH__AARCH64
#define OTHER_MARCH CM_CRIU__CORE_ENTRY__MARCH__X86_64
#define OTHER_NAME "X86_64"
#else
#error "name this host's CRIU architecture here"
#endif

#define CAP_CHOWN_BIT (1u << 0)
#define CAP_KILL_BIT (1u << 5)

/* ---- images built the way CRIU writes them ------------------------------- */

/* The messages of one core image, as a healthy task of the test policy has them. */
struct core {
	uint32_t tid;
	CmCriu__CoreEntry core;
	CmCriu__TaskCoreEntry tc;
	CmCriu__ThreadCoreEntry th;
	CmCriu__CredsEntry creds;
	CmCriu__TaskRlimitsEntry rls;
	CmCriu__RlimitEntry rl[CM_CRIU_NLIMITS], *rlp[CM_CRIU_NLIMITS];
	uint32_t caps[5][3]; /* inh, prm, eff, bnd, amb: two words, room for a third */
};

static void core_init(struct core *c, uint32_t tid, const char *comm, bool leader)
{
	memset(c, 0, sizeof(*c));
	c->tid = tid;
	cm_criu__core_entry__init(&c->core);
	c->core.has_mtype = true;
	c->core.mtype = HOST_MARCH;
	c->core.thread_core = &c->th;
	cm_criu__thread_core_entry__init(&c->th);
	c->th.has_seccomp_mode = true;
	c->th.seccomp_mode = CM_CRIU__SECCOMP_MODE__filter;
	c->th.creds = &c->creds;

	CmCriu__CredsEntry *cr = &c->creds;
	cm_criu__creds_entry__init(cr);
	cr->has_uid = cr->has_gid = cr->has_euid = cr->has_egid = true;
	cr->has_suid = cr->has_sgid = cr->has_fsuid = cr->has_fsgid = true;
	cr->uid = cr->euid = cr->suid = cr->fsuid = 1000;
	cr->gid = cr->egid = cr->sgid = cr->fsgid = 1000;
	uint32_t **sets[] = { &cr->cap_inh, &cr->cap_prm, &cr->cap_eff, &cr->cap_bnd, &cr->cap_amb };
	size_t *counts[] = { &cr->n_cap_inh, &cr->n_cap_prm, &cr->n_cap_eff, &cr->n_cap_bnd,
			     &cr->n_cap_amb };
	for (int s = 0; s < 5; s++) {
		*sets[s] = c->caps[s];
		*counts[s] = 2;
	}
	c->caps[1][0] = c->caps[2][0] = c->caps[3][0] = CAP_CHOWN_BIT | CAP_KILL_BIT;
	cr->has_no_new_privs = true;
	cr->no_new_privs = 1;
	/* The leader as confined as the spec says, its thread with no profile recorded. */
	cr->lsm_profile = leader ? "ctrmig-test" : NULL;
	if (!leader)
		return;

	c->core.tc = &c->tc;
	cm_criu__task_core_entry__init(&c->tc);
	c->tc.has_task_state = true;
	c->tc.task_state = 1;
	c->tc.comm = (char *)comm;
	c->tc.rlimits = &c->rls;
	cm_criu__task_rlimits_entry__init(&c->rls);
	c->rls.n_rlimits = CM_CRIU_NLIMITS;
	c->rls.rlimits = c->rlp;
	for (int r = 0; r < CM_CRIU_NLIMITS; r++) {
		cm_criu__rlimit_entry__init(&c->rl[r]);
		c->rl[r].has_cur = c->rl[r].has_max = true;
		c->rl[r].cur = c->rl[r].max = r == RLIMIT_NOFILE ? 1024 : UINT64_MAX;
		c->rlp[r] = &c->rl[r];
	}
}

/* A healthy tree: sh (pid 1, threads 1 and 2) and its child sleep (pid 5). */
static struct {
	CmCriu__PstreeEntry e[3];
	uint32_t threads[3][2];
	size_t n;
	struct core cores[3];
	size_t n_cores;
} f;

static void entry(size_t i, uint32_t pid, uint32_t ppid, uint32_t t0, uint32_t t1)
{
	CmCriu__PstreeEntry *e = &f.e[i];
	cm_criu__pstree_entry__init(e);
	e->has_pid = e->has_ppid = e->has_pgid = e->has_sid = true;
	e->pid = pid;
	e->ppid = ppid;
	e->pgid = e->sid = 1;
	f.threads[i][0] = t0;
	f.threads[i][1] = t1;
	e->threads = f.threads[i];
	e->n_threads = t1 ? 2 : 1;
	if (f.n < i + 1)
		f.n = i + 1;
}

static void fix_init(void)
{
	memset(&f, 0, sizeof(f));
	entry(0, 1, 0, 1, 2);
	entry(1, 5, 1, 5, 0);
	core_init(&f.cores[0], 1, "sh", true);
	core_init(&f.cores[1], 2, "sh", false);
	core_init(&f.cores[2], 5, "sleep", true);
	f.n_cores = 3;
}

/* Magic words, then each message as a u32 length and its bytes. */
static void write_img(const char *dir, const char *file, uint32_t magic,
		      const ProtobufCMessage *const *msgs, size_t n)
{
	cm_autofree char *path = cm_path_join(dir, file);
	FILE *out = fopen(path, "wb");
	uint32_t head[2] = { IMG_COMMON_MAGIC, magic };
	fwrite(head, sizeof(head[0]), 2, out);
	for (size_t i = 0; i < n; i++) {
		uint32_t len = (uint32_t)protobuf_c_message_get_packed_size(msgs[i]);
		cm_autofree uint8_t *buf = cm_malloc(len + 1);
		protobuf_c_message_pack(msgs[i], buf);
		fwrite(&len, sizeof(len), 1, out);
		fwrite(buf, 1, len, out);
	}
	fclose(out);
}

static char *root_dir;

/* Writes the fixture into a folder of its own, returned. */
static char *fix_write(void)
{
	static int n;
	char name[32];
	snprintf(name, sizeof(name), "case-%d", ++n);
	char *dir = cm_path_join(root_dir, name);
	mkdir(dir, 0700);
	const ProtobufCMessage *msgs[3];
	for (size_t i = 0; i < f.n; i++)
		msgs[i] = &f.e[i].base;
	write_img(dir, "pstree.img", PSTREE_MAGIC, msgs, f.n);
	for (size_t i = 0; i < f.n_cores; i++) {
		char file[32];
		snprintf(file, sizeof(file), "core-%u.img", f.cores[i].tid);
		const ProtobufCMessage *m = &f.cores[i].core.base;
		write_img(dir, file, CORE_MAGIC, &m, 1);
	}
	return dir;
}

static char *zeros(size_t n)
{
	char *p = cm_malloc(n ? n : 1);
	memset(p, 0, n);
	return p;
}

static void raw_file(const char *dir, const char *file, const void *data, size_t len)
{
	cm_autofree char *path = cm_path_join(dir, file);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (write(fd, data, len) != (ssize_t)len)
		printf("# short write to %s\n", path);
	close(fd);
}

/* ---- checks -------------------------------------------------------------- */

static struct cm_criu_policy pol;

static void pol_init(void)
{
	memset(&pol, 0, sizeof(pol));
	pol.caps = CAP_CHOWN_BIT | CAP_KILL_BIT;
	pol.no_new_privs = pol.seccomp = pol.private_pidns = true;
	for (int r = 0; r < CM_CRIU_NLIMITS; r++)
		pol.rlimit_max[r] = r == RLIMIT_NOFILE ? 1024 : UINT64_MAX;
	pol.lsm_profile = "ctrmig-test";
	pol.max_tasks = 16;
}

static void refused_in(const char *dir, const char *want, const char *name)
{
	struct cm_error err = { 0 };
	int n = cm_criu_images_check(dir, &pol, &err);
	bool good = n < 0 && err.msg && strstr(err.msg, want);
	ok(good, "%s", name);
	if (!good)
		printf("#   got: %d %s\n#  want: %s\n", n, err.msg ? err.msg : "(no error)", want);
	cm_error_clear(&err);
}

/* The fixture as changed since fix_init is refused with a message holding want;
 * then the fixture and the policy are healthy again. */
static void refused(const char *want, const char *name)
{
	cm_autofree char *dir = fix_write();
	refused_in(dir, want, name);
	fix_init();
	pol_init();
}

static void passes(const char *name)
{
	cm_autofree char *dir = fix_write();
	struct cm_error err = { 0 };
	int n = cm_criu_images_check(dir, &pol, &err);
	ok(n == (int)f.n, "%s", name);
	if (n != (int)f.n)
		printf("#   got: %d %s\n", n, err.msg ? err.msg : "");
	cm_error_clear(&err);
	fix_init();
	pol_init();
}

static void test_credentials(void)
{
	static const char *const sets[] = { "inheritable", "permitted", "effective", "bounding",
					    "ambient" };
	for (int s = 0; s < 5; s++) {
		f.cores[2].caps[s][0] |= 1u << 21;
		char want[160], name[80];
		snprintf(want, sizeof(want),
			 "checkpoint/core-5.img: task 5 (sleep) holds CAP_SYS_ADMIN in its %s set, which the container's config does not grant",
			 sets[s]);
		snprintf(name, sizeof(name), "an extra capability in the %s set is refused", sets[s]);
		refused(want, name);
	}
	f.cores[1].caps[2][1] = 1u << (40 - 32);
	refused("checkpoint/core-2.img: thread 2 of task 1 (sh) holds CAP_CHECKPOINT_RESTORE in its effective set",
		"a thread's capability in the high word is named");
	f.cores[0].creds.n_cap_bnd = 3;
	f.cores[0].caps[3][2] = 1;
	refused("holds capability 64 in its bounding set", "a capability past 63 is refused");

	f.cores[2].creds.has_no_new_privs = false;
	refused("checkpoint/core-5.img: task 5 (sleep) lacks no_new_privs, which the container's config sets",
		"missing no_new_privs is refused");
	f.cores[2].creds.has_no_new_privs = false;
	pol.no_new_privs = false;
	passes("no_new_privs may be missing when the config does not set it");

	f.cores[1].th.has_seccomp_mode = false;
	refused("checkpoint/core-2.img: thread 2 of task 1 (sh) is not in seccomp filter mode (mode 0)",
		"a thread without seccomp is refused");
	f.cores[0].tc.has_old_seccomp_mode = true;
	refused("task 1 (sh) is not in seccomp filter mode (mode 0)",
		"an old image's per-task mode overrides the thread's, as in CRIU");
	f.cores[0].th.has_seccomp_mode = false;
	f.cores[0].tc.has_old_seccomp_mode = true;
	f.cores[0].tc.old_seccomp_mode = CM_CRIU__SECCOMP_MODE__filter;
	passes("an old image's per-task filter mode counts");
	f.cores[2].th.has_seccomp_mode = false;
	pol.seccomp = false;
	passes("seccomp may be off when the config has no profile");

	f.cores[2].creds.euid = 0;
	refused("checkpoint/core-5.img: task 5 (sleep) has euid 0, but the container's user is not root",
		"uid 0 is refused for a non-root spec");
	f.cores[2].creds.fsgid = 0;
	refused("task 5 (sleep) has fsgid 0, but the container's groups do not include root",
		"gid 0 is refused for a non-root spec");
	static uint32_t groups[] = { 1000, 0 };
	f.cores[2].creds.groups = groups;
	f.cores[2].creds.n_groups = 2;
	refused("has supplementary group 0", "supplementary group 0 is refused for a non-root spec");
	f.cores[2].creds.uid = f.cores[2].creds.gid = 0;
	pol.root_user = pol.root_group = true;
	passes("uid and gid 0 pass for a root spec");
	f.cores[2].creds.has_suid = false;
	refused("task 5 (sleep) has credentials without a suid", "credentials missing an id are refused");

	f.cores[2].creds.lsm_profile = "unconfined";
	refused("checkpoint/core-5.img: task 5 (sleep) has LSM profile \"unconfined\", which the container's config does not name",
		"a foreign LSM profile is refused");
	f.cores[0].creds.lsm_profile = "evil\nprofile";
	refused("has LSM profile \"evil?profile\"", "an LSM profile is shown on one line");
	pol.lsm_profile = NULL;
	refused("task 1 (sh) has LSM profile \"ctrmig-test\"",
		"any profile is refused when the spec names none");
	f.cores[0].creds.lsm_profile = "";
	f.cores[2].creds.lsm_profile = "";
	pol.lsm_profile = NULL;
	passes("an empty LSM profile is no profile");
	f.cores[2].creds.lsm_sockcreate = "system_u:system_r:spc_t:s0";
	refused("has LSM socket label \"system_u:system_r:spc_t:s0\"", "an LSM socket label is refused");

	f.cores[1].th.creds = NULL;
	refused("checkpoint/core-2.img: thread 2 of task 1 (sh) holds no credentials; CRIU would leave it its own, root's",
		"a thread without credentials is refused");
	f.cores[2].core.thread_core = NULL;
	refused("checkpoint/core-5.img: task 5 (sleep) holds no credentials", "a core without thread state is refused");
	f.cores[2].core.thread_core = NULL;
	f.cores[2].tc.task_state = 2;
	passes("a zombie needs no credentials: CRIU only makes it exit");
}

static void test_rlimits_and_core(void)
{
	f.cores[0].rl[RLIMIT_NOFILE].max = 4096;
	refused("checkpoint/core-1.img: task 1 (sh) has a hard RLIMIT_NOFILE limit of 4096, above the container's 1024",
		"a hard limit above the ceiling is refused");
	f.cores[2].rl[RLIMIT_NOFILE].cur = UINT64_MAX;
	refused("task 5 (sleep) has a soft RLIMIT_NOFILE limit of unlimited, above the container's 1024",
		"a soft limit above the ceiling is refused");
	pol.rlimit_max[RLIMIT_NOFILE] = UINT64_MAX;
	f.cores[0].rl[RLIMIT_NOFILE].max = UINT64_MAX;
	passes("no ceiling: any limit");
	f.cores[0].rls.n_rlimits = 3;
	passes("fewer limits than Linux has pass");
	f.cores[0].tc.rlimits = NULL;
	refused("checkpoint/core-1.img: task 1 (sh) holds no resource limits", "a task without limits is refused");
	f.cores[0].rl[3].has_max = false;
	refused("task 1 (sh) holds RLIMIT_STACK without a hard limit", "a limit without its hard value is refused");

	f.cores[2].core.mtype = OTHER_MARCH;
	refused("checkpoint/core-5.img: dumped on " OTHER_NAME ", but this host is",
		"another architecture is refused");
	f.cores[1].core.has_mtype = false;
	refused("checkpoint/core-2.img: names no architecture", "a core without an architecture is refused");
	f.cores[2].core.tc = NULL;
	refused("checkpoint/core-5.img: task 5 holds no task state", "a leader without task state is refused");
}

static void test_tree(void)
{
	passes("a healthy two-task tree passes");
	f.n_cores = 2;
	refused("checkpoint/core-5.img: missing; pstree.img lists task 5", "a missing core file is refused");
	f.cores[1].tid = 3;
	refused("checkpoint/core-2.img: missing; pstree.img lists thread 2 of task 1",
		"a missing thread core file is refused");

	f.e[1].ppid = 9;
	refused("checkpoint/pstree.img: task 5 has parent 9, which is not an earlier task of the tree",
		"an unknown parent is refused");
	f.e[1].ppid = 5;
	refused("task 5 has parent 5, which is not an earlier task", "a task that is its own parent is refused");
	/* 5 and 7 each the other's parent: one of them names a later task. */
	entry(2, 7, 5, 7, 0);
	f.e[1].ppid = 7;
	core_init(&f.cores[1], 7, "sleep", true);
	refused("task 5 has parent 7, which is not an earlier task", "a cycle is refused");
	entry(1, 2, 1, 2, 0);
	refused("checkpoint/pstree.img: pid 2 appears twice", "a pid listed twice is refused");
	entry(0, 3, 0, 3, 2);
	f.e[1].ppid = 3;
	refused("checkpoint/pstree.img: the root task is 3, not 1 as in the container's own pid namespace",
		"a root other than pid 1 is refused");
	entry(0, 3, 0, 3, 2);
	f.e[1].ppid = 3;
	pol.private_pidns = false;
	f.cores[0].tid = 3;
	f.cores[2].tc.comm = "x";
	passes("a root other than pid 1 passes without a private pid namespace");
	f.e[0].ppid = 4;
	refused("the first task, 1, has parent 4: the root must come first", "a root with a parent is refused");
	f.e[1].ppid = 0;
	refused("task 5 has no parent, but only the first task is the root", "a second root is refused");
	f.threads[1][0] = 6;
	refused("task 5 lists thread 6 first, not itself", "a task whose first thread is not itself is refused");
	f.e[1].n_threads = 0;
	refused("task 5 lists no threads", "a task without threads is refused");
	f.e[1].has_pid = false;
	refused("checkpoint/pstree.img: entry 2 has no valid pid", "an entry without a pid is refused");
	pol.max_tasks = 2;
	refused("checkpoint/pstree.img: more than 2 tasks, threads counted", "too many tasks are refused");
	f.n = 0;
	refused("checkpoint/pstree.img: holds no tasks", "an empty tree is refused");
}

/* A memory map of two present pages and one in the parent, and a pages file. */
static char *with_pagemap(size_t pages_bytes)
{
	char *dir = fix_write();
	CmCriu__PagemapHead head = CM_CRIU__PAGEMAP_HEAD__INIT;
	head.has_pages_id = 1, head.pages_id = 3;
	CmCriu__PagemapEntry present = CM_CRIU__PAGEMAP_ENTRY__INIT, parent = CM_CRIU__PAGEMAP_ENTRY__INIT;
	present.has_nr_pages = 1, present.nr_pages = 2, present.has_flags = 1, present.flags = 4;
	parent.has_compat_nr_pages = 1, parent.compat_nr_pages = 5, parent.has_in_parent = 1;
	parent.in_parent = 1;
	const ProtobufCMessage *msgs[] = { &head.base, &present.base, &parent.base };
	write_img(dir, "pagemap-1.img", 0x56084025u, msgs, 3);
	cm_autofree char *pages = zeros(pages_bytes);
	raw_file(dir, "pages-3.img", pages, pages_bytes);
	return dir;
}

static void test_pagemaps(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	cm_autofree char *dir = with_pagemap(2 * page);
	struct cm_error err = { 0 };
	ok(cm_criu_images_check(dir, &pol, &err) == (int)f.n, "a memory map whose pages are all there passes");
	cm_error_clear(&err);
	cm_autofree char *dir2 = with_pagemap(page);
	refused_in(dir2, "checkpoint/pagemap-1.img: 8192 bytes of pages, but pages-3.img holds 4096",
		   "a pages file cut short is refused (CRIU would spin on it)");
}

/* The runs with data as CRIU reads the pages file: a lazy run, a run in the
 * parent (no data here), an entry of an older CRIU without flags (present),
 * a hole; the offsets in pages-N.img follow. Present and in the parent at
 * once, which no CRIU writes, is refused. */
static void test_pagemap_runs(void)
{
	char *dir = fix_write();
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	CmCriu__PagemapHead head = CM_CRIU__PAGEMAP_HEAD__INIT;
	head.has_pages_id = 1, head.pages_id = 7;
	CmCriu__PagemapEntry e[4];
	for (int i = 0; i < 4; i++) {
		cm_criu__pagemap_entry__init(&e[i]);
		e[i].has_vaddr = 1;
	}
	e[0].vaddr = 0x10000, e[0].has_nr_pages = 1, e[0].nr_pages = 3, e[0].has_flags = 1, e[0].flags = 4 | 2;
	e[1].vaddr = 0x20000, e[1].has_nr_pages = 1, e[1].nr_pages = 2, e[1].has_flags = 1, e[1].flags = 1;
	e[2].vaddr = 0x30000, e[2].has_compat_nr_pages = 1, e[2].compat_nr_pages = 1;
	e[3].vaddr = 0x50000, e[3].has_nr_pages = 1, e[3].nr_pages = 2, e[3].has_flags = 1, e[3].flags = 4;
	const ProtobufCMessage *msgs[] = { &head.base, &e[0].base, &e[1].base, &e[2].base, &e[3].base };
	write_img(dir, "pagemap-1.img", 0x56084025u, msgs, 5);
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY);
	uint32_t id = 0;
	struct cm_page_run *runs = NULL;
	size_t n = 0;
	struct cm_error err = { 0 };
	ok(cm_criu_pagemap_runs(dirfd, "pagemap-1.img", &id, &runs, &n, &err) == 0 && id == 7, "the runs are read");
	ok(n == 3, "three runs have their data here (not the parent's two): %zu", n);
	ok(n == 3 && runs[0].vaddr == 0x10000 && runs[0].offset == 0 && runs[0].lazy,
	   "the lazy run first, at the start");
	ok(n == 3 && runs[1].vaddr == 0x30000 && runs[1].offset == 3 * page && !runs[1].lazy,
	   "an entry without flags is present, right after it");
	ok(n == 3 && runs[2].vaddr == 0x50000 && runs[2].offset == 4 * page, "then the last");
	free(runs);
	/* pages in no file (a dump for a page server): only a restore from one */
	cm_autofree char *pages = zeros(6 * page);
	raw_file(dir, "pages-7.img", pages, 6 * page);
	e[1].flags = 2;
	write_img(dir, "pagemap-1.img", 0x56084025u, msgs, 5);
	refused_in(dir, "checkpoint/pagemap-1.img: 2 pages are in no file",
		   "pages only a page server has, for a restore without one");
	pol.remote_pages = true;
	ok(cm_criu_images_check(dir, &pol, &err) >= 0, "and taken from one (migrate --lazy's target): %s",
	   err.msg ? err.msg : "");
	cm_error_clear(&err);
	pol.remote_pages = false;
	e[1].flags = 4 | 1;
	write_img(dir, "pagemap-1.img", 0x56084025u, msgs, 5);
	ok(cm_criu_pagemap_runs(dirfd, "pagemap-1.img", &id, &runs, &n, &err) < 0 && runs == NULL &&
		   err.msg && strstr(err.msg, "both in this file and in the parent"),
	   "present and in the parent at once is refused: %s", err.msg);
	cm_error_clear(&err);
	e[1].flags = 1;
	e[0].vaddr = 0x10001;
	write_img(dir, "pagemap-1.img", 0x56084025u, msgs, 5);
	ok(cm_criu_pagemap_runs(dirfd, "pagemap-1.img", &id, &runs, &n, &err) < 0 && runs == NULL,
	   "an address not on a page is refused: %s", err.msg);
	cm_error_clear(&err);
	close(dirfd);
	free(dir);
}

static void test_files(void)
{
	char *dir = fix_write();
	char *path = cm_path_join(dir, "pstree.img");
	unlink(path);
	refused_in(dir, "checkpoint/pstree.img: missing; every CRIU dump has one", "a missing pstree is refused");
	free(path);
	free(dir);

	dir = fix_write();
	path = cm_path_join(dir, "core-5.img");
	int fd = open(path, O_RDWR);
	uint32_t magic = PSTREE_MAGIC;
	pwrite(fd, &magic, sizeof(magic), 4);
	close(fd);
	refused_in(dir, "checkpoint/core-5.img: not a core image (magic 0x50273030, expected 0x55053847)",
		   "a core with another image's magic is refused");
	raw_file(dir, "core-5.img", "\x7f" "ELF\2\1\1\0\0\0\0\0\0\0\0\0", 16);
	refused_in(dir, "checkpoint/core-5.img: not a CRIU image (magic 0x464c457f)", "a file without CRIU's magic is refused");
	raw_file(dir, "core-5.img", "\x19\x43\x56\x54", 4);
	refused_in(dir, "checkpoint/core-5.img: 4 bytes, too short for its magic", "a file shorter than its magic is refused");
	free(path);
	free(dir);

	dir = fix_write();
	path = cm_path_join(dir, "core-2.img");
	struct stat st;
	stat(path, &st);
	truncate(path, st.st_size - 10);
	char want[120];
	snprintf(want, sizeof(want), "checkpoint/core-2.img: entry 1: truncated: %lld bytes declared, %lld present",
		 (long long)st.st_size - 12, (long long)st.st_size - 22);
	refused_in(dir, want, "a truncated entry is refused");
	truncate(path, 10);
	refused_in(dir, "checkpoint/core-2.img: entry 1: truncated in its length", "a truncated length is refused");
	uint32_t garbage[8] = { IMG_COMMON_MAGIC, CORE_MAGIC, 20, 0xffffffff, 0xffffffff, 0xffffffff,
				0xffffffff, 0xffffffff };
	raw_file(dir, "core-2.img", garbage, sizeof(garbage));
	refused_in(dir, "checkpoint/core-2.img: entry 1: not a valid core_entry", "garbage bytes are refused");
	free(path);
	free(dir);

	dir = fix_write();
	path = cm_path_join(dir, "pstree.img");
	stat(path, &st);
	truncate(path, st.st_size - 1);
	refused_in(dir, "checkpoint/pstree.img: entry 2: truncated", "a truncated pstree is refused");
	free(path);
	free(dir);

	dir = fix_write();
	path = cm_path_join(dir, "core-1.img");
	truncate(path, 5u << 20);
	refused_in(dir, "checkpoint/core-1.img: 5242880 bytes, more than the 4 MiB such an image may have",
		   "an oversized file is refused before it is read");
	unlink(path);
	symlink("core-5.img", path);
	refused_in(dir, "checkpoint/core-1.img: open: Too many levels of symbolic links", "a symlink is not followed");
	unlink(path);
	mkfifo(path, 0600);
	refused_in(dir, "checkpoint/core-1.img: not a regular file", "a fifo is refused without blocking");
	free(path);
	free(dir);

	/* Two entries where CRIU reads one. */
	dir = fix_write();
	const ProtobufCMessage *twice[] = { &f.cores[2].core.base, &f.cores[2].core.base };
	write_img(dir, "core-5.img", CORE_MAGIC, twice, 2);
	refused_in(dir, "checkpoint/core-5.img: holds more than one entry", "a core with a second entry is refused");
	write_img(dir, "core-5.img", CORE_MAGIC, twice, 0);
	refused_in(dir, "checkpoint/core-5.img: holds no entry", "a core without an entry is refused");
	free(dir);
}

static json_t *spec_from(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	if (!j)
		printf("# bad test JSON: %s\n", je.text);
	return j;
}

static void test_policy(void)
{
	json_t *spec = spec_from(
		"{\"process\": {\"user\": {\"uid\": 1000, \"gid\": 1000, \"additionalGids\": [10, 0]},"
		" \"noNewPrivileges\": true, \"apparmorProfile\": \"ctrmig-default\","
		" \"capabilities\": {\"bounding\": [\"CAP_CHOWN\", \"CAP_SYS_ADMIN\", \"CAP_CHECKPOINT_RESTORE\"]},"
		" \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 4096, \"soft\": 1024}]},"
		" \"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"network\", \"path\": \"/proc/1/ns/net\"}],"
		" \"seccomp\": {\"defaultAction\": \"SCMP_ACT_ERRNO\"}, \"resources\": {\"pids\": {\"limit\": 100}}}}");
	struct cm_criu_policy p;
	struct cm_error err = { 0 };
	ok(cm_criu_policy_from_spec(spec, &p, &err) == 0, "a policy from a spec");
	ok(p.caps == ((1ull << 0) | (1ull << 21) | (1ull << 40)), "capabilities by name: %#llx",
	   (unsigned long long)p.caps);
	ok(p.no_new_privs && p.seccomp && p.private_pidns, "no_new_privs, seccomp, own pid namespace");
	ok(!p.root_user && p.root_group, "uid 1000, but gid 0 among the additional ones");
	struct rlimit core;
	getrlimit(RLIMIT_CORE, &core);
	ok(p.rlimit_max[RLIMIT_NOFILE] == 4096 && p.rlimit_max[RLIMIT_CORE] == core.rlim_max,
	   "the spec's hard limits, else this process's");
	is_str(p.lsm_profile, "ctrmig-default", "the AppArmor profile");
	ok(p.max_tasks == 100, "at most as many tasks as pids.limit");
	json_decref(spec);

	spec = spec_from("{\"process\": {\"user\": {\"uid\": 0, \"gid\": 0}},"
			 " \"linux\": {\"namespaces\": [{\"type\": \"pid\", \"path\": \"/proc/1/ns/pid\"}]}}");
	ok(cm_criu_policy_from_spec(spec, &p, &err) == 0 && p.caps == 0 && p.root_user && p.root_group &&
		   !p.private_pidns && !p.seccomp && !p.no_new_privs && !p.lsm_profile &&
		   p.max_tasks == CM_CRIU_MAX_TASKS,
	   "a bare root spec: no capabilities, a joined pid namespace, no limits on tasks but the default");
	json_decref(spec);

	spec = spec_from("{\"process\": {\"capabilities\": {\"bounding\": [\"CAP_CHOWN\", \"CAP_FLY\"]}}}");
	ok(cm_criu_policy_from_spec(spec, &p, &err) < 0, "an unknown capability is an error");
	is_str(err.msg, "process.capabilities.bounding: unknown capability CAP_FLY", "it is named");
	json_decref(spec);
	spec = spec_from("{\"process\": {\"rlimits\": [{\"type\": \"RLIMIT_WISHES\", \"hard\": 3}]}}");
	ok(cm_criu_policy_from_spec(spec, &p, &err) < 0 && strstr(err.msg, "unknown resource RLIMIT_WISHES"),
	   "an unknown resource is an error");
	json_decref(spec);
	cm_error_clear(&err);

	/* The spec ctrmig runs its containers with: root, Podman's eleven capabilities. */
	json_t *config = spec_from("{\"cmd\": [\"sh\"]}");
	spec = cm_oci_spec_build(config, "0123456789abcdef", "/tmp/rootfs", NULL);
	ok(spec && cm_criu_policy_from_spec(spec, &p, NULL) == 0 && p.caps == 0x800405fbull &&
		   p.root_user && p.private_pidns && !p.seccomp,
	   "ctrmig's own spec gives its eleven capabilities: %#llx", (unsigned long long)p.caps);
	json_decref(spec);
	json_decref(config);

	is_str(cm_cap_name(21), "CAP_SYS_ADMIN", "capability 21 by name");
	ok(cm_cap_name(41) == NULL, "no name past CAP_CHECKPOINT_RESTORE");
	is_str(cm_criu_rlimit_name(RLIMIT_NOFILE), "RLIMIT_NOFILE", "a resource by name");
}

int main(void)
{
	char tmpl[] = "/tmp/ctrmig-criu-images.XXXXXX";
	root_dir = mkdtemp(tmpl);
	ok(root_dir != NULL, "a temp folder");
	fix_init();
	pol_init();
	test_tree();
	test_credentials();
	test_rlimits_and_core();
	test_files();
	test_pagemaps();
	test_pagemap_runs();
	test_policy();
	cm_rm_rf(root_dir, NULL);
	return done();
}
