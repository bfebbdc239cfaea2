/* The container's network namespace. runc sets up loopback when it creates a
 * container, but a restored container gets an empty namespace (runc leaves
 * network set-up to hooks, as Podman's does): ctrmig's prestart hook brings
 * loopback up before the restored processes run again. */
#ifndef CM_NETNS_H
#define CM_NETNS_H

struct cm_error;

/* The hook itself: `ctrmig __netns-lo-up` with the OCI state on stdin. */
int cm_netns_lo_up_hook(struct cm_error *err);
/* Brings "lo" up in the network namespace of pid. */
int cm_netns_lo_up(int pid, struct cm_error *err);

#endif
