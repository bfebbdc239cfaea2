/* CRIU locks a container's network while it dumps, and unlocks it when the
 * dump ends, except after a failed lazy-pages transfer: then the container
 * runs on here, but its namespace still drops every packet (CRIU 4.2,
 * cr-dump.c: network_unlock() is not on that path). This takes the lock
 * away: CRIU's nftables table, or its iptables chain. */
#ifndef CM_CRIU_NETLOCK_H
#define CM_CRIU_NETLOCK_H

#include <sys/types.h>

struct cm_error;

/* In the network namespace of pid. */
int cm_criu_network_unlock(pid_t pid, struct cm_error *err);

#endif
