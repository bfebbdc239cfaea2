#include "error.h"
#include "tap.h"
#include "tree_digest.h"
#include "util.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/time.h>

static void write_file(const char *dir, const char *name, const char *text)
{
	char *p = cm_path_join(dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	write(fd, text, strlen(text));
	close(fd);
	free(p);
}

int main(void)
{
	char a[] = "/tmp/ctrmig-digest-a.XXXXXX", b[] = "/tmp/ctrmig-digest-b.XXXXXX";
	ok(mkdtemp(a) && mkdtemp(b), "temp dirs");
	char ha[65], hb[65];
	const char *dirs[] = { a, b };
	for (int i = 0; i < 2; i++) {
		char *sub = cm_path_join(dirs[i], "etc");
		mkdir(sub, 0755);
		free(sub);
		write_file(dirs[i], "etc/passwd", "root:x:0:0\n");
		write_file(dirs[i], "hello", "hi\n");
		char *link = cm_path_join(dirs[i], "sh");
		symlink("busybox", link);
		free(link);
	}
	ok(cm_tree_digest(a, ha, NULL) == 14 && cm_tree_digest(b, hb, NULL) == 14, "bytes counted");
	is_str(ha, hb, "the same tree, made twice, has the same digest");

	char *p = cm_path_join(b, "hello");
	struct timeval tv[2] = { { 1000, 0 }, { 1000, 0 } };
	utimes(p, tv);
	cm_tree_digest(b, hb, NULL);
	is_str(ha, hb, "modification times do not count");
	chmod(p, 0600);
	cm_tree_digest(b, hb, NULL);
	ok(strcmp(ha, hb) != 0, "permission bits count");
	chmod(p, 0644);
	write_file(b, "hello", "ho\n");
	cm_tree_digest(b, hb, NULL);
	ok(strcmp(ha, hb) != 0, "content counts");
	free(p);

	struct cm_error err = { 0 };
	ok(cm_tree_digest("/nonexistent-dir", ha, &err) < 0 && strstr(err.msg, "/nonexistent-dir"),
	   "a missing folder is an error naming it");
	cm_error_clear(&err);
	cm_rm_rf(a, NULL);
	cm_rm_rf(b, NULL);
	return done();
}
