/* ctrmig's CRIU configuration file, <root>/criu.conf. runc hands it to CRIU
 * for every dump and restore of a ctrmig container (the org.criu.config
 * annotation), so that ctrmig can choose CRIU options runc has no flag for. */
#ifndef CM_CRIU_CONF_H
#define CM_CRIU_CONF_H

#include <stdbool.h>

struct cm_error;
struct cm_store;

/* The administrator's config for runc's CRIU: when it exists, ctrmig leaves
 * CRIU's options to it and does not use its own. */
#define CM_RUNC_CRIU_CONF "/etc/criu/runc.conf"

/* <root>/criu.conf, whether it exists or not. */
char *cm_criu_conf_path(struct cm_store *st);

/* The file a container's spec should name, or NULL when CM_RUNC_CRIU_CONF
 * exists. The file itself may not exist yet; CRIU then ignores it. */
char *cm_criu_conf_for_spec(struct cm_store *st);

/* Writes <root>/criu.conf if it is missing: nftables network locking when
 * this CRIU and kernel support it (`criu check --feature network_lock_nftables`),
 * else CRIU's default; the page server on 127.0.0.1. An existing file is the user's and stays as it is. */
int cm_criu_conf_ensure(struct cm_store *st, struct cm_error *err);

/* "nftables" or "iptables": the network lock <root>/criu.conf asks for, with
 * CRIU's default when the file is missing or names none. */
const char *cm_criu_conf_network_lock(struct cm_store *st);
/* The same for a config's text (NULL: no file); the last setting wins, as in CRIU. */
const char *cm_criu_conf_parse_network_lock(const char *text);
/* Whether a config's text keeps CRIU's page server on the loopback
 * ("address 127.0.0.1"): in lazy mode runc passes it only a port. */
bool cm_criu_conf_page_server_local(const char *text);

#endif
