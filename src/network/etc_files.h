/* /etc/hosts, /etc/hostname and /etc/resolv.conf of a container, written in
 * <ctr>/etc/ at every start and restore and bind-mounted over the image's,
 * as Podman does: a restored copy with a new address gets a hosts file that
 * names it. */
#ifndef CM_ETC_FILES_H
#define CM_ETC_FILES_H

#include <jansson.h>

struct cm_store;
struct cm_error;

/* ip: the container's address, or NULL without one. */
int cm_etc_files_write(struct cm_store *st, json_t *rec, const char *ip, struct cm_error *err);

/* The texts themselves (pure, for unit tests). host_resolv is the host's
 * /etc/resolv.conf, used unless the config names DNS servers. */
char *cm_etc_hosts_text(json_t *config, const char *name, const char *ip);
char *cm_etc_resolv_text(json_t *config, const char *host_resolv);

/* The destinations, in the order the spec mounts them. */
extern const char *const cm_etc_files[3];

#endif
