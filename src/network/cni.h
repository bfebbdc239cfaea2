/* The CNI protocol, spoken to the standard plugins directly (SPEC 1.0.0):
 * one plugin per list entry, its configuration on stdin, CNI_* variables in
 * its environment, its result on stdout. ADD runs the list in order, each
 * plugin given the previous result; DEL runs it in reverse with the final
 * ADD result, which the caller keeps (libcni's cache, here the container's
 * network.json). */
#ifndef CM_CNI_H
#define CM_CNI_H

#include <jansson.h>
#include <stdbool.h>

struct cm_error;

struct cm_cni_call {
	json_t *conflist;          /* {cniVersion, name, plugins: [...]} */
	const char *container_id;
	const char *netns;         /* may be NULL on DEL: bridge then only frees the address */
	const char *ifname;
	const char *args;          /* CNI_ARGS, "K=V;K2=V2" */
	json_t *capability_args;   /* e.g. {"portMappings": [...]}, or NULL */
};

/* The folders searched for plugins: CTRMIG_CNI_PATH, else Debian's and the
 * upstream default. */
const char *cm_cni_path(void);
/* Whether a plugin of this type is installed. */
bool cm_cni_plugin_found(const char *type);

/* Runs ADD through the list; returns the final result, or NULL with err set
 * (the plugin's own message). The caller must still DEL after a failure. */
json_t *cm_cni_add(const struct cm_cni_call *c, struct cm_error *err);

/* Runs DEL in reverse order with prev_result (NULL if ADD never finished).
 * Every plugin is run even after one fails; the first failure is reported. */
int cm_cni_del(const struct cm_cni_call *c, json_t *prev_result, struct cm_error *err);

/* One plugin's configuration, derived from a list entry as the spec says:
 * cniVersion and name inserted, runtimeConfig holding the capability args the
 * entry declares, prevResult, and no "capabilities". Exposed for unit tests. */
json_t *cm_cni_plugin_config(json_t *conflist, json_t *entry, json_t *capability_args,
			     json_t *prev_result);

#endif
