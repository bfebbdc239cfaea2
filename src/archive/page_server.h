/* restore --lazy -i FILE: the memory a lazy restore left in the archive,
 * served to CRIU's lazy-pages daemon over its page-server protocol (CRIU's
 * criu/page-xfer.c: PS_IOV_GET asks for pages of a task by address, the
 * answer is PS_IOV_ADD_F with the pages). Each chunk is checked against its
 * digest before a page of it is sent, so memory reaches the container only
 * as the signed manifest vouches for it; a chunk that fails ends the
 * server, the daemon with it, and the container (runtime/lazy_pages.c). */
#ifndef CM_PAGE_SERVER_H
#define CM_PAGE_SERVER_H

#include <jansson.h>

struct cm_error;

/* Serves on sock (one end of a socketpair whose other end the daemon got
 * as --ps-socket) until the daemon says it has all: 0, or -1 with err.
 * images: the checkpoint's folder (its memory maps); lazy_archive: the
 * record's {"file", "members": {name: chunked digest}}. */
int cm_page_server_run(int sock, const char *images, json_t *lazy_archive, struct cm_error *err);

#endif
