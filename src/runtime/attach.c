#include "attach.h"
#include "error.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

size_t cm_attach_frame(uint8_t *buf, char type, const void *payload, size_t len)
{
	buf[0] = (uint8_t)type;
	buf[1] = (uint8_t)(len >> 8);
	buf[2] = (uint8_t)len;
	if (len)
		memcpy(buf + 3, payload, len);
	return 3 + len;
}

int cm_attach_parse_keys(const char *spec, uint8_t out[16], struct cm_error *err)
{
	int n = 0;
	cm_autofree char *copy = cm_strdup(spec);
	char *save = NULL;
	for (char *k = strtok_r(copy, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
		if (n == 16)
			return cm_err(err, 0, "--detach-keys %s: at most 16 keys", spec);
		if (strlen(k) == 1 && isprint((unsigned char)k[0])) {
			out[n++] = (uint8_t)k[0];
		} else if (!strncmp(k, "ctrl-", 5) && strlen(k) == 6) {
			int c = toupper((unsigned char)k[5]);
			if (c < '@' || c > '_')
				return cm_err(err, 0, "--detach-keys %s: '%s' is not a key", spec, k);
			out[n++] = (uint8_t)(c - '@');
		} else {
			return cm_err(err, 0, "--detach-keys %s: '%s' is not a key (a character or ctrl-X)", spec, k);
		}
	}
	return n;
}

static int bind_unix(const char *path, struct cm_error *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		return cm_err(err, 0, "socket path %s is too long", path);
	strcpy(sa.sun_path, path);
	cm_autofree char *copy = cm_strdup(path);
	if (cm_mkdir_p(dirname(copy), 0700, err) < 0)
		return -1;
	unlink(path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return cm_err(err, errno, "socket");
	/* Only root reaches a container's terminal. */
	mode_t old = umask(0077);
	int r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0 || listen(fd, 8) < 0) {
		int e = errno;
		close(fd);
		return cm_err(err, e, "listen on %s", path);
	}
	return fd;
}

int cm_attach_server_open(struct cm_attach_server *s, const char *path, struct cm_error *err)
{
	memset(s, 0, sizeof(*s));
	for (int i = 0; i < CM_ATTACH_CLIENTS; i++)
		s->clients[i].fd = -1;
	s->listen_fd = bind_unix(path, err);
	if (s->listen_fd < 0)
		return -1;
	fcntl(s->listen_fd, F_SETFL, O_NONBLOCK);
	return 0;
}

void cm_attach_server_accept(struct cm_attach_server *s)
{
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	for (int i = 0; i < CM_ATTACH_CLIENTS; i++) {
		if (s->clients[i].fd < 0) {
			s->clients[i].fd = fd;
			s->clients[i].in_len = 0;
			return;
		}
	}
	close(fd); /* too many at once */
}

static void drop(struct cm_attach_client *c)
{
	close(c->fd);
	c->fd = -1;
	c->in_len = 0;
}

static void send_all(struct cm_attach_client *c, const char *buf, size_t len)
{
	/* A client that does not keep up loses output rather than stalling the
	 * container: the log has all of it. */
	while (c->fd >= 0 && len) {
		ssize_t n = send(c->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			drop(c);
			return;
		}
		buf += n;
		len -= (size_t)n;
	}
}

static void replay(struct cm_attach_server *s, struct cm_attach_client *c)
{
	if (!s->ring_full) {
		send_all(c, s->ring, s->ring_len);
		return;
	}
	send_all(c, s->ring + s->ring_len, CM_ATTACH_RING - s->ring_len);
	send_all(c, s->ring, s->ring_len);
}

void cm_attach_server_read(struct cm_attach_server *s, int i, const struct cm_attach_sink *sink)
{
	struct cm_attach_client *c = &s->clients[i];
	ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		drop(c);
		return;
	}
	c->in_len += (size_t)n;
	size_t off = 0;
	while (c->in_len - off >= 3) {
		uint8_t type = c->in[off];
		size_t len = (size_t)c->in[off + 1] << 8 | c->in[off + 2];
		if (len > CM_ATTACH_FRAME_MAX) {
			drop(c);
			return;
		}
		if (c->in_len - off < 3 + len)
			break;
		const uint8_t *p = c->in + off + 3;
		if (type == CM_ATTACH_HELLO && len >= 1 && (p[0] & CM_ATTACH_REPLAY))
			replay(s, c);
		else if (type == CM_ATTACH_DATA && sink->input)
			sink->input(sink->arg, p, len);
		else if (type == CM_ATTACH_WINSIZE && len == 4 && sink->winsize)
			sink->winsize(sink->arg, (unsigned)p[0] << 8 | p[1], (unsigned)p[2] << 8 | p[3]);
		else if (type == CM_ATTACH_CLOSE && sink->close_stdin)
			sink->close_stdin(sink->arg);
		if (c->fd < 0)
			return;
		off += 3 + len;
	}
	memmove(c->in, c->in + off, c->in_len - off);
	c->in_len -= off;
}

void cm_attach_server_broadcast(struct cm_attach_server *s, const char *buf, size_t len)
{
	for (int i = 0; i < CM_ATTACH_CLIENTS; i++)
		if (s->clients[i].fd >= 0)
			send_all(&s->clients[i], buf, len);
	/* the ring keeps the last CM_ATTACH_RING bytes */
	while (len) {
		size_t room = CM_ATTACH_RING - s->ring_len, k = len < room ? len : room;
		memcpy(s->ring + s->ring_len, buf, k);
		s->ring_len += k;
		buf += k;
		len -= k;
		if (s->ring_len == CM_ATTACH_RING) {
			s->ring_len = 0;
			s->ring_full = true;
		}
	}
}

void cm_attach_server_close(struct cm_attach_server *s, const char *path)
{
	for (int i = 0; i < CM_ATTACH_CLIENTS; i++)
		if (s->clients[i].fd >= 0)
			drop(&s->clients[i]);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	s->listen_fd = -1;
	if (path)
		unlink(path);
}

int cm_console_listen(const char *path, struct cm_error *err)
{
	return bind_unix(path, err);
}

int cm_console_receive(int listen_fd, struct cm_error *err)
{
	int conn = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (conn < 0)
		return cm_err(err, errno, "accept on the console socket");
	char name[256];
	struct iovec iov = { name, sizeof(name) };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			      .msg_controllen = sizeof(u.buf) };
	ssize_t n;
	do
		n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	close(conn);
	struct cmsghdr *cm = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL;
	if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
	    cm->cmsg_len != CMSG_LEN(sizeof(int)))
		return cm_err(err, 0, "runc sent no terminal on the console socket");
	int fd;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}
