/* The OCI runtime spec (bundle/config.json) a container runs with. */
#ifndef CM_OCI_SPEC_H
#define CM_OCI_SPEC_H

#include <jansson.h>

struct cm_error;

/* What the user asked for, as kept in the container record's "config":
 * {"cmd": [...], "env": ["K=V"], "workdir": "/", "tmpfs": ["/path"],
 *  "volumes": [{"source", "destination", "ro"}], "network": "none"|"host"} */

/* Builds the spec from a config; rootfs is the absolute overlay mount point. */
json_t *cm_oci_spec_build(json_t *config, const char *id, const char *rootfs,
			  struct cm_error *err);

/* Points the spec's prestart hook at this ctrmig binary (which may have moved
 * since the spec was written) when the container has its own network. */
void cm_oci_spec_set_hooks(json_t *spec, const char *ctrmig_path);

/* Podman's default capability set, which ctrmig's containers get. */
json_t *cm_oci_default_caps(void);

/* Appends a prestart hook running `ctrmig ARG` (this binary at path). */
void cm_oci_spec_add_prestart(json_t *spec, const char *path, const char *arg);

/* Names the CRIU config file runc hands to CRIU (org.criu.config), or, with
 * NULL, removes the annotation so that runc uses its default file. */
void cm_oci_spec_set_criu_conf(json_t *spec, const char *path);

/* Parses "-v SRC:DST[:ro|rw]" into a volume object; SRC must be absolute. */
json_t *cm_oci_volume_parse(const char *arg, struct cm_error *err);

/* Merges "K=V" into env, replacing an entry with the same key. */
void cm_oci_env_set(json_t *env, const char *kv);

#endif
