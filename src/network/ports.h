/* Published ports (-p, -P) as the record keeps them, in Podman's names:
 * {"host_ip": "", "host_port": 8080, "container_port": 80, "protocol": "tcp"};
 * portmap's DNAT does the publishing. Exposed ports ("80/tcp") come from the
 * image and --expose. */
#ifndef CM_PORTS_H
#define CM_PORTS_H

#include <jansson.h>
#include <stdbool.h>

struct cm_store;
struct cm_error;

/* Parses -p [[IP:][HOSTPORT]:]CTRPORT[/tcp|udp] (Docker's forms); a missing
 * host port is 0 until cm_ports_assign picks one. */
json_t *cm_port_parse(const char *spec, struct cm_error *err);
/* A port object from an untrusted record, checked and rebuilt; NULL if bad. */
json_t *cm_port_check(json_t *p);
/* Parses --expose / ExposedPorts keys: PORT[/tcp|udp], into "PORT/proto". */
char *cm_port_exposed_parse(const char *spec, struct cm_error *err);

/* Gives every port with host_port 0 a free one of this host (none that the
 * store's other containers publish, running or not), and refuses a port
 * published twice, taken by a running container of this store, or bound by
 * a program of the host. self_id: the container itself (NULL). */
int cm_ports_assign(struct cm_store *st, json_t *ports, const char *self_id, struct cm_error *err);

/* p's host port, random in lo-hi: one free to bind as p's protocol on ip
 * ("" for any), in no mapping of taken (same port and protocol) and not in
 * reserved (ip_local_reserved_ports' "8080,9000-9010"; NULL: none). Random,
 * not bind(0): the kernel may hand back a port whose socket is closed but
 * which another container's DNAT publishes. -1 after 256 tries. */
int cm_ports_pick_random(const char *ip, json_t *p, json_t *taken, int lo, int hi, const char *reserved);
/* Whether port is in such a list. */
bool cm_port_in_list(const char *list, int port);

/* "0.0.0.0:8080->80/tcp, 443/tcp" as ps shows it (exposed ones without a
 * mapping after the published ones). */
char *cm_ports_text(json_t *config);
/* inspect's NetworkSettings.Ports: {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}. */
json_t *cm_ports_inspect(json_t *config);

#endif
