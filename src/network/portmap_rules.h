/* The host ports CNI's portmap publishes on this host, read from its
 * iptables rules: those of other stores' containers and of Podman's, which
 * no record of this store shows (a DNAT holds no socket either). */
#ifndef CM_PORTMAP_RULES_H
#define CM_PORTMAP_RULES_H

#include <jansson.h>

/* From `iptables-save -t nat` text, all but self_id's (NULL: all):
 * [{host_ip ("" for any), host_port, protocol, owner (the container id in
 * portmap's comment on the CNI-HOSTPORT-DNAT jump, "?" if none)}]. */
json_t *cm_portmap_parse_dnat(const char *text, const char *self_id);

/* Appends them to taken, when iptables-save runs; else nothing. */
void cm_portmap_published(json_t *taken, const char *self_id);

#endif
