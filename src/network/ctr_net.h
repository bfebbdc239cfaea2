/* A container's network while it runs: its namespace, its address on a CNI
 * network, and the /etc/hosts, /etc/hostname and /etc/resolv.conf mounted
 * into it. Attached before runc create or restore, detached when its process
 * ends (by the monitor) and on rm, always while the namespace still exists.
 *
 * <ctr>/network.json is the cache libcni keeps in /var/lib/cni/results: the
 * exact conflist, CNI_ARGS and capability args of the ADD and its result, so
 * that DEL gets the same ones. It is written before ADD: a crash half-way
 * still gets its DEL. <ctr>/network.status is the last address in Podman's
 * format; a restore asks for that address again, and archives carry it. */
#ifndef CM_CTR_NET_H
#define CM_CTR_NET_H

#include <jansson.h>
#include <stdbool.h>

struct cm_store;
struct cm_error;

/* Beyond what the record says: the address a restore asks for again. */
struct cm_net_request {
	const char *ip, *mac;
};

/* Makes the namespace, runs CNI ADD (for a CNI network), writes the /etc
 * files. On failure nothing is left attached. */
int cm_ctr_net_up(struct cm_store *st, json_t *rec, const struct cm_net_request *req,
		  struct cm_error *err);
/* The two halves of cm_ctr_net_up, for a restore that lets runc start while
 * the plugins run: prepare (stale state released, ports checked, the
 * namespace made, all quick) and attach (CNI ADD, network.status, the /etc
 * files). */
int cm_ctr_net_prepare(struct cm_store *st, json_t *rec, struct cm_error *err);
int cm_ctr_net_attach(struct cm_store *st, json_t *rec, const struct cm_net_request *req,
		      struct cm_error *err);
/* A restore runs attach in a child while runc restore starts; the spec's
 * prestart hook (`ctrmig __net-wait`), which runc runs at CRIU's
 * setup-namespaces step, before any socket is restored, waits for the
 * child's word in <ctr>/net.ready: "ok", or "error MESSAGE". */
int cm_net_ready_write(const char *ctr_dir, const char *error);
void cm_net_ready_clear(const char *ctr_dir);
int cm_net_wait_hook(struct cm_error *err);
/* CNI DEL with the cached arguments, then the namespace goes. Idempotent;
 * failures are warnings (the address must not block the container's end). */
void cm_ctr_net_down(struct cm_store *st, const char *id);
/* Whether the container holds an address (network.json exists). */
bool cm_ctr_net_attached(struct cm_store *st, const char *id);
/* migrate --lazy within one host: the frozen source's address goes to its
 * copy, which restores under the same id, before the source's memory has
 * gone. CNI DEL in the source's namespace, which stays (its processes are
 * in it), and nothing is left for its monitor to release: a DEL under the
 * same id after the copy's ADD would release the copy's. */
int cm_ctr_net_hand_over(struct cm_store *st, const char *id, struct cm_error *err);
/* The source resumed (the move failed): CNI ADD again in its namespace,
 * with the address and MAC it had. Nothing to do if it was not handed over. */
int cm_ctr_net_take_back(struct cm_store *st, json_t *rec, struct cm_error *err);

/* What host-local has written for ip on network net (the holder's id), or
 * NULL while the address is free. Bridges and reservations are the host's,
 * shared by every store. */
char *cm_ctr_net_holder(const char *net, const char *ip);

/* The container's network.status (Podman's StatusBlock per network), or NULL. */
json_t *cm_ctr_net_status(struct cm_store *st, const char *id);
/* The first interface's address in a status: network name, IP, prefix
 * length, gateway and MAC (any may be "" when missing). False if none. */
struct cm_net_address {
	char network[65], ip[16], gateway[16], mac[18];
	int prefix;
};
bool cm_net_status_address(json_t *status, struct cm_net_address *out);
/* Checks an archive's network.status: one network, one interface with an
 * IPv4 address and gateway and a unicast MAC. */
int cm_net_status_check(json_t *status, struct cm_error *err);

/* inspect's NetworkSettings, Podman's names: IPAddress, IPPrefixLen,
 * Gateway, MacAddress, Ports, SandboxKey, Networks.NAME.{...}. The address
 * shows while the container holds it. */
json_t *cm_ctr_net_settings(struct cm_store *st, json_t *rec);

/* The files bind-mounted at /etc/hosts, /etc/hostname, /etc/resolv.conf. */
char *cm_ctr_etc_file(struct cm_store *st, const char *id, const char *name);

#endif
