#include "listeners.h"
#include "error.h"
#include "util.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TCP_LISTEN 0x0A

/* The kernel prints each 32-bit word of an address as the number it is in
 * memory (%08X), so the bytes come back by storing the numbers again. */
static int hex_address(const char *hex, size_t words, unsigned char *bytes)
{
	for (size_t w = 0; w < words; w++) {
		char part[9];
		memcpy(part, hex + 8 * w, 8);
		part[8] = 0;
		char *end;
		uint32_t v = (uint32_t)strtoul(part, &end, 16);
		if (*end)
			return -1;
		memcpy(bytes + 4 * w, &v, 4);
	}
	return 0;
}

static bool loopback(const unsigned char *b, size_t len)
{
	static const unsigned char one6[16] = { [15] = 1 };
	static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };
	if (len == 4)
		return b[0] == 127;
	return !memcmp(b, one6, 16) || (!memcmp(b, mapped, 12) && b[12] == 127);
}

/* One table: lines "sl: ADDR:PORT REMOTE:PORT ST ...". */
static enum cm_listen scan(const char *text, size_t words, int port, char wider[48])
{
	enum cm_listen found = CM_LISTEN_NONE;
	const char *line = text ? strchr(text, '\n') : NULL; /* past the header */
	while (line && *++line) {
		char local[40], remote[40];
		unsigned lport, st;
		if (sscanf(line, "%*s %39[0-9A-Fa-f]:%x %39s %x", local, &lport, remote, &st) == 4 &&
		    st == TCP_LISTEN && (int)lport == port && strlen(local) == 8 * words) {
			unsigned char b[16];
			if (hex_address(local, words, b) < 0)
				continue;
			if (!loopback(b, 4 * words)) {
				inet_ntop(words == 1 ? AF_INET : AF_INET6, b, wider, 48);
				return CM_LISTEN_WIDER;
			}
			found = CM_LISTEN_LOOPBACK;
		}
		line = strchr(line, '\n');
	}
	return found;
}

enum cm_listen cm_listen_parse(const char *tcp, const char *tcp6, int port, char wider[48])
{
	enum cm_listen four = scan(tcp, 1, port, wider);
	if (four == CM_LISTEN_WIDER)
		return four;
	enum cm_listen six = scan(tcp6, 4, port, wider);
	return six != CM_LISTEN_NONE ? six : four;
}

int cm_listen_loopback_only(int port, const char *what, struct cm_error *err)
{
	struct cm_error e = { 0 };
	cm_autofree char *tcp = cm_read_file_max("/proc/net/tcp", 64 << 20, NULL, &e);
	if (!tcp) {
		/* unread, it would pass for "nothing listens" */
		*err = e;
		return cm_err_wrap(err, "%s: cannot tell who listens on port %d here", what, port);
	}
	/* absent without IPv6 */
	cm_autofree char *tcp6 = cm_read_file_max("/proc/net/tcp6", 64 << 20, NULL, NULL);
	char wider[48] = "";
	switch (cm_listen_parse(tcp, tcp6, port, wider)) {
	case CM_LISTEN_LOOPBACK:
		return 0;
	case CM_LISTEN_NONE:
		return cm_err(err, 0, "%s: nothing listens on port %d here", what, port);
	default:
		/* sshd's GatewayPorts yes binds a forward to every interface */
		return cm_err(err, 0, "%s: port %d here listens on %s, not only on loopback (sshd's GatewayPorts "
				      "yes?): the pages would be open to the network", what, port, wider);
	}
}
