/* Who listens on a TCP port in this network namespace (/proc/net/tcp and
 * tcp6): migrate --lazy's page port must be reachable from loopback only. */
#ifndef CM_LISTENERS_H
#define CM_LISTENERS_H

struct cm_error;

enum cm_listen {
	CM_LISTEN_NONE,     /* nothing listens on the port */
	CM_LISTEN_LOOPBACK, /* only on 127.0.0.0/8 or ::1 */
	CM_LISTEN_WIDER,    /* on some other address too, wildcards included */
};

/* From the texts of /proc/net/tcp and /proc/net/tcp6 (either may be NULL);
 * wider, when not NONE, gets the first address beyond loopback. */
enum cm_listen cm_listen_parse(const char *tcp, const char *tcp6, int port, char wider[48]);

/* 0 when something listens on port and only on loopback; else -1 saying what
 * was found, for the page port named what. */
int cm_listen_loopback_only(int port, const char *what, struct cm_error *err);

#endif
