/* The container's network namespace. A container made by this version has
 * one of its own that ctrmig creates and keeps, bind-mounted at a path the
 * runc config names (as Podman does): runc then treats it as external at
 * checkpoint and hands it back to CRIU at restore, loopback already up.
 * Containers of older archives had runc make theirs; a restored one gets an
 * empty namespace, so ctrmig's prestart hook brings loopback up. */
#ifndef CM_NETNS_H
#define CM_NETNS_H

#include <stdbool.h>

struct cm_error;

/* Makes a network namespace with loopback up and bind-mounts it at path;
 * one already mounted there is kept. */
int cm_netns_create(const char *path, struct cm_error *err);
bool cm_netns_is_mounted(const char *path);
/* Unmounts and deletes it; nothing there is fine. */
void cm_netns_remove(const char *path);

/* The hook itself: `ctrmig __netns-lo-up` with the OCI state on stdin. */
int cm_netns_lo_up_hook(struct cm_error *err);
/* Brings "lo" up in the network namespace of pid. */
int cm_netns_lo_up(int pid, struct cm_error *err);

#endif
