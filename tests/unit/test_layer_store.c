#include "error.h"
#include "jsonio.h"
#include "layer_store.h"
#include "layer_tar.h"
#include "sha256.h"
#include "store.h"
#include "tap.h"
#include "util.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

/* A member of a test tar: 'f' file, 'd' folder, 'l' symlink, 'h' hard link, 'c' char device. */
struct m {
	char type;
	const char *name;
	const char *arg; /* content, link target */
	int mode;
};

static char *tmp;

static char *make_tar(const char *file, const struct m *ms, size_t n, bool gzip, char diff_id[72],
		      char blob_digest[72])
{
	char *path = cm_path_join(tmp, file);
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	if (gzip)
		archive_write_add_filter_gzip(a);
	archive_write_open_filename(a, path);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, ms[i].name);
		archive_entry_set_mtime(e, 1000000000, 0);
		int mode = ms[i].mode ? ms[i].mode : ms[i].type == 'd' ? 0755 : 0644;
		switch (ms[i].type) {
		case 'f':
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_size(e, (la_int64_t)strlen(ms[i].arg));
			break;
		case 'd':
			archive_entry_set_filetype(e, AE_IFDIR);
			break;
		case 'l':
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_symlink(e, ms[i].arg);
			mode = 0777;
			break;
		case 'h':
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_hardlink(e, ms[i].arg);
			break;
		case 'c':
			archive_entry_set_filetype(e, AE_IFCHR);
			archive_entry_set_rdevmajor(e, 1);
			archive_entry_set_rdevminor(e, 3);
			break;
		}
		archive_entry_set_perm(e, (mode_t)mode);
		archive_write_header(a, e);
		if (ms[i].type == 'f')
			archive_write_data(a, ms[i].arg, strlen(ms[i].arg));
		archive_entry_free(e);
	}
	archive_write_close(a);
	archive_write_free(a);

	/* the digests, computed by reading the files back */
	char hex[65];
	size_t len;
	char *bytes = cm_read_file(path, &len, NULL);
	cm_sha256_hex(bytes, len, hex);
	free(bytes);
	snprintf(blob_digest, 72, "sha256:%s", hex);
	if (!gzip) {
		snprintf(diff_id, 72, "sha256:%s", hex);
	} else {
		struct archive *r = archive_read_new();
		archive_read_support_filter_gzip(r);
		archive_read_support_format_raw(r);
		archive_read_open_filename(r, path, 1 << 16);
		struct archive_entry *e;
		archive_read_next_header(r, &e);
		struct cm_sha256 h;
		cm_sha256_init(&h);
		char buf[4096];
		la_ssize_t k;
		while ((k = archive_read_data(r, buf, sizeof(buf))) > 0)
			cm_sha256_update(&h, buf, (size_t)k);
		cm_sha256_final_hex(&h, hex);
		archive_read_free(r);
		snprintf(diff_id, 72, "sha256:%s", hex);
	}
	return path;
}

static int apply(struct cm_store *st, const char *blob, const char *blob_digest, const char *diff_id,
		 const char *const *lowers, size_t n, bool untrusted, struct cm_error *err)
{
	struct cm_layer_apply a = { .blob = blob, .blob_digest = blob_digest, .diff_id = diff_id,
				    .lowers = lowers, .n_lowers = n, .untrusted = untrusted };
	return cm_layer_apply(st, &a, err);
}

static char *in_layer(struct cm_store *st, const char *diff_id, const char *rel)
{
	char *d = cm_layer_diff_path(st, diff_id);
	char *p = cm_path_join(d, rel);
	free(d);
	return p;
}

static bool staging_empty(struct cm_store *st)
{
	char *layers = cm_path_join(st->root, "layers");
	char *cmd = cm_strfmt("ls -A %s | grep -q '^\\.'", layers);
	bool empty = system(cmd) != 0;
	free(cmd);
	free(layers);
	return empty;
}

static void test_names(void)
{
	char out[64];
	ok(cm_layer_clean_name("./a//b/", out, sizeof(out)) == 0 && !strcmp(out, "a/b"), "clean ./a//b/");
	ok(cm_layer_clean_name("./", out, sizeof(out)) == 0 && !strcmp(out, ""), "clean ./ is the root");
	ok(cm_layer_clean_name("a/./b", out, sizeof(out)) == 0 && !strcmp(out, "a/b"), "clean a/./b");
	ok(cm_layer_clean_name("../x", out, sizeof(out)) < 0, "refuse ../x");
	ok(cm_layer_clean_name("a/../../x", out, sizeof(out)) < 0, "refuse a/../../x");
	ok(cm_layer_clean_name("/etc/passwd", out, sizeof(out)) < 0, "refuse an absolute name");
	ok(cm_layer_clean_name("/", out, sizeof(out)) == 0 && !*out, "/ alone is the root");
	char longname[200];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ok(cm_layer_clean_name(longname, out, sizeof(out)) < 0, "refuse a name longer than the buffer");

	const char *t = NULL;
	ok(cm_layer_whiteout("a/b", &t) == CM_WH_NONE, "a plain name");
	ok(cm_layer_whiteout("a/.wh.b", &t) == CM_WH_FILE && !strcmp(t, "b"), "a whiteout names b");
	ok(cm_layer_whiteout(".wh.b", &t) == CM_WH_FILE && !strcmp(t, "b"), "a whiteout at the root");
	ok(cm_layer_whiteout("a/.wh..wh..opq", &t) == CM_WH_OPAQUE, "an opaque marker");
	ok(cm_layer_whiteout("a/.wh..wh.plnk", &t) == CM_WH_META, "aufs metadata");
	ok(cm_layer_whiteout("a/.wh..", &t) == CM_WH_BAD, "a whiteout naming ..");
	ok(cm_layer_whiteout("a/.wh.", &t) == CM_WH_BAD, "a whiteout naming nothing");
	ok(cm_layer_whiteout(".wh.x/y", &t) == CM_WH_BAD, "members below a .wh. folder");
}

static void test_apply(struct cm_store *st)
{
	char d1[72], b1[72], d2[72], b2[72];
	struct cm_error err = { 0 };
	const struct m base[] = {
		{ 'd', "etc", NULL, 0750 },
		{ 'f', "etc/passwd", "root:x:0:0\n", 0 },
		{ 'f', "etc/gone", "bye\n", 0 },
		{ 'd', "opt", NULL, 0 },
		{ 'f', "opt/old1", "1", 0 },
		{ 'd', "opt/sub", NULL, 0 },
		{ 'f', "opt/sub/old2", "2", 0 },
		{ 'f', "bin/su", "#!setuid\n", 04755 },
		{ 'l', "bin/sh", "busybox", 0 },
		{ 'f', "data/big", "shared content\n", 0 },
		{ 'c', "dev/null", NULL, 0666 },
	};
	char *t1 = make_tar("l1.tar.gz", base, sizeof(base) / sizeof(base[0]), true, d1, b1);
	ok(apply(st, t1, b1, d1, NULL, 0, false, &err) == 0, "bottom layer applied (%s)", err.msg ? err.msg : "");
	cm_error_clear(&err);
	ok(cm_layer_exists(st, d1), "it exists");
	struct stat sb;
	char *p = in_layer(st, d1, "bin/su");
	ok(stat(p, &sb) == 0 && (sb.st_mode & 07777) == 04755, "setuid bit kept as the image says");
	free(p);
	p = in_layer(st, d1, "dev/null");
	ok(lstat(p, &sb) == 0 && S_ISCHR(sb.st_mode) && sb.st_rdev == makedev(1, 3), "device node kept");
	free(p);
	p = in_layer(st, d1, "bin");
	ok(stat(p, &sb) == 0 && S_ISDIR(sb.st_mode) && (sb.st_mode & 0777) == 0755,
	   "a folder the tar did not list is made 0755");
	free(p);
	ok(cm_layer_knows_blob(st, d1, b1), "the compressed digest is noted");

	const struct m upper[] = {
		{ 'f', "etc/.wh.gone", "", 0 },
		{ 'f', "opt/.wh..wh..opq", "", 0 },
		{ 'f', "opt/new", "new", 0 },
		{ 'h', "data/link", "data/big", 0 },
		{ 'h', "etc/passwd", "data/big", 0 }, /* replaces a lower file */
		{ 'f', "newdir/.wh.nothing", "", 0 },
	};
	char *t2 = make_tar("l2.tar", upper, sizeof(upper) / sizeof(upper[0]), false, d2, b2);
	const char *lowers[] = { d1 };
	ok(apply(st, t2, b2, d2, lowers, 1, false, &err) == 0, "upper layer applied (%s)", err.msg ? err.msg : "");
	cm_error_clear(&err);
	p = in_layer(st, d2, "etc/gone");
	ok(lstat(p, &sb) == 0 && S_ISCHR(sb.st_mode) && sb.st_rdev == 0, "a whiteout is a 0:0 char device");
	free(p);
	p = in_layer(st, d2, "etc/.wh.gone");
	ok(lstat(p, &sb) < 0, "the .wh. file itself is not kept");
	free(p);
	p = in_layer(st, d2, "etc");
	ok(stat(p, &sb) == 0 && (sb.st_mode & 0777) == 0750, "a folder made for a whiteout takes the lower one's mode");
	free(p);
	p = in_layer(st, d2, "opt");
	char v[4] = "";
	ok(getxattr(p, "trusted.overlay.opaque", v, sizeof(v)) == 1 && v[0] == 'y', "opaque folder marked");
	free(p);
	p = in_layer(st, d2, "opt/.wh..wh..opq");
	ok(lstat(p, &sb) < 0, "the opaque marker itself is not kept");
	free(p);
	struct stat lower_big, link;
	char *pb = in_layer(st, d1, "data/big"), *pl = in_layer(st, d2, "data/link");
	ok(stat(pb, &lower_big) == 0 && stat(pl, &link) == 0 && lower_big.st_ino == link.st_ino,
	   "a hard link to a lower layer's file links that file");
	free(pl);
	pl = in_layer(st, d2, "etc/passwd");
	ok(stat(pl, &link) == 0 && link.st_ino == lower_big.st_ino, "a hard link replaces the path it names");
	free(pl);
	free(pb);

	/* a third layer: the whiteout of a whole lower folder, and a hard link
	 * to a file the middle layer removed is refused */
	char d3[72], b3[72];
	const struct m third[] = { { 'h', "x", "etc/gone", 0 } };
	char *t3 = make_tar("l3.tar", third, 1, false, d3, b3);
	const char *lowers2[] = { d1, d2 };
	ok(apply(st, t3, b3, d3, lowers2, 2, false, &err) < 0 && strstr(err.msg, "in no layer"),
	   "a hard link to a whited-out file is refused (%s)", err.msg);
	cm_error_clear(&err);
	const struct m fourth[] = { { 'h', "x", "opt/old1", 0 } };
	char *t4 = make_tar("l4.tar", fourth, 1, false, d3, b3);
	ok(apply(st, t4, b3, d3, lowers2, 2, false, &err) < 0 && strstr(err.msg, "in no layer"),
	   "a hard link into a folder an opaque layer hid is refused");
	cm_error_clear(&err);
	ok(staging_empty(st), "nothing staged is left");

	/* the same blob again: nothing to do */
	ok(apply(st, t2, b2, d2, lowers, 1, false, &err) == 0, "a present layer is left as it is");

	/* short links for the mount */
	json_t *ids = json_pack("[s,s]", d1, d2);
	char *lower = cm_layer_lowerdir(st, ids, false, &err);
	ok(lower && strlen(lower) == 2 * 28 + 1 && !strncmp(lower, "l/", 2) && lower[28] == ':',
	   "lowerdir is two short links (%s)", lower ? lower : err.msg);
	char *linkpath = lower ? cm_strfmt("%s/layers/%.28s", st->root, lower) : NULL;
	char *real = linkpath ? realpath(linkpath, NULL) : NULL;
	char *want = cm_layer_diff_path(st, d2);
	is_str(real, want, "the first (top) link leads to the upper layer");
	free(real), free(want), free(linkpath), free(lower);
	lower = cm_layer_lowerdir(st, ids, true, &err);
	ok(lower && lower[0] == '/' && strchr(lower, ':'), "absolute lowerdir");
	free(lower);
	json_decref(ids);

	/* removal frees the folder and the short link */
	ok(cm_layer_remove(st, d2, &err) == 0 && !cm_layer_exists(st, d2), "layer removed");
	char *lcount = cm_strfmt("test $(ls %s/layers/l | wc -l) = 1", st->root);
	ok(system(lcount) == 0, "its short link is gone");
	free(lcount);
	free(t1), free(t2), free(t3), free(t4);
}

static void refused(struct cm_store *st, const char *what, const struct m *ms, size_t n, const char *why,
		    bool untrusted)
{
	char d[72], b[72];
	struct cm_error err = { 0 };
	char *t = make_tar("bad.tar", ms, n, false, d, b);
	int r = apply(st, t, b, d, NULL, 0, untrusted, &err);
	ok(r < 0 && err.msg && strstr(err.msg, why), "%s is refused", what);
	if (!(r < 0 && err.msg && strstr(err.msg, why)))
		printf("#   got: %s\n", err.msg ? err.msg : "success");
	ok(!cm_layer_exists(st, d) && staging_empty(st), "%s: nothing kept", what);
	cm_error_clear(&err);
	free(t);
}

static void test_hostile(struct cm_store *st)
{
	char *outside = cm_path_join(tmp, "outside");
	mkdir(outside, 0755);
	const struct m dotdot[] = { { 'f', "../../x", "pwned", 0 } };
	refused(st, "a ../ name", dotdot, 1, "'..' are refused", false);
	const struct m abs[] = { { 'f', "/tmp/x", "pwned", 0 } };
	refused(st, "an absolute name", abs, 1, "absolute names", false);
	const struct m through[] = { { 'l', "lnk", outside, 0 }, { 'f', "lnk/file", "pwned", 0 } };
	refused(st, "a write through a symlink", through, 2, "nothing is written through it", false);
	const struct m wh_dotdot[] = { { 'f', "a/.wh..", "", 0 } };
	refused(st, "a whiteout naming ..", wh_dotdot, 1, "not a whiteout", false);
	const struct m wh_up[] = { { 'f', "../.wh.x", "", 0 } };
	refused(st, "a whiteout in ../", wh_up, 1, "'..' are refused", false);
	const struct m wh_through[] = { { 'l', "lnk", outside, 0 }, { 'f', "lnk/.wh.x", "", 0 } };
	refused(st, "a whiteout through a symlink", wh_through, 2, "nothing is written through it", false);
	const struct m link_up[] = { { 'h', "x", "../../etc/passwd", 0 } };
	refused(st, "a hard link to ../", link_up, 1, "'..' are refused", false);
	const struct m dev[] = { { 'c', "dev/mem", NULL, 0600 } };
	refused(st, "a device node in an untrusted layer", dev, 1, "device nodes", true);
	char *cmd = cm_strfmt("test -z \"$(ls -A %s)\"", outside);
	ok(system(cmd) == 0, "nothing was written outside");
	free(cmd);

	/* an untrusted layer loses its setuid bits */
	char d[72], b[72];
	struct cm_error err = { 0 };
	const struct m suid[] = { { 'f', "su", "x", 04755 } };
	char *t = make_tar("suid.tar", suid, 1, false, d, b);
	ok(apply(st, t, b, d, NULL, 0, true, &err) == 0, "untrusted layer applied");
	char *p = in_layer(st, d, "su");
	struct stat sb;
	ok(stat(p, &sb) == 0 && (sb.st_mode & 07777) == 0755, "its setuid bit is cleared");
	free(p);
	cm_layer_remove(st, d, &err);

	/* digests: the blob's and the uncompressed stream's */
	const char *wrong = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
	ok(apply(st, t, wrong, d, NULL, 0, false, &err) < 0 && strstr(err.msg, "does not match its digest"),
	   "a blob that does not match its digest is refused");
	cm_error_clear(&err);
	ok(apply(st, t, NULL, wrong, NULL, 0, false, &err) < 0 && strstr(err.msg, "uncompressed content"),
	   "a diff_id that does not match is refused");
	cm_error_clear(&err);
	ok(!cm_layer_exists(st, d) && !cm_layer_exists(st, wrong) && staging_empty(st), "and nothing is kept");
	free(t);
	free(outside);
}

static void test_verify(struct cm_store *st)
{
	char d[72], b[72];
	struct cm_error err = { 0 };
	const struct m one[] = { { 'f', "f", "content", 0 } };
	char *plain = make_tar("v.tar", one, 1, false, d, b);
	ok(apply(st, plain, NULL, d, NULL, 0, false, &err) == 0, "applied from the plain tar");
	char d2[72], b2[72];
	char *gz = make_tar("v.tar.gz", one, 1, true, d2, b2);
	ok(!strcmp(d, d2), "same diff_id compressed");
	ok(!cm_layer_knows_blob(st, d, b2), "the gzip blob is not known yet");
	ok(cm_layer_verify_blob(st, gz, b2, d, &err) == 0, "the gzip blob unpacks to the layer");
	ok(cm_layer_knows_blob(st, d, b2), "and is now known");
	const char *other = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
	ok(cm_layer_verify_blob(st, gz, b2, other, &err) < 0 && strstr(err.msg, "unpacks to"),
	   "a blob that unpacks to another layer is refused");
	cm_error_clear(&err);
	free(plain), free(gz);
}

static void test_tree_tar(struct cm_store *st)
{
	char *dir = cm_path_join(tmp, "tree");
	char *cmd = cm_strfmt("mkdir -p %s/a/b && echo x > %s/a/b/f && ln %s/a/b/f %s/a/g && ln -s f %s/a/b/s && "
			      "touch -d @1000000000.5 %s/a/b/f && mknod %s/wh c 0 0",
			      dir, dir, dir, dir, dir, dir, dir);
	ok(system(cmd) == 0, "a tree");
	free(cmd);
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	char *o1 = cm_path_join(tmp, "t1.tar"), *o2 = cm_path_join(tmp, "t2.tar");
	int f1 = open(o1, O_WRONLY | O_CREAT | O_TRUNC, 0600), f2 = open(o2, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	char h1[65], h2[65];
	long long s1, s2;
	struct cm_error err = { 0 };
	ok(cm_tree_tar_write(fd, f1, h1, &s1, &err) == 0 && cm_tree_tar_write(fd, f2, h2, &s2, &err) == 0,
	   "written twice");
	ok(!strcmp(h1, h2) && s1 == s2 && s1 > 0, "the same bytes both times");
	close(f1), close(f2), close(fd);
	char diff_id[72];
	snprintf(diff_id, sizeof(diff_id), "sha256:%s", h1);
	ok(apply(st, o1, NULL, diff_id, NULL, 0, false, &err) == 0, "and it applies as a layer (%s)",
	   err.msg ? err.msg : "");
	cm_error_clear(&err);
	struct stat a, b, wh;
	char *pa = in_layer(st, diff_id, "a/b/f"), *pb = in_layer(st, diff_id, "a/g"), *pw = in_layer(st, diff_id, "wh");
	ok(stat(pa, &a) == 0 && stat(pb, &b) == 0 && a.st_ino == b.st_ino, "hard links kept");
	ok(a.st_mtim.tv_sec == 1000000000 && a.st_mtim.tv_nsec == 0, "whole-second times");
	ok(lstat(pw, &wh) < 0, "whiteouts are not in a flat tree");
	free(pa), free(pb), free(pw), free(o1), free(o2), free(dir);
}

int main(void)
{
	test_names();
	if (geteuid() != 0) {
		printf("ok %d - # SKIP applying layers needs root (device nodes, trusted.* xattrs)\n", ++tap_n);
		return done();
	}
	char tmpl[] = "/tmp/ctrmig-layers.XXXXXX";
	tmp = mkdtemp(tmpl);
	struct cm_store st = { .root = cm_path_join(tmp, "store"), .lock_fd = -1 };
	mkdir(st.root, 0700);
	test_apply(&st);
	test_hostile(&st);
	test_verify(&st);
	test_tree_tar(&st);
	cm_layer_recover(&st);
	char *cmd = cm_strfmt("rm -rf %s", tmp);
	system(cmd);
	free(cmd);
	free(st.root);
	return done();
}
