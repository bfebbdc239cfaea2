#include "page_relay.h"
#include "error.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* CRIU 4.2's request header (criu/page-xfer.c, struct page_server_iov:
 * u32 cmd, then three u64, so 32 bytes on 64-bit hosts) and the command
 * that closes a session. */
#define PS_HEADER_SIZE 32
#define PS_IOV_CLOSE 0x1023u

struct cm_page_relay {
	pid_t pid;
	int listen_fd, server_port;
	int abort_pipe[2];
	int result_pipe[2];
	bool parent_gone; /* migrate died: a session under way goes on to its end */
	bool closed; /* the daemon's last request was the close */
	unsigned long long bytes; /* from CRIU to the daemon */
};

struct relay_result {
	bool closed;
	unsigned long long bytes;
};

static int loopback_socket(int port, bool do_listen)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int ok = do_listen ? bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(fd, 1) == 0
			   : connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (!ok) {
		close(fd);
		return -1;
	}
	return fd;
}

static int bound_port(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	return getsockname(fd, (struct sockaddr *)&a, &len) == 0 ? ntohs(a.sin_port) : -1;
}

int cm_free_local_port(void)
{
	int fd = loopback_socket(0, true);
	int port = fd >= 0 ? bound_port(fd) : -1;
	if (fd >= 0)
		close(fd);
	return port;
}

/* Never SIGPIPE: a peer gone is an end like any other. */
static int send_all(int fd, const unsigned char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A single byte where CRIU reads a whole header: its session fails. */
static void break_session(int server)
{
	if (server < 0)
		return;
	send_all(server, (const unsigned char *)"", 1);
	close(server);
}

/* Follows the daemon's requests to know whether the last was the close. */
struct header_watch {
	unsigned char buf[PS_HEADER_SIZE];
	size_t fill;
};

static void watch(struct header_watch *w, const unsigned char *data, size_t len, bool *closed)
{
	for (size_t i = 0; i < len; i++) {
		w->buf[w->fill++] = data[i];
		if (w->fill < PS_HEADER_SIZE) {
			*closed = false;
			continue;
		}
		uint32_t cmd;
		memcpy(&cmd, w->buf, sizeof(cmd));
		*closed = cmd == PS_IOV_CLOSE;
		w->fill = 0;
	}
}

/* The abort pipe: a byte is an abort; its end (migrate died) is not, once
 * a session is under way. */
static bool aborted(struct cm_page_relay *r)
{
	struct pollfd p = { .fd = r->abort_pipe[0], .events = POLLIN };
	if (poll(&p, 1, 0) != 1)
		return false;
	char c;
	if (read(r->abort_pipe[0], &c, 1) == 1)
		return true;
	r->parent_gone = true;
	return false;
}

/* Carries the session both ways until it ends. */
static void carry(struct cm_page_relay *r, int client, int server)
{
	enum { SIZE = 1 << 20 };
	unsigned char *buf = malloc(SIZE);
	struct header_watch w = { .fill = 0 };
	bool client_done = false;
	while (buf) {
		struct pollfd p[3] = { { .fd = server, .events = POLLIN },
				       { .fd = client_done ? -1 : client, .events = POLLIN },
				       { .fd = r->parent_gone ? -1 : r->abort_pipe[0], .events = POLLIN } };
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[2].revents && aborted(r))
			break;
		if (p[1].revents) {
			ssize_t n = read(client, buf, SIZE);
			if (n <= 0) {
				if (!r->closed)
					break;
				/* the close was the last word: CRIU may end */
				shutdown(server, SHUT_WR);
				client_done = true;
				continue;
			}
			watch(&w, buf, (size_t)n, &r->closed);
			if (send_all(server, buf, (size_t)n) < 0)
				break;
		}
		if (p[0].revents) {
			ssize_t n = read(server, buf, SIZE);
			if (n <= 0) {
				/* CRIU ended the session: whole if it answered the close */
				free(buf);
				close(server);
				close(client);
				return;
			}
			r->bytes += (unsigned long long)n;
			if (!client_done && send_all(client, buf, (size_t)n) < 0)
				client_done = true;
		}
	}
	free(buf);
	r->closed = false;
	break_session(server);
	close(client);
}

static void relay_main(struct cm_page_relay *r)
{
	struct pollfd p[2] = { { .fd = r->listen_fd, .events = POLLIN },
			       { .fd = r->abort_pipe[0], .events = POLLIN } };
	while (poll(p, 2, -1) < 0 && errno == EINTR)
		;
	/* an abort, or migrate gone, before the daemon came: end it all */
	int client = -1;
	if (!p[1].revents && p[0].revents)
		client = accept4(r->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	close(r->listen_fd);
	int server = loopback_socket(r->server_port, false);
	if (client < 0 || aborted(r)) {
		/* CRIU's page server waits in accept() until told */
		if (client >= 0)
			close(client);
		break_session(server);
		return;
	}
	if (server < 0) {
		close(client);
		return;
	}
	carry(r, client, server);
}

/* Everything but the fds the relay uses goes: a copy of a pipe's write end
 * would keep the remote restore from ever seeing the end of its archive. */
static void keep_only(const int *keep, int n)
{
	int prev = 2;
	for (int fd = 3; fd < 1 << 16; fd++) {
		bool kept = false;
		for (int i = 0; i < n; i++)
			kept |= keep[i] == fd;
		if (!kept)
			continue;
		if (fd > prev + 1)
			close_range((unsigned)prev + 1, (unsigned)fd - 1, 0);
		prev = fd;
	}
	close_range((unsigned)prev + 1, ~0U, 0);
}

struct cm_page_relay *cm_page_relay_start(int server_port, int *port, struct cm_error *err)
{
	struct cm_page_relay *r = calloc(1, sizeof(*r));
	if (!r) {
		cm_err(err, ENOMEM, "page relay");
		return NULL;
	}
	r->server_port = server_port;
	r->listen_fd = loopback_socket(0, true);
	if (r->listen_fd < 0 || pipe2(r->abort_pipe, O_CLOEXEC) < 0 || pipe2(r->result_pipe, O_CLOEXEC) < 0) {
		cm_err(err, errno, "listen on 127.0.0.1");
		if (r->listen_fd >= 0)
			close(r->listen_fd);
		free(r);
		return NULL;
	}
	*port = bound_port(r->listen_fd);
	/* A process of its own, out of the terminal's process group: if migrate
	 * is killed in the middle, a transfer under way still ends as it should
	 * (CRIU would take the end of the connection for success). */
	r->pid = fork();
	if (r->pid < 0) {
		cm_err(err, errno, "start the page relay");
		close(r->listen_fd);
		free(r);
		return NULL;
	}
	if (r->pid == 0) {
		setsid();
		signal(SIGINT, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		signal(SIGPIPE, SIG_IGN);
		int keep[] = { r->listen_fd, r->abort_pipe[0], r->result_pipe[1] };
		keep_only(keep, 3);
		close(STDIN_FILENO);
		relay_main(r);
		struct relay_result res = { .closed = r->closed, .bytes = r->bytes };
		(void)!write(r->result_pipe[1], &res, sizeof(res));
		_exit(0);
	}
	close(r->listen_fd);
	close(r->abort_pipe[0]);
	close(r->result_pipe[1]);
	return r;
}

void cm_page_relay_abort(struct cm_page_relay *r)
{
	if (r)
		(void)!write(r->abort_pipe[1], "x", 1);
}

bool cm_page_relay_finish(struct cm_page_relay *r, unsigned long long *bytes)
{
	if (!r)
		return false;
	struct relay_result res = { 0 };
	ssize_t n;
	while ((n = read(r->result_pipe[0], &res, sizeof(res))) < 0 && errno == EINTR)
		;
	if (n != sizeof(res))
		memset(&res, 0, sizeof(res));
	waitpid(r->pid, NULL, 0);
	if (bytes)
		*bytes = res.bytes;
	close(r->abort_pipe[1]);
	close(r->result_pipe[0]);
	free(r);
	return res.closed;
}
