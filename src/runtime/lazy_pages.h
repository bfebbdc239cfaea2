/* restore --lazy: the restored container runs before its memory is read
 * back. CRIU's lazy-pages daemon serves the private anonymous pages from the
 * checkpoint's images on demand (userfaultfd), then the rest in the
 * background, and exits when all are in. runc restore --lazy-pages finds the
 * daemon by its socket, lazy-pages.socket in the shared work folder (CRIU's
 * own rule: both run in the same work folder).
 *
 * ctrmig runs the daemon under `ctrmig __lazy-serve`, detached, which waits
 * for it and only then lets the checkpoint go (the images are needed until
 * the last page is in). */
#ifndef CM_LAZY_PAGES_H
#define CM_LAZY_PAGES_H

#include <stdbool.h>
#include <sys/types.h>

struct cm_store;
struct cm_error;

/* Starts the server for images in work (made if missing) and waits until its
 * socket listens. remove: a folder (the images, or the stage in memory that
 * holds them) to delete once every page is in, or NULL.
 * page_server: "ADDR:PORT" of the CRIU page server that has the lazy pages
 * (migrate --lazy), or NULL for the images' own. cgroup: the container's
 * (its spec's cgroupsPath), whose processes are killed if the daemon fails:
 * they would run with holes in their memory. archive: a JSON file holding
 * the record's lazy_archive (restore --lazy -i FILE left the memory in the
 * archive): ctrmig serves the pages from there itself, over a socketpair
 * (archive/page_server.h); or NULL. Returns the server's pid. */
pid_t cm_lazy_serve_start(const char *images, const char *work, const char *remove,
			  const char *page_server, const char *cgroup, const char *archive,
			  struct cm_error *err);
/* Stops a server whose restore failed. */
void cm_lazy_serve_stop(pid_t pid);

/* `ctrmig __lazy-serve [--rm DIR] [--page-server ADDR:PORT] [--cgroup PATH]
 * [--archive JSON] IMAGES WORK`: runs the daemon, waits, tidies. */
int cm_lazy_serve_main(int argc, char **argv);

#endif
