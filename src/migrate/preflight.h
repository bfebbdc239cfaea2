/* The checks a migration makes on the target before anything stops, in one
 * command run there (`ctrmig __migrate-preflight`, CPU description on its
 * stdin, a JSON answer on its stdout):
 *   ctrmig's version and archive format; runc there; `criu check`;
 *   `criu cpuinfo check` against this host's `criu cpuinfo dump`;
 *   the container's name and id free; the base image there (by digest),
 *   pullable there by its repository digest, or sent along (--include-image);
 *   the container's network there, its address in that subnet and free;
 *   whether it trusts this host's signing key (answer "signer_trusted"), and
 *   if its policy requires that. Without that trust the archive's grants
 *   (published ports, host folders, privileges) would be refused there after
 *   the freeze: the source checks them against the answer before it stops. */
#ifndef CM_MIGRATE_PREFLIGHT_H
#define CM_MIGRATE_PREFLIGHT_H

#include <jansson.h>
#include <stdbool.h>

struct cm_store;
struct cm_error;
struct cm_mig_target;

/* What the source asks the target. */
struct cm_mig_request {
	const char *id, *name;
	json_t *image;             /* the record's "image" */
	const char *network, *ip;  /* NULL when the container has no address */
	bool include_image;
	bool lazy;                 /* migrate --lazy: userfaultfd there too */
	const char *signer;        /* this host's public key (base64): trusted there? */
	const char *cpuinfo_dir;   /* holds cpuinfo.img from the source, or NULL */
};

/* The source's side: asks the target; returns its answer (version, format,
 * boot_id, problems), or -1 with the first problem, in one line, in err. */
int cm_mig_preflight(struct cm_store *st, json_t *rec, const struct cm_mig_target *t,
		     bool include_image, bool lazy, json_t **answer, struct cm_error *err);

/* The target's side: the answer, whatever it finds (problems is a list of
 * one-line reasons, empty when the container can come). */
json_t *cm_mig_preflight_answer(struct cm_store *st, const struct cm_mig_request *req);

/* This host's boot id (/proc/sys/kernel/random/boot_id): one host, one id. */
char *cm_mig_boot_id(void);

#endif
