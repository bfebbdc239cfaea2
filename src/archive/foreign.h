/* Checkpoint archives made by Podman (podman container checkpoint -e) and by
 * CRI-O for the kubelet: the same layout as ctrmig's (checkpoint/,
 * config.dump, spec.dump, rootfs-diff.tar, deleted.files, network.status),
 * without ctrmig.manifest, plus devshm-checkpoint.tar, bind.mounts, logs
 * and artifacts/. ctrmig reads them as a record of its own would be made
 * (the same checks follow: each config field, the grants, spec.dump against
 * the spec ctrmig builds, CRIU's images against that spec). */
#ifndef CM_FOREIGN_H
#define CM_FOREIGN_H

#include <jansson.h>

struct cm_store;
struct cm_error;

/* "Podman", "CRI-O", or NULL when config.dump is ctrmig's own. */
const char *cm_foreign_engine(json_t *config_dump, json_t *spec_dump);

/* The ctrmig record a foreign archive's config.dump and spec.dump describe:
 * {id, name, created, image: {id, name}, config: {...}, checkpoint: {time}}.
 * The container gets ctrmig's own namespace, /etc files and Podman's
 * /dev/shm and /run/.containerenv bind mounts (config "podman_mounts"),
 * which its CRIU images name. NULL with a one-line error for what ctrmig
 * cannot honour (a pod, named volumes, host bind mounts, devices). */
json_t *cm_foreign_record(json_t *config_dump, json_t *spec_dump, const char *engine, struct cm_error *err);

/* spec.dump as ctrmig's spec check reads its own: the paths that only say
 * where the other engine kept things (its root, its namespace's bind mount,
 * the sources of the mounts ctrmig makes again) become those of the record. */
json_t *cm_foreign_spec(json_t *spec_dump, json_t *record);

/* The network the address in network.status belongs to here: a ctrmig
 * network of the same name, else NULL (the container takes a new address on
 * the default network). */
const char *cm_foreign_network(struct cm_store *st, json_t *status);

#endif
