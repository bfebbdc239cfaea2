/* Checkpoint archives (format 1, Podman's layout plus ctrmig.manifest):
 * writing one from a checkpointed container, and reading one back into a
 * store as a new checkpointed container. See ctrmig-archive(5). */
#ifndef CM_ARCHIVE_IO_H
#define CM_ARCHIVE_IO_H

#include <jansson.h>
#include <stdbool.h>

#include "checkpoint.h"
#include "ctr_config.h"

struct cm_store;
struct cm_error;
struct cm_dump_hash;

struct cm_export_opts {
	const char *output;      /* a file, "-" for stdout, or NULL for fd */
	int fd;                  /* with output NULL: a pipe the caller owns (migrate); else -1 */
	unsigned long long *written; /* if set: the archive's bytes, as they left */
	const char *compression; /* "zstd" (default), "gzip" or "none" */
	bool ignore_rootfs;      /* leave rootfs-diff.tar and deleted.files out */
	bool include_image;      /* carry the base image as image.tar */
	bool pre_checkpoint;     /* the pre-checkpoint (pre-checkpoint/), not the checkpoint */
	const char *sign_key;    /* an Ed25519 PEM key to sign with; NULL: this host's */
	/* Page images hashed behind CRIU's writer (dump_hash.h), which the
	 * export finishes and frees; or NULL. */
	struct cm_dump_hash *follower;
	/* The container has just stopped: its monitor's release (address,
	 * cgroup) is awaited before the manifest and signature seal the
	 * archive. A restore of it cannot start before those, so one on this
	 * host under the same id never races the release. */
	bool wait_released;
};

int cm_archive_export(struct cm_store *st, json_t *rec, const struct cm_export_opts *o,
		      struct cm_error *err);
/* What can be checked before anything is frozen: the compression's name
 * and that the output can be written where it is to go. */
int cm_archive_export_check(const struct cm_export_opts *o, struct cm_error *err);

/* checkpoint -e and migrate: the dump, then its archive from the record as
 * the dump left it. The local checkpoint stays, so a failed export loses
 * nothing. exp->output NULL: no archive. */
int cm_archive_dump_export(struct cm_store *st, json_t *rec, const struct cm_ckpt_opts *ckpt,
			   const struct cm_export_opts *exp, struct cm_ckpt_result *r,
			   struct cm_error *err);

struct cm_import_opts {
	const char *input; /* a file, or "-" for stdin */
	const char *name;  /* a new name (and id), or NULL to keep both */
	const char *previous; /* the pre-checkpoint archive a --with-previous dump needs */
	bool ignore_rootfs;   /* leave the file system as the base image has it */
	struct cm_grant_opts grants; /* what the command line allows the archive */
	int tls_verify;       /* for pulling the base: -1 registries.conf, 0 plain HTTP allowed, 1 TLS */
	/* CRIU's images only pass through (restore -i, without -k): stage them
	 * in memory where it allows (mem_stage.h); the record points there. */
	bool stage_in_memory;
	/* restore --lazy -i FILE, the images used up: if the archive has an
	 * index (zstd_frames.h), leave the lazy memory in it, to be served
	 * from there (the record's checkpoint says where: lazy_archive). */
	bool lazy_pages;
};

/* The reader's first stage, which cm_archive_import starts with and the
 * fuzzer (tests/fuzz/) drives alone: unpacks input (a file, or "-" for stdin)
 * into dir, an empty folder, checking each member's name, type and size, then
 * every member against ctrmig.manifest, then the manifest's signature against
 * this host's keys and policy. *trusted (if not NULL) says whether a trusted
 * key signed it. On failure dir may hold part of the members. */
int cm_archive_unpack(const char *input, const char *dir, bool *trusted, struct cm_error *err);

/* The base image config.dump's "image" names, if this store has it (by id,
 * manifest or tree digest), or NULL. */
json_t *cm_archive_base_find(struct cm_store *st, json_t *img);

/* Registers the archive's container as checkpointed; returns its record. */
json_t *cm_archive_import(struct cm_store *st, const struct cm_import_opts *o,
			  struct cm_error *err);

#endif
