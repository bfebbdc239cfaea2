/* A container's config, the part of its record the user chose (command,
 * environment, mounts, network, privileges), and what a config from an
 * archive may bring into this host. ctrmig builds every runc config from it
 * (oci_spec.h), so this is the one place that decides what a container may do.
 *
 *   {"cmd": [...], "env": ["K=V"], "workdir": "/", "hostname": "...",
 *    "tmpfs": ["/path"], "volumes": [{"source", "destination", "ro"}],
 *    "network": "none"|"host"|NAME, "ip", "mac", "ports": [{"host_ip", "host_port",
 *    "container_port", "protocol"}], "expose": ["80/tcp"], "dns", "dns_search",
 *    "dns_options", "add_hosts": ["NAME:IP"], "etc_mounts": true, "privileged": false, "cap_add": ["CAP_X"],
 *    "cap_drop": ["CAP_Y"|"ALL"], "devices": [{"path", "destination", "permissions"}],
 *    "user": "www-data", "uid": 33, "gid": 33, "groups": [..], "stop_signal": "SIGQUIT",
 *    "netns": "/run/ctrmig/<store>/netns/<id>"}
 *
 * cmd is the whole command line (the image's Entrypoint and Cmd already
 * applied), env the merged environment, uid/gid/groups the user resolved in
 * the image when the container was made.
 *
 * Grants are the fields that reach beyond ctrmig's defaults: volumes (host
 * folders), devices, privileged, cap_add, the host's network and published
 * host ports. */
#ifndef CM_CTR_CONFIG_H
#define CM_CTR_CONFIG_H

#include <jansson.h>
#include <stdbool.h>

struct cm_error;

/* A config from an untrusted record (config.dump): every known field checked
 * for type and form, rebuilt into a new object; an unknown field is an error,
 * since dropping one (a user, say) could widen what the container may do.
 * old_id, the archived container's id, gives the hostname of records made
 * before it was kept, and is the only id its netns path may name. */
json_t *cm_config_from_archive(json_t *config, const char *old_id, struct cm_error *err);

/* What the command line of restore -i / import allows an archive to have. */
struct cm_grant_opts {
	json_t *volumes;     /* -v SRC:DST[:ro], as cm_oci_volume_parse makes them */
	json_t *cap_add;     /* --cap-add names */
	json_t *devices;     /* --device, as cm_config_device_parse makes them */
	const char *network; /* --network host */
	json_t *ports;       /* -p, which replace the archive's published ports; NULL: none given */
	bool privileged;     /* --privileged */
	bool trust_all;      /* --trust-archive-config, or a trusted signature */
};

/* The config the restored container gets: the archive's, with each grant it
 * holds allowed by the command line (a -v may give a recorded volume another
 * source). Grants not allowed are one error naming each with the flag that
 * would allow it. Flags allow; they never add what the archive did not have. */
json_t *cm_config_grant(json_t *asked, const struct cm_grant_opts *g, struct cm_error *err);

/* --device HOST[:CTR[:PERMS]] */
json_t *cm_config_device_parse(const char *arg, struct cm_error *err);
/* Whether a path can be a mount or device path: absolute, no "..", not too long. */
bool cm_config_path_ok(const char *path);

#endif
