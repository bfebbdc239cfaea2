/* The page server a lazy restore from an archive uses (page_server.h),
 * driven as CRIU's lazy-pages daemon drives it: PS_IOV_GET by address for
 * a task, the pages back from the archive's checked chunks, fewer at the
 * end of a run, a close answered; and refusals: another archive than the
 * record's, a task or address the checkpoint does not hold. */
#include "chunked_sha256.h"
#include "error.h"
#include "page_server.h"
#include "tap.h"
#include "util.h"
#include "zstd_frames.h"
#include "criu/pagemap.pb-c.h"

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096u
#define RUN1 0x100000u /* 256 pages, lazy */
#define RUN2 0x400000u /* 512 pages, lazy */

struct iov {
	uint32_t cmd;
	uint64_t nr_pages, vaddr, dst_id;
};

static int to_file(void *arg, const void *buf, size_t len)
{
	return cm_write_all(*(int *)arg, buf, len);
}

static void write_pagemap(const char *dir)
{
	CmCriu__PagemapHead head = CM_CRIU__PAGEMAP_HEAD__INIT;
	head.has_pages_id = 1, head.pages_id = 1;
	CmCriu__PagemapEntry e[2];
	uint64_t at[2] = { RUN1, RUN2 }, nr[2] = { 256, 512 };
	for (int i = 0; i < 2; i++) {
		cm_criu__pagemap_entry__init(&e[i]);
		e[i].has_vaddr = 1, e[i].vaddr = at[i];
		e[i].has_nr_pages = 1, e[i].nr_pages = nr[i];
		e[i].has_flags = 1, e[i].flags = 4 | 2;
	}
	const ProtobufCMessage *msgs[] = { &head.base, &e[0].base, &e[1].base };
	cm_autofree char *path = cm_path_join(dir, "pagemap-1.img");
	FILE *out = fopen(path, "wb");
	uint32_t magic[2] = { 0x54564319u, 0x56084025u };
	fwrite(magic, 4, 2, out);
	for (size_t i = 0; i < 3; i++) {
		uint32_t len = (uint32_t)protobuf_c_message_get_packed_size(msgs[i]);
		uint8_t buf[64];
		protobuf_c_message_pack(msgs[i], buf);
		fwrite(&len, 4, 1, out);
		fwrite(buf, 1, len, out);
	}
	fclose(out);
}

/* Runs the server on one end of a socket pair in a child; *sock is ours. */
static pid_t start(const char *images, json_t *lazy, int *sock)
{
	int sv[2];
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[1]);
		struct cm_error err = { 0 };
		int r = cm_page_server_run(sv[0], images, lazy, &err);
		if (r < 0)
			fprintf(stderr, "# server: %s\n", err.msg);
		_exit(r < 0 ? 1 : 0);
	}
	close(sv[0]);
	*sock = sv[1];
	return pid;
}

static int ended(pid_t pid)
{
	int st = 0;
	if (waitpid(pid, &st, 0) != pid)
		return 128;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static bool ask(int sock, uint64_t vaddr, uint64_t nr, uint64_t pid, struct iov *answer, unsigned char *pages)
{
	struct iov q;
	memset(&q, 0, sizeof(q));
	q.cmd = 7, q.nr_pages = nr, q.vaddr = vaddr, q.dst_id = pid;
	if (write(sock, &q, sizeof(q)) != sizeof(q) || recv(sock, answer, sizeof(*answer), MSG_WAITALL) != sizeof(*answer))
		return false;
	size_t len = answer->nr_pages * PAGE;
	return len <= 1024 * PAGE && recv(sock, pages, len, MSG_WAITALL) == (ssize_t)len;
}

int main(void)
{
	/* a server that fails at once may be gone before a request is written */
	signal(SIGPIPE, SIG_IGN);
	char dir[] = "/tmp/ctrmig-page-server-XXXXXX";
	ok(mkdtemp(dir) != NULL, "a temp folder");
	write_pagemap(dir);
	/* the page image: 768 pages of a pattern, in an archive of frames */
	size_t size = 768 * PAGE;
	unsigned char *data = malloc(size);
	for (size_t i = 0; i < size; i++)
		data[i] = (unsigned char)(i * 29 + i / PAGE);
	cm_autofree char *archive = cm_path_join(dir, "a.tar.zst");
	int fd = open(archive, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	struct cm_frames *f = cm_frames_new(to_file, &fd, 1, NULL);
	cm_frames_write(f, "a tar header, say", 17);
	cm_frames_cut(f);
	uint64_t start_at = cm_frames_raw_offset(f);
	struct cm_chunked_sha256 h;
	cm_chunked_sha256_init(&h);
	for (size_t off = 0; off < size; off += CM_CHUNK_BYTES) {
		size_t n = size - off < CM_CHUNK_BYTES ? size - off : CM_CHUNK_BYTES;
		cm_frames_write(f, data + off, n);
		cm_frames_cut(f);
		cm_chunked_sha256_update(&h, data + off, n);
	}
	char root[65];
	unsigned char *digests;
	size_t n_digests;
	cm_chunked_sha256_final(&h, root, &digests, &n_digests);
	cm_frames_add_member(f, "checkpoint/pages-1.img", start_at, size, digests, n_digests);
	ok(cm_frames_finish(f) == 0, "an archive with an index");
	cm_frames_free(f);
	close(fd);
	json_t *lazy = json_pack("{s:s, s:{s:s}}", "file", archive, "members", "checkpoint/pages-1.img", root);

	int sock;
	pid_t pid = start(dir, lazy, &sock);
	struct iov a;
	unsigned char *pages = malloc(1024 * PAGE);
	ok(ask(sock, RUN1 + 3 * PAGE, 16, 1, &a, pages) && a.cmd == ((4u << 16) | 6) && a.nr_pages == 16 &&
		   a.vaddr == RUN1 + 3 * PAGE && a.dst_id == 1 && !memcmp(pages, data + 3 * PAGE, 16 * PAGE),
	   "pages asked for come back from the archive, in order");
	ok(ask(sock, RUN1 + 250 * PAGE, 16, 1, &a, pages) && a.nr_pages == 6 &&
		   !memcmp(pages, data + 250 * PAGE, 6 * PAGE),
	   "fewer at the end of a run");
	ok(ask(sock, RUN2 + 200 * PAGE, 100, 1, &a, pages) && a.nr_pages == 100 &&
		   !memcmp(pages, data + (256 + 200) * PAGE, 100 * PAGE),
	   "the second run follows the first in the page image, across a chunk's end");
	struct iov close_q;
	memset(&close_q, 0, sizeof(close_q));
	close_q.cmd = 0x1024;
	int32_t answer = -1;
	ok(write(sock, &close_q, sizeof(close_q)) == sizeof(close_q) &&
		   recv(sock, &answer, sizeof(answer), MSG_WAITALL) == sizeof(answer) && answer == 0,
	   "a close is answered");
	ok(ended(pid) == 0, "and the server ends well");
	close(sock);

	pid = start(dir, lazy, &sock);
	ok(!ask(sock, RUN1, 1, 2, &a, pages) && ended(pid) != 0, "a task the checkpoint does not hold ends it");
	close(sock);
	pid = start(dir, lazy, &sock);
	ok(!ask(sock, 0x800000, 1, 1, &a, pages) && ended(pid) != 0, "an address it does not hold ends it");
	close(sock);
	pid = start(dir, lazy, &sock);
	close(sock);
	ok(ended(pid) != 0, "a daemon gone before its close is a failure");

	/* another archive than the one the record vouches for */
	json_object_set_new(json_object_get(lazy, "members"), "checkpoint/pages-1.img",
			    json_string("0000000000000000000000000000000000000000000000000000000000000000"));
	pid = start(dir, lazy, &sock);
	ok(!ask(sock, RUN1, 1, 1, &a, pages) && ended(pid) != 0, "an archive whose digests are not the record's");
	close(sock);
	json_decref(lazy);
	free(pages);
	free(digests);
	free(data);
	cm_rm_rf(dir, NULL);
	return done();
}
