/* A staging area in memory for CRIU images that only pass through: those
 * restore -i imports, which runc restore reads once and which are deleted
 * as soon as the container runs. Writing them to the store's disk first
 * costs a disk's write and later its writeback, for nothing.
 *
 * A stage is a folder /dev/shm/ctrmig-<store hash>-<random> (tmpfs), made
 * by a command that holds the store's lock, filled only while memory
 * allows with a margin (the caller checks each file before writing it and
 * falls back to the store's disk), and removed by that command, or, if it
 * was killed, by the next command that takes the lock. */
#ifndef CM_MEM_STAGE_H
#define CM_MEM_STAGE_H

#include <stdbool.h>
#include <stdint.h>

struct cm_store;

/* A new, empty stage (mode 0700) for this store, or NULL where there is
 * none to be had (no tmpfs, CTRMIG_MEM_STAGE_MAX=0): stage on disk then. */
char *cm_mem_stage_create(struct cm_store *st);

/* Whether a file of more bytes may go into the stage at dir, which holds
 * staged bytes already: room on the tmpfs, and memory for it and for the
 * process CRIU will restore from it (as much again) with a margin (an
 * eighth of the memory, at least 512 MiB), in the system and in ctrmig's
 * cgroup. CTRMIG_MEM_STAGE_MAX (bytes) caps what a stage may hold. */
bool cm_mem_stage_fits(const char *dir, uint64_t staged, uint64_t more);

/* The stage of this store that path is, or lies in; or NULL. */
char *cm_mem_stage_of(struct cm_store *st, const char *path);

/* Removes a stage, at once or in a detached process. */
void cm_mem_stage_remove(const char *dir, bool background);

/* Removes every stage of this store but those in keep (NULL-terminated,
 * or NULL). Only a command holding the store's lock makes or uses a stage,
 * so one that another such command finds was left by a command that was
 * killed (keep: a runc restore that such a command started, still going). */
void cm_mem_stage_recover(struct cm_store *st, const char *const *keep);

#endif
