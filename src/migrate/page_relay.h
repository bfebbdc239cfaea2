/* migrate --lazy: the one way in to CRIU's page server. The target's
 * lazy-pages daemon reaches this relay (on 127.0.0.1, through ssh's
 * forwarded port), and the relay carries its session to CRIU's page server
 * (also on 127.0.0.1 only, by ctrmig's CRIU config).
 *
 * Why a relay: CRIU takes an end of the connection without the daemon's
 * closing request for success (page-xfer.c: a zero-byte read ends the
 * session with status 0) and then kills the container here, although the
 * target never got its memory: a dropped ssh connection would lose the
 * container on both hosts. The relay passes an end on only after the
 * daemon's closing request; any other end, or an abort before the daemon
 * came, reaches CRIU as a broken request, so that CRIU fails the dump and
 * lets the container run on here.
 *
 * The relay is a process of its own that ignores the terminal's signals:
 * migrate killed while pages move does not end the session badly; migrate
 * killed before the daemon came ends it (the container runs on here). */
#ifndef CM_MIGRATE_PAGE_RELAY_H
#define CM_MIGRATE_PAGE_RELAY_H

#include <stdbool.h>

struct cm_error;
struct cm_page_relay;

/* Listens on 127.0.0.1 at a free port (*port) for one session, to be
 * carried to CRIU's page server at 127.0.0.1:server_port. */
struct cm_page_relay *cm_page_relay_start(int server_port, int *port, struct cm_error *err);

/* The session is not to finish: whatever state it is in, CRIU gets a
 * broken request (the container runs on here). */
void cm_page_relay_abort(struct cm_page_relay *r);

/* Waits for the relay's end and frees it; true when the daemon closed the
 * session as CRIU expects after the last page. *bytes: what CRIU sent. */
bool cm_page_relay_finish(struct cm_page_relay *r, unsigned long long *bytes);

/* A free TCP port on 127.0.0.1, or -1. */
int cm_free_local_port(void);

#endif
