/* The rules for a file that comes from an archive someone else made (a
 * container's rootfs-diff.tar, an image carried in a checkpoint archive):
 * its path is already kept inside the root by the extractor; these rules
 * keep it from granting anything. */
#ifndef CM_UNTRUSTED_ENTRY_H
#define CM_UNTRUSTED_ENTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct archive_entry;

/* Whether the base the entry lands on already has this file with these
 * setuid/setgid bits and owner (then the archive grants nothing new). */
typedef bool (*cm_setid_known_fn)(const char *name, mode_t mode, uid_t uid, gid_t gid, void *arg);

/* Refuses device nodes, fifos and sockets (a container's devices come from
 * its config), drops extended attributes and ACLs (file capabilities,
 * overlayfs' own trusted.* attributes), and clears setuid/setgid bits unless
 * known(...) says the base has them. Returns -1 with a reason in msg. */
int cm_untrusted_entry_tame(struct archive_entry *e, cm_setid_known_fn known, void *arg, char *msg,
			    size_t msglen);

#endif
