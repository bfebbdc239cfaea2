/* The network options of run and create (and -p of restore), parsed and then
 * written into a container's config:
 *   network: "ctrmig" (bridge), a network's name, "none" or "host";
 *   ip, mac, ports, expose, dns, dns_search, dns_options, add_hosts;
 *   etc_mounts: true (the container gets ctrmig's /etc/hosts and friends). */
#ifndef CM_NET_OPTS_H
#define CM_NET_OPTS_H

#include <jansson.h>
#include <stdbool.h>

struct cm_store;
struct cm_error;

struct net_opts {
	const char *network, *ip, *mac, *hostname;
	bool publish_all;
	json_t *ports, *expose, *dns, *dns_search, *dns_options, *add_hosts;
};

/* One option, by its short letter: p (publish), P (publish all), x (expose),
 * I (ip), M (mac), H (hostname), S (dns), R (dns search), O (dns option),
 * T (add host). */
int cm_net_opt(struct net_opts *o, int opt, const char *arg, struct cm_error *err);

/* Checks the options against the network and the image (image_run: its
 * config's ExposedPorts) and writes them into config. */
int cm_net_opts_apply(struct cm_store *st, struct net_opts *o, json_t *image_run, json_t *config,
		      struct cm_error *err);
void cm_net_opts_free(struct net_opts *o);

/* Checks that config's address fits its network on this host: the network
 * exists, the IP is in its subnet. */
int cm_net_config_check(struct cm_store *st, json_t *config, const char *ip, struct cm_error *err);

#endif
