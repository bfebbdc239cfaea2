#include "attach_session.h"
#include "attach.h"
#include "container.h"
#include "ctr_log.h"
#include "error.h"
#include "jsonio.h"
#include "store.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

static volatile sig_atomic_t winch;

static void on_winch(int sig)
{
	(void)sig;
	winch = 1;
}

static int connect_to(const char *path, struct cm_error *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return cm_err(err, errno, "socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		return cm_err(err, e, "connect to the container's monitor (%s)", path);
	}
	return fd;
}

static int send_frame(int fd, char type, const void *payload, size_t len)
{
	uint8_t buf[3 + CM_ATTACH_FRAME_MAX];
	size_t n = cm_attach_frame(buf, type, payload, len);
	return cm_write_all(fd, buf, n);
}

static void send_winsize(int fd)
{
	struct winsize ws;
	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0)
		return;
	uint8_t p[4] = { (uint8_t)(ws.ws_row >> 8), (uint8_t)ws.ws_row, (uint8_t)(ws.ws_col >> 8),
			 (uint8_t)ws.ws_col };
	send_frame(fd, CM_ATTACH_WINSIZE, p, 4);
}

/* Sends keystrokes on, holding back a prefix of the detach keys until it is
 * whole (detach) or broken (sent after all). */
struct keys {
	uint8_t seq[16];
	int n, matched;
};

static bool feed_keys(struct keys *k, int fd, const uint8_t *in, size_t len)
{
	uint8_t out[2 * CM_ATTACH_FRAME_MAX];
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		if (k->n && in[i] == k->seq[k->matched]) {
			if (++k->matched == k->n)
				return true;
			continue;
		}
		memcpy(out + o, k->seq, (size_t)k->matched);
		o += (size_t)k->matched;
		k->matched = 0;
		if (k->n && in[i] == k->seq[0]) {
			k->matched = 1;
			if (k->n == 1)
				return true;
			continue;
		}
		out[o++] = in[i];
	}
	for (size_t off = 0; off < o; off += CM_ATTACH_FRAME_MAX) {
		size_t chunk = o - off < CM_ATTACH_FRAME_MAX ? o - off : CM_ATTACH_FRAME_MAX;
		send_frame(fd, CM_ATTACH_DATA, out + off, chunk);
	}
	return false;
}

int cm_attach_session(struct cm_store *st, json_t *rec, const struct cm_attach_opts *o, bool *detached,
		      struct cm_error *err)
{
	const char *id = cm_json_str(rec, "id"), *name = cm_json_str(rec, "name");
	json_t *config = json_object_get(rec, "config");
	bool tty = cm_json_bool(config, "tty");
	bool input = !o->no_stdin && (tty || cm_json_bool(config, "stdin_open"));
	*detached = false;
	struct keys keys = { 0 };
	keys.n = cm_attach_parse_keys(o->detach_keys ? o->detach_keys : "ctrl-p,ctrl-q", keys.seq, err);
	if (keys.n < 0)
		return -1;
	if (tty && input && !isatty(STDIN_FILENO))
		return cm_err(err, 0, "container %s has a terminal, and the input device is not a TTY: "
				      "attach from a terminal, or with --no-stdin", name);
	cm_autofree char *path = cm_store_socket_path(st, "attach", id);
	int fd = connect_to(path, err);
	if (fd < 0 && o->replay && cm_ctr_wait_exit(st, rec, 5)) {
		/* It ended before we could attach (start -a of a short command):
		 * what it wrote is in its log, its status in exit.json. */
		cm_error_clear(err);
		cm_autofree char *log = cm_store_ctr_path(st, id, "ctr.log");
		off_t offset = 0;
		cm_ctr_log_print(log, &offset, false, NULL, NULL);
		struct cm_ctr_state s;
		cm_ctr_state_get(st, rec, &s);
		cm_ctr_state_free(&s);
		return s.status == CM_CTR_EXITED ? s.exit_code : 0;
	}
	if (fd < 0)
		return cm_err_wrap(err, "attach %s (is it running?)", name);
	uint8_t hello = o->replay ? CM_ATTACH_REPLAY : 0;
	send_frame(fd, CM_ATTACH_HELLO, &hello, 1);

	struct termios saved;
	bool raw = tty && input && tcgetattr(STDIN_FILENO, &saved) == 0;
	if (raw) {
		struct termios t = saved;
		cfmakeraw(&t);
		tcsetattr(STDIN_FILENO, TCSANOW, &t);
		struct sigaction sa = { .sa_handler = on_winch };
		sigaction(SIGWINCH, &sa, NULL);
		send_winsize(fd);
	}
	bool stdin_open = input, got_output = false;
	for (;;) {
		if (winch) {
			winch = 0;
			send_winsize(fd);
		}
		struct pollfd pfd[2] = { { fd, POLLIN, 0 }, { stdin_open ? STDIN_FILENO : -1, POLLIN, 0 } };
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			char buf[8192];
			ssize_t n = read(fd, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break; /* the container ended */
			got_output = true;
			cm_write_all(STDOUT_FILENO, buf, (size_t)n);
		}
		if (stdin_open && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			uint8_t buf[CM_ATTACH_FRAME_MAX];
			ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				stdin_open = false;
				send_frame(fd, CM_ATTACH_CLOSE, NULL, 0);
			} else if (feed_keys(&keys, fd, buf, (size_t)n)) {
				*detached = true;
				break;
			}
		}
	}
	close(fd);
	if (raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	if (*detached) {
		fprintf(stderr, "\r\nctrmig: detached from %s\n", name);
		return 0;
	}
	cm_ctr_wait_exit(st, rec, 10);
	/* It ended while we connected, before the monitor read our hello
	 * (start -a of a short command, on a busy host): nothing was replayed,
	 * and what it wrote is in its log. */
	struct cm_ctr_state s;
	cm_ctr_state_get(st, rec, &s);
	cm_ctr_state_free(&s);
	if (o->replay && !got_output && s.status == CM_CTR_EXITED) {
		cm_autofree char *log = cm_store_ctr_path(st, id, "ctr.log");
		off_t offset = 0;
		cm_ctr_log_print(log, &offset, false, NULL, NULL);
	}
	/* checkpointed while attached: it did not exit */
	return s.status == CM_CTR_EXITED ? s.exit_code : 0;
}
