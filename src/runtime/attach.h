/* Attaching to a container through its monitor. The monitor owns the
 * container's terminal (the pty master runc hands over on its console
 * socket) or, with -i and no terminal, the write end of its stdin; it
 * listens on a unix socket (mode 0600, in the store's /run folder) for
 * `attach` and `run -it` clients.
 *
 * Client to monitor: frames of a type byte, a big-endian 16-bit length and
 * the payload:
 *   'h' hello, payload[0] bit 0: replay the output kept since the start
 *   'd' bytes for the container's stdin
 *   'w' window size: rows and columns, 16 bits each, big-endian
 *   'c' the client's stdin ended: close the container's (no terminal only)
 * Monitor to client: the container's output as it comes, unframed; the
 * monitor closes the connection when the container has ended. */
#ifndef CM_ATTACH_H
#define CM_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CM_ATTACH_HELLO 'h'
#define CM_ATTACH_DATA 'd'
#define CM_ATTACH_WINSIZE 'w'
#define CM_ATTACH_CLOSE 'c'
#define CM_ATTACH_REPLAY 1
#define CM_ATTACH_FRAME_MAX 4096

struct cm_error;

/* A frame into buf (3 + len bytes); returns its length. */
size_t cm_attach_frame(uint8_t *buf, char type, const void *payload, size_t len);

/* Parses the detach keys (Docker's form: "ctrl-p,ctrl-q", single characters,
 * "ctrl-@".."ctrl-_"; "" for none) into out; returns the count or -1. */
int cm_attach_parse_keys(const char *spec, uint8_t out[16], struct cm_error *err);

/* ---- the monitor's side ---- */

struct cm_attach_client {
	int fd;
	uint8_t in[3 + CM_ATTACH_FRAME_MAX];
	size_t in_len;
};

#define CM_ATTACH_CLIENTS 16
#define CM_ATTACH_RING (64 * 1024)

struct cm_attach_server {
	int listen_fd;
	struct cm_attach_client clients[CM_ATTACH_CLIENTS];
	/* the output so far, up to CM_ATTACH_RING bytes, for a client that asks
	 * (run -it attaches just after the start) */
	char ring[CM_ATTACH_RING];
	size_t ring_len;
	bool ring_full;
};

/* What a client's frames do, called by cm_attach_server_read. */
struct cm_attach_sink {
	void (*input)(void *arg, const uint8_t *data, size_t len);
	void (*winsize)(void *arg, unsigned rows, unsigned cols);
	void (*close_stdin)(void *arg);
	void *arg;
};

int cm_attach_server_open(struct cm_attach_server *s, const char *path, struct cm_error *err);
void cm_attach_server_accept(struct cm_attach_server *s);
/* Reads what client i sent and acts on whole frames; drops it at EOF. */
void cm_attach_server_read(struct cm_attach_server *s, int i, const struct cm_attach_sink *sink);
/* Sends output to every client and keeps it for replay. */
void cm_attach_server_broadcast(struct cm_attach_server *s, const char *buf, size_t len);
void cm_attach_server_close(struct cm_attach_server *s, const char *path);

/* The console socket runc sends the pty master on: listen, then receive. */
int cm_console_listen(const char *path, struct cm_error *err);
int cm_console_receive(int listen_fd, struct cm_error *err);

#endif
