/* ctrmig's networks: one CNI conflist each, in <root>/networks/NAME.conflist
 * (bridge, host-local, portmap, firewall, tuning from the standard plugins).
 * The default network "ctrmig" (bridge ctrmig0, 10.99.0.0/24, apart from
 * Podman's 10.88.0.0/16) is written on first use. Bridges, routes and
 * host-local's reservations (/var/lib/cni/networks/NAME) belong to the host,
 * so a network of one name means the same bridge and subnet in every store. */
#ifndef CM_NETWORKS_H
#define CM_NETWORKS_H

#include <jansson.h>
#include <stdbool.h>

#include "subnet.h"

struct cm_store;
struct cm_error;

#define CM_NET_DEFAULT "ctrmig"
#define CM_NET_DEFAULT_SUBNET "10.99.0.0/24"

bool cm_net_name_valid(const char *name);
/* none, host and bridge are modes, not networks. */
bool cm_net_is_mode(const char *name);

/* The conflist of network name (the default one written if missing), or
 * NULL with err set: "network NAME not found". */
json_t *cm_net_load(struct cm_store *st, const char *name, struct cm_error *err);
/* Every network, the default first (created if missing). */
json_t *cm_net_list(struct cm_store *st, struct cm_error *err);
/* A new network; subnet NULL picks the first free 10.99.N.0/24. */
json_t *cm_net_create(struct cm_store *st, const char *name, const char *subnet,
		      struct cm_error *err);
/* Refused for the default network and while a container names it. */
int cm_net_remove(struct cm_store *st, const char *name, struct cm_error *err);

/* What a conflist says. */
bool cm_net_subnet(json_t *conflist, struct cm_subnet *out);
const char *cm_net_bridge(json_t *conflist);
/* Podman's view of a network, for `network inspect` and `ls`. */
json_t *cm_net_describe(json_t *conflist);

/* The conflist ctrmig writes for a bridge network (exposed for unit tests). */
json_t *cm_net_conflist(const char *name, const char *bridge, const struct cm_subnet *subnet);

#endif
